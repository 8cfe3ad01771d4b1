//! The dosing API's own request and response bodies, with their OpenAPI schemas. Each
//! has the name, fields and documentation of the `kat_app::dosing` type it converts into
//! (requests) or from (responses), so the JSON and the OpenAPI document are what they
//! were; kat-app knows nothing of utoipa.

use super::schemas;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_app::dosing as uc;
use kat_core::dosing::Route;
use kat_core::ids::{DosingSessionId, PatientId, UserId};
use kat_core::monitoring::GateChecklist;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A number sent as a JSON number or as text (`70`, `"70.5"`): the text the parser reads.
/// Only the numeric fields take numbers; a text field refuses one.
fn number_or_text<'de, D: serde::Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(serde_json::Number),
        Text(String),
    }
    match NumberOrText::deserialize(de) {
        Ok(NumberOrText::Number(n)) => Ok(super::number_text(&n)),
        Ok(NumberOrText::Text(t)) => Ok(t),
        Err(_) => Err(serde::de::Error::custom("must be a number (or its text)")),
    }
}

/// An optional whole number that may come as `6` or `6.0` (the same integer to JSON
/// Schema), in the range of `T`.
fn whole<'de, D: serde::Deserializer<'de>, T: TryFrom<i64>>(de: D) -> Result<Option<T>, D::Error> {
    let Some(value) = Option::<serde_json::Value>::deserialize(de)? else { return Ok(None) };
    super::whole_number(&value)
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("must be a whole number in range"))
}

/// A treatment plan as typed by the prescriber (form or JSON); every field is text so
/// that each can be reported on its own.
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    #[schema(min_length = 1, max_length = 2000)]
    pub indication: String,
    /// `iv_infusion`, `intramuscular`, `subcutaneous`, `intranasal_esketamine`,
    /// `intranasal_racemic` or `sublingual_oral`.
    #[schema(value_type = schemas::RouteName)]
    pub route: String,
    /// A protocol of the core library for that route (`iv_single_standard`…).
    #[schema(value_type = schemas::ProtocolName)]
    pub protocol: String,
    /// The product (for example "Ketamine HCl 50 mg/mL" or "Spravato 28 mg device").
    #[schema(min_length = 1, max_length = 2000)]
    pub product: String,
    /// Number of sessions in the course (DOSE-GEN-001).
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub course_sessions: String,
    /// The therapeutic endpoint (DOSE-GEN-001).
    #[schema(min_length = 1, max_length = 2000)]
    pub endpoint: String,
    /// The periodic face-to-face reassessment (DOSE-GEN-001).
    #[schema(min_length = 1, max_length = 2000)]
    pub reassessment: String,
    /// What happens after the course (DOSE-IV-009, DOSE-IN-003/004).
    pub maintenance: String,
    /// How the dose is written: `per_kg` or `fixed`.
    #[schema(value_type = schemas::DoseStyle)]
    pub dose_style: String,
    /// The KAP dose style (PSY-004): `psycholytic` (lower dose, talk therapy during the
    /// session) or `psychedelic` (higher dose, inner experience, therapy before and after).
    #[schema(value_type = schemas::KapStyle)]
    pub kap_style: String,
    /// Esketamine only (IND-002): `monotherapy` or `with_oral_antidepressant` (required
    /// for MDSI).
    #[schema(value_type = schemas::EsketamineRegimen)]
    pub esketamine_regimen: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub dose_mg_per_kg: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub dose_mg: String,
    /// Measured body weight (kg) and its date (DOSE-GEN-002).
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub weight_kg: String,
    #[schema(value_type = schemas::DayOrBlank)]
    pub weight_measured_on: String,
    /// The dosing-weight basis (DOSE-IV-005): `actual`, `ideal` or `adjusted`; empty:
    /// the clinic's `[dosing.weight] obese_basis`. Ideal and adjusted are refused unless
    /// the clinic has configured a formula (and, for adjusted, a factor); they apply
    /// only above the clinic's BMI threshold and never raise the weight.
    #[schema(value_type = schemas::WeightBasisName)]
    pub weight_basis: String,
    /// Height in cm, for BMI and the ideal-weight formula (sex at birth is taken from
    /// the patient's record).
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub height_cm: String,
    /// Stock concentration (mg/mL), for volume and pump rate (DOSE-IV-004).
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub concentration_mg_per_ml: String,
    /// IV infusion minutes (DOSE-IV-001: 40).
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub infusion_minutes: String,
    #[schema(value_type = schemas::DayOrBlank)]
    pub first_session: String,
    /// Days between sessions, 1 to 90: the prescriber's fixed interval. Empty: the dates
    /// come from the protocol's phases (n a week spread over each week: twice weekly on
    /// days 0 and 3, three times on days 0, 2 and 4; capped at the protocol's maximum),
    /// refused for a protocol without a fixed frequency (individualised).
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub interval_days: String,
    /// Dates adjusted by staff, comma-separated; replaces the generated schedule.
    pub schedule: String,
    /// Required when the dose check warns (DOSE-IV-002 and others).
    pub warning_reason: String,
    /// Required, from a medical director, when the dose passes a hard limit.
    pub override_reason: String,
    /// Confirms a medical director's override at this moment (issue 12 item 2): the 6-digit code of the
    /// caller's authenticator app, or, for an account without two-step sign-in, its
    /// password (or send that in `reauth_password`). Never logged.
    #[schema(max_length = 1000)]
    pub reauth_code: String,
    /// The password of an account without two-step sign-in, instead of `reauth_code`.
    #[schema(max_length = 1000)]
    pub reauth_password: String,
}

