//! `/api/v1` for dosing: treatment plans, dosing sessions (gate, administrations, vitals
//! from a nurse or a device, alarms, discharge) and the floor board.

use super::dosing_types::{
    AdministrationInput, AdverseEventInput, Cadss6Input, Cadss6Rating, DischargeInputForm, DoseOrder, DoseOrderInput,
    GateInput, InterventionForm, OpenSessionInput, PlanContent, PlanInput, PreviousDose, RemsFieldsInput, RemsForm,
    SignPlanInput, TransferInput, VitalsInput,
};
use super::{ApiJson, ApiJsonOrEmpty, ApiObject, ApiPath, ApiQuery, Caller, schemas};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kat_app::AppError;
use kat_app::dosing as uc;
use kat_core::FieldErrors;
use kat_core::dosing::titration::{Efficacy, Tolerability};
use kat_core::ids::{DosingSessionId, PatientId, SessionAlarmId, TreatmentPlanId};
use kat_store::dosing::{
    AdministrationRecord, AlarmRecord, DosingSessionRecord, alarm_kind_str, gate_outcome_str, route_str, severity_str,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::ToSchema;

fn invalid(field: &str, msg: &str) -> AppError {
    AppError::Invalid(FieldErrors::single(field, msg))
}

/// The body as `T` (its numeric fields take a number or its text).
fn body<T: DeserializeOwned>(map: Map<String, Value>) -> Result<T, AppError> {
    Ok(super::extract::from_value(Value::Object(map))?)
}

fn id<T: std::str::FromStr>(caller: &Caller, raw: &str, what: &'static str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| caller.fail(AppError::NotFound(what)))
}

#[derive(Serialize, ToSchema)]
pub struct PlanDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    patient_id: String,
    signed: bool,
    #[schema(format = DateTime)]
    signed_at: Option<String>,
    content: PlanContent,
    /// Signed while another active plan overlapped: the prescriber's reason.
    overlap_reason: Option<String>,
    /// The overlapping plans it was signed over, in words.
    overlaps: Vec<String>,
}

