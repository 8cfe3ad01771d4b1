//! Use cases of dosing: the treatment plan (drafted and signed by a prescriber on an
//! accepted, non-stale eligibility decision), the dosing session with its pre-dose gate
//! (§3), administration events (never before the gate is passed), vital signs checked
//! against the alarm policy when saved (§4.3), alarm acknowledgement with the action
//! taken (§4.4), the floor board and the discharge (§4.5).
//!
//! A session's rules are the core's typed state machine
//! ([`kat_core::dosing::session::DosingSession`]), stored beside the session. Every write
//! use case is one transaction: permission check → the session and its state read for
//! update ([`hold`]) → the machine decides → the rows and the new state are written →
//! audit → commit → the [`crate::events::DomainEvent`]s are told. A refused permission is
//! audited in a transaction of its own, after the use case's is dropped. Read-only use
//! cases read in a read transaction ([`Store::begin_read`]) and append their audit
//! entries in a short write transaction before the data is returned.
//!
//! Every threshold comes from the clinic's [`DosingConfig`] (`[dosing]` in `kat.toml`,
//! the spec's values by default).

mod administrations;
mod course;
mod discharge;
mod dose_order;
mod events;
mod gate;
mod plan;
mod plan_draft;
mod rems;
mod state;
mod view;
mod vitals;

pub use administrations::*;
pub use course::*;
pub use discharge::*;
pub use dose_order::*;
pub use events::*;
pub use gate::*;
pub use plan::*;
pub use plan_draft::*;
pub use rems::*;
pub use state::*;
pub use view::*;
pub use vitals::*;

use super::{AppError, AppResult, Ctx, record_denial};
use crate::config::DosingConfig;
use crate::events::DomainEvent;
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome, NewAuditEntry};
use kat_core::dosing::Route;
use kat_core::dosing::session::{DosingSession, SessionError};
use kat_core::ids::{DosingSessionId, UserId};
use kat_core::role::Permission;
use kat_store::dosing::DosingSessionRecord;
use kat_store::{Store, Tx};

fn user_id(ctx: &Ctx) -> AppResult<UserId> {
    match &ctx.actor {
        super::Actor::User(u) => Ok(u.id),
        _ => Err(AppError::Forbidden),
    }
}

fn parse_route(raw: &str) -> Option<Route> {
    serde_json::from_value(serde_json::Value::String(raw.trim().to_string())).ok()
}

