//! Dosing quantities as newtypes that cannot hold an impossible value.
//!
//! A dose written as a bare `f64` can be negative, `NaN`, or milligrams where
//! milligrams per kilogram were meant; each of those mistakes has killed patients. Every
//! quantity here is checked once, when it is made (`new` for numbers, `parse` for text
//! from a form or a file), and cannot be built any other way. The bounds reject only
//! values that are physically impossible or clearly not the unit named; they are not
//! clinical limits (those live in [`super::limits::DosingPolicy`]).
//!
//! Each type names its UCUM code (the unit code FHIR `Quantity.code` uses), so that an
//! export cannot pair a number with the wrong unit.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The UCUM code of a unit, as written in FHIR `valueQuantity.code`.
pub trait Ucum {
    /// The UCUM code, for example `mg/kg` or `mm[Hg]`.
    const UCUM: &'static str;
}

/// Why a quantity was rejected. The message is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(pub String);

/// Comparisons against limits tolerate this much rounding noise, so that a dose of
/// exactly 1.0 mg/kg that floating-point division turns into 1.0000000000000002 is still
/// judged as 1.0. It is six orders of magnitude below any dose difference a syringe or
/// pump can deliver, so it never hides a real excess (0.7501 against 0.75 is flagged).
pub const COMPARISON_TOLERANCE: f64 = 1e-9;

/// `value` is above `limit` by more than rounding noise.
pub fn exceeds(value: f64, limit: f64) -> bool {
    value > limit + COMPARISON_TOLERANCE * limit.abs().max(1.0)
}

/// `value` is at or above `limit`, allowing for rounding noise.
pub fn at_least(value: f64, limit: f64) -> bool {
    value >= limit - COMPARISON_TOLERANCE * limit.abs().max(1.0)
}

/// Renders 72.0 as "72" and 72.25 as "72.25" (at most two decimals), for text a person
/// reads (findings, forms).
pub(crate) fn trim_decimal(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

fn parse_number(raw: &str, unit: &str) -> Result<f64, UnitError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(UnitError("is required".into()));
    }
    let number: f64 = text.parse().map_err(|_| UnitError(format!("`{text}` is not a number of {unit}")))?;
    Ok(number)
}

macro_rules! float_unit {
    (
        $(#[$doc:meta])*
        $name:ident, ucum = $ucum:literal, label = $label:literal,
        min = $min:expr, min_inclusive = $min_inc:expr, max = $max:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "f64")]
        pub struct $name(f64);

        impl $name {
            /// Builds the quantity, rejecting values that are not finite or out of the
            /// physically possible range.
            pub fn new(value: f64) -> Result<Self, UnitError> {
                if !value.is_finite() {
                    return Err(UnitError(format!("must be a finite number of {}", $label)));
                }
                let min: f64 = $min;
                let too_small = if $min_inc { value < min } else { value <= min };
                if too_small {
                    let relation = if $min_inc { "at least" } else { "more than" };
                    return Err(UnitError(format!("must be {relation} {min} {}", $label)));
                }
                let max: f64 = $max;
                if value > max {
                    return Err(UnitError(format!(
                        "{value} {} is not possible (at most {max})",
                        $label
                    )));
                }
                Ok(Self(value))
            }

            /// Parses a plain decimal number (no unit suffix) from a form field.
            pub fn parse(raw: &str) -> Result<Self, UnitError> {
                Self::new(parse_number(raw, $label)?)
            }

            /// The number in this unit.
            pub fn value(self) -> f64 {
                self.0
            }
        }

        impl Ucum for $name {
            const UCUM: &'static str = $ucum;
        }

        impl TryFrom<f64> for $name {
            type Error = UnitError;
            fn try_from(value: f64) -> Result<Self, UnitError> {
                Self::new(value)
            }
        }

        impl From<$name> for f64 {
            fn from(value: $name) -> f64 {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", self.0, $ucum)
            }
        }
    };
}

float_unit!(
    /// An amount of drug in milligrams. Zero is allowed (a waste record can be zero);
    /// a dose check rejects a zero dose separately.
    Mg, ucum = "mg", label = "mg", min = 0.0, min_inclusive = true, max = 1_000_000.0
);
float_unit!(
    /// A weight-normalised dose in milligrams per kilogram of dosing weight.
    MgPerKg, ucum = "mg/kg", label = "mg/kg", min = 0.0, min_inclusive = true, max = 1_000.0
);
float_unit!(
    /// A volume in millilitres.
    Ml, ucum = "mL", label = "mL", min = 0.0, min_inclusive = true, max = 100_000.0
);
float_unit!(
    /// A concentration in milligrams per millilitre. It must be positive: a volume is
    /// computed by dividing by it.
    MgPerMl, ucum = "mg/mL", label = "mg/mL", min = 0.0, min_inclusive = false, max = 1_000.0
);
float_unit!(
    /// An infusion pump rate in millilitres per hour.
    MlPerHour, ucum = "mL/h", label = "mL/h", min = 0.0, min_inclusive = false, max = 100_000.0
);
float_unit!(
    /// A body weight in kilograms: positive and below the heaviest weight ever recorded
    /// for a person (about 635 kg), so that grams or pounds typed into a kg field are
    /// caught when they are absurd.
    Kg, ucum = "kg", label = "kg", min = 0.0, min_inclusive = false, max = 700.0
);

