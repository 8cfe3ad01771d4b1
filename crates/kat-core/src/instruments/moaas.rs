//! MOAA/S sedation assessment (instruments.md §7; clinical.md MON-SPV-005, ALM-005,
//! DC-004). The 0–5 version is pinned; some variants add a sixth level.

use super::catalog::Instrument;
use super::response::{Completeness, Response};
use crate::monitoring::vitals::Moaas;
use serde::{Deserialize, Serialize};

/// Clinic thresholds for MOAA/S actions tagged \[U\] in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoaasPolicy {
    /// ALM-005 \[U\] / instruments.md §7 (local policy ⚠️): at or below this,
    /// continuous 1:1 observation and no further dosing. Default 2.
    pub urgent_at_or_below: u8,
}

impl Default for MoaasPolicy {
    fn default() -> Self {
        Self { urgent_at_or_below: 2 }
    }
}

/// What one MOAA/S rating means for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MoaasAssessment {
    pub value: Moaas,
    /// 5 = alert (DC-004 discharge check).
    pub alert: bool,
    /// Spravato label / instruments.md §7: any fall from the pre-dose rating is
    /// sedation. Without a pre-dose rating the comparison is against 5 (alert), so a
    /// missing baseline can only over-call sedation, never miss it.
    pub sedation_present: bool,
    /// Whether `sedation_present` was judged against an assumed baseline of 5.
    pub baseline_assumed: bool,
    /// MON-SPV-005 \[V\]: ≤ 3 → continuous observation.
    pub continuous_observation: bool,
    /// ALM-005 \[U\]: ≤ policy threshold (default 2) → 1:1 observation, stop dosing.
    pub urgent_escalation: bool,
    /// MON-SPV-005 / ALM-005: 0 = loss of consciousness, a serious event / emergency.
    pub loss_of_consciousness: bool,
}

impl MoaasAssessment {
    /// Assesses a rating against the pre-dose rating and the clinic policy.
    pub fn assess(current: Moaas, pre_dose: Option<Moaas>, policy: &MoaasPolicy) -> Self {
        let baseline = pre_dose.unwrap_or(Moaas::ALERT);
        Self {
            value: current,
            alert: current.is_alert(),
            sedation_present: current < baseline,
            baseline_assumed: pre_dose.is_none(),
            continuous_observation: current.score() <= Moaas::CONTINUOUS_OBSERVATION_AT_OR_BELOW,
            urgent_escalation: current.score() <= policy.urgent_at_or_below,
            loss_of_consciousness: current.score() == 0,
        }
    }
}

/// The MOAA/S as a scored one-item response (for the generic form pipeline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoaasScore {
    pub completeness: Completeness,
    pub value: Option<Moaas>,
}

pub(super) fn score(response: &Response) -> MoaasScore {
    assert_eq!(response.instrument(), Instrument::Moaas);
    MoaasScore {
        completeness: response.completeness(),
        // The response only holds answers inside the item's 0–5 range (catalogue).
        value: response.answer(0).map(|a| Moaas::new(u16::from(a)).expect("a MOAA/S answer is 0-5")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: u16) -> Moaas {
        Moaas::new(v).unwrap()
    }

    #[test]
    fn parse_rejects_out_of_range_and_non_integers() {
        assert_eq!(Moaas::parse(" 5 ").unwrap().score(), 5);
        assert_eq!(Moaas::parse("0").unwrap().score(), 0);
        for bad in ["6", "-1", "4.5", "", "five", "256", "1000"] {
            assert!(Moaas::parse(bad).is_err(), "{bad}");
        }
        assert!(Moaas::new(6).is_err());
    }

    /// The assessment uses the one MOAA/S type (`monitoring::vitals`); its stored form
    /// is the bare number, as the instrument's own type wrote it.
    #[test]
    fn the_rating_is_stored_as_a_bare_number() {
        assert_eq!(serde_json::to_string(&m(3)).unwrap(), "3");
        assert_eq!(serde_json::from_str::<Moaas>("5").unwrap(), Moaas::ALERT);
        assert!(serde_json::from_str::<Moaas>("6").is_err());
        let a = MoaasAssessment::assess(m(3), None, &MoaasPolicy::default());
        assert!(serde_json::to_string(&a).unwrap().starts_with(r#"{"value":3,"alert":false,"#));
    }

    #[test]
    fn thresholds_on_both_sides() {
        let p = MoaasPolicy::default();
        let a = |v| MoaasAssessment::assess(m(v), Some(m(5)), &p);
        assert!(a(5).alert && !a(5).sedation_present && !a(5).continuous_observation);
        assert!(!a(4).alert && a(4).sedation_present && !a(4).continuous_observation);
        assert!(a(3).continuous_observation && !a(3).urgent_escalation);
        assert!(a(2).urgent_escalation && !a(2).loss_of_consciousness);
        assert!(a(1).urgent_escalation && !a(1).loss_of_consciousness);
        assert!(a(0).loss_of_consciousness);
    }

    #[test]
    fn sedation_is_any_fall_from_pre_dose() {
        let p = MoaasPolicy::default();
        // A patient whose pre-dose rating was 4 is not sedated at 4 …
        let s = MoaasAssessment::assess(m(4), Some(m(4)), &p);
        assert!(!s.sedation_present && !s.baseline_assumed);
        // … but is at 3.
        assert!(MoaasAssessment::assess(m(3), Some(m(4)), &p).sedation_present);
        // Without a baseline, 4 counts as sedation (compared with 5).
        let s = MoaasAssessment::assess(m(4), None, &p);
        assert!(s.sedation_present && s.baseline_assumed);
    }

    #[test]
    fn urgent_threshold_is_configurable() {
        let p = MoaasPolicy { urgent_at_or_below: 3 };
        assert!(MoaasAssessment::assess(m(3), Some(m(5)), &p).urgent_escalation);
        assert!(!MoaasAssessment::assess(m(3), Some(m(5)), &MoaasPolicy::default()).urgent_escalation);
    }
}
