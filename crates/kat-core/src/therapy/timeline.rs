//! The patient timeline: one chronological view of the clinical record. Each part of
//! the record contributes entries through [`TimelineSource`]; intake decisions,
//! measures and dosing sessions add a [`TimelineKind`] and an implementation when they
//! exist. Process notes are deliberately not on the timeline: they are kept apart.

use jiff::civil::{Date, Time};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Registration,
    /// A saved version of the intake.
    Intake,
    /// An eligibility screen or the prescriber's signed decision.
    Eligibility,
    /// A rating-scale response with its score.
    Measure,
    /// An urgent safety alert (SUI-001..004) and its acknowledgement.
    SafetyAlert,
    Note,
    Addendum,
    SafetyPlan,
    PlannedSession,
    /// A treatment plan drafted or signed.
    TreatmentPlan,
    /// A dosing session (gate outcome, discharge) and its adverse events.
    DosingSession,
}

impl TimelineKind {
    pub const ALL: [TimelineKind; 11] = [
        TimelineKind::Registration,
        TimelineKind::Intake,
        TimelineKind::Eligibility,
        TimelineKind::Measure,
        TimelineKind::SafetyAlert,
        TimelineKind::Note,
        TimelineKind::Addendum,
        TimelineKind::SafetyPlan,
        TimelineKind::PlannedSession,
        TimelineKind::TreatmentPlan,
        TimelineKind::DosingSession,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Registration => "registration",
            TimelineKind::Intake => "intake",
            TimelineKind::Eligibility => "eligibility",
            TimelineKind::Measure => "measure",
            TimelineKind::SafetyAlert => "safety_alert",
            TimelineKind::Note => "note",
            TimelineKind::Addendum => "addendum",
            TimelineKind::SafetyPlan => "safety_plan",
            TimelineKind::PlannedSession => "planned_session",
            TimelineKind::TreatmentPlan => "treatment_plan",
            TimelineKind::DosingSession => "dosing_session",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TimelineKind::Registration => "Registration",
            TimelineKind::Intake => "Intake",
            TimelineKind::Eligibility => "Eligibility",
            TimelineKind::Measure => "Measures",
            TimelineKind::SafetyAlert => "Safety alerts",
            TimelineKind::Note => "Therapy notes",
            TimelineKind::Addendum => "Addenda",
            TimelineKind::SafetyPlan => "Safety plan",
            TimelineKind::PlannedSession => "Planned sessions",
            TimelineKind::TreatmentPlan => "Treatment plans",
            TimelineKind::DosingSession => "Dosing sessions",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw.trim())
    }
}

/// One entry. `date` and `time` are in the clinic's zone (the shell converts); entries
/// known only to the day (planned sessions, session dates) have no time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub date: Date,
    pub time: Option<Time>,
    pub kind: TimelineKind,
    pub title: String,
    pub detail: String,
    /// Where the record itself is (a page path).
    pub href: String,
}

/// A part of the record that shows on the timeline.
pub trait TimelineSource {
    fn timeline_entries(&self) -> Vec<TimelineEntry>;
}

/// Collects, filters and orders entries: oldest first, day-only entries before timed
/// ones on the same day, then by kind (so a stable, repeatable order).
pub fn build_timeline(sources: &[&dyn TimelineSource], only: &[TimelineKind]) -> Vec<TimelineEntry> {
    let mut entries: Vec<TimelineEntry> = sources
        .iter()
        .flat_map(|s| s.timeline_entries())
        .filter(|e| only.is_empty() || only.contains(&e.kind))
        .collect();
    entries.sort_by(|a, b| (a.date, a.time, a.kind, &a.title).cmp(&(b.date, b.time, b.kind, &b.title)));
    entries
}

impl TimelineSource for Vec<TimelineEntry> {
    fn timeline_entries(&self) -> Vec<TimelineEntry> {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn e(d: Date, t: Option<Time>, kind: TimelineKind, title: &str) -> TimelineEntry {
        TimelineEntry { date: d, time: t, kind, title: title.into(), detail: String::new(), href: "/".into() }
    }

    #[test]
    fn orders_across_sources_and_filters_by_kind() {
        let a = vec![
            e(date(2026, 6, 2), Some(time(9, 0, 0, 0)), TimelineKind::Note, "n2"),
            e(date(2026, 6, 1), None, TimelineKind::Note, "n1"),
        ];
        let b = vec![
            e(date(2026, 6, 2), None, TimelineKind::PlannedSession, "s"),
            e(date(2026, 5, 1), Some(time(8, 0, 0, 0)), TimelineKind::Registration, "r"),
        ];
        let all = build_timeline(&[&a, &b], &[]);
        assert_eq!(all.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(), vec!["r", "n1", "s", "n2"]);
        let notes = build_timeline(&[&a, &b], &[TimelineKind::Note]);
        assert_eq!(notes.len(), 2);
    }
}
