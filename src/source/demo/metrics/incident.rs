//! CloudWatch for a replayed incident. Every series is a function of the metric and the
//! minute: the scenario's scripted load (`Shape`), the recorded life of each task and
//! instance, and the recorded target states (`scenario::record`), so a minute reads the same
//! however often and from wherever it is asked.
//!
//! What follows from what:
//! - ELB 503 when nothing is routable, 504 (and `TargetConnectionErrorCount`) when the ALB
//!   fails open to targets it cannot reach, 502 for connections reset by a killed task;
//!   `HealthyHostCount`/`UnHealthyHostCount` are the recorded target states.
//! - A `web` task's CPU is the scripted share while traffic reaches it, ~3 % when none does;
//!   its memory follows its revision's model (`World::web_memory`).
//! - Host CPU adds up its tasks (or reads the scenario's host curve where that is higher:
//!   the host's own work under heavy traffic); a burstable host with no credits left (standard mode) sits at
//!   its 20 % baseline. Reservations add up the tasks holding each instance's resources.
//! - Only complete minutes are published.

use super::super::fleet::Fleet;
use super::super::scenario::record::{GroupSample, TaskLife};
use super::super::scenario::world::WEB;
use super::super::scenario::{Incident, curve_at};
use super::noise;
use crate::model::{
    Alarm, AlarmState, MetricId, MetricRequest, Point, SeriesData, Stat, Time,
    metric_catalog as cat,
};

/// CPU a t3's baseline allows once its credits are spent (t3.medium: 20 %).
const BURST_BASELINE: f64 = 20.0;
/// A response-time average as a share of its p95: most answers are well under the tail.
const AVERAGE_OF_P95: f64 = 0.55;
/// CPU share of a task that serves nothing (JVM housekeeping).
const IDLE_SHARE: f64 = 0.03;

pub fn metric_data(
    fleet: &Fleet,
    incident: &Incident,
    now: Time,
    request: &MetricRequest,
) -> Vec<SeriesData> {
    let end = request.end.min(now);
    request
        .series
        .iter()
        .map(|key| {
            let period = i64::from(key.period.max(60));
            let first = request.start.timestamp().div_euclid(period) * period;
            let points = (0..)
                .map(|i| first + i * period)
                .take_while(|&t| t + 60 <= end.timestamp())
                .filter(|&t| t >= request.start.timestamp())
                .filter_map(|t| {
                    let at = Time::from_timestamp(t, 0)?;
                    let minutes: Vec<f64> = (0..period / 60)
                        .filter_map(|m| Time::from_timestamp(t + m * 60, 0))
                        .filter(|m| *m + chrono::TimeDelta::seconds(60) <= end)
                        .filter_map(|m| minute(fleet, incident, &key.metric, m))
                        .collect();
                    if minutes.is_empty() {
                        return None;
                    }
                    let value = match key.metric.stat {
                        Stat::Sum => minutes.iter().sum(),
                        Stat::Maximum => minutes.iter().copied().fold(f64::MIN, f64::max),
                        // A period's p95 from its minutes' p95s: their mean is close enough.
                        Stat::Average | Stat::P95 => {
                            minutes.iter().sum::<f64>() / minutes.len() as f64
                        }
                    };
                    Some(Point { at, value })
                })
                .collect();
            SeriesData {
                key: key.clone(),
                points,
            }
        })
        .collect()
}

/// A number in [-0.5, 0.5) fixed per text and minute.
fn jitter(seed: &str, minute: Time) -> f64 {
    noise(seed, minute.timestamp()) - 0.5
}

