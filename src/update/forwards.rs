//! Port forwarding: the `F` dialog (local port, then the container port or `host:port`, with
//! defaults from the task definition's port mappings), the gate, the forwards the console runs
//! (`:forwards`) and stopping them. The runtime carries each forward (`crate::source::forward`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::action::Effect;
use crate::keymap::Command;
use crate::model::{Operation, metric_catalog::cluster_of};
use crate::screen::panes::{self, Items};
use crate::state::{
    Forward, ForwardDialog, ForwardState, Level, LineEditor, Pane, PaneKind, Popup, State,
    container_for, default_local, parse_port, parse_remote, target_of,
};

use super::{actions, gate};

/// A typed field never needs more: a host name is at most 253 characters.
const MAX_FIELD: usize = 260;

/// `F` on a task, a container or a container instance.
pub fn open(state: &mut State) -> Vec<Effect> {
    let dialog = match state.focused().pane.kind() {
        PaneKind::Instances => {
            let view = state.focused();
            let instance = match (panes::items(&view.pane, &state.fleet), view.selected_item()) {
                (Items::Instances(v), Some(i)) => v.get(i).cloned(),
                _ => None,
            };
            let Some(instance) = instance else {
                state.set_status(
                    Level::Info,
                    "select a container instance to forward through",
                );
                return vec![];
            };
            if instance.ec2_instance_id.is_empty() {
                state.set_status(
                    Level::Warn,
                    "this container instance has no EC2 instance id",
                );
                return vec![];
            }
            ForwardDialog {
                cluster: cluster_of(&instance.cluster_arn).to_string(),
                task: None,
                container: None,
                ec2_instance_id: Some(instance.ec2_instance_id.clone()),
                local: LineEditor::default(),
                remote: LineEditor::default(),
                field: 0,
                touched: false,
                ports: None,
                message: None,
                scroll: 0,
            }
        }
        PaneKind::Tasks | PaneKind::Containers => {
            let Some(task) = actions::selected_task(state) else {
                state.set_status(
                    Level::Info,
                    "select a task or container to forward a port of",
                );
                return vec![];
            };
            if actions::task_still_loading(state, &task) {
                return vec![];
            }
            // What SSM needs before anything is asked: a running task with ECS Exec on.
            if task.last_status != "RUNNING" {
                state.set_status(
                    Level::Warn,
                    format!(
                        "task {} is {}: a port forward needs a RUNNING task",
                        task.short_id(),
                        task.last_status
                    ),
                );
                return vec![];
            }
            if !task.enable_execute_command {
                state.set_status(
                    Level::Warn,
                    format!(
                        "ECS Exec is off for task {}: port forwarding goes through its agent; turn \
                         it on for the service (aws ecs update-service --enable-execute-command \
                         --force-new-deployment) and use a task started after that",
                        task.short_id()
                    ),
                );
                return vec![];
            }
            let container = match &state.focused().pane {
                Pane::Containers { .. } => {
                    let view = state.focused();
                    match (panes::items(&view.pane, &state.fleet), view.selected_item()) {
                        (Items::Containers(v), Some(i)) => v.get(i).map(|c| c.name.to_string()),
                        _ => None,
                    }
                }
                _ => None,
            };
            ForwardDialog {
                cluster: cluster_of(&task.cluster_arn).to_string(),
                container,
                ec2_instance_id: None,
                local: LineEditor::default(),
                remote: LineEditor::default(),
                field: 0,
                touched: false,
                ports: None,
                message: None,
                scroll: 0,
                task: Some(Box::new(task)),
            }
        }
        _ => {
            state.set_status(
                Level::Info,
                "port forwarding works on a task, a container or a container instance",
            );
            return vec![];
        }
    };
    let arn = dialog
        .task
        .as_ref()
        .map(|t| t.task_definition.arn.to_string());
    state.popups.push(Popup::ForwardDialog(dialog));
    if let Some(arn) = arn {
        state.task_defs.errors.remove(&arn);
        definition_arrived(state, &arn);
    }
    vec![]
}

