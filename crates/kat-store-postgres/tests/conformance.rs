//! The shared conformance suite, on PostgreSQL, plus what only PostgreSQL can show.

use kat_store_postgres::testing::fresh_database;

kat_store::conformance_suite!(fresh_database());

#[tokio::test]
async fn the_audit_log_refuses_update_delete_and_truncate() {
    let Some(db) = fresh_database().await else { return };
    kat_store::conformance::append_one_audit_entry(&*db).await;
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    for sql in [
        "UPDATE audit_log SET actor_label = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE audit_entry_patients SET patient_id = audit_id",
        "DELETE FROM audit_entry_patients",
        "TRUNCATE audit_entry_patients",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    pool.close().await;
}

/// Every foreign key has an index that starts with its columns (a partial index does not
/// count): PostgreSQL, unlike for a primary key, makes none by itself, so a check on the
/// referenced row's change or a join would scan the table. A future migration that adds a
/// foreign key without its index fails here.
#[tokio::test]
async fn every_foreign_key_has_an_index() {
    let Some(db) = fresh_database().await else { return };
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    // Columns of each foreign key and of each non-partial index, in key order; an
    // expression column of an index has no name and leads nothing.
    let fks: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text, \
           ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n) \
         FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace \
         ORDER BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(fks.len() > 40, "the foreign keys were not found: {fks:?}");
    let indexes: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT i.indrelid::regclass::text, \
           ARRAY(SELECT COALESCE(a.attname::text, '') FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) \
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         WHERE i.indpred IS NULL AND ic.relnamespace = 'public'::regnamespace",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let unindexed: Vec<String> = fks
        .iter()
        .filter(|(table, _, cols)| {
            !indexes.iter().any(|(t, idx)| {
                t == table && idx.len() >= cols.len() && cols.iter().all(|c| idx[..cols.len()].contains(c))
            })
        })
        .map(|(table, name, cols)| format!("{table} ({}) {name}", cols.join(", ")))
        .collect();
    assert!(unindexed.is_empty(), "foreign keys without an index starting with their columns: {unindexed:#?}");
    pool.close().await;
}

/// Names registered before migration 0009 get their search keys when kat connects, with
/// the same Rust folding as every insert and update (not the database's `lower`).
#[tokio::test]
async fn names_stored_before_their_search_keys_are_folded_on_connect() {
    use kat_store::Store;
    use kat_store::conformance::{FOLDED_KEYS, assert_found_when_folded, register_patients_to_fold, search_ids};
    let Some(db) = fresh_database().await else { return };
    let ids = register_patients_to_fold(&*db).await;
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    sqlx::query("UPDATE patients SET given_name_key = '', family_name_key = ''").execute(&pool).await.unwrap();
    assert!(search_ids(&*db, "ång").await.is_empty(), "the keys are empty");

    let again = kat_store_postgres::PostgresStore::connect(db.url()).await.unwrap();
    assert_found_when_folded(&again, &ids).await;
    again.close().await;
    let keys: Vec<(String, String)> =
        sqlx::query_as("SELECT given_name_key, family_name_key FROM patients ORDER BY mrn")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(keys, FOLDED_KEYS.map(|(g, f)| (g.to_string(), f.to_string())));
    pool.close().await;
}

/// With the append-only triggers dropped, an edit, a removed entry and a removed tail
/// are each found by the hash chain at their place, and the missing triggers are named.
#[tokio::test]
async fn the_hash_chain_finds_what_the_triggers_no_longer_stop() {
    use kat_core::audit_chain::ChainBreak;
    for tamper in ["edit", "remove", "tail"] {
        let Some(db) = fresh_database().await else { return };
        for _ in 0..4 {
            kat_store::conformance::append_one_audit_entry(&*db).await;
        }
        let walk = || async {
            let mut read = db.begin_read().await.unwrap();
            let r = kat_store::audit_walk::walk_audit_chain(&mut *read).await.unwrap();
            read.commit().await.unwrap();
            r
        };
        assert_eq!(walk().await.broken, None);
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        for drop in ["DROP TRIGGER audit_log_no_update ON audit_log", "DROP TRIGGER audit_log_no_delete ON audit_log"] {
            sqlx::query(drop).execute(&pool).await.unwrap();
        }
        assert_eq!(db.missing_append_only_guards().await.unwrap(), ["audit_log_no_update", "audit_log_no_delete"]);
        let (sql, expected) = match tamper {
            "edit" => ("UPDATE audit_log SET actor_label = 'x' WHERE seq = 2", ChainBreak::Altered { seq: 2 }),
            "remove" => ("DELETE FROM audit_log WHERE seq = 3", ChainBreak::Unlinked { seq: 4 }),
            _ => ("DELETE FROM audit_log WHERE seq = 4", ChainBreak::HeadMismatch { head_seq: 4, last_seq: 3 }),
        };
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
        assert_eq!(walk().await.broken, Some(expected), "{tamper}");
    }
}

/// The ledger's entries and recorded balances cannot be changed, removed or truncated,
/// and no balance can be negative, whatever SQL tries (issue 13 items 8 and 9).
#[tokio::test]
async fn the_ledger_refuses_changes_and_negative_balances() {
    use kat_store::conformance::{LEDGER_REFUSED_WRITES, assert_ledger_writes_refused, seed_ledger};
    let Some(db) = fresh_database().await else { return };
    seed_ledger(&*db).await;
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let mut outcomes = Vec::new();
    for (sql, _) in LEDGER_REFUSED_WRITES {
        outcomes.push(sqlx::query(sql).execute(&pool).await.err().map(|e| e.to_string()));
    }
    for sql in ["TRUNCATE ledger_entries CASCADE", "TRUNCATE ledger_balances"] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    pool.close().await;
    assert_ledger_writes_refused(&*db, &outcomes).await;
}

/// A second connection to the database (a restarted server) reads the ledger's head from
/// its row and appends after it.
#[tokio::test]
async fn the_ledger_head_survives_a_restart() {
    let Some(db) = fresh_database().await else { return };
    let container = kat_store::conformance::ledger_before_restart(&*db).await;
    kat_store::Store::close(db.store()).await;
    let again = kat_store_postgres::PostgresStore::connect(db.url()).await.unwrap();
    kat_store::conformance::ledger_continues_after_restart(&again, container).await;
    kat_store::Store::close(&again).await;
}
