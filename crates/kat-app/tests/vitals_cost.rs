//! A vital costs the same whatever the session's length (issue 10 item 4): recording one
//! reads the session's row and state, never the earlier readings. Counted as the rows
//! SQLite returns to kat (sqlx reports each statement's `rows_returned` as a tracing
//! event), for the next reading after 3 and after 59: the same statements, the same
//! rows. Its own test binary: the counting subscriber is process-wide.

use jiff::{SignedDuration, Timestamp};
use kat_app::config::DosingConfig;
use kat_app::dosing::{VitalsInput, record_vitals};
use kat_app::{Actor, Ctx};
use kat_core::dosing::session::{DosingSession, GateOutcome, SessionPlan};
use kat_core::dosing::{Mg, Route};
use kat_core::eligibility::EligibilityPolicy;
use kat_core::ids::{DosingSessionId, PatientId, TreatmentPlanId, UserId};
use kat_core::monitoring::GateChecklist;
use kat_core::patient::DemographicsForm;
use kat_core::role::Role;
use kat_core::user::{AccountKind, User, Username};
use kat_store::dosing::{DosingSessionRecord, TreatmentPlanRecord};
use kat_store::intake::{DecisionRecord, EvaluationRecord};
use kat_store::{NewUser, Store};
use kat_store_sqlite::{OpenMode, SqliteStore};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

static COUNTING: AtomicBool = AtomicBool::new(false);
static ROWS: AtomicU64 = AtomicU64::new(0);
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Sums `rows_returned` of sqlx's statement events while counting is on.
struct Rows;

