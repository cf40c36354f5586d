//! A small fleet simulator for the healthy-fleet tests: the fleet is written down as task
//! lives (when each task started and stopped, where, with what exit), instances and services,
//! plus the load as functions of the simulated minute. Each minute it builds what the console
//! would hold at that instant — tasks, stops, instances, an hour and a half of 1-minute
//! metrics, the last 16 minutes of target-health polls every 30 s, recent log lines — and runs
//! the whole engine (every rule, every correlation) through the findings lifecycle, so holds
//! and clearing apply as in the console.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::TimeDelta;
use ecsmon::model::{
    Alarm, AlarmState, Cluster, Container, ContainerDefinition, CreditMode, Deployment,
    DeploymentConfig, HealthCheck, Insights, Instance, LbBinding, LogSample, MetricId,
    RecommendedAmi, ScalingBounds, Service, ServiceEvent, Severity, TargetGroupHealth,
    TargetHealth, Task, TaskDefRef, TaskDefinition, Time, metric_catalog as cat,
};
use ecsmon::state::Triage;
use ecsmon::testkit::fixed_now;
use ecsmon::triage::Facts;

pub const CLUSTER: &str = "prod";
pub const CLUSTER_ARN: &str = "arn:aws:ecs:us-east-1:1:cluster/prod";
const LB: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/edge/50dc6c495c0c9188";
pub const AZS: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
/// Minutes of metric history built at each step (the longest rule window is 60 minutes).
const HISTORY: i64 = 90;
/// Surplus credits an unlimited t3.large is billed per 5-minute period while it runs above
/// its baseline all day: at ~50 % against a 30 % baseline on 2 vCPUs it spends 0.4 credits a
/// minute beyond what it earns, and once the surplus reaches a day's earnings every further
/// credit is charged: 2 a period.
const SURPLUS_CHARGED: f64 = 2.0;
/// What AWS recommends for the hosts' ECS-optimized AMI family, and the image they run: the
/// current one, released three weeks ago, so the AMI and agent rules have their input and
/// nothing to say.
const AMI: &str = "ami-0c2f6b9d81e5a4437";
const AGENT: &str = "1.89.0";

/// A curve over simulated minutes (negative minutes: before the run, the fleet was already
/// up).
pub type Curve = Box<dyn Fn(f64) -> f64>;

/// A curve borrowing the fleet.
type Boxed<'a> = Box<dyn Fn(f64) -> f64 + 'a>;

/// How one task ended.
#[derive(Clone)]
pub struct Exit {
    pub stop_code: &'static str,
    pub exit_code: Option<i32>,
    pub reason: &'static str,
}

/// A deployment, a scale-in or a drain: ECS stopped it (SIGTERM, exit 143... or 0).
pub const SCHEDULER: Exit = Exit {
    stop_code: "ServiceSchedulerInitiated",
    exit_code: Some(0),
    reason: "Scaling activity initiated by (deployment ecs-svc/1234567890)",
};

/// A job that did its work.
pub const DONE: Exit = Exit {
    stop_code: "EssentialContainerExited",
    exit_code: Some(0),
    reason: "Essential container in task exited",
};

/// A Spot capacity reclaim (two minutes' notice, then SIGTERM).
pub const SPOT: Exit = Exit {
    stop_code: "SpotInterruption",
    exit_code: Some(143),
    reason: "Your Spot Task was interrupted.",
};

/// One task from start to stop.
#[derive(Clone)]
pub struct Life {
    pub n: u32,
    /// `service:web` or `family:nightly-report`.
    pub group: String,
    pub revision: u32,
    /// Index into [`Fleet::instances`]; `None` on Fargate.
    pub instance: Option<usize>,
    pub az: usize,
    /// Simulated minutes.
    pub start: f64,
    pub stop: Option<(f64, Exit)>,
}

impl Life {
    pub fn running_at(&self, m: f64) -> bool {
        self.start <= m && self.stop.as_ref().is_none_or(|(s, _)| *s > m)
    }

