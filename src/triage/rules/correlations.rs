//! The catalog's correlations: member findings that together make one diagnosis, reported as
//! a parent observation per service (rule id = the correlation's name; evidence names the
//! members). Run after the rules over their observations.
//!
//! Implemented: cpu-starved-latency, burstable-throttle, memory-leak-lifecycle, oom-under-load,
//! noisy-neighbour-oom, health-check-cycling, network-path-outage, scale-out-blocked-by-capacity,
//! stuck-rollout-by-drain, egress-bottleneck.
//!
//! Each correlation is registered in [`CORRELATIONS`] with its members and catalog entry; only
//! registered correlations run.
//!
//! Members are matched by rule id, and some by the tag a rule writes into its message
//! (`cpu-bound`, `all targets at once`, `sawtooth`); the metric rules' tests check those tags.
//! A parent takes the highest severity of its members, the earliest `since`, and the longest
//! `hold`, so it does not open before its slowest member would.

use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::about::{About, Read, Value, WARNING_CRITICAL, limit};
use crate::model::{
    Evidence, Observation, Remedy, Service, Severity, Subject, Task, TaskDefinition,
};
use crate::triage::Input;
use crate::triage::input::service_subject;

pub const CPU_STARVED_LATENCY: &str = "cpu-starved-latency";
pub const BURSTABLE_THROTTLE: &str = "burstable-throttle";
pub const MEMORY_LEAK_LIFECYCLE: &str = "memory-leak-lifecycle";
pub const OOM_UNDER_LOAD: &str = "oom-under-load";
pub const NOISY_NEIGHBOUR_OOM: &str = "noisy-neighbour-oom";
pub const HEALTH_CHECK_CYCLING: &str = "health-check-cycling";
pub const NETWORK_PATH_OUTAGE: &str = "network-path-outage";
pub const SCALE_OUT_BLOCKED: &str = "scale-out-blocked-by-capacity";
pub const STUCK_ROLLOUT_BY_DRAIN: &str = "stuck-rollout-by-drain";
pub const EGRESS_BOTTLENECK: &str = "egress-bottleneck";

/// Member rules (ids from the catalog; some are the ECS-state rules').
pub(super) mod rule {
    pub const RESPONSE_TIME: &str = "target-response-time-spike";
    pub const CPU_SATURATED: &str = "service-cpu-saturated";
    pub const AT_MAX: &str = "autoscaling-at-max-capacity";
    pub const HOTSPOT: &str = "instance-placement-hotspot";
    pub const CREDITS: &str = "cpu-credits-exhausted";
    pub const PLATEAU: &str = "cpu-baseline-plateau";
    pub const LEAK: &str = "memory-leak-trend";
    pub const JVM: &str = "log-jvm-memory-pressure";
    pub const OOM: &str = "task-oom-killed";
    pub const SOFT_LIMIT: &str = "memory-over-soft-limit";
    pub const ALB_5XX: &str = "alb-5xx-spike";
    pub const ELB_KILLS: &str = "tasks-failing-elb-health-checks";
    pub const CODE_MISMATCH: &str = "target-unhealthy-response-code-mismatch";
    pub const TIMEOUT: &str = "target-unhealthy-timeout";
    pub const REFUSED: &str = "target-unhealthy-failed-health-checks";
    pub const GRACE: &str = "health-check-grace-too-short";
    pub const FLAPPING: &str = "healthy-host-count-flapping";
    pub const AZ: &str = "target-az-not-enabled";
    pub const UNDER_REPLICATED: &str = "service-under-replicated";
    pub const NO_RESOURCES: &str = "placement-insufficient-resources";
    pub const CONSTRAINT: &str = "placement-constraint-unsatisfied";
    pub const RESERVATION: &str = "cluster-reservation-high";
    pub const DEPLOY_STUCK: &str = "deployment-stuck-in-progress";
    pub const DRAIN: &str = "elb-deregistration-timeout";
    pub const SCALE_IN: &str = "scale-in-suspended";
    pub const NAT_SATURATION: &str = "nat-connection-saturation";
    pub const NAT_DROPS: &str = "nat-drops-and-port-errors";
}

/// Tags the member rules write into their messages.
pub mod tag {
    pub const CPU_BOUND: &str = "→ cpu-bound";
    pub const HOST_BOUND: &str = "→ host-bound";
    pub const TASK_BOUND: &str = "→ task-bound";
    pub const ALL_AT_ONCE: &str = "all targets at once";
    pub const SLOW_START: &str = "only young targets";
    pub const STARVATION: &str = "app starvation";
    pub const SAWTOOTH: &str = "sawtooth";
    pub const DEPENDENCY_BOUND: &str = "→ dependency-bound";
}

/// Log lines that say an outbound call timed out (case-insensitive fragments): the app's side
/// of an exhausted NAT gateway.
const EGRESS_TIMEOUTS: [&str; 7] = [
    "connect timed out",
    "sockettimeoutexception",
    "connecttimeoutexception",
    "read timed out",
    "connection timed out",
    "i/o timeout",
    "context deadline exceeded",
];
/// How far back those lines count.
const EGRESS_LOG_WINDOW: TimeDelta = TimeDelta::minutes(15);

/// Simultaneous OOM kills: at least this many within this span, lately (our defaults).
const OOM_KILLS: usize = 2;
const OOM_SPAN: TimeDelta = TimeDelta::minutes(5);
const OOM_RECENT: TimeDelta = TimeDelta::minutes(15);
/// Requests rising: the last 10 minutes ≥ 1.2× the 20 before (our default); a surge ≥ 1.5×.
const RISING: f64 = 1.2;
const SURGE: f64 = 1.5;
/// A deployment this recent can be the start of a leak.
const REGRESSION_WINDOW: TimeDelta = TimeDelta::hours(24);
/// The hour before a deployment tells whether the previous revision's memory was flat: a rise
/// under 5 % of its level from the first to the last third, over at least 30 minutes of points
/// (our defaults).
const FLAT_WINDOW: TimeDelta = TimeDelta::hours(1);
const FLAT_RISE: f64 = 0.05;
const FLAT_MIN_POINTS: usize = 30;
/// A killed task's own memory is read over this span before its stop (Container Insights
/// publishes a point a minute; the peak of the last five must stay under the reservation).
const BEFORE_KILL: TimeDelta = TimeDelta::minutes(5);
/// Service CPU below this is "idle" for the network-path diagnosis.
const IDLE_CPU: f64 = 50.0;

/// A correlation: member findings that together make one diagnosis.
pub struct Correlation {
    /// The catalog's name, the parent finding's rule id.
    pub id: &'static str,
    /// The rules whose findings it combines (some matched by a tag in their message).
    pub members: &'static [&'static str],
    pub about: About,
    find: fn(&View) -> Option<Observation>,
}