impl From<&uc::PlanView> for PlanDto {
    fn from(p: &uc::PlanView) -> Self {
        Self {
            id: p.record.id.to_string(),
            patient_id: p.record.patient_id.to_string(),
            signed: p.signed(),
            signed_at: p.record.signed_at.map(|t| t.to_string()),
            content: p.content.clone().into(),
            overlap_reason: p.overlap_override().map(|o| o.reason),
            overlaps: p
                .overlap_override()
                .map(|o| o.overlaps.iter().map(|x| x.to_string()).collect())
                .unwrap_or_default(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AlarmDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    session_id: String,
    /// The spec rule (ALM-001..006).
    rule: String,
    kind: String,
    /// `notify`, `intervene` or `emergency`.
    severity: String,
    /// The recommended action (§4.3/§4.4).
    action: String,
    #[schema(value_type = Object)]
    value: Value,
    #[schema(format = DateTime)]
    raised_at: String,
    #[schema(format = DateTime)]
    acknowledged_at: Option<String>,
    action_taken: Option<String>,
}

impl From<&AlarmRecord> for AlarmDto {
    fn from(a: &AlarmRecord) -> Self {
        let content: Value = serde_json::from_str(&a.content).unwrap_or(Value::Null);
        Self {
            id: a.id.to_string(),
            session_id: a.session_id.to_string(),
            rule: a.rule.to_string(),
            kind: alarm_kind_str(a.kind),
            severity: severity_str(a.severity),
            action: content["action"].as_str().unwrap_or_default().to_string(),
            value: content["value"].clone(),
            raised_at: a.raised_at.to_string(),
            acknowledged_at: a.acknowledged_at.map(|t| t.to_string()),
            action_taken: a.action_taken.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    patient_id: String,
    #[schema(format = Uuid)]
    plan_id: String,
    route: String,
    /// `proceed`, `override`, `defer`, or null before the gate.
    gate_outcome: Option<String>,
    #[schema(format = DateTime)]
    discharged_at: Option<String>,
    /// Opened over one dose day by a prescriber: "Second dose today — override by …: reason".
    dose_day_override: Option<String>,
    /// When the session ended by a transfer to emergency care (a separate exit, never a
    /// discharge), if it did.
    #[schema(format = DateTime)]
    transferred_at: Option<String>,
}

impl From<&DosingSessionRecord> for SessionDto {
    fn from(s: &DosingSessionRecord) -> Self {
        Self {
            id: s.id.to_string(),
            patient_id: s.patient_id.to_string(),
            plan_id: s.plan_id.to_string(),
            route: route_str(s.route),
            gate_outcome: s.gate_outcome.map(gate_outcome_str),
            discharged_at: s.discharged_at.map(|t| t.to_string()),
            dose_day_override: s
                .dose_day_override
                .as_deref()
                .and_then(|j| serde_json::from_str::<kat_core::dosing::course::DoseDayOverride>(j).ok())
                .map(|o| o.summary()),
            transferred_at: uc::transferred(s).map(|t| t.to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionDetailDto {
    session: SessionDto,
    plan: PlanDto,
    #[schema(value_type = Vec<Object>)]
    administrations: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    vitals: Vec<Value>,
    alarms: Vec<AlarmDto>,
    /// Adverse events and interventions: `{kind, at, event}`.
    #[schema(value_type = Vec<Object>)]
    events: Vec<Value>,
    /// The CADSS-6 ratings (MON-KET-005), by time: time point, minutes after the start
    /// of dosing, answers, total and who rated.
    cadss6: Vec<Cadss6Rating>,
    /// Dose orders for this session (titration), oldest first; the latest is in force.
    orders: Vec<DoseOrder>,
    /// The dose in force (the latest order, else the plan's), in mg.
    ordered_mg: f64,
    /// What has been given so far in this session, in mg.
    given_mg: f64,
    /// When the next check is due (MON-KET-003, MON-SPV-002).
    #[schema(format = DateTime)]
    next_check_at: Option<String>,
}

impl From<&uc::SessionView> for SessionDetailDto {
    fn from(v: &uc::SessionView) -> Self {
        Self {
            session: SessionDto::from(&v.session),
            plan: PlanDto::from(&v.plan),
            administrations: v.administrations.iter().map(administration_json).collect(),
            vitals: v.vitals.iter().map(|(_, r)| serde_json::to_value(r).unwrap_or(Value::Null)).collect(),
            alarms: v.alarms.iter().map(AlarmDto::from).collect(),
            events: v
                .events
                .iter()
                .map(|e| {
                    serde_json::json!({"id": e.id.to_string(), "kind": e.kind.as_str(), "at": e.at.to_string(),
                    "recorded_at": e.recorded_at.to_string(), "late": e.late,
                    "event": serde_json::from_str::<Value>(&e.content).unwrap_or(Value::Null)})
                })
                .collect(),
            cadss6: uc::cadss6_ratings(v).into_iter().map(Into::into).collect(),
            orders: v.orders.iter().cloned().map(Into::into).collect(),
            ordered_mg: v.ordered_mg(),
            given_mg: v.given_mg(),
            next_check_at: v.next_check.as_ref().map(|c| c.at.to_string()),
        }
    }
}

/// An administration as the API shows it: the fields of the form it was entered with
/// (numbers as text, as `AdministrationInput`), with when it was recorded and whether it
/// is a late entry.
fn administration_json(a: &AdministrationRecord) -> Value {
    use kat_core::dosing::session::Step;
    let x = &a.administration;
    let text = |t: Option<&kat_core::dosing::session::ShortText>| t.map(|t| t.as_str().to_string()).unwrap_or_default();
    let product = x.product();
    serde_json::json!({
        "kind": x.step().kind(),
        "administered_by": text(x.administered_by()),
        "monitored_by": text(x.monitored_by()),
        "product": text(product.map(|p| &p.name)),
        "concentration_mg_per_ml": product.and_then(|p| p.concentration).map(|c| c.value().to_string()).unwrap_or_default(),
        "lot": text(product.map(|p| &p.lot)),
        "expiry": product.map(|p| p.expiry.to_string()).unwrap_or_default(),
        "dose_mg": x.step().mg().map(|m| m.value().to_string()).unwrap_or_default(),
        "rate_ml_per_h": match x.step() {
            Step::InfusionStart { rate, .. } | Step::InfusionResume { rate } | Step::InfusionRateChange { rate } => rate.value().to_string(),
            _ => String::new(),
        },
        "at": x.at().to_string(),
        "recorded_at": a.recorded_at.to_string(),
        "late": a.late,
    })
}

#[derive(Serialize, ToSchema)]
pub struct VitalsDto {
    #[schema(format = Uuid)]
    id: String,
    /// The alarms this reading raised (one per kind).
    alarms: Vec<AlarmDto>,
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckInput {
    /// The action taken (INT-005).
    #[schema(min_length = 1)]
    action: String,
}

/// Draft a treatment plan (prescribers). Needs an accepted, non-stale eligibility decision.
#[utoipa::path(
    operation_id = "create_treatment_plan",
    post,
    path = "/api/v1/patients/{id}/treatment-plans",
    tag = "dosing",
    params(("id" = String, Path, description = "The patient's id")),
    request_body = PlanInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = PlanDto),
        (status = 403, description = "Only prescribers plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No accepted, current eligibility decision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid, or the dose check needs a reason or override (a medical director's override is confirmed with `reauth_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong confirmations (`reauth_code`): the sign-in throttle applies (`Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Response, ApiError> {
    let patient: PatientId = id(&caller, &raw, "patient")?;
    let input: uc::PlanInput = body::<PlanInput>(raw_body).map_err(|e| caller.fail(e))?.into();
    let plan = uc::create_plan(state.store.as_ref(), &caller.ctx, &state.config.dosing, patient, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(PlanDto::from(&plan))).into_response())
}

/// A patient's treatment plans, oldest first.
#[utoipa::path(
    operation_id = "list_treatment_plans",
    get,
    path = "/api/v1/patients/{id}/treatment-plans",
    tag = "dosing",
    params(("id" = String, Path, description = "The patient's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<PlanDto>),
        (status = 403, description = "Clinicians only", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_plans(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Vec<PlanDto>>, ApiError> {
    let patient: PatientId = id(&caller, &raw, "patient")?;
    let plans = uc::plans(state.store.as_ref(), &caller.ctx, patient).await.map_err(|e| caller.fail(e))?;
    Ok(Json(plans.iter().map(PlanDto::from).collect()))
}

/// Sign a treatment plan (prescribers).
#[utoipa::path(
    operation_id = "sign_treatment_plan",
    post,
    path = "/api/v1/patients/{id}/treatment-plans/{plan}/sign",
    tag = "dosing",
    params(("id" = String, Path, description = "The patient's id"), ("plan" = String, Path, description = "The plan's id")),
    request_body(content = Option<SignPlanInput>, description = "Optional: the reason to sign over an overlapping plan"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = PlanDto),
        (status = 403, description = "Only prescribers sign", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already signed, or the eligibility decision is no longer current", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Another active plan overlaps: `overlap_reason` names it and is required", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, plan)): ApiPath<(String, String)>,
    ApiJsonOrEmpty(input): ApiJsonOrEmpty<SignPlanInput>,
) -> Result<Json<PlanDto>, ApiError> {
    let patient: PatientId = id(&caller, &raw, "patient")?;
    let plan: TreatmentPlanId = id(&caller, &plan, "treatment plan")?;
    let input: uc::SignPlanInput = input.into();
    let plan =
        uc::sign_plan(state.store.as_ref(), &caller.ctx, patient, plan, &input).await.map_err(|e| caller.fail(e))?;
    Ok(Json(PlanDto::from(&plan)))
}

/// Open a dosing session on a signed plan (nurses, prescribers).
#[utoipa::path(
    operation_id = "open_dosing_session",
    post,
    path = "/api/v1/patients/{id}/treatment-plans/{plan}/sessions",
    tag = "dosing",
    params(("id" = String, Path, description = "The patient's id"), ("plan" = String, Path, description = "The plan's id")),
    request_body(content = Option<OpenSessionInput>, description = "Optional: a prescriber's reason to open a second session the same clinic day"),
    security(("bearer" = [])),
    responses(
        (status = 201, body = SessionDto),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is not signed, or another session of the patient is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The patient already had a dose this clinic day: `override_reason` names that session and is required, from a prescriber", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn open_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, plan)): ApiPath<(String, String)>,
    ApiJsonOrEmpty(input): ApiJsonOrEmpty<OpenSessionInput>,
) -> Result<Response, ApiError> {
    let patient: PatientId = id(&caller, &raw, "patient")?;
    let plan: TreatmentPlanId = id(&caller, &plan, "treatment plan")?;
    let input: uc::OpenSessionInput = input.into();
    let s = uc::open_session(state.store.as_ref(), &caller.ctx, &state.config.dosing, patient, plan, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(SessionDto::from(&s))).into_response())
}

/// A dosing session: plan, administrations, vitals, alarms and the next check.
#[utoipa::path(
    operation_id = "read_dosing_session",
    get,
    path = "/api/v1/sessions/{id}",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = SessionDetailDto),
        (status = 403, description = "Clinicians only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn read_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<SessionDetailDto>, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let v =
        uc::session(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(SessionDetailDto::from(&v)))
}

/// Run the pre-dose gate (§3): `checklist` (the day-of checks), and `override_reason`
/// (prescribers) or `defer_reason` + `reschedule_to` when the gate does not say proceed.
#[utoipa::path(
    operation_id = "record_dosing_gate",
    post,
    path = "/api/v1/sessions/{id}/gate",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = GateInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The gate's outcome", body = Object),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Gate already passed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The gate needs an override or a deferral reason", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn gate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Json<Value>, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let input: uc::GateInput = body::<GateInput>(raw_body).map_err(|e| caller.fail(e))?.into();
    let g = uc::record_gate(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(serde_json::to_value(&g).unwrap_or(Value::Null)))
}

/// Record an administration event (refused with 409 before the gate is passed).
#[utoipa::path(
    operation_id = "record_administration",
    post,
    path = "/api/v1/sessions/{id}/administrations",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = AdministrationInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = Object),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The pre-dose gate is not passed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (or the 5-minute device rest, DOSE-IN-001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn administer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Response, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let input: uc::AdministrationInput = body::<AdministrationInput>(raw_body).map_err(|e| caller.fail(e))?.into();
    let a = uc::record_administration(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"id": a.id.to_string(), "administration": administration_json(&a)})),
    )
        .into_response())
}

/// Post one set of vitals (nurse entry or a device feed: send `device_id`). Every value is
/// checked against the alarm policy when saved; the alarms raised are returned.
#[utoipa::path(
    operation_id = "record_session_vitals",
    post,
    path = "/api/v1/sessions/{id}/vitals",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = VitalsInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = VitalsDto),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn vitals(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Response, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let input: uc::VitalsInput = body::<VitalsInput>(raw_body).map_err(|e| caller.fail(e))?.into();
    let saved = uc::record_vitals(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((
        StatusCode::CREATED,
        Json(VitalsDto { id: saved.vital.id.to_string(), alarms: saved.alarms.iter().map(AlarmDto::from).collect() }),
    )
        .into_response())
}

/// Acknowledge a session alarm with the action taken (INT-005).
#[utoipa::path(
    operation_id = "acknowledge_session_alarm",
    post,
    path = "/api/v1/session-alarms/{id}/acknowledge",
    tag = "dosing",
    params(("id" = String, Path, description = "The alarm's id")),
    request_body = AckInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = AlarmDto),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already acknowledged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The action taken is required", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(input): ApiJson<AckInput>,
) -> Result<Json<AlarmDto>, ApiError> {
    let aid: SessionAlarmId = id(&caller, &raw, "alarm")?;
    let a = uc::acknowledge_alarm(state.store.as_ref(), &caller.ctx, aid, &input.action)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(AlarmDto::from(&a)))
}

