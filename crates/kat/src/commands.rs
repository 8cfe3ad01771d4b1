//! The operator commands: `serve`, `demo`, `user`, `token`, `audit`, `backup`, `restore`,
//! `config print`.

use crate::demo;
use crate::server::serve_until_signal;
use crate::settings::Settings;
use crate::storage::{self, Create, Location};
use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use kat_app::{AppError, Ctx, auth, users};
use kat_core::ids::TokenId;
use kat_core::user::AccountKind;
use kat_store::Store;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn app_err(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(fields) => anyhow::anyhow!("{fields}"),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn cli_ctx(settings: &Settings) -> Result<Ctx> {
    let web = settings.web_config(false)?;
    Ok(Ctx::cli(Timestamp::now(), &web.time_zone))
}

pub async fn serve(settings: &Settings, init: bool, allow_missing_audit_guards: bool) -> Result<()> {
    let web = settings.web_config(false)?;
    let tls = settings.tls_config()?;
    let location = Location::from_settings(settings)?;
    let store = storage::open_with(&location, Create::WhenSafe { init }, settings.durability()?).await?;
    eprintln!("kat {}: {}", env!("CARGO_PKG_VERSION"), location.describe());
    check_audit_guards(store.as_ref(), settings, allow_missing_audit_guards).await?;
    if users::count_active_admins(store.as_ref()).await.map_err(app_err)? == 0 {
        eprintln!(
            "\nNo admin account exists yet. Create one (the password is read from standard input):\n\
             \n    printf '%s\\n' 'a-long-passphrase' | kat user add YOURNAME --role admin{}\n",
            flags_hint(settings)
        );
    }
    serve_until_signal(&settings.bind, tls, store, web).await
}

/// Refuses to serve when a trigger keeping the audit log append-only is missing (issue
/// 12 item 5), unless the recovery flag is given; a start with the flag is logged and
/// audited.
async fn check_audit_guards(store: &dyn Store, settings: &Settings, allow: bool) -> Result<()> {
    let missing = store.missing_append_only_guards().await?;
    if missing.is_empty() {
        return Ok(());
    }
    if !allow {
        bail!(
            "the audit log is not protected: the database lacks the trigger(s) {} that keep it append-only. \
             Restore them (re-create the database from a backup, or run the migration's statements by hand), \
             check the log with `kat audit verify`, or start with --allow-missing-audit-guards to recover",
            missing.join(", ")
        );
    }
    tracing::warn!(missing = %missing.join(", "), "serving without the audit log's append-only triggers (--allow-missing-audit-guards)");
    eprintln!("WARNING: serving without the audit log's append-only trigger(s) {}", missing.join(", "));
    let ctx = cli_ctx(settings).await?;
    let mut tx = store.begin().await?;
    tx.append_audit(&ctx.audit(
        kat_core::audit::AuditAction::Update,
        "audit_guards_overridden",
        Some(missing.join(",")),
        None,
        kat_core::audit::AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Walks the audit log's hash chain; an error (exit 1) names the first broken link.
pub async fn audit_verify(settings: &Settings) -> Result<()> {
    let store = storage::open(&Location::from_settings(settings)?, Create::Never).await?;
    let ctx = cli_ctx(settings).await?;
    let verdict = verify_audit_chain(store.as_ref(), &ctx).await;
    store.close().await;
    println!("{}", verdict?);
    Ok(())
}

/// The walk of `kat audit verify` ([`kat_app::audit_log::verify_chain`], itself audited)
/// on an open store: the line that says the log is intact, or an error naming the first
/// broken link. `kat restore` runs it on the copy it restores.
async fn verify_audit_chain(store: &dyn Store, ctx: &Ctx) -> Result<String> {
    let report = kat_app::audit_log::verify_chain(store, ctx).await.map_err(app_err)?;
    let head = match &report.head {
        Some((seq, hash)) => format!("head: entry {seq}, {hash}"),
        None => "no chained entry yet".into(),
    };
    match report.broken {
        None => Ok(format!(
            "audit log intact: {} entries ({} from before the chain, folded in); {head}",
            report.entries, report.legacy
        )),
        Some(b) => bail!("audit log broken: {b} ({} entries checked before it)", report.entries),
    }
}

/// Walks the controlled-substance ledger ([`kat_app::ledger::verify`], itself audited):
/// prints that it is whole, or fails (exit 1) naming the first broken link or
/// inconsistent entry.
pub async fn ledger_verify(settings: &Settings) -> Result<()> {
    let store = storage::open(&Location::from_settings(settings)?, Create::Never).await?;
    let ctx = cli_ctx(settings).await?;
    let report = kat_app::ledger::verify(store.as_ref(), &ctx).await.map_err(app_err);
    store.close().await;
    let report = report?;
    let head = match &report.head {
        Some((seq, hash)) => format!("head: entry {seq}, {hash}"),
        None => "no entry yet".into(),
    };
    match report.broken {
        None => {
            println!(
                "ledger intact: {} entries, {} containers' balances recomputed; {head}",
                report.entries, report.containers
            );
            Ok(())
        }
        Some(b) => bail!("ledger broken: {b} ({} entries checked before it)", report.entries),
    }
}

/// Prints the chain's head: `SEQ HASH`, to be kept somewhere the database's owner
/// cannot rewrite.
pub async fn audit_head(settings: &Settings) -> Result<()> {
    let store = storage::open(&Location::from_settings(settings)?, Create::Never).await?;
    let ctx = cli_ctx(settings).await?;
    let head = kat_app::audit_log::chain_head(store.as_ref(), &ctx).await.map_err(app_err)?;
    store.close().await;
    match head {
        Some((seq, hash)) => println!("{seq} {hash}"),
        None => println!("0 {}", kat_core::audit_chain::GENESIS),
    }
    Ok(())
}

fn flags_hint(settings: &Settings) -> String {
    let mut hint = String::new();
    if !settings.database_url.is_empty() {
        hint.push_str(" --database-url …");
    } else if settings.data_dir != Path::new(crate::settings::DEFAULT_DATA_DIR) {
        hint.push_str(&format!(" --data-dir {}", settings.data_dir.display()));
    }
    hint
}

/// Removes a SQLite database and its WAL files.
fn remove_sqlite(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let p = db.with_file_name(format!("{}{suffix}", db.file_name().and_then(|n| n.to_str()).unwrap_or("kat.db")));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
}

/// Starts the demo clinic: fresh synthetic data at every start, logins printed.
pub async fn demo(settings: &Settings) -> Result<()> {
    let mut web = settings.web_config(true)?;
    // The demo asks no one for two-step sign-in, so it can be tried without a phone;
    // anyone may still set it up from "Two-step sign-in" in the header.
    web.mfa = kat_core::mfa::MfaPolicy::none_required();
    let tls = settings.tls_config()?;
    let location = Location::from_settings(settings)?;
    let store: Arc<dyn Store> = match &location {
        Location::Sqlite(db) => {
            if db.exists() {
                let existing = storage::open(&location, Create::Never).await?;
                let ok = demo::is_demo(existing.as_ref()).await? || demo::is_empty(existing.as_ref()).await?;
                existing.close().await;
                if !ok {
                    bail!("{} is a real clinic's database, not a demo; refusing to reset it", db.display());
                }
                remove_sqlite(db)?;
            }
            storage::open(&location, Create::WhenSafe { init: true }).await?
        }
        Location::Postgres(_) => storage::open(&location, Create::Never).await?,
    };
    if demo::is_empty(store.as_ref()).await? {
        demo::seed(store.as_ref(), Timestamp::now(), &web.time_zone).await?;
    } else if !demo::is_demo(store.as_ref()).await? {
        bail!("{} holds a real clinic, not a demo; refusing to add demo data", location.describe());
    }
    eprintln!("\nkat demo clinic ({}) with synthetic patients.", location.describe());
    eprintln!("Open {}://{} and sign in with one of:\n", if tls.is_some() { "https" } else { "http" }, settings.bind);
    eprintln!("    {:<12} {:<14} password", "username", "role");
    for (user, role, _, password) in demo::DEMO_ACCOUNTS {
        eprintln!("    {user:<12} {role:<14} {password}");
    }
    eprintln!("\nTwo-step sign-in is optional in the demo (a real clinic requires it of admins and prescribers).");
    eprintln!("The demo data is reset at every start. Stop with Ctrl-C.\n");
    serve_until_signal(&settings.bind, tls, store, web).await
}

/// Reads one line (the password) from standard input.
pub fn read_password_line(input: &mut dyn BufRead) -> Result<String> {
    let mut line = String::new();
    input.read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("no password on standard input; pipe it in, for example: printf '%s\\n' 'passphrase' | kat user add …");
    }
    Ok(password)
}

async fn open_existing(settings: &Settings) -> Result<Arc<dyn Store>> {
    let location = Location::from_settings(settings)?;
    // Account commands may create the database of a brand-new clinic (the first admin
    // is made before the first start), with the same typo guard as `serve`.
    storage::open(&location, Create::WhenSafe { init: false }).await
}

/// The new password of an account for `kat user add` and `kat user reset-password`: on
/// a terminal it is asked for twice without echo; otherwise (a pipe, a script) it is the
/// first line of standard input, as before.
pub fn read_new_password(name: &str) -> Result<String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return read_password_line(&mut std::io::stdin().lock());
    }
    let first = rpassword::prompt_password(format!("New password for {name}: ")).context("reading the password")?;
    if first.is_empty() {
        bail!("no password given");
    }
    let again = rpassword::prompt_password("The same password again: ").context("reading the password")?;
    if again != first {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

/// `kat user add` with the password read from `input` (one line).
pub async fn user_add(
    settings: &Settings,
    name: &str,
    role: &str,
    display_name: Option<&str>,
    input: &mut dyn BufRead,
) -> Result<()> {
    let password = read_password_line(input)?;
    user_add_with_password(settings, name, role, display_name, &password).await
}

pub async fn user_add_with_password(
    settings: &Settings,
    name: &str,
    role: &str,
    display_name: Option<&str>,
    password: &str,
) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    let user = users::create(
        store.as_ref(),
        &ctx,
        &users::NewAccount {
            username: name,
            display_name: display_name.unwrap_or(""),
            role,
            kind: AccountKind::Staff,
            password: Some(password),
        },
    )
    .await
    .map_err(app_err)?;
    store.close().await;
    println!("created {} ({}) id {}", user.username, user.role, user.id);
    Ok(())
}

/// `kat user reset-password NAME` with the temporary password read from `input` (one
/// line): the account must change it at its next sign-in, and its sessions end.
pub async fn user_reset_password(settings: &Settings, name: &str, input: &mut dyn BufRead) -> Result<()> {
    let password = read_password_line(input)?;
    user_reset_password_with(settings, name, &password).await
}

pub async fn user_reset_password_with(settings: &Settings, name: &str, password: &str) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    let user = users::find(store.as_ref(), name).await.map_err(app_err)?.with_context(|| format!("no user {name}"))?;
    users::reset_password(store.as_ref(), &ctx, user.id, password).await.map_err(app_err)?;
    store.close().await;
    println!(
        "{name}: password reset; it must be changed at the next sign-in, and every sign-in of the account has ended"
    );
    Ok(())
}

pub async fn user_list(settings: &Settings) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    for u in users::list(store.as_ref(), &ctx).await.map_err(app_err)? {
        println!(
            "{:<24} {:<12} {:<10} {:<8} {}",
            u.username.as_str(),
            u.role.as_str(),
            u.kind.as_str(),
            if u.active { "active" } else { "disabled" },
            u.display_name
        );
    }
    store.close().await;
    Ok(())
}

