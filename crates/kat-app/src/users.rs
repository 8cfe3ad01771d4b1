//! Staff accounts and API clients.

use super::auth::hash_password;
use super::{AppError, AppResult, Ctx, require};
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::ids::UserId;
use kat_core::role::{Permission, Role};
use kat_core::user::{AccountKind, Password, PasswordContext, User, Username};
use kat_store::{NewUser, Store, constraints};
use uuid::Uuid;

/// A new account as typed into a form or the command line.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub kind: AccountKind,
    /// Required for staff; ignored for API clients, which only hold tokens.
    pub password: Option<&'a str>,
}

pub async fn create(store: &dyn Store, ctx: &Ctx, input: &NewAccount<'_>) -> AppResult<User> {
    require(store, ctx, Permission::UserManage, "user", None, None, AuditAction::Create).await?;
    let mut errors = FieldErrors::new();
    let username = errors.take("username", Username::parse(input.username));
    let role = errors.take("role", input.role.parse::<Role>());
    let display_name = input.display_name.trim();
    if display_name.chars().count() > 100 {
        errors.add("display_name", "must be at most 100 characters");
    }
    let password = match input.kind {
        AccountKind::Staff => match input.password {
            Some(p) => errors.take(
                "password",
                Password::parse(p, &PasswordContext { username: input.username.trim(), display_name }),
            ),
            None => {
                errors.add("password", "is required");
                None
            }
        },
        AccountKind::ApiClient => None,
    };
    let (Some(username), Some(role)) = (username, role) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let password_hash = match &password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let user = NewUser {
        id: UserId::from_uuid(Uuid::now_v7()),
        display_name: if display_name.is_empty() { username.to_string() } else { display_name.to_string() },
        username,
        role,
        kind: input.kind,
        password_hash,
        created_at: ctx.now,
    };
    let mut tx = store.begin().await?;
    let created = tx.insert_user(&user).await.map_err(|e| {
        if e.is_conflict_on(constraints::USERS_USERNAME_UNIQUE) {
            AppError::Invalid(FieldErrors::single("username", "is already taken"))
        } else {
            e.into()
        }
    })?;
    tx.append_audit(&ctx.audit(AuditAction::Create, "user", Some(created.id.to_string()), None, AuditOutcome::Allowed))
        .await?;
    tx.commit().await?;
    Ok(created)
}

/// An admin sets a temporary password for a staff account (issue 12 item 4): the account
/// must choose its own at its next sign-in and reaches nothing else until it has, and
/// every session it has now ends. The password meets the same rules as any other
/// (`password` is the field named when it does not). Audited as an update of the
/// account's `password`.
pub async fn reset_password(store: &dyn Store, ctx: &Ctx, id: UserId, password: &str) -> AppResult<User> {
    require(store, ctx, Permission::UserManage, "password", Some(id.to_string()), None, AuditAction::Update).await?;
    let mut tx = store.begin_read().await?;
    let user = tx.user_by_id(id).await?.ok_or(AppError::NotFound("user"))?;
    tx.commit().await?;
    if user.kind != AccountKind::Staff {
        return Err(AppError::Conflict("an API client has no password; it signs in with tokens only".into()));
    }
    let context = PasswordContext { username: user.username.as_str(), display_name: &user.display_name };
    let password = Password::parse(password, &context)
        .map_err(|e| AppError::Invalid(FieldErrors::single("password", e.to_string())))?;
    let hash = hash_password(&password).await?;
    let mut tx = store.begin().await?;
    tx.set_password_hash(id, &hash, true).await?;
    tx.delete_sessions_of_user(id, None).await?;
    tx.append_audit(&ctx.audit(AuditAction::Update, "password", Some(id.to_string()), None, AuditOutcome::Allowed))
        .await?;
    let updated = tx.user_by_id(id).await?.ok_or(AppError::NotFound("user"))?;
    tx.commit().await?;
    Ok(updated)
}

pub async fn list(store: &dyn Store, ctx: &Ctx) -> AppResult<Vec<User>> {
    require(store, ctx, Permission::UserManage, "user", None, None, AuditAction::List).await?;
    let mut tx = store.begin_read().await?;
    Ok(tx.list_users().await?)
}

pub async fn find(store: &dyn Store, username: &str) -> AppResult<Option<User>> {
    let Ok(name) = Username::parse(username) else { return Ok(None) };
    let mut tx = store.begin_read().await?;
    Ok(tx.credentials_by_username(&name).await?.map(|c| c.user))
}

/// Enables or disables an account. The last active admin cannot be disabled, or nobody
/// could manage the clinic any more.
pub async fn set_active(store: &dyn Store, ctx: &Ctx, id: UserId, active: bool) -> AppResult<User> {
    require(store, ctx, Permission::UserManage, "user", Some(id.to_string()), None, AuditAction::Update).await?;
    let mut tx = store.begin().await?;
    let user = tx.user_by_id(id).await?.ok_or(AppError::NotFound("user"))?;
    if !active
        && user.role == Role::Admin
        && user.kind == AccountKind::Staff
        && user.active
        && tx.count_active_admins().await? <= 1
    {
        return Err(AppError::Conflict("the last active admin cannot be disabled".into()));
    }
    tx.set_user_active(id, active).await?;
    if !active {
        // Disabling ends the account's API tokens for good: enabling it again later
        // revives none of them (issue 12 item 4).
        tx.revoke_tokens_of_user(id, ctx.now).await?;
    }
    tx.append_audit(&ctx.audit(AuditAction::Update, "user", Some(id.to_string()), None, AuditOutcome::Allowed)).await?;
    let updated = tx.user_by_id(id).await?.ok_or(AppError::NotFound("user"))?;
    tx.commit().await?;
    Ok(updated)
}

pub async fn count_active_admins(store: &dyn Store) -> AppResult<i64> {
    let mut tx = store.begin_read().await?;
    Ok(tx.count_active_admins().await?)
}
