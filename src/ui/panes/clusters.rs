use crate::model::Cluster;
use crate::ui::format::{or_dash, pct};
use crate::ui::table::Column;

use super::state_style;

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Cluster>;

pub fn columns() -> Vec<Column<Cluster>> {
    vec![
        C::fill("NAME", 16, |c, _| c.name.clone()),
        C::new("STATUS", 9, |c, _| c.status.clone()).styled(|c, t| state_style(&c.status, t)),
        C::new("SERVICES", 8, |c, _| c.active_services.to_string())
            .by(|c| c.active_services as f64),
        C::new("RUNNING", 7, |c, _| c.running_tasks.to_string()).by(|c| c.running_tasks as f64),
        C::new("PENDING", 7, |c, _| c.pending_tasks.to_string())
            .by(|c| c.pending_tasks as f64)
            .styled(|c, t| if c.pending_tasks > 0 { t.warn } else { t.base }),
        C::new("INSTANCES", 9, |c, _| c.instances.to_string()).by(|c| c.instances as f64),
        C::new("CPU RES", 7, |c, _| pct(c.cpu_reserved_pct))
            .by(|c| c.cpu_reserved_pct.unwrap_or(-1.0)),
        C::new("MEM RES", 7, |c, _| pct(c.memory_reserved_pct))
            .by(|c| c.memory_reserved_pct.unwrap_or(-1.0)),
        C::fill("CAPACITY PROVIDERS", 18, |c, _| {
            or_dash(&c.capacity_providers.join(", "))
        }),
    ]
}

pub fn key(c: &Cluster) -> &str {
    &c.name
}
