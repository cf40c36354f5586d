//! The headless commands over several contexts, at the library level: an engine per context
//! of the demo organisation (and one that cannot connect), looked at side by side, and what
//! `findings` and `report` write of them.

use std::sync::Arc;

use serde_json::Value;

use super::{Engine, findings, look_all, report};
use crate::config::Config;
use crate::keymap::KeyMap;
use crate::model::{Context, ErrorKind, Identity};
use crate::source::demo::{DemoClock, DemoSource};
use crate::source::{FleetSource, SourceError, Unavailable};
use crate::state::State;
use crate::testkit::fixed_now;

/// Why the broken context cannot look: what an expired SSO session says.
const EXPIRED: &str = "your SSO session has expired: run `aws sso login --profile broken`";

fn engine(context: Context, source: Arc<dyn FleetSource>, cluster: Option<&str>) -> Engine {
    let mut state = State::new(
        Identity::default(),
        source.now(),
        Config::defaults().refresh,
        (120, 40),
    );
    state.only_cluster = cluster.map(str::to_string);
    Engine::new(state, KeyMap::defaults(), source).in_context(context)
}

/// The demo organisation's six contexts as `--demo org` makes them (the fleet moving on the
/// wall clock: the engine evaluates as time passes), then one whose credentials expired.
fn org(cluster: Option<&str>) -> Vec<Engine> {
    let mut engines: Vec<Engine> = DemoSource::org(42, chrono::Utc::now(), DemoClock::System)
        .into_iter()
        .map(|m| engine(m.context, Arc::new(m.source), cluster))
        .collect();
    let broken = Unavailable(SourceError::new(ErrorKind::Credentials, EXPIRED));
    engines.push(engine(
        Context::new(Some("broken"), "eu-central-1"),
        Arc::new(broken),
        cluster,
    ));
    engines
}

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// Every context's look, or the usage error in words.
async fn look(engines: &mut [Engine]) -> Result<Vec<Result<(), String>>, String> {
    look_all(engines, None).await.map_err(|e| super::words(&e))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_context_is_looked_at_side_by_side_and_one_that_cannot_is_said_in_its_place() {
    let mut engines = org(None);
    let looked = look(&mut engines).await.unwrap();
    assert_eq!(looked.len(), 7);
    assert!(looked[..6].iter().all(Result::is_ok), "{looked:?}");
    let why = looked[6].as_ref().unwrap_err();
    assert!(why.contains(EXPIRED), "{why}");

    // Text: a section per context under its title, the broken one with its reason.
    let mut out = Vec::new();
    let found = findings::write(&mut out, &engines, &looked, None, false).unwrap();
    let text = utf8(out);
    for title in [
        "prod · 210987654321 · eu-west-1",
        "prod · 210987654321 · us-east-1",
        "staging · 345678901234 · eu-west-1",
        "shared · 456789012345 · us-east-1",
    ] {
        assert!(text.lines().any(|l| l == title), "no {title} in {text}");
    }
    assert!(
        text.contains("broken · eu-central-1\nCould not look: "),
        "{text}"
    );
    assert!(text.contains(EXPIRED), "{text}");
    let total = format!("7 contexts: {} findings: ", found.len());
    assert!(text.lines().last().unwrap().starts_with(&total), "{text}");
    assert!(!found.is_empty(), "the calm fleets have their OOM kill");

    // JSON: a line per finding, each with its context; none for the broken context.
    let mut out = Vec::new();
    findings::write(&mut out, &engines, &looked, None, true).unwrap();
    let lines: Vec<Value> = utf8(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= found.len(), "{lines:?}");
    for line in &lines {
        let context = &line["context"];
        let title = format!(
            "{} · {} · {}",
            context["profile"].as_str().unwrap(),
            context["account"].as_str().unwrap(),
            context["region"].as_str().unwrap()
        );
        assert_eq!(context["title"], title, "{line}");
        assert_ne!(context["profile"], "broken");
    }
    let accounts: std::collections::BTreeSet<&str> = lines
        .iter()
        .filter_map(|l| l["context"]["account"].as_str())
        .collect();
    assert_eq!(accounts.len(), 3, "every account's findings: {accounts:?}");

    // The command's error names the context that could not look, and why.
    let Err(crate::launch::LaunchError::Runtime(e)) = super::not_read(&engines, &looked, None)
    else {
        panic!("a context that cannot look is an error");
    };
    let said = format!("{e:#}");
    assert!(
        said.starts_with("could not look at 1 of 7 contexts: broken · eu-central-1: "),
        "{said}"
    );

    // The report: one snapshot, a section per context.
    let markdown = report::markdown(&engines, &looked, None, fixed_now());
    assert!(markdown.starts_with("# ecsmon incident snapshot — 2026-11-20 14:00:00 UTC\n"));
    assert!(
        markdown.contains("| Contexts | 7 (1 not read) |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("\n## prod · 210987654321 · eu-west-1\n\n| | |\n"),
        "{markdown}"
    );
    assert_eq!(markdown.matches("\n### Active findings\n").count(), 6);
    assert_eq!(markdown.matches("\n### Services\n").count(), 6);
    assert!(
        markdown.contains("\n## broken · eu-central-1\n\nCould not look: "),
        "{markdown}"
    );
    assert!(!markdown.contains("\n## Active findings"), "{markdown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_over_several_contexts_is_that_cluster_where_it_is_and_a_typo_is_an_error() {
    // The incident's cluster is in one context only.
    let mut engines = org(Some("demo-prod"));
    engines.pop();
    let looked = look(&mut engines).await.unwrap();
    let mut out = Vec::new();
    findings::write(&mut out, &engines, &looked, Some("demo-prod"), false).unwrap();
    let text = utf8(out);
    assert!(
        text.starts_with("prod · 210987654321 · eu-west-1\n"),
        "{text}"
    );
    assert!(!text.contains("staging"), "{text}");
    assert!(text.contains("\n1 context: "), "{text}");

    let mut engines = org(Some("prdo"));
    engines.pop();
    match look_all(&mut engines, None).await {
        Err(crate::launch::LaunchError::Usage(why)) => {
            assert!(
                why.starts_with("no cluster named \"prdo\" in any context (clusters: prod · "),
                "{why}"
            );
            assert!(why.contains("demo-prod"), "{why}");
        }
        Err(e) => panic!("not a usage error: {}", super::words(&e)),
        Ok(_) => panic!("a typo must not read as no findings"),
    }
}
