//! The Spravato REMS Patient Monitoring Form (§4.1), the REMS worklist and its submission.

use super::discharge::StoredDischarge;
use super::events::{cadss6_ratings, rems_dissociation};
use super::gate::StoredGate;
use super::state::rebuild_state;
use super::view::{SessionParts, SessionView, assemble_view, load_view};
use super::{audit_reads, entry, hold, read_session};
use crate::config::DosingConfig;
use crate::events::DomainEvent;
use crate::{AppError, AppResult, Ctx, audit_list_view, require};
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::audit::AuditAction;
use kat_core::dosing::Route;
use kat_core::dosing::session::{GateOutcome, Step};
use kat_core::ids::{DosingSessionId, PatientId, UserId};
use kat_core::monitoring::{AlarmKind, GateChecklist, Reading};
use kat_core::page::{Page, PageRequest};
use kat_core::patient::SexAtBirth;
use kat_core::role::Permission;
use kat_store::dosing::dosing_constraints as c;
use kat_store::dosing::{
    AdministrationRecord, AlarmRecord, DoseOrderRecord, DosingSessionRecord, SessionEventKind, SessionEventRecord,
    VitalRecord,
};
use kat_store::{Store, StoreError, Tx};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Spravato REMS Patient Monitoring Form (§4.1)
// ---------------------------------------------------------------------------------------

/// The REMS Patient Monitoring Form filled from the session record, the patient record
/// and the intake. `missing` names what the record lacks; the form is complete when it
/// is empty and the session is discharged.
#[derive(Debug, Clone, Serialize)]
pub struct RemsForm {
    pub session_id: DosingSessionId,
    pub patient_id: PatientId,
    /// The patient's name and MRN.
    pub patient: String,
    /// The patient's birth date (the form's MM/DD/YYYY), from the patient record.
    pub birth_date: Option<Date>,
    /// The form's sex answer from the patient record: `Male`, `Female` or `Other`
    /// (intersex); absent (and in `missing`) when the record says unknown.
    pub sex: Option<&'static str>,
    /// Whether monitoring is completed: the session discharged, or ended by a transfer to
    /// emergency care (the form is due after every outpatient session, MON-SPV-008).
    pub discharged: bool,
    pub treatment_date: Option<Timestamp>,
    /// Due 7 days after the treatment date.
    pub due: Option<Timestamp>,
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
#[derive(Debug, Clone, Serialize)]
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
    let p = tx.patient_by_id(s.patient_id).await?;
    let history = tx.intake_history(s.patient_id).await?;
    Ok(rems_patient_from(s, p.as_ref(), &history))
}

