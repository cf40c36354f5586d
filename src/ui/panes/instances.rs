use crate::model::Instance;
use crate::ui::format::or_dash;
use crate::ui::table::Column;

use super::state_style;

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Instance>;

/// `used/registered` for one resource, e.g. `3584/4096`.
fn usage(registered: u32, remaining: u32) -> String {
    format!("{}/{registered}", registered.saturating_sub(remaining))
}

pub fn columns() -> Vec<Column<Instance>> {
    vec![
        C::new("EC2 ID", 19, |i, _| i.ec2_instance_id.clone()),
        C::new("TYPE", 11, |i, _| or_dash(&i.instance_type)),
        C::new("AZ", 10, |i, _| or_dash(&i.availability_zone)),
        C::new("STATUS", 9, |i, _| i.status.clone()).styled(|i, t| state_style(&i.status, t)),
        C::new("AGENT", 5, |i, _| {
            if i.agent_connected { "up" } else { "DOWN" }.into()
        })
        .styled(|i, t| if i.agent_connected { t.ok } else { t.error }),
        C::new("VERSION", 8, |i, _| or_dash(&i.agent_version)),
        C::new("TASKS", 5, |i, _| i.running_tasks.to_string()).by(|i| i.running_tasks as f64),
        C::new("CPU USED", 11, |i, _| {
            usage(i.cpu_registered, i.cpu_remaining)
        })
        .by(|i| i.cpu_registered.saturating_sub(i.cpu_remaining) as f64),
        C::new("MEM USED", 13, |i, _| {
            usage(i.memory_registered, i.memory_remaining)
        })
        .by(|i| i.memory_registered.saturating_sub(i.memory_remaining) as f64),
    ]
}

pub fn key(i: &Instance) -> &str {
    &i.arn
}
