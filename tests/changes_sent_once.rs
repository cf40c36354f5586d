//! A change is sent once. Through the real SDK against moto behind the fault front
//! (`tests/moto/server.py`): a mutating call is retried only when AWS's answer proves it was
//! not carried out (throttling); a timeout, a connection lost after the request left, or a 5xx
//! ends it, is never sent again (a retried `forceNewDeployment` is a second deployment), and is
//! reported — and audited — as an unknown outcome with the command that checks it. Reads keep
//! the SDK's retries.
//!
//! Each test has its own moto (faults and call counts are global to a server). The SDK runs
//! the production retry policy (standard, 3 attempts) with shorter waits, as `tests/faults.rs`
//! does, so a timeout costs a second.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ecsmon::model::Operation;
use ecsmon::source::audit::Stage;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::source::{ErrorKind, FleetSource};
use ecsmon::testkit::Harness;
use serde_json::json;
use support::{FleetSpec, Moto, Seeded, Waits, console_config, seed};

/// `connect()`'s retry policy with waits short enough for a test: one second an attempt.
const WAITS: Waits = Waits {
    connect: Duration::from_secs(1),
    attempt: Duration::from_secs(1),
    operation: Duration::from_secs(5),
    first_backoff: Duration::from_millis(50),
};

struct Rig {
    moto: Moto,
    source: AwsSource,
    seeded: Seeded,
    ecs: aws_sdk_ecs::Client,
}

async fn rig(cluster: &str) -> Rig {
    let moto = Moto::start();
    let plain = support::sdk_config(&moto.endpoint).await;
    let seeded = seed(&plain, &FleetSpec::new(cluster, 1, 2, 1)).await;
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    let config = console_config(&moto.endpoint, WAITS).await;
    let source = AwsSource::from_config(&config, settings).expect("region set");
    moto.reset_stats().await;
    Rig {
        ecs: aws_sdk_ecs::Client::new(&plain),
        moto,
        source,
        seeded,
    }
}

impl Rig {
    fn redeploy(&self) -> Operation {
        Operation::Redeploy {
            cluster: self.seeded.cluster.clone(),
            service: "svc-000".into(),
            service_arn: self.seeded.cluster_arn.replace(":cluster/", ":service/") + "/svc-000",
        }
    }

    /// The id of svc-000's primary deployment: a new one means a deployment was started.
    async fn primary_deployment(&self) -> String {
        let out = self
            .ecs
            .describe_services()
            .cluster(&self.seeded.cluster)
            .services("svc-000")
            .send()
            .await
            .expect("DescribeServices");
        out.services()[0]
            .deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .and_then(|d| d.id())
            .expect("a primary deployment")
            .to_string()
    }
}

#[tokio::test]
async fn a_redeploy_whose_answer_times_out_is_sent_once_and_its_outcome_is_unknown() {
    let rig = rig("once-timeout").await;
    let before = rig.primary_deployment().await;
    // moto carries it out; the answer is held past the attempt timeout.
    rig.moto
        .inject(json!({"op": "ecs:UpdateService", "kind": "lost", "count": 1, "delay": 4}))
        .await;
    let err = rig.source.apply(&rig.redeploy()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::OutcomeUnknown, "{err}");
    assert!(
        err.message.starts_with(
            "outcome unknown, not sent again — check with: aws ecs describe-services \
             --cluster once-timeout --services svc-000 --region us-east-1 (ecs:UpdateService on \
             service svc-000 in once-timeout was sent, but no answer came in time: it may or may \
             not have been carried out;"
        ),
        "{err}"
    );
    assert!(
        err.message.contains("was sent, but no answer came in time"),
        "{err}"
    );
    assert!(
        err.message.contains(
            "check with: aws ecs describe-services --cluster once-timeout --services svc-000"
        ),
        "{err}"
    );
    assert!(err.message.contains("--region us-east-1"), "{err}");
    assert_eq!(
        rig.moto.calls("ecs:UpdateService").await,
        1,
        "sent exactly once"
    );
    // It did happen: exactly one new deployment, not two.
    assert_ne!(rig.primary_deployment().await, before);
}

#[tokio::test]
async fn a_connection_lost_after_the_request_left_is_unknown_and_not_retried() {
    let rig = rig("once-reset").await;
    let task = rig.seeded.all_task_arns()[0].clone();
    rig.moto
        .inject(json!({"op": "ecs:StopTask", "kind": "lost", "count": 1, "delay": 0}))
        .await;
    let op = Operation::StopTask {
        cluster: rig.seeded.cluster.clone(),
        task_arn: task.clone(),
        reason: "Stopped by ecsmon (test)".into(),
    };
    let err = rig.source.apply(&op).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::OutcomeUnknown, "{err}");
    assert!(
        err.message
            .contains("was sent, but the connection was lost before the answer"),
        "{err}"
    );
    assert!(
        err.message
            .contains("aws ecs describe-tasks --cluster once-reset"),
        "{err}"
    );
    assert_eq!(rig.moto.calls("ecs:StopTask").await, 1);
}