/// The value of `m` over the minute starting at `at`, `None` where CloudWatch has no data.
fn minute(fleet: &Fleet, inc: &Incident, m: &MetricId, at: Time) -> Option<f64> {
    let mid = at + chrono::TimeDelta::seconds(30);
    let dim = |name| m.dimension(name).unwrap_or_default();
    let seed = format!("{}{:?}", m.name, m.dimensions);
    match m.namespace.as_str() {
        cat::ECS if !dim("ServiceName").is_empty() => {
            let tasks: Vec<&TaskLife> = inc
                .record
                .lives_of(dim("ClusterName"), dim("ServiceName"))
                .filter(|l| l.running_at(mid))
                .collect();
            if tasks.is_empty() {
                return None; // ECS publishes nothing for a service without running tasks
            }
            let shares: Vec<f64> = tasks
                .iter()
                .map(|l| match m.name.as_str() {
                    "CPUUtilization" => cpu_share(inc, l, at),
                    _ => memory_mib(inc, l, mid) / f64::from(l.memory.max(1)),
                })
                .collect();
            let value = match m.stat {
                Stat::Maximum => shares.iter().copied().fold(f64::MIN, f64::max),
                _ => shares.iter().sum::<f64>() / shares.len() as f64,
            };
            Some((value * 100.0).max(0.0))
        }
        cat::ECS => cluster_value(inc, dim("ClusterName"), &m.name, at, mid),
        cat::INSIGHTS => {
            let life = inc.record.lives.get(dim("TaskId"))?;
            if !life.running_at(mid) || life.cluster != dim("ClusterName") {
                return None;
            }
            Some(match m.name.as_str() {
                "CpuUtilized" => cpu_share(inc, life, at) * f64::from(life.cpu),
                "MemoryUtilized" => memory_mib(inc, life, mid),
                "NetworkRxBytes" => task_bytes(inc, life, at),
                "NetworkTxBytes" => 0.7 * task_bytes(inc, life, at),
                _ => return None,
            })
        }
        cat::EC2 => instance_value(inc, dim("InstanceId"), &m.name, at, mid, &seed),
        cat::ALB => load_balancer_value(fleet, inc, m, at, &seed),
        cat::NAT => nat_value(fleet, inc, dim("NatGatewayId"), &m.name, at),
        _ => None,
    }
}

/// Bytes a second a task receives: a `web` task with its CPU (requests in, calls out), the
/// quiet services a little.
fn task_bytes(inc: &Incident, life: &TaskLife, at: Time) -> f64 {
    let j = jitter(&format!("{}net", life.id), at);
    let share = cpu_share(inc, life, at);
    (20_000.0 + 600_000.0 * share) * (1.0 + 0.1 * j)
}

/// AWS/NATGateway: the scenario's egress (`Shape::nat`) shared evenly by the available
/// gateways.
fn nat_value(fleet: &Fleet, inc: &Incident, id: &str, name: &str, at: Time) -> Option<f64> {
    let available: Vec<&str> = fleet
        .nat_gateways
        .iter()
        .filter(|g| g.state == "available")
        .map(|g| g.id.as_str())
        .collect();
    if !available.contains(&id) {
        return None;
    }
    let nat = inc.script.shape.nat;
    let t = inc.replay_secs(at);
    let share = 1.0 / available.len() as f64;
    let j = 1.0 + 0.02 * jitter(id, at);
    let attempts = curve_at(nat.attempts, t) * share * j;
    Some(
        match name {
            "ActiveConnectionCount" => curve_at(nat.active, t) * share * j,
            "ConnectionAttemptCount" => attempts,
            "ConnectionEstablishedCount" => attempts * curve_at(nat.established, t).clamp(0.0, 1.0),
            "ErrorPortAllocation" => curve_at(nat.port_errors, t) * share,
            "PacketsDropCount" => curve_at(nat.drops, t) * share,
            "PacketsInFromSource" => curve_at(nat.packets, t) * share * j,
            _ => return None,
        }
        .round()
        .max(0.0),
    )
}

