//! The patient registry: demographics that parse, and the registry search query.
//!
//! Every type that holds protected health information has a redacted `Debug`, so that
//! a stray `{:?}` in a log line cannot leak it.

use crate::field::FieldErrors;
use crate::ids::PatientId;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! redacted_debug {
    ($name:ident) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}([redacted])", stringify!($name))
            }
        }
    };
}

/// Rejects control characters, which have no place in a name or a phone number and
/// would corrupt exports.
fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars().any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t')))
}

fn bounded_text(raw: &str, max: usize, multiline: bool) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("is required".into());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if has_control(text, multiline) {
        return Err("contains control characters".into());
    }
    Ok(text.to_string())
}

/// A given or family name: 1 to 100 characters, trimmed.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PersonName(String);
redacted_debug!(PersonName);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, 100, false).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The name as the registry search compares it ([`name_search_key`]).
    pub fn search_key(&self) -> String {
        name_search_key(&self.0)
    }
}

/// A name folded for the registry search: Unicode lower case, every script and not only
/// ASCII ("ÉLODIE" → "élodie"). The store keeps it beside each name, written on insert and
/// update, and each search word is folded the same way, so both databases hold and
/// compare the same bytes and no SQL folds case (SQLite's `lower` knows only ASCII,
/// PostgreSQL's depends on the database's locale). Letters are not stripped of their
/// accents: "angstrom" does not find "Ångström".
pub fn name_search_key(name: &str) -> String {
    name.to_lowercase()
}

/// The least string above every string that starts with `prefix`, in code-point order
/// (which is UTF-8 byte order, SQLite's `BINARY` and PostgreSQL's `"C"` collation): the
/// prefix with its last character incremented. So `key >= prefix AND key < bound` is a
/// prefix match a B-tree index answers as one range. `None` when there is no such string
/// (an empty prefix, or one of only `char::MAX`): then `key >= prefix` alone is the match.
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // The next scalar value: surrogates (U+D800..U+DFFF) are not chars.
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A date of birth: a real calendar date, not in the future and not before 1900.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BirthDate(Date);
redacted_debug!(BirthDate);

impl BirthDate {
    /// Parses `YYYY-MM-DD`. `today` is the clinic's current date, passed in.
    pub fn parse(raw: &str, today: Date) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        let date = parse_iso_date(raw)
            .ok_or_else(|| format!("`{raw}` is not a date; use YYYY-MM-DD, for example 1984-03-07"))?;
        if date > today {
            return Err("is in the future".into());
        }
        if date < Date::constant(1900, 1, 1) {
            return Err("is before 1900".into());
        }
        Ok(Self(date))
    }

    /// Rebuilds a stored value without the "not in the future" check, which holds at
    /// the time of entry and is not re-judged on every read.
    pub fn from_stored(date: Date) -> Self {
        Self(date)
    }

    pub fn date(&self) -> Date {
        self.0
    }

    /// Age in whole years on `on`.
    pub fn age_on(&self, on: Date) -> i16 {
        let mut years = on.year() - self.0.year();
        if (on.month(), on.day()) < (self.0.month(), self.0.day()) {
            years -= 1;
        }
        years
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parses a strict `YYYY-MM-DD` date.
pub fn parse_iso_date(raw: &str) -> Option<Date> {
    let b = raw.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i16 = raw[0..4].parse().ok()?;
    let month: i8 = raw[5..7].parse().ok()?;
    let day: i8 = raw[8..10].parse().ok()?;
    Date::new(year, month, day).ok()
}

/// Sex assigned at birth, as recorded for clinical purposes (HL7 FHIR US Core birth sex
/// uses F, M and UNK; kat adds intersex).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SexAtBirth {
    Female,
    Male,
    Intersex,
    Unknown,
}

impl SexAtBirth {
    pub const ALL: [SexAtBirth; 4] = [SexAtBirth::Female, SexAtBirth::Male, SexAtBirth::Intersex, SexAtBirth::Unknown];

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" => Err("is required".into()),
            "female" | "f" => Ok(Self::Female),
            "male" | "m" => Ok(Self::Male),
            "intersex" => Ok(Self::Intersex),
            "unknown" | "unk" => Ok(Self::Unknown),
            other => Err(format!("`{other}` is not one of female, male, intersex, unknown")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SexAtBirth::Female => "female",
            SexAtBirth::Male => "male",
            SexAtBirth::Intersex => "intersex",
            SexAtBirth::Unknown => "unknown",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SexAtBirth::Female => "Female",
            SexAtBirth::Male => "Male",
            SexAtBirth::Intersex => "Intersex",
            SexAtBirth::Unknown => "Unknown",
        }
    }
}

