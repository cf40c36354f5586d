//! Drives the real update path without a terminal or a runtime: for snapshot tests, end-to-end
//! logic tests and benchmarks. Effects run synchronously against a demo fleet on a fixed clock,
//! so every run of a test sees the same frames; the calls are answered by the runtime's own
//! `app::call`.

use chrono::TimeZone;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::action::{Action, Effect};
use crate::config::Config;
use crate::keymap::KeyMap;
use crate::model::{Identity, Time};
use std::sync::Arc;

use crate::launch;
use crate::source::aws::AwsSettings;
use crate::source::demo::{DemoClock, DemoSource};
use crate::source::{FleetSource, SharedSource};
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

/// One context of a test fleet view: where, its source, and the demo behind it if any.
pub type FleetContext = (
    crate::model::Context,
    Arc<dyn FleetSource>,
    Option<Arc<DemoSource>>,
);

pub struct Harness {
    pub state: State,
    pub keymap: KeyMap,
    pub theme: Theme,
    pub source: Arc<dyn FleetSource>,
    /// The demo behind `source`, when it is one: `advance` moves its clock.
    demo: Option<Arc<DemoSource>>,
    /// Every effect update asked for, in order, for assertions.
    pub effects: Vec<Effect>,
    /// The longest one `update` took (what the runtime's loop would stall for), for the
    /// benchmarks; effects run outside it, as the runtime runs them off its loop. In CPU time
    /// of the calling thread ([`thread_cpu_time`]), so other work on a shared machine does not
    /// count.
    pub longest_update: (std::time::Duration, String),
    /// Live Tail sessions by log pane id; `advance` delivers what they have ready.
    tails: Vec<(u64, crate::source::LogTail)>,
    /// Port forwards, carried for real (plugin child processes, the demo's listeners).
    pub forwards: Arc<crate::source::forward::ForwardRunner>,
    /// Forwards that ended, waiting to be delivered as `ForwardEnded`.
    forward_ends: Arc<std::sync::Mutex<Vec<(u64, String)>>>,
    /// The fleet view's contexts' sources (`state.members` in the same order), and the demos
    /// among them (`advance` moves their clocks).
    pub members: Vec<Arc<dyn FleetSource>>,
    member_demos: Vec<Option<Arc<DemoSource>>>,
    /// What `:contexts add` connects to in a test; without it the context fails to connect.
    pub connect: Option<Connector>,
}

/// A test's stand-in for connecting a context (`Effect::ConnectContext`).
pub type Connector = Box<dyn Fn(&crate::model::WantedContext) -> FleetContext>;

impl Harness {
    /// The seeded demo fleet at the fixed clock.
    pub fn new(scenario: &str, width: u16, height: u16) -> Self {
        let demo = Arc::new(
            DemoSource::new(scenario, 42, fixed_now(), DemoClock::Fixed(fixed_now()))
                .expect("known scenario"),
        );
        let mut h = Harness::build(demo.clone(), None, fixed_now(), width, height);
        h.demo = Some(demo);
        h.start();
        h
    }

    /// Any source — the AWS one against moto, say — with the real clock. Inside a tokio test
    /// this needs the multi-threaded runtime (effects block in place).
    pub fn with_source(
        source: Arc<dyn FleetSource>,
        aws: Option<AwsSettings>,
        width: u16,
        height: u16,
    ) -> Self {
        let mut h = Harness::build(source, aws, chrono::Utc::now(), width, height);
        h.start();
        h
    }

