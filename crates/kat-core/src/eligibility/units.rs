//! Measured quantities as newtypes that cannot hold an impossible value.
//!
//! These are general clinical units (vital signs, body size, doses), not specific to
//! eligibility: the dosing and monitoring modules may reuse them. Each type has
//! `new` (from a number) and `parse` (from text as typed into a form), and both reject
//! values outside the **physiologically possible** range given on the type. The ranges
//! are deliberately wide: they stop typing errors such as a blood pressure of 1200 or a
//! weight of 0, never a real but alarming reading (an SpO2 of 60 % must be recordable).
//! Clinical thresholds never live here; they are policy (see `policy.rs`).
//!
//! A measurement is health information about a patient, but a bare number identifies
//! nobody, so these types keep an ordinary `Debug`; the records that hold them
//! (for example `BaselineVitals`) redact.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a quantity was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("is required")]
    Empty,
    #[error("`{0}` is not a number")]
    NotANumber(String),
    #[error("must be a whole number")]
    NotWhole,
    #[error("must be between {min} and {max} {unit}")]
    OutOfRange {
        min: String,
        max: String,
        unit: &'static str,
    },
    #[error("systolic ({systolic}) must be higher than diastolic ({diastolic})")]
    SystolicNotAboveDiastolic { systolic: u16, diastolic: u16 },
}

fn parse_number(raw: &str) -> Result<f64, UnitError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(UnitError::Empty);
    }
    let value: f64 = text
        .parse()
        .map_err(|_| UnitError::NotANumber(text.to_string()))?;
    if !value.is_finite() {
        return Err(UnitError::NotANumber(text.to_string()));
    }
    Ok(value)
}

fn parse_whole(raw: &str) -> Result<i64, UnitError> {
    let value = parse_number(raw)?;
    if value.fract() != 0.0 {
        return Err(UnitError::NotWhole);
    }
    Ok(value as i64)
}

/// Integer quantity with an inclusive range.
macro_rules! whole_unit {
    ($(#[$doc:meta])* $name:ident, $repr:ty, $min:expr, $max:expr, $unit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "i64", into = "i64")]
        pub struct $name($repr);

        impl $name {
            pub const MIN: $repr = $min;
            pub const MAX: $repr = $max;
            pub const UNIT: &'static str = $unit;

            pub fn new(value: i64) -> Result<Self, UnitError> {
                if value < Self::MIN as i64 || value > Self::MAX as i64 {
                    return Err(UnitError::OutOfRange {
                        min: Self::MIN.to_string(),
                        max: Self::MAX.to_string(),
                        unit: $unit,
                    });
                }
                Ok(Self(value as $repr))
            }

            pub fn parse(raw: &str) -> Result<Self, UnitError> {
                Self::new(parse_whole(raw)?)
            }

            pub fn get(self) -> $repr {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = UnitError;
            fn try_from(value: i64) -> Result<Self, UnitError> {
                Self::new(value)
            }
        }

        impl From<$name> for i64 {
            fn from(value: $name) -> i64 {
                value.0 as i64
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", self.0, $unit)
            }
        }
    };
}

/// Decimal quantity with an inclusive range (finite values only).
macro_rules! decimal_unit {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $unit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "f64")]
        pub struct $name(f64);

        impl $name {
            pub const MIN: f64 = $min;
            pub const MAX: f64 = $max;
            pub const UNIT: &'static str = $unit;

            pub fn new(value: f64) -> Result<Self, UnitError> {
                if !value.is_finite() {
                    return Err(UnitError::NotANumber(value.to_string()));
                }
                if !(Self::MIN..=Self::MAX).contains(&value) {
                    return Err(UnitError::OutOfRange {
                        min: Self::MIN.to_string(),
                        max: Self::MAX.to_string(),
                        unit: $unit,
                    });
                }
                Ok(Self(value))
            }

            pub fn parse(raw: &str) -> Result<Self, UnitError> {
                Self::new(parse_number(raw)?)
            }

            pub fn get(self) -> f64 {
                self.0
            }
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
                write!(f, "{} {}", trim_decimal(self.0), $unit)
            }
        }
    };
}

