//! Port forwards: the dialog that asks for one (`F`) and the forwards the console runs
//! (`:forwards`).

use crate::model::{ForwardTarget, Operation, PortMapping, Task, Time};

use super::LineEditor;

/// Where a forward is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardState {
    /// Checks, `StartSession`, the plugin starting.
    Starting,
    Active,
    /// Stop asked; the plugin is being ended and the session terminated.
    Stopping,
    /// It ended (stopped, or the plugin died): why.
    Ended(String),
    /// It never started: why.
    Failed(String),
}

impl ForwardState {
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            ForwardState::Starting | ForwardState::Active | ForwardState::Stopping
        )
    }

    pub fn word(&self) -> &'static str {
        match self {
            ForwardState::Starting => "STARTING",
            ForwardState::Active => "ACTIVE",
            ForwardState::Stopping => "STOPPING",
            ForwardState::Ended(_) => "ENDED",
            ForwardState::Failed(_) => "FAILED",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            ForwardState::Ended(why) | ForwardState::Failed(why) => why,
            _ => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    pub id: u64,
    pub op: Operation,
    pub started_at: Time,
    pub state: ForwardState,
}

impl Forward {
    pub fn local_port(&self) -> u16 {
        match &self.op {
            Operation::PortForward { local_port, .. } => *local_port,
            _ => 0,
        }
    }

    /// `task 1a2b3c4d (app)` or `i-0abc…`.
    pub fn target(&self) -> String {
        match &self.op {
            Operation::PortForward { target, .. } => target.label(),
            _ => String::new(),
        }
    }

    /// `port 8080` or `db.internal:5432`.
    pub fn remote(&self) -> String {
        match &self.op {
            Operation::PortForward {
                remote_host: Some(host),
                remote_port,
                ..
            } => format!("{host}:{remote_port}"),
            Operation::PortForward { remote_port, .. } => format!("port {remote_port}"),
            _ => String::new(),
        }
    }
}

/// The forwards of this console, newest last. Ended ones stay listed (with why) until cleared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Forwards {
    pub list: Vec<Forward>,
    pub next_id: u64,
}

impl Forwards {
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Forward> {
        self.list.iter_mut().find(|f| f.id == id)
    }

    /// A live forward already holding this local port.
    pub fn holding(&self, port: u16) -> Option<&Forward> {
        self.list
            .iter()
            .find(|f| f.state.is_live() && f.local_port() == port)
    }

    pub fn live(&self) -> usize {
        self.list.iter().filter(|f| f.state.is_live()).count()
    }
}

/// The `F` dialog: local port, then the container port or `host:port`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardDialog {
    pub cluster: String,
    /// The task it was opened on (containers, ports, runtime ids), or none for an instance.
    pub task: Option<Box<Task>>,
    /// The container picked on the containers pane, if any.
    pub container: Option<String>,
    /// The EC2 instance, when opened on a container instance.
    pub ec2_instance_id: Option<String>,
    pub local: LineEditor,
    pub remote: LineEditor,
    /// 0: local port, 1: remote.
    pub field: usize,
    /// The operator typed: defaults that arrive later leave the fields alone.
    pub touched: bool,
    /// The task definition's port mappings by container, once read.
    pub ports: Option<Vec<(String, PortMapping)>>,
    pub message: Option<String>,
    pub scroll: usize,
}

impl ForwardDialog {
    pub fn title(&self) -> String {
        match (&self.task, &self.ec2_instance_id) {
            (Some(task), _) => format!("Forward a port of task {}", task.short_id()),
            (None, Some(id)) => format!("Forward a port through {id}"),
            (None, None) => "Forward a port".into(),
        }
    }

    /// Gives the keys to the other field, its text selected (typing replaces it).
    pub fn switch_field(&mut self, field: usize) {
        self.field = field.min(1);
        self.editor_mut().select_all();
    }

    pub fn editor_mut(&mut self) -> &mut LineEditor {
        if self.field == 0 {
            &mut self.local
        } else {
            &mut self.remote
        }
    }
}

