use crate::model::Container;
use crate::ui::format::{opt, or_dash};
use crate::ui::table::Column;

use super::state_style;

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Container>;

pub fn columns() -> Vec<Column<Container>> {
    vec![
        C::new("NAME", 16, |c, _| c.name.clone()),
        C::fill("IMAGE", 20, |c, _| c.image.clone()),
        C::new("STATUS", 9, |c, _| c.last_status.clone())
            .styled(|c, t| state_style(&c.last_status, t)),
        C::new("HEALTH", 9, |c, _| or_dash(&c.health)).styled(|c, t| state_style(&c.health, t)),
        C::new("EXIT", 4, |c, _| opt(c.exit_code))
            .by(|c| c.exit_code.map_or(-1.0, f64::from))
            .styled(|c, t| {
                if c.exit_code.is_some_and(|e| e != 0) {
                    t.error
                } else {
                    t.base
                }
            }),
        C::fill("REASON", 10, |c, _| or_dash(&c.reason)),
        C::new("CPU", 5, |c, _| opt(c.cpu)).by(|c| c.cpu.map_or(-1.0, f64::from)),
        C::new("MEM", 9, |c, _| match (c.memory, c.memory_reservation) {
            (Some(hard), Some(soft)) => format!("{soft}/{hard}"),
            (Some(hard), None) => hard.to_string(),
            (None, Some(soft)) => format!("{soft}/-"),
            (None, None) => "-".into(),
        })
        .by(|c| c.memory.or(c.memory_reservation).map_or(-1.0, f64::from)),
        C::new("EXEC AGENT", 10, |c, _| opt(c.exec_agent.as_deref()))
            .styled(|c, t| state_style(c.exec_agent.as_deref().unwrap_or(""), t)),
    ]
}

pub fn key(c: &Container) -> &str {
    &c.name
}
