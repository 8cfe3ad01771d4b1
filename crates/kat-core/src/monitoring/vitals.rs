//! Vital-sign quantities and readings (MON-KET-002, MON-SPV-002, MON-SPV-003,
//! MON-SPV-005; LOINC and UCUM from instruments.md §11.1).
//!
//! A bedside monitor feed and a nurse's entry produce the same [`Reading`]; only its
//! [`ReadingSource`] differs. Alarm evaluation and discharge therefore cannot treat one
//! more leniently than the other.

use crate::dosing::units::{Ucum, UnitError};
use crate::ids::UserId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

fn parse_whole(raw: &str, what: &str) -> Result<u16, UnitError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(UnitError("is required".into()));
    }
    text.parse::<u16>().map_err(|_| UnitError(format!("`{text}` is not a whole number for {what}")))
}

macro_rules! whole_vital {
    ($(#[$doc:meta])* $name:ident, $repr:ty, ucum = $ucum:literal, loinc = $loinc:expr,
     what = $what:literal, min = $min:expr, max = $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "u16", into = "u16")]
        pub struct $name($repr);

        impl $name {
            /// The LOINC code of this observation (instruments.md §11.1), if one exists.
            pub const LOINC: Option<&'static str> = $loinc;
            /// The lowest value a reading can have (inclusive).
            pub const MIN: u16 = $min;
            /// The highest value a reading can have (inclusive).
            pub const MAX: u16 = $max;

            pub fn new(value: u16) -> Result<Self, UnitError> {
                if !(Self::MIN..=Self::MAX).contains(&value) {
                    return Err(UnitError(format!(
                        "{value} is not a possible {} (allowed {}-{})",
                        $what, $min, $max
                    )));
                }
                Ok(Self(value as $repr))
            }

            pub fn parse(raw: &str) -> Result<Self, UnitError> {
                Self::new(parse_whole(raw, $what)?)
            }

            pub fn get(self) -> u16 {
                u16::from(self.0)
            }
        }

        impl Ucum for $name {
            const UCUM: &'static str = $ucum;
        }

        impl TryFrom<u16> for $name {
            type Error = UnitError;
            fn try_from(v: u16) -> Result<Self, UnitError> {
                Self::new(v)
            }
        }

        impl From<$name> for u16 {
            fn from(v: $name) -> u16 {
                v.get()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", self.0, $ucum)
            }
        }
    };
}

whole_vital!(
    /// Systolic blood pressure in mmHg. A cuff cannot read below about 20 or above the
    /// highest pressures ever recorded (about 370), so values outside 20–400 are errors.
    Systolic, u16, ucum = "mm[Hg]", loinc = Some("8480-6"), what = "systolic pressure (mmHg)", min = 20, max = 400
);
whole_vital!(
    /// Diastolic blood pressure in mmHg (10–300; it must also be below the systolic).
    Diastolic, u16, ucum = "mm[Hg]", loinc = Some("8462-4"), what = "diastolic pressure (mmHg)", min = 10, max = 300
);
whole_vital!(
    /// Heart rate per minute. Zero is possible (asystole on a monitor) and alarms.
    HeartRate, u16, ucum = "/min", loinc = Some("8867-4"), what = "heart rate (/min)", min = 0, max = 350
);
whole_vital!(
    /// Respiratory rate per minute. Zero is apnoea and alarms.
    RespiratoryRate, u16, ucum = "/min", loinc = Some("9279-1"), what = "respiratory rate (/min)", min = 0, max = 150
);
whole_vital!(
    /// Oxygen saturation by pulse oximetry, whole percent 0–100. (US Core also requires
    /// the generic code 2708-6 next to 59408-5 on export.)
    SpO2, u8, ucum = "%", loinc = Some("59408-5"), what = "SpO2 (%)", min = 0, max = 100
);
whole_vital!(
    /// Modified Observer's Assessment of Alertness/Sedation, 0 (no response to a painful
    /// trapezius squeeze) to 5 (responds readily to name in a normal tone)
    /// (MON-SPV-005). It has no UCUM unit (`{score}` is the UCUM annotation form) and no
    /// LOINC code was found (instruments.md).
    Moaas, u8, ucum = "{score}", loinc = None, what = "MOAA/S score", min = 0, max = 5
);

impl Moaas {
    /// 5: responds readily to name spoken in a normal tone (alert).
    pub const ALERT: Moaas = Moaas(5);
    /// MON-SPV-005 \[V\]: MOAA/S ≤ 3 → continuous observation.
    pub const CONTINUOUS_OBSERVATION_AT_OR_BELOW: u8 = 3;

    /// The rating 0–5, as instrument scores are counted.
    pub fn score(self) -> u8 {
        self.0
    }

    /// DC-004: MOAA/S = 5 is one of the discharge checks.
    pub fn is_alert(self) -> bool {
        self == Self::ALERT
    }
}

/// A blood-pressure pair. Systolic must exceed diastolic; a reversed pair is a typing
/// or artefact error, not a physiological state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "BpRaw")]
pub struct BloodPressure {
    systolic: Systolic,
    diastolic: Diastolic,
}

#[derive(Deserialize)]
struct BpRaw {
    systolic: Systolic,
    diastolic: Diastolic,
}

impl TryFrom<BpRaw> for BloodPressure {
    type Error = UnitError;
    fn try_from(raw: BpRaw) -> Result<Self, UnitError> {
        Self::new(raw.systolic, raw.diastolic)
    }
}

impl BloodPressure {
    /// The LOINC code of the blood-pressure panel.
    pub const LOINC_PANEL: &'static str = "85354-9";

