//! The triage engine: the runbooks in `../shared/design/triage-catalog.md` as rules over what the
//! console knows. Rules are pure functions of an [`Input`]; the findings lifecycle (open, still
//! active, resolved) lives in `state::findings`.

pub mod input;
pub mod rules;

pub use input::{Facts, Input};

use crate::model::Observation;

/// Every rule's observations for this input, in catalog order, then the correlations that
/// combine them (parent findings naming their members).
pub fn evaluate(input: &Input) -> Vec<Observation> {
    let mut observations: Vec<Observation> =
        rules::all().flat_map(|rule| (rule.check)(input)).collect();
    let parents = rules::correlate(&observations, input);
    observations.extend(parents);
    observations
}
