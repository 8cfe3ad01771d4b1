//! Roles and what each may do (least privilege).
//!
//! Every route of the web layer asks `Role::allows` for one `Permission` before it
//! touches data; nothing checks role names directly.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Prescriber,
    Nurse,
    Therapist,
    FrontDesk,
}

/// A thing a user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read demographics and search the patient registry.
    PatientRead,
    /// Register a new patient.
    PatientCreate,
    /// Edit demographics.
    PatientUpdate,
    /// Read the audit log.
    AuditRead,
    /// Create and disable staff accounts and API tokens.
    UserManage,
    /// Read the intake (medical and psychiatric history) and the eligibility evaluation.
    IntakeRead,
    /// Record or edit the intake.
    IntakeWrite,
    /// Sign the eligibility decision (prescribers).
    EligibilitySign,
    /// Edit the clinic policy (thresholds the clinical reference marks as policy).
    PolicyManage,
    /// Read rating-scale responses, scores and outcomes.
    MeasureRead,
    /// Enter rating-scale answers on a patient's behalf.
    MeasureEnter,
    /// Send a patient a one-time self-report link.
    MeasureLinkSend,
    /// See and acknowledge urgent safety alerts (suicide risk).
    SafetyAlertAcknowledge,
    /// Read therapy notes, addenda, safety plans, the program and the timeline.
    TherapyNoteRead,
    /// Write, sign and addend therapy notes.
    TherapyNoteWrite,
    /// Write psychotherapy process notes (reading one needs the author's say, not a role).
    ProcessNoteWrite,
    /// Write the safety plan and the program of planned sessions.
    CarePlanWrite,
    /// Assign the care team (prescriber, therapists, nurses) of a patient.
    CareTeamManage,
    /// See the schedule of planned sessions (names and kinds, no clinical content).
    ScheduleRead,
    /// Draft a treatment plan (prescribers).
    TreatmentPlanWrite,
    /// Sign a treatment plan (prescribers).
    TreatmentPlanSign,
    /// Run a dosing session: gate, administration, vitals, alarms (nurses, prescribers).
    DosingSessionRun,
    /// Read treatment plans, dosing sessions and the floor board (clinicians).
    DosingSessionRead,
    /// Override a refused discharge or a gate that needs a prescriber (prescribers).
    DischargeOverride,
    /// Read the controlled-substance ledger and verify its chain (issue 13): those who
    /// handle the stock and the admin who answers for the records (DEA-002); never the
    /// front desk.
    LedgerRead,
    /// Record in the controlled-substance ledger (nurses, prescribers); which entries
    /// each role may make is the clinic's duty table (`kat_core::ledger::DutyTable`).
    LedgerRecord,
}

impl Permission {
    pub const ALL: [Permission; 26] = [
        Permission::PatientRead,
        Permission::PatientCreate,
        Permission::PatientUpdate,
        Permission::AuditRead,
        Permission::UserManage,
        Permission::IntakeRead,
        Permission::IntakeWrite,
        Permission::EligibilitySign,
        Permission::PolicyManage,
        Permission::MeasureRead,
        Permission::MeasureEnter,
        Permission::MeasureLinkSend,
        Permission::SafetyAlertAcknowledge,
        Permission::TherapyNoteRead,
        Permission::TherapyNoteWrite,
        Permission::ProcessNoteWrite,
        Permission::CarePlanWrite,
        Permission::CareTeamManage,
        Permission::ScheduleRead,
        Permission::TreatmentPlanWrite,
        Permission::TreatmentPlanSign,
        Permission::DosingSessionRun,
        Permission::DosingSessionRead,
        Permission::DischargeOverride,
        Permission::LedgerRead,
        Permission::LedgerRecord,
    ];
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Prescriber, Role::Nurse, Role::Therapist, Role::FrontDesk];

    /// Whether the role treats patients (prescriber, nurse, therapist).
    pub fn is_clinical(self) -> bool {
        matches!(self, Role::Prescriber | Role::Nurse | Role::Therapist)
    }

    /// The permission matrix. Registration and demographics are everyone's work in a
    /// clinic (the front desk registers, clinicians correct); the audit log, accounts
    /// and clinic policy are the admin's; clinical records are the clinicians'; only
    /// prescribers sign eligibility. The front desk may send a questionnaire link but
    /// not read the answers.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            PatientRead | PatientCreate | PatientUpdate => true,
            AuditRead | UserManage | PolicyManage => self == Role::Admin,
            IntakeRead | IntakeWrite | MeasureRead | MeasureEnter | SafetyAlertAcknowledge => self.is_clinical(),
            EligibilitySign => self == Role::Prescriber,
            MeasureLinkSend => self.is_clinical() || self == Role::FrontDesk,
            TherapyNoteRead => self.is_clinical(),
            TherapyNoteWrite | CarePlanWrite => matches!(self, Role::Therapist | Role::Prescriber),
            ProcessNoteWrite => self == Role::Therapist,
            CareTeamManage => matches!(self, Role::Admin | Role::Prescriber),
            ScheduleRead => self.is_clinical() || self == Role::FrontDesk,
            TreatmentPlanWrite | TreatmentPlanSign | DischargeOverride => self == Role::Prescriber,
            DosingSessionRun => matches!(self, Role::Nurse | Role::Prescriber),
            DosingSessionRead => self.is_clinical(),
            LedgerRead => matches!(self, Role::Admin | Role::Prescriber | Role::Nurse),
            LedgerRecord => matches!(self, Role::Prescriber | Role::Nurse),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Prescriber => "prescriber",
            Role::Nurse => "nurse",
            Role::Therapist => "therapist",
            Role::FrontDesk => "front_desk",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Clinic admin",
            Role::Prescriber => "Prescriber",
            Role::Nurse => "Nurse",
            Role::Therapist => "Therapist",
            Role::FrontDesk => "Front desk",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; expected one of admin, prescriber, nurse, therapist, front_desk")]
