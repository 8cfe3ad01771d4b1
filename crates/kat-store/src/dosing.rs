//! The dosing part of the port: treatment plans, dosing sessions with their pre-dose
//! gate and their state, administration events, vital-sign readings and the alarms they
//! raise.
//!
//! The session's state (the core's [`DosingSession`]), administrations and readings are
//! stored as JSON that this module alone writes and reads back ([`state_json`],
//! [`administration_json`], [`reading_json`] and their `*_from_json`), so the records
//! carry the core's types; routes, gate outcomes, alarm kinds and tiers are columns of
//! text converted here too. Plan content, the gate, the discharge, dose orders and
//! session events are still JSON of app types (parsed by the app). Administrations,
//! readings and (apart from their acknowledgement) alarms are never changed or deleted;
//! both schemas refuse it with triggers. An administration before the gate is passed is
//! refused with `Conflict { DOSE_ADMINISTRATIONS_GATE_PASSED }`.
//!
//! Floats in the state (mg, mL) round-trip exactly: serde_json's `float_roundtrip`
//! feature is on for this crate (without it a value may come back one ulp off).

use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::dosing::Route;
use kat_core::dosing::session::{Administration, DosingSession, GateOutcome, OpenAlarm, RawAdministration};
use kat_core::ids::{AdministrationId, DosingSessionId, PatientId, SessionAlarmId, TreatmentPlanId, UserId, VitalId};
use kat_core::monitoring::RuleId;
use kat_core::monitoring::alarms::{AlarmKind, Severity};
use kat_core::monitoring::vitals::Reading;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Constraint names of the dosing schema (0005), the same in both adapters.
pub mod dosing_constraints {
    /// An administration was refused because the session's gate is not passed.
    pub const DOSE_ADMINISTRATIONS_GATE_PASSED: &str = "dose_administrations_gate_passed";
    /// A signed treatment plan cannot change.
    pub const TREATMENT_PLANS_LOCKED: &str = "treatment_plans_locked";
    /// One alarm per reading and kind.
    pub const SESSION_ALARMS_VITAL_KIND_UNIQUE: &str = "session_alarms_vital_kind_key";
    /// The alarm is already acknowledged.
    pub const SESSION_ALARMS_ACKNOWLEDGED: &str = "session_alarms_acknowledged";
    /// The session is already discharged or its gate already passed.
    pub const DOSING_SESSIONS_STATE: &str = "dosing_sessions_state";
    /// A session's dose order came after dosing started, or after the discharge (0006).
    pub const SESSION_DOSE_ORDERS_BEFORE_DOSING: &str = "session_dose_orders_before_dosing";
    /// A session's REMS form is marked submitted at most once (0007).
    pub const SESSION_EVENTS_REMS_SUBMITTED_ONCE: &str = "session_events_rems_submitted_once";
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("stored {what} is invalid: {e}"))
}

/// A unit enum's snake-case name, as its serde form spells it.
fn snake<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn from_snake<T: DeserializeOwned>(what: &str, raw: &str) -> StoreResult<T> {
    serde_json::from_value(serde_json::Value::String(raw.to_string())).map_err(|e| corrupt(what, e))
}

/// The route's column text (`iv_infusion`, …).
pub fn route_str(r: Route) -> String {
    snake(&r)
}
pub fn route_from_str(raw: &str) -> StoreResult<Route> {
    from_snake("route", raw)
}
/// The gate outcome's column text (`proceed`, `override`, `defer`).
pub fn gate_outcome_str(o: GateOutcome) -> String {
    snake(&o)
}
pub fn gate_outcome_from_str(raw: &str) -> StoreResult<GateOutcome> {
    from_snake("gate outcome", raw)
}
pub fn alarm_kind_str(k: AlarmKind) -> String {
    snake(&k)
}
pub fn alarm_kind_from_str(raw: &str) -> StoreResult<AlarmKind> {
    from_snake("alarm kind", raw)
}
pub fn severity_str(s: Severity) -> String {
    snake(&s)
}
pub fn severity_from_str(raw: &str) -> StoreResult<Severity> {
    from_snake("alarm severity", raw)
}

/// The session's state as stored (`dosing_sessions.state`).
pub fn state_json(s: &DosingSession) -> String {
    serde_json::to_string(s).expect("a session state serialises")
}
pub fn state_from_json(raw: &str) -> StoreResult<DosingSession> {
    serde_json::from_str(raw).map_err(|e| corrupt("session state", e))
}

