//! What the target health popup shows: per target group its health check, then a row per target
//! named by its task; its length bounds the popup's scrolling.

use crate::model::{Query, Task, TaskScope, Time};
use crate::state::{State, TargetHealthView};

use super::format::age;
use super::panes::state_tone;
use super::text::{TextLine, Tone, one};

/// The service's tasks, from whichever list of them the console holds, to name targets.
pub fn service_tasks<'a>(state: &'a State, view: &TargetHealthView) -> &'a [Task] {
    let by_service = Query::Tasks {
        scope: TaskScope::Service {
            cluster: view.cluster.clone(),
            service: view.service.clone(),
        },
        stopped: false,
    };
    let tasks = state.fleet.tasks(&by_service);
    if !tasks.is_empty() {
        return tasks;
    }
    state.fleet.tasks(&Query::Tasks {
        scope: TaskScope::Cluster {
            cluster: view.cluster.clone(),
        },
        stopped: false,
    })
}

pub fn line_count(view: &TargetHealthView) -> usize {
    lines(view, &[], Time::default()).len()
}

/// Per target group: its health check, then a row per target (matched to its task by IP).
pub fn lines(view: &TargetHealthView, tasks: &[Task], now: Time) -> Vec<TextLine> {
    let mut lines = Vec::new();
    if let Some(e) = &view.error {
        lines.push(one(format!("stale: {e}"), Tone::Stale));
    }
    let Some(groups) = &view.groups else {
        lines.push(one("asking the load balancer…", Tone::Dim));
        return lines;
    };
    if let Some(at) = view.fetched_at {
        lines.push(one(
            format!("updated {} ago, every 5 s", age(now, at)),
            Tone::Dim,
        ));
    }
    for g in groups {
        let hc = &g.health_check;
        lines.push(TextLine::new());
        lines.push(one(g.name.clone(), Tone::Title));
        lines.push(one(
            format!(
                "health check {} {} on port {} · every {}s, timeout {}s · healthy after {}, unhealthy after {} · expects {}",
                hc.protocol,
                if hc.path.is_empty() { "-" } else { &hc.path },
                hc.port,
                hc.interval_secs,
                hc.timeout_secs,
                hc.healthy_threshold,
                hc.unhealthy_threshold,
                if hc.matcher.is_empty() { "-" } else { &hc.matcher }
            ),
            Tone::Dim,
        ));
        lines.push(one(
            format!(
                "{:<22} {:<6} {:<12} {:<10} {:<9} {:<32} {}",
                "TARGET", "PORT", "AZ", "STATE", "TASK", "REASON", "DESCRIPTION"
            ),
            Tone::ColumnHeader,
        ));
        if g.targets.is_empty() {
            lines.push(one("no targets registered", Tone::Warn));
        }
        for target in &g.targets {
            let task = tasks
                .iter()
                .find(|task| {
                    task.private_ip == target.id
                        || task.ec2_instance_id.as_deref() == Some(target.id.as_str())
                })
                .map_or("-", |task| task.short_id());
            let state = state_tone(&target.state.to_uppercase());
            lines.push(vec![
                (
                    format!(
                        "{:<22} {:<6} {:<12} ",
                        target.id,
                        target.port.map_or("-".into(), |p| p.to_string()),
                        target.availability_zone
                    ),
                    Tone::Base,
                ),
                (format!("{:<10} ", target.state), state),
                (
                    format!(
                        "{:<9} {:<32} {}",
                        task,
                        if target.reason.is_empty() {
                            "-"
                        } else {
                            &target.reason
                        },
                        target.description
                    ),
                    Tone::Base,
                ),
            ]);
        }
    }
    lines
}
