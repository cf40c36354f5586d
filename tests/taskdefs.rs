//! Task definitions: a family's revisions and the diff between two, read through the real SDK
//! from moto (revisions registered with `RegisterTaskDefinition`), rolling a service to another
//! revision through the gate (read back from moto; nothing sent under read-only), and the
//! revision list, diff and describe views on the demo fleet, through keys.

mod support;

use aws_sdk_ecs::types::{
    ContainerDefinition, HealthCheck, KeyValuePair, LinuxParameters, LogConfiguration, LogDriver,
    PortMapping, Secret, TransportProtocol, Ulimit, UlimitName,
};

use ecsmon::model::{Operation, taskdef_diff};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::state::{Popup, TaskDefText};
use ecsmon::testkit::Harness;
use support::{FleetSpec, Moto, sdk_config, seed};

fn source(moto: &Moto, config: &aws_config::SdkConfig) -> AwsSource {
    AwsSource::from_config(config, settings(moto)).expect("region set")
}

fn settings(moto: &Moto) -> AwsSettings {
    AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    }
}

/// One revision of the `app` container, varied by `n`: image tag, environment, memory, a
/// rotated secret, ports and more from the third revision on.
fn app(n: u32) -> ContainerDefinition {
    let mut c = ContainerDefinition::builder()
        .name("app")
        .image(format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/cart:1.4.{n}"
        ))
        .essential(true)
        .memory(512 * n as i32)
        .memory_reservation(256)
        .environment(
            KeyValuePair::builder()
                .name("LOG_LEVEL")
                .value(if n.is_multiple_of(2) { "debug" } else { "info" })
                .build(),
        )
        .environment(
            KeyValuePair::builder()
                .name("DB_PASSWORD")
                .value(format!("hunter{n}"))
                .build(),
        )
        .secrets(
            Secret::builder()
                .name("API_TOKEN")
                .value_from(format!(
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-v{n}-AbCdEf"
                ))
                .build()
                .expect("secret"),
        )
        .port_mappings(
            PortMapping::builder()
                .container_port(8080)
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", "/ecs/cart")
                .build()
                .expect("log configuration"),
        )
        .command("serve");
    if n >= 3 {
        c = c
            .environment(
                KeyValuePair::builder()
                    .name("FEATURE_X")
                    .value("on")
                    .build(),
            )
            .port_mappings(
                PortMapping::builder()
                    .container_port(9090)
                    .protocol(TransportProtocol::Tcp)
                    .build(),
            )
            .health_check(
                HealthCheck::builder()
                    .command("CMD-SHELL")
                    .command("curl -f localhost:8080/health")
                    .interval(10)
                    .build()
                    .expect("health check"),
            )
            .ulimits(
                Ulimit::builder()
                    .name(UlimitName::Nofile)
                    .soft_limit(65536)
                    .hard_limit(65536)
                    .build()
                    .expect("ulimit"),
            )
            .linux_parameters(
                LinuxParameters::builder()
                    .init_process_enabled(true)
                    .build(),
            )
            .readonly_root_filesystem(true)
            .stop_timeout(120)
            .command("--fast");
    }
    c.build()
}

async fn register(ecs: &aws_sdk_ecs::Client, family: &str, n: u32) -> String {
    ecs.register_task_definition()
        .family(family)
        .container_definitions(app(n))
        .memory((1024 * n).to_string())
        .cpu("512")
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition
        .and_then(|t| t.task_definition_arn)
        .expect("ARN")
}

