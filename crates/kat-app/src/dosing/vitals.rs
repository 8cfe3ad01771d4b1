//! Vital signs, one path for nurse and device readings, checked against the alarm policy
//! when saved (§4.3), and alarm acknowledgement (§4.4).

use super::gate::StoredGate;
use super::plan::opt;
use super::{internal, permitted_session, user_id};
use crate::config::DosingConfig;
use crate::{AppError, AppResult, Ctx, require};
use jiff::Timestamp;
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::{DosingSessionId, SessionAlarmId, UserId, VitalId};
use kat_core::monitoring::{
    Alarm, Baseline, BloodPressure, GateChecklist, HeartRate, Moaas, Reading, ReadingSource, RespiratoryRate, SpO2,
    evaluate_reading,
};
use kat_core::role::Permission;
use kat_store::dosing::{AlarmRecord, DosingSessionRecord, VitalRecord};
use kat_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Vitals and alarms
// ---------------------------------------------------------------------------------------

/// One set of vitals, from a nurse or a device (the one path for both).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VitalsInput {
    pub systolic: String,
    pub diastolic: String,
    pub heart_rate: String,
    pub spo2: String,
    /// `yes`, `no` or empty (not recorded).
    pub on_supplemental_o2: String,
    pub respiratory_rate: String,
    pub moaas: String,
    /// Set by device feeds; a nurse's entry is attributed to the nurse.
    pub device_id: String,
    /// When measured (RFC 3339); now when empty.
    pub at: String,
    pub apnoea_or_airway_obstruction: bool,
    pub symptomatic_arrhythmia: bool,
    pub end_organ_symptoms: bool,
    pub severe_distress_or_emergence: bool,
}

pub(crate) fn field<T>(
    e: &mut FieldErrors,
    name: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, kat_core::dosing::UnitError>,
) -> Option<T> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match parse(raw) {
        Ok(v) => Some(v),
        Err(err) => {
            e.add(name, err.0);
            None
        }
    }
}

/// Parses vitals into the core's reading.
pub fn parse_vitals(input: &VitalsInput, by: UserId, now: Timestamp) -> Result<Reading, FieldErrors> {
    let mut e = FieldErrors::default();
    let at = match opt(&input.at) {
        None => now,
        Some(raw) => match raw.parse::<Timestamp>() {
            Ok(t) if t <= now => t,
            _ => {
                e.add("at", "a time not in the future (RFC 3339)");
                now
            }
        },
    };
    let source = match opt(&input.device_id) {
        Some(id) => ReadingSource::Device { device_id: id.to_string() },
        None => ReadingSource::Manual { entered_by: by },
    };
    let mut r = Reading::empty(at, source);
    let sys = opt(&input.systolic);
    let dia = opt(&input.diastolic);
    match (sys, dia) {
        (Some(s), Some(d)) => match s.parse::<u16>().ok().zip(d.parse::<u16>().ok()) {
            Some((s, d)) => match BloodPressure::mmhg(s, d) {
                Ok(bp) => r.blood_pressure = Some(bp),
                Err(err) => e.add("systolic", err.0),
            },
            None => e.add("systolic", "whole mmHg for both pressures"),
        },
        (None, None) => {}
        (None, Some(_)) => e.add("systolic", "give both pressures"),
        (Some(_), None) => e.add("diastolic", "give both pressures"),
    }
    r.heart_rate = field(&mut e, "heart_rate", &input.heart_rate, HeartRate::parse);
    r.spo2 = field(&mut e, "spo2", &input.spo2, SpO2::parse);
    r.respiratory_rate = field(&mut e, "respiratory_rate", &input.respiratory_rate, RespiratoryRate::parse);
    r.moaas = field(&mut e, "moaas", &input.moaas, Moaas::parse);
    r.on_supplemental_o2 = match input.on_supplemental_o2.trim() {
        "" => None,
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => {
            e.add("on_supplemental_o2", "yes, no or empty");
            None
        }
    };
    r.signs.apnoea_or_airway_obstruction = input.apnoea_or_airway_obstruction;
    r.signs.symptomatic_arrhythmia = input.symptomatic_arrhythmia;
    r.signs.end_organ_symptoms = input.end_organ_symptoms;
    r.signs.severe_distress_or_emergence = input.severe_distress_or_emergence;
    let empty = r.blood_pressure.is_none()
        && r.heart_rate.is_none()
        && r.spo2.is_none()
        && r.respiratory_rate.is_none()
        && r.moaas.is_none()
        && r.signs == Default::default();
    if empty && e.is_empty() {
        e.add("systolic", "enter at least one measurement");
    }
    if e.is_empty() { Ok(r) } else { Err(e) }
}

/// The baseline: the gate's pre-dose BP and HR (§3), else the first reading.
pub(crate) fn baseline(session: &DosingSessionRecord, vitals: &[Reading]) -> Baseline {
    let mut b = vitals.first().map(Baseline::from_reading).unwrap_or(Baseline {
        blood_pressure: None,
        heart_rate: None,
        spo2: None,
        respiratory_rate: None,
    });
    if let Some(gate) = session.gate.as_deref().and_then(|g| serde_json::from_str::<StoredGate>(g).ok())
        && let Ok(check) = serde_json::from_value::<GateChecklist>(gate.checklist)
    {
        b.blood_pressure = check.blood_pressure.or(b.blood_pressure);
        b.heart_rate = check.heart_rate.or(b.heart_rate);
    }
    b
}

