//! Command-line flags. Flags for the AWS source are parsed and validated here even where the
//! source itself is still to come.

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "ecsmon",
    version,
    about = "A live terminal console for AWS ECS: clusters, services, tasks, containers and instances.",
    after_help = "Try it without an AWS account: ecsmon --demo"
)]
pub struct Cli {
    /// Run on the embedded demo fleet instead of AWS (scenarios: default, large; replayed
    /// incidents: memory-leak, cpu-credits, bad-deploy, capacity, image-pull, sg-outage)
    #[arg(
        long,
        value_name = "SCENARIO",
        num_args = 0..=1,
        default_missing_value = "default",
        long_help = DEMO_HELP
    )]
    pub demo: Option<String>,

    /// Seed of the demo fleet (the same seed gives the same fleet)
    #[arg(long, value_name = "N", default_value_t = 42, hide_short_help = true)]
    pub seed: u64,

    /// AWS profile from your AWS config files
    #[arg(long, env = "AWS_PROFILE", value_parser = non_empty)]
    pub profile: Option<String>,

    /// AWS region, e.g. eu-west-1
    #[arg(long, env = "AWS_REGION", value_parser = region)]
    pub region: Option<String>,

    /// Send AWS requests to this endpoint (e.g. a local emulator)
    #[arg(long, env = "AWS_ENDPOINT_URL", value_parser = endpoint)]
    pub endpoint_url: Option<String>,

    /// Open straight on this cluster's services
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    pub cluster: Option<String>,

    /// Refuse every mutating action (scale, redeploy, stop, drain, exec)
    #[arg(long)]
    pub read_only: bool,

    /// Seconds between refreshes of the focused pane (overrides the config file)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub refresh: Option<u64>,

    /// Config file (default: config.toml in the ecsmon config directory)
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Colour theme: dark, light, or the name of a file in <config dir>/themes/
    #[arg(long, value_name = "NAME", value_parser = non_empty)]
    pub theme: Option<String>,

    /// Log file (default: ecsmon.log in the ecsmon state directory)
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
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
fn region(s: &str) -> Result<String, String> {
    if crate::update::context::valid_region(s) {
        Ok(s.to_string())
    } else {
        Err(format!("'{s}' is not a region name like eu-west-1"))
    }
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

/// `--help` on `--demo`: the fleets and the incidents it can replay.
const DEMO_HELP: &str = "Run on the embedded demo fleet instead of AWS. SCENARIO is one of:
  default       3 clusters, ~150 tasks that start, crash and get replaced while you watch
  large         one cluster of 10,000 tasks in 200 services on 500 instances
A replayed incident, in compressed time (one to three minutes, recovering on its own):
  memory-leak   web's memory climbs until its tasks are OOM-killed (exit 137) and restart (x30)
  cpu-credits   a t3 host runs out of CPU credits: CPU flat at baseline, service CPU pegged (x60)
  bad-deploy    a new revision fails its health check (404); the circuit breaker rolls back (x5)
  capacity      a scale-out cannot be placed: no instance has enough memory (x10)
  image-pull    after a deploy, tasks cannot pull their image (CannotPullContainerError) (x10)
  sg-outage     a security group change makes every target time out: ELB 504s (x10)";

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
            let line = DEMO_HELP
                .lines()
                .find(|l| l.trim_start().starts_with(name))
                .unwrap_or_else(|| panic!("{name} missing from --help"));
            let ratio = DemoSource::replay_ratio(name).unwrap();
            assert!(line.ends_with(&format!("(x{ratio})")), "{line}");
        }
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
