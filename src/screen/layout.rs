//! The screen, top to bottom:
//!
//! ```text
//! ┌ header: ecsmon · source · region · account · principal · READ-ONLY · data age ┐
//! │ breadcrumb: clusters › prod › cart                                            │
//! │┌ Tasks (130) ──────────────────────────────────────────────────────────────┐ │
//! ││ ID        LAST     DESIRED  HEALTH  …                                     │ │
//! ││ rows…                                                                     │ │
//! │└───────────────────────────────────────────────────────────────────────────┘ │
//! │ status line, or the filter / command prompt                                   │
//! └ footer: the keys of the current pane                                          ┘
//! ```
//!
//! Update uses the same arithmetic for paging and mouse hit-testing, so it lives here.

use ratatui::layout::Rect;

use crate::state::{LogPane, State};

/// Smaller than this, the console shows a note instead of the layout.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 8;

pub struct Areas {
    pub header: Rect,
    pub crumb: Rect,
    pub body: Rect,
    pub status: Rect,
    pub footer: Rect,
}

pub fn fits(width: u16, height: u16) -> bool {
    width >= MIN_WIDTH && height >= MIN_HEIGHT
}

pub fn areas(screen: Rect) -> Areas {
    let line = |y| Rect::new(screen.x, y, screen.width, 1);
    let bottom = screen.y + screen.height;
    Areas {
        header: line(screen.y),
        crumb: line(screen.y + 1),
        body: Rect::new(
            screen.x,
            screen.y + 2,
            screen.width,
            screen.height.saturating_sub(4),
        ),
        status: line(bottom.saturating_sub(2)),
        footer: line(bottom.saturating_sub(1)),
    }
}

/// Where table rows are drawn inside the body: inside the border, below the column header.
pub fn table_rows(body: Rect) -> Rect {
    Rect::new(
        body.x + 1,
        body.y + 2,
        body.width.saturating_sub(2),
        body.height.saturating_sub(3),
    )
}

/// How many table rows fit on a screen of this size (no log pane).
pub fn visible_rows(screen: (u16, u16)) -> usize {
    let rect = Rect::new(0, 0, screen.0, screen.1);
    table_rows(areas(rect).body).height.max(1) as usize
}

/// The body split between the list and the log pane: the log pane below, taking its share
/// (or all of it when zoomed); the list keeps at least a few rows.
pub fn split_body(body: Rect, logs: Option<&LogPane>) -> (Rect, Option<Rect>) {
    let Some(pane) = logs else {
        return (body, None);
    };
    if pane.zoom {
        return (Rect::new(body.x, body.y, body.width, 0), Some(body));
    }
    let wanted = body.height as u32 * pane.height_pct as u32 / 100;
    let log_height =
        (wanted as u16).clamp(3.min(body.height), body.height.saturating_sub(4).max(3));
    let log_height = log_height.min(body.height);
    let list = Rect::new(body.x, body.y, body.width, body.height - log_height);
    let logs = Rect::new(body.x, body.y + list.height, body.width, log_height);
    (list, Some(logs))
}

fn screen_body(state: &State) -> Rect {
    areas(Rect::new(0, 0, state.screen.0, state.screen.1)).body
}

/// Where the list is drawn, given the log pane.
pub fn list_area(state: &State) -> Rect {
    split_body(screen_body(state), state.logs.as_ref()).0
}

pub fn log_area(state: &State) -> Option<Rect> {
    split_body(screen_body(state), state.logs.as_ref()).1
}

/// How many table rows the list shows now.
pub fn list_rows(state: &State) -> usize {
    table_rows(list_area(state)).height.max(1) as usize
}

/// Lines of text a scrollable popup shows at once on this screen (inside its border).
pub fn text_rows(screen: (u16, u16)) -> usize {
    let body = areas(Rect::new(0, 0, screen.0, screen.1)).body;
    centered(body, 90, 90).height.saturating_sub(2) as usize
}

/// A box `pct_w` × `pct_h` percent of `area`, in its middle: where the text popups go.
pub fn centered(area: Rect, pct_w: u16, pct_h: u16) -> Rect {
    let w = area.width * pct_w / 100;
    let h = area.height * pct_h / 100;
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
