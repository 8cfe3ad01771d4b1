//! Therapy pages: the patient's therapy overview (care team, program, notes, process
//! notes), note forms with sign and addenda, the safety plan and its one-time patient
//! link, the patient timeline, and the worklist.

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::view::{FieldView, FieldsetView, Layout, Pager, local_time, render};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kat_app::{Actor, AppError, Ctx, patients, therapy};
use kat_core::FieldErrors;
use kat_core::ids::{PatientId, PlannedSessionId, ProcessNoteId, TherapyNoteId, UserId};
use kat_core::page::PageRequest;
use kat_core::patient::Patient;
use kat_core::role::Permission;
use kat_core::therapy::care_team::CareRole;
use kat_core::therapy::note::{
    AddendumForm, Modality, NoteForm, NoteKind, NoteStatus, RiskCheck, Section, TherapyNote,
};
use kat_core::therapy::safety_plan::{SECTIONS, SafetyPlanForm};
use kat_core::therapy::timeline::TimelineKind;
use kat_core::therapy::worklist::{WorkItemKind, WorkTarget};
use serde::Deserialize;
use std::collections::HashMap;

fn pid(staff: &Staff, raw: &str) -> Result<PatientId, PageError> {
    raw.parse().map_err(|_| staff.fail(AppError::NotFound("patient")))
}

fn nid(staff: &Staff, raw: &str) -> Result<TherapyNoteId, PageError> {
    raw.parse().map_err(|_| staff.fail(AppError::NotFound("therapy note")))
}

fn can(staff: &Staff, p: Permission) -> bool {
    staff.principal.user.role.allows(p)
}

async fn names(state: &AppState, staff: &Staff) -> Result<HashMap<UserId, String>, PageError> {
    Ok(therapy::staff_names(state.store.as_ref()).await.map_err(|e| staff.fail(e))?.into_iter().collect())
}

fn name_of(names: &HashMap<UserId, String>, id: UserId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| "unknown".into())
}

/// A note as one row of a list.
pub struct NoteRow {
    href: String,
    kind: &'static str,
    date: String,
    author: String,
    signed: bool,
    themes: String,
    addenda: usize,
}

fn note_row(p: PatientId, n: &TherapyNote, names: &HashMap<UserId, String>, addenda: usize) -> NoteRow {
    NoteRow {
        href: format!("/patients/{p}/notes/{}", n.id),
        kind: n.kind.label(),
        date: n.content.session_date.map(|d| d.to_string()).unwrap_or_default(),
        author: name_of(names, n.author),
        signed: n.is_signed(),
        themes: if n.content.themes.is_empty() {
            n.content.intention_tags.join(", ")
        } else {
            n.content.themes.join(", ")
        },
        addenda,
    }
}

pub struct SessionRow {
    kind: &'static str,
    sequence: i32,
    due: String,
    window: String,
    rule: String,
    done_href: Option<String>,
    write_href: Option<String>,
    overdue: bool,
}

pub struct TeamRow {
    role: &'static str,
    name: String,
}

pub struct ProcessRow {
    href: String,
    date: String,
    author: String,
    readers: String,
}