impl From<PlanInput> for uc::PlanInput {
    fn from(d: PlanInput) -> Self {
        Self {
            indication: d.indication,
            route: d.route,
            protocol: d.protocol,
            product: d.product,
            course_sessions: d.course_sessions,
            endpoint: d.endpoint,
            reassessment: d.reassessment,
            maintenance: d.maintenance,
            dose_style: d.dose_style,
            kap_style: d.kap_style,
            esketamine_regimen: d.esketamine_regimen,
            dose_mg_per_kg: d.dose_mg_per_kg,
            dose_mg: d.dose_mg,
            weight_kg: d.weight_kg,
            weight_measured_on: d.weight_measured_on,
            weight_basis: d.weight_basis,
            height_cm: d.height_cm,
            concentration_mg_per_ml: d.concentration_mg_per_ml,
            infusion_minutes: d.infusion_minutes,
            first_session: d.first_session,
            interval_days: d.interval_days,
            schedule: d.schedule,
            warning_reason: d.warning_reason,
            override_reason: d.override_reason,
            reauth_code: d.reauth_code,
            reauth_password: d.reauth_password,
        }
    }
}

/// A prescriber's dose for one session, as typed (titration from the previous dose).
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct DoseOrderInput {
    /// The dose: mg/kg when the plan doses per kg, else mg.
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub dose: String,
    /// How the previous dose was tolerated: `tolerated` or `poorly_tolerated`.
    #[schema(value_type = schemas::TolerabilityOrBlank)]
    pub tolerability: String,
    /// How well the previous dose worked: `adequate` or `inadequate`.
    #[schema(value_type = schemas::EfficacyOrBlank)]
    pub efficacy: String,
    /// Why this dose (required when it differs from the plan's).
    pub reason: String,
    /// Required when the dose check warns.
    pub warning_reason: String,
    /// Required, from a medical director, above a hard limit.
    pub override_reason: String,
    /// Confirms a medical director's override at this moment (issue 12 item 2): the 6-digit code of the
    /// caller's authenticator app, or, for an account without two-step sign-in, its
    /// password (or send that in `reauth_password`). Never logged.
    #[schema(max_length = 1000)]
    pub reauth_code: String,
    /// The password of an account without two-step sign-in, instead of `reauth_code`.
    #[schema(max_length = 1000)]
    pub reauth_password: String,
}

impl From<DoseOrderInput> for uc::DoseOrderInput {
    fn from(d: DoseOrderInput) -> Self {
        Self {
            dose: d.dose,
            tolerability: d.tolerability,
            efficacy: d.efficacy,
            reason: d.reason,
            warning_reason: d.warning_reason,
            override_reason: d.override_reason,
            reauth_code: d.reauth_code,
            reauth_password: d.reauth_password,
        }
    }
}

