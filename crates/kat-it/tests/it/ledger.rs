//! The controlled-substance ledger (issue 13): a receipt creates its containers
//! (DEA-003), who may record and read, per-field refusals, and `kat ledger verify`
//! (intact, then exit 1 naming the entry once one is edited behind the triggers).

use jiff::civil::date;
use jiff::tz::TimeZone;
use kat_app::ledger::{LedgerConfig, ReceiptInput};
use kat_app::{Actor, AppError, Ctx};
use kat_core::dosing::session::ShortText;
use kat_core::ids::StorageLocationId;
use kat_core::ledger::{
    Address, ContainerState, Counterparty, DeaNumber, DosageForm, LedgerProduct, LocationKind, Ndc, Quantity,
    RemsChannel, RemsSource, StockUnit, StorageLocation, Strength, Substance,
};
use kat_core::role::Role;
use kat_core::user::User;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};
use uuid::Uuid;

fn text(s: &str) -> ShortText {
    ShortText::parse(s).unwrap()
}

fn ctx_of(app: &TestApp, user: &User) -> Ctx {
    Ctx::new(Actor::User(user.clone()), "test".into(), None, app.now(), &TimeZone::UTC)
}

fn receipt(location: StorageLocationId, containers: u32) -> ReceiptInput {
    ReceiptInput {
        supplier: Counterparty {
            name: text("Acme Distribution"),
            address: Address::parse("1 Depot Rd\nNewark, NJ").unwrap(),
            dea: DeaNumber::parse("PA1234563").unwrap(),
        },
        invoice: text("INV-77"),
        received_on: date(2026, 1, 2),
        product: LedgerProduct::new(
            text("Ketamine HCl 50 mg/mL"),
            Substance::Ketamine,
            Ndc::parse("42023-113-10").unwrap(),
            Strength::parse("50", StockUnit::Ml).unwrap(),
            DosageForm::Injection,
        )
        .unwrap(),
        size: Quantity::parse("10", StockUnit::Ml).unwrap(),
        lot: text("L-2026-01"),
        expiry: date(2099, 12, 31),
        location,
        containers,
        rems: None,
    }
}

