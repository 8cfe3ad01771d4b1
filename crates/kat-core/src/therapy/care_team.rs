//! The care team: which prescriber, therapists and nurses look after a patient. The
//! worklists follow it.

use crate::field::FieldErrors;
use crate::ids::UserId;
use crate::role::Role;
use crate::user::User;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CareRole {
    Prescriber,
    Therapist,
    Nurse,
}

impl CareRole {
    pub const ALL: [CareRole; 3] = [CareRole::Prescriber, CareRole::Therapist, CareRole::Nurse];

    pub fn as_str(self) -> &'static str {
        match self {
            CareRole::Prescriber => "prescriber",
            CareRole::Therapist => "therapist",
            CareRole::Nurse => "nurse",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CareRole::Prescriber => "Prescriber",
            CareRole::Therapist => "Therapist",
            CareRole::Nurse => "Nurse",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw.trim())
    }

    /// The account role a member in this place must have.
    pub fn account_role(self) -> Role {
        match self {
            CareRole::Prescriber => Role::Prescriber,
            CareRole::Therapist => Role::Therapist,
            CareRole::Nurse => Role::Nurse,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CareTeamMember {
    pub user_id: UserId,
    pub care_role: CareRole,
}

/// Parses a care team from (account id or username) per role. Each member must be an
/// active account of the matching role; a person appears once.
pub fn parse_care_team(entries: &[(CareRole, String)], staff: &[User]) -> Result<Vec<CareTeamMember>, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut team: Vec<CareTeamMember> = Vec::new();
    for (care_role, raw) in entries {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let field = format!("{}s", care_role.as_str());
        match staff.iter().find(|u| u.id.to_string() == raw || u.username.as_str() == raw) {
            Some(u) if u.active && u.role == care_role.account_role() => {
                if !team.iter().any(|m| m.user_id == u.id) {
                    team.push(CareTeamMember { user_id: u.id, care_role: *care_role });
                }
            }
            _ => e.add(field, format!("`{raw}` is not an active {}", care_role.label().to_lowercase())),
        }
    }
    team.sort_by_key(|m| m.care_role);
    e.into_result(|| team)
}
