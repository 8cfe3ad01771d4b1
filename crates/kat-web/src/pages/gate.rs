//! The pre-dose gate page of a session (§3): the checklist as a form, parsed field by
//! field into the core's `GateChecklist` (the same type the API takes), then the one
//! `record_gate` use case. The outcome and every finding show with its rule ID, a colour,
//! an icon and words.

use super::Staff;
use crate::AppState;
use crate::error::PageError;
use crate::view::{Layout, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use jiff::tz::TimeZone;
use kat_app::AppError;
use kat_app::dosing::{self as uc, GateInput};
use kat_core::FieldErrors;
use kat_core::ids::DosingSessionId;
use kat_core::monitoring::GateChecklist;
use serde_json::{Map, Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/sessions/{id}/gate", get(show).post(submit))
}

/// The checklist as typed; every field is text so each can be reported on its own.
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct GateForm {
    pub last_solid_at: String,
    pub last_solid_kind: String,
    pub last_clear_liquid_at: String,
    pub systolic: String,
    pub diastolic: String,
    pub recheck_systolic: String,
    pub recheck_diastolic: String,
    pub recheck_rested_minutes: String,
    pub hypertensive_symptoms: String,
    pub heart_rate: String,
    pub new_irregular_rhythm: String,
    pub escort_confirmed: String,
    pub no_driving_instruction_given: String,
    pub intoxicated_or_in_withdrawal: String,
    pub substance_use: String,
    pub substance_last_used_at: String,
    pub childbearing_potential: String,
    pub pregnancy: String,
    pub pregnancy_test_negative: String,
    pub medication_changes_reviewed: String,
    pub new_psychotic_or_manic_symptoms: String,
    pub suicide_screen: String,
    pub weight_measured_on: String,
    pub rems_patient_enrolled: String,
    pub rems_setting_certified: String,
    pub prescriber_onsite: String,
    pub pulse_oximeter_available: String,
    pub nasal_medication: String,
    pub nasal_last_used_at: String,
    pub nasal_congestion: String,
    pub override_reason: String,
    pub defer_reason: String,
    pub reschedule_to: String,
}

fn time(e: &mut FieldErrors, name: &str, raw: &str, tz: &TimeZone) -> Value {
    match raw.trim() {
        "" => Value::Null,
        t => match t.parse::<jiff::civil::DateTime>().ok().and_then(|d| d.to_zoned(tz.clone()).ok()) {
            Some(z) => json!(z.timestamp().to_string()),
            None => {
                e.add(name, "a date and time (YYYY-MM-DDTHH:MM)");
                Value::Null
            }
        },
    }
}

fn number(e: &mut FieldErrors, name: &str, raw: &str, max: u32) -> Value {
    match raw.trim() {
        "" => Value::Null,
        t => match t.parse::<u32>() {
            Ok(v) if v <= max => json!(v),
            _ => {
                e.add(name, format!("a whole number 0 to {max}"));
                Value::Null
            }
        },
    }
}

fn yes_no(e: &mut FieldErrors, name: &str, raw: &str) -> Value {
    match raw.trim() {
        "" => Value::Null,
        "yes" => json!(true),
        "no" => json!(false),
        _ => {
            e.add(name, "yes or no");
            Value::Null
        }
    }
}

fn choice(e: &mut FieldErrors, name: &str, raw: &str, allowed: &[&str]) -> Value {
    match raw.trim() {
        "" => Value::Null,
        t if allowed.contains(&t) => json!(t),
        _ => {
            e.add(name, "choose one of the options");
            Value::Null
        }
    }
}

/// Parses the form into the core's checklist for this session's route.
fn parse_form(f: &GateForm, route: &str, weight_based: bool, tz: &TimeZone) -> Result<GateInput, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut c = Map::new();
    c.insert("route".into(), json!(route));
    c.insert("dose_is_weight_based".into(), json!(weight_based));
    let solid_at = time(&mut e, "last_solid_at", &f.last_solid_at, tz);
    let solid_kind = choice(&mut e, "last_solid_kind", &f.last_solid_kind, &["light", "fatty_or_meat"]);
    if !solid_at.is_null() {
        if solid_kind.is_null() {
            e.add("last_solid_kind", "say whether the last meal was light or fatty/meat");
        }
        c.insert("last_solid".into(), json!({"at": solid_at, "kind": solid_kind}));
    }
    c.insert("last_clear_liquid".into(), time(&mut e, "last_clear_liquid_at", &f.last_clear_liquid_at, tz));
    let bp = |e: &mut FieldErrors, s: &str, sv: &str, d: &str, dv: &str| -> Value {
        let (sys, dia) = (number(e, s, sv, 300), number(e, d, dv, 200));
        match (sys.is_null(), dia.is_null()) {
            (false, false) => json!({"systolic": sys, "diastolic": dia}),
            (true, true) => Value::Null,
            (true, false) => {
                e.add(s, "is required with the diastolic");
                Value::Null
            }
            (false, true) => {
                e.add(d, "is required with the systolic");
                Value::Null
            }
        }
    };
    c.insert("blood_pressure".into(), bp(&mut e, "systolic", &f.systolic, "diastolic", &f.diastolic));
    let recheck = bp(&mut e, "recheck_systolic", &f.recheck_systolic, "recheck_diastolic", &f.recheck_diastolic);
    if !recheck.is_null() {
        let rested = number(&mut e, "recheck_rested_minutes", &f.recheck_rested_minutes, 240);
        if rested.is_null() {
            e.add("recheck_rested_minutes", "say how many minutes the patient rested before the recheck");
        }
        c.insert("bp_recheck".into(), json!({"bp": recheck, "rested": rested}));
    }
    c.insert("heart_rate".into(), number(&mut e, "heart_rate", &f.heart_rate, 300));
    for (name, raw) in [
        ("hypertensive_symptoms", &f.hypertensive_symptoms),
        ("new_irregular_rhythm", &f.new_irregular_rhythm),
        ("escort_confirmed", &f.escort_confirmed),
        ("no_driving_instruction_given", &f.no_driving_instruction_given),
        ("intoxicated_or_in_withdrawal", &f.intoxicated_or_in_withdrawal),
        ("childbearing_potential", &f.childbearing_potential),
        ("pregnancy_test_negative", &f.pregnancy_test_negative),
        ("medication_changes_reviewed", &f.medication_changes_reviewed),
        ("new_psychotic_or_manic_symptoms", &f.new_psychotic_or_manic_symptoms),
        ("rems_patient_enrolled", &f.rems_patient_enrolled),
        ("rems_setting_certified", &f.rems_setting_certified),
        ("prescriber_onsite", &f.prescriber_onsite),
        ("pulse_oximeter_available", &f.pulse_oximeter_available),
        ("nasal_congestion", &f.nasal_congestion),
    ] {
        c.insert(name.into(), yes_no(&mut e, name, raw));
    }
    c.insert(
        "substance_use".into(),
        match choice(&mut e, "substance_use", &f.substance_use, &["none_within_window", "last_used_at"]).as_str() {
            Some("last_used_at") => match time(&mut e, "substance_last_used_at", &f.substance_last_used_at, tz) {
                Value::Null => {
                    e.add("substance_last_used_at", "is required when a substance was used");
                    Value::Null
                }
                t => json!({"last_used_at": t}),
            },
            Some(v) => json!(v),
            None => Value::Null,
        },
    );
    c.insert("pregnancy".into(), choice(&mut e, "pregnancy", &f.pregnancy, &["not_pregnant", "pregnant", "unsure"]));
    c.insert(
        "suicide_screen".into(),
        match choice(&mut e, "suicide_screen", &f.suicide_screen, &["negative", "positive_not_high_risk", "high_risk"])
            .as_str()
        {
            Some("high_risk") => json!({"high_risk": {"safe_as_outpatient": null}}),
            Some(v) => json!(v),
            None => Value::Null,
        },
    );
    c.insert(
        "weight_measured_on".into(),
        match f.weight_measured_on.trim() {
            "" => Value::Null,
            t => match t.parse::<jiff::civil::Date>() {
                Ok(d) => json!(d.to_string()),
                Err(_) => {
                    e.add("weight_measured_on", "a date (YYYY-MM-DD)");
                    Value::Null
                }
            },
        },
    );
    c.insert(
        "nasal_medication".into(),
        match choice(&mut e, "nasal_medication", &f.nasal_medication, &["none_today", "last_used_at"]).as_str() {
            Some("last_used_at") => match time(&mut e, "nasal_last_used_at", &f.nasal_last_used_at, tz) {
                Value::Null => {
                    e.add("nasal_last_used_at", "is required when a nasal medicine was used today");
                    Value::Null
                }
                t => json!({"last_used_at": t}),
            },
            Some(v) => json!(v),
            None => Value::Null,
        },
    );
    if !e.is_empty() {
        return Err(e);
    }
    let checklist: GateChecklist =
        serde_json::from_value(Value::Object(c)).map_err(|err| FieldErrors::single("checklist", err.to_string()))?;
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(GateInput {
        checklist,
        override_reason: text(&f.override_reason),
        defer_reason: text(&f.defer_reason),
        reschedule_to: text(&f.reschedule_to),
    })
}

