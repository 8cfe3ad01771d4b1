//! The intake record: everything clinical.md §1 needs to decide eligibility.
//!
//! **Every answer can be "not yet answered".** Each field is an `Option`; `None` means
//! the question has not been answered (or the answer is "unknown", which settles nothing
//! either). The evaluation treats `None` as missing data whenever a rule needs it, so a
//! missing answer can never silently pass. Lists are `Option<Vec<_>>`: `None` = not yet
//! asked, `Some(vec![])` = asked, none.
//!
//! Every record type holds protected health information and has a redacted `Debug`.

use super::medication::Medication;
use super::units::{ImprovementPercent, MmseScore, Occasions, Weeks};
use crate::dosing::{Bmi, HeightCm, Kg, Mg};
use crate::monitoring::vitals::{BloodPressure, HeartRate, RespiratoryRate, SpO2};
use crate::patient::{BirthDate, Phone};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! redacted_debug {
    ($($name:ident),* $(,)?) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}([redacted])", stringify!($name))
            }
        }
    )*};
}

/// Free clinical text (a symptom, a goal in the patient's words, a drug name): trimmed,
/// 1 to 2000 characters, no control characters other than line breaks and tabs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClinicalText(String);
redacted_debug!(ClinicalText);

impl ClinicalText {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err("contains control characters".into());
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClinicalText {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<ClinicalText> for String {
    fn from(text: ClinicalText) -> String {
        text.0
    }
}

impl fmt::Display for ClinicalText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------------------
// Referral and indication
// ---------------------------------------------------------------------------------------

/// A SNOMED CT concept id (`http://snomed.info/sct`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SnomedCode(pub &'static str);

impl SnomedCode {
    pub const SYSTEM: &'static str = "http://snomed.info/sct";
    /// Major depressive disorder (disorder), instruments.md §11.3 (☑️).
    pub const MAJOR_DEPRESSIVE_DISORDER: SnomedCode = SnomedCode("370143000");
    /// Posttraumatic stress disorder (disorder), instruments.md §11.3 (✅).
    pub const PTSD: SnomedCode = SnomedCode("47505003");
    /// Generalized anxiety disorder (disorder), instruments.md §11.3 (☑️).
    pub const GENERALIZED_ANXIETY_DISORDER: SnomedCode = SnomedCode("21897009");
}

/// Which anxiety disorder (only generalised anxiety disorder has a SNOMED code in the
/// spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnxietyKind {
    Generalized,
    Other,
}

/// The referral indication (clinical.md §1.1).
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Indication {
    /// Treatment-resistant depression (IND-001a, IND-005).
    TreatmentResistantDepression,
    /// Major depressive disorder with acute suicidal ideation or behaviour (IND-001b).
    MddWithSuicidalIdeation,
    /// Bipolar depression, depressive phase (IND-011).
    BipolarDepression,
    /// PTSD (IND-008).
    Ptsd,
    /// Complex PTSD (IND-008, treated as PTSD for evidence flags).
    ComplexPtsd,
    /// Anxiety disorders (IND-009).
    AnxietyDisorder(AnxietyKind),
    /// Alcohol use disorder (IND-010).
    AlcoholUseDisorder,
    /// Anything else, described.
    Other(ClinicalText),
}
redacted_debug!(Indication);

impl Indication {
    /// The SNOMED CT concept to code the Condition with, where instruments.md §11.3 gives
    /// one. TRD and MDSI are coded as major depressive disorder with the text in
    /// `Condition.code.text` (no TRD concept was confirmed). Bipolar depression, complex
    /// PTSD, alcohol use disorder, non-generalised anxiety and "other" have no code in the
    /// spec and return `None` (kat does not invent codes).
    pub fn snomed(&self) -> Option<SnomedCode> {
        match self {
            Self::TreatmentResistantDepression | Self::MddWithSuicidalIdeation => {
                Some(SnomedCode::MAJOR_DEPRESSIVE_DISORDER)
            }
            Self::Ptsd => Some(SnomedCode::PTSD),
            Self::AnxietyDisorder(AnxietyKind::Generalized) => Some(SnomedCode::GENERALIZED_ANXIETY_DISORDER),
            Self::ComplexPtsd
            | Self::BipolarDepression
            | Self::AnxietyDisorder(AnxietyKind::Other)
            | Self::AlcoholUseDisorder
            | Self::Other(_) => None,
        }
    }