    fn service(&self) -> Option<&str> {
        self.group.strip_prefix("service:")
    }
}

pub struct Inst {
    /// `m5.large`, or a burstable `t3.large` (registered with the same 2 vCPU / 7680 MiB; it
    /// runs in unlimited mode, T3's default, at a zero credit balance).
    pub instance_type: &'static str,
    pub az: usize,
    /// Set to DRAINING at this minute…
    pub draining_from: Option<f64>,
    /// …and deregistered (gone from the cluster) at this one.
    pub gone_at: Option<f64>,
}

pub struct Svc {
    pub name: &'static str,
    pub fargate: bool,
    pub load_balanced: bool,
    /// Desired count at a minute.
    pub desired: Box<dyn Fn(f64) -> u32>,
    /// (revision, minute the deployment was created), oldest first.
    pub deployments: Vec<(u32, f64)>,
    pub cpu_units: u32,
    /// Hard memory limit of the task (MiB).
    pub memory: u32,
    /// JVM image with a heap setting (`-XX:MaxRAMPercentage=75`).
    pub jvm: bool,
    /// Service CPU (per cent of reserved).
    pub cpu: Curve,
    /// Memory used by a task (MiB), by task number and minute.
    pub task_memory: Box<dyn Fn(u32, f64) -> f64>,
    /// Requests a minute at the load balancer.
    pub requests: Curve,
    /// Average response time (s).
    pub response_time: Curve,
    /// Scaling bounds when the service is autoscaled.
    pub scaling: Option<(u32, u32)>,
    /// Target-tracking alarm states at a minute: (high in ALARM, low in ALARM).
    pub alarms: Box<dyn Fn(f64) -> (bool, bool)>,
    /// Log lines a task writes in the minute (task number, minute) → lines.
    pub logs: Box<dyn Fn(u32, f64) -> Vec<String>>,
}

impl Svc {
    /// A quiet, steady service behind the load balancer.
    pub fn steady(name: &'static str, desired: u32) -> Svc {
        Svc {
            name,
            fargate: false,
            load_balanced: true,
            desired: Box::new(move |_| desired),
            deployments: vec![(7, -3000.0)],
            cpu_units: 512,
            memory: 1024,
            jvm: false,
            cpu: Box::new(|m| 35.0 + 5.0 * (m / 7.0).sin()),
            task_memory: Box::new(|n, m| 400.0 + 10.0 * ((m + n as f64) / 5.0).sin()),
            requests: Box::new(|m| 3000.0 + 300.0 * (m / 30.0).sin()),
            response_time: Box::new(|m| 0.12 + 0.01 * (m / 3.0).sin()),
            scaling: None,
            alarms: Box::new(|_| (false, false)),
            logs: Box::new(|_, _| Vec::new()),
        }
    }

    fn task_def_arn(&self, revision: u32) -> String {
        format!(
            "arn:aws:ecs:us-east-1:1:task-definition/{}:{revision}",
            self.name
        )
    }

    fn target_group(&self) -> String {
        format!(
            "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg-{}/73e2d6bc24d8a067",
            self.name
        )
    }
}

pub struct Fleet {
    pub instances: Vec<Inst>,
    pub services: Vec<Svc>,
    pub lives: Vec<Life>,
    /// A host's CPU (per cent) by (instance index, tasks on it, minute).
    pub host_cpu: fn(usize, usize, f64) -> f64,
}

/// 30 % plus 8 points a task, with a small wobble.
pub fn host_cpu(k: usize, tasks: usize, m: f64) -> f64 {
    30.0 + 8.0 * tasks as f64 + 3.0 * ((m + k as f64) / 4.0).sin()
}

/// Every finding that was active at some minute, with its peak severity.
pub struct Seen {
    pub rule: String,
    pub subject: String,
    pub severity: Severity,
    pub message: String,
    pub first_minute: i64,
}

