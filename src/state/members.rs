//! The fleet view over several contexts (`--profile prod,staging --region eu-west-1,us-east-1`):
//! one console per context, each exactly the single-context console with its own source,
//! polls, answers, metrics and triage engine, and above them one console whose clusters pane
//! and findings merge theirs (`State::members`).
//!
//! Keeping each context a whole console is what keeps its failures, its request budgets and
//! its data its own: nothing a context holds is keyed without it.

use crate::model::{Context, Time};

use super::State;

/// One context's console inside the fleet view.
pub struct Member {
    pub context: Context,
    pub state: State,
    /// What the fleet view last merged from it (see `update::fleet_view`): its clusters
    /// answer's version and its findings' badge signature and count.
    pub merged: Option<Merged>,
    /// Dropped at run time (`:contexts drop`): no longer polled, listed or merged. Kept in its
    /// place so the members after it keep their index (answers under way name it).
    pub dropped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    pub clusters_version: u64,
    pub clusters_failed: bool,
    /// When its clusters last answered (the fleet view's data age).
    pub clusters_fetched: Option<Time>,
    /// STS has named its account (the rows' ACCOUNT column).
    pub identified: bool,
    pub findings: (u64, usize),
    /// When its metrics last answered (the rows' cluster sparklines).
    pub metrics_at: Option<Time>,
}

impl Member {
    pub fn new(context: Context, state: State) -> Member {
        Member {
            context,
            state,
            merged: None,
            dropped: false,
        }
    }

    /// `prod · 123456789012 · eu-west-1` once STS has answered, `prod · eu-west-1` before.
    pub fn title(&self) -> String {
        self.context.title(Some(&self.state.identity.account))
    }

    /// Why its clusters are stale, in the source's words, while its last clusters poll failed.
    pub fn failure(&self) -> Option<String> {
        let slot = self.state.fleet.slot(&crate::model::Query::Clusters)?;
        slot.error.as_ref().map(|e| e.to_string())
    }

    /// When its clusters were last answered.
    pub fn fetched_at(&self) -> Option<Time> {
        self.state
            .fleet
            .slot(&crate::model::Query::Clusters)
            .and_then(|s| s.fetched_at)
    }
}
