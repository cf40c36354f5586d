//! Colours by role. The UI asks for `theme.selected`, never for a colour, so a theme file can
//! restyle everything and `NO_COLOR` can take every colour away in one place.
//!
//! Built-in themes are data (`assets/theme-*.toml`, compiled in). A user theme is a file
//! `<config_dir>/themes/<name>.toml` in the same format; it starts from the built-in theme named
//! by `extends` (default "dark") and replaces the roles it writes.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::config::{ConfigError, parse_toml, read_optional};

const BUILTINS: &[(&str, &str)] = &[
    ("dark", include_str!("../assets/theme-dark.toml")),
    ("light", include_str!("../assets/theme-light.toml")),
];
const BUILTIN_NAMES: &[&str] = &["dark", "light"];

/// Declares the roles once: the public `Theme` fields, the file's sections and the merge all
/// come from this list, so adding a role is a one-line change (plus a line in each asset and in
/// `no_color`).
macro_rules! roles {
    ($($(#[$doc:meta])* $role:ident,)*) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            pub name: String,
            $($(#[$doc])* pub $role: Style,)*
        }

        /// A theme file as written: every role optional, unknown roles rejected.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawTheme {
            extends: Option<String>,
            $($role: Option<RawStyle>,)*
        }

        impl RawTheme {
            /// Replaces the roles the file writes; returns the roles it left out.
            fn apply(self, theme: &mut Theme) -> Vec<&'static str> {
                let mut missing = Vec::new();
                $(
                    match self.$role {
                        Some(style) => theme.$role = style.into(),
                        None => missing.push(stringify!($role)),
                    }
                )*
                missing
            }
        }

        impl Theme {
            /// Every style of the theme with its role name (for tests and debugging).
            pub fn roles(&self) -> Vec<(&'static str, Style)> {
                vec![$((stringify!($role), self.$role),)*]
            }
        }
    };
}

roles! {
    /// Default fg/bg of the whole screen.
    base,
    /// Labels of the header (context, region, account…).
    header,
    /// Values next to the header labels.
    header_value,
    /// Pane and popup titles.
    title,
    border,
    border_focused,
    column_header,
    /// The selected row.
    selected,
    /// Secondary text: ages, ids, help descriptions.
    dim,
    /// Healthy states (RUNNING, ACTIVE, steady).
    ok,
    /// Transitions and partial health (PENDING, draining, deploying).
    warn,
    /// Failures (STOPPED with error, failed deployments, API errors).
    error,
    info,
    /// Data older than it should be (a poll failed or is late).
    stale,
    /// The "read-only" badge in the header.
    badge_read_only,
    /// Keys in the footer and the help screen.
    key,
    /// Descriptions next to `key`.
    key_desc,
    /// The filter / command prompt.
    prompt,
    /// Filter matches inside rows.
    highlight,
    /// Sparkline bars and chart lines of metrics.
    spark,
}

/// A style as written: colours by name or `#rrggbb`, and modifier switches. `false` removes a
/// modifier (useful when the style is patched over another one).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<ColorValue>,
    bg: Option<ColorValue>,
    bold: Option<bool>,
    dim: Option<bool>,
    italic: Option<bool>,
    underlined: Option<bool>,
    reversed: Option<bool>,
    crossed_out: Option<bool>,
}

impl From<RawStyle> for Style {
    fn from(raw: RawStyle) -> Style {
        let mut style = Style::default();
        if let Some(ColorValue(c)) = raw.fg {
            style = style.fg(c);
        }
        if let Some(ColorValue(c)) = raw.bg {
            style = style.bg(c);
        }
        for (on, m) in [
            (raw.bold, Modifier::BOLD),
            (raw.dim, Modifier::DIM),
            (raw.italic, Modifier::ITALIC),
            (raw.underlined, Modifier::UNDERLINED),
            (raw.reversed, Modifier::REVERSED),
            (raw.crossed_out, Modifier::CROSSED_OUT),
        ] {
            style = match on {
                Some(true) => style.add_modifier(m),
                Some(false) => style.remove_modifier(m),
                None => style,
            };
        }
        style
    }
}

#[derive(Debug)]
struct ColorValue(Color);

impl<'de> Deserialize<'de> for ColorValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // ratatui also accepts indexed colours ("208") and spellings like "light-blue".
        Color::from_str(s.trim()).map(ColorValue).map_err(|_| {
            D::Error::custom(format!(
                "invalid colour {s:?}: use a name (red, lightblue, gray, darkgray, reset…), \
                 #rrggbb or a 0-255 palette index"
            ))
        })
    }
}

