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

/// How many table rows fit on a screen of this size.
pub fn visible_rows(screen: (u16, u16)) -> usize {
    let rect = Rect::new(0, 0, screen.0, screen.1);
    table_rows(areas(rect).body).height.max(1) as usize
}
