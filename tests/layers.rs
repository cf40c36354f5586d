//! The architecture, held by a test: each folder of `src/` may name only the layers below it
//! (`ui/` draws and `update/` changes, both over the `screen/` read model and neither naming
//! the other; `triage/` and `model/` are pure; `source/` never reaches into the console's
//! state). A path in a comment is not a dependency: comments are skipped.

use std::path::Path;

/// (folder, layers it must never name).
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "model",
        &[
            "action", "app", "headless", "poll", "screen", "source", "state", "triage", "ui",
            "update",
        ],
    ),
    (
        "triage",
        &[
            "action", "app", "headless", "poll", "screen", "source", "state", "ui", "update",
        ],
    ),
    ("state", &["app", "headless", "screen", "ui", "update"]),
    (
        "screen",
        &[
            "action", "app", "headless", "poll", "source", "ui", "update",
        ],
    ),
    ("ui", &["action", "app", "headless", "source", "update"]),
    ("update", &["app", "headless", "ui"]),
    ("poll", &["app", "headless", "ui", "update"]),
    (
        "source",
        &[
            "action", "app", "headless", "screen", "state", "triage", "ui", "update",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::<layer>` named in code (not in a comment) in this file, with the line.
fn named_layers(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let layer: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((n + 1, layer));
        }
    }
    found
}

#[test]
fn each_layer_names_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (folder, forbidden) in FORBIDDEN {
        let mut files = Vec::new();
        rust_files(&src.join(folder), &mut files);
        assert!(
            !files.is_empty(),
            "src/{folder} has no files: the list is out of date"
        );
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read a source file");
            for (line, layer) in named_layers(&text) {
                if forbidden.contains(&layer.as_str()) {
                    broken.push(format!(
                        "{}:{line}: src/{folder} names crate::{layer}",
                        file.strip_prefix(&src).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "layers crossed:\n{}", broken.join("\n"));
}

#[test]
fn a_crossing_in_code_is_found_and_one_in_a_comment_is_not() {
    let text = "use crate::ui::Ctx;\n// see crate::update::keys\nlet x = crate::model::arn::short(a); // crate::app";
    let layers: Vec<String> = named_layers(text).into_iter().map(|(_, l)| l).collect();
    assert_eq!(layers, ["ui", "model"]);
}
