//! A patient's dosing course: each signed plan's session dates as they stand after
//! deferrals (§3), starting today's session (then the pre-dose gate), and every session
//! with its gate outcome, discharge and links to the session screen, the gate and the
//! REMS form.

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::view::{Layout, local_time, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use kat_app::AppError;
use kat_app::dosing::{self as uc, StoredGate};
use kat_core::dosing::course::{DoseDay, DoseDayOverride, check_dose_day};
use kat_core::ids::{PatientId, TreatmentPlanId};
use kat_core::role::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/patients/{id}/dosing", get(show))
        .route("/patients/{id}/treatment-plan/{plan}/sessions", post(start))
}

pub struct DoseRow {
    pub date: String,
    /// `planned`, `moved` or `unbooked`: the CSS class and the words.
    pub state: &'static str,
    pub note: String,
    pub today: bool,
}

pub struct PlanCourseView {
    pub id: String,
    pub heading: String,
    pub signed: bool,
    pub doses: Vec<DoseRow>,
}

pub struct SessionRow {
    pub id: String,
    pub opened: String,
    pub route: String,
    pub gate: String,
    pub discharged: String,
    pub in_progress: bool,
    pub esketamine: bool,
    pub deferral: String,
    /// Opened over one dose day: "Second dose today — override by …: reason".
    pub dose_day_override: Option<String>,
}

#[derive(Template)]
#[template(path = "dosing/course.html")]
struct CoursePage {
    layout: Layout,
    patient_id: String,
    plans: Vec<PlanCourseView>,
    sessions: Vec<SessionRow>,
    can_start: bool,
    /// A session is still open: starting another needs a prescriber's reason.
    busy: bool,
    error: Option<String>,
    /// The patient's doses that stand in the way of another session now (one dose day
    /// per patient, issue 11 item 1), in words; empty when none.
    dosed: Vec<String>,
    /// A prescriber may start one anyway, with a reason.
    can_override: bool,
    override_reason: String,
}

fn parse_patient(staff: &Staff, raw: &str) -> Result<PatientId, PageError> {
    raw.parse().map_err(|_| staff.fail(AppError::NotFound("patient")))
}

async fn page(
    state: &AppState,
    staff: &Staff,
    patient: PatientId,
    error: Option<String>,
    override_reason: &str,
) -> Result<CoursePage, PageError> {
    let tz = &state.config.time_zone;
    let course = uc::course(state.store.as_ref(), &staff.ctx, patient, tz).await.map_err(|e| staff.fail(e))?;
    let today = staff.ctx.today;
    let plans = course
        .plans
        .iter()
        .rev()
        .map(|pc| {
            let c = &pc.plan.content;
            PlanCourseView {
                id: pc.plan.record.id.to_string(),
                heading: format!("{} · {} · {}", c.indication, c.protocol_name, c.product),
                signed: pc.plan.signed(),
                doses: pc
                    .doses
                    .iter()
                    .map(|d| match d.current {
                        Some(at) if d.moved() => DoseRow {
                            date: at.to_string(),
                            state: "moved",
                            note: format!("Moved from {} (deferred {}×)", d.planned, d.deferrals),
                            today: at == today,
                        },
                        Some(at) => {
                            DoseRow { date: at.to_string(), state: "planned", note: String::new(), today: at == today }
                        }
                        None => DoseRow {
                            date: "no date".into(),
                            state: "unbooked",
                            note: format!("Planned {}; deferred without a new date: book one", d.planned),
                            today: false,
                        },
                    })
                    .collect(),
            }
        })
        .collect();
    let sessions: Vec<SessionRow> = course
        .sessions
        .iter()
        .map(|s| {
            let gate: Option<StoredGate> = s.gate.as_deref().and_then(|g| serde_json::from_str(g).ok());
            use kat_core::dosing::session::GateOutcome;
            let route = Some(s.route);
            SessionRow {
                id: s.id.to_string(),
                opened: local_time(s.opened_at, tz),
                route: s.route.label().to_string(),
                gate: match s.gate_outcome {
                    Some(GateOutcome::Proceed) => "Passed".into(),
                    Some(GateOutcome::Override) => "Passed with a prescriber's override".into(),
                    Some(GateOutcome::Defer) => "Deferred".into(),
                    None => "Not yet run".into(),
                },
                discharged: match (s.discharged_at, uc::transferred(s)) {
                    (Some(t), _) => local_time(t, tz),
                    (None, Some(t)) => format!("Transferred to emergency care {}", local_time(t, tz)),
                    (None, None) => "–".into(),
                },
                in_progress: uc::in_progress(s),
                esketamine: route.is_some_and(|r| r.is_esketamine()),
                deferral: gate
                    .filter(|_| s.gate_outcome == Some(GateOutcome::Defer))
                    .map(|g| {
                        let to = g
                            .reschedule_to
                            .map(|d| format!("; new date {d}"))
                            .unwrap_or_else(|| "; no new date".into());
                        format!("{}{to}", g.defer_reason.unwrap_or_default())
                    })
                    .unwrap_or_default(),
                dose_day_override: s
                    .dose_day_override
                    .as_deref()
                    .and_then(|j| serde_json::from_str::<DoseDayOverride>(j).ok())
                    .map(|o| o.summary()),
            }
        })
        .collect();
    let others = uc::other_sessions(&course.sessions, tz);
    let dosed = match check_dose_day(&others, today, staff.ctx.now, &state.config.dosing.course) {
        DoseDay::NeedsOverride(c) => c.iter().map(|c| c.to_string()).collect(),
        _ => Vec::new(),
    };
    Ok(CoursePage {
        layout: Layout::new(state, Some(&staff.principal), "patients"),
        patient_id: patient.to_string(),
        busy: sessions.iter().any(|s| s.in_progress),
        plans,
        sessions,
        can_start: staff.principal.user.role.allows(Permission::DosingSessionRun),
        can_override: staff.principal.user.role.allows(Permission::DischargeOverride),
        error,
        dosed,
        override_reason: override_reason.to_string(),
    })
}

pub async fn show(State(state): State<AppState>, staff: Staff, Path(raw): Path<String>) -> Result<Response, PageError> {
    let patient = parse_patient(&staff, &raw)?;
    Ok(render(&page(&state, &staff, patient, None, "").await?))
}

/// Starts a dosing session on a signed plan, then goes to its pre-dose gate.
pub async fn start(
    State(state): State<AppState>,
    staff: Staff,
    Path((raw, raw_plan)): Path<(String, String)>,
    form: Result<Form<uc::OpenSessionInput>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    // The button posts no field unless a reason is asked for: no body is no reason.
    let input = form.map(|Form(f)| f).unwrap_or_default();
    let patient = parse_patient(&staff, &raw)?;
    let plan: TreatmentPlanId = raw_plan.parse().map_err(|_| staff.fail(AppError::NotFound("treatment plan")))?;
    let reason = input.override_reason.clone().unwrap_or_default();
    match uc::open_session(state.store.as_ref(), &staff.ctx, &state.config.dosing, patient, plan, &input).await {
        Ok(s) => Ok(Redirect::to(&format!("/sessions/{}/gate", s.id)).into_response()),
        Err(AppError::Conflict(why)) => {
            let p = page(&state, &staff, patient, Some(why), &reason).await?;
            Ok((axum::http::StatusCode::CONFLICT, render(&p)).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let why = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
            let p = page(&state, &staff, patient, Some(why), &reason).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}
