//! Two-step sign-in (issue 12 item 2): enrolling an authenticator app, the code after
//! the password, recovery codes, and an admin's reset. The rules (codes, windows, reuse,
//! recovery-code form) are `kat_core::mfa`'s; which roles must enrol is the clinic's
//! [`MfaPolicy`](kat_core::mfa::MfaPolicy). Every use case is one transaction and
//! audited; secrets and codes are never logged nor written to the audit log.

use super::auth::{count_failure, hash_secret, new_secret, throttle_keys};
use super::{Actor, AppError, AppResult, Ctx};
use jiff::{SignedDuration, Timestamp};
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::UserId;
use kat_core::mfa::{
    CodeRefused, RECOVERY_CODE_COUNT, SECRET_BYTES, TotpSecret, hash_recovery_code, normalize_recovery_code, qr_svg,
    recovery_code_from_random, verify_code,
};
use kat_core::sign_in::SignInPolicy;
use kat_core::user::{AccountKind, User};
use kat_store::{SessionRecord, Store};

/// How long the half-done sign-in between the password and the code lasts.
pub const CHALLENGE_LIFETIME: SignedDuration = SignedDuration::from_mins(5);

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaStatus {
    /// A confirmed enrolment: the code is asked at sign-in.
    pub enrolled: bool,
    /// Recovery codes not used yet.
    pub unused_recovery_codes: i64,
}

/// Whether `user` has confirmed an enrolment (read only, not audited: the middleware asks
/// it for accounts whose role must enrol).
pub async fn is_enrolled(store: &dyn Store, user: UserId) -> AppResult<bool> {
    let mut tx = store.begin_read().await?;
    let enrolled = tx.mfa_of(user).await?.is_some_and(|m| m.enrolled_at.is_some());
    tx.commit().await?;
    Ok(enrolled)
}

fn signed_in_staff(ctx: &Ctx) -> AppResult<&User> {
    match &ctx.actor {
        Actor::User(u) if u.kind == AccountKind::Staff => Ok(u),
        Actor::User(_) => Err(AppError::Forbidden),
        _ => Err(AppError::Unauthenticated),
    }
}

/// The signed-in staff member's own status.
pub async fn own_status(store: &dyn Store, ctx: &Ctx) -> AppResult<MfaStatus> {
    let me = signed_in_staff(ctx)?;
    let mut tx = store.begin_read().await?;
    let enrolled = tx.mfa_of(me.id).await?.is_some_and(|m| m.enrolled_at.is_some());
    let unused = if enrolled { tx.unused_recovery_codes(me.id).await? } else { 0 };
    tx.commit().await?;
    Ok(MfaStatus { enrolled, unused_recovery_codes: unused })
}

/// What the enrolment page shows: the secret as text (for typing into an app) and as a
/// QR code of its `otpauth://` URI.
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
    /// Inline SVG markup (no script, no style attribute).
    pub qr_svg: String,
}

/// Starts the signed-in staff member's enrolment, or shows the one already pending (so
/// reloading the page does not change the secret): a new random secret, not asked at
/// sign-in until [`confirm_enrolment`]. `Conflict` when already enrolled (an admin's
/// reset comes first). Audited when a secret is made (`create` on `mfa`).
pub async fn begin_enrolment(store: &dyn Store, ctx: &Ctx, issuer: &str) -> AppResult<Enrolment> {
    let me = signed_in_staff(ctx)?;
    let mut tx = store.begin().await?;
    let secret = match tx.mfa_of(me.id).await? {
        Some(m) if m.enrolled_at.is_some() => {
            return Err(AppError::Conflict("two-step sign-in is already set up for this account".into()));
        }
        Some(pending) => pending.secret,
        None => {
            let mut bytes = [0u8; SECRET_BYTES];
            rand::fill(&mut bytes);
            let secret = TotpSecret::from_random(bytes);
            tx.begin_mfa(me.id, &secret, ctx.now).await?;
            tx.append_audit(&ctx.audit(
                AuditAction::Create,
                "mfa",
                Some(me.id.to_string()),
                None,
                AuditOutcome::Allowed,
            ))
            .await?;
            secret
        }
    };
    tx.commit().await?;
    let otpauth_uri = secret.otpauth_uri(issuer, me.username.as_str());
    let qr = qr_svg(&otpauth_uri).ok_or_else(|| AppError::Internal("QR code could not be drawn".into()))?;
    Ok(Enrolment { secret_base32: secret.to_base32(), otpauth_uri, qr_svg: qr })
}

fn code_error(refused: CodeRefused) -> FieldErrors {
    FieldErrors::single("code", refused.to_string())
}

fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::fill(&mut bytes);
            recovery_code_from_random(bytes)
        })
        .collect();
    let hashes = codes.iter().map(|c| hash_recovery_code(c)).collect();
    (codes, hashes)
}

