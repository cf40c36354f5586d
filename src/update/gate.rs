//! The action gate: the one way a mutating request leaves the console. Under `--read-only` it
//! refuses (nothing is sent, the refusal is audited); otherwise it shows exactly what will
//! change, in which account and region, and waits for `y`/Enter. A confirmed change is audited
//! `requested` before it is sent and again with its outcome, under one id; quitting while one
//! is under way waits for its answer a little, then audits it `unknown` and says how to check.

use std::time::Duration;

use crate::action::Effect;
use crate::model::{Identity, Operation};
use crate::source::audit::{AuditRecord, Stage};
use crate::source::{ErrorKind, OUTCOME_UNKNOWN, SourceError};
use crate::state::{Level, Popup, Sent, State};

/// How long quitting waits for the answers of changes under way.
pub const QUIT_GRACE: Duration = Duration::from_secs(5);

/// Who the operator is acting as now: the identity and profile shown.
fn acting_as(state: &State) -> (Identity, Option<String>) {
    let profile = state.aws.as_ref().and_then(|a| a.profile.clone());
    (state.identity.clone(), profile)
}

/// One audit line. Outcomes (and refusals) also go on the incident timeline, next to what they
/// caused; the `requested` line does not (its outcome follows within seconds).
fn record(
    state: &mut State,
    (id, stage): (String, Stage),
    op: &Operation,
    result: String,
    (identity, profile): (&Identity, Option<String>),
) -> Effect {
    if stage != Stage::Requested {
        let (cluster, service) = op_scope(state, op);
        let now = state.now;
        state.triage.timeline.operator(
            now,
            cluster,
            service,
            format!("{} — {result}", op.summary()),
        );
    }
    Effect::Audit(Box::new(AuditRecord::new(
        (id, stage),
        state.now,
        (identity, profile),
        op,
        result,
    )))
}

/// The cluster and service an operation is about, for the timeline's service filter.
fn op_scope(state: &State, op: &Operation) -> (Option<String>, Option<String>) {
    let target = op.target();
    if let Some((cluster, service)) = super::triage::service_of_arn(state, target) {
        return (Some(cluster), Some(service));
    }
    let cluster = crate::model::arn::cluster_in(target).map(str::to_string);
    let (running, stopped) = state.fleet.all_tasks();
    let service = running
        .into_iter()
        .chain(stopped)
        .find(|t| t.arn == target)
        .and_then(|t| t.service_name().map(str::to_string));
    (cluster, service)
}

/// The outcome's audit line, paired with the `requested` one and under the identity confirmed
/// with (a region or profile switch while the call was under way must not change whose action
/// it was).
fn audit_outcome(state: &mut State, op: &Operation, stage: Stage, result: String) -> Effect {
    let sent = state.in_flight.answered(op).unwrap_or_else(|| {
        // Not sent through `send` (cannot happen today): still one line, with an id of its own.
        let (identity, profile) = acting_as(state);
        Sent {
            id: state.in_flight.next_id(),
            op: op.clone(),
            identity,
            profile,
        }
    });
    record(
        state,
        (sent.id, stage),
        op,
        result,
        (&sent.identity, sent.profile),
    )
}

/// Asks for an operation: refused under read-only, else confirmed first.
pub fn request(state: &mut State, op: Operation) -> Vec<Effect> {
    if let Some(why) = not_now(state, &op) {
        state.set_status(Level::Warn, why);
        return vec![];
    }
    if state.read_only {
        state.set_status(
            Level::Warn,
            format!(
                "read-only mode is on (--read-only): {} was not sent",
                op.summary()
            ),
        );
        let id = state.in_flight.next_id();
        let (identity, profile) = acting_as(state);
        return vec![record(
            state,
            (id, Stage::Refused),
            &op,
            "refused: read-only".into(),
            (&identity, profile),
        )];
    }
    let id = &state.identity;
    let mut lines = vec![
        op.summary(),
        String::new(),
        format!("account  {}", or_unknown(&id.account)),
        format!("region   {}", or_unknown(&id.region)),
        format!("as       {}", or_unknown(&id.principal)),
    ];
    if op.is_session() {
        lines.push(String::new());
        lines.push("The terminal goes to session-manager-plugin until you exit the shell.".into());
    }
    if op.is_forward() {
        lines.push(String::new());
        lines
            .push("It runs in the background until you stop it (:forwards) or quit ecsmon.".into());
    }
    lines.push(String::new());
    lines.push("y or enter: do it    n or esc: cancel".into());
    state.popups.push(Popup::Confirm {
        op,
        lines,
        scroll: 0,
        drawn: false,
    });
    vec![]
}

/// Asks for an operation that changes nothing in the fleet (a shell) without a confirmation:
/// through [`request`] and [`confirmed`] as if `y` had been pressed, so the read-only refusal
/// and the audit are the same as for a confirmed one.
pub fn request_unconfirmed(state: &mut State, op: Operation) -> Vec<Effect> {
    let before = state.popups.len();
    let mut effects = request(state, op);
    if state.popups.len() > before {
        effects.extend(confirmed(state));
    }
    effects
}

/// Why `op` cannot be sent now, if it cannot: ecsmon is quitting, or the very same change is
/// still under way (sending it again would do it twice: a second deployment, a second stop).
fn not_now(state: &State, op: &Operation) -> Option<String> {
    if state.should_quit {
        return Some(format!("quitting: {} was not sent", op.summary()));
    }
    state.in_flight.is_under_way(op).then(|| {
        format!(
            "{} is already under way: waiting for its answer (not sent twice)",
            op.summary()
        )
    })
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "(unknown yet)" } else { s }
}