/// The share of its reserved CPU a task uses in the minute starting at `at`.
fn cpu_share(inc: &Incident, life: &TaskLife, at: Time) -> f64 {
    let j = jitter(&life.id, at);
    if life.service == WEB {
        let busy = curve_at(inc.script.shape.web_cpu, inc.replay_secs(at));
        let served = served(inc, &inc.world.web_target_group, at);
        ((busy * served).max(IDLE_SHARE) + 0.02 * j).clamp(0.005, 1.0)
    } else {
        0.08 + 0.12 * noise(&life.id, 0) + 0.02 * j
    }
}

fn memory_mib(inc: &Incident, life: &TaskLife, at: Time) -> f64 {
    let j = jitter(&life.id, at);
    let Some(started) = life.started else {
        return 0.0;
    };
    if life.service == WEB {
        let mib = inc.world.web_memory(&life.id, life.revision, started, at);
        (mib + 4.0 * j).min(f64::from(life.memory))
    } else {
        f64::from(life.memory) * (0.42 + 0.2 * noise(&life.id, 1)) * (1.0 + 0.01 * j)
    }
}

/// AWS/ECS per cluster: utilization of what is registered, and what the tasks reserve.
fn cluster_value(inc: &Incident, cluster: &str, name: &str, at: Time, mid: Time) -> Option<f64> {
    let instances: Vec<_> = inc
        .record
        .instances
        .iter()
        .filter(|i| i.cluster == cluster && i.registered <= mid)
        .collect();
    let cpu: f64 = instances.iter().map(|i| f64::from(i.cpu)).sum();
    let memory: f64 = instances.iter().map(|i| f64::from(i.memory)).sum();
    if cpu == 0.0 || memory == 0.0 {
        return None; // Fargate clusters publish no reservation
    }
    let lives = inc
        .record
        .lives
        .values()
        .filter(|l| l.cluster == cluster && l.ec2_instance_id.is_some());
    let mut used = 0.0;
    for l in lives {
        match name {
            "CPUReservation" if l.reserved_at(mid) => used += f64::from(l.cpu),
            "MemoryReservation" if l.reserved_at(mid) => used += f64::from(l.memory),
            "CPUUtilization" if l.running_at(mid) => {
                used += cpu_share(inc, l, at) * f64::from(l.cpu)
            }
            "MemoryUtilization" if l.running_at(mid) => used += memory_mib(inc, l, mid),
            _ => {}
        }
    }
    let total = if name.starts_with("CPU") { cpu } else { memory };
    Some((used / total * 100.0).clamp(0.0, 100.0))
}

/// AWS/EC2 per instance.
fn instance_value(
    inc: &Incident,
    instance: &str,
    name: &str,
    at: Time,
    mid: Time,
    seed: &str,
) -> Option<f64> {
    let i = inc
        .record
        .instances
        .iter()
        .find(|i| i.ec2_instance_id == instance)?;
    if mid < i.registered {
        return None;
    }
    let burstable = cat::is_burstable(&i.instance_type);
    let t = inc.replay_secs(at);
    let j = jitter(seed, at);
    let tasks: Vec<&TaskLife> = inc
        .record
        .lives
        .values()
        .filter(|l| l.ec2_instance_id.as_deref() == Some(instance) && l.running_at(mid))
        .collect();
    match name {
        "CPUCreditBalance" if burstable => Some(curve_at(inc.script.shape.credits, t).max(0.0)),
        // An unlimited host with its balance spent pays for what it bursts beyond baseline.
        "CPUSurplusCreditsCharged" if burstable => {
            let unlimited = *inc.world.unlimited_credits.at(mid);
            let spent = curve_at(inc.script.shape.credits, t) < 1.0;
            Some(if spent && unlimited {
                0.9 + 0.2 * j
            } else {
                0.0
            })
        }
        "StatusCheckFailed" | "StatusCheckFailed_System" | "StatusCheckFailed_Instance" => {
            Some(0.0)
        }
        // Bytes a minute: what its tasks receive and send, plus the host's own chatter.
        "NetworkIn" | "NetworkOut" => {
            let rate: f64 = tasks.iter().map(|l| task_bytes(inc, l, at)).sum();
            let rate = if name == "NetworkOut" {
                0.7 * rate
            } else {
                rate
            };
            Some((rate * 60.0 + 2.0e6 * (1.0 + 0.2 * j)).max(0.0))
        }
        "CPUUtilization" => {
            if tasks.is_empty() {
                return Some(1.5 + j);
            }
            if burstable {
                let unlimited = *inc.world.unlimited_credits.at(mid);
                let spent = curve_at(inc.script.shape.credits, t) < 1.0;
                return Some(if spent && !unlimited {
                    BURST_BASELINE + 1.6 * j
                } else {
                    curve_at(inc.script.shape.burst_cpu, t) + 3.0 * j
                });
            }
            let used: f64 = tasks
                .iter()
                .map(|l| cpu_share(inc, l, at) * f64::from(l.cpu))
                .sum();
            let own = used / f64::from(i.cpu.max(1)) * 100.0 + 2.0;
            let scripted =
                !inc.script.shape.host_cpu.is_empty() && tasks.iter().any(|l| l.service == WEB);
            let cpu = if scripted {
                own.max(curve_at(inc.script.shape.host_cpu, t))
            } else {
                own
            };
            Some((cpu + j).clamp(0.0, 100.0))
        }
        _ => None,
    }
}

