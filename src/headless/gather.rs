//! "One complete picture" for `findings` and `report`: the loop runs until every request the
//! engine made has been answered at least once (the fleet polls, the metric series the rules
//! read, target health of services in trouble, log lines of services with stops, task
//! definitions), every series the rules want has come back, and the rules have been evaluated
//! since the last new answer. New answers make the engine ask for more (a stop seen → that
//! service's logs), so completeness is checked after each step, not counted up front.

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::action::{Action, Effect};
use crate::launch::LaunchError;
use crate::model::{MetricId, Query};
use crate::state::State;

use super::{Engine, Observer};

/// How long a picture may take before the command gives up and says what never answered.
pub const LIMIT: Duration = Duration::from_secs(120);

/// One request of the engine, named so its answer can be matched to it.
#[derive(Debug, Clone)]
pub struct Request {
    pub id: String,
    /// In words, for "never answered: …".
    pub what: String,
    /// The rules cannot be trusted without it (the fleet, the metrics): its failure fails the
    /// command. Others (a log scan, a task definition) only leave a rule or two unread.
    pub essential: bool,
}

impl Request {
    fn query(query: &Query) -> Self {
        Request {
            id: format!("{query:?}"),
            what: query.describe(),
            // Without the NAT gateways only the NAT rules go unread.
            essential: !matches!(query, Query::Egress { .. }),
        }
    }

    fn metric(metric: &MetricId) -> Self {
        Request {
            id: format!("metric {metric:?}"),
            what: format!("the metric {}", metric.name),
            essential: true,
        }
    }

    fn other(id: String, what: String) -> Self {
        Request {
            id,
            what,
            essential: false,
        }
    }
}

/// An answer: which requests it answers, and its error if it failed.
#[derive(Debug)]
pub struct Answer {
    pub requests: Vec<Request>,
    pub error: Option<String>,
}

/// The requests an effect sends (none for effects that ask nothing of the world).
pub fn requests(effect: &Effect) -> Vec<Request> {
    match effect {
        Effect::Fetch { query, .. } => vec![Request::query(query)],
        Effect::Describe { query, arns, .. } => vec![details(query, arns)],
        Effect::FetchMetrics { request, .. } => request
            .series
            .iter()
            .map(|k| Request::metric(&k.metric))
            .collect(),
        Effect::FetchIdentity => vec![identity()],
        Effect::FetchTargetHealth { service_arn, .. }
        | Effect::TriageTargetHealth { service_arn, .. } => vec![target_health(service_arn)],
        Effect::ScanLogs { cluster, service } => vec![log_scan(cluster, service)],
        Effect::FetchTaskDefinition { arn } => vec![task_definition(arn)],
        Effect::FetchScalingBounds { service_arn, .. } => vec![scaling(service_arn)],
        _ => Vec::new(),
    }
}

/// What an action answers, taken before `update` consumes it.
pub fn answer(action: &Action) -> Option<Answer> {
    let (requests, error) = match action {
        Action::Loaded { query, result, .. } => (vec![Request::query(query)], error_of(result)),
        Action::Listed { query, .. } => (vec![Request::query(query)], None),
        Action::Described {
            query,
            arns,
            result,
            ..
        } => (vec![details(query, arns)], error_of(result)),
        Action::MetricsLoaded {
            request, result, ..
        } => (
            request
                .series
                .iter()
                .map(|k| Request::metric(&k.metric))
                .collect(),
            error_of(result),
        ),
        Action::IdentityLoaded(result) => (vec![identity()], error_of(result)),
        Action::TargetHealthLoaded {
            service_arn,
            result,
            ..
        } => (vec![target_health(service_arn)], error_of(result)),
        Action::LogsScanned {
            cluster,
            service,
            result,
        } => (
            vec![log_scan(cluster, service)],
            result.as_ref().err().cloned(),
        ),
        Action::TaskDefinitionLoaded { arn, result } => {
            (vec![task_definition(arn)], error_of(result))
        }
        Action::ScalingLoaded {
            service_arn,
            result,
        } => (vec![scaling(service_arn)], error_of(result)),
        _ => return None,
    };
    Some(Answer { requests, error })
}

fn error_of<T>(result: &Result<T, crate::source::SourceError>) -> Option<String> {
    result.as_ref().err().map(|e| e.message.clone())
}

/// The details of some listed rows (one describe batch): the rules need them.
fn details(query: &Query, arns: &[String]) -> Request {
    Request {
        id: format!("details {query:?} {arns:?}"),
        what: format!("details of {} {}", arns.len(), query.describe()),
        essential: true,
    }
}

fn identity() -> Request {
    Request::other("identity".into(), "the account identity".into())
}

fn target_health(service_arn: &str) -> Request {
    Request::other(
        format!("th {service_arn}"),
        format!("target health of {}", crate::model::arn_tail(service_arn)),
    )
}

fn log_scan(cluster: &str, service: &str) -> Request {
    Request::other(
        format!("ls {cluster}/{service}"),
        format!("log lines of {cluster}/{service}"),
    )
}

