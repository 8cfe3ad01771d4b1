//! `/api/v1/patients/{id}/therapy-notes`, process notes, safety plan, care team,
//! program, timeline and `/api/v1/worklist`.

use super::{ApiJson, ApiObject, ApiPath, ApiQuery, Caller, Paged, page_href, schemas};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::view::Pager;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kat_app::{AppError, therapy};
use kat_core::FieldErrors;
use kat_core::ids::{PatientId, PlannedSessionId, ProcessNoteId, TherapyNoteId};
use kat_core::page::PageRequest;
use kat_core::therapy::care_team::CareRole;
use kat_core::therapy::note::{Addendum, AddendumForm, NoteForm, NoteKind, NoteStatus, TherapyNote};
use kat_core::therapy::process::ProcessNote;
use kat_core::therapy::safety_plan::{SafetyPlan, SafetyPlanForm};
use kat_core::therapy::schedule::PlannedSession;
use kat_core::therapy::timeline::{TimelineEntry, TimelineKind};
use kat_core::therapy::worklist::{WorkItem, WorkTarget};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

fn patient_id(caller: &Caller, raw: &str) -> Result<PatientId, ApiError> {
    raw.parse().map_err(|_| caller.fail(AppError::NotFound("patient")))
}

fn note_id(caller: &Caller, raw: &str) -> Result<TherapyNoteId, ApiError> {
    raw.parse().map_err(|_| caller.fail(AppError::NotFound("therapy note")))
}

/// The note fields that hold tags: an array of strings, or one comma-separated string.
const TAG_FIELDS: [&str; 2] = ["intention_tags", "themes"];

/// Copies JSON members into a note form: strings, `null`, arrays of strings (the tag
/// fields) and a boolean (`consent_reviewed`). Unknown members are named.
fn note_form(map: &Map<String, Value>, skip: &[&str]) -> Result<NoteForm, FieldErrors> {
    let mut form = NoteForm::default();
    let mut errors = FieldErrors::new();
    for (key, value) in map {
        if skip.contains(&key.as_str()) {
            continue;
        }
        let Some(slot) = form.field_mut(key) else {
            errors.add(key.clone(), "is not a known field");
            continue;
        };
        let (tags, flag) = (TAG_FIELDS.contains(&key.as_str()), key == "consent_reviewed");
        match value {
            Value::String(s) => *slot = s.clone(),
            Value::Null => slot.clear(),
            Value::Bool(b) if flag => *slot = if *b { "yes".into() } else { "no".into() },
            Value::Array(items) if tags && items.iter().all(Value::is_string) => {
                *slot = items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
            }
            _ if tags => errors.add(key.clone(), "must be an array of strings (or one comma-separated string)"),
            _ if flag => errors.add(key.clone(), "must be true or false"),
            _ => errors.add(key.clone(), "must be a string"),
        }
    }
    errors.into_result(|| form)
}

/// A therapy note. `content` holds the PSY-007 fields of its kind.
#[derive(Serialize, ToSchema)]
pub struct NoteDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    patient_id: String,
    /// `preparation`, `dosing_session`, `integration` or `follow_up`.
    kind: &'static str,
    #[schema(format = Uuid)]
    author_id: String,
    planned_session_id: Option<String>,
    /// `draft` or `signed` (locked: only addenda may follow).
    status: &'static str,
    signed_by: Option<String>,
    #[schema(format = DateTime)]
    signed_at: Option<String>,
    #[schema(value_type = Object)]
    content: Value,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    version: i64,
    addenda: Vec<AddendumDto>,
}

/// An addendum to a signed note.
#[derive(Serialize, ToSchema)]
pub struct AddendumDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    author_id: String,
    #[schema(format = DateTime)]
    at: String,
    reason: String,
    body: String,
}

impl From<&Addendum> for AddendumDto {
    fn from(a: &Addendum) -> Self {
        Self {
            id: a.id.to_string(),
            author_id: a.author.to_string(),
            at: a.at.to_string(),
            reason: a.reason.clone(),
            body: a.body.clone(),
        }
    }
}

