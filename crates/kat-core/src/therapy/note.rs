//! Therapy notes (PSY-007): what the therapist records at preparation, dosing-session,
//! integration and follow-up visits, and the lifecycle draft → signed (locked) →
//! addenda. A signed note is never changed again; corrections are addenda with their
//! author, time and reason.

use super::{optional_text, tags};
use crate::field::FieldErrors;
use crate::ids::{AddendumId, PatientId, PlannedSessionId, TherapyNoteId, UserId};
use crate::patient::parse_iso_date;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest free-text field of a note.
pub const MAX_TEXT: usize = 10_000;

/// What kind of visit a note records (PSY-001: preparation → dosing → integration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    Preparation,
    DosingSession,
    Integration,
    FollowUp,
}

impl NoteKind {
    pub const ALL: [NoteKind; 4] =
        [NoteKind::Preparation, NoteKind::DosingSession, NoteKind::Integration, NoteKind::FollowUp];

    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Preparation => "preparation",
            NoteKind::DosingSession => "dosing_session",
            NoteKind::Integration => "integration",
            NoteKind::FollowUp => "follow_up",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NoteKind::Preparation => "Preparation",
            NoteKind::DosingSession => "Dosing-session therapy",
            NoteKind::Integration => "Integration",
            NoteKind::FollowUp => "Follow-up visit",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| format!("`{raw}` is not one of preparation, dosing_session, integration, follow_up"))
    }

    /// Which PSY-007 sections a note of this kind has.
    pub fn sections(self) -> &'static [Section] {
        match self {
            NoteKind::Preparation => &[Section::Preparation],
            NoteKind::DosingSession => &[Section::DosingSession],
            NoteKind::Integration | NoteKind::FollowUp => &[Section::Integration],
        }
    }

    /// SUI-001: suicidality is screened at every follow-up; kat asks for the risk
    /// check before an integration or follow-up note can be signed.
    pub fn needs_risk_check(self) -> bool {
        matches!(self, NoteKind::Integration | NoteKind::FollowUp)
    }
}

/// A group of structured fields (PSY-007).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Preparation,
    DosingSession,
    Integration,
}

/// The therapy modality of the session (PSY-005).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    Cbt,
    ProlongedExposure,
    Cpt,
    WrittenExposure,
    MbctMbrp,
    Act,
    Other,
}

impl Modality {
    pub const ALL: [Modality; 7] = [
        Modality::Cbt,
        Modality::ProlongedExposure,
        Modality::Cpt,
        Modality::WrittenExposure,
        Modality::MbctMbrp,
        Modality::Act,
        Modality::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Cbt => "cbt",
            Modality::ProlongedExposure => "prolonged_exposure",
            Modality::Cpt => "cpt",
            Modality::WrittenExposure => "written_exposure",
            Modality::MbctMbrp => "mbct_mbrp",
            Modality::Act => "act",
            Modality::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Modality::Cbt => "CBT",
            Modality::ProlongedExposure => "Prolonged exposure (PE)",
            Modality::Cpt => "Cognitive processing therapy (CPT)",
            Modality::WrittenExposure => "Written exposure therapy (WET)",
            Modality::MbctMbrp => "Mindfulness-based (MBCT / MBRP)",
            Modality::Act => "Acceptance and commitment therapy (ACT)",
            Modality::Other => "Other",
        }
    }

    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == raw)
            .map(Some)
            .ok_or_else(|| format!("`{raw}` is not a known modality"))
    }
}

/// The risk check of an integration or follow-up session (SUI-001). A positive screen
/// follows the hard-wired escalation of SUI-003 outside the note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskCheck {
    /// Asked; no current suicidal thoughts or other acute risk.
    NoCurrentRisk,
    /// Some risk; the safety plan was reviewed with the patient.
    SafetyPlanReviewed,
    /// High risk: escalated for same-day clinician assessment (SUI-003).
    Escalated,
}

