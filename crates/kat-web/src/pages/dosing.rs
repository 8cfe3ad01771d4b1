//! Dosing pages: the session screen (live vitals, alarms with the recommended action,
//! the next-check timer, nurse vitals entry, alarm acknowledgement) and the clinic floor
//! board. Both update their live part over server-sent events (`dosing_live.rs`,
//! `crate::live`); without script the pages still work by reloading.

use super::Staff;
use super::measures::{InstrumentView, instrument_view};
use crate::AppState;
use crate::error::PageError;
use crate::view::{Layout, local_time, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use kat_app::AppError;
use kat_app::dosing::{self as uc, AdministrationInput, Cadss6Input, InterventionForm, SessionView, VitalsInput};
use kat_core::FieldErrors;
use kat_core::dosing::Route;
use kat_core::ids::{DosingSessionId, SessionAlarmId, VitalId};
use kat_core::instruments::Instrument;
use kat_core::monitoring::Reading;
use kat_core::monitoring::adverse::AdverseEventForm;
use kat_core::monitoring::alarms::Severity;
use kat_core::monitoring::{AlarmPolicy, Deviation, out_of_range};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/floor", get(super::floor::floor))
        .route("/floor/live", get(super::floor::floor_live))
        .route("/sessions/{id}", get(show))
        .route("/sessions/{id}/live", get(live))
        .route("/sessions/{id}/vitals", post(add_vitals))
        .route("/sessions/{id}/discharge", post(discharge))
        .route("/sessions/{id}/administrations", post(administer))
        .route("/sessions/{id}/adverse-events", post(adverse_event))
        .route("/sessions/{id}/cadss6", post(cadss6))
        .route("/sessions/{id}/moaas", post(moaas))
        .route("/sessions/{id}/interventions", post(intervention))
        .route("/sessions/{id}/transfer", post(transfer))
        .route("/sessions/{id}/rems/fields", post(rems_fields))
        .route("/session-alarms/{id}/acknowledge", post(acknowledge))
        .route("/rems", get(rems_worklist))
        .route("/sessions/{id}/rems", get(rems_form))
        .route("/sessions/{id}/rems/submitted", post(rems_submitted))
}

pub struct AlarmView {
    pub id: String,
    pub rule: String,
    /// `notify`, `intervene` or `emergency`: the CSS class (colour) and the words.
    pub severity: String,
    pub severity_label: &'static str,
    pub icon: &'static str,
    pub what: String,
    pub action: String,
    pub raised: String,
    pub acknowledged: Option<String>,
}

pub struct VitalRow {
    pub at: String,
    /// BP, HR, SpO2, RR and MOAA/S, in the table's order.
    pub cells: Vec<VitalCell>,
    pub source: &'static str,
}

/// One value of a vitals row, marked when out of the alarm policy's range
/// (`monitoring::out_of_range`): a class (colour), a glyph and the word.
pub struct VitalCell {
    pub text: String,
    pub mark: Option<Deviation>,
}

impl VitalCell {
    /// `vital-high` / `vital-low`, or empty.
    pub fn class(&self) -> &'static str {
        match self.mark {
            Some(Deviation::High) => "vital-high",
            Some(Deviation::Low) => "vital-low",
            None => "",
        }
    }
    pub fn glyph(&self) -> &'static str {
        match self.mark {
            Some(Deviation::High) => "▲",
            Some(Deviation::Low) => "▼",
            None => "",
        }
    }
    pub fn word(&self) -> &'static str {
        self.mark.map(Deviation::word).unwrap_or_default()
    }
}

/// The session screen's facts around its live part.
pub struct LiveView {
    pub session_id: String,
    pub patient: String,
    pub route: String,
    /// The gate outcome is `proceed` or `override`.
    pub gate_passed: bool,
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "–".into())
}

pub(super) fn vital_row(r: &Reading, tz: &TimeZone, policy: &AlarmPolicy) -> VitalRow {
    let marks = out_of_range(r, policy);
    let cell = |text: String, mark: Option<Deviation>| VitalCell { text, mark };
    VitalRow {
        at: local_time(r.at, tz),
        cells: vec![
            cell(
                r.blood_pressure.map(|b| format!("{}/{}", b.systolic(), b.diastolic())).unwrap_or_else(|| "–".into()),
                marks.blood_pressure,
            ),
            cell(opt(r.heart_rate.map(|h| h.get())), marks.heart_rate),
            cell(
                match (r.spo2, r.on_supplemental_o2) {
                    (Some(v), Some(true)) => format!("{} on O2", v.get()),
                    (v, _) => opt(v.map(|v| v.get())),
                },
                marks.spo2,
            ),
            cell(opt(r.respiratory_rate.map(|x| x.get())), marks.respiratory_rate),
            cell(opt(r.moaas.map(|m| m.get())), marks.moaas),
        ],
        source: match r.source {
            kat_core::monitoring::ReadingSource::Device { .. } => "device",
            kat_core::monitoring::ReadingSource::Manual { .. } => "nurse",
        },
    }
}

/// An alarm's value in words (`BP 186/104`), from the core's `AlarmValue` JSON.
fn value_words(value: &serde_json::Value) -> Option<String> {
    Some(match value["measure"].as_str()? {
        "blood_pressure" => format!("BP {}/{}", value["value"]["systolic"], value["value"]["diastolic"]),
        "sp_o2" | "spo2" => format!("SpO2 {}%", value["value"]["spo2"]),
        "heart_rate" => format!("HR {}", value["value"]),
        "respiratory_rate" => format!("RR {}", value["value"]),
        "moaas" => format!("MOAA/S {}", value["value"]),
        "sign" => value["value"].as_str().unwrap_or_default().replace('_', " "),
        _ => return None,
    })
}

