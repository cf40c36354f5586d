//! Command-line flags. Flags for the AWS source are parsed and validated here even where the
//! source itself is still to come.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ecsmon",
    version,
    about = "A live terminal console for AWS ECS: clusters, services, tasks, containers and instances.",
    after_help = "Try it without an AWS account: ecsmon --demo (or: ecsmon findings --demo)"
)]
pub struct Cli {
    /// Without a command, the console opens. The commands run the same engine with no
    /// terminal, for cron, CI gates, scripts and alerting hooks.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Run on the embedded demo fleet instead of AWS (scenarios: default, large, huge, or a
    /// replayed incident: see --help)
    #[arg(
        global = true,
        long,
        value_name = "SCENARIO",
        num_args = 0..=1,
        default_missing_value = "default",
        long_help = demo_help()
    )]
    pub demo: Option<String>,

    /// Seed of the demo fleet (the same seed gives the same fleet)
    #[arg(
        global = true,
        long,
        value_name = "N",
        default_value_t = 42,
        hide_short_help = true
    )]
    pub seed: u64,

    /// AWS profile from your AWS config files; several (`prod,staging`, or the flag repeated)
    /// watch each with each region at once: the fleet view
    #[arg(
        global = true,
        long,
        env = "AWS_PROFILE",
        value_parser = non_empty,
        action = clap::ArgAction::Append
    )]
    pub profile: Vec<String>,

    /// AWS region, e.g. eu-west-1; several (`eu-west-1,us-east-1`, or the flag repeated) watch
    /// each with each profile at once: the fleet view
    #[arg(
        global = true,
        long,
        env = "AWS_REGION",
        value_parser = regions,
        action = clap::ArgAction::Append
    )]
    pub region: Vec<String>,

    /// Watch a set of profiles and regions named in config.toml's `[[contexts]]` tables
    #[arg(global = true, long, value_name = "NAME", value_parser = non_empty)]
    pub contexts: Option<String>,

    /// Send AWS requests to this endpoint (e.g. a local emulator)
    #[arg(global = true, long, env = "AWS_ENDPOINT_URL", value_parser = endpoint)]
    pub endpoint_url: Option<String>,

    /// Open straight on this cluster's services (findings, watch, report: only this cluster's
    /// findings; with several contexts, in those that have it)
    #[arg(global = true, long, value_name = "NAME", value_parser = non_empty)]
    pub cluster: Option<String>,

    /// Refuse every mutating action (scale, redeploy, stop, drain, exec)
    #[arg(long)]
    pub read_only: bool,

    /// Seconds between refreshes of the focused pane (overrides the config file)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub refresh: Option<u64>,

    /// Config file (default: config.toml in the ecsmon config directory)
    #[arg(global = true, long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Colour theme: dark, light, or the name of a file in <config dir>/themes/
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    pub theme: Option<String>,

    /// Log file (default: ecsmon.log in the ecsmon state directory)
    #[arg(global = true, long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Gather one complete picture, evaluate every rule once, print the active findings, each
    /// context's under its title with several (exit 1 when any is at or above --fail-on, 0
    /// otherwise, 2 on errors or when a context could not be read)
    Findings {
        /// One JSON object per line instead of a table
        #[arg(long)]
        json: bool,
        /// The lowest severity that makes the exit status 1
        #[arg(long, value_name = "SEVERITY", value_enum, default_value_t = FailOn::Critical)]
        fail_on: FailOn,
        #[command(flatten)]
        at: At,
    },
    /// Run the pollers and the engine until SIGTERM or SIGINT, printing each finding as it
    /// opens, escalates and resolves (with several contexts, each line names its own)
    Watch {
        /// One JSON object per line instead of text
        #[arg(long)]
        json: bool,
    },
    /// Gather one complete picture and print the :export incident snapshot (Markdown; with
    /// several contexts, one snapshot with a section each)
    Report {
        /// Write it to this new file (0600; a taken name is never overwritten) instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        at: At,
    },
    /// List every triage rule and correlation: severity, what it reads, thresholds and holds,
    /// and the --demo incidents that show it (the same list as :rules and docs/triage.md)
    Rules {
        /// One JSON object per line instead of text
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Markdown, as docs/triage.md
        #[arg(long)]
        markdown: bool,
    },
}

/// When a one-look command looks, on a replayed incident.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct At {
    /// With a replayed incident (--demo bad-deploy, …): look once the replay has run SECS
    /// seconds of incident time (default: as soon as the picture is complete, a few seconds in)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub at: Option<u64>,
}

/// `findings --fail-on`: from which severity on a finding fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    Warning,
    Info,
    /// Exit 0 whatever is found (errors still exit 2)
    Never,
}

