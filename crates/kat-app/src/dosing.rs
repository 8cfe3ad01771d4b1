//! Use cases of dosing: the treatment plan (drafted and signed by a prescriber on an
//! accepted, non-stale eligibility decision), the dosing session with its pre-dose gate
//! (§3), administration events (never before the gate is passed), vital signs checked
//! against the alarm policy when saved (§4.3), alarm acknowledgement with the action
//! taken (§4.4), the floor board and the discharge (§4.5).
//!
//! Every threshold comes from the clinic's [`DosingConfig`] (`[dosing]` in `kat.toml`,
//! the spec's values by default); every read and write is audited in the use case's one
//! transaction.

use super::{AppError, AppResult, Ctx, require};
use crate::config::DosingConfig;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::dosing::limits::check_next_device;
use kat_core::dosing::order::{
    PastDose, allowed_steps, check_administration, check_rate, esketamine_course, ordered_rate_ml_per_h,
};
use kat_core::dosing::titration::{DoseAmount, Efficacy, TitrationSuggestion, Tolerability, suggest_next_dose};
use kat_core::dosing::weight::DosingWeight as CoreDosingWeight;
use kat_core::dosing::weight::WeightError;
use kat_core::dosing::{
    CheckLevel, Diluent, Dilution, DoseCheck, DoseRequest, DoseReview, DosingPolicy, EsketamineCourse,
    EsketamineIndication, HeightCm, Kg, LIBRARY, Mg, MgPerKg, MgPerMl, Minutes, Preparation, Route, Setting,
    WeightBasis, WeightMeasurement, WeightPolicy, check_dose, dosing_weight,
};
use kat_core::ids::{AdministrationId, DosingSessionId, PatientId, SessionAlarmId, TreatmentPlanId, UserId, VitalId};
use kat_core::monitoring::adverse::AdverseEventForm;
use kat_core::monitoring::{
    Alarm, Baseline, BloodPressure, DischargeDecision, DischargeInput, GateChecklist, GateDecision, HeartRate,
    InteractionAction, InteractionFinding, Moaas, MonitoringSchedule, Reading, ReadingSource, RespiratoryRate,
    ScheduledCheck, SessionTimes, SpO2, current_values, discharge_decision, evaluate_gate, evaluate_reading,
    interaction_findings,
};
use kat_core::patient::SexAtBirth;
use kat_core::patient::parse_iso_date;
use kat_core::role::Permission;
use kat_store::dosing::dosing_constraints as c;
use kat_store::dosing::{
    AdministrationRecord, AlarmRecord, DoseOrderRecord, DosingSessionRecord, SessionEventRecord, TreatmentPlanRecord,
    VitalRecord,
};
use kat_store::{Store, StoreError, Tx};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use uuid::Uuid;

fn user_id(ctx: &Ctx) -> AppResult<UserId> {
    match &ctx.actor {
        super::Actor::User(u) => Ok(u.id),
        _ => Err(AppError::Forbidden),
    }
}

fn route_str(route: Route) -> String {
    serde_json::to_value(route).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn parse_route(raw: &str) -> Option<Route> {
    serde_json::from_value(serde_json::Value::String(raw.trim().to_string())).ok()
}

fn protocol_key(p: &kat_core::dosing::Protocol) -> String {
    serde_json::to_value(p.id).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

// ---------------------------------------------------------------------------------------
// Treatment plan
// ---------------------------------------------------------------------------------------

/// A treatment plan as typed by the prescriber (form or JSON); every field is text so
/// that each can be reported on its own.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PlanInput {
    pub indication: String,
    /// `iv_infusion`, `intramuscular`, `subcutaneous`, `intranasal_esketamine`,
    /// `intranasal_racemic` or `sublingual_oral`.
    pub route: String,
    /// A protocol of the core library for that route (`iv_single_standard`…).
    pub protocol: String,
    /// The product (for example "Ketamine HCl 50 mg/mL" or "Spravato 28 mg device").
    pub product: String,
    /// Number of sessions in the course (DOSE-GEN-001).
    pub course_sessions: String,
    /// The therapeutic endpoint (DOSE-GEN-001).
    pub endpoint: String,
    /// The periodic face-to-face reassessment (DOSE-GEN-001).
    pub reassessment: String,
    /// What happens after the course (DOSE-IV-009, DOSE-IN-003/004).
    pub maintenance: String,
    /// How the dose is written: `per_kg` or `fixed`.
    pub dose_style: String,
    /// The KAP dose style (PSY-004): `psycholytic` (lower dose, talk therapy during the
    /// session) or `psychedelic` (higher dose, inner experience, therapy before and after).
    pub kap_style: String,
    /// Esketamine only (IND-002): `monotherapy` or `with_oral_antidepressant` (required
    /// for MDSI).
    pub esketamine_regimen: String,
    pub dose_mg_per_kg: String,
    pub dose_mg: String,
    /// Measured body weight (kg) and its date (DOSE-GEN-002).
    pub weight_kg: String,
    pub weight_measured_on: String,
    /// The dosing-weight basis (DOSE-IV-005): `actual`, `ideal` or `adjusted`; empty:
    /// the clinic's `[dosing.weight] obese_basis`. Ideal and adjusted are refused unless
    /// the clinic has configured a formula (and, for adjusted, a factor); they apply
    /// only above the clinic's BMI threshold and never raise the weight.
    pub weight_basis: String,
    /// Height in cm, for BMI and the ideal-weight formula (sex at birth is taken from
    /// the patient's record).
    pub height_cm: String,
    /// Stock concentration (mg/mL), for volume and pump rate (DOSE-IV-004).
    pub concentration_mg_per_ml: String,
    /// IV infusion minutes (DOSE-IV-001: 40).
    pub infusion_minutes: String,
    pub first_session: String,
    /// Days between sessions, 1 to 90: the prescriber's fixed interval. Empty: the dates
    /// come from the protocol's phases (n a week spread over each week: twice weekly on
    /// days 0 and 3, three times on days 0, 2 and 4; capped at the protocol's maximum),
    /// refused for a protocol without a fixed frequency (individualised).
    pub interval_days: String,
    /// Dates adjusted by staff, comma-separated; replaces the generated schedule.
    pub schedule: String,
    /// Required when the dose check warns (DOSE-IV-002 and others).
    pub warning_reason: String,
    /// Required, from a medical director, when the dose passes a hard limit.
    pub override_reason: String,
}

/// The calculated dose, shown to whoever signs or administers (DOSE-GEN-002, DOSE-IV-004).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DoseFigures {
    pub mg: f64,
    pub mg_per_kg: Option<f64>,
    /// The dosing weight the mg/kg figure multiplies.
    pub weight_kg: Option<f64>,
    /// The basis that gave `weight_kg` (DOSE-IV-005).
    pub weight_basis: Option<String>,
    pub weight_measured_on: Option<String>,
    /// The basis the prescriber chose (or the clinic default); differs from
    /// `weight_basis` when it did not apply (BMI not above the threshold, or the ideal
    /// weight not below the actual one).
    #[serde(default)]
    pub weight_basis_chosen: Option<String>,
    /// The measured weight, whatever the basis (DOSE-GEN-002).
    #[serde(default)]
    pub measured_weight_kg: Option<f64>,
    #[serde(default)]
    pub height_cm: Option<f64>,
    #[serde(default)]
    pub bmi: Option<f64>,
    pub concentration_mg_per_ml: Option<f64>,
    /// Volume of stock drawn up.
    pub stock_ml: Option<f64>,
    /// IV: diluted with an equal volume (DOSE-IV-004, 100 mg/mL never undiluted).
    pub diluted_ml: Option<f64>,
    pub infusion_minutes: Option<u32>,
    /// IV pump rate of the diluted volume.
    pub rate_ml_per_h: Option<f64>,
}

/// The stored plan (`treatment_plans.content`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanContent {
    pub indication: String,
    #[schema(value_type = String)]
    pub route: Route,
    pub protocol: String,
    pub protocol_name: String,
    pub product: String,
    pub course_sessions: u32,
    pub endpoint: String,
    pub reassessment: String,
    pub maintenance: String,
    pub dose_style: String,
    /// PSY-004: `psycholytic` or `psychedelic` (absent on plans made before it was asked).
    #[serde(default)]
    pub kap_style: Option<String>,
    /// Esketamine (IND-002): `monotherapy` or `with_oral_antidepressant`.
    #[serde(default)]
    pub esketamine_regimen: Option<String>,
    pub dose: DoseFigures,
    /// The dose check's findings (rule and message) at planning time.
    #[schema(value_type = Vec<Object>)]
    pub dose_findings: Vec<serde_json::Value>,
    pub dose_level: String,
    pub warning_reason: Option<String>,
    pub override_reason: Option<String>,
    #[schema(value_type = Option<String>)]
    pub override_by: Option<UserId>,
    /// Planned session dates (ISO), generated then adjustable.
    pub schedule: Vec<String>,
}

/// A plan with its signature state.
#[derive(Debug, Clone)]
pub struct PlanView {
    pub record: TreatmentPlanRecord,
    pub content: PlanContent,
}

impl PlanView {
    fn from_record(record: TreatmentPlanRecord) -> AppResult<Self> {
        let content = serde_json::from_str(&record.content).map_err(internal)?;
        Ok(Self { record, content })
    }
    pub fn signed(&self) -> bool {
        self.record.signed_at.is_some()
    }
}

fn opt(raw: &str) -> Option<&str> {
    let t = raw.trim();
    (!t.is_empty()).then_some(t)
}

