//! The intake as a clinician enters it: named text answers, parsed into an [`Intake`].
//!
//! [`IntakeAnswers`] is a flat map of question name → answer text, the shape a web form
//! posts and the shape kat stores (one JSON object per saved version). Every answer may
//! be missing or blank ("not yet answered"); [`IntakeAnswers::parse`] reports every
//! answer it cannot read as a per-field error and otherwise builds the [`Intake`] the
//! rules evaluate. Parsing is deterministic, so a stored version always yields the same
//! intake. [`SECTIONS`] describes the questions, in form order, for the pages and the
//! API documentation.
//!
//! Repeating rows (prior trials, substances, medications) are numbered from 1:
//! `trial1_drug`, `med2_name`, `sub3_substance`.

use super::intake::*;
use super::medication::{Drug, InteractionClass, KnownDrug, Medication};
use super::units::*;
use crate::field::FieldErrors;
use crate::patient::{BirthDate, Phone, parse_iso_date};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Rows offered for prior antidepressant trials.
pub const TRIAL_ROWS: usize = 4;
/// Rows offered for current medications.
pub const MEDICATION_ROWS: usize = 6;
/// Rows offered for substance use.
pub const SUBSTANCE_ROWS: usize = 4;

/// How a question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `yes` / `no`.
    YesNo,
    /// One of the listed values.
    Choice(&'static [(&'static str, &'static str)]),
    /// A checkbox; present (any non-blank value) means ticked.
    Check,
    /// YYYY-MM-DD.
    Date,
    /// A number (whole or decimal as the unit requires).
    Number,
    /// One line of text.
    Text,
    /// One item per line.
    Lines,
    /// `systolic/diastolic`.
    BloodPressure,
    Phone,
}

/// One question of the form.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub hint: &'static str,
}

/// A repeating row group (for example one prior trial per row).
#[derive(Debug, Clone, Copy)]
pub struct RowGroup {
    /// The name prefix; row `i` (from 1) names its cells `{prefix}{i}_{column}`.
    pub prefix: &'static str,
    pub rows: usize,
    pub columns: &'static [Question],
}

/// A form section, saved on its own.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    pub id: &'static str,
    pub title: &'static str,
    /// The spec rules the section feeds.
    pub rules: &'static str,
    pub questions: &'static [Question],
    pub rows: Option<RowGroup>,
}

impl Section {
    /// Every answer name of the section, rows included.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.questions.iter().map(|q| q.name.to_string()).collect();
        if let Some(group) = &self.rows {
            for i in 1..=group.rows {
                for c in group.columns {
                    names.push(format!("{}{i}_{}", group.prefix, c.name));
                }
            }
        }
        names
    }
}

const fn q(name: &'static str, label: &'static str, kind: Kind) -> Question {
    Question { name, label, kind, hint: "" }
}
const fn qh(name: &'static str, label: &'static str, kind: Kind, hint: &'static str) -> Question {
    Question { name, label, kind, hint }
}

const YN: Kind = Kind::YesNo;

const PRODUCTS: &[(&str, &str)] = &[
    ("racemic_ketamine", "Racemic ketamine (off-label)"),
    ("esketamine", "Esketamine nasal spray (SPRAVATO)"),
    ("undecided", "Not yet decided"),
];
const RESPONSES: &[(&str, &str)] = &[
    ("no_adequate_response", "No adequate response (<50 %)"),
    ("responded", "Responded (≥50 %)"),
    ("improvement", "Measured improvement (enter %)"),
];
const MANIA: &[(&str, &str)] = &[("never", "Never"), ("past", "In the past"), ("current", "Current")];
const PERSONALITY: &[(&str, &str)] = &[
    ("none", "None"),
    ("present", "Present, not interfering with cooperation"),
    ("present_severe", "Severe, interferes with cooperation"),
];
const SUBSTANCES: &[(&str, &str)] = &[
    ("alcohol", "Alcohol"),
    ("opioids", "Opioids"),
    ("ketamine", "Ketamine"),
    ("pcp", "PCP"),
    ("cannabis", "Cannabis"),
    ("stimulants", "Stimulants"),
    ("sedatives_or_benzodiazepines", "Sedatives / benzodiazepines"),
    ("hallucinogens", "Hallucinogens"),
    ("tobacco", "Tobacco"),
    ("other", "Other"),
];
const DISORDER: &[(&str, &str)] = &[
    ("never", "Never met criteria"),
    ("mild", "Use disorder: mild"),
    ("moderate", "Use disorder: moderate"),
    ("severe", "Use disorder: severe"),
];
const IDEATION: &[(&str, &str)] = &[
    ("none", "None"),
    ("wish_to_be_dead", "Wish to be dead (Q1)"),
    ("active_non_specific", "Active thoughts, non-specific (Q2)"),
    ("active_with_method", "Active, with method, no intent (Q3)"),
    ("active_with_intent", "Active, with some intent, no plan (Q4)"),
    ("active_with_plan_and_intent", "Active, with plan and intent (Q5)"),
];
const BEHAVIOUR: &[(&str, &str)] = &[("never", "Never"), ("ever", "Yes (enter the most recent date)")];
const HYPERTENSION: &[(&str, &str)] = &[
    ("none", "None"),
    ("controlled", "Treated and controlled"),
    ("poorly_controlled", "Treated, poorly controlled"),
    ("untreated", "Untreated"),
];
const STABILITY: &[(&str, &str)] = &[("none", "None"), ("stable", "Stable"), ("unstable", "Unstable")];
const THYROID: &[(&str, &str)] = &[
    ("none", "None"),
    ("hypothyroidism", "Hypothyroidism"),
    ("hyperthyroidism_controlled", "Hyperthyroidism, controlled"),
    ("hyperthyroidism_untreated", "Hyperthyroidism, untreated or insufficiently treated"),
    ("other", "Other thyroid disease"),
];
const HEPATIC: &[(&str, &str)] = &[
    ("none", "None"),
    ("unclassified", "Present, not yet classified"),
    ("child_pugh_a", "Child-Pugh A"),
    ("child_pugh_b", "Child-Pugh B"),
    ("child_pugh_c", "Child-Pugh C"),
];
const BRAIN: &[(&str, &str)] = &[
    ("none", "None"),
    ("past_asymptomatic", "Past injury, no current symptoms"),
    ("symptomatic", "Symptomatic TBI"),
    ("acute", "Recent (acute) cerebral trauma"),
];
const TEST: &[(&str, &str)] = &[("negative", "Negative"), ("positive", "Positive")];
const INTERVIEW: &[(&str, &str)] = &[("mini", "MINI"), ("scid", "SCID"), ("clinical_interview", "Clinical interview")];
const INVESTIGATIONS: &[(&str, &str)] =
    &[("not_indicated", "Not indicated"), ("pending", "Indicated, pending"), ("completed", "Completed (enter date)")];
