//! Identifiers: UUIDv7 (time-ordered) in newtypes so that a patient id can never be
//! passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id. The caller supplies the UUIDv7 (made from the current time at
            /// the shell), keeping the core free of clocks and randomness.
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self)
            }
        }
    };
}

id_type!(
    /// A patient of the clinic.
    PatientId
);
id_type!(
    /// A staff account or an API client.
    UserId
);
id_type!(
    /// A bearer token for the JSON API.
    TokenId
);
id_type!(
    /// One entry of the audit log.
    AuditId
);
id_type!(
    /// One stored rating-scale response.
    ResponseId
);
id_type!(
    /// A one-time self-report link.
    LinkId
);
id_type!(
    /// An urgent safety alert.
    AlertId
);
id_type!(
    /// A psychotherapy note (preparation, dosing-session, integration, follow-up).
    TherapyNoteId
);
id_type!(
    /// An addendum to a signed therapy note.
    AddendumId
);
id_type!(
    /// A psychotherapy process note, kept apart from the record.
    ProcessNoteId
);
id_type!(
    /// One version of a patient's safety and coping plan.
    SafetyPlanId
);
id_type!(
    /// A planned session or appointment of a patient's program.
    PlannedSessionId
);
id_type!(
    /// A signed (or draft) treatment plan for a course of ketamine or esketamine.
    TreatmentPlanId
);
id_type!(
    /// One dosing session of a treatment plan.
    DosingSessionId
);
id_type!(
    /// One administration event of a dosing session (a device, an infusion step).
    AdministrationId
);
id_type!(
    /// One vital-sign reading of a dosing session.
    VitalId
);
id_type!(
    /// One alarm raised by a vital-sign reading.
    SessionAlarmId
);
id_type!(
    /// A storage location of controlled substances (a safe, a locked cabinet).
    StorageLocationId
);
id_type!(
    /// One commercial container of a controlled substance (a vial, a device kit) with its
    /// own balance in the ledger.
    ContainerId
);
id_type!(
    /// One entry of the controlled-substance ledger.
    LedgerEntryId
);