/// Parses the plan and judges its dose against the clinic's dosing policy.
/// `is_medical_director` decides whether a hard limit may be overridden.
pub fn parse_plan(
    input: &PlanInput,
    today: Date,
    is_medical_director: bool,
    by: UserId,
    policy: &DosingPolicy,
    sex: SexAtBirth,
) -> Result<PlanContent, FieldErrors> {
    let mut e = FieldErrors::default();
    let indication = input.indication.trim().to_string();
    if indication.is_empty() {
        e.add("indication", "is required (DOSE-GEN-001)");
    }
    let route = parse_route(&input.route);
    if route.is_none() {
        e.add("route", "choose a route");
    }
    let protocol = LIBRARY.iter().find(|p| protocol_key(p) == input.protocol.trim());
    match (protocol, route) {
        (None, _) => e.add("protocol", "choose a protocol from the library"),
        (Some(p), Some(r)) if p.route != r => e.add("protocol", "this protocol is for another route"),
        _ => {}
    }
    for (name, value, why) in [
        ("endpoint", &input.endpoint, "is required (DOSE-GEN-001)"),
        ("reassessment", &input.reassessment, "is required (DOSE-GEN-001)"),
        ("product", &input.product, "is required (DOSE-GEN-002)"),
    ] {
        if value.trim().is_empty() {
            e.add(name, why);
        }
    }
    let course_sessions = match input.course_sessions.trim().parse::<u32>() {
        Ok(n) if (1..=60).contains(&n) => n,
        _ => {
            e.add("course_sessions", "a whole number of sessions, 1 to 60 (DOSE-GEN-001)");
            0
        }
    };
    let basis = parse_weight_basis(&input.weight_basis, &policy.weight, &mut e);
    let height = field(&mut e, "height_cm", &input.height_cm, HeightCm::parse);
    let measured = match opt(&input.weight_kg) {
        None => None,
        Some(raw) => match Kg::parse(raw) {
            Ok(kg) => match opt(&input.weight_measured_on).and_then(parse_iso_date) {
                Some(on) if on > today => {
                    e.add("weight_measured_on", "cannot be in the future (DOSE-GEN-002)");
                    None
                }
                Some(on) => Some(WeightMeasurement { weight: kg, measured_on: on }),
                None => {
                    e.add("weight_measured_on", "the date of the weight (YYYY-MM-DD; DOSE-GEN-002)");
                    None
                }
            },
            Err(err) => {
                e.add("weight_kg", err.0);
                None
            }
        },
    };
    // DOSE-IV-005: the dosing weight under the chosen basis, from the core; a basis the
    // clinic has not configured was refused above and is not computed.
    let weight = match (measured, basis) {
        (Some(m), Some(basis)) if e.for_field("height_cm").is_none() => {
            match dosing_weight(m, height, sex, &WeightPolicy { obese_basis: basis, ..policy.weight }) {
                Ok(w) => Some(w),
                Err(err) => {
                    let field = match err {
                        WeightError::HeightNeeded(_) => "height_cm",
                        WeightError::Impossible(_) => "weight_kg",
                        _ => "weight_basis",
                    };
                    let text = match err {
                        WeightError::SexNeeded => {
                            format!("{err} (the patient's record says otherwise); use actual weight")
                        }
                        other => other.to_string(),
                    };
                    e.add(field, text);
                    None
                }
            }
        }
        _ => None,
    };
    // PSY-004: the two KAP dose styles a clinic supports.
    let kap_style = match input.kap_style.trim() {
        k @ ("psycholytic" | "psychedelic") => Some(k.to_string()),
        "" => {
            e.add("kap_style", "psycholytic or psychedelic (PSY-004)");
            None
        }
        _ => {
            e.add("kap_style", "psycholytic or psychedelic (PSY-004)");
            None
        }
    };
    // IND-002: Spravato for TRD alone or with an oral antidepressant; for MDSI only with one.
    let esketamine_regimen = match (route, input.esketamine_regimen.trim()) {
        (Some(r), raw) if r.is_esketamine() => match raw {
            "with_oral_antidepressant" => Some(raw.to_string()),
            "monotherapy" if protocol.is_some_and(|p| protocol_key(p) == "spravato_mdsi") => {
                e.add("esketamine_regimen", "for MDSI esketamine is given with an oral antidepressant (IND-002)");
                None
            }
            "monotherapy" => Some(raw.to_string()),
            _ => {
                e.add("esketamine_regimen", "monotherapy or with_oral_antidepressant (IND-002)");
                None
            }
        },
        _ => None,
    };
    let dose_style = input.dose_style.trim().to_string();
    if route.is_some_and(|r| r.is_esketamine()) && dose_style == "per_kg" {
        // DOSE-IN-001: esketamine comes in 28 mg devices, never per kg.
        e.add("dose_style", "esketamine is dosed in 28 mg devices: choose fixed (DOSE-IN-001)");
    }
    let mg = match dose_style.as_str() {
        "per_kg" => match MgPerKg::parse(&input.dose_mg_per_kg) {
            Ok(per_kg) => match weight {
                Some(w) => Some(per_kg.value() * w.kg.value()),
                None => {
                    // Said once: a weight field already in error explains the gap.
                    if ["weight_kg", "weight_measured_on", "weight_basis", "height_cm"]
                        .iter()
                        .all(|f| e.for_field(f).is_none())
                    {
                        e.add("weight_kg", "a weight-based dose needs the weight");
                    }
                    None
                }
            },
            Err(err) => {
                e.add("dose_mg_per_kg", err.0);
                None
            }
        },
        "fixed" => match Mg::parse(&input.dose_mg) {
            Ok(mg) => Some(mg.value()),
            Err(err) => {
                e.add("dose_mg", err.0);
                None
            }
        },
        _ => {
            e.add("dose_style", "per_kg or fixed");
            None
        }
    };
    let concentration = field(&mut e, "concentration_mg_per_ml", &input.concentration_mg_per_ml, MgPerMl::parse);
    let infusion = match opt(&input.infusion_minutes) {
        None => None,
        Some(raw) => match Minutes::parse(raw) {
            Ok(m) if m.get() > 0 => Some(m),
            _ => {
                e.add("infusion_minutes", "whole minutes above 0");
                None
            }
        },
    };
    if route == Some(Route::IvInfusion) {
        if infusion.is_none() && e.for_field("infusion_minutes").is_none() {
            e.add("infusion_minutes", "an IV infusion needs its duration (DOSE-IV-001: 40 minutes)");
        }
        if concentration.is_none() && e.for_field("concentration_mg_per_ml").is_none() {
            e.add("concentration_mg_per_ml", "an IV infusion needs the stock concentration (DOSE-IV-004)");
        }
    }
    // Empty `interval_days`: the dates come from the protocol's phases; given, it is the
    // prescriber's fixed interval instead; an explicit `schedule` replaces both.
    let interval_given = opt(&input.interval_days);
    let interval = interval_given.and_then(|raw| raw.parse::<i64>().ok()).filter(|d| (1..=90).contains(d));
    let schedule: Vec<String> = if let Some(raw) = opt(&input.schedule) {
        let mut dates = Vec::new();
        for part in raw.split([',', '\n', ' ']).filter(|p| !p.trim().is_empty()) {
            match parse_iso_date(part.trim()) {
                Some(d) => dates.push(d),
                None => {
                    e.add("schedule", format!("`{}` is not a date (YYYY-MM-DD)", part.trim()));
                    break;
                }
            }
        }
        dates.sort();
        dates.iter().map(|d| d.to_string()).collect()
    } else {
        match (opt(&input.first_session).and_then(parse_iso_date), interval_given, interval) {
            (None, _, _) => {
                e.add("first_session", "the first session date (YYYY-MM-DD)");
                Vec::new()
            }
            (Some(first), Some(_), Some(days)) if course_sessions > 0 => (0..course_sessions)
                .filter_map(|i| first.checked_add(jiff::Span::new().days(days * i64::from(i))).ok())
                .map(|d| d.to_string())
                .collect(),
            (Some(_), Some(_), None) => {
                e.add("interval_days", "days between sessions, 1 to 90; empty: from the protocol's phases");
                Vec::new()
            }
            // From the protocol's phases (a scheduling convention of the core); an
            // unknown protocol or course length was reported above.
            (Some(first), None, _) => match protocol {
                Some(p) if course_sessions > 0 => {
                    match kat_core::dosing::plan_schedule::plan_dates(p, first, course_sessions) {
                        Ok(dates) if dates.len() == course_sessions as usize => {
                            dates.iter().map(|d| d.to_string()).collect()
                        }
                        Ok(dates) => {
                            e.add(
                            "course_sessions",
                            format!(
                                "this protocol plans at most {} sessions; lower it, or give the days between sessions or the dates",
                                dates.len()
                            ),
                        );
                            Vec::new()
                        }
                        Err(err) => {
                            e.add("interval_days", err.to_string());
                            Vec::new()
                        }
                    }
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    };
    if schedule.first().and_then(|d| parse_iso_date(d)).is_some_and(|d| d < today) {
        e.add("first_session", "the first session cannot be in the past");
    }
    if !e.is_empty() {
        return Err(e);
    }
    let (route, protocol, mg) = (route.expect("checked"), protocol.expect("checked"), mg.expect("checked"));
    let dose_mg = Mg::new(mg).map_err(|err| {
        let mut e = FieldErrors::default();
        e.add("dose_mg", err.0);
        e
    })?;
    let request = DoseRequest {
        route,
        dose: dose_mg,
        weight,
        setting: Setting::InClinic,
        infusion,
        // IV: diluted with an equal volume of 0.9% NaCl (DOSE-IV-004), the dilution the
        // volumes below are computed for.
        preparation: concentration.map(|stock| Preparation {
            stock,
            dilution: if route == Route::IvInfusion {
                Dilution::EqualVolume(Diluent::SodiumChloride0_9)
            } else {
                Dilution::Undiluted
            },
        }),
        esketamine: route.is_esketamine().then(|| EsketamineCourse {
            indication: if protocol_key(protocol) == "spravato_mdsi" {
                EsketamineIndication::Mdsi
            } else {
                EsketamineIndication::Trd
            },
            previous_doses: Vec::new(),
            days_since_first_dose: 0,
            age_years: None,
        }),
    };
    let review: DoseReview = check_dose(&request, policy);
    let level = review.level();
    let warning_reason = opt(&input.warning_reason).map(String::from);
    let override_reason = opt(&input.override_reason).map(String::from);
    let mut e = FieldErrors::default();
    require_dose_reasons(&mut e, &review, warning_reason.is_some(), override_reason.is_some(), is_medical_director);
    if !e.is_empty() {
        return Err(e);
    }
    let stock_ml = concentration.map(|c| mg / c.value());
    let diluted_ml = if route == Route::IvInfusion { stock_ml.map(|v| v * 2.0) } else { None };
    let rate = match (diluted_ml, infusion) {
        (Some(v), Some(m)) => Some(v / (f64::from(m.get()) / 60.0)),
        _ => None,
    };
    let round = |v: f64| (v * 100.0).round() / 100.0;
    Ok(PlanContent {
        indication,
        route,
        protocol: protocol_key(protocol),
        protocol_name: protocol.name.to_string(),
        product: input.product.trim().to_string(),
        course_sessions,
        endpoint: input.endpoint.trim().to_string(),
        reassessment: input.reassessment.trim().to_string(),
        maintenance: input.maintenance.trim().to_string(),
        dose_style,
        kap_style,
        esketamine_regimen,
        dose: DoseFigures {
            mg: round(mg),
            mg_per_kg: weight.map(|w| round(mg / w.kg.value() * 100.0) / 100.0),
            weight_kg: weight.map(|w| round(w.kg.value())),
            weight_basis: weight.map(|w| basis_key(w.basis)),
            weight_measured_on: weight.map(|w| w.measured.measured_on.to_string()),
            weight_basis_chosen: weight.and(basis).map(basis_key),
            measured_weight_kg: weight.map(|w| w.measured.weight.value()),
            height_cm: height.map(HeightCm::value),
            bmi: weight.and_then(|w| w.bmi).map(|b| (b * 10.0).round() / 10.0),
            concentration_mg_per_ml: concentration.map(|c| c.value()),
            stock_ml: stock_ml.map(round),
            diluted_ml: diluted_ml.map(round),
            infusion_minutes: infusion.map(|m| m.get()),
            rate_ml_per_h: rate.map(round),
        },
        dose_findings: review.findings.iter().filter_map(|f| serde_json::to_value(f).ok()).collect(),
        dose_level: match level {
            CheckLevel::Ok => "ok",
            CheckLevel::Warning => "warning",
            CheckLevel::HardLimit => "hard_limit",
        }
        .into(),
        warning_reason: if level >= CheckLevel::Warning { warning_reason } else { None },
        override_reason: if level == CheckLevel::HardLimit { override_reason } else { None },
        override_by: (level == CheckLevel::HardLimit).then_some(by),
        schedule,
    })
}

/// `actual`, `ideal` or `adjusted`.
fn basis_key(basis: WeightBasis) -> String {
    serde_json::to_value(basis).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// The bases the clinic's policy makes available (DOSE-IV-005): actual always; ideal
/// once a formula is configured; adjusted once a factor is configured too.
pub fn available_weight_bases(policy: &WeightPolicy) -> Vec<WeightBasis> {
    let mut out = vec![WeightBasis::Actual];
    if policy.ideal_formula.is_some() {
        out.push(WeightBasis::Ideal);
        if policy.adjusted_factor.is_some() {
            out.push(WeightBasis::Adjusted);
        }
    }
    out
}

/// The chosen basis, or the clinic's default when empty; `None` (with a field error)
/// when it is unknown or the clinic has not configured what it needs (DOSE-IV-005).
fn parse_weight_basis(raw: &str, policy: &WeightPolicy, e: &mut FieldErrors) -> Option<WeightBasis> {
    let basis = match opt(raw) {
        None => policy.obese_basis,
        Some(raw) => match serde_json::from_value::<WeightBasis>(serde_json::Value::String(raw.to_string())) {
            Ok(b) => b,
            Err(_) => {
                e.add("weight_basis", "actual, ideal or adjusted (DOSE-IV-005)");
                return None;
            }
        },
    };
    match basis {
        WeightBasis::Ideal | WeightBasis::Adjusted if policy.ideal_formula.is_none() => {
            e.add(
                "weight_basis",
                format!(
                    "{} weight is not available: the clinic has not configured an ideal-weight formula ([dosing.weight] ideal_formula; DOSE-IV-005 gives none). Use actual weight",
                    if basis == WeightBasis::Ideal { "ideal" } else { "adjusted" }
                ),
            );
            None
        }
        WeightBasis::Adjusted if policy.adjusted_factor.is_none() => {
            e.add(
                "weight_basis",
                "adjusted weight is not available: the clinic has not configured an adjustment factor ([dosing.weight] adjusted_factor; DOSE-IV-005 gives none)",
            );
            None
        }
        b => Some(b),
    }
}

/// A dose check that warns needs a reason; one past a hard limit needs a medical
/// director's override with its reason (plans and session orders alike).
fn require_dose_reasons(
    e: &mut FieldErrors,
    review: &DoseReview,
    has_warning_reason: bool,
    has_override_reason: bool,
    is_medical_director: bool,
) {
    let level = review.level();
    // Past a hard limit the override (with its reason) is what is asked, not a warning reason.
    if level == CheckLevel::Warning && !has_warning_reason {
        e.add("warning_reason", format!("the dose check warns ({}); give the reason to proceed", rules_of(review)));
    }
    if level == CheckLevel::HardLimit {
        if !is_medical_director {
            e.add(
                "override_reason",
                format!("the dose passes a hard limit ({}); only a medical director may override", rules_of(review)),
            );
        } else if !has_override_reason {
            e.add(
                "override_reason",
                format!("the dose passes a hard limit ({}); give the override reason", rules_of(review)),
            );
        }
    }
}

fn rules_of(review: &DoseReview) -> String {
    review
        .findings
        .iter()
        .filter_map(|f| match f {
            DoseCheck::Ok => None,
            DoseCheck::Warning { rule, message } | DoseCheck::HardLimit { rule, message } => {
                Some(format!("{}: {}", rule.as_str(), message))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The accepted, non-stale eligibility decision a plan needs, or a conflict saying why not.
async fn accepted_decision(tx: &mut Box<dyn Tx>, patient: PatientId) -> AppResult<Uuid> {
    match tx.latest_decision(patient).await? {
        Some(d) if d.decision == "accept" && !d.stale => Ok(d.id),
        Some(d) if d.stale => Err(AppError::Conflict(
            "the eligibility decision is stale (the intake or policy changed); a prescriber must sign it again".into(),
        )),
        Some(_) => Err(AppError::Conflict("the eligibility decision is to decline; no treatment plan".into())),
        None => {
            Err(AppError::Conflict("no signed eligibility decision; a prescriber must accept the patient first".into()))
        }
    }
}

/// Drafts a treatment plan (prescribers).
pub async fn create_plan(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    patient: PatientId,
    input: &PlanInput,
) -> AppResult<PlanView> {
    require(store, ctx, Permission::TreatmentPlanWrite, "treatment_plan", None, Some(patient), AuditAction::Create)
        .await?;
    let by = user_id(ctx)?;
    let mut tx = store.begin().await?;
    let sex = tx.patient_by_id(patient).await?.ok_or(AppError::NotFound("patient"))?.demographics.sex_at_birth;
    let decision_id = accepted_decision(&mut tx, patient).await?;
    let is_md = tx.is_medical_director(by).await?;
    let content = parse_plan(input, ctx.today, is_md, by, &config.policy, sex)?;
    let record = TreatmentPlanRecord {
        id: TreatmentPlanId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        decision_id,
        content: serde_json::to_string(&content).map_err(internal)?,
        created_by: by,
        created_at: ctx.now,
        signed_by: None,
        signed_at: None,
    };
    tx.insert_treatment_plan(&record).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "treatment_plan",
        Some(record.id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(PlanView { record, content })
}

/// Signs a plan (prescribers). The eligibility decision must still be accepted and not
/// stale at signing.
pub async fn sign_plan(store: &dyn Store, ctx: &Ctx, patient: PatientId, plan: TreatmentPlanId) -> AppResult<PlanView> {
    require(
        store,
        ctx,
        Permission::TreatmentPlanSign,
        "treatment_plan",
        Some(plan.to_string()),
        Some(patient),
        AuditAction::Update,
    )
    .await?;
    let by = user_id(ctx)?;
    let mut tx = store.begin().await?;
    let record = tx
        .treatment_plan_by_id(plan)
        .await?
        .filter(|p| p.patient_id == patient)
        .ok_or(AppError::NotFound("treatment plan"))?;
    if record.signed_at.is_some() {
        return Err(AppError::Conflict("this plan is already signed".into()));
    }
    accepted_decision(&mut tx, patient).await?;
    tx.sign_treatment_plan(plan, by, ctx.now).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "treatment_plan",
        Some(plan.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    let record = tx.treatment_plan_by_id(plan).await?.ok_or(AppError::NotFound("treatment plan"))?;
    tx.commit().await?;
    PlanView::from_record(record)
}

/// A patient's plans (audited read).
pub async fn plans(store: &dyn Store, ctx: &Ctx, patient: PatientId) -> AppResult<Vec<PlanView>> {
    require(store, ctx, Permission::DosingSessionRead, "treatment_plan", None, Some(patient), AuditAction::Read)
        .await?;
    let mut tx = store.begin().await?;
    let plans = tx.treatment_plans_for_patient(patient).await?;
    tx.append_audit(&ctx.audit(AuditAction::Read, "treatment_plan", None, Some(patient), AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    plans.into_iter().map(PlanView::from_record).collect()
}

/// What a session's administrations gave, in mg (the `dose_mg` of each dose, device and
/// infusion start).
fn given_mg(administrations: &[AdministrationRecord]) -> f64 {
    administrations
        .iter()
        .filter_map(|a| serde_json::from_str::<AdministrationInput>(&a.content).ok())
        .filter(|i| matches!(i.kind.as_str(), "dose" | "device" | "infusion_start"))
        .filter_map(|i| i.dose_mg.trim().parse::<f64>().ok())
        // A fold from +0: an empty f64 `sum` is -0, which would show as "-0 mg".
        .fold(0.0, |a, b| a + b)
}

/// A prescriber's dose for one session, as typed (titration from the previous dose).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DoseOrderInput {
    /// The dose: mg/kg when the plan doses per kg, else mg.
    pub dose: String,
    /// How the previous dose was tolerated: `tolerated` or `poorly_tolerated`.
    pub tolerability: String,
    /// How well the previous dose worked: `adequate` or `inadequate`.
    pub efficacy: String,
    /// Why this dose (required when it differs from the plan's).
    pub reason: String,
    /// Required when the dose check warns.
    pub warning_reason: String,
    /// Required, from a medical director, above a hard limit.
    pub override_reason: String,
}

/// The previous dose of the course, as the order saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreviousDose {
    pub on: String,
    pub mg: f64,
}

/// A stored dose order (`session_dose_orders.content`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DoseOrder {
    pub mg: f64,
    pub mg_per_kg: Option<f64>,
    /// The plan's dosing weight the mg/kg multiplies.
    pub weight_kg: Option<f64>,
    /// The plan's dose, for comparison.
    pub plan_mg: f64,
    pub previous: Option<PreviousDose>,
    pub tolerability: Option<String>,
    pub efficacy: Option<String>,
    /// The core's titration suggestion (rule, action, dose, rationale), when the
    /// previous dose was judged.
    #[schema(value_type = Option<Object>)]
    pub suggestion: Option<serde_json::Value>,
    pub reason: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<serde_json::Value>,
    pub level: String,
    pub warning_reason: Option<String>,
    pub override_reason: Option<String>,
    #[schema(value_type = Option<String>)]
    pub override_by: Option<UserId>,
}

/// The patient's earlier sessions on the same route that gave a dose, oldest first, with
/// what each gave (the course so far, for DOSE-IN-002 and titration).
async fn past_doses(
    tx: &mut Box<dyn Tx>,
    s: &DosingSessionRecord,
    tz: &jiff::tz::TimeZone,
) -> AppResult<Vec<PastDose>> {
    let mut out = Vec::new();
    for other in tx.dosing_sessions_for_patient(s.patient_id).await? {
        if other.id == s.id || other.route != s.route || other.opened_at >= s.opened_at {
            continue;
        }
        let given = given_mg(&tx.administrations_for_session(other.id).await?);
        if given > 0.0 {
            out.push(PastDose {
                on: other.opened_at.to_zoned(tz.clone()).date(),
                given: Mg::new(given).map_err(|e| internal(e.0))?,
            });
        }
    }
    out.sort_by_key(|p| p.on);
    Ok(out)
}

/// What the order form shows before anything is typed: the previous dose of the course
/// and, once tolerability and efficacy are given, the core's suggestion.
#[derive(Debug, Clone)]
pub struct OrderContext {
    pub previous: Option<PreviousDose>,
    pub suggestion: Option<TitrationSuggestion>,
}

fn parse_judgement(e: &mut FieldErrors, input: &DoseOrderInput) -> (Option<Tolerability>, Option<Efficacy>) {
    let tolerability = match input.tolerability.trim() {
        "" => None,
        "tolerated" => Some(Tolerability::Tolerated),
        "poorly_tolerated" => Some(Tolerability::PoorlyTolerated),
        _ => {
            e.add("tolerability", "tolerated or poorly_tolerated");
            None
        }
    };
    let efficacy = match input.efficacy.trim() {
        "" => None,
        "adequate" => Some(Efficacy::Adequate),
        "inadequate" => Some(Efficacy::Inadequate),
        _ => {
            e.add("efficacy", "adequate or inadequate");
            None
        }
    };
    (tolerability, efficacy)
}

fn suggestion_for(
    plan: &PlanContent,
    previous: &PastDose,
    tolerability: Tolerability,
    efficacy: Efficacy,
    policy: &DosingPolicy,
) -> Option<TitrationSuggestion> {
    let protocol = LIBRARY.iter().find(|p| protocol_key(p) == plan.protocol)?;
    let amount = match (plan.dose_style.as_str(), plan.dose.weight_kg) {
        ("per_kg", Some(kg)) => DoseAmount::PerKg(MgPerKg::new(previous.given.value() / kg).ok()?),
        _ => DoseAmount::Mg(previous.given),
    };
    Some(suggest_next_dose(protocol, amount, tolerability, efficacy, policy))
}

/// The previous dose of the course and the titration suggestion for `input`'s judgement.
pub async fn order_context(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    tz: &jiff::tz::TimeZone,
    session: DosingSessionId,
    input: &DoseOrderInput,
) -> AppResult<OrderContext> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    let mut tx = store.begin().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    let mut e = FieldErrors::default();
    let (tolerability, efficacy) = parse_judgement(&mut e, input);
    order_context_in(&mut tx, config, tz, &s, tolerability, efficacy).await
}

async fn order_context_in(
    tx: &mut Box<dyn Tx>,
    config: &DosingConfig,
    tz: &jiff::tz::TimeZone,
    s: &DosingSessionRecord,
    tolerability: Option<Tolerability>,
    efficacy: Option<Efficacy>,
) -> AppResult<OrderContext> {
    let plan = tx.treatment_plan_by_id(s.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
    let past = past_doses(tx, s, tz).await?;
    let last = past.last().copied();
    let suggestion = match (last, tolerability, efficacy) {
        (Some(prev), Some(t), Some(ef)) => suggestion_for(&plan, &prev, t, ef, &config.policy),
        _ => None,
    };
    Ok(OrderContext { previous: last.map(|p| PreviousDose { on: p.on.to_string(), mg: p.given.value() }), suggestion })
}

/// A prescriber orders this session's dose (titration: DOSE-IV-010, DOSE-IN-002,
/// DOSE-PO-002): checked against the route limits with the course so far (84 mg of
/// esketamine only after 56 mg), a warning needs a reason and a hard limit a medical
/// director's override, as for the plan. Only before dosing starts (use case, store and
/// trigger). Administrations are then checked against it.
pub async fn order_dose(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    tz: &jiff::tz::TimeZone,
    session: DosingSessionId,
    input: &DoseOrderInput,
) -> AppResult<DoseOrder> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::TreatmentPlanWrite,
        "dose_order",
        Some(session.to_string()),
        AuditAction::Create,
    )
    .await?;
    let by = user_id(ctx)?;
    let mut tx = store.begin().await?;
    if s.discharged_at.is_some() || !tx.administrations_for_session(session).await?.is_empty() {
        return Err(AppError::Conflict(
            "dosing has started (or the session is discharged): a dose order is for a dose not yet given".into(),
        ));
    }
    let is_medical_director = tx.is_medical_director(by).await?;
    let plan = tx.treatment_plan_by_id(s.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
    let past = past_doses(&mut tx, &s, tz).await?;
    let mut e = FieldErrors::default();
    let (tolerability, efficacy) = parse_judgement(&mut e, input);
    let last = past.last().copied();
    if last.is_some() && (tolerability.is_none() || efficacy.is_none()) && e.is_empty() {
        // Titration starts from how the previous dose went (DOSE-IN-002).
        if tolerability.is_none() {
            e.add(
                "tolerability",
                "how the previous dose was tolerated (DOSE-IN-002: change doses on efficacy and tolerability)",
            );
        }
        if efficacy.is_none() {
            e.add("efficacy", "how well the previous dose worked (DOSE-IN-002)");
        }
    }
    let per_kg = plan.dose_style == "per_kg";
    let weight = plan.dose.weight_kg;
    let mg = match input.dose.trim() {
        "" => {
            e.add("dose", if per_kg { "the dose in mg/kg" } else { "the dose in mg" });
            None
        }
        raw if per_kg => match (MgPerKg::parse(raw), weight) {
            (Ok(v), Some(kg)) => Some(v.value() * kg),
            (Err(err), _) => {
                e.add("dose", err.0);
                None
            }
            (Ok(_), None) => {
                e.add("dose", "the plan has no dosing weight");
                None
            }
        },
        raw => match Mg::parse(raw) {
            Ok(v) => Some(v.value()),
            Err(err) => {
                e.add("dose", err.0);
                None
            }
        },
    };
    let reason = opt(&input.reason).map(String::from);
    if let Some(mg) = mg
        && (mg - plan.dose.mg).abs() > 1e-6
        && reason.is_none()
    {
        e.add(
            "reason",
            format!("the dose differs from the plan's {} mg: give the reason (titration, DOSE-IV-010)", plan.dose.mg),
        );
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let mg = mg.expect("checked");
    let dose = Mg::new(mg).map_err(|err| AppError::from(FieldErrors::single("dose", &err.0)))?;
    let route = plan.route;
    let dosing_weight = match (
        weight,
        plan.dose.measured_weight_kg.or(weight),
        plan.dose.weight_measured_on.as_deref().and_then(parse_iso_date),
    ) {
        (Some(kg), Some(measured), Some(on)) => Some(CoreDosingWeight {
            kg: Kg::new(kg).map_err(|e| internal(e.0))?,
            // The basis the plan used (DOSE-IV-005): the order multiplies the same weight.
            basis: match plan.dose.weight_basis.as_deref() {
                Some("ideal") => WeightBasis::Ideal,
                Some("adjusted") => WeightBasis::Adjusted,
                _ => WeightBasis::Actual,
            },
            measured: WeightMeasurement { weight: Kg::new(measured).map_err(|e| internal(e.0))?, measured_on: on },
            bmi: plan.dose.bmi,
        }),
        _ => None,
    };
    let protocol = LIBRARY.iter().find(|p| protocol_key(p) == plan.protocol);
    let request = DoseRequest {
        route,
        dose,
        weight: dosing_weight,
        setting: Setting::InClinic,
        infusion: plan.dose.infusion_minutes.map(Minutes::new),
        // The plan's stock and dilution (DOSE-IV-004), as for the plan's own check.
        preparation: plan.dose.concentration_mg_per_ml.and_then(|c| MgPerMl::new(c).ok()).map(|stock| Preparation {
            stock,
            dilution: if route == Route::IvInfusion {
                Dilution::EqualVolume(Diluent::SodiumChloride0_9)
            } else {
                Dilution::Undiluted
            },
        }),
        esketamine: route.is_esketamine().then(|| {
            let indication = if protocol.is_some_and(|p| protocol_key(p) == "spravato_mdsi") {
                EsketamineIndication::Mdsi
            } else {
                EsketamineIndication::Trd
            };
            esketamine_course(indication, &past, ctx.today, None)
        }),
    };
    let review = check_dose(&request, &config.policy);
    let level = review.level();
    let warning_reason = opt(&input.warning_reason).map(String::from);
    let override_reason = opt(&input.override_reason).map(String::from);
    require_dose_reasons(&mut e, &review, warning_reason.is_some(), override_reason.is_some(), is_medical_director);
    if !e.is_empty() {
        return Err(e.into());
    }
    let suggestion = match (last, tolerability, efficacy) {
        (Some(prev), Some(t), Some(ef)) => suggestion_for(&plan, &prev, t, ef, &config.policy),
        _ => None,
    };
    let round = |v: f64| (v * 100.0).round() / 100.0;
    let order = DoseOrder {
        mg: round(mg),
        mg_per_kg: weight.map(|kg| round(mg / kg * 100.0) / 100.0),
        weight_kg: weight,
        plan_mg: plan.dose.mg,
        previous: last.map(|p| PreviousDose { on: p.on.to_string(), mg: p.given.value() }),
        tolerability: opt(&input.tolerability).map(String::from),
        efficacy: opt(&input.efficacy).map(String::from),
        suggestion: suggestion.as_ref().and_then(|s| serde_json::to_value(s).ok()),
        reason,
        findings: review.findings.iter().filter_map(|f| serde_json::to_value(f).ok()).collect(),
        level: match level {
            CheckLevel::Ok => "ok",
            CheckLevel::Warning => "warning",
            CheckLevel::HardLimit => "hard_limit",
        }
        .into(),
        warning_reason: if level >= CheckLevel::Warning { warning_reason } else { None },
        override_reason: if level == CheckLevel::HardLimit { override_reason } else { None },
        override_by: (level == CheckLevel::HardLimit).then_some(by),
    };
    let record = DoseOrderRecord {
        id: Uuid::now_v7(),
        session_id: session,
        content: serde_json::to_string(&order).map_err(internal)?,
        ordered_by: by,
        ordered_at: ctx.now,
    };
    tx.insert_dose_order(&record).await.map_err(|err| match err {
        StoreError::Conflict { constraint } if constraint == c::SESSION_DOSE_ORDERS_BEFORE_DOSING => {
            AppError::Conflict(
                "dosing has started (or the session is discharged): a dose order is for a dose not yet given".into(),
            )
        }
        other => other.into(),
    })?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "dose_order",
        Some(record.id.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(order)
}

/// A plan with its doses as they stand after deferrals.
#[derive(Debug, Clone)]
pub struct PlanCourse {
    pub plan: PlanView,
    pub doses: Vec<kat_core::dosing::schedule::ScheduledDose>,
}

/// A patient's dosing course: plans with their schedules after deferrals, and sessions,
/// newest first.
#[derive(Debug, Clone)]
pub struct Course {
    pub plans: Vec<PlanCourse>,
    pub sessions: Vec<DosingSessionRecord>,
}

/// The day a session was opened, in the clinic's zone, and the new date of its deferral.
fn deferral_of(s: &DosingSessionRecord, tz: &jiff::tz::TimeZone) -> Option<kat_core::dosing::schedule::Deferral> {
    if s.gate_outcome.as_deref() != Some("defer") {
        return None;
    }
    let gate: Option<StoredGate> = s.gate.as_deref().and_then(|g| serde_json::from_str(g).ok());
    let to = gate.and_then(|g| g.reschedule_to).and_then(|d| parse_iso_date(&d));
    Some(kat_core::dosing::schedule::Deferral { on: s.opened_at.to_zoned(tz.clone()).date(), to })
}

/// A patient's plans and sessions (one audited read of each), with each plan's session
/// dates after the deferrals recorded at the gate (§3: "defer … and the session
/// rescheduled").
pub async fn course(store: &dyn Store, ctx: &Ctx, patient: PatientId, tz: &jiff::tz::TimeZone) -> AppResult<Course> {
    let plans = plans(store, ctx, patient).await?;
    let mut sessions = sessions_for_patient(store, ctx, patient).await?;
    sessions.sort_by_key(|s| std::cmp::Reverse(s.opened_at));
    let plans = plans
        .into_iter()
        .map(|plan| {
            let planned: Vec<Date> = plan.content.schedule.iter().filter_map(|d| parse_iso_date(d)).collect();
            let mut deferrals: Vec<(Timestamp, kat_core::dosing::schedule::Deferral)> = sessions
                .iter()
                .filter(|s| s.plan_id == plan.record.id)
                .filter_map(|s| deferral_of(s, tz).map(|d| (s.opened_at, d)))
                .collect();
            deferrals.sort_by_key(|(at, _)| *at);
            let deferrals: Vec<_> = deferrals.into_iter().map(|(_, d)| d).collect();
            let doses = kat_core::dosing::schedule::effective_schedule(&planned, &deferrals);
            PlanCourse { plan, doses }
        })
        .collect();
    Ok(Course { plans, sessions })
}

// ---------------------------------------------------------------------------------------
// Dosing session
// ---------------------------------------------------------------------------------------

/// Opens a dosing session on a signed plan (nurses, prescribers).
pub async fn open_session(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    plan: TreatmentPlanId,
) -> AppResult<DosingSessionRecord> {
    require(store, ctx, Permission::DosingSessionRun, "dosing_session", None, Some(patient), AuditAction::Create)
        .await?;
    let by = user_id(ctx)?;
    let mut tx = store.begin().await?;
    let plan = tx
        .treatment_plan_by_id(plan)
        .await?
        .filter(|p| p.patient_id == patient)
        .ok_or(AppError::NotFound("treatment plan"))?;
    if plan.signed_at.is_none() {
        return Err(AppError::Conflict("the treatment plan is not signed; a prescriber must sign it first".into()));
    }
    accepted_decision(&mut tx, patient).await?;
    // One patient, one session in progress: a second would split the vitals and alarms.
    if tx.dosing_sessions_for_patient(patient).await?.iter().any(in_progress) {
        return Err(AppError::Conflict(
            "a dosing session of this patient is already in progress; discharge it (or defer it at the gate) first"
                .into(),
        ));
    }
    let content: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
    let record = DosingSessionRecord {
        id: DosingSessionId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        plan_id: plan.id,
        route: route_str(content.route),
        opened_by: by,
        opened_at: ctx.now,
        gate_outcome: None,
        gate: None,
        gate_by: None,
        gate_at: None,
        discharge: None,
        discharged_by: None,
        discharged_at: None,
    };
    tx.insert_dosing_session(&record).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "dosing_session",
        Some(record.id.to_string()),
        Some(patient),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(record)
}

/// What staff send for the gate: the §3 checklist and, when the core does not say
/// proceed, the override or deferral.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct GateInput {
    #[schema(value_type = Object)]
    pub checklist: GateChecklist,
    /// A prescriber's documented reason to proceed despite findings that need one.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// Why the session is deferred (required to defer).
    #[serde(default)]
    pub defer_reason: Option<String>,
    /// A new date for a deferred session (YYYY-MM-DD).
    #[serde(default)]
    pub reschedule_to: Option<String>,
}

/// The stored gate (`dosing_sessions.gate`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredGate {
    pub checklist: serde_json::Value,
    pub decision: serde_json::Value,
    pub outcome: String,
    pub override_reason: Option<String>,
    pub defer_reason: Option<String>,
    pub reschedule_to: Option<String>,
}

/// DAY-004: the interaction rules (§1.4) rerun on the patient's current intake under the
/// policy in force, as gate findings; plus a finding that needs the prescriber when the
/// intake changed since the eligibility decision or since its last screen (a medication
/// change not yet reviewed). Read inside the caller's transaction; writes nothing.
async fn rerun_interactions(tx: &mut Box<dyn Tx>, ctx: &Ctx, patient: PatientId) -> AppResult<Vec<InteractionFinding>> {
    let mut out = Vec::new();
    let Some(intake) = tx.latest_intake(patient).await? else {
        return Ok(out);
    };
    let birth = tx.patient_by_id(patient).await?.map(|p| p.demographics.birth_date);
    match intake.answers.parse(birth) {
        Ok(parsed) => {
            let policy = tx.current_policy().await?.map(|p| p.policy).unwrap_or_default();
            out.extend(interaction_findings(&kat_core::eligibility::evaluate(&parsed, &policy, ctx.today).findings));
        }
        Err(_) => out.push(InteractionFinding {
            rule: "DAY-004".into(),
            action: InteractionAction::Override,
            message:
                "The current intake is incomplete, so the interaction rules could not be rerun: review the medications."
                    .into(),
        }),
    }
    let stale = tx.latest_decision(patient).await?.is_some_and(|d| d.stale);
    let unscreened = tx.latest_evaluation(patient).await?.is_none_or(|e| e.intake_version < intake.version);
    if stale || unscreened {
        out.push(InteractionFinding {
            rule: "DAY-004".into(),
            action: InteractionAction::Override,
            message: "The intake (medications) changed since the prescriber's eligibility decision: the prescriber re-signs eligibility, or overrides here with a reason.".into(),
        });
    }
    Ok(out)
}

/// The gate's interaction findings for a session, for the gate page to show before the
/// checklist is sent (no audit: the page's session read is the audited one).
pub async fn gate_interactions(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
) -> AppResult<Vec<InteractionFinding>> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    let mut tx = store.begin().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    rerun_interactions(&mut tx, ctx, s.patient_id).await
}

/// Runs the pre-dose gate (§3) and records its outcome: `proceed` when the core says so,
/// `override` only by a prescriber with a reason, otherwise `defer` with a reason. The
/// interaction rules rerun on the current intake (DAY-004) and their findings join
/// whatever interactions the caller sent.
pub async fn record_gate(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &GateInput,
) -> AppResult<StoredGate> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRun,
        "dosing_session",
        Some(session.to_string()),
        AuditAction::Update,
    )
    .await?;
    let by = user_id(ctx)?;
    let route = parse_route(&s.route).ok_or_else(|| internal("stored route"))?;
    let mut e = FieldErrors::default();
    if input.checklist.route != route {
        e.add("checklist.route", "must be the route of the plan");
    }
    let mut checklist = input.checklist.clone();
    {
        let mut tx = store.begin().await?;
        for f in rerun_interactions(&mut tx, ctx, s.patient_id).await? {
            if !checklist.interactions.contains(&f) {
                checklist.interactions.push(f);
            }
        }
        // DAY-008: whether the dose is weight-based, and the weight's date, are the plan's
        // (the weight the dose was computed from), not what the caller says.
        let plan = tx.treatment_plan_by_id(s.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
        let plan: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
        checklist.dose_is_weight_based = plan.dose_style == "per_kg";
        if checklist.dose_is_weight_based {
            checklist.weight_measured_on = plan.dose.weight_measured_on.as_deref().and_then(parse_iso_date);
        }
    }
    let decision = evaluate_gate(&checklist, ctx.now, ctx.today, &config.gate);
    let override_reason = input.override_reason.as_deref().and_then(opt).map(String::from);
    let defer_reason = input.defer_reason.as_deref().and_then(opt).map(String::from);
    let reschedule_to = match input.reschedule_to.as_deref().and_then(opt) {
        None => None,
        Some(raw) => match parse_iso_date(raw) {
            Some(d) => Some(d.to_string()),
            None => {
                e.add("reschedule_to", "a date (YYYY-MM-DD)");
                None
            }
        },
    };
    let outcome = if defer_reason.is_some() {
        "defer"
    } else {
        match &decision {
            GateDecision::Proceed { .. } => "proceed",
            GateDecision::NeedsOverride { .. } => match &override_reason {
                Some(_) if ctx.allows(Permission::DischargeOverride) => "override",
                Some(_) => {
                    e.add("override_reason", "only a prescriber may override the gate");
                    ""
                }
                None => {
                    e.add(
                        "override_reason",
                        "the gate needs a prescriber's documented override to proceed, or defer with a reason",
                    );
                    ""
                }
            },
            GateDecision::Defer { .. } => {
                e.add("defer_reason", "the gate says defer; give the reason (and a new date)");
                ""
            }
        }
    };
    if !e.is_empty() {
        return Err(e.into());
    }
    let stored = StoredGate {
        checklist: serde_json::to_value(&checklist).map_err(internal)?,
        decision: serde_json::to_value(&decision).map_err(internal)?,
        outcome: outcome.into(),
        override_reason: (outcome == "override").then_some(override_reason).flatten(),
        defer_reason,
        reschedule_to,
    };
    let mut tx = store.begin().await?;
    tx.record_gate(session, outcome, &serde_json::to_string(&stored).map_err(internal)?, by, ctx.now).await.map_err(
        |err| match err {
            StoreError::Conflict { .. } => {
                AppError::Conflict("the gate of this session is already passed, or it is discharged".into())
            }
            other => other.into(),
        },
    )?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "dosing_session_gate",
        Some(session.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(stored)
}

/// One administration event (DOSE-GEN-002, DOSE-IN-001).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AdministrationInput {
    /// What the route allows (`kat_core::dosing::order::allowed_steps`): `dose`
    /// (injection, oral, nasal racemic), `device` (one esketamine device), or for IV
    /// `infusion_start`, `infusion_pause`, `infusion_resume`, `infusion_rate_change`,
    /// `infusion_stop`.
    pub kind: String,
    pub administered_by: String,
    pub monitored_by: String,
    pub product: String,
    pub concentration_mg_per_ml: String,
    pub lot: String,
    pub expiry: String,
    pub dose_mg: String,
    pub rate_ml_per_h: String,
    /// When it happened (RFC 3339); now when empty.
    pub at: String,
}

/// Records an administration. Refused before the gate is passed (here and by the store).
pub async fn record_administration(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    input: &AdministrationInput,
) -> AppResult<AdministrationRecord> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRun,
        "dose_administration",
        None,
        AuditAction::Create,
    )
    .await?;
    let by = user_id(ctx)?;
    if !matches!(s.gate_outcome.as_deref(), Some("proceed" | "override")) || s.discharged_at.is_some() {
        return Err(AppError::Conflict(
            "no administration before the pre-dose gate is passed (§3), nor after the discharge".into(),
        ));
    }
    let route = parse_route(&s.route).ok_or_else(|| internal("stored route"))?;
    let mut e = FieldErrors::default();
    let kind = input.kind.trim();
    // Each route its own steps: esketamine device by device, IV as an infusion.
    let steps = allowed_steps(route);
    if !steps.contains(&kind) {
        e.add("kind", format!("{} sessions record: {}", route.label(), steps.join(", ")));
    }
    let at = match opt(&input.at) {
        None => ctx.now,
        Some(raw) => match raw.parse::<Timestamp>() {
            Ok(t) if t <= ctx.now => t,
            _ => {
                e.add("at", "a time not in the future (RFC 3339)");
                ctx.now
            }
        },
    };
    let starts_dose = matches!(kind, "dose" | "device" | "infusion_start");
    let sets_rate = matches!(kind, "infusion_start" | "infusion_resume" | "infusion_rate_change");
    if starts_dose || sets_rate {
        for (name, value) in [("administered_by", &input.administered_by), ("monitored_by", &input.monitored_by)] {
            if value.trim().is_empty() {
                e.add(name, "is required (DOSE-GEN-002)");
            }
        }
    }
    if starts_dose {
        for (name, value) in [("product", &input.product), ("lot", &input.lot)] {
            if value.trim().is_empty() {
                e.add(name, "is required (DOSE-GEN-002)");
            }
        }
        match opt(&input.expiry).and_then(parse_iso_date) {
            Some(d) if d < ctx.today => e.add("expiry", "the product has expired"),
            Some(_) => {}
            None => e.add("expiry", "the expiry date (YYYY-MM-DD)"),
        }
        if let Err(err) = Mg::parse(&input.dose_mg) {
            e.add("dose_mg", err.0);
        }
    }
    let rate = input.rate_ml_per_h.trim().parse::<f64>().ok().filter(|r| r.is_finite() && *r > 0.0);
    if sets_rate && rate.is_none() {
        e.add("rate_ml_per_h", "the pump rate in mL/h");
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let mut tx = store.begin().await?;
    // The checks below read what the session has given; hold the session until the insert.
    tx.lock_dosing_session(session).await?;
    let previous = tx.administrations_for_session(session).await?;
    let kinds: Vec<String> = previous
        .iter()
        .filter_map(|a| serde_json::from_str::<AdministrationInput>(&a.content).ok().map(|i| i.kind))
        .collect();
    if kind.starts_with("infusion_") && kind != "infusion_start" && !kinds.iter().any(|k| k == "infusion_start") {
        return Err(FieldErrors::single("kind", "the infusion has not been started").into());
    }
    if kind.starts_with("infusion_") && kinds.iter().any(|k| k == "infusion_stop") {
        return Err(FieldErrors::single("kind", "the infusion has been stopped").into());
    }
    if starts_dose || sets_rate {
        // §4.4 (ALM-001, -002, -004, -005): an alarm that says pause or stop dosing holds
        // further dosing until it is acknowledged with the action taken (INT-005).
        if let Some(a) = tx
            .alarms_for_session(session)
            .await?
            .iter()
            .find(|a| a.acknowledged_at.is_none() && matches!(a.severity.as_str(), "intervene" | "emergency"))
        {
            return Err(AppError::Conflict(format!(
                "an alarm ({}) asks to pause or stop dosing and is not acknowledged: acknowledge it with the action taken first",
                a.rule
            )));
        }
        // INT-005: an intervention that stopped the session ends its dosing.
        let stopped = tx.session_events_for_session(session).await?.iter().any(|ev| {
            ev.kind == "intervention"
                && serde_json::from_str::<serde_json::Value>(&ev.content)
                    .ok()
                    .and_then(|v| v["session_stopped"].as_bool())
                    == Some(true)
        });
        if stopped {
            return Err(AppError::Conflict("an intervention stopped this session (INT-005): no further dosing".into()));
        }
    }
    let plan = tx.treatment_plan_by_id(s.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
    let ordered =
        tx.dose_orders_for_session(session).await?.last().map_or(Ok(plan.dose.mg), |o| {
            serde_json::from_str::<DoseOrder>(&o.content).map(|o| o.mg).map_err(internal)
        })?;
    let ordered = Mg::new(ordered).map_err(|e| internal(e.0))?;
    if starts_dose {
        // Never more than ordered for this session (DOSE-GEN-002, DOSE-IN-001).
        let given = Mg::new(given_mg(&previous)).map_err(|e| internal(e.0))?;
        let next = Mg::parse(&input.dose_mg).map_err(|err| AppError::from(FieldErrors::single("dose_mg", &err.0)))?;
        if let DoseCheck::HardLimit { rule, message } | DoseCheck::Warning { rule, message } =
            check_administration(ordered, given, next, kind == "device")
        {
            return Err(FieldErrors::single("dose_mg", format!("{}: {}", rule.as_str(), message)).into());
        }
    }
    if let (true, Some(rate)) = (sets_rate, rate) {
        // Never faster than the ordered infusion (DOSE-IV-003).
        let ordered_rate = plan
            .dose
            .concentration_mg_per_ml
            .zip(plan.dose.infusion_minutes)
            .and_then(|(stock, minutes)| ordered_rate_ml_per_h(ordered, stock, minutes));
        if let Some(limit) = ordered_rate
            && let DoseCheck::HardLimit { rule, message } | DoseCheck::Warning { rule, message } =
                check_rate(rate, limit)
        {
            return Err(FieldErrors::single("rate_ml_per_h", format!("{}: {}", rule.as_str(), message)).into());
        }
    }
    if kind == "device" {
        let given: Vec<Timestamp> = previous
            .iter()
            .filter(|a| serde_json::from_str::<AdministrationInput>(&a.content).is_ok_and(|i| i.kind == "device"))
            .map(|a| a.at)
            .collect();
        let planned = Mg::from_whole(28 * (u32::try_from(given.len()).unwrap_or(2) + 1).min(3));
        if let DoseCheck::HardLimit { rule, message } | DoseCheck::Warning { rule, message } =
            check_next_device(planned, &given, at)
        {
            let mut e = FieldErrors::default();
            e.add("at", format!("{}: {}", rule.as_str(), message));
            return Err(e.into());
        }
    }
    let record = AdministrationRecord {
        id: AdministrationId::from_uuid(Uuid::now_v7()),
        session_id: session,
        content: serde_json::to_string(&AdministrationInput { kind: kind.into(), at: at.to_string(), ..input.clone() })
            .map_err(internal)?,
        recorded_by: by,
        at,
    };
    tx.insert_administration(&record).await.map_err(|err| match err {
        StoreError::Conflict { constraint } if constraint == c::DOSE_ADMINISTRATIONS_GATE_PASSED => {
            AppError::Conflict("no administration before the pre-dose gate is passed (§3)".into())
        }
        other => other.into(),
    })?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "dose_administration",
        Some(record.id.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(record)
}

// ---------------------------------------------------------------------------------------
// Vitals and alarms
// ---------------------------------------------------------------------------------------

/// One set of vitals, from a nurse or a device (the one path for both).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct VitalsInput {
    pub systolic: String,
    pub diastolic: String,
    pub heart_rate: String,
    pub spo2: String,
    /// `yes`, `no` or empty (not recorded).
    pub on_supplemental_o2: String,
    pub respiratory_rate: String,
    pub moaas: String,
    /// Set by device feeds; a nurse's entry is attributed to the nurse.
    pub device_id: String,
    /// When measured (RFC 3339); now when empty.
    pub at: String,
    pub apnoea_or_airway_obstruction: bool,
    pub symptomatic_arrhythmia: bool,
    pub end_organ_symptoms: bool,
    pub severe_distress_or_emergence: bool,
}

fn field<T>(
    e: &mut FieldErrors,
    name: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, kat_core::dosing::UnitError>,
) -> Option<T> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match parse(raw) {
        Ok(v) => Some(v),
        Err(err) => {
            e.add(name, err.0);
            None
        }
    }
}

/// Parses vitals into the core's reading.
pub fn parse_vitals(input: &VitalsInput, by: UserId, now: Timestamp) -> Result<Reading, FieldErrors> {
    let mut e = FieldErrors::default();
    let at = match opt(&input.at) {
        None => now,
        Some(raw) => match raw.parse::<Timestamp>() {
            Ok(t) if t <= now => t,
            _ => {
                e.add("at", "a time not in the future (RFC 3339)");
                now
            }
        },
    };
    let source = match opt(&input.device_id) {
        Some(id) => ReadingSource::Device { device_id: id.to_string() },
        None => ReadingSource::Manual { entered_by: by },
    };
    let mut r = Reading::empty(at, source);
    let sys = opt(&input.systolic);
    let dia = opt(&input.diastolic);
    match (sys, dia) {
        (Some(s), Some(d)) => match s.parse::<u16>().ok().zip(d.parse::<u16>().ok()) {
            Some((s, d)) => match BloodPressure::mmhg(s, d) {
                Ok(bp) => r.blood_pressure = Some(bp),
                Err(err) => e.add("systolic", err.0),
            },
            None => e.add("systolic", "whole mmHg for both pressures"),
        },
        (None, None) => {}
        (None, Some(_)) => e.add("systolic", "give both pressures"),
        (Some(_), None) => e.add("diastolic", "give both pressures"),
    }
    r.heart_rate = field(&mut e, "heart_rate", &input.heart_rate, HeartRate::parse);
    r.spo2 = field(&mut e, "spo2", &input.spo2, SpO2::parse);
    r.respiratory_rate = field(&mut e, "respiratory_rate", &input.respiratory_rate, RespiratoryRate::parse);
    r.moaas = field(&mut e, "moaas", &input.moaas, Moaas::parse);
    r.on_supplemental_o2 = match input.on_supplemental_o2.trim() {
        "" => None,
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => {
            e.add("on_supplemental_o2", "yes, no or empty");
            None
        }
    };
    r.signs.apnoea_or_airway_obstruction = input.apnoea_or_airway_obstruction;
    r.signs.symptomatic_arrhythmia = input.symptomatic_arrhythmia;
    r.signs.end_organ_symptoms = input.end_organ_symptoms;
    r.signs.severe_distress_or_emergence = input.severe_distress_or_emergence;
    let empty = r.blood_pressure.is_none()
        && r.heart_rate.is_none()
        && r.spo2.is_none()
        && r.respiratory_rate.is_none()
        && r.moaas.is_none()
        && r.signs == Default::default();
    if empty && e.is_empty() {
        e.add("systolic", "enter at least one measurement");
    }
    if e.is_empty() { Ok(r) } else { Err(e) }
}

/// The baseline: the gate's pre-dose BP and HR (§3), else the first reading.
fn baseline(session: &DosingSessionRecord, vitals: &[Reading]) -> Baseline {
    let mut b = vitals.first().map(Baseline::from_reading).unwrap_or(Baseline {
        blood_pressure: None,
        heart_rate: None,
        spo2: None,
        respiratory_rate: None,
    });
    if let Some(gate) = session.gate.as_deref().and_then(|g| serde_json::from_str::<StoredGate>(g).ok())
        && let Ok(check) = serde_json::from_value::<GateChecklist>(gate.checklist)
    {
        b.blood_pressure = check.blood_pressure.or(b.blood_pressure);
        b.heart_rate = check.heart_rate.or(b.heart_rate);
    }
    b
}

/// A saved reading and the alarms it raised.
#[derive(Debug)]
pub struct SavedVitals {
    pub vital: VitalRecord,
    pub alarms: Vec<AlarmRecord>,
}

/// Saves one reading and, in the same transaction, every alarm the policy raises for it
/// (one per kind, ALM-001..006); each alarm is stored once and stays until acknowledged.
pub async fn record_vitals(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &VitalsInput,
) -> AppResult<SavedVitals> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRun,
        "session_vitals",
        None,
        AuditAction::Create,
    )
    .await?;
    let by = user_id(ctx)?;
    if s.discharged_at.is_some() {
        return Err(AppError::Conflict("the session is discharged".into()));
    }
    let reading = parse_vitals(input, by, ctx.now)?;
    let mut tx = store.begin().await?;
    let earlier: Vec<Reading> =
        tx.vitals_for_session(session).await?.iter().filter_map(|v| serde_json::from_str(&v.reading).ok()).collect();
    let base = baseline(&s, &earlier);
    let vital = VitalRecord {
        id: VitalId::from_uuid(Uuid::now_v7()),
        session_id: session,
        reading: serde_json::to_string(&reading).map_err(internal)?,
        taken_at: reading.at,
        recorded_by: Some(by),
        recorded_at: ctx.now,
    };
    tx.insert_vital(&vital).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "session_vitals",
        Some(vital.id.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    let mut alarms = Vec::new();
    for alarm in evaluate_reading(&reading, &base, &config.alarms) {
        let record = alarm_record(session, vital.id, &alarm, ctx.now)?;
        tx.insert_alarm(&record).await?;
        tx.append_audit(&ctx.audit(
            AuditAction::Create,
            "session_alarm",
            Some(record.id.to_string()),
            Some(s.patient_id),
            AuditOutcome::Allowed,
        ))
        .await?;
        alarms.push(record);
    }
    tx.commit().await?;
    Ok(SavedVitals { vital, alarms })
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn alarm_record(session: DosingSessionId, vital: VitalId, alarm: &Alarm, now: Timestamp) -> AppResult<AlarmRecord> {
    Ok(AlarmRecord {
        id: SessionAlarmId::from_uuid(Uuid::now_v7()),
        session_id: session,
        vital_id: vital,
        rule: alarm.rule.as_str().to_string(),
        kind: snake(&alarm.kind),
        severity: snake(&alarm.severity),
        content: serde_json::to_string(alarm).map_err(internal)?,
        raised_at: now,
        acknowledged_by: None,
        acknowledged_at: None,
        action_taken: None,
    })
}

/// Acknowledges an alarm with the action taken (required, INT-005).
pub async fn acknowledge_alarm(
    store: &dyn Store,
    ctx: &Ctx,
    alarm: SessionAlarmId,
    action: &str,
) -> AppResult<AlarmRecord> {
    let mut tx = store.begin().await?;
    let a = tx.alarm_by_id(alarm).await?.ok_or(AppError::NotFound("alarm"))?;
    let s = tx.dosing_session_by_id(a.session_id).await?.ok_or(AppError::NotFound("dosing session"))?;
    drop(tx);
    require(
        store,
        ctx,
        Permission::DosingSessionRun,
        "session_alarm",
        Some(alarm.to_string()),
        Some(s.patient_id),
        AuditAction::Update,
    )
    .await?;
    let by = user_id(ctx)?;
    let action = action.trim();
    if action.is_empty() {
        let mut e = FieldErrors::default();
        e.add("action", "the action taken is required (INT-005)");
        return Err(e.into());
    }
    let mut tx = store.begin().await?;
    tx.acknowledge_alarm(alarm, by, ctx.now, action).await.map_err(|err| match err {
        StoreError::Conflict { .. } => AppError::Conflict("this alarm is already acknowledged".into()),
        other => other.into(),
    })?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "session_alarm",
        Some(alarm.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    let a = tx.alarm_by_id(alarm).await?.ok_or(AppError::NotFound("alarm"))?;
    tx.commit().await?;
    Ok(a)
}

// ---------------------------------------------------------------------------------------
// Session view, floor board, discharge
// ---------------------------------------------------------------------------------------

/// Everything the session screen shows.
#[derive(Debug)]
pub struct SessionView {
    /// The patient's name and MRN, for the screen.
    pub patient_label: String,
    pub session: DosingSessionRecord,
    pub plan: PlanView,
    pub administrations: Vec<AdministrationRecord>,
    pub vitals: Vec<(VitalRecord, Reading)>,
    pub alarms: Vec<AlarmRecord>,
    /// Adverse events and interventions, by time.
    pub events: Vec<SessionEventRecord>,
    /// Dose orders for this session, oldest first; the latest is in force.
    pub orders: Vec<DoseOrder>,
    pub next_check: Option<ScheduledCheck>,
    pub discharge: Option<DischargeDecision>,
}

impl SessionView {
    pub fn route(&self) -> Route {
        self.plan.content.route
    }
    /// The dose in force for this session: the latest order, else the plan's dose.
    pub fn ordered_mg(&self) -> f64 {
        self.orders.last().map_or(self.plan.content.dose.mg, |o| o.mg)
    }
    /// What this session has given so far (doses, devices, infusion starts).
    pub fn given_mg(&self) -> f64 {
        given_mg(&self.administrations)
    }
    /// When dosing started and ended, from the administration events.
    pub fn times(&self) -> Option<SessionTimes> {
        let starts: Vec<(String, Timestamp)> = self
            .administrations
            .iter()
            .filter_map(|a| serde_json::from_str::<AdministrationInput>(&a.content).ok().map(|i| (i.kind, a.at)))
            .collect();
        let first = starts.iter().find(|(k, _)| matches!(k.as_str(), "dose" | "device" | "infusion_start"))?.1;
        let end = match self.route() {
            // Until the stop is recorded, the planned end (start + planned minutes).
            Route::IvInfusion => starts.iter().rev().find(|(k, _)| k == "infusion_stop").map(|x| x.1).or_else(|| {
                let minutes = self.plan.content.dose.infusion_minutes?;
                Some(kat_core::dosing::units::add_minutes(first, Minutes::new(minutes)))
            }),
            Route::IntranasalEsketamine => starts.iter().rev().find(|(k, _)| k == "device").map(|x| x.1),
            _ => Some(first),
        }?;
        Some(SessionTimes { dose_start: first, dose_end: end })
    }
    pub fn open_alarms(&self) -> impl Iterator<Item = &AlarmRecord> {
        self.alarms.iter().filter(|a| a.acknowledged_at.is_none())
    }
}

async fn load_view(
    tx: &mut Box<dyn Tx>,
    config: &DosingConfig,
    session: DosingSessionRecord,
    now: Timestamp,
) -> AppResult<SessionView> {
    let plan = tx.treatment_plan_by_id(session.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan = PlanView::from_record(plan)?;
    let administrations = tx.administrations_for_session(session.id).await?;
    let vitals = tx
        .vitals_for_session(session.id)
        .await?
        .into_iter()
        .filter_map(|v| serde_json::from_str(&v.reading).ok().map(|r| (v, r)))
        .collect();
    let alarms = tx.alarms_for_session(session.id).await?;
    let patient = tx.patient_by_id(session.patient_id).await?.ok_or(AppError::NotFound("patient"))?;
    let patient_label = format!("{} · {}", patient.demographics.full_name(), patient.mrn);
    let events = tx.session_events_for_session(session.id).await?;
    let orders = tx
        .dose_orders_for_session(session.id)
        .await?
        .iter()
        .map(|o| serde_json::from_str(&o.content).map_err(internal))
        .collect::<AppResult<Vec<DoseOrder>>>()?;
    let mut view = SessionView {
        patient_label,
        session,
        plan,
        administrations,
        vitals,
        alarms,
        events,
        orders,
        next_check: None,
        discharge: None,
    };
    if let Some(times) = view.times() {
        let route = view.route();
        let schedule =
            MonitoringSchedule::for_session(route, times, config.discharge.min_observation(route), &config.monitoring);
        // Overdue when a scheduled check passed with no reading since; otherwise the
        // next one after the latest reading (a reading at the due time does it).
        let last_done = view.vitals.iter().map(|(v, _)| v.taken_at).max();
        view.next_check = match schedule.overdue(last_done, now) {
            Some(c) => Some(c),
            None => {
                let after = last_done.map_or(now, |t| t.max(now) + jiff::SignedDuration::from_secs(1));
                schedule.next_check_due(after)
            }
        };
    }
    Ok(view)
}

/// The session screen (audited read).
pub async fn session(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
) -> AppResult<SessionView> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "dosing_session",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let mut tx = store.begin().await?;
    let view = load_view(&mut tx, config, s, ctx.now).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Read,
        "dosing_session",
        Some(session.to_string()),
        Some(view.session.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// A patient's sessions (audited).
pub async fn sessions_for_patient(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
) -> AppResult<Vec<DosingSessionRecord>> {
    require(store, ctx, Permission::DosingSessionRead, "dosing_session", None, Some(patient), AuditAction::List)
        .await?;
    let mut tx = store.begin().await?;
    let list = tx.dosing_sessions_for_patient(patient).await?;
    tx.append_audit(&ctx.audit(AuditAction::List, "dosing_session", None, Some(patient), AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(list)
}

/// The floor board: every session in progress (not discharged, not deferred at the
/// gate) with its unacknowledged alarms and next check, one `list` audit entry per
/// patient shown.
pub async fn floor_board(store: &dyn Store, ctx: &Ctx, config: &DosingConfig) -> AppResult<Vec<SessionView>> {
    require(store, ctx, Permission::DosingSessionRead, "dosing_session", None, None, AuditAction::List).await?;
    floor_board_views(store, ctx, config, None).await
}

/// A session in progress: open, and not deferred at the gate (a deferral ends the day).
fn in_progress(s: &DosingSessionRecord) -> bool {
    s.discharged_at.is_none() && s.gate_outcome.as_deref() != Some("defer")
}

async fn floor_board_views(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    mut seen: Option<&mut HashSet<DosingSessionId>>,
) -> AppResult<Vec<SessionView>> {
    let mut tx = store.begin().await?;
    let open = tx.open_dosing_sessions().await?;
    let mut out = Vec::new();
    for s in open.into_iter().filter(in_progress) {
        let view = load_view(&mut tx, config, s, ctx.now).await?;
        // On a live board, only a session newly shown is audited (see `crate::live`).
        let new = match seen.as_deref_mut() {
            Some(seen) => seen.insert(view.session.id),
            None => true,
        };
        if new {
            tx.append_audit(&ctx.audit(
                AuditAction::List,
                "dosing_session",
                Some(view.session.id.to_string()),
                Some(view.session.patient_id),
                AuditOutcome::Allowed,
            ))
            .await?;
        }
        out.push(view);
    }
    tx.commit().await?;
    Ok(out)
}

/// The floor board for a live screen (see `crate::live`): the permission is checked
/// again on every refresh; each session is audited the first time this screen shows it
/// (`seen` holds those already audited), not on every refresh.
pub async fn floor_board_live(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    seen: &mut HashSet<DosingSessionId>,
) -> AppResult<Vec<SessionView>> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    floor_board_views(store, ctx, config, Some(seen)).await
}

/// The session screen for a live stream that is already open (see `crate::live`): the
/// permission is checked again, and no audit entry is written, because opening the
/// stream was the audited read ([`session`]).
pub async fn session_live(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
) -> AppResult<SessionView> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    let mut tx = store.begin().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    load_view(&mut tx, config, s, ctx.now).await
}

/// What staff assess at discharge (DC-003, DC-004), and an optional prescriber override.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DischargeInputForm {
    pub aldrete_total: Option<u8>,
    pub pre_sedation_aldrete: Option<u8>,
    pub moaas: Option<u8>,
    pub dissociation_resolved: Option<bool>,
    pub able_to_walk_safely: Option<bool>,
    pub active_nausea: Option<bool>,
    pub suicidal_crisis: Option<bool>,
    pub escort_present: Option<bool>,
    pub written_instructions_given: Option<bool>,
    pub clinician_judges_stable: Option<bool>,
    /// A prescriber's reason to discharge although criteria are unmet.
    pub override_reason: Option<String>,
    /// Spravato REMS question: without the 2-hour minimum, when would the patient have
    /// been ready to leave (minutes from the start of administration)?
    pub rems_ready_to_leave_minutes: Option<u32>,
}

/// The stored discharge (`dosing_sessions.discharge`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDischarge {
    pub decision: serde_json::Value,
    pub ready: bool,
    pub override_reason: Option<String>,
    #[serde(default)]
    pub rems_ready_to_leave_minutes: Option<u32>,
}

/// The discharge form's field that answers a criterion (for the error's place).
fn criterion_field(c: kat_core::monitoring::Criterion) -> &'static str {
    use kat_core::monitoring::Criterion as C;
    match c {
        C::MinimumObservation => "observation",
        C::AldreteScore => "aldrete_total",
        C::Alertness => "moaas",
        C::VitalsNearBaseline | C::Oxygenation => "vitals",
        C::Dissociation => "dissociation_resolved",
        C::Ambulation => "able_to_walk_safely",
        C::Nausea => "active_nausea",
        C::SuicidalCrisis => "suicidal_crisis",
        C::Escort => "escort_present",
        C::WrittenInstructions => "written_instructions_given",
        C::ClinicalStability => "clinician_judges_stable",
    }
}

/// Discharges the patient: refused until every §4.5 criterion holds (DC-001..004), or a
/// prescriber overrides with a reason. An open alarm also refuses it.
pub async fn discharge(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &DischargeInputForm,
) -> AppResult<StoredDischarge> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRun,
        "dosing_session",
        Some(session.to_string()),
        AuditAction::Update,
    )
    .await?;
    let by = user_id(ctx)?;
    let mut tx = store.begin().await?;
    let view = load_view(&mut tx, config, s, ctx.now).await?;
    let mut e = FieldErrors::default();
    let stopped = view
        .administrations
        .iter()
        .any(|a| serde_json::from_str::<AdministrationInput>(&a.content).is_ok_and(|i| i.kind == "infusion_stop"));
    if view.route() == Route::IvInfusion && !stopped {
        return Err(AppError::Conflict("the infusion stop is not recorded".into()));
    }
    let Some(times) = view.times() else {
        return Err(AppError::Conflict(
            "no completed administration is recorded (an IV infusion needs its stop)".into(),
        ));
    };
    let moaas = match input.moaas.map(|m| Moaas::new(u16::from(m))) {
        Some(Ok(m)) => Some(m),
        Some(Err(err)) => {
            e.add("moaas", err.0);
            None
        }
        None => None,
    };
    if input.aldrete_total.is_some_and(|a| a > 10) {
        e.add("aldrete_total", "0 to 10");
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let earlier: Vec<Reading> = view.vitals.iter().map(|(_, r)| r.clone()).collect();
    // Each vital's latest value since the end of dosing (a MOAA/S-only entry does not
    // hide the blood pressure; a pre-dose reading is never current).
    let (latest, previous_bp) = current_values(&earlier, times.dose_end);
    let di = DischargeInput {
        route: view.route(),
        times,
        aldrete_total: input.aldrete_total,
        pre_sedation_aldrete: input.pre_sedation_aldrete,
        moaas,
        latest,
        previous_bp,
        baseline: baseline(&view.session, &earlier),
        dissociation_resolved: input.dissociation_resolved,
        able_to_walk_safely: input.able_to_walk_safely,
        active_nausea: input.active_nausea,
        suicidal_crisis: input.suicidal_crisis,
        escort_present: input.escort_present,
        written_instructions_given: input.written_instructions_given,
        clinician_judges_stable: input.clinician_judges_stable,
    };
    let decision = discharge_decision(&di, ctx.now, &config.discharge);
    let ready = decision.is_ready() && view.open_alarms().next().is_none();
    let override_reason = input.override_reason.as_deref().and_then(opt).map(String::from);
    if !ready {
        // One error per unmet criterion, on the field that answers it.
        let mut why = FieldErrors::default();
        for u in decision.unmet() {
            why.add(criterion_field(u.criterion), format!("{} ({})", u.message, u.rule.as_str()));
        }
        if let Some(a) = view.open_alarms().next() {
            why.add("alarms", format!("an alarm ({}) is not acknowledged", a.rule));
        }
        match &override_reason {
            Some(_) if ctx.allows(Permission::DischargeOverride) => {}
            Some(_) => {
                why.add("override_reason", "only a prescriber may override the discharge criteria");
                return Err(why.into());
            }
            None => return Err(why.into()),
        }
    }
    let stored = StoredDischarge {
        decision: serde_json::to_value(&decision).map_err(internal)?,
        ready,
        override_reason: if ready { None } else { override_reason },
        rems_ready_to_leave_minutes: input.rems_ready_to_leave_minutes,
    };
    tx.record_discharge(session, &serde_json::to_string(&stored).map_err(internal)?, by, ctx.now).await.map_err(
        |err| match err {
            StoreError::Conflict { .. } => AppError::Conflict("the session is already discharged".into()),
            other => other.into(),
        },
    )?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "dosing_session_discharge",
        Some(session.to_string()),
        Some(view.session.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(stored)
}

// ---------------------------------------------------------------------------------------
// Adverse events and interventions
// ---------------------------------------------------------------------------------------

/// The common start of a session use case: reads the session and checks `permission`
/// on its patient (a refusal is audited against `resource`).
async fn permitted_session(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    permission: Permission,
    resource: &str,
    resource_id: Option<String>,
    action: AuditAction,
) -> AppResult<DosingSessionRecord> {
    let mut tx = store.begin().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    drop(tx);
    require(store, ctx, permission, resource, resource_id, Some(s.patient_id), action).await?;
    Ok(s)
}

async fn session_for_write(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    kind: &str,
) -> AppResult<(DosingSessionRecord, UserId)> {
    let s =
        permitted_session(store, ctx, session, Permission::DosingSessionRun, kind, None, AuditAction::Create).await?;
    Ok((s, user_id(ctx)?))
}

async fn save_event(
    store: &dyn Store,
    ctx: &Ctx,
    s: &DosingSessionRecord,
    by: UserId,
    kind: &str,
    at: Timestamp,
    content: String,
) -> AppResult<SessionEventRecord> {
    let record = SessionEventRecord {
        id: Uuid::now_v7(),
        session_id: s.id,
        kind: kind.into(),
        content,
        at,
        recorded_by: by,
        recorded_at: ctx.now,
    };
    let mut tx = store.begin().await?;
    tx.insert_session_event(&record).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        kind,
        Some(record.id.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(record)
}

/// Records an adverse event of the session (§5: CTCAE term and grade, onset, resolution,
/// seriousness, relatedness, action, outcome). Events may be added after discharge.
pub async fn record_adverse_event(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    form: &AdverseEventForm,
) -> AppResult<SessionEventRecord> {
    let (s, by) = session_for_write(store, ctx, session, "adverse_event").await?;
    let ae = form.parse(ctx.now)?;
    save_event(store, ctx, &s, by, "adverse_event", ae.onset, serde_json::to_string(&ae).map_err(internal)?).await
}

/// An intervention as typed (INT-005).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct InterventionForm {
    /// When (RFC 3339); now when empty.
    pub at: String,
    /// The alarm that triggered it, if any; its rule and value are copied.
    pub alarm_id: String,
    /// The trigger value when there is no alarm (for example "patient anxious").
    pub trigger_value: String,
    pub action: String,
    pub drug_name: String,
    pub drug_dose_mg: String,
    pub drug_route: String,
    pub response: String,
    /// `yes` when the session (dosing) was stopped.
    pub session_stopped: String,
}

/// Records an intervention as a structured event (INT-005).
pub async fn record_intervention(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    form: &InterventionForm,
) -> AppResult<SessionEventRecord> {
    let (s, by) = session_for_write(store, ctx, session, "intervention").await?;
    let mut e = FieldErrors::default();
    let at = match opt(&form.at) {
        None => ctx.now,
        Some(raw) => match raw.parse::<Timestamp>() {
            Ok(t) if t <= ctx.now => t,
            _ => {
                e.add("at", "a time not in the future (RFC 3339)");
                ctx.now
            }
        },
    };
    let (mut trigger_rule, mut trigger_value) = (None, form.trigger_value.trim().to_string());
    if let Some(raw) = opt(&form.alarm_id) {
        let alarm = match raw.parse::<SessionAlarmId>() {
            Ok(id) => {
                let mut tx = store.begin().await?;
                tx.alarm_by_id(id).await?.filter(|a| a.session_id == s.id)
            }
            Err(_) => None,
        };
        match alarm {
            Some(a) => {
                trigger_rule = Some(kat_core::dosing::RuleId::owned(a.rule.clone()));
                if trigger_value.is_empty() {
                    let c: serde_json::Value = serde_json::from_str(&a.content).unwrap_or_default();
                    trigger_value = c["value"].to_string();
                }
            }
            None => e.add("alarm_id", "not an alarm of this session"),
        }
    }
    if trigger_value.is_empty() {
        e.add("trigger_value", "what triggered the intervention (or choose the alarm)");
    }
    let action = form.action.trim().to_string();
    if action.is_empty() {
        e.add("action", "is required (INT-005)");
    }
    let response = form.response.trim().to_string();
    if response.is_empty() {
        e.add("response", "is required (INT-005)");
    }
    let drug = match (opt(&form.drug_name), opt(&form.drug_dose_mg), opt(&form.drug_route)) {
        (None, None, None) => None,
        (Some(name), Some(dose), Some(route)) => match Mg::parse(dose) {
            Ok(dose) => Some(kat_core::monitoring::alarms::DrugGiven { name: name.into(), dose, route: route.into() }),
            Err(err) => {
                e.add("drug_dose_mg", err.0);
                None
            }
        },
        _ => {
            e.add("drug_name", "a drug needs its name, dose (mg) and route");
            None
        }
    };
    let session_stopped = match form.session_stopped.trim() {
        "" | "no" | "false" => false,
        "yes" | "true" | "on" => true,
        _ => {
            e.add("session_stopped", "yes or no");
            false
        }
    };
    if !e.is_empty() {
        return Err(e.into());
    }
    let event = kat_core::monitoring::InterventionEvent {
        at,
        trigger_rule,
        trigger_value,
        action,
        drug,
        response,
        session_stopped,
    };
    save_event(store, ctx, &s, by, "intervention", at, serde_json::to_string(&event).map_err(internal)?).await
}

// ---------------------------------------------------------------------------------------
// Spravato REMS Patient Monitoring Form (§4.1)
// ---------------------------------------------------------------------------------------

/// The REMS Patient Monitoring Form filled from the session record, the patient record
/// and the intake. `missing` names what the record lacks; the form is complete when it
/// is empty and the session is discharged.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RemsForm {
    #[schema(value_type = String, format = Uuid)]
    pub session_id: DosingSessionId,
    #[schema(value_type = String, format = Uuid)]
    pub patient_id: PatientId,
    /// The patient's name and MRN.
    pub patient: String,
    /// The patient's birth date (the form's MM/DD/YYYY), from the patient record.
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<Date>,
    /// The form's sex answer from the patient record: `Male`, `Female` or `Other`
    /// (intersex); absent (and in `missing`) when the record says unknown.
    pub sex: Option<&'static str>,
    /// Whether the session is discharged (completion of monitoring).
    pub discharged: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub treatment_date: Option<Timestamp>,
    /// Due 7 days after the treatment date.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted: Option<Timestamp>,
    pub first_treatment_enrolled: Option<bool>,
    pub concomitant: Vec<String>,
    /// DDI-010: current use of each medicine class the form asks about (yes/no), from the
    /// interaction classes of the medication list of the intake as it stood at the
    /// session's gate; empty when that list is not answered or a drug's classes are not
    /// known (then `missing` says so).
    pub concomitant_classes: Vec<RemsMedicineClass>,
    pub monitored_by: Vec<String>,
    pub dose_mg: u32,
    pub lots: Vec<String>,
    pub duration_minutes: Option<i64>,
    pub ready_to_leave_minutes: Option<u32>,
    pub vitals_ok_before: Option<bool>,
    pub vitals_ok_at_completion: Option<bool>,
    pub bp_before: Option<String>,
    pub bp_40_min: Option<String>,
    pub bp_completion: Option<String>,
    pub sedation: bool,
    pub respiratory_depression: bool,
    /// Whether SpO2 was checked by pulse oximetry after the first device (the form's
    /// pulse-oximetry item; DAY-001 requires an oximeter to be available).
    pub pulse_oximetry_checked: bool,
    pub serious_adverse_events: Vec<String>,
    /// Whether a MOAA/S was rated after the first device (MON-SPV-005); without one the
    /// sedation answer is not known and the form says so in `missing`.
    pub sedation_rated: bool,
    /// Dissociation from the CADSS-6 ratings (MON-SPV-006, see [`rems_dissociation`]);
    /// `None` when none was taken after the first device.
    pub dissociation: Option<bool>,
    /// The CADSS-6 ratings behind the answer (`CADSS-6 9/24 at 40 min`).
    pub dissociation_ratings: Vec<String>,
    pub missing: Vec<&'static str>,
    /// Form fields that need clinic data kat does not hold: to be filled on the form.
    pub to_fill_on_form: Vec<&'static str>,
}

impl RemsForm {
    /// Complete: nothing missing and the session discharged, so it may be marked
    /// submitted.
    pub fn complete(&self) -> bool {
        self.missing.is_empty() && self.discharged
    }
}

/// One DDI-010 medicine class on the REMS form and whether the patient currently takes it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RemsMedicineClass {
    /// `benzodiazepines`, `non_benzodiazepine_sedative_hypnotics`, `psychostimulants`,
    /// `maois`, `opioids`, `other_sedatives`.
    pub class: String,
    pub current_use: bool,
}

/// The REMS form's fields that need clinic data kat does not hold yet (§4.1).
pub const REMS_TO_FILL_ON_FORM: &[&str] = &[
    "healthcare provider conducting monitoring: telephone",
    "healthcare provider conducting monitoring: email",
    "healthcare setting: address, city, state, ZIP",
];

/// The medicine classes the REMS form asks about, yes/no each (DDI-010: the 11/2021 form's
/// four and the newer form's opioids and other sedatives), with the keys the DDI-010
/// finding uses.
const REMS_MEDICINE_CLASSES: &[(&str, kat_core::eligibility::medication::InteractionClass)] = {
    use kat_core::eligibility::medication::InteractionClass as C;
    &[
        ("benzodiazepines", C::Benzodiazepine),
        ("non_benzodiazepine_sedative_hypnotics", C::NonBenzodiazepineSedativeHypnotic),
        ("psychostimulants", C::Psychostimulant),
        ("maois", C::Maoi),
        ("opioids", C::Opioid),
        ("other_sedatives", C::OtherSedative),
    ]
};

/// What the REMS form needs from the patient record and intake, read in the caller's
/// transaction.
#[derive(Debug, Clone)]
pub struct RemsPatient {
    pub birth_date: Option<Date>,
    pub sex: Option<SexAtBirth>,
    /// The DDI-010 classes from the current intake's medication list, or why they are
    /// not known.
    pub classes: Result<Vec<RemsMedicineClass>, &'static str>,
}

/// The REMS form's patient data for the session `s`: the medicine classes come from the
/// intake as it stood at the session's gate (or its opening), so a later medication change
/// does not rewrite the form of an earlier session.
async fn rems_patient(tx: &mut Box<dyn Tx>, s: &DosingSessionRecord) -> AppResult<RemsPatient> {
    let patient = s.patient_id;
    let as_of = s.gate_at.unwrap_or(s.opened_at);
    let p = tx.patient_by_id(patient).await?;
    let birth = p.as_ref().map(|p| p.demographics.birth_date);
    let mut out = RemsPatient {
        birth_date: birth.map(|b| b.date()),
        sex: p.as_ref().map(|p| p.demographics.sex_at_birth),
        classes: Err("concomitant medicines (DDI-010): no intake"),
    };
    let history = tx.intake_history(patient).await?;
    let Some(intake) = history
        .iter()
        .filter(|v| v.saved_at <= as_of)
        .max_by_key(|v| v.version)
        .or_else(|| history.iter().min_by_key(|v| v.version))
    else {
        return Ok(out);
    };
    out.classes = match intake.answers.parse(birth) {
        Err(_) => Err("concomitant medicines (DDI-010): the current intake does not parse"),
        Ok(parsed) => match parsed.medications {
            None => Err("concomitant medicines (DDI-010): the intake's medication list is not answered"),
            Some(meds) if meds.iter().any(|m| m.drug.classes().is_none()) => {
                Err("concomitant medicines (DDI-010): a medication's interaction classes are not known")
            }
            Some(meds) => Ok(REMS_MEDICINE_CLASSES
                .iter()
                .map(|(key, class)| RemsMedicineClass {
                    class: (*key).to_string(),
                    current_use: meds.iter().any(|m| m.drug.has_class(*class)),
                })
                .collect()),
        },
    };
    Ok(out)
}

fn bp_text(r: &Reading) -> Option<String> {
    r.blood_pressure.map(|b| format!("{}/{}", b.systolic(), b.diastolic()))
}

/// Fills the form from the session (esketamine sessions only).
pub fn rems_form(v: &SessionView, patient: &RemsPatient) -> RemsForm {
    let admins: Vec<AdministrationInput> =
        v.administrations.iter().filter_map(|a| serde_json::from_str(&a.content).ok()).collect();
    let devices: Vec<(&AdministrationInput, Timestamp)> =
        admins.iter().zip(v.administrations.iter().map(|a| a.at)).filter(|(i, _)| i.kind == "device").collect();
    let first = devices.first().map(|(_, t)| *t);
    let gate: Option<StoredGate> = v.session.gate.as_deref().and_then(|g| serde_json::from_str(g).ok());
    let checklist: Option<GateChecklist> = gate.as_ref().and_then(|g| serde_json::from_value(g.checklist.clone()).ok());
    let discharge: Option<StoredDischarge> = v.session.discharge.as_deref().and_then(|d| serde_json::from_str(d).ok());
    let mut lots: Vec<String> = devices.iter().map(|(i, _)| i.lot.clone()).filter(|l| !l.is_empty()).collect();
    lots.dedup();
    let mut monitored_by: Vec<String> =
        devices.iter().map(|(i, _)| i.monitored_by.clone()).filter(|l| !l.is_empty()).collect();
    monitored_by.dedup();
    let bp_40 = first.and_then(|f| {
        let target = f + jiff::SignedDuration::from_mins(40);
        v.vitals
            .iter()
            .filter(|(_, r)| r.blood_pressure.is_some())
            .min_by_key(|(_, r)| (r.at.as_second() - target.as_second()).abs())
            .filter(|(_, r)| (r.at.as_second() - target.as_second()).abs() <= 15 * 60)
            .and_then(|(_, r)| bp_text(r))
    });
    let bp_completion = v.vitals.iter().rev().find_map(|(_, r)| bp_text(r));
    let serious_adverse_events = v
        .events
        .iter()
        .filter(|e| e.kind == "adverse_event")
        .filter_map(|e| serde_json::from_str::<kat_core::monitoring::adverse::AdverseEvent>(&e.content).ok())
        .filter(|ae| ae.is_serious())
        .map(|ae| format!("{} (grade {})", ae.term, ae.grade.get()))
        .collect();
    let mut form = RemsForm {
        session_id: v.session.id,
        patient_id: v.session.patient_id,
        patient: v.patient_label.clone(),
        birth_date: patient.birth_date,
        sex: patient.sex.and_then(|s| match s {
            SexAtBirth::Male => Some("Male"),
            SexAtBirth::Female => Some("Female"),
            SexAtBirth::Intersex => Some("Other"),
            // Not known is not an answer the form takes: `missing` names it.
            SexAtBirth::Unknown => None,
        }),
        discharged: v.session.discharged_at.is_some(),
        treatment_date: first,
        due: first.map(|t| t + jiff::SignedDuration::from_hours(24 * 7)),
        submitted: v.events.iter().find(|e| e.kind == "rems_submitted").map(|e| e.at),
        first_treatment_enrolled: checklist.as_ref().and_then(|c| c.rems_patient_enrolled),
        concomitant: checklist
            .as_ref()
            .map(|c| c.interactions.iter().map(|i| format!("{} ({})", i.message, i.rule)).collect())
            .unwrap_or_default(),
        concomitant_classes: patient.classes.clone().unwrap_or_default(),
        monitored_by,
        dose_mg: 28 * u32::try_from(devices.len()).unwrap_or(0),
        lots,
        duration_minutes: first.zip(v.session.discharged_at).map(|(f, d)| (d.as_second() - f.as_second()) / 60),
        ready_to_leave_minutes: discharge.as_ref().and_then(|d| d.rems_ready_to_leave_minutes),
        vitals_ok_before: v.session.gate_outcome.as_deref().map(|o| o == "proceed"),
        vitals_ok_at_completion: discharge.as_ref().map(|d| d.ready),
        bp_before: checklist
            .as_ref()
            .and_then(|c| c.blood_pressure)
            .map(|b| format!("{}/{}", b.systolic(), b.diastolic())),
        bp_40_min: bp_40,
        bp_completion,
        sedation: v.vitals.iter().any(|(_, r)| r.moaas.is_some_and(|m| m.get() < 5)),
        respiratory_depression: v.alarms.iter().any(|a| a.rule == "ALM-001" || a.rule == "ALM-004"),
        pulse_oximetry_checked: first.is_some_and(|f| v.vitals.iter().any(|(_, r)| r.at >= f && r.spo2.is_some())),
        serious_adverse_events,
        sedation_rated: first.is_some_and(|f| v.vitals.iter().any(|(_, r)| r.moaas.is_some() && r.at >= f)),
        dissociation: None,
        dissociation_ratings: Vec::new(),
        missing: Vec::new(),
        to_fill_on_form: REMS_TO_FILL_ON_FORM.to_vec(),
    };
    (form.dissociation, form.dissociation_ratings) = rems_dissociation(&cadss6_ratings(v), first);
    // What the record lacks, in the form's order (each a field of §4.1).
    let classes_missing = patient.classes.as_ref().err().copied();
    let lacks: [(bool, &'static str); 14] = [
        (form.birth_date.is_none(), "patient birth date"),
        (form.sex.is_none(), "patient sex (male, female or other; the patient record says unknown)"),
        (classes_missing.is_some(), classes_missing.unwrap_or_default()),
        (form.treatment_date.is_none(), "treatment date (no device recorded)"),
        (form.lots.is_empty(), "lot number"),
        (form.monitored_by.is_empty(), "healthcare provider conducting monitoring"),
        (form.duration_minutes.is_none(), "treatment duration (not discharged)"),
        (form.ready_to_leave_minutes.is_none(), "when the patient would have been ready to leave"),
        (form.bp_before.is_none(), "BP before administration"),
        (form.bp_40_min.is_none(), "BP 40 minutes after administration"),
        (form.bp_completion.is_none(), "BP before session completion"),
        (form.first_treatment_enrolled.is_none(), "REMS enrolment (DAY-001)"),
        (!form.sedation_rated, "sedation: no MOAA/S rated after administration (MON-SPV-005)"),
        (form.dissociation.is_none(), "dissociation: no CADSS-6 rated after administration (MON-SPV-006, MON-KET-005)"),
    ];
    let missing: Vec<&'static str> = lacks.iter().filter(|(lacking, _)| *lacking).map(|(_, what)| *what).collect();
    form.missing = missing;
    form
}

/// One esketamine session's REMS form (audited read).
pub async fn rems(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
) -> AppResult<RemsForm> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "rems_form",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let mut tx = store.begin().await?;
    let v = load_view(&mut tx, config, s, ctx.now).await?;
    if !v.route().is_esketamine() {
        return Err(AppError::NotFound("REMS form (esketamine sessions only)"));
    }
    let patient = rems_patient(&mut tx, &v.session).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Read,
        "rems_form",
        Some(session.to_string()),
        Some(v.session.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(rems_form(&v, &patient))
}

/// Every esketamine session's REMS form, oldest first, one `list` entry per patient.
pub async fn rems_worklist(store: &dyn Store, ctx: &Ctx, config: &DosingConfig) -> AppResult<Vec<RemsForm>> {
    require(store, ctx, Permission::DosingSessionRead, "rems_form", None, None, AuditAction::List).await?;
    let mut tx = store.begin().await?;
    let sessions = tx.dosing_sessions_by_route(&route_str(Route::IntranasalEsketamine)).await?;
    let mut out = Vec::new();
    for s in sessions {
        let v = load_view(&mut tx, config, s, ctx.now).await?;
        let patient = rems_patient(&mut tx, &v.session).await?;
        tx.append_audit(&ctx.audit(
            AuditAction::List,
            "rems_form",
            Some(v.session.id.to_string()),
            Some(v.session.patient_id),
            AuditOutcome::Allowed,
        ))
        .await?;
        out.push(rems_form(&v, &patient));
    }
    tx.commit().await?;
    Ok(out)
}

/// Marks the session's REMS form as submitted (MON-SPV-008), once, and only when the form
/// is complete: the session discharged and nothing `missing`. Refused (409 naming what is
/// missing) otherwise. The session and the form are read again inside the one
/// transaction that records it, so a second submission finds the first.
pub async fn mark_rems_submitted(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
) -> AppResult<RemsForm> {
    let (_, by) = session_for_write(store, ctx, session, "rems_submitted").await?;
    let mut tx = store.begin().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    let v = load_view(&mut tx, config, s, ctx.now).await?;
    if !v.route().is_esketamine() {
        return Err(AppError::NotFound("REMS form (esketamine sessions only)"));
    }
    let patient = rems_patient(&mut tx, &v.session).await?;
    let mut form = rems_form(&v, &patient);
    if form.submitted.is_some() {
        return Err(AppError::Conflict("the REMS form is already marked submitted".into()));
    }
    let mut why: Vec<&str> = Vec::new();
    if !form.discharged {
        why.push("the session is not discharged");
    }
    why.extend(form.missing.iter().copied());
    if !why.is_empty() {
        return Err(AppError::Conflict(format!("the REMS form is not complete: {}", why.join("; "))));
    }
    let record = SessionEventRecord {
        id: Uuid::now_v7(),
        session_id: session,
        kind: "rems_submitted".into(),
        content: "{}".into(),
        at: ctx.now,
        recorded_by: by,
        recorded_at: ctx.now,
    };
    tx.insert_session_event(&record).await.map_err(|e| match e {
        StoreError::Conflict { constraint } if constraint == c::SESSION_EVENTS_REMS_SUBMITTED_ONCE => {
            AppError::Conflict("the REMS form is already marked submitted".into())
        }
        other => other.into(),
    })?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "rems_submitted",
        Some(record.id.to_string()),
        Some(v.session.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    form.submitted = Some(ctx.now);
    Ok(form)
}

/// The gate's interaction findings for a session (DAY-004) as a read of its own, for the
/// API: permission checked (a refusal is audited), one `read` audit entry.
pub async fn gate_interactions_read(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
) -> AppResult<Vec<InteractionFinding>> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "gate_interactions",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let mut tx = store.begin().await?;
    let findings = rerun_interactions(&mut tx, ctx, s.patient_id).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Read,
        "gate_interactions",
        Some(session.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(findings)
}

/// The previous dose of the course and the core's titration suggestion for the given
/// judgement of it, as a read of its own for the API: a bad `tolerability` or `efficacy`
/// is refused by name (422), the read is audited.
pub async fn dose_suggestion(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    tz: &jiff::tz::TimeZone,
    session: DosingSessionId,
    input: &DoseOrderInput,
) -> AppResult<OrderContext> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "dose_suggestion",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let mut e = FieldErrors::default();
    let (tolerability, efficacy) = parse_judgement(&mut e, input);
    if !e.is_empty() {
        return Err(e.into());
    }
    let mut tx = store.begin().await?;
    let cx = order_context_in(&mut tx, config, tz, &s, tolerability, efficacy).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Read,
        "dose_suggestion",
        Some(session.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(cx)
}

// ---------------------------------------------------------------------------------------
// CADSS-6 dissociation ratings (MON-KET-005, MON-SPV-006)
// ---------------------------------------------------------------------------------------

/// When a CADSS-6 is rated (MON-KET-005): the trial schedule is 0, 40, 120 and 240
/// minutes; the suggested clinic default is the peak (about 40 minutes) and before
/// discharge. Key and words.
pub const CADSS6_TIME_POINTS: &[(&str, &str)] = &[
    ("pre_dose", "Pre-dose (0 min)"),
    ("peak_40", "Peak, about 40 min after the start of dosing"),
    ("min_120", "120 min after the start of dosing"),
    ("min_240", "240 min after the start of dosing"),
    ("before_discharge", "Before discharge"),
];

/// The words of a CADSS-6 time point key.
pub fn cadss6_time_point_label(key: &str) -> &'static str {
    CADSS6_TIME_POINTS.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("other")
}

/// A CADSS-6 rating as typed (form or JSON). The items keep their CADSS-23 numbers
/// (1, 2, 6, 7, 15, 22; instruments.md §6.2), each rated 0–4. Item wording is not
/// shipped (instruments.md §1): the rater uses the clinic's licensed form.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Cadss6Input {
    /// `pre_dose`, `peak_40`, `min_120`, `min_240` or `before_discharge` (MON-KET-005).
    pub time_point: String,
    /// When rated (RFC 3339); now when empty.
    pub at: String,
    pub item_1: String,
    pub item_2: String,
    pub item_6: String,
    pub item_7: String,
    pub item_15: String,
    pub item_22: String,
}

impl Cadss6Input {
    /// The typed answer of the item with this CADSS label, if it is one of the six.
    pub fn answer(&self, label: &str) -> Option<&str> {
        Some(match label {
            "1" => &self.item_1,
            "2" => &self.item_2,
            "6" => &self.item_6,
            "7" => &self.item_7,
            "15" => &self.item_15,
            "22" => &self.item_22,
            _ => return None,
        })
    }
}

/// One answered CADSS-6 item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cadss6Answer {
    /// The CADSS item number.
    pub item: String,
    /// 0–4.
    pub value: u8,
}

/// A scored CADSS-6 rating, stored as the `cadss6` session event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cadss6Rating {
    /// The MON-KET-005 time point key.
    pub time_point: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Whole minutes after the start of dosing (negative before it); `None` when no
    /// dose was recorded yet.
    pub minutes_after_start: Option<i64>,
    pub answers: Vec<Cadss6Answer>,
    /// 0–24, the sum of the six items (only complete ratings are scored).
    pub total: u8,
    /// Who rated (display name; the event keeps the user id).
    pub rated_by: String,
}

/// Parses and scores a CADSS-6 through the core's scorer. Every bad or missing item is a
/// field error naming it (`item_15`); an incomplete rating is never scored.
pub fn parse_cadss6(
    input: &Cadss6Input,
    now: Timestamp,
) -> Result<(String, Timestamp, Vec<Cadss6Answer>, u8), FieldErrors> {
    use kat_core::instruments::{Instrument, Response, ScoringPolicy};
    let mut e = FieldErrors::default();
    let time_point = input.time_point.trim().to_string();
    if !CADSS6_TIME_POINTS.iter().any(|(k, _)| *k == time_point) {
        e.add("time_point", "choose the time point (MON-KET-005)");
    }
    let at = match opt(&input.at) {
        None => now,
        Some(raw) => match raw.parse::<Timestamp>() {
            Ok(t) if t <= now => t,
            _ => {
                e.add("at", "a time not in the future (RFC 3339)");
                now
            }
        },
    };
    let def = Instrument::Cadss6.def();
    let raw: Vec<Option<&str>> = def.items.iter().map(|item| input.answer(item.label).and_then(opt)).collect();
    let response = match Response::parse(Instrument::Cadss6, &raw) {
        Ok(r) => Some(r),
        Err(errors) => {
            for err in errors.iter() {
                match err.item {
                    Some(label) => e.add(format!("item_{label}"), format!("CADSS item {label} {}", err.reason)),
                    None => e.add("answers", err.reason.to_string()),
                }
            }
            None
        }
    };
    let mut answers = Vec::new();
    let mut total = None;
    if let Some(r) = response {
        let score = r.score(&ScoringPolicy::default());
        if let kat_core::instruments::Completeness::Incomplete { missing } = score.completeness() {
            for label in missing {
                e.add(
                    format!("item_{label}"),
                    format!("CADSS item {label} is not answered: an incomplete CADSS-6 is never scored"),
                );
            }
        }
        total = score.total();
        answers = def
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| r.answer(i).map(|v| Cadss6Answer { item: item.label.into(), value: v }))
            .collect();
    }
    match total {
        Some(t) if e.is_empty() => Ok((time_point, at, answers, t)),
        _ => {
            if e.is_empty() {
                e.add("answers", "the CADSS-6 could not be scored");
            }
            Err(e)
        }
    }
}