pub async fn user_set_active(settings: &Settings, name: &str, active: bool) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    let user = users::find(store.as_ref(), name).await.map_err(app_err)?.with_context(|| format!("no user {name}"))?;
    users::set_active(store.as_ref(), &ctx, user.id, active).await.map_err(app_err)?;
    store.close().await;
    println!("{} is now {}", name, if active { "active" } else { "disabled" });
    Ok(())
}

/// Lifts a sign-in lock on the account `name` (its failed sign-ins are forgotten).
pub async fn user_unlock(settings: &Settings, name: &str) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    let user = users::find(store.as_ref(), name).await.map_err(app_err)?.with_context(|| format!("no user {name}"))?;
    let had = auth::unlock_account(store.as_ref(), &ctx, &user).await.map_err(app_err)?;
    store.close().await;
    println!("{name}: {}", if had { "failed sign-ins forgotten; the account may sign in" } else { "was not locked" });
    Ok(())
}

/// Turns off the two-step sign-in of the account `name` (audited as the command line).
pub async fn user_reset_mfa(settings: &Settings, name: &str) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    let user = users::find(store.as_ref(), name).await.map_err(app_err)?.with_context(|| format!("no user {name}"))?;
    let had = kat_app::mfa::reset(store.as_ref(), &ctx, user.id).await.map_err(app_err)?;
    store.close().await;
    println!(
        "{name}: {}",
        if had { "two-step sign-in turned off; its sign-ins ended" } else { "had no two-step sign-in" }
    );
    Ok(())
}

