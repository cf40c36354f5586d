//! Operator actions through the real update path on the demo fleet: the gate (read-only,
//! confirmation, audit), the scale dialog's input checks, ECS Exec's preflight, stop, drain,
//! redeploy and target health.

use ecsmon::action::{Action, Effect};
use ecsmon::model::Operation;
use ecsmon::source::audit::Stage;
use ecsmon::source::{ErrorKind, SourceError};
use ecsmon::state::Popup;
use ecsmon::testkit::Harness;
use ecsmon::update::gate;

fn console() -> Harness {
    Harness::new("default", 140, 40)
}

/// prod › payments selected.
fn payments() -> Harness {
    let mut h = console();
    h.press("/prod<enter><enter>/payments<enter>");
    h
}

fn performed(h: &Harness) -> Vec<Operation> {
    h.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Perform(op) | Effect::OpenSession(op) => Some(op.clone()),
            _ => None,
        })
        .collect()
}

fn confirm_lines(h: &Harness) -> Vec<String> {
    match h.state.popups.last() {
        Some(Popup::Confirm { lines, .. }) => lines.clone(),
        other => panic!("expected the confirmation, got {other:?}"),
    }
}

#[test]
fn read_only_refuses_every_action_without_sending_it() {
    let mut h = payments();
    h.state.read_only = true;
    h.press("R");
    assert!(performed(&h).is_empty(), "nothing may leave the process");
    assert!(h.state.popups.is_empty(), "not even a confirmation");
    assert!(
        h.status().contains("read-only mode is on"),
        "{}",
        h.status()
    );
    let audit = h.audits();
    assert_eq!(audit.len(), 1, "a refusal is one line");
    assert_eq!(audit[0].action, "redeploy");
    assert_eq!(audit[0].stage, Stage::Refused);
    assert_eq!(audit[0].result, "refused: read-only");
    // Stop and drain too.
    h.press("<enter>x");
    h.press(":instances<enter>D");
    assert!(performed(&h).is_empty());
    assert_eq!(h.audits().len(), 3);
}

#[test]
fn the_confirmation_shows_what_changes_and_where_and_no_declines() {
    let mut h = payments();
    h.press("R");
    let lines = confirm_lines(&h);
    assert_eq!(
        lines[0],
        "payments: force a new deployment (every task replaced)"
    );
    assert!(
        lines.iter().any(|l| l.contains("123456789012")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.contains("eu-west-1")), "{lines:?}");
    // Keys other than y/n/enter/esc do nothing while it is up.
    h.press("jqx");
    assert!(matches!(h.state.popups.last(), Some(Popup::Confirm { .. })));
    assert!(!h.state.should_quit);
    h.press("n");
    assert!(h.state.popups.is_empty());
    assert!(performed(&h).is_empty());
    assert!(h.status().starts_with("cancelled"));
    h.press("R<esc>");
    assert!(performed(&h).is_empty());
}

#[test]
fn confirmed_actions_are_sent_once_and_audited_before_and_after() {
    let mut h = payments();
    h.press("Ry");
    let ops = performed(&h);
    assert_eq!(ops.len(), 1);
    assert!(matches!(&ops[0], Operation::Redeploy { service, .. } if service == "payments"));
    let audit = h.audits();
    assert_eq!(audit.len(), 2, "{audit:?}");
    let (requested, outcome) = (&audit[0], &audit[1]);
    assert_eq!(requested.stage, Stage::Requested);
    assert_eq!(requested.result, "requested");
    assert_eq!(outcome.stage, Stage::Done);
    assert!(outcome.result.starts_with("ok: "), "{}", outcome.result);
    assert_eq!(requested.id, outcome.id, "one id pairs the two lines");
    assert!(!requested.id.is_empty());
    for record in [requested, outcome] {
        assert_eq!(record.action, "redeploy");
        assert!(
            record.target.ends_with("service/prod/payments"),
            "{}",
            record.target
        );
        assert_eq!(record.account, "123456789012");
        assert_eq!(record.principal, "assumed-role/Operator/demo");
    }
    // The `requested` line comes before the request in the runtime's effects (it writes each
    // audit line before starting what follows it).
    let audit_at = h
        .effects
        .iter()
        .position(|e| matches!(e, Effect::Audit(r) if r.stage == Stage::Requested))
        .unwrap();
    let perform_at = h
        .effects
        .iter()
        .position(|e| matches!(e, Effect::Perform(_)))
        .unwrap();
    assert!(audit_at < perform_at);
    // A second action gets an id of its own.
    h.press("Ry");
    let ids: Vec<String> = h.audits().iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(ids[2], ids[3]);
    assert_ne!(ids[0], ids[2]);
}