struct RowsVisitor(u64);
impl Visit for RowsVisitor {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "rows_returned" {
            self.0 = value;
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Rows {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" && COUNTING.load(Ordering::SeqCst) {
            let mut v = RowsVisitor(0);
            event.record(&mut v);
            ROWS.fetch_add(v.0, Ordering::SeqCst);
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn t0() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

/// A nurse and a session of a signed plan whose gate passed, stored through the port.
async fn session(store: &dyn Store) -> (User, DosingSessionId) {
    let mut tx = store.begin().await.unwrap();
    let new = NewUser {
        id: UserId::from_uuid(uuid::Uuid::now_v7()),
        username: Username::parse("nurse.cost").unwrap(),
        display_name: "Nurse Cost".into(),
        role: Role::Nurse,
        kind: AccountKind::Staff,
        password_hash: None,
        created_at: t0(),
    };
    let nurse = tx.insert_user(&new).await.unwrap();
    let pid = PatientId::from_uuid(uuid::Uuid::now_v7());
    let demographics = DemographicsForm {
        given_name: "Ada".into(),
        family_name: "Cost".into(),
        birth_date: "1980-01-01".into(),
        sex_at_birth: "female".into(),
        ..Default::default()
    }
    .parse(jiff::civil::date(2026, 3, 2))
    .unwrap();
    tx.insert_patient(pid, &demographics, t0()).await.unwrap();
    tx.insert_policy(&EligibilityPolicy::default(), t0(), None).await.unwrap();
    let mut answers = kat_core::eligibility::answers::IntakeAnswers::new();
    answers.set("heart_rate", "70").unwrap();
    tx.insert_intake_version(pid, &answers, true, "vitals", t0(), Some(nurse.id)).await.unwrap();
    let eval = EvaluationRecord {
        id: uuid::Uuid::now_v7(),
        patient_id: pid,
        intake_version: 1,
        policy_version: 1,
        status: "eligible".into(),
        result_json: "{}".into(),
        evaluated_at: t0(),
    };
    tx.insert_evaluation(&eval).await.unwrap();
    let decision = DecisionRecord {
        id: uuid::Uuid::now_v7(),
        patient_id: pid,
        evaluation_id: eval.id,
        decision: "accept".into(),
        reasons_json: "{}".into(),
        override_reason: None,
        override_by: None,
        signed_by: nurse.id,
        signed_at: t0(),
        stale: false,
    };
    tx.insert_decision(&decision).await.unwrap();
    let plan = TreatmentPlanRecord {
        id: TreatmentPlanId::from_uuid(uuid::Uuid::now_v7()),
        patient_id: pid,
        decision_id: decision.id,
        content: "{}".into(),
        created_by: nurse.id,
        created_at: t0(),
        signed_by: Some(nurse.id),
        signed_at: Some(t0()),
        overlap_override: None,
    };
    tx.insert_treatment_plan(&plan).await.unwrap();
    let state = DosingSession::open(
        SessionPlan { route: Route::Intramuscular, dose: Mg::new(35.0).unwrap(), infusion: None },
        t0(),
    )
    .unwrap()
    .replay_gate(&GateChecklist::unanswered(Route::Intramuscular, false), t0(), GateOutcome::Proceed);
    let record = DosingSessionRecord {
        id: DosingSessionId::from_uuid(uuid::Uuid::now_v7()),
        patient_id: pid,
        plan_id: plan.id,
        route: Route::Intramuscular,
        opened_by: nurse.id,
        opened_at: t0(),
        gate_outcome: Some(GateOutcome::Proceed),
        gate: Some("{}".into()),
        gate_by: Some(nurse.id),
        gate_at: Some(t0()),
        discharge: None,
        discharged_by: None,
        discharged_at: None,
        state: Some(state),
        dose_day_override: None,
    };
    tx.insert_dosing_session(&record).await.unwrap();
    tx.commit().await.unwrap();
    (nurse, record.id)
}

/// Records one ordinary reading (no alarm) at minute `m`; returns the rows and statements
/// it took when `count` is set.
async fn reading(store: &dyn Store, nurse: &User, id: DosingSessionId, m: i64, count: bool) -> (u64, u64) {
    let now = t0() + SignedDuration::from_mins(m);
    let ctx = Ctx::new(Actor::User(nurse.clone()), "test".into(), None, now, &jiff::tz::TimeZone::UTC);
    let input = VitalsInput {
        systolic: "122".into(),
        diastolic: "80".into(),
        heart_rate: "72".into(),
        spo2: "98".into(),
        on_supplemental_o2: "no".into(),
        ..Default::default()
    };
    ROWS.store(0, Ordering::SeqCst);
    STATEMENTS.store(0, Ordering::SeqCst);
    COUNTING.store(count, Ordering::SeqCst);
    let saved = record_vitals(store, &ctx, &DosingConfig::default(), id, &input).await.unwrap();
    COUNTING.store(false, Ordering::SeqCst);
    assert!(saved.alarms.is_empty());
    (ROWS.load(Ordering::SeqCst), STATEMENTS.load(Ordering::SeqCst))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rows_a_vital_reads_do_not_grow_with_the_session() {
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::Targets::new().with_target("sqlx::query", tracing::Level::TRACE))
        .with(Rows);
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("kat.db"), OpenMode::CreateIfMissing).await.unwrap();
    let (nurse, id) = session(&store).await;
    for m in 1..=3 {
        reading(&store, &nurse, id, m, false).await;
    }
    let after_3 = reading(&store, &nurse, id, 4, true).await;
    for m in 5..=60 {
        reading(&store, &nurse, id, m, false).await;
    }
    let after_60 = reading(&store, &nurse, id, 61, true).await;
    assert!(after_3.1 > 0, "the counter sees sqlx's statements");
    assert_eq!(after_60, after_3, "(rows, statements) after 59 readings as after 3");
    // Three rows come back: the session with its state, the audit chain's head and the
    // audit entry its insert returns; the other statements write.
    assert_eq!(after_3.0, 3, "rows read: {after_3:?}");
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.vitals_for_session(id).await.unwrap().len(), 61);
    let state = tx.dosing_session_by_id(id).await.unwrap().unwrap().state.unwrap();
    assert_eq!(state.vitals().count(), 61);
}