pub struct Choice {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "therapy/overview.html")]
struct Overview {
    layout: Layout,
    id: String,
    name: String,
    mrn: String,
    team: Vec<TeamRow>,
    can_manage_team: bool,
    team_choices: Vec<(&'static str, Vec<Choice>)>,
    sessions: Vec<SessionRow>,
    can_plan: bool,
    can_write: bool,
    can_process: bool,
    note_kinds: Vec<(&'static str, &'static str)>,
    notes: Vec<NoteRow>,
    process_notes: Vec<ProcessRow>,
    therapists: Vec<Choice>,
    dose_dates: String,
    errors: Vec<String>,
    saved: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn overview_page(
    state: &AppState,
    staff: &Staff,
    patient: &Patient,
    dose_dates: String,
    errors: Vec<String>,
    saved: bool,
) -> Result<Overview, PageError> {
    let store = state.store.as_ref();
    let p = patient.id;
    let fail = |e| staff.fail(e);
    let names = names(state, staff).await?;
    let team = therapy::care_team(store, &staff.ctx, p).await.map_err(fail)?;
    let can_manage_team = can(staff, Permission::CareTeamManage);
    let team_choices = if can_manage_team {
        let candidates = therapy::care_team_candidates(store, &staff.ctx).await.map_err(fail)?;
        CareRole::ALL
            .into_iter()
            .map(|r| {
                let choices = candidates
                    .iter()
                    .filter(|(cr, _)| *cr == r)
                    .map(|(_, u)| Choice {
                        value: u.id.to_string(),
                        label: name_of(&names, u.id),
                        checked: team.iter().any(|(m, _)| m.user_id == u.id),
                    })
                    .collect();
                (r.as_str(), choices)
            })
            .collect()
    } else {
        Vec::new()
    };
    let can_read = can(staff, Permission::TherapyNoteRead);
    let can_write = can(staff, Permission::TherapyNoteWrite);
    let sessions = if can(staff, Permission::ScheduleRead) {
        therapy::program(store, &staff.ctx, p).await.map_err(fail)?
    } else {
        Vec::new()
    };
    let (notes, addenda) = if can_read {
        therapy::list_notes(store, &staff.ctx, p).await.map_err(fail)?
    } else {
        (Vec::new(), Vec::new())
    };
    let process =
        if can_read { therapy::visible_process_notes(store, &staff.ctx, p).await.map_err(fail)? } else { Vec::new() };
    let therapists = if can(staff, Permission::ProcessNoteWrite) {
        therapy::other_therapists(store, staff.principal.user.id)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|u| Choice { value: u.id.to_string(), label: name_of(&names, u.id), checked: false })
            .collect()
    } else {
        Vec::new()
    };
    let tz = &state.config.time_zone;
    Ok(Overview {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        id: p.to_string(),
        name: patient.demographics.full_name(),
        mrn: patient.mrn.to_string(),
        team: team.iter().map(|(m, u)| TeamRow { role: m.care_role.label(), name: name_of(&names, u.id) }).collect(),
        can_manage_team,
        team_choices,
        sessions: sessions
            .iter()
            .map(|s| SessionRow {
                kind: s.kind.label(),
                sequence: s.sequence,
                due: s.due.to_string(),
                window: s.window_end.map(|d| format!("until {d}")).unwrap_or_default(),
                rule: s.rule.clone(),
                done_href: s.completed_by_note.filter(|_| can_read).map(|n| format!("/patients/{p}/notes/{n}")),
                write_href: match (s.is_pending(), s.kind.note_kind(), can_write) {
                    (true, Some(k), true) => {
                        Some(format!("/patients/{p}/notes/new?kind={}&session={}", k.as_str(), s.id))
                    }
                    _ => None,
                },
                overdue: s.is_overdue(staff.ctx.today),
            })
            .collect(),
        can_plan: can(staff, Permission::CarePlanWrite),
        can_write,
        can_process: can(staff, Permission::ProcessNoteWrite),
        note_kinds: NoteKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
        notes: notes
            .iter()
            .map(|n| note_row(p, n, &names, addenda.iter().filter(|a| a.note_id == n.id).count()))
            .collect(),
        process_notes: process
            .iter()
            .map(|n| ProcessRow {
                href: format!("/patients/{p}/process-notes/{}", n.id),
                date: local_time(n.created_at, tz),
                author: name_of(&names, n.author),
                readers: n.readers.iter().map(|r| name_of(&names, *r)).collect::<Vec<_>>().join(", "),
            })
            .collect(),
        therapists,
        dose_dates,
        errors,
        saved,
    })
}

pub async fn overview(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let id = pid(&staff, &raw)?;
    let patient = patients::get(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?;
    Ok(render(&overview_page(&state, &staff, &patient, String::new(), Vec::new(), q.saved.is_some()).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewNoteQuery {
    kind: String,
    session: String,
}

fn note_fieldsets(kind: NoteKind, form: &NoteForm, errors: &FieldErrors) -> Vec<FieldsetView> {
    let modalities = Modality::ALL.iter().map(|m| (m.as_str(), m.label())).collect();
    let risks: Vec<(&'static str, &'static str)> = RiskCheck::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
    let mut sets = vec![FieldsetView {
        legend: "Session",
        fields: vec![
            FieldView::text("session_date", "Session date", &form.session_date, errors).kind("date").required(),
            FieldView::text("modality", "Modality (PSY-005)", &form.modality, errors).options(modalities),
            FieldView::text("modality_other", "Other modality", &form.modality_other, errors)
                .hint("Only when the modality is Other"),
        ],
    }];
    for section in kind.sections() {
        sets.push(match section {
            Section::Preparation => FieldsetView {
                legend: "Preparation (PSY-007)",
                fields: vec![
                    FieldView::text("intentions", "Intentions", &form.intentions, errors).kind("textarea"),
                    FieldView::text("intention_tags", "Intention tags", &form.intention_tags, errors)
                        .hint("Separated by commas"),
                    FieldView::text("fears_concerns", "Fears and concerns", &form.fears_concerns, errors)
                        .kind("textarea"),
                    FieldView::text("set_setting", "Set and setting preferences", &form.set_setting, errors)
                        .kind("textarea")
                        .hint("Music, eye mask, support person"),
                    FieldView::text("psychoeducation", "Psychoeducation given", &form.psychoeducation, errors)
                        .kind("textarea"),
                    FieldView::text("consent_reviewed", "Consent reviewed", &form.consent_reviewed, errors)
                        .options(vec![("yes", "Yes, reviewed with the patient"), ("no", "Not yet")]),
                ],
            },
            Section::DosingSession => FieldsetView {
                legend: "Dosing session (PSY-007)",
                fields: vec![
                    FieldView::text("dosing_session_ref", "Dosing session reference", &form.dosing_session_ref, errors)
                        .hint("Optional: the dosing session this accompanied"),
                    FieldView::text("themes", "Themes", &form.themes, errors).hint("Tags, separated by commas"),
                    FieldView::text("emotions", "Emotions", &form.emotions, errors).kind("textarea"),
                    FieldView::text("interventions", "Therapist interventions", &form.interventions, errors)
                        .kind("textarea"),
                    FieldView::text("distress", "Distress episodes and how they were handled", &form.distress, errors)
                        .kind("textarea"),
                ],
            },
            Section::Integration => FieldsetView {
                legend: "Integration (PSY-007)",
                fields: vec![
                    FieldView::text("themes", "Themes", &form.themes, errors).hint("Tags, separated by commas"),
                    FieldView::text("insights", "Insights", &form.insights, errors).kind("textarea"),
                    FieldView::text("emotions", "Emotions", &form.emotions, errors).kind("textarea"),
                    FieldView::text("changes_noticed", "Changes noticed", &form.changes_noticed, errors)
                        .kind("textarea"),
                    FieldView::text("homework_assigned", "Homework assigned", &form.homework_assigned, errors)
                        .kind("textarea")
                        .hint("Journaling, mindfulness, behavioral activation, exposure tasks"),
                    FieldView::text("homework_reviewed", "Homework reviewed", &form.homework_reviewed, errors)
                        .kind("textarea"),
                    FieldView::text("goal_progress", "Goal progress", &form.goal_progress, errors).kind("textarea"),
                    FieldView::text("risk_check", "Risk check (SUI-001)", &form.risk_check, errors)
                        .options(risks.clone())
                        .hint("Needed before signing"),
                ],
            },
        });
    }
    sets.push(FieldsetView {
        legend: "Narrative",
        fields: vec![FieldView::text("narrative", "Narrative", &form.narrative, errors).kind("textarea")],
    });
    sets
}

#[derive(Template)]
#[template(path = "patients/form.html")]
struct FormPage {
    layout: Layout,
    heading: String,
    action: String,
    submit_label: &'static str,
    cancel_href: String,
    version: Option<i64>,
    fieldsets: Vec<FieldsetView>,
    has_errors: bool,
    conflict: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn note_form_page(
    state: &AppState,
    staff: &Staff,
    (patient, patient_name): (PatientId, &str),
    kind: NoteKind,
    session: Option<PlannedSessionId>,
    existing: Option<(TherapyNoteId, i64)>,
    form: &NoteForm,
    errors: &FieldErrors,
    conflict: Option<String>,
) -> FormPage {
    let (heading, action, cancel, version) = match existing {
        Some((id, v)) => (
            format!("Edit {} note (draft) · {patient_name}", kind.label().to_lowercase()),
            format!("/patients/{patient}/notes/{id}"),
            format!("/patients/{patient}/notes/{id}"),
            Some(v),
        ),
        None => (
            format!("New {} note · {patient_name}", kind.label().to_lowercase()),
            format!(
                "/patients/{patient}/notes?kind={}{}",
                kind.as_str(),
                session.map(|s| format!("&session={s}")).unwrap_or_default()
            ),
            format!("/patients/{patient}/therapy"),
            None,
        ),
    };
    FormPage {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        heading,
        action,
        submit_label: "Save draft",
        cancel_href: cancel,
        version,
        fieldsets: note_fieldsets(kind, form, errors),
        has_errors: !errors.is_empty(),
        conflict,
    }
}

async fn patient_name(state: &AppState, staff: &Staff, p: PatientId) -> Result<String, PageError> {
    Ok(patients::get(state.store.as_ref(), &staff.ctx, p).await.map_err(|e| staff.fail(e))?.demographics.full_name())
}

fn parse_kind_session(staff: &Staff, q: &NewNoteQuery) -> Result<(NoteKind, Option<PlannedSessionId>), PageError> {
    let kind = NoteKind::parse(&q.kind).map_err(|_| staff.fail(AppError::NotFound("kind of note")))?;
    let session = match q.session.trim() {
        "" => None,
        s => Some(s.parse().map_err(|_| staff.fail(AppError::NotFound("planned session")))?),
    };
    Ok((kind, session))
}

pub async fn new_note(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Query(q): Query<NewNoteQuery>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let (kind, session) = parse_kind_session(&staff, &q)?;
    kat_app::require(
        state.store.as_ref(),
        &staff.ctx,
        Permission::TherapyNoteWrite,
        "therapy_note",
        None,
        Some(p),
        kat_core::audit::AuditAction::Create,
    )
    .await
    .map_err(|e| staff.fail(e))?;
    let form = NoteForm { session_date: staff.ctx.today.to_string(), ..Default::default() };
    Ok(render(&note_form_page(
        &state,
        &staff,
        (p, &patient_name(&state, &staff, p).await?),
        kind,
        session,
        None,
        &form,
        &FieldErrors::new(),
        None,
    )))
}

pub async fn create_note(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Query(q): Query<NewNoteQuery>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let (kind, session) = parse_kind_session(&staff, &q)?;
    match therapy::create_note(state.store.as_ref(), &staff.ctx, p, kind, session, &form).await {
        Ok(n) => Ok(Redirect::to(&format!("/patients/{p}/notes/{}?saved=1", n.id)).into_response()),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&note_form_page(
                &state,
                &staff,
                (p, &patient_name(&state, &staff, p).await?),
                kind,
                session,
                None,
                &form,
                &errors,
                None,
            )),
        )
            .into_response()),
        Err(e) => Err(staff.fail(e)),
    }
}

pub struct AddendumView {
    author: String,
    at: String,
    reason: String,
    body: String,
}

pub struct FactView {
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "therapy/note.html")]
struct NotePage {
    layout: Layout,
    patient_id: String,
    patient_name: String,
    id: String,
    kind: &'static str,
    author: String,
    signed: Option<String>,
    facts: Vec<FactView>,
    addenda: Vec<AddendumView>,
    can_edit: bool,
    can_addend: bool,
    saved: bool,
    errors: FieldErrors,
    messages: Vec<String>,
    addendum: AddendumForm,
}

/// `risk_check` → `Risk check`, for messages shown above a page.
fn field_label(field: &str) -> String {
    let text = field.replace('_', " ");
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn facts(n: &TherapyNote) -> Vec<FactView> {
    let c = &n.content;
    let mut out = Vec::new();
    let mut push = |label: &'static str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.push(FactView { label, value: v });
        }
    };
    push("Session date", c.session_date.map(|d| d.to_string()));
    push(
        "Modality",
        c.modality.map(|m| {
            if m == Modality::Other { c.modality_other.clone().unwrap_or_default() } else { m.label().to_string() }
        }),
    );
    push("Dosing session", c.dosing_session_ref.clone());
    push("Intentions", c.intentions.clone());
    push("Intention tags", Some(c.intention_tags.join(", ")));
    push("Fears and concerns", c.fears_concerns.clone());
    push("Set and setting", c.set_setting.clone());
    push("Psychoeducation", c.psychoeducation.clone());
    if n.kind == NoteKind::Preparation {
        push("Consent reviewed", Some(if c.consent_reviewed { "Yes" } else { "Not yet" }.to_string()));
    }
    push("Themes", Some(c.themes.join(", ")));
    push("Insights", c.insights.clone());
    push("Emotions", c.emotions.clone());
    push("Interventions", c.interventions.clone());
    push("Distress and handling", c.distress.clone());
    push("Changes noticed", c.changes_noticed.clone());
    push("Homework assigned", c.homework_assigned.clone());
    push("Homework reviewed", c.homework_reviewed.clone());
    push("Goal progress", c.goal_progress.clone());
    push("Risk check", c.risk_check.map(|r| r.label().to_string()));
    push("Narrative", c.narrative.clone());
    out
}

async fn note_page(
    state: &AppState,
    staff: &Staff,
    p: PatientId,
    id: TherapyNoteId,
    saved: bool,
    errors: FieldErrors,
    addendum: AddendumForm,
) -> Result<NotePage, PageError> {
    let store = state.store.as_ref();
    let patient = patients::get(store, &staff.ctx, p).await.map_err(|e| staff.fail(e))?;
    let (note, addenda) = therapy::get_note(store, &staff.ctx, p, id).await.map_err(|e| staff.fail(e))?;
    let names = names(state, staff).await?;
    let tz = &state.config.time_zone;
    let me = staff.principal.user.id;
    let can_write = can(staff, Permission::TherapyNoteWrite);
    Ok(NotePage {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        patient_id: p.to_string(),
        patient_name: patient.demographics.full_name(),
        id: id.to_string(),
        kind: note.kind.label(),
        author: name_of(&names, note.author),
        signed: match note.status {
            NoteStatus::Signed { by, at } => {
                Some(format!("Signed by {} on {}", name_of(&names, by), local_time(at, tz)))
            }
            NoteStatus::Draft => None,
        },
        facts: facts(&note),
        addenda: addenda
            .iter()
            .map(|a| AddendumView {
                author: name_of(&names, a.author),
                at: local_time(a.at, tz),
                reason: a.reason.clone(),
                body: a.body.clone(),
            })
            .collect(),
        can_edit: can_write && note.check_editable(me).is_ok(),
        can_addend: can_write && note.is_signed(),
        saved,
        messages: errors.iter().map(|e| format!("{} {}", field_label(&e.field), e.message)).collect(),
        errors,
        addendum,
    })
}

pub async fn show_note(
    State(state): State<AppState>,
    staff: Staff,
    Path((raw, raw_note)): Path<(String, String)>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let id = nid(&staff, &raw_note)?;
    Ok(render(&note_page(&state, &staff, p, id, q.saved.is_some(), FieldErrors::new(), AddendumForm::default()).await?))
}

pub async fn edit_note(
    State(state): State<AppState>,
    staff: Staff,
    Path((raw, raw_note)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let id = nid(&staff, &raw_note)?;
    let (note, _) = therapy::get_note(state.store.as_ref(), &staff.ctx, p, id).await.map_err(|e| staff.fail(e))?;
    if note.is_signed() {
        return Err(staff.fail(AppError::Conflict("this note is signed and locked; add an addendum instead".into())));
    }
    Ok(render(&note_form_page(
        &state,
        &staff,
        (p, &patient_name(&state, &staff, p).await?),
        note.kind,
        None,
        Some((id, note.version)),
        &note.content.to_form(),
        &FieldErrors::new(),
        None,
    )))
}

#[derive(Deserialize)]
pub struct EditNoteForm {
    #[serde(flatten)]
    form: NoteForm,
    version: Option<String>,
}

pub async fn update_note(
    State(state): State<AppState>,
    staff: Staff,
    Path((raw, raw_note)): Path<(String, String)>,
    Form(input): Form<EditNoteForm>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let id = nid(&staff, &raw_note)?;
    let version = input.version.as_deref().and_then(|v| v.trim().parse::<i64>().ok());
    match therapy::update_note(state.store.as_ref(), &staff.ctx, p, id, version, &input.form).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{p}/notes/{id}?saved=1")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let (note, _) =
                therapy::get_note(state.store.as_ref(), &staff.ctx, p, id).await.map_err(|e| staff.fail(e))?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&note_form_page(
                    &state,
                    &staff,
                    (p, &patient_name(&state, &staff, p).await?),
                    note.kind,
                    None,
                    Some((id, version.unwrap_or(note.version))),
                    &input.form,
                    &errors,
                    None,
                )),
            )
                .into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

pub async fn sign_note(
    State(state): State<AppState>,
    staff: Staff,
    Path((raw, raw_note)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let id = nid(&staff, &raw_note)?;
    match therapy::sign_note(state.store.as_ref(), &staff.ctx, p, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{p}/notes/{id}?saved=1")).into_response()),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&note_page(&state, &staff, p, id, false, errors, AddendumForm::default()).await?),
        )
            .into_response()),
        Err(e) => Err(staff.fail(e)),
    }
}