/// Every correlation, in the order they are evaluated.
pub static CORRELATIONS: &[Correlation] = &[
    Correlation {
        id: CPU_STARVED_LATENCY,
        members: &[
            rule::RESPONSE_TIME,
            rule::CPU_SATURATED,
            rule::AT_MAX,
            rule::HOTSPOT,
        ],
        about: About {
            summary: "Latency up (cpu-bound) while the service's CPU is saturated and requests rise: not enough CPU for the load.",
            severities: WARNING_CRITICAL,
            reads: &[Read::Metric(
                "AWS/ApplicationELB RequestCount Sum, per target group (the trend)",
            )],
            limits: &[limit(
                "requests rising: last 10 min ≥ the 20 before ×",
                Value::Factor(RISING),
            )],
        },
        find: cpu_starved_latency,
    },
    Correlation {
        id: BURSTABLE_THROTTLE,
        members: &[
            rule::CPU_SATURATED,
            rule::CREDITS,
            rule::PLATEAU,
            rule::RESPONSE_TIME,
        ],
        about: About {
            summary: "The service's CPU saturation is its burstable hosts being throttled at baseline, not the app.",
            severities: WARNING_CRITICAL,
            reads: &[],
            limits: &[],
        },
        find: burstable_throttle,
    },
    Correlation {
        id: MEMORY_LEAK_LIFECYCLE,
        members: &[rule::LEAK, rule::JVM, rule::OOM],
        about: About {
            summary: "A leak's whole cycle: memory climbs, GC pressure, OOM kill, the replacement climbs again; names the deployment it started with only when memory was flat before it.",
            severities: WARNING_CRITICAL,
            reads: &[
                Read::Api("ECS DescribeServices: the PRIMARY deployment's createdAt and revision"),
                Read::Metric(
                    "AWS/ECS MemoryUtilization Average, per service, the hour before the deployment",
                ),
            ],
            limits: &[limit(
                "a deployment this recent can be the start of the leak",
                Value::Span(REGRESSION_WINDOW),
            )],
        },
        find: memory_leak_lifecycle,
    },
    Correlation {
        id: OOM_UNDER_LOAD,
        members: &[rule::OOM, rule::AT_MAX, rule::ALB_5XX, rule::JVM],
        about: About {
            summary: "Several tasks OOM-killed together during a surge or scale-out with no slow climb before: the limit is too small for peak load.",
            severities: WARNING_CRITICAL,
            reads: &[
                Read::Metric("AWS/ApplicationELB RequestCount Sum, per target group (the surge)"),
                Read::Api("ECS DescribeServices: events \"has started\""),
            ],
            limits: &[
                limit("kills ≥", Value::Count(OOM_KILLS)),
                limit("within", Value::Span(OOM_SPAN)),
                limit("in the last", Value::Span(OOM_RECENT)),
                limit("surge: requests ×", Value::Factor(SURGE)),
            ],
        },
        find: oom_under_load,
    },
    Correlation {
        id: NOISY_NEIGHBOUR_OOM,
        members: &[rule::OOM, rule::SOFT_LIMIT],
        about: About {
            summary: "A task OOM-killed while under its own memory reservation, on a host where another service runs over its soft limit: the host ran out of memory and the kernel killed the wrong container.",
            severities: WARNING_CRITICAL,
            reads: &[
                Read::Metric(
                    "ECS/ContainerInsights MemoryUtilized, per task (kept with the stop: its peak before the kill)",
                ),
                Read::Api("ECS DescribeTaskDefinition: memoryReservation, memory"),
                Read::Api(
                    "ECS DescribeTasks: containerInstanceArn of the killed task and its neighbours",
                ),
            ],
            limits: &[limit(
                "the killed task's peak under its reservation over the last",
                Value::Span(BEFORE_KILL),
            )],
        },
        find: noisy_neighbour_oom,
    },
    Correlation {
        id: HEALTH_CHECK_CYCLING,
        members: &[
            rule::ELB_KILLS,
            rule::CODE_MISMATCH,
            rule::TIMEOUT,
            rule::GRACE,
            rule::REFUSED,
            rule::CPU_SATURATED,
        ],
        about: About {
            summary: "Tasks cycle on failing ELB health checks, with the reason: wrong path, network, slow start, starvation or refused.",
            severities: WARNING_CRITICAL,
            reads: &[],
            limits: &[],
        },
        find: health_check_cycling,
    },
    Correlation {
        id: NETWORK_PATH_OUTAGE,
        members: &[
            rule::TIMEOUT,
            rule::FLAPPING,
            rule::ALB_5XX,
            rule::ELB_KILLS,
            rule::AZ,
        ],
        about: About {
            summary: "Every target times out at once while the tasks run idle: the load balancer cannot reach them.",
            severities: WARNING_CRITICAL,
            reads: &[Read::Metric("AWS/ECS CPUUtilization Average, per service")],
            limits: &[limit("service CPU <", Value::Percent(IDLE_CPU))],
        },
        find: network_path_outage,
    },
    Correlation {
        id: SCALE_OUT_BLOCKED,
        members: &[
            rule::UNDER_REPLICATED,
            rule::NO_RESOURCES,
            rule::CONSTRAINT,
            rule::RESERVATION,
        ],
        about: About {
            summary: "The service cannot reach its desired count because no instance can place its tasks: the cluster is short.",
            severities: WARNING_CRITICAL,
            reads: &[],
            limits: &[],
        },
        find: scale_out_blocked,
    },
    Correlation {
        id: STUCK_ROLLOUT_BY_DRAIN,
        members: &[
            rule::DEPLOY_STUCK,
            rule::DRAIN,
            rule::ELB_KILLS,
            rule::GRACE,
            rule::CODE_MISMATCH,
            rule::TIMEOUT,
            rule::REFUSED,
            rule::SCALE_IN,
        ],
        about: About {
            summary: "A rollout stuck on two faults: old tasks drain for the whole delay and new tasks fail their health checks.",
            severities: WARNING_CRITICAL,
            reads: &[],
            limits: &[],
        },
        find: stuck_rollout_by_drain,
    },
    Correlation {
        id: EGRESS_BOTTLENECK,
        members: &[
            rule::NAT_SATURATION,
            rule::NAT_DROPS,
            rule::RESPONSE_TIME,
            rule::ALB_5XX,
        ],
        about: About {
            summary: "A service's outbound connections run out at the NAT gateway its subnets route through: a NAT finding on that gateway with slow dependency-bound responses, 5xx or outbound timeouts in its logs, while its CPU is not saturated.",
            severities: WARNING_CRITICAL,
            reads: &[
                Read::Api(
                    "EC2 DescribeRouteTables and DescribeNatGateways: the NAT gateway of each service subnet's default route",
                ),
                Read::Log(
                    "connect timed out | SocketTimeoutException | ConnectTimeoutException | …",
                ),
            ],
            limits: &[limit(
                "outbound timeouts looked for over",
                Value::Span(EGRESS_LOG_WINDOW),
            )],
        },
        find: egress_bottleneck,
    },
];

pub fn correlate(observations: &[Observation], input: &Input) -> Vec<Observation> {
    let mut out = Vec::new();
    for &s in &input.services {
        let view = View {
            input,
            s,
            all: observations,
        };
        out.extend(CORRELATIONS.iter().filter_map(|c| (c.find)(&view)));
    }
    out
}

/// The observations as seen from one service.
struct View<'a, 'i> {
    input: &'a Input<'i>,
    s: &'a Service,
    all: &'a [Observation],
}

impl<'a> View<'a, '_> {
    fn cluster(&self) -> &str {
        Input::cluster_name(&self.s.cluster_arn)
    }

    /// The service's (or its tasks', containers', target groups') observations of `rule`.
    fn of(&self, rule: &str) -> Vec<&'a Observation> {
        self.all
            .iter()
            .filter(|o| {
                o.rule == rule
                    && o.subject.cluster() == self.cluster()
                    && o.subject.service() == Some(self.s.name.as_str())
            })
            .collect()
    }

    fn of_any(&self, rules: &[&str]) -> Vec<&'a Observation> {
        rules.iter().flat_map(|r| self.of(r)).collect()
    }

    /// Observations of `rule` about instances that host the service's running tasks.
    fn on_hosts(&self, rule: &str) -> Vec<&'a Observation> {
        let hosts: Vec<&str> = self
            .input
            .tasks_of(self.s)
            .filter_map(|t| t.container_instance_arn.as_deref())
            .collect();
        self.all
            .iter()
            .filter(|o| {
                o.rule == rule
                    && matches!(&o.subject, Subject::Instance { instance_arn, .. }
                        if hosts.contains(&instance_arn.as_str()))
            })
            .collect()
    }

    /// Observations of `rule` about the service's cluster as a whole.
    fn on_cluster(&self, rule: &str) -> Vec<&'a Observation> {
        self.all
            .iter()
            .filter(|o| {
                o.rule == rule
                    && matches!(&o.subject, Subject::Cluster { cluster } if cluster == self.cluster())
            })
            .collect()
    }

    /// Requests a minute over the service's target groups: (the 20 minutes before, the last
    /// 10), when polled.
    fn requests(&self) -> Option<(f64, f64)> {
        let (mut before, mut recent) = (Vec::new(), Vec::new());
        let cut = self.input.now - TimeDelta::minutes(10);
        for (tg, lb) in &self.s.target_group_lbs {
            let Some(m) = crate::model::metric_catalog::target_group_requests(tg, lb) else {
                continue;
            };
            for p in self.input.window(&m, 30) {
                if p.at < cut {
                    before.push(p.value);
                } else {
                    recent.push(p.value);
                }
            }
        }
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        Some((mean(&before)?, mean(&recent)?))
    }
}