pub(super) fn alarm_view(a: &kat_store::dosing::AlarmRecord, tz: &TimeZone) -> AlarmView {
    let content: serde_json::Value = serde_json::from_str(&a.content).unwrap_or_default();
    let what =
        value_words(&content["value"]).unwrap_or_else(|| kat_store::dosing::alarm_kind_str(a.kind).replace('_', " "));
    let (label, icon) = match a.severity {
        Severity::Emergency => ("Emergency", "✖"),
        Severity::Intervene => ("Intervene now", "⚠"),
        Severity::Notify => ("Notify prescriber", "ℹ"),
    };
    AlarmView {
        id: a.id.to_string(),
        rule: a.rule.to_string(),
        severity: kat_store::dosing::severity_str(a.severity),
        severity_label: label,
        icon,
        what,
        action: content["action"].as_str().unwrap_or_default().to_string(),
        raised: local_time(a.raised_at, tz),
        acknowledged: a
            .action_taken
            .as_ref()
            .map(|t| format!("{} — {}", a.acknowledged_at.map(|x| local_time(x, tz)).unwrap_or_default(), t)),
    }
}

pub(super) fn live_view(v: &SessionView) -> LiveView {
    LiveView {
        session_id: v.session.id.to_string(),
        patient: v.patient_label.clone(),
        route: v.route().label().to_string(),
        gate_passed: v.session.gate_outcome.is_some_and(|o| o.passed()),
    }
}

/// The session screen's live part: its summary, alarm panel and vitals rows, each a
/// fragment the stream can send alone (see `floor.rs`).
#[derive(Template)]
#[template(path = "dosing/live.html")]
pub(super) struct LivePart {
    pub(super) summary: String,
    pub(super) alarms: String,
    pub(super) rows: Vec<String>,
}

/// The live part rendered whole, with its fragments' HTML (for the stream's versions).
pub(super) struct RenderedLive {
    pub(super) html: String,
    pub(super) summary: String,
    pub(super) alarms: String,
    pub(super) rows: Vec<VitalId>,
}

pub(super) fn render_live(
    v: &SessionView,
    now: Timestamp,
    tz: &TimeZone,
    policy: &AlarmPolicy,
) -> Result<RenderedLive, AppError> {
    let tile = kat_app::live::session_tile(v, now);
    let view = super::floor::tile_view(&tile, now, tz);
    let summary = super::floor::html(&super::floor::SummaryFragment::new(&view, &tile))?;
    let alarms = super::floor::html(&super::floor::AlarmPanel::new(v.session.id, &v.alarms, tz))?;
    let rows_html = v
        .vitals
        .iter()
        .rev()
        .map(|(rec, r)| super::floor::html(&super::floor::VitalRowFragment::new(rec.id, r, tz, policy)))
        .collect::<Result<Vec<_>, _>>()?;
    let html = super::floor::html(&LivePart { summary: summary.clone(), alarms: alarms.clone(), rows: rows_html })?;
    Ok(RenderedLive { html, summary, alarms, rows: v.vitals.iter().map(|(rec, _)| rec.id).collect() })
}

#[derive(Template)]
#[template(path = "dosing/session.html")]
struct SessionPage {
    layout: Layout,
    live: LiveView,
    /// The live part rendered once, and its version (see `crate::live::version`): the
    /// stream's first update carries the same version and is not applied again.
    live_html: String,
    live_version: String,
    plan: String,
    dose: String,
    /// The dose in force for this session and what has been given (DOSE-GEN-002).
    in_force: String,
    form: VitalsInput,
    errors: Vec<(String, String)>,
    /// Administration events this route allows (key, words).
    admin_kinds: Vec<(&'static str, &'static str)>,
    /// The pump rate is asked for IV only, the concentration for racemic routes only.
    is_iv: bool,
    is_esketamine: bool,
    admin: AdministrationInput,
    ae: AdverseEventForm,
    /// The CADSS-6 form (construct labels only: instruments.md §1) and its typed values.
    cadss: InstrumentView,
    cadss_in: Cadss6Input,
    cadss_time_points: &'static [(&'static str, &'static str)],
    /// The CADSS-6 ratings taken (MON-KET-005).
    ratings: Vec<RatingRow>,
    /// The MOAA/S-only entry (MON-SPV-005, MON-KET-006).
    sedation: SedationInput,
    /// The MOAA/S levels with the core's paraphrased anchors (instruments.md §7), 5 first.
    moaas_options: Vec<(String, String)>,
    /// The intervention form (INT-005), the session's alarms to choose from, and the
    /// interventions recorded.
    int_in: InterventionForm,
    alarm_options: Vec<(String, String)>,
    interventions: Vec<InterventionRow>,
    /// One dose day (issue 11 item 1): this session's override, and later sessions
    /// opened over this one's day (their link and override), in words.
    dose_day_override: Option<String>,
    later_overrides: Vec<(String, String)>,
    /// How the session closed (discharge or transfer to emergency care), if it has.
    closed: Option<ClosedView>,
    /// The administration log (DOSE-GEN-002), oldest first, and what was delivered.
    admin_log: Vec<AdminRow>,
    delivered: String,
    /// Entries charted after the fact, in words (issue 11 items 2 and 5).
    late_entries: Vec<String>,
    /// Esketamine: the BP at about 40 minutes and "ready to leave", each done or missing
    /// (MON-SPV-002, §4.1).
    esketamine_checks: Vec<CheckView>,
    /// The esketamine REMS form's state on this page: submitted, or what it still lacks.
    rems: Option<RemsStatus>,
    transfer_in: TransferForm,
    rems_in: RemsFieldsForm,
}

