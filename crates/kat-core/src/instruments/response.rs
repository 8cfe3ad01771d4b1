//! Parsing raw answers into a valid [`Response`], and scoring it.
//!
//! Parse, don't validate: [`Response::parse`] is the only way to build a `Response`,
//! and it rejects every answer that is not a whole number in the item's range (or, for
//! C-SSRS, not Yes/No), and every answer given to an item that the skip logic closed.
//! Scoring then never has to re-check ranges. Unanswered items are kept as `None`; a
//! response with a required item missing is *incomplete* and never gets a total.

use super::catalog::{AnswerKind, Instrument, InstrumentDef};
use super::{aldrete, cadss, cssrs, moaas, pcl5, phq};
use crate::field::FieldErrors;
use serde::Serialize;
use std::fmt;

/// Why one answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResponseErrorReason {
    /// The text is not a whole number ("1.5", "two", "-1", "1e0").
    NotAnInteger,
    /// A whole number outside the item's range.
    OutOfRange { min: u8, max: u8 },
    /// A C-SSRS answer that is not Yes or No.
    NotYesNo,
    /// The item was answered although the skip logic closed it (C-SSRS Q3–Q5 when Q2
    /// is No; Q6b when Q6 is No). This is a data-entry error (instruments.md §13.5).
    AnsweredWhenSkipped { gate: &'static str },
    /// The number of answers does not fit the instrument.
    WrongItemCount { min: usize, max: usize, got: usize },
}

impl fmt::Display for ResponseErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseErrorReason::NotAnInteger => f.write_str("must be a whole number"),
            ResponseErrorReason::OutOfRange { min, max } => {
                write!(f, "must be between {min} and {max}")
            }
            ResponseErrorReason::NotYesNo => f.write_str("must be yes or no"),
            ResponseErrorReason::AnsweredWhenSkipped { gate } => {
                write!(f, "must be left blank because the answer to item {gate} skips it")
            }
            ResponseErrorReason::WrongItemCount { min, max, got } => {
                write!(f, "expected {min} to {max} answers, got {got}")
            }
        }
    }
}

/// One refused answer: which item, what was given, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{instrument} item {}: {reason}", item.unwrap_or("(all)"))]
pub struct ResponseError {
    pub instrument: Instrument,
    /// The item label ("9", "6b"); `None` when the error concerns the whole response.
    pub item: Option<&'static str>,
    /// The raw text given, if any (kept for the form to re-display it).
    pub value: Option<String>,
    pub reason: ResponseErrorReason,
}

/// Every refused answer of one response (never empty), so a form can show them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(transparent)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
pub struct ResponseErrors(Vec<ResponseError>);

impl ResponseErrors {
    pub fn iter(&self) -> impl Iterator<Item = &ResponseError> {
        self.0.iter()
    }
    pub fn first(&self) -> &ResponseError {
        &self.0[0]
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The error for one item, if any.
    pub fn for_item(&self, label: &str) -> Option<&ResponseError> {
        self.0.iter().find(|e| e.item == Some(label))
    }
}

impl From<ResponseErrors> for FieldErrors {
    /// Field names are `item_<label>` (e.g. `item_9`, `item_6b`) or `answers`.
    fn from(errors: ResponseErrors) -> Self {
        let mut out = FieldErrors::new();
        for e in errors.0 {
            let field = match e.item {
                Some(label) => format!("item_{label}"),
                None => "answers".to_string(),
            };
            out.add(field, e.reason.to_string());
        }
        out
    }
}

/// Whether every required item was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Completeness {
    Complete,
    /// Labels of the required items that are unanswered. No total is computed.
    Incomplete {
        missing: Vec<&'static str>,
    },
}

impl Completeness {
    pub fn is_complete(&self) -> bool {
        matches!(self, Completeness::Complete)
    }
}