/// A telephone number: digits with the usual separators, 7 to 15 digits (E.164 allows
/// at most 15).
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Phone(String);
redacted_debug!(Phone);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if !text.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.')) {
            return Err("may contain only digits, spaces and + - ( ) .".into());
        }
        let digits = text.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) {
            return Err("must have 7 to 15 digits".into());
        }
        Ok(Self(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address: one `@`, a dotted domain, no spaces, at most 254 characters.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);
redacted_debug!(Email);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        let invalid = || "is not an e-mail address like name@example.org".to_string();
        if text.len() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = text.split_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid());
        }
        Ok(Self(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text of bounded length (address lines, gender identity, relationship).
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct BoundedText(String);
redacted_debug!(BoundedText);

impl BoundedText {
    pub fn parse(raw: &str, max: usize, multiline: bool) -> Result<Self, String> {
        bounded_text(raw, max, multiline).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whom to call in an emergency. Every part is optional, but a phone number without a
/// name is refused: staff in a crisis must know whom they are calling.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct EmergencyContact {
    pub name: Option<BoundedText>,
    pub relationship: Option<BoundedText>,
    pub phone: Option<Phone>,
}

/// A medical record number, assigned by kat: `KAT-` and six or more digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Mrn(String);

impl Mrn {
    pub fn from_sequence(n: u64) -> Self {
        Self(format!("KAT-{n:06}"))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let upper = raw.trim().to_ascii_uppercase();
        let digits = upper.strip_prefix("KAT-")?;
        if digits.len() >= 6 && digits.chars().all(|c| c.is_ascii_digit()) { Some(Self(upper)) } else { None }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Mrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The demographics of one patient, all parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Demographics {
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub birth_date: BirthDate,
    pub sex_at_birth: SexAtBirth,
    pub gender_identity: Option<BoundedText>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: Option<BoundedText>,
    pub emergency_contact: EmergencyContact,
}

impl Demographics {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name.as_str(), self.family_name.as_str())
    }

    /// "Family, Given": how registries sort and show names.
    pub fn sort_name(&self) -> String {
        format!("{}, {}", self.family_name.as_str(), self.given_name.as_str())
    }
}

/// A registered patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Patient {
    pub id: PatientId,
    pub mrn: Mrn,
    pub demographics: Demographics,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented on every edit; an edit names the version it started from, so two
    /// people editing at once cannot silently overwrite each other.
    pub version: i64,
}

/// Demographics as text, the way forms and JSON bring them in. Every field is a string
/// (empty means absent) so that one parser serves pages, the API and the CLI.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DemographicsForm {
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub sex_at_birth: String,
    pub gender_identity: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub emergency_contact_name: String,
    pub emergency_contact_relationship: String,
    pub emergency_contact_phone: String,
}

impl fmt::Debug for DemographicsForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DemographicsForm([redacted])")
    }
}

impl DemographicsForm {
    /// The field names, in form order; the API and the pages use these spellings.
    pub const FIELDS: [&'static str; 11] = [
        "given_name",
        "family_name",
        "birth_date",
        "sex_at_birth",
        "gender_identity",
        "phone",
        "email",
        "address",
        "emergency_contact_name",
        "emergency_contact_relationship",
        "emergency_contact_phone",
    ];

    /// Mutable access by field name, for applying a JSON merge patch.
    pub fn field_mut(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "given_name" => &mut self.given_name,
            "family_name" => &mut self.family_name,
            "birth_date" => &mut self.birth_date,
            "sex_at_birth" => &mut self.sex_at_birth,
            "gender_identity" => &mut self.gender_identity,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "address" => &mut self.address,
            "emergency_contact_name" => &mut self.emergency_contact_name,
            "emergency_contact_relationship" => &mut self.emergency_contact_relationship,
            "emergency_contact_phone" => &mut self.emergency_contact_phone,
            _ => return None,
        })
    }

    /// Parses every field, reporting each bad one. `today` is the clinic's date.
    pub fn parse(&self, today: Date) -> Result<Demographics, FieldErrors> {
        let mut errors = FieldErrors::new();
        let given_name = errors.take("given_name", PersonName::parse(&self.given_name));
        let family_name = errors.take("family_name", PersonName::parse(&self.family_name));
        let birth_date = errors.take("birth_date", BirthDate::parse(&self.birth_date, today));
        let sex_at_birth = errors.take("sex_at_birth", SexAtBirth::parse(&self.sex_at_birth));
        let gender_identity =
            optional(&mut errors, "gender_identity", &self.gender_identity, |s| BoundedText::parse(s, 100, false));
        let phone = optional(&mut errors, "phone", &self.phone, Phone::parse);
        let email = optional(&mut errors, "email", &self.email, Email::parse);
        let address = optional(&mut errors, "address", &self.address, |s| BoundedText::parse(s, 500, true));
        let contact_name = optional(&mut errors, "emergency_contact_name", &self.emergency_contact_name, |s| {
            BoundedText::parse(s, 100, false)
        });
        let contact_relationship =
            optional(&mut errors, "emergency_contact_relationship", &self.emergency_contact_relationship, |s| {
                BoundedText::parse(s, 60, false)
            });
        let contact_phone =
            optional(&mut errors, "emergency_contact_phone", &self.emergency_contact_phone, Phone::parse);
        if contact_name.is_none()
            && !self.emergency_contact_phone.trim().is_empty()
            && errors.for_field("emergency_contact_name").is_none()
        {
            errors.add("emergency_contact_name", "is required when an emergency contact phone is given");
        }
        match (given_name, family_name, birth_date, sex_at_birth) {
            (Some(given_name), Some(family_name), Some(birth_date), Some(sex_at_birth)) if errors.is_empty() => {
                Ok(Demographics {
                    given_name,
                    family_name,
                    birth_date,
                    sex_at_birth,
                    gender_identity,
                    phone,
                    email,
                    address,
                    emergency_contact: EmergencyContact {
                        name: contact_name,
                        relationship: contact_relationship,
                        phone: contact_phone,
                    },
                })
            }
            _ => Err(errors),
        }
    }
}