impl Theme {
    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// A built-in theme. Panics only if an embedded file is broken (a test guards that).
    pub fn builtin(name: &str) -> Option<Theme> {
        let &(name, text) = BUILTINS.iter().find(|(n, _)| *n == name)?;
        let file = PathBuf::from(format!("<built-in theme-{name}.toml>"));
        let raw: RawTheme =
            parse_toml(&file, text).unwrap_or_else(|e| panic!("embedded theme is broken: {e}"));
        let mut theme = Theme::no_color();
        theme.name = name.to_string();
        let missing = raw.apply(&mut theme);
        assert!(
            missing.is_empty(),
            "{} lacks roles {missing:?}",
            file.display()
        );
        Some(theme)
    }

    /// The theme to use: `no_color` (NO_COLOR is set) wins over everything; then a user file
    /// `<config_dir>/themes/<name>.toml` (so a user can restyle even "dark"); then a built-in.
    pub fn load(
        name: &str,
        config_dir: Option<&Path>,
        no_color: bool,
    ) -> Result<Theme, ConfigError> {
        if no_color {
            return Ok(Theme::no_color());
        }
        let file = match config_dir {
            Some(dir) => dir.join("themes").join(format!("{name}.toml")),
            None => PathBuf::from(format!("themes/{name}.toml")),
        };
        // The name becomes a file name: keep it from wandering out of the themes dir.
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(ConfigError::new(
                file,
                Some("theme".into()),
                format!("invalid theme name {name:?}"),
            ));
        }
        if config_dir.is_some()
            && let Some(text) = read_optional(&file)?
        {
            return Theme::from_file(name, &file, &text);
        }
        Theme::builtin(name).ok_or_else(|| {
            ConfigError::new(
                &file,
                None,
                format!(
                    "unknown theme `{name}`: not a built-in theme ({}) and the file does not exist",
                    BUILTIN_NAMES.join(", ")
                ),
            )
        })
    }

    /// A user theme: the built-in it `extends` (default "dark") with the roles it writes.
    fn from_file(name: &str, file: &Path, text: &str) -> Result<Theme, ConfigError> {
        let raw: RawTheme = parse_toml(file, text)?;
        let parent = raw.extends.as_deref().unwrap_or("dark");
        let mut theme = Theme::builtin(parent).ok_or_else(|| {
            ConfigError::new(
                file,
                Some("extends".into()),
                format!(
                    "unknown built-in theme `{parent}`, expected one of: {}",
                    BUILTIN_NAMES.join(", ")
                ),
            )
        })?;
        theme.name = name.to_string();
        raw.apply(&mut theme);
        Ok(theme)
    }

    /// For `NO_COLOR`: no colours at all, structure shown with modifiers only.
    pub fn no_color() -> Theme {
        let plain = Style::default();
        let bold = plain.add_modifier(Modifier::BOLD);
        let reversed = plain.add_modifier(Modifier::REVERSED);
        Theme {
            name: "no-color".to_string(),
            base: plain,
            header: plain,
            header_value: bold,
            title: bold,
            border: plain,
            border_focused: bold,
            column_header: bold.add_modifier(Modifier::UNDERLINED),
            selected: reversed,
            dim: plain.add_modifier(Modifier::DIM),
            ok: plain,
            warn: bold,
            error: bold.add_modifier(Modifier::UNDERLINED),
            info: plain,
            stale: plain.add_modifier(Modifier::ITALIC),
            badge_read_only: reversed.add_modifier(Modifier::BOLD),
            key: bold,
            key_desc: plain,
            prompt: bold,
            highlight: plain.add_modifier(Modifier::UNDERLINED),
            spark: plain,
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("dark").expect("the dark theme is built in")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::temp_dir;

    /// Rebuilding the style from its modifiers alone drops every colour (fg, bg, underline).
    fn has_colour(style: Style) -> bool {
        let modifiers_only = Style::default()
            .add_modifier(style.add_modifier)
            .remove_modifier(style.sub_modifier);
        style.fg.is_some() || style.bg.is_some() || style != modifiers_only
    }

    #[test]
    fn builtins_load_and_set_every_role() {
        for &name in Theme::builtin_names() {
            let theme = Theme::builtin(name).unwrap();
            assert_eq!(theme.name, name);
            // Colour themes colour the screen and the text on it.
            assert!(theme.base.fg.is_some() && theme.base.bg.is_some(), "{name}");
            for (role, style) in theme.roles() {
                assert_ne!(style, Style::default(), "{name}.{role} is unstyled");
            }
            assert_eq!(Theme::load(name, None, false).unwrap(), theme);
        }
        assert_eq!(Theme::builtin("solarized"), None);
        assert_ne!(Theme::builtin("dark"), Theme::builtin("light"));
    }

    #[test]
    fn no_color_has_no_colours_anywhere() {
        let theme = Theme::no_color();
        for (role, style) in theme.roles() {
            assert!(!has_colour(style), "{role} has a colour");
        }
        assert!(theme.selected.add_modifier.contains(Modifier::REVERSED));
        // NO_COLOR wins over the configured theme, even a user file.
        assert_eq!(Theme::load("dark", None, true).unwrap(), theme);
        assert_eq!(Theme::load("whatever", None, true).unwrap(), theme);
    }

    #[test]
    fn a_user_theme_extends_a_builtin() {
        let dir = temp_dir("theme-user");
        std::fs::create_dir_all(dir.join("themes")).unwrap();
        std::fs::write(
            dir.join("themes/mine.toml"),
            "extends = \"light\"\n[selected]\nfg = \"#1e1e2e\"\nbg = \"lightblue\"\nbold = true\n",
        )
        .unwrap();
        let theme = Theme::load("mine", Some(&dir), false).unwrap();
        let light = Theme::builtin("light").unwrap();
        assert_eq!(theme.name, "mine");
        assert_eq!(
            theme.selected,
            Style::default()
                .fg(Color::Rgb(0x1e, 0x1e, 0x2e))
                .bg(Color::LightBlue)
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(theme.base, light.base);
        // Built-ins still load with a config dir around.
        assert_eq!(Theme::load("dark", Some(&dir), false).unwrap().name, "dark");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn theme_file_errors_name_the_file_and_key() {
        let dir = temp_dir("theme-errors");
        std::fs::create_dir_all(dir.join("themes")).unwrap();
        let file = dir.join("themes/bad.toml");

        std::fs::write(&file, "[selected]\nfg = \"#12345\"\n").unwrap();
        let e = Theme::load("bad", Some(&dir), false).unwrap_err();
        assert_eq!(e.file, file);
        assert_eq!(e.key.as_deref(), Some("selected.fg"));
        assert!(e.message.contains("invalid colour \"#12345\""), "{e}");

        std::fs::write(&file, "[sidebar]\nfg = \"red\"\n").unwrap();
        let e = Theme::load("bad", Some(&dir), false).unwrap_err();
        assert!(e.message.contains("unknown field `sidebar`"), "{e}");

        std::fs::write(&file, "[ok]\nfg = \"green\"\nblink = true\n").unwrap();
        let e = Theme::load("bad", Some(&dir), false).unwrap_err();
        assert!(e.to_string().contains("ok"), "{e}");
        assert!(e.message.contains("unknown field `blink`"), "{e}");

        std::fs::write(&file, "extends = \"neon\"\n").unwrap();
        let e = Theme::load("bad", Some(&dir), false).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("extends"));

        let e = Theme::load("nope", Some(&dir), false).unwrap_err();
        assert!(e.message.contains("unknown theme `nope`"), "{e}");
        assert_eq!(e.file, dir.join("themes/nope.toml"));
        assert!(Theme::load("../config", Some(&dir), false).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn colours_parse_by_name_and_hex() {
        let style: Style = parse_toml::<RawTheme>(
            Path::new("t.toml"),
            "[ok]\nfg = \"gray\"\nbg = \"#FF8000\"\nunderlined = true\n",
        )
        .unwrap()
        .ok
        .unwrap()
        .into();
        assert_eq!(style.fg, Some(Color::Gray));
        assert_eq!(style.bg, Some(Color::Rgb(255, 128, 0)));
        assert!(style.add_modifier.contains(Modifier::UNDERLINED));
        let reset: Style =
            parse_toml::<RawStyle>(Path::new("t.toml"), "fg = \"reset\"\nbold = false\n")
                .unwrap()
                .into();
        assert_eq!(reset.fg, Some(Color::Reset));
        assert!(reset.sub_modifier.contains(Modifier::BOLD));
    }
}