fn field_of(e: AppError) -> String {
    match e {
        AppError::Invalid(f) => f.to_string(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn a_receipt_creates_containers_and_verify_finds_a_broken_link(db: Db) {
    let app = app_or_skip!(db);
    let store = app.store.as_ref();
    let nurse = app.add_staff("nina", Role::Nurse).await;
    let desk = app.add_staff("fred", Role::FrontDesk).await;
    let therapist = app.add_staff("theo", Role::Therapist).await;
    let config = LedgerConfig::default();
    let safe = StorageLocation {
        id: StorageLocationId::from_uuid(Uuid::now_v7()),
        name: text("Main safe"),
        kind: LocationKind::parse("safe").unwrap(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_storage_location(&safe, app.now()).await.unwrap();
    tx.commit().await.unwrap();

    // An empty ledger is whole.
    let report = kat_app::ledger::verify(store, &ctx_of(&app, &nurse)).await.unwrap();
    assert_eq!((report.entries, report.broken.as_deref()), (0, None));

    // A receipt of three vials: three containers, each with its own balance.
    let recorded = kat_app::ledger::receive(store, &ctx_of(&app, &nurse), &config, receipt(safe.id, 3)).await.unwrap();
    assert_eq!(recorded.containers.len(), 3);
    let mut read = store.begin_read().await.unwrap();
    for c in &recorded.containers {
        let stored = read.ledger_container(c.id()).await.unwrap().expect("stored");
        assert_eq!(stored.on_hand(), Quantity::parse("10", StockUnit::Ml).unwrap());
        assert_eq!((stored.state(), stored.location()), (ContainerState::InStock, safe.id));
    }
    assert_eq!(read.ledger_products().await.unwrap().len(), 1, "the product is recorded by its NDC");
    drop(read);

    // Refused, naming the field; nothing half-saved.
    let e = kat_app::ledger::receive(store, &ctx_of(&app, &nurse), &config, receipt(safe.id, 0)).await.unwrap_err();
    assert!(field_of(e).contains("containers"));
    let elsewhere = StorageLocationId::from_uuid(Uuid::now_v7());
    let e = kat_app::ledger::receive(store, &ctx_of(&app, &nurse), &config, receipt(elsewhere, 1)).await.unwrap_err();
    assert!(field_of(e).contains("location"));
    let mut rems = receipt(safe.id, 1);
    rems.rems = Some(RemsSource { channel: RemsChannel::QualifiedDistributor, name: text("Some distributor") });
    let e = kat_app::ledger::receive(store, &ctx_of(&app, &nurse), &config, rems).await.unwrap_err();
    assert!(field_of(e).contains("rems"), "a ketamine receipt has no REMS source (DEA-013)");
    // The front desk records nothing in the ledger and reads none of it; nor does a
    // therapist.
    let e = kat_app::ledger::receive(store, &ctx_of(&app, &desk), &config, receipt(safe.id, 1)).await.unwrap_err();
    assert!(matches!(e, AppError::Forbidden), "{e:?}");
    for who in [&desk, &therapist] {
        let e = kat_app::ledger::verify(store, &ctx_of(&app, who)).await.unwrap_err();
        assert!(matches!(e, AppError::Forbidden), "{e:?}");
    }

    let report = kat_app::ledger::verify(store, &ctx_of(&app, &nurse)).await.unwrap();
    assert_eq!((report.entries, report.containers, report.broken.as_deref()), (1, 3, None));
    assert_eq!(report.head.as_ref().map(|h| h.0), Some(1));
    let mut settings = kat::settings::Settings::default();
    match db {
        Db::Sqlite => settings.data_dir = app.sqlite_path.as_ref().unwrap().parent().unwrap().to_path_buf(),
        Db::Postgres => settings.database_url = app.postgres_url().unwrap().to_string(),
    }
    kat::commands::ledger_verify(&settings).await.expect("an intact ledger");

    // With the trigger out of the way, an edited entry is found at its place (exit 1).
    let edit = "UPDATE ledger_entries SET content = replace(content, 'INV-77', 'INV-78') WHERE seq = 1";
    match db {
        Db::Sqlite => {
            use sqlx::Connection;
            let path = app.sqlite_path.clone().unwrap();
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
            let err = sqlx::query(edit).execute(&mut conn).await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{err}");
            sqlx::query("DROP TRIGGER ledger_entries_no_update").execute(&mut conn).await.unwrap();
            assert_eq!(sqlx::query(edit).execute(&mut conn).await.unwrap().rows_affected(), 1);
            conn.close().await.unwrap();
        }
        Db::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(app.postgres_url().unwrap()).await.unwrap();
            let err = sqlx::query(edit).execute(&mut conn).await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{err}");
            sqlx::query("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_update")
                .execute(&mut conn)
                .await
                .unwrap();
            assert_eq!(sqlx::query(edit).execute(&mut conn).await.unwrap().rows_affected(), 1);
            conn.close().await.unwrap();
        }
    }
    let report = kat_app::ledger::verify(store, &ctx_of(&app, &nurse)).await.unwrap();
    let broken = report.broken.expect("the edit is found");
    assert!(broken.contains("entry 1: its content does not match its hash"), "{broken}");
    let err = kat::commands::ledger_verify(&settings).await.unwrap_err();
    assert!(format!("{err:#}").contains("ledger broken: the ledger's hash chain is broken: entry 1"), "{err:#}");
    app.stop().await;
}
on_both_databases!(
    a_receipt_creates_containers_and_verify_finds_a_broken_link,
    a_receipt_creates_containers_and_verify_finds_a_broken_link
);
