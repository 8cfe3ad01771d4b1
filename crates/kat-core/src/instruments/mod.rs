//! Rating scales: their structure as data, and the pure functions that score them.
//!
//! Everything here follows `shared/spec/instruments.md` (structure, scoring, LOINC codes,
//! licensing) and the outcome and safety rules of `shared/spec/clinical.md` (§7, §4).
//! The module is pure: answers come in as text or numbers, scores and flags come out;
//! there is no clock, no IO and no storage.
//!
//! The flow for a questionnaire is *parse, then score*:
//!
//! 1. [`Response::parse`] turns raw form answers into a [`Response`]. Out-of-range,
//!    non-integer and skip-logic-violating answers are rejected here, so a `Response`
//!    that exists is valid. Missing answers are allowed: they make the response
//!    incomplete, they are never imputed.
//! 2. [`Response::score`] gives a [`Score`] for the instrument: totals and bands only
//!    for complete responses, safety flags ([`Flag`]) whenever the answers that decide
//!    them are present (and a `safety_item_missing` flag when they are not).
//! 3. [`outcome`] compares totals over time (change, response, remission, relapse),
//!    and [`schedule`] says when the measurements are due (OUT-002).
//!
//! Licensing (instruments.md §1): item wording ships only for PHQ-9, GAD-7 and PCL-5.
//! C-SSRS and CADSS ship construct labels only; licensed wording is loaded at deployment
//! through [`ItemTextOverrides`]. MOAA/S and modified Aldrete anchors are paraphrased.

pub mod aldrete;
pub mod cadss;
pub mod catalog;
pub mod cssrs;
pub mod moaas;
pub mod outcome;
pub mod pcl5;
pub mod phq;
pub mod response;
pub mod schedule;

pub use aldrete::{
    AldreteCriterion, AldreteDischarge, AldreteDischargeRule, AldretePoints, AldreteResult, AldreteScore,
};
pub use cadss::{CadssScore, cadss_dissociation_present};
pub use catalog::{
    AnswerKind, AnswerOption, Instrument, InstrumentDef, ItemDef, ItemText, ItemTextOverrides, TextLicence,
};
pub use cssrs::{CssrsRiskLevel, CssrsScore};
pub use moaas::{MoaasAssessment, MoaasPolicy, MoaasScore};
pub use outcome::{OutcomePolicy, OutcomeScale};
pub use pcl5::{Pcl5Cluster, Pcl5Cutoff, Pcl5CutoffStatus, Pcl5Score};
pub use phq::{Gad7Score, Gad7Severity, Phq9Score, Phq9Severity, Phq9Syndrome};
pub use response::{
    Completeness, Flag, Response, ResponseError, ResponseErrorReason, ResponseErrors, Score, ScoringPolicy,
};

#[cfg(test)]
mod proptests {
    //! Properties over every summed instrument: totals stay in range, are monotone in
    //! each answer, and an incomplete response never has a total.

    use super::*;
    use proptest::prelude::*;

    const SUMMED: [Instrument; 7] = [
        Instrument::Phq9,
        Instrument::Gad7,
        Instrument::Pcl5,
        Instrument::Cadss23,
        Instrument::Cadss6,
        Instrument::Moaas,
        Instrument::ModifiedAldrete,
    ];

    /// An instrument and a complete set of in-range answers for it (unscored optional
    /// items answered too, so they are shown not to count).
    fn complete() -> impl Strategy<Value = (Instrument, Vec<u8>)> {
        proptest::sample::select(SUMMED.to_vec()).prop_flat_map(|instrument| {
            let ranges: Vec<_> = instrument.def().items.iter().map(|i| i.answer.min()..=i.answer.max()).collect();
            (Just(instrument), ranges)
        })
    }

    fn values(v: &[u8]) -> Vec<Option<u8>> {
        v.iter().copied().map(Some).collect()
    }