#[test]
fn the_scale_dialog_refuses_anything_but_a_whole_number() {
    let mut h = payments();
    h.press("s");
    assert!(matches!(h.state.popups.last(), Some(Popup::Scale(_))));
    let message = |h: &Harness| match h.state.popups.last() {
        Some(Popup::Scale(d)) => d.message.clone().unwrap_or_default(),
        other => panic!("the dialog stays open: {other:?}"),
    };
    for typed in ["abc", "-3", "2.5", "99999999999", "٣", " "] {
        h.press("<c-u>");
        for c in typed.chars() {
            h.press(&c.to_string());
        }
        h.press("<enter>");
        assert!(!message(&h).is_empty(), "{typed:?} refused");
        assert!(performed(&h).is_empty());
    }
    h.press("<c-u><enter>");
    assert!(message(&h).contains("type the new desired count"));
    // A huge paste is cut and refused.
    h.press("<c-u>");
    h.dispatch(Action::Paste("7".repeat(10_000)));
    h.press("<enter>");
    assert!(message(&h).contains("quota"), "{}", message(&h));
    assert!(performed(&h).is_empty());
    insta::assert_snapshot!("scale_dialog_refusing_input", h.render());
    // A good count goes to the gate.
    h.press("<c-u>9<enter>");
    assert_eq!(confirm_lines(&h)[0], "payments: desired 6 → 9");
    h.press("y");
    assert!(matches!(
        performed(&h).as_slice(),
        [Operation::Scale { from: 6, to: 9, .. }]
    ));
}

#[test]
fn scaling_to_zero_needs_the_service_name() {
    let mut h = payments();
    h.press("s<c-u>0<enter>");
    assert!(matches!(h.state.popups.last(), Some(Popup::Scale(_))));
    h.press("cart<enter>");
    assert!(
        matches!(h.state.popups.last(), Some(Popup::Scale(_))),
        "wrong name"
    );
    h.press("<c-u>payments<enter>");
    assert_eq!(confirm_lines(&h)[0], "payments: desired 6 → 0");
}

