//! CloudWatch for the demo fleet: every series is a pure function of its metric and the time
//! (a daily swell, per-object level, seeded noise), so any window can be answered, charts and
//! sparklines agree, and snapshots are stable. A few services carry the shapes of the demo's
//! incidents: payments' memory climbs until it is OOM-killed, search runs hot, checkout answers
//! some 5xx while a target is unhealthy. Alarms watch those.

mod incident;

use chrono::Timelike;

use super::fleet::{Fleet, InstanceState, ServiceState};
use crate::model::hash::FastMap;
use crate::model::{
    Alarm, AlarmState, MetricId, MetricRequest, Point, SeriesData, SeriesKey, Stat, Time,
    metric_catalog as cat,
};

/// A number in [0, 1) from a text and an instant: the demo's noise.
fn noise(seed: &str, at: i64) -> f64 {
    let mut h = crate::model::hash::stable(&[seed.as_bytes(), &at.to_le_bytes()]);
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Busier in the day (UTC), quieter at night: 0.6 … 1.0.
fn daily(at: Time) -> f64 {
    let hour = at.hour() as f64 + at.minute() as f64 / 60.0;
    0.8 + 0.2 * ((hour - 8.0) / 24.0 * std::f64::consts::TAU).sin()
}

/// A slow swell of -1 … 1 with a period of about 20 minutes, out of phase between objects, so
/// an hour of sparkline has a shape.
fn wave(name: &str, at: Time) -> f64 {
    let phase = noise(name, 1) * std::f64::consts::TAU;
    let period = 900.0 + noise(name, 2) * 900.0;
    (at.timestamp() as f64 / period * std::f64::consts::TAU + phase).sin()
}

/// Level of an object in [lo, hi), fixed per name.
fn level(name: &str, lo: f64, hi: f64) -> f64 {
    lo + noise(name, 0) * (hi - lo)
}

/// What one series needs of the fleet now: its object's facts, read by reference when the
/// series is answered (once a series, not once a minute of its window). Reading the whole
/// fleet for every request instead copied all of `--demo huge`'s 100,000 tasks per answer.
enum Subject {
    /// A service (its ECS series, or a target group of it): running count, unhealthy
    /// running tasks.
    Service {
        name: String,
        running: u32,
        unhealthy: u32,
    },
    /// A cluster: CPU and memory reserved (%).
    Cluster { cpu: f64, memory: f64 },
    /// A task not yet stopped: running, CPU units, MiB.
    Task {
        running: bool,
        cpu: f64,
        memory: f64,
    },
    /// An EC2 host: share of its CPU reserved by tasks (0–1), burstable.
    Instance { used: f64, burstable: bool },
    /// A NAT gateway of the VPC.
    Nat,
}

/// The fleet's hosts by instance id and services by target group (the `TargetGroup`
/// dimension, the ARN's tail), made once per answer: a minute's cycle on `--demo huge` asks for
/// some 20,000 series of 5,000 hosts and 2,000 services, and looking each up by walking the
/// fleet was a sixteenth of the console's idle CPU.
struct Objects<'a> {
    fleet: &'a Fleet,
    hosts: FastMap<&'a str, &'a InstanceState>,
    by_target_group: FastMap<&'a str, &'a ServiceState>,
}

impl<'a> Objects<'a> {
    fn of(fleet: &'a Fleet) -> Self {
        let mut hosts = FastMap::default();
        let mut by_target_group = FastMap::default();
        for c in &fleet.clusters {
            for i in &c.instances {
                hosts
                    .entry(i.instance.ec2_instance_id.as_str())
                    .or_insert(i);
            }
            for s in &c.services {
                // The first service naming a target group answers for it.
                for tg in &s.service.target_group_arns {
                    if let Some(dimension) = crate::model::arn::target_group_dimension(tg) {
                        by_target_group.entry(dimension).or_insert(s);
                    }
                }
            }
        }
        Objects {
            fleet,
            hosts,
            by_target_group,
        }
    }
}

