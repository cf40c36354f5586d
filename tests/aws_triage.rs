//! The triage engine on the AWS source: moto (through the real SDK over HTTP) holds a service
//! whose task definition gives the JVM a heap of nearly the container's hard limit; the engine
//! polls the service and its task definition on its own (no pane shows them) and reports it.

mod support;

use std::sync::Arc;

use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::testkit::Harness;
use support::{Moto, sdk_config};

#[tokio::test(flavor = "multi_thread")]
async fn a_heap_near_the_hard_limit_is_found_without_opening_anything() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    support::seed::seed_heap_near_limit(&config, "triage", "risky").await;

    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    let source: Arc<dyn FleetSource> =
        Arc::new(AwsSource::from_config(&config, settings.clone()).expect("region set"));
    let mut h = Harness::with_source(source, Some(settings), 160, 45);
    // Only the clusters pane is open: the engine reads services and task definitions itself.
    h.advance(40);
    let found = h
        .state
        .triage
        .active()
        .into_iter()
        .find(|f| {
            f.current.rule == "taskdef-memory-limit-risk"
                && f.current.subject.service() == Some("risky")
        })
        .map(|f| f.current.message.clone());
    let message = found.unwrap_or_else(|| {
        panic!(
            "no finding for risky; active: {:?}",
            h.state
                .triage
                .active()
                .iter()
                .map(|f| (f.current.rule, f.current.subject.label()))
                .collect::<Vec<_>>()
        )
    });
    assert!(message.contains("risky"), "{message}");
    assert!(message.contains("hard 512"), "{message}");
    assert!(message.contains("500"), "{message}");
    // The services pane shows the badge; the header counts it.
    h.press("/triage<enter><enter>");
    let frame = h.render();
    let row = frame.lines().find(|l| l.contains("risky")).expect("row");
    assert!(row.contains("WARN") || row.contains("INFO"), "{row}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_steady_fleet_costs_the_engine_few_evaluations() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    support::seed(&config, &support::FleetSpec::new("steady", 3, 2, 1)).await;
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    let source: Arc<dyn FleetSource> =
        Arc::new(AwsSource::from_config(&config, settings.clone()).expect("region set"));
    let mut h = Harness::with_source(source, Some(settings), 160, 45);
    h.press("/steady<enter><enter>");
    h.advance(40);
    let before = h.state.triage.evaluations;
    // A minute of polls (the services pane every 5 s, the fleet-wide ones every 30 s) that
    // bring the same answers: the rules run on the clock alone (every 15 s) and once for the
    // minute's metrics, not on every answer.
    h.advance(60);
    let evaluations = h.state.triage.evaluations - before;
    assert!(
        (3..=7).contains(&evaluations),
        "{evaluations} evaluations in a steady minute"
    );
}

/// The headless commands over several contexts (`ecsmon findings --region us-east-1,eu-west-1`):
/// an engine per context against moto through the real SDK, side by side. Each region's heap
/// risk is found in its own context only, and a context that cannot be reached is said with
/// its reason while the others complete.
#[tokio::test(flavor = "multi_thread")]
async fn the_headless_look_over_two_regions_finds_each_in_its_own_and_says_which_failed() {
    use ecsmon::headless::{Engine, look_all};
    use ecsmon::model::Context;

    let moto = Moto::shared();
    let regions = [("us-east-1", "ledger-east"), ("eu-west-1", "ledger-west")];
    for (region, service) in regions {
        let config = support::sdk_config_in(&moto.endpoint, region).await;
        support::seed::seed_heap_near_limit(&config, "fleet-headless", service).await;
    }
    let engine = |region: &str, endpoint: &str, config: &aws_config::SdkConfig| {
        let settings = AwsSettings {
            profile: None,
            region: Some(region.into()),
            endpoint_url: Some(endpoint.into()),
        };
        let source: Arc<dyn FleetSource> =
            Arc::new(AwsSource::from_config(config, settings.clone()).expect("region set"));
        let mut state = ecsmon::state::State::new(
            Default::default(),
            source.now(),
            ecsmon::config::Config::defaults().refresh,
            (160, 40),
        );
        state.aws = Some(settings);
        Engine::new(state, ecsmon::keymap::KeyMap::defaults(), source)
            .in_context(Context::new(None, region))
    };
    let mut engines = Vec::new();
    for (region, _) in regions {
        let config = support::sdk_config_in(&moto.endpoint, region).await;
        engines.push(engine(region, &moto.endpoint, &config));
    }
    // Nothing listens on port 9 (discard) of localhost: every call fails at once.
    let nowhere = "http://127.0.0.1:9";
    let config = support::sdk_config_in(nowhere, "ap-south-1").await;
    engines.push(engine("ap-south-1", nowhere, &config));

    let looked = match look_all(&mut engines, None).await {
        Ok(looked) => looked,
        Err(_) => panic!("no cluster asked: no usage error"),
    };
    assert!(looked[0].is_ok() && looked[1].is_ok(), "{looked:?}");
    let why = looked[2].as_ref().unwrap_err();
    assert!(why.contains("clusters"), "{why}");

    let risky = |engine: &Engine| -> Vec<String> {
        let mut services: Vec<String> = engine
            .state
            .triage
            .active()
            .into_iter()
            .filter(|f| {
                f.current.rule == "taskdef-memory-limit-risk"
                    && f.current.subject.cluster() == "fleet-headless"
            })
            .filter_map(|f| f.current.subject.service().map(str::to_string))
            .collect();
        services.sort();
        services
    };
    assert_eq!(risky(&engines[0]), ["ledger-east"]);
    assert_eq!(risky(&engines[1]), ["ledger-west"]);
    assert_eq!(
        engines[0].title().as_deref(),
        Some("default · 123456789012 · us-east-1"),
        "titled with the account STS names"
    );
    assert_eq!(engines[2].title().as_deref(), Some("default · ap-south-1"));
}
