//! Staff accounts and API clients.

use crate::ids::UserId;
use crate::role::Role;
use serde::Serialize;
use std::fmt;

/// A login name: 2 to 64 characters of lower-case letters, digits, `.`, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("must be 2 to 64 characters")]
    Length,
    #[error("may contain only lower-case letters, digits, '.', '_' and '-'")]
    Characters,
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let name = raw.trim().to_ascii_lowercase();
        if !(2..=64).contains(&name.chars().count()) {
            return Err(UsernameError::Length);
        }
        if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
            return Err(UsernameError::Characters);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the account policy. Its `Debug` is redacted.
#[derive(Clone)]
pub struct Password(String);

/// The least length of a staff password. NIST SP 800-63B asks for at least 8; staff
/// accounts here reach protected health information, so kat asks for 12.
pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_CHARS: usize = 1024;

/// The least zxcvbn score (0 to 4) a password must reach: 3 is "safely unguessable"
/// against an attacker who can only try guesses online or against a slow hash (about
/// 10^8 guesses), which argon2id is.
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// Words of the service itself that a password must not be built from (NIST SP 800-63B
/// §5.1.1.2 "context-specific words, such as the name of the service"), besides the
/// account's own username and name.
pub const CONTEXT_WORDS: [&str; 6] = ["kat", "ketamine", "clinic", "therapy", "admin", "staff"];

/// Whose password is being set: a password built from these is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("must be at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    /// Common, breached, a keyboard or repeated pattern, or built from the username, the
    /// person's name or the clinic's words; `.0` says which when it can.
    #[error("is too easy to guess{0}; use a longer phrase of several unrelated words")]
    Guessable(String),
}