/// The minute's traffic at one target group: requests, and the shares the ALB answered with
/// 503, 504 and 502 itself.
struct Traffic {
    requests: f64,
    e503: f64,
    e504: f64,
    /// The part of the 504s that reached a target but outlived the idle timeout (no
    /// connection error).
    hung: f64,
    e502: f64,
    healthy: (f64, f64),
    unhealthy: (f64, f64),
}

impl Traffic {
    fn served(&self) -> f64 {
        (1.0 - self.e503 - self.e504 - self.e502).max(0.0)
    }
}

fn traffic(inc: &Incident, tg: &str, service: &str, at: Time) -> Traffic {
    let to = at + chrono::TimeDelta::seconds(60);
    let samples = inc.record.samples(at, to);
    let groups: Vec<GroupSample> = samples
        .iter()
        .map(|s| s.groups.get(tg).cloned().unwrap_or_default())
        .collect();
    let n = groups.len().max(1) as f64;
    let (mut e503, mut e504, mut e502, mut resets) = (0.0, 0.0, 0.0, 0.0);
    for g in &groups {
        let (a, b, c) = g.errors();
        e503 += a / n;
        e504 += b / n;
        e502 += c / n;
        resets += f64::from(g.resets);
    }
    // A killed task resets the connections it was serving: under 1 % of the minute.
    e502 = (e502 + inc.world.reset_share * resets).min(1.0 - e503 - e504);
    let hung = if service == WEB && tg == inc.world.web_target_group {
        hung_share(inc, at).min((1.0 - e503 - e504 - e502).max(0.0))
    } else {
        0.0
    };
    let e504 = e504 + hung;
    let count = |f: fn(&GroupSample) -> u16| {
        let values: Vec<f64> = groups.iter().map(|g| f64::from(f(g))).collect();
        let mean = values.iter().sum::<f64>() / n;
        let max = values.iter().copied().fold(0.0, f64::max);
        (mean, max)
    };
    let requests = if service == WEB {
        curve_at(inc.script.shape.requests, inc.replay_secs(at))
    } else {
        300.0 + 600.0 * noise(service, 3)
    } * (1.0 + 0.06 * jitter(tg, at));
    Traffic {
        requests,
        e503,
        e504,
        hung,
        e502,
        healthy: count(|g| g.healthy),
        unhealthy: count(|g| g.unhealthy),
    }
}

