//! Port forwarding end to end through the real update path: the `F` dialog, the gate, SSM
//! `StartSession` with the port forwarding documents against moto's front (which emulates it),
//! a fake `session-manager-plugin` started in the background that records its arguments and
//! stays alive until it is ended, the `:forwards` view, stopping one (plugin gone,
//! `TerminateSession` sent), cleanup as ecsmon exits, and the clear messages: port in use,
//! target not reachable, a plugin that dies. Then the dialog and the view on the demo fleet.

// set_var for the fake plugin on PATH, and kill(pid, 0) to see whether it still runs.
#![allow(unsafe_code)]

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::LaunchType;

use ecsmon::model::{Operation, arn_tail};
use ecsmon::source::FleetSource;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::state::{ForwardState, Popup};
use ecsmon::testkit::Harness;
use support::{FleetSpec, Moto, Seeded, sdk_config, seed};

/// The fake plugin's directory, put first on PATH for this whole test binary (every test here
/// wants the fake). Its records are named by the local port, so parallel tests never mix.
fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        // Its own directory: PATH cannot hold the colons other scratch names have.
        let dir = std::env::temp_dir().join(format!("ecsmon-fw-plugin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Records its pid, arguments and the session variable under the local port it was
        // given; says what the real plugin says; stays alive until killed. `die-<port>` makes it
        // fail at once, `die-later-<port>` a second after it listens.
        let script = format!(
            "#!/bin/sh\n\
             if [ \"$1\" = \"--version\" ]; then echo 1.2.707.0; exit 0; fi\n\
             dir={dir}\n\
             port=$(printf '%s' \"$5\" | sed -n 's/.*\"localPortNumber\":\\[\"\\([0-9]*\\)\"\\].*/\\1/p')\n\
             {{ echo \"PID $$\"; for a in \"$@\"; do echo \"ARG $a\"; done; echo \"ENV $AWS_SSM_START_SESSION_RESPONSE\"; }} > \"$dir/record-$port.txt\"\n\
             echo \"Starting session with SessionId: fake\"\n\
             if [ -e \"$dir/die-$port\" ]; then echo 'An error occurred (TargetNotConnected): fake refusal' >&2; exit 1; fi\n\
             echo \"Port $port opened for sessionId fake.\"\n\
             echo 'Waiting for connections...'\n\
             if [ -e \"$dir/die-later-$port\" ]; then sleep 1; echo 'Connection to destination port failed, check SSM Agent logs.' >&2; exit 1; fi\n\
             exec sleep 600\n",
            dir = dir.display()
        );
        let path = dir.join("session-manager-plugin");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path_var = format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // SAFETY: set once, before any forward of this binary starts a plugin.
        unsafe { std::env::set_var("PATH", path_var) };
        dir
    })
}

/// A local port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What the fake plugin recorded for a forward of `port`: its pid and arguments.
fn recorded(port: u16) -> (i32, Vec<String>, String) {
    let file = plugin_dir().join(format!("record-{port}.txt"));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("no plugin record {}: {e}", file.display()));
    let pid = text
        .lines()
        .find_map(|l| l.strip_prefix("PID "))
        .and_then(|p| p.parse().ok())
        .expect("pid");
    let args = text
        .lines()
        .filter_map(|l| l.strip_prefix("ARG "))
        .map(str::to_string)
        .collect();
    (pid, args, text)
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill(pid, 0) only asks whether the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Gone within a generous limit: the wait ends as soon as it is, and a busy machine must not
/// fail the test.
fn gone_soon(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn settings(moto: &Moto) -> AwsSettings {
    AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    }
}

/// A fleet with one service whose second task runs with ECS Exec on, and a console on it.
async fn console(cluster: &str) -> (Moto, Seeded, String, Harness) {
    plugin_dir();
    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let seeded = seed(&config, &FleetSpec::new(cluster, 1, 1, 1)).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let task = ecs
        .run_task()
        .cluster(cluster)
        .task_definition(&seeded.task_definition_arn)
        .launch_type(LaunchType::Ec2)
        .group(format!("service:{}", seeded.services[0]))
        .enable_execute_command(true)
        .send()
        .await
        .expect("RunTask")
        .tasks()[0]
        .task_arn()
        .expect("task ARN")
        .to_string();
    let source: Arc<dyn FleetSource> =
        Arc::new(AwsSource::from_config(&config, settings(&moto)).expect("region"));
    let h = Harness::with_source(source, Some(settings(&moto)), 160, 40);
    (moto, seeded, task, h)
}

