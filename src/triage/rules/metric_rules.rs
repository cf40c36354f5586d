//! Registry of the rules over CloudWatch metrics, alarms and target health, and the metrics
//! those rules need polled.
//!

mod alb_5xx_spike;
mod autoscaling;
mod cpu_credits;
mod elb_deregistration_timeout;
mod health_check_grace;
mod healthy_host_count_flapping;
mod instance_placement_hotspot;
mod instance_status_check_failed;
mod memory_leak_trend;
mod memory_over_soft_limit;
mod nat_connection_saturation;
mod nat_drops_and_port_errors;
mod service_cpu_saturated;
mod target_az_not_enabled;
mod target_response_time_spike;
mod target_unhealthy;
#[cfg(test)]
mod testing;
mod util;

use std::collections::{BTreeMap, HashSet};

use crate::model::hash::FastSet;

use super::{Rule, Scope};
use crate::model::{
    Cluster, Insights, Instance, MetricId, NatGateway, Service, Task, metric_catalog as cat,
};

pub static RULES: &[Rule] = &[
    Rule {
        id: elb_deregistration_timeout::ID,
        check: elb_deregistration_timeout::check,
        about: &elb_deregistration_timeout::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: target_unhealthy::RESPONSE_CODE_MISMATCH,
        check: target_unhealthy::check_response_code_mismatch,
        about: &target_unhealthy::ABOUT_RESPONSE_CODE_MISMATCH,
        scope: Scope::Service,
    },
    Rule {
        id: target_unhealthy::TIMEOUT,
        check: target_unhealthy::check_timeout,
        about: &target_unhealthy::ABOUT_TIMEOUT,
        scope: Scope::Service,
    },
    Rule {
        id: target_unhealthy::FAILED_HEALTH_CHECKS,
        check: target_unhealthy::check_failed_health_checks,
        about: &target_unhealthy::ABOUT_FAILED_HEALTH_CHECKS,
        scope: Scope::Service,
    },
    Rule {
        id: target_az_not_enabled::ID,
        check: target_az_not_enabled::check,
        about: &target_az_not_enabled::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: health_check_grace::ID,
        check: health_check_grace::check,
        about: &health_check_grace::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: cpu_credits::EXHAUSTED,
        check: cpu_credits::check_exhausted,
        about: &cpu_credits::ABOUT_EXHAUSTED,
        scope: Scope::Cluster,
    },
    Rule {
        id: cpu_credits::PLATEAU,
        check: cpu_credits::check_plateau,
        about: &cpu_credits::ABOUT_PLATEAU,
        scope: Scope::Cluster,
    },
    Rule {
        id: service_cpu_saturated::ID,
        check: service_cpu_saturated::check,
        about: &service_cpu_saturated::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: instance_placement_hotspot::ID,
        check: instance_placement_hotspot::check,
        about: &instance_placement_hotspot::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: memory_leak_trend::ID,
        check: memory_leak_trend::check,
        about: &memory_leak_trend::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: memory_over_soft_limit::ID,
        check: memory_over_soft_limit::check,
        about: &memory_over_soft_limit::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: autoscaling::AT_MAX,
        check: autoscaling::check_at_max,
        about: &autoscaling::ABOUT_AT_MAX,
        scope: Scope::Cluster,
    },
    Rule {
        id: autoscaling::SCALE_IN_SUSPENDED,
        check: autoscaling::check_scale_in_suspended,
        about: &autoscaling::ABOUT_SCALE_IN_SUSPENDED,
        scope: Scope::Service,
    },
    Rule {
        id: alb_5xx_spike::ID,
        check: alb_5xx_spike::check,
        about: &alb_5xx_spike::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: target_response_time_spike::ID,
        check: target_response_time_spike::check,
        about: &target_response_time_spike::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: healthy_host_count_flapping::ID,
        check: healthy_host_count_flapping::check,
        about: &healthy_host_count_flapping::ABOUT,
        scope: Scope::Service,
    },
    Rule {
        id: instance_status_check_failed::ID,
        check: instance_status_check_failed::check,
        about: &instance_status_check_failed::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: nat_connection_saturation::ID,
        check: nat_connection_saturation::check,
        about: &nat_connection_saturation::ABOUT,
        scope: Scope::Cluster,
    },
    Rule {
        id: nat_drops_and_port_errors::ID,
        check: nat_drops_and_port_errors::check,
        about: &nat_drops_and_port_errors::ABOUT,
        scope: Scope::Cluster,
    },
];