fn note_dto(n: &TherapyNote, addenda: &[Addendum]) -> NoteDto {
    let (status, signed_by, signed_at) = match n.status {
        NoteStatus::Draft => ("draft", None, None),
        NoteStatus::Signed { by, at } => ("signed", Some(by.to_string()), Some(at.to_string())),
    };
    NoteDto {
        id: n.id.to_string(),
        patient_id: n.patient_id.to_string(),
        kind: n.kind.as_str(),
        author_id: n.author.to_string(),
        planned_session_id: n.planned_session.map(|s| s.to_string()),
        status,
        signed_by,
        signed_at,
        content: serde_json::to_value(&n.content).unwrap_or(Value::Null),
        created_at: n.created_at.to_string(),
        updated_at: n.updated_at.to_string(),
        version: n.version,
        addenda: addenda.iter().filter(|a| a.note_id == n.id).map(AddendumDto::from).collect(),
    }
}

/// Declares a note body: its own fields, then the fields of a note as every note kind
/// has them (a field that does not belong in the note's kind is refused, naming it):
/// text (trimmed, empty means not given, `null` clears), tags as an array or one
/// comma-separated string, `consent_reviewed` as a boolean or `yes`/`no`.
/// `session_date` (not in the future) is required.
macro_rules! note_body {
    ($(#[$meta:meta])* $name:ident { $($own:tt)* }) => {
        $(#[$meta])*
        #[derive(Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)] // Documents the body; the handler parses it field by field.
        pub struct $name {
            $($own)*
            #[schema(format = Date)]
            session_date: String,
            #[schema(value_type = Option<schemas::TherapyModalityOrBlank>)]
            modality: Option<String>,
            /// Required when `modality` is `other`.
            #[schema(max_length = 10000)]
            modality_other: Option<String>,
            /// Dosing-session notes: which session.
            #[schema(max_length = 100)]
            dosing_session_ref: Option<String>,
            #[schema(max_length = 10000)]
            intentions: Option<String>,
            /// Preparation notes.
            #[schema(value_type = Option<schemas::Tags>)]
            intention_tags: Option<Vec<String>>,
            #[schema(max_length = 10000)]
            fears_concerns: Option<String>,
            #[schema(max_length = 10000)]
            set_setting: Option<String>,
            #[schema(max_length = 10000)]
            psychoeducation: Option<String>,
            /// Preparation notes.
            #[schema(value_type = Option<schemas::Flag>)]
            consent_reviewed: Option<bool>,
            #[schema(max_length = 10000)]
            interventions: Option<String>,
            #[schema(max_length = 10000)]
            distress: Option<String>,
            /// Not in preparation notes.
            #[schema(value_type = Option<schemas::Tags>)]
            themes: Option<Vec<String>>,
            #[schema(max_length = 10000)]
            insights: Option<String>,
            #[schema(max_length = 10000)]
            emotions: Option<String>,
            #[schema(max_length = 10000)]
            changes_noticed: Option<String>,
            #[schema(max_length = 10000)]
            homework_assigned: Option<String>,
            #[schema(max_length = 10000)]
            homework_reviewed: Option<String>,
            #[schema(max_length = 10000)]
            goal_progress: Option<String>,
            /// Integration and follow-up notes (SUI-001; required to sign them).
            #[schema(value_type = Option<schemas::NoteRiskCheckOrBlank>)]
            risk_check: Option<String>,
            /// Required when no other field is filled in.
            #[schema(max_length = 10000)]
            narrative: Option<String>,
        }
    };
}

note_body! {
    /// A new draft: its `kind`, the planned session it records (optional) and its fields.
    NoteInput {
        #[schema(value_type = schemas::TherapyNoteKind, example = "integration")]
        kind: String,
        #[schema(format = Uuid)]
        planned_session: Option<String>,
    }
}

note_body! {
    /// A draft's fields, replacing all of them; `version` (if sent) must be the current
    /// one. `kind` may be sent but is not changed.
    NoteUpdate {
        version: Option<i64>,
        #[schema(value_type = Option<schemas::TherapyNoteKind>)]
        kind: Option<String>,
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// List a patient's therapy notes with their addenda.
#[utoipa::path(get, path = "/api/v1/patients/{id}/therapy-notes", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<NoteDto>),
        (status = 403, description = "The role may not read therapy notes", body = Problem, content_type = "application/problem+json")))]
pub async fn list_notes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Vec<NoteDto>>> {
    let pid = patient_id(&caller, &raw)?;
    let (notes, addenda) =
        therapy::list_notes(state.store.as_ref(), &caller.ctx, pid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(notes.iter().map(|n| note_dto(n, &addenda)).collect()))
}

/// Start a draft note.
#[utoipa::path(post, path = "/api/v1/patients/{id}/therapy-notes", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), request_body = NoteInput, security(("bearer" = [])),
    responses((status = 201, body = NoteDto),
        (status = 403, description = "The role may not write therapy notes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid; one entry per field", body = Problem, content_type = "application/problem+json")))]
