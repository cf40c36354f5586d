//! The AWS source through the real SDK over HTTP against moto, behind the front in
//! `tests/moto/server.py` that pages, filters and enforces batch limits like AWS — so a client
//! that stops at page one, or sends too much in one call, fails here.

mod support;

use std::sync::Arc;

use ecsmon::model::TaskScope;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::source::{ErrorKind, FleetSource};
use ecsmon::testkit::Harness;
use support::{FleetSpec, Moto, sdk_config, seed};

async fn source(moto: &Moto) -> AwsSource {
    let config = sdk_config(&moto.endpoint).await;
    AwsSource::from_config(&config, settings(moto)).expect("region set")
}

fn settings(moto: &Moto) -> AwsSettings {
    AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    }
}

fn calls(source: &AwsSource, op: &str) -> u64 {
    source
        .stats()
        .calls
        .iter()
        .find(|s| s.operation == op)
        .map_or(0, |s| s.calls)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_of_130_tasks_is_read_to_the_last_page_in_the_fewest_calls() {
    let moto = Moto::start(); // its own server: this test counts calls
    let config = sdk_config(&moto.endpoint).await;
    let fleet = seed(&config, &FleetSpec::new("paging", 1, 130, 8)).await;
    let source = source(&moto).await;
    let scope = TaskScope::Service {
        cluster: "paging".into(),
        service: fleet.services[0].clone(),
    };
    moto.reset_stats().await;

    let tasks = source.tasks(&scope, false).await.unwrap();
    assert_eq!(tasks.len(), 130, "every page, every batch");
    assert!(
        tasks.iter().all(|t| t.ec2_instance_id.is_some()),
        "EC2 ids joined"
    );
    assert!(tasks.iter().all(|t| t.service_name() == Some("svc-000")));
    // The minimum the limits allow: 2 pages of ListTasks, 2 batches of DescribeTasks, and the
    // 8 container instances described once.
    assert_eq!(moto.calls("ecs:ListTasks").await, 2);
    assert_eq!(moto.calls("ecs:DescribeTasks").await, 2);
    assert_eq!(moto.calls("ecs:DescribeContainerInstances").await, 1);

    // A refresh knows the instances already: only the tasks are read again.
    moto.reset_stats().await;
    source.tasks(&scope, false).await.unwrap();
    let stats = moto.stats().await;
    assert_eq!(stats.values().sum::<u64>(), 4, "{stats:?}");
    // ecsmon's own count agrees with what the server saw.
    assert_eq!(calls(&source, "ecs:ListTasks"), 4);
    assert_eq!(calls(&source, "ecs:DescribeTasks"), 4);
    assert_eq!(calls(&source, "ecs:DescribeContainerInstances"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn twelve_services_are_described_in_batches_of_ten() {
    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    seed(&config, &FleetSpec::new("many", 12, 1, 2)).await;
    let source = source(&moto).await;
    moto.reset_stats().await;
    let services = source.services("many").await.unwrap();
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert_eq!(names[0], "svc-000");
    assert_eq!(names[11], "svc-011");
    assert!(services.iter().all(|s| s.desired == 1));
    assert!(
        services
            .iter()
            .all(|s| s.task_definition.family == "many-app")
    );
    assert_eq!(moto.calls("ecs:ListServices").await, 1, "100 per page");
    assert_eq!(moto.calls("ecs:DescribeServices").await, 2, "10 per call");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_of_101_instances_is_joined_with_ec2() {
    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let fleet = seed(&config, &FleetSpec::new("wide", 1, 1, 101)).await;
    let source = source(&moto).await;
    moto.reset_stats().await;
    let instances = source.instances("wide").await.unwrap();
    assert_eq!(instances.len(), 101);
    let mut ids: Vec<&str> = instances
        .iter()
        .map(|i| i.ec2_instance_id.as_str())
        .collect();
    ids.sort();
    let mut seeded: Vec<&str> = fleet.ec2_instance_ids.iter().map(String::as_str).collect();
    seeded.sort();
    assert_eq!(ids, seeded);
    assert!(
        instances
            .iter()
            .all(|i| !i.instance_type.is_empty() && !i.availability_zone.is_empty())
    );
    assert!(
        instances
            .iter()
            .all(|i| i.status == "ACTIVE" && i.cpu_registered > 0)
    );
    assert_eq!(moto.calls("ecs:ListContainerInstances").await, 2);
    assert_eq!(moto.calls("ecs:DescribeContainerInstances").await, 2);
    assert_eq!(moto.calls("ec2:DescribeInstances").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn scopes_clusters_identity_stops_and_deletions() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let fleet = seed(&config, &FleetSpec::new("scopes", 3, 4, 2)).await;
    let source = source(moto).await;

    let clusters = source.clusters().await.unwrap();
    let cluster = clusters
        .iter()
        .find(|c| c.name == "scopes")
        .expect("seeded cluster");
    assert_eq!(cluster.status, "ACTIVE");
    assert_eq!(cluster.instances, 2);

    let all = source
        .tasks(
            &TaskScope::Cluster {
                cluster: "scopes".into(),
            },
            false,
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 12);

    let instance = fleet.container_instance_arns[0].clone();
    let on_one = source
        .tasks(
            &TaskScope::Instance {
                cluster: "scopes".into(),
                instance: instance.clone(),
            },
            false,
        )
        .await
        .unwrap();
    assert!(!on_one.is_empty() && on_one.len() < 12, "{}", on_one.len());
    assert!(
        on_one
            .iter()
            .all(|t| t.container_instance_arn.as_deref() == Some(instance.as_str()))
    );

    let identity = source.identity().await.unwrap();
    assert_eq!(identity.account, "123456789012");
    assert_eq!(identity.region, "us-east-1");
    assert!(!identity.principal.is_empty());

    // Stop two tasks of svc-001: they show among the stopped tasks with their reason.
    let ecs = aws_sdk_ecs::Client::new(&config);
    let victims = &fleet.task_arns_by_service["svc-001"][..2];
    for arn in victims {
        ecs.stop_task()
            .cluster("scopes")
            .task(arn)
            .reason("stopped by the ecsmon test")
            .send()
            .await
            .unwrap();
    }
    let svc1 = TaskScope::Service {
        cluster: "scopes".into(),
        service: "svc-001".into(),
    };
    let stopped = source.tasks(&svc1, true).await.unwrap();
    let stopped_arns: Vec<&str> = stopped.iter().map(|t| t.arn.as_str()).collect();
    for arn in victims {
        assert!(
            stopped_arns.contains(&arn.as_str()),
            "{arn} not among {stopped_arns:?}"
        );
    }
    assert!(
        stopped
            .iter()
            .all(|t| t.stopped_reason == "stopped by the ecsmon test")
    );
    let task = source
        .task("scopes", &victims[0])
        .await
        .unwrap()
        .expect("still described");
    assert_eq!(task.desired_status, "STOPPED");

    // A service that is not there (ECS: ServiceNotFoundException) is said in words.
    let gone = TaskScope::Service {
        cluster: "scopes".into(),
        service: "svc-999".into(),
    };
    let err = source.tasks(&gone, false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{}", err.message);
    assert_eq!(err.message, "service svc-999 in scopes no longer exists");

    let err = source.services("no-such-cluster").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{}", err.message);
    assert_eq!(err.message, "cluster no-such-cluster no longer exists");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_drills_a_moto_fleet_by_keys() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    seed(&config, &FleetSpec::new("drill", 12, 3, 2)).await;
    let source: Arc<dyn FleetSource> = Arc::new(source(moto).await);
    let mut h = Harness::with_source(source, Some(settings(moto)), 140, 40);

    let frame = h.render();
    assert!(frame.contains("account 123456789012"), "{frame}");
    h.press("/drill<enter><enter>");
    let frame = h.render();
    assert!(frame.contains("Services (12)"), "{frame}");
    assert!(frame.contains("clusters › drill"), "{frame}");
    h.press("<enter>");
    let frame = h.render();
    assert!(frame.contains("Tasks (3)"), "{frame}");
    h.press("<enter>");
    assert!(h.render().contains("Containers ("), "{}", h.render());

    // :stats lists what the drill cost.
    h.press(":stats<enter>");
    let frame = h.render();
    assert!(frame.contains("ecs:DescribeServices"), "{frame}");
    assert!(frame.contains("ecs:ListTasks"), "{frame}");
}
