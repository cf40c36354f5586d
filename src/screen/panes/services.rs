use crate::model::{Service, metric_catalog as cat};
use crate::screen::format::{age, age_opt, or_dash};
use crate::screen::spark::Spark;
use crate::screen::table::{Column, RowCtx};

use super::{alarm_badge, badge_style, findings_badge, state_style};

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Service>;

/// A row of a big pane whose details are older than this says how old: rows on screen are
/// described every pane cycle, the rest on a slower sweep (`poll::describe`), so an old row
/// is one just scrolled to (described next) or one the account's throttling holds back.
pub const OLD_ROW: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// `loading` until the row's details come (a big cluster's rows come listed first), and the
/// details' age once they are older than [`OLD_ROW`].
fn status(s: &Service, now: crate::model::Time) -> String {
    if s.loading {
        return "loading".into();
    }
    match s.described_at {
        Some(at) if now - at > OLD_ROW => format!("{} · {}", s.status, age(now, at)),
        _ => s.status.clone(),
    }
}

/// A count, or `…` while unknown (not zero: the row's details have not come yet).
fn count(s: &Service, n: u32) -> String {
    if s.loading {
        "…".into()
    } else {
        n.to_string()
    }
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
        C::fill("NAME", 16, |s, _| s.name.clone()),
        C::new("TRIAGE", 6, |s, ctx| {
            let cluster = cat::cluster_of(&s.cluster_arn);
            findings_badge(ctx, |sub| {
                sub.cluster() == cluster && sub.service() == Some(s.name.as_str())
            })
        })
        .styled_by_text(badge_style),
        C::new("STATUS", 6, |s, ctx| status(s, ctx.now)).styled(|s, t| {
            if s.loading {
                t.dim
            } else {
                state_style(&s.status, t)
            }
        }),
        C::new("DESIRED", 7, |s, _| count(s, s.desired)).by(|s| s.desired as f64),
        C::new("RUNNING", 7, |s, _| count(s, s.running))
            .by(|s| s.running as f64)
            .styled(|s, t| {
                if s.running < s.desired {
                    t.warn
                } else {
                    t.base
                }
            }),
        C::new("PENDING", 7, |s, _| count(s, s.pending))
            .by(|s| s.pending as f64)
            .styled(|s, t| if s.pending > 0 { t.warn } else { t.base }),
        C::spark("CPU", 26, |s| Some(Spark::of(cat::service_cpu(s)))),
        C::spark("MEM", 26, |s| Some(Spark::of(cat::service_memory(s)))),
        C::new("TARGETS", 7, |s, ctx| match targets(s, ctx) {
            Some((ok, bad)) => format!("{:.0}/{:.0}", ok, ok + bad),
            None => "-".into(),
        }),
        C::spark("5XX", 16, first_5xx),
        C::new("ROLLOUT", 11, |s, _| rollout(s)).styled(|s, t| state_style(&rollout(s), t)),
        C::fill("TASK DEF", 14, |s, _| s.task_definition.to_string()),
        C::new("DEPLOYED", 8, |s, ctx| {
            age_opt(ctx.now, s.last_deployment_at())
        })
        .by(|s| {
            -s.last_deployment_at()
                .map_or(f64::MIN, |t| t.timestamp() as f64)
        }),
        C::new("ALARM", 5, |s, ctx| {
            alarm_badge(ctx, &cat::service_chart(s))
        })
        .styled(|_, t| t.error),
    ]
}

pub fn key(s: &Service) -> &str {
    &s.name
}
