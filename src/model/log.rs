//! CloudWatch Logs as the console sees it: where a container's lines are, the lines, whose
//! logs a pane follows, and the lines the rules read.

use super::{Task, TaskDefinition, Time};

/// One log stream to read, and how its lines are labelled in a merged pane.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogStreamRef {
    pub group: String,
    /// `awslogs-region`, when it differs from the console's region.
    pub region: Option<String>,
    /// `<prefix>/<container>/<task-id>`.
    pub stream: String,
    /// What each line of this stream is prefixed with: the container name (one task) or the
    /// short task id (a service's tasks merged).
    pub label: String,
}

/// One log event, as CloudWatch Logs returns it. `message` is untrusted text: it is sanitized
/// before it is drawn, never printed raw.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    /// `eventId` (FilterLogEvents); Live Tail events have none and get a synthetic one.
    pub id: String,
    pub at: Time,
    pub group: String,
    pub stream: String,
    pub message: String,
}

/// CloudWatch Logs takes events of up to 256 KiB; the console keeps at most this much of one
/// (a long stack trace fits), so the log pane's line cap (`log_lines`) also caps its memory.
pub const MESSAGE_LIMIT: usize = 16 * 1024;

/// An event's message as the console keeps it: whole within [`MESSAGE_LIMIT`] bytes; else its
/// first [`MESSAGE_LIMIT`] bytes (to a character boundary) and `… [cut: N bytes]`, N the
/// event's full size. A cut message is cleaned here, so that an escape sequence cut in half
/// cannot swallow the mark when it is drawn; it loses its colours.
pub fn bounded_message(message: String) -> String {
    if message.len() <= MESSAGE_LIMIT {
        return message;
    }
    let mut end = MESSAGE_LIMIT;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let kept = crate::sanitize::clean(&message[..end]);
    format!("{kept}… [cut: {} bytes]", message.len())
}

/// A FilterLogEvents read: one group, some of its streams (at most 100 a call), a time range.
#[derive(Debug, Clone, PartialEq)]
pub struct LogQuery {
    pub group: String,
    pub region: Option<String>,
    pub streams: Vec<String>,
    /// Inclusive, milliseconds are kept.
    pub start: Time,
    /// Exclusive; `None` reads up to now.
    pub end: Option<Time>,
    /// Stop after this many events (oldest first); `None` reads every page.
    pub limit: Option<usize>,
}

/// The CloudWatch Logs streams of a task's containers (`awslogs` driver), or why there are
/// none, in words an operator acts on. `label_by_task`: prefix lines with the short task id
/// (a service's tasks merged) instead of the container name.
pub fn log_streams(
    task: &Task,
    def: &TaskDefinition,
    label_by_task: bool,
) -> Result<Vec<LogStreamRef>, String> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for c in &def.containers {
        let option = |name: &str| {
            c.log_options
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        match c.log_driver.as_str() {
            "awslogs" => {
                let (Some(group), Some(prefix)) =
                    (option("awslogs-group"), option("awslogs-stream-prefix"))
                else {
                    problems.push(format!(
                        "{}: awslogs without awslogs-stream-prefix names its streams after the \
                         Docker container id, which ECS does not report",
                        c.name
                    ));
                    continue;
                };
                out.push(LogStreamRef {
                    group: group.to_string(),
                    region: option("awslogs-region").map(str::to_string),
                    stream: format!("{prefix}/{}/{}", c.name, task.id()),
                    label: if label_by_task {
                        task.short_id().to_string()
                    } else {
                        c.name.clone()
                    },
                });
            }
            "" => problems.push(format!(
                "{}: no log configuration (logs are discarded)",
                c.name
            )),
            other => problems.push(format!("{}: {}", c.name, elsewhere(other))),
        }
    }
    if out.is_empty() {
        return Err(if problems.is_empty() {
            "the task definition has no containers".into()
        } else {
            format!("no CloudWatch Logs to follow — {}", problems.join("; "))
        });
    }
    Ok(out)
}

