//! C-SSRS screener (recent): skip logic and the risk rule (instruments.md §5).
//!
//! No item wording lives here (licensing, §1). Item positions in a [`Response`]:
//! 0 = Q1, 1 = Q2, 2 = Q3, 3 = Q4, 4 = Q5, 5 = Q6, 6 = Q6b ("within 3 months").
//! Yes is stored as 1, No as 0.

use super::catalog::Instrument;
use super::response::{Completeness, Flag, Response, ResponseError, ResponseErrorReason};
use serde::Serialize;

const Q1: usize = 0;
const Q2: usize = 1;
const Q3: usize = 2;
const Q4: usize = 3;
const Q5: usize = 4;
const Q6: usize = 5;
const Q6B: usize = 6;

const LABELS: [&str; 7] = ["1", "2", "3", "4", "5", "6", "6b"];

/// Screener risk level (instruments.md §5.2; Columbia triage guidelines). Ordered so
/// that `max` gives the most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CssrsRiskLevel {
    /// No "Yes": routine.
    NoRiskIdentified,
    /// Q1 or Q2 only: behavioural-health referral / follow-up.
    Low,
    /// Q3, or lifetime behaviour more than 3 months ago: consultation, consider
    /// safety precautions.
    Moderate,
    /// Q4 or Q5 (past month), or behaviour within 3 months: immediate safety
    /// precautions and same-day mental-health evaluation (SUI-003).
    High,
}

impl CssrsRiskLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            CssrsRiskLevel::NoRiskIdentified => "no_risk_identified",
            CssrsRiskLevel::Low => "low",
            CssrsRiskLevel::Moderate => "moderate",
            CssrsRiskLevel::High => "high",
        }
    }

    /// LOINC answer code for 93374-7, when confirmed. Only "Low" (LA9194-7) is; the
    /// Moderate and High codes were not confirmed (instruments.md §5.1, §14).
    pub fn loinc_answer(self) -> Option<&'static str> {
        match self {
            CssrsRiskLevel::Low => Some("LA9194-7"),
            _ => None,
        }
    }
}

/// The scored screener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CssrsScore {
    pub completeness: Completeness,
    /// The risk level, when the answers decide it. Missing answers are never imputed
    /// (instruments.md §13.2), so an incomplete screener has a level only when the
    /// answers given already establish "high" (the top level, which no further answer
    /// can change).
    pub risk_level: Option<CssrsRiskLevel>,
    /// The lowest level the answers given already establish; equal to `risk_level`
    /// when that is known. Lets the UI say "at least moderate" for a partial screen.
    pub at_least: CssrsRiskLevel,
    pub flags: Vec<Flag>,
}

fn yes(answers: &[Option<u8>], i: usize) -> bool {
    answers.get(i).copied().flatten() == Some(1)
}

fn answered_no(answers: &[Option<u8>], i: usize) -> bool {
    answers.get(i).copied().flatten() == Some(0)
}

/// Answers that the skip logic forbids: Q3–Q5 when Q2 = No, Q6b when Q6 = No
/// (instruments.md §5.1, §13.5). Given items in a closed branch are a data-entry error.
pub(super) fn skip_logic_errors(answers: &[Option<u8>]) -> Vec<ResponseError> {
    let mut errors = Vec::new();
    let mut check = |gate: usize, gated: &[usize]| {
        if answered_no(answers, gate) {
            for &i in gated {
                if let Some(v) = answers.get(i).copied().flatten() {
                    errors.push(ResponseError {
                        instrument: Instrument::CssrsScreener,
                        item: Some(LABELS[i]),
                        value: Some(if v == 1 { "yes" } else { "no" }.to_string()),
                        reason: ResponseErrorReason::AnsweredWhenSkipped { gate: LABELS[gate] },
                    });
                }
            }
        }
    };
    check(Q2, &[Q3, Q4, Q5]);
    check(Q6, &[Q6B]);
    errors
}

