//! The AWS test harness behaves like AWS where plain moto does not: List calls page, `ListTasks`
//! filters by service, Describe calls enforce their batch limits, and every call is counted.
//! These use the raw SDK clients, not ecsmon's code; each would fail against plain moto.

mod support;

use std::collections::HashSet;
use std::time::Instant;

use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::DesiredStatus;
use support::{FleetSpec, Moto, Seeded, sdk_config, seed};
use tokio::sync::OnceCell;

async fn ecs(moto: &Moto) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&sdk_config(&moto.endpoint).await)
}

/// Seeds `spec` once on the shared server, for every test that asks for it.
async fn fleet(cell: &'static OnceCell<Seeded>, spec: FleetSpec) -> &'static Seeded {
    cell.get_or_init(|| async {
        let started = Instant::now();
        let seeded = seed(&sdk_config(&Moto::shared().endpoint).await, &spec).await;
        eprintln!("seeded {spec:?} in {:?}", started.elapsed());
        seeded
    })
    .await
}

/// Two services of 130 tasks each (so one service's tasks take two pages) on 4 instances.
async fn big_services() -> &'static Seeded {
    static CELL: OnceCell<Seeded> = OnceCell::const_new();
    fleet(&CELL, FleetSpec::new("big-services", 2, 130, 4)).await
}

/// Twelve services (two pages of ListServices) of one task each.
async fn many_services() -> &'static Seeded {
    static CELL: OnceCell<Seeded> = OnceCell::const_new();
    fleet(&CELL, FleetSpec::new("many-services", 12, 1, 2)).await
}

/// 101 container instances (two pages), no services.
async fn many_instances() -> &'static Seeded {
    static CELL: OnceCell<Seeded> = OnceCell::const_new();
    fleet(&CELL, FleetSpec::new("many-instances", 0, 0, 101)).await
}

/// The AWS error code of a failed call, checking it came as HTTP 400 like AWS's client errors.
fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String
where
    SdkError<E, R>: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(e) => e.err().code().unwrap_or_default().to_owned(),
        other => panic!("expected a service error, got {other:?}"),
    }
}

