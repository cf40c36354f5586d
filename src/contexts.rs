//! Which contexts a run watches: the cross product of the `--profile` and `--region` lists, or
//! a set named in `config.toml`'s `[[contexts]]` tables (`--contexts NAME`).
//!
//! Pure: it reads no file and asks nothing of AWS. A context without a region here watches the
//! profile's own region, which the SDK resolves when the context connects
//! (`source::aws::connect_context`).

use crate::config::ContextEntry;
use crate::model::{WantedContext, valid_region};

/// What the command line said. Each value may be a comma-separated list, and the flags may be
/// repeated: `--profile prod,staging --profile dev` is three profiles.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    pub profiles: &'a [String],
    pub regions: &'a [String],
    /// `--contexts NAME`.
    pub set: Option<&'a str>,
}

/// The contexts to watch, in the order given, each (profile, region) once.
///
/// - A set (`--contexts NAME`): every `[[contexts]]` entry with that name, each profile with
///   each of its regions. It is the whole selection: `--profile`/`--region` with it are an
///   error (the caller passes only values given on the command line, not `AWS_PROFILE` or
///   `AWS_REGION`, which a set overrides).
/// - Otherwise every profile with every region; no profile is the default credentials, no
///   region is each profile's own. One profile and one region (or neither) is exactly one
///   context, today's.
pub fn resolve(asked: Asked<'_>, sets: &[ContextEntry]) -> Result<Vec<WantedContext>, String> {
    let profiles = names(asked.profiles, "--profile")?;
    let regions = names(asked.regions, "--region")?;
    if let Some(bad) = regions.iter().find(|r| !valid_region(r)) {
        return Err(format!(
            "--region: '{bad}' is not a region name like eu-west-1"
        ));
    }
    let wanted = match asked.set {
        Some(name) => {
            if !profiles.is_empty() || !regions.is_empty() {
                return Err(format!(
                    "--contexts {name} picks a whole set of profiles and regions: drop \
                     --profile and --region, or --contexts"
                ));
            }
            from_set(name, sets)?
        }
        None => cross(&profiles, &regions),
    };
    Ok(dedup(wanted))
}

/// A flag's values split at commas and trimmed; an empty item is a mistake (`prod,,dev`,
/// `prod,`), not something to skip silently.
fn names(values: &[String], flag: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for value in values {
        for item in value.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!(
                    "{flag} '{value}': an empty name in the list (write {flag} a,b)"
                ));
            }
            out.push(item.to_string());
        }
    }
    Ok(out)
}

fn cross(profiles: &[String], regions: &[String]) -> Vec<WantedContext> {
    let profiles: Vec<Option<&str>> = if profiles.is_empty() {
        vec![None]
    } else {
        profiles.iter().map(|p| Some(p.as_str())).collect()
    };
    let regions: Vec<Option<&str>> = if regions.is_empty() {
        vec![None]
    } else {
        regions.iter().map(|r| Some(r.as_str())).collect()
    };
    profiles
        .iter()
        .flat_map(|p| regions.iter().map(|r| WantedContext::new(*p, *r)))
        .collect()
}

fn from_set(name: &str, sets: &[ContextEntry]) -> Result<Vec<WantedContext>, String> {
    let entries: Vec<&ContextEntry> = sets.iter().filter(|e| e.name == name).collect();
    if entries.is_empty() {
        let mut known: Vec<&str> = sets.iter().map(|e| e.name.as_str()).collect();
        known.sort_unstable();
        known.dedup();
        return Err(if known.is_empty() {
            format!(
                "--contexts {name}: config.toml names no context sets (add [[contexts]] tables \
                 with name, profile and regions)"
            )
        } else {
            format!(
                "--contexts {name}: no such context set in config.toml; the sets are: {}",
                known.join(", ")
            )
        });
    }
    Ok(entries
        .into_iter()
        .flat_map(|e| {
            let profiles = e.profile.iter().cloned().collect::<Vec<_>>();
            cross(&profiles, &e.regions)
        })
        .collect())
}