/// Required items given the skip logic: Q1, Q2 and Q6 always; Q3–Q5 unless Q2 = No;
/// Q6b unless Q6 = No. While a gate is unanswered its branch counts as required, so a
/// screen with Q2 blank is incomplete rather than silently "no ideation".
pub(super) fn missing_items(answers: &[Option<u8>]) -> Vec<&'static str> {
    let mut required = vec![Q1, Q2, Q6];
    if !answered_no(answers, Q2) {
        required.extend([Q3, Q4, Q5]);
    }
    if !answered_no(answers, Q6) {
        required.push(Q6B);
    }
    required.sort_unstable();
    required.into_iter().filter(|&i| answers.get(i).copied().flatten().is_none()).map(|i| LABELS[i]).collect()
}

/// The level established by the "Yes" answers given (instruments.md §5.2 table).
fn level_from_yes(answers: &[Option<u8>]) -> CssrsRiskLevel {
    if yes(answers, Q4) || yes(answers, Q5) || (yes(answers, Q6) && yes(answers, Q6B)) {
        CssrsRiskLevel::High
    } else if yes(answers, Q3) || (yes(answers, Q6) && answered_no(answers, Q6B)) {
        CssrsRiskLevel::Moderate
    } else if yes(answers, Q6) {
        // Behaviour Yes with recency unknown: at least moderate (behaviour > 3 months
        // ago is moderate); the incompleteness keeps "high" possible.
        CssrsRiskLevel::Moderate
    } else if yes(answers, Q1) || yes(answers, Q2) {
        CssrsRiskLevel::Low
    } else {
        CssrsRiskLevel::NoRiskIdentified
    }
}

