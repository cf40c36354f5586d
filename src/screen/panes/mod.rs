//! One file per pane: its columns (which also drive filtering and sorting) and how its state
//! maps to a table.

pub mod clusters;
pub mod containers;
pub mod instances;
pub mod services;
pub mod tasks;

use ratatui::style::Style;

use crate::model::{Listed, MetricId, Time};
use crate::screen::table::RowCtx;
use crate::screen::text::Tone;
use crate::theme::Theme;

/// A row of a big pane whose details are older than this says how old: rows on screen are
/// described every pane cycle, the rest on a slower sweep (`poll::describe`), so an old row
/// is one just scrolled to (described next) or one the account's throttling holds back.
pub const OLD_ROW: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// A listed row's status cell: `loading` until its details come (a big pane's rows come
/// listed first), and the details' age once they are older than [`OLD_ROW`].
pub fn listed_status(row: &impl Listed, status: &str, now: Time) -> String {
    if row.loading() {
        return "loading".into();
    }
    match row.described_at() {
        Some(at) if now - at > OLD_ROW => {
            format!("{status} · {}", crate::screen::format::age(now, at))
        }
        _ => status.to_string(),
    }
}

/// A cell of a listed row, or `…` while its details have not come (unknown, not zero).
pub fn known(row: &impl Listed, text: impl FnOnce() -> String) -> String {
    if row.loading() { "…".into() } else { text() }
}

/// A status cell's style: dim while the row is loading.
pub fn listed_style(row: &impl Listed, status: &str, theme: &Theme) -> Style {
    if row.loading() {
        theme.dim
    } else {
        state_style(status, theme)
    }
}

/// `ALARM` when a CloudWatch alarm on one of these metrics is firing, else nothing.
pub fn alarm_badge(ctx: &RowCtx, metrics: &[MetricId]) -> String {
    if ctx.metrics.in_alarm(metrics) {
        "ALARM".into()
    } else {
        String::new()
    }
}

/// The triage badge of a row: the worst active finding's severity and how many there are
/// (`CRIT 2`, `WARN`, `INFO`), empty when none.
pub fn findings_badge(ctx: &RowCtx, matches: impl Fn(&crate::model::Subject) -> bool) -> String {
    badge_text(ctx.triage.badge(matches))
}

/// A task's triage badge, from the findings' index by task (a tasks pane asks 100,000 times).
pub fn task_findings_badge(ctx: &RowCtx, task_arn: &str) -> String {
    badge_text(ctx.triage.task_badge(task_arn))
}

fn badge_text(found: Option<(crate::model::Severity, usize)>) -> String {
    match found {
        None => String::new(),
        Some((severity, 1)) => severity.badge().to_string(),
        Some((severity, n)) => format!("{} {n}", severity.badge()),
    }
}

/// Colours a triage badge by the severity it names.
pub fn badge_style(text: &str, theme: &Theme) -> Style {
    match text.split(' ').next() {
        Some("CRIT") => theme.error,
        Some("WARN") => theme.warn,
        Some("INFO") => theme.dim,
        _ => theme.base,
    }
}

/// Colours the words ECS uses for states, so the eye finds trouble before reading.
pub fn state_style(word: &str, theme: &Theme) -> Style {
    state_tone(word).style(theme)
}

/// What a state word means: fine, on its way, or trouble.
pub fn state_tone(word: &str) -> Tone {
    match word {
        "ACTIVE" | "RUNNING" | "HEALTHY" | "COMPLETED" | "PRIMARY" => Tone::Ok,
        "DRAINING" | "PENDING" | "PROVISIONING" | "ACTIVATING" | "IN_PROGRESS" | "STOPPING"
        | "DEACTIVATING" | "DEPROVISIONING" | "REGISTERING" | "DEREGISTERING" => Tone::Warn,
        "UNHEALTHY" | "FAILED" | "STOPPED" | "INACTIVE" => Tone::Error,
        _ => Tone::Dim,
    }
}

use crate::model::{Cluster, Container, Insights, Instance, Service, Task};
use crate::state::{Fleet, Pane};

/// The items a pane lists, borrowed from the fleet cache.
pub enum Items<'a> {
    Clusters(&'a [Cluster]),
    Services(&'a [Service]),
    /// Tasks, whether they are stopped ones, whether their cluster publishes per-task metrics.
    Tasks(&'a [Task], bool, bool),
    Containers(&'a [Container]),
    Instances(&'a [Instance]),
}

pub fn items<'a>(pane: &Pane, fleet: &'a Fleet) -> Items<'a> {
    let query = pane.query();
    match pane {
        Pane::Clusters => Items::Clusters(fleet.clusters()),
        Pane::Services { .. } => Items::Services(fleet.services(&query)),
        Pane::Tasks { stopped, scope } => {
            // Per-task metrics exist only with Container Insights' enhanced observability;
            // without it the columns are left out and the pane says why, once.
            let metrics = fleet.insights(scope.cluster()) == Some(Insights::Enhanced);
            Items::Tasks(fleet.tasks(&query), *stopped, metrics)
        }
        Pane::Containers { .. } => Items::Containers(
            fleet
                .tasks(&query)
                .first()
                .map_or(&[][..], |t| &t.containers[..]),
        ),
        Pane::Instances { .. } => Items::Instances(fleet.instances(&query)),
    }
}

/// Runs `$body` with `$items` and `$cols` bound to the pane's items, columns and key function,
/// whatever their type: the one place that maps a pane kind to its table.
#[macro_export]
macro_rules! with_table {
    ($items_enum:expr, |$items:ident, $cols:ident, $key:ident| $body:expr) => {{
        use $crate::screen::panes::{self as p, Items};
        match $items_enum {
            Items::Clusters($items) => {
                let $cols = p::clusters::columns(p::clusters::merged($items));
                let $key = p::clusters::key;
                $body
            }
            Items::Services($items) => {
                let $cols = p::services::columns();
                let $key = p::services::key;
                $body
            }
            Items::Tasks($items, stopped, metrics) => {
                let $cols = p::tasks::columns(stopped, metrics);
                let $key = p::tasks::key;
                $body
            }
            Items::Containers($items) => {
                let $cols = p::containers::columns();
                let $key = p::containers::key;
                $body
            }
            Items::Instances($items) => {
                let $cols = p::instances::columns();
                let $key = p::instances::key;
                $body
            }
        }
    }};
}