    /// Text for `Condition.code.text` and for people.
    pub fn label(&self) -> String {
        match self {
            Self::TreatmentResistantDepression => "treatment-resistant depression".into(),
            Self::MddWithSuicidalIdeation => {
                "major depressive disorder with acute suicidal ideation or behaviour".into()
            }
            Self::BipolarDepression => "bipolar depression".into(),
            Self::Ptsd => "posttraumatic stress disorder".into(),
            Self::ComplexPtsd => "complex posttraumatic stress disorder".into(),
            Self::AnxietyDisorder(AnxietyKind::Generalized) => "generalized anxiety disorder".into(),
            Self::AnxietyDisorder(AnxietyKind::Other) => "anxiety disorder".into(),
            Self::AlcoholUseDisorder => "alcohol use disorder".into(),
            Self::Other(text) => format!("other: {}", text.as_str()),
        }
    }

    /// A depressive indication (the diagnoses with the strongest evidence, IND-007).
    pub fn is_unipolar_depressive(&self) -> bool {
        matches!(self, Self::TreatmentResistantDepression | Self::MddWithSuicidalIdeation)
    }
}

/// At least one indication.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Indications(Vec<Indication>);
redacted_debug!(Indications);

impl Indications {
    pub fn new(list: Vec<Indication>) -> Result<Self, String> {
        if list.is_empty() {
            return Err("at least one indication is required".into());
        }
        Ok(Self(list))
    }

    pub fn as_slice(&self) -> &[Indication] {
        &self.0
    }

    pub fn contains(&self, wanted: impl Fn(&Indication) -> bool) -> bool {
        self.0.iter().any(wanted)
    }
}

/// The product the referral intends (decides which label rules apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntendedProduct {
    /// Esketamine nasal spray (SPRAVATO), on-label.
    Esketamine,
    /// Racemic ketamine by any route, off-label for psychiatry.
    RacemicKetamine,
    /// Not yet decided: rules of both apply as warnings.
    Undecided,
}

/// Referral, symptoms and goals.
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct Referral {
    pub indications: Option<Indications>,
    pub intended_product: Option<IntendedProduct>,
    pub presenting_symptoms: Option<Vec<ClinicalText>>,
    /// Goals in the patient's own words.
    pub goals: Option<Vec<ClinicalText>>,
}
redacted_debug!(Referral);

// ---------------------------------------------------------------------------------------
// Prior antidepressant trials (IND-005)
// ---------------------------------------------------------------------------------------

/// The outcome of a prior antidepressant trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialResponse {
    /// ≥50 % improvement.
    Responded,
    /// <50 % improvement (no adequate response).
    NoAdequateResponse,
    /// Measured improvement from baseline on a rating scale.
    Improvement(ImprovementPercent),
}

impl TrialResponse {
    /// "No adequate response (<50 % improvement)", IND-005 \[V\].
    pub fn is_inadequate(self) -> bool {
        match self {
            Self::Responded => false,
            Self::NoAdequateResponse => true,
            Self::Improvement(p) => p.get() < 50,
        }
    }
}

