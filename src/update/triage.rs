//! Feeding the triage engine: sending the polls `poll::triage` decides it needs beyond the
//! panes, keeping what they answer, and when it evaluates.

use chrono::TimeDelta;

use crate::action::Effect;
use crate::model::{Query, Task, Time, metric_catalog};
use crate::poll::triage as poll;
use crate::state::{EngineJob, Evaluated, State};

/// Rules are evaluated at most this often while data keeps arriving…
const EVALUATE_EVERY: TimeDelta = TimeDelta::seconds(3);
/// …and at least this often (holds and resolutions move with time alone).
const EVALUATE_IDLE: TimeDelta = TimeDelta::seconds(15);
/// A big fleet's evaluations are a second further apart per this many running tasks (see
/// `should_evaluate`).
const TASKS_PER_SECOND: usize = 5_000;
/// The series the rules read are worked out again at least this often (see `job`).
const WANTED_EVERY_LEAST: TimeDelta = TimeDelta::seconds(30);
/// A big fleet's looks over every service are a second further apart per this many services.
const SERVICES_PER_SECOND: usize = 500;

/// Effects the engine needs now: target health, task definitions, scaling bounds (`look`:
/// whether this turn may look over every service; else the next one does).
pub fn schedule(state: &mut State, look: bool) -> Vec<Effect> {
    let now = state.now;
    let mut effects = Vec::new();
    // Keys and data arrive many times a second; the engine's polls are decided at most once
    // a second of the console's clock.
    if !look
        || state
            .triage
            .last_scheduled
            .is_some_and(|at| now - at < TimeDelta::seconds(1))
    {
        return effects;
    }
    state.triage.last_scheduled = Some(now);
    // The look over every service (what to poll for which) at most once a second, and on a
    // big fleet a second more per SERVICES_PER_SECOND services: every 4 s over 2,000 (what
    // it asks for is polled every 30 s or slower, so a few seconds change nothing there).
    // As many services as the engine last counted (its wanted series' basis): no count of
    // 2,000 services each turn for it.
    let services = state.triage.metrics_wanted_basis.0;
    let every = TimeDelta::seconds((services / SERVICES_PER_SECOND).max(1) as i64);
    if state.triage.last_looked.is_none_or(|at| now - at >= every) {
        state.triage.last_looked = Some(now);
        look_at_the_fleet(state, &mut effects);
        effects.extend(log_scans(state));
    }
    if should_evaluate(state) {
        effects.push(Effect::Evaluate(crate::state::JobHandOff::new(job(state))));
    }
    effects
}

/// The fleet polls the engine wants, and the per-service requests due: target health of
/// services in question, scaling bounds of busy ones, task definitions.
fn look_at_the_fleet(state: &mut State, effects: &mut Vec<Effect>) {
    let now = state.now;
    state.triage.wanted_queries = poll::fleet_queries(state);
    let since = fresh_since(state);
    let running_definitions = running_task_definitions(state, since);
    // Decided over the borrowed fleet first, then sent: a big account has 2,000 services and
    // 100,000 tasks, none of which is copied once a second.
    let mut per_service = Vec::new();
    let task_defs: Vec<String> = {
        let troubled = poll::services_with_findings(state);
        for s in state.fleet.services_since(since) {
            let target_health = (poll::targets_in_question(state, s, &troubled)
                && !poll::target_health_open(state, &s.arn))
            .then(|| (s.arn.clone(), s.target_group_arns.clone()));
            let scaling = poll::wants_scaling_bounds(state, s).then(|| {
                (
                    metric_catalog::cluster_of(&s.cluster_arn).to_string(),
                    s.name.clone(),
                    s.arn.clone(),
                )
            });
            per_service.push((s.task_definition.arn.clone(), target_health, scaling));
        }
        // Task definitions of running tasks too (a deployment's old and new revisions differ).
        running_definitions
            .into_iter()
            .filter(|arn| !state.triage.task_definitions.contains_key(arn))
            .collect()
    };
    for (task_definition, target_health, scaling) in per_service {
        want_task_definition(state, &task_definition, effects);
        if let Some((service_arn, target_groups)) = target_health
            && state
                .triage
                .due(&format!("th {service_arn}"), now, poll::TARGET_HEALTH_EVERY)
        {
            effects.push(Effect::TriageTargetHealth {
                service_arn,
                target_groups,
            });
        }
        if let Some((cluster, service, service_arn)) = scaling
            && state
                .triage
                .due(&format!("sb {service_arn}"), now, poll::SCALING_EVERY)
        {
            effects.push(Effect::FetchScalingBounds {
                cluster,
                service,
                service_arn,
            });
        }
    }
    for arn in task_defs {
        want_task_definition(state, &arn, effects);
    }
}

