//! Every replayed incident, run in simulated time: the data the triage rules read at the
//! catalog's times, the recovery, and the console's actions each scenario reacts to. One file
//! per scenario; the checks every scenario shares are here.

mod bad_deploy;
mod capacity;
mod cpu_credits;
mod dns;
mod high_cpu;
mod image_pull;
mod load_test_oom;
mod memory_leak;
mod post_deploy_leak;
mod s3_denied;
mod sg_outage;
mod slow_dependency;
mod stuck_deploy;

use futures::executor::block_on;

use crate::model::{
    Instance, LogQuery, MetricId, MetricRequest, Operation, Point, SeriesKey, Service, Stat,
    TargetGroupHealth, Task, TaskScope, Time, metric_catalog as cat,
};
use crate::source::FleetSource;
use crate::source::demo::{DemoClock, DemoSource};

pub const CLUSTER: &str = "demo-prod";
pub const NAMES: [&str; 13] = [
    "memory-leak",
    "cpu-credits",
    "bad-deploy",
    "capacity",
    "image-pull",
    "sg-outage",
    "high-cpu",
    "stuck-deploy",
    "post-deploy-leak",
    "load-test-oom",
    "slow-dependency",
    "s3-denied",
    "dns",
];

pub fn demo(name: &str) -> DemoSource {
    DemoSource::scenario(name, 42).unwrap()
}

/// `src` at replay second `t`.
pub fn at(src: &DemoSource, t: f64) -> &DemoSource {
    src.advance_replay(t);
    src
}

pub fn time(src: &DemoSource, t: f64) -> Time {
    src.replay_time(t).unwrap()
}

pub fn service(src: &DemoSource, name: &str) -> Service {
    block_on(src.services(CLUSTER))
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
}

pub fn web(src: &DemoSource) -> Service {
    service(src, "web")
}

fn scope(name: &str) -> TaskScope {
    TaskScope::Service {
        cluster: CLUSTER.into(),
        service: name.into(),
    }
}

/// Tasks of `web` that are not stopped.
pub fn live(src: &DemoSource) -> Vec<Task> {
    block_on(src.tasks(&scope("web"), false)).unwrap()
}

/// Tasks of `web` that ECS is stopping or has stopped.
pub fn ended(src: &DemoSource) -> Vec<Task> {
    let mut out: Vec<Task> = live(src)
        .into_iter()
        .filter(|t| t.desired_status == "STOPPED")
        .collect();
    out.extend(stopped(src));
    out
}

/// Stopped tasks of `web`, newest stop first.
pub fn stopped(src: &DemoSource) -> Vec<Task> {
    block_on(src.tasks(&scope("web"), true)).unwrap()
}

pub fn instances(src: &DemoSource) -> Vec<Instance> {
    block_on(src.instances(CLUSTER)).unwrap()
}

pub fn health(src: &DemoSource) -> TargetGroupHealth {
    let tg = web(src).target_group_arns[0].clone();
    block_on(src.target_health(&[tg])).unwrap().remove(0)
}

/// Target states of `web`'s group as `state/reason` strings.
pub fn states(src: &DemoSource) -> Vec<String> {
    health(src)
        .targets
        .iter()
        .map(|t| format!("{}/{}", t.state, t.reason))
        .collect()
}

pub fn apply(src: &DemoSource, op: Operation) -> String {
    block_on(src.apply(&op)).unwrap()
}

pub fn service_arn(name: &str) -> String {
    format!("arn:aws:ecs:eu-west-1:123456789012:service/{CLUSTER}/{name}")
}

/// One-minute points of `metric` between replay seconds `from` and `to`.
pub fn window(src: &DemoSource, metric: &MetricId, from: f64, to: f64) -> Vec<Point> {
    let request = MetricRequest {
        series: vec![SeriesKey {
            metric: metric.clone(),
            period: 60,
        }],
        start: time(src, from),
        end: time(src, to),
    };
    block_on(src.metric_data(&request)).unwrap()[0]
        .points
        .clone()
}

pub fn values(points: &[Point]) -> Vec<f64> {
    points.iter().map(|p| p.value).collect()
}