/// `lives` for `n` tasks of `service` started long before the run, spread over the AZs (and
/// the instances `0..instances` when on EC2).
pub fn settled(
    service: &str,
    numbers: std::ops::Range<u32>,
    instances: Option<usize>,
) -> Vec<Life> {
    numbers
        .map(|n| Life {
            n,
            group: format!("service:{service}"),
            revision: 7,
            instance: instances.map(|k| n as usize % k),
            // Host k sits in zone k % 3 (see [`three_hosts`] and the fourth hosts).
            az: instances.map_or(n as usize % 3, |k| n as usize % k % 3),
            start: -2000.0 - n as f64,
            stop: None,
        })
        .collect()
}

/// Three m5.large container instances, one per AZ.
pub fn three_hosts() -> Vec<Inst> {
    (0..3)
        .map(|az| Inst {
            instance_type: "m5.large",
            az,
            draining_from: None,
            gone_at: None,
        })
        .collect()
}

fn at(m: f64) -> Time {
    fixed_now() + TimeDelta::milliseconds((m * 60_000.0) as i64)
}

fn task_arn(n: u32) -> String {
    format!("arn:aws:ecs:us-east-1:1:task/prod/{n:08}aaaabbbbccccdddd")
}

fn ip(n: u32) -> String {
    format!("10.0.{}.{}", n / 250, n % 250 + 2)
}

fn instance_arn(i: usize) -> String {
    format!("arn:aws:ecs:us-east-1:1:container-instance/prod/{i:032}")
}

impl Fleet {
    /// Runs the fleet for `hours` of simulated time, one evaluation a minute.
    pub fn run(&self, hours: i64) -> Vec<Seen> {
        let mut triage = Triage::default();
        let mut seen: BTreeMap<(String, String), Seen> = BTreeMap::new();
        for minute in 0..=hours * 60 {
            let facts = self.facts(minute as f64);
            let observations = ecsmon::triage::evaluate(&facts.input());
            triage.apply(facts.now, observations, false);
            for f in triage.active() {
                let key = (f.current.rule.to_string(), f.current.subject.label());
                let entry = seen.entry(key.clone()).or_insert_with(|| Seen {
                    rule: key.0.clone(),
                    subject: key.1.clone(),
                    severity: f.severity(),
                    message: f.current.message.clone(),
                    first_minute: minute,
                });
                entry.severity = entry.severity.max(f.severity());
            }
        }
        seen.into_values().collect()
    }

