//! The conformance suite: one behaviour, checked against every adapter.
//!
//! Each adapter's tests call [`conformance_suite!`] with an async expression that makes
//! a fresh, empty, migrated store (or `None` to skip, which prints a loud notice). Each
//! case below becomes one `#[tokio::test]` in the adapter's test binary.

use crate::*;
use jiff::{Timestamp, ToSpan};
use kat_core::audit::{AuditAction, AuditActor, AuditFilter, AuditOutcome, NewAuditEntry};
use kat_core::ids::{PatientId, TokenId, UserId};
use kat_core::patient::{Demographics, DemographicsForm, PatientQuery};
use kat_core::role::Role;
use kat_core::user::{AccountKind, Username};
use uuid::Uuid;

mod dosing;
pub use dosing::*;
mod floor;
pub use floor::*;
mod ledger;
pub use ledger::*;
mod lists;
pub use lists::*;
mod measures;
pub use measures::*;
mod therapy;
pub use therapy::*;
mod transactions;
pub use transactions::*;

/// For an adapter's own test that its schema refuses to change the audit log: commits
/// one entry, a list view's with the patient it showed (`audit_entry_patients`), for the
/// test to try to update and delete with its own SQL.
pub async fn append_one_audit_entry(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let shown = [PatientId::from_uuid(Uuid::now_v7())];
    tx.append_audit_listing(
        &NewAuditEntry {
            at: Timestamp::UNIX_EPOCH,
            actor: AuditActor { user_id: None, label: "t".into() },
            action: AuditAction::Read,
            resource_type: "patient".into(),
            resource_id: None,
            patient_id: None,
            remote_addr: "cli".into(),
            outcome: AuditOutcome::Allowed,
            request_id: None,
        },
        &shown,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// For an adapter's own test of search keys folded when it opens: registers two
/// patients whose names need folding (`ÉLODIE Ångström`, `Emre Öztürk`); the test then
/// empties their keys with its own SQL, as rows from before migration 0009 hold them.
pub async fn register_patients_to_fold(store: &dyn Store) -> Vec<PatientId> {
    let mut tx = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for (given, family) in [("ÉLODIE", "Ångström"), ("Emre", "Öztürk")] {
        let id = PatientId::from_uuid(Uuid::now_v7());
        let form = DemographicsForm {
            given_name: given.into(),
            family_name: family.into(),
            birth_date: "1984-03-07".into(),
            sex_at_birth: "female".into(),
            ..Default::default()
        };
        tx.insert_patient(id, &form.parse(jiff::civil::date(2026, 3, 1)).unwrap(), Timestamp::UNIX_EPOCH)
            .await
            .unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();
    ids
}

/// The search keys [`register_patients_to_fold`]'s patients must hold once folded: the
/// bytes of the Rust folding every insert and update writes.
pub const FOLDED_KEYS: [(&str, &str); 2] = [("élodie", "ångström"), ("emre", "öztürk")];

/// Checks that [`register_patients_to_fold`]'s patients (`ids`) are found again by their
/// names in any case and accents kept, once the adapter has folded their keys.
pub async fn assert_found_when_folded(store: &dyn Store, ids: &[PatientId]) {
    assert_eq!(search_ids(store, "ÅNG").await, [ids[0]]);
    assert_eq!(search_ids(store, "élodie").await, [ids[0]]);
    assert_eq!(search_ids(store, "öz").await, [ids[1]]);
}

/// The patients a registry search finds, in its order.
pub async fn search_ids(store: &dyn Store, q: &str) -> Vec<PatientId> {
    let mut tx = store.begin_read().await.unwrap();
    let found = tx.search_patients(&PatientQuery::parse(q), 50).await.unwrap();
    found.into_iter().map(|p| p.id).collect()
}

/// Generates one test per conformance case. `$make` is an async expression giving
/// `Option<Box<dyn Store>>`; `None` skips the case with a notice.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@cases $make;
            users_round_trip,
            duplicate_usernames_conflict_by_name,
            user_activation_and_password,
            sessions_touch_and_expire,
            sign_in_failures_are_counted_per_key_and_cleared,
            anonymous_failures_count_per_source_and_window,
            mfa_enrolment_steps_and_recovery_codes,
            tokens_hash_lookup_and_revocation,
            patients_get_sequential_mrns,
            patient_search_by_name_date_and_mrn,
            patient_search_escapes_like_wildcards,
            patient_search_matches_name_prefixes_in_every_script,
            patient_update_checks_the_version,
            audit_entries_append_and_filter,
            audit_entries_form_a_hash_chain_to_the_head,
            concurrent_appends_chain_one_after_another,
            lists_read_patients_by_id_and_search_pages,
            lists_read_completed_measures_of_planned_patients,
            lists_read_a_patients_session_events_of_a_kind,
            list_views_are_audited_once_naming_every_patient,
            long_lists_read_and_audit_every_patient,
            dropped_transaction_rolls_back,
            times_round_trip_to_the_microsecond,
            meta_is_a_small_key_value_table,
            intake_versions_evaluations_decisions_and_flags,
            measure_responses_round_trip,
            self_report_links_are_single_use,
            safety_alerts_raise_once_and_acknowledge_once,
            measurement_plans_upsert_and_list,
            therapy_notes_lock_when_signed,
            process_notes_keep_their_readers,
            safety_plan_versions_and_one_time_links,
            care_team_and_planned_sessions,
            team_relation_and_break_glass_grants,
            dosing_gate_before_administration_and_alarms_once,
            dosing_session_state_is_stored_beside_the_session_and_held_for_update,
            sessions_with_records_come_a_page_at_a_time,
            the_dosing_day_reads_signed_plans_deferred_and_the_days_sessions,
            read_transactions_see_committed_data,
            writes_in_a_read_transaction_fail_as_read_only,
            a_read_transaction_does_not_wait_for_an_open_write,
            the_store_reports_its_migration_level_and_closes,
            floor_tiles_read_open_sessions_with_their_newest_readings,
            notifications_reach_listeners_across_processes,
            ledger_registrant_locations_and_products_round_trip,
            ledger_entries_round_trip_with_their_containers_and_balances,
            ledger_appends_chain_from_the_head_row,
            ledger_entries_are_unique_and_roll_back_whole,
            ledger_reads_come_a_page_at_a_time,
            ledger_cases_and_losses_keep_their_state,
            concurrent_ledger_appends_never_fork_the_chain
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                match $make.await {
                    Some(store) => $crate::conformance::$case(&*store).await,
                    None => eprintln!(
                        "\n*** SKIPPED conformance case `{}`: no database server reachable ***\n",
                        stringify!($case)
                    ),
                }
            }
        )*
    };
}