pub struct UnknownRole(String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalised = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Role::ALL.into_iter().find(|r| r.as_str() == normalised).ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert_eq!("front-desk".parse::<Role>().unwrap(), Role::FrontDesk);
        assert!("superuser".parse::<Role>().is_err());
    }

    #[test]
    fn only_admins_read_the_audit_log_and_manage_users() {
        for role in Role::ALL {
            let admin = role == Role::Admin;
            assert_eq!(role.allows(Permission::AuditRead), admin, "{role}");
            assert_eq!(role.allows(Permission::UserManage), admin, "{role}");
            assert!(role.allows(Permission::PatientRead), "{role}");
        }
    }

    #[test]
    fn clinical_records_are_for_clinicians_and_signing_for_prescribers() {
        for role in Role::ALL {
            for p in [Permission::IntakeRead, Permission::MeasureRead, Permission::SafetyAlertAcknowledge] {
                assert_eq!(role.allows(p), role.is_clinical(), "{role} {p:?}");
            }
            assert_eq!(role.allows(Permission::EligibilitySign), role == Role::Prescriber, "{role}");
            assert_eq!(role.allows(Permission::PolicyManage), role == Role::Admin, "{role}");
        }
        assert!(Role::FrontDesk.allows(Permission::MeasureLinkSend));
        assert!(!Role::FrontDesk.allows(Permission::MeasureRead));
        assert!(!Role::Admin.allows(Permission::MeasureLinkSend));
    }

    #[test]
    fn the_ledger_is_for_those_who_handle_the_stock_and_never_the_front_desk() {
        use Role::*;
        for (role, read, record) in [
            (Admin, true, false),
            (Prescriber, true, true),
            (Nurse, true, true),
            (Therapist, false, false),
            (FrontDesk, false, false),
        ] {
            assert_eq!(role.allows(Permission::LedgerRead), read, "{role}");
            assert_eq!(role.allows(Permission::LedgerRecord), record, "{role}");
        }
    }

    #[test]
    fn the_therapy_matrix() {
        use Permission::*;
        use Role::*;
        // (permission, admin, prescriber, nurse, therapist, front desk)
        let matrix = [
            (TherapyNoteRead, false, true, true, true, false),
            (TherapyNoteWrite, false, true, false, true, false),
            (ProcessNoteWrite, false, false, false, true, false),
            (CarePlanWrite, false, true, false, true, false),
            (CareTeamManage, true, true, false, false, false),
            (ScheduleRead, false, true, true, true, true),
            (TreatmentPlanWrite, false, true, false, false, false),
            (TreatmentPlanSign, false, true, false, false, false),
            (DosingSessionRun, false, true, true, false, false),
            (DosingSessionRead, false, true, true, true, false),
            (DischargeOverride, false, true, false, false, false),
        ];
        for (p, a, pr, n, t, f) in matrix {
            for (role, expected) in [(Admin, a), (Prescriber, pr), (Nurse, n), (Therapist, t), (FrontDesk, f)] {
                assert_eq!(role.allows(p), expected, "{role} {p:?}");
            }
        }
    }
}
