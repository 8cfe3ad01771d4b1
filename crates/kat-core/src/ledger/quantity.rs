//! Exact stock quantities: integer millionths, never `f64`.
//!
//! The dosing core computes doses in `f64` milligrams ([`crate::dosing::Mg`]), which is
//! right for a dose judged against a limit with a tolerance, and wrong for stock: a
//! balance summed from thousands of draws must come out to the exact value the formula
//! says (received − administered − … = on hand), every time, on every machine. So the
//! ledger counts in integer **micro-units**: a [`Quantity`] is millionths of a mL, or
//! whole dosage units (an esketamine device, a tablet) held as millionths too so that
//! both share one arithmetic; [`MgQty`] is millionths of a mg. A dose in `f64` mg enters
//! once, through [`MgQty::from_mg`] (rounded to the nearest millionth of a mg, six orders
//! below anything a syringe can measure), and is exact from there on.

use crate::dosing::units::{Mg, MgPerMl};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Millionths per unit.
pub const MICROS: u64 = 1_000_000;

/// The most mL one quantity may hold (a 100 L figure is a typing error, not stock).
const MAX_ML: u64 = 100_000;
/// The most dosage units one quantity may hold.
const MAX_UNITS: u64 = 1_000_000;
/// The most mg one [`MgQty`] may hold (as [`Mg`] bounds a dose).
const MAX_MG: u64 = 1_000_000;

/// How a container's content is counted (DEA-006: "number of units or volume per
/// container").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockUnit {
    /// A volume in millilitres (a vial of solution), to a millionth of a mL.
    Ml,
    /// Whole dosage units: esketamine nasal spray devices (DEA-013), tablets, lozenges.
    Unit,
}

impl StockUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            StockUnit::Ml => "ml",
            StockUnit::Unit => "unit",
        }
    }

    /// The symbol shown after a number: `mL`, `units`.
    pub fn symbol(self) -> &'static str {
        match self {
            StockUnit::Ml => "mL",
            StockUnit::Unit => "units",
        }
    }

    fn max_micros(self) -> u64 {
        match self {
            StockUnit::Ml => MAX_ML * MICROS,
            StockUnit::Unit => MAX_UNITS * MICROS,
        }
    }
}

/// Why a quantity was rejected; the message is for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("is required")]
    Empty,
    #[error("`{0}` is not a number (write it like 2.5)")]
    NotANumber(String),
    #[error("must not be negative")]
    Negative,
    #[error("at most 6 decimal places")]
    TooManyDecimals,
    #[error("must be a whole number of units (a device or tablet is not divided)")]
    NotWhole,
    #[error("is not possible (at most {max} {symbol})")]
    TooLarge { max: u64, symbol: &'static str },
    #[error("is in {found}, the container counts in {expected}")]
    UnitMismatch { expected: &'static str, found: &'static str },
}

/// Parses a plain non-negative decimal (`12`, `0.5`, `2.125`) into millionths, exactly.
fn parse_micros(raw: &str) -> Result<u128, QuantityError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(QuantityError::Empty);
    }
    if text.starts_with('-') {
        return Err(QuantityError::Negative);
    }
    let bad = || QuantityError::NotANumber(text.to_string());
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if text.contains('.') && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad());
    }
    if frac.len() > 6 {
        return Err(QuantityError::TooManyDecimals);
    }
    // More than 20 digits is beyond any bound: the caller reports it as too large.
    if whole.len() > 20 {
        return Ok(u128::MAX);
    }
    let whole: u128 = whole.parse().map_err(|_| bad())?;
    let mut frac_micros: u128 = 0;
    for (i, b) in frac.bytes().enumerate() {
        frac_micros += u128::from(b - b'0') * 10u128.pow(5 - i as u32);
    }
    Ok(whole * u128::from(MICROS) + frac_micros)
}

/// Renders millionths as a decimal without trailing zeros (`2.5`, `3`, `0.000001`).
pub(crate) fn fmt_micros(micros: u64) -> String {
    let whole = micros / MICROS;
    let frac = micros % MICROS;
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:06}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// An amount of stock: millionths of a mL, or whole units. It cannot be negative and
/// cannot mix units; arithmetic is checked.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawQuantity", into = "RawQuantity")]
pub struct Quantity {
    unit: StockUnit,
    micros: u64,
}

#[derive(Serialize, Deserialize)]
struct RawQuantity {
    unit: StockUnit,
    micros: u64,
}

impl TryFrom<RawQuantity> for Quantity {
    type Error = QuantityError;
    fn try_from(r: RawQuantity) -> Result<Self, QuantityError> {
        Quantity::from_micros(r.unit, r.micros)
    }
}