fn t0() -> Timestamp {
    "2026-03-01T09:00:00Z".parse().unwrap()
}

fn new_user(name: &str, role: Role) -> NewUser {
    NewUser {
        id: UserId::from_uuid(Uuid::now_v7()),
        username: Username::parse(name).unwrap(),
        display_name: format!("{name} (test)"),
        role,
        kind: AccountKind::Staff,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$fake$fake".into()),
        created_at: t0(),
    }
}

fn demographics(given: &str, family: &str, birth: &str) -> Demographics {
    DemographicsForm {
        given_name: given.into(),
        family_name: family.into(),
        birth_date: birth.into(),
        sex_at_birth: "female".into(),
        phone: "+1 555 010 1234".into(),
        email: format!("{}@example.org", given.to_lowercase()),
        address: "1 Main St\nSpringfield".into(),
        emergency_contact_name: "Sam Doe".into(),
        emergency_contact_relationship: "partner".into(),
        emergency_contact_phone: "555 010 9999".into(),
        ..Default::default()
    }
    .parse(jiff::civil::date(2026, 11, 22))
    .unwrap()
}

fn audit(action: AuditAction, at: Timestamp, user: Option<UserId>, patient: Option<PatientId>) -> NewAuditEntry {
    NewAuditEntry {
        at,
        actor: AuditActor { user_id: user, label: "tester".into() },
        action,
        resource_type: "patient".into(),
        resource_id: patient.map(|p| p.to_string()),
        patient_id: patient,
        remote_addr: "127.0.0.1".into(),
        outcome: AuditOutcome::Allowed,
        request_id: Some("req-1".into()),
    }
}

pub async fn users_round_trip(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let admin = tx.insert_user(&new_user("admin.one", Role::Admin)).await.unwrap();
    let nurse = tx.insert_user(&new_user("nurse.kim", Role::Nurse)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.user_by_id(admin.id).await.unwrap(), Some(admin.clone()));
    assert_eq!(tx.user_by_id(UserId::from_uuid(Uuid::now_v7())).await.unwrap(), None);
    let creds = tx.credentials_by_username(&Username::parse("nurse.kim").unwrap()).await.unwrap().unwrap();
    assert_eq!(creds.user, nurse);
    assert!(creds.password_hash.unwrap().starts_with("$argon2id$"));
    let names: Vec<String> = tx.list_users().await.unwrap().into_iter().map(|u| u.username.to_string()).collect();
    assert_eq!(names, vec!["admin.one", "nurse.kim"]);
    assert_eq!(tx.count_active_admins().await.unwrap(), 1);
}

pub async fn duplicate_usernames_conflict_by_name(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&new_user("dup", Role::Nurse)).await.unwrap();
    let err = tx.insert_user(&new_user("dup", Role::Admin)).await.unwrap_err();
    assert!(err.is_conflict_on(constraints::USERS_USERNAME_UNIQUE), "unexpected error {err:?}");
}

