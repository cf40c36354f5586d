//! The triage engine's work, off the UI loop: an [`EngineJob`] is a frozen copy of what the rules
//! read, taken on the UI loop and cheap to take (the fleet's answers, the metric series, the stop
//! history and the log samples are shared, not copied: the state writes them copy-on-write). It
//! runs on a blocking thread and answers with an [`Evaluated`], which `update` applies to the
//! findings. A key is never queued behind an evaluation.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::model::{
    Alarm, History, LogSample, Observation, Query, ScalingBounds, SeriesKey, TargetGroupHealth,
    Task, TaskDefinition, Time,
};
use crate::triage::{self, Input};

use super::Fleet;

/// (services, instances, the tasks' own series: how many, and a hash of them, NAT gateways)
/// the rules saw: when it changes, the series they want are worked out again. The tasks' own
/// series are worked out first (`EngineJob::task_series`, re-used while their answers and the
/// watched tasks stay): on `--demo huge` 79,000 tasks of enhanced clusters come and go every
/// few seconds, and working out all 20,000 series again for each change was a sixth of the
/// idle console's CPU; only a change among the tasks someone watches changes what is asked for.
pub type Basis = (usize, usize, usize, usize, u64);

/// Everything one evaluation reads, frozen.
#[derive(Clone)]
pub struct EngineJob {
    /// Which evaluation this is (answers to a job started before a reset are dropped).
    pub id: u64,
    pub now: Time,
    /// Answers fetched before this no longer describe the fleet (see `update::triage`).
    pub fresh_since: Time,
    /// NAT gateways looked up since this still describe the egress (they are polled rarely).
    pub egress_since: Time,
    pub fleet: Fleet,
    pub stops: Arc<HashMap<String, Task>>,
    /// The memory history kept with each stop (see `Triage::stop_memory`).
    pub stop_memory: Arc<HashMap<String, History>>,
    pub series: Arc<crate::model::hash::FastMap<SeriesKey, History>>,
    pub alarms: Vec<Alarm>,
    pub target_health: HashMap<String, Vec<TargetGroupHealth>>,
    pub task_definitions: HashMap<String, Arc<TaskDefinition>>,
    pub scaling: HashMap<(String, String), ScalingBounds>,
    pub logs: Arc<Vec<LogSample>>,
    /// What the fleet held when the wanted series were last worked out…
    pub wanted_basis: Basis,
    /// …and whether they are due again anyway.
    pub wanted_due: bool,
    /// The series worked out last time (what a new list is told apart from).
    pub wanted_before: Arc<super::WantedMetrics>,
    /// The tasks someone watches (on screen, or of a finding): the only ones whose own
    /// memory series the rules ask for.
    pub watched: Arc<triage::rules::Watched>,
    /// The clusters evaluated before (see `state::incremental`); empty: every cluster is.
    pub cache: Box<super::EngineCache>,
    /// How long observations whose data did not change are re-used (`incremental::max_age`).
    pub max_age: chrono::TimeDelta,
}

/// What one evaluation found.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub id: u64,
    /// The console's clock when the job was taken (holds and resolutions are measured on it).
    pub at: Time,
    pub observations: Vec<Observation>,
    /// The series the rules read, when they were worked out again: with what changed and the
    /// fleet they were worked out for.
    pub wanted: Option<super::WantedChange>,
    /// Wall time the evaluation took, on its own thread.
    pub cost: Duration,
    /// The clusters' observations for the next job.
    pub cache: Box<super::EngineCache>,
}

impl EngineJob {
    /// Evaluates every rule (and works out the series they read, when due).
    pub fn run(mut self) -> Evaluated {
        let started = std::time::Instant::now();
        let mut cache = std::mem::take(&mut self.cache);
        // Without the tasks: a cluster's are read only when its rules run again (100,000 tasks
        // sorted and cut by cluster at every evaluation cost more than the rules of the
        // clusters that changed).
        let light = self.input_without_tasks();
        let observations = super::incremental::evaluate(&self, &light, &mut cache, self.max_age);
        let with_series = self.clusters_with_task_series(&light);
        let task_series = self.task_series(&light, &with_series, &mut cache);
        let basis = (
            light.services.len(),
            light.instances.len(),
            task_series.len(),
            light.nat_gateways.len(),
            crate::model::hash::of_hash(&task_series),
        );
        // Which series the rules read changes with the fleet: worked out again (from the same
        // view the rules read) when what it holds grew or shrank, else when due.
        let wanted = (self.wanted_basis != basis || self.wanted_due).then(|| {
            let wanted = triage::rules::wanted_metrics_with(
                &light.clusters,
                &light.services,
                &light.instances,
                &light.nat_gateways,
                task_series,
            );
            // Sorted, and told apart from the last list, here: off the UI loop.
            super::WantedMetrics::after(&self.wanted_before, wanted, basis)
        });
        drop(light);
        Evaluated {
            id: self.id,
            at: self.now,
            observations,
            wanted,
            cost: started.elapsed(),
            cache,
        }
    }