impl FailOn {
    /// The lowest severity that fails, `None` for `never`.
    pub fn threshold(self) -> Option<crate::model::Severity> {
        use crate::model::Severity;
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

fn non_empty(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(s.to_string())
    }
}

/// Region names look like `eu-west-1`, `us-gov-west-1`, `cn-north-1`.
/// One region, or several separated by commas, each a region name.
fn regions(s: &str) -> Result<String, String> {
    for item in s.split(',').map(str::trim) {
        if !crate::model::valid_region(item) {
            return Err(format!("'{item}' is not a region name like eu-west-1"));
        }
    }
    Ok(s.to_string())
}

fn endpoint(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| format!("'{s}' must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("'{s}' has no host"));
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// `--help` on `--demo`: the fleets, and the incidents it can replay (from the scenario
/// registry, so a new incident is listed without touching this).
fn demo_help() -> String {
    use crate::source::demo::DemoSource;
    let mut out = String::from(
        "Run on the embedded demo fleet instead of AWS. SCENARIO is one of:
  default           3 clusters, ~150 tasks that start, crash and get replaced while you watch
  large             one cluster of 10,000 tasks in 200 services on 500 instances
  huge              40 clusters, 2,000 services (one cluster of 1,200), 100,000 tasks, 5,000 instances
  org               the fleet view: three accounts × two regions, one in the middle of an incident
A replayed incident, in compressed time (one to four minutes, recovering on its own):",
    );
    for (name, _, rehearses) in DemoSource::replays() {
        let ratio = DemoSource::replay_ratio(name).unwrap_or(1);
        out += &format!("\n  {name:<17} {rehearses} (x{ratio})");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("ecsmon").chain(args.iter().copied()))
    }

    #[test]
    fn demo_takes_an_optional_scenario() {
        assert_eq!(parse(&["--demo"]).unwrap().demo.as_deref(), Some("default"));
        assert_eq!(
            parse(&["--demo", "large"]).unwrap().demo.as_deref(),
            Some("large")
        );
        assert_eq!(parse(&[]).unwrap().demo, None);
        assert_eq!(
            parse(&["--demo", "bad-deploy"]).unwrap().demo.as_deref(),
            Some("bad-deploy")
        );
    }

    #[test]
    fn the_long_help_lists_every_replayed_incident_with_its_ratio() {
        use crate::source::demo::DemoSource;
        for (name, _, _) in DemoSource::replays() {
            let help = demo_help();
            let line = help
                .lines()
                .find(|l| l.trim_start().starts_with(name))
                .unwrap_or_else(|| panic!("{name} missing from --help"));
            let ratio = DemoSource::replay_ratio(name).unwrap();
            assert!(line.ends_with(&format!("(x{ratio})")), "{line}");
        }
    }

    #[test]
    fn the_readme_lists_every_replayed_incident() {
        use crate::source::demo::DemoSource;
        let readme = include_str!("../README.md");
        for (name, catalog, _) in DemoSource::replays() {
            let row = format!("| `{name}` | {catalog} |");
            assert!(readme.contains(&row), "README has no row {row}");
        }
    }

    #[test]
    fn the_commands_take_the_console_flags_before_or_after_their_name() {
        let cli = parse(&["findings", "--demo", "--cluster", "web", "--json"]).unwrap();
        assert_eq!(cli.demo.as_deref(), Some("default"));
        assert_eq!(cli.cluster.as_deref(), Some("web"));
        assert!(matches!(
            cli.command,
            Some(Command::Findings {
                json: true,
                fail_on: FailOn::Critical,
                at: At { at: None },
            })
        ));
        let cli = parse(&["--region", "eu-west-1", "watch", "--json"]).unwrap();
        assert_eq!(cli.region, ["eu-west-1"]);
        assert!(matches!(cli.command, Some(Command::Watch { json: true })));
        let cli = parse(&["report", "-o", "out.md"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Report {
                output: Some(_),
                ..
            })
        ));
        let cli = parse(&["findings", "--demo", "bad-deploy", "--at", "120"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Findings {
                at: At { at: Some(120) },
                ..
            })
        ));
        assert!(parse(&["findings", "--fail-on", "sometimes"]).is_err());
        assert!(parse(&["report", "--json"]).is_err());
        assert!(parse(&[]).unwrap().command.is_none());
    }

    #[test]
    fn rules_prints_text_json_or_markdown_but_not_two_at_once() {
        assert!(matches!(
            parse(&["rules"]).unwrap().command,
            Some(Command::Rules {
                json: false,
                markdown: false
            })
        ));
        assert!(matches!(
            parse(&["rules", "--markdown"]).unwrap().command,
            Some(Command::Rules { markdown: true, .. })
        ));
        assert!(parse(&["rules", "--json", "--markdown"]).is_err());
    }

    #[test]
    fn validates_aws_flags_now() {
        assert!(parse(&["--region", "eu-west-3"]).is_ok());
        assert!(parse(&["--region", "Paris"]).is_err());
        assert!(parse(&["--endpoint-url", "http://localhost:5000/"]).is_ok());
        assert!(parse(&["--endpoint-url", "localhost:5000"]).is_err());
        assert!(parse(&["--refresh", "0"]).is_err());
        assert!(parse(&["--refresh", "abc"]).is_err());
        assert!(parse(&["--cluster", " "]).is_err());
    }
}
