//! Everything that talks to the world. The app knows only [`FleetSource`]; the demo fleet
//! implements it now, the AWS SDK source implements it next.

pub mod audit;
pub mod aws;
pub mod demo;
pub mod forward;
pub mod logs;
pub mod session;
mod unavailable;

// Source errors are model values; re-exported so `source::SourceError` keeps reading naturally
// in the sources and their callers.
pub use crate::model::{ErrorKind, OUTCOME_UNKNOWN, SourceError};
pub use unavailable::Unavailable;

use async_trait::async_trait;

use crate::model::{
    Alarm, Cluster, Identity, Instance, LogEvent, LogQuery, MetricRequest, Operation, Query,
    ScalingBounds, SeriesData, Service, SessionHandoff, Snapshot, TargetGroupHealth, Task,
};

/// A Live Tail session: batches of new events until the session ends (`None`) or fails.
pub type LogTail = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<Vec<LogEvent>, SourceError>> + Send + 'static>,
>;

/// AWS calls made for one operation, for the `:stats` view and the benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallStat {
    /// `ecs:ListTasks`-style.
    pub operation: String,
    /// HTTP attempts, retries and pages included.
    pub calls: u64,
    /// Calls that failed after the SDK's retries.
    pub errors: u64,
    pub throttled: u64,
}

/// One AWS service's request budget (see `aws::limiter`), for the `:stats` view.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetStat {
    /// `ecs`, `cloudwatch`…
    pub service: String,
    /// Requests per second allowed now: the ceiling, or less after throttling.
    pub allowed: f64,
    pub ceiling: f64,
    /// Answers and throttled answers in the last minute.
    pub answers: u64,
    pub throttled: u64,
}

/// What a source has sent so far and what it allows itself now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallReport {
    pub calls: Vec<CallStat>,
    pub budgets: Vec<BudgetStat>,
}

/// A query's first answer as the console takes it: whole, or — a big cluster's services, tasks
/// or container instances, from a source that can split them — only the rows' ARNs, whose
/// details come afterwards in batches ([`FleetSource::describe`]), the rows on screen first.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    Whole(Snapshot),
    Listed(Vec<String>),
}

/// A shared source, carried in an action when the operator switches region or profile.
#[derive(Clone)]
pub struct SharedSource(pub std::sync::Arc<dyn FleetSource>);

impl std::fmt::Debug for SharedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSource")
    }
}

/// A source of ECS fleet data. Implementations must be cheap to share (`Arc`) and safe to call
/// from many pollers at once.
#[async_trait]
pub trait FleetSource: Send + Sync {
    /// The time the console runs on: the wall clock, except for a replayed demo incident,
    /// which runs on incident time (faster than the wall clock).
    fn now(&self) -> crate::model::Time {
        chrono::Utc::now()
    }

