use super::Time;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    pub container_insights: bool,
    pub tags: Vec<(String, String)>,
    pub fetched_at: Option<Time>,
}