#[tokio::test]
async fn a_familys_revisions_come_newest_first_from_every_page_and_only_that_family() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    for n in 1..=4 {
        register(&ecs, "td-cart", n).await;
    }
    // `familyPrefix` matches by prefix on AWS (the front does as AWS does).
    register(&ecs, "td-cart-api", 1).await;
    let source = source(moto, &config);
    let revisions = source.task_definition_revisions("td-cart").await.unwrap();
    let numbers: Vec<u32> = revisions.iter().map(|r| r.revision).collect();
    assert_eq!(numbers, [4, 3, 2, 1]);
    assert!(revisions.iter().all(|r| r.family == "td-cart"));
    assert!(revisions[0].arn.ends_with("task-definition/td-cart:4"));

    // More than a page (100): every page is read.
    let many: Vec<_> = (0..103).map(|_| register(&ecs, "td-many", 1)).collect();
    futures::future::join_all(many).await;
    let all = source.task_definition_revisions("td-many").await.unwrap();
    assert_eq!(all.len(), 103);
    assert_eq!(all[0].revision, 103);
    assert_eq!(all[102].revision, 1);
}

#[tokio::test]
async fn the_diff_of_two_registered_revisions_says_exactly_what_changed() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let old = register(&ecs, "td-diff", 1).await;
    let new = register(&ecs, "td-diff", 3).await;
    let source = source(moto, &config);
    let (a, b) = (
        source.task_definition(&old).await.unwrap(),
        source.task_definition(&new).await.unwrap(),
    );
    let c = &b.containers[0];
    assert_eq!(
        c.environment.len(),
        3,
        "sorted by name: {:?}",
        c.environment
    );
    assert_eq!(c.environment[0].0, "DB_PASSWORD");
    assert_eq!(c.port_mappings.len(), 2);
    assert_eq!(c.init_process_enabled, Some(true));
    assert_eq!(c.stop_timeout, Some(120));
    let lines = taskdef_diff::diff(&a, &b).all_lines();
    let expect = [
        "~ memory 1024 MiB → 3072 MiB",
        "app: ~ image tag 1.4.1 → 1.4.3  (123456789012.dkr.ecr.us-east-1.amazonaws.com/cart)",
        "app: ~ memory (hard) 512 MiB → 1536 MiB",
        "app: ~ command [\"serve\"] → [\"serve\",\"--fast\"]",
        "app: ~ env DB_PASSWORD: value changed (hidden)",
        "app: + env FEATURE_X=on",
        "app: ~ secret API_TOKEN: reference changed",
        "app: + port 9090/tcp",
        "app: + health check CMD-SHELL curl -f localhost:8080/health · every 10s, timeout 5s, 3 retries, start period 0s",
        "app: + ulimit nofile soft 65536 hard 65536",
        "app: ~ readonlyRootFilesystem false → true",
        "app: ~ initProcessEnabled not set → true",
        "app: ~ stopTimeout 30s (default) → 120s",
    ];
    assert_eq!(lines, expect);
    let all = lines.join("\n");
    for secret in ["hunter1", "hunter3", "api-v1", "api-v3", "secretsmanager"] {
        assert!(!all.contains(secret), "{secret} shown: {all}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_goes_through_the_gate_and_moto_runs_the_chosen_revision() {
    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let seeded = seed(&config, &FleetSpec::new("td-roll", 1, 1, 1)).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let family = seed::family("td-roll");
    // Revision 2 is deployed; the operator goes back to 1.
    let second = register(&ecs, &family, 2).await;
    ecs.update_service()
        .cluster("td-roll")
        .service(&seeded.services[0])
        .task_definition(&second)
        .send()
        .await
        .expect("UpdateService");
    let src: std::sync::Arc<dyn FleetSource> = std::sync::Arc::new(source(&moto, &config));
    let mut h = Harness::with_source(src, Some(settings(&moto)), 140, 40);
    h.press("/td-roll<enter><enter>");
    h.press("T");
    let Some(Popup::TaskDefs(view)) = h.state.popups.last() else {
        panic!("the revision list: {:?}", h.state.popups);
    };
    let numbers: Vec<u32> = view
        .revisions
        .as_ref()
        .expect("listed")
        .iter()
        .map(|r| r.revision)
        .collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(
        view.selected, 0,
        "the selection starts on the running revision"
    );

    // Under read-only nothing is sent.
    moto.reset_stats().await;
    h.state.read_only = true;
    h.press("jR");
    assert!(
        h.status().contains("read-only mode is on"),
        "{}",
        h.status()
    );
    assert_eq!(moto.calls("ecs:UpdateService").await, 0);
    assert_eq!(h.audits().last().unwrap().result, "refused: read-only");

    h.state.read_only = false;
    h.press("R");
    let Some(Popup::Confirm { lines, .. }) = h.state.popups.last() else {
        panic!("a confirmation: {:?}", h.state.popups.last());
    };
    assert_eq!(
        lines[0],
        format!(
            "{}: {family}:2 → {family}:1 (a new deployment replaces every task)",
            seeded.services[0]
        )
    );
    assert_eq!(moto.calls("ecs:UpdateService").await, 0, "not before y");
    h.press("y");
    assert_eq!(moto.calls("ecs:UpdateService").await, 1);
    let service = ecs
        .describe_services()
        .cluster("td-roll")
        .services(&seeded.services[0])
        .send()
        .await
        .expect("DescribeServices")
        .services()[0]
        .clone();
    assert!(
        service
            .task_definition()
            .unwrap_or_default()
            .ends_with(&format!("{family}:1")),
        "{:?}",
        service.task_definition()
    );
    let record = h.audits().pop().unwrap();
    assert_eq!(record.action, "rollback");
    assert!(record.result.starts_with("ok: "), "{}", record.result);
    assert!(matches!(
        record.parameters,
        Operation::Rollback { from: 2, to: 1, .. }
    ));
}

// ---- The views on the demo fleet

/// prod › cart, the revision list open (cart is mid-rollout: two deployments).
fn cart_revisions() -> Harness {
    let mut h = Harness::new("default", 140, 40);
    h.press("/prod<enter><enter>/cart<enter>");
    h
}

fn open_cart(h: &mut Harness) {
    h.press(":taskdefs<enter>");
}

#[test]
fn the_revision_list_marks_what_each_deployment_runs() {
    let mut h = Harness::new("default", 140, 40);
    h.press("/prod<enter><enter>/cart<enter>T");
    let Some(Popup::TaskDefs(view)) = h.state.popups.last() else {
        panic!("{:?}", h.state.popups.last());
    };
    assert_eq!(view.service, "cart");
    insta::assert_snapshot!("taskdefs_list_of_cart", h.render());
}

#[test]
fn enter_diffs_a_revision_against_the_running_one_and_c_against_the_marked() {
    let mut h = Harness::new("default", 140, 40);
    h.press("/prod<enter><enter>/cart<enter>T");
    let running = match h.state.popups.last() {
        Some(Popup::TaskDefs(view)) => view.running.clone(),
        other => panic!("{other:?}"),
    };
    // Two rows down: an older revision against the running one.
    h.press("jj<enter>");
    let Some(Popup::TaskDefText {
        view: TaskDefText::Diff { from, to },
        ..
    }) = h.state.popups.last()
    else {
        panic!("{:?}", h.state.popups.last());
    };
    assert_eq!(from, &running);
    assert_eq!(to.revision, running.revision - 2);
    insta::assert_snapshot!("taskdefs_diff_against_running", h.render());
    // Mark the oldest, compare the newest against it.
    h.press("<esc>G gc");
    let Some(Popup::TaskDefText {
        view: TaskDefText::Diff { from, to },
        ..
    }) = h.state.popups.last()
    else {
        panic!("{:?}", h.state.popups.last());
    };
    assert_eq!(to, &running);
    assert!(from.revision < running.revision - 2, "{from}");
    // Without a mark, c compares with the previous revision.
    h.press("<esc> c");
    let Some(Popup::TaskDefText {
        view: TaskDefText::Diff { from, to },
        ..
    }) = h.state.popups.last()
    else {
        panic!("{:?}", h.state.popups.last());
    };
    assert_eq!(
        (from.revision, to.revision),
        (running.revision - 1, running.revision)
    );
    let screen = h.render();
    assert!(screen.contains("(running)"), "{screen}");
    assert!(!screen.contains("secretsmanager"), "{screen}");
}

#[test]
fn d_describes_a_revision_in_full_and_it_scrolls() {
    let mut h = Harness::new("default", 140, 40);
    h.press("/prod<enter><enter>/cart<enter>Td");
    let Some(Popup::TaskDefText {
        view: TaskDefText::Describe(r),
        ..
    }) = h.state.popups.last()
    else {
        panic!("{:?}", h.state.popups.last());
    };
    assert_eq!(r.family, "cart");
    let screen = h.render();
    assert!(screen.contains("container cart"), "{screen}");
    assert!(
        screen.contains("image                  123456789012.dkr.ecr"),
        "{screen}"
    );
    h.press("G");
    let Some(Popup::TaskDefText { scroll, .. }) = h.state.popups.last() else {
        panic!();
    };
    assert!(*scroll > 0, "a long revision scrolls");
    let screen = h.render();
    assert!(
        screen.contains("DB_PASSWORD ← Secrets Manager cart/db-v"),
        "{screen}"
    );
    assert!(!screen.contains("arn:aws:secretsmanager"), "{screen}");
    insta::assert_snapshot!("taskdefs_describe_scrolled_to_the_end", screen);
}

#[test]
fn diff_opens_on_the_running_revision_against_the_previous() {
    let mut h = cart_revisions();
    h.press(":diff<enter>");
    let Some(Popup::TaskDefText {
        view: TaskDefText::Diff { from, to },
        ..
    }) = h.state.popups.last()
    else {
        panic!("{:?}", h.state.popups.last());
    };
    assert_eq!(from.revision + 1, to.revision);
    assert_eq!(to.family, "cart");
    // Esc goes back to the list, then to the services.
    h.press("<esc>");
    assert!(matches!(h.state.popups.last(), Some(Popup::TaskDefs(_))));
    h.press("<esc>");
    assert!(h.state.popups.is_empty());
    open_cart(&mut h);
    assert!(matches!(h.state.popups.last(), Some(Popup::TaskDefs(_))));
}

#[test]
fn a_rollback_on_the_demo_is_confirmed_performed_and_shown() {
    let mut h = Harness::new("default", 140, 40);
    h.press("/prod<enter><enter>/cart<enter>T");
    // R on the running revision does nothing but say so.
    h.press("R");
    assert!(h.status().contains("already runs"), "{}", h.status());
    h.press("jjR");
    let Some(Popup::Confirm { lines, .. }) = h.state.popups.last() else {
        panic!("{:?}", h.state.popups.last());
    };
    let summary = lines[0].clone();
    assert!(summary.starts_with("cart: cart:"), "{summary}");
    h.press("y");
    assert!(h.status().contains("deployment"), "{}", h.status());
    let record = h.audits().pop().unwrap();
    assert_eq!(record.action, "rollback");
    assert!(record.result.starts_with("ok: "), "{}", record.result);
    // The list now marks the chosen revision as the PRIMARY deployment's.
    h.advance(6);
    let screen = h.render();
    let row = screen
        .lines()
        .find(|l| l.contains("PRIMARY"))
        .unwrap_or_default()
        .to_string();
    let Operation::Rollback { to, .. } = record.parameters else {
        panic!()
    };
    assert!(row.contains(&format!("cart:{to}")), "{screen}");
}

#[test]
fn t_on_something_other_than_a_service_says_what_to_select() {
    let mut h = Harness::new("default", 140, 40);
    h.press("T");
    assert!(h.state.popups.is_empty());
    h.press(":taskdefs<enter>");
    assert!(h.state.popups.is_empty());
    assert!(h.status().contains("select a service"), "{}", h.status());
}