pub struct FindingView {
    pub rule: String,
    /// CSS class (colour) and the words and icon.
    pub severity: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub message: String,
}

/// The findings of a core decision (as JSON: `notes`, `reasons` or `findings`).
fn findings(decision: &Value, tz: &jiff::tz::TimeZone) -> Vec<FindingView> {
    ["reasons", "findings", "notes"]
        .iter()
        .flat_map(|k| decision[*k].as_array().cloned().unwrap_or_default())
        .map(|f| {
            let (severity, label, icon) = match f["level"].as_str().unwrap_or_default() {
                "defer" => ("emergency", "Defer", "✖"),
                "override" => ("intervene", "Needs a prescriber's override", "⚠"),
                "attest" => ("intervene", "Prescriber attestation", "⚠"),
                _ => ("notify", "Note", "ℹ"),
            };
            FindingView {
                rule: f["rule"].as_str().map(String::from).unwrap_or_else(|| f["rule"].to_string()),
                severity,
                label,
                icon,
                message: crate::view::localize_times(f["message"].as_str().unwrap_or_default(), tz),
            }
        })
        .collect()
}

/// The rerun interaction findings as the page shows them (the gate's own words).
fn interaction_views(list: &[kat_core::monitoring::InteractionFinding]) -> Vec<FindingView> {
    use kat_core::monitoring::InteractionAction as A;
    list.iter()
        .map(|i| {
            let (severity, label, icon) = match (i.action, &i.accepted) {
                (A::Block, _) => ("emergency", "Defer", "✖"),
                (A::Override, Some(_)) => ("notify", "Accepted at eligibility", "✔"),
                (A::Override, None) => ("intervene", "Needs a prescriber's override", "⚠"),
                (A::Monitor, _) => ("notify", "Monitor closely", "ℹ"),
                (A::Inform, _) => ("notify", "Note", "ℹ"),
            };
            let message = match &i.accepted {
                Some(a) => format!("{} — {}", i.message, a.words()),
                None => i.message.clone(),
            };
            FindingView { rule: i.rule.clone(), severity, label, icon, message }
        })
        .collect()
}

