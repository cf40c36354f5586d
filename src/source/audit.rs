//! The audit log: a JSON line for each step of every action the operator asked for, appended to
//! `audit.jsonl` in the state directory, so "who scaled cart at 14:02, and did it happen?" has an
//! answer after the incident. A change sent to AWS has two lines with the same `id`: `requested`,
//! written before the request leaves, and its outcome (`done`, `failed`, or `unknown` when no
//! answer came). A change refused under `--read-only` has one line, `refused`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::{Identity, Operation, Time};

/// Where an action stands, as of this line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// About to be sent (written before the request leaves).
    Requested,
    /// AWS said it was carried out.
    Done,
    /// AWS said no, or it could not be sent.
    Failed,
    /// Sent, but no answer came: it may or may not have been carried out.
    Unknown,
    /// Never sent (`--read-only`).
    Refused,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditRecord {
    /// The same on an action's `requested` line and its outcome's.
    pub id: String,
    pub stage: Stage,
    pub time: Time,
    pub profile: Option<String>,
    pub account: String,
    pub region: String,
    pub principal: String,
    pub action: &'static str,
    pub target: String,
    pub parameters: Operation,
    /// In words: `requested`, `ok: …`, `failed: …`, `unknown: …`, `refused: read-only`.
    pub result: String,
}

impl AuditRecord {
    pub fn new(
        (id, stage): (String, Stage),
        time: Time,
        (identity, profile): (&Identity, Option<String>),
        op: &Operation,
        result: String,
    ) -> Self {
        AuditRecord {
            id,
            stage,
            time,
            profile,
            account: identity.account.clone(),
            region: identity.region.clone(),
            principal: identity.principal.clone(),
            action: op.verb(),
            target: op.target().to_string(),
            parameters: op.clone(),
            result,
        }
    }
}

/// `<state dir>/audit.jsonl` (`~/.local/state/ecsmon/audit.jsonl` on Linux).
pub fn default_path() -> Option<PathBuf> {
    crate::config::state_dir().map(|d| d.join("audit.jsonl"))
}

/// Appends one line. Creates the file (and its directory) when missing, private.
pub fn append(path: &Path, record: &AuditRecord) -> std::io::Result<()> {
    let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = crate::files::open_append(path)?;
    // One write call per line: concurrent consoles never interleave inside a line.
    file.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_is_one_json_line_appended() {
        let dir = std::env::temp_dir().join(format!("ecsmon-audit-{}", std::process::id()));
        let path = dir.join("nested").join("audit.jsonl");
        let _ = std::fs::remove_dir_all(&dir);
        let identity = Identity {
            source: "profile prod".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            principal: "assumed-role/Admin/alice".into(),
        };
        let op = Operation::Scale {
            cluster: "prod".into(),
            service: "cart".into(),
            service_arn: "arn:aws:ecs:eu-west-1:123456789012:service/prod/cart".into(),
            from: 4,
            to: 7,
        };
        let at = Time::from_timestamp(1_800_000_000, 0).unwrap();
        for (stage, result) in [
            (Stage::Requested, "requested"),
            (Stage::Done, "ok: cart: desired count set to 7"),
        ] {
            let record = AuditRecord::new(
                ("a1-7".into(), stage),
                at,
                (&identity, Some("prod".into())),
                &op,
                result.into(),
            );
            append(&path, &record).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["id"], "a1-7");
        assert_eq!(lines[1]["id"], "a1-7");
        assert_eq!(lines[0]["stage"], "requested");
        assert_eq!(lines[1]["stage"], "done");
        assert_eq!(lines[0]["action"], "scale");
        assert_eq!(lines[0]["account"], "123456789012");
        assert_eq!(lines[0]["principal"], "assumed-role/Admin/alice");
        assert_eq!(lines[0]["profile"], "prod");
        assert_eq!(lines[0]["parameters"]["to"], 7);
        assert_eq!(lines[1]["result"], "ok: cart: desired count set to 7");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
