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
use crate::state::{InputMode, Level, Merged, Popup, State, View};

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
        effects.extend(own(super::update_one(state, Action::Quit, keymap)));
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
                if !state.members[member].dropped {
                    effects.extend(in_member(state, member, action.clone(), keymap));
                }
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
    // The breadcrumb starts with the context: `alpha · eu-west-1 › prod › web`.
    root.label = Some(m.context.to_string());
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
        clusters_fetched: slot.and_then(|s| s.fetched_at),
        identified: !m.state.identity.account.is_empty(),
        findings: (m.state.triage.evaluations, m.state.triage.all().count()),
        metrics_at: m.state.metrics.fetched_at,
    };
    if m.merged == Some(now) {
        return;
    }
    let before = m.merged;
    state.members[member].merged = Some(now);
    let clusters_moved = before.is_none_or(|b| {
        (
            b.clusters_version,
            b.clusters_failed,
            b.identified,
            b.clusters_fetched,
        ) != (
            now.clusters_version,
            now.clusters_failed,
            now.identified,
            now.clusters_fetched,
        )
    });
    if clusters_moved {
        merge_clusters(state);
        say_failures(state, member, before.is_some_and(|b| b.clusters_failed));
        state.identity = fleet_identity(&state.members);
    }
    if before.is_none_or(|b| b.metrics_at != now.metrics_at) {
        merge_cluster_series(state, member);
    }
    if before.is_none_or(|b| b.findings != now.findings) {
        merge_findings(state);
        if state.popups.iter().any(|p| matches!(p, Popup::Timeline(_))) {
            merge_timeline(state);
        }
    }
    super::rows::refresh_all(state, &Query::Clusters);
}

