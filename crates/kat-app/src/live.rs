//! The reads of the live screens (kat-web's `live`): the floor board's tiles, one per
//! session in progress, and the live part of one session's screen, each loaded with a
//! fixed number of queries ([`kat_store::FloorRepo::floor_tiles`]) whatever the number of
//! sessions or readings.
//!
//! Audit: a live screen is one read. The floor board's page audits every session it
//! shows (`list`); an open board's refresh audits only a session it shows for the first
//! time (`seen` holds those already audited), and the session screen's stream was
//! audited when it opened ([`crate::dosing::session`]). The reads run in a read
//! snapshot; the audit entries of newly shown sessions are appended in one short write
//! transaction that commits before anything is returned, so nothing is shown unaudited
//! and an unchanged refresh never takes the write lock.

use crate::config::DosingConfig;
use crate::dosing::{PlanView, SessionView};
use crate::{AppError, AppResult, Ctx, require};
use jiff::Timestamp;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::dosing::Route;
use kat_core::dosing::session::{DosingSession, GateOutcome, Phase};
use kat_core::ids::{DosingSessionId, VitalId};
use kat_core::monitoring::alarms::Severity;
use kat_core::monitoring::{Reading, ScheduledCheck, current_values};
use kat_core::role::Permission;
use kat_store::dosing::AlarmRecord;
use kat_store::floor::FloorTileRecord;
use kat_store::{Store, Tx};
use std::collections::HashSet;

/// How many of a session's newest readings a tile carries (its trend and latest values).
pub const RECENT_READINGS: u32 = 20;

/// What a floor-board tile (and the session screen's summary) shows of one session.
#[derive(Debug, Clone)]
pub struct Tile {
    pub session: DosingSessionId,
    /// The patient's name and MRN.
    pub patient_label: String,
    pub route: Route,
    pub phase: Phase,
    /// The gate's outcome, if run.
    pub gate_outcome: Option<GateOutcome>,
    pub opened_at: Timestamp,
    pub discharged_at: Option<Timestamp>,
    /// When the patient was transferred to emergency care, if the session ended so.
    pub transferred_at: Option<Timestamp>,
    /// The first dose (infusion start, injection, first device), if given.
    pub first_dose: Option<Timestamp>,
    /// The newest readings, newest first (at most [`RECENT_READINGS`]).
    pub readings: Vec<(VitalId, Reading)>,
    /// Each vital's latest value among them (`monitoring::current_values`), with the
    /// time of the newest reading.
    pub latest: Option<Reading>,
    pub next_check: Option<ScheduledCheck>,
    /// Unacknowledged alarms, most severe first, then newest first.
    pub open_alarms: Vec<(AlarmRecord, Severity)>,
    /// A prescriber's override of one dose day ("Second dose today — override by …").
    pub dose_day: Option<String>,
}

impl Tile {
    /// The most severe open alarm's severity.
    pub fn worst(&self) -> Option<Severity> {
        self.open_alarms.first().map(|(_, s)| *s)
    }

    /// Whether the next check is due or overdue.
    pub fn check_due(&self, now: Timestamp) -> bool {
        self.discharged_at.is_none()
            && self.transferred_at.is_none()
            && self.next_check.as_ref().is_some_and(|c| c.at <= now)
    }

    /// The floor board's order: the most severe open alarm first, then a check due, then
    /// the session opened first.
    pub fn sort_key(&self, now: Timestamp) -> (std::cmp::Reverse<Option<Severity>>, bool, Timestamp, DosingSessionId) {
        (std::cmp::Reverse(self.worst()), !self.check_due(now), self.opened_at, self.session)
    }

    /// The tile of a session view. The view may hold only the newest readings (a floor
    /// tile's) or all of them (the session screen's).
    pub fn from_view(v: &SessionView, next_check: Option<ScheduledCheck>, now: Timestamp) -> Self {
        let times = v.times();
        let readings: Vec<(VitalId, Reading)> =
            v.vitals.iter().rev().take(RECENT_READINGS as usize).map(|(rec, r)| (rec.id, r.clone())).collect();
        let oldest_first: Vec<Reading> = readings.iter().rev().map(|(_, r)| r.clone()).collect();
        let (latest, _) = current_values(&oldest_first, v.session.opened_at);
        // The machine's phase; a session whose dosing is over by the clock (an infusion
        // past its end not yet stopped on the pump) is observed.
        let phase = match (v.state.phase(), times) {
            (Phase::Dosing, Some(t)) if now >= t.dose_end => Phase::Observing,
            (phase, _) => phase,
        };
        let mut open_alarms: Vec<(AlarmRecord, Severity)> = v.open_alarms().map(|a| (a.clone(), a.severity)).collect();
        open_alarms.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.raised_at.cmp(&a.0.raised_at)));
        Tile {
            session: v.session.id,
            patient_label: v.patient_label.clone(),
            route: v.route(),
            phase,
            gate_outcome: v.session.gate_outcome,
            opened_at: v.session.opened_at,
            discharged_at: v.session.discharged_at,
            transferred_at: crate::dosing::transferred(&v.session),
            first_dose: times.map(|t| t.dose_start),
            readings,
            latest,
            next_check,
            open_alarms,
            dose_day: v.dose_day_override().map(|o| o.summary()),
        }
    }

    fn from_record(
        rec: FloorTileRecord,
        state: DosingSession,
        config: &DosingConfig,
        now: Timestamp,
    ) -> AppResult<Self> {
        let view = SessionView {
            state,
            at: now,
            late_entries: Vec::new(),
            transfer: None,
            later_overrides: Vec::new(),
            patient_label: format!("{} · {}", rec.patient.demographics.full_name(), rec.patient.mrn),
            plan: PlanView::from_record(rec.plan)?,
            session: rec.session,
            administrations: rec.administrations,
            vitals: rec.recent_vitals.into_iter().rev().map(|v| (v.clone(), v.reading)).collect(),
            alarms: rec.open_alarms,
            events: Vec::new(),
            orders: Vec::new(),
            next_check: None,
            discharge: None,
        };
        let next = crate::dosing::next_check(&view, config, now);
        Ok(Self::from_view(&view, next, now))
    }
}

