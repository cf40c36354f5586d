//! Owns the terminal: raw mode and the alternate screen on the way in, and always restored on
//! the way out — on quit, on drop, on a panic (before the message is printed), and around
//! Ctrl-z suspension.

use std::io::{self, Stdout, Write, stdout};

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
    pub terminal: Terminal<Backend>,
    mouse: bool,
    entered: bool,
}

impl Tui {
    pub fn new(mouse: bool) -> io::Result<Self> {
        Ok(Tui {
            terminal: Terminal::new(CrosstermBackend::new(stdout()))?,
            mouse,
            entered: false,
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
        self.entered = true;
        self.terminal.clear()
    }

    pub fn exit(&mut self) -> io::Result<()> {
        if self.entered {
            self.entered = false;
            restore()?;
        }
        Ok(())
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

/// Puts the terminal back the way the shell expects it. Safe to call more than once.
pub fn restore() -> io::Result<()> {
    let mut out = stdout();
    // Each step is attempted even if an earlier one fails (the terminal may be half gone).
    let _ = execute!(out, DisableMouseCapture, DisableBracketedPaste);
    let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
    let _ = out.flush();
    disable_raw_mode()
}

/// Restores the terminal before the panic message is printed, so it is readable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = restore();
        tracing::error!("panic: {info}");
        previous(info);
    }));
}
