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
pub use metric_rules::{Watched, wanted_metrics};

pub struct Rule {
    /// The catalog's id.
    pub id: &'static str,
    pub check: fn(&Input) -> Vec<Observation>,
    /// What the catalog (`ecsmon rules`, docs/triage.md) says about it.
    pub about: &'static About,
}

/// Every rule.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    state_rules::RULES.iter().chain(metric_rules::RULES)
}
