//! What the triage engine needs polled beyond the panes, and how often: every cluster's
//! services and instances, stopped tasks of services that show stops, target health of services
//! in trouble, scaling bounds of busy ones, log lines of troubled ones, task definitions.
//! Decisions only: `update::triage` sends the requests and keeps their book.

use std::time::Duration;

use chrono::TimeDelta;

use crate::model::{Query, SeriesKey, Service, Severity, TaskScope, Time, metric_catalog};
use crate::state::State;

/// Fleet-wide polls for the engine (services, instances, stopped tasks).
pub const FLEET_EVERY: Duration = Duration::from_secs(30);
/// Stopped tasks vanish from ECS about an hour after they stop: poll at least every minute.
pub const STOPPED_EVERY: Duration = Duration::from_secs(60);
/// Running tasks of a whole cluster are polled for the engine only up to this many.
pub const CLUSTER_TASKS_MAX: u32 = 1_000;
/// Target health of a service in trouble.
pub const TARGET_HEALTH_EVERY: TimeDelta = TimeDelta::seconds(30);
/// Auto scaling bounds of a busy service.
pub const SCALING_EVERY: TimeDelta = TimeDelta::minutes(5);
/// A service in trouble has its latest log lines read this often (for the log rules)…
pub const LOG_SCAN_EVERY: TimeDelta = TimeDelta::seconds(60);
/// …and at most this many services at a time.
pub const LOG_SCANS_MAX: usize = 5;
/// A quiet service has its logs read this often: an access denial or a failing lookup shows
/// in the logs before anything else goes wrong…
pub const QUIET_LOG_SCAN_EVERY: TimeDelta = TimeDelta::minutes(5);
/// …one quiet service at a time, at most this often (a fleet of hundreds stays cheap).
pub const QUIET_LOG_SCAN_GAP: TimeDelta = TimeDelta::seconds(20);
/// A task definition that could not be read is asked for again after this long.
pub const TASK_DEFINITION_RETRY: TimeDelta = TimeDelta::minutes(5);
/// A burstable host's CPU credit mode (standard or unlimited) is read again this often: it
/// changes only when someone switches it.
pub const CREDIT_MODE_EVERY: Duration = Duration::from_secs(30 * 60);
/// The recommended ECS-optimized AMI and agent (public SSM parameters) are read again hourly.
pub const RECOMMENDED_AMI_EVERY: Duration = Duration::from_secs(60 * 60);
/// A host fact that could not be read (throttled, unreachable) is asked for again after this.
pub const RETRY_AFTER: Duration = Duration::from_secs(5 * 60);
/// The NAT gateways behind a cluster's subnets: routes rarely change, so every few minutes.
pub const EGRESS_EVERY: Duration = Duration::from_secs(300);
/// How far back a service's events count as "recent" when deciding what to poll.
pub const RECENT: TimeDelta = TimeDelta::minutes(30);

/// The fleet queries the engine needs beyond what the panes poll, at background cadences
/// (worked out once a clock tick by `update::triage::schedule`, not on every key), stretched while the
/// console is quiet (`poll::cadence::behind`).
pub fn wanted(state: &State) -> Vec<(Query, Duration)> {
    state
        .triage
        .wanted_queries
        .iter()
        .map(|(query, every)| (query.clone(), crate::poll::cadence::behind(state, *every)))
        .collect()
}

/// Every fleet query the engine needs, with its cadence, from what the console knows now.
pub fn fleet_queries(state: &State) -> Vec<(Query, Duration)> {
    let mut wanted = vec![(Query::Clusters, FLEET_EVERY)];
    let watched = |name: &str| state.only_cluster.as_deref().is_none_or(|c| c == name);
    for cluster in state.fleet.clusters() {
        if cluster.status == "INACTIVE" || !watched(&cluster.name) {
            continue;
        }
        let name = cluster.name.clone();
        wanted.push((
            Query::Services {
                cluster: name.clone(),
            },
            FLEET_EVERY,
        ));
        if cluster.instances > 0 {
            wanted.push((
                Query::Instances {
                    cluster: name.clone(),
                },
                FLEET_EVERY,
            ));
        }
        if cluster.running_tasks + cluster.pending_tasks <= CLUSTER_TASKS_MAX {
            let scope = TaskScope::Cluster {
                cluster: name.clone(),
            };
            wanted.push((
                Query::Tasks {
                    scope,
                    stopped: false,
                },
                FLEET_EVERY,
            ));
        }
        let services = state.fleet.services(&Query::Services {
            cluster: name.clone(),
        });
        if let Some(egress) = egress_query(state, &name, services) {
            wanted.push((egress, EGRESS_EVERY));
        }
        for service in services.iter().filter(|s| shows_stops(s, state.now)) {
            let scope = TaskScope::Service {
                cluster: name.clone(),
                service: service.name.clone(),
            };
            wanted.push((
                Query::Tasks {
                    scope: scope.clone(),
                    stopped: true,
                },
                STOPPED_EVERY,
            ));
            if cluster.running_tasks + cluster.pending_tasks > CLUSTER_TASKS_MAX {
                // Too many to poll the whole cluster: this service's tasks at least.
                wanted.push((
                    Query::Tasks {
                        scope,
                        stopped: false,
                    },
                    FLEET_EVERY,
                ));
            }
        }
    }
    wanted
}

