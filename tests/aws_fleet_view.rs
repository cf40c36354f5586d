//! The fleet view against moto, through the real update path: two regions of one account with
//! different clusters (and one cluster name in both), a second account reached through an
//! assume-role profile of an AWS config file, each context connected as an operator's would be
//! (`source::aws::connect_context`). The merged clusters pane, findings from both regions,
//! drilling into each context, a change landing in its own region only, and one context denied
//! while the others stay fresh. Its own test binary: it points `AWS_CONFIG_FILE` at a temporary
//! file for the whole process.

// set_var is unsafe since edition 2024: the environment is set before any thread exists.
#![allow(unsafe_code)]

mod support;

use std::sync::Arc;

use ecsmon::action::Effect;
use ecsmon::model::{Operation, WantedContext};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::connect_context;
use ecsmon::state::{PaneKind, Popup};
use ecsmon::testkit::{FleetContext, Harness};
use support::fleet_view::{member_of, select};
use support::{FleetSpec, Moto, sdk_config_as, sdk_config_in, seed};

const HOME_ACCOUNT: &str = "123456789012";
const ORG_B_ACCOUNT: &str = "222222222222";

/// The operator's `~/.aws/config`: `alpha` has keys and a region; `org-b` is a role in another
/// account reached from `alpha`.
fn aws_config_file() -> String {
    format!(
        "[profile alpha]\nregion = us-east-1\n\
         aws_access_key_id = test\naws_secret_access_key = test\n\n\
         [profile org-b]\nregion = eu-west-1\n\
         role_arn = arn:aws:iam::{ORG_B_ACCOUNT}:role/ecsmon-read\nsource_profile = alpha\n"
    )
}

/// alpha · us-east-1: `web` (its service `checkout` gives the JVM nearly all its memory) and
/// `shared` (one service); alpha · eu-west-1: `api` (`payments`, the same risk) and `shared`
/// (two services); org-b · eu-west-1 (account 222222222222): `ledger`.
async fn seed_contexts(endpoint: &str) {
    let east = sdk_config_in(endpoint, "us-east-1").await;
    let west = sdk_config_in(endpoint, "eu-west-1").await;
    seed::seed_heap_near_limit(&east, "web", "checkout").await;
    seed(&east, &FleetSpec::new("shared", 1, 1, 1)).await;
    seed::seed_heap_near_limit(&west, "api", "payments").await;
    seed(&west, &FleetSpec::new("shared", 2, 1, 1)).await;
    seed(
        &sdk_config_as(endpoint, "eu-west-1", ORG_B_ACCOUNT).await,
        &FleetSpec::new("ledger", 1, 1, 1),
    )
    .await;
}

/// Each context connected as `ecsmon --profile alpha,org-b …` connects it.
async fn connect_all(endpoint: &str) -> Vec<FleetContext> {
    let mut contexts = Vec::new();
    for (profile, region) in [
        ("alpha", Some("us-east-1")),
        ("alpha", Some("eu-west-1")),
        ("org-b", None),
    ] {
        let wanted = WantedContext::new(Some(profile), region);
        let connected = connect_context(&wanted, Some(endpoint))
            .await
            .unwrap_or_else(|e| panic!("{wanted}: {}", e.message));
        let source: Arc<dyn FleetSource> = Arc::new(connected.source);
        contexts.push((connected.context, source, None));
    }
    contexts
}