pub async fn add_addendum(
    State(state): State<AppState>,
    staff: Staff,
    Path((raw, raw_note)): Path<(String, String)>,
    Form(form): Form<AddendumForm>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let id = nid(&staff, &raw_note)?;
    match therapy::add_addendum(state.store.as_ref(), &staff.ctx, p, id, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{p}/notes/{id}?saved=1#addenda")).into_response()),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&note_page(&state, &staff, p, id, false, errors, form).await?),
        )
            .into_response()),
        Err(e) => Err(staff.fail(e)),
    }
}

/// Process-note form: the body and the therapists who may also read it (checkboxes,
/// so repeated `readers` fields).
pub async fn create_process_note(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    body: String,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let mut text = String::new();
    let mut readers = Vec::new();
    for (k, v) in form_pairs(&body) {
        match k.as_str() {
            "body" => text = v,
            "readers" => readers.push(v),
            _ => {}
        }
    }
    match therapy::create_process_note(state.store.as_ref(), &staff.ctx, p, &text, &readers).await {
        Ok(n) => Ok(Redirect::to(&format!("/patients/{p}/process-notes/{}", n.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let patient = patients::get(state.store.as_ref(), &staff.ctx, p).await.map_err(|e| staff.fail(e))?;
            let messages = errors.iter().map(|e| format!("Process note {}: {}", e.field, e.message)).collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&overview_page(&state, &staff, &patient, String::new(), messages, false).await?),
            )
                .into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

fn form_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Template)]
#[template(path = "therapy/process_note.html")]
struct ProcessPage {
    layout: Layout,
    patient_id: String,
    author: String,
    at: String,
    readers: String,
    body: String,
}

pub async fn show_process_note(
    State(state): State<AppState>,
    staff: Staff,
    Path((raw, raw_note)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let id: ProcessNoteId = raw_note.parse().map_err(|_| staff.fail(AppError::NotFound("process note")))?;
    let n = therapy::get_process_note(state.store.as_ref(), &staff.ctx, p, id).await.map_err(|e| staff.fail(e))?;
    let names = names(&state, &staff).await?;
    Ok(render(&ProcessPage {
        layout: Layout::new(&state, Some(&staff.principal), "patients"),
        patient_id: p.to_string(),
        author: name_of(&names, n.author),
        at: local_time(n.created_at, &state.config.time_zone),
        readers: if n.readers.is_empty() {
            "only the author".into()
        } else {
            n.readers.iter().map(|r| name_of(&names, *r)).collect::<Vec<_>>().join(", ")
        },
        body: n.body,
    }))
}

/// Care team form: checkboxes named after the care role (`prescriber`, `therapist`,
/// `nurse`), one value per chosen account.
pub async fn set_care_team(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    body: String,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let entries: Vec<(CareRole, String)> =
        form_pairs(&body).into_iter().filter_map(|(k, v)| CareRole::parse(&k).map(|r| (r, v))).collect();
    match therapy::set_care_team(state.store.as_ref(), &staff.ctx, p, &entries).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{p}/therapy?saved=1")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let patient = patients::get(state.store.as_ref(), &staff.ctx, p).await.map_err(|e| staff.fail(e))?;
            let messages = errors.iter().map(|e| format!("Care team: {}", e.message)).collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&overview_page(&state, &staff, &patient, String::new(), messages, false).await?),
            )
                .into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

#[derive(Deserialize)]
pub struct ProgramForm {
    #[serde(default)]
    dose_dates: String,
}

pub async fn plan_program(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<ProgramForm>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    match therapy::plan_program(state.store.as_ref(), &staff.ctx, p, &form.dose_dates, &state.config.therapy.policy)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{p}/therapy?saved=1#program")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let patient = patients::get(state.store.as_ref(), &staff.ctx, p).await.map_err(|e| staff.fail(e))?;
            let messages = errors.iter().map(|e| format!("Planned dose dates: {}", e.message)).collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&overview_page(&state, &staff, &patient, form.dose_dates, messages, false).await?),
            )
                .into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

