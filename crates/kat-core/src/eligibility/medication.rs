//! Current medications and their ketamine interaction classes (clinical.md §1.4).
//!
//! kat knows a short list of drugs by name ([`KnownDrug`]) with their interaction
//! classes. The list is a convenience, not a formulary: it must be reviewed by the
//! clinic's pharmacist or medical director, and any drug not on it can be recorded as
//! [`Drug::Other`] with its classes chosen by hand. An `Other` drug whose classes have
//! not been chosen counts as "not yet answered", so it can never silently pass the
//! interaction screen.

use super::intake::ClinicalText;
use crate::dosing::Mg;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The interaction classes named by clinical.md §1.4 (and the oral antidepressant that
/// IND-001/IND-002 need to know about).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionClass {
    /// DDI-001, DDI-004, DDI-010.
    Benzodiazepine,
    /// DDI-001, DDI-010.
    Opioid,
    /// Z-drugs and similar (DDI-001, DDI-010 "non-benzodiazepine sedative hypnotics").
    NonBenzodiazepineSedativeHypnotic,
    /// Any other drug that may cause sedation or respiratory depression (DDI-001, DDI-010).
    OtherSedative,
    /// DDI-002.
    Psychostimulant,
    /// DDI-003.
    Maoi,
    /// DDI-005.
    Lamotrigine,
    /// CYP2B6/CYP3A4 inducer (DDI-006).
    CypInducer,
    /// CYP2B6/CYP3A4 inhibitor (DDI-006).
    CypInhibitor,
    /// Theophylline or aminophylline (DDI-007).
    Theophylline,
    /// Sympathomimetics and vasopressin (DDI-007, second half).
    Sympathomimetic,
    /// DDI-008.
    Levothyroxine,
    /// An oral antidepressant (IND-001 MDSI pathway; IND-002).
    OralAntidepressant,
}

impl InteractionClass {
    pub const ALL: [InteractionClass; 13] = [
        Self::Benzodiazepine,
        Self::Opioid,
        Self::NonBenzodiazepineSedativeHypnotic,
        Self::OtherSedative,
        Self::Psychostimulant,
        Self::Maoi,
        Self::Lamotrigine,
        Self::CypInducer,
        Self::CypInhibitor,
        Self::Theophylline,
        Self::Sympathomimetic,
        Self::Levothyroxine,
        Self::OralAntidepressant,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Benzodiazepine => "benzodiazepine",
            Self::Opioid => "opioid",
            Self::NonBenzodiazepineSedativeHypnotic => "non-benzodiazepine sedative hypnotic",
            Self::OtherSedative => "other sedative / CNS depressant",
            Self::Psychostimulant => "psychostimulant",
            Self::Maoi => "MAOI",
            Self::Lamotrigine => "lamotrigine",
            Self::CypInducer => "CYP2B6/3A4 inducer",
            Self::CypInhibitor => "CYP2B6/3A4 inhibitor",
            Self::Theophylline => "theophylline / aminophylline",
            Self::Sympathomimetic => "sympathomimetic / vasopressin",
            Self::Levothyroxine => "levothyroxine",
            Self::OralAntidepressant => "oral antidepressant",
        }
    }

    /// CNS depressants for DDI-001.
    pub fn is_cns_depressant(self) -> bool {
        matches!(
            self,
            Self::Benzodiazepine | Self::Opioid | Self::NonBenzodiazepineSedativeHypnotic | Self::OtherSedative
        )
    }
}

macro_rules! known_drugs {
    ($( $variant:ident => $name:literal, [$($class:ident),*] ; )*) => {
        /// Drugs kat recognises by name, with their interaction classes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum KnownDrug { $($variant),* }

        impl KnownDrug {
            pub const ALL: &'static [KnownDrug] = &[$(KnownDrug::$variant),*];

            /// The generic name.
            pub fn name(self) -> &'static str {
                match self { $(KnownDrug::$variant => $name),* }
            }

            pub fn classes(self) -> &'static [InteractionClass] {
                match self { $(KnownDrug::$variant => &[$(InteractionClass::$class),*]),* }
            }

            /// Case-insensitive look-up by generic name.
            pub fn from_name(raw: &str) -> Option<Self> {
                let wanted = raw.trim().to_ascii_lowercase();
                Self::ALL.iter().copied().find(|d| d.name() == wanted)
            }
        }
    };
}

