//! Program structure: the planned sessions of a patient's course, generated from the
//! dose dates (a simple planned-dose list until dosing sessions exist).
//!
//! - PSY-001/PSY-002: preparation sessions before the first dose, integration after
//!   each dose. Counts and offsets are clinic policy; the defaults are the lower bound
//!   of the reference's ranges (1 preparation, 1 integration per dose, the next day).
//! - DOSE-IV-008: a follow-up contact and reassessment 2–3 weeks after the last
//!   induction dose (due at 14 days, overdue after 21).
//! - PSY-006: an optional modality session ordered relative to each dose by an offset
//!   in hours (none by default; the reference leaves the sequencing to the clinic).

use crate::field::FieldErrors;
use crate::ids::{PatientId, PlannedSessionId, TherapyNoteId};
use crate::patient::parse_iso_date;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// The most doses one planned course may hold.
pub const MAX_DOSES: usize = 52;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Preparation,
    Dosing,
    ModalityTherapy,
    Integration,
    Reassessment,
}

impl SessionKind {
    pub const ALL: [SessionKind; 5] = [
        SessionKind::Preparation,
        SessionKind::Dosing,
        SessionKind::ModalityTherapy,
        SessionKind::Integration,
        SessionKind::Reassessment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Preparation => "preparation",
            SessionKind::Dosing => "dosing",
            SessionKind::ModalityTherapy => "modality_therapy",
            SessionKind::Integration => "integration",
            SessionKind::Reassessment => "reassessment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SessionKind::Preparation => "Preparation session",
            SessionKind::Dosing => "Dosing session",
            SessionKind::ModalityTherapy => "Modality session",
            SessionKind::Integration => "Integration session",
            SessionKind::Reassessment => "Follow-up and reassessment",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw.trim())
    }

    /// The kind of therapy note that records this session, if a therapist writes one.
    pub fn note_kind(self) -> Option<super::note::NoteKind> {
        use super::note::NoteKind;
        match self {
            SessionKind::Preparation => Some(NoteKind::Preparation),
            SessionKind::ModalityTherapy => Some(NoteKind::DosingSession),
            SessionKind::Integration => Some(NoteKind::Integration),
            SessionKind::Reassessment => Some(NoteKind::FollowUp),
            SessionKind::Dosing => None,
        }
    }
}

/// PSY-006: a therapy session placed relative to each dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOrdering {
    /// Negative: the therapy session comes before the dose (e.g. −48 for PE 24–72 h
    /// before); positive: after it (e.g. +2 for reactivation within 2–4 h).
    pub offset_hours: i32,
}

/// Clinic policy for the program structure. `Default` is the reference's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TherapyPolicy {
    /// PSY-002 [P]: preparation 1–3 sessions. One entry per session: its latest day,
    /// in days relative to the first dose (negative = before). Default: one session,
    /// due by the day before the first dose.
    pub preparation_offsets_days: Vec<i32>,
    /// PSY-002 [P]: integration ≥1–2 sessions after each dose, some the same or the next
    /// day. One entry per session, in days after the dose (0 = later the same day).
    /// Default: one, the next day.
    pub integration_offsets_days: Vec<i32>,
    /// DOSE-IV-008 [V]: reassessment within 2–3 weeks of the last induction dose.
    pub reassessment_from_days: i32,
    pub reassessment_to_days: i32,
    /// PSY-006 [P]/[V]: no modality session unless the clinic sets one.
    pub modality_ordering: Option<SessionOrdering>,
}

impl Default for TherapyPolicy {
    fn default() -> Self {
        Self {
            preparation_offsets_days: vec![-1],
            integration_offsets_days: vec![1],
            reassessment_from_days: 14,
            reassessment_to_days: 21,
            modality_ordering: None,
        }
    }
}

/// Why a policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("preparation sessions must come before the first dose (offsets below 0)")]
    PreparationNotBefore,
    #[error("integration sessions must come after a dose (offsets of 0 or more)")]
    IntegrationBeforeDose,
    #[error("the reassessment window must start at or after the last dose and end no earlier than it starts")]
    ReassessmentWindow,
}

