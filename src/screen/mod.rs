//! The read model: what the screen shows, computed from `State` without drawing it.
//!
//! Both `ui/` (which draws it) and `update/` (which moves the cursor, pages and scrolls over it)
//! read it here, so neither has to ask the other. What belongs here: the rows a pane lists and
//! its columns (the text, filter and sort keys of a cell), the listings of the popups (findings,
//! timeline, help, task definitions, target health) and their lengths, the screen's geometry,
//! and the text formatters these share. What does not: anything that touches a `Frame` or a
//! widget (that is `ui/`), and anything that changes the state (that is `update/`). This module
//! imports neither of them.

pub mod commands;
pub mod export;
pub mod findings;
pub mod format;
pub mod help;
pub mod keys;
pub mod layout;
pub mod panes;
pub mod rules;
pub mod spark;
pub mod table;
pub mod target_health;
pub mod taskdefs;
pub mod text;
pub mod timeline;
