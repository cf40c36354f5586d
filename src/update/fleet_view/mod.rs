//! The fleet view (several contexts at once): which console an action is for, and what the
//! fleet view merges from its members after each of theirs.
//!
//! Each member is a whole single-context console (`state::members`). The fleet view's own
//! console lists every member's clusters, each named with its context (`model::qualify`), and
//! every member's findings; it polls nothing. Drilling into a cluster hands the new panes to
//! that cluster's member, which then has the screen and the keys; going back to its clusters
//! gives them back to the fleet view. The fleet view's popups (`:findings`, `:contexts`) sit
//! over whatever is on screen and take the keys first.

use crate::action::{Action, Effect};
use crate::keymap::KeyMap;
use crate::model::{Query, qualify, unqualify};
use crate::state::{InputMode, Level, State, View};

mod commands;
mod merge;

use commands::stats_loaded;
pub use commands::{contexts_command, export, stats};
use merge::merge;
pub use merge::merge_timeline;

/// Routes `action` when `state` is the fleet view (see [`State::is_fleet_view`]).
pub fn update(state: &mut State, action: Action, keymap: &KeyMap) -> Vec<Effect> {
    let mut effects = route(state, action, keymap);
    effects.extend(spread_quit(state, keymap));
    effects
}

/// Quitting anywhere (`q` in a context, `:quit` in the fleet view) quits every console: each
/// waits for its own changes under way, and ecsmon ends once all may.
fn spread_quit(state: &mut State, keymap: &KeyMap) -> Vec<Effect> {
    let quitting = state.should_quit
        || state
            .members
            .iter()
            .any(|m| !m.dropped && m.state.should_quit);
    if !quitting {
        return vec![];
    }
    let mut effects = Vec::new();
    if !state.should_quit {
        effects.extend(own(crate::update::update_one(state, Action::Quit, keymap)));
    }
    for member in 0..state.members.len() {
        let m = &state.members[member];
        if !m.dropped && !m.state.should_quit {
            effects.extend(in_member(state, member, Action::Quit, keymap));
        }
    }
    effects
}

fn route(state: &mut State, action: Action, keymap: &KeyMap) -> Vec<Effect> {
    match action {
        Action::From { member, action } => match *action {
            // A dropped context's answers and ticks still under way: nobody wants them.
            _ if state.members.get(member).is_none_or(|m| m.dropped) => vec![],
            Action::StatsLoaded(report) if state.fleet_stats.is_some() => {
                stats_loaded(state, member, report);
                vec![]
            }
            action => in_member(state, member, action, keymap),
        },
        Action::Key(_) | Action::Mouse(_) | Action::Paste(_) => match input_member(state) {
            Some(member) => in_member(state, member, action, keymap),
            None => {
                let effects = crate::update::update_one(state, action, keymap);
                let mut effects = own(effects);
                effects.extend(hand_over(state, keymap));
                effects
            }
        },
        // What every console hears: the terminal's size, quitting.
        Action::Resize { .. } | Action::Quit | Action::QuitWaitOver => {
            let mut effects = Vec::new();
            for member in 0..state.members.len() {
                if !state.members[member].dropped {
                    effects.extend(in_member(state, member, action.clone(), keymap));
                }
            }
            effects.extend(own(crate::update::update_one(state, action, keymap)));
            effects
        }
        other => own(crate::update::update_one(state, other, keymap)),
    }
}

/// The member that gets the operator's input: the one on screen, unless the fleet view has a
/// popup or a prompt open over it.
fn input_member(state: &State) -> Option<usize> {
    let busy = !state.popups.is_empty() || !matches!(state.input, InputMode::Normal);
    state.active_member.filter(|_| !busy)
}

/// The fleet view's own effects. It asks no source for anything (its data is its members'),
/// so only what needs none is kept.
fn own(effects: Vec<Effect>) -> Vec<Effect> {
    effects
        .into_iter()
        .filter(|e| {
            !matches!(
                e,
                crate::answered_by_call!() | Effect::StartLiveTail { .. } | Effect::Connect(_)
            )
        })
        .collect()
}

