//! Which listed rows to describe next (rows before details: `state::Progress`), for every kind
//! of listed pane (a big cluster's services, tasks and container instances). The rows on
//! screen and a page below go first, then the rows the triage engine watches, then the rest,
//! so the first screen never waits for the last batch. Only a few batches of a pane are under
//! way at once: the next batch is chosen when one answers, from what the screen shows then
//! (scrolling while a big cluster loads brings the new rows forward), and the source's
//! per-service budget paces them within ECS's limits.
//!
//! On later refreshes of a large pane, rows on screen and watched rows are described again at
//! the pane's cadence, the rest on a slower sweep ([`sweep`]); a small pane is described
//! whole at its cadence, as before.

use std::collections::HashSet;
use std::time::Duration;

use crate::model::{Instance, Listed, Query, Service, Task, Time};
use crate::state::{Progress, State};

/// Services a `DescribeServices` call takes (AWS's limit).
pub const SERVICES_BATCH: usize = 10;
/// Tasks a `DescribeTasks` call takes, and container instances a
/// `DescribeContainerInstances` call takes (AWS's limits).
pub const TASKS_BATCH: usize = 100;
pub const INSTANCES_BATCH: usize = 100;
/// Describe batches of one pane under way at once.
pub const IN_FLIGHT: usize = 4;
/// A pane of at most this many rows is described whole at its cadence (the rows are about a
/// screen: there is nothing to gain from a rotation). A source answers a task or instance
/// pane this small whole, in the calls it always took (one list page, one describe).
pub const SMALL_PANE: usize = 100;

/// The rows one describe of `query`'s kind takes.
pub fn batch_size(query: &Query) -> usize {
    match query {
        Query::Tasks { .. } => TASKS_BATCH,
        Query::Instances { .. } => INSTANCES_BATCH,
        _ => SERVICES_BATCH,
    }
}
/// Rows off screen and not watched are described again at most this often…
pub const SWEEP_EVERY: Duration = Duration::from_secs(120);
/// …and never more often than this many times the pane's cadence.
pub const SWEEP_FACTOR: u32 = 4;

/// One describe to send: rows of `query`'s listing `seq`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub query: Query,
    pub seq: u64,
    pub arns: Vec<String>,
}

/// How often rows off screen and not watched are described again, for a pane polled every
/// `cadence`.
pub fn sweep(cadence: Duration) -> Duration {
    SWEEP_EVERY.max(cadence.saturating_mul(SWEEP_FACTOR))
}

/// The describes due now for every listed pane among `polled` (the queries the screen and the
/// engine poll, with their cadences).
pub fn due(state: &State, polled: &[(Query, Duration)]) -> Vec<Batch> {
    // Each query once, at the shortest of its cadences, in the order first polled: one pass
    // (the engine polls hundreds of queries on a big fleet, looked over at every turn), and
    // only the kinds a listing is described for.
    let mut cadences: Vec<(&Query, Duration)> = Vec::new();
    let mut at: crate::model::hash::FastMap<&Query, usize> = Default::default();
    let listed = polled.iter().filter(|(query, _)| {
        matches!(
            query,
            Query::Services { .. } | Query::Tasks { .. } | Query::Instances { .. }
        )
    });
    for (query, every) in listed {
        match at.entry(query) {
            std::collections::hash_map::Entry::Occupied(i) => {
                let cadence = &mut cadences[*i.get()].1;
                *cadence = (*cadence).min(*every);
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(cadences.len());
                cadences.push((query, *every));
            }
        }
    }
    cadences
        .into_iter()
        .flat_map(|(query, cadence)| due_for(state, query, cadence))
        .collect()
}

/// A listed row as the chooser sees it.
struct Candidate<'a> {
    arn: &'a str,
    /// Kept an eye on by the triage engine: described again every cycle, like the screen.
    watched: bool,
}