fn optional<T>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Option<T> {
    if raw.trim().is_empty() { None } else { errors.take(field, parse(raw)) }
}

impl From<&Demographics> for DemographicsForm {
    fn from(d: &Demographics) -> Self {
        let text = |t: &Option<BoundedText>| t.as_ref().map(|t| t.as_str().to_string()).unwrap_or_default();
        Self {
            given_name: d.given_name.as_str().into(),
            family_name: d.family_name.as_str().into(),
            birth_date: d.birth_date.to_string(),
            sex_at_birth: d.sex_at_birth.as_str().into(),
            gender_identity: text(&d.gender_identity),
            phone: d.phone.as_ref().map(|p| p.as_str().to_string()).unwrap_or_default(),
            email: d.email.as_ref().map(|e| e.as_str().to_string()).unwrap_or_default(),
            address: text(&d.address),
            emergency_contact_name: text(&d.emergency_contact.name),
            emergency_contact_relationship: text(&d.emergency_contact.relationship),
            emergency_contact_phone: d
                .emergency_contact
                .phone
                .as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
        }
    }
}

/// One term of a registry search.
#[derive(Clone, PartialEq, Eq)]
pub enum SearchTerm {
    /// The start of a given or family name, folded by [`name_search_key`].
    Name(String),
    BirthDate(Date),
    Mrn(Mrn),
}

impl fmt::Debug for SearchTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SearchTerm([redacted])")
    }
}

/// A registry search: every term must match (a name word matches the start of the given
/// or the family name, case-insensitively; dates match the date of birth, MRNs match
/// exactly).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientQuery {
    pub terms: Vec<SearchTerm>,
}

/// At most this many words are used from a search box; more narrow nothing useful.
pub const MAX_SEARCH_TERMS: usize = 5;

