//! Why a request to the world failed, in the categories the console words differently. A
//! domain value: sources produce it, state keeps it, the screen shows it.

use std::fmt;
use std::time::Duration;

/// What went wrong, in categories the UI words differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The API throttled us; retry later.
    Throttled,
    /// No permission for an action on a resource.
    AccessDenied,
    /// Missing, expired or invalid credentials.
    Credentials,
    /// The endpoint cannot be reached, or did not answer in time.
    Network,
    /// The thing asked for no longer exists (a deleted service or cluster).
    NotFound,
    /// Anything else the server said.
    Service,
    /// A change was sent but no answer came back (a timeout, a dropped connection, a 5xx):
    /// it may or may not have been carried out.
    OutcomeUnknown,
}

/// How the message of an [`ErrorKind::OutcomeUnknown`] error begins, so that paths which carry
/// only the message (a session that could not be opened) still tell it from a failure.
pub const OUTCOME_UNKNOWN: &str = "outcome unknown, not sent again";

/// A failure explained in plain words, ready for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub kind: ErrorKind,
    /// One sentence an operator understands, e.g. "AccessDenied for ecs:ListTasks on …".
    pub message: String,
    /// When the source knows how long to wait (throttling backoff).
    pub retry_after: Option<Duration>,
}

impl SourceError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        SourceError {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SourceError {}