/// One prior antidepressant trial.
#[derive(Clone, PartialEq, Serialize)]
pub struct AntidepressantTrial {
    pub drug: ClinicalText,
    pub daily_dose: Option<Mg>,
    pub duration: Option<Weeks>,
    pub response: Option<TrialResponse>,
    /// Whether the trial was in the current depressive episode.
    pub in_current_episode: Option<bool>,
    /// The clinician's judgement that dose and duration were adequate. The spec gives
    /// no per-drug minimum doses, so this is attested; a minimum duration can be added by
    /// policy (`adequate_trial_min_weeks`).
    pub adequate_dose_and_duration: Option<bool>,
}
redacted_debug!(AntidepressantTrial);

// ---------------------------------------------------------------------------------------
// Psychiatric history
// ---------------------------------------------------------------------------------------

/// Mania or hypomania.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManiaHistory {
    Never,
    Past,
    /// Active now (RCI-002).
    Current,
}

/// A substance, for the substance-use history (RCI-003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Substance {
    Alcohol,
    Opioids,
    Ketamine,
    /// Phencyclidine.
    Pcp,
    Cannabis,
    Stimulants,
    SedativesOrBenzodiazepines,
    Hallucinogens,
    Tobacco,
    Other,
}

impl Substance {
    pub fn label(self) -> &'static str {
        match self {
            Self::Alcohol => "alcohol",
            Self::Opioids => "opioids",
            Self::Ketamine => "ketamine",
            Self::Pcp => "PCP",
            Self::Cannabis => "cannabis",
            Self::Stimulants => "stimulants",
            Self::SedativesOrBenzodiazepines => "sedatives / benzodiazepines",
            Self::Hallucinogens => "hallucinogens",
            Self::Tobacco => "tobacco",
            Self::Other => "other substance",
        }
    }
}

/// When something last happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LastOccurrence {
    /// Ongoing now.
    Ongoing,
    /// Last on (or about) this date.
    On(Date),
}

impl LastOccurrence {
    /// True when it is ongoing or happened on or after `since`.
    pub fn on_or_after(self, since: Date) -> bool {
        match self {
            Self::Ongoing => true,
            Self::On(date) => date >= since,
        }
    }
}

impl fmt::Display for LastOccurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ongoing => f.write_str("ongoing"),
            Self::On(d) => write!(f, "{d}"),
        }
    }
}

/// DSM-5 substance use disorder severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SudSeverity {
    Mild,
    Moderate,
    Severe,
}

/// Whether the patient has ever met criteria for a use disorder of this substance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UseDisorder {
    Never,
    Ever {
        /// Highest severity reached; `None` = not yet answered.
        severity: Option<SudSeverity>,
        /// When criteria were last met; `None` = not yet answered.
        criteria_last_met: Option<LastOccurrence>,
    },
}

/// Use of one substance. A substance-use list that has been answered names every
/// substance the patient has ever used beyond trivial experimentation; a substance not
/// listed was asked about and denied.
#[derive(Clone, PartialEq, Serialize)]
pub struct SubstanceUse {
    pub substance: Substance,
    pub last_use: Option<LastOccurrence>,
    /// Occasions of use in the past 12 months.
    pub uses_past_year: Option<Occasions>,
    pub use_disorder: Option<UseDisorder>,
}
redacted_debug!(SubstanceUse);

/// Personality disorder (RCI-012).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalityDisorder {
    None,
    Present {
        /// Severe enough to interfere with cooperation; `None` = not yet answered.
        severe_interfering_with_cooperation: Option<bool>,
    },
}

/// Psychiatric history.
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct PsychiatricHistory {
    /// Known or suspected schizophrenia (CI-007).
    pub schizophrenia_known_or_suspected: Option<bool>,
    /// Current psychosis, including psychotic features in the current episode (RCI-001).
    pub psychosis_current: Option<bool>,
    /// Any past psychotic episode or disorder (RCI-001).
    pub psychosis_past: Option<bool>,
    /// Psychotic disorder in a first-degree relative (RCI-001).
    pub psychosis_first_degree_relative: Option<bool>,
    pub mania_or_hypomania: Option<ManiaHistory>,
    /// A bipolar disorder diagnosis (IND-011).
    pub bipolar_disorder: Option<bool>,
    /// `Some(vec![])` = asked, no substance use.
    pub substance_use: Option<Vec<SubstanceUse>>,
    /// Acutely intoxicated or in withdrawal at assessment (RCI-003).
    pub intoxicated_or_in_withdrawal: Option<bool>,
    pub personality_disorder: Option<PersonalityDisorder>,
    /// Dementia or another major neurocognitive disorder (RCI-010).
    pub neurocognitive_disorder: Option<bool>,
}
redacted_debug!(PsychiatricHistory);

