use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use ecsmon::cli::Cli;
use ecsmon::launch::{self, LaunchError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match launch::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(LaunchError::Usage(message)) => {
            say(&format!("ecsmon: {message}"));
            ExitCode::from(2)
        }
        Err(LaunchError::Runtime(report)) => {
            say(&format!("ecsmon: {report:?}"));
            ExitCode::FAILURE
        }
    }
}

/// To stderr, if there still is one: after a hang-up (the terminal closed) writing would fail,
/// and failing to say why we stopped must not turn into a panic.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