impl RiskCheck {
    pub const ALL: [RiskCheck; 3] = [RiskCheck::NoCurrentRisk, RiskCheck::SafetyPlanReviewed, RiskCheck::Escalated];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskCheck::NoCurrentRisk => "no_current_risk",
            RiskCheck::SafetyPlanReviewed => "safety_plan_reviewed",
            RiskCheck::Escalated => "escalated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RiskCheck::NoCurrentRisk => "Asked: no current risk",
            RiskCheck::SafetyPlanReviewed => "Some risk: safety plan reviewed",
            RiskCheck::Escalated => "High risk: escalated for same-day assessment (SUI-003)",
        }
    }

    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .map(Some)
            .ok_or_else(|| format!("`{raw}` is not one of no_current_risk, safety_plan_reviewed, escalated"))
    }
}

/// The content of a note, parsed. Fields outside the note's sections are empty.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NoteContent {
    pub session_date: Option<Date>,
    pub modality: Option<Modality>,
    pub modality_other: Option<String>,
    /// An opaque reference to the dosing session this therapy accompanied (dosing
    /// sessions are recorded elsewhere).
    pub dosing_session_ref: Option<String>,
    // Preparation.
    pub intentions: Option<String>,
    pub intention_tags: Vec<String>,
    pub fears_concerns: Option<String>,
    pub set_setting: Option<String>,
    pub psychoeducation: Option<String>,
    pub consent_reviewed: bool,
    // Dosing session.
    pub interventions: Option<String>,
    pub distress: Option<String>,
    // Integration (and dosing session: themes, emotions).
    pub themes: Vec<String>,
    pub insights: Option<String>,
    pub emotions: Option<String>,
    pub changes_noticed: Option<String>,
    pub homework_assigned: Option<String>,
    pub homework_reviewed: Option<String>,
    pub goal_progress: Option<String>,
    pub risk_check: Option<RiskCheck>,
    pub narrative: Option<String>,
}

impl fmt::Debug for NoteContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoteContent([redacted])")
    }
}

/// A note as typed into a form or sent as JSON: every field as text.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    pub session_date: String,
    pub modality: String,
    pub modality_other: String,
    pub dosing_session_ref: String,
    pub intentions: String,
    pub intention_tags: String,
    pub fears_concerns: String,
    pub set_setting: String,
    pub psychoeducation: String,
    /// `on`, `true` or `yes` when ticked.
    pub consent_reviewed: String,
    pub interventions: String,
    pub distress: String,
    pub themes: String,
    pub insights: String,
    pub emotions: String,
    pub changes_noticed: String,
    pub homework_assigned: String,
    pub homework_reviewed: String,
    pub goal_progress: String,
    pub risk_check: String,
    pub narrative: String,
}

impl fmt::Debug for NoteForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoteForm([redacted])")
    }
}

