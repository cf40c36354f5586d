//! `:export`: the incident snapshot as Markdown — who and where, the active findings with their
//! evidence, the last hour of the timeline, and the services table. Pure: state in, text out;
//! a listing of what the console knows, not a drawing of it.

use std::fmt::Write;

use crate::model::{Finding, Service, Severity, Time, metric_catalog as cat};
use crate::state::{State, TimelineWindow};

/// The timeline window of the export.
pub const EXPORT_WINDOW: TimelineWindow = TimelineWindow::Hour1;

pub fn markdown(state: &State) -> String {
    markdown_of(state, None)
}

/// As [`markdown`], for one cluster only when one is given (its findings, timeline and
/// services; the counts in the header are that cluster's).
pub fn markdown_of(state: &State, cluster: Option<&str>) -> String {
    let mut out = String::new();
    title(&mut out, state.now);
    context_part(&mut out, state, cluster, 2);
    out
}

/// One context's part of a snapshot over several (the fleet view's): its title, and its
/// console's state, or why it could not be read.
pub struct Section<'a> {
    pub title: String,
    pub state: Result<&'a State, String>,
    /// What was read, but is out of date: why (the console's context whose polls now fail).
    pub stale: Option<String>,
}

/// The snapshot over several contexts: the totals, then a section per context (`## prod ·
/// 123456789012 · eu-west-1`) holding what [`markdown_of`] says of that context alone.
pub fn fleet_markdown(now: Time, sections: &[Section], cluster: Option<&str>) -> String {
    let mut out = String::new();
    title(&mut out, now);
    let read: Vec<&State> = sections
        .iter()
        .filter_map(|s| s.state.as_ref().ok().copied())
        .collect();
    let unread = sections.len() - read.len();
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = write!(out, "| Contexts | {}", sections.len());
    if unread > 0 {
        let _ = write!(out, " ({unread} not read)");
    }
    let _ = writeln!(out, " |");
    if let Some(cluster) = cluster {
        let _ = writeln!(out, "| Cluster | {} |", cell(cluster));
    }
    let active: Vec<&Finding> = read
        .iter()
        .flat_map(|state| active_in(state, cluster))
        .collect();
    findings_row(&mut out, &active);
    let _ = writeln!(out);
    for section in sections {
        let _ = writeln!(out, "## {}", md(&section.title));
        let _ = writeln!(out);
        match &section.state {
            Ok(state) => {
                if let Some(why) = &section.stale {
                    let _ = writeln!(out, "**Stale:** {}", md(why));
                    let _ = writeln!(out);
                }
                context_part(&mut out, state, cluster, 3);
                let _ = writeln!(out);
            }
            Err(why) => {
                let _ = writeln!(out, "Could not look: {}", md(why));
                let _ = writeln!(out);
            }
        }
    }
    out
}

fn title(out: &mut String, now: Time) {
    let _ = writeln!(
        out,
        "# ecsmon incident snapshot — {}",
        now.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let _ = writeln!(out);
}

/// The active findings about `cluster` (all when none is given).
fn active_in<'a>(state: &'a State, cluster: Option<&str>) -> Vec<&'a Finding> {
    state
        .triage
        .active()
        .into_iter()
        .filter(|f| cluster.is_none_or(|only| only == f.current.subject.cluster()))
        .collect()
}

fn findings_row(out: &mut String, active: &[&Finding]) {
    let count = |s| active.iter().filter(|f| f.severity() == s).count();
    let _ = writeln!(
        out,
        "| Findings | {} critical, {} warning, {} info |",
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info)
    );
}