    proptest! {
        #[test]
        fn total_is_the_sum_of_scored_items_and_within_range((instrument, v) in complete()) {
            let r = Response::from_values(instrument, &values(&v)).unwrap();
            let def = instrument.def();
            let expected: u32 = def.scored_items().map(|(i, _)| u32::from(v[i])).sum();
            let total = r.total().expect("complete response has a total");
            prop_assert_eq!(u32::from(total), expected);
            let (lo, hi) = def.total_range.unwrap();
            prop_assert!(total >= lo && total <= hi);
            let score = r.score(&ScoringPolicy::default());
            prop_assert_eq!(score.total(), Some(total));
            prop_assert!(score.completeness().is_complete());
        }

        #[test]
        fn total_and_band_are_monotone_in_each_answer((instrument, v) in complete(), pick in any::<proptest::sample::Index>()) {
            let def = instrument.def();
            let i = pick.index(v.len());
            prop_assume!(v[i] < def.items[i].answer.max());
            let mut w = v.clone();
            w[i] += 1;
            let policy = ScoringPolicy::default();
            let a = Response::from_values(instrument, &values(&v)).unwrap().score(&policy);
            let b = Response::from_values(instrument, &values(&w)).unwrap().score(&policy);
            prop_assert!(b.total() >= a.total());
            match (&a, &b) {
                (Score::Phq9(a), Score::Phq9(b)) => prop_assert!(b.severity >= a.severity),
                (Score::Gad7(a), Score::Gad7(b)) => prop_assert!(b.severity >= a.severity),
                (Score::Pcl5(a), Score::Pcl5(b)) => {
                    // Endorsing more can only help the cluster rule and the cut-off.
                    prop_assert!(b.provisional_diagnosis >= a.provisional_diagnosis);
                    prop_assert!(
                        !(a.cutoff_status == Some(Pcl5CutoffStatus::ProbablePtsd)
                            && b.cutoff_status == Some(Pcl5CutoffStatus::BelowCutoff))
                    );
                }
                _ => {}
            }
        }

        #[test]
        fn incomplete_never_has_a_total_or_band((instrument, v) in complete(), pick in any::<proptest::sample::Index>()) {
            let def = instrument.def();
            let required: Vec<usize> = (0..def.items.len()).filter(|&i| def.items[i].required).collect();
            let gap = required[pick.index(required.len())];
            let mut w = values(&v);
            w[gap] = None;
            let r = Response::from_values(instrument, &w).unwrap();
            prop_assert_eq!(r.total(), None);
            let score = r.score(&ScoringPolicy::default());
            prop_assert_eq!(score.total(), None);
            prop_assert_eq!(score.band(), None);
            let incomplete = !score.completeness().is_complete();
            prop_assert!(incomplete);
            if instrument == Instrument::Phq9 && gap == 8 {
                prop_assert!(score.flags().contains(&Flag::SafetyItemMissing));
                prop_assert!(!score.flags().contains(&Flag::SuicidalIdeation));
            }
        }

        #[test]
        fn parse_accepts_exactly_the_in_range_integers(value in 0u32..1000, item in 0usize..9) {
            let mut raw: Vec<String> = vec!["0".to_string(); 9];
            raw[item] = value.to_string();
            let refs: Vec<Option<&str>> = raw.iter().map(|s| Some(s.as_str())).collect();
            let parsed = Response::parse(Instrument::Phq9, &refs);
            if value <= 3 {
                prop_assert_eq!(parsed.unwrap().answer(item), Some(value as u8));
            } else {
                let errs = parsed.unwrap_err();
                prop_assert_eq!(errs.first().item, Some(Instrument::Phq9.def().items[item].label));
            }
        }

        #[test]
        fn phq9_item9_flag_matches_the_answer(v in proptest::collection::vec(0u8..=3, 9)) {
            let s = Response::from_values(Instrument::Phq9, &values(&v)).unwrap().score(&ScoringPolicy::default());
            prop_assert_eq!(s.flags().contains(&Flag::SuicidalIdeation), v[8] >= 1);
        }

        #[test]
        fn cssrs_any_q4_or_q5_yes_is_high(q1 in any::<bool>(), q3 in any::<bool>(), q4 in any::<bool>(), q5 in any::<bool>(), q6 in any::<bool>(), q6b in any::<bool>()) {
            let yn = |b: bool| Some(u8::from(b));
            let v = [yn(q1), Some(1), yn(q3), yn(q4), yn(q5), yn(q6), if q6 { yn(q6b) } else { None }];
            let s = cssrs::score(&Response::from_values(Instrument::CssrsScreener, &v).unwrap());
            let high = q4 || q5 || (q6 && q6b);
            prop_assert_eq!(s.risk_level == Some(CssrsRiskLevel::High), high);
            prop_assert_eq!(s.flags.contains(&Flag::CssrsHighRisk), high);
            prop_assert!(s.risk_level >= Some(CssrsRiskLevel::Low), "Q2 yes is at least low");
        }

        #[test]
        fn response_is_monotone_and_matches_the_arithmetic(baseline in 0u8..=27, current in 0u8..=27) {
            let p = OutcomePolicy::default();
            let met = outcome::response(OutcomeScale::Phq9, baseline, current, &p).unwrap().met;
            prop_assert_eq!(met, baseline > 0 && 2 * u32::from(current) <= u32::from(baseline));
            if current > 0 {
                let better = outcome::response(OutcomeScale::Phq9, baseline, current - 1, &p).unwrap().met;
                prop_assert!(better || !met);
            }
        }
    }
}