/// Scores the screener deterministically from the highest "Yes" and the recency of Q6
/// (instruments.md §5.2 "Software rule"). A clinician may override the level at the
/// shell, with a Provenance record; this function never does.
pub(super) fn score(response: &Response) -> CssrsScore {
    assert_eq!(response.instrument(), Instrument::CssrsScreener);
    let answers = response.answers();
    let completeness = response.completeness();
    let at_least = level_from_yes(answers);
    let risk_level = if completeness.is_complete() || at_least == CssrsRiskLevel::High { Some(at_least) } else { None };
    let mut flags = Vec::new();
    if at_least == CssrsRiskLevel::High {
        // SUI-003: any positive high-risk screen → same-day clinician assessment.
        flags.push(Flag::CssrsHighRisk);
    } else if !completeness.is_complete() {
        // Every C-SSRS item is a safety item (§13.2): the level is unknown, ask again.
        flags.push(Flag::SafetyItemMissing);
    }
    CssrsScore { completeness, risk_level, at_least, flags }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: [&str; 7]) -> Result<Response, crate::instruments::ResponseErrors> {
        let raw: Vec<Option<&str>> = raw.iter().map(|s| Some(*s)).collect();
        Response::parse(Instrument::CssrsScreener, &raw)
    }

    fn level(raw: [&str; 7]) -> Option<CssrsRiskLevel> {
        score(&parse(raw).unwrap()).risk_level
    }

    #[test]
    fn risk_levels_follow_the_triage_table() {
        use CssrsRiskLevel::*;
        assert_eq!(level(["no", "no", "", "", "", "no", ""]), Some(NoRiskIdentified));
        assert_eq!(level(["yes", "no", "", "", "", "no", ""]), Some(Low));
        assert_eq!(level(["no", "yes", "no", "no", "no", "no", ""]), Some(Low));
        assert_eq!(level(["yes", "yes", "yes", "no", "no", "no", ""]), Some(Moderate));
        assert_eq!(level(["no", "no", "", "", "", "yes", "no"]), Some(Moderate));
        assert_eq!(level(["yes", "yes", "no", "yes", "no", "no", ""]), Some(High));
        assert_eq!(level(["yes", "yes", "no", "no", "yes", "no", ""]), Some(High));
        assert_eq!(level(["no", "no", "", "", "", "yes", "yes"]), Some(High));
    }

    #[test]
    fn high_risk_raises_the_flag_and_lower_levels_do_not() {
        let s = score(&parse(["yes", "yes", "yes", "yes", "no", "no", ""]).unwrap());
        assert_eq!(s.flags, vec![Flag::CssrsHighRisk]);
        let s = score(&parse(["yes", "yes", "yes", "no", "no", "yes", "no"]).unwrap());
        assert_eq!(s.risk_level, Some(CssrsRiskLevel::Moderate));
        assert!(s.flags.is_empty());
    }

    #[test]
    fn q3_to_q5_answered_when_q2_is_no_is_rejected() {
        let e = parse(["yes", "no", "no", "yes", "", "no", ""]).unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(e.for_item("4").unwrap().reason, ResponseErrorReason::AnsweredWhenSkipped { gate: "2" });
        assert!(e.for_item("3").is_some());
    }

    #[test]
    fn q6b_answered_when_q6_is_no_is_rejected() {
        let e = parse(["no", "no", "", "", "", "no", "yes"]).unwrap_err();
        assert_eq!(e.first().item, Some("6b"));
    }

    #[test]
    fn non_yes_no_answers_are_rejected() {
        let e = parse(["maybe", "no", "", "", "", "no", ""]).unwrap_err();
        assert_eq!(e.first().reason, ResponseErrorReason::NotYesNo);
        let e = Response::from_values(Instrument::CssrsScreener, &[Some(2), Some(0), None, None, None, Some(0), None])
            .unwrap_err();
        assert_eq!(e.first().reason, ResponseErrorReason::NotYesNo);
    }

    #[test]
    fn skipped_items_are_not_required_but_open_branches_are() {
        let r = parse(["no", "no", "", "", "", "no", ""]).unwrap();
        assert!(r.completeness().is_complete());
        // Q2 = Yes opens Q3–Q5.
        let r = parse(["no", "yes", "", "", "", "no", ""]).unwrap();
        assert_eq!(r.completeness(), Completeness::Incomplete { missing: vec!["3", "4", "5"] });
        let s = score(&r);
        assert_eq!(s.risk_level, None);
        assert_eq!(s.at_least, CssrsRiskLevel::Low);
        assert_eq!(s.flags, vec![Flag::SafetyItemMissing]);
        // Q6 = Yes opens Q6b; without it the level is unknown but at least moderate.
        let r = parse(["no", "no", "", "", "", "yes", ""]).unwrap();
        let s = score(&r);
        assert_eq!(s.completeness, Completeness::Incomplete { missing: vec!["6b"] });
        assert_eq!(s.risk_level, None);
        assert_eq!(s.at_least, CssrsRiskLevel::Moderate);
    }

    #[test]
    fn unanswered_gate_keeps_the_screen_incomplete() {
        let r = parse(["no", "", "", "", "", "", ""]).unwrap();
        assert_eq!(r.completeness(), Completeness::Incomplete { missing: vec!["2", "3", "4", "5", "6", "6b"] });
        assert_eq!(score(&r).risk_level, None);
    }

    #[test]
    fn incomplete_screen_with_a_high_risk_answer_is_still_high() {
        // Q4 Yes with Q6 unanswered: high is established; missing items cannot lower it.
        let r = parse(["yes", "yes", "", "yes", "", "", ""]).unwrap();
        assert!(!r.completeness().is_complete());
        let s = score(&r);
        assert_eq!(s.risk_level, Some(CssrsRiskLevel::High));
        assert_eq!(s.flags, vec![Flag::CssrsHighRisk]);
    }

    #[test]
    fn loinc_answer_only_for_confirmed_codes() {
        assert_eq!(CssrsRiskLevel::Low.loinc_answer(), Some("LA9194-7"));
        assert_eq!(CssrsRiskLevel::High.loinc_answer(), None);
    }
}
