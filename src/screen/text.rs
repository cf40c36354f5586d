//! A popup's text as the read model holds it: lines of pieces, each with the tone it reads in.
//! `ui/` draws them in the theme's colours; `update/` counts them to keep scrolling inside.

use ratatui::style::Style;

use crate::theme::Theme;

/// How a piece of text reads; the theme decides what that looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Base,
    Dim,
    Title,
    ColumnHeader,
    Ok,
    Warn,
    Error,
    Stale,
}

impl Tone {
    pub fn style(self, t: &Theme) -> Style {
        match self {
            Tone::Base => t.base,
            Tone::Dim => t.dim,
            Tone::Title => t.title,
            Tone::ColumnHeader => t.column_header,
            Tone::Ok => t.ok,
            Tone::Warn => t.warn,
            Tone::Error => t.error,
            Tone::Stale => t.stale,
        }
    }
}

/// One line of a popup: its pieces in order. A blank line has none.
pub type TextLine = Vec<(String, Tone)>;

/// A line of one piece.
pub fn one(text: impl Into<String>, tone: Tone) -> TextLine {
    vec![(text.into(), tone)]
}
