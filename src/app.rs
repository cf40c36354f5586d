//! The runtime: reads input, runs pollers and effects as tokio tasks, and draws. It owns no
//! logic of its own: every change goes through `update`.
//!
//! One loop iteration: wait for something (a key, a data arrival, the 1 s tick, a signal),
//! apply it and everything else already queued, then draw once.

mod effects;

use std::sync::Arc;

use color_eyre::Result;
use crossterm::event::{Event, EventStream, KeyEventKind, MouseEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::action::{Action, Effect};
use crate::keymap::KeyMap;
use crate::state::State;
use crate::theme::Theme;
use crate::tui::Tui;
use crate::ui;
use crate::update::update;

pub use effects::{Clock, Effects, Pending, call, tail_item};

pub struct App {
    pub state: State,
    pub keymap: KeyMap,
    pub theme: Theme,
    /// Runs every effect that needs no terminal (the headless subcommands run the same one).
    pub effects: Effects,
    /// The fleet view's contexts, each with its own source (`state.members` in the same order);
    /// empty with one context.
    pub members: Vec<Effects>,
}

impl App {
    /// Runs until the operator quits (and the changes under way are answered, or the wait for
    /// them is over). Returns what to say once the terminal is restored: the changes whose
    /// answer never came, and how to check each.
    pub async fn run(mut self, tui: &mut Tui) -> Result<Vec<String>> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
        let mut events = EventStream::new();
        let every = self.members.iter().map(|e| e.source.tick());
        let every = every.fold(self.effects.source.tick(), std::cmp::min);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut sighup = signal(SignalKind::hangup())?;
        // In raw mode the keyboard sends Ctrl-C and Ctrl-\ as keys: these come from outside
        // (kill -INT, kill -QUIT). While a shell session runs, ecsmon ignores both
        // (`source::session`): they belong to the remote shell.
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigquit = signal(SignalKind::quit())?;

        let size = tui.terminal.size()?;
        let mut queue = vec![Action::Resize {
            width: size.width,
            height: size.height,
        }];
        queue.extend(self.ticks());
        let mut senders = self.member_senders(&tx);
        if self.members.is_empty() {
            self.start(Effect::FetchIdentity, &tx);
        }
        for (member, effects) in self.members.iter_mut().enumerate() {
            effects.start(Effect::FetchIdentity, &senders[member]);
        }

        loop {
            // Reading a big table's cells ahead shows nothing new: a batch of only that is
            // not drawn (it comes a few dozen times after each change of 100,000 rows).
            let redraw = queue.is_empty() || queue.iter().any(|a| !matches!(a, Action::CellsRead));
            for action in queue.drain(..) {
                // A region or profile switch: the new source serves every poll from now on.
                match &action {
                    Action::SourceChanged { source, .. } => {
                        self.effects.source = Arc::clone(&source.0);
                    }
                    // A context added to the fleet view: its own effects runner and sender.
                    Action::ContextConnected { source, .. } => {
                        self.members.push(Effects {
                            source: Arc::clone(&source.0),
                            tails: Default::default(),
                            forwards: Arc::clone(&self.effects.forwards),
                            audit_log: self.effects.audit_log.clone(),
                        });
                        senders.push(member_sender(senders.len(), &tx));
                    }
                    Action::From { member, action } => {
                        if let Action::SourceChanged { source, .. } = &**action {
                            self.members[*member].source = Arc::clone(&source.0);
                        }
                    }
                    _ => {}
                }
                for effect in update(&mut self.state, action, &self.keymap) {
                    let (effect, member) = match effect {
                        Effect::In { member, effect } => (*effect, Some(member)),
                        effect => (effect, None),
                    };
                    let tx = member.map_or(&tx, |m| &senders[m]);
                    match effect {
                        Effect::Suspend => {
                            drop(events);
                            tui.suspend()?;
                            events = EventStream::new();
                        }
                        Effect::HandOff { op, handoff } => {
                            // The input reader stops first (dropping the stream ends it), or it
                            // would steal the shell's keys; a new one starts after the session.
                            // Not before: creating it while the old reader still holds the
                            // terminal's event lock would wait for a key that never comes.
                            drop(events);
                            let effects = match member {
                                Some(m) => &mut self.members[m],
                                None => &mut self.effects,
                            };
                            hand_off(effects, tui, op, handoff, tx)?;
                            events = EventStream::new();
                        }
                        other => match member {
                            Some(m) => self.members[m].start(other, tx),
                            None => self.start(other, tx),
                        },
                    }
                }
            }
            if self.state.may_exit() {
                // Lets the end-to-end test prove a panic hands the terminal back first.
                #[cfg(debug_assertions)]
                if std::env::var_os("ECSMON_TEST_PANIC").is_some() {
                    panic!("deliberate test panic");
                }
                return Ok(std::mem::take(&mut self.state.in_flight.unanswered));
            }
            let ctx = ui::Ctx {
                theme: &self.theme,
                keymap: &self.keymap,
            };
            if redraw {
                tui.terminal.draw(|f| ui::render(f, &self.state, &ctx))?;
                // Every key handled so far was read before this frame: a confirmation it
                // shows may be answered only by keys read from now on (R then y typed ahead
                // do not).
                crate::update::frame_drawn(&mut self.state);
            }
            // Wait for the next thing to happen…
            let first = tokio::select! {
                Some(event) = events.next() => from_event(event?),
                Some(action) = rx.recv() => Some(action),
                _ = tick.tick() => {
                    queue.extend(self.ticks());
                    None
                }
                _ = sigterm.recv() => Some(Action::Quit),
                _ = sighup.recv() => Some(Action::Quit),
                _ = sigint.recv() => Some(Action::Quit),
                _ = sigquit.recv() => Some(Action::Quit),
            };
            queue.extend(first);
            // …then take everything else already waiting, so a burst costs one frame.
            while let Ok(action) = rx.try_recv() {
                queue.push(action);
            }
            // Polled with this task's waker, not `now_or_never`'s no-op one: crossterm's
            // EventStream wakes only the waker of the first poll that found nothing, so a
            // no-op waker here left every later key waiting for the 1 s tick.
            while let std::task::Poll::Ready(Some(event)) = futures::poll!(events.next()) {
                queue.extend(from_event(event?));
            }
        }
    }

    /// The clock's tick for every console: each context's on its own source's clock (a
    /// replayed incident runs faster than the wall).
    fn ticks(&self) -> Vec<Action> {
        let mut ticks = vec![Action::Tick(self.effects.source.now())];
        for (member, effects) in self.members.iter().enumerate() {
            ticks.push(Action::From {
                member,
                action: Box::new(Action::Tick(effects.source.now())),
            });
        }
        ticks
    }

    /// One sender per context: what its effects answer comes back as `Action::From` it.
    fn member_senders(
        &self,
        tx: &mpsc::UnboundedSender<Action>,
    ) -> Vec<mpsc::UnboundedSender<Action>> {
        (0..self.members.len())
            .map(|member| member_sender(member, tx))
            .collect()
    }

    /// Starts an effect (see [`Effects::start`]).
    fn start(&mut self, effect: Effect, tx: &mpsc::UnboundedSender<Action>) {
        self.effects.start(effect, tx);
    }
}

