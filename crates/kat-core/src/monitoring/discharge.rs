//! Minimum observation and discharge criteria (clinical.md §4.5 DC-001..004, MON-SPV-001,
//! MON-SPV-002).
//!
//! Every criterion must be positively met; an unanswered item is unmet, never assumed.
//! The decision lists each unmet criterion with its rule ID so that the nurse sees
//! exactly what is outstanding.

use super::schedule::SessionTimes;
use super::vitals::{Baseline, BloodPressure, Moaas, Reading};
use crate::dosing::route::Route;
use crate::dosing::rule::RuleId;
use crate::dosing::units::{Minutes, add_minutes};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The esketamine minimum observation, from the label: at least 2 hours (DC-001,
/// MON-SPV-001 \[V\]). A clinic may observe longer, never shorter.
pub const ESKETAMINE_MIN_OBSERVATION: Minutes = Minutes::new(120);

/// Clinic discharge policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DischargePolicy {
    /// Esketamine observation after the last device. Default 120 min (DC-001 \[V\]); a
    /// lower value is ignored in favour of the label minimum.
    pub esketamine_min: Minutes,
    /// IV: minimum after the end of the infusion. Default 60 min (DC-002 \[P\]/\[U\]).
    pub iv_min: Minutes,
    /// IM: minimum after the dose. Default 60 min (DC-002).
    pub im_min: Minutes,
    /// SC: minimum after the dose. Default 60 min (DC-002 applies to all racemic routes).
    pub sc_min: Minutes,
    /// Sublingual/oral: minimum after the dose. Default 60 min (DC-002).
    pub sublingual_oral_min: Minutes,
    /// Intranasal racemic: minimum after the dose. Default 60 min (DC-002).
    pub intranasal_racemic_min: Minutes,
    /// Lowest modified Aldrete total for discharge. Default 9 (DC-003 \[V\]).
    pub aldrete_min: u8,
    /// Systolic BP must be within this many mmHg of baseline. Default 20, the Aldrete
    /// circulation criterion (DC-003).
    pub bp_tolerance_mmhg: u16,
    /// Also require diastolic within `bp_tolerance_mmhg`. Default false: the Aldrete
    /// criterion is written for one pressure.
    pub bp_tolerance_includes_diastolic: bool,
    /// HR must be within this many /min of baseline. Default none: the spec gives no
    /// HR criterion for "near baseline" (DC-004).
    pub hr_tolerance_per_min: Option<u16>,
    /// SpO2 on room air must be above this (%), unless back to baseline. Default 92 (DC-003).
    pub spo2_room_air_above: u8,
}

impl Default for DischargePolicy {
    fn default() -> Self {
        Self {
            esketamine_min: ESKETAMINE_MIN_OBSERVATION,
            iv_min: Minutes::new(60),
            im_min: Minutes::new(60),
            sc_min: Minutes::new(60),
            sublingual_oral_min: Minutes::new(60),
            intranasal_racemic_min: Minutes::new(60),
            aldrete_min: 9,
            bp_tolerance_mmhg: 20,
            bp_tolerance_includes_diastolic: false,
            hr_tolerance_per_min: None,
            spo2_room_air_above: 92,
        }
    }
}

impl DischargePolicy {
    /// The minimum observation after the end of dosing for `route` (DC-001, DC-002).
    pub fn min_observation(&self, route: Route) -> Minutes {
        match route {
            Route::IntranasalEsketamine => self.esketamine_min.max(ESKETAMINE_MIN_OBSERVATION),
            Route::IvInfusion => self.iv_min,
            Route::Intramuscular => self.im_min,
            Route::Subcutaneous => self.sc_min,
            Route::SublingualOral => self.sublingual_oral_min,
            Route::IntranasalRacemic => self.intranasal_racemic_min,
        }
    }
}

