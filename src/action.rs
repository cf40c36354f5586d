//! Everything that can happen to the console, and everything it can ask the runtime to do.
//!
//! `Action`s flow in (keys, data arrivals, ticks); `update` turns them into state changes and
//! `Effect`s, which the runtime (or a test harness) carries out and answers with more actions.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::model::{Alarm, Identity, MetricRequest, Query, SeriesData, Time};
use crate::source::aws::AwsSettings;
use crate::source::{CallStat, SharedSource, Snapshot, SourceError};

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
    /// A metrics request answered (`seq` as in `Effect::FetchMetrics`).
    MetricsLoaded {
        request: MetricRequest,
        seq: u64,
        at: Time,
        result: Result<Vec<SeriesData>, SourceError>,
    },
    AlarmsLoaded {
        at: Time,
        result: Result<Vec<Alarm>, SourceError>,
    },
    /// The `:stats` numbers, read from the source.
    StatsLoaded(Vec<CallStat>),
    /// Profile names from the AWS config files, for the `:profile` picker.
    ProfilesLoaded(Vec<String>),
    /// A new source (another region or profile) is ready; the runtime swaps it in first.
    SourceChanged {
        source: SharedSource,
        settings: AwsSettings,
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
    FetchMetrics {
        request: MetricRequest,
        seq: u64,
    },
    FetchAlarms,
    /// Read the source's call statistics (cheap, synchronous) and send `StatsLoaded`.
    ShowStats,
    LoadProfiles,
    /// Build a source for these settings (region or profile switch) and send `SourceChanged`.
    Connect(AwsSettings),
    /// Hand the terminal back to the shell (Ctrl-z) and resume on `fg`.
    Suspend,
    Quit,
}
