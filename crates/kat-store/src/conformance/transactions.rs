//! Conformance cases of the transactions and the store itself: read transactions
//! (`begin_read`) see committed data, refuse writes the same way on both databases, and
//! never wait for an open writer; the migration level; a closed store.

use super::{audit, demographics, new_user, t0};
use crate::*;
use jiff::ToSpan;
use kat_core::audit::AuditAction;
use kat_core::ids::PatientId;
use kat_core::patient::PatientQuery;
use kat_core::role::Role;
use std::fmt::Debug;
use std::time::Duration;
use uuid::Uuid;

/// Longer than a healthy read takes by orders of magnitude, shorter than SQLite's busy
/// timeout (10 s): a read that queued on the write lock fails here.
const NO_WAIT: Duration = Duration::from_secs(5);

fn assert_read_only<T: Debug>(what: &str, result: StoreResult<T>) {
    assert!(matches!(result, Err(StoreError::ReadOnly)), "{what} in a read transaction gave {result:?}");
}

pub async fn read_transactions_see_committed_data(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let nurse = tx.insert_user(&new_user("nurse.read", Role::Nurse)).await.unwrap();
    let ada = tx
        .insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "1984-03-07"), t0())
        .await
        .unwrap();
    tx.set_meta("marker", "42").await.unwrap();
    tx.commit().await.unwrap();

    let mut read = store.begin_read().await.unwrap();
    assert_eq!(read.user_by_id(nurse.id).await.unwrap(), Some(nurse));
    assert_eq!(read.patient_by_id(ada.id).await.unwrap(), Some(ada.clone()));
    assert_eq!(read.search_patients(&PatientQuery::parse("quinn"), 10).await.unwrap(), vec![ada]);
    assert_eq!(read.count_patients().await.unwrap(), 1);
    assert_eq!(read.meta("marker").await.unwrap().as_deref(), Some("42"));
    read.commit().await.unwrap();
    // Dropping one without commit ends it too.
    let mut read = store.begin_read().await.unwrap();
    assert_eq!(read.count_patients().await.unwrap(), 1);
    drop(read);
}

pub async fn writes_in_a_read_transaction_fail_as_read_only(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let ada = tx
        .insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "1984-03-07"), t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Each refusal spoils its transaction (PostgreSQL aborts it), so one each.
    let mut read = store.begin_read().await.unwrap();
    assert_read_only("insert_user", read.insert_user(&new_user("ghost", Role::Nurse)).await);
    let mut read = store.begin_read().await.unwrap();
    assert_read_only("set_meta", read.set_meta("marker", "1").await);
    let mut read = store.begin_read().await.unwrap();
    assert_read_only("append_audit", read.append_audit(&audit(AuditAction::Read, t0(), None, Some(ada.id))).await);
    let mut read = store.begin_read().await.unwrap();
    let id = PatientId::from_uuid(Uuid::now_v7());
    assert_read_only("insert_patient", read.insert_patient(id, &demographics("Ben", "Ross", "1990-12-31"), t0()).await);
    let mut read = store.begin_read().await.unwrap();
    let changed = demographics("Ada", "Quinn-Lee", "1984-03-07");
    assert_read_only("update_patient", read.update_patient(ada.id, 1, &changed, t0() + 1.hour()).await);
    // Refused as a write even when no row would change.
    let mut read = store.begin_read().await.unwrap();
    assert_read_only("touch_session", read.touch_session("no such session", t0()).await);
    drop(read);

    let mut read = store.begin_read().await.unwrap();
    assert_eq!(read.count_patients().await.unwrap(), 1, "nothing was written");
    assert_eq!(read.patient_by_id(ada.id).await.unwrap(), Some(ada));
    assert!(read.list_users().await.unwrap().is_empty());
    assert_eq!(read.meta("marker").await.unwrap(), None);
}

pub async fn a_read_transaction_does_not_wait_for_an_open_write(store: &dyn Store) {
    let mut writer = store.begin().await.unwrap();
    writer
        .insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "1984-03-07"), t0())
        .await
        .unwrap();
    // The writer holds the write lock, uncommitted, while a read starts, reads and ends.
    let read = async {
        let mut read = store.begin_read().await?;
        let seen = read.count_patients().await?;
        read.commit().await?;
        Ok::<_, StoreError>(seen)
    };
    let seen = tokio::time::timeout(NO_WAIT, read).await.expect("the read transaction waited for the writer").unwrap();
    assert_eq!(seen, 0, "an uncommitted write is not seen");

    // A read transaction keeps its snapshot: a commit after its first read is not seen.
    let mut read = tokio::time::timeout(NO_WAIT, store.begin_read()).await.expect("begin_read waited").unwrap();
    assert_eq!(read.count_patients().await.unwrap(), 0);
    writer.commit().await.unwrap();
    assert_eq!(read.count_patients().await.unwrap(), 0, "the snapshot holds for the whole read transaction");
    read.commit().await.unwrap();
    let mut read = store.begin_read().await.unwrap();
    assert_eq!(read.count_patients().await.unwrap(), 1, "a new read transaction sees the commit");
}

pub async fn the_store_reports_its_migration_level_and_closes(store: &dyn Store) {
    // Both schemas have at least the name keys of 0009.
    let level = store.migration_level().await.unwrap();
    assert!(level >= 9, "migration level {level}");
    assert_eq!(store.migration_level().await.unwrap(), level);
    let mut tx = store.begin().await.unwrap();
    tx.set_meta("marker", "1").await.unwrap();
    tx.commit().await.unwrap();

    store.close().await;
    let write = store.begin().await.map(|_| ());
    assert!(matches!(write, Err(StoreError::Unavailable(_))), "begin after close gave {write:?}");
    let read = store.begin_read().await.map(|_| ());
    assert!(matches!(read, Err(StoreError::Unavailable(_))), "begin_read after close gave {read:?}");
    assert!(matches!(store.migration_level().await, Err(StoreError::Unavailable(_))));
}
