//! Domain events: what a use case did, told **after its transaction committed**.
//!
//! A use case that changed something a screen shows emits one [`DomainEvent`] per change
//! through [`Ctx::events`](crate::Ctx) once `commit` has returned `Ok`, never before and
//! never when the use case fails, so a listener never sees a change that did not happen.
//! Events carry opaque ids only (no patient data), so they may cross processes (the web
//! layer relays them through PostgreSQL's `NOTIFY`) and appear in logs.
//!
//! Listeners (the live screens in kat-web) implement [`EventPublisher`]; a use case only
//! sees the [`EventSink`] its context carries ([`EventSink::none`] by default, for the
//! CLI and the demo seeder).

use kat_core::ids::{AdministrationId, DosingSessionId, PatientId, SessionAlarmId, VitalId};
use kat_core::monitoring::alarms::Severity;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::{Arc, Mutex};

/// What kind of session record an event is about (adverse events, interventions and
/// ratings share one table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionRecordKind {
    AdverseEvent,
    Intervention,
    Rating,
}

/// A change to a dosing session, told after commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    SessionOpened {
        session: DosingSessionId,
        patient: PatientId,
    },
    /// The pre-dose gate was recorded (`passed`: proceed or override; else deferred).
    GateRecorded {
        session: DosingSessionId,
        patient: PatientId,
        passed: bool,
    },
    DoseOrdered {
        session: DosingSessionId,
        patient: PatientId,
    },
    AdministrationRecorded {
        session: DosingSessionId,
        patient: PatientId,
        administration: AdministrationId,
    },
    VitalRecorded {
        session: DosingSessionId,
        patient: PatientId,
        vital: VitalId,
    },
    AlarmRaised {
        session: DosingSessionId,
        patient: PatientId,
        alarm: SessionAlarmId,
        severity: Severity,
    },
    AlarmAcknowledged {
        session: DosingSessionId,
        patient: PatientId,
        alarm: SessionAlarmId,
    },
    /// An adverse event, an intervention or a rating was recorded.
    SessionRecordAdded {
        session: DosingSessionId,
        patient: PatientId,
        kind: SessionRecordKind,
    },
    /// The session ended without discharge (an intervention stopped it, or the patient
    /// was transferred to emergency care).
    SessionEnded {
        session: DosingSessionId,
        patient: PatientId,
    },
    SessionDischarged {
        session: DosingSessionId,
        patient: PatientId,
    },
    RemsSubmitted {
        session: DosingSessionId,
        patient: PatientId,
    },
}

impl DomainEvent {
    /// The dosing session the event is about.
    pub fn session(&self) -> DosingSessionId {
        match self {
            DomainEvent::SessionOpened { session, .. }
            | DomainEvent::GateRecorded { session, .. }
            | DomainEvent::DoseOrdered { session, .. }
            | DomainEvent::AdministrationRecorded { session, .. }
            | DomainEvent::VitalRecorded { session, .. }
            | DomainEvent::AlarmRaised { session, .. }
            | DomainEvent::AlarmAcknowledged { session, .. }
            | DomainEvent::SessionRecordAdded { session, .. }
            | DomainEvent::SessionEnded { session, .. }
            | DomainEvent::SessionDischarged { session, .. }
            | DomainEvent::RemsSubmitted { session, .. } => *session,
        }
    }

    /// The patient the event is about.
    pub fn patient(&self) -> PatientId {
        match self {
            DomainEvent::SessionOpened { patient, .. }
            | DomainEvent::GateRecorded { patient, .. }
            | DomainEvent::DoseOrdered { patient, .. }
            | DomainEvent::AdministrationRecorded { patient, .. }
            | DomainEvent::VitalRecorded { patient, .. }
            | DomainEvent::AlarmRaised { patient, .. }
            | DomainEvent::AlarmAcknowledged { patient, .. }
            | DomainEvent::SessionRecordAdded { patient, .. }
            | DomainEvent::SessionEnded { patient, .. }
            | DomainEvent::SessionDischarged { patient, .. }
            | DomainEvent::RemsSubmitted { patient, .. } => *patient,
        }
    }
}

/// Something that hears committed events (the live screens).
pub trait EventPublisher: Send + Sync {
    fn publish(&self, event: &DomainEvent);
}

/// Where a context's use cases tell their events.
#[derive(Clone)]
pub struct EventSink(Option<Arc<dyn EventPublisher>>);

impl EventSink {
    /// Nobody listens (the CLI, the demo seeder, tests that do not care).
    pub fn none() -> Self {
        Self(None)
    }

    pub fn new(publisher: Arc<dyn EventPublisher>) -> Self {
        Self(Some(publisher))
    }

    /// Tells the listener. Call only after the use case's transaction committed.
    pub fn emit(&self, event: DomainEvent) {
        if let Some(p) = &self.0 {
            p.publish(&event);
        }
    }

    /// Tells every event, in order.
    pub fn emit_all(&self, events: impl IntoIterator<Item = DomainEvent>) {
        for e in events {
            self.emit(e);
        }
    }
}

impl Default for EventSink {
    fn default() -> Self {
        Self::none()
    }
}

impl fmt::Debug for EventSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "EventSink(listening)" } else { "EventSink(none)" })
    }
}

/// A publisher that keeps what it hears, for tests.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<DomainEvent>>);

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The events heard so far, oldest first.
    pub fn events(&self) -> Vec<DomainEvent> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl EventPublisher for Recorder {
    fn publish(&self, event: &DomainEvent) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn events_reach_the_publisher_in_order_and_serialise_as_ids_only() {
        let recorder = Recorder::new();
        let sink = EventSink::new(recorder.clone());
        let session = DosingSessionId::from_uuid(Uuid::nil());
        let patient = PatientId::from_uuid(Uuid::nil());
        let alarm = SessionAlarmId::from_uuid(Uuid::nil());
        sink.emit_all([
            DomainEvent::VitalRecorded { session, patient, vital: VitalId::from_uuid(Uuid::nil()) },
            DomainEvent::AlarmRaised { session, patient, alarm, severity: Severity::Emergency },
        ]);
        let heard = recorder.events();
        assert_eq!(heard.len(), 2);
        assert_eq!(heard[1].session(), session);
        let json = serde_json::to_string(&heard[1]).unwrap();
        assert!(json.starts_with(r#"{"type":"alarm_raised","session":"#), "{json}");
        assert_eq!(serde_json::from_str::<DomainEvent>(&json).unwrap(), heard[1]);
        // No listener: nothing happens, nothing fails.
        EventSink::none().emit(heard[0].clone());
        assert_eq!(format!("{:?}", EventSink::none()), "EventSink(none)");
    }
}
