//! Port forwards carried in the background: the local port checked free, the SSM session opened
//! through the source, `session-manager-plugin` started as a child process (stdin closed, its
//! output drained and kept for the reason it ends, in a process group of its own so the
//! terminal's Ctrl-C and Ctrl-Z never reach it), watched until it ends, and stopped — plugin
//! ended, `TerminateSession` — when asked or when ecsmon exits.
//!
//! The demo fleet has no SSM: its forwards are a local listener that answers each connection
//! with a line saying what it stands for.

// libc for what std lacks: signalling the plugin's process group, a parent-death
// signal set between fork and exec, and waitid without reaping. Every block says why it is sound.
#![allow(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::model::{ForwardOpening, Operation, SessionHandoff};
use crate::source::FleetSource;
use crate::source::session::{self, PLUGIN, SESSION_ENV};

/// Called with the forward's id and why when its plugin (or listener) ends.
pub type Notify = Arc<dyn Fn(u64, String) + Send + Sync>;

/// How long a new plugin has to say it listens (or to die trying) before it counts as started.
const READY_WITHIN: Duration = Duration::from_secs(3);
/// The plugin's line once its local listener is up.
const READY_LINE: &str = "Waiting for connections";
/// How long a stopped plugin has to end after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_millis(1500);
/// `TerminateSession` may take this long at exit; a slow network must not hold ecsmon.
const TERMINATE_WITHIN: Duration = Duration::from_secs(3);
/// Output lines kept per plugin, for the reason it ended.
const KEPT_LINES: usize = 20;

/// The forwards of one console.
#[derive(Default)]
pub struct ForwardRunner {
    entries: Mutex<HashMap<u64, Entry>>,
    /// Set (under the entries' lock) when ecsmon is quitting: a forward still starting then
    /// ends at once instead of outliving the shutdown.
    closing: AtomicBool,
}

/// ecsmon is quitting: what a forward that was still starting says.
const QUITTING: &str = "ecsmon is quitting";

struct Entry {
    process: Process,
    session_id: Option<String>,
    source: Arc<dyn FleetSource>,
    stopping: Arc<AtomicBool>,
    ended: Arc<AtomicBool>,
}

enum Process {
    /// The plugin's pid (also its process group). `exited` turns true, under its lock, before
    /// the child is reaped: a signal sent while it is false cannot reach a recycled pid.
    Plugin {
        pid: i32,
        exited: Arc<Mutex<bool>>,
    },
    Listener,
}

impl Process {
    fn signal(&self, sig: libc::c_int) {
        if let Process::Plugin { pid, exited } = self {
            let exited = exited.lock().unwrap_or_else(|e| e.into_inner());
            if !*exited {
                // SAFETY: kill(2) on the plugin's own process group, which is still alive.
                unsafe {
                    libc::kill(-*pid, sig);
                }
            }
        }
    }
}

/// The local port is free to listen on, or why not, in plain words.
pub fn check_local_port(port: u16) -> Result<(), String> {
    match TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Ok(()),
        Err(e) => Err(port_error(port, &e)),
    }
}

fn port_error(port: u16, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "local port {port} is already in use on this machine (another program or forward \
             listens there): pick another local port"
        ),
        std::io::ErrorKind::PermissionDenied => {
            format!("local port {port} needs root (ports below 1024): pick one above 1023")
        }
        _ => format!("cannot listen on localhost:{port}: {e}"),
    }
}