/// Records a CADSS-6 rating of the session (MON-KET-005, MON-SPV-006) as a `cadss6`
/// session event, with its time point, the minutes after the start of dosing and who
/// rated. A rating may be documented after discharge, for a time before it.
pub async fn record_cadss6(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &Cadss6Input,
) -> AppResult<(SessionEventRecord, Cadss6Rating)> {
    let (s, by) = session_for_write(store, ctx, session, "cadss6").await?;
    let (time_point, at, answers, total) = match parse_cadss6(input, ctx.now) {
        Ok(v) => v,
        Err(e) => return Err(e.into()),
    };
    if let Some(d) = s.discharged_at
        && at > d
    {
        return Err(
            FieldErrors::single("at", "after the discharge: a rating of this session must be taken before it").into()
        );
    }
    let mut tx = store.begin().await?;
    let view = load_view(&mut tx, config, s.clone(), ctx.now).await?;
    drop(tx);
    let minutes_after_start = view.times().map(|t| (at.as_second() - t.dose_start.as_second()).div_euclid(60));
    time_point_fits(&time_point, at, view.times().map(|t| t.dose_start))?;
    let rated_by = match &ctx.actor {
        super::Actor::User(u) => u.display_name.clone(),
        _ => String::new(),
    };
    let rating = Cadss6Rating { time_point, at, minutes_after_start, answers, total, rated_by };
    let record =
        save_event(store, ctx, &s, by, "cadss6", at, serde_json::to_string(&rating).map_err(internal)?).await?;
    Ok((record, rating))
}

