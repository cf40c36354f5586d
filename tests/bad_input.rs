//! Bad input from the operator: dialogs, filters, log searches and `:` commands given nonsense,
//! config and key-map files with the wrong types, unknown keys and invalid key names, and
//! terminals down to 1×1. Each must be refused in words (or drawn as well as the space allows),
//! never a panic and never an action sent.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ecsmon::action::{Action, Effect};
use ecsmon::config::Config;
use ecsmon::keymap::KeyMap;
use ecsmon::state::Popup;
use ecsmon::testkit::Harness;

fn console() -> Harness {
    Harness::new("default", 140, 40)
}

fn sent_anything(h: &Harness) -> bool {
    h.effects
        .iter()
        .any(|e| matches!(e, Effect::Perform(_) | Effect::Audit(_)))
}

/// No character a terminal would interpret, nor one that reorders or hides text.
fn assert_drawable(frame: &str, what: &str) {
    let bad = frame.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{061c}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    });
    assert!(bad.is_none(), "{what}: {bad:?} drawn\n{frame}");
}

// ---------------------------------------------------------------------------------------------
// The scale dialog

fn scale_message(h: &Harness) -> String {
    match h.state.popups.last() {
        Some(Popup::Scale(d)) => d.message.clone().unwrap_or_default(),
        other => panic!("the dialog stays open: {other:?}"),
    }
}

fn scale_text(h: &Harness) -> String {
    match h.state.popups.last() {
        Some(Popup::Scale(d)) => d.editor.text.clone(),
        other => panic!("the dialog stays open: {other:?}"),
    }
}

#[test]
fn the_scale_dialog_refuses_pasted_and_typed_nonsense() {
    let mut h = console();
    h.press("/prod<enter><enter>/payments<enter>s");
    assert!(matches!(h.state.popups.last(), Some(Popup::Scale(_))));
    let pastes = [
        "\x1b[31m5\x1b[0m", // a coloured number copied from a terminal
        "５",               // fullwidth digit
        "5🙂",
        "\u{202e}5",
        "+5",
        "0x10",
        "1_000",
        "1e3",
        "-0",
        "4294967296", // u32::MAX + 1
        "18446744073709551616",
        "NaN",
        "٣", // Arabic-Indic three
    ];
    for paste in pastes {
        h.press("<c-u>");
        h.dispatch(Action::Paste(paste.to_string()));
        h.press("<enter>");
        let message = scale_message(&h);
        assert!(!message.is_empty(), "{paste:?} refused");
        assert!(message.contains("nothing was sent"), "{paste:?}: {message}");
        assert!(!sent_anything(&h), "{paste:?}");
        assert_drawable(&h.render(), paste);
    }
    // Pasted control characters never reach the line.
    h.press("<c-u>");
    h.dispatch(Action::Paste("\x1b[2J\x07\t7".into()));
    assert_eq!(scale_text(&h), "[2J7");
    // Only the first line of a paste is taken: "5\nrm -rf" is 5.
    h.press("<c-u>");
    h.dispatch(Action::Paste("5\nrm -rf /".into()));
    assert_eq!(scale_text(&h), "5");

    // Ten 10,000-character pastes: the line stays short, the frame draws, nothing is sent.
    h.press("<c-u>");
    for _ in 0..10 {
        h.dispatch(Action::Paste("ü".repeat(10_000)));
    }
    let text = scale_text(&h);
    assert!(text.chars().count() <= 64, "{} chars", text.chars().count());
    h.press("<enter>");
    assert!(
        scale_message(&h).chars().count() < 100,
        "{}",
        scale_message(&h)
    );
    let frame = h.render();
    assert!(frame.contains("nothing was sent"), "{frame}");
    // Typed one by one, a long number is cut at 64 characters.
    h.press("<c-u>");
    for _ in 0..200 {
        h.press("9");
    }
    assert_eq!(scale_text(&h).len(), 64);
    h.press("<enter>");
    assert!(scale_message(&h).contains("quota"), "{}", scale_message(&h));
    assert!(!sent_anything(&h));

    // After all that, a good count still goes to the confirmation.
    h.press("<c-u>9<enter>");
    assert!(
        matches!(h.state.popups.last(), Some(Popup::Confirm { .. })),
        "{}",
        h.render()
    );
}

