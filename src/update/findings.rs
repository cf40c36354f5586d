//! `:findings`, `:timeline` and `:export`: reading what the triage engine concluded, jumping to
//! the object a finding is about, and acting on it from there.

use crossterm::event::KeyEvent;

use crate::action::Effect;
use crate::keymap::{Command, Context, KeyMap};
use crate::model::{Subject, TaskScope, metric_catalog};
use crate::screen::findings::{contexts, listed, selected_index};
use crate::screen::layout;
use crate::screen::timeline::timeline_entries;
use crate::state::{FindingsView, Level, Pane, Popup, State, TimelineView, View};

use super::keys::Handled;
use super::rows;

pub fn open_findings(state: &mut State) {
    state.popups.retain(|p| !matches!(p, Popup::Findings(_)));
    state.popups.push(Popup::Findings(FindingsView::default()));
}

/// `:timeline [service]`: everything, or one service's entries (by name, in any cluster).
pub fn open_timeline(state: &mut State, service: Option<&str>) {
    let service = match service {
        Some(arg) => {
            // `cluster/service`, or a service name: in the cluster on screen if it has one.
            let (cluster, name) = match arg.split_once('/') {
                Some((c, n)) => (Some(c.to_string()), n),
                None => (state.focused().pane.cluster().map(str::to_string), arg),
            };
            let candidates: Vec<(String, String)> = state
                .fleet
                .all_services()
                .into_iter()
                .filter(|s| s.name == name)
                .map(|s| {
                    (
                        metric_catalog::cluster_of(&s.cluster_arn).to_string(),
                        s.name.clone(),
                    )
                })
                .collect();
            let in_cluster: Vec<&(String, String)> = candidates
                .iter()
                .filter(|(c, _)| cluster.as_deref().is_none_or(|want| want == c))
                .collect();
            match (in_cluster.as_slice(), candidates.as_slice()) {
                ([one], _) => Some((*one).clone()),
                ([], [one]) if !arg.contains('/') => Some(one.clone()),
                ([], _) | (_, []) => {
                    state.set_status(Level::Warn, format!("no service named {arg}"));
                    return;
                }
                (many, _) => {
                    let names: Vec<String> = many.iter().map(|(c, n)| format!("{c}/{n}")).collect();
                    state.set_status(
                        Level::Warn,
                        format!(
                            "{name} is in several clusters: say which ({})",
                            names.join(", ")
                        ),
                    );
                    return;
                }
            }
        }
        None => None,
    };
    state.popups.retain(|p| !matches!(p, Popup::Timeline(_)));
    state.popups.push(Popup::Timeline(TimelineView {
        service,
        ..TimelineView::default()
    }));
}

/// The key-map sections of the findings popup: its own, then the selected finding's pane keys
/// (so `l` on a service's finding opens its logs), then `[[text]]` and `[[global]]`.
pub fn key_contexts(state: &State) -> Vec<Context> {
    let subject = match state.popups.last() {
        Some(Popup::Findings(view)) => {
            let listed = listed(state, view);
            let at = selected_index(&listed, view);
            listed.get(at).map(|f| f.current.subject.clone())
        }
        _ => None,
    };
    match subject {
        Some(s) => std::iter::once(Context::Findings)
            .chain(contexts(&s))
            .collect(),
        None => Context::Findings.chain().to_vec(),
    }
}

/// The findings popup's commands; back, quit, `:` and `?` are the global ones.
pub fn findings_command(
    state: &mut State,
    command: Command,
    key: KeyEvent,
    keymap: &KeyMap,
) -> Handled {
    let Some(Popup::Findings(view)) = state.popups.last() else {
        return Handled::NotMine;
    };
    let view = view.clone();
    let listed = listed(state, &view);
    let at = selected_index(&listed, &view);
    let subject = listed.get(at).map(|f| f.current.subject.clone());
    let ids: Vec<crate::model::FindingId> = listed.iter().map(|f| f.current.id()).collect();
    let count = listed.len();
    let page = layout::visible_rows(state.screen);
    let Some(Popup::Findings(v)) = state.popups.last_mut() else {
        return Handled::NotMine;
    };
    let last = count.saturating_sub(1);
    let moved = match command {
        Command::Up => Some(at.saturating_sub(1)),
        Command::Down => Some((at + 1).min(last)),
        Command::PageUp => Some(at.saturating_sub(page)),
        Command::PageDown => Some((at + page).min(last)),
        Command::Top => Some(0),
        Command::Bottom => Some(last),
        _ => None,
    };
    if let Some(to) = moved {
        v.selected = to;
        v.selected_id = ids.get(to).cloned();
        return Handled::Consumed(vec![]);
    }
    match command {
        Command::ToggleResolved => v.show_resolved = !v.show_resolved,
        Command::Enter | Command::Describe => {
            if let Some(subject) = subject {
                let findings = state.popups.pop();
                let nav = state.nav.clone();
                if !jump(state, &subject) {
                    // Not loaded yet: stay where the operator was (the status line says why).
                    state.nav = nav;
                    state.popups.extend(findings);
                }
            }
        }
        // An action key: go to the object and act on it as its own pane would; the findings
        // stay underneath whatever the action opens (confirmation, dialog, chart).
        Command::Logs
        | Command::Metrics
        | Command::Scale
        | Command::Shell
        | Command::Redeploy
        | Command::StopTask
        | Command::Drain
        | Command::TargetHealth => {
            let Some(subject) = subject else {
                return Handled::Consumed(vec![]);
            };
            let findings = state.popups.pop();
            let nav = state.nav.clone();
            if !jump(state, &subject) {
                state.nav = nav;
                state.popups.extend(findings);
                return Handled::Consumed(vec![]);
            }
            let before = state.popups.len();
            let effects = super::keys::handle(state, key, keymap);
            let opened = state.popups.len() > before;
            if opened && let Some(findings) = findings {
                state.popups.insert(before, findings);
            }
            return Handled::Consumed(effects);
        }
        _ => return Handled::NotMine,
    }
    Handled::Consumed(vec![])
}