const URINARY: &[(&str, &str)] = &[("no_symptoms", "No symptoms"), ("symptoms", "Symptoms")];
/// Interaction classes to choose by hand for a drug kat does not know (clinical.md §1.4).
pub const CLASSES: &[(&str, &str)] = &[
    ("none", "Reviewed: no ketamine interaction class"),
    ("benzodiazepine", "Benzodiazepine (DDI-001, DDI-004)"),
    ("opioid", "Opioid (DDI-001)"),
    ("non_benzodiazepine_sedative_hypnotic", "Non-benzodiazepine sedative hypnotic (DDI-001)"),
    ("other_sedative", "Other sedative (DDI-001)"),
    ("psychostimulant", "Psychostimulant (DDI-002)"),
    ("maoi", "MAOI (DDI-003)"),
    ("lamotrigine", "Lamotrigine (DDI-005)"),
    ("cyp_inducer", "CYP2B6/3A4 inducer (DDI-006)"),
    ("cyp_inhibitor", "CYP2B6/3A4 inhibitor (DDI-006)"),
    ("theophylline", "Theophylline / aminophylline (DDI-007)"),
    ("sympathomimetic", "Sympathomimetic / vasopressin (DDI-007)"),
    ("levothyroxine", "Levothyroxine (DDI-008)"),
    ("oral_antidepressant", "Oral antidepressant (IND-001)"),
];
const CLASS_VALUES: [(&str, InteractionClass); 13] = [
    ("benzodiazepine", InteractionClass::Benzodiazepine),
    ("opioid", InteractionClass::Opioid),
    ("non_benzodiazepine_sedative_hypnotic", InteractionClass::NonBenzodiazepineSedativeHypnotic),
    ("other_sedative", InteractionClass::OtherSedative),
    ("psychostimulant", InteractionClass::Psychostimulant),
    ("maoi", InteractionClass::Maoi),
    ("lamotrigine", InteractionClass::Lamotrigine),
    ("cyp_inducer", InteractionClass::CypInducer),
    ("cyp_inhibitor", InteractionClass::CypInhibitor),
    ("theophylline", InteractionClass::Theophylline),
    ("sympathomimetic", InteractionClass::Sympathomimetic),
    ("levothyroxine", InteractionClass::Levothyroxine),
    ("oral_antidepressant", InteractionClass::OralAntidepressant),
];

/// Indication checkboxes: (answer name, label, SNOMED CT code where the spec gives one).
pub const INDICATIONS: &[(&str, &str, Option<&str>)] = &[
    ("indication_trd", "Treatment-resistant depression (IND-001a, IND-005)", Some("370143000")),
    ("indication_mdsi", "MDD with acute suicidal ideation or behaviour (IND-001b)", Some("370143000")),
    ("indication_bipolar", "Bipolar depression, depressive phase (IND-011)", None),
    ("indication_ptsd", "PTSD (IND-008)", Some("47505003")),
    ("indication_cptsd", "Complex PTSD (IND-008)", None),
    ("indication_gad", "Generalized anxiety disorder (IND-009)", Some("21897009")),
    ("indication_anxiety_other", "Other anxiety disorder (IND-009)", None),
    ("indication_aud", "Alcohol use disorder (IND-010)", None),
];

/// The consent points of PRE-007, as checkbox names.
pub const CONSENT_POINTS: [(&str, ConsentPoint); 10] = [
    ("consent_off_label_status", ConsentPoint::OffLabelStatus),
    ("consent_dissociation", ConsentPoint::Dissociation),
    ("consent_sedation", ConsentPoint::Sedation),
    ("consent_blood_pressure_rise", ConsentPoint::BloodPressureRise),
    ("consent_nausea", ConsentPoint::Nausea),
    ("consent_abuse_potential", ConsentPoint::AbusePotential),
    ("consent_bladder_toxicity", ConsentPoint::BladderToxicity),
    ("consent_cognitive_effects", ConsentPoint::CognitiveEffects),
    ("consent_driving", ConsentPoint::Driving),
    ("consent_alternatives", ConsentPoint::Alternatives),
];

