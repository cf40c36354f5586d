//! The `:` commands by name and alias (k9s-style), and what the prompt completes and hints.

/// Command names and their aliases. The first name is the one completion offers.
pub const COMMANDS: &[(&str, &[&str])] = &[
    ("clusters", &["cluster", "cl"]),
    ("services", &["service", "svc"]),
    ("tasks", &["task", "ts"]),
    (
        "instances",
        &["instance", "ci", "inst", "containerinstances"],
    ),
    ("findings", &["find", "fi", "triage"]),
    ("rules", &["rule", "catalog"]),
    ("timeline", &["tl", "events"]),
    ("export", &["exp"]),
    ("taskdefs", &["td", "taskdef", "revisions"]),
    ("diff", &["taskdiff"]),
    ("forwards", &["fw", "pf", "portforwards"]),
    ("region", &["reg"]),
    ("profile", &["prof"]),
    ("stats", &["calls"]),
    ("contexts", &["context", "ctx"]),
    ("help", &["h", "?"]),
    ("quit", &["q", "q!", "exit"]),
];

pub fn canonical(word: &str) -> Option<&'static str> {
    let word = word.to_lowercase();
    COMMANDS
        .iter()
        .find(|(name, aliases)| *name == word || aliases.contains(&word.as_str()))
        .map(|(name, _)| *name)
}

fn candidates(prefix: &str) -> Vec<&'static str> {
    let prefix = prefix.trim().to_lowercase();
    COMMANDS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| name.starts_with(&prefix))
        .collect()
}

/// Tab: the unique completion, or the longest common prefix of several.
pub fn complete(text: &str) -> Option<String> {
    let found = candidates(text);
    let first = *found.first()?;
    let common = found.iter().fold(first.to_string(), |acc, name| {
        acc.chars()
            .zip(name.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a)
            .collect()
    });
    (common.len() > text.trim().len()).then_some(common)
}

/// The greyed rest of the first candidate, drawn after the cursor; or the choices when several.
pub fn completion_hint(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let found = candidates(text);
    match found.as_slice() {
        [] => String::new(),
        // Cut at the lowercased prefix, which `one` starts with: the typed text may be longer
        // in bytes (KELVIN SIGN lowercases to `k`).
        [one] => one[text.trim().to_lowercase().len()..].to_string(),
        many => format!("  ({})", many.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_their_command() {
        assert_eq!(canonical("svc"), Some("services"));
        assert_eq!(canonical("TS"), Some("tasks"));
        assert_eq!(canonical("ci"), Some("instances"));
        assert_eq!(canonical("pods"), None);
    }

    #[test]
    fn tab_completes_unique_prefixes_and_common_parts() {
        assert_eq!(complete("ta").as_deref(), Some("task"));
        assert_eq!(complete("tas").as_deref(), Some("task"));
        assert_eq!(complete("taskd").as_deref(), Some("taskdefs"));
        assert_eq!(complete("fo").as_deref(), Some("forwards"));
        assert_eq!(complete("in").as_deref(), Some("instances"));
        assert_eq!(complete("tasks"), None);
        assert_eq!(complete("zz"), None);
        assert_eq!(completion_hint("se"), "rvices");
        assert_eq!(completion_hint("s"), "  (services stats)");
    }
}
