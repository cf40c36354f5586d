use crate::model::Service;
use crate::ui::format::{age_opt, or_dash};
use crate::ui::table::Column;

use super::state_style;

/// Column of this pane (named once so the closures below infer their item type).
type C = Column<Service>;

fn rollout(s: &Service) -> String {
    s.primary_deployment()
        .map_or_else(|| "-".into(), |d| or_dash(&d.rollout_state))
}

pub fn columns() -> Vec<Column<Service>> {
    vec![
        C::fill("NAME", 16, |s, _| s.name.clone()),
        C::new("STATUS", 8, |s, _| s.status.clone()).styled(|s, t| state_style(&s.status, t)),
        C::new("DESIRED", 7, |s, _| s.desired.to_string()).by(|s| s.desired as f64),
        C::new("RUNNING", 7, |s, _| s.running.to_string())
            .by(|s| s.running as f64)
            .styled(|s, t| {
                if s.running < s.desired {
                    t.warn
                } else {
                    t.base
                }
            }),
        C::new("PENDING", 7, |s, _| s.pending.to_string())
            .by(|s| s.pending as f64)
            .styled(|s, t| if s.pending > 0 { t.warn } else { t.base }),
        C::new("ROLLOUT", 11, |s, _| rollout(s)).styled(|s, t| state_style(&rollout(s), t)),
        C::fill("TASK DEF", 14, |s, _| s.task_definition.to_string()),
        C::new("LAUNCH", 8, |s, _| or_dash(&s.launch_type)),
        C::new("DEPLOYED", 8, |s, now| age_opt(now, s.last_deployment_at())).by(|s| {
            -s.last_deployment_at()
                .map_or(f64::MIN, |t| t.timestamp() as f64)
        }),
    ]
}

pub fn key(s: &Service) -> &str {
    &s.name
}
