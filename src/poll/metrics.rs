//! The CloudWatch series the screen and the triage engine need now, with how far back each
//! must reach: the visible rows of the focused pane and an open chart.
//! `update::metrics` batches them into requests and keeps the book.

use chrono::TimeDelta;

use crate::model::{Insights, SeriesKey, metric_catalog as cat};
use crate::screen::layout;
use crate::screen::panes::{self, Items};
use crate::screen::spark::{ROW_PERIOD, ROW_WINDOW};
use crate::state::{Popup, State};

/// The tasks on screen now (the visible rows of the focused pane when it lists tasks), by ARN.
pub fn visible_tasks(state: &State) -> Vec<String> {
    let view = state.focused();
    let height = layout::list_rows(state);
    let offset = view.offset.min(view.rows.len().saturating_sub(height));
    match panes::items(&view.pane, &state.fleet) {
        Items::Tasks(items, ..) => view
            .rows
            .iter()
            .skip(offset)
            .take(height)
            .filter_map(|&i| items.get(i))
            .map(|t| t.arn.to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// Series on screen now, with how far back each must reach (the engine's own are
/// `Triage::metrics_wanted`, gone through by `update::metrics`).
pub fn wanted(state: &State) -> Vec<(SeriesKey, TimeDelta)> {
    let mut out: Vec<(SeriesKey, TimeDelta)> = Vec::new();
    let row = |metric| {
        (
            SeriesKey {
                metric,
                period: ROW_PERIOD,
            },
            ROW_WINDOW,
        )
    };
    let view = state.focused();
    let height = layout::list_rows(state);
    let offset = view.offset.min(view.rows.len().saturating_sub(height));
    let visible = view.rows.iter().skip(offset).take(height).copied();
    match panes::items(&view.pane, &state.fleet) {
        Items::Clusters(items) => {
            for i in visible {
                out.extend(cat::cluster_row(&items[i]).into_iter().map(row));
            }
        }
        Items::Services(items) => {
            for i in visible {
                out.extend(cat::service_row(&items[i]).into_iter().map(row));
            }
        }
        Items::Tasks(items, false, true) => {
            for i in visible {
                let task = &items[i];
                if state.fleet.insights(cat::cluster_of(&task.cluster_arn))
                    == Some(Insights::Enhanced)
                {
                    out.extend(cat::task_row(task).into_iter().map(row));
                }
            }
        }
        Items::Instances(items) => {
            for i in visible {
                out.extend(cat::instance_row(&items[i]).into_iter().map(row));
            }
        }
        Items::Tasks(..) | Items::Containers(_) => {}
    }
    if let Some(chart) = state.popups.iter().rev().find_map(|p| match p {
        Popup::Chart(c) => Some(c),
        _ => None,
    }) {
        let span = chart.window.span();
        out.extend(chart.series().map(|k| (k, span)));
    }
    out
}
