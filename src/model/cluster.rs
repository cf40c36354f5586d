use super::Time;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Cluster {
    pub arn: String,
    pub name: String,
    /// ACTIVE, PROVISIONING, DEPROVISIONING, FAILED, INACTIVE.
    pub status: String,
    pub active_services: u32,
    pub running_tasks: u32,
    pub pending_tasks: u32,
    pub instances: u32,
    /// Share of registered CPU reserved by tasks, 0–100. `None` when the cluster has no instances.
    pub cpu_reserved_pct: Option<f64>,
    pub memory_reserved_pct: Option<f64>,
    pub capacity_providers: Vec<String>,
    pub container_insights: Insights,
    pub tags: Vec<(String, String)>,
    pub fetched_at: Option<Time>,
    /// The fleet view's merged rows only: the context the cluster is in. `None` from every
    /// source.
    pub context: Option<Box<ClusterContext>>,
}

/// Where a row of the fleet view's clusters pane comes from.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ClusterContext {
    /// The profile's name (`default` for the default credentials).
    pub profile: String,
    /// The account STS said the profile reaches; empty before it answers.
    pub account: String,
    pub region: String,
    /// Why the row may be out of date: its context's last clusters poll failed, in the
    /// source's plain words.
    pub stale: Option<String>,
}

/// The cluster's Container Insights setting. Only `Enhanced` publishes per-task metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Insights {
    #[default]
    Off,
    On,
    Enhanced,
}

impl Insights {
    /// From the ECS setting value (`disabled`, `enabled`, `enhanced`).
    pub fn from_setting(value: &str) -> Self {
        match value {
            "enhanced" => Insights::Enhanced,
            "enabled" => Insights::On,
            _ => Insights::Off,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Insights::Off => "disabled",
            Insights::On => "enabled",
            Insights::Enhanced => "enhanced",
        }
    }
}
