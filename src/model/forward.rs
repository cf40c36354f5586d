//! Port forwarding through SSM Session Manager: what a forward goes through, and what the
//! source hands back for the runtime to carry it.

use super::{SessionHandoff, arn_tail};

/// What the SSM session runs on: a task's container (ECS Exec's agent) or an EC2 host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ForwardTarget {
    Task {
        task_arn: String,
        container: String,
        runtime_id: String,
    },
    Instance {
        ec2_instance_id: String,
    },
}

impl ForwardTarget {
    /// How the operator names it: `task 1a2b3c4d (app)` or `i-0abc…`.
    pub fn label(&self) -> String {
        match self {
            ForwardTarget::Task {
                task_arn,
                container,
                ..
            } => {
                let id = super::arn::short_task_id(task_arn);
                format!("task {id} ({container})")
            }
            ForwardTarget::Instance { ec2_instance_id } => ec2_instance_id.clone(),
        }
    }

    /// The SSM target: `ecs:<cluster>_<task-id>_<runtime-id>` for a container (as ECS Exec
    /// builds it), the instance id for a host.
    pub fn ssm_target(&self, cluster: &str) -> String {
        match self {
            ForwardTarget::Task {
                task_arn,
                runtime_id,
                ..
            } => format!(
                "ecs:{}_{}_{runtime_id}",
                arn_tail(cluster),
                arn_tail(task_arn)
            ),
            ForwardTarget::Instance { ec2_instance_id } => ec2_instance_id.clone(),
        }
    }
}

/// SSM's port forwarding documents.
pub const FORWARD_DOCUMENT: &str = "AWS-StartPortForwardingSession";
pub const FORWARD_REMOTE_DOCUMENT: &str = "AWS-StartPortForwardingSessionToRemoteHost";

/// The document and its parameters (`portNumber`, `localPortNumber`, and `host` for a remote
/// host), as `StartSession` takes them.
pub fn forward_document(
    local_port: u16,
    remote_host: Option<&str>,
    remote_port: u16,
) -> (&'static str, Vec<(&'static str, String)>) {
    let mut parameters = Vec::with_capacity(3);
    let document = match remote_host {
        Some(host) => {
            parameters.push(("host", host.to_string()));
            FORWARD_REMOTE_DOCUMENT
        }
        None => FORWARD_DOCUMENT,
    };
    parameters.push(("portNumber", remote_port.to_string()));
    parameters.push(("localPortNumber", local_port.to_string()));
    (document, parameters)
}

/// What a source gives the runtime to carry a forward.
#[derive(Debug, Clone, PartialEq)]
pub enum ForwardOpening {
    /// An SSM session for `session-manager-plugin` to carry in the background.
    Plugin {
        handoff: SessionHandoff,
        /// For `TerminateSession` when the forward stops.
        session_id: String,
    },
    /// The demo fleet has no SSM: a local listener answers each connection with this line.
    Simulated { banner: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_target_is_named_as_ecs_exec_names_it() {
        let t = ForwardTarget::Task {
            task_arn: "arn:aws:ecs:eu-west-1:1:task/prod/0123456789abcdef".into(),
            container: "app".into(),
            runtime_id: "0123456789abcdef-111".into(),
        };
        assert_eq!(
            t.ssm_target("arn:aws:ecs:eu-west-1:1:cluster/prod"),
            "ecs:prod_0123456789abcdef_0123456789abcdef-111"
        );
        assert_eq!(t.label(), "task 01234567 (app)");
    }

    #[test]
    fn a_remote_host_picks_the_remote_document() {
        let (doc, params) = forward_document(15432, Some("db.internal"), 5432);
        assert_eq!(doc, FORWARD_REMOTE_DOCUMENT);
        assert_eq!(
            params,
            vec![
                ("host", "db.internal".to_string()),
                ("portNumber", "5432".to_string()),
                ("localPortNumber", "15432".to_string())
            ]
        );
        let (doc, params) = forward_document(8080, None, 80);
        assert_eq!(doc, FORWARD_DOCUMENT);
        assert_eq!(params.len(), 2);
    }
}