/// Builds the parent observation.
fn parent(
    name: &'static str,
    view: &View,
    members: &[&Observation],
    message: String,
    next: &str,
    remedies: &[Remedy],
) -> Observation {
    let severity = members
        .iter()
        .map(|m| m.severity)
        .max()
        .unwrap_or(Severity::Warning);
    let mut o = Observation::new(name, severity, service_subject(view.s), message)
        .next(next)
        .remedies(remedies);
    let mut seen: Vec<(&str, &Subject, &str)> = Vec::new();
    for m in members {
        if seen.contains(&(m.rule, &m.subject, m.key.as_str())) {
            continue;
        }
        seen.push((m.rule, &m.subject, m.key.as_str()));
        o = o.evidence(Evidence {
            at: m.since,
            text: format!(
                "member {} ({}, {}): {}",
                m.rule,
                m.severity.label(),
                m.subject.label(),
                m.message
            ),
        });
    }
    o.since = members.iter().filter_map(|m| m.since).min();
    o.hold = members.iter().filter_map(|m| m.hold).max();
    o
}

fn cpu_starved_latency(v: &View) -> Option<Observation> {
    let slow: Vec<_> = v
        .of(rule::RESPONSE_TIME)
        .into_iter()
        .filter(|o| o.message.contains(tag::CPU_BOUND))
        .collect();
    let saturated = v.of(rule::CPU_SATURATED);
    if slow.is_empty() || saturated.is_empty() {
        return None;
    }
    // Load rising before it, when the requests are polled.
    let load = match v.requests() {
        Some((before, recent)) if recent >= RISING * before => {
            format!("; requests rose {before:.0}→{recent:.0}/min")
        }
        Some(_) => return None,
        None => "; request trend not polled".to_string(),
    };
    let at_max = v.of(rule::AT_MAX);
    let hotspots = v.on_hosts(rule::HOTSPOT);
    let class = &saturated[0].message;
    let (diagnosis, fix) = if !hotspots.is_empty() {
        (
            "one host is hot while others idle",
            "Rebalance: drain the hot instance or redeploy so tasks spread, then scale the \
             service.",
        )
    } else if class.contains(tag::HOST_BOUND) {
        (
            "every host is busy: the cluster is saturated",
            "Scale the service now and add instances as well as tasks; have scaling fire at a \
             lower threshold or in larger steps.",
        )
    } else if class.contains(tag::TASK_BOUND) {
        (
            "hosts are idle: the task's own CPU units are the cap",
            "Raise the task's CPU units (new revision, then redeploy), and scale the service \
             now; have scaling fire earlier.",
        )
    } else {
        (
            "hosts are moderately busy",
            "Scale the service now; add instances if they fill up; have scaling fire at a lower \
             threshold or in larger steps.",
        )
    };
    let max = if at_max.is_empty() {
        ""
    } else {
        "; autoscaling is at its maximum"
    };
    let mut members = slow;
    members.extend(saturated.iter().copied());
    members.extend(at_max);
    members.extend(hotspots);
    Some(parent(
        CPU_STARVED_LATENCY,
        v,
        &members,
        format!(
            "{}: not enough CPU for the load — latency up while CPU is saturated; {diagnosis}{load}{max}",
            v.s.name
        ),
        fix,
        &[Remedy::Scale, Remedy::Chart, Remedy::Drain],
    ))
}

fn burstable_throttle(v: &View) -> Option<Observation> {
    let saturated = v.of(rule::CPU_SATURATED);
    // Before the hosts: looking them up walks the service's tasks.
    if saturated.is_empty() {
        return None;
    }
    let mut hosts = v.on_hosts(rule::CREDITS);
    hosts.extend(v.on_hosts(rule::PLATEAU));
    if hosts.is_empty() {
        return None;
    }
    let mut names: Vec<String> = hosts
        .iter()
        .filter_map(|o| match &o.subject {
            Subject::Instance {
                ec2_instance_id, ..
            } => Some(ec2_instance_id.clone()),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    let mut members = saturated;
    members.extend(hosts);
    members.extend(v.of(rule::RESPONSE_TIME));
    Some(parent(
        BURSTABLE_THROTTLE,
        v,
        &members,
        format!(
            "{}: host throttled — {} out of CPU credits, held at baseline; the service's CPU \
             saturation is the throttle, not the app",
            v.s.name,
            names.join(", ")
        ),
        "Adding tasks on the same T-class hosts does not help. Switch the instances to \
         unlimited credits now; move the service to M/C instances and drain the burstable ones.",
        &[Remedy::Drain, Remedy::Chart],
    ))
}

/// The task a task or container observation is about, running or stopped.
fn task_of<'i>(input: &Input<'i>, o: &Observation) -> Option<&'i Task> {
    let arn = match &o.subject {
        Subject::Task { task_arn, .. } | Subject::Container { task_arn, .. } => task_arn,
        _ => return None,
    };
    // Both lists come in ARN order (`Fleet::tasks_since`, the engine's stop history): a binary
    // search each, not a scan of a 60,000-task cluster per observation. A scan still finds
    // the task in a list that came in another order.
    let sorted = |list: &[&'i Task]| {
        list.binary_search_by(|t| t.arn.as_str().cmp(arn.as_str()))
            .ok()
            .map(|i| list[i])
    };
    sorted(&input.tasks)
        .or_else(|| sorted(&input.stopped))
        .or_else(|| {
            input
                .tasks
                .iter()
                .chain(&input.stopped)
                .copied()
                .find(|t| &t.arn == arn)
        })
}

fn memory_leak_lifecycle(v: &View) -> Option<Observation> {
    let leak = v.of(rule::LEAK);
    if leak.is_empty() {
        return None;
    }
    let sawtooth = leak.iter().any(|o| o.message.contains(tag::SAWTOOTH));
    let kills = v.of(rule::OOM);
    let gc = v.of(rule::JVM);
    // A climb that began with the current deployment: tasks of its revision, started after it.
    let regression = v.s.primary_deployment().filter(|d| {
        d.created_at.is_some_and(|at| {
            v.input.now - at <= REGRESSION_WINDOW
                && leak.iter().any(|o| {
                    task_of(v.input, o).is_some_and(|t| {
                        t.task_definition.arn == d.task_definition.arn
                            && t.started_at.is_some_and(|s| s >= at)
                    })
                })
        })
    });
    // Named a regression only when the revision before it held flat (the catalog's condition).
    let before =
        regression.and_then(|d| previous_revision_memory(v, d.created_at.unwrap_or(v.input.now)));
    if !sawtooth && kills.is_empty() && gc.is_empty() && regression.is_none() {
        return None;
    }
    let mut stages = vec!["memory climbs"];
    if !gc.is_empty() {
        stages.push("GC pressure / OutOfMemoryError");
    }
    if !kills.is_empty() || sawtooth {
        stages.push("OOM kill");
        stages.push("the replacement starts low and climbs again");
    }
    let (tag, fix) = match (regression, before) {
        (Some(d), Some(Before::Flat)) => (
            format!("; regression in {}", d.task_definition),
            format!(
                "The climb started with {}: roll back to the previous revision (the service's task definitions, rollback) \
                 while the leak is found. If the revisions differ only in code, the new code is \
                 the suspect. Raising the limit only stretches the time between kills.",
                d.task_definition
            ),
        ),
        (Some(d), Some(Before::Climbing)) => (
            format!("; climbed before {} too: not new in it", d.task_definition),
            "The revision before the current one climbed as well, so the leak predates the \
             last deployment: rolling back will not fix it. Raising the limit only stretches \
             the time between kills; roll tasks before the ETA (redeploy) to buy time, and \
             find the cause with [exec] (jmap -histo, a heap dump)."
                .to_string(),
        ),
        (Some(d), _) => (
            format!(
                "; began after {} was deployed (the previous revision's memory is not known)",
                d.task_definition
            ),
            format!(
                "The climb began after {} was deployed, but the console holds too little of \
                 the previous revision's memory to tell whether it leaked too: compare them in \
                 the metrics chart before rolling back. Raising the limit only stretches the \
                 time between kills.",
                d.task_definition
            ),
        ),
        (None, _) => (
            String::new(),
            "A leak, not load: raising the limit only stretches the time between kills. Roll \
             tasks before the ETA (redeploy) to buy time, and find the cause with [exec] \
             (jmap -histo, a heap dump)."
                .to_string(),
        ),
    };
    let mut members = leak;
    members.extend(gc);
    members.extend(kills);
    Some(parent(
        MEMORY_LEAK_LIFECYCLE,
        v,
        &members,
        format!("{}: memory leak — {}{tag}", v.s.name, stages.join(" → ")),
        &fix,
        &[
            Remedy::Chart,
            Remedy::Redeploy,
            Remedy::Exec,
            Remedy::OpenLogs,
        ],
    ))
}