/// The task definitions of the running tasks in answers fetched since `since`
/// ([`crate::state::Fleet::running_task_definitions_since`]), worked out again only when
/// those answers are others (their versions name them): a scan of 100,000 tasks once a
/// second was the longest part of the engine's look at the fleet.
fn running_task_definitions(state: &mut State, since: Time) -> Vec<String> {
    let mut versions: Vec<u64> = state
        .fleet
        .slots()
        .filter(|(_, s)| s.data.is_some() && s.fetched_at.is_some_and(|at| at >= since))
        .map(|(_, s)| s.version)
        .collect();
    versions.sort_unstable();
    if let Some((seen, definitions)) = &state.triage.running_definitions
        && *seen == versions
    {
        return definitions.clone();
    }
    let definitions: Vec<String> = state
        .fleet
        .running_task_definitions_since(since)
        .into_iter()
        .map(str::to_string)
        .collect();
    state.triage.running_definitions = Some((versions, definitions.clone()));
    definitions
}

/// Log scans due now: the troubled services, the most severe first, a few at a time; then,
/// now and then, one quiet service.
fn log_scans(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    // The most severe first, but every troubled service gets its turn: those scanned a moment
    // ago are not due and leave their place to the next.
    let mut effects = Vec::new();
    let troubled = poll::log_scan_candidates(state);
    for (cluster, service) in troubled.iter().cloned() {
        if effects.len() >= poll::LOG_SCANS_MAX {
            break;
        }
        if state.triage.due(
            &format!("ls {cluster}/{service}"),
            now,
            poll::LOG_SCAN_EVERY,
        ) {
            effects.push(Effect::ScanLogs { cluster, service });
        }
    }
    // Quiet services in turn: each scanned within the last few minutes leaves its place.
    if effects.len() < poll::LOG_SCANS_MAX && state.triage.due("lsq", now, poll::QUIET_LOG_SCAN_GAP)
    {
        // Named once per gap, not once a second: a big account has thousands of services.
        let quiet: Vec<(String, String)> = state
            .fleet
            .services_since(fresh_since(state))
            .into_iter()
            .filter(|s| s.running > 0)
            .map(|s| {
                let cluster = metric_catalog::cluster_of(&s.cluster_arn).to_string();
                (cluster, s.name.clone())
            })
            .filter(|(c, n)| !troubled.iter().any(|(tc, tn)| tc == c && tn == n))
            .collect();
        for (cluster, service) in quiet {
            let key = format!("ls {cluster}/{service}");
            if state.triage.due(&key, now, poll::QUIET_LOG_SCAN_EVERY) {
                effects.push(Effect::ScanLogs { cluster, service });
                break;
            }
        }
    }
    effects
}

/// A log scan answered: its lines feed the log rules.
pub fn logs_scanned(
    state: &mut State,
    cluster: &str,
    service: &str,
    result: Result<Vec<crate::model::LogEvent>, String>,
) {
    let events = match result {
        Ok(events) => events,
        Err(why) => {
            tracing::debug!(cluster, service, "log scan for triage: {why}");
            return;
        }
    };
    remember_lines(state, cluster, Some(service), &events);
}