/// Each tile's session state: the stored one; a session recorded before the state was
/// kept (migration 0011) is rebuilt from its history in this read (not saved: its next
/// write use case saves it).
async fn with_states(
    tx: &mut Box<dyn Tx>,
    records: Vec<FloorTileRecord>,
) -> AppResult<Vec<(FloorTileRecord, DosingSession)>> {
    let mut out = Vec::with_capacity(records.len());
    for rec in records {
        let state = crate::dosing::state_of(tx, &rec.session).await?;
        out.push((rec, state));
    }
    Ok(out)
}

/// A session in progress: open, not deferred at the gate (a deferral ends the day) and
/// not transferred to emergency care (the separate exit: the tile leaves the board). A
/// session whose dosing an intervention stopped (INT-005) stays: the patient is still
/// observed until discharge.
fn in_progress(rec: &FloorTileRecord) -> bool {
    crate::dosing::in_progress(&rec.session)
}

/// Reads tiles in a read snapshot, then audits the sessions not in `seen` (every one
/// when `seen` is `None`) in one write transaction before returning them.
async fn load_tiles(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    only: Option<DosingSessionId>,
    seen: Option<&mut HashSet<DosingSessionId>>,
) -> AppResult<Vec<Tile>> {
    let mut tx = store.begin_read().await?;
    let records = tx.floor_tiles(only, RECENT_READINGS).await?;
    let records: Vec<FloorTileRecord> = records.into_iter().filter(in_progress).collect();
    let records = with_states(&mut tx, records).await?;
    tx.commit().await?;
    let mut fresh = HashSet::new();
    let new: Vec<&FloorTileRecord> = match &seen {
        Some(seen) => records.iter().map(|(r, _)| r).filter(|r| !seen.contains(&r.session.id)).collect(),
        None => records.iter().map(|(r, _)| r).collect(),
    };
    if !new.is_empty() {
        let mut tx = store.begin().await?;
        for r in &new {
            tx.append_audit(&ctx.audit(
                AuditAction::List,
                "dosing_session",
                Some(r.session.id.to_string()),
                Some(r.session.patient_id),
                AuditOutcome::Allowed,
            ))
            .await?;
            fresh.insert(r.session.id);
        }
        tx.commit().await?;
    }
    if let Some(seen) = seen {
        seen.extend(fresh);
    }
    let mut tiles =
        records.into_iter().map(|(r, s)| Tile::from_record(r, s, config, ctx.now)).collect::<AppResult<Vec<Tile>>>()?;
    tiles.sort_by_key(|t| t.sort_key(ctx.now));
    Ok(tiles)
}

/// The floor board's page: every session in progress, most severe first, each audited
/// as shown (`list`).
pub async fn floor_board(store: &dyn Store, ctx: &Ctx, config: &DosingConfig) -> AppResult<Vec<Tile>> {
    require(store, ctx, Permission::DosingSessionRead, "dosing_session", None, None, AuditAction::List).await?;
    load_tiles(store, ctx, config, None, None).await
}

/// An open floor board's refresh: the permission is checked again; a session is audited
/// the first time this screen shows it (see the module documentation).
pub async fn floor_board_live(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    seen: &mut HashSet<DosingSessionId>,
) -> AppResult<Vec<Tile>> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    load_tiles(store, ctx, config, None, Some(seen)).await
}

/// One tile of an open floor board, after an event about its session: `None` when the
/// session is no longer in progress (discharged, ended or deferred).
pub async fn floor_tile_live(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    seen: &mut HashSet<DosingSessionId>,
) -> AppResult<Option<Tile>> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    Ok(load_tiles(store, ctx, config, Some(session), Some(seen)).await?.pop())
}

/// The live part of an open session screen: its summary (a tile) and every alarm of the
/// session, acknowledged ones too. `None` when the session is no longer in progress (the
/// screen then re-renders in full). Not audited: opening the stream was the audited read.
pub async fn session_live_part(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
) -> AppResult<Option<(Tile, Vec<AlarmRecord>)>> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    let mut tx = store.begin_read().await?;
    let Some(record) = tx.floor_tiles(Some(session), RECENT_READINGS).await?.pop() else {
        return Ok(None);
    };
    if !in_progress(&record) {
        return Ok(None);
    }
    crate::access::preview_allowed(&mut tx, ctx, Permission::DosingSessionRead, record.session.patient_id).await?;
    let alarms = tx.alarms_for_session(session).await?;
    let state = crate::dosing::state_of(&mut tx, &record.session).await?;
    tx.commit().await?;
    Ok(Some((Tile::from_record(record, state, config, ctx.now)?, alarms)))
}

/// The session screen's summary from its full view (the page and a full re-render).
pub fn session_tile(v: &SessionView, now: Timestamp) -> Tile {
    Tile::from_view(v, v.next_check.clone(), now)
}
