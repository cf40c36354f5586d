//! The key-map parser against arbitrary input (proptest): key names and whole `keymap.toml`
//! files never panic; each either parses or says, in words, which file and what is wrong. A key
//! that parses is written back (help, footer) in a form that parses to the same key.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ecsmon::keymap::{Command, Context, Key, KeyMap};
use proptest::prelude::*;

/// Key names as people write them, right and wrong: modifiers (known, unknown, repeated, in any
/// case), named keys, function keys, single characters of every kind, stray `+`.
fn key_name() -> impl Strategy<Value = String> {
    let modifier = prop_oneof![
        Just("ctrl"),
        Just("Ctrl"),
        Just("control"),
        Just("alt"),
        Just("ALT"),
        Just("shift"),
        Just("super"),
        Just("meta"),
        Just(""),
    ];
    let base = prop_oneof![
        any::<char>().prop_map(|c| c.to_string()),
        "[a-zA-Z0-9]{1,8}",
        Just("enter".to_string()),
        Just("pgdn".to_string()),
        Just("backtab".to_string()),
        Just("space".to_string()),
        Just("+".to_string()),
        Just("".to_string()),
        (0u8..30).prop_map(|n| format!("f{n}")),
        any::<String>(),
    ];
    (prop::collection::vec(modifier, 0..4), base).prop_map(|(mods, base)| {
        let mut s: String = mods.iter().map(|m| format!("{m}+")).collect();
        s.push_str(&base);
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_key_name_parses_or_says_why(name in key_name()) {
        match Key::parse(&name) {
            Ok(key) => {
                let written = key.to_string();
                prop_assert_eq!(Key::parse(&written), Ok(key.clone()), "{:?} shown as {:?}", name, written);
                // A parsed key matches the terminal event it describes.
                let event = KeyEvent::new(key.code, key.mods);
                prop_assert!(key.matches(&event));
            }
            Err(why) => prop_assert!(!why.is_empty(), "{:?}", name),
        }
    }

    #[test]
    fn arbitrary_strings_as_key_names_never_panic(name in any::<String>()) {
        let _ = Key::parse(&name);
    }
}

/// A scratch file per case (proptest runs cases in one thread; tests run in several).
fn scratch(contents: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("ecsmon-keymap-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("keymap-{}.toml", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&file, contents).unwrap();
    file
}

/// Loads `contents` as a user key map: it merges, or is refused in words naming the file.
fn check(contents: &str) -> Result<(), TestCaseError> {
    let file = scratch(contents);
    let result = KeyMap::load(Some(&file));
    let _ = std::fs::remove_file(&file);
    match result {
        Ok(map) => {
            // The merged map serves every screen: footers, help and lookups.
            for &context in Context::ALL {
                let chain = context.chain();
                let _ = map.footer(chain);
                let _ = map.bindings(context).count();
                let _ = map.key_for(chain, Command::Quit);
                for code in [
                    KeyCode::Char('q'),
                    KeyCode::Enter,
                    KeyCode::Esc,
                    KeyCode::F(5),
                ] {
                    let _ = map.lookup(chain, &KeyEvent::new(code, KeyModifiers::NONE));
                }
            }
        }
        Err(e) => {
            let said = e.to_string();
            prop_assert!(
                said.starts_with(&format!("config file {}: ", file.display())),
                "{}",
                said
            );
            prop_assert!(!e.message.is_empty(), "{}", said);
        }
    }
    Ok(())
}

/// A TOML basic string holding exactly `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_array(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A TOML value of any type, sometimes the one expected.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        key_name().prop_map(|k| toml_string(&k)),
        prop::collection::vec(key_name(), 0..4).prop_map(|ks| toml_array(&ks)),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("1.5".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("[[1], [\"q\"]]".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
    ]
}

/// `[[section]]` bindings with fields right and wrong (each at most once), in any number.
fn keymap_file() -> impl Strategy<Value = String> {
    let section = prop_oneof![
        4 => prop::sample::select(Context::ALL.iter().map(|c| c.name().to_string()).collect::<Vec<_>>()),
        1 => "[a-z_]{1,10}",
    ];
    let command = prop_oneof![
        4 => prop::sample::select(Command::ALL.iter().map(|c| toml_string(c.name())).collect::<Vec<_>>()),
        1 => value(),
    ];
    let keys = prop_oneof![
        4 => prop::collection::vec(key_name(), 0..4).prop_map(|ks| toml_array(&ks)),
        1 => value(),
    ];
    let fields = (
        prop::option::weighted(0.9, keys),
        prop::option::weighted(0.9, command),
        prop::option::weighted(0.3, value()),
        prop::option::weighted(0.3, prop_oneof![Just("true".to_string()), value()]),
        prop::option::weighted(0.1, ("[a-z]{1,8}", value())),
    );
    let binding = (section, fields).prop_map(|(section, (keys, command, desc, footer, extra))| {
        let mut s = format!("[[{section}]]\n");
        let fields = [
            keys.map(|v| format!("keys = {v}")),
            command.map(|v| format!("command = {v}")),
            desc.map(|v| format!("desc = {v}")),
            footer.map(|v| format!("footer = {v}")),
            extra.map(|(k, v)| format!("x{k} = {v}")),
        ];
        for field in fields.into_iter().flatten() {
            s.push_str(&field);
            s.push('\n');
        }
        s
    });
    prop::collection::vec(binding, 0..6).prop_map(|b| b.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn structured_keymap_files_merge_or_say_what_is_wrong(file in keymap_file()) {
        check(&file)?;
    }

    #[test]
    fn arbitrary_keymap_text_merges_or_says_what_is_wrong(
        text in "[\\[\\]a-z_=\"+ ,\n0-9.{}#'\\\\-]{0,300}"
    ) {
        check(&text)?;
    }

    #[test]
    fn arbitrary_unicode_keymap_files_never_panic(text in any::<String>()) {
        check(&text)?;
    }
}