impl TherapyPolicy {
    pub fn check(&self) -> Result<(), PolicyError> {
        if self.preparation_offsets_days.iter().any(|d| *d >= 0) {
            return Err(PolicyError::PreparationNotBefore);
        }
        if self.integration_offsets_days.iter().any(|d| *d < 0) {
            return Err(PolicyError::IntegrationBeforeDose);
        }
        if self.reassessment_from_days < 0 || self.reassessment_to_days < self.reassessment_from_days {
            return Err(PolicyError::ReassessmentWindow);
        }
        Ok(())
    }
}

/// One session of a generated program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpec {
    pub kind: SessionKind,
    /// The day it is due (for preparation: the latest day).
    pub due: Date,
    /// The last acceptable day, when it is a window (reassessment).
    pub window_end: Option<Date>,
    /// 1-based position among sessions of its kind.
    pub sequence: i32,
    /// Which dose (1-based) it belongs to, if any.
    pub dose: Option<i32>,
    /// A short explanation naming the rule.
    pub rule: String,
}

/// Parses dose dates typed as `YYYY-MM-DD` separated by commas, spaces or lines.
pub fn parse_dose_dates(raw: &str) -> Result<Vec<Date>, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut dates = Vec::new();
    for word in raw.split([',', ' ', '\n', '\r', ';']).map(str::trim).filter(|w| !w.is_empty()) {
        match parse_iso_date(word) {
            Some(d) if dates.contains(&d) => e.add("dose_dates", format!("{d} is listed twice")),
            Some(d) => dates.push(d),
            None => e.add("dose_dates", format!("`{word}` is not a date; use YYYY-MM-DD")),
        }
    }
    if dates.is_empty() && e.is_empty() {
        e.add("dose_dates", "is required: at least one planned dose date");
    }
    if dates.len() > MAX_DOSES {
        e.add("dose_dates", format!("at most {MAX_DOSES} doses"));
    }
    dates.sort();
    e.into_result(|| dates)
}

/// Generates the program from the (sorted, distinct) planned dose dates, ordered by due
/// date and then by kind.
pub fn generate_program(policy: &TherapyPolicy, doses: &[Date]) -> Result<Vec<SessionSpec>, PolicyError> {
    policy.check()?;
    let mut doses = doses.to_vec();
    doses.sort();
    doses.dedup();
    let (Some(&first), Some(&last)) = (doses.first(), doses.last()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let prep_count = policy.preparation_offsets_days.len();
    let mut prep: Vec<i32> = policy.preparation_offsets_days.clone();
    prep.sort();
    for (i, offset) in prep.iter().enumerate() {
        out.push(SessionSpec {
            kind: SessionKind::Preparation,
            due: first.saturating_add((*offset).days()),
            window_end: None,
            sequence: i as i32 + 1,
            dose: None,
            rule: format!("PSY-002: preparation {} of {prep_count}, before the first dose", i + 1),
        });
    }
    let mut integration_seq = 0;
    let mut modality_seq = 0;
    for (i, dose) in doses.iter().enumerate() {
        let n = i as i32 + 1;
        out.push(SessionSpec {
            kind: SessionKind::Dosing,
            due: *dose,
            window_end: None,
            sequence: n,
            dose: Some(n),
            rule: format!("Planned dose {n} of {}", doses.len()),
        });
        if let Some(ordering) = policy.modality_ordering {
            modality_seq += 1;
            // Dose times are not known yet: an offset under a day stays on the dose day.
            let days = ordering.offset_hours / 24;
            let when = if ordering.offset_hours < 0 { "before" } else { "after" };
            out.push(SessionSpec {
                kind: SessionKind::ModalityTherapy,
                due: dose.saturating_add(days.days()),
                window_end: None,
                sequence: modality_seq,
                dose: Some(n),
                rule: format!("PSY-006: {} h {when} dose {n}", ordering.offset_hours.abs()),
            });
        }
        for offset in &policy.integration_offsets_days {
            integration_seq += 1;
            out.push(SessionSpec {
                kind: SessionKind::Integration,
                due: dose.saturating_add((*offset).days()),
                window_end: None,
                sequence: integration_seq,
                dose: Some(n),
                rule: format!("PSY-002: integration after dose {n}"),
            });
        }
    }
    out.push(SessionSpec {
        kind: SessionKind::Reassessment,
        due: last.saturating_add(policy.reassessment_from_days.days()),
        window_end: Some(last.saturating_add(policy.reassessment_to_days.days())),
        sequence: 1,
        dose: None,
        rule: format!(
            "DOSE-IV-008: reassess {}–{} days after the last induction dose",
            policy.reassessment_from_days, policy.reassessment_to_days
        ),
    });
    out.sort_by_key(|s| (s.due, s.kind, s.sequence));
    Ok(out)
}

/// A session of a patient's program as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSession {
    pub id: PlannedSessionId,
    pub patient_id: PatientId,
    pub kind: SessionKind,
    pub due: Date,
    pub window_end: Option<Date>,
    pub sequence: i32,
    pub dose: Option<i32>,
    pub rule: String,
    /// The signed note that recorded it; `None` while pending.
    pub completed_by_note: Option<TherapyNoteId>,
    pub created_at: Timestamp,
}

