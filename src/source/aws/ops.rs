//! What the operator does to the fleet through the SDK — scale, redeploy, stop a task, drain
//! or activate an instance — and the sessions handed to `session-manager-plugin` (ECS Exec
//! `ExecuteCommand`, SSM `StartSession`). Also the facts the action dialogs need: Application
//! Auto Scaling bounds and target group health.
//!
//! Every call goes through the operation's token bucket and is explained in plain words when it
//! fails; codes that mean something particular here (the container's SSM agent not connected,
//! ECS Exec off for the task, a task that is gone) get their own sentence. Calls that change
//! something are retried only when throttled (`mutating`); when their answer never came the
//! error says the outcome is unknown and how to check it.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder;
use aws_sdk_ecs::types::ContainerInstanceStatus;
use futures::{StreamExt, TryStreamExt, stream};

use super::{AwsSource, CONCURRENCY, mutating};
use crate::model::arn::{short_task_id, target_group_name};
use crate::model::{
    ForwardOpening, HealthCheck, Operation, ScalingBounds, SessionHandoff, TargetGroupHealth,
    TargetHealth, arn_tail, forward_document,
};
use crate::source::{ErrorKind, OUTCOME_UNKNOWN, SourceError};

/// Target groups per `DescribeTargetGroups` call.
const TARGET_GROUPS_PER_CALL: usize = 20;
/// Sends the change built in `$call` (a fluent builder) with the mutating calls' retry rule
/// (`mutating::$client`: the SDK retries none of its failures), again only when throttled
/// ([`AwsSource::again_if_throttled`]); `$err` explains the SDK's error.
macro_rules! send_change {
    ($source:expr, $name:expr, $call:expr, $client:ident, $err:expr) => {
        $source.again_if_throttled($name, || {
            let call = $call.clone();
            async move {
                call.customize()
                    .config_override(mutating::$client())
                    .send()
                    .await
                    .map_err($err)
            }
        })
    };
}

/// A change AWS throttled is sent at most this many times in all.
const CHANGE_ATTEMPTS: u32 = 3;

/// A server's string, safe to draw.
fn text(s: Option<&str>) -> String {
    crate::sanitize::clean(s.unwrap_or_default()).into_owned()
}

/// The session as `session-manager-plugin` reads it (never drawn: not cleaned).
fn session_json(session_id: &str, stream_url: &str, token: &str) -> String {
    serde_json::json!({
        "SessionId": session_id,
        "StreamUrl": stream_url,
        "TokenValue": token,
    })
    .to_string()
}

fn target_json(target: &str) -> String {
    serde_json::json!({ "Target": target }).to_string()
}

