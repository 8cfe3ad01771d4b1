//! Eligibility's own quantities, and the intake's entry ranges for the shared ones.
//!
//! The measured quantities an intake shares with dosing and monitoring are **one** set of
//! types, each carrying its UCUM code (and LOINC code for vital signs):
//! [`Systolic`], [`Diastolic`], [`HeartRate`], [`SpO2`], [`RespiratoryRate`] and
//! [`BloodPressure`] from `monitoring::vitals`; [`Kg`], [`Mg`], [`HeightCm`] and [`Bmi`]
//! from `dosing`. Their `new` accepts every value that is physically possible, because a
//! monitor must be able to record an SpO2 of 0 or a heart rate of 0 (asystole).
//!
//! An intake records a conscious outpatient's **resting** values at a screening visit, so
//! [`entry`] keeps the narrower ranges intake entry has always used (a heart rate of 0 or
//! a systolic of 350 typed there is a typing error, not an alarm), and the text parser
//! intake answers have always been stored for ("72.0" and "72" are both a heart rate of
//! 72). The ranges stop typing errors, never a real but alarming reading; clinical
//! thresholds never live here, they are policy (see `policy.rs`).
//!
//! [`Weeks`], [`MmseScore`], [`ImprovementPercent`] and [`Occasions`] exist only here.
//! Every quantity reports the one [`UnitError`] (`dosing::units`).
//!
//! A measurement is health information about a patient, but a bare number identifies
//! nobody, so these types keep an ordinary `Debug`; the records that hold them
//! (for example `BaselineVitals`) redact.

use crate::dosing::units::UnitError;
#[cfg(doc)]
use crate::dosing::{Bmi, HeightCm, Kg, Mg};
#[cfg(doc)]
use crate::monitoring::vitals::{BloodPressure, Diastolic, HeartRate, RespiratoryRate, SpO2, Systolic};
use serde::{Deserialize, Serialize};
use std::fmt;

fn required() -> UnitError {
    UnitError("is required".into())
}

fn not_a_number(text: &str) -> UnitError {
    UnitError(format!("`{text}` is not a number"))
}

fn out_of_range(min: impl fmt::Display, max: impl fmt::Display, unit: &str) -> UnitError {
    UnitError(format!("must be between {min} and {max} {unit}"))
}

fn parse_number(raw: &str) -> Result<f64, UnitError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(required());
    }
    let value: f64 = text.parse().map_err(|_| not_a_number(text))?;
    if !value.is_finite() {
        return Err(not_a_number(text));
    }
    Ok(value)
}

