//! Interactive sessions (ECS Exec, an SSM shell on an instance): the checks that need the
//! world (the plugin is installed, the container's root filesystem is writable), opening the
//! session through the source, and handing it to `session-manager-plugin`.
//!
//! The hand-off follows the AWS CLI: six arguments — the session, the region, `StartSession`,
//! the profile, the target and the endpoint. Plugins newer than 1.2.497.0 read the session
//! from an environment variable named in place of the JSON, so the token never shows in the
//! process list; older ones get the JSON as the argument.

use std::process::{Command, Stdio};

use crate::model::{Operation, SessionHandoff};
use crate::source::FleetSource;

pub const PLUGIN: &str = "session-manager-plugin";
/// The variable the session JSON travels in (plugins newer than 1.2.497.0).
pub const SESSION_ENV: &str = "AWS_SSM_START_SESSION_RESPONSE";
const INSTALL: &str = "install it: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html";

/// The installed plugin's version (`1.2.707.0`), or how to install it.
pub fn plugin_version() -> Result<String, String> {
    let out = Command::new(PLUGIN)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|_| format!("{PLUGIN} is not installed (not on PATH): {INSTALL}"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || version.is_empty() {
        return Err(format!(
            "{PLUGIN} --version failed: reinstall it: {INSTALL}"
        ));
    }
    Ok(version)
}

/// Whether this plugin version reads the session from [`SESSION_ENV`].
pub fn reads_env(version: &str) -> bool {
    let parts: Vec<u64> = version
        .split('.')
        .map(|p| p.trim().parse().unwrap_or(0))
        .collect();
    parts > vec![1, 2, 497, 0]
}

/// Everything that can fail before the terminal is handed over, then the session itself.
pub async fn prepare(source: &dyn FleetSource, op: &Operation) -> Result<SessionHandoff, String> {
    plugin_version()?;
    if let Operation::Exec {
        cluster,
        task_arn,
        container,
        ..
    } = op
    {
        let task = source
            .task(cluster, task_arn)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("task {} no longer exists", crate::model::arn_tail(task_arn)))?;
        let def = source
            .task_definition(&task.task_definition.arn)
            .await
            .map_err(|e| e.message)?;
        if def
            .containers
            .iter()
            .any(|c| &c.name == container && c.readonly_root_filesystem)
        {
            return Err(format!(
                "{container} has a read-only root filesystem: ECS Exec needs a writable one \
                 (the SSM agent writes there); set readonlyRootFilesystem to false"
            ));
        }
    }
    source.open_session(op).await.map_err(|e| e.message)
}

/// The plugin's six arguments; `in_env`: the first names the variable holding the session.
pub fn plugin_args(handoff: &SessionHandoff, in_env: bool) -> Vec<String> {
    vec![
        if in_env {
            SESSION_ENV.to_string()
        } else {
            handoff.session_json.clone()
        },
        handoff.region.clone(),
        "StartSession".into(),
        handoff.profile.clone().unwrap_or_default(),
        handoff.target_json.clone(),
        handoff.endpoint.clone(),
    ]
}

/// Runs the plugin on this terminal until the session ends. The caller has handed the
/// terminal over (cooked mode, main screen). While it runs, Ctrl-C, Ctrl-\ and Ctrl-Z belong to
/// the remote shell: ecsmon ignores them, the plugin gets them with their default meaning.
pub fn run_plugin(handoff: &SessionHandoff) -> Result<String, String> {
    let version = plugin_version()?;
    let in_env = reads_env(&version);
    let mut command = Command::new(PLUGIN);
    command.args(plugin_args(handoff, in_env));
    if in_env {
        command.env(SESSION_ENV, &handoff.session_json);
    }
    // SAFETY: only async-signal-safe calls (signal) between fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            for sig in [libc::SIGINT, libc::SIGQUIT, libc::SIGTSTP] {
                libc::signal(sig, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let ignored = IgnoreSignals::new();
    let status = command.status();
    drop(ignored);
    match status {
        Ok(s) if s.success() => Ok("session ended".into()),
        Ok(s) => Err(format!("{PLUGIN} ended with {s}")),
        Err(e) => Err(format!("could not start {PLUGIN}: {e}")),
    }
}

/// Ignores the terminal's job-control signals in ecsmon for as long as it lives. The previous
/// dispositions are saved and restored whole (`sigaction`, flags included): the runtime's own
/// SIGINT and SIGQUIT handlers (`kill -INT` quits the console) need theirs back as they were.
struct IgnoreSignals(Vec<(libc::c_int, libc::sigaction)>);

impl IgnoreSignals {
    fn new() -> Self {
        let saved = [libc::SIGINT, libc::SIGQUIT, libc::SIGTSTP]
            .into_iter()
            .filter_map(|sig| {
                // SAFETY: a zeroed sigaction is a valid SIG_IGN action with no flags; the old
                // action is written into `previous`.
                unsafe {
                    let mut ignore: libc::sigaction = std::mem::zeroed();
                    ignore.sa_sigaction = libc::SIG_IGN;
                    let mut previous: libc::sigaction = std::mem::zeroed();
                    (libc::sigaction(sig, &ignore, &mut previous) == 0).then_some((sig, previous))
                }
            })
            .collect();
        IgnoreSignals(saved)
    }
}

impl Drop for IgnoreSignals {
    fn drop(&mut self) {
        for (sig, previous) in &self.0 {
            // SAFETY: restores exactly what `new` replaced.
            unsafe {
                libc::sigaction(*sig, previous, std::ptr::null_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_plugins_read_the_session_from_the_environment() {
        assert!(reads_env("1.2.707.0"));
        assert!(reads_env("1.3.0.0"));
        assert!(!reads_env("1.2.497.0"));
        assert!(!reads_env("1.2.295.0"));
    }

    #[test]
    fn the_plugin_gets_six_arguments_and_no_token_when_it_reads_the_environment() {
        let handoff = SessionHandoff {
            session_json: r#"{"SessionId":"s","StreamUrl":"wss://x","TokenValue":"secret"}"#.into(),
            region: "eu-west-1".into(),
            target_json: r#"{"Target":"ecs:prod_abc_def"}"#.into(),
            endpoint: "https://ecs.eu-west-1.amazonaws.com".into(),
            profile: Some("prod".into()),
        };
        let args = plugin_args(&handoff, true);
        assert_eq!(args.len(), 6);
        assert_eq!(args[0], SESSION_ENV);
        assert_eq!(args[2], "StartSession");
        assert_eq!(args[3], "prod");
        assert!(!args.iter().any(|a| a.contains("secret")));
        assert!(plugin_args(&handoff, false)[0].contains("secret"));
    }
}
