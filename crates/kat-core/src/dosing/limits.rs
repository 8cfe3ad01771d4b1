//! Route-specific dose limits (clinical.md §2) and the check run before administering.
//!
//! Limits tagged \[V\] in the spec (the IM anaesthetic range, the esketamine device and
//! label rules) are constants here. Limits tagged \[U\] or \[P\] are clinic policy: they
//! live in [`DosingPolicy`], whose `Default` is the spec's proposed value, so that a
//! medical director can sign them off or change them without a code change.
//!
//! Every finding is either a [`DoseCheck::Warning`] (proceed only with a documented
//! reason) or a [`DoseCheck::HardLimit`] (proceed only with a medical-director override).

use super::calc::{Dilution, Preparation};
use super::route::Route;
use super::rule::RuleId;
use super::units::{Mg, MgPerKg, MgPerMl, Minutes, add_minutes, at_least, exceeds};
use super::weight::{DosingWeight, WeightPolicy};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One result of a dose check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "level", rename_all = "snake_case")]
pub enum DoseCheck {
    /// Nothing to flag.
    Ok,
    /// Outside the usual range: the prescriber may proceed with a documented reason.
    Warning { rule: RuleId, message: String },
    /// Beyond a limit: proceeding needs a medical-director override.
    HardLimit { rule: RuleId, message: String },
}

impl DoseCheck {
    pub fn rule(&self) -> Option<&RuleId> {
        match self {
            DoseCheck::Ok => None,
            DoseCheck::Warning { rule, .. } | DoseCheck::HardLimit { rule, .. } => Some(rule),
        }
    }

    fn warning(rule: &'static str, message: impl Into<String>) -> Self {
        DoseCheck::Warning { rule: RuleId::spec(rule), message: message.into() }
    }

    pub(crate) fn hard(rule: &'static str, message: impl Into<String>) -> Self {
        DoseCheck::HardLimit { rule: RuleId::spec(rule), message: message.into() }
    }
}

/// The worst level among findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckLevel {
    Ok,
    Warning,
    HardLimit,
}

/// All findings of one dose check. It never holds [`DoseCheck::Ok`]; no findings = ok.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DoseReview {
    pub findings: Vec<DoseCheck>,
}

impl DoseReview {
    fn push(&mut self, check: DoseCheck) {
        if check != DoseCheck::Ok {
            self.findings.push(check);
        }
    }

    /// The most severe level: what the person administering must supply to proceed.
    pub fn level(&self) -> CheckLevel {
        self.findings
            .iter()
            .map(|f| match f {
                DoseCheck::Ok => CheckLevel::Ok,
                DoseCheck::Warning { .. } => CheckLevel::Warning,
                DoseCheck::HardLimit { .. } => CheckLevel::HardLimit,
            })
            .max()
            .unwrap_or(CheckLevel::Ok)
    }

    pub fn is_ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// Whether any finding cites `rule`.
    pub fn cites(&self, rule: &str) -> bool {
        self.findings.iter().any(|f| f.rule().is_some_and(|r| r.as_str() == rule))
    }
}

/// The lowest IM dose of the anaesthetic induction range (6.5–13 mg/kg). Psychiatric
/// dosing must stay far below it, so entries at or above it are hard-blocked
/// (DOSE-IM-004, tagged \[V\]: a label fact, not a policy).
pub const IM_ANAESTHETIC_MIN: MgPerKg = MgPerKg::constant(6.5);

/// One esketamine device holds 28 mg (DOSE-IN-001 \[V\]).
pub const ESKETAMINE_DEVICE: Mg = Mg::from_whole(28);

/// The largest labelled esketamine dose, 3 devices (DOSE-IN-001 \[V\]).
pub const ESKETAMINE_MAX: Mg = Mg::from_whole(84);

/// Rest between esketamine devices (DOSE-IN-001 \[V\]).
pub const ESKETAMINE_DEVICE_REST: Minutes = Minutes::new(5);

/// The Ketalar strength that must not be given IV undiluted (DOSE-IV-004 \[V\]).
pub const UNDILUTED_IV_FORBIDDEN_STOCK: MgPerMl = MgPerMl::constant(100.0);