pub async fn user_activation_and_password(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let admin = tx.insert_user(&new_user("boss", Role::Admin)).await.unwrap();
    tx.set_user_active(admin.id, false).await.unwrap();
    assert_eq!(tx.count_active_admins().await.unwrap(), 0);
    assert!(!tx.user_by_id(admin.id).await.unwrap().unwrap().active);
    assert!(!admin.must_change_password, "a new account chose its own password");
    tx.set_password_hash(admin.id, "$argon2id$new", true).await.unwrap();
    let creds = tx.credentials_by_username(&admin.username).await.unwrap().unwrap();
    assert_eq!(creds.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(creds.user.must_change_password, "an admin's reset must be changed at next sign-in");
    tx.set_password_hash(admin.id, "$argon2id$own", false).await.unwrap();
    assert!(!tx.user_by_id(admin.id).await.unwrap().unwrap().must_change_password);
    let missing_user = UserId::from_uuid(Uuid::now_v7());
    assert!(matches!(tx.set_password_hash(missing_user, "$argon2id$x", false).await, Err(StoreError::NotFound)));
    let missing = UserId::from_uuid(Uuid::now_v7());
    assert!(matches!(tx.set_user_active(missing, true).await, Err(StoreError::NotFound)));
}

pub async fn sessions_touch_and_expire(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let user = tx.insert_user(&new_user("sess", Role::Therapist)).await.unwrap();
    let session = |hash: &str, created: Timestamp| SessionRecord {
        id_hash: hash.into(),
        user_id: user.id,
        created_at: created,
        last_seen_at: created,
        remote_addr: "127.0.0.1".into(),
    };
    tx.insert_session(&session("old", t0())).await.unwrap();
    tx.insert_session(&session("new", t0() + 10.minutes())).await.unwrap();
    tx.touch_session("old", t0() + 5.minutes()).await.unwrap();
    let old = tx.session_by_hash("old").await.unwrap().unwrap();
    assert_eq!(old.last_seen_at, t0() + 5.minutes());
    assert_eq!(old.created_at, t0());

    // Idle cut-off exactly at last_seen keeps the session (strictly before is stale).
    let removed = tx.delete_stale_sessions(t0() + 5.minutes(), t0() - 1.hour()).await.unwrap();
    assert_eq!(removed, 0);
    let removed = tx.delete_stale_sessions(t0() + 5.minutes() + 1.microsecond(), t0() - 1.hour()).await.unwrap();
    assert_eq!(removed, 1);
    assert!(tx.session_by_hash("old").await.unwrap().is_none());
    // Absolute lifetime: created before the cut-off is removed even if recently seen.
    let removed = tx.delete_stale_sessions(t0(), t0() + 10.minutes() + 1.microsecond()).await.unwrap();
    assert_eq!(removed, 1);
    tx.insert_session(&session("third", t0())).await.unwrap();
    tx.delete_session("third").await.unwrap();
    assert!(tx.session_by_hash("third").await.unwrap().is_none());

    // A password change ends the account's other sessions, and only the account's.
    let other = tx.insert_user(&new_user("sess.other", Role::Nurse)).await.unwrap();
    for hash in ["a", "b", "c"] {
        tx.insert_session(&session(hash, t0())).await.unwrap();
    }
    tx.insert_session(&SessionRecord { user_id: other.id, ..session("theirs", t0()) }).await.unwrap();
    assert_eq!(tx.delete_sessions_of_user(user.id, Some("b")).await.unwrap(), 2);
    assert!(tx.session_by_hash("a").await.unwrap().is_none());
    assert!(tx.session_by_hash("b").await.unwrap().is_some(), "the session kept");
    assert!(tx.session_by_hash("theirs").await.unwrap().is_some(), "another account's session");
    assert_eq!(tx.delete_sessions_of_user(user.id, None).await.unwrap(), 1);
    assert!(tx.session_by_hash("b").await.unwrap().is_none());
    assert!(tx.session_by_hash("theirs").await.unwrap().is_some());
}

/// Sign-in failures are kept per key, replaced whole, read only for the keys asked,
/// and cleared.
pub async fn sign_in_failures_are_counted_per_key_and_cleared(store: &dyn Store) {
    use kat_core::sign_in::Failures;
    let mut tx = store.begin().await.unwrap();
    let a = Failures { count: 3, last_at: t0(), locked_until: None };
    let b = Failures { count: 10, last_at: t0() + 1.minute(), locked_until: Some(t0() + 16.minutes()) };
    tx.put_sign_in_failures("account:1", &a).await.unwrap();
    tx.put_sign_in_failures("address:10.0.0.1", &a).await.unwrap();
    tx.put_sign_in_failures("address:10.0.0.1", &b).await.unwrap();
    tx.commit().await.unwrap();
    let mut read = store.begin_read().await.unwrap();
    let keys = ["account:1".to_string(), "address:10.0.0.1".to_string(), "account:2".to_string()];
    let got = read.sign_in_failures(&keys).await.unwrap();
    assert_eq!(got, vec![("account:1".to_string(), a), ("address:10.0.0.1".to_string(), b)]);
    read.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.clear_sign_in_failures("account:1").await.unwrap());
    assert!(!tx.clear_sign_in_failures("account:1").await.unwrap(), "nothing left to clear");
    assert_eq!(tx.sign_in_failures(&keys).await.unwrap().len(), 1);
    tx.commit().await.unwrap();
}

/// Anonymous failures are counted per source and window: the first answers 1, later
/// ones of the same window add to it; another source or window starts its own count.
pub async fn anonymous_failures_count_per_source_and_window(store: &dyn Store) {
    let w1 = t0();
    let w2 = t0() + 15.minutes();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.count_anonymous_failure("203.0.113.9", w1, t0() + 1.second()).await.unwrap(), 1);
    assert_eq!(tx.count_anonymous_failure("203.0.113.9", w1, t0() + 2.seconds()).await.unwrap(), 2);
    assert_eq!(tx.count_anonymous_failure("198.51.100.1", w1, t0() + 3.seconds()).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.count_anonymous_failure("203.0.113.9", w1, t0() + 4.seconds()).await.unwrap(), 3);
    assert_eq!(tx.count_anonymous_failure("203.0.113.9", w2, w2 + 1.second()).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let mut read = store.begin_read().await.unwrap();
    let all = read.anonymous_failures(0, 10).await.unwrap();
    read.commit().await.unwrap();
    let seen: Vec<(&str, Timestamp, i64)> =
        all.iter().map(|w| (w.source.as_str(), w.window_start, w.failures)).collect();
    assert_eq!(seen, vec![("203.0.113.9", w2, 1), ("198.51.100.1", w1, 1), ("203.0.113.9", w1, 3)]);
    assert_eq!((all[2].first_at, all[2].last_at), (t0() + 1.second(), t0() + 4.seconds()));
    let mut read = store.begin_read().await.unwrap();
    assert_eq!(read.anonymous_failures(1, 1).await.unwrap().len(), 1, "paged");
    read.commit().await.unwrap();
}