/// A task definition arrived: an open dialog on one of its tasks gets its ports and defaults.
pub fn definition_arrived(state: &mut State, arn: &str) {
    let Some(def) = state.task_defs.get(arn).cloned() else {
        return;
    };
    let taken: Vec<u16> = state
        .forwards
        .list
        .iter()
        .filter(|f| f.state.is_live())
        .map(Forward::local_port)
        .collect();
    for popup in &mut state.popups {
        let Popup::ForwardDialog(dialog) = popup else {
            continue;
        };
        if dialog.ports.is_some()
            || dialog.task.as_ref().map(|t| t.task_definition.arn.as_str()) != Some(arn)
        {
            continue;
        }
        let ports: Vec<_> = def
            .containers
            .iter()
            .flat_map(|c| c.port_mappings.iter().map(|p| (c.name.clone(), p.clone())))
            .collect();
        let first = ports
            .iter()
            .find(|(name, _)| dialog.container.as_deref().is_none_or(|c| c == name))
            .or(ports.first());
        if !dialog.touched {
            match first {
                Some((_, mapping)) => {
                    let remote = mapping.container_port;
                    let mut local = default_local(remote);
                    // Not one this console already forwards.
                    while taken.contains(&local) && local < u16::MAX {
                        local += 1;
                    }
                    // Selected, as the field with the keys shows: typing replaces them.
                    dialog.local = LineEditor::prefilled(&local.to_string());
                    dialog.remote = LineEditor::prefilled(&remote.to_string());
                }
                None => {
                    dialog.message =
                        Some("the task definition maps no ports: type the container port".into());
                }
            }
        }
        dialog.ports = Some(ports);
    }
}

/// The dialog's own keys (`[[forward_dialog]]`): enter accepts a field, tab (and the arrows)
/// moves to the other one, esc cancels.
pub fn dialog_command(state: &mut State, command: Command) -> Vec<Effect> {
    let Some(Popup::ForwardDialog(dialog)) = state.popups.last_mut() else {
        return vec![];
    };
    match command {
        Command::Back => {
            state.popups.pop();
            state.set_status(Level::Info, "port forward cancelled: nothing was started");
        }
        Command::Enter => return submit(state),
        Command::FocusNext => {
            let other = 1 - dialog.field.min(1);
            dialog.switch_field(other);
        }
        _ => {}
    }
    vec![]
}

/// A key typed into the dialog's field.
pub fn dialog_typed(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(Popup::ForwardDialog(dialog)) = state.popups.last_mut() else {
        return vec![];
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        // A host name is never longer.
        KeyCode::Char(_)
            if !ctrl
                && !dialog.editor_mut().selected
                && dialog.editor_mut().text.chars().count() >= MAX_FIELD => {}
        code => {
            // Moving the cursor is not typing: defaults arriving later may still fill in.
            if super::prompt::edit(dialog.editor_mut(), code, ctrl) {
                dialog.touched = true;
            }
        }
    }
    vec![]
}

/// Pasted text in the dialog: its first line, cut short.
pub fn dialog_paste(state: &mut State, text: &str) -> bool {
    let Some(Popup::ForwardDialog(dialog)) = state.popups.last_mut() else {
        return false;
    };
    let first: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(MAX_FIELD)
        .collect();
    dialog.touched = true;
    dialog.editor_mut().insert_str(&first);
    true
}

/// Enter: accept the field; on the last one, build the forward and ask the gate.
fn submit(state: &mut State) -> Vec<Effect> {
    let holding = |state: &State, port: u16| {
        state
            .forwards
            .holding(port)
            .map(|f| format!("{} → {}", f.target(), f.remote()))
    };
    let Some(Popup::ForwardDialog(dialog)) = state.popups.last() else {
        return vec![];
    };
    let local = match parse_port(&dialog.local.text) {
        Ok(port) => port,
        Err(why) => return say(state, 0, format!("local port: {why}")),
    };
    if let Some(other) = holding(state, local) {
        return say(
            state,
            0,
            format!("localhost:{local} is already forwarded ({other}): pick another local port"),
        );
    }
    if dialog.field == 0 {
        if let Some(Popup::ForwardDialog(d)) = state.popups.last_mut() {
            d.switch_field(1);
            d.message = None;
        }
        return vec![];
    }
    let remote = match parse_remote(&dialog.remote.text) {
        Ok(r) => r,
        Err(why) => return say(state, 1, why),
    };
    let container = dialog.task.as_ref().and_then(|task| {
        container_for(
            task,
            dialog.container.as_deref(),
            dialog.ports.as_deref().unwrap_or_default(),
            remote.host.is_none().then_some(remote.port),
        )
    });
    if let (Some(task), Some(container)) = (&dialog.task, &container)
        && let Err(why) = actions::exec_preflight(task, container)
    {
        return say(state, 1, why);
    }
    let Some(target) = target_of(dialog, container.as_deref()) else {
        return say(
            state,
            1,
            "the task has no container to forward through".into(),
        );
    };
    let op = Operation::PortForward {
        cluster: dialog.cluster.clone(),
        target,
        local_port: local,
        remote_host: remote.host,
        remote_port: remote.port,
    };
    state.popups.pop();
    gate::request(state, op)
}

