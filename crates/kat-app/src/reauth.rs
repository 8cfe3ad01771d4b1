//! Confirming who is at the keyboard at a sensitive step (issue 12 item 2): a medical
//! director's override of a hard stop or a hard dose limit, breaking the glass, granting
//! or removing the medical-director flag, making new recovery codes. The signed-in
//! account proves itself again at that moment: with the code of its authenticator app
//! when it has two-step sign-in, with its password otherwise. Both are typed in
//! `reauth_code` (the one field a page shows); an API client may send the password in
//! `reauth_password` instead. A sign-in left open on a shared workstation is not enough.
//!
//! Two phases, so that no password is hashed inside a write transaction:
//! - [`precheck`], before the use case's transaction, judges what was typed. A wrong
//!   code or password is a failed attempt: audited (`login_failed` on `reauth`), counted
//!   like a failed sign-in of the account and the address (the sign-in throttle applies:
//!   a try too soon is refused with `TooManyAttempts` before it is judged), and answered
//!   with a per-field error. Nothing typed is not an attempt.
//! - [`Prechecked::settle`], inside the use case's transaction, where the use case knows
//!   that the step is really taken: a missing confirmation becomes a per-field error
//!   beside the others; a confirmation is used up there (an app code is accepted once:
//!   its step is recorded in the same transaction) and audited (`login` on `reauth`).
//!
//! Codes and passwords are never logged nor written to the audit log.

use super::auth::{count_failure, throttle_keys};
use super::{Actor, AppError, AppResult, Ctx};
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::{PatientId, UserId};
use kat_core::mfa::verify_code;
use kat_core::user::AccountKind;
use kat_store::{Store, Tx};

/// The field of the confirmation: the authenticator code, or the password of an
/// account without two-step sign-in.
pub const CODE_FIELD: &str = "reauth_code";
/// Where an API client may send the password instead (accounts without two-step
/// sign-in).
pub const PASSWORD_FIELD: &str = "reauth_password";

/// What was typed to confirm a step.
#[derive(Clone, Copy, Default)]
pub struct Reauth<'a> {
    pub code: &'a str,
    pub password: &'a str,
}

impl std::fmt::Debug for Reauth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reauth(<redacted>)")
    }
}

/// What [`precheck`] found: whom it is about, how they confirm, and whether they have.
#[derive(Debug, Clone)]
pub struct Prechecked {
    /// `None` for the command line (the server's operator, at the server).
    user: Option<UserId>,
    enrolled: bool,
    /// `Some` once confirmed: the app code's step to record (none for a password).
    confirmed: Option<Option<i64>>,
}

impl Prechecked {
    /// What the missing confirmation's error says.
    fn ask(&self, what: &str) -> String {
        let how = if self.enrolled {
            "the 6-digit code from your authenticator app"
        } else {
            "your password (you have no two-step sign-in)"
        };
        format!("confirm {what} with {how}")
    }

    /// Whether the account confirms with an app code (else with its password).
    pub fn uses_code(&self) -> bool {
        self.enrolled
    }

    /// Inside the use case's transaction, once it knows the sensitive step is taken
    /// (`what`: the step, in words, for the message): without a confirmation a per-field
    /// error is added to `errors`; with one, it is used up and audited.
    pub async fn settle(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        what: &str,
        patient: Option<PatientId>,
        errors: &mut FieldErrors,
    ) -> AppResult<()> {
        let Some(step) = self.confirmed else {
            errors.add(CODE_FIELD, self.ask(what));
            return Ok(());
        };
        let Some(user) = self.user else { return Ok(()) };
        if let Some(step) = step
            && !tx.advance_mfa_step(user, step).await?
        {
            errors.add(CODE_FIELD, "this code was just used; wait for the next one");
            return Ok(());
        }
        for k in throttle_keys(Some(user), &ctx.remote_addr) {
            tx.clear_sign_in_failures(&k).await?;
        }
        tx.append_audit(&ctx.audit(
            AuditAction::Login,
            "reauth",
            Some(user.to_string()),
            patient,
            AuditOutcome::Allowed,
        ))
        .await?;
        Ok(())
    }
}

impl Prechecked {
    /// [`Prechecked::settle`] for a step taken for sure: refused with the error, if any.
    pub async fn settle_now(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        what: &str,
        patient: Option<PatientId>,
    ) -> AppResult<()> {
        let mut errors = FieldErrors::new();
        self.settle(tx, ctx, what, patient, &mut errors).await?;
        if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
    }
}