impl From<Quantity> for RawQuantity {
    fn from(q: Quantity) -> Self {
        RawQuantity { unit: q.unit, micros: q.micros }
    }
}

impl Quantity {
    pub const fn zero(unit: StockUnit) -> Self {
        Self { unit, micros: 0 }
    }

    /// A quantity from millionths of `unit`: whole for units, within the unit's bound.
    pub fn from_micros(unit: StockUnit, micros: u64) -> Result<Self, QuantityError> {
        if micros > unit.max_micros() {
            return Err(QuantityError::TooLarge { max: unit.max_micros() / MICROS, symbol: unit.symbol() });
        }
        if unit == StockUnit::Unit && !micros.is_multiple_of(MICROS) {
            return Err(QuantityError::NotWhole);
        }
        Ok(Self { unit, micros })
    }

    /// Whole dosage units.
    pub fn units(n: u64) -> Result<Self, QuantityError> {
        Self::from_micros(StockUnit::Unit, n.checked_mul(MICROS).ok_or(QuantityError::NotWhole)?)
    }

    /// Millilitres in millionths of a mL.
    pub fn ml_micros(micros: u64) -> Result<Self, QuantityError> {
        Self::from_micros(StockUnit::Ml, micros)
    }

    /// Parses what staff typed, in the container's unit: a decimal of at most six
    /// places for mL, a whole number for units.
    pub fn parse(raw: &str, unit: StockUnit) -> Result<Self, QuantityError> {
        let micros = parse_micros(raw)?;
        let micros = u64::try_from(micros)
            .map_err(|_| QuantityError::TooLarge { max: unit.max_micros() / MICROS, symbol: unit.symbol() })?;
        Self::from_micros(unit, micros)
    }

    pub fn unit(self) -> StockUnit {
        self.unit
    }
    pub fn micros(self) -> u64 {
        self.micros
    }
    pub fn is_zero(self) -> bool {
        self.micros == 0
    }

    /// The error when `other` is not in this quantity's unit.
    pub fn same_unit(self, other: Quantity) -> Result<(), QuantityError> {
        if self.unit == other.unit {
            Ok(())
        } else {
            Err(QuantityError::UnitMismatch { expected: self.unit.symbol(), found: other.unit.symbol() })
        }
    }

    /// The sum, in the same unit and within its bound.
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        if self.unit != other.unit {
            return None;
        }
        Quantity::from_micros(self.unit, self.micros.checked_add(other.micros)?).ok()
    }

    /// The difference; `None` when `other` is larger (stock never goes negative) or in
    /// another unit.
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        if self.unit != other.unit {
            return None;
        }
        Some(Quantity { unit: self.unit, micros: self.micros.checked_sub(other.micros)? })
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", fmt_micros(self.micros), self.unit.symbol())
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quantity({self})")
    }
}

/// An amount of drug in milligrams, exactly (millionths of a mg).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct MgQty(u64);

impl MgQty {
    pub const ZERO: MgQty = MgQty(0);

    /// Millionths of a mg, at most 1,000,000 mg (the bound of [`Mg`]).
    pub fn from_micros(micros: u64) -> Result<Self, QuantityError> {
        if micros > MAX_MG * MICROS {
            return Err(QuantityError::TooLarge { max: MAX_MG, symbol: "mg" });
        }
        Ok(Self(micros))
    }

    /// Whole milligrams (device strengths, test data).
    pub fn whole(mg: u32) -> Self {
        Self(u64::from(mg) * MICROS)
    }

    /// A dose from the dosing core, rounded to the nearest millionth of a mg: the one
    /// place an `f64` enters the ledger.
    pub fn from_mg(mg: Mg) -> Self {
        // `Mg` is finite, non-negative and at most 1,000,000 mg, so this fits.
        Self((mg.value() * MICROS as f64).round() as u64)
    }

    /// Parses a decimal number of mg of at most six places.
    pub fn parse(raw: &str) -> Result<Self, QuantityError> {
        let micros = parse_micros(raw)?;
        Self::from_micros(u64::try_from(micros).map_err(|_| QuantityError::TooLarge { max: MAX_MG, symbol: "mg" })?)
    }

    pub fn micros(self) -> u64 {
        self.0
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The same amount as the dosing core's `f64` milligrams.
    pub fn to_mg(self) -> Mg {
        Mg::new(self.0 as f64 / MICROS as f64).unwrap_or(Mg::from_whole(0))
    }
}

impl TryFrom<u64> for MgQty {
    type Error = QuantityError;
    fn try_from(micros: u64) -> Result<Self, QuantityError> {
        Self::from_micros(micros)
    }
}

impl From<MgQty> for u64 {
    fn from(m: MgQty) -> u64 {
        m.0
    }
}

impl fmt::Display for MgQty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mg", fmt_micros(self.0))
    }
}