/// The form, in order.
pub const SECTIONS: &[Section] = &[
    Section {
        id: "referral",
        title: "Referral & indication",
        rules: "IND-001–IND-011",
        questions: &[
            q("indication_trd", "Treatment-resistant depression (IND-001a, IND-005) · SNOMED 370143000", Kind::Check),
            q(
                "indication_mdsi",
                "MDD with acute suicidal ideation or behaviour (IND-001b) · SNOMED 370143000",
                Kind::Check,
            ),
            q(
                "indication_bipolar",
                "Bipolar depression, depressive phase (IND-011) · no SNOMED code in the spec",
                Kind::Check,
            ),
            q("indication_ptsd", "PTSD (IND-008) · SNOMED 47505003", Kind::Check),
            q("indication_cptsd", "Complex PTSD (IND-008) · no SNOMED code in the spec", Kind::Check),
            q("indication_gad", "Generalized anxiety disorder (IND-009) · SNOMED 21897009", Kind::Check),
            q("indication_anxiety_other", "Other anxiety disorder (IND-009)", Kind::Check),
            q("indication_aud", "Alcohol use disorder (IND-010)", Kind::Check),
            qh("indication_other", "Other indication", Kind::Text, "Describe; optional"),
            q("intended_product", "Intended product", Kind::Choice(PRODUCTS)),
            qh("presenting_symptoms", "Presenting symptoms", Kind::Lines, "One per line"),
            qh("goals", "Goals", Kind::Lines, "In the patient's own words, one per line"),
        ],
        rows: None,
    },
    Section {
        id: "trials",
        title: "Prior antidepressant trials",
        rules: "IND-005",
        questions: &[q("trials_none", "No prior antidepressant trials", Kind::Check)],
        rows: Some(RowGroup {
            prefix: "trial",
            rows: TRIAL_ROWS,
            columns: &[
                q("drug", "Drug", Kind::Text),
                q("dose_mg", "Daily dose (mg)", Kind::Number),
                q("weeks", "Duration (weeks)", Kind::Number),
                q("response", "Response", Kind::Choice(RESPONSES)),
                q("improvement", "Improvement %", Kind::Number),
                q("current_episode", "In current episode", YN),
                q("adequate", "Adequate dose and duration", YN),
            ],
        }),
    },
    Section {
        id: "psychiatric",
        title: "Psychiatric history & suicide risk",
        rules: "CI-007, RCI-001–003, RCI-010–012, SUI-003",
        questions: &[
            q("schizophrenia", "Known or suspected schizophrenia (CI-007)", YN),
            q("psychosis_current", "Current psychosis / psychotic features (RCI-001)", YN),
            q("psychosis_past", "Past psychosis (RCI-001)", YN),
            q("psychosis_relative", "Psychotic disorder in a first-degree relative (RCI-001)", YN),
            q("mania", "Mania or hypomania (RCI-002)", Kind::Choice(MANIA)),
            q("bipolar_disorder", "Bipolar disorder diagnosis (IND-011)", YN),
            q("intoxicated", "Intoxicated or in withdrawal now (RCI-003)", YN),
            q("personality_disorder", "Personality disorder (RCI-012)", Kind::Choice(PERSONALITY)),
            q("neurocognitive", "Dementia / major neurocognitive disorder (RCI-010)", YN),
            q("ideation", "Suicidal ideation, past month (C-SSRS)", Kind::Choice(IDEATION)),
            q("behaviour", "Suicidal behaviour, lifetime (C-SSRS Q6)", Kind::Choice(BEHAVIOUR)),
            q("behaviour_date", "Most recent suicidal behaviour", Kind::Date),
            q("substances_none", "No substance use beyond trivial experimentation (RCI-003)", Kind::Check),
        ],
        rows: Some(RowGroup {
            prefix: "sub",
            rows: SUBSTANCE_ROWS,
            columns: &[
                q("substance", "Substance", Kind::Choice(SUBSTANCES)),
                q("last_use", "Last use", Kind::Date),
                q("ongoing", "Use ongoing", Kind::Check),
                q("uses_past_year", "Uses in past 12 months", Kind::Number),
                q("disorder", "Use disorder", Kind::Choice(DISORDER)),
                q("disorder_last_met", "Criteria last met", Kind::Date),
                q("disorder_ongoing", "Criteria met now", Kind::Check),
            ],
        }),
    },
    Section {
        id: "medical",
        title: "Medical history",
        rules: "CI-001–CI-006, RCI-004–RCI-010",
        questions: &[
            q("aneurysmal_vascular_disease", "Aneurysmal vascular disease (CI-001)", YN),
            q("arteriovenous_malformation", "Arteriovenous malformation (CI-002)", YN),
            q("intracerebral_haemorrhage", "History of intracerebral haemorrhage (CI-003)", YN),
            q("ketamine_hypersensitivity", "Hypersensitivity to ketamine, esketamine or an excipient (CI-004)", YN),
            qh(
                "bp_icp_hazard",
                "A rise in BP or intracranial pressure would be a serious hazard (CI-005)",
                YN,
                "Clinician's attestation",
            ),
            q("hypertension", "Hypertension (CI-006, RCI-004)", Kind::Choice(HYPERTENSION)),
            q("prior_cva", "Prior cerebrovascular insult (CI-006)", YN),
            q("severe_coronary", "Severe coronary or myocardial disease (CI-006)", YN),
            q("arrhythmia", "Significant arrhythmia (RCI-004)", YN),
            q("cardiovascular", "Other cardiovascular disease (RCI-004)", Kind::Choice(STABILITY)),
            q("cerebrovascular", "Other cerebrovascular disease (RCI-004)", Kind::Choice(STABILITY)),
            q("raised_icp", "Raised intracranial pressure or intracranial mass (RCI-005)", YN),
            q("glaucoma", "Glaucoma or raised intraocular pressure (RCI-005)", YN),
            q("open_globe", "Open globe injury (RCI-005)", YN),
            q("thyroid", "Thyroid (CI-006, RCI-006)", Kind::Choice(THYROID)),
            q("hepatic", "Hepatic disease (RCI-007)", Kind::Choice(HEPATIC)),
            q("bladder", "Lower urinary tract or bladder disease (RCI-009)", YN),
            q("brain_injury", "Brain injury (CI-006, RCI-010)", Kind::Choice(BRAIN)),
            q("childbearing_potential", "Of childbearing potential (RCI-008, PRE-006)", YN),
            q("pregnant", "Pregnant (RCI-008)", YN),
            q("lactating", "Breastfeeding (RCI-008)", YN),
            q("pregnancy_test_date", "Pregnancy test date (PRE-006)", Kind::Date),
            q("pregnancy_test_result", "Pregnancy test result", Kind::Choice(TEST)),
            q("pre_eclampsia", "Pre-eclampsia or eclampsia (CI-006)", YN),
            q("allergies_none", "No other known allergies", Kind::Check),
            qh("allergies", "Other allergies", Kind::Lines, "One per line"),
        ],
        rows: None,
    },
    Section {
        id: "medications",
        title: "Current medications",
        rules: "DDI-001–DDI-010",
        questions: &[q("meds_none", "No current medications", Kind::Check)],
        rows: Some(RowGroup {
            prefix: "med",
            rows: MEDICATION_ROWS,
            columns: &[
                qh("name", "Drug", Kind::Text, "kat knows common drugs by name"),
                q("dose_mg", "Total daily dose (mg)", Kind::Number),
                qh("class", "Interaction class (if kat does not know the drug)", Kind::Choice(CLASSES), ""),
            ],
        }),
    },
    Section {
        id: "vitals",
        title: "Baseline vitals",
        rules: "PRE-003, RCI-004",
        questions: &[
            qh("bp", "Blood pressure at rest (mmHg)", Kind::BloodPressure, "systolic/diastolic, e.g. 122/78"),
            q("heart_rate", "Heart rate (/min)", Kind::Number),
            q("spo2", "SpO2 (%)", Kind::Number),
            q("respiratory_rate", "Respiratory rate (/min)", Kind::Number),
            q("weight_kg", "Weight (kg)", Kind::Number),
            q("height_cm", "Height (cm)", Kind::Number),
        ],
        rows: None,
    },
    Section {
        id: "workup",
        title: "Pre-treatment work-up",
        rules: "PRE-001–PRE-006, PRE-008",
        questions: &[
            q("psych_eval_date", "Psychiatric evaluation date (PRE-001)", Kind::Date),
            q("psych_eval_method", "Diagnostic interview", Kind::Choice(INTERVIEW)),
            q("physical_exam_date", "Physical examination date (PRE-002)", Kind::Date),
            q("anaesthesia_reaction", "Prior adverse reaction to anaesthesia (PRE-002)", YN),
            q("ecg_labs", "ECG and labs (PRE-002)", Kind::Choice(INVESTIGATIONS)),
            q("ecg_labs_date", "ECG and labs completed on", Kind::Date),
            q("substance_suspected", "Substance use suspected (PRE-005)", YN),
            q("uds_date", "Urine drug screen date", Kind::Date),
            q("uds_result", "Urine drug screen result", Kind::Choice(TEST)),
            q("scale_depression", "Baseline depression scale (PRE-004)", Kind::Date),
            q("scale_anxiety", "Baseline GAD-7", Kind::Date),
            q("scale_ptsd", "Baseline PCL-5 / CAPS-5 (if PTSD)", Kind::Date),
            q("scale_suicidality", "Baseline C-SSRS", Kind::Date),
            q("scale_dissociation", "Baseline CADSS", Kind::Date),
            q("urinary_screen", "Urinary-symptom screen (RCI-009)", Kind::Choice(URINARY)),
            qh("mmse", "MMSE (RCI-010)", Kind::Number, "When the cognitive-screen preset applies"),
            qh("rems_enrolled", "Enrolled in the SPRAVATO REMS (PRE-008)", YN, "Esketamine only"),
        ],
        rows: None,
    },
    Section {
        id: "consent",
        title: "Informed consent",
        rules: "PRE-007",
        questions: &[
            q("consent_date", "Consent signed on", Kind::Date),
            qh("consent_version", "Consent form version", Kind::Text, "e.g. KAT-consent-v3"),
            q("consent_off_label_status", "Off-label status of racemic ketamine", Kind::Check),
            q("consent_dissociation", "Dissociation", Kind::Check),
            q("consent_sedation", "Sedation", Kind::Check),
            q("consent_blood_pressure_rise", "Blood-pressure rise", Kind::Check),
            q("consent_nausea", "Nausea", Kind::Check),
            q("consent_abuse_potential", "Abuse potential", Kind::Check),
            q("consent_bladder_toxicity", "Bladder toxicity", Kind::Check),
            q("consent_cognitive_effects", "Cognitive effects", Kind::Check),
            q("consent_driving", "Driving", Kind::Check),
            q("consent_alternatives", "Alternatives", Kind::Check),
            q("capacity", "Capacity to consent confirmed", YN),
        ],
        rows: None,
    },
    Section {
        id: "transport",
        title: "Escort & transport",
        rules: "PRE-009",
        questions: &[
            q("escort_name", "Escort's name", Kind::Text),
            q("escort_phone", "Escort's phone", Kind::Phone),
            q("escort_onsite", "Escort stays onsite", YN),
            q("no_driving_ack", "Patient agreed not to drive until the next day after sleep", YN),
        ],
        rows: None,
    },
];