/// The patient part of a REMS form from the patient and their intake versions (any
/// order): the intake in force when the session's gate was run.
fn rems_patient_from(
    s: &DosingSessionRecord,
    p: Option<&kat_core::patient::Patient>,
    history: &[kat_store::intake::IntakeVersionRecord],
) -> RemsPatient {
    let as_of = s.gate_at.unwrap_or(s.opened_at);
    let birth = p.map(|p| p.demographics.birth_date);
    let mut out = RemsPatient {
        birth_date: birth.map(|b| b.date()),
        sex: p.map(|p| p.demographics.sex_at_birth),
        classes: Err("concomitant medicines (DDI-010): no intake"),
    };
    let Some(intake) = history
        .iter()
        .filter(|v| v.saved_at <= as_of)
        .max_by_key(|v| v.version)
        .or_else(|| history.iter().min_by_key(|v| v.version))
    else {
        return out;
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
    out
}

fn bp_text(r: &Reading) -> Option<String> {
    r.blood_pressure.map(|b| format!("{}/{}", b.systolic(), b.diastolic()))
}

/// The esketamine BP "at about 40 minutes" after the first device (MON-SPV-002): the
/// reading with a BP nearest to 40 minutes, within 15 minutes of it; when it was taken
/// and the BP. None before the first device or when no BP was taken then.
pub fn bp_at_40_min(v: &SessionView) -> Option<(Timestamp, String)> {
    let target = bp_40_due(v)?;
    v.vitals
        .iter()
        .filter(|(_, r)| r.blood_pressure.is_some())
        .min_by_key(|(_, r)| (r.at.as_second() - target.as_second()).abs())
        .filter(|(_, r)| (r.at.as_second() - target.as_second()).abs() <= 15 * 60)
        .and_then(|(_, r)| Some((r.at, bp_text(r)?)))
}

/// When the esketamine BP at about 40 minutes is due: 40 minutes after the first device.
pub fn bp_40_due(v: &SessionView) -> Option<Timestamp> {
    let first = v.state.device_times().first().copied()?;
    Some(first + jiff::SignedDuration::from_mins(40))
}

/// The REMS "ready to leave" answer (minutes from the start of administration): the
/// latest hand-filled REMS fields, else the answer given at discharge.
pub fn ready_to_leave_minutes(v: &SessionView) -> Option<u32> {
    let fields: Option<RemsFields> = v
        .events
        .iter()
        .filter(|e| e.kind == SessionEventKind::RemsFields)
        .filter_map(|e| serde_json::from_str(&e.content).ok())
        .next_back();
    let discharge: Option<StoredDischarge> = v.session.discharge.as_deref().and_then(|d| serde_json::from_str(d).ok());
    fields.and_then(|f| f.ready_to_leave_minutes).or(discharge.and_then(|d| d.rems_ready_to_leave_minutes))
}

/// Fills the form from the session (esketamine sessions only).
pub fn rems_form(v: &SessionView, patient: &RemsPatient) -> RemsForm {
    let devices: Vec<_> = v
        .administrations
        .iter()
        .map(|a| &a.administration)
        .filter(|a| matches!(a.step(), Step::Device { .. }))
        .collect();
    let first = devices.first().map(|a| a.at());
    let gate: Option<StoredGate> = v.session.gate.as_deref().and_then(|g| serde_json::from_str(g).ok());
    let checklist: Option<GateChecklist> = gate.as_ref().and_then(|g| serde_json::from_value(g.checklist.clone()).ok());
    let discharge: Option<StoredDischarge> = v.session.discharge.as_deref().and_then(|d| serde_json::from_str(d).ok());
    let mut lots: Vec<String> =
        devices.iter().filter_map(|a| a.product().map(|p| p.lot.as_str().to_string())).collect();
    lots.dedup();
    let mut monitored_by: Vec<String> =
        devices.iter().filter_map(|a| a.monitored_by().map(|m| m.as_str().to_string())).collect();
    monitored_by.dedup();
    let bp_40 = bp_at_40_min(v).map(|(_, bp)| bp);
    let bp_completion = v.vitals.iter().rev().find_map(|(_, r)| bp_text(r));
    let serious_adverse_events = v
        .events
        .iter()
        .filter(|e| e.kind == SessionEventKind::AdverseEvent)
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
        // Monitoring completed: by the discharge, or by a transfer to emergency care (the
        // form is due after every outpatient session, MON-SPV-008).
        discharged: v.state.closed_at().is_some(),
        treatment_date: first,
        due: first.map(|t| t + jiff::SignedDuration::from_hours(24 * 7)),
        submitted: v.events.iter().find(|e| e.kind == SessionEventKind::RemsSubmitted).map(|e| e.at),
        first_treatment_enrolled: checklist.as_ref().and_then(|c| c.rems_patient_enrolled),
        concomitant: checklist
            .as_ref()
            .map(|c| c.interactions.iter().map(|i| format!("{} ({})", i.message, i.rule)).collect())
            .unwrap_or_default(),
        concomitant_classes: patient.classes.clone().unwrap_or_default(),
        monitored_by,
        // What was delivered (issue 11 item 3): for esketamine, the devices used.
        dose_mg: v.given_mg().round().max(0.0) as u32,
        lots,
        duration_minutes: first.zip(v.state.closed_at()).map(|(f, d)| (d.as_second() - f.as_second()) / 60),
        ready_to_leave_minutes: ready_to_leave_minutes(v),
        vitals_ok_before: v.session.gate_outcome.map(|o| o == GateOutcome::Proceed),
        vitals_ok_at_completion: discharge.as_ref().map(|d| d.ready),
        bp_before: checklist
            .as_ref()
            .and_then(|c| c.blood_pressure)
            .map(|b| format!("{}/{}", b.systolic(), b.diastolic())),
        bp_40_min: bp_40,
        bp_completion,
        sedation: v.vitals.iter().any(|(_, r)| r.moaas.is_some_and(|m| m.get() < 5)),
        // ALM-001 (oxygenation) and ALM-004 (respiration).
        respiratory_depression: v
            .alarms
            .iter()
            .any(|a| matches!(a.kind, AlarmKind::Oxygenation | AlarmKind::Respiration)),
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
    let (mut tx, s) = read_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "rems_form",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let v = load_view(&mut tx, config, s, ctx.now).await?;
    if !v.route().is_esketamine() {
        return Err(AppError::NotFound("REMS form (esketamine sessions only)"));
    }
    let patient = rems_patient(&mut tx, &v.session).await?;
    drop(tx);
    audit_reads(store, &[entry(ctx, AuditAction::Read, "rems_form", session, &v.session)]).await?;
    Ok(rems_form(&v, &patient))
}

/// Every esketamine session's REMS form, oldest first, one `list` entry per patient.
/// The REMS list's page size (newest sessions first).
pub const REMS_PAGE: u32 = 50;

pub async fn rems_worklist(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    page: PageRequest,
) -> AppResult<Page<RemsForm>> {
    require(store, ctx, Permission::DosingSessionRead, "rems_form", None, None, AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    // One more session than the page holds says whether a next page exists.
    let records = tx.sessions_with_records(Route::IntranasalEsketamine, page.offset(), page.size() + 1).await?;
    let mut sessions = records.sessions;
    let needs_rebuild: Vec<usize> = (0..sessions.len()).filter(|&i| sessions[i].state.is_none()).collect();
    for i in needs_rebuild {
        // Sessions recorded before the state was kept (migration 0011): rebuilt here,
        // saved by their next write use case.
        let state = rebuild_state(&mut tx, &sessions[i]).await?;
        sessions[i].state = Some(state);
    }
    let users: HashMap<UserId, String> = tx.list_users().await?.into_iter().map(|u| (u.id, u.display_name)).collect();
    drop(tx);
    let plans: HashMap<_, _> = records.plans.into_iter().map(|p| (p.id, p)).collect();
    let patients: HashMap<_, _> = records.patients.into_iter().map(|p| (p.id, p)).collect();
    let mut intakes: HashMap<_, Vec<_>> = HashMap::new();
    for i in records.intakes {
        intakes.entry(i.patient_id).or_default().push(i);
    }
    let mut rows = Rows::default();
    rows.add(records.administrations, records.vitals, records.alarms, records.events, records.orders);
    let mut out = Vec::with_capacity(sessions.len());
    for s in sessions {
        let plan = match plans.get(&s.plan_id) {
            Some(p) => p.clone(),
            None => return Err(AppError::NotFound("treatment plan")),
        };
        let patient = patients.get(&s.patient_id).cloned().ok_or(AppError::NotFound("patient"))?;
        let rp = rems_patient_from(&s, Some(&patient), intakes.get(&s.patient_id).map_or(&[][..], |v| v));
        let (administrations, vitals, alarms, events, orders) = rows.take(s.id);
        let parts = SessionParts {
            state: s.state.clone().ok_or_else(|| super::internal("a session without its state"))?,
            plan,
            patient,
            administrations,
            vitals,
            alarms,
            events,
            orders,
            session: s,
        };
        let v = assemble_view(parts, &users, config, ctx.now)?;
        out.push(rems_form(&v, &rp));
    }
    let page = page.from_probe(out);
    let mut shown: Vec<PatientId> = page.items.iter().map(|f| f.patient_id).collect();
    shown.sort();
    shown.dedup();
    audit_list_view(store, ctx, "rems_form", &shown).await?;
    Ok(page)
}

/// One session's rows: administrations, vitals, alarms, events and dose orders.
type SessionRows =
    (Vec<AdministrationRecord>, Vec<VitalRecord>, Vec<AlarmRecord>, Vec<SessionEventRecord>, Vec<DoseOrderRecord>);

/// A page's rows grouped by session.
#[derive(Default)]
struct Rows(HashMap<DosingSessionId, SessionRows>);

impl Rows {
    fn add(
        &mut self,
        administrations: Vec<AdministrationRecord>,
        vitals: Vec<VitalRecord>,
        alarms: Vec<AlarmRecord>,
        events: Vec<SessionEventRecord>,
        orders: Vec<DoseOrderRecord>,
    ) {
        for a in administrations {
            self.0.entry(a.session_id).or_default().0.push(a);
        }
        for v in vitals {
            self.0.entry(v.session_id).or_default().1.push(v);
        }
        for a in alarms {
            self.0.entry(a.session_id).or_default().2.push(a);
        }
        for e in events {
            self.0.entry(e.session_id).or_default().3.push(e);
        }
        for o in orders {
            self.0.entry(o.session_id).or_default().4.push(o);
        }
    }

    fn take(&mut self, session: DosingSessionId) -> SessionRows {
        self.0.remove(&session).unwrap_or_default()
    }
}

/// REMS form fields filled by hand (issue 11 item 5: completed after discharge too),
/// stored as a `rems_fields` session event; the latest counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RemsFields {
    /// Without the 2-hour minimum, when the patient would have been ready to leave
    /// (minutes from the start of administration).
    pub ready_to_leave_minutes: Option<u32>,
}

/// Completes the REMS form's hand-filled fields of an esketamine session, before or
/// after the discharge (then a late entry); refused once the form is marked submitted.
pub async fn complete_rems_fields(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    fields: &RemsFields,
) -> AppResult<RemsForm> {
    let mut h =
        hold(store, ctx, session, Permission::DosingSessionRun, "rems_fields", None, AuditAction::Create).await?;
    if !h.session.route.is_esketamine() {
        return Err(AppError::NotFound("REMS form (esketamine sessions only)"));
    }
    if fields.ready_to_leave_minutes.is_none() {
        return Err(kat_core::FieldErrors::single(
            "ready_to_leave_minutes",
            "whole minutes from the start of administration",
        )
        .into());
    }
    let s = h.session.clone();
    let v = load_view(&mut h.tx, config, s, ctx.now).await?;
    if v.events.iter().any(|e| e.kind == SessionEventKind::RemsSubmitted) {
        return Err(AppError::Conflict("the REMS form is already marked submitted".into()));
    }
    let record = SessionEventRecord {
        id: Uuid::now_v7(),
        session_id: session,
        kind: SessionEventKind::RemsFields,
        content: serde_json::to_string(fields).map_err(super::internal)?,
        at: ctx.now,
        recorded_by: h.by,
        recorded_at: ctx.now,
        late: h.state.closed_at().is_some(),
    };
    h.tx.insert_session_event(&record).await?;
    let patient = rems_patient(&mut h.tx, &v.session).await?;
    let mut v = v;
    v.events.push(record.clone());
    let form = rems_form(&v, &patient);
    let audit = vec![entry(ctx, AuditAction::Create, "rems_fields", record.id, &h.session)];
    h.finish(ctx, None, audit, Vec::new()).await?;
    Ok(form)
}

/// Marks the session's REMS form as submitted (MON-SPV-008), once, and only when the form
/// is complete: the session discharged and nothing `missing`. Refused (409 naming what is
/// missing) otherwise. The session is held and the form read inside the one transaction
/// that records it, so a second submission finds the first. After the discharge, as a
/// late entry.
pub async fn mark_rems_submitted(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
) -> AppResult<RemsForm> {
    let mut h =
        hold(store, ctx, session, Permission::DosingSessionRun, "rems_submitted", None, AuditAction::Create).await?;
    let s = h.session.clone();
    let v = load_view(&mut h.tx, config, s, ctx.now).await?;
    if !v.route().is_esketamine() {
        return Err(AppError::NotFound("REMS form (esketamine sessions only)"));
    }
    let patient = rems_patient(&mut h.tx, &v.session).await?;
    let mut form = rems_form(&v, &patient);
    if form.submitted.is_some() {
        return Err(AppError::Conflict("the REMS form is already marked submitted".into()));
    }
    let mut why: Vec<&str> = Vec::new();
    if !form.discharged {
        why.push("the session is not discharged (nor transferred to emergency care)");
    }
    why.extend(form.missing.iter().copied());
    if !why.is_empty() {
        return Err(AppError::Conflict(format!("the REMS form is not complete: {}", why.join("; "))));
    }
    let record = SessionEventRecord {
        id: Uuid::now_v7(),
        session_id: session,
        kind: SessionEventKind::RemsSubmitted,
        content: "{}".into(),
        at: ctx.now,
        recorded_by: h.by,
        recorded_at: ctx.now,
        late: h.state.closed_at().is_some(),
    };
    h.tx.insert_session_event(&record).await.map_err(|e| match e {
        StoreError::Conflict { constraint } if constraint == c::SESSION_EVENTS_REMS_SUBMITTED_ONCE => {
            AppError::Conflict("the REMS form is already marked submitted".into())
        }
        other => other.into(),
    })?;
    let audit = vec![entry(ctx, AuditAction::Create, "rems_submitted", record.id, &h.session)];
    let event = DomainEvent::RemsSubmitted { session, patient: h.session.patient_id };
    h.finish(ctx, None, audit, vec![event]).await?;
    form.submitted = Some(ctx.now);
    Ok(form)
}
