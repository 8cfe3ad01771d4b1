//! Modified Aldrete score (Aldrete 1995; instruments.md §10; clinical.md DC-003).
//!
//! Clinician-rated: five criteria, 0–2 each, total 0–10. The discharge rule is
//! configurable because institutions use variants (DC-003; instruments.md §10), and the
//! rule used is returned with every decision so the record shows which one applied.

use super::catalog::Instrument;
use super::response::{Completeness, Response};
use serde::{Deserialize, Serialize};

/// Points for one criterion, 0–2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct AldretePoints(u8);

/// Points outside 0–2 or not a whole number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Aldrete points must be 0, 1 or 2, got {0:?}")]
pub struct AldretePointsError(pub String);

impl AldretePoints {
    pub fn new(v: u8) -> Result<Self, AldretePointsError> {
        if v <= 2 { Ok(Self(v)) } else { Err(AldretePointsError(v.to_string())) }
    }

    pub fn parse(raw: &str) -> Result<Self, AldretePointsError> {
        match raw.trim() {
            "0" => Ok(Self(0)),
            "1" => Ok(Self(1)),
            "2" => Ok(Self(2)),
            _ => Err(AldretePointsError(raw.to_string())),
        }
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for AldretePoints {
    type Error = AldretePointsError;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<AldretePoints> for u8 {
    fn from(p: AldretePoints) -> u8 {
        p.0
    }
}

/// The five criteria, in form order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AldreteCriterion {
    Activity,
    Respiration,
    Circulation,
    Consciousness,
    OxygenSaturation,
}

/// A complete modified Aldrete rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AldreteScore {
    pub activity: AldretePoints,
    pub respiration: AldretePoints,
    pub circulation: AldretePoints,
    pub consciousness: AldretePoints,
    pub oxygen_saturation: AldretePoints,
}

impl AldreteScore {
    /// Total 0–10.
    pub fn total(&self) -> u8 {
        self.points().iter().map(|(_, p)| p.0).sum()
    }

    pub fn points(&self) -> [(AldreteCriterion, AldretePoints); 5] {
        [
            (AldreteCriterion::Activity, self.activity),
            (AldreteCriterion::Respiration, self.respiration),
            (AldreteCriterion::Circulation, self.circulation),
            (AldreteCriterion::Consciousness, self.consciousness),
            (AldreteCriterion::OxygenSaturation, self.oxygen_saturation),
        ]
    }

    /// Applies a discharge rule. The result names the rule, so the UI and the record
    /// can show which variant decided.
    pub fn discharge(&self, rule: AldreteDischargeRule) -> AldreteDischarge {
        let total = self.total();
        let ready = match rule {
            AldreteDischargeRule::TotalAtLeast9 => total >= 9,
            AldreteDischargeRule::TotalAtLeast8FullRespirationAndSpo2 => {
                total >= 8 && self.respiration.0 == 2 && self.oxygen_saturation.0 == 2
            }
            AldreteDischargeRule::TotalAtLeast8NoZero => total >= 8 && self.points().iter().all(|(_, p)| p.0 > 0),
        };
        AldreteDischarge { ready, total, rule }
    }
}

/// Which Aldrete discharge criterion the clinic uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AldreteDischargeRule {
    /// DC-003 default \[V\]: total ≥ 9 (Aldrete 1995).
    #[default]
    TotalAtLeast9,
    /// DC-003 variant: total ≥ 8 with 2 points each in respiration and SpO₂.
    TotalAtLeast8FullRespirationAndSpo2,
    /// instruments.md §10 variant: total ≥ 8 with no criterion at 0.
    TotalAtLeast8NoZero,
}

impl AldreteDischargeRule {
    pub fn rule_id(self) -> &'static str {
        match self {
            AldreteDischargeRule::TotalAtLeast9 => "DC-003",
            AldreteDischargeRule::TotalAtLeast8FullRespirationAndSpo2 => "DC-003 (variant)",
            AldreteDischargeRule::TotalAtLeast8NoZero => "instruments.md §10 (variant)",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            AldreteDischargeRule::TotalAtLeast9 => "modified Aldrete total ≥ 9",
            AldreteDischargeRule::TotalAtLeast8FullRespirationAndSpo2 => {
                "modified Aldrete total ≥ 8 with 2 points in respiration and in SpO₂"
            }
            AldreteDischargeRule::TotalAtLeast8NoZero => "modified Aldrete total ≥ 8 with no criterion scored 0",
        }
    }
}