known_drugs! {
    // Benzodiazepines
    Alprazolam => "alprazolam", [Benzodiazepine];
    Chlordiazepoxide => "chlordiazepoxide", [Benzodiazepine];
    Clobazam => "clobazam", [Benzodiazepine];
    Clonazepam => "clonazepam", [Benzodiazepine];
    Clorazepate => "clorazepate", [Benzodiazepine];
    Diazepam => "diazepam", [Benzodiazepine];
    Lorazepam => "lorazepam", [Benzodiazepine];
    Midazolam => "midazolam", [Benzodiazepine];
    Oxazepam => "oxazepam", [Benzodiazepine];
    Temazepam => "temazepam", [Benzodiazepine];
    Triazolam => "triazolam", [Benzodiazepine];
    // Opioids
    Buprenorphine => "buprenorphine", [Opioid];
    Codeine => "codeine", [Opioid];
    Fentanyl => "fentanyl", [Opioid];
    Hydrocodone => "hydrocodone", [Opioid];
    Hydromorphone => "hydromorphone", [Opioid];
    Methadone => "methadone", [Opioid];
    Morphine => "morphine", [Opioid];
    Oxycodone => "oxycodone", [Opioid];
    Tapentadol => "tapentadol", [Opioid];
    Tramadol => "tramadol", [Opioid];
    // Non-benzodiazepine sedative hypnotics and other sedatives
    Eszopiclone => "eszopiclone", [NonBenzodiazepineSedativeHypnotic];
    Zaleplon => "zaleplon", [NonBenzodiazepineSedativeHypnotic];
    Zolpidem => "zolpidem", [NonBenzodiazepineSedativeHypnotic];
    Zopiclone => "zopiclone", [NonBenzodiazepineSedativeHypnotic];
    Gabapentin => "gabapentin", [OtherSedative];
    Pregabalin => "pregabalin", [OtherSedative];
    Phenobarbital => "phenobarbital", [OtherSedative, CypInducer];
    // Psychostimulants (DDI-002 names amphetamines, methylphenidate, modafinil, armodafinil)
    Amphetamine => "amphetamine", [Psychostimulant];
    Dextroamphetamine => "dextroamphetamine", [Psychostimulant];
    Lisdexamfetamine => "lisdexamfetamine", [Psychostimulant];
    Methylphenidate => "methylphenidate", [Psychostimulant];
    Dexmethylphenidate => "dexmethylphenidate", [Psychostimulant];
    Modafinil => "modafinil", [Psychostimulant];
    Armodafinil => "armodafinil", [Psychostimulant];
    // MAOIs (also antidepressants)
    Isocarboxazid => "isocarboxazid", [Maoi, OralAntidepressant];
    Phenelzine => "phenelzine", [Maoi, OralAntidepressant];
    Tranylcypromine => "tranylcypromine", [Maoi, OralAntidepressant];
    Moclobemide => "moclobemide", [Maoi, OralAntidepressant];
    Selegiline => "selegiline", [Maoi];
    // Others named in §1.4
    Lamotrigine => "lamotrigine", [Lamotrigine];
    Carbamazepine => "carbamazepine", [CypInducer];
    Phenytoin => "phenytoin", [CypInducer];
    Rifampicin => "rifampicin", [CypInducer];
    StJohnsWort => "st john's wort", [CypInducer];
    Clarithromycin => "clarithromycin", [CypInhibitor];
    Itraconazole => "itraconazole", [CypInhibitor];
    Ketoconazole => "ketoconazole", [CypInhibitor];
    Ritonavir => "ritonavir", [CypInhibitor];
    Ticlopidine => "ticlopidine", [CypInhibitor];
    Theophylline => "theophylline", [Theophylline];
    Aminophylline => "aminophylline", [Theophylline];
    Pseudoephedrine => "pseudoephedrine", [Sympathomimetic];
    Phenylephrine => "phenylephrine", [Sympathomimetic];
    Ephedrine => "ephedrine", [Sympathomimetic];
    Vasopressin => "vasopressin", [Sympathomimetic];
    Levothyroxine => "levothyroxine", [Levothyroxine];
    // Oral antidepressants
    Bupropion => "bupropion", [OralAntidepressant];
    Citalopram => "citalopram", [OralAntidepressant];
    Desvenlafaxine => "desvenlafaxine", [OralAntidepressant];
    Duloxetine => "duloxetine", [OralAntidepressant];
    Escitalopram => "escitalopram", [OralAntidepressant];
    Fluoxetine => "fluoxetine", [OralAntidepressant];
    Mirtazapine => "mirtazapine", [OralAntidepressant];
    Paroxetine => "paroxetine", [OralAntidepressant];
    Sertraline => "sertraline", [OralAntidepressant];
    Venlafaxine => "venlafaxine", [OralAntidepressant];
    Vortioxetine => "vortioxetine", [OralAntidepressant];
}