impl NoteForm {
    /// The form's field by its name (the API copies JSON members through this).
    pub fn field_mut(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "session_date" => &mut self.session_date,
            "modality" => &mut self.modality,
            "modality_other" => &mut self.modality_other,
            "dosing_session_ref" => &mut self.dosing_session_ref,
            "intentions" => &mut self.intentions,
            "intention_tags" => &mut self.intention_tags,
            "fears_concerns" => &mut self.fears_concerns,
            "set_setting" => &mut self.set_setting,
            "psychoeducation" => &mut self.psychoeducation,
            "consent_reviewed" => &mut self.consent_reviewed,
            "interventions" => &mut self.interventions,
            "distress" => &mut self.distress,
            "themes" => &mut self.themes,
            "insights" => &mut self.insights,
            "emotions" => &mut self.emotions,
            "changes_noticed" => &mut self.changes_noticed,
            "homework_assigned" => &mut self.homework_assigned,
            "homework_reviewed" => &mut self.homework_reviewed,
            "goal_progress" => &mut self.goal_progress,
            "risk_check" => &mut self.risk_check,
            "narrative" => &mut self.narrative,
            _ => return None,
        })
    }

    /// Parses the form for a note of `kind`. `today` is the clinic's date. Fields that
    /// belong to another kind of note are refused rather than silently dropped.
    pub fn parse(&self, kind: NoteKind, today: Date) -> Result<NoteContent, FieldErrors> {
        let mut e = FieldErrors::new();
        let sections = kind.sections();
        let has = |s: Section| sections.contains(&s);
        let text = |e: &mut FieldErrors, name: &str, raw: &str, section: Option<Section>| -> Option<String> {
            let value = e.take(name, optional_text(raw, MAX_TEXT)).flatten();
            if value.is_some() && section.is_some_and(|s| !has(s)) {
                e.add(name, format!("does not belong in a {} note", kind.label().to_lowercase()));
                return None;
            }
            value
        };
        let session_date = match self.session_date.trim() {
            "" => {
                e.add("session_date", "is required");
                None
            }
            raw => match parse_iso_date(raw) {
                None => {
                    e.add("session_date", format!("`{raw}` is not a date; use YYYY-MM-DD"));
                    None
                }
                Some(d) if d > today => {
                    e.add("session_date", "is in the future; write the note after the session");
                    None
                }
                Some(d) => Some(d),
            },
        };
        let modality = e.take("modality", Modality::parse(&self.modality)).flatten();
        let modality_other = text(&mut e, "modality_other", &self.modality_other, None);
        if modality == Some(Modality::Other) && modality_other.is_none() {
            e.add("modality_other", "is required when the modality is Other");
        }
        let dosing_session_ref =
            text(&mut e, "dosing_session_ref", &self.dosing_session_ref, Some(Section::DosingSession));
        if dosing_session_ref.as_ref().is_some_and(|r| r.chars().count() > 100) {
            e.add("dosing_session_ref", "must be at most 100 characters");
        }
        let intentions = text(&mut e, "intentions", &self.intentions, Some(Section::Preparation));
        let intention_tags = e.take("intention_tags", tags(&self.intention_tags)).unwrap_or_default();
        if !intention_tags.is_empty() && !has(Section::Preparation) {
            e.add("intention_tags", format!("does not belong in a {} note", kind.label().to_lowercase()));
        }
        let fears_concerns = text(&mut e, "fears_concerns", &self.fears_concerns, Some(Section::Preparation));
        let set_setting = text(&mut e, "set_setting", &self.set_setting, Some(Section::Preparation));
        let psychoeducation = text(&mut e, "psychoeducation", &self.psychoeducation, Some(Section::Preparation));
        let consent_reviewed = match self.consent_reviewed.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "no" | "off" => false,
            "on" | "true" | "yes" => {
                if !has(Section::Preparation) {
                    e.add("consent_reviewed", "belongs in a preparation note");
                }
                true
            }
            other => {
                e.add("consent_reviewed", format!("`{other}` is not yes or no"));
                false
            }
        };
        let interventions = text(&mut e, "interventions", &self.interventions, Some(Section::DosingSession));
        let distress = text(&mut e, "distress", &self.distress, Some(Section::DosingSession));
        let themes = e.take("themes", tags(&self.themes)).unwrap_or_default();
        if !themes.is_empty() && has(Section::Preparation) {
            e.add("themes", "does not belong in a preparation note");
        }
        let insights = text(&mut e, "insights", &self.insights, Some(Section::Integration));
        let emotions = e.take("emotions", optional_text(&self.emotions, MAX_TEXT)).flatten();
        if emotions.is_some() && has(Section::Preparation) {
            e.add("emotions", "does not belong in a preparation note");
        }
        let changes_noticed = text(&mut e, "changes_noticed", &self.changes_noticed, Some(Section::Integration));
        let homework_assigned = text(&mut e, "homework_assigned", &self.homework_assigned, Some(Section::Integration));
        let homework_reviewed = text(&mut e, "homework_reviewed", &self.homework_reviewed, Some(Section::Integration));
        let goal_progress = text(&mut e, "goal_progress", &self.goal_progress, Some(Section::Integration));
        let risk_check = e.take("risk_check", RiskCheck::parse(&self.risk_check)).flatten();
        if risk_check.is_some() && !has(Section::Integration) {
            e.add("risk_check", "belongs in an integration or follow-up note");
        }
        let narrative = text(&mut e, "narrative", &self.narrative, None);
        let content = NoteContent {
            session_date,
            modality,
            modality_other: if modality == Some(Modality::Other) { modality_other } else { None },
            dosing_session_ref,
            intentions,
            intention_tags,
            fears_concerns,
            set_setting,
            psychoeducation,
            consent_reviewed,
            interventions,
            distress,
            themes,
            insights,
            emotions,
            changes_noticed,
            homework_assigned,
            homework_reviewed,
            goal_progress,
            risk_check,
            narrative,
        };
        if e.is_empty() && content.is_blank() {
            e.add("narrative", "is required when no other field is filled in");
        }
        e.into_result(|| content)
    }
}