/// The latest complete minute of `metric` (at the source's now).
pub fn latest(src: &DemoSource, metric: &MetricId) -> f64 {
    let now = src.replay_secs().unwrap();
    let points = window(src, metric, now - 600.0 / ratio(src), now);
    points.last().expect("a recent point").value
}

pub fn ratio(src: &DemoSource) -> f64 {
    let one = (time(src, 1.0) - time(src, 0.0)).num_seconds();
    one as f64
}

/// Minutes of replay time (`minutes` incident minutes, in replay seconds).
pub fn minutes(src: &DemoSource, minutes: f64) -> f64 {
    minutes * 60.0 / ratio(src)
}

pub fn lb_dimension(src: &DemoSource) -> (String, String) {
    let (tg, lb) = web(src).target_group_lbs[0].clone();
    let tg = format!("targetgroup/{}", tg.split_once(":targetgroup/").unwrap().1);
    let lb = lb.split_once(":loadbalancer/").unwrap().1.to_string();
    (tg, lb)
}

/// An ALB metric of the load balancer (`HTTPCode_ELB_5XX_Count`, `RequestCount`).
pub fn lb_metric(src: &DemoSource, name: &str) -> MetricId {
    let (_, lb) = lb_dimension(src);
    MetricId::new(cat::ALB, name, &[("LoadBalancer", &lb)], Stat::Sum)
}

/// An ALB metric of `tg-web`.
pub fn tg_metric(src: &DemoSource, name: &str, stat: Stat) -> MetricId {
    let (tg, lb) = lb_dimension(src);
    MetricId::new(
        cat::ALB,
        name,
        &[("TargetGroup", &tg), ("LoadBalancer", &lb)],
        stat,
    )
}

/// Lines of a task's `web` container between replay seconds `from` and `to`.
pub fn log_lines(src: &DemoSource, task: &Task, from: f64, to: f64) -> Vec<(Time, String)> {
    let query = LogQuery {
        group: "/ecs/web".into(),
        region: None,
        streams: vec![format!("ecs/web/{}", task.id())],
        start: time(src, from),
        end: Some(time(src, to)),
        limit: None,
    };
    block_on(src.log_events(&query))
        .unwrap()
        .into_iter()
        .map(|e| (e.at, e.message))
        .collect()
}

pub fn messages(src: &DemoSource) -> Vec<String> {
    web(src).events.into_iter().map(|e| e.message).collect()
}

/// The events of `web` written after replay second `t`.
pub fn events_since(src: &DemoSource, t: f64) -> Vec<String> {
    let since = time(src, t);
    web(src)
        .events
        .into_iter()
        .filter(|e| e.at > since)
        .map(|e| e.message)
        .collect()
}

/// `web` is back to normal: every task running and serving, its rollout complete, its target
/// group healthy and no errors from the load balancer.
pub fn assert_recovered(src: &DemoSource) {
    let svc = web(src);
    assert_eq!(
        (svc.running, svc.pending),
        (svc.desired, 0),
        "{} at {:?}",
        src.replay_secs().unwrap(),
        svc.deployments
    );
    assert_eq!(svc.deployments.len(), 1, "{:?}", svc.deployments);
    assert_eq!(svc.deployments[0].rollout_state, "COMPLETED");
    let h = health(src);
    assert_eq!(h.targets.len(), svc.desired as usize, "{:?}", h.targets);
    assert!(
        h.targets.iter().all(|t| t.state == "healthy"),
        "{:?}",
        h.targets
    );
    assert_eq!(latest(src, &lb_metric(src, "HTTPCode_ELB_5XX_Count")), 0.0);
    let healthy = latest(src, &tg_metric(src, "HealthyHostCount", Stat::Average));
    assert!(healthy >= f64::from(svc.desired) - 0.5, "{healthy}");
}

