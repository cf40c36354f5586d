//! The three target-health reasons a load balancer gives for an unhealthy target:
//! target-unhealthy-response-code-mismatch (the app answered, with the wrong code),
//! target-unhealthy-timeout (no answer in time), target-unhealthy-failed-health-checks
//! (connection refused or reset). Each needs the state in 2 consecutive polls, ignores targets
//! whose task is still within the service's grace period, and is critical when every
//! registered target is affected.

use chrono::TimeDelta;
use std::sync::LazyLock;

use regex::Regex;

use super::util::{
    fresh_polls, persistent, registered, target_group_name, target_groups, task_of_target,
};
use crate::model::{
    Evidence, Observation, Remedy, Service, Severity, TargetGroupHealth, TargetHealth,
};
use crate::sanitize::clean;
use crate::triage::Input;
use crate::triage::input::target_group_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const RESPONSE_CODE_MISMATCH: &str = "target-unhealthy-response-code-mismatch";
pub const TIMEOUT: &str = "target-unhealthy-timeout";
pub const FAILED_HEALTH_CHECKS: &str = "target-unhealthy-failed-health-checks";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT_RESPONSE_CODE_MISMATCH: About = About {
    summary: "Targets fail health checks with the wrong HTTP code in 2 consecutive polls (the app answered); critical when every target is affected.",
    severities: WARNING_CRITICAL,
    reads: &[Read::Api(
        "ELBv2 DescribeTargetHealth: Target.ResponseCodeMismatch",
    )],
    limits: &[limit(
        "\"only young targets\" below",
        Value::Span(YOUNG_AGE),
    )],
};

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT_TIMEOUT: About = About {
    summary: "Targets do not answer health checks (2 consecutive polls) in time; critical when every target is affected.",
    severities: WARNING_CRITICAL,
    reads: &[Read::Api("ELBv2 DescribeTargetHealth: Target.Timeout")],
    limits: &[limit(
        "\"only young targets\" below",
        Value::Span(YOUNG_AGE),
    )],
};

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT_FAILED_HEALTH_CHECKS: About = About {
    summary: "Targets refuse or reset health-check connections; critical when every target is affected.",
    severities: WARNING_CRITICAL,
    reads: &[Read::Api(
        "ELBv2 DescribeTargetHealth: Target.FailedHealthChecks",
    )],
    limits: &[limit(
        "\"only young targets\" below",
        Value::Span(YOUNG_AGE),
    )],
};

/// The timeout patterns the finding names (correlations read them from the message).
pub const ALL_AT_ONCE: &str = "all targets at once: network path";
pub const SOME: &str = "some targets: app starvation under load";
pub const YOUNG: &str = "only young targets: slow start";

/// The codes in "Health checks failed with these codes: [404]".
static CODES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\]]*)\]").expect("static regex"));

/// A task younger than this is "young" for the timeout pattern (our default).
const YOUNG_AGE: TimeDelta = TimeDelta::minutes(15);
/// Targets listed as evidence, at most.
const EVIDENCE_TARGETS: usize = 5;

/// The targets of one group that have shown `reason` in the last two polls.
struct Affected<'a> {
    service: &'a Service,
    tg: &'a str,
    latest: &'a TargetGroupHealth,
    targets: Vec<&'a TargetHealth>,
    total: usize,
}

impl Affected<'_> {
    fn severity(&self) -> Severity {
        if self.targets.len() >= self.total {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }

    fn name(&self, input: &Input) -> String {
        target_group_name(self.tg, input.target_polls(self.tg))
    }

    fn container_port(&self) -> Option<u32> {
        self.service
            .lb_bindings
            .iter()
            .find(|b| b.target_group_arn == self.tg)
            .map(|b| b.container_port)
    }

    fn observation(&self, input: &Input, rule: &'static str, message: String) -> Observation {
        let at = self.latest.fetched_at.unwrap_or(input.now);
        let mut o = Observation::new(
            rule,
            self.severity(),
            target_group_subject(self.service, self.tg),
            message,
        );
        for t in self.targets.iter().take(EVIDENCE_TARGETS) {
            let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
            o = o.evidence(Evidence::at(
                at,
                format!(
                    "{}{port} {} {} \"{}\" (2 consecutive polls)",
                    clean(&t.id),
                    clean(&t.state),
                    clean(&t.reason),
                    clean(&t.description)
                ),
            ));
        }
        if self.targets.len() > EVIDENCE_TARGETS {
            o = o.evidence(Evidence::at(
                at,
                format!("… and {} more", self.targets.len() - EVIDENCE_TARGETS),
            ));
        }
        o
    }
}