/// Discharge (§4.5): refused (422 `override_reason` naming each unmet criterion) until
/// every criterion holds, unless a prescriber overrides with a reason.
#[utoipa::path(
    operation_id = "discharge_dosing_session",
    post,
    path = "/api/v1/sessions/{id}/discharge",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = DischargeInputForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Discharged", body = Object),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already discharged, or nothing administered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Criteria unmet and no (allowed) override", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn discharge(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Json<Value>, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let input: uc::DischargeInputForm = body::<DischargeInputForm>(raw_body).map_err(|e| caller.fail(e))?.into();
    let d = uc::discharge(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(serde_json::to_value(&d).unwrap_or(Value::Null)))
}

/// The floor board: open sessions with unacknowledged alarms and the next check.
#[utoipa::path(
    operation_id = "floor_board",
    get,
    path = "/api/v1/floor-board",
    tag = "dosing",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<SessionDetailDto>),
        (status = 403, description = "Clinicians only", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn floor(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<SessionDetailDto>>, ApiError> {
    let list =
        uc::floor_board(state.store.as_ref(), &caller.ctx, &state.config.dosing).await.map_err(|e| caller.fail(e))?;
    Ok(Json(list.iter().map(SessionDetailDto::from).collect()))
}

/// Record an adverse event (§5): `term` (CTCAE), `catalogue` (AE-001..019, optional),
/// `grade` 1–5, `onset`, `resolved`, `serious` (comma-separated SAE criteria), `relatedness`,
/// `action_taken`, `outcome`.
#[utoipa::path(
    operation_id = "record_adverse_event",
    post,
    path = "/api/v1/sessions/{id}/adverse-events",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = AdverseEventInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = Object),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn adverse_event(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Response, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let form: kat_core::monitoring::adverse::AdverseEventForm =
        body::<AdverseEventInput>(raw_body).map_err(|e| caller.fail(e))?.into();
    let r = uc::record_adverse_event(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid, &form)
        .await
        .map_err(|e| caller.fail(e))?;
    let event: Value = serde_json::from_str(&r.content).unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": r.id.to_string(), "event": event}))).into_response())
}

/// Order this session's dose (titration from the previous dose and how it went:
/// DOSE-IV-010, DOSE-IN-002, DOSE-PO-002). Prescribers only, before dosing starts; checked
/// against the route limits with the course so far (84 mg of esketamine only after
/// 56 mg). Administrations are then refused beyond it.
#[utoipa::path(
    operation_id = "order_session_dose",
    post,
    path = "/api/v1/sessions/{id}/dose-order",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = DoseOrderInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Ordered", body = DoseOrder),
        (status = 403, description = "Prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Dosing has started or the session is discharged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid, or a warning or hard limit needs its reason (an override is confirmed with `reauth_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong confirmations (`reauth_code`): the sign-in throttle applies (`Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn dose_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Response, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let input: uc::DoseOrderInput = body::<DoseOrderInput>(raw_body).map_err(|e| caller.fail(e))?.into();
    let order =
        uc::order_dose(state.store.as_ref(), &caller.ctx, &state.config.dosing, &state.config.time_zone, sid, &input)
            .await
            .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(DoseOrder::from(order))).into_response())
}

