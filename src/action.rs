//! Everything that can happen to the console, and everything it can ask the runtime to do.
//!
//! `Action`s flow in (keys, data arrivals, ticks); `update` turns them into state changes and
//! `Effect`s, which the runtime (or a test harness) carries out and answers with more actions.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::model::{Identity, Query, Time};
use crate::source::{Snapshot, SourceError};

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock moved: ages change, polls fall due.
    Tick(Time),
    IdentityLoaded(Result<Identity, SourceError>),
    /// A poller finished. `seq` orders requests for the same query: older answers lose.
    Loaded {
        query: Query,
        seq: u64,
        at: Time,
        result: Result<Snapshot, SourceError>,
    },
    /// SIGTERM, SIGHUP or an explicit request from outside the key handling.
    Quit,
}

/// Work for the runtime. Kept as data so tests can run it synchronously and assert on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Fetch {
        query: Query,
        seq: u64,
    },
    FetchIdentity,
    /// Hand the terminal back to the shell (Ctrl-z) and resume on `fg`.
    Suspend,
    Quit,
}