fn due_for<'a>(state: &'a State, query: &Query, cadence: Duration) -> Vec<Batch> {
    let Some(slot) = state.fleet.slot(query) else {
        return Vec::new();
    };
    let Some(progress) = &slot.progress else {
        return Vec::new();
    };
    let now = state.now;
    if progress.retry_at.is_some_and(|at| now < at) {
        return Vec::new();
    }
    let batch = batch_size(query);
    let under_way = progress
        .asked
        .values()
        .filter(|sent| now - **sent < super::LOST_AFTER)
        .count();
    let free = IN_FLIGHT.saturating_sub(under_way.div_ceil(batch));
    if free == 0 {
        return Vec::new();
    }
    let rows = candidates(state, query);
    let small = rows.len() <= SMALL_PANE;
    let often = super::chrono_duration(cadence);
    let rarely = super::chrono_duration(sweep(cadence));
    let mut wanted: Vec<&str> = Vec::new();
    let mut taken = HashSet::new();
    // `r` (or a change the operator made) wants the rows that matter fresh now.
    let fresh = progress.fresh_after;
    let mut consider = |arn: &'a str, every: chrono::TimeDelta, fresh: Option<Time>| {
        if wanted.len() < free * batch
            && taken.insert(arn)
            && is_due(progress, arn, every, fresh, now)
        {
            wanted.push(arn);
        }
    };
    for i in on_screen(state, query) {
        if let Some(row) = rows.get(i) {
            consider(row.arn, often, fresh);
        }
    }
    for row in rows.iter().filter(|r| r.watched) {
        consider(row.arn, often, fresh);
    }
    for row in &rows {
        if small {
            consider(row.arn, often, fresh);
        } else {
            consider(row.arn, rarely, None);
        }
    }
    wanted
        .chunks(batch)
        .map(|arns| Batch {
            query: query.clone(),
            seq: slot.applied_seq,
            arns: arns.iter().map(|a| a.to_string()).collect(),
        })
        .collect()
}

/// The rows of a listed pane, in the pane's item order, each with whether it is watched.
fn candidates<'a>(state: &'a State, query: &Query) -> Vec<Candidate<'a>> {
    fn of<'a, R: Listed>(rows: &'a [R], watched: impl Fn(&R) -> bool) -> Vec<Candidate<'a>> {
        rows.iter()
            .map(|r| Candidate {
                arn: r.arn(),
                watched: !r.loading() && watched(r),
            })
            .collect()
    }
    match query {
        Query::Services { cluster } => {
            let with_findings = with_findings(state, cluster);
            of(state.fleet.services(query), |s| {
                service_watched(s, &with_findings)
            })
        }
        Query::Tasks { .. } => of(state.fleet.tasks(query), task_watched),
        Query::Instances { .. } => of(state.fleet.instances(query), instance_watched),
        _ => Vec::new(),
    }
}

/// Not asked for already (or asked so long ago the answer is lost), and never described,
/// described at least `every` ago, or described before `fresh` (fresh data asked for then).
fn is_due(
    progress: &Progress,
    arn: &str,
    every: chrono::TimeDelta,
    fresh: Option<Time>,
    now: Time,
) -> bool {
    let asked = progress
        .asked
        .get(arn)
        .is_some_and(|sent| now - *sent < super::LOST_AFTER);
    !asked
        && progress
            .described
            .get(arn)
            .is_none_or(|at| now - *at >= every || fresh.is_some_and(|f| *at < f))
}

/// The rows (indices into the pane's items) the focused view shows, and a page below them.
fn on_screen(state: &State, query: &Query) -> Vec<usize> {
    let view = state.focused();
    if view.pane.query() != *query {
        return Vec::new();
    }
    let height = crate::screen::layout::list_rows(state);
    let end = (view.offset + 2 * height).min(view.rows.len());
    view.rows
        .get(view.offset.min(end)..end)
        .map(<[usize]>::to_vec)
        .unwrap_or_default()
}

/// The services of `cluster` with an active finding (worked out once per pane, not per row).
fn with_findings<'a>(state: &'a State, cluster: &str) -> HashSet<&'a str> {
    state
        .triage
        .active()
        .into_iter()
        .filter(|f| f.current.subject.cluster() == cluster)
        .filter_map(|f| f.current.subject.service())
        .collect()
}

/// A service the triage engine keeps an eye on: one with an active finding, or not steady at
/// its last describe (short of its desired count, tasks pending, a deployment rolling).
fn service_watched(service: &Service, with_findings: &HashSet<&str>) -> bool {
    service.running != service.desired
        || service.pending > 0
        || service.deployments.len() > 1
        || with_findings.contains(service.name.as_str())
}

/// A task on its way somewhere (starting, stopping, or not where ECS wants it): what it
/// becomes is what the operator and the rules wait for.
fn task_watched(task: &Task) -> bool {
    task.last_status != task.desired_status || task.health == "UNHEALTHY"
}

/// A host not serving normally (draining, its agent gone): its tasks are moving.
fn instance_watched(instance: &Instance) -> bool {
    instance.status != "ACTIVE" || !instance.agent_connected
}