impl PlannedSession {
    pub fn is_pending(&self) -> bool {
        self.completed_by_note.is_none()
    }

    /// Overdue once the last acceptable day has passed.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.is_pending() && self.window_end.unwrap_or(self.due) < today
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn kinds(p: &[SessionSpec]) -> Vec<(SessionKind, Date)> {
        p.iter().map(|s| (s.kind, s.due)).collect()
    }

    #[test]
    fn defaults_follow_psy_002_and_dose_iv_008() {
        let doses = [date(2026, 6, 1), date(2026, 6, 3), date(2026, 6, 5)];
        let p = generate_program(&TherapyPolicy::default(), &doses).unwrap();
        use SessionKind::*;
        assert_eq!(
            kinds(&p),
            vec![
                (Preparation, date(2026, 5, 31)),
                (Dosing, date(2026, 6, 1)),
                (Integration, date(2026, 6, 2)),
                (Dosing, date(2026, 6, 3)),
                (Integration, date(2026, 6, 4)),
                (Dosing, date(2026, 6, 5)),
                (Integration, date(2026, 6, 6)),
                (Reassessment, date(2026, 6, 19)),
            ]
        );
        let r = p.last().unwrap();
        assert_eq!(r.window_end, Some(date(2026, 6, 26)), "21 days after the last dose");
        assert!(r.rule.contains("DOSE-IV-008"));
    }

    #[test]
    fn counts_and_offsets_come_from_the_policy() {
        let policy = TherapyPolicy {
            preparation_offsets_days: vec![-7, -14, -1],
            integration_offsets_days: vec![0, 1],
            modality_ordering: Some(SessionOrdering { offset_hours: -48 }),
            ..Default::default()
        };
        let p = generate_program(&policy, &[date(2026, 6, 15)]).unwrap();
        let prep: Vec<_> = p.iter().filter(|s| s.kind == SessionKind::Preparation).collect();
        assert_eq!(
            prep.iter().map(|s| s.due).collect::<Vec<_>>(),
            vec![date(2026, 6, 1), date(2026, 6, 8), date(2026, 6, 14)]
        );
        assert_eq!(prep.iter().map(|s| s.sequence).collect::<Vec<_>>(), vec![1, 2, 3]);
        let integ: Vec<_> = p.iter().filter(|s| s.kind == SessionKind::Integration).map(|s| s.due).collect();
        assert_eq!(integ, vec![date(2026, 6, 15), date(2026, 6, 16)], "0 = later the same day");
        let m = p.iter().find(|s| s.kind == SessionKind::ModalityTherapy).unwrap();
        assert_eq!(m.due, date(2026, 6, 13));
        assert!(m.rule.contains("PSY-006") && m.rule.contains("48 h before"));
    }

