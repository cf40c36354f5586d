//! User settings: `config.toml`, plus the error type and TOML plumbing shared with the key map
//! and theme files.
//!
//! The defaults are data (`assets/config.toml`, compiled in) so that the sample config in the
//! README and the behaviour can never disagree. A user file only needs the keys it changes.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

const DEFAULT_CONFIG: &str = include_str!("../assets/config.toml");

/// Refresh intervals are bounded: below a second we would hammer the AWS APIs, above an hour the
/// console is no longer live.
const REFRESH_SECS: std::ops::RangeInclusive<u64> = 1..=3600;
/// ECS forgets stopped tasks after about an hour; a day is a generous ceiling.
const MAX_STOPPED_WINDOW: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Theme name, resolved by [`crate::theme::Theme::load`] (built-in or `themes/<name>.toml`).
    pub theme: String,
    pub refresh: Refresh,
    pub mouse: bool,
    /// How far back "recently stopped" tasks reach when the tasks pane shows them.
    pub stopped_tasks_window: Duration,
    /// Lines a log pane keeps; the oldest go first.
    pub log_lines: usize,
    /// What ECS Exec runs in the container.
    pub exec_shell: String,
    /// A shell (ECS Exec, an instance shell) asks for confirmation first; by default `s`
    /// opens it at once (it changes nothing in the fleet).
    pub confirm_exec: bool,
    /// `[[contexts]]`: named sets of (profile, region) pairs, picked with `--contexts NAME`
    /// (resolved by [`crate::contexts::resolve`]).
    pub contexts: Vec<ContextEntry>,
}

/// One `[[contexts]]` table: a profile and the regions watched with it, in the set `name`. A set
/// is every entry with its name, so one set can span several profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    pub name: String,
    /// `None`: the default credential chain.
    pub profile: Option<String>,
    /// Empty: the profile's own region (`region = …` in ~/.aws/config).
    pub regions: Vec<String>,
}

/// Poll intervals: the focused pane is refreshed often, the panes behind it rarely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    pub focused: Duration,
    pub background: Duration,
    /// CloudWatch metrics and alarms: they change once a period (a minute), not faster.
    pub metrics: Duration,
}

/// A problem in one of the user's files (config, key map or theme), precise enough to fix it
/// without reading the source: which file, which key, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// Dotted key path such as `refresh.focused_secs` or `tasks[0].keys[1]`.
    pub key: Option<String>,
    /// What is wrong; ends with "(line L, column C)" when the position is known.
    pub message: String,
}

impl ConfigError {
    pub fn new(file: impl Into<PathBuf>, key: Option<String>, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.into(),
            key,
            message: message.into(),
        }
    }

    fn from_toml(file: &Path, key: Option<String>, err: &toml::de::Error, text: &str) -> Self {
        let mut message = err.message().trim_end().to_string();
        if let Some(span) = err.span() {
            let (line, col) = line_col(text, span.start);
            message.push_str(&format!(" (line {line}, column {col})"));
        }
        ConfigError::new(file, key, message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config file {}: ", self.file.display())?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Deserializes a TOML document, keeping the path of the offending key on error.
pub(crate) fn parse_toml<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, ConfigError> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| ConfigError::from_toml(file, None, &e, text))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        // An empty path prints as "."; it carries no information.
        let path = e.path().to_string();
        let key = (path != "." && !path.is_empty()).then_some(path);
        ConfigError::from_toml(file, key, e.inner(), text)
    })
}

/// Config, key-map and theme files larger than this are refused before they are parsed: a
/// real one is a few KiB, and a wrong path (a log, a device) must not be read into memory.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a user file (config, key map, theme); `Ok(None)` when it does not exist (optional
/// files are optional). One above [`MAX_FILE_BYTES`] is refused unread.
pub(crate) fn read_optional(file: &Path) -> Result<Option<String>, ConfigError> {
    use std::io::Read;
    let cannot = |e: std::io::Error| ConfigError::new(file, None, format!("cannot read: {e}"));
    let too_big = |size: String| {
        ConfigError::new(
            file,
            None,
            format!(
                "is {size}: more than the 1 MiB a config file may have (is it the right file?)"
            ),
        )
    };
    let opened = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    let size = opened.metadata().map_err(cannot)?.len();
    if size > MAX_FILE_BYTES {
        return Err(too_big(format!("{size} bytes")));
    }
    // The size a file reports is not always what it holds (a pipe, /dev/zero): read one byte
    // past the limit at most.
    let mut bytes = Vec::new();
    opened
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big("larger than 1 MiB".into()));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| ConfigError::new(file, None, "cannot read: it is not UTF-8 text"))
}