pub async fn create_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(map): ApiObject,
) -> ApiResult<Response> {
    let pid = patient_id(&caller, &raw)?;
    let mut errors = FieldErrors::new();
    let kind = errors.take("kind", NoteKind::parse(map.get("kind").and_then(Value::as_str).unwrap_or("")));
    let session = match map.get("planned_session") {
        None | Some(Value::Null) => None,
        Some(v) => errors.take(
            "planned_session",
            v.as_str().unwrap_or("").parse::<PlannedSessionId>().map_err(|_| "is not a session id"),
        ),
    };
    let form = note_form(&map, &["kind", "planned_session"]);
    let form = match form {
        Ok(f) => Some(f),
        Err(e) => {
            e.iter().for_each(|f| errors.add(f.field.clone(), f.message.clone()));
            None
        }
    };
    let (Some(kind), Some(form)) = (kind, form) else {
        return Err(caller.fail(AppError::Invalid(errors)));
    };
    if !errors.is_empty() {
        return Err(caller.fail(AppError::Invalid(errors)));
    }
    let note = therapy::create_note(state.store.as_ref(), &caller.ctx, pid, kind, session, &form)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(note_dto(&note, &[]))).into_response())
}

/// Read one note with its addenda.
#[utoipa::path(get, path = "/api/v1/patients/{id}/therapy-notes/{note_id}", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id"), ("note_id" = String, Path, description = "The note's id")),
    security(("bearer" = [])),
    responses((status = 200, body = NoteDto), (status = 404, description = "No such note", body = Problem, content_type = "application/problem+json")))]
pub async fn read_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, raw_note)): ApiPath<(String, String)>,
) -> ApiResult<Json<NoteDto>> {
    let pid = patient_id(&caller, &raw)?;
    let nid = note_id(&caller, &raw_note)?;
    let (note, addenda) =
        therapy::get_note(state.store.as_ref(), &caller.ctx, pid, nid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(note_dto(&note, &addenda)))
}

/// Replace a draft's fields (send `version` to detect concurrent edits). A signed note
/// is refused with 409: add an addendum instead.
#[utoipa::path(put, path = "/api/v1/patients/{id}/therapy-notes/{note_id}", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id"), ("note_id" = String, Path, description = "The note's id")),
    request_body = NoteUpdate, security(("bearer" = [])),
    responses((status = 200, body = NoteDto),
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The note is signed and locked, or `version` is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json")))]
pub async fn update_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, raw_note)): ApiPath<(String, String)>,
    ApiObject(map): ApiObject,
) -> ApiResult<Json<NoteDto>> {
    let pid = patient_id(&caller, &raw)?;
    let nid = note_id(&caller, &raw_note)?;
    let version =
        match map.get("version") {
            None | Some(Value::Null) => None,
            Some(v) => Some(super::whole_number(v).ok_or_else(|| {
                caller.fail(AppError::Invalid(FieldErrors::single("version", "must be a whole number")))
            })?),
        };
    let form = note_form(&map, &["version", "kind"]).map_err(|e| caller.fail(e.into()))?;
    let note = therapy::update_note(state.store.as_ref(), &caller.ctx, pid, nid, version, &form)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(note_dto(&note, &[])))
}

