//! Healthy-fleet set: fleets that are busy but fine, each run for hours of simulated time
//! through the whole triage engine (every rule and correlation, evaluated every minute through
//! the findings lifecycle so holds apply). None may raise a warning or a critical finding, and
//! every info finding must be one this file expects, with the reason it is right.
//!
//! Every host runs the ECS-optimized AMI AWS currently recommends, with its agent, so the AMI
//! and agent rules read real input on every fleet and have nothing to say.

#[path = "healthy_fleets/sim.rs"]
mod sim;

use ecsmon::model::Severity;
use sim::{DONE, Fleet, Inst, Life, SCHEDULER, SPOT, Svc, host_cpu, settled, three_hosts};

/// Runs `fleet` for `hours` and checks it stays quiet: only the info findings in `expected`
/// (rule, why it is right on this fleet) may open.
fn assert_quiet(name: &str, fleet: &Fleet, hours: i64, expected: &[(&str, &str)]) {
    let seen = fleet.run(hours);
    let loud: Vec<String> = seen
        .iter()
        .filter(|s| s.severity > Severity::Info || !expected.iter().any(|(r, _)| *r == s.rule))
        .map(|s| {
            format!(
                "{} {} on {} at minute {}: {}",
                s.severity.label(),
                s.rule,
                s.subject,
                s.first_minute,
                s.message
            )
        })
        .collect();
    assert!(
        loud.is_empty(),
        "{name}: a healthy fleet raised findings:\n{}",
        loud.join("\n")
    );
}

/// A G1 sawtooth: memory climbs from 900 to 1500 MiB over 12 minutes, a collection brings it
/// back, in a different phase on each task.
fn sawtooth(n: u32, m: f64) -> f64 {
    let phase = ((m + 3.0 * n as f64) / 12.0).rem_euclid(1.0);
    900.0 + 600.0 * phase
}

/// Young pauses every minute, a mixed collection at each drop of the sawtooth and one full GC
/// an hour (an explicit System.gc() from a nightly cache rebuild).
fn gc_logs(n: u32, m: f64) -> Vec<String> {
    let mut lines = vec![format!(
        "[gc] GC({}) Pause Young (Normal) (G1 Evacuation Pause) 1210M->1150M(1536M) 6.214ms",
        m as i64
    )];
    if sawtooth(n, m + 1.0) < sawtooth(n, m) {
        lines.push(format!(
            "[gc] GC({}) Pause Young (Mixed) (G1 Evacuation Pause) 1490M->890M(1536M) 18.402ms",
            m as i64
        ));
    }
    if (m as i64).rem_euclid(60) == 30 && n == 0 {
        lines.push("[gc] GC(9) Pause Full (System.gc()) 1320M->610M(1536M) 182.113ms".into());
    }
    lines
}

#[test]
fn jvm_services_with_a_steady_gc_sawtooth() {
    let mut orders = Svc::steady("orders", 4);
    orders.jvm = true;
    orders.memory = 2048;
    orders.cpu = Box::new(|m| 45.0 + 10.0 * (m / 9.0).sin());
    orders.task_memory = Box::new(sawtooth);
    orders.logs = Box::new(gc_logs);
    let fleet = Fleet {
        instances: three_hosts(),
        lives: settled("orders", 0..4, Some(3)),
        services: vec![orders],
        host_cpu,
    };
    assert_quiet("gc sawtooth", &fleet, 6, &[]);
}

/// T3 hosts in unlimited mode (T3's default) at a zero credit balance, running above their
/// baseline all day: the CPU is not held, the burst is billed as surplus credits.
#[test]
fn t3_unlimited_hosts_at_zero_credit_balance() {
    let hosts = (0..3)
        .map(|az| Inst {
            instance_type: "t3.large",
            az,
            draining_from: None,
            gone_at: None,
        })
        .collect();
    let fleet = Fleet {
        instances: hosts,
        lives: settled("api", 0..6, Some(3)),
        services: vec![Svc::steady("api", 6)],
        host_cpu,
    };
    assert_quiet(
        "t3 unlimited",
        &fleet,
        4,
        &[(
            "cpu-credits-exhausted",
            "info on each host: surplus credits are billed while it bursts above its baseline, \
             a cost the operator should see (a fixed-performance type may be cheaper); the CPU \
             is not held, so nothing louder",
        )],
    );
    // …and it is that cost, not the throttle, that is said.
    let seen = fleet.run(1);
    assert!(
        seen.iter()
            .any(|s| s.rule == "cpu-credits-exhausted" && s.message.contains("unlimited")),
        "the cost is reported"
    );
}

