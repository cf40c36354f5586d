//! CloudWatch Logs for a replayed incident: what each task printed, from its recorded life and
//! the scenario's world, so any range reads the same whenever it is asked.
//!
//! A task logs only while it runs: Spring Boot's start-up (`Started WebApplication in 18.4
//! seconds`), then its requests — as long as traffic reaches it — and its G1 pauses. The
//! leaking revision's full GCs come closer together as its heap fills, and the last seconds
//! before the kernel kills it read `java.lang.OutOfMemoryError: Java heap space`. A revision
//! that does not serve its target group's health check path logs Spring's `No mapping for GET
//! /health` at every check. Tasks stopped by ECS shut down gracefully; killed ones just stop.

use super::super::scenario::record::TaskLife;
use super::super::scenario::world::WEB;
use super::super::scenario::{Incident, curve_at};
use super::hash;
use crate::model::{LogEvent, LogQuery, Time, bounded_message};

/// Seconds between a task's regular lines.
fn interval(service: &str) -> i64 {
    if service == WEB { 2 } else { 5 }
}

/// `web` → `WebApplication`, `orders-worker` → `OrdersWorkerApplication`.
fn app_class(service: &str) -> String {
    let mut out = String::new();
    for part in service.split('-') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out + "Application"
}

/// Spring Boot's console line.
fn spring(at: Time, level: &str, thread: &str, logger: &str, text: &str) -> String {
    format!(
        "{}  {level:>5} 1 --- [{thread:>15}] {logger:<40} : {text}",
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    )
}

pub fn log_events(inc: &Incident, query: &LogQuery, now: Time) -> Vec<LogEvent> {
    let end = query.end.unwrap_or(now).min(now);
    let mut out = Vec::new();
    for stream in &query.streams {
        let Some(life) = stream
            .rsplit('/')
            .next()
            .and_then(|id| inc.record.lives.get(id))
        else {
            continue;
        };
        for (n, at, message) in lines(inc, life, stream, query.start, end) {
            if at >= query.start && at < end {
                out.push(LogEvent {
                    id: format!(
                        "{:020}{:06}",
                        at.timestamp_millis(),
                        hash(stream, n) % 1_000_000
                    ),
                    at,
                    group: query.group.clone(),
                    stream: stream.clone(),
                    message: bounded_message(message),
                });
            }
        }
    }
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    if let Some(limit) = query.limit {
        out.truncate(limit);
    }
    out
}

fn millis(ms: i64) -> chrono::TimeDelta {
    chrono::TimeDelta::milliseconds(ms)
}

/// The task's lines that may fall in `[from, to)`: (line number, time, text).
fn lines(
    inc: &Incident,
    life: &TaskLife,
    stream: &str,
    from: Time,
    to: Time,
) -> Vec<(i64, Time, String)> {
    let mut out = Vec::new();
    let Some(started) = life.started else {
        return out; // never started (its image could not be pulled)
    };
    let end = life.stopping.map_or(to, |s| s.min(to));
    let service = life.service.as_str();
    let startup = if service == WEB {
        inc.world.startup_of(life.revision)
    } else {
        8.0 + 6.0 * super::super::scenario::world::unit(&life.id)
    };
    let class = app_class(service);
    let boot = [
        (
            0.6,
            "main",
            format!("com.example.{}", class),
            format!(
                "Starting {class} v{} using Java 17.0.12 with PID 1",
                life.revision
            ),
        ),
        (
            startup * 0.35,
            "main",
            "o.s.b.w.embedded.tomcat.TomcatWebServer".into(),
            "Tomcat initialized with port 8080 (http)".into(),
        ),
        (
            startup * 0.7,
            "main",
            "com.zaxxer.hikari.HikariDataSource".into(),
            "HikariPool-1 - Start completed.".into(),
        ),
        (
            startup - 0.3,
            "main",
            "o.s.b.w.embedded.tomcat.TomcatWebServer".into(),
            "Tomcat started on port 8080 (http) with context path '/'".into(),
        ),
        (
            startup,
            "main",
            format!("com.example.{}", class),
            format!(
                "Started {class} in {startup:.1} seconds (process running for {:.1})",
                startup + 1.2
            ),
        ),
    ];
    for (k, (secs, thread, logger, text)) in boot.into_iter().enumerate() {
        let at = started + millis((secs * 1000.0) as i64);
        if at < end {
            out.push((
                -(k as i64) - 1,
                at,
                spring(at, "INFO", thread, &logger, &text),
            ));
        }
    }

    let every = interval(service);
    let offset = (hash(stream, 1) % 1000) as i64;
    let up = started + millis((startup * 1000.0) as i64 + 1000);
    let first = ((from.max(up) - started).num_milliseconds() - offset).div_euclid(every * 1000);
    let mut n = first.max(0);
    loop {
        let at = started + millis(n * every * 1000 + offset);
        if at >= end {
            break;
        }
        if at >= up
            && let Some(text) = line(inc, life, stream, n, at, started)
        {
            out.push((n, at, text));
        }
        n += 1;
    }

    // ECS stops with SIGTERM: Spring shuts down gracefully. A kill leaves no last words.
    if let Some(stopping) = life.stopping
        && !life.out_of_memory
        && life.stop_code != "EssentialContainerExited"
    {
        let logger = "o.s.b.w.e.tomcat.GracefulShutdown";
        for (k, (ms, text)) in [
            (
                400,
                "Commencing graceful shutdown. Waiting for active requests to complete",
            ),
            (1900, "Graceful shutdown complete"),
        ]
        .into_iter()
        .enumerate()
        {
            let at = stopping + millis(ms);
            if at < to {
                let thread = "tomcat-shutdown";
                out.push((-10 - k as i64, at, spring(at, "INFO", thread, logger, text)));
            }
        }
    }
    out
}