/// A safety or review flag raised by a response. Each names the rule it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// PHQ-9 item 9 ≥ 1: immediate clinician review and a structured suicide-risk
    /// assessment (instruments.md §2.5; clinical.md SUI-001, SUI-003).
    SuicidalIdeation,
    /// A safety item is unanswered (PHQ-9 item 9, or a C-SSRS item needed for the risk
    /// level). It is never imputed as 0 (instruments.md §2.3, §13.2), so the clinician
    /// must ask it again.
    SafetyItemMissing,
    /// C-SSRS screener high risk (Q4 or Q5 Yes, or behaviour within 3 months):
    /// same-day clinician assessment (instruments.md §5.2; clinical.md SUI-003).
    CssrsHighRisk,
    /// PCL-5 item 16 (risk-taking / self-harm) at or above the clinic's threshold: a
    /// local review prompt, not an instrument rule (instruments.md §4.4 ⚠️).
    RiskBehaviourReview,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::SuicidalIdeation => "suicidal_ideation",
            Flag::SafetyItemMissing => "safety_item_missing",
            Flag::CssrsHighRisk => "cssrs_high_risk",
            Flag::RiskBehaviourReview => "risk_behaviour_review",
        }
    }

    /// The spec rule behind the flag, for display next to it.
    pub fn rule(self) -> &'static str {
        match self {
            Flag::SuicidalIdeation => "SUI-001 / instruments.md §2.5",
            Flag::SafetyItemMissing => "SUI-001 / instruments.md §13.2",
            Flag::CssrsHighRisk => "SUI-003 / instruments.md §5.2",
            Flag::RiskBehaviourReview => "instruments.md §4.4 (local policy)",
        }
    }
}

/// Clinic choices that change how a response is scored (instruments.md §4.3, §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ScoringPolicy {
    /// PCL-5 probable-PTSD cut-off, 31–33 (default 33).
    pub pcl5_cutoff: pcl5::Pcl5Cutoff,
    /// PCL-5 item 16 value at or above which a review prompt is raised; `None` turns
    /// the local prompt off. Default 3 ("Quite a bit"), as instruments.md §4.4 suggests.
    pub pcl5_item16_review_at: Option<u8>,
}

impl Default for ScoringPolicy {
    fn default() -> Self {
        Self { pcl5_cutoff: pcl5::Pcl5Cutoff::default(), pcl5_item16_review_at: Some(3) }
    }
}

/// The scored result of a response, one variant per instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "instrument", rename_all = "snake_case")]
pub enum Score {
    Phq9(phq::Phq9Score),
    Gad7(phq::Gad7Score),
    Pcl5(pcl5::Pcl5Score),
    CssrsScreener(cssrs::CssrsScore),
    Cadss23(cadss::CadssScore),
    Cadss6(cadss::CadssScore),
    Moaas(moaas::MoaasScore),
    ModifiedAldrete(aldrete::AldreteResult),
}

impl Score {
    /// The total, only for complete responses of instruments that have one.
    pub fn total(&self) -> Option<u8> {
        match self {
            Score::Phq9(s) => s.total,
            Score::Gad7(s) => s.total,
            Score::Pcl5(s) => s.total,
            Score::CssrsScreener(_) => None,
            Score::Cadss23(s) | Score::Cadss6(s) => s.total,
            Score::Moaas(s) => s.value.map(|m| m.score()),
            Score::ModifiedAldrete(s) => s.score.map(|a| a.total()),
        }
    }

    /// The band or level name (snake_case), when one is defined and determinable.
    pub fn band(&self) -> Option<&'static str> {
        match self {
            Score::Phq9(s) => s.severity.map(|b| b.as_str()),
            Score::Gad7(s) => s.severity.map(|b| b.as_str()),
            Score::Pcl5(s) => s.cutoff_status.map(|c| c.as_str()),
            Score::CssrsScreener(s) => s.risk_level.map(|r| r.as_str()),
            _ => None,
        }
    }

    pub fn completeness(&self) -> &Completeness {
        match self {
            Score::Phq9(s) => &s.completeness,
            Score::Gad7(s) => &s.completeness,
            Score::Pcl5(s) => &s.completeness,
            Score::CssrsScreener(s) => &s.completeness,
            Score::Cadss23(s) | Score::Cadss6(s) => &s.completeness,
            Score::Moaas(s) => &s.completeness,
            Score::ModifiedAldrete(s) => &s.completeness,
        }
    }

    /// Safety and review flags raised by the response.
    pub fn flags(&self) -> &[Flag] {
        match self {
            Score::Phq9(s) => &s.flags,
            Score::Pcl5(s) => &s.flags,
            Score::CssrsScreener(s) => &s.flags,
            _ => &[],
        }
    }
}