/// The SDK error's code and message, for the cases [`explain_op`] words itself.
fn code_and_message<E, R>(e: &SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata,
{
    match e {
        SdkError::ServiceError(s) => (
            s.err().code().unwrap_or_default().to_string(),
            s.err().message().unwrap_or_default().to_string(),
        ),
        _ => (String::new(), String::new()),
    }
}

/// Rewords what `errors::explain` made of a failed operation where the code means something
/// particular for actions and sessions. `what` names the object (`task 1a2b3c4d in prod`).
fn explain_op(
    op: &str,
    code: &str,
    message: &str,
    cluster: &str,
    what: &str,
    err: SourceError,
) -> SourceError {
    let lower = message.to_lowercase();
    match code {
        // ECS Exec: the SSM agent in the container never opened its channels.
        "TargetNotConnectedException" => SourceError::new(
            ErrorKind::Service,
            "the container's SSM agent is not connected (the task role lacks \
             ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/\
             OpenDataChannel, or the task cannot reach the SSM endpoints)",
        ),
        // SSM Session Manager on a container: ECS Exec's agent is not connected.
        "TargetNotConnected" if op == "ssm:StartSession" && what.starts_with("task ") => {
            SourceError::new(
                ErrorKind::Service,
                format!(
                    "{what} is not reachable through Session Manager: its ExecuteCommandAgent is \
                     not running or not connected (ECS Exec must be on for the task, and the task \
                     role needs the ssmmessages:* permissions)"
                ),
            )
        }
        // SSM Session Manager: the instance is not a connected managed node.
        "TargetNotConnected" => SourceError::new(
            ErrorKind::Service,
            format!(
                "{what} is not connected to Session Manager (its SSM agent is not running, the \
                 instance profile lacks AmazonSSMManagedInstanceCore, or the instance cannot \
                 reach the SSM endpoints)"
            ),
        ),
        "InvalidParameterException"
            if lower.contains("execute command")
                && (lower.contains("not enabled") || lower.contains("isn't running")) =>
        {
            SourceError::new(
                ErrorKind::Service,
                "ECS Exec is not enabled for this task, or its ExecuteCommandAgent is not \
                 running: turn it on for the service (aws ecs update-service \
                 --enable-execute-command --force-new-deployment) and use a task started after \
                 that",
            )
        }
        // StopTask, ExecuteCommand: "The referenced task was not found."
        "InvalidParameterException" if lower.contains("not found") => {
            SourceError::not_found(format!("{what} no longer exists"))
        }
        "ClusterNotFoundException" => {
            SourceError::not_found(format!("cluster {cluster} no longer exists"))
        }
        "ServiceNotActiveException" => SourceError::new(
            ErrorKind::NotFound,
            format!("{what} is not active (deleted, or being deleted)"),
        ),
        "AccessDeniedException" | "AccessDenied" if op == "ecs:ExecuteCommand" => SourceError::new(
            ErrorKind::AccessDenied,
            format!(
                "AccessDenied for ecs:ExecuteCommand on {what}: your IAM policy must allow \
                 ecs:ExecuteCommand on the task and its cluster"
            ),
        ),
        _ => err,
    }
}

/// The error of a change whose outcome is unknown: what was sent, why no answer counts
/// (`because`, and the error in detail), and the command that shows whether it took effect.
fn unknown_outcome(name: &str, what: &str, because: &str, detail: &str, check: &str) -> String {
    // The command first: a status line is one row.
    format!(
        "{OUTCOME_UNKNOWN} — check with: {check} ({name} on {what} was sent, but {because}: it \
         may or may not have been carried out; {detail})"
    )
}

impl AwsSource {
    /// `self.error`, then [`explain_op`].
    fn op_error<E, R>(&self, op: &str, cluster: &str, what: &str, e: &SdkError<E, R>) -> SourceError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let (code, message) = code_and_message(e);
        let err = self.error(op, what, e);
        explain_op(op, &code, &message, cluster, what, err)
    }

    /// Sends a change, and sends it again only when AWS throttled it — an answer that proves it
    /// was not carried out — at most [`CHANGE_ATTEMPTS`] times in all, each when the service's
    /// budget allows. The SDK itself never retries throttling (`stats::ThrottleFeedback`: the
    /// budget slows down instead) nor, for a change, anything else (`mutating`).
    async fn again_if_throttled<T, Fut>(
        &self,
        name: &'static str,
        mut send: impl FnMut() -> Fut,
    ) -> Result<T, SourceError>
    where
        Fut: Future<Output = Result<T, SourceError>>,
    {
        let mut attempt = 1;
        loop {
            self.limiter.acquire(name).await;
            match send().await {
                Err(e) if e.kind == ErrorKind::Throttled && attempt < CHANGE_ATTEMPTS => {
                    attempt += 1;
                }
                answer => return answer,
            }
        }
    }

    /// [`Self::op_error`] for a call that changes something (`change`): when the request may
    /// have been carried out although no answer said so, the error says the outcome is unknown
    /// and how to check it.
    fn change_error<E, R>(
        &self,
        name: &str,
        change: &Operation,
        cluster: &str,
        what: &str,
        e: &SdkError<E, R>,
    ) -> SourceError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let err = self.op_error(name, cluster, what, e);
        // Throttling, even a bare 429 whose body the SDK could not read, proves it was refused.
        if err.kind == ErrorKind::Throttled {
            return err;
        }
        let Some(because) = mutating::unknown_because(e) else {
            return err;
        };
        let check = change.how_to_check(&self.region, self.settings.profile.as_deref());
        SourceError::new(
            ErrorKind::OutcomeUnknown,
            unknown_outcome(name, what, because, &err.message, &check),
        )
    }

    /// `UpdateService` on a service (by ARN when known), with `change` setting what changes.
    async fn update_service(
        &self,
        op: &Operation,
        (cluster, service, service_arn): (&str, &str, &str),
        change: impl FnOnce(UpdateServiceFluentBuilder) -> UpdateServiceFluentBuilder,
    ) -> Result<(), SourceError> {
        let name = "ecs:UpdateService";
        let what = &format!("service {service} in {cluster}");
        let target = if service_arn.is_empty() {
            service
        } else {
            service_arn
        };
        let call = change(self.ecs.update_service().cluster(cluster).service(target));
        send_change!(self, name, call, ecs, |e| self
            .change_error(name, op, cluster, what, &e))
        .await?;
        Ok(())
    }

    pub(super) async fn apply_operation(&self, op: &Operation) -> Result<String, SourceError> {
        match op {
            Operation::Scale {
                cluster,
                service,
                service_arn,
                from,
                to,
            } => {
                let count = i32::try_from(*to).unwrap_or(i32::MAX);
                self.update_service(op, (cluster, service, service_arn), |u| {
                    u.desired_count(count)
                })
                .await?;
                Ok(format!("{service}: desired count set to {to} (was {from})"))
            }
            Operation::Redeploy {
                cluster,
                service,
                service_arn,
            } => {
                self.update_service(op, (cluster, service, service_arn), |u| {
                    u.force_new_deployment(true)
                })
                .await?;
                Ok(format!("{service}: new deployment started"))
            }
            Operation::StopTask {
                cluster,
                task_arn,
                reason,
            } => {
                let name = "ecs:StopTask";
                let what = &format!("task {} in {cluster}", short_task_id(task_arn));
                let call = self
                    .ecs
                    .stop_task()
                    .cluster(cluster)
                    .task(task_arn)
                    .reason(reason);
                send_change!(self, name, call, ecs, |e| self
                    .change_error(name, op, cluster, what, &e))
                .await?;
                Ok(format!("task {} stopping", short_task_id(task_arn)))
            }
            Operation::SetInstanceState {
                cluster,
                instance_arn,
                ec2_instance_id,
                draining,
            } => {
                let name = "ecs:UpdateContainerInstancesState";
                let label = if ec2_instance_id.is_empty() {
                    arn_tail(instance_arn)
                } else {
                    ec2_instance_id
                };
                let what = &format!("instance {label} in {cluster}");
                let status = if *draining {
                    ContainerInstanceStatus::Draining
                } else {
                    ContainerInstanceStatus::Active
                };
                let call = self
                    .ecs
                    .update_container_instances_state()
                    .cluster(cluster)
                    .container_instances(instance_arn)
                    .status(status.clone());
                let out = send_change!(self, name, call, ecs, |e| self
                    .change_error(name, op, cluster, what, &e))
                .await?;
                // The call succeeds as a whole and reports each instance it could not change.
                if let Some(failure) = out.failures().first() {
                    let reason = text(failure.reason().or(Some("no reason")));
                    let detail = text(failure.detail());
                    self.stats.failed(name, false);
                    if reason == "MISSING" {
                        return Err(SourceError::not_found(format!("{what} no longer exists")));
                    }
                    let detail = if detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({detail})")
                    };
                    return Err(SourceError::new(
                        ErrorKind::Service,
                        format!(
                            "{label} was not set to {}: {reason}{detail}",
                            status.as_str()
                        ),
                    ));
                }
                Ok(format!("{label}: {}", status.as_str()))
            }
            Operation::Rollback {
                cluster,
                service,
                service_arn,
                family,
                from,
                to,
                task_definition_arn,
            } => {
                let revision = if task_definition_arn.is_empty() {
                    format!("{family}:{to}")
                } else {
                    task_definition_arn.clone()
                };
                self.update_service(op, (cluster, service, service_arn), |u| {
                    u.task_definition(revision).force_new_deployment(true)
                })
                .await?;
                Ok(format!(
                    "{service}: {family}:{from} → {family}:{to}; new deployment started"
                ))
            }
            Operation::Exec { .. }
            | Operation::InstanceShell { .. }
            | Operation::PortForward { .. } => Err(SourceError::new(
                ErrorKind::Service,
                "a session is opened, not applied",
            )),
        }
    }

    /// SSM `StartSession` with a port forwarding document on a task's container (ECS Exec's
    /// target) or an instance. The runtime hands the session to session-manager-plugin in the
    /// background.
    pub(super) async fn start_forward(
        &self,
        op: &Operation,
    ) -> Result<ForwardOpening, SourceError> {
        let Operation::PortForward {
            cluster,
            target,
            local_port,
            remote_host,
            remote_port,
        } = op
        else {
            return Err(SourceError::new(
                ErrorKind::Service,
                format!("{} is not a port forward", op.verb()),
            ));
        };
        let name = "ssm:StartSession";
        let ssm_target = target.ssm_target(cluster);
        let what = &target.label();
        let (document, parameters) =
            forward_document(*local_port, remote_host.as_deref(), *remote_port);
        let mut call = self
            .ssm
            .start_session()
            .target(&ssm_target)
            .document_name(document);
        for (key, value) in &parameters {
            call = call.parameters(*key, vec![value.clone()]);
        }
        let out = send_change!(self, name, call, ssm, |e| self
            .change_error(name, op, cluster, what, &e))
        .await?;
        // Drawn and logged (the raw one travels to the plugin in the session JSON).
        let session_id = text(out.session_id());
        // What the AWS CLI passes the plugin: the StartSession request itself.
        let request: serde_json::Map<String, serde_json::Value> = parameters
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!([v])))
            .collect();
        let target_json = serde_json::json!({
            "Target": ssm_target,
            "DocumentName": document,
            "Parameters": request,
        })
        .to_string();
        Ok(ForwardOpening::Plugin {
            handoff: SessionHandoff {
                session_json: session_json(
                    out.session_id().unwrap_or_default(),
                    out.stream_url().unwrap_or_default(),
                    out.token_value().unwrap_or_default(),
                ),
                region: self.region.clone(),
                target_json,
                endpoint: self.endpoint("ssm").await,
                profile: self.settings.profile.clone(),
            },
            session_id,
        })
    }

    /// SSM `TerminateSession`: the forward's session ends on AWS's side too.
    pub(super) async fn terminate(&self, session_id: &str) -> Result<(), SourceError> {
        let name = "ssm:TerminateSession";
        let call = self.ssm.terminate_session().session_id(session_id);
        send_change!(self, name, call, ssm, |e| self.error(
            name,
            &format!("session {session_id}"),
            &e
        ))
        .await?;
        Ok(())
    }

    pub(super) async fn start_session(
        &self,
        op: &Operation,
    ) -> Result<SessionHandoff, SourceError> {
        match op {
            Operation::Exec {
                cluster,
                task_arn,
                container,
                runtime_id,
                command,
            } => {
                self.execute_command(op, cluster, task_arn, (container, runtime_id), command)
                    .await
            }
            Operation::InstanceShell {
                cluster,
                ec2_instance_id,
            } => {
                self.start_instance_session(op, cluster, ec2_instance_id)
                    .await
            }
            _ => Err(SourceError::new(
                ErrorKind::Service,
                format!("{} is not an interactive session", op.verb()),
            )),
        }
    }

    /// ECS Exec, as `aws ecs execute-command` does it: the container's runtime id (from the
    /// task when the console did not know it yet), then `ExecuteCommand`.
    async fn execute_command(
        &self,
        op: &Operation,
        cluster: &str,
        task_arn: &str,
        (container, runtime_id): (&str, &str),
        command: &str,
    ) -> Result<SessionHandoff, SourceError> {
        let name = "ecs:ExecuteCommand";
        let what = &format!("task {} in {cluster}", short_task_id(task_arn));
        let runtime_id = if runtime_id.is_empty() {
            let task = self
                .describe_tasks(cluster, vec![task_arn.to_string()])
                .await?
                .pop()
                .ok_or_else(|| SourceError::not_found(format!("{what} no longer exists")))?;
            task.containers
                .into_iter()
                .find(|c| c.name == container)
                .map(|c| c.runtime_id)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    SourceError::new(
                        ErrorKind::Service,
                        format!("{container} in {what} has no runtime id yet (still starting?)"),
                    )
                })?
        } else {
            runtime_id.into()
        };
        let call = self
            .ecs
            .execute_command()
            .cluster(cluster)
            .task(task_arn)
            .container(container)
            .command(command)
            .interactive(true);
        let out = send_change!(self, name, call, ecs, |e| self
            .change_error(name, op, cluster, what, &e))
        .await?;
        let session = out.session().ok_or_else(|| {
            SourceError::new(
                ErrorKind::Service,
                "ECS answered ExecuteCommand without a session",
            )
        })?;
        let cluster_name = arn_tail(out.cluster_arn().unwrap_or(cluster));
        let task_id = arn_tail(out.task_arn().unwrap_or(task_arn));
        Ok(SessionHandoff {
            session_json: session_json(
                session.session_id().unwrap_or_default(),
                session.stream_url().unwrap_or_default(),
                session.token_value().unwrap_or_default(),
            ),
            region: self.region.clone(),
            target_json: target_json(&format!("ecs:{cluster_name}_{task_id}_{runtime_id}")),
            endpoint: self.endpoint("ecs").await,
            profile: self.settings.profile.clone(),
        })
    }

    /// SSM Session Manager on the EC2 host behind a container instance.
    async fn start_instance_session(
        &self,
        op: &Operation,
        cluster: &str,
        instance: &str,
    ) -> Result<SessionHandoff, SourceError> {
        let name = "ssm:StartSession";
        let what = &format!("instance {instance}");
        let call = self.ssm.start_session().target(instance);
        let out = send_change!(self, name, call, ssm, |e| self
            .change_error(name, op, cluster, what, &e))
        .await?;
        Ok(SessionHandoff {
            session_json: session_json(
                out.session_id().unwrap_or_default(),
                out.stream_url().unwrap_or_default(),
                out.token_value().unwrap_or_default(),
            ),
            region: self.region.clone(),
            target_json: target_json(instance),
            endpoint: self.endpoint("ssm").await,
            profile: self.settings.profile.clone(),
        })
    }

    /// The endpoint URL the `service` client calls, which the plugin needs too: the override,
    /// else the SDK's own resolution for the region (`https://ecs.eu-west-1.amazonaws.com`,
    /// `…amazonaws.com.cn` in China).
    async fn endpoint(&self, service: &str) -> String {
        if let Some(url) = &self.settings.endpoint_url {
            return url.clone();
        }
        let resolved = match service {
            "ecs" => {
                use aws_sdk_ecs::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
                match Params::builder().region(&self.region).build() {
                    Ok(params) => DefaultResolver::new()
                        .resolve_endpoint(&params)
                        .await
                        .ok()
                        .map(|e| e.url().to_string()),
                    Err(_) => None,
                }
            }
            "ssm" => {
                use aws_sdk_ssm::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
                match Params::builder().region(&self.region).build() {
                    Ok(params) => DefaultResolver::new()
                        .resolve_endpoint(&params)
                        .await
                        .ok()
                        .map(|e| e.url().to_string()),
                    Err(_) => None,
                }
            }
            _ => None,
        };
        resolved.unwrap_or_else(|| format!("https://{service}.{}.amazonaws.com", self.region))
    }

    /// The service's scalable target, if Application Auto Scaling manages its desired count.
    pub(super) async fn describe_scalable_target(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<ScalingBounds>, SourceError> {
        let name = "application-autoscaling:DescribeScalableTargets";
        let cluster = arn_tail(cluster);
        let service = arn_tail(service);
        let what = format!("service {service} in {cluster}");
        let resource = format!("service/{cluster}/{service}");
        self.limiter.acquire(name).await;
        let out = self
            .autoscaling
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_ids(&resource)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
            .map_err(|e| self.error(name, &what, &e))?;
        let target = out
            .scalable_targets()
            .iter()
            .find(|t| t.resource_id() == resource);
        Ok(target.map(|t| {
            let suspended = t.suspended_state().is_some_and(|s| {
                s.dynamic_scaling_in_suspended().unwrap_or(false)
                    || s.dynamic_scaling_out_suspended().unwrap_or(false)
                    || s.scheduled_scaling_suspended().unwrap_or(false)
            });
            ScalingBounds {
                min: u32::try_from(t.min_capacity()).unwrap_or(0),
                max: u32::try_from(t.max_capacity()).unwrap_or(0),
                suspended,
            }
        }))
    }

    /// Each group's health check settings (`DescribeTargetGroups`, 20 a call) and its
    /// targets' health (`DescribeTargetHealth`, one call a group), in the order asked.
    pub(super) async fn describe_target_health(
        &self,
        arns: &[String],
    ) -> Result<Vec<TargetGroupHealth>, SourceError> {
        let mut wanted: Vec<String> = Vec::with_capacity(arns.len());
        for arn in arns {
            if !wanted.contains(arn) {
                wanted.push(arn.clone());
            }
        }
        let mut groups = std::collections::HashMap::new();
        for batch in wanted.chunks(TARGET_GROUPS_PER_CALL) {
            let name = "elasticloadbalancing:DescribeTargetGroups";
            self.limiter.acquire(name).await;
            let out = self
                .elb
                .describe_target_groups()
                .set_target_group_arns(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| self.target_group_error(name, batch, &e))?;
            for tg in out.target_groups() {
                if let Some(arn) = tg.target_group_arn() {
                    groups.insert(text(Some(arn)), tg.clone());
                }
            }
        }
        let groups = &groups;
        stream::iter(wanted)
            .map(|arn| async move {
                let name = "elasticloadbalancing:DescribeTargetHealth";
                self.limiter.acquire(name).await;
                let out = self
                    .elb
                    .describe_target_health()
                    .target_group_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| self.target_group_error(name, std::slice::from_ref(&arn), &e))?;
                let targets = out
                    .target_health_descriptions()
                    .iter()
                    .map(|d| {
                        let target = d.target();
                        let health = d.target_health();
                        TargetHealth {
                            id: text(target.and_then(|t| t.id())),
                            port: target.and_then(|t| t.port()),
                            availability_zone: text(target.and_then(|t| t.availability_zone())),
                            state: text(health.and_then(|h| h.state()).map(|s| s.as_str())),
                            reason: text(health.and_then(|h| h.reason()).map(|r| r.as_str())),
                            description: text(health.and_then(|h| h.description())),
                        }
                    })
                    .collect();
                let group = groups.get(&arn);
                Ok::<_, SourceError>(TargetGroupHealth {
                    name: text(
                        group
                            .and_then(|g| g.target_group_name())
                            .or(Some(target_group_name(&arn))),
                    ),
                    health_check: group.map(health_check).unwrap_or_default(),
                    targets,
                    fetched_at: Some(chrono::Utc::now()),
                    arn,
                })
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await
    }

    /// A target group that is gone is named; anything else is explained as usual.
    fn target_group_error<E, R>(&self, op: &str, arns: &[String], e: &SdkError<E, R>) -> SourceError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let (code, _) = code_and_message(e);
        let names: Vec<&str> = arns.iter().map(|a| target_group_name(a)).collect();
        let what = match names.as_slice() {
            [one] => format!("target group {one}"),
            many => format!("target groups {}", many.join(", ")),
        };
        let err = self.error(op, &what, e);
        match (code.as_str(), names.len()) {
            ("TargetGroupNotFound", 1) => {
                SourceError::not_found(format!("{what} no longer exists"))
            }
            ("TargetGroupNotFound", _) => {
                SourceError::not_found(format!("one of the {what} no longer exists"))
            }
            _ => err,
        }
    }
}