/// The order the page lists findings in (issue 11 item 7): what blocks first.
fn rank(severity: &str, label: &str) -> u8 {
    match (severity, label) {
        ("emergency", _) => 0,
        ("intervene", _) => 1,
        (_, "Monitor closely") => 2,
        _ => 3,
    }
}

fn outcome_words(decision: &Value) -> &'static str {
    match decision["decision"].as_str() {
        Some("proceed") => "The checklist allows the dose to proceed",
        Some("needs_override") => "Defer, unless a prescriber overrides with a documented reason",
        Some("defer") => "Defer: do not dose now",
        _ => "",
    }
}

#[derive(Template)]
#[template(path = "dosing/gate.html")]
struct GatePage {
    layout: Layout,
    session_id: String,
    patient: String,
    route: String,
    esketamine: bool,
    /// The recorded outcome (`proceed`, `override`, `defer`) and its reasons.
    recorded: Option<String>,
    recorded_detail: String,
    decision: String,
    /// The finding that blocks (the first above a note), to lead the page in words.
    blocker: Option<FindingView>,
    findings: Vec<FindingView>,
    /// DAY-004: the interaction rules rerun on the current intake.
    interactions: Vec<FindingView>,
    /// Today's rating-scale responses (OUT-002 pre-dose measures, DAY-006), and whether
    /// a suicide-risk screen (C-SSRS screener or PHQ-9) is among them.
    measures_today: Vec<super::measures::ResponseView>,
    /// The plan's dosing weight and its date (the gate checks its age, DAY-008).
    weight_used: String,
    screened_today: bool,
    can_read_measures: bool,
    patient_id: String,
    errors: Vec<(String, String)>,
    form: GateForm,
}

impl GatePage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone())
    }
}

fn parse_session(staff: &Staff, raw: &str) -> Result<DosingSessionId, PageError> {
    raw.parse().map_err(|_| staff.fail(AppError::NotFound("dosing session")))
}

