//! ami-outdated: container instances run an ECS-optimized AMI other than the one AWS
//! recommends for their family (the public SSM parameter), and theirs is more than a month
//! old. Info: kernel, Docker and agent fixes are waiting in the new image.
//!
//! The age is the grace: AWS publishes a new ECS-optimized AMI every week or two, and a host
//! on last week's image is current enough; the finding waits until the host's own image is
//! [`MIN_AGE`] old. One finding per cluster and AMI family, as the catalog words it, naming
//! the hosts in its evidence. Hosts on other AMIs (no recommendation), or whose image date
//! is not known, are left out.

use chrono::TimeDelta;

use super::support::{by_recommendation, instance_label};
use crate::model::{Evidence, Instance, Observation, Severity, Time};
use crate::triage::Input;
use crate::triage::rules::about::{About, INFO, Read, Value, limit};

pub const ID: &str = "ami-outdated";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "Container instances run an older ECS-optimized AMI than the one AWS recommends for their family.",
    severities: INFO,
    reads: &[
        Read::Api("EC2 DescribeInstances: ImageId"),
        Read::Api("EC2 DescribeImages: the AMI's name (its family) and CreationDate"),
        Read::Api(
            "SSM GetParameters /aws/service/ecs/optimized-ami/<family>/recommended: image_id",
        ),
    ],
    limits: &[limit(
        "the host's AMI older than",
        Value::Days(MIN_AGE_DAYS),
    )],
};

/// A host's AMI must be this old before it is called outdated (our default).
const MIN_AGE_DAYS: i64 = 30;
const MIN_AGE: TimeDelta = TimeDelta::days(MIN_AGE_DAYS);

pub fn check(input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for ((cluster, parameter), (hosts, total)) in by_recommendation(input) {
        let mut old: Vec<(&Instance, Time)> = hosts
            .iter()
            .filter_map(|&i| {
                let recommended = i.recommended.as_ref()?;
                let created = i.image_created_at?;
                let outdated = !i.image_id.is_empty()
                    && !recommended.image_id.is_empty()
                    && i.image_id != recommended.image_id
                    && input.now - created >= MIN_AGE
                    // A host on a newer image than the one recommended (AWS rolled a release
                    // back) is not behind.
                    && released(&recommended.image_name).is_none_or(|r| r > created.date_naive());
                outdated.then_some((i, created))
            })
            .collect();
        if old.is_empty() {
            continue;
        }
        old.sort_by_key(|(i, created)| (*created, instance_label(i).to_string()));
        let (oldest, created) = old[0];
        let Some(recommended) = &oldest.recommended else {
            continue;
        };
        // At least a month: days read better than `74d00h`.
        let age = format!("{} days", (input.now - created).num_days());
        let images = {
            let mut ids: Vec<&str> = old.iter().map(|(i, _)| i.image_id.as_str()).collect();
            ids.sort();
            ids.dedup();
            ids.len()
        };
        let message = match (old.len(), images) {
            (1, _) => format!(
                "{cluster}: {} runs {} ({age} old); AWS recommends {} for its AMI family (1/{total} \
                 instances)",
                instance_label(oldest),
                oldest.image_id,
                recommended.image_id
            ),
            (n, 1) => format!(
                "{cluster}: {n}/{total} container instances run {} ({age} old); the recommended \
                 ECS-optimized AMI is {}",
                oldest.image_id, recommended.image_id
            ),
            (n, _) => format!(
                "{cluster}: {n}/{total} container instances run older AMIs (oldest {} on {}, \
                 {age} old); the recommended ECS-optimized AMI is {}",
                oldest.image_id,
                instance_label(oldest),
                recommended.image_id
            ),
        };
        let mut o = Observation::new(
            ID,
            Severity::Info,
            super::support::cluster_named(&cluster),
            message,
        )
        .key(parameter.clone())
        .next(
            "Point the launch template at the SSM parameter (resolve:ssm:…/recommended/image_id) \
             so new hosts get the current AMI. Then drain one host at a time from the instances \
             view and let the Auto Scaling group replace each.",
        );
        for (i, created) in &old {
            o = o.evidence(Evidence::at(
                *created,
                format!(
                    "{}: {} created {}; {parameter} is {} ({})",
                    instance_label(i),
                    i.image_id,
                    created.format("%Y-%m-%d"),
                    recommended.image_id,
                    recommended.image_name
                ),
            ));
        }
        out.push(o);
    }
    out
}

