//! Registry of the rules over ECS state: tasks, stops, services, deployments, instances, logs.
//! The rules live in `state_rules/`, one file per rule; `stops` (what a stopped task says)
//! and `support` (windows, sizes, test fixtures) are what they share.

mod agent_disconnected;
mod agent_version_outdated;
mod ami_outdated;
mod cluster_reservation_high;
mod crash_loop;
mod deployment_failed_rollback;
mod deployment_stuck;
mod ecs_exec_prerequisites;
mod elb_health_kills;
mod iam_access_denied;
mod image_pull_failed;
mod instance_draining_stuck;
mod lb_registration_misconfig;
mod log_db_connectivity;
mod log_jvm_memory_pressure;
mod placement_constraint_unsatisfied;
mod placement_insufficient_resources;
mod placement_no_usable_instances;
mod resource_init_error;
mod service_discovery_dns;
mod single_point_of_failure;
mod stops;
mod support;

pub(super) use support::duration;
mod task_oom_killed;
mod task_stuck_early_lifecycle;
mod taskdef_memory_limit_risk;

use super::{Rule, Scope, service_under_replicated};

/// In catalog order.
pub static RULES: &[Rule] = &[
    Rule {
        id: task_oom_killed::ID,
        check: task_oom_killed::check,
        about: &task_oom_killed::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: crash_loop::ID,
        check: crash_loop::check,
        about: &crash_loop::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: image_pull_failed::ID,
        check: image_pull_failed::check,
        about: &image_pull_failed::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: resource_init_error::ID,
        check: resource_init_error::check,
        about: &resource_init_error::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: iam_access_denied::ID,
        check: iam_access_denied::check,
        about: &iam_access_denied::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: placement_insufficient_resources::ID,
        check: placement_insufficient_resources::check,
        about: &placement_insufficient_resources::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: placement_constraint_unsatisfied::ID,
        check: placement_constraint_unsatisfied::check,
        about: &placement_constraint_unsatisfied::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: placement_no_usable_instances::ID,
        check: placement_no_usable_instances::check,
        about: &placement_no_usable_instances::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: task_stuck_early_lifecycle::ID,
        check: task_stuck_early_lifecycle::check,
        about: &task_stuck_early_lifecycle::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: service_under_replicated::ID,
        check: service_under_replicated::check,
        about: &service_under_replicated::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: deployment_stuck::ID,
        check: deployment_stuck::check,
        about: &deployment_stuck::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: deployment_failed_rollback::ID,
        check: deployment_failed_rollback::check,
        about: &deployment_failed_rollback::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: elb_health_kills::ID,
        check: elb_health_kills::check,
        about: &elb_health_kills::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: lb_registration_misconfig::ID,
        check: lb_registration_misconfig::check,
        about: &lb_registration_misconfig::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: taskdef_memory_limit_risk::ID,
        check: taskdef_memory_limit_risk::check,
        about: &taskdef_memory_limit_risk::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: cluster_reservation_high::ID,
        check: cluster_reservation_high::check,
        about: &cluster_reservation_high::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: agent_disconnected::ID,
        check: agent_disconnected::check,
        about: &agent_disconnected::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: agent_version_outdated::ID,
        check: agent_version_outdated::check,
        about: &agent_version_outdated::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: instance_draining_stuck::ID,
        check: instance_draining_stuck::check,
        about: &instance_draining_stuck::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: ami_outdated::ID,
        check: ami_outdated::check,
        about: &ami_outdated::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: single_point_of_failure::ID,
        check: single_point_of_failure::check,
        about: &single_point_of_failure::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: ecs_exec_prerequisites::ID,
        check: ecs_exec_prerequisites::check,
        about: &ecs_exec_prerequisites::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: service_discovery_dns::ID,
        check: service_discovery_dns::check,
        about: &service_discovery_dns::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: log_jvm_memory_pressure::ID,
        check: log_jvm_memory_pressure::check,
        about: &log_jvm_memory_pressure::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: log_db_connectivity::ID,
        check: log_db_connectivity::check,
        about: &log_db_connectivity::ABOUT,
        scope: Scope::Service,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;

    #[test]
    fn every_state_rule_is_registered_once_in_catalog_order() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "task-oom-killed",
                "essential-container-crash-loop",
                "image-pull-failed",
                "task-resource-initialization-error",
                "iam-access-denied",
                "placement-insufficient-resources",
                "placement-constraint-unsatisfied",
                "placement-no-usable-instances",
                "task-stuck-early-lifecycle",
                "service-under-replicated",
                "deployment-stuck-in-progress",
                "deployment-failed-rollback",
                "tasks-failing-elb-health-checks",
                "lb-registration-misconfig",
                "taskdef-memory-limit-risk",
                "cluster-reservation-high",
                "agent-disconnected",
                "agent-version-outdated",
                "instance-draining-stuck",
                "ami-outdated",
                "single-point-of-failure-placement",
                "ecs-exec-prerequisites-missing",
                "service-discovery-dns-failure",
                "log-jvm-memory-pressure",
                "log-db-connectivity-failure"
            ]
        );
    }

    #[test]
    fn every_rule_is_quiet_on_an_empty_fleet() {
        let facts = Facts::default();
        for rule in RULES {
            assert!((rule.check)(&facts.input()).is_empty(), "{}", rule.id);
        }
    }
}
