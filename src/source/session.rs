//! Interactive sessions (ECS Exec, an SSM shell on an instance): the checks that need the
//! world (the plugin is installed and fit to use, the container's root filesystem is writable),
//! opening the session through the source, and handing it to `session-manager-plugin`.
//!
//! The hand-off follows the AWS CLI: six arguments — the session, the region, `StartSession`,
//! the profile, the target and the endpoint — except that the session (which holds its token)
//! always travels in an environment variable named in place of the JSON, so the token never
//! shows in the process list, where any user of the machine can read it. Plugins up to
//! 1.2.497.0 cannot read it from there: they are refused, with how to upgrade, before any
//! session is opened.

// libc for what std lacks around the plugin: signal dispositions while it runs, and
// a pre-exec hook. Every block says why it is sound.
#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::model::{Operation, SessionHandoff};
use crate::source::FleetSource;

pub const PLUGIN: &str = "session-manager-plugin";
/// The variable the session JSON travels in (plugins newer than 1.2.497.0).
pub const SESSION_ENV: &str = "AWS_SSM_START_SESSION_RESPONSE";
/// The newest plugin that reads the session only from its command line.
const LAST_ARGV_ONLY: [u64; 4] = [1, 2, 497, 0];
/// How long `--version` may take: a plugin that hangs there is broken, and must not hold the
/// action (or a port forward's start) forever.
pub const VERSION_WITHIN: Duration = Duration::from_secs(5);
const INSTALL: &str = "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html";

/// The installed plugin's version (`1.2.707.0`), once it is known to read the session from
/// [`SESSION_ENV`]; else why ecsmon will not use it, with how to install or upgrade it.
pub async fn check_plugin() -> Result<String, String> {
    check_plugin_at(OsStr::new(PLUGIN), VERSION_WITHIN).await
}

/// [`check_plugin`] for the plugin at `program`, allowed `within` to answer. `--version` runs
/// on a thread of its own, never on the async workers, and is killed when it does not answer.
pub async fn check_plugin_at(program: &OsStr, within: Duration) -> Result<String, String> {
    let program = program.to_owned();
    let (tx, rx) = futures::channel::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(version_said(&program, within));
    });
    let said = rx
        .await
        .map_err(|_| format!("{PLUGIN} --version could not be run"))??;
    fit(&said)
}

/// What `program --version` printed, or why it printed nothing usable.
fn version_said(program: &OsStr, within: Duration) -> Result<String, String> {
    use std::os::unix::process::CommandExt;
    let child = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // Its own process group: a timeout ends whatever it started too.
        .process_group(0)
        .spawn()
        .map_err(|_| format!("{PLUGIN} is not installed (not on PATH): install it: {INSTALL}"))?;
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(within) {
        Ok(Ok(out)) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).into()),
        Ok(_) => Err(format!(
            "{PLUGIN} --version failed: reinstall it: {INSTALL}"
        )),
        Err(_) => {
            // SAFETY: kill(2) on the process group of our own child, which has not been reaped
            // (the thread waiting for it has not answered).
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            Err(format!(
                "{PLUGIN} --version did not answer within {}s: it looks broken; reinstall it: \
                 {INSTALL}",
                within.as_secs_f32()
            ))
        }
    }
}

/// The version the plugin said, when it is one that reads the session from [`SESSION_ENV`].
fn fit(said: &str) -> Result<String, String> {
    let said = said.trim();
    let parts: Option<Vec<u64>> = said.split('.').map(|p| p.parse().ok()).collect();
    match parts {
        Some(parts) if parts.as_slice() > LAST_ARGV_ONLY.as_slice() => Ok(said.to_string()),
        Some(_) => Err(format!(
            "{PLUGIN} {said} is too old: up to 1.2.497.0 it takes the session token on its \
             command line, where any user of this machine can read it; upgrade it (any version \
             after 1.2.497.0): {INSTALL}"
        )),
        None => {
            // Its words are drawn: cleaned, and kept short.
            let shown: String = crate::sanitize::clean(said).chars().take(60).collect();
            Err(format!(
                "{PLUGIN} --version said {shown:?}, not a version number, so ecsmon cannot tell \
                 whether it keeps the session token off the command line; reinstall it: \
                 {INSTALL}"
            ))
        }
    }
}

