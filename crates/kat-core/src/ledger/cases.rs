//! Count discrepancies (DEA-006 with the reconciliation the issue asks for): a count line
//! that differs from the book opens a case; notes are added; a resolution closes it and
//! names the entry that explains it where there is one.

use super::container::EntryFacts;
use super::entry::{EntryKind, Exactness, LedgerEntry, Staff};
use super::quantity::Quantity;
use super::refusal::Refusal;
use crate::dosing::session::Reason;
use crate::ids::{ContainerId, LedgerEntryId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A case is named by the count that opened it and the container: one case per
/// differing line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseRef {
    pub count: LedgerEntryId,
    pub container: ContainerId,
}

/// How a discrepancy was explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionKind {
    /// The count was wrong (a recount agreed with the book).
    CountError,
    /// An entry was wrong: the reference is the correction that fixed it.
    RecordingError,
    /// Stock is missing: the reference is the loss recorded (DEA-010).
    Loss,
    /// Unrecorded breakage, since witnessed and recorded: the reference (DEA-009).
    Breakage,
    /// Anything else, explained.
    Other,
}

impl ResolutionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResolutionKind::CountError => "count_error",
            ResolutionKind::RecordingError => "recording_error",
            ResolutionKind::Loss => "loss",
            ResolutionKind::Breakage => "breakage",
            ResolutionKind::Other => "other",
        }
    }

    /// What the resolution must reference, if anything: the entry kind's name.
    pub fn requires(self) -> Option<&'static str> {
        match self {
            ResolutionKind::RecordingError => Some("correction"),
            ResolutionKind::Loss => Some("loss"),
            ResolutionKind::Breakage => Some("breakage"),
            ResolutionKind::CountError | ResolutionKind::Other => None,
        }
    }
}

/// What a case entry does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CaseAction {
    /// An investigation note.
    Note { note: Reason },
    Resolve {
        resolution: ResolutionKind,
        explanation: Reason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<LedgerEntryId>,
    },
}

/// An investigation note on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNote {
    pub at: Timestamp,
    pub by: Staff,
    pub note: Reason,
}

/// How a case was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    pub at: Timestamp,
    pub by: Staff,
    pub kind: ResolutionKind,
    pub explanation: Reason,
    pub reference: Option<LedgerEntryId>,
}

/// A discrepancy case: open until resolved; an open case belongs on the worklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    pub case: CaseRef,
    pub opened_at: Timestamp,
    pub counted_by: Staff,
    pub expected: Quantity,
    pub counted: Quantity,
    pub exactness: Exactness,
    pub notes: Vec<CaseNote>,
    pub resolution: Option<Resolved>,
}

impl Discrepancy {
    pub fn is_open(&self) -> bool {
        self.resolution.is_none()
    }

    /// The cases a count entry opens: one per line whose count differs from the book.
    pub fn opened_by(entry: &LedgerEntry) -> Vec<Discrepancy> {
        let EntryKind::Count(count) = &entry.kind else { return Vec::new() };
        count
            .lines
            .iter()
            .filter(|l| l.counted != l.expected)
            .map(|l| Discrepancy {
                case: CaseRef { count: entry.id, container: l.container },
                opened_at: entry.at,
                counted_by: entry.by.clone(),
                expected: l.expected,
                counted: l.counted,
                exactness: l.exactness,
                notes: Vec::new(),
                resolution: None,
            })
            .collect()
    }

    /// Records a case entry on the case (after its checks passed).
    pub(crate) fn record(&mut self, entry: &LedgerEntry, action: &CaseAction) {
        match action {
            CaseAction::Note { note } => {
                self.notes.push(CaseNote { at: entry.at, by: entry.by.clone(), note: note.clone() })
            }
            CaseAction::Resolve { resolution, explanation, reference } => {
                self.resolution = Some(Resolved {
                    at: entry.at,
                    by: entry.by.clone(),
                    kind: *resolution,
                    explanation: explanation.clone(),
                    reference: *reference,
                })
            }
        }
    }
}

/// Checks a case entry against its case and, for a resolution, the entry it references
/// (which the caller looked up by the resolution's `reference`). Shared by the decision
/// and the replay.
pub(crate) fn check_case_action(
    case: &Discrepancy,
    action: &CaseAction,
    referenced: Option<&EntryFacts>,
) -> Result<(), (&'static str, Refusal)> {
    if !case.is_open() {
        return Err(("case", Refusal::AlreadyResolved));
    }
    let CaseAction::Resolve { resolution, reference, .. } = action else { return Ok(()) };
    match (reference, referenced) {
        (None, _) => match resolution.requires() {
            Some(kind) => Err(("reference", Refusal::ReferenceRequired { kind })),
            None => Ok(()),
        },
        (Some(_), None) => Err(("reference", Refusal::BadReference { why: "no such entry" })),
        (Some(id), Some(e)) => {
            if e.id != *id {
                return Err(("reference", Refusal::BadReference { why: "not the entry named" }));
            }
            if !e.containers.contains(&case.case.container) {
                return Err(("reference", Refusal::BadReference { why: "it does not concern this container" }));
            }
            if e.at < case.opened_at {
                return Err(("reference", Refusal::BadReference { why: "it was recorded before the count" }));
            }
            match resolution.requires() {
                Some(kind) if e.name != kind => Err(("reference", Refusal::ReferenceRequired { kind })),
                _ => Ok(()),
            }
        }
    }
}