/// Sign (lock) a draft. Only its author may; a signed note can never change again.
#[utoipa::path(post, path = "/api/v1/patients/{id}/therapy-notes/{note_id}/sign", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id"), ("note_id" = String, Path, description = "The note's id")),
    security(("bearer" = [])),
    responses((status = 200, body = NoteDto),
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already signed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Incomplete (e.g. the SUI-001 risk check)", body = Problem, content_type = "application/problem+json")))]
pub async fn sign_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, raw_note)): ApiPath<(String, String)>,
) -> ApiResult<Json<NoteDto>> {
    let pid = patient_id(&caller, &raw)?;
    let nid = note_id(&caller, &raw_note)?;
    let note = therapy::sign_note(state.store.as_ref(), &caller.ctx, pid, nid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(note_dto(&note, &[])))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddendumInput {
    /// Why the signed note is amended.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
    #[schema(min_length = 1, max_length = 10000)]
    body: String,
}

/// Add an addendum to a signed note.
#[utoipa::path(post, path = "/api/v1/patients/{id}/therapy-notes/{note_id}/addenda", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id"), ("note_id" = String, Path, description = "The note's id")),
    request_body = AddendumInput, security(("bearer" = [])),
    responses((status = 201, body = AddendumDto),
        (status = 409, description = "The note is still a draft", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason or body missing", body = Problem, content_type = "application/problem+json")))]
pub async fn add_addendum(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, raw_note)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<AddendumInput>,
) -> ApiResult<Response> {
    let pid = patient_id(&caller, &raw)?;
    let nid = note_id(&caller, &raw_note)?;
    let a = therapy::add_addendum(
        state.store.as_ref(),
        &caller.ctx,
        pid,
        nid,
        &AddendumForm { reason: input.reason, body: input.body },
    )
    .await
    .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(AddendumDto::from(&a))).into_response())
}

/// A process note (only for its author and the therapists the author named).
#[derive(Serialize, ToSchema)]
pub struct ProcessNoteDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    author_id: String,
    body: String,
    readers: Vec<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<&ProcessNote> for ProcessNoteDto {
    fn from(n: &ProcessNote) -> Self {
        Self {
            id: n.id.to_string(),
            author_id: n.author.to_string(),
            body: n.body.clone(),
            readers: n.readers.iter().map(|r| r.to_string()).collect(),
            created_at: n.created_at.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessNoteInput {
    #[schema(min_length = 1, max_length = 10000)]
    body: String,
    /// Active therapists (account ids or usernames) who may also read it.
    #[serde(default)]
    #[schema(max_length = 100)]
    readers: Vec<String>,
}

/// The process notes the caller may read.
#[utoipa::path(get, path = "/api/v1/patients/{id}/process-notes", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<ProcessNoteDto>)))]
pub async fn list_process_notes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Vec<ProcessNoteDto>>> {
    let pid = patient_id(&caller, &raw)?;
    let notes =
        therapy::visible_process_notes(state.store.as_ref(), &caller.ctx, pid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(notes.iter().map(ProcessNoteDto::from).collect()))
}

/// Write a process note (therapists).
#[utoipa::path(post, path = "/api/v1/patients/{id}/process-notes", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), request_body = ProcessNoteInput, security(("bearer" = [])),
    responses((status = 201, body = ProcessNoteDto),
        (status = 403, description = "Only therapists write process notes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty body or a reader who is not a therapist", body = Problem, content_type = "application/problem+json")))]
pub async fn create_process_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(input): ApiJson<ProcessNoteInput>,
) -> ApiResult<Response> {
    let pid = patient_id(&caller, &raw)?;
    let n = therapy::create_process_note(state.store.as_ref(), &caller.ctx, pid, &input.body, &input.readers)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(ProcessNoteDto::from(&n))).into_response())
}

/// Read one process note: 403 (and an audited denial) for anyone but its author and
/// the therapists the author named, whatever their role.
#[utoipa::path(get, path = "/api/v1/patients/{id}/process-notes/{note_id}", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id"), ("note_id" = String, Path, description = "The process note's id")),
    security(("bearer" = [])),
    responses((status = 200, body = ProcessNoteDto),
        (status = 403, description = "Not the author nor a named reader", body = Problem, content_type = "application/problem+json")))]