/// How the session closed.
pub struct ClosedView {
    /// `transferred` or `discharged`.
    pub kind: &'static str,
    pub at: String,
    pub reason: Option<String>,
    pub by: Option<String>,
}

/// One row of the administration log.
pub struct AdminRow {
    pub at: String,
    pub what: &'static str,
    pub product: String,
    pub concentration: String,
    pub lot: String,
    pub expiry: String,
    pub given_by: String,
    pub monitored_by: String,
    pub dose: String,
    pub rate: String,
    /// "late entry: taken at …, recorded at … by …", when charted after the fact.
    pub late: Option<String>,
}

/// A required check shown by name as done or missing.
pub struct CheckView {
    pub name: &'static str,
    pub done: bool,
    pub detail: String,
}

/// The REMS form as the session page shows it.
pub struct RemsStatus {
    pub submitted: Option<String>,
    pub missing: Vec<&'static str>,
    pub complete: bool,
}

/// The transfer form (reason required, and a confirmation box).
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct TransferForm {
    reason: String,
    at: String,
    confirm: Option<String>,
}

/// The REMS fields form (issue 11 item 5: completed after discharge too).
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct RemsFieldsForm {
    ready_to_leave_minutes: String,
}

/// One CADSS-6 rating on the session page.
pub struct RatingRow {
    pub at: String,
    pub time_point: &'static str,
    pub minutes: String,
    pub total: u8,
    pub by: String,
}

/// One intervention on the session page (INT-005).
pub struct InterventionRow {
    pub at: String,
    pub trigger: String,
    pub action: String,
    pub drug: String,
    pub response: String,
    pub stopped: &'static str,
}

/// A MOAA/S rated on its own (a reading with only the MOAA/S; the vitals alarm path).
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct SedationInput {
    moaas: String,
    at: String,
}

/// The typed values of the session page's forms, kept when one is re-rendered.
#[derive(Default)]
struct Typed {
    vitals: VitalsInput,
    admin: AdministrationInput,
    ae: AdverseEventForm,
    cadss: Cadss6Input,
    sedation: SedationInput,
    intervention: InterventionForm,
    transfer: TransferForm,
    rems: RemsFieldsForm,
}

/// Renames the use case's field names to the page's ids of one form (`at` of the
/// intervention form is `int_at`), so that each error sits under its own input.
fn prefixed(errors: FieldErrors, prefix: &str, keep: &[&str]) -> FieldErrors {
    let mut out = FieldErrors::new();
    for e in errors.iter() {
        let field =
            if keep.iter().any(|k| e.field.starts_with(k)) { e.field.clone() } else { format!("{prefix}{}", e.field) };
        out.add(field, e.message.clone());
    }
    out
}

impl SessionPage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone())
    }
}

/// A late entry's kind in words.
fn late_entry_name(what: &str) -> &'static str {
    match what {
        "administration" => "Administration",
        "reading" => "Vitals reading",
        "adverse_event" => "Adverse event",
        "intervention" => "Intervention",
        "cadss6" => "CADSS-6 rating",
        "emergency_transfer" => "Transfer to emergency care",
        "rems_fields" => "REMS form fields",
        "rems_submitted" => "REMS form marked submitted",
        _ => "Entry",
    }
}

fn admin_row(a: &kat_store::dosing::AdministrationRecord, tz: &TimeZone, late: Option<String>) -> AdminRow {
    use kat_core::dosing::session::Step;
    let x = &a.administration;
    let text =
        |t: Option<&kat_core::dosing::session::ShortText>| t.map_or_else(|| "–".into(), |t| t.as_str().to_string());
    let p = x.product();
    AdminRow {
        at: local_time(x.at(), tz),
        what: match x.step() {
            Step::Dose { .. } => "Dose given",
            Step::Device { .. } => "Esketamine device",
            Step::InfusionStart { .. } => "Infusion started",
            Step::InfusionPause => "Infusion paused",
            Step::InfusionResume { .. } => "Infusion resumed",
            Step::InfusionRateChange { .. } => "Pump rate changed",
            Step::InfusionStop => "Infusion stopped",
        },
        product: text(p.map(|p| &p.name)),
        concentration: p.and_then(|p| p.concentration).map_or_else(|| "–".into(), |c| format!("{} mg/mL", c.value())),
        lot: text(p.map(|p| &p.lot)),
        expiry: p.map_or_else(|| "–".into(), |p| p.expiry.to_string()),
        given_by: text(x.administered_by()),
        monitored_by: text(x.monitored_by()),
        dose: x.step().mg().map_or_else(|| "–".into(), |m| format!("{} mg", m.value())),
        rate: match x.step() {
            Step::InfusionStart { rate, .. } | Step::InfusionResume { rate } | Step::InfusionRateChange { rate } => {
                format!("{} mL/h", rate.value())
            }
            _ => "–".into(),
        },
        late: late.map(|l| l.trim_start_matches(": ").to_string()),
    }
}

pub(super) fn parse_session(staff: &Staff, raw: &str) -> Result<DosingSessionId, PageError> {
    raw.parse().map_err(|_| staff.fail(AppError::NotFound("dosing session")))
}