    /// What the console holds at minute `m`.
    pub fn facts(&self, m: f64) -> Facts {
        let now = at(m);
        let mut f = Facts::at(now);
        let running: Vec<&Life> = self.lives.iter().filter(|l| l.running_at(m)).collect();
        f.tasks = running.iter().map(|l| self.task(l, m)).collect();
        f.stopped = self
            .lives
            .iter()
            .filter(|l| {
                l.stop
                    .as_ref()
                    .is_some_and(|(s, _)| *s <= m && m - s <= 60.0)
            })
            .map(|l| self.task(l, m))
            .collect();
        f.instances = self.instances_at(m);
        let (cpu_pct, mem_pct) = self.reservation(m);
        f.clusters = vec![Cluster {
            arn: CLUSTER_ARN.into(),
            name: CLUSTER.into(),
            status: "ACTIVE".into(),
            active_services: self.services.len() as u32,
            running_tasks: running.len() as u32,
            pending_tasks: 0,
            instances: f.instances.len() as u32,
            cpu_reserved_pct: Some(cpu_pct),
            memory_reserved_pct: Some(mem_pct),
            capacity_providers: vec!["FARGATE".into(), "FARGATE_SPOT".into()],
            container_insights: Insights::Enhanced,
            tags: Vec::new(),
            fetched_at: Some(now),
            context: None,
        }];
        let c = f.clusters[0].clone();
        f.series(
            cat::cluster_cpu_reserved(&c),
            &self.history(m, |t| self.reservation(t).0),
        );
        f.series(
            cat::cluster_memory_reserved(&c),
            &self.history(m, |t| self.reservation(t).1),
        );
        for i in &f.instances.clone() {
            let index = self.instance_index(i);
            f.series(
                cat::instance_cpu(i),
                &self.history(m, |t| (self.host_cpu)(index, self.tasks_on(index, t), t)),
            );
            f.series(cat::instance_status_check(i), &self.history(m, |_| 0.0));
            // Credits are published every 5 minutes. A T3 host above its 30 % baseline all
            // day has spent its balance; in unlimited mode AWS bills the surplus.
            let every_five =
                |v: f64| move |t: f64| if t.rem_euclid(5.0) < 1.0 { v } else { f64::NAN };
            if let Some(balance) = cat::instance_credits(i) {
                f.series(balance, &self.history(m, every_five(0.0)));
            }
            if let Some(charged) = cat::instance_surplus_charged(i) {
                f.series(charged, &self.history(m, every_five(SURPLUS_CHARGED)));
            }
        }
        for s in &self.services {
            self.add_service(&mut f, s, m);
        }
        for t in f.tasks.clone() {
            let Some(s) = t.service_name().and_then(|n| self.service(n)) else {
                continue;
            };
            let n = self.life_of(&t).n;
            let started = self.life_of(&t).start;
            f.series(
                cat::task_memory(&t),
                &self.history(m, |x| {
                    if x < started {
                        f64::NAN
                    } else {
                        (s.task_memory)(n, x)
                    }
                }),
            );
        }
        // The console keeps a stopped task's memory with the stop (its series is forgotten).
        for t in f.stopped.clone() {
            let Some(s) = t.service_name().and_then(|n| self.service(n)) else {
                continue;
            };
            let life = self.life_of(&t);
            let (n, started) = (life.n, life.start);
            let stop = life.stop.as_ref().map_or(m, |(at, _)| *at);
            let mut kept = Facts::at(at(stop));
            let values = self.history(stop, |x| {
                if x < started || x > stop {
                    f64::NAN
                } else {
                    (s.task_memory)(n, x)
                }
            });
            kept.series(cat::task_memory(&t), &values);
            if let Some(history) = kept.series.into_values().next() {
                f.stop_memory.insert(t.arn.to_string(), history);
            }
        }
        f.logs = self.logs(m);
        f
    }

    fn service(&self, name: &str) -> Option<&Svc> {
        self.services.iter().find(|s| s.name == name)
    }

    fn life_of(&self, t: &Task) -> &Life {
        self.lives.iter().find(|l| task_arn(l.n) == t.arn).unwrap()
    }

    fn instance_index(&self, i: &Instance) -> usize {
        (0..self.instances.len())
            .find(|&k| instance_arn(k) == i.arn)
            .unwrap()
    }

    fn tasks_on(&self, instance: usize, m: f64) -> usize {
        self.lives
            .iter()
            .filter(|l| l.instance == Some(instance) && l.running_at(m))
            .count()
    }

    /// 1-minute values for the [`HISTORY`] minutes up to `m`.
    fn history(&self, m: f64, f: impl Fn(f64) -> f64) -> Vec<f64> {
        (0..HISTORY)
            .map(|i| f(m - (HISTORY - 1 - i) as f64))
            .collect()
    }

    fn size(&self, l: &Life) -> (u32, u32) {
        l.service()
            .and_then(|n| self.service(n))
            .map_or((256, 512), |s| (s.cpu_units, s.memory))
    }

    /// (CPU, memory) reserved per cent of the EC2 instances at `m`.
    fn reservation(&self, m: f64) -> (f64, f64) {
        let hosts = self
            .instances
            .iter()
            .filter(|i| i.gone_at.is_none_or(|g| g > m))
            .count()
            .max(1) as f64;
        let (mut cpu, mut mem) = (0.0, 0.0);
        for l in self
            .lives
            .iter()
            .filter(|l| l.instance.is_some() && l.running_at(m))
        {
            let (c, me) = self.size(l);
            cpu += c as f64;
            mem += me as f64;
        }
        (
            100.0 * cpu / (2048.0 * hosts),
            100.0 * mem / (7680.0 * hosts),
        )
    }