/// Highest level of suicidal ideation in the past month (C-SSRS screener items 1–5,
/// instruments.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuicidalIdeation {
    None,
    /// Q1.
    WishToBeDead,
    /// Q2.
    ActiveNonSpecific,
    /// Q3: with method, no intent.
    ActiveWithMethod,
    /// Q4: with some intent to act, without a specific plan.
    ActiveWithIntent,
    /// Q5: with a specific plan and intent.
    ActiveWithPlanAndIntent,
}

impl SuicidalIdeation {
    /// Q4 or Q5: the C-SSRS high-risk ideation answers (intent, with or without a plan).
    pub fn has_intent(self) -> bool {
        matches!(self, Self::ActiveWithIntent | Self::ActiveWithPlanAndIntent)
    }
}

/// Lifetime suicidal behaviour (C-SSRS screener item 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuicidalBehaviour {
    Never,
    Ever {
        /// Date of the most recent act (or preparation); `None` = not yet answered.
        most_recent: Option<Date>,
    },
}

/// Suicide-risk screen at intake.
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct Suicidality {
    pub ideation_past_month: Option<SuicidalIdeation>,
    pub behaviour: Option<SuicidalBehaviour>,
}
redacted_debug!(Suicidality);

// ---------------------------------------------------------------------------------------
// Medical history
// ---------------------------------------------------------------------------------------

/// Hypertension and its control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hypertension {
    None,
    /// Treated and controlled (not exclusionary, RCI-004).
    Controlled,
    /// Treated but poorly controlled.
    PoorlyControlled,
    Untreated,
}

/// A condition that may be stable or unstable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stability {
    None,
    Stable,
    Unstable,
}

/// Thyroid status (CI-006, RCI-006).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThyroidStatus {
    None,
    Hypothyroidism,
    HyperthyroidismControlled,
    /// Untreated or insufficiently treated hyperthyroidism (CI-006, Swiss label).
    HyperthyroidismUntreatedOrInsufficientlyTreated,
    OtherThyroidDisease,
}

/// Child–Pugh class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChildPugh {
    A,
    B,
    C,
}

/// Hepatic disease (RCI-007).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HepaticDisease {
    None,
    Present {
        /// `None` = not yet classified.
        child_pugh: Option<ChildPugh>,
    },
}

/// Brain injury.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrainInjury {
    None,
    /// Past injury, no current symptoms.
    PastAsymptomatic,
    /// Symptomatic traumatic brain injury (RCI-010).
    Symptomatic,
    /// Recent (acute) cerebral trauma (CI-006, UK Ketalar SmPC).
    AcuteCerebralTrauma,
}

