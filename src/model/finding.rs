//! What the triage engine concludes: a finding names a rule, the object it is about, what was
//! seen (evidence), what to do next, and which console actions apply.

use super::Time;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// The four letters on badges and in lists.
    pub fn badge(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARN",
            Severity::Critical => "CRIT",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// The object a finding is about. Names, not indexes: the fleet changes under it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Subject {
    Cluster {
        cluster: String,
    },
    Service {
        cluster: String,
        service: String,
    },
    /// A task (by ARN); `service` when it belongs to one.
    Task {
        cluster: String,
        service: Option<String>,
        task_arn: String,
    },
    Container {
        cluster: String,
        service: Option<String>,
        task_arn: String,
        container: String,
    },
    /// A container instance (by ARN) and its EC2 id.
    Instance {
        cluster: String,
        instance_arn: String,
        ec2_instance_id: String,
    },
    /// A target group of a service (rules about load balancing are read per service).
    TargetGroup {
        cluster: String,
        service: String,
        target_group_arn: String,
    },
}

impl Subject {
    pub fn cluster(&self) -> &str {
        match self {
            Subject::Cluster { cluster }
            | Subject::Service { cluster, .. }
            | Subject::Task { cluster, .. }
            | Subject::Container { cluster, .. }
            | Subject::Instance { cluster, .. }
            | Subject::TargetGroup { cluster, .. } => cluster,
        }
    }

    /// The same subject with its cluster named by `rename` (the fleet view's qualified names).
    pub fn with_cluster(mut self, rename: impl FnOnce(&str) -> String) -> Subject {
        let cluster = match &mut self {
            Subject::Cluster { cluster }
            | Subject::Service { cluster, .. }
            | Subject::Task { cluster, .. }
            | Subject::Container { cluster, .. }
            | Subject::Instance { cluster, .. }
            | Subject::TargetGroup { cluster, .. } => cluster,
        };
        *cluster = rename(cluster);
        self
    }

    /// The service the subject belongs to, if any.
    pub fn service(&self) -> Option<&str> {
        match self {
            Subject::Service { service, .. } | Subject::TargetGroup { service, .. } => {
                Some(service)
            }
            Subject::Task { service, .. } | Subject::Container { service, .. } => {
                service.as_deref()
            }
            _ => None,
        }
    }

    /// The task the subject is or belongs to (a task, or one of its containers): what a task
    /// row's badge counts.
    pub fn task_arn(&self) -> Option<&str> {
        match self {
            Subject::Task { task_arn, .. } | Subject::Container { task_arn, .. } => Some(task_arn),
            _ => None,
        }
    }

    /// How an operator names it: `prod/web`, `prod/web/3f2a9c1e`, `i-0abc…`.
    pub fn label(&self) -> String {
        let short = |arn: &str| super::arn::short_task_id(arn).to_string();
        match self {
            Subject::Cluster { cluster } => cluster.clone(),
            Subject::Service { cluster, service } => format!("{cluster}/{service}"),
            Subject::Task {
                cluster,
                service,
                task_arn,
            } => match service {
                Some(s) => format!("{cluster}/{s}/{}", short(task_arn)),
                None => format!("{cluster}/{}", short(task_arn)),
            },
            Subject::Container {
                cluster,
                service,
                task_arn,
                container,
            } => match service {
                Some(s) => format!("{cluster}/{s}/{}/{container}", short(task_arn)),
                None => format!("{cluster}/{}/{container}", short(task_arn)),
            },
            Subject::Instance {
                cluster,
                ec2_instance_id,
                instance_arn,
            } => {
                let id = if ec2_instance_id.is_empty() {
                    short(instance_arn)
                } else {
                    ec2_instance_id.clone()
                };
                format!("{cluster}/{id}")
            }
            Subject::TargetGroup {
                cluster,
                service,
                target_group_arn,
            } => {
                let tg = super::arn::target_group_name(target_group_arn);
                format!("{cluster}/{service} tg {tg}")
            }
        }
    }
}