    fn build(
        source: Arc<dyn FleetSource>,
        aws: Option<AwsSettings>,
        now: Time,
        width: u16,
        height: u16,
    ) -> Self {
        let config = Config::defaults();
        let mut state = State::new(Identity::default(), now, config.refresh, (width, height));
        state.stopped_window = config.stopped_tasks_window;
        state.log_cap = config.log_lines;
        state.exec_shell = config.exec_shell.clone();
        state.confirm_exec = config.confirm_exec;
        state.aws = aws;
        Harness {
            state,
            keymap: KeyMap::defaults(),
            theme: Theme::builtin("dark").expect("dark theme"),
            source,
            demo: None,
            effects: Vec::new(),
            longest_update: Default::default(),
            tails: Vec::new(),
            forwards: crate::source::forward::ForwardRunner::new(),
            forward_ends: Arc::default(),
            members: Vec::new(),
            member_demos: Vec::new(),
            connect: None,
        }
    }

    fn start(&mut self) {
        self.run(Effect::FetchIdentity);
        let now = self.state.now;
        self.dispatch(Action::Tick(now));
    }

    /// Sends one action through `update`, then carries out its effects until nothing is left.
    pub fn dispatch(&mut self, mut action: Action) {
        // The test's clock decides when the engine evaluates next, not how long the last
        // evaluation took on this machine (twenty times it spaces them: a busy machine
        // would move the findings a test sees).
        if let Action::Evaluated {
            result: Ok(evaluated),
            ..
        } = &mut action
        {
            evaluated.cost = std::time::Duration::ZERO;
        }
        let kind = match &action {
            Action::Loaded { query, .. } => format!("an answer to {}", query.describe()),
            Action::MetricsLoaded { .. } => "metrics".into(),
            Action::Evaluated { .. } => "the engine's findings".into(),
            Action::Tick(_) => "a tick".into(),
            Action::Key(_) => "a key".into(),
            Action::CellsRead => "a turn of reading cells ahead".into(),
            Action::MetricsMerge { .. } => "a slice of a metrics answer".into(),
            _ => "another action".into(),
        };
        let began = thread_cpu_time();
        let effects = update(&mut self.state, action, &self.keymap);
        let took = thread_cpu_time().saturating_sub(began);
        if took > self.longest_update.0 {
            self.longest_update = (took, kind);
        }
        for effect in effects {
            self.run(effect);
        }
    }

    fn run(&mut self, effect: Effect) {
        self.effects.push(effect.clone());
        if let Effect::In { member, effect } = effect {
            return self.run_in(member, *effect);
        }
        // The calls are answered as the runtime answers them (one `call`), at the test's clock.
        let now = self.state.now;
        let effect = match crate::app::call(effect, Arc::clone(&self.source), Arc::new(move || now))
        {
            Ok(pending) => {
                let answer = block_on(pending.answer);
                self.dispatch(answer);
                return;
            }
            Err(effect) => *effect,
        };
        let next = match effect {
            Effect::StartLiveTail { id, streams } => {
                match block_on(crate::source::logs::open_tail(&*self.source, &streams)) {
                    Ok(tail) => {
                        self.tails.push((id, tail));
                        Action::LiveTailStarted { id }
                    }
                    Err(why) => Action::LiveTailEnded {
                        id,
                        error: Some(why),
                    },
                }
            }
            Effect::StopLogs { id } => {
                self.tails.retain(|(tail, _)| *tail != id);
                return;
            }
            // Recorded in `effects`; a test terminal has no clipboard and writes no files.
            Effect::Copy(_) => return,
            Effect::SaveFile { path, .. } => Action::FileSaved {
                result: Ok(path.clone()),
                path,
            },
            // A test has no terminal to hand over: the session "ends" at once.
            Effect::HandOff { op, .. } => Action::SessionEnded {
                op,
                result: Ok("session ended".into()),
            },
            // Recorded in `effects`; tests read the records from there.
            Effect::Audit(_) => return,
            // Recorded in `effects`; the test reads the contents from there.
            Effect::WriteExport { path, .. } => Action::ExportWritten {
                result: Ok(path.clone()),
                path,
            },
            Effect::StartForward { id, op } => {
                let ends = Arc::clone(&self.forward_ends);
                let notify: crate::source::forward::Notify = Arc::new(move |id, reason| {
                    ends.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((id, reason));
                });
                let result =
                    block_on(
                        self.forwards
                            .start(id, &op, Arc::clone(&self.source), notify),
                    );
                Action::ForwardStarted { id, result }
            }
            Effect::StopForward { id } => {
                block_on(self.forwards.stop(id));
                // The watcher says it ended just after: wait for it, so tests see it at once.
                // Generous: the loop ends as soon as it has; a busy machine must not fail a test.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                while std::time::Instant::now() < deadline && !self.forward_ended(id) {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                self.deliver_forwards();
                return;
            }
            Effect::Connect(settings) => {
                let source = block_on(launch::aws_source(settings.clone()));
                self.source = Arc::clone(&source);
                self.demo = None;
                Action::SourceChanged {
                    source: SharedSource(source),
                    settings,
                }
            }
            Effect::Quit | Effect::Suspend => return,
            Effect::ConnectContext { wanted, .. } => {
                let (context, source, demo) = match &self.connect {
                    Some(connect) => connect(&wanted),
                    None => (
                        crate::model::Context::new(wanted.profile.as_deref(), "us-east-1"),
                        Arc::new(crate::source::Unavailable(crate::source::SourceError::new(
                            crate::source::ErrorKind::Credentials,
                            "this test connects no contexts",
                        ))) as Arc<dyn FleetSource>,
                        None,
                    ),
                };
                self.members.push(Arc::clone(&source));
                self.member_demos.push(demo);
                Action::ContextConnected {
                    context,
                    source: SharedSource(source),
                    settings: None,
                }
            }
            // Routed by `update` itself (a fleet command) or above (a context's effect).
            Effect::FleetCommand(_) | Effect::In { .. } => return,
            // A test says when the wait is over: `dispatch(Action::QuitWaitOver)`.
            Effect::WaitToQuit(_) => return,
            // Answered through `call` above.
            crate::answered_by_call!() => return,
        };
        self.dispatch(next);
    }