#[test]
fn every_scenario_is_listed_with_the_catalog_ratio() {
    let listed = DemoSource::scenarios();
    let ratios = [30, 60, 5, 10, 10, 10, 10, 10, 120, 10, 10, 10, 10];
    for (name, ratio) in NAMES.iter().zip(ratios) {
        assert!(listed.contains(name), "{name}");
        assert_eq!(DemoSource::replay_ratio(name), Some(ratio), "{name}");
    }
    assert_eq!(DemoSource::replay_ratio("default"), None);
    let replays: Vec<&str> = DemoSource::replays().iter().map(|r| r.0).collect();
    assert_eq!(replays, NAMES);
}

#[test]
fn the_fixture_is_the_catalogs() {
    for name in NAMES {
        let src = demo(name);
        let clusters = block_on(src.clusters()).unwrap();
        let prod = clusters.iter().find(|c| c.name == CLUSTER).unwrap();
        assert_eq!(prod.container_insights, crate::model::Insights::Enhanced);
        let svc = web(&src);
        assert_eq!(svc.task_definition.family, "web");
        assert_eq!(svc.task_definition.revision, 16);
        assert!(svc.target_group_arns[0].contains(":targetgroup/tg-web/"));
        assert!(
            svc.target_group_lbs[0]
                .1
                .contains(":loadbalancer/app/demo-alb/")
        );
        assert_eq!(svc.health_check_grace_secs, Some(60));
        let breaker = name != "stuck-deploy";
        assert_eq!(svc.deployment_config.circuit_breaker, breaker, "{name}");
        assert_eq!(svc.deployment_config.rollback, breaker, "{name}");
        assert_eq!(svc.lb_bindings[0].container_port, 8080);
        assert_eq!(
            block_on(src.scaling_bounds(CLUSTER, "web"))
                .unwrap()
                .map(|b| (b.min, b.max)),
            Some((2, if name == "load-test-oom" { 10 } else { 6 }))
        );
        let h = health(&src);
        assert_eq!(h.name, "tg-web");
        assert_eq!(h.health_check.interval_secs, 30);
        assert_eq!(h.health_check.unhealthy_threshold, 2);
        assert!(
            h.targets
                .iter()
                .all(|t| t.state == "healthy" && t.port == Some(8080))
        );
        let azs: std::collections::BTreeSet<String> = instances(&src)
            .iter()
            .map(|i| i.availability_zone.clone())
            .collect();
        let tasks = live(&src);
        assert_eq!(tasks.len() as u32, svc.desired);
        assert!(tasks.iter().all(|t| t.last_status == "RUNNING"));
        match name {
            "cpu-credits" => {
                let i = instances(&src);
                assert_eq!(i.len(), 1);
                assert_eq!(i[0].instance_type, "t3.medium");
                assert_eq!((svc.desired, tasks[0].cpu), (2, Some(1024)));
            }
            "load-test-oom" => {
                assert_eq!(
                    (svc.desired, tasks[0].cpu, tasks[0].memory),
                    (2, Some(256), Some(512))
                );
            }
            "post-deploy-leak" => {
                assert_eq!(
                    (svc.desired, tasks[0].cpu, tasks[0].memory),
                    (3, Some(512), Some(512))
                );
            }
            "capacity" => {
                assert_eq!(instances(&src).len(), 2);
                assert_eq!((svc.desired, tasks[0].memory), (2, Some(2048)));
                assert_eq!(azs.len(), 2);
            }
            _ => {
                let i = instances(&src);
                assert!(i.iter().all(|i| i.instance_type == "m5.large"));
                assert_eq!(i.len(), 3);
                assert_eq!(azs.len(), 2);
                assert_eq!(
                    (svc.desired, tasks[0].cpu, tasks[0].memory),
                    (4, Some(512), Some(1024))
                );
            }
        }
    }
}

#[test]
fn every_scenario_recovers_on_its_own() {
    for name in NAMES {
        let src = demo(name);
        let end = src.recovered_by().unwrap();
        // Each unfolds within one to three minutes of wall time (memory-leak's second fix,
        // the code change, lands at four).
        assert!(end <= 290.0, "{name} takes {end} s");
        src.advance_replay(end);
        assert_recovered(&src);
        assert_eq!(
            src.lock().incident.as_ref().unwrap().steps_left(),
            0,
            "{name}: some steps never ran"
        );
        for neighbour in ["admin", "auth", "orders-worker"] {
            if let Some(s) = block_on(src.services(CLUSTER))
                .unwrap()
                .into_iter()
                .find(|s| s.name == neighbour)
            {
                assert_eq!(
                    (s.running, s.desired),
                    (s.desired, s.desired),
                    "{name}/{neighbour}"
                );
            }
        }
    }
}

