//! Escape sequences, control characters, bidi and zero-width characters, and invalid UTF-8 in
//! every string AWS hands the console that it draws: names, tags, service events, deployment and
//! stop reasons, images, attributes, log lines, and the identifiers it also writes to files and
//! the clipboard: the STS account and principal, task definition ARNs and families, target
//! group ARNs, subnets, private IPs, SSM session ids, log stream names. Through the real SDK
//! against moto: tags, a stop reason and log lines written as an operator's teammate (or
//! attacker) could; the rest added to moto's answers by the front's `poison` fault
//! (`tests/moto/server.py`, `HOSTILE`), STS's answer and raw invalid UTF-8 by its `answer`
//! fault. Every frame, export, saved log, copied line and audit record must hold no character a
//! terminal would interpret, and none of the sequences' payloads. Then log events past the
//! length the console keeps, by FilterLogEvents and by Live Tail.

// set_var is unsafe since edition 2024: the fake plugin goes on PATH once, up front.
#![allow(unsafe_code)]

mod support;

use std::sync::Arc;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_ecs::types::Tag;
use base64::Engine;
use ecsmon::source::aws::{AwsSettings, AwsSource};
use ecsmon::testkit::Harness;
use serde_json::json;
use support::{FleetSpec, Moto, sdk_config, seed};

/// What an OSC title, a DCS query and a screen clear carry: never drawn.
const PAYLOADS: &[&str] = &["PWNED", "[2J", "$q", "]0;"];

/// The same hostile text the front's `poison` adds, for what the test writes itself.
const HOSTILE: &str = "\x1b[2J\x1b]0;PWNED\x07\u{202e}\u{200b}\u{9b}31m\x1bP1$qPWNED\x1b\\\tTAB\nNL\rCR\x07BEL\x7fDEL\u{84}C1\u{2066}ISO\u{2069}";

