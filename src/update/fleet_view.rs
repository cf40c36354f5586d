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
use crate::model::{Query, Snapshot, qualify, unqualify};
use crate::state::{InputMode, Merged, State, View};

/// Routes `action` when `state` is the fleet view (see [`State::is_fleet_view`]).
pub fn update(state: &mut State, action: Action, keymap: &KeyMap) -> Vec<Effect> {
    match action {
        Action::From { member, action } => in_member(state, member, *action, keymap),
        Action::Key(_) | Action::Mouse(_) | Action::Paste(_) => match input_member(state) {
            Some(member) => in_member(state, member, action, keymap),
            None => {
                let effects = super::update_one(state, action, keymap);
                let mut effects = own(effects);
                effects.extend(hand_over(state, keymap));
                effects
            }
        },
        // What every console hears: the terminal's size, quitting.
        Action::Resize { .. } | Action::Quit | Action::QuitWaitOver => {
            let mut effects = Vec::new();
            for member in 0..state.members.len() {
                effects.extend(in_member(state, member, action.clone(), keymap));
            }
            effects.extend(own(super::update_one(state, action, keymap)));
            effects
        }
        other => own(super::update_one(state, other, keymap)),
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
    let effects = super::update(&mut m.state, action, keymap);
    let mut out: Vec<Effect> = Vec::with_capacity(effects.len());
    for effect in effects {
        match effect {
            Effect::FleetCommand(line) => out.extend(own(super::command::run(state, &line))),
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

fn give_back(state: &mut State, member: usize) {
    let m = &state.members[member];
    let selected = m.state.nav[0]
        .selected_key
        .as_deref()
        .map(|name| qualify(name, &m.context));
    state.active_member = None;
    if let Some(key) = selected {
        state.nav[0].selected_key = Some(key);
    }
    super::rows::refresh_all(state, &Query::Clusters);
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
    super::rows::refresh_nav(&mut m.state);
    state.active_member = Some(member);
    state.nav[0].selected_key = Some(qualified);
    // Its clock's tick: the member rebuilds the panes' rows and asks for what they show.
    let now = state.members[member].state.now;
    in_member(state, member, Action::Tick(now), keymap)
}

/// Takes in what changed in `member`: its clusters (named with its context) and its findings.
fn merge(state: &mut State, member: usize) {
    let m = &state.members[member];
    let slot = m.state.fleet.slot(&Query::Clusters);
    let now = Merged {
        clusters_version: slot.map_or(0, |s| s.version),
        clusters_failed: slot.is_some_and(|s| s.error.is_some()),
        identified: !m.state.identity.account.is_empty(),
        findings: (m.state.triage.evaluations, m.state.triage.all().count()),
    };
    if m.merged == Some(now) {
        return;
    }
    let before = m.merged;
    state.members[member].merged = Some(now);
    let clusters_moved = before.is_none_or(|b| {
        (b.clusters_version, b.clusters_failed, b.identified)
            != (now.clusters_version, now.clusters_failed, now.identified)
    });
    if clusters_moved {
        merge_clusters(state);
        say_failures(state, member, before.is_some_and(|b| b.clusters_failed));
        state.identity = fleet_identity(&state.members);
    }
    if before.is_none_or(|b| b.findings != now.findings) {
        let findings: Vec<_> = state
            .members
            .iter()
            .flat_map(|m| {
                m.state.triage.all().map(|f| {
                    let mut f = f.clone();
                    f.current.subject = f.current.subject.with_cluster(|c| qualify(c, &m.context));
                    f
                })
            })
            .collect();
        state.triage.replace_with(findings);
        state.triage.last_evaluated = state
            .members
            .iter()
            .filter_map(|m| m.state.triage.last_evaluated)
            .max();
    }
    super::rows::refresh_all(state, &Query::Clusters);
}

/// Every member's clusters as one answer: each named with its context, a failing context's
/// last known rows marked stale with its reason.
fn merge_clusters(state: &mut State) {
    let mut clusters = Vec::new();
    let mut fetched: Option<crate::model::Time> = None;
    for m in &state.members {
        let place = crate::model::ClusterContext {
            profile: m.context.profile_label().to_string(),
            account: m.state.identity.account.clone(),
            region: m.context.region.clone(),
            stale: m.failure(),
        };
        for c in m.state.fleet.clusters() {
            let mut c = c.clone();
            c.name = qualify(&c.name, &m.context);
            c.context = Some(Box::new(place.clone()));
            clusters.push(c);
        }
        fetched = fetched.max(m.fetched_at());
    }
    let seq = state
        .fleet
        .slot(&Query::Clusters)
        .map_or(0, |s| s.applied_seq)
        + 1;
    let at = fetched.unwrap_or(state.now);
    state
        .fleet
        .apply(Query::Clusters, seq, at, Ok(Snapshot::Clusters(clusters)));
}

/// The fleet view's header: how many contexts, which regions, how many accounts.
fn fleet_identity(members: &[crate::state::Member]) -> crate::model::Identity {
    let mut regions: Vec<&str> = members.iter().map(|m| m.context.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    let mut accounts: Vec<&str> = members
        .iter()
        .map(|m| m.state.identity.account.as_str())
        .filter(|a| !a.is_empty())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    let failing = members.iter().filter(|m| m.failure().is_some()).count();
    let mut source = format!("fleet view: {} contexts", members.len());
    if failing > 0 {
        source += &format!(" ({failing} failing)");
    }
    crate::model::Identity {
        source,
        region: regions.join(", "),
        account: match accounts.len() {
            0 => String::new(),
            1 => accounts[0].to_string(),
            n => format!("{n} accounts"),
        },
        principal: "every context's own".into(),
    }
}

/// A context whose clusters poll fails (or answers again) says so on the fleet view's status
/// line, once: its rows are marked stale, the other contexts keep updating.
fn say_failures(state: &mut State, member: usize, failed_before: bool) {
    let m = &state.members[member];
    let title = m.title();
    match (m.failure(), failed_before) {
        (Some(why), false) => state.set_status(
            crate::state::Level::Warn,
            format!("{title}: {why} — its rows are stale; the other contexts keep updating"),
        ),
        (None, true) => {
            state.set_status(crate::state::Level::Info, format!("{title} answers again"))
        }
        _ => {}
    }
}
