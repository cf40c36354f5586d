use crate::model::{Service, metric_catalog as cat};
use crate::screen::format::{age_opt, or_dash};
use crate::screen::spark::Spark;
use crate::screen::table::{Column, RowCtx};

use super::{
    alarm_badge, badge_style, findings_badge, known, listed_status, listed_style, state_style,
};

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Service>;

fn status(s: &Service, now: crate::model::Time) -> String {
    listed_status(s, &s.status, now)
}

fn count(s: &Service, n: u32) -> String {
    known(s, || n.to_string())
}

fn rollout(s: &Service) -> String {
    s.primary_deployment()
        .map_or_else(|| "-".into(), |d| or_dash(&d.rollout_state))
}

/// Healthy and unhealthy targets now, over all the service's target groups (`None`: no load
/// balancer, or no data yet).
fn targets(s: &Service, ctx: &RowCtx) -> Option<(f64, f64)> {
    let ids = cat::service_targets(s);
    let now_of = |name: &str| -> Option<f64> {
        let values: Vec<f64> = ids
            .iter()
            .filter(|id| id.name == name)
            .filter_map(|id| Spark::of(id.clone()).current(ctx.metrics, ctx.now))
            .collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    Some((
        now_of("HealthyHostCount")?,
        now_of("UnHealthyHostCount").unwrap_or(0.0),
    ))
}

fn first_5xx(s: &Service) -> Option<Spark> {
    cat::service_targets(s)
        .into_iter()
        .find(|id| id.name == "HTTPCode_Target_5XX_Count")
        .map(Spark::of)
}

pub fn columns() -> Vec<Column<Service>> {
    vec![
        C::fill("NAME", 16, |s| s.name.clone()),
        C::live("TRIAGE", 6, |s, ctx| {
            let cluster = cat::cluster_of(&s.cluster_arn);
            findings_badge(ctx, |sub| {
                sub.cluster() == cluster && sub.service() == Some(s.name.as_str())
            })
        })
        .styled_by_text(badge_style)
        .reads_findings(),
        C::live("STATUS", 6, |s, ctx| status(s, ctx.now))
            .styled(|s, t| listed_style(s, &s.status, t)),
        C::new("DESIRED", 7, |s| count(s, s.desired)).by(|s| s.desired as f64),
        C::new("RUNNING", 7, |s| count(s, s.running))
            .by(|s| s.running as f64)
            .styled(|s, t| {
                if s.running < s.desired {
                    t.warn
                } else {
                    t.base
                }
            }),
        C::new("PENDING", 7, |s| count(s, s.pending))
            .by(|s| s.pending as f64)
            .styled(|s, t| if s.pending > 0 { t.warn } else { t.base }),
        C::spark("CPU", 26, |s| Some(Spark::of(cat::service_cpu(s)))),
        C::spark("MEM", 26, |s| Some(Spark::of(cat::service_memory(s)))),
        C::live("TARGETS", 7, |s, ctx| match targets(s, ctx) {
            Some((ok, bad)) => format!("{:.0}/{:.0}", ok, ok + bad),
            None => "-".into(),
        }),
        C::spark("5XX", 16, first_5xx),
        C::new("ROLLOUT", 11, rollout).styled(|s, t| state_style(&rollout(s), t)),
        C::fill("TASK DEF", 14, |s| s.task_definition.to_string()),
        C::live("DEPLOYED", 8, |s, ctx| {
            age_opt(ctx.now, s.last_deployment_at())
        })
        .by(|s| {
            -s.last_deployment_at()
                .map_or(f64::MIN, |t| t.timestamp() as f64)
        }),
        C::live("ALARM", 5, |s, ctx| {
            alarm_badge(ctx, &cat::service_chart(s))
        })
        .styled(|_, t| t.error),
    ]
}

pub fn key(s: &Service) -> &str {
    &s.name
}