/// Record an intervention (INT-005): time, trigger (an alarm or a value), action, drug,
/// dose and route, response, and whether dosing was stopped.
#[utoipa::path(
    operation_id = "record_intervention",
    post,
    path = "/api/v1/sessions/{id}/interventions",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = InterventionForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = Object),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn intervention(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Response, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let form: uc::InterventionForm = body::<InterventionForm>(raw_body).map_err(|e| caller.fail(e))?.into();
    let r = uc::record_intervention(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid, &form)
        .await
        .map_err(|e| caller.fail(e))?;
    let event: Value = serde_json::from_str(&r.content).unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": r.id.to_string(), "event": event}))).into_response())
}

/// Record a CADSS-6 dissociation rating (MON-KET-005, MON-SPV-006): `time_point`
/// (`pre_dose`, `peak_40`, `min_120`, `min_240`, `before_discharge`), `at` (RFC 3339,
/// now when absent) and `item_1`, `item_2`, `item_6`, `item_7`, `item_15`, `item_22`
/// (0–4; the CADSS item numbers). An incomplete rating is refused with one error per
/// missing item and is never scored.
#[utoipa::path(
    operation_id = "record_cadss6",
    post,
    path = "/api/v1/sessions/{id}/cadss6",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = Cadss6Input,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded and scored", body = Cadss6Dto),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid or an item is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cadss6(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Response, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let input: uc::Cadss6Input = body::<Cadss6Input>(raw_body).map_err(|e| caller.fail(e))?.into();
    let (r, rating) = uc::record_cadss6(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(Cadss6Dto { id: r.id.to_string(), rating: rating.into() })).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct Cadss6Dto {
    #[schema(format = Uuid)]
    id: String,
    rating: Cadss6Rating,
}