/// The NAT gateways a cluster's traffic leaves through: asked for the subnets of its services
/// (awsvpc) and of its instances (bridge and host networking leave through the host's).
/// `None` while the console knows no subnet of the cluster.
pub fn egress_query(state: &State, cluster: &str, services: &[Service]) -> Option<Query> {
    let instances = state.fleet.instances(&Query::Instances {
        cluster: cluster.to_string(),
    });
    let mut subnets: Vec<String> = services
        .iter()
        .filter(|s| s.status != "INACTIVE")
        .flat_map(|s| s.subnets.iter().cloned())
        .chain(
            instances
                .iter()
                .filter(|i| i.status != "INACTIVE" && !i.subnet_id.is_empty())
                .map(|i| i.subnet_id.clone()),
        )
        .collect();
    subnets.sort();
    subnets.dedup();
    (!subnets.is_empty()).then(|| Query::Egress {
        cluster: cluster.to_string(),
        subnets,
    })
}

/// Whether a service shows signs of tasks stopping: fewer running than desired, tasks pending,
/// a deployment with failed tasks or still rolling, or recent events about starting/stopping
/// tasks or failing health checks.
pub fn shows_stops(s: &Service, now: Time) -> bool {
    s.running < s.desired
        || s.pending > 0
        || s.deployments.len() > 1
        || s.deployments.iter().any(|d| {
            d.failed > 0 || d.rollout_state == "IN_PROGRESS" || d.rollout_state == "FAILED"
        })
        || s.events
            .iter()
            .take_while(|e| now - e.at <= RECENT)
            .any(|e| {
                let m = e.message.as_str();
                m.contains("has started")
                    || m.contains("has stopped")
                    || m.contains("unhealthy")
                    || m.contains("unable to place")
            })
}

/// (cluster, service) of every service with an active finding, for [`targets_in_question`]
/// (worked out once, not once a service: a big account has thousands).
pub fn services_with_findings(state: &State) -> std::collections::HashSet<(&str, &str)> {
    state
        .triage
        .all()
        .filter(|f| f.is_active())
        .filter_map(|f| Some((f.current.subject.cluster(), f.current.subject.service()?)))
        .collect()
}

/// Whether a service's load balancer targets are worth polling now (`troubled`: what
/// [`services_with_findings`] says).
pub fn targets_in_question(
    state: &State,
    s: &Service,
    troubled: &std::collections::HashSet<(&str, &str)>,
) -> bool {
    if s.target_group_arns.is_empty() {
        return false;
    }
    // The cheap questions first: 2,000 services are asked once a second.
    troubled.contains(&(metric_catalog::cluster_of(&s.cluster_arn), s.name.as_str()))
        || shows_stops(s, state.now)
        || metric_catalog::service_unhealthy_targets(s)
            .into_iter()
            .any(|m| {
                state
                    .metrics
                    .get(&SeriesKey {
                        metric: m,
                        period: crate::triage::input::PERIOD,
                    })
                    .and_then(|h| h.latest())
                    .is_some_and(|p| p.value > 0.0)
            })
}

/// The target-health view polls this service already (its answers feed the engine too).
pub fn target_health_open(state: &State, service_arn: &str) -> bool {
    state
        .popups
        .iter()
        .any(|p| matches!(p, crate::state::Popup::TargetHealth(v) if v.service_arn == service_arn))
}

/// Whether a service is busy enough for its auto scaling bounds to matter (CPU at 80 % or more).
pub fn wants_scaling_bounds(state: &State, s: &Service) -> bool {
    state
        .metrics
        .get(&SeriesKey {
            metric: metric_catalog::service_cpu(s),
            period: crate::triage::input::PERIOD,
        })
        .and_then(|h| h.latest())
        .is_some_and(|p| p.value >= 80.0)
}

