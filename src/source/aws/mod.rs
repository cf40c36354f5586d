//! The live source: ECS, EC2, CloudWatch, CloudWatch Logs, ELBv2, SSM, Application Auto Scaling
//! and STS through the official AWS SDK for Rust.
//!
//! Every list is read to its last page and every describe is split into batches within AWS's
//! limits (10 services, 100 tasks, 100 container instances, 100 clusters), sent with bounded
//! concurrency within one request budget per AWS service (`limiter`). Facts that never change — a container
//! instance's EC2 id, a task definition — are fetched once and cached.

mod cloudwatch;
mod connect;
mod contexts;
mod convert;
mod ec2;
mod ecs;
mod egress;
mod elb;
mod errors;
mod limiter;
mod logs;
mod mutating;
mod ops;
mod stats;
mod taskdefs;

pub use connect::{AwsSettings, Clients, connect, profile_names};
pub use contexts::{ContextSource, connect_context, connect_contexts};
pub use errors::ErrorContext;
pub use stats::CallStats;
pub use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::model::{
    Alarm, Cluster, Identity, Instance, LogEvent, LogQuery, MetricRequest, Operation,
    ScalingBounds, SeriesData, Service, SessionHandoff, TargetGroupHealth, Task, TaskDefinition,
    TaskScope,
};
use crate::source::{CallReport, FleetSource, LogTail, Rows, SourceError};

use limiter::RateLimiter;

/// How many describe batches of one query are in flight at once.
const CONCURRENCY: usize = 4;

pub struct AwsSource {
    ecs: aws_sdk_ecs::Client,
    ec2: aws_sdk_ec2::Client,
    sts: aws_sdk_sts::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    ssm: aws_sdk_ssm::Client,
    autoscaling: aws_sdk_applicationautoscaling::Client,
    settings: AwsSettings,
    /// Region the SDK resolved (flag, environment or profile).
    region: String,
    errors: ErrorContext,
    /// The per-service budgets, shared with the clients' feedback (`stats::ThrottleFeedback`).
    limiter: Arc<RateLimiter>,
    stats: CallStats,
    /// Container instance ARN → EC2 instance id. Immutable for the instance's life.
    ec2_ids: Mutex<HashMap<String, String>>,
    /// Task definitions by ARN: immutable once registered, so fetched once.
    task_defs: Mutex<HashMap<String, Arc<TaskDefinition>>>,
    /// Target group ARN → its load balancer's ARN (`None`: not attached to one).
    load_balancers: Mutex<HashMap<String, Option<String>>>,
    /// CloudWatch Logs clients for `awslogs-region`s other than `region`, built on first use.
    regional_logs: Mutex<HashMap<String, aws_sdk_cloudwatchlogs::Client>>,
    /// Who the credentials belong to, from the last `GetCallerIdentity`: Live Tail needs the
    /// account and partition to name a log group by ARN.
    caller: Mutex<Option<Caller>>,
    /// Credit modes, AMIs and recommended AMIs (`ec2`): slow-changing, re-read rarely.
    host_facts: Mutex<ec2::HostFacts>,
}

/// The account and partition (`aws`, `aws-cn`, `aws-us-gov`) of the credentials.
#[derive(Debug, Clone)]
struct Caller {
    account: String,
    partition: String,
}

impl Caller {
    fn of(out: &aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput) -> Caller {
        // arn:aws-cn:sts::123456789012:assumed-role/Admin/alice → aws-cn
        let partition = out
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .filter(|p| !p.is_empty());
        Caller {
            account: crate::sanitize::clean(out.account().unwrap_or_default()).into_owned(),
            partition: crate::sanitize::clean(partition.unwrap_or("aws")).into_owned(),
        }
    }
}