fn set(items: &[String]) -> HashSet<String> {
    items.iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn list_tasks_filters_by_service_and_pages_at_100() {
    let fleet = big_services().await;
    let ecs = ecs(Moto::shared()).await;
    let service = &fleet.services[0];

    let first = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .service_name(service)
        .send()
        .await
        .unwrap();
    assert_eq!(
        first.task_arns().len(),
        100,
        "a page holds 100 tasks by default"
    );
    let token = first.next_token().expect("a second page");
    let second = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .service_name(service)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.task_arns().len(), 30);
    assert_eq!(second.next_token(), None, "two pages in all");

    let listed: Vec<String> = [first.task_arns(), second.task_arns()].concat();
    assert_eq!(set(&listed).len(), 130, "no task listed twice");
    assert_eq!(
        set(&listed),
        set(&fleet.task_arns_by_service[service]),
        "exactly the service's tasks, none of the other service's"
    );

    // Without serviceName: the cluster's 260 tasks, over three pages.
    let pages: Vec<_> = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let all: Vec<String> = pages.iter().flat_map(|p| p.task_arns().to_vec()).collect();
    assert_eq!(set(&all), set(&fleet.all_task_arns()));

    // A smaller maxResults makes smaller pages.
    let small = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .service_name(service)
        .max_results(7)
        .send()
        .await
        .unwrap();
    assert_eq!(small.task_arns().len(), 7);
    assert!(small.next_token().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_tasks_rejects_an_unknown_service_or_cluster() {
    let fleet = many_services().await;
    let ecs = ecs(Moto::shared()).await;
    let err = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .service_name("no-such-service")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ServiceNotFoundException");
    let err = ecs
        .list_tasks()
        .cluster("no-such-cluster")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ClusterNotFoundException");
    let err = ecs
        .list_container_instances()
        .cluster("no-such-cluster")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ClusterNotFoundException");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_services_pages_at_10() {
    let fleet = many_services().await;
    let ecs = ecs(Moto::shared()).await;
    let first = ecs
        .list_services()
        .cluster(&fleet.cluster)
        .send()
        .await
        .unwrap();
    assert_eq!(first.service_arns().len(), 10, "ListServices pages at 10");
    let second = ecs
        .list_services()
        .cluster(&fleet.cluster)
        .next_token(first.next_token().expect("a second page"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.service_arns().len(), 2);
    assert_eq!(second.next_token(), None);
    let names: HashSet<String> = [first.service_arns(), second.service_arns()]
        .concat()
        .iter()
        .map(|arn| arn.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(names, set(&fleet.services));

    let err = ecs
        .list_services()
        .cluster(&fleet.cluster)
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err),
        "InvalidParameterException",
        "maxResults is at most 100"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn list_container_instances_pages_at_100_and_describe_takes_at_most_100() {
    let fleet = many_instances().await;
    let ecs = ecs(Moto::shared()).await;
    let pages: Vec<_> = ecs
        .list_container_instances()
        .cluster(&fleet.cluster)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p.container_instance_arns().len())
        .collect();
    assert_eq!(sizes, [100, 1]);
    let listed: Vec<String> = pages
        .iter()
        .flat_map(|p| p.container_instance_arns().to_vec())
        .collect();
    assert_eq!(set(&listed), set(&fleet.container_instance_arns));

    let err = ecs
        .describe_container_instances()
        .cluster(&fleet.cluster)
        .set_container_instances(Some(listed.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    let described = ecs
        .describe_container_instances()
        .cluster(&fleet.cluster)
        .set_container_instances(Some(listed[..100].to_vec()))
        .send()
        .await
        .unwrap();
    let instance_ids: HashSet<String> = described
        .container_instances()
        .iter()
        .map(|ci| ci.ec2_instance_id().unwrap().to_owned())
        .collect();
    assert_eq!(instance_ids.len(), 100);
    assert!(instance_ids.is_subset(&set(&fleet.ec2_instance_ids)));
    let zones: HashSet<&str> = described
        .container_instances()
        .iter()
        .flat_map(|ci| ci.attributes())
        .filter(|a| a.name() == "ecs.availability-zone")
        .filter_map(|a| a.value())
        .collect();
    assert_eq!(
        zones.len(),
        2,
        "instances span two availability zones: {zones:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_tasks_takes_at_most_100() {
    let fleet = big_services().await;
    let ecs = ecs(Moto::shared()).await;
    let arns = fleet.all_task_arns();

    let err = ecs
        .describe_tasks()
        .cluster(&fleet.cluster)
        .set_tasks(Some(arns[..101].to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));

    let ok = ecs
        .describe_tasks()
        .cluster(&fleet.cluster)
        .set_tasks(Some(arns[..100].to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.tasks().len(), 100);
    assert!(ok.failures().is_empty());
    let task = &ok.tasks()[0];
    assert!(task.group().unwrap().starts_with("service:svc-"));
    assert!(task.started_by().unwrap().starts_with("ecs-svc/"));
    assert!(task.started_at().is_some() && task.created_at().is_some());
    assert_eq!(task.last_status(), Some("RUNNING"));
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_services_takes_at_most_10() {
    let fleet = many_services().await;
    let ecs = ecs(Moto::shared()).await;
    let err = ecs
        .describe_services()
        .cluster(&fleet.cluster)
        .set_services(Some(fleet.services[..11].to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    let ok = ecs
        .describe_services()
        .cluster(&fleet.cluster)
        .set_services(Some(fleet.services[..10].to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.services().len(), 10);
    for service in ok.services() {
        assert_eq!(
            (
                service.desired_count(),
                service.running_count(),
                service.pending_count()
            ),
            (1, 1, 0),
            "running counts come from the service's tasks"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_next_tokens_are_rejected() {
    let fleet = big_services().await;
    let ecs = ecs(Moto::shared()).await;
    let err = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    // A real token, tampered with.
    let page = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .send()
        .await
        .unwrap();
    let token = page.next_token().unwrap().to_owned();
    let mut tampered = token.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let err = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .next_token(String::from_utf8(tampered).unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    // A real token, with another request's filters.
    let err = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .service_name(&fleet.services[1])
        .next_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_stay_running_until_stopped() {
    // Own cluster: this test stops a task.
    let moto = Moto::shared();
    let cfg = sdk_config(&moto.endpoint).await;
    let fleet = seed(&cfg, &FleetSpec::new("stopping", 2, 3, 1)).await;
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    let victim = fleet.task_arns_by_service[&fleet.services[0]][0].clone();

    // moto's own tasks decay to STOPPED after being described a few times; AWS's don't.
    for _ in 0..5 {
        let out = ecs
            .describe_tasks()
            .cluster(&fleet.cluster)
            .tasks(&victim)
            .send()
            .await
            .unwrap();
        assert_eq!(out.tasks()[0].last_status(), Some("RUNNING"));
    }

    ecs.stop_task()
        .cluster(&fleet.cluster)
        .task(&victim)
        .reason("test")
        .send()
        .await
        .unwrap();
    let running = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .service_name(&fleet.services[0])
        .send()
        .await
        .unwrap();
    assert_eq!(running.task_arns().len(), 2);
    assert!(!running.task_arns().contains(&victim));
    let stopped = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .service_name(&fleet.services[0])
        .desired_status(DesiredStatus::Stopped)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.task_arns(), std::slice::from_ref(&victim));
    let described = ecs
        .describe_tasks()
        .cluster(&fleet.cluster)
        .tasks(&victim)
        .send()
        .await
        .unwrap();
    let task = &described.tasks()[0];
    assert_eq!(task.last_status(), Some("STOPPED"));
    assert_eq!(task.stopped_reason(), Some("test"));
    assert!(task.stopped_at().is_some());
    let service = ecs
        .describe_services()
        .cluster(&fleet.cluster)
        .services(&fleet.services[0])
        .send()
        .await
        .unwrap();
    assert_eq!(service.services()[0].running_count(), 2);

    // By container instance: every task here is on the one instance.
    let on_instance = ecs
        .list_tasks()
        .cluster(&fleet.cluster)
        .container_instance(&fleet.container_instance_arns[0])
        .send()
        .await
        .unwrap();
    assert_eq!(on_instance.task_arns().len(), 5);

    // A task of another cluster is MISSING here, as on AWS.
    let other = big_services().await.all_task_arns()[0].clone();
    let out = ecs
        .describe_tasks()
        .cluster(&fleet.cluster)
        .tasks(&other)
        .send()
        .await
        .unwrap();
    assert!(out.tasks().is_empty());
    assert_eq!(out.failures()[0].reason(), Some("MISSING"));
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_count_every_call_by_operation_and_reset() {
    // Own server: counts are global to a server.
    let moto = Moto::start();
    let cfg = sdk_config(&moto.endpoint).await;
    let fleet = seed(&cfg, &FleetSpec::new("counted", 1, 2, 1)).await;
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let sts = aws_sdk_sts::Client::new(&cfg);
    assert_eq!(moto.calls("ecs:RunTask").await, 1);

    moto.reset_stats().await;
    assert!(moto.stats().await.is_empty(), "reset zeroes the counts");

    ecs.list_clusters().send().await.unwrap();
    for _ in 0..2 {
        ecs.list_tasks()
            .cluster(&fleet.cluster)
            .send()
            .await
            .unwrap();
    }
    ecs.describe_tasks()
        .cluster(&fleet.cluster)
        .set_tasks(Some(fleet.all_task_arns()))
        .send()
        .await
        .unwrap();
    ec2.describe_instances()
        .instance_ids(&fleet.ec2_instance_ids[0])
        .send()
        .await
        .unwrap();
    sts.get_caller_identity().send().await.unwrap();
    let _ = ecs
        .describe_services()
        .cluster(&fleet.cluster)
        .set_services(Some(vec!["x".to_owned(); 11]))
        .send()
        .await;

    let stats = moto.stats().await;
    let expected = [
        ("ecs:ListClusters", 1),
        ("ecs:ListTasks", 2),
        ("ecs:DescribeTasks", 1),
        ("ec2:DescribeInstances", 1),
        ("sts:GetCallerIdentity", 1),
        ("ecs:DescribeServices", 1), // rejected calls count too
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(
        stats, expected,
        "only what the client sent, nothing the front did inside"
    );
}