/// A context's sender: what its effects answer comes back as `Action::From` it.
fn member_sender(
    member: usize,
    tx: &mpsc::UnboundedSender<Action>,
) -> mpsc::UnboundedSender<Action> {
    let (member_tx, mut member_rx) = mpsc::unbounded_channel::<Action>();
    let tx = tx.clone();
    tokio::spawn(async move {
        while let Some(action) = member_rx.recv().await {
            let action = Box::new(action);
            if tx.send(Action::From { member, action }).is_err() {
                break;
            }
        }
    });
    member_tx
}

/// Hands the terminal to session-manager-plugin until the session ends. Live Tail
/// sessions are ended first (their lines would pile up unread); those panes poll after.
fn hand_off(
    effects: &mut Effects,
    tui: &mut Tui,
    op: crate::model::Operation,
    handoff: crate::model::SessionHandoff,
    tx: &mpsc::UnboundedSender<Action>,
) -> Result<()> {
    for (id, task) in effects.tails.drain() {
        task.abort();
        let _ = tx.send(Action::LiveTailEnded {
            id,
            error: Some("paused during the shell session".into()),
        });
    }
    tui.exit()?;
    let result = tokio::task::block_in_place(|| crate::source::session::run_plugin(&handoff));
    // `enter` redraws everything (no cursor-position round trip).
    tui.enter()?;
    let _ = tx.send(Action::SessionEnded { op, result });
    Ok(())
}

/// Terminal events worth an update. Mouse motion is dropped here so it never costs a frame.
fn from_event(event: Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Action::Key(key)),
        Event::Mouse(m) if !matches!(m.kind, MouseEventKind::Moved | MouseEventKind::Drag(_)) => {
            Some(Action::Mouse(m))
        }
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
