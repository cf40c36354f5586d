//! What the triage engine holds between evaluations: the findings with their lifecycle, the
//! stop history ECS itself forgets after an hour, recent target-health polls, task definitions
//! and scaling bounds the rules read, and the incident timeline.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::TimeDelta;

use crate::model::LogSample;
use crate::model::{
    Finding, FindingId, History, Observation, ScalingBounds, SeriesKey, Severity,
    TargetGroupHealth, Task, TaskDefinition, Time, metric_catalog,
};

use super::timeline::{Timeline, TimelineKind};

/// A finding resolves once its condition has been absent this long and for two evaluations
/// in a row: one missing data point never closes it.
pub const CLEAR_AFTER: TimeDelta = TimeDelta::seconds(90);
/// A resolved finding whose condition comes back within this long reopens (no duplicate).
const REOPEN_WITHIN: TimeDelta = TimeDelta::minutes(10);
/// Resolved findings stay listed this long (the export covers the last hour).
const KEEP_RESOLVED: TimeDelta = TimeDelta::hours(2);
/// Stopped tasks are remembered this long (rules look back at most 30 min; sawtooth: 24 h).
const KEEP_STOPS: TimeDelta = TimeDelta::hours(24);
/// How much of a stopped task's memory history is kept with the stop.
pub const STOP_MEMORY: TimeDelta = TimeDelta::minutes(30);
/// Target-health polls are kept this long per target group (flapping looks back 15 min, a
/// startup is measured from task start to its first healthy poll)…
const KEEP_TARGET_HISTORY: TimeDelta = TimeDelta::minutes(16);
/// …and at most this many.
const KEEP_TARGET_POLLS: usize = 64;
/// Log samples kept for the log rules.
const KEEP_LOG_SAMPLES: usize = 5_000;

#[derive(Debug, Default)]
pub struct Triage {
    findings: HashMap<FindingId, Finding>,
    /// Every task's badge, made on the first one asked for after an evaluation: a tasks pane
    /// reads 100,000 of them, each a scan of every finding otherwise.
    task_badges: std::sync::OnceLock<HashMap<String, (Severity, usize)>>,
    /// Names the rows' badges (which findings are active, at which severity): a table's cached
    /// cells, its TRIAGE column among them, are read again when it moves.
    badges: u64,
    /// The same, of the findings about tasks and their containers alone: all a task row's
    /// badge reads (a finding about a service elsewhere does not make 60,000 task rows' badges
    /// read again).
    task_badges_print: u64,
    /// Conditions seen but still inside their `hold`: first seen at, and the latest sighting.
    pending: HashMap<FindingId, (Time, Observation)>,
    /// Evaluations so far in which each active finding was absent.
    misses: HashMap<FindingId, u32>,
    /// Shared with the engine's frozen copy (see `state::engine`); written copy-on-write.
    pub stops: Arc<HashMap<String, Task>>,
    /// The memory history of stopped tasks (Container Insights `MemoryUtilized`, the
    /// [`STOP_MEMORY`] before the stop), by task ARN: kept with the stop because the metrics
    /// store forgets a stopped task's series once nobody polls it. Shared like `stops`.
    pub stop_memory: Arc<HashMap<String, History>>,
    pub target_health: HashMap<String, Vec<TargetGroupHealth>>,
    pub task_definitions: HashMap<String, Arc<TaskDefinition>>,
    /// When each of the engine's own requests was last sent (`th <service arn>`…).
    sent: HashMap<String, Time>,
    pub scaling: HashMap<(String, String), ScalingBounds>,
    /// Shared with the engine's frozen copy; written copy-on-write.
    pub logs: Arc<Vec<LogSample>>,
    log_ids: HashSet<String>,
    /// The metric series the rules read (set at each evaluation, polled by the metrics poller).
    pub metrics_wanted: Arc<super::WantedMetrics>,
    pub metrics_wanted_at: Option<Time>,
    /// What the fleet held when `metrics_wanted` was worked out (see `engine::Basis`).
    pub metrics_wanted_basis: super::engine::Basis,
    pub timeline: Timeline,
    /// Something the rules read changed since the last evaluation.
    pub dirty: bool,
    pub last_evaluated: Option<Time>,
    /// The fleet queries the engine wants polled (see `poll::triage::wanted`).
    pub wanted_queries: Vec<(crate::model::Query, std::time::Duration)>,
    /// When the engine last decided what to poll.
    pub last_scheduled: Option<Time>,
    /// When it last looked over every service for that (see `update::triage::schedule`).
    pub last_looked: Option<Time>,
    /// The last action's look over every service waited (see `update::schedule`).
    pub look_waited: bool,
    /// The task definitions of running tasks as last worked out, with the versions of the
    /// answers they came from (see `update::triage::running_task_definitions`).
    pub running_definitions: Option<(Vec<u64>, Vec<String>)>,
    /// Evaluations so far (a steady fleet should cost few).
    pub evaluations: u64,
    /// How long the last evaluation took (for :stats and the benchmarks).
    pub last_cost: std::time::Duration,
    /// The longest evaluation so far (for :stats).
    pub max_cost: std::time::Duration,
    /// Evaluations run off the UI loop: the one under way, and which answers are still wanted.
    pub jobs: super::engine::EngineJobs,
    /// The incremental engine's per-cluster observations, between jobs (a job carries it to
    /// the engine's thread and back; none while a job is under way or after a reset).
    pub engine_cache: Option<Box<super::incremental::EngineCache>>,
    /// Clusters the last evaluation re-used and evaluated (for :stats).
    pub last_reuse: super::incremental::Reuse,
    /// How long the last job re-used observations whose data did not change (for :stats).
    pub last_max_age: Option<TimeDelta>,
}

