//! The session's state beside it (issue 10 items 1, 2, 5), on both databases: the state
//! a session's use cases built step by step equals the one rebuilt from its history (as
//! for a session recorded before the state was kept), and the use cases tell their
//! domain events after commit only.

use crate::dosing::{dose_event, eligible_patient, iv_plan, manual, passing_gate, post};
use crate::support::{expect_problem, staff_with_token};
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_app::dosing::{self as uc, VitalsInput};
use kat_app::events::{DomainEvent, EventSink, Recorder};
use kat_app::{Actor, Ctx};
use kat_core::ids::DosingSessionId;
use kat_core::monitoring::alarms::Severity;
use kat_core::role::Role;
use kat_core::user::User;
use kat_it::{Db, TestApp, app_or_skip, on_both_databases};
use serde_json::{Value, json};

/// A signed IV plan and an open session of it; the prescriber's and nurse's tokens.
async fn iv_session(app: &TestApp, tag: &str) -> (String, String, User, DosingSessionId) {
    let (_, _, pt) = staff_with_token(app, &format!("pres.{tag}"), Role::Prescriber).await;
    let (nurse, _, nt) = staff_with_token(app, &format!("nurse.{tag}"), Role::Nurse).await;
    let id = eligible_patient(app, &pt).await;
    let plans = format!("/api/v1/patients/{id}/treatment-plans");
    let plan: Value = post(app, &plans, &pt, iv_plan(app, "0.5")).await.json().await.unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(post(app, &format!("{plans}/{plan_id}/sign"), &pt, json!({})).await.status(), 200);
    let s: Value = post(app, &format!("{plans}/{plan_id}/sessions"), &nt, json!({})).await.json().await.unwrap();
    (pt, nt, nurse, s["id"].as_str().unwrap().parse().unwrap())
}

async fn rebuilt_equals_live(db: Db) {
    let app = app_or_skip!(db, manual());
    let (pt, nt, _, sid) = iv_session(&app, "state").await;
    let s = format!("/api/v1/sessions/{sid}");
    // Deferred, then passed later the same day.
    let mut deferral = passing_gate(&app, "iv_infusion", 120);
    deferral["defer_reason"] = json!("Patient unwell this morning");
    assert_eq!(post(&app, &format!("{s}/gate"), &nt, deferral).await.status(), 200);
    app.advance(SignedDuration::from_mins(30));
    assert_eq!(post(&app, &format!("{s}/gate"), &nt, passing_gate(&app, "iv_infusion", 124)).await.status(), 200);
    app.advance(SignedDuration::from_mins(5));
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, dose_event("infusion_start")).await.status(), 201);
    app.advance(SignedDuration::from_mins(5));
    // SpO2 88 % on room air: an intervene alarm (ALM-001), acknowledged after a pause.
    let r = post(&app, &format!("{s}/vitals"), &nt, json!({"spo2": 88, "on_supplemental_o2": "no", "heart_rate": 80}))
        .await;
    let saved: Value = r.json().await.unwrap();
    let alarm = saved["alarms"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, json!({"kind": "infusion_pause"})).await.status(), 201);
    let ack = format!("/api/v1/session-alarms/{alarm}/acknowledge");
    assert_eq!(post(&app, &ack, &nt, json!({"action": "Airway repositioned, O2 2 L"})).await.status(), 200);
    app.advance(SignedDuration::from_mins(3));
    let mut resume = dose_event("infusion_resume");
    resume["rate_ml_per_h"] = json!(1.2);
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, resume).await.status(), 201);
    // A second alarm stays open (high BP, notify), a late reading taken 20 minutes ago.
    app.advance(SignedDuration::from_mins(20));
    let high = json!({"systolic": 165, "diastolic": 95});
    assert_eq!(post(&app, &format!("{s}/vitals"), &nt, high).await.status(), 201);
    let late = json!({"heart_rate": 76, "at": (app.now() - SignedDuration::from_mins(20)).to_string()});
    assert_eq!(post(&app, &format!("{s}/vitals"), &nt, late).await.status(), 201);
    assert_eq!(post(&app, &format!("{s}/administrations"), &nt, json!({"kind": "infusion_stop"})).await.status(), 201);
    let stop =
        json!({"trigger_value": "anxious", "action": "reassurance", "response": "settled", "session_stopped": "yes"});
    assert_eq!(post(&app, &format!("{s}/interventions"), &nt, stop).await.status(), 201);
    app.advance(SignedDuration::from_mins(60));
    let d = post(&app, &format!("{s}/discharge"), &pt, json!({"override_reason": "Reviewed, stable"})).await;
    assert_eq!(d.status(), 200, "{}", d.text().await.unwrap());

    let mut tx = app.store.begin_read().await.unwrap();
    let record = tx.dosing_session_by_id(sid).await.unwrap().unwrap();
    let live = record.state.clone().expect("the state is kept beside the session");
    let rebuilt = uc::rebuild_state(&mut tx, &record).await.unwrap();
    assert_eq!(rebuilt, live);
    assert_eq!(live.open_alarms().len(), 1, "the notify alarm is still open");
    assert_eq!(live.vitals().count(), 3);
    assert!(live.ending().is_some() && live.discharged_at().is_some());
    drop(tx);
    app.stop().await;
}
on_both_databases!(a_state_rebuilt_from_the_history_equals_the_one_built_live, rebuilt_equals_live);