fn affected<'a>(input: &Input<'a>, reason: &str) -> Vec<Affected<'a>> {
    let mut out = Vec::new();
    for &s in &input.services {
        for tg in target_groups(s) {
            let polls = fresh_polls(input, tg);
            let Some(latest) = polls.last() else {
                continue;
            };
            let targets = persistent(input, s, polls, |t| {
                t.state == "unhealthy" && t.reason == reason
            });
            if !targets.is_empty() {
                out.push(Affected {
                    service: s,
                    tg,
                    latest,
                    total: registered(latest).max(targets.len()),
                    targets,
                });
            }
        }
    }
    out
}

/// `[exec] curl -i localhost:8080/health`.
fn curl(a: &Affected) -> String {
    let port = a
        .container_port()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "{port}".into());
    format!(
        "[exec] curl -i localhost:{port}{}",
        clean(&a.latest.health_check.path)
    )
}

pub fn check_response_code_mismatch(input: &Input) -> Vec<Observation> {
    affected(input, "Target.ResponseCodeMismatch")
        .into_iter()
        .map(|a| {
            let mut codes: Vec<String> = a
                .targets
                .iter()
                .filter_map(|t| CODES.captures(&t.description))
                .flat_map(|c| {
                    c[1].split(',')
                        .map(|code| clean(code.trim()).into_owned())
                        .collect::<Vec<_>>()
                })
                .filter(|c| !c.is_empty())
                .collect();
            codes.sort();
            codes.dedup();
            let any = |f: fn(&str) -> bool| codes.iter().any(|c| f(c));
            let hint = if any(|c| c == "404") {
                "404 almost always means a wrong path: Spring Boot Actuator serves \
                 /actuator/health, not /health, so fix the target group's HealthCheckPath."
            } else if any(|c| c == "401" || c == "403") {
                "401/403: the health endpoint sits behind authentication; exempt it."
            } else if any(|c| c.starts_with('5')) {
                "5xx: the health endpoint reports a failing dependency; find which one."
            } else {
                "Make the health endpoint answer with a code the matcher accepts."
            };
            let codes = if codes.is_empty() {
                "unexpected codes".to_string()
            } else {
                codes.join(", ")
            };
            let hc = &a.latest.health_check;
            let message = format!(
                "{}: {}/{} targets answer {} with HTTP {codes} (expected {})",
                a.name(input),
                a.targets.len(),
                a.total,
                clean(&hc.path),
                clean(&hc.matcher),
            );
            a.observation(input, RESPONSE_CODE_MISMATCH, message)
                .next(format!(
                    "{hint} Check it from inside a task with {}.",
                    curl(&a)
                ))
                .remedies(&[Remedy::TargetHealth, Remedy::Exec])
        })
        .collect()
}

/// Which timeout pattern the affected targets show.
fn timeout_pattern(input: &Input, a: &Affected) -> &'static str {
    // A target that passed its checks before has started: its timeouts are not a slow start.
    let was_healthy = |t: &TargetHealth| {
        input.target_polls(&a.latest.arn).iter().any(|p| {
            p.targets
                .iter()
                .any(|o| o.id == t.id && o.port == t.port && o.state == "healthy")
        })
    };
    let young = |t: &TargetHealth| {
        !was_healthy(t)
            && task_of_target(input, a.service, t)
                .and_then(|task| task.started_at)
                .is_some_and(|at| input.now - at < YOUNG_AGE)
    };
    // Every target failing is the network path even when they are all young: replacements of
    // tasks killed by the same outage are young too (the sg-outage replay).
    if a.targets.len() >= a.total {
        ALL_AT_ONCE
    } else if a.targets.iter().all(|t| young(t)) {
        YOUNG
    } else {
        SOME
    }
}

