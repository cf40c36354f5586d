//! CloudWatch for the demo fleet: every series is a pure function of its metric and the time
//! (a daily swell, per-object level, seeded noise), so any window can be answered, charts and
//! sparklines agree, and snapshots are stable. A few services carry the shapes of the demo's
//! incidents: payments' memory climbs until it is OOM-killed, search runs hot, checkout answers
//! some 5xx while a target is unhealthy. Alarms watch those.

mod incident;

use std::collections::HashMap;

use chrono::Timelike;

use super::fleet::Fleet;
use crate::model::{
    Alarm, AlarmState, MetricId, MetricRequest, Point, SeriesData, SeriesKey, Stat, Task,
    TaskScope, Time, metric_catalog as cat,
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

/// What the fleet looks like now, as far as the series need it.
struct Facts {
    /// (cluster, service) → running count, unhealthy running tasks.
    services: HashMap<(String, String), (u32, u32)>,
    /// Target group ARN → (cluster, service).
    target_groups: HashMap<String, (String, String)>,
    /// EC2 instance id → share of its CPU reserved by tasks (0–1), burstable.
    instances: HashMap<String, (f64, bool)>,
    /// Task id → (running, CPU units, MiB).
    tasks: HashMap<String, (bool, f64, f64)>,
    clusters: HashMap<String, (f64, f64)>,
    /// NAT gateway ids of the VPC.
    nats: Vec<String>,
}

fn facts(fleet: &Fleet, now: Time) -> Facts {
    let mut f = Facts {
        services: HashMap::new(),
        target_groups: HashMap::new(),
        instances: HashMap::new(),
        tasks: HashMap::new(),
        clusters: HashMap::new(),
        nats: fleet.nat_gateways.iter().map(|g| g.id.clone()).collect(),
    };
    for c in fleet.cluster_snapshots(now) {
        f.clusters.insert(
            c.name.clone(),
            (
                c.cpu_reserved_pct.unwrap_or(0.0),
                c.memory_reserved_pct.unwrap_or(0.0),
            ),
        );
        let tasks: Vec<Task> = fleet
            .tasks(
                &TaskScope::Cluster {
                    cluster: c.name.clone(),
                },
                false,
            )
            .unwrap_or_default();
        for t in &tasks {
            f.tasks.insert(
                t.id().to_string(),
                (
                    t.last_status == "RUNNING",
                    f64::from(t.cpu.unwrap_or(256)),
                    f64::from(t.memory.unwrap_or(512)),
                ),
            );
        }
        // Counted in one pass: a scan of the cluster's tasks per service was 1,200 × 60,000
        // comparisons on every metrics answer of `--demo huge`.
        let mut unhealthy_of: HashMap<&str, u32> = HashMap::new();
        for t in tasks.iter().filter(|t| t.health == "UNHEALTHY") {
            if let Some(service) = t.service_name() {
                *unhealthy_of.entry(service).or_default() += 1;
            }
        }
        for s in fleet.services(&c.name).unwrap_or_default() {
            let unhealthy = unhealthy_of.get(s.name.as_str()).copied().unwrap_or(0);
            for tg in &s.target_group_arns {
                f.target_groups
                    .insert(tg.clone(), (c.name.clone(), s.name.clone()));
            }
            f.services
                .insert((c.name.clone(), s.name.clone()), (s.running, unhealthy));
        }
        for i in fleet.instances(&c.name).unwrap_or_default() {
            let used = 1.0 - f64::from(i.cpu_remaining) / f64::from(i.cpu_registered.max(1));
            f.instances.insert(
                i.ec2_instance_id.clone(),
                (used, cat::is_burstable(&i.instance_type)),
            );
        }
    }
    f
}

/// The payments leak: memory climbs from 45 % to 100 % over 30 minutes, then the task is
/// killed and it starts again.
fn sawtooth(at: Time) -> f64 {
    let cycle = 30 * 60;
    let phase = at.timestamp().rem_euclid(cycle) as f64 / cycle as f64;
    45.0 + 55.0 * phase
}

/// One value of a series, or `None` where CloudWatch would have no data.
fn value(facts: &Facts, key: &SeriesKey, at: Time) -> Option<f64> {
    let m = &key.metric;
    let dim = |name| m.dimension(name).unwrap_or_default();
    let seed = format!("{}{:?}", m.name, m.dimensions);
    let jitter = noise(&seed, at.timestamp()) - 0.5;
    let minutes = f64::from(key.period) / 60.0;
    match (m.namespace.as_str(), m.name.as_str()) {
        (cat::ECS, name) if !dim("ServiceName").is_empty() => {
            let svc = (
                dim("ClusterName").to_string(),
                dim("ServiceName").to_string(),
            );
            let (running, _) = *facts.services.get(&svc)?;
            if running == 0 {
                return None; // ECS publishes nothing for a service without running tasks
            }
            let v = match (svc.1.as_str(), name) {
                ("payments", "MemoryUtilization") => sawtooth(at),
                ("search", "CPUUtilization") => 88.0 + 8.0 * jitter,
                (_, "CPUUtilization") => {
                    level(&svc.1, 8.0, 55.0) * daily(at) + 10.0 * wave(&svc.1, at) + 6.0 * jitter
                }
                _ => {
                    level(&format!("{}mem", svc.1), 25.0, 70.0)
                        + 5.0 * wave(&format!("{}mem", svc.1), at)
                        + 2.0 * jitter
                }
            };
            Some(v.clamp(0.0, 100.0))
        }
        (cat::ECS, name) => {
            let (cpu_res, mem_res) = *facts.clusters.get(dim("ClusterName"))?;
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
        (cat::INSIGHTS, name) => {
            let (running, cpu, memory) = *facts.tasks.get(dim("TaskId"))?;
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
        (cat::EC2, name) => {
            let (used, burstable) = *facts.instances.get(dim("InstanceId"))?;
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
        (cat::ALB | cat::NLB, name) => {
            // Load-balancer-wide series (its own 5xx, all requests): the default fleet's load
            // balancers answer no errors of their own, and ELB publishes nothing for zero.
            if dim("TargetGroup").is_empty() {
                return None;
            }
            let tg = facts
                .target_groups
                .iter()
                .find(|(arn, _)| arn.ends_with(dim("TargetGroup")))
                .map(|(_, s)| s)?;
            let (running, unhealthy) = *facts.services.get(tg)?;
            let busy = level(&tg.1, 200.0, 3000.0) * daily(at) * (1.0 + 0.25 * wave(&tg.1, at));
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
                    let avg = (level(&tg.1, 0.02, 0.3) * (1.0 + 0.5 * jitter)).max(0.001);
                    if key.metric.stat == Stat::P95 {
                        2.2 * avg
                    } else {
                        avg
                    }
                }
            })
        }
        (cat::NAT, name) => {
            let id = dim("NatGatewayId");
            if !facts.nats.iter().any(|n| n == id) {
                return None;
            }
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
fn aggregate(facts: &Facts, key: &SeriesKey, start: i64, period: i64) -> Option<f64> {
    let minutes: Vec<f64> = (0..(period / 60).max(1))
        .filter_map(|m| value(facts, key, Time::from_timestamp(start + m * 60, 0)?))
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
    let facts = facts(fleet, now);
    let end = request.end.min(now);
    request
        .series
        .iter()
        .map(|key| {
            let period = i64::from(key.period.max(60));
            let first = request.start.timestamp().div_euclid(period) * period;
            let points = (0..)
                .map(|i| first + i * period)
                .take_while(|&t| t < end.timestamp())
                .filter(|&t| t >= request.start.timestamp())
                .filter_map(|t| {
                    Some(Point {
                        at: Time::from_timestamp(t, 0)?,
                        value: aggregate(&facts, key, t, period)?,
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
    let facts = facts(fleet, now);
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
    let mut add = |name: &str, metric: MetricId, threshold: f64| {
        let key = SeriesKey {
            metric: metric.clone(),
            period: 60,
        };
        let at = Time::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(60) - 60, 0)
            .unwrap_or(now);
        let current = value(&facts, &key, at);
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
        add(
            "prod-checkout-5xx",
            MetricId {
                stat: Stat::Sum,
                ..five
            },
            20.0,
        );
    }
    out
}