async fn session_page(
    state: &AppState,
    staff: &Staff,
    id: DosingSessionId,
    typed: Typed,
    errors: &FieldErrors,
) -> Result<SessionPage, PageError> {
    let v = uc::session(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await.map_err(|e| staff.fail(e))?;
    let tz = &state.config.time_zone;
    let c = &v.plan.content;
    let d = &c.dose;
    let mut dose = format!("{} mg", d.mg);
    if let (Some(per), Some(w)) = (d.mg_per_kg, d.weight_kg) {
        // DOSE-GEN-002: mg/kg with the weight used, its basis (DOSE-IV-005) and date.
        dose.push_str(&format!(
            " ({per} mg/kg × {w} kg, {} weight measured {})",
            d.weight_basis.clone().unwrap_or_default(),
            d.weight_measured_on.clone().unwrap_or_default()
        ));
    }
    if let (Some(ml), Some(conc)) = (d.stock_ml, d.concentration_mg_per_ml) {
        dose.push_str(&format!(" · {ml} mL of {conc} mg/mL"));
    }
    if let (Some(dil), Some(rate), Some(min)) = (d.diluted_ml, d.rate_ml_per_h, d.infusion_minutes) {
        dose.push_str(&format!(" · diluted to {dil} mL, {rate} mL/h over {min} min (DOSE-IV-004)"));
    }
    let live_html = render_live(&v, staff.ctx.now, tz, &state.config.dosing.alarms).map_err(|e| staff.fail(e))?.html;
    let closed = match (&v.transfer, v.session.discharged_at) {
        (Some(t), _) => Some(ClosedView {
            kind: "transferred",
            at: local_time(t.at, tz),
            reason: Some(t.reason.clone()),
            by: Some(t.recorded_by.clone()),
        }),
        (None, Some(d)) => Some(ClosedView { kind: "discharged", at: local_time(d, tz), reason: None, by: None }),
        (None, None) => None,
    };
    let late_words = |what: &str, at: Timestamp, recorded_at: Timestamp, by: &str| {
        if at == recorded_at {
            // Charted at its own time, after the session closed (REMS fields, submission).
            format!("{what}: late entry: recorded at {} by {by}, after the session closed", local_time(recorded_at, tz))
        } else {
            format!(
                "{what}: late entry: taken at {}, recorded at {} by {by}",
                local_time(at, tz),
                local_time(recorded_at, tz)
            )
        }
    };
    let late_entries = v
        .late_entries
        .iter()
        .map(|l| late_words(late_entry_name(l.what), l.at, l.recorded_at, &l.recorded_by))
        .collect();
    let late_by_admin: HashMap<Timestamp, &uc::LateEntryView> =
        v.late_entries.iter().filter(|l| l.what == "administration").map(|l| (l.at, l)).collect();
    let admin_log = v
        .administrations
        .iter()
        .map(|a| {
            admin_row(a, tz, late_by_admin.get(&a.at()).map(|l| late_words("", l.at, l.recorded_at, &l.recorded_by)))
        })
        .collect();
    let n2 = |x: f64| format!("{}", (x * 100.0).round() / 100.0);
    let delivered = format!(
        "{} mg delivered of {} mg in force (as of {})",
        n2(v.given_mg()),
        n2(v.ordered_mg()),
        local_time(v.at, tz)
    );
    let is_esketamine = v.route().is_esketamine();
    let esketamine_checks = if is_esketamine {
        let bp40 = uc::bp_at_40_min(&v);
        let due = uc::bp_40_due(&v);
        let ready = uc::ready_to_leave_minutes(&v);
        vec![
            CheckView {
                name: "BP at about 40 minutes (MON-SPV-002)",
                done: bp40.is_some(),
                detail: match (bp40, due) {
                    (Some((at, bp)), _) => format!("done: {bp} mmHg at {}", local_time(at, tz)),
                    (None, Some(due)) => format!("missing: due about {}", local_time(due, tz)),
                    (None, None) => "missing: due about 40 minutes after the first device".into(),
                },
            },
            CheckView {
                name: "Ready to leave (REMS: without the 2-hour minimum)",
                done: ready.is_some(),
                detail: match ready {
                    Some(m) => format!("done: ready after {m} min"),
                    None => "missing: answer it at discharge or in the REMS fields".into(),
                },
            },
        ]
    } else {
        Vec::new()
    };
    let rems = if is_esketamine {
        let f =
            uc::rems(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await.map_err(|e| staff.fail(e))?;
        Some(RemsStatus {
            submitted: f.submitted.map(|t| local_time(t, tz)),
            complete: f.complete(),
            missing: f.missing,
        })
    } else {
        None
    };
    Ok(SessionPage {
        dose_day_override: v.dose_day_override().map(|o| o.summary()),
        later_overrides: v.later_overrides.iter().map(|(id, o)| (id.to_string(), o.summary())).collect(),
        closed,
        admin_log,
        delivered,
        late_entries,
        esketamine_checks,
        rems,
        transfer_in: typed.transfer,
        rems_in: typed.rems,
        layout: Layout::new(state, Some(&staff.principal), "floor").compact_banners(),
        live: live_view(&v),
        live_version: crate::live::version(&live_html),
        live_html,
        plan: match &c.kap_style {
            Some(k) => format!("{} · {} · {} · {k} (PSY-004)", c.indication, c.protocol_name, c.product),
            None => format!("{} · {} · {}", c.indication, c.protocol_name, c.product),
        },
        dose,
        in_force: {
            let n = |v: f64| format!("{}", (v * 100.0).round() / 100.0);
            let source = if v.orders.is_empty() { "the plan's dose" } else { "ordered for this session" };
            format!("{} mg ({source}); {} mg given so far", n(v.ordered_mg()), n(v.given_mg()))
        },
        form: typed.vitals,
        errors: errors.iter().map(|e| (e.field.clone(), crate::view::localize_times(&e.message, tz))).collect(),
        admin_kinds: kat_core::dosing::order::allowed_steps(v.route())
            .iter()
            .map(|k| {
                let words = match *k {
                    "infusion_start" => "Start the infusion",
                    "infusion_pause" => "Pause the infusion",
                    "infusion_resume" => "Resume the infusion",
                    "infusion_rate_change" => "Change the pump rate",
                    "infusion_stop" => "Stop the infusion",
                    "device" => "One esketamine device (28 mg)",
                    _ => "Dose given",
                };
                (*k, words)
            })
            .collect(),
        is_iv: v.route() == Route::IvInfusion,
        is_esketamine: v.route().is_esketamine(),
        admin: typed.admin,
        ae: typed.ae,
        cadss: {
            let values: HashMap<String, String> = Instrument::Cadss6
                .def()
                .items
                .iter()
                .map(|i| (format!("item_{}", i.label), typed.cadss.answer(i.label).unwrap_or_default().to_string()))
                .collect();
            instrument_view(Instrument::Cadss6, &state.config.measures.item_texts, "item_", &values, errors)
        },
        cadss_in: typed.cadss,
        cadss_time_points: uc::CADSS6_TIME_POINTS,
        ratings: uc::cadss6_ratings(&v)
            .iter()
            .map(|r| RatingRow {
                at: local_time(r.at, tz),
                time_point: uc::cadss6_time_point_label(&r.time_point),
                minutes: r.minutes_after_start.map(|m| format!("{m} min")).unwrap_or_else(|| "–".into()),
                total: r.total,
                by: r.rated_by.clone(),
            })
            .collect(),
        sedation: typed.sedation,
        moaas_options: Instrument::Moaas.def().items[0]
            .options
            .iter()
            .rev()
            .map(|o| (o.value.to_string(), format!("{}: {}", o.value, o.display)))
            .collect(),
        int_in: typed.intervention,
        alarm_options: v
            .alarms
            .iter()
            .map(|a| {
                let view = alarm_view(a, tz);
                (view.id, format!("{} · {} ({}, {})", view.severity_label, view.what, view.rule, view.raised))
            })
            .collect(),
        interventions: uc::interventions(&v)
            .iter()
            .map(|i| InterventionRow {
                at: local_time(i.at, tz),
                trigger: {
                    // An alarm's value is copied as its JSON (record_intervention): shown in words.
                    let value = serde_json::from_str::<serde_json::Value>(&i.trigger_value)
                        .ok()
                        .and_then(|v| value_words(&v))
                        .unwrap_or_else(|| i.trigger_value.clone());
                    match &i.trigger_rule {
                        Some(rule) => format!("{value} ({})", rule.as_str()),
                        None => value,
                    }
                },
                action: i.action.clone(),
                drug: i
                    .drug
                    .as_ref()
                    .map(|d| format!("{} {} mg {}", d.name, d.dose.value(), d.route))
                    .unwrap_or_else(|| "–".into()),
                response: i.response.clone(),
                stopped: if i.session_stopped { "Yes" } else { "No" },
            })
            .collect(),
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    /// An alarm to preselect in the intervention form ("Record intervention").
    alarm: String,
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let typed = Typed {
        intervention: InterventionForm { alarm_id: q.alarm, ..InterventionForm::default() },
        // The signed-in clinician monitors unless they change it (DOSE-GEN-002 records who).
        admin: AdministrationInput {
            monitored_by: staff.principal.user.display_name.clone(),
            ..AdministrationInput::default()
        },
        ..Typed::default()
    };
    Ok(render(&session_page(&state, &staff, id, typed, &FieldErrors::new()).await?))
}

pub async fn live(State(state): State<AppState>, staff: Staff, Path(raw): Path<String>) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let v = uc::session(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await.map_err(|e| staff.fail(e))?;
    let live = render_live(&v, staff.ctx.now, &state.config.time_zone, &state.config.dosing.alarms)
        .map_err(|e| staff.fail(e))?;
    Ok(axum::response::Html(live.html).into_response())
}

pub async fn add_vitals(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<VitalsInput>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let input = VitalsInput { at: local_to_rfc3339(&form.at, &state.config.time_zone), ..form.clone() };
    let errors = match uc::record_vitals(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input).await {
        Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
        // The reading's time is this form's `vitals_at` (the administration form has `at`).
        Err(AppError::Invalid(errors)) => prefixed(
            errors,
            "vitals_",
            &[
                "systolic",
                "diastolic",
                "heart_rate",
                "spo2",
                "on_supplemental_o2",
                "respiratory_rate",
                "moaas",
                "device_id",
                "reading",
            ],
        ),
        // After the discharge: a reading dated after it (the session's state refuses).
        Err(AppError::Conflict(msg)) => FieldErrors::single("vitals_at", msg),
        Err(e) => return Err(staff.fail(e)),
    };
    let page = session_page(&state, &staff, id, Typed { vitals: form, ..Typed::default() }, &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// `POST /sessions/{id}/transfer`: the separate exit of a medical emergency (issue 11
/// item 4): the reason is required and the box confirms it; the same use case as the API.
pub async fn transfer(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<TransferForm>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let mut errors = FieldErrors::new();
    if form.confirm.is_none() {
        errors.add("transfer_confirm", "tick the box to confirm the patient leaves for emergency care");
    }
    if form.reason.trim().is_empty() {
        errors.add("transfer_reason", "the reason for the transfer is required");
    }
    if errors.is_empty() {
        let input =
            uc::TransferInput { at: local_to_rfc3339(&form.at, &state.config.time_zone), reason: form.reason.clone() };
        match uc::transfer_to_emergency_care(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input).await {
            Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
            Err(AppError::Invalid(e)) => errors = prefixed(e, "transfer_", &[]),
            Err(AppError::Conflict(msg)) => errors.add("transfer_reason", msg),
            Err(e) => return Err(staff.fail(e)),
        }
    }
    let page = session_page(&state, &staff, id, Typed { transfer: form, ..Typed::default() }, &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// `POST /sessions/{id}/rems/fields`: the REMS form's hand-filled fields (issue 11 item
/// 5: before or after the discharge, then a late entry).
pub async fn rems_fields(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<RemsFieldsForm>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let errors = match form.ready_to_leave_minutes.trim().parse::<u32>() {
        Ok(m) if m <= 1440 => {
            let fields = uc::RemsFields { ready_to_leave_minutes: Some(m) };
            match uc::complete_rems_fields(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &fields).await {
                Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}#rems")).into_response()),
                Err(AppError::Invalid(e)) => prefixed(e, "rems_", &[]),
                Err(AppError::Conflict(msg)) => FieldErrors::single("rems_ready_to_leave_minutes", msg),
                Err(e) => return Err(staff.fail(e)),
            }
        }
        _ => FieldErrors::single(
            "rems_ready_to_leave_minutes",
            "whole minutes from the start of administration (0 to 1440)",
        ),
    };
    let page = session_page(&state, &staff, id, Typed { rems: form, ..Typed::default() }, &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct AckForm {
    action: String,
    /// Where to return: `floor` or the session page.
    back: String,
    session: String,
}

pub async fn acknowledge(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<AckForm>,
) -> Result<Response, PageError> {
    let id: SessionAlarmId = raw.parse().map_err(|_| staff.fail(AppError::NotFound("alarm")))?;
    let session = parse_session(&staff, &form.session)?;
    match uc::acknowledge_alarm(state.store.as_ref(), &staff.ctx, id, &form.action).await {
        Ok(_) if form.back == "floor" => Ok(Redirect::to("/floor").into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/sessions/{session}")).into_response()),
        Err(AppError::Invalid(_)) => {
            let errors = FieldErrors::single("action", "Alarm acknowledgement: the action taken is required (INT-005)");
            let page = session_page(&state, &staff, session, Typed::default(), &errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

pub struct RemsView {
    pub session_id: String,
    pub patient: String,
    pub treatment_date: String,
    pub due: String,
    pub overdue: bool,
    pub submitted: Option<String>,
    pub rows: Vec<(&'static str, String)>,
    pub missing: Vec<&'static str>,
    /// Fields kat does not hold, left to be filled on the form.
    pub to_fill: Vec<&'static str>,
    /// Complete and discharged: may be marked submitted.
    pub complete: bool,
}

fn yn(v: Option<bool>) -> String {
    match v {
        Some(true) => "Yes".into(),
        Some(false) => "No".into(),
        None => "not recorded".into(),
    }
}

fn rems_view(f: &uc::RemsForm, now: Timestamp, tz: &TimeZone, clinic_name: &str) -> RemsView {
    let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "not recorded".into());
    let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join("; ") };
    RemsView {
        session_id: f.session_id.to_string(),
        patient: f.patient.clone(),
        treatment_date: f.treatment_date.map(|t| local_time(t, tz)).unwrap_or_else(|| "–".into()),
        due: f.due.map(|t| local_time(t, tz)).unwrap_or_else(|| "–".into()),
        overdue: f.submitted.is_none() && f.due.is_some_and(|d| d < now),
        submitted: f.submitted.map(|t| local_time(t, tz)),
        rows: vec![
            (
                "Patient birth date (MM/DD/YYYY)",
                f.birth_date.map(|d| d.strftime("%m/%d/%Y").to_string()).unwrap_or_else(|| "not recorded".into()),
            ),
            ("Patient sex", f.sex.map(str::to_string).unwrap_or_else(|| "not recorded".into())),
            ("Patient enrolled in the REMS (first treatment)", yn(f.first_treatment_enrolled)),
            ("Current use of benzodiazepines", class_yn(f, "benzodiazepines")),
            (
                "Current use of non-benzodiazepine sedative hypnotics",
                class_yn(f, "non_benzodiazepine_sedative_hypnotics"),
            ),
            ("Current use of psychostimulants", class_yn(f, "psychostimulants")),
            ("Current use of MAOIs", class_yn(f, "maois")),
            ("Current use of opioids", class_yn(f, "opioids")),
            ("Current use of other drugs that may cause sedation", class_yn(f, "other_sedatives")),
            ("Gate interaction findings (DAY-004)", list(&f.concomitant)),
            ("Healthcare provider conducting monitoring", list(&f.monitored_by)),
            ("Healthcare setting", clinic_name.to_string()),
            ("Treatment date", f.treatment_date.map(|t| local_time(t, tz)).unwrap_or_else(|| "not recorded".into())),
            ("Dose administered", format!("{} mg", f.dose_mg)),
            ("Lot number", list(&f.lots)),
            (
                "Treatment duration (1st device to completion of monitoring)",
                f.duration_minutes.map(|m| format!("{m} min")).unwrap_or_else(|| "not recorded".into()),
            ),
            (
                "Without the 2-hour minimum, ready to leave after",
                f.ready_to_leave_minutes.map(|m| format!("{m} min")).unwrap_or_else(|| "not recorded".into()),
            ),
            ("Vital signs acceptable before administration", yn(f.vitals_ok_before)),
            ("Vital signs acceptable before session completion", yn(f.vitals_ok_at_completion)),
            ("BP before administration (mmHg)", or(&f.bp_before)),
            ("BP 40 minutes after administration (mmHg)", or(&f.bp_40_min)),
            ("BP before session completion (mmHg)", or(&f.bp_completion)),
            (
                "Sedation (MOAA/S below 5)",
                if !f.sedation_rated {
                    "not recorded".into()
                } else if f.sedation {
                    "Yes".into()
                } else {
                    "No".into()
                },
            ),
            (
                "Dissociation (CADSS-6 above the pre-dose rating)",
                match f.dissociation {
                    None => "not recorded".into(),
                    Some(d) => format!("{} ({})", if d { "Yes" } else { "No" }, f.dissociation_ratings.join("; ")),
                },
            ),
            (
                "Respiratory depression (SpO2 or respiration alarm)",
                if f.respiratory_depression { "Yes".into() } else { "No".into() },
            ),
            (
                "Pulse oximetry checked after administration",
                if f.pulse_oximetry_checked { "Yes".into() } else { "No".into() },
            ),
            ("Serious adverse events", list(&f.serious_adverse_events)),
        ],
        missing: f.missing.clone(),
        to_fill: f.to_fill_on_form.clone(),
        complete: f.complete(),
    }
}

fn class_yn(f: &uc::RemsForm, class: &str) -> String {
    yn(f.concomitant_classes.iter().find(|c| c.class == class).map(|c| c.current_use))
}

#[derive(Template)]
#[template(path = "dosing/rems_worklist.html")]
struct RemsWorklistPage {
    layout: Layout,
    forms: Vec<RemsView>,
    pager: crate::view::Pager,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RemsListQuery {
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "dosing/rems_form.html")]
struct RemsFormPage {
    layout: Layout,
    form: RemsView,
}

pub async fn rems_worklist(
    State(state): State<AppState>,
    staff: Staff,
    axum::extract::Query(q): axum::extract::Query<RemsListQuery>,
) -> Result<Response, PageError> {
    let page = kat_core::page::PageRequest::new(q.page, None, uc::REMS_PAGE, uc::REMS_PAGE);
    let forms = uc::rems_worklist(state.store.as_ref(), &staff.ctx, &state.config.dosing, page)
        .await
        .map_err(|e| staff.fail(e))?;
    let tz = &state.config.time_zone;
    Ok(render(&RemsWorklistPage {
        layout: Layout::new(&state, Some(&staff.principal), "rems"),
        pager: crate::view::Pager::new(&forms, |n| format!("/rems?page={n}")),
        forms: forms.items.iter().map(|f| rems_view(f, staff.ctx.now, tz, &state.config.clinic_name)).collect(),
    }))
}

pub async fn rems_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let f = uc::rems(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await.map_err(|e| staff.fail(e))?;
    Ok(render(&RemsFormPage {
        layout: Layout::new(&state, Some(&staff.principal), "rems"),
        form: rems_view(&f, staff.ctx.now, &state.config.time_zone, &state.config.clinic_name),
    }))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SubmittedForm {
    /// `?back=session`: return to the session page (its "Mark REMS submitted").
    back: String,
}

pub async fn rems_submitted(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Query(form): Query<SubmittedForm>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    match uc::mark_rems_submitted(state.store.as_ref(), &staff.ctx, &state.config.dosing, id).await {
        Ok(_) if form.back == "session" => Ok(Redirect::to(&format!("/sessions/{id}#rems")).into_response()),
        Ok(_) => Ok(Redirect::to("/rems").into_response()),
        Err(AppError::Conflict(msg)) if form.back == "session" => {
            let errors = FieldErrors::single("rems_submitted", msg);
            let page = session_page(&state, &staff, id, Typed::default(), &errors).await?;
            Ok((axum::http::StatusCode::CONFLICT, render(&page)).into_response())
        }
        Err(e) => Err(staff.fail(e)),
    }
}

/// The discharge form on the session page (checkboxes send "on").
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DischargeFormInput {
    aldrete_total: String,
    moaas: String,
    dissociation_resolved: Option<String>,
    able_to_walk_safely: Option<String>,
    no_active_nausea: Option<String>,
    no_suicidal_crisis: Option<String>,
    escort_present: Option<String>,
    written_instructions_given: Option<String>,
    clinician_judges_stable: Option<String>,
    rems_ready_to_leave_minutes: String,
    override_reason: String,
}

pub async fn discharge(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(f): Form<DischargeFormInput>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let mut errors = FieldErrors::new();
    let small = |e: &mut FieldErrors, name: &str, raw: &str, max: u32| -> Option<u32> {
        match raw.trim() {
            "" => None,
            t => match t.parse::<u32>() {
                Ok(v) if v <= max => Some(v),
                _ => {
                    e.add(name, format!("a whole number 0 to {max}"));
                    None
                }
            },
        }
    };
    let aldrete = small(&mut errors, "aldrete_total", &f.aldrete_total, 10);
    let moaas = small(&mut errors, "moaas", &f.moaas, 5);
    let ready = small(&mut errors, "rems_ready_to_leave_minutes", &f.rems_ready_to_leave_minutes, 1440);
    if errors.is_empty() {
        let input = uc::DischargeInputForm {
            aldrete_total: aldrete.and_then(|v| u8::try_from(v).ok()),
            pre_sedation_aldrete: None,
            moaas: moaas.and_then(|v| u8::try_from(v).ok()),
            // A ticked box confirms the criterion; an unticked one only says it is not
            // confirmed yet (never that the patient is nauseous or in crisis).
            dissociation_resolved: confirmed(&f.dissociation_resolved, true),
            able_to_walk_safely: confirmed(&f.able_to_walk_safely, true),
            active_nausea: confirmed(&f.no_active_nausea, false),
            suicidal_crisis: confirmed(&f.no_suicidal_crisis, false),
            escort_present: confirmed(&f.escort_present, true),
            written_instructions_given: confirmed(&f.written_instructions_given, true),
            clinician_judges_stable: confirmed(&f.clinician_judges_stable, true),
            override_reason: Some(f.override_reason.clone()).filter(|r| !r.trim().is_empty()),
            rems_ready_to_leave_minutes: ready,
        };
        match uc::discharge(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input).await {
            Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
            Err(AppError::Invalid(e)) => errors = e,
            Err(AppError::Conflict(msg)) => errors.add("discharge", msg),
            Err(e) => return Err(staff.fail(e)),
        }
    }
    let page = session_page(&state, &staff, id, Typed::default(), &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// A clinic-local `YYYY-MM-DDTHH:MM` (the browser's datetime-local) as RFC 3339; anything
/// else is passed on unchanged for the use case to report on its field.
fn local_to_rfc3339(raw: &str, tz: &TimeZone) -> String {
    let t = raw.trim();
    match t.parse::<jiff::civil::DateTime>().ok().and_then(|d| d.to_zoned(tz.clone()).ok()) {
        Some(z) if !t.is_empty() => z.timestamp().to_string(),
        _ => t.to_string(),
    }
}

/// The administration form on the session page (infusion start/pause/rate/stop, a dose,
/// or one esketamine device); the same use case as the API.
pub async fn administer(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<AdministrationInput>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let input = AdministrationInput { at: local_to_rfc3339(&form.at, &state.config.time_zone), ..form.clone() };
    let errors =
        match uc::record_administration(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input).await {
            Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
            Err(AppError::Invalid(e)) => e,
            Err(AppError::Conflict(msg)) => FieldErrors::single("kind", msg),
            Err(e) => return Err(staff.fail(e)),
        };
    let page = session_page(&state, &staff, id, Typed { admin: form, ..Typed::default() }, &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// The adverse-event form on the session page (§5: CTCAE term and grade).
pub async fn adverse_event(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<AdverseEventForm>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let tz = &state.config.time_zone;
    let input = AdverseEventForm {
        onset: local_to_rfc3339(&form.onset, tz),
        resolved: local_to_rfc3339(&form.resolved, tz),
        ..form.clone()
    };
    let errors =
        match uc::record_adverse_event(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input).await {
            Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
            Err(AppError::Invalid(e)) => e,
            Err(e) => return Err(staff.fail(e)),
        };
    let page = session_page(&state, &staff, id, Typed { ae: form, ..Typed::default() }, &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// The CADSS-6 form on the session page (MON-KET-005): the same use case as the API.
pub async fn cadss6(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<Cadss6Input>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let input = Cadss6Input { at: local_to_rfc3339(&form.at, &state.config.time_zone), ..form.clone() };
    let errors = match uc::record_cadss6(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input).await {
        Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
        Err(AppError::Invalid(e)) => prefixed(e, "cadss_", &["item_"]),
        Err(e) => return Err(staff.fail(e)),
    };
    let page = session_page(&state, &staff, id, Typed { cadss: form, ..Typed::default() }, &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// A MOAA/S rated on its own (MON-SPV-005, MON-KET-006): saved as a reading through
/// `record_vitals`, so it raises its alarm (MON-SPV-005 at ≤ 3, ALM-005 at ≤ 2) exactly
/// as a full set of vitals would.
pub async fn moaas(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<SedationInput>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let errors = if form.moaas.trim().is_empty() {
        FieldErrors::single("sed_moaas", "the MOAA/S rating (0–5) is required")
    } else {
        let input = VitalsInput {
            moaas: form.moaas.clone(),
            at: local_to_rfc3339(&form.at, &state.config.time_zone),
            ..VitalsInput::default()
        };
        match uc::record_vitals(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input).await {
            Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
            Err(AppError::Invalid(e)) => prefixed(e, "sed_", &[]),
            Err(AppError::Conflict(msg)) => FieldErrors::single("sed_moaas", msg),
            Err(e) => return Err(staff.fail(e)),
        }
    };
    let page = session_page(&state, &staff, id, Typed { sedation: form, ..Typed::default() }, &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// The intervention form on the session page (INT-005): the same use case as the API.
pub async fn intervention(
    State(state): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Form(form): Form<InterventionForm>,
) -> Result<Response, PageError> {
    let id = parse_session(&staff, &raw)?;
    let input = InterventionForm { at: local_to_rfc3339(&form.at, &state.config.time_zone), ..form.clone() };
    let errors = match uc::record_intervention(state.store.as_ref(), &staff.ctx, &state.config.dosing, id, &input).await
    {
        Ok(_) => return Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
        Err(AppError::Invalid(e)) => prefixed(e, "int_", &[]),
        Err(e) => return Err(staff.fail(e)),
    };
    let page = session_page(&state, &staff, id, Typed { intervention: form, ..Typed::default() }, &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// A discharge checkbox: ticked confirms the criterion (`Some(value)`, the value the
/// criterion wants); unticked is "not yet confirmed" (`None`), not a finding.
fn confirmed(box_: &Option<String>, value: bool) -> Option<bool> {
    box_.is_some().then_some(value)
}
