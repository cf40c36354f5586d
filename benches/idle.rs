//! The built binary in a pseudo-terminal, left alone: CPU over a minute (utime + stime from
//! /proc/<pid>/stat), what it writes to the terminal meanwhile (a redraw shows up as bytes),
//! resident memory, and key-press-to-frame latency (a key written to the pty, until the
//! terminal, emulated by vt100, shows the selection moved). For `--demo` and `--demo large`;
//! with `-- huge`, for `--demo huge` (the core cluster's 60,000 tasks in the pane), then the
//! resident memory again a minute and a half after leaving that pane for the clusters list.
//! `ECSMON_BIN` runs another build of the binary than the one cargo built for the bench.
//! Linux only (/proc).
//! Run: `cargo bench --bench idle --profile dev` (about two and a half minutes).

// sysconf for the clock tick, to turn /proc CPU ticks into seconds.
#![allow(unsafe_code)]

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 50;
const COLS: u16 = 200;
const IDLE: Duration = Duration::from_secs(60);

fn nz(n: u16) -> std::num::NonZero<u16> {
    std::num::NonZero::new(n).expect("a terminal size is never 0")
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf only reads a system constant.
    ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

struct Console {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    /// Bytes read from the terminal so far, and when the last one came.
    bytes: Arc<AtomicUsize>,
    screen: Arc<Mutex<vt100::Parser>>,
    last_output: Arc<Mutex<Instant>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
    _home: std::path::PathBuf,
}

impl Console {
    fn start(args: &[&str]) -> Console {
        let home = std::env::temp_dir().join(format!("ecsmon-idle-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let bin = std::env::var("ECSMON_BIN").unwrap_or(env!("CARGO_BIN_EXE_ecsmon").into());
        let mut cmd = CommandBuilder::new(bin);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", &home);
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_STATE_HOME", home.join("state"));
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let bytes = Arc::new(AtomicUsize::new(0));
        let last_output = Arc::new(Mutex::new(Instant::now()));
        let mut reader = pty.master.try_clone_reader().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(nz(ROWS), nz(COLS), 0)));
        let (b, l, v) = (
            Arc::clone(&bytes),
            Arc::clone(&last_output),
            Arc::clone(&screen),
        );
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                v.lock().unwrap().process(&buf[..n]);
                *l.lock().unwrap() = Instant::now();
                b.fetch_add(n, Ordering::SeqCst);
            }
        });
        let writer = pty.master.take_writer().unwrap();
        Console {
            child,
            writer,
            bytes,
            screen,
            last_output,
            _master: pty.master,
            _home: home,
        }
    }

    fn pid(&self) -> u32 {
        self.child.process_id().expect("a pid")
    }

    fn send(&mut self, keys: &[u8]) {
        self.writer.write_all(keys).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits until nothing has been written for `quiet`.
    fn settle(&self, quiet: Duration) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.last_output.lock().unwrap().elapsed() < quiet && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The screen row drawn in the theme's selection colour (dark theme: #33467c).
    fn selected_row(&self) -> Option<u16> {
        let parser = self.screen.lock().unwrap();
        let screen = parser.screen();
        (0..ROWS).find(|&row| {
            screen
                .cell(row, 2)
                .is_some_and(|c| c.bgcolor() == vt100::Color::Rgb(0x33, 0x46, 0x7c))
        })
    }

    /// From writing `key` (j or k) to the selection drawn on another row.
    fn latency(&mut self, key: &[u8]) -> Duration {
        self.settle(Duration::from_millis(50));
        let before = self.selected_row();
        let t = Instant::now();
        self.send(key);
        while self.selected_row() == before {
            if t.elapsed() > Duration::from_secs(10) {
                panic!("the selection did not move");
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        t.elapsed()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.send_quit();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._home);
    }
}

impl Console {
    fn send_quit(&mut self) -> std::io::Result<()> {
        self.writer.write_all(b"\x03")
    }
}

/// Returns the console, still running, for what the caller measures next.
fn idle(label: &str, args: &[&str], to_rows: &[u8], startup: Duration) -> Console {
    let mut console = Console::start(args);
    let pid = console.pid();
    // Up and drawn, then on the pane to measure.
    std::thread::sleep(startup);
    console.send(to_rows);
    std::thread::sleep(startup + Duration::from_secs(2));
    console.settle(Duration::from_millis(200));

    let cpu0 = cpu_seconds(pid);
    let bytes0 = console.bytes.load(Ordering::SeqCst);
    let t = Instant::now();
    std::thread::sleep(IDLE);
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    let written = console.bytes.load(Ordering::SeqCst) - bytes0;
    println!(
        "\n{label}: idle {secs:.0} s on the tasks pane, {COLS}×{ROWS} pty\n  CPU {cpu:.2} s = {:.2} % of one core; \
         {written} bytes written to the terminal ({:.0} bytes/s); RSS {:.1} MiB",
        cpu / secs * 100.0,
        written as f64 / secs,
        rss_mib(pid)
    );

    let mut samples: Vec<Duration> = (0..40)
        .map(|i| console.latency(if i % 2 == 0 { b"j" } else { b"k" }))
        .collect();
    samples.sort();
    println!(
        "  key press (j/k) to the selection drawn on its new row: median {:.1} ms, p95 {:.1} ms (40 presses)",
        samples[20].as_secs_f64() * 1000.0,
        samples[38].as_secs_f64() * 1000.0
    );
    console
}

fn main() {
    // The cluster's tasks: every task of the fleet in the focused pane.
    if std::env::args().any(|a| a == "huge") {
        let startup = Duration::from_secs(if cfg!(debug_assertions) { 15 } else { 5 });
        let mut console = idle("--demo huge", &["--demo", "huge"], b":tasks\r", startup);
        // Back to the clusters list: the 60,000 tasks are nobody's any more.
        console.send(b"\x1b");
        std::thread::sleep(Duration::from_secs(90));
        println!(
            "  RSS 90 s after leaving the tasks pane for the clusters list: {:.1} MiB",
            rss_mib(console.pid())
        );
        return;
    }
    let startup = Duration::from_secs(3);
    idle("--demo", &["--demo"], b"/prod\r:tasks\r", startup);
    idle("--demo large", &["--demo", "large"], b":tasks\r", startup);
}