/// An administration as stored (`dose_administrations.content`): the core's serde form.
pub fn administration_json(a: &Administration) -> String {
    serde_json::to_string(a).expect("an administration serialises")
}

/// Reads an administration back. Rows written before the typed session hold the form's
/// text fields (`dose_mg`, `product`, … as strings); they are parsed by the core's own
/// form parser, with no expiry check (it held when they were recorded).
pub fn administration_from_json(raw: &str) -> StoreResult<Administration> {
    match serde_json::from_str::<Administration>(raw) {
        Ok(a) => Ok(a),
        Err(typed) => {
            let legacy: RawAdministration = serde_json::from_str(raw).map_err(|e| corrupt("administration", e))?;
            let at = legacy.at.parse::<Timestamp>().map_err(|e| corrupt("administration time", e))?;
            Administration::parse(&legacy, at, jiff::civil::Date::MIN)
                .map_err(|e| corrupt("administration", format!("{typed}; as a form: {e}")))
        }
    }
}

/// A reading as stored (`session_vitals.reading`): the core's serde form.
pub fn reading_json(r: &Reading) -> String {
    serde_json::to_string(r).expect("a reading serialises")
}
pub fn reading_from_json(raw: &str) -> StoreResult<Reading> {
    serde_json::from_str(raw).map_err(|e| corrupt("reading", e))
}

#[derive(Debug, Clone, PartialEq)]
pub struct TreatmentPlanRecord {
    pub id: TreatmentPlanId,
    pub patient_id: PatientId,
    /// The accepted eligibility decision the plan rests on.
    pub decision_id: Uuid,
    /// The plan as JSON (`kat_app::dosing::PlanContent`).
    pub content: String,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub signed_by: Option<UserId>,
    pub signed_at: Option<Timestamp>,
    /// The prescriber's reason to sign it while another active plan overlapped, with
    /// those plans, as JSON (`kat_core::dosing::course::PlanOverlapOverride`; migration
    /// 0012). Written only by the signing.
    pub overlap_override: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DosingSessionRecord {
    pub id: DosingSessionId,
    pub patient_id: PatientId,
    pub plan_id: TreatmentPlanId,
    pub route: Route,
    pub opened_by: UserId,
    pub opened_at: Timestamp,
    /// `None` before the gate.
    pub gate_outcome: Option<GateOutcome>,
    /// The checklist, the core's decision and any override or deferral reason, as JSON.
    pub gate: Option<String>,
    pub gate_by: Option<UserId>,
    pub gate_at: Option<Timestamp>,
    /// The discharge assessment (and override reason, if any) as JSON.
    pub discharge: Option<String>,
    pub discharged_by: Option<UserId>,
    pub discharged_at: Option<Timestamp>,
    /// The session's state (migration 0011). `None` for a session recorded before it,
    /// until the app rebuilds it from the history and saves it.
    pub state: Option<DosingSession>,
    /// A prescriber's override of the one-dose-day rule, as JSON
    /// (`kat_core::dosing::course::DoseDayOverride`; migration 0012).
    pub dose_day_override: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdministrationRecord {
    pub id: AdministrationId,
    pub session_id: DosingSessionId,
    pub administration: Administration,
    pub recorded_by: UserId,
    /// When it was recorded (rows older than migration 0011: its time).
    pub recorded_at: Timestamp,
    /// Charted after the fact (issue 11 item 2): dated well before it was recorded.
    pub late: bool,
}

impl AdministrationRecord {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        self.administration.at()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VitalRecord {
    pub id: VitalId,
    pub session_id: DosingSessionId,
    pub reading: Reading,
    pub taken_at: Timestamp,
    pub recorded_by: Option<UserId>,
    pub recorded_at: Timestamp,
    /// Charted after the fact: dated well before it was recorded, or after discharge.
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRecord {
    pub id: SessionAlarmId,
    pub session_id: DosingSessionId,
    pub vital_id: VitalId,
    pub rule: RuleId,
    pub kind: AlarmKind,
    pub severity: Severity,
    /// The core's `Alarm` as JSON (value, recommended action, intervention rule).
    pub content: String,
    pub raised_at: Timestamp,
    pub acknowledged_by: Option<UserId>,
    pub acknowledged_at: Option<Timestamp>,
    pub action_taken: Option<String>,
}

impl AlarmRecord {
    /// The alarm as the session's state holds it while open: `at` is the time of the
    /// reading that raised it (the content's `at`; the time raised for rows without).
    pub fn open_alarm(&self) -> OpenAlarm {
        let at = serde_json::from_str::<serde_json::Value>(&self.content)
            .ok()
            .and_then(|v| v["at"].as_str().and_then(|t| t.parse::<Timestamp>().ok()))
            .unwrap_or(self.raised_at);
        OpenAlarm { id: self.id, rule: self.rule.clone(), kind: self.kind, severity: self.severity, at }
    }
}

/// What a session event is (`session_events.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEventKind {
    AdverseEvent,
    Intervention,
    Cadss6,
    RemsSubmitted,
    /// Transferred to emergency care (issue 11 item 4), migration 0011.
    EmergencyTransfer,
    /// REMS form fields completed by hand (ready-to-leave time), migration 0011.
    RemsFields,
}

impl SessionEventKind {
    pub fn as_str(self) -> String {
        snake(&self)
    }
    pub fn parse(raw: &str) -> StoreResult<Self> {
        from_snake("session event kind", raw)
    }
}

/// An adverse event, intervention, session rating or other session record (`kind`), as
/// JSON of the app's types.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEventRecord {
    pub id: Uuid,
    pub session_id: DosingSessionId,
    pub kind: SessionEventKind,
    pub content: String,
    /// When it happened (onset, intervention time, rating time).
    pub at: Timestamp,
    pub recorded_by: UserId,
    pub recorded_at: Timestamp,
    /// Charted after the fact (well after `at`, or after the discharge).
    pub late: bool,
}

/// A prescriber's dose order for one session (titration, DOSE-IV-010, DOSE-IN-002), as
/// JSON (`kat_app::dosing::DoseOrder`). The latest order of a session is in force.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseOrderRecord {
    pub id: Uuid,
    pub session_id: DosingSessionId,
    pub content: String,
    pub ordered_by: UserId,
    pub ordered_at: Timestamp,
}

#[async_trait]
pub trait DosingRepo {
    /// Adds a dose order; refused with `Conflict { SESSION_DOSE_ORDERS_BEFORE_DOSING }`
    /// once the session has an administration or is discharged. Orders are never changed.
    async fn insert_dose_order(&mut self, o: &DoseOrderRecord) -> StoreResult<()>;
    /// A session's dose orders, oldest first.
    async fn dose_orders_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<DoseOrderRecord>>;

