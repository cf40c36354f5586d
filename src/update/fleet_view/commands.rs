//! The fleet view's own commands: `:contexts` (list, add, drop), `:stats` by context and
//! `:export` with a section per context.

use crate::action::Effect;
use crate::state::{Level, Popup, State};

use super::give_back;
use super::merge::{fleet_identity, merge_clusters, merge_findings};

/// `:contexts` (the list, with each context's state), `:contexts add PROFILE [REGION]`,
/// `:contexts drop N` (its number in the list, or its profile and region).
pub fn contexts_command(state: &mut State, args: &[&str]) -> Vec<Effect> {
    match args {
        [] => {
            state.popups.push(contexts_popup(state));
            vec![]
        }
        ["add", profile, rest @ ..] if rest.len() <= 1 => add(state, profile, rest.first()),
        ["drop", who @ ..] if !who.is_empty() => {
            drop_context(state, who);
            vec![]
        }
        _ => {
            state.set_status(
                Level::Warn,
                "usage: :contexts, :contexts add PROFILE [REGION], :contexts drop N",
            );
            vec![]
        }
    }
}

fn contexts_popup(state: &State) -> Popup {
    let mut lines = Vec::new();
    if !state.is_fleet_view() {
        let region = &state.identity.region;
        lines.push(format!(
            "One context: {} · {}.",
            state
                .aws
                .as_ref()
                .and_then(|a| a.profile.clone())
                .unwrap_or_else(|| crate::model::DEFAULT_PROFILE_LABEL.into()),
            if region.is_empty() { "…" } else { region }
        ));
        lines.push(String::new());
        lines.push(
            "Start ecsmon with several profiles or regions (--profile prod,staging --region \
             eu-west-1,us-east-1, or --contexts NAME for a set in config.toml) to watch them \
             together in one clusters pane."
                .into(),
        );
        return Popup::Describe {
            title: "Contexts".into(),
            lines,
            scroll: 0,
        };
    }
    lines.push(format!(
        "{:>2}  {:<40} {:<9} {:>8}  {:<16} {}",
        "#", "CONTEXT", "STATE", "CLUSTERS", "FINDINGS C/W/I", "DATA"
    ));
    let mut failures = Vec::new();
    for (i, m) in state.members.iter().enumerate().filter(|(_, m)| !m.dropped) {
        let (crit, warn, info) = m.state.triage.counts();
        let failure = m.failure();
        let data = m.fetched_at().map_or_else(
            || "waiting".to_string(),
            |at| format!("{} old", crate::screen::format::age(state.now, at)),
        );
        lines.push(format!(
            "{:>2}  {:<40} {:<9} {:>8}  {:<16} {data}",
            i + 1,
            m.title(),
            if failure.is_some() { "FAILING" } else { "ok" },
            m.state.fleet.clusters().len(),
            format!("{crit}/{warn}/{info}")
        ));
        if let Some(why) = failure {
            failures.push(format!("{}: {why}", m.title()));
        }
    }
    if !failures.is_empty() {
        lines.push(String::new());
        lines.extend(failures);
    }
    lines.push(String::new());
    lines.push(
        ":contexts add PROFILE [REGION] watches one more; :contexts drop N stops watching one."
            .into(),
    );
    Popup::Describe {
        title: "Contexts".into(),
        lines,
        scroll: 0,
    }
}

fn add(state: &mut State, profile: &str, region: Option<&&str>) -> Vec<Effect> {
    if !state.is_fleet_view() {
        state.set_status(
            Level::Warn,
            "contexts are added to the fleet view: start ecsmon with several --profile or \
             --region (or :profile and :region switch this one)",
        );
        return vec![];
    }
    if state.members.iter().all(|m| m.state.aws.is_none()) {
        state.set_status(
            Level::Warn,
            "the demo organisation's contexts are fixed: contexts are added against AWS",
        );
        return vec![];
    }
    if let Some(region) = region.filter(|r| !crate::model::valid_region(r)) {
        state.set_status(
            Level::Warn,
            format!("'{region}' is not a region name like eu-west-1"),
        );
        return vec![];
    }
    let profile = (profile != crate::model::DEFAULT_PROFILE_LABEL).then_some(profile);
    let wanted = crate::model::WantedContext::new(profile, region.copied());
    let watched = state.members.iter().any(|m| {
        !m.dropped
            && m.context.profile.as_deref() == profile
            && region.is_none_or(|r| m.context.region == *r)
    });
    if watched {
        state.set_status(Level::Warn, format!("{wanted} is watched already"));
        return vec![];
    }
    let endpoint_url = state
        .members
        .iter()
        .find_map(|m| m.state.aws.as_ref())
        .and_then(|a| a.endpoint_url.clone());
    state.set_status(Level::Info, format!("connecting {wanted}…"));
    vec![Effect::ConnectContext {
        wanted,
        endpoint_url,
    }]
}

