//! Access to a patient's clinical record by relationship (issue 12 item 1).
//!
//! The role decides *what* a user may do ([`Role::allows`]); this module decides *for
//! whom* a clinician may do it. A clinician reads and writes a patient's clinical record
//! when on the patient's care team, or, for a nurse, when the patient doses today; a
//! clinic policy may open every record to every clinician. Anyone else is offered
//! break-glass: a reason, access for a limited time, audited as such and reviewed by an
//! admin. Demographics, registration, questionnaire links and the schedule stay open as
//! the role matrix says; the front desk and admins are not clinicians and keep their
//! role's access.
//!
//! Pure: what the relationship is (team, today's dosing, a break-glass grant) is read by
//! the caller and passed in, with the time.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::role::{Permission, Role};

/// Whose records a clinician may open without break-glass (clinic policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordScope {
    /// The patients whose care team they are on (and, for nurses, today's dosing).
    #[default]
    CareTeam,
    /// Every patient: the clinic chooses not to scope records by relationship.
    AllClinicians,
}

impl RecordScope {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordScope::CareTeam => "care_team",
            RecordScope::AllClinicians => "all_clinicians",
        }
    }
}

/// The clinic's access policy (`[security.access]`). Neither value comes from the
/// clinical reference (it has none): both are clinic policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    pub scope: RecordScope,
    /// How long a break-glass grant lasts (default 60 minutes; 5 minutes to 12 hours).
    pub break_glass: SignedDuration,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        Self { scope: RecordScope::CareTeam, break_glass: SignedDuration::from_mins(60) }
    }
}

/// The shortest and longest break-glass grant a clinic may configure.
pub const BREAK_GLASS_MIN: SignedDuration = SignedDuration::from_mins(5);
pub const BREAK_GLASS_MAX: SignedDuration = SignedDuration::from_hours(12);

impl AccessPolicy {
    /// Checks the policy's values; the error names the offending key.
    pub fn check(&self) -> Result<(), String> {
        if self.break_glass < BREAK_GLASS_MIN || self.break_glass > BREAK_GLASS_MAX {
            return Err("security.access.break_glass_minutes must be between 5 and 720".into());
        }
        Ok(())
    }
}

/// What ties a user to a patient, as read from the store at the time of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relation {
    /// The user is on the patient's care team.
    pub on_care_team: bool,
    /// The patient's care team has nobody on it yet.
    pub team_empty: bool,
    /// The patient has a dosing session today: one opened today, one still open, or a
    /// dose booked for today in a signed plan.
    pub doses_today: bool,
    /// The end of the user's latest break-glass grant for this patient, if any.
    pub break_glass_until: Option<Timestamp>,
}

/// Why access was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The permission is not scoped by relationship, or the user is not a clinician.
    Role,
    CareTeam,
    /// A nurse, with the patient dosing today.
    DosingToday,
    /// The clinic opens every record to every clinician.
    AllClinicians,
    /// A prescriber setting the first care team of a patient who has none.
    FirstCareTeam,
    /// A break-glass grant in force until this time.
    BreakGlass {
        until: Timestamp,
    },
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed(Basis),
    /// Not without breaking the glass (a reason, then access for a limited time).
    BreakGlassNeeded,
}

/// Whether a permission reaches into a patient's clinical record and so is scoped by
/// relationship. Demographics and registration, questionnaire links (the front desk
/// sends them too), the schedule (names and kinds only), the audit log, accounts and
/// policy are not.
pub fn is_record_permission(p: Permission) -> bool {
    use Permission::*;
    match p {
        IntakeRead
        | IntakeWrite
        | EligibilitySign
        | MeasureRead
        | MeasureEnter
        | SafetyAlertAcknowledge
        | TherapyNoteRead
        | TherapyNoteWrite
        | ProcessNoteWrite
        | CarePlanWrite
        | CareTeamManage
        | TreatmentPlanWrite
        | TreatmentPlanSign
        | DosingSessionRun
        | DosingSessionRead
        | DischargeOverride => true,
        PatientRead | PatientCreate | PatientUpdate | AuditRead | UserManage | PolicyManage | MeasureLinkSend
        | ScheduleRead | LedgerRead | LedgerRecord => false,
    }
}

/// Decides access to one patient's record for a user whose role already allows
/// `permission` (the caller checks the role first).
pub fn decide(
    role: Role,
    permission: Permission,
    relation: &Relation,
    policy: &AccessPolicy,
    now: Timestamp,
) -> Access {
    if !role.is_clinical() || !is_record_permission(permission) {
        return Access::Allowed(Basis::Role);
    }
    if policy.scope == RecordScope::AllClinicians {
        return Access::Allowed(Basis::AllClinicians);
    }
    if relation.on_care_team {
        return Access::Allowed(Basis::CareTeam);
    }
    if role == Role::Nurse && relation.doses_today {
        return Access::Allowed(Basis::DosingToday);
    }
    if permission == Permission::CareTeamManage && relation.team_empty {
        return Access::Allowed(Basis::FirstCareTeam);
    }
    match relation.break_glass_until {
        Some(until) if until > now => Access::Allowed(Basis::BreakGlass { until }),
        _ => Access::BreakGlassNeeded,
    }
}

/// A reason a person states for a sensitive step (breaking the glass, changing a planned
/// patient's birth date or sex at birth, marking a medical director): at least 10
/// characters once trimmed, so that "x" or "ok" is not a reason, and at most
/// [`REASON_MAX_CHARS`]. Its `Debug` is redacted (a reason may name a patient).
#[derive(Clone, PartialEq, Eq)]
pub struct StatedReason(String);

/// The longest reason kept.
pub const REASON_MAX_CHARS: usize = 500;

