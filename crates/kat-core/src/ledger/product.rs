//! What a container holds: the substance, its NDC, strength and dosage form (DEA-003,
//! DEA-004, DEA-011), and for esketamine the REMS channel it came through (DEA-013).

use super::quantity::{StockUnit, Strength};
use crate::dosing::session::ShortText;
use crate::field::FieldErrors;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A National Drug Code, kept in its 11-digit 5-4-2 form so two spellings of one code
/// compare equal (DEA-011 asks for the NDC of every item lost).
///
/// The format is the FDA's, not the clinical reference's: ten digits in three segments
/// (4-4-2, 5-3-2 or 5-4-1, written with hyphens because ten bare digits are ambiguous),
/// or the 11-digit 5-4-2 form with or without hyphens. A ten-digit code is padded with a
/// leading zero in its short segment.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ndc(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NdcError {
    #[error("is required")]
    Empty,
    #[error("is not an NDC: write 10 digits as 4-4-2, 5-3-2 or 5-4-1 with hyphens, or 11 digits (5-4-2)")]
    Format,
}

impl Ndc {
    pub fn parse(raw: &str) -> Result<Self, NdcError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(NdcError::Empty);
        }
        let parts: Vec<&str> = text.split('-').collect();
        if parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            return Err(NdcError::Format);
        }
        let pad = |s: &str, n: usize| format!("{s:0>n$}");
        let digits = match parts.as_slice() {
            [all] if all.len() == 11 => (*all).to_string(),
            [a, b, c] => match (a.len(), b.len(), c.len()) {
                (5, 4, 2) => format!("{a}{b}{c}"),
                (4, 4, 2) => format!("{}{b}{c}", pad(a, 5)),
                (5, 3, 2) => format!("{a}{}{c}", pad(b, 4)),
                (5, 4, 1) => format!("{a}{b}{}", pad(c, 2)),
                _ => return Err(NdcError::Format),
            },
            _ => return Err(NdcError::Format),
        };
        Ok(Self(digits))
    }

    /// The 11 digits, without hyphens.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ndc {
    /// The 5-4-2 form with hyphens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", &self.0[..5], &self.0[5..9], &self.0[9..])
    }
}

impl fmt::Debug for Ndc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ndc({self})")
    }
}

impl TryFrom<String> for Ndc {
    type Error = NdcError;
    fn try_from(raw: String) -> Result<Self, NdcError> {
        Self::parse(&raw)
    }
}

impl From<Ndc> for String {
    fn from(n: Ndc) -> String {
        n.to_string()
    }
}

/// The controlled substance. Both are Schedule III (DEA-001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Substance {
    /// Racemic ketamine.
    Ketamine,
    /// Esketamine (SPRAVATO), with its REMS chain (DEA-013).
    Esketamine,
}

impl Substance {
    pub fn as_str(self) -> &'static str {
        match self {
            Substance::Ketamine => "ketamine",
            Substance::Esketamine => "esketamine",
        }
    }
}

/// The finished dosage form (DEA-003, DEA-004), which decides how stock is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DosageForm {
    /// Solution for injection or infusion, in vials (mL).
    Injection,
    /// A single-use nasal spray device: esketamine, 28 mg each (DOSE-IN-001).
    NasalSprayDevice,
    /// A compounded nasal solution (mL).
    NasalSolution,
    /// An oral solution (mL).
    OralSolution,
    /// Tablets, rapid-dissolve tablets (units).
    Tablet,
    /// Lozenges or troches (units).
    Lozenge,
}