/// Runs `action` in one member's console; its effects go to that member's source.
fn in_member(state: &mut State, member: usize, action: Action, keymap: &KeyMap) -> Vec<Effect> {
    let Some(m) = state.members.get_mut(member) else {
        return vec![];
    };
    let effects = crate::update::update(&mut m.state, action, keymap);
    let mut out: Vec<Effect> = Vec::with_capacity(effects.len());
    for effect in effects {
        match effect {
            // `:clusters` inside a context: the fleet view's clusters, which list its own.
            Effect::FleetCommand(line)
                if crate::screen::commands::canonical(
                    line.split_whitespace().next().unwrap_or_default(),
                ) == Some("clusters") =>
            {
                let m = &mut state.members[member].state;
                m.nav.truncate(1);
                give_back(state, member);
            }
            Effect::FleetCommand(line) => {
                out.extend(own(crate::update::command::run(state, &line)))
            }
            effect => out.push(Effect::In {
                member,
                effect: Box::new(effect),
            }),
        }
    }
    merge(state, member);
    if state.active_member == Some(member) && back_at_its_clusters(&state.members[member].state) {
        give_back(state, member);
    }
    out
}

/// The member went back to its own clusters pane with nothing open over it: the fleet view's
/// clusters, which list them too, take the screen again.
fn back_at_its_clusters(member: &State) -> bool {
    member.nav.len() == 1
        && member.popups.is_empty()
        && member.logs.is_none()
        && matches!(member.input, InputMode::Normal)
}

pub(super) fn give_back(state: &mut State, member: usize) {
    let m = &state.members[member];
    let selected = m.state.nav[0]
        .selected_key
        .as_deref()
        .map(|name| qualify(name, &m.context));
    state.active_member = None;
    if let Some(key) = selected {
        state.nav[0].selected_key = Some(key);
    }
    crate::update::rows::refresh_all(state, &Query::Clusters);
}

/// After the fleet view's own key: panes it opened over a cluster (drilling in, `:tasks` on a
/// row, a finding's jump) belong to that cluster's member, which takes them and the screen.
fn hand_over(state: &mut State, keymap: &KeyMap) -> Vec<Effect> {
    if state.nav.len() < 2 {
        return vec![];
    }
    let opened = state.nav.split_off(1);
    let Some(qualified) = opened[0].pane.cluster().map(str::to_string) else {
        return vec![];
    };
    let (cluster, label) = unqualify(&qualified);
    let Some(member) = label.and_then(|l| {
        state
            .members
            .iter()
            .position(|m| m.context.to_string() == l)
    }) else {
        return vec![];
    };
    let cluster = cluster.to_string();
    let m = &mut state.members[member];
    let mut root = View::new(crate::state::Pane::Clusters);
    root.selected_key = Some(cluster.clone());
    // The breadcrumb starts with the context: `alpha · 123456789012 · eu-west-1 › prod › web`.
    root.label = Some(m.title());
    // Handed the screen as if the operator had typed there: its panes are polled live.
    m.state.last_input = m.state.now;
    let mut nav = vec![root];
    for view in opened {
        let mut moved = View::new(view.pane.with_cluster(|c| unqualify(c).0.to_string()));
        moved.filter = view.filter;
        moved.sort = view.sort;
        moved.selected_key = view.selected_key;
        moved.label = view.label;
        nav.push(moved);
    }
    m.state.nav = nav;
    // What it already holds shows at once (a cluster opened before, its answers still fresh).
    crate::update::rows::refresh_nav(&mut m.state);
    state.active_member = Some(member);
    state.nav[0].selected_key = Some(qualified);
    // Its clock's tick: the member rebuilds the panes' rows and asks for what they show.
    let now = state.members[member].state.now;
    in_member(state, member, Action::Tick(now), keymap)
}

/// A context added at run time joins the fleet view and starts polling.
pub fn connected(
    state: &mut State,
    context: crate::model::Context,
    source: crate::source::SharedSource,
    settings: Option<crate::source::aws::AwsSettings>,
    keymap: &KeyMap,
) -> Vec<Effect> {
    let _ = source;
    let mut member = State::new(
        crate::model::Identity::default(),
        state.now,
        state.refresh,
        state.screen,
    );
    member.read_only = state.read_only;
    member.mouse = state.mouse;
    member.stopped_window = state.stopped_window;
    member.log_cap = state.log_cap;
    member.exec_shell = state.exec_shell.clone();
    member.confirm_exec = state.confirm_exec;
    member.in_flight.session = state.in_flight.session.clone();
    member.aws = settings;
    let title = context.to_string();
    let index = state.members.len();
    state
        .members
        .push(crate::state::Member::new(context, member, index));
    let index = state.members.len() - 1;
    state.set_status(Level::Info, format!("{title} added to the fleet view"));
    let mut effects = vec![Effect::In {
        member: index,
        effect: Box::new(Effect::FetchIdentity),
    }];
    let now = state.now;
    effects.extend(in_member(state, index, Action::Tick(now), keymap));
    effects
}