pub async fn read_process_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, raw_note)): ApiPath<(String, String)>,
) -> ApiResult<Json<ProcessNoteDto>> {
    let pid = patient_id(&caller, &raw)?;
    let nid: ProcessNoteId = raw_note.parse().map_err(|_| caller.fail(AppError::NotFound("process note")))?;
    let n = therapy::get_process_note(state.store.as_ref(), &caller.ctx, pid, nid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(ProcessNoteDto::from(&n)))
}

/// One version of a safety plan; `content` has the six sections as arrays of lines.
#[derive(Serialize, ToSchema)]
pub struct SafetyPlanDto {
    #[schema(format = Uuid)]
    id: String,
    version: i64,
    #[schema(value_type = Object)]
    content: Value,
    #[schema(format = Uuid)]
    author_id: String,
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<&SafetyPlan> for SafetyPlanDto {
    fn from(p: &SafetyPlan) -> Self {
        let f = p.content.to_form();
        let lines = |s: &str| Value::Array(s.lines().map(|l| Value::String(l.into())).collect());
        let content = serde_json::json!({
            "warning_signs": lines(&f.warning_signs),
            "coping_strategies": lines(&f.coping_strategies),
            "distractions": lines(&f.distractions),
            "help_contacts": lines(&f.help_contacts),
            "professionals": lines(&f.professionals),
            "safe_environment": lines(&f.safe_environment),
        });
        Self {
            id: p.id.to_string(),
            version: p.version,
            content,
            author_id: p.author.to_string(),
            created_at: p.created_at.to_string(),
        }
    }
}

/// Every version of the safety plan, newest first.
#[utoipa::path(get, path = "/api/v1/patients/{id}/safety-plan", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<SafetyPlanDto>)))]
pub async fn safety_plans(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Vec<SafetyPlanDto>>> {
    let pid = patient_id(&caller, &raw)?;
    let plans = therapy::safety_plans(state.store.as_ref(), &caller.ctx, pid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(plans.iter().map(SafetyPlanDto::from).collect()))
}

/// The six sections, each an array of lines (or one string, one item per line); at
/// least one section must have a line. `null` leaves a section empty.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Documents the body.
pub struct SafetyPlanInput {
    #[schema(value_type = Option<schemas::Lines>)]
    warning_signs: Option<Vec<String>>,
    #[schema(value_type = Option<schemas::Lines>)]
    coping_strategies: Option<Vec<String>>,
    #[schema(value_type = Option<schemas::Lines>)]
    distractions: Option<Vec<String>>,
    #[schema(value_type = Option<schemas::Lines>)]
    help_contacts: Option<Vec<String>>,
    #[schema(value_type = Option<schemas::Lines>)]
    professionals: Option<Vec<String>>,
    #[schema(value_type = Option<schemas::Lines>)]
    safe_environment: Option<Vec<String>>,
}

/// Save a new version of the safety plan.
#[utoipa::path(post, path = "/api/v1/patients/{id}/safety-plan", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), request_body = SafetyPlanInput, security(("bearer" = [])),
    responses((status = 201, body = SafetyPlanDto),
        (status = 422, description = "Empty plan or an invalid line", body = Problem, content_type = "application/problem+json")))]
pub async fn new_safety_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiObject(map): ApiObject,
) -> ApiResult<Response> {
    let pid = patient_id(&caller, &raw)?;
    let mut form = SafetyPlanForm::default();
    let mut errors = FieldErrors::new();
    for (key, value) in &map {
        let slot = match key.as_str() {
            "warning_signs" => &mut form.warning_signs,
            "coping_strategies" => &mut form.coping_strategies,
            "distractions" => &mut form.distractions,
            "help_contacts" => &mut form.help_contacts,
            "professionals" => &mut form.professionals,
            "safe_environment" => &mut form.safe_environment,
            _ => {
                errors.add(key.clone(), "is not a known field");
                continue;
            }
        };
        match value {
            Value::String(s) => *slot = s.clone(),
            Value::Null => {}
            Value::Array(items) if items.iter().all(Value::is_string) => {
                *slot = items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n")
            }
            _ => errors.add(key.clone(), "must be an array of strings"),
        }
    }
    if !errors.is_empty() {
        return Err(caller.fail(AppError::Invalid(errors)));
    }
    let plan = therapy::new_safety_plan_version(state.store.as_ref(), &caller.ctx, pid, &form)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(SafetyPlanDto::from(&plan))).into_response())
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareTeamMemberDto {
    #[schema(value_type = schemas::CareTeamRole)]
    care_role: String,
    /// An account id (a username is accepted on input): an active account of that role.
    #[schema(min_length = 1, max_length = 100)]
    user: String,
    #[serde(default)]
    display_name: String,
}

