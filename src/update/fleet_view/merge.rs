//! What the fleet view takes in from its contexts: their clusters (named with their context),
//! findings, cluster series and timelines, and what the header and status line say of them.

use crate::model::{Query, Snapshot, qualify, unqualify};
use crate::state::{Level, Merged, Popup, State};

/// Takes in what changed in `member`: its clusters (named with its context) and its findings.
pub(super) fn merge(state: &mut State, member: usize) {
    let m = &state.members[member];
    let slot = m.state.fleet.slot(&Query::Clusters);
    let now = Merged {
        clusters_version: slot.map_or(0, |s| s.version),
        clusters_failed: slot.is_some_and(|s| s.error.is_some()),
        clusters_fetched: slot.and_then(|s| s.fetched_at),
        identified: !m.state.identity.account.is_empty(),
        findings: (m.state.triage.evaluations, m.state.triage.all().count()),
        metrics_at: m.state.metrics.fetched_at,
    };
    if m.merged == Some(now) {
        return;
    }
    let before = m.merged;
    state.members[member].merged = Some(now);
    let clusters_moved = before.is_none_or(|b| {
        (
            b.clusters_version,
            b.clusters_failed,
            b.identified,
            b.clusters_fetched,
        ) != (
            now.clusters_version,
            now.clusters_failed,
            now.identified,
            now.clusters_fetched,
        )
    });
    if clusters_moved {
        merge_clusters(state);
        say_failures(state, member, before.is_some_and(|b| b.clusters_failed));
        state.identity = fleet_identity(&state.members);
    }
    if before.is_none_or(|b| b.metrics_at != now.metrics_at) {
        merge_cluster_series(state, member);
    }
    if before.is_none_or(|b| b.findings != now.findings) {
        merge_findings(state, member);
        if state.popups.iter().any(|p| matches!(p, Popup::Timeline(_))) {
            merge_timeline(state);
        }
    }
    crate::update::rows::refresh_all(state, &Query::Clusters);
}

/// One context's findings in place of those the fleet view held of it (none once it is
/// dropped), each subject's cluster named with its context: the other contexts' stay as they
/// are, not copied again each time one of them evaluates.
pub(super) fn merge_findings(state: &mut State, member: usize) {
    let m = &state.members[member];
    let label = m.context.to_string();
    let theirs: Vec<_> = if m.dropped {
        Vec::new()
    } else {
        m.state
            .triage
            .all()
            .map(|f| {
                let mut f = f.clone();
                f.current.subject = f.current.subject.with_cluster(|c| qualify(c, &m.context));
                f
            })
            .collect()
    };
    state.triage.replace_where(
        |subject| unqualify(subject.cluster()).1 == Some(label.as_str()),
        theirs,
    );
    state.triage.last_evaluated = state
        .members
        .iter()
        .filter_map(|m| m.state.triage.last_evaluated)
        .max();
}

/// Every member's clusters as one answer: each named with its context, a failing context's
/// last known rows marked stale with its reason. Made again whenever a context's clusters
/// answer (a few rows a context: the rows' cells are kept while they are the same).
pub(super) fn merge_clusters(state: &mut State) {
    let mut clusters = Vec::new();
    let mut fetched: Option<crate::model::Time> = None;
    for m in state.members.iter().filter(|m| !m.dropped) {
        let place = crate::model::ClusterContext {
            profile: m.context.profile_label().to_string(),
            account: m.state.identity.account.clone(),
            region: m.context.region.clone(),
            stale: m.failure(),
        };
        for c in m.state.fleet.clusters() {
            let mut c = c.clone();
            c.name = qualify(&c.name, &m.context);
            c.context = Some(Box::new(place.clone()));
            clusters.push(c);
        }
        // The header's data age: the oldest of the contexts that answer (a failing one's
        // rows say so themselves).
        if place.stale.is_none() {
            fetched = match (fetched, m.fetched_at()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    let seq = state
        .fleet
        .slot(&Query::Clusters)
        .map_or(0, |s| s.applied_seq)
        + 1;
    let at = fetched.unwrap_or(state.now);
    state
        .fleet
        .apply(Query::Clusters, seq, at, Ok(Snapshot::Clusters(clusters)));
}

/// The fleet view's header: how many contexts, which regions, how many accounts.
pub(super) fn fleet_identity(members: &[crate::state::Member]) -> crate::model::Identity {
    let members: Vec<&crate::state::Member> = members.iter().filter(|m| !m.dropped).collect();
    let mut regions: Vec<&str> = members.iter().map(|m| m.context.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    let mut accounts: Vec<&str> = members
        .iter()
        .map(|m| m.state.identity.account.as_str())
        .filter(|a| !a.is_empty())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    let failing = members.iter().filter(|m| m.failure().is_some()).count();
    let mut source = format!("fleet view: {} contexts", members.len());
    if failing > 0 {
        source += &format!(" ({failing} failing)");
    }
    crate::model::Identity {
        source,
        region: regions.join(", "),
        account: match accounts.len() {
            0 => String::new(),
            1 => accounts[0].to_string(),
            n => format!("{n} accounts"),
        },
        principal: "every context's own".into(),
    }
}

/// A context whose clusters poll fails (or answers again) says so on the fleet view's status
/// line, once: its rows are marked stale, the other contexts keep updating.
fn say_failures(state: &mut State, member: usize, failed_before: bool) {
    let m = &state.members[member];
    let title = m.title();
    match (m.failure(), failed_before) {
        (Some(why), false) => state.set_status(
            Level::Warn,
            format!("{title}: {why} — its rows are stale; the other contexts keep updating"),
        ),
        (None, true) => state.set_status(Level::Info, format!("{title} answers again")),
        _ => {}
    }
}

/// The member's cluster-wide series (a cluster row's CPU and memory sparklines, its
/// reservations), held by the fleet view under the cluster's name with its context.
fn merge_cluster_series(state: &mut State, member: usize) {
    let m = &state.members[member];
    let series: Vec<_> = m
        .state
        .metrics
        .series()
        .iter()
        .filter_map(|(key, history)| {
            let [(dimension, cluster)] = &key.metric.dimensions[..] else {
                return None;
            };
            if dimension != "ClusterName" {
                return None;
            }
            let mut key = key.clone();
            key.metric = key
                .metric
                .edited(|fields| fields.dimensions[0].1 = qualify(cluster, &m.context));
            Some((key, history.clone()))
        })
        .collect();
    for (key, history) in series {
        state.metrics.put(key, history, state.now);
    }
}

/// The fleet view's timeline: every context's entries, each subject named with its context.
/// Made when `:timeline` opens and again as contexts change while it is open (not on every
/// answer: a timeline holds thousands of entries).
pub fn merge_timeline(state: &mut State) {
    let mut merged = crate::state::Timeline::default();
    for m in state.members.iter().filter(|m| !m.dropped) {
        let label = m.context.to_string();
        for entry in m.state.triage.timeline.entries() {
            let mut entry = entry.clone();
            entry.cluster = entry.cluster.map(|c| qualify(&c, &m.context));
            entry.subject = format!("{label} › {}", entry.subject);
            merged.push(entry);
        }
    }
    state.triage.timeline = merged;
}
