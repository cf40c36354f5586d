//! Key bindings as data.
//!
//! The defaults live in `assets/keymap.toml` (compiled in); a user `keymap.toml` merges on top.
//! Every binding carries a `desc` so the help screen and the footer are generated from the same
//! table the dispatcher uses and can never drift from it (as in yazi).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::config::{ConfigError, parse_toml, read_optional};

const DEFAULT_KEYMAP: &str = include_str!("../assets/keymap.toml");

/// An enum whose variants have snake_case names in the files. One line per variant keeps
/// adding a command (or a context) a one-line change: the name, the parser, the error listing
/// the valid names and `ALL` all come from here.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The name used in `keymap.toml`.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            pub fn from_name(name: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::from_name(&s).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.name()).collect();
                    D::Error::custom(format!(
                        "unknown {} `{s}`, expected one of: {}",
                        $what,
                        names.join(", ")
                    ))
                })
            }
        }
    };
}

named_enum! {
    /// Everything a key can ask for.
    pub enum Command ("command") {
        Quit = "quit",
        Up = "up",
        Down = "down",
        Top = "top",
        Bottom = "bottom",
        PageUp = "page_up",
        PageDown = "page_down",
        /// Drill down into the selected row.
        Enter = "enter",
        /// Go up a level, or close the top popup.
        Back = "back",
        Filter = "filter",
        CommandMode = "command_mode",
        Help = "help",
        Describe = "describe",
        SortNext = "sort_next",
        SortReverse = "sort_reverse",
        Refresh = "refresh",
        /// Tasks pane: show or hide recently stopped tasks.
        ToggleStopped = "toggle_stopped",
        /// Hand the terminal back to the shell (ctrl+z).
        Suspend = "suspend",
        /// CloudWatch charts of the selected row.
        Metrics = "metrics",
        /// Chart popup: the next longer / shorter time window.
        WindowNext = "window_next",
        WindowPrevious = "window_previous",
        /// Chart popup: a window by its number (1 h, 3 h, 12 h, 24 h, 7 d).
        Window1 = "window_1",
        Window2 = "window_2",
        Window3 = "window_3",
        Window4 = "window_4",
        Window5 = "window_5",
        /// Open the log pane for the selected task, container or service.
        Logs = "logs",
        /// Move the keys between the list and the log pane.
        FocusNext = "focus_next",
        /// Log pane: pause or resume following.
        LogFollow = "log_follow",
        LogSearch = "log_search",
        LogNext = "log_next",
        LogPrevious = "log_previous",
        /// Log pane: show only the lines matching the search.
        LogOnlyMatching = "log_only_matching",
        LogWrap = "log_wrap",
        LogTimestamps = "log_timestamps",
        /// Log pane: full screen, or sharing the screen with the list.
        LogZoom = "log_zoom",
        LogGrow = "log_grow",
        LogShrink = "log_shrink",
        /// Log pane: read older lines.
        LogOlder = "log_older",
        /// Log pane: copy the line under the cursor to the clipboard (OSC 52).
        LogCopy = "log_copy",
        /// Log pane: write the buffer to a file.
        LogSave = "log_save",
        /// Services: the scale dialog.
        Scale = "scale",
        /// Tasks and containers: ECS Exec; instances: an SSM shell on the host.
        Shell = "shell",
        Redeploy = "redeploy",
        StopTask = "stop_task",
        /// Instances: drain, or activate a draining one.
        Drain = "drain",
        /// Services: health of the load balancer targets.
        TargetHealth = "target_health",
        /// Services: the revisions of the service's task definition family.
        TaskDefs = "taskdefs",
        /// Revision list: mark a revision to compare another against.
        Mark = "mark",
        /// Revision list: diff the selected revision against the marked one (or the previous).
        Compare = "compare",
        /// Revision list: update the service to the selected revision.
        Rollback = "rollback",
        /// Tasks, containers, instances: forward a local port through SSM.
        PortForward = "port_forward",
        /// Forwards view: stop the selected forward (or clear an ended one).
        StopForward = "stop_forward",
        /// Findings: show or hide the resolved ones.
        ToggleResolved = "toggle_resolved",
        /// Timeline: every service's entries, not only the one it was opened on.
        AllServices = "all_services",
    }
}