fn parse_whole(raw: &str) -> Result<i64, UnitError> {
    let value = parse_number(raw)?;
    if value.fract() != 0.0 {
        return Err(UnitError("must be a whole number".into()));
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
                    return Err(out_of_range(Self::MIN, Self::MAX, $unit));
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

/// Intake entry of the shared quantities: the text an intake answer holds, checked
/// against the narrower range a resting screening value must fall in, made into the
/// shared type. The question names the field; the message names the allowed range and
/// unit. Policy thresholds on these quantities are held to the same ranges
/// (`EligibilityPolicy::validate`).
pub mod entry {
    use super::{UnitError, out_of_range, parse_number, parse_whole, required};
    use crate::monitoring::vitals::BloodPressure;

    /// An inclusive range of whole numbers an intake accepts, with the unit users read.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct WholeRange {
        pub min: u16,
        pub max: u16,
        pub unit: &'static str,
    }

    impl WholeRange {
        pub fn contains(self, value: u16) -> bool {
            (self.min..=self.max).contains(&value)
        }

        /// `value` when it is inside, else the message naming the range.
        pub fn check(self, value: u16) -> Result<u16, UnitError> {
            if self.contains(value) { Ok(value) } else { Err(out_of_range(self.min, self.max, self.unit)) }
        }

        /// Parses an intake answer into the shared type `T` (a vital sign).
        pub fn parse<T: TryFrom<u16, Error = UnitError>>(self, raw: &str) -> Result<T, UnitError> {
            let value = parse_whole(raw)?;
            let value = u16::try_from(value)
                .ok()
                .filter(|v| self.contains(*v))
                .ok_or_else(|| out_of_range(self.min, self.max, self.unit))?;
            T::try_from(value)
        }
    }

    /// An inclusive range of decimal numbers an intake accepts.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct DecimalRange {
        pub min: f64,
        pub max: f64,
        pub unit: &'static str,
    }

    impl DecimalRange {
        /// Parses an intake answer into the shared type `T` (weight, height, dose).
        pub fn parse<T: TryFrom<f64, Error = UnitError>>(self, raw: &str) -> Result<T, UnitError> {
            let value = parse_number(raw)?;
            if !(self.min..=self.max).contains(&value) {
                return Err(out_of_range(self.min, self.max, self.unit));
            }
            T::try_from(value)
        }
    }

    /// Resting systolic pressure at intake, mmHg (monitor readings: 20–400).
    pub const SYSTOLIC: WholeRange = WholeRange { min: 30, max: 300, unit: "mmHg" };
    /// Resting diastolic pressure at intake, mmHg (monitor readings: 10–300).
    pub const DIASTOLIC: WholeRange = WholeRange { min: 10, max: 250, unit: "mmHg" };
    /// Resting heart rate at intake, /min (monitor readings: 0–350; 0 is asystole).
    pub const HEART_RATE: WholeRange = WholeRange { min: 10, max: 300, unit: "/min" };
    /// SpO2 at intake, % (monitor readings: 0–100).
    pub const SPO2: WholeRange = WholeRange { min: 1, max: 100, unit: "%" };
    /// Respiratory rate at intake, /min (monitor readings: 0–150; apnoea is an event,
    /// not an intake rate).
    pub const RESPIRATORY_RATE: WholeRange = WholeRange { min: 1, max: 80, unit: "/min" };
    /// Body weight at intake, kg (a dosing weight: more than 0, at most 700).
    pub const WEIGHT: DecimalRange = DecimalRange { min: 0.5, max: 650.0, unit: "kg" };
    /// Body height at intake, cm (a height for dosing: 30–280).
    pub const HEIGHT: DecimalRange = DecimalRange { min: 30.0, max: 275.0, unit: "cm" };
    /// A medication's daily dose at intake, mg (a dose amount: 0–1 000 000; a daily dose
    /// of 0 mg is not a dose).
    pub const DAILY_DOSE: DecimalRange = DecimalRange { min: 0.001, max: 100_000.0, unit: "mg" };

    /// Parses "128/84" (spaces allowed around the slash); systolic must be above
    /// diastolic.
    pub fn blood_pressure(raw: &str) -> Result<BloodPressure, UnitError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(required());
        }
        let (s, d) = text
            .split_once('/')
            .ok_or_else(|| UnitError(format!("`{text}` is not a blood pressure; write it as 120/80")))?;
        BloodPressure::new(SYSTOLIC.parse(s)?, DIASTOLIC.parse(d)?)
    }
}

#[cfg(test)]
mod tests {
    use super::entry::{self, DecimalRange, WholeRange};
    use super::*;
    use crate::dosing::{Bmi, HeightCm, Kg, Mg, Ucum};
    use crate::eligibility::policy::{BpThreshold, BpTiers, EligibilityPolicy, HeartRateLimits};
    use crate::monitoring::vitals::{BloodPressure, Diastolic, HeartRate, RespiratoryRate, SpO2, Systolic};