/// Every context's findings, each subject's cluster named with its context.
fn merge_findings(state: &mut State) {
    {
        let findings: Vec<_> = state
            .members
            .iter()
            .filter(|m| !m.dropped)
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
}

/// Every member's clusters as one answer: each named with its context, a failing context's
/// last known rows marked stale with its reason. Made again whenever a context's clusters
/// answer (a few rows a context: the rows' cells are kept while they are the same).
fn merge_clusters(state: &mut State) {
    let mut clusters = Vec::new();
    let mut fetched: Option<crate::model::Time> = None;
    for m in state.members.iter().filter(|m| !m.dropped) {
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
        // The header's data age: the oldest of the contexts that answer (a failing one's
        // rows say so themselves).
        if place.stale.is_none() {
            fetched = match (fetched, m.fetched_at()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
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
    let members: Vec<&crate::state::Member> = members.iter().filter(|m| !m.dropped).collect();
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
            Level::Warn,
            format!("{title}: {why} — its rows are stale; the other contexts keep updating"),
        ),
        (None, true) => state.set_status(Level::Info, format!("{title} answers again")),
        _ => {}
    }
}

/// The member's cluster-wide series (a cluster row's CPU and memory sparklines, its
/// reservations), held by the fleet view under the cluster's name with its context.
fn merge_cluster_series(state: &mut State, member: usize) {
    let m = &state.members[member];
    let series: Vec<_> = m
        .state
        .metrics
        .series()
        .iter()
        .filter_map(|(key, history)| {
            let [(dimension, cluster)] = &key.metric.dimensions[..] else {
                return None;
            };
            if dimension != "ClusterName" {
                return None;
            }
            let mut key = key.clone();
            key.metric.dimensions[0].1 = qualify(cluster, &m.context);
            Some((key, history.clone()))
        })
        .collect();
    for (key, history) in series {
        state.metrics.put(key, history);
    }
}

/// `:contexts` (the list, with each context's state), `:contexts add PROFILE [REGION]`,
/// `:contexts drop N` (its number in the list, or its profile and region).
pub fn contexts_command(state: &mut State, args: &[&str]) -> Vec<Effect> {
    match args {
        [] => {
            state.popups.push(contexts_popup(state));
            vec![]
        }
        ["add", profile, rest @ ..] if rest.len() <= 1 => add(state, profile, rest.first()),
        ["drop", who @ ..] if !who.is_empty() => {
            drop_context(state, who);
            vec![]
        }
        _ => {
            state.set_status(
                Level::Warn,
                "usage: :contexts, :contexts add PROFILE [REGION], :contexts drop N",
            );
            vec![]
        }
    }
}

fn contexts_popup(state: &State) -> Popup {
    let mut lines = Vec::new();
    if !state.is_fleet_view() {
        let region = &state.identity.region;
        lines.push(format!(
            "One context: {} · {}.",
            state
                .aws
                .as_ref()
                .and_then(|a| a.profile.clone())
                .unwrap_or_else(|| crate::model::DEFAULT_PROFILE_LABEL.into()),
            if region.is_empty() { "…" } else { region }
        ));
        lines.push(String::new());
        lines.push(
            "Start ecsmon with several profiles or regions (--profile prod,staging --region \
             eu-west-1,us-east-1, or --contexts NAME for a set in config.toml) to watch them \
             together in one clusters pane."
                .into(),
        );
        return Popup::Describe {
            title: "Contexts".into(),
            lines,
            scroll: 0,
        };
    }
    lines.push(format!(
        "{:>2}  {:<40} {:<9} {:>8}  {:<16} {}",
        "#", "CONTEXT", "STATE", "CLUSTERS", "FINDINGS C/W/I", "DATA"
    ));
    let mut failures = Vec::new();
    for (i, m) in state.members.iter().enumerate().filter(|(_, m)| !m.dropped) {
        let (crit, warn, info) = m.state.triage.counts();
        let failure = m.failure();
        let data = m.fetched_at().map_or_else(
            || "waiting".to_string(),
            |at| format!("{} old", crate::screen::format::age(state.now, at)),
        );
        lines.push(format!(
            "{:>2}  {:<40} {:<9} {:>8}  {:<16} {data}",
            i + 1,
            m.title(),
            if failure.is_some() { "FAILING" } else { "ok" },
            m.state.fleet.clusters().len(),
            format!("{crit}/{warn}/{info}")
        ));
        if let Some(why) = failure {
            failures.push(format!("{}: {why}", m.title()));
        }
    }
    if !failures.is_empty() {
        lines.push(String::new());
        lines.extend(failures);
    }
    lines.push(String::new());
    lines.push(
        ":contexts add PROFILE [REGION] watches one more; :contexts drop N stops watching one."
            .into(),
    );
    Popup::Describe {
        title: "Contexts".into(),
        lines,
        scroll: 0,
    }
}

fn add(state: &mut State, profile: &str, region: Option<&&str>) -> Vec<Effect> {
    if !state.is_fleet_view() {
        state.set_status(
            Level::Warn,
            "contexts are added to the fleet view: start ecsmon with several --profile or \
             --region (or :profile and :region switch this one)",
        );
        return vec![];
    }
    if state.members.iter().all(|m| m.state.aws.is_none()) {
        state.set_status(
            Level::Warn,
            "the demo organisation's contexts are fixed: contexts are added against AWS",
        );
        return vec![];
    }
    if let Some(region) = region.filter(|r| !crate::model::valid_region(r)) {
        state.set_status(
            Level::Warn,
            format!("'{region}' is not a region name like eu-west-1"),
        );
        return vec![];
    }
    let profile = (profile != crate::model::DEFAULT_PROFILE_LABEL).then_some(profile);
    let wanted = crate::model::WantedContext::new(profile, region.copied());
    let watched = state.members.iter().any(|m| {
        !m.dropped
            && m.context.profile.as_deref() == profile
            && region.is_none_or(|r| m.context.region == *r)
    });
    if watched {
        state.set_status(Level::Warn, format!("{wanted} is watched already"));
        return vec![];
    }
    let endpoint_url = state
        .members
        .iter()
        .find_map(|m| m.state.aws.as_ref())
        .and_then(|a| a.endpoint_url.clone());
    state.set_status(Level::Info, format!("connecting {wanted}…"));
    vec![Effect::ConnectContext {
        wanted,
        endpoint_url,
    }]
}

fn drop_context(state: &mut State, who: &[&str]) {
    let found = match who {
        [n] if n.parse::<usize>().is_ok() => n
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|&i| state.members.get(i).is_some_and(|m| !m.dropped)),
        [profile, region @ ..] => {
            let matching: Vec<usize> = (0..state.members.len())
                .filter(|&i| {
                    let m = &state.members[i];
                    !m.dropped
                        && m.context.profile_label() == *profile
                        && region.first().is_none_or(|r| m.context.region == *r)
                })
                .collect();
            match matching[..] {
                [one] => Some(one),
                _ => None,
            }
        }
        [] => None,
    };
    let Some(member) = found else {
        state.set_status(
            Level::Warn,
            format!(
                "no context {} (its number in :contexts, or its profile and region)",
                who.join(" ")
            ),
        );
        return;
    };
    if state.members.iter().filter(|m| !m.dropped).count() == 1 {
        state.set_status(Level::Warn, "the last context cannot be dropped");
        return;
    }
    if state.active_member == Some(member) {
        state.members[member].state.nav.truncate(1);
        give_back(state, member);
    }
    let m = &mut state.members[member];
    m.dropped = true;
    let title = m.title();
    merge_clusters(state);
    merge_findings(state);
    state.identity = fleet_identity(&state.members);
    state
        .popups
        .retain(|p| !matches!(p, Popup::Describe { title, .. } if title == "Contexts"));
    state.set_status(Level::Info, format!("{title} is no longer watched"));
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
    member.fleet_member = true;
    let title = context.to_string();
    state
        .members
        .push(crate::state::Member::new(context, member));
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

/// The fleet view's `:stats`: every context's calls and budgets, asked of each.
pub fn stats(state: &mut State) -> Vec<Effect> {
    state.fleet_stats = Some(Vec::new());
    (0..state.members.len())
        .filter(|&i| !state.members[i].dropped)
        .map(|member| Effect::In {
            member,
            effect: Box::new(Effect::ShowStats),
        })
        .collect()
}

/// A context's `:stats` answer, while the fleet view asks: once every context has answered,
/// one popup with a section per context.
fn stats_loaded(state: &mut State, member: usize, report: crate::source::CallReport) {
    let Some(got) = state.fleet_stats.as_mut() else {
        return;
    };
    got.push((member, report));
    let asked = state.members.iter().filter(|m| !m.dropped).count();
    if got.len() < asked {
        return;
    }
    let mut got = state.fleet_stats.take().unwrap_or_default();
    got.sort_by_key(|(member, _)| *member);
    let mut lines = Vec::new();
    let total: u64 = got
        .iter()
        .flat_map(|(_, r)| r.calls.iter().map(|c| c.calls))
        .sum();
    lines.push(format!(
        "{total} AWS calls in all, over {} contexts; each context has its own budgets \
         (AWS's limits are per account and region).",
        got.len()
    ));
    for (member, report) in got {
        let m = &state.members[member];
        let calls: u64 = report.calls.iter().map(|c| c.calls).sum();
        lines.push(String::new());
        lines.push(format!("── {} · {calls} calls ──", m.title()));
        let popup =
            super::command::stats_popup(&report, m.state.polls.coalesced(), &m.state.triage);
        if let Popup::Describe { lines: own, .. } = popup {
            lines.extend(own);
        }
    }
    state.popups.push(Popup::Describe {
        title: "AWS calls by context".into(),
        lines,
        scroll: 0,
    });
}

/// The fleet view's timeline: every context's entries, each subject named with its context.
/// Made when `:timeline` opens and again as contexts change while it is open (not on every
/// answer: a timeline holds thousands of entries).
pub fn merge_timeline(state: &mut State) {
    let mut merged = crate::state::Timeline::default();
    for m in state.members.iter().filter(|m| !m.dropped) {
        let label = m.context.to_string();
        for entry in m.state.triage.timeline.entries() {
            let mut entry = entry.clone();
            entry.cluster = entry.cluster.map(|c| qualify(&c, &m.context));
            entry.subject = format!("{label} › {}", entry.subject);
            merged.push(entry);
        }
    }
    state.triage.timeline = merged;
}

/// The fleet view's `:export`: a section per context, each the context's own snapshot.
pub fn export(state: &mut State, path: Option<&str>) -> Vec<Effect> {
    let mut contents = format!(
        "# ecsmon fleet snapshot — {} — {}\n\n",
        state.identity.source,
        state.now.format("%Y-%m-%d %H:%M:%S UTC")
    );
    for m in state.members.iter().filter(|m| !m.dropped) {
        contents += &format!("\n---\n\n## Context {}\n\n", m.title());
        if let Some(why) = m.failure() {
            contents += &format!("**Stale:** {why}\n\n");
        }
        contents += &crate::screen::export::markdown(&m.state);
    }
    super::findings::write_export(state, path, contents)
}