    fn instances_at(&self, m: f64) -> Vec<Instance> {
        self.instances
            .iter()
            .enumerate()
            .filter(|(_, i)| i.gone_at.is_none_or(|g| g > m))
            .map(|(k, i)| {
                let on: Vec<&Life> = self
                    .lives
                    .iter()
                    .filter(|l| l.instance == Some(k) && l.running_at(m))
                    .collect();
                let cpu: u32 = on.iter().map(|l| self.size(l).0).sum();
                let mem: u32 = on.iter().map(|l| self.size(l).1).sum();
                let draining = i.draining_from.is_some_and(|d| d <= m);
                Instance {
                    arn: instance_arn(k),
                    loading: false,
                    described_at: None,
                    cluster_arn: CLUSTER_ARN.into(),
                    ec2_instance_id: format!("i-{k:017}"),
                    instance_type: i.instance_type.into(),
                    availability_zone: AZS[i.az].into(),
                    status: if draining { "DRAINING" } else { "ACTIVE" }.into(),
                    agent_connected: true,
                    agent_version: AGENT.into(),
                    running_tasks: on.len() as u32,
                    pending_tasks: 0,
                    cpu_registered: 2048,
                    cpu_remaining: 2048u32
                        .checked_sub(cpu)
                        .unwrap_or_else(|| panic!("host {k} overcommitted at minute {m}")),
                    memory_registered: 7680,
                    memory_remaining: 7680u32
                        .checked_sub(mem)
                        .unwrap_or_else(|| panic!("host {k} overcommitted at minute {m}")),
                    launched_at: Some(at(-3000.0)),
                    registered_at: Some(at(-3000.0)),
                    subnet_id: "subnet-a".into(),
                    // T3 launches in unlimited mode unless told otherwise.
                    credit_mode: if cat::is_burstable(i.instance_type) {
                        CreditMode::Unlimited
                    } else {
                        CreditMode::Unknown
                    },
                    image_id: AMI.into(),
                    image_created_at: Some(at(-21.0 * 24.0 * 60.0)),
                    recommended: Some(RecommendedAmi {
                        parameter: "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"
                            .into(),
                        image_id: AMI.into(),
                        image_name: "al2023-ami-ecs-hvm-2023.0.20261030-kernel-6.1-x86_64".into(),
                        agent_version: AGENT.into(),
                    }),
                }
            })
            .collect()
    }

    fn task(&self, l: &Life, m: f64) -> Task {
        let svc = l.service().and_then(|n| self.service(n));
        let family = svc.map_or_else(
            || l.group.trim_start_matches("family:").to_string(),
            |s| s.name.to_string(),
        );
        let (cpu, memory) = self.size(l);
        let stopped = l.stop.as_ref().filter(|(s, _)| *s <= m);
        let fargate = svc.is_some_and(|s| s.fargate) || l.instance.is_none();
        Task {
            arn: task_arn(l.n).into(),
            loading: false,
            described_at: None,
            cluster_arn: CLUSTER_ARN.into(),
            task_definition: TaskDefRef::from_arn(&format!(
                "arn:aws:ecs:us-east-1:1:task-definition/{family}:{}",
                l.revision
            )),
            last_status: if stopped.is_some() {
                "STOPPED"
            } else {
                "RUNNING"
            }
            .into(),
            desired_status: if stopped.is_some() {
                "STOPPED"
            } else {
                "RUNNING"
            }
            .into(),
            health: String::new().into(),
            group: l.group.as_str().into(),
            launch_type: if fargate { "FARGATE" } else { "EC2" }.into(),
            availability_zone: AZS[l.az].into(),
            private_ip: ip(l.n).into(),
            container_instance_arn: l.instance.map(|k| instance_arn(k).into()),
            ec2_instance_id: l.instance.map(|k| format!("i-{k:017}").into()),
            cpu: Some(cpu),
            memory: Some(memory),
            created_at: Some(at(l.start - 0.2)),
            started_at: Some(at(l.start)),
            stopping_at: stopped.map(|(s, _)| at(*s - 0.1)),
            stopped_at: stopped.map(|(s, _)| at(*s)),
            stop_code: stopped.map_or("", |(_, e)| e.stop_code).into(),
            stopped_reason: stopped.map_or("", |(_, e)| e.reason).into(),
            enable_execute_command: false,
            containers: vec![Container {
                name: "app".into(),
                image: format!("1.dkr.ecr.us-east-1.amazonaws.com/{family}:1.0").into(),
                last_status: if stopped.is_some() {
                    "STOPPED"
                } else {
                    "RUNNING"
                }
                .into(),
                exit_code: stopped.and_then(|(_, e)| e.exit_code),
                memory: Some(memory),
                ..Container::default()
            }],
            tags: Vec::new(),
        }
    }

