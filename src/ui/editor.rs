//! A text field as drawn: the dialogs' and the prompt's editors.

/// A text field's text, shown selected (as the selected row is) while what is typed next
/// would replace it — on the field that has the keys only.
pub fn editor_text<'a>(
    editor: &crate::state::LineEditor,
    focused: bool,
    style: ratatui::style::Style,
    theme: &crate::theme::Theme,
) -> ratatui::text::Span<'a> {
    let style = if focused && editor.selected {
        theme.selected
    } else {
        style
    };
    ratatui::text::Span::styled(editor.text.clone(), style)
}