/// A forward's far end as typed: a port (of the task or instance itself) or `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub host: Option<String>,
    pub port: u16,
}

/// A port typed into the dialog: a whole number from 1 to 65535.
pub fn parse_port(text: &str) -> Result<u16, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("type a port number (1–65535)".into());
    }
    match text.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) && text.chars().all(|c| c.is_ascii_digit()) => {
            Ok(n as u16)
        }
        _ => {
            let shown: String = text.chars().take(20).collect();
            Err(format!("{shown:?} is not a port (1–65535)"))
        }
    }
}

/// `5432`, `db.internal:5432`, `10.0.3.7:5432` or `[fd00::1]:5432`.
pub fn parse_remote(text: &str) -> Result<Remote, String> {
    let text = text.trim();
    let Some((host, port)) = text.rsplit_once(':') else {
        return Ok(Remote {
            host: None,
            port: parse_port(text)?,
        });
    };
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if host.is_empty() || !host.chars().all(valid) || host.len() > 253 {
        let shown: String = host.chars().take(40).collect();
        return Err(format!(
            "{shown:?} is not a host name or address: type port, or host:port"
        ));
    }
    Ok(Remote {
        host: Some(host.to_string()),
        port: parse_port(port)?,
    })
}

/// The local port offered for a remote one: the same, unless it needs root.
pub fn default_local(remote: u16) -> u16 {
    if remote >= 1024 {
        remote
    } else {
        10_000 + remote
    }
}

/// Which container of the task a forward to `port` goes through: the one picked, the one
/// whose port mappings have it, else the first whose ECS Exec agent runs.
pub fn container_for(
    task: &Task,
    picked: Option<&str>,
    ports: &[(String, PortMapping)],
    port: Option<u16>,
) -> Option<String> {
    if let Some(name) = picked {
        return Some(name.to_string());
    }
    if let Some(port) = port
        && let Some((name, _)) = ports.iter().find(|(_, p)| p.container_port == port)
    {
        return Some(name.clone());
    }
    task.containers
        .iter()
        .find(|c| c.exec_agent.as_deref() == Some("RUNNING"))
        .or(task.containers.first())
        .map(|c| c.name.to_string())
}

/// What the forward reaches, from the task or instance the dialog was opened on.
pub fn target_of(dialog: &ForwardDialog, container: Option<&str>) -> Option<ForwardTarget> {
    if let Some(task) = &dialog.task {
        let name = container?;
        let c = task.containers.iter().find(|c| c.name == name)?;
        return Some(ForwardTarget::Task {
            task_arn: task.arn.to_string(),
            container: c.name.to_string(),
            runtime_id: c.runtime_id.to_string(),
        });
    }
    dialog
        .ec2_instance_id
        .as_ref()
        .map(|id| ForwardTarget::Instance {
            ec2_instance_id: id.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_whole_numbers_in_range() {
        assert_eq!(parse_port(" 5432 "), Ok(5432));
        for bad in ["", "0", "65536", "-1", "+80", "80x", "8 0", "99999999999"] {
            assert!(parse_port(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_remote_is_a_port_or_a_host_and_port() {
        assert_eq!(
            parse_remote("8080"),
            Ok(Remote {
                host: None,
                port: 8080
            })
        );
        assert_eq!(
            parse_remote("db.internal:5432"),
            Ok(Remote {
                host: Some("db.internal".into()),
                port: 5432
            })
        );
        assert_eq!(
            parse_remote("[fd00::1]:443").unwrap().host.unwrap(),
            "fd00::1"
        );
        assert!(parse_remote(":5432").is_err());
        assert!(parse_remote("db internal:5432").is_err());
        assert!(parse_remote("db:99999").is_err());
        assert!(parse_remote("$(rm -rf):22").is_err());
    }

    #[test]
    fn privileged_ports_are_offered_above_1023_locally() {
        assert_eq!(default_local(80), 10080);
        assert_eq!(default_local(5432), 5432);
    }
}