#[test]
fn stop_task_names_ecsmon_and_the_principal() {
    let mut h = payments();
    h.press("<enter>xy");
    match performed(&h).as_slice() {
        [Operation::StopTask { reason, .. }] => {
            assert_eq!(reason, "Stopped by ecsmon (assumed-role/Operator/demo)")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn drain_toggles_with_the_instance_state() {
    let mut h = console();
    h.press("/prod<enter>:instances<enter>D");
    assert!(confirm_lines(&h)[0].contains("ACTIVE → DRAINING"));
    h.press("y");
    assert!(matches!(
        performed(&h).as_slice(),
        [Operation::SetInstanceState { draining: true, .. }]
    ));
}

#[test]
fn exec_checks_what_it_can_before_asking() {
    // ECS Exec is off for notifications' tasks in the demo.
    let mut h = console();
    h.press("/prod<enter><enter>/notifications<enter><enter>s");
    assert!(
        h.status().contains("ECS Exec is off"),
        "{:?}",
        h.state.status
    );
    assert!(h.state.popups.is_empty());
    // payments has it on; its tasks have two containers: the picker asks which.
    let mut h = payments();
    h.press("<enter>s");
    match h.state.popups.last() {
        Some(Popup::Picker { items, .. }) => assert_eq!(items.len(), 2, "{items:?}"),
        other => panic!("{other:?}"),
    }
    h.press("<enter>");
    // No confirmation: the session is asked for at once.
    assert!(h.state.popups.is_empty(), "{:?}", h.state.popups);
    assert!(matches!(
        performed(&h).as_slice(),
        [Operation::Exec { container, .. }] if container == "payments"
    ));
}

#[test]
fn target_health_opens_for_a_load_balanced_service_only() {
    let mut h = console();
    h.press("/prod<enter><enter>/inventory<enter>t");
    assert!(h.status().contains("no load balancer target groups"));
    let mut h = payments();
    h.press("t");
    assert!(matches!(
        h.state.popups.last(),
        Some(Popup::TargetHealth(_))
    ));
    let fetches = |h: &Harness| {
        h.effects
            .iter()
            .filter(|e| matches!(e, Effect::FetchTargetHealth { .. }))
            .count()
    };
    assert_eq!(fetches(&h), 1);
    h.advance(5);
    assert_eq!(fetches(&h), 2, "refreshed every 5 s while open");
    h.press("<esc>");
    h.advance(10);
    assert_eq!(fetches(&h), 2, "not once closed");
}

#[test]
fn a_failed_action_is_audited_as_failed_and_said_in_plain_words() {
    let mut h = payments();
    let op = Operation::Redeploy {
        cluster: "prod".into(),
        service: "payments".into(),
        service_arn: "arn:aws:ecs:eu-west-1:123456789012:service/prod/payments".into(),
    };
    h.dispatch(Action::Performed {
        op,
        result: Err(SourceError::new(
            ErrorKind::AccessDenied,
            "AccessDenied for ecs:UpdateService on service payments",
        )),
    });
    let audit = h.audits();
    assert_eq!(
        audit.last().unwrap().result,
        "failed: AccessDenied for ecs:UpdateService on service payments"
    );
    assert!(
        h.status().contains("redeploy failed: AccessDenied"),
        "{}",
        h.status()
    );
}

#[test]
fn scaling_the_demo_fleet_converges_and_is_audited_as_done() {
    let mut h = payments();
    h.press("s<c-u>8<enter>y");
    assert_eq!(h.audits()[1].stage, Stage::Done, "{:?}", h.audits());
    assert!(h.audits()[1].result.starts_with("ok: "), "{:?}", h.audits());
    h.advance(120);
    let frame = h.render();
    let row = frame.lines().find(|l| l.contains("payments")).unwrap();
    // NAME, TRIAGE (a badge, maybe empty), STATUS, DESIRED, RUNNING…
    let cells: Vec<&str> = row.split_whitespace().collect();
    let status = cells.iter().position(|c| *c == "ACTIVE").expect("status");
    assert_eq!(&cells[status..status + 3], ["ACTIVE", "8", "8"], "{row}");
}

#[test]
fn outside_the_auto_scaling_bounds_asks_twice() {
    // prod web: auto scaling between 2 and 20 in the demo.
    let mut h = console();
    h.press("/prod<enter><enter>/web<enter>s<c-u>30<enter>");
    match h.state.popups.last() {
        Some(Popup::Scale(d)) => {
            let m = d.message.clone().unwrap_or_default();
            assert!(m.contains("outside auto scaling's 2–20"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    h.press("<enter>");
    assert_eq!(confirm_lines(&h)[0], "web: desired 12 → 30");
}

#[test]
fn target_health_shows_each_target_with_its_task() {
    let mut h = console();
    h.press("/prod<enter><enter>/checkout<enter>t");
    h.advance(1);
    insta::assert_snapshot!("target_health_of_checkout", h.render());
}

#[test]
fn exec_preflight_names_each_failure() {
    use ecsmon::model::{Container, Task};
    use ecsmon::update::actions::exec_preflight;
    let running = Task {
        arn: "arn:aws:ecs:eu-west-1:1:task/prod/0123456789abcdef".into(),
        last_status: "RUNNING".into(),
        enable_execute_command: true,
        containers: vec![Container {
            name: "app".into(),
            runtime_id: "abc-123".into(),
            exec_agent: Some("RUNNING".into()),
            ..Container::default()
        }],
        ..Task::default()
    };
    assert_eq!(exec_preflight(&running, "app"), Ok(()));
    let cases: Vec<(Task, &str)> = vec![
        (
            Task {
                last_status: "PENDING".into(),
                ..running.clone()
            },
            "needs a RUNNING task",
        ),
        (
            Task {
                enable_execute_command: false,
                ..running.clone()
            },
            "ECS Exec is off",
        ),
        (
            Task {
                containers: vec![Container {
                    exec_agent: Some("PENDING".into()),
                    ..running.containers[0].clone()
                }],
                ..running.clone()
            },
            "ExecuteCommandAgent in app is PENDING",
        ),
        (
            Task {
                containers: vec![Container {
                    exec_agent: None,
                    ..running.containers[0].clone()
                }],
                ..running.clone()
            },
            "no ExecuteCommandAgent",
        ),
    ];
    for (task, expected) in cases {
        let why = exec_preflight(&task, "app").unwrap_err();
        assert!(why.contains(expected), "{why}");
    }
    assert!(
        exec_preflight(&running, "sidecar")
            .unwrap_err()
            .contains("no container sidecar")
    );
}

/// An answer about who we are from before a profile switch must not be shown (or used to
/// confirm an action) under the new one.
#[test]
fn an_identity_from_the_previous_profile_is_ignored() {
    use ecsmon::model::Identity;
    let mut h = payments();
    h.state.aws = Some(ecsmon::source::aws::AwsSettings {
        profile: Some("prod".into()),
        region: Some("eu-west-1".into()),
        endpoint_url: None,
    });
    h.state.identity = Identity::default();
    h.dispatch(Action::IdentityLoaded(Ok(Identity {
        source: "profile staging".into(),
        region: "eu-west-1".into(),
        account: "999999999999".into(),
        principal: "assumed-role/Dev/bob".into(),
    })));
    assert_eq!(h.state.identity.account, "", "stale answer dropped");
    h.dispatch(Action::IdentityLoaded(Ok(Identity {
        source: "profile prod".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        principal: "assumed-role/Admin/alice".into(),
    })));
    assert_eq!(h.state.identity.account, "123456789012");
}

fn redeploy_payments() -> Operation {
    Operation::Redeploy {
        cluster: "prod".into(),
        service: "payments".into(),
        service_arn: "arn:aws:ecs:eu-west-1:123456789012:service/prod/payments".into(),
    }
}

/// Sends `op` through the gate as a confirmation would, but holds its answer: the effects are
/// returned, not carried out, so the change stays under way.
fn send_and_hold(h: &mut Harness, op: Operation) -> Vec<Effect> {
    let effects = gate::send(&mut h.state, op.clone());
    assert!(effects.contains(&Effect::Perform(op)), "{effects:?}");
    effects
}

fn audit_of(effects: &[Effect]) -> Vec<ecsmon::source::audit::AuditRecord> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Audit(r) => Some((**r).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_change_whose_answer_never_came_is_audited_unknown_and_said_so() {
    let mut h = payments();
    let sent = send_and_hold(&mut h, redeploy_payments());
    let requested = audit_of(&sent).pop().unwrap();
    h.dispatch(Action::Performed {
        op: redeploy_payments(),
        result: Err(SourceError::new(
            ErrorKind::OutcomeUnknown,
            "outcome unknown: ecs:UpdateService on service payments in prod was sent but no \
             answer came (no answer from ecs in time); it may or may not have been carried out",
        )),
    });
    let outcome = h.audits().pop().unwrap();
    assert_eq!(outcome.stage, Stage::Unknown);
    assert_eq!(outcome.id, requested.id);
    assert!(
        outcome.result.starts_with("unknown: outcome unknown"),
        "{}",
        outcome.result
    );
    assert!(
        h.status().contains("may or may not have been carried out"),
        "{}",
        h.status()
    );
    assert!(
        !h.status().contains("failed"),
        "not worded as a failure: {}",
        h.status()
    );
}

#[test]
fn the_same_change_is_not_sent_again_while_it_is_under_way() {
    let mut h = payments();
    h.press("R");
    let op = match h.state.popups.last() {
        Some(Popup::Confirm { op, .. }) => op.clone(),
        other => panic!("{other:?}"),
    };
    // Confirmed, but the answer is held.
    let held = gate::confirmed(&mut h.state);
    assert!(held.contains(&Effect::Perform(op.clone())));
    h.press("R");
    assert!(
        h.state.popups.is_empty(),
        "not even asked: {:?}",
        h.state.popups
    );
    assert!(h.status().contains("already under way"), "{}", h.status());
    assert!(performed(&h).is_empty(), "nothing sent twice");
    // Once answered it can be asked for again.
    h.dispatch(Action::Performed {
        op,
        result: Ok("payments: new deployment started".into()),
    });
    h.press("R");
    assert!(matches!(h.state.popups.last(), Some(Popup::Confirm { .. })));
}

#[test]
fn quitting_with_a_change_under_way_waits_then_audits_it_unknown_and_says_how_to_check() {
    let mut h = payments();
    let sent = send_and_hold(&mut h, redeploy_payments());
    let requested = audit_of(&sent).pop().unwrap();
    assert_eq!(requested.stage, Stage::Requested);
    h.press("q");
    assert!(h.state.should_quit);
    assert!(!h.state.may_exit(), "waits for the answer");
    assert!(
        h.effects
            .contains(&Effect::WaitToQuit(std::time::Duration::from_secs(5))),
        "a 5 s wait"
    );
    assert!(
        h.status()
            .starts_with("quitting: waiting up to 5 s for the answer to payments: force a new"),
        "{}",
        h.status()
    );
    // Nothing new is sent on the way out.
    h.press("<esc>");
    h.press("Ry");
    assert!(performed(&h).is_empty());
    assert_eq!(h.audits().len(), 0);

    h.dispatch(Action::QuitWaitOver);
    assert!(h.state.may_exit());
    let audit = h.audits();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].stage, Stage::Unknown);
    assert_eq!(audit[0].id, requested.id);
    assert_eq!(
        audit[0].result,
        "unknown: no answer within 5 s before ecsmon quit"
    );
    let said = &h.state.in_flight.unanswered;
    assert_eq!(said.len(), 1);
    assert!(
        said[0].contains("payments: force a new deployment"),
        "{said:?}"
    );
    assert!(
        said[0].contains("may or may not have been carried out"),
        "{said:?}"
    );
    assert!(
        said[0].contains(
            "aws ecs describe-services --cluster prod --services payments --region eu-west-1"
        ),
        "{said:?}"
    );
}

#[test]
fn quitting_ends_as_soon_as_the_answer_comes() {
    let mut h = payments();
    send_and_hold(&mut h, redeploy_payments());
    h.dispatch(Action::Quit);
    assert!(!h.state.may_exit());
    h.dispatch(Action::Performed {
        op: redeploy_payments(),
        result: Ok("payments: new deployment started".into()),
    });
    assert!(h.state.may_exit());
    let audit = h.audits();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].stage, Stage::Done);
    // The timer going off later changes nothing.
    h.dispatch(Action::QuitWaitOver);
    assert_eq!(h.audits().len(), 1);
    assert!(h.state.in_flight.unanswered.is_empty());
}

#[test]
fn quitting_with_nothing_under_way_does_not_wait() {
    let mut h = payments();
    h.press("Ry");
    h.press("q");
    assert!(h.state.may_exit());
    assert!(!h.effects.iter().any(|e| matches!(e, Effect::WaitToQuit(_))));
}

#[test]
fn a_shell_ready_after_quitting_is_not_opened() {
    let mut h = payments();
    let op = Operation::InstanceShell {
        cluster: "prod".into(),
        ec2_instance_id: "i-0123".into(),
    };
    let effects = gate::send(&mut h.state, op.clone());
    assert!(effects.contains(&Effect::OpenSession(op.clone())));
    h.dispatch(Action::Quit);
    let handoff = ecsmon::model::SessionHandoff {
        session_json: "{}".into(),
        region: "eu-west-1".into(),
        target_json: "{}".into(),
        endpoint: "https://ssm.eu-west-1.amazonaws.com".into(),
        profile: None,
    };
    h.dispatch(Action::SessionReady {
        op,
        result: Ok(handoff),
    });
    assert!(
        !h.effects
            .iter()
            .any(|e| matches!(e, Effect::HandOff { .. }))
    );
    assert!(h.state.may_exit());
    let audit = h.audits();
    assert_eq!(audit.last().unwrap().stage, Stage::Failed);
}

#[test]
fn a_session_whose_opening_got_no_answer_is_audited_unknown() {
    let mut h = payments();
    let op = Operation::InstanceShell {
        cluster: "prod".into(),
        ec2_instance_id: "i-0123".into(),
    };
    let requested = audit_of(&gate::send(&mut h.state, op.clone()))
        .pop()
        .unwrap();
    let why = format!(
        "{} — check with: aws ssm describe-sessions --state Active (ssm:StartSession on \
         instance i-0123 was sent, but no answer came in time: …)",
        ecsmon::source::OUTCOME_UNKNOWN
    );
    h.dispatch(Action::SessionReady {
        op,
        result: Err(why),
    });
    let outcome = h.audits().pop().unwrap();
    assert_eq!(outcome.stage, Stage::Unknown, "{outcome:?}");
    assert_eq!(outcome.id, requested.id);
}

fn scale_text(h: &Harness) -> String {
    match h.state.popups.last() {
        Some(Popup::Scale(d)) => d.editor.text.clone(),
        other => panic!("expected the scale dialog, got {other:?}"),
    }
}

/// Issue 14: typing `7` over the current count gave `47`.
#[test]
fn typing_over_the_current_count_replaces_it() {
    let mut h = payments();
    h.press("s");
    assert_eq!(scale_text(&h), "6");
    assert!(
        h.shown_selected_after("new desired count: "),
        "the count is shown selected"
    );
    h.press("7");
    assert_eq!(scale_text(&h), "7", "replaced, not 67");
    assert!(!h.shown_selected_after("new desired count: "));
    h.press("<enter>");
    assert_eq!(confirm_lines(&h)[0], "payments: desired 6 → 7");
    // A paste replaces it too.
    h.press("n");
    h.press("s");
    h.dispatch(Action::Paste("12".into()));
    assert_eq!(scale_text(&h), "12");
}

#[test]
fn backspace_and_arrows_edit_the_prefilled_count() {
    let mut h = payments();
    // Backspace edits the count as it stands (6 → nothing; 40 would be 4: see LineEditor).
    h.press("s<bs>");
    assert_eq!(scale_text(&h), "", "backspace deleted the 6");
    assert!(!h.shown_selected_after("new desired count: "));
    h.press("8");
    assert_eq!(scale_text(&h), "8");
    for (keys, expected) in [("<home>1", "16"), ("<end>0", "60"), ("<end><bs>9", "9")] {
        h.press("<esc>s");
        h.press(keys);
        assert_eq!(scale_text(&h), expected, "{keys}");
    }
}

/// Keys typed before a confirmation was on screen (R then y, a repeated enter) never answer
/// it; esc and n typed ahead still cancel.
#[test]
fn keys_typed_before_the_confirmation_was_drawn_never_answer_it() {
    let mut h = payments();
    h.press_ahead("Ry");
    assert!(performed(&h).is_empty(), "y typed ahead confirmed it");
    assert!(matches!(h.state.popups.last(), Some(Popup::Confirm { .. })));
    // Now it is on the screen: the next y answers it.
    h.press_ahead("y");
    assert_eq!(performed(&h).len(), 1);
    // A repeated enter: the first submits the scale dialog, the second was not meant for the
    // confirmation that the first opened.
    let mut h = payments();
    h.press("s7");
    h.press_ahead("<enter><enter>");
    assert_eq!(confirm_lines(&h)[0], "payments: desired 6 → 7");
    assert!(performed(&h).is_empty(), "the second enter confirmed it");
    h.press("<enter>");
    assert!(matches!(
        performed(&h).as_slice(),
        [Operation::Scale { to: 7, .. }]
    ));
    // Cancelling ahead is safe, and does.
    let mut h = payments();
    h.press_ahead("R<esc>");
    assert!(h.state.popups.is_empty());
    assert!(performed(&h).is_empty());
}

fn sessions(h: &Harness) -> Vec<Operation> {
    h.effects
        .iter()
        .filter_map(|e| match e {
            Effect::OpenSession(op) => Some(op.clone()),
            _ => None,
        })
        .collect()
}

/// One key into a container: no confirmation, the session is asked for at once, and audited.
#[test]
fn s_on_a_single_container_task_opens_the_shell_at_once() {
    let mut h = console();
    h.press("/prod<enter><enter>/catalog<enter><enter>s");
    assert!(h.state.popups.is_empty(), "{:?}", h.state.popups);
    match sessions(&h).as_slice() {
        [Operation::Exec { container, .. }] => assert_eq!(container, "catalog"),
        other => panic!("{other:?} / {}", h.status()),
    }
    let audit = h.audits();
    assert!(
        !audit.is_empty() && audit.iter().all(|r| r.action == "exec"),
        "{audit:?}"
    );
}

#[test]
fn the_container_picker_remembers_the_last_pick_per_service() {
    let mut h = payments();
    h.press("<enter>s");
    let picked = |h: &Harness| match h.state.popups.last() {
        Some(Popup::Picker {
            items, selected, ..
        }) => items[*selected].clone(),
        other => panic!("expected the container picker, got {other:?}"),
    };
    assert_eq!(picked(&h), "payments", "the first container first");
    h.press("j<enter>");
    match sessions(&h).as_slice() {
        [Operation::Exec { container, .. }] => assert_eq!(container, "datadog-agent"),
        other => panic!("{other:?}"),
    }
    assert!(h.state.popups.is_empty(), "no confirmation after the pick");
    // Another task of the same service: the last pick is offered first.
    h.press("js");
    assert_eq!(picked(&h), "datadog-agent");
    h.press("<enter>");
    assert_eq!(sessions(&h).len(), 2);
    // Another service has its own.
    h.press("<esc><esc>/ledger<enter><enter>s");
    assert_eq!(picked(&h), "ledger");
}

#[test]
fn confirm_exec_brings_the_confirmation_back() {
    let mut h = console();
    h.state.confirm_exec = true;
    h.press("/prod<enter><enter>/catalog<enter><enter>s");
    let lines = confirm_lines(&h);
    assert!(
        lines[0].starts_with("run /bin/sh in catalog of task"),
        "{lines:?}"
    );
    assert!(sessions(&h).is_empty());
    h.press("y");
    assert_eq!(sessions(&h).len(), 1);
}

#[test]
fn read_only_refuses_a_shell_without_sending_anything() {
    let mut h = console();
    h.state.read_only = true;
    h.press("/prod<enter><enter>/catalog<enter><enter>s");
    h.press(":instances<enter>s");
    assert!(sessions(&h).is_empty(), "nothing may leave the process");
    assert!(h.state.popups.is_empty());
    assert!(
        h.status().contains("read-only mode is on"),
        "{}",
        h.status()
    );
    let audit = h.audits();
    let results: Vec<(&str, &str)> = audit
        .iter()
        .map(|r| (r.action, r.result.as_str()))
        .collect();
    assert_eq!(
        results,
        [
            ("exec", "refused: read-only"),
            ("instance-shell", "refused: read-only")
        ]
    );
}

#[test]
fn s_on_a_container_instance_opens_its_shell_at_once() {
    let mut h = console();
    h.press("/prod<enter>:instances<enter>s");
    assert!(h.state.popups.is_empty(), "{:?}", h.state.popups);
    assert!(matches!(
        sessions(&h).as_slice(),
        [Operation::InstanceShell { .. }]
    ));
    // Drain keeps its confirmation.
    h.press("D");
    assert!(confirm_lines(&h)[0].contains("DRAINING"));
}