#[test]
fn scaling_to_zero_compares_the_typed_name_exactly() {
    let mut h = console();
    h.press("/prod<enter><enter>/payments<enter>s<c-u>0<enter>");
    // Lookalikes of "payments" are not the name.
    for typed in ["PAYMENTS", "pаyments", "payments\u{200b}", "paym"] {
        h.press("<c-u>");
        h.dispatch(Action::Paste(typed.into()));
        h.press("<enter>");
        assert!(
            matches!(h.state.popups.last(), Some(Popup::Scale(_))),
            "{typed:?} accepted"
        );
        assert!(!sent_anything(&h));
        assert_drawable(&h.render(), typed);
    }
}

// ---------------------------------------------------------------------------------------------
// Filters, log searches and `:` commands

const METACHARACTERS: &[&str] = &[
    "(", ")", "[", "]", "{", "}", "*", "+", "?", ".", ".*", "\\", "^", "$", "|", "a|b", "(?i)",
    "[a-", "{1,2}", "\\d+", "%s%n", "İ", "🙂", "K", "ß", "'", "\"",
];

#[test]
fn filters_are_literal_text_whatever_they_contain() {
    let mut h = console();
    h.press("/prod<enter><enter>/payments<enter><enter>");
    let all = h.state.focused().rows.len();
    assert!(all > 3, "tasks shown: {all}");
    for filter in METACHARACTERS {
        h.press("/<c-u>");
        h.dispatch(Action::Paste((*filter).to_string()));
        h.press("<enter>");
        assert_eq!(h.state.focused().filter, *filter);
        assert_drawable(&h.render(), filter);
    }
    // As a regex `.*` would keep every row and `a|b` most: as text they keep none.
    for (filter, rows) in [(".*", 0), ("a|b", 0), ("!.*", all), ("[", 0), ("!(", all)] {
        h.press("/<c-u>");
        h.dispatch(Action::Paste(filter.into()));
        h.press("<enter>");
        assert_eq!(h.state.focused().rows.len(), rows, "filter {filter:?}");
        let frame = h.render();
        assert!(frame.contains(filter), "the filter is shown\n{frame}");
    }
    // Keys over an empty table do nothing harmful.
    h.press("/<c-u>.*<enter>");
    h.press("jkG g<pgdn><pgup><enter>dlsx");
    assert!(!sent_anything(&h));
    h.render();
    // A 10,000-character filter is cut, and draws.
    h.press("/<c-u>");
    h.dispatch(Action::Paste("x".repeat(10_000)));
    h.press("<enter>");
    assert!(h.state.focused().filter.len() <= 256);
    assert_eq!(h.state.focused().rows.len(), 0);
    h.render();
}

#[test]
fn log_searches_are_literal_text_whatever_they_contain() {
    let mut h = console();
    h.press("/prod<enter><enter>/payments<enter>l");
    h.advance(3);
    let lines = h.state.logs.as_ref().unwrap().lines.len();
    assert!(lines > 0, "the log pane has lines");
    for search in METACHARACTERS {
        h.press("/<c-u>");
        h.dispatch(Action::Paste((*search).to_string()));
        h.press("<enter>nnN&");
        let pane = h.state.logs.as_ref().unwrap();
        assert_eq!(pane.search(), Some(*search));
        let literal = pane
            .lines
            .iter()
            .filter(|l| l.text.to_lowercase().contains(&search.to_lowercase()))
            .count();
        assert_eq!(
            pane.matching, literal,
            "search {search:?} counts literal matches"
        );
        assert_drawable(&h.render(), search);
        h.press("&");
    }
    h.press("/<c-u>");
    h.dispatch(Action::Paste("(".repeat(10_000)));
    h.press("<enter>nN&");
    assert_eq!(h.state.logs.as_ref().unwrap().matching, 0);
    h.render();
}

