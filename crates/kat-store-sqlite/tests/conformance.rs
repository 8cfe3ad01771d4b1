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
    kat_store::conformance::append_one_audit_entry(&store).await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", store.path().display())).await.unwrap();
    let update = sqlx::query("UPDATE audit_log SET actor_label = 'x'").execute(&pool).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log").execute(&pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    for sql in ["UPDATE audit_entry_patients SET patient_id = audit_id", "DELETE FROM audit_entry_patients"] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("audit_entry_patients is append-only"), "{sql}: {err}");
    }
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

/// Every foreign key has an index that starts with its columns (a partial index does not
/// count), so a check on the referenced row's change or a join never scans the table. A
/// future migration that adds a foreign key without its index fails here.
#[tokio::test]
async fn every_foreign_key_has_an_index() {
    use sqlx::Row;
    use std::collections::BTreeMap;
    let (_dir, store) = fresh().await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", store.path().display())).await.unwrap();
    let mut fks: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
    let rows = sqlx::query(
        "SELECT m.name AS tbl, f.id AS id, f.\"from\" AS col FROM sqlite_schema m, pragma_foreign_key_list(m.name) f \
         WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for r in rows {
        fks.entry((r.get("tbl"), r.get("id"))).or_default().push(r.get("col"));
    }
    assert!(fks.len() > 40, "the foreign keys were not found: {fks:?}");
    let mut indexes: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let rows = sqlx::query(
        "SELECT m.name AS tbl, il.name AS idx, ii.name AS col \
         FROM sqlite_schema m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii \
         WHERE m.type = 'table' AND il.partial = 0 ORDER BY m.name, il.name, ii.seqno",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for r in rows {
        // An expression column has no name: it can never lead a foreign key's index.
        let col: Option<String> = r.get("col");
        indexes.entry((r.get("tbl"), r.get("idx"))).or_default().push(col.unwrap_or_default());
    }
    let unindexed = unindexed_foreign_keys(&fks, &indexes);
    assert!(unindexed.is_empty(), "foreign keys without an index starting with their columns: {unindexed:#?}");
    pool.close().await;
}

fn unindexed_foreign_keys(
    fks: &std::collections::BTreeMap<(String, i64), Vec<String>>,
    indexes: &std::collections::BTreeMap<(String, String), Vec<String>>,
) -> Vec<String> {
    fks.iter()
        .filter(|((table, _), cols)| {
            !indexes.iter().any(|((t, _), idx)| {
                t == table && idx.len() >= cols.len() && cols.iter().all(|c| idx[..cols.len()].contains(c))
            })
        })
        .map(|((table, _), cols)| format!("{table} ({})", cols.join(", ")))
        .collect()
}

#[tokio::test]
async fn names_stored_before_their_search_keys_are_folded_on_open() {
    use kat_store::conformance::{FOLDED_KEYS, assert_found_when_folded, register_patients_to_fold, search_ids};
    let (dir, store) = fresh().await;
    let path = dir.path().join("kat.db");
    let url = format!("sqlite://{}", path.display());
    let ids = register_patients_to_fold(&store).await;
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE patients SET given_name_key = '', family_name_key = ''").execute(&pool).await.unwrap();
    assert!(search_ids(&store, "ång").await.is_empty(), "the keys are empty");
    store.close().await;

    let store = SqliteStore::open(&path, OpenMode::MustExist).await.unwrap();
    assert_found_when_folded(&store, &ids).await;
    store.close().await;
    let keys: Vec<(String, String)> =
        sqlx::query_as("SELECT given_name_key, family_name_key FROM patients ORDER BY mrn")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(keys, FOLDED_KEYS.map(|(g, f)| (g.to_string(), f.to_string())));
    pool.close().await;
}

/// Walks the audit chain in a read transaction.
async fn walk(store: &SqliteStore) -> kat_store::audit_walk::WalkResult {
    let mut read = store.begin_read().await.unwrap();
    let r = kat_store::audit_walk::walk_audit_chain(&mut *read).await.unwrap();
    read.commit().await.unwrap();
    r
}

/// With the append-only triggers dropped, an edit, a removed entry and a removed tail
/// are each found by the hash chain at their place, and the missing triggers are named.
#[tokio::test]
async fn the_hash_chain_finds_what_the_triggers_no_longer_stop() {
    use kat_core::audit_chain::ChainBreak;
    for tamper in ["edit", "remove", "tail"] {
        let (_dir, store) = fresh().await;
        for _ in 0..4 {
            kat_store::conformance::append_one_audit_entry(&store).await;
        }
        assert_eq!(walk(&store).await.broken, None);
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", store.path().display())).await.unwrap();
        for drop in ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"] {
            sqlx::query(drop).execute(&pool).await.unwrap();
        }
        assert_eq!(store.missing_append_only_guards().await.unwrap(), ["audit_log_no_update", "audit_log_no_delete"]);
        let (sql, expected) = match tamper {
            "edit" => ("UPDATE audit_log SET actor_label = 'x' WHERE seq = 2", ChainBreak::Altered { seq: 2 }),
            "remove" => ("DELETE FROM audit_log WHERE seq = 3", ChainBreak::Unlinked { seq: 4 }),
            _ => ("DELETE FROM audit_log WHERE seq = 4", ChainBreak::HeadMismatch { head_seq: 4, last_seq: 3 }),
        };
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
        assert_eq!(walk(&store).await.broken, Some(expected), "{tamper}");
    }
}

