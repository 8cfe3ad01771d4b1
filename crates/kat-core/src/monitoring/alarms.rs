//! Alarm evaluation during and after dosing (clinical.md §4.3 ALM-001..006, actions
//! from §4.4 INT-001..005, sedation flags from MON-SPV-005).
//!
//! The spec found no authoritative ketamine-psychiatry alarm table, so every threshold
//! is a configurable default in [`AlarmPolicy`] with its provenance. Evaluation raises
//! **at most one alarm per kind per reading**: the most severe tier that applies. A
//! reading with SBP 190 and DBP 115 is one blood-pressure alarm, not two, so that staff
//! are not trained to dismiss duplicates.

use super::vitals::{Baseline, BloodPressure, HeartRate, Moaas, Reading, RespiratoryRate, SpO2};
use crate::dosing::rule::RuleId;
use crate::dosing::units::Minutes;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What an alarm is about. A reading raises at most one alarm of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    Oxygenation,
    BloodPressure,
    HeartRate,
    Respiration,
    Sedation,
    Psychological,
}

/// How urgently staff must act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Watch more closely and notify the prescriber.
    Notify,
    /// Intervene now: pause or stop dosing, airway manoeuvres, 1:1 observation.
    Intervene,
    /// Emergency response.
    Emergency,
}

/// The value that raised an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "measure", content = "value", rename_all = "snake_case")]
pub enum AlarmValue {
    SpO2 {
        spo2: SpO2,
        on_supplemental_o2: Option<bool>,
    },
    BloodPressure(BloodPressure),
    HeartRate(HeartRate),
    RespiratoryRate(RespiratoryRate),
    Moaas(Moaas),
    /// A clinician-observed sign with no number (apnoea, arrhythmia, end-organ symptoms,
    /// emergence reaction).
    Sign(&'static str),
}

/// One alarm: its rule, kind, severity, trigger value and the recommended action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    pub rule: RuleId,
    pub kind: AlarmKind,
    pub severity: Severity,
    pub value: AlarmValue,
    pub at: Timestamp,
    /// The action from §4.3/§4.4, for the screen.
    pub action: &'static str,
    /// The intervention rule behind the action (INT-001..004), if any.
    pub intervention: Option<RuleId>,
    /// When to recheck, where the spec says (ALM-002: 5 minutes).
    pub recheck_in: Option<Minutes>,
}

impl Alarm {
    /// Any intervention taken for this alarm must be logged as a structured event
    /// (INT-005); this says which rule requires it.
    pub const LOGGING_RULE: RuleId = RuleId::spec("INT-005");
}

/// A systolic/diastolic pair of thresholds; either one crossing is enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpLimit {
    pub systolic_at_least: u16,
    pub diastolic_at_least: u16,
}

impl BpLimit {
    pub fn crossed_by(&self, bp: BloodPressure) -> bool {
        bp.systolic() >= self.systolic_at_least || bp.diastolic() >= self.diastolic_at_least
    }
}

/// Clinic alarm policy (ALM-001..005 are \[U\] as alarm thresholds; medical-director
/// sign-off required, clinical.md §10 item 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlarmPolicy {
    /// Alarm when SpO2 is below this (%). Default 92 (ALM-001; Aldrete full score needs
    /// >92% on room air).
    pub spo2_below: u8,
    /// Emergency when SpO2 is below this despite oxygen (%). Default 90 (ALM-001).
    pub spo2_emergency_below: u8,
    /// Notify and check BP every 5 minutes at or above this. Default 160/100 (ALM-002,
    /// CTCAE grade 3).
    pub bp_notify: BpLimit,
    /// Pause or stop dosing at or above this. Default 180/110 (ALM-002, IC-OS hold).
    pub bp_intervene: BpLimit,
    /// Notify when systolic rises more than this above baseline. Default none: the spec
    /// gives no relative alarm (BP-002 only mentions an expected rise of about 20 mmHg).
    pub bp_systolic_rise_notify_above: Option<u16>,
    /// Alarm when HR is above this. Default 120 (ALM-003 \[U\]).
    pub hr_above: u16,
    /// Alarm when HR is below this. Default 50 (ALM-003 \[U\]).
    pub hr_below: u16,
    /// Alarm when RR is below this. Default 10 (ALM-004 \[U\]).
    pub rr_below: u16,
    /// Continuous observation at or below this MOAA/S. Default 3 (MON-SPV-005 \[V\]).
    pub moaas_observe_at_or_below: u8,
    /// 1:1 observation and stop dosing at or below this MOAA/S. Default 2 (ALM-005 \[U\]).
    pub moaas_intervene_at_or_below: u8,
}

