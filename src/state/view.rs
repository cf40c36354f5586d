//! One entry of the navigation stack: a pane plus how the operator is looking at it
//! (selection, scroll, filter, sort). `rows` is derived from the data and rebuilt by
//! `crate::update::rows` whenever the data, filter or sort changes.

use super::{Pane, RowCache};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SortSpec {
    /// Index into the pane's columns; `None` keeps the source's natural order.
    pub column: Option<usize>,
    pub reverse: bool,
}

/// What the rows on screen were at the last answer, for the focused pane's cadence
/// (`poll::cadence`): a pane of thousands gets an answer unlike the one before whenever a task
/// starts or stops anywhere in it, so whether the operator saw anything move is whether these
/// rows did. Worked out only for answers printed row by row (the big ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnScreen {
    /// The answer (`Slot::version`) it was worked out for: another answer, and it says nothing.
    pub version: u64,
    /// The rows on screen, in order: their prints, hashed together.
    pub print: u64,
    /// When they last differed from the rows on screen before.
    pub changed_at: crate::model::Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub pane: Pane,
    /// Index into `rows` of the selected row.
    pub selected: usize,
    /// First row drawn.
    pub offset: usize,
    /// The filter text as typed; `!` in front inverts it.
    pub filter: String,
    pub sort: SortSpec,
    /// Indices into the pane's items, filtered and sorted: what the table shows, in order.
    pub rows: Vec<usize>,
    /// Total items before filtering.
    pub total: usize,
    /// Identity (ARN or name) of the selected item, so a refresh that reorders rows keeps it.
    pub selected_key: Option<String>,
    /// Replaces the pane's own breadcrumb segment (e.g. an EC2 id for an instance's tasks).
    pub label: Option<String>,
    /// What rebuilding `rows` reuses while the data stays the same answer.
    pub cache: RowCache,
    /// The rows on screen at the last big answer.
    pub on_screen: Option<OnScreen>,
}

impl View {
    pub fn new(pane: Pane) -> Self {
        View {
            pane,
            selected: 0,
            offset: 0,
            filter: String::new(),
            sort: SortSpec::default(),
            rows: Vec::new(),
            total: 0,
            selected_key: None,
            label: None,
            cache: RowCache::default(),
            on_screen: None,
        }
    }

    pub fn with_selected_key(mut self, key: Option<String>) -> Self {
        self.selected_key = key;
        self
    }

    pub fn with_label(mut self, label: Option<String>) -> Self {
        self.label = label;
        self
    }

    /// Index into the pane's items of the selected row.
    pub fn selected_item(&self) -> Option<usize> {
        self.rows.get(self.selected).copied()
    }

    pub fn crumb(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.pane.crumb())
    }

    /// Moves the selection by `delta` rows, clamped to the table.
    pub fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            self.selected = 0;
            return;
        }
        let last = self.rows.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
    }

    pub fn select(&mut self, index: usize) {
        self.selected = index.min(self.rows.len().saturating_sub(1));
    }

    /// Keeps the selected row inside a window of `height` rows starting at `offset`.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let max_offset = self.rows.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view_with(n: usize) -> View {
        let mut v = View::new(Pane::Clusters);
        v.rows = (0..n).collect();
        v
    }

    #[test]
    fn moving_clamps_at_both_ends() {
        let mut v = view_with(3);
        v.move_by(-5);
        assert_eq!(v.selected, 0);
        v.move_by(10);
        assert_eq!(v.selected, 2);
        let mut empty = view_with(0);
        empty.move_by(1);
        assert_eq!(empty.selected, 0);
    }

    #[test]
    fn scrolling_follows_the_selection() {
        let mut v = view_with(100);
        v.select(50);
        v.scroll_into_view(10);
        assert_eq!(v.offset, 41);
        v.select(3);
        v.scroll_into_view(10);
        assert_eq!(v.offset, 3);
        v.rows.truncate(5);
        v.select(4);
        v.scroll_into_view(10);
        assert_eq!(v.offset, 0);
    }
}