/// One set of vitals, from a nurse or a device (the one path for both).
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct VitalsInput {
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub systolic: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub diastolic: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub heart_rate: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub spo2: String,
    /// `yes`, `no` or empty (not recorded).
    #[schema(value_type = schemas::YesNoOrBlank)]
    pub on_supplemental_o2: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub respiratory_rate: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub moaas: String,
    /// Set by device feeds; a nurse's entry is attributed to the nurse.
    #[schema(max_length = 200)]
    pub device_id: String,
    /// When measured (RFC 3339); now when empty.
    #[schema(value_type = schemas::TimeOrBlank)]
    pub at: String,
    pub apnoea_or_airway_obstruction: bool,
    pub symptomatic_arrhythmia: bool,
    pub end_organ_symptoms: bool,
    pub severe_distress_or_emergence: bool,
}

impl From<VitalsInput> for uc::VitalsInput {
    fn from(d: VitalsInput) -> Self {
        Self {
            systolic: d.systolic,
            diastolic: d.diastolic,
            heart_rate: d.heart_rate,
            spo2: d.spo2,
            on_supplemental_o2: d.on_supplemental_o2,
            respiratory_rate: d.respiratory_rate,
            moaas: d.moaas,
            device_id: d.device_id,
            at: d.at,
            apnoea_or_airway_obstruction: d.apnoea_or_airway_obstruction,
            symptomatic_arrhythmia: d.symptomatic_arrhythmia,
            end_organ_symptoms: d.end_organ_symptoms,
            severe_distress_or_emergence: d.severe_distress_or_emergence,
        }
    }
}

/// An intervention as typed (INT-005).
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct InterventionForm {
    /// When (RFC 3339); now when empty.
    #[schema(value_type = schemas::TimeOrBlank)]
    pub at: String,
    /// The alarm that triggered it, if any; its rule and value are copied.
    #[schema(value_type = schemas::IdOrBlank)]
    pub alarm_id: String,
    /// The trigger value when there is no alarm (for example "patient anxious").
    pub trigger_value: String,
    pub action: String,
    pub drug_name: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub drug_dose_mg: String,
    pub drug_route: String,
    pub response: String,
    /// `yes` when the session (dosing) was stopped.
    pub session_stopped: String,
}

impl From<InterventionForm> for uc::InterventionForm {
    fn from(d: InterventionForm) -> Self {
        Self {
            at: d.at,
            alarm_id: d.alarm_id,
            trigger_value: d.trigger_value,
            action: d.action,
            drug_name: d.drug_name,
            drug_dose_mg: d.drug_dose_mg,
            drug_route: d.drug_route,
            response: d.response,
            session_stopped: d.session_stopped,
        }
    }
}

/// A CADSS-6 rating as typed (form or JSON). The items keep their CADSS-23 numbers
/// (1, 2, 6, 7, 15, 22; instruments.md §6.2), each rated 0–4. Item wording is not
/// shipped (instruments.md §1): the rater uses the clinic's licensed form.
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct Cadss6Input {
    /// `pre_dose`, `peak_40`, `min_120`, `min_240` or `before_discharge` (MON-KET-005).
    #[schema(value_type = schemas::Cadss6TimePoint)]
    pub time_point: String,
    /// When rated (RFC 3339); now when empty.
    #[schema(value_type = schemas::TimeOrBlank)]
    pub at: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub item_1: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub item_2: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub item_6: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub item_7: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub item_15: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub item_22: String,
}

impl From<Cadss6Input> for uc::Cadss6Input {
    fn from(d: Cadss6Input) -> Self {
        Self {
            time_point: d.time_point,
            at: d.at,
            item_1: d.item_1,
            item_2: d.item_2,
            item_6: d.item_6,
            item_7: d.item_7,
            item_15: d.item_15,
            item_22: d.item_22,
        }
    }
}

/// What staff send for the gate: the §3 checklist and, when the core does not say
/// proceed, the override or deferral.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GateInput {
    #[schema(value_type = schemas::GateChecklistSchema)]
    pub checklist: GateChecklist,
    /// A prescriber's documented reason to proceed despite findings that need one.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// Why the session is deferred (required to defer).
    #[serde(default)]
    pub defer_reason: Option<String>,
    /// A new date for a deferred session (YYYY-MM-DD).
    #[serde(default)]
    #[schema(value_type = Option<schemas::DayOrBlank>)]
    pub reschedule_to: Option<String>,
}

impl From<GateInput> for uc::GateInput {
    fn from(d: GateInput) -> Self {
        Self {
            checklist: d.checklist,
            override_reason: d.override_reason,
            defer_reason: d.defer_reason,
            reschedule_to: d.reschedule_to,
        }
    }
}

