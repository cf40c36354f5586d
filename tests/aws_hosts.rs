//! What the instances poll adds from EC2 and SSM, through the real SDK against moto (behind
//! `tests/moto/server.py`, which keeps credit modes as AWS does): the CPU credit mode of
//! burstable hosts, the AMI each host runs and the recommended ECS-optimized AMI and agent.

mod support;

use aws_sdk_ec2::types::{InstanceCreditSpecificationRequest, InstanceType};
use ecsmon::model::CreditMode;
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use support::{Moto, sdk_config};

fn source(moto: &Moto, config: &aws_config::SdkConfig) -> AwsSource {
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    AwsSource::from_config(config, settings).expect("region set")
}

/// Launches one instance of each type from `image` and registers it in `cluster`; returns the
/// EC2 ids in order.
async fn hosts(
    config: &aws_config::SdkConfig,
    cluster: &str,
    image: &str,
    types: &[&str],
) -> Vec<String> {
    let ec2 = aws_sdk_ec2::Client::new(config);
    let ecs = aws_sdk_ecs::Client::new(config);
    ecs.create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for ty in types {
        let out = ec2
            .run_instances()
            .image_id(image)
            .instance_type(InstanceType::from(*ty))
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .expect("RunInstances");
        let id = out.instances()[0].instance_id().unwrap().to_string();
        let document = serde_json::json!({
            "instanceId": id, "availabilityZone": "us-east-1a", "region": "us-east-1",
            "instanceType": ty, "imageId": image, "accountId": "123456789012",
        });
        ecs.register_container_instance()
            .cluster(cluster)
            .instance_identity_document(document.to_string())
            .send()
            .await
            .expect("RegisterContainerInstance");
        ids.push(id);
    }
    ids
}

fn mode_of(instances: &[ecsmon::model::Instance], id: &str) -> CreditMode {
    instances
        .iter()
        .find(|i| i.ec2_instance_id == id)
        .unwrap()
        .credit_mode
}

