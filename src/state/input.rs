/// Whether keys go to the panes or to a prompt line.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum InputMode {
    #[default]
    Normal,
    /// `/` typed: the filter applies live as it is edited.
    Filter(LineEditor),
    /// `:` typed: a command with completion.
    Command(LineEditor),
    /// `/` in the log pane: a search, applied on Enter.
    LogSearch(LineEditor),
}

/// A single-line editor: text plus a cursor measured in chars.
///
/// A field that opens with text (the current count, the active filter, the last command)
/// opens with all of it `selected`: the first character typed (or a paste) replaces it, the
/// editing keys (backspace, delete, ctrl-w, the arrows, home and end) edit it instead — the
/// selection goes and they act on the text as it stands, so `40` then backspace is `4`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineEditor {
    pub text: String,
    pub cursor: usize,
    /// The whole text is selected: what is typed next replaces it.
    pub selected: bool,
}

/// Prompts are short; a pasted novel is cut here rather than slowing every frame.
pub const MAX_INPUT_CHARS: usize = 256;

impl LineEditor {
    /// Text to edit, the cursor after it.
    pub fn with_text(text: &str) -> Self {
        LineEditor {
            text: text.to_string(),
            cursor: text.chars().count(),
            selected: false,
        }
    }

    /// A pre-filled field: the text shown selected, replaced by what is typed.
    pub fn prefilled(text: &str) -> Self {
        LineEditor {
            selected: !text.is_empty(),
            ..LineEditor::with_text(text)
        }
    }

    /// Selects the whole text (a dialog field getting the keys back).
    pub fn select_all(&mut self) {
        self.selected = !self.text.is_empty();
        self.cursor = self.text.chars().count();
    }

    pub fn clear(&mut self) {
        *self = LineEditor::default();
    }

