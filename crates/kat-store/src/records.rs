//! Records the port stores that are not clinical domain objects (accounts, sessions,
//! tokens).

use jiff::Timestamp;
use kat_core::ids::{TokenId, UserId};
use kat_core::role::Role;
use kat_core::user::{AccountKind, User, Username};
use std::fmt;

/// A new account. `password_hash` is an argon2id PHC string, or `None` for API clients.
#[derive(Clone)]
pub struct NewUser {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub kind: AccountKind,
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// An account with its password hash, read only for login.
#[derive(Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Option<String>,
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// A login session. Only the SHA-256 of the cookie's secret is stored, so a copy of the
/// database does not let anyone take over a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub remote_addr: String,
}

/// An account's TOTP enrolment (migration 0019). The secret's `Debug` is redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaRecord {
    pub user_id: UserId,
    pub secret: kat_core::mfa::TotpSecret,
    /// When enrolment began (the secret was made).
    pub created_at: Timestamp,
    /// When a first code confirmed it; `None` while pending (not yet required at sign-in).
    pub enrolled_at: Option<Timestamp>,
    /// The last step whose code was accepted.
    pub last_used_step: Option<i64>,
}

/// The anonymous failures of one client address in one window (migration 0022): the
/// first is in the audit log, the rest are only counted here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymousFailures {
    pub source: String,
    pub window_start: Timestamp,
    pub failures: i64,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
}

/// A bearer token for the JSON API; only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: TokenId,
    pub user_id: UserId,
    pub label: String,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// When the token stops working (migration 0015; `None` only for a row written
    /// outside kat).
    pub expires_at: Option<Timestamp>,
}
