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

/// Whether these are the fleet view's clusters, every context's (each row names its own).
pub fn merged(clusters: &[Cluster]) -> bool {
    clusters.first().is_some_and(|c| c.context.is_some())
}

/// The columns; `merged` (the fleet view) adds where each cluster is: profile, account, region.
pub fn columns(merged: bool) -> Vec<Column<Cluster>> {
    let mut columns = vec![C::fill("NAME", 16, |c| {
        crate::model::unqualify(&c.name).0.to_string()
    })];
    if merged {
        columns.extend(context_columns());
    }
    columns.extend(vec![
        C::live("TRIAGE", 6, |c, ctx| {
            findings_badge(ctx, |sub| sub.cluster() == c.name)
        })
        .styled_by_text(badge_style)
        .reads_findings(),
        C::new("STATUS", 6, |c| c.status.clone()).styled(|c, t| state_style(&c.status, t)),
        C::new("SERVICES", 8, |c| c.active_services.to_string()).by(|c| c.active_services as f64),
        C::new("RUNNING", 7, |c| c.running_tasks.to_string()).by(|c| c.running_tasks as f64),
        C::new("PENDING", 7, |c| c.pending_tasks.to_string())
            .by(|c| c.pending_tasks as f64)
            .styled(|c, t| if c.pending_tasks > 0 { t.warn } else { t.base }),
        C::new("INSTANCES", 9, |c| c.instances.to_string()).by(|c| c.instances as f64),
        C::spark("CPU", 26, |c| Some(Spark::of(cat::cluster_cpu(c)))),
        C::spark("MEM", 26, |c| Some(Spark::of(cat::cluster_memory(c)))),
        C::live("CPU RES", 7, |c, ctx| {
            pct(reserved(
                c.cpu_reserved_pct,
                cat::cluster_cpu_reserved(c),
                ctx,
            ))
        }),
        C::live("MEM RES", 7, |c, ctx| {
            pct(reserved(
                c.memory_reserved_pct,
                cat::cluster_memory_reserved(c),
                ctx,
            ))
        }),
        C::live("ALARM", 5, |c, ctx| alarm_badge(ctx, &cat::cluster_row(c))).styled(|_, t| t.error),
        C::fill("CAPACITY PROVIDERS", 18, |c| {
            or_dash(&c.capacity_providers.join(", "))
        }),
    ]);
    columns
}

/// The fleet view's: which profile, account and region a row is in, and `stale` on the rows of
/// a context whose last poll failed (the status line says why).
fn context_columns() -> Vec<Column<Cluster>> {
    vec![
        C::new("PROFILE", 8, |c| match place(c) {
            Some(p) if p.stale.is_some() => format!("{} (stale)", p.profile),
            Some(p) => p.profile.clone(),
            None => "-".into(),
        })
        .styled(|c, t| {
            if place(c).is_some_and(|p| p.stale.is_some()) {
                t.warn
            } else {
                t.base
            }
        }),
        C::new("ACCOUNT", 12, |c| {
            or_dash(place(c).map_or("", |p| p.account.as_str()))
        }),
        C::new("REGION", 9, |c| {
            or_dash(place(c).map_or("", |p| p.region.as_str()))
        }),
    ]
}

fn place(c: &Cluster) -> Option<&crate::model::ClusterContext> {
    c.context.as_deref()
}

pub fn key(c: &Cluster) -> &str {
    &c.name
}