fn task_definition(arn: &str) -> Request {
    Request::other(
        format!("td {arn}"),
        format!("task definition {}", crate::model::arn_tail(arn)),
    )
}

fn scaling(service_arn: &str) -> Request {
    Request::other(
        format!("sb {service_arn}"),
        format!("scaling bounds of {}", crate::model::arn_tail(service_arn)),
    )
}

/// What has been asked and answered so far.
#[derive(Debug, Default)]
pub struct Picture {
    asked: HashMap<String, Request>,
    answered: HashSet<String>,
    /// Requests whose latest answer was an error: (what, why, essential).
    failing: HashMap<String, (String, String, bool)>,
    /// Evaluations the engine had made when the last new answer arrived: the picture is
    /// complete only once it has evaluated again.
    evaluations_at_news: u64,
}

impl Observer for Picture {
    fn answered(&mut self, state: &State, answer: &Answer) {
        for request in &answer.requests {
            if self.answered.insert(request.id.clone()) {
                self.evaluations_at_news = state.triage.evaluations;
            }
            match &answer.error {
                Some(why) => {
                    let entry = (request.what.clone(), why.clone(), request.essential);
                    self.failing.insert(request.id.clone(), entry);
                }
                None => {
                    self.failing.remove(&request.id);
                }
            }
        }
    }

    fn asked(&mut self, requests: Vec<Request>) {
        for request in requests {
            self.asked.entry(request.id.clone()).or_insert(request);
        }
    }
}

impl Picture {
    /// Every request answered, every query and series the engine wants come back, the rules
    /// run since the last new answer, and the engine's scheduling run once more after that
    /// (what the evaluation found, a service in trouble, asks for its logs and targets next).
    pub fn complete(&self, state: &State) -> bool {
        let scheduled_since = match (state.triage.last_scheduled, state.triage.last_evaluated) {
            (Some(scheduled), Some(evaluated)) => scheduled > evaluated,
            _ => false,
        };
        !self.asked.is_empty()
            && state.triage.evaluations > self.evaluations_at_news
            && scheduled_since
            && self.missing(state).is_empty()
    }

    /// What is still awaited, in words.
    pub fn missing(&self, state: &State) -> Vec<String> {
        let mut missing: Vec<String> = self
            .asked
            .values()
            .filter(|r| !self.answered.contains(&r.id))
            .map(|r| r.what.clone())
            .collect();
        // What the panes and the engine poll (the engine's list is worked out as answers come).
        missing.extend(
            crate::poll::panes::wanted(state)
                .iter()
                .map(|(query, _)| Request::query(query))
                .filter(|r| !self.answered.contains(&r.id))
                .map(|r| r.what),
        );
        // Rows listed whose details have not come: the rules cannot read them yet.
        missing.extend(
            crate::poll::panes::wanted(state)
                .iter()
                .filter_map(|(query, _)| {
                    let (rows, loaded) = state.fleet.slot(query)?.loading()?;
                    Some(format!(
                        "details of {} of {rows} {}",
                        rows - loaded,
                        query.describe()
                    ))
                }),
        );
        let series = state
            .triage
            .metrics_wanted
            .iter()
            .map(Request::metric)
            .filter(|r| !self.answered.contains(&r.id) && !self.asked.contains_key(&r.id))
            .count();
        if series > 0 {
            missing.push(format!(
                "{series} metric series the rules read (not asked yet)"
            ));
        }
        missing.sort();
        missing.dedup();
        missing
    }

    /// Failed answers the rules needed: the picture cannot be trusted.
    pub fn fatal(&self) -> Vec<String> {
        self.failures(true)
    }

    /// Failed answers that only leave a rule or two unread.
    pub fn minor(&self) -> Vec<String> {
        self.failures(false)
    }

