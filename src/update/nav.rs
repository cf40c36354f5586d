//! Moving through the navigation stack: drill down, go back, jump by command.

use crate::model::TaskScope;
use crate::screen::panes::{self, Items};
use crate::state::{Level, Pane, PaneKind, State, View};

use super::{describe, rows};

/// `enter`: open what the selected row contains.
pub fn drill_down(state: &mut State) {
    let view = state.focused();
    let Some(i) = view.selected_item() else {
        return;
    };
    let cluster = view.pane.cluster().unwrap_or_default().to_string();
    let next = match panes::items(&view.pane, &state.fleet) {
        Items::Clusters(v) => View::new(Pane::Services {
            cluster: v[i].name.clone(),
        }),
        Items::Services(v) => View::new(Pane::Tasks {
            scope: TaskScope::Service {
                cluster,
                service: v[i].name.clone(),
            },
            stopped: false,
        }),
        Items::Tasks(v, ..) => View::new(Pane::Containers {
            cluster,
            task: v[i].arn.to_string(),
        }),
        Items::Instances(v) => View::new(Pane::Tasks {
            scope: TaskScope::Instance {
                cluster,
                instance: v[i].arn.clone(),
            },
            stopped: false,
        })
        .with_label(Some(v[i].ec2_instance_id.clone())),
        // A container is the bottom of the tree: show it in full.
        Items::Containers(_) => {
            if let Some(popup) = describe::open(state) {
                state.popups.push(popup);
            }
            return;
        }
    };
    push(state, next);
}

/// `esc` with no filter: back to the pane below. At the root there is nowhere to go.
pub fn back(state: &mut State) {
    if state.nav.len() > 1 {
        state.nav.pop();
        rows::refresh_focused(state);
    }
}

fn push(state: &mut State, view: View) {
    state.nav.push(view);
    rows::refresh_focused(state);
}

/// What the selection says about scope, for `:services`, `:tasks`, `:instances`.
#[derive(Default, Debug)]
struct Scope {
    cluster: Option<String>,
    service: Option<String>,
    instance: Option<(String, String)>,
}

fn current_scope(state: &State) -> Scope {
    let view = state.focused();
    let mut scope = Scope {
        cluster: view.pane.cluster().map(str::to_string),
        ..Scope::default()
    };
    let selected = view.selected_item();
    match (panes::items(&view.pane, &state.fleet), selected) {
        (Items::Clusters(v), Some(i)) => scope.cluster = Some(v[i].name.clone()),
        (Items::Services(v), Some(i)) => scope.service = Some(v[i].name.clone()),
        (Items::Instances(v), Some(i)) => {
            scope.instance = Some((v[i].arn.clone(), v[i].ec2_instance_id.clone()))
        }
        _ => {}
    }
    scope
}

/// `:clusters`, `:services`, … : builds the canonical path to the pane of that kind for the
/// current selection, reusing the views already on the stack (with their filters and
/// selections) where the path goes through them.
pub fn jump(state: &mut State, kind: PaneKind) {
    let scope = current_scope(state);
    let root = View::new(Pane::Clusters).with_selected_key(scope.cluster.clone());
    let mut path = vec![root];
    if kind != PaneKind::Clusters {
        let Some(cluster) = scope.cluster.clone() else {
            state.set_status(Level::Warn, "select a cluster first");
            return;
        };
        match kind {
            PaneKind::Services => path.push(services(&cluster, scope.service.clone())),
            PaneKind::Instances => path.push(View::new(Pane::Instances { cluster })),
            PaneKind::Tasks => match (scope.service, scope.instance) {
                (Some(service), _) => {
                    path.push(services(&cluster, Some(service.clone())));
                    path.push(View::new(Pane::Tasks {
                        scope: TaskScope::Service { cluster, service },
                        stopped: false,
                    }));
                }
                (None, Some((instance, ec2))) => {
                    path.push(View::new(Pane::Instances {
                        cluster: cluster.clone(),
                    }));
                    path.push(
                        View::new(Pane::Tasks {
                            scope: TaskScope::Instance { cluster, instance },
                            stopped: false,
                        })
                        .with_label(Some(ec2)),
                    );
                }
                (None, None) => path.push(View::new(Pane::Tasks {
                    scope: TaskScope::Cluster { cluster },
                    stopped: false,
                })),
            },
            PaneKind::Clusters | PaneKind::Containers => {}
        }
    }
    let old = std::mem::take(&mut state.nav);
    state.nav = path
        .into_iter()
        .enumerate()
        .map(|(i, new)| match old.get(i) {
            Some(existing) if existing.pane == new.pane => existing.clone(),
            _ => new,
        })
        .collect();
    let ctx = crate::screen::table::RowCtx {
        now: state.now,
        metrics: &state.metrics,
        triage: &state.triage,
    };
    for view in &mut state.nav {
        rows::refresh(view, &state.fleet, &ctx, state.stopped_window);
    }
    rows::refresh_focused(state);
}

fn services(cluster: &str, selected: Option<String>) -> View {
    View::new(Pane::Services {
        cluster: cluster.to_string(),
    })
    .with_selected_key(selected)
}
