//! Data arrivals from pollers.

use crate::model::{Identity, Query, Time};
use crate::source::{ErrorKind, Snapshot, SourceError};
use crate::state::{Level, State};

use super::rows;

pub fn identity_loaded(state: &mut State, result: Result<Identity, SourceError>) {
    match result {
        Ok(identity) => {
            state.identity = identity;
            state.identity_error = None;
        }
        Err(e) => {
            state.set_status(
                Level::Error,
                format!("cannot tell who you are: {}", e.message),
            );
            state.identity_error = Some(e.message);
        }
    }
}

pub fn loaded(
    state: &mut State,
    query: Query,
    seq: u64,
    at: Time,
    result: Result<Snapshot, SourceError>,
) {
    let error = result.as_ref().err().cloned();
    let focused = state.focused().pane.query() == query;
    let cadence = if focused {
        state.refresh.focused
    } else {
        state.refresh.background
    };
    let retry_hint = error.as_ref().and_then(|e| e.retry_after);
    state
        .polls
        .finished(&query, seq, error.is_none(), retry_hint, cadence, at);
    if !state.fleet.apply(query.clone(), seq, at, result) {
        return; // a newer answer is already shown
    }
    rows::refresh_all(
        &mut state.nav,
        &state.fleet,
        &query,
        state.now,
        state.stopped_window,
    );

    match error {
        // A deleted object is shown in the pane itself, not as a transient error.
        Some(e) if e.kind == ErrorKind::NotFound => {}
        Some(e) => {
            let retry = state
                .polls
                .retry_at(&query)
                .map(|at| format!(" — retrying in {}s", (at - state.now).num_seconds().max(1)))
                .unwrap_or_default();
            let level = match e.kind {
                ErrorKind::Throttled | ErrorKind::Network => Level::Warn,
                _ => Level::Error,
            };
            state.set_status(level, format!("{}: {}{retry}", query.describe(), e.message));
        }
        None => {
            // The error this query raised is over: take its message down.
            let prefix = format!("{}: ", query.describe());
            if state
                .status
                .as_ref()
                .is_some_and(|s| s.level != Level::Info && s.text.starts_with(&prefix))
            {
                state.status = None;
            }
        }
    }
}
