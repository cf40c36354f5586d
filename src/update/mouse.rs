//! Mouse: a click selects a row, the wheel scrolls the table or the top popup.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::action::Effect;
use crate::keymap::Command;
use crate::screen::layout;
use crate::state::State;

use super::{keys, rows};

const WHEEL_STEP: usize = 3;

pub fn handle(state: &mut State, ev: MouseEvent) -> Vec<Effect> {
    if !state.mouse {
        return vec![];
    }
    match ev.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let down = ev.kind == MouseEventKind::ScrollDown;
            if let Some(popup) = state.popups.last_mut() {
                let scroll = popup.scroll_mut();
                *scroll = if down {
                    scroll.saturating_add(WHEEL_STEP)
                } else {
                    scroll.saturating_sub(WHEEL_STEP)
                };
                return vec![];
            }
            let command = if down { Command::Down } else { Command::Up };
            let mut effects = Vec::new();
            for _ in 0..WHEEL_STEP {
                effects.extend(keys::run(state, command));
            }
            effects
        }
        MouseEventKind::Down(MouseButton::Left) if state.popups.is_empty() => {
            click(state, ev.column, ev.row);
            vec![]
        }
        _ => vec![],
    }
}

fn click(state: &mut State, column: u16, row: u16) {
    let table = layout::table_rows(layout::list_area(state));
    if !table.contains(ratatui::layout::Position::new(column, row)) {
        return;
    }
    let view = state.focused_mut();
    let index = view.offset + (row - table.y) as usize;
    if index < view.rows.len() {
        view.selected = index;
        let fleet = &state.fleet;
        rows::remember_selection(state.nav.last_mut().expect("never empty"), fleet);
    }
}