/// A REMS Patient Monitoring Form as JSON (MON-SPV-008).
#[derive(Serialize, ToSchema)]
pub struct RemsFormDto {
    #[serde(flatten)]
    form: RemsForm,
    /// Nothing missing and the session discharged: it may be marked submitted.
    complete: bool,
    /// The healthcare setting's name (`[clinic] name`).
    setting_name: String,
}

impl RemsFormDto {
    fn new(form: uc::RemsForm, state: &AppState) -> Self {
        Self { complete: form.complete(), form: form.into(), setting_name: state.config.clinic_name.clone() }
    }
}

/// The Spravato REMS Patient Monitoring Form of an esketamine session, filled from the
/// session record and the patient's record and intake; `missing` names what the record
/// lacks and `to_fill_on_form` the fields kat does not hold.
#[utoipa::path(
    operation_id = "read_rems_form",
    get,
    path = "/api/v1/sessions/{id}/rems",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = RemsFormDto),
        (status = 403, description = "Clinicians only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or not an esketamine session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rems_form(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<RemsFormDto>, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let form =
        uc::rems(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(RemsFormDto::new(form, &state)))
}

/// One entry of the REMS worklist.
#[derive(Serialize, ToSchema)]
pub struct RemsWorklistEntryDto {
    #[schema(format = Uuid)]
    session_id: String,
    #[schema(format = Uuid)]
    patient_id: String,
    /// The first device's time.
    #[schema(format = DateTime)]
    treatment_date: Option<String>,
    /// 7 days after the treatment date (MON-SPV-008).
    #[schema(format = DateTime)]
    due: Option<String>,
    complete: bool,
    #[schema(format = DateTime)]
    submitted: Option<String>,
    missing: Vec<&'static str>,
}