/// Task definitions never change once registered: fetched once (a failure is retried later).
fn want_task_definition(state: &mut State, arn: &str, effects: &mut Vec<Effect>) {
    if arn.is_empty() || state.triage.task_definitions.contains_key(arn) {
        return;
    }
    if state
        .triage
        .due(&format!("td {arn}"), state.now, poll::TASK_DEFINITION_RETRY)
    {
        effects.push(Effect::FetchTaskDefinition {
            arn: arn.to_string(),
        });
    }
}

fn should_evaluate(state: &State) -> bool {
    // One evaluation at a time: the next waits for the answer.
    if state.triage.jobs.running.is_some() {
        return false;
    }
    match state.triage.last_evaluated {
        // Once the clusters list has answered, even an account without any cluster.
        None => state
            .fleet
            .slot(&Query::Clusters)
            .is_some_and(|s| s.data.is_some()),
        Some(at) => {
            let since = state.now - at;
            // On a fleet where one evaluation is costly it runs less often, so the engine's
            // thread is busy at most about a twentieth of the time; and on a big fleet less
            // often still, by its size (a second per 5,000 running tasks: every 15 s, the idle
            // cadence, from 75,000, where the evaluation of the one big cluster whose tasks
            // keep moving takes 0.1–0.3 s on two cores), so it stays near a hundredth.
            // The size, not the measured cost, decides that: the same fleet is evaluated at
            // the same moments on any machine.
            let cost = TimeDelta::from_std(state.triage.last_cost * 20).unwrap_or(EVALUATE_IDLE);
            let every = EVALUATE_EVERY
                .max(cost)
                .max(size_spacing(state))
                .min(EVALUATE_IDLE);
            (state.triage.dirty && since >= every) || since >= EVALUATE_IDLE
        }
    }
}

/// How far apart a fleet's size spaces its evaluations: a second per [`TASKS_PER_SECOND`]
/// running tasks judged last time, up to the idle bound.
fn size_spacing(state: &State) -> TimeDelta {
    let tasks = state.triage.engine_cache.as_ref().map_or(0, |c| c.tasks);
    TimeDelta::seconds((tasks / TASKS_PER_SECOND) as i64).min(EVALUATE_IDLE)
}

/// A frozen copy of what the rules read (cheap: the large parts are shared), for an
/// evaluation off the UI loop. The job is now the one under way.
pub fn job(state: &mut State) -> EngineJob {
    // What the rules read is worked out again when the fleet's counts move, and else once a
    // metrics cycle (what it asks for is fetched a cycle at a time): an object replaced by
    // one of the same kind is asked for at the next cycle. Working out 20,000 series every
    // 30 s was a sixteenth of `--demo huge`'s idle CPU.
    let every = TimeDelta::from_std(state.refresh.metrics)
        .unwrap_or(WANTED_EVERY_LEAST)
        .max(WANTED_EVERY_LEAST);
    let wanted_due = state
        .triage
        .metrics_wanted_at
        .is_none_or(|at| state.now - at >= every);
    // What arrives from here on is news for the next evaluation.
    state.triage.dirty = false;
    // Worked out before the cache goes with the job (it counts the tasks judged).
    let max_age = crate::state::max_age(size_spacing(state));
    state.triage.last_max_age = Some(max_age);
    EngineJob {
        id: state.triage.jobs.start(),
        now: state.now,
        fresh_since: fresh_since(state),
        egress_since: state.now - EGRESS_FRESH_FOR,
        fleet: state.fleet.clone(),
        stops: std::sync::Arc::clone(&state.triage.stops),
        stop_memory: std::sync::Arc::clone(&state.triage.stop_memory),
        series: state.metrics.shared_series(),
        alarms: state.metrics.alarms.clone(),
        target_health: state.triage.target_health.clone(),
        task_definitions: state.triage.task_definitions.clone(),
        scaling: state.triage.scaling.clone(),
        logs: std::sync::Arc::clone(&state.triage.logs),
        wanted_basis: state.triage.metrics_wanted_basis,
        wanted_due,
        wanted_before: std::sync::Arc::clone(&state.triage.metrics_wanted),
        cache: state.triage.engine_cache.take().unwrap_or_default(),
        watched: std::sync::Arc::new(watched_tasks(state)),
        max_age,
    }
}

