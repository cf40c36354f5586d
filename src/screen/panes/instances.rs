use crate::model::{Instance, metric_catalog as cat};
use crate::screen::format::or_dash;
use crate::screen::spark::Spark;
use crate::screen::table::Column;

use super::{alarm_badge, badge_style, findings_badge, known, listed_status, listed_style};

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Instance>;

/// `used/registered` for one resource, e.g. `3584/4096`.
fn usage(registered: u32, remaining: u32) -> String {
    format!("{}/{registered}", registered.saturating_sub(remaining))
}

pub fn columns() -> Vec<Column<Instance>> {
    vec![
        // Until its details come, a row is known by its container instance id (from its ARN).
        C::new("EC2 ID", 19, |i| {
            if i.loading {
                crate::model::arn::tail(&i.arn).to_string()
            } else {
                i.ec2_instance_id.clone()
            }
        }),
        C::live("TRIAGE", 6, |i, ctx| {
            findings_badge(ctx, |sub| {
                matches!(sub, crate::model::Subject::Instance { instance_arn, .. } if *instance_arn == i.arn)
            })
        })
        .styled_by_text(badge_style)
            .reads_findings(),
        C::new("TYPE", 11, |i| known(i, || or_dash(&i.instance_type))),
        C::new("AZ", 10, |i| known(i, || or_dash(&i.availability_zone))),
        C::live("STATUS", 6, |i, ctx| listed_status(i, &i.status, ctx.now))
            .styled(|i, t| listed_style(i, &i.status, t)),
        C::new("AGENT", 5, |i| {
            known(i, || if i.agent_connected { "up" } else { "DOWN" }.into())
        })
        .styled(|i, t| match (i.loading, i.agent_connected) {
            (true, _) => t.dim,
            (false, true) => t.ok,
            (false, false) => t.error,
        }),
        C::new("VERSION", 8, |i| known(i, || or_dash(&i.agent_version))),
        C::new("TASKS", 5, |i| known(i, || i.running_tasks.to_string()))
            .by(|i| i.running_tasks as f64),
        C::spark("CPU", 26, |i| Some(Spark::of(cat::instance_cpu(i)))),
        // Burstable types only: at zero credits the host is held to its baseline.
        C::spark("CREDITS", 20, |i| cat::instance_credits(i).map(Spark::of)),
        // Bytes sent a second over all interfaces: outbound is what leaves through the NAT
        // gateways (the chart shows both directions; one column keeps the row within 140).
        C::spark("OUT/s", 20, |i| Some(Spark::of(cat::instance_network_out(i)))),
        C::new("CPU USED", 11, |i| {
            known(i, || usage(i.cpu_registered, i.cpu_remaining))
        })
        .by(|i| i.cpu_registered.saturating_sub(i.cpu_remaining) as f64),
        C::new("MEM USED", 13, |i| {
            known(i, || usage(i.memory_registered, i.memory_remaining))
        })
        .by(|i| i.memory_registered.saturating_sub(i.memory_remaining) as f64),
        C::live("ALARM", 5, |i, ctx| alarm_badge(ctx, &cat::instance_row(i))).styled(|_, t| t.error),
    ]
}

pub fn key(i: &Instance) -> &str {
    &i.arn
}