/// The facts of the object `metric` is about, `None` when the fleet has no such object (or
/// no facts CloudWatch would publish for it).
fn subject(objects: &Objects, metric: &MetricId) -> Option<Subject> {
    let fleet = objects.fleet;
    let dim = |name| metric.dimension(name).unwrap_or_default();
    match metric.namespace.as_str() {
        cat::ECS if !dim("ServiceName").is_empty() => {
            let cluster = fleet
                .clusters
                .iter()
                .find(|c| c.name == dim("ClusterName"))?;
            let service = &cluster.services[*cluster.service_index.get(dim("ServiceName"))?];
            Some(service_subject(service))
        }
        cat::ECS => {
            let cluster = fleet
                .clusters
                .iter()
                .find(|c| c.name == dim("ClusterName"))?;
            let (cpu, memory) = cluster.reserved_pct();
            Some(Subject::Cluster {
                cpu: cpu.unwrap_or(0.0),
                memory: memory.unwrap_or(0.0),
            })
        }
        cat::INSIGHTS => {
            let id = dim("TaskId");
            // Its cluster first; a task id is unique in the region.
            let task = fleet
                .clusters
                .iter()
                .find(|c| c.name == dim("ClusterName"))
                .and_then(|c| c.live_task(id))
                .or_else(|| fleet.clusters.iter().find_map(|c| c.live_task(id)))?;
            Some(Subject::Task {
                running: task.task.last_status == "RUNNING",
                cpu: f64::from(task.task.cpu.unwrap_or(256)),
                memory: f64::from(task.task.memory.unwrap_or(512)),
            })
        }
        cat::EC2 => {
            let host = objects.hosts.get(dim("InstanceId"))?;
            let registered = host.instance.cpu_registered;
            let remaining = registered.saturating_sub(host.cpu_used);
            Some(Subject::Instance {
                used: 1.0 - f64::from(remaining) / f64::from(registered.max(1)),
                burstable: cat::is_burstable(&host.instance.instance_type),
            })
        }
        cat::ALB | cat::NLB => {
            // Load-balancer-wide series (its own 5xx, all requests): the default fleet's load
            // balancers answer no errors of their own, and ELB publishes nothing for zero.
            let tg = dim("TargetGroup");
            if tg.is_empty() {
                return None;
            }
            let service = objects.by_target_group.get(tg)?;
            Some(service_subject(service))
        }
        cat::NAT => fleet
            .nat_gateways
            .iter()
            .any(|g| g.id == dim("NatGatewayId"))
            .then_some(Subject::Nat),
        _ => None,
    }
}

fn service_subject(service: &ServiceState) -> Subject {
    let unhealthy = service
        .tasks
        .iter()
        .filter(|t| t.task.health == "UNHEALTHY")
        .count() as u32;
    Subject::Service {
        name: service.name().to_string(),
        running: service.counts().0,
        unhealthy,
    }
}

/// The payments leak: memory climbs from 45 % to 100 % over 30 minutes, then the task is
/// killed and it starts again.
fn sawtooth(at: Time) -> f64 {
    let cycle = 30 * 60;
    let phase = at.timestamp().rem_euclid(cycle) as f64 / cycle as f64;
    45.0 + 55.0 * phase
}