/// Per-task memory series, at most (each is one CloudWatch query).
pub const MAX_TASK_SERIES: usize = 500;

/// The 1-minute series the metric rules read, for every object the console knows of (the
/// metrics poller fetches them whether or not a pane shows them).
///
/// Per cluster: CPU/memory reservation. Per service: CPU and memory (Average, as the rows
/// show) and memory Maximum. Per target group of an application load balancer: healthy and
/// unhealthy hosts, requests, target 5xx, response time, connection errors (network load
/// balancers: host counts only); per application load balancer: requests and its own 5xx with
/// the 502/503/504 breakdown. Per instance: CPU, CPU credits (burstable types) and status
/// checks. Per running task of a cluster with Container Insights `enhanced`: memory used, at
/// most [`MAX_TASK_SERIES`], shared round-robin between services so each gets some.
pub fn wanted_metrics(
    clusters: &[&Cluster],
    services: &[&Service],
    instances: &[&Instance],
    tasks: &[&Task],
    nat_gateways: &[(&str, &NatGateway)],
    watched: &Watched,
) -> Vec<MetricId> {
    let task_series = task_memory_series(clusters, tasks, watched);
    wanted_metrics_with(clusters, services, instances, nat_gateways, task_series)
}

/// [`wanted_metrics`] with the tasks' own series already worked out
/// ([`task_memory_series`]): the engine works those out at every evaluation, and the rest only
/// when they would differ.
pub fn wanted_metrics_with(
    clusters: &[&Cluster],
    services: &[&Service],
    instances: &[&Instance],
    nat_gateways: &[(&str, &NatGateway)],
    task_series: Vec<MetricId>,
) -> Vec<MetricId> {
    let mut out = Vec::new();
    for c in clusters {
        out.push(cat::cluster_cpu_reserved(c));
        out.push(cat::cluster_memory_reserved(c));
    }
    // In the order first met (the wanted list is compared between evaluations), each once: a
    // set beside the list, as 2,000 services behind 1,000 load balancers would otherwise
    // compare names two million times.
    let mut load_balancers: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    for s in services.iter().filter(|s| s.status != "INACTIVE") {
        out.push(cat::service_cpu(s));
        out.push(cat::service_memory(s));
        out.push(cat::service_memory_max(s));
        for (tg, lb) in &s.target_group_lbs {
            out.extend(
                [
                    cat::target_group_healthy(tg, lb),
                    cat::target_group_unhealthy(tg, lb),
                    cat::target_group_requests(tg, lb),
                    cat::target_group_5xx(tg, lb),
                    cat::target_group_response_time_p95(tg, lb),
                    cat::target_group_connection_errors(tg, lb),
                ]
                .into_iter()
                .flatten(),
            );
            if seen.insert(lb.as_str()) {
                load_balancers.push(lb);
            }
        }
    }
    for lb in load_balancers {
        out.extend(
            [
                cat::load_balancer_requests(lb),
                cat::load_balancer_5xx(lb, None),
                cat::load_balancer_5xx(lb, Some(502)),
                cat::load_balancer_5xx(lb, Some(503)),
                cat::load_balancer_5xx(lb, Some(504)),
            ]
            .into_iter()
            .flatten(),
        );
    }
    for i in instances.iter().filter(|i| i.status != "INACTIVE") {
        out.push(cat::instance_cpu(i));
        out.extend(cat::instance_credits(i));
        if i.credit_mode == crate::model::CreditMode::Unlimited {
            out.extend(cat::instance_surplus_charged(i));
        }
        out.push(cat::instance_status_check(i));
    }
    for (_, g) in nat_gateways {
        out.extend(cat::nat_gateway(&g.id));
    }
    out.extend(task_series);
    let mut seen = HashSet::new();
    out.retain(|m| seen.insert(m.clone()));
    out
}