/// Marks (or unmarks) the account `name` as the clinic's medical director, who alone may
/// override a hard stop at eligibility sign-off.
pub async fn user_set_medical_director(settings: &Settings, name: &str, yes: bool, reason: &str) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    let user = users::find(store.as_ref(), name).await.map_err(app_err)?.with_context(|| format!("no user {name}"))?;
    // The operator at the server needs no second factor here (kat_app::reauth).
    let no_reauth = kat_app::reauth::Reauth::default();
    kat_app::intake::set_medical_director(store.as_ref(), &ctx, user.id, yes, reason, no_reauth)
        .await
        .map_err(app_err)?;
    store.close().await;
    println!("{name} is {}a medical director", if yes { "" } else { "not " });
    Ok(())
}

/// Creates a token for an existing account named `name`, or, when there is none, for
/// a new API-client account of that name with `role` (default front_desk, the least
/// privilege that can use the registry).
pub async fn token_create(settings: &Settings, name: &str, role: Option<&str>, label: Option<&str>) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    let user = match users::find(store.as_ref(), name).await.map_err(app_err)? {
        Some(u) => {
            if role.is_some_and(|r| r.parse::<kat_core::role::Role>().ok() != Some(u.role)) {
                bail!("{name} exists with role {}; --role cannot change it", u.role);
            }
            u
        }
        None => {
            let role = role.unwrap_or("front_desk");
            let u = users::create(
                store.as_ref(),
                &ctx,
                &users::NewAccount {
                    username: name,
                    display_name: "",
                    role,
                    kind: AccountKind::ApiClient,
                    password: None,
                },
            )
            .await
            .map_err(app_err)?;
            eprintln!("created API client account {} with role {}", u.username, u.role);
            u
        }
    };
    let lifetime = settings.token_lifetime()?;
    let (record, secret) =
        auth::create_token_for(store.as_ref(), &ctx, &user, label.unwrap_or(name), lifetime).await.map_err(app_err)?;
    store.close().await;
    let until = record.expires_at.map(|t| t.to_string()).unwrap_or_default();
    eprintln!("token {} for {} ({}), valid until {until}; it is shown only now:", record.id, user.username, user.role);
    println!("{secret}");
    Ok(())
}

