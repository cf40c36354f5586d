//! `:rules`: the triage catalog ([`crate::catalog`], the same list as `ecsmon rules`) in a
//! scrollable text popup.

use crate::catalog::{self, Kind};
use crate::state::Popup;

pub fn popup() -> Popup {
    let entries = catalog::entries();
    let count = |kind| entries.iter().filter(|e| e.kind == kind).count();
    Popup::Describe {
        title: format!(
            "Triage rules · {} rules, {} correlations",
            count(Kind::Rule),
            count(Kind::Correlation)
        ),
        lines: catalog::text_lines(),
        scroll: 0,
    }
}