impl AwsSource {
    fn error<E, R>(
        &self,
        op: &str,
        resource: &str,
        e: &aws_sdk_ecs::error::SdkError<E, R>,
    ) -> SourceError
    where
        E: aws_sdk_ecs::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        failed(&self.stats, &self.errors, op, resource, e)
    }

    /// Asks STS who the credentials belong to, and remembers the account for Live Tail.
    async fn get_caller_identity(
        &self,
    ) -> Result<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput, SourceError>
    {
        self.limiter.acquire("sts:GetCallerIdentity").await;
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| self.error("sts:GetCallerIdentity", "your identity", &e))?;
        *self.caller.lock().unwrap_or_else(|e| e.into_inner()) = Some(Caller::of(&out));
        Ok(out)
    }

    /// The remembered caller, asking STS only if `identity` has not run yet.
    async fn caller(&self) -> Result<Caller, SourceError> {
        let known = self
            .caller
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match known {
            Some(caller) => Ok(caller),
            None => Ok(Caller::of(&self.get_caller_identity().await?)),
        }
    }

    fn source_label(&self) -> String {
        match &self.settings.profile {
            Some(p) => format!("profile {p}"),
            None => "default credentials".into(),
        }
    }
}

/// Explains a failed call and counts it. Free of `AwsSource` so that a Live Tail session, which
/// outlives the borrow of its source, can use it too.
fn failed<E, R>(
    stats: &CallStats,
    ctx: &ErrorContext,
    op: &str,
    resource: &str,
    e: &aws_sdk_ecs::error::SdkError<E, R>,
) -> SourceError
where
    E: aws_sdk_ecs::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let err = errors::explain(op, resource, e, ctx);
    stats.failed(op, err.kind == crate::source::ErrorKind::Throttled);
    err
}

#[async_trait]
impl FleetSource for AwsSource {
    async fn identity(&self) -> Result<Identity, SourceError> {
        let out = self.get_caller_identity().await?;
        let arn = out.arn().unwrap_or_default();
        // arn:aws:sts::123456789012:assumed-role/Admin/alice → assumed-role/Admin/alice
        let principal = arn.splitn(6, ':').nth(5).unwrap_or(arn);
        // Drawn in the header, written in every audit record and export: STS's text, cleaned.
        Ok(Identity {
            source: self.source_label(),
            region: self.region.clone(),
            account: crate::sanitize::clean(out.account().unwrap_or_default()).into_owned(),
            principal: crate::sanitize::clean(principal).into_owned(),
        })
    }

    async fn clusters(&self) -> Result<Vec<Cluster>, SourceError> {
        self.list_clusters().await
    }

    async fn services(&self, cluster: &str) -> Result<Vec<Service>, SourceError> {
        let mut services = self.list_services(cluster).await?;
        self.link_load_balancers(&mut services).await;
        Ok(services)
    }

    async fn rows(&self, query: &crate::model::Query) -> Result<Rows, SourceError> {
        use crate::model::{Query, Snapshot};
        use crate::poll::describe::SMALL_PANE;
        match query {
            Query::Services { cluster } => Ok(Rows::Listed(self.list_service_arns(cluster).await?)),
            // A small pane is answered whole, in the calls it always took (its one describe
            // batch at once); a big one shows its rows first.
            Query::Tasks { scope, stopped } => {
                let arns = self.list_task_arns(scope, *stopped).await?;
                if arns.len() > SMALL_PANE {
                    return Ok(Rows::Listed(arns));
                }
                let tasks = self.describe_tasks(scope.cluster(), arns).await?;
                Ok(Rows::Whole(Snapshot::Tasks(tasks)))
            }
            Query::Instances { cluster } => {
                let arns = self.list_instance_arns(cluster).await?;
                if arns.len() > SMALL_PANE {
                    return Ok(Rows::Listed(arns));
                }
                let instances = self.describe_instance_arns(cluster, arns).await?;
                Ok(Rows::Whole(Snapshot::Instances(instances)))
            }
            _ => Ok(Rows::Whole(self.fetch(query).await?)),
        }
    }