    pub fn insert(&mut self, c: char) {
        if c.is_control() {
            return;
        }
        if std::mem::take(&mut self.selected) {
            self.clear();
        }
        if self.text.chars().count() >= MAX_INPUT_CHARS {
            return;
        }
        let at = self.byte_index(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    pub fn insert_str(&mut self, s: &str) {
        for c in s.chars() {
            self.insert(c);
        }
    }

    pub fn backspace(&mut self) {
        self.selected = false;
        if self.cursor == 0 {
            return;
        }
        self.cursor -= 1;
        let at = self.byte_index(self.cursor);
        self.text.remove(at);
    }

    pub fn delete(&mut self) {
        self.selected = false;
        if self.cursor < self.text.chars().count() {
            let at = self.byte_index(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn left(&mut self) {
        self.selected = false;
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.selected = false;
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    pub fn home(&mut self) {
        self.selected = false;
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.selected = false;
        self.cursor = self.text.chars().count();
    }

    /// Ctrl-w: delete the word before the cursor, as shells do.
    pub fn delete_word(&mut self) {
        self.selected = false;
        while self.cursor > 0 && self.char_before().is_some_and(char::is_whitespace) {
            self.backspace();
        }
        while self.cursor > 0 && self.char_before().is_some_and(|c| !c.is_whitespace()) {
            self.backspace();
        }
    }

    fn char_before(&self) -> Option<char> {
        self.text.chars().nth(self.cursor.checked_sub(1)?)
    }

    fn byte_index(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }
}

/// What was entered at one prompt (`/` or `:`) this session, oldest first, for `↑` and `↓`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PromptHistory {
    entries: Vec<String>,
    /// While browsing: the entry shown, and what the prompt held before the first `↑`.
    browsing: Option<(usize, String)>,
}

/// A session's worth: older entries go first.
const HISTORY_LEN: usize = 100;

impl PromptHistory {
    /// An entered line becomes the newest entry (once: an older copy is dropped).
    pub fn remember(&mut self, text: &str) {
        self.browsing = None;
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.entries.retain(|e| e != text);
        self.entries.push(text.to_string());
        if self.entries.len() > HISTORY_LEN {
            self.entries.remove(0);
        }
    }

    /// The newest entry.
    pub fn last(&self) -> Option<&str> {
        self.entries.last().map(String::as_str)
    }

    /// A prompt opened: browsing starts again from the newest entry.
    pub fn restart(&mut self) {
        self.browsing = None;
    }

    /// `↑`: the next older entry that differs from what the prompt shows.
    pub fn older(&mut self, shown: &str) -> Option<String> {
        let (from, draft) = match self.browsing.take() {
            Some((at, draft)) => (at, draft),
            None => (self.entries.len(), shown.to_string()),
        };
        let found = self.entries[..from].iter().rposition(|e| e != shown);
        match found {
            Some(at) => {
                self.browsing = Some((at, draft));
                Some(self.entries[at].clone())
            }
            None => {
                // Nothing older: stay where we were.
                if from < self.entries.len() {
                    self.browsing = Some((from, draft));
                }
                None
            }
        }
    }

    /// `↓`: the next newer entry, and past the newest what the prompt held before `↑`.
    pub fn newer(&mut self) -> Option<String> {
        let (at, draft) = self.browsing.take()?;
        match (at + 1..self.entries.len()).find(|&i| self.entries[i] != draft) {
            Some(next) => {
                let entry = self.entries[next].clone();
                self.browsing = Some((next, draft));
                Some(entry)
            }
            None => Some(draft),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_in_the_middle_of_multibyte_text() {
        let mut e = LineEditor::with_text("çà");
        e.left();
        e.insert('x');
        assert_eq!(e.text, "çxà");
        e.backspace();
        e.backspace();
        assert_eq!(e.text, "à");
        assert_eq!(e.cursor, 0);
    }

    #[test]
    fn refuses_control_characters_and_caps_length() {
        let mut e = LineEditor::default();
        e.insert_str("a\u{1b}[2Jb\n");
        assert_eq!(e.text, "a[2Jb");
        e.insert_str(&"x".repeat(10_000));
        assert_eq!(e.text.chars().count(), MAX_INPUT_CHARS);
    }

    #[test]
    fn ctrl_w_deletes_the_previous_word() {
        let mut e = LineEditor::with_text("tasks cart  ");
        e.delete_word();
        assert_eq!(e.text, "tasks ");
    }

    #[test]
    fn a_prefilled_field_is_replaced_by_the_first_key_typed() {
        let mut e = LineEditor::prefilled("4");
        assert!(e.selected);
        e.insert('7');
        assert_eq!(e.text, "7");
        assert!(!e.selected);
        // A paste replaces it too.
        let mut e = LineEditor::prefilled("cart");
        e.insert_str("ledger");
        assert_eq!(e.text, "ledger");
        // A control character is not typing: the selection stays.
        let mut e = LineEditor::prefilled("cart");
        e.insert('\u{1b}');
        assert_eq!((e.text.as_str(), e.selected), ("cart", true));
    }

    #[test]
    fn editing_keys_edit_the_selected_text_instead_of_replacing_it() {
        let mut e = LineEditor::prefilled("40");
        e.backspace();
        assert_eq!((e.text.as_str(), e.selected), ("4", false));
        e.insert('2');
        assert_eq!(e.text, "42", "typed after an edit: appended, not replacing");
        let mut e = LineEditor::prefilled("40");
        e.delete();
        assert_eq!(
            (e.text.as_str(), e.selected),
            ("40", false),
            "nothing after the cursor"
        );
        e.insert('1');
        assert_eq!(e.text, "401");
        let mut e = LineEditor::prefilled("my cart");
        e.delete_word();
        assert_eq!((e.text.as_str(), e.selected), ("my ", false));
        let mut e = LineEditor::prefilled("12");
        e.end();
        e.backspace();
        e.insert('5');
        assert_eq!(e.text, "15");
        let mut e = LineEditor::prefilled("12");
        e.home();
        e.insert('3');
        assert_eq!(e.text, "312");
        let mut e = LineEditor::prefilled("12");
        e.left();
        e.insert('0');
        assert_eq!(e.text, "102");
        assert_eq!(LineEditor::prefilled(""), LineEditor::default());
    }

    #[test]
    fn history_goes_back_and_forth_skipping_what_is_shown() {
        let mut h = PromptHistory::default();
        assert_eq!(h.older("x"), None);
        for e in ["api", "cart", " api ", "", "web"] {
            h.remember(e);
        }
        assert_eq!(h.last(), Some("web"));
        // The prompt shows the newest one already (selected): ↑ goes past it.
        assert_eq!(h.older("web").as_deref(), Some("api"));
        assert_eq!(h.older("api").as_deref(), Some("cart"));
        assert_eq!(h.older("cart"), None, "nothing older");
        assert_eq!(h.newer().as_deref(), Some("api"));
        assert_eq!(h.newer().as_deref(), Some("web"), "back to what was shown");
        assert_eq!(h.newer(), None, "not browsing any more");
        h.restart();
        assert_eq!(h.older("").as_deref(), Some("web"));
        assert_eq!(h.newer().as_deref(), Some(""), "the empty draft comes back");
    }
}
