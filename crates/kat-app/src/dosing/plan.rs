//! The treatment plan: typed by the prescriber, parsed and dose-checked by the core,
//! drafted on an accepted eligibility decision and signed.

use super::vitals::field;
use super::{internal, parse_route, protocol_key, user_id};
use crate::config::DosingConfig;
use crate::{AppError, AppResult, Ctx, require};
use jiff::civil::Date;
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::calendar::ClinicCalendar;
use kat_core::dosing::course::{PlanOverlap, PlanOverlapOverride, PlanSpan, overlapping_plans};
use kat_core::dosing::session::Reason;
use kat_core::dosing::weight::WeightError;
use kat_core::dosing::{
    CheckLevel, Diluent, Dilution, DoseCheck, DoseRequest, DoseReview, DosingPolicy, EsketamineCourse,
    EsketamineIndication, HeightCm, Kg, LIBRARY, Mg, MgPerKg, MgPerMl, Minutes, Preparation, Route, Setting,
    WeightBasis, WeightMeasurement, WeightPolicy, check_dose, dosing_weight,
};
use kat_core::ids::{PatientId, TreatmentPlanId, UserId};
use kat_core::patient::SexAtBirth;
use kat_core::patient::parse_iso_date;
use kat_core::role::Permission;
use kat_store::dosing::TreatmentPlanRecord;
use kat_store::{Store, Tx};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Treatment plan
// ---------------------------------------------------------------------------------------

/// A treatment plan as typed by the prescriber (form or JSON); every field is text so
/// that each can be reported on its own.
#[derive(Debug, Clone, Default, Deserialize)]
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
    /// The override is confirmed at that moment (issue 12 item 2): the authenticator
    /// code, or the password of an account without two-step sign-in.
    pub reauth_code: String,
    pub reauth_password: String,
}

/// The calculated dose, shown to whoever signs or administers (DOSE-GEN-002, DOSE-IV-004).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanContent {
    pub indication: String,
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
    pub dose_findings: Vec<serde_json::Value>,
    pub dose_level: String,
    pub warning_reason: Option<String>,
    pub override_reason: Option<String>,
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
    pub(crate) fn from_record(record: TreatmentPlanRecord) -> AppResult<Self> {
        let content = serde_json::from_str(&record.content).map_err(internal)?;
        Ok(Self { record, content })
    }
    pub fn signed(&self) -> bool {
        self.record.signed_at.is_some()
    }
}

