//! `ecsmon report`: the `:export` incident snapshot (Markdown) of one complete picture, to
//! stdout or to a new private file.

use std::io::Write;
use std::path::PathBuf;

use crate::launch::LaunchError;

use super::{Engine, Status};

pub async fn run(
    mut engine: Engine,
    cluster: Option<&str>,
    output: Option<PathBuf>,
    at: Option<chrono::TimeDelta>,
) -> Result<Status, LaunchError> {
    engine.look(at).await?;
    let markdown = crate::screen::export::markdown_of(&engine.state, cluster);
    match output {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(markdown.as_bytes())?;
            out.flush()?;
        }
        Some(path) => {
            // As `:export`: 0600, never over a file that exists (a free name next to it).
            let written = crate::files::write_new(&path, markdown.as_bytes()).map_err(|e| {
                LaunchError::Runtime(color_eyre::eyre::eyre!(
                    "could not write {}: {e}",
                    path.display()
                ))
            })?;
            let note = if written == path {
                String::new()
            } else {
                format!(
                    " ({} exists: ecsmon never overwrites a file)",
                    path.display()
                )
            };
            let _ = writeln!(
                std::io::stderr(),
                "ecsmon: report written to {}{note}",
                written.display()
            );
        }
    }
    Ok(0)
}
