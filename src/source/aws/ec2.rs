//! What the instances poll adds from EC2 and SSM beyond type and zone, each cached because it
//! changes rarely or never: the CPU credit mode of burstable hosts
//! (`DescribeInstanceCreditSpecifications`, up to 1000 ids a call, re-read every
//! [`CREDIT_MODE_EVERY`]), the creation date and name of each AMI (`DescribeImages`, immutable),
//! and the recommended ECS-optimized AMI of each AMI family (the public SSM parameters, re-read
//! every [`RECOMMENDED_AMI_EVERY`]). A failure degrades to "not known" and is retried after
//! [`RETRY_AFTER`]; it never fails the instances pane.

use std::collections::HashMap;
use std::time::Instant;

use super::AwsSource;
use crate::model::{CreditMode, ErrorKind, Instance, RecommendedAmi, Time, metric_catalog};
use crate::poll::triage::{CREDIT_MODE_EVERY, RECOMMENDED_AMI_EVERY, RETRY_AFTER};

/// `DescribeInstanceCreditSpecifications` and `DescribeImages` take up to 1000 ids a call.
const EC2_IDS_MAX: usize = 1000;
/// `GetParameters` takes up to 10 names a call.
const SSM_NAMES_MAX: usize = 10;

/// The source's memory of slow-changing host facts.
#[derive(Default)]
pub(super) struct HostFacts {
    /// Instance id → credit mode and when it expires.
    credit_modes: HashMap<String, (CreditMode, Instant)>,
    /// AMI id → what DescribeImages said (`None`: EC2 does not know the image).
    images: HashMap<String, Option<Image>>,
    /// SSM parameter → its value (`None`: not readable) and when it expires.
    recommended: HashMap<String, (Option<RecommendedAmi>, Instant)>,
}

#[derive(Debug, Clone)]
struct Image {
    name: String,
    arm64: bool,
    created_at: Option<Time>,
}

/// The public SSM parameter naming the recommended ECS-optimized AMI of the family an AMI
/// belongs to, by the AMI's name: `None` for AMIs that are not a standard ECS-optimized
/// Amazon Linux 2 / 2023 image (custom, GPU, Inferentia or other kernel variants).
pub fn recommended_parameter(image_name: &str, arm64: bool) -> Option<String> {
    let family = if image_name.starts_with("al2023-ami-ecs-hvm-") {
        "amazon-linux-2023"
    } else if image_name.starts_with("amzn2-ami-ecs-hvm-") {
        "amazon-linux-2"
    } else {
        return None;
    };
    let arch = if arm64 { "/arm64" } else { "" };
    Some(format!(
        "/aws/service/ecs/optimized-ami/{family}{arch}/recommended"
    ))
}

/// The parameter's JSON value (`{"image_id": …, "image_name": …, "ecs_agent_version": …}`).
pub fn parse_recommended(parameter: &str, value: &str) -> Option<RecommendedAmi> {
    let v: serde_json::Value = serde_json::from_str(value).ok()?;
    let field = |name: &str| {
        v.get(name)
            .and_then(|f| f.as_str())
            .map(|s| crate::sanitize::clean(s).into_owned())
    };
    Some(RecommendedAmi {
        parameter: parameter.to_string(),
        image_id: field("image_id")?,
        image_name: field("image_name").unwrap_or_default(),
        agent_version: field("ecs_agent_version").unwrap_or_default(),
    })
}

