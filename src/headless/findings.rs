//! `ecsmon findings`: one complete picture, every rule evaluated once, the active findings
//! printed; the exit status says whether any is at or above `--fail-on` (for cron and CI).

use std::io::Write;

use crate::cli::FailOn;
use crate::launch::LaunchError;

use super::{Engine, Status, print};

pub async fn run(
    mut engine: Engine,
    cluster: Option<&str>,
    json: bool,
    fail_on: FailOn,
    at: Option<chrono::TimeDelta>,
) -> Result<Status, LaunchError> {
    engine.look(at).await?;
    let found: Vec<_> = engine
        .state
        .triage
        .active()
        .into_iter()
        .filter(|f| print::in_cluster(f, cluster))
        .collect();
    // Seen, but not yet for as long as their rules ask: listed, never counted for the exit
    // status (a one-off look cannot tell a blip from a lasting condition).
    let holding: Vec<_> = engine
        .state
        .triage
        .holding()
        .into_iter()
        .filter(|(_, obs)| print::observed_in(obs, cluster))
        .collect();
    let mut out = std::io::stdout().lock();
    if json {
        for finding in &found {
            writeln!(out, "{}", print::json(finding))?;
        }
        for (since, obs) in &holding {
            writeln!(out, "{}", print::holding_json(*since, obs))?;
        }
    } else {
        print::table(&mut out, &found)?;
        print::holding_table(&mut out, &holding, engine.state.now)?;
    }
    out.flush()?;
    let fails = fail_on
        .threshold()
        .is_some_and(|worst| found.iter().any(|f| f.severity() >= worst));
    Ok(Status::from(fails))
}