/// Judges what the signed-in staff member typed to confirm a step, before the use case's
/// transaction (see the module). `Unauthenticated` without a signed-in staff account;
/// the command line (the operator at the server) needs no confirmation.
pub async fn precheck(store: &dyn Store, ctx: &Ctx, typed: Reauth<'_>) -> AppResult<Prechecked> {
    use kat_core::sign_in::gate;
    let me = match &ctx.actor {
        Actor::Cli => return Ok(Prechecked { user: None, enrolled: false, confirmed: Some(None) }),
        Actor::User(u) if u.kind == AccountKind::Staff && u.active => u.clone(),
        Actor::User(_) => return Err(AppError::Forbidden),
        _ => return Err(AppError::Unauthenticated),
    };
    let code = typed.code.trim();
    // Without two-step sign-in the password is typed in the code field, or sent apart.
    let (password, password_field) =
        if typed.password.is_empty() { (typed.code, CODE_FIELD) } else { (typed.password, PASSWORD_FIELD) };
    let mut tx = store.begin_read().await?;
    let mfa = tx.mfa_of(me.id).await?.filter(|m| m.enrolled_at.is_some());
    let enrolled = mfa.is_some();
    let attempted = if enrolled { !code.is_empty() } else { !password.is_empty() };
    if !attempted {
        tx.commit().await?;
        return Ok(Prechecked { user: Some(me.id), enrolled, confirmed: None });
    }
    let keys = throttle_keys(Some(me.id), &ctx.remote_addr);
    let counted = tx.sign_in_failures(&keys).await?;
    let hash = if enrolled {
        None
    } else {
        tx.credentials_by_username(&me.username).await?.filter(|c| c.user.id == me.id).and_then(|c| c.password_hash)
    };
    tx.commit().await?;
    let counted_for = |k: &str| counted.iter().find(|(key, _)| key == k).map(|(_, f)| *f);
    if let Some(until) = keys.iter().filter_map(|k| gate(counted_for(k).as_ref(), ctx.now, &ctx.throttle).until()).max()
    {
        return Err(AppError::TooManyAttempts { until });
    }
    let judged: Result<Option<i64>, (&'static str, String)> = match &mfa {
        Some(m) => verify_code(&m.secret, code, ctx.now, m.last_used_step)
            .map(Some)
            .map_err(|refused| (CODE_FIELD, refused.to_string())),
        None => {
            let right = match hash {
                Some(h) => super::auth::verify_password(password.to_owned(), h).await,
                None => false,
            };
            if right { Ok(None) } else { Err((password_field, "is not your password".to_string())) }
        }
    };
    match judged {
        Ok(step) => Ok(Prechecked { user: Some(me.id), enrolled, confirmed: Some(step) }),
        Err((field, message)) => {
            let entry =
                ctx.audit(AuditAction::LoginFailed, "reauth", Some(me.id.to_string()), None, AuditOutcome::Denied);
            let mut tx = store.begin().await?;
            tx.append_audit(&entry).await?;
            count_failure(tx.as_mut(), &entry, &keys, &counted, ctx.now, &ctx.throttle).await?;
            tx.commit().await?;
            Err(AppError::Invalid(FieldErrors::single(field, message)))
        }
    }
}

/// Both phases at once, for a use case whose every call is the sensitive step (breaking
/// the glass, the medical-director flag, new recovery codes): refused with the per-field
/// error unless confirmed. With `code_only`, an account without two-step sign-in is
/// refused (it must set it up first): its password is not enough for this step.
/// Returns what to [`Prechecked::settle`] inside the transaction.
pub async fn require_confirmed(
    store: &dyn Store,
    ctx: &Ctx,
    typed: Reauth<'_>,
    what: &str,
    code_only: bool,
) -> AppResult<Prechecked> {
    let pre = precheck(store, ctx, typed).await?;
    if code_only && pre.user.is_some() && !pre.enrolled {
        return Err(AppError::Invalid(FieldErrors::single(
            CODE_FIELD,
            format!("{what} needs two-step sign-in: set it up first (Two-step sign-in, in the header)"),
        )));
    }
    if pre.confirmed.is_none() {
        return Err(AppError::Invalid(FieldErrors::single(CODE_FIELD, pre.ask(what))));
    }
    Ok(pre)
}