/// What staff send to open a dosing session (the body may be empty).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OpenSessionInput {
    /// A prescriber's reason to open a session for a patient who already had a dose this
    /// clinic day (one dose day per patient; a nurse cannot override).
    #[serde(default)]
    pub override_reason: Option<String>,
}

impl From<OpenSessionInput> for uc::OpenSessionInput {
    fn from(d: OpenSessionInput) -> Self {
        Self { override_reason: d.override_reason }
    }
}

/// What a prescriber sends to sign a plan (the body may be empty).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SignPlanInput {
    /// Required when another active ketamine or esketamine plan of the patient overlaps
    /// this one's dates.
    #[serde(default)]
    pub overlap_reason: Option<String>,
}

impl From<SignPlanInput> for uc::SignPlanInput {
    fn from(d: SignPlanInput) -> Self {
        Self { overlap_reason: d.overlap_reason }
    }
}

/// One administration event (DOSE-GEN-002, DOSE-IN-001).
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct AdministrationInput {
    /// What the route allows (`kat_core::dosing::order::allowed_steps`): `dose`
    /// (injection, oral, nasal racemic), `device` (one esketamine device), or for IV
    /// `infusion_start`, `infusion_pause`, `infusion_resume`, `infusion_rate_change`,
    /// `infusion_stop`.
    #[schema(value_type = schemas::AdministrationKind)]
    pub kind: String,
    #[schema(max_length = 200, extensions(("x-single-line" = json!(true))))]
    pub administered_by: String,
    #[schema(max_length = 200, extensions(("x-single-line" = json!(true))))]
    pub monitored_by: String,
    #[schema(max_length = 200, extensions(("x-single-line" = json!(true))))]
    pub product: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub concentration_mg_per_ml: String,
    #[schema(max_length = 200, extensions(("x-single-line" = json!(true))))]
    pub lot: String,
    #[schema(value_type = schemas::DayOrBlank)]
    pub expiry: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub dose_mg: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub rate_ml_per_h: String,
    /// When it happened (RFC 3339); now when empty.
    #[schema(value_type = schemas::TimeOrBlank)]
    pub at: String,
}

impl From<AdministrationInput> for uc::AdministrationInput {
    fn from(d: AdministrationInput) -> Self {
        Self {
            kind: d.kind,
            administered_by: d.administered_by,
            monitored_by: d.monitored_by,
            product: d.product,
            concentration_mg_per_ml: d.concentration_mg_per_ml,
            lot: d.lot,
            expiry: d.expiry,
            dose_mg: d.dose_mg,
            rate_ml_per_h: d.rate_ml_per_h,
            at: d.at,
        }
    }
}

/// What staff assess at discharge (DC-003, DC-004), and an optional prescriber override.
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct DischargeInputForm {
    /// Modified Aldrete score, 0–10 (DC-003).
    #[schema(maximum = 10)]
    #[serde(deserialize_with = "whole")]
    pub aldrete_total: Option<u8>,
    /// The pre-sedation Aldrete score, 0–10.
    #[schema(maximum = 10)]
    #[serde(deserialize_with = "whole")]
    pub pre_sedation_aldrete: Option<u8>,
    /// MOAA/S, 0–5.
    #[schema(maximum = 5)]
    #[serde(deserialize_with = "whole")]
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
    #[schema(maximum = 4294967295_u64)]
    #[serde(deserialize_with = "whole")]
    pub rems_ready_to_leave_minutes: Option<u32>,
}

impl From<DischargeInputForm> for uc::DischargeInputForm {
    fn from(d: DischargeInputForm) -> Self {
        Self {
            aldrete_total: d.aldrete_total,
            pre_sedation_aldrete: d.pre_sedation_aldrete,
            moaas: d.moaas,
            dissociation_resolved: d.dissociation_resolved,
            able_to_walk_safely: d.able_to_walk_safely,
            active_nausea: d.active_nausea,
            suicidal_crisis: d.suicidal_crisis,
            escort_present: d.escort_present,
            written_instructions_given: d.written_instructions_given,
            clinician_judges_stable: d.clinician_judges_stable,
            override_reason: d.override_reason,
            rems_ready_to_leave_minutes: d.rems_ready_to_leave_minutes,
        }
    }
}

/// The calculated dose, shown to whoever signs or administers (DOSE-GEN-002, DOSE-IV-004).
#[derive(Serialize, ToSchema)]
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