/// The care team.
#[utoipa::path(get, path = "/api/v1/patients/{id}/care-team", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<CareTeamMemberDto>)))]
pub async fn care_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Vec<CareTeamMemberDto>>> {
    let pid = patient_id(&caller, &raw)?;
    let team = therapy::care_team(state.store.as_ref(), &caller.ctx, pid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(
        team.iter()
            .map(|(m, u)| CareTeamMemberDto {
                care_role: m.care_role.as_str().into(),
                user: u.id.to_string(),
                display_name: u.display_name.clone(),
            })
            .collect(),
    ))
}

/// Replace the care team (admins and prescribers).
#[utoipa::path(put, path = "/api/v1/patients/{id}/care-team", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), request_body = Vec<CareTeamMemberDto>, security(("bearer" = [])),
    responses((status = 200, body = Vec<CareTeamMemberDto>),
        (status = 403, description = "The role may not assign care teams", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A member is not an active account of that role", body = Problem, content_type = "application/problem+json")))]
pub async fn set_care_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(members): ApiJson<Vec<CareTeamMemberDto>>,
) -> ApiResult<Json<Vec<CareTeamMemberDto>>> {
    let pid = patient_id(&caller, &raw)?;
    let mut errors = FieldErrors::new();
    let mut entries = Vec::new();
    for (i, m) in members.iter().enumerate() {
        if m.user.trim().is_empty() {
            errors.add(format!("[{i}].user"), "is required: an account id or username");
        }
        match CareRole::parse(&m.care_role) {
            Some(r) => entries.push((r, m.user.clone())),
            None => errors.add("care_role", format!("`{}` is not prescriber, therapist or nurse", m.care_role)),
        }
    }
    if !errors.is_empty() {
        return Err(caller.fail(AppError::Invalid(errors)));
    }
    therapy::set_care_team(state.store.as_ref(), &caller.ctx, pid, &entries).await.map_err(|e| caller.fail(e))?;
    care_team(State(state), caller, ApiPath(raw)).await
}

/// A planned session of the program.
#[derive(Serialize, ToSchema)]
pub struct PlannedSessionDto {
    #[schema(format = Uuid)]
    id: String,
    /// `preparation`, `dosing`, `modality_therapy`, `integration` or `reassessment`.
    kind: &'static str,
    #[schema(format = Date)]
    due: String,
    #[schema(format = Date)]
    window_end: Option<String>,
    sequence: i32,
    dose: Option<i32>,
    /// The rule (spec ID) that placed it.
    rule: String,
    /// The signed note that recorded it.
    completed_by_note: Option<String>,
}

impl From<&PlannedSession> for PlannedSessionDto {
    fn from(s: &PlannedSession) -> Self {
        Self {
            id: s.id.to_string(),
            kind: s.kind.as_str(),
            due: s.due.to_string(),
            window_end: s.window_end.map(|d| d.to_string()),
            sequence: s.sequence,
            dose: s.dose,
            rule: s.rule.clone(),
            completed_by_note: s.completed_by_note.map(|n| n.to_string()),
        }
    }
}

/// The program of planned sessions.
#[utoipa::path(get, path = "/api/v1/patients/{id}/program", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<PlannedSessionDto>)))]
pub async fn program(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Vec<PlannedSessionDto>>> {
    let pid = patient_id(&caller, &raw)?;
    let s = therapy::program(state.store.as_ref(), &caller.ctx, pid).await.map_err(|e| caller.fail(e))?;
    Ok(Json(s.iter().map(PlannedSessionDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramInput {
    /// Planned dose dates (YYYY-MM-DD), each once.
    #[schema(value_type = schemas::DoseDates)]
    dose_dates: Vec<String>,
}

/// Generate (or regenerate) the program from planned dose dates: preparation before
/// the first dose, integration after each (PSY-002), reassessment 2–3 weeks after the
/// last (DOSE-IV-008). Sessions already recorded stay.
#[utoipa::path(post, path = "/api/v1/patients/{id}/program", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), request_body = ProgramInput, security(("bearer" = [])),
    responses((status = 200, body = Vec<PlannedSessionDto>),
        (status = 422, description = "A date is invalid", body = Problem, content_type = "application/problem+json")))]
pub async fn plan_program(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(input): ApiJson<ProgramInput>,
) -> ApiResult<Json<Vec<PlannedSessionDto>>> {
    let pid = patient_id(&caller, &raw)?;
    let s = therapy::plan_program(
        state.store.as_ref(),
        &caller.ctx,
        pid,
        &input.dose_dates.join(","),
        &state.config.therapy.policy,
    )
    .await
    .map_err(|e| caller.fail(e))?;
    Ok(Json(s.iter().map(PlannedSessionDto::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct TimelineEntryDto {
    #[schema(format = Date)]
    date: String,
    /// Local time, when the entry has one.
    time: Option<String>,
    /// `registration`, `intake`, `eligibility`, `measure`, `safety_alert`, `note`,
    /// `addendum`, `safety_plan` or `planned_session`.
    kind: &'static str,
    title: String,
    detail: String,
    /// The page of the record.
    href: String,
}

impl From<&TimelineEntry> for TimelineEntryDto {
    fn from(e: &TimelineEntry) -> Self {
        Self {
            date: e.date.to_string(),
            time: e.time.map(|t| t.strftime("%H:%M").to_string()),
            kind: e.kind.as_str(),
            title: e.title.clone(),
            detail: e.detail.clone(),
            href: e.href.clone(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// Only entries of these kinds (comma-separated).
    #[param(value_type = Option<Vec<schemas::TimelineEntryKind>>, inline, style = Form, explode = false)]
    kind: Option<String>,
    /// At most this many per page (1–500, default 100); more is taken as the most, 0 as 1.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// Which page (from 1, default 1; 0 is taken as 1). The `Link` header names the previous and next pages.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    page: Option<u32>,
}

/// One page of the patient timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/patients/{id}/timeline", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id"), TimelineParams), security(("bearer" = [])),
    responses((status = 200, body = Vec<TimelineEntryDto>, headers(("link" = String, description = "RFC 8288 links to the previous (`rel=\"prev\"`) and next (`rel=\"next\"`) pages, when there are any"))),
        (status = 422, description = "Unknown kind", body = Problem, content_type = "application/problem+json")))]
pub async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(params): ApiQuery<TimelineParams>,
) -> ApiResult<Paged<TimelineEntryDto>> {
    let pid = patient_id(&caller, &raw)?;
    let mut kinds = Vec::new();
    for k in params.kind.as_deref().unwrap_or("").split(',').map(str::trim).filter(|k| !k.is_empty()) {
        kinds.push(TimelineKind::parse(k).ok_or_else(|| {
            caller.fail(AppError::Invalid(FieldErrors::single("kind", format!("`{k}` is not a timeline kind"))))
        })?);
    }
    let page = PageRequest::new(params.page, params.limit, therapy::TIMELINE_PAGE, therapy::TIMELINE_PAGE_MAX);
    let entries = therapy::timeline(state.store.as_ref(), &caller.ctx, pid, &kinds, &state.config.time_zone, page)
        .await
        .map_err(|e| caller.fail(e))?;
    let path = format!("/api/v1/patients/{pid}/timeline");
    let kind = params.kind.unwrap_or_default();
    let pager = Pager::new(&entries, |n| page_href(&path, &[("kind", &kind)], n, page.size()));
    Ok(Paged(pager, entries.items.iter().map(TimelineEntryDto::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct WorkItemDto {
    /// `overdue`, `follow_up_due`, `today` or `unsigned_note`.
    kind: String,
    #[schema(format = Uuid)]
    patient_id: String,
    #[schema(format = Date)]
    date: String,
    /// The planned session or note it is about.
    target: String,
    what: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorklistParams {
    /// At most this many per page (1–50, default 50); more is taken as the most, 0 as 1.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// Which page (from 1, default 1; 0 is taken as 1). The `Link` header names the previous and next pages.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    page: Option<u32>,
}

/// One page of the caller's worklist for today.
#[utoipa::path(get, path = "/api/v1/worklist", tag = "therapy", params(WorklistParams), security(("bearer" = [])),
    responses((status = 200, body = Vec<WorkItemDto>, headers(("link" = String, description = "RFC 8288 links to the previous (`rel=\"prev\"`) and next (`rel=\"next\"`) pages, when there are any")))))]
pub async fn worklist(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<WorklistParams>,
) -> ApiResult<Paged<WorkItemDto>> {
    let page = PageRequest::new(params.page, params.limit, therapy::WORKLIST_PAGE, therapy::WORKLIST_PAGE);
    let (items, _) = therapy::worklist(state.store.as_ref(), &caller.ctx, page).await.map_err(|e| caller.fail(e))?;
    let pager = Pager::new(&items, |n| page_href("/api/v1/worklist", &[], n, page.size()));
    Ok(Paged(pager, items.items.iter().map(work_item_dto).collect()))
}

fn work_item_dto(i: &WorkItem) -> WorkItemDto {
    let (target, what) = match &i.target {
        WorkTarget::Session(s) => (s.id.to_string(), format!("{} {}", s.kind.label(), s.sequence)),
        WorkTarget::Note(n) => (n.id.to_string(), format!("{} note", n.kind.label())),
    };
    WorkItemDto {
        kind: serde_json::to_value(i.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        patient_id: i.patient_id.to_string(),
        date: i.date.to_string(),
        target,
        what,
    }
}

/// A break-glass request: why a clinician off the care team needs this record now.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassDto {
    /// 10 to 500 characters (trimmed); reviewed by an admin.
    #[schema(value_type = schemas::StatedReason)]
    reason: String,
    /// Confirms breaking the glass at this moment (issue 12 item 2): the 6-digit code of the
    /// caller's authenticator app, or, for an account without two-step sign-in, its
    /// password (or send that in `reauth_password`). Never logged.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reauth_code: String,
    /// The password of an account without two-step sign-in, instead of `reauth_code`.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reauth_password: String,
}

/// A break-glass grant: the record is open to the caller until `expires_at`.
#[derive(Serialize, ToSchema)]
pub struct BreakGlassGrantDto {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

/// Break the glass: open the record of a patient whose care team the caller is not on,
/// for the clinic's configured time (audited; every use is audited as
/// `break_glass_access`; admins review each grant).
#[utoipa::path(post, path = "/api/v1/patients/{id}/break-glass", tag = "therapy",
    params(("id" = String, Path, description = "The patient's id")), request_body = BreakGlassDto, security(("bearer" = [])),
    responses((status = 201, body = BreakGlassGrantDto),
        (status = 403, description = "Not a clinician", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The reason is missing, too short or too long; the confirmation (`reauth_code`, `reauth_password`) is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong confirmations: the sign-in throttle applies (`Retry-After`)", body = Problem, content_type = "application/problem+json")))]
pub async fn break_glass(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(dto): ApiJson<BreakGlassDto>,
) -> ApiResult<(StatusCode, Json<BreakGlassGrantDto>)> {
    let pid = patient_id(&caller, &raw)?;
    let reauth = kat_app::reauth::Reauth { code: &dto.reauth_code, password: &dto.reauth_password };
    let grant = kat_app::access::break_glass(state.store.as_ref(), &caller.ctx, pid, &dto.reason, reauth)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((
        StatusCode::CREATED,
        Json(BreakGlassGrantDto { id: grant.id.to_string(), expires_at: grant.expires_at.to_string() }),
    ))
}