impl Default for AlarmPolicy {
    fn default() -> Self {
        Self {
            spo2_below: 92,
            spo2_emergency_below: 90,
            bp_notify: BpLimit { systolic_at_least: 160, diastolic_at_least: 100 },
            bp_intervene: BpLimit { systolic_at_least: 180, diastolic_at_least: 110 },
            bp_systolic_rise_notify_above: None,
            hr_above: 120,
            hr_below: 50,
            rr_below: 10,
            moaas_observe_at_or_below: 3,
            moaas_intervene_at_or_below: 2,
        }
    }
}

/// Why an alarm policy is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("alarm policy: {0}")]
pub struct AlarmPolicyError(pub String);

impl AlarmPolicy {
    /// Rejects a policy whose tiers are out of order, which would make a worse value
    /// raise a milder alarm.
    pub fn validate(&self) -> Result<(), AlarmPolicyError> {
        let err = |m: &str| Err(AlarmPolicyError(m.into()));
        if self.spo2_emergency_below > self.spo2_below || self.spo2_below > 100 {
            return err("the SpO2 emergency threshold must not be above the alarm threshold");
        }
        if self.bp_notify.systolic_at_least > self.bp_intervene.systolic_at_least
            || self.bp_notify.diastolic_at_least > self.bp_intervene.diastolic_at_least
        {
            return err("the BP notify tier must not be above the intervene tier");
        }
        if self.hr_below >= self.hr_above {
            return err("the low HR threshold must be below the high one");
        }
        if self.moaas_intervene_at_or_below > self.moaas_observe_at_or_below || self.moaas_observe_at_or_below > 5 {
            return err("MOAA/S thresholds must satisfy intervene <= observe <= 5");
        }
        Ok(())
    }
}

struct Spec {
    rule: &'static str,
    severity: Severity,
    action: &'static str,
    intervention: Option<&'static str>,
    recheck: Option<u32>,
}

fn alarm(kind: AlarmKind, value: AlarmValue, at: Timestamp, s: Spec) -> Alarm {
    Alarm {
        rule: RuleId::spec(s.rule),
        kind,
        severity: s.severity,
        value,
        at,
        action: s.action,
        intervention: s.intervention.map(RuleId::spec),
        recheck_in: s.recheck.map(Minutes::new),
    }
}