    async fn insert_session_event(&mut self, e: &SessionEventRecord) -> StoreResult<()>;
    /// A session's events, by time.
    async fn session_events_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<SessionEventRecord>>;

    async fn insert_treatment_plan(&mut self, plan: &TreatmentPlanRecord) -> StoreResult<()>;
    async fn treatment_plan_by_id(&mut self, id: TreatmentPlanId) -> StoreResult<Option<TreatmentPlanRecord>>;
    /// A patient's plans, oldest first.
    async fn treatment_plans_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<TreatmentPlanRecord>>;
    /// Signs a draft plan; a signed plan is `Conflict { TREATMENT_PLANS_LOCKED }`.
    async fn sign_treatment_plan(
        &mut self,
        id: TreatmentPlanId,
        by: UserId,
        at: Timestamp,
        overlap_override: Option<&str>,
    ) -> StoreResult<()>;

    /// Adds a session with its state (`session.state`).
    async fn insert_dosing_session(&mut self, session: &DosingSessionRecord) -> StoreResult<()>;
    /// Reads a session with its state and holds its row until the transaction ends, so
    /// that what a use case decides on it still holds when it writes (one use case, one
    /// transaction). PostgreSQL: `SELECT … FOR UPDATE`; SQLite: its one writer already
    /// serialises write transactions.
    async fn dosing_session_for_update(&mut self, id: DosingSessionId) -> StoreResult<Option<DosingSessionRecord>>;
    /// Saves the session's state; `NotFound` for an unknown session.
    async fn save_session_state(&mut self, id: DosingSessionId, state: &DosingSession) -> StoreResult<()>;
    /// Holds the session's row until the transaction ends, so that a check of what the
    /// session has given still holds at the insert (two quick submits cannot both pass).
    /// PostgreSQL: `SELECT … FOR UPDATE`; SQLite: its write transactions already run one
    /// at a time (`BEGIN IMMEDIATE`). `NotFound` for an unknown session.
    async fn lock_dosing_session(&mut self, id: DosingSessionId) -> StoreResult<()>;
    /// Holds the patient's row until the transaction ends, so that what a use case
    /// decided on the patient's other sessions or plans (one dose day, plans that
    /// overlap: issue 11 item 1) still holds at its write: two quick opens or signs
    /// cannot both pass. PostgreSQL: `SELECT … FOR UPDATE`; SQLite: one writer already.
    /// `NotFound` for an unknown patient.
    async fn lock_patient_for_dosing(&mut self, patient: PatientId) -> StoreResult<()>;
    async fn dosing_session_by_id(&mut self, id: DosingSessionId) -> StoreResult<Option<DosingSessionRecord>>;
    /// A patient's sessions, oldest first.
    async fn dosing_sessions_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<DosingSessionRecord>>;
    /// Every session of a route, oldest first (the REMS worklist).
    async fn dosing_sessions_by_route(&mut self, route: Route) -> StoreResult<Vec<DosingSessionRecord>>;
    /// Sessions not yet discharged, oldest first (the floor board).
    async fn open_dosing_sessions(&mut self) -> StoreResult<Vec<DosingSessionRecord>>;
    /// Records the gate of a session whose gate is not yet passed (a deferred gate may be
    /// run again); otherwise `Conflict { DOSING_SESSIONS_STATE }`.
    async fn record_gate(
        &mut self,
        id: DosingSessionId,
        outcome: GateOutcome,
        gate: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Records the discharge of an open session; otherwise `Conflict { DOSING_SESSIONS_STATE }`.
    async fn record_discharge(
        &mut self,
        id: DosingSessionId,
        discharge: &str,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()>;

    /// Adds an administration event; refused with
    /// `Conflict { DOSE_ADMINISTRATIONS_GATE_PASSED }` unless the gate is passed and the
    /// session is not discharged.
    async fn insert_administration(&mut self, a: &AdministrationRecord) -> StoreResult<()>;
    /// A session's administrations, oldest first.
    async fn administrations_for_session(&mut self, session: DosingSessionId)
    -> StoreResult<Vec<AdministrationRecord>>;

    async fn insert_vital(&mut self, v: &VitalRecord) -> StoreResult<()>;
    /// A session's readings, by time taken.
    async fn vitals_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<VitalRecord>>;

    /// One alarm per reading and kind (`Conflict { SESSION_ALARMS_VITAL_KIND_UNIQUE }`).
    async fn insert_alarm(&mut self, a: &AlarmRecord) -> StoreResult<()>;
    async fn alarm_by_id(&mut self, id: SessionAlarmId) -> StoreResult<Option<AlarmRecord>>;
    /// A session's alarms, oldest first.
    async fn alarms_for_session(&mut self, session: DosingSessionId) -> StoreResult<Vec<AlarmRecord>>;
    /// Every unacknowledged alarm, oldest first.
    async fn unacknowledged_alarms(&mut self) -> StoreResult<Vec<AlarmRecord>>;
    /// Acknowledges with the action taken; twice is `Conflict { SESSION_ALARMS_ACKNOWLEDGED }`.
    async fn acknowledge_alarm(
        &mut self,
        id: SessionAlarmId,
        by: UserId,
        at: Timestamp,
        action: &str,
    ) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use kat_core::dosing::Mg;
    use kat_core::dosing::session::Step;

    #[test]
    fn administrations_written_before_the_typed_session_read_back_typed() {
        let legacy = r#"{"kind":"dose","administered_by":"RN A","monitored_by":"RN B","product":"Ketamine",
            "concentration_mg_per_ml":"50","lot":"L1","expiry":"2020-01-01","dose_mg":"35","rate_ml_per_h":"",
            "at":"2026-03-02T09:20:00Z"}"#;
        let a = administration_from_json(legacy).unwrap();
        assert_eq!(*a.step(), Step::Dose { mg: Mg::new(35.0).unwrap() });
        assert_eq!(a.at(), "2026-03-02T09:20:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(a.product().unwrap().lot.as_str(), "L1", "an expiry past by now is kept");
        // The typed form round-trips; anything else is corrupt, never a silent default.
        assert_eq!(administration_from_json(&administration_json(&a)).unwrap(), a);
        assert!(matches!(administration_from_json(r#"{"kind":"dose"}"#), Err(StoreError::Corrupt(_))));
        assert!(matches!(state_from_json("{}"), Err(StoreError::Corrupt(_))));
        assert_eq!(route_from_str(&route_str(Route::IntranasalEsketamine)).unwrap(), Route::IntranasalEsketamine);
        assert_eq!(gate_outcome_str(GateOutcome::Override), "override");
        assert_eq!(severity_from_str("intervene").unwrap(), Severity::Intervene);
        assert!(alarm_kind_from_str("spo2").is_err());
        assert_eq!(SessionEventKind::parse("emergency_transfer").unwrap(), SessionEventKind::EmergencyTransfer);
    }
}