    fn add_service(&self, f: &mut Facts, s: &Svc, m: f64) {
        let now = at(m);
        let group = format!("service:{}", s.name);
        let lives: Vec<&Life> = self.lives.iter().filter(|l| l.group == group).collect();
        let running = lives.iter().filter(|l| l.running_at(m)).count() as u32;
        let desired = (s.desired)(m);
        let (primary_rev, primary_at) = s
            .deployments
            .iter()
            .rev()
            .find(|(_, t)| *t <= m)
            .copied()
            .unwrap_or((7, -3000.0));
        let old_running = lives
            .iter()
            .filter(|l| l.running_at(m) && l.revision != primary_rev)
            .count() as u32;
        // As ECS does: a rollout completes once the old revision is gone and the new one has
        // run at the desired count; later scaling or a replaced task does not reopen it.
        let done = old_running == 0 && (running >= desired || m - primary_at > 15.0);
        let mut deployments = vec![Deployment {
            id: format!("ecs-svc/{primary_rev}"),
            status: "PRIMARY".into(),
            task_definition: TaskDefRef::from_arn(&s.task_def_arn(primary_rev)),
            desired,
            running: running - old_running,
            pending: 0,
            failed: 0,
            rollout_state: if done { "COMPLETED" } else { "IN_PROGRESS" }.into(),
            rollout_reason: String::new(),
            created_at: Some(at(primary_at)),
            updated_at: Some(now),
        }];
        if old_running > 0 {
            deployments.push(Deployment {
                id: "ecs-svc/old".into(),
                status: "ACTIVE".into(),
                task_definition: TaskDefRef::from_arn(&s.task_def_arn(primary_rev - 1)),
                desired: old_running,
                running: old_running,
                rollout_state: "COMPLETED".into(),
                created_at: Some(at(-3000.0)),
                updated_at: Some(now),
                ..Deployment::default()
            });
        }
        let tg = s.target_group();
        let service = Service {
            arn: format!("arn:aws:ecs:us-east-1:1:service/prod/{}", s.name),
            name: s.name.into(),
            cluster_arn: CLUSTER_ARN.into(),
            status: "ACTIVE".into(),
            desired,
            running,
            pending: 0,
            launch_type: if s.fargate { "FARGATE" } else { "EC2" }.into(),
            task_definition: TaskDefRef::from_arn(&s.task_def_arn(primary_rev)),
            deployments,
            events: vec![ServiceEvent {
                id: "e1".into(),
                at: now - TimeDelta::minutes(2),
                message: format!("(service {}) has reached a steady state.", s.name),
            }],
            created_at: Some(at(-10_000.0)),
            target_group_arns: if s.load_balanced {
                vec![tg.clone()]
            } else {
                vec![]
            },
            target_group_lbs: if s.load_balanced {
                vec![(tg.clone(), LB.into())]
            } else {
                vec![]
            },
            lb_bindings: if s.load_balanced {
                vec![LbBinding {
                    target_group_arn: tg.clone(),
                    container_name: "app".into(),
                    container_port: 8080,
                }]
            } else {
                vec![]
            },
            health_check_grace_secs: s.load_balanced.then_some(60),
            deployment_config: DeploymentConfig {
                minimum_healthy_percent: Some(100),
                maximum_percent: Some(200),
                circuit_breaker: true,
                rollback: true,
            },
            subnets: vec!["subnet-a".into(), "subnet-b".into(), "subnet-c".into()],
            ..Service::default()
        };
        for rev in [primary_rev - 1, primary_rev] {
            f.task_definitions
                .insert(s.task_def_arn(rev), Arc::new(self.task_definition(s, rev)));
        }
        if let Some((min, max)) = s.scaling {
            f.scaling.insert(
                (CLUSTER.to_string(), s.name.to_string()),
                ScalingBounds {
                    min,
                    max,
                    suspended: false,
                },
            );
            let (high, low) = (s.alarms)(m);
            for (kind, on) in [("AlarmHigh", high), ("AlarmLow", low)] {
                f.alarms.push(Alarm {
                    name: format!("TargetTracking-service/prod/{}-{kind}-1234", s.name),
                    state: if on {
                        AlarmState::Alarm
                    } else {
                        AlarmState::Ok
                    },
                    namespace: "AWS/ECS".into(),
                    metric: "CPUUtilization".into(),
                    dimensions: vec![
                        ("ClusterName".into(), CLUSTER.into()),
                        ("ServiceName".into(), s.name.into()),
                    ],
                    threshold: if kind == "AlarmHigh" { 70.0 } else { 30.0 },
                    comparison: String::new(),
                    reason: String::new(),
                    updated_at: Some(now - TimeDelta::minutes(1)),
                });
            }
        }
        let idle = |t: f64| (s.desired)(t) == 0;
        f.series(
            cat::service_cpu(&service),
            &self.history(m, |t| if idle(t) { f64::NAN } else { (s.cpu)(t) }),
        );
        f.series(
            cat::service_memory(&service),
            &self.history(m, |t| {
                if idle(t) {
                    f64::NAN
                } else {
                    100.0 * (s.task_memory)(0, t) / s.memory as f64
                }
            }),
        );
        f.series(
            cat::service_memory_max(&service),
            &self.history(m, |t| {
                if idle(t) {
                    f64::NAN
                } else {
                    100.0 * (s.task_memory)(1, t) / s.memory as f64 + 2.0
                }
            }),
        );
        if s.load_balanced {
            let healthy_at = |t: f64| {
                lives
                    .iter()
                    .filter(|l| l.running_at(t) && t - l.start >= 0.5)
                    .count() as f64
            };
            let on = |t: f64, v: f64| if idle(t) { f64::NAN } else { v };
            let series: Vec<(Option<MetricId>, Boxed<'_>)> = vec![
                (
                    cat::target_group_requests(&tg, LB),
                    Box::new(|t| on(t, (s.requests)(t))),
                ),
                // ELB publishes error counts only when there are errors.
                (cat::target_group_5xx(&tg, LB), Box::new(|_| f64::NAN)),
                (
                    cat::target_group_response_time(&tg, LB),
                    Box::new(|t| on(t, (s.response_time)(t))),
                ),
                (
                    cat::target_group_connection_errors(&tg, LB),
                    Box::new(|_| f64::NAN),
                ),
                (cat::target_group_healthy(&tg, LB), Box::new(healthy_at)),
                (cat::target_group_unhealthy(&tg, LB), Box::new(|_| 0.0)),
            ];
            for (metric, curve) in series {
                if let Some(metric) = metric {
                    f.series(metric, &self.history(m, curve));
                }
            }
            if let Some(requests) = cat::load_balancer_requests(LB) {
                f.series(requests, &self.history(m, |t| (s.requests)(t)));
            }
            f.target_health.insert(tg.clone(), self.polls(s, &lives, m));
        }
        f.services.push(service);
    }

