//! Several contexts — (profile, region) pairs — connected side by side against moto, with the
//! profiles read from an AWS config file as an operator's would be: two regions of one account,
//! a second account reached through an assume-role profile (`role_arn` + `source_profile`, the
//! SDK's own chain), a profile that does not exist and one whose calls are denied. Its own test
//! binary: it points `AWS_CONFIG_FILE` at a temporary file for the whole process.

// set_var is unsafe since edition 2024: the environment is set before any thread exists.
#![allow(unsafe_code)]

mod support;

use ecsmon::model::{ErrorKind, WantedContext};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{ContextSource, connect_context, connect_contexts};
use support::{FleetSpec, Moto, sdk_config_as, sdk_config_in, seed};

const HOME_ACCOUNT: &str = "123456789012";
const ORG_B_ACCOUNT: &str = "222222222222";
const AUDIT_ACCOUNT: &str = "333333333333";

/// The operator's `~/.aws/config`: `alpha` has keys and a region; `org-b` and `audit` are roles
/// in other accounts reached from `alpha`, as an organisation's accounts are usually listed.
fn aws_config_file() -> String {
    format!(
        "[profile alpha]\nregion = us-east-1\n\
         aws_access_key_id = test\naws_secret_access_key = test\n\n\
         [profile org-b]\nregion = eu-west-1\n\
         role_arn = arn:aws:iam::{ORG_B_ACCOUNT}:role/ecsmon-read\nsource_profile = alpha\n\n\
         [profile audit]\nregion = eu-west-1\n\
         role_arn = arn:aws:iam::{AUDIT_ACCOUNT}:role/ecsmon-read\nsource_profile = alpha\n"
    )
}

async fn cluster_names(ctx: &ContextSource) -> Vec<String> {
    let mut names: Vec<String> = ctx
        .source
        .clusters()
        .await
        .unwrap_or_else(|e| panic!("{}: {}", ctx.context, e.message))
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    names
}

fn wanted(profile: &str, region: Option<&str>) -> WantedContext {
    WantedContext::new(Some(profile), region)
}

