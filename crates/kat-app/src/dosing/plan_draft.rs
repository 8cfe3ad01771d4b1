//! A new treatment plan's form, started from the patient's intake (issue 11 item 12).

use super::plan::PlanInput;
use crate::{AppResult, Ctx, audit_reads};
use jiff::Timestamp;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::eligibility::answers::{INDICATIONS, IntakeAnswers};
use kat_core::ids::PatientId;
use kat_core::role::Permission;
use kat_store::Store;

/// A new plan's starting values and where they came from.
#[derive(Debug, Clone, Default)]
pub struct PlanDraft {
    pub input: PlanInput,
    /// When the intake the values come from was saved, and its version.
    pub from_intake: Option<(Timestamp, i64)>,
}

/// The indication ticked first in the intake (in the clinical reference's order), in
/// words without its rule IDs, and the weight and height as the intake gives them.
/// The weight's date is left empty: the intake does not say when the patient was
/// weighed, and DAY-008 asks for that date.
pub fn draft_from_intake(answers: &IntakeAnswers) -> PlanInput {
    let indication = INDICATIONS
        .iter()
        .find(|(name, _, _)| !answers.get(name).trim().is_empty())
        .map(|(_, label, _)| label.split(" (").next().unwrap_or(label).to_string())
        .unwrap_or_default();
    PlanInput {
        indication,
        weight_kg: answers.get("weight_kg").trim().to_string(),
        height_cm: answers.get("height_cm").trim().to_string(),
        dose_style: "per_kg".into(),
        infusion_minutes: "40".into(),
        ..PlanInput::default()
    }
}

/// The form a prescriber starts a plan from: the patient's latest intake read (an
/// audited read of the intake) into [`draft_from_intake`]; for anyone who may not draft
/// a plan, the empty form, reading nothing.
pub async fn plan_draft(store: &dyn Store, ctx: &Ctx, patient: PatientId) -> AppResult<PlanDraft> {
    // Only a prescriber drafts; the plan page shows the others no form, so nothing to fill.
    if !ctx.allows(Permission::TreatmentPlanWrite) || !ctx.allows(Permission::IntakeRead) {
        return Ok(PlanDraft { input: draft_from_intake(&IntakeAnswers::new()), from_intake: None });
    }
    let mut tx = store.begin_read().await?;
    crate::access::preview_allowed(&mut tx, ctx, Permission::IntakeRead, patient).await?;
    let intake = tx.latest_intake(patient).await?;
    tx.commit().await?;
    let Some(intake) = intake else {
        return Ok(PlanDraft { input: draft_from_intake(&IntakeAnswers::new()), from_intake: None });
    };
    audit_reads(
        store,
        &[ctx.audit(AuditAction::Read, "intake", Some(patient.to_string()), Some(patient), AuditOutcome::Allowed)],
    )
    .await?;
    Ok(PlanDraft { input: draft_from_intake(&intake.answers), from_intake: Some((intake.saved_at, intake.version)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draft_takes_the_first_ticked_indication_in_words_and_the_weight() {
        let mut a = IntakeAnswers::new();
        a.set("indication_ptsd", "on").unwrap();
        a.set("indication_gad", "on").unwrap();
        a.set("weight_kg", "72.5").unwrap();
        a.set("height_cm", "170").unwrap();
        let d = draft_from_intake(&a);
        assert_eq!(d.indication, "PTSD");
        assert_eq!((d.weight_kg.as_str(), d.height_cm.as_str()), ("72.5", "170"));
        assert!(d.weight_measured_on.is_empty(), "the intake does not date the weighing");
        let mut trd = IntakeAnswers::new();
        trd.set("indication_trd", "on").unwrap();
        assert_eq!(draft_from_intake(&trd).indication, "Treatment-resistant depression");
        let none = draft_from_intake(&IntakeAnswers::new());
        assert!(none.indication.is_empty() && none.weight_kg.is_empty());
    }
}
