//! Application services: one function per use case.
//!
//! Each use case checks the actor's permission, opens one transaction, lets the core
//! decide, saves, appends its audit entries in the same transaction, and commits. This
//! crate knows no HTTP; the pages and JSON API (kat-web), the CLI and the demo (kat) all
//! call it.

pub mod access;
pub mod audit_log;
pub mod auth;
pub mod config;
pub mod dosing;
pub mod events;
pub mod intake;
pub mod ledger;
pub mod live;
pub mod measures;
pub mod mfa;
pub mod patients;
pub mod reauth;
pub mod therapy;
pub mod timeline;
pub mod today;
pub mod users;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditActor, AuditOutcome, NewAuditEntry};
use kat_core::ids::PatientId;
use kat_core::role::Permission;
use kat_core::user::User;
use kat_store::{Store, StoreError};

/// Who is acting.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A signed-in staff member or an API client.
    User(User),
    /// Nobody has signed in (login attempts).
    Anonymous,
    /// An operator on the server's command line (`kat user add`, the demo seeder).
    Cli,
}

/// The context of one request or command: who, from where, and when.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub remote_addr: String,
    pub request_id: Option<String>,
    pub now: Timestamp,
    /// Today's date in the clinic's time zone.
    pub today: Date,
    /// The clinic's time zone.
    pub tz: TimeZone,
    /// Where the use cases tell their [`events::DomainEvent`]s after commit (nobody by
    /// default).
    pub events: events::EventSink,
    /// Whose records clinicians may open, and how long break-glass lasts (clinic policy;
    /// the default scopes records to the care team).
    pub access: kat_core::access::AccessPolicy,
    /// How failures are throttled: sign-in, and unknown one-time links per address.
    pub throttle: kat_core::sign_in::SignInPolicy,
}

impl Ctx {
    pub fn new(actor: Actor, remote_addr: String, request_id: Option<String>, now: Timestamp, tz: &TimeZone) -> Self {
        Self {
            actor,
            remote_addr,
            request_id,
            now,
            today: now.to_zoned(tz.clone()).date(),
            tz: tz.clone(),
            events: events::EventSink::none(),
            access: kat_core::access::AccessPolicy::default(),
            throttle: kat_core::sign_in::SignInPolicy::default(),
        }
    }

    /// The same context under this throttling policy (`[security.sign_in]`).
    pub fn with_throttle(mut self, throttle: kat_core::sign_in::SignInPolicy) -> Self {
        self.throttle = throttle;
        self
    }

    /// The same context under this clinic access policy.
    pub fn with_access(mut self, access: kat_core::access::AccessPolicy) -> Self {
        self.access = access;
        self
    }

    /// The same context, telling its events to `sink`.
    pub fn with_events(mut self, sink: events::EventSink) -> Self {
        self.events = sink;
        self
    }

    /// A context for commands run on the server itself.
    pub fn cli(now: Timestamp, tz: &TimeZone) -> Self {
        Self::new(Actor::Cli, "cli".into(), None, now, tz)
    }

    fn actor_record(&self) -> AuditActor {
        match &self.actor {
            Actor::User(u) => AuditActor { user_id: Some(u.id), label: u.username.to_string() },
            Actor::Anonymous => AuditActor { user_id: None, label: "anonymous".into() },
            Actor::Cli => AuditActor { user_id: None, label: "kat cli".into() },
        }
    }

    /// An audit entry by this context's actor.
    pub fn audit(
        &self,
        action: AuditAction,
        resource_type: &str,
        resource_id: Option<String>,
        patient_id: Option<PatientId>,
        outcome: AuditOutcome,
    ) -> NewAuditEntry {
        NewAuditEntry {
            at: self.now,
            actor: self.actor_record(),
            action,
            resource_type: resource_type.into(),
            resource_id,
            patient_id,
            remote_addr: self.remote_addr.clone(),
            outcome,
            request_id: self.request_id.clone(),
        }
    }

