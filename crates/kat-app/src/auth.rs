//! Passwords, sessions and API tokens.
//!
//! Passwords are argon2id hashes (OWASP parameters, the crate's defaults), computed on
//! the blocking pool so a login never stalls other requests. Session ids and API
//! tokens are 256-bit random secrets; only their SHA-256 is stored.
//!
//! Resolving a session or token on each request only reads; its last-seen time is
//! written at most once per [`LAST_SEEN_GRANULARITY`], so most page views and API calls
//! write nothing.

use super::{Actor, AppError, AppResult, Ctx};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jiff::Timestamp;
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::TokenId;
use kat_core::user::{AccountKind, Password, PasswordContext, User, Username};
use kat_store::{ApiTokenRecord, SessionRecord, Store};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use uuid::Uuid;

/// How old a session's or token's stored last-seen time may get before a request writes
/// it again. Most requests then write nothing (a page view is not a write). The idle
/// timeout is measured from the stored time, which lags the real last use by less than
/// this: a session may end up to this much before `idle` has passed since its real last
/// use, never after.
pub const LAST_SEEN_GRANULARITY: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// A hash of a password nobody knows, verified when the username does not exist so a
/// failed login takes as long whether or not the account exists.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| Argon2::default().hash_password(b"kat-dummy-password-for-timing").expect("hash").to_string());

pub async fn hash_password(password: &Password) -> AppResult<String> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

pub(crate) async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok())
        .await
        .unwrap_or(false)
}

/// A new secret with a readable prefix (`kat_s_` for sessions, `kat_t_` for tokens).
pub(crate) fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The keys sign-in failures are counted under: the account (when the name is one) and
/// the client's address.
pub(crate) fn throttle_keys(user: Option<kat_core::ids::UserId>, remote_addr: &str) -> Vec<String> {
    let mut keys: Vec<String> = user.map(|u| format!("account:{u}")).into_iter().collect();
    keys.push(format!("address:{remote_addr}"));
    keys
}

/// Counts one more failure under each key (`counted`: the failures read before); a lock
/// that this failure sets is audited once, as `entry` on the `sign_in_lock` of the kind
/// of key (what is locked, never the typed name).
pub(crate) async fn count_failure(
    tx: &mut dyn kat_store::Tx,
    entry: &kat_core::audit::NewAuditEntry,
    keys: &[String],
    counted: &[(String, kat_core::sign_in::Failures)],
    now: Timestamp,
    policy: &kat_core::sign_in::SignInPolicy,
) -> AppResult<()> {
    for k in keys {
        let before = counted.iter().find(|(key, _)| key == k).map(|(_, f)| *f);
        let after = kat_core::sign_in::after_failure(before.as_ref(), now, policy);
        tx.put_sign_in_failures(k, &after).await?;
        if after.locked_until.is_some() && before.and_then(|b| b.locked_until).is_none() {
            let mut locked = entry.clone();
            locked.resource_type = "sign_in_lock".into();
            locked.resource_id = Some(k.split(':').next().unwrap_or_default().to_string());
            tx.append_audit(&locked).await?;
        }
    }
    Ok(())
}

/// The failures counted against the caller's address for unknown one-time links
/// (issue 12 item 3): self-report and safety-plan links are credentials, so guessing them
/// is throttled like sign-in, per address, under `ctx.throttle`. Refused with
/// [`AppError::TooManyAttempts`] before any lookup while the address must wait.
pub(crate) async fn link_gate(store: &dyn Store, ctx: &Ctx) -> AppResult<Vec<(String, kat_core::sign_in::Failures)>> {
    let keys = [format!("link:{}", ctx.remote_addr)];
    let mut tx = store.begin_read().await?;
    let counted = tx.sign_in_failures(&keys).await?;
    tx.commit().await?;
    let wait =
        counted.iter().filter_map(|(_, f)| kat_core::sign_in::gate(Some(f), ctx.now, &ctx.throttle).until()).max();
    match wait {
        Some(until) => Err(AppError::TooManyAttempts { until }),
        None => Ok(counted),
    }
}

