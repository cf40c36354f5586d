//! How the headless commands write a finding: a JSON object (one a line, for scripts and
//! alerting hooks) or text for a person. Every text from AWS is cleaned first: these lines go
//! to terminals and log files.

use std::io::Write;

use serde_json::{Value, json};

use crate::model::{Finding, Time};
use crate::sanitize::clean;

/// A finding as JSON: rule, severity, subject, message, evidence, next step.
pub fn json(finding: &Finding) -> Value {
    let obs = &finding.current;
    let evidence: Vec<Value> = obs
        .evidence
        .iter()
        .map(|e| json!({ "at": e.at.map(rfc3339), "text": clean(&e.text) }))
        .collect();
    json!({
        "rule": obs.rule,
        "severity": obs.severity.label(),
        "subject": clean(&obs.subject.label()),
        "cluster": clean(obs.subject.cluster()),
        "service": obs.subject.service().map(clean),
        "message": clean(&obs.message),
        "evidence": evidence,
        "next": clean(&obs.next),
        "opened_at": rfc3339(finding.opened_at),
    })
}

/// A change of a finding (`opened`, `escalated`, `resolved`) as JSON: the finding's fields,
/// with `event` and when it happened.
pub fn event_json(event: &str, at: Time, finding: &Finding) -> Value {
    let mut value = json(finding);
    if let Value::Object(map) = &mut value {
        map.insert("event".into(), event.into());
        map.insert("at".into(), rfc3339(at).into());
    }
    value
}

/// One line for a person: `critical  task-oom-killed  prod/web  message`.
pub fn line(finding: &Finding) -> String {
    let obs = &finding.current;
    format!(
        "{:<8}  {}  {}  {}",
        obs.severity.label(),
        obs.rule,
        clean(&obs.subject.label()),
        clean(&obs.message)
    )
}

/// The findings as a table: a line each, the evidence and the next step indented below it.
pub fn table(out: &mut impl Write, findings: &[&Finding]) -> std::io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "No active findings.");
    }
    for finding in findings {
        writeln!(out, "{}", line(finding))?;
        for e in &finding.current.evidence {
            match e.at {
                Some(at) => writeln!(
                    out,
                    "          {}  {}",
                    at.format("%Y-%m-%d %H:%M:%S"),
                    clean(&e.text)
                )?,
                None => writeln!(out, "          {}", clean(&e.text))?,
            }
        }
        if !finding.current.next.is_empty() {
            writeln!(out, "          next: {}", clean(&finding.current.next))?;
        }
    }
    let count = |s| findings.iter().filter(|f| f.severity() == s).count();
    use crate::model::Severity;
    writeln!(
        out,
        "{} findings: {} critical, {} warning, {} info",
        findings.len(),
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info)
    )
}

fn rfc3339(at: Time) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether a finding is about `cluster` (every finding when none is given).
pub fn in_cluster(finding: &Finding, cluster: Option<&str>) -> bool {
    cluster.is_none_or(|c| finding.current.subject.cluster() == c)
}
