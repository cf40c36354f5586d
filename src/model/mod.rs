//! Domain types shared by every layer: the sources fill them, `state/` stores them, `ui/` draws
//! them, `triage/` judges them. Nothing here knows about the AWS SDK.

pub mod arn;
mod cluster;
mod context;
mod egress;
mod error;
mod finding;
mod forward;
pub mod hash;
mod history;
mod identity;
mod instance;
mod listed;
mod log;
mod metric;
pub mod metric_catalog;
mod ops;
mod region;
mod scope;
mod service;
mod shared;
mod task;
mod taskdef;
pub mod taskdef_diff;

pub use cluster::{Cluster, ClusterContext, Insights};
pub use context::{Context, ContextId, DEFAULT_PROFILE_LABEL, WantedContext, qualify, unqualify};
pub use egress::NatGateway;
pub use error::{ErrorKind, OUTCOME_UNKNOWN, SourceError};
pub use finding::{Evidence, Finding, FindingId, Observation, Remedy, Severity, Subject};
pub use forward::{
    FORWARD_DOCUMENT, FORWARD_REMOTE_DOCUMENT, ForwardOpening, ForwardTarget, forward_document,
};
pub use history::History;
pub use identity::Identity;
pub use instance::{CreditMode, Instance, RecommendedAmi};
pub use listed::{Listed, listed_cluster};
pub use log::{
    LogEvent, LogQuery, LogRead, LogSample, LogStreamRef, LogSubject, MESSAGE_LIMIT,
    bounded_message, log_streams,
};
pub use metric::{
    Alarm, AlarmState, MetricId, MetricRequest, Point, SeriesData, SeriesKey, Stat, Unit,
};
pub use ops::{
    HealthCheck, Operation, ScalingBounds, SessionHandoff, TargetGroupHealth, TargetHealth,
};
pub use region::valid_region;
pub use scope::{Fingerprint, Query, Snapshot, TaskScope};
pub use service::{Deployment, DeploymentConfig, LbBinding, Service, ServiceEvent};
pub use shared::SharedStr;
pub use task::{Container, Task};
pub use taskdef::{
    ContainerDefinition, ContainerHealthCheck, PortMapping, TaskDefRef, TaskDefinition, Ulimit,
};

/// Wall-clock instant used throughout the model. AWS reports UTC; so do we.
pub type Time = chrono::DateTime<chrono::Utc>;

/// The last path segment of an ARN; kept under this name because most callers read it so.
pub use arn::tail as arn_tail;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_tail_takes_the_last_segment() {
        assert_eq!(arn_tail("arn:aws:ecs:eu-west-1:1:task/prod/abc"), "abc");
        assert_eq!(arn_tail("plain"), "plain");
    }
}