/// Every 20 minutes the batch import pushes the service over 90 % of its CPU for 3 minutes
/// (the rule asks for 5) and the busiest host to 80 % (the hotspot rule asks for 85 %).
fn spiky_cpu(m: f64) -> f64 {
    match m.rem_euclid(20.0) {
        c if c < 3.0 => 95.0,
        c if c < 4.0 => 70.0,
        _ => 40.0 + 4.0 * (m / 5.0).sin(),
    }
}

fn spiky_host(k: usize, tasks: usize, m: f64) -> f64 {
    if k == 0 && m.rem_euclid(20.0) < 6.0 {
        80.0
    } else {
        host_cpu(k, tasks, m)
    }
}

#[test]
fn cpu_spikes_under_the_thresholds() {
    let mut api = Svc::steady("api", 6);
    api.cpu = Box::new(spiky_cpu);
    // Latency rises with the spikes (2.5× the hour's average) but stays far from a second.
    api.response_time = Box::new(|m| if m.rem_euclid(20.0) < 3.0 { 0.3 } else { 0.12 });
    let fleet = Fleet {
        instances: three_hosts(),
        lives: settled("api", 0..6, Some(3)),
        services: vec![api],
        host_cpu: spiky_host,
    };
    assert_quiet("cpu spikes", &fleet, 4, &[]);
}

/// A rollout of `from` tasks (numbers `old`) to revision `revision` at minute `at`: one new
/// task a minute, each old one stopped once its replacement is healthy; new tasks log their
/// startup (25 s, well inside the 60 s grace period).
fn rollout(service: &str, old: &mut [Life], first_new: u32, revision: u32, at: f64) -> Vec<Life> {
    old.iter_mut()
        .enumerate()
        .map(|(i, o)| {
            let start = at + 0.5 + i as f64;
            o.stop = Some((start + 1.0, SCHEDULER));
            Life {
                n: first_new + i as u32,
                group: format!("service:{service}"),
                revision,
                instance: o.instance,
                az: o.az,
                start,
                stop: None,
            }
        })
        .collect()
}

fn startup_logs(started: f64) -> impl Fn(u32, f64) -> Vec<String> {
    move |_, m| {
        if m.fract() == 0.0 && (m - started).abs() < 4.0 {
            vec!["Started OrdersApplication in 25.3 seconds (process running for 27.1)".into()]
        } else {
            Vec::new()
        }
    }
}

#[test]
fn rolling_deployments_that_complete() {
    let mut web = Svc::steady("web", 4);
    web.deployments = vec![(7, -3000.0), (8, 60.0), (9, 180.0)];
    web.logs = Box::new(startup_logs(60.0));
    let mut v7 = settled("web", 0..4, Some(3));
    let mut v8 = rollout("web", &mut v7, 10, 8, 60.0);
    let v9 = rollout("web", &mut v8, 20, 9, 180.0);
    let fleet = Fleet {
        instances: three_hosts(),
        lives: [v7, v8, v9].concat(),
        services: vec![web],
        host_cpu,
    };
    assert_quiet("rolling deployments", &fleet, 4, &[]);
}

#[test]
fn autoscaling_out_and_in() {
    let mut web = Svc::steady("web", 4);
    web.scaling = Some((2, 12));
    web.desired = Box::new(|m| if (60.0..150.0).contains(&m) { 8 } else { 4 });
    // The scale-out alarm fires for the three minutes before the scale-out, the scale-in
    // alarm for the fifteen before the scale-in (target tracking's shapes).
    web.alarms = Box::new(|m| ((57.0..60.0).contains(&m), (135.0..150.0).contains(&m)));
    web.requests = Box::new(|m| {
        if (55.0..150.0).contains(&m) {
            7000.0
        } else {
            3200.0
        }
    });
    web.cpu = Box::new(|m| {
        if (57.0..62.0).contains(&m) {
            74.0
        } else {
            45.0
        }
    });
    let mut lives = settled("web", 0..4, Some(3));
    // ECS spreads the new tasks over the zones, starting with the emptiest hosts: 3/3/2.
    for i in 0..4u32 {
        let host = (i as usize + 1) % 3;
        lives.push(Life {
            n: 10 + i,
            group: "service:web".into(),
            revision: 7,
            instance: Some(host),
            az: host,
            start: 60.5 + 0.5 * i as f64,
            stop: Some((150.5 + 0.5 * i as f64, SCHEDULER)),
        });
    }
    let fleet = Fleet {
        instances: three_hosts(),
        lives,
        services: vec![web],
        host_cpu,
    };
    assert_quiet("autoscaling", &fleet, 4, &[]);
}