/// A saved reading and the alarms it raised.
#[derive(Debug)]
pub struct SavedVitals {
    pub vital: VitalRecord,
    pub alarms: Vec<AlarmRecord>,
}

/// Saves one reading and, in the same transaction, every alarm the policy raises for it
/// (one per kind, ALM-001..006); each alarm is stored once and stays until acknowledged.
pub async fn record_vitals(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &VitalsInput,
) -> AppResult<SavedVitals> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRun,
        "session_vitals",
        None,
        AuditAction::Create,
    )
    .await?;
    let by = user_id(ctx)?;
    if s.discharged_at.is_some() {
        return Err(AppError::Conflict("the session is discharged".into()));
    }
    let reading = parse_vitals(input, by, ctx.now)?;
    let mut tx = store.begin().await?;
    let earlier: Vec<Reading> =
        tx.vitals_for_session(session).await?.iter().filter_map(|v| serde_json::from_str(&v.reading).ok()).collect();
    let base = baseline(&s, &earlier);
    let vital = VitalRecord {
        id: VitalId::from_uuid(Uuid::now_v7()),
        session_id: session,
        reading: serde_json::to_string(&reading).map_err(internal)?,
        taken_at: reading.at,
        recorded_by: Some(by),
        recorded_at: ctx.now,
    };
    tx.insert_vital(&vital).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "session_vitals",
        Some(vital.id.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    let mut alarms = Vec::new();
    for alarm in evaluate_reading(&reading, &base, &config.alarms) {
        let record = alarm_record(session, vital.id, &alarm, ctx.now)?;
        tx.insert_alarm(&record).await?;
        tx.append_audit(&ctx.audit(
            AuditAction::Create,
            "session_alarm",
            Some(record.id.to_string()),
            Some(s.patient_id),
            AuditOutcome::Allowed,
        ))
        .await?;
        alarms.push(record);
    }
    tx.commit().await?;
    // TEMPORARY (wip-live): events until wip-session emits them; drop this commit then.
    ctx.events.emit(crate::events::DomainEvent::VitalRecorded { session, patient: s.patient_id, vital: vital.id });
    for a in &alarms {
        let severity = serde_json::from_value(serde_json::Value::String(a.severity.clone()))
            .unwrap_or(kat_core::monitoring::alarms::Severity::Notify);
        ctx.events.emit(crate::events::DomainEvent::AlarmRaised {
            session,
            patient: s.patient_id,
            alarm: a.id,
            severity,
        });
    }
    Ok(SavedVitals { vital, alarms })
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn alarm_record(session: DosingSessionId, vital: VitalId, alarm: &Alarm, now: Timestamp) -> AppResult<AlarmRecord> {
    Ok(AlarmRecord {
        id: SessionAlarmId::from_uuid(Uuid::now_v7()),
        session_id: session,
        vital_id: vital,
        rule: alarm.rule.as_str().to_string(),
        kind: snake(&alarm.kind),
        severity: snake(&alarm.severity),
        content: serde_json::to_string(alarm).map_err(internal)?,
        raised_at: now,
        acknowledged_by: None,
        acknowledged_at: None,
        action_taken: None,
    })
}

/// Acknowledges an alarm with the action taken (required, INT-005).
pub async fn acknowledge_alarm(
    store: &dyn Store,
    ctx: &Ctx,
    alarm: SessionAlarmId,
    action: &str,
) -> AppResult<AlarmRecord> {
    let mut tx = store.begin().await?;
    let a = tx.alarm_by_id(alarm).await?.ok_or(AppError::NotFound("alarm"))?;
    let s = tx.dosing_session_by_id(a.session_id).await?.ok_or(AppError::NotFound("dosing session"))?;
    drop(tx);
    require(
        store,
        ctx,
        Permission::DosingSessionRun,
        "session_alarm",
        Some(alarm.to_string()),
        Some(s.patient_id),
        AuditAction::Update,
    )
    .await?;
    let by = user_id(ctx)?;
    let action = action.trim();
    if action.is_empty() {
        let mut e = FieldErrors::default();
        e.add("action", "the action taken is required (INT-005)");
        return Err(e.into());
    }
    let mut tx = store.begin().await?;
    tx.acknowledge_alarm(alarm, by, ctx.now, action).await.map_err(|err| match err {
        StoreError::Conflict { .. } => AppError::Conflict("this alarm is already acknowledged".into()),
        other => other.into(),
    })?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "session_alarm",
        Some(alarm.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    let a = tx.alarm_by_id(alarm).await?.ok_or(AppError::NotFound("alarm"))?;
    tx.commit().await?;
    // TEMPORARY (wip-live): events until wip-session emits them; drop this commit then.
    ctx.events.emit(crate::events::DomainEvent::AlarmAcknowledged {
        session: a.session_id,
        patient: s.patient_id,
        alarm,
    });
    Ok(a)
}
