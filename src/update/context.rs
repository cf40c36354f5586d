//! Switching what the console looks at: another region or profile, without restarting.

use crate::action::Effect;
use crate::source::SharedSource;
use crate::source::aws::AwsSettings;
use crate::state::{Level, Pane, PickerKind, Popup, State, View};

/// Regions where ECS runs, for the `:region` picker.
pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
];

/// Region names are checked in one place, `model::valid_region`.
pub use crate::model::valid_region;

fn settings(state: &mut State) -> Option<AwsSettings> {
    if state.aws.is_none() {
        state.set_status(
            Level::Warn,
            "the demo fleet has no regions or profiles; run ecsmon without --demo for AWS",
        );
    }
    state.aws.clone()
}

/// `:region [name]`: switch at once, or pick from the list.
pub fn region(state: &mut State, arg: Option<&str>) -> Vec<Effect> {
    let Some(current) = settings(state) else {
        return vec![];
    };
    match arg {
        Some(name) if valid_region(name) => {
            state.set_status(Level::Info, format!("switching to region {name}…"));
            vec![Effect::Connect(AwsSettings {
                region: Some(name.to_string()),
                ..current
            })]
        }
        Some(name) => {
            state.set_status(
                Level::Warn,
                format!("'{name}' is not a region name like eu-west-1"),
            );
            vec![]
        }
        None => {
            let items: Vec<String> = REGIONS.iter().map(|r| r.to_string()).collect();
            let selected = items
                .iter()
                .position(|r| *r == state.identity.region)
                .unwrap_or(0);
            state.popups.push(Popup::Picker {
                kind: PickerKind::Region,
                items,
                selected,
            });
            vec![]
        }
    }
}

/// `:profile [name]`: switch at once, or pick from the profiles in the AWS config files.
pub fn profile(state: &mut State, arg: Option<&str>) -> Vec<Effect> {
    let Some(current) = settings(state) else {
        return vec![];
    };
    match arg {
        Some(name) => {
            state.set_status(Level::Info, format!("switching to profile {name}…"));
            vec![Effect::Connect(AwsSettings {
                profile: Some(name.to_string()),
                ..current
            })]
        }
        None => vec![Effect::LoadProfiles],
    }
}

pub fn profiles_loaded(state: &mut State, names: Vec<String>) {
    if names.is_empty() {
        state.set_status(
            Level::Warn,
            "no profiles found in ~/.aws/config or ~/.aws/credentials",
        );
        return;
    }
    let current = state.aws.as_ref().and_then(|s| s.profile.clone());
    let selected = names
        .iter()
        .position(|n| Some(n) == current.as_ref())
        .unwrap_or(0);
    state.popups.push(Popup::Picker {
        kind: PickerKind::Profile,
        items: names,
        selected,
    });
}

/// Enter on a picker row.
pub fn picked(state: &mut State, kind: PickerKind, choice: &str) -> Vec<Effect> {
    match kind {
        PickerKind::Region => region(state, Some(choice)),
        PickerKind::Profile => profile(state, Some(choice)),
        PickerKind::Container => super::actions::exec_picked(state, choice),
    }
}

/// The runtime swapped the source in: everything known came from elsewhere, so start over.
pub fn source_changed(
    state: &mut State,
    _source: &SharedSource,
    settings: AwsSettings,
) -> Vec<Effect> {
    let last_seq = state.polls.reset();
    state.fleet.reset(last_seq);
    state.metrics.reset();
    state.triage.reset();
    // The log pane follows the old account's streams: close it (and its Live Tail).
    let mut effects = super::logs::close(state);
    state.nav = vec![View::new(Pane::Clusters)];
    state.popups.clear();
    state.identity = Default::default();
    let what = match (&settings.profile, &settings.region) {
        (Some(p), Some(r)) => format!("profile {p}, region {r}"),
        (Some(p), None) => format!("profile {p}"),
        (None, Some(r)) => format!("region {r}"),
        (None, None) => "default settings".into(),
    };
    state.set_status(Level::Info, format!("now looking at {what}"));
    state.aws = Some(settings);
    effects.push(Effect::FetchIdentity);
    effects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_region_is_a_region_name() {
        assert!(REGIONS.iter().all(|r| valid_region(r)));
    }
}
