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
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::PatientRead,
        Permission::PatientCreate,
        Permission::PatientUpdate,
        Permission::AuditRead,
        Permission::UserManage,
    ];
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Prescriber,
        Role::Nurse,
        Role::Therapist,
        Role::FrontDesk,
    ];

    /// The permission matrix. Registration and demographics are everyone's work in a
    /// clinic (the front desk registers, clinicians correct); the audit log and
    /// accounts are the admin's alone.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            PatientRead | PatientCreate | PatientUpdate => true,
            AuditRead | UserManage => self == Role::Admin,
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
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == normalised)
            .ok_or_else(|| UnknownRole(s.to_string()))
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
}