/// Evaluates one reading against the policy and returns at most one alarm per
/// [`AlarmKind`], each the most severe tier that applies.
pub fn evaluate_reading(reading: &Reading, baseline: &Baseline, policy: &AlarmPolicy) -> Vec<Alarm> {
    let at = reading.at;
    let mut out = Vec::new();

    // ALM-001: SpO2 <92% → stimulate, airway, O2, pause; <90% despite O2 → emergency.
    // When the O2 status is not recorded, a value below 90% is treated as "despite O2".
    if let Some(spo2) = reading.spo2 {
        let v = spo2.get();
        let value = AlarmValue::SpO2 { spo2, on_supplemental_o2: reading.on_supplemental_o2 };
        let room_air = reading.on_supplemental_o2 == Some(false);
        if v < u16::from(policy.spo2_emergency_below) && !room_air {
            out.push(alarm(AlarmKind::Oxygenation, value, at, Spec {
                rule: "ALM-001",
                severity: Severity::Emergency,
                action: "SpO2 below the emergency threshold despite oxygen: stop the infusion or further dosing, escalate, start the emergency response; supportive ventilation.",
                intervention: Some("INT-004"),
                recheck: None,
            }));
        } else if v < u16::from(policy.spo2_below) {
            out.push(alarm(
                AlarmKind::Oxygenation,
                value,
                at,
                Spec {
                    rule: "ALM-001",
                    severity: Severity::Intervene,
                    action: "Low SpO2: stimulate the patient, reposition the airway, give oxygen, pause the infusion.",
                    intervention: Some("INT-004"),
                    recheck: None,
                },
            ));
        }
    }

    // ALM-002: any BP with end-organ symptoms → emergency; ≥180/110 → pause or stop,
    // recheck in 5 min; ≥160/100 → BP every 5 min and notify the prescriber.
    let bp_value = reading.blood_pressure.map(AlarmValue::BloodPressure);
    if reading.signs.end_organ_symptoms {
        out.push(alarm(AlarmKind::BloodPressure, bp_value.unwrap_or(AlarmValue::Sign("end-organ symptoms")), at, Spec {
            rule: "ALM-002",
            severity: Severity::Emergency,
            action: "Symptoms of hypertensive emergency (chest pain, dyspnoea, severe headache, visual change, seizure, reduced consciousness, focal deficit): stop dosing and refer for emergency care.",
            intervention: Some("INT-001"),
            recheck: None,
        }));
    } else if let Some(bp) = reading.blood_pressure {
        let rise = baseline
            .blood_pressure
            .zip(policy.bp_systolic_rise_notify_above)
            .is_some_and(|(base, limit)| bp.systolic() > base.systolic().saturating_add(limit));
        if policy.bp_intervene.crossed_by(bp) {
            out.push(alarm(AlarmKind::BloodPressure, AlarmValue::BloodPressure(bp), at, Spec {
                rule: "ALM-002",
                severity: Severity::Intervene,
                action: "Pause or stop the infusion (or withhold further devices/doses), recheck BP in 5 minutes and assess for symptoms. Asymptomatic elevation does not need aggressive emergency treatment; antihypertensives only as prescribed.",
                intervention: Some("INT-001"),
                recheck: Some(5),
            }));
        } else if policy.bp_notify.crossed_by(bp) || rise {
            out.push(alarm(
                AlarmKind::BloodPressure,
                AlarmValue::BloodPressure(bp),
                at,
                Spec {
                    rule: "ALM-002",
                    severity: Severity::Notify,
                    action: "Increase BP checks to every 5 minutes and notify the prescriber.",
                    intervention: Some("INT-001"),
                    recheck: Some(5),
                },
            ));
        }
    }

    // ALM-003: HR >120 or <50 → notify and recheck; symptomatic arrhythmia → stop, escalate.
    let hr_value = reading.heart_rate.map(AlarmValue::HeartRate);
    if reading.signs.symptomatic_arrhythmia {
        out.push(alarm(
            AlarmKind::HeartRate,
            hr_value.unwrap_or(AlarmValue::Sign("symptomatic arrhythmia")),
            at,
            Spec {
                rule: "ALM-003",
                severity: Severity::Intervene,
                action: "Symptomatic arrhythmia: stop dosing and escalate.",
                intervention: None,
                recheck: None,
            },
        ));
    } else if let Some(hr) = reading.heart_rate
        && (hr.get() > policy.hr_above || hr.get() < policy.hr_below)
    {
        out.push(alarm(
            AlarmKind::HeartRate,
            AlarmValue::HeartRate(hr),
            at,
            Spec {
                rule: "ALM-003",
                severity: Severity::Notify,
                action: "Heart rate out of range: notify the prescriber and recheck.",
                intervention: None,
                recheck: None,
            },
        ));
    }

    // ALM-004: RR <10, apnoea or airway obstruction → stop, airway manoeuvres, O2, escalate.
    if reading.signs.apnoea_or_airway_obstruction {
        out.push(alarm(AlarmKind::Respiration, reading.respiratory_rate.map(AlarmValue::RespiratoryRate).unwrap_or(AlarmValue::Sign("apnoea or airway obstruction")), at, Spec {
            rule: "ALM-004",
            severity: Severity::Emergency,
            action: "Apnoea or airway obstruction: stop dosing, airway manoeuvres, oxygen, supportive ventilation, escalate.",
            intervention: Some("INT-004"),
            recheck: None,
        }));
    } else if let Some(rr) = reading.respiratory_rate
        && rr.get() < policy.rr_below
    {
        out.push(alarm(
            AlarmKind::Respiration,
            AlarmValue::RespiratoryRate(rr),
            at,
            Spec {
                rule: "ALM-004",
                severity: Severity::Intervene,
                action: "Respiratory rate low: stop dosing, airway manoeuvres, oxygen, escalate.",
                intervention: Some("INT-004"),
                recheck: None,
            },
        ));
    }

    // ALM-005 / MON-SPV-005: MOAA/S 0 → emergency (loss of consciousness); ≤2 → 1:1
    // observation and stop dosing; ≤3 → continuous observation.
    if let Some(m) = reading.moaas {
        let v = m.get();
        let spec = if v == 0 {
            Some(Spec {
                rule: "ALM-005",
                severity: Severity::Emergency,
                action: "MOAA/S 0 (no response to painful stimulus, loss of consciousness): emergency response; record as a serious adverse event.",
                intervention: Some("INT-004"),
                recheck: None,
            })
        } else if v <= u16::from(policy.moaas_intervene_at_or_below) {
            Some(Spec {
                rule: "ALM-005",
                severity: Severity::Intervene,
                action: "Deep sedation: continuous 1:1 observation and stop further dosing.",
                intervention: None,
                recheck: None,
            })
        } else if v <= u16::from(policy.moaas_observe_at_or_below) {
            Some(Spec {
                rule: "MON-SPV-005",
                severity: Severity::Notify,
                action: "Sedation: keep the patient under continuous observation.",
                intervention: None,
                recheck: None,
            })
        } else {
            None
        };
        if let Some(spec) = spec {
            out.push(alarm(AlarmKind::Sedation, AlarmValue::Moaas(m), at, spec));
        }
    }

    // ALM-006: severe distress, agitation or emergence reaction.
    if reading.signs.severe_distress_or_emergence {
        out.push(alarm(AlarmKind::Psychological, AlarmValue::Sign("severe distress, agitation or emergence reaction"), at, Spec {
            rule: "ALM-006",
            severity: Severity::Intervene,
            action: "Reduce verbal, tactile and visual stimulation, reassure, pause or stop the infusion; consider a benzodiazepine (for example midazolam) as prescribed.",
            intervention: Some("INT-003"),
            recheck: None,
        }));
    }
    out
}

