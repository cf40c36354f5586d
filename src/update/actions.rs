//! Operator actions from the keys: scale (`s` on a service), redeploy (`R`), stop a task (`x`),
//! drain or activate an instance (`D`), ECS Exec (`s` on a task or container), a shell on an
//! instance (`s`), target health (`t`). Each builds an [`Operation`] and hands it to the gate;
//! the checks an operator would otherwise learn from a failed call come first.

use chrono::TimeDelta;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::action::Effect;
use crate::keymap::Command;
use crate::model::{Operation, Task, metric_catalog::cluster_of};
use crate::screen::panes::{self, Items};
use crate::state::{
    Level, LineEditor, Pane, PickerKind, Popup, ScaleDialog, State, TargetHealthView, parse_desired,
};

use super::gate;

/// What the scale dialog takes, typed or pasted: a count is never longer.
const MAX_TYPED: usize = 64;

/// Target health refreshes this often while it is open.
const HEALTH_EVERY: TimeDelta = TimeDelta::seconds(5);

/// The selected row's item, by pane kind.
fn selected<'a, T>(state: &'a State, pick: impl Fn(Items<'a>) -> Option<&'a [T]>) -> Option<&'a T> {
    let view = state.focused();
    let i = view.selected_item()?;
    pick(panes::items(&view.pane, &state.fleet))?.get(i)
}

pub(super) fn selected_task(state: &State) -> Option<Task> {
    if let Pane::Containers { .. } = &state.focused().pane {
        return state
            .fleet
            .tasks(&state.focused().pane.query())
            .first()
            .cloned();
    }
    selected(state, |items| match items {
        Items::Tasks(v, ..) => Some(v),
        _ => None,
    })
    .cloned()
}

/// A row listed but not described yet (a service, task or container instance of a big pane):
/// its counts and settings are unknown, so nothing is done from them (a scale dialog would
/// offer 0 as the current count, a stop would not know the task's state). Says so.
pub fn still_loading(state: &mut State, row: &impl crate::model::Listed, name: &str) -> bool {
    if row.loading() {
        state.set_status(
            Level::Info,
            format!("the details of {name} are still loading: a moment"),
        );
    }
    row.loading()
}

/// [`still_loading`] for a task, named as the tables show it.
pub fn task_still_loading(state: &mut State, task: &Task) -> bool {
    still_loading(state, task, &format!("task {}", task.short_id()))
}

/// `s`: scale a service, shell into a task's container, or a shell on an instance.
pub fn shell_or_scale(state: &mut State) -> Vec<Effect> {
    match state.focused().pane.kind() {
        crate::state::PaneKind::Services => scale(state),
        crate::state::PaneKind::Instances => instance_shell(state),
        _ => exec(state),
    }
}

fn scale(state: &mut State) -> Vec<Effect> {
    let Some(s) = selected(state, |items| match items {
        Items::Services(v) => Some(v),
        _ => None,
    }) else {
        state.set_status(Level::Info, "select a service to scale");
        return vec![];
    };
    let s = s.clone();
    if still_loading(state, &s, &s.name) {
        return vec![];
    }
    let dialog = ScaleDialog {
        cluster: cluster_of(&s.cluster_arn).to_string(),
        service: s.name.clone(),
        service_arn: s.arn.clone(),
        desired: s.desired,
        running: s.running,
        pending: s.pending,
        bounds: None,
        // Selected: typing `7` gives 7, not 47.
        editor: LineEditor::prefilled(&s.desired.to_string()),
        message: None,
        warned_for: None,
        zero_check: None,
        scroll: 0,
    };
    let effect = Effect::FetchScalingBounds {
        cluster: dialog.cluster.clone(),
        service: dialog.service.clone(),
        service_arn: dialog.service_arn.clone(),
    };
    state.popups.push(Popup::Scale(dialog));
    vec![effect]
}

/// Keys in the scale dialog: it takes every key (letters included, so they can be refused
/// with a message rather than run as commands).
/// The scale dialog's own keys (`[[scale_dialog]]`): enter sets, esc cancels.
pub fn scale_command(state: &mut State, command: Command) -> Vec<Effect> {
    match command {
        Command::Back => {
            state.popups.pop();
            state.set_status(Level::Info, "scale cancelled: nothing was sent");
            vec![]
        }
        Command::Enter => submit_scale(state),
        _ => vec![],
    }
}

