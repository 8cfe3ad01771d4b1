//! The dose of one session: the plan's dose, unless the prescriber orders another for
//! this session after judging the previous dose (titration: DOSE-IV-010, DOSE-IN-002,
//! DOSE-IN-006, DOSE-IN-008, DOSE-PO-002, DOSE-SC-001); and every administration
//! checked against it, so that no more is given than was ordered (DOSE-GEN-002,
//! DOSE-IN-001).
//!
//! The order itself goes through [`super::limits::check_dose`] with the course so far
//! ([`esketamine_course`]), which is where "84 mg only after 56 mg" and "56 mg on day 1"
//! are judged (DOSE-IN-002).

use super::limits::{DoseCheck, EsketamineCourse, EsketamineIndication};
use super::units::{Mg, exceeds};
use jiff::civil::Date;

/// What an earlier session of the same course gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastDose {
    pub on: Date,
    pub given: Mg,
}

/// The esketamine course so far, from the earlier sessions that gave a dose (oldest
/// first): their doses, and whole days since the first of them (0 when this is the
/// first dose).
pub fn esketamine_course(
    indication: EsketamineIndication,
    past: &[PastDose],
    today: Date,
    age_years: Option<u16>,
) -> EsketamineCourse {
    let mut past: Vec<PastDose> = past.iter().copied().filter(|p| p.given.value() > 0.0).collect();
    past.sort_by_key(|p| p.on);
    let days_since_first_dose = past
        .first()
        .and_then(|first| today.since(first.on).ok())
        .map(|span| u32::try_from(span.get_days()).unwrap_or(0))
        .unwrap_or(0);
    EsketamineCourse {
        indication,
        previous_doses: past.iter().map(|p| p.given).collect(),
        days_since_first_dose,
        age_years,
    }
}

/// One esketamine device (DOSE-IN-001).
pub const ESKETAMINE_DEVICE: Mg = Mg::from_whole(28);

/// Checks one administration of `next` against the session's `ordered` dose, with
/// `given` already administered in this session. `device`: an esketamine device, which
/// is always 28 mg (DOSE-IN-001). Anything beyond the order is refused: the prescriber
/// orders the dose before it is given.
pub fn check_administration(ordered: Mg, given: Mg, next: Mg, device: bool) -> DoseCheck {
    if device && next != ESKETAMINE_DEVICE {
        return DoseCheck::hard("DOSE-IN-001", format!("One esketamine device is 28 mg, not {} mg.", next.value()));
    }
    let total = given.value() + next.value();
    if exceeds(total, ordered.value()) {
        return DoseCheck::hard(
            "DOSE-GEN-002",
            format!(
                "{} mg would bring this session to {} mg, above the {} mg ordered ({} mg already given). A prescriber orders the dose before it is given.",
                next.value(),
                total,
                ordered.value(),
                given.value()
            ),
        );
    }
    DoseCheck::Ok
}

/// The administration steps a route allows (DOSE-GEN-002): esketamine is given device by
/// device (DOSE-IN-001), IV racemic ketamine as a pumped infusion (DOSE-IV-001,
/// DOSE-IV-004), every other route as a dose.
pub fn allowed_steps(route: super::route::Route) -> &'static [&'static str] {
    use super::route::Route;
    match route {
        Route::IntranasalEsketamine => &["device"],
        Route::IvInfusion => {
            &["infusion_start", "infusion_pause", "infusion_resume", "infusion_rate_change", "infusion_stop"]
        }
        _ => &["dose"],
    }
}

/// The pump rate of the ordered infusion, mL/h: the ordered dose drawn from stock at
/// `stock_mg_per_ml`, diluted with an equal volume (DOSE-IV-004), over `minutes`.
pub fn ordered_rate_ml_per_h(ordered: Mg, stock_mg_per_ml: f64, minutes: u32) -> Option<f64> {
    if stock_mg_per_ml <= 0.0 || minutes == 0 {
        return None;
    }
    Some(ordered.value() / stock_mg_per_ml * 2.0 / (f64::from(minutes) / 60.0))
}

