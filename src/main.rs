use std::process::ExitCode;

use clap::Parser;

use ecsmon::cli::Cli;
use ecsmon::launch::{self, LaunchError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match launch::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(LaunchError::Usage(message)) => {
            eprintln!("ecsmon: {message}");
            ExitCode::from(2)
        }
        Err(LaunchError::Runtime(report)) => {
            eprintln!("ecsmon: {report:?}");
            ExitCode::FAILURE
        }
    }
}
