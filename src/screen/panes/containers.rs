use crate::model::Container;
use crate::screen::format::{opt, or_dash};
use crate::screen::table::Column;

use super::state_style;

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Container>;

pub fn columns() -> Vec<Column<Container>> {
    vec![
        C::new("NAME", 16, |c| c.name.to_string()),
        C::fill("IMAGE", 20, |c| short_image(&c.image).to_string()),
        C::new("STATUS", 9, |c| c.last_status.to_string())
            .styled(|c, t| state_style(&c.last_status, t)),
        C::new("HEALTH", 9, |c| or_dash(&c.health)).styled(|c, t| state_style(&c.health, t)),
        C::new("EXIT", 4, |c| opt(c.exit_code))
            .by(|c| c.exit_code.map_or(-1.0, f64::from))
            .styled(|c, t| {
                if c.exit_code.is_some_and(|e| e != 0) {
                    t.error
                } else {
                    t.base
                }
            }),
        C::fill("REASON", 10, |c| or_dash(&c.reason)).up_to(200),
        C::new("CPU", 5, |c| opt(c.cpu)).by(|c| c.cpu.map_or(-1.0, f64::from)),
        C::new("MEM", 9, |c| match (c.memory, c.memory_reservation) {
            (Some(hard), Some(soft)) => format!("{soft}/{hard}"),
            (Some(hard), None) => hard.to_string(),
            (None, Some(soft)) => format!("{soft}/-"),
            (None, None) => "-".into(),
        })
        .by(|c| c.memory.or(c.memory_reservation).map_or(-1.0, f64::from)),
        C::new("EXEC AGENT", 10, |c| opt(c.exec_agent.as_deref()))
            .styled(|c, t| state_style(c.exec_agent.as_deref().unwrap_or(""), t)),
    ]
}

/// `repo:tag` without the registry host: the part that changes between deploys. The full
/// reference is in describe.
pub fn short_image(image: &str) -> &str {
    match image.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') => rest,
        _ => image,
    }
}

pub fn key(c: &Container) -> &str {
    &c.name
}

#[cfg(test)]
mod tests {
    use super::short_image;

    #[test]
    fn registry_hosts_are_dropped_from_images() {
        let ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cart:2026.11.20-3";
        assert_eq!(short_image(ecr), "cart:2026.11.20-3");
        assert_eq!(short_image("localhost:5000/app:1"), "app:1");
        assert_eq!(short_image("datadog/agent:7"), "datadog/agent:7");
        assert_eq!(short_image("nginx"), "nginx");
    }
}