fn ctx(app: &TestApp, user: &User, recorder: &std::sync::Arc<Recorder>) -> Ctx {
    Ctx::new(Actor::User(user.clone()), "test".into(), None, app.now(), &TimeZone::UTC)
        .with_events(EventSink::new(recorder.clone()))
}

async fn events_after_commit(db: Db) {
    let app = app_or_skip!(db, manual());
    let (_, nt, nurse, sid) = iv_session(&app, "events").await;
    assert_eq!(
        post(&app, &format!("/api/v1/sessions/{sid}/gate"), &nt, passing_gate(&app, "iv_infusion", 120)).await.status(),
        200
    );
    let config = kat_app::config::DosingConfig::default();
    let store = app.store.as_ref();
    let recorder = Recorder::new();
    // Refused: a reading dated before the session opened, a permission refused, an
    // administration before... nothing is told.
    let early = VitalsInput { spo2: "97".into(), at: "2020-01-01T00:00:00Z".into(), ..Default::default() };
    assert!(uc::record_vitals(store, &ctx(&app, &nurse, &recorder), &config, sid, &early).await.is_err());
    let therapist = app.add_staff("ther.events", Role::Therapist).await;
    let fine = VitalsInput { spo2: "97".into(), ..Default::default() };
    assert!(uc::record_vitals(store, &ctx(&app, &therapist, &recorder), &config, sid, &fine).await.is_err());
    let stop = uc::AdministrationInput { kind: "infusion_stop".into(), ..Default::default() };
    assert!(uc::record_administration(store, &ctx(&app, &nurse, &recorder), &config, sid, &stop).await.is_err());
    assert!(recorder.events().is_empty(), "{:?}", recorder.events());

    // A reading with two alarms: the vital, then one AlarmRaised per alarm.
    let low = VitalsInput {
        spo2: "88".into(),
        on_supplemental_o2: "no".into(),
        heart_rate: "130".into(),
        ..Default::default()
    };
    let saved = uc::record_vitals(store, &ctx(&app, &nurse, &recorder), &config, sid, &low).await.unwrap();
    assert_eq!(saved.alarms.len(), 2, "{:?}", saved.alarms);
    let patient = saved.alarms[0].session_id;
    assert_eq!(patient, sid);
    let heard = recorder.events();
    assert_eq!(heard.len(), 3, "{heard:?}");
    assert!(
        matches!(heard[0], DomainEvent::VitalRecorded { vital, session, .. } if vital == saved.vital.id && session == sid)
    );
    for (event, alarm) in heard[1..].iter().zip(&saved.alarms) {
        assert!(
            matches!(event, DomainEvent::AlarmRaised { alarm: a, severity, .. } if *a == alarm.id && *severity == alarm.severity),
            "{event:?}"
        );
    }
    // SpO2 88 % on room air: intervene (ALM-001; emergency only below 90 % despite O2).
    assert!(saved.alarms.iter().any(|a| a.severity == Severity::Intervene));
    // The HTTP path tells its listeners too, and a refusal over HTTP tells nothing more.
    expect_problem(
        post(&app, &format!("/api/v1/sessions/{sid}/gate"), &nt, passing_gate(&app, "iv_infusion", 120)).await,
        409,
    )
    .await;
    assert_eq!(recorder.events().len(), 3);
    app.stop().await;
}
on_both_databases!(domain_events_are_told_after_commit_and_never_for_a_refusal, events_after_commit);