/// Revokes one token by id, or every token of an account by its name.
pub async fn token_revoke(settings: &Settings, what: &str) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    let ids: Vec<TokenId> = match what.parse::<TokenId>() {
        Ok(id) => vec![id],
        Err(_) => {
            let user = users::find(store.as_ref(), what)
                .await
                .map_err(app_err)?
                .with_context(|| format!("`{what}` is neither a token id nor an account name"))?;
            auth::list_tokens(store.as_ref(), &ctx)
                .await
                .map_err(app_err)?
                .into_iter()
                .filter(|t| t.user_id == user.id && t.revoked_at.is_none())
                .map(|t| t.id)
                .collect()
        }
    };
    if ids.is_empty() {
        bail!("no active token to revoke for {what}");
    }
    for id in &ids {
        auth::revoke_token(store.as_ref(), &ctx, *id).await.map_err(app_err)?;
        println!("revoked {id}");
    }
    store.close().await;
    Ok(())
}

/// One line of `kat token list`: id, account, label, when made, when last used, until
/// when it works, and whether it still does.
pub fn token_line(t: &kat_store::ApiTokenRecord, account: &str, now: Timestamp) -> String {
    let state = if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at.is_some_and(|end| now >= end) {
        "expired"
    } else {
        "active"
    };
    let last = t.last_used_at.map(|at| at.to_string()).unwrap_or_else(|| "never".into());
    let until = t.expires_at.map(|at| at.to_string()).unwrap_or_else(|| "-".into());
    format!("{} {account:<20} {:<24} created {} last used {last} expires {until} {state}", t.id, t.label, t.created_at)
}