/// The file as written: every key optional, so a user file only states what it changes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    theme: Option<String>,
    mouse: Option<bool>,
    stopped_tasks_window: Option<String>,
    log_lines: Option<usize>,
    exec_shell: Option<String>,
    confirm_exec: Option<bool>,
    refresh: Option<RawRefresh>,
    contexts: Option<Vec<RawContextEntry>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContextEntry {
    name: String,
    profile: Option<String>,
    regions: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefresh {
    focused_secs: Option<u64>,
    background_secs: Option<u64>,
    metrics_secs: Option<u64>,
}

impl Config {
    /// The built-in settings, parsed from the embedded `assets/config.toml`.
    pub fn defaults() -> Config {
        let file = Path::new("<built-in config.toml>");
        let raw: RawConfig = parse_toml(file, DEFAULT_CONFIG)
            .unwrap_or_else(|e| panic!("embedded config is broken: {e}"));
        let refresh = raw.refresh.as_ref();
        let secs = |v: Option<u64>| Duration::from_secs(v.expect("embedded config sets refresh"));
        let base = Config {
            theme: raw.theme.clone().expect("embedded config sets theme"),
            mouse: raw.mouse.expect("embedded config sets mouse"),
            stopped_tasks_window: Duration::ZERO,
            log_lines: 0,
            exec_shell: String::new(),
            confirm_exec: raw.confirm_exec.expect("embedded config sets confirm_exec"),
            contexts: Vec::new(),
            refresh: Refresh {
                focused: secs(refresh.and_then(|r| r.focused_secs)),
                background: secs(refresh.and_then(|r| r.background_secs)),
                metrics: secs(refresh.and_then(|r| r.metrics_secs)),
            },
        };
        // Going through `merge` validates the defaults with the same rules as user files.
        base.merge(file, raw)
            .unwrap_or_else(|e| panic!("embedded config is broken: {e}"))
    }

    /// Defaults, then the user file on top: `explicit` (from `--config`; it must exist) or else
    /// `<config_dir>/config.toml` when present.
    pub fn load(explicit: Option<&Path>, config_dir: Option<&Path>) -> Result<Config, ConfigError> {
        let defaults = Config::defaults();
        let (file, text) = match (explicit, config_dir) {
            (Some(file), _) => match read_optional(file)? {
                Some(text) => (file.to_path_buf(), text),
                None => return Err(ConfigError::new(file, None, "file not found")),
            },
            (None, Some(dir)) => {
                let file = dir.join("config.toml");
                match read_optional(&file)? {
                    Some(text) => (file, text),
                    None => return Ok(defaults),
                }
            }
            (None, None) => return Ok(defaults),
        };
        defaults.merge_str(&file, &text)
    }

    /// Applies a user file's text on top of `self`.
    pub(crate) fn merge_str(self, file: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = parse_toml(file, text)?;
        self.merge(file, raw)
    }

    fn merge(mut self, file: &Path, raw: RawConfig) -> Result<Config, ConfigError> {
        let err = |key: &str, message: String| ConfigError::new(file, Some(key.into()), message);
        if let Some(theme) = raw.theme {
            if theme.trim().is_empty() {
                return Err(err("theme", "must not be empty".into()));
            }
            self.theme = theme;
        }
        if let Some(mouse) = raw.mouse {
            self.mouse = mouse;
        }
        if let Some(window) = raw.stopped_tasks_window {
            let d = humantime::parse_duration(&window).map_err(|e| {
                err(
                    "stopped_tasks_window",
                    format!("invalid duration {window:?} ({e}); write e.g. \"30m\" or \"1h\""),
                )
            })?;
            if d < Duration::from_secs(1) || d > MAX_STOPPED_WINDOW {
                return Err(err(
                    "stopped_tasks_window",
                    format!("must be between 1s and 24h, got {window:?}"),
                ));
            }
            self.stopped_tasks_window = d;
        }
        if let Some(shell) = raw.exec_shell {
            if shell.trim().is_empty() {
                return Err(err(
                    "exec_shell",
                    "must name a command, e.g. \"/bin/sh\"".into(),
                ));
            }
            self.exec_shell = shell;
        }
        if let Some(confirm) = raw.confirm_exec {
            self.confirm_exec = confirm;
        }
        if let Some(lines) = raw.log_lines {
            if !(100..=1_000_000).contains(&lines) {
                return Err(err(
                    "log_lines",
                    format!("must be between 100 and 1000000, got {lines}"),
                ));
            }
            self.log_lines = lines;
        }
        if let Some(entries) = raw.contexts {
            self.contexts = context_entries(file, entries)?;
        }
        if let Some(refresh) = raw.refresh {
            let check = |key: &str, secs: u64| {
                if REFRESH_SECS.contains(&secs) {
                    Ok(Duration::from_secs(secs))
                } else {
                    Err(err(
                        key,
                        format!(
                            "must be between {} and {} seconds, got {secs}",
                            REFRESH_SECS.start(),
                            REFRESH_SECS.end()
                        ),
                    ))
                }
            };
            if let Some(secs) = refresh.focused_secs {
                self.refresh.focused = check("refresh.focused_secs", secs)?;
            }
            if let Some(secs) = refresh.background_secs {
                self.refresh.background = check("refresh.background_secs", secs)?;
            }
            if let Some(secs) = refresh.metrics_secs {
                self.refresh.metrics = check("refresh.metrics_secs", secs)?;
            }
        }
        Ok(self)
    }
}

/// `[[contexts]]` checked: a name, a non-empty profile if any, region names, and something to
/// watch (a profile without regions watches the profile's own region).
fn context_entries(
    file: &Path,
    raw: Vec<RawContextEntry>,
) -> Result<Vec<ContextEntry>, ConfigError> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, entry) in raw.into_iter().enumerate() {
        let err = |key: &str, message: String| {
            ConfigError::new(file, Some(format!("contexts[{i}].{key}")), message)
        };
        let name = entry.name.trim().to_string();
        if name.is_empty() {
            return Err(err("name", "must not be empty".into()));
        }
        let profile = match entry.profile {
            Some(p) if p.trim().is_empty() => {
                return Err(err(
                    "profile",
                    "must not be empty (leave it out for the default credentials)".into(),
                ));
            }
            p => p.map(|p| p.trim().to_string()),
        };
        let regions = entry.regions.unwrap_or_default();
        if regions.is_empty() && profile.is_none() {
            return Err(err(
                "regions",
                format!("context set {name:?}: an entry needs a profile, regions, or both"),
            ));
        }
        for (j, region) in regions.iter().enumerate() {
            if !crate::model::valid_region(region) {
                return Err(err(
                    &format!("regions[{j}]"),
                    format!("'{region}' is not a region name like eu-west-1"),
                ));
            }
        }
        out.push(ContextEntry {
            name,
            profile,
            regions,
        });
    }
    Ok(out)
}