/// Every esketamine session's REMS form, oldest first: deadline, complete, submitted.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemsListParams {
    /// At most this many per page (1–50, default 50); more is taken as the most, 0 as 1.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// Which page (from 1, default 1; 0 is taken as 1), newest sessions first. The `Link` header names the
    /// previous and next pages.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    page: Option<u32>,
}

/// One page of the REMS forms of esketamine sessions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/rems-forms",
    tag = "dosing",
    params(RemsListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<RemsWorklistEntryDto>, headers(("link" = String, description = "RFC 8288 links to the previous (`rel=\"prev\"`) and next (`rel=\"next\"`) pages, when there are any"))),
        (status = 403, description = "Clinicians only", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rems_forms(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<RemsListParams>,
) -> Result<super::Paged<RemsWorklistEntryDto>, ApiError> {
    let page = kat_core::page::PageRequest::new(params.page, params.limit, uc::REMS_PAGE, uc::REMS_PAGE);
    let forms = uc::rems_worklist(state.store.as_ref(), &caller.ctx, &state.config.dosing, page)
        .await
        .map_err(|e| caller.fail(e))?;
    let pager = crate::view::Pager::new(&forms, |n| super::page_href("/api/v1/rems-forms", &[], n, page.size()));
    Ok(super::Paged(
        pager,
        forms
            .items
            .iter()
            .map(|f| RemsWorklistEntryDto {
                session_id: f.session_id.to_string(),
                patient_id: f.patient_id.to_string(),
                treatment_date: f.treatment_date.map(|t| t.to_string()),
                due: f.due.map(|t| t.to_string()),
                complete: f.complete(),
                submitted: f.submitted.map(|t| t.to_string()),
                missing: f.missing.clone(),
            })
            .collect(),
    ))
}

/// Mark a session's REMS form as submitted (once). Refused with 409 naming what is
/// missing unless the session is closed (discharged, or transferred to emergency care)
/// and the form is complete.
#[utoipa::path(
    operation_id = "mark_rems_form_submitted",
    post,
    path = "/api/v1/sessions/{id}/rems/submitted",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Marked submitted", body = RemsFormDto),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or not an esketamine session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already submitted, or the form is not complete (the detail names what is missing)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rems_submitted(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<RemsFormDto>, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let form = uc::mark_rems_submitted(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(RemsFormDto::new(form, &state)))
}