/// What the service's memory did under the revision before the current deployment.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Before {
    Flat,
    Climbing,
}

/// The previous revision counts as flat when the service's memory over the hour before the
/// deployment (what the console holds of it) rose by less than [`FLAT_RISE`] of its level
/// between the first and last third of that hour; at least [`FLAT_MIN_POINTS`] minutes are
/// needed, else it is not known (`None`).
fn previous_revision_memory(v: &View, deployed_at: crate::model::Time) -> Option<Before> {
    let metric = crate::model::metric_catalog::service_memory(v.s);
    let points: Vec<f64> = v
        .input
        .series(&metric)?
        .since(deployed_at - FLAT_WINDOW)
        .take_while(|p| p.at < deployed_at)
        .map(|p| p.value)
        .collect();
    if points.len() < FLAT_MIN_POINTS {
        return None;
    }
    let third = points.len() / 3;
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let (first, last) = (
        mean(&points[..third]),
        mean(&points[points.len() - third..]),
    );
    Some(if last - first < FLAT_RISE * first.max(1.0) {
        Before::Flat
    } else {
        Before::Climbing
    })
}

/// ECS's start event: `(service web) has started 3 tasks: (task …) …`.
static STARTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"has started (\d+) tasks").expect("static regex"));

/// One kill the noisy-neighbour diagnosis holds for: the victim's peak before it, its
/// reservation, the host, and the neighbours' soft-limit observations there.
struct Victim<'a> {
    task: &'a Task,
    peak: f64,
    reserved: u32,
    host: String,
    neighbours: Vec<&'a Observation>,
}

fn noisy_neighbour_oom(v: &View) -> Option<Observation> {
    let kills = v.of(rule::OOM);
    let mut victims: Vec<(&Observation, Victim)> = kills
        .iter()
        .filter_map(|&kill| Some((kill, victim(v, kill)?)))
        .collect();
    if victims.is_empty() {
        return None;
    }
    victims.sort_by_key(|(_, victim)| std::cmp::Reverse(victim.task.stopped_at));
    let (_, first) = &victims[0];
    let mut neighbours: Vec<String> = victims
        .iter()
        .flat_map(|(_, victim)| &victim.neighbours)
        .filter_map(|o| o.subject.service().map(str::to_string))
        .collect();
    neighbours.sort();
    neighbours.dedup();
    let more = match victims.len() {
        1 => String::new(),
        n => format!(" ({n} such kills)"),
    };
    let message = format!(
        "{}: task {} was OOM-killed on {} at {:.0} MiB, under its own {} MiB reservation, while \
         {} {} over its memory reservation there{more} — the host ran out of memory and the \
         kernel killed the wrong container",
        v.s.name,
        first.task.short_id(),
        first.host,
        first.peak,
        first.reserved,
        neighbours.join(", "),
        if neighbours.len() == 1 { "runs" } else { "run" },
    );
    let next = format!(
        "{} is the victim: raising its limit will not help. Give {} a hard memory limit (memory) \
         at its peak plus headroom in a new revision and redeploy it; drain {} if it stays short \
         of memory.",
        v.s.name,
        neighbours.join(" and "),
        first.host
    );
    let mut members: Vec<&Observation> = Vec::new();
    for (kill, victim) in &victims {
        members.push(kill);
        members.extend(victim.neighbours.iter().copied());
    }
    let mut o = parent(
        NOISY_NEIGHBOUR_OOM,
        v,
        &members,
        message,
        &next,
        &[Remedy::Chart, Remedy::Redeploy, Remedy::Drain],
    );
    for (_, victim) in &victims {
        o = o.evidence(Evidence {
            at: victim.task.stopped_at,
            text: format!(
                "task {} peaked at {:.0} MiB in the {} before its stop; reserves {} MiB; on {}",
                victim.task.short_id(),
                victim.peak,
                super::state_rules::duration(BEFORE_KILL),
                victim.reserved,
                victim.host
            ),
        });
    }
    Some(o)
}

/// The kill is a neighbour's doing: the task's own memory stayed under its reservation up to
/// the stop, and another service over its soft limit runs tasks on the same host.
fn victim<'a>(v: &View<'a, '_>, kill: &Observation) -> Option<Victim<'a>> {
    let task = task_of(v.input, kill)?;
    let stopped_at = task.stopped_at.or(task.stopping_at)?;
    let host = task.container_instance_arn.as_deref()?;
    let reserved = v
        .input
        .task_definition(&task.task_definition.arn)
        .and_then(TaskDefinition::reserved_memory)
        .or(task.memory)?;
    let peak = v
        .input
        .task_memory(task)?
        .since(stopped_at - BEFORE_KILL)
        .take_while(|p| p.at <= stopped_at)
        .map(|p| p.value)
        .reduce(f64::max)?;
    if peak >= f64::from(reserved) {
        return None; // at its own limit: its own doing
    }
    let cluster = v.cluster();
    let neighbours: Vec<&Observation> = v
        .all
        .iter()
        .filter(|o| o.rule == rule::SOFT_LIMIT)
        .filter(|o| {
            matches!(&o.subject, Subject::Service { cluster: c, service }
            if c == cluster && *service != v.s.name
                && v.input.service(c, service).is_some_and(|b| {
                    v.input
                        .tasks_of(b)
                        .any(|t| t.container_instance_arn.as_deref() == Some(host))
                }))
        })
        .collect();
    if neighbours.is_empty() {
        return None;
    }
    let host_name = v
        .input
        .instances
        .iter()
        .find(|i| i.arn == host)
        .map(|i| i.ec2_instance_id.clone())
        .filter(|id| !id.is_empty())
        .or_else(|| task.ec2_instance_id.as_deref().map(str::to_string))
        .unwrap_or_else(|| crate::model::arn_tail(host).to_string());
    Some(Victim {
        task,
        peak,
        reserved,
        host: host_name,
        neighbours,
    })
}

fn oom_under_load(v: &View) -> Option<Observation> {
    if !v.of(rule::LEAK).is_empty() {
        return None; // a slow climb came first: that is the leak's story
    }
    let since = v.input.now - OOM_RECENT;
    let mut kills: Vec<(&Observation, crate::model::Time)> = v
        .of(rule::OOM)
        .into_iter()
        .filter_map(|o| {
            let at = task_of(v.input, o)
                .and_then(|t| t.stopped_at.or(t.stopping_at))
                .or(o.since)?;
            (at >= since).then_some((o, at))
        })
        .collect();
    kills.sort_by_key(|(_, at)| *at);
    // The largest group of kills within the span of each other.
    let (first, n) = (0..kills.len())
        .map(|i| {
            let n = kills[i..]
                .iter()
                .take_while(|(_, at)| *at - kills[i].1 <= OOM_SPAN)
                .count();
            (i, n)
        })
        .max_by_key(|(_, n)| *n)?;
    if n < OOM_KILLS {
        return None;
    }
    let together: Vec<&Observation> = kills[first..first + n].iter().map(|(o, _)| *o).collect();
    let span = kills[first + n - 1].1 - kills[first].1;
    let at_max = v.of(rule::AT_MAX);
    let surge = v
        .requests()
        .filter(|(before, recent)| *recent >= SURGE * *before);
    // ECS words replacements and scale-outs alike ("has started N tasks"): only tasks started
    // beyond the ones that stopped in the window were a scale-out.
    let started: u32 =
        v.s.events
            .iter()
            .filter(|e| e.at >= since)
            .filter_map(|e| STARTED.captures(&e.message)?[1].parse::<u32>().ok())
            .sum();
    let replaced = v.input.stops_of(v.s, since).len() as u32;
    let added = started.saturating_sub(replaced);
    let load = match surge {
        Some((before, recent)) => format!("a load surge (requests {before:.0}→{recent:.0}/min)"),
        None if !at_max.is_empty() => "scale-out to the maximum".to_string(),
        None if added >= 2 => format!("a scale-out ({added} tasks added)"),
        None => return None,
    };
    let mut members = together;
    members.extend(at_max);
    members.extend(v.of(rule::ALB_5XX));
    members.extend(v.of(rule::JVM));
    Some(parent(
        OOM_UNDER_LOAD,
        v,
        &members,
        format!(
            "{}: {n} tasks OOM-killed within {}s during {load}, with no slow climb before — the \
             memory limit (or heap) is too small for peak load, not a leak",
            v.s.name,
            span.num_seconds()
        ),
        "Raise the task memory and the heap together (new revision, then redeploy); still scan \
         for unbounded caches with a heap dump under load.",
        &[Remedy::Redeploy, Remedy::Chart, Remedy::OpenLogs],
    ))
}