/// A pump rate faster than the ordered infusion is refused: rapid IV administration may
/// cause respiratory depression or apnoea and a stronger pressor response (DOSE-IV-003).
/// Slower is the nurse's call (a pause, a reduced rate for a raised BP).
pub fn check_rate(rate_ml_per_h: f64, ordered_rate_ml_per_h: f64) -> DoseCheck {
    // Pumps and screens show rates to 0.01 mL/h: the ordered rate rounded up to that
    // step is the ordered rate as a nurse reads it.
    let shown = (ordered_rate_ml_per_h * 100.0 - 1e-9).ceil() / 100.0;
    if exceeds(rate_ml_per_h, shown) {
        return DoseCheck::hard(
            "DOSE-IV-003",
            format!(
                "{rate_ml_per_h} mL/h is faster than the ordered infusion ({:.2} mL/h); rapid IV ketamine may cause respiratory depression or apnoea.",
                ordered_rate_ml_per_h
            ),
        );
    }
    DoseCheck::Ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dosing::limits::{CheckLevel, DoseRequest, DosingPolicy, Setting, check_dose};
    use crate::dosing::route::Route;
    use jiff::civil::date;

    fn mg(v: u32) -> Mg {
        Mg::from_whole(v)
    }

    #[test]
    fn each_route_has_its_own_steps() {
        assert_eq!(allowed_steps(Route::IntranasalEsketamine), &["device"]);
        assert!(
            allowed_steps(Route::IvInfusion).contains(&"infusion_resume")
                && !allowed_steps(Route::IvInfusion).contains(&"dose")
        );
        for r in [Route::Intramuscular, Route::Subcutaneous, Route::SublingualOral, Route::IntranasalRacemic] {
            assert_eq!(allowed_steps(r), &["dose"], "{r:?}");
        }
    }

    #[test]
    fn the_pump_may_run_slower_never_faster_than_ordered() {
        // 40 mg from 50 mg/mL = 0.8 mL, diluted 1:1 to 1.6 mL, over 40 min = 2.4 mL/h.
        let r = ordered_rate_ml_per_h(mg(40), 50.0, 40).unwrap();
        assert!((r - 2.4).abs() < 1e-9);
        assert_eq!(check_rate(2.4, r), DoseCheck::Ok);
        assert_eq!(check_rate(1.0, r), DoseCheck::Ok);
        assert!(matches!(check_rate(2.5, r), DoseCheck::HardLimit { rule, .. } if rule.as_str() == "DOSE-IV-003"));
        // 36 mg over 40 min from 50 mg/mL: 2.16 mL/h; a rate shown as 2.17 for 2.1612 is allowed, 2.18 not.
        assert_eq!(check_rate(2.17, 2.1612), DoseCheck::Ok);
        assert!(matches!(check_rate(2.18, 2.1612), DoseCheck::HardLimit { .. }));
        assert_eq!(check_rate(2.16, 2.16), DoseCheck::Ok);
        assert_eq!(ordered_rate_ml_per_h(mg(40), 0.0, 40), None);
        assert_eq!(ordered_rate_ml_per_h(mg(40), 50.0, 0), None);
    }

    #[test]
    fn the_order_caps_what_is_given_at_its_boundary() {
        assert_eq!(check_administration(mg(40), mg(0), mg(40), false), DoseCheck::Ok);
        assert_eq!(check_administration(mg(40), mg(20), mg(20), false), DoseCheck::Ok);
        let over = check_administration(mg(40), mg(20), mg(21), false);
        assert!(
            matches!(&over, DoseCheck::HardLimit { rule, message } if rule.as_str() == "DOSE-GEN-002" && message.contains("41 mg")),
            "{over:?}"
        );
        // Rounding noise is not an overdose.
        assert_eq!(
            check_administration(Mg::new(36.0).unwrap(), Mg::new(0.1 + 0.2).unwrap(), Mg::new(35.7).unwrap(), false),
            DoseCheck::Ok
        );
    }

    #[test]
    fn esketamine_devices_are_28_mg_and_stop_at_the_order() {
        assert_eq!(check_administration(mg(56), mg(28), mg(28), true), DoseCheck::Ok);
        assert!(
            matches!(check_administration(mg(56), mg(56), mg(28), true), DoseCheck::HardLimit { .. }),
            "a third device on a 56 mg order"
        );
        assert!(
            matches!(check_administration(mg(56), mg(0), mg(56), true), DoseCheck::HardLimit { rule, .. } if rule.as_str() == "DOSE-IN-001")
        );
    }

    #[test]
    fn the_course_counts_days_from_the_first_dose_and_skips_sessions_without_one() {
        let past = [
            PastDose { on: date(2026, 3, 13), given: mg(56) },
            PastDose { on: date(2026, 3, 10), given: mg(56) },
            PastDose { on: date(2026, 3, 11), given: Mg::new(0.0).unwrap() },
        ];
        let c = esketamine_course(EsketamineIndication::Trd, &past, date(2026, 3, 17), Some(40));
        assert_eq!((c.previous_doses.clone(), c.days_since_first_dose), (vec![mg(56), mg(56)], 7));
        let first = esketamine_course(EsketamineIndication::Trd, &[], date(2026, 3, 17), None);
        assert_eq!((first.previous_doses.len(), first.days_since_first_dose), (0, 0));
    }

    proptest::proptest! {
        /// Whatever sequence of doses is attempted, what is accepted never adds up to more
        /// than the order, and a dose that fits is never refused.
        #[test]
        fn accepted_doses_never_exceed_the_order(ordered in 1u32..500, attempts in proptest::collection::vec(1u32..200, 0..20)) {
            let ordered = mg(ordered);
            let mut given = 0.0;
            for a in attempts {
                let fits = given + f64::from(a) <= ordered.value();
                match check_administration(ordered, Mg::new(given).unwrap(), mg(a), false) {
                    DoseCheck::Ok => {
                        proptest::prop_assert!(fits);
                        given += f64::from(a);
                    }
                    _ => proptest::prop_assert!(!fits),
                }
                proptest::prop_assert!(given <= ordered.value());
            }
        }
    }

    #[test]
    fn eighty_four_mg_is_judged_by_the_course_so_far() {
        let request = |past: &[PastDose]| DoseRequest {
            route: Route::IntranasalEsketamine,
            dose: mg(84),
            weight: None,
            setting: Setting::InClinic,
            infusion: None,
            preparation: None,
            esketamine: Some(esketamine_course(EsketamineIndication::Trd, past, date(2026, 3, 13), None)),
        };
        // Day 1 of TRD: 84 mg is beyond the label (DOSE-IN-002).
        assert_eq!(check_dose(&request(&[]), &DosingPolicy::default()).level(), CheckLevel::HardLimit);
        // After 56 mg: allowed.
        let after = request(&[PastDose { on: date(2026, 3, 10), given: mg(56) }]);
        assert_eq!(check_dose(&after, &DosingPolicy::default()).level(), CheckLevel::Ok);
    }
}