#[test]
fn the_neighbours_stay_quiet() {
    for name in NAMES {
        let src = demo(name);
        let end = src.recovered_by().unwrap();
        let mut t = 0.0;
        while t <= end {
            src.advance_replay(t);
            for cluster in ["demo-prod", "demo-batch"] {
                for s in block_on(src.services(cluster)).unwrap() {
                    if s.name == "web" {
                        continue;
                    }
                    assert_eq!(
                        (s.running, s.pending),
                        (s.desired, 0),
                        "{name} {} at {t}",
                        s.name
                    );
                    let scope = TaskScope::Service {
                        cluster: cluster.into(),
                        service: s.name.clone(),
                    };
                    assert!(block_on(src.tasks(&scope, true)).unwrap().is_empty());
                    if let Some(tg) = s.target_group_arns.first() {
                        let h = block_on(src.target_health(std::slice::from_ref(tg))).unwrap();
                        assert!(h[0].targets.iter().all(|t| t.state == "healthy"));
                    }
                    let cpu = window(&src, &cat::service_cpu(&s), t - minutes(&src, 5.0), t);
                    assert!(values(&cpu).iter().all(|v| *v < 40.0), "{name} {}", s.name);
                }
            }
            t += 10.0;
        }
    }
}

#[test]
fn a_seed_gives_the_same_incident_and_jumps_equal_small_steps() {
    for name in NAMES {
        let one = demo(name);
        let other = demo(name);
        let end = one.recovered_by().unwrap();
        one.advance_replay(end);
        let mut t = 0.0;
        while t < end {
            t = (t + 3.7).min(end);
            other.advance_replay(t);
        }
        assert_eq!(web(&one), web(&other), "{name}");
        assert_eq!(stopped(&one), stopped(&other), "{name}");
        assert_eq!(states(&one), states(&other), "{name}");
        let five = lb_metric(&one, "HTTPCode_ELB_5XX_Count");
        assert_eq!(
            window(&one, &five, 0.0, end),
            window(&other, &five, 0.0, end)
        );
        let different = DemoSource::scenario(name, 7).unwrap();
        different.advance_replay(end);
        assert_ne!(live(&one)[0].arn, live(&different)[0].arn, "{name}");
    }
}

#[test]
fn past_minutes_read_the_same_later() {
    for name in NAMES {
        let src = demo(name);
        let end = src.recovered_by().unwrap();
        src.advance_replay(end / 2.0);
        let svc = web(&src);
        let task = live(&src)[0].clone();
        let metrics = [
            lb_metric(&src, "HTTPCode_ELB_5XX_Count"),
            tg_metric(&src, "HealthyHostCount", Stat::Average),
            cat::service_cpu(&svc),
            cat::service_memory(&svc),
            cat::task_memory(&task),
            MetricId::new(
                cat::ECS,
                "MemoryReservation",
                &[("ClusterName", CLUSTER)],
                Stat::Average,
            ),
        ];
        let before: Vec<Vec<Point>> = metrics
            .iter()
            .map(|m| window(&src, m, 0.0, end / 2.0))
            .collect();
        let lines = log_lines(&src, &task, 0.0, end / 2.0);
        src.advance_replay(end);
        for (m, b) in metrics.iter().zip(&before) {
            assert!(!b.is_empty(), "{name} {}", m.name);
            assert_eq!(&window(&src, m, 0.0, end / 2.0), b, "{name} {}", m.name);
        }
        assert_eq!(log_lines(&src, &task, 0.0, end / 2.0), lines, "{name}");
    }
}