/// The tasks whose own memory series the rules ask for: those on screen, and those of a
/// finding (named by it, or of a service a finding names: the memory and JVM rules quote a
/// troubled service's tasks' memory). The others are judged by their service's series
/// (100,000 tasks' series would not fit in memory).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watched {
    /// Task ARNs.
    pub tasks: HashSet<String>,
    /// (cluster, service).
    pub services: HashSet<(String, String)>,
}

impl Watched {
    /// Whether a task is watched: named, or of a watched service. The sets are borrowed, so
    /// that 80,000 tasks are looked up without a copy of their names each.
    pub fn picker(&self) -> impl Fn(&Task) -> bool + '_ {
        let of_service = self.service_picker();
        let arns: FastSet<&str> = self.tasks.iter().map(String::as_str).collect();
        move |t: &Task| arns.contains(t.arn.as_str()) || of_service(t)
    }

    /// Whether a task is of a watched service: what every copy of a task shares, so copies
    /// from several answers are picked alike.
    pub fn service_picker(&self) -> impl Fn(&Task) -> bool + '_ {
        let services: FastSet<(&str, &str)> = self
            .services
            .iter()
            .map(|(c, s)| (c.as_str(), s.as_str()))
            .collect();
        move |t: &Task| {
            !services.is_empty()
                && t.service_name()
                    .is_some_and(|s| services.contains(&(cat::cluster_of(&t.cluster_arn), s)))
        }
    }
}