    #[test]
    fn whole_units_reject_out_of_range_and_fractions() {
        let cases: &[(&str, bool)] = &[
            ("0", true),
            ("30", true),
            ("31", false),
            ("-1", false),
            ("12.5", false),
            ("12.0", true),
            ("", false),
            ("abc", false),
            (" 28 ", true),
        ];
        for (raw, ok) in cases {
            assert_eq!(MmseScore::parse(raw).is_ok(), *ok, "mmse {raw:?}");
        }
        assert!(ImprovementPercent::new(-20).is_ok());
        assert!(ImprovementPercent::new(-1000).is_ok());
        assert!(ImprovementPercent::new(-1001).is_err());
        assert!(ImprovementPercent::new(100).is_ok());
        assert!(ImprovementPercent::new(101).is_err());
        assert!(Weeks::new(1040).is_ok());
        assert!(Weeks::new(1041).is_err());
        assert!(Weeks::new(-1).is_err());
        assert!(Occasions::new(100_000).is_ok());
        assert!(Occasions::new(100_001).is_err());
        assert_eq!(MmseScore::parse("31").unwrap_err().to_string(), "must be between 0 and 30 /30");
        assert_eq!(Weeks::parse("").unwrap_err().to_string(), "is required");
        assert_eq!(Weeks::parse("abc").unwrap_err().to_string(), "`abc` is not a number");
        assert_eq!(Weeks::parse("2.5").unwrap_err().to_string(), "must be a whole number");
    }

    /// Every intake entry boundary: min and max accepted, one past each refused, with
    /// the message naming the range and unit; fractions, text and blanks refused.
    #[test]
    fn intake_entry_ranges_at_their_boundaries() {
        type Parse = fn(&str) -> Result<(), UnitError>;
        let whole: [(WholeRange, Parse, &str); 5] = [
            (entry::SYSTOLIC, |r| entry::SYSTOLIC.parse::<Systolic>(r).map(drop), "must be between 30 and 300 mmHg"),
            (entry::DIASTOLIC, |r| entry::DIASTOLIC.parse::<Diastolic>(r).map(drop), "must be between 10 and 250 mmHg"),
            (
                entry::HEART_RATE,
                |r| entry::HEART_RATE.parse::<HeartRate>(r).map(drop),
                "must be between 10 and 300 /min",
            ),
            (entry::SPO2, |r| entry::SPO2.parse::<SpO2>(r).map(drop), "must be between 1 and 100 %"),
            (
                entry::RESPIRATORY_RATE,
                |r| entry::RESPIRATORY_RATE.parse::<RespiratoryRate>(r).map(drop),
                "must be between 1 and 80 /min",
            ),
        ];
        for (range, parse, message) in whole {
            assert!(parse(&range.min.to_string()).is_ok(), "{message}: min");
            assert!(parse(&range.max.to_string()).is_ok(), "{message}: max");
            assert!(parse(&format!("{}.0", range.max)).is_ok(), "{message}: stored as 300.0");
            assert!(parse(&format!(" {} ", range.max)).is_ok(), "{message}: spaces");
            assert_eq!(parse(&(range.min - 1).to_string()).unwrap_err().to_string(), message);
            assert_eq!(parse(&(range.max + 1).to_string()).unwrap_err().to_string(), message);
            assert_eq!(parse("-5").unwrap_err().to_string(), message);
            assert_eq!(parse("70000").unwrap_err().to_string(), message);
            assert_eq!(parse("72.5").unwrap_err().to_string(), "must be a whole number");
            assert_eq!(parse("").unwrap_err().to_string(), "is required");
            assert_eq!(parse("abc").unwrap_err().to_string(), "`abc` is not a number");
        }
        let decimal: [(DecimalRange, Parse, f64, &str); 3] = [
            (entry::WEIGHT, |r| entry::WEIGHT.parse::<Kg>(r).map(drop), 0.1, "must be between 0.5 and 650 kg"),
            (entry::HEIGHT, |r| entry::HEIGHT.parse::<HeightCm>(r).map(drop), 0.1, "must be between 30 and 275 cm"),
            (
                entry::DAILY_DOSE,
                |r| entry::DAILY_DOSE.parse::<Mg>(r).map(drop),
                0.001,
                "must be between 0.001 and 100000 mg",
            ),
        ];
        for (range, parse, step, message) in decimal {
            assert!(parse(&range.min.to_string()).is_ok(), "{message}: min");
            assert!(parse(&range.max.to_string()).is_ok(), "{message}: max");
            assert_eq!(parse(&(range.min - step).to_string()).unwrap_err().to_string(), message);
            assert_eq!(parse(&(range.max + step).to_string()).unwrap_err().to_string(), message);
            assert_eq!(parse("0").unwrap_err().to_string(), message);
            assert_eq!(parse("-3").unwrap_err().to_string(), message);
            assert_eq!(parse("NaN").unwrap_err().to_string(), "`NaN` is not a number");
            assert_eq!(parse("inf").unwrap_err().to_string(), "`inf` is not a number");
            assert_eq!(parse("").unwrap_err().to_string(), "is required");
        }
        assert_eq!(entry::WEIGHT.parse::<Kg>("72.5").unwrap().value(), 72.5);
        assert_eq!(entry::HEIGHT.parse::<HeightCm>("29.9").unwrap_err().to_string(), "must be between 30 and 275 cm");
        assert_eq!(entry::DAILY_DOSE.parse::<Mg>("2.5").unwrap().value(), 2.5);
    }