impl PatientQuery {
    pub fn parse(raw: &str) -> Self {
        let terms = raw
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .take(MAX_SEARCH_TERMS)
            .map(|token| {
                if let Some(date) = parse_iso_date(token) {
                    SearchTerm::BirthDate(date)
                } else if let Some(mrn) = Mrn::parse(token) {
                    SearchTerm::Mrn(mrn)
                } else {
                    SearchTerm::Name(name_search_key(token))
                }
            })
            .collect();
        Self { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::constant(2026, 11, 22)
    }

    fn form() -> DemographicsForm {
        DemographicsForm {
            given_name: "Ada".into(),
            family_name: "Quinn".into(),
            birth_date: "1984-03-07".into(),
            sex_at_birth: "female".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_minimal_form_parses() {
        let d = form().parse(today()).unwrap();
        assert_eq!(d.full_name(), "Ada Quinn");
        assert_eq!(d.birth_date.age_on(today()), 42);
        assert_eq!(DemographicsForm::from(&d), form());
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = DemographicsForm {
            given_name: " ".into(),
            birth_date: "07/03/1984".into(),
            sex_at_birth: "x".into(),
            email: "nope".into(),
            phone: "12".into(),
            ..Default::default()
        };
        let errors = bad.parse(today()).unwrap_err();
        for field in ["given_name", "family_name", "birth_date", "sex_at_birth", "email", "phone"] {
            assert!(errors.for_field(field).is_some(), "{field} not reported: {errors}");
        }
    }

    #[test]
    fn birth_date_boundaries() {
        assert!(BirthDate::parse("2026-11-22", today()).is_ok());
        assert_eq!(BirthDate::parse("2026-11-23", today()).unwrap_err(), "is in the future");
        assert!(BirthDate::parse("1900-01-01", today()).is_ok());
        assert_eq!(BirthDate::parse("1899-12-31", today()).unwrap_err(), "is before 1900");
        assert!(BirthDate::parse("2023-02-29", today()).is_err());
        assert!(BirthDate::parse("2024-02-29", today()).is_ok());
    }

    #[test]
    fn age_turns_on_the_birthday() {
        let b = BirthDate::parse("2000-06-15", today()).unwrap();
        assert_eq!(b.age_on(Date::constant(2018, 6, 14)), 17);
        assert_eq!(b.age_on(Date::constant(2018, 6, 15)), 18);
    }

    #[test]
    fn phone_digit_bounds() {
        assert!(Phone::parse("555-0101").is_ok());
        assert!(Phone::parse("123456").is_err());
        assert!(Phone::parse("1234567").is_ok());
        assert!(Phone::parse("123456789012345").is_ok());
        assert!(Phone::parse("1234567890123456").is_err());
        assert!(Phone::parse("555-CALL").is_err());
    }

    #[test]
    fn emergency_phone_needs_a_name() {
        let f = DemographicsForm { emergency_contact_phone: "+1 555 010 2000".into(), ..form() };
        let errors = f.parse(today()).unwrap_err();
        assert!(errors.for_field("emergency_contact_name").is_some());
    }

    #[test]
    fn debug_of_demographics_hides_phi() {
        let d = DemographicsForm { email: "ada@example.org".into(), phone: "+1 555 010 2000".into(), ..form() }
            .parse(today())
            .unwrap();
        let shown = format!("{d:?} {:?}", form());
        for secret in ["Ada", "Quinn", "1984", "ada@example", "555"] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
    }

    #[test]
    fn search_terms_are_classified() {
        let q = PatientQuery::parse("Quinn, 1984-03-07 kat-000012");
        assert_eq!(
            q.terms,
            vec![
                SearchTerm::Name("quinn".into()),
                SearchTerm::BirthDate(Date::constant(1984, 3, 7)),
                SearchTerm::Mrn(Mrn::parse("KAT-000012").unwrap()),
            ]
        );
        assert!(PatientQuery::parse("  ").is_empty());
        assert_eq!(PatientQuery::parse("a b c d e f g").terms.len(), MAX_SEARCH_TERMS);
    }

    #[test]
    fn name_search_keys_fold_every_script_to_lower_case() {
        for (name, key) in [("Ångström", "ångström"), ("Öztürk", "öztürk"), ("ÉLODIE", "élodie"), ("Quinn", "quinn")]
        {
            assert_eq!(PersonName::parse(name).unwrap().search_key(), key);
        }
        // A search word is folded the same way as the stored name.
        assert_eq!(PatientQuery::parse("ÅNG").terms, vec![SearchTerm::Name("ång".into())]);
    }

    #[test]
    fn prefix_upper_bounds_increment_the_last_char() {
        assert_eq!(prefix_upper_bound("qui").as_deref(), Some("quj"));
        assert_eq!(prefix_upper_bound("åz").as_deref(), Some("å{"));
        assert_eq!(prefix_upper_bound("ö").as_deref(), Some("÷"));
        // Surrogates are skipped; char::MAX carries into the previous char.
        assert_eq!(prefix_upper_bound("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        assert_eq!(prefix_upper_bound(""), None);
    }

    #[test]
    fn a_prefix_range_holds_exactly_the_keys_with_that_prefix() {
        // Byte order of UTF-8 is code-point order, which the databases use.
        let prefix = "öz";
        let upper = prefix_upper_bound(prefix).unwrap();
        for (key, starts) in [
            ("öz", true),
            ("öztürk", true),
            ("öz\u{10FFFF}", true),
            ("ö{", false),
            ("öy", false),
            ("ö", false),
            ("oz", false),
            ("p", false),
        ] {
            let inside = key.as_bytes() >= prefix.as_bytes() && key.as_bytes() < upper.as_bytes();
            assert_eq!(inside, starts, "{key}");
            assert_eq!(key.starts_with(prefix), starts, "{key}");
        }
    }

    #[test]
    fn mrns_format_and_parse() {
        assert_eq!(Mrn::from_sequence(42).as_str(), "KAT-000042");
        assert_eq!(Mrn::from_sequence(1_234_567).as_str(), "KAT-1234567");
        assert!(Mrn::parse("KAT-12").is_none());
        assert!(Mrn::parse("ABC-000001").is_none());
    }
}