impl ForwardRunner {
    pub fn new() -> Arc<ForwardRunner> {
        Arc::new(ForwardRunner::default())
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps a started forward, unless ecsmon is quitting (then `false`).
    fn register(&self, id: u64, entry: Entry) -> bool {
        let mut entries = self.entries();
        if self.closing.load(Ordering::SeqCst) {
            return false;
        }
        entries.insert(id, entry);
        true
    }

    /// Forwards still running.
    pub fn live(&self) -> usize {
        self.entries()
            .values()
            .filter(|e| !e.ended.load(Ordering::SeqCst))
            .count()
    }

    /// Checks the local port, opens the session, starts the plugin; says what it does, or why
    /// it could not.
    pub async fn start(
        &self,
        id: u64,
        op: &Operation,
        source: Arc<dyn FleetSource>,
        notify: Notify,
    ) -> Result<String, String> {
        let Operation::PortForward { local_port, .. } = op else {
            return Err(format!("{} is not a port forward", op.verb()));
        };
        let port = *local_port;
        check_local_port(port)?;
        // Before any session is opened: a missing or unfit plugin would leave it dangling.
        if source.forwards_need_plugin() {
            session::check_plugin().await?;
        }
        let opening = source.open_forward(op).await.map_err(|e| e.message)?;
        match opening {
            ForwardOpening::Plugin {
                handoff,
                session_id,
            } => {
                let started = self
                    .start_plugin(id, &handoff, &session_id, Arc::clone(&source), notify)
                    .await;
                if started.is_err() && !session_id.is_empty() {
                    // The session was opened for nothing: end it on AWS's side too.
                    let _ = tokio::time::timeout(
                        TERMINATE_WITHIN,
                        source.terminate_session(&session_id),
                    )
                    .await;
                    self.entries().remove(&id);
                }
                started.map(|()| format!("{} (session {session_id})", op.summary()))
            }
            ForwardOpening::Simulated { banner } => {
                self.start_listener(id, port, banner, source, notify)?;
                Ok(format!(
                    "{} (demo: a local listener stands in for SSM)",
                    op.summary()
                ))
            }
        }
    }

    async fn start_plugin(
        &self,
        id: u64,
        handoff: &SessionHandoff,
        session_id: &str,
        source: Arc<dyn FleetSource>,
        notify: Notify,
    ) -> Result<(), String> {
        let mut child = spawn_plugin(handoff)?;
        let output: Arc<Mutex<VecDeque<String>>> = Arc::default();
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            drain(pipe, Arc::clone(&output));
        }
        let pid = child.id() as i32;
        let exited = Arc::new(Mutex::new(false));
        let stopping = Arc::new(AtomicBool::new(false));
        let ended = Arc::new(AtomicBool::new(false));
        let entry = Entry {
            process: Process::Plugin {
                pid,
                exited: Arc::clone(&exited),
            },
            session_id: (!session_id.is_empty()).then(|| session_id.to_string()),
            source,
            stopping: Arc::clone(&stopping),
            ended: Arc::clone(&ended),
        };
        if !self.register(id, entry) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(QUITTING.into());
        }
        watch(
            id,
            child,
            exited,
            stopping,
            Arc::clone(&ended),
            Arc::clone(&output),
            notify,
        );
        // Started once it listens; a plugin that dies first says why.
        let deadline = std::time::Instant::now() + READY_WITHIN;
        while std::time::Instant::now() < deadline {
            if ended.load(Ordering::SeqCst) {
                return Err(format!(
                    "{PLUGIN} ended at once: {}",
                    last_words(&output).unwrap_or_else(|| "it said nothing".into())
                ));
            }
            if lines(&output).iter().any(|l| l.contains(READY_LINE)) {
                break;
            }
            pause(Duration::from_millis(25)).await;
        }
        Ok(())
    }

    fn start_listener(
        &self,
        id: u64,
        port: u16,
        banner: String,
        source: Arc<dyn FleetSource>,
        notify: Notify,
    ) -> Result<(), String> {
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| port_error(port, &e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot listen on localhost:{port}: {e}"))?;
        let stopping = Arc::new(AtomicBool::new(false));
        let ended = Arc::new(AtomicBool::new(false));
        let entry = Entry {
            process: Process::Listener,
            session_id: None,
            source,
            stopping: Arc::clone(&stopping),
            ended: Arc::clone(&ended),
        };
        if !self.register(id, entry) {
            return Err(QUITTING.into());
        }
        std::thread::spawn(move || {
            let reason = loop {
                if stopping.load(Ordering::SeqCst) {
                    break "stopped".to_string();
                }
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.write_all(banner.as_bytes());
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(e) => break format!("the listener failed: {e}"),
                }
            };
            drop(listener);
            ended.store(true, Ordering::SeqCst);
            notify(id, reason);
        });
        Ok(())
    }

    /// Stops one forward: its plugin ended (SIGTERM, then SIGKILL), its session terminated.
    pub async fn stop(&self, id: u64) {
        let entry = self.entries().remove(&id);
        if let Some(entry) = entry {
            stop_entry(entry).await;
        }
    }

    /// Stops every forward, all at once; returns how many were running. For ecsmon's exit.
    pub async fn shutdown(&self) -> usize {
        let entries: Vec<Entry> = {
            let mut entries = self.entries();
            self.closing.store(true, Ordering::SeqCst);
            entries.drain().map(|(_, e)| e).collect()
        };
        let live = entries
            .iter()
            .filter(|e| !e.ended.load(Ordering::SeqCst))
            .count();
        futures::future::join_all(entries.into_iter().map(stop_entry)).await;
        live
    }
}