/// Counts an unknown one-time link against the caller's address (a lock it sets is
/// audited once, as `sign_in_lock` of kind `link`).
pub(crate) async fn link_failed(
    store: &dyn Store,
    ctx: &Ctx,
    counted: &[(String, kat_core::sign_in::Failures)],
) -> AppResult<()> {
    let keys = [format!("link:{}", ctx.remote_addr)];
    let entry = ctx.audit(AuditAction::Read, "one_time_link", None, None, AuditOutcome::Denied);
    let mut tx = store.begin().await?;
    count_failure(tx.as_mut(), &entry, &keys, counted, ctx.now, &ctx.throttle).await?;
    tx.commit().await?;
    Ok(())
}

/// What a right password leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStep {
    /// Signed in: the new session's secret (for the cookie).
    Session(String),
    /// The account uses two-step sign-in (issue 12 item 2): the secret of a half-done
    /// sign-in, which grants nothing and lives [`crate::mfa::CHALLENGE_LIFETIME`]; the
    /// code is checked by [`crate::mfa::complete_sign_in`].
    Code(String),
}

/// Signs a staff member in. On success returns the user and either the new session's
/// secret or, when the account uses two-step sign-in, a challenge for the code (no
/// session yet; counted failures are kept until the code is right); every judged attempt
/// is audited. Throttled (issue 12 item 3): after
/// the policy's free failures an account or address waits longer before each try, and
/// after more it is locked; an attempt that comes too soon is refused before the password
/// is checked ([`AppError::TooManyAttempts`]) and not audited one by one (the lock is).
pub async fn login(
    store: &dyn Store,
    ctx: &Ctx,
    policy: &kat_core::sign_in::SignInPolicy,
    username: &str,
    password: &str,
) -> AppResult<(User, SignInStep)> {
    use kat_core::sign_in::gate;
    let mut tx = store.begin_read().await?;
    let creds = match Username::parse(username) {
        Ok(name) => tx.credentials_by_username(&name).await?,
        Err(_) => None,
    };
    let keys = throttle_keys(creds.as_ref().map(|c| c.user.id), &ctx.remote_addr);
    let counted = tx.sign_in_failures(&keys).await?;
    tx.commit().await?;
    let counted_for = |k: &str| counted.iter().find(|(key, _)| key == k).map(|(_, f)| *f);
    if let Some(until) = keys.iter().filter_map(|k| gate(counted_for(k).as_ref(), ctx.now, policy).until()).max() {
        return Err(AppError::TooManyAttempts { until });
    }
    let usable = creds
        .as_ref()
        .filter(|c| c.user.active && c.user.kind == AccountKind::Staff)
        .and_then(|c| c.password_hash.clone());
    let ok = verify_password(password.to_owned(), usable.clone().unwrap_or_else(|| DUMMY_HASH.clone())).await
        && usable.is_some();
    let mut tx = store.begin().await?;
    match (ok, creds) {
        (true, Some(c)) if tx.mfa_of(c.user.id).await?.is_some_and(|m| m.enrolled_at.is_some()) => {
            let challenge = new_secret("kat_c_");
            tx.insert_sign_in_challenge(&hash_secret(&challenge), c.user.id, ctx.now).await?;
            let as_user = Ctx { actor: Actor::User(c.user.clone()), ..ctx.clone() };
            tx.append_audit(&as_user.audit(
                AuditAction::Login,
                "sign_in_challenge",
                Some(c.user.id.to_string()),
                None,
                AuditOutcome::Allowed,
            ))
            .await?;
            tx.commit().await?;
            Ok((c.user, SignInStep::Code(challenge)))
        }
        (true, Some(c)) => {
            let secret = new_secret("kat_s_");
            tx.insert_session(&SessionRecord {
                id_hash: hash_secret(&secret),
                user_id: c.user.id,
                created_at: ctx.now,
                last_seen_at: ctx.now,
                remote_addr: ctx.remote_addr.clone(),
            })
            .await?;
            for k in &keys {
                tx.clear_sign_in_failures(k).await?;
            }
            let as_user = Ctx { actor: Actor::User(c.user.clone()), ..ctx.clone() };
            tx.append_audit(&as_user.audit(
                AuditAction::Login,
                "session",
                Some(c.user.id.to_string()),
                None,
                AuditOutcome::Allowed,
            ))
            .await?;
            tx.commit().await?;
            Ok((c.user, SignInStep::Session(secret)))
        }
        (_, creds) => {
            let mut entry = ctx.audit(AuditAction::LoginFailed, "session", None, None, AuditOutcome::Denied);
            if let Some(c) = creds {
                entry.actor.user_id = Some(c.user.id);
                entry.actor.label = c.user.username.to_string();
            } else {
                // The typed name may be a patient's or a password: it is not recorded.
                entry.actor.label = "unknown user".into();
            }
            crate::append_denied(tx.as_mut(), ctx, &entry).await?;
            count_failure(tx.as_mut(), &entry, &keys, &counted, ctx.now, policy).await?;
            tx.commit().await?;
            Err(AppError::Unauthenticated)
        }
    }
}