impl Mg {
    /// A whole number of milligrams, for constants such as device strengths.
    pub const fn from_whole(mg: u32) -> Self {
        Self(mg as f64)
    }
}

impl MgPerKg {
    /// A weight-normalised dose known at compile time (protocol data). The value must be
    /// finite and non-negative; the protocol tests check every constant.
    pub const fn constant(value: f64) -> Self {
        Self(value)
    }
}

impl MgPerMl {
    /// A concentration known at compile time (product strengths). Must be positive.
    pub const fn constant(value: f64) -> Self {
        Self(value)
    }
}

/// A duration in whole minutes, as clinical schedules and observation times are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Minutes(u32);

impl Minutes {
    /// Any whole number of minutes is a valid duration; `u32` already excludes negatives.
    pub const fn new(minutes: u32) -> Self {
        Self(minutes)
    }

    /// Parses a whole number of minutes.
    pub fn parse(raw: &str) -> Result<Self, UnitError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(UnitError("is required".into()));
        }
        text.parse::<u32>().map(Self).map_err(|_| UnitError(format!("`{text}` is not a whole number of minutes")))
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    /// The same length as a `jiff` duration, for timestamp arithmetic.
    pub fn as_duration(self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_mins(i64::from(self.0))
    }

    /// Hours as a fraction, for rate calculations.
    pub fn as_hours(self) -> f64 {
        f64::from(self.0) / 60.0
    }
}

impl Ucum for Minutes {
    const UCUM: &'static str = "min";
}

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} min", self.0)
    }
}

/// Adds minutes to a timestamp without panicking at the end of representable time.
pub fn add_minutes(at: jiff::Timestamp, minutes: Minutes) -> jiff::Timestamp {
    at.checked_add(minutes.as_duration()).unwrap_or(jiff::Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_impossible_numbers() {
        assert!(Mg::new(-0.1).is_err());
        assert!(Mg::new(f64::NAN).is_err());
        assert!(Mg::new(f64::INFINITY).is_err());
        assert!(Mg::new(0.0).is_ok());
        assert!(Kg::new(0.0).is_err());
        assert!(Kg::new(700.0).is_ok());
        assert!(Kg::new(700.1).is_err());
        assert!(MgPerMl::new(0.0).is_err());
        assert!(MlPerHour::new(0.0).is_err());
        assert!(MgPerKg::new(-1.0).is_err());
        assert!(Ml::new(-0.001).is_err());
    }

    #[test]
    fn parse_trims_and_rejects_text() {
        assert_eq!(Kg::parse(" 70.5 ").unwrap().value(), 70.5);
        assert!(Kg::parse("").is_err());
        assert!(Kg::parse("seventy").is_err());
        assert!(Kg::parse("NaN").is_err());
        assert!(Kg::parse("inf").is_err());
        assert!(Mg::parse("50mg").is_err());
        assert_eq!(Minutes::parse("40").unwrap(), Minutes::new(40));
        assert!(Minutes::parse("-5").is_err());
        assert!(Minutes::parse("2.5").is_err());
    }

    #[test]
    fn ucum_codes() {
        assert_eq!(Mg::UCUM, "mg");
        assert_eq!(MgPerKg::UCUM, "mg/kg");
        assert_eq!(Ml::UCUM, "mL");
        assert_eq!(MgPerMl::UCUM, "mg/mL");
        assert_eq!(MlPerHour::UCUM, "mL/h");
        assert_eq!(Kg::UCUM, "kg");
        assert_eq!(Minutes::UCUM, "min");
    }

    #[test]
    fn serde_validates_on_the_way_in() {
        // Deserialising goes through `new`, so a stored negative dose cannot come back.
        let err: Result<Mg, _> = serde_json_like("-3");
        assert!(err.is_err());
        let ok: Result<Kg, _> = serde_json_like("70");
        assert_eq!(ok.unwrap().value(), 70.0);
    }

    /// A tiny deserialiser for a bare number, so the test needs no JSON dependency.
    fn serde_json_like<T: for<'de> Deserialize<'de>>(raw: &str) -> Result<T, String> {
        use serde::de::IntoDeserializer;
        let n: f64 = raw.parse().map_err(|_| "nan".to_string())?;
        let de: serde::de::value::F64Deserializer<serde::de::value::Error> = n.into_deserializer();
        T::deserialize(de).map_err(|e| e.to_string())
    }

    #[test]
    fn tolerance_separates_real_excess_from_noise() {
        assert!(!exceeds(0.75, 0.75));
        assert!(exceeds(0.7501, 0.75));
        assert!(!exceeds(1.0000000000000002, 1.0));
        assert!(exceeds(1.0001, 1.0));
        assert!(at_least(0.9999999999999999, 1.0));
        assert!(!at_least(0.9999, 1.0));
    }
}