#[test]
fn the_scaled_clock_runs_incident_time() {
    let origin = chrono::Utc::now() - chrono::TimeDelta::seconds(3);
    let clock = DemoClock::Scaled { origin, ratio: 10 };
    let now = clock.now();
    // Bracketed by wall-clock reads, so however long the machine stalls the bounds hold: at
    // least the 3 s before the read, at most what had passed after it, both times ten.
    let after = chrono::Utc::now();
    assert!(now >= origin + chrono::TimeDelta::seconds(30), "{now}");
    assert!(now <= origin + (after - origin) * 10, "{now}");
    let src = DemoSource::new("sg-outage", 1, origin, clock).unwrap();
    // The console's clock is the source's: incident time.
    assert!(FleetSource::now(&src) >= origin + chrono::TimeDelta::seconds(30));
    assert!(src.replay_secs().unwrap() >= 3.0);
}

#[test]
fn a_harness_drives_a_replay_in_incident_time() {
    let mut h = crate::testkit::Harness::new("sg-outage", 160, 45);
    h.advance_replay(30.0);
    let start = crate::testkit::fixed_now();
    assert_eq!(h.state.now, start + chrono::TimeDelta::seconds(300));
    let frame = h.render();
    assert!(frame.contains("demo-prod"), "{frame}");
}

/// The replayed VPC's egress: one NAT gateway for every private subnet, carrying `Shape::nat`
/// (quiet unless a scenario raises it), shared evenly once a step adds a second gateway.
#[test]
fn the_nat_gateways_carry_the_scenarios_egress_between_them() {
    use crate::source::demo::names;
    let src = demo("memory-leak");
    at(&src, 30.0);
    let subnets: Vec<String> = names::PRIVATE_SUBNETS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let nats = block_on(src.nat_gateways(&subnets)).unwrap();
    assert_eq!(nats.len(), 1);
    assert_eq!(nats[0].id, names::NAT_A);
    assert_eq!(nats[0].serves, subnets);
    assert!(
        block_on(src.nat_gateways(&["subnet-other".into()]))
            .unwrap()
            .is_empty()
    );
    // The steady egress: every connection established, nothing dropped.
    let active = latest(&src, &cat::nat_active_connections(names::NAT_A));
    let attempts = latest(&src, &cat::nat_connection_attempts(names::NAT_A));
    let established = latest(&src, &cat::nat_connections_established(names::NAT_A));
    assert!((3_000.0..3_400.0).contains(&active), "{active}");
    assert_eq!(attempts, established);
    assert_eq!(
        latest(&src, &cat::nat_port_allocation_errors(names::NAT_A)),
        0.0
    );
    assert_eq!(latest(&src, &cat::nat_packets_dropped(names::NAT_A)), 0.0);
    // A second gateway (a route table change) takes half the load.
    {
        let mut fleet = src.lock();
        let mut b = fleet.nat_gateways[0].clone();
        b.id = "nat-0b2e4d6f8a1c35790".into();
        b.serves = vec![subnets[1].clone()];
        fleet.nat_gateways[0].serves.retain(|s| *s != subnets[1]);
        fleet.nat_gateways.push(b);
    }
    let half = latest(&src, &cat::nat_active_connections(names::NAT_A));
    assert!((1_500.0..1_700.0).contains(&half), "{half}");
    let nats = block_on(src.nat_gateways(&subnets)).unwrap();
    assert_eq!(nats.len(), 2);
    assert_eq!(nats[1].serves, vec![subnets[1].clone()]);
}

/// Instances and tasks report their network: bytes a minute per instance (`Sum`), bytes a
/// second per task, more where more runs.
#[test]
fn instances_and_tasks_report_their_network() {
    let src = demo("memory-leak");
    at(&src, 30.0);
    for i in instances(&src) {
        let bytes = latest(&src, &cat::instance_network_in(&i));
        assert!(bytes > 1.0e6, "{} {bytes}", i.ec2_instance_id);
        assert!(latest(&src, &cat::instance_network_out(&i)) < bytes);
    }
    let task = live(&src).into_iter().next().expect("a web task");
    let rx = latest(&src, &cat::task_network_rx(&task));
    assert!(rx > 20_000.0, "{rx}");
    assert!(latest(&src, &cat::task_network_tx(&task)) < rx);
}