/// Services whose logs the log rules should read: those with active findings or recent stops,
/// the most severe first (each once).
pub fn log_scan_candidates(state: &State) -> Vec<(String, String)> {
    let now = state.now;
    let mut troubled: Vec<(Severity, String, String)> = Vec::new();
    for f in state.triage.active() {
        if let Some(service) = f.current.subject.service() {
            let key = (f.current.subject.cluster().to_string(), service.to_string());
            if !troubled.iter().any(|(_, c, s)| (c, s) == (&key.0, &key.1)) {
                troubled.push((f.severity(), key.0, key.1));
            }
        }
    }
    for task in state.triage.stops.values() {
        let recent = task
            .stopped_at
            .is_some_and(|at| now - at <= TimeDelta::minutes(15));
        if let (true, Some(service)) = (recent, task.service_name()) {
            let cluster = metric_catalog::cluster_of(&task.cluster_arn);
            if !troubled
                .iter()
                .any(|(_, c, s)| c == cluster && s == service)
            {
                troubled.push((Severity::Info, cluster.into(), service.into()));
            }
        }
    }
    troubled.sort_by_key(|t| std::cmp::Reverse(t.0));
    troubled.into_iter().map(|(_, c, s)| (c, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Deployment, ServiceEvent};

    fn now() -> Time {
        Time::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn steady() -> Service {
        Service {
            desired: 2,
            running: 2,
            deployments: vec![Deployment {
                rollout_state: "COMPLETED".into(),
                ..Deployment::default()
            }],
            ..Service::default()
        }
    }

    fn with_event(minutes_ago: i64, message: &str) -> Service {
        let mut s = steady();
        s.events.push(ServiceEvent {
            id: "1".into(),
            at: now() - TimeDelta::minutes(minutes_ago),
            message: message.into(),
        });
        s
    }

    #[test]
    fn only_the_watched_cluster_is_polled_beyond_the_clusters_list() {
        let refresh = crate::config::Config::defaults().refresh;
        let mut state = State::new(Default::default(), now(), refresh, (120, 40));
        let cluster = |name: &str| crate::model::Cluster {
            name: name.into(),
            status: "ACTIVE".into(),
            instances: 2,
            running_tasks: 3,
            ..Default::default()
        };
        let clusters = vec![cluster("prod"), cluster("staging")];
        state.fleet.apply(
            Query::Clusters,
            1,
            now(),
            Ok(crate::model::Snapshot::Clusters(clusters)),
        );
        let named = |state: &State| -> Vec<String> {
            fleet_queries(state)
                .into_iter()
                .map(|(q, _)| format!("{q:?}"))
                .collect()
        };
        let every = named(&state);
        assert!(every.iter().any(|q| q.contains("staging")), "{every:?}");
        state.only_cluster = Some("prod".into());
        let only = named(&state);
        assert!(only.iter().any(|q| q.contains("prod")), "{only:?}");
        assert!(!only.iter().any(|q| q.contains("staging")), "{only:?}");
        assert!(only.contains(&format!("{:?}", Query::Clusters)));
    }

    #[test]
    fn a_steady_service_shows_no_stops() {
        assert!(!shows_stops(&steady(), now()));
    }

    #[test]
    fn missing_tasks_or_a_rolling_deployment_show_stops() {
        let mut short = steady();
        short.running = 1;
        assert!(shows_stops(&short, now()));
        let mut rolling = steady();
        rolling.deployments[0].rollout_state = "IN_PROGRESS".into();
        assert!(shows_stops(&rolling, now()));
    }

    #[test]
    fn only_recent_stop_events_count() {
        let event = "(service web) has stopped 1 running tasks: (task 0123).";
        assert!(shows_stops(&with_event(5, event), now()));
        assert!(
            !shows_stops(&with_event(45, event), now()),
            "older than 30 min"
        );
        assert!(!shows_stops(
            &with_event(5, "(service web) has reached a steady state."),
            now()
        ));
    }

    #[test]
    fn egress_is_asked_for_the_subnets_of_services_and_instances_once_each() {
        use crate::model::{Instance, Snapshot};
        let refresh = crate::config::Config::defaults().refresh;
        let mut state = State::new(Default::default(), now(), refresh, (120, 40));
        let services = |subnets: &[&str]| Service {
            subnets: subnets.iter().map(|s| s.to_string()).collect(),
            ..steady()
        };
        assert_eq!(egress_query(&state, "prod", &[services(&[])]), None);
        let instances = Query::Instances {
            cluster: "prod".into(),
        };
        let host = |subnet: &str, status: &str| Instance {
            arn: format!("arn:aws:ecs:r:1:container-instance/prod/{subnet}"),
            loading: false,
            described_at: None,
            cluster_arn: "arn:aws:ecs:r:1:cluster/prod".into(),
            ec2_instance_id: "i-1".into(),
            instance_type: "m5.large".into(),
            availability_zone: "a".into(),
            subnet_id: subnet.into(),
            status: status.into(),
            agent_connected: true,
            agent_version: String::new(),
            running_tasks: 0,
            pending_tasks: 0,
            cpu_registered: 0,
            cpu_remaining: 0,
            memory_registered: 0,
            memory_remaining: 0,
            launched_at: None,
            registered_at: None,
            credit_mode: Default::default(),
            image_id: String::new(),
            image_created_at: None,
            recommended: None,
        };
        state.fleet.apply(
            instances,
            1,
            now(),
            Ok(Snapshot::Instances(vec![
                host("subnet-c", "ACTIVE"),
                host("subnet-gone", "INACTIVE"),
            ])),
        );
        let asked = egress_query(
            &state,
            "prod",
            &[services(&["subnet-b", "subnet-a"]), services(&["subnet-a"])],
        );
        assert_eq!(
            asked,
            Some(Query::Egress {
                cluster: "prod".into(),
                subnets: vec!["subnet-a".into(), "subnet-b".into(), "subnet-c".into()],
            })
        );
    }
}
