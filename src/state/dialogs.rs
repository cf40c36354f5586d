//! State of the action dialogs and panes: the scale dialog and the target health view.

use crate::model::SourceError;
use crate::model::{ScalingBounds, TargetGroupHealth, Time};

use super::LineEditor;

/// ECS's default quota of tasks per service: a larger count cannot be what was meant.
pub const MAX_DESIRED: u32 = 5_000;

#[derive(Debug, Clone, PartialEq)]
pub struct ScaleDialog {
    pub cluster: String,
    pub service: String,
    pub service_arn: String,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    /// `None` while loading; `Some(Ok(None))`: not an auto scaling target.
    pub bounds: Option<Result<Option<ScalingBounds>, SourceError>>,
    pub editor: LineEditor,
    /// Why the last Enter was refused, or a warning to confirm.
    pub message: Option<String>,
    /// The operator saw the "outside auto scaling's bounds" warning for this value.
    pub warned_for: Option<u32>,
    /// Scaling to zero: the service name must be typed here first.
    pub zero_check: Option<LineEditor>,
    pub scroll: usize,
}

/// The count typed, or why it cannot be one: a whole number from 0 to [`MAX_DESIRED`].
pub fn parse_desired(text: &str) -> Result<u32, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("type the new desired count (a whole number)".into());
    }
    if !text.chars().all(|c| c.is_ascii_digit()) {
        let shown: String = text.chars().take(20).collect();
        let more = if text.chars().count() > 20 { "…" } else { "" };
        return Err(format!(
            "{shown:?}{more} is not a whole number ≥ 0: nothing was sent"
        ));
    }
    match text.parse::<u32>() {
        Ok(n) if n <= MAX_DESIRED => Ok(n),
        _ => Err(format!(
            "more than {MAX_DESIRED} tasks (the ECS quota per service): nothing was sent"
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetHealthView {
    pub cluster: String,
    pub service: String,
    pub service_arn: String,
    pub target_groups: Vec<String>,
    /// `None` while the first answer is awaited.
    pub groups: Option<Vec<TargetGroupHealth>>,
    pub error: Option<String>,
    pub fetched_at: Option<Time>,
    /// Sent at, for the refresh cadence and lost requests.
    pub in_flight: Option<Time>,
    pub last_sent: Option<Time>,
    pub scroll: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_numbers_in_range_are_counts() {
        assert_eq!(parse_desired(" 7 "), Ok(7));
        assert_eq!(parse_desired("0"), Ok(0));
        for bad in ["", "  ", "seven", "-1", "+3", "3.5", "1e3", "٣", "7 tasks"] {
            assert!(parse_desired(bad).is_err(), "{bad:?}");
        }
        let huge = parse_desired("99999999999999999999").unwrap_err();
        assert!(huge.contains("quota"), "{huge}");
        assert!(parse_desired("5001").is_err());
        let paste = "9".repeat(10_000) + "x";
        let e = parse_desired(&paste).unwrap_err();
        assert!(e.len() < 100, "a long paste is cut in the message: {e}");
    }
}