/// Regular line `n` of the task at `at`, or nothing.
fn line(
    inc: &Incident,
    life: &TaskLife,
    stream: &str,
    n: i64,
    at: Time,
    started: Time,
) -> Option<String> {
    let h = hash(stream, n);
    let t = inc.replay_secs(at);
    if life.service != WEB {
        let text = match h % 6 {
            0 => format!("GET /actuator/health 200 {}ms", 1 + h % 4),
            1 => format!(
                "processed {} messages from orders-events in {}ms",
                1 + h % 40,
                5 + h % 90
            ),
            _ => format!(
                "GET /api/v1/{} 200 {}ms",
                ["session", "token", "user"][(h % 3) as usize],
                3 + h % 30
            ),
        };
        return Some(spring(
            at,
            "INFO",
            "nio-8080-exec-3",
            "com.example.RequestLog",
            &text,
        ));
    }

    let limit = f64::from(life.memory.max(1));
    // A heap that fills (a leak, or load beyond what it was sized for) shows in the GC log; a
    // leak outside the heap leaves the garbage collector (and the log) calm.
    let leak = !inc.world.leak_off_heap;
    let mem = |at: Time| inc.world.web_memory(&life.id, life.revision, started, at);
    let full = mem(at) / limit;
    let uptime = (at - started).num_milliseconds() as f64 / 1000.0;
    // Heap: the JVM keeps about 200 MiB outside it; -Xmx is 80 % of the container.
    let xmx = (limit * 0.78).round();
    // An off-heap leak grows the process, not the heap: the heap stays where it started.
    let resident = if inc.world.leak_off_heap {
        mem(started + chrono::TimeDelta::minutes(10))
    } else {
        mem(at)
    };
    let heap = (resident - 200.0).clamp(60.0, xmx);

    // The last seconds before the kernel's kill: the heap is exhausted.
    if leak && mem(at + chrono::TimeDelta::seconds(14)) >= limit {
        return Some(match n % 3 {
            0 => format!(
                "Exception in thread \"http-nio-8080-exec-{}\" java.lang.OutOfMemoryError: Java heap space",
                1 + h % 10
            ),
            1 => "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3541)".into(),
            _ => format!(
                "[{uptime:.3}s][warning][gc,alloc] http-nio-8080-exec-{}: Retrying allocation after 4 full GCs",
                1 + h % 10
            ),
        });
    }
    // G1: a young pause every ~20 s; full GCs once the heap stays full, closer as it fills.
    let gc_every = match full {
        f if leak && f >= 0.85 => Some(15),
        f if leak && f >= 0.70 => Some(38),
        _ => None,
    };
    if let Some(lines) = gc_every
        && n % lines == 3
    {
        let pause = 300.0 + 900.0 * full + (h % 200) as f64;
        return Some(format!(
            "[{uptime:.3}s][info][gc] GC({}) Pause Full (G1 Compaction Pause) {heap:.0}M->{:.0}M({xmx:.0}M) {pause:.3}ms",
            n / 2,
            heap * 0.96
        ));
    }
    if n % 10 == 7 {
        return Some(format!(
            "[{uptime:.3}s][info][gc] GC({}) Pause Young (Normal) (G1 Evacuation Pause) {heap:.0}M->{:.0}M({xmx:.0}M) {:.3}ms",
            n / 2,
            heap * 0.55,
            6.0 + (h % 900) as f64 / 40.0
        ));
    }
    // The load balancer's check, every 30 s, on a path this revision does not serve.
    let path = *inc.world.health_check_path.at(at);
    if *inc.world.ingress_open.at(at) && !inc.world.serves(life.revision, path) && n % 15 == 5 {
        return Some(spring(
            at,
            "WARN",
            "nio-8080-exec-2",
            "o.s.web.servlet.PageNotFound",
            &format!("No mapping for GET {path}"),
        ));
    }
    // Requests, as long as the load balancer can reach the task.
    if !*inc.world.ingress_open.at(at) {
        return (n % 15 == 11).then(|| {
            spring(
                at,
                "INFO",
                "   scheduling-1",
                "c.e.web.cache.CatalogRefresher",
                &format!(
                    "refreshed {} catalog entries in {}ms",
                    380 + h % 60,
                    20 + h % 40
                ),
            )
        });
    }
    let response = curve_at(inc.script.shape.response_time, t);
    let ms = (response * 1000.0 * (0.4 + (h % 120) as f64 / 100.0)).round() as u64;
    let path = [
        "/api/orders",
        "/api/cart",
        "/api/catalog/items/4812",
        "/api/quote",
        "/api/checkout",
    ][(h % 5) as usize];
    let method = if h.is_multiple_of(4) { "POST" } else { "GET" };
    // A task with the broken resolver: every call to orders-svc fails its lookup.
    if inc.world.cannot_resolve(started) && h % 4 == 2 {
        let thread = format!("nio-8080-exec-{}", 1 + h % 10);
        let text = "GET /api/orders failed: org.springframework.web.client.ResourceAccessException: \
                    I/O error on GET request for \"http://b.service.local:8080/orders\": \
                    b.service.local; nested exception is java.net.UnknownHostException: \
                    b.service.local";
        return Some(spring(at, "ERROR", &thread, "c.e.web.OrdersClient", text));
    }
    // A report upload the bucket policy refuses, about one line in six.
    if let Some(bucket) = *inc.world.uploads_denied.at(at)
        && h % 6 == 1
    {
        let request = format!("{:016X}", hash(stream, n + 7));
        let text = format!(
            "Upload of reports/daily/{}.csv to s3://{bucket} failed: \
             software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, \
             Status Code: 403, Request ID: {}, Extended Request ID: {})",
            1000 + h % 9000,
            &request[..16],
            &request[..12]
        );
        return Some(spring(
            at,
            "ERROR",
            "   task-upload-1",
            "c.e.web.reports.ReportUploader",
            &text,
        ));
    }
    // A quote call stuck on the third party: it hangs past the ALB's 30 s, or (with the client
    // timeout) gives up at 25 s and answers the fallback.
    let hung = *inc.world.hung_calls.at(at);
    if path == "/api/quote" && hung > 0.0 && (h / 7).is_multiple_of(3) {
        let thread = format!("nio-8080-exec-{}", 1 + h % 10);
        let text = if inc.world.client_timeout.contains(&life.revision) {
            format!(
                "GET /api/quote 200 {}ms (fallback: quote provider read timed out after 25000ms)",
                25_000 + h % 40
            )
        } else {
            format!(
                "GET /api/quote 200 {}ms (slow: over 2000ms)",
                48_000 + h % 4_000
            )
        };
        return Some(spring(at, "WARN", &thread, "c.e.web.RequestLog", &text));
    }
    let (level, text) = if ms >= 2000 {
        (
            "WARN",
            format!("{method} {path} 200 {ms}ms (slow: over 2000ms)"),
        )
    } else {
        ("INFO", format!("{method} {path} 200 {ms}ms"))
    };
    let thread = format!("nio-8080-exec-{}", 1 + h % 10);
    Some(spring(at, level, &thread, "c.e.web.RequestLog", &text))
}