#[test]
fn scheduled_tasks_exiting_zero() {
    let mut lives = settled("web", 0..3, Some(3));
    // A report every 15 minutes (3 minutes of work) and a migration check every hour that
    // exits after 20 seconds: both end with exit 0.
    for k in 0..24u32 {
        let start = 15.0 * k as f64;
        lives.push(Life {
            n: 100 + k,
            group: "family:nightly-report".into(),
            revision: 3,
            instance: Some(k as usize % 3),
            az: k as usize % 3,
            start,
            stop: Some((start + 3.0, DONE)),
        });
        if k % 4 == 0 {
            lives.push(Life {
                n: 200 + k,
                group: "family:db-migrate-check".into(),
                revision: 1,
                instance: Some((k as usize + 1) % 3),
                az: (k as usize + 1) % 3,
                start: start + 1.0,
                stop: Some((start + 1.34, DONE)),
            });
        }
    }
    let fleet = Fleet {
        instances: three_hosts(),
        lives,
        services: vec![Svc::steady("web", 3)],
        host_cpu,
    };
    assert_quiet("scheduled tasks", &fleet, 6, &[]);
}

#[test]
fn fargate_and_fargate_spot_capacity() {
    let mut checkout = Svc::steady("checkout", 4);
    checkout.fargate = true;
    let mut worker = Svc::steady("batch-worker", 3);
    worker.fargate = true;
    worker.load_balanced = false;
    let mut lives = settled("checkout", 0..4, None);
    let mut workers = settled("batch-worker", 10..13, None);
    // Spot reclaims one worker every 90 minutes; ECS starts its replacement a minute later.
    for (k, at) in [40.0, 130.0, 220.0].into_iter().enumerate() {
        workers[k].stop = Some((at, SPOT));
        workers.push(Life {
            n: 20 + k as u32,
            group: "service:batch-worker".into(),
            revision: 7,
            instance: None,
            az: k % 3,
            start: at + 1.0,
            stop: None,
        });
    }
    lives.extend(workers);
    let fleet = Fleet {
        instances: Vec::new(),
        lives,
        services: vec![checkout, worker],
        host_cpu,
    };
    assert_quiet("fargate and spot", &fleet, 4, &[]);
}

#[test]
fn a_draining_instance_that_empties_in_time() {
    let mut instances = three_hosts();
    instances.push(Inst {
        instance_type: "m5.large",
        az: 0,
        draining_from: Some(60.0),
        gone_at: Some(70.0),
    });
    let mut lives = settled("web", 0..6, Some(3));
    // Three more tasks on the fourth host; drained, each is replaced on the others.
    for i in 0..3u32 {
        let stop = 60.5 + 0.5 * i as f64;
        lives.push(Life {
            n: 30 + i,
            group: "service:web".into(),
            revision: 7,
            instance: Some(3),
            az: 0,
            start: -1500.0,
            stop: Some((stop, SCHEDULER)),
        });
        lives.push(Life {
            n: 40 + i,
            group: "service:web".into(),
            revision: 7,
            instance: Some(i as usize),
            az: i as usize,
            start: stop - 0.3,
            stop: None,
        });
    }
    let fleet = Fleet {
        instances,
        lives,
        services: vec![Svc::steady("web", 9)],
        host_cpu,
    };
    assert_quiet("draining instance", &fleet, 3, &[]);
}

#[test]
fn a_service_scaled_to_zero_on_purpose() {
    let mut reports = Svc::steady("reports-api", 2);
    reports.desired = Box::new(|m| if m < 30.0 { 2 } else { 0 });
    let mut lives = settled("reports-api", 0..2, Some(3));
    for l in &mut lives {
        l.stop = Some((30.5, SCHEDULER));
    }
    lives.extend(settled("web", 10..13, Some(3)));
    let fleet = Fleet {
        instances: three_hosts(),
        lives,
        services: vec![reports, Svc::steady("web", 3)],
        host_cpu,
    };
    assert_quiet("scaled to zero", &fleet, 4, &[]);
}