/// One value of a series, or `None` where CloudWatch would have no data.
fn value(subject: &Subject, key: &SeriesKey, at: Time) -> Option<f64> {
    let m = &key.metric;
    let dim = |name| m.dimension(name).unwrap_or_default();
    let seed = format!("{}{:?}", m.name, m.dimensions);
    let jitter = noise(&seed, at.timestamp()) - 0.5;
    let minutes = f64::from(key.period) / 60.0;
    match (subject, m.namespace.as_str(), m.name.as_str()) {
        (
            Subject::Service {
                name: svc, running, ..
            },
            cat::ECS,
            name,
        ) => {
            if *running == 0 {
                return None; // ECS publishes nothing for a service without running tasks
            }
            let v = match (svc.as_str(), name) {
                ("payments", "MemoryUtilization") => sawtooth(at),
                ("search", "CPUUtilization") => 88.0 + 8.0 * jitter,
                (_, "CPUUtilization") => {
                    level(svc, 8.0, 55.0) * daily(at) + 10.0 * wave(svc, at) + 6.0 * jitter
                }
                _ => {
                    level(&format!("{svc}mem"), 25.0, 70.0)
                        + 5.0 * wave(&format!("{svc}mem"), at)
                        + 2.0 * jitter
                }
            };
            Some(v.clamp(0.0, 100.0))
        }
        (
            Subject::Cluster {
                cpu: cpu_res,
                memory: mem_res,
            },
            cat::ECS,
            name,
        ) => {
            let (cpu_res, mem_res) = (*cpu_res, *mem_res);
            Some(match name {
                "CPUReservation" => cpu_res,
                "MemoryReservation" => mem_res,
                "CPUUtilization" => {
                    (cpu_res * 0.55 * daily(at) + 6.0 * wave(dim("ClusterName"), at) + 4.0 * jitter)
                        .clamp(0.0, 100.0)
                }
                _ => (mem_res * 0.7 + 3.0 * jitter).clamp(0.0, 100.0),
            })
        }
        (
            Subject::Task {
                running,
                cpu,
                memory,
            },
            cat::INSIGHTS,
            name,
        ) => {
            let (cpu, memory) = (*cpu, *memory);
            if !running {
                return None;
            }
            // CPU units and MiB; the row turns them into shares of the task's size.
            let family = dim("TaskDefinitionFamily");
            let share =
                level(dim("TaskId"), 0.1, 0.6) + 0.1 * wave(dim("TaskId"), at) + 0.08 * jitter;
            Some(match name {
                "CpuUtilized" => (share * daily(at)).clamp(0.0, 1.0) * cpu,
                // Bytes a second: a busier task talks more.
                "NetworkRxBytes" => task_bytes(dim("TaskId"), share, at),
                "NetworkTxBytes" => 0.7 * task_bytes(dim("TaskId"), share, at),
                _ if family.contains("payments") => sawtooth(at) / 100.0 * memory,
                _ => (share + 0.2).clamp(0.0, 1.0) * memory,
            })
        }
        (Subject::Instance { used, burstable }, cat::EC2, name) => {
            let (used, burstable) = (*used, *burstable);
            Some(match name {
                // Spent over a six-hour cycle, then an hour at zero: throttled to baseline.
                "CPUCreditBalance" if burstable => {
                    let hours = at.timestamp().rem_euclid(6 * 3600) as f64 / 3600.0;
                    (200.0 - hours * 40.0).max(0.0)
                }
                "CPUCreditBalance" => return None,
                // Staging's host is unlimited (T3's default): the hour at zero is billed.
                "CPUSurplusCreditsCharged" if burstable => {
                    let hours = at.timestamp().rem_euclid(6 * 3600) as f64 / 3600.0;
                    if hours >= 5.0 {
                        1.2 + 0.4 * jitter
                    } else {
                        0.0
                    }
                }
                "CPUSurplusCreditsCharged" => return None,
                // The default fleet's hosts pass their status checks.
                n if n.starts_with("StatusCheckFailed") => 0.0,
                // Bytes over the period, as the `Sum` CloudWatch keeps.
                "NetworkIn" => instance_bytes(dim("InstanceId"), used, at) * minutes,
                "NetworkOut" => 0.6 * instance_bytes(dim("InstanceId"), used, at) * minutes,
                _ => (used * 70.0 * daily(at) + 8.0 * wave(dim("InstanceId"), at) + 5.0 * jitter)
                    .clamp(0.0, 100.0),
            })
        }
        (
            Subject::Service {
                name: svc,
                running,
                unhealthy,
            },
            cat::ALB | cat::NLB,
            name,
        ) => {
            let (running, unhealthy) = (*running, *unhealthy);
            let busy = level(svc, 200.0, 3000.0) * daily(at) * (1.0 + 0.25 * wave(svc, at));
            Some(match name {
                "HealthyHostCount" => f64::from(running.saturating_sub(unhealthy)),
                "UnHealthyHostCount" => f64::from(unhealthy),
                "RequestCount" => (busy * (1.0 + 0.2 * jitter) * minutes).round(),
                "HTTPCode_Target_5XX_Count" if unhealthy > 0 => {
                    ((busy * 0.01 * f64::from(unhealthy)) * (1.0 + jitter) * minutes).round()
                }
                "HTTPCode_Target_5XX_Count" => {
                    if jitter > 0.45 {
                        (2.0 * minutes).round()
                    } else {
                        0.0
                    }
                }
                "TargetConnectionErrorCount" => return None,
                // Response time: the p95 tail runs about twice the average.
                _ => {
                    let avg = (level(svc, 0.02, 0.3) * (1.0 + 0.5 * jitter)).max(0.001);
                    if key.metric.stat == Stat::P95 {
                        2.2 * avg
                    } else {
                        avg
                    }
                }
            })
        }
        (Subject::Nat, cat::NAT, name) => {
            let id = dim("NatGatewayId");
            // The healthy fleet's light egress: every connection established, nothing dropped.
            let load = daily(at) * (1.0 + 0.15 * wave(id, at));
            Some(match name {
                "ActiveConnectionCount" => (2_400.0 * load).round(),
                "ConnectionAttemptCount" | "ConnectionEstablishedCount" => {
                    (700.0 * load * minutes).round()
                }
                "PacketsInFromSource" => (150_000.0 * load * minutes).round(),
                _ => 0.0, // ErrorPortAllocation, PacketsDropCount, IdleTimeoutCount
            })
        }
        _ => None,
    }
}