/// A pre-dose rating is taken at or before the start of dosing, every other time point
/// after it (MON-KET-005), so the REMS form's pre-dose comparison reads the right one.
fn time_point_fits(time_point: &str, at: Timestamp, dose_start: Option<Timestamp>) -> Result<(), FieldErrors> {
    match (time_point, dose_start) {
        ("pre_dose", Some(start)) if at > start => {
            Err(FieldErrors::single("time_point", "a pre-dose rating must be taken before the start of dosing"))
        }
        ("pre_dose", _) => Ok(()),
        (_, None) => {
            Err(FieldErrors::single("time_point", "no dose is recorded yet: only a pre-dose rating can be taken"))
        }
        (_, Some(start)) if at < start => Err(FieldErrors::single(
            "time_point",
            "this time point is after the start of dosing; the rating time is before it",
        )),
        _ => Ok(()),
    }
}

/// The session's CADSS-6 ratings, by time.
pub fn cadss6_ratings(v: &SessionView) -> Vec<Cadss6Rating> {
    v.events.iter().filter(|e| e.kind == "cadss6").filter_map(|e| serde_json::from_str(&e.content).ok()).collect()
}

/// The session's interventions (INT-005), by time.
pub fn interventions(v: &SessionView) -> Vec<kat_core::monitoring::InterventionEvent> {
    v.events.iter().filter(|e| e.kind == "intervention").filter_map(|e| serde_json::from_str(&e.content).ok()).collect()
}