pub fn check_timeout(input: &Input) -> Vec<Observation> {
    affected(input, "Target.Timeout")
        .into_iter()
        .map(|a| {
            let pattern = timeout_pattern(input, &a);
            let message = format!(
                "{}: {}/{} targets time out on health check ({}s) — {pattern}",
                a.name(input),
                a.targets.len(),
                a.total,
                a.latest.health_check.timeout_secs,
            );
            let first = match pattern {
                ALL_AT_ONCE => {
                    "Network path: the task or instance security group must allow the load \
                     balancer's security group on the target port; look for a recently removed \
                     rule (CloudTrail) and check NACL ephemeral ports."
                }
                YOUNG => {
                    "Slow start: the tasks are not answering yet; compare their startup time \
                     with the grace period (health-check-grace-too-short)."
                }
                _ => {
                    "Starvation: busy tasks miss their health checks; see service-cpu-saturated \
                     and log-jvm-memory-pressure."
                }
            };
            a.observation(input, TIMEOUT, message)
                .next(format!(
                    "{first} [exec] netstat -tlnp shows whether the app is listening; {} \
                     shows whether it answers.",
                    curl(&a)
                ))
                .remedies(&[Remedy::TargetHealth, Remedy::Exec, Remedy::Chart])
        })
        .collect()
}