    fn failures(&self, essential: bool) -> Vec<String> {
        let mut out: Vec<String> = self
            .failing
            .values()
            .filter(|(_, _, e)| *e == essential)
            .map(|(what, why, _)| format!("{what}: {}", crate::sanitize::clean(why)))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn progress(&self) -> String {
        let answered = self.asked.keys().filter(|id| self.answered.contains(*id));
        format!(
            "ecsmon: gathering… {} of {} requests answered",
            answered.count(),
            self.asked.len()
        )
    }
}

/// Runs the engine until the picture is complete (or [`LIMIT`] passes: an error saying what
/// never answered). A failed answer the rules need is an error too; others are said on stderr.
pub async fn gather(engine: &mut Engine) -> Result<(), LaunchError> {
    let mut picture = Picture::default();
    // Several contexts gather at once: a progress line each would overwrite the others'.
    let progress = engine.context.is_none() && std::io::stderr().is_terminal();
    let mut shown = String::new();
    let limit = tokio::time::sleep(LIMIT);
    tokio::pin!(limit);
    engine.begin(&mut picture);
    let result = loop {
        // Done: complete, or all answered but what the rules need failed (no point waiting).
        if picture.complete(&engine.state)
            || (!picture.fatal().is_empty() && picture.missing(&engine.state).is_empty())
        {
            break Ok(());
        }
        if progress {
            let line = picture.progress();
            if line != shown {
                let _ = write!(std::io::stderr(), "\r\x1b[2K{line}");
                shown = line;
            }
        }
        tokio::select! {
            _ = engine.step(&mut picture) => {}
            _ = &mut limit => {
                let mut missing = picture.missing(&engine.state).join("; ");
                if missing.is_empty() {
                    missing = "nothing, but the rules never ran on the answers".into();
                }
                break Err(LaunchError::Runtime(color_eyre::eyre::eyre!(
                    "no complete picture after {} s; never answered: {missing}",
                    LIMIT.as_secs()
                )));
            }
        }
    };
    if progress {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
    result?;
    let fatal = picture.fatal();
    if !fatal.is_empty() {
        return Err(LaunchError::Runtime(color_eyre::eyre::eyre!(
            "could not read what the rules need: {}",
            fatal.join("; ")
        )));
    }
    let whose = engine
        .title()
        .map_or_else(String::new, |t| format!("{t}: "));
    for note in picture.minor() {
        let _ = writeln!(std::io::stderr(), "ecsmon: {whose}not read: {note}");
    }
    Ok(())
}

/// On a replayed incident: keeps the engine running (and polling at its cadences) until the
/// replay has run `at` of incident time since the command started.
pub async fn run_until(engine: &mut Engine, started: crate::model::Time, at: chrono::TimeDelta) {
    let mut quiet = ();
    while engine.state.now - started < at {
        engine.step(&mut quiet).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::{Identity, Query};
    use crate::source::{ErrorKind, SourceError};
    use crate::testkit::fixed_now;

    fn state() -> State {
        State::new(
            Identity::default(),
            fixed_now(),
            Config::defaults().refresh,
            (120, 40),
        )
    }

    fn loaded(query: Query, error: bool) -> Action {
        Action::Loaded {
            fingerprint: None,
            query,
            seq: 1,
            at: fixed_now(),
            result: if error {
                Err(SourceError::new(ErrorKind::Service, "no route to ECS"))
            } else {
                Ok(crate::model::Snapshot::Clusters(Vec::new()))
            },
        }
    }

    #[test]
    fn an_answer_names_the_request_it_answers() {
        let query = Query::Services {
            cluster: "prod".into(),
        };
        let asked = requests(&Effect::Fetch {
            query: query.clone(),
            seq: 1,
        });
        let answer = answer(&loaded(query, false)).unwrap();
        assert_eq!(asked[0].id, answer.requests[0].id);
        assert!(asked[0].essential);
        let scan = requests(&Effect::ScanLogs {
            cluster: "prod".into(),
            service: "web".into(),
        });
        let scanned = super::answer(&Action::LogsScanned {
            cluster: "prod".into(),
            service: "web".into(),
            result: Err("no log group".into()),
        })
        .unwrap();
        assert_eq!(scan[0].id, scanned.requests[0].id);
        assert!(!scan[0].essential);
        assert_eq!(scanned.error.as_deref(), Some("no log group"));
        assert!(super::answer(&Action::Tick(fixed_now())).is_none());
    }

    #[test]
    fn the_picture_is_complete_once_answered_evaluated_and_scheduled_again() {
        let mut state = state();
        let mut picture = Picture::default();
        assert!(!picture.complete(&state), "nothing asked yet");
        picture.asked(requests(&Effect::Fetch {
            query: Query::Clusters,
            seq: 1,
        }));
        assert_eq!(picture.missing(&state), ["clusters"]);
        let answer = answer(&loaded(Query::Clusters, false)).unwrap();
        picture.answered(&state, &answer);
        assert!(picture.missing(&state).is_empty());
        assert!(!picture.complete(&state), "the rules have not run since");
        state.triage.evaluations += 1;
        state.triage.last_evaluated = Some(fixed_now());
        state.triage.last_scheduled = Some(fixed_now());
        assert!(
            !picture.complete(&state),
            "not scheduled after the evaluation"
        );
        state.triage.last_scheduled = Some(fixed_now() + chrono::TimeDelta::seconds(1));
        assert!(picture.complete(&state));
        // What the engine wants next (a service to poll) makes it incomplete again.
        state.triage.wanted_queries = vec![(
            Query::Services {
                cluster: "prod".into(),
            },
            Duration::from_secs(30),
        )];
        assert_eq!(picture.missing(&state), ["services of prod"]);
        assert!(!picture.complete(&state));
    }

    #[test]
    fn a_failed_fleet_answer_is_fatal_until_a_later_one_succeeds() {
        let state = state();
        let mut picture = Picture::default();
        picture.answered(&state, &answer(&loaded(Query::Clusters, true)).unwrap());
        assert_eq!(picture.fatal(), ["clusters: no route to ECS"]);
        picture.answered(&state, &answer(&loaded(Query::Clusters, false)).unwrap());
        assert!(picture.fatal().is_empty());
    }
}