/// Medical history: every condition named in clinical.md §1.2 and §1.3.
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct MedicalHistory {
    /// Aneurysmal vascular disease: thoracic or abdominal aorta, intracranial or
    /// peripheral arteries (CI-001).
    pub aneurysmal_vascular_disease: Option<bool>,
    /// Arteriovenous malformation (CI-002).
    pub arteriovenous_malformation: Option<bool>,
    /// History of intracerebral haemorrhage (CI-003).
    pub intracerebral_haemorrhage: Option<bool>,
    /// Clinician's attestation that a significant rise in blood pressure or intracranial
    /// pressure would be a serious hazard for this patient (CI-005; no number exists).
    pub bp_or_icp_rise_serious_hazard: Option<bool>,
    pub hypertension: Option<Hypertension>,
    /// Prior cerebrovascular insult / stroke (CI-006).
    pub prior_cerebrovascular_accident: Option<bool>,
    /// Severe coronary or myocardial disease (CI-006, UK SmPC).
    pub severe_coronary_or_myocardial_disease: Option<bool>,
    /// Significant arrhythmia (RCI-004).
    pub significant_arrhythmia: Option<bool>,
    /// Other cardiovascular disease (RCI-004).
    pub cardiovascular_disease: Option<Stability>,
    /// Other cerebrovascular disease (RCI-004).
    pub cerebrovascular_disease: Option<Stability>,
    /// Raised intracranial pressure or an intracranial mass (RCI-005).
    pub raised_intracranial_pressure_or_mass: Option<bool>,
    /// Glaucoma or raised intraocular pressure (RCI-005).
    pub glaucoma_or_raised_intraocular_pressure: Option<bool>,
    /// Open globe injury (RCI-005).
    pub open_globe_injury: Option<bool>,
    pub thyroid: Option<ThyroidStatus>,
    pub hepatic: Option<HepaticDisease>,
    /// Lower urinary tract or bladder disease, for example an enlarged prostate or
    /// existing urinary symptoms (RCI-009).
    pub lower_urinary_tract_or_bladder_disease: Option<bool>,
    pub brain_injury: Option<BrainInjury>,
}
redacted_debug!(MedicalHistory);

/// Result of a pregnancy test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestResult {
    Negative,
    Positive,
}

/// A urine or serum pregnancy test (PRE-006).
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PregnancyTest {
    pub taken_on: Date,
    pub result: TestResult,
}
redacted_debug!(PregnancyTest);

/// Pregnancy, lactation and childbearing potential (RCI-008, PRE-006, CI-006).
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct Reproductive {
    pub childbearing_potential: Option<bool>,
    /// Needed when of childbearing potential; otherwise taken as not pregnant.
    pub pregnant: Option<bool>,
    pub lactating: Option<bool>,
    /// Needed when of childbearing potential (PRE-006).
    pub pregnancy_test: Option<PregnancyTest>,
    /// Current pre-eclampsia or eclampsia (CI-006); needed when of childbearing
    /// potential.
    pub pre_eclampsia_or_eclampsia: Option<bool>,
}
redacted_debug!(Reproductive);

/// Allergies (CI-004, PRE-002).
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct Allergies {
    /// Hypersensitivity to ketamine, esketamine or any excipient (CI-004).
    pub ketamine_or_esketamine_hypersensitivity: Option<bool>,
    /// Other allergies; `Some(vec![])` = none known.
    pub other: Option<Vec<ClinicalText>>,
}
redacted_debug!(Allergies);

/// Baseline vital signs (PRE-003), measured at rest.
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct BaselineVitals {
    pub blood_pressure: Option<BloodPressure>,
    pub heart_rate: Option<HeartRate>,
    pub spo2: Option<SpO2>,
    /// Recorded for later comparison; not required by PRE-003.
    pub respiratory_rate: Option<RespiratoryRate>,
    pub weight: Option<Kg>,
    pub height: Option<HeightCm>,
}
redacted_debug!(BaselineVitals);

impl BaselineVitals {
    /// BMI, computed from weight and height when both are known.
    pub fn bmi(&self) -> Option<Bmi> {
        Some(Bmi::compute(self.weight?, self.height?))
    }
}

// ---------------------------------------------------------------------------------------
// Work-up, consent, transport
// ---------------------------------------------------------------------------------------

/// How the diagnosis was established (PRE-001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticInterview {
    Mini,
    Scid,
    ClinicalInterview,
}

/// The comprehensive psychiatric evaluation (PRE-001).
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PsychiatricEvaluation {
    pub done_on: Date,
    pub method: DiagnosticInterview,
}
redacted_debug!(PsychiatricEvaluation);

