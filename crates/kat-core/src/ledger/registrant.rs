//! The registrant and its counterparties: DEA registration numbers, the clinic's
//! registration (DEA-001), suppliers and reverse distributors (DEA-003, DEA-008), and the
//! storage locations controlled substances are kept in (DEA-012).

use crate::dosing::session::{ShortText, checked_text};
use crate::ids::StorageLocationId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A DEA registration number: two letters and seven digits, the last a check digit.
///
/// The check digit rule is **not in the clinical reference** (§8 names the number in
/// DEA-001, DEA-003, DEA-008 and DEA-011 but not its format); it is the DEA's published
/// rule: with digits d1…d7, d7 is the last digit of (d1 + d3 + d5) + 2 × (d2 + d4 + d6).
/// It catches a mistyped digit, not a forged or lapsed registration: nothing here looks a
/// number up. The first letter is the registrant type and the second usually the initial
/// of the registrant's name; neither is restricted here.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeaNumber(String);

/// What is wrong with a DEA number, for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeaNumberError {
    #[error("is required")]
    Empty,
    #[error("has {found} characters; a DEA number is 9: two letters and seven digits (AB1234563)")]
    Length { found: usize },
    #[error("character {position} must be a letter (a DEA number starts with two letters)")]
    Letter { position: usize },
    #[error("character {position} must be a digit (a DEA number ends with seven digits)")]
    Digit { position: usize },
    #[error("the check digit is {found} but the other digits give {expected}: a digit is mistyped")]
    CheckDigit { expected: u8, found: u8 },
}

impl DeaNumber {
    /// Parses a DEA number: surrounding spaces are ignored and letters upper-cased.
    pub fn parse(raw: &str) -> Result<Self, DeaNumberError> {
        let text = raw.trim().to_ascii_uppercase();
        if text.is_empty() {
            return Err(DeaNumberError::Empty);
        }
        let chars: Vec<char> = text.chars().collect();
        if chars.len() != 9 {
            return Err(DeaNumberError::Length { found: chars.len() });
        }
        for (i, c) in chars[..2].iter().enumerate() {
            if !c.is_ascii_uppercase() {
                return Err(DeaNumberError::Letter { position: i + 1 });
            }
        }
        let mut d = [0u8; 7];
        for (i, c) in chars[2..].iter().enumerate() {
            d[i] = c.to_digit(10).ok_or(DeaNumberError::Digit { position: i + 3 })? as u8;
        }
        let sum = u32::from(d[0] + d[2] + d[4]) + 2 * u32::from(d[1] + d[3] + d[5]);
        let expected = (sum % 10) as u8;
        if d[6] != expected {
            return Err(DeaNumberError::CheckDigit { expected, found: d[6] });
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeaNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DeaNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeaNumber({})", self.0)
    }
}

impl TryFrom<String> for DeaNumber {
    type Error = DeaNumberError;
    fn try_from(raw: String) -> Result<Self, DeaNumberError> {
        Self::parse(&raw)
    }
}

impl From<DeaNumber> for String {
    fn from(d: DeaNumber) -> String {
        d.0
    }
}

/// A postal address as written on a registration or an invoice: 1 to 500 characters,
/// lines allowed. (A registrant's or supplier's address, not a patient's.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Address(String);

impl Address {
    pub fn parse(raw: &str) -> Result<Self, String> {
        checked_text(raw, 500, true).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Address {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Address> for String {
    fn from(a: Address) -> String {
        a.0
    }
}

/// The clinic's registration at the site where the ledger's stock is kept (DEA-001):
/// the records name it (DEA-006's recommended header, DEA-011's Form 106 data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub dea: DeaNumber,
    pub name: ShortText,
    pub address: Address,
    /// The state controlled-substance licence, where the state requires one (DEA-001).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_license: Option<ShortText>,
}

/// Another registrant the clinic deals with: a supplier (DEA-003), a reverse distributor
/// (DEA-008) or a registrant stock is transferred to. Name, address and DEA number, as
/// the receipt and disposal records require.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterparty {
    pub name: ShortText,
    pub address: Address,
    pub dea: DeaNumber,
}

/// What a storage location is (DEA-012 \[U\]: a securely locked, substantially
/// constructed cabinet; access limited to authorised staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Safe,
    /// A locked cabinet.
    Cabinet,
    /// An automated dispensing cabinet.
    AutomatedCabinet,
    Other,
}

impl LocationKind {
    pub const ALL: [LocationKind; 4] =
        [LocationKind::Safe, LocationKind::Cabinet, LocationKind::AutomatedCabinet, LocationKind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::Safe => "safe",
            LocationKind::Cabinet => "cabinet",
            LocationKind::AutomatedCabinet => "automated_cabinet",
            LocationKind::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// A place stock is kept (DEA-012).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageLocation {
    pub id: StorageLocationId,
    pub name: ShortText,
    pub kind: LocationKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_digit_rule() {
        // 1+3+5 = 9; 2 × (2+4+6) = 24; 33 → 3.
        assert_eq!(DeaNumber::parse("AB1234563").unwrap().as_str(), "AB1234563");
        assert_eq!(DeaNumber::parse(" ab1234563 ").unwrap().as_str(), "AB1234563", "trimmed, upper-cased");
        assert_eq!(DeaNumber::parse("AB1234564"), Err(DeaNumberError::CheckDigit { expected: 3, found: 4 }));
        // A sum that ends in 0: 0+0+0 + 2 × (0+0+5) = 10 → 0.
        assert!(DeaNumber::parse("FM0000050").is_ok());
        // Two digits swapped are caught when they carry different weights.
        assert!(DeaNumber::parse("AB2134563").is_err());
    }

    #[test]
    fn each_wrong_part_is_named() {
        assert_eq!(DeaNumber::parse(""), Err(DeaNumberError::Empty));
        assert_eq!(DeaNumber::parse("AB123456"), Err(DeaNumberError::Length { found: 8 }));
        assert_eq!(DeaNumber::parse("AB12345630"), Err(DeaNumberError::Length { found: 10 }));
        assert_eq!(DeaNumber::parse("1B1234563"), Err(DeaNumberError::Letter { position: 1 }));
        assert_eq!(DeaNumber::parse("A91234563"), Err(DeaNumberError::Letter { position: 2 }));
        assert_eq!(DeaNumber::parse("AB12345X3"), Err(DeaNumberError::Digit { position: 8 }));
        assert_eq!(DeaNumber::parse("AB123456Ä"), Err(DeaNumberError::Digit { position: 9 }));
        let message = DeaNumber::parse("AB1234564").unwrap_err().to_string();
        assert!(message.contains("check digit"), "{message}");
    }

    #[test]
    fn serde_parses() {
        let d: DeaNumber = serde_json::from_str(r#""AB1234563""#).unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""AB1234563""#);
        assert!(serde_json::from_str::<DeaNumber>(r#""AB1234560""#).is_err());
    }

    #[test]
    fn addresses_allow_lines() {
        assert!(Address::parse("1 Main St\nSpringfield, IL 62701").is_ok());
        assert!(Address::parse("  ").is_err());
        assert!(Address::parse(&"x".repeat(501)).is_err());
    }
}