/// A panic or an error path that never reached `shutdown`: no plugin outlives ecsmon.
impl Drop for ForwardRunner {
    fn drop(&mut self) {
        for entry in self.entries().values() {
            entry.stopping.store(true, Ordering::SeqCst);
            entry.process.signal(libc::SIGKILL);
        }
    }
}

/// Sleeps on tokio's timer when there is a runtime (the console), else the thread (a test
/// harness on a plain executor).
async fn pause(d: Duration) {
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::time::sleep(d).await;
    } else {
        std::thread::sleep(d);
    }
}

async fn stop_entry(entry: Entry) {
    entry.stopping.store(true, Ordering::SeqCst);
    entry.process.signal(libc::SIGTERM);
    let deadline = std::time::Instant::now() + TERM_GRACE;
    while !entry.ended.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        pause(Duration::from_millis(20)).await;
    }
    if !entry.ended.load(Ordering::SeqCst) {
        entry.process.signal(libc::SIGKILL);
    }
    if let Some(session_id) = &entry.session_id {
        match tokio::time::timeout(TERMINATE_WITHIN, entry.source.terminate_session(session_id))
            .await
        {
            Ok(Ok(())) => tracing::info!(session_id, "port forward session terminated"),
            Ok(Err(e)) => tracing::warn!(session_id, "TerminateSession failed: {}", e.message),
            Err(_) => tracing::warn!(session_id, "TerminateSession did not answer in time"),
        }
    }
}

/// The plugin with the AWS CLI's six arguments (the session in [`SESSION_ENV`]), in the
/// background: no terminal, a process group of its own, and ended by the kernel if ecsmon
/// dies without stopping it (killed, crashed), so no local port or SSM session outlives it.
fn spawn_plugin(handoff: &SessionHandoff) -> Result<Child, String> {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(PLUGIN);
    command
        .args(session::plugin_args(handoff))
        .env(SESSION_ENV, &handoff.session_json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    die_with_ecsmon(&mut command);
    spawn_from_lasting_thread(command).map_err(|e| format!("could not start {PLUGIN}: {e}"))
}

/// Asks the kernel to send the child SIGTERM when ecsmon ends, however it ends
/// (`PR_SET_PDEATHSIG`; SIGTERM lets the plugin close its session on the way out).
#[cfg(target_os = "linux")]
fn die_with_ecsmon(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let ecsmon = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec only prctl(2) and getppid(2), both async-signal-safe, and
    // an error built without allocating.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // ecsmon died before the prctl took hold: the signal will never come.
            if libc::getppid() != ecsmon {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_ecsmon(_command: &mut Command) {}

/// Spawns `command` from one thread that lives as long as ecsmon. Linux sends the
/// parent-death signal when the *thread* that forked the child ends, not the process, and the
/// tokio worker or blocking thread that starts a forward may end long before ecsmon does.
fn spawn_from_lasting_thread(command: Command) -> std::io::Result<Child> {
    type Request = (Command, std::sync::mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: std::sync::OnceLock<std::sync::mpsc::Sender<Request>> =
        std::sync::OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("ecsmon-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("a thread to start background plugins from");
        tx
    });
    let (reply, answer) = std::sync::mpsc::channel();
    spawner
        .send((command, reply))
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    answer
        .recv()
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?
}

/// Reads a pipe to its end, keeping the last lines (cleaned: they are drawn).
fn drain(pipe: Box<dyn Read + Send>, kept: Arc<Mutex<VecDeque<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let line = crate::sanitize::clean(line.trim()).into_owned();
            if line.is_empty() {
                continue;
            }
            let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
            if kept.len() == KEPT_LINES {
                kept.pop_front();
            }
            kept.push_back(line);
        }
    });
}