pub struct PlanSection {
    title: &'static str,
    items: Vec<String>,
}

#[derive(Template)]
#[template(path = "therapy/safety_plan.html")]
struct PlanPage {
    layout: Layout,
    patient_id: String,
    patient_name: String,
    version: Option<i64>,
    latest: i64,
    author: String,
    at: String,
    sections: Vec<PlanSection>,
    versions: Vec<i64>,
    can_write: bool,
    fieldsets: Vec<FieldsetView>,
    has_errors: bool,
    saved: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PlanQuery {
    version: Option<i64>,
    saved: Option<String>,
}

fn plan_fieldsets(form: &SafetyPlanForm, errors: &FieldErrors) -> Vec<FieldsetView> {
    let value = |n: &str| match n {
        "warning_signs" => &form.warning_signs,
        "coping_strategies" => &form.coping_strategies,
        "distractions" => &form.distractions,
        "help_contacts" => &form.help_contacts,
        "professionals" => &form.professionals,
        _ => &form.safe_environment,
    };
    vec![FieldsetView {
        legend: "New version (one item per line)",
        fields: SECTIONS
            .iter()
            .map(|(n, label)| FieldView::text(n, label, value(n), errors).kind("textarea"))
            .collect(),
    }]
}

async fn plan_page(
    state: &AppState,
    staff: &Staff,
    p: PatientId,
    version: Option<i64>,
    form: Option<SafetyPlanForm>,
    errors: &FieldErrors,
    saved: bool,
) -> Result<PlanPage, PageError> {
    let patient = patients::get(state.store.as_ref(), &staff.ctx, p).await.map_err(|e| staff.fail(e))?;
    let plans = therapy::safety_plans(state.store.as_ref(), &staff.ctx, p).await.map_err(|e| staff.fail(e))?;
    let names = names(state, staff).await?;
    let shown = match version {
        Some(v) => plans.iter().find(|x| x.version == v),
        None => plans.first(),
    };
    let form = form.unwrap_or_else(|| plans.first().map(|x| x.content.to_form()).unwrap_or_else(SafetyPlanForm::first));
    Ok(PlanPage {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        patient_id: p.to_string(),
        patient_name: patient.demographics.full_name(),
        version: shown.map(|x| x.version),
        latest: plans.first().map(|x| x.version).unwrap_or(0),
        author: shown.map(|x| name_of(&names, x.author)).unwrap_or_default(),
        at: shown.map(|x| local_time(x.created_at, &state.config.time_zone)).unwrap_or_default(),
        sections: shown
            .map(|x| {
                SECTIONS.iter().map(|(n, t)| PlanSection { title: t, items: x.content.section(n).to_vec() }).collect()
            })
            .unwrap_or_default(),
        versions: plans.iter().map(|x| x.version).collect(),
        can_write: can(staff, Permission::CarePlanWrite),
        fieldsets: plan_fieldsets(&form, errors),
        has_errors: !errors.is_empty(),
        saved,
    })
}

pub async fn safety_plan(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Query(q): Query<PlanQuery>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    Ok(render(&plan_page(&state, &staff, p, q.version, None, &FieldErrors::new(), q.saved.is_some()).await?))
}

pub async fn new_plan_version(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<SafetyPlanForm>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    match therapy::new_safety_plan_version(state.store.as_ref(), &staff.ctx, p, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{p}/safety-plan?saved=1")).into_response()),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&plan_page(&state, &staff, p, None, Some(form), &errors, false).await?),
        )
            .into_response()),
        Err(e) => Err(staff.fail(e)),
    }
}