/// Everything that can fail before the terminal is handed over, then the session itself.
pub async fn prepare(source: &dyn FleetSource, op: &Operation) -> Result<SessionHandoff, String> {
    check_plugin().await?;
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

/// The plugin's six arguments. The first names the variable holding the session: the JSON
/// itself (and its token) is never among them.
pub fn plugin_args(handoff: &SessionHandoff) -> Vec<String> {
    vec![
        SESSION_ENV.to_string(),
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
/// [`prepare`] checked the plugin moments before.
pub fn run_plugin(handoff: &SessionHandoff) -> Result<String, String> {
    let mut command = Command::new(PLUGIN);
    command
        .args(plugin_args(handoff))
        .env(SESSION_ENV, &handoff.session_json);
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
    fn only_plugins_newer_than_1_2_497_0_are_used() {
        assert_eq!(fit("1.2.707.0\n"), Ok("1.2.707.0".into()));
        assert_eq!(fit("1.3"), Ok("1.3".into()));
        assert_eq!(fit("2"), Ok("2".into()));
        for old in ["1.2.497.0", "1.2.295.0", "1.2", "1.1.61.0"] {
            let err = fit(old).unwrap_err();
            assert!(err.contains(&format!("{PLUGIN} {old} is too old")), "{err}");
            assert!(err.contains("upgrade it") && err.contains(INSTALL), "{err}");
        }
        for garbage in ["", "v1.2.707.0", "1.2.x", "unknown flag --version", "1..2"] {
            let err = fit(garbage).unwrap_err();
            assert!(err.contains("not a version number"), "{garbage:?}: {err}");
        }
        // What a plugin says is drawn: cleaned first.
        let err = fit("\x1b]0;PWNED\x07 oops").unwrap_err();
        assert!(!err.contains('\x1b') && !err.contains("PWNED"), "{err}");
    }

    #[test]
    fn the_plugin_gets_six_arguments_and_never_the_session() {
        let handoff = SessionHandoff {
            session_json: r#"{"SessionId":"s","StreamUrl":"wss://x","TokenValue":"secret"}"#.into(),
            region: "eu-west-1".into(),
            target_json: r#"{"Target":"ecs:prod_abc_def"}"#.into(),
            endpoint: "https://ecs.eu-west-1.amazonaws.com".into(),
            profile: Some("prod".into()),
        };
        let args = plugin_args(&handoff);
        assert_eq!(args.len(), 6);
        assert_eq!(args[0], SESSION_ENV);
        assert_eq!(args[2], "StartSession");
        assert_eq!(args[3], "prod");
        assert!(!args.iter().any(|a| a.contains("secret")));
    }

    /// A stand-in plugin whose `--version` runs `body`.
    fn fake(name: &str, body: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let dir = crate::config::tests::temp_dir(&format!("plugin-{name}"));
        let path = dir.join(PLUGIN);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Long enough for any machine to start a shell script; the checks below end when the
    /// script does, not when this runs out.
    const PATIENT: Duration = Duration::from_secs(60);

    fn check(path: &std::path::Path, within: Duration) -> Result<String, String> {
        futures::executor::block_on(check_plugin_at(path.as_os_str(), within))
    }

    #[test]
    fn the_installed_plugin_is_asked_its_version_and_refused_when_unfit() {
        assert_eq!(
            check(&fake("new", "echo 1.2.707.0"), PATIENT),
            Ok("1.2.707.0".into())
        );
        let err = check(&fake("old", "echo 1.2.497.0"), PATIENT).unwrap_err();
        assert!(err.contains("1.2.497.0 is too old"), "{err}");
        let err = check(&fake("garbage", "echo 'Usage: plugin [args]'"), PATIENT).unwrap_err();
        assert!(err.contains("not a version number"), "{err}");
        let err = check(&fake("fails", "exit 3"), PATIENT).unwrap_err();
        assert!(err.contains("--version failed"), "{err}");
        let err = check(std::path::Path::new("/nonexistent/plugin"), PATIENT).unwrap_err();
        assert!(err.contains("is not installed"), "{err}");
    }

    #[test]
    fn a_plugin_whose_version_hangs_is_given_up_on_and_killed() {
        let dir = crate::config::tests::temp_dir("plugin-hangs-pid");
        let pid_file = dir.join("pid");
        // It never answers: the limit, however short, is always what ends the wait.
        let hangs = fake(
            "hangs",
            &format!("echo $$ > {}; exec sleep 600", pid_file.display()),
        );
        let err = check(&hangs, Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("did not answer within 0.3s"), "{err}");
        // Killed, not left behind (reaped by the thread that waited for it). On a slow
        // machine it may have been killed before it wrote its pid: then it never will.
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok());
        if let Some(pid) = pid {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            // SAFETY: kill(pid, 0) only asks whether the process exists.
            while unsafe { libc::kill(pid, 0) } == 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_ne!(
                // SAFETY: as above, only asks whether the process exists.
                unsafe { libc::kill(pid, 0) },
                0,
                "the hung plugin was killed"
            );
        }
    }
}