/// The release day an ECS-optimized image's name carries
/// (`al2023-ami-ecs-hvm-2023.0.20250224-kernel-6.1-x86_64`: 2025-02-24).
fn released(image_name: &str) -> Option<chrono::NaiveDate> {
    image_name.split(['.', '-']).find_map(|part| {
        (part.len() == 8 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| chrono::NaiveDate::parse_from_str(part, "%Y%m%d").ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::rules::state_rules::support::fixtures::*;

    #[test]
    fn the_release_day_comes_from_the_image_name() {
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(
            released("al2023-ami-ecs-hvm-2023.0.20250224-kernel-6.1-x86_64"),
            day(2025, 2, 24)
        );
        assert_eq!(
            released("amzn2-ami-ecs-hvm-2.0.20250422-x86_64-ebs"),
            day(2025, 4, 22)
        );
        assert_eq!(released("my-golden-image"), None);
    }

    #[test]
    fn a_month_old_ami_that_is_not_the_recommended_one() {
        let mut f = facts();
        f.instances = vec![
            on_ami("i-0abc", "ami-0old", 74, "1.89.0"),
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
            "prod: i-0abc runs ami-0old (74 days old); AWS recommends ami-0current for its AMI \
             family (1/2 instances)"
        );
        assert_eq!(
            o.evidence[0].text,
            "i-0abc: ami-0old created 2024-12-17; \
             /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended is ami-0current \
             (al2023-ami-ecs-hvm-2023.0.20250210-kernel-6.1-x86_64)"
        );
    }

    #[test]
    fn several_hosts_make_one_finding() {
        let mut f = facts();
        f.instances = vec![
            on_ami("i-1", "ami-0old", 40, "1.89.0"),
            on_ami("i-2", "ami-0old", 40, "1.89.0"),
            on_ami("i-3", "ami-0current", 10, "1.89.0"),
        ];
        assert_eq!(
            check(&f.input())[0].message,
            "prod: 2/3 container instances run ami-0old (40 days old); the recommended \
             ECS-optimized AMI is ami-0current"
        );
        f.instances[0].image_id = "ami-0older".into();
        f.instances[0].image_created_at = Some(now() - TimeDelta::days(90));
        assert_eq!(
            check(&f.input())[0].message,
            "prod: 2/3 container instances run older AMIs (oldest ami-0older on i-1, 90 days \
             old); the recommended ECS-optimized AMI is ami-0current"
        );
    }

    #[test]
    fn quiet_while_young_current_unknown_or_not_ecs_optimized() {
        let mut f = facts();
        let last_release = on_ami("i-1", "ami-0previous", 29, "1.88.0");
        let current = on_ami("i-2", "ami-0current", 400, "1.89.0");
        let mut custom = on_ami("i-3", "ami-0golden", 400, "1.60.0");
        custom.recommended = None;
        let mut undated = on_ami("i-4", "ami-0old", 400, "1.89.0");
        undated.image_created_at = None;
        let mut unread = on_ami("i-5", "ami-0old", 400, "1.89.0");
        unread.recommended.as_mut().unwrap().image_id = String::new();
        let mut no_image = on_ami("i-6", "", 400, "1.89.0");
        no_image.image_created_at = Some(now() - TimeDelta::days(400));
        f.instances = vec![last_release, current, custom, undated, unread, no_image];
        assert!(check(&f.input()).is_empty());
        let mut rolled_back = facts();
        let mut host = on_ami("i-7", "ami-0newer", 40, "1.89.0");
        host.recommended.as_mut().unwrap().image_name =
            "al2023-ami-ecs-hvm-2023.0.20241001-kernel-6.1-x86_64".into();
        rolled_back.instances = vec![host];
        assert!(
            check(&rolled_back.input()).is_empty(),
            "a newer image than recommended"
        );
        f.instances[0].image_created_at = Some(now() - MIN_AGE);
        assert_eq!(check(&f.input()).len(), 1, "at the edge");
    }
}
