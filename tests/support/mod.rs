//! Test support for ecsmon's AWS paths: moto behind a front that behaves like AWS where it matters
//! (`tests/moto/server.py`: paging, `ListTasks` filters, batch limits, call counting, and faults
//! on demand: `Moto::inject`), SDK configuration pointing at it, fleet seeding (`seed`), and a
//! Live Tail endpoint (`live_tail`).
//!
//! Include it from an integration test with `mod support;` (this file is `tests/support/mod.rs`).
//!
//! A `Moto` is one emulator process with its own state. Seeding big fleets is slow, so a test
//! binary usually shares one server (`Moto::shared()`) and gives each test its own cluster; a test
//! that asserts call counts (`stats`) needs its own `Moto::start()`, since the counts are global to
//! the server.

#![allow(dead_code, unused_imports)] // each test binary uses a different part of this module

pub mod fleet_view;
pub mod live;
pub mod live_tail;
pub mod seed;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

pub use seed::{FleetSpec, Seeded, seed};

/// How long the emulator may take to start (importing moto takes a second or two).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The moto emulator (`tests/moto/server.py`), running as a child process for as long as this
/// value lives. It also exits by itself when this test process dies: it stops at the end of its
/// stdin, which only this value holds.
pub struct Moto {
    /// `http://127.0.0.1:<port>`: the SDK's `endpoint_url`.
    pub endpoint: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Moto {
    /// Starts `tests/moto/server.py` with `$ECSMON_MOTO_PYTHON`, else `.venv/bin/python`.
    /// Panics when neither exists: the AWS tests are never skipped, `scripts/test` installs moto.
    pub fn start() -> Moto {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = python(root);
        let mut child = Command::new(&python)
            .arg(root.join("tests/moto/server.py"))
            .args(["--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let endpoint = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line
                .trim()
                .strip_prefix("READY ")
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    let _ = child.kill();
                    panic!("tests/moto/server.py did not start (first line: {line:?}); see its stderr above")
                }),
            Err(_) => {
                let _ = child.kill();
                panic!("tests/moto/server.py did not say READY within {START_TIMEOUT:?}")
            }
        };
        Moto {
            endpoint,
            child,
            _stdin: stdin,
        }
    }

    /// One server for the whole test binary, started on first use and never stopped (it exits
    /// with the test process). Share it between tests that each seed their own cluster.
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(Moto::start)
    }

    /// Requests received per operation since the start or the last `reset_stats`, keyed
    /// `<service>:<Operation>` (`ecs:ListTasks`, `ec2:DescribeInstances`, `sts:GetCallerIdentity`).
    /// Operations never called are absent.
    pub async fn stats(&self) -> HashMap<String, u64> {
        let body = self.admin("GET", "/_ecsmon/stats").await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad stats {body:?}: {e}"))
    }

    /// `stats` per account and region, keyed `"<account> <region>"` (`"123456789012 us-east-1"`):
    /// what each context costs.
    pub async fn stats_by_context(&self) -> HashMap<String, HashMap<String, u64>> {
        let body = self.admin("GET", "/_ecsmon/stats?by=context").await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad stats {body:?}: {e}"))
    }

    /// How many `op` (`ecs:ListTasks`...) requests were received; 0 if none.
    pub async fn calls(&self, op: &str) -> u64 {
        self.stats().await.get(op).copied().unwrap_or(0)
    }

    /// The SSM sessions started (`Target`, `DocumentName`, `Parameters`, `Terminated`), oldest
    /// first.
    pub async fn sessions(&self) -> Vec<serde_json::Value> {
        let body = self.admin("GET", "/_ecsmon/sessions").await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad sessions {body:?}: {e}"))
    }

    /// Zeroes the counts.
    pub async fn reset_stats(&self) {
        self.admin("POST", "/_ecsmon/reset").await;
    }

    /// Makes the front fail matching requests (`tests/moto/server.py`, `Faults`): e.g.
    /// `{"op": "ecs:*", "kind": "throttle", "seconds": 30}`. Rules stack; the first live one
    /// matching a request decides.
    pub async fn inject(&self, fault: serde_json::Value) {
        self.admin_with("POST", "/_ecsmon/faults", fault.to_string())
            .await;
    }

    /// Ends every fault (requests held by `hang` are reset now).
    pub async fn clear_faults(&self) {
        self.admin("DELETE", "/_ecsmon/faults").await;
    }

    /// The fault rules with how many requests each has hit.
    pub async fn faults(&self) -> serde_json::Value {
        let body = self.admin("GET", "/_ecsmon/faults").await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad faults {body:?}: {e}"))
    }

    /// Starts `count` FARGATE tasks of `task_definition` in `cluster` inside moto at once (the
    /// front's `/_ecsmon/run-tasks`: a 10,000-task cluster in seconds), given `groups`
    /// (`service:<name>`) in turn. Returns their ARNs.
    pub async fn run_tasks(
        &self,
        cluster: &str,
        task_definition: &str,
        count: usize,
        groups: &[String],
    ) -> Vec<String> {
        let body = serde_json::json!({
            "cluster": cluster,
            "taskDefinition": task_definition,
            "count": count,
            "groups": groups,
        });
        let answer = self
            .admin_with("POST", "/_ecsmon/run-tasks", body.to_string())
            .await;
        let answer: serde_json::Value = serde_json::from_str(&answer)
            .unwrap_or_else(|e| panic!("bad run-tasks answer {answer:?}: {e}"));
        answer["taskArns"]
            .as_array()
            .unwrap_or_else(|| panic!("run-tasks failed: {answer}"))
            .iter()
            .map(|a| a.as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// A request to the front's own routes, over a plain TCP connection; returns the body.
    async fn admin(&self, method: &'static str, path: &'static str) -> String {
        self.admin_with(method, path, String::new()).await
    }

    async fn admin_with(&self, method: &'static str, path: &'static str, body: String) -> String {
        let address = self
            .endpoint
            .strip_prefix("http://")
            .expect("http endpoint")
            .to_owned();
        tokio::task::spawn_blocking(move || http(&address, method, path, &body))
            .await
            .expect("admin request thread")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The host's AWS settings, which must not leak into what a test expects.
pub const AWS_ENV_VARS: &[&str] = &[
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
];

/// SDK configuration for tests: moto's endpoint, static dummy credentials, `us-east-1`, the latest
/// behaviour version, and none of the host's `AWS_*` variables.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    sdk_config_in(endpoint, "us-east-1").await
}

/// `sdk_config` in another region (moto keeps each region's resources apart).
pub async fn sdk_config_in(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .load()
        .await
}

/// SDK configuration in another `account` (a role there assumed through the emulator's STS), to
/// seed that account as an operator's assume-role profile would reach it.
pub async fn sdk_config_as(endpoint: &str, region: &str, account: &str) -> aws_config::SdkConfig {
    let home = sdk_config_in(endpoint, region).await;
    let out = aws_sdk_sts::Client::new(&home)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/seeder"))
        .role_session_name("seed")
        .send()
        .await
        .expect("moto's AssumeRole");
    let creds = out.credentials().expect("credentials");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            None,
            "moto-assumed",
        ))
        .load()
        .await
}

