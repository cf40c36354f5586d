//! How the headless commands write a finding: a JSON object (one a line, for scripts and
//! alerting hooks) or text for a person. Every text from AWS is cleaned first: these lines go
//! to terminals and log files.

use std::io::Write;

use serde_json::{Value, json};

use crate::model::{Context, Finding, Observation, Time};
use crate::sanitize::clean;

/// A finding as JSON: rule, severity, subject, message, evidence, next step, `"state":
/// "active"` and when it opened.
pub fn json(finding: &Finding) -> Value {
    let mut value = observation_json(&finding.current);
    if let Value::Object(map) = &mut value {
        map.insert("state".into(), "active".into());
        map.insert("opened_at".into(), rfc3339(finding.opened_at).into());
    }
    value
}

/// A condition seen but not yet held long enough to open a finding: its fields, `"state":
/// "holding"`, since when it has been seen and how long it must hold.
pub fn holding_json(since: Time, obs: &Observation) -> Value {
    let mut value = observation_json(obs);
    if let Value::Object(map) = &mut value {
        map.insert("state".into(), "holding".into());
        map.insert("seen_since".into(), rfc3339(since).into());
        let hold = obs.hold.map_or(0, |h| h.num_seconds());
        map.insert("hold_seconds".into(), hold.into());
    }
    value
}

fn observation_json(obs: &Observation) -> Value {
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
    writeln!(out, "{}", counts(findings))
}

/// `3 findings: 1 critical, 2 warning, 0 info`.
pub fn counts(findings: &[&Finding]) -> String {
    let count = |s| findings.iter().filter(|f| f.severity() == s).count();
    use crate::model::Severity;
    format!(
        "{} findings: {} critical, {} warning, {} info",
        findings.len(),
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info)
    )
}

/// A line of one context among several, labelled with it: `"context": {"profile", "account",
/// "region", "title"}` (`account` null until STS has said it). Unchanged with one context.
pub fn labelled(mut value: Value, context: Option<&Context>, account: &str) -> Value {
    if let (Some(context), Value::Object(map)) = (context, &mut value) {
        let account = Some(account).filter(|a| !a.is_empty());
        map.insert(
            "context".into(),
            json!({
                "profile": context.profile_label(),
                "account": account.map(clean),
                "region": context.region,
                "title": clean(&context.title(account)),
            }),
        );
    }
    value
}

/// Conditions still inside their hold, after the findings: a line each with how long they
/// have been seen and must hold. Nothing when there are none.
pub fn holding_table(
    out: &mut impl Write,
    holding: &[(Time, &Observation)],
    now: Time,
) -> std::io::Result<()> {
    if holding.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nHolding: seen now, a finding opens once each has held for its time (`ecsmon watch` shows it open):"
    )?;
    for (since, obs) in holding {
        let hold = obs.hold.unwrap_or_default();
        writeln!(
            out,
            "{:<8}  {}  {}  {}  (seen {} of {})",
            obs.severity.label(),
            obs.rule,
            clean(&obs.subject.label()),
            clean(&obs.message),
            crate::screen::format::span(now - *since),
            crate::screen::format::span(hold)
        )?;
    }
    Ok(())
}

fn rfc3339(at: Time) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether a finding is about `cluster` (every finding when none is given).
pub fn in_cluster(finding: &Finding, cluster: Option<&str>) -> bool {
    observed_in(&finding.current, cluster)
}

/// Whether an observation is about `cluster` (every one when none is given).
pub fn observed_in(obs: &Observation, cluster: Option<&str>) -> bool {
    cluster.is_none_or(|c| obs.subject.cluster() == c)
}