#[test]
fn unknown_and_partial_commands_are_refused_in_words() {
    let mut h = console();
    h.press("/prod<enter><enter>");
    let nav = h.state.nav.len();
    for typed in [
        "foo",
        "tas",
        "q?",
        "🙂",
        "タスク",
        "clusters;rm",
        "..",
        "-h",
        "%n",
    ] {
        h.press(":<c-u>");
        h.dispatch(Action::Paste(typed.into()));
        h.press("<enter>");
        let said = h.status();
        assert!(
            said.starts_with(&format!("unknown command :{typed}")) && said.contains("clusters"),
            "{typed:?}: {said:?}"
        );
        assert_eq!(h.state.nav.len(), nav, "{typed:?} went nowhere");
        assert!(!h.state.should_quit);
        assert_drawable(&h.render(), typed);
    }
    // Nothing typed, or only spaces: nothing happens.
    h.press(":<enter>:   <enter>");
    assert_eq!(h.state.nav.len(), nav);
    // A 10,000-character command is cut and refused.
    h.press(":");
    h.dispatch(Action::Paste("z".repeat(10_000)));
    h.press("<enter>");
    assert!(h.status().starts_with("unknown command :zzz"));
    assert!(h.status().chars().count() < 500, "{}", h.status().len());
    h.render();
    // Extra words after a command are ignored, not misread.
    h.press(":tasks now please<enter>");
    assert!(h.render().contains("Tasks ("), "{}", h.render());
}

#[test]
fn completion_hints_survive_letters_that_change_length_when_lowercased() {
    // KELVIN SIGN (3 bytes) lowercases to `k` (1 byte): "tasKdef" is a prefix of "taskdefs" once
    // lowercased, but longer than it in bytes.
    let mut h = console();
    for typed in [
        "tas\u{212a}def",
        "tas\u{212a}d",
        "\u{212a}",
        "İ",
        "ta\u{212a}",
    ] {
        h.press(":<c-u>");
        h.dispatch(Action::Paste(typed.into()));
        let frame = h.render();
        assert!(
            frame.contains(typed),
            "{typed:?} shown in the prompt\n{frame}"
        );
        h.press("<tab>");
        h.render();
        h.press("<esc>");
    }
    // The hint still completes an ordinary prefix.
    h.press(":taskd");
    assert!(h.render().contains(":taskdefs"), "{}", h.render());
}

// ---------------------------------------------------------------------------------------------
// Config and key-map files

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ecsmon-bad-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// (file contents, what the message must name).
const BAD_CONFIGS: &[(&str, &str)] = &[
    (
        "mouse = \"yes\"\n",
        "key `mouse`: invalid type: string \"yes\", expected a boolean",
    ),
    (
        "[refresh]\nfocused_secs = -5\n",
        "key `refresh.focused_secs`",
    ),
    ("[refresh]\nfocused_secs = 0\n", "refresh.focused_secs"),
    ("[refresh]\nfocused_secs = 99999999999999999999\n", "line 2"),
    (
        "[refresh]\nfocused_secs = 1.5\n",
        "key `refresh.focused_secs`: invalid type: floating point",
    ),
    ("refresh = 5\n", "key `refresh`: invalid type: integer `5`"),
    (
        "log_lines = []\n",
        "key `log_lines`: invalid type: sequence",
    ),
    ("colour = \"red\"\n", "unknown field `colour`"),
    ("[refresh]\nfocused = 5\n", "unknown field `focused`"),
    (
        "stopped_tasks_window = \"forever\"\n",
        "stopped_tasks_window",
    ),
    ("stopped_tasks_window = \"-1h\"\n", "stopped_tasks_window"),
    ("theme = \n", "line 1"),
    ("theme = \"dark\"\ntheme = \"light\"\n", "duplicate key"),
    ("[[refresh]]\n", "refresh"),
    ("\u{feff}mouse = 3\n", "key `mouse`"),
    ("mouse = true\0\n", "line 1"),
];

#[test]
fn bad_config_files_name_the_file_the_key_and_what_is_wrong() {
    let dir = TempDir::new("config");
    for (i, (contents, expected)) in BAD_CONFIGS.iter().enumerate() {
        let file = dir.write(&format!("config-{i}.toml"), contents.as_bytes());
        let err = Config::load(Some(&file), None)
            .err()
            .unwrap_or_else(|| panic!("{contents:?} was accepted"));
        let said = err.to_string();
        assert!(
            said.starts_with(&format!("config file {}: ", file.display())),
            "{said}"
        );
        assert!(said.contains(expected), "{contents:?}: {said}");
        eprintln!("{contents:?}\n    {said}");
    }
    // Not UTF-8, and a directory where a file should be.
    let file = dir.write("latin1.toml", b"theme = \"caf\xe9\"\n");
    let said = Config::load(Some(&file), None).unwrap_err().to_string();
    assert!(said.contains("cannot read"), "{said}");
    let said = Config::load(Some(&dir.0), None).unwrap_err().to_string();
    assert!(said.contains("cannot read"), "{said}");
}