#[derive(Template)]
#[template(path = "therapy/plan_link.html")]
struct LinkPage {
    layout: Layout,
    patient_id: String,
    link: String,
    expires: String,
}

pub async fn create_plan_link(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let (secret, expires) =
        therapy::create_plan_link(state.store.as_ref(), &staff.ctx, p, state.config.therapy.plan_link_ttl)
            .await
            .map_err(|e| staff.fail(e))?;
    Ok(render(&LinkPage {
        layout: Layout::new(&state, Some(&staff.principal), "patients"),
        patient_id: p.to_string(),
        link: format!("/s/{secret}"),
        expires: local_time(expires, &state.config.time_zone),
    }))
}

#[derive(Template)]
#[template(path = "therapy/patient_plan.html")]
struct PatientPlanPage {
    layout: Layout,
    problem: Option<&'static str>,
    sections: Vec<PlanSection>,
    /// The landing page: the link is open; the patient taps to show the plan (and spend
    /// the link), so a link preview cannot use it up.
    landing: Option<String>,
}

fn link_problem_text(problem: therapy::LinkProblem) -> (StatusCode, &'static str) {
    match problem {
        therapy::LinkProblem::Unknown => {
            (StatusCode::NOT_FOUND, "This link is not valid. Please check it, or ask your care team for a new one.")
        }
        therapy::LinkProblem::Used => (
            StatusCode::GONE,
            "This link has already been used. For your privacy each link opens once; ask your care team for a new one.",
        ),
        therapy::LinkProblem::Expired => (StatusCode::GONE, "This link has expired. Ask your care team for a new one."),
    }
}