/// Entries written before the chain existed (no hashes) are folded into it by the first
/// chained append: the walk counts them, and a later edit of one of them breaks the
/// chain at the first chained entry.
#[tokio::test]
async fn entries_from_before_the_chain_are_folded_into_it() {
    use kat_core::audit_chain::ChainBreak;
    let (_dir, store) = fresh().await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", store.path().display())).await.unwrap();
    for _ in 0..2 {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor_label, action, resource_type, remote_addr, outcome) \
             VALUES (randomblob(16), 0, 'before the chain', 'read', 'patient', 'cli', 'allowed')",
        )
        .execute(&pool)
        .await
        .unwrap();
    }
    kat_store::conformance::append_one_audit_entry(&store).await;
    kat_store::conformance::append_one_audit_entry(&store).await;
    let r = walk(&store).await;
    assert_eq!(r.broken, None);
    assert_eq!(r.walk.counts(), (4, 2), "four entries, two of them from before the chain");
    sqlx::query("DROP TRIGGER audit_log_no_update").execute(&pool).await.unwrap();
    sqlx::query("UPDATE audit_log SET actor_label = 'rewritten' WHERE seq = 1").execute(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(walk(&store).await.broken, Some(ChainBreak::Unlinked { seq: 3 }));
}

/// A new database, its WAL and its backups are readable by their owner only.
#[cfg(unix)]
#[tokio::test]
async fn database_wal_and_backups_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, store) = fresh().await;
    kat_store::conformance::append_one_audit_entry(&store).await;
    let backup = dir.path().join("copy.db");
    store.backup_to(&backup).await.unwrap();
    let mode = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
    for f in ["kat.db", "kat.db-wal", "kat.db-shm", "copy.db"] {
        assert_eq!(mode(f), 0o600, "{f}");
    }
    // The copy is a whole database.
    let copy = SqliteStore::open(&backup, OpenMode::MustExist).await.unwrap();
    let mut tx = copy.begin_read().await.unwrap();
    assert!(tx.audit_chain_head().await.unwrap().is_some());
    tx.commit().await.unwrap();
}

/// The ledger's entries and recorded balances cannot be changed or removed, and no
/// balance can be negative, whatever SQL tries (issue 13 items 8 and 9).
#[tokio::test]
async fn the_ledger_refuses_changes_and_negative_balances() {
    use kat_store::conformance::{LEDGER_REFUSED_WRITES, assert_ledger_writes_refused, seed_ledger};
    let (_dir, store) = fresh().await;
    seed_ledger(&store).await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", store.path().display())).await.unwrap();
    let mut outcomes = Vec::new();
    for (sql, _) in LEDGER_REFUSED_WRITES {
        outcomes.push(sqlx::query(sql).execute(&pool).await.err().map(|e| e.to_string()));
    }
    pool.close().await;
    assert_ledger_writes_refused(&store, &outcomes).await;
}

/// A store opened again reads the ledger's head from its row and appends after it.
#[tokio::test]
async fn the_ledger_head_survives_a_restart() {
    let (dir, store) = fresh().await;
    let container = kat_store::conformance::ledger_before_restart(&store).await;
    store.close().await;
    let store = SqliteStore::open(&dir.path().join("kat.db"), OpenMode::MustExist).await.unwrap();
    kat_store::conformance::ledger_continues_after_restart(&store, container).await;
}

/// With the ledger's triggers dropped, an edited entry and a removed last entry are
/// each found by the chain walk at their place.
#[tokio::test]
async fn the_ledger_chain_finds_what_the_triggers_no_longer_stop() {
    use kat_core::ledger::VerifyError;
    use kat_core::ledger::chain::ChainBreak;
    for (sql, expected) in [
        (
            "UPDATE ledger_entries SET content = replace(content, '\"NK\"', '\"XX\"') WHERE seq = 2",
            ChainBreak::Altered { seq: 2 },
        ),
        ("DELETE FROM ledger_entries WHERE seq = 2", ChainBreak::HeadMismatch { head_seq: 2, last_seq: 1 }),
    ] {
        let (_dir, store) = fresh().await;
        kat_store::conformance::seed_ledger(&store).await;
        use sqlx::Connection;
        // One connection: the foreign keys are off on it alone.
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", store.path().display())).await.unwrap();
        for drop in [
            "DROP TRIGGER ledger_entries_no_update",
            "DROP TRIGGER ledger_entries_no_delete",
            "DROP TRIGGER ledger_balances_no_delete",
            "PRAGMA foreign_keys = OFF",
        ] {
            sqlx::query(drop).execute(&mut conn).await.unwrap();
        }
        sqlx::query("DELETE FROM ledger_balances WHERE seq = 2 AND $1 LIKE 'DELETE%'")
            .bind(sql)
            .execute(&mut conn)
            .await
            .unwrap();
        let changed = sqlx::query(sql).execute(&mut conn).await.unwrap().rows_affected();
        assert_eq!(changed, 1, "{sql}");
        conn.close().await.unwrap();
        let mut read = store.begin_read().await.unwrap();
        let walk = kat_store::ledger::walk_ledger(&mut *read, 500).await.unwrap();
        assert_eq!(walk.outcome.err(), Some(VerifyError::Chain(expected)), "{sql}");
    }
}
