//! The NAT gateways behind a cluster's subnets through the real SDK against moto: a subnet with
//! a route table of its own, one that follows its VPC's main table, one without a NAT route;
//! then the whole engine finding a crowded NAT gateway from `AWS/NATGateway` metrics put into
//! CloudWatch, without any pane asking for it.

mod support;

use std::sync::Arc;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType,
    NetworkConfiguration, NetworkMode,
};
use ecsmon::model::{MetricId, metric_catalog as cat};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::testkit::Harness;
use support::{Moto, sdk_config};

/// A VPC with three private subnets: `own` routes through `nat_own` by its own route table,
/// `main` follows the VPC's main table (through `nat_main`), `none` has no default route.
struct Vpc {
    own: String,
    main: String,
    none: String,
    nat_own: String,
    nat_main: String,
    security_group: String,
}

async fn nat_gateway(ec2: &aws_sdk_ec2::Client, subnet: &str) -> String {
    let eip = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .expect("EIP");
    ec2.create_nat_gateway()
        .subnet_id(subnet)
        .allocation_id(eip.allocation_id().expect("allocation"))
        .send()
        .await
        .expect("NAT gateway")
        .nat_gateway()
        .and_then(|g| g.nat_gateway_id())
        .expect("NAT id")
        .to_string()
}

async fn subnet(ec2: &aws_sdk_ec2::Client, vpc: &str, cidr: &str) -> String {
    ec2.create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .send()
        .await
        .expect("subnet")
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_string()
}

async fn seed_vpc(cfg: &aws_config::SdkConfig, base: u8) -> Vpc {
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{base}.0.0/16"))
        .send()
        .await
        .expect("VPC")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let public = subnet(&ec2, &vpc, &format!("10.{base}.0.0/24")).await;
    let own = subnet(&ec2, &vpc, &format!("10.{base}.1.0/24")).await;
    let main = subnet(&ec2, &vpc, &format!("10.{base}.2.0/24")).await;
    let none = subnet(&ec2, &vpc, &format!("10.{base}.3.0/24")).await;
    let nat_own = nat_gateway(&ec2, &public).await;
    let nat_main = nat_gateway(&ec2, &public).await;
    // `own`'s table routes through nat_own.
    let table = ec2
        .create_route_table()
        .vpc_id(&vpc)
        .send()
        .await
        .expect("route table")
        .route_table()
        .and_then(|t| t.route_table_id())
        .expect("table id")
        .to_string();
    ec2.create_route()
        .route_table_id(&table)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&nat_own)
        .send()
        .await
        .expect("route");
    ec2.associate_route_table()
        .route_table_id(&table)
        .subnet_id(&own)
        .send()
        .await
        .expect("association");
    // `none` has a table of its own without a default route.
    let empty = ec2
        .create_route_table()
        .vpc_id(&vpc)
        .send()
        .await
        .expect("route table")
        .route_table()
        .and_then(|t| t.route_table_id())
        .expect("table id")
        .to_string();
    ec2.associate_route_table()
        .route_table_id(&empty)
        .subnet_id(&none)
        .send()
        .await
        .expect("association");
    // The main table routes through nat_main.
    let main_table = ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc)
                .build(),
        )
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("association.main")
                .values("true")
                .build(),
        )
        .send()
        .await
        .expect("main table")
        .route_tables()
        .first()
        .and_then(|t| t.route_table_id())
        .expect("main table id")
        .to_string();
    ec2.create_route()
        .route_table_id(&main_table)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&nat_main)
        .send()
        .await
        .expect("route");
    let security_group = ec2
        .create_security_group()
        .group_name(format!("tasks-{base}"))
        .description("tasks")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("security group")
        .group_id()
        .expect("group id")
        .to_string();
    Vpc {
        security_group,
        own,
        main,
        none,
        nat_own,
        nat_main,
    }
}

