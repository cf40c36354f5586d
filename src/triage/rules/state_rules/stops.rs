//! What a stopped task says about why it stopped: exit codes, OOM kills, and the stop-reason
//! texts several rules match.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::{Container, Task};

pub const ESSENTIAL_EXITED: &str = "EssentialContainerExited";
pub const FAILED_TO_START: &str = "TaskFailedToStart";

/// `OutOfMemoryError: Container killed due to memory usage` (container `reason`, sometimes the
/// task's `stoppedReason`).
static OOM_REASON: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)OutOfMemory|killed due to memory usage").unwrap());
static PULL_FAILED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"CannotPullContainerError").unwrap());
static RESOURCE_INIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*ResourceInitializationError").unwrap());
static ELB_HEALTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Task failed ELB health checks in \(target-group (?<tg>arn:[^)]+)\)").unwrap()
});

/// What an exit code means for a container of an ECS task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Clean,
    /// 1 and any other code without a signal meaning.
    AppError,
    /// 137: SIGKILL, from the OOM killer or after `stopTimeout`.
    Sigkill,
    /// 139: SIGSEGV.
    Segfault,
    /// 143: SIGTERM, the normal way ECS stops a container; not a crash.
    Sigterm,
}

pub fn classify(code: i32) -> Exit {
    match code {
        0 => Exit::Clean,
        137 => Exit::Sigkill,
        139 => Exit::Segfault,
        143 => Exit::Sigterm,
        _ => Exit::AppError,
    }
}

/// `1 (app error)`, `137 (SIGKILL/OOM)`.
pub fn describe(code: i32) -> String {
    let meaning = match classify(code) {
        Exit::Clean => "clean",
        Exit::AppError => "app error",
        Exit::Sigkill => "SIGKILL/OOM",
        Exit::Segfault => "segfault",
        Exit::Sigterm => "SIGTERM",
    };
    format!("{code} ({meaning})")
}

/// A code that means the container died on its own: non-zero and not the SIGTERM ECS sends.
pub fn is_crash(code: i32) -> bool {
    !matches!(classify(code), Exit::Clean | Exit::Sigterm)
}

/// The task stopped because an essential container exited (`stopCode`, or the reason text
/// when ECS left the code out).
pub fn essential_exited(t: &Task) -> bool {
    t.stop_code == ESSENTIAL_EXITED
        || (t.stop_code.is_empty()
            && t.stopped_reason
                .starts_with("Essential container in task exited"))
}

/// Failed before any container ran (pull, secrets, logging, network); empty codes count
/// too, for sources that leave `stopCode` out.
pub fn failed_to_start(t: &Task) -> bool {
    t.stop_code == FAILED_TO_START || t.stop_code.is_empty()
}

pub fn is_oom_reason(text: &str) -> bool {
    OOM_REASON.is_match(text)
}

/// A container an OOM kill took down.
#[derive(Debug, Clone, Copy)]
pub struct OomKill<'a> {
    pub container: &'a Container,
    /// The reason says OutOfMemory. Otherwise it is a bare 137 under
    /// `EssentialContainerExited`: a SIGKILL that is probably, not certainly, an OOM kill.
    pub confirmed: bool,
}

/// The OOM kills in a stopped task. A 137 counts only under `EssentialContainerExited`:
/// on a scheduler or user stop it is the SIGKILL sent after `stopTimeout`.
pub fn oom_kills(t: &Task) -> Vec<OomKill<'_>> {
    t.containers
        .iter()
        .filter_map(|c| {
            if is_oom_reason(&c.reason)
                || (c.exit_code == Some(137) && is_oom_reason(&t.stopped_reason))
            {
                Some(OomKill {
                    container: c,
                    confirmed: true,
                })
            } else if c.exit_code == Some(137) && essential_exited(t) {
                Some(OomKill {
                    container: c,
                    confirmed: false,
                })
            } else {
                None
            }
        })
        .collect()
}

/// Non-zero, non-SIGTERM exit codes of the task's containers.
pub fn crash_codes(t: &Task) -> Vec<i32> {
    t.containers
        .iter()
        .filter_map(|c| c.exit_code)
        .filter(|&code| is_crash(code))
        .collect()
}

/// The text that says why the pull failed: the task's reason, or the container's.
pub fn pull_failure(t: &Task) -> Option<(&str, Option<&Container>)> {
    if let Some(c) = t
        .containers
        .iter()
        .find(|c| PULL_FAILED.is_match(&c.reason))
    {
        let text = if PULL_FAILED.is_match(&t.stopped_reason) {
            &t.stopped_reason
        } else {
            &c.reason
        };
        return Some((text, Some(c)));
    }
    PULL_FAILED
        .is_match(&t.stopped_reason)
        .then_some((t.stopped_reason.as_str(), None))
}

pub fn is_pull_failure(text: &str) -> bool {
    PULL_FAILED.is_match(text)
}

pub fn is_resource_init_error(text: &str) -> bool {
    RESOURCE_INIT.is_match(text)
}

/// The target group ARN of a "Task failed ELB health checks in (target-group …)" stop.
pub fn elb_health_kill(t: &Task) -> Option<&str> {
    ELB_HEALTH
        .captures(&t.stopped_reason)
        .and_then(|c| c.name("tg"))
        .map(|m| m.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::rules::state_rules::support::fixtures::*;

    #[test]
    fn exit_codes_are_classified() {
        assert_eq!(classify(0), Exit::Clean);
        assert_eq!(classify(1), Exit::AppError);
        assert_eq!(classify(2), Exit::AppError);
        assert_eq!(classify(137), Exit::Sigkill);
        assert_eq!(classify(139), Exit::Segfault);
        assert_eq!(classify(143), Exit::Sigterm);
        assert!(is_crash(1) && is_crash(137) && is_crash(139));
        assert!(!is_crash(0) && !is_crash(143));
        assert_eq!(describe(139), "139 (segfault)");
    }

    #[test]
    fn a_137_is_an_oom_only_under_essential_exit_or_with_an_oom_reason() {
        let essential = stopped("web", "t1", now(), 60, ESSENTIAL_EXITED, Some(137));
        let kills = oom_kills(&essential);
        assert_eq!(kills.len(), 1);
        assert!(!kills[0].confirmed);

        let mut reasoned = essential.clone();
        reasoned.containers[0].reason =
            "OutOfMemoryError: Container killed due to memory usage".into();
        assert!(oom_kills(&reasoned)[0].confirmed);

        for code in ["ServiceSchedulerInitiated", "UserInitiated"] {
            let sched = stopped("web", "t2", now(), 60, code, Some(137));
            assert!(oom_kills(&sched).is_empty(), "{code}");
        }
        let crash = stopped("web", "t3", now(), 60, ESSENTIAL_EXITED, Some(1));
        assert!(oom_kills(&crash).is_empty());
    }

    #[test]
    fn elb_health_kills_name_their_target_group() {
        let mut t = stopped(
            "web",
            "t1",
            now(),
            60,
            "ServiceSchedulerInitiated",
            Some(143),
        );
        t.stopped_reason = "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/tg-web/abc)".into();
        assert_eq!(
            elb_health_kill(&t),
            Some("arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/tg-web/abc")
        );
        t.stopped_reason = "Essential container in task exited".into();
        assert_eq!(elb_health_kill(&t), None);
    }
}
