//! The operator commands, called as library functions on a temporary data directory.

use kat::commands;
use kat::settings::Settings;
use kat::storage::{self, Create, Location};
use kat_core::user::AccountKind;
use std::io::Cursor;

fn settings_in(dir: &std::path::Path) -> Settings {
    Settings { data_dir: dir.to_path_buf(), ..Settings::default() }
}

async fn open(settings: &Settings) -> std::sync::Arc<dyn kat_store::Store> {
    storage::open(&Location::from_settings(settings).unwrap(), Create::Never).await.expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_reads_the_password_and_enforces_its_length() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = settings_in(tmp.path());

    // Too short: refused, naming the password.
    let err = commands::user_add(&settings, "ada", "admin", None, &mut Cursor::new("short\n")).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("password"), "{msg}");
    assert!(msg.contains("12"), "{msg}");
    // No password at all.
    let err = commands::user_add(&settings, "ada", "admin", None, &mut Cursor::new("")).await.unwrap_err();
    assert!(format!("{err:#}").contains("no password"), "{err:#}");
    // A bad role is named.
    let err = commands::user_add(&settings, "ada", "wizard", None, &mut Cursor::new("a-long-enough-passphrase\n"))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("role"), "{err:#}");

    // A good one (the newline is not part of the password).
    commands::user_add(&settings, "Ada", "admin", Some("Ada Admin"), &mut Cursor::new("a-long-enough-passphrase\r\n"))
        .await
        .unwrap();
    let err = commands::user_add(&settings, "ada", "nurse", None, &mut Cursor::new("another-long-passphrase\n"))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("already taken"), "{err:#}");

    let store = open(&settings).await;
    let user = kat_app::users::find(store.as_ref(), "ada").await.unwrap().expect("ada exists");
    assert_eq!(user.role.as_str(), "admin");
    assert_eq!(user.kind, AccountKind::Staff);
    assert_eq!(user.display_name, "Ada Admin");
    // The password works (and is exactly the line without its newline).
    let ctx = kat_app::Ctx::cli(jiff::Timestamp::now(), &jiff::tz::TimeZone::UTC);
    kat_app::auth::login(store.as_ref(), &ctx, &Default::default(), "ada", "a-long-enough-passphrase")
        .await
        .expect("login");
    assert!(
        kat_app::auth::login(store.as_ref(), &ctx, &Default::default(), "ada", "a-long-enough-passphrase\r")
            .await
            .is_err()
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_makes_an_api_client_when_the_name_is_new() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = settings_in(tmp.path());
    commands::token_create(&settings, "lab-sync", None, Some("lab import")).await.unwrap();
    commands::user_add(&settings, "nina", "nurse", None, &mut Cursor::new("nina-long-passphrase\n")).await.unwrap();
    // An existing account keeps its role.
    let err = commands::token_create(&settings, "nina", Some("admin"), None).await.unwrap_err();
    assert!(format!("{err:#}").contains("--role cannot change it"), "{err:#}");
    commands::token_create(&settings, "nina", Some("nurse"), None).await.unwrap();

    let store = open(&settings).await;
    let client = kat_app::users::find(store.as_ref(), "lab-sync").await.unwrap().expect("api client");
    assert_eq!(client.kind, AccountKind::ApiClient);
    assert_eq!(client.role.as_str(), "front_desk", "least privilege by default");
    let ctx = kat_app::Ctx::cli(jiff::Timestamp::now(), &jiff::tz::TimeZone::UTC);
    let tokens = kat_app::auth::list_tokens(store.as_ref(), &ctx).await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().any(|t| t.user_id == client.id && t.label == "lab import" && t.revoked_at.is_none()));
    // An API client cannot sign in to the pages.
    assert!(kat_app::auth::login(store.as_ref(), &ctx, &Default::default(), "lab-sync", "").await.is_err());
    store.close().await;

    // Revoking by account name revokes its tokens.
    commands::token_revoke(&settings, "lab-sync").await.unwrap();
    let store = open(&settings).await;
    let tokens = kat_app::auth::list_tokens(store.as_ref(), &ctx).await.unwrap();
    assert!(tokens.iter().filter(|t| t.user_id == client.id).all(|t| t.revoked_at.is_some()));
    store.close().await;
    assert!(commands::token_revoke(&settings, "lab-sync").await.is_err(), "nothing left to revoke");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_writes_a_database_that_opens_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = settings_in(&tmp.path().join("data"));
    std::fs::create_dir(&settings.data_dir).unwrap();
    commands::user_add(&settings, "ada", "admin", None, &mut Cursor::new("a-long-enough-passphrase\n")).await.unwrap();

    let target = tmp.path().join("backup.db");
    commands::backup(&settings, &target, &[]).await.unwrap();
    assert!(target.exists());
    // The copy opens as a kat database and holds the account.
    let copy = kat_store_sqlite::SqliteStore::open(&target, kat_store_sqlite::OpenMode::MustExist)
        .await
        .expect("backup opens");
    assert!(kat_app::users::find(&copy, "ada").await.unwrap().is_some());
    kat_store::Store::close(&copy).await;

    // An existing target is refused and left alone.
    let before = std::fs::read(&target).unwrap();
    let err = commands::backup(&settings, &target, &[]).await.unwrap_err();
    assert!(format!("{err:#}").contains("already exists"), "{err:#}");
    assert_eq!(std::fs::read(&target).unwrap(), before);

    // PostgreSQL is pg_dump's job.
    let pg = Settings { database_url: "postgres://nobody@127.0.0.1:1/none".into(), ..Settings::default() };
    let err = commands::backup(&pg, &tmp.path().join("pg.db"), &[]).await.unwrap_err();
    assert!(format!("{err:#}").contains("pg_dump"), "{err:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_refuse_a_mistyped_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), b"not a clinic").unwrap();
    let settings = settings_in(tmp.path());
    let err = commands::token_create(&settings, "x-client", None, None).await.unwrap_err();
    assert!(format!("{err:#}").contains("holds files but no kat.db"), "{err:#}");
    assert!(!tmp.path().join("kat.db").exists());
}