impl fmt::Display for KnownDrug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A drug: one kat knows, or another with its classes chosen by hand.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Drug {
    Known(KnownDrug),
    Other {
        name: ClinicalText,
        /// `None` = classes not yet chosen (the drug cannot pass the interaction
        /// screen); `Some(empty)` = reviewed, no ketamine interaction class.
        classes: Option<Vec<InteractionClass>>,
    },
}

impl Drug {
    /// Its classes, or `None` when an `Other` drug's classes were not chosen.
    pub fn classes(&self) -> Option<&[InteractionClass]> {
        match self {
            Drug::Known(d) => Some(d.classes()),
            Drug::Other { classes, .. } => classes.as_deref(),
        }
    }

    pub fn has_class(&self, class: InteractionClass) -> bool {
        self.classes().is_some_and(|c| c.contains(&class))
    }

    pub fn name(&self) -> &str {
        match self {
            Drug::Known(d) => d.name(),
            Drug::Other { name, .. } => name.as_str(),
        }
    }
}

impl fmt::Debug for Drug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Drug([redacted])")
    }
}

/// One current medication.
#[derive(Clone, PartialEq, Serialize)]
pub struct Medication {
    pub drug: Drug,
    /// Total daily dose in mg (for as-needed use, the usual maximum per day). `None` =
    /// not yet answered; needed for benzodiazepines (DDI-004).
    pub total_daily_dose: Option<Mg>,
}

impl fmt::Debug for Medication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Medication([redacted])")
    }
}

