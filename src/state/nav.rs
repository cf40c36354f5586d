//! What a view shows. The navigation stack is a `Vec<View>`; each view shows one `Pane`.

use crate::keymap::Context;
use crate::model::{Query, TaskScope, arn_tail};

/// The kind of list a pane shows: picks columns, key context and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneKind {
    Clusters,
    Services,
    Tasks,
    Containers,
    Instances,
}

impl PaneKind {
    /// Key-map contexts for this pane, most specific first.
    pub fn contexts(self) -> [Context; 3] {
        let own = match self {
            PaneKind::Clusters => Context::Clusters,
            PaneKind::Services => Context::Services,
            PaneKind::Tasks => Context::Tasks,
            PaneKind::Containers => Context::Containers,
            PaneKind::Instances => Context::Instances,
        };
        [own, Context::Table, Context::Global]
    }
}

/// One pane and the scope it shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pane {
    Clusters,
    Services {
        cluster: String,
    },
    Tasks {
        scope: TaskScope,
        stopped: bool,
    },
    /// The containers of one task (by ARN).
    Containers {
        cluster: String,
        task: String,
    },
    Instances {
        cluster: String,
    },
}

impl Pane {
    pub fn kind(&self) -> PaneKind {
        match self {
            Pane::Clusters => PaneKind::Clusters,
            Pane::Services { .. } => PaneKind::Services,
            Pane::Tasks { .. } => PaneKind::Tasks,
            Pane::Containers { .. } => PaneKind::Containers,
            Pane::Instances { .. } => PaneKind::Instances,
        }
    }

    /// The poll that feeds this pane.
    pub fn query(&self) -> Query {
        match self {
            Pane::Clusters => Query::Clusters,
            Pane::Services { cluster } => Query::Services {
                cluster: cluster.clone(),
            },
            Pane::Tasks { scope, stopped } => Query::Tasks {
                scope: scope.clone(),
                stopped: *stopped,
            },
            Pane::Containers { cluster, task } => Query::Task {
                cluster: cluster.clone(),
                task: task.clone(),
            },
            Pane::Instances { cluster } => Query::Instances {
                cluster: cluster.clone(),
            },
        }
    }

    /// The same pane with its cluster named by `rename` (into or out of the fleet view's
    /// qualified names).
    pub fn with_cluster(mut self, rename: impl FnOnce(&str) -> String) -> Pane {
        let cluster = match &mut self {
            Pane::Clusters => return self,
            Pane::Services { cluster }
            | Pane::Containers { cluster, .. }
            | Pane::Instances { cluster } => cluster,
            Pane::Tasks { scope, .. } => match scope {
                TaskScope::Service { cluster, .. }
                | TaskScope::Cluster { cluster }
                | TaskScope::Instance { cluster, .. } => cluster,
            },
        };
        *cluster = rename(cluster);
        self
    }

    pub fn cluster(&self) -> Option<&str> {
        match self {
            Pane::Clusters => None,
            Pane::Services { cluster }
            | Pane::Containers { cluster, .. }
            | Pane::Instances { cluster } => Some(cluster),
            Pane::Tasks { scope, .. } => Some(scope.cluster()),
        }
    }

    /// The pane's table title, before the count: `Tasks`, `Stopped tasks`, …
    pub fn title(&self) -> &'static str {
        match self {
            Pane::Clusters => "Clusters",
            Pane::Services { .. } => "Services",
            Pane::Tasks { stopped: false, .. } => "Tasks",
            Pane::Tasks { stopped: true, .. } => "Stopped tasks",
            Pane::Containers { .. } => "Containers",
            Pane::Instances { .. } => "Instances",
        }
    }

    /// This pane's segment of the breadcrumb.
    pub fn crumb(&self) -> String {
        match self {
            Pane::Clusters => "clusters".into(),
            Pane::Services { cluster } => cluster.clone(),
            Pane::Tasks { scope, stopped } => {
                let base = match scope {
                    TaskScope::Service { service, .. } => service.clone(),
                    TaskScope::Cluster { cluster } => format!("{cluster} › tasks"),
                    TaskScope::Instance { instance, .. } => arn_tail(instance).to_string(),
                };
                if *stopped {
                    format!("{base} (stopped)")
                } else {
                    base
                }
            }
            Pane::Containers { task, .. } => crate::model::arn::short_task_id(task).to_string(),
            Pane::Instances { cluster } => format!("{cluster} › instances"),
        }
    }
}
