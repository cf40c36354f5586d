//! The action gate: the one way a mutating request leaves the console. Under `--read-only` it
//! refuses (nothing is sent, the refusal is audited); otherwise it shows exactly what will
//! change, in which account and region, and waits for `y`/Enter; every outcome is audited.

use crate::action::Effect;
use crate::model::{Identity, Operation};
use crate::source::SourceError;
use crate::source::audit::AuditRecord;
use crate::state::{Level, Popup, State};

/// Who the operator was acting as: the identity and profile shown when it was asked for.
fn acting_as(state: &State) -> (Identity, Option<String>) {
    let profile = state.aws.as_ref().and_then(|a| a.profile.clone());
    (state.identity.clone(), profile)
}

fn audit(state: &mut State, op: &Operation, result: String) -> Effect {
    let (identity, profile) = acting_as(state);
    record(state, op, result, &identity, profile)
}

fn record(
    state: &mut State,
    op: &Operation,
    result: String,
    identity: &Identity,
    profile: Option<String>,
) -> Effect {
    // The operator's own actions belong on the incident timeline, next to what they caused.
    let (cluster, service) = op_scope(state, op);
    let now = state.now;
    state.triage.timeline.operator(
        now,
        cluster,
        service,
        format!("{} — {result}", op.summary()),
    );
    Effect::Audit(Box::new(AuditRecord::new(
        state.now, identity, profile, op, result,
    )))
}

/// The cluster and service an operation is about, for the timeline's service filter.
fn op_scope(state: &State, op: &Operation) -> (Option<String>, Option<String>) {
    let target = op.target();
    if let Some((cluster, service)) = super::triage::service_of_arn(state, target) {
        return (Some(cluster), Some(service));
    }
    let cluster = target
        .split_once(":task/")
        .or_else(|| target.split_once(":container-instance/"))
        .and_then(|(_, rest)| rest.split('/').next())
        .map(str::to_string);
    let (running, stopped) = state.fleet.all_tasks();
    let service = running
        .into_iter()
        .chain(stopped)
        .find(|t| t.arn == target)
        .and_then(|t| t.service_name().map(str::to_string));
    (cluster, service)
}

/// The outcome's audit line, under the identity confirmed with (a region or profile switch
/// while the call was under way must not change whose action it was).
fn audit_outcome(state: &mut State, op: &Operation, result: String) -> Effect {
    let who = state
        .in_progress
        .iter()
        .position(|(o, _)| o == op)
        .map(|i| state.in_progress.remove(i).1);
    let (identity, profile) = who.unwrap_or_else(|| acting_as(state));
    record(state, op, result, &identity, profile)
}

/// Asks for an operation: refused under read-only, else confirmed first.
pub fn request(state: &mut State, op: Operation) -> Vec<Effect> {
    if state.read_only {
        state.set_status(
            Level::Warn,
            format!(
                "read-only mode is on (--read-only): {} was not sent",
                op.summary()
            ),
        );
        return vec![audit(state, &op, "refused: read-only".into())];
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

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "(unknown yet)" } else { s }
}

/// `y`/Enter on the confirmation.
pub fn confirmed(state: &mut State) -> Vec<Effect> {
    let Some(Popup::Confirm { op, .. }) = state.popups.pop() else {
        return vec![];
    };
    state.set_status(Level::Info, format!("{}…", op.summary()));
    let who = acting_as(state);
    state.in_progress.push((op.clone(), who));
    if op.is_forward() {
        return super::forwards::start(state, op);
    }
    if op.is_session() {
        vec![Effect::OpenSession(op)]
    } else {
        vec![Effect::Perform(op)]
    }
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
    let outcome = match &result {
        Ok(done) => {
            state.set_status(Level::Info, done.clone());
            format!("ok: {done}")
        }
        Err(e) => {
            state.set_status(Level::Error, format!("{} failed: {}", op.verb(), e.message));
            format!("failed: {}", e.message)
        }
    };
    let mut effects = vec![audit_outcome(state, &op, outcome)];
    // See the change at once: refresh what the focused pane shows.
    let query = state.focused().pane.query();
    effects.push(state.polls.force(query, state.now));
    effects
}

/// A session could not be opened, or ended: said and audited.
pub fn session_result(
    state: &mut State,
    op: Operation,
    result: Result<String, String>,
) -> Vec<Effect> {
    let outcome = match result {
        Ok(done) => {
            state.set_status(Level::Info, done.clone());
            format!("ok: {done}")
        }
        Err(why) => {
            state.set_status(Level::Error, why.clone());
            format!("failed: {why}")
        }
    };
    vec![audit_outcome(state, &op, outcome)]
}
