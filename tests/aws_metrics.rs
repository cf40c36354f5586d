//! CloudWatch and ELBv2 through the real SDK over HTTP against moto. The SDK speaks Smithy RPC
//! v2 CBOR to CloudWatch, which moto does not: the front in `tests/moto/server.py` bridges it to
//! moto's JSON protocol, so these tests also prove the bridge. Series are seeded with
//! `PutMetricData` (through the same bridge) and read back with `GetMetricData`.

mod support;

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDatum, StateValue, Statistic,
};
use aws_smithy_types::DateTime;
use chrono::{TimeDelta, Utc};

use ecsmon::model::{
    AlarmState, MetricId, MetricRequest, SeriesKey, Stat, Time, metric_catalog as cat,
};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::state::Metrics;
use ecsmon::testkit::Harness;
use support::{FleetSpec, Moto, sdk_config, seed};

fn source(moto: &Moto, config: &aws_config::SdkConfig) -> AwsSource {
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    AwsSource::from_config(config, settings).expect("region set")
}

/// One "now" for a whole test, read from the clock once: seeding and checking both count
/// minutes back from it, so a minute boundary passing mid-test cannot shift one against the
/// other.
#[derive(Clone, Copy)]
struct Minutes {
    /// The start of the minute the test began in.
    start: Time,
}

impl Minutes {
    fn now() -> Self {
        let now = Utc::now().timestamp();
        Minutes {
            start: Time::from_timestamp(now - now.rem_euclid(60), 0).unwrap(),
        }
    }

    /// The start of the minute `minutes` before the test's.
    fn ago(self, minutes: i64) -> Time {
        self.start - TimeDelta::minutes(minutes)
    }
}

fn cpu(cluster: &str, service: &str) -> MetricId {
    MetricId::new(
        "AWS/ECS",
        "CPUUtilization",
        &[("ClusterName", cluster), ("ServiceName", service)],
        Stat::Average,
    )
}

/// One datum per (minutes ago, value).
async fn put(
    cw: &aws_sdk_cloudwatch::Client,
    at: Minutes,
    metric: &MetricId,
    points: &[(i64, f64)],
) {
    let data = points
        .iter()
        .map(|&(ago, value)| {
            MetricDatum::builder()
                .metric_name(&metric.name)
                .set_dimensions(Some(
                    metric
                        .dimensions
                        .iter()
                        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                        .collect(),
                ))
                // Mid-minute, so the datum is inside its period whatever the rounding.
                .timestamp(DateTime::from_secs(at.ago(ago).timestamp() + 30))
                .value(value)
                .build()
        })
        .collect();
    cw.put_metric_data()
        .namespace(&metric.namespace)
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("PutMetricData through the CBOR bridge");
}