fn health_check_cycling(v: &View) -> Option<Observation> {
    let kills = v.of(rule::ELB_KILLS);
    if kills.is_empty() {
        return None;
    }
    let mismatch = v.of(rule::CODE_MISMATCH);
    let timeout = v.of(rule::TIMEOUT);
    let grace = v.of(rule::GRACE);
    let refused = v.of(rule::REFUSED);
    let saturated = v.of(rule::CPU_SATURATED);
    let gc = v.of(rule::JVM);
    let timeout_says = |t: &str| timeout.iter().any(|o| o.message.contains(t));
    let (diagnosis, fix) = if let Some(m) = mismatch.first() {
        if m.message.contains("HTTP 404") {
            (
                "the health check asks for a path the app does not serve (404)",
                "Point the target group's health check at the path the app serves (e.g. \
                 /actuator/health).",
            )
        } else {
            (
                "the health endpoint answers with an unexpected code",
                "Make the health endpoint answer what the matcher expects (no auth in front, \
                 dependencies healthy), or fix the matcher.",
            )
        }
    } else if timeout_says(tag::ALL_AT_ONCE) {
        (
            "every target times out at once: the network path is broken",
            "Restore security-group ingress from the load balancer on the target port (CloudTrail \
             shows the change); check NACLs.",
        )
    } else if !gc.is_empty() && !timeout.is_empty() {
        (
            "the health endpoint stalls in back-to-back full GCs: the tasks are out of memory",
            "Give the task more memory and the heap with it (a new revision, then redeploy); see \
             log-jvm-memory-pressure.",
        )
    } else if !grace.is_empty() || timeout_says(tag::SLOW_START) {
        (
            "tasks are killed while still starting: the grace period is too short",
            "Raise healthCheckGracePeriodSeconds above the startup time, then redeploy.",
        )
    } else if !saturated.is_empty() || timeout_says(tag::STARVATION) {
        (
            "busy tasks miss health checks under load: starvation",
            "Add capacity (scale the service), then look at CPU and GC before loosening the \
             health check.",
        )
    } else if !refused.is_empty() {
        (
            "the targets refuse health-check connections",
            "Check the health-check port and that the app listens on 0.0.0.0.",
        )
    } else {
        return None;
    };
    let mut members = kills;
    members.extend(mismatch);
    members.extend(timeout);
    members.extend(grace);
    members.extend(refused);
    members.extend(saturated);
    members.extend(gc);
    Some(parent(
        HEALTH_CHECK_CYCLING,
        v,
        &members,
        format!(
            "{}: tasks cycle on failing ELB health checks — {diagnosis}",
            v.s.name
        ),
        fix,
        &[Remedy::TargetHealth, Remedy::Exec, Remedy::Events],
    ))
}

fn network_path_outage(v: &View) -> Option<Observation> {
    let timeout: Vec<_> = v
        .of(rule::TIMEOUT)
        .into_iter()
        .filter(|o| o.severity == Severity::Critical && o.message.contains(tag::ALL_AT_ONCE))
        .collect();
    if timeout.is_empty() {
        return None;
    }
    let no_healthy: Vec<_> = v
        .of(rule::FLAPPING)
        .into_iter()
        .filter(|o| o.severity == Severity::Critical)
        .collect();
    let errors = v.of(rule::ALB_5XX);
    if no_healthy.is_empty() && errors.is_empty() {
        return None;
    }
    let cpu = v
        .input
        .latest(&crate::model::metric_catalog::service_cpu(v.s));
    if cpu.is_some_and(|c| c >= IDLE_CPU) {
        return None; // busy tasks that time out are starving, not cut off
    }
    let cpu_text = cpu.map_or("CPU not polled".to_string(), |c| format!("CPU {c:.0}%"));
    let az = v.of(rule::AZ);
    let mut members = timeout;
    members.extend(no_healthy);
    members.extend(errors);
    members.extend(v.of(rule::ELB_KILLS));
    members.extend(az.iter().copied());
    let az_text = if az.is_empty() {
        ""
    } else {
        "; some tasks sit in a zone the load balancer does not serve"
    };
    Some(parent(
        NETWORK_PATH_OUTAGE,
        v,
        &members,
        format!(
            "{}: the load balancer cannot reach the tasks — every target times out while the \
             tasks run idle ({cpu_text}){az_text}",
            v.s.name
        ),
        "Check security-group ingress from the load balancer's group on the target port, the \
         NACLs (ephemeral ports) and the load balancer's zones; CloudTrail shows the recent \
         change.",
        &[Remedy::TargetHealth, Remedy::Events],
    ))
}

fn scale_out_blocked(v: &View) -> Option<Observation> {
    let under = v.of(rule::UNDER_REPLICATED);
    let placement = v.of_any(&[rule::NO_RESOURCES, rule::CONSTRAINT]);
    if under.is_empty() || placement.is_empty() {
        return None;
    }
    let reservation = v.on_cluster(rule::RESERVATION);
    let full = if reservation.is_empty() {
        ""
    } else {
        "; the cluster's reservation is high"
    };
    let mut members = under;
    members.extend(placement);
    members.extend(reservation);
    Some(parent(
        SCALE_OUT_BLOCKED,
        v,
        &members,
        format!(
            "{}: cannot reach its desired count — no instance can place the tasks{full}; the \
             cluster is short of capacity, not the service misconfigured",
            v.s.name
        ),
        "Add instances (raise the Auto Scaling group's desired/max or the capacity provider's \
         target) or relax placement constraints; scaling the service will not help.",
        &[Remedy::Events, Remedy::Chart],
    ))
}

fn stuck_rollout_by_drain(v: &View) -> Option<Observation> {
    let stuck = v.of(rule::DEPLOY_STUCK);
    let drain = v.of(rule::DRAIN);
    let unhealthy = v.of_any(&[
        rule::ELB_KILLS,
        rule::GRACE,
        rule::CODE_MISMATCH,
        rule::TIMEOUT,
        rule::REFUSED,
    ]);
    if stuck.is_empty() || drain.is_empty() || unhealthy.is_empty() {
        return None;
    }
    let scale_in = v.of(rule::SCALE_IN);
    let paused = if scale_in.is_empty() {
        ""
    } else {
        "; scale-in is paused meanwhile"
    };
    let mut members = stuck;
    members.extend(drain);
    members.extend(unhealthy);
    members.extend(scale_in);
    Some(parent(
        STUCK_ROLLOUT_BY_DRAIN,
        v,
        &members,
        format!(
            "{}: rollout stuck on two faults — old tasks drain for the whole delay and new tasks \
             fail their health checks{paused}",
            v.s.name
        ),
        "Fix both before the rollout can finish: graceful shutdown on the old revision (or a \
         longer deregistration delay) and a grace period or health check the new tasks pass.",
        &[Remedy::TargetHealth, Remedy::Events, Remedy::Redeploy],
    ))
}