/// How a request proved who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    Session { id_hash: String },
    Token { id: TokenId },
}

/// The result of looking at a request's credentials.
pub enum Resolved {
    User(User, Credential),
    /// A session existed but timed out; it has been removed.
    Expired,
    None,
}

/// Whether a check of a sign-in is the person's own doing (a request) or the screen's
/// (a live screen re-checking on its own): only the first keeps the sign-in alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Request,
    /// A live screen's re-check: it never counts as activity, so an open screen left
    /// alone ends its sign-in at the idle timeout (issue 12 item 9).
    Background,
}

/// Finds the user behind a session secret, ending the session when it has been idle
/// longer than `idle` or alive longer than `absolute`. A live session is only read; on a
/// request its last-seen time is written when it is [`LAST_SEEN_GRANULARITY`] old or
/// older.
pub async fn resolve_session(
    store: &dyn Store,
    ctx: &Ctx,
    secret: &str,
    idle: jiff::SignedDuration,
    absolute: jiff::SignedDuration,
    activity: Activity,
) -> AppResult<Resolved> {
    let id_hash = hash_secret(secret);
    let mut tx = store.begin_read().await?;
    let Some(session) = tx.session_by_hash(&id_hash).await? else {
        return Ok(Resolved::None);
    };
    let user = tx.user_by_id(session.user_id).await?;
    tx.commit().await?;
    let idle_expired = ctx.now.duration_since(session.last_seen_at) > idle;
    let too_old = ctx.now.duration_since(session.created_at) > absolute;
    match user {
        Some(user) if user.active && !idle_expired && !too_old => {
            if activity == Activity::Request && ctx.now.duration_since(session.last_seen_at) >= LAST_SEEN_GRANULARITY {
                // A session signed out meanwhile is touched nowhere (no row matches).
                let mut tx = store.begin().await?;
                tx.touch_session(&id_hash, ctx.now).await?;
                tx.commit().await?;
            }
            Ok(Resolved::User(user, Credential::Session { id_hash }))
        }
        user => {
            let mut tx = store.begin().await?;
            // Another request may have ended it meanwhile: its expiry is audited once.
            if tx.session_by_hash(&id_hash).await?.is_none() {
                return Ok(Resolved::None);
            }
            tx.delete_session(&id_hash).await?;
            let mut entry = ctx.audit(AuditAction::SessionExpired, "session", None, None, AuditOutcome::Allowed);
            if let Some(u) = user {
                entry.actor.user_id = Some(u.id);
                entry.actor.label = u.username.to_string();
            }
            tx.append_audit(&entry).await?;
            tx.commit().await?;
            Ok(Resolved::Expired)
        }
    }
}

/// Finds the user behind an API bearer token (not revoked, account active). Only reads,
/// but writes the token's last use when it is [`LAST_SEEN_GRANULARITY`] old or older.
pub async fn resolve_token(store: &dyn Store, now: Timestamp, token: &str) -> AppResult<Resolved> {
    let mut tx = store.begin_read().await?;
    let Some(record) = tx.token_by_hash(&hash_secret(token)).await? else {
        return Ok(Resolved::None);
    };
    if record.revoked_at.is_some() || record.expires_at.is_some_and(|end| now >= end) {
        return Ok(Resolved::None);
    }
    let Some(user) = tx.user_by_id(record.user_id).await?.filter(|u| u.active) else {
        return Ok(Resolved::None);
    };
    tx.commit().await?;
    if record.last_used_at.is_none_or(|at| now.duration_since(at) >= LAST_SEEN_GRANULARITY) {
        let mut tx = store.begin().await?;
        tx.touch_token(record.id, now).await?;
        tx.commit().await?;
    }
    Ok(Resolved::User(user, Credential::Token { id: record.id }))
}