/// The last hour up to the end of the test's minute.
fn request(at: Minutes, series: Vec<SeriesKey>) -> MetricRequest {
    MetricRequest {
        series,
        start: at.ago(60),
        end: at.ago(-1),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn history_comes_back_point_by_point_with_gaps_left_as_gaps() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    let metric = cpu("metrics-history", "cart");
    // Ten minutes of data with minute 5 missing.
    let seeded: Vec<(i64, f64)> = (1..=10)
        .filter(|&m| m != 5)
        .map(|m| (m, 10.0 * m as f64))
        .collect();
    let at = Minutes::now();
    put(&cw, at, &metric, &seeded).await;

    let key = SeriesKey {
        metric: metric.clone(),
        period: 60,
    };
    let req = request(at, vec![key.clone()]);
    let answer = source(moto, &config)
        .metric_data(&req)
        .await
        .expect("GetMetricData");
    assert_eq!(answer.len(), 1);
    let points: Vec<(i64, f64)> = answer[0]
        .points
        .iter()
        .map(|p| ((at.ago(0) - p.at).num_minutes(), p.value))
        .collect();
    let mut expected = seeded.clone();
    expected.sort_by_key(|&(m, _)| -m);
    assert_eq!(points, expected, "oldest first, minute 5 absent, not zero");

    // Into the store: what a sparkline reads.
    let mut metrics = Metrics::default();
    metrics.merge(req.start, req.end, answer, &req.series);
    let history = metrics.get(&key).unwrap();
    assert_eq!(history.len(), 9);
    assert_eq!(history.latest().unwrap().value, 10.0);
    assert!(history.covers(at.ago(60)));
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_500_series_are_split_into_calls_of_500() {
    let moto = Moto::start(); // its own server: this test counts calls
    let config = sdk_config(&moto.endpoint).await;
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    let first = cpu("metrics-batch", "svc-0000");
    let at = Minutes::now();
    put(&cw, at, &first, &[(2, 42.0)]).await;
    let series: Vec<SeriesKey> = (0..1201)
        .map(|i| SeriesKey {
            metric: cpu("metrics-batch", &format!("svc-{i:04}")),
            period: 60,
        })
        .collect();
    moto.reset_stats().await;

    let answer = source(&moto, &config)
        .metric_data(&request(at, series))
        .await
        .expect("GetMetricData");
    assert_eq!(answer.len(), 1201, "one answer per series, data or not");
    assert_eq!(answer[0].points.len(), 1);
    assert_eq!(answer[0].points[0].value, 42.0);
    assert!(answer[1..].iter().all(|s| s.points.is_empty()));
    assert_eq!(
        moto.calls("monitoring:GetMetricData").await,
        3,
        "500 + 500 + 201"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn alarms_carry_state_threshold_and_the_metric_they_watch() {
    let moto = Moto::start(); // alarms are per account and region: keep them to this test
    let config = sdk_config(&moto.endpoint).await;
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    let metric = cpu("metrics-alarms", "search");
    cw.put_metric_alarm()
        .alarm_name("search-cpu-high")
        .namespace(&metric.namespace)
        .metric_name(&metric.name)
        .set_dimensions(Some(
            metric
                .dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                .collect(),
        ))
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .threshold(80.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("PutMetricAlarm");
    cw.set_alarm_state()
        .alarm_name("search-cpu-high")
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: 3 datapoints were greater than 80")
        .send()
        .await
        .expect("SetAlarmState");

    let alarms = source(&moto, &config)
        .alarms()
        .await
        .expect("DescribeAlarms");
    assert_eq!(alarms.len(), 1);
    let alarm = &alarms[0];
    assert_eq!(alarm.state, AlarmState::Alarm);
    assert_eq!(alarm.threshold, 80.0);
    assert_eq!(alarm.comparison, "GreaterThanThreshold");
    assert!(alarm.watches(&metric), "{alarm:?}");
    assert!(!alarm.watches(&cpu("metrics-alarms", "cart")));

    let mut metrics = Metrics::default();
    metrics.alarms = alarms;
    assert!(metrics.in_alarm(&[metric]));
}

/// A service behind a load balancer gets the load balancer's ARN from ELBv2, which is what its
/// target-group metrics are keyed on.
#[tokio::test(flavor = "multi_thread")]
async fn services_learn_the_load_balancer_of_their_target_groups() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let fleet = seed(&config, &FleetSpec::new("metrics-lb", 1, 1, 1)).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);

    let subnets: Vec<String> = ec2
        .describe_subnets()
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .take(2)
        .collect();
    let vpc = ec2.describe_vpcs().send().await.unwrap().vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let lb_arn = elb
        .create_load_balancer()
        .name("metrics-lb-edge")
        .set_subnets(Some(subnets))
        .send()
        .await
        .expect("CreateLoadBalancer")
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let tg_arn = elb
        .create_target_group()
        .name("metrics-lb-web")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(vpc)
        .send()
        .await
        .expect("CreateTargetGroup")
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    elb.create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                .target_group_arn(&tg_arn)
                .build(),
        )
        .send()
        .await
        .expect("CreateListener");
    ecs.create_service()
        .cluster(&fleet.cluster)
        .service_name("web")
        .task_definition(&fleet.task_definition_arn)
        .desired_count(1)
        .load_balancers(
            aws_sdk_ecs::types::LoadBalancer::builder()
                .target_group_arn(&tg_arn)
                .container_name("app")
                .container_port(8080)
                .build(),
        )
        .send()
        .await
        .expect("CreateService with a load balancer");

    let services = source(moto, &config)
        .services(&fleet.cluster)
        .await
        .unwrap();
    let web = services.iter().find(|s| s.name == "web").expect("web");
    assert_eq!(web.target_group_lbs, vec![(tg_arn.clone(), lb_arn.clone())]);
    let names: Vec<String> = cat::service_row(web)
        .iter()
        .map(|m| m.name.clone())
        .collect();
    assert!(names.contains(&"HealthyHostCount".to_string()), "{names:?}");
    let other = services.iter().find(|s| s.name != "web").unwrap();
    assert!(other.target_group_lbs.is_empty());
}

/// The whole path: the console on the AWS source polls the visible rows' metrics and draws
/// them.
#[tokio::test(flavor = "multi_thread")]
async fn the_services_pane_draws_cloudwatch_values() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let fleet = seed(&config, &FleetSpec::new("metrics-pane", 2, 1, 1)).await;
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    let svc = &fleet.services[0];
    put(
        &cw,
        Minutes::now(),
        &cpu("metrics-pane", svc),
        &[(3, 20.0), (2, 50.0), (1, 73.0)],
    )
    .await;

    let source = std::sync::Arc::new(source(moto, &config));
    let mut h = Harness::with_source(source, None, 140, 20);
    h.press("/metrics-pane<enter><enter>");
    let frame = h.render();
    let row = frame
        .lines()
        .find(|l| l.contains(svc.as_str()))
        .unwrap_or_else(|| panic!("{svc} in\n{frame}"));
    assert!(row.contains("73%"), "{row}");
    let other = frame
        .lines()
        .find(|l| l.contains(fleet.services[1].as_str()))
        .unwrap();
    assert!(!other.contains('%'), "no data is not 0 %: {other}");
}

/// moto answers extended statistics with nulls; the front computes them from the values put,
/// so the latency rule's p95 reads like AWS's: the slow tail, not the average.
#[tokio::test(flavor = "multi_thread")]
async fn the_p95_extended_statistic_reads_the_slow_tail() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    let tg = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/p95-web/73e2d6bc24d8a067";
    let lb = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/p95-edge/50dc6c495c0c9188";
    let p95 = cat::target_group_response_time_p95(tg, lb).unwrap();
    assert_eq!(p95.stat, Stat::P95);
    // 100 answers two minutes ago: 94 fast (0.1 s), 6 slow (3 s).
    let at = Minutes::now();
    let answers: Vec<(i64, f64)> = (0..100)
        .map(|n| (2, if n < 94 { 0.1 } else { 3.0 }))
        .collect();
    put(&cw, at, &p95, &answers).await;
    let avg = p95.with_stat(Stat::Average);
    let keys: Vec<SeriesKey> = [p95.clone(), avg.clone()]
        .into_iter()
        .map(|metric| SeriesKey { metric, period: 60 })
        .collect();
    let answer = source(moto, &config)
        .metric_data(&request(at, keys))
        .await
        .expect("GetMetricData with p95");
    let value = |m: &MetricId| {
        let series = answer.iter().find(|s| &s.key.metric == m).unwrap();
        assert_eq!(series.points.len(), 1, "{:?}", series.points);
        series.points[0].value
    };
    assert_eq!(value(&p95), 3.0, "the 95th of 100 answers is a slow one");
    assert!((value(&avg) - 0.274).abs() < 1e-9, "{}", value(&avg));
}