/// `y`/Enter on the confirmation.
pub fn confirmed(state: &mut State) -> Vec<Effect> {
    let Some(Popup::Confirm { op, .. }) = state.popups.pop() else {
        return vec![];
    };
    send(state, op)
}

/// Sends a change the operator has agreed to: audited `requested` first (the runtime writes
/// the line before it starts the request that follows it), then carried out.
pub fn send(state: &mut State, op: Operation) -> Vec<Effect> {
    if let Some(why) = not_now(state, &op) {
        state.set_status(Level::Warn, why);
        return vec![];
    }
    state.set_status(Level::Info, format!("{}…", op.summary()));
    let (identity, profile) = acting_as(state);
    let id = state.in_flight.next_id();
    let requested = record(
        state,
        (id.clone(), Stage::Requested),
        &op,
        "requested".into(),
        (&identity, profile.clone()),
    );
    state.in_flight.sent.push(Sent {
        id,
        op: op.clone(),
        identity,
        profile,
    });
    let mut effects = vec![requested];
    if op.is_forward() {
        effects.extend(super::forwards::start(state, op));
    } else if op.is_session() {
        effects.push(Effect::OpenSession(op));
    } else {
        effects.push(Effect::Perform(op));
    }
    effects
}

/// `n`/Esc on the confirmation: nothing is sent (and nothing to audit: nothing happened).
pub fn cancelled(state: &mut State) {
    if let Some(Popup::Confirm { op, .. }) = state.popups.pop() {
        state.set_status(Level::Info, format!("cancelled: {}", op.summary()));
    }
}

/// The outcome of a performed operation: said, audited, and the affected pane refreshed.
pub fn performed(
    state: &mut State,
    op: Operation,
    result: Result<String, SourceError>,
) -> Vec<Effect> {
    let (stage, outcome) = match &result {
        Ok(done) => {
            state.set_status(Level::Info, done.clone());
            (Stage::Done, format!("ok: {done}"))
        }
        Err(e) if e.kind == ErrorKind::OutcomeUnknown => {
            state.set_status(Level::Error, format!("{}: {}", op.verb(), e.message));
            (Stage::Unknown, format!("unknown: {}", e.message))
        }
        Err(e) => {
            state.set_status(Level::Error, format!("{} failed: {}", op.verb(), e.message));
            (Stage::Failed, format!("failed: {}", e.message))
        }
    };
    let mut effects = vec![audit_outcome(state, &op, stage, outcome)];
    // See the change at once: refresh what the focused pane shows (not on the way out).
    if !state.should_quit {
        let query = state.focused().pane.query();
        state.fleet.want_fresh(&query, state.now);
        effects.push(state.polls.force(query, state.now));
    }
    effects
}

/// A session could not be opened, or ended: said and audited.
pub fn session_result(
    state: &mut State,
    op: Operation,
    result: Result<String, String>,
) -> Vec<Effect> {
    let (stage, outcome) = match result {
        Ok(done) => {
            state.set_status(Level::Info, done.clone());
            (Stage::Done, format!("ok: {done}"))
        }
        // ExecuteCommand or StartSession sent, no answer: a session may exist on AWS's side.
        Err(why) if why.starts_with(OUTCOME_UNKNOWN) => {
            state.set_status(Level::Error, why.clone());
            (Stage::Unknown, format!("unknown: {why}"))
        }
        Err(why) => {
            state.set_status(Level::Error, why.clone());
            (Stage::Failed, format!("failed: {why}"))
        }
    };
    vec![audit_outcome(state, &op, stage, outcome)]
}

/// The operator asked to quit (a key, `:q`, a signal). With changes under way, the console
/// waits up to [`QUIT_GRACE`] for their answers first, and says so.
pub fn quitting(state: &mut State) -> Vec<Effect> {
    if state.in_flight.sent.is_empty() || state.in_flight.waiting_to_quit {
        return vec![];
    }
    state.in_flight.waiting_to_quit = true;
    let what: Vec<String> = state
        .in_flight
        .sent
        .iter()
        .map(|s| s.op.summary())
        .collect();
    state.set_status(
        Level::Warn,
        format!(
            "quitting: waiting up to {} s for the answer to {}",
            QUIT_GRACE.as_secs(),
            what.join("; ")
        ),
    );
    vec![Effect::WaitToQuit(QUIT_GRACE)]
}

/// The wait is over: every change still unanswered is audited `unknown`, and what to check is
/// kept to be said once the terminal is restored.
pub fn quit_wait_over(state: &mut State) -> Vec<Effect> {
    let waited = QUIT_GRACE.as_secs();
    let unanswered = std::mem::take(&mut state.in_flight.sent);
    let mut effects = Vec::with_capacity(unanswered.len());
    for sent in unanswered {
        let region = sent.identity.region.clone();
        let check = sent.op.how_to_check(&region, sent.profile.as_deref());
        state.in_flight.unanswered.push(format!(
            "ecsmon: {} was sent, but no answer came within {waited} s before quitting: it may \
             or may not have been carried out. Check with: {check}",
            sent.op.summary()
        ));
        effects.push(record(
            state,
            (sent.id, Stage::Unknown),
            &sent.op,
            format!("unknown: no answer within {waited} s before ecsmon quit"),
            (&sent.identity, sent.profile),
        ));
    }
    effects
}
