//! Each role's worklist for today: what is due today, what is overdue, which of my
//! notes are unsigned, which follow-ups are due. Built from the patients whose care
//! team the user is on (the front desk sees the clinic's sessions, without clinical
//! content).

use super::note::TherapyNote;
use super::schedule::{PlannedSession, SessionKind};
use crate::ids::PatientId;
use jiff::civil::Date;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkItemKind {
    /// A session past its last acceptable day and not recorded.
    Overdue,
    /// A follow-up / reassessment inside its window (DOSE-IV-008).
    FollowUpDue,
    /// A session due today.
    Today,
    /// A note I started and have not signed.
    UnsignedNote,
}

impl WorkItemKind {
    pub fn label(self) -> &'static str {
        match self {
            WorkItemKind::Overdue => "Overdue",
            WorkItemKind::FollowUpDue => "Follow-up due",
            WorkItemKind::Today => "Today",
            WorkItemKind::UnsignedNote => "Unsigned note",
        }
    }
}

/// What the item is about, so the shell can link to where to act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkTarget {
    Session(PlannedSession),
    Note(Box<TherapyNote>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    pub kind: WorkItemKind,
    pub patient_id: PatientId,
    pub date: Date,
    pub target: WorkTarget,
}

/// The worklist of one user for `today`. `sessions` are the pending sessions of the
/// user's patients (any due date); `drafts` the user's unsigned notes. Sessions due
/// later than today are not listed, except a follow-up whose window has opened.
pub fn build_worklist(today: Date, sessions: &[PlannedSession], drafts: &[TherapyNote]) -> Vec<WorkItem> {
    let mut items = Vec::new();
    for s in sessions.iter().filter(|s| s.is_pending()) {
        // Planned doses are shown on their day; until dosing sessions are recorded in
        // kat nothing can complete them, so they never become "overdue".
        let kind = if s.kind == SessionKind::Dosing {
            if s.due == today { WorkItemKind::Today } else { continue }
        } else if s.is_overdue(today) {
            WorkItemKind::Overdue
        } else if s.kind == SessionKind::Reassessment && s.due <= today {
            WorkItemKind::FollowUpDue
        } else if s.due == today {
            WorkItemKind::Today
        } else {
            continue;
        };
        items.push(WorkItem { kind, patient_id: s.patient_id, date: s.due, target: WorkTarget::Session(s.clone()) });
    }
    for n in drafts.iter().filter(|n| !n.is_signed()) {
        items.push(WorkItem {
            kind: WorkItemKind::UnsignedNote,
            patient_id: n.patient_id,
            date: n.content.session_date.unwrap_or(today),
            target: WorkTarget::Note(Box::new(n.clone())),
        });
    }
    items.sort_by_key(|i| (i.kind, i.date));
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PlannedSessionId;
    use jiff::Timestamp;
    use jiff::civil::date;
    use uuid::Uuid;

    fn session(kind: SessionKind, due: Date, end: Option<Date>, done: bool) -> PlannedSession {
        PlannedSession {
            id: PlannedSessionId::from_uuid(Uuid::now_v7()),
            patient_id: PatientId::from_uuid(Uuid::nil()),
            kind,
            due,
            window_end: end,
            sequence: 1,
            dose: None,
            rule: String::new(),
            completed_by_note: done.then(|| crate::ids::TherapyNoteId::from_uuid(Uuid::nil())),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn today_overdue_and_follow_ups() {
        let today = date(2026, 6, 20);
        let s = [
            session(SessionKind::Integration, today, None, false),
            session(SessionKind::Integration, date(2026, 6, 19), None, false),
            session(SessionKind::Integration, date(2026, 6, 18), None, true),
            session(SessionKind::Integration, date(2026, 6, 21), None, false),
            session(SessionKind::Reassessment, date(2026, 6, 14), Some(date(2026, 6, 21)), false),
        ];
        let items = build_worklist(today, &s, &[]);
        let kinds: Vec<_> = items.iter().map(|i| i.kind).collect();
        assert_eq!(kinds, vec![WorkItemKind::Overdue, WorkItemKind::FollowUpDue, WorkItemKind::Today]);
        let doses = [
            session(SessionKind::Dosing, date(2026, 6, 19), None, false),
            session(SessionKind::Dosing, today, None, false),
        ];
        let items = build_worklist(today, &doses, &[]);
        assert_eq!(
            items.iter().map(|i| i.kind).collect::<Vec<_>>(),
            vec![WorkItemKind::Today],
            "past doses are not overdue work"
        );
    }
}