impl StatedReason {
    /// Parses form field `field`; `ask` is the request shown when it is too short
    /// ("say why you need this record").
    pub fn parse(field: &str, ask: &str, raw: &str) -> Result<Self, crate::FieldErrors> {
        let t = raw.trim();
        let n = t.chars().count();
        if n < 10 {
            return Err(crate::FieldErrors::single(field, format!("{ask} (at least 10 characters)")));
        }
        if n > REASON_MAX_CHARS {
            return Err(crate::FieldErrors::single(field, "keep the reason under 500 characters"));
        }
        if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(crate::FieldErrors::single(field, "contains control characters"));
        }
        Ok(Self(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for StatedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatedReason(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn none() -> Relation {
        Relation::default()
    }

    #[test]
    fn a_clinician_off_the_team_must_break_the_glass_for_every_record_permission() {
        let p = AccessPolicy::default();
        for role in [Role::Prescriber, Role::Nurse, Role::Therapist] {
            for perm in Permission::ALL {
                if !role.allows(perm) {
                    continue;
                }
                let want =
                    if is_record_permission(perm) { Access::BreakGlassNeeded } else { Access::Allowed(Basis::Role) };
                assert_eq!(decide(role, perm, &none(), &p, t(0)), want, "{role:?} {perm:?}");
                let team = Relation { on_care_team: true, ..none() };
                assert!(matches!(decide(role, perm, &team, &p, t(0)), Access::Allowed(_)), "{role:?} {perm:?}");
            }
        }
    }

    #[test]
    fn front_desk_and_admins_keep_their_roles_access() {
        let p = AccessPolicy::default();
        for role in [Role::FrontDesk, Role::Admin] {
            for perm in Permission::ALL.into_iter().filter(|q| role.allows(*q)) {
                assert_eq!(decide(role, perm, &none(), &p, t(0)), Access::Allowed(Basis::Role), "{role:?} {perm:?}");
            }
        }
    }

    #[test]
    fn dosing_today_opens_the_record_to_nurses_only() {
        let p = AccessPolicy::default();
        let today = Relation { doses_today: true, ..none() };
        assert_eq!(
            decide(Role::Nurse, Permission::DosingSessionRun, &today, &p, t(0)),
            Access::Allowed(Basis::DosingToday)
        );
        assert_eq!(decide(Role::Therapist, Permission::TherapyNoteRead, &today, &p, t(0)), Access::BreakGlassNeeded);
        assert_eq!(decide(Role::Prescriber, Permission::DischargeOverride, &today, &p, t(0)), Access::BreakGlassNeeded);
    }

    #[test]
    fn a_grant_holds_until_its_end_and_not_at_it() {
        let p = AccessPolicy::default();
        let rel = Relation { break_glass_until: Some(t(3600)), ..none() };
        assert_eq!(
            decide(Role::Therapist, Permission::TherapyNoteRead, &rel, &p, t(3599)),
            Access::Allowed(Basis::BreakGlass { until: t(3600) })
        );
        assert_eq!(decide(Role::Therapist, Permission::TherapyNoteRead, &rel, &p, t(3600)), Access::BreakGlassNeeded);
    }

    #[test]
    fn the_clinic_may_open_every_record_to_every_clinician() {
        let p = AccessPolicy { scope: RecordScope::AllClinicians, ..AccessPolicy::default() };
        assert_eq!(
            decide(Role::Therapist, Permission::TherapyNoteRead, &none(), &p, t(0)),
            Access::Allowed(Basis::AllClinicians)
        );
    }

    #[test]
    fn a_prescriber_may_set_a_first_care_team_but_not_join_an_existing_one() {
        let p = AccessPolicy::default();
        let empty = Relation { team_empty: true, ..none() };
        assert_eq!(
            decide(Role::Prescriber, Permission::CareTeamManage, &empty, &p, t(0)),
            Access::Allowed(Basis::FirstCareTeam)
        );
        assert_eq!(decide(Role::Prescriber, Permission::CareTeamManage, &none(), &p, t(0)), Access::BreakGlassNeeded);
        // An empty team opens nothing else.
        assert_eq!(decide(Role::Prescriber, Permission::IntakeRead, &empty, &p, t(0)), Access::BreakGlassNeeded);
    }

    #[test]
    fn a_reason_needs_ten_characters_and_at_most_five_hundred() {
        let parse = |raw: &str| StatedReason::parse("reason", "say why", raw);
        let e = parse("  too shrt ").unwrap_err();
        assert_eq!(e.for_field("reason"), Some("say why (at least 10 characters)"));
        assert_eq!(parse("  0123456789 ").unwrap().as_str(), "0123456789");
        assert!(parse(&"é".repeat(500)).is_ok(), "characters, not bytes");
        assert!(parse(&"x".repeat(501)).is_err());
        assert!(parse("patient in\u{7} crisis").is_err(), "control characters");
        assert!(parse("patient in\ncrisis\tnow").is_ok(), "line breaks and tabs");
        assert_eq!(format!("{:?}", parse("patient in crisis").unwrap()), "StatedReason(<redacted>)");
    }

    #[test]
    fn the_grant_length_is_bounded() {
        let mut p = AccessPolicy::default();
        assert!(p.check().is_ok());
        p.break_glass = SignedDuration::from_mins(4);
        assert!(p.check().is_err());
        p.break_glass = BREAK_GLASS_MIN;
        assert!(p.check().is_ok());
        p.break_glass = BREAK_GLASS_MAX;
        assert!(p.check().is_ok());
        p.break_glass = BREAK_GLASS_MAX + SignedDuration::from_secs(1);
        assert!(p.check().is_err());
    }
}