/// Clinic dosing policy: every limit the spec tags \[U\] or \[P\]. `Default` holds the spec's
/// proposed values; each needs the medical director's sign-off (clinical.md §10 item 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DosingPolicy {
    /// IV: warn above this mg/kg. Default 0.75, the top of the studied range
    /// (DOSE-IV-002 \[U\]).
    pub iv_warn_above: MgPerKg,
    /// IV: hard stop above this mg/kg unless the medical director overrides.
    /// Default 1.0 (DOSE-IV-002 \[U\]).
    pub iv_hard_above: MgPerKg,
    /// IV: warn when the infusion is shorter than this. Default 40 min, the conventional
    /// duration; shorter infusions move toward the rapid administration Ketalar warns
    /// causes respiratory depression and a stronger pressor response (DOSE-IV-001,
    /// DOSE-IV-003). The spec gives no "too fast" number, so this is the convention.
    pub iv_warn_infusion_shorter_than: Option<Minutes>,
    /// IM: warn above this mg/kg. Default 0.5, the highest IM dose studied (DOSE-IM-001);
    /// the spec names no IM warning limit, and IM ranges from Dore 2019 are unconfirmed
    /// (DOSE-IM-003). The anaesthetic-range block is fixed (DOSE-IM-004).
    pub im_warn_above: Option<MgPerKg>,
    /// SC: warn above this mg/kg. Default 0.9, the top of the KADS flexible range
    /// (DOSE-SC-001).
    pub sc_warn_above: Option<MgPerKg>,
    /// SC: hard stop above this mg/kg. Default none: the spec gives no SC maximum.
    pub sc_hard_above: Option<MgPerKg>,
    /// Sublingual/oral: warn above this mg/kg. Default 7.0, the top of published
    /// weight-based oral doses (DOSE-PO-001).
    pub po_warn_above_per_kg: Option<MgPerKg>,
    /// Sublingual/oral: warn above this fixed dose. Default 300 mg, the top of published
    /// fixed oral doses (DOSE-PO-001); at-home lozenge programmes reported up to 400 mg
    /// (DOSE-PO-005).
    pub po_warn_above_mg: Option<Mg>,
    /// Intranasal racemic: warn above this dose. Default none: no dose could be confirmed
    /// (DOSE-INR-001).
    pub inr_warn_above_mg: Option<Mg>,
    /// Allow at-home sublingual/oral dosing. Default false: only behind clinic policy and
    /// ASA safeguards (DOSE-PO-005, DOSE-GEN-001).
    pub allow_at_home_sublingual_oral: bool,
    /// Allow unsupervised home intranasal racemic ketamine. Default false (DOSE-INR-001).
    pub allow_home_intranasal_racemic: bool,
    /// Start esketamine at 28 mg for patients 65 and over (non-US label). Default false:
    /// the US geriatric rule was not verified (DOSE-IN-007, jurisdiction setting).
    pub esketamine_geriatric_start_28mg: bool,
    /// Per-kg titration step for weight-based protocols. Default none: the spec gives
    /// no step (DOSE-IV-010 \[P\], DOSE-SC-001 "response-guided increases").
    pub titration_step_per_kg: Option<MgPerKg>,
    /// The dosing weight basis (DOSE-IV-005).
    pub weight: WeightPolicy,
}

impl Default for DosingPolicy {
    fn default() -> Self {
        Self {
            iv_warn_above: MgPerKg::constant(0.75),
            iv_hard_above: MgPerKg::constant(1.0),
            iv_warn_infusion_shorter_than: Some(Minutes::new(40)),
            im_warn_above: Some(MgPerKg::constant(0.5)),
            sc_warn_above: Some(MgPerKg::constant(0.9)),
            sc_hard_above: None,
            po_warn_above_per_kg: Some(MgPerKg::constant(7.0)),
            po_warn_above_mg: Some(Mg::from_whole(300)),
            inr_warn_above_mg: None,
            allow_at_home_sublingual_oral: false,
            allow_home_intranasal_racemic: false,
            esketamine_geriatric_start_28mg: false,
            titration_step_per_kg: None,
            weight: WeightPolicy::default(),
        }
    }
}

/// Where the dose is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    /// In the clinic, under direct supervision.
    InClinic,
    /// At home (telehealth programmes).
    AtHome,
}

/// Which esketamine indication the course treats (IND-001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EsketamineIndication {
    /// Treatment-resistant depression (DOSE-IN-002..005).
    Trd,
    /// MDD with acute suicidal ideation or behaviour (DOSE-IN-006).
    Mdsi,
}