/// A TOTP enrolment is pending until confirmed, its last step only moves forward, each
/// recovery code is used once, and a reset removes everything.
pub async fn mfa_enrolment_steps_and_recovery_codes(store: &dyn Store) {
    use kat_core::mfa::TotpSecret;
    let mut tx = store.begin().await.unwrap();
    let user = tx.insert_user(&new_user("mfa-admin", Role::Admin)).await.unwrap();
    assert_eq!(tx.mfa_of(user.id).await.unwrap(), None);
    assert!(matches!(tx.confirm_mfa(user.id, t0(), 1, &[]).await, Err(StoreError::NotFound)), "nothing pending");
    let first = TotpSecret::from_random([1; 20]);
    let secret = TotpSecret::from_random([2; 20]);
    tx.begin_mfa(user.id, &first, t0()).await.unwrap();
    tx.begin_mfa(user.id, &secret, t0() + 1.minute()).await.unwrap();
    let pending = tx.mfa_of(user.id).await.unwrap().unwrap();
    assert_eq!(
        (pending.secret.clone(), pending.created_at, pending.enrolled_at),
        (secret.clone(), t0() + 1.minute(), None)
    );
    let hashes = vec!["h1".to_string(), "h2".to_string()];
    tx.confirm_mfa(user.id, t0() + 2.minutes(), 100, &hashes).await.unwrap();
    assert!(matches!(tx.confirm_mfa(user.id, t0(), 1, &[]).await, Err(StoreError::NotFound)), "confirmed once");
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let enrolled = tx.mfa_of(user.id).await.unwrap().unwrap();
    assert_eq!((enrolled.enrolled_at, enrolled.last_used_step), (Some(t0() + 2.minutes()), Some(100)));
    assert!(!tx.advance_mfa_step(user.id, 100).await.unwrap(), "the same step again");
    assert!(!tx.advance_mfa_step(user.id, 99).await.unwrap(), "an older step");
    assert!(tx.advance_mfa_step(user.id, 101).await.unwrap());
    assert_eq!(tx.unused_recovery_codes(user.id).await.unwrap(), 2);
    assert!(tx.use_recovery_code(user.id, "h1", t0()).await.unwrap());
    assert!(!tx.use_recovery_code(user.id, "h1", t0()).await.unwrap(), "used once");
    assert!(!tx.use_recovery_code(user.id, "nope", t0()).await.unwrap());
    assert_eq!(tx.unused_recovery_codes(user.id).await.unwrap(), 1);
    // A new set replaces every old code, used or not.
    tx.replace_recovery_codes(user.id, &["h3".to_string(), "h4".to_string(), "h5".to_string()]).await.unwrap();
    assert_eq!(tx.unused_recovery_codes(user.id).await.unwrap(), 3);
    assert!(!tx.use_recovery_code(user.id, "h2", t0()).await.unwrap(), "an old code stops working");
    assert!(tx.use_recovery_code(user.id, "h4", t0()).await.unwrap());
    assert!(tx.delete_mfa(user.id).await.unwrap());
    assert!(
        matches!(tx.replace_recovery_codes(user.id, &[]).await, Err(StoreError::NotFound)),
        "no codes without an enrolment"
    );
    assert!(!tx.delete_mfa(user.id).await.unwrap());
    assert_eq!(tx.mfa_of(user.id).await.unwrap(), None);
    assert_eq!(tx.unused_recovery_codes(user.id).await.unwrap(), 0);
    // Half-done sign-ins: found by hash, ended once, swept by age or by account.
    tx.insert_sign_in_challenge("c1", user.id, t0()).await.unwrap();
    tx.insert_sign_in_challenge("c2", user.id, t0() + 10.minutes()).await.unwrap();
    assert_eq!(tx.sign_in_challenge("c1").await.unwrap(), Some((user.id, t0())));
    assert!(tx.delete_sign_in_challenge("c1").await.unwrap());
    assert!(!tx.delete_sign_in_challenge("c1").await.unwrap());
    tx.insert_sign_in_challenge("c1", user.id, t0()).await.unwrap();
    assert_eq!(tx.delete_stale_sign_in_challenges(t0() + 5.minutes(), None).await.unwrap(), 1);
    assert_eq!(tx.sign_in_challenge("c2").await.unwrap(), Some((user.id, t0() + 10.minutes())));
    assert_eq!(tx.delete_stale_sign_in_challenges(t0(), Some(user.id)).await.unwrap(), 1);
    assert_eq!(tx.sign_in_challenge("c2").await.unwrap(), None);
    tx.commit().await.unwrap();
}