#[tokio::test]
async fn an_execute_command_without_an_answer_is_sent_once_orphaning_no_second_session() {
    let rig = rig("once-exec").await;
    let task_arn = rig
        .ecs
        .run_task()
        .cluster(&rig.seeded.cluster)
        .task_definition(&rig.seeded.task_definition_arn)
        .launch_type(aws_sdk_ecs::types::LaunchType::Ec2)
        .enable_execute_command(true)
        .send()
        .await
        .expect("RunTask")
        .tasks()[0]
        .task_arn()
        .expect("task ARN")
        .to_owned();
    let task = rig
        .source
        .task(&rig.seeded.cluster, &task_arn)
        .await
        .expect("task")
        .expect("exists");
    rig.moto
        .inject(json!({"op": "ecs:ExecuteCommand", "kind": "lost", "count": 1, "delay": 4}))
        .await;
    let op = Operation::Exec {
        cluster: rig.seeded.cluster.clone(),
        task_arn,
        container: task.containers[0].name.to_string(),
        runtime_id: task.containers[0].runtime_id.to_string(),
        command: "/bin/sh".into(),
    };
    let err = rig.source.open_session(&op).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::OutcomeUnknown, "{err}");
    assert!(
        err.message
            .contains("check with: aws ssm describe-sessions --state Active"),
        "{err}"
    );
    assert_eq!(rig.moto.calls("ecs:ExecuteCommand").await, 1);
}

#[tokio::test]
async fn a_server_error_on_a_change_is_not_retried_and_its_outcome_is_unknown() {
    let rig = rig("once-5xx").await;
    rig.moto
        .inject(json!({"op": "ecs:UpdateService", "kind": "5xx", "count": 1}))
        .await;
    let err = rig.source.apply(&rig.redeploy()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::OutcomeUnknown, "{err}");
    assert!(
        err.message
            .contains("AWS answered with a server error: it may or may not have been carried out; ECS had an internal error (ServerException)"),
        "{err}"
    );
    assert_eq!(rig.moto.calls("ecs:UpdateService").await, 1);
}

#[tokio::test]
async fn a_throttled_change_is_retried_and_done() {
    let rig = rig("once-throttle").await;
    let before = rig.primary_deployment().await;
    // Throttling proves it was not carried out: safe to send again.
    rig.moto
        .inject(json!({"op": "ecs:UpdateService", "kind": "throttle", "count": 1}))
        .await;
    let said = rig.source.apply(&rig.redeploy()).await.expect("done");
    assert_eq!(said, "svc-000: new deployment started");
    assert_eq!(rig.moto.calls("ecs:UpdateService").await, 2);
    assert_ne!(rig.primary_deployment().await, before);
    // A bare 429 from a proxy refused it too.
    rig.moto.reset_stats().await;
    rig.moto
        .inject(json!({"op": "ecs:UpdateService", "kind": "http429", "count": 1}))
        .await;
    rig.source.apply(&rig.redeploy()).await.expect("done");
    assert_eq!(rig.moto.calls("ecs:UpdateService").await, 2);
}

#[tokio::test]
async fn reads_are_still_retried() {
    let rig = rig("once-reads").await;
    rig.moto
        .inject(json!({"op": "ecs:ListServices", "kind": "5xx", "count": 1}))
        .await;
    let services = rig
        .source
        .services(&rig.seeded.cluster)
        .await
        .expect("retried");
    assert_eq!(services.len(), 1);
    assert_eq!(rig.moto.calls("ecs:ListServices").await, 2);
}

#[tokio::test]
async fn a_refused_connection_is_a_plain_failure_nothing_was_sent() {
    // A port nothing listens on: the request never leaves.
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.clone()),
    };
    let source = AwsSource::from_config(&console_config(&endpoint, WAITS).await, settings).unwrap();
    let op = Operation::Redeploy {
        cluster: "prod".into(),
        service: "cart".into(),
        service_arn: String::new(),
    };
    let err = source.apply(&op).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Network, "{err}");
    assert!(err.message.starts_with("cannot reach"), "{err}");
}

/// Through the console: `R`, `y` on a service whose answer never comes is audited
/// `requested`, then `unknown` under the same id, and the status line says so.
#[tokio::test(flavor = "multi_thread")]
async fn the_console_audits_a_lost_redeploy_as_unknown() {
    let rig = rig("once-console").await;
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(rig.moto.endpoint.clone()),
    };
    let config = console_config(&rig.moto.endpoint, WAITS).await;
    let source = AwsSource::from_config(&config, settings.clone()).unwrap();
    let mut h = Harness::with_source(Arc::new(source), Some(settings), 140, 40);
    h.press("/once-console<enter><enter>");
    assert!(h.render().contains("svc-000"), "{}", h.render());
    rig.moto
        .inject(json!({"op": "ecs:UpdateService", "kind": "lost", "count": 1, "delay": 4}))
        .await;
    h.press("Ry");
    let audit = h.audits();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0].stage, Stage::Requested);
    assert_eq!(audit[1].stage, Stage::Unknown);
    assert_eq!(audit[0].id, audit[1].id);
    assert!(
        audit[1].result.starts_with("unknown: outcome unknown"),
        "{}",
        audit[1].result
    );
    assert!(
        h.status().contains("may or may not have been carried out"),
        "{}",
        h.status()
    );
    assert_eq!(rig.moto.calls("ecs:UpdateService").await, 1);
}