/// The facts the discharge decision needs. `None` means not yet assessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DischargeInput {
    pub route: Route,
    pub times: SessionTimes,
    /// Modified Aldrete total, 0–10 (scored elsewhere).
    pub aldrete_total: Option<u8>,
    /// Pre-sedation Aldrete total; returning to it also meets DC-003.
    pub pre_sedation_aldrete: Option<u8>,
    pub moaas: Option<Moaas>,
    /// The most recent vital signs.
    pub latest: Option<Reading>,
    /// The BP before the latest, to see whether BP is falling (MON-SPV-002).
    pub previous_bp: Option<BloodPressure>,
    pub baseline: Baseline,
    /// Dissociation resolved (CADSS back near baseline, DC-004; MON-SPV-001).
    pub dissociation_resolved: Option<bool>,
    pub able_to_walk_safely: Option<bool>,
    pub active_nausea: Option<bool>,
    pub suicidal_crisis: Option<bool>,
    /// A responsible adult is present, or pickup is verified (DC-004, PRE-009).
    pub escort_present: Option<bool>,
    /// Written instructions given: no driving until the next day after restful sleep,
    /// no alcohol, who to call (DC-004, DC-005).
    pub written_instructions_given: Option<bool>,
    /// A clinician judged the patient clinically stable (MON-SPV-001).
    pub clinician_judges_stable: Option<bool>,
}

/// A discharge criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    MinimumObservation,
    AldreteScore,
    Alertness,
    VitalsNearBaseline,
    Oxygenation,
    Dissociation,
    Ambulation,
    Nausea,
    SuicidalCrisis,
    Escort,
    WrittenInstructions,
    ClinicalStability,
}

/// One criterion not (yet) met, with its rule and what is missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmetCriterion {
    pub criterion: Criterion,
    pub rule: RuleId,
    /// True when the item has simply not been assessed yet.
    pub unanswered: bool,
    pub message: String,
}

/// The discharge decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum DischargeDecision {
    Ready { earliest: Timestamp },
    NotReady { earliest: Timestamp, unmet: Vec<UnmetCriterion> },
}

impl DischargeDecision {
    pub fn is_ready(&self) -> bool {
        matches!(self, DischargeDecision::Ready { .. })
    }

    pub fn unmet(&self) -> &[UnmetCriterion] {
        match self {
            DischargeDecision::Ready { .. } => &[],
            DischargeDecision::NotReady { unmet, .. } => unmet,
        }
    }
}

struct Collector(Vec<UnmetCriterion>);

impl Collector {
    fn unmet(&mut self, criterion: Criterion, rule: &'static str, message: impl Into<String>) {
        self.0.push(UnmetCriterion { criterion, rule: RuleId::spec(rule), unanswered: false, message: message.into() });
    }

    fn missing(&mut self, criterion: Criterion, rule: &'static str, what: &str) {
        self.0.push(UnmetCriterion {
            criterion,
            rule: RuleId::spec(rule),
            unanswered: true,
            message: format!("{what}: not yet confirmed."),
        });
    }

    /// A yes/no item that must be `want` to discharge.
    fn flag(
        &mut self,
        value: Option<bool>,
        want: bool,
        criterion: Criterion,
        rule: &'static str,
        what: &str,
        failed: &str,
    ) {
        match value {
            None => self.missing(criterion, rule, what),
            Some(v) if v != want => self.unmet(criterion, rule, failed),
            Some(_) => {}
        }
    }
}

/// The current value of each vital sign for discharge: from the readings taken since
/// the end of dosing (`since`), the latest blood pressure, heart rate, SpO2 (with the
/// oxygen it was read on), respiratory rate and MOAA/S, each from the latest reading
/// that has it, so that a MOAA/S-only entry does not hide the blood pressure taken just
/// before, and a pre-dose reading never counts as current. Also the blood pressure
/// before the latest one (to see whether it is falling, MON-SPV-002).
pub fn current_values(readings: &[Reading], since: Timestamp) -> (Option<Reading>, Option<BloodPressure>) {
    let mut after: Vec<&Reading> = readings.iter().filter(|r| r.at >= since).collect();
    after.sort_by_key(|r| r.at);
    let Some(last) = after.last() else {
        return (None, None);
    };
    let mut current = Reading::empty(last.at, last.source.clone());
    let mut bps = after.iter().rev().filter_map(|r| r.blood_pressure);
    current.blood_pressure = bps.next();
    let previous_bp = bps.next();
    current.heart_rate = after.iter().rev().find_map(|r| r.heart_rate);
    if let Some(r) = after.iter().rev().find(|r| r.spo2.is_some()) {
        current.spo2 = r.spo2;
        current.on_supplemental_o2 = r.on_supplemental_o2;
    }
    current.respiratory_rate = after.iter().rev().find_map(|r| r.respiratory_rate);
    current.moaas = after.iter().rev().find_map(|r| r.moaas);
    current.signs = last.signs;
    (Some(current), previous_bp)
}

