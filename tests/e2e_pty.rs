//! End to end: the built binary in a pseudo-terminal, driven by keys, read back through a
//! terminal emulator. Checks what an operator would see, the exit status, and that the
//! terminal is handed back in the state the shell left it (cooked mode, main screen).

// libc for the pty's terminal flags and for signalling the binary and the fake plugin.
#![allow(unsafe_code)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

mod support;

const ROWS: u16 = 40;
const COLS: u16 = 140;
/// Generous: CI machines are slow and debug builds slower. Tests wait for text, not for time.
const PATIENCE: Duration = Duration::from_secs(30);

struct Console {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    /// Set by the reader thread at end of output (every holder of the pty has closed it).
    eof: Arc<std::sync::atomic::AtomicBool>,
    home: tempdir::Dir,
}

/// A test that fails half-way must not leave its console running (and spinning) behind it.
impl Drop for Console {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

mod tempdir {
    use std::path::{Path, PathBuf};

    /// A scratch directory removed on drop (XDG dirs of the child, so no user file leaks in).
    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(tag: &str) -> Dir {
            let path = std::env::temp_dir().join(format!(
                "ecsmon-e2e-{tag}-{}-{:?}",
                std::process::id(),
                std::time::SystemTime::now()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Console {
    /// The console on `moto` (us-east-1, test credentials), with `env` on top.
    fn on_moto(tag: &str, moto: &support::Moto, env: &[(&str, &str)]) -> Console {
        let mut all = vec![
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ];
        all.extend_from_slice(env);
        Console::start(
            tag,
            &["--endpoint-url", &moto.endpoint, "--region", "us-east-1"],
            &all,
        )
    }

    fn start(tag: &str, args: &[&str], env: &[(&str, &str)]) -> Console {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_ecsmon"));
        cmd.args(args);
        Console::spawn(tag, cmd, env)
    }

    /// An interactive bash with job control, so Ctrl-z and `fg` work as at a real prompt.
    fn shell(tag: &str) -> Console {
        let mut cmd = CommandBuilder::new("bash");
        // No line editing: readline keeps the tty in its own raw mode at the prompt.
        cmd.args(["--norc", "--noprofile", "--noediting", "-i"]);
        Console::spawn(tag, cmd, &[("PS1", "$ ")])
    }

    fn spawn(tag: &str, mut cmd: CommandBuilder, env: &[(&str, &str)]) -> Console {
        let home = tempdir::Dir::new(tag);
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_STATE_HOME", home.path().join("state"));
        cmd.env("HOME", home.path());
        // Files saved by name only (`S` in a log pane) land in the scratch directory.
        cmd.cwd(home.path());
        // The machine's own AWS setup must not leak into what the test expects.
        for var in support::AWS_ENV_VARS {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn ecsmon");
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(nz(ROWS), nz(COLS), 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let eof = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, r, e) = (Arc::clone(&screen), Arc::clone(&raw), Arc::clone(&eof));
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().process(&buf[..n]);
                r.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            e.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let writer = pty.master.take_writer().expect("writer");
        Console {
            master: pty.master,
            writer,
            child,
            screen,
            raw,
            eof,
            home,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            if start.elapsed() > PATIENCE {
                panic!("`{needle}` never appeared; the screen shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the first of `needles` to appear; the screen then.
    fn wait_for_any(&self, needles: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if needles.iter().any(|n| text.contains(n)) {
                return text;
            }
            if start.elapsed() > PATIENCE {
                panic!("none of {needles:?} appeared; the screen shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // A lone ESC must not merge with the next key into an escape sequence.
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Read everything the process wrote before it went (its last words matter).
                while !self.eof.load(std::sync::atomic::Ordering::SeqCst)
                    && start.elapsed() < PATIENCE
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return status;
            }
            if start.elapsed() > PATIENCE {
                self.child.kill().ok();
                panic!("ecsmon did not exit; screen:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Local-mode flags of the terminal (ICANON, ECHO…), as the shell will find them.
    fn lflags(&self) -> libc::tcflag_t {
        let fd = self.master.as_raw_fd().expect("pty fd");
        // SAFETY: a zeroed termios is a valid out-parameter for tcgetattr(3).
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd is the open pty master; t is a valid termios to fill.
        assert_eq!(unsafe { libc::tcgetattr(fd, &mut t) }, 0, "tcgetattr");
        t.c_lflag
    }

    fn is_cooked(&self) -> bool {
        let f = self.lflags();
        f & libc::ICANON != 0 && f & libc::ECHO != 0
    }

    fn raw_output(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }

    /// The alternate screen was entered and the last switch left it.
    fn left_alternate_screen(&self) -> bool {
        let out = self.raw_output();
        match (out.rfind("\x1b[?1049h"), out.rfind("\x1b[?1049l")) {
            (Some(enter), Some(leave)) => leave > enter,
            _ => false,
        }
    }

    fn pid(&self) -> i32 {
        self.child.process_id().expect("pid") as i32
    }
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("non-zero size")
}

#[test]
fn drill_down_by_keys_and_quit_restores_the_terminal() {
    let mut c = Console::start("drill", &["--demo"], &[]);
    let screen = c.wait_for("Clusters (");
    assert!(screen.contains("demo: default"), "{screen}");
    assert!(screen.contains("prod"), "{screen}");
    assert!(!c.is_cooked(), "raw mode while running");

    // Filter then act: /prod Enter Enter opens the prod cluster's services.
    c.send("/prod");
    c.wait_for("Clusters (1 of");
    c.send("\r");
    c.send("\r");
    let screen = c.wait_for("Services (");
    assert!(screen.contains("clusters › prod"), "{screen}");

    c.send("\r");
    c.wait_for("Tasks (");
    c.send("\r");
    c.wait_for("Containers (");
    c.send("?");
    c.wait_for("Help");
    c.send("\x1b");
    c.send("\x1b");
    c.wait_for("Tasks (");

    c.send("q");
    let status = c.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    assert!(c.is_cooked(), "terminal left in raw mode");
    assert!(c.left_alternate_screen(), "alternate screen not left");
}

/// Issue 14: `s` then `7` on a service whose count is 4 gave 47.
#[test]
fn typing_a_count_into_the_scale_dialog_replaces_the_current_one() {
    let mut c = Console::start("scale", &["--demo"], &[]);
    c.wait_for("Clusters (");
    c.send("/prod");
    c.wait_for("Clusters (1 of");
    c.send("\r");
    c.send("\r");
    c.wait_for("Services (");
    c.send("s");
    c.wait_for("new desired count: ");
    c.send("7");
    let typed = |screen: &str| {
        screen
            .lines()
            .find_map(|l| l.split_once("new desired count: "))
            .map(|(_, rest)| {
                rest.split('│')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            })
    };
    let start = Instant::now();
    let mut screen = c.text();
    while typed(&screen).as_deref() != Some("7") && start.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(50));
        screen = c.text();
    }
    assert_eq!(typed(&screen).as_deref(), Some("7"), "{screen}");
    // Not confirmed: esc leaves without sending anything.
    c.send("\x1b");
    c.wait_for("scale cancelled: nothing was sent");
    c.send("q");
    assert!(c.wait_exit().success());
}

#[test]
fn sigterm_quits_cleanly() {
    let mut c = Console::start("sigterm", &["--demo"], &[]);
    c.wait_for("Clusters (");
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(c.pid(), libc::SIGTERM) };
    let status = c.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    assert!(c.is_cooked());
    assert!(c.left_alternate_screen());
}

#[test]
fn ctrl_z_suspends_to_the_shell_and_fg_comes_back() {
    // Started from an interactive shell, as an operator would: a process whose process group
    // has no parent shell (an orphaned group) is not stopped by SIGTSTP at all.
    let mut c = Console::shell("suspend");
    c.wait_for("$ ");
    c.send(&format!("{} --demo\r", env!("CARGO_BIN_EXE_ecsmon")));
    c.wait_for("Clusters (");
    assert!(!c.is_cooked(), "raw mode while running");

    c.send("\x1a");
    c.wait_for("Stopped");
    assert!(c.is_cooked(), "suspended with the terminal still raw");
    assert!(
        c.left_alternate_screen(),
        "suspended on the alternate screen"
    );

    c.send("fg\r");
    c.wait_for("Clusters (");
    let start = Instant::now();
    while c.is_cooked() {
        assert!(
            start.elapsed() < PATIENCE,
            "raw mode not re-entered after fg"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    c.send("j\r");
    c.wait_for("Services (");

    c.send("q");
    c.wait_for("$ ");
    assert!(c.is_cooked());
    assert!(c.left_alternate_screen());
    c.send("exit $?\r");
    assert!(
        c.wait_exit().success(),
        "ecsmon's exit status, as the shell saw it"
    );
}

#[test]
fn a_panic_restores_the_terminal_before_the_message() {
    let mut c = Console::start("panic", &["--demo"], &[("ECSMON_TEST_PANIC", "1")]);
    c.wait_for("Clusters (");
    c.send("q");
    let status = c.wait_exit();
    assert!(!status.success());
    assert!(c.is_cooked(), "panic left the terminal raw");
    let out = c.raw_output();
    let leave = out.rfind("\x1b[?1049l").expect("alternate screen left");
    let message = out
        .rfind("deliberate test panic")
        .expect("panic message printed");
    assert!(
        message > leave,
        "message printed before the terminal was restored"
    );
}

/// The process whose parent is `parent`, once it has one.
fn child_of(parent: i32) -> i32 {
    let start = Instant::now();
    loop {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid …: the name may hold spaces, so read after its ')'.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            if after.split_whitespace().nth(1) == Some(&parent.to_string()) {
                return entry.file_name().to_str().unwrap().parse().unwrap();
            }
        }
        assert!(start.elapsed() < PATIENCE, "no child of {parent}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` has ended (gone, or a zombie nobody reaped yet).
fn ended(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

#[test]
fn a_terminal_that_hangs_up_ends_the_console_without_a_panic() {
    // `script` holds the console's terminal: killed, its end of the pty closes under the
    // console, as a closed terminal window or a dropped SSH link does.
    let mut cmd = CommandBuilder::new("script");
    // `exec`: whichever shell `script` runs the command with becomes the console itself.
    let console = format!("exec {} --demo", env!("CARGO_BIN_EXE_ecsmon"));
    cmd.args(["-qfec", &console, "/dev/null"]);
    let mut c = Console::spawn("hangup", cmd, &[]);
    c.wait_for("Clusters (");
    let ecsmon = child_of(c.pid());
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(c.pid(), libc::SIGKILL) };
    c.wait_exit();
    let start = Instant::now();
    while !ended(ecsmon) {
        assert!(
            start.elapsed() < PATIENCE,
            "the console outlived its terminal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = std::fs::read_to_string(c.home.path().join("state/ecsmon/ecsmon.log")).unwrap();
    assert!(log.contains("stopping the port forwards"), "{log}");
    assert!(!log.contains("panic"), "{log}");
}

#[test]
fn tiny_terminal_shows_a_note_instead_of_panicking() {
    let mut c = Console::start("tiny", &["--demo"], &[]);
    c.wait_for("Clusters (");
    c.master
        .resize(PtySize {
            rows: 5,
            cols: 20,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    c.screen
        .lock()
        .unwrap()
        .screen_mut()
        .set_size(nz(5), nz(20));
    c.wait_for("too small");
    c.send("q");
    assert!(c.wait_exit().success());
}

fn run_plain(args: &[&str], config_home: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ecsmon"))
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .env("XDG_STATE_HOME", config_home.join("state"))
        .output()
        .expect("run ecsmon")
}

#[test]
fn a_bad_config_file_is_named_and_exits_with_status_2() {
    let dir = tempdir::Dir::new("badconfig");
    let file: PathBuf = dir.path().join("bad.toml");
    std::fs::write(&file, "[refresh]\nfocused_secs = \"soon\"\n").unwrap();
    let out = run_plain(&["--demo", "--config", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("focused_secs"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_demo_scenario_lists_the_known_ones() {
    let dir = tempdir::Dir::new("scenario");
    let out = run_plain(&["--demo", "nope"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("default") && err.contains("large"), "{err}");
}

#[test]
fn version_and_help_work_without_a_terminal() {
    let dir = tempdir::Dir::new("version");
    let out = run_plain(&["--version"], dir.path());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ecsmon "));
    let out = run_plain(&["--help"], dir.path());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--demo",
        "--profile",
        "--region",
        "--endpoint-url",
        "--cluster",
        "--read-only",
        "--refresh",
        "--config",
        "--theme",
        "--log-file",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn cluster_flag_opens_on_that_clusters_services_and_read_only_shows_a_badge() {
    let mut c = Console::start(
        "cluster",
        &["--demo", "--cluster", "staging", "--read-only"],
        &[],
    );
    let screen = c.wait_for("Services (");
    assert!(screen.contains("clusters › staging"), "{screen}");
    assert!(screen.contains("READ-ONLY"), "{screen}");
    c.send("\x1b");
    c.wait_for("Clusters (");
    c.send("q");
    assert!(c.wait_exit().success());
}

/// The fleet view: six contexts in one clusters pane, drilling into one and back, a context's
/// own header while its panes are on screen.
#[test]
fn the_demo_org_opens_the_fleet_view_and_drills_into_one_context() {
    let mut c = Console::start("org", &["--demo", "org"], &[]);
    c.wait_for("fleet view: 6 contexts");
    let screen = c.wait_for("Clusters (17)");
    for column in ["PROFILE", "ACCOUNT", "REGION"] {
        assert!(screen.contains(column), "{screen}");
    }
    // Filter across the columns, then drill in: the context's own header.
    c.send("/shared us-east");
    c.wait_for("Clusters (3 of 17)");
    c.send("\r");
    c.send("\r");
    let screen = c.wait_for("Services (");
    assert!(screen.contains("profile shared"), "{screen}");
    assert!(screen.contains("456789012345"), "{screen}");
    c.send("\x1b");
    c.wait_for("fleet view: 6 contexts");
    c.send(":contexts\r");
    c.wait_for("CONTEXT");
    c.send("\x1b");
    c.send("q");
    assert!(c.wait_exit().success());
    assert!(c.is_cooked());
}

#[test]
fn the_binary_drills_a_moto_fleet_through_the_aws_sdk() {
    let (moto, _runtime) = seeded_moto(support::FleetSpec::new("e2e", 2, 3, 2));
    let mut c = Console::on_moto("moto", &moto, &[]);
    let screen = c.wait_for("Clusters (1)");
    c.wait_for("account 123456789012");
    assert!(screen.contains("e2e"), "{screen}");
    c.send("\r");
    c.wait_for("Services (2)");
    c.send("\r");
    c.wait_for("Tasks (3)");
    c.send("\r");
    c.wait_for("Containers (");
    c.send("q");
    assert!(c.wait_exit().success());
    assert!(c.is_cooked());
}

#[test]
fn without_a_region_the_console_opens_and_says_how_to_set_one() {
    let mut c = Console::start("noregion", &[], &[]);
    let screen = c.wait_for("no AWS region");
    assert!(screen.contains("--region"), "{screen}");
    c.send("q");
    assert!(c.wait_exit().success());
}

/// A stand-in for session-manager-plugin: it records its arguments, the session variable and
/// the terminal's mode, says it is open, and ends when a line is typed.
fn fake_plugin(dir: &std::path::Path, record: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = \"--version\" ]; then echo 1.2.707.0; exit 0; fi\n\
         {{ for a in \"$@\"; do echo \"ARG $a\"; done; echo \"ENV $AWS_SSM_START_SESSION_RESPONSE\"; stty -a; }} > {record}\n\
         echo 'fake plugin: shell open'\n\
         read line\n\
         echo \"remote got $line\" >> {record}\n",
        record = record.display()
    );
    let path = dir.join("session-manager-plugin");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn an_instance_shell_hands_the_terminal_to_the_plugin_and_takes_it_back() {
    let (moto, _runtime) = seeded_moto(support::FleetSpec::new("shell", 1, 1, 1));
    let (bin, path) = plugin_bin("plugin");
    let record = bin.join("record.txt");
    fake_plugin(&bin, &record);
    let mut c = Console::on_moto("shell", &moto, &[("PATH", &path)]);
    c.wait_for("Clusters (1)");
    c.wait_for("account 123456789012");
    c.send(":instances\r");
    c.wait_for("Instances (1)");
    // One key: no confirmation for a shell.
    c.send("s");
    c.wait_for("fake plugin: shell open");
    assert!(c.is_cooked(), "the plugin gets a cooked terminal");
    c.send("whoami\r");
    c.wait_for("Instances (1)");
    c.wait_for("session ended");
    let recorded = std::fs::read_to_string(&record).unwrap();
    let args: Vec<&str> = recorded
        .lines()
        .filter_map(|l| l.strip_prefix("ARG "))
        .collect();
    assert_eq!(args.len(), 6, "{recorded}");
    assert_eq!(
        args[0], "AWS_SSM_START_SESSION_RESPONSE",
        "the token is not in the process list"
    );
    assert_eq!(args[1], "us-east-1");
    assert_eq!(args[2], "StartSession");
    assert!(args[4].contains("\"Target\":\"i-"), "{}", args[4]);
    assert!(
        recorded.contains("ENV {"),
        "the session JSON in the environment: {recorded}"
    );
    assert!(recorded.contains("SessionId"), "{recorded}");
    assert!(
        recorded.contains(" icanon"),
        "cooked mode (icanon) for the plugin: {recorded}"
    );
    assert!(
        recorded.contains("remote got whoami"),
        "keys went to the plugin: {recorded}"
    );
    // Audited.
    let audit = std::fs::read_to_string(c.home.path().join("state/ecsmon/audit.jsonl")).unwrap();
    assert!(audit.contains("\"action\":\"instance-shell\""), "{audit}");
    assert!(
        audit.contains("\"result\":\"ok: session ended\""),
        "{audit}"
    );
    c.send("q");
    assert!(c.wait_exit().success());
    assert!(c.is_cooked());
    let _ = std::fs::remove_dir_all(&bin);
}

#[test]
fn without_the_plugin_the_shell_is_refused_with_how_to_install_it() {
    let (moto, _runtime) = seeded_moto(support::FleetSpec::new("noplugin", 1, 1, 1));
    let mut c = Console::on_moto(
        "noplugin",
        &moto,
        &[
            // Nothing on PATH can be session-manager-plugin.
            ("PATH", "/nonexistent"),
        ],
    );
    c.wait_for("Clusters (1)");
    c.send(":instances\r");
    c.wait_for("Instances (1)");
    c.send("s");
    let screen = c.wait_for("session-manager-plugin is not installed");
    assert!(
        screen.contains("Instances (1)"),
        "the console stays: {screen}"
    );
    let audit = std::fs::read_to_string(c.home.path().join("state/ecsmon/audit.jsonl")).unwrap();
    assert!(
        audit.contains("\"result\":\"failed: session-manager-plugin is not installed"),
        "{audit}"
    );
    c.send("q");
    assert!(c.wait_exit().success());
}

/// A stand-in for session-manager-plugin in port forwarding: records its pid and arguments,
/// says what the real one says once it listens, and stays alive until it is ended.
fn fake_forward_plugin(dir: &std::path::Path, record: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = \"--version\" ]; then echo 1.2.707.0; exit 0; fi\n\
         {{ echo \"PID $$\"; for a in \"$@\"; do echo \"ARG $a\"; done; }} > {record}\n\
         echo 'Waiting for connections...'\n\
         exec sleep 600\n",
        record = record.display()
    );
    let path = dir.join("session-manager-plugin");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn quitting_ends_every_port_forward_plugin_and_terminates_its_session() {
    let (moto, runtime) = seeded_moto(support::FleetSpec::new("fwexit", 1, 1, 1));
    let (bin, path) = plugin_bin("fwexit");
    let record = bin.join("record.txt");
    fake_forward_plugin(&bin, &record);
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = Console::on_moto("fwexit", &moto, &[("PATH", &path)]);
    c.wait_for("Clusters (1)");
    c.wait_for("account 123456789012");
    c.send(":instances\r");
    c.wait_for("Instances (1)");
    c.send("F");
    c.wait_for("Forward a port through i-");
    c.send(&format!("{port}\r"));
    c.send("db.internal:5432\r");
    let confirm = c.wait_for("Confirm");
    assert!(
        confirm.contains(&format!(
            "forward localhost:{port} → db.internal:5432 through i-"
        )),
        "{confirm}"
    );
    c.send("y");
    c.wait_for(":forwards lists it");
    let text = std::fs::read_to_string(&record).unwrap();
    let pid: i32 = text
        .lines()
        .find_map(|l| l.strip_prefix("PID "))
        .and_then(|p| p.parse().ok())
        .expect("the plugin's pid");
    // SAFETY: kill(pid, 0) only asks whether the process exists.
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0, "the plugin runs");
    assert!(
        text.contains("AWS-StartPortForwardingSessionToRemoteHost"),
        "{text}"
    );
    // The console keeps the terminal: the plugin runs in the background.
    assert!(!c.is_cooked());
    c.send(":forwards\r");
    c.wait_for("Port forwards (1 running)");
    // q closes the view, the next q quits.
    c.send("q");
    c.send("q");
    assert!(c.wait_exit().success());
    assert!(c.is_cooked());
    let deadline = Instant::now() + PATIENCE;
    // SAFETY: as above.
    while unsafe { libc::kill(pid, 0) } == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_ne!(
        // SAFETY: kill(pid, 0) only asks whether the process exists.
        unsafe { libc::kill(pid, 0) },
        0,
        "the plugin outlived ecsmon"
    );
    let terminated = runtime.block_on(moto.calls("ssm:TerminateSession"));
    assert_eq!(terminated, 1);
    assert!(
        c.raw_output().contains("ecsmon: stopped 1 port forward"),
        "said on the way out"
    );
    let _ = std::fs::remove_dir_all(&bin);
}

#[test]
fn without_the_plugin_a_port_forward_is_refused_before_any_session() {
    let (moto, runtime) = seeded_moto(support::FleetSpec::new("fwnoplugin", 1, 1, 1));
    let mut c = Console::on_moto("fwnoplugin", &moto, &[("PATH", "/nonexistent")]);
    c.wait_for("Clusters (1)");
    c.send(":instances\r");
    c.wait_for("Instances (1)");
    c.send("F");
    c.wait_for("Forward a port through i-");
    c.send("15999\r");
    c.send("5432\r");
    c.wait_for("Confirm");
    c.send("y");
    let screen = c.wait_for("session-manager-plugin is not installed");
    assert!(
        screen.contains("Instances (1)"),
        "the console stays: {screen}"
    );
    assert_eq!(runtime.block_on(moto.calls("ssm:StartSession")), 0);
    c.send("q");
    assert!(c.wait_exit().success());
}

/// A stand-in session-manager-plugin that says it is `version` and records every call's
/// arguments (one `CALL` line each).
fn fake_plugin_of_version(dir: &std::path::Path, record: &std::path::Path, version: &str) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        "#!/bin/sh\n\
         echo \"CALL $*\" >> {record}\n\
         if [ \"$1\" = \"--version\" ]; then echo {version}; exit 0; fi\n\
         echo 'Waiting for connections...'\n\
         exec sleep 600\n",
        record = record.display()
    );
    let path = dir.join("session-manager-plugin");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_key_is_answered_while_two_thousand_services_load() {
    // 2,000 services, each DescribeServices held 2 s by moto's front: loading them all takes
    // well over a minute, so every key below is answered while rows still wait for details.
    let moto = support::Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = support::sdk_config(&moto.endpoint).await;
        support::seed::seed_services(&config, "huge", 2_000).await;
        moto.inject(serde_json::json!({
            "op": "ecs:DescribeServices", "kind": "slow", "delay": 2, "seconds": 300
        }))
        .await;
    });
    let mut c = Console::on_moto("huge", &moto, &[]);
    c.wait_for("Clusters (1)");
    c.send("\r");
    // The rows show once the list pages are in, before their details.
    let screen = c.wait_for("Services (2,000 ·");
    assert!(screen.contains("loading"), "{screen}");
    // A filter typed now is applied at once, the pane still loading.
    c.send("/svc-1999");
    let screen = c.wait_for("Services (1 of 2,000 ·");
    assert!(screen.contains("svc-1999"), "{screen}");
    c.send("\x1b");
    c.send("q");
    assert!(c.wait_exit().success());
    assert!(c.is_cooked());
}

/// A moto of its own with `spec` seeded, and the runtime that seeded it (for asking moto more
/// later).
fn seeded_moto(spec: support::FleetSpec) -> (support::Moto, tokio::runtime::Runtime) {
    let moto = support::Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = support::sdk_config(&moto.endpoint).await;
        support::seed(&config, &spec).await;
    });
    (moto, runtime)
}

/// A directory of its own on PATH (scratch names hold colons, which PATH cannot).
fn plugin_bin(tag: &str) -> (PathBuf, String) {
    let bin = std::env::temp_dir().join(format!("ecsmon-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&bin);
    std::fs::create_dir_all(&bin).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (bin, path)
}

#[test]
fn a_plugin_too_old_to_keep_the_token_off_the_command_line_is_refused() {
    let (moto, runtime) = seeded_moto(support::FleetSpec::new("oldplugin", 1, 1, 1));
    let (bin, path) = plugin_bin("oldplugin");
    let record = bin.join("calls.txt");
    fake_plugin_of_version(&bin, &record, "1.2.497.0");
    let mut c = Console::on_moto("oldplugin", &moto, &[("PATH", &path)]);
    c.wait_for("Clusters (1)");
    c.send(":instances\r");
    c.wait_for("Instances (1)");
    // The shell on the instance (confirmed first where it asks): refused, and says why.
    c.send("s");
    if c.wait_for_any(&["Confirm", "too old"]).contains("Confirm") {
        c.send("y");
    }
    let screen = c.wait_for("session-manager-plugin 1.2.497.0 is too old");
    assert!(
        screen.contains("Instances (1)"),
        "the console stays: {screen}"
    );
    // A port forward: refused the same way, before any session is opened.
    c.send("F");
    c.wait_for("Forward a port through i-");
    c.send("15998\r");
    c.send("5432\r");
    c.wait_for("Confirm");
    c.send("y");
    let audit_file = c.home.path().join("state/ecsmon/audit.jsonl");
    let start = Instant::now();
    let audit = loop {
        let audit = std::fs::read_to_string(&audit_file).unwrap_or_default();
        let outcome = audit
            .lines()
            .any(|l| l.contains("\"action\":\"port-forward\"") && !l.contains("\"requested\""));
        if outcome || start.elapsed() > PATIENCE {
            break audit;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for action in ["instance-shell", "port-forward"] {
        // Its outcome, after the `requested` line of the operator's intent.
        let line = audit
            .lines()
            .find(|l| {
                l.contains(&format!("\"action\":\"{action}\""))
                    && l.contains("\"stage\":\"failed\"")
            })
            .unwrap_or_else(|| panic!("{action} audited: {audit}"));
        assert!(
            line.contains("failed: session-manager-plugin 1.2.497.0 is too old"),
            "{line}"
        );
    }
    assert_eq!(
        runtime.block_on(moto.calls("ssm:StartSession")),
        0,
        "no session was opened for a plugin that would be refused"
    );
    // The plugin was only ever asked its version: no call carried a session.
    let calls = std::fs::read_to_string(&record).unwrap();
    assert!(
        !calls.is_empty() && calls.lines().all(|l| l == "CALL --version"),
        "{calls}"
    );
    c.send("q");
    assert!(c.wait_exit().success());
    let _ = std::fs::remove_dir_all(&bin);
}

#[test]
fn a_port_forward_plugin_dies_with_ecsmon_even_when_ecsmon_is_killed() {
    let (moto, _runtime) = seeded_moto(support::FleetSpec::new("fwkill", 1, 1, 1));
    let (bin, path) = plugin_bin("fwkill");
    let record = bin.join("record.txt");
    fake_forward_plugin(&bin, &record);
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = Console::on_moto("fwkill", &moto, &[("PATH", &path)]);
    c.wait_for("Clusters (1)");
    c.send(":instances\r");
    c.wait_for("Instances (1)");
    c.send("F");
    c.wait_for("Forward a port through i-");
    c.send(&format!("{port}\r"));
    c.send("db.internal:5432\r");
    c.wait_for("Confirm");
    c.send("y");
    c.wait_for(":forwards lists it");
    let text = std::fs::read_to_string(&record).unwrap();
    let pid: i32 = text
        .lines()
        .find_map(|l| l.strip_prefix("PID "))
        .and_then(|p| p.parse().ok())
        .expect("the plugin's pid");
    // SAFETY: kill(pid, 0) only asks whether the process exists.
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0, "the plugin runs");
    // Killed: no chance to stop anything itself.
    // SAFETY: SIGKILL to the ecsmon this test started.
    assert_eq!(unsafe { libc::kill(c.pid(), libc::SIGKILL) }, 0);
    let status = c.wait_exit();
    assert!(!status.success());
    let deadline = Instant::now() + PATIENCE;
    // SAFETY: as above.
    while unsafe { libc::kill(pid, 0) } == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_ne!(
        // SAFETY: kill(pid, 0) only asks whether the process exists.
        unsafe { libc::kill(pid, 0) },
        0,
        "the plugin outlived a killed ecsmon"
    );
    let _ = std::fs::remove_dir_all(&bin);
}

/// The permission bits of `path` (not following a link).
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .mode()
        & 0o777
}

#[test]
fn every_file_ecsmon_writes_is_private_and_none_is_overwritten() {
    let mut c = Console::start("files", &["--demo"], &[]);
    let home = c.home.path().to_path_buf();
    c.wait_for("Clusters (");
    // An export to a name that exists, then to one where a link waits: neither is touched.
    let taken = home.join("incident.md");
    std::fs::write(&taken, "mine").unwrap();
    let victim = home.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, home.join("linked.md")).unwrap();
    // Relative names (the console runs in `home`), so the status line holds the whole message.
    c.send(":export incident.md\r");
    c.wait_for("written to incident-2.md (incident.md exists: ecsmon never overwrites a file)");
    c.send(":export linked.md\r");
    c.wait_for("written to linked-2.md (linked.md exists");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "mine");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(
        std::fs::read_to_string(home.join("incident-2.md"))
            .unwrap()
            .contains("| Account | 123456789012 |")
    );
    // The default place: the state directory's exports, created 0700.
    c.send(":export\r");
    c.wait_for("incident snapshot written to");
    let exports = home.join("state/ecsmon/exports");
    assert_eq!(mode_of(&exports), 0o700);
    // A log pane saved twice in the same second: two files.
    c.send("/prod\r");
    c.send("\r");
    c.wait_for("Services (");
    c.send("/cart\r");
    c.send("\r");
    c.wait_for("Tasks (");
    c.send("l");
    c.send("S");
    c.wait_for("saved the log to");
    c.send("S");
    c.wait_for("never overwrites");
    // An action, for the audit log.
    c.send("\x1b");
    c.send("x");
    c.wait_for("Confirm");
    c.send("y");
    let audit = home.join("state/ecsmon/audit.jsonl");
    let start = Instant::now();
    while !audit.exists() && start.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(50));
    }
    c.send("q");
    assert!(c.wait_exit().success());

    let saved: Vec<PathBuf> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    assert_eq!(saved.len(), 2, "{saved:?}");
    let mut written = saved;
    written.extend([
        home.join("incident-2.md"),
        home.join("linked-2.md"),
        audit,
        home.join("state/ecsmon/ecsmon.log"),
    ]);
    written.extend(
        std::fs::read_dir(&exports)
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    for file in &written {
        assert_eq!(mode_of(file), 0o600, "{}", file.display());
    }
    assert_eq!(mode_of(&home.join("state/ecsmon")), 0o700);
}

#[test]
fn a_panic_in_a_background_task_leaves_the_console_running_with_the_error_shown() {
    // The first poll panics inside its task (a debug-build hook).
    let mut c = Console::start(
        "taskpanic",
        &["--demo"],
        &[("ECSMON_TEST_PANIC_POLLER", "1")],
    );
    let screen = c.wait_for("internal error while polling");
    assert!(
        screen.contains("deliberate test panic in a poller"),
        "{screen}"
    );
    assert!(!c.is_cooked(), "the terminal is still the console's");
    assert!(!c.left_alternate_screen(), "still on the alternate screen");
    assert!(
        !c.raw_output().contains("panicked at"),
        "no panic message printed over the screen"
    );
    // The poll is retried and answers: the console went on.
    c.wait_for("prod");
    c.send("\r");
    c.wait_for("Services (");
    c.send("q");
    assert!(c.wait_exit().success());
    assert!(c.is_cooked());
    assert!(c.left_alternate_screen());
}

#[test]
fn sigint_and_sigquit_from_outside_quit_cleanly() {
    for (tag, sig) in [("sigint", libc::SIGINT), ("sigquit", libc::SIGQUIT)] {
        let mut c = Console::start(tag, &["--demo"], &[]);
        c.wait_for("Clusters (");
        assert!(!c.is_cooked());
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(c.pid(), sig) };
        let status = c.wait_exit();
        assert!(status.success(), "{tag}: exit status {status:?}");
        assert!(c.is_cooked(), "{tag}: terminal left raw");
        assert!(
            c.left_alternate_screen(),
            "{tag}: alternate screen not left"
        );
    }
}

/// Every line of the audit log under `dir` (the console's XDG dirs), parsed.
fn audit_lines(dir: &std::path::Path) -> Vec<serde_json::Value> {
    fn find(dir: &std::path::Path) -> Option<PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if let Some(found) = find(&path) {
                    return Some(found);
                }
            } else if path.file_name().is_some_and(|n| n == "audit.jsonl") {
                return Some(path);
            }
        }
        None
    }
    let Some(path) = find(dir) else {
        return Vec::new();
    };
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn quitting_with_a_change_under_way_waits_then_audits_it_unknown_and_says_how_to_check() {
    let (moto, runtime) = seeded_moto(support::FleetSpec::new("e2equit", 1, 1, 1));
    runtime.block_on(async {
        // moto carries the redeploy out; its answer is held for a minute.
        moto.inject(serde_json::json!({
            "op": "ecs:UpdateService", "kind": "lost", "count": 1, "delay": 60
        }))
        .await;
    });
    let mut c = Console::on_moto("quitwait", &moto, &[]);
    c.wait_for("Clusters (1)");
    c.wait_for("account 123456789012");
    c.send("\r");
    c.wait_for("Services (1)");
    c.send("R");
    c.wait_for("Confirm");
    c.send("y");
    c.wait_for("force a new deployment");
    c.send("q");
    c.wait_for("quitting: waiting up to 5 s for the answer to svc-000");
    let status = c.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    assert!(c.is_cooked());
    let out = c.raw_output();
    let restored = out.rfind("\x1b[?1049l").expect("alternate screen left");
    let said = out
        .rfind("no answer came within 5 s before quitting")
        .expect("said on the way out");
    assert!(said > restored, "said once the terminal is restored");
    assert!(
        out[said..].contains("aws ecs describe-services --cluster e2equit --services svc-000"),
        "{}",
        &out[said..]
    );
    let audit = audit_lines(c.home.path());
    let stages: Vec<&str> = audit.iter().map(|l| l["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["requested", "unknown"], "{audit:?}");
    assert_eq!(audit[0]["id"], audit[1]["id"]);
    assert_eq!(audit[1]["action"], "redeploy");
    let sent = runtime.block_on(moto.calls("ecs:UpdateService"));
    assert_eq!(sent, 1, "sent once");
}