async fn page(
    state: &AppState,
    staff: &Staff,
    id: DosingSessionId,
    form: GateForm,
    errors: &FieldErrors,
    live: Option<Value>,
) -> Result<GatePage, PageError> {
    let v = uc::session(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await.map_err(|e| staff.fail(e))?;
    let stored: Option<Value> = v.session.gate.as_deref().and_then(|g| serde_json::from_str(g).ok());
    let decision = live.or_else(|| stored.as_ref().map(|s| s["decision"].clone())).unwrap_or(Value::Null);
    let recorded_detail = stored
        .as_ref()
        .map(|s| {
            [
                ("Override reason", &s["override_reason"]),
                ("Deferred because", &s["defer_reason"]),
                ("New date", &s["reschedule_to"]),
            ]
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|t| format!("{k}: {t}")))
            .collect::<Vec<_>>()
            .join(" · ")
        })
        .unwrap_or_default();
    let can_read_measures = staff.principal.user.role.allows(kat_core::role::Permission::MeasureRead);
    let today = if can_read_measures {
        kat_app::measures::responses_on_day(
            state.store.as_ref(),
            &staff.ctx,
            v.session.patient_id,
            staff.ctx.today,
            &state.config.time_zone,
        )
        .await
        .map_err(|e| staff.fail(e))?
    } else {
        Vec::new()
    };
    Ok(GatePage {
        layout: Layout::new(state, Some(&staff.principal), "floor"),
        session_id: id.to_string(),
        patient: v.patient_label.clone(),
        route: v.route().label().to_string(),
        esketamine: v.route().is_esketamine(),
        recorded: v.session.gate_outcome.map(kat_store::dosing::gate_outcome_str),
        recorded_detail,
        decision: outcome_words(&decision).to_string(),
        blocker: findings(&decision, &state.config.time_zone).into_iter().find(|f| f.severity != "notify"),
        findings: findings(&decision, &state.config.time_zone),
        interactions: {
            let mut v = interaction_views(
                &uc::gate_interactions(state.store.as_ref(), &staff.ctx, id).await.map_err(|e| staff.fail(e))?,
            );
            v.sort_by_key(|f| rank(f.severity, f.label));
            v
        },
        patient_id: v.session.patient_id.to_string(),
        weight_used: {
            let d = &v.plan.content.dose;
            match (d.weight_kg, d.weight_measured_on.as_deref()) {
                (Some(kg), Some(on)) if v.plan.content.dose_style == "per_kg" => {
                    let age = match state.config.dosing.gate.weight_max_age_days {
                        Some(days) => format!("re-weigh when older than {days} days (clinic policy)"),
                        None => "the clinic has set no maximum age for a weight: check it is current".into(),
                    };
                    format!("{kg} kg measured on {on}, from the plan; {age}")
                }
                _ => "a fixed dose: no weight needed".into(),
            }
        },
        screened_today: today.iter().any(|r| {
            r.complete
                && matches!(
                    r.response.instrument(),
                    kat_core::instruments::Instrument::CssrsScreener | kat_core::instruments::Instrument::Phq9
                )
        }),
        measures_today: today.iter().map(|r| super::measures::response_view(r, &state.config.time_zone)).collect(),
        can_read_measures,
        errors: errors.iter().map(|e| (e.field.clone(), e.message.clone())).collect(),
        form,
    })
}

pub async fn show(State(state): State<AppState>, staff: Staff, Path(raw): Path<String>) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    Ok(render(&page(&state, &staff, id, GateForm::default(), &FieldErrors::new(), None).await?))
}

pub async fn submit(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<GateForm>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let v = uc::session(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await.map_err(|e| staff.fail(e))?;
    let tz = &state.config.time_zone;
    let weight_based = v.plan.content.dose_style == "per_kg";
    let (errors, live) = match parse_form(&form, &kat_store::dosing::route_str(v.session.route), weight_based, tz) {
        Err(e) => (e, None),
        Ok(input) => {
            // What the gate decides on these answers: the use case's checklist (the plan's
            // weight and date for DAY-008, the rerun interactions with what carries over
            // from eligibility), not the form's alone.
            let decision = serde_json::to_value(
                uc::gate_preview(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input)
                    .await
                    .map_err(|e| staff.fail(e))?,
            )
            .ok();
            match uc::record_gate(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input).await {
                // Deferred: the course page shows the dose's new date (or that it needs one).
                Ok(g) if g.outcome == kat_core::dosing::session::GateOutcome::Defer => {
                    return Ok(Redirect::to(&format!("/patients/{}/dosing", v.session.patient_id)).into_response());
                }
                Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
                Err(AppError::Invalid(e)) => (e, decision),
                Err(AppError::Conflict(msg)) => (FieldErrors::single("gate", &msg), decision),
                Err(e) => return Err(staff.fail(e)),
            }
        }
    };
    let p = page(&state, &staff, id, form, &errors, live).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
}