    #[test]
    fn ordering_offsets_under_a_day_stay_on_the_dose_day() {
        for (hours, expected) in [
            (-2, date(2026, 6, 15)),
            (-23, date(2026, 6, 15)),
            (-24, date(2026, 6, 14)),
            (4, date(2026, 6, 15)),
            (26, date(2026, 6, 16)),
        ] {
            let policy = TherapyPolicy {
                modality_ordering: Some(SessionOrdering { offset_hours: hours }),
                ..Default::default()
            };
            let p = generate_program(&policy, &[date(2026, 6, 15)]).unwrap();
            assert_eq!(p.iter().find(|s| s.kind == SessionKind::ModalityTherapy).unwrap().due, expected, "{hours} h");
        }
    }

    #[test]
    fn policies_that_break_the_order_are_refused() {
        let bad = TherapyPolicy { preparation_offsets_days: vec![0], ..Default::default() };
        assert_eq!(generate_program(&bad, &[date(2026, 1, 1)]), Err(PolicyError::PreparationNotBefore));
        let bad = TherapyPolicy { integration_offsets_days: vec![-1], ..Default::default() };
        assert_eq!(bad.check(), Err(PolicyError::IntegrationBeforeDose));
        let bad = TherapyPolicy { reassessment_from_days: 21, reassessment_to_days: 14, ..Default::default() };
        assert_eq!(bad.check(), Err(PolicyError::ReassessmentWindow));
        assert_eq!(generate_program(&TherapyPolicy::default(), &[]), Ok(vec![]));
    }

    #[test]
    fn dose_dates_parse_sorted_and_distinct() {
        assert_eq!(
            parse_dose_dates("2026-06-05, 2026-06-01\n2026-06-03").unwrap(),
            vec![date(2026, 6, 1), date(2026, 6, 3), date(2026, 6, 5)]
        );
        assert!(parse_dose_dates("2026-06-01, 2026-06-01").is_err());
        assert!(parse_dose_dates("tomorrow").is_err());
        assert!(parse_dose_dates("  ").is_err());
    }

    #[test]
    fn overdue_means_past_the_last_acceptable_day() {
        let s = |due, end| PlannedSession {
            id: PlannedSessionId::from_uuid(uuid::Uuid::nil()),
            patient_id: PatientId::from_uuid(uuid::Uuid::nil()),
            kind: SessionKind::Reassessment,
            due,
            window_end: end,
            sequence: 1,
            dose: None,
            rule: String::new(),
            completed_by_note: None,
            created_at: Timestamp::UNIX_EPOCH,
        };
        let today = date(2026, 6, 20);
        assert!(!s(date(2026, 6, 19), Some(date(2026, 6, 20))).is_overdue(today), "last day of the window");
        assert!(s(date(2026, 6, 19), Some(date(2026, 6, 19))).is_overdue(today));
        assert!(!s(date(2026, 6, 20), None).is_overdue(today));
        assert!(s(date(2026, 6, 19), None).is_overdue(today));
    }

    proptest::proptest! {
        /// Whatever the doses, preparation precedes the first dose, every integration
        /// follows its dose, and the reassessment window is 14–21 days after the last.
        #[test]
        fn structure_holds_for_any_doses(offsets in proptest::collection::btree_set(0i32..200, 1..10)) {
            let base = date(2026, 1, 1);
            let doses: Vec<Date> = offsets.iter().map(|d| base.saturating_add(d.days())).collect();
            let p = generate_program(&TherapyPolicy::default(), &doses).unwrap();
            let first = doses[0];
            let last = *doses.last().unwrap();
            for s in &p {
                match s.kind {
                    SessionKind::Preparation => proptest::prop_assert!(s.due < first),
                    SessionKind::Integration => proptest::prop_assert!(s.due > doses[(s.dose.unwrap() - 1) as usize]),
                    SessionKind::Reassessment => {
                        proptest::prop_assert_eq!(s.due, last.saturating_add(14.days()));
                        proptest::prop_assert_eq!(s.window_end, Some(last.saturating_add(21.days())));
                    }
                    _ => {}
                }
            }
            proptest::prop_assert_eq!(p.iter().filter(|s| s.kind == SessionKind::Integration).count(), doses.len());
            proptest::prop_assert!(p.windows(2).all(|w| w[0].due <= w[1].due));
        }
    }
}