/// A valid set of answers to one instrument. Values are within each item's range and
/// consistent with the skip logic; unanswered items are `None`.
///
/// `Debug` is redacted: answers are health information and must not reach logs.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    instrument: Instrument,
    answers: Vec<Option<u8>>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Response({}, [redacted])", self.instrument)
    }
}

/// Parses one answer for an item: a whole number in range, or Yes/No. Blank text means
/// "not answered" (a form posts empty fields), which is `Ok(None)`.
fn parse_answer(kind: AnswerKind, raw: &str) -> Result<Option<u8>, ResponseErrorReason> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match kind {
        AnswerKind::YesNo => match text.to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "1" => Ok(Some(1)),
            "no" | "n" | "false" | "0" => Ok(Some(0)),
            _ => Err(ResponseErrorReason::NotYesNo),
        },
        AnswerKind::Ordinal { min, max } => {
            // Only ASCII digits: "+1", "1.0", "1e0" and "-0" are not answers a form offers.
            if !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ResponseErrorReason::NotAnInteger);
            }
            let range = ResponseErrorReason::OutOfRange { min, max };
            let value: u32 = text.parse().map_err(|_| range.clone())?;
            if value < u32::from(min) || value > u32::from(max) {
                return Err(range);
            }
            Ok(Some(value as u8))
        }
    }
}

impl Response {
    /// Parses raw answers, in item order (see [`InstrumentDef::items`]).
    ///
    /// Trailing unscored optional items (PHQ-9 item 10, GAD-7 difficulty item) may be
    /// left out of the slice. Every bad answer is reported, not only the first.
    pub fn parse(instrument: Instrument, raw: &[Option<&str>]) -> Result<Self, ResponseErrors> {
        let def = instrument.def();
        let mut errors = Vec::new();
        let min_len = min_answers(def);
        if raw.len() < min_len || raw.len() > def.items.len() {
            return Err(ResponseErrors(vec![ResponseError {
                instrument,
                item: None,
                value: None,
                reason: ResponseErrorReason::WrongItemCount { min: min_len, max: def.items.len(), got: raw.len() },
            }]));
        }
        let mut answers = vec![None; def.items.len()];
        for (i, item) in def.items.iter().enumerate() {
            let Some(Some(text)) = raw.get(i) else {
                continue;
            };
            match parse_answer(item.answer, text) {
                Ok(v) => answers[i] = v,
                Err(reason) => errors.push(ResponseError {
                    instrument,
                    item: Some(item.label),
                    value: Some((*text).to_string()),
                    reason,
                }),
            }
        }
        if errors.is_empty() { Self::from_values(instrument, &answers) } else { Err(ResponseErrors(errors)) }
    }