/// The REMS dissociation answer from the CADSS-6 ratings (MON-SPV-006), given the time
/// of the first device. `None` when no rating was taken after it. The CADSS-6 has no
/// validated cut-off (instruments.md §6.2), so, as the label reads any fall in MOAA/S
/// from pre-dose as sedation, any rise of the total above the pre-dose rating (above 0
/// without one) is answered Yes: it can over-call, never miss. The ratings are listed
/// beside the answer for the clinician to check.
pub fn rems_dissociation(ratings: &[Cadss6Rating], first_device: Option<Timestamp>) -> (Option<bool>, Vec<String>) {
    let Some(first) = first_device else { return (None, Vec::new()) };
    let pre = ratings.iter().filter(|r| r.at < first).map(|r| r.total).next_back();
    let after: Vec<&Cadss6Rating> = ratings.iter().filter(|r| r.at >= first).collect();
    let words = ratings
        .iter()
        .map(|r| {
            let when = match r.minutes_after_start {
                Some(m) => format!("{m} min"),
                None => cadss6_time_point_label(&r.time_point).to_string(),
            };
            format!("CADSS-6 {}/24 at {when}", r.total)
        })
        .collect();
    if after.is_empty() {
        return (None, words);
    }
    let base = pre.unwrap_or(0);
    (Some(after.iter().any(|r| r.total > base)), words)
}