impl From<uc::DoseFigures> for DoseFigures {
    fn from(v: uc::DoseFigures) -> Self {
        Self {
            mg: v.mg,
            mg_per_kg: v.mg_per_kg,
            weight_kg: v.weight_kg,
            weight_basis: v.weight_basis,
            weight_measured_on: v.weight_measured_on,
            weight_basis_chosen: v.weight_basis_chosen,
            measured_weight_kg: v.measured_weight_kg,
            height_cm: v.height_cm,
            bmi: v.bmi,
            concentration_mg_per_ml: v.concentration_mg_per_ml,
            stock_ml: v.stock_ml,
            diluted_ml: v.diluted_ml,
            infusion_minutes: v.infusion_minutes,
            rate_ml_per_h: v.rate_ml_per_h,
        }
    }
}

/// The stored plan (`treatment_plans.content`).
#[derive(Serialize, ToSchema)]
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

impl From<uc::PlanContent> for PlanContent {
    fn from(v: uc::PlanContent) -> Self {
        Self {
            indication: v.indication,
            route: v.route,
            protocol: v.protocol,
            protocol_name: v.protocol_name,
            product: v.product,
            course_sessions: v.course_sessions,
            endpoint: v.endpoint,
            reassessment: v.reassessment,
            maintenance: v.maintenance,
            dose_style: v.dose_style,
            kap_style: v.kap_style,
            esketamine_regimen: v.esketamine_regimen,
            dose: v.dose.into(),
            dose_findings: v.dose_findings,
            dose_level: v.dose_level,
            warning_reason: v.warning_reason,
            override_reason: v.override_reason,
            override_by: v.override_by,
            schedule: v.schedule,
        }
    }
}

/// The previous dose of the course, as the order saw it.
#[derive(Serialize, ToSchema)]
pub struct PreviousDose {
    pub on: String,
    pub mg: f64,
}

impl From<uc::PreviousDose> for PreviousDose {
    fn from(v: uc::PreviousDose) -> Self {
        Self { on: v.on, mg: v.mg }
    }
}

/// A stored dose order (`session_dose_orders.content`).
#[derive(Serialize, ToSchema)]
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

impl From<uc::DoseOrder> for DoseOrder {
    fn from(v: uc::DoseOrder) -> Self {
        Self {
            mg: v.mg,
            mg_per_kg: v.mg_per_kg,
            weight_kg: v.weight_kg,
            plan_mg: v.plan_mg,
            previous: v.previous.map(Into::into),
            tolerability: v.tolerability,
            efficacy: v.efficacy,
            suggestion: v.suggestion,
            reason: v.reason,
            findings: v.findings,
            level: v.level,
            warning_reason: v.warning_reason,
            override_reason: v.override_reason,
            override_by: v.override_by,
        }
    }
}

/// One answered CADSS-6 item.
#[derive(Serialize, ToSchema)]
pub struct Cadss6Answer {
    /// The CADSS item number.
    pub item: String,
    /// 0–4.
    pub value: u8,
}

impl From<uc::Cadss6Answer> for Cadss6Answer {
    fn from(v: uc::Cadss6Answer) -> Self {
        Self { item: v.item, value: v.value }
    }
}

/// A scored CADSS-6 rating, stored as the `cadss6` session event.
#[derive(Serialize, ToSchema)]
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

impl From<uc::Cadss6Rating> for Cadss6Rating {
    fn from(v: uc::Cadss6Rating) -> Self {
        Self {
            time_point: v.time_point,
            at: v.at,
            minutes_after_start: v.minutes_after_start,
            answers: v.answers.into_iter().map(Into::into).collect(),
            total: v.total,
            rated_by: v.rated_by,
        }
    }
}

/// The REMS Patient Monitoring Form filled from the session record, the patient record
/// and the intake. `missing` names what the record lacks; the form is complete when it
/// is empty and the session is discharged.
#[derive(Serialize, ToSchema)]
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