pub async fn tokens_hash_lookup_and_revocation(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let user = tx.insert_user(&new_user("bot", Role::FrontDesk)).await.unwrap();
    let token = ApiTokenRecord {
        id: TokenId::from_uuid(Uuid::now_v7()),
        user_id: user.id,
        label: "import script".into(),
        token_hash: "abc123".into(),
        created_at: t0(),
        revoked_at: None,
        last_used_at: None,
        expires_at: Some(t0() + (90 * 24).hours()),
    };
    tx.insert_token(&token).await.unwrap();
    assert_eq!(tx.token_by_hash("abc123").await.unwrap(), Some(token.clone()), "the expiry round-trips");
    assert_eq!(tx.token_by_hash("nope").await.unwrap(), None);
    tx.touch_token(token.id, t0() + 1.minute()).await.unwrap();
    tx.revoke_token(token.id, t0() + 2.minutes()).await.unwrap();
    tx.revoke_token(token.id, t0() + 3.minutes()).await.unwrap();
    let stored = tx.token_by_hash("abc123").await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(t0() + 2.minutes()), "first revocation time is kept");
    assert_eq!(stored.last_used_at, Some(t0() + 1.minute()));
    assert_eq!(tx.list_tokens().await.unwrap().len(), 1);
    // An account's tokens revoked at once: only those not revoked yet, only its own.
    let other = tx.insert_user(&new_user("bot2", Role::FrontDesk)).await.unwrap();
    let mine = ApiTokenRecord { id: TokenId::from_uuid(Uuid::now_v7()), token_hash: "def456".into(), ..token.clone() };
    let theirs = ApiTokenRecord {
        id: TokenId::from_uuid(Uuid::now_v7()),
        user_id: other.id,
        token_hash: "ghi789".into(),
        ..token.clone()
    };
    tx.insert_token(&mine).await.unwrap();
    tx.insert_token(&theirs).await.unwrap();
    assert_eq!(tx.revoke_tokens_of_user(user.id, t0() + 5.minutes()).await.unwrap(), 1, "the one still live");
    assert_eq!(tx.token_by_hash("def456").await.unwrap().unwrap().revoked_at, Some(t0() + 5.minutes()));
    assert_eq!(tx.token_by_hash("abc123").await.unwrap().unwrap().revoked_at, Some(t0() + 2.minutes()));
    assert_eq!(tx.token_by_hash("ghi789").await.unwrap().unwrap().revoked_at, None);
    assert!(matches!(tx.revoke_token(TokenId::from_uuid(Uuid::now_v7()), t0()).await, Err(StoreError::NotFound)));
    // A failed statement spoils the transaction (PostgreSQL aborts it), so the
    // conflict is the last thing this transaction does.
    let dup = ApiTokenRecord { id: TokenId::from_uuid(Uuid::now_v7()), ..token.clone() };
    assert!(tx.insert_token(&dup).await.unwrap_err().is_conflict_on(constraints::API_TOKENS_HASH_UNIQUE));
}

pub async fn patients_get_sequential_mrns(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let a = tx
        .insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "1984-03-07"), t0())
        .await
        .unwrap();
    let b = tx
        .insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ben", "Ross", "1990-12-31"), t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(a.mrn.as_str(), "KAT-000001");
    assert_eq!(b.mrn.as_str(), "KAT-000002");
    assert_eq!(a.version, 1);
    assert_eq!(a.demographics, demographics("Ada", "Quinn", "1984-03-07"));
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.patient_by_id(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(tx.count_patients().await.unwrap(), 2);
    assert_eq!(tx.patient_by_id(PatientId::from_uuid(Uuid::now_v7())).await.unwrap(), None);
}

pub async fn patient_search_by_name_date_and_mrn(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    for (g, f, b) in [
        ("Ada", "Quinn", "1984-03-07"),
        ("Adam", "Quincy", "1971-01-15"),
        ("Zoe", "Adams", "1984-03-07"),
        ("Ben", "Ross", "1990-12-31"),
    ] {
        tx.insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics(g, f, b), t0()).await.unwrap();
    }
    let names = |ps: Vec<kat_core::patient::Patient>| -> Vec<String> {
        ps.iter().map(|p| p.demographics.sort_name()).collect()
    };
    let found = tx.search_patients(&PatientQuery::parse("ada"), 50).await.unwrap();
    assert_eq!(names(found), vec!["Adams, Zoe", "Quincy, Adam", "Quinn, Ada"]);
    let found = tx.search_patients(&PatientQuery::parse("QUIN"), 50).await.unwrap();
    assert_eq!(names(found), vec!["Quincy, Adam", "Quinn, Ada"]);
    let found = tx.search_patients(&PatientQuery::parse("1984-03-07"), 50).await.unwrap();
    assert_eq!(names(found), vec!["Adams, Zoe", "Quinn, Ada"]);
    let found = tx.search_patients(&PatientQuery::parse("ada 1984-03-07 quinn"), 50).await.unwrap();
    assert_eq!(names(found), vec!["Quinn, Ada"]);
    let found = tx.search_patients(&PatientQuery::parse("kat-000004"), 50).await.unwrap();
    assert_eq!(names(found), vec!["Ross, Ben"]);
    let found = tx.search_patients(&PatientQuery::parse("nobody"), 50).await.unwrap();
    assert!(found.is_empty());
    let found = tx.search_patients(&PatientQuery::parse(""), 2).await.unwrap();
    assert_eq!(found.len(), 2, "an empty query lists, up to the limit");
}