/// The transfer recorded.
#[derive(Serialize, ToSchema)]
pub struct TransferDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = DateTime)]
    at: String,
    reason: String,
    /// Recorded well after its time (a late entry).
    late: bool,
}

/// End the session by a transfer to emergency care (issue 11 item 4): the separate exit
/// of a medical emergency, with its reason. Not a discharge: no further dosing, the
/// session is never discharged after it, and no reading dated after it is accepted.
#[utoipa::path(
    operation_id = "transfer_to_emergency_care",
    post,
    path = "/api/v1/sessions/{id}/transfer",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = TransferInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Transferred: the session has ended", body = TransferDto),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already discharged or transferred", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The reason is missing or the time is invalid (the field is named)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Response, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let input: uc::TransferInput = body::<TransferInput>(raw_body).map_err(|e| caller.fail(e))?.into();
    let r = uc::transfer_to_emergency_care(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    let t: uc::EmergencyTransfer =
        serde_json::from_str(&r.content).map_err(|e| caller.fail(AppError::Internal(e.to_string())))?;
    let dto = TransferDto { id: r.id.to_string(), at: r.at.to_string(), reason: t.reason, late: r.late };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// Complete the REMS form's hand-filled fields of an esketamine session (issue 11 item
/// 5): before or after the discharge (then a late entry); refused once it is marked
/// submitted. Answers the form as it now stands.
#[utoipa::path(
    operation_id = "complete_rems_fields",
    post,
    path = "/api/v1/sessions/{id}/rems/fields",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    request_body = RemsFieldsInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Saved; the form as it now stands", body = RemsFormDto),
        (status = 403, description = "Nurses and prescribers only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or not an esketamine session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The form is already marked submitted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`ready_to_leave_minutes` is missing or not whole minutes 0–1440", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rems_fields(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(raw_body): ApiObject,
) -> Result<Json<RemsFormDto>, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let input: RemsFieldsInput = body(raw_body).map_err(|e| caller.fail(e))?;
    let minutes = match input.ready_to_leave_minutes.trim().parse::<u32>() {
        Ok(m) if m <= 1440 => m,
        _ => {
            return Err(caller.fail(invalid(
                "ready_to_leave_minutes",
                "whole minutes from the start of administration (0 to 1440)",
            )));
        }
    };
    let fields = uc::RemsFields { ready_to_leave_minutes: Some(minutes) };
    let form = uc::complete_rems_fields(state.store.as_ref(), &caller.ctx, &state.config.dosing, sid, &fields)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(RemsFormDto::new(form, &state)))
}

