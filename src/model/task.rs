use super::{SharedStr, TaskDefRef, Time, arn_tail};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Task {
    pub arn: SharedStr,
    pub cluster_arn: SharedStr,
    pub task_definition: TaskDefRef,
    /// PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED.
    pub last_status: SharedStr,
    pub desired_status: SharedStr,
    /// HEALTHY, UNHEALTHY, UNKNOWN.
    pub health: SharedStr,
    /// `service:<name>` for service tasks.
    pub group: SharedStr,
    pub launch_type: SharedStr,
    pub availability_zone: SharedStr,
    pub private_ip: SharedStr,
    pub container_instance_arn: Option<SharedStr>,
    /// The EC2 instance behind `container_instance_arn`, once joined.
    pub ec2_instance_id: Option<SharedStr>,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub created_at: Option<Time>,
    pub started_at: Option<Time>,
    pub stopping_at: Option<Time>,
    pub stopped_at: Option<Time>,
    pub stop_code: SharedStr,
    pub stopped_reason: SharedStr,
    pub enable_execute_command: bool,
    pub containers: Vec<Container>,
    pub tags: Vec<(SharedStr, SharedStr)>,
    /// Listed but not described yet (a big pane's rows come before their details): only `arn`
    /// and `cluster_arn` are known — its status is unknown, not empty.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub loading: bool,
    /// When its details came, for a row of a listed pane; `None` for a row of a whole answer.
    #[serde(skip)]
    pub described_at: Option<Time>,
}

impl Task {
    /// Takes `other`'s copy of every text both tasks have in common (their cluster, task
    /// definition, group, zone, host, tags, containers' names and images): tasks of one
    /// service are alike, so a source that builds many shares one allocation per value
    /// instead of holding 100,000 copies of the same ARNs.
    pub fn share_text_with(&mut self, other: &Task) {
        share(&mut self.cluster_arn, &other.cluster_arn);
        share(&mut self.task_definition.arn, &other.task_definition.arn);
        share(
            &mut self.task_definition.family,
            &other.task_definition.family,
        );
        share(&mut self.group, &other.group);
        share(&mut self.availability_zone, &other.availability_zone);
        if let (Some(mine), Some(theirs)) = (
            &mut self.container_instance_arn,
            &other.container_instance_arn,
        ) {
            share(mine, theirs);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.ec2_instance_id, &other.ec2_instance_id) {
            share(mine, theirs);
        }
        for ((k, v), (ok, ov)) in self.tags.iter_mut().zip(&other.tags) {
            share(k, ok);
            share(v, ov);
        }
        for (mine, theirs) in self.containers.iter_mut().zip(&other.containers) {
            share(&mut mine.name, &theirs.name);
            share(&mut mine.image, &theirs.image);
        }
    }

    /// The id operators recognise (the ARN's last segment).
    pub fn id(&self) -> &str {
        arn_tail(&self.arn)
    }

    /// The first 8 characters of the id, as the console shows it in tables.
    pub fn short_id(&self) -> &str {
        super::arn::short_task_id(&self.arn)
    }

    /// `cart` for a task whose group is `service:cart`.
    pub fn service_name(&self) -> Option<&str> {
        self.group.strip_prefix("service:")
    }

    pub fn is_stopped(&self) -> bool {
        self.last_status == "STOPPED"
    }

    /// Non-zero exit codes as `name=code` pairs (the containers that failed), or `0` when
    /// every container that exited did so cleanly; empty when none exited.
    pub fn exit_codes(&self) -> String {
        let failed: Vec<String> = self
            .containers
            .iter()
            .filter_map(|c| match c.exit_code {
                Some(code) if code != 0 => Some(format!("{}={code}", c.name)),
                _ => None,
            })
            .collect();
        if failed.is_empty() && self.containers.iter().any(|c| c.exit_code.is_some()) {
            "0".into()
        } else {
            failed.join(" ")
        }
    }
}

/// `mine` becomes `theirs` when they say the same.
fn share(mine: &mut SharedStr, theirs: &SharedStr) {
    if *mine == *theirs {
        *mine = theirs.clone();
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Container {
    pub name: SharedStr,
    pub image: SharedStr,
    /// Docker runtime id; ECS Exec targets `ecs:<cluster>_<task-id>_<runtime-id>`.
    pub runtime_id: SharedStr,
    pub last_status: SharedStr,
    pub health: SharedStr,
    pub exit_code: Option<i32>,
    pub reason: SharedStr,
    pub cpu: Option<u32>,
    /// Hard limit (MiB).
    pub memory: Option<u32>,
    /// Soft limit (MiB).
    pub memory_reservation: Option<u32>,
    /// Status of the `ExecuteCommandAgent` managed agent, when ECS Exec is on.
    pub exec_agent: Option<SharedStr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(arn: &str, image: &str) -> Task {
        Task {
            arn: arn.into(),
            cluster_arn: "arn:aws:ecs:eu-west-1:1:cluster/prod".into(),
            group: "service:web".into(),
            containers: vec![Container {
                name: "web".into(),
                image: image.into(),
                ..Container::default()
            }],
            ..Task::default()
        }
    }

    #[test]
    fn a_task_shares_the_text_it_has_in_common_with_another() {
        let first = task("arn:aws:ecs:eu-west-1:1:task/prod/a", "web:1");
        let mut second = task("arn:aws:ecs:eu-west-1:1:task/prod/b", "web:2");
        let unchanged = second.clone();
        second.share_text_with(&first);
        assert_eq!(second, unchanged, "the same task");
        assert!(second.cluster_arn.shares(&first.cluster_arn));
        assert!(second.group.shares(&first.group));
        assert!(second.containers[0].name.shares(&first.containers[0].name));
        assert!(
            !second.containers[0]
                .image
                .shares(&first.containers[0].image)
        );
        assert!(!second.arn.shares(&first.arn));
    }
}
