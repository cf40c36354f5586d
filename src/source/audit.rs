//! The audit log: one JSON line per action the operator asked for (done, failed or refused),
//! appended to `audit.jsonl` in the state directory, so "who scaled cart at 14:02?" has an
//! answer after the incident.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::{Identity, Operation, Time};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditRecord {
    pub time: Time,
    pub profile: Option<String>,
    pub account: String,
    pub region: String,
    pub principal: String,
    pub action: &'static str,
    pub target: String,
    pub parameters: Operation,
    /// `ok: …`, `failed: …`, `refused: read-only`, `cancelled`.
    pub result: String,
}

impl AuditRecord {
    pub fn new(
        time: Time,
        identity: &Identity,
        profile: Option<String>,
        op: &Operation,
        result: String,
    ) -> Self {
        AuditRecord {
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
        for result in ["ok: cart: desired count set to 7", "failed: AccessDenied"] {
            let record = AuditRecord::new(at, &identity, Some("prod".into()), &op, result.into());
            append(&path, &record).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["action"], "scale");
        assert_eq!(lines[0]["account"], "123456789012");
        assert_eq!(lines[0]["principal"], "assumed-role/Admin/alice");
        assert_eq!(lines[0]["profile"], "prod");
        assert_eq!(lines[0]["parameters"]["to"], 7);
        assert_eq!(lines[1]["result"], "failed: AccessDenied");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