/// Running tasks of enhanced clusters that someone watches ([`Watched`]), taken in turn from
/// each service (then standalone tasks) up to the cap. `tasks` may hold others besides (the
/// engine hands it only the watched ones, `Fleet::picked_tasks_since`).
pub fn task_memory_series<'a>(
    clusters: &[&Cluster],
    tasks: &[&'a Task],
    watched: &Watched,
) -> Vec<MetricId> {
    let enhanced: FastSet<&str> = clusters
        .iter()
        .filter(|c| c.container_insights == Insights::Enhanced)
        .map(|c| c.name.as_str())
        .collect();
    let watches = watched.picker();
    // The tasks come cluster by cluster.
    let mut last: Option<(&str, bool)> = None;
    let mut in_enhanced = |cluster: &'a str| match last {
        Some((c, yes)) if c == cluster => yes,
        _ => {
            let yes = enhanced.contains(cluster);
            last = Some((cluster, yes));
            yes
        }
    };
    let mut groups: BTreeMap<(&str, &str), Vec<&Task>> = BTreeMap::new();
    for &t in tasks {
        if t.last_status != "RUNNING" {
            continue;
        }
        let cluster = cat::cluster_of(&t.cluster_arn);
        if in_enhanced(cluster) && watches(t) {
            groups
                .entry((cluster, t.group.as_str()))
                .or_default()
                .push(t);
        }
    }
    let mut queues: Vec<std::vec::IntoIter<&Task>> =
        groups.into_values().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    while out.len() < MAX_TASK_SERIES {
        let before = out.len();
        for q in &mut queues {
            if out.len() >= MAX_TASK_SERIES {
                break;
            }
            if let Some(t) = q.next() {
                out.push(cat::task_memory(t));
            }
        }
        if out.len() == before {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn every_rule_is_registered_once() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), 20);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 20);
    }

    #[test]
    fn correlations_read_the_tags_the_rules_write() {
        use super::super::correlations::tag;
        assert_eq!(
            tag::CPU_BOUND,
            format!("→ {}", target_response_time_spike::CPU_BOUND)
        );
        assert_eq!(
            tag::HOST_BOUND,
            format!("→ {}", service_cpu_saturated::HOST_BOUND)
        );
        assert_eq!(
            tag::TASK_BOUND,
            format!("→ {}", service_cpu_saturated::TASK_BOUND)
        );
        assert!(target_unhealthy::ALL_AT_ONCE.starts_with(tag::ALL_AT_ONCE));
        assert!(target_unhealthy::YOUNG.starts_with(tag::SLOW_START));
        assert!(target_unhealthy::SOME.contains(tag::STARVATION));
        assert_eq!(tag::SAWTOOTH, memory_leak_trend::SAWTOOTH);
        assert_eq!(
            tag::DEPENDENCY_BOUND,
            format!("→ {}", target_response_time_spike::DEPENDENCY_BOUND)
        );
        assert_eq!(
            super::super::correlations::rule::NAT_SATURATION,
            nat_connection_saturation::ID
        );
        assert_eq!(
            super::super::correlations::rule::NAT_DROPS,
            nat_drops_and_port_errors::ID
        );
    }

    #[test]
    fn wanted_metrics_cover_what_the_rules_read() {
        let c = cluster(Insights::Enhanced);
        let s = service("web", 2);
        let t3 = instance(1, "t3.medium");
        let m5 = instance(2, "m5.large");
        let tasks = [task("web", 1, 60), task("web", 2, 60)];
        let task_refs: Vec<&Task> = tasks.iter().collect();
        let g = nat(1);
        let watched = Watched {
            tasks: [tasks[0].arn.to_string()].into(),
            ..Watched::default()
        };
        let wanted = wanted_metrics(
            &[&c],
            &[&s],
            &[&t3, &m5],
            &task_refs,
            &[("prod", &g)],
            &watched,
        );
        let names: Vec<String> = wanted
            .iter()
            .map(|m| format!("{} {} {:?}", m.namespace, m.name, m.stat))
            .collect();
        // 2 cluster + 3 service + 6 target group + 5 load balancer + (3 + 2) instance + 1 task
        // (the one watched) + 6 NAT gateway.
        assert_eq!(wanted.len(), 28, "{names:#?}");
        assert!(
            !wanted.contains(&cat::task_memory(&tasks[1])),
            "not watched"
        );
        for expected in [
            cat::service_memory_max(&s),
            cat::target_group_response_time_p95(TG, LB).unwrap(),
            cat::load_balancer_5xx(LB, Some(504)).unwrap(),
            cat::instance_credits(&t3).unwrap(),
            cat::instance_status_check(&m5),
            cat::task_memory(&tasks[0]),
            cat::nat_active_connections(NAT_A),
            cat::nat_port_allocation_errors(NAT_A),
        ] {
            assert!(wanted.contains(&expected), "{expected:?} missing");
        }
        // The rows' own series are the same keys (one poll serves both).
        for m in cat::service_targets(&s) {
            assert!(wanted.contains(&m), "{m:?}");
        }
    }

    #[test]
    fn per_task_series_only_for_watched_tasks() {
        let c = cluster(Insights::Enhanced);
        let tasks: Vec<Task> = (0..5).map(|n| task("web", n, 60)).collect();
        let refs: Vec<&Task> = tasks.iter().collect();
        let watched = Watched {
            tasks: [tasks[3].arn.to_string()].into(),
            ..Watched::default()
        };
        let series = task_memory_series(&[&c], &refs, &watched);
        assert_eq!(series, vec![cat::task_memory(&tasks[3])]);
        assert!(task_memory_series(&[&c], &refs, &Watched::default()).is_empty());
        let troubled = Watched {
            services: [("prod".to_string(), "web".to_string())].into(),
            ..Watched::default()
        };
        assert_eq!(task_memory_series(&[&c], &refs, &troubled).len(), 5);
    }

    #[test]
    fn per_task_series_only_for_enhanced_clusters_and_capped_fairly() {
        let c = cluster(Insights::On);
        let s = service("web", 2);
        let tasks = [task("web", 1, 60)];
        let refs: Vec<&Task> = tasks.iter().collect();
        let all = Watched {
            tasks: tasks.iter().map(|t| t.arn.to_string()).collect(),
            ..Watched::default()
        };
        let wanted = wanted_metrics(&[&c], &[&s], &[], &refs, &[], &all);
        assert!(!wanted.iter().any(|m| m.namespace == cat::INSIGHTS));

        let c = cluster(Insights::Enhanced);
        let many: Vec<Task> = (0..600).map(|n| task("big", n, 60)).collect();
        let few: Vec<Task> = (1000..1003).map(|n| task("small", n, 60)).collect();
        let refs: Vec<&Task> = many.iter().chain(&few).collect();
        let watched = Watched {
            tasks: refs.iter().map(|t| t.arn.to_string()).collect(),
            ..Watched::default()
        };
        let series = task_memory_series(&[&c], &refs, &watched);
        assert_eq!(series.len(), MAX_TASK_SERIES);
        for t in &few {
            assert!(
                series.contains(&cat::task_memory(t)),
                "small service left out"
            );
        }
    }
}