fn health_check(tg: &aws_sdk_elasticloadbalancingv2::types::TargetGroup) -> HealthCheck {
    HealthCheck {
        protocol: text(tg.health_check_protocol().map(|p| p.as_str())),
        path: text(tg.health_check_path()),
        port: text(tg.health_check_port()),
        interval_secs: tg.health_check_interval_seconds().unwrap_or_default(),
        timeout_secs: tg.health_check_timeout_seconds().unwrap_or_default(),
        healthy_threshold: tg.healthy_threshold_count().unwrap_or_default(),
        unhealthy_threshold: tg.unhealthy_threshold_count().unwrap_or_default(),
        matcher: text(tg.matcher().and_then(|m| m.http_code().or(m.grpc_code()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_json_has_the_keys_the_plugin_reads() {
        let json: serde_json::Value =
            serde_json::from_str(&session_json("s-1", "wss://x/y", "tok")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"SessionId": "s-1", "StreamUrl": "wss://x/y", "TokenValue": "tok"})
        );
        assert_eq!(target_json("i-0abc"), r#"{"Target":"i-0abc"}"#);
    }

    #[test]
    fn a_disconnected_agent_and_exec_off_are_worded_for_the_operator() {
        let base = || SourceError::new(ErrorKind::Service, "raw");
        let err = explain_op(
            "ecs:ExecuteCommand",
            "TargetNotConnectedException",
            "The execute command failed due to an internal error.",
            "prod",
            "task 1a2b3c4d in prod",
            base(),
        );
        assert!(err.message.contains("ssmmessages:CreateControlChannel"));
        let err = explain_op(
            "ecs:ExecuteCommand",
            "InvalidParameterException",
            "The execute command failed because execute command was not enabled when the task \
             was run or the execute command agent isn't running.",
            "prod",
            "task 1a2b3c4d in prod",
            base(),
        );
        assert!(err.message.starts_with("ECS Exec is not enabled"), "{err}");
        let err = explain_op(
            "ecs:StopTask",
            "InvalidParameterException",
            "The referenced task was not found.",
            "prod",
            "task 1a2b3c4d in prod",
            base(),
        );
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert_eq!(err.message, "task 1a2b3c4d in prod no longer exists");
        let err = explain_op("ecs:StopTask", "Other", "", "prod", "x", base());
        assert_eq!(err.message, "raw");
    }

    #[test]
    fn target_group_names_come_from_the_arn() {
        assert_eq!(
            target_group_name(
                "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/cart-tg/0123456789abcdef"
            ),
            "cart-tg"
        );
    }
}
