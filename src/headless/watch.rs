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

impl Blindness {
    /// What to say of an answer: a line for each essential request that starts failing or is
    /// read again.
    fn notices(&mut self, state: &crate::state::State, answer: &Answer) -> Vec<String> {
        let whose = self.context.as_ref().map_or_else(String::new, |c| {
            format!("{}: ", c.title(Some(&state.identity.account)))
        });
        let mut said = Vec::new();
        for request in answer.requests.iter().filter(|r| r.essential) {
            match &answer.error {
                Some(why) if self.failing.insert(request.what.clone()) => {
                    said.push(format!(
                        "{whose}cannot read {}: {}",
                        request.what,
                        clean(why)
                    ));
                }
                None if self.failing.remove(&request.what) => {
                    said.push(format!("{whose}reading {} again", request.what));
                }
                _ => {}
            }
        }
        said
    }
}

impl Observer for Blindness {
    fn answered(&mut self, state: &crate::state::State, answer: &Answer) {
        for said in self.notices(state, answer) {
            tracing::warn!("{said}");
            let _ = writeln!(std::io::stderr(), "ecsmon: {said}");
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

impl Watched {
    fn new(engine: Engine) -> Self {
        Watched {
            blindness: Blindness {
                context: engine.context.clone(),
                ..Blindness::default()
            },
            engine,
            seen: HashMap::new(),
            evaluations: 0,
        }
    }

    /// A line for each finding that opened, escalated or resolved since the rules last ran
    /// (none when they have not run again), labelled with its context when one of several.
    fn news(&mut self, cluster: Option<&str>, json: bool) -> Vec<String> {
        // Findings change only when the rules run.
        if self.engine.state.triage.evaluations == self.evaluations {
            return Vec::new();
        }
        self.evaluations = self.engine.state.triage.evaluations;
        let state = &self.engine.state;
        let now = state.now;
        let findings = state.triage.all().filter(|f| print::in_cluster(f, cluster));
        let context = self.engine.context.as_ref();
        let whose = self
            .engine
            .title()
            .map_or_else(String::new, |t| format!("{t}  "));
        changes(&mut self.seen, findings)
            .into_iter()
            .map(|(change, finding)| {
                if json {
                    let line = print::event_json(change.word(), now, finding);
                    print::labelled(line, context, &state.identity.account).to_string()
                } else {
                    format!(
                        "{}  {:<9}  {whose}{}",
                        now.format("%Y-%m-%d %H:%M:%S"),
                        change.word(),
                        print::line(finding)
                    )
                }
            })
            .collect()
    }
}

/// Steps whichever engine has something first, and says which. Cancel-safe, as each step.
async fn step_any(watched: &mut [Watched]) -> usize {
    let steps = watched
        .iter_mut()
        .map(|w| Box::pin(w.engine.step(&mut w.blindness)));
    futures::future::select_all(steps).await.1
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
    let mut watched: Vec<Watched> = engines.into_iter().map(Watched::new).collect();
    for w in &mut watched {
        w.engine.begin(&mut w.blindness);
    }
    loop {
        let stepped = tokio::select! {
            stepped = step_any(&mut watched) => stepped,
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
        };
        super::cluster_somewhere(watched.iter().map(|w| &w.engine))?;
        let lines = watched[stepped].news(cluster, json);
        if lines.is_empty() {
            continue;
        }
        let mut out = std::io::stdout().lock();
        for line in lines {
            writeln!(out, "{line}")?;
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

    fn state(account: &str) -> crate::state::State {
        let mut state = crate::state::State::new(
            crate::model::Identity::default(),
            fixed_now(),
            crate::config::Config::defaults().refresh,
            (120, 40),
        );
        state.identity.account = account.into();
        state
    }

    fn clusters_answer(error: bool) -> Answer {
        let action = crate::action::Action::Loaded {
            fingerprint: None,
            query: crate::model::Query::Clusters,
            seq: 1,
            at: fixed_now(),
            result: if error {
                Err(crate::source::SourceError::new(
                    crate::source::ErrorKind::Credentials,
                    "your SSO session has expired",
                ))
            } else {
                Ok(crate::model::Snapshot::Clusters(Vec::new()))
            },
        };
        super::super::gather::answer(&action).unwrap()
    }

    #[test]
    fn blindness_is_said_once_when_it_starts_and_ends_with_the_context_of_several() {
        let state = state("345678901234");
        let mut one = Blindness::default();
        assert_eq!(
            one.notices(&state, &clusters_answer(true)),
            ["cannot read clusters: your SSO session has expired"]
        );
        let mut of_several = Blindness {
            context: Some(Context::new(Some("staging"), "us-east-1")),
            ..Blindness::default()
        };
        assert_eq!(
            of_several.notices(&state, &clusters_answer(true)),
            [
                "staging · 345678901234 · us-east-1: cannot read clusters: your SSO session has expired"
            ]
        );
        assert!(
            of_several
                .notices(&state, &clusters_answer(true))
                .is_empty()
        );
        assert_eq!(
            of_several.notices(&state, &clusters_answer(false)),
            ["staging · 345678901234 · us-east-1: reading clusters again"]
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn over_several_contexts_each_line_names_its_context() {
        use crate::source::demo::{DemoClock, DemoSource};
        let mut watched: Vec<Watched> = DemoSource::org(42, chrono::Utc::now(), DemoClock::System)
            .into_iter()
            .map(|m| {
                let source: std::sync::Arc<dyn crate::source::FleetSource> =
                    std::sync::Arc::new(m.source);
                let state = crate::state::State::new(
                    crate::model::Identity::default(),
                    source.now(),
                    crate::config::Config::defaults().refresh,
                    (120, 40),
                );
                let engine = Engine::new(state, crate::keymap::KeyMap::defaults(), source)
                    .in_context(m.context);
                Watched::new(engine)
            })
            .collect();
        for w in &mut watched {
            w.engine.begin(&mut w.blindness);
        }
        let mut contexts = std::collections::BTreeSet::new();
        let mut told = None;
        // The calm fleets' findings open at their first evaluations; a generous limit.
        let enough = async {
            while contexts.len() < 2 {
                let stepped = step_any(&mut watched).await;
                for line in watched[stepped].news(None, true) {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                    assert_eq!(v["event"], "opened", "{line}");
                    let title = v["context"]["title"].as_str().unwrap().to_string();
                    assert_eq!(v["context"]["profile"], title.split(" · ").next().unwrap());
                    contexts.insert(title);
                    told = Some(stepped);
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(150), enough)
            .await
            .expect("lines of two contexts");
        // As text: the context's title after the change.
        let w = &mut watched[told.unwrap()];
        let title = w.engine.title().unwrap();
        w.seen.clear();
        w.evaluations = 0;
        let lines = w.news(None, false);
        assert!(!lines.is_empty());
        for line in lines {
            assert_eq!(&line[19..32], "  opened     ", "{line}");
            assert!(line[32..].starts_with(&format!("{title}  ")), "{line}");
        }
    }
}