impl NoteContent {
    fn is_blank(&self) -> bool {
        let NoteContent {
            session_date: _,
            modality: _,
            modality_other: _,
            dosing_session_ref: _,
            consent_reviewed,
            intention_tags,
            themes,
            risk_check,
            ..
        } = self;
        let texts = [
            &self.intentions,
            &self.fears_concerns,
            &self.set_setting,
            &self.psychoeducation,
            &self.interventions,
            &self.distress,
            &self.insights,
            &self.emotions,
            &self.changes_noticed,
            &self.homework_assigned,
            &self.homework_reviewed,
            &self.goal_progress,
            &self.narrative,
        ];
        !consent_reviewed
            && intention_tags.is_empty()
            && themes.is_empty()
            && risk_check.is_none()
            && texts.iter().all(|t| t.is_none())
    }

    /// The content back as form text, for editing a draft.
    pub fn to_form(&self) -> NoteForm {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        NoteForm {
            session_date: self.session_date.map(|d| d.to_string()).unwrap_or_default(),
            modality: self.modality.map(|m| m.as_str().to_string()).unwrap_or_default(),
            modality_other: s(&self.modality_other),
            dosing_session_ref: s(&self.dosing_session_ref),
            intentions: s(&self.intentions),
            intention_tags: self.intention_tags.join(", "),
            fears_concerns: s(&self.fears_concerns),
            set_setting: s(&self.set_setting),
            psychoeducation: s(&self.psychoeducation),
            consent_reviewed: if self.consent_reviewed { "on".into() } else { String::new() },
            interventions: s(&self.interventions),
            distress: s(&self.distress),
            themes: self.themes.join(", "),
            insights: s(&self.insights),
            emotions: s(&self.emotions),
            changes_noticed: s(&self.changes_noticed),
            homework_assigned: s(&self.homework_assigned),
            homework_reviewed: s(&self.homework_reviewed),
            goal_progress: s(&self.goal_progress),
            risk_check: self.risk_check.map(|r| r.as_str().to_string()).unwrap_or_default(),
            narrative: s(&self.narrative),
        }
    }
}

/// Where a note is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteStatus {
    Draft,
    /// Locked: the content can never change again.
    Signed {
        by: UserId,
        at: Timestamp,
    },
}

/// A therapy note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TherapyNote {
    pub id: TherapyNoteId,
    pub patient_id: PatientId,
    pub kind: NoteKind,
    pub author: UserId,
    /// The planned session this note records, if it was written from the program.
    pub planned_session: Option<PlannedSessionId>,
    pub content: NoteContent,
    pub status: NoteStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// Why a lifecycle step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteRefusal {
    #[error("this note is signed and locked; add an addendum instead")]
    Signed,
    #[error("only the note's author may edit or sign a draft")]
    NotAuthor,
    #[error("an addendum can only be added to a signed note; edit the draft instead")]
    NotSigned,
}

impl TherapyNote {
    pub fn is_signed(&self) -> bool {
        matches!(self.status, NoteStatus::Signed { .. })
    }

    /// A draft may be changed by its author; a signed note by nobody.
    pub fn check_editable(&self, by: UserId) -> Result<(), NoteRefusal> {
        if self.is_signed() {
            return Err(NoteRefusal::Signed);
        }
        if self.author != by {
            return Err(NoteRefusal::NotAuthor);
        }
        Ok(())
    }

    /// Signing is editing's last step: the same rule, plus the content must be complete
    /// for the kind (SUI-001 risk check on integration and follow-up notes).
    pub fn check_signable(&self, by: UserId) -> Result<(), SignRefusal> {
        self.check_editable(by).map_err(SignRefusal::Refused)?;
        let mut missing = FieldErrors::new();
        if self.content.session_date.is_none() {
            missing.add("session_date", "is required before signing");
        }
        if self.kind.needs_risk_check() && self.content.risk_check.is_none() {
            missing.add("risk_check", "is required before signing (SUI-001: screen suicidality at every follow-up)");
        }
        missing.into_result(|| ()).map_err(SignRefusal::Incomplete)
    }

    /// Addenda are for signed notes only.
    pub fn check_addendable(&self) -> Result<(), NoteRefusal> {
        if self.is_signed() { Ok(()) } else { Err(NoteRefusal::NotSigned) }
    }

