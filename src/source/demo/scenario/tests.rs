//! Every replayed incident, run in simulated time: the data the triage rules read at the
//! catalog's times, the recovery, and the console's actions the scenario reacts to.

use futures::executor::block_on;

use crate::model::{
    MetricId, MetricRequest, Operation, SeriesKey, Service, Stat, TargetGroupHealth, Task,
    TaskScope, Time, metric_catalog as cat,
};
use crate::source::FleetSource;
use crate::source::demo::DemoSource;

const CLUSTER: &str = "demo-prod";

fn demo(name: &str) -> DemoSource {
    DemoSource::scenario(name, 42).unwrap()
}

fn web(src: &DemoSource) -> Service {
    block_on(src.services(CLUSTER))
        .unwrap()
        .into_iter()
        .find(|s| s.name == "web")
        .unwrap()
}

fn scope() -> TaskScope {
    TaskScope::Service {
        cluster: CLUSTER.into(),
        service: "web".into(),
    }
}

fn live(src: &DemoSource) -> Vec<Task> {
    block_on(src.tasks(&scope(), false)).unwrap()
}

fn stopped(src: &DemoSource) -> Vec<Task> {
    block_on(src.tasks(&scope(), true)).unwrap()
}

fn health(src: &DemoSource) -> TargetGroupHealth {
    let tg = web(src).target_group_arns[0].clone();
    block_on(src.target_health(&[tg])).unwrap().remove(0)
}

/// The one-minute points of `metric` over the last `minutes` minutes.
fn points(src: &DemoSource, metric: &MetricId, minutes: i64) -> Vec<f64> {
    let now = src.now();
    let request = MetricRequest {
        series: vec![SeriesKey {
            metric: metric.clone(),
            period: 60,
        }],
        start: now - chrono::TimeDelta::minutes(minutes),
        end: now,
    };
    block_on(src.metric_data(&request)).unwrap()[0]
        .points
        .iter()
        .map(|p| p.value)
        .collect()
}

fn last(src: &DemoSource, metric: &MetricId) -> f64 {
    *points(src, metric, 5).last().expect("a recent point")
}

fn lb_metric(src: &DemoSource, name: &str) -> MetricId {
    let (_, lb) = web(src).target_group_lbs[0].clone();
    let lb = lb.split_once(":loadbalancer/").unwrap().1.to_string();
    MetricId::new(cat::ALB, name, &[("LoadBalancer", &lb)], Stat::Sum)
}

fn tg_metric(src: &DemoSource, name: &str, stat: Stat) -> MetricId {
    let svc = web(src);
    let (tg, lb) = svc.target_group_lbs[0].clone();
    let tg = format!("targetgroup/{}", tg.split_once(":targetgroup/").unwrap().1);
    let lb = lb.split_once(":loadbalancer/").unwrap().1.to_string();
    MetricId::new(cat::ALB, name, &[("TargetGroup", &tg), ("LoadBalancer", &lb)], stat)
}

fn dump(name: &str, until: f64, every: f64) {
    let src = demo(name);
    let mut t = 0.0;
    while t <= until {
        src.advance_replay(t);
        let s = web(&src);
        let h = health(&src);
        let states: Vec<String> = h
            .targets
            .iter()
            .map(|x| format!("{}:{}", x.state, x.reason))
            .collect();
        let deps: Vec<String> = s
            .deployments
            .iter()
            .map(|d| {
                format!(
                    "{}:{}:{}:{}f{}",
                    d.status, d.task_definition.revision, d.rollout_state, d.running, d.failed
                )
            })
            .collect();
        let e5 = points(&src, &lb_metric(&src, "HTTPCode_ELB_5XX_Count"), 3);
        let req = points(&src, &lb_metric(&src, "RequestCount"), 3);
        eprintln!(
            "t={t:5.1} {}/{}/{} deps={deps:?} targets={states:?} stopped={} 5xx={e5:?} req={req:?}",
            s.running,
            s.pending,
            s.desired,
            stopped(&src).len()
        );
        t += every;
    }
    let s = web(&src);
    for e in s.events.iter().rev() {
        eprintln!("{} {}", e.at, e.message);
    }
}

#[test]
#[ignore]
fn explore() {
    let name = std::env::var("SCENARIO").unwrap_or("bad-deploy".into());
    let until: f64 = std::env::var("UNTIL").ok().and_then(|s| s.parse().ok()).unwrap_or(120.0);
    dump(&name, until, 2.0);
}

#[allow(dead_code)]
fn unused(_: Operation, _: Time) {}
