//! What a pane asks the world for. A `Query` is both the poll key and the cache key; a
//! `Snapshot` is the answer.

use super::{Cluster, Instance, NatGateway, Service, Task};

/// Which tasks a tasks pane lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskScope {
    Service {
        cluster: String,
        service: String,
    },
    Cluster {
        cluster: String,
    },
    /// Tasks placed on one container instance (its ARN).
    Instance {
        cluster: String,
        instance: String,
    },
}

impl TaskScope {
    pub fn cluster(&self) -> &str {
        match self {
            TaskScope::Service { cluster, .. }
            | TaskScope::Cluster { cluster }
            | TaskScope::Instance { cluster, .. } => cluster,
        }
    }
}

/// One poll of the world. Clusters and services are named by name (ECS accepts names or ARNs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Query {
    Clusters,
    Services {
        cluster: String,
    },
    /// `stopped` lists recently stopped tasks instead of running ones.
    Tasks {
        scope: TaskScope,
        stopped: bool,
    },
    /// One task (by ARN), for its containers pane.
    Task {
        cluster: String,
        task: String,
    },
    Instances {
        cluster: String,
    },
    /// The NAT gateways the default routes of a cluster's subnets (its services' awsvpc
    /// subnets and its instances' subnets, sorted) go through. Polled for the triage engine.
    Egress {
        cluster: String,
        subnets: Vec<String>,
    },
}

impl Query {
    /// The cluster the answer is about (by the name the query gives; none for the clusters
    /// list).
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Query::Clusters => None,
            Query::Services { cluster }
            | Query::Task { cluster, .. }
            | Query::Instances { cluster }
            | Query::Egress { cluster, .. } => Some(cluster),
            Query::Tasks { scope, .. } => Some(scope.cluster()),
        }
    }

    /// Short words for status lines and logs: "tasks of cart".
    pub fn describe(&self) -> String {
        match self {
            Query::Clusters => "clusters".into(),
            Query::Services { cluster } => format!("services of {cluster}"),
            Query::Tasks { scope, stopped } => {
                let which = if *stopped { "stopped tasks" } else { "tasks" };
                match scope {
                    TaskScope::Service { service, .. } => format!("{which} of {service}"),
                    TaskScope::Cluster { cluster } => format!("{which} of {cluster}"),
                    TaskScope::Instance { instance, .. } => {
                        format!("{which} on {}", super::arn_tail(instance))
                    }
                }
            }
            Query::Task { task, .. } => format!("task {}", super::arn_tail(task)),
            Query::Instances { cluster } => format!("instances of {cluster}"),
            Query::Egress { cluster, .. } => format!("NAT gateways of {cluster}"),
        }
    }
}

/// The answer to one [`Query`], owned, so a poller can send it to the UI as an action.
#[derive(Debug, Clone, PartialEq)]
pub enum Snapshot {
    Clusters(Vec<Cluster>),
    Services(Vec<Service>),
    Tasks(Vec<Task>),
    /// `None`: the task no longer exists.
    Task(Option<Box<Task>>),
    Instances(Vec<Instance>),
    Egress(Vec<NatGateway>),
}

/// Answers with at least this many rows are fingerprinted off the UI loop, where comparing
/// them with the previous answer item by item would stall it (100,000 tasks: a quarter of a
/// second in a debug build).
const FINGERPRINT_FROM: usize = 2_000;

/// A big answer's fingerprints: each row's, and the whole answer's (made from the rows').
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    pub whole: u64,
    /// Row by row: a table keeps the cells it made for a row whose print is unchanged.
    pub rows: std::sync::Arc<Vec<u64>>,
}

impl Snapshot {
    /// The answer's fingerprints when it is big enough to be worth them, for `Fleet::apply`
    /// to tell a changed answer from an identical one without comparing them, and for a
    /// table to remake only the cells of the rows that changed. Made where the answer is
    /// received, off the UI loop.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        let weight = match self {
            // A service carries its events: ten times a task's text, or so.
            Snapshot::Services(v) => v.len() * 10,
            Snapshot::Tasks(v) => v.len(),
            Snapshot::Instances(v) => v.len(),
            _ => return None,
        };
        if weight < FINGERPRINT_FROM {
            return None;
        }
        self.row_prints().map(fingerprint_of)
    }

    /// The tasks an answer holds: a tasks list's, or one task's; none for other answers.
    pub fn task_rows(&self) -> &[Task] {
        match self {
            Snapshot::Tasks(v) => v,
            Snapshot::Task(Some(t)) => std::slice::from_ref(&**t),
            _ => &[],
        }
    }

    /// Each row's print, whatever the answer's size (what [`Snapshot::fingerprint`] is made of;
    /// the triage engine makes them itself for answers too small to come with them). `None`
    /// for answers whose rows are not printed.
    pub fn row_prints(&self) -> Option<Vec<u64>> {
        match self {
            // Hashed, not formatted: the focused pane's 60,000 tasks are answered every few
            // seconds, and formatting them cost the poller more than the loop's comparison; a
            // big cluster's 1,200 services with their events, every 30 s, cost as much.
            Snapshot::Services(v) => Some(v.iter().map(super::hash::of_hash).collect()),
            Snapshot::Tasks(v) => Some(v.iter().map(super::hash::of_hash).collect()),
            Snapshot::Instances(v) => Some(v.iter().map(super::hash::of_debug).collect()),
            _ => None,
        }
    }
}

fn fingerprint_of(rows: Vec<u64>) -> Fingerprint {
    let bytes: Vec<u8> = rows.iter().flat_map(|r| r.to_le_bytes()).collect();
    Fingerprint {
        whole: super::hash::stable(&[&bytes]),
        rows: std::sync::Arc::new(rows),
    }
}