fn lines(output: &Mutex<VecDeque<String>>) -> Vec<String> {
    output
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect()
}

/// The plugin's last line that says something (not its banner lines).
fn last_words(output: &Mutex<VecDeque<String>>) -> Option<String> {
    lines(output)
        .into_iter()
        .rev()
        .find(|l| !l.starts_with("Starting session") && !l.contains(READY_LINE))
}

/// Waits for the plugin to end, in a thread of its own, and says why it ended.
fn watch(
    id: u64,
    mut child: Child,
    exited: Arc<Mutex<bool>>,
    stopping: Arc<AtomicBool>,
    ended: Arc<AtomicBool>,
    output: Arc<Mutex<VecDeque<String>>>,
    notify: Notify,
) {
    std::thread::spawn(move || {
        wait_without_reaping(child.id() as i32);
        *exited.lock().unwrap_or_else(|e| e.into_inner()) = true;
        let status = child.wait();
        // Let the readers take the last lines it wrote.
        std::thread::sleep(Duration::from_millis(50));
        let reason = if stopping.load(Ordering::SeqCst) {
            "stopped".to_string()
        } else {
            let how = match status {
                Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (Some(code), _) => format!("{PLUGIN} exited with status {code}"),
                    (None, Some(sig)) => format!("{PLUGIN} was killed by signal {sig}"),
                    (None, None) => format!("{PLUGIN} ended"),
                },
                Err(e) => format!("{PLUGIN} could not be waited for: {e}"),
            };
            match last_words(&output) {
                Some(said) => format!("{how}: {said}"),
                None => how,
            }
        };
        ended.store(true, Ordering::SeqCst);
        notify(id, reason);
    });
}

/// Blocks until the process has ended, leaving it unreaped (`WNOWAIT`).
fn wait_without_reaping(pid: i32) {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid(2).
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waits on our own child; WNOWAIT leaves it to `Child::wait`.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_in_use_is_said_plainly() {
        let held = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        let err = check_local_port(port).unwrap_err();
        assert!(
            err.contains(&format!("local port {port} is already in use")),
            "{err}"
        );
        drop(held);
        assert_eq!(check_local_port(port), Ok(()));
    }

    fn demo_forward(port: u16) -> (Arc<dyn FleetSource>, Operation) {
        let now = chrono::Utc::now();
        let demo = crate::source::demo::DemoSource::new(
            "default",
            1,
            now,
            crate::source::demo::DemoClock::Fixed(now),
        )
        .unwrap();
        let op = Operation::PortForward {
            cluster: "prod".into(),
            target: crate::model::ForwardTarget::Instance {
                ec2_instance_id: "i-0abc".into(),
            },
            local_port: port,
            remote_host: None,
            remote_port: 22,
        };
        (Arc::new(demo), op)
    }

    #[test]
    fn a_demo_forward_listens_until_stopped_and_none_starts_once_quitting() {
        use futures::executor::block_on;
        let port = TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (source, op) = demo_forward(port);
        let ended: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
        let seen = Arc::clone(&ended);
        let notify: Notify = Arc::new(move |id, why| seen.lock().unwrap().push((id, why)));
        let runner = ForwardRunner::new();
        let said = block_on(runner.start(7, &op, Arc::clone(&source), Arc::clone(&notify)));
        assert!(said.unwrap().contains("demo"));
        assert_eq!(runner.live(), 1);
        let mut reply = String::new();
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.read_to_string(&mut reply).unwrap();
        assert!(reply.contains("forward localhost:"), "{reply}");
        assert_eq!(block_on(runner.shutdown()), 1);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while ended.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(*ended.lock().unwrap(), vec![(7, "stopped".to_string())]);
        // Quitting: a forward that was still starting does not outlive it.
        let err = block_on(runner.start(8, &op, source, notify)).unwrap_err();
        assert_eq!(err, QUITTING);
        assert_eq!(check_local_port(port), Ok(()));
    }
}