/// The same simulator with the trouble left in: the rules do see it, so the quiet above is the
/// fleets' health and not the simulator hiding it.
#[test]
fn the_simulator_shows_trouble_when_there_is_some() {
    let rules = |fleet: &Fleet, hours| -> Vec<String> {
        fleet.run(hours).into_iter().map(|s| s.rule).collect()
    };
    // CPU above 90 % for 10 minutes instead of 3.
    let mut api = Svc::steady("api", 6);
    api.cpu = Box::new(|m| {
        if m.rem_euclid(60.0) < 10.0 {
            95.0
        } else {
            40.0
        }
    });
    let fleet = Fleet {
        instances: three_hosts(),
        lives: settled("api", 0..6, Some(3)),
        services: vec![api],
        host_cpu,
    };
    assert!(rules(&fleet, 1).contains(&"service-cpu-saturated".to_string()));

    // A leak instead of a sawtooth.
    let mut orders = Svc::steady("orders", 4);
    orders.memory = 2048;
    orders.task_memory = Box::new(|n, m| 1300.0 + 5.0 * m + n as f64);
    let fleet = Fleet {
        instances: three_hosts(),
        lives: settled("orders", 0..4, Some(3)),
        services: vec![orders],
        host_cpu,
    };
    assert!(rules(&fleet, 1).contains(&"memory-leak-trend".to_string()));

    // Full GCs back to back instead of a young pause a minute.
    let mut orders = Svc::steady("orders", 4);
    orders.jvm = true;
    orders.logs = Box::new(|_, _| {
        vec!["[gc] GC(7) Pause Full (G1 Compaction Pause) 1510M->1490M(1536M) 912.4ms".into(); 2]
    });
    let fleet = Fleet {
        instances: three_hosts(),
        lives: settled("orders", 0..4, Some(3)),
        services: vec![orders],
        host_cpu,
    };
    assert!(rules(&fleet, 1).contains(&"log-jvm-memory-pressure".to_string()));

    // A drain whose tasks never leave.
    let mut instances = three_hosts();
    instances[2].draining_from = Some(10.0);
    let fleet = Fleet {
        instances,
        lives: settled("web", 0..3, Some(3)),
        services: vec![Svc::steady("web", 3)],
        host_cpu,
    };
    assert!(rules(&fleet, 1).contains(&"instance-draining-stuck".to_string()));
}

/// All of it at once on one cluster of four hosts for six hours: a JVM service with its GC
/// sawtooth, a web service that scales out at 1 h, rolls out a new revision at 3 h (eight
/// tasks, one a minute) and scales back in at 5 h, and a report job every 15 minutes.
#[test]
fn a_busy_day_on_one_cluster() {
    let mut orders = Svc::steady("orders", 4);
    orders.jvm = true;
    orders.memory = 2048;
    orders.task_memory = Box::new(sawtooth);
    orders.logs = Box::new(gc_logs);
    let mut web = Svc::steady("web", 4);
    web.cpu_units = 256;
    web.scaling = Some((2, 12));
    web.desired = Box::new(|m| if (60.0..300.0).contains(&m) { 8 } else { 4 });
    web.alarms = Box::new(|m| ((57.0..60.0).contains(&m), (285.0..300.0).contains(&m)));
    web.requests = Box::new(|m| {
        if (55.0..300.0).contains(&m) {
            7000.0
        } else {
            3200.0
        }
    });
    web.deployments = vec![(7, -3000.0), (8, 180.0)];
    web.logs = Box::new(startup_logs(180.0));
    let mut hosts = three_hosts();
    hosts.push(Inst {
        instance_type: "m5.large",
        az: 0,
        draining_from: None,
        gone_at: None,
    });
    let mut v7 = settled("web", 10..14, Some(4));
    for i in 0..4u32 {
        v7.push(Life {
            n: 20 + i,
            group: "service:web".into(),
            revision: 7,
            instance: Some(i as usize),
            az: i as usize % 3,
            start: 60.5 + 0.5 * i as f64,
            stop: None,
        });
    }
    let mut v8 = rollout("web", &mut v7, 30, 8, 180.0);
    for l in &mut v8[4..] {
        l.stop = Some((300.5, SCHEDULER));
    }
    let mut lives = [settled("orders", 0..4, Some(4)), v7, v8].concat();
    for k in 0..24u32 {
        let start = 15.0 * k as f64 + 5.0;
        lives.push(Life {
            n: 100 + k,
            group: "family:report".into(),
            revision: 3,
            instance: Some(k as usize % 4),
            az: k as usize % 4 % 3,
            start,
            stop: Some((start + 3.0, DONE)),
        });
    }
    let fleet = Fleet {
        instances: hosts,
        lives,
        services: vec![orders, web],
        host_cpu,
    };
    assert_quiet("busy day", &fleet, 6, &[]);
}