/// What the esketamine rules need to know about the course so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EsketamineCourse {
    pub indication: EsketamineIndication,
    /// Doses given at earlier sessions of this course, oldest first.
    pub previous_doses: Vec<Mg>,
    /// Whole days since the first session of the course (0 on the first day).
    pub days_since_first_dose: u32,
    /// Age in years on the treatment day, for the geriatric rule (DOSE-IN-007).
    pub age_years: Option<u16>,
}

/// Everything checked before a dose is administered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoseRequest {
    pub route: Route,
    pub dose: Mg,
    /// Required for weight-based routes (IV, IM, SC) so mg/kg can be judged.
    pub weight: Option<DosingWeight>,
    pub setting: Setting,
    /// IV only: infusion duration.
    pub infusion: Option<Minutes>,
    /// IV only: stock strength and dilution (DOSE-IV-004).
    pub preparation: Option<Preparation>,
    /// Esketamine only.
    pub esketamine: Option<EsketamineCourse>,
}

impl DoseRequest {
    /// mg/kg against the dosing weight, when there is one.
    pub fn per_kg(&self) -> Option<f64> {
        self.weight.map(|w| self.dose.value() / w.kg.value())
    }
}

/// A mg/kg figure for a message: to 4 decimals (so a value just past a limit shows as
/// past it), without trailing zeros ("1.2 mg/kg", not "1.2000 mg/kg").
fn shown(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Checks a dose against the route's limits and the clinic policy (clinical.md §2).
pub fn check_dose(request: &DoseRequest, policy: &DosingPolicy) -> DoseReview {
    let mut review = DoseReview::default();
    if request.dose.value() <= 0.0 {
        review.push(DoseCheck::hard("DOSE-GEN-002", "The dose is zero; record a dose in mg."));
        return review;
    }
    let per_kg = request.per_kg();
    if request.route.usually_weight_based() && per_kg.is_none() {
        // Without a weight the mg/kg limits cannot be judged, and DOSE-GEN-002 requires
        // mg/kg with the weight used in the record.
        review.push(DoseCheck::hard(
            "DOSE-GEN-002",
            "A weight-based route needs the dosing weight and its measurement date.",
        ));
    }
    match request.route {
        Route::IvInfusion => check_iv(request, per_kg, policy, &mut review),
        Route::Intramuscular => {
            if let Some(v) = per_kg {
                // DOSE-IM-004 [V]: anaesthetic IM induction is 6.5–13 mg/kg; block it.
                if at_least(v, IM_ANAESTHETIC_MIN.value()) {
                    review.push(DoseCheck::hard(
                        "DOSE-IM-004",
                        format!("{} mg/kg IM is in the anaesthetic induction range (6.5-13 mg/kg).", shown(v)),
                    ));
                } else if let Some(limit) = policy.im_warn_above
                    && exceeds(v, limit.value())
                {
                    // DOSE-IM-001: 0.25 and 0.5 mg/kg are the studied IM doses.
                    review.push(DoseCheck::warning(
                        "DOSE-IM-001",
                        format!("{} mg/kg IM is above the clinic limit of {} mg/kg.", shown(v), limit.value()),
                    ));
                }
            }
        }
        Route::Subcutaneous => {
            if let Some(v) = per_kg {
                if let Some(limit) = policy.sc_hard_above
                    && exceeds(v, limit.value())
                {
                    review.push(DoseCheck::hard(
                        "DOSE-SC-001",
                        format!("{} mg/kg SC is above the clinic maximum of {} mg/kg.", shown(v), limit.value()),
                    ));
                } else if let Some(limit) = policy.sc_warn_above
                    && exceeds(v, limit.value())
                {
                    // DOSE-SC-001: KADS used 0.5–0.9 mg/kg.
                    review.push(DoseCheck::warning(
                        "DOSE-SC-001",
                        format!(
                            "{} mg/kg SC is above the studied 0.5-0.9 mg/kg range (clinic limit {} mg/kg).",
                            shown(v),
                            limit.value()
                        ),
                    ));
                }
            }
        }
        Route::SublingualOral => {
            if request.setting == Setting::AtHome && !policy.allow_at_home_sublingual_oral {
                // DOSE-PO-005: at-home dosing only behind clinic policy and ASA safeguards.
                review.push(DoseCheck::hard(
                    "DOSE-PO-005",
                    "At-home sublingual/oral dosing is not enabled in the clinic policy.",
                ));
            }
            if let (Some(v), Some(limit)) = (per_kg, policy.po_warn_above_per_kg)
                && exceeds(v, limit.value())
            {
                review.push(DoseCheck::warning(
                    "DOSE-PO-001",
                    format!("{} mg/kg is above published oral doses (clinic limit {} mg/kg).", shown(v), limit.value()),
                ));
            }
            if let Some(limit) = policy.po_warn_above_mg
                && exceeds(request.dose.value(), limit.value())
            {
                review.push(DoseCheck::warning(
                    "DOSE-PO-001",
                    format!(
                        "{} mg is above published fixed oral doses (clinic limit {} mg).",
                        request.dose.value(),
                        limit.value()
                    ),
                ));
            }
        }
        Route::IntranasalRacemic => {
            if request.setting == Setting::AtHome && !policy.allow_home_intranasal_racemic {
                // DOSE-INR-001: default is no unsupervised home intranasal racemic ketamine.
                review.push(DoseCheck::hard(
                    "DOSE-INR-001",
                    "Unsupervised home intranasal racemic ketamine is not enabled in the clinic policy.",
                ));
            }
            if let Some(limit) = policy.inr_warn_above_mg
                && exceeds(request.dose.value(), limit.value())
            {
                review.push(DoseCheck::warning(
                    "DOSE-INR-001",
                    format!(
                        "{} mg intranasal is above the clinic limit of {} mg.",
                        request.dose.value(),
                        limit.value()
                    ),
                ));
            }
        }
        Route::IntranasalEsketamine => {
            for check in check_esketamine(request, policy) {
                review.push(check);
            }
        }
    }
    review
}

fn check_iv(request: &DoseRequest, per_kg: Option<f64>, policy: &DosingPolicy, review: &mut DoseReview) {
    if let Some(v) = per_kg {
        // DOSE-IV-002 [U]: warn above 0.75 mg/kg, hard stop above 1.0 mg/kg.
        if exceeds(v, policy.iv_hard_above.value()) {
            review.push(DoseCheck::hard(
                "DOSE-IV-002",
                format!("{} mg/kg IV is above the hard limit of {} mg/kg.", shown(v), policy.iv_hard_above.value()),
            ));
        } else if exceeds(v, policy.iv_warn_above.value()) {
            review.push(DoseCheck::warning(
                "DOSE-IV-002",
                format!(
                    "{} mg/kg IV is above the studied range (warning above {} mg/kg).",
                    shown(v),
                    policy.iv_warn_above.value()
                ),
            ));
        }
    }
    match request.infusion {
        None => review.push(DoseCheck::hard(
            "DOSE-IV-003",
            "An IV dose needs an infusion duration so the pump rate is constant and not a rapid push.",
        )),
        Some(d) => {
            if let Some(min) = policy.iv_warn_infusion_shorter_than
                && d < min
            {
                review.push(DoseCheck::warning(
                    "DOSE-IV-003",
                    format!("Infusion over {d} is shorter than the clinic's {min}; rapid IV administration may cause respiratory depression and a stronger pressor response."),
                ));
            }
        }
    }
    match request.preparation {
        None => {
            review.push(DoseCheck::hard("DOSE-IV-004", "An IV dose needs its stock strength and dilution recorded."))
        }
        Some(prep) => {
            // DOSE-IV-004 [V]: 100 mg/mL must not be given IV undiluted; dilute with at
            // least an equal volume. A bag made up to less than twice the drug volume is
            // the same error.
            if at_least(prep.stock.value(), UNDILUTED_IV_FORBIDDEN_STOCK.value()) {
                let diluted_enough = match prep.dilution {
                    Dilution::Undiluted => false,
                    Dilution::EqualVolume(_) => true,
                    Dilution::ToTotalVolume { total, .. } => {
                        let drug_ml = request.dose.value() / prep.stock.value();
                        at_least(total.value(), 2.0 * drug_ml)
                    }
                };
                if !diluted_enough {
                    review.push(DoseCheck::hard(
                        "DOSE-IV-004",
                        "The 100 mg/mL strength must not be given IV undiluted: dilute with at least an equal volume of sterile water, 0.9% NaCl or D5W.",
                    ));
                }
            }
        }
    }
}

fn check_esketamine(request: &DoseRequest, policy: &DosingPolicy) -> Vec<DoseCheck> {
    let mut out = Vec::new();
    let dose = request.dose.value();
    if request.setting == Setting::AtHome {
        // DOSE-IN-011 [V]: never dispensed for home use; this is law, not clinic policy.
        out.push(DoseCheck::hard(
            "DOSE-IN-011",
            "SPRAVATO must never be given for home use; it is self-administered only under direct supervision in a certified setting.",
        ));
    }
    // DOSE-IN-001 / DOSE-IN-008 [V]: whole 28 mg devices, at most 3 (84 mg).
    let devices = dose / ESKETAMINE_DEVICE.value();
    if (devices - devices.round()).abs() > 1e-9 {
        out.push(DoseCheck::hard("DOSE-IN-001", format!("{dose} mg is not a whole number of 28 mg devices.")));
        return out;
    }
    if exceeds(dose, ESKETAMINE_MAX.value()) {
        out.push(DoseCheck::hard(
            "DOSE-IN-001",
            format!("{dose} mg is above the labelled maximum of 84 mg (3 devices)."),
        ));
        return out;
    }
    let Some(course) = &request.esketamine else {
        out.push(DoseCheck::hard(
            "DOSE-IN-002",
            "The esketamine course (indication and previous doses) is needed to check the dose.",
        ));
        return out;
    };
    let first = course.previous_doses.is_empty();
    let had_56 = course.previous_doses.iter().any(|d| at_least(d.value(), 56.0));
    let geriatric = policy.esketamine_geriatric_start_28mg && course.age_years.is_some_and(|a| a >= 65);
    let whole = devices.round() as u32;
    match course.indication {
        EsketamineIndication::Trd => match (whole, first) {
            (3, true) => out.push(DoseCheck::hard(
                "DOSE-IN-002",
                "84 mg is not allowed on day 1 of TRD treatment; the day 1 dose is 56 mg.",
            )),
            (3, false) if !had_56 => out.push(DoseCheck::hard(
                "DOSE-IN-002",
                "84 mg is allowed only after an initial 56 mg dose.",
            )),
            (2, true) if geriatric => out.push(DoseCheck::warning(
                "DOSE-IN-007",
                "The clinic's geriatric rule starts patients 65 and over at 28 mg on day 1.",
            )),
            (1, _) if geriatric => {}
            (1, true) => out.push(DoseCheck::warning(
                "DOSE-IN-002",
                "The TRD day 1 dose is 56 mg; 28 mg is a geriatric start only where the jurisdiction setting allows it (DOSE-IN-007).",
            )),
            (1, false) => out.push(DoseCheck::warning(
                "DOSE-IN-002",
                "Labelled TRD doses after day 1 are 56 or 84 mg.",
            )),
            _ => {}
        },
        EsketamineIndication::Mdsi => {
            match whole {
                3 => {}
                2 if first => out.push(DoseCheck::warning(
                    "DOSE-IN-006",
                    "The MDSI dose is 84 mg; reduce to 56 mg for tolerability of a previous dose.",
                )),
                2 => {}
                _ => out.push(DoseCheck::warning(
                    "DOSE-IN-006",
                    "Labelled MDSI doses are 84 mg, or 56 mg for tolerability.",
                )),
            }
            // DOSE-IN-006: treatment beyond 4 weeks has not been systematically evaluated.
            if course.days_since_first_dose >= 28 {
                out.push(DoseCheck::warning(
                    "DOSE-IN-006",
                    "MDSI treatment beyond 4 weeks has not been systematically evaluated; assess benefit.",
                ));
            }
        }
    }
    // DOSE-IN-008: dose changes go in 28 mg steps.
    if let Some(last) = course.previous_doses.last()
        && exceeds((dose - last.value()).abs(), ESKETAMINE_DEVICE.value())
    {
        out.push(DoseCheck::warning(
            "DOSE-IN-008",
            format!("Changing from {} mg to {dose} mg is more than one 28 mg step.", last.value()),
        ));
    }
    out
}

/// Checks whether the next esketamine device may be given now (DOSE-IN-001 \[V\]: 28 mg
/// per device, 5-minute rest between devices). `given` holds the times of devices
/// already used this session, in order.
pub fn check_next_device(planned_dose: Mg, given: &[Timestamp], now: Timestamp) -> DoseCheck {
    let planned = (planned_dose.value() / ESKETAMINE_DEVICE.value()).round() as usize;
    if given.len() >= planned {
        return DoseCheck::hard(
            "DOSE-IN-001",
            format!("All {planned} device(s) of the planned {} mg dose have been given.", planned_dose.value()),
        );
    }
    match given.last() {
        Some(&last) => {
            let ready = next_device_earliest(last);
            if now < ready {
                DoseCheck::hard(
                    "DOSE-IN-001",
                    format!("Wait 5 minutes between devices; the next device may be given at {ready}."),
                )
            } else {
                DoseCheck::Ok
            }
        }
        None => DoseCheck::Ok,
    }
}

/// The earliest time the next esketamine device may be used (DOSE-IN-001).
pub fn next_device_earliest(last_device: Timestamp) -> Timestamp {
    add_minutes(last_device, ESKETAMINE_DEVICE_REST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dosing::calc::Diluent;
    use crate::dosing::units::{Kg, Ml};
    use crate::dosing::weight::WeightMeasurement;
    use jiff::civil::Date;

    fn weight(kg: f64) -> DosingWeight {
        DosingWeight::actual(WeightMeasurement {
            weight: Kg::new(kg).unwrap(),
            measured_on: Date::constant(2026, 1, 1),
        })
    }

    fn bag() -> Preparation {
        Preparation {
            stock: MgPerMl::new(50.0).unwrap(),
            dilution: Dilution::ToTotalVolume { diluent: Diluent::SodiumChloride0_9, total: Ml::new(100.0).unwrap() },
        }
    }

    fn iv(mg: f64, kg: f64) -> DoseRequest {
        DoseRequest {
            route: Route::IvInfusion,
            dose: Mg::new(mg).unwrap(),
            weight: Some(weight(kg)),
            setting: Setting::InClinic,
            infusion: Some(Minutes::new(40)),
            preparation: Some(bag()),
            esketamine: None,
        }
    }

    fn level(r: &DoseRequest) -> CheckLevel {
        check_dose(r, &DosingPolicy::default()).level()
    }

    #[test]
    fn iv_warning_boundary_at_0_75_mg_per_kg() {
        // 100 kg makes mg and mg/kg differ by a factor of exactly 100.
        assert_eq!(level(&iv(75.0, 100.0)), CheckLevel::Ok);
        assert_eq!(level(&iv(75.01, 100.0)), CheckLevel::Warning);
        // 52.5 / 70 is 0.75 after floating-point division: still not a warning.
        assert_eq!(level(&iv(52.5, 70.0)), CheckLevel::Ok);
        let review = check_dose(&iv(75.01, 100.0), &DosingPolicy::default());
        assert!(review.cites("DOSE-IV-002"));
        assert_eq!(review.findings.len(), 1);
    }

    #[test]
    fn iv_hard_limit_boundary_at_1_0_mg_per_kg() {
        assert_eq!(level(&iv(100.0, 100.0)), CheckLevel::Warning);
        assert_eq!(level(&iv(100.01, 100.0)), CheckLevel::HardLimit);
        // 0.7 × 3 is not exactly representable; 1.0 mg/kg by division must not trip.
        assert_eq!(level(&iv(70.0, 70.0)), CheckLevel::Warning);
        let review = check_dose(&iv(100.01, 100.0), &DosingPolicy::default());
        // Exactly one finding: the hard limit replaces the warning, no duplicate.
        assert_eq!(review.findings.len(), 1);
        assert!(matches!(review.findings[0], DoseCheck::HardLimit { .. }));
        // The message shows the figure past the limit, without trailing zeros.
        let DoseCheck::HardLimit { message, .. } = &review.findings[0] else { unreachable!() };
        assert!(message.starts_with("1.0001 mg/kg IV"), "{message}");
        let DoseCheck::HardLimit { message, .. } = &check_dose(&iv(120.0, 100.0), &DosingPolicy::default()).findings[0]
        else {
            panic!("a hard limit")
        };
        assert!(message.starts_with("1.2 mg/kg IV"), "{message}");
    }

    #[test]
    fn iv_limits_follow_the_policy() {
        let policy = DosingPolicy {
            iv_warn_above: MgPerKg::new(0.6).unwrap(),
            iv_hard_above: MgPerKg::new(0.8).unwrap(),
            ..DosingPolicy::default()
        };
        assert_eq!(check_dose(&iv(60.0, 100.0), &policy).level(), CheckLevel::Ok);
        assert_eq!(check_dose(&iv(60.01, 100.0), &policy).level(), CheckLevel::Warning);
        assert_eq!(check_dose(&iv(80.01, 100.0), &policy).level(), CheckLevel::HardLimit);
    }

    #[test]
    fn iv_needs_weight_duration_and_safe_preparation() {
        let mut r = iv(50.0, 100.0);
        r.weight = None;
        assert!(check_dose(&r, &DosingPolicy::default()).cites("DOSE-GEN-002"));
        let mut r = iv(50.0, 100.0);
        r.infusion = None;
        assert!(check_dose(&r, &DosingPolicy::default()).cites("DOSE-IV-003"));
        let mut r = iv(50.0, 100.0);
        r.infusion = Some(Minutes::new(39));
        assert_eq!(level(&r), CheckLevel::Warning);
        r.infusion = Some(Minutes::new(40));
        assert_eq!(level(&r), CheckLevel::Ok);
        // DOSE-IV-004: 100 mg/mL undiluted is blocked; equal volume is enough.
        let mut r = iv(50.0, 100.0);
        r.preparation = Some(Preparation { stock: MgPerMl::new(100.0).unwrap(), dilution: Dilution::Undiluted });
        assert!(check_dose(&r, &DosingPolicy::default()).cites("DOSE-IV-004"));
        r.preparation = Some(Preparation {
            stock: MgPerMl::new(100.0).unwrap(),
            dilution: Dilution::EqualVolume(Diluent::Dextrose5),
        });
        assert_eq!(level(&r), CheckLevel::Ok);
        // Made up to exactly twice the drug volume (0.5 mL → 1.0 mL) is equal volume.
        r.preparation = Some(Preparation {
            stock: MgPerMl::new(100.0).unwrap(),
            dilution: Dilution::ToTotalVolume { diluent: Diluent::SterileWater, total: Ml::new(1.0).unwrap() },
        });
        assert_eq!(level(&r), CheckLevel::Ok);
        r.preparation = Some(Preparation {
            stock: MgPerMl::new(100.0).unwrap(),
            dilution: Dilution::ToTotalVolume { diluent: Diluent::SterileWater, total: Ml::new(0.99).unwrap() },
        });
        assert!(check_dose(&r, &DosingPolicy::default()).cites("DOSE-IV-004"));
        // 50 mg/mL may be given undiluted under the label rule.
        r.preparation = Some(Preparation { stock: MgPerMl::new(50.0).unwrap(), dilution: Dilution::Undiluted });
        assert_eq!(level(&r), CheckLevel::Ok);
    }

    fn im(mg: f64) -> DoseRequest {
        DoseRequest {
            route: Route::Intramuscular,
            dose: Mg::new(mg).unwrap(),
            weight: Some(weight(100.0)),
            setting: Setting::InClinic,
            infusion: None,
            preparation: None,
            esketamine: None,
        }
    }

    #[test]
    fn im_anaesthetic_range_is_blocked_and_above_studied_warns() {
        assert_eq!(level(&im(50.0)), CheckLevel::Ok);
        assert_eq!(level(&im(50.01)), CheckLevel::Warning);
        assert_eq!(level(&im(649.99)), CheckLevel::Warning);
        assert_eq!(level(&im(650.0)), CheckLevel::HardLimit);
        assert!(check_dose(&im(650.0), &DosingPolicy::default()).cites("DOSE-IM-004"));
        assert_eq!(check_dose(&im(1300.0), &DosingPolicy::default()).findings.len(), 1);
        // The anaesthetic block is not policy: turning the warning off leaves it.
        let policy = DosingPolicy { im_warn_above: None, ..DosingPolicy::default() };
        assert_eq!(check_dose(&im(300.0), &policy).level(), CheckLevel::Ok);
        assert_eq!(check_dose(&im(650.0), &policy).level(), CheckLevel::HardLimit);
    }

    #[test]
    fn sc_and_oral_limits() {
        let sc = |mg: f64| DoseRequest { route: Route::Subcutaneous, ..im(mg) };
        assert_eq!(level(&sc(90.0)), CheckLevel::Ok);
        assert_eq!(level(&sc(90.01)), CheckLevel::Warning);
        let po = |mg: f64, setting| DoseRequest { route: Route::SublingualOral, weight: None, setting, ..im(mg) };
        assert_eq!(level(&po(300.0, Setting::InClinic)), CheckLevel::Ok);
        assert_eq!(level(&po(300.01, Setting::InClinic)), CheckLevel::Warning);
        assert_eq!(level(&po(50.0, Setting::AtHome)), CheckLevel::HardLimit);
        let home_ok = DosingPolicy { allow_at_home_sublingual_oral: true, ..DosingPolicy::default() };
        assert_eq!(check_dose(&po(50.0, Setting::AtHome), &home_ok).level(), CheckLevel::Ok);
        let inr = DoseRequest { route: Route::IntranasalRacemic, weight: None, setting: Setting::AtHome, ..im(50.0) };
        assert!(check_dose(&inr, &DosingPolicy::default()).cites("DOSE-INR-001"));
    }

    fn spravato(mg: u32, indication: EsketamineIndication, previous: &[u32]) -> DoseRequest {
        DoseRequest {
            route: Route::IntranasalEsketamine,
            dose: Mg::from_whole(mg),
            weight: None,
            setting: Setting::InClinic,
            infusion: None,
            preparation: None,
            esketamine: Some(EsketamineCourse {
                indication,
                previous_doses: previous.iter().map(|&d| Mg::from_whole(d)).collect(),
                days_since_first_dose: 0,
                age_years: Some(40),
            }),
        }
    }

    #[test]
    fn esketamine_device_steps_and_label_rules() {
        use EsketamineIndication::*;
        let lvl = |r: DoseRequest| check_dose(&r, &DosingPolicy::default());
        // DOSE-IN-001: whole devices only, at most 84 mg.
        assert!(lvl(spravato(50, Trd, &[56])).cites("DOSE-IN-001"));
        assert!(lvl(spravato(112, Trd, &[84])).cites("DOSE-IN-001"));
        assert_eq!(lvl(spravato(84, Trd, &[56])).level(), CheckLevel::Ok);
        // DOSE-IN-002: day 1 is 56 mg; 84 only after 56.
        assert_eq!(lvl(spravato(56, Trd, &[])).level(), CheckLevel::Ok);
        let day1_84 = lvl(spravato(84, Trd, &[]));
        assert_eq!(day1_84.level(), CheckLevel::HardLimit);
        assert!(day1_84.cites("DOSE-IN-002"));
        assert_eq!(lvl(spravato(84, Trd, &[28])).level(), CheckLevel::HardLimit);
        assert_eq!(lvl(spravato(84, Trd, &[28, 56])).level(), CheckLevel::Ok);
        assert_eq!(lvl(spravato(28, Trd, &[])).level(), CheckLevel::Warning);
        // MDSI starts at 84; 56 is a tolerability reduction.
        assert_eq!(lvl(spravato(84, Mdsi, &[])).level(), CheckLevel::Ok);
        assert_eq!(lvl(spravato(56, Mdsi, &[84])).level(), CheckLevel::Ok);
        assert_eq!(lvl(spravato(56, Mdsi, &[])).level(), CheckLevel::Warning);
        // Never at home.
        let mut home = spravato(56, Trd, &[]);
        home.setting = Setting::AtHome;
        assert!(lvl(home).cites("DOSE-IN-011"));
        // Without course data the day-1 rule cannot be checked.
        let mut bare = spravato(56, Trd, &[]);
        bare.esketamine = None;
        assert_eq!(lvl(bare).level(), CheckLevel::HardLimit);
    }

    #[test]
    fn esketamine_geriatric_and_mdsi_duration() {
        use EsketamineIndication::*;
        let geri = DosingPolicy { esketamine_geriatric_start_28mg: true, ..DosingPolicy::default() };
        let mut r = spravato(28, Trd, &[]);
        r.esketamine.as_mut().unwrap().age_years = Some(65);
        assert_eq!(check_dose(&r, &geri).level(), CheckLevel::Ok);
        r.esketamine.as_mut().unwrap().age_years = Some(64);
        assert_eq!(check_dose(&r, &geri).level(), CheckLevel::Warning);
        let mut r = spravato(84, Mdsi, &[84]);
        r.esketamine.as_mut().unwrap().days_since_first_dose = 27;
        assert!(check_dose(&r, &DosingPolicy::default()).is_ok());
        r.esketamine.as_mut().unwrap().days_since_first_dose = 28;
        assert!(check_dose(&r, &DosingPolicy::default()).cites("DOSE-IN-006"));
    }

    #[test]
    fn five_minutes_between_devices() {
        let t0: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let t = |s: i64| t0 + jiff::SignedDuration::from_secs(s);
        let dose = Mg::from_whole(84);
        assert_eq!(check_next_device(dose, &[], t0), DoseCheck::Ok);
        assert!(matches!(check_next_device(dose, &[t0], t(299)), DoseCheck::HardLimit { .. }));
        assert_eq!(check_next_device(dose, &[t0], t(300)), DoseCheck::Ok);
        assert_eq!(check_next_device(dose, &[t0, t(300)], t(600)), DoseCheck::Ok);
        assert!(matches!(check_next_device(dose, &[t0, t(300), t(600)], t(900)), DoseCheck::HardLimit { .. }));
        assert_eq!(next_device_earliest(t0), t(300));
    }
}