    /// The tasks' own series ([`triage::rules::task_memory_series`]): worked out again only
    /// when an answer about the tasks of these clusters, its freshness or the watched tasks
    /// changed since the last time (a steady fleet costs no pass over its 79,000 tasks).
    fn task_series(
        &self,
        light: &Input,
        with_series: &BTreeSet<&str>,
        cache: &mut super::EngineCache,
    ) -> Vec<crate::model::MetricId> {
        let answers = self
            .fleet
            .slots()
            // The tasks answers of those clusters (a services answer changes nothing here).
            .filter(|(query, _)| {
                matches!(query, Query::Tasks { .. } | Query::Task { .. })
                    && query.cluster().is_some_and(|c| {
                        with_series.contains(crate::model::metric_catalog::cluster_of(c))
                    })
            })
            .map(|(query, slot)| {
                let fresh = slot.fetched_at.is_some_and(|at| at >= self.fresh_since);
                crate::model::hash::of_hash(&(query, slot.version, fresh))
            })
            .fold(0u64, u64::wrapping_add);
        if let Some((held, watched, series)) = &cache.task_series
            && *held == answers
            && **watched == *self.watched
        {
            return series.clone();
        }
        // Only the watched tasks: the rules want no series of the others.
        let arns: Vec<&str> = self.watched.tasks.iter().map(String::as_str).collect();
        let tasks = self.fleet.picked_tasks_since(
            self.fresh_since,
            |c| with_series.contains(c),
            &arns,
            self.watched.service_picker(),
        );
        let series = triage::rules::task_memory_series(&light.clusters, &tasks, &self.watched);
        cache.task_series = Some((answers, Arc::clone(&self.watched), series.clone()));
        series
    }

    /// The clusters whose tasks have series of their own (Container Insights `enhanced`), by
    /// name.
    fn clusters_with_task_series<'a>(&self, light: &Input<'a>) -> BTreeSet<&'a str> {
        light
            .clusters
            .iter()
            .filter(|c| c.container_insights == crate::model::Insights::Enhanced)
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The rules' view of this job (what [`EngineJob::run`] evaluates; benchmarks time the
    /// rules one by one over it).
    pub fn with_input<R>(&self, f: impl FnOnce(&Input) -> R) -> R {
        let (running, _) = self.fleet.tasks_since(self.fresh_since);
        f(&self.input(running))
    }

    /// The rules' view without its tasks (see [`EngineJob::run`]): each cluster's are
    /// [`Fleet::cluster_tasks_since`].
    pub fn input_without_tasks(&self) -> Input<'_> {
        self.input(Vec::new())
    }

    fn input<'a>(&'a self, tasks: Vec<&'a Task>) -> Input<'a> {
        // The engine's own stop history covers what ECS already forgot. In a fixed order (the
        // history is a map): rules list tasks stopped in the same instant, and the same fleet
        // must give the same findings.
        let mut stopped: Vec<&Task> = self.stops.values().collect();
        stopped.sort_unstable_by(|a, b| a.arn.cmp(&b.arn));
        Input {
            now: self.now,
            clusters: self.fleet.clusters().iter().collect(),
            services: self.fleet.services_since(self.fresh_since),
            tasks,
            stopped,
            stop_memory: &self.stop_memory,
            instances: self.fleet.instances_since(self.fresh_since).into(),
            series: &self.series,
            alarms: &self.alarms,
            target_health: &self.target_health,
            task_definitions: &self.task_definitions,
            scaling: &self.scaling,
            logs: self.logs.iter().collect(),
            log_index: Default::default(),
            task_index: Default::default(),
            nat_gateways: self.fleet.nat_gateways_since(self.egress_since),
            lookup: Default::default(),
            series_index: Default::default(),
        }
    }
}

