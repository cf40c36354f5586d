//! ecsmon: a full-screen terminal console for AWS ECS.
//!
//! Folders say what each part does: `source/` talks to the world, `state/` holds it, `update/`
//! is the one way it changes, `poll/` decides what to ask for, `screen/` is what the screen shows
//! (read by both `update/` and `ui/`, which never import each other), `ui/` draws it; `model/`
//! has the domain types they share. `app.rs` is the runtime loop and `launch.rs` wires it
//! together; `headless/` runs the same loop and effect runner without a terminal (`ecsmon
//! findings`, `watch`, `report`); `catalog.rs` is the rule catalog (`ecsmon rules`,
//! `:rules`, docs/triage.md) built from the triage registry.

pub mod action;
pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod contexts;
pub mod files;
pub mod headless;
pub mod keymap;
pub mod launch;
pub mod memory;
pub mod model;
pub mod poll;
pub mod sanitize;
pub mod screen;
pub mod source;
pub mod state;
#[doc(hidden)]
pub mod testkit;
pub mod theme;
pub mod triage;
pub mod tui;
pub mod ui;
pub mod update;