#[test]
fn contexts_in_two_regions_and_an_assumed_account_answer_apart() {
    let moto = Moto::start();
    let dir = std::env::temp_dir().join(format!("ecsmon-contexts-{}", std::process::id()));
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
        // `AWS_ENDPOINT_URL=… ecsmon`, as an operator points ecsmon at an emulator: clap reads
        // it as `--endpoint-url` (passed to each context below), and the SDK's profile chain
        // sends its AssumeRole there too (a programmatic endpoint alone would not reach it).
        std::env::set_var("AWS_ENDPOINT_URL", &moto.endpoint);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let endpoint = moto.endpoint.as_str();
        seed(
            &sdk_config_in(endpoint, "us-east-1").await,
            &FleetSpec::new("east-fleet", 1, 1, 1),
        )
        .await;
        seed(
            &sdk_config_in(endpoint, "eu-west-3").await,
            &FleetSpec::new("paris-fleet", 1, 1, 1),
        )
        .await;
        seed(
            &sdk_config_as(endpoint, "eu-west-1", ORG_B_ACCOUNT).await,
            &FleetSpec::new("org-b-fleet", 1, 1, 1),
        )
        .await;
        seed(
            &sdk_config_as(endpoint, "eu-west-1", AUDIT_ACCOUNT).await,
            &FleetSpec::new("audit-fleet", 1, 1, 1),
        )
        .await;

        two_regions_list_their_own_clusters(endpoint).await;
        an_assume_role_profile_reaches_its_own_account(endpoint).await;
        a_missing_profile_fails_alone(endpoint).await;
        a_denied_context_fails_alone(&moto, endpoint).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// One profile, two regions: two contexts, each with its region's clusters only.
async fn two_regions_list_their_own_clusters(endpoint: &str) {
    let connected = connect_contexts(
        &[
            wanted("alpha", Some("us-east-1")),
            wanted("alpha", Some("eu-west-3")),
        ],
        Some(endpoint),
    )
    .await;
    let [Ok(east), Ok(paris)] = connected.as_slice() else {
        panic!("both connect");
    };
    assert_eq!(east.context.to_string(), "alpha · us-east-1");
    assert_eq!(paris.context.to_string(), "alpha · eu-west-3");
    assert_ne!(east.context.id(), paris.context.id());
    assert_eq!(cluster_names(east).await, ["east-fleet"]);
    assert_eq!(cluster_names(paris).await, ["paris-fleet"]);
    for (ctx, region) in [(east, "us-east-1"), (paris, "eu-west-3")] {
        let identity = ctx.source.identity().await.unwrap();
        assert_eq!(identity.account, HOME_ACCOUNT);
        assert_eq!(identity.region, region);
        assert_eq!(
            ctx.context.title(Some(&identity.account)),
            format!("alpha · {HOME_ACCOUNT} · {region}")
        );
    }
}

/// `org-b` is `role_arn` + `source_profile` in the config file: the SDK assumes the role, and
/// every call lands in account 222222222222, in the profile's own region (none was asked).
async fn an_assume_role_profile_reaches_its_own_account(endpoint: &str) {
    let org_b = connect_context(&wanted("org-b", None), Some(endpoint))
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(org_b.context.region, "eu-west-1", "the profile's region");
    let identity = org_b.source.identity().await.unwrap();
    assert_eq!(identity.account, ORG_B_ACCOUNT);
    assert!(
        identity.principal.starts_with("assumed-role/ecsmon-read/"),
        "{}",
        identity.principal
    );
    assert_eq!(
        org_b.context.title(Some(&identity.account)),
        "org-b · 222222222222 · eu-west-1"
    );
    assert_eq!(cluster_names(&org_b).await, ["org-b-fleet"]);

    // The home account's eu-west-1 has none of it.
    let home = connect_context(&wanted("alpha", Some("eu-west-1")), Some(endpoint))
        .await
        .unwrap();
    assert!(cluster_names(&home).await.is_empty());
}

/// A profile the config file does not have is refused in words at connection; the contexts
/// beside it connect and answer.
async fn a_missing_profile_fails_alone(endpoint: &str) {
    let connected = connect_contexts(
        &[
            wanted("staging", Some("us-east-1")),
            wanted("alpha", Some("us-east-1")),
        ],
        Some(endpoint),
    )
    .await;
    let [Err(missing), Ok(alpha)] = connected.as_slice() else {
        panic!("staging fails, alpha connects");
    };
    assert_eq!(missing.kind, ErrorKind::Credentials);
    assert_eq!(
        missing.message,
        "no profile `staging` in your AWS config files (~/.aws/config, ~/.aws/credentials, \
         or AWS_CONFIG_FILE): check the name"
    );
    assert_eq!(cluster_names(alpha).await, ["east-fleet"]);
}

/// The `audit` role may not read ECS (every ECS call in its account is denied): its clusters
/// fail with AWS's reason in plain words, while STS still says who it is, and the other
/// contexts keep answering.
async fn a_denied_context_fails_alone(moto: &Moto, endpoint: &str) {
    moto.inject(serde_json::json!({
        "op": "ecs:*", "kind": "denied", "account": AUDIT_ACCOUNT,
    }))
    .await;
    let connected = connect_contexts(
        &[
            wanted("audit", None),
            wanted("org-b", None),
            wanted("alpha", Some("eu-west-3")),
        ],
        Some(endpoint),
    )
    .await;
    let [Ok(audit), Ok(org_b), Ok(paris)] = connected.as_slice() else {
        panic!("all three connect");
    };
    let denied = audit.source.clusters().await.unwrap_err();
    assert_eq!(denied.kind, ErrorKind::AccessDenied);
    assert!(
        denied
            .message
            .starts_with("AccessDenied for ecs:ListClusters"),
        "{}",
        denied.message
    );
    assert_eq!(
        audit.source.identity().await.unwrap().account,
        AUDIT_ACCOUNT
    );
    assert_eq!(cluster_names(org_b).await, ["org-b-fleet"]);
    assert_eq!(cluster_names(paris).await, ["paris-fleet"]);

    // The front counts each account and region apart.
    let by_context = moto.stats_by_context().await;
    for place in [
        format!("{AUDIT_ACCOUNT} eu-west-1"),
        format!("{ORG_B_ACCOUNT} eu-west-1"),
        format!("{HOME_ACCOUNT} eu-west-3"),
    ] {
        let calls = by_context
            .get(&place)
            .and_then(|ops| ops.get("ecs:ListClusters"));
        assert!(calls.is_some_and(|n| *n >= 1), "{place}: {by_context:?}");
    }
    let faults = moto.faults().await;
    assert!(faults[0]["hits"].as_u64().unwrap() >= 1, "{faults}");
    moto.clear_faults().await;
    assert_eq!(cluster_names(audit).await, ["audit-fleet"]);
}
