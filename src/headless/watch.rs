//! `ecsmon watch`: the pollers and the engine run until SIGTERM or SIGINT, and each finding is
//! printed as it opens (or reopens), escalates and resolves — for piping into an alerting hook.

use std::collections::HashMap;
use std::io::Write;

use tokio::signal::unix::{SignalKind, signal};

use crate::launch::LaunchError;
use crate::model::{Context, Finding, FindingId, Severity};

use crate::sanitize::clean;

use super::{Answer, Engine, Observer, Status, print};

/// What the last look saw of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    peak: Severity,
    active: bool,
}

/// A change worth a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Opened,
    Escalated,
    Resolved,
}

impl Change {
    fn word(self) -> &'static str {
        match self {
            Change::Opened => "opened",
            Change::Escalated => "escalated",
            Change::Resolved => "resolved",
        }
    }
}

/// Says on stderr when what the rules read starts failing (the engine is blind there: a
/// finding cannot open, and none resolves) and when it is read again; with its context's
/// title when it is one of several.
#[derive(Debug, Default)]
struct Blindness {
    context: Option<Context>,
    /// What fails, by its words (one metrics request is many series of a few names).
    failing: std::collections::HashSet<String>,
}

impl Observer for Blindness {
    fn answered(&mut self, state: &crate::state::State, answer: &Answer) {
        for request in answer.requests.iter().filter(|r| r.essential) {
            let said = match &answer.error {
                Some(why) if self.failing.insert(request.what.clone()) => {
                    format!("cannot read {}: {}", request.what, clean(why))
                }
                None if self.failing.remove(&request.what) => {
                    format!("reading {} again", request.what)
                }
                _ => continue,
            };
            let whose = self.context.as_ref().map_or_else(String::new, |c| {
                format!("{}: ", c.title(Some(&state.identity.account)))
            });
            tracing::warn!("{whose}{said}");
            let _ = writeln!(std::io::stderr(), "ecsmon: {whose}{said}");
        }
    }

    fn wants_requests(&self) -> bool {
        false
    }
}

/// One context's engine, with what it has said so far.
struct Watched {
    engine: Engine,
    blindness: Blindness,
    seen: HashMap<FindingId, Seen>,
    evaluations: u64,
}

/// Every context's engine runs side by side (several: the fleet view's contexts, each line
/// labelled with its own) until a signal.
pub async fn run(
    engines: Vec<Engine>,
    cluster: Option<&str>,
    json: bool,
) -> Result<Status, LaunchError> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut watched: Vec<Watched> = engines
        .into_iter()
        .map(|engine| Watched {
            blindness: Blindness {
                context: engine.context.clone(),
                ..Blindness::default()
            },
            engine,
            seen: HashMap::new(),
            evaluations: 0,
        })
        .collect();
    for w in &mut watched {
        w.engine.begin(&mut w.blindness);
    }
    loop {
        // Whichever engine has something first; the others' steps are cancel-safe.
        let stepped = {
            let steps = watched
                .iter_mut()
                .map(|w| Box::pin(w.engine.step(&mut w.blindness)));
            tokio::select! {
                (_, i, _) = futures::future::select_all(steps) => i,
                _ = sigterm.recv() => break,
                _ = sigint.recv() => break,
            }
        };
        super::cluster_somewhere(watched.iter().map(|w| &w.engine))?;
        let w = &mut watched[stepped];
        // Findings change only when the rules run.
        if w.engine.state.triage.evaluations == w.evaluations {
            continue;
        }
        w.evaluations = w.engine.state.triage.evaluations;
        let state = &w.engine.state;
        let now = state.now;
        let findings = state.triage.all().filter(|f| print::in_cluster(f, cluster));
        let title = w.engine.title();
        let mut out = std::io::stdout().lock();
        for (change, finding) in changes(&mut w.seen, findings) {
            if json {
                let line = print::event_json(change.word(), now, finding);
                let context = w.engine.context.as_ref();
                let line = print::labelled(line, context, &state.identity.account);
                writeln!(out, "{line}")?;
            } else {
                let whose = title
                    .as_ref()
                    .map_or_else(String::new, |t| format!("{t}  "));
                writeln!(
                    out,
                    "{}  {:<9}  {whose}{}",
                    now.format("%Y-%m-%d %H:%M:%S"),
                    change.word(),
                    print::line(finding)
                )?;
            }
        }
        out.flush()?;
    }
    tracing::info!("watch ended by a signal");
    Ok(0)
}