/// The Aldrete part of the discharge gate. It is one criterion among several (DC-001,
/// DC-002, DC-004: elapsed time, clinician sign-off, MOAA/S 5 …), never the whole gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AldreteDischarge {
    pub ready: bool,
    pub total: u8,
    pub rule: AldreteDischargeRule,
}

/// The Aldrete as a scored response (for the generic form pipeline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AldreteResult {
    pub completeness: Completeness,
    /// Present only when all five criteria are rated.
    pub score: Option<AldreteScore>,
}

pub(super) fn score(response: &Response) -> AldreteResult {
    assert_eq!(response.instrument(), Instrument::ModifiedAldrete);
    let p = |i: usize| response.answer(i).map(AldretePoints);
    let score = match (p(0), p(1), p(2), p(3), p(4)) {
        (Some(activity), Some(respiration), Some(circulation), Some(consciousness), Some(oxygen_saturation)) => {
            Some(AldreteScore { activity, respiration, circulation, consciousness, oxygen_saturation })
        }
        _ => None,
    };
    AldreteResult { completeness: response.completeness(), score }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::response::tests::resp;

    fn s(v: [u8; 5]) -> AldreteScore {
        let p = |x| AldretePoints::new(x).unwrap();
        AldreteScore {
            activity: p(v[0]),
            respiration: p(v[1]),
            circulation: p(v[2]),
            consciousness: p(v[3]),
            oxygen_saturation: p(v[4]),
        }
    }

    #[test]
    fn default_rule_is_total_at_least_9() {
        let rule = AldreteDischargeRule::default();
        assert_eq!(rule.rule_id(), "DC-003");
        assert!(!s([2, 2, 2, 1, 1]).discharge(rule).ready, "8 is not enough");
        let d = s([2, 2, 2, 2, 1]).discharge(rule);
        assert!(d.ready);
        assert_eq!(d.total, 9);
        assert!(s([2; 5]).discharge(rule).ready);
    }

    #[test]
    fn variant_8_with_full_respiration_and_spo2() {
        let rule = AldreteDischargeRule::TotalAtLeast8FullRespirationAndSpo2;
        assert!(s([2, 2, 1, 1, 2]).discharge(rule).ready);
        assert!(!s([2, 1, 2, 2, 1]).discharge(rule).ready, "respiration and SpO₂ must be 2");
        assert!(!s([2, 2, 2, 1, 1]).discharge(rule).ready, "SpO₂ must be 2");
        assert!(!s([1, 2, 1, 1, 2]).discharge(rule).ready, "7 is not enough");
    }

    #[test]
    fn variant_8_with_no_zero() {
        let rule = AldreteDischargeRule::TotalAtLeast8NoZero;
        assert!(s([2, 2, 2, 1, 1]).discharge(rule).ready);
        assert!(!s([0, 2, 2, 2, 2]).discharge(rule).ready, "a zero fails even at 8");
        assert!(!s([1, 2, 2, 1, 1]).discharge(rule).ready);
    }

    #[test]
    fn points_parse() {
        assert_eq!(AldretePoints::parse(" 2").unwrap().value(), 2);
        for bad in ["3", "-1", "1.5", "", "two"] {
            assert!(AldretePoints::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn response_pipeline_requires_all_criteria() {
        let r = resp(Instrument::ModifiedAldrete, &[Some(2), Some(2), Some(2), Some(2), Some(1)]);
        let out = score(&r);
        assert_eq!(out.score.map(|a| a.total()), Some(9));
        assert_eq!(r.total(), Some(9));
        let r = resp(Instrument::ModifiedAldrete, &[Some(2), None, Some(2), Some(2), Some(2)]);
        let out = score(&r);
        assert_eq!(out.score, None);
        assert_eq!(out.completeness, Completeness::Incomplete { missing: vec!["respiration"] });
    }
}