fn assert_harmless(frame: &str, screen: &str) {
    let bad = frame.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{061c}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    });
    assert!(bad.is_none(), "{screen}: {bad:?} drawn\n{frame}");
    for payload in PAYLOADS {
        assert!(
            !frame.contains(payload),
            "{screen}: {payload:?} drawn\n{frame}"
        );
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
async fn hostile_text_from_aws_is_drawn_harmless_on_every_screen() {
    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let fleet = seed(&config, &FleetSpec::new("hostile", 2, 2, 1)).await;
    let ecs = aws_sdk_ecs::Client::new(&config);

    // What anyone with write access can put there: tags, a stop reason, log lines.
    let tag = Tag::builder()
        .key(format!("owner{HOSTILE}"))
        .value(HOSTILE)
        .build();
    let first_task = fleet.task_arns_by_service["svc-000"][0].clone();
    for arn in [&fleet.cluster_arn, &first_task] {
        ecs.tag_resource()
            .resource_arn(arn)
            .tags(tag.clone())
            .send()
            .await
            .expect("TagResource");
    }
    let stopped = fleet.task_arns_by_service["svc-001"][0].clone();
    ecs.stop_task()
        .cluster("hostile")
        .task(&stopped)
        .reason(format!("stopped by {HOSTILE}"))
        .send()
        .await
        .expect("StopTask");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = format!("/ecs/{}", seed::family("hostile"));
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let stream = format!("ecs/app/{}", first_task.rsplit('/').next().unwrap());
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .send()
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let lines = [
        format!("plain line {HOSTILE}"),
        "\x1b[31mred\x1b[0m and \x1b]52;c;UFdORUQ=\x07clipboard".to_string(),
        "\x1bc reset \x1b(0 charset \x1b7 save".to_string(),
        "unterminated \x1b]0;PWNED".to_string(),
    ];
    let events = lines
        .iter()
        .enumerate()
        .map(|(i, m)| {
            InputLogEvent::builder()
                .timestamp(now - 20_000 + i as i64)
                .message(m)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();

    // Everything else: names, images, attributes, events and reasons in moto's answers.
    for op in [
        "ecs:DescribeClusters",
        "ecs:DescribeServices",
        "ecs:DescribeTasks",
        "ecs:DescribeContainerInstances",
        "ecs:DescribeTaskDefinition",
    ] {
        moto.inject(json!({"op": op, "kind": "poison"})).await;
    }

    let source = AwsSource::from_config(&config, settings(&moto)).unwrap();
    let mut h = Harness::with_source(Arc::new(source), Some(settings(&moto)), 160, 50);
    let mut seen = String::new();
    let screens = [
        ("clusters", ""),
        ("cluster described", "d"),
        ("cluster described, scrolled", "G"),
        ("services", "<esc>/hostile<enter><enter>"),
        ("service described", "/svc-001<enter>d"),
        ("service described, scrolled", "G"),
        ("tasks", "<esc><esc>/svc-000<enter><enter>"),
        ("task described", "d"),
        ("task described, scrolled", "G"),
        ("containers", "<esc><enter>"),
        ("container described", "d"),
        ("log pane", "<esc><esc>l"),
        ("log pane with a search", "/PWN<enter>"),
        ("stopped tasks", "<esc><esc>/<c-u>svc-001<enter><enter>a"),
        ("stopped task described", "/STOPPED<enter>d"),
        ("stopped task described, scrolled", "G"),
        ("instances", "<esc><esc><esc>:instances<enter>"),
        ("instance described", "d"),
    ];
    for (screen, keys) in screens {
        h.press(keys);
        h.advance(2);
        let frame = h.render();
        assert_harmless(&frame, screen);
        seen.push_str(&frame);
    }
    // The hostile strings did reach the screen, cleaned: markers for what cannot be drawn.
    for marker in [
        "^G",
        "^?",
        "<84>",
        "ISO",
        "stopped by",
        "red and clipboard",
        "(service x)",
        "owner ",
        "nginx:1.27 ",
        "plain line",
    ] {
        assert!(seen.contains(marker), "{marker:?} never drawn");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_from_aws_is_an_error_or_a_replacement_never_a_crash() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    seed(&config, &FleetSpec::new("badutf8", 1, 1, 1)).await;
    let source = AwsSource::from_config(&config, settings(moto)).unwrap();
    let mut h = Harness::with_source(Arc::new(source), Some(settings(moto)), 140, 40);
    h.press("/badutf8<enter><enter>");
    assert!(h.render().contains("svc-000"), "{}", h.render());

    let now = chrono::Utc::now().timestamp();
    let bodies: [Vec<u8>; 3] = [
        // Raw bytes that are not UTF-8 inside a string.
        [
            b"{\"services\":[{\"serviceName\":\"svc-\xff\xfe\x80\",\"status\":\"ACTIVE\",\"desiredCount\":1,\"events\":[{\"id\":\"1\",\"createdAt\":".as_slice(),
            now.to_string().as_bytes(),
            b",\"message\":\"bad \xc3\x28 byte\"}]}],\"failures\":[]}",
        ]
        .concat(),
        // An escaped lone surrogate: valid JSON text, not a valid string.
        br#"{"services":[{"serviceName":"svc-\ud800","status":"ACTIVE"}],"failures":[]}"#.to_vec(),
        // A NUL and an escaped ESC in a name.
        br#"{"services":[{"serviceName":"svc-\u0000\u001b[2J","status":"ACTIVE"}],"failures":[]}"#
            .to_vec(),
    ];
    for body in bodies {
        let body_b64 = base64::engine::general_purpose::STANDARD.encode(&body);
        moto.inject(json!({"op": "ecs:DescribeServices", "kind": "answer", "count": 1, "body_b64": body_b64}))
            .await;
        h.press("r");
        let frame = h.render();
        assert_harmless(&frame, &String::from_utf8_lossy(&body));
        let slot = h.state.fleet.slot(&h.state.focused().pane.query()).unwrap();
        eprintln!("{}: {:?}", String::from_utf8_lossy(&body), slot.error);
        match &slot.error {
            Some(e) => assert!(
                e.message.contains("could not read"),
                "{}: {}",
                String::from_utf8_lossy(&body),
                e.message
            ),
            None => assert!(frame.contains("svc-"), "{frame}"),
        }
        moto.clear_faults().await;
    }
    // Once the answers are good again, so is the pane.
    h.press("r");
    let slot = h.state.fleet.slot(&h.state.focused().pane.query()).unwrap();
    assert!(slot.error.is_none(), "{:?}", slot.error);
    assert!(h.render().contains("svc-000"));
}

/// A stand-in session-manager-plugin on PATH for this test binary: a forward's plugin that
/// listens until it is ended.
fn fake_plugin_on_path() {
    use std::os::unix::fs::PermissionsExt;
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("ecsmon-hostile-plugin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("session-manager-plugin");
        std::fs::write(
            &path,
            "#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo 1.2.707.0; exit 0; fi\n\
             echo 'Waiting for connections...'\nexec sleep 600\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path_var = format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // SAFETY: set once, before any forward of this binary starts a plugin.
        unsafe { std::env::set_var("PATH", path_var) };
        dir
    });
}

/// STS's answer, as XML allows: a C1 CSI, bidi and zero-width characters in the account and
/// the principal.
const HOSTILE_IDENTITY: &str = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
<GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/Op\u{9b}2J\u{202e}\u{200b}/alice\u{84}</Arn>\
<UserId>AROAEXAMPLE:alice</UserId><Account>1234\u{202e}56789012\u{9b}31m</Account></GetCallerIdentityResult>\
<ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>\
</GetCallerIdentityResponse>";

#[tokio::test(flavor = "multi_thread")]
async fn identifiers_from_aws_are_harmless_on_screen_in_files_and_on_the_clipboard() {
    use aws_sdk_ecs::types::{LaunchType, LoadBalancer};
    use ecsmon::action::Effect;
    use ecsmon::state::Popup;
    fake_plugin_on_path();
    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let fleet = seed(&config, &FleetSpec::new("idents", 1, 1, 1)).await;
    let ecs = aws_sdk_ecs::Client::new(&config);

    // A service behind a real target group, with a task that has ECS Exec on.
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let vpc = ec2.describe_vpcs().send().await.unwrap().vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let tg = elb
        .create_target_group()
        .name("idents-tg")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .expect("CreateTargetGroup")
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    ecs.create_service()
        .cluster("idents")
        .service_name("web")
        .task_definition(&fleet.task_definition_arn)
        .desired_count(1)
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn(&tg)
                .container_name("app")
                .container_port(80)
                .build(),
        )
        .send()
        .await
        .expect("CreateService");
    let task = ecs
        .run_task()
        .cluster("idents")
        .task_definition(&fleet.task_definition_arn)
        .launch_type(LaunchType::Ec2)
        .group("service:web")
        .enable_execute_command(true)
        .send()
        .await
        .expect("RunTask")
        .tasks()[0]
        .task_arn()
        .unwrap()
        .to_string();
    let task_id = task.rsplit('/').next().unwrap().to_string();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = format!("/ecs/{}", seed::family("idents"));
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name(format!("ecs/app/{task_id}"))
        .send()
        .await
        .unwrap();
    logs.put_log_events()
        .log_group_name(&group)
        .log_stream_name(format!("ecs/app/{task_id}"))
        .log_events(
            InputLogEvent::builder()
                .timestamp(chrono::Utc::now().timestamp_millis() - 10_000)
                .message(format!("copied line {HOSTILE}"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // Task definition ARNs, target group ARNs, container instance ARNs, subnets, private IPs,
    // SSM session ids and log stream names poisoned; STS's identity answered hostile.
    for op in [
        "ecs:DescribeServices",
        "ecs:DescribeTasks",
        "ecs:DescribeTaskDefinition",
        "ecs:ListTaskDefinitions",
        "ecs:DescribeContainerInstances",
        "ssm:StartSession",
        "logs:FilterLogEvents",
    ] {
        moto.inject(json!({"op": op, "kind": "poison"})).await;
    }
    let body_b64 = base64::engine::general_purpose::STANDARD.encode(HOSTILE_IDENTITY);
    moto.inject(json!({"op": "sts:GetCallerIdentity", "kind": "answer", "body_b64": body_b64}))
        .await;

    let source = AwsSource::from_config(&config, settings(&moto)).unwrap();
    let mut h = Harness::with_source(Arc::new(source), Some(settings(&moto)), 200, 50);
    let mut seen = String::new();
    let mut look = |h: &mut Harness, screen: &str, keys: &str| {
        h.press(keys);
        h.advance(2);
        let frame = h.render();
        assert_harmless(&frame, screen);
        if let Some(Popup::Describe { lines, .. }) = h.state.popups.last() {
            assert_harmless(&lines.join("\n"), &format!("{screen} (every line)"));
            seen.push_str(&lines.join("\n"));
        }
        seen.push_str(&frame);
    };
    look(&mut h, "clusters and the header", "");
    look(&mut h, "services", "/idents<enter><enter>");
    look(&mut h, "service described", "/web<enter>d");
    look(&mut h, "target health", "<esc>t");
    look(&mut h, "task definition revisions", "<esc>T");
    look(&mut h, "tasks", "<esc><enter>");
    look(
        &mut h,
        "task described",
        &format!("/{}<enter>d", &task_id[..8]),
    );
    look(&mut h, "log pane", "<esc>l");
    // Copied to the clipboard and saved to a file.
    h.press("yS");
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    look(
        &mut h,
        "port forward started",
        &format!("<esc>F<c-u>{port}<enter><c-u>80<enter>y"),
    );
    look(&mut h, "port forwards", ":forwards<enter>");
    look(&mut h, "export", "<esc>:export<enter>");

    // The header draws these whole: no cell may hide a control character in them.
    let who = &h.state.identity;
    assert_harmless(
        &format!("{} {}", who.account, who.principal),
        "the identity",
    );
    assert_eq!(who.account, "123456789012");
    // What reached the screen, cleaned.
    for (what, marker) in [
        ("the account", "123456789012"),
        ("the principal", "assumed-role/Op"),
        ("a subnet", "subnet-0a1"),
        ("a private IP", "10.0.9.9"),
        ("the target group", "idents-tg"),
        ("the task definition", &seed::family("idents")),
        ("an SSM session", "ecsmon-test-"),
        ("a log line", "copied line"),
    ] {
        assert!(seen.contains(marker), "{what} ({marker:?}) never drawn");
    }
    // What went to files and the clipboard: the export, the audit records, the copied line.
    let export = h
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::WriteExport { contents, .. } => Some(contents.clone()),
            _ => None,
        })
        .expect("an export");
    assert_harmless(&export, "the exported snapshot");
    assert!(export.contains("123456789012"), "{export}");
    let copied = h
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::Copy(text) => Some(text.clone()),
            _ => None,
        })
        .expect("a copy");
    assert_harmless(&copied, "the clipboard");
    assert!(copied.contains("copied line"), "{copied}");
    let saved = h
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::SaveFile { contents, .. } => Some(contents.clone()),
            _ => None,
        })
        .expect("a saved log");
    assert_harmless(&saved, "the saved log");
    assert!(saved.contains("copied line"), "{saved}");
    let audits = h.audits();
    assert!(!audits.is_empty());
    for record in audits {
        let line = serde_json::to_string(&record).unwrap();
        assert_harmless(&line, "the audit log");
        assert!(record.principal.starts_with("assumed-role/Op"), "{line}");
    }
    h.forwards.shutdown().await;
}

