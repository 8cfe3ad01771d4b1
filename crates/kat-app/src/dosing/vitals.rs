//! Vital signs, one path for nurse and device readings, checked against the alarm policy
//! when saved (§4.3), and alarm acknowledgement (§4.4).

use super::plan::opt;
use super::{deny, entry, hold, internal, refused, time_policy};
use crate::config::DosingConfig;
use crate::events::DomainEvent;
use crate::{AppError, AppResult, Ctx};
use jiff::Timestamp;
use kat_core::FieldErrors;
use kat_core::audit::AuditAction;
use kat_core::dosing::session::{RaisedAlarm, Reason};
use kat_core::ids::{DosingSessionId, SessionAlarmId, UserId, VitalId};
use kat_core::monitoring::{BloodPressure, HeartRate, Moaas, Reading, ReadingSource, RespiratoryRate, SpO2};
use kat_core::role::Permission;
use kat_store::dosing::{AlarmRecord, VitalRecord};
use kat_store::{Store, StoreError};
use serde::Deserialize;
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

/// Parses vitals into the core's reading. Whether its time fits the session (not before
/// it opened, not beyond the clock-skew allowance) is the session's judgement.
pub fn parse_vitals(input: &VitalsInput, by: UserId, now: Timestamp) -> Result<Reading, FieldErrors> {
    let mut e = FieldErrors::default();
    let at = match opt(&input.at) {
        None => now,
        Some(raw) => match raw.parse::<Timestamp>() {
            Ok(t) => t,
            Err(_) => {
                e.add("at", "a time (RFC 3339)");
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

/// A saved reading and the alarms it raised.
#[derive(Debug)]
pub struct SavedVitals {
    pub vital: VitalRecord,
    pub alarms: Vec<AlarmRecord>,
}

/// Saves one reading and, in the same transaction, every alarm the policy raises for it
/// (one per kind, ALM-001..006) against the baseline the session's state keeps; each
/// alarm is stored once and stays open until acknowledged. Reads the session's row and
/// state, not its earlier readings: the cost does not grow with the session's length. A
/// reading dated before the discharge may still be added after it, as a late entry.
pub async fn record_vitals(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &VitalsInput,
) -> AppResult<SavedVitals> {
    let mut h =
        hold(store, ctx, session, Permission::DosingSessionRun, "session_vitals", None, AuditAction::Create).await?;
    if let Some(closed) = h.state.closed_at()
        && opt(&input.at).is_none()
    {
        // After the discharge (or a transfer) a reading is a late entry of the record
        // (issue 11 item 5): it needs the time it was taken, before the session closed.
        return Err(FieldErrors::single(
            "at",
            format!("the time the reading was taken is required: the session closed at {closed}, so a reading charted now is a late entry taken before it"),
        )
        .into());
    }
    let reading = parse_vitals(input, h.by, ctx.now)?;
    let t = h
        .state
        .record_reading(&reading, ctx.now, &config.alarms, time_policy(config), || {
            SessionAlarmId::from_uuid(Uuid::now_v7())
        })
        .map_err(refused)?;
    let vital = VitalRecord {
        id: VitalId::from_uuid(Uuid::now_v7()),
        session_id: session,
        taken_at: reading.at,
        reading,
        recorded_by: Some(h.by),
        recorded_at: ctx.now,
        late: t.record.late.is_some(),
    };
    h.tx.insert_vital(&vital).await?;
    let patient = h.session.patient_id;
    let mut audit = vec![entry(ctx, AuditAction::Create, "session_vitals", vital.id, &h.session)];
    let mut events = vec![DomainEvent::VitalRecorded { session, patient, vital: vital.id }];
    let mut alarms = Vec::new();
    for raised in &t.record.alarms {
        let record = alarm_record(session, vital.id, raised, ctx.now)?;
        h.tx.insert_alarm(&record).await?;
        audit.push(entry(ctx, AuditAction::Create, "session_alarm", record.id, &h.session));
        events.push(DomainEvent::AlarmRaised { session, patient, alarm: record.id, severity: record.severity });
        alarms.push(record);
    }
    h.finish(ctx, Some(&t.session), audit, events).await?;
    Ok(SavedVitals { vital, alarms })
}

fn alarm_record(
    session: DosingSessionId,
    vital: VitalId,
    raised: &RaisedAlarm,
    now: Timestamp,
) -> AppResult<AlarmRecord> {
    let alarm = &raised.alarm;
    Ok(AlarmRecord {
        id: raised.id,
        session_id: session,
        vital_id: vital,
        rule: alarm.rule.clone(),
        kind: alarm.kind,
        severity: alarm.severity,
        content: serde_json::to_string(alarm).map_err(internal)?,
        raised_at: now,
        acknowledged_by: None,
        acknowledged_at: None,
        action_taken: None,
    })
}

/// Acknowledges an alarm with the action taken (required, INT-005), in the session's
/// one transaction: the machine closes it, so it no longer holds dosing.
pub async fn acknowledge_alarm(
    store: &dyn Store,
    ctx: &Ctx,
    alarm: SessionAlarmId,
    action: &str,
) -> AppResult<AlarmRecord> {
    let session = {
        let mut tx = store.begin_read().await?;
        tx.alarm_by_id(alarm).await?.ok_or(AppError::NotFound("alarm"))?.session_id
    };
    if !ctx.allows(Permission::DosingSessionRun) {
        return Err(deny(store, ctx, session, "session_alarm", Some(alarm.to_string()), AuditAction::Update).await);
    }
    let Ok(action) = Reason::parse(action) else {
        return Err(FieldErrors::single("action", "the action taken is required (INT-005)").into());
    };
    let mut h = hold(
        store,
        ctx,
        session,
        Permission::DosingSessionRun,
        "session_alarm",
        Some(alarm.to_string()),
        AuditAction::Update,
    )
    .await?;
    let t = h.state.acknowledge_alarm(alarm, action.clone(), ctx.now).map_err(|e| match e.refusal {
        kat_core::dosing::session::Refusal::NotAnOpenAlarm => {
            AppError::Conflict("this alarm is already acknowledged".into())
        }
        _ => refused(e),
    })?;
    h.tx.acknowledge_alarm(alarm, h.by, ctx.now, action.as_str()).await.map_err(|err| match err {
        StoreError::Conflict { .. } => AppError::Conflict("this alarm is already acknowledged".into()),
        other => other.into(),
    })?;
    let a = h.tx.alarm_by_id(alarm).await?.ok_or(AppError::NotFound("alarm"))?;
    let audit = vec![entry(ctx, AuditAction::Update, "session_alarm", alarm, &h.session)];
    let event = DomainEvent::AlarmAcknowledged { session, patient: h.session.patient_id, alarm };
    h.finish(ctx, Some(&t.session), audit, vec![event]).await?;
    Ok(a)
}
