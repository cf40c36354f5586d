//! An organisation's fleet for the fleet view (`--demo org`, not wired to the command line yet):
//! three accounts × two regions, one context in the middle of an incident, the others calm.
//!
//! Each context is a demo source of its own (its own seed, so the calm ones differ), answering
//! STS's question with its own account and region. Their ARNs still name the demo's one account
//! and region (`names`): whatever merges them keys by context and ARN.

use super::{DemoClock, DemoSource};
use crate::model::{Context, Identity, Time};

/// The organisation's accounts: (profile, account id).
const ACCOUNTS: [(&str, &str); 3] = [
    ("prod", "210987654321"),
    ("staging", "345678901234"),
    ("shared", "456789012345"),
];
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];
/// Which context is in trouble, and with what: a bad deploy in production, Ireland.
const INCIDENT: (&str, &str, &str) = ("prod", "eu-west-1", "bad-deploy");

/// One context of the demo organisation.
pub struct OrgMember {
    pub context: Context,
    pub account: String,
    pub source: DemoSource,
}

impl DemoSource {
    /// The demo organisation as it looks at `start`. `clock` drives the calm contexts; the
    /// incident replays in compressed time from `start` when `clock` is the system's, and
    /// follows `clock` otherwise (a fixed clock: tests move it with `replay_to`).
    pub fn org(seed: u64, start: Time, clock: DemoClock) -> Vec<OrgMember> {
        let mut members = Vec::with_capacity(ACCOUNTS.len() * REGIONS.len());
        for (i, (profile, account)) in ACCOUNTS.iter().enumerate() {
            for (j, region) in REGIONS.iter().enumerate() {
                let context = Context::new(Some(profile), region);
                let incident = (*profile, *region) == (INCIDENT.0, INCIDENT.1);
                let (scenario, clock) = match (&clock, incident) {
                    (DemoClock::System, true) => {
                        let ratio = DemoSource::replay_ratio(INCIDENT.2).unwrap_or(1);
                        (
                            INCIDENT.2,
                            DemoClock::Scaled {
                                origin: start,
                                ratio,
                            },
                        )
                    }
                    (_, true) => (INCIDENT.2, clock.clone()),
                    (_, false) => ("default", clock.clone()),
                };
                // A seed per context: six copies of one fleet would not look like an org.
                let member_seed = seed.wrapping_add((i * REGIONS.len() + j) as u64 * 7919);
                let mut source = DemoSource::new(scenario, member_seed, start, clock)
                    .unwrap_or_else(|e| panic!("demo org scenario {scenario}: {e}"));
                source.identity = Some(Identity {
                    source: format!("demo: org, profile {profile}"),
                    region: region.to_string(),
                    account: account.to_string(),
                    principal: "assumed-role/OrgReadOnly/demo".into(),
                });
                members.push(OrgMember {
                    context,
                    account: account.to_string(),
                    source,
                });
            }
        }
        members
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use futures::executor::block_on;

    use super::*;
    use crate::model::TaskScope;
    use crate::source::FleetSource;

    fn org() -> Vec<OrgMember> {
        let start = "2026-03-01T09:00:00Z".parse().unwrap();
        DemoSource::org(42, start, DemoClock::Fixed(start))
    }

    #[test]
    fn three_accounts_by_two_regions_each_with_its_own_identity() {
        let members = org();
        assert_eq!(members.len(), 6);
        let contexts: BTreeSet<String> = members.iter().map(|m| m.context.to_string()).collect();
        assert_eq!(contexts.len(), 6, "each context once: {contexts:?}");
        let accounts: BTreeSet<&str> = members.iter().map(|m| m.account.as_str()).collect();
        assert_eq!(accounts.len(), 3);
        for m in &members {
            let identity = block_on(m.source.identity()).unwrap();
            assert_eq!(identity.account, m.account, "{}", m.context);
            assert_eq!(identity.region, m.context.region, "{}", m.context);
            let clusters = block_on(m.source.clusters()).unwrap();
            assert!(!clusters.is_empty(), "{} has clusters", m.context);
        }
        let ids: BTreeSet<_> = members.iter().map(|m| m.context.id()).collect();
        assert_eq!(ids.len(), 6);
    }

    #[test]
    fn exactly_one_context_is_in_an_incident() {
        let members = org();
        let in_incident: Vec<String> = members
            .iter()
            .filter(|m| m.source.replay_time(0.0).is_some())
            .map(|m| m.context.to_string())
            .collect();
        assert_eq!(in_incident, ["prod · eu-west-1"]);
    }

    #[test]
    fn the_calm_contexts_are_not_copies_of_one_fleet() {
        // The same shape of fleet (the default one), but its own tasks in each context.
        let members = org();
        let calm: Vec<BTreeSet<String>> = members
            .iter()
            .filter(|m| m.source.replay_time(0.0).is_none())
            .map(|m| {
                let cluster = block_on(m.source.clusters()).unwrap()[0].name.clone();
                let scope = TaskScope::Cluster { cluster };
                block_on(m.source.tasks(&scope, false))
                    .unwrap()
                    .into_iter()
                    .map(|t| t.arn)
                    .collect()
            })
            .collect();
        assert_eq!(calm.len(), 5);
        for (i, a) in calm.iter().enumerate() {
            for b in &calm[i + 1..] {
                assert!(a.is_disjoint(b), "two contexts share task ids");
            }
        }
    }
}
