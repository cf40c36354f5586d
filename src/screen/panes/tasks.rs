use crate::model::{Task, metric_catalog as cat};
use crate::screen::format::{age_opt, opt, or_dash};
use crate::screen::spark::Spark;
use crate::screen::table::Column;

use super::{badge_style, known, listed_status, listed_style, state_style, task_findings_badge};

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Task>;

/// A task row of a big pane shows its short id (from its ARN) at once, `loading` in its status
/// cell and `…` in the others until its details come ([`known`]).
/// Running tasks; with `stopped`, the stop code, reason and exit codes replace placement.
pub fn columns(stopped: bool, metrics: bool) -> Vec<Column<Task>> {
    let mut cols = vec![
        C::new("ID", 8, |t| t.short_id().to_string()),
        C::live("TRIAGE", 6, |t, ctx| task_findings_badge(ctx, &t.arn))
            .styled_by_text(badge_style)
            .reads_findings(),
        C::new("SERVICE", 8, |t| {
            known(t, || or_dash(t.service_name().unwrap_or_default()))
        }),
    ];
    if stopped {
        // Status and health of a stopped task say nothing; why and how it stopped is the point.
        cols.extend([
            C::new("REV", 4, |t| {
                known(t, || t.task_definition.revision.to_string())
            })
            .by(|t| t.task_definition.revision as f64),
            C::live("STOP CODE", 24, |t, ctx| {
                listed_status(t, &or_dash(&t.stop_code), ctx.now)
            })
            .styled(|t, th| if t.loading { th.dim } else { th.base }),
            C::new("EXIT", 12, |t| known(t, || or_dash(&t.exit_codes()))).styled(|t, th| {
                let crashed = t
                    .containers
                    .iter()
                    .any(|c| c.exit_code.is_some_and(|e| e != 0));
                if crashed { th.error } else { th.base }
            }),
            C::live("STOPPED", 8, |t, ctx| {
                known(t, || age_opt(ctx.now, t.stopped_at))
            })
            .by(|t| -t.stopped_at.map_or(f64::MIN, |s| s.timestamp() as f64)),
            C::fill("STOPPED REASON", 20, |t| {
                known(t, || or_dash(&t.stopped_reason))
            })
            .up_to(400),
        ]);
    } else {
        cols.extend([
            C::live("LAST", 7, |t, ctx| {
                listed_status(t, &t.last_status, ctx.now)
            })
            .styled(|t, th| listed_style(t, &t.last_status, th)),
            C::new("DESIRED", 7, |t| known(t, || t.desired_status.to_string())),
            C::new("HEALTH", 6, |t| known(t, || or_dash(&t.health)))
                .styled(|t, th| state_style(&t.health, th)),
            C::new("REV", 4, |t| {
                known(t, || t.task_definition.revision.to_string())
            })
            .by(|t| t.task_definition.revision as f64),
            C::new("AZ", 4, |t| known(t, || or_dash(&t.availability_zone))),
            C::new("IP", 7, |t| known(t, || or_dash(&t.private_ip))),
            C::new("INSTANCE", 8, |t| {
                known(t, || opt(t.ec2_instance_id.as_deref()))
            }),
            C::live("AGE", 8, |t, ctx| {
                known(t, || age_opt(ctx.now, t.started_at.or(t.created_at)))
            })
            .by(|t| {
                -t.started_at
                    .or(t.created_at)
                    .map_or(f64::MIN, |s| s.timestamp() as f64)
            }),
        ]);
    }
    if metrics && !stopped {
        // After REV: CPU and memory as shares of the task's size.
        let at = cols
            .iter()
            .position(|c| c.title == "REV")
            .map_or(cols.len(), |i| i + 1);
        cols.splice(
            at..at,
            [
                C::spark("CPU", 26, |t| {
                    Some(Spark::share_of(cat::task_cpu(t), t.cpu))
                })
                .named_by(cat::TASK_ID, Task::id),
                C::spark("MEM", 26, |t| {
                    Some(Spark::share_of(cat::task_memory(t), t.memory))
                })
                .named_by(cat::TASK_ID, Task::id),
                // Bytes sent a second (the chart shows both directions).
                C::spark("TX/s", 20, |t| Some(Spark::of(cat::task_network_tx(t))))
                    .named_by(cat::TASK_ID, Task::id),
            ],
        );
    }
    cols
}

pub fn key(t: &Task) -> &str {
    &t.arn
}