/// (key-map file contents, what the message must name).
const BAD_KEYMAPS: &[(&str, &str)] = &[
    (
        "[[global]]\nkeys = [\"hyper+q\"]\ncommand = \"quit\"\n",
        "unknown modifier `hyper`",
    ),
    (
        "[[global]]\nkeys = [\"ctrl+\"]\ncommand = \"quit\"\n",
        "global[0].keys[0]",
    ),
    (
        "[[global]]\nkeys = [\"\"]\ncommand = \"quit\"\n",
        "empty key",
    ),
    (
        "[[global]]\nkeys = [\"f13\"]\ncommand = \"quit\"\n",
        "unknown key name `f13`",
    ),
    (
        "[[global]]\nkeys = [\"f0\"]\ncommand = \"quit\"\n",
        "unknown key name `f0`",
    ),
    (
        "[[global]]\nkeys = [\"shift+1\"]\ncommand = \"quit\"\n",
        "ambiguous",
    ),
    (
        "[[global]]\nkeys = [\"\\u001b\"]\ncommand = \"quit\"\n",
        "control character",
    ),
    (
        "[[global]]\nkeys = [\"ctrl+alt+shift+pgdn+x\"]\ncommand = \"quit\"\n",
        "unknown",
    ),
    (
        "[[global]]\nkeys = \"q\"\ncommand = \"quit\"\n",
        "global[0].keys",
    ),
    (
        "[[global]]\nkeys = [1]\ncommand = \"quit\"\n",
        "invalid type: integer `1`",
    ),
    (
        "[[global]]\nkeys = [\"q\"]\ncommand = \"explode\"\n",
        "unknown command `explode`",
    ),
    ("[[global]]\nkeys = [\"q\"]\n", "missing field `command`"),
    (
        "[[global]]\nkeys = [\"q\"]\ncommand = \"quit\"\ncolour = 1\n",
        "unknown field `colour`",
    ),
    (
        "[[everywhere]]\nkeys = [\"q\"]\ncommand = \"quit\"\n",
        "unknown section `everywhere`",
    ),
    ("[global]\nkeys = [\"q\"]\n", "global"),
    ("global = 3\n", "global"),
    (
        "[[global]]\nkeys = [\"q\"]\ncommand = \"quit\"\nfooter = \"no\"\n",
        "footer",
    ),
];

#[test]
fn bad_key_maps_name_the_file_the_key_and_what_is_wrong() {
    let dir = TempDir::new("keymap");
    for (i, (contents, expected)) in BAD_KEYMAPS.iter().enumerate() {
        let file = dir.write(&format!("keymap-{i}.toml"), contents.as_bytes());
        let err = KeyMap::load(Some(&file))
            .err()
            .unwrap_or_else(|| panic!("{contents:?} was accepted"));
        let said = err.to_string();
        assert!(
            said.starts_with(&format!("config file {}: ", file.display())),
            "{said}"
        );
        assert!(said.contains(expected), "{contents:?}: {said}");
        assert!(said.contains("(line "), "{contents:?}: where? {said}");
        eprintln!("{contents:?}\n    {said}");
    }
}

#[test]
fn config_key_map_and_theme_files_over_1_mib_are_refused_before_parsing() {
    use ecsmon::theme::Theme;
    let dir = TempDir::new("huge");
    // Valid TOML all the way (a comment), so only the size can refuse it.
    let mut huge = b"mouse = false\n#".to_vec();
    huge.resize(1024 * 1024 + 1, b'x');
    huge.push(b'\n');
    let size = huge.len();
    let refused = |said: String, file: &Path| {
        assert!(said.contains(&file.display().to_string()), "{said}");
        assert!(
            said.contains(&format!("is {size} bytes: more than the 1 MiB")),
            "{said}"
        );
    };
    let config = dir.write("config.toml", &huge);
    refused(
        Config::load(Some(&config), None).unwrap_err().to_string(),
        &config,
    );
    let keymap = dir.write("keymap.toml", &huge);
    refused(
        KeyMap::load(Some(&keymap)).unwrap_err().to_string(),
        &keymap,
    );
    let theme = dir.write("themes/big.toml", &huge);
    refused(
        Theme::load("big", Some(&dir.0), false)
            .unwrap_err()
            .to_string(),
        &theme,
    );
    // Exactly 1 MiB is still read (and here parsed: a valid file).
    huge.truncate(1024 * 1024 - 1);
    huge.push(b'\n');
    let config = dir.write("config.toml", &huge);
    let read = Config::load(Some(&config), None).expect("a 1 MiB file is read");
    assert!(!read.mouse, "and parsed");
    // A file whose size says nothing (a device) is cut off while reading, not read forever.
    let said = Config::load(Some(Path::new("/dev/zero")), None)
        .unwrap_err()
        .to_string();
    assert!(said.contains("larger than 1 MiB"), "{said}");
}