fn settings(moto: &Moto) -> AwsSettings {
    AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_subnet_is_traced_to_the_nat_gateway_of_its_default_route() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let vpc = seed_vpc(&config, 61).await;
    let source = AwsSource::from_config(&config, settings(moto)).expect("region set");
    let subnets = vec![vpc.own.clone(), vpc.main.clone(), vpc.none.clone()];
    let mut found = source.nat_gateways(&subnets).await.expect("NAT gateways");
    found.sort_by_key(|g| g.id != vpc.nat_own);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].id, vpc.nat_own);
    assert_eq!(found[0].serves, vec![vpc.own.clone()]);
    assert_eq!(found[1].id, vpc.nat_main);
    assert_eq!(found[1].serves, vec![vpc.main.clone()]);
    for g in &found {
        assert_eq!(g.addresses, 1, "{g:?}");
        assert_eq!(g.state, "available", "{g:?}");
        assert!(g.vpc_id.starts_with("vpc-"), "{g:?}");
    }
    assert!(
        source
            .nat_gateways(std::slice::from_ref(&vpc.none))
            .await
            .expect("none")
            .is_empty()
    );
    let stats = source.stats();
    for op in ["ec2:DescribeRouteTables", "ec2:DescribeNatGateways"] {
        assert!(
            stats.calls.iter().any(|c| c.operation == op && c.calls > 0),
            "{op} not counted: {stats:?}"
        );
    }
}

/// One datum a minute, for the minutes `1..=n` before the current one.
async fn put(cw: &aws_sdk_cloudwatch::Client, metric: &MetricId, n: i64, value: f64) {
    let now = chrono::Utc::now().timestamp();
    let minute = now - now.rem_euclid(60);
    let data = (1..=n)
        .map(|ago| {
            MetricDatum::builder()
                .metric_name(&metric.name)
                .set_dimensions(Some(
                    metric
                        .dimensions
                        .iter()
                        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                        .collect(),
                ))
                .timestamp(DateTime::from_secs(minute - ago * 60 + 30))
                .value(value)
                .build()
        })
        .collect();
    cw.put_metric_data()
        .namespace(&metric.namespace)
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("PutMetricData");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crowded_nat_gateway_is_found_without_opening_anything() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let vpc = seed_vpc(&config, 62).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    ecs.create_cluster()
        .cluster_name("egress")
        .send()
        .await
        .expect("cluster");
    let def = ecs
        .register_task_definition()
        .family("payments")
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Ec2)
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/payments:1")
                .memory(512)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .expect("task definition");
    let def_arn = def
        .task_definition()
        .and_then(|d| d.task_definition_arn())
        .expect("arn")
        .to_string();
    ecs.create_service()
        .cluster("egress")
        .service_name("payments")
        .task_definition(&def_arn)
        .desired_count(0)
        .launch_type(LaunchType::Ec2)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .subnets(&vpc.own)
                        .security_groups(&vpc.security_group)
                        .assign_public_ip(AssignPublicIp::Disabled)
                        .build()
                        .expect("awsvpc"),
                )
                .build(),
        )
        .send()
        .await
        .expect("service");
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    // nat_own: 54,000 connections on its one IP; nat_main (no service behind it) just as
    // crowded, but the cluster does not use it.
    put(&cw, &cat::nat_active_connections(&vpc.nat_own), 5, 54_000.0).await;
    put(
        &cw,
        &cat::nat_active_connections(&vpc.nat_main),
        5,
        54_000.0,
    )
    .await;

    let source: Arc<dyn FleetSource> =
        Arc::new(AwsSource::from_config(&config, settings(moto)).expect("region set"));
    let mut h = Harness::with_source(source, Some(settings(moto)), 160, 45);
    h.advance(120);
    let nat: Vec<(String, String)> = h
        .state
        .triage
        .active()
        .into_iter()
        .filter(|f| f.current.rule == "nat-connection-saturation")
        .map(|f| (f.current.subject.label(), f.current.message.clone()))
        .collect();
    assert_eq!(nat.len(), 1, "{nat:?}");
    assert!(nat[0].0.contains("egress"), "{nat:?}");
    assert!(
        nat[0]
            .1
            .starts_with(&format!("{}: 54,000 active connections", vpc.nat_own)),
        "{nat:?}"
    );
    assert!(nat[0].1.ends_with("egress for payments"), "{nat:?}");
}
