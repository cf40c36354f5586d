//! log-db-connectivity-failure: a service's logs keep reporting that its database cannot be
//! reached, refuses it, or has no connection to spare.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::TimeDelta;
use regex::Regex;

use super::support::{duration, short};
use crate::model::LogSample;
use crate::model::{Evidence, Observation, Remedy, Service, Severity};
use crate::triage::Input;
use crate::triage::input::service_subject;
use crate::triage::rules::about::{About, Read, Value, WARNING_CRITICAL, limit};

pub const ID: &str = "log-db-connectivity-failure";

/// The catalog entry (`ecsmon rules`, docs/triage.md).
pub const ABOUT: About = About {
    summary: "A service's logs keep reporting that its database cannot be reached, refuses it, or has no connection to spare.",
    severities: WARNING_CRITICAL,
    reads: &[
        Read::Log(POOL_PATTERN),
        Read::Log(NETWORK_PATTERN),
        Read::Log(AUTH_PATTERN),
        Read::Log(TLS_PATTERN),
    ],
    limits: &[
        limit("matches of one kind ≥", Value::Count(MIN_MATCHES)),
        limit("within", Value::Span(WINDOW)),
    ],
};
/// Matches of one variant per service within `WINDOW` (our default).
const MIN_MATCHES: usize = 5;
const WINDOW: TimeDelta = TimeDelta::minutes(5);

const POOL_PATTERN: &str = r"HikariPool-\d+ - Connection is not available, request timed out after \d+ms|SQLTransientConnectionException";
const NETWORK_PATTERN: &str = r"Communications link failure|Connection refused|connect timed out|SocketTimeoutException|Connection to \S+ refused";
const AUTH_PATTERN: &str = r"Access denied for user|password authentication failed";
const TLS_PATTERN: &str = r"SSLHandshakeException|PKIX path building failed";
static VARIANTS: LazyLock<[(&'static str, Regex); 4]> = LazyLock::new(|| {
    [
        ("pool", Regex::new(POOL_PATTERN).unwrap()),
        ("network", Regex::new(NETWORK_PATTERN).unwrap()),
        ("auth", Regex::new(AUTH_PATTERN).unwrap()),
        ("tls", Regex::new(TLS_PATTERN).unwrap()),
    ]
});
/// DynamoDB throttling is capacity, not connectivity.
static THROTTLED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ProvisionedThroughputExceededException").unwrap());
/// A call to an HTTP URL (`I/O error on POST request for "https://api.partner.example/…":
/// connect timed out`) is an external API, not the database: egress-bottleneck reads those.
static HTTP_CALL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"\bhttps?://"#).unwrap());
/// `Connection to db.internal:5432 refused`, `jdbc:postgresql://db.internal:5432/app`.
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Connection to (?<h1>[^\s:]+)(?::(?<p1>\d+))? refused|jdbc:[a-z]+://(?<h2>[^/:\s]+)(?::(?<p2>\d+))?").unwrap()
});

fn variant(line: &str) -> Option<&'static str> {
    if THROTTLED.is_match(line) || HTTP_CALL.is_match(line) {
        return None;
    }
    VARIANTS
        .iter()
        .find(|(_, re)| re.is_match(line))
        .map(|(name, _)| *name)
}

pub fn check(input: &Input) -> Vec<Observation> {
    input
        .services
        .iter()
        .flat_map(|s| observe(input, s))
        .collect()
}

fn observe(input: &Input, s: &Service) -> Vec<Observation> {
    let mut by_variant: BTreeMap<&'static str, Vec<&LogSample>> = BTreeMap::new();
    for l in input.logs_of(s, input.now - WINDOW) {
        if let Some(v) = variant(&l.message) {
            by_variant.entry(v).or_default().push(l);
        }
    }
    let running: BTreeSet<&str> = input
        .tasks_of(s)
        .filter(|t| t.last_status == "RUNNING")
        .map(|t| t.arn.as_str())
        .collect();
    let total = if running.is_empty() {
        s.running as usize
    } else {
        running.len()
    };
    by_variant
        .into_iter()
        .filter(|(_, lines)| lines.len() >= MIN_MATCHES)
        .map(|(variant, mut lines)| {
            lines.sort_by_key(|l| l.at);
            let tasks: BTreeSet<&str> = lines.iter().map(|l| l.task_arn.as_str()).collect();
            let every_task = if running.is_empty() {
                total > 0 && tasks.len() >= total
            } else {
                running.is_subset(&tasks)
            };
            let severity = if every_task {
                Severity::Critical
            } else {
                Severity::Warning
            };
            let latest = lines[lines.len() - 1];
            let message = format!(
                "{}: {} database {variant} errors in {} on {}/{} tasks (e.g. \"{}\")",
                s.name,
                lines.len(),
                duration(WINDOW),
                tasks.len(),
                total.max(tasks.len()),
                short(&latest.message, 120)
            );
            let mut obs = Observation::new(ID, severity, service_subject(s), message)
                .key(variant)
                .since(lines[0].at)
                .next(next_step(variant, &lines))
                .remedies(&[Remedy::OpenLogs, Remedy::Exec]);
            for l in lines.iter().rev().take(3) {
                obs = obs.evidence(Evidence::at(l.at, short(&l.message, 300)));
            }
            obs
        })
        .collect()
}