fn egress_bottleneck(v: &View) -> Option<Observation> {
    // The NAT findings about the gateways this service's traffic leaves through (the cheap
    // test first: which gateways a service uses may mean looking at its tasks' hosts).
    let mut nat: Vec<&Observation> = [rule::NAT_SATURATION, rule::NAT_DROPS]
        .iter()
        .flat_map(|r| v.on_cluster(r))
        .collect();
    if nat.is_empty() || !v.of(rule::CPU_SATURATED).is_empty() {
        return None; // saturated CPU is cpu-starved-latency's story
    }
    let nats = v.input.nats_of(v.s);
    nat.retain(|o| nats.iter().any(|g| g.id == o.key));
    if nat.is_empty() {
        return None;
    }
    let slow: Vec<&Observation> = v
        .of(rule::RESPONSE_TIME)
        .into_iter()
        .filter(|o| o.message.contains(tag::DEPENDENCY_BOUND))
        .collect();
    let errors = v.of(rule::ALB_5XX);
    let timeouts = v
        .input
        .logs_of(v.s, v.input.now - EGRESS_LOG_WINDOW)
        .filter(|l| {
            let m = l.message.to_lowercase();
            EGRESS_TIMEOUTS.iter().any(|t| m.contains(t))
        })
        .count();
    let mut signs = Vec::new();
    if !slow.is_empty() {
        signs.push("responses slow while CPU is not the cause".to_string());
    }
    if !errors.is_empty() {
        signs.push("the load balancer answers 5xx".to_string());
    }
    match timeouts {
        0 => {}
        1 => signs.push("an outbound call timed out in its logs".to_string()),
        n => signs.push(format!("{n} outbound calls timed out in its logs")),
    }
    if signs.is_empty() {
        return None;
    }
    let mut ids: Vec<&str> = nat.iter().map(|o| o.key.as_str()).collect();
    ids.sort();
    ids.dedup();
    nat.extend(slow);
    nat.extend(errors);
    Some(parent(
        EGRESS_BOTTLENECK,
        v,
        &nat,
        format!(
            "{}: outbound connection capacity through {} is exhausted — {}",
            v.s.name,
            ids.join(", "),
            signs.join(", ")
        ),
        "Fix it with connection reuse (HTTP keep-alive, pooled clients) and more NAT gateways or \
         IPs, or VPC endpoints for AWS services — not with more tasks: more tasks open more \
         connections.",
        &[Remedy::OpenLogs, Remedy::Redeploy, Remedy::Chart],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Deployment, ServiceEvent, TaskDefRef, metric_catalog as cat};
    use crate::testkit::fixed_now;
    use crate::triage::Facts;

    const CLUSTER_ARN: &str = "arn:aws:ecs:us-east-1:1:cluster/prod";
    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg-web/1";
    const LB: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/edge/2";
    const INSTANCE: &str = "arn:aws:ecs:us-east-1:1:container-instance/prod/abc";

    fn facts() -> Facts {
        let mut f = Facts::at(fixed_now());
        f.services = vec![Service {
            name: "web".into(),
            cluster_arn: CLUSTER_ARN.into(),
            status: "ACTIVE".into(),
            desired: 4,
            target_group_arns: vec![TG.into()],
            target_group_lbs: vec![(TG.into(), LB.into())],
            ..Service::default()
        }];
        f
    }

    fn task(n: u32) -> Task {
        Task {
            arn: format!("arn:aws:ecs:us-east-1:1:task/prod/{n:08}").into(),
            cluster_arn: CLUSTER_ARN.into(),
            group: "service:web".into(),
            last_status: "RUNNING".into(),
            container_instance_arn: Some(INSTANCE.into()),
            task_definition: TaskDefRef::from_arn("arn:aws:ecs:us-east-1:1:task-definition/web:42"),
            started_at: Some(fixed_now() - TimeDelta::hours(1)),
            ..Task::default()
        }
    }

    fn service_obs(rule: &'static str, severity: Severity, message: &str) -> Observation {
        Observation::new(
            rule,
            severity,
            Subject::Service {
                cluster: "prod".into(),
                service: "web".into(),
            },
            message,
        )
    }

    fn tg_obs(rule: &'static str, severity: Severity, message: &str) -> Observation {
        Observation::new(
            rule,
            severity,
            Subject::TargetGroup {
                cluster: "prod".into(),
                service: "web".into(),
                target_group_arn: TG.into(),
            },
            message,
        )
    }

    fn task_obs(rule: &'static str, t: &Task, message: &str) -> Observation {
        Observation::new(
            rule,
            Severity::Critical,
            Subject::Task {
                cluster: "prod".into(),
                service: Some("web".into()),
                task_arn: t.arn.to_string(),
            },
            message,
        )
    }

    fn instance_obs(rule: &'static str) -> Observation {
        Observation::new(
            rule,
            Severity::Critical,
            Subject::Instance {
                cluster: "prod".into(),
                instance_arn: INSTANCE.into(),
                ec2_instance_id: "i-0abc".into(),
            },
            "credits",
        )
    }

    fn names(found: &[Observation]) -> Vec<&str> {
        found.iter().map(|o| o.rule).collect()
    }

    fn requests(f: &mut Facts, before: f64, recent: f64) {
        let mut v = vec![before; 20];
        v.extend(vec![recent; 10]);
        f.series(cat::target_group_requests(TG, LB).unwrap(), &v);
    }

    #[test]
    fn cpu_starved_latency_needs_both_members_and_rising_load() {
        let mut f = facts();
        requests(&mut f, 6000.0, 12_000.0);
        let slow = tg_obs(
            rule::RESPONSE_TIME,
            Severity::Warning,
            "tg-web: avg 1.4s → cpu-bound",
        )
        .since(fixed_now() - TimeDelta::minutes(6))
        .hold(TimeDelta::minutes(1));
        let busy = service_obs(
            rule::CPU_SATURATED,
            Severity::Critical,
            "web: CPU 96% of reserved for 7m; hosts avg 91% → host-bound",
        );
        let found = correlate(&[slow.clone(), busy.clone()], &f.input());
        assert_eq!(names(&found), [CPU_STARVED_LATENCY]);
        let p = &found[0];
        assert_eq!(p.severity, Severity::Critical, "the worst member");
        assert_eq!(p.since, slow.since);
        assert_eq!(p.hold, Some(TimeDelta::minutes(1)));
        assert!(
            p.message
                .contains("the cluster is saturated; requests rose 6000→12000/min"),
            "{}",
            p.message
        );
        assert_eq!(p.evidence.len(), 2);
        assert!(
            p.evidence[0]
                .text
                .starts_with("member target-response-time-spike")
        );

        assert!(
            correlate(std::slice::from_ref(&busy), &f.input()).is_empty(),
            "no latency"
        );
        let dependency = tg_obs(rule::RESPONSE_TIME, Severity::Warning, "→ dependency-bound");
        assert!(correlate(&[dependency, busy.clone()], &f.input()).is_empty());
        let mut flat_load = facts();
        requests(&mut flat_load, 6000.0, 6500.0);
        assert!(
            correlate(&[slow, busy], &flat_load.input()).is_empty(),
            "load not rising"
        );
    }

    #[test]
    fn burstable_throttle_joins_the_host_and_the_service() {
        let mut f = facts();
        f.tasks = vec![task(1)];
        let busy = service_obs(rule::CPU_SATURATED, Severity::Warning, "→ task-bound");
        let found = correlate(&[busy.clone(), instance_obs(rule::CREDITS)], &f.input());
        assert!(names(&found).contains(&BURSTABLE_THROTTLE));
        assert!(found[0].message.contains("i-0abc out of CPU credits"));
        f.tasks[0].container_instance_arn = Some("elsewhere".into());
        assert!(correlate(&[busy, instance_obs(rule::CREDITS)], &f.input()).is_empty());
    }

    #[test]
    fn memory_leak_lifecycle_with_kills_or_a_fresh_deployment() {
        let mut f = facts();
        let t = task(1);
        f.tasks = vec![t.clone()];
        let leak = task_obs(rule::LEAK, &t, "web/00000001: memory 720 MiB, rising");
        assert!(
            correlate(std::slice::from_ref(&leak), &f.input()).is_empty(),
            "a trend alone"
        );
        let oom = task_obs(rule::OOM, &task(2), "OutOfMemoryError");
        let found = correlate(&[leak.clone(), oom], &f.input());
        assert_eq!(names(&found), [MEMORY_LEAK_LIFECYCLE]);
        assert!(found[0].message.contains("OOM kill"));

        f.services[0].deployments = vec![Deployment {
            status: "PRIMARY".into(),
            task_definition: t.task_definition.clone(),
            created_at: Some(fixed_now() - TimeDelta::hours(2)),
            ..Deployment::default()
        }];
        // Nothing held of the revision before: the deployment is not named the regression.
        let found = correlate(std::slice::from_ref(&leak), &f.input());
        assert!(
            found[0].message.ends_with(
                "; began after web:42 was deployed (the previous revision's memory is not known)"
            ),
            "{}",
            found[0].message
        );
        // Flat for the hour before the deployment (2 h ago), then climbing: a regression.
        let memory = crate::model::metric_catalog::service_memory(&f.services[0]);
        let mut history = vec![50.0; 60];
        history.extend((0..120).map(|m| 50.0 + m as f64 * 0.2));
        f.series(memory.clone(), &history);
        let found = correlate(std::slice::from_ref(&leak), &f.input());
        assert!(
            found[0].message.ends_with("; regression in web:42"),
            "{}",
            found[0].message
        );
        // Already climbing before it: the leak is older than the deployment.
        f.series.clear();
        let history: Vec<f64> = (0..180).map(|m| 30.0 + m as f64 * 0.2).collect();
        f.series(memory, &history);
        let found = correlate(std::slice::from_ref(&leak), &f.input());
        assert!(
            found[0]
                .message
                .ends_with("; climbed before web:42 too: not new in it"),
            "{}",
            found[0].message
        );
        f.services[0].deployments[0].created_at = Some(fixed_now() - TimeDelta::hours(30));
        assert!(
            correlate(&[leak], &f.input()).is_empty(),
            "an old deployment"
        );
    }

    fn stopped(n: u32, secs_ago: i64) -> Task {
        Task {
            last_status: "STOPPED".into(),
            stopped_at: Some(fixed_now() - TimeDelta::seconds(secs_ago)),
            ..task(n)
        }
    }

    #[test]
    fn oom_under_load_needs_kills_together_and_a_surge() {
        let mut f = facts();
        f.stopped = vec![stopped(1, 300), stopped(2, 200), stopped(3, 60)];
        requests(&mut f, 2000.0, 15_000.0);
        let kills: Vec<Observation> = f
            .stopped
            .iter()
            .map(|t| task_obs(rule::OOM, t, "OOM"))
            .collect();
        let found = correlate(&kills, &f.input());
        assert_eq!(names(&found), [OOM_UNDER_LOAD]);
        assert!(
            found[0].message.contains("3 tasks OOM-killed within 240s"),
            "{}",
            found[0].message
        );

        let mut calm = facts();
        calm.stopped = f.stopped.clone();
        requests(&mut calm, 2000.0, 2500.0);
        assert!(correlate(&kills, &calm.input()).is_empty(), "no surge");
        // One replacement per kill is no scale-out.
        calm.services[0].events = (0..3)
            .map(|k| ServiceEvent {
                id: format!("e{k}"),
                at: fixed_now() - TimeDelta::minutes(3),
                message: "(service web) has started 1 tasks: (task a)".into(),
            })
            .collect();
        assert!(correlate(&kills, &calm.input()).is_empty(), "replacements");
        calm.services[0].events = (0..2)
            .map(|k| ServiceEvent {
                id: format!("e{k}"),
                at: fixed_now() - TimeDelta::minutes(3),
                message: "(service web) has started 3 tasks: (task a)".into(),
            })
            .collect();
        assert_eq!(
            names(&correlate(&kills, &calm.input())),
            [OOM_UNDER_LOAD],
            "scale-out"
        );

        let mut apart = facts();
        apart.stopped = vec![stopped(1, 800), stopped(2, 60)];
        requests(&mut apart, 2000.0, 15_000.0);
        let kills: Vec<Observation> = apart
            .stopped
            .iter()
            .map(|t| task_obs(rule::OOM, t, "OOM"))
            .collect();
        assert!(
            correlate(&kills, &apart.input()).is_empty(),
            "not at the same moment"
        );
        let mut with_leak = kills.clone();
        with_leak.push(task_obs(rule::LEAK, &task(5), "rising"));
        assert!(!names(&correlate(&with_leak, &f.input())).contains(&OOM_UNDER_LOAD));
    }

    /// `web` task 1 OOM-killed on the shared host with `peak` MiB in its last minutes (kept
    /// with the stop), reserving 512 MiB; `batch` runs a task on `batch_host`.
    fn noisy(peak: f64, batch_host: &str) -> (Facts, Vec<Observation>) {
        let mut f = facts();
        f.services.push(Service {
            name: "batch".into(),
            ..f.services[0].clone()
        });
        let mut killed = stopped(1, 120);
        killed.ec2_instance_id = Some("i-0abc".into());
        killed.containers = vec![crate::model::Container {
            name: "app".into(),
            exit_code: Some(137),
            ..Default::default()
        }];
        f.task_definitions.insert(
            killed.task_definition.arn.to_string(),
            std::sync::Arc::new(TaskDefinition {
                containers: vec![crate::model::ContainerDefinition {
                    name: "app".into(),
                    memory_reservation: Some(512),
                    memory: Some(1024),
                    ..Default::default()
                }],
                ..TaskDefinition::default()
            }),
        );
        let mut neighbour = task(2);
        neighbour.group = "service:batch".into();
        neighbour.container_instance_arn = Some(batch_host.into());
        f.tasks = vec![neighbour];
        let stop = killed.stopped_at.unwrap();
        let mut kept = crate::model::History::default();
        let points = (1..=10)
            .map(|m| crate::model::Point {
                at: stop - TimeDelta::minutes(11 - m),
                value: peak - 10.0 + m as f64,
            })
            .collect();
        kept.merge(stop - TimeDelta::minutes(30), stop, points);
        f.stop_memory.insert(killed.arn.to_string(), kept);
        let kill = task_obs(
            rule::OOM,
            &killed,
            "app in task 00000001 (web) was OOM-killed",
        );
        f.stopped = vec![killed];
        let mut over = service_obs(rule::SOFT_LIMIT, Severity::Warning, "batch: using 140%");
        over.subject = Subject::Service {
            cluster: "prod".into(),
            service: "batch".into(),
        };
        (f, vec![kill, over])
    }

    #[test]
    fn noisy_neighbour_oom_blames_the_service_over_its_soft_limit() {
        let (f, found) = noisy(300.0, INSTANCE);
        let parents = correlate(&found, &f.input());
        assert_eq!(names(&parents), [NOISY_NEIGHBOUR_OOM]);
        let p = &parents[0];
        assert_eq!(p.subject.label(), "prod/web", "about the victim's service");
        assert_eq!(p.severity, Severity::Critical);
        assert_eq!(
            p.message,
            "web: task 00000001 was OOM-killed on i-0abc at 300 MiB, under its own 512 MiB \
             reservation, while batch runs over its memory reservation there — the host ran out \
             of memory and the kernel killed the wrong container"
        );
        assert!(p.next.starts_with("web is the victim"), "{}", p.next);
        assert!(
            p.next.contains("Give batch a hard memory limit"),
            "{}",
            p.next
        );
        assert_eq!(p.evidence.len(), 3, "two members and the kill's memory");
    }

    #[test]
    fn noisy_neighbour_oom_needs_a_victim_under_its_reservation_beside_the_neighbour() {
        let (f, found) = noisy(530.0, INSTANCE);
        assert!(
            correlate(&found, &f.input()).is_empty(),
            "over its own reservation: its own doing"
        );
        let (f, found) = noisy(
            300.0,
            "arn:aws:ecs:us-east-1:1:container-instance/prod/other",
        );
        assert!(
            correlate(&found, &f.input()).is_empty(),
            "the neighbour runs elsewhere"
        );
        let (mut f, found) = noisy(300.0, INSTANCE);
        f.stop_memory.clear();
        assert!(
            correlate(&found, &f.input()).is_empty(),
            "the victim's memory is not known"
        );
        let (f, mut found) = noisy(300.0, INSTANCE);
        found[1].subject = Subject::Service {
            cluster: "prod".into(),
            service: "web".into(),
        };
        assert!(
            !names(&correlate(&found, &f.input())).contains(&NOISY_NEIGHBOUR_OOM),
            "its own service over the soft limit is not a neighbour"
        );
    }

    #[test]
    fn health_check_cycling_names_the_cause() {
        let f = facts();
        let kills = service_obs(rule::ELB_KILLS, Severity::Critical, "2 tasks killed");
        let path = tg_obs(
            rule::CODE_MISMATCH,
            Severity::Critical,
            "tg-web: 4/4 targets answer /health with HTTP 404 (expected 200)",
        );
        let found = correlate(&[kills.clone(), path], &f.input());
        assert_eq!(names(&found), [HEALTH_CHECK_CYCLING]);
        assert!(found[0].message.contains("path the app does not serve"));
        let grace = service_obs(rule::GRACE, Severity::Warning, "grace");
        let found = correlate(&[kills.clone(), grace], &f.input());
        assert!(found[0].message.contains("grace period is too short"));
        // Timeouts on tasks whose logs show full GCs: out of memory, not a slow start.
        let stalled = tg_obs(rule::TIMEOUT, Severity::Warning, "1/9 — some targets");
        let gc = task_obs(rule::JVM, &task(1), "6 full GCs");
        let found = correlate(&[kills.clone(), stalled, gc], &f.input());
        assert!(
            found[0].message.contains("stalls in back-to-back full GCs"),
            "{}",
            found[0].message
        );
        assert!(
            correlate(&[kills], &f.input()).is_empty(),
            "no cause among the members"
        );
    }

    #[test]
    fn network_path_outage_needs_every_target_and_idle_tasks() {
        let mut f = facts();
        f.series(cat::service_cpu(&f.services[0].clone()), &[3.0, 3.0]);
        let timeout = tg_obs(
            rule::TIMEOUT,
            Severity::Critical,
            "tg-web: 4/4 targets time out on health check (5s) — all targets at once: network path",
        );
        let zero = tg_obs(rule::FLAPPING, Severity::Critical, "now 0 healthy");
        let found = correlate(&[timeout.clone(), zero.clone()], &f.input());
        assert!(names(&found).contains(&NETWORK_PATH_OUTAGE));
        assert!(found[0].message.contains("(CPU 3%)"));
        assert!(correlate(std::slice::from_ref(&timeout), &f.input()).is_empty());
        let some = tg_obs(
            rule::TIMEOUT,
            Severity::Warning,
            "1/4 — some targets: app starvation",
        );
        assert!(correlate(&[some, zero.clone()], &f.input()).is_empty());
        f.series(cat::service_cpu(&f.services[0].clone()), &[95.0, 95.0]);
        assert!(
            correlate(&[timeout, zero], &f.input()).is_empty(),
            "busy tasks"
        );
    }

    #[test]
    fn scale_out_blocked_and_stuck_rollout() {
        let f = facts();
        let under = service_obs(rule::UNDER_REPLICATED, Severity::Warning, "3/4");
        let memory = service_obs(rule::NO_RESOURCES, Severity::Warning, "MEMORY");
        let reserved = Observation::new(
            rule::RESERVATION,
            Severity::Warning,
            Subject::Cluster {
                cluster: "prod".into(),
            },
            "90%",
        );
        let found = correlate(&[under.clone(), memory, reserved], &f.input());
        assert_eq!(names(&found), [SCALE_OUT_BLOCKED]);
        assert_eq!(found[0].evidence.len(), 3);
        assert!(correlate(&[under], &f.input()).is_empty());

        let stuck = service_obs(rule::DEPLOY_STUCK, Severity::Warning, "stuck");
        let drain = service_obs(rule::DRAIN, Severity::Warning, "drained");
        let kills = service_obs(rule::ELB_KILLS, Severity::Critical, "killed");
        let found = correlate(&[stuck.clone(), drain.clone(), kills], &f.input());
        assert!(names(&found).contains(&STUCK_ROLLOUT_BY_DRAIN));
        assert!(
            correlate(&[stuck, drain], &f.input()).is_empty(),
            "new tasks are fine"
        );
    }

    #[test]
    fn other_services_observations_do_not_mix() {
        let f = facts();
        let mut other = service_obs(rule::UNDER_REPLICATED, Severity::Warning, "3/4");
        other.subject = Subject::Service {
            cluster: "prod".into(),
            service: "api".into(),
        };
        let memory = service_obs(rule::NO_RESOURCES, Severity::Warning, "MEMORY");
        assert!(correlate(&[other, memory], &f.input()).is_empty());
    }

    fn nat_obs(rule: &'static str, nat: &str) -> Observation {
        Observation::new(
            rule,
            Severity::Warning,
            Subject::Cluster {
                cluster: "prod".into(),
            },
            format!("{nat}: crowded"),
        )
        .key(nat)
    }

    /// `web` in subnet-a, which leaves through nat-a.
    fn behind_nat() -> Facts {
        let mut f = facts();
        f.services[0].subnets = vec!["subnet-a".into()];
        f.nat_gateways = vec![(
            "prod".into(),
            crate::model::NatGateway {
                id: "nat-a".into(),
                state: "available".into(),
                addresses: 1,
                serves: vec!["subnet-a".into()],
                ..Default::default()
            },
        )];
        f
    }

    #[test]
    fn egress_bottleneck_needs_a_nat_finding_on_the_services_gateway_and_a_symptom() {
        let f = behind_nat();
        let nat = nat_obs(rule::NAT_SATURATION, "nat-a");
        let slow = tg_obs(
            rule::RESPONSE_TIME,
            Severity::Warning,
            "tg-web: p95 3.1s — → dependency-bound",
        );
        let found = correlate(&[nat.clone(), slow.clone()], &f.input());
        assert_eq!(names(&found), [EGRESS_BOTTLENECK]);
        assert_eq!(
            found[0].message,
            "web: outbound connection capacity through nat-a is exhausted — responses slow while \
             CPU is not the cause"
        );
        assert_eq!(found[0].evidence.len(), 2);
        // The NAT alone, or the symptom alone, is not the diagnosis.
        assert!(correlate(std::slice::from_ref(&nat), &f.input()).is_empty());
        assert!(correlate(std::slice::from_ref(&slow), &f.input()).is_empty());
        // Another gateway's trouble is not this service's.
        let other = nat_obs(rule::NAT_DROPS, "nat-b");
        assert!(correlate(&[other, slow.clone()], &f.input()).is_empty());
        // A CPU-bound slowdown is not egress.
        let cpu = tg_obs(rule::RESPONSE_TIME, Severity::Warning, "→ cpu-bound");
        assert!(correlate(&[nat.clone(), cpu], &f.input()).is_empty());
        let saturated = service_obs(rule::CPU_SATURATED, Severity::Warning, "CPU 97%");
        assert!(
            !names(&correlate(&[nat, slow, saturated], &f.input())).contains(&EGRESS_BOTTLENECK)
        );
    }

    #[test]
    fn egress_bottleneck_reads_outbound_timeouts_in_the_logs() {
        let mut f = behind_nat();
        let line = |ago: i64, message: &str| crate::model::LogSample {
            cluster: "prod".into(),
            service: Some("web".into()),
            task_arn: task(1).arn.to_string(),
            container: "app".into(),
            at: fixed_now() - TimeDelta::minutes(ago),
            message: message.into(),
        };
        f.logs = vec![
            line(2, "java.net.SocketTimeoutException: connect timed out"),
            line(40, "java.net.SocketTimeoutException: connect timed out"),
            line(1, "GET /health 200"),
        ];
        let drops = nat_obs(rule::NAT_DROPS, "nat-a");
        let found = correlate(std::slice::from_ref(&drops), &f.input());
        assert_eq!(names(&found), [EGRESS_BOTTLENECK]);
        assert!(
            found[0]
                .message
                .ends_with("an outbound call timed out in its logs"),
            "{}",
            found[0].message
        );
        f.logs.remove(0);
        assert!(correlate(&[drops], &f.input()).is_empty(), "only old lines");
    }
}