    /// An intake entry range never reaches outside the shared type's possible range, so
    /// a value the intake accepts always makes the type (and a reading the type holds
    /// may be wider than an intake would take).
    #[test]
    fn intake_entry_ranges_lie_inside_the_shared_types() {
        let pairs = [
            (entry::SYSTOLIC, Systolic::MIN, Systolic::MAX),
            (entry::DIASTOLIC, Diastolic::MIN, Diastolic::MAX),
            (entry::HEART_RATE, HeartRate::MIN, HeartRate::MAX),
            (entry::SPO2, SpO2::MIN, SpO2::MAX),
            (entry::RESPIRATORY_RATE, RespiratoryRate::MIN, RespiratoryRate::MAX),
        ];
        for (range, min, max) in pairs {
            assert!(min <= range.min && range.max <= max, "{range:?} within {min}-{max}");
        }
        const { assert!(HeightCm::MIN <= entry::HEIGHT.min && entry::HEIGHT.max <= HeightCm::MAX) };
        for v in [entry::WEIGHT.min, entry::WEIGHT.max] {
            assert!(Kg::new(v).is_ok(), "{v}");
        }
        for v in [entry::DAILY_DOSE.min, entry::DAILY_DOSE.max] {
            assert!(Mg::new(v).is_ok(), "{v}");
        }
        // The shared types keep their own (wider) monitor and dosing boundaries.
        assert!(Systolic::new(400).is_ok() && Systolic::new(401).is_err());
        assert!(Systolic::new(20).is_ok() && Systolic::new(19).is_err());
        assert!(Diastolic::new(300).is_ok() && Diastolic::new(301).is_err());
        assert!(Diastolic::new(10).is_ok() && Diastolic::new(9).is_err());
        assert!(HeartRate::new(350).is_ok() && HeartRate::new(351).is_err());
        assert!(RespiratoryRate::new(150).is_ok() && RespiratoryRate::new(151).is_err());
        assert!(RespiratoryRate::new(0).is_ok());
        assert!(SpO2::new(0).is_ok() && SpO2::new(101).is_err());
        assert!(HeightCm::new(280.0).is_ok() && HeightCm::new(280.1).is_err());
        assert!(HeightCm::new(30.0).is_ok() && HeightCm::new(29.9).is_err());
    }

    #[test]
    fn intake_blood_pressure_parses_and_requires_systolic_above_diastolic() {
        let bp = entry::blood_pressure("128 / 84").unwrap();
        assert_eq!((bp.systolic(), bp.diastolic()), (128, 84));
        assert_eq!(entry::blood_pressure("300/250").unwrap().systolic(), 300);
        let refused = [
            ("80/80", "diastolic 80 must be below systolic 80"),
            ("128", "`128` is not a blood pressure; write it as 120/80"),
            ("", "is required"),
            // Outside the intake range although a monitor could read them.
            ("350/84", "must be between 30 and 300 mmHg"),
            ("290/260", "must be between 10 and 250 mmHg"),
        ];
        for (raw, message) in refused {
            assert_eq!(entry::blood_pressure(raw).unwrap_err().to_string(), message, "{raw:?}");
        }
        assert!(entry::blood_pressure("1280/84").is_err());
    }

