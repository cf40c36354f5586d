//! The log pane: which streams it follows, the lines it holds (bounded), and how the operator
//! is looking at them (paused, searching, filtered, wrapped, zoomed).

use std::collections::{HashSet, VecDeque};

use crate::model::{LogEvent, LogStreamRef, LogSubject, Time};
use crate::sanitize;

/// Lines kept per pane unless the config says otherwise; the oldest go first.
pub const DEFAULT_CAP: usize = 20_000;
/// Lines read before following starts, and per "older" request.
pub const BACKFILL: usize = 200;

/// How new lines arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum LogMode {
    /// Finding the streams (task definitions, the service's tasks).
    Resolving,
    /// Reading the last lines before following.
    Backfilling,
    /// CloudWatch Logs Live Tail: pushed about once a second.
    LiveTail,
    /// FilterLogEvents every few seconds; `why` says why not Live Tail.
    Polling { why: String },
    /// Nothing can be followed; the reason in plain words.
    Failed(String),
}

impl LogMode {
    pub fn label(&self) -> String {
        match self {
            LogMode::Resolving => "finding log streams…".into(),
            LogMode::Backfilling => "reading recent lines…".into(),
            LogMode::LiveTail => "live tail".into(),
            LogMode::Polling { .. } => "polling every 2s".into(),
            LogMode::Failed(why) => why.clone(),
        }
    }
}

/// One line, ready to draw: sanitized once on arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: Time,
    /// Container name or short task id.
    pub label: String,
    /// The text without any control sequence (what search matches and `y` copies).
    pub text: String,
    /// The original text when it carried SGR colours, to draw them as styles.
    pub colored: Option<String>,
}

