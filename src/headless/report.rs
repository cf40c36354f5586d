//! `ecsmon report`: the `:export` incident snapshot (Markdown) of one complete picture, to
//! stdout or to a new private file. Over several contexts, one snapshot with a section per
//! context; a context that could not look is said in its section, and the exit status is 2
//! (as `findings`) once the rest is written.

use std::io::Write;
use std::path::PathBuf;

use crate::launch::LaunchError;
use crate::screen::export::{self, Section};

use super::{Engine, Status};

pub async fn run(
    mut engines: Vec<Engine>,
    cluster: Option<&str>,
    output: Option<PathBuf>,
    at: Option<chrono::TimeDelta>,
) -> Result<Status, LaunchError> {
    let looked = super::look_all(&mut engines, at).await?;
    let markdown = markdown(&engines, &looked, cluster, chrono::Utc::now());
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
    super::not_read(&engines, &looked, cluster)?;
    Ok(0)
}

/// The snapshot of what each context's look found: `:export`'s with one context; over several,
/// a section each, titled with it (`now` is the snapshot's time).
pub fn markdown(
    engines: &[Engine],
    looked: &[Result<(), String>],
    cluster: Option<&str>,
    now: crate::model::Time,
) -> String {
    match engines {
        [one] if one.context.is_none() => export::markdown_of(&one.state, cluster),
        _ => {
            // `--cluster NAME`: the contexts that have it.
            let sections: Vec<Section> = engines
                .iter()
                .zip(looked)
                .filter(|(engine, _)| engine.may_have(cluster))
                .map(|(engine, looked)| Section {
                    title: engine.title().unwrap_or_default(),
                    state: looked
                        .as_ref()
                        .map(|()| &engine.state)
                        .map_err(Clone::clone),
                    stale: None,
                })
                .collect();
            export::fleet_markdown(now, &sections, cluster)
        }
    }
}