pub async fn token_list(settings: &Settings) -> Result<()> {
    let store = open_existing(settings).await?;
    let ctx = cli_ctx(settings).await?;
    let names: std::collections::HashMap<_, _> = users::list(store.as_ref(), &ctx)
        .await
        .map_err(app_err)?
        .into_iter()
        .map(|u| (u.id, u.username.to_string()))
        .collect();
    let now = Timestamp::now();
    for t in auth::list_tokens(store.as_ref(), &ctx).await.map_err(app_err)? {
        println!("{}", token_line(&t, names.get(&t.user_id).map(String::as_str).unwrap_or_default(), now));
    }
    store.close().await;
    Ok(())
}

/// Writes a consistent copy of the live SQLite database to `to` (0600), safe while the
/// server runs. With `encrypt_to` (age X25519 recipients, `age1…`), `to` is that copy in
/// the age format, readable only with one of the recipients' identities; the plain copy
/// exists meanwhile only in a private directory beside the database, and is removed.
pub async fn backup(settings: &Settings, to: &Path, encrypt_to: &[String]) -> Result<()> {
    let Location::Sqlite(db) = Location::from_settings(settings)? else {
        bail!(
            "kat backup copies the embedded SQLite database; for PostgreSQL use pg_dump \
             (and encrypt its output with age or gpg)"
        );
    };
    if to.exists() {
        bail!("{} already exists; choose a new file name", to.display());
    }
    let recipients = crate::backup::parse_recipients(encrypt_to)?;
    let store = storage::open_sqlite(&db).await?;
    let written = if recipients.is_empty() {
        store.backup_to(to).await.with_context(|| format!("writing {}", to.display()))
    } else {
        backup_encrypted(&store, &db, to, &recipients).await
    };
    if let Err(e) = written {
        store.close().await;
        return Err(e);
    }
    let ctx = cli_ctx(settings).await?;
    let detail = if recipients.is_empty() {
        to.display().to_string()
    } else {
        format!("{} (age, {} recipient(s))", to.display(), recipients.len())
    };
    let mut tx = store.begin().await?;
    tx.append_audit(&ctx.audit(
        kat_core::audit::AuditAction::Read,
        "database_backup",
        Some(detail),
        None,
        kat_core::audit::AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    store.close().await;
    if recipients.is_empty() {
        println!("backup written to {}", to.display());
    } else {
        println!("encrypted backup written to {} (age, {} recipient(s))", to.display(), recipients.len());
    }
    Ok(())
}

/// The copy into a private directory beside the database (the same protection as the
/// database itself), encrypted from there to `to`.
async fn backup_encrypted(
    store: &kat_store_sqlite::SqliteStore,
    db: &Path,
    to: &Path,
    recipients: &[age::x25519::Recipient],
) -> Result<()> {
    let dir = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".kat-backup-")
        .tempdir_in(dir)
        .with_context(|| format!("creating a private directory in {}", dir.display()))?;
    let plain = staging.path().join("kat.db");
    store.backup_to(&plain).await.with_context(|| format!("copying the database to {}", plain.display()))?;
    let (plain2, to2, recipients2) = (plain.clone(), to.to_path_buf(), recipients.to_vec());
    tokio::task::spawn_blocking(move || crate::backup::encrypt_file(&plain2, &to2, &recipients2))
        .await
        .context("encryption task")??;
    staging.close().with_context(|| format!("removing {}", plain.display()))?;
    Ok(())
}

/// Restores a backup of `kat backup` into the SQLite database of `settings` (SQLite
/// only: a PostgreSQL clinic restores its pg_dump with pg_restore). The backup may be
/// age-encrypted (then `identity` is the identity file that decrypts it). The copy is
/// made and checked in a private directory beside the target before it takes the
/// target's place: SQLite's `PRAGMA integrity_check`, that it is a kat database, the
/// migrations of this kat, and the audit log's hash chain walked as `kat audit verify`
/// walks it; any failure refuses the restore (exit 1) naming what is wrong, and leaves
/// the target as it was. An existing database is replaced only with `force`. Stop kat
/// before restoring over its database.
pub async fn restore(settings: &Settings, from: &Path, identity: Option<&Path>, force: bool) -> Result<()> {
    use crate::backup::{self as files, BackupKind};
    let Location::Sqlite(db) = Location::from_settings(settings)? else {
        bail!(
            "kat restore writes the embedded SQLite database; a PostgreSQL clinic restores its pg_dump \
             with pg_restore (or psql), then checks it with `kat audit verify`"
        );
    };
    let kind = files::kind_of(from)?;
    if kind != BackupKind::Sqlite && identity.is_none() {
        bail!("{} is age-encrypted; give the identity file that decrypts it with --identity KEYFILE", from.display());
    }
    let existing: Vec<PathBuf> = ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", db.display())))
        .filter(|p| p.exists())
        .collect();
    if !existing.is_empty() && !force {
        bail!(
            "{} already exists; kat restore writes only where there is no database yet \
             (stop kat and pass --force to replace it)",
            existing[0].display()
        );
    }
    let dir = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    storage::create_private_dir(&dir)?;
    let staging = tempfile::Builder::new()
        .prefix(".kat-restore-")
        .tempdir_in(&dir)
        .with_context(|| format!("creating a private directory in {}", dir.display()))?;
    let staged = staging.path().join("kat.db");
    match (kind, identity) {
        (BackupKind::Sqlite, _) => {
            let mut out = files::create_private_file(&staged)?;
            let mut input = std::fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
            std::io::copy(&mut input, &mut out).with_context(|| format!("copying {}", from.display()))?;
            out.sync_all()?;
        }
        (_, Some(identity)) => {
            let (from2, identity2, staged2) = (from.to_path_buf(), identity.to_path_buf(), staged.clone());
            tokio::task::spawn_blocking(move || files::decrypt_file(&from2, &identity2, &staged2))
                .await
                .context("decryption task")??;
            if !files::is_sqlite(&staged)? {
                bail!("{} decrypted to something that is not a SQLite database", from.display());
            }
        }
        (_, None) => unreachable!("an encrypted backup without an identity was refused above"),
    }

    let check = kat_store_sqlite::check_file(&staged)
        .await
        .with_context(|| format!("{} is damaged, or not a SQLite database", from.display()))?;
    if !check.integrity_problems.is_empty() {
        bail!("{} is damaged: SQLite's integrity check found: {}", from.display(), check.integrity_problems.join("; "));
    }
    let Some(level) = check.migration_level else {
        bail!("{} is a SQLite database but not a kat database (it has no migrations table)", from.display());
    };
    let known = kat_store_sqlite::SqliteStore::latest_known_migration();
    if level > known {
        bail!(
            "{} was written by a newer kat (migration {level}; this kat knows up to {known}); restore it with that version",
            from.display()
        );
    }

    // Opening applies this kat's migrations to an older backup; then the chain walk (an
    // audited read, like `kat audit verify`).
    let store = storage::open(&Location::Sqlite(staged.clone()), Create::Never).await?;
    let ctx = cli_ctx(settings).await?;
    let checked = async {
        let verdict = verify_audit_chain(store.as_ref(), &ctx)
            .await
            .with_context(|| format!("refusing to restore {}", from.display()))?;
        let missing = store.missing_append_only_guards().await?;
        let mut tx = store.begin_read().await?;
        let patients = tx.count_patients().await?;
        tx.commit().await?;
        let mut tx = store.begin().await?;
        tx.append_audit(&ctx.audit(
            kat_core::audit::AuditAction::Update,
            "database_restore",
            Some(from.display().to_string()),
            None,
            kat_core::audit::AuditOutcome::Allowed,
        ))
        .await?;
        tx.commit().await?;
        anyhow::Ok((verdict, missing, patients))
    }
    .await;
    store.close().await;
    let (verdict, missing, patients) = checked?;

    for p in &existing {
        std::fs::remove_file(p).with_context(|| format!("removing {}", p.display()))?;
    }
    std::fs::rename(&staged, &db).with_context(|| format!("moving the restored database to {}", db.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} private", db.display()))?;
        // The rename is durable once the directory is synced.
        std::fs::File::open(&dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))?;
    }
    drop(staging);
    println!("restored {} to {}: integrity ok, {patients} patients", from.display(), db.display());
    println!("{verdict}");
    if !missing.is_empty() {
        eprintln!(
            "WARNING: the restored database lacks the audit log's append-only trigger(s) {}; \
             kat serve refuses to start until they are restored (see --allow-missing-audit-guards)",
            missing.join(", ")
        );
    }
    Ok(())
}

