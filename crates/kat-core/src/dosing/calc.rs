//! Dose arithmetic: mg, mg/kg, volumes, final concentration and pump rate
//! (DOSE-IV-001, DOSE-IV-003, DOSE-IV-004, DOSE-GEN-002).
//!
//! The calculation only does arithmetic and refuses inputs it cannot compute from; it
//! does not judge whether a dose is wise. [`super::limits::check_dose`] does that, so a
//! calculation can be shown to the prescriber even when it will be flagged.

use super::units::{Mg, MgPerKg, MgPerMl, Minutes, Ml, MlPerHour, UnitError};
use super::weight::DosingWeight;
use serde::{Deserialize, Serialize};

/// What the prescriber ordered: a weight-based or a fixed dose.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseOrder {
    PerKg(MgPerKg),
    Fixed(Mg),
}

/// Diluents the Ketalar label allows for IV use (DOSE-IV-004).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Diluent {
    SterileWater,
    SodiumChloride0_9,
    Dextrose5,
}

/// How the stock solution is diluted before administration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dilution {
    /// Given as drawn from the vial (IM, SC, oral solution).
    Undiluted,
    /// Diluted with an equal volume of diluent, the minimum the label requires for the
    /// 100 mg/mL strength given IV (DOSE-IV-004).
    EqualVolume(Diluent),
    /// The drug volume made up to a total volume (for example a 100 mL infusion bag).
    ToTotalVolume { diluent: Diluent, total: Ml },
}

/// The stock product and its dilution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Preparation {
    /// Vial strength, for example 10, 50 or 100 mg/mL.
    pub stock: MgPerMl,
    pub dilution: Dilution,
}

/// Pump settings for an IV infusion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InfusionSettings {
    pub duration: Minutes,
    /// Constant pump rate that delivers the whole prepared volume over `duration`
    /// (DOSE-IV-004: use an infusion pump for a constant rate).
    pub rate: MlPerHour,
}

/// Everything the dose record needs (DOSE-GEN-002): mg and mg/kg with the weight used,
/// the volumes drawn and prepared, and the pump rate for IV.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DoseCalculation {
    pub order: DoseOrder,
    pub dose: Mg,
    /// mg/kg against the dosing weight; `None` only for a fixed dose without a weight.
    pub per_kg: Option<MgPerKg>,
    pub weight: Option<DosingWeight>,
    pub preparation: Preparation,
    /// Volume of stock solution to draw up.
    pub drug_volume: Ml,
    /// Volume of diluent added.
    pub diluent_volume: Ml,
    /// Volume given to the patient.
    pub total_volume: Ml,
    /// Concentration of what is given.
    pub final_concentration: MgPerMl,
    pub infusion: Option<InfusionSettings>,
}

/// Why a dose could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalcError {
    #[error("a weight-based dose needs a dosing weight (DOSE-GEN-002)")]
    WeightRequired,
    #[error("the dose is zero")]
    ZeroDose,
    #[error("an infusion of 0 minutes cannot be given at a constant rate (DOSE-IV-003)")]
    ZeroDuration,
    #[error("the total volume {total} is less than the drug volume {drug}")]
    TotalBelowDrugVolume { total: Ml, drug: Ml },
    #[error("{0}")]
    Unit(#[from] UnitError),
}

