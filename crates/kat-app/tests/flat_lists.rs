//! Clinic-wide lists stay flat: the patient search, the measures worklist, the therapy
//! worklist, the clinic's day and the timeline run the same number of SQL statements with 5 and with 50
//! patients, and each view is audited as one entry naming every patient it showed.
//!
//! The statements are counted as sqlx reports them (tracing target `sqlx::query`, one
//! event per statement, on every connection's thread) through a global subscriber, so
//! this file is a test binary of its own with a single test: nothing else runs beside it.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use kat_app::config::MeasuresConfig;
use kat_app::therapy::TherapyConfig;
use kat_app::users::NewAccount;
use kat_app::{Actor, Ctx, measures, patients, therapy, users};
use kat_core::audit::{AuditAction, AuditFilter};
use kat_core::instruments::Instrument;
use kat_core::measures::PlanForm;
use kat_core::page::PageRequest;
use kat_core::patient::DemographicsForm;
use kat_core::therapy::care_team::CareRole;
use kat_core::user::{AccountKind, User};
use kat_store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};
use tracing_subscriber::layer::{Context, SubscriberExt};

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

/// Counts every statement sqlx reports, whatever the level it logs it at.
struct CountStatements;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn now() -> Timestamp {
    "2026-06-01T12:00:00Z".parse().unwrap()
}

fn ctx(actor: Actor) -> Ctx {
    Ctx::new(actor, "127.0.0.1".into(), None, now(), &TimeZone::UTC)
}

/// Registers patients `from..to`, each with a measurement plan whose baseline is long
/// past (measures overdue), one complete PHQ-9, the prescriber on the care team and a
/// therapy program whose sessions are due by now.
async fn add_patients(store: &dyn Store, by: &Ctx, prescriber: &User, from: usize, to: usize) {
    let today = by.today;
    for i in from..to {
        let form = DemographicsForm {
            given_name: format!("Ada{i:03}"),
            family_name: format!("Flat{i:03}"),
            birth_date: "1984-03-07".into(),
            sex_at_birth: "female".into(),
            ..Default::default()
        };
        let p = patients::register(store, by, &form).await.unwrap().id;
        therapy::set_care_team(store, by, p, &[(CareRole::Prescriber, prescriber.username.to_string())]).await.unwrap();
        let plan = PlanForm {
            baseline: (today - 40.days()).to_string(),
            dose_dates: (today - 30.days()).to_string(),
            ..Default::default()
        };
        measures::save_plan(store, by, p, &plan).await.unwrap();
        let answers = vec![Some("1".to_string()); 9];
        let at = Some(now() - (35 * 24).hours());
        measures::record_response(store, by, &MeasuresConfig::default(), p, Instrument::Phq9, &answers, at)
            .await
            .unwrap();
        let doses = format!("{}", today - 20.days());
        therapy::plan_program(store, by, p, &doses, &TherapyConfig::default().policy).await.unwrap();
    }
}

/// Lets the statement events of calls that have returned arrive: SQLite's connection
/// threads report a statement when they are done with it, which may be just after its
/// result reached the caller.
async fn settle() -> usize {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    STATEMENTS.load(Ordering::SeqCst)
}

/// Statements run by `f`, after running it once to warm the pools up.
macro_rules! statements {
    ($f:expr) => {{
        $f.await.unwrap();
        let before = settle().await;
        let out = $f.await.unwrap();
        (settle().await - before, out)
    }};
}

/// The newest audit entry is one list view naming exactly `shown` patients.
async fn one_list_entry_naming(store: &dyn Store, entries_before: usize, shown: usize) {
    let mut tx = store.begin_read().await.unwrap();
    let all = tx.query_audit(&AuditFilter { limit: 500, ..Default::default() }).await.unwrap();
    assert_eq!(all.len(), entries_before + 1, "one entry per view");
    let newest = &all[0];
    assert_eq!(newest.entry.action, AuditAction::List);
    assert_eq!(tx.audit_shown_patients(&[newest.id]).await.unwrap().len(), shown, "every patient shown is named");
}

async fn audit_len(store: &dyn Store) -> usize {
    let mut tx = store.begin_read().await.unwrap();
    tx.query_audit(&AuditFilter { limit: 500, ..Default::default() }).await.unwrap().len()
}

/// The statements each list took, and checks each view's audit entry.
async fn list_statements(store: &dyn Store, viewer: &Ctx, expected_patients: usize) -> Vec<(&'static str, usize)> {
    let cfg = MeasuresConfig::default();
    let tz = TimeZone::UTC;
    let page = PageRequest::first(50);
    let mut out = Vec::new();

    let (n, found) = statements!(patients::search(store, viewer, "", page));
    assert_eq!(found.items.len(), expected_patients);
    out.push(("patient search", n));
    one_list_entry_naming(store, audit_len(store).await - 1, expected_patients).await;

    let (n, due) = statements!(measures::worklist(store, viewer, &cfg, &tz, page));
    assert_eq!(due.items.len(), expected_patients, "every patient has measures overdue");
    out.push(("measures worklist", n));
    one_list_entry_naming(store, audit_len(store).await - 1, expected_patients).await;

    let (n, (items, shown)) = statements!(therapy::worklist(store, viewer, page));
    assert!(!items.items.is_empty());
    assert!(!shown.is_empty());
    out.push(("therapy worklist", n));
    one_list_entry_naming(store, audit_len(store).await - 1, shown.len()).await;

    let (n, day) = statements!(kat_app::today::today(store, viewer, &cfg, page));
    assert_eq!(day.measures_total, expected_patients, "every patient has measures overdue");
    assert!(!day.therapy.is_empty());
    out.push(("the clinic's day", n));
    one_list_entry_naming(store, audit_len(store).await - 1, day.patients.len()).await;

    let first = found.items[0].id;
    let (n, entries) = statements!(therapy::timeline(store, viewer, first, &[], &tz, PageRequest::first(100)));
    assert!(!entries.items.is_empty());
    out.push(("timeline", n));
    out
}

async fn lists_stay_flat_on(store: &dyn Store) {
    let cli = Ctx::cli(now(), &TimeZone::UTC);
    let account = NewAccount {
        username: "pres",
        display_name: "",
        role: "prescriber",
        kind: AccountKind::Staff,
        password: Some("pres-password-long"),
    };
    let prescriber = users::create(store, &cli, &account).await.unwrap();
    let viewer = ctx(Actor::User(prescriber.clone()));
    add_patients(store, &viewer, &prescriber, 0, 5).await;
    let at_5 = list_statements(store, &viewer, 5).await;
    add_patients(store, &viewer, &prescriber, 5, 50).await;
    let at_50 = list_statements(store, &viewer, 50).await;
    assert_eq!(at_5, at_50, "the same statements for 5 and for 50 patients");
    assert!(at_5.iter().all(|(_, n)| *n > 0), "statements were counted: {at_5:?}");
    eprintln!("statements per list view: {at_50:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_run_the_same_statements_for_5_and_50_patients() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(CountStatements)).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let sqlite =
        kat_store_sqlite::SqliteStore::open(&dir.path().join("kat.db"), kat_store_sqlite::OpenMode::CreateIfMissing)
            .await
            .unwrap();
    lists_stay_flat_on(&sqlite).await;
    sqlite.close().await;

    match kat_store_postgres::testing::fresh_database().await {
        Some(db) => lists_stay_flat_on(&*db).await,
        None => eprintln!("\n*** SKIPPED on PostgreSQL: no database server reachable ***\n"),
    }
}