/// Who and where, then the findings, timeline and services of one console, its headings at
/// `level` (`##` for a snapshot of one context).
fn context_part(out: &mut String, state: &State, cluster: Option<&str>, level: usize) {
    let ours = |c: &str| cluster.is_none_or(|only| only == c);
    let heading = "#".repeat(level);
    let id = &state.identity;
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Source | {} |", cell(&id.source));
    let _ = writeln!(out, "| Account | {} |", cell(&id.account));
    let _ = writeln!(out, "| Region | {} |", cell(&id.region));
    let _ = writeln!(out, "| Principal | {} |", cell(&id.principal));
    if let Some(cluster) = cluster {
        let _ = writeln!(out, "| Cluster | {} |", cell(cluster));
    }
    let active = active_in(state, cluster);
    findings_row(out, &active);
    if state.read_only {
        let _ = writeln!(out, "| Mode | read-only |");
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "{heading} Active findings");
    let _ = writeln!(out);
    if active.is_empty() {
        let _ = writeln!(out, "None.");
        let _ = writeln!(out);
    }
    for finding in active {
        finding_section(out, state, finding, level + 1);
    }

    let span = EXPORT_WINDOW.span().unwrap_or(chrono::TimeDelta::hours(1));
    let _ = writeln!(out, "{heading} Timeline (last {} min)", span.num_minutes());
    let _ = writeln!(out);
    let entries: Vec<_> = state
        .triage
        .timeline
        .since(state.now - span, None)
        .filter(|e| cluster.is_none() || e.cluster.as_deref().is_some_and(ours))
        .collect();
    if entries.is_empty() {
        let _ = writeln!(out, "Nothing recorded.");
    } else {
        let _ = writeln!(
            out,
            "| Time (UTC) | Kind | Subject | What |\n|---|---|---|---|"
        );
        for e in entries {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                e.at.format("%Y-%m-%d %H:%M:%S"),
                e.kind.label(),
                cell(&e.subject),
                cell(&e.text)
            );
        }
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "{heading} Services");
    let _ = writeln!(out);
    let services: Vec<&Service> = state
        .fleet
        .all_services()
        .into_iter()
        .filter(|s| ours(cat::cluster_of(&s.cluster_arn)))
        .collect();
    if services.is_empty() {
        let _ = writeln!(out, "No services loaded.");
    } else {
        let _ = writeln!(
            out,
            "| Cluster | Service | Desired | Running | Pending | Rollout | Task definition | CPU % | Memory % | Findings |\n|---|---|---:|---:|---:|---|---|---:|---:|---|"
        );
        for s in services {
            service_row(out, state, s);
        }
    }
}

fn finding_section(out: &mut String, state: &State, f: &Finding, level: usize) {
    let obs = &f.current;
    let _ = writeln!(
        out,
        "{} {} · {} · {}",
        "#".repeat(level),
        obs.severity.label().to_uppercase(),
        obs.rule,
        md(&obs.subject.label())
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", md(&obs.message));
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "- Opened {} ({} ago)",
        f.opened_at.format("%H:%M:%S UTC"),
        crate::screen::format::age(state.now, f.opened_at)
    );
    for e in &obs.evidence {
        match e.at {
            Some(at) => {
                let _ = writeln!(out, "- {}: {}", at.format("%Y-%m-%d %H:%M:%S"), md(&e.text));
            }
            None => {
                let _ = writeln!(out, "- {}", md(&e.text));
            }
        }
    }
    if !obs.next.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "**Next:** {}", md(&obs.next));
    }
    let _ = writeln!(out);
}

fn service_row(out: &mut String, state: &State, s: &Service) {
    let latest = |m| {
        let key = crate::model::SeriesKey {
            metric: m,
            period: crate::triage::input::PERIOD,
        };
        state
            .metrics
            .get(&key)
            .and_then(|h| h.latest())
            .map_or_else(|| "-".to_string(), |p| format!("{:.0}", p.value))
    };
    let cluster = cat::cluster_of(&s.cluster_arn);
    let findings = state
        .triage
        .badge(|sub| sub.cluster() == cluster && sub.service() == Some(s.name.as_str()))
        .map_or_else(String::new, |(sev, n)| {
            format!("{n} ({} worst)", sev.label())
        });
    let rollout = s
        .primary_deployment()
        .map_or("-", |d| d.rollout_state.as_str());
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        cell(cluster),
        cell(&s.name),
        s.desired,
        s.running,
        s.pending,
        cell(rollout),
        cell(&s.task_definition.to_string()),
        latest(cat::service_cpu(s)),
        latest(cat::service_memory(s)),
        findings
    );
}

/// A table cell: Markdown escaped, pipes too, line breaks flattened.
fn cell(text: &str) -> String {
    md(text).replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text from AWS as Markdown that stays text: no code fence, emphasis, link or HTML can start
/// inside a log line or an event message.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_text_cannot_open_markdown_structure() {
        assert_eq!(md("```x``` *y* <b>"), r"\`\`\`x\`\`\` \*y\* &lt;b&gt;");
        assert_eq!(cell("a|b\nc"), r"a\|b c");
        assert_eq!(md("# [l](u)"), r"\# \[l\](u)");
    }
}