/// `kat audit verify` walks the hash chain: intact after ordinary use; after the
/// append-only triggers are dropped and an entry is edited, it fails naming the entry,
/// and the server refuses to start without its triggers unless told to recover (which
/// is itself audited).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_first_broken_link_and_serve_needs_the_guards() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = settings_in(tmp.path());
    commands::user_add(&settings, "ada", "admin", None, &mut Cursor::new("a-long-enough-passphrase\n")).await.unwrap();
    commands::token_create(&settings, "x-client", None, None).await.unwrap();
    commands::audit_verify(&settings).await.expect("an intact log");
    commands::audit_head(&settings).await.unwrap();
    let store = open(&settings).await;
    let report = kat_app::audit_log::verify_chain(
        store.as_ref(),
        &kat_app::Ctx::cli(jiff::Timestamp::now(), &jiff::tz::TimeZone::UTC),
    )
    .await
    .unwrap();
    assert!(report.broken.is_none() && report.entries >= 2, "{report:?}");
    store.close().await;

    let db = tmp.path().join("kat.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_update").execute(&pool).await.unwrap();
    sqlx::query("UPDATE audit_log SET remote_addr = '10.0.0.9' WHERE seq = 2").execute(&pool).await.unwrap();
    pool.close().await;
    let err = commands::audit_verify(&settings).await.unwrap_err();
    assert!(format!("{err:#}").contains("entry 2: its content does not match its hash"), "{err:#}");

    let mut s = settings.clone();
    s.bind = "127.0.0.1:0".into();
    let err = commands::serve(&s, false, false).await.unwrap_err();
    assert!(format!("{err:#}").contains("audit_log_no_update"), "{err:#}");
}

/// A new clinic's data directory is its owner's alone (0700), and its database file
/// 0600.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_data_directory_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("clinic").join("kat.db");
    let store = storage::open(&Location::Sqlite(db.clone()), Create::WhenSafe { init: true }).await.unwrap();
    store.close().await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&tmp.path().join("clinic")), 0o700);
    assert_eq!(mode(&db), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_and_reset_password_refuse_guessable_passwords_and_reset_forces_a_change() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = settings_in(tmp.path());
    for weak in ["aaaaaaaaaaaa\n", "password1234\n", "ada-ada-ada-1\n"] {
        let err = commands::user_add(&settings, "ada", "admin", None, &mut Cursor::new(weak)).await.unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("password") && msg.contains("too easy to guess"), "{weak}: {msg}");
    }
    commands::user_add(&settings, "ada", "admin", None, &mut Cursor::new("a-long-enough-passphrase\n")).await.unwrap();

    // The reset reads the temporary password the same way and follows the same rules.
    let err = commands::user_reset_password(&settings, "ada", &mut Cursor::new("password1234\n")).await.unwrap_err();
    assert!(format!("{err:#}").contains("too easy to guess"), "{err:#}");
    let err = commands::user_reset_password(&settings, "ada", &mut Cursor::new("")).await.unwrap_err();
    assert!(format!("{err:#}").contains("no password"), "{err:#}");
    let err = commands::user_reset_password(&settings, "nobody", &mut Cursor::new("violet harbour quill\n"))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no user nobody"), "{err:#}");
    let store = open(&settings).await;
    assert!(!kat_app::users::find(store.as_ref(), "ada").await.unwrap().unwrap().must_change_password);
    store.close().await;

    commands::user_reset_password(&settings, "ada", &mut Cursor::new("violet harbour quill\n")).await.unwrap();
    let store = open(&settings).await;
    let ada = kat_app::users::find(store.as_ref(), "ada").await.unwrap().unwrap();
    assert!(ada.must_change_password, "the temporary password must be changed at next sign-in");
    let ctx = kat_app::Ctx::cli(jiff::Timestamp::now(), &jiff::tz::TimeZone::UTC);
    let (user, _) = kat_app::auth::login(store.as_ref(), &ctx, &Default::default(), "ada", "violet harbour quill")
        .await
        .expect("the temporary password signs in");
    assert!(user.must_change_password);
    assert!(
        kat_app::auth::login(store.as_ref(), &ctx, &Default::default(), "ada", "a-long-enough-passphrase")
            .await
            .is_err()
    );
    store.close().await;
}
