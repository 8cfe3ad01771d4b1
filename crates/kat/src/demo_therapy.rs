//! The demo clinic's therapy programs: care teams, planned sessions, signed preparation
//! and integration notes, an addendum, a process note, a safety plan, an unsigned draft
//! and follow-ups, so that timelines and worklists have something to show. Synthetic.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use kat_app::{Actor, AppError, Ctx, therapy};
use kat_core::ids::PatientId;
use kat_core::role::Role;
use kat_core::therapy::care_team::CareRole;
use kat_core::therapy::note::{AddendumForm, NoteForm, NoteKind};
use kat_core::therapy::safety_plan::{CRISIS_LINE_US, SafetyPlanForm};
use kat_core::therapy::schedule::TherapyPolicy;
use kat_core::user::User;
use kat_store::Store;

/// Dose offsets in days from today for each demo program: one course under way, one
/// finished (reassessment due), one starting, one planned.
const COURSES: [&[i64]; 4] = [&[-10, -8, -3, 2], &[-30, -28, -26, -24, -22, -17], &[-1, 1, 3], &[5, 7, 9]];

pub async fn seed_programs(
    store: &dyn Store,
    now: Timestamp,
    tz: &TimeZone,
    accounts: &[User],
    patients: &[PatientId],
) -> Result<(), AppError> {
    let by_role = |r: Role| accounts.iter().find(|u| u.role == r).cloned().expect("demo account of each role");
    let therapist = by_role(Role::Therapist);
    let prescriber = by_role(Role::Prescriber);
    let nurse = by_role(Role::Nurse);
    let cli = Ctx::cli(now, tz);
    let as_user = |u: &User| Ctx::new(Actor::User(u.clone()), "demo".into(), None, now, tz);
    let (theo, priya) = (as_user(&therapist), as_user(&prescriber));
    let today = cli.today;
    for (i, (patient, course)) in patients.iter().zip(COURSES).enumerate() {
        let team = [
            (CareRole::Prescriber, prescriber.id.to_string()),
            (CareRole::Therapist, therapist.id.to_string()),
            (CareRole::Nurse, nurse.id.to_string()),
        ];
        therapy::set_care_team(store, &cli, *patient, &team).await?;
        let doses: Vec<String> = course.iter().map(|d| today.saturating_add(d.days()).to_string()).collect();
        let program =
            therapy::plan_program(store, &priya, *patient, &doses.join(","), &TherapyPolicy::default()).await?;
        // Record (and sign) every therapy session already past, except the last one,
        // which stays a draft for the worklist.
        let past: Vec<_> = program.iter().filter(|s| s.due < today && s.kind.note_kind().is_some()).collect();
        for (n, s) in past.iter().enumerate() {
            let kind = s.kind.note_kind().expect("filtered");
            let form = demo_note(kind, &s.due.to_string(), i + n);
            let note = therapy::create_note(store, &theo, *patient, kind, Some(s.id), &form).await?;
            let last = n + 1 == past.len();
            if !(last && i == 0) {
                therapy::sign_note(store, &theo, *patient, note.id).await?;
            }
            if n == 1 && i == 0 {
                therapy::add_addendum(
                    store,
                    &theo,
                    *patient,
                    note.id,
                    &AddendumForm {
                        reason: "Late entry".into(),
                        body: "Patient phoned the next day: sleeping better, journaling daily.".into(),
                    },
                )
                .await?;
            }
        }
        if i < 2 {
            therapy::new_safety_plan_version(
                store,
                &theo,
                *patient,
                &SafetyPlanForm {
                    warning_signs: "Not sleeping for two nights\nCancelling plans with friends".into(),
                    coping_strategies: "Walk the dog around the lake\nBox breathing, 5 minutes".into(),
                    distractions: "Coffee with my sister\nThe climbing gym".into(),
                    help_contacts: "Sam (partner) +1 555 010 0102".into(),
                    professionals: format!("Theo Therapist, clinic line +1 555 010 0100\n{CRISIS_LINE_US}"),
                    safe_environment: "Medicines kept by Sam while I feel low".into(),
                },
            )
            .await?;
        }
        if i == 0 {
            therapy::create_process_note(
                store,
                &theo,
                *patient,
                "Noticed my own urge to reassure rather than stay with the grief; bring to supervision.",
                &[],
            )
            .await?;
        }
    }
    Ok(())
}

pub(crate) fn demo_note(kind: NoteKind, date: &str, seed: usize) -> NoteForm {
    let themes = ["grief, connection", "self-compassion, work", "anger, boundaries", "hope, body"];
    let mut f = NoteForm { session_date: date.into(), modality: "act".into(), ..Default::default() };
    match kind {
        NoteKind::Preparation => {
            f.intentions = "To feel less numb and reconnect with people I love.".into();
            f.intention_tags = "reconnection, grief".into();
            f.fears_concerns = "Losing control; nausea.".into();
            f.set_setting = "Eye mask, instrumental playlist, partner to drive home.".into();
            f.psychoeducation = "Dissociative effects, timeline of a session, what integration is.".into();
            f.consent_reviewed = "yes".into();
        }
        NoteKind::DosingSession => {
            f.themes = themes[seed % 4].into();
            f.interventions = "Grounding, reassurance.".into();
        }
        NoteKind::Integration | NoteKind::FollowUp => {
            f.themes = themes[seed % 4].into();
            f.insights = "The numbness has been protecting me.".into();
            f.changes_noticed = "Called an old friend.".into();
            f.homework_assigned = "Journal 10 minutes after waking.".into();
            f.goal_progress = "Some movement toward reconnection.".into();
            f.risk_check = "no_current_risk".into();
        }
    }
    f
}