#[test]
fn the_fleet_view_over_two_regions_and_an_assumed_account() {
    let moto = Moto::start();
    let dir = std::env::temp_dir().join(format!("ecsmon-fleet-view-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_file = dir.join("config");
    std::fs::write(&config_file, aws_config_file()).unwrap();
    // SAFETY: set before any other thread of this test binary exists (one test, no runtime yet).
    unsafe {
        for var in support::AWS_ENV_VARS {
            std::env::remove_var(var);
        }
        std::env::set_var("AWS_CONFIG_FILE", &config_file);
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"));
        // The SDK's profile chain sends org-b's AssumeRole here too (see aws_contexts.rs).
        std::env::set_var("AWS_ENDPOINT_URL", &moto.endpoint);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let endpoint = moto.endpoint.as_str();
        seed_contexts(endpoint).await;
        let mut h = Harness::fleet(connect_all(endpoint).await, 170, 45);

        one_pane_lists_every_contexts_clusters(&h);
        findings_come_from_both_regions(&mut h);
        drilling_in_shows_that_contexts_services(&mut h);
        a_scale_lands_in_its_own_region_only(&mut h, endpoint).await;
        a_denied_context_goes_stale_alone(&mut h, &moto).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The (cluster, profile, account, region) of each row of the fleet view's clusters pane,
/// sorted.
fn rows(h: &Harness) -> Vec<(String, String, String, String)> {
    let mut rows: Vec<_> = h
        .state
        .fleet
        .clusters()
        .iter()
        .map(|c| {
            let place = c
                .context
                .as_deref()
                .expect("every merged row names its context");
            (
                ecsmon::model::unqualify(&c.name).0.to_string(),
                place.profile.clone(),
                place.account.clone(),
                place.region.clone(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn row(
    cluster: &str,
    profile: &str,
    account: &str,
    region: &str,
) -> (String, String, String, String) {
    (
        cluster.into(),
        profile.into(),
        account.into(),
        region.into(),
    )
}

/// Every context's clusters on one pane; the two `shared` clusters are two rows told apart by
/// their region; org-b's rows carry the account STS named for its assumed role.
fn one_pane_lists_every_contexts_clusters(h: &Harness) {
    assert_eq!(
        rows(h),
        [
            row("api", "alpha", HOME_ACCOUNT, "eu-west-1"),
            row("ledger", "org-b", ORG_B_ACCOUNT, "eu-west-1"),
            row("shared", "alpha", HOME_ACCOUNT, "eu-west-1"),
            row("shared", "alpha", HOME_ACCOUNT, "us-east-1"),
            row("web", "alpha", HOME_ACCOUNT, "us-east-1"),
        ]
    );
    let screen = h.render();
    for header in ["PROFILE", "ACCOUNT", "REGION"] {
        assert!(screen.contains(header), "{screen}");
    }
    assert!(screen.contains("fleet view: 3 contexts"), "{screen}");
    let ledger = screen
        .lines()
        .find(|l| l.contains("ledger"))
        .unwrap_or_else(|| panic!("no ledger row:\n{screen}"));
    assert!(
        ledger.contains(ORG_B_ACCOUNT) && ledger.contains("org-b") && ledger.contains("eu-west-1"),
        "{ledger}"
    );
    let shared: Vec<&str> = screen.lines().filter(|l| l.contains("shared")).collect();
    assert_eq!(shared.len(), 2, "{screen}");
    assert!(
        shared.iter().any(|l| l.contains("us-east-1"))
            && shared.iter().any(|l| l.contains("eu-west-1")),
        "{shared:?}"
    );
}

/// Each region's engine reads its services and task definitions on its own (no pane shows
/// them) and finds the heap near the hard limit; the fleet view holds both, each named with
/// its context.
fn findings_come_from_both_regions(h: &mut Harness) {
    h.advance(40);
    let found: Vec<(String, Option<String>)> = h
        .state
        .triage
        .active()
        .iter()
        .filter(|f| f.current.rule == "taskdef-memory-limit-risk")
        .map(|f| {
            (
                f.current.subject.cluster().to_string(),
                f.current.subject.service().map(str::to_string),
            )
        })
        .collect();
    for (cluster, service) in [
        ("web@alpha · us-east-1", "checkout"),
        ("api@alpha · eu-west-1", "payments"),
    ] {
        assert!(
            found
                .iter()
                .any(|(c, s)| c == cluster && s.as_deref() == Some(service)),
            "no finding for {service} in {cluster}: {found:?}"
        );
    }
    // Each is its own context's: the member's engine found it, under the plain name.
    for (profile, region, cluster) in [("alpha", "us-east-1", "web"), ("alpha", "eu-west-1", "api")]
    {
        let m = member_of(h, profile, region);
        assert!(
            h.state.members[m]
                .state
                .triage
                .active()
                .iter()
                .any(|f| f.current.rule == "taskdef-memory-limit-risk"
                    && f.current.subject.cluster() == cluster),
            "{profile} · {region}"
        );
    }
}

/// The services `member`'s services pane lists, sorted.
fn services_shown(h: &Harness, member: usize) -> Vec<String> {
    let shown = &h.state.members[member].state;
    let mut names: Vec<String> = shown
        .fleet
        .services(&shown.focused().pane.query())
        .iter()
        .map(|s| s.name.clone())
        .collect();
    names.sort();
    names
}

/// `<enter>` on each context's cluster: that context's console takes the screen with the
/// cluster's services from its own region or account, its polls go to its own source only,
/// and `<esc>` gives the screen back to the fleet view on the same row.
fn drilling_in_shows_that_contexts_services(h: &mut Harness) {
    for (cluster, profile, region, services) in [
        ("web", "alpha", "us-east-1", vec!["checkout"]),
        ("api", "alpha", "eu-west-1", vec!["payments"]),
        ("shared", "alpha", "us-east-1", vec!["svc-000"]),
        ("shared", "alpha", "eu-west-1", vec!["svc-000", "svc-001"]),
        ("ledger", "org-b", "eu-west-1", vec!["svc-000"]),
    ] {
        let place = format!("{cluster}@{profile} · {region}");
        select(h, cluster, profile, region);
        let member = member_of(h, profile, region);
        let before = h.effects.len();
        h.press("<enter>");
        assert_eq!(h.state.active_member, Some(member), "{place}");
        let shown = &h.state.members[member].state;
        assert_eq!(shown.focused().pane.kind(), PaneKind::Services, "{place}");
        assert_eq!(shown.focused().pane.cluster(), Some(cluster), "{place}");
        assert_eq!(services_shown(h, member), services, "{place}");
        // Drilling in asked nothing outside that context; `r` there asks its own source.
        let outside = h.effects[before..]
            .iter()
            .find(|e| matches!(e, Effect::Fetch { .. } | Effect::Describe { .. }));
        assert_eq!(outside, None, "{place}: a call outside any context");
        let before = h.effects.len();
        h.press("r");
        let fetched: Vec<(usize, String)> = h.effects[before..]
            .iter()
            .filter_map(|e| match e {
                Effect::In { member, effect } => match &**effect {
                    Effect::Fetch { query, .. } => Some((*member, query.describe())),
                    _ => None,
                },
                Effect::Fetch { .. } => panic!("{place}: a fetch outside any context"),
                _ => None,
            })
            .collect();
        assert!(!fetched.is_empty(), "{place}");
        assert!(
            fetched.iter().all(|(m, _)| *m == member),
            "{place}: {fetched:?}"
        );
        assert_eq!(services_shown(h, member), services, "{place}, refreshed");
        let screen = h.render();
        assert!(
            screen.contains(&format!("Services ({})", services.len())),
            "{place}:\n{screen}"
        );
        assert!(
            screen.contains("checkout") == (cluster == "web"),
            "{place}:\n{screen}"
        );
        h.press("<esc>");
        assert_eq!(h.state.active_member, None, "{place}");
        assert_eq!(h.state.nav[0].selected_key.as_deref(), Some(place.as_str()));
    }
}

/// The desired count of `cluster`'s `service` in `region`, as AWS (moto) has it now.
async fn desired_count(endpoint: &str, region: &str, cluster: &str, service: &str) -> i32 {
    let ecs = aws_sdk_ecs::Client::new(&sdk_config_in(endpoint, region).await);
    let out = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .expect("DescribeServices");
    out.services()[0].desired_count()
}

/// `s 3 <enter> y` on `shared/svc-000` in alpha · eu-west-1: the change goes to that
/// context's source only, AWS has it in eu-west-1 and not in us-east-1's service of the same
/// names, and the audit records name the context's account and region.
async fn a_scale_lands_in_its_own_region_only(h: &mut Harness, endpoint: &str) {
    assert_eq!(
        desired_count(endpoint, "eu-west-1", "shared", "svc-000").await,
        1
    );
    assert_eq!(
        desired_count(endpoint, "us-east-1", "shared", "svc-000").await,
        1
    );
    select(h, "shared", "alpha", "eu-west-1");
    let member = member_of(h, "alpha", "eu-west-1");
    h.press("<enter>");
    // The first row, svc-000 (the Perform below says which service it was).
    let before = h.effects.len();
    h.press("s");
    assert!(
        matches!(
            h.state.members[member].state.popups.last(),
            Some(Popup::Scale(_))
        ),
        "{}",
        h.render()
    );
    h.press("3<enter>y");
    let performed: Vec<(usize, &Operation)> = h.effects[before..]
        .iter()
        .filter_map(|e| match e {
            Effect::In { member, effect } => match &**effect {
                Effect::Perform(op) => Some((*member, op)),
                _ => None,
            },
            Effect::Perform(_) => panic!("a change outside any context"),
            _ => None,
        })
        .collect();
    assert_eq!(performed.len(), 1, "{performed:?}");
    assert_eq!(performed[0].0, member);
    assert!(
        matches!(performed[0].1, Operation::Scale { cluster, service, to: 3, .. }
            if cluster == "shared" && service == "svc-000"),
        "{:?}",
        performed[0].1
    );
    assert_eq!(
        desired_count(endpoint, "eu-west-1", "shared", "svc-000").await,
        3
    );
    assert_eq!(
        desired_count(endpoint, "us-east-1", "shared", "svc-000").await,
        1,
        "the same names in the other region are untouched"
    );
    // The gate's records (requested, then the outcome) say where the change was made.
    let audits = h.audits();
    assert_eq!(audits.len(), 2, "{audits:?}");
    for record in &audits {
        assert_eq!(record.action, "scale");
        assert_eq!(record.account, HOME_ACCOUNT);
        assert_eq!(record.region, "eu-west-1");
        assert!(record.target.contains(":eu-west-1:"), "{}", record.target);
        assert!(
            record.target.ends_with("/shared/svc-000"),
            "{}",
            record.target
        );
    }
    assert_eq!(audits[0].result, "requested");
    assert!(audits[1].result.starts_with("ok"), "{}", audits[1].result);
    h.press("<esc>");
    assert_eq!(h.state.active_member, None, "{}", h.render());
}

/// Every ECS call in org-b's account is denied: after the next clusters poll only org-b's row
/// is stale (with AWS's reason), the status line and header say so, and alpha's two regions
/// keep answering. Once the denial ends its row is fresh again.
async fn a_denied_context_goes_stale_alone(h: &mut Harness, moto: &Moto) {
    let org_b = member_of(h, "org-b", "eu-west-1");
    moto.inject(serde_json::json!({
        "op": "ecs:*", "kind": "denied", "account": ORG_B_ACCOUNT,
    }))
    .await;
    let was = h.state.now;
    h.advance(120);
    let faults = moto.faults().await;
    assert!(faults[0]["hits"].as_u64().unwrap() >= 1, "{faults}");
    for c in h.state.fleet.clusters() {
        let place = c.context.as_deref().unwrap();
        match &place.stale {
            Some(why) => {
                assert_eq!(place.profile, "org-b", "{}: {why}", c.name);
                assert!(why.contains("AccessDenied"), "{why}");
            }
            None => assert_eq!(place.profile, "alpha", "{} is not stale", c.name),
        }
    }
    assert!(
        h.state
            .fleet
            .clusters()
            .iter()
            .any(|c| c.name == "ledger@org-b · eu-west-1"),
        "its last known row is still listed"
    );
    for (m, member) in h.state.members.iter().enumerate() {
        let fetched = member.fetched_at().expect("every context answered once");
        if m == org_b {
            assert!(fetched <= was, "{}: {fetched}", member.context);
        } else {
            assert!(
                fetched > was,
                "{} kept answering: {fetched}",
                member.context
            );
        }
    }
    let screen = h.render();
    assert!(screen.contains("1 failing"), "{screen}");
    assert!(screen.contains("org-b (stale)"), "{screen}");
    let status = h.status();
    assert!(
        status.starts_with(&format!(
            "org-b · {ORG_B_ACCOUNT} · eu-west-1: AccessDenied"
        )),
        "{status}"
    );
    assert!(status.contains("its rows are stale"), "{status}");

    moto.clear_faults().await;
    h.advance(120);
    assert!(
        h.state
            .fleet
            .clusters()
            .iter()
            .all(|c| c.context.as_deref().unwrap().stale.is_none()),
        "fresh again"
    );
    assert!(!h.render().contains("failing"));
}