impl fmt::Debug for MgQty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MgQty({self})")
    }
}

/// A product's strength: mg of drug per mL, or per dosage unit (28 mg per esketamine
/// device, DOSE-IN-001). Positive.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawStrength", into = "RawStrength")]
pub struct Strength {
    mg_per_unit: MgQty,
    unit: StockUnit,
}

#[derive(Serialize, Deserialize)]
struct RawStrength {
    mg_per_unit: MgQty,
    unit: StockUnit,
}

impl TryFrom<RawStrength> for Strength {
    type Error = QuantityError;
    fn try_from(r: RawStrength) -> Result<Self, QuantityError> {
        Strength::new(r.mg_per_unit, r.unit)
    }
}

impl From<Strength> for RawStrength {
    fn from(s: Strength) -> Self {
        RawStrength { mg_per_unit: s.mg_per_unit, unit: s.unit }
    }
}

impl Strength {
    pub fn new(mg_per_unit: MgQty, unit: StockUnit) -> Result<Self, QuantityError> {
        if mg_per_unit.is_zero() {
            return Err(QuantityError::NotANumber("0 (a strength must be more than 0)".into()));
        }
        Ok(Self { mg_per_unit, unit })
    }

    /// Parses mg per mL or per unit as typed (`50`, `28`).
    pub fn parse(raw: &str, unit: StockUnit) -> Result<Self, QuantityError> {
        Self::new(MgQty::parse(raw)?, unit)
    }

    pub fn mg_per_unit(self) -> MgQty {
        self.mg_per_unit
    }
    pub fn unit(self) -> StockUnit {
        self.unit
    }

    /// The concentration as the dosing core records it on an administration's product,
    /// for a solution.
    pub fn as_mg_per_ml(self) -> Option<MgPerMl> {
        match self.unit {
            StockUnit::Ml => MgPerMl::new(self.mg_per_unit.0 as f64 / MICROS as f64).ok(),
            StockUnit::Unit => None,
        }
    }

    /// The drug in `q` (rounded half up to a millionth of a mg).
    pub fn mg_for(self, q: Quantity) -> MgQty {
        let micros =
            (u128::from(q.micros) * u128::from(self.mg_per_unit.0) + u128::from(MICROS) / 2) / u128::from(MICROS);
        MgQty(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// The stock that holds `mg`: mL rounded half up to a millionth; whole units only
    /// (56 mg of a 28 mg device is 2 devices; 42 mg is refused).
    pub fn quantity_for(self, mg: MgQty) -> Result<Quantity, QuantityError> {
        let num = u128::from(mg.0) * u128::from(MICROS);
        let den = u128::from(self.mg_per_unit.0);
        let micros = match self.unit {
            StockUnit::Ml => (num + den / 2) / den,
            StockUnit::Unit => {
                if num % (den * u128::from(MICROS)) != 0 {
                    return Err(QuantityError::NotWhole);
                }
                num / den
            }
        };
        let micros = u64::try_from(micros).map_err(|_| QuantityError::TooLarge {
            max: self.unit.max_micros() / MICROS,
            symbol: self.unit.symbol(),
        })?;
        Quantity::from_micros(self.unit, micros)
    }
}

impl fmt::Display for Strength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = match self.unit {
            StockUnit::Ml => "mL",
            StockUnit::Unit => "unit",
        };
        write!(f, "{} mg/{per}", fmt_micros(self.mg_per_unit.0))
    }
}