    /// The note with its signature applied.
    pub fn signed(mut self, by: UserId, at: Timestamp) -> Self {
        self.status = NoteStatus::Signed { by, at };
        self
    }
}

/// Why signing is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignRefusal {
    Refused(NoteRefusal),
    Incomplete(FieldErrors),
}

/// An addendum to a signed note: who, when, why, what.
#[derive(Clone, PartialEq, Eq)]
pub struct Addendum {
    pub id: AddendumId,
    pub note_id: TherapyNoteId,
    pub patient_id: PatientId,
    pub author: UserId,
    pub at: Timestamp,
    pub reason: String,
    pub body: String,
}

impl fmt::Debug for Addendum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Addendum")
            .field("id", &self.id)
            .field("note_id", &self.note_id)
            .field("author", &self.author)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// The reason and text of an addendum, as typed.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct AddendumForm {
    pub reason: String,
    pub body: String,
}

/// A parsed addendum: (reason, body).
pub fn parse_addendum(form: &AddendumForm) -> Result<(String, String), FieldErrors> {
    let mut e = FieldErrors::new();
    let reason = e.take("reason", optional_text(&form.reason, 500)).flatten();
    if reason.is_none() && e.for_field("reason").is_none() {
        e.add("reason", "is required: say why the note is being amended");
    }
    let body = e.take("body", optional_text(&form.body, MAX_TEXT)).flatten();
    if body.is_none() && e.for_field("body").is_none() {
        e.add("body", "is required");
    }
    e.into_result(|| (reason.unwrap_or_default(), body.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn today() -> Date {
        date(2026, 5, 10)
    }

    fn note(kind: NoteKind, content: NoteContent) -> TherapyNote {
        let t: Timestamp = "2026-05-10T10:00:00Z".parse().unwrap();
        TherapyNote {
            id: TherapyNoteId::from_uuid(Uuid::now_v7()),
            patient_id: PatientId::from_uuid(Uuid::now_v7()),
            kind,
            author: UserId::from_uuid(Uuid::from_u128(1)),
            planned_session: None,
            content,
            status: NoteStatus::Draft,
            created_at: t,
            updated_at: t,
            version: 1,
        }
    }

    #[test]
    fn a_preparation_note_parses_its_fields() {
        let form = NoteForm {
            session_date: "2026-05-09".into(),
            intentions: "Feel less stuck".into(),
            intention_tags: "grief, work,  Grief ,".into(),
            consent_reviewed: "on".into(),
            modality: "act".into(),
            ..Default::default()
        };
        let c = form.parse(NoteKind::Preparation, today()).unwrap();
        assert_eq!(c.intention_tags, vec!["grief", "work"]);
        assert!(c.consent_reviewed);
        assert_eq!(c.modality, Some(Modality::Act));
        assert_eq!(c.to_form().parse(NoteKind::Preparation, today()).unwrap(), c);
    }

    #[test]
    fn fields_of_another_kind_are_refused_by_name() {
        let form = NoteForm {
            session_date: "2026-05-09".into(),
            insights: "x".into(),
            themes: "loss".into(),
            risk_check: "no_current_risk".into(),
            ..Default::default()
        };
        let e = form.parse(NoteKind::Preparation, today()).unwrap_err();
        for f in ["insights", "themes", "risk_check"] {
            assert!(e.for_field(f).is_some(), "{f}: {e}");
        }
        let form = NoteForm { session_date: "2026-05-09".into(), intentions: "x".into(), ..Default::default() };
        assert!(form.parse(NoteKind::Integration, today()).unwrap_err().for_field("intentions").is_some());
    }

    #[test]
    fn date_boundaries_and_blank_notes() {
        let mut form = NoteForm { session_date: "2026-05-10".into(), narrative: "ok".into(), ..Default::default() };
        assert!(form.parse(NoteKind::FollowUp, today()).is_ok(), "today is allowed");
        form.session_date = "2026-05-11".into();
        assert!(form.parse(NoteKind::FollowUp, today()).unwrap_err().for_field("session_date").is_some());
        form.session_date = "10/05/2026".into();
        assert!(form.parse(NoteKind::FollowUp, today()).is_err());
        let blank = NoteForm { session_date: "2026-05-10".into(), ..Default::default() };
        assert!(blank.parse(NoteKind::Integration, today()).unwrap_err().for_field("narrative").is_some());
        let other = NoteForm {
            session_date: "2026-05-10".into(),
            narrative: "x".into(),
            modality: "other".into(),
            ..Default::default()
        };
        assert!(other.parse(NoteKind::Integration, today()).unwrap_err().for_field("modality_other").is_some());
    }

    #[test]
    fn a_signed_note_is_locked_for_everyone_and_open_to_addenda() {
        let author = UserId::from_uuid(Uuid::from_u128(1));
        let other = UserId::from_uuid(Uuid::from_u128(2));
        let content = NoteForm { session_date: "2026-05-09".into(), narrative: "n".into(), ..Default::default() }
            .parse(NoteKind::Preparation, today())
            .unwrap();
        let draft = note(NoteKind::Preparation, content);
        assert_eq!(draft.check_editable(author), Ok(()));
        assert_eq!(draft.check_editable(other), Err(NoteRefusal::NotAuthor));
        assert_eq!(draft.check_addendable(), Err(NoteRefusal::NotSigned));
        assert_eq!(draft.check_signable(other), Err(SignRefusal::Refused(NoteRefusal::NotAuthor)));
        let signed = draft.signed(author, "2026-05-10T11:00:00Z".parse().unwrap());
        assert_eq!(signed.check_editable(author), Err(NoteRefusal::Signed));
        assert_eq!(signed.check_signable(author), Err(SignRefusal::Refused(NoteRefusal::Signed)));
        assert_eq!(signed.check_addendable(), Ok(()));
    }

    #[test]
    fn integration_notes_need_a_risk_check_to_be_signed() {
        let author = UserId::from_uuid(Uuid::from_u128(1));
        let mut form = NoteForm { session_date: "2026-05-09".into(), insights: "i".into(), ..Default::default() };
        let n = note(NoteKind::Integration, form.parse(NoteKind::Integration, today()).unwrap());
        match n.check_signable(author) {
            Err(SignRefusal::Incomplete(e)) => assert!(e.for_field("risk_check").unwrap().contains("SUI-001")),
            other => panic!("{other:?}"),
        }
        form.risk_check = "no_current_risk".into();
        let n = note(NoteKind::Integration, form.parse(NoteKind::Integration, today()).unwrap());
        assert_eq!(n.check_signable(author), Ok(()));
    }

    #[test]
    fn addenda_need_a_reason_and_a_body() {
        let e = parse_addendum(&AddendumForm::default()).unwrap_err();
        assert!(e.for_field("reason").is_some() && e.for_field("body").is_some());
        assert_eq!(
            parse_addendum(&AddendumForm { reason: " late entry ".into(), body: "more".into() }).unwrap(),
            ("late entry".to_string(), "more".to_string())
        );
    }

    #[test]
    fn debug_never_shows_note_text() {
        let c = NoteContent { narrative: Some("secret words".into()), ..Default::default() };
        assert!(!format!("{c:?}").contains("secret"));
        let f = NoteForm { narrative: "secret words".into(), ..Default::default() };
        assert!(!format!("{f:?}").contains("secret"));
    }

    proptest! {
        /// Whatever the sequence of users trying, a signed note stays locked and
        /// addendable, and a draft is editable exactly by its author.
        #[test]
        fn lock_invariant(signed in any::<bool>(), by in 0u128..4) {
            let author = UserId::from_uuid(Uuid::from_u128(1));
            let who = UserId::from_uuid(Uuid::from_u128(by));
            let mut n = note(NoteKind::FollowUp, NoteContent { narrative: Some("x".into()), ..Default::default() });
            if signed {
                n = n.signed(author, "2026-05-10T11:00:00Z".parse().unwrap());
            }
            prop_assert_eq!(n.check_editable(who).is_ok(), !signed && who == author);
            prop_assert_eq!(n.check_addendable().is_ok(), signed);
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}", date in "\\PC{0,12}", k in 0usize..4) {
            let form = NoteForm { session_date: date, narrative: text.clone(), themes: text, ..Default::default() };
            let _ = form.parse(NoteKind::ALL[k], today());
        }
    }
}
