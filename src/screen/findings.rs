//! What `:findings` lists: the triage engine's findings in the pane's order, a diagnosis that
//! combines findings followed by its members, where the cursor is, and which keys act on the
//! selected one.

use crate::keymap::Context;
use crate::model::{Finding, Subject};
use crate::state::{FindingsView, State};

/// The findings the pane lists, in its order.
pub fn listed<'a>(state: &'a State, view: &FindingsView) -> Vec<&'a Finding> {
    listed_with_depth(state, view)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

/// The findings the pane lists with their depth: a diagnosis that combines findings (a
/// correlation) comes first and its members follow it, folded under it (depth 1).
pub fn listed_with_depth<'a>(state: &'a State, view: &FindingsView) -> Vec<(&'a Finding, u8)> {
    let all = if view.show_resolved {
        state.triage.listed()
    } else {
        state.triage.active()
    };
    // A parent names each member in its evidence: "member <rule> (<severity>, <subject>): …".
    let member_of = |parent: &Finding, f: &Finding| {
        let tag = format!("member {} (", f.current.rule);
        let label = format!(", {}): ", f.current.subject.label());
        parent
            .current
            .evidence
            .iter()
            .any(|e| e.text.starts_with(&tag) && e.text.contains(&label))
    };
    let is_parent = |f: &Finding| {
        f.current
            .evidence
            .iter()
            .any(|e| e.text.starts_with("member "))
    };
    let parents: Vec<usize> = (0..all.len()).filter(|&i| is_parent(all[i])).collect();
    let has_parent = |f: &Finding| !is_parent(f) && parents.iter().any(|&p| member_of(all[p], f));
    let mut out: Vec<(&Finding, u8)> = Vec::with_capacity(all.len());
    let mut placed = vec![false; all.len()];
    // In the engine's order (most severe, then newest); members go with their parent.
    for (i, f) in all.iter().enumerate() {
        if placed[i] || has_parent(f) {
            continue;
        }
        placed[i] = true;
        out.push((f, 0));
        if is_parent(f) {
            for (j, m) in all.iter().enumerate() {
                if !placed[j] && !is_parent(m) && member_of(f, m) {
                    placed[j] = true;
                    out.push((m, 1));
                }
            }
        }
    }
    out
}

/// Where the cursor is in `listed`: on the finding it was put on, wherever the list moved it;
/// else at its last index, kept inside the list.
pub fn selected_index(listed: &[&Finding], view: &FindingsView) -> usize {
    view.selected_id
        .as_ref()
        .and_then(|id| listed.iter().position(|f| f.current.id() == *id))
        .unwrap_or(view.selected)
        .min(listed.len().saturating_sub(1))
}

/// The key-map contexts for acting on a subject: its pane's, then every list's.
pub fn contexts(subject: &Subject) -> [Context; 4] {
    let own = match subject {
        Subject::Cluster { .. } => Context::Clusters,
        Subject::Service { .. } | Subject::TargetGroup { .. } => Context::Services,
        Subject::Task { .. } => Context::Tasks,
        Subject::Container { .. } => Context::Containers,
        Subject::Instance { .. } => Context::Instances,
    };
    [own, Context::Table, Context::Text, Context::Global]
}
