//! agent-version-outdated: container instances run an ECS agent at least one minor version
//! older than the agent AWS ships with the recommended ECS-optimized AMI of their family (the
//! public SSM parameter). Info: an update to schedule. Warning when such a host is also below
//! the version ECS Exec needs while it runs tasks with exec turned on: exec into them fails.
//!
//! One finding per cluster and AMI family, as the catalog words it ("2/8 instances…"), naming
//! the hosts in its evidence. Hosts whose AMI is not ECS-optimized (no recommendation), whose
//! recommendation was not read, or whose version does not parse are left out: nothing is said
//! about what is not known.

use super::support::{by_recommendation, instance_label, plural};
use crate::model::{Evidence, Instance, Observation, Severity};
use crate::triage::Input;
use crate::triage::rules::about::{About, INFO_WARNING, Read, Value, limit};

pub const ID: &str = "agent-version-outdated";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "Container instances run an ECS agent older than the one AWS recommends for their ECS-optimized AMI family; warning when ECS Exec into their tasks fails for it.",
    severities: INFO_WARNING,
    reads: &[
        Read::Api("ECS DescribeContainerInstances: versionInfo.agentVersion"),
        Read::Api(
            "SSM GetParameters /aws/service/ecs/optimized-ami/<family>/recommended: ecs_agent_version",
        ),
        Read::Api("EC2 DescribeImages: the AMI's name (which family it belongs to)"),
    ],
    limits: &[
        limit(
            "behind the recommended agent by minor versions ≥",
            Value::Count(BEHIND_MINORS as usize),
        ),
        limit(
            "warning: exec-enabled tasks on a host whose agent is below",
            Value::Text(EXEC_MINIMUM_TEXT),
        ),
    ],
};

/// Minor versions behind the recommended agent that make a finding (our default).
const BEHIND_MINORS: u32 = 1;
/// The oldest agent ECS Exec works with.
const EXEC_MINIMUM: Version = Version(1, 50, 2);
const EXEC_MINIMUM_TEXT: &str = "1.50.2";

/// `major.minor.patch` of an agent version (`1.86.3`; a suffix after the patch is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Version(u32, u32, u32);

impl Version {
    fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().trim_start_matches('v').split('.');
        let mut next = || -> Option<u32> {
            let part = parts.next()?;
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        Some(Version(next()?, next()?, next().unwrap_or(0)))
    }

    /// Whether `self` is at least [`BEHIND_MINORS`] minor versions older than `latest`.
    fn behind(self, latest: Version) -> bool {
        self.0 < latest.0 || (self.0 == latest.0 && self.1 + BEHIND_MINORS <= latest.1)
    }
}

/// A host that is behind, with what it runs and what is recommended for it.
struct Behind<'a> {
    host: &'a Instance,
    runs: Version,
    latest: Version,
}

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for ((cluster, parameter), (hosts, total)) in by_recommendation(input) {
        let mut behind: Vec<Behind> = hosts
            .iter()
            .filter_map(|&host| {
                let runs = Version::parse(&host.agent_version)?;
                let latest = Version::parse(&host.recommended.as_ref()?.agent_version)?;
                runs.behind(latest).then_some(Behind { host, runs, latest })
            })
            .collect();
        if behind.is_empty() {
            continue;
        }
        behind.sort_by_key(|b| (b.runs, instance_label(b.host).to_string()));
        let latest = behind
            .iter()
            .map(|b| b.latest)
            .max()
            .unwrap_or(behind[0].latest);
        let exec_broken: Vec<(&Behind, Vec<String>)> = behind
            .iter()
            .filter(|b| b.runs < EXEC_MINIMUM)
            .map(|b| (b, exec_services_on(input, b.host)))
            .filter(|(_, services)| !services.is_empty())
            .collect();
        let oldest = &behind[0];
        let mut message = if behind.len() == 1 {
            format!(
                "{cluster}: {} runs ECS agent {}; AWS recommends {} for its AMI family (1/{total} \
                 instances)",
                instance_label(oldest.host),
                text(oldest.runs),
                text(latest)
            )
        } else {
            format!(
                "{cluster}: {}/{total} instances run ECS agent older than {}, the version AWS \
                 recommends for their AMI family (e.g. {}: {})",
                behind.len(),
                text(latest),
                instance_label(oldest.host),
                text(oldest.runs)
            )
        };
        let severity = if exec_broken.is_empty() {
            Severity::Info
        } else {
            let (b, services) = &exec_broken[0];
            message.push_str(&format!(
                "; ECS Exec needs {EXEC_MINIMUM_TEXT}: exec into {} on {} fails",
                services.join(", "),
                plural_hosts(&exec_broken, instance_label(b.host))
            ));
            Severity::Warning
        };
        let mut o = Observation::new(
            ID,
            severity,
            super::support::cluster_named(&cluster),
            message,
        )
        .key(parameter.clone())
        .next(
            "Replace the instances with the current ECS-optimized AMI (see ami-outdated) or \
             update the ecs-init package on them. Roll through one host at a time: drain it \
             from the instances view and let the Auto Scaling group replace it.",
        );
        for b in &behind {
            o = o.evidence(Evidence::at(
                input.now,
                format!(
                    "{}: agent {}, AMI {}; {} recommends agent {}",
                    instance_label(b.host),
                    text(b.runs),
                    if b.host.image_id.is_empty() {
                        "unknown"
                    } else {
                        &b.host.image_id
                    },
                    parameter,
                    text(b.latest)
                ),
            ));
        }
        out.push(o);
    }
    out
}

