//! service-discovery-dns-failure (log branch): a service's tasks keep failing to resolve a
//! name. The Cloud Map instance count and the VPC DNS attributes are not polled by the
//! console, so those branches are not evaluated.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::support::{duration, short};
use crate::model::{Evidence, Observation, Remedy, Service, Severity};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING, limit};

pub const ID: &str = "service-discovery-dns-failure";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A service's tasks keep failing to resolve a name (log branch; Cloud Map and VPC DNS are not polled).",
    severities: WARNING,
    reads: &[Read::Log(LOOKUP_FAILED_PATTERN)],
    limits: &[
        limit("matches ≥", Value::Count(MIN_MATCHES)),
        limit("within", Value::Span(WINDOW)),
    ],
};
/// Matches per service within `WINDOW` (our default).
const MIN_MATCHES: usize = 5;
const WINDOW: TimeDelta = TimeDelta::minutes(5);

const LOOKUP_FAILED_PATTERN: &str = r"java\.net\.UnknownHostException: (?<h1>[^\s:;,]+)|Name or service not known|Temporary failure in name resolution|getaddrinfo ENOTFOUND (?<h2>\S+)";
static LOOKUP_FAILED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(LOOKUP_FAILED_PATTERN).unwrap());

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .filter_map(|s| observe(input, s))
        .collect()
}

fn observe(input: &Input, s: &Service) -> Option<Observation> {
    let mut lines: Vec<_> = input
        .logs_of(s, input.now - WINDOW)
        .filter_map(|l| {
            let c = LOOKUP_FAILED.captures(&l.message)?;
            let host = c
                .name("h1")
                .or(c.name("h2"))
                .map(|h| h.as_str().to_string());
            Some((l, host))
        })
        .collect();
    if lines.len() < MIN_MATCHES {
        return None;
    }
    lines.sort_by_key(|(l, _)| l.at);
    // The name that fails most often.
    let mut hosts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, h) in &lines {
        if let Some(h) = h {
            *hosts.entry(h.as_str()).or_default() += 1;
        }
    }
    let host = hosts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(h, _)| h.to_string())
        .unwrap_or_else(|| "a name".into());
    let tasks: BTreeSet<&str> = lines.iter().map(|(l, _)| l.task_arn.as_str()).collect();
    let running = input
        .tasks_of(s)
        .filter(|t| t.last_status == "RUNNING")
        .count()
        .max(s.running as usize)
        .max(tasks.len());
    let message = format!(
        "{}: {} lookups of {host} failed in {} on {}/{running} tasks",
        s.name,
        lines.len(),
        duration(WINDOW),
        tasks.len()
    );
    let mut obs = Observation::new(ID, Severity::Warning, service_subject(s), message)
        .since(lines[0].0.at)
        .next(format!(
            "Exec into an affected task: `nslookup {host}` and `cat /etc/resolv.conf` (it \
             should point at the VPC resolver, base + 2). Check that VPC DNS support and \
             hostnames are on and the DHCP options keep AmazonProvidedDNS, and that the target \
             service registers in Cloud Map (neither is polled by the console). Cap the JVM DNS \
             cache (networkaddress.cache.ttl≈60); redeploy so tasks pick up a fixed resolver."
        ))
        .remedies(&[Remedy::Exec, Remedy::OpenLogs, Remedy::Redeploy]);
    for (l, _) in lines.iter().rev().take(3) {
        obs = obs.evidence(Evidence::at(l.at, short(&l.message, 300)));
    }
    Some(obs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const UNKNOWN: &str = "WARN c.e.OrderClient - call failed: java.net.UnknownHostException: b.service.local: Name or service not known";

    fn with_lines(n: i64, oldest: i64) -> Facts {
        let mut f = facts();
        let mut s = service("svc-a");
        s.desired = 6;
        s.running = 6;
        f.services = vec![s];
        f.logs = (0..n)
            .map(|i| {
                let task = if i % 2 == 0 { "t5" } else { "t6" };
                let at = if i == 0 { oldest } else { 10 * i };
                log("svc-a", task, secs_ago(at), UNKNOWN)
            })
            .collect();
        f
    }

    #[test]
    fn five_failed_lookups_in_five_minutes() {
        let found = check(&with_lines(5, 200).input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "svc-a: 5 lookups of b.service.local failed in 5m on 2/6 tasks"
        );
        assert_eq!(found[0].since, Some(secs_ago(200)));
        assert!(found[0].next.contains("nslookup b.service.local"));
    }

    #[test]
    fn four_or_older_ones_are_quiet() {
        assert!(check(&with_lines(4, 200).input()).is_empty());
        assert!(check(&with_lines(5, 301).input()).is_empty());
    }

    #[test]
    fn node_and_resolver_wording() {
        let mut f = with_lines(0, 0);
        f.logs = (0..5)
            .map(|i| {
                log(
                    "svc-a",
                    "t1",
                    secs_ago(10 + i),
                    "Error: getaddrinfo ENOTFOUND payments.internal",
                )
            })
            .collect();
        assert!(
            check(&f.input())[0]
                .message
                .contains("lookups of payments.internal")
        );
    }
}