/// The tasks whose own memory series the rules ask for: those on screen, those named by a
/// finding (open or holding) and those of a service a finding names.
fn watched_tasks(state: &State) -> crate::triage::rules::Watched {
    use crate::model::Subject;
    let mut watched = crate::triage::rules::Watched {
        tasks: crate::poll::metrics::visible_tasks(state)
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let named = state
        .triage
        .active()
        .into_iter()
        .map(|f| &f.current.subject)
        .chain(state.triage.holding().into_iter().map(|(_, o)| &o.subject));
    for subject in named {
        if let Subject::Task { task_arn, .. } | Subject::Container { task_arn, .. } = subject {
            watched.tasks.insert(task_arn.clone());
        }
        if let Some(service) = subject.service() {
            watched
                .services
                .insert((subject.cluster().to_string(), service.to_string()));
        }
    }
    watched
}

/// Runs every rule over what the console knows, here and now, and updates the findings (the
/// headless look's last word, and the benchmarks; the console evaluates off its loop).
pub fn evaluate(state: &mut State) {
    let job = job(state);
    let id = job.id;
    let result = job.run();
    evaluated(state, id, Ok(Box::new(result)));
}

/// An evaluation came back: its findings are applied (measured against the console's clock
/// now: the rules said what held when the job was taken).
pub fn evaluated(state: &mut State, id: u64, result: Result<Box<Evaluated>, String>) {
    if !state.triage.jobs.finish(id) {
        return;
    }
    let now = state.now;
    // Whatever came back, the cadence counts from here (a crash is not retried at once).
    state.triage.last_evaluated = Some(now);
    let evaluated = match result {
        Ok(evaluated) => evaluated,
        Err(why) => {
            tracing::error!("triage evaluation crashed: {why}");
            state.set_status(
                crate::state::Level::Error,
                format!("The findings engine hit an internal error ({why}); findings are not being updated until it runs again."),
            );
            return;
        }
    };
    let blind = blind(state);
    let evaluated = *evaluated;
    state.triage.last_reuse = evaluated.cache.last;
    state.triage.engine_cache = Some(evaluated.cache);
    state.triage.apply(now, evaluated.observations, blind);
    if let Some(change) = evaluated.wanted {
        // Only what changed is gone through here: 20,000 series on the biggest fleets.
        crate::update::metrics::engine_wants(state, &change);
        let before = std::mem::replace(&mut state.triage.metrics_wanted, change.all);
        // 20,000 series' ids freed here would hold the UI loop for longer than a frame.
        crate::state::drop_elsewhere(Box::new(before), crate::state::Release::Keep);
        state.triage.metrics_wanted_at = Some(evaluated.at);
        state.triage.metrics_wanted_basis = change.basis;
    }
    state.triage.last_cost = evaluated.cost;
    state.triage.max_cost = state.triage.max_cost.max(evaluated.cost);
    state.triage.evaluations += 1;
}

/// NAT gateways are polled every few minutes (`poll::triage::EGRESS_EVERY`): their answer
/// stays good for a few polls, so one late poll does not blind the NAT rules.
const EGRESS_FRESH_FOR: TimeDelta = TimeDelta::minutes(20);

/// Answers older than this are no longer the fleet as it is (nobody polls them any more).
const FRESH_FOR: TimeDelta = TimeDelta::minutes(5);

fn fresh_since(state: &State) -> Time {
    state.now - FRESH_FOR
}

/// Whether what the rules read is failing or stale: metrics erroring or older than three
/// cycles, or the services of a cluster failing to load. Findings do not resolve meanwhile.
fn blind(state: &State) -> bool {
    let cycles = crate::poll::chrono_duration(state.refresh.metrics * 3);
    let metrics_blind = state.metrics.error.is_some()
        || (!state.triage.metrics_wanted.is_empty()
            && state
                .metrics
                .fetched_at
                .is_none_or(|at| state.now - at > cycles));
    let fleet_blind = state.fleet.clusters().iter().any(|c| {
        state
            .fleet
            .slot(&Query::Services {
                cluster: c.name.clone(),
            })
            .is_some_and(|s| s.is_stale())
    }) || state
        .fleet
        .slot(&Query::Clusters)
        .is_some_and(|s| s.is_stale());
    metrics_blind || fleet_blind
}

/// A fleet answer arrived: remember stops and service history for the timeline.
pub fn fleet_loaded(state: &mut State, query: &Query) {
    let now = state.now;
    match query {
        Query::Services { .. } => {
            // Rows still loading have no history to tell yet. Borrowed, not copied (1,200
            // services with their events).
            let services: Vec<&crate::model::Service> = state
                .fleet
                .services(query)
                .iter()
                .filter(|s| !s.loading)
                .collect();
            state.triage.timeline.services(&services);
        }
        Query::Tasks { .. } | Query::Task { .. } => {
            let tasks: Vec<Task> = state
                .fleet
                .tasks(query)
                .iter()
                .filter(|t| t.is_stopped())
                .cloned()
                .collect();
            state.triage.remember_stops(now, &tasks);
            state.triage.keep_stop_memory(state.metrics.series());
        }
        _ => {}
    }
    // Only an answer that differs from the last one is news for the rules.
    let slot = state.fleet.slot(query);
    if slot.is_none_or(|s| s.changed_at.is_some() && s.changed_at == s.fetched_at) {
        state.triage.dirty = true;
    }
}

/// (cluster, service) of a service ARN: from the ARN when it names the cluster, else (the
/// short, pre-2021 format `service/name`) from the services the console holds.
pub fn service_of_arn(state: &State, service_arn: &str) -> Option<(String, String)> {
    let key = crate::model::arn::service_key(service_arn);
    key.map(|(c, n)| (c.to_string(), n.to_string()))
        .or_else(|| {
            state
                .fleet
                .all_services()
                .into_iter()
                .find(|s| s.arn == service_arn)
                .map(|s| {
                    (
                        metric_catalog::cluster_of(&s.cluster_arn).to_string(),
                        s.name.clone(),
                    )
                })
        })
}

/// Keeps the scaling bounds the rules read.
pub fn scaling_loaded(
    state: &mut State,
    service_arn: &str,
    result: &Result<Option<crate::model::ScalingBounds>, crate::source::SourceError>,
) {
    let Some(key) = service_of_arn(state, service_arn) else {
        return;
    };
    match result {
        Ok(Some(bounds)) => {
            state.triage.scaling.insert(key, bounds.clone());
        }
        Ok(None) => {
            state.triage.scaling.remove(&key);
        }
        Err(_) => {}
    }
    state.triage.dirty = true;
}

pub fn task_definition_loaded(
    state: &mut State,
    arn: String,
    result: Result<std::sync::Arc<crate::model::TaskDefinition>, crate::source::SourceError>,
) {
    match result {
        Ok(def) => {
            state.triage.task_definitions.insert(arn, def);
            state.triage.dirty = true;
        }
        // Asked again after TASK_DEFINITION_RETRY.
        Err(e) => tracing::debug!(arn, "task definition for triage: {}", e.message),
    }
}

/// Lines a log pane received also feed the log rules (JVM memory, database, DNS, access
/// denied).
pub fn log_lines(state: &mut State, id: u64, events: &[crate::model::LogEvent]) {
    let Some(pane) = state.logs.as_ref().filter(|p| p.id == id) else {
        return;
    };
    let (cluster, service) = match &pane.subject {
        crate::model::LogSubject::Service { cluster, service } => {
            (cluster.clone(), Some(service.clone()))
        }
        crate::model::LogSubject::Task(task) => (
            metric_catalog::cluster_of(&task.cluster_arn).to_string(),
            task.service_name().map(str::to_string),
        ),
    };
    remember_lines(state, &cluster, service.as_deref(), events);
}

/// The stream name `<prefix>/<container>/<task-id>` tells whose line it is.
fn remember_lines(
    state: &mut State,
    cluster: &str,
    service: Option<&str>,
    events: &[crate::model::LogEvent],
) {
    let ids = events
        .iter()
        .filter_map(|e| e.stream.rsplit('/').next())
        .collect();
    let arns = state.fleet.task_arns_by_id(&ids, cluster, service);
    let task_arn = |task_id: &str| {
        arns.get(task_id).map_or_else(
            || crate::sanitize::clean(task_id).into_owned(),
            |a| a.to_string(),
        )
    };
    let samples: Vec<(String, crate::model::LogSample)> = events
        .iter()
        .map(|e| {
            let mut parts = e.stream.rsplit('/');
            let task_id = parts.next().unwrap_or_default();
            let container = parts.next().unwrap_or_default();
            let sample = crate::model::LogSample {
                cluster: cluster.to_string(),
                service: service.map(str::to_string),
                task_arn: task_arn(task_id),
                container: crate::sanitize::clean(container).into_owned(),
                at: e.at,
                message: crate::sanitize::clean(&e.message).into_owned(),
            };
            // The same line by Live Tail and by a scan has two ids: its stream, time and text
            // tell it apart (a rule must not count it twice).
            let key = format!(
                "{}/{}/{:x}",
                e.stream,
                e.at.timestamp_millis(),
                crate::model::hash::stable(&[e.message.as_bytes()])
            );
            (key, sample)
        })
        .collect();
    state.triage.remember_logs(samples);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Observation, SeriesKey, Severity, Subject};
    use crate::testkit::Harness;

    #[test]
    fn running_task_definitions_are_worked_out_again_when_an_answer_changes() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(5);
        let since = fresh_since(&h.state);
        let fresh = |h: &Harness| -> Vec<String> {
            let defs = h.state.fleet.running_task_definitions_since(since);
            defs.into_iter().map(str::to_string).collect()
        };
        let first = running_task_definitions(&mut h.state, since);
        assert!(!first.is_empty());
        assert_eq!(first, fresh(&h));
        assert_eq!(running_task_definitions(&mut h.state, since), first);
        // A new answer with a task of another revision: seen at once.
        let query = Query::Tasks {
            scope: crate::model::TaskScope::Cluster {
                cluster: "elsewhere".into(),
            },
            stopped: false,
        };
        let task = Task {
            arn: "arn:aws:ecs:eu-west-1:1:task/elsewhere/abc".into(),
            last_status: "RUNNING".into(),
            task_definition: crate::model::TaskDefRef {
                arn: "arn:aws:ecs:eu-west-1:1:task-definition/brand-new:1".into(),
                ..Default::default()
            },
            ..Task::default()
        };
        let at = h.state.now;
        h.state.fleet.apply(
            query,
            u64::MAX / 2,
            at,
            Ok(crate::model::Snapshot::Tasks(vec![task])),
        );
        let again = running_task_definitions(&mut h.state, since);
        assert!(again.iter().any(|d| d.ends_with("brand-new:1")));
        assert_eq!(again, fresh(&h));
    }

    fn service_key(t: &Task) -> (String, String) {
        (
            metric_catalog::cluster_of(&t.cluster_arn).to_string(),
            t.service_name().unwrap_or_default().to_string(),
        )
    }

    fn memory_key(task: &Task) -> SeriesKey {
        SeriesKey {
            metric: metric_catalog::task_memory(task),
            period: crate::triage::input::PERIOD,
        }
    }

    #[test]
    fn a_task_scrolled_away_loses_its_own_series_after_the_grace() {
        let mut h = Harness::new("default", 160, 45);
        h.press(":tasks<enter>");
        h.advance(90);
        let shown = crate::poll::metrics::visible_tasks(&h.state);
        let troubled = watched_tasks(&h.state).services;
        let (running, _) = h.state.fleet.all_tasks();
        let task = running
            .iter()
            .find(|t| {
                shown.contains(&t.arn.to_string())
                    && !troubled.contains(&service_key(t))
                    && h.state.metrics.get(&memory_key(t)).is_some()
                    && h.state
                        .triage
                        .metrics_wanted
                        .contains(&memory_key(t).metric)
            })
            .map(|t| (*t).clone())
            .expect("a task on screen with its memory series, wanted by the engine");
        // Back to the clusters: the task is on no screen and named by no finding.
        h.press("<esc>");
        h.advance(60);
        assert!(!crate::poll::metrics::visible_tasks(&h.state).contains(&task.arn.to_string()));
        assert!(
            !h.state
                .triage
                .metrics_wanted
                .contains(&memory_key(&task).metric),
            "the engine no longer wants it"
        );
        h.advance(16 * 60);
        assert!(
            h.state.metrics.get(&memory_key(&task)).is_none(),
            "forgotten after the grace"
        );
    }

    #[test]
    fn a_task_named_by_a_finding_keeps_its_own_series() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(40);
        let troubled = watched_tasks(&h.state).services;
        let (running, _) = h.state.fleet.all_tasks();
        let task = running
            .iter()
            .find(|t| {
                !troubled.contains(&service_key(t))
                    && h.state
                        .fleet
                        .insights(metric_catalog::cluster_of(&t.cluster_arn))
                        == Some(crate::model::Insights::Enhanced)
                    && t.last_status == "RUNNING"
            })
            .map(|t| (*t).clone())
            .expect("a running task of an enhanced cluster");
        assert!(
            !h.state
                .triage
                .metrics_wanted
                .contains(&memory_key(&task).metric),
            "off screen and without a finding: judged by its service's series"
        );
        let subject = Subject::Task {
            cluster: metric_catalog::cluster_of(&task.cluster_arn).to_string(),
            service: task.service_name().map(str::to_string),
            task_arn: task.arn.to_string(),
        };
        let now = h.state.now;
        h.state.triage.apply(
            now,
            vec![Observation::new(
                "memory-leak-trend",
                Severity::Warning,
                subject,
                "leak",
            )],
            false,
        );
        let job = job(&mut h.state);
        assert!(job.watched.tasks.contains(task.arn.as_str()));
        let evaluated = job.run();
        let change = evaluated
            .wanted
            .expect("worked out again: the watched set changed");
        assert!(change.all.contains(&memory_key(&task).metric));
        assert!(change.added.contains(&memory_key(&task).metric));
    }

    #[test]
    fn a_big_fleets_services_are_looked_over_every_few_seconds_a_small_ones_each_second() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(5);
        let looked = |h: &mut Harness, services: usize, secs: i64| {
            let now = h.state.now;
            h.state.triage.metrics_wanted_basis.0 = services;
            h.state.triage.last_scheduled = Some(now - TimeDelta::seconds(1));
            h.state.triage.last_looked = Some(now - TimeDelta::seconds(secs));
            h.state.triage.wanted_queries.clear();
            schedule(&mut h.state, true);
            !h.state.triage.wanted_queries.is_empty()
        };
        assert!(looked(&mut h, 40, 1));
        assert!(looked(&mut h, 999, 1));
        // 2,000 services: every 4 s.
        assert!(!looked(&mut h, 2_000, 3));
        assert!(looked(&mut h, 2_000, 4));
    }

    #[test]
    fn the_series_the_rules_read_are_worked_out_again_once_a_metrics_cycle() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(5);
        let due = |h: &mut Harness, cycle: u64, secs: i64| {
            h.state.refresh.metrics = std::time::Duration::from_secs(cycle);
            h.state.triage.metrics_wanted_at = Some(h.state.now - TimeDelta::seconds(secs));
            h.state.triage.jobs.running = None;
            job(&mut h.state).wanted_due
        };
        // The default minute's cycle.
        assert!(!due(&mut h, 60, 45));
        assert!(due(&mut h, 60, 60));
        // A short cycle: still at most every 30 s.
        assert!(!due(&mut h, 10, 20));
        assert!(due(&mut h, 10, 30));
        h.state.triage.metrics_wanted_at = None;
        assert!(job(&mut h.state).wanted_due, "never worked out yet");
    }

    #[test]
    fn in_a_test_an_evaluation_costs_nothing_however_long_it_took_on_this_machine() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(5);
        let before = h.state.triage.evaluations;
        let job = h.engine_job();
        let id = job.id;
        let mut evaluated = job.run();
        // A second on a busy machine would space the next evaluation twenty.
        evaluated.cost = std::time::Duration::from_secs(1);
        h.dispatch(crate::action::Action::Evaluated {
            id,
            result: Ok(Box::new(evaluated)),
        });
        assert_eq!(h.state.triage.evaluations, before + 1, "applied");
        assert_eq!(h.state.triage.last_cost, std::time::Duration::ZERO);
    }

    #[test]
    fn costly_evaluations_and_big_fleets_space_the_next_one_within_the_idle_bound() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(5);
        let due_after = |h: &mut Harness, cost_ms: u64, tasks: usize, secs: i64| {
            let now = h.state.now;
            h.state.triage.jobs.running = None;
            h.state.triage.dirty = true;
            h.state.triage.last_evaluated = Some(now - TimeDelta::seconds(secs));
            h.state.triage.last_cost = std::time::Duration::from_millis(cost_ms);
            let mut cache = crate::state::EngineCache::default();
            cache.tasks = tasks;
            h.state.triage.engine_cache = Some(Box::new(cache));
            should_evaluate(&h.state)
        };
        // A small fleet: every 3 s while data arrives.
        assert!(!due_after(&mut h, 5, 40, 2));
        assert!(due_after(&mut h, 5, 40, 3));
        // A costly evaluation: twenty times its cost.
        assert!(!due_after(&mut h, 250, 40, 4));
        assert!(due_after(&mut h, 250, 40, 5));
        // 50,000 tasks: every 10 s, whatever one evaluation cost on this machine.
        assert!(!due_after(&mut h, 5, 50_000, 9));
        assert!(due_after(&mut h, 5, 50_000, 10));
        // 100,000: every 15 s.
        assert!(!due_after(&mut h, 5, 100_000, 14));
        assert!(due_after(&mut h, 5, 100_000, 15));
        // Never less often than every 15 s.
        assert!(!due_after(&mut h, 2_000, 500_000, 14));
        assert!(due_after(&mut h, 2_000, 500_000, 15));
    }

    #[test]
    fn observations_are_reused_for_four_evaluations_on_a_fleet_spaced_by_its_size() {
        let mut h = Harness::new("default", 160, 45);
        h.advance(5);
        let max_age = |h: &mut Harness, tasks: usize| {
            h.state.triage.jobs.running = None;
            let mut cache = crate::state::EngineCache::default();
            cache.tasks = tasks;
            h.state.triage.engine_cache = Some(Box::new(cache));
            let job = job(&mut h.state);
            assert_eq!(
                h.state.triage.last_max_age,
                Some(job.max_age),
                ":stats says it"
            );
            job.max_age.num_seconds()
        };
        // Below 40,000 tasks, the 30 s bound, whatever one evaluation cost.
        h.state.triage.last_cost = std::time::Duration::from_secs(2);
        assert_eq!(max_age(&mut h, 40), 30);
        assert_eq!(max_age(&mut h, 39_999), 30);
        // Then four evaluations' spacing: 10 s apart at 50,000 tasks, 15 s from 75,000.
        assert_eq!(max_age(&mut h, 50_000), 40);
        assert_eq!(max_age(&mut h, 75_000), 60);
        assert_eq!(max_age(&mut h, 500_000), 60);
    }
}