/// `i-0abc` or `i-0abc and 2 more hosts`.
fn plural_hosts(broken: &[(&Behind, Vec<String>)], first: &str) -> String {
    match broken.len() {
        1 => first.to_string(),
        n => format!("{first} and {}", plural(n - 1, "more host")),
    }
}

/// Services (or `standalone`) with exec turned on whose running tasks sit on `host`.
fn exec_services_on(input: &Input, host: &Instance) -> Vec<String> {
    let mut names: Vec<String> = input
        .tasks
        .iter()
        .filter(|t| t.enable_execute_command)
        .filter(|t| t.container_instance_arn.as_deref() == Some(host.arn.as_str()))
        .map(|t| {
            let name = t.service_name().unwrap_or("standalone tasks");
            format!("tasks of {name}")
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn text(v: Version) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::rules::state_rules::support::fixtures::*;

    #[test]
    fn versions_compare_by_minor() {
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(text(EXEC_MINIMUM), EXEC_MINIMUM_TEXT);
        assert!(v("1.86.3").behind(v("1.87.0")));
        assert!(v("1.68.0").behind(v("1.89.0")));
        assert!(v("0.99.0").behind(v("1.0.0")));
        assert!(
            !v("1.89.0").behind(v("1.89.2")),
            "a patch behind is current"
        );
        assert!(!v("1.90.0").behind(v("1.89.0")));
        assert_eq!(Version::parse("1.86.3-1"), Some(Version(1, 86, 3)));
        assert_eq!(Version::parse("unknown"), None);
        assert_eq!(Version::parse(""), None);
    }

    #[test]
    fn one_host_behind_is_named_with_the_recommended_agent() {
        let mut f = facts();
        f.instances = vec![
            on_ami("i-0abc", "ami-0old", 90, "1.68.0"),
            on_ami("i-0def", "ami-0current", 10, "1.89.0"),
        ];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        let o = &found[0];
        assert_eq!(o.severity, Severity::Info);
        assert_eq!(o.subject.label(), "prod");
        assert_eq!(o.key, AL2023);
        assert_eq!(
            o.message,
            "prod: i-0abc runs ECS agent 1.68.0; AWS recommends 1.89.0 for its AMI family \
             (1/2 instances)"
        );
        assert_eq!(
            o.evidence[0].text,
            "i-0abc: agent 1.68.0, AMI ami-0old; \
             /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended recommends agent 1.89.0"
        );
    }

    #[test]
    fn several_hosts_behind_make_one_finding_naming_the_oldest() {
        let mut f = facts();
        f.instances = vec![
            on_ami("i-1", "ami-0old", 40, "1.88.1"),
            on_ami("i-2", "ami-0older", 90, "1.68.0"),
            on_ami("i-3", "ami-0current", 10, "1.89.0"),
        ];
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "prod: 2/3 instances run ECS agent older than 1.89.0, the version AWS recommends \
             for their AMI family (e.g. i-2: 1.68.0)"
        );
        assert_eq!(found[0].evidence.len(), 2);
    }

    #[test]
    fn warning_when_exec_into_its_tasks_fails() {
        let mut f = facts();
        f.instances = vec![on_ami("i-1", "ami-0old", 900, "1.45.0")];
        let mut t = running("web", "t1");
        t.enable_execute_command = true;
        f.tasks = vec![t];
        let found = check(&f.input());
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .message
                .ends_with("; ECS Exec needs 1.50.2: exec into tasks of web on i-1 fails"),
            "{}",
            found[0].message
        );
        f.tasks[0].enable_execute_command = false;
        assert_eq!(
            check(&f.input())[0].severity,
            Severity::Info,
            "exec not used"
        );
    }

    #[test]
    fn quiet_when_current_unknown_or_not_ecs_optimized() {
        let mut f = facts();
        let current = on_ami("i-1", "ami-0current", 10, "1.89.0");
        let patch_behind = on_ami("i-2", "ami-0old", 40, "1.89.0");
        let mut custom = on_ami("i-3", "ami-0golden", 400, "1.60.0");
        custom.recommended = None; // not an ECS-optimized AMI: no recommendation
        let mut unknown_agent = on_ami("i-4", "ami-0old", 400, "1.60.0");
        unknown_agent.agent_version = String::new();
        let mut unread = on_ami("i-5", "ami-0old", 400, "1.60.0");
        unread.recommended.as_mut().unwrap().agent_version = String::new();
        let mut gone = on_ami("i-6", "ami-0old", 400, "1.60.0");
        gone.status = "INACTIVE".into();
        f.instances = vec![current, patch_behind, custom, unknown_agent, unread, gone];
        assert!(check(&f.input()).is_empty());
        f.instances[1].recommended.as_mut().unwrap().agent_version = "1.89.4".into();
        assert!(check(&f.input()).is_empty(), "a patch behind");
    }
}