/// Which way a value is out of the alarm policy's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deviation {
    High,
    Low,
}

impl Deviation {
    /// The word for the screen ("high", "low").
    pub fn word(self) -> &'static str {
        match self {
            Deviation::High => "high",
            Deviation::Low => "low",
        }
    }
}

/// Each value of a reading that is out of range by the alarm policy, and which way: the
/// thresholds [`evaluate_reading`] raises its alarms at (its lowest tier), so a vitals
/// table marks exactly the values an alarm is about. BP is high from the notify tier
/// (ALM-002, default 160/100); the spec has no low BP alarm, so BP is never marked low.
/// HR high above / low below its limits (ALM-003), SpO2 low below the alarm threshold
/// (ALM-001), RR low below its limit (ALM-004), MOAA/S low at or below the observation
/// level (MON-SPV-005). The relative BP rise (a baseline comparison) is not a value's
/// own range and is not marked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutOfRange {
    pub blood_pressure: Option<Deviation>,
    pub heart_rate: Option<Deviation>,
    pub spo2: Option<Deviation>,
    pub respiratory_rate: Option<Deviation>,
    pub moaas: Option<Deviation>,
}

/// Which values of `reading` are out of the policy's range (see [`OutOfRange`]).
pub fn out_of_range(reading: &Reading, policy: &AlarmPolicy) -> OutOfRange {
    OutOfRange {
        blood_pressure: reading
            .blood_pressure
            .filter(|bp| policy.bp_notify.crossed_by(*bp) || policy.bp_intervene.crossed_by(*bp))
            .map(|_| Deviation::High),
        heart_rate: reading.heart_rate.and_then(|h| {
            if h.get() > policy.hr_above {
                Some(Deviation::High)
            } else if h.get() < policy.hr_below {
                Some(Deviation::Low)
            } else {
                None
            }
        }),
        spo2: reading.spo2.filter(|s| s.get() < u16::from(policy.spo2_below)).map(|_| Deviation::Low),
        respiratory_rate: reading.respiratory_rate.filter(|r| r.get() < policy.rr_below).map(|_| Deviation::Low),
        moaas: reading.moaas.filter(|m| m.get() <= u16::from(policy.moaas_observe_at_or_below)).map(|_| Deviation::Low),
    }
}

/// A structured record of an intervention (INT-005): time, trigger, action, any drug
/// given, the response, and whether the session was stopped. It feeds the adverse-event
/// record (§5) and REMS serious-adverse-event reporting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterventionEvent {
    pub at: Timestamp,
    /// The alarm rule that triggered it, if any (for example `ALM-002`).
    pub trigger_rule: Option<RuleId>,
    /// The trigger value as shown to staff, for example `184/112 mm[Hg]`.
    pub trigger_value: String,
    pub action: String,
    pub drug: Option<DrugGiven>,
    pub response: String,
    pub session_stopped: bool,
}