/// Bytes a second a task receives, following its CPU share.
fn task_bytes(task: &str, share: f64, at: Time) -> f64 {
    (level(&format!("{task}net"), 20_000.0, 300_000.0) * (0.5 + share) * daily(at)).max(0.0)
}

/// Bytes a minute an instance receives, following how much of it its tasks reserve.
fn instance_bytes(instance: &str, used: f64, at: Time) -> f64 {
    let swell = 1.0 + 0.2 * wave(&format!("{instance}net"), at);
    ((15.0e6 + used * 250.0e6) * daily(at) * swell).max(0.0)
}

/// A period's value from its minutes, as CloudWatch aggregates: the average (or sum, or
/// maximum) of the one-minute values; `None` when no minute has data.
fn aggregate(subject: &Subject, key: &SeriesKey, start: i64, period: i64) -> Option<f64> {
    let minutes: Vec<f64> = (0..(period / 60).max(1))
        .filter_map(|m| value(subject, key, Time::from_timestamp(start + m * 60, 0)?))
        .collect();
    if minutes.is_empty() {
        return None;
    }
    // Sum-type values are already scaled to the period: average them like the rest.
    Some(match key.metric.stat {
        Stat::Maximum => minutes.iter().copied().fold(f64::MIN, f64::max),
        // A period's p95 from its minutes' p95s: their mean is close enough.
        Stat::Average | Stat::Sum | Stat::P95 => minutes.iter().sum::<f64>() / minutes.len() as f64,
    })
}

pub fn metric_data(fleet: &Fleet, now: Time, request: &MetricRequest) -> Vec<SeriesData> {
    if let Some(replay) = &fleet.incident {
        return incident::metric_data(fleet, replay, now, request);
    }
    let end = request.end.min(now);
    let objects = Objects::of(fleet);
    request
        .series
        .iter()
        .map(|key| {
            let subject = subject(&objects, &key.metric);
            let period = i64::from(key.period.max(60));
            let first = request.start.timestamp().div_euclid(period) * period;
            let points = (0..)
                .map(|i| first + i * period)
                .take_while(|&t| t < end.timestamp())
                .filter(|&t| t >= request.start.timestamp())
                .filter_map(|t| {
                    Some(Point {
                        at: Time::from_timestamp(t, 0)?,
                        value: aggregate(subject.as_ref()?, key, t, period)?,
                    })
                })
                .collect();
            SeriesData {
                key: key.clone(),
                points,
            }
        })
        .collect()
}

/// The demo's alarms, in the state their metric puts them in now.
pub fn alarms(fleet: &Fleet, now: Time) -> Vec<Alarm> {
    if let Some(replay) = &fleet.incident {
        return incident::alarms(fleet, replay, now);
    }
    let mut out = Vec::new();
    let Some(prod) = fleet.clusters.iter().find(|c| c.name == "prod") else {
        return out;
    };
    let service = |name: &str| {
        prod.services
            .iter()
            .find(|s| s.name() == name)
            .map(|s| s.snapshot())
    };
    let objects = Objects::of(fleet);
    let mut add = |name: &str, metric: MetricId, threshold: f64| {
        let key = SeriesKey {
            metric: metric.clone(),
            period: 60,
        };
        let at = Time::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(60) - 60, 0)
            .unwrap_or(now);
        let current = subject(&objects, &key.metric).and_then(|s| value(&s, &key, at));
        let state = match current {
            Some(v) if v > threshold => AlarmState::Alarm,
            Some(_) => AlarmState::Ok,
            None => AlarmState::InsufficientData,
        };
        out.push(Alarm {
            name: name.into(),
            state,
            namespace: metric.namespace.clone(),
            metric: metric.name.clone(),
            dimensions: metric.dimensions.clone(),
            threshold,
            comparison: "GreaterThanThreshold".into(),
            reason: match current {
                Some(v) => {
                    format!("Threshold Crossed: 1 datapoint [{v:.1}] was compared to {threshold}")
                }
                None => "Insufficient Data".into(),
            },
            updated_at: Some(at),
        });
    };
    if let Some(s) = service("payments") {
        add("prod-payments-memory-high", cat::service_memory(&s), 90.0);
    }
    if let Some(s) = service("search") {
        add("prod-search-cpu-high", cat::service_cpu(&s), 80.0);
    }
    if let Some(s) = service("checkout")
        && let Some(five) = cat::service_targets(&s)
            .into_iter()
            .find(|m| m.name == "HTTPCode_Target_5XX_Count")
    {
        add("prod-checkout-5xx", five.with_stat(Stat::Sum), 20.0);
    }
    out
}