// An effect is data that tests compare and log: a job is named by its id.
impl std::fmt::Debug for EngineJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineJob")
            .field("id", &self.id)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl PartialEq for EngineJob {
    fn eq(&self, other: &Self) -> bool {
        (self.id, self.now) == (other.id, other.now)
    }
}

/// A job as its effect carries it: handed to the engine's thread once ([`JobHandOff::take`]),
/// after which the effect keeps only the job's name. The runtime keeps nothing of a job once
/// it ran, and neither does a recorded copy of the effect (a test's, a benchmark's): a copy
/// still holding the frozen series would make the UI loop's next write to them copy them all.
#[derive(Clone)]
pub struct JobHandOff {
    pub id: u64,
    now: Time,
    job: Arc<std::sync::Mutex<Option<Box<EngineJob>>>>,
}

impl JobHandOff {
    pub fn new(job: EngineJob) -> Self {
        JobHandOff {
            id: job.id,
            now: job.now,
            job: Arc::new(std::sync::Mutex::new(Some(Box::new(job)))),
        }
    }

    /// The job, the first time only.
    pub fn take(&self) -> Option<EngineJob> {
        let mut job = self.job.lock().unwrap_or_else(|e| e.into_inner());
        job.take().map(|job| *job)
    }
}

// Compared and logged by name, as the job is.
impl std::fmt::Debug for JobHandOff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineJob")
            .field("id", &self.id)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl PartialEq for JobHandOff {
    fn eq(&self, other: &Self) -> bool {
        (self.id, self.now) == (other.id, other.now)
    }
}

/// The engine's jobs: which one is running, and from which on answers are accepted.
#[derive(Debug, Default, Clone, Copy)]
pub struct EngineJobs {
    next: u64,
    /// The job under way (one at a time: the next waits for its answer).
    pub running: Option<u64>,
    /// Answers to jobs before this one belong to data that was reset: dropped.
    accept_from: u64,
}

impl EngineJobs {
    /// A new job's id; it is now the one running.
    pub fn start(&mut self) -> u64 {
        let id = self.next;
        self.next += 1;
        self.running = Some(id);
        id
    }

    /// An answer came back (or its job crashed): whether it is still wanted.
    pub fn finish(&mut self, id: u64) -> bool {
        if self.running == Some(id) {
            self.running = None;
        }
        id >= self.accept_from
    }

