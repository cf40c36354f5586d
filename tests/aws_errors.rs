//! The failure paths an emulator cannot produce, at the SDK level with mocked responses:
//! throttling (not retried by the SDK: the budget slows down; then explained), AccessDenied, expired credentials, a
//! deleted cluster, empty pages that still carry a `nextToken`, an unreachable endpoint and
//! missing credentials. Each checks the plain words the operator will read.

mod support;

use std::time::Duration;

use aws_sdk_ecs::config::retry::RetryConfig;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::list_services::ListServicesError;
use aws_sdk_ecs::operation::list_tasks::{ListTasksError, ListTasksOutput};
use aws_sdk_ecs::types::Task;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use ecsmon::model::TaskScope;
use ecsmon::source::aws::{AwsSettings, AwsSource, CallStats, Clients};
use ecsmon::source::{ErrorKind, FleetSource};

fn source(ecs: aws_sdk_ecs::Client) -> AwsSource {
    // Every other client from a plain configuration; only ECS answers (mocked).
    support::mocked_source("eu-west-3", Some("prod"), |c| Clients { ecs, ..c })
}

fn cart() -> TaskScope {
    TaskScope::Service {
        cluster: "prod".into(),
        service: "cart".into(),
    }
}

fn list_tasks_error(code: &str, message: &str) -> ListTasksError {
    ListTasksError::generic(ErrorMetadata::builder().code(code).message(message).build())
}

#[tokio::test]
async fn throttling_is_not_retried_by_the_sdk_but_halves_the_budget_then_is_explained() {
    let throttled = mock!(aws_sdk_ecs::Client::list_tasks)
        .then_error(|| list_tasks_error("ThrottlingException", "Rate exceeded"));
    let stats = CallStats::default();
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&throttled], |c| c
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
        )
        .retry_classifier(stats.feedback("ecs")));
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-3"))
        .build();
    let clients = Clients {
        ecs,
        ..Clients::new(&config, &stats)
    };
    let source =
        AwsSource::from_clients(clients, AwsSettings::default(), "eu-west-3".into(), stats);
    let err = source.tasks(&cart(), false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(err.message, "throttled by ECS");
    assert_eq!(
        throttled.num_calls(),
        1,
        "not retried: the budget slows down instead"
    );
    let ecs = source
        .stats()
        .budgets
        .into_iter()
        .find(|b| b.service == "ecs")
        .unwrap();
    assert_eq!((ecs.allowed, ecs.ceiling, ecs.throttled), (10.0, 20.0, 1));
}

#[tokio::test]
async fn transient_errors_are_still_retried_by_the_sdk() {
    let failing = mock!(aws_sdk_ecs::Client::list_tasks)
        .then_error(|| list_tasks_error("RequestTimeoutException", "Request timed out"));
    let stats = CallStats::default();
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&failing], |c| c
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
        )
        .retry_classifier(stats.feedback("ecs")));
    let err = source(ecs).tasks(&cart(), false).await.unwrap_err();
    assert_ne!(err.kind, ErrorKind::Throttled);
    assert_eq!(failing.num_calls(), 3, "the SDK retried before giving up");
}

#[tokio::test]
async fn access_denied_names_the_action_and_the_resource() {
    let denied = mock!(aws_sdk_ecs::Client::list_tasks).then_error(|| {
        list_tasks_error(
            "AccessDeniedException",
            "User: arn:aws:iam::1:user/bob is not authorized to perform: ecs:ListTasks",
        )
    });
    let ecs = mock_client!(aws_sdk_ecs, [&denied]);
    let err = source(ecs).tasks(&cart(), false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert_eq!(
        err.message,
        "AccessDenied for ecs:ListTasks on service cart in prod"
    );
}

#[tokio::test]
async fn expired_credentials_say_how_to_log_in_again() {
    let expired = mock!(aws_sdk_ecs::Client::list_tasks).then_error(|| {
        list_tasks_error(
            "ExpiredTokenException",
            "The security token included in the request is expired",
        )
    });
    let ecs = mock_client!(aws_sdk_ecs, [&expired]);
    let err = source(ecs).tasks(&cart(), false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Credentials);
    assert!(err.message.contains("expired"), "{}", err.message);
    assert!(
        err.message.contains("aws sso login --profile prod"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_deleted_cluster_is_not_found_not_an_empty_list() {
    let gone = mock!(aws_sdk_ecs::Client::list_services).then_error(|| {
        ListServicesError::generic(
            ErrorMetadata::builder()
                .code("ClusterNotFoundException")
                .message("Cluster not found.")
                .build(),
        )
    });
    let ecs = mock_client!(aws_sdk_ecs, [&gone]);
    let err = source(ecs).services("prod").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, "cluster prod no longer exists");
}

#[tokio::test]
async fn empty_pages_with_a_next_token_are_followed_to_the_end() {
    let arn = |i: usize| format!("arn:aws:ecs:eu-west-3:1:task/prod/{i:032x}");
    let pages = mock!(aws_sdk_ecs::Client::list_tasks)
        .sequence()
        .output(|| ListTasksOutput::builder().next_token("page-2").build())
        .output(|| ListTasksOutput::builder().next_token("page-3").build())
        .output(move || {
            ListTasksOutput::builder()
                .task_arns(arn(1))
                .task_arns(arn(2))
                .build()
        })
        .build();
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks)
        .match_requests(|r| r.tasks().len() == 2)
        .then_output(move || {
            DescribeTasksOutput::builder()
                .tasks(
                    Task::builder()
                        .task_arn(arn(1))
                        .last_status("RUNNING")
                        .build(),
                )
                .tasks(
                    Task::builder()
                        .task_arn(arn(2))
                        .last_status("RUNNING")
                        .build(),
                )
                .build()
        });
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&pages, &describe]);
    let tasks = source(ecs).tasks(&cart(), false).await.unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        pages.num_calls(),
        3,
        "two empty pages did not stop the listing"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_named() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .region(aws_config::Region::new("eu-west-3"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_ecs::config::Credentials::for_tests())
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let settings = AwsSettings {
        endpoint_url: Some("http://127.0.0.1:9".into()),
        ..AwsSettings::default()
    };
    let source = AwsSource::from_config(&config, settings).unwrap();
    let err = source.clusters().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Network);
    assert_eq!(err.message, "cannot reach 127.0.0.1:9");
}

#[tokio::test]
async fn missing_credentials_say_where_ecsmon_looked() {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .region(aws_config::Region::new("eu-west-3"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_ecs::config::SharedCredentialsProvider::new(
            NoCredentials,
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let source = AwsSource::from_config(&config, AwsSettings::default()).unwrap();
    let err = source.clusters().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Credentials, "{}", err.message);
    assert!(
        err.message.starts_with("no AWS credentials found"),
        "{}",
        err.message
    );
    assert!(err.message.contains("AWS_ACCESS_KEY_ID"), "{}", err.message);
}

#[tokio::test]
async fn no_region_is_explained_before_any_call() {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .load()
        .await;
    let err = AwsSource::from_config(&config, AwsSettings::default())
        .err()
        .expect("no region must fail");
    assert!(err.message.starts_with("no AWS region"), "{}", err.message);
    assert!(err.message.contains("--region"), "{}", err.message);
}

/// A credentials provider that finds nothing, like the default chain on a bare machine.
#[derive(Debug)]
struct NoCredentials;

impl aws_credential_types::provider::ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            ),
        ))
    }
}