/// The section with this id.
pub fn section(id: &str) -> Option<&'static Section> {
    SECTIONS.iter().find(|s| s.id == id)
}

/// Whether `name` is a question of the form.
pub fn is_known(name: &str) -> bool {
    SECTIONS.iter().any(|s| s.names().iter().any(|n| n == name))
}

/// Every answer of one intake, by question name. Blank answers are not kept.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IntakeAnswers(BTreeMap<String, String>);

impl fmt::Debug for IntakeAnswers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IntakeAnswers({} answers, [redacted])", self.0.len())
    }
}

impl IntakeAnswers {
    pub fn new() -> Self {
        Self::default()
    }

    /// The answer to `name`, or "" when unanswered.
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }

    /// Sets (or, when blank, clears) one answer. Unknown names are refused.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        if !is_known(name) {
            return Err("is not a question of the intake".into());
        }
        let value = value.trim();
        if value.is_empty() {
            self.0.remove(name);
        } else {
            self.0.insert(name.to_string(), value.to_string());
        }
        Ok(())
    }

    /// Replaces the answers of one section with `submitted` (names of other sections
    /// and unknown names are reported as errors). A question of the section absent from
    /// `submitted` is cleared (an unticked checkbox posts nothing).
    pub fn replace_section(
        &mut self,
        section: &Section,
        submitted: &BTreeMap<String, String>,
    ) -> Result<(), FieldErrors> {
        let names = section.names();
        let mut errors = FieldErrors::new();
        for key in submitted.keys() {
            if !names.iter().any(|n| n == key) {
                errors.add(key.clone(), "is not a question of this section");
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        for name in &names {
            let value = submitted.get(name).map(String::as_str).unwrap_or("");
            self.set(name, value).expect("section names are known");
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Parses every answer into an [`Intake`]; `birth_date` comes from the patient's
    /// registration. Every unreadable answer is reported.
    pub fn parse(&self, birth_date: Option<BirthDate>) -> Result<Intake, FieldErrors> {
        let mut p = Parser { a: self, errors: FieldErrors::new() };
        let intake = p.intake(birth_date);
        if p.errors.is_empty() { Ok(intake) } else { Err(p.errors) }
    }
}

struct Parser<'a> {
    a: &'a IntakeAnswers,
    errors: FieldErrors,
}

impl Parser<'_> {
    fn raw(&self, name: &str) -> Option<&str> {
        let v = self.a.get(name);
        (!v.is_empty()).then_some(v)
    }

    fn check(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    fn yes_no(&mut self, name: &str) -> Option<bool> {
        match self.raw(name)? {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                self.errors.add(name, "must be yes or no");
                None
            }
        }
    }

    fn choice<T: Copy>(&mut self, name: &str, values: &[(&str, T)]) -> Option<T> {
        let raw = self.raw(name)?;
        match values.iter().find(|(k, _)| *k == raw) {
            Some((_, v)) => Some(*v),
            None => {
                self.errors.add(name, "is not one of the offered choices");
                None
            }
        }
    }

    fn date(&mut self, name: &str) -> Option<Date> {
        let raw = self.raw(name)?;
        match parse_iso_date(raw) {
            Some(d) => Some(d),
            None => {
                self.errors.add(name, "must be a date as YYYY-MM-DD");
                None
            }
        }
    }

    fn unit<T, E: fmt::Display>(&mut self, name: &str, parse: impl Fn(&str) -> Result<T, E>) -> Option<T> {
        let raw = self.raw(name)?.to_string();
        self.errors.take(name, parse(&raw))
    }

    fn text(&mut self, name: &str) -> Option<ClinicalText> {
        self.unit(name, ClinicalText::parse)
    }

    fn lines(&mut self, name: &str) -> Option<Vec<ClinicalText>> {
        let raw = self.raw(name)?.to_string();
        let mut out = Vec::new();
        for line in raw.lines().filter(|l| !l.trim().is_empty()) {
            match ClinicalText::parse(line) {
                Ok(t) => out.push(t),
                Err(e) => {
                    self.errors.add(name, e);
                    return None;
                }
            }
        }
        (!out.is_empty()).then_some(out)
    }

    fn require(&mut self, present: bool, name: &str, message: &str) {
        if !present {
            self.errors.add(name, message);
        }
    }

    fn intake(&mut self, birth_date: Option<BirthDate>) -> Intake {
        Intake {
            birth_date,
            referral: self.referral(),
            prior_antidepressant_trials: self.trials(),
            psychiatric: self.psychiatric(),
            suicidality: self.suicidality(),
            medical: self.medical(),
            reproductive: self.reproductive(),
            allergies: self.allergies(),
            medications: self.medications(),
            vitals: self.vitals(),
            workup: self.workup(),
            consent: self.consent(),
            transport: self.transport(),
            rems_patient_enrolled: self.yes_no("rems_enrolled"),
        }
    }

    fn referral(&mut self) -> Referral {
        let kinds = [
            Indication::TreatmentResistantDepression,
            Indication::MddWithSuicidalIdeation,
            Indication::BipolarDepression,
            Indication::Ptsd,
            Indication::ComplexPtsd,
            Indication::AnxietyDisorder(AnxietyKind::Generalized),
            Indication::AnxietyDisorder(AnxietyKind::Other),
            Indication::AlcoholUseDisorder,
        ];
        let mut list: Vec<Indication> =
            INDICATIONS.iter().zip(kinds).filter(|((name, _, _), _)| self.check(name)).map(|(_, i)| i).collect();
        if let Some(other) = self.text("indication_other") {
            list.push(Indication::Other(other));
        }
        Referral {
            indications: Indications::new(list).ok(),
            intended_product: self.choice(
                "intended_product",
                &[
                    ("racemic_ketamine", IntendedProduct::RacemicKetamine),
                    ("esketamine", IntendedProduct::Esketamine),
                    ("undecided", IntendedProduct::Undecided),
                ],
            ),
            presenting_symptoms: self.lines("presenting_symptoms"),
            goals: self.lines("goals"),
        }
    }

    fn trials(&mut self) -> Option<Vec<AntidepressantTrial>> {
        let mut rows = Vec::new();
        for i in 1..=TRIAL_ROWS {
            let n = |c: &str| format!("trial{i}_{c}");
            let drug = self.text(&n("drug"));
            let daily_dose = self.unit(&n("dose_mg"), |raw| entry::DAILY_DOSE.parse(raw));
            let duration = self.unit(&n("weeks"), Weeks::parse);
            let improvement = self.unit(&n("improvement"), ImprovementPercent::parse);
            let response = match self.raw(&n("response")) {
                None => None,
                Some("responded") => Some(TrialResponse::Responded),
                Some("no_adequate_response") => Some(TrialResponse::NoAdequateResponse),
                Some("improvement") => {
                    let has = self.raw(&n("improvement")).is_some();
                    self.require(has, &n("improvement"), "is required when the response is a measured improvement");
                    improvement.map(TrialResponse::Improvement)
                }
                Some(_) => {
                    self.errors.add(n("response"), "is not one of the offered choices");
                    None
                }
            };
            let in_current_episode = self.yes_no(&n("current_episode"));
            let adequate = self.yes_no(&n("adequate"));
            let row_used = ["dose_mg", "weeks", "response", "improvement", "current_episode", "adequate"]
                .iter()
                .any(|c| self.raw(&n(c)).is_some());
            match drug {
                Some(drug) => rows.push(AntidepressantTrial {
                    drug,
                    daily_dose,
                    duration,
                    response,
                    in_current_episode,
                    adequate_dose_and_duration: adequate,
                }),
                None if row_used && self.raw(&n("drug")).is_none() => {
                    self.errors.add(n("drug"), "is required for a trial row that has other answers")
                }
                None => {}
            }
        }
        if self.check("trials_none") {
            if !rows.is_empty() {
                self.errors.add("trials_none", "cannot be ticked while trials are listed");
            }
            return Some(vec![]);
        }
        (!rows.is_empty()).then_some(rows)
    }

    fn psychiatric(&mut self) -> PsychiatricHistory {
        let personality = self.choice(
            "personality_disorder",
            &[
                ("none", PersonalityDisorder::None),
                ("present", PersonalityDisorder::Present { severe_interfering_with_cooperation: Some(false) }),
                ("present_severe", PersonalityDisorder::Present { severe_interfering_with_cooperation: Some(true) }),
            ],
        );
        PsychiatricHistory {
            schizophrenia_known_or_suspected: self.yes_no("schizophrenia"),
            psychosis_current: self.yes_no("psychosis_current"),
            psychosis_past: self.yes_no("psychosis_past"),
            psychosis_first_degree_relative: self.yes_no("psychosis_relative"),
            mania_or_hypomania: self.choice(
                "mania",
                &[("never", ManiaHistory::Never), ("past", ManiaHistory::Past), ("current", ManiaHistory::Current)],
            ),
            bipolar_disorder: self.yes_no("bipolar_disorder"),
            substance_use: self.substances(),
            intoxicated_or_in_withdrawal: self.yes_no("intoxicated"),
            personality_disorder: personality,
            neurocognitive_disorder: self.yes_no("neurocognitive"),
        }
    }

    fn substances(&mut self) -> Option<Vec<SubstanceUse>> {
        let substances = [
            ("alcohol", Substance::Alcohol),
            ("opioids", Substance::Opioids),
            ("ketamine", Substance::Ketamine),
            ("pcp", Substance::Pcp),
            ("cannabis", Substance::Cannabis),
            ("stimulants", Substance::Stimulants),
            ("sedatives_or_benzodiazepines", Substance::SedativesOrBenzodiazepines),
            ("hallucinogens", Substance::Hallucinogens),
            ("tobacco", Substance::Tobacco),
            ("other", Substance::Other),
        ];
        let mut rows = Vec::new();
        for i in 1..=SUBSTANCE_ROWS {
            let n = |c: &str| format!("sub{i}_{c}");
            let substance = self.choice(&n("substance"), &substances);
            let last_date = self.date(&n("last_use"));
            let last_use = if self.check(&n("ongoing")) {
                Some(LastOccurrence::Ongoing)
            } else {
                last_date.map(LastOccurrence::On)
            };
            let uses_past_year = self.unit(&n("uses_past_year"), Occasions::parse);
            let met_date = self.date(&n("disorder_last_met"));
            let met = if self.check(&n("disorder_ongoing")) {
                Some(LastOccurrence::Ongoing)
            } else {
                met_date.map(LastOccurrence::On)
            };
            let use_disorder = match self.raw(&n("disorder")) {
                None => None,
                Some("never") => Some(UseDisorder::Never),
                Some(s @ ("mild" | "moderate" | "severe")) => Some(UseDisorder::Ever {
                    severity: Some(match s {
                        "mild" => SudSeverity::Mild,
                        "moderate" => SudSeverity::Moderate,
                        _ => SudSeverity::Severe,
                    }),
                    criteria_last_met: met,
                }),
                Some(_) => {
                    self.errors.add(n("disorder"), "is not one of the offered choices");
                    None
                }
            };
            let row_used =
                ["last_use", "ongoing", "uses_past_year", "disorder", "disorder_last_met", "disorder_ongoing"]
                    .iter()
                    .any(|c| self.raw(&n(c)).is_some());
            match substance {
                Some(substance) => rows.push(SubstanceUse { substance, last_use, uses_past_year, use_disorder }),
                None if row_used && self.raw(&n("substance")).is_none() => {
                    self.errors.add(n("substance"), "is required for a substance row that has other answers")
                }
                None => {}
            }
        }
        if self.check("substances_none") {
            if !rows.is_empty() {
                self.errors.add("substances_none", "cannot be ticked while substances are listed");
            }
            return Some(vec![]);
        }
        (!rows.is_empty()).then_some(rows)
    }

    fn suicidality(&mut self) -> Suicidality {
        let ideation = self.choice(
            "ideation",
            &[
                ("none", SuicidalIdeation::None),
                ("wish_to_be_dead", SuicidalIdeation::WishToBeDead),
                ("active_non_specific", SuicidalIdeation::ActiveNonSpecific),
                ("active_with_method", SuicidalIdeation::ActiveWithMethod),
                ("active_with_intent", SuicidalIdeation::ActiveWithIntent),
                ("active_with_plan_and_intent", SuicidalIdeation::ActiveWithPlanAndIntent),
            ],
        );
        let most_recent = self.date("behaviour_date");
        let behaviour = match self.raw("behaviour") {
            None => None,
            Some("never") => Some(SuicidalBehaviour::Never),
            Some("ever") => Some(SuicidalBehaviour::Ever { most_recent }),
            Some(_) => {
                self.errors.add("behaviour", "is not one of the offered choices");
                None
            }
        };
        Suicidality { ideation_past_month: ideation, behaviour }
    }

    fn medical(&mut self) -> MedicalHistory {
        MedicalHistory {
            aneurysmal_vascular_disease: self.yes_no("aneurysmal_vascular_disease"),
            arteriovenous_malformation: self.yes_no("arteriovenous_malformation"),
            intracerebral_haemorrhage: self.yes_no("intracerebral_haemorrhage"),
            bp_or_icp_rise_serious_hazard: self.yes_no("bp_icp_hazard"),
            hypertension: self.choice(
                "hypertension",
                &[
                    ("none", Hypertension::None),
                    ("controlled", Hypertension::Controlled),
                    ("poorly_controlled", Hypertension::PoorlyControlled),
                    ("untreated", Hypertension::Untreated),
                ],
            ),
            prior_cerebrovascular_accident: self.yes_no("prior_cva"),
            severe_coronary_or_myocardial_disease: self.yes_no("severe_coronary"),
            significant_arrhythmia: self.yes_no("arrhythmia"),
            cardiovascular_disease: self.choice("cardiovascular", STABILITIES),
            cerebrovascular_disease: self.choice("cerebrovascular", STABILITIES),
            raised_intracranial_pressure_or_mass: self.yes_no("raised_icp"),
            glaucoma_or_raised_intraocular_pressure: self.yes_no("glaucoma"),
            open_globe_injury: self.yes_no("open_globe"),
            thyroid: self.choice(
                "thyroid",
                &[
                    ("none", ThyroidStatus::None),
                    ("hypothyroidism", ThyroidStatus::Hypothyroidism),
                    ("hyperthyroidism_controlled", ThyroidStatus::HyperthyroidismControlled),
                    ("hyperthyroidism_untreated", ThyroidStatus::HyperthyroidismUntreatedOrInsufficientlyTreated),
                    ("other", ThyroidStatus::OtherThyroidDisease),
                ],
            ),
            hepatic: self.choice(
                "hepatic",
                &[
                    ("none", HepaticDisease::None),
                    ("unclassified", HepaticDisease::Present { child_pugh: None }),
                    ("child_pugh_a", HepaticDisease::Present { child_pugh: Some(ChildPugh::A) }),
                    ("child_pugh_b", HepaticDisease::Present { child_pugh: Some(ChildPugh::B) }),
                    ("child_pugh_c", HepaticDisease::Present { child_pugh: Some(ChildPugh::C) }),
                ],
            ),
            lower_urinary_tract_or_bladder_disease: self.yes_no("bladder"),
            brain_injury: self.choice(
                "brain_injury",
                &[
                    ("none", BrainInjury::None),
                    ("past_asymptomatic", BrainInjury::PastAsymptomatic),
                    ("symptomatic", BrainInjury::Symptomatic),
                    ("acute", BrainInjury::AcuteCerebralTrauma),
                ],
            ),
        }
    }

    fn reproductive(&mut self) -> Reproductive {
        let taken_on = self.date("pregnancy_test_date");
        let result = self.choice("pregnancy_test_result", TESTS);
        if taken_on.is_some() != result.is_some() {
            let missing = if taken_on.is_none() { "pregnancy_test_date" } else { "pregnancy_test_result" };
            self.errors.add(missing, "is required with the other pregnancy-test answer");
        }
        let childbearing_potential = self.yes_no("childbearing_potential");
        let pregnant = self.yes_no("pregnant");
        // Answers that cannot both be true are refused with both fields named: a
        // pregnancy screen that says "pregnant" and "cannot become pregnant" at once would
        // otherwise pass RCI-008 and PRE-006 silently on whichever answer a rule reads.
        let positive_test = result == Some(TestResult::Positive);
        if pregnant == Some(true) && childbearing_potential == Some(false) {
            self.contradiction(
                ("pregnant", "Pregnant is yes"),
                ("childbearing_potential", "of childbearing potential is no"),
            );
        }
        if positive_test && childbearing_potential == Some(false) {
            self.contradiction(
                ("pregnancy_test_result", "the pregnancy test is positive"),
                ("childbearing_potential", "of childbearing potential is no"),
            );
        }
        if positive_test && pregnant == Some(false) {
            self.contradiction(
                ("pregnancy_test_result", "the pregnancy test is positive"),
                ("pregnant", "pregnant is no"),
            );
        }
        Reproductive {
            childbearing_potential,
            pregnant,
            lactating: self.yes_no("lactating"),
            pregnancy_test: taken_on.zip(result).map(|(taken_on, result)| PregnancyTest { taken_on, result }),
            pre_eclampsia_or_eclampsia: self.yes_no("pre_eclampsia"),
        }
    }

    /// Two answers that contradict each other: both fields get a message naming the other,
    /// so the form shows the pair and nothing is saved until one is corrected.
    fn contradiction(&mut self, (a, a_says): (&str, &str), (b, b_says): (&str, &str)) {
        let message =
            format!("{} but {}: these answers contradict each other; correct one of them", capital(a_says), b_says);
        self.errors.add(a, message.clone());
        self.errors.add(b, message);
    }

    fn allergies(&mut self) -> Allergies {
        let listed = self.lines("allergies");
        let other = if self.check("allergies_none") {
            if listed.is_some() {
                self.errors.add("allergies_none", "cannot be ticked while allergies are listed");
            }
            Some(vec![])
        } else {
            listed
        };
        Allergies { ketamine_or_esketamine_hypersensitivity: self.yes_no("ketamine_hypersensitivity"), other }
    }

    fn medications(&mut self) -> Option<Vec<Medication>> {
        let mut rows = Vec::new();
        for i in 1..=MEDICATION_ROWS {
            let n = |c: &str| format!("med{i}_{c}");
            let name = self.text(&n("name"));
            let dose = self.unit(&n("dose_mg"), |raw| entry::DAILY_DOSE.parse(raw));
            let class = match self.raw(&n("class")) {
                None => None,
                Some("none") => Some(None),
                Some(raw) => match CLASS_VALUES.iter().find(|(k, _)| *k == raw) {
                    Some((_, c)) => Some(Some(*c)),
                    None => {
                        self.errors.add(n("class"), "is not one of the offered choices");
                        None
                    }
                },
            };
            let Some(name) = name else {
                if (self.raw(&n("dose_mg")).is_some() || self.raw(&n("class")).is_some())
                    && self.raw(&n("name")).is_none()
                {
                    self.errors.add(n("name"), "is required for a medication row that has other answers");
                }
                continue;
            };
            let drug = match (KnownDrug::from_name(name.as_str()), class) {
                (Some(known), None) => Drug::Known(known),
                (Some(_), Some(_)) => {
                    self.errors.add(n("class"), "must be left empty: kat knows this drug's classes");
                    continue;
                }
                (None, class) => Drug::Other { name, classes: class.map(|c| c.into_iter().collect()) },
            };
            rows.push(Medication { drug, total_daily_dose: dose });
        }
        if self.check("meds_none") {
            if !rows.is_empty() {
                self.errors.add("meds_none", "cannot be ticked while medications are listed");
            }
            return Some(vec![]);
        }
        (!rows.is_empty()).then_some(rows)
    }

    fn vitals(&mut self) -> BaselineVitals {
        BaselineVitals {
            blood_pressure: self.unit("bp", entry::blood_pressure),
            heart_rate: self.unit("heart_rate", |raw| entry::HEART_RATE.parse(raw)),
            spo2: self.unit("spo2", |raw| entry::SPO2.parse(raw)),
            respiratory_rate: self.unit("respiratory_rate", |raw| entry::RESPIRATORY_RATE.parse(raw)),
            weight: self.unit("weight_kg", |raw| entry::WEIGHT.parse(raw)),
            height: self.unit("height_cm", |raw| entry::HEIGHT.parse(raw)),
        }
    }

    fn workup(&mut self) -> Workup {
        let eval_on = self.date("psych_eval_date");
        let method = self.choice(
            "psych_eval_method",
            &[
                ("mini", DiagnosticInterview::Mini),
                ("scid", DiagnosticInterview::Scid),
                ("clinical_interview", DiagnosticInterview::ClinicalInterview),
            ],
        );
        if eval_on.is_some() != method.is_some() {
            let missing = if eval_on.is_none() { "psych_eval_date" } else { "psych_eval_method" };
            self.errors.add(missing, "is required with the other psychiatric-evaluation answer");
        }
        let ecg_date = self.date("ecg_labs_date");
        let ecg = match self.raw("ecg_labs") {
            None => None,
            Some("not_indicated") => Some(Investigations::NotIndicated),
            Some("pending") => Some(Investigations::IndicatedPending),
            Some("completed") => {
                self.require(
                    ecg_date.is_some() || self.raw("ecg_labs_date").is_some(),
                    "ecg_labs_date",
                    "is required when ECG and labs are completed",
                );
                ecg_date.map(|on| Investigations::Completed { on })
            }
            Some(_) => {
                self.errors.add("ecg_labs", "is not one of the offered choices");
                None
            }
        };
        let uds_on = self.date("uds_date");
        let uds_result = self.choice("uds_result", TESTS);
        if uds_on.is_some() != uds_result.is_some() {
            let missing = if uds_on.is_none() { "uds_date" } else { "uds_result" };
            self.errors.add(missing, "is required with the other drug-screen answer");
        }
        Workup {
            psychiatric_evaluation: eval_on
                .zip(method)
                .map(|(done_on, method)| PsychiatricEvaluation { done_on, method }),
            physical_examination_on: self.date("physical_exam_date"),
            prior_anaesthesia_reaction: self.yes_no("anaesthesia_reaction"),
            ecg_and_labs: ecg,
            substance_use_suspected: self.yes_no("substance_suspected"),
            urine_drug_screen: uds_on.zip(uds_result).map(|(taken_on, result)| DrugScreen {
                taken_on,
                result,
                detail: None,
            }),
            baseline_scales: BaselineScales {
                depression: self.date("scale_depression"),
                anxiety: self.date("scale_anxiety"),
                ptsd: self.date("scale_ptsd"),
                suicidality: self.date("scale_suicidality"),
                dissociation: self.date("scale_dissociation"),
            },
            urinary_symptom_screen: self.choice(
                "urinary_screen",
                &[("no_symptoms", UrinaryScreen::NoSymptoms), ("symptoms", UrinaryScreen::Symptoms)],
            ),
            mmse: self.unit("mmse", MmseScore::parse),
        }
    }

    fn consent(&mut self) -> Option<InformedConsent> {
        let signed_on = self.date("consent_date");
        let version = self.unit("consent_version", ConsentVersion::parse);
        let points: Vec<ConsentPoint> = CONSENT_POINTS.iter().filter(|(n, _)| self.check(n)).map(|(_, p)| *p).collect();
        let capacity = self.yes_no("capacity");
        let any = signed_on.is_some() || version.is_some() || !points.is_empty() || capacity.is_some();
        if !any {
            return None;
        }
        self.require(
            signed_on.is_some() || self.raw("consent_date").is_some(),
            "consent_date",
            "is required once consent is recorded",
        );
        self.require(
            version.is_some() || self.raw("consent_version").is_some(),
            "consent_version",
            "is required once consent is recorded",
        );
        Some(InformedConsent {
            signed_on: signed_on?,
            form_version: version?,
            points_covered: points,
            capacity_confirmed: capacity,
        })
    }

    fn transport(&mut self) -> Option<TransportPlan> {
        let plan = TransportPlan {
            escort_name: self.text("escort_name"),
            escort_phone: self.unit("escort_phone", Phone::parse),
            escort_stays_onsite: self.yes_no("escort_onsite"),
            no_driving_until_next_day_acknowledged: self.yes_no("no_driving_ack"),
        };
        (plan != TransportPlan::default()).then_some(plan)
    }
}

const STABILITIES: &[(&str, Stability)] =
    &[("none", Stability::None), ("stable", Stability::Stable), ("unstable", Stability::Unstable)];
/// The text with its first letter in upper case.
fn capital(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

const TESTS: &[(&str, TestResult)] = &[("negative", TestResult::Negative), ("positive", TestResult::Positive)];

/// A synthetic, fully answered intake with nothing beyond information findings (for
/// the demo clinic and tests); every date is `assessed_on`.
pub fn example_complete_answers(assessed_on: Date) -> IntakeAnswers {
    let day = assessed_on.to_string();
    let mut a = IntakeAnswers::new();
    for (k, v) in EXAMPLE {
        let v = if *v == "DATE" { day.as_str() } else { v };
        a.set(k, v).unwrap_or_else(|e| panic!("{k}: {e}"));
    }
    a
}

const EXAMPLE: &[(&str, &str)] = &[
    ("indication_trd", "on"),
    ("intended_product", "racemic_ketamine"),
    ("presenting_symptoms", "low mood\nanhedonia"),
    ("goals", "to enjoy gardening again"),
    ("trial1_drug", "sertraline"),
    ("trial1_dose_mg", "100"),
    ("trial1_weeks", "8"),
    ("trial1_response", "improvement"),
    ("trial1_improvement", "20"),
    ("trial1_current_episode", "yes"),
    ("trial1_adequate", "yes"),
    ("trial2_drug", "venlafaxine"),
    ("trial2_dose_mg", "150"),
    ("trial2_weeks", "8"),
    ("trial2_response", "no_adequate_response"),
    ("trial2_current_episode", "yes"),
    ("trial2_adequate", "yes"),
    ("schizophrenia", "no"),
    ("psychosis_current", "no"),
    ("psychosis_past", "no"),
    ("psychosis_relative", "no"),
    ("mania", "never"),
    ("bipolar_disorder", "no"),
    ("intoxicated", "no"),
    ("personality_disorder", "none"),
    ("neurocognitive", "no"),
    ("ideation", "wish_to_be_dead"),
    ("behaviour", "never"),
    ("substances_none", "on"),
    ("aneurysmal_vascular_disease", "no"),
    ("arteriovenous_malformation", "no"),
    ("intracerebral_haemorrhage", "no"),
    ("ketamine_hypersensitivity", "no"),
    ("bp_icp_hazard", "no"),
    ("hypertension", "none"),
    ("prior_cva", "no"),
    ("severe_coronary", "no"),
    ("arrhythmia", "no"),
    ("cardiovascular", "none"),
    ("cerebrovascular", "none"),
    ("raised_icp", "no"),
    ("glaucoma", "no"),
    ("open_globe", "no"),
    ("thyroid", "none"),
    ("hepatic", "none"),
    ("bladder", "no"),
    ("brain_injury", "none"),
    ("childbearing_potential", "no"),
    ("lactating", "no"),
    ("allergies_none", "on"),
    ("med1_name", "sertraline"),
    ("med1_dose_mg", "100"),
    ("bp", "122/78"),
    ("heart_rate", "72"),
    ("spo2", "98"),
    ("respiratory_rate", "14"),
    ("weight_kg", "70"),
    ("height_cm", "175"),
    ("psych_eval_date", "DATE"),
    ("psych_eval_method", "mini"),
    ("physical_exam_date", "DATE"),
    ("anaesthesia_reaction", "no"),
    ("ecg_labs", "not_indicated"),
    ("substance_suspected", "no"),
    ("scale_depression", "DATE"),
    ("scale_anxiety", "DATE"),
    ("scale_suicidality", "DATE"),
    ("scale_dissociation", "DATE"),
    ("urinary_screen", "no_symptoms"),
    ("consent_date", "DATE"),
    ("consent_version", "KAT-consent-v3"),
    ("consent_off_label_status", "on"),
    ("consent_dissociation", "on"),
    ("consent_sedation", "on"),
    ("consent_blood_pressure_rise", "on"),
    ("consent_nausea", "on"),
    ("consent_abuse_potential", "on"),
    ("consent_bladder_toxicity", "on"),
    ("consent_cognitive_effects", "on"),
    ("consent_driving", "on"),
    ("consent_alternatives", "on"),
    ("capacity", "yes"),
    ("escort_name", "partner"),
    ("escort_phone", "+1 555 010 0000"),
    ("escort_onsite", "yes"),
    ("no_driving_ack", "yes"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eligibility::{EligibilityPolicy, Status, evaluate};
    use jiff::civil::date;

    fn healthy_answers() -> IntakeAnswers {
        example_complete_answers(date(2026, 4, 20))
    }

    fn born() -> Option<BirthDate> {
        Some(BirthDate::from_stored(date(1985, 6, 15)))
    }

    #[test]
    fn healthy_answers_parse_to_an_eligible_intake() {
        let intake = healthy_answers().parse(born()).unwrap();
        let e = evaluate(&intake, &EligibilityPolicy::default(), date(2026, 5, 1));
        assert_eq!(e.status, Status::Eligible, "{:?} {:?}", e.findings, e.missing);
    }

    #[test]
    fn no_answers_parse_to_an_incomplete_intake() {
        let intake = IntakeAnswers::new().parse(None).unwrap();
        let e = evaluate(&intake, &EligibilityPolicy::default(), date(2026, 5, 1));
        assert_eq!(e.status, Status::Incomplete);
    }

    #[test]
    fn bad_answers_are_reported_per_field() {
        let mut a = healthy_answers();
        a.set("bp", "80/120").unwrap();
        a.set("schizophrenia", "maybe").unwrap();
        a.set("trial3_weeks", "4").unwrap();
        let errors = a.parse(born()).unwrap_err();
        for f in ["bp", "schizophrenia", "trial3_drug"] {
            assert!(errors.for_field(f).is_some(), "{f}: {errors:?}");
        }
        assert!(a.set("no_such_question", "x").is_err());
    }

    /// Issue: "pregnant: yes" with "of childbearing potential: no" screened eligible with
    /// no finding. Contradictory pairs are refused with both fields named; each answer on
    /// its own, or a consistent pair, still parses.
    #[test]
    fn contradictory_pregnancy_answers_name_both_fields() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<[&'a str; 2]>);
        let cases: [Case; 7] = [
            (&[("pregnant", "yes"), ("childbearing_potential", "no")], Some(["pregnant", "childbearing_potential"])),
            (&[("pregnant", "yes"), ("childbearing_potential", "yes")], None),
            (&[("pregnant", "no"), ("childbearing_potential", "no")], None),
            (
                &[("pregnancy_test_date", "2026-04-20"), ("pregnancy_test_result", "positive"), ("pregnant", "no")],
                Some(["pregnancy_test_result", "pregnant"]),
            ),
            (
                &[("pregnancy_test_date", "2026-04-20"), ("pregnancy_test_result", "positive")],
                Some(["pregnancy_test_result", "childbearing_potential"]),
            ),
            (
                &[
                    ("pregnancy_test_date", "2026-04-20"),
                    ("pregnancy_test_result", "negative"),
                    ("childbearing_potential", "yes"),
                    ("pregnant", "no"),
                ],
                None,
            ),
            (
                &[
                    ("pregnancy_test_date", "2026-04-20"),
                    ("pregnancy_test_result", "positive"),
                    ("childbearing_potential", "yes"),
                    ("pregnant", "yes"),
                ],
                None,
            ),
        ];
        for (answers, refused) in cases {
            let mut a = healthy_answers();
            for (name, value) in answers {
                a.set(name, value).unwrap();
            }
            match (a.parse(born()), refused) {
                (Ok(_), None) => {}
                (Err(errors), Some(fields)) => {
                    for f in fields {
                        let other = fields.iter().find(|o| **o != f).unwrap();
                        let message = errors.for_field(f).unwrap_or_else(|| panic!("{f} named: {errors:?}"));
                        assert!(message.contains("contradict"), "{message}");
                        // The message names the other answer in words, never by its key.
                        assert!(!message.contains(other), "{message}");
                    }
                }
                (result, expected) => panic!("{answers:?}: {result:?}, expected refusal of {expected:?}"),
            }
        }
    }

    #[test]
    fn a_hand_classed_drug_and_a_hard_stop() {
        let mut a = healthy_answers();
        a.set("med2_name", "phenelzine-like test drug").unwrap();
        a.set("med2_class", "maoi").unwrap();
        a.set("arteriovenous_malformation", "yes").unwrap();
        let intake = a.parse(born()).unwrap();
        let e = evaluate(&intake, &EligibilityPolicy::default(), date(2026, 5, 1));
        assert_eq!(e.status, Status::Excluded);
        assert!(e.findings.iter().any(|f| f.rule_id == "CI-002"));
        assert!(e.findings.iter().any(|f| f.rule_id == "DDI-003"));
    }

    #[test]
    fn intent_with_plan_raises_the_same_day_flag() {
        let mut a = healthy_answers();
        a.set("ideation", "active_with_plan_and_intent").unwrap();
        let intake = a.parse(born()).unwrap();
        let e = evaluate(&intake, &EligibilityPolicy::default(), date(2026, 5, 1));
        assert!(e.same_day_review.is_some());
    }
}