/// Where a non-awslogs driver sends lines, so the operator knows where to look instead.
fn elsewhere(driver: &str) -> String {
    let place = match driver {
        "awsfirelens" => "FireLens routes them (Fluent Bit/Fluentd): look where its output goes",
        "splunk" => "they go to Splunk",
        "fluentd" => "they go to a Fluentd server",
        "gelf" => "they go to a GELF endpoint (Graylog)",
        "syslog" => "they go to syslog",
        "json-file" | "local" => "they stay on the container instance's disk (docker logs)",
        "journald" => "they go to the instance's journal",
        "none" => "they are discarded",
        _ => "ecsmon reads only awslogs",
    };
    format!("log driver {driver} — {place}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContainerDefinition, TaskDefRef};

    #[test]
    fn a_message_past_16_kib_is_cut_with_a_mark_that_says_its_size() {
        let short = "x".repeat(MESSAGE_LIMIT);
        assert_eq!(bounded_message(short.clone()), short);
        // CloudWatch's largest event, multi-byte characters across the cut.
        let huge = "é".repeat(128 * 1024);
        let kept = bounded_message(huge.clone());
        assert!(kept.len() <= MESSAGE_LIMIT + 32, "{}", kept.len());
        assert!(
            kept.ends_with("é… [cut: 262144 bytes]"),
            "{}",
            &kept[kept.len() - 40..]
        );
        assert!(huge.starts_with(kept.trim_end_matches("… [cut: 262144 bytes]")));
        // An escape sequence open at the cut cannot hide the mark.
        let open = format!(
            "{}\x1b]0;{}",
            "a".repeat(MESSAGE_LIMIT - 10),
            "b".repeat(100)
        );
        let kept = bounded_message(open);
        let tail = &kept[kept.len() - 40..];
        assert!(kept.ends_with("a… [cut: 16478 bytes]"), "{tail}");
        assert_eq!(crate::sanitize::clean(&kept), kept, "drawn as it is");
    }

    fn task() -> Task {
        Task {
            arn: "arn:aws:ecs:eu-west-1:1:task/prod/0123456789abcdef".into(),
            ..Task::default()
        }
    }

    fn def(containers: Vec<ContainerDefinition>) -> TaskDefinition {
        TaskDefinition {
            reference: TaskDefRef::from_arn("cart:3"),
            containers,
            ..TaskDefinition::default()
        }
    }

    fn container(name: &str, driver: &str, options: &[(&str, &str)]) -> ContainerDefinition {
        ContainerDefinition {
            name: name.into(),
            log_driver: driver.into(),
            log_options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ContainerDefinition::default()
        }
    }

    #[test]
    fn awslogs_streams_are_prefix_container_task_id() {
        let d = def(vec![container(
            "app",
            "awslogs",
            &[
                ("awslogs-group", "/ecs/cart"),
                ("awslogs-region", "eu-west-1"),
                ("awslogs-stream-prefix", "ecs"),
            ],
        )]);
        let streams = log_streams(&task(), &d, false).unwrap();
        assert_eq!(streams[0].stream, "ecs/app/0123456789abcdef");
        assert_eq!(streams[0].group, "/ecs/cart");
        assert_eq!(streams[0].label, "app");
        assert_eq!(log_streams(&task(), &d, true).unwrap()[0].label, "01234567");
    }

    #[test]
    fn other_drivers_say_where_the_lines_go() {
        let d = def(vec![container("app", "awsfirelens", &[])]);
        let err = log_streams(&task(), &d, false).unwrap_err();
        assert!(
            err.contains("log driver awsfirelens") && err.contains("FireLens"),
            "{err}"
        );
        let d = def(vec![container("app", "splunk", &[])]);
        assert!(
            log_streams(&task(), &d, false)
                .unwrap_err()
                .contains("Splunk")
        );
    }

    #[test]
    fn a_sidecar_without_awslogs_does_not_hide_the_others() {
        let d = def(vec![
            container(
                "app",
                "awslogs",
                &[("awslogs-group", "g"), ("awslogs-stream-prefix", "p")],
            ),
            container("router", "json-file", &[]),
        ]);
        assert_eq!(log_streams(&task(), &d, false).unwrap().len(), 1);
    }
}

/// Whose logs a pane shows.
#[derive(Debug, Clone, PartialEq)]
pub enum LogSubject {
    /// One task: every container, each line prefixed by its container name.
    Task(Box<Task>),
    /// A service: the streams of all its running tasks, prefixed by the short task id.
    Service { cluster: String, service: String },
}

/// Log lines a rule can match: the console's open log pane and any lines sampled for triage.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSample {
    pub cluster: String,
    pub service: Option<String>,
    pub task_arn: String,
    pub container: String,
    pub at: Time,
    pub message: String,
}

/// What a log read asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum LogRead {
    /// The last `count` events before `before` (now when `None`): backfill and older lines.
    Last { count: usize, before: Option<Time> },
    /// Everything from this instant on: a follow poll.
    Since(Time),
}