/// Share of `web`'s requests in the minute starting at `at` that hang on the dependency: the
/// scenario's share, on the running tasks whose revision has no client timeout.
fn hung_share(inc: &Incident, at: Time) -> f64 {
    let mid = at + chrono::TimeDelta::seconds(30);
    let share = *inc.world.hung_calls.at(mid);
    if share <= 0.0 {
        return 0.0;
    }
    let cluster = super::super::scenario::world::CLUSTER;
    let running: Vec<&TaskLife> = inc
        .record
        .lives_of(cluster, WEB)
        .filter(|l| l.running_at(mid))
        .collect();
    if running.is_empty() {
        return 0.0;
    }
    let exposed = running
        .iter()
        .filter(|l| !inc.world.client_timeout.contains(&l.revision))
        .count();
    share * exposed as f64 / running.len() as f64
}

/// Share of `web`'s requests in the minute starting at `at` that fail with a 500 because the
/// task serving them cannot resolve the name the request needs.
fn unresolved_share(inc: &Incident, at: Time) -> f64 {
    let mid = at + chrono::TimeDelta::seconds(30);
    let cluster = super::super::scenario::world::CLUSTER;
    let running: Vec<&TaskLife> = inc
        .record
        .lives_of(cluster, WEB)
        .filter(|l| l.running_at(mid))
        .collect();
    if running.is_empty() {
        return 0.0;
    }
    let broken = running
        .iter()
        .filter(|l| l.started.is_some_and(|s| inc.world.cannot_resolve(s)))
        .count();
    inc.world.needs_lookup * broken as f64 / running.len() as f64
}

/// Share of the minute's requests that reached a target of group `tg`.
fn served(inc: &Incident, tg: &str, at: Time) -> f64 {
    traffic(inc, tg, WEB, at).served()
}

/// AWS/ApplicationELB: per target group (`TargetGroup` + `LoadBalancer`) or, for the errors
/// the load balancer answers itself and the request count, per load balancer.
fn load_balancer_value(
    fleet: &Fleet,
    inc: &Incident,
    m: &MetricId,
    at: Time,
    seed: &str,
) -> Option<f64> {
    let lb = m.dimension("LoadBalancer")?;
    let groups: Vec<(String, String)> = fleet
        .clusters
        .iter()
        .flat_map(|c| &c.services)
        .flat_map(|s| {
            s.service
                .target_group_lbs
                .iter()
                .map(move |(tg, l)| (tg.clone(), l.clone(), s.name().to_string()))
        })
        .filter(|(tg, l, _)| {
            l.ends_with(lb)
                && m.dimension("TargetGroup")
                    .is_none_or(|want| tg.ends_with(want))
        })
        .map(|(tg, _, service)| (tg, service))
        .collect();
    if groups.is_empty() {
        return None;
    }
    let per_group = m.dimension("TargetGroup").is_some();
    let mut total = 0.0;
    for (tg, service) in &groups {
        let t = traffic(inc, tg, service, at);
        let r = t.requests;
        let value = match m.name.as_str() {
            "RequestCount" => r.round(),
            "HTTPCode_ELB_5XX_Count" => (r * (t.e502 + t.e503 + t.e504)).round(),
            "HTTPCode_ELB_502_Count" => (r * t.e502).round(),
            "HTTPCode_ELB_503_Count" => (r * t.e503).round(),
            "HTTPCode_ELB_504_Count" => (r * t.e504).round(),
            "TargetConnectionErrorCount" => (r * (t.e504 - t.hung) * 0.97).round(),
            "HTTPCode_Target_5XX_Count" => {
                let lookups = if service == WEB {
                    unresolved_share(inc, at)
                } else {
                    0.0
                };
                (r * t.served() * (0.0003 * (1.0 + jitter(seed, at)) + lookups)).round()
            }
            "HTTPCode_Target_2XX_Count" => (r * t.served() * 0.985).round(),
            "TargetResponseTime" if per_group => {
                if t.served() < 0.01 {
                    return None;
                }
                let base = if service == WEB {
                    // Requests stuck on the dependency count with the 30 s they ran before the
                    // load balancer's idle timeout cut them off: they lift the average.
                    curve_at(inc.script.shape.response_time, inc.replay_secs(at)) + 30.0 * t.hung
                } else {
                    0.04 + 0.05 * noise(service, 4)
                };
                // The script gives the p95 (as the catalog does); most answers are faster.
                let p95 = base * (1.0 + 0.16 * jitter(seed, at));
                return Some(match m.stat {
                    Stat::P95 => p95,
                    _ => p95 * AVERAGE_OF_P95,
                });
            }
            "HealthyHostCount" if per_group => {
                return Some(match m.stat {
                    Stat::Maximum => t.healthy.1,
                    _ => t.healthy.0,
                });
            }
            "UnHealthyHostCount" if per_group => {
                return Some(match m.stat {
                    Stat::Maximum => t.unhealthy.1,
                    _ => t.unhealthy.0,
                });
            }
            _ => return None,
        };
        total += value;
    }
    Some(total)
}