/// Names are matched by prefix, case-insensitively in every script, and listed in the
/// same order on both databases (code-point order of the folded names: "z" before "å").
pub async fn patient_search_matches_name_prefixes_in_every_script(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for (g, f) in [("ÉLODIE", "Ångström"), ("Emre", "Öztürk"), ("Zoë", "Zed"), ("Anna", "Angstrom")] {
        let id = PatientId::from_uuid(Uuid::now_v7());
        tx.insert_patient(id, &demographics(g, f, "1984-03-07"), t0()).await.unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let mut names = async |q: &str| -> Vec<String> {
        let found = tx.search_patients(&PatientQuery::parse(q), 50).await.unwrap();
        found.iter().map(|p| p.demographics.sort_name()).collect()
    };
    assert_eq!(names("").await, ["Angstrom, Anna", "Zed, Zoë", "Ångström, ÉLODIE", "Öztürk, Emre"]);
    for q in ["ång", "ÅNG", "Ångström"] {
        assert_eq!(names(q).await, ["Ångström, ÉLODIE"], "{q}");
    }
    for q in ["élo", "ÉLODIE", "élodie"] {
        assert_eq!(names(q).await, ["Ångström, ÉLODIE"], "{q}");
    }
    for q in ["öz", "ÖZTÜRK", "Öztürk"] {
        assert_eq!(names(q).await, ["Öztürk, Emre"], "{q}");
    }
    // Given or family name; no accent folding; the start of a name, not its middle.
    assert_eq!(names("ang").await, ["Angstrom, Anna"]);
    assert_eq!(names("an").await, ["Angstrom, Anna"]);
    assert_eq!(names("zo").await, ["Zed, Zoë"]);
    assert_eq!(names("e").await, ["Öztürk, Emre"], "é is not e");
    assert!(names("odie").await.is_empty(), "a name matches from its start");
    assert!(names("strom").await.is_empty(), "a name matches from its start");
    assert!(names("ångströms").await.is_empty());
    drop(tx);

    // An edit folds the new name too.
    let mut tx = store.begin().await.unwrap();
    tx.update_patient(ids[0], 1, &demographics("ÉLODIE", "Über", "1984-03-07"), t0()).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let found = tx.search_patients(&PatientQuery::parse("ÜB"), 50).await.unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [ids[0]]);
    assert!(tx.search_patients(&PatientQuery::parse("ång"), 50).await.unwrap().is_empty());
}

pub async fn patient_search_escapes_like_wildcards(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "1984-03-07"), t0())
        .await
        .unwrap();
    for q in ["%", "_", "a%n", "\\"] {
        let found = tx.search_patients(&PatientQuery::parse(q), 50).await.unwrap();
        assert!(found.is_empty(), "`{q}` must be matched literally");
    }
}

pub async fn patient_update_checks_the_version(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let p = tx
        .insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "1984-03-07"), t0())
        .await
        .unwrap();
    let mut changed = demographics("Ada", "Quinn-Lee", "1984-03-07");
    changed.email = None;
    changed.emergency_contact = Default::default();
    let updated = tx.update_patient(p.id, 1, &changed, t0() + 1.hour()).await.unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.demographics, changed);
    assert_eq!(updated.updated_at, t0() + 1.hour());
    assert_eq!(updated.created_at, t0());
    assert_eq!(updated.mrn, p.mrn);
    assert!(matches!(tx.update_patient(p.id, 1, &changed, t0()).await, Err(StoreError::StaleVersion)));
    assert!(matches!(
        tx.update_patient(PatientId::from_uuid(Uuid::now_v7()), 1, &changed, t0()).await,
        Err(StoreError::NotFound)
    ));
}

/// Entries appended one by one, and a list view naming patients, form one chain: each
/// entry follows the one before it, the walk ends at the store's head, and every
/// append-only trigger is in place. A tampered chain is shown by each adapter's own
/// tests (dropping a trigger is the database's own SQL).
pub async fn audit_entries_form_a_hash_chain_to_the_head(store: &dyn Store) {
    assert!(store.missing_append_only_guards().await.unwrap().is_empty());
    let mut read = store.begin_read().await.unwrap();
    assert_eq!(read.audit_chain_head().await.unwrap(), None, "no chained entry yet");
    read.commit().await.unwrap();
    for i in 0..3 {
        let mut tx = store.begin().await.unwrap();
        let mut e = chain_entry(i);
        e.patient_id = (i == 1).then(|| PatientId::from_uuid(Uuid::now_v7()));
        tx.append_audit(&e).await.unwrap();
        tx.commit().await.unwrap();
    }
    append_one_audit_entry(store).await;
    // A dropped transaction leaves neither an entry nor a moved head.
    let mut tx = store.begin().await.unwrap();
    tx.append_audit(&chain_entry(9)).await.unwrap();
    drop(tx);

    let mut read = store.begin_read().await.unwrap();
    let page = read.audit_chain_page(0, 100).await.unwrap();
    assert_eq!(page.len(), 4);
    assert_eq!(page[0].prev_hash.as_deref(), Some(kat_core::audit_chain::GENESIS));
    for w in page.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash, "each entry names the hash of the one before");
    }
    assert_eq!(page[3].shown.len(), 1, "the list view's patient comes with it");
    let walked = crate::audit_walk::walk_audit_chain(&mut *read).await.unwrap();
    assert_eq!(walked.broken, None);
    assert_eq!(walked.walk.counts(), (4, 0));
    assert_eq!(walked.stored_head, Some((page[3].entry.seq, page[3].hash.clone().unwrap())));
    assert_eq!(read.audit_chain_page(page[1].entry.seq, 2).await.unwrap().len(), 2, "a page after a seq");
    read.commit().await.unwrap();
}