impl fmt::Debug for Strength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Strength({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_decimals_and_rejects_the_rest() {
        assert_eq!(Quantity::parse("10", StockUnit::Ml).unwrap().micros(), 10_000_000);
        assert_eq!(Quantity::parse(" 0.000001 ", StockUnit::Ml).unwrap().micros(), 1);
        assert_eq!(Quantity::parse("2.5", StockUnit::Ml).unwrap().micros(), 2_500_000);
        assert_eq!(Quantity::parse("0.1", StockUnit::Ml).unwrap().micros(), 100_000, "no binary rounding");
        assert_eq!(Quantity::parse("0.0000001", StockUnit::Ml), Err(QuantityError::TooManyDecimals));
        assert_eq!(Quantity::parse("-1", StockUnit::Ml), Err(QuantityError::Negative));
        assert_eq!(Quantity::parse("", StockUnit::Ml), Err(QuantityError::Empty));
        for bad in ["1e3", ".5", "5.", "1,5", "NaN", "inf", "1.2.3", "+1"] {
            assert!(matches!(Quantity::parse(bad, StockUnit::Ml), Err(QuantityError::NotANumber(_))), "{bad}");
        }
        assert!(matches!(Quantity::parse("100000.000001", StockUnit::Ml), Err(QuantityError::TooLarge { .. })));
        assert!(Quantity::parse("100000", StockUnit::Ml).is_ok());
        assert!(matches!(
            Quantity::parse("99999999999999999999999", StockUnit::Ml),
            Err(QuantityError::TooLarge { .. })
        ));
        assert_eq!(Quantity::parse("2", StockUnit::Unit).unwrap(), Quantity::units(2).unwrap());
        assert_eq!(Quantity::parse("1.5", StockUnit::Unit), Err(QuantityError::NotWhole));
    }

    #[test]
    fn arithmetic_is_exact_checked_and_never_negative() {
        let ml = |m: u64| Quantity::ml_micros(m).unwrap();
        let mut total = Quantity::zero(StockUnit::Ml);
        for _ in 0..10 {
            total = total.checked_add(Quantity::parse("0.1", StockUnit::Ml).unwrap()).unwrap();
        }
        assert_eq!(total, Quantity::parse("1", StockUnit::Ml).unwrap(), "ten 0.1 mL draws are exactly 1 mL");
        assert_eq!(ml(5).checked_sub(ml(5)), Some(ml(0)));
        assert_eq!(ml(5).checked_sub(ml(6)), None, "one micro-unit over");
        assert_eq!(ml(5).checked_add(Quantity::units(1).unwrap()), None, "units never mix");
        assert!(ml(5).same_unit(Quantity::units(1).unwrap()).is_err());
        assert_eq!(Quantity::ml_micros(100_000 * MICROS).unwrap().checked_add(ml(1)), None, "bounded");
    }

    #[test]
    fn displays_without_trailing_zeros() {
        assert_eq!(Quantity::parse("2.50", StockUnit::Ml).unwrap().to_string(), "2.5 mL");
        assert_eq!(Quantity::units(3).unwrap().to_string(), "3 units");
        assert_eq!(Quantity::ml_micros(1).unwrap().to_string(), "0.000001 mL");
        assert_eq!(MgQty::whole(28).to_string(), "28 mg");
        assert_eq!(Strength::parse("50", StockUnit::Ml).unwrap().to_string(), "50 mg/mL");
    }

    #[test]
    fn strength_converts_between_mg_and_stock() {
        let vial = Strength::parse("50", StockUnit::Ml).unwrap();
        assert_eq!(
            vial.quantity_for(MgQty::parse("35").unwrap()).unwrap(),
            Quantity::parse("0.7", StockUnit::Ml).unwrap()
        );
        assert_eq!(vial.mg_for(Quantity::parse("0.7", StockUnit::Ml).unwrap()), MgQty::parse("35").unwrap());
        // 37.333333 mg at 50 mg/mL is 0.74666666 mL: rounded half up to a millionth.
        let q = vial.quantity_for(MgQty::parse("37.333333").unwrap()).unwrap();
        assert_eq!(q.micros(), 746_667);
        let device = Strength::parse("28", StockUnit::Unit).unwrap();
        assert_eq!(device.quantity_for(MgQty::whole(56)).unwrap(), Quantity::units(2).unwrap());
        assert_eq!(device.quantity_for(MgQty::whole(42)), Err(QuantityError::NotWhole));
        assert_eq!(device.mg_for(Quantity::units(3).unwrap()), MgQty::whole(84));
        assert_eq!(vial.as_mg_per_ml().unwrap().value(), 50.0);
        assert!(device.as_mg_per_ml().is_none());
        assert!(Strength::parse("0", StockUnit::Ml).is_err());
    }

    #[test]
    fn a_dose_in_f64_enters_once_rounded_to_a_millionth() {
        assert_eq!(MgQty::from_mg(Mg::new(37.333_333_333).unwrap()).micros(), 37_333_333);
        assert_eq!(MgQty::from_mg(Mg::new(0.1 + 0.2).unwrap()), MgQty::parse("0.3").unwrap());
        assert_eq!(MgQty::whole(28).to_mg().value(), 28.0);
    }

    #[test]
    fn serde_checks_on_the_way_in() {
        let q: Result<Quantity, _> = serde_json::from_str(r#"{"unit":"unit","micros":1500000}"#);
        assert!(q.is_err(), "half a device");
        let q: Quantity = serde_json::from_str(r#"{"unit":"ml","micros":1500000}"#).unwrap();
        assert_eq!(q.to_string(), "1.5 mL");
        let s: Result<Strength, _> = serde_json::from_str(r#"{"mg_per_unit":0,"unit":"ml"}"#);
        assert!(s.is_err());
    }
}
