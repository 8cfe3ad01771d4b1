//! The test harness: `spawn_app` starts kat on 127.0.0.1:0 with a database of its own
//! (a temporary SQLite file, or a fresh PostgreSQL database), so tests never share
//! state. The browser tests use it too.

use jiff::{SignedDuration, Timestamp};
use kat::server::{self, Running};
use kat_app::{Ctx, auth, users};
use kat_core::role::Role;
use kat_core::user::{AccountKind, User};
use kat_store::Store;
use kat_store_postgres::testing::{TestDatabase, fresh_database};
use kat_store_sqlite::{OpenMode, SqliteStore};
use kat_web::clock::{Clock, ManualClock, SystemClock};
use kat_web::config::WebConfig;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// How to start the app.
#[derive(Default)]
pub struct Options {
    pub config: WebConfig,
    /// A manual clock starting at this instant, or the system clock when `None`.
    pub manual_clock: Option<Timestamp>,
    /// Keep `config.access` as given (default: records scoped to the care team). When
    /// false (the default here), the app runs with `security.access.scope =
    /// all_clinicians`: the suite's tests of clinical work make their staff ad hoc and
    /// do not build care teams; the tests of care-team access (`access.rs`) set this.
    pub scoped_access: bool,
}

fn test_config(options: &Options) -> WebConfig {
    let mut config = options.config.clone();
    if !options.scoped_access {
        config.access.scope = kat_core::access::RecordScope::AllClinicians;
    }
    config
}

enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] TestDatabase),
    /// A second server on another app's database ([`TestApp::spawn_beside`]): the first
    /// app owns the database.
    Beside(String),
}

/// The password of a test account: the username and three unrelated words, which the
/// account rules accept (a password built from the username alone, like
/// `nina-password`, they refuse).
pub fn password_of(username: &str) -> String {
    format!("{username}-tulip-orbit-gravel")
}

/// The authenticator secret of a test account whose role must use two-step sign-in
/// ([`TestApp::add_staff`] enrols admins and prescribers with it): 20 bytes from the
/// username, so a test can compute the code.
pub fn totp_secret_of(username: &str) -> kat_core::mfa::TotpSecret {
    let mut bytes = [b'k'; kat_core::mfa::SECRET_BYTES];
    for (i, b) in username.bytes().enumerate() {
        bytes[i % bytes.len()] ^= b.wrapping_add(i as u8);
    }
    kat_core::mfa::TotpSecret::from_random(bytes)
}

/// The recovery codes of such an account (10, unambiguous letters and digits).
pub fn recovery_codes_of(username: &str) -> Vec<String> {
    (0..kat_core::mfa::RECOVERY_CODE_COUNT)
        .map(|i| {
            let mut bytes = [0u8; 10];
            for (j, b) in username.bytes().chain(std::iter::repeat(b'r')).take(10).enumerate() {
                bytes[j] = b.wrapping_mul(7).wrapping_add((i * 13 + j) as u8);
            }
            kat_core::mfa::recovery_code_from_random(bytes)
        })
        .collect()
}

pub struct TestApp {
    pub base_url: String,
    pub store: Arc<dyn Store>,
    pub db: Db,
    clock: Arc<dyn Clock>,
    manual: Option<Arc<ManualClock>>,
    running: Option<Running>,
    /// Where a SQLite test keeps its database file.
    pub sqlite_path: Option<std::path::PathBuf>,
    /// Recovery codes [`TestApp::login`] has used, per username (when the app's codes of
    /// the moment are used up: a frozen manual clock).
    recovery_used: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    _guard: Guard,
}