fn ecsmon(args: &[&str], config_home: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ecsmon"))
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .env("XDG_STATE_HOME", config_home)
        .env("HOME", config_home)
        .stdin(Stdio::null())
        .output()
        .expect("run ecsmon")
}

#[test]
fn the_binary_stops_before_the_terminal_and_says_which_file_is_wrong() {
    let dir = TempDir::new("binary");
    let config = dir.write("bad-config.toml", b"[refresh]\nfocused_secs = \"soon\"\n");
    let out = ecsmon(&["--demo", "--config", config.to_str().unwrap()], &dir.0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("config file {}", config.display()))
            && stderr.contains("key `refresh.focused_secs`")
            && stderr.contains("line 2"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "the terminal was not touched");

    dir.write(
        "ecsmon/keymap.toml",
        b"[[tasks]]\nkeys = [\"ctrl+shift\"]\ncommand = \"logs\"\n",
    );
    let out = ecsmon(&["--demo"], &dir.0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("keymap.toml") && stderr.contains("tasks[0].keys[0]"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Tiny terminals

const WIDTHS: &[u16] = &[1, 2, 3, 5, 10, 20, 39, 40, 41, 50, 80];
const HEIGHTS: &[u16] = &[1, 2, 3, 5, 7, 8, 9, 10, 12, 24];

/// Keys from a fresh demo console to each pane and popup, and whether a popup must be open.
const SCREENS: &[(&str, bool)] = &[
    ("", false),
    ("/prod<enter><enter>", false),
    ("/prod<enter><enter>/payments<enter><enter>", false),
    ("/prod<enter><enter>/payments<enter><enter><enter>", false),
    ("/prod<enter><enter>/payments<enter><enter>a", false),
    ("/prod<enter>:instances<enter>", false),
    ("/prod<enter><enter>/zzz<enter>", false),
    ("?", true),
    ("/prod<enter><enter>d", true),
    ("/prod<enter><enter>/payments<enter>m", true),
    ("/prod<enter><enter>/payments<enter>s", true),
    ("/prod<enter><enter>/payments<enter>s<c-u>0<enter>", true),
    ("/prod<enter><enter>/payments<enter>R", true),
    ("/prod<enter><enter>/payments<enter>t", true),
    ("/prod<enter><enter>/payments<enter>T", true),
    ("/prod<enter><enter>/payments<enter>T<enter>", true),
    ("/prod<enter><enter>/payments<enter><enter>F", true),
    (":forwards<enter>", true),
    (":findings<enter>", true),
    (":timeline<enter>", true),
    (":stats<enter>", true),
    ("/prod<enter><enter>/payments<enter>l", false),
    ("/prod<enter><enter>/payments<enter>lz", false),
    ("/prod<enter><enter>/payments<enter>l/error<enter>&", false),
    ("/abc", false),
    (":tas", false),
];

#[test]
fn every_screen_draws_at_every_size_down_to_one_by_one() {
    for (keys, popup) in SCREENS {
        let mut h = console();
        h.press(keys);
        h.advance(2);
        assert_eq!(
            !h.state.popups.is_empty(),
            *popup,
            "{keys:?}: popups {:?}",
            h.state.popups
        );
        for &width in WIDTHS {
            for &height in HEIGHTS {
                h.resize(width, height);
                let frame = h.render();
                if (width < 40 || height < 8) && width >= 10 {
                    assert!(
                        frame.contains("Terminal"),
                        "{keys:?} at {width}×{height}: the too-small note\n{frame}"
                    );
                }
            }
        }
        // Keys at a tiny size, then back to a normal one: the console is intact.
        h.resize(3, 2);
        h.press("jj<pgdn>G<pgup>g");
        h.advance(1);
        h.resize(140, 40);
        assert!(h.render().contains("ecsmon"), "{keys:?}\n{}", h.render());
    }
}
