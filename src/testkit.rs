//! Drives the real update path without a terminal or a runtime: for snapshot tests, end-to-end
//! logic tests and benchmarks. Effects run synchronously against a demo fleet on a fixed clock,
//! so every run of a test sees the same frames.

use chrono::TimeZone;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::action::{Action, Effect};
use crate::config::Config;
use crate::keymap::KeyMap;
use crate::model::{Identity, Time};
use crate::source::FleetSource;
use crate::source::demo::{DemoClock, DemoSource};
use crate::state::State;
use crate::theme::Theme;
use crate::ui;
use crate::update::update;

/// The instant every test starts at: 2026-11-20 14:00:00 UTC.
pub fn fixed_now() -> Time {
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 20, 14, 0, 0)
        .unwrap()
}

pub struct Harness {
    pub state: State,
    pub keymap: KeyMap,
    pub theme: Theme,
    pub source: DemoSource,
    /// Every effect update asked for, in order, for assertions.
    pub effects: Vec<Effect>,
}

impl Harness {
    pub fn new(scenario: &str, width: u16, height: u16) -> Self {
        let source = DemoSource::new(scenario, 42, fixed_now(), DemoClock::Fixed(fixed_now()))
            .expect("known scenario");
        let config = Config::defaults();
        let mut h = Harness {
            state: State::new(
                Identity::default(),
                fixed_now(),
                config.refresh,
                (width, height),
            ),
            keymap: KeyMap::defaults(),
            theme: Theme::builtin("dark").expect("dark theme"),
            source,
            effects: Vec::new(),
        };
        h.state.stopped_window = config.stopped_tasks_window;
        h.run(Effect::FetchIdentity);
        h.dispatch(Action::Tick(fixed_now()));
        h
    }

    /// Sends one action through `update`, then carries out its effects until nothing is left.
    pub fn dispatch(&mut self, action: Action) {
        let effects = update(&mut self.state, action, &self.keymap);
        for effect in effects {
            self.run(effect);
        }
    }

    fn run(&mut self, effect: Effect) {
        self.effects.push(effect.clone());
        let next = match effect {
            Effect::Fetch { query, seq } => {
                let result = futures::executor::block_on(self.source.fetch(&query));
                Action::Loaded {
                    query,
                    seq,
                    at: self.state.now,
                    result,
                }
            }
            Effect::FetchIdentity => {
                Action::IdentityLoaded(futures::executor::block_on(self.source.identity()))
            }
            Effect::Quit | Effect::Suspend => return,
        };
        self.dispatch(next);
    }

    /// Types keys written like `j`, `/cart<enter>`, `<esc>`, `<c-c>`, `<pgdn>`, `G`.
    pub fn press(&mut self, keys: &str) {
        for key in parse_keys(keys) {
            self.dispatch(Action::Key(key));
        }
    }

    /// Moves the clock (and the demo fleet) forward, one tick per second like the runtime.
    pub fn advance(&mut self, secs: i64) {
        for _ in 0..secs {
            let now = self.state.now + chrono::TimeDelta::seconds(1);
            self.source.advance_to(now);
            self.dispatch(Action::Tick(now));
        }
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.dispatch(Action::Resize { width, height });
    }

    /// The current frame as text, one line per row.
    pub fn render(&self) -> String {
        let (w, h) = self.state.screen;
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        let ctx = ui::Ctx {
            theme: &self.theme,
            keymap: &self.keymap,
        };
        terminal
            .draw(|f| ui::render(f, &self.state, &ctx))
            .expect("draw");
        let buffer = terminal.backend().buffer();
        (0..h)
            .map(|y| {
                let line: String = (0..w).map(|x| buffer[(x, y)].symbol()).collect();
                line.trim_end().to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Number of fetches issued so far.
    pub fn fetch_count(&self) -> usize {
        self.effects
            .iter()
            .filter(|e| matches!(e, Effect::Fetch { .. }))
            .count()
    }
}

pub fn parse_keys(keys: &str) -> Vec<KeyEvent> {
    let mut out = Vec::new();
    let mut chars = keys.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '<' && chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
            out.push(named_key(&name));
        } else {
            let mods = if c.is_ascii_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            out.push(KeyEvent::new(KeyCode::Char(c), mods));
        }
    }
    out
}

fn named_key(name: &str) -> KeyEvent {
    let plain = |code| KeyEvent::new(code, KeyModifiers::NONE);
    if let Some(c) = name.strip_prefix("c-").and_then(|s| s.chars().next()) {
        return KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    }
    match name {
        "enter" => plain(KeyCode::Enter),
        "esc" => plain(KeyCode::Esc),
        "tab" => plain(KeyCode::Tab),
        "bs" => plain(KeyCode::Backspace),
        "up" => plain(KeyCode::Up),
        "down" => plain(KeyCode::Down),
        "left" => plain(KeyCode::Left),
        "right" => plain(KeyCode::Right),
        "pgup" => plain(KeyCode::PageUp),
        "pgdn" => plain(KeyCode::PageDown),
        "home" => plain(KeyCode::Home),
        "end" => plain(KeyCode::End),
        "lt" => plain(KeyCode::Char('<')),
        other => panic!("unknown key name <{other}> in a test"),
    }
}