/// Confirms the pending enrolment with a first code from the app: from now on the code is
/// asked at sign-in. Returns the recovery codes, shown once (only their hashes are kept).
/// A wrong code is a per-field error on `code`, audited as a denied `update` on `mfa`.
pub async fn confirm_enrolment(store: &dyn Store, ctx: &Ctx, code: &str) -> AppResult<Vec<String>> {
    let me = signed_in_staff(ctx)?;
    let mut tx = store.begin().await?;
    let pending = match tx.mfa_of(me.id).await? {
        Some(m) if m.enrolled_at.is_none() => m,
        Some(_) => return Err(AppError::Conflict("two-step sign-in is already set up for this account".into())),
        None => return Err(AppError::NotFound("enrolment")),
    };
    let step = match verify_code(&pending.secret, code, ctx.now, None) {
        Ok(step) => step,
        Err(refused) => {
            tx.append_audit(&ctx.audit(
                AuditAction::Update,
                "mfa",
                Some(me.id.to_string()),
                None,
                AuditOutcome::Denied,
            ))
            .await?;
            tx.commit().await?;
            return Err(AppError::Invalid(code_error(refused)));
        }
    };
    let (codes, hashes) = new_recovery_codes();
    tx.confirm_mfa(me.id, ctx.now, step, &hashes).await?;
    tx.append_audit(&ctx.audit(AuditAction::Update, "mfa", Some(me.id.to_string()), None, AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Makes a new set of recovery codes for the signed-in staff member (the old ones, used
/// or not, stop working), confirmed with a current code from the app (issue 12 item 2;
/// see [`crate::reauth`]). Returns the codes, shown once. `Conflict` without a confirmed
/// enrolment. Audited (`update` on `mfa_recovery_code`).
pub async fn regenerate_recovery_codes(store: &dyn Store, ctx: &Ctx, code: &str) -> AppResult<Vec<String>> {
    let me = signed_in_staff(ctx)?;
    if !is_enrolled(store, me.id).await? {
        return Err(AppError::Conflict("two-step sign-in is not set up for this account".into()));
    }
    let what = "new recovery codes";
    let confirmed =
        crate::reauth::require_confirmed(store, ctx, crate::reauth::Reauth { code, password: "" }, what, true).await?;
    let (codes, hashes) = new_recovery_codes();
    let mut tx = store.begin().await?;
    confirmed.settle_now(tx.as_mut(), ctx, what, None).await?;
    tx.replace_recovery_codes(me.id, &hashes).await?;
    tx.append_audit(&ctx.audit(
        AuditAction::Update,
        "mfa_recovery_code",
        Some(me.id.to_string()),
        None,
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Whether a typed answer is a recovery code rather than an app's 6 digits.
fn looks_like_recovery_code(typed: &str) -> bool {
    normalize_recovery_code(typed).len() == 10
}

/// The second step of a sign-in: the code from the app (or one of the recovery codes) for
/// the half-done sign-in `challenge`. On success the challenge ends and a session begins
/// (its secret is returned, as by [`crate::auth::login`]); counted failures are forgotten.
/// A challenge unknown or older than [`CHALLENGE_LIFETIME`] is `Unauthenticated` (sign in
/// again). A wrong, malformed or reused code is a per-field error on `code` and counts as
/// a failed sign-in of the account and the address (the sign-in throttle: a try too soon
/// is refused with `TooManyAttempts` before the code is checked). Audited: the sign-in
/// (`login` on `session`), a failure (`login_failed`), a recovery code used (`update` on
/// `mfa_recovery_code`).
pub async fn complete_sign_in(
    store: &dyn Store,
    ctx: &Ctx,
    policy: &SignInPolicy,
    challenge: &str,
    code: &str,
) -> AppResult<(User, String)> {
    use kat_core::sign_in::gate;
    let challenge_hash = hash_secret(challenge);
    let mut tx = store.begin_read().await?;
    let Some((user_id, started)) = tx.sign_in_challenge(&challenge_hash).await? else {
        return Err(AppError::Unauthenticated);
    };
    let user = tx.user_by_id(user_id).await?.filter(|u| u.active && u.kind == AccountKind::Staff);
    let keys = throttle_keys(Some(user_id), &ctx.remote_addr);
    let counted = tx.sign_in_failures(&keys).await?;
    tx.commit().await?;
    let Some(user) = user.filter(|_| ctx.now.duration_since(started) <= CHALLENGE_LIFETIME) else {
        let mut tx = store.begin().await?;
        tx.delete_sign_in_challenge(&challenge_hash).await?;
        tx.commit().await?;
        return Err(AppError::Unauthenticated);
    };
    let counted_for = |k: &str| counted.iter().find(|(key, _)| key == k).map(|(_, f)| *f);
    if let Some(until) = keys.iter().filter_map(|k| gate(counted_for(k).as_ref(), ctx.now, policy).until()).max() {
        return Err(AppError::TooManyAttempts { until });
    }
    let as_user = Ctx { actor: Actor::User(user.clone()), ..ctx.clone() };
    let mut tx = store.begin().await?;
    let Some(mfa) = tx.mfa_of(user.id).await?.filter(|m| m.enrolled_at.is_some()) else {
        // Reset by an admin meanwhile: the password alone was right, but sign in again.
        tx.delete_sign_in_challenge(&challenge_hash).await?;
        tx.commit().await?;
        return Err(AppError::Unauthenticated);
    };
    let outcome: Result<bool, CodeRefused> = if looks_like_recovery_code(code) {
        if tx.use_recovery_code(user.id, &hash_recovery_code(code), ctx.now).await? {
            Ok(true)
        } else {
            Err(CodeRefused::Wrong)
        }
    } else {
        match verify_code(&mfa.secret, code, ctx.now, mfa.last_used_step) {
            // A code used by a concurrent sign-in meanwhile is refused here.
            Ok(step) if tx.advance_mfa_step(user.id, step).await? => Ok(false),
            Ok(_) => Err(CodeRefused::Reused),
            Err(e) => Err(e),
        }
    };
    match outcome {
        Ok(recovery) => {
            if !tx.delete_sign_in_challenge(&challenge_hash).await? {
                return Err(AppError::Unauthenticated);
            }
            if recovery {
                tx.append_audit(&as_user.audit(
                    AuditAction::Update,
                    "mfa_recovery_code",
                    Some(user.id.to_string()),
                    None,
                    AuditOutcome::Allowed,
                ))
                .await?;
            }
            let secret = new_secret("kat_s_");
            tx.insert_session(&SessionRecord {
                id_hash: hash_secret(&secret),
                user_id: user.id,
                created_at: ctx.now,
                last_seen_at: ctx.now,
                remote_addr: ctx.remote_addr.clone(),
            })
            .await?;
            for k in &keys {
                tx.clear_sign_in_failures(k).await?;
            }
            tx.append_audit(&as_user.audit(
                AuditAction::Login,
                "session",
                Some(user.id.to_string()),
                None,
                AuditOutcome::Allowed,
            ))
            .await?;
            tx.commit().await?;
            Ok((user, secret))
        }
        Err(refused) => {
            let mut entry = ctx.audit(AuditAction::LoginFailed, "session", None, None, AuditOutcome::Denied);
            entry.actor.user_id = Some(user.id);
            entry.actor.label = user.username.to_string();
            tx.append_audit(&entry).await?;
            count_failure(tx.as_mut(), &entry, &keys, &counted, ctx.now, policy).await?;
            tx.commit().await?;
            let refused = if looks_like_recovery_code(code) {
                FieldErrors::single("code", "is not one of your unused recovery codes")
            } else {
                code_error(refused)
            };
            Err(AppError::Invalid(refused))
        }
    }
}

/// An admin turns off another account's two-step sign-in (a lost phone): its secret and
/// recovery codes are removed and its sessions and half-done sign-ins end; at the next
/// sign-in it enrols again if its role must. Audited (`delete` on `mfa`); whether there
/// was an enrolment.
pub async fn reset(store: &dyn Store, ctx: &Ctx, user: UserId) -> AppResult<bool> {
    super::require(
        store,
        ctx,
        kat_core::role::Permission::UserManage,
        "mfa",
        Some(user.to_string()),
        None,
        AuditAction::Delete,
    )
    .await?;
    let mut tx = store.begin().await?;
    let user = tx.user_by_id(user).await?.ok_or(AppError::NotFound("user"))?;
    let had = tx.delete_mfa(user.id).await?;
    tx.delete_sessions_of_user(user.id, None).await?;
    tx.delete_stale_sign_in_challenges(ctx.now, Some(user.id)).await?;
    tx.append_audit(&ctx.audit(AuditAction::Delete, "mfa", Some(user.id.to_string()), None, AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(had)
}

/// Removes half-done sign-ins older than [`CHALLENGE_LIFETIME`] (run with the session
/// sweep).
pub async fn sweep_challenges(store: &dyn Store, now: Timestamp) -> AppResult<u64> {
    let mut tx = store.begin().await?;
    let removed = tx.delete_stale_sign_in_challenges(now - CHALLENGE_LIFETIME, None).await?;
    tx.commit().await?;
    Ok(removed)
}

/// Enrols an account with a given secret and recovery codes at once, without the app
/// step (the demo clinic's published secret, test harnesses). Not for production use:
/// a secret anyone knows protects nothing. Audited like a confirmed enrolment.
pub async fn enrol_with_known_secret(
    store: &dyn Store,
    ctx: &Ctx,
    user: UserId,
    secret: &TotpSecret,
    recovery_codes: &[String],
) -> AppResult<()> {
    let hashes: Vec<String> = recovery_codes.iter().map(|c| hash_recovery_code(c)).collect();
    let mut tx = store.begin().await?;
    tx.begin_mfa(user, secret, ctx.now).await?;
    // Step 0: any current code is later, so the first sign-in's code is accepted.
    tx.confirm_mfa(user, ctx.now, 0, &hashes).await?;
    tx.append_audit(&ctx.audit(AuditAction::Update, "mfa", Some(user.to_string()), None, AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(())
}
