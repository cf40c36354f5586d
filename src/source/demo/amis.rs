//! The ECS-optimized AMIs the demo's hosts run, dated from the demo's start as a real fleet's
//! would be: the image AWS currently recommends for Amazon Linux 2023 (the public SSM
//! parameter, with the agent it ships) and the release before it, which hosts nobody has
//! refreshed still run. Both are younger than a month, so `ami-outdated` stays quiet; the
//! refreshed-late hosts' agent is a minor version behind, which `agent-version-outdated`
//! reports as one info finding per cluster that has such hosts.

use chrono::TimeDelta;

use super::names::{AGENT_VERSION, OLD_AGENT_VERSION};
use crate::model::{Instance, RecommendedAmi, Time};

const PARAMETER: &str = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended";
const CURRENT_ID: &str = "ami-0c2f6b9d81e5a4437";
const PREVIOUS_ID: &str = "ami-07a4d1e39bc86f250";
/// The current image was released before the oldest demo host launched (25 days)…
const CURRENT_AGE: TimeDelta = TimeDelta::days(26);
/// …and the one before it a few days earlier (AWS publishes every week or two).
const PREVIOUS_AGE: TimeDelta = TimeDelta::days(29);

/// The name AWS gives an AL2023 ECS-optimized image released at `at`.
fn image_name(at: Time) -> String {
    format!(
        "al2023-ami-ecs-hvm-2023.0.{}-kernel-6.1-x86_64",
        at.format("%Y%m%d")
    )
}

/// What the SSM parameter says when the demo starts at `start`.
pub fn recommended(start: Time) -> RecommendedAmi {
    RecommendedAmi {
        parameter: PARAMETER.into(),
        image_id: CURRENT_ID.into(),
        image_name: image_name(start - CURRENT_AGE),
        agent_version: AGENT_VERSION.into(),
    }
}

/// A host launched from the current image.
pub fn run_current(i: &mut Instance, start: Time) {
    i.image_id = CURRENT_ID.into();
    i.image_created_at = Some(start - CURRENT_AGE);
    i.agent_version = AGENT_VERSION.into();
    i.recommended = Some(recommended(start));
}

/// A host nobody has refreshed since the release before: the previous image and its agent.
pub fn run_previous(i: &mut Instance, start: Time) {
    run_current(i, start);
    i.image_id = PREVIOUS_ID.into();
    i.image_created_at = Some(start - PREVIOUS_AGE);
    i.agent_version = OLD_AGENT_VERSION.into();
}

/// A host the Auto Scaling group launches now: the launch template's image, the one the
/// cluster's current hosts run.
pub fn run_as_template(i: &mut Instance, peers: &[&Instance]) {
    if let Some(current) = peers.iter().find(|p| {
        p.recommended
            .as_ref()
            .is_some_and(|r| r.image_id == p.image_id)
    }) {
        i.image_id = current.image_id.clone();
        i.image_created_at = current.image_created_at;
        i.agent_version = current.agent_version.clone();
        i.recommended = current.recommended.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixed_now;

    #[test]
    fn the_recommendation_names_an_ecs_optimized_al2023_image() {
        // The AWS source picks the parameter from the image name's prefix.
        let r = recommended(fixed_now());
        assert!(r.image_name.starts_with("al2023-ami-ecs-hvm-2023.0."));
        assert!(r.image_name.ends_with("-kernel-6.1-x86_64"));
        assert_eq!(r.agent_version, AGENT_VERSION);
    }
}
