//! Eligibility screening at intake: clinical.md §1 (IND, CI, RCI, DDI, PRE) in full.
//!
//! Pure: [`evaluate`] takes the intake, the clinic's policy and today's date, and returns
//! an [`Evaluation`]. Nothing here reads a clock, a file or a database.
//!
//! * [`intake`]: the intake record. Every answer can be "not yet answered" (`None`).
//! * [`units`]: measured quantities that cannot hold impossible values.
//! * [`medication`]: drugs, interaction classes, the diazepam-equivalent (DDI-004).
//! * [`policy`]: [`EligibilityPolicy`], every \[U\]/\[P\] value with the spec's default.
//! * [`rules`]: the [`RULES`] catalogue, listing every §1 rule with the function that
//!   evaluates it or the reason intake data cannot.
//!
//! # Status and precedence
//!
//! 1. **Excluded**: any finding at [`Level::HardStop`], found on the data present. A hard
//!    stop is reported even while other answers are missing (the missing fields are still
//!    listed), because no further answer can undo it.
//! 2. **Incomplete**: otherwise, any answer a rule needs is missing. Incomplete beats
//!    NeedsReview: review findings are listed, but the screen is not finished.
//! 3. **NeedsReview**: otherwise, any finding at [`Level::PrescriberReview`] (a soft stop
//!    that needs a documented prescriber override with a reason).
//! 4. **Eligible**: every rule evaluated on complete data; at most information findings.
//!
//! A missing answer is never treated as "no": it makes the evaluation `Incomplete` (or
//! leaves it `Excluded`), never `Eligible`.
//!
//! Independently of the status, a [`SameDayReview`] flag is raised when the intake
//! records current suicidal ideation with intent (with or without a plan) or suicidal
//! behaviour within the policy window (RCI-011, SUI-003).

pub mod answers;
pub mod intake;
pub mod medication;
pub mod policy;
pub mod rules;
pub mod units;

#[cfg(test)]
mod tests;

pub use intake::Intake;
pub use policy::{EligibilityPolicy, PolicyAction, PolicyVersion};
pub use rules::{Coverage, RULES, Rule, TrdAssessment, TrdStatus, assess_trd};

use crate::dosing::Bmi;
use jiff::civil::Date;
use medication::{DiazepamEquivalent, diazepam_equivalent};
use rules::{RuleInput, RuleOutput};
use serde::Serialize;
use std::fmt;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Shown; does not block.
    Information,
    /// Soft stop: needs a documented prescriber override and reason.
    PrescriberReview,
    /// Hard stop: blocks scheduling and dosing.
    HardStop,
}

/// One value a finding used, rendered for people.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Datum {
    pub label: &'static str,
    pub value: String,
}

/// One result of one rule.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The clinical.md rule that produced it, e.g. "CI-003".
    pub rule_id: &'static str,
    /// Other spec IDs the finding applies (e.g. "BP-006" for the BP tiers).
    pub related_rules: Vec<&'static str>,
    pub level: Level,
    /// Plain language for a clinician.
    pub message: String,
    /// The data the rule used, rendered.
    pub data: Vec<Datum>,
    /// Source keys from clinical.md §9.
    pub sources: Vec<&'static str>,
}

impl fmt::Debug for Finding {
    /// The data are health information and are redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("rule_id", &self.rule_id)
            .field("level", &self.level)
            .field("message", &self.message)
            .field("data", &"[redacted]")
            .finish()
    }
}

/// An answer that a rule needed and did not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingField {
    /// The intake field path, e.g. "medical.arteriovenous_malformation".
    pub field: &'static str,
    /// The rules that need it.
    pub rule_ids: Vec<&'static str>,
}

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Excluded,
    Incomplete,
    NeedsReview,
    Eligible,
}

/// Same-day clinical review is required (RCI-011, SUI-003).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct SameDayReview {
    pub reasons: Vec<String>,
    pub rule_ids: Vec<&'static str>,
}

impl fmt::Debug for SameDayReview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SameDayReview({} reasons, [redacted])", self.reasons.len())
    }
}

/// The result of screening one intake.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub status: Status,
    /// Findings in catalogue order.
    pub findings: Vec<Finding>,
    /// Missing answers, sorted by field.
    pub missing: Vec<MissingField>,
    /// Raised when the intake records high current suicide risk.
    pub same_day_review: Option<SameDayReview>,
    /// IND-005 computed from the trials, when they were recorded.
    pub treatment_resistance: Option<TrdAssessment>,
    /// DDI-004 computed from the medications, when they were recorded.
    pub diazepam_equivalent: Option<DiazepamEquivalent>,
    /// Computed from baseline weight and height.
    pub bmi: Option<Bmi>,
    pub policy_version: PolicyVersion,
    pub evaluated_on: Date,
}

impl Evaluation {
    pub fn findings_for<'a>(&'a self, rule_id: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.rule_id == rule_id)
    }

    pub fn highest_level(&self) -> Option<Level> {
        self.findings.iter().map(|f| f.level).max()
    }

    pub fn is_missing(&self, field: &str) -> bool {
        self.missing.iter().any(|m| m.field == field)
    }
}

/// Screens `intake` against clinical.md §1 under `policy` on `today`.
pub fn evaluate(intake: &Intake, policy: &EligibilityPolicy, today: Date) -> Evaluation {
    let input = RuleInput { intake, policy, today };
    let mut out = RuleOutput::default();
    for rule in RULES {
        if let Coverage::Evaluated { function, .. } = rule.coverage {
            function(&input, &mut out);
        }
    }
    let missing: Vec<MissingField> = out
        .missing
        .into_iter()
        .map(|(field, rules)| MissingField { field, rule_ids: rules.into_iter().collect() })
        .collect();
    let highest = out.findings.iter().map(|f| f.level).max();
    let status = if highest == Some(Level::HardStop) {
        Status::Excluded
    } else if !missing.is_empty() {
        Status::Incomplete
    } else if highest == Some(Level::PrescriberReview) {
        Status::NeedsReview
    } else {
        Status::Eligible
    };
    let same_day_review = (!out.same_day.is_empty())
        .then(|| SameDayReview { reasons: out.same_day, rule_ids: vec!["RCI-011", "SUI-003"] });
    Evaluation {
        status,
        findings: out.findings,
        missing,
        same_day_review,
        treatment_resistance: intake.prior_antidepressant_trials.as_deref().map(|t| assess_trd(t, policy)),
        diazepam_equivalent: intake
            .medications
            .as_deref()
            .map(|m| diazepam_equivalent(m, &policy.benzodiazepine_equivalents)),
        bmi: intake.vitals.bmi(),
        policy_version: policy.version.clone(),
        evaluated_on: today,
    }
}