    /// The fleet view over these contexts' sources (demos among them move with `advance`), at
    /// the fixed clock.
    pub fn fleet(contexts: Vec<FleetContext>, width: u16, height: u16) -> Self {
        let overview_source: Arc<dyn FleetSource> =
            Arc::new(crate::source::Unavailable(crate::source::SourceError::new(
                crate::source::ErrorKind::Service,
                "the fleet view asks its contexts",
            )));
        let mut h = Harness::build(overview_source, None, fixed_now(), width, height);
        h.state.identity.source = format!("fleet view: {} contexts", contexts.len());
        for (context, source, demo) in contexts {
            let member = Harness::build(Arc::clone(&source), None, fixed_now(), width, height);
            let index = h.state.members.len();
            h.state
                .members
                .push(crate::state::Member::new(context, member.state, index));
            h.members.push(source);
            h.member_demos.push(demo);
        }
        for member in 0..h.members.len() {
            h.run(Effect::In {
                member,
                effect: Box::new(Effect::FetchIdentity),
            });
        }
        let now = h.state.now;
        h.dispatch(Action::Tick(now));
        for member in 0..h.members.len() {
            let action = Box::new(Action::Tick(now));
            h.dispatch(Action::From { member, action });
        }
        h
    }

    /// `--demo org`'s six contexts as a fleet view, at the fixed clock.
    pub fn org(width: u16, height: u16) -> Self {
        let members = DemoSource::org(42, fixed_now(), DemoClock::Fixed(fixed_now()));
        let contexts = members
            .into_iter()
            .map(|m| {
                let demo = Arc::new(m.source);
                let source: Arc<dyn FleetSource> = demo.clone();
                (m.context, source, Some(demo))
            })
            .collect();
        Harness::fleet(contexts, width, height)
    }

