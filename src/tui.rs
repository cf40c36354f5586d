//! Owns the terminal: raw mode and the alternate screen on the way in, and always restored on
//! the way out — on quit, on drop, on a panic that takes the console down (before the message
//! is printed), and around Ctrl-z suspension. A panic in a background task does not take it
//! down: the terminal stays the console's, and the task's supervisor shows the error.

// libc::raise for Ctrl-z: std cannot stop its own process. The block says why it is sound.
#![allow(unsafe_code)]

use std::io::{self, Stdout, Write, stdout};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Backend = CrosstermBackend<Stdout>;

pub struct Tui {
    /// Never dropped: ratatui's drop shows the cursor again and, when that fails — the
    /// terminal hung up — says so with `eprintln!`, which panics with no stderr left.
    /// [`restore`] shows the cursor; the rest of it goes with the process (one a process).
    pub terminal: std::mem::ManuallyDrop<Terminal<Backend>>,
    mouse: bool,
}

/// Whether the terminal is in our mode (raw, alternate screen). Process-wide, because the
/// panic hook restores the terminal without access to the `Tui`, and the guard's `Drop` must
/// not then send the sequences a second time after the panic message.
static ACTIVE: AtomicBool = AtomicBool::new(false);

impl Tui {
    pub fn new(mouse: bool) -> io::Result<Self> {
        Ok(Tui {
            terminal: std::mem::ManuallyDrop::new(Terminal::new(CrosstermBackend::new(stdout()))?),
            mouse,
        })
    }

    pub fn enter(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        execute!(
            stdout(),
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        )?;
        if self.mouse {
            execute!(stdout(), EnableMouseCapture)?;
        }
        ACTIVE.store(true, Ordering::SeqCst);
        // Clear and force a full redraw. Not `Terminal::clear`: it asks the terminal for the
        // cursor position, a round trip that stalls (or fails) on slow links and silent ptys.
        let size = self.terminal.size()?;
        self.terminal
            .resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
    }

    pub fn exit(&mut self) -> io::Result<()> {
        restore()
    }

    /// Ctrl-z: give the terminal back, stop like any job, and come back on `fg`.
    pub fn suspend(&mut self) -> io::Result<()> {
        self.exit()?;
        // SAFETY: raise() only delivers a signal to this process; SIGTSTP's default action
        // stops it until SIGCONT, after which raise() returns.
        unsafe {
            libc::raise(libc::SIGTSTP);
        }
        self.enter()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.exit();
    }
}

/// Puts the terminal back the way the shell expects it. Only the first call after `enter`
/// does anything, so it is safe from the panic hook, `exit` and `Drop` alike.
pub fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let mut out = stdout();
    // Each step is attempted even if an earlier one fails (the terminal may be half gone).
    let _ = execute!(out, DisableMouseCapture, DisableBracketedPaste);
    let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
    let _ = out.flush();
    disable_raw_mode()
}

/// The thread that draws (and runs the loop): a panic there takes the console down.
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Call on the thread that will run the console. A panic on that thread (the process is going
/// down) restores the terminal before the message is printed, so it is readable. A panic on
/// any other thread while the console runs — a poller, Live Tail, a port forward, caught by
/// the runtime and shown on its pane — leaves the terminal alone and goes to the log only:
/// printed, it would scribble over the screen.
pub fn install_panic_hook() {
    let _ = UI_THREAD.set(std::thread::current().id());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Where it happened, for the log: the message alone rarely says.
        let trace = std::backtrace::Backtrace::force_capture();
        if takes_the_console_down() {
            let _ = restore();
            tracing::error!("panic: {info}\n{trace}");
            previous(info);
        } else {
            tracing::error!("panic in a background task (the console goes on): {info}\n{trace}");
        }
    }));
}

fn takes_the_console_down() -> bool {
    !ACTIVE.load(Ordering::SeqCst) || UI_THREAD.get() == Some(&std::thread::current().id())
}

/// Puts `text` on the clipboard of the terminal the operator sits at (OSC 52): it works over
/// SSH and inside tmux (with `set-clipboard on`). The text is ours (a sanitized log line).
pub fn copy_to_clipboard(text: &str) {
    let _ = stdout().write_all(osc52(text).as_bytes());
    let _ = stdout().flush();
}

fn osc52(text: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{encoded}\x07")
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_carries_base64_text() {
        assert_eq!(super::osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