impl Default for Config {
    fn default() -> Self {
        Config::defaults()
    }
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "ecsmon")
}

/// Where `config.toml`, `keymap.toml` and `themes/` live (`~/.config/ecsmon` on Linux).
pub fn config_dir() -> Option<PathBuf> {
    project_dirs().map(|p| p.config_dir().to_path_buf())
}

/// Where logs and other state go (`~/.local/state/ecsmon` on Linux). Only Linux has a state
/// dir in `directories`; elsewhere the local data dir plays that role.
pub fn state_dir() -> Option<PathBuf> {
    project_dirs().map(|p| {
        p.state_dir()
            .unwrap_or_else(|| p.data_local_dir())
            .to_path_buf()
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh, empty directory for one test (no tempfile crate: the process id and the test
    /// name keep parallel tests and runs apart).
    pub(crate) fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ecsmon-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn merge(text: &str) -> Result<Config, ConfigError> {
        Config::defaults().merge_str(Path::new("/x/config.toml"), text)
    }

    #[test]
    fn defaults_come_from_the_embedded_file() {
        let c = Config::defaults();
        assert_eq!(c.theme, "dark");
        assert!(c.mouse);
        assert_eq!(c.refresh.focused, Duration::from_secs(5));
        assert_eq!(c.refresh.background, Duration::from_secs(30));
        assert_eq!(c.stopped_tasks_window, Duration::from_secs(3600));
        assert_eq!(c.log_lines, 20_000);
        assert!(!c.confirm_exec, "a shell opens without asking by default");
    }

    #[test]
    fn confirm_exec_brings_the_shell_confirmation_back() {
        assert!(merge("confirm_exec = true").unwrap().confirm_exec);
        let e = merge("confirm_exec = \"yes\"").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("confirm_exec"), "{e}");
    }

    #[test]
    fn a_user_file_changes_only_what_it_sets() {
        let c = merge("[refresh]\nfocused_secs = 2\n").unwrap();
        assert_eq!(c.refresh.focused, Duration::from_secs(2));
        assert_eq!(c.refresh.background, Duration::from_secs(30));
        assert_eq!(c.theme, "dark");
        assert!(c.mouse);

        let c = merge("theme = \"light\"\nmouse = false\nstopped_tasks_window = \"30m\"").unwrap();
        assert_eq!(c.theme, "light");
        assert!(!c.mouse);
        assert_eq!(c.stopped_tasks_window, Duration::from_secs(1800));
        assert_eq!(c.refresh, Config::defaults().refresh);
    }

    #[test]
    fn an_unknown_key_names_its_path() {
        let e = merge("[refresh]\nfocused = 2\n").unwrap_err();
        assert_eq!(e.file, Path::new("/x/config.toml"));
        assert!(e.message.contains("unknown field `focused`"), "{e}");
        assert!(e.to_string().contains("refresh"), "{e}");

        let e = merge("colour = \"red\"\n").unwrap_err();
        assert!(e.message.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn a_wrong_type_names_its_path_and_position() {
        let e = merge("[refresh]\nfocused_secs = \"x\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("refresh.focused_secs"));
        assert!(e.message.contains("invalid type"), "{e}");
        assert!(e.message.contains("line 2"), "{e}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "config file /x/config.toml: key `refresh.focused_secs`: invalid type"
            ),
            "{shown}"
        );

        let e = merge("mouse = \"yes\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("mouse"));
    }

    #[test]
    fn a_syntax_error_has_no_key_but_a_position() {
        let e = merge("theme = \n").unwrap_err();
        assert_eq!(e.key, None);
        assert!(e.message.contains("line 1"), "{e}");
        assert!(
            e.to_string().starts_with("config file /x/config.toml: "),
            "{e}"
        );
    }

    #[test]
    fn log_lines_are_bounded() {
        assert_eq!(merge("log_lines = 500").unwrap().log_lines, 500);
        let e = merge("log_lines = 5").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("log_lines"));
        assert!(e.to_string().contains("between 100 and 1000000"), "{e}");
    }

    #[test]
    fn refresh_out_of_range_is_an_error() {
        for text in [
            "[refresh]\nfocused_secs = 0",
            "[refresh]\nbackground_secs = 3601",
        ] {
            let e = merge(text).unwrap_err();
            assert!(e.key.as_deref().unwrap().starts_with("refresh."), "{e}");
            assert!(e.message.contains("between 1 and 3600"), "{e}");
        }
        let e = merge("[refresh]\nfocused_secs = -1").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("refresh.focused_secs"));
        // The bounds themselves are fine, and focused may be slower than background.
        let c = merge("[refresh]\nfocused_secs = 3600\nbackground_secs = 1").unwrap();
        assert_eq!(c.refresh.focused, Duration::from_secs(3600));
    }

    #[test]
    fn bad_values_are_errors() {
        let e = merge("stopped_tasks_window = \"soon\"").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("stopped_tasks_window"));
        let e = merge("stopped_tasks_window = \"3d\"").unwrap_err();
        assert!(e.message.contains("between"), "{e}");
        let e = merge("theme = \"\"").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("theme"));
    }

    #[test]
    fn an_explicit_file_must_exist() {
        let dir = temp_dir("config-explicit-missing");
        let missing = dir.join("nope.toml");
        let e = Config::load(Some(&missing), Some(&dir)).unwrap_err();
        assert_eq!(e.file, missing);
        assert!(e.message.contains("not found"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_default_file_gives_defaults() {
        let dir = temp_dir("config-default-missing");
        assert_eq!(Config::load(None, Some(&dir)).unwrap(), Config::defaults());
        assert_eq!(Config::load(None, None).unwrap(), Config::defaults());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_are_read_from_the_config_dir_or_the_explicit_path() {
        let dir = temp_dir("config-files");
        std::fs::write(dir.join("config.toml"), "theme = \"light\"\n").unwrap();
        assert_eq!(Config::load(None, Some(&dir)).unwrap().theme, "light");

        // --config wins over the config dir.
        let explicit = dir.join("other.toml");
        std::fs::write(&explicit, "mouse = false\n").unwrap();
        let c = Config::load(Some(&explicit), Some(&dir)).unwrap();
        assert!(!c.mouse);
        assert_eq!(c.theme, "dark");

        std::fs::write(dir.join("config.toml"), "[refresh]\nfocused_secs = true\n").unwrap();
        let e = Config::load(None, Some(&dir)).unwrap_err();
        assert_eq!(e.file, dir.join("config.toml"));
        assert_eq!(e.key.as_deref(), Some("refresh.focused_secs"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn context_sets_are_read_with_several_entries_per_name() {
        let c = merge(
            "[[contexts]]\nname = \"org\"\nprofile = \"prod\"\nregions = [\"eu-west-1\", \"us-east-1\"]\n\n\
             [[contexts]]\nname = \"org\"\nprofile = \"staging\"\n\n\
             [[contexts]]\nname = \"local\"\nregions = [\"eu-west-3\"]\n",
        )
        .unwrap();
        assert_eq!(
            c.contexts,
            vec![
                ContextEntry {
                    name: "org".into(),
                    profile: Some("prod".into()),
                    regions: vec!["eu-west-1".into(), "us-east-1".into()],
                },
                ContextEntry {
                    name: "org".into(),
                    profile: Some("staging".into()),
                    regions: vec![],
                },
                ContextEntry {
                    name: "local".into(),
                    profile: None,
                    regions: vec!["eu-west-3".into()],
                },
            ]
        );
        assert!(Config::defaults().contexts.is_empty());
    }

    #[test]
    fn a_bad_context_entry_names_its_key() {
        let e = merge("[[contexts]]\nname = \"org\"\nprofile = \"prod\"\nregions = [\"eu-west-1\", \"Paris\"]\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("contexts[0].regions[1]"), "{e}");
        assert!(e.message.contains("'Paris' is not a region name"), "{e}");

        let e = merge("[[contexts]]\nname = \" \"\nprofile = \"prod\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("contexts[0].name"), "{e}");

        let e = merge("[[contexts]]\nname = \"org\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("contexts[0].regions"), "{e}");
        assert!(
            e.message.contains("needs a profile, regions, or both"),
            "{e}"
        );

        let e = merge("[[contexts]]\nname = \"org\"\nprofile = \"\"\nregions = [\"eu-west-1\"]\n")
            .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("contexts[0].profile"), "{e}");

        let e = merge("[[contexts]]\nprofile = \"prod\"\n").unwrap_err();
        assert!(e.message.contains("missing field `name`"), "{e}");

        let e = merge("[[contexts]]\nname = \"org\"\nregion = \"eu-west-1\"\n").unwrap_err();
        assert!(e.message.contains("unknown field `region`"), "{e}");
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 1), (1, 1));
    }
}