/// ECG and laboratory tests (PRE-002: "when clinically indicated").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Investigations {
    NotIndicated,
    IndicatedPending,
    Completed { on: Date },
}

/// Urine drug screen (PRE-005).
#[derive(Clone, PartialEq, Serialize)]
pub struct DrugScreen {
    pub taken_on: Date,
    pub result: TestResult,
    /// What was positive, when positive.
    pub detail: Option<ClinicalText>,
}
redacted_debug!(DrugScreen);

/// Dates on which the baseline rating scales were completed (PRE-004). The scores live
/// with the instruments.
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct BaselineScales {
    /// MADRS and/or PHQ-9 / QIDS-SR.
    pub depression: Option<Date>,
    /// GAD-7.
    pub anxiety: Option<Date>,
    /// PCL-5 / CAPS-5; needed when PTSD is an indication.
    pub ptsd: Option<Date>,
    /// C-SSRS.
    pub suicidality: Option<Date>,
    /// CADSS; needed when the clinic uses it (policy).
    pub dissociation: Option<Date>,
}
redacted_debug!(BaselineScales);

/// Baseline urinary-symptom screen (RCI-009, AE-010).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrinaryScreen {
    NoSymptoms,
    Symptoms,
}

/// The pre-treatment work-up (clinical.md §1.5).
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct Workup {
    pub psychiatric_evaluation: Option<PsychiatricEvaluation>,
    pub physical_examination_on: Option<Date>,
    /// A prior adverse reaction to anaesthesia (PRE-002).
    pub prior_anaesthesia_reaction: Option<bool>,
    pub ecg_and_labs: Option<Investigations>,
    /// Whether the clinician suspects substance use (PRE-005).
    pub substance_use_suspected: Option<bool>,
    pub urine_drug_screen: Option<DrugScreen>,
    pub baseline_scales: BaselineScales,
    pub urinary_symptom_screen: Option<UrinaryScreen>,
    /// Needed only when the policy's cognitive-screen preset applies (RCI-010).
    pub mmse: Option<MmseScore>,
}
redacted_debug!(Workup);

/// The points informed consent must cover (PRE-007).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPoint {
    /// Off-label status of racemic ketamine (needed unless the product is esketamine).
    OffLabelStatus,
    Dissociation,
    Sedation,
    BloodPressureRise,
    Nausea,
    AbusePotential,
    BladderToxicity,
    CognitiveEffects,
    Driving,
    Alternatives,
}

impl ConsentPoint {
    pub const ALL: [ConsentPoint; 10] = [
        Self::OffLabelStatus,
        Self::Dissociation,
        Self::Sedation,
        Self::BloodPressureRise,
        Self::Nausea,
        Self::AbusePotential,
        Self::BladderToxicity,
        Self::CognitiveEffects,
        Self::Driving,
        Self::Alternatives,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::OffLabelStatus => "off-label status of racemic ketamine",
            Self::Dissociation => "dissociation",
            Self::Sedation => "sedation",
            Self::BloodPressureRise => "blood-pressure rise",
            Self::Nausea => "nausea",
            Self::AbusePotential => "abuse potential",
            Self::BladderToxicity => "bladder toxicity",
            Self::CognitiveEffects => "cognitive effects",
            Self::Driving => "driving",
            Self::Alternatives => "alternatives",
        }
    }
}

/// A consent-form version as the clinic names it (for example "KAT-consent-2026-03").
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConsentVersion(String);

