use crate::model::{Cluster, metric_catalog as cat};
use crate::screen::format::{or_dash, pct};
use crate::screen::spark::Spark;
use crate::screen::table::{Column, RowCtx};

use super::{alarm_badge, badge_style, findings_badge, state_style};

/// Reservation as ECS reports it (the demo fleet) or as CloudWatch last measured it.
fn reserved(known: Option<f64>, metric: crate::model::MetricId, ctx: &RowCtx) -> Option<f64> {
    known.or_else(|| Spark::of(metric).current(ctx.metrics, ctx.now))
}

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Cluster>;

pub fn columns() -> Vec<Column<Cluster>> {
    vec![
        C::fill("NAME", 16, |c, _| c.name.clone()),
        C::new("TRIAGE", 6, |c, ctx| {
            findings_badge(ctx, |sub| sub.cluster() == c.name)
        })
        .styled_by_text(badge_style),
        C::new("STATUS", 6, |c, _| c.status.clone()).styled(|c, t| state_style(&c.status, t)),
        C::new("SERVICES", 8, |c, _| c.active_services.to_string())
            .by(|c| c.active_services as f64),
        C::new("RUNNING", 7, |c, _| c.running_tasks.to_string()).by(|c| c.running_tasks as f64),
        C::new("PENDING", 7, |c, _| c.pending_tasks.to_string())
            .by(|c| c.pending_tasks as f64)
            .styled(|c, t| if c.pending_tasks > 0 { t.warn } else { t.base }),
        C::new("INSTANCES", 9, |c, _| c.instances.to_string()).by(|c| c.instances as f64),
        C::spark("CPU", 26, |c| Some(Spark::of(cat::cluster_cpu(c)))),
        C::spark("MEM", 26, |c| Some(Spark::of(cat::cluster_memory(c)))),
        C::new("CPU RES", 7, |c, ctx| {
            pct(reserved(
                c.cpu_reserved_pct,
                cat::cluster_cpu_reserved(c),
                ctx,
            ))
        }),
        C::new("MEM RES", 7, |c, ctx| {
            pct(reserved(
                c.memory_reserved_pct,
                cat::cluster_memory_reserved(c),
                ctx,
            ))
        }),
        C::new("ALARM", 5, |c, ctx| alarm_badge(ctx, &cat::cluster_row(c))).styled(|_, t| t.error),
        C::fill("CAPACITY PROVIDERS", 18, |c, _| {
            or_dash(&c.capacity_providers.join(", "))
        }),
    ]
}

pub fn key(c: &Cluster) -> &str {
    &c.name
}
