use std::fmt;

/// A task definition named the way operators say it: `family:revision`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct TaskDefRef {
    pub arn: String,
    pub family: String,
    pub revision: u32,
}

impl TaskDefRef {
    /// Parses `arn:aws:ecs:region:acct:task-definition/family:7` (or a bare `family:7`).
    pub fn from_arn(arn: &str) -> Self {
        let tail = arn.rsplit('/').next().unwrap_or(arn);
        let (family, revision) = match tail.rsplit_once(':') {
            Some((family, rev)) => (family, rev.parse().unwrap_or(0)),
            None => (tail, 0),
        };
        TaskDefRef {
            arn: arn.to_string(),
            family: family.to_string(),
            revision,
        }
    }
}

impl fmt::Display for TaskDefRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.family, self.revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_family_and_revision_from_an_arn() {
        let t = TaskDefRef::from_arn("arn:aws:ecs:eu-west-1:123:task-definition/cart-api:42");
        assert_eq!((t.family.as_str(), t.revision), ("cart-api", 42));
        assert_eq!(t.to_string(), "cart-api:42");
    }

    #[test]
    fn tolerates_a_missing_revision() {
        assert_eq!(TaskDefRef::from_arn("web").to_string(), "web:0");
    }
}

/// What ecsmon needs from a task definition (immutable once registered, so cached forever).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct TaskDefinition {
    pub reference: TaskDefRef,
    /// Task-level size, when set (`"1024"` CPU units, MiB).
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub network_mode: String,
    pub execution_role_arn: String,
    pub task_role_arn: String,
    pub containers: Vec<ContainerDefinition>,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    pub cpu: Option<u32>,
    /// Hard limit (MiB).
    pub memory: Option<u32>,
    /// Soft limit (MiB).
    pub memory_reservation: Option<u32>,
    pub essential: bool,
    pub readonly_root_filesystem: bool,
    /// `awslogs`, `awsfirelens`, `splunk`… (empty when none).
    pub log_driver: String,
    pub log_options: Vec<(String, String)>,
}
