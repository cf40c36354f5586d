//! Building SDK clients from the operator's usual AWS setup: the standard credential chain
//! (environment, shared files, SSO, assume-role, container and instance roles), `--profile`,
//! `--region`, `--endpoint-url` and their `AWS_*` variables.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::{AwsSource, ErrorContext, stats::CallStats};
use crate::source::{ErrorKind, SourceError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Loads configuration and builds clients. Fails only for what no call could get past (no
/// region); credential problems surface, explained, on the first call, so `r` can retry them.
pub async fn connect(settings: AwsSettings) -> Result<AwsSource, SourceError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        // The SDK retries 5xx, timeouts and dropped connections with exponential backoff and
        // jitter, each retry charged to the service's budget; it never retries throttling
        // (`stats::ThrottleFeedback`): the budget halves the rate instead. Not the SDK's
        // adaptive mode: its rate limiter would slow the retries of one client, where the
        // budget slows every poller of the service and shows in `:stats`.
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    AwsSource::from_config(&config, settings)
}

impl AwsSource {
    /// Builds the source from an already loaded SDK configuration (tests pass one pointing at
    /// an emulator). Fails only when no region is known.
    pub fn from_config(
        config: &SdkConfig,
        settings: AwsSettings,
    ) -> Result<AwsSource, SourceError> {
        let Some(region) = config.region().map(|r| r.to_string()) else {
            return Err(SourceError::new(
                ErrorKind::Credentials,
                "no AWS region: pass --region, set AWS_REGION, or add `region = …` to your \
                 profile in ~/.aws/config",
            ));
        };
        let stats = CallStats::default();
        let clients = Clients::new(config, &stats);
        tracing::info!(profile = ?settings.profile, %region, endpoint = ?settings.endpoint_url, "AWS source ready");
        Ok(AwsSource::from_clients(clients, settings, region, stats))
    }

    /// Builds the source from clients (tests swap a mocked one in). The clients should be built
    /// with `stats` (`Clients::new`), whose budgets they feed and the source draws on.
    pub fn from_clients(
        clients: Clients,
        settings: AwsSettings,
        region: String,
        stats: CallStats,
    ) -> AwsSource {
        let host = match &settings.endpoint_url {
            Some(url) => url
                .split("://")
                .nth(1)
                .unwrap_or(url)
                .trim_end_matches('/')
                .to_string(),
            None => format!("ecs.{region}.amazonaws.com"),
        };
        AwsSource {
            ecs: clients.ecs,
            ec2: clients.ec2,
            sts: clients.sts,
            cloudwatch: clients.cloudwatch,
            elb: clients.elb,
            logs: clients.logs,
            ssm: clients.ssm,
            autoscaling: clients.autoscaling,
            errors: ErrorContext {
                host,
                profile: settings.profile.clone(),
            },
            settings,
            region,
            limiter: stats.budget(),
            stats,
            ec2_ids: Mutex::new(HashMap::new()),
            host_facts: Mutex::default(),
            task_defs: Mutex::new(HashMap::new()),
            load_balancers: Mutex::new(HashMap::new()),
            regional_logs: Mutex::new(HashMap::new()),
            caller: Mutex::new(None),
        }
    }
}

/// One SDK client per AWS service ecsmon talks to, all counting their calls into `stats` and
/// telling its budgets which answers were throttling.
#[derive(Clone, Debug)]
pub struct Clients {
    pub ecs: aws_sdk_ecs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub sts: aws_sdk_sts::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// SSM Session Manager: `StartSession` for a shell on a container instance.
    pub ssm: aws_sdk_ssm::Client,
    /// Application Auto Scaling: a service's desired-count bounds.
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
}

impl Clients {
    pub fn new(config: &SdkConfig, stats: &CallStats) -> Self {
        macro_rules! client {
            ($sdk:ident, $service:literal) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(config)
                        .interceptor(stats.interceptor())
                        .retry_classifier(stats.feedback($service))
                        .build(),
                )
            };
        }
        Clients {
            ecs: client!(aws_sdk_ecs, "ecs"),
            ec2: client!(aws_sdk_ec2, "ec2"),
            sts: client!(aws_sdk_sts, "sts"),
            cloudwatch: client!(aws_sdk_cloudwatch, "cloudwatch"),
            elb: client!(aws_sdk_elasticloadbalancingv2, "elasticloadbalancing"),
            logs: client!(aws_sdk_cloudwatchlogs, "logs"),
            ssm: client!(aws_sdk_ssm, "ssm"),
            autoscaling: client!(aws_sdk_applicationautoscaling, "application-autoscaling"),
        }
    }
}

/// Profile names from the AWS config and credentials files, for the `:profile` picker.
pub async fn profile_names() -> Vec<String> {
    let fs = aws_types::os_shim_internal::Fs::real();
    let env = aws_types::os_shim_internal::Env::real();
    // The default files: ~/.aws/config and ~/.aws/credentials, or AWS_CONFIG_FILE and
    // AWS_SHARED_CREDENTIALS_FILE.
    match aws_config::profile::load(&fs, &env, &Default::default(), None).await {
        Ok(set) => {
            let mut names: Vec<String> = set.profiles().map(str::to_string).collect();
            names.sort();
            names
        }
        Err(e) => {
            tracing::warn!("cannot read AWS profiles: {e}");
            Vec::new()
        }
    }
}
