//! `:` commands: resource kinds by name or alias (k9s-style); their names and completion are
//! `screen::commands`.

use crate::action::Effect;
use crate::state::{Level, PaneKind, Popup, State};

use super::{context, nav};
use crate::screen::commands::{COMMANDS, canonical};
use crate::source::CallReport;

pub fn run(state: &mut State, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    let word = words.next().unwrap_or_default();
    let arg = words.next();
    if word.is_empty() {
        return vec![];
    }
    if state.fleet_member && matches!(canonical(word), Some("findings" | "contexts" | "clusters")) {
        return vec![Effect::FleetCommand(line.to_string())];
    }
    if (state.fleet_member || state.is_fleet_view())
        && matches!(canonical(word), Some("region" | "profile"))
    {
        state.set_status(
            Level::Warn,
            "the fleet view watches its contexts side by side: :contexts add PROFILE [REGION] \
             and :contexts drop N change them",
        );
        return vec![];
    }
    match canonical(word) {
        Some("clusters") => nav::jump(state, PaneKind::Clusters),
        Some("services") => nav::jump(state, PaneKind::Services),
        Some("tasks") => nav::jump(state, PaneKind::Tasks),
        Some("instances") => nav::jump(state, PaneKind::Instances),
        Some("findings") => super::findings::open_findings(state),
        Some("rules") => state.popups.push(crate::screen::rules::popup()),
        Some("timeline") => {
            if state.is_fleet_view() {
                super::fleet_view::merge_timeline(state);
            }
            super::findings::open_timeline(state, arg)
        }
        Some("export") if state.is_fleet_view() => return super::fleet_view::export(state, arg),
        Some("export") => return super::findings::export(state, arg),
        Some("taskdefs") => return super::taskdefs::open(state, false),
        Some("diff") => return super::taskdefs::open(state, true),
        Some("forwards") => super::forwards::open_view(state),
        Some("region") => return context::region(state, arg),
        Some("profile") => return context::profile(state, arg),
        Some("stats") if state.is_fleet_view() => return super::fleet_view::stats(state),
        Some("stats") => return vec![Effect::ShowStats],
        Some("contexts") => {
            let args: Vec<&str> = line.split_whitespace().skip(1).collect();
            return super::fleet_view::contexts_command(state, &args);
        }
        Some("help") => state.popups.push(Popup::Help {
            pane: state.focused().pane.kind(),
            scroll: 0,
        }),
        Some("quit") => {
            state.should_quit = true;
            return vec![Effect::Quit];
        }
        _ => {
            let known: Vec<&str> = COMMANDS.iter().map(|(n, _)| *n).collect();
            state.set_status(
                Level::Warn,
                format!("unknown command :{word} — try {}", known.join(", ")),
            );
        }
    }
    vec![]
}

/// The `:stats` popup: each AWS service's budget (the rate allowed now, how much of the last
/// minute was throttled, the polls saved by coalescing), then the calls by operation since
/// the console started. `coalesced` counts fleet polls, which all go to ECS.
pub fn stats_popup(report: &CallReport, coalesced: u64, engine: &crate::state::Triage) -> Popup {
    let mut lines = Vec::new();
    if report.calls.is_empty() && report.budgets.is_empty() {
        lines.push("No AWS calls: the demo fleet is simulated in the process.".to_string());
    } else {
        lines.push(format!(
            "{:<24} {:>9} {:>9} {:>22} {:>10}",
            "SERVICE", "ALLOWED", "CEILING", "THROTTLED (LAST MIN)", "COALESCED"
        ));
        for b in &report.budgets {
            let share = (b.throttled * 100).checked_div(b.answers).unwrap_or(0);
            let throttled = format!("{} of {} ({share}%)", b.throttled, b.answers);
            let saved = if b.service == "ecs" {
                coalesced.to_string()
            } else {
                "–".into()
            };
            lines.push(format!(
                "{:<24} {:>9} {:>9} {throttled:>22} {saved:>10}",
                b.service,
                per_sec(b.allowed),
                per_sec(b.ceiling)
            ));
        }
        lines.push(String::new());
        lines.push(format!(
            "{:<36} {:>8} {:>8} {:>10}",
            "OPERATION", "CALLS", "ERRORS", "THROTTLED"
        ));
        for s in &report.calls {
            lines.push(format!(
                "{:<36} {:>8} {:>8} {:>10}",
                s.operation, s.calls, s.errors, s.throttled
            ));
        }
        let total: u64 = report.calls.iter().map(|s| s.calls).sum();
        lines.push(String::new());
        lines.push(format!(
            "{total} calls in all (pages and retries count one each). A throttled service's \
             allowed rate is halved, and grows back with each good answer; a poll that falls \
             due while the same one still waits is coalesced, not sent twice."
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "Findings engine: {} evaluations of every rule, the last took {}, the longest {} \
         (on a thread of its own: keys never wait for it).",
        engine.evaluations,
        millis(engine.last_cost),
        millis(engine.max_cost)
    ));
    let reuse = engine.last_reuse;
    lines.push(format!(
        "The last evaluation re-evaluated {} cluster(s) and re-used {} whose data had not \
         changed (each is evaluated again at least every {} s).",
        reuse.evaluated,
        reuse.reused,
        engine
            .last_max_age
            .unwrap_or(crate::state::MAX_AGE)
            .num_seconds()
    ));
    lines.push(format!(
        "In the clusters it re-evaluated, it judged {} service(s) again and re-used {} whose \
         own data had not changed.",
        reuse.services_evaluated, reuse.services_reused,
    ));
    Popup::Describe {
        title: "AWS calls".into(),
        lines,
        scroll: 0,
    }
}

/// `0.4 ms`, `12 ms`.
fn millis(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// `20/s`, `2.5/s`, `0.2/s`.
fn per_sec(rate: f64) -> String {
    if rate >= 10.0 || rate.fract() == 0.0 {
        format!("{rate:.0}/s")
    } else {
        format!("{rate:.1}/s")
    }
}