impl Triage {
    /// Whether the request named `key` is due (not sent within `every`); if so, notes it sent.
    pub fn due(&mut self, key: &str, now: Time, every: TimeDelta) -> bool {
        match self.sent.get(key) {
            Some(at) if now - *at < every && *at <= now => false,
            _ => {
                self.sent.insert(key.to_string(), now);
                true
            }
        }
    }

    /// Active findings, most severe first, then most recently opened.
    /// When the newest active finding opened, of those about `cluster` when one is named: no
    /// list built or sorted (the header asks on every frame).
    pub fn last_opened(&self, cluster: Option<&str>) -> Option<Time> {
        self.findings
            .values()
            .filter(|f| f.is_active())
            .filter(|f| cluster.is_none_or(|c| f.current.subject.cluster() == c))
            .map(|f| f.opened_at)
            .max()
    }

    /// Conditions seen on the last evaluation that have not held long enough to open a
    /// finding yet: (first seen, latest sighting), the most severe first.
    pub fn holding(&self) -> Vec<(Time, &Observation)> {
        let mut list: Vec<(Time, &Observation)> =
            self.pending.values().map(|(at, obs)| (*at, obs)).collect();
        list.sort_by(|a, b| {
            b.1.severity
                .cmp(&a.1.severity)
                .then_with(|| a.1.rule.cmp(b.1.rule))
                .then_with(|| a.1.subject.label().cmp(&b.1.subject.label()))
        });
        list
    }

    pub fn active(&self) -> Vec<&Finding> {
        let mut out: Vec<&Finding> = self.findings.values().filter(|f| f.is_active()).collect();
        sort(&mut out);
        out
    }

    /// Active findings first (as [`Triage::active`]), then resolved ones, newest first.
    pub fn listed(&self) -> Vec<&Finding> {
        let mut active = self.active();
        let mut resolved: Vec<&Finding> =
            self.findings.values().filter(|f| !f.is_active()).collect();
        resolved.sort_by(|a, b| {
            b.resolved_at
                .cmp(&a.resolved_at)
                .then(a.current.id().cmp(&b.current.id()))
        });
        active.extend(resolved);
        active
    }

    pub fn all(&self) -> impl Iterator<Item = &Finding> {
        self.findings.values()
    }

    /// The worst severity and the number of active findings whose subject `matches`.
    pub fn badge(
        &self,
        matches: impl Fn(&crate::model::Subject) -> bool,
    ) -> Option<(Severity, usize)> {
        let mut out: Option<(Severity, usize)> = None;
        for f in self.findings.values().filter(|f| f.is_active()) {
            if matches(&f.current.subject) {
                let (worst, n) = out.get_or_insert((f.severity(), 0));
                *worst = (*worst).max(f.severity());
                *n += 1;
            }
        }
        out
    }