    /// One context's effect, answered with its source and clock, the answer back to it.
    fn run_in(&mut self, member: usize, effect: Effect) {
        let source = Arc::clone(&self.members[member]);
        let now = self.state.members[member].state.now;
        let effect = match crate::app::call(effect, source, Arc::new(move || now)) {
            Ok(pending) => {
                let action = Box::new(block_on(pending.answer));
                self.dispatch(Action::From { member, action });
                return;
            }
            Err(effect) => *effect,
        };
        let answer = match effect {
            Effect::SaveFile { path, .. } => Action::FileSaved {
                result: Ok(path.clone()),
                path,
            },
            Effect::WriteExport { path, .. } => Action::ExportWritten {
                result: Ok(path.clone()),
                path,
            },
            Effect::HandOff { op, .. } => Action::SessionEnded {
                op,
                result: Ok("session ended".into()),
            },
            Effect::StartLiveTail { id, .. } => Action::LiveTailEnded {
                id,
                error: Some("no Live Tail in the test fleet view".into()),
            },
            Effect::StartForward { id, .. } => Action::ForwardStarted {
                id,
                result: Err("no port forwards in the test fleet view".into()),
            },
            // Recorded in `effects` (the test reads them there) or nothing to answer.
            _ => return,
        };
        let action = Box::new(answer);
        self.dispatch(Action::From { member, action });
    }

    /// Types keys written like `j`, `/cart<enter>`, `<esc>`, `<c-c>`, `<pgdn>`, `G`, one at a
    /// time as an operator does: each is answered and drawn before the next is read.
    pub fn press(&mut self, keys: &str) {
        for key in parse_keys(keys) {
            self.dispatch(Action::Key(key));
            crate::update::frame_drawn(&mut self.state);
        }
    }

    /// Types keys ahead of the screen: all read in one go, before the frame that answers the
    /// first is drawn (the runtime handles a burst in one batch, then draws once).
    pub fn press_ahead(&mut self, keys: &str) {
        for key in parse_keys(keys) {
            self.dispatch(Action::Key(key));
        }
        crate::update::frame_drawn(&mut self.state);
    }

    /// The triage engine's next job over what the console holds now, as the update path takes
    /// it (for tests of the engine itself, which live below `update`).
    pub fn engine_job(&mut self) -> crate::state::EngineJob {
        crate::update::triage::job(&mut self.state)
    }

    /// Moves the clock (and the demo fleet) forward, one tick per second like the runtime.
    pub fn advance(&mut self, secs: i64) {
        for _ in 0..secs {
            let now = self.state.now + chrono::TimeDelta::seconds(1);
            if let Some(demo) = &self.demo {
                demo.advance_to(now);
            }
            for demo in self.member_demos.iter().flatten() {
                demo.advance_to(now);
            }
            self.dispatch(Action::Tick(now));
            for member in 0..self.members.len() {
                let action = Box::new(Action::Tick(now));
                self.dispatch(Action::From { member, action });
            }
            self.deliver_tails();
            self.deliver_forwards();
        }
    }