/// CloudWatch's largest event: 256 KiB less the 26 bytes it counts per event.
const LARGEST: usize = 256 * 1024 - 26;

fn assert_cut(message: &str, size: usize, how: &str) {
    let mark = format!("… [cut: {size} bytes]");
    assert!(
        message.len() <= ecsmon::model::MESSAGE_LIMIT + mark.len(),
        "{how}: {} bytes kept",
        message.len()
    );
    assert!(
        message.ends_with(&format!("x{mark}")),
        "{how}: {}",
        &message[message.len().saturating_sub(60)..]
    );
    // The pane draws it with the mark, and holds no more than that.
    let line = ecsmon::state::LogLine::from_event(
        &ecsmon::model::LogEvent {
            id: "1".into(),
            at: chrono::Utc::now(),
            group: "g".into(),
            stream: "s".into(),
            message: message.to_string(),
        },
        "app",
    );
    assert!(line.text.ends_with(&mark), "{how}: drawn without the mark");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_event_past_16_kib_is_kept_cut_with_a_mark_by_filter_and_by_live_tail() {
    use ecsmon::source::FleetSource;
    use futures::StreamExt;
    use support::live_tail::{Answer, LiveTailStub, session_start, session_update};

    // FilterLogEvents against moto.
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = format!("/ecs/huge-{}", std::process::id());
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name("ecs/app/t1")
        .send()
        .await
        .unwrap();
    let at = chrono::Utc::now().timestamp_millis() - 60_000;
    logs.put_log_events()
        .log_group_name(&group)
        .log_stream_name("ecs/app/t1")
        .log_events(
            InputLogEvent::builder()
                .timestamp(at)
                .message("x".repeat(LARGEST))
                .build()
                .unwrap(),
        )
        .log_events(
            InputLogEvent::builder()
                .timestamp(at + 1)
                .message("small")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("PutLogEvents");
    let source = AwsSource::from_config(&config, settings(moto)).unwrap();
    let events = source
        .log_events(&ecsmon::model::LogQuery {
            group: group.clone(),
            region: None,
            streams: vec!["ecs/app/t1".into()],
            start: chrono::Utc::now() - chrono::Duration::hours(1),
            end: None,
            limit: None,
        })
        .await
        .expect("FilterLogEvents");
    assert_eq!(events.len(), 2);
    assert_cut(&events[0].message, LARGEST, "FilterLogEvents");
    assert_eq!(events[1].message, "small", "a short event is kept whole");

    // Live Tail through the event-stream stub.
    let stub = LiveTailStub::start(Answer::Stream).await;
    let stats = ecsmon::source::aws::CallStats::default();
    let clients = ecsmon::source::aws::Clients {
        logs: stub.client("us-east-1", &stats),
        ..ecsmon::source::aws::Clients::new(&config, &stats)
    };
    let tail_settings = AwsSettings {
        endpoint_url: Some(stub.endpoint.clone()),
        ..settings(moto)
    };
    let source = AwsSource::from_clients(clients, tail_settings, "us-east-1".into(), stats);
    let arn = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/cart";
    stub.send(session_start(arn));
    let mut tail = source
        .live_tail("/ecs/cart", &["ecs/app/t1".to_string()])
        .await
        .expect("a session");
    let big = "x".repeat(200_000);
    stub.send(session_update(arn, &[("ecs/app/t1", at, &big)]));
    let batch = tokio::time::timeout(std::time::Duration::from_secs(30), tail.next())
        .await
        .expect("the tail answered")
        .expect("an update")
        .expect("events");
    assert_cut(&batch[0].message, 200_000, "Live Tail");
}