async fn sessions(moto: &Moto) -> Vec<serde_json::Value> {
    moto.sessions().await
}

/// The tasks pane of the service, on the task with ECS Exec.
fn on_exec_task(h: &mut Harness, cluster: &str, task: &str) {
    h.press(&format!("/{cluster}<enter><enter><enter>"));
    h.press(&format!("/{}<enter>", &arn_tail(task)[..8]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forward_to_a_container_port_runs_the_plugin_in_the_background_and_stops() {
    let (moto, _, task, mut h) = console("fw-task").await;
    on_exec_task(&mut h, "fw-task", &task);
    h.press("F");
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!("the dialog: {:?} / {}", h.state.popups.last(), h.status());
    };
    // Defaults from the task definition's port mapping (80: offered as 10080 locally).
    assert_eq!(dialog.remote.text, "80");
    assert_eq!(dialog.local.text, "10080");
    let port = free_port();
    h.press(&format!("<c-u>{port}<enter><enter>"));
    let Some(Popup::Confirm { lines, .. }) = h.state.popups.last() else {
        panic!("a confirmation: {:?}", h.state.popups.last());
    };
    assert_eq!(
        lines[0],
        format!(
            "forward localhost:{port} → port 80 of task {} (app)",
            &arn_tail(&task)[..8]
        )
    );
    assert_eq!(moto.calls("ssm:StartSession").await, 0, "nothing before y");
    h.press("y");
    assert!(
        h.status().contains(&format!("localhost:{port}")),
        "{}",
        h.status()
    );
    assert_eq!(h.state.forwards.list[0].state, ForwardState::Active);

    // What the plugin was given: the AWS CLI's six arguments, the request in the fifth.
    let (pid, args, text) = recorded(port);
    assert!(alive(pid), "the plugin keeps running in the background");
    assert_eq!(args.len(), 6, "{text}");
    assert_eq!(args[0], "AWS_SSM_START_SESSION_RESPONSE");
    assert_eq!(args[1], "us-east-1");
    assert_eq!(args[2], "StartSession");
    assert_eq!(args[5], moto.endpoint);
    let request: serde_json::Value = serde_json::from_str(&args[4]).unwrap();
    let described = h
        .source
        .task("fw-task", &task)
        .await
        .expect("DescribeTasks")
        .expect("the task");
    let container = &described.containers[0];
    assert_eq!(
        request,
        serde_json::json!({
            "Target": format!("ecs:fw-task_{}_{}", arn_tail(&task), container.runtime_id),
            "DocumentName": "AWS-StartPortForwardingSession",
            "Parameters": {"portNumber": ["80"], "localPortNumber": [port.to_string()]},
        })
    );
    assert!(text.contains("ENV {\"SessionId\":\"ecsmon-test-"), "{text}");
    // What SSM was asked for.
    let started = sessions(&moto).await;
    assert_eq!(started.len(), 1);
    assert_eq!(started[0]["DocumentName"], "AWS-StartPortForwardingSession");
    assert_eq!(started[0]["Parameters"], request["Parameters"]);
    assert_eq!(started[0]["Terminated"], false);

    // Listed.
    h.press(":forwards<enter>");
    let screen = h.render();
    assert!(screen.contains("Port forwards (1 running)"), "{screen}");
    let row = screen
        .lines()
        .find(|l| l.contains(&port.to_string()) && l.contains("ACTIVE"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains("port 80"), "{row}");
    assert!(
        row.contains(&format!("task {} (app)", &arn_tail(&task)[..8])),
        "{row}"
    );

    // Stopped: plugin gone, session terminated, listed as ended.
    h.press("x");
    assert!(gone_soon(pid), "the plugin was ended");
    assert_eq!(moto.calls("ssm:TerminateSession").await, 1);
    assert_eq!(sessions(&moto).await[0]["Terminated"], true);
    assert_eq!(
        h.state.forwards.list[0].state,
        ForwardState::Ended("stopped".into())
    );
    assert!(h.status().starts_with("stopped: forward"), "{}", h.status());
    // x again clears the ended row.
    h.press("x");
    assert!(h.state.forwards.list.is_empty());
    let record = h.audits().pop().unwrap();
    assert_eq!(record.action, "port-forward");
    assert!(record.result.starts_with("ok: "), "{}", record.result);
    assert_eq!(h.forwards.shutdown().await, 0, "nothing left running");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forward_to_a_remote_host_through_an_instance_and_cleanup_on_exit() {
    let (moto, seeded, _, mut h) = console("fw-host").await;
    h.press("/fw-host<enter>:instances<enter>F");
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!("the dialog: {:?} / {}", h.state.popups.last(), h.status());
    };
    assert_eq!(
        dialog.local.text, "",
        "an instance has no port mappings to offer"
    );
    let port = free_port();
    // An empty field is refused with a message, then typed.
    h.press("<enter>");
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!();
    };
    assert!(
        dialog
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("type a port")
    );
    h.press(&format!("{port}<enter>db.internal:99999<enter>"));
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!();
    };
    assert!(
        dialog
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("not a port"),
        "{dialog:?}"
    );
    h.press("<c-u>db.internal:5432<enter>y");
    assert_eq!(
        h.state.forwards.list[0].state,
        ForwardState::Active,
        "{}",
        h.status()
    );
    let (pid, args, _) = recorded(port);
    let request: serde_json::Value = serde_json::from_str(&args[4]).unwrap();
    assert_eq!(
        request,
        serde_json::json!({
            "Target": seeded.ec2_instance_ids[0],
            "DocumentName": "AWS-StartPortForwardingSessionToRemoteHost",
            "Parameters": {
                "host": ["db.internal"],
                "portNumber": ["5432"],
                "localPortNumber": [port.to_string()],
            },
        })
    );
    // The same local port cannot be forwarded twice.
    h.press("F");
    h.press(&format!("{port}<enter>"));
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!();
    };
    assert!(
        dialog
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("is already forwarded"),
        "{dialog:?}"
    );
    h.press("<esc>");
    // ecsmon exits: every forward stopped, the plugin gone, the session terminated.
    assert_eq!(h.forwards.shutdown().await, 1);
    assert!(gone_soon(pid));
    assert_eq!(moto.calls("ssm:TerminateSession").await, 1);
    assert_eq!(sessions(&moto).await[0]["Terminated"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn clear_messages_for_a_port_in_use_an_unreachable_target_and_a_plugin_that_dies() {
    let (moto, seeded, task, mut h) = console("fw-errors").await;
    on_exec_task(&mut h, "fw-errors", &task);

    // Port in use: said, and SSM never asked.
    let held = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let busy = held.local_addr().unwrap().port();
    h.press(&format!("F<c-u>{busy}<enter><enter>y"));
    assert!(
        h.status()
            .contains(&format!("local port {busy} is already in use")),
        "{}",
        h.status()
    );
    assert!(matches!(
        h.state.forwards.list[0].state,
        ForwardState::Failed(_)
    ));
    assert_eq!(moto.calls("ssm:StartSession").await, 0);
    drop(held);

    // A plugin that fails at once: its words, and the session it was given terminated.
    let port = free_port();
    std::fs::write(plugin_dir().join(format!("die-{port}")), "").unwrap();
    h.press(&format!("F<c-u>{port}<enter><enter>y"));
    let why = h.status();
    assert!(
        why.contains("ended at once") && why.contains("fake refusal"),
        "{why}"
    );
    assert_eq!(moto.calls("ssm:TerminateSession").await, 1);

    // A plugin that dies later: noticed and listed as ended, with its exit and last words.
    let port = free_port();
    std::fs::write(plugin_dir().join(format!("die-later-{port}")), "").unwrap();
    h.press(&format!("F<c-u>{port}<enter><enter>y"));
    let id = h.state.forwards.list.last().unwrap().id;
    assert_eq!(
        h.state.forwards.list.last().unwrap().state,
        ForwardState::Active
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline
        && h.state
            .forwards
            .list
            .iter()
            .any(|f| f.id == id && f.state == ForwardState::Active)
    {
        std::thread::sleep(Duration::from_millis(50));
        h.advance(1);
    }
    let ended = h.state.forwards.list.iter().find(|f| f.id == id).unwrap();
    assert_eq!(
        ended.state,
        ForwardState::Ended(
            "session-manager-plugin exited with status 1: Connection to destination port \
             failed, check SSM Agent logs."
                .into()
        )
    );
    assert!(
        h.status().starts_with("port forward ended:"),
        "{}",
        h.status()
    );

    // A target SSM cannot reach: the instance is stopped.
    let config = sdk_config(&moto.endpoint).await;
    aws_sdk_ec2::Client::new(&config)
        .stop_instances()
        .instance_ids(&seeded.ec2_instance_ids[0])
        .send()
        .await
        .expect("StopInstances");
    h.press(":instances<enter>");
    let port = free_port();
    h.press(&format!("F{port}<enter>5432<enter>y"));
    assert!(
        h.status().contains("is not connected to Session Manager"),
        "{}",
        h.status()
    );

    // Read-only: refused at the gate, nothing sent.
    moto.reset_stats().await;
    h.state.read_only = true;
    let port = free_port();
    h.press(&format!("F{port}<enter>5432<enter>"));
    assert!(
        h.status().contains("read-only mode is on"),
        "{}",
        h.status()
    );
    assert_eq!(moto.calls("ssm:StartSession").await, 0);
    assert!(h.state.popups.is_empty());
    assert_eq!(h.audits().last().unwrap().result, "refused: read-only");
    h.forwards.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_without_ecs_exec_is_refused_before_the_dialog() {
    // The server lives as long as its value: bound, not dropped at once.
    let (_moto, seeded, _, mut h) = console("fw-noexec").await;
    let plain = &seeded.task_arns_by_service[&seeded.services[0]][0];
    on_exec_task(&mut h, "fw-noexec", plain);
    h.press("F");
    assert!(h.state.popups.is_empty());
    assert!(h.status().contains("ECS Exec is off"), "{}", h.status());
}

// ---- On the demo fleet (snapshots)

/// The demo's forwards are local listeners: the port they hold is picked free and masked
/// where the view shows it (its column, `localhost:<port>`), nowhere else.
fn masked(screen: String, port: u16) -> String {
    screen
        .replace(&format!("│{port}   "), "│PORT!   ")
        .replace(&format!("localhost:{port}"), "localhost:PORT!")
}

#[test]
fn the_dialog_offers_the_task_definitions_ports() {
    let mut h = Harness::new("default", 140, 40);
    h.press("/prod<enter><enter>/cart<enter><enter>F");
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!("{:?} / {}", h.state.popups.last(), h.status());
    };
    assert_eq!(
        (dialog.local.text.as_str(), dialog.remote.text.as_str()),
        ("8080", "8080")
    );
    insta::assert_snapshot!("forward_dialog_on_a_demo_task", h.render());
    // The default is shown selected; backspace edits it, typing replaces it.
    let local_label = format!("{:<30} ", "local port");
    assert!(h.shown_selected_after(&local_label));
    h.press("<bs>");
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!();
    };
    assert_eq!(dialog.local.text, "808");
    h.press("<c-u>18080<enter>db.internal:5432");
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!();
    };
    assert_eq!(
        (dialog.local.text.as_str(), dialog.remote.text.as_str()),
        ("18080", "db.internal:5432")
    );
    h.press("<tab><end>1");
    let Some(Popup::ForwardDialog(dialog)) = h.state.popups.last() else {
        panic!();
    };
    assert_eq!(dialog.local.text, "180801");
    h.press("<esc>");
    assert!(h.status().contains("nothing was started"), "{}", h.status());
    assert!(h.state.popups.is_empty());
}

#[test]
fn the_forwards_view_lists_a_demo_forward_and_stops_it() {
    let mut h = Harness::new("default", 140, 40);
    h.press(":forwards<enter>");
    insta::assert_snapshot!("forwards_view_empty", h.render());
    h.press("<esc>/prod<enter><enter>/cart<enter><enter>");
    let port = free_port();
    h.press(&format!("F<c-u>{port}<enter><enter>y"));
    assert_eq!(
        h.state.forwards.list[0].state,
        ForwardState::Active,
        "{}",
        h.status()
    );
    // The demo's listener answers.
    let mut reply = String::new();
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Read::read_to_string(&mut conn, &mut reply).unwrap();
    assert!(
        reply.starts_with("ecsmon demo: forward localhost:"),
        "{reply}"
    );
    h.press(":forwards<enter>");
    insta::assert_snapshot!("forwards_view_with_one", masked(h.render(), port));
    h.press("x");
    assert_eq!(
        h.state.forwards.list[0].state,
        ForwardState::Ended("stopped".into())
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the port is free again"
    );
    let Operation::PortForward { local_port, .. } = &h.state.forwards.list[0].op else {
        panic!();
    };
    assert_eq!(*local_port, port);
}
