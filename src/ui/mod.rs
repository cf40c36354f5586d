//! Drawing. Pure: reads `State` and what `screen/` makes of it, never changes it, never does I/O;
//! `now` comes from the state.

mod body;
mod chart;
mod crumb;
mod editor;
mod findings;
mod footer;
mod forwards;
mod header;
mod logs;
mod popups;
mod spark;
mod status;
mod table;
mod taskdefs;
mod timeline;

use ratatui::Frame;
use ratatui::layout::Alignment;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::keymap::KeyMap;
use crate::screen::layout;
use crate::state::State;
use crate::theme::Theme;

/// What drawing needs besides the state.
pub struct Ctx<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a KeyMap,
}

pub fn render(f: &mut Frame, state: &State, ctx: &Ctx) {
    let screen = f.area();
    f.render_widget(Block::default().style(ctx.theme.base), screen);
    if !layout::fits(screen.width, screen.height) {
        let note = format!(
            "Terminal too small ({}×{}); ecsmon needs {}×{}.",
            screen.width,
            screen.height,
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT
        );
        let p = Paragraph::new(note)
            .style(ctx.theme.warn)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true });
        f.render_widget(p, screen);
        return;
    }
    // The fleet view: the context on screen draws itself, the fleet view's popups over it.
    let fleet = state;
    let state = state.on_screen();
    let areas = layout::areas(screen);
    header::render(f, areas.header, state, fleet, ctx);
    crumb::render(f, areas.crumb, state, ctx);
    let (list, logs) = layout::split_body(areas.body, state.logs.as_ref());
    if list.height > 0 {
        body::render(f, list, state, ctx);
    }
    if let (Some(area), Some(pane)) = (logs, &state.logs) {
        logs::render(f, area, pane, ctx);
    }
    let fleet_on_top = !std::ptr::eq(fleet, state)
        && (!fleet.popups.is_empty() || !matches!(fleet.input, crate::state::InputMode::Normal));
    let keys_to = if fleet_on_top { fleet } else { state };
    let status_of = if fleet_on_top {
        fleet
    } else {
        newest_status(fleet, state)
    };
    status::render(f, areas.status, status_of, ctx);
    footer::render(f, areas.footer, keys_to, ctx);
    popups::render(f, areas.body, state, ctx);
    if !std::ptr::eq(fleet, state) {
        popups::render(f, areas.body, fleet, ctx);
    }
}

/// The console whose status line is the newer: a context's own or the fleet view's (which
/// says which contexts failed, and answers the fleet-wide commands).
fn newest_status<'a>(fleet: &'a State, shown: &'a State) -> &'a State {
    let at = |s: &State| s.status.as_ref().map(|s| s.at);
    if !std::ptr::eq(fleet, shown) && at(fleet) > at(shown) {
        fleet
    } else {
        shown
    }
}

/// A popup's border hint (` enter go to · esc close `) from the user's key map, so it never
/// names a key that was rebound; a command without a key is left out.
pub fn key_hints(
    ctx: &Ctx<'_>,
    context: crate::keymap::Context,
    hints: &[(crate::keymap::Command, &str)],
) -> String {
    let parts: Vec<String> = hints
        .iter()
        .filter_map(|(command, what)| {
            ctx.keymap
                .key_for(context.chain(), *command)
                .map(|key| format!("{key} {what}"))
        })
        .collect();
    format!(" {} ", parts.join(" · "))
}