/// A console action that applies to a finding: the keys work from the findings pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Remedy {
    OpenLogs,
    Exec,
    TargetHealth,
    Scale,
    Redeploy,
    Drain,
    Chart,
    Events,
    ShowTask,
}

impl Remedy {
    pub fn label(self) -> &'static str {
        match self {
            Remedy::OpenLogs => "open logs",
            Remedy::Exec => "exec",
            Remedy::TargetHealth => "target health",
            Remedy::Scale => "scale service",
            Remedy::Redeploy => "redeploy",
            Remedy::Drain => "drain instance",
            Remedy::Chart => "metrics chart",
            Remedy::Events => "show events",
            Remedy::ShowTask => "show task",
        }
    }
}

/// One fact behind a finding: a value and when it was seen.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Evidence {
    pub at: Option<Time>,
    pub text: String,
}

impl Evidence {
    pub fn at(at: Time, text: impl Into<String>) -> Self {
        Evidence {
            at: Some(at),
            text: text.into(),
        }
    }

    pub fn text(text: impl Into<String>) -> Self {
        Evidence {
            at: None,
            text: text.into(),
        }
    }
}

/// What a rule reports on one evaluation: "this condition holds now". The engine turns
/// repeated observations into findings with a lifecycle.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Observation {
    /// The catalog's rule id (`task-oom-killed`).
    pub rule: &'static str,
    pub severity: Severity,
    pub subject: Subject,
    /// Tells apart several findings of one rule on one subject (a variant, a stopped task's
    /// ARN); empty when there is one.
    pub key: String,
    pub message: String,
    pub evidence: Vec<Evidence>,
    pub next: String,
    pub remedies: Vec<Remedy>,
    /// When the condition began, if the data says (a task's stop time, the first sample over a
    /// threshold): the finding opens at that instant rather than when it was first evaluated.
    pub since: Option<Time>,
    /// For conditions read from polled state rather than from a time series (counts,
    /// statuses): the finding opens only once the condition has been seen continuously for
    /// this long.
    pub hold: Option<chrono::TimeDelta>,
}

impl Observation {
    pub fn new(
        rule: &'static str,
        severity: Severity,
        subject: Subject,
        message: impl Into<String>,
    ) -> Self {
        Observation {
            rule,
            severity,
            subject,
            key: String::new(),
            message: message.into(),
            evidence: Vec::new(),
            next: String::new(),
            remedies: Vec::new(),
            since: None,
            hold: None,
        }
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    pub fn evidence(mut self, e: Evidence) -> Self {
        self.evidence.push(e);
        self
    }

    pub fn next(mut self, next: impl Into<String>) -> Self {
        self.next = next.into();
        self
    }

    pub fn remedies(mut self, remedies: &[Remedy]) -> Self {
        self.remedies = remedies.to_vec();
        self
    }

    pub fn hold(mut self, hold: chrono::TimeDelta) -> Self {
        self.hold = Some(hold);
        self
    }

    pub fn since(mut self, at: Time) -> Self {
        self.since = Some(at);
        self
    }

    /// The identity of the finding this observation feeds.
    pub fn id(&self) -> FindingId {
        FindingId {
            rule: self.rule,
            subject: self.subject.clone(),
            key: self.key.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FindingId {
    pub rule: &'static str,
    pub subject: Subject,
    pub key: String,
}

/// A finding with its lifecycle: opened, still active (last seen), resolved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// The latest observation (message, evidence and severity move with the data).
    pub current: Observation,
    pub opened_at: Time,
    pub last_seen: Time,
    /// Set once the condition has been absent long enough; a resolved finding stays listed
    /// for a while so the timeline and the export can tell the story.
    pub resolved_at: Option<Time>,
    /// The highest severity it reached.
    pub peak: Severity,
}

impl Finding {
    pub fn is_active(&self) -> bool {
        self.resolved_at.is_none()
    }

    pub fn severity(&self) -> Severity {
        self.current.severity
    }
}
