use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use ecsmon::cli::Cli;
use ecsmon::launch::{self, LaunchError};

/// mimalloc instead of glibc's malloc: on a 100,000-task fleet a third of the idle CPU went to
/// glibc's free-chunk bookkeeping (answers of tens of thousands of rows are built and freed
/// every few seconds), and freed memory went back to the system late or not at all. Built
/// without transparent huge pages (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    match cli.command.take() {
        None => match launch::run(cli) {
            Ok(()) => ExitCode::SUCCESS,
            Err(LaunchError::Usage(message)) => {
                say(&format!("ecsmon: {message}"));
                ExitCode::from(2)
            }
            Err(LaunchError::Runtime(report)) => {
                say(&format!("ecsmon: {report:?}"));
                ExitCode::FAILURE
            }
        },
        // The commands without a terminal: 0 or 1 is their answer (`findings`), so every
        // error is 2, for scripts to tell "found something" from "could not look".
        Some(command) => match ecsmon::headless::run(cli, command) {
            Ok(status) => ExitCode::from(status),
            Err(LaunchError::Usage(message)) => {
                say(&format!("ecsmon: {message}"));
                ExitCode::from(2)
            }
            Err(LaunchError::Runtime(report)) => {
                say(&format!("ecsmon: {report:#}"));
                ExitCode::from(2)
            }
        },
    }
}

/// To stderr, if there still is one: after a hang-up (the terminal closed) writing would fail,
/// and failing to say why we stopped must not turn into a panic.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
