//! An organisation's fleet for the fleet view (`--demo org`, not wired to the command line yet):
//! three accounts × two regions, one context in the middle of an incident, the others calm.
//!
//! Each context is a demo source of its own (its own seed, so the calm ones differ) living in
//! its own account and region: STS's answer, every ARN, image URI and availability zone it
//! shows name that place, as a real console's would.

use super::names::Place;
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
                let place = Place { account, region };
                let mut source = DemoSource::placed(place, scenario, member_seed, start, clock)
                    .unwrap_or_else(|e| panic!("demo org scenario {scenario}: {e}"));
                source.identity = Some(Identity {
                    source: format!("demo: org, profile {profile}"),
                    region: place.region.into(),
                    account: place.account.into(),
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

    /// Every identifier a member shows, with what it is (for the failure message).
    fn identifiers(m: &OrgMember) -> Vec<(&'static str, String)> {
        let src = &m.source;
        let mut out = Vec::new();
        for c in block_on(src.clusters()).unwrap() {
            out.push(("cluster", c.arn.clone()));
            for s in block_on(src.services(&c.name)).unwrap() {
                out.push(("service", s.arn.clone()));
                out.push(("service's cluster", s.cluster_arn.clone()));
                out.push((
                    "service's task definition",
                    s.task_definition.arn.to_string(),
                ));
                for d in &s.deployments {
                    out.push((
                        "deployment's task definition",
                        d.task_definition.arn.to_string(),
                    ));
                }
                for e in s.events.iter().filter(|e| e.message.contains("arn:")) {
                    out.push(("event", e.message.clone()));
                }
                for (tg, lb) in &s.target_group_lbs {
                    out.push(("target group", tg.clone()));
                    out.push(("load balancer", lb.clone()));
                }
                for target in block_on(src.target_health(&s.target_group_arns))
                    .unwrap()
                    .iter()
                    .flat_map(|g| &g.targets)
                {
                    out.push((
                        "target's availability zone",
                        target.availability_zone.clone(),
                    ));
                }
                for r in block_on(src.task_definition_revisions(&s.task_definition.family)).unwrap()
                {
                    let def = block_on(src.task_definition(&r.arn)).unwrap();
                    out.push(("task definition", def.reference.arn.to_string()));
                    out.push(("execution role", def.execution_role_arn.clone()));
                    out.push(("task role", def.task_role_arn.clone()));
                    for c in &def.containers {
                        out.push(("definition's image", c.image.clone()));
                        for (_, secret) in &c.secrets {
                            out.push(("secret", secret.clone()));
                        }
                        for (name, value) in c.environment.iter().chain(&c.log_options) {
                            if name.contains("REGION") || name.contains("region") {
                                out.push(("region setting", value.clone()));
                            }
                        }
                    }
                }
            }
            for i in block_on(src.instances(&c.name)).unwrap() {
                out.push(("container instance", i.arn.clone()));
                out.push(("instance's cluster", i.cluster_arn.clone()));
                out.push(("instance's availability zone", i.availability_zone.clone()));
            }
            for stopped in [false, true] {
                let scope = TaskScope::Cluster {
                    cluster: c.name.clone(),
                };
                for t in block_on(src.tasks(&scope, stopped)).unwrap() {
                    out.push(("task", t.arn.to_string()));
                    out.push(("task's cluster", t.cluster_arn.to_string()));
                    out.push(("task's task definition", t.task_definition.arn.to_string()));
                    out.push(("task's availability zone", t.availability_zone.to_string()));
                    out.extend(
                        t.container_instance_arn
                            .as_deref()
                            .map(|a| ("task's instance", a.to_string())),
                    );
                    for c in &t.containers {
                        out.push(("task's image", c.image.to_string()));
                    }
                    if t.stopped_reason.contains("arn:") {
                        out.push(("stop reason", t.stopped_reason.to_string()));
                    }
                }
            }
        }
        out
    }

    /// Whether `id` belongs in `region` of `account`: an ARN of that account and region (IAM's
    /// name no region), or text whose every ARN is; an image of the region's ECR (the account's
    /// own, or AWS's App Mesh registry) or a public one; an availability zone of the region, or
    /// the region itself.
    fn names_place(id: &str, account: &str, region: &str) -> bool {
        if id.contains("arn:aws:") {
            return id.match_indices("arn:aws:").all(|(at, _)| {
                let arn = id[at..].split([' ', ')', ',']).next().unwrap_or_default();
                let parts: Vec<&str> = arn.splitn(6, ':').collect();
                let (service, r, a) = (parts[2], parts[3], parts.get(4).copied());
                a == Some(account) && (r == region || (service, r) == ("iam", ""))
            });
        }
        if id.contains(".dkr.ecr.") {
            let own = format!("{account}.dkr.ecr.{region}.amazonaws.com/");
            let app_mesh = format!("840364872350.dkr.ecr.{region}.amazonaws.com/");
            return id.starts_with(&own) || id.starts_with(&app_mesh);
        }
        if id.starts_with("public.ecr.aws/") || id == region {
            return true;
        }
        id.strip_prefix(region)
            .is_some_and(|zone| matches!(zone, "a" | "b" | "c"))
    }

    #[test]
    fn every_identifier_of_a_member_names_its_own_account_and_region() {
        let members = org();
        for m in &members {
            // Some time on: deploys register revisions, tasks stop and start, the incident
            // unfolds (its bad deploy, its failing targets).
            m.source
                .advance_to(m.source.now() + chrono::TimeDelta::minutes(30));
            m.source.advance_replay(600.0);
            let ids = identifiers(m);
            assert!(ids.len() > 100, "{}: {} identifiers", m.context, ids.len());
            for kind in [
                "task",
                "container instance",
                "target group",
                "secret",
                "event",
            ] {
                assert!(
                    ids.iter().any(|(k, _)| *k == kind),
                    "{} shows no {kind}",
                    m.context
                );
            }
            for (kind, id) in &ids {
                assert!(
                    names_place(id, &m.account, &m.context.region),
                    "{}: {kind} {id} is not in {} / {}",
                    m.context,
                    m.account,
                    m.context.region
                );
            }
        }
    }

    #[test]
    fn a_default_demo_still_lives_in_its_one_account_and_region() {
        let start = "2026-03-01T09:00:00Z".parse().unwrap();
        let src = DemoSource::new("default", 42, start, DemoClock::Fixed(start)).unwrap();
        let clusters = block_on(src.clusters()).unwrap();
        assert_eq!(
            clusters[0].arn,
            "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
        );
        let identity = block_on(src.identity()).unwrap();
        assert_eq!(
            (identity.account.as_str(), identity.region.as_str()),
            ("123456789012", "eu-west-1")
        );
        let member = OrgMember {
            context: Context::new(None, "eu-west-1"),
            account: "123456789012".into(),
            source: src,
        };
        for (kind, id) in identifiers(&member) {
            assert!(
                names_place(&id, "123456789012", "eu-west-1"),
                "{kind} {id} left the demo's account"
            );
        }
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
                    .map(|t| t.arn.into())
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