    /// Builds a response from numeric values (e.g. from storage or an API that already
    /// sends integers), with the same checks as [`Response::parse`].
    pub fn from_values(instrument: Instrument, values: &[Option<u8>]) -> Result<Self, ResponseErrors> {
        let def = instrument.def();
        let min_len = min_answers(def);
        if values.len() < min_len || values.len() > def.items.len() {
            return Err(ResponseErrors(vec![ResponseError {
                instrument,
                item: None,
                value: None,
                reason: ResponseErrorReason::WrongItemCount { min: min_len, max: def.items.len(), got: values.len() },
            }]));
        }
        let mut errors = Vec::new();
        let mut answers = vec![None; def.items.len()];
        for (i, item) in def.items.iter().enumerate() {
            let Some(Some(v)) = values.get(i).copied() else {
                continue;
            };
            let (min, max) = (item.answer.min(), item.answer.max());
            if v < min || v > max {
                errors.push(ResponseError {
                    instrument,
                    item: Some(item.label),
                    value: Some(v.to_string()),
                    reason: match item.answer {
                        AnswerKind::YesNo => ResponseErrorReason::NotYesNo,
                        AnswerKind::Ordinal { .. } => ResponseErrorReason::OutOfRange { min, max },
                    },
                });
            } else {
                answers[i] = Some(v);
            }
        }
        if instrument == Instrument::CssrsScreener {
            errors.extend(cssrs::skip_logic_errors(&answers));
        }
        if errors.is_empty() { Ok(Self { instrument, answers }) } else { Err(ResponseErrors(errors)) }
    }

    pub fn instrument(&self) -> Instrument {
        self.instrument
    }

    /// The answer at item position `index` (0-based, in [`InstrumentDef::items`] order).
    pub fn answer(&self, index: usize) -> Option<u8> {
        self.answers.get(index).copied().flatten()
    }

    /// The answer to the item with this form label ("9", "6b").
    pub fn answer_by_label(&self, label: &str) -> Option<u8> {
        self.instrument.def().index_of(label).and_then(|i| self.answer(i))
    }

    /// All answers in item order.
    pub fn answers(&self) -> &[Option<u8>] {
        &self.answers
    }

    /// Which required items are missing. For C-SSRS the skip logic decides which items
    /// are required.
    pub fn completeness(&self) -> Completeness {
        let missing: Vec<&'static str> = if self.instrument == Instrument::CssrsScreener {
            cssrs::missing_items(&self.answers)
        } else {
            self.instrument
                .def()
                .items
                .iter()
                .zip(&self.answers)
                .filter(|(item, a)| item.required && a.is_none())
                .map(|(item, _)| item.label)
                .collect()
        };
        if missing.is_empty() { Completeness::Complete } else { Completeness::Incomplete { missing } }
    }

    /// The sum of the scored items, only when the response is complete (§13.2: "totals
    /// need all items"). Never sums a partial response.
    pub fn total(&self) -> Option<u8> {
        if !self.completeness().is_complete() {
            return None;
        }
        let def = self.instrument.def();
        def.total_range?;
        let sum: u32 = def.scored_items().map(|(i, _)| u32::from(self.answers[i].unwrap_or(0))).sum();
        Some(sum as u8)
    }

    /// Scores the response with the clinic's scoring policy.
    pub fn score(&self, policy: &ScoringPolicy) -> Score {
        match self.instrument {
            Instrument::Phq9 => Score::Phq9(phq::score_phq9(self)),
            Instrument::Gad7 => Score::Gad7(phq::score_gad7(self)),
            Instrument::Pcl5 => Score::Pcl5(pcl5::score(self, policy)),
            Instrument::CssrsScreener => Score::CssrsScreener(cssrs::score(self)),
            Instrument::Cadss23 => Score::Cadss23(cadss::score(self)),
            Instrument::Cadss6 => Score::Cadss6(cadss::score(self)),
            Instrument::Moaas => Score::Moaas(moaas::score(self)),
            Instrument::ModifiedAldrete => Score::ModifiedAldrete(aldrete::score(self)),
        }
    }
}

