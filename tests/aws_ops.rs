//! The operator's actions and sessions through the real SDK over HTTP against moto, each read
//! back from moto with a plain SDK client: scale, redeploy, stop a task, drain and activate an
//! instance, Application Auto Scaling bounds, target health, and the sessions handed to
//! `session-manager-plugin` — ECS `ExecuteCommand` and SSM `StartSession`, which moto lacks and
//! the front in `tests/moto/server.py` answers as AWS does. Then, with mocked responses, what an
//! emulator cannot produce: an SSM agent that is not connected, AccessDenied, a failure in
//! `UpdateContainerInstancesState`'s answer, and the endpoint the plugin is given on AWS.

mod support;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace, SuspendedState};
use aws_sdk_ecs::types::LaunchType;
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetDescription, TargetTypeEnum,
};
use aws_smithy_mocks::{mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;

use ecsmon::model::{Operation, ScalingBounds, arn_tail};
use ecsmon::source::aws::{AwsSettings, AwsSource, Clients};
use ecsmon::source::{ErrorKind, FleetSource};
use support::{FleetSpec, Moto, Seeded, sdk_config, seed};

fn source(moto: &Moto, config: &aws_config::SdkConfig) -> AwsSource {
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    AwsSource::from_config(config, settings).expect("region set")
}

async fn fleet(
    cluster: &str,
    services: usize,
    tasks: usize,
    instances: usize,
) -> (&'static Moto, aws_config::SdkConfig, AwsSource, Seeded) {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let seeded = seed(
        &config,
        &FleetSpec::new(cluster, services, tasks, instances),
    )
    .await;
    let source = source(moto, &config);
    (moto, config, source, seeded)
}

fn service_arn(seeded: &Seeded, service: &str) -> String {
    seeded
        .cluster_arn
        .replace(":cluster/", ":service/")
        .to_string()
        + "/"
        + service
}

async fn describe_service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
) -> aws_sdk_ecs::types::Service {
    ecs.describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .expect("DescribeServices")
        .services()
        .first()
        .cloned()
        .expect("the service")
}

#[tokio::test]
async fn scale_sets_the_desired_count_and_says_so() {
    let (_, config, source, seeded) = fleet("ops-scale", 1, 2, 1).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let said = source
        .apply(&Operation::Scale {
            cluster: seeded.cluster.clone(),
            service: "svc-000".into(),
            service_arn: service_arn(&seeded, "svc-000"),
            from: 2,
            to: 7,
        })
        .await
        .expect("scale");
    assert_eq!(said, "svc-000: desired count set to 7 (was 2)");
    let service = describe_service(&ecs, &seeded.cluster, "svc-000").await;
    assert_eq!(service.desired_count(), 7);
}

#[tokio::test]
async fn redeploy_starts_a_new_deployment() {
    let (_, config, source, seeded) = fleet("ops-redeploy", 1, 1, 1).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let primary = |s: &aws_sdk_ecs::types::Service| {
        s.deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .and_then(|d| d.id())
            .map(str::to_owned)
            .expect("a primary deployment")
    };
    let before = primary(&describe_service(&ecs, &seeded.cluster, "svc-000").await);
    let said = source
        .apply(&Operation::Redeploy {
            cluster: seeded.cluster.clone(),
            service: "svc-000".into(),
            service_arn: service_arn(&seeded, "svc-000"),
        })
        .await
        .expect("redeploy");
    assert_eq!(said, "svc-000: new deployment started");
    // moto starts no tasks for it, but gives the primary deployment a new id, as AWS's new
    // deployment has one.
    let after = primary(&describe_service(&ecs, &seeded.cluster, "svc-000").await);
    assert_ne!(before, after, "forceNewDeployment made a new deployment");
}