    /// Everything the engine knew was dropped: answers to jobs already under way are stale.
    pub fn reset(&mut self) {
        self.running = None;
        self.accept_from = self.next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handed_off_job_is_taken_once_and_its_copies_keep_nothing() {
        let series = Arc::new(Default::default());
        let job = EngineJob {
            id: 7,
            now: Time::default(),
            fresh_since: Time::default(),
            egress_since: Time::default(),
            fleet: Fleet::default(),
            stops: Arc::default(),
            stop_memory: Arc::default(),
            series: Arc::clone(&series),
            alarms: Vec::new(),
            target_health: HashMap::new(),
            task_definitions: HashMap::new(),
            scaling: HashMap::new(),
            logs: Arc::default(),
            wanted_basis: Default::default(),
            wanted_due: false,
            wanted_before: Arc::default(),
            watched: Arc::default(),
            cache: Box::default(),
            max_age: crate::state::MAX_AGE,
        };
        let handed = JobHandOff::new(job);
        let recorded = handed.clone();
        assert_eq!(recorded, handed);
        let taken = handed.take().expect("the first take has it");
        assert_eq!(taken.id, 7);
        assert!(recorded.take().is_none(), "taken once");
        drop(taken);
        assert_eq!(Arc::strong_count(&series), 1, "no copy holds the series");
    }

    /// A job over one enhanced cluster's running tasks (`ids`), the task `watched` watched.
    fn job_over(ids: &[&str], watched: &str, basis: Basis) -> EngineJob {
        use crate::model::{Cluster, Insights, Query, Snapshot, TaskScope};
        let now = crate::testkit::fixed_now();
        let arn = |id: &str| format!("arn:aws:ecs:eu-west-1:1:task/prod/{id}");
        let mut fleet = Fleet::default();
        let cluster = Cluster {
            name: "prod".into(),
            arn: "arn:aws:ecs:eu-west-1:1:cluster/prod".into(),
            status: "ACTIVE".into(),
            container_insights: Insights::Enhanced,
            ..Cluster::default()
        };
        fleet.apply(
            Query::Clusters,
            1,
            now,
            Ok(Snapshot::Clusters(vec![cluster])),
        );
        let tasks = ids
            .iter()
            .map(|id| Task {
                arn: arn(id).into(),
                cluster_arn: "arn:aws:ecs:eu-west-1:1:cluster/prod".into(),
                last_status: "RUNNING".into(),
                group: "service:web".into(),
                ..Task::default()
            })
            .collect();
        let query = Query::Tasks {
            scope: TaskScope::Cluster {
                cluster: "prod".into(),
            },
            stopped: false,
        };
        fleet.apply(query, 2, now, Ok(Snapshot::Tasks(tasks)));
        let watched = triage::rules::Watched {
            tasks: [arn(watched)].into(),
            services: Default::default(),
        };
        EngineJob {
            id: 1,
            now,
            fresh_since: now - chrono::TimeDelta::minutes(5),
            egress_since: now,
            fleet,
            stops: Arc::default(),
            stop_memory: Arc::default(),
            series: Arc::default(),
            alarms: Vec::new(),
            target_health: HashMap::new(),
            task_definitions: HashMap::new(),
            scaling: HashMap::new(),
            logs: Arc::default(),
            wanted_basis: basis,
            wanted_due: false,
            wanted_before: Arc::default(),
            watched: Arc::new(watched),
            cache: Box::default(),
            max_age: crate::state::MAX_AGE,
        }
    }

    #[test]
    fn the_series_are_worked_out_again_when_a_watched_task_changes_not_when_others_come_and_go() {
        let first = job_over(&["a", "b", "c"], "b", Basis::default()).run();
        let change = first.wanted.expect("the first evaluation works them out");
        let memory = |change: &crate::state::WantedChange| {
            change
                .all
                .iter()
                .filter(|m| m.dimension(crate::model::metric_catalog::TASK_ID).is_some())
                .count()
        };
        assert_eq!(memory(&change), 1, "the watched task's own series");
        // Tasks no one watches come and go: the same series.
        let again = job_over(&["b", "d", "e", "f"], "b", change.basis).run();
        assert!(again.wanted.is_none());
        // The watched task is gone: its series is no longer wanted.
        let gone = job_over(&["a", "c", "d"], "b", change.basis).run();
        let change = gone.wanted.expect("worked out again");
        assert_eq!(memory(&change), 0);
    }

    #[test]
    fn the_tasks_own_series_are_reused_while_their_answers_and_the_watched_tasks_stay() {
        let job = job_over(&["a", "b", "c"], "b", Basis::default());
        let fleet = job.fleet.clone();
        let first = job.run();
        let basis = first
            .wanted
            .as_ref()
            .expect("the first works them out")
            .basis;
        assert!(first.cache.task_series.is_some());
        let mut same = job_over(&["a", "b", "c"], "b", basis);
        same.fleet = fleet.clone();
        same.cache = first.cache;
        let same = same.run();
        assert!(
            same.wanted.is_none(),
            "the same answers, the same task watched"
        );
        let mut other = job_over(&["a", "b", "c"], "c", basis);
        other.fleet = fleet;
        other.cache = same.cache;
        let change = other
            .run()
            .wanted
            .expect("another task watched: worked out again");
        let task = |m: &crate::model::MetricId| {
            m.dimension(crate::model::metric_catalog::TASK_ID)
                .map(str::to_string)
        };
        assert_eq!(
            change.added.iter().filter_map(task).collect::<Vec<_>>(),
            ["c"]
        );
    }

    #[test]
    fn an_answer_to_a_job_started_before_a_reset_is_dropped() {
        let mut jobs = EngineJobs::default();
        let old = jobs.start();
        jobs.reset();
        assert_eq!(jobs.running, None, "a new job may start at once");
        let new = jobs.start();
        assert!(!jobs.finish(old), "the old answer is dropped");
        assert_eq!(jobs.running, Some(new), "and does not end the new job");
        assert!(jobs.finish(new));
        assert_eq!(jobs.running, None);
    }
}