pub async fn logout(store: &dyn Store, ctx: &Ctx, id_hash: &str) -> AppResult<()> {
    let mut tx = store.begin().await?;
    tx.delete_session(id_hash).await?;
    tx.append_audit(&ctx.audit(AuditAction::Logout, "session", None, None, AuditOutcome::Allowed)).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes sessions past either timeout (run now and then by the server).
pub async fn sweep_sessions(
    store: &dyn Store,
    now: Timestamp,
    idle: jiff::SignedDuration,
    absolute: jiff::SignedDuration,
) -> AppResult<u64> {
    let mut tx = store.begin().await?;
    let removed = tx.delete_stale_sessions(now - idle, now - absolute).await?;
    tx.commit().await?;
    Ok(removed)
}

/// How long an API token works unless the clinic says otherwise
/// (`security.token_lifetime_days`; issue 12 item 4).
pub const DEFAULT_TOKEN_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(90 * 24);

/// Creates an API token for `user` that works for [`DEFAULT_TOKEN_LIFETIME`]; returns
/// its record and the secret, which is shown once and never stored.
pub async fn create_token(
    store: &dyn Store,
    ctx: &Ctx,
    user: &User,
    label: &str,
) -> AppResult<(ApiTokenRecord, String)> {
    create_token_for(store, ctx, user, label, DEFAULT_TOKEN_LIFETIME).await
}

/// [`create_token`] with the clinic's token lifetime: the token stops working `lifetime`
/// after it is made.
pub async fn create_token_for(
    store: &dyn Store,
    ctx: &Ctx,
    user: &User,
    label: &str,
    lifetime: jiff::SignedDuration,
) -> AppResult<(ApiTokenRecord, String)> {
    super::require(store, ctx, kat_core::role::Permission::UserManage, "api_token", None, None, AuditAction::Create)
        .await?;
    let secret = new_secret("kat_t_");
    let record = ApiTokenRecord {
        id: TokenId::from_uuid(Uuid::now_v7()),
        user_id: user.id,
        label: label.trim().to_string(),
        token_hash: hash_secret(&secret),
        created_at: ctx.now,
        revoked_at: None,
        last_used_at: None,
        expires_at: Some(ctx.now + lifetime),
    };
    let mut tx = store.begin().await?;
    tx.insert_token(&record).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "api_token",
        Some(record.id.to_string()),
        None,
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok((record, secret))
}

pub async fn revoke_token(store: &dyn Store, ctx: &Ctx, id: TokenId) -> AppResult<()> {
    super::require(
        store,
        ctx,
        kat_core::role::Permission::UserManage,
        "api_token",
        Some(id.to_string()),
        None,
        AuditAction::Delete,
    )
    .await?;
    let mut tx = store.begin().await?;
    tx.revoke_token(id, ctx.now).await.map_err(|e| match e {
        kat_store::StoreError::NotFound => AppError::NotFound("API token"),
        other => other.into(),
    })?;
    tx.append_audit(&ctx.audit(AuditAction::Delete, "api_token", Some(id.to_string()), None, AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list_tokens(store: &dyn Store, ctx: &Ctx) -> AppResult<Vec<ApiTokenRecord>> {
    super::require(store, ctx, kat_core::role::Permission::UserManage, "api_token", None, None, AuditAction::List)
        .await?;
    let mut tx = store.begin_read().await?;
    Ok(tx.list_tokens().await?)
}

/// Lifts a sign-in lock on an account (admins): its failures are forgotten. Audited.
pub async fn unlock_account(store: &dyn Store, ctx: &Ctx, user: &User) -> AppResult<bool> {
    super::require(
        store,
        ctx,
        kat_core::role::Permission::UserManage,
        "sign_in_lock",
        Some(user.id.to_string()),
        None,
        AuditAction::Update,
    )
    .await?;
    let mut tx = store.begin().await?;
    let had = tx.clear_sign_in_failures(&format!("account:{}", user.id)).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "sign_in_lock",
        Some(user.id.to_string()),
        None,
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(had)
}

/// What a staff member types to change their own password.
pub struct PasswordChange<'a> {
    pub current_password: &'a str,
    pub new_password: &'a str,
    pub confirm_password: &'a str,
}

/// A signed-in staff member changes their own password, proving it is them by typing the
/// current one (issue 12 item 4). A wrong current password is a per-field error on
/// `current_password` and counts as a failed sign-in of the account and the address (the
/// same throttle as sign-in: after a few, a try too soon is refused with
/// [`AppError::TooManyAttempts`] before the password is checked, and enough of them lock
/// the account). The new password meets the account rules (`new_password`) and is typed
/// twice (`confirm_password`). On success the hash is replaced, an admin's reset flag is
/// cleared, every other session of the account ends (`keep_session`, the one in use,
/// continues) and the change is audited; a refused change is audited as denied.
pub async fn change_own_password(
    store: &dyn Store,
    ctx: &Ctx,
    policy: &kat_core::sign_in::SignInPolicy,
    keep_session: Option<&str>,
    input: &PasswordChange<'_>,
) -> AppResult<User> {
    use kat_core::sign_in::gate;
    let Actor::User(me) = &ctx.actor else { return Err(AppError::Unauthenticated) };
    if me.kind != AccountKind::Staff {
        return Err(AppError::Forbidden);
    }
    let mut tx = store.begin_read().await?;
    let creds = tx.credentials_by_username(&me.username).await?.filter(|c| c.user.id == me.id && c.user.active);
    let keys = throttle_keys(Some(me.id), &ctx.remote_addr);
    let counted = tx.sign_in_failures(&keys).await?;
    tx.commit().await?;
    let Some(creds) = creds else { return Err(AppError::Unauthenticated) };
    let counted_for = |k: &str| counted.iter().find(|(key, _)| key == k).map(|(_, f)| *f);
    if let Some(until) = keys.iter().filter_map(|k| gate(counted_for(k).as_ref(), ctx.now, policy).until()).max() {
        return Err(AppError::TooManyAttempts { until });
    }
    let current_ok = match creds.password_hash.clone() {
        Some(hash) => verify_password(input.current_password.to_owned(), hash).await,
        None => false,
    };
    let mut errors = FieldErrors::new();
    if !current_ok {
        errors.add("current_password", "is not your current password");
    }
    let context = PasswordContext { username: me.username.as_str(), display_name: &me.display_name };
    let new = errors.take("new_password", Password::parse(input.new_password, &context));
    if new.is_some() && input.new_password == input.current_password {
        errors.add("new_password", "must differ from the current password");
    }
    if input.confirm_password != input.new_password {
        errors.add("confirm_password", "does not match the new password");
    }
    if !errors.is_empty() {
        let mut tx = store.begin().await?;
        tx.append_audit(&ctx.audit(
            AuditAction::Update,
            "password",
            Some(me.id.to_string()),
            None,
            AuditOutcome::Denied,
        ))
        .await?;
        if !current_ok {
            // A wrong current password is a guess at it: counted like a failed sign-in.
            let entry = ctx.audit(AuditAction::LoginFailed, "session", None, None, AuditOutcome::Denied);
            tx.append_audit(&entry).await?;
            count_failure(tx.as_mut(), &entry, &keys, &counted, ctx.now, policy).await?;
        }
        tx.commit().await?;
        return Err(AppError::Invalid(errors));
    }
    let Some(new) = new else { return Err(AppError::Invalid(errors)) };
    let hash = hash_password(&new).await?;
    let mut tx = store.begin().await?;
    tx.set_password_hash(me.id, &hash, false).await?;
    tx.delete_sessions_of_user(me.id, keep_session).await?;
    // Proven by the current password, like a sign-in: the failures counted are forgotten.
    for k in &keys {
        tx.clear_sign_in_failures(k).await?;
    }
    tx.append_audit(&ctx.audit(AuditAction::Update, "password", Some(me.id.to_string()), None, AuditOutcome::Allowed))
        .await?;
    let updated = tx.user_by_id(me.id).await?.ok_or(AppError::NotFound("user"))?;
    tx.commit().await?;
    Ok(updated)
}