#[tokio::test]
async fn stop_task_stops_it_with_the_reason() {
    let (_, config, source, seeded) = fleet("ops-stop", 1, 2, 1).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let task = seeded.all_task_arns()[0].clone();
    let reason = "stopped by ecsmon (assumed-role/Operator/alice)";
    let said = source
        .apply(&Operation::StopTask {
            cluster: seeded.cluster.clone(),
            task_arn: task.clone(),
            reason: reason.into(),
        })
        .await
        .expect("stop");
    assert_eq!(said, format!("task {} stopping", &arn_tail(&task)[..8]));
    let out = ecs
        .describe_tasks()
        .cluster(&seeded.cluster)
        .tasks(&task)
        .send()
        .await
        .expect("DescribeTasks");
    let described = &out.tasks()[0];
    assert_eq!(described.desired_status(), Some("STOPPED"));
    assert_eq!(described.stopped_reason(), Some(reason));

    // A task the cluster does not hold (AWS: InvalidParameterException, "not found").
    let gone = task.replace(arn_tail(&task), "0123456789abcdef0123456789abcdef");
    let err = source
        .apply(&Operation::StopTask {
            cluster: seeded.cluster.clone(),
            task_arn: gone,
            reason: reason.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, "task 01234567 in ops-stop no longer exists");
}

#[tokio::test]
async fn an_instance_is_drained_then_activated() {
    let (_, config, source, seeded) = fleet("ops-drain", 0, 0, 1).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let instance = seeded.container_instance_arns[0].clone();
    let ec2_id = seeded.ec2_instance_ids[0].clone();
    let status = || async {
        ecs.describe_container_instances()
            .cluster(&seeded.cluster)
            .container_instances(&instance)
            .send()
            .await
            .expect("DescribeContainerInstances")
            .container_instances()[0]
            .status()
            .map(str::to_owned)
    };
    let set = |draining: bool| Operation::SetInstanceState {
        cluster: seeded.cluster.clone(),
        instance_arn: instance.clone(),
        ec2_instance_id: ec2_id.clone(),
        draining,
    };
    assert_eq!(
        source.apply(&set(true)).await.expect("drain"),
        format!("{ec2_id}: DRAINING")
    );
    assert_eq!(status().await.as_deref(), Some("DRAINING"));
    assert_eq!(
        source.apply(&set(false)).await.expect("activate"),
        format!("{ec2_id}: ACTIVE")
    );
    assert_eq!(status().await.as_deref(), Some("ACTIVE"));

    // An instance the cluster does not hold comes back in the answer's `failures`, not as an
    // error of the call: it must still fail.
    let err = source
        .apply(&Operation::SetInstanceState {
            cluster: seeded.cluster.clone(),
            instance_arn: instance
                .replace(arn_tail(&instance), "00000000-0000-0000-0000-000000000000"),
            ec2_instance_id: "i-0000000000000000f".into(),
            draining: true,
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(
        err.message,
        "instance i-0000000000000000f in ops-drain no longer exists"
    );
}

#[tokio::test]
async fn an_unknown_service_or_cluster_is_named_in_plain_words() {
    let (_, _, source, seeded) = fleet("ops-missing", 1, 1, 1).await;
    let err = source
        .apply(&Operation::Scale {
            cluster: seeded.cluster.clone(),
            service: "no-such".into(),
            service_arn: String::new(),
            from: 1,
            to: 2,
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(
        err.message,
        "service no-such in ops-missing no longer exists"
    );

    let err = source
        .apply(&Operation::Redeploy {
            cluster: "ops-no-such-cluster".into(),
            service: "svc-000".into(),
            service_arn: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, "cluster ops-no-such-cluster no longer exists");
    assert!(
        source.apply(&exec_op("c", "t", "")).await.is_err(),
        "a shell is opened, never applied"
    );
}

#[tokio::test]
async fn scaling_bounds_come_from_application_auto_scaling() {
    let (_, config, source, seeded) = fleet("ops-bounds", 2, 1, 1).await;
    let autoscaling = aws_sdk_applicationautoscaling::Client::new(&config);
    let register = |suspended: Option<SuspendedState>| {
        autoscaling
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(format!("service/{}/svc-000", seeded.cluster))
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(2)
            .max_capacity(10)
            .set_suspended_state(suspended)
            .send()
    };
    register(None).await.expect("RegisterScalableTarget");
    assert_eq!(
        source
            .scaling_bounds(&seeded.cluster, "svc-000")
            .await
            .expect("bounds"),
        Some(ScalingBounds {
            min: 2,
            max: 10,
            suspended: false
        })
    );
    // A service Application Auto Scaling does not manage.
    assert_eq!(
        source
            .scaling_bounds(&seeded.cluster, "svc-001")
            .await
            .expect("bounds"),
        None
    );
    // Scheduled scaling suspended counts as suspended; the cluster may be given by ARN.
    register(Some(
        SuspendedState::builder()
            .scheduled_scaling_suspended(true)
            .build(),
    ))
    .await
    .expect("RegisterScalableTarget again");
    let bounds = source
        .scaling_bounds(&seeded.cluster_arn, "svc-000")
        .await
        .expect("bounds")
        .expect("registered");
    assert!(bounds.suspended);
}

#[tokio::test]
async fn target_health_has_each_target_and_the_health_check() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let source = source(moto, &config);
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let vpc = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("isDefault")
                .values("true")
                .build(),
        )
        .send()
        .await
        .expect("DescribeVpcs")
        .vpcs()[0]
        .vpc_id()
        .expect("default VPC")
        .to_owned();
    let group = elb
        .create_target_group()
        .name("ops-cart")
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc)
        .target_type(TargetTypeEnum::Ip)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_path("/healthz")
        .health_check_interval_seconds(15)
        .health_check_timeout_seconds(5)
        .healthy_threshold_count(3)
        .unhealthy_threshold_count(4)
        .matcher(Matcher::builder().http_code("200-299").build())
        .send()
        .await
        .expect("CreateTargetGroup");
    let arn = group.target_groups()[0]
        .target_group_arn()
        .expect("ARN")
        .to_owned();
    elb.register_targets()
        .target_group_arn(&arn)
        .targets(
            TargetDescription::builder()
                .id("172.31.1.10")
                .port(8080)
                .build(),
        )
        .targets(
            TargetDescription::builder()
                .id("172.31.2.20")
                .port(8081)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTargets");

    let health = source
        .target_health(std::slice::from_ref(&arn))
        .await
        .expect("target health");
    assert_eq!(health.len(), 1);
    let tg = &health[0];
    assert_eq!(tg.arn, arn);
    assert_eq!(tg.name, "ops-cart");
    assert!(tg.fetched_at.is_some());
    let check = &tg.health_check;
    assert_eq!(check.protocol, "HTTP");
    assert_eq!(check.path, "/healthz");
    assert_eq!(check.port, "traffic-port");
    assert_eq!(check.interval_secs, 15);
    assert_eq!(check.timeout_secs, 5);
    assert_eq!(check.healthy_threshold, 3);
    assert_eq!(check.unhealthy_threshold, 4);
    assert_eq!(check.matcher, "200-299");
    let mut targets: Vec<(String, Option<i32>, String)> = tg
        .targets
        .iter()
        .map(|t| (t.id.clone(), t.port, t.state.clone()))
        .collect();
    targets.sort();
    // moto reports every registered target healthy (the other states are the demo's and the
    // UI tests' to cover).
    assert_eq!(
        targets,
        vec![
            ("172.31.1.10".into(), Some(8080), "healthy".into()),
            ("172.31.2.20".into(), Some(8081), "healthy".into()),
        ]
    );

    // A target group deleted meanwhile is named.
    let gone = arn.replace("ops-cart", "ops-gone");
    let err = source.target_health(&[gone]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, "target group ops-gone no longer exists");
    assert!(source.target_health(&[]).await.expect("none").is_empty());
}

fn exec_op(cluster: &str, task_arn: &str, runtime_id: &str) -> Operation {
    Operation::Exec {
        cluster: cluster.into(),
        task_arn: task_arn.into(),
        container: "app".into(),
        runtime_id: runtime_id.into(),
        command: "/bin/sh".into(),
    }
}

/// The session JSON's keys and values, checked for the shape the plugin reads.
fn session_fields(json: &str) -> serde_json::Map<String, serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(json).expect("session JSON");
    let fields = value.as_object().expect("an object").clone();
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["SessionId", "StreamUrl", "TokenValue"]);
    assert!(
        fields
            .values()
            .all(|v| v.as_str().is_some_and(|s| !s.is_empty())),
        "{json}"
    );
    fields
}

#[tokio::test]
async fn ecs_exec_opens_a_session_for_the_plugin() {
    let (moto, config, source, seeded) = fleet("ops-exec", 0, 0, 1).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let run = |exec: bool| {
        ecs.run_task()
            .cluster(&seeded.cluster)
            .task_definition(&seeded.task_definition_arn)
            .launch_type(LaunchType::Ec2)
            .enable_execute_command(exec)
            .send()
    };
    let task_arn = run(true).await.expect("RunTask").tasks()[0]
        .task_arn()
        .expect("task ARN")
        .to_owned();
    let task_id = arn_tail(&task_arn).to_owned();

    // What the console knows before it asks: ECS Exec on, the agent running, the runtime id.
    let task = source
        .task(&seeded.cluster, &task_arn)
        .await
        .expect("task")
        .expect("exists");
    assert!(task.enable_execute_command);
    let container = &task.containers[0];
    assert_eq!(container.exec_agent.as_deref(), Some("RUNNING"));
    assert_eq!(container.runtime_id.len(), 64, "{container:?}");
    let runtime_id = container.runtime_id.clone();

    let before = moto.calls("ecs:ExecuteCommand").await;
    let handoff = source
        .open_session(&exec_op(&seeded.cluster, &task_arn, &runtime_id))
        .await
        .expect("ExecuteCommand");
    assert!(moto.calls("ecs:ExecuteCommand").await > before);
    let session = session_fields(&handoff.session_json);
    assert!(
        session["SessionId"]
            .as_str()
            .unwrap()
            .starts_with("ecs-execute-command-")
    );
    assert!(session["StreamUrl"].as_str().unwrap().starts_with(
        "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/ecs-execute-command-"
    ));
    assert_eq!(
        handoff.target_json,
        format!(r#"{{"Target":"ecs:ops-exec_{task_id}_{runtime_id}"}}"#)
    );
    assert_eq!(handoff.region, "us-east-1");
    assert_eq!(handoff.endpoint, moto.endpoint);
    assert_eq!(handoff.profile, None);

    // Without the runtime id, the source looks it up as `aws ecs execute-command` does.
    let looked_up = source
        .open_session(&exec_op(&seeded.cluster, &task_arn, ""))
        .await
        .expect("ExecuteCommand");
    assert_eq!(looked_up.target_json, handoff.target_json);

    // A task that is gone.
    let gone = task_arn.replace(&task_id, "0123456789abcdef0123456789abcdef");
    let err = source
        .open_session(&exec_op(&seeded.cluster, &gone, &runtime_id))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, "task 01234567 in ops-exec no longer exists");

    // A task run without ECS Exec.
    let plain = run(false).await.expect("RunTask").tasks()[0]
        .task_arn()
        .expect("task ARN")
        .to_owned();
    let err = source
        .open_session(&exec_op(&seeded.cluster, &plain, &runtime_id))
        .await
        .unwrap_err();
    assert!(
        err.message
            .starts_with("ECS Exec is not enabled for this task"),
        "{}",
        err.message
    );

    // A container the task does not have: AWS's words, passed on.
    let err = source
        .open_session(&Operation::Exec {
            cluster: seeded.cluster.clone(),
            task_arn: task_arn.clone(),
            container: "sidecar".into(),
            runtime_id: runtime_id.to_string(),
            command: "/bin/sh".into(),
        })
        .await
        .unwrap_err();
    assert!(err.message.contains("sidecar"), "{}", err.message);

    // A stopped task.
    ecs.stop_task()
        .cluster(&seeded.cluster)
        .task(&task_arn)
        .send()
        .await
        .expect("StopTask");
    let err = source
        .open_session(&exec_op(&seeded.cluster, &task_arn, &runtime_id))
        .await
        .unwrap_err();
    assert!(
        err.message.starts_with("ECS Exec is not enabled"),
        "{}",
        err.message
    );
    assert!(
        source
            .open_session(&Operation::Scale {
                cluster: seeded.cluster.clone(),
                service: "x".into(),
                service_arn: String::new(),
                from: 1,
                to: 2
            })
            .await
            .is_err(),
        "only shells are sessions"
    );
}

#[tokio::test]
async fn an_instance_shell_opens_an_ssm_session() {
    let (moto, _, source, seeded) = fleet("ops-shell", 0, 0, 1).await;
    let instance = seeded.ec2_instance_ids[0].clone();
    let before = moto.calls("ssm:StartSession").await;
    let handoff = source
        .open_session(&Operation::InstanceShell {
            cluster: seeded.cluster.clone(),
            ec2_instance_id: instance.clone(),
        })
        .await
        .expect("StartSession");
    assert!(moto.calls("ssm:StartSession").await > before);
    let session = session_fields(&handoff.session_json);
    assert!(
        session["StreamUrl"]
            .as_str()
            .unwrap()
            .starts_with("wss://ssmmessages.us-east-1.amazonaws.com/")
    );
    assert_eq!(handoff.target_json, format!(r#"{{"Target":"{instance}"}}"#));
    assert_eq!(handoff.region, "us-east-1");
    assert_eq!(handoff.endpoint, moto.endpoint);

    let err = source
        .open_session(&Operation::InstanceShell {
            cluster: seeded.cluster.clone(),
            ec2_instance_id: "i-0000000000000000f".into(),
        })
        .await
        .unwrap_err();
    assert!(
        err.message
            .starts_with("instance i-0000000000000000f is not connected to Session Manager"),
        "{}",
        err.message
    );
}

// ---- Mocked: what an emulator cannot produce

fn mocked(ecs: aws_sdk_ecs::Client, region: &str) -> AwsSource {
    support::mocked_source(region, Some("prod"), |c| Clients { ecs, ..c })
}

const TASK: &str = "arn:aws:ecs:eu-west-3:123456789012:task/prod/1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6";

fn exec_error(
    code: &str,
    message: &str,
) -> aws_sdk_ecs::operation::execute_command::ExecuteCommandError {
    aws_sdk_ecs::operation::execute_command::ExecuteCommandError::generic(
        ErrorMetadata::builder().code(code).message(message).build(),
    )
}

#[tokio::test]
async fn an_agent_that_is_not_connected_is_explained() {
    let rule = mock!(aws_sdk_ecs::Client::execute_command).then_error(|| {
        exec_error(
            "TargetNotConnectedException",
            "The execute command failed due to an internal error. Try again later.",
        )
    });
    let source = mocked(mock_client!(aws_sdk_ecs, [&rule]), "eu-west-3");
    let err = source
        .open_session(&exec_op("prod", TASK, "abc-123"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Service);
    assert_eq!(
        err.message,
        "the container's SSM agent is not connected (the task role lacks \
         ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/OpenDataChannel, \
         or the task cannot reach the SSM endpoints)"
    );
    let failed: Vec<_> = source
        .stats()
        .calls
        .into_iter()
        .filter(|s| s.operation == "ecs:ExecuteCommand")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].errors, 1, "counted as a failed call");
}

#[tokio::test]
async fn access_denied_names_ecs_execute_command() {
    let rule = mock!(aws_sdk_ecs::Client::execute_command).then_error(|| {
        exec_error(
            "AccessDeniedException",
            "User: arn:aws:iam::1:user/bob is not authorized to perform: ecs:ExecuteCommand",
        )
    });
    let source = mocked(mock_client!(aws_sdk_ecs, [&rule]), "eu-west-3");
    let err = source
        .open_session(&exec_op("prod", TASK, "abc-123"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert!(
        err.message
            .starts_with("AccessDenied for ecs:ExecuteCommand on task 1a2b3c4d in prod"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn on_aws_the_plugin_gets_the_regions_ecs_endpoint() {
    let session = || {
        aws_sdk_ecs::operation::execute_command::ExecuteCommandOutput::builder()
            .cluster_arn("arn:aws:ecs:eu-west-3:123456789012:cluster/prod")
            .task_arn(TASK)
            .container_name("app")
            .interactive(true)
            .session(
                aws_sdk_ecs::types::Session::builder()
                    .session_id("ecs-execute-command-0abc")
                    .stream_url("wss://ssmmessages.eu-west-3.amazonaws.com/v1/data-channel/x")
                    .token_value("secret")
                    .build(),
            )
            .build()
    };
    for (region, endpoint) in [
        ("eu-west-3", "https://ecs.eu-west-3.amazonaws.com"),
        ("cn-north-1", "https://ecs.cn-north-1.amazonaws.com.cn"),
    ] {
        let rule = mock!(aws_sdk_ecs::Client::execute_command).then_output(session);
        let source = mocked(mock_client!(aws_sdk_ecs, [&rule]), region);
        let handoff = source
            .open_session(&exec_op("prod", TASK, "abc-123"))
            .await
            .expect("session");
        assert_eq!(handoff.endpoint, endpoint);
        assert_eq!(handoff.region, region);
        assert_eq!(handoff.profile.as_deref(), Some("prod"));
        assert_eq!(
            handoff.target_json,
            r#"{"Target":"ecs:prod_1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6_abc-123"}"#
        );
        assert_eq!(
            handoff.session_json,
            r#"{"SessionId":"ecs-execute-command-0abc","StreamUrl":"wss://ssmmessages.eu-west-3.amazonaws.com/v1/data-channel/x","TokenValue":"secret"}"#
        );
    }
}

#[tokio::test]
async fn a_failure_in_the_answer_of_update_container_instances_state_is_an_error() {
    let rule = mock!(aws_sdk_ecs::Client::update_container_instances_state).then_output(|| {
        aws_sdk_ecs::operation::update_container_instances_state::UpdateContainerInstancesStateOutput::builder()
            .failures(
                aws_sdk_ecs::types::Failure::builder()
                    .arn("arn:aws:ecs:eu-west-3:123456789012:container-instance/prod/abc")
                    .reason("INACTIVE")
                    .detail("the container instance is deregistered")
                    .build(),
            )
            .build()
    });
    let source = mocked(mock_client!(aws_sdk_ecs, [&rule]), "eu-west-3");
    let err = source
        .apply(&Operation::SetInstanceState {
            cluster: "prod".into(),
            instance_arn: "arn:aws:ecs:eu-west-3:123456789012:container-instance/prod/abc".into(),
            ec2_instance_id: "i-0123456789abcdef0".into(),
            draining: true,
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Service);
    assert_eq!(
        err.message,
        "i-0123456789abcdef0 was not set to DRAINING: INACTIVE (the container instance is deregistered)"
    );
}

/// The console on moto under `--read-only`: every action key ends at the gate, and moto counts
/// no mutating call at all. Without read-only, the same keys and `y` do send one.
#[tokio::test(flavor = "multi_thread")]
async fn read_only_sends_no_request_and_confirming_sends_exactly_one() {
    let moto = Moto::start(); // its own server: this test counts calls
    let config = sdk_config(&moto.endpoint).await;
    let seeded = seed(&config, &FleetSpec::new("gate", 1, 2, 1)).await;
    let mutating = [
        "ecs:UpdateService",
        "ecs:StopTask",
        "ecs:UpdateContainerInstancesState",
        "ecs:ExecuteCommand",
        "ssm:StartSession",
    ];
    let total = |stats: std::collections::HashMap<String, u64>| -> u64 {
        mutating
            .iter()
            .map(|op| stats.get(*op).copied().unwrap_or(0))
            .sum()
    };

    let src = std::sync::Arc::new(source(&moto, &config));
    let mut h = ecsmon::testkit::Harness::with_source(src, None, 140, 40);
    h.state.read_only = true;
    let cluster = seeded.cluster.clone();
    h.press(&format!("/{cluster}<enter><enter>"));
    h.press("Ry");
    h.press("s<c-u>5<enter>y");
    h.press("<enter>xy");
    h.press("<esc><esc>:instances<enter>Dy");
    h.press("sy");
    assert_eq!(
        total(moto.stats().await),
        0,
        "nothing mutating left the process"
    );
    assert!(
        h.state
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("read-only mode is on")
    );

    h.state.read_only = false;
    h.press("<esc><esc>");
    h.press(&format!(":services {cluster}<enter>Ry"));
    assert_eq!(
        moto.calls("ecs:UpdateService").await,
        1,
        "{:?}",
        moto.stats().await
    );
    assert_eq!(total(moto.stats().await), 1);
}
