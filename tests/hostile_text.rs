//! Escape sequences, control characters, bidi and zero-width characters, and invalid UTF-8 in
//! every string AWS hands the console that it draws: names, tags, service events, deployment and
//! stop reasons, images, attributes, log lines. Through the real SDK against moto: tags, a stop
//! reason and log lines written as an operator's teammate (or attacker) could; the rest added to
//! moto's answers by the front's `poison` fault (`tests/moto/server.py`, `HOSTILE`), and raw
//! invalid UTF-8 by its `answer` fault. Every frame must hold no character a terminal would
//! interpret, and none of the sequences' payloads.

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
    let group = format!("/ecs/{}", support::seed::family("hostile"));
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