    /// Whether the actor may do this. The command line acts for the server's operator
    /// and may do anything.
    pub(crate) fn allows(&self, permission: Permission) -> bool {
        match &self.actor {
            Actor::User(u) => u.active && u.role.allows(permission),
            Actor::Cli => true,
            Actor::Anonymous => false,
        }
    }
}

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("not signed in")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    /// The role may, but the user is not on this patient's care team: break-glass is
    /// offered (issue 12 item 1).
    #[error("not on this patient's care team")]
    BreakGlassRequired(PatientId),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Sign-in refused for now: too many failures from this account or address (issue 12
    /// item 3); the next attempt may come at `until`.
    #[error("too many failed sign-ins; try again at {until}")]
    TooManyAttempts { until: jiff::Timestamp },
    #[error("storage: {0}")]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("record"),
            StoreError::StaleVersion => AppError::Conflict(
                "this record was changed by someone else since you opened it; reload and try again".into(),
            ),
            other => AppError::Store(other),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Checks a permission; a refusal is itself audited (in its own transaction, since the
/// use case will not commit one).
pub async fn require(
    store: &dyn Store,
    ctx: &Ctx,
    permission: Permission,
    resource_type: &str,
    resource_id: Option<String>,
    patient_id: Option<PatientId>,
    action: AuditAction,
) -> AppResult<()> {
    if ctx.allows(permission) {
        return match patient_id {
            Some(p) => access::check(store, ctx, permission, resource_type, resource_id, p, action).await,
            None => Ok(()),
        };
    }
    record_denial(store, ctx, action, resource_type, resource_id, patient_id).await?;
    Err(match ctx.actor {
        Actor::Anonymous => AppError::Unauthenticated,
        _ => AppError::Forbidden,
    })
}

/// Appends the audit entries of a read-only use case, in a short write transaction of
/// their own. The use case reads in a read transaction ([`Store::begin_read`], which never
/// waits for a writer), then calls this before it returns the data: nothing is shown that
/// was not audited, and the write lock is held only for the appends, never for the reads.
pub async fn audit_reads(store: &dyn Store, entries: &[NewAuditEntry]) -> AppResult<()> {
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

/// The one audit entry of a list view (`List`, allowed), naming every patient it showed,
/// appended like [`audit_reads`] after the reads and before the list is returned.
pub async fn audit_list_view(store: &dyn Store, ctx: &Ctx, resource_type: &str, shown: &[PatientId]) -> AppResult<()> {
    let mut tx = store.begin().await?;
    tx.append_audit_listing(&ctx.audit(AuditAction::List, resource_type, None, None, AuditOutcome::Allowed), shown)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Appends one `denied` entry in a transaction of its own (an anonymous failure is
/// counted by [`append_denied`]).
pub async fn record_denial(
    store: &dyn Store,
    ctx: &Ctx,
    action: AuditAction,
    resource_type: &str,
    resource_id: Option<String>,
    patient_id: Option<PatientId>,
) -> AppResult<()> {
    let mut tx = store.begin().await?;
    append_denied(tx.as_mut(), ctx, &ctx.audit(action, resource_type, resource_id, patient_id, AuditOutcome::Denied))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Appends a refusal to the audit log, except that an anonymous failure — a request or
/// sign-in from no known account that names no patient — is counted per client address
/// and window (`[security.sign_in] anonymous_audit_window_minutes`): only the first of a
/// window becomes an audit entry, the others add to its count (issue 12 item 3), so
/// anonymous traffic cannot flood the log. Anything that names a patient or an account
/// is audited one entry per event, always.
pub(crate) async fn append_denied(tx: &mut dyn kat_store::Tx, ctx: &Ctx, entry: &NewAuditEntry) -> AppResult<()> {
    let anonymous = entry.actor.user_id.is_none()
        && entry.patient_id.is_none()
        && entry.outcome == AuditOutcome::Denied
        && !matches!(ctx.actor, Actor::Cli);
    if anonymous {
        let window = kat_core::sign_in::anonymous_window(ctx.now, &ctx.throttle);
        if tx.count_anonymous_failure(&ctx.remote_addr, window, ctx.now).await? > 1 {
            return Ok(());
        }
    }
    tx.append_audit(entry).await?;
    Ok(())
}
