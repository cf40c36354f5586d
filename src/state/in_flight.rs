//! Changes sent to AWS and not answered yet. Each is audited twice under one id — `requested`
//! before it is sent, then its outcome — and quitting waits for them a little before writing
//! `unknown` for those still unanswered.

use crate::model::{Identity, Operation};

/// One change on its way.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// Pairs the audit log's `requested` line with the outcome's.
    pub id: String,
    pub op: Operation,
    /// Who the operator was acting as when it was confirmed: a region or profile switch while
    /// it is under way does not change whose action it was.
    pub identity: Identity,
    pub profile: Option<String>,
}

#[derive(Debug, Default)]
pub struct InFlight {
    /// Oldest first.
    pub sent: Vec<Sent>,
    /// Tells this console's ids from another's in a shared audit log (set at launch: the
    /// start time and process id); empty in tests.
    pub session: String,
    next: u64,
    /// The operator asked to quit while changes were under way: waiting for their answers.
    pub waiting_to_quit: bool,
    /// Said on the way out, once the terminal is restored: changes whose answer never came,
    /// and how to check each.
    pub unanswered: Vec<String>,
}

impl InFlight {
    /// A new action id: `<session>-<n>`, or `<n>` without a session.
    pub fn next_id(&mut self) -> String {
        self.next += 1;
        if self.session.is_empty() {
            self.next.to_string()
        } else {
            format!("{}-{}", self.session, self.next)
        }
    }

    /// Takes the oldest change matching `op` off the list (identical changes are answered in
    /// the order they were sent: the gate never has two of them under way).
    pub fn answered(&mut self, op: &Operation) -> Option<Sent> {
        let i = self.sent.iter().position(|s| &s.op == op)?;
        Some(self.sent.remove(i))
    }

    pub fn is_under_way(&self, op: &Operation) -> bool {
        self.sent.iter().any(|s| &s.op == op)
    }
}
