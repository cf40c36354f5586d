//! A key is answered at once, not at the next 1 s tick: the built binary in a pseudo-terminal,
//! a key written, the time to the first byte of the redraw. (The run loop once drained pending
//! terminal events with a no-op waker, which crossterm's EventStream then kept: every key after
//! the first waited for the tick, 0.8 s on average.)

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

#[test]
fn keys_are_answered_without_waiting_for_the_tick() {
    let home = std::env::temp_dir().join(format!("ecsmon-latency-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 140,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_ecsmon"));
    cmd.args(["--demo"]);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", &home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_STATE_HOME", home.join("state"));
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let bytes = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(Mutex::new(Instant::now()));
    let mut reader = pty.master.try_clone_reader().unwrap();
    let (b, l) = (Arc::clone(&bytes), Arc::clone(&last));
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            *l.lock().unwrap() = Instant::now();
            b.fetch_add(n, Ordering::SeqCst);
        }
    });
    let mut writer = pty.master.take_writer().unwrap();
    let started = Instant::now();
    while bytes.load(Ordering::SeqCst) < 1000 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(1));

    let mut samples = Vec::new();
    for key in [b"j", b"k", b"j", b"k", b"j", b"k", b"j"] {
        // Between ticks: nothing written for a moment.
        while last.lock().unwrap().elapsed() < Duration::from_millis(150) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let before = bytes.load(Ordering::SeqCst);
        let sent = Instant::now();
        writer.write_all(key).unwrap();
        writer.flush().unwrap();
        while bytes.load(Ordering::SeqCst) == before && sent.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(1));
        }
        samples.push(sent.elapsed());
    }
    let _ = writer.write_all(b"\x03");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&home);

    samples.sort();
    let median = samples[samples.len() / 2];
    // A debug build answers in a few milliseconds; waiting for the tick costs ~800 ms.
    assert!(
        median < Duration::from_millis(300),
        "key to redraw: {samples:?}"
    );
}