    fn forward_ended(&self, id: u64) -> bool {
        self.forward_ends
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(ended, _)| *ended == id)
    }

    /// Hands over the forwards that ended, as the runtime would.
    pub fn deliver_forwards(&mut self) {
        let ended =
            std::mem::take(&mut *self.forward_ends.lock().unwrap_or_else(|e| e.into_inner()));
        for (id, reason) in ended {
            self.dispatch(Action::ForwardEnded { id, reason });
        }
    }

    /// Moves a replayed incident (`Harness::new("bad-deploy", …)`, replay second 0 at
    /// [`fixed_now`]) to replay second `secs`, one tick per replay second as the runtime ticks
    /// once a wall second (each tick moves the scenario's compression ratio in incident time).
    /// A fleet that replays nothing does not move.
    pub fn advance_replay(&mut self, secs: f64) {
        let Some(demo) = self.demo.clone() else {
            return;
        };
        let (Some(target), Some(tick)) = (demo.replay_time(secs), demo.replay_time(1.0)) else {
            return;
        };
        let step = tick - demo.replay_time(0.0).unwrap_or(tick);
        while self.state.now < target {
            let now = (self.state.now + step).min(target);
            demo.advance_to(now);
            self.dispatch(Action::Tick(now));
            self.deliver_tails();
        }
    }

    /// Hands over what the Live Tail sessions have ready, as the runtime would.
    fn deliver_tails(&mut self) {
        use futures::{FutureExt, StreamExt};
        let mut actions = Vec::new();
        self.tails.retain_mut(|(id, tail)| {
            // What is ready now; the session stays while it has not ended.
            while let Some(item) = tail.next().now_or_never() {
                let ended = !matches!(item, Some(Ok(_)));
                actions.extend(crate::app::tail_item(*id, item));
                if ended {
                    return false;
                }
            }
            true
        });
        for action in actions {
            self.dispatch(action);
        }
    }

    /// The audit records the gate asked to append, in order: the console's own and, in the
    /// fleet view, its contexts' (each context's gate writes its own).
    pub fn audits(&self) -> Vec<crate::source::audit::AuditRecord> {
        fn record(e: &Effect) -> Option<crate::source::audit::AuditRecord> {
            match e {
                Effect::Audit(r) => Some((**r).clone()),
                Effect::In { effect, .. } => record(effect),
                _ => None,
            }
        }
        self.effects.iter().filter_map(record).collect()
    }

    /// The status line's text (empty when there is none).
    pub fn status(&self) -> String {
        self.state
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.dispatch(Action::Resize { width, height });
    }

    /// The current frame as text, one line per row.
    pub fn render(&self) -> String {
        let (w, h) = self.state.screen;
        let buffer = self.frame();
        (0..h)
            .map(|y| {
                let line: String = (0..w).map(|x| buffer[(x, y)].symbol()).collect();
                line.trim_end().to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The current frame, cells with their styles.
    pub fn frame(&self) -> ratatui::buffer::Buffer {
        let (w, h) = self.state.screen;
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        let ctx = ui::Ctx {
            theme: &self.theme,
            keymap: &self.keymap,
        };
        terminal
            .draw(|f| ui::render(f, &self.state, &ctx))
            .expect("draw");
        terminal.backend().buffer().clone()
    }

    /// The style of the cell just after the first `label` on screen (searched row by row),
    /// if it is there: how a field's value is drawn.
    pub fn style_after(&self, label: &str) -> Option<ratatui::style::Style> {
        let buffer = self.frame();
        let (w, h) = self.state.screen;
        (0..h).find_map(|y| {
            let row: Vec<&str> = (0..w).map(|x| buffer[(x, y)].symbol()).collect();
            let end = row.concat().find(label)? + label.len();
            // The cell whose symbol starts where the label ends.
            let mut bytes = 0;
            let x = row.iter().position(|s| {
                let here = bytes;
                bytes += s.len();
                here >= end
            })?;
            Some(buffer[(x as u16, y)].style())
        })
    }

    /// The value after `label` is drawn as selected text (the theme's selected style).
    pub fn shown_selected_after(&self, label: &str) -> bool {
        let selected = self.theme.selected;
        self.style_after(label).is_some_and(|s| {
            (s.fg, s.bg, s.add_modifier) == (selected.fg, selected.bg, selected.add_modifier)
        })
    }

    /// Number of fetches issued so far.
    pub fn fetch_count(&self) -> usize {
        self.effects
            .iter()
            .filter(|e| matches!(e, Effect::Fetch { .. }))
            .count()
    }
}

/// Runs a future to completion from synchronous test code: in place on the current tokio
/// runtime when there is one (the SDK needs it), else on a tiny executor.
fn block_on<F: Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(future)),
        Err(_) => futures::executor::block_on(future),
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

/// CPU time the calling thread has used: what a benchmark of work on one thread (an update, a
/// frame) reads instead of the wall clock, which on a machine shared with builds also counts the
/// time the thread waited for a core. Zero where the platform does not say.
#[allow(unsafe_code)]
pub fn thread_cpu_time() -> std::time::Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `now` is, and reads nothing else.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0;
    if !ok {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