#[cfg(test)]
mod cadss6_tests {
    use super::*;

    fn input(items: [&str; 6]) -> Cadss6Input {
        let [a, b, c, d, e, f] = items.map(String::from);
        Cadss6Input {
            time_point: "peak_40".into(),
            at: String::new(),
            item_1: a,
            item_2: b,
            item_6: c,
            item_7: d,
            item_15: e,
            item_22: f,
        }
    }

    fn now() -> Timestamp {
        "2026-03-10T14:40:00Z".parse().unwrap()
    }

    #[test]
    fn complete_ratings_are_scored_by_the_core() {
        let (tp, at, answers, total) = parse_cadss6(&input(["4", "4", "4", "4", "4", "4"]), now()).unwrap();
        assert_eq!((tp.as_str(), at, total), ("peak_40", now(), 24));
        let labels: Vec<&str> = answers.iter().map(|a| a.item.as_str()).collect();
        assert_eq!(labels, ["1", "2", "6", "7", "15", "22"]);
        assert_eq!(parse_cadss6(&input(["0", "0", "0", "0", "0", "0"]), now()).unwrap().3, 0);
    }

    #[test]
    fn each_missing_or_bad_item_is_named_and_nothing_is_scored() {
        let e = parse_cadss6(&input(["1", "", "1", "1", "", "1"]), now()).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["item_2", "item_15"]);
        assert!(e.for_field("item_15").unwrap().contains("CADSS item 15"));
        let e = parse_cadss6(&input(["5", "1", "x", "1", "1", "1"]), now()).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["item_1", "item_6"]);
        let mut no_time_point = input(["1"; 6]);
        no_time_point.time_point = "whenever".into();
        assert_eq!(parse_cadss6(&no_time_point, now()).unwrap_err().iter().next().unwrap().field, "time_point");
        let mut future = input(["1"; 6]);
        future.at = "2026-03-10T15:00:00Z".into();
        assert!(parse_cadss6(&future, now()).unwrap_err().for_field("at").is_some());
    }

    #[test]
    fn time_points_fit_the_start_of_dosing() {
        let start: Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
        let before = start - jiff::SignedDuration::from_mins(5);
        assert!(time_point_fits("pre_dose", before, Some(start)).is_ok());
        assert!(time_point_fits("pre_dose", start, Some(start)).is_ok());
        assert!(time_point_fits("pre_dose", now(), Some(start)).is_err());
        assert!(time_point_fits("pre_dose", now(), None).is_ok());
        assert!(time_point_fits("peak_40", now(), Some(start)).is_ok());
        assert!(time_point_fits("peak_40", before, Some(start)).is_err());
        assert!(time_point_fits("peak_40", now(), None).is_err());
    }

    fn rating(at: Timestamp, total: u8, minutes: Option<i64>) -> Cadss6Rating {
        Cadss6Rating {
            time_point: "peak_40".into(),
            at,
            minutes_after_start: minutes,
            answers: Vec::new(),
            total,
            rated_by: "RN".into(),
        }
    }

    #[test]
    fn rems_dissociation_is_any_rise_above_pre_dose_and_unknown_without_a_rating_after_the_first_device() {
        let first: Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
        let pre = rating(first - jiff::SignedDuration::from_mins(10), 2, Some(-10));
        let at40 = |total| rating(first + jiff::SignedDuration::from_mins(40), total, Some(40));
        assert_eq!(rems_dissociation(&[], Some(first)).0, None);
        assert_eq!(
            rems_dissociation(std::slice::from_ref(&pre), Some(first)).0,
            None,
            "a pre-dose rating alone says nothing"
        );
        assert_eq!(rems_dissociation(&[at40(3)], None).0, None, "no device, no form");
        assert_eq!(rems_dissociation(&[at40(0)], Some(first)).0, Some(false));
        assert_eq!(rems_dissociation(&[at40(1)], Some(first)).0, Some(true), "above 0 without a pre-dose rating");
        assert_eq!(rems_dissociation(&[pre.clone(), at40(2)], Some(first)).0, Some(false), "not above the pre-dose 2");
        let (answer, words) = rems_dissociation(&[pre, at40(3)], Some(first));
        assert_eq!(answer, Some(true));
        assert_eq!(words, ["CADSS-6 2/24 at -10 min", "CADSS-6 3/24 at 40 min"]);
    }
}