impl ConsentVersion {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() || text.len() > 100 || text.chars().any(char::is_control) {
            return Err("must be 1 to 100 characters without control characters".into());
        }
        Ok(Self(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ConsentVersion {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}
impl From<ConsentVersion> for String {
    fn from(v: ConsentVersion) -> String {
        v.0
    }
}
impl fmt::Debug for ConsentVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsentVersion({:?})", self.0)
    }
}

/// Written informed consent (PRE-007).
#[derive(Clone, PartialEq, Serialize)]
pub struct InformedConsent {
    pub signed_on: Date,
    pub form_version: ConsentVersion,
    pub points_covered: Vec<ConsentPoint>,
    /// The patient had capacity to consent; `None` = not yet assessed.
    pub capacity_confirmed: Option<bool>,
}
redacted_debug!(InformedConsent);

/// Escort and transport plan (PRE-009).
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct TransportPlan {
    pub escort_name: Option<ClinicalText>,
    pub escort_phone: Option<Phone>,
    /// The escort stays onsite; if not, a reachable phone number is required.
    pub escort_stays_onsite: Option<bool>,
    /// The patient was told not to drive until the next day after restful sleep and
    /// agreed.
    pub no_driving_until_next_day_acknowledged: Option<bool>,
}
redacted_debug!(TransportPlan);

/// The whole intake.
#[derive(Clone, PartialEq, Default, Serialize)]
pub struct Intake {
    pub birth_date: Option<BirthDate>,
    pub referral: Referral,
    /// `Some(vec![])` = asked, no prior trials.
    pub prior_antidepressant_trials: Option<Vec<AntidepressantTrial>>,
    pub psychiatric: PsychiatricHistory,
    pub suicidality: Suicidality,
    pub medical: MedicalHistory,
    pub reproductive: Reproductive,
    pub allergies: Allergies,
    /// `Some(vec![])` = asked, no current medications.
    pub medications: Option<Vec<Medication>>,
    pub vitals: BaselineVitals,
    pub workup: Workup,
    pub consent: Option<InformedConsent>,
    pub transport: Option<TransportPlan>,
    /// Esketamine only: enrolled in the SPRAVATO REMS (PRE-008).
    pub rems_patient_enrolled: Option<bool>,
}
redacted_debug!(Intake);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_intake_records_is_redacted() {
        let text = ClinicalText::parse("feel like myself again").unwrap();
        let referral = Referral { goals: Some(vec![text.clone()]), ..Referral::default() };
        let shown = format!("{text:?} {referral:?} {:?}", Intake::default());
        assert!(!shown.contains("myself"), "{shown}");
    }

    #[test]
    fn clinical_text_is_bounded() {
        assert!(ClinicalText::parse("  ").is_err());
        assert!(ClinicalText::parse("a\u{7}b").is_err());
        assert!(ClinicalText::parse("line\nline").is_ok());
        assert!(ClinicalText::parse(&"x".repeat(2001)).is_err());
    }

    #[test]
    fn snomed_codes_come_from_instruments_md() {
        assert_eq!(Indication::TreatmentResistantDepression.snomed(), Some(SnomedCode("370143000")));
        assert_eq!(Indication::Ptsd.snomed(), Some(SnomedCode("47505003")));
        assert_eq!(Indication::AnxietyDisorder(AnxietyKind::Generalized).snomed(), Some(SnomedCode("21897009")));
        assert_eq!(Indication::BipolarDepression.snomed(), None);
        assert_eq!(Indication::ComplexPtsd.snomed(), None);
        assert_eq!(Indication::AlcoholUseDisorder.snomed(), None);
    }

    #[test]
    fn trial_response_threshold_is_fifty_percent() {
        let p = |v| TrialResponse::Improvement(ImprovementPercent::new(v).unwrap());
        assert!(p(49).is_inadequate());
        assert!(!p(50).is_inadequate());
        assert!(p(-10).is_inadequate());
        assert!(TrialResponse::NoAdequateResponse.is_inadequate());
        assert!(!TrialResponse::Responded.is_inadequate());
    }

    #[test]
    fn indications_must_not_be_empty() {
        assert!(Indications::new(vec![]).is_err());
        assert!(Indications::new(vec![Indication::Ptsd]).is_ok());
    }
}
