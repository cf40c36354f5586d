//! `ecsmon findings`: one complete picture, every rule evaluated once, the active findings
//! printed; the exit status says whether any is at or above `--fail-on` (for cron and CI).
//!
//! Over several contexts: each context's findings under its title (text) or with a `context`
//! field (JSON), `--fail-on` over them all. A context that could not look is said in its place
//! (text) and in the error; the others are printed, and the exit status is 2 as when the one
//! context of a run cannot look: "could not look" is never read as "nothing found".

use std::io::Write;

use crate::cli::FailOn;
use crate::launch::LaunchError;
use crate::model::Finding;

use super::{Engine, Status, print};

pub async fn run(
    mut engines: Vec<Engine>,
    cluster: Option<&str>,
    json: bool,
    fail_on: FailOn,
    at: Option<chrono::TimeDelta>,
) -> Result<Status, LaunchError> {
    let looked = super::look_all(&mut engines, at).await?;
    let mut out = std::io::stdout().lock();
    let found = write(&mut out, &engines, &looked, cluster, json)?;
    out.flush()?;
    super::not_read(&engines, &looked, cluster)?;
    let fails = fail_on
        .threshold()
        .is_some_and(|worst| found.iter().any(|f| f.severity() >= worst));
    Ok(Status::from(fails))
}

/// Writes what each context's look found (`looked`: [`super::look_all`]'s answer) and returns
/// the active findings, every context's, that `--fail-on` judges.
pub fn write<'a>(
    out: &mut impl Write,
    engines: &'a [Engine],
    looked: &[Result<(), String>],
    cluster: Option<&str>,
    json: bool,
) -> std::io::Result<Vec<&'a Finding>> {
    let mut every = Vec::new();
    let mut contexts = 0;
    for (engine, looked) in engines.iter().zip(looked) {
        // `--cluster NAME` over several contexts: those that have it.
        if !engine.may_have(cluster) {
            continue;
        }
        contexts += 1;
        let title = engine.title();
        if let Err(why) = looked {
            if !json {
                writeln!(
                    out,
                    "{}\nCould not look: {why}\n",
                    title.unwrap_or_default()
                )?;
            }
            continue;
        }
        let state = &engine.state;
        let found: Vec<_> = state
            .triage
            .active()
            .into_iter()
            .filter(|f| print::in_cluster(f, cluster))
            .collect();
        // Seen, but not yet for as long as their rules ask: listed, never counted for the exit
        // status (a one-off look cannot tell a blip from a lasting condition).
        let holding: Vec<_> = state
            .triage
            .holding()
            .into_iter()
            .filter(|(_, obs)| print::observed_in(obs, cluster))
            .collect();
        let label =
            |value| print::labelled(value, engine.context.as_ref(), &state.identity.account);
        if json {
            for finding in &found {
                writeln!(out, "{}", label(print::json(finding)))?;
            }
            for (since, obs) in &holding {
                writeln!(out, "{}", label(print::holding_json(*since, obs)))?;
            }
        } else {
            if let Some(title) = &title {
                writeln!(out, "{title}")?;
            }
            print::table(out, &found)?;
            print::holding_table(out, &holding, state.now)?;
            if title.is_some() {
                writeln!(out)?;
            }
        }
        every.extend(found);
    }
    if engines.iter().any(|e| e.context.is_some()) && !json {
        let s = if contexts == 1 { "" } else { "s" };
        writeln!(out, "{contexts} context{s}: {}", print::counts(&every))?;
    }
    Ok(every)
}
