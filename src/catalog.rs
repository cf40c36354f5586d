//! The rule catalog as operators read it (`ecsmon rules`, `:rules` in the console and
//! `docs/triage.md`): the triage registry — every rule and correlation with what it says about
//! itself — joined with the replayed `--demo` incidents whose scripts say it must fire. Nothing
//! here is written by hand, so the catalog cannot drift from the code.

use crate::model::Severity;
use crate::source::demo::DemoSource;
use crate::triage::rules::{self, About, CORRELATIONS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rule,
    Correlation,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Rule => "rule",
            Kind::Correlation => "correlation",
        }
    }
}

/// One rule or correlation.
pub struct Entry {
    pub kind: Kind,
    pub id: &'static str,
    pub about: &'static About,
    /// A correlation's member rules (empty for a rule).
    pub members: &'static [&'static str],
    /// The `--demo` incidents that must fire it.
    pub demos: Vec<&'static str>,
}

impl Entry {
    pub fn severities(&self) -> String {
        let labels: Vec<&str> = self.about.severities.iter().map(|s| s.label()).collect();
        labels.join(", ")
    }

    pub fn limits(&self) -> Vec<String> {
        self.about.limits.iter().map(|l| l.text()).collect()
    }
}

/// Every rule (in evaluation order), then every correlation.
pub fn entries() -> Vec<Entry> {
    let demos = DemoSource::must_fire();
    let shown_in = |id: &str| -> Vec<&'static str> {
        demos
            .iter()
            .filter(|(_, must)| must.contains(&id))
            .map(|(name, _)| *name)
            .collect()
    };
    let rules = rules::all().map(|r| Entry {
        kind: Kind::Rule,
        id: r.id,
        about: r.about,
        members: &[],
        demos: shown_in(r.id),
    });
    let correlations = CORRELATIONS.iter().map(|c| Entry {
        kind: Kind::Correlation,
        id: c.id,
        about: &c.about,
        members: c.members,
        demos: shown_in(c.id),
    });
    rules.chain(correlations).collect()
}

/// The plain listing of `ecsmon rules` and the `:rules` popup, one line per element.
pub fn text_lines() -> Vec<String> {
    let entries = entries();
    let mut out = Vec::new();
    for kind in [Kind::Rule, Kind::Correlation] {
        let of_kind: Vec<&Entry> = entries.iter().filter(|e| e.kind == kind).collect();
        if !out.is_empty() {
            out.push(String::new());
        }
        out.push(format!(
            "{} ({})",
            match kind {
                Kind::Rule => "RULES",
                Kind::Correlation => "CORRELATIONS",
            },
            of_kind.len()
        ));
        for e in of_kind {
            out.push(String::new());
            out.push(format!("{}  [{}]", e.id, e.severities()));
            out.push(format!("    {}", e.about.summary));
            if !e.members.is_empty() {
                out.extend(wrapped(
                    "members",
                    e.members.iter().map(|m| m.to_string()),
                    ",",
                ));
            }
            for (i, r) in e.about.reads.iter().enumerate() {
                let head = if i == 0 { "reads" } else { "" };
                out.push(format!("    {head:<8} {:<6} {}", r.kind(), r.text()));
            }
            if !e.about.limits.is_empty() {
                out.extend(wrapped("limits", e.limits().into_iter(), ";"));
            }
            if !e.demos.is_empty() {
                out.push(format!("    demo     {}", e.demos.join(", ")));
            }
        }
    }
    out
}

/// Text of the listing after its 13-column indent, at most this wide per line.
const TEXT_WIDTH: usize = 88;

/// `    {head}  a, b, c` with the items carried onto lines of their own when they get long.
fn wrapped(head: &str, items: impl Iterator<Item = String>, sep: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for item in items {
        let last = lines.last_mut().expect("one line at least");
        if last.is_empty() {
            last.push_str(&item);
        } else if last.chars().count() + item.chars().count() + 2 <= TEXT_WIDTH {
            last.push_str(&format!("{sep} {item}"));
        } else {
            last.push_str(sep);
            lines.push(item);
        }
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| format!("    {:<8} {l}", if i == 0 { head } else { "" }))
        .collect()
}

