//! Rows before details: the kinds of row a big pane shows as soon as its list calls answer
//! (services, tasks, container instances), each known first by its ARN alone, marked as
//! loading, and filled in by describe batches (`state::Progress`, `poll::describe`).

use super::{Instance, Query, Service, Snapshot, Task, Time};

/// A row a pane can hold before its details come.
pub trait Listed: Clone + PartialEq + Sized {
    /// What the pane is called in messages (`service`, `task`, `container instance`).
    const KIND: &'static str;
    /// A row known only from a list call of `cluster`: its ARN, marked as loading.
    fn listed(arn: &str, cluster: &str) -> Self;
    fn arn(&self) -> &str;
    /// Listed, details not come yet: what it holds beyond its ARN is unknown, not zero.
    fn loading(&self) -> bool;
    fn described_at(&self) -> Option<Time>;
    fn set_described_at(&mut self, at: Option<Time>);
    /// This kind's rows in an answer.
    fn rows(data: &Snapshot) -> Option<&Vec<Self>>;
    fn rows_mut(data: &mut Snapshot) -> Option<&mut Vec<Self>>;
    fn answer(rows: Vec<Self>) -> Snapshot;
    /// Listed rows are kept in the order whole answers come in (the pane sorts them itself).
    fn sort(_rows: &mut [Self]) {}
}

/// The cluster whose rows `query` lists, for the queries whose rows can come before their
/// details.
pub fn listed_cluster(query: &Query) -> Option<&str> {
    match query {
        Query::Services { cluster } | Query::Instances { cluster } => Some(cluster),
        Query::Tasks { scope, .. } => Some(scope.cluster()),
        _ => None,
    }
}

/// The accessors every row kind has alike: the same fields, its own `Snapshot` variant.
macro_rules! listed_rows {
    ($variant:ident) => {
        fn arn(&self) -> &str {
            &self.arn
        }
        fn loading(&self) -> bool {
            self.loading
        }
        fn described_at(&self) -> Option<Time> {
            self.described_at
        }
        fn set_described_at(&mut self, at: Option<Time>) {
            self.described_at = at;
        }
        fn rows(data: &Snapshot) -> Option<&Vec<Self>> {
            match data {
                Snapshot::$variant(v) => Some(v),
                _ => None,
            }
        }
        fn rows_mut(data: &mut Snapshot) -> Option<&mut Vec<Self>> {
            match data {
                Snapshot::$variant(v) => Some(v),
                _ => None,
            }
        }
        fn answer(rows: Vec<Self>) -> Snapshot {
            Snapshot::$variant(rows)
        }
    };
}

impl Listed for Service {
    const KIND: &'static str = "service";
    fn listed(arn: &str, cluster: &str) -> Self {
        Service::listed(arn, cluster)
    }
    listed_rows!(Services);
    /// Whole answers come sorted by name.
    fn sort(rows: &mut [Self]) {
        rows.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

impl Listed for Task {
    const KIND: &'static str = "task";
    fn listed(arn: &str, cluster: &str) -> Self {
        Task {
            arn: arn.into(),
            cluster_arn: super::arn::cluster_arn_or(arn, cluster).into(),
            loading: true,
            ..Task::default()
        }
    }
    listed_rows!(Tasks);
}

impl Listed for Instance {
    const KIND: &'static str = "container instance";
    fn listed(arn: &str, cluster: &str) -> Self {
        Instance {
            arn: arn.to_string(),
            cluster_arn: super::arn::cluster_arn_or(arn, cluster),
            loading: true,
            ..Instance::default()
        }
    }
    listed_rows!(Instances);
}