fn private(mut r: Response) -> Response {
    r.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    r.headers_mut().insert(axum::http::header::REFERRER_POLICY, axum::http::HeaderValue::from_static("no-referrer"));
    r
}

/// The page behind a safety-plan link: a button to open the plan. Link previews fetch
/// this page, never the plan, so they do not spend the link.
pub async fn patient_plan_landing(
    State(state): State<AppState>,
    axum::Extension(meta): axum::Extension<crate::middleware::RequestMeta>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(
        Actor::Anonymous,
        meta.remote_addr.clone(),
        meta.request_id.clone(),
        state.clock.now(),
        &state.config.time_zone,
    )
    .with_throttle(state.config.sign_in);
    let result = therapy::check_plan_link(state.store.as_ref(), &ctx, &token).await.map_err(|e| PageError {
        error: e,
        request_id: meta.request_id.clone(),
        login_next: None,
    })?;
    let layout = Layout::new(&state, None, "");
    let (status, page) = match result {
        Ok(()) => (
            StatusCode::OK,
            PatientPlanPage { layout, problem: None, sections: Vec::new(), landing: Some(format!("/s/{token}")) },
        ),
        Err(problem) => {
            let (status, text) = link_problem_text(problem);
            (status, PatientPlanPage { layout, problem: Some(text), sections: Vec::new(), landing: None })
        }
    };
    Ok(private((status, render(&page)).into_response()))
}