#[tokio::test(flavor = "multi_thread")]
async fn burstable_hosts_carry_their_credit_mode_read_once_in_one_batch() {
    let moto = Moto::start(); // its own server: this test counts calls
    let config = sdk_config(&moto.endpoint).await;
    let ids = hosts(
        &config,
        "credits",
        support::seed::AMI,
        &["t3.medium", "t3.medium", "m5.large"],
    )
    .await;
    // The first t3 is switched to standard; the second keeps T3's default, unlimited.
    aws_sdk_ec2::Client::new(&config)
        .modify_instance_credit_specification()
        .instance_credit_specifications(
            InstanceCreditSpecificationRequest::builder()
                .instance_id(&ids[0])
                .cpu_credits("standard")
                .build(),
        )
        .send()
        .await
        .expect("ModifyInstanceCreditSpecification");
    let source = source(&moto, &config);
    moto.reset_stats().await;
    let found = source.instances("credits").await.unwrap();
    assert_eq!(mode_of(&found, &ids[0]), CreditMode::Standard);
    assert_eq!(mode_of(&found, &ids[1]), CreditMode::Unlimited);
    assert_eq!(
        mode_of(&found, &ids[2]),
        CreditMode::Unknown,
        "not burstable: not asked"
    );
    assert_eq!(
        moto.calls("ec2:DescribeInstanceCreditSpecifications").await,
        1,
        "both t3s in one call"
    );
    // Cached: the next polls do not ask again.
    source.instances("credits").await.unwrap();
    source.instances("credits").await.unwrap();
    assert_eq!(
        moto.calls("ec2:DescribeInstanceCreditSpecifications").await,
        1
    );
    assert!(found.iter().all(|i| i.image_id == support::seed::AMI));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_credit_mode_says_so_and_the_instances_still_load() {
    let moto = Moto::start(); // its own server: faults are server-wide
    let config = sdk_config(&moto.endpoint).await;
    let ids = hosts(&config, "denied", support::seed::AMI, &["t3.small"]).await;
    let denied = "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not \
                  authorized to perform this operation.</Message></Error></Errors>\
                  <RequestID>0</RequestID></Response>";
    use base64::Engine as _;
    moto.inject(serde_json::json!({
        "op": "ec2:DescribeInstanceCreditSpecifications",
        "kind": "answer",
        "status": 403,
        "body_b64": base64::engine::general_purpose::STANDARD.encode(denied),
    }))
    .await;
    let found = source(&moto, &config).instances("denied").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(mode_of(&found, &ids[0]), CreditMode::Denied);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ecs_optimized_host_carries_the_recommended_ami_and_agent() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    // An image named like an ECS-optimized Amazon Linux 2 AMI.
    let base = ec2
        .run_instances()
        .image_id(support::seed::AMI)
        .instance_type(InstanceType::M5Large)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    let image = ec2
        .create_image()
        .instance_id(base.instances()[0].instance_id().unwrap())
        .name("amzn2-ami-ecs-hvm-2.0.20240109-x86_64-ebs")
        .send()
        .await
        .expect("CreateImage")
        .image_id
        .unwrap();
    let ids = hosts(&config, "amis", &image, &["m5.large"]).await;
    let found = source(moto, &config).instances("amis").await.unwrap();
    let host = found.iter().find(|i| i.ec2_instance_id == ids[0]).unwrap();
    assert_eq!(host.image_id, image);
    let recommended = host.recommended.as_ref().expect("the AL2 parameter read");
    assert_eq!(
        recommended.parameter,
        "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended"
    );
    assert!(recommended.image_id.starts_with("ami-"), "{recommended:?}");
    assert!(!recommended.agent_version.is_empty(), "{recommended:?}");
}

/// AWS's ECS-optimized Amazon Linux 2 image of 2025-04-22 (moto carries AWS's catalogue; the
/// front dates it by its name, as AWS does).
const OLD_ECS_AMI: &str = "ami-0ec82f3a74a24002d";

#[tokio::test(flavor = "multi_thread")]
async fn an_outdated_ecs_optimized_host_is_found_by_the_ami_and_agent_rules() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let ids = hosts(&config, "outdated", OLD_ECS_AMI, &["m5.large"]).await;
    let found = source(moto, &config).instances("outdated").await.unwrap();
    let host = found.iter().find(|i| i.ec2_instance_id == ids[0]).unwrap();
    let created = host.image_created_at.expect("DescribeImages dated it");
    assert_eq!(created.format("%Y-%m-%d").to_string(), "2025-04-22");
    let recommended = host.recommended.clone().expect("the AL2 parameter read");
    assert_ne!(recommended.image_id, OLD_ECS_AMI);

    let mut facts = ecsmon::triage::Facts::at(chrono::Utc::now());
    facts.instances = found.clone();
    let findings = ecsmon::triage::evaluate(&facts.input());
    let of = |rule: &str| {
        findings
            .iter()
            .find(|o| o.rule == rule)
            .unwrap_or_else(|| panic!("{rule} in {findings:#?}"))
    };
    let ami = of("ami-outdated");
    assert_eq!(ami.subject.label(), "outdated");
    let days = (facts.now - created).num_days();
    assert_eq!(
        ami.message,
        format!(
            "outdated: {} runs {OLD_ECS_AMI} ({days} days old); AWS recommends {} for its AMI \
             family (1/1 instances)",
            ids[0], recommended.image_id
        )
    );
    // moto's agent says 1.0.0 on every host: far behind what the parameter recommends.
    let agent = of("agent-version-outdated");
    assert_eq!(
        agent.message,
        format!(
            "outdated: {} runs ECS agent {}; AWS recommends {} for its AMI family (1/1 instances)",
            ids[0], host.agent_version, recommended.agent_version
        )
    );
    assert!(
        findings
            .iter()
            .all(|o| o.severity == ecsmon::model::Severity::Info)
    );
}
