//! The session's dose order (titration): the plan's dose, the previous dose of the
//! course and, once the prescriber judges how it went, the core's suggestion
//! (DOSE-IV-010, DOSE-IN-002, DOSE-PO-002); the prescriber orders this session's dose,
//! checked like the plan's (warnings need a reason, hard limits a medical director).

use super::Staff;
use super::dosing::parse_session;
use crate::AppState;
use crate::error::PageError;
use crate::view::{Layout, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use kat_app::AppError;
use kat_app::dosing::{self as uc, DoseOrderInput};
use kat_core::FieldErrors;
use kat_core::ids::DosingSessionId;
use kat_core::role::Permission;

pub fn router() -> Router<AppState> {
    Router::new().route("/sessions/{id}/dose", get(show).post(submit))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct OrderForm {
    /// `suggest` re-renders with the suggestion; anything else orders.
    action: String,
    #[serde(flatten)]
    input: DoseOrderInput,
}

#[derive(Template)]
#[template(path = "dosing/dose_order.html")]
struct OrderPage {
    layout: Layout,
    session_id: String,
    patient: String,
    plan_dose: String,
    unit: &'static str,
    in_force: String,
    orders: Vec<String>,
    previous: Option<String>,
    suggestion: Option<String>,
    /// The suggested dose in the form's unit, to prefill.
    suggested_value: String,
    started: bool,
    can_order: bool,
    form: DoseOrderInput,
    errors: Vec<(String, String)>,
}

impl OrderPage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone())
    }
}

fn num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r}") }
}

async fn page(
    state: &AppState,
    staff: &Staff,
    id: DosingSessionId,
    form: DoseOrderInput,
    errors: &FieldErrors,
) -> Result<OrderPage, PageError> {
    let v = uc::session(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await.map_err(|e| staff.fail(e))?;
    let tz = &state.config.time_zone;
    let cx = uc::order_context(state.store.as_ref(), &staff.ctx, &state.config.dosing, tz, id, &form)
        .await
        .map_err(|e| staff.fail(e))?;
    let d = &v.plan.content.dose;
    let per_kg = v.plan.content.dose_style == "per_kg";
    let suggested_value = match (&cx.suggestion, d.weight_kg) {
        (Some(s), _) => match s.dose {
            kat_core::dosing::DoseAmount::Mg(mg) => num(mg.value()),
            kat_core::dosing::DoseAmount::PerKg(p) => num(p.value()),
        },
        _ => String::new(),
    };
    Ok(OrderPage {
        layout: Layout::new(state, Some(&staff.principal), "floor"),
        session_id: id.to_string(),
        patient: v.patient_label.clone(),
        plan_dose: match (d.mg_per_kg, d.weight_kg) {
            (Some(p), Some(w)) => format!("{} mg ({} mg/kg × {} kg)", num(d.mg), num(p), num(w)),
            _ => format!("{} mg", num(d.mg)),
        },
        unit: if per_kg { "mg/kg" } else { "mg" },
        in_force: format!(
            "{} mg{}",
            num(v.ordered_mg()),
            if v.orders.is_empty() { " (the plan's dose)" } else { " (ordered for this session)" }
        ),
        orders: v
            .orders
            .iter()
            .map(|o| {
                let why = o.reason.clone().map(|r| format!(" — {r}")).unwrap_or_default();
                format!(
                    "{} mg{}{why}",
                    num(o.mg),
                    o.mg_per_kg.map(|p| format!(" ({} mg/kg)", num(p))).unwrap_or_default()
                )
            })
            .collect(),
        previous: cx.previous.as_ref().map(|p| format!("{} mg on {}", num(p.mg), p.on)),
        suggestion: cx.suggestion.as_ref().map(|s| {
            let dose = match s.dose {
                kat_core::dosing::DoseAmount::Mg(mg) => format!("{} mg", num(mg.value())),
                kat_core::dosing::DoseAmount::PerKg(p) => format!("{} mg/kg", num(p.value())),
            };
            let action = serde_json::to_value(s.action)
                .ok()
                .and_then(|a| a.as_str().map(|x| x.replace('_', " ")))
                .unwrap_or_default();
            format!("{action}: {dose} ({}) — {}", s.rule.as_str(), s.rationale.trim_end_matches('.'))
        }),
        suggested_value,
        started: !v.administrations.is_empty() || v.session.discharged_at.is_some(),
        can_order: staff.principal.user.role.allows(Permission::TreatmentPlanWrite),
        form,
        errors: errors.iter().map(|e| (e.field.clone(), e.message.clone())).collect(),
    })
}

pub async fn show(State(state): State<AppState>, staff: Staff, Path(raw): Path<String>) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    Ok(render(&page(&state, &staff, id, DoseOrderInput::default(), &FieldErrors::new()).await?))
}

pub async fn submit(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<OrderForm>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    if form.action == "suggest" {
        return Ok(render(&page(&state, &staff, id, form.input, &FieldErrors::new()).await?));
    }
    match uc::order_dose(
        state.store.as_ref(),
        &staff.ctx,
        &state.config.dosing,
        &state.config.time_zone,
        id,
        &form.input,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let p = page(&state, &staff, id, form.input, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(AppError::Conflict(msg)) => {
            let p = page(&state, &staff, id, form.input, &FieldErrors::single("dose", &msg)).await?;
            Ok((StatusCode::CONFLICT, render(&p)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}