/// Decides whether the patient may leave at `now` (§4.5).
pub fn discharge_decision(input: &DischargeInput, now: Timestamp, policy: &DischargePolicy) -> DischargeDecision {
    let min = policy.min_observation(input.route);
    let earliest = add_minutes(input.times.dose_end, min);
    let esk = input.route.is_esketamine();
    let obs_rule = if esk { "DC-001" } else { "DC-002" };
    let mut c = Collector(Vec::new());

    // DC-001 / DC-002: minimum observation after the end of dosing.
    if now < earliest {
        c.unmet(
            Criterion::MinimumObservation,
            obs_rule,
            format!("Minimum observation of {min} after the end of dosing is not complete until {earliest}."),
        );
    }

    // DC-003: modified Aldrete ≥ 9, or back to the pre-sedation score.
    match input.aldrete_total {
        None => c.missing(Criterion::AldreteScore, "DC-003", "The modified Aldrete score"),
        Some(total) if total > 10 => {
            c.unmet(Criterion::AldreteScore, "DC-003", format!("{total} is not a modified Aldrete total (0-10)."))
        }
        Some(total) => {
            let back_to_pre = input.pre_sedation_aldrete.is_some_and(|pre| pre <= 10 && total >= pre);
            if total < policy.aldrete_min && !back_to_pre {
                c.unmet(
                    Criterion::AldreteScore,
                    "DC-003",
                    format!(
                        "Modified Aldrete {total} is below {} and below the pre-sedation score.",
                        policy.aldrete_min
                    ),
                );
            }
        }
    }

    // DC-004: MOAA/S back to 5 (MON-SPV-001: until sedation resolves).
    match input.moaas {
        None => c.missing(Criterion::Alertness, "DC-004", "MOAA/S"),
        Some(m) if m.get() < 5 => {
            c.unmet(Criterion::Alertness, "DC-004", format!("MOAA/S is {}, not back to 5.", m.get()))
        }
        Some(_) => {}
    }

    // DC-004 / DC-003 / MON-SPV-002: vitals near baseline; for esketamine, BP falling is
    // also acceptable at the end of monitoring.
    let latest_bp = input.latest.as_ref().and_then(|r| r.blood_pressure);
    let vitals_rule = if esk { "MON-SPV-002" } else { "DC-004" };
    match (latest_bp, input.baseline.blood_pressure) {
        (None, _) => c.missing(Criterion::VitalsNearBaseline, vitals_rule, "A current blood pressure"),
        (_, None) => c.missing(Criterion::VitalsNearBaseline, vitals_rule, "The pre-dose baseline blood pressure"),
        (Some(bp), Some(base)) => {
            let tol = policy.bp_tolerance_mmhg;
            let near = bp.systolic().abs_diff(base.systolic()) <= tol
                && (!policy.bp_tolerance_includes_diastolic || bp.diastolic().abs_diff(base.diastolic()) <= tol);
            let falling = esk && input.previous_bp.is_some_and(|prev| bp.systolic() < prev.systolic());
            if !near && !falling {
                c.unmet(
                    Criterion::VitalsNearBaseline,
                    vitals_rule,
                    format!(
                        "BP {bp} is not within {tol} mmHg of the baseline {base}{}.",
                        if esk { " and is not falling" } else { "" }
                    ),
                );
            }
        }
    }
    if let Some(tol) = policy.hr_tolerance_per_min {
        let hr = input.latest.as_ref().and_then(|r| r.heart_rate);
        match (hr, input.baseline.heart_rate) {
            (Some(hr), Some(base)) if hr.get().abs_diff(base.get()) > tol => c.unmet(
                Criterion::VitalsNearBaseline,
                "DC-004",
                format!("HR {} is not within {tol}/min of the baseline {}.", hr.get(), base.get()),
            ),
            (Some(_), Some(_)) => {}
            _ => c.missing(Criterion::VitalsNearBaseline, "DC-004", "Current and baseline heart rate"),
        }
    }

    // DC-003: SpO2 > 92% on room air, or back to baseline.
    let latest_spo2 = input.latest.as_ref().and_then(|r| r.spo2.map(|s| (s, r.on_supplemental_o2)));
    match latest_spo2 {
        None => c.missing(Criterion::Oxygenation, "DC-003", "A current SpO2"),
        Some((s, o2)) => {
            let room_air_ok = o2 == Some(false) && s.get() > u16::from(policy.spo2_room_air_above);
            let at_baseline = o2 == Some(false) && input.baseline.spo2.is_some_and(|b| s >= b);
            if !room_air_ok && !at_baseline {
                c.unmet(
                    Criterion::Oxygenation,
                    "DC-003",
                    format!("SpO2 {s} is not above {}% on room air nor back to baseline.", policy.spo2_room_air_above),
                );
            }
        }
    }

    c.flag(
        input.dissociation_resolved,
        true,
        Criterion::Dissociation,
        "DC-004",
        "Dissociation (CADSS)",
        "Dissociation has not resolved.",
    );
    c.flag(
        input.able_to_walk_safely,
        true,
        Criterion::Ambulation,
        "DC-004",
        "Ability to walk safely",
        "The patient cannot yet walk safely.",
    );
    c.flag(
        input.active_nausea,
        false,
        Criterion::Nausea,
        "DC-004",
        "No active nausea",
        "The patient has active nausea.",
    );
    c.flag(
        input.suicidal_crisis,
        false,
        Criterion::SuicidalCrisis,
        "DC-004",
        "No suicidal crisis (SUI-003)",
        "The patient is in a suicidal crisis: follow SUI-003, do not discharge home.",
    );
    c.flag(
        input.escort_present,
        true,
        Criterion::Escort,
        "DC-004",
        "A responsible adult present or pickup verified",
        "No responsible adult is present and pickup is not verified.",
    );
    c.flag(input.written_instructions_given, true, Criterion::WrittenInstructions, "DC-004", "Written discharge instructions", "Written instructions (no driving until the next day after restful sleep, no alcohol, emergency contact) have not been given.");
    c.flag(
        input.clinician_judges_stable,
        true,
        Criterion::ClinicalStability,
        if esk { "MON-SPV-001" } else { "DC-004" },
        "Clinical stability",
        "A clinician has not judged the patient clinically stable.",
    );

    if c.0.is_empty() {
        DischargeDecision::Ready { earliest }
    } else {
        DischargeDecision::NotReady { earliest, unmet: c.0 }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn current_values_take_each_vital_from_its_latest_reading_after_dosing() {
        use super::super::vitals::{HeartRate, ReadingSource, SpO2};
        let t = |m: i64| -> Timestamp { Timestamp::from_second(1_800_000_000 + m * 60).unwrap() };
        let mut pre = Reading::empty(t(0), ReadingSource::Device { device_id: "m1".into() });
        pre.blood_pressure = Some(BloodPressure::mmhg(120, 80).unwrap());
        let mut full = Reading::empty(t(60), ReadingSource::Device { device_id: "m1".into() });
        full.blood_pressure = Some(BloodPressure::mmhg(150, 90).unwrap());
        full.heart_rate = Some(HeartRate::new(80).unwrap());
        full.spo2 = Some(SpO2::new(97).unwrap());
        full.on_supplemental_o2 = Some(false);
        let mut bp = Reading::empty(t(70), ReadingSource::Device { device_id: "m1".into() });
        bp.blood_pressure = Some(BloodPressure::mmhg(130, 84).unwrap());
        let mut sedation = Reading::empty(t(75), ReadingSource::Device { device_id: "m1".into() });
        sedation.moaas = Some(Moaas::new(5).unwrap());
        let (cur, prev) = current_values(&[pre.clone(), sedation.clone(), full.clone(), bp.clone()], t(40));
        let cur = cur.unwrap();
        assert_eq!(
            cur.blood_pressure,
            Some(BloodPressure::mmhg(130, 84).unwrap()),
            "not hidden by the MOAA/S-only entry"
        );
        assert_eq!(prev, Some(BloodPressure::mmhg(150, 90).unwrap()));
        assert_eq!(
            (cur.heart_rate, cur.spo2, cur.on_supplemental_o2),
            (Some(HeartRate::new(80).unwrap()), Some(SpO2::new(97).unwrap()), Some(false))
        );
        assert_eq!(cur.moaas, Some(Moaas::new(5).unwrap()));
        // Only the pre-dose reading: nothing is current.
        assert_eq!(current_values(&[pre], t(40)), (None, None));
    }

    use super::*;
    use crate::monitoring::vitals::{ReadingSource, SpO2};
    use proptest::prelude::*;

    fn t(min: i64) -> Timestamp {
        let t0: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        t0 + jiff::SignedDuration::from_mins(min)
    }

    fn ready_input(route: Route) -> DischargeInput {
        let mut latest = Reading::empty(t(100), ReadingSource::Device { device_id: "m".into() });
        latest.blood_pressure = Some(BloodPressure::mmhg(128, 82).unwrap());
        latest.spo2 = Some(SpO2::new(97).unwrap());
        latest.on_supplemental_o2 = Some(false);
        DischargeInput {
            route,
            times: SessionTimes { dose_start: t(0), dose_end: t(10) },
            aldrete_total: Some(10),
            pre_sedation_aldrete: Some(10),
            moaas: Some(Moaas::new(5).unwrap()),
            latest: Some(latest),
            previous_bp: None,
            baseline: Baseline {
                blood_pressure: Some(BloodPressure::mmhg(120, 80).unwrap()),
                spo2: Some(SpO2::new(98).unwrap()),
                ..Baseline::default()
            },
            dissociation_resolved: Some(true),
            able_to_walk_safely: Some(true),
            active_nausea: Some(false),
            suicidal_crisis: Some(false),
            escort_present: Some(true),
            written_instructions_given: Some(true),
            clinician_judges_stable: Some(true),
        }
    }

    fn unmet(d: &DischargeDecision) -> Vec<(Criterion, String)> {
        d.unmet().iter().map(|u| (u.criterion, u.rule.to_string())).collect()
    }

    #[test]
    fn esketamine_two_hour_boundary() {
        let p = DischargePolicy::default();
        let input = ready_input(Route::IntranasalEsketamine);
        // Last device at 10 min: earliest discharge at 130 min.
        let before = discharge_decision(&input, t(129), &p);
        assert_eq!(unmet(&before), vec![(Criterion::MinimumObservation, "DC-001".to_string())]);
        let at = discharge_decision(&input, t(130), &p);
        assert!(at.is_ready(), "{at:?}");
        // A policy cannot shorten the label's 2 hours.
        let short = DischargePolicy { esketamine_min: Minutes::new(30), ..p };
        assert!(!discharge_decision(&input, t(129), &short).is_ready());
    }

    #[test]
    fn racemic_sixty_minute_boundary() {
        let p = DischargePolicy::default();
        let input = ready_input(Route::IvInfusion);
        assert!(!discharge_decision(&input, t(69), &p).is_ready());
        assert!(discharge_decision(&input, t(70), &p).is_ready());
        assert_eq!(discharge_decision(&input, t(69), &p).unmet()[0].rule.as_str(), "DC-002");
    }

    #[test]
    fn each_criterion_is_reported_with_its_rule() {
        let p = DischargePolicy::default();
        let mut i = ready_input(Route::Intramuscular);
        i.aldrete_total = Some(8);
        i.pre_sedation_aldrete = Some(9);
        i.moaas = Some(Moaas::new(4).unwrap());
        i.active_nausea = Some(true);
        i.escort_present = None;
        let d = discharge_decision(&i, t(200), &p);
        let got = unmet(&d);
        assert!(got.contains(&(Criterion::AldreteScore, "DC-003".into())));
        assert!(got.contains(&(Criterion::Alertness, "DC-004".into())));
        assert!(got.contains(&(Criterion::Nausea, "DC-004".into())));
        assert!(got.contains(&(Criterion::Escort, "DC-004".into())));
        assert_eq!(got.len(), 4);
        assert!(d.unmet().iter().any(|u| u.criterion == Criterion::Escort && u.unanswered));
    }

    /// A criterion nobody has confirmed is listed as "not yet confirmed"; it never asserts
    /// the finding (an unticked "no suicidal crisis" box is not a crisis).
    #[test]
    fn unconfirmed_items_say_not_yet_confirmed_and_assert_nothing() {
        let p = DischargePolicy::default();
        let mut i = ready_input(Route::Intramuscular);
        i.suicidal_crisis = None;
        i.active_nausea = None;
        let d = discharge_decision(&i, t(200), &p);
        assert_eq!(d.unmet().len(), 2, "{d:?}");
        for u in d.unmet() {
            assert!(u.unanswered, "{u:?}");
            assert!(u.message.ends_with("not yet confirmed."), "{}", u.message);
            assert!(
                !u.message.contains("is in a suicidal crisis") && !u.message.contains("has active"),
                "{}",
                u.message
            );
        }
        // Answered the wrong way, the finding is stated.
        i.suicidal_crisis = Some(true);
        let d = discharge_decision(&i, t(200), &p);
        assert!(d.unmet().iter().any(|u| !u.unanswered && u.message.contains("suicidal crisis")), "{d:?}");
    }

    #[test]
    fn aldrete_boundary_and_return_to_pre_sedation() {
        let p = DischargePolicy::default();
        let mut i = ready_input(Route::IvInfusion);
        i.pre_sedation_aldrete = None;
        i.aldrete_total = Some(9);
        assert!(discharge_decision(&i, t(200), &p).is_ready());
        i.aldrete_total = Some(8);
        assert!(!discharge_decision(&i, t(200), &p).is_ready());
        i.pre_sedation_aldrete = Some(8);
        assert!(discharge_decision(&i, t(200), &p).is_ready());
    }

    #[test]
    fn vitals_near_baseline_and_spravato_falling_bp() {
        let p = DischargePolicy::default();
        let mut i = ready_input(Route::IvInfusion);
        i.latest.as_mut().unwrap().blood_pressure = Some(BloodPressure::mmhg(140, 90).unwrap());
        assert!(discharge_decision(&i, t(200), &p).is_ready(), "140 is within 20 of 120");
        i.latest.as_mut().unwrap().blood_pressure = Some(BloodPressure::mmhg(141, 90).unwrap());
        assert!(!discharge_decision(&i, t(200), &p).is_ready());
        i.previous_bp = Some(BloodPressure::mmhg(150, 95).unwrap());
        assert!(!discharge_decision(&i, t(200), &p).is_ready(), "falling BP is a Spravato rule only");
        i.route = Route::IntranasalEsketamine;
        assert!(discharge_decision(&i, t(200), &p).is_ready());
        // SpO2 exactly 92% on room air is not above 92% and below the 98% baseline.
        let mut j = ready_input(Route::IvInfusion);
        j.latest.as_mut().unwrap().spo2 = Some(SpO2::new(92).unwrap());
        assert_eq!(unmet(&discharge_decision(&j, t(200), &p)), vec![(Criterion::Oxygenation, "DC-003".into())]);
        j.latest.as_mut().unwrap().spo2 = Some(SpO2::new(93).unwrap());
        assert!(discharge_decision(&j, t(200), &p).is_ready());
        j.latest.as_mut().unwrap().on_supplemental_o2 = Some(true);
        assert!(!discharge_decision(&j, t(200), &p).is_ready());
    }

    proptest! {
        #[test]
        fn never_discharged_before_the_minimum_time(
            route_ix in 0usize..6,
            minutes in 0i64..400,
            end_offset in 0i64..60,
            iv_min in 0u32..240,
            esk_min in 0u32..240,
        ) {
            let route = Route::ALL[route_ix];
            let policy = DischargePolicy { iv_min: Minutes::new(iv_min), esketamine_min: Minutes::new(esk_min), ..DischargePolicy::default() };
            let mut input = ready_input(route);
            input.times.dose_end = t(end_offset);
            let now = t(minutes);
            let d = discharge_decision(&input, now, &policy);
            let min = policy.min_observation(route);
            let earliest = add_minutes(input.times.dose_end, min);
            if now < earliest {
                prop_assert!(!d.is_ready());
                prop_assert!(d.unmet().iter().any(|u| u.criterion == Criterion::MinimumObservation));
            } else {
                prop_assert!(d.is_ready());
            }
            if route == Route::IntranasalEsketamine {
                prop_assert!(min >= Minutes::new(120));
            }
        }
    }
}