fn drop_context(state: &mut State, who: &[&str]) {
    let found = match who {
        [n] if n.parse::<usize>().is_ok() => n
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|&i| state.members.get(i).is_some_and(|m| !m.dropped)),
        [profile, region @ ..] => {
            let matching: Vec<usize> = (0..state.members.len())
                .filter(|&i| {
                    let m = &state.members[i];
                    !m.dropped
                        && m.context.profile_label() == *profile
                        && region.first().is_none_or(|r| m.context.region == *r)
                })
                .collect();
            match matching[..] {
                [one] => Some(one),
                _ => None,
            }
        }
        [] => None,
    };
    let Some(member) = found else {
        state.set_status(
            Level::Warn,
            format!(
                "no context {} (its number in :contexts, or its profile and region)",
                who.join(" ")
            ),
        );
        return;
    };
    if state.members.iter().filter(|m| !m.dropped).count() == 1 {
        state.set_status(Level::Warn, "the last context cannot be dropped");
        return;
    }
    if state.active_member == Some(member) {
        state.members[member].state.nav.truncate(1);
        give_back(state, member);
    }
    let m = &mut state.members[member];
    m.dropped = true;
    let title = m.title();
    merge_clusters(state);
    merge_findings(state, member);
    state.identity = fleet_identity(&state.members);
    state
        .popups
        .retain(|p| !matches!(p, Popup::Describe { title, .. } if title == "Contexts"));
    state.set_status(Level::Info, format!("{title} is no longer watched"));
}

/// The fleet view's `:stats`: every context's calls and budgets, asked of each.
pub fn stats(state: &mut State) -> Vec<Effect> {
    state.fleet_stats = Some(Vec::new());
    (0..state.members.len())
        .filter(|&i| !state.members[i].dropped)
        .map(|member| Effect::In {
            member,
            effect: Box::new(Effect::ShowStats),
        })
        .collect()
}

/// A context's `:stats` answer, while the fleet view asks: once every context has answered,
/// one popup with a section per context.
pub(super) fn stats_loaded(state: &mut State, member: usize, report: crate::source::CallReport) {
    let Some(got) = state.fleet_stats.as_mut() else {
        return;
    };
    got.push((member, report));
    let asked = state.members.iter().filter(|m| !m.dropped).count();
    if got.len() < asked {
        return;
    }
    let mut got = state.fleet_stats.take().unwrap_or_default();
    got.sort_by_key(|(member, _)| *member);
    let mut lines = Vec::new();
    let total: u64 = got
        .iter()
        .flat_map(|(_, r)| r.calls.iter().map(|c| c.calls))
        .sum();
    lines.push(format!(
        "{total} AWS calls in all, over {} contexts; each context has its own budgets \
         (AWS's limits are per account and region).",
        got.len()
    ));
    for (member, report) in got {
        let m = &state.members[member];
        let calls: u64 = report.calls.iter().map(|c| c.calls).sum();
        lines.push(String::new());
        lines.push(format!("── {} · {calls} calls ──", m.title()));
        let popup = crate::update::command::stats_popup(
            &report,
            m.state.polls.coalesced(),
            &m.state.triage,
        );
        if let Popup::Describe { lines: own, .. } = popup {
            lines.extend(own);
        }
    }
    state.popups.push(Popup::Describe {
        title: "AWS calls by context".into(),
        lines,
        scroll: 0,
    });
}

/// The fleet view's `:export`: the totals, then a section per context, each the context's own
/// snapshot (a failing one's marked stale, with why).
pub fn export(state: &mut State, path: Option<&str>) -> Vec<Effect> {
    let sections: Vec<crate::screen::export::Section> = state
        .members
        .iter()
        .filter(|m| !m.dropped)
        .map(|m| crate::screen::export::Section {
            title: m.title(),
            state: Ok(&m.state),
            stale: m.failure(),
        })
        .collect();
    let contents = crate::screen::export::fleet_markdown(state.now, &sections, None);
    crate::update::findings::write_export(state, path, contents)
}