/// The fewest answers a response may hold: trailing items that are neither scored nor
/// required may be omitted (PHQ-9 item 10).
pub fn min_answers(def: &InstrumentDef) -> usize {
    let trailing_optional =
        def.items.iter().rev().take_while(|i| !i.scored && !i.required && i.answer != AnswerKind::YesNo).count();
    def.items.len() - trailing_optional
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a response from numbers; panics on invalid input (tests only).
    pub(crate) fn resp(instrument: Instrument, values: &[Option<u8>]) -> Response {
        Response::from_values(instrument, values).expect("valid test response")
    }

    #[test]
    fn parse_accepts_whole_numbers_in_range() {
        let raw = [Some("0"), Some("1"), Some("2"), Some("3"), Some(" 3 "), Some("0"), Some("1"), Some("2"), Some("3")];
        let r = Response::parse(Instrument::Phq9, &raw).unwrap();
        assert_eq!(r.answer(4), Some(3));
        assert_eq!(r.answers().len(), 10, "item 10 is padded as unanswered");
        assert_eq!(r.answer(9), None);
        assert_eq!(r.total(), Some(15));
    }

    #[test]
    fn parse_rejects_non_integers_and_out_of_range_with_item_and_value() {
        for (bad, reason) in [
            ("4", ResponseErrorReason::OutOfRange { min: 0, max: 3 }),
            ("300", ResponseErrorReason::OutOfRange { min: 0, max: 3 }),
            ("99999999999999999999", ResponseErrorReason::OutOfRange { min: 0, max: 3 }),
            ("-1", ResponseErrorReason::NotAnInteger),
            ("1.5", ResponseErrorReason::NotAnInteger),
            ("1.0", ResponseErrorReason::NotAnInteger),
            ("+1", ResponseErrorReason::NotAnInteger),
            ("two", ResponseErrorReason::NotAnInteger),
            ("1e0", ResponseErrorReason::NotAnInteger),
        ] {
            let mut raw = [Some("0"); 9];
            raw[8] = Some(bad);
            let errs = Response::parse(Instrument::Phq9, &raw).unwrap_err();
            assert_eq!(errs.len(), 1, "{bad}");
            let e = errs.first();
            assert_eq!(e.item, Some("9"), "{bad}");
            assert_eq!(e.value.as_deref(), Some(bad));
            assert_eq!(e.reason, reason, "{bad}");
        }
    }

    #[test]
    fn parse_reports_every_bad_item() {
        let raw = [Some("x"), Some("0"), Some("5"), Some("0"), Some("0"), Some("0"), Some("0"), Some("0"), Some("0")];
        let errs = Response::parse(Instrument::Phq9, &raw).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs.for_item("1").is_some());
        assert!(errs.for_item("3").is_some());
        let fields: FieldErrors = errs.into();
        assert!(fields.for_field("item_3").is_some());
    }

    #[test]
    fn parse_rejects_wrong_item_counts() {
        let e = Response::parse(Instrument::Phq9, &[Some("0"); 8]).unwrap_err();
        assert_eq!(e.first().reason, ResponseErrorReason::WrongItemCount { min: 9, max: 10, got: 8 });
        assert!(Response::parse(Instrument::Phq9, &[Some("0"); 11]).is_err());
        assert!(Response::parse(Instrument::Phq9, &[Some("0"); 10]).is_ok());
        // C-SSRS has no omittable trailing items: Q6b is Yes/No and gated, not optional.
        assert!(Response::parse(Instrument::CssrsScreener, &[Some("no"); 6]).is_err());
    }

    #[test]
    fn blank_answers_are_unanswered_not_zero() {
        let mut raw = [Some("1"); 9];
        raw[8] = Some("   ");
        let r = Response::parse(Instrument::Phq9, &raw).unwrap();
        assert_eq!(r.answer(8), None);
        assert_eq!(r.total(), None);
        assert_eq!(r.completeness(), Completeness::Incomplete { missing: vec!["9"] });
    }

    #[test]
    fn from_values_rejects_out_of_range() {
        let mut v = [Some(0u8); 20];
        v[3] = Some(5);
        let e = Response::from_values(Instrument::Pcl5, &v).unwrap_err();
        assert_eq!(e.first().item, Some("4"));
        assert_eq!(e.first().reason, ResponseErrorReason::OutOfRange { min: 0, max: 4 });
    }

    #[test]
    fn debug_is_redacted() {
        let r = resp(Instrument::Phq9, &[Some(3); 9]);
        let s = format!("{r:?}");
        assert!(!s.contains('3'), "{s}");
    }
}
