//! What each rule and correlation says about itself for the catalog (`ecsmon rules`, `:rules`,
//! `docs/triage.md`): a line of description, the severities it can report, what it reads and
//! its thresholds and holds. Each rule file keeps its [`About`] next to its constants and
//! builds the limits from them, so the catalog cannot drift from the code.
//!
//! Adding a rule: write `pub const ABOUT: About = About { … }` in its file and name it in the
//! registry entry (`Rule { id, check, about: &its::ABOUT }`).

use chrono::TimeDelta;

use super::state_rules::duration;
use crate::model::Severity;

/// A rule's (or correlation's) catalog entry, apart from its id.
pub struct About {
    /// What it detects, in one line.
    pub summary: &'static str,
    /// Every severity it can report, lowest first.
    pub severities: &'static [Severity],
    pub reads: &'static [Read],
    pub limits: &'static [Limit],
}

/// One thing a rule reads.
pub enum Read {
    /// An AWS API call and what of its answer (`ECS DescribeTasks: stopped tasks' stopCode`).
    Api(&'static str),
    /// A CloudWatch series: `namespace MetricName statistic` (`AWS/ECS CPUUtilization Average`).
    Metric(&'static str),
    /// A pattern matched against container log lines (the rule's own regex source).
    Log(&'static str),
}

impl Read {
    pub fn kind(&self) -> &'static str {
        match self {
            Read::Api(_) => "api",
            Read::Metric(_) => "metric",
            Read::Log(_) => "log",
        }
    }

    pub fn text(&self) -> &'static str {
        match self {
            Read::Api(t) | Read::Metric(t) | Read::Log(t) => t,
        }
    }
}

/// A threshold or hold: `what` followed by the value (`"CPU ≥"` and 90 % read `CPU ≥ 90 %`).
pub struct Limit {
    pub what: &'static str,
    pub value: Value,
}

/// A limit's value, taken from the rule's own constant.
pub enum Value {
    /// A time span: a hold, a window.
    Span(TimeDelta),
    /// Whole minutes (rules that count their windows in 1-minute samples).
    Minutes(i64),
    /// A percentage as written (90.0 = 90 %).
    Percent(f64),
    /// A share (0.9 = 90 %).
    Share(f64),
    Count(usize),
    /// Hours, possibly fractional (`6.0` = `6h`).
    Hours(f64),
    /// A multiple (2.0 = 2×).
    Factor(f64),
    /// A plain number with its unit (`5.0, "credits"`).
    Number(f64, &'static str),
    /// Whole days (`30 days`).
    Days(i64),
    /// Written as is (a version: `1.50.2`).
    Text(&'static str),
}

impl Value {
    pub fn text(&self) -> String {
        match *self {
            Value::Span(d) => duration(d),
            Value::Minutes(m) => duration(TimeDelta::minutes(m)),
            Value::Percent(p) => format!("{} %", number(p)),
            Value::Share(s) => format!("{} %", number(s * 100.0)),
            Value::Count(n) => n.to_string(),
            Value::Hours(h) => format!("{}h", number(h)),
            Value::Factor(f) => format!("{}×", number(f)),
            Value::Number(n, "") => number(n),
            Value::Number(n, unit) => format!("{} {unit}", number(n)),
            Value::Days(d) => format!("{d} days"),
            Value::Text(t) => t.to_string(),
        }
    }
}

impl Limit {
    pub fn text(&self) -> String {
        format!("{} {}", self.what, self.value.text())
    }
}

/// `90`, `2.5`, `0.25`: no trailing zeros.
fn number(n: f64) -> String {
    let rounded = (n * 1000.0).round() / 1000.0;
    let s = format!("{rounded:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Shorthands for the limits table of a rule.
pub const fn limit(what: &'static str, value: Value) -> Limit {
    Limit { what, value }
}

pub const INFO: &[Severity] = &[Severity::Info];
pub const WARNING: &[Severity] = &[Severity::Warning];
pub const CRITICAL: &[Severity] = &[Severity::Critical];
pub const WARNING_CRITICAL: &[Severity] = &[Severity::Warning, Severity::Critical];
pub const INFO_WARNING: &[Severity] = &[Severity::Info, Severity::Warning];
pub const INFO_CRITICAL: &[Severity] = &[Severity::Info, Severity::Critical];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_the_way_operators_write_them() {
        assert_eq!(Value::Span(TimeDelta::minutes(15)).text(), "15m");
        assert_eq!(Value::Span(TimeDelta::seconds(90)).text(), "1m30s");
        assert_eq!(Value::Span(TimeDelta::hours(24)).text(), "1d00h");
        assert_eq!(Value::Minutes(10).text(), "10m");
        assert_eq!(Value::Percent(90.0).text(), "90 %");
        assert_eq!(Value::Share(0.02).text(), "2 %");
        assert_eq!(Value::Share(0.9).text(), "90 %");
        assert_eq!(Value::Count(3).text(), "3");
        assert_eq!(Value::Hours(1.5).text(), "1.5h");
        assert_eq!(Value::Factor(1.2).text(), "1.2×");
        assert_eq!(Value::Number(5.0, "credits").text(), "5 credits");
        assert_eq!(Value::Text("1.50.2").text(), "1.50.2");
        assert_eq!(Value::Days(30).text(), "30 days");
        assert_eq!(limit("CPU ≥", Value::Percent(85.0)).text(), "CPU ≥ 85 %");
    }
}
