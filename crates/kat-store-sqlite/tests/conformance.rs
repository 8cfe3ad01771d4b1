//! The shared conformance suite, on SQLite, plus what only SQLite can show.

use kat_store::Store;
use kat_store_sqlite::{OpenMode, SqliteStore};

async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("kat.db"), OpenMode::CreateIfMissing).await.unwrap();
    (dir, store)
}

/// A store that owns its temporary directory.
struct TempStore {
    _dir: tempfile::TempDir,
    store: SqliteStore,
}

impl std::ops::Deref for TempStore {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

async fn make() -> Option<TempStore> {
    let (dir, store) = fresh().await;
    Some(TempStore { _dir: dir, store })
}

kat_store::conformance_suite!(make());

#[tokio::test]
async fn a_missing_file_is_refused_when_it_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.db");
    assert!(SqliteStore::open(&path, OpenMode::MustExist).await.is_err());
    assert!(!path.exists(), "no empty database may be created");
}

#[tokio::test]
async fn the_audit_log_refuses_update_and_delete() {
    let (_dir, store) = fresh().await;
    let mut tx = store.begin().await.unwrap();
    tx.append_audit(&kat_core::audit::NewAuditEntry {
        at: jiff::Timestamp::UNIX_EPOCH,
        actor: kat_core::audit::AuditActor { user_id: None, label: "t".into() },
        action: kat_core::audit::AuditAction::Read,
        resource_type: "patient".into(),
        resource_id: None,
        patient_id: None,
        remote_addr: "cli".into(),
        outcome: kat_core::audit::AuditOutcome::Allowed,
        request_id: None,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", store.path().display())).await.unwrap();
    let update = sqlx::query("UPDATE audit_log SET actor_label = 'x'").execute(&pool).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log").execute(&pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn backup_makes_a_readable_copy() {
    let (dir, store) = fresh().await;
    let mut tx = store.begin().await.unwrap();
    tx.set_meta("marker", "42").await.unwrap();
    tx.commit().await.unwrap();
    let target = dir.path().join("backup.db");
    store.backup_to(&target).await.unwrap();
    let copy = SqliteStore::open(&target, OpenMode::MustExist).await.unwrap();
    let mut tx = copy.begin().await.unwrap();
    assert_eq!(tx.meta("marker").await.unwrap().as_deref(), Some("42"));
    assert_eq!(copy.migration_level().await.unwrap(), SqliteStore::latest_known_migration());
}
