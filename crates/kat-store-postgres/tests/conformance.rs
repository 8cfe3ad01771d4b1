//! The shared conformance suite, on PostgreSQL, plus what only PostgreSQL can show.

use kat_store_postgres::testing::fresh_database;

kat_store::conformance_suite!(fresh_database());

#[tokio::test]
async fn the_audit_log_refuses_update_delete_and_truncate() {
    let Some(db) = fresh_database().await else { return };
    let mut tx = db.begin().await.unwrap();
    // A list view's entry, with the patient it showed (audit_entry_patients).
    let shown = [kat_core::ids::PatientId::from_uuid(uuid::Uuid::now_v7())];
    tx.append_audit_listing(
        &kat_core::audit::NewAuditEntry {
            at: jiff::Timestamp::UNIX_EPOCH,
            actor: kat_core::audit::AuditActor { user_id: None, label: "t".into() },
            action: kat_core::audit::AuditAction::Read,
            resource_type: "patient".into(),
            resource_id: None,
            patient_id: None,
            remote_addr: "cli".into(),
            outcome: kat_core::audit::AuditOutcome::Allowed,
            request_id: None,
        },
        &shown,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
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
    let Some(db) = fresh_database().await else { return };
    let mut tx = db.begin().await.unwrap();
    let mut ids = Vec::new();
    for (given, family) in [("ÉLODIE", "Ångström"), ("Emre", "Öztürk")] {
        let id = kat_core::ids::PatientId::from_uuid(uuid::Uuid::now_v7());
        let form = kat_core::patient::DemographicsForm {
            given_name: given.into(),
            family_name: family.into(),
            birth_date: "1984-03-07".into(),
            sex_at_birth: "female".into(),
            ..Default::default()
        };
        tx.insert_patient(id, &form.parse(jiff::civil::date(2026, 3, 1)).unwrap(), jiff::Timestamp::UNIX_EPOCH)
            .await
            .unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    sqlx::query("UPDATE patients SET given_name_key = '', family_name_key = ''").execute(&pool).await.unwrap();
    let search = async |store: &dyn Store, q: &str| {
        let mut tx = store.begin_read().await.unwrap();
        let found = tx.search_patients(&kat_core::patient::PatientQuery::parse(q), 50).await.unwrap();
        found.into_iter().map(|p| p.id).collect::<Vec<_>>()
    };
    assert!(search(&*db, "ång").await.is_empty(), "the keys are empty");

    let again = kat_store_postgres::PostgresStore::connect(db.url()).await.unwrap();
    assert_eq!(search(&again, "ÅNG").await, [ids[0]]);
    assert_eq!(search(&again, "élodie").await, [ids[0]]);
    assert_eq!(search(&again, "öz").await, [ids[1]]);
    again.close().await;
    let keys: Vec<(String, String)> =
        sqlx::query_as("SELECT given_name_key, family_name_key FROM patients ORDER BY mrn")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(keys, [("élodie".into(), "ångström".into()), ("emre".into(), "öztürk".into())]);
    pool.close().await;
}