/// Writers appending at the same time (PostgreSQL: several connections) still make one
/// chain: each append waits for the head the one before it moved.
pub async fn concurrent_appends_chain_one_after_another(store: &dyn Store) {
    let writer = |w: i64| async move {
        for i in 0..5 {
            let mut tx = store.begin().await.unwrap();
            tx.append_audit(&chain_entry(w * 10 + i)).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    tokio::join!(writer(1), writer(2), writer(3), writer(4));
    let mut read = store.begin_read().await.unwrap();
    let walked = crate::audit_walk::walk_audit_chain(&mut *read).await.unwrap();
    read.commit().await.unwrap();
    assert_eq!(walked.broken, None);
    assert_eq!(walked.walk.counts(), (20, 0));
}

fn chain_entry(i: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: Timestamp::UNIX_EPOCH + (i * 1_000_001).microseconds(),
        actor: AuditActor { user_id: None, label: format!("actor {i}") },
        action: AuditAction::Update,
        resource_type: "patient".into(),
        resource_id: Some(format!("r{i}")),
        patient_id: None,
        remote_addr: "cli".into(),
        outcome: AuditOutcome::Denied,
        request_id: Some("req".into()),
    }
}

pub async fn audit_entries_append_and_filter(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    let user = tx.insert_user(&new_user("auditor", Role::Admin)).await.unwrap();
    let other = tx.insert_user(&new_user("other", Role::Nurse)).await.unwrap();
    let patient = PatientId::from_uuid(Uuid::now_v7());
    let e1 = tx.append_audit(&audit(AuditAction::Create, t0(), Some(user.id), Some(patient))).await.unwrap();
    let e2 = tx.append_audit(&audit(AuditAction::Read, t0() + 1.hour(), Some(other.id), Some(patient))).await.unwrap();
    let mut denied = audit(AuditAction::Read, t0() + 2.hours(), None, None);
    denied.outcome = AuditOutcome::Denied;
    let e3 = tx.append_audit(&denied).await.unwrap();
    tx.commit().await.unwrap();
    assert!(e1.seq < e2.seq && e2.seq < e3.seq);

    let mut tx = store.begin().await.unwrap();
    let all = tx.query_audit(&AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(all, vec![e3.clone(), e2.clone(), e1.clone()], "newest first, stored whole");
    let by_user =
        tx.query_audit(&AuditFilter { user_id: Some(user.id), limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(by_user, vec![e1.clone()]);
    let by_patient =
        tx.query_audit(&AuditFilter { patient_id: Some(patient), limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(by_patient, vec![e2.clone(), e1.clone()]);
    // `from` is inclusive, `to` exclusive.
    let window = tx
        .query_audit(&AuditFilter {
            from: Some(t0() + 1.hour()),
            to: Some(t0() + 2.hours()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(window, vec![e2.clone()]);
    let page = tx.query_audit(&AuditFilter { limit: 1, before_seq: Some(e3.seq), ..Default::default() }).await.unwrap();
    assert_eq!(page, vec![e2]);
}

pub async fn dropped_transaction_rolls_back(store: &dyn Store) {
    {
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&new_user("ghost", Role::Nurse)).await.unwrap();
        tx.insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "1984-03-07"), t0())
            .await
            .unwrap();
        tx.append_audit(&audit(AuditAction::Create, t0(), None, None)).await.unwrap();
        // Dropped without commit.
    }
    let mut tx = store.begin().await.unwrap();
    assert!(tx.list_users().await.unwrap().is_empty());
    assert_eq!(tx.count_patients().await.unwrap(), 0);
    assert!(tx.query_audit(&AuditFilter { limit: 10, ..Default::default() }).await.unwrap().is_empty());
    // The next patient still gets the first MRN.
    let p = tx
        .insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "1984-03-07"), t0())
        .await
        .unwrap();
    assert!(p.mrn.as_str().starts_with("KAT-"));
}

pub async fn times_round_trip_to_the_microsecond(store: &dyn Store) {
    let at: Timestamp = "2026-07-04T23:59:59.123456Z".parse().unwrap();
    let mut tx = store.begin().await.unwrap();
    let p = tx
        .insert_patient(PatientId::from_uuid(Uuid::now_v7()), &demographics("Ada", "Quinn", "2000-02-29"), at)
        .await
        .unwrap();
    assert_eq!(p.created_at, at);
    assert_eq!(p.demographics.birth_date.to_string(), "2000-02-29");
}

pub async fn meta_is_a_small_key_value_table(store: &dyn Store) {
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.meta("demo").await.unwrap(), None);
    tx.set_meta("demo", "true").await.unwrap();
    tx.set_meta("demo", "false").await.unwrap();
    assert_eq!(tx.meta("demo").await.unwrap().as_deref(), Some("false"));
}

/// Intake versions are kept, policies are versioned, decisions go stale, same-day flags
/// are disposed once, and the medical-director flag round-trips.
pub async fn intake_versions_evaluations_decisions_and_flags(store: &dyn Store) {
    use crate::intake::*;
    use kat_core::eligibility::EligibilityPolicy;
    use kat_core::eligibility::answers::IntakeAnswers;
    let mut tx = store.begin().await.unwrap();
    let md = tx.insert_user(&new_user("md", Role::Prescriber)).await.unwrap();
    assert!(!tx.is_medical_director(md.id).await.unwrap());
    tx.set_medical_director(md.id, true).await.unwrap();
    assert!(tx.is_medical_director(md.id).await.unwrap());
    let pid = PatientId::from_uuid(Uuid::now_v7());
    tx.insert_patient(pid, &demographics("Ida", "Intake", "1980-01-01"), t0()).await.unwrap();
    assert!(tx.latest_intake(pid).await.unwrap().is_none());
    assert!(tx.current_policy().await.unwrap().is_none());
    let mut a = IntakeAnswers::new();
    a.set("bp", "120/80").unwrap();
    let v1 = tx.insert_intake_version(pid, &a, false, "vitals", t0(), Some(md.id)).await.unwrap();
    a.set("heart_rate", "70").unwrap();
    let v2 = tx.insert_intake_version(pid, &a, true, "vitals", t0() + 1.second(), Some(md.id)).await.unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    let latest = tx.latest_intake(pid).await.unwrap().unwrap();
    assert_eq!(latest.version, 2);
    assert!(latest.complete);
    assert_eq!(latest.answers.get("heart_rate"), "70");
    assert_eq!(latest.saved_at, t0() + 1.second());
    let history = tx.intake_history(pid).await.unwrap();
    assert_eq!(history.iter().map(|h| h.version).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(history[1].answers.get("heart_rate"), "");
    assert_eq!(tx.patients_with_intake().await.unwrap(), vec![pid]);

    let p1 = tx.insert_policy(&EligibilityPolicy::default(), t0(), None).await.unwrap();
    let changed = EligibilityPolicy { minimum_age_years: 21, ..EligibilityPolicy::default() };
    let p2 = tx.insert_policy(&changed, t0(), Some(md.id)).await.unwrap();
    assert_eq!((p1.version, p2.version), (1, 2));
    let current = tx.current_policy().await.unwrap().unwrap();
    assert_eq!(current.version, 2);
    assert_eq!(current.policy, changed);
    let history = tx.policy_history().await.unwrap();
    assert_eq!(
        history.iter().map(|p| (p.version, p.created_by)).collect::<Vec<_>>(),
        vec![(2, Some(md.id)), (1, None)]
    );
    assert_eq!(history[0].policy, changed);

    let eval = EvaluationRecord {
        id: Uuid::now_v7(),
        patient_id: pid,
        intake_version: 2,
        policy_version: 2,
        status: "needs_review".into(),
        result_json: "{}".into(),
        evaluated_at: t0(),
    };
    tx.insert_evaluation(&eval).await.unwrap();
    let later = EvaluationRecord { id: Uuid::now_v7(), status: "eligible".into(), ..eval.clone() };
    tx.insert_evaluation(&later).await.unwrap();
    assert_eq!(tx.latest_evaluation(pid).await.unwrap().unwrap().id, later.id);
    assert_eq!(tx.evaluation_by_id(eval.id).await.unwrap().unwrap().status, "needs_review");

    let decision = DecisionRecord {
        id: Uuid::now_v7(),
        patient_id: pid,
        evaluation_id: later.id,
        decision: "accept".into(),
        reasons_json: "{}".into(),
        override_reason: None,
        override_by: None,
        signed_by: md.id,
        signed_at: t0(),
        stale: false,
    };
    tx.insert_decision(&decision).await.unwrap();
    assert!(!tx.latest_decision(pid).await.unwrap().unwrap().stale);
    assert_eq!(tx.mark_decisions_stale(pid).await.unwrap(), 1);
    assert_eq!(tx.mark_decisions_stale(pid).await.unwrap(), 0);
    assert!(tx.latest_decision(pid).await.unwrap().unwrap().stale);

    let flag = SameDayFlagRecord {
        id: Uuid::now_v7(),
        patient_id: pid,
        evaluation_id: later.id,
        reasons_json: "[]".into(),
        raised_at: t0(),
        disposition: None,
        disposed_by: None,
        disposed_at: None,
    };
    tx.insert_same_day_flag(&flag).await.unwrap();
    assert_eq!(tx.count_open_same_day_flags().await.unwrap(), 1);
    assert_eq!(tx.open_same_day_flags().await.unwrap()[0].id, flag.id);
    tx.dispose_same_day_flag(flag.id, "seen; safe to continue", md.id, t0()).await.unwrap();
    assert!(matches!(tx.dispose_same_day_flag(flag.id, "again", md.id, t0()).await, Err(StoreError::StaleVersion)));
    assert_eq!(tx.count_open_same_day_flags().await.unwrap(), 0);
    tx.commit().await.unwrap();
}
