//! The dosing part of the port: treatment plans, dosing sessions with their pre-dose
//! gate, administration events, vital-sign readings and the alarms they raise.
//!
//! Plan content, the gate, administrations and readings are stored as JSON of the core
//! (or app) types: written and read only through the app layer, which parses them back.
//! Administrations, readings and (apart from their acknowledgement) alarms are never
//! changed or deleted; both schemas refuse it with triggers. An administration before
//! the gate is passed is refused with `Conflict { DOSE_ADMINISTRATIONS_GATE_PASSED }`.

use crate::StoreResult;
use async_trait::async_trait;
use jiff::Timestamp;
use kat_core::ids::{AdministrationId, DosingSessionId, PatientId, SessionAlarmId, TreatmentPlanId, UserId, VitalId};
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct DosingSessionRecord {
    pub id: DosingSessionId,
    pub patient_id: PatientId,
    pub plan_id: TreatmentPlanId,
    /// The route (`kat_core::dosing::Route` in snake case).
    pub route: String,
    pub opened_by: UserId,
    pub opened_at: Timestamp,
    /// `proceed`, `override` or `defer`; `None` before the gate.
    pub gate_outcome: Option<String>,
    /// The checklist, the core's decision and any override or deferral reason, as JSON.
    pub gate: Option<String>,
    pub gate_by: Option<UserId>,
    pub gate_at: Option<Timestamp>,
    /// The discharge assessment (and override reason, if any) as JSON.
    pub discharge: Option<String>,
    pub discharged_by: Option<UserId>,
    pub discharged_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdministrationRecord {
    pub id: AdministrationId,
    pub session_id: DosingSessionId,
    pub content: String,
    pub recorded_by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VitalRecord {
    pub id: VitalId,
    pub session_id: DosingSessionId,
    /// The core's `Reading` as JSON.
    pub reading: String,
    pub taken_at: Timestamp,
    pub recorded_by: Option<UserId>,
    pub recorded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRecord {
    pub id: SessionAlarmId,
    pub session_id: DosingSessionId,
    pub vital_id: VitalId,
    pub rule: String,
    pub kind: String,
    pub severity: String,
    /// The core's `Alarm` as JSON (value, recommended action, intervention rule).
    pub content: String,
    pub raised_at: Timestamp,
    pub acknowledged_by: Option<UserId>,
    pub acknowledged_at: Option<Timestamp>,
    pub action_taken: Option<String>,
}

/// An adverse event, intervention or session rating (`kind`), as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEventRecord {
    pub id: Uuid,
    pub session_id: DosingSessionId,
    /// `adverse_event`, `intervention`, `cadss6` or `rems_submitted`.
    pub kind: String,
    pub content: String,
    /// When it happened (onset, intervention time, rating time).
    pub at: Timestamp,
    pub recorded_by: UserId,
    pub recorded_at: Timestamp,
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
    async fn sign_treatment_plan(&mut self, id: TreatmentPlanId, by: UserId, at: Timestamp) -> StoreResult<()>;

    async fn insert_dosing_session(&mut self, session: &DosingSessionRecord) -> StoreResult<()>;
    /// Holds the session's row until the transaction ends, so that a check of what the
    /// session has given still holds at the insert (two quick submits cannot both pass).
    /// PostgreSQL: `SELECT … FOR UPDATE`; SQLite: its write transactions already run one
    /// at a time (`BEGIN IMMEDIATE`). `NotFound` for an unknown session.
    async fn lock_dosing_session(&mut self, id: DosingSessionId) -> StoreResult<()>;
    async fn dosing_session_by_id(&mut self, id: DosingSessionId) -> StoreResult<Option<DosingSessionRecord>>;
    /// A patient's sessions, oldest first.
    async fn dosing_sessions_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<DosingSessionRecord>>;
    /// Every session of a route, oldest first (the REMS worklist).
    async fn dosing_sessions_by_route(&mut self, route: &str) -> StoreResult<Vec<DosingSessionRecord>>;
    /// Sessions not yet discharged, oldest first (the floor board).
    async fn open_dosing_sessions(&mut self) -> StoreResult<Vec<DosingSessionRecord>>;
    /// Records the gate of a session whose gate is not yet passed (a deferred gate may be
    /// run again); otherwise `Conflict { DOSING_SESSIONS_STATE }`.
    async fn record_gate(
        &mut self,
        id: DosingSessionId,
        outcome: &str,
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