pub fn config_print(settings: &Settings) -> Result<()> {
    settings.web_config(false)?;
    print!("{}", settings.redacted_toml()?);
    Ok(())
}

#[cfg(test)]
mod token_line_tests {
    use super::token_line;
    use jiff::{Timestamp, ToSpan};
    use kat_core::ids::{TokenId, UserId};

    #[test]
    fn a_token_line_shows_its_last_use_its_end_and_whether_it_still_works() {
        let t0: Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
        let mut t = kat_store::ApiTokenRecord {
            id: TokenId::from_uuid(uuid::Uuid::nil()),
            user_id: UserId::from_uuid(uuid::Uuid::nil()),
            label: "import".into(),
            token_hash: "h".into(),
            created_at: t0,
            revoked_at: None,
            last_used_at: None,
            expires_at: Some(t0 + 24.hours()),
        };
        let line = token_line(&t, "bot", t0);
        assert!(
            line.contains("last used never")
                && line.contains("expires 2026-03-11T14:00:00Z")
                && line.ends_with("active"),
            "{line}"
        );
        t.last_used_at = Some(t0 + 1.hour());
        assert!(token_line(&t, "bot", t0 + 24.hours()).ends_with("expired"), "at its end it no longer works");
        assert!(token_line(&t, "bot", t0).contains("last used 2026-03-10T15:00:00Z"));
        t.revoked_at = Some(t0);
        assert!(token_line(&t, "bot", t0).ends_with("revoked"));
    }
}