/// Renders 72.0 as "72" and 72.25 as "72.25" (at most two decimals).
pub(crate) fn trim_decimal(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

whole_unit!(
    /// Systolic blood pressure, mmHg (30–300).
    SystolicMmHg, u16, 30, 300, "mmHg"
);
whole_unit!(
    /// Diastolic blood pressure, mmHg (10–250).
    DiastolicMmHg, u16, 10, 250, "mmHg"
);
whole_unit!(
    /// Heart rate, beats per minute (10–300).
    HeartRatePerMin, u16, 10, 300, "/min"
);
whole_unit!(
    /// Peripheral oxygen saturation, % (1–100).
    SpO2Percent, u8, 1, 100, "%"
);
whole_unit!(
    /// Respiratory rate, breaths per minute (1–80). Apnoea is an event, not a rate.
    RespiratoryRatePerMin, u8, 1, 80, "/min"
);
whole_unit!(
    /// Duration in whole weeks (0–1040, i.e. up to 20 years).
    Weeks, u16, 0, 1040, "weeks"
);
whole_unit!(
    /// Mini-Mental State Examination total (0–30).
    MmseScore, u8, 0, 30, "/30"
);
whole_unit!(
    /// Percentage improvement on a rating scale from baseline (−1000 to 100; negative
    /// means worse). 100 means symptom-free.
    ImprovementPercent, i16, -1000, 100, "%"
);
whole_unit!(
    /// A count of occasions (0–100 000), for example uses of a substance in a year.
    Occasions, u32, 0, 100_000, "times"
);

decimal_unit!(
    /// Body weight, kg (0.5–650).
    WeightKg, 0.5, 650.0, "kg"
);
decimal_unit!(
    /// Body height, cm (30–275).
    HeightCm, 30.0, 275.0, "cm"
);
decimal_unit!(
    /// A mass of drug, mg (more than 0, at most 100 000). Used for daily doses.
    Milligrams, 0.001, 100_000.0, "mg"
);

/// A blood-pressure reading: systolic above diastolic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BloodPressureRaw", into = "BloodPressureRaw")]
pub struct BloodPressure {
    systolic: SystolicMmHg,
    diastolic: DiastolicMmHg,
}

#[derive(Serialize, Deserialize)]
struct BloodPressureRaw {
    systolic: i64,
    diastolic: i64,
}

impl TryFrom<BloodPressureRaw> for BloodPressure {
    type Error = UnitError;
    fn try_from(raw: BloodPressureRaw) -> Result<Self, UnitError> {
        Self::new(
            SystolicMmHg::new(raw.systolic)?,
            DiastolicMmHg::new(raw.diastolic)?,
        )
    }
}

impl From<BloodPressure> for BloodPressureRaw {
    fn from(bp: BloodPressure) -> Self {
        Self {
            systolic: bp.systolic.get().into(),
            diastolic: bp.diastolic.get().into(),
        }
    }
}

impl BloodPressure {
    pub fn new(systolic: SystolicMmHg, diastolic: DiastolicMmHg) -> Result<Self, UnitError> {
        if systolic.get() <= diastolic.get() {
            return Err(UnitError::SystolicNotAboveDiastolic {
                systolic: systolic.get(),
                diastolic: diastolic.get(),
            });
        }
        Ok(Self {
            systolic,
            diastolic,
        })
    }

    /// Parses "128/84" (spaces allowed around the slash).
    pub fn parse(raw: &str) -> Result<Self, UnitError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(UnitError::Empty);
        }
        let (s, d) = text
            .split_once('/')
            .ok_or_else(|| UnitError::NotANumber(text.to_string()))?;
        Self::new(SystolicMmHg::parse(s)?, DiastolicMmHg::parse(d)?)
    }

    /// From plain numbers; for tests and stored values.
    pub fn from_values(systolic: i64, diastolic: i64) -> Result<Self, UnitError> {
        Self::new(SystolicMmHg::new(systolic)?, DiastolicMmHg::new(diastolic)?)
    }

    pub fn systolic(self) -> SystolicMmHg {
        self.systolic
    }

    pub fn diastolic(self) -> DiastolicMmHg {
        self.diastolic
    }
}

impl fmt::Display for BloodPressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} mmHg", self.systolic.get(), self.diastolic.get())
    }
}

/// Body-mass index, kg/m², always computed from a weight and a height, never entered.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Bmi(f64);

impl Bmi {
    pub fn compute(weight: WeightKg, height: HeightCm) -> Self {
        let metres = height.get() / 100.0;
        Self(weight.get() / (metres * metres))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Bmi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} kg/m²", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_units_reject_out_of_range_and_fractions() {
        let cases: &[(&str, bool)] = &[
            ("29", false),
            ("30", true),
            ("300", true),
            ("301", false),
            ("120.5", false),
            ("", false),
            ("abc", false),
            (" 140 ", true),
        ];
        for (raw, ok) in cases {
            assert_eq!(SystolicMmHg::parse(raw).is_ok(), *ok, "systolic {raw:?}");
        }
        assert!(SpO2Percent::new(100).is_ok());
        assert!(SpO2Percent::new(101).is_err());
        assert!(SpO2Percent::new(0).is_err());
        assert!(HeartRatePerMin::new(9).is_err());
        assert!(MmseScore::new(31).is_err());
        assert!(ImprovementPercent::new(-20).is_ok());
        assert!(ImprovementPercent::new(101).is_err());
    }

    #[test]
    fn decimal_units_reject_impossible_values() {
        assert!(WeightKg::parse("72.5").is_ok());
        assert!(WeightKg::parse("0").is_err());
        assert!(WeightKg::parse("-3").is_err());
        assert!(WeightKg::parse("NaN").is_err());
        assert!(WeightKg::parse("inf").is_err());
        assert!(WeightKg::parse("651").is_err());
        assert!(HeightCm::parse("170").is_ok());
        assert!(HeightCm::parse("29.9").is_err());
        assert!(Milligrams::new(0.0).is_err());
        assert!(Milligrams::new(2.5).is_ok());
    }

    #[test]
    fn blood_pressure_parses_and_requires_systolic_above_diastolic() {
        let bp = BloodPressure::parse("128 / 84").unwrap();
        assert_eq!(bp.systolic().get(), 128);
        assert_eq!(bp.diastolic().get(), 84);
        assert_eq!(bp.to_string(), "128/84 mmHg");
        assert!(BloodPressure::parse("80/80").is_err());
        assert!(BloodPressure::parse("128").is_err());
        assert!(BloodPressure::parse("1280/84").is_err());
    }

    #[test]
    fn bmi_is_computed() {
        let bmi = Bmi::compute(WeightKg::new(70.0).unwrap(), HeightCm::new(175.0).unwrap());
        assert!((bmi.get() - 22.857).abs() < 0.01, "{bmi}");
        assert_eq!(bmi.to_string(), "22.9 kg/m²");
    }

    #[test]
    fn display_trims_decimals() {
        assert_eq!(WeightKg::new(72.0).unwrap().to_string(), "72 kg");
        assert_eq!(WeightKg::new(72.25).unwrap().to_string(), "72.25 kg");
    }
}