/// Factors converting a benzodiazepine's mg to diazepam-equivalent mg (DDI-004).
///
/// **clinical.md gives no conversion factors**, so this table is clinic policy (the
/// versioned eligibility policy, edited on the Policy page). Its default is the published
/// oral equivalence table of the Ashton Manual (Ashton CH, *Benzodiazepines: How They Work
/// and How to Withdraw*, 2002, Table 1: doses approximately equivalent to diazepam 10 mg)
/// for the common benzodiazepines ([`ASHTON_EQUIVALENTS`]). Equivalences are
/// approximate and vary between tables and patients; the medical director may replace
/// them. A benzodiazepine without a factor makes the daily diazepam-equivalent
/// uncomputable, which the evaluation reports for prescriber review instead of guessing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<(KnownDrug, f64)>", into = "Vec<(KnownDrug, f64)>")]
pub struct BenzodiazepineEquivalents {
    /// (drug, diazepam mg per 1 mg of the drug).
    factors: Vec<(KnownDrug, f64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EquivalenceError {
    #[error("{0} is not a benzodiazepine")]
    NotABenzodiazepine(KnownDrug),
    #[error("the factor for {0} must be a finite number above 0")]
    BadFactor(KnownDrug),
    #[error("{0} is listed twice")]
    Duplicate(KnownDrug),
}

impl BenzodiazepineEquivalents {
    pub fn new(factors: Vec<(KnownDrug, f64)>) -> Result<Self, EquivalenceError> {
        for (i, (drug, factor)) in factors.iter().enumerate() {
            if !drug.classes().contains(&InteractionClass::Benzodiazepine) {
                return Err(EquivalenceError::NotABenzodiazepine(*drug));
            }
            if !factor.is_finite() || *factor <= 0.0 {
                return Err(EquivalenceError::BadFactor(*drug));
            }
            if factors[..i].iter().any(|(d, _)| d == drug) {
                return Err(EquivalenceError::Duplicate(*drug));
            }
        }
        Ok(Self { factors })
    }

    pub fn factor(&self, drug: KnownDrug) -> Option<f64> {
        self.factors.iter().find(|(d, _)| *d == drug).map(|(_, f)| *f)
    }

    pub fn factors(&self) -> &[(KnownDrug, f64)] {
        &self.factors
    }
}

impl TryFrom<Vec<(KnownDrug, f64)>> for BenzodiazepineEquivalents {
    type Error = EquivalenceError;
    fn try_from(factors: Vec<(KnownDrug, f64)>) -> Result<Self, EquivalenceError> {
        Self::new(factors)
    }
}

impl From<BenzodiazepineEquivalents> for Vec<(KnownDrug, f64)> {
    fn from(table: BenzodiazepineEquivalents) -> Self {
        table.factors
    }
}

/// The Ashton Manual's approximate oral equivalents of diazepam 10 mg (Ashton CH,
/// *Benzodiazepines: How They Work and How to Withdraw*, 2002, Table 1), as (drug, mg of
/// the drug equivalent to diazepam 10 mg). The default of [`BenzodiazepineEquivalents`].
pub const ASHTON_EQUIVALENTS: &[(KnownDrug, f64)] = &[
    (KnownDrug::Diazepam, 10.0),
    (KnownDrug::Lorazepam, 1.0),
    (KnownDrug::Alprazolam, 0.5),
    (KnownDrug::Clonazepam, 0.5),
    (KnownDrug::Temazepam, 20.0),
    (KnownDrug::Oxazepam, 20.0),
    (KnownDrug::Chlordiazepoxide, 25.0),
];

impl Default for BenzodiazepineEquivalents {
    /// Diazepam mg per 1 mg of each drug in [`ASHTON_EQUIVALENTS`] (10 mg ÷ the drug's
    /// equivalent dose).
    fn default() -> Self {
        Self { factors: ASHTON_EQUIVALENTS.iter().map(|(drug, equivalent)| (*drug, 10.0 / equivalent)).collect() }
    }
}

/// The computed daily diazepam-equivalent (DDI-004).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DiazepamEquivalent {
    /// No benzodiazepine on the medication list.
    NoBenzodiazepine,
    /// Computed from every benzodiazepine's dose and factor.
    Computed { mg_per_day: f64 },
    /// At least one benzodiazepine lacks a dose (`missing_dose`) or a configured factor
    /// (`no_factor`); `partial_mg_per_day` sums the rest and is a lower bound.
    Uncomputable { partial_mg_per_day: f64, missing_dose: Vec<String>, no_factor: Vec<String> },
}

/// Sums the daily diazepam-equivalent over every benzodiazepine in `medications`.
pub fn diazepam_equivalent(medications: &[Medication], table: &BenzodiazepineEquivalents) -> DiazepamEquivalent {
    let mut total = 0.0;
    let mut any = false;
    let mut missing_dose = Vec::new();
    let mut no_factor = Vec::new();
    for med in medications {
        if !med.drug.has_class(InteractionClass::Benzodiazepine) {
            continue;
        }
        any = true;
        let factor = match &med.drug {
            Drug::Known(d) => table.factor(*d),
            Drug::Other { .. } => None,
        };
        match (med.total_daily_dose, factor) {
            (Some(dose), Some(factor)) => total += dose.value() * factor,
            (dose, factor) => {
                if dose.is_none() {
                    missing_dose.push(med.drug.name().to_string());
                }
                if factor.is_none() {
                    no_factor.push(med.drug.name().to_string());
                }
            }
        }
    }
    if !any {
        DiazepamEquivalent::NoBenzodiazepine
    } else if missing_dose.is_empty() && no_factor.is_empty() {
        DiazepamEquivalent::Computed { mg_per_day: total }
    } else {
        DiazepamEquivalent::Uncomputable { partial_mg_per_day: total, missing_dose, no_factor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn med(drug: KnownDrug, mg: Option<f64>) -> Medication {
        Medication { drug: Drug::Known(drug), total_daily_dose: mg.map(|m| Mg::new(m).unwrap()) }
    }

    #[test]
    fn every_known_drug_has_a_class_and_a_unique_lowercase_name() {
        for (i, d) in KnownDrug::ALL.iter().enumerate() {
            assert!(!d.classes().is_empty(), "{d}");
            assert_eq!(d.name(), d.name().to_ascii_lowercase());
            assert_eq!(KnownDrug::from_name(&d.name().to_uppercase()), Some(*d));
            assert!(!KnownDrug::ALL[..i].iter().any(|o| o.name() == d.name()));
        }
    }

    #[test]
    fn default_table_is_the_ashton_manual() {
        let table = BenzodiazepineEquivalents::default();
        assert!(BenzodiazepineEquivalents::new(table.factors().to_vec()).is_ok(), "the default is a valid table");
        assert_eq!(
            diazepam_equivalent(&[med(KnownDrug::Diazepam, Some(5.0)), med(KnownDrug::Diazepam, Some(4.0))], &table),
            DiazepamEquivalent::Computed { mg_per_day: 9.0 }
        );
        // Each drug's Ashton dose is 10 mg of diazepam.
        for (drug, mg) in [
            (KnownDrug::Lorazepam, 1.0),
            (KnownDrug::Alprazolam, 0.5),
            (KnownDrug::Clonazepam, 0.5),
            (KnownDrug::Temazepam, 20.0),
            (KnownDrug::Oxazepam, 20.0),
            (KnownDrug::Chlordiazepoxide, 25.0),
        ] {
            match diazepam_equivalent(&[med(drug, Some(mg))], &table) {
                DiazepamEquivalent::Computed { mg_per_day } => {
                    assert!((mg_per_day - 10.0).abs() < 1e-9, "{drug:?}: {mg_per_day}")
                }
                other => panic!("{drug:?}: {other:?}"),
            }
        }
        // A benzodiazepine the table does not hold stays uncomputable.
        match diazepam_equivalent(&[med(KnownDrug::Triazolam, Some(0.25))], &table) {
            DiazepamEquivalent::Uncomputable { no_factor, .. } => {
                assert_eq!(no_factor, vec!["triazolam"])
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            diazepam_equivalent(&[med(KnownDrug::Sertraline, Some(100.0))], &table),
            DiazepamEquivalent::NoBenzodiazepine
        );
    }

    #[test]
    fn configured_factor_is_used_and_missing_dose_is_reported() {
        // A clinic-configured table (test factors, not a recommendation).
        let table =
            BenzodiazepineEquivalents::new(vec![(KnownDrug::Diazepam, 1.0), (KnownDrug::Lorazepam, 10.0)]).unwrap();
        assert_eq!(
            diazepam_equivalent(&[med(KnownDrug::Lorazepam, Some(0.5)), med(KnownDrug::Diazepam, Some(2.0))], &table),
            DiazepamEquivalent::Computed { mg_per_day: 7.0 }
        );
        match diazepam_equivalent(&[med(KnownDrug::Lorazepam, None)], &table) {
            DiazepamEquivalent::Uncomputable { missing_dose, .. } => {
                assert_eq!(missing_dose, vec!["lorazepam"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn table_rejects_bad_entries() {
        assert!(BenzodiazepineEquivalents::new(vec![(KnownDrug::Sertraline, 1.0)]).is_err());
        assert!(BenzodiazepineEquivalents::new(vec![(KnownDrug::Lorazepam, 0.0)]).is_err());
        assert!(BenzodiazepineEquivalents::new(vec![(KnownDrug::Lorazepam, f64::NAN)]).is_err());
        assert!(
            BenzodiazepineEquivalents::new(vec![(KnownDrug::Lorazepam, 1.0), (KnownDrug::Lorazepam, 2.0)]).is_err()
        );
    }
}