fn lock(m: &std::sync::Mutex<HostFacts>) -> std::sync::MutexGuard<'_, HostFacts> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AwsSource {
    /// Fills the credit mode, AMI age and recommended AMI of freshly described instances.
    pub(super) async fn add_host_facts(&self, instances: &mut [Instance]) {
        self.read_credit_modes(instances).await;
        self.read_images(instances).await;
        self.read_recommended(instances).await;
        let facts = lock(&self.host_facts);
        for i in instances.iter_mut() {
            if let Some((mode, _)) = facts.credit_modes.get(&i.ec2_instance_id) {
                i.credit_mode = *mode;
            }
            if let Some(Some(image)) = facts.images.get(&i.image_id) {
                i.image_created_at = image.created_at;
                i.recommended = recommended_parameter(&image.name, image.arm64)
                    .and_then(|p| facts.recommended.get(&p).and_then(|(r, _)| r.clone()));
            }
        }
    }

    async fn read_credit_modes(&self, instances: &[Instance]) {
        let now = Instant::now();
        let due: Vec<String> = {
            let facts = lock(&self.host_facts);
            instances
                .iter()
                .filter(|i| metric_catalog::is_burstable(&i.instance_type))
                .filter(|i| !i.ec2_instance_id.is_empty())
                .filter(|i| {
                    facts
                        .credit_modes
                        .get(&i.ec2_instance_id)
                        .is_none_or(|(_, until)| *until <= now)
                })
                .map(|i| i.ec2_instance_id.clone())
                .collect()
        };
        for batch in due.chunks(EC2_IDS_MAX) {
            let op = "ec2:DescribeInstanceCreditSpecifications";
            self.limiter.acquire(op).await;
            let answer = self
                .ec2
                .describe_instance_credit_specifications()
                .set_instance_ids(Some(batch.to_vec()))
                .send()
                .await;
            let mut facts = lock(&self.host_facts);
            match answer {
                Ok(out) => {
                    let until = now + CREDIT_MODE_EVERY;
                    for spec in out.instance_credit_specifications() {
                        if let Some(id) = spec.instance_id() {
                            let mode = CreditMode::from_aws(spec.cpu_credits().unwrap_or_default());
                            facts.credit_modes.insert(id.to_string(), (mode, until));
                        }
                    }
                }
                Err(e) => {
                    let err = self.error(op, "CPU credit modes", &e);
                    // Denied stays denied until the next regular read; anything else keeps
                    // what was known and asks again soon.
                    let (denied, until) = match err.kind {
                        ErrorKind::AccessDenied => (true, now + CREDIT_MODE_EVERY),
                        _ => (false, now + RETRY_AFTER),
                    };
                    for id in batch {
                        let entry = facts
                            .credit_modes
                            .entry(id.clone())
                            .or_insert((CreditMode::Unknown, until));
                        entry.1 = until;
                        if denied {
                            entry.0 = CreditMode::Denied;
                        }
                    }
                }
            }
        }
    }

    async fn read_images(&self, instances: &[Instance]) {
        let mut unknown: Vec<String> = {
            let facts = lock(&self.host_facts);
            instances
                .iter()
                .map(|i| i.image_id.clone())
                .filter(|id| !id.is_empty() && !facts.images.contains_key(id))
                .collect()
        };
        unknown.sort();
        unknown.dedup();
        for batch in unknown.chunks(EC2_IDS_MAX) {
            let op = "ec2:DescribeImages";
            self.limiter.acquire(op).await;
            let answer = self
                .ec2
                .describe_images()
                .set_image_ids(Some(batch.to_vec()))
                .send()
                .await;
            let Ok(out) = answer.map_err(|e| self.error(op, "AMIs", &e)) else {
                continue; // asked again at the next instances poll
            };
            let mut facts = lock(&self.host_facts);
            for id in batch {
                facts.images.insert(id.clone(), None);
            }
            for image in out.images() {
                let Some(id) = image.image_id() else { continue };
                let created_at = image
                    .creation_date()
                    .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                    .map(|d| d.with_timezone(&chrono::Utc));
                let arm64 = image
                    .architecture()
                    .is_some_and(|a| a.as_str().starts_with("arm64"));
                let name = image.name().unwrap_or_default().to_string();
                facts.images.insert(
                    id.to_string(),
                    Some(Image {
                        name,
                        arm64,
                        created_at,
                    }),
                );
            }
        }
    }

    async fn read_recommended(&self, instances: &[Instance]) {
        let now = Instant::now();
        let mut due: Vec<String> = {
            let facts = lock(&self.host_facts);
            instances
                .iter()
                .filter_map(|i| match facts.images.get(&i.image_id) {
                    Some(Some(image)) => recommended_parameter(&image.name, image.arm64),
                    _ => None,
                })
                .filter(|p| {
                    facts
                        .recommended
                        .get(p)
                        .is_none_or(|(_, until)| *until <= now)
                })
                .collect()
        };
        due.sort();
        due.dedup();
        for batch in due.chunks(SSM_NAMES_MAX) {
            let op = "ssm:GetParameters";
            self.limiter.acquire(op).await;
            let answer = self
                .ssm
                .get_parameters()
                .set_names(Some(batch.to_vec()))
                .send()
                .await;
            let mut facts = lock(&self.host_facts);
            match answer.map_err(|e| self.error(op, "the recommended ECS-optimized AMIs", &e)) {
                Ok(out) => {
                    let until = now + RECOMMENDED_AMI_EVERY;
                    for name in batch {
                        let value = out
                            .parameters()
                            .iter()
                            .find(|p| p.name() == Some(name.as_str()))
                            .and_then(|p| p.value())
                            .and_then(|v| parse_recommended(name, v));
                        facts.recommended.insert(name.clone(), (value, until));
                    }
                }
                Err(_) => {
                    for name in batch {
                        let entry = facts.recommended.entry(name.clone()).or_insert((None, now));
                        entry.1 = now + RETRY_AFTER;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameter_follows_the_ami_family_and_architecture() {
        assert_eq!(
            recommended_parameter("amzn2-ami-ecs-hvm-2.0.20240101-x86_64-ebs", false).as_deref(),
            Some("/aws/service/ecs/optimized-ami/amazon-linux-2/recommended")
        );
        assert_eq!(
            recommended_parameter("al2023-ami-ecs-hvm-2023.0.20240101-kernel-6.1-arm64", true)
                .as_deref(),
            Some("/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended")
        );
        assert_eq!(recommended_parameter("my-golden-image-42", false), None);
        assert_eq!(
            recommended_parameter("amzn2-ami-ecs-gpu-hvm-2.0.20240101-x86_64-ebs", false),
            None
        );
    }

    #[test]
    fn the_parameter_value_is_json() {
        let value = r#"{"ecs_agent_version":"1.108.2","image_id":"ami-0effa040679d3b8cd",
            "image_name":"amzn2-ami-ecs-hvm-2.0.20261031-x86_64-ebs","schema_version":1}"#;
        let r = parse_recommended("/p", value).unwrap();
        assert_eq!(r.image_id, "ami-0effa040679d3b8cd");
        assert_eq!(r.agent_version, "1.108.2");
        assert!(parse_recommended("/p", "ami-123").is_none());
    }
}