impl From<uc::RemsForm> for RemsForm {
    fn from(v: uc::RemsForm) -> Self {
        Self {
            session_id: v.session_id,
            patient_id: v.patient_id,
            patient: v.patient,
            birth_date: v.birth_date,
            sex: v.sex,
            discharged: v.discharged,
            treatment_date: v.treatment_date,
            due: v.due,
            submitted: v.submitted,
            first_treatment_enrolled: v.first_treatment_enrolled,
            concomitant: v.concomitant,
            concomitant_classes: v.concomitant_classes.into_iter().map(Into::into).collect(),
            monitored_by: v.monitored_by,
            dose_mg: v.dose_mg,
            lots: v.lots,
            duration_minutes: v.duration_minutes,
            ready_to_leave_minutes: v.ready_to_leave_minutes,
            vitals_ok_before: v.vitals_ok_before,
            vitals_ok_at_completion: v.vitals_ok_at_completion,
            bp_before: v.bp_before,
            bp_40_min: v.bp_40_min,
            bp_completion: v.bp_completion,
            sedation: v.sedation,
            respiratory_depression: v.respiratory_depression,
            pulse_oximetry_checked: v.pulse_oximetry_checked,
            serious_adverse_events: v.serious_adverse_events,
            sedation_rated: v.sedation_rated,
            dissociation: v.dissociation,
            dissociation_ratings: v.dissociation_ratings,
            missing: v.missing,
            to_fill_on_form: v.to_fill_on_form,
        }
    }
}

/// One DDI-010 medicine class on the REMS form and whether the patient currently takes it.
#[derive(Serialize, ToSchema)]
pub struct RemsMedicineClass {
    /// `benzodiazepines`, `non_benzodiazepine_sedative_hypnotics`, `psychostimulants`,
    /// `maois`, `opioids`, `other_sedatives`.
    pub class: String,
    pub current_use: bool,
}

impl From<uc::RemsMedicineClass> for RemsMedicineClass {
    fn from(v: uc::RemsMedicineClass) -> Self {
        Self { class: v.class, current_use: v.current_use }
    }
}

/// A transfer to emergency care as typed: when (RFC 3339, now when empty) and why
/// (required).
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// When the patient left for emergency care (RFC 3339); now when empty.
    #[schema(value_type = schemas::TimeOrBlank)]
    pub at: String,
    /// What happened and where the patient goes (required).
    #[schema(min_length = 1)]
    pub reason: String,
}

impl From<TransferInput> for uc::TransferInput {
    fn from(d: TransferInput) -> Self {
        Self { at: d.at, reason: d.reason }
    }
}

/// The REMS form's hand-filled fields (issue 11 item 5: completed after discharge too).
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct RemsFieldsInput {
    /// Without the 2-hour minimum, when the patient would have been ready to leave:
    /// whole minutes from the start of administration (0–1440; required).
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::ReadyToLeaveMinutes, required = true)]
    pub ready_to_leave_minutes: String,
}

/// An adverse event as typed (§5).
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct AdverseEventInput {
    /// The CTCAE term, for example "Hypertension" (required).
    #[schema(min_length = 1)]
    pub term: String,
    /// The catalogue entry of §5.1 (`AE-001` to `AE-019`), or empty.
    #[schema(pattern = r"^[^\S\u000b\u000c]*(AE-0*([1-9]|1[0-9]))?[^\S\u000b\u000c]*$")]
    pub catalogue: String,
    /// The CTCAE grade, 1 to 5 (5 is death: the outcome is then fatal and the event
    /// serious with `death`).
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = schemas::NumberText)]
    pub grade: String,
    /// When it began (RFC 3339), not in the future.
    #[schema(format = DateTime)]
    pub onset: String,
    /// When it resolved (RFC 3339), or empty; required when the outcome is `recovered`.
    #[schema(value_type = schemas::TimeOrBlank)]
    pub resolved: String,
    /// SAE criteria, comma-separated (empty: not serious): `death`, `life_threatening`,
    /// `hospitalization`, `disability`, `congenital_anomaly`,
    /// `other_important_medical_event`.
    pub serious: String,
    #[schema(value_type = schemas::AeRelatedness)]
    pub relatedness: String,
    /// What was done (required; "none" if nothing).
    #[schema(min_length = 1)]
    pub action_taken: String,
    #[schema(value_type = schemas::AeOutcomeName)]
    pub outcome: String,
}

impl From<AdverseEventInput> for kat_core::monitoring::adverse::AdverseEventForm {
    fn from(d: AdverseEventInput) -> Self {
        Self {
            term: d.term,
            catalogue: d.catalogue,
            grade: d.grade,
            onset: d.onset,
            resolved: d.resolved,
            serious: d.serious,
            relatedness: d.relatedness,
            action_taken: d.action_taken,
            outcome: d.outcome,
        }
    }
}