/// Starts kat on a fresh database. `None` when PostgreSQL is asked for and no server
/// is reachable (and `KAT_REQUIRE_PG` is not set): the caller skips, loudly.
pub async fn spawn_app(db: Db, options: Options) -> Option<TestApp> {
    let (store, guard, sqlite_path): (Arc<dyn Store>, Guard, _) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("kat.db");
            let store = SqliteStore::open(&path, OpenMode::CreateIfMissing).await.expect("open sqlite");
            (Arc::new(store), Guard::Sqlite(dir), Some(path))
        }
        Db::Postgres => {
            let test_db = fresh_database().await?;
            let store = kat_store_postgres::PostgresStore::connect(test_db.url()).await.expect("connect");
            (Arc::new(store), Guard::Postgres(test_db), None)
        }
    };
    let manual = options.manual_clock.map(|t| Arc::new(ManualClock::new(t)));
    let clock: Arc<dyn Clock> = match &manual {
        Some(m) => m.clone(),
        None => Arc::new(SystemClock),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let running = server::start(listener, store.clone(), test_config(&options), clock.clone()).expect("start");
    Some(TestApp {
        base_url: format!("http://{}", running.addr),
        store,
        db,
        clock,
        manual,
        running: Some(running),
        sqlite_path,
        recovery_used: Default::default(),
        _guard: guard,
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Moves the manual clock forward (panics when the app runs on the system clock).
    pub fn advance(&self, by: SignedDuration) {
        self.manual.as_ref().expect("spawned with a manual clock").advance(by);
    }

    /// The connection URL of this test's own PostgreSQL database (`None` on SQLite),
    /// for tests that must reach past the app (the audit log's append-only triggers).
    pub fn postgres_url(&self) -> Option<&str> {
        match &self._guard {
            Guard::Postgres(db) => Some(db.url()),
            Guard::Beside(url) => Some(url),
            Guard::Sqlite(_) => None,
        }
    }

    /// A second kat server on this app's PostgreSQL database (two processes sharing one
    /// clinic), with its own connections, clock and live screens. `None` on SQLite (one
    /// server per database file). Keep `self` alive while it runs: it owns the database.
    pub async fn spawn_beside(&self, options: Options) -> Option<TestApp> {
        let url = self.postgres_url()?.to_string();
        let store: Arc<dyn Store> =
            Arc::new(kat_store_postgres::PostgresStore::connect(&url).await.expect("connect beside"));
        let manual = options.manual_clock.map(|t| Arc::new(ManualClock::new(t)));
        let clock: Arc<dyn Clock> = match &manual {
            Some(m) => m.clone(),
            None => Arc::new(SystemClock),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let running = server::start(listener, store.clone(), test_config(&options), clock.clone()).expect("start");
        Some(TestApp {
            base_url: format!("http://{}", running.addr),
            store,
            db: self.db,
            clock,
            manual,
            running: Some(running),
            sqlite_path: None,
            recovery_used: Default::default(),
            _guard: Guard::Beside(url),
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn ctx(&self) -> Ctx {
        Ctx::cli(self.clock.now(), &jiff::tz::TimeZone::UTC)
    }

    /// Adds a staff account; the password is [`password_of`] the username. An admin or a
    /// prescriber (the roles that must use two-step sign-in by default) is enrolled with
    /// [`totp_secret_of`] and [`recovery_codes_of`] the username, and [`TestApp::login`]
    /// types the code; [`TestApp::add_staff_unenrolled`] leaves it out.
    pub async fn add_staff(&self, username: &str, role: Role) -> User {
        let user = self.add_staff_unenrolled(username, role).await;
        if matches!(role, Role::Admin | Role::Prescriber) {
            self.enrol(&user).await;
        }
        user
    }

    /// Enrols an account in two-step sign-in with [`totp_secret_of`] its username.
    pub async fn enrol(&self, user: &User) {
        let name = user.username.as_str();
        kat_app::mfa::enrol_with_known_secret(
            self.store.as_ref(),
            &self.ctx(),
            user.id,
            &totp_secret_of(name),
            &recovery_codes_of(name),
        )
        .await
        .expect("enrol");
    }

    /// The code of the account's app that the app would accept now: of the current step
    /// or the next (a code is accepted once), or `None` when both are used.
    pub async fn next_code(&self, username: &str) -> Option<String> {
        let name = kat_core::user::Username::parse(username).ok()?;
        let mut tx = self.store.begin_read().await.expect("read");
        let user = tx.credentials_by_username(&name).await.expect("user")?.user;
        let last = tx.mfa_of(user.id).await.expect("mfa")?.last_used_step;
        tx.commit().await.expect("commit");
        let now = self.now();
        let step = kat_core::mfa::step_at(now);
        [step, step + 1].into_iter().find(|s| last.is_none_or(|l| *s > l)).map(|s| {
            totp_secret_of(username).code_at(Timestamp::from_second(s * kat_core::mfa::STEP_SECONDS as i64).unwrap())
        })
    }

    /// Adds a staff account without two-step sign-in.
    pub async fn add_staff_unenrolled(&self, username: &str, role: Role) -> User {
        let password = password_of(username);
        users::create(
            self.store.as_ref(),
            &self.ctx(),
            &users::NewAccount {
                username,
                display_name: "",
                role: role.as_str(),
                kind: AccountKind::Staff,
                password: Some(&password),
            },
        )
        .await
        .expect("create staff")
    }

    /// A bearer token for a new account of this role.
    pub async fn token(&self, username: &str, role: Role) -> String {
        let user = self.add_staff(username, role).await;
        let (_, secret) = auth::create_token(self.store.as_ref(), &self.ctx(), &user, "test").await.expect("token");
        secret
    }

    /// A client that keeps cookies and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Signs `username` in through the login form (the password is [`password_of`] it).
    /// When the code is asked next (an enrolled account), types it: the app's code of the
    /// moment from [`totp_secret_of`], or, when those are used up, the next of
    /// [`recovery_codes_of`] the username. Returns the last response.
    pub async fn login(&self, client: &reqwest::Client, username: &str) -> reqwest::Response {
        let r = client
            .post(self.url("/login"))
            .header("origin", &self.base_url)
            .form(&[("username", username), ("password", &password_of(username)), ("next", "/")])
            .send()
            .await
            .expect("login request");
        let to_code =
            r.headers().get("location").and_then(|l| l.to_str().ok()).is_some_and(|l| l.starts_with("/login/code"));
        if !to_code {
            return r;
        }
        let code = self.sign_in_code(username).await;
        self.submit_code(client, &code).await
    }

    /// A code that signs an enrolled test account in now: [`TestApp::next_code`], or when
    /// those are used up, the next unused of [`recovery_codes_of`] the username.
    pub async fn sign_in_code(&self, username: &str) -> String {
        if let Some(code) = self.next_code(username).await {
            return code;
        }
        let mut used = self.recovery_used.lock().unwrap();
        let n = used.entry(username.to_string()).or_insert(0);
        let code = recovery_codes_of(username).get(*n).cloned().expect("recovery codes left");
        *n += 1;
        code
    }

    /// Posts a code to the second step of sign-in.
    pub async fn submit_code(&self, client: &reqwest::Client, code: &str) -> reqwest::Response {
        client
            .post(self.url("/login/code"))
            .header("origin", &self.base_url)
            .form(&[("code", code), ("next", "/")])
            .send()
            .await
            .expect("code request")
    }

    /// Stops the server, letting requests in flight finish.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stop");
        }
        self.store.close().await;
    }
}

/// Runs one async test body against SQLite and against PostgreSQL: expands to two
/// `#[tokio::test]`s, `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:path) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body($crate::Db::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body($crate::Db::Postgres).await;
            }
        }
    };
}

/// Spawns an app or returns from the test with a loud skip notice (PostgreSQL absent).
#[macro_export]
macro_rules! app_or_skip {
    ($db:expr) => {
        $crate::app_or_skip!($db, $crate::Options::default())
    };
    ($db:expr, $options:expr) => {
        match $crate::spawn_app($db, $options).await {
            Some(app) => app,
            None => {
                eprintln!("*** SKIPPED on {:?}: no database server ***", $db);
                return;
            }
        }
    };
}