fn protocol_key(p: &kat_core::dosing::Protocol) -> String {
    serde_json::to_value(p.id).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// A transition the session's machine refused: a conflict with the session's state
/// (409), or a field to correct (422, on the field the core names, with its rule).
pub(crate) fn refused(e: SessionError) -> AppError {
    let message = match &e.rule {
        Some(rule) if !e.message.contains(rule.as_str()) => format!("{rule}: {}", e.message),
        _ => e.message.clone(),
    };
    if e.refusal.is_conflict() { AppError::Conflict(message) } else { FieldErrors::single(e.field, message).into() }
}

// ---------------------------------------------------------------------------------------
// Shared by the session use cases
// ---------------------------------------------------------------------------------------

/// What a refused permission on a session answers: the refusal audited (against the
/// session's patient) in a transaction of its own. An unknown session is `NotFound`.
async fn deny(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    resource: &str,
    resource_id: Option<String>,
    action: AuditAction,
) -> AppError {
    let patient = match store.begin_read().await {
        Ok(mut tx) => match tx.dosing_session_by_id(session).await {
            Ok(Some(s)) => s.patient_id,
            Ok(None) => return AppError::NotFound("dosing session"),
            Err(e) => return e.into(),
        },
        Err(e) => return e.into(),
    };
    if let Err(e) = record_denial(store, ctx, action, resource, resource_id, Some(patient)).await {
        return e;
    }
    match ctx.actor {
        super::Actor::Anonymous => AppError::Unauthenticated,
        _ => AppError::Forbidden,
    }
}

/// A write use case's transaction on one session: the session read for update with its
/// state (rebuilt from the history and saved, once, for a session recorded before the
/// state was kept), and who acts.
pub(crate) struct Held {
    pub tx: Box<dyn Tx>,
    pub session: DosingSessionRecord,
    pub state: DosingSession,
    pub by: UserId,
}

/// Starts a write use case on `session`: checks `permission` (a refusal is audited
/// against `resource` in a transaction of its own), then begins the one write
/// transaction and reads the session and its state for update.
pub(crate) async fn hold(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    permission: Permission,
    resource: &str,
    resource_id: Option<String>,
    action: AuditAction,
) -> AppResult<Held> {
    if !ctx.allows(permission) {
        return Err(deny(store, ctx, session, resource, resource_id, action).await);
    }
    let by = user_id(ctx)?;
    let mut tx = store.begin().await?;
    let s = tx.dosing_session_for_update(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    match crate::access::check_in(&mut tx, ctx, permission, s.patient_id, Some(&s)).await? {
        Ok(None) => {}
        Ok(Some(_)) => {
            tx.append_audit(&crate::access::break_glass_entry(ctx, action, s.patient_id)).await?;
        }
        Err(()) => {
            drop(tx);
            return Err(crate::access::refuse(store, ctx, action, resource, resource_id, s.patient_id).await);
        }
    }
    let state = match &s.state {
        Some(state) => state.clone(),
        None => {
            let state = rebuild_state(&mut tx, &s).await?;
            tx.save_session_state(s.id, &state).await?;
            state
        }
    };
    Ok(Held { tx, session: s, state, by })
}

impl Held {
    /// Saves the new state, appends the audit entries, commits, then tells the events.
    pub(crate) async fn finish(
        mut self,
        ctx: &Ctx,
        state: Option<&DosingSession>,
        audit: Vec<NewAuditEntry>,
        events: Vec<DomainEvent>,
    ) -> AppResult<()> {
        if let Some(state) = state {
            self.tx.save_session_state(self.session.id, state).await?;
        }
        for entry in &audit {
            self.tx.append_audit(entry).await?;
        }
        self.tx.commit().await?;
        ctx.events.emit_all(events);
        Ok(())
    }
}

/// Starts a read-only use case on `session`: checks `permission` (a refusal is audited),
/// then reads the session in a read transaction.
pub(crate) async fn read_session(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    permission: Permission,
    resource: &str,
    resource_id: Option<String>,
    action: AuditAction,
) -> AppResult<(Box<dyn Tx>, DosingSessionRecord)> {
    if !ctx.allows(permission) {
        return Err(deny(store, ctx, session, resource, resource_id, action).await);
    }
    let mut tx = store.begin_read().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    match crate::access::check_in(&mut tx, ctx, permission, s.patient_id, Some(&s)).await? {
        Ok(None) => {}
        Ok(Some(_)) => audit_reads(store, &[crate::access::break_glass_entry(ctx, action, s.patient_id)]).await?,
        Err(()) => {
            drop(tx);
            return Err(crate::access::refuse(store, ctx, action, resource, resource_id, s.patient_id).await);
        }
    }
    Ok((tx, s))
}

/// Appends the audit entries of a read (what it showed) in one short write transaction,
/// before the data is returned: nothing is shown unless its read is audited.
pub(crate) async fn audit_reads(store: &dyn Store, entries: &[NewAuditEntry]) -> AppResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    for e in entries {
        tx.append_audit(e).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An audit entry of an allowed action on a session's patient.
pub(crate) fn entry(
    ctx: &Ctx,
    action: AuditAction,
    resource: &str,
    id: impl ToString,
    s: &DosingSessionRecord,
) -> NewAuditEntry {
    ctx.audit(action, resource, Some(id.to_string()), Some(s.patient_id), AuditOutcome::Allowed)
}

/// The dosing policy's time rules, for the session's machine.
pub(crate) fn time_policy(config: &DosingConfig) -> &kat_core::dosing::session::SessionTimePolicy {
    &config.session
}