impl LogLine {
    pub fn from_event(event: &LogEvent, label: &str) -> Self {
        let text = sanitize::clean(event.message.trim_end_matches(['\n', '\r'])).into_owned();
        // Only lines that had escape sequences keep the original, for their colours.
        let colored = (event.message.contains('\x1b') && event.message.contains('m'))
            .then(|| event.message.trim_end_matches(['\n', '\r']).to_string());
        LogLine {
            at: event.at,
            label: label.to_string(),
            text,
            colored,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogPane {
    /// Identifies the pane's background work (Live Tail) to the runtime.
    pub id: u64,
    pub title: String,
    pub subject: LogSubject,
    pub streams: Vec<LogStreamRef>,
    pub mode: LogMode,
    /// A transient problem (a failed poll) shown next to the mode, cleared by the next success.
    pub error: Option<String>,
    pub lines: VecDeque<LogLine>,
    pub cap: usize,
    /// Lines dropped at the front because of the cap.
    pub dropped: usize,
    /// Event ids already held at the newest timestamps, so overlapping polls add nothing twice.
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
    /// Newest and oldest event times held (the next poll starts at `newest`).
    pub newest: Option<Time>,
    pub oldest: Option<Time>,
    /// Paused: new lines keep arriving into the buffer but the view stays put.
    pub paused: bool,
    /// Lines that arrived while paused.
    pub unseen: usize,
    /// Index (in the shown lines) of the line under the cursor; `None` follows the bottom.
    pub cursor: Option<usize>,
    search: Option<String>,
    /// Lines matching the search, kept up to date as lines come and go (not counted per frame).
    pub matching: usize,
    /// `&`: show only lines matching the search.
    pub only_matching: bool,
    pub wrap: bool,
    pub timestamps: bool,
    /// Full screen instead of sharing the screen with the list.
    pub zoom: bool,
    /// Share of the body the pane takes when split, in percent.
    pub height_pct: u16,
    /// Keys go to the log pane (else to the list above it).
    pub focused: bool,
    /// A poll or an "older" read is under way (sent at).
    pub in_flight: Option<Time>,
    pub older_in_flight: bool,
    pub last_poll: Option<Time>,
    /// The next poll starts after the newest line instead of overlapping (after Live Tail).
    pub no_overlap: bool,
}

impl LogPane {
    pub fn new(id: u64, title: String, subject: LogSubject, cap: usize) -> Self {
        LogPane {
            id,
            title,
            subject,
            streams: Vec::new(),
            mode: LogMode::Resolving,
            error: None,
            lines: VecDeque::new(),
            cap: cap.max(1),
            dropped: 0,
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            newest: None,
            oldest: None,
            paused: false,
            unseen: 0,
            cursor: None,
            search: None,
            matching: 0,
            only_matching: false,
            wrap: false,
            timestamps: true,
            zoom: false,
            height_pct: 60,
            focused: true,
            in_flight: None,
            older_in_flight: false,
            last_poll: None,
            no_overlap: false,
        }
    }

    fn label_of(&self, event: &LogEvent) -> String {
        self.streams
            .iter()
            .find(|s| s.stream == event.stream && s.group == event.group)
            .or_else(|| self.streams.iter().find(|s| s.stream == event.stream))
            .map_or_else(|| event.stream.clone(), |s| s.label.clone())
    }

    /// Whether an event was already taken (same id): polls overlap on the newest timestamp.
    fn first_sight(&mut self, event: &LogEvent) -> bool {
        if !self.seen.insert(event.id.clone()) {
            return false;
        }
        self.seen_order.push_back(event.id.clone());
        // Ids are only needed around the newest timestamp; keep a bounded window of them.
        while self.seen_order.len() > 10_000 {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// New events at the end (follow, poll). Returns how many lines were added.
    pub fn append(&mut self, mut events: Vec<LogEvent>) -> usize {
        events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        let mut added = 0;
        for event in events {
            if !self.first_sight(&event) {
                continue;
            }
            let line = LogLine::from_event(&event, &self.label_of(&event));
            self.newest = Some(self.newest.map_or(event.at, |n| n.max(event.at)));
            self.oldest = Some(self.oldest.map_or(event.at, |o| o.min(event.at)));
            // Live Tail and polls can deliver slightly out of order: keep the buffer sorted.
            self.matching += usize::from(self.matches(&line));
            let at = self.lines.partition_point(|l| l.at <= line.at);
            if at == self.lines.len() {
                self.lines.push_back(line);
            } else {
                self.lines.insert(at, line);
            }
            added += 1;
        }
        if self.paused {
            self.unseen += added;
        }
        self.enforce_cap();
        added
    }

    /// Older events at the front (backfill, "older lines").
    pub fn prepend(&mut self, events: Vec<LogEvent>) -> usize {
        let before = self.lines.len();
        let fresh: Vec<LogEvent> = events
            .into_iter()
            .filter(|e| self.seen.insert(e.id.clone()))
            .collect();
        let mut lines: Vec<LogLine> = fresh
            .iter()
            .map(|e| LogLine::from_event(e, &self.label_of(e)))
            .collect();
        lines.sort_by_key(|l| l.at);
        for e in &fresh {
            self.oldest = Some(self.oldest.map_or(e.at, |o| o.min(e.at)));
            self.newest = Some(self.newest.map_or(e.at, |n| n.max(e.at)));
        }
        for line in lines.into_iter().rev() {
            self.matching += usize::from(self.matches(&line));
            self.lines.push_front(line);
        }
        let added = self.lines.len() - before;
        // A cursor counts shown lines from the top: older shown lines above it move it down.
        let shown_added = if self.filtering() {
            self.lines
                .iter()
                .take(added)
                .filter(|l| self.matches(l))
                .count()
        } else {
            added
        };
        if let Some(c) = self.cursor.as_mut() {
            *c += shown_added;
        }
        self.enforce_cap();
        added
    }

    fn enforce_cap(&mut self) {
        while self.lines.len() > self.cap {
            if let Some(gone) = self.lines.pop_front() {
                let matched = self.matches(&gone);
                self.matching -= usize::from(matched);
                if (matched || !self.filtering())
                    && let Some(c) = self.cursor.as_mut()
                {
                    *c = c.saturating_sub(1);
                }
            }
            self.dropped += 1;
        }
        if let Some(first) = self.lines.front() {
            self.oldest = Some(first.at);
        }
    }

    pub fn search(&self) -> Option<&str> {
        self.search.as_deref()
    }

    /// Sets (or clears) the search and counts the lines it matches.
    pub fn set_search(&mut self, search: Option<String>) {
        self.search = search.filter(|s| !s.is_empty());
        self.matching = self.lines.iter().filter(|l| self.matches(l)).count();
        if self.search.is_none() {
            self.only_matching = false;
        }
    }

    /// Whether `line` matches the search (case-insensitive, literal).
    pub fn matches(&self, line: &LogLine) -> bool {
        match &self.search {
            Some(needle) if !needle.is_empty() => contains_ignore_case(&line.text, needle),
            _ => false,
        }
    }

    /// `&` with a search: only matching lines are shown.
    fn filtering(&self) -> bool {
        self.only_matching && self.search.as_deref().is_some_and(|s| !s.is_empty())
    }

    /// Indices into `lines` of what is shown (all, or only matches under `&`).
    pub fn shown(&self) -> Vec<usize> {
        if self.filtering() {
            (0..self.lines.len())
                .filter(|&i| self.matches(&self.lines[i]))
                .collect()
        } else {
            (0..self.lines.len()).collect()
        }
    }

    /// `f`: pause keeps the view still while lines keep arriving; resume jumps to the end.
    pub fn toggle_follow(&mut self) {
        self.paused = !self.paused;
        if self.paused {
            // Hold the view on the line at the bottom now; what arrives goes below it.
            if self.cursor.is_none() {
                self.cursor = self.shown().len().checked_sub(1);
            }
        } else {
            self.unseen = 0;
            self.cursor = None;
        }
    }

    /// The next (or previous) matching shown line from the cursor, wrapping around.
    pub fn find(&self, forward: bool) -> Option<usize> {
        let shown = self.shown();
        if shown.is_empty() {
            return None;
        }
        let here = self.cursor.unwrap_or(shown.len() - 1);
        let n = shown.len();
        (1..=n)
            .map(|step| {
                if forward {
                    (here + step) % n
                } else {
                    (here + n - step % n) % n
                }
            })
            .find(|&i| self.matches(&self.lines[shown[i]]))
    }

    /// The whole buffer as plain text, one line per event, for `S`.
    pub fn export(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&format!(
                "{} {} {}\n",
                line.at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                line.label,
                line.text
            ));
        }
        out
    }

    /// The text of the line under the cursor (or the last shown), for `y`.
    pub fn current_line(&self) -> Option<&LogLine> {
        let shown = self.shown();
        let i = self.cursor.unwrap_or(shown.len().checked_sub(1)?);
        shown.get(i).map(|&i| &self.lines[i])
    }
}

/// Case-insensitive substring test without allocating for ASCII needles.
pub fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    if needle.is_ascii() {
        let needle = needle.as_bytes();
        haystack
            .as_bytes()
            .windows(needle.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(needle))
    } else {
        haystack.to_lowercase().contains(&needle.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Time {
        Time::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn event(id: &str, s: i64, message: &str) -> LogEvent {
        LogEvent {
            id: id.into(),
            at: t(s),
            group: "/ecs/cart".into(),
            stream: "ecs/app/abc".into(),
            message: message.into(),
        }
    }

    fn pane(cap: usize) -> LogPane {
        let mut p = LogPane::new(
            1,
            "logs".into(),
            LogSubject::Service {
                cluster: "prod".into(),
                service: "cart".into(),
            },
            cap,
        );
        p.streams = vec![LogStreamRef {
            group: "/ecs/cart".into(),
            region: None,
            stream: "ecs/app/abc".into(),
            label: "abc".into(),
        }];
        p
    }

    fn texts(p: &LogPane) -> Vec<&str> {
        p.lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn overlapping_polls_add_each_event_once() {
        let mut p = pane(100);
        assert_eq!(p.append(vec![event("1", 1, "a"), event("2", 2, "b")]), 2);
        assert_eq!(p.append(vec![event("2", 2, "b"), event("3", 2, "c")]), 1);
        assert_eq!(texts(&p), vec!["a", "b", "c"]);
        assert_eq!(p.newest, Some(t(2)));
    }

    #[test]
    fn out_of_order_arrivals_are_put_in_time_order() {
        let mut p = pane(100);
        p.append(vec![event("1", 1, "a"), event("3", 3, "c")]);
        p.append(vec![event("2", 2, "b")]);
        assert_eq!(texts(&p), vec!["a", "b", "c"]);
    }

    #[test]
    fn the_cap_drops_the_oldest_lines() {
        let mut p = pane(3);
        p.append(
            (0..5)
                .map(|i| event(&i.to_string(), i, &i.to_string()))
                .collect(),
        );
        assert_eq!(texts(&p), vec!["2", "3", "4"]);
        assert_eq!(p.dropped, 2);
        assert_eq!(p.oldest, Some(t(2)));
    }

    #[test]
    fn paused_panes_count_what_arrives() {
        let mut p = pane(100);
        p.append(vec![event("1", 1, "a")]);
        p.toggle_follow();
        p.append(vec![event("2", 2, "b"), event("3", 3, "c")]);
        assert_eq!(p.unseen, 2);
        p.toggle_follow();
        assert_eq!(p.unseen, 0);
    }

    #[test]
    fn older_lines_go_on_top_and_keep_the_cursor_on_its_line() {
        let mut p = pane(100);
        p.append(vec![event("5", 5, "e"), event("6", 6, "f")]);
        p.cursor = Some(1);
        p.prepend(vec![event("1", 1, "a"), event("2", 2, "b")]);
        assert_eq!(texts(&p), vec!["a", "b", "e", "f"]);
        assert_eq!(p.current_line().unwrap().text, "f");
    }

    #[test]
    fn search_finds_forward_and_back_and_filters() {
        let mut p = pane(100);
        p.append(vec![
            event("1", 1, "GET /cart 200"),
            event("2", 2, "ERROR timeout"),
            event("3", 3, "GET /cart 200"),
            event("4", 4, "error: again"),
        ]);
        p.set_search(Some("error".into()));
        assert_eq!(p.matching, 2);
        p.cursor = Some(0);
        assert_eq!(p.find(true), Some(1));
        p.cursor = Some(1);
        assert_eq!(p.find(true), Some(3));
        assert_eq!(p.find(false), Some(3), "backwards wraps around");
        p.only_matching = true;
        assert_eq!(p.shown(), vec![1, 3]);
    }

    #[test]
    fn lines_are_sanitized_on_arrival_and_colours_kept_apart() {
        let mut p = pane(100);
        p.append(vec![event(
            "1",
            1,
            "\x1b[31mERROR\x1b[0m \x1b]0;owned\x07boom\n",
        )]);
        let line = &p.lines[0];
        assert_eq!(line.text, "ERROR boom");
        assert!(line.colored.is_some());
        assert_eq!(line.label, "abc");
    }

    #[test]
    fn under_only_matching_the_cursor_stays_on_its_line_as_lines_come_and_go() {
        let mut p = pane(6);
        p.append(vec![
            event("3", 3, "ERROR c"),
            event("4", 4, "ok d"),
            event("5", 5, "ERROR e"),
        ]);
        p.set_search(Some("error".into()));
        p.only_matching = true;
        p.cursor = Some(1); // "ERROR e"
        p.prepend(vec![event("1", 1, "ERROR a"), event("2", 2, "ok b")]);
        assert_eq!(p.current_line().unwrap().text, "ERROR e");
        p.append((6..9).map(|i| event(&i.to_string(), i, "ok")).collect());
        assert_eq!(
            p.current_line().unwrap().text,
            "ERROR e",
            "the cap dropped lines above"
        );
    }
}
