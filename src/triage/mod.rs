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
    correlate(observe(input).into_iter().flatten().collect(), input)
}

/// Each rule's observations for this input, rule by rule in catalog order (before the
/// correlations).
pub fn observe(input: &Input) -> Vec<Vec<Observation>> {
    rules::all().map(|rule| (rule.check)(input)).collect()
}

/// The observations followed by the correlations' parents over them.
pub fn correlate(mut observations: Vec<Observation>, input: &Input) -> Vec<Observation> {
    let parents = rules::correlate(&observations, input);
    observations.extend(parents);
    observations
}
