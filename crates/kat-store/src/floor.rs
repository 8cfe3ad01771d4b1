//! The floor board's reads: what every tile shows of the sessions in progress, loaded
//! with a fixed number of queries whatever the number of sessions or readings (issue 10
//! item 7), so a live board's refresh costs the same at 3 and at 30 chairs, and a
//! session's 8,000th reading as much as its first.

use crate::StoreResult;
use crate::dosing::{AdministrationRecord, AlarmRecord, DosingSessionRecord, TreatmentPlanRecord, VitalRecord};
use async_trait::async_trait;
use kat_core::ids::DosingSessionId;
use kat_core::patient::Patient;

/// What one floor-board tile shows of an open session, read at once.
#[derive(Debug, Clone, PartialEq)]
pub struct FloorTileRecord {
    pub session: DosingSessionRecord,
    pub patient: Patient,
    pub plan: TreatmentPlanRecord,
    /// Every administration of the session, oldest first (a handful: the times of
    /// dosing come from them).
    pub administrations: Vec<AdministrationRecord>,
    /// The session's latest readings, **newest first**, at most the number asked for.
    pub recent_vitals: Vec<VitalRecord>,
    /// The session's unacknowledged alarms, oldest first.
    pub open_alarms: Vec<AlarmRecord>,
}

#[async_trait]
pub trait FloorRepo {
    /// The tiles of every session not yet discharged (oldest opened first), or of `only`
    /// that one session (none when it is discharged or unknown), each with its latest
    /// `recent` readings. A fixed number of queries, whatever the number of sessions.
    async fn floor_tiles(&mut self, only: Option<DosingSessionId>, recent: u32) -> StoreResult<Vec<FloorTileRecord>>;
}

/// Puts the rows of the floor board's queries together, one tile per session in the
/// order of `sessions` (`kat-store-sql` reads the six lists and calls this). A session
/// whose plan or patient is missing from the lists is left out (it cannot happen with
/// the schema's foreign keys).
pub fn assemble_floor_tiles(
    sessions: Vec<DosingSessionRecord>,
    plans: Vec<TreatmentPlanRecord>,
    patients: Vec<Patient>,
    administrations: Vec<AdministrationRecord>,
    recent_vitals: Vec<VitalRecord>,
    open_alarms: Vec<AlarmRecord>,
) -> Vec<FloorTileRecord> {
    use std::collections::HashMap;
    let plans: HashMap<_, _> = plans.into_iter().map(|p| (p.id, p)).collect();
    let patients: HashMap<_, _> = patients.into_iter().map(|p| (p.id, p)).collect();
    type Lists = (Vec<AdministrationRecord>, Vec<VitalRecord>, Vec<AlarmRecord>);
    let mut by_session: HashMap<DosingSessionId, Lists> = HashMap::new();
    for a in administrations {
        by_session.entry(a.session_id).or_default().0.push(a);
    }
    for v in recent_vitals {
        by_session.entry(v.session_id).or_default().1.push(v);
    }
    for a in open_alarms {
        by_session.entry(a.session_id).or_default().2.push(a);
    }
    sessions
        .into_iter()
        .filter_map(|session| {
            let plan = plans.get(&session.plan_id)?.clone();
            let patient = patients.get(&session.patient_id)?.clone();
            let (administrations, recent_vitals, open_alarms) = by_session.remove(&session.id).unwrap_or_default();
            Some(FloorTileRecord { session, patient, plan, administrations, recent_vitals, open_alarms })
        })
        .collect()
}
