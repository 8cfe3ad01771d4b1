//! Therapy notes, their lock and addenda, process-note visibility for every role, the
//! program, the timeline, the worklist and their audit entries, on both databases.

use crate::support::{ada, audit, cli_ctx, create_patient};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use kat_core::role::Role;
use kat_it::{Db, Options, TestApp, on_both_databases};
use serde_json::{Value, json};

/// A fixed "now": 2026-06-10 12:00 UTC.
fn options() -> Options {
    Options { manual_clock: Some("2026-06-10T12:00:00Z".parse::<Timestamp>().unwrap()), ..Default::default() }
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = reqwest::Client::new().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    send(app, reqwest::Method::POST, path, token, Some(body)).await
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    send(app, reqwest::Method::GET, path, token, None).await
}

async fn json_ok(r: reqwest::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

struct Clinic {
    app: TestApp,
    admin: String,
    therapist: String,
    patient: String,
}

async fn clinic(db: Db) -> Option<Clinic> {
    let app = kat_it::spawn_app(db, options()).await?;
    let admin = app.token("admin", Role::Admin).await;
    let therapist = app.token("theo", Role::Therapist).await;
    let desk = app.token("desk", Role::FrontDesk).await;
    let patient = create_patient(&app, &desk, &ada()).await["id"].as_str().unwrap().to_string();
    Some(Clinic { app, admin, therapist, patient })
}

macro_rules! clinic_or_skip {
    ($db:expr) => {
        match clinic($db).await {
            Some(c) => c,
            None => {
                eprintln!("*** SKIPPED on {:?}: no database server ***", $db);
                return;
            }
        }
    };
}

async fn signed_note_is_locked_and_takes_addenda(db: Db) {
    let c = clinic_or_skip!(db);
    let (app, t, p) = (&c.app, &c.therapist, &c.patient);
    let base = format!("/api/v1/patients/{p}/therapy-notes");
    // Per-field problems, nothing saved.
    let bad =
        post(app, &base, t, json!({"kind": "integration", "session_date": "2026-06-11", "intentions": "x"})).await;
    let problem = json_ok(bad, 422).await;
    let fields = crate::support::problem_fields(&problem);
    assert!(fields.contains(&"session_date".to_string()) && fields.contains(&"intentions".to_string()), "{fields:?}");

    let note = json_ok(post(app, &base, t, json!({"kind": "integration", "session_date": "2026-06-10", "themes": ["grief", "work"], "insights": "Less alone"})).await, 201).await;
    let id = note["id"].as_str().unwrap();
    assert_eq!(note["status"], "draft");
    let path = format!("{base}/{id}");
    let saved = json_ok(
        send(
            app,
            reqwest::Method::PUT,
            &path,
            t,
            Some(json!({"version": 1, "session_date": "2026-06-10", "themes": "grief", "insights": "Less alone now"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(saved["version"], 2);
    // An addendum needs a signed note.
    json_ok(post(app, &format!("{path}/addenda"), t, json!({"reason": "r", "body": "b"})).await, 409).await;
    // Signing an integration note needs the SUI-001 risk check.
    let incomplete = json_ok(post(app, &format!("{path}/sign"), t, json!({})).await, 422).await;
    assert_eq!(crate::support::problem_fields(&incomplete), vec!["risk_check"]);
    json_ok(
        send(
            app,
            reqwest::Method::PUT,
            &path,
            t,
            Some(json!({"session_date": "2026-06-10", "insights": "Less alone now", "risk_check": "no_current_risk"})),
        )
        .await,
        200,
    )
    .await;
    // Another therapist may not sign or edit someone else's draft.
    let tara = app.token("tara", Role::Therapist).await;
    json_ok(post(app, &format!("{path}/sign"), &tara, json!({})).await, 403).await;
    let signed = json_ok(post(app, &format!("{path}/sign"), t, json!({})).await, 200).await;
    assert_eq!(signed["status"], "signed");
    // Locked: editing or re-signing is a conflict, for the author too; content unchanged.
    let refused = json_ok(
        send(
            app,
            reqwest::Method::PUT,
            &path,
            t,
            Some(json!({"session_date": "2026-06-10", "insights": "changed", "risk_check": "no_current_risk"})),
        )
        .await,
        409,
    )
    .await;
    assert!(refused["detail"].as_str().unwrap().contains("addendum"), "{refused}");
    json_ok(post(app, &format!("{path}/sign"), t, json!({})).await, 409).await;
    // Addenda: reason required; then author and time recorded.
    let missing =
        json_ok(post(app, &format!("{path}/addenda"), t, json!({"reason": " ", "body": "x"})).await, 422).await;
    assert_eq!(crate::support::problem_fields(&missing), vec!["reason"]);
    let a = json_ok(
        post(app, &format!("{path}/addenda"), &tara, json!({"reason": "Late entry", "body": "Patient called back."}))
            .await,
        201,
    )
    .await;
    assert_eq!(a["reason"], "Late entry");
    let read = json_ok(get(app, &path, t).await, 200).await;
    assert_eq!(read["content"]["insights"], "Less alone now");
    assert_eq!(read["addenda"].as_array().unwrap().len(), 1);
    assert_eq!(read["addenda"][0]["at"], "2026-06-10T12:00:00Z");

    // The store refuses too, below the use case.
    let mut tx = app.store.begin().await.unwrap();
    let err = tx
        .update_draft_note(id.parse().unwrap(), 3, &kat_core::therapy::note::NoteContent::default(), app.now())
        .await
        .unwrap_err();
    assert!(err.is_conflict_on(kat_store::therapy_constraints::THERAPY_NOTE_LOCKED));
    drop(tx);

    // Audit: create, update ×2, denied sign, sign, addendum, read.
    let entries = audit(app, &c.admin, &format!("?patient={p}")).await;
    let has = |action: &str, resource: &str, outcome: &str| {
        entries.iter().any(|e| e["action"] == action && e["resource_type"] == resource && e["outcome"] == outcome)
    };
    assert!(has("create", "therapy_note", "allowed"));
    assert!(has("update", "therapy_note", "allowed"));
    assert!(has("update", "therapy_note_signature", "allowed"));
    assert!(has("update", "therapy_note", "denied"), "a stranger's signing attempt is a denial");
    assert!(has("create", "therapy_note_addendum", "allowed"));
    assert!(has("read", "therapy_note", "allowed"));
    c.app.stop().await;
}
on_both_databases!(signed_note_is_locked_and_takes_addenda, signed_note_is_locked_and_takes_addenda);

async fn process_notes_are_for_the_author_and_named_therapists_only(db: Db) {
    let c = clinic_or_skip!(db);
    let (app, p) = (&c.app, &c.patient);
    let named = app.token("tara", Role::Therapist).await;
    let other = app.token("olga", Role::Therapist).await;
    let prescriber = app.token("priya", Role::Prescriber).await;
    let nurse = app.token("noor", Role::Nurse).await;
    let desk = app.token("farah", Role::FrontDesk).await;
    let base = format!("/api/v1/patients/{p}/process-notes");
    // Only therapists write them; readers must be therapists.
    json_ok(post(app, &base, &prescriber, json!({"body": "x"})).await, 403).await;
    let bad = json_ok(post(app, &base, &c.therapist, json!({"body": "x", "readers": ["priya"]})).await, 422).await;
    assert_eq!(crate::support::problem_fields(&bad), vec!["readers"]);
    let note = json_ok(
        post(app, &base, &c.therapist, json!({"body": "My countertransference today", "readers": ["tara"]})).await,
        201,
    )
    .await;
    let path = format!("{base}/{}", note["id"].as_str().unwrap());

    for (who, token, allowed) in [
        ("author", &c.therapist, true),
        ("named therapist", &named, true),
        ("other therapist", &other, false),
        ("prescriber", &prescriber, false),
        ("nurse", &nurse, false),
        ("admin", &c.admin, false),
        ("front desk", &desk, false),
    ] {
        let r = get(app, &path, token).await;
        assert_eq!(r.status().as_u16(), if allowed { 200 } else { 403 }, "{who}");
        let listed = get(app, &base, token).await;
        let visible = if listed.status() == 200 { listed.json::<Vec<Value>>().await.unwrap().len() } else { 0 };
        assert_eq!(visible, usize::from(allowed), "{who} list");
    }
    // Every refusal is audited: olga, priya and noor pass the role check and fail the
    // author's rule; admin and front desk fail the role check.
    let entries = audit(app, &c.admin, &format!("?patient={p}")).await;
    let denied = entries
        .iter()
        .filter(|e| e["resource_type"] == "process_note" && e["action"] == "read" && e["outcome"] == "denied")
        .count();
    assert_eq!(denied, 5, "one denial per refused reader");
    let reads = entries
        .iter()
        .filter(|e| e["resource_type"] == "process_note" && e["action"] == "read" && e["outcome"] == "allowed")
        .count();
    assert_eq!(reads, 2);
    // Process notes are not on the timeline.
    let tl = json_ok(get(app, &format!("/api/v1/patients/{p}/timeline"), &c.therapist).await, 200).await;
    assert!(tl.as_array().unwrap().iter().all(|e| e["kind"] != "process_note"));
    c.app.stop().await;
}
on_both_databases!(
    process_notes_are_for_the_author_and_named_therapists_only,
    process_notes_are_for_the_author_and_named_therapists_only
);

async fn program_timeline_and_worklist(db: Db) {
    let c = clinic_or_skip!(db);
    let (app, t, p) = (&c.app, &c.therapist, &c.patient);
    let prescriber = app.token("priya", Role::Prescriber).await;
    // The care team: admins and prescribers assign it; roles must match.
    json_ok(
        send(
            app,
            reqwest::Method::PUT,
            &format!("/api/v1/patients/{p}/care-team"),
            t,
            Some(json!([{"care_role": "therapist", "user": "theo"}])),
        )
        .await,
        403,
    )
    .await;
    let bad = json_ok(
        send(
            app,
            reqwest::Method::PUT,
            &format!("/api/v1/patients/{p}/care-team"),
            &c.admin,
            Some(json!([{"care_role": "therapist", "user": "priya"}])),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(crate::support::problem_fields(&bad), vec!["therapists"]);
    let team = json_ok(
        send(
            app,
            reqwest::Method::PUT,
            &format!("/api/v1/patients/{p}/care-team"),
            &c.admin,
            Some(json!([{"care_role": "therapist", "user": "theo"}, {"care_role": "prescriber", "user": "priya"}])),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(team[0]["care_role"], "prescriber");

    // Doses on 06-03, 06-05 and 06-10 (today): defaults give preparation by 06-02,
    // integration the day after each dose, reassessment 06-24..07-01 (DOSE-IV-008).
    let program = json_ok(
        post(
            app,
            &format!("/api/v1/patients/{p}/program"),
            &prescriber,
            json!({"dose_dates": ["2026-06-10", "2026-06-03", "2026-06-05"]}),
        )
        .await,
        200,
    )
    .await;
    let kinds: Vec<(String, String)> = program
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap().into(), s["due"].as_str().unwrap().into()))
        .collect();
    let expected = [
        ("preparation", "2026-06-02"),
        ("dosing", "2026-06-03"),
        ("integration", "2026-06-04"),
        ("dosing", "2026-06-05"),
        ("integration", "2026-06-06"),
        ("dosing", "2026-06-10"),
        ("integration", "2026-06-11"),
        ("reassessment", "2026-06-24"),
    ];
    assert_eq!(kinds, expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>());
    assert_eq!(program[7]["window_end"], "2026-07-01");
    let bad = json_ok(
        post(app, &format!("/api/v1/patients/{p}/program"), &prescriber, json!({"dose_dates": ["soon"]})).await,
        422,
    )
    .await;
    assert_eq!(crate::support::problem_fields(&bad), vec!["dose_dates"]);

    // Worklist today: overdue preparation and integrations, today's dose.
    let wl = json_ok(get(app, "/api/v1/worklist", t).await, 200).await;
    let kinds: Vec<&str> = wl.as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        vec!["overdue", "overdue", "overdue", "today"],
        "preparation and two integrations overdue; today's dose"
    );
    // Someone not on the care team sees nothing; the front desk sees the clinic's sessions.
    let stranger = app.token("olga", Role::Therapist).await;
    assert!(json_ok(get(app, "/api/v1/worklist", &stranger).await, 200).await.as_array().unwrap().is_empty());
    let desk = app.token("farah", Role::FrontDesk).await;
    assert_eq!(json_ok(get(app, "/api/v1/worklist", &desk).await, 200).await.as_array().unwrap().len(), 4);
    json_ok(get(app, "/api/v1/worklist", &c.admin).await, 403).await;

    // Recording the preparation session from the program completes it when signed.
    let prep = program[0]["id"].as_str().unwrap();
    let note = json_ok(post(app, &format!("/api/v1/patients/{p}/therapy-notes"), t, json!({"kind": "preparation", "planned_session": prep, "session_date": "2026-06-02", "intentions": "Reconnect", "consent_reviewed": true})).await, 201).await;
    let wl = json_ok(get(app, "/api/v1/worklist", t).await, 200).await;
    assert_eq!(wl.as_array().unwrap().iter().filter(|i| i["kind"] == "unsigned_note").count(), 1);
    json_ok(
        post(app, &format!("/api/v1/patients/{p}/therapy-notes/{}/sign", note["id"].as_str().unwrap()), t, json!({}))
            .await,
        200,
    )
    .await;
    let wl = json_ok(get(app, "/api/v1/worklist", t).await, 200).await;
    assert_eq!(wl.as_array().unwrap().len(), 3, "the preparation is done and the note signed");

    // A safety plan, then the timeline in order, filterable, each entry linking to its record.
    json_ok(
        post(
            app,
            &format!("/api/v1/patients/{p}/safety-plan"),
            t,
            json!({"warning_signs": ["Not sleeping"], "professionals": ["988"]}),
        )
        .await,
        201,
    )
    .await;
    let tl = json_ok(get(app, &format!("/api/v1/patients/{p}/timeline"), t).await, 200).await;
    let entries = tl.as_array().unwrap();
    assert!(entries.iter().any(|e| e["kind"] == "registration" && e["href"] == format!("/patients/{p}")));
    let dates: Vec<(Date, String)> = entries
        .iter()
        .map(|e| (e["date"].as_str().unwrap().parse().unwrap(), e["time"].as_str().unwrap_or("").to_string()))
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "chronological: {dates:?}");
    assert!(entries.iter().any(|e| e["kind"] == "note" && e["href"].as_str().unwrap().contains("/notes/")));
    assert!(entries.iter().any(|e| e["kind"] == "safety_plan"));
    let only = json_ok(get(app, &format!("/api/v1/patients/{p}/timeline?kind=note,safety_plan"), t).await, 200).await;
    assert_eq!(only.as_array().unwrap().len(), 2);
    json_ok(get(app, &format!("/api/v1/patients/{p}/timeline?kind=nonsense"), t).await, 422).await;
    json_ok(get(app, &format!("/api/v1/patients/{p}/timeline"), &desk).await, 403).await;

    let entries = audit(app, &c.admin, &format!("?patient={p}")).await;
    for resource in
        ["care_team", "planned_sessions", "patient_timeline", "worklist", "safety_plan", "therapy_note_signature"]
    {
        assert!(entries.iter().any(|e| e["resource_type"] == resource), "{resource} audited");
    }
    let _ = cli_ctx(app);
    c.app.stop().await;
}
on_both_databases!(program_timeline_and_worklist, program_timeline_and_worklist);

async fn safety_plan_link_is_single_use_and_expires(db: Db) {
    let c = clinic_or_skip!(db);
    let (app, t, p) = (&c.app, &c.therapist, &c.patient);
    let client = app.client();
    app.login(&client, "theo").await;
    // No plan yet: a link cannot be made.
    let r = client
        .post(app.url(&format!("/patients/{p}/safety-plan/link")))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    json_ok(
        post(
            app,
            &format!("/api/v1/patients/{p}/safety-plan"),
            t,
            json!({"warning_signs": ["Not sleeping"], "professionals": ["988 Suicide & Crisis Lifeline"]}),
        )
        .await,
        201,
    )
    .await;
    let page = client
        .post(app.url(&format!("/patients/{p}/safety-plan/link")))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("/s/").expect("the link is shown once");
    let link: String = page[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/').collect();
    let anonymous = reqwest::Client::new();
    // A link preview (any GET) sees only the landing page and spends nothing (issue 11
    // item 11: the first view, a message preview, burnt the link).
    for _ in 0..2 {
        let preview = anonymous.get(app.url(&link)).send().await.unwrap();
        assert_eq!(preview.status(), 200);
        let html = preview.text().await.unwrap();
        assert!(html.contains("Open my safety plan") && !html.contains("Not sleeping"), "{html}");
    }
    // The patient's tap opens it, once.
    let tap = || anonymous.post(app.url(&link)).header("origin", &app.base_url).send();
    let first = tap().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.text().await.unwrap().contains("Not sleeping"));
    let again = anonymous.get(app.url(&link)).send().await.unwrap();
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("already been used"));
    let again = tap().await.unwrap();
    assert_eq!(again.status(), 410);
    // A second link expires after the configured time (24 h by default).
    let page = client
        .post(app.url(&format!("/patients/{p}/safety-plan/link")))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("/s/").unwrap();
    let link: String = page[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/').collect();
    app.advance(jiff::SignedDuration::from_hours(24));
    let late = anonymous.get(app.url(&link)).send().await.unwrap();
    assert_eq!(late.status(), 410);
    assert!(late.text().await.unwrap().contains("expired"));
    let late = anonymous.post(app.url(&link)).header("origin", &app.base_url).send().await.unwrap();
    assert_eq!(late.status(), 410);
    assert_eq!(anonymous.get(app.url("/s/0000")).send().await.unwrap().status(), 404);
    let entries = audit(app, &c.admin, &format!("?patient={p}")).await;
    assert!(
        entries
            .iter()
            .any(|e| e["resource_type"] == "safety_plan_link" && e["action"] == "read" && e["outcome"] == "allowed")
    );
    assert_eq!(
        entries.iter().filter(|e| e["resource_type"] == "safety_plan_link" && e["outcome"] == "denied").count(),
        2
    );
    let _ = 1.day();
    c.app.stop().await;
}
on_both_databases!(safety_plan_link_is_single_use_and_expires, safety_plan_link_is_single_use_and_expires);

async fn demo_patients_have_full_programs(db: Db) {
    let Some(app) = kat_it::spawn_app(db, Options::default()).await else {
        eprintln!("*** SKIPPED on {db:?}: no database server ***");
        return;
    };
    let tz = jiff::tz::TimeZone::UTC;
    kat::demo::seed(app.store.as_ref(), app.now(), &tz).await.expect("demo seeds");
    let theo = kat_app::users::find(app.store.as_ref(), "therapist").await.unwrap().unwrap();
    let ctx = kat_app::Ctx::new(kat_app::Actor::User(theo), "test".into(), None, app.now(), &tz);
    let found = kat_app::patients::search(app.store.as_ref(), &ctx, "", kat_core::page::PageRequest::first(50))
        .await
        .unwrap()
        .items;
    let mut with_notes = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for p in &found {
        let tl = kat_app::therapy::timeline(
            app.store.as_ref(),
            &ctx,
            p.id,
            &[],
            &tz,
            kat_core::page::PageRequest::first(kat_app::therapy::TIMELINE_PAGE_MAX),
        )
        .await
        .unwrap()
        .items;
        if tl.iter().any(|e| e.kind == kat_core::therapy::timeline::TimelineKind::Note) {
            with_notes += 1;
        }
        kinds.extend(tl.iter().map(|e| e.kind));
    }
    assert!(with_notes >= 2, "demo timelines show notes");
    assert_eq!(kinds.len(), kat_core::therapy::timeline::TimelineKind::ALL.len(), "every kind appears: {kinds:?}");
    let (items, _) =
        kat_app::therapy::worklist(app.store.as_ref(), &ctx, kat_core::page::PageRequest::first(50)).await.unwrap();
    let items = items.items;
    assert!(
        items.iter().any(|i| i.kind == kat_core::therapy::worklist::WorkItemKind::UnsignedNote),
        "the demo therapist has a draft to finish"
    );
    let pn = kat_app::therapy::visible_process_notes(
        app.store.as_ref(),
        &ctx,
        found.iter().find(|p| p.demographics.given_name.as_str() == "Avery").unwrap().id,
    )
    .await
    .unwrap();
    assert_eq!(pn.len(), 1);
    app.stop().await;
}
on_both_databases!(demo_patients_have_full_programs, demo_patients_have_full_programs);

/// `[therapy]` in kat.toml shapes the generated program: three preparation sessions,
/// integration the same day, a modality session 2 h after each dose and a 10–28 day
/// reassessment window (PSY-002, PSY-006, DOSE-IV-008 as clinic policy).
async fn therapy_policy_from_the_configuration(db: Db) {
    let mut settings = kat::settings::Settings::default();
    settings.therapy.preparation_offsets_days = vec![-14, -7, -1];
    settings.therapy.integration_offsets_days = vec![0];
    settings.therapy.reassessment_from_days = 10;
    settings.therapy.reassessment_to_days = 28;
    settings.therapy.modality_offset_hours = "2".into();
    let config = settings.web_config(false).unwrap();
    let Some(app) = kat_it::spawn_app(db, Options { config, ..options() }).await else {
        eprintln!("*** SKIPPED on {db:?}: no database server ***");
        return;
    };
    let prescriber = app.token("priya", Role::Prescriber).await;
    let desk = app.token("desk", Role::FrontDesk).await;
    let p = create_patient(&app, &desk, &ada()).await["id"].as_str().unwrap().to_string();
    let program = json_ok(
        post(&app, &format!("/api/v1/patients/{p}/program"), &prescriber, json!({"dose_dates": ["2026-06-20"]})).await,
        200,
    )
    .await;
    let kinds: Vec<(String, String)> = program
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap().into(), s["due"].as_str().unwrap().into()))
        .collect();
    let count = |k: &str| kinds.iter().filter(|(kind, _)| kind == k).count();
    assert_eq!(count("preparation"), 3, "{kinds:?}");
    assert!(kinds.contains(&("preparation".into(), "2026-06-06".into())), "{kinds:?}");
    assert!(kinds.contains(&("integration".into(), "2026-06-20".into())), "{kinds:?}");
    assert_eq!(count("modality_therapy"), 1, "{kinds:?}");
    let reassessment = program.as_array().unwrap().iter().find(|s| s["kind"] == "reassessment").unwrap();
    assert_eq!(reassessment["due"], "2026-06-30");
    assert_eq!(reassessment["window_end"], "2026-07-18");
    app.stop().await;
}
on_both_databases!(therapy_policy_from_the_configuration, therapy_policy_from_the_configuration);