    /// How often the console's clock ticks (ages, polls falling due, triage). A replayed
    /// incident running many times faster than the wall clock ticks faster too, so its
    /// one-minute metrics and rule windows are not read a minute late.
    fn tick(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    /// Account, principal and region, for the header.
    async fn identity(&self) -> Result<Identity, SourceError>;

    async fn clusters(&self) -> Result<Vec<Cluster>, SourceError>;

    /// Services of a cluster. A cluster that no longer exists is `ErrorKind::NotFound`.
    async fn services(&self, cluster: &str) -> Result<Vec<Service>, SourceError>;

    async fn tasks(
        &self,
        scope: &crate::model::TaskScope,
        stopped: bool,
    ) -> Result<Vec<Task>, SourceError>;

    async fn task(&self, cluster: &str, task_arn: &str) -> Result<Option<Task>, SourceError>;

    async fn instances(&self, cluster: &str) -> Result<Vec<Instance>, SourceError>;

    /// A task definition by ARN. Immutable once registered: implementations cache it.
    async fn task_definition(
        &self,
        arn: &str,
    ) -> Result<std::sync::Arc<crate::model::TaskDefinition>, SourceError>;

    /// Points of every series in `request` (CloudWatch `GetMetricData`, 500 series a call).
    /// Sources without metrics answer with none.
    async fn metric_data(&self, _request: &MetricRequest) -> Result<Vec<SeriesData>, SourceError> {
        Ok(Vec::new())
    }

    /// The region's metric alarms (CloudWatch `DescribeAlarms`).
    async fn alarms(&self) -> Result<Vec<Alarm>, SourceError> {
        Ok(Vec::new())
    }

    /// Log events of some streams of one group (CloudWatch Logs `FilterLogEvents`, at most 100
    /// streams a call, every page), oldest first.
    async fn log_events(&self, query: &LogQuery) -> Result<Vec<LogEvent>, SourceError> {
        let _ = query;
        Err(SourceError::new(
            ErrorKind::Service,
            "this source has no CloudWatch Logs",
        ))
    }

    /// New events of some streams of one group as they arrive (CloudWatch Logs
    /// `StartLiveTail`). An error means Live Tail is not available (no permission, an endpoint
    /// without it): the console then follows by polling [`FleetSource::log_events`].
    async fn live_tail(&self, group: &str, streams: &[String]) -> Result<LogTail, SourceError> {
        let _ = (group, streams);
        Err(SourceError::new(
            ErrorKind::Service,
            "Live Tail is not available from this source",
        ))
    }

    /// Carries out a mutating operation (scale, redeploy, stop, drain/activate) and says what
    /// happened. Only the action gate calls this, after confirmation, never under read-only.
    async fn apply(&self, op: &Operation) -> Result<String, SourceError> {
        let _ = op;
        Err(SourceError::new(
            ErrorKind::Service,
            "this source cannot change anything",
        ))
    }

    /// Opens an interactive session (ECS Exec `ExecuteCommand`, SSM `StartSession`) for
    /// `session-manager-plugin` to take over. Only the action gate calls this.
    async fn open_session(&self, op: &Operation) -> Result<SessionHandoff, SourceError> {
        let _ = op;
        Err(SourceError::new(
            ErrorKind::Service,
            "this source has no shells to open",
        ))
    }

    /// The revisions of a task definition family, newest first (`ListTaskDefinitions`, every
    /// page, ACTIVE ones).
    async fn task_definition_revisions(
        &self,
        family: &str,
    ) -> Result<Vec<crate::model::TaskDefRef>, SourceError> {
        let _ = family;
        Err(SourceError::new(
            ErrorKind::Service,
            "this source has no task definition registry",
        ))
    }

    /// Opens an SSM port forwarding session (`StartSession` with a port forwarding document)
    /// for session-manager-plugin to carry in the background. Only the action gate calls this.
    async fn open_forward(
        &self,
        op: &Operation,
    ) -> Result<crate::model::ForwardOpening, SourceError> {
        let _ = op;
        Err(SourceError::new(
            ErrorKind::Service,
            "this source cannot forward ports",
        ))
    }

    /// Whether [`FleetSource::open_forward`]'s sessions need session-manager-plugin (the demo's
    /// do not: it has no SSM).
    fn forwards_need_plugin(&self) -> bool {
        true
    }

    /// Ends an SSM session (`TerminateSession`) when its forward stops.
    async fn terminate_session(&self, session_id: &str) -> Result<(), SourceError> {
        let _ = session_id;
        Ok(())
    }

    /// Application Auto Scaling bounds of a service's desired count (`DescribeScalableTargets`);
    /// `None` when the service is not a scalable target.
    async fn scaling_bounds(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<ScalingBounds>, SourceError> {
        let _ = (cluster, service);
        Ok(None)
    }

    /// Health of the targets of these target groups (`DescribeTargetHealth`) with each
    /// group's health check settings.
    async fn target_health(
        &self,
        target_groups: &[String],
    ) -> Result<Vec<TargetGroupHealth>, SourceError> {
        let _ = target_groups;
        Ok(Vec::new())
    }

    /// The NAT gateways that the default routes (`0.0.0.0/0`) of these subnets go through
    /// (EC2 `DescribeRouteTables`, `DescribeNatGateways`). Sources without a VPC answer none.
    async fn nat_gateways(
        &self,
        subnets: &[String],
    ) -> Result<Vec<crate::model::NatGateway>, SourceError> {
        let _ = subnets;
        Ok(Vec::new())
    }

    /// AWS calls made so far, by operation, and the budgets. Sources that make none return
    /// nothing.
    fn stats(&self) -> CallReport {
        CallReport::default()
    }

    /// A query's rows, listed before their details where the source can split them (the AWS
    /// source does for services, and for tasks and container instances past
    /// `poll::describe::SMALL_PANE`). The default answers whole.
    async fn rows(&self, query: &Query) -> Result<Rows, SourceError> {
        Ok(Rows::Whole(self.fetch(query).await?))
    }

    /// The details of some listed rows of `query`, by ARN, as rows of its kind (at most one
    /// describe batch: `DescribeServices` takes 10, `DescribeTasks` and
    /// `DescribeContainerInstances` 100). Rows that no longer exist are left out. The default
    /// reads the whole query.
    async fn describe(&self, query: &Query, arns: &[String]) -> Result<Snapshot, SourceError> {
        let wanted: std::collections::HashSet<&str> = arns.iter().map(String::as_str).collect();
        Ok(match self.fetch(query).await? {
            Snapshot::Services(mut v) => {
                v.retain(|s| wanted.contains(s.arn.as_str()));
                Snapshot::Services(v)
            }
            Snapshot::Tasks(mut v) => {
                v.retain(|t| wanted.contains(t.arn.as_str()));
                Snapshot::Tasks(v)
            }
            Snapshot::Instances(mut v) => {
                v.retain(|i| wanted.contains(i.arn.as_str()));
                Snapshot::Instances(v)
            }
            _ => {
                return Err(SourceError::new(
                    ErrorKind::Service,
                    format!("{} has no rows to describe", query.describe()),
                ));
            }
        })
    }

    /// Runs one query, whole (the headless commands and the default [`FleetSource::rows`]).
    /// The default dispatches to the methods above.
    async fn fetch(&self, query: &Query) -> Result<Snapshot, SourceError> {
        Ok(match query {
            Query::Clusters => Snapshot::Clusters(self.clusters().await?),
            Query::Services { cluster } => Snapshot::Services(self.services(cluster).await?),
            Query::Tasks { scope, stopped } => Snapshot::Tasks(self.tasks(scope, *stopped).await?),
            Query::Task { cluster, task } => {
                Snapshot::Task(self.task(cluster, task).await?.map(Box::new))
            }
            Query::Instances { cluster } => Snapshot::Instances(self.instances(cluster).await?),
            Query::Egress { subnets, .. } => Snapshot::Egress(self.nat_gateways(subnets).await?),
        })
    }
}
