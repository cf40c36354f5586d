//! Small text formatters shared by the panes, the popups and the export.

use crate::model::Time;

/// Compact age with two units at most: `45s`, `12m`, `3h05m`, `4d02h`. Future times read `0s`.
pub fn age(now: Time, then: Time) -> String {
    span(now - then)
}

/// A length of time as [`age`] writes it (negative reads `0s`).
pub fn span(d: chrono::TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match secs {
        0..60 => format!("{s}s"),
        60..3600 => format!("{m}m{s:02}s"),
        3600..86_400 => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h:02}h"),
    }
}

pub fn age_opt(now: Time, then: Option<Time>) -> String {
    then.map_or_else(|| "-".into(), |t| age(now, t))
}

pub fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.0}%"))
}

pub fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// `-` for empty strings, so blank cells read as "nothing" rather than "missing column".
pub fn or_dash(s: &str) -> String {
    if s.is_empty() { "-".into() } else { s.into() }
}

/// At most `max` characters, the last one `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    if max > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};

    #[test]
    fn ages_use_two_units_at_most() {
        let now = Utc.timestamp_opt(1_000_000, 0).unwrap();
        let ago = |s| age(now, now - TimeDelta::seconds(s));
        assert_eq!(ago(5), "5s");
        assert_eq!(ago(125), "2m05s");
        assert_eq!(ago(3 * 3600 + 5 * 60), "3h05m");
        assert_eq!(ago(4 * 86_400 + 2 * 3600), "4d02h");
        assert_eq!(ago(-30), "0s");
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("prod/payments", 20), "prod/payments");
        assert_eq!(truncate("prod/payments", 6), "prod/…");
        assert_eq!(truncate("abc", 0), "");
    }
}

/// A count with thousands separated: `2,000`.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod grouped_tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(2_000), "2,000");
        assert_eq!(super::grouped(100_000), "100,000");
        assert_eq!(super::grouped(1_234_567), "1,234,567");
    }
}