    async fn describe(
        &self,
        query: &crate::model::Query,
        arns: &[String],
    ) -> Result<crate::model::Snapshot, SourceError> {
        use crate::model::{Query, Snapshot};
        match query {
            Query::Services { cluster } => {
                let mut services = self.describe_service_arns(cluster, arns.to_vec()).await?;
                self.link_load_balancers(&mut services).await;
                Ok(Snapshot::Services(services))
            }
            Query::Tasks { scope, .. } => Ok(Snapshot::Tasks(
                self.describe_tasks(scope.cluster(), arns.to_vec()).await?,
            )),
            Query::Instances { cluster } => Ok(Snapshot::Instances(
                self.describe_instance_arns(cluster, arns.to_vec()).await?,
            )),
            other => Err(SourceError::new(
                crate::source::ErrorKind::Service,
                format!("{} has no rows to describe", other.describe()),
            )),
        }
    }

    async fn tasks(&self, scope: &TaskScope, stopped: bool) -> Result<Vec<Task>, SourceError> {
        self.list_tasks(scope, stopped).await
    }

    async fn task(&self, cluster: &str, task_arn: &str) -> Result<Option<Task>, SourceError> {
        let mut tasks = self
            .describe_tasks(cluster, vec![task_arn.to_string()])
            .await?;
        let Some(mut task) = tasks.pop() else {
            return Ok(None);
        };
        // The containers pane shows limits that only the definition holds.
        let def = self.task_definition(&task.task_definition.arn).await?;
        convert::enrich(&mut task, &def);
        Ok(Some(task))
    }

    async fn task_definition(&self, arn: &str) -> Result<Arc<TaskDefinition>, SourceError> {
        if let Some(def) = self
            .task_defs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(arn)
        {
            return Ok(Arc::clone(def));
        }
        let op = "ecs:DescribeTaskDefinition";
        self.limiter.acquire(op).await;
        let out = self
            .ecs
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| {
                self.error(
                    op,
                    &format!("task definition {}", crate::model::arn_tail(arn)),
                    &e,
                )
            })?;
        let def = Arc::new(
            out.task_definition()
                .map(convert::task_definition)
                .unwrap_or_default(),
        );
        self.task_defs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(arn.to_string(), Arc::clone(&def));
        Ok(def)
    }

    async fn instances(&self, cluster: &str) -> Result<Vec<Instance>, SourceError> {
        self.list_instances(cluster).await
    }

    async fn metric_data(&self, request: &MetricRequest) -> Result<Vec<SeriesData>, SourceError> {
        self.get_metric_data(request).await
    }

    async fn alarms(&self) -> Result<Vec<Alarm>, SourceError> {
        self.describe_alarms().await
    }

    async fn log_events(&self, query: &LogQuery) -> Result<Vec<LogEvent>, SourceError> {
        self.filter_log_events(query).await
    }

    async fn live_tail(&self, group: &str, streams: &[String]) -> Result<LogTail, SourceError> {
        self.start_live_tail(group, streams).await
    }

    async fn apply(&self, op: &Operation) -> Result<String, SourceError> {
        self.apply_operation(op).await
    }

    async fn open_session(&self, op: &Operation) -> Result<SessionHandoff, SourceError> {
        self.start_session(op).await
    }

    async fn scaling_bounds(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<ScalingBounds>, SourceError> {
        self.describe_scalable_target(cluster, service).await
    }

    async fn task_definition_revisions(
        &self,
        family: &str,
    ) -> Result<Vec<crate::model::TaskDefRef>, SourceError> {
        self.list_revisions(family).await
    }

    async fn open_forward(
        &self,
        op: &Operation,
    ) -> Result<crate::model::ForwardOpening, SourceError> {
        self.start_forward(op).await
    }

    async fn terminate_session(&self, session_id: &str) -> Result<(), SourceError> {
        self.terminate(session_id).await
    }

    async fn target_health(
        &self,
        target_groups: &[String],
    ) -> Result<Vec<TargetGroupHealth>, SourceError> {
        self.describe_target_health(target_groups).await
    }

    async fn nat_gateways(
        &self,
        subnets: &[String],
    ) -> Result<Vec<crate::model::NatGateway>, SourceError> {
        self.describe_nat_gateways_for(subnets).await
    }

    fn stats(&self) -> CallReport {
        self.stats.snapshot()
    }
}
