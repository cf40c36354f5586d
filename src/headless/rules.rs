//! `ecsmon rules`: the triage catalog ([`crate::catalog`]) on stdout, as text, JSON lines or
//! the Markdown of docs/triage.md.

use std::io::Write;

use super::Status;
use crate::catalog;
use crate::launch::LaunchError;

pub fn run(json: bool, markdown: bool) -> Result<Status, LaunchError> {
    let text = if json {
        catalog::json_lines()
    } else if markdown {
        catalog::markdown()
    } else {
        let mut lines = catalog::text_lines().join("\n");
        lines.push('\n');
        lines
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`ecsmon rules | head`) is the reader's choice, not an error.
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(LaunchError::Runtime(color_eyre::eyre::eyre!(
            "writing the catalog: {e}"
        ))),
    }
}