/// How long the console's SDK waits: `connect()`'s own values, or shorter ones where a test
/// sits out fault windows.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
    /// Before the SDK's first retry (it doubles, with jitter, after that).
    pub first_backoff: Duration,
}

impl Waits {
    /// What `connect()` sets (the SDK's standard first backoff: 1 s).
    pub const CONSOLE: Waits = Waits {
        connect: Duration::from_secs(3),
        attempt: Duration::from_secs(10),
        operation: Duration::from_secs(30),
        first_backoff: Duration::from_secs(1),
    };
}

/// The SDK configuration `connect()` builds (standard retries, 3 attempts; connect, attempt and
/// operation timeouts), pointed at moto, with `waits`.
pub async fn console_config(endpoint: &str, waits: Waits) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(waits.first_backoff),
        )
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(waits.connect)
                .operation_attempt_timeout(waits.attempt)
                .operation_timeout(waits.operation)
                .build(),
        )
        .load()
        .await
}

fn python(root: &Path) -> PathBuf {
    let candidates = std::env::var_os("ECSMON_MOTO_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([root.join(".venv/bin/python")]);
    for candidate in candidates {
        if candidate.exists() {
            return candidate;
        }
    }
    panic!("moto is not installed: run scripts/test (it installs moto into .venv)")
}

fn http(address: &str, method: &str, path: &str, body: &str) -> String {
    let mut stream =
        TcpStream::connect(address).unwrap_or_else(|e| panic!("connect to {address}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let length = body.len();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}"
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("receive");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("malformed HTTP response: {response:?}"));
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{method} {path}: {head}"
    );
    body.to_owned()
}

/// An AWS source whose clients come from a plain configuration in `region`, with some of them
/// replaced (mocked with aws-smithy-mocks) by `replace`: for the failures an emulator cannot
/// produce.
pub fn mocked_source(
    region: &str,
    profile: Option<&str>,
    replace: impl FnOnce(ecsmon::source::aws::Clients) -> ecsmon::source::aws::Clients,
) -> ecsmon::source::aws::AwsSource {
    use ecsmon::source::aws::{AwsSettings, AwsSource, CallStats, Clients};
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .build();
    let stats = CallStats::default();
    let clients = replace(Clients::new(&config, &stats));
    let settings = AwsSettings {
        profile: profile.map(str::to_string),
        ..AwsSettings::default()
    };
    AwsSource::from_clients(clients, settings, region.into(), stats)
}
