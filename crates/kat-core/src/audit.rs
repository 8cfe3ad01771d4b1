//! The audit log: who did what to which record, when, from where, and whether it was
//! allowed. Entries are only ever appended; no code path changes or deletes one.

use crate::ids::{AuditId, PatientId, UserId};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Read,
    /// A record appeared in a list or search result (its content was shown).
    List,
    Update,
    Delete,
    Login,
    LoginFailed,
    Logout,
    SessionExpired,
}

impl AuditAction {
    pub const ALL: [AuditAction; 9] = [
        AuditAction::Create,
        AuditAction::Read,
        AuditAction::List,
        AuditAction::Update,
        AuditAction::Delete,
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::SessionExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Read => "read",
            AuditAction::List => "list",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Logout => "logout",
            AuditAction::SessionExpired => "session_expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Allowed,
    Denied,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Allowed => "allowed",
            AuditOutcome::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allowed" => Some(AuditOutcome::Allowed),
            "denied" => Some(AuditOutcome::Denied),
            _ => None,
        }
    }
}

/// Who acted. `label` is what the log shows (a username, "anonymous", "kat cli").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditActor {
    pub user_id: Option<UserId>,
    pub label: String,
}

/// An entry about to be appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewAuditEntry {
    pub at: Timestamp,
    pub actor: AuditActor,
    pub action: AuditAction,
    /// The kind of record: `patient`, `user`, `api_token`, `session`, `audit_log`…
    pub resource_type: String,
    pub resource_id: Option<String>,
    /// The patient the record belongs to, so a patient's whole access history can be
    /// filtered at once.
    pub patient_id: Option<PatientId>,
    /// The client address, or `cli` for commands run on the server.
    pub remote_addr: String,
    pub outcome: AuditOutcome,
    pub request_id: Option<String>,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: AuditId,
    /// Position in the log; strictly increasing.
    pub seq: i64,
    #[serde(flatten)]
    pub entry: NewAuditEntry,
}

/// What an admin filters the log by. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub user_id: Option<UserId>,
    pub patient_id: Option<PatientId>,
    /// Inclusive lower bound.
    pub from: Option<Timestamp>,
    /// Exclusive upper bound.
    pub to: Option<Timestamp>,
    /// Entries with a `seq` below this (for paging backwards); newest first.
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// The most entries one page or API call returns.
pub const MAX_AUDIT_PAGE: u32 = 500;
