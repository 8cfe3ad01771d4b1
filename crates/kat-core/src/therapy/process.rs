//! Psychotherapy process notes: the therapist's private working notes, kept apart from
//! the clinical record. Only the author and the therapists the author names may read
//! one; nobody else, whatever their role (admins and prescribers included).

use super::optional_text;
use crate::field::FieldErrors;
use crate::ids::{PatientId, ProcessNoteId, UserId};
use crate::role::Role;
use crate::user::User;
use jiff::Timestamp;
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct ProcessNote {
    pub id: ProcessNoteId,
    pub patient_id: PatientId,
    pub author: UserId,
    pub body: String,
    /// Therapists the author allowed to read this note.
    pub readers: Vec<UserId>,
    pub created_at: Timestamp,
}

impl fmt::Debug for ProcessNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessNote")
            .field("id", &self.id)
            .field("author", &self.author)
            .field("readers", &self.readers)
            .finish_non_exhaustive()
    }
}

impl ProcessNote {
    /// The one visibility rule: the author, or a reader the author named.
    pub fn may_read(&self, user: UserId) -> bool {
        self.author == user || self.readers.contains(&user)
    }
}

/// Parses a process note's body and its named readers. Every reader must be an active
/// therapist other than the author; `staff` is the clinic's account list.
pub fn parse_process_note(
    body: &str,
    readers: &[String],
    author: UserId,
    staff: &[User],
) -> Result<(String, Vec<UserId>), FieldErrors> {
    let mut e = FieldErrors::new();
    let body = e.take("body", optional_text(body, super::note::MAX_TEXT)).flatten();
    if body.is_none() && e.for_field("body").is_none() {
        e.add("body", "is required");
    }
    let mut ids = Vec::new();
    for raw in readers.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        let found = staff.iter().find(|u| u.id.to_string() == raw || u.username.as_str() == raw);
        match found {
            Some(u) if u.role == Role::Therapist && u.active && u.id != author => {
                if !ids.contains(&u.id) {
                    ids.push(u.id);
                }
            }
            Some(u) if u.id == author => {}
            _ => e.add("readers", format!("`{raw}` is not an active therapist")),
        }
    }
    e.into_result(|| (body.unwrap_or_default(), ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::{AccountKind, Username};
    use uuid::Uuid;

    fn user(n: u128, name: &str, role: Role) -> User {
        User {
            id: UserId::from_uuid(Uuid::from_u128(n)),
            username: Username::parse(name).unwrap(),
            display_name: name.into(),
            role,
            kind: AccountKind::Staff,
            active: true,
            must_change_password: false,
        }
    }

    #[test]
    fn only_author_and_named_readers_may_read() {
        let note = ProcessNote {
            id: ProcessNoteId::from_uuid(Uuid::now_v7()),
            patient_id: PatientId::from_uuid(Uuid::now_v7()),
            author: UserId::from_uuid(Uuid::from_u128(1)),
            body: "b".into(),
            readers: vec![UserId::from_uuid(Uuid::from_u128(2))],
            created_at: Timestamp::UNIX_EPOCH,
        };
        assert!(note.may_read(UserId::from_uuid(Uuid::from_u128(1))));
        assert!(note.may_read(UserId::from_uuid(Uuid::from_u128(2))));
        assert!(!note.may_read(UserId::from_uuid(Uuid::from_u128(3))));
    }

    #[test]
    fn readers_must_be_therapists() {
        let staff =
            [user(1, "theo", Role::Therapist), user(2, "tara", Role::Therapist), user(3, "pat", Role::Prescriber)];
        let author = staff[0].id;
        let (_, readers) =
            parse_process_note("x", &["tara".into(), "theo".into(), staff[1].id.to_string()], author, &staff).unwrap();
        assert_eq!(readers, vec![staff[1].id]);
        let e = parse_process_note("", &["pat".into()], author, &staff).unwrap_err();
        assert!(e.for_field("readers").is_some() && e.for_field("body").is_some());
    }
}