named_enum! {
    /// Where a binding applies; also the section name in `keymap.toml`. Lookup goes from the
    /// most specific context to `Global` (see [`Context::chain`]).
    pub enum Context ("section") {
        Global = "global",
        /// Every list pane.
        Table = "table",
        Clusters = "clusters",
        Services = "services",
        Tasks = "tasks",
        Containers = "containers",
        Instances = "instances",
        /// The scrollable popups (describe, help); every list popup falls back to it.
        Text = "text",
        /// The metrics chart popup (falls back to `text`).
        Chart = "chart",
        /// The log pane while it has the keys (falls back to `text`).
        Logs = "logs",
        /// The revision list of a task definition family (falls back to `text`).
        Taskdefs = "taskdefs",
        /// The port forwards view (falls back to `text`).
        Forwards = "forwards",
        /// `:findings` (falls back to the selected finding's pane keys, then `text`).
        Findings = "findings",
        /// `:timeline` (falls back to `text`).
        Timeline = "timeline",
        /// A list to choose from: region, profile, container (falls back to `text`).
        Picker = "picker",
        /// "Are you sure?" before a change: only its own keys and ctrl+c work.
        Confirm = "confirm",
        /// The scale dialog; printable keys are typed into its field.
        ScaleDialog = "scale_dialog",
        /// The port forward dialog; printable keys are typed into its fields.
        ForwardDialog = "forward_dialog",
    }
}

impl Context {
    /// The lookup order for a screen whose innermost context is `self`: a pane falls back to
    /// `Table` then `Global`, the list popups to `Text` then `Global`, the popups you type
    /// into (and the confirmation) straight to `Global`.
    pub fn chain(self) -> &'static [Context] {
        use Context::*;
        match self {
            Global => &[Global],
            Table => &[Table, Global],
            Clusters => &[Clusters, Table, Global],
            Services => &[Services, Table, Global],
            Tasks => &[Tasks, Table, Global],
            Containers => &[Containers, Table, Global],
            Instances => &[Instances, Table, Global],
            Text => &[Text, Global],
            Chart => &[Chart, Text, Global],
            Logs => &[Logs, Text, Global],
            Taskdefs => &[Taskdefs, Text, Global],
            Forwards => &[Forwards, Text, Global],
            Findings => &[Findings, Text, Global],
            Timeline => &[Timeline, Text, Global],
            Picker => &[Picker, Text, Global],
            Confirm => &[Confirm, Global],
            ScaleDialog => &[ScaleDialog, Global],
            ForwardDialog => &[ForwardDialog, Global],
        }
    }
}

/// One key with its modifiers, normalised so that a parsed key and a terminal event compare
/// equal: a character's case carries the shift (`G`, never `shift+g`), and shift+tab is
/// `backtab`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

/// Named keys; the first name of a code is the one displayed, the others are accepted aliases.
const NAMED_KEYS: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("escape", KeyCode::Esc),
    ("return", KeyCode::Enter),
    ("del", KeyCode::Delete),
];

/// Modifiers we bind on. Others (super, hyper, meta, keypad state) are ignored when matching.
const BOUND_MODS: KeyModifiers = KeyModifiers::CONTROL
    .union(KeyModifiers::ALT)
    .union(KeyModifiers::SHIFT);