pub(crate) fn opt(raw: &str) -> Option<&str> {
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
    calendar: &ClinicCalendar,
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
        // Dates chosen by hand are kept as given, but not on a day the clinic is closed.
        if let Some(closed) = dates.iter().find(|d| !calendar.is_open(**d)) {
            e.add(
                "schedule",
                format!("{closed} is a {}, a day the clinic is closed; choose another date", weekday_label(*closed)),
            );
        }
        dates.iter().map(|d| d.to_string()).collect()
    } else {
        // Generated dates move to the clinic's next open day (clinic calendar).
        let generated: Vec<Date> = match (opt(&input.first_session).and_then(parse_iso_date), interval_given, interval)
        {
            (None, _, _) => {
                e.add("first_session", "the first session date (YYYY-MM-DD)");
                Vec::new()
            }
            (Some(first), Some(_), Some(days)) if course_sessions > 0 => (0..course_sessions)
                .filter_map(|i| first.checked_add(jiff::Span::new().days(days * i64::from(i))).ok())
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
                        Ok(dates) if dates.len() == course_sessions as usize => dates,
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
        };
        calendar.shift_to_open_days(&generated).iter().map(|d| d.to_string()).collect()
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
pub(crate) fn require_dose_reasons(
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
pub(crate) async fn accepted_decision(tx: &mut Box<dyn Tx>, patient: PatientId) -> AppResult<Uuid> {
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
    let reauth = crate::reauth::precheck(
        store,
        ctx,
        crate::reauth::Reauth { code: &input.reauth_code, password: &input.reauth_password },
    )
    .await?;
    let mut tx = store.begin().await?;
    let sex = tx.patient_by_id(patient).await?.ok_or(AppError::NotFound("patient"))?.demographics.sex_at_birth;
    let decision_id = accepted_decision(&mut tx, patient).await?;
    let is_md = tx.is_medical_director(by).await?;
    let content = parse_plan(input, ctx.today, is_md, by, &config.policy, sex, &config.calendar)?;
    if content.override_reason.is_some() {
        reauth.settle_now(tx.as_mut(), ctx, "the override of a hard dose limit", Some(patient)).await?;
    }
    let record = TreatmentPlanRecord {
        id: TreatmentPlanId::from_uuid(Uuid::now_v7()),
        patient_id: patient,
        decision_id,
        content: serde_json::to_string(&content).map_err(internal)?,
        created_by: by,
        created_at: ctx.now,
        signed_by: None,
        signed_at: None,
        overlap_override: None,
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

/// What the prescriber sends to sign a plan: a reason when another active plan
/// overlaps it (issue 11 item 1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SignPlanInput {
    #[serde(default)]
    pub overlap_reason: Option<String>,
}

/// A plan's span of session dates, for the overlap check (`None` without dates).
fn span_of(record: &TreatmentPlanRecord, content: &PlanContent) -> Option<PlanSpan> {
    let dates = content.schedule.iter().filter_map(|d| parse_iso_date(d)).collect();
    PlanSpan::new(record.id, content.route, dates)
}

/// The other signed, still active ketamine or esketamine plans of the patient whose
/// dates overlap `plan`'s (issue 11 item 1), for the sign page and the signing.
pub fn plan_overlaps(plan: &PlanView, all: &[PlanView], today: Date) -> Vec<PlanOverlap> {
    let Some(this) = span_of(&plan.record, &plan.content) else {
        return Vec::new();
    };
    let signed: Vec<PlanSpan> =
        all.iter().filter(|p| p.signed()).filter_map(|p| span_of(&p.record, &p.content)).collect();
    overlapping_plans(&this, &signed, today)
}

impl PlanView {
    /// The prescriber's reason for signing over an overlap, if there was one.
    pub fn overlap_override(&self) -> Option<PlanOverlapOverride> {
        self.record.overlap_override.as_deref().and_then(|j| serde_json::from_str(j).ok())
    }
}

/// Signs a plan (prescribers). Another active plan of the patient that overlaps it
/// (issue 11 item 1: an IV and a Spravato plan starting the same day gave two doses on
/// one day) needs a reason, stored with the signature and shown on the plan.
pub async fn sign_plan(
    store: &dyn Store,
    ctx: &Ctx,
    patient: PatientId,
    plan: TreatmentPlanId,
    input: &SignPlanInput,
) -> AppResult<PlanView> {
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
    let reason = match input.overlap_reason.as_deref().and_then(opt) {
        None => None,
        Some(raw) => Some(Reason::parse(raw).map_err(|m| FieldErrors::single("overlap_reason", m))?),
    };
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
    // Held to the signature: two plans signed at the same moment cannot both miss each other.
    tx.lock_patient_for_dosing(patient).await?;
    let this = PlanView::from_record(record)?;
    let all: Vec<PlanView> = tx
        .treatment_plans_for_patient(patient)
        .await?
        .into_iter()
        .map(PlanView::from_record)
        .collect::<AppResult<_>>()?;
    let overlaps = plan_overlaps(&this, &all, ctx.today);
    let overlap_override = if overlaps.is_empty() {
        None
    } else {
        let Some(reason) = reason else {
            let named: Vec<String> = overlaps.iter().map(|o| o.to_string()).collect();
            return Err(FieldErrors::single(
                "overlap_reason",
                format!(
                    "another active ketamine or esketamine plan overlaps this one ({}): give a reason to sign both",
                    named.join("; ")
                ),
            )
            .into());
        };
        let o = PlanOverlapOverride { reason: reason.as_str().to_string(), overlaps };
        Some(serde_json::to_string(&o).map_err(internal)?)
    };
    tx.sign_treatment_plan(plan, by, ctx.now, overlap_override.as_deref()).await?;
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

/// A date's weekday in words, for messages.
fn weekday_label(date: Date) -> &'static str {
    match date.weekday() {
        jiff::civil::Weekday::Monday => "Monday",
        jiff::civil::Weekday::Tuesday => "Tuesday",
        jiff::civil::Weekday::Wednesday => "Wednesday",
        jiff::civil::Weekday::Thursday => "Thursday",
        jiff::civil::Weekday::Friday => "Friday",
        jiff::civil::Weekday::Saturday => "Saturday",
        jiff::civil::Weekday::Sunday => "Sunday",
    }
}
