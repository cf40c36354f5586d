//! The engine without a terminal, end to end through the binary: `ecsmon findings`, `watch`
//! and `report` on the demo fleet, a replayed incident and moto (through the real SDK), with
//! their exit codes: 0 nothing at or above `--fail-on`, 1 something, 2 an error.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{Moto, sdk_config};

/// A scratch directory removed on drop: the child's config, state and output files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!(
            "ecsmon-headless-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `ecsmon <args>` with its own XDG directories and no AWS settings from the host.
fn ecsmon(args: &[&str], home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsmon"));
    cmd.args(args)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null());
    cmd
}

fn run(args: &[&str], home: &Path) -> Output {
    ecsmon(args, home).output().expect("run ecsmon")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Each stdout line as a JSON object carrying every field a script reads.
fn json_lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            for field in ["rule", "severity", "subject", "cluster", "message", "next"] {
                assert!(v[field].is_string(), "no {field} in {line}");
            }
            assert!(v["evidence"].is_array(), "no evidence in {line}");
            v
        })
        .collect()
}

#[test]
fn findings_on_the_demo_fleet_report_its_oom_kill_as_json_and_fail_on_critical() {
    let home = Scratch::new("demo-json");
    let out = run(&["findings", "--demo", "--json"], &home.0);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines = json_lines(&out);
    let oom = lines
        .iter()
        .find(|v| v["rule"] == "task-oom-killed")
        .unwrap_or_else(|| panic!("no OOM kill in {lines:?}"));
    assert_eq!(oom["severity"], "critical");
    assert!(oom["message"].as_str().unwrap().contains("OOM-killed"));
    assert!(!oom["evidence"].as_array().unwrap().is_empty());
    // Not a terminal: no progress line on stderr.
    assert!(!stderr.contains("gathering"), "{stderr}");
}

#[test]
fn rules_prints_the_catalog_as_text_json_and_the_docs_markdown() {
    let home = Scratch::new("rules");
    let out = run(&["rules"], &home.0);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(
        listing.contains("task-oom-killed  [warning, critical]"),
        "{listing}"
    );
    assert!(listing.contains("CORRELATIONS ("), "{listing}");

    let out = run(&["rules", "--json"], &home.0);
    assert_eq!(out.status.code(), Some(0));
    for line in text(&out.stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["id"].is_string() && v["severities"].is_array(), "{line}");
    }

    let out = run(&["rules", "--markdown"], &home.0);
    assert_eq!(out.status.code(), Some(0));
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/triage.md"));
    assert_eq!(
        text(&out.stdout),
        docs.unwrap(),
        "the documented command makes the docs"
    );
}

