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
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineEditor {
    pub text: String,
    pub cursor: usize,
}

/// Prompts are short; a pasted novel is cut here rather than slowing every frame.
pub const MAX_INPUT_CHARS: usize = 256;

impl LineEditor {
    pub fn with_text(text: &str) -> Self {
        LineEditor {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    pub fn insert(&mut self, c: char) {
        if c.is_control() || self.text.chars().count() >= MAX_INPUT_CHARS {
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
        if self.cursor == 0 {
            return;
        }
        self.cursor -= 1;
        let at = self.byte_index(self.cursor);
        self.text.remove(at);
    }

    pub fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_index(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    /// Ctrl-w: delete the word before the cursor, as shells do.
    pub fn delete_word(&mut self) {
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
}
