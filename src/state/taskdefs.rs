//! Task definitions as the console holds them: revisions fetched once (they never change once
//! registered), the revision list of a service's family (`T`, `:taskdefs`), and the diff or
//! full text of revisions.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::{TaskDefRef, TaskDefinition, Time};

/// Revisions by ARN, and what is being fetched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskDefCache {
    pub defs: HashMap<String, Arc<TaskDefinition>>,
    /// Why a revision could not be read; asked again when a view that needs it opens.
    pub errors: HashMap<String, String>,
    /// Sent at, so a lost request is asked again.
    pub in_flight: HashMap<String, Time>,
}

impl TaskDefCache {
    pub fn get(&self, arn: &str) -> Option<&Arc<TaskDefinition>> {
        self.defs.get(arn)
    }
}

/// The revisions of a service's task definition family, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefsView {
    pub cluster: String,
    pub service: String,
    pub service_arn: String,
    pub family: String,
    /// The revision the service runs (its PRIMARY deployment's) when the view opened; the
    /// fleet's newer data wins when drawing.
    pub running: TaskDefRef,
    /// (revision, PRIMARY/ACTIVE) of the service's deployments when the view opened.
    pub deployments: Vec<(TaskDefRef, String)>,
    /// `None` while the first answer is awaited.
    pub revisions: Option<Vec<TaskDefRef>>,
    pub error: Option<String>,
    /// The list request's send time, while it is under way.
    pub in_flight: Option<Time>,
    pub selected: usize,
    /// The revision marked (`space`) to compare another against.
    pub marked: Option<u32>,
    /// Open straight on the diff of the running revision against the previous (`:diff`).
    pub diff_on_load: bool,
}

impl TaskDefsView {
    pub fn selected_revision(&self) -> Option<&TaskDefRef> {
        self.revisions.as_ref()?.get(self.selected)
    }

    /// The revision just older than `revision` among those listed.
    pub fn previous(&self, revision: u32) -> Option<&TaskDefRef> {
        self.revisions
            .as_ref()?
            .iter()
            .find(|r| r.revision < revision)
    }

    pub fn by_revision(&self, revision: u32) -> Option<&TaskDefRef> {
        self.revisions
            .as_ref()?
            .iter()
            .find(|r| r.revision == revision)
    }
}

/// What a text view of revisions shows.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskDefText {
    /// What changed from `from` to `to`.
    Diff { from: TaskDefRef, to: TaskDefRef },
    /// One revision in full.
    Describe(TaskDefRef),
}

impl TaskDefText {
    /// The revisions it needs fetched.
    pub fn needs(&self) -> Vec<&TaskDefRef> {
        match self {
            TaskDefText::Diff { from, to } => vec![from, to],
            TaskDefText::Describe(r) => vec![r],
        }
    }

    pub fn title(&self) -> String {
        match self {
            TaskDefText::Diff { from, to } => format!("Diff {from} → {to}"),
            TaskDefText::Describe(r) => format!("Task definition {r}"),
        }
    }
}