/// Computes a dose.
///
/// `infusion` is the infusion duration for IV (conventionally 40 minutes, DOSE-IV-001);
/// pass `None` for other routes. Values are not rounded: the shell rounds for display to
/// the precision of the syringe or pump, so that rounding is visible where it happens.
pub fn calculate(
    order: DoseOrder,
    weight: Option<DosingWeight>,
    preparation: Preparation,
    infusion: Option<Minutes>,
) -> Result<DoseCalculation, CalcError> {
    let (dose, per_kg) = match order {
        DoseOrder::PerKg(per_kg) => {
            let w = weight.ok_or(CalcError::WeightRequired)?;
            (Mg::new(per_kg.value() * w.kg.value())?, Some(per_kg))
        }
        DoseOrder::Fixed(mg) => {
            let per_kg = match weight {
                Some(w) => Some(MgPerKg::new(mg.value() / w.kg.value())?),
                None => None,
            };
            (mg, per_kg)
        }
    };
    if dose.value() <= 0.0 {
        return Err(CalcError::ZeroDose);
    }
    let drug_volume = Ml::new(dose.value() / preparation.stock.value())?;
    let (diluent_volume, total_volume) = match preparation.dilution {
        Dilution::Undiluted => (Ml::new(0.0)?, drug_volume),
        Dilution::EqualVolume(_) => (drug_volume, Ml::new(drug_volume.value() * 2.0)?),
        Dilution::ToTotalVolume { total, .. } => {
            if total.value() < drug_volume.value() {
                return Err(CalcError::TotalBelowDrugVolume { total, drug: drug_volume });
            }
            (Ml::new(total.value() - drug_volume.value())?, total)
        }
    };
    let final_concentration = MgPerMl::new(dose.value() / total_volume.value())?;
    let infusion = match infusion {
        None => None,
        Some(d) if d.get() == 0 => return Err(CalcError::ZeroDuration),
        Some(duration) => {
            Some(InfusionSettings { duration, rate: MlPerHour::new(total_volume.value() / duration.as_hours())? })
        }
    };
    Ok(DoseCalculation {
        order,
        dose,
        per_kg,
        weight,
        preparation,
        drug_volume,
        diluent_volume,
        total_volume,
        final_concentration,
        infusion,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dosing::weight::WeightMeasurement;
    use jiff::civil::Date;

    fn weight(kg: f64) -> DosingWeight {
        DosingWeight::actual(WeightMeasurement {
            weight: crate::dosing::units::Kg::new(kg).unwrap(),
            measured_on: Date::constant(2026, 1, 1),
        })
    }

    #[test]
    fn standard_iv_dose_in_a_100_ml_bag_over_40_minutes() {
        // 0.5 mg/kg × 70 kg = 35 mg; 50 mg/mL stock → 0.7 mL; made up to 100 mL;
        // 100 mL over 40 min = 150 mL/h (DOSE-IV-001).
        let calc = calculate(
            DoseOrder::PerKg(MgPerKg::new(0.5).unwrap()),
            Some(weight(70.0)),
            Preparation {
                stock: MgPerMl::new(50.0).unwrap(),
                dilution: Dilution::ToTotalVolume {
                    diluent: Diluent::SodiumChloride0_9,
                    total: Ml::new(100.0).unwrap(),
                },
            },
            Some(Minutes::new(40)),
        )
        .unwrap();
        assert_eq!(calc.dose.value(), 35.0);
        assert!((calc.drug_volume.value() - 0.7).abs() < 1e-12);
        assert!((calc.diluent_volume.value() - 99.3).abs() < 1e-12);
        assert_eq!(calc.total_volume.value(), 100.0);
        assert!((calc.final_concentration.value() - 0.35).abs() < 1e-12);
        assert!((calc.infusion.unwrap().rate.value() - 150.0).abs() < 1e-9);
    }

    #[test]
    fn equal_volume_dilution_halves_the_concentration() {
        let calc = calculate(
            DoseOrder::Fixed(Mg::new(50.0).unwrap()),
            Some(weight(100.0)),
            Preparation { stock: MgPerMl::new(100.0).unwrap(), dilution: Dilution::EqualVolume(Diluent::SterileWater) },
            Some(Minutes::new(40)),
        )
        .unwrap();
        assert_eq!(calc.drug_volume.value(), 0.5);
        assert_eq!(calc.total_volume.value(), 1.0);
        assert_eq!(calc.final_concentration.value(), 50.0);
        assert_eq!(calc.per_kg.unwrap().value(), 0.5);
        assert!((calc.infusion.unwrap().rate.value() - 1.5).abs() < 1e-12);
    }

    #[test]
    fn refuses_what_it_cannot_compute() {
        let prep = Preparation { stock: MgPerMl::new(10.0).unwrap(), dilution: Dilution::Undiluted };
        assert_eq!(
            calculate(DoseOrder::PerKg(MgPerKg::new(0.5).unwrap()), None, prep, None),
            Err(CalcError::WeightRequired)
        );
        assert_eq!(calculate(DoseOrder::Fixed(Mg::new(0.0).unwrap()), None, prep, None), Err(CalcError::ZeroDose));
        assert_eq!(
            calculate(DoseOrder::Fixed(Mg::new(10.0).unwrap()), None, prep, Some(Minutes::new(0))),
            Err(CalcError::ZeroDuration)
        );
        let small_bag = Preparation {
            stock: MgPerMl::new(10.0).unwrap(),
            dilution: Dilution::ToTotalVolume { diluent: Diluent::Dextrose5, total: Ml::new(4.0).unwrap() },
        };
        assert!(matches!(
            calculate(DoseOrder::Fixed(Mg::new(50.0).unwrap()), None, small_bag, None),
            Err(CalcError::TotalBelowDrugVolume { .. })
        ));
    }
}