    /// As [`Triage::badge`] for the task with this ARN (its own findings and its containers').
    pub fn task_badge(&self, task_arn: &str) -> Option<(Severity, usize)> {
        let index = self.task_badges.get_or_init(|| {
            let mut index: HashMap<String, (Severity, usize)> = HashMap::new();
            for f in self.findings.values().filter(|f| f.is_active()) {
                if let Some(task_arn) = f.current.subject.task_arn() {
                    let (worst, n) = index
                        .entry(task_arn.to_string())
                        .or_insert((f.severity(), 0));
                    *worst = (*worst).max(f.severity());
                    *n += 1;
                }
            }
            index
        });
        index.get(task_arn).copied()
    }

    /// Active findings per severity: (critical, warning, info).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for f in self.findings.values().filter(|f| f.is_active()) {
            match f.severity() {
                Severity::Critical => c.0 += 1,
                Severity::Warning => c.1 += 1,
                Severity::Info => c.2 += 1,
            }
        }
        c
    }

    /// Applies one evaluation's observations at `now`: opens, updates and resolves findings,
    /// and writes the openings and closings to the timeline.
    /// `blind`: the data the rules read is failing or stale (throttling, an outage): nothing
    /// resolves meanwhile — not seeing a condition is not the same as it being gone.
    pub fn apply(&mut self, now: Time, observations: Vec<Observation>, blind: bool) {
        self.task_badges = Default::default();
        let mut seen: HashSet<FindingId> = HashSet::with_capacity(observations.len());
        for obs in observations {
            let id = obs.id();
            if !seen.insert(id.clone()) {
                continue; // one observation per finding and evaluation: the first wins
            }
            // Long gone: a new episode of the same condition, which waits out its hold again.
            if self
                .findings
                .get(&id)
                .and_then(|f| f.resolved_at)
                .is_some_and(|at| now - at > REOPEN_WITHIN)
            {
                self.findings.remove(&id);
            }
            if let Some(finding) = self.findings.get_mut(&id) {
                self.misses.remove(&id);
                let reopened = finding.resolved_at.is_some();
                // A new high, not every swing back up, is worth a line.
                let escalated = obs.severity > finding.peak && !reopened;
                finding.peak = finding.peak.max(obs.severity);
                finding.current = obs;
                finding.last_seen = now;
                if reopened {
                    finding.resolved_at = None;
                    self.timeline
                        .finding(now, TimelineKind::FindingOpened, finding, "reopened");
                } else if escalated {
                    self.timeline.finding(
                        now,
                        TimelineKind::FindingEscalated,
                        finding,
                        "escalated",
                    );
                }
                continue;
            }
            if let Some(hold) = obs.hold {
                let entry = self
                    .pending
                    .entry(id.clone())
                    .or_insert_with(|| (now, obs.clone()));
                entry.1 = obs.clone();
                if now - entry.0 < hold {
                    continue;
                }
            }
            self.open(id, obs, now);
        }
        self.pending.retain(|id, _| seen.contains(id));
        let mut resolved = Vec::new();
        for (id, finding) in &mut self.findings {
            if !finding.is_active() || seen.contains(id) || blind {
                continue;
            }
            let misses = self.misses.entry(id.clone()).or_default();
            *misses += 1;
            if *misses >= 2 && now - finding.last_seen >= CLEAR_AFTER {
                finding.resolved_at = Some(now);
                resolved.push(id.clone());
            }
        }
        for id in resolved {
            self.misses.remove(&id);
            if let Some(f) = self.findings.get(&id) {
                self.timeline
                    .finding(now, TimelineKind::FindingResolved, f, "resolved");
            }
        }
        self.findings
            .retain(|_, f| f.resolved_at.is_none_or(|at| now - at <= KEEP_RESOLVED));
        // Book-keeping of requests and target groups nobody polls any more.
        self.sent.retain(|_, at| now - *at <= TimeDelta::hours(1));
        self.target_health.retain(|_, polls| {
            polls
                .last()
                .and_then(|p| p.fetched_at)
                .is_some_and(|at| now - at <= KEEP_TARGET_HISTORY)
        });
        // `dirty` is cleared when the engine takes its copy (news arriving meanwhile is news
        // for the next evaluation).
        self.last_evaluated = Some(now);
        (self.badges, self.task_badges_print) = self.active_signature();
    }

    /// The fleet view's findings of one context, as they are there (the contexts' engines
    /// judge; the fleet view only lists them): those whose subject `is_theirs` give way to
    /// `findings`, whose subjects' clusters the caller has named with their context.
    pub fn replace_where(
        &mut self,
        is_theirs: impl Fn(&crate::model::Subject) -> bool,
        findings: impl IntoIterator<Item = Finding>,
    ) {
        self.findings.retain(|id, _| !is_theirs(&id.subject));
        self.findings
            .extend(findings.into_iter().map(|f| (f.current.id(), f)));
        self.task_badges = Default::default();
        (self.badges, self.task_badges_print) = self.active_signature();
    }

    /// What the rows' badges read, as a number that moves whenever one of them would change.
    pub fn badges(&self) -> u64 {
        self.badges
    }

    /// As [`Triage::badges`], for the rows of tasks ([`Triage::task_badge`]).
    pub fn task_badges(&self) -> u64 {
        self.task_badges_print
    }

    /// Order-independent: the active findings and their severities, summed by hash; and the
    /// same of those about a task or its containers.
    fn active_signature(&self) -> (u64, u64) {
        let mut sums = (0u64, 0u64);
        for (id, f) in self.findings.iter().filter(|(_, f)| f.is_active()) {
            let hash = crate::model::hash::of_hash(&(id, f.severity()));
            sums.0 = sums.0.wrapping_add(hash);
            if id.subject.task_arn().is_some() {
                sums.1 = sums.1.wrapping_add(hash);
            }
        }
        sums
    }

    fn open(&mut self, id: FindingId, obs: Observation, now: Time) {
        self.pending.remove(&id);
        let finding = Finding {
            peak: obs.severity,
            current: obs,
            opened_at: now,
            last_seen: now,
            resolved_at: None,
        };
        self.timeline
            .finding(now, TimelineKind::FindingOpened, &finding, "opened");
        self.findings.insert(id, finding);
    }

    /// Remembers stopped tasks (and notes their stops on the timeline once).
    pub fn remember_stops<'a>(&mut self, now: Time, tasks: impl IntoIterator<Item = &'a Task>) {
        for task in tasks.into_iter().filter(|t| t.is_stopped()) {
            if !self.stops.contains_key(task.arn.as_str()) {
                self.timeline.task_stopped(task);
                Arc::make_mut(&mut self.stops).insert(task.arn.to_string(), task.clone());
                self.dirty = true;
            }
        }
        let kept = |t: &Task| {
            t.stopped_at
                .or(t.stopping_at)
                .is_none_or(|at| now - at <= KEEP_STOPS)
        };
        // Asked first: a write would copy the map while the engine reads it.
        if !self.stops.values().all(kept) {
            Arc::make_mut(&mut self.stops).retain(|_, t| kept(t));
        }
        if !self
            .stop_memory
            .keys()
            .all(|arn| self.stops.contains_key(arn))
        {
            let stops = Arc::clone(&self.stops);
            Arc::make_mut(&mut self.stop_memory).retain(|arn, _| stops.contains_key(arn));
        }
    }

    /// Copies the memory history of remembered stops from the metric series while those are
    /// still held (a late CloudWatch point before the stop is picked up on a later call); what
    /// was copied stays after the series is forgotten.
    pub fn keep_stop_memory(&mut self, series: &crate::model::hash::FastMap<SeriesKey, History>) {
        let mut copies = Vec::new();
        for task in self.stops.values() {
            let Some(stopped_at) = task.stopped_at.or(task.stopping_at) else {
                continue;
            };
            let key = SeriesKey {
                metric: metric_catalog::task_memory(task),
                period: crate::triage::input::PERIOD,
            };
            let Some(live) = series.get(&key) else {
                continue;
            };
            let from = stopped_at - STOP_MEMORY;
            let points: Vec<_> = live
                .since(from)
                .take_while(|p| p.at <= stopped_at)
                .collect();
            let held = self.stop_memory.get(task.arn.as_str());
            if points.is_empty() || held.is_some_and(|h| h.points().eq(points.iter().copied())) {
                continue;
            }
            let mut kept = History::default();
            kept.merge(from, stopped_at, points);
            copies.push((task.arn.to_string(), kept));
        }
        if !copies.is_empty() {
            Arc::make_mut(&mut self.stop_memory).extend(copies);
            self.dirty = true;
        }
    }

    pub fn remember_target_health(&mut self, answers: &[TargetGroupHealth], at: Time) {
        for tg in answers {
            let polls = self.target_health.entry(tg.arn.clone()).or_default();
            let mut tg = tg.clone();
            tg.fetched_at = tg.fetched_at.or(Some(at));
            polls.push(tg);
            polls.retain(|p| p.fetched_at.is_none_or(|t| at - t <= KEEP_TARGET_HISTORY));
            if polls.len() > KEEP_TARGET_POLLS {
                polls.remove(0);
            }
        }
        self.dirty = true;
    }

    /// Remembers log lines (by event id, so overlapping reads add nothing twice).
    pub fn remember_logs(&mut self, samples: impl IntoIterator<Item = (String, LogSample)>) {
        let logs = Arc::make_mut(&mut self.logs);
        for (id, sample) in samples {
            if self.log_ids.insert(id) {
                logs.push(sample);
            }
        }
        if self.log_ids.len() > 4 * KEEP_LOG_SAMPLES {
            self.log_ids.clear();
        }
        if logs.len() > KEEP_LOG_SAMPLES {
            let drop = logs.len() - KEEP_LOG_SAMPLES;
            logs.drain(..drop);
        }
        self.dirty = true;
    }

    /// Everything came from another account or region: its findings, history and timeline
    /// would be mistaken for this one's (same-named clusters are common), so all of it goes.
    pub fn reset(&mut self) {
        let mut jobs = self.jobs;
        jobs.reset();
        *self = Triage::default();
        self.jobs = jobs;
    }
}

