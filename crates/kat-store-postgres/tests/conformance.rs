//! The shared conformance suite, on PostgreSQL, plus what only PostgreSQL can show.

use kat_store_postgres::testing::fresh_database;

kat_store::conformance_suite!(fresh_database());

#[tokio::test]
async fn the_audit_log_refuses_update_delete_and_truncate() {
    let Some(db) = fresh_database().await else { return };
    let mut tx = db.begin().await.unwrap();
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
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    for sql in ["UPDATE audit_log SET actor_label = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    pool.close().await;
}