/// The scenario's alarms, in the state their metric put them in over the last complete minute.
pub fn alarms(fleet: &Fleet, incident: &Incident, now: Time) -> Vec<Alarm> {
    let mut out = Vec::new();
    let Ok(services) = fleet.services(super::super::scenario::world::CLUSTER) else {
        return out;
    };
    let Some(web) = services.iter().find(|s| s.name == WEB) else {
        return out;
    };
    let at = Time::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(60) - 60, 0)
        .unwrap_or(now);
    let suffix = format!("{:08x}", (noise(&web.arn, 9) * f64::from(u32::MAX)) as u32);
    let mut add = |name: String, metric: MetricId, threshold: f64, above: bool| {
        let current = minute(fleet, incident, &metric, at);
        let state = match current {
            Some(v) if (above && v > threshold) || (!above && v < threshold) => AlarmState::Alarm,
            Some(_) => AlarmState::Ok,
            None => AlarmState::InsufficientData,
        };
        out.push(Alarm {
            name,
            state,
            namespace: metric.namespace.clone(),
            metric: metric.name.clone(),
            dimensions: metric.dimensions.clone(),
            threshold,
            comparison: if above {
                "GreaterThanThreshold"
            } else {
                "LessThanThreshold"
            }
            .into(),
            reason: match current {
                Some(v) => {
                    format!("Threshold Crossed: 1 datapoint [{v:.1}] was compared to {threshold}")
                }
                None => "Insufficient Data".into(),
            },
            updated_at: Some(at),
        });
    };
    let scaling = "TargetTracking-service/demo-prod/web-Alarm";
    add(
        format!("{scaling}High-{suffix}"),
        cat::service_cpu(web),
        60.0,
        true,
    );
    add(
        format!("{scaling}Low-{suffix}"),
        cat::service_cpu(web),
        54.0,
        false,
    );
    add(
        "demo-prod-web-memory-high".into(),
        cat::service_memory(web),
        85.0,
        true,
    );
    if let Some(unhealthy) = cat::service_targets(web)
        .into_iter()
        .find(|m| m.name == "UnHealthyHostCount")
    {
        add("demo-prod-web-unhealthy-hosts".into(), unhealthy, 0.0, true);
    }
    if let Some((_, lb)) = web.target_group_lbs.first()
        && let Some(lb) = lb.split_once(":loadbalancer/").map(|(_, r)| r)
    {
        let errors = MetricId::new(
            cat::ALB,
            "HTTPCode_ELB_5XX_Count",
            &[("LoadBalancer", lb)],
            Stat::Sum,
        );
        add("demo-alb-5xx".into(), errors, 100.0, true);
    }
    for i in fleet
        .instances(super::super::scenario::world::CLUSTER)
        .unwrap_or_default()
    {
        if let Some(credits) = cat::instance_credits(&i) {
            let name = format!("{}-cpu-credits-low", i.ec2_instance_id);
            add(name, credits, 10.0, false);
        }
    }
    out
}