pub fn check_failed_health_checks(input: &Input) -> Vec<Observation> {
    affected(input, "Target.FailedHealthChecks")
        .into_iter()
        .map(|a| {
            let hc_port = match a.latest.health_check.port.as_str() {
                "" => "traffic-port".to_string(),
                p => clean(p).into_owned(),
            };
            let app_port = a.container_port();
            // A fixed health-check port must be the container port (ip targets) or the
            // registered host port (instance targets); `traffic-port` always is.
            let mismatch = hc_port.parse::<i64>().ok().and_then(|hc| {
                let expected = a.targets.iter().find_map(|t| {
                    if t.id.starts_with("i-") {
                        t.port.map(i64::from)
                    } else {
                        app_port.map(i64::from)
                    }
                })?;
                (hc != expected).then_some(expected)
            });
            let hint = match mismatch {
                Some(expected) => format!(
                    "likely port mismatch: the health check probes {hc_port}, the app \
                     listens on {expected}"
                ),
                None => "the app is not listening on that port (yet), listens on 127.0.0.1 \
                         only, or is crashing"
                    .to_string(),
            };
            let app = app_port.map_or("unknown".into(), |p| p.to_string());
            let port = if hc_port == "traffic-port" {
                format!("the traffic port ({app})")
            } else {
                format!("port {hc_port} (app port {app})")
            };
            let message = format!(
                "{}: {}/{} targets refuse health-check connections on {port} — {hint}",
                a.name(input),
                a.targets.len(),
                a.total,
            );
            // Advice about the port only where the port is the problem: `traffic-port`
            // already probes where the load balancer sends traffic.
            let next = match mismatch {
                Some(expected) => format!(
                    "Point the health check at the port the app listens on ({expected}), or use \
                     traffic-port. [exec] netstat -tlnp confirms the app listens there on \
                     0.0.0.0, not on 127.0.0.1."
                ),
                None => "[exec] netstat -tlnp shows whether the app listens yet, and on 0.0.0.0 \
                         rather than 127.0.0.1 only. Tasks still starting when the grace period \
                         ends are killed (health-check-grace-too-short); containers that crashed \
                         come under essential-container-crash-loop."
                    .to_string(),
            };
            a.observation(input, FAILED_HEALTH_CHECKS, message)
                .next(next)
                .remedies(&[Remedy::TargetHealth, Remedy::Exec, Remedy::ShowTask])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::Severity;

    const RCM: &str = "Target.ResponseCodeMismatch";
    const CODES: &str = "Health checks failed with these codes: [404]";

    fn rcm(n: u32) -> TargetHealth {
        target(n, "unhealthy", RCM, CODES)
    }

    /// `web` with 4 tasks an hour old; `polls` are (seconds ago, targets).
    fn fleet(polls: Vec<(i64, Vec<TargetHealth>)>) -> crate::triage::Facts {
        let mut f = facts();
        f.services = vec![service("web", 4)];
        f.tasks = (1..=4).map(|n| task("web", n, 3600)).collect();
        f.target_health.insert(
            TG.into(),
            polls.into_iter().map(|(a, t)| poll(a, t)).collect(),
        );
        f
    }

    #[test]
    fn mismatch_fires_after_two_polls_with_codes_path_and_matcher() {
        let targets = vec![rcm(1), rcm(2), healthy(3), healthy(4)];
        let f = fleet(vec![(30, targets.clone()), (0, targets)]);
        let found = check_response_code_mismatch(&f.input());
        assert_eq!(found.len(), 1);
        let o = &found[0];
        assert_eq!(o.severity, Severity::Warning);
        assert_eq!(
            o.message,
            "tg-web: 2/4 targets answer /health with HTTP 404 (expected 200)"
        );
        assert!(o.next.contains("/actuator/health"), "{}", o.next);
        assert!(
            o.next.contains("curl -i localhost:8080/health"),
            "{}",
            o.next
        );
        assert!(o.evidence[0].text.contains(CODES));
    }

    #[test]
    fn mismatch_is_critical_when_every_registered_target_fails() {
        let all = vec![rcm(1), rcm(2), rcm(3), rcm(4)];
        let mut draining = all.clone();
        draining.push(target(5, "draining", "Target.DeregistrationInProgress", ""));
        let f = fleet(vec![(30, all), (0, draining)]);
        let found = check_response_code_mismatch(&f.input());
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].message.contains("4/4"), "{}", found[0].message);
    }

    #[test]
    fn mismatch_needs_two_consecutive_polls_and_a_fresh_one() {
        let bad = vec![rcm(1), healthy(2)];
        let good = vec![healthy(1), healthy(2)];
        // Only the latest poll shows it.
        let f = fleet(vec![(30, good.clone()), (0, bad.clone())]);
        assert!(check_response_code_mismatch(&f.input()).is_empty());
        // It recovered in the latest poll.
        let f = fleet(vec![(30, bad.clone()), (0, good)]);
        assert!(check_response_code_mismatch(&f.input()).is_empty());
        // A single poll.
        let f = fleet(vec![(0, bad.clone())]);
        assert!(check_response_code_mismatch(&f.input()).is_empty());
        // Both, but the latest is ten minutes old: not polled any more.
        let f = fleet(vec![(630, bad.clone()), (600, bad)]);
        assert!(check_response_code_mismatch(&f.input()).is_empty());
    }

    #[test]
    fn targets_of_tasks_within_grace_are_ignored() {
        let targets = vec![rcm(1), healthy(2)];
        let mut f = fleet(vec![(30, targets.clone()), (0, targets)]);
        // Grace is 60 s: 59 s old is still booting, 60 s is not.
        f.tasks[0].started_at = Some(ago(59));
        assert!(check_response_code_mismatch(&f.input()).is_empty());
        f.tasks[0].started_at = Some(ago(60));
        assert_eq!(check_response_code_mismatch(&f.input()).len(), 1);
    }

    fn timeout(n: u32) -> TargetHealth {
        target(n, "unhealthy", "Target.Timeout", "Request timed out")
    }

    #[test]
    fn timeout_on_every_old_target_is_the_network_path() {
        let all: Vec<_> = (1..=4).map(timeout).collect();
        let f = fleet(vec![(30, all.clone()), (0, all)]);
        let found = check_timeout(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(
            found[0].message,
            format!("tg-web: 4/4 targets time out on health check (5s) — {ALL_AT_ONCE}")
        );
        assert!(found[0].next.starts_with("Network path"));
    }

    #[test]
    fn timeout_on_some_old_targets_is_starvation() {
        let t = vec![timeout(1), healthy(2), healthy(3), healthy(4)];
        let f = fleet(vec![(30, t.clone()), (0, t)]);
        let found = check_timeout(&f.input());
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.ends_with(SOME), "{}", found[0].message);
    }

    #[test]
    fn timeout_only_on_young_targets_is_slow_start() {
        let t = vec![timeout(1), timeout(2), healthy(3), healthy(4)];
        let mut f = fleet(vec![(30, t.clone()), (0, t)]);
        f.tasks[0].started_at = Some(ago(300));
        f.tasks[1].started_at = Some(ago(14 * 60));
        let found = check_timeout(&f.input());
        assert!(found[0].message.ends_with(YOUNG), "{}", found[0].message);
        // At 15 minutes a task is no longer young.
        f.tasks[1].started_at = Some(ago(15 * 60));
        let found = check_timeout(&f.input());
        assert!(found[0].message.ends_with(SOME), "{}", found[0].message);
    }

    #[test]
    fn a_young_target_that_was_healthy_before_is_no_slow_start() {
        // Healthy a minute ago, timing out now (a JVM stalled in full GCs): it had started.
        let before = vec![healthy(1), healthy(2), healthy(3), healthy(4)];
        let t = vec![timeout(1), timeout(2), healthy(3), healthy(4)];
        let mut f = fleet(vec![(60, before), (30, t.clone()), (0, t)]);
        f.tasks[0].started_at = Some(ago(300));
        f.tasks[1].started_at = Some(ago(400));
        let found = check_timeout(&f.input());
        assert!(found[0].message.ends_with(SOME), "{}", found[0].message);
    }

    #[test]
    fn every_target_timing_out_is_the_network_path_even_when_all_are_young() {
        let t = vec![timeout(1), timeout(2), timeout(3), timeout(4)];
        let mut f = fleet(vec![(30, t.clone()), (0, t)]);
        for task in &mut f.tasks {
            task.started_at = Some(ago(120));
        }
        let found = check_timeout(&f.input());
        assert!(
            found[0].message.ends_with(ALL_AT_ONCE),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn each_rule_reads_only_its_own_reason() {
        let t = vec![timeout(1), rcm(2)];
        let f = fleet(vec![(30, t.clone()), (0, t)]);
        assert_eq!(check_timeout(&f.input()).len(), 1);
        assert_eq!(check_response_code_mismatch(&f.input()).len(), 1);
        assert!(check_failed_health_checks(&f.input()).is_empty());
    }

    fn refused(n: u32) -> TargetHealth {
        target(
            n,
            "unhealthy",
            "Target.FailedHealthChecks",
            "Health checks failed",
        )
    }

    #[test]
    fn refused_connections_on_a_fixed_other_port_hint_a_port_mismatch() {
        let t = vec![refused(1), refused(2), healthy(3), healthy(4)];
        let mut f = fleet(vec![(30, t.clone()), (0, t)]);
        for p in f.target_health.get_mut(TG).unwrap() {
            p.health_check.port = "9090".into();
        }
        let found = check_failed_health_checks(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "tg-web: 2/4 targets refuse health-check connections on port 9090 (app port 8080) \
             — likely port mismatch: the health check probes 9090, the app listens on 8080"
        );
    }

    #[test]
    fn refused_connections_on_the_traffic_port_point_at_the_app() {
        let t: Vec<_> = (1..=4).map(refused).collect();
        let f = fleet(vec![(30, t.clone()), (0, t)]);
        let found = check_failed_health_checks(&f.input());
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(
            found[0]
                .message
                .contains("on the traffic port (8080) — the app is not"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn healthy_targets_are_quiet() {
        let t: Vec<_> = (1..=4).map(healthy).collect();
        let f = fleet(vec![(30, t.clone()), (0, t)]);
        let input = f.input();
        assert!(check_timeout(&input).is_empty());
        assert!(check_response_code_mismatch(&input).is_empty());
        assert!(check_failed_health_checks(&input).is_empty());
    }
}