fn next_step(variant: &str, lines: &[&LogSample]) -> String {
    match variant {
        "network" => {
            let (host, port) = lines
                .iter()
                .find_map(|l| {
                    let c = HOST.captures(&l.message)?;
                    let host = c.name("h1").or(c.name("h2"))?.as_str().to_string();
                    let port = c
                        .name("p1")
                        .or(c.name("p2"))
                        .map(|p| p.as_str().to_string());
                    Some((host, port))
                })
                .unwrap_or_else(|| ("<db-host>".into(), None));
            format!(
                "The database security group must allow the task security group on the database \
                 port; test from a task with exec `nc -vz {host} {}`.",
                port.as_deref().unwrap_or("<db-port>")
            )
        }
        "pool" => "Compare the pool size with the database's max connections and the query \
                   latency; every scale-out adds another pool's worth of connections."
            .into(),
        "auth" => "Check the secret's value and how it is wired into the environment.".into(),
        _ => "Check the truststore or the RDS CA bundle the client uses.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Facts;
    use crate::triage::rules::state_rules::support::fixtures::*;

    const POOL: &str = "o.h.e.j.s.SqlExceptionHelper - HikariPool-1 - Connection is not available, request timed out after 30000ms.";
    const REFUSED: &str = "org.postgresql.util.PSQLException: Connection to db.internal:5432 refused. Check that the hostname and port are correct";

    fn with_lines(lines: &[(&str, i64, &str)]) -> Facts {
        let mut f = facts();
        f.services = vec![service("web")];
        f.tasks = vec![running("web", "t1"), running("web", "t2")];
        f.logs = lines
            .iter()
            .map(|(task, secs, m)| log("web", task, secs_ago(*secs), m))
            .collect();
        f
    }

    #[test]
    fn five_matches_of_one_variant_fire() {
        let f = with_lines(&[
            ("t1", 10, POOL),
            ("t1", 20, POOL),
            ("t1", 30, POOL),
            ("t1", 40, POOL),
            ("t1", 50, POOL),
        ]);
        let found = check(&f.input());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, "pool");
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0].message.starts_with("web: 5 database pool errors in 5m on 1/2 tasks (e.g. \"o.h.e.j.s.SqlExceptionHelper - HikariPool-1"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].since, Some(secs_ago(50)));
    }

    #[test]
    fn four_matches_or_mixed_variants_are_quiet() {
        let four = [
            ("t1", 10, POOL),
            ("t1", 20, POOL),
            ("t1", 30, POOL),
            ("t1", 40, POOL),
        ];
        assert!(check(&with_lines(&four).input()).is_empty());
        let mut mixed = four.to_vec();
        mixed.push(("t1", 50, REFUSED));
        assert!(check(&with_lines(&mixed).input()).is_empty());
        let mut old = four.to_vec();
        old.push(("t1", 301, POOL));
        assert!(check(&with_lines(&old).input()).is_empty());
    }

    #[test]
    fn critical_on_every_task_and_names_the_host() {
        let f = with_lines(&[
            ("t1", 10, REFUSED),
            ("t2", 20, REFUSED),
            ("t1", 30, REFUSED),
            ("t2", 40, REFUSED),
            ("t1", 50, REFUSED),
        ]);
        let found = check(&f.input());
        assert_eq!(found[0].key, "network");
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].message.contains("on 2/2 tasks"));
        assert!(
            found[0].next.contains("nc -vz db.internal 5432"),
            "{}",
            found[0].next
        );
    }

    #[test]
    fn an_http_call_timing_out_is_no_database() {
        let partner = "POST /api/checkout failed: org.springframework.web.client.ResourceAccessException: I/O error on POST request for \"https://api.partner.example/v2/charges\": connect timed out; nested exception is java.net.SocketTimeoutException: connect timed out";
        let lines: Vec<(&str, i64, &str)> = (0..6).map(|n| ("t1", 10 + n, partner)).collect();
        assert!(check(&with_lines(&lines).input()).is_empty());
        // The database's own timeout still counts, and names no host it cannot see.
        let db = "com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure … connect timed out";
        let lines: Vec<(&str, i64, &str)> = (0..6).map(|n| ("t1", 10 + n, db)).collect();
        let found = check(&with_lines(&lines).input());
        assert_eq!(found.len(), 1);
        assert!(
            found[0].next.ends_with("`nc -vz <db-host> <db-port>`."),
            "{}",
            found[0].next
        );
    }

    #[test]
    fn dynamodb_throttling_is_not_connectivity() {
        let throttled = "ProvisionedThroughputExceededException: Rate exceeded (Service: DynamoDb, Status Code: 400) SocketTimeoutException";
        let lines: Vec<(&str, i64, &str)> = (0..6).map(|n| ("t1", 10 + n, throttled)).collect();
        assert!(check(&with_lines(&lines).input()).is_empty());
    }
}