/// The timeline popup's commands; back, quit, `:` and `?` are the global ones.
pub fn timeline_command(state: &mut State, command: Command) -> Handled {
    let page = layout::visible_rows(state.screen);
    let total = timeline_len(state);
    let Some(Popup::Timeline(view)) = state.popups.last_mut() else {
        return Handled::NotMine;
    };
    let last = total.saturating_sub(1);
    match command {
        Command::WindowNext => {
            view.window = view.window.next();
            view.scroll = 0;
        }
        Command::AllServices => {
            view.service = None;
            view.scroll = 0;
        }
        Command::Up => view.scroll = view.scroll.saturating_sub(1),
        Command::Down => view.scroll = (view.scroll + 1).min(last),
        Command::PageUp => view.scroll = view.scroll.saturating_sub(page),
        Command::PageDown => view.scroll = (view.scroll + page).min(last),
        Command::Top => view.scroll = 0,
        Command::Bottom => view.scroll = last,
        _ => return Handled::NotMine,
    }
    Handled::Consumed(vec![])
}

fn timeline_len(state: &State) -> usize {
    match state.popups.last() {
        Some(Popup::Timeline(view)) => timeline_entries(state, view).len(),
        _ => 0,
    }
}

/// Opens the panes down to a finding's object and selects it. Returns whether the object's row
/// is there (its data may still be loading).
pub fn jump(state: &mut State, subject: &Subject) -> bool {
    let cluster = subject.cluster().to_string();
    let mut nav = vec![View::new(Pane::Clusters).with_selected_key(Some(cluster.clone()))];
    let services = |selected: Option<&str>| {
        View::new(Pane::Services {
            cluster: cluster.clone(),
        })
        .with_selected_key(selected.map(str::to_string))
    };
    match subject {
        // The cluster's own row: its keys (chart, services) act on the cluster.
        Subject::Cluster { .. } => {}
        Subject::Service { service, .. } | Subject::TargetGroup { service, .. } => {
            nav.push(services(Some(service)))
        }
        Subject::Task {
            service, task_arn, ..
        }
        | Subject::Container {
            service, task_arn, ..
        } => {
            let stopped = state.triage.stops.contains_key(task_arn);
            let scope = match service {
                Some(s) => {
                    nav.push(services(Some(s)));
                    TaskScope::Service {
                        cluster: cluster.clone(),
                        service: s.clone(),
                    }
                }
                None => TaskScope::Cluster {
                    cluster: cluster.clone(),
                },
            };
            nav.push(
                View::new(Pane::Tasks { scope, stopped }).with_selected_key(Some(task_arn.clone())),
            );
            if let Subject::Container { container, .. } = subject {
                nav.push(
                    View::new(Pane::Containers {
                        cluster: cluster.clone(),
                        task: task_arn.clone(),
                    })
                    .with_selected_key(Some(container.clone())),
                );
            }
        }
        Subject::Instance { instance_arn, .. } => nav.push(
            View::new(Pane::Instances {
                cluster: cluster.clone(),
            })
            .with_selected_key(Some(instance_arn.clone())),
        ),
    }
    state.nav = nav;
    rows::refresh_nav(state);
    // Found unless a pane that has its data lacks the object (it is gone); a pane still
    // loading selects it as soon as its answer arrives.
    let found = state.nav.iter().all(|view| {
        let loaded = state
            .fleet
            .slot(&view.pane.query())
            .is_some_and(|s| s.data.is_some());
        !loaded || view.selected_key.is_none() || row_is(state, view)
    });
    if !found {
        state.set_status(
            Level::Info,
            format!(
                "{} — not there any more, or not loaded yet",
                subject.label()
            ),
        );
    }
    found
}

/// Whether a view's selected row is the item its `selected_key` names.
fn row_is(state: &State, view: &View) -> bool {
    let Some(i) = view.selected_item() else {
        return false;
    };
    let got = crate::with_table!(
        crate::screen::panes::items(&view.pane, &state.fleet),
        |items, _cols, key_of| key_of(&items[i]).to_string()
    );
    view.selected_key.as_deref() == Some(got.as_str())
}

/// `:export [path]`: the incident snapshot as Markdown.
pub fn export(state: &mut State, path: Option<&str>) -> Vec<Effect> {
    let contents = crate::screen::export::markdown(state);
    write_export(state, path, contents)
}

/// Writes an export's `contents` to `path`, or a new file named after the time in the state
/// directory's `exports`.
pub fn write_export(state: &mut State, path: Option<&str>, contents: String) -> Vec<Effect> {
    let path = match path {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let name = format!("ecsmon-incident-{}.md", state.now.format("%Y%m%d-%H%M%S"));
            match crate::config::state_dir() {
                Some(dir) => dir.join("exports").join(name),
                None => std::path::PathBuf::from(name),
            }
        }
    };
    state.set_status(Level::Info, format!("writing {}…", path.display()));
    vec![Effect::WriteExport { path, contents }]
}