/// What changed since the last look, and the look remembered for the next. A finding seen
/// for the first time is `opened` if active (one already resolved when first seen is history,
/// not news); a finding that is gone from the engine is forgotten.
fn changes<'a>(
    seen: &mut HashMap<FindingId, Seen>,
    findings: impl Iterator<Item = &'a Finding>,
) -> Vec<(Change, &'a Finding)> {
    let mut out = Vec::new();
    let mut now_seen = HashMap::new();
    for finding in findings {
        let id = finding.current.id();
        let current = Seen {
            peak: finding.peak,
            active: finding.is_active(),
        };
        let change = match seen.get(&id) {
            None if current.active => Some(Change::Opened),
            None => None,
            Some(before) if current.active && !before.active => Some(Change::Opened),
            Some(before) if !current.active && before.active => Some(Change::Resolved),
            Some(before) if current.active && current.peak > before.peak => Some(Change::Escalated),
            Some(_) => None,
        };
        if let Some(change) = change {
            out.push((change, finding));
        }
        now_seen.insert(id, current);
    }
    *seen = now_seen;
    // Most severe first, as the console lists them; then by rule, for a stable order.
    out.sort_by(|a, b| {
        b.1.severity()
            .cmp(&a.1.severity())
            .then(a.1.current.id().cmp(&b.1.current.id()))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Observation, Subject};
    use crate::testkit::fixed_now;

    fn finding(severity: Severity, peak: Severity, resolved: bool) -> Finding {
        let subject = Subject::Service {
            cluster: "prod".into(),
            service: "web".into(),
        };
        Finding {
            current: Observation::new("task-oom-killed", severity, subject, "killed"),
            opened_at: fixed_now(),
            last_seen: fixed_now(),
            resolved_at: resolved.then(fixed_now),
            peak,
        }
    }

    fn words(changes: Vec<(Change, &Finding)>) -> Vec<&'static str> {
        changes.into_iter().map(|(c, _)| c.word()).collect()
    }

    #[test]
    fn a_finding_is_said_when_it_opens_escalates_resolves_and_reopens_and_not_in_between() {
        let mut seen = HashMap::new();
        let warn = finding(Severity::Warning, Severity::Warning, false);
        assert_eq!(words(changes(&mut seen, [&warn].into_iter())), ["opened"]);
        assert!(changes(&mut seen, [&warn].into_iter()).is_empty());
        let crit = finding(Severity::Critical, Severity::Critical, false);
        assert_eq!(
            words(changes(&mut seen, [&crit].into_iter())),
            ["escalated"]
        );
        // Back down to a warning: not news (its peak stays critical).
        let calmer = finding(Severity::Warning, Severity::Critical, false);
        assert!(changes(&mut seen, [&calmer].into_iter()).is_empty());
        let gone = finding(Severity::Warning, Severity::Critical, true);
        assert_eq!(words(changes(&mut seen, [&gone].into_iter())), ["resolved"]);
        assert_eq!(words(changes(&mut seen, [&calmer].into_iter())), ["opened"]);
    }

    #[test]
    fn history_seen_first_is_not_news_and_a_forgotten_finding_opens_again() {
        let mut seen = HashMap::new();
        let old = finding(Severity::Critical, Severity::Critical, true);
        assert!(changes(&mut seen, [&old].into_iter()).is_empty());
        assert!(changes(&mut seen, std::iter::empty()).is_empty());
        let back = finding(Severity::Info, Severity::Info, false);
        assert_eq!(words(changes(&mut seen, [&back].into_iter())), ["opened"]);
    }
}