    pub fn new(systolic: Systolic, diastolic: Diastolic) -> Result<Self, UnitError> {
        if diastolic.get() >= systolic.get() {
            return Err(UnitError(format!("diastolic {} must be below systolic {}", diastolic.get(), systolic.get())));
        }
        Ok(Self { systolic, diastolic })
    }

    /// Builds a pair from whole numbers, for tests and device feeds.
    pub fn mmhg(systolic: u16, diastolic: u16) -> Result<Self, UnitError> {
        Self::new(Systolic::new(systolic)?, Diastolic::new(diastolic)?)
    }

    /// Parses `120/80`.
    pub fn parse(raw: &str) -> Result<Self, UnitError> {
        let text = raw.trim();
        let (s, d) = text
            .split_once('/')
            .ok_or_else(|| UnitError(format!("`{text}` is not a blood pressure; write it as 120/80")))?;
        Self::new(Systolic::parse(s)?, Diastolic::parse(d)?)
    }

    pub fn systolic(self) -> u16 {
        self.systolic.get()
    }

    pub fn diastolic(self) -> u16 {
        self.diastolic.get()
    }
}

impl Ucum for BloodPressure {
    const UCUM: &'static str = "mm[Hg]";
}

impl fmt::Display for BloodPressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} mm[Hg]", self.systolic(), self.diastolic())
    }
}

/// Where a reading came from. Both go through the same evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReadingSource {
    /// A bedside monitor or pulse oximeter, identified as the device reports itself
    /// (FHIR `Observation.device`).
    Device { device_id: String },
    /// Entered by a member of staff.
    Manual { entered_by: UserId },
}

/// Signs a clinician observes, which a device cannot report. Each one, when present,
/// raises an alarm on its own (ALM-002, ALM-003, ALM-004, ALM-006).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClinicalSigns {
    /// Apnoea or airway obstruction (ALM-004).
    pub apnoea_or_airway_obstruction: bool,
    /// A symptomatic arrhythmia (ALM-003).
    pub symptomatic_arrhythmia: bool,
    /// Symptoms of end-organ damage with any BP: chest pain, dyspnoea, severe headache,
    /// visual change, seizure, reduced consciousness, focal deficit (ALM-002, MON-SPV-007).
    pub end_organ_symptoms: bool,
    /// Severe distress, agitation or an emergence reaction (ALM-006).
    pub severe_distress_or_emergence: bool,
}

/// One set of observations at one time. Every measurement is optional because a device
/// may send only SpO2 and HR while a nurse adds the BP a minute later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub at: Timestamp,
    pub source: ReadingSource,
    pub blood_pressure: Option<BloodPressure>,
    pub heart_rate: Option<HeartRate>,
    pub spo2: Option<SpO2>,
    /// Whether the patient was on supplemental oxygen when SpO2 was read. `None` means
    /// not recorded (ALM-001 then assumes the worse case).
    pub on_supplemental_o2: Option<bool>,
    pub respiratory_rate: Option<RespiratoryRate>,
    pub moaas: Option<Moaas>,
    #[serde(default)]
    pub signs: ClinicalSigns,
}

impl Reading {
    /// An empty reading from `source` at `at`, to fill in field by field.
    pub fn empty(at: Timestamp, source: ReadingSource) -> Self {
        Self {
            at,
            source,
            blood_pressure: None,
            heart_rate: None,
            spo2: None,
            on_supplemental_o2: None,
            respiratory_rate: None,
            moaas: None,
            signs: ClinicalSigns::default(),
        }
    }
}

/// The pre-dose values that "near baseline" is judged against (DC-003, DC-004).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub blood_pressure: Option<BloodPressure>,
    pub heart_rate: Option<HeartRate>,
    pub spo2: Option<SpO2>,
    pub respiratory_rate: Option<RespiratoryRate>,
}

impl Baseline {
    /// The baseline taken from the pre-dose reading.
    pub fn from_reading(reading: &Reading) -> Self {
        Self {
            blood_pressure: reading.blood_pressure,
            heart_rate: reading.heart_rate,
            spo2: reading.spo2,
            respiratory_rate: reading.respiratory_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_parsing() {
        assert!(SpO2::new(100).is_ok());
        assert!(SpO2::new(101).is_err());
        assert!(Moaas::new(5).is_ok());
        assert!(Moaas::new(6).is_err());
        assert!(HeartRate::new(0).is_ok());
        assert!(HeartRate::new(351).is_err());
        assert!(Systolic::new(19).is_err());
        assert!(HeartRate::parse("72").is_ok());
        assert!(HeartRate::parse("-72").is_err());
        assert!(HeartRate::parse("7 2").is_err());
        assert!(SpO2::parse("").is_err());
    }

    #[test]
    fn blood_pressure_pairs() {
        let bp = BloodPressure::parse(" 142/91 ").unwrap();
        assert_eq!((bp.systolic(), bp.diastolic()), (142, 91));
        assert!(BloodPressure::parse("80/120").is_err());
        assert!(BloodPressure::parse("120/120").is_err());
        assert!(BloodPressure::parse("120-80").is_err());
        assert_eq!(bp.to_string(), "142/91 mm[Hg]");
    }

    #[test]
    fn ucum_and_loinc() {
        assert_eq!(Systolic::UCUM, "mm[Hg]");
        assert_eq!(HeartRate::UCUM, "/min");
        assert_eq!(RespiratoryRate::UCUM, "/min");
        assert_eq!(SpO2::UCUM, "%");
        assert_eq!(HeartRate::LOINC, Some("8867-4"));
        assert_eq!(Moaas::LOINC, None);
        assert_eq!(SpO2::LOINC, Some("59408-5"));
        assert_eq!(BloodPressure::LOINC_PANEL, "85354-9");
    }
}