/// `ecsmon rules --json`: one object per line.
pub fn json_lines() -> String {
    let mut out = String::new();
    for e in entries() {
        let reads: Vec<serde_json::Value> = e
            .about
            .reads
            .iter()
            .map(|r| serde_json::json!({ "kind": r.kind(), "text": r.text() }))
            .collect();
        let severities: Vec<&str> = e.about.severities.iter().map(|s| s.label()).collect();
        let line = serde_json::json!({
            "kind": e.kind.label(),
            "id": e.id,
            "severities": severities,
            "summary": e.about.summary,
            "members": e.members,
            "reads": reads,
            "limits": e.limits(),
            "demos": e.demos,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// `docs/triage.md` (`ecsmon rules --markdown > docs/triage.md`).
pub fn markdown() -> String {
    let entries = entries();
    let mut out = String::new();
    out.push_str(
        "# Triage rules\n\n\
         <!-- Generated by `ecsmon rules --markdown > docs/triage.md` from the rule registry; \
         do not edit by hand. -->\n\n\
         ecsmon's triage engine evaluates these rules over what the console polls, and the \
         correlations over the rules' findings. A finding opens once its condition has held \
         for the hold shown and closes when it no longer holds. `ecsmon rules` prints the same \
         list (`--json` for one object per line), and `:rules` shows it in the console. \
         `--demo <incident>` replays an incident in which the rule must fire.\n\n",
    );
    for kind in [Kind::Rule, Kind::Correlation] {
        let of_kind: Vec<&Entry> = entries.iter().filter(|e| e.kind == kind).collect();
        let title = match kind {
            Kind::Rule => "Rules",
            Kind::Correlation => "Correlations",
        };
        out.push_str(&format!("## {title} ({})\n\n", of_kind.len()));
        out.push_str("| id | severity | demo |\n|---|---|---|\n");
        for e in &of_kind {
            out.push_str(&format!(
                "| [`{id}`](#{id}) | {} | {} |\n",
                e.severities(),
                code_list(&e.demos),
                id = e.id
            ));
        }
        out.push('\n');
        for e in &of_kind {
            out.push_str(&format!("### {}\n\n{}\n\n", e.id, e.about.summary));
            out.push_str(&format!("- **Severity:** {}\n", e.severities()));
            if !e.members.is_empty() {
                let members: Vec<String> =
                    e.members.iter().map(|m| format!("[`{m}`](#{m})")).collect();
                out.push_str(&format!("- **Members:** {}\n", members.join(", ")));
            }
            if !e.about.reads.is_empty() {
                out.push_str("- **Reads:**\n");
                for r in e.about.reads {
                    let text = match r {
                        rules::Read::Log(pattern) => format!("log lines matching `{pattern}`"),
                        _ => r.text().to_string(),
                    };
                    out.push_str(&format!("  - {}: {text}\n", r.kind()));
                }
            }
            if !e.about.limits.is_empty() {
                out.push_str(&format!(
                    "- **Thresholds and holds:** {}\n",
                    e.limits().join("; ")
                ));
            }
            if !e.demos.is_empty() {
                let demos: Vec<String> = e.demos.iter().map(|d| format!("`--demo {d}`")).collect();
                out.push_str(&format!("- **Demo:** {}\n", demos.join(", ")));
            }
            out.push('\n');
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn code_list(items: &[&str]) -> String {
    let coded: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    coded.join(", ")
}

/// The severities a finding of `id` can have (`None` for an unknown id).
pub fn severities_of(id: &str) -> Option<&'static [Severity]> {
    rules::all()
        .find(|r| r.id == id)
        .map(|r| r.about.severities)
        .or_else(|| {
            CORRELATIONS
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.about.severities)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_and_correlation_is_listed_once_and_described() {
        let entries = entries();
        let mut ids: Vec<&str> = entries.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), entries.len(), "an id is registered twice");
        for e in &entries {
            assert!(!e.about.summary.is_empty(), "{}", e.id);
            assert!(!e.about.severities.is_empty(), "{}", e.id);
            assert!(
                e.about.severities.windows(2).all(|w| w[0] < w[1]),
                "{}: severities lowest first",
                e.id
            );
            assert!(
                e.kind == Kind::Correlation || !e.about.reads.is_empty(),
                "{}: a rule says what it reads",
                e.id
            );
        }
    }

    #[test]
    fn correlation_members_are_registered_rules() {
        let rule_ids: Vec<&str> = rules::all().map(|r| r.id).collect();
        for c in CORRELATIONS {
            for m in c.members {
                assert!(rule_ids.contains(m), "{}: member {m} is no rule", c.id);
            }
        }
    }

    #[test]
    fn every_must_fire_id_is_a_registered_rule_or_correlation() {
        for (scenario, must) in DemoSource::must_fire() {
            assert!(!must.is_empty(), "{scenario} fires nothing");
            for id in must {
                assert!(
                    severities_of(id).is_some(),
                    "{scenario} must fire {id}, which is no rule or correlation"
                );
            }
        }
    }

    #[test]
    fn the_demos_of_a_rule_come_from_the_scenarios_must_fire_lists() {
        let entries = entries();
        let of = |id: &str| &entries.iter().find(|e| e.id == id).unwrap().demos;
        assert_eq!(
            of("task-oom-killed"),
            &["memory-leak", "post-deploy-leak", "load-test-oom"]
        );
        assert_eq!(
            of("deployment-failed-rollback"),
            &["bad-deploy", "image-pull"]
        );
        assert!(of("agent-disconnected").is_empty());
    }

    #[test]
    fn every_format_names_every_entry() {
        let entries = entries();
        let text = text_lines().join("\n");
        let json = json_lines();
        let md = markdown();
        assert_eq!(json.lines().count(), entries.len());
        for e in &entries {
            assert!(text.contains(&format!("{}  [", e.id)), "{}", e.id);
            assert!(md.contains(&format!("### {}\n", e.id)), "{}", e.id);
        }
        for line in json.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["id"].is_string() && v["severities"].is_array(), "{line}");
        }
        assert!(
            text.contains("limits   held 5m"),
            "holds come from the rules"
        );
    }

    #[test]
    fn long_lists_carry_on_under_their_head() {
        let long = || ["a".repeat(50), "b".repeat(50), "c".repeat(10)].into_iter();
        assert_eq!(
            wrapped("members", long(), ","),
            [
                format!("    members  {},", "a".repeat(50)),
                format!("             {}, {}", "b".repeat(50), "c".repeat(10)),
            ]
        );
        assert_eq!(
            wrapped("limits", ["held 5m".to_string()].into_iter(), ";"),
            ["    limits   held 5m"]
        );
    }

    /// docs/triage.md is this module's markdown, byte for byte.
    #[test]
    fn docs_triage_md_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/triage.md");
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, markdown()).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == markdown(),
            "docs/triage.md is out of date with the rule registry; regenerate it with \
             `cargo run -- rules --markdown > docs/triage.md` (or `UPDATE_DOCS=1 cargo test \
             --lib catalog`)"
        );
    }
}
