//! Registry of the rules over ECS state: tasks, stops, services, deployments, instances, logs.

use super::{Rule, service_under_replicated};

pub static RULES: &[Rule] = &[Rule {
    id: service_under_replicated::ID,
    check: service_under_replicated::check,
}];