/// The patient's read-only view through a one-time link (after the tap on the landing
/// page): no sign-in, phone-sized.
pub async fn patient_plan(
    State(state): State<AppState>,
    axum::Extension(meta): axum::Extension<crate::middleware::RequestMeta>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(
        Actor::Anonymous,
        meta.remote_addr.clone(),
        meta.request_id.clone(),
        state.clock.now(),
        &state.config.time_zone,
    )
    .with_throttle(state.config.sign_in);
    let result = therapy::open_plan_link(state.store.as_ref(), &ctx, &token).await.map_err(|e| PageError {
        error: e,
        request_id: meta.request_id.clone(),
        login_next: None,
    })?;
    let layout = Layout::new(&state, None, "");
    let (status, page) = match result {
        Ok(plan) => (
            StatusCode::OK,
            PatientPlanPage {
                layout,
                problem: None,
                sections: SECTIONS
                    .iter()
                    .map(|(n, t)| PlanSection { title: t, items: plan.content.section(n).to_vec() })
                    .collect(),
                landing: None,
            },
        ),
        Err(problem) => {
            let (status, text) = link_problem_text(problem);
            (status, PatientPlanPage { layout, problem: Some(text), sections: Vec::new(), landing: None })
        }
    };
    Ok(private((status, render(&page)).into_response()))
}

pub struct EntryView {
    date: String,
    time: String,
    kind: &'static str,
    title: String,
    detail: String,
    href: String,
}

#[derive(Template)]
#[template(path = "therapy/timeline.html")]
struct TimelinePage {
    layout: Layout,
    patient_id: String,
    patient_name: String,
    kinds: Vec<Choice>,
    entries: Vec<EntryView>,
    filtered: bool,
    pager: Pager,
}