#[test]
fn fail_on_never_exits_0_and_cluster_keeps_to_that_cluster() {
    let home = Scratch::new("demo-never");
    let out = run(
        &[
            "findings",
            "--demo",
            "--cluster",
            "prod",
            "--json",
            "--fail-on",
            "never",
        ],
        &home.0,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    assert!(lines.iter().any(|v| v["rule"] == "task-oom-killed"));
    assert!(lines.iter().all(|v| v["cluster"] == "prod"), "{lines:?}");
}

#[test]
fn report_for_one_cluster_keeps_to_it_and_an_unknown_cluster_is_an_error() {
    let home = Scratch::new("report-cluster");
    let out = run(&["report", "--demo", "--cluster", "staging"], &home.0);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let markdown = text(&out.stdout);
    assert!(markdown.contains("| Cluster | staging |"), "{markdown}");
    assert!(markdown.contains("| staging |"), "{markdown}");
    // The default fleet's prod OOM kill is another cluster's.
    assert!(!markdown.contains("| prod |"), "{markdown}");
    assert!(!markdown.contains("task-oom-killed"), "{markdown}");

    // A typo must not read as "no findings".
    for command in ["findings", "report"] {
        let out = run(&[command, "--demo", "--cluster", "prdo"], &home.0);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(stderr.contains("no cluster named \"prdo\""), "{stderr}");
        assert!(
            stderr.contains("prod"),
            "the clusters it has are named: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn bad_flags_and_unknown_scenarios_exit_2_before_looking() {
    let home = Scratch::new("bad");
    for args in [
        &["findings", "--fail-on", "sometimes"][..],
        &["findings", "--bogus"],
        &["findings", "--demo", "no-such-fleet"],
        // --at is incident time: meaningless without a replayed incident.
        &["findings", "--demo", "--at", "30"],
        &["report", "--json"],
        // The command taken for the scenario: said how to put it.
        &["--demo", "findings"],
    ] {
        let out = run(args, &home.0);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = run(&["--demo", "findings"], &home.0);
    assert!(
        text(&out.stderr).contains("put it first: ecsmon findings --demo"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn report_writes_the_export_markdown_to_a_new_private_file_next_to_a_taken_name() {
    let home = Scratch::new("report");
    let asked = home.0.join("incident.md");
    std::fs::write(&asked, "mine").unwrap();
    let out = run(
        &["report", "--demo", "-o", asked.to_str().unwrap()],
        &home.0,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(std::fs::read_to_string(&asked).unwrap(), "mine");
    let written = home.0.join("incident-2.md");
    assert!(stderr.contains("never overwrites"), "{stderr}");
    let markdown = std::fs::read_to_string(&written).unwrap();
    assert!(
        markdown.starts_with("# ecsmon incident snapshot"),
        "{markdown}"
    );
    assert!(markdown.contains("## Active findings"), "{markdown}");
    assert!(markdown.contains("task-oom-killed"), "{markdown}");
    assert!(markdown.contains("## Services"), "{markdown}");
    let mode = std::fs::metadata(&written).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn findings_on_a_replayed_incident_look_at_the_asked_moment() {
    let home = Scratch::new("incident");
    // bad-deploy runs at x5: 180 s of incident time is 36 s here, and its health checks are
    // failing by then.
    let out = run(
        &["findings", "--demo", "bad-deploy", "--at", "180", "--json"],
        &home.0,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let web: Vec<&Value> = lines
        .iter()
        .filter(|v| v["cluster"] == "demo-prod" && v["service"] == "web")
        .collect();
    assert!(web.iter().any(|v| v["severity"] == "critical"), "{lines:?}");
}

#[test]
fn watch_prints_an_incident_finding_as_it_opens_and_ends_cleanly_on_sigterm() {
    let home = Scratch::new("watch");
    let mut child = ecsmon(&["watch", "--json", "--demo", "bad-deploy"], &home.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ecsmon watch");
    let rx = lines_of(child.stdout.take().unwrap());
    // The incident's health checks fail about two minutes into the replay (x5: ~25 s here);
    // a generous limit for a loaded machine.
    let incident = [
        "target-unhealthy-response-code-mismatch",
        "healthy-host-count-flapping",
        "tasks-failing-elb-health-checks",
        "alb-5xx-spike",
    ];
    let opened = loop {
        let line = match rx.recv_timeout(Duration::from_secs(150)) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                panic!("no finding of the incident opened ({e})");
            }
        };
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["event"] == "opened" && incident.contains(&v["rule"].as_str().unwrap_or_default()) {
            break v;
        }
    };
    assert_eq!(opened["service"], "web");
    assert!(opened["at"].is_string());
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().expect("watch ends");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_against_moto_report_a_heap_near_the_hard_limit_with_the_right_exit_code() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    support::seed::seed_heap_near_limit(&config, "payments", "ledger").await;

    let home = Scratch::new("moto");
    let endpoint = moto.endpoint.clone();
    let args = |fail_on: &'static str| {
        vec![
            "findings".to_string(),
            "--endpoint-url".into(),
            endpoint.clone(),
            "--region".into(),
            "us-east-1".into(),
            "--json".into(),
            "--fail-on".into(),
            fail_on.into(),
        ]
    };
    let look = |fail_on: &'static str| {
        let args = args(fail_on);
        let home = home.0.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                ecsmon(&args.iter().map(String::as_str).collect::<Vec<_>>(), &home)
                    .env("AWS_ACCESS_KEY_ID", "test")
                    .env("AWS_SECRET_ACCESS_KEY", "test")
                    .output()
                    .expect("run ecsmon")
            })
            .await
            .unwrap()
        }
    };
    // A warning: it fails a `--fail-on warning` gate…
    let out = look("warning").await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let risk = lines
        .iter()
        .find(|v| v["rule"] == "taskdef-memory-limit-risk" && v["service"] == "ledger")
        .unwrap_or_else(|| panic!("no heap finding in {lines:?}"));
    assert_eq!(risk["severity"], "warning");
    assert_eq!(risk["cluster"], "payments");
    assert!(risk["message"].as_str().unwrap().contains("hard 512"));
    // …and passes the default one (critical), nothing else on this fleet being critical.
    let out = look("critical").await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(json_lines(&out).iter().all(|v| v["severity"] != "critical"));
}

#[test]
fn findings_exit_2_when_aws_cannot_be_reached() {
    let home = Scratch::new("unreachable");
    // Nothing listens on port 9 (discard) of localhost here: every call fails at once.
    let out = ecsmon(
        &[
            "findings",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
        ],
        &home.0,
    )
    .env("AWS_ACCESS_KEY_ID", "test")
    .env("AWS_SECRET_ACCESS_KEY", "test")
    .output()
    .expect("run ecsmon");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("clusters"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn watch_says_when_it_cannot_read_the_fleet_and_still_ends_cleanly() {
    let home = Scratch::new("watch-blind");
    let mut child = ecsmon(
        &[
            "watch",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
        ],
        &home.0,
    )
    .env("AWS_ACCESS_KEY_ID", "test")
    .env("AWS_SECRET_ACCESS_KEY", "test")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start ecsmon watch");
    let rx = lines_of(child.stderr.take().unwrap());
    let said = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|e| {
            let _ = child.kill();
            panic!("nothing said ({e})")
        });
    assert!(said.starts_with("ecsmon: cannot read clusters: "), "{said}");
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().expect("watch ends");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

/// The demo organisation's six contexts, as `findings` and `report` title them.
const ORG: [&str; 6] = [
    "prod · 210987654321 · eu-west-1",
    "prod · 210987654321 · us-east-1",
    "staging · 345678901234 · eu-west-1",
    "staging · 345678901234 · us-east-1",
    "shared · 456789012345 · eu-west-1",
    "shared · 456789012345 · us-east-1",
];

/// A line's context: profile, account and region, and the title made of them.
fn context_of(line: &Value) -> String {
    let context = &line["context"];
    let field = |name: &str| {
        context[name]
            .as_str()
            .unwrap_or_else(|| panic!("no context {name} in {line}"))
            .to_string()
    };
    let title = format!(
        "{} · {} · {}",
        field("profile"),
        field("account"),
        field("region")
    );
    assert_eq!(context["title"], title.as_str(), "{line}");
    title
}

#[test]
fn findings_over_the_demo_org_label_every_line_with_its_context_and_fail_on_any() {
    let home = Scratch::new("org-json");
    let out = run(&["findings", "--demo", "org", "--json"], &home.0);
    let stderr = text(&out.stderr);
    // The calm fleets' OOM kills are critical: the default --fail-on counts every context's.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines = json_lines(&out);
    let contexts: std::collections::BTreeSet<String> = lines.iter().map(context_of).collect();
    assert!(
        contexts.iter().all(|c| ORG.contains(&c.as_str())),
        "{contexts:?}"
    );
    let accounts: std::collections::BTreeSet<&str> = lines
        .iter()
        .filter_map(|v| v["context"]["account"].as_str())
        .collect();
    assert_eq!(accounts.len(), 3, "every account's findings: {accounts:?}");
    assert!(
        lines
            .iter()
            .any(|v| v["rule"] == "task-oom-killed" && v["severity"] == "critical"),
        "{lines:?}"
    );
    assert!(!stderr.contains("gathering"), "{stderr}");
}

#[test]
fn findings_over_the_demo_org_as_text_have_a_section_per_context_and_a_total() {
    let home = Scratch::new("org-text");
    let out = run(
        &["findings", "--demo", "org", "--fail-on", "never"],
        &home.0,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    for title in ORG {
        assert_eq!(
            listing.lines().filter(|l| *l == title).count(),
            1,
            "{title} once in {listing}"
        );
    }
    let last = listing.lines().last().unwrap_or_default();
    assert!(last.starts_with("6 contexts: "), "{listing}");
    assert!(last.contains(" findings: "), "{listing}");
}

#[test]
fn a_cluster_over_the_demo_org_is_looked_at_where_it_is_and_a_typo_is_an_error() {
    let home = Scratch::new("org-cluster");
    // The incident's cluster is in one context only.
    let out = run(
        &[
            "findings",
            "--demo",
            "org",
            "--cluster",
            "demo-prod",
            "--fail-on",
            "never",
        ],
        &home.0,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.starts_with(&format!("{}\n", ORG[0])), "{listing}");
    for other in &ORG[1..] {
        assert!(!listing.contains(other), "{listing}");
    }
    assert!(listing.contains("\n1 context: "), "{listing}");

    let out = run(
        &["findings", "--demo", "org", "--cluster", "prdo", "--json"],
        &home.0,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no cluster named \"prdo\" in any context"),
        "{stderr}"
    );
    assert!(stderr.contains("demo-prod"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn report_over_the_demo_org_is_one_snapshot_with_a_section_per_context() {
    let home = Scratch::new("org-report");
    let out = run(&["report", "--demo", "org"], &home.0);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let markdown = text(&out.stdout);
    assert!(
        markdown.starts_with("# ecsmon incident snapshot"),
        "{markdown}"
    );
    assert_eq!(markdown.matches("# ecsmon incident snapshot").count(), 1);
    assert!(markdown.contains("| Contexts | 6 |"), "{markdown}");
    for title in ORG {
        assert!(
            markdown.contains(&format!("\n## {title}\n")),
            "no section {title}: {markdown}"
        );
    }
    assert_eq!(markdown.matches("\n### Active findings\n").count(), 6);
    assert_eq!(markdown.matches("\n### Services\n").count(), 6);
    assert!(markdown.contains("task-oom-killed"), "{markdown}");
}

#[test]
fn watch_over_the_demo_org_prints_lines_of_several_contexts_each_labelled() {
    let home = Scratch::new("org-watch");
    let mut child = ecsmon(&["watch", "--json", "--demo", "org"], &home.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ecsmon watch");
    let rx = lines_of(child.stdout.take().unwrap());
    let mut contexts = std::collections::BTreeSet::new();
    // The calm fleets' findings open at their first evaluations; a generous limit for a
    // loaded machine.
    while contexts.len() < 2 {
        let line = match rx.recv_timeout(Duration::from_secs(150)) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                panic!("no lines of two contexts ({e}): {contexts:?}");
            }
        };
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["event"].is_string() && v["rule"].is_string(), "{line}");
        let context = context_of(&v);
        assert!(ORG.contains(&context.as_str()), "{line}");
        contexts.insert(context);
    }
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().expect("watch ends");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// The lines a child writes to a pipe, as they come.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