/// Each context once, where it first came.
fn dedup(wanted: Vec<WantedContext>) -> Vec<WantedContext> {
    let mut seen = std::collections::HashSet::new();
    wanted
        .into_iter()
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    fn flags(profiles: &[&str], regions: &[&str]) -> Result<Vec<WantedContext>, String> {
        let (profiles, regions) = (strings(profiles), strings(regions));
        resolve(
            Asked {
                profiles: &profiles,
                regions: &regions,
                set: None,
            },
            &[],
        )
    }

    fn w(profile: Option<&str>, region: Option<&str>) -> WantedContext {
        WantedContext::new(profile, region)
    }

    fn org() -> Vec<ContextEntry> {
        vec![
            ContextEntry {
                name: "org".into(),
                profile: Some("prod".into()),
                regions: strings(&["eu-west-1", "us-east-1"]),
            },
            ContextEntry {
                name: "dev".into(),
                profile: None,
                regions: strings(&["eu-west-3"]),
            },
            ContextEntry {
                name: "org".into(),
                profile: Some("staging".into()),
                regions: vec![],
            },
            // The same pair twice in one set: watched once.
            ContextEntry {
                name: "org".into(),
                profile: Some("prod".into()),
                regions: strings(&["eu-west-1"]),
            },
        ]
    }

    fn set(name: &str, sets: &[ContextEntry]) -> Result<Vec<WantedContext>, String> {
        resolve(
            Asked {
                set: Some(name),
                ..Asked::default()
            },
            sets,
        )
    }

    #[test]
    fn one_profile_and_one_region_is_todays_single_context() {
        assert_eq!(
            flags(&["prod"], &["eu-west-1"]).unwrap(),
            [w(Some("prod"), Some("eu-west-1"))]
        );
        assert_eq!(flags(&[], &[]).unwrap(), [w(None, None)]);
        assert_eq!(flags(&["prod"], &[]).unwrap(), [w(Some("prod"), None)]);
        assert_eq!(
            flags(&[], &["us-east-1"]).unwrap(),
            [w(None, Some("us-east-1"))]
        );
    }

    #[test]
    fn lists_give_the_cross_product_in_the_order_given() {
        let both = flags(&["prod,staging"], &["eu-west-1,us-east-1"]).unwrap();
        assert_eq!(
            both,
            [
                w(Some("prod"), Some("eu-west-1")),
                w(Some("prod"), Some("us-east-1")),
                w(Some("staging"), Some("eu-west-1")),
                w(Some("staging"), Some("us-east-1")),
            ]
        );
        // Repeated flags and spaces after commas say the same.
        assert_eq!(
            flags(&["prod", " staging"], &["eu-west-1, us-east-1"]).unwrap(),
            both
        );
    }

    #[test]
    fn duplicates_are_watched_once() {
        assert_eq!(
            flags(&["prod,prod", "staging"], &["eu-west-1", "eu-west-1"]).unwrap(),
            [
                w(Some("prod"), Some("eu-west-1")),
                w(Some("staging"), Some("eu-west-1")),
            ]
        );
    }

    #[test]
    fn bad_lists_and_regions_are_refused_in_words() {
        let e = flags(&["prod,,dev"], &[]).unwrap_err();
        assert!(e.contains("--profile 'prod,,dev': an empty name"), "{e}");
        let e = flags(&["prod,"], &[]).unwrap_err();
        assert!(e.contains("an empty name"), "{e}");
        let e = flags(&[], &["eu-west-1,Paris"]).unwrap_err();
        assert_eq!(e, "--region: 'Paris' is not a region name like eu-west-1");
        assert!(flags(&[], &[""]).is_err());
    }

    #[test]
    fn a_named_set_is_every_entry_with_its_name() {
        assert_eq!(
            set("org", &org()).unwrap(),
            [
                w(Some("prod"), Some("eu-west-1")),
                w(Some("prod"), Some("us-east-1")),
                w(Some("staging"), None),
            ]
        );
        assert_eq!(set("dev", &org()).unwrap(), [w(None, Some("eu-west-3"))]);
    }

    #[test]
    fn an_unknown_set_lists_the_known_ones() {
        let e = set("prd", &org()).unwrap_err();
        assert_eq!(
            e,
            "--contexts prd: no such context set in config.toml; the sets are: dev, org"
        );
        let e = set("org", &[]).unwrap_err();
        assert!(e.contains("config.toml names no context sets"), "{e}");
    }

    #[test]
    fn todays_flags_resolve_to_the_settings_a_run_connects_with_today() {
        use crate::source::aws::AwsSettings;
        use clap::Parser;
        for args in [
            &["ecsmon", "--profile", "prod", "--region", "eu-west-1"][..],
            &["ecsmon", "--profile", "prod"][..],
            &[
                "ecsmon",
                "--region",
                "us-east-1",
                "--endpoint-url",
                "http://localhost:5000",
            ][..],
            &["ecsmon"][..],
        ] {
            let cli = crate::cli::Cli::try_parse_from(args).unwrap();
            // What a single-context run connected with before lists were taken.
            let today = AwsSettings {
                profile: cli.profile.first().cloned(),
                region: cli.region.first().cloned(),
                endpoint_url: cli.endpoint_url.clone(),
            };
            let asked = Asked {
                profiles: cli.profile.as_slice(),
                regions: cli.region.as_slice(),
                set: None,
            };
            let wanted = resolve(asked, &[]).unwrap();
            assert_eq!(wanted.len(), 1, "{args:?}");
            let settings = AwsSettings::for_context(&wanted[0], cli.endpoint_url.as_deref());
            assert_eq!(settings, today, "{args:?}");
        }
    }

    #[test]
    fn a_set_with_profile_or_region_flags_is_refused() {
        let profiles = strings(&["prod"]);
        let e = resolve(
            Asked {
                profiles: &profiles,
                regions: &[],
                set: Some("org"),
            },
            &org(),
        )
        .unwrap_err();
        assert!(
            e.contains("drop --profile and --region, or --contexts"),
            "{e}"
        );
    }
}
