//! One file per rule (or small family of rules), each with its own tests. A rule reports what
//! holds now; how long it must hold comes from the data itself (metric windows, timestamps) or
//! from the observation's `hold`, so a rule never keeps state of its own.
//!
//! Two registries: rules over ECS state (tasks, services, deployments, instances, logs) and
//! rules over metrics and target health; the correlations have theirs ([`CORRELATIONS`]).
//! Each entry carries its catalog [`About`] (written in the rule's file, next to the constants
//! it quotes), from which `ecsmon rules`, `:rules` and docs/triage.md are generated.

pub mod about;
mod correlations;
mod metric_rules;
mod service_under_replicated;
mod state_rules;

use super::Input;
use crate::model::Observation;

pub use about::{About, Limit, Read, Value};
pub use correlations::{CORRELATIONS, Correlation, correlate};
pub use metric_rules::{Watched, task_memory_series, wanted_metrics, wanted_metrics_with};

pub struct Rule {
    /// The catalog's id.
    pub id: &'static str,
    pub check: fn(&Input) -> Vec<Observation>,
    /// What the catalog (`ecsmon rules`, docs/triage.md) says about it.
    pub about: &'static About,
    /// What one run of the rule must see to judge what it judges.
    pub scope: Scope,
}

/// How much of a cluster a rule reads to judge one object: what the incremental engine may
/// cut the view down to before running it (see `state::incremental`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One service at a time: run over one service's part of the view (the service, its tasks
    /// running and stopped, its log lines; the cluster's instances, NAT gateways and every
    /// shared map whole) it finds exactly what it finds about that service in the whole
    /// cluster. Tasks of no service listed are a part of their own. Of the cluster itself it
    /// reads only its tags, and of its instances only who they are, where (zone, subnet) and
    /// whether they are usable (status, agent connected): a service's observations are
    /// re-used while those hold, however the instances' counts and free resources move.
    Service,
    /// The whole cluster: it judges instances, NAT gateways or the cluster itself, compares a
    /// service with the others (a load balancer shared between services, a task family's
    /// stops across services), or reads the instances' free resources or attributes.
    Cluster,
}

/// Every rule.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    state_rules::RULES.iter().chain(metric_rules::RULES)
}