fn sort(findings: &mut [&Finding]) {
    findings.sort_by(|a, b| {
        b.severity()
            .cmp(&a.severity())
            .then(b.opened_at.cmp(&a.opened_at))
            .then(a.current.id().cmp(&b.current.id()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Subject;
    use chrono::{TimeZone, Utc};

    fn t(secs: i64) -> Time {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap() + TimeDelta::seconds(secs)
    }

    impl Triage {
        fn apply_at(&mut self, now: Time, observations: Vec<Observation>) {
            self.apply(now, observations, false);
        }
    }

    fn obs(rule: &'static str, severity: Severity) -> Observation {
        Observation::new(
            rule,
            severity,
            Subject::Service {
                cluster: "prod".into(),
                service: "web".into(),
            },
            "web is unwell",
        )
    }

    #[test]
    fn a_stopped_tasks_memory_is_kept_with_the_stop_after_its_series_goes() {
        let stop = t(0);
        let task = Task {
            arn: "arn:aws:ecs:us-east-1:1:task/prod/0123456789abcdef".into(),
            cluster_arn: "arn:aws:ecs:us-east-1:1:cluster/prod".into(),
            last_status: "STOPPED".into(),
            stopped_at: Some(stop),
            ..Task::default()
        };
        let key = SeriesKey {
            metric: metric_catalog::task_memory(&task),
            period: crate::triage::input::PERIOD,
        };
        let point = |min: i64, value: f64| crate::model::Point {
            at: stop + TimeDelta::minutes(min),
            value,
        };
        let mut series = crate::model::hash::FastMap::default();
        let mut live = History::default();
        // The hour before the stop, and a period after it (not the task's any more).
        live.merge(
            stop - TimeDelta::hours(1),
            stop + TimeDelta::minutes(2),
            (-60..=1).map(|m| point(m, 400.0 + m as f64)).collect(),
        );
        series.insert(key.clone(), live);
        let mut tr = Triage::default();
        tr.remember_stops(stop, [&task]);
        tr.keep_stop_memory(&series);
        let kept = &tr.stop_memory[task.arn.as_str()];
        assert_eq!(kept.len(), 31, "the 30 minutes up to the stop");
        assert_eq!(kept.latest(), Some(point(0, 400.0)));
        // Nothing new: no copy, nothing dirty.
        tr.dirty = false;
        tr.keep_stop_memory(&series);
        assert!(!tr.dirty);
        // The metrics store forgot the series: the copy stays.
        tr.keep_stop_memory(&Default::default());
        assert_eq!(tr.stop_memory[task.arn.as_str()].len(), 31);
        // The stop is forgotten: so is its memory.
        tr.remember_stops(stop + KEEP_STOPS + TimeDelta::minutes(1), []);
        assert!(tr.stop_memory.is_empty());
    }

    #[test]
    fn a_tasks_badge_counts_its_own_and_its_containers_findings_as_they_change() {
        let task = |arn: &str| Subject::Task {
            cluster: "prod".into(),
            service: Some("web".into()),
            task_arn: arn.into(),
        };
        let container = Subject::Container {
            cluster: "prod".into(),
            service: Some("web".into()),
            task_arn: "t1".into(),
            container: "app".into(),
        };
        let mut tr = Triage::default();
        tr.apply_at(
            t(0),
            vec![
                Observation::new("a", Severity::Warning, task("t1"), "a"),
                Observation::new("b", Severity::Critical, container.clone(), "b"),
                Observation::new("c", Severity::Info, task("t2"), "c"),
                obs("r", Severity::Critical),
            ],
        );
        assert_eq!(tr.task_badge("t1"), Some((Severity::Critical, 2)));
        assert_eq!(tr.task_badge("t2"), Some((Severity::Info, 1)));
        assert_eq!(
            tr.task_badge("t3"),
            None,
            "the service's finding is not a task's"
        );
        // Made again after the next evaluation: resolved findings leave the badge.
        for at in [30, 60, 100] {
            tr.apply_at(
                t(at),
                vec![Observation::new("a", Severity::Warning, task("t1"), "a")],
            );
        }
        assert_eq!(tr.task_badge("t1"), Some((Severity::Warning, 1)));
        assert_eq!(tr.task_badge("t2"), None);
    }

    #[test]
    fn the_task_rows_badges_move_with_the_findings_about_tasks_alone() {
        let task = Subject::Task {
            cluster: "prod".into(),
            service: Some("web".into()),
            task_arn: "t1".into(),
        };
        let about_task = |severity| Observation::new("a", severity, task.clone(), "a");
        let mut tr = Triage::default();
        tr.apply_at(t(0), vec![about_task(Severity::Warning)]);
        let (all, tasks) = (tr.badges(), tr.task_badges());
        assert_ne!(tasks, Triage::default().task_badges(), "a task's finding");
        tr.apply_at(
            t(1),
            vec![about_task(Severity::Warning), obs("r", Severity::Critical)],
        );
        assert_ne!(tr.badges(), all, "a service's finding moves the badges");
        assert_eq!(tr.task_badges(), tasks, "but no task row's");
        tr.apply_at(
            t(2),
            vec![about_task(Severity::Critical), obs("r", Severity::Critical)],
        );
        assert_ne!(tr.task_badges(), tasks, "the task's finding grew worse");
    }

    #[test]
    fn the_last_opening_is_the_newest_active_findings_in_the_cluster_asked_about() {
        let mut tr = Triage::default();
        assert_eq!(tr.last_opened(None), None);
        tr.apply_at(t(0), vec![obs("r", Severity::Warning)]);
        let elsewhere = Observation::new(
            "r",
            Severity::Warning,
            Subject::Cluster {
                cluster: "staging".into(),
            },
            "staging is unwell",
        );
        tr.apply_at(t(30), vec![obs("r", Severity::Warning), elsewhere]);
        assert_eq!(tr.last_opened(None), Some(t(30)));
        assert_eq!(tr.last_opened(Some("prod")), Some(t(0)));
        assert_eq!(tr.last_opened(Some("staging")), Some(t(30)));
        assert_eq!(tr.last_opened(Some("test")), None);
    }

    #[test]
    fn opens_at_once_and_resolves_only_after_two_misses_and_the_clear_time() {
        let mut tr = Triage::default();
        tr.apply_at(t(0), vec![obs("r", Severity::Warning)]);
        assert_eq!(tr.counts(), (0, 1, 0));
        // One missing evaluation (a late data point) keeps it.
        tr.apply_at(t(30), vec![]);
        assert_eq!(tr.active().len(), 1);
        // Two misses but not yet the clear time.
        tr.apply_at(t(60), vec![]);
        assert_eq!(tr.active().len(), 1);
        tr.apply_at(t(100), vec![]);
        assert!(tr.active().is_empty());
        let f = tr.listed()[0];
        assert_eq!(f.resolved_at, Some(t(100)));
        assert_eq!(f.opened_at, t(0));
    }

    #[test]
    fn a_seen_again_condition_resets_the_misses() {
        let mut tr = Triage::default();
        tr.apply_at(t(0), vec![obs("r", Severity::Warning)]);
        tr.apply_at(t(30), vec![]);
        tr.apply_at(t(60), vec![obs("r", Severity::Warning)]);
        tr.apply_at(t(90), vec![]);
        tr.apply_at(t(140), vec![]);
        assert_eq!(
            tr.active().len(),
            1,
            "two misses, but only 80 s since last seen"
        );
        tr.apply_at(t(170), vec![]);
        assert!(tr.active().is_empty());
    }

    #[test]
    fn hold_delays_the_opening_and_a_break_restarts_it() {
        let mut tr = Triage::default();
        let held = || obs("h", Severity::Warning).hold(TimeDelta::minutes(5));
        tr.apply_at(t(0), vec![held()]);
        tr.apply_at(t(200), vec![held()]);
        assert!(tr.active().is_empty());
        let holding = tr.holding();
        assert_eq!(holding.len(), 1, "listed as holding meanwhile");
        assert_eq!((holding[0].0, holding[0].1.rule), (t(0), "h"));
        tr.apply_at(t(310), vec![held()]);
        assert_eq!(tr.active().len(), 1);
        assert_eq!(tr.active()[0].opened_at, t(310));
        assert!(tr.holding().is_empty(), "open, no longer holding");

        let mut tr = Triage::default();
        tr.apply_at(t(0), vec![held()]);
        tr.apply_at(t(100), vec![]);
        assert!(
            tr.holding().is_empty(),
            "gone from the evaluation, not holding"
        );
        tr.apply_at(t(200), vec![held()]);
        tr.apply_at(t(310), vec![held()]);
        assert!(tr.active().is_empty(), "the break restarted the hold");
    }

    #[test]
    fn reopens_within_ten_minutes_and_records_the_story() {
        let mut tr = Triage::default();
        tr.apply_at(t(0), vec![obs("r", Severity::Warning)]);
        tr.apply_at(t(60), vec![]);
        tr.apply_at(t(120), vec![]);
        assert!(tr.active().is_empty());
        tr.apply_at(t(300), vec![obs("r", Severity::Critical)]);
        let active = tr.active();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].opened_at, t(0), "same finding reopened");
        assert_eq!(active[0].peak, Severity::Critical);
        let kinds: Vec<_> = tr.timeline.entries().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                TimelineKind::FindingOpened,
                TimelineKind::FindingResolved,
                TimelineKind::FindingOpened
            ]
        );
    }

    #[test]
    fn sorted_by_severity_then_recency() {
        let mut tr = Triage::default();
        tr.apply_at(t(0), vec![obs("a", Severity::Warning)]);
        tr.apply_at(
            t(10),
            vec![
                obs("a", Severity::Warning),
                obs("b", Severity::Warning),
                obs("c", Severity::Critical),
                obs("d", Severity::Info),
            ],
        );
        let rules: Vec<_> = tr.active().iter().map(|f| f.current.rule).collect();
        assert_eq!(rules, vec!["c", "b", "a", "d"]);
        assert_eq!(tr.counts(), (1, 2, 1));
    }

    #[test]
    fn nothing_resolves_while_the_data_is_failing() {
        let mut tr = Triage::default();
        tr.apply_at(t(0), vec![obs("r", Severity::Warning)]);
        tr.apply(t(60), vec![], true);
        tr.apply(t(200), vec![], true);
        assert_eq!(tr.active().len(), 1, "blind: not resolved");
        tr.apply_at(t(260), vec![]);
        tr.apply_at(t(300), vec![]);
        assert!(tr.active().is_empty(), "seeing again: resolved");
    }

    #[test]
    fn a_condition_back_long_after_it_resolved_waits_out_its_hold() {
        let mut tr = Triage::default();
        let held = || obs("h", Severity::Warning).hold(TimeDelta::minutes(5));
        tr.apply_at(t(0), vec![held()]);
        tr.apply_at(t(301), vec![held()]);
        tr.apply_at(t(400), vec![]);
        tr.apply_at(t(500), vec![]);
        assert!(tr.active().is_empty());
        // 20 minutes later one blip: not a finding yet.
        tr.apply_at(t(1700), vec![held()]);
        assert!(tr.active().is_empty(), "hold applies to a new episode");
    }
}
