//! The weight a mg/kg dose is computed from (DOSE-IV-005, DOSE-GEN-002, DAY-008).
//!
//! clinical.md does not confirm which weight to use for obese patients (DOSE-IV-005 is
//! tagged \[U\]) and gives **no** ideal- or adjusted-body-weight formula. So the basis is a
//! clinic setting whose default is the actual (total) body weight, which every cited
//! trial used (pk.md: "Total body weight was used everywhere"). Ideal and adjusted weight
//! are available only after the clinic configures a formula; none is switched on by
//! default, and the result always records which basis was used and the date the weight
//! was measured, as DOSE-GEN-002 requires.

use super::rule::RuleId;
use super::units::{Kg, UnitError, trim_decimal};
use crate::patient::SexAtBirth;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which weight a weight-based dose is computed from (DOSE-IV-005).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightBasis {
    /// Measured total body weight.
    Actual,
    /// Ideal body weight from the clinic's configured formula.
    Ideal,
    /// Ideal weight plus a configured fraction of the excess over it.
    Adjusted,
}

/// A body weight together with the day it was measured. The date is part of the dose
/// record (DOSE-GEN-002) and decides whether it must be re-measured (DAY-008).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightMeasurement {
    pub weight: Kg,
    pub measured_on: Date,
}

impl WeightMeasurement {
    /// Whole days between the measurement and `today`. A measurement dated in the future
    /// (a clock or typing error) counts as zero days old; the entry form rejects it.
    pub fn age_days(&self, today: Date) -> i64 {
        let secs = today.duration_since(self.measured_on).as_secs();
        (secs / 86_400).max(0)
    }
}

/// Body height in centimetres, needed for BMI and any ideal-weight formula. The one
/// height type: the intake's baseline vitals use it too (with the narrower entry range
/// in `eligibility::units::entry`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct HeightCm(f64);

impl HeightCm {
    /// The shortest possible height (inclusive).
    pub const MIN: f64 = 30.0;
    /// The tallest possible height (inclusive).
    pub const MAX: f64 = 280.0;

    /// Heights outside 30–280 cm are not human heights in centimetres (they are usually
    /// metres or inches typed into the wrong field).
    pub fn new(cm: f64) -> Result<Self, UnitError> {
        if !cm.is_finite() || !(Self::MIN..=Self::MAX).contains(&cm) {
            return Err(UnitError(format!("{cm} cm is not a possible height")));
        }
        Ok(Self(cm))
    }

    pub fn parse(raw: &str) -> Result<Self, UnitError> {
        let text = raw.trim();
        let cm: f64 = text.parse().map_err(|_| UnitError(format!("`{text}` is not a number of cm")))?;
        Self::new(cm)
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

impl super::units::Ucum for HeightCm {
    const UCUM: &'static str = "cm";
}

impl TryFrom<f64> for HeightCm {
    type Error = UnitError;
    fn try_from(v: f64) -> Result<Self, UnitError> {
        Self::new(v)
    }
}

impl From<HeightCm> for f64 {
    fn from(v: HeightCm) -> f64 {
        v.0
    }
}

impl fmt::Display for HeightCm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cm", trim_decimal(self.0))
    }
}

/// Body-mass index in kg/m², always computed from a weight and a height, never entered.
/// Serialised as the bare number (stored evaluations hold it so).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Bmi(f64);

impl Bmi {
    pub fn compute(weight: Kg, height: HeightCm) -> Self {
        let metres = height.value() / 100.0;
        Self(weight.value() / (metres * metres))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl super::units::Ucum for Bmi {
    const UCUM: &'static str = "kg/m2";
}

impl fmt::Display for Bmi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} kg/m²", self.0)
    }
}

/// A linear ideal-body-weight formula: `base + per_cm × (height − reference)`.
///
/// clinical.md gives no formula, so none is built in as a default. [`Self::devine`] is
/// offered as a named choice because it is the most widely used, but it is **not** from
/// the spec and needs the medical director's sign-off before a clinic selects it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IdealWeightFormula {
    pub male_base_kg: f64,
    pub female_base_kg: f64,
    pub kg_per_cm_above_reference: f64,
    pub reference_height_cm: f64,
}

impl IdealWeightFormula {
    /// Devine (1974): 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch over 5 ft.
    /// Not from clinical.md; a clinic must choose it explicitly.
    pub fn devine() -> Self {
        Self {
            male_base_kg: 50.0,
            female_base_kg: 45.5,
            kg_per_cm_above_reference: 2.3 / 2.54,
            reference_height_cm: 152.4,
        }
    }

