//! Rows as both adapters read them, and their one conversion into domain types.
//!
//! The adapters differ in how a column is typed (an INTEGER time in SQLite, a
//! TIMESTAMPTZ in PostgreSQL) but not in what a row means; the meaning lives here, once.

use crate::StoreError;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::audit::{AuditAction, AuditActor, AuditEntry, AuditOutcome, NewAuditEntry};
use kat_core::ids::{AuditId, PatientId, UserId};
use kat_core::patient::{
    BirthDate, BoundedText, Demographics, Email, EmergencyContact, Mrn, Patient, PersonName, Phone, SexAtBirth,
};
use kat_core::role::Role;
use kat_core::user::{AccountKind, User, Username};
use uuid::Uuid;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("stored {what} is invalid"))
}

pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub kind: String,
    pub active: bool,
    pub must_change_password: bool,
}

impl UserRow {
    pub fn into_domain(self) -> Result<User, StoreError> {
        Ok(User {
            id: UserId::from_uuid(self.id),
            username: Username::parse(&self.username).map_err(|_| corrupt("username"))?,
            display_name: self.display_name,
            role: self.role.parse::<Role>().map_err(|_| corrupt("role"))?,
            kind: AccountKind::parse(&self.kind).ok_or_else(|| corrupt("account kind"))?,
            active: self.active,
            must_change_password: self.must_change_password,
        })
    }
}

pub struct PatientRow {
    pub id: Uuid,
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Date,
    pub sex_at_birth: String,
    pub gender_identity: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub emergency_contact_name: Option<String>,
    pub emergency_contact_relationship: Option<String>,
    pub emergency_contact_phone: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl PatientRow {
    pub fn into_domain(self) -> Result<Patient, StoreError> {
        let text = |v: Option<String>, max: usize, multiline: bool, what: &str| {
            v.map(|s| BoundedText::parse(&s, max, multiline).map_err(|_| corrupt(what))).transpose()
        };
        let phone = |v: Option<String>| v.map(|s| Phone::parse(&s).map_err(|_| corrupt("phone"))).transpose();
        Ok(Patient {
            id: PatientId::from_uuid(self.id),
            mrn: Mrn::parse(&self.mrn).ok_or_else(|| corrupt("MRN"))?,
            demographics: Demographics {
                given_name: PersonName::parse(&self.given_name).map_err(|_| corrupt("given name"))?,
                family_name: PersonName::parse(&self.family_name).map_err(|_| corrupt("family name"))?,
                birth_date: BirthDate::from_stored(self.birth_date),
                sex_at_birth: SexAtBirth::parse(&self.sex_at_birth).map_err(|_| corrupt("sex at birth"))?,
                gender_identity: text(self.gender_identity, 100, false, "gender identity")?,
                phone: phone(self.phone)?,
                email: self.email.map(|s| Email::parse(&s).map_err(|_| corrupt("email"))).transpose()?,
                address: text(self.address, 500, true, "address")?,
                emergency_contact: EmergencyContact {
                    name: text(self.emergency_contact_name, 100, false, "emergency contact")?,
                    relationship: text(
                        self.emergency_contact_relationship,
                        60,
                        false,
                        "emergency contact relationship",
                    )?,
                    phone: phone(self.emergency_contact_phone)?,
                },
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

/// The optional demographics as nullable columns, in schema order, for binding.
pub struct DemographicsColumns {
    pub given_name: String,
    pub family_name: String,
    /// The names folded for search (`kat_core::patient::name_search_key`), stored beside
    /// them so the search is a range on an index.
    pub given_name_key: String,
    pub family_name_key: String,
    pub birth_date: Date,
    pub sex_at_birth: &'static str,
    pub gender_identity: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub emergency_contact_name: Option<String>,
    pub emergency_contact_relationship: Option<String>,
    pub emergency_contact_phone: Option<String>,
}

impl From<&Demographics> for DemographicsColumns {
    fn from(d: &Demographics) -> Self {
        let text = |t: &Option<BoundedText>| t.as_ref().map(|t| t.as_str().to_string());
        Self {
            given_name: d.given_name.as_str().to_string(),
            family_name: d.family_name.as_str().to_string(),
            given_name_key: d.given_name.search_key(),
            family_name_key: d.family_name.search_key(),
            birth_date: d.birth_date.date(),
            sex_at_birth: d.sex_at_birth.as_str(),
            gender_identity: text(&d.gender_identity),
            phone: d.phone.as_ref().map(|p| p.as_str().to_string()),
            email: d.email.as_ref().map(|e| e.as_str().to_string()),
            address: text(&d.address),
            emergency_contact_name: text(&d.emergency_contact.name),
            emergency_contact_relationship: text(&d.emergency_contact.relationship),
            emergency_contact_phone: d.emergency_contact.phone.as_ref().map(|p| p.as_str().to_string()),
        }
    }
}

pub struct AuditRow {
    pub seq: i64,
    pub id: Uuid,
    pub at: Timestamp,
    pub actor_user_id: Option<Uuid>,
    pub actor_label: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub patient_id: Option<Uuid>,
    pub remote_addr: String,
    pub outcome: String,
    pub request_id: Option<String>,
}

impl AuditRow {
    pub fn into_domain(self) -> Result<AuditEntry, StoreError> {
        Ok(AuditEntry {
            id: AuditId::from_uuid(self.id),
            seq: self.seq,
            entry: NewAuditEntry {
                at: self.at,
                actor: AuditActor { user_id: self.actor_user_id.map(UserId::from_uuid), label: self.actor_label },
                action: AuditAction::parse(&self.action).ok_or_else(|| corrupt("audit action"))?,
                resource_type: self.resource_type,
                resource_id: self.resource_id,
                patient_id: self.patient_id.map(PatientId::from_uuid),
                remote_addr: self.remote_addr,
                outcome: AuditOutcome::parse(&self.outcome).ok_or_else(|| corrupt("audit outcome"))?,
                request_id: self.request_id,
            },
        })
    }
}