/// Puts a code and its modifiers in canonical form (see [`Key`]). Terminals disagree on
/// whether `G` or `?` come with SHIFT; the character already says it, so SHIFT is dropped.
fn normalize(code: KeyCode, mods: KeyModifiers) -> (KeyCode, KeyModifiers) {
    let mut mods = mods & BOUND_MODS;
    let shift = mods.contains(KeyModifiers::SHIFT);
    let code = match code {
        KeyCode::Char(c) => {
            mods.remove(KeyModifiers::SHIFT);
            if shift && c.is_lowercase() {
                KeyCode::Char(c.to_uppercase().next().unwrap_or(c))
            } else {
                KeyCode::Char(c)
            }
        }
        KeyCode::Tab | KeyCode::BackTab if shift || code == KeyCode::BackTab => {
            mods.remove(KeyModifiers::SHIFT);
            KeyCode::BackTab
        }
        other => other,
    };
    (code, mods)
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let (code, mods) = normalize(code, mods);
        Key { code, mods }
    }

    /// Parses `q`, `G`, `ctrl+c`, `shift+up`, `pgdn`, `f5`… Modifier and key names are
    /// case-insensitive; a single character is taken literally (so `G` is shift+g).
    pub fn parse(s: &str) -> Result<Key, String> {
        if s.is_empty() {
            return Err("empty key".into());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        // Peel "mod+" prefixes; a lone or trailing "+" is the plus key itself ("+", "ctrl++").
        while let Some((head, tail)) = rest.split_once('+') {
            if head.is_empty() {
                break;
            }
            let m = match head.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => KeyModifiers::CONTROL,
                "alt" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                _ if tail.is_empty() => break,
                _ => {
                    return Err(format!(
                        "unknown modifier `{head}` (expected ctrl, alt or shift)"
                    ));
                }
            };
            if tail.is_empty() {
                return Err(format!("missing key after `{head}+`"));
            }
            mods |= m;
            rest = tail;
        }

        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if c.is_control() {
                    return Err(format!(
                        "use a key name instead of the control character {c:?}"
                    ));
                }
                if mods.contains(KeyModifiers::SHIFT) && !c.is_alphabetic() {
                    return Err(format!(
                        "shift+{c} is ambiguous: write the character shift produces instead"
                    ));
                }
                KeyCode::Char(c)
            }
            _ => named_code(rest).ok_or_else(|| format!("unknown key name `{rest}`"))?,
        };
        Ok(Key::new(code, mods))
    }

    /// Whether a terminal event is this key. Release events never match (Windows reports
    /// them; acting on both press and release would do everything twice).
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        if ev.kind == KeyEventKind::Release {
            return false;
        }
        normalize(ev.code, ev.modifiers) == normalize(self.code, self.mods)
    }
}