    /// The ideal weight, or `None` when the sex is not male or female (the formula has
    /// no answer then, and the clinician must dose on actual weight or enter a weight).
    pub fn ideal(&self, height: HeightCm, sex: SexAtBirth) -> Option<f64> {
        let base = match sex {
            SexAtBirth::Male => self.male_base_kg,
            SexAtBirth::Female => self.female_base_kg,
            SexAtBirth::Intersex | SexAtBirth::Unknown => return None,
        };
        Some(base + self.kg_per_cm_above_reference * (height.value() - self.reference_height_cm))
    }
}

/// Clinic policy for the dosing weight (DOSE-IV-005 \[U\]). The re-weigh interval
/// (DAY-008) is a pre-dose gate item: see `monitoring::gate::GatePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WeightPolicy {
    /// Basis used when BMI is above `obesity_bmi_above`. Default `Actual`: the spec does
    /// not confirm any other basis (DOSE-IV-005).
    pub obese_basis: WeightBasis,
    /// BMI above which `obese_basis` applies. Default 30, the spec's example (DOSE-IV-005).
    pub obesity_bmi_above: f64,
    /// Ideal-weight formula. Default none: the spec gives no formula (DOSE-IV-005).
    pub ideal_formula: Option<IdealWeightFormula>,
    /// Fraction of the excess over ideal weight added back for adjusted weight
    /// (`ideal + factor × (actual − ideal)`). Default none: the spec gives no factor.
    pub adjusted_factor: Option<f64>,
}

impl Default for WeightPolicy {
    fn default() -> Self {
        Self { obese_basis: WeightBasis::Actual, obesity_bmi_above: 30.0, ideal_formula: None, adjusted_factor: None }
    }
}

/// Why a dosing weight could not be worked out. Each names what the clinician must
/// supply or configure, rather than silently falling back to another weight.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightError {
    #[error("DOSE-IV-005: the clinic doses obese patients on {0:?} weight, so a height is needed to compute BMI")]
    HeightNeeded(WeightBasis),
    #[error("DOSE-IV-005: {0:?} weight needs an ideal-weight formula in the clinic policy, and none is configured")]
    NoIdealFormula(WeightBasis),
    #[error("DOSE-IV-005: adjusted weight needs an adjustment factor in the clinic policy, and none is configured")]
    NoAdjustedFactor,
    #[error("DOSE-IV-005: the ideal-weight formula needs sex at birth recorded as male or female")]
    SexNeeded,
    #[error("DOSE-IV-005: the computed dosing weight is not a possible weight ({0})")]
    Impossible(UnitError),
}

/// The weight a dose was computed from, with everything DOSE-GEN-002 asks to record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DosingWeight {
    /// The weight the mg/kg figure multiplies.
    pub kg: Kg,
    /// Which basis gave `kg` (DOSE-IV-005 asks to record it).
    pub basis: WeightBasis,
    /// The measured weight and its date, kept whatever the basis.
    pub measured: WeightMeasurement,
    /// BMI when a height was given.
    pub bmi: Option<f64>,
}

impl DosingWeight {
    /// Actual body weight, which needs no policy: the basis every cited trial used.
    pub fn actual(measured: WeightMeasurement) -> Self {
        Self { kg: measured.weight, basis: WeightBasis::Actual, measured, bmi: None }
    }

    pub const RULE: RuleId = RuleId::spec("DOSE-IV-005");
}