pub async fn timeline(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let p = pid(&staff, &raw)?;
    let only: Vec<TimelineKind> = form_pairs(query.as_deref().unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| k == "kind")
        .filter_map(|(_, v)| TimelineKind::parse(&v))
        .collect();
    let page_number = form_pairs(query.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse::<u32>().ok());
    let page = PageRequest::new(page_number, None, therapy::TIMELINE_PAGE, therapy::TIMELINE_PAGE_MAX);
    let patient = patients::get(state.store.as_ref(), &staff.ctx, p).await.map_err(|e| staff.fail(e))?;
    let entries = therapy::timeline(state.store.as_ref(), &staff.ctx, p, &only, &state.config.time_zone, page)
        .await
        .map_err(|e| staff.fail(e))?;
    let kinds_query: String = only.iter().map(|k| format!("kind={}&", k.as_str())).collect();
    let pager = Pager::new(&entries, |n| format!("/patients/{p}/timeline?{kinds_query}page={n}"));
    Ok(render(&TimelinePage {
        layout: Layout::new(&state, Some(&staff.principal), "patients"),
        patient_id: p.to_string(),
        patient_name: patient.demographics.full_name(),
        kinds: TimelineKind::ALL
            .iter()
            .map(|k| Choice { value: k.as_str().into(), label: k.label().into(), checked: only.contains(k) })
            .collect(),
        pager,
        entries: entries
            .items
            .iter()
            .map(|e| EntryView {
                date: e.date.to_string(),
                time: e.time.map(|t| t.strftime("%H:%M").to_string()).unwrap_or_default(),
                kind: e.kind.label(),
                title: e.title.clone(),
                detail: e.detail.clone(),
                href: e.href.clone(),
            })
            .collect(),
        filtered: !only.is_empty(),
    }))
}

pub struct WorkRow {
    kind: &'static str,
    overdue: bool,
    date: String,
    patient: String,
    patient_href: String,
    what: String,
    action: &'static str,
    href: String,
}

#[derive(Template)]
#[template(path = "therapy/worklist.html")]
struct WorklistPage {
    layout: Layout,
    today: String,
    rows: Vec<WorkRow>,
    /// Open urgent safety alerts (a count; the list behind the link is audited).
    safety_alerts: i64,
    /// Open same-day suicide-risk reviews (a count).
    same_day_reviews: i64,
    /// Patients with rating scales due or overdue (OUT-002).
    measures_due: usize,
    measures_overdue: usize,
    pager: Pager,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WorklistQuery {
    page: Option<u32>,
}

pub async fn worklist(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<WorklistQuery>,
) -> Result<Response, PageError> {
    let page = PageRequest::new(q.page, None, therapy::WORKLIST_PAGE, therapy::WORKLIST_PAGE);
    let (items, patients) =
        therapy::worklist(state.store.as_ref(), &staff.ctx, page).await.map_err(|e| staff.fail(e))?;
    let pager = Pager::new(&items, |n| format!("/worklist?page={n}"));
    let can_write = can(&staff, Permission::TherapyNoteWrite);
    let rows = items
        .items
        .iter()
        .map(|i| {
            let p = i.patient_id;
            let patient = patients.iter().find(|x| x.id == p).map(|x| x.demographics.sort_name()).unwrap_or_default();
            let (what, action, href) = match &i.target {
                WorkTarget::Session(s) => match (s.kind.note_kind(), can_write) {
                    (Some(k), true) => (
                        format!("{} {}", s.kind.label(), s.sequence),
                        "Write the note",
                        format!("/patients/{p}/notes/new?kind={}&session={}", k.as_str(), s.id),
                    ),
                    _ => (
                        format!("{} {}", s.kind.label(), s.sequence),
                        "Open the program",
                        format!("/patients/{p}/therapy#program"),
                    ),
                },
                WorkTarget::Note(n) => (
                    format!("{} note (draft)", n.kind.label()),
                    "Finish and sign",
                    format!("/patients/{p}/notes/{}", n.id),
                ),
            };
            WorkRow {
                kind: i.kind.label(),
                overdue: i.kind == WorkItemKind::Overdue,
                date: i.date.to_string(),
                patient,
                patient_href: format!("/patients/{p}/therapy"),
                what,
                action,
                href,
            }
        })
        .collect();
    // The other parts of the day's work, for roles that handle them: urgent safety
    // alerts, same-day reviews and rating scales due, each linking to its own list.
    // Counts only (no patient named, so not audited); the list behind the link is.
    let (measures_due, measures_overdue) = kat_app::measures::worklist_counts(
        state.store.as_ref(),
        &staff.ctx,
        &state.config.measures,
        &state.config.time_zone,
    )
    .await
    .map_err(|e| staff.fail(e))?;
    Ok(render(&WorklistPage {
        layout: Layout::new(&state, Some(&staff.principal), "worklist"),
        today: staff.ctx.today.to_string(),
        rows,
        safety_alerts: staff.principal.open_safety_alerts.max(0),
        same_day_reviews: staff.principal.same_day_open.max(0),
        measures_due,
        measures_overdue,
        pager,
    }))
}