/// A drug given as part of an intervention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrugGiven {
    pub name: String,
    pub dose: crate::dosing::units::Mg,
    pub route: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::vitals::{ClinicalSigns, ReadingSource};
    use proptest::prelude::*;

    fn t0() -> Timestamp {
        "2026-03-01T10:00:00Z".parse().unwrap()
    }

    fn reading() -> Reading {
        Reading::empty(t0(), ReadingSource::Device { device_id: "mon-1".into() })
    }

    fn eval(r: &Reading) -> Vec<Alarm> {
        evaluate_reading(r, &Baseline::default(), &AlarmPolicy::default())
    }

    fn spo2(v: u16, o2: Option<bool>) -> Vec<Alarm> {
        let mut r = reading();
        r.spo2 = Some(SpO2::new(v).unwrap());
        r.on_supplemental_o2 = o2;
        eval(&r)
    }

    #[test]
    fn spo2_boundaries() {
        assert!(spo2(92, Some(false)).is_empty());
        let a = spo2(91, Some(false));
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].rule.as_str(), a[0].severity), ("ALM-001", Severity::Intervene));
        assert_eq!(spo2(90, Some(true))[0].severity, Severity::Intervene);
        assert_eq!(spo2(89, Some(true))[0].severity, Severity::Emergency);
        // On room air the first action is to give oxygen.
        assert_eq!(spo2(85, Some(false))[0].severity, Severity::Intervene);
        // Unknown O2 status below 90: assume the worse case.
        assert_eq!(spo2(89, None)[0].severity, Severity::Emergency);
        assert_eq!(spo2(89, None).len(), 1);
    }

    fn bp(s: u16, d: u16) -> Vec<Alarm> {
        let mut r = reading();
        r.blood_pressure = Some(BloodPressure::mmhg(s, d).unwrap());
        eval(&r)
    }

    #[test]
    fn bp_boundaries_and_single_alarm() {
        assert!(bp(159, 99).is_empty());
        assert_eq!(bp(160, 80)[0].severity, Severity::Notify);
        assert_eq!(bp(130, 100)[0].severity, Severity::Notify);
        assert_eq!(bp(179, 109)[0].severity, Severity::Notify);
        assert_eq!(bp(180, 90)[0].severity, Severity::Intervene);
        assert_eq!(bp(150, 110)[0].severity, Severity::Intervene);
        let both = bp(190, 115);
        assert_eq!(both.len(), 1, "one BP alarm even when both numbers cross");
        assert_eq!(both[0].recheck_in, Some(Minutes::new(5)));
        assert_eq!(both[0].intervention.as_ref().unwrap().as_str(), "INT-001");
    }

    #[test]
    fn end_organ_symptoms_are_an_emergency_at_any_bp() {
        let mut r = reading();
        r.blood_pressure = Some(BloodPressure::mmhg(130, 80).unwrap());
        r.signs = ClinicalSigns { end_organ_symptoms: true, ..ClinicalSigns::default() };
        let a = eval(&r);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].severity, Severity::Emergency);
    }

    #[test]
    fn hr_rr_and_sedation_boundaries() {
        let hr = |v| {
            let mut r = reading();
            r.heart_rate = Some(HeartRate::new(v).unwrap());
            eval(&r)
        };
        assert!(hr(120).is_empty());
        assert_eq!(hr(121).len(), 1);
        assert!(hr(50).is_empty());
        assert_eq!(hr(49)[0].rule.as_str(), "ALM-003");
        let rr = |v| {
            let mut r = reading();
            r.respiratory_rate = Some(RespiratoryRate::new(v).unwrap());
            eval(&r)
        };
        assert!(rr(10).is_empty());
        assert_eq!(rr(9)[0].rule.as_str(), "ALM-004");
        let mut apnoea = reading();
        apnoea.respiratory_rate = Some(RespiratoryRate::new(4).unwrap());
        apnoea.signs.apnoea_or_airway_obstruction = true;
        let a = eval(&apnoea);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].severity, Severity::Emergency);
        let sed = |v| {
            let mut r = reading();
            r.moaas = Some(Moaas::new(v).unwrap());
            eval(&r)
        };
        assert!(sed(5).is_empty());
        assert!(sed(4).is_empty());
        assert_eq!(sed(3)[0].rule.as_str(), "MON-SPV-005");
        assert_eq!(sed(2)[0].rule.as_str(), "ALM-005");
        assert_eq!(sed(2)[0].severity, Severity::Intervene);
        assert_eq!(sed(0)[0].severity, Severity::Emergency);
    }

    #[test]
    fn psychological_alarm_and_relative_bp_rise() {
        let mut r = reading();
        r.signs.severe_distress_or_emergence = true;
        let a = eval(&r);
        assert_eq!((a.len(), a[0].rule.as_str()), (1, "ALM-006"));
        let policy = AlarmPolicy { bp_systolic_rise_notify_above: Some(30), ..AlarmPolicy::default() };
        let base = Baseline { blood_pressure: Some(BloodPressure::mmhg(110, 70).unwrap()), ..Baseline::default() };
        let mut r = reading();
        r.blood_pressure = Some(BloodPressure::mmhg(140, 80).unwrap());
        assert!(evaluate_reading(&r, &base, &policy).is_empty());
        r.blood_pressure = Some(BloodPressure::mmhg(141, 80).unwrap());
        assert_eq!(evaluate_reading(&r, &base, &policy).len(), 1);
    }

    #[test]
    fn out_of_range_marks_each_value_at_its_alarm_threshold() {
        let p = AlarmPolicy::default();
        let mut r = reading();
        assert_eq!(out_of_range(&r, &p), OutOfRange::default(), "nothing recorded, nothing marked");
        // BP: 159/99 in range; 160 systolic or 100 diastolic high (ALM-002 notify tier).
        for (s, d, want) in [
            (159, 99, None),
            (160, 80, Some(Deviation::High)),
            (120, 100, Some(Deviation::High)),
            (190, 115, Some(Deviation::High)),
            (70, 40, None),
        ] {
            r.blood_pressure = Some(BloodPressure::mmhg(s, d).unwrap());
            assert_eq!(out_of_range(&r, &p).blood_pressure, want, "{s}/{d}");
        }
        // HR: 50 and 120 in range, 49 low, 121 high (ALM-003).
        for (v, want) in [(49, Some(Deviation::Low)), (50, None), (120, None), (121, Some(Deviation::High))] {
            r.heart_rate = Some(HeartRate::new(v).unwrap());
            assert_eq!(out_of_range(&r, &p).heart_rate, want, "HR {v}");
        }
        // SpO2: 92 in range, 91 low (ALM-001).
        for (v, want) in [(92, None), (91, Some(Deviation::Low)), (100, None)] {
            r.spo2 = Some(SpO2::new(v).unwrap());
            assert_eq!(out_of_range(&r, &p).spo2, want, "SpO2 {v}");
        }
        // RR: 10 in range, 9 low (ALM-004).
        for (v, want) in [(10, None), (9, Some(Deviation::Low))] {
            r.respiratory_rate = Some(RespiratoryRate::new(v).unwrap());
            assert_eq!(out_of_range(&r, &p).respiratory_rate, want, "RR {v}");
        }
        // MOAA/S: 4 in range, 3 low (MON-SPV-005).
        for (v, want) in [(4, None), (3, Some(Deviation::Low)), (0, Some(Deviation::Low))] {
            r.moaas = Some(Moaas::new(v).unwrap());
            assert_eq!(out_of_range(&r, &p).moaas, want, "MOAA/S {v}");
        }
        // The clinic's policy moves the marks with its alarms.
        let strict = AlarmPolicy { hr_above: 100, ..AlarmPolicy::default() };
        r.heart_rate = Some(HeartRate::new(101).unwrap());
        assert_eq!(out_of_range(&r, &strict).heart_rate, Some(Deviation::High));
        assert_eq!(out_of_range(&r, &p).heart_rate, None);
        assert_eq!(Deviation::High.word(), "high");
    }

    #[test]
    fn a_marked_value_is_one_an_alarm_is_raised_for() {
        // The marks and the alarms share their thresholds: a value marked raises its kind.
        let p = AlarmPolicy::default();
        for (s, d) in [(159, 99), (160, 99), (180, 110)] {
            let mut r = reading();
            r.blood_pressure = Some(BloodPressure::mmhg(s, d).unwrap());
            let marked = out_of_range(&r, &p).blood_pressure.is_some();
            let alarmed = eval(&r).iter().any(|a| a.kind == AlarmKind::BloodPressure);
            assert_eq!(marked, alarmed, "{s}/{d}");
        }
    }

    #[test]
    fn policy_validation() {
        assert!(AlarmPolicy::default().validate().is_ok());
        assert!(AlarmPolicy { spo2_emergency_below: 93, ..AlarmPolicy::default() }.validate().is_err());
        assert!(AlarmPolicy { hr_below: 130, ..AlarmPolicy::default() }.validate().is_err());
    }

    fn arb_reading() -> impl Strategy<Value = Reading> {
        (
            proptest::option::of((20u16..=400, 10u16..=300)),
            proptest::option::of(0u16..=350),
            proptest::option::of(0u16..=100),
            proptest::option::of(any::<bool>()),
            proptest::option::of(0u16..=150),
            proptest::option::of(0u16..=5),
            any::<[bool; 4]>(),
        )
            .prop_map(|(bp, hr, spo2, o2, rr, m, signs)| {
                let mut r = Reading::empty(t0(), ReadingSource::Device { device_id: "x".into() });
                r.blood_pressure = bp.and_then(|(s, d)| BloodPressure::mmhg(s, d).ok());
                r.heart_rate = hr.map(|v| HeartRate::new(v).unwrap());
                r.spo2 = spo2.map(|v| SpO2::new(v).unwrap());
                r.on_supplemental_o2 = o2;
                r.respiratory_rate = rr.map(|v| RespiratoryRate::new(v).unwrap());
                r.moaas = m.map(|v| Moaas::new(v).unwrap());
                r.signs = ClinicalSigns {
                    apnoea_or_airway_obstruction: signs[0],
                    symptomatic_arrhythmia: signs[1],
                    end_organ_symptoms: signs[2],
                    severe_distress_or_emergence: signs[3],
                };
                r
            })
    }

    /// The alarm-worthy conditions, written independently of the evaluator from the
    /// spec thresholds, so the property can catch a missing or duplicated alarm.
    fn expected_kinds(r: &Reading) -> Vec<AlarmKind> {
        let mut k = Vec::new();
        if r.spo2.is_some_and(|v| v.get() < 92) {
            k.push(AlarmKind::Oxygenation);
        }
        if r.signs.end_organ_symptoms || r.blood_pressure.is_some_and(|b| b.systolic() >= 160 || b.diastolic() >= 100) {
            k.push(AlarmKind::BloodPressure);
        }
        if r.signs.symptomatic_arrhythmia || r.heart_rate.is_some_and(|h| h.get() > 120 || h.get() < 50) {
            k.push(AlarmKind::HeartRate);
        }
        if r.signs.apnoea_or_airway_obstruction || r.respiratory_rate.is_some_and(|v| v.get() < 10) {
            k.push(AlarmKind::Respiration);
        }
        if r.moaas.is_some_and(|m| m.get() <= 3) {
            k.push(AlarmKind::Sedation);
        }
        if r.signs.severe_distress_or_emergence {
            k.push(AlarmKind::Psychological);
        }
        k
    }

    proptest! {
        #[test]
        fn every_alarm_worthy_condition_raises_exactly_one_alarm_of_its_kind(r in arb_reading()) {
            let alarms = eval(&r);
            let mut kinds: Vec<AlarmKind> = alarms.iter().map(|a| a.kind).collect();
            kinds.sort();
            let mut expected = expected_kinds(&r);
            expected.sort();
            prop_assert_eq!(kinds, expected);
            for a in &alarms {
                prop_assert!(a.rule.as_str().starts_with("ALM-") || a.rule.as_str() == "MON-SPV-005");
            }
        }

        #[test]
        fn device_and_manual_readings_raise_the_same_alarms(r in arb_reading()) {
            let mut manual = r.clone();
            manual.source = ReadingSource::Manual { entered_by: crate::ids::UserId::from_uuid(uuid::Uuid::nil()) };
            let a: Vec<_> = eval(&r).into_iter().map(|a| (a.kind, a.severity, a.rule)).collect();
            let b: Vec<_> = eval(&manual).into_iter().map(|a| (a.kind, a.severity, a.rule)).collect();
            prop_assert_eq!(a, b);
        }
    }
}