    /// DescribeTargetHealth every 30 s over the last 16 minutes: a task's target is `initial`
    /// for its first 30 s, then healthy; a stopped task's target drains for 20 s.
    fn polls(&self, s: &Svc, lives: &[&Life], m: f64) -> Vec<TargetGroupHealth> {
        let mut polls = Vec::new();
        let mut p = (m * 2.0).floor() / 2.0 - 16.0;
        while p <= m {
            let targets = lives
                .iter()
                .filter_map(|l| {
                    let (state, reason) = if l.running_at(p) {
                        if p - l.start < 0.5 {
                            ("initial", "Elb.RegistrationInProgress")
                        } else {
                            ("healthy", "")
                        }
                    } else if let Some((stop, _)) = &l.stop
                        && *stop <= p
                        && p - stop < 0.34
                    {
                        ("draining", "Target.DeregistrationInProgress")
                    } else {
                        return None;
                    };
                    Some(TargetHealth {
                        id: ip(l.n),
                        port: Some(8080),
                        availability_zone: AZS[l.az].into(),
                        state: state.into(),
                        reason: reason.into(),
                        description: String::new(),
                    })
                })
                .collect();
            polls.push(TargetGroupHealth {
                arn: s.target_group(),
                name: format!("tg-{}", s.name),
                health_check: HealthCheck {
                    protocol: "HTTP".into(),
                    path: "/actuator/health".into(),
                    port: "traffic-port".into(),
                    interval_secs: 15,
                    timeout_secs: 5,
                    healthy_threshold: 2,
                    unhealthy_threshold: 3,
                    matcher: "200".into(),
                },
                targets,
                fetched_at: Some(at(p)),
            });
            p += 0.5;
        }
        polls
    }