    #[test]
    fn bmi_is_computed_from_the_shared_weight_and_height() {
        let bmi = Bmi::compute(Kg::new(70.0).unwrap(), HeightCm::new(175.0).unwrap());
        assert!((bmi.get() - 22.857).abs() < 0.01, "{bmi}");
        assert_eq!(bmi.to_string(), "22.9 kg/m²");
        assert_eq!(Bmi::UCUM, "kg/m2");
        assert_eq!(HeightCm::new(175.0).unwrap().to_string(), "175 cm");
        assert_eq!(HeightCm::new(175.25).unwrap().to_string(), "175.25 cm");
    }

    /// Evaluations, policies, plans and readings are stored as serde JSON. The unified
    /// types must write exactly what the types they replaced wrote (the literals below
    /// are the old eligibility types' output), and read it back.
    #[test]
    fn stored_json_is_byte_identical_to_the_replaced_types() {
        let bp = entry::blood_pressure("128/84").unwrap();
        assert_eq!(serde_json::to_string(&bp).unwrap(), r#"{"systolic":128,"diastolic":84}"#);
        let back: BloodPressure = serde_json::from_str(r#"{"systolic":128,"diastolic":84}"#).unwrap();
        assert_eq!(back, bp);
        assert!(serde_json::from_str::<BloodPressure>(r#"{"systolic":80,"diastolic":84}"#).is_err());

        let height = entry::HEIGHT.parse::<HeightCm>("175.5").unwrap();
        assert_eq!(serde_json::to_string(&height).unwrap(), "175.5");
        assert_eq!(serde_json::to_string(&entry::HEIGHT.parse::<HeightCm>("170").unwrap()).unwrap(), "170.0");
        assert_eq!(serde_json::from_str::<HeightCm>("175.5").unwrap(), height);
        assert_eq!(serde_json::to_string(&entry::WEIGHT.parse::<Kg>("72.5").unwrap()).unwrap(), "72.5");
        assert_eq!(serde_json::to_string(&entry::DAILY_DOSE.parse::<Mg>("100").unwrap()).unwrap(), "100.0");
        assert_eq!(serde_json::to_string(&entry::HEART_RATE.parse::<HeartRate>("72").unwrap()).unwrap(), "72");
        assert_eq!(serde_json::to_string(&entry::SPO2.parse::<SpO2>("98").unwrap()).unwrap(), "98");
        assert_eq!(
            serde_json::to_string(&entry::RESPIRATORY_RATE.parse::<RespiratoryRate>("14").unwrap()).unwrap(),
            "14"
        );
        let bmi = Bmi::compute(Kg::new(80.0).unwrap(), HeightCm::new(200.0).unwrap());
        assert_eq!(serde_json::to_string(&bmi).unwrap(), "20.0");

        // The stored policy's blood-pressure tiers and heart-rate limits.
        let tiers = BpTiers::default();
        let tiers_json = r#"{"caution":{"systolic":140,"diastolic":90},"defer":{"systolic":160,"diastolic":100},"hard_defer":{"systolic":180,"diastolic":110}}"#;
        assert_eq!(serde_json::to_string(&tiers).unwrap(), tiers_json);
        assert_eq!(serde_json::from_str::<BpTiers>(tiers_json).unwrap(), tiers);
        let hr = HeartRateLimits::default();
        assert_eq!(serde_json::to_string(&hr).unwrap(), r#"{"low":50,"high":110}"#);
        assert_eq!(serde_json::from_str::<HeartRateLimits>(r#"{"low":50,"high":110}"#).unwrap(), hr);
        let policy = EligibilityPolicy::default();
        let json = serde_json::to_string(&policy).unwrap();
        assert!(json.contains(&format!(r#""bp_tiers":{tiers_json}"#)), "{json}");
        assert!(json.contains(r#""heart_rate":{"low":50,"high":110}"#), "{json}");
        assert_eq!(serde_json::from_str::<EligibilityPolicy>(&json).unwrap(), policy);
        assert_eq!(BpThreshold::new(140, 90), tiers.caution);
    }
}