impl Password {
    /// A password for the account `context` names, per NIST SP 800-63B §5.1.1.2: at
    /// least [`MIN_PASSWORD_CHARS`] characters, not common nor breached nor built from
    /// the account's or the clinic's words (zxcvbn, with its embedded lists of common
    /// and leaked passwords, words and names), and no composition rules (any
    /// characters, spaces included). zxcvbn itself reads the current year (recent years
    /// are cheap guesses), the one clock reading in the core; it changes no verdict
    /// within a year and none of the tests'.
    pub fn parse(raw: &str, context: &PasswordContext<'_>) -> Result<Self, PasswordError> {
        let n = raw.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        let joined: String = context.display_name.split_whitespace().collect();
        let mut inputs: Vec<&str> = CONTEXT_WORDS.to_vec();
        inputs.push(&joined);
        inputs.extend([context.username, context.display_name].into_iter().filter(|s| !s.trim().is_empty()));
        // The parts of a name and of a dotted username count on their own too, and the
        // name's parts run together.
        inputs.extend(context.display_name.split_whitespace().filter(|w| w.chars().count() >= 3));
        inputs.extend(context.username.split(['.', '_', '-']).filter(|w| w.chars().count() >= 3));
        if own_characters(raw, &inputs) < MIN_OWN_CHARS {
            return Err(PasswordError::Guessable(
                " (it is mostly the username, the name or the clinic's words)".into(),
            ));
        }
        let estimate = zxcvbn::zxcvbn(raw, &inputs);
        if u8::from(estimate.score()) < MIN_PASSWORD_SCORE {
            let why = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| format!(" ({})", w.to_string().trim_end_matches('.').to_lowercase()))
                .unwrap_or_default();
            return Err(PasswordError::Guessable(why));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The letters and digits a password must hold besides the account's and the clinic's
/// words: zxcvbn alone lets a name dressed up with capitals and separators through
/// (`Okafor-Nina-1`).
pub const MIN_OWN_CHARS: usize = 6;

/// How many letters and digits of `raw` are left once every context word of three or
/// more characters is taken out (case-insensitive).
fn own_characters(raw: &str, words: &[&str]) -> usize {
    let mut rest: String = raw.to_lowercase();
    let mut words: Vec<String> = words
        .iter()
        .map(|w| w.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect::<String>())
        .filter(|w| w.chars().count() >= 3)
        .collect();
    // Longest first, so a whole name goes before its parts.
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    rest = rest.chars().filter(|c| c.is_alphanumeric()).collect();
    for w in &words {
        rest = rest.replace(w.as_str(), "");
    }
    rest.chars().count()
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// Whether an account is a person who logs in, or an API client that only holds tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Staff,
    ApiClient,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Staff => "staff",
            AccountKind::ApiClient => "api_client",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "staff" => Some(AccountKind::Staff),
            "api_client" => Some(AccountKind::ApiClient),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub kind: AccountKind,
    pub active: bool,
    /// Set by an admin's password reset: until the account chooses its own password it
    /// reaches only the change-password page (issue 12 item 4; migration 0018).
    pub must_change_password: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_bounded() {
        assert_eq!(Username::parse("  Nurse.Kim ").unwrap().as_str(), "nurse.kim");
        assert_eq!(Username::parse("a"), Err(UsernameError::Length));
        assert!(Username::parse("ab").is_ok());
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        assert_eq!(Username::parse(&"a".repeat(65)), Err(UsernameError::Length));
        assert_eq!(Username::parse("kim smith"), Err(UsernameError::Characters));
    }

    #[test]
    fn passwords_have_a_floor_and_hide_in_debug() {
        let none = PasswordContext::default();
        assert_eq!(Password::parse(&"x".repeat(MIN_PASSWORD_CHARS - 1), &none).unwrap_err(), PasswordError::TooShort);
        let p = Password::parse("s3cret-enough-for-a-clinic", &none).unwrap();
        assert!(!format!("{p:?}").contains("s3cret"));
    }

    fn nina() -> PasswordContext<'static> {
        PasswordContext { username: "nina.nurse", display_name: "Nina Okafor" }
    }

    #[test]
    fn a_strong_password_of_exactly_twelve_characters_passes_and_eleven_fail() {
        let twelve = "vq8#Lm2!zRt4";
        assert_eq!(twelve.chars().count(), MIN_PASSWORD_CHARS);
        assert!(Password::parse(twelve, &nina()).is_ok());
        let eleven = &twelve[..11];
        assert_eq!(Password::parse(eleven, &nina()).unwrap_err(), PasswordError::TooShort);
        // Characters, not bytes: twelve letters of any script count as twelve.
        assert!(Password::parse("жёлтый-вяз-9", &nina()).is_ok());
        assert_eq!(Password::parse("жёлтый-вяз9", &nina()).unwrap_err(), PasswordError::TooShort);
    }

    #[test]
    fn common_repeated_and_patterned_passwords_are_refused() {
        for weak in [
            "aaaaaaaaaaaa",
            "password1234",
            "Password1234!",
            "123456789012",
            "qwertyuiopas",
            "iloveyou1234",
            "abcdefghijkl",
            "passwordpassword",
            "letmeinletmein",
        ] {
            assert!(
                matches!(Password::parse(weak, &nina()), Err(PasswordError::Guessable(_))),
                "{weak} should be refused"
            );
        }
        let message = Password::parse("password1234", &nina()).unwrap_err().to_string();
        assert!(message.starts_with("is too easy to guess"), "{message}");
    }

    #[test]
    fn passwords_built_from_the_account_or_the_clinic_are_refused() {
        for weak in ["nina.nurse2026", "ninaokafor123", "Okafor-Nina-1", "ketamine-clinic", "kat-kat-kat-kat"] {
            assert!(
                matches!(Password::parse(weak, &nina()), Err(PasswordError::Guessable(_))),
                "{weak} should be refused"
            );
        }
    }

    #[test]
    fn no_composition_rules_a_long_phrase_of_plain_words_passes() {
        for good in ["correct horse battery staple", "lantern orbit tulip gravel", "vq8#Lm2!zRt4"] {
            assert!(Password::parse(good, &nina()).is_ok(), "{good} should pass");
        }
    }
}