impl DosageForm {
    pub const ALL: [DosageForm; 6] = [
        DosageForm::Injection,
        DosageForm::NasalSprayDevice,
        DosageForm::NasalSolution,
        DosageForm::OralSolution,
        DosageForm::Tablet,
        DosageForm::Lozenge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DosageForm::Injection => "injection",
            DosageForm::NasalSprayDevice => "nasal_spray_device",
            DosageForm::NasalSolution => "nasal_solution",
            DosageForm::OralSolution => "oral_solution",
            DosageForm::Tablet => "tablet",
            DosageForm::Lozenge => "lozenge",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// Solutions are counted by volume, devices, tablets and lozenges by the unit.
    pub fn unit(self) -> StockUnit {
        match self {
            DosageForm::Injection | DosageForm::NasalSolution | DosageForm::OralSolution => StockUnit::Ml,
            DosageForm::NasalSprayDevice | DosageForm::Tablet | DosageForm::Lozenge => StockUnit::Unit,
        }
    }
}

/// A product as received: name, substance, NDC, strength and form (DEA-003). Built by
/// [`LedgerProduct::new`], which keeps the strength in the form's unit and esketamine in
/// its nasal spray devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ProductFields")]
pub struct LedgerProduct {
    name: ShortText,
    substance: Substance,
    ndc: Ndc,
    strength: Strength,
    form: DosageForm,
}

#[derive(Deserialize)]
struct ProductFields {
    name: ShortText,
    substance: Substance,
    ndc: Ndc,
    strength: Strength,
    form: DosageForm,
}

impl TryFrom<ProductFields> for LedgerProduct {
    type Error = FieldErrors;
    fn try_from(f: ProductFields) -> Result<Self, FieldErrors> {
        LedgerProduct::new(f.name, f.substance, f.ndc, f.strength, f.form)
    }
}

impl LedgerProduct {
    /// Checks that the strength is per the form's unit (mg/mL for a solution, mg per
    /// device or tablet), and that esketamine is the nasal spray device and the device is
    /// esketamine (DEA-013, DOSE-IN-001).
    pub fn new(
        name: ShortText,
        substance: Substance,
        ndc: Ndc,
        strength: Strength,
        form: DosageForm,
    ) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        if strength.unit() != form.unit() {
            let per = match form.unit() {
                StockUnit::Ml => "mg per mL",
                StockUnit::Unit => "mg per unit",
            };
            e.add("strength", format!("a {} is measured in {per}", form.as_str().replace('_', " ")));
        }
        match (substance, form) {
            (Substance::Esketamine, DosageForm::NasalSprayDevice) | (Substance::Ketamine, _) => {}
            (Substance::Esketamine, _) => {
                e.add("form", "esketamine (SPRAVATO) comes as nasal spray devices (DEA-013, DOSE-IN-001)")
            }
        }
        if substance == Substance::Ketamine && form == DosageForm::NasalSprayDevice {
            e.add(
                "form",
                "a nasal spray device is esketamine (SPRAVATO); compounded racemic nasal ketamine is a nasal solution",
            );
        }
        e.into_result(|| Self { name, substance, ndc, strength, form })
    }

    pub fn name(&self) -> &ShortText {
        &self.name
    }
    pub fn substance(&self) -> Substance {
        self.substance
    }
    pub fn ndc(&self) -> &Ndc {
        &self.ndc
    }
    pub fn strength(&self) -> Strength {
        self.strength
    }
    pub fn form(&self) -> DosageForm {
        self.form
    }
    pub fn unit(&self) -> StockUnit {
        self.form.unit()
    }
}

/// Where esketamine came from (DEA-013): a REMS-certified pharmacy (patient-specific) or
/// a REMS-qualified distributor (bulk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemsChannel {
    CertifiedPharmacy,
    QualifiedDistributor,
}

/// The REMS source of an esketamine receipt (DEA-013).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemsSource {
    pub channel: RemsChannel,
    /// The pharmacy's or distributor's name as REMS lists it.
    pub name: ShortText,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcs_in_every_segmentation_compare_equal() {
        let n = |s: &str| Ndc::parse(s).unwrap();
        assert_eq!(n("50458-028-02"), n("50458-0028-02"), "5-3-2");
        assert_eq!(n("50458-028-02").to_string(), "50458-0028-02");
        assert_eq!(n("50458002802").digits(), "50458002802");
        assert_eq!(n("1234-5678-90").to_string(), "01234-5678-90", "4-4-2");
        assert_eq!(n("12345-6789-0").to_string(), "12345-6789-00", "5-4-1");
        for bad in ["5045802802", "50458-28-02", "50458-0028-002", "ABCDE-0028-02", "50458--02", ""] {
            assert!(Ndc::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_product_keeps_its_strength_in_its_forms_unit() {
        let name = ShortText::parse("Ketamine HCl 50 mg/mL, 10 mL vial").unwrap();
        let ndc = Ndc::parse("42023-113-10").unwrap();
        let per_ml = Strength::parse("50", StockUnit::Ml).unwrap();
        let per_unit = Strength::parse("28", StockUnit::Unit).unwrap();
        assert!(
            LedgerProduct::new(name.clone(), Substance::Ketamine, ndc.clone(), per_ml, DosageForm::Injection).is_ok()
        );
        let e = LedgerProduct::new(name.clone(), Substance::Ketamine, ndc.clone(), per_unit, DosageForm::Injection)
            .unwrap_err();
        assert!(e.for_field("strength").is_some());
        let e = LedgerProduct::new(name.clone(), Substance::Esketamine, ndc.clone(), per_ml, DosageForm::Injection)
            .unwrap_err();
        assert!(e.for_field("form").unwrap().contains("DEA-013"));
        let e =
            LedgerProduct::new(name.clone(), Substance::Ketamine, ndc.clone(), per_unit, DosageForm::NasalSprayDevice)
                .unwrap_err();
        assert!(e.for_field("form").is_some());
        let p = LedgerProduct::new(name, Substance::Esketamine, ndc, per_unit, DosageForm::NasalSprayDevice).unwrap();
        assert_eq!(p.unit(), StockUnit::Unit);
    }
}
