//! Timeline entries from the parts of the record outside therapy: intake versions,
//! eligibility screens and decisions, rating-scale responses and safety alerts,
//! treatment plans, dosing sessions and their adverse events. The therapy use case
//! gathers them with its own entries into one chronological view.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use kat_core::ids::PatientId;
use kat_core::therapy::timeline::{TimelineEntry, TimelineKind, TimelineSource};
use kat_store::dosing::{DosingSessionRecord, SessionEventRecord, TreatmentPlanRecord};
use kat_store::intake::{DecisionRecord, EvaluationRecord, IntakeVersionRecord};
use kat_store::measures::{ResponseRecord, SafetyAlert};

/// What the timeline shows of the intake, eligibility and measures.
pub struct ClinicalRecord<'a> {
    pub patient: PatientId,
    pub intake_versions: &'a [IntakeVersionRecord],
    pub evaluation: Option<&'a EvaluationRecord>,
    pub decision: Option<&'a DecisionRecord>,
    pub responses: &'a [ResponseRecord],
    pub alerts: &'a [SafetyAlert],
    pub plans: &'a [TreatmentPlanRecord],
    pub sessions: &'a [DosingSessionRecord],
    /// Adverse events of those sessions (`adverse_event` session events).
    pub adverse_events: &'a [SessionEventRecord],
    pub tz: &'a TimeZone,
}

impl ClinicalRecord<'_> {
    fn entry(&self, at: Timestamp, kind: TimelineKind, title: String, detail: String, href: String) -> TimelineEntry {
        let z = at.to_zoned(self.tz.clone());
        TimelineEntry { date: z.date(), time: Some(z.time()), kind, title, detail, href }
    }
}

fn status_label(status: &str) -> &str {
    match status {
        "excluded" => "excluded (hard stop)",
        "needs_review" => "needs prescriber review",
        "eligible" => "eligible",
        "incomplete" => "incomplete",
        other => other,
    }
}

impl TimelineSource for ClinicalRecord<'_> {
    fn timeline_entries(&self) -> Vec<TimelineEntry> {
        let p = self.patient;
        let mut out = Vec::new();
        for v in self.intake_versions {
            out.push(self.entry(
                v.saved_at,
                TimelineKind::Intake,
                format!("Intake version {} saved ({})", v.version, if v.complete { "complete" } else { "draft" }),
                format!("section: {}", v.section),
                format!("/patients/{p}/intake"),
            ));
        }
        if let Some(e) = self.evaluation {
            out.push(self.entry(
                e.evaluated_at,
                TimelineKind::Eligibility,
                format!("Eligibility screened: {}", status_label(&e.status)),
                format!("intake version {}, policy version {}", e.intake_version, e.policy_version),
                format!("/patients/{p}/eligibility"),
            ));
        }
        if let Some(d) = self.decision {
            let what = if d.decision == "accept" { "accepted" } else { "declined" };
            let mut detail = String::new();
            if d.override_reason.is_some() {
                detail.push_str("with a medical-director override");
            }
            if d.stale {
                if !detail.is_empty() {
                    detail.push_str("; ");
                }
                detail.push_str("stale: the intake or policy changed since");
            }
            out.push(self.entry(
                d.signed_at,
                TimelineKind::Eligibility,
                format!("Eligibility decision signed: {what}"),
                detail,
                format!("/patients/{p}/eligibility"),
            ));
        }
        for r in self.responses {
            let name = r.response.instrument().def().abbreviation;
            let title = match (r.total, &r.band) {
                (Some(t), Some(b)) => format!("{name}: {t} ({})", b.replace('_', " ")),
                (Some(t), None) => format!("{name}: {t}"),
                (None, _) if !r.complete => format!("{name}: incomplete"),
                (None, Some(b)) => format!("{name}: {}", b.replace('_', " ")),
                (None, None) => name.to_string(),
            };
            out.push(self.entry(
                r.collected_at,
                TimelineKind::Measure,
                title,
                format!(
                    "{}{}",
                    r.source.label(),
                    if r.flags.is_empty() { String::new() } else { format!("; flags: {}", r.flags.join(", ")) }
                ),
                format!("/patients/{p}#measures"),
            ));
        }
        for plan in self.plans {
            let c: serde_json::Value = serde_json::from_str(&plan.content).unwrap_or_default();
            let what = format!(
                "{} · {}",
                c["protocol_name"].as_str().unwrap_or("treatment plan"),
                c["product"].as_str().unwrap_or("")
            );
            out.push(self.entry(
                plan.created_at,
                TimelineKind::TreatmentPlan,
                "Treatment plan drafted".into(),
                what.clone(),
                format!("/patients/{p}/treatment-plan"),
            ));
            if let Some(at) = plan.signed_at {
                out.push(self.entry(
                    at,
                    TimelineKind::TreatmentPlan,
                    "Treatment plan signed".into(),
                    what,
                    format!("/patients/{p}/treatment-plan"),
                ));
            }
        }
        for s in self.sessions {
            use kat_core::dosing::session::GateOutcome;
            let gate = match s.gate_outcome {
                Some(GateOutcome::Proceed) => "gate passed".to_string(),
                Some(GateOutcome::Override) => "gate passed with a prescriber's override".to_string(),
                Some(GateOutcome::Defer) => "deferred at the gate".to_string(),
                None => "gate not yet run".to_string(),
            };
            let end = match s.discharged_at {
                Some(at) => format!("discharged {}", at.to_zoned(self.tz.clone()).time().strftime("%H:%M")),
                None if s.gate_outcome == Some(GateOutcome::Defer) => String::new(),
                None => "in progress".into(),
            };
            let detail = if end.is_empty() { gate } else { format!("{gate}; {end}") };
            out.push(self.entry(
                s.opened_at,
                TimelineKind::DosingSession,
                format!("Dosing session: {}", s.route.label()),
                detail,
                format!("/sessions/{}", s.id),
            ));
        }
        for e in self.adverse_events {
            let ae: serde_json::Value = serde_json::from_str(&e.content).unwrap_or_default();
            let serious = ae["serious"].as_array().is_some_and(|a| !a.is_empty());
            out.push(self.entry(
                e.at,
                TimelineKind::DosingSession,
                format!("Adverse event: {} (CTCAE grade {})", ae["term"].as_str().unwrap_or("?"), ae["grade"]),
                format!(
                    "{}outcome: {}",
                    if serious { "serious; " } else { "" },
                    ae["outcome"].as_str().unwrap_or("?").replace('_', " ")
                ),
                format!("/sessions/{}", e.session_id),
            ));
        }
        for a in self.alerts {
            out.push(self.entry(
                a.raised_at,
                TimelineKind::SafetyAlert,
                format!("Urgent safety alert: {}", a.kind.label()),
                match (&a.action, a.acknowledged_at) {
                    (Some(action), Some(_)) => format!("acknowledged: {}", action.label()),
                    _ => "open: not yet acknowledged".into(),
                },
                format!("/alerts/{}", a.id),
            ));
        }
        out
    }
}