/// A key typed into the scale dialog's field.
pub fn scale_typed(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(Popup::Scale(dialog)) = state.popups.last_mut() else {
        return vec![];
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let editor = dialog.zero_check.as_mut().unwrap_or(&mut dialog.editor);
    match key.code {
        // A 10,000-character paste stays a short line: the count is never that long.
        KeyCode::Char(_)
            if !ctrl && !editor.selected && editor.text.chars().count() >= MAX_TYPED => {}
        code => {
            super::prompt::edit(editor, code, ctrl);
        }
    }
    vec![]
}

/// Pasted text in the scale dialog: its first line, cut short. Like typing, never beyond 64
/// characters in all: repeated pastes would otherwise fill the dialog and push out the message
/// that says why the count was refused.
pub fn scale_paste(state: &mut State, text: &str) -> bool {
    let Some(Popup::Scale(dialog)) = state.popups.last_mut() else {
        return false;
    };
    let editor = dialog.zero_check.as_mut().unwrap_or(&mut dialog.editor);
    // A selection is replaced: all of the room is free.
    let kept = if editor.selected {
        0
    } else {
        editor.text.chars().count()
    };
    let room = MAX_TYPED.saturating_sub(kept);
    let first: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(room)
        .collect();
    editor.insert_str(&first);
    true
}

fn submit_scale(state: &mut State) -> Vec<Effect> {
    let Some(Popup::Scale(dialog)) = state.popups.last_mut() else {
        return vec![];
    };
    let to = match parse_desired(&dialog.editor.text) {
        Ok(n) => n,
        Err(why) => {
            dialog.message = Some(why);
            return vec![];
        }
    };
    // Unknown bounds (still loading, or unreadable) are said, not silently passed over.
    if !matches!(dialog.bounds, Some(Ok(_))) && dialog.warned_for != Some(to) {
        dialog.message = Some(match &dialog.bounds {
            Some(Err(e)) => format!(
                "auto scaling bounds unknown ({}): auto scaling may move the count back. \
                 Enter again to set {to} anyway",
                e.message
            ),
            _ => format!(
                "still reading the auto scaling bounds: Enter again to set {to} without them"
            ),
        });
        dialog.warned_for = Some(to);
        return vec![];
    }
    if let Some(Ok(Some(bounds))) = &dialog.bounds
        && (to < bounds.min || to > bounds.max)
        && dialog.warned_for != Some(to)
    {
        dialog.message = Some(format!(
            "{to} is outside auto scaling's {}–{}: it will move the count back{}. \
             Enter again to set it anyway",
            bounds.min,
            bounds.max,
            if bounds.suspended {
                " once scaling is resumed"
            } else {
                ""
            }
        ));
        dialog.warned_for = Some(to);
        return vec![];
    }
    if to == 0 {
        match &dialog.zero_check {
            None => {
                dialog.zero_check = Some(LineEditor::default());
                dialog.message = Some(format!(
                    "scaling to 0 stops every task: type {} and Enter to confirm",
                    dialog.service
                ));
                return vec![];
            }
            Some(typed) if typed.text.trim() != dialog.service => {
                dialog.message = Some(format!(
                    "that is not {}: type the service name exactly",
                    dialog.service
                ));
                return vec![];
            }
            Some(_) => {}
        }
    }
    let op = Operation::Scale {
        cluster: dialog.cluster.clone(),
        service: dialog.service.clone(),
        service_arn: dialog.service_arn.clone(),
        from: dialog.desired,
        to,
    };
    state.popups.pop();
    gate::request(state, op)
}

pub fn scaling_loaded(
    state: &mut State,
    service_arn: &str,
    result: Result<Option<crate::model::ScalingBounds>, crate::source::SourceError>,
) {
    for popup in &mut state.popups {
        if let Popup::Scale(d) = popup
            && d.service_arn == service_arn
        {
            d.bounds = Some(result.clone());
        }
    }
}

/// `R`: force a new deployment.
pub fn redeploy(state: &mut State) -> Vec<Effect> {
    let Some(s) = selected(state, |items| match items {
        Items::Services(v) => Some(v),
        _ => None,
    }) else {
        state.set_status(Level::Info, "select a service to redeploy");
        return vec![];
    };
    let op = Operation::Redeploy {
        cluster: cluster_of(&s.cluster_arn).to_string(),
        service: s.name.clone(),
        service_arn: s.arn.clone(),
    };
    gate::request(state, op)
}

/// `x`: stop the selected task, with a reason that says who asked.
pub fn stop_task(state: &mut State) -> Vec<Effect> {
    let Some(task) = selected_task(state) else {
        state.set_status(Level::Info, "select a task to stop");
        return vec![];
    };
    if task_still_loading(state, &task) {
        return vec![];
    }
    if task.is_stopped() || task.desired_status == "STOPPED" {
        state.set_status(
            Level::Info,
            format!("task {} is already stopping", task.short_id()),
        );
        return vec![];
    }
    let who = if state.identity.principal.is_empty() {
        "an operator".to_string()
    } else {
        state.identity.principal.clone()
    };
    let op = Operation::StopTask {
        cluster: cluster_of(&task.cluster_arn).to_string(),
        task_arn: task.arn.to_string(),
        reason: format!("Stopped by ecsmon ({who})"),
    };
    gate::request(state, op)
}

/// `D`: drain an active instance, or activate a draining one.
pub fn drain(state: &mut State) -> Vec<Effect> {
    let Some(i) = selected(state, |items| match items {
        Items::Instances(v) => Some(v),
        _ => None,
    }) else {
        state.set_status(
            Level::Info,
            "select a container instance to drain or activate",
        );
        return vec![];
    };
    let i = i.clone();
    if still_loading(state, &i, &instance_name(&i)) {
        return vec![];
    }
    let op = Operation::SetInstanceState {
        cluster: cluster_of(&i.cluster_arn).to_string(),
        instance_arn: i.arn.clone(),
        ec2_instance_id: i.ec2_instance_id.clone(),
        draining: i.status != "DRAINING",
    };
    gate::request(state, op)
}

fn instance_shell(state: &mut State) -> Vec<Effect> {
    let Some(i) = selected(state, |items| match items {
        Items::Instances(v) => Some(v),
        _ => None,
    }) else {
        return vec![];
    };
    let i = i.clone();
    if still_loading(state, &i, &instance_name(&i)) {
        return vec![];
    }
    if i.ec2_instance_id.is_empty() {
        state.set_status(
            Level::Warn,
            "this container instance has no EC2 instance id",
        );
        return vec![];
    }
    let op = Operation::InstanceShell {
        cluster: cluster_of(&i.cluster_arn).to_string(),
        ec2_instance_id: i.ec2_instance_id.clone(),
    };
    open_shell(state, op)
}

/// A container instance as messages name it: its EC2 id, or its own id (from its ARN) while
/// its details have not come.
fn instance_name(i: &crate::model::Instance) -> String {
    if i.ec2_instance_id.is_empty() {
        format!("container instance {}", crate::model::arn::tail(&i.arn))
    } else {
        format!("instance {}", i.ec2_instance_id)
    }
}

/// A shell opens at once: it changes nothing in the fleet ("one key into a container").
/// `confirm_exec = true` asks first. Read-only and the audit apply either way (the gate).
fn open_shell(state: &mut State, op: Operation) -> Vec<Effect> {
    if state.confirm_exec {
        gate::request(state, op)
    } else {
        gate::request_unconfirmed(state, op)
    }
}

/// Whose container choice a task shares: its service's (else its task family's), per cluster.
fn pick_key(task: &Task) -> (String, String) {
    let group = if task.group.is_empty() {
        format!("family:{}", task.task_definition.family)
    } else {
        task.group.to_string()
    };
    (cluster_of(&task.cluster_arn).to_string(), group)
}

/// Why ECS Exec into this container would fail, checked from what the console already knows
/// (amazon-ecs-exec-checker's list; the plugin and read-only root are checked when the session
/// is opened).
pub fn exec_preflight(task: &Task, container: &str) -> Result<(), String> {
    task_preflight(task)?;
    container_preflight(task, container)
}

/// The task-level half: checked before asking which container.
fn task_preflight(task: &Task) -> Result<(), String> {
    if task.last_status != "RUNNING" {
        return Err(format!(
            "task {} is {}: ECS Exec needs a RUNNING task",
            task.short_id(),
            task.last_status
        ));
    }
    if !task.enable_execute_command {
        return Err(format!(
            "ECS Exec is off for task {}: turn it on for the service \
             (aws ecs update-service --enable-execute-command --force-new-deployment) \
             and use a task started after that",
            task.short_id()
        ));
    }
    Ok(())
}

fn container_preflight(task: &Task, container: &str) -> Result<(), String> {
    let Some(c) = task.containers.iter().find(|c| c.name == container) else {
        return Err(format!(
            "task {} has no container {container}",
            task.short_id()
        ));
    };
    match c.exec_agent.as_deref() {
        Some("RUNNING") => {}
        Some(other) => {
            return Err(format!(
                "the ExecuteCommandAgent in {container} is {other}, not RUNNING: the SSM agent \
                 in the container has not started (task role needs ssmmessages:* permissions)"
            ));
        }
        None => {
            return Err(format!(
                "{container} has no ExecuteCommandAgent: the task was started without ECS Exec"
            ));
        }
    }
    if c.runtime_id.is_empty() {
        return Err(format!(
            "{container} has no runtime id yet (still starting?)"
        ));
    }
    Ok(())
}

/// `s` on a task or container: the container (picked when there are several), checked, then
/// the gate, which opens the shell at once (see [`open_shell`]).
fn exec(state: &mut State) -> Vec<Effect> {
    let Some(task) = selected_task(state) else {
        state.set_status(Level::Info, "select a task or container to open a shell in");
        return vec![];
    };
    if task_still_loading(state, &task) {
        return vec![];
    }
    if let Err(why) = task_preflight(&task) {
        state.set_status(Level::Warn, why);
        return vec![];
    }
    let container = match &state.focused().pane {
        Pane::Containers { .. } => selected(state, |items| match items {
            Items::Containers(v) => Some(v),
            _ => None,
        })
        .map(|c| c.name.clone()),
        _ if task.containers.len() == 1 => task.containers.first().map(|c| c.name.clone()),
        _ => None,
    };
    match container {
        Some(container) => exec_into(state, &task, &container),
        None => {
            let items: Vec<String> = task.containers.iter().map(|c| c.name.to_string()).collect();
            // The container picked last time for this service comes first.
            let selected = state
                .exec_picks
                .get(&pick_key(&task))
                .and_then(|last| items.iter().position(|name| name == last))
                .unwrap_or(0);
            state.pending_exec = Some(Box::new(task));
            state.popups.push(Popup::Picker {
                kind: PickerKind::Container,
                items,
                selected,
            });
            vec![]
        }
    }
}

/// The container picked for ECS Exec.
pub fn exec_picked(state: &mut State, container: &str) -> Vec<Effect> {
    match state.pending_exec.take() {
        Some(task) => exec_into(state, &task, container),
        None => vec![],
    }
}

fn exec_into(state: &mut State, task: &Task, container: &str) -> Vec<Effect> {
    if let Err(why) = exec_preflight(task, container) {
        state.set_status(Level::Warn, why);
        return vec![];
    }
    let runtime_id = task
        .containers
        .iter()
        .find(|c| c.name == container)
        .map(|c| c.runtime_id.clone())
        .unwrap_or_default();
    if task.containers.len() > 1 {
        state
            .exec_picks
            .insert(pick_key(task), container.to_string());
    }
    let op = Operation::Exec {
        cluster: cluster_of(&task.cluster_arn).to_string(),
        task_arn: task.arn.to_string(),
        container: container.to_string(),
        runtime_id: runtime_id.to_string(),
        command: state.exec_shell.clone(),
    };
    open_shell(state, op)
}

/// `t`: the service's target groups' health, live.
pub fn target_health(state: &mut State) -> Vec<Effect> {
    let Some(s) = selected(state, |items| match items {
        Items::Services(v) => Some(v),
        _ => None,
    }) else {
        state.set_status(Level::Info, "select a service to see its targets");
        return vec![];
    };
    let s = s.clone();
    if still_loading(state, &s, &s.name) {
        return vec![];
    }
    if s.target_group_arns.is_empty() {
        let name = s.name.clone();
        state.set_status(
            Level::Info,
            format!("{name} has no load balancer target groups"),
        );
        return vec![];
    }
    state.popups.push(Popup::TargetHealth(TargetHealthView {
        cluster: cluster_of(&s.cluster_arn).to_string(),
        service: s.name.clone(),
        service_arn: s.arn.clone(),
        target_groups: s.target_group_arns.clone(),
        groups: None,
        error: None,
        fetched_at: None,
        in_flight: None,
        last_sent: None,
        scroll: 0,
    }));
    vec![]
}

/// Target health polls while its view is open.
pub fn schedule(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    let Some(Popup::TargetHealth(view)) = state.popups.last_mut() else {
        return vec![];
    };
    if !crate::poll::repeat_due(view.in_flight, view.last_sent, HEALTH_EVERY, now) {
        return vec![];
    }
    view.in_flight = Some(now);
    view.last_sent = Some(now);
    vec![Effect::FetchTargetHealth {
        service_arn: view.service_arn.clone(),
        target_groups: view.target_groups.clone(),
    }]
}

pub fn target_health_loaded(
    state: &mut State,
    service_arn: &str,
    at: crate::model::Time,
    result: Result<Vec<crate::model::TargetGroupHealth>, crate::source::SourceError>,
) {
    for popup in &mut state.popups {
        if let Popup::TargetHealth(view) = popup
            && view.service_arn == service_arn
        {
            view.in_flight = None;
            match &result {
                Ok(groups) => {
                    view.groups = Some(groups.clone());
                    view.error = None;
                    view.fetched_at = Some(at);
                }
                Err(e) => view.error = Some(e.message.clone()),
            }
        }
    }
}