/// A refusal in the dialog, on the field it is about.
fn say(state: &mut State, field: usize, message: String) -> Vec<Effect> {
    if let Some(Popup::ForwardDialog(d)) = state.popups.last_mut() {
        if d.field != field {
            d.switch_field(field);
        }
        d.message = Some(message);
    }
    vec![]
}

/// The gate confirmed a forward: listed as starting, and the runtime starts it.
pub fn start(state: &mut State, op: Operation) -> Vec<Effect> {
    let id = state.forwards.next_id;
    state.forwards.next_id += 1;
    state.forwards.list.push(Forward {
        id,
        op: op.clone(),
        started_at: state.now,
        state: ForwardState::Starting,
    });
    vec![Effect::StartForward { id, op }]
}

/// The runtime started the forward (or could not): said, listed and audited.
pub fn started(state: &mut State, id: u64, result: Result<String, String>) -> Vec<Effect> {
    let Some(forward) = state.forwards.get_mut(id) else {
        return vec![];
    };
    let op = forward.op.clone();
    match &result {
        // A plugin that died at once was already reported ended: it stays ended.
        Ok(_) if forward.state == ForwardState::Starting => forward.state = ForwardState::Active,
        Ok(_) => {}
        Err(why) => forward.state = ForwardState::Failed(why.clone()),
    }
    let result = result.map(|done| format!("{done} (:forwards lists it)"));
    gate::session_result(state, op, result)
}

/// The forward's plugin (or listener) ended: stopped on request, or on its own with why.
pub fn ended(state: &mut State, id: u64, reason: String) {
    let Some(forward) = state.forwards.get_mut(id) else {
        return;
    };
    if matches!(forward.state, ForwardState::Failed(_)) {
        return;
    }
    let asked = forward.state == ForwardState::Stopping;
    forward.state = ForwardState::Ended(reason.clone());
    let what = forward.op.summary();
    if asked {
        state.set_status(Level::Info, format!("stopped: {what}"));
    } else {
        state.set_status(Level::Warn, format!("port forward ended: {what}: {reason}"));
    }
}

/// `:forwards`.
pub fn open_view(state: &mut State) {
    let selected = state.forwards.list.len().saturating_sub(1);
    state.popups.push(Popup::Forwards { selected });
}

/// Keys of the forwards view. `None`: not for it.
pub fn key(state: &mut State, command: Command) -> Option<Vec<Effect>> {
    let Some(Popup::Forwards { selected }) = state.popups.last() else {
        return None;
    };
    if command != Command::StopForward {
        return None;
    }
    let selected = *selected;
    let Some(forward) = state.forwards.list.get_mut(selected) else {
        state.set_status(Level::Info, "no port forward selected");
        return Some(vec![]);
    };
    let id = forward.id;
    match forward.state {
        ForwardState::Starting | ForwardState::Active => {
            forward.state = ForwardState::Stopping;
            let what = forward.op.summary();
            state.set_status(Level::Info, format!("stopping: {what}…"));
            Some(vec![Effect::StopForward { id }])
        }
        ForwardState::Stopping => Some(vec![]),
        ForwardState::Ended(_) | ForwardState::Failed(_) => {
            state.forwards.list.remove(selected);
            if let Some(Popup::Forwards { selected }) = state.popups.last_mut() {
                *selected = (*selected).min(state.forwards.list.len().saturating_sub(1));
            }
            Some(vec![])
        }
    }
}