    fn task_definition(&self, s: &Svc, revision: u32) -> TaskDefinition {
        let mut environment = Vec::new();
        if s.jvm {
            environment.push((
                "JAVA_TOOL_OPTIONS".to_string(),
                "-XX:MaxRAMPercentage=75".to_string(),
            ));
        }
        TaskDefinition {
            reference: TaskDefRef::from_arn(&s.task_def_arn(revision)),
            status: "ACTIVE".into(),
            cpu: Some(s.cpu_units),
            memory: Some(s.memory),
            network_mode: "awsvpc".into(),
            requires_compatibilities: vec![if s.fargate { "FARGATE" } else { "EC2" }.into()],
            containers: vec![ContainerDefinition {
                name: "app".into(),
                image: if s.jvm {
                    "1.dkr.ecr.us-east-1.amazonaws.com/eclipse-temurin-app:21".into()
                } else {
                    "1.dkr.ecr.us-east-1.amazonaws.com/app:1.0".into()
                },
                memory: Some(s.memory),
                essential: true,
                log_driver: "awslogs".into(),
                environment,
                ..ContainerDefinition::default()
            }],
            ..TaskDefinition::default()
        }
    }

    /// The last ten minutes of what the running tasks logged.
    fn logs(&self, m: f64) -> Vec<LogSample> {
        let mut out = Vec::new();
        for minute in (m as i64 - 9)..=(m as i64) {
            let t = minute as f64;
            for l in self.lives.iter().filter(|l| l.running_at(t)) {
                let Some(s) = l.service().and_then(|n| self.service(n)) else {
                    continue;
                };
                for (k, message) in (s.logs)(l.n, t).into_iter().enumerate() {
                    out.push(LogSample {
                        cluster: CLUSTER.into(),
                        service: Some(s.name.into()),
                        task_arn: task_arn(l.n),
                        container: "app".into(),
                        at: at(t) + TimeDelta::seconds(k as i64),
                        message,
                    });
                }
            }
        }
        out
    }
}