/// Works out the dosing weight under the clinic's [`WeightPolicy`] (DOSE-IV-005).
///
/// The ideal or adjusted weight is never allowed above the actual weight: those bases
/// exist to avoid overdosing obese patients, and a formula applied to a short patient
/// must not raise the dose.
pub fn dosing_weight(
    measured: WeightMeasurement,
    height: Option<HeightCm>,
    sex: SexAtBirth,
    policy: &WeightPolicy,
) -> Result<DosingWeight, WeightError> {
    let bmi_value = height.map(|h| Bmi::compute(measured.weight, h).get());
    let mut result = DosingWeight { bmi: bmi_value, ..DosingWeight::actual(measured) };
    if policy.obese_basis == WeightBasis::Actual {
        return Ok(result);
    }
    let (Some(height), Some(bmi_value)) = (height, bmi_value) else {
        return Err(WeightError::HeightNeeded(policy.obese_basis));
    };
    if bmi_value <= policy.obesity_bmi_above {
        return Ok(result);
    }
    let formula = policy.ideal_formula.ok_or(WeightError::NoIdealFormula(policy.obese_basis))?;
    let ideal = formula.ideal(height, sex).ok_or(WeightError::SexNeeded)?;
    let actual = measured.weight.value();
    let chosen = match policy.obese_basis {
        WeightBasis::Actual => actual,
        WeightBasis::Ideal => ideal,
        WeightBasis::Adjusted => {
            let factor = policy.adjusted_factor.ok_or(WeightError::NoAdjustedFactor)?;
            ideal + factor * (actual - ideal)
        }
    };
    if chosen >= actual {
        return Ok(result);
    }
    result.kg = Kg::new(chosen).map_err(WeightError::Impossible)?;
    result.basis = policy.obese_basis;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(kg: f64) -> WeightMeasurement {
        WeightMeasurement { weight: Kg::new(kg).unwrap(), measured_on: Date::constant(2026, 1, 10) }
    }

    #[test]
    fn default_policy_uses_actual_weight_and_keeps_the_date() {
        let w = dosing_weight(measured(130.0), None, SexAtBirth::Female, &WeightPolicy::default()).unwrap();
        assert_eq!(w.basis, WeightBasis::Actual);
        assert_eq!(w.kg.value(), 130.0);
        assert_eq!(w.measured.measured_on, Date::constant(2026, 1, 10));
    }

    #[test]
    fn ideal_basis_without_formula_is_an_error_not_a_silent_fallback() {
        let policy = WeightPolicy { obese_basis: WeightBasis::Ideal, ..WeightPolicy::default() };
        let h = HeightCm::new(170.0).unwrap();
        assert_eq!(
            dosing_weight(measured(130.0), Some(h), SexAtBirth::Male, &policy),
            Err(WeightError::NoIdealFormula(WeightBasis::Ideal))
        );
        assert_eq!(
            dosing_weight(measured(130.0), None, SexAtBirth::Male, &policy),
            Err(WeightError::HeightNeeded(WeightBasis::Ideal))
        );
    }

    #[test]
    fn obesity_boundary_is_strictly_above_the_bmi_threshold() {
        let policy = WeightPolicy {
            obese_basis: WeightBasis::Ideal,
            ideal_formula: Some(IdealWeightFormula::devine()),
            ..WeightPolicy::default()
        };
        let h = HeightCm::new(200.0).unwrap();
        // BMI exactly 30 at 2 m is 120 kg: not above the threshold, so actual weight.
        let at = dosing_weight(measured(120.0), Some(h), SexAtBirth::Male, &policy).unwrap();
        assert_eq!(at.basis, WeightBasis::Actual);
        let above = dosing_weight(measured(120.1), Some(h), SexAtBirth::Male, &policy).unwrap();
        assert_eq!(above.basis, WeightBasis::Ideal);
        // Devine at 200 cm male: 50 + 2.3/2.54 × 47.6 ≈ 93.1 kg.
        assert!((above.kg.value() - 93.10).abs() < 0.01, "{}", above.kg.value());
    }

    #[test]
    fn adjusted_weight_uses_the_configured_factor() {
        let policy = WeightPolicy {
            obese_basis: WeightBasis::Adjusted,
            ideal_formula: Some(IdealWeightFormula::devine()),
            adjusted_factor: Some(0.5),
            ..WeightPolicy::default()
        };
        let h = HeightCm::new(152.4).unwrap(); // ideal = 45.5 kg for a female
        let w = dosing_weight(measured(100.0), Some(h), SexAtBirth::Female, &policy).unwrap();
        assert_eq!(w.basis, WeightBasis::Adjusted);
        assert!((w.kg.value() - 72.75).abs() < 1e-9);
        let no_factor = WeightPolicy { adjusted_factor: None, ..policy };
        assert_eq!(
            dosing_weight(measured(100.0), Some(h), SexAtBirth::Female, &no_factor),
            Err(WeightError::NoAdjustedFactor)
        );
        assert_eq!(dosing_weight(measured(100.0), Some(h), SexAtBirth::Unknown, &policy), Err(WeightError::SexNeeded));
    }

    #[test]
    fn weight_age_in_days() {
        let m = measured(70.0);
        assert_eq!(m.age_days(Date::constant(2026, 1, 10)), 0);
        assert_eq!(m.age_days(Date::constant(2026, 2, 9)), 30);
        assert_eq!(m.age_days(Date::constant(2026, 1, 1)), 0);
    }
}