/// One interaction finding the gate would add (DAY-004).
#[derive(Serialize, ToSchema)]
pub struct InteractionDto {
    /// The rule, for example `DDI-003` or `DAY-004`.
    rule: String,
    /// `monitor`, `override` (needs a prescriber) or `block`.
    action: String,
    message: String,
    /// An `override` finding the prescriber accepted at the current eligibility decision,
    /// the intake unchanged since: it needs no new override at the gate.
    accepted: Option<AcceptedDto>,
}

/// A finding accepted at eligibility (issue 11 item 7).
#[derive(Serialize, ToSchema)]
pub struct AcceptedDto {
    /// The clinic date of the eligibility decision.
    #[schema(format = Date)]
    on: String,
    /// The prescriber's name.
    by: String,
    reason: String,
}

/// The interaction findings the pre-dose gate would add (DAY-004): the interaction rules
/// (§1.4) rerun on the patient's current intake, and a finding when the intake changed
/// since the eligibility decision.
#[utoipa::path(
    operation_id = "read_gate_interactions",
    get,
    path = "/api/v1/sessions/{id}/gate/interactions",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<InteractionDto>),
        (status = 403, description = "Clinicians only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn gate_interactions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Vec<InteractionDto>>, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let findings =
        uc::gate_interactions_read(state.store.as_ref(), &caller.ctx, sid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(
        findings
            .into_iter()
            .map(|f| InteractionDto {
                rule: f.rule,
                action: serde_json::to_value(f.action)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                message: f.message,
                accepted: f.accepted.map(|a| AcceptedDto { on: a.on.to_string(), by: a.by, reason: a.reason }),
            })
            .collect(),
    ))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoseSuggestionParams {
    /// How the previous dose was tolerated.
    #[param(value_type = Option<schemas::TolerabilityName>, inline)]
    tolerability: Option<Tolerability>,
    /// How well the previous dose worked.
    #[param(value_type = Option<schemas::EfficacyName>, inline)]
    efficacy: Option<Efficacy>,
}

/// The previous dose and the titration suggestion.
#[derive(Serialize, ToSchema)]
pub struct DoseSuggestionDto {
    /// The previous dose of the course on this route (date and mg), if any.
    previous: Option<PreviousDose>,
    /// The core's titration suggestion (`action`, `dose`, `rule`, `rationale`), when there
    /// is a previous dose and both `tolerability` and `efficacy` are given.
    #[schema(value_type = Option<Object>)]
    suggestion: Option<Value>,
}

/// The session's previous dose and the core's titration suggestion for how it went
/// (DOSE-IV-010, DOSE-IN-002, DOSE-PO-002), before ordering the dose.
#[utoipa::path(
    operation_id = "read_dose_suggestion",
    get,
    path = "/api/v1/sessions/{id}/dose-suggestion",
    tag = "dosing",
    params(("id" = String, Path, description = "The session's id"), DoseSuggestionParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = DoseSuggestionDto),
        (status = 403, description = "Clinicians only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`tolerability` or `efficacy` is not one of its values", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn dose_suggestion(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(params): ApiQuery<DoseSuggestionParams>,
) -> Result<Json<DoseSuggestionDto>, ApiError> {
    let sid: DosingSessionId = id(&caller, &raw, "dosing session")?;
    let name = |v: Option<serde_json::Value>| v.and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let input = uc::DoseOrderInput {
        tolerability: name(params.tolerability.and_then(|t| serde_json::to_value(t).ok())),
        efficacy: name(params.efficacy.and_then(|e| serde_json::to_value(e).ok())),
        ..Default::default()
    };
    let cx = uc::dose_suggestion(
        state.store.as_ref(),
        &caller.ctx,
        &state.config.dosing,
        &state.config.time_zone,
        sid,
        &input,
    )
    .await
    .map_err(|e| caller.fail(e))?;
    Ok(Json(DoseSuggestionDto {
        previous: cx.previous.map(Into::into),
        suggestion: cx.suggestion.and_then(|s| serde_json::to_value(s).ok()),
    }))
}