fn named_code(name: &str) -> Option<KeyCode> {
    let lower = name.to_ascii_lowercase();
    if let Some(&(_, code)) = NAMED_KEYS.iter().find(|(n, _)| *n == lower) {
        return Some(code);
    }
    let n: u8 = lower.strip_prefix('f')?.parse().ok()?;
    (1..=12).contains(&n).then_some(KeyCode::F(n))
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (code, mods) = normalize(self.code, self.mods);
        for (m, name) in [
            (KeyModifiers::CONTROL, "ctrl+"),
            (KeyModifiers::ALT, "alt+"),
            (KeyModifiers::SHIFT, "shift+"),
        ] {
            if mods.contains(m) {
                f.write_str(name)?;
            }
        }
        if let Some((name, _)) = NAMED_KEYS.iter().find(|(_, c)| *c == code) {
            return f.write_str(name);
        }
        match code {
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            // Codes we never parse (media keys…): still printable for debugging.
            other => write!(f, "{}", format!("{other:?}").to_lowercase()),
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Key::parse(&s).map_err(|e| D::Error::custom(format!("invalid key {s:?}: {e}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub context: Context,
    pub keys: Vec<Key>,
    pub command: Command,
    /// Short, lower-case, k9s-like: "drill down", "toggle stopped tasks".
    pub desc: String,
    /// Whether the footer hints show it (movement keys would crowd it); help shows everything.
    pub footer: bool,
}

/// One binding as written in a file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    keys: Vec<Key>,
    command: Command,
    desc: Option<String>,
    footer: Option<bool>,
}

type RawKeyMap = BTreeMap<Context, Vec<RawBinding>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    /// In file order; order matters for the footer and the help screen.
    bindings: Vec<Binding>,
}

impl KeyMap {
    /// The built-in key map. Panics only if the embedded file is broken (a test guards that).
    pub fn defaults() -> KeyMap {
        let mut map = KeyMap {
            bindings: Vec::new(),
        };
        map.merge_str(Path::new("<built-in keymap.toml>"), DEFAULT_KEYMAP)
            .unwrap_or_else(|e| panic!("embedded key map is broken: {e}"));
        map
    }

    /// Defaults plus the user's file when there is one. A missing file is fine; a file that
    /// exists must be valid.
    pub fn load(user_file: Option<&Path>) -> Result<KeyMap, ConfigError> {
        let mut map = KeyMap::defaults();
        if let Some(file) = user_file
            && let Some(text) = read_optional(file)?
        {
            map.merge_str(file, &text)?;
        }
        Ok(map)
    }

    /// Merges a file's bindings on top of this map. In each section, a command the file
    /// mentions loses its previous keys there, and the keys the file uses are taken away from
    /// the section's other (older) bindings, so what the user wrote is what happens.
    pub(crate) fn merge_str(&mut self, file: &Path, text: &str) -> Result<(), ConfigError> {
        let raw: RawKeyMap = parse_toml(file, text)?;
        for (context, entries) in raw {
            self.merge_section(context, entries);
        }
        Ok(())
    }

    fn merge_section(&mut self, context: Context, entries: Vec<RawBinding>) {
        let written: HashSet<Command> = entries.iter().map(|e| e.command).collect();
        let new_keys: HashSet<Key> = entries.iter().flat_map(|e| e.keys.clone()).collect();
        // Resolve defaults for desc/footer before the bindings they come from are replaced.
        let mut new: Vec<Binding> = entries
            .into_iter()
            .map(|e| Binding {
                context,
                desc: e
                    .desc
                    .unwrap_or_else(|| self.default_desc(context, e.command)),
                footer: e
                    .footer
                    .unwrap_or_else(|| self.default_footer(context, e.command)),
                keys: e.keys,
                command: e.command,
            })
            .collect();

        let mut merged = Vec::with_capacity(self.bindings.len() + new.len());
        for mut b in std::mem::take(&mut self.bindings) {
            if b.context != context {
                merged.push(b);
            } else if written.contains(&b.command) {
                // The new bindings take the place of the first old one: help keeps its order.
                let command = b.command;
                merged.extend(new.iter().filter(|n| n.command == command).cloned());
                new.retain(|n| n.command != command);
            } else {
                b.keys.retain(|k| !new_keys.contains(k));
                merged.push(b);
            }
        }
        merged.extend(new);
        // `keys = []` unbinds; a binding whose keys were all taken is gone too.
        merged.retain(|b| !b.keys.is_empty());
        self.bindings = merged;
    }

    fn default_desc(&self, context: Context, command: Command) -> String {
        let same = |b: &&Binding| b.command == command;
        self.bindings(context)
            .find(same)
            .or_else(|| self.bindings.iter().find(same))
            .map(|b| b.desc.clone())
            .unwrap_or_else(|| command.name().replace('_', " "))
    }

    fn default_footer(&self, context: Context, command: Command) -> bool {
        let same = |b: &&Binding| b.command == command;
        self.bindings(context)
            .find(same)
            .or_else(|| self.bindings.iter().find(same))
            .is_none_or(|b| b.footer)
    }

    /// The command for a key event, trying `contexts` in order (e.g. `[Tasks, Table, Global]`,
    /// see [`Context::chain`]); the first match wins.
    pub fn lookup(&self, contexts: &[Context], ev: &KeyEvent) -> Option<Command> {
        contexts.iter().find_map(|&context| {
            self.bindings(context)
                .find(|b| b.keys.iter().any(|k| k.matches(ev)))
                .map(|b| b.command)
        })
    }

    /// The bindings of one context in file order, for the help screen.
    pub fn bindings(&self, context: Context) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.context == context)
    }

    /// The first key bound to `command` in these contexts, for hints such as "press ? for
    /// help" that should follow the user's key map.
    pub fn key_for(&self, contexts: &[Context], command: Command) -> Option<&Key> {
        contexts.iter().find_map(|&context| {
            self.bindings(context)
                .find(|b| b.command == command)
                .and_then(|b| b.keys.first())
        })
    }

    /// `(key, desc)` hints for a footer: most specific context first, file order within a
    /// context, one entry per command (the most specific binding decides, including
    /// `footer = false`). Keys shadowed by a more specific context are not shown: in a popup
    /// `q` closes, so quit is hinted as `ctrl+c`.
    pub fn footer(&self, contexts: &[Context]) -> Vec<(String, String)> {
        self.footer_where(contexts, |_, _| true)
    }

    /// Footer hints for a popup you type into (a dialog, the confirmation): its own section's
    /// keys, then only the keys with ctrl of the sections after it, since every other key is
    /// text (see `update/keys.rs`).
    pub fn footer_typing(&self, contexts: &[Context]) -> Vec<(String, String)> {
        let own = contexts.first().copied();
        self.footer_where(contexts, |context, key| {
            Some(context) == own || key.mods.contains(KeyModifiers::CONTROL)
        })
    }

    fn footer_where(
        &self,
        contexts: &[Context],
        works: impl Fn(Context, &Key) -> bool,
    ) -> Vec<(String, String)> {
        let mut seen = HashSet::new();
        let mut taken: HashSet<&Key> = HashSet::new();
        let mut out = Vec::new();
        for &context in contexts {
            for b in self.bindings(context) {
                if !seen.insert(b.command) {
                    continue;
                }
                let live = b
                    .keys
                    .iter()
                    .find(|k| !taken.contains(k) && works(context, k));
                if let (true, Some(key)) = (b.footer, live) {
                    out.push((key.to_string(), b.desc.clone()));
                }
            }
            taken.extend(self.bindings(context).flat_map(|b| &b.keys));
        }
        out
    }
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::defaults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::temp_dir;
    use Context::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    fn ch(c: char) -> KeyEvent {
        ev(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    fn user(text: &str) -> Result<KeyMap, ConfigError> {
        let mut map = KeyMap::defaults();
        map.merge_str(Path::new("/cfg/keymap.toml"), text)?;
        Ok(map)
    }

    #[test]
    fn embedded_defaults_parse_and_cover_every_command() {
        let map = KeyMap::defaults();
        for &command in Command::ALL {
            let b = map.bindings.iter().find(|b| b.command == command);
            assert!(b.is_some(), "{command} has no default binding");
        }
        for b in &map.bindings {
            assert!(!b.keys.is_empty(), "{b:?}");
            assert!(!b.desc.trim().is_empty(), "{b:?} has no desc");
            assert_eq!(b.desc, b.desc.to_lowercase(), "descs are lower-case");
        }
    }

    #[test]
    fn the_spec_defaults_are_there() {
        let map = KeyMap::defaults();
        let tasks = Tasks.chain();
        let cases = [
            (ch('j'), Command::Down),
            (ev(KeyCode::Down, KeyModifiers::NONE), Command::Down),
            (ch('k'), Command::Up),
            (ch('g'), Command::Top),
            (ev(KeyCode::Char('G'), KeyModifiers::SHIFT), Command::Bottom),
            (ev(KeyCode::End, KeyModifiers::NONE), Command::Bottom),
            (ev(KeyCode::PageDown, KeyModifiers::NONE), Command::PageDown),
            (ev(KeyCode::PageUp, KeyModifiers::NONE), Command::PageUp),
            (ev(KeyCode::Enter, KeyModifiers::NONE), Command::Enter),
            (ev(KeyCode::Esc, KeyModifiers::NONE), Command::Back),
            (ch('/'), Command::Filter),
            (ch(':'), Command::CommandMode),
            (ev(KeyCode::Char('?'), KeyModifiers::SHIFT), Command::Help),
            (ch('d'), Command::Describe),
            (ch('o'), Command::SortNext),
            (
                ev(KeyCode::Char('O'), KeyModifiers::SHIFT),
                Command::SortReverse,
            ),
            (ch('r'), Command::Refresh),
            (ch('q'), Command::Quit),
            (ev(KeyCode::Char('c'), KeyModifiers::CONTROL), Command::Quit),
            (
                ev(KeyCode::Char('z'), KeyModifiers::CONTROL),
                Command::Suspend,
            ),
            (ch('a'), Command::ToggleStopped),
        ];
        for (e, command) in cases {
            assert_eq!(map.lookup(tasks, &e), Some(command), "{e:?}");
        }
        // Popups: q and esc close instead of quitting, j/G scroll, ctrl+c still quits.
        let text = Text.chain();
        assert_eq!(map.lookup(text, &ch('q')), Some(Command::Back));
        assert_eq!(
            map.lookup(text, &ev(KeyCode::Esc, KeyModifiers::NONE)),
            Some(Command::Back)
        );
        assert_eq!(map.lookup(text, &ch('j')), Some(Command::Down));
        assert_eq!(
            map.lookup(text, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Command::Bottom)
        );
        assert_eq!(
            map.lookup(text, &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(map.lookup(text, &ch('d')), None);
    }

    #[test]
    fn lookup_goes_from_specific_to_global() {
        let map = KeyMap::defaults();
        assert_eq!(
            map.lookup(&[Tasks, Table, Global], &ch('a')),
            Some(Command::ToggleStopped)
        );
        assert_eq!(map.lookup(&[Services, Table, Global], &ch('a')), None);
        assert_eq!(map.lookup(&[Global], &ch('j')), None);
        // Order of the slice decides: text before global makes q close.
        assert_eq!(map.lookup(&[Global, Text], &ch('q')), Some(Command::Quit));
        assert_eq!(map.lookup(&[Text, Global], &ch('q')), Some(Command::Back));
    }

    #[test]
    fn shifted_and_control_keys_match() {
        let g = key("G");
        assert!(g.matches(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(g.matches(&ev(KeyCode::Char('G'), KeyModifiers::NONE)));
        assert!(g.matches(&ev(KeyCode::Char('g'), KeyModifiers::SHIFT)));
        assert!(!g.matches(&ch('g')));
        assert!(!key("g").matches(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(key("?").matches(&ev(KeyCode::Char('?'), KeyModifiers::SHIFT)));
        assert_eq!(key("shift+g"), g);

        let ctrl_c = key("ctrl+c");
        assert!(ctrl_c.matches(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!ctrl_c.matches(&ch('c')));
        assert!(!key("c").matches(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!ctrl_c.matches(&ev(KeyCode::Char('c'), KeyModifiers::ALT)));

        assert!(key("backtab").matches(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)));
        assert_eq!(key("shift+tab"), key("backtab"));
        assert!(key("shift+up").matches(&ev(KeyCode::Up, KeyModifiers::SHIFT)));
        assert!(!key("up").matches(&ev(KeyCode::Up, KeyModifiers::SHIFT)));

        let mut release = ch('q');
        release.kind = KeyEventKind::Release;
        assert!(!key("q").matches(&release));
    }

    #[test]
    fn keys_round_trip_through_display() {
        let mut names: Vec<String> = NAMED_KEYS.iter().map(|(n, _)| n.to_string()).collect();
        names.extend((1..=12).map(|n| format!("f{n}")));
        names.extend(
            [
                "q",
                "G",
                "/",
                ":",
                "?",
                "+",
                "ctrl+c",
                "ctrl++",
                "alt+enter",
                "shift+up",
            ]
            .map(String::from),
        );
        names.push("ctrl+alt+shift+f5".into());
        for name in &names {
            let k = key(name);
            let shown = k.to_string();
            assert_eq!(key(&shown), k, "{name} -> {shown}");
        }
        // Canonical names print as written; aliases print their canonical name.
        for name in [
            "enter", "pgdn", "pgup", "f12", "ctrl+c", "G", "space", "ctrl++",
        ] {
            assert_eq!(key(name).to_string(), name);
        }
        assert_eq!(key("PageDown").to_string(), "pgdn");
        assert_eq!(key("Ctrl+Z").to_string(), "ctrl+Z");
        assert_eq!(key("CTRL+z").to_string(), "ctrl+z");
    }

    #[test]
    fn bad_keys_are_rejected() {
        for bad in [
            "", "ctrl+foo", "ctrl+", "hyper+x", "f13", "f0", "enterr", "shift+1", "ctrl+\t",
        ] {
            assert!(Key::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(Key::parse("ctrl+foo").unwrap_err().contains("foo"));
    }

    #[test]
    fn a_user_binding_replaces_the_default_keys_of_its_command() {
        let map = user("[[global]]\nkeys = [\"x\"]\ncommand = \"quit\"\n").unwrap();
        assert_eq!(map.lookup(&[Global], &ch('x')), Some(Command::Quit));
        assert_eq!(map.lookup(&[Global], &ch('q')), None);
        assert_eq!(
            map.lookup(&[Global], &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            None
        );
        // The desc is kept from the default, and the text popup's own q is untouched.
        let quit: Vec<_> = map
            .bindings(Global)
            .filter(|b| b.command == Command::Quit)
            .collect();
        assert_eq!(quit.len(), 1);
        assert_eq!(quit[0].desc, "quit");
        assert_eq!(map.lookup(Text.chain(), &ch('q')), Some(Command::Back));
        // It keeps its place in the help order.
        assert_eq!(map.bindings(Global).next().unwrap().command, Command::Quit);
    }

    #[test]
    fn a_user_key_is_taken_from_other_commands_of_its_section() {
        let map = user("[[table]]\nkeys = [\"d\", \"r\"]\ncommand = \"filter\"\ndesc = \"find\"\n")
            .unwrap();
        assert_eq!(map.lookup(&[Table], &ch('d')), Some(Command::Filter));
        assert_eq!(map.lookup(&[Table], &ch('r')), Some(Command::Filter));
        assert_eq!(map.lookup(&[Table], &ch('/')), None);
        assert!(map.bindings(Table).all(|b| b.command != Command::Describe));
        let filter = map
            .bindings(Table)
            .find(|b| b.command == Command::Filter)
            .unwrap();
        assert_eq!(filter.desc, "find");
    }

    #[test]
    fn a_user_file_can_unbind_and_add() {
        let map = user(
            "[[tasks]]\nkeys = []\ncommand = \"toggle_stopped\"\n\n\
             [[services]]\nkeys = [\"a\"]\ncommand = \"toggle_stopped\"\ndesc = \"show stopped\"\n",
        )
        .unwrap();
        assert_eq!(map.lookup(Tasks.chain(), &ch('a')), None);
        assert_eq!(
            map.lookup(Services.chain(), &ch('a')),
            Some(Command::ToggleStopped)
        );
        assert_eq!(
            map.bindings(Tasks)
                .filter(|b| b.command == Command::ToggleStopped)
                .count(),
            0
        );
    }

    fn user_err(text: &str) -> ConfigError {
        let e = user(text).unwrap_err();
        assert_eq!(e.file, Path::new("/cfg/keymap.toml"));
        e
    }

    #[test]
    fn user_file_errors_name_the_file_and_key() {
        let e = user_err("[[tasks]]\nkeys = [\"a\"]\ncommand = \"explode\"\n");
        assert_eq!(e.key.as_deref(), Some("tasks[0].command"));
        assert!(e.message.contains("unknown command `explode`"), "{e}");
        assert!(
            e.message.contains("toggle_stopped"),
            "lists the valid names: {e}"
        );

        let e = user_err(
            "[[text]]\nkeys = [\"q\"]\ncommand = \"back\"\n\n[[tasks]]\nkeys = [\"a\", \"ctrl+foo\"]\ncommand = \"quit\"\n",
        );
        assert_eq!(e.key.as_deref(), Some("tasks[0].keys[1]"));
        assert!(e.message.contains("ctrl+foo"), "{e}");
        assert!(
            e.to_string()
                .starts_with("config file /cfg/keymap.toml: key `tasks[0].keys[1]`: "),
            "{e}"
        );

        let e = user_err("[[tasks]]\nkeys = [\"\"]\ncommand = \"quit\"\n");
        assert_eq!(e.key.as_deref(), Some("tasks[0].keys[0]"));
        assert!(e.message.contains("empty"), "{e}");

        let e = user_err("[[pods]]\nkeys = [\"a\"]\ncommand = \"quit\"\n");
        assert!(e.message.contains("unknown section `pods`"), "{e}");

        let e = user_err("[[global]]\nkeys = \"q\"\ncommand = \"quit\"\n");
        assert_eq!(e.key.as_deref(), Some("global[0].keys"));
        assert!(e.message.contains("invalid type"), "{e}");

        let e = user_err("[[global]]\nkeys = [\"q\"]\ncommand = \"quit\"\nwhen = \"always\"\n");
        assert!(e.message.contains("unknown field `when`"), "{e}");
        assert!(
            e.key.as_deref().unwrap_or("").starts_with("global[0]"),
            "{e}"
        );

        let e = user_err("[[global]]\ncommand = \"quit\"\n");
        assert!(e.message.contains("missing field `keys`"), "{e}");

        let e = user_err("global = 3\n");
        assert_eq!(e.key.as_deref(), Some("global"));
    }

    #[test]
    fn load_reads_the_user_file_when_present() {
        let dir = temp_dir("keymap-load");
        let file = dir.join("keymap.toml");
        assert_eq!(KeyMap::load(Some(&file)).unwrap(), KeyMap::defaults());
        assert_eq!(KeyMap::load(None).unwrap(), KeyMap::defaults());

        std::fs::write(
            &file,
            "[[table]]\nkeys = [\"s\"]\ncommand = \"sort_next\"\n",
        )
        .unwrap();
        let map = KeyMap::load(Some(&file)).unwrap();
        assert_eq!(map.lookup(&[Table], &ch('s')), Some(Command::SortNext));
        assert_eq!(map.lookup(&[Table], &ch('o')), None);

        std::fs::write(&file, "[[table]]\nkeys = [\"s\"]\ncommand = \"sort\"\n").unwrap();
        let e = KeyMap::load(Some(&file)).unwrap_err();
        assert_eq!(e.file, file);
        assert!(e.to_string().contains(&*file.to_string_lossy()), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn footer_is_deduplicated_by_command_and_skips_shadowed_keys() {
        let map = KeyMap::defaults();
        let footer = map.footer(Tasks.chain());
        // The pane's own keys come first.
        assert_eq!(footer[0], ("s".to_string(), "shell (ecs exec)".to_string()));
        assert!(footer.contains(&("a".into(), "toggle stopped tasks".into())));
        assert!(footer.contains(&("enter".into(), "drill down".into())));
        assert!(footer.contains(&("q".into(), "quit".into())));
        // Movement is help-only.
        assert!(!footer.iter().any(|(k, _)| k == "j"));

        // The same command in two contexts shows once, from the most specific one.
        let map =
            user("[[tasks]]\nkeys = [\"R\"]\ncommand = \"refresh\"\ndesc = \"reload tasks\"\n")
                .unwrap();
        let footer = map.footer(Tasks.chain());
        let refresh: Vec<_> = footer
            .iter()
            .filter(|(_, d)| d == "refresh" || d == "reload tasks")
            .collect();
        assert_eq!(refresh, [&("R".to_string(), "reload tasks".to_string())]);
        let mut descs: Vec<_> = footer.iter().map(|(_, d)| d).collect();
        let n = descs.len();
        descs.dedup();
        assert_eq!(descs.len(), n);

        // In a popup q closes, so quit is hinted with its other key.
        let footer = KeyMap::defaults().footer(Text.chain());
        assert_eq!(footer[0], ("esc".to_string(), "close".to_string()));
        assert!(footer.contains(&("ctrl+c".into(), "quit".into())));
        assert!(!footer.contains(&("q".into(), "quit".into())));
    }

    #[test]
    fn every_popup_has_its_keys_in_the_key_map() {
        let map = KeyMap::defaults();
        let key = |code| ev(code, KeyModifiers::NONE);
        let cases = [
            (Findings, ch('a'), Command::ToggleResolved),
            (Findings, key(KeyCode::Enter), Command::Enter),
            (Findings, ch('q'), Command::Back),
            (Timeline, ch('w'), Command::WindowNext),
            (Timeline, ch('a'), Command::AllServices),
            (Picker, key(KeyCode::Enter), Command::Enter),
            (Picker, ch('j'), Command::Down),
            (ScaleDialog, key(KeyCode::Enter), Command::Enter),
            (ScaleDialog, key(KeyCode::Esc), Command::Back),
            (ForwardDialog, key(KeyCode::Tab), Command::FocusNext),
            (ForwardDialog, key(KeyCode::BackTab), Command::FocusNext),
            (ForwardDialog, key(KeyCode::Down), Command::FocusNext),
            (
                Confirm,
                ev(KeyCode::Char('Y'), KeyModifiers::SHIFT),
                Command::Enter,
            ),
            (Confirm, key(KeyCode::Enter), Command::Enter),
            (Confirm, ch('n'), Command::Back),
            (Confirm, key(KeyCode::Esc), Command::Back),
        ];
        for (context, e, command) in cases {
            assert_eq!(
                map.lookup(context.chain(), &e),
                Some(command),
                "{context} {e:?}"
            );
        }
        // A confirmation's own section has nothing for other keys (the key path lets only
        // ctrl+c through to the global ones).
        assert_eq!(map.lookup(&[Confirm], &ch('q')), None);
        assert_eq!(map.lookup(&[ScaleDialog], &ch('q')), None);
    }

    #[test]
    fn a_popup_you_type_into_hints_its_own_keys_and_the_ctrl_ones() {
        let map = KeyMap::defaults();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, d)| (k.to_string(), d.to_string()))
                .collect()
        };
        assert_eq!(
            map.footer_typing(ScaleDialog.chain()),
            pairs(&[
                ("enter", "set the count"),
                ("esc", "cancel"),
                ("ctrl+c", "quit")
            ])
        );
        assert_eq!(
            map.footer_typing(Confirm.chain()),
            pairs(&[("y", "yes, do it"), ("n", "no, cancel"), ("ctrl+c", "quit")])
        );
        // The same sections as a list popup would offer q, ? and :, which are text here.
        let listed = map.footer(ScaleDialog.chain());
        assert!(listed.contains(&("q".into(), "quit".into())));
    }

    #[test]
    fn names_round_trip() {
        for &c in Command::ALL {
            assert_eq!(Command::from_name(c.name()), Some(c));
        }
        for &c in Context::ALL {
            assert_eq!(Context::from_name(c.name()), Some(c));
            assert_eq!(c.chain()[0], c);
            assert_eq!(*c.chain().last().unwrap(), Global);
        }
        assert_eq!(Command::ToggleStopped.name(), "toggle_stopped");
        assert_eq!(
            KeyMap::defaults().key_for(Tasks.chain(), Command::Help),
            Some(&key("?"))
        );
    }
}
