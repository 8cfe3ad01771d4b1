//! The rule catalogue ([`RULES`]) and one function per evaluable rule of clinical.md §1.
//!
//! [`super::evaluate`] runs every `Coverage::Evaluated` function of the catalogue, so the
//! catalogue is the single list of what kat checks: a rule cannot be evaluated without
//! being listed, and a listed rule either names its function or says why intake data
//! cannot decide it.

use super::intake::*;
use super::medication::{DiazepamEquivalent, InteractionClass, Medication, diazepam_equivalent};
use super::policy::{EligibilityPolicy, PolicyAction};
use super::{Datum, Finding, Level};
use crate::dosing::units::trim_decimal;
use crate::monitoring::vitals::BloodPressure;
use jiff::civil::Date;
use jiff::{Span, ToSpan};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What a rule function reads.
pub struct RuleInput<'a> {
    pub(super) intake: &'a Intake,
    pub(super) policy: &'a EligibilityPolicy,
    pub(super) today: Date,
}

/// What a rule function writes: findings, missing answers, same-day-review reasons.
#[derive(Default)]
pub struct RuleOutput {
    pub(super) findings: Vec<Finding>,
    pub(super) missing: BTreeMap<&'static str, BTreeSet<&'static str>>,
    pub(super) same_day: Vec<String>,
}

impl RuleOutput {
    /// The value, or records `field` as missing for `rule`.
    fn need<'v, T>(&mut self, rule: &'static str, field: &'static str, v: &'v Option<T>) -> Option<&'v T> {
        if v.is_none() {
            self.missing_field(rule, field);
        }
        v.as_ref()
    }

    fn missing_field(&mut self, rule: &'static str, field: &'static str) {
        self.missing.entry(field).or_default().insert(rule);
    }

    fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }
}

/// A rule function.
pub type RuleFn = fn(&RuleInput<'_>, &mut RuleOutput);

/// How the catalogue covers a rule.
#[derive(Clone, Copy)]
pub enum Coverage {
    /// Evaluated from intake data by `function` (named `name`); `limits` says which part
    /// of the rule, if any, is left to another stage.
    Evaluated { function: RuleFn, name: &'static str, limits: Option<&'static str> },
    /// Not decidable from intake data, and why.
    NotFromIntake { reason: &'static str },
}

impl fmt::Debug for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Coverage::Evaluated { name, limits, .. } => {
                f.debug_struct("Evaluated").field("name", name).field("limits", limits).finish()
            }
            Coverage::NotFromIntake { reason } => f.debug_struct("NotFromIntake").field("reason", reason).finish(),
        }
    }
}

impl Serialize for Coverage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Coverage", 3)?;
        match self {
            Coverage::Evaluated { name, limits, .. } => {
                st.serialize_field("kind", "evaluated")?;
                st.serialize_field("function", name)?;
                st.serialize_field("limits", limits)?;
            }
            Coverage::NotFromIntake { reason } => {
                st.serialize_field("kind", "not_from_intake")?;
                st.serialize_field("function", &None::<&str>)?;
                st.serialize_field("reason", reason)?;
            }
        }
        st.end()
    }
}

/// One rule of clinical.md §1.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    /// Source keys as clinical.md cites them.
    pub sources: &'static [&'static str],
    /// Evidence tag(s) as clinical.md gives them.
    pub tag: &'static str,
    pub coverage: Coverage,
}

macro_rules! eval {
    ($f:ident) => {
        Coverage::Evaluated { function: $f, name: stringify!($f), limits: None }
    };
    ($f:ident, $limits:literal) => {
        Coverage::Evaluated { function: $f, name: stringify!($f), limits: Some($limits) }
    };
}

/// Every rule of clinical.md §1, in spec order.
pub static RULES: &[Rule] = &[
    // §1.1 Indications
    Rule {
        id: "IND-001",
        title: "Spravato US indications (TRD; MDSI with an oral antidepressant) in adults; clinic minimum age",
        sources: &["SPV-PI §1"],
        tag: "[V]",
        coverage: eval!(ind_001),
    },
    Rule {
        id: "IND-002",
        title: "Spravato for TRD as monotherapy or with an oral antidepressant, recorded per treatment plan",
        sources: &["FDA monotherapy approval news", "Medical News Today 2025"],
        tag: "[V2]",
        coverage: Coverage::NotFromIntake {
            reason: "a choice recorded on the treatment plan (monotherapy vs + oral AD), not an intake fact",
        },
    },
    Rule {
        id: "IND-003",
        title: "Spravato limitations of use shown in the MDSI pathway",
        sources: &["SPV-PI §1"],
        tag: "[V]",
        coverage: eval!(ind_003),
    },
    Rule {
        id: "IND-004",
        title: "Racemic ketamine for depression is off-label",
        sources: &["KET-PI §1", "PAR-2021"],
        tag: "[V]",
        coverage: eval!(ind_004),
    },
    Rule {
        id: "IND-005",
        title: "TRD: no adequate response (<50 %) to ≥2 adequate trials in the current episode",
        sources: &["FAVA-2020", "RPA-2024 (PMC11193313)", "Toronto Ketamine Clinic [P]"],
        tag: "[V]",
        coverage: eval!(ind_005),
    },
    Rule {
        id: "IND-006",
        title: "CANMAT 2021 evidence levels for racemic ketamine by route and course",
        sources: &["CANMAT-2021"],
        tag: "[V]",
        coverage: Coverage::NotFromIntake {
            reason: "depends on the route and course chosen in the treatment plan (single IV infusion vs series vs non-IV routes)",
        },
    },
    Rule {
        id: "IND-007",
        title: "Strongest data for non-psychotic MDD; other diagnoses insufficient",
        sources: &["SAN-2017"],
        tag: "[V2]",
        coverage: eval!(ind_007),
    },
    Rule {
        id: "IND-008",
        title: "PTSD: off-label, mixed evidence (lower certainty)",
        sources: &["FED-2021", "ABD-2022", "PMC10316217"],
        tag: "[V]",
        coverage: eval!(ind_008),
    },
    Rule {
        id: "IND-009",
        title: "Anxiety: off-label, low certainty",
        sources: &["Sage 2017", "DORE-2019", "HULL-2023"],
        tag: "[V]",
        coverage: eval!(ind_009),
    },
    Rule {
        id: "IND-010",
        title: "Alcohol use disorder: off-label (KARE protocol)",
        sources: &["GRAB-2022"],
        tag: "[V]",
        coverage: eval!(ind_010),
    },
    Rule {
        id: "IND-011",
        title: "Bipolar depression: clinic-configurable inclusion",
        sources: &["Toronto Ketamine Clinic [P]", "SZAR-2020"],
        tag: "[P]",
        coverage: eval!(ind_011),
    },
    // §1.2 Absolute contraindications
    Rule {
        id: "CI-001",
        title: "Aneurysmal vascular disease",
        sources: &["SPV-PI §4"],
        tag: "[V]",
        coverage: eval!(ci_001),
    },
    Rule {
        id: "CI-002",
        title: "Arteriovenous malformation",
        sources: &["SPV-PI §4"],
        tag: "[V]",
        coverage: eval!(ci_002),
    },
    Rule {
        id: "CI-003",
        title: "History of intracerebral haemorrhage",
        sources: &["SPV-PI §4"],
        tag: "[V]",
        coverage: eval!(ci_003),
    },
    Rule {
        id: "CI-004",
        title: "Hypersensitivity to esketamine, ketamine or an excipient",
        sources: &["SPV-PI §4", "KET-PI §4"],
        tag: "[V]",
        coverage: eval!(ci_004),
    },
    Rule {
        id: "CI-005",
        title: "A significant BP (or ICP) rise would be a serious hazard (clinician attests)",
        sources: &["KET-PI §4", "SPV-PI §5.6"],
        tag: "[V]",
        coverage: eval!(ci_005),
    },
    Rule {
        id: "CI-006",
        title: "Non-US labels: hypertension >180/100 at rest, cerebrovascular insult, (pre-)eclampsia, untreated hyperthyroidism, severe coronary/myocardial disease, cerebral trauma",
        sources: &["KET-CH", "KET-UK"],
        tag: "[V]",
        coverage: eval!(ci_006),
    },
    Rule {
        id: "CI-007",
        title: "Known or suspected schizophrenia",
        sources: &["ACEP-2011"],
        tag: "[V2]",
        coverage: eval!(ci_007),
    },
    // §1.3 Relative contraindications
    Rule {
        id: "RCI-001",
        title: "Psychosis: current, past, first-degree relative",
        sources: &["SPV-PI §5.2", "ELEKT-D", "Toronto Ketamine Clinic [P]", "Psyon [P]"],
        tag: "[V]/[P]",
        coverage: eval!(rci_001),
    },
    Rule {
        id: "RCI-002",
        title: "Active mania or hypomania",
        sources: &["NCT04560660", "PMC10812090 Table 1"],
        tag: "[V]",
        coverage: eval!(rci_002),
    },
    Rule {
        id: "RCI-003",
        title: "Substance use disorder and research presets",
        sources: &["SPV-PI §5.3", "PMC10812090", "NCT04560660", "SURE-ECT NCT05137938", "Psyon [P]"],
        tag: "mixed",
        coverage: eval!(rci_003, "day-of intoxication screening is DAY-003"),
    },
    Rule {
        id: "RCI-004",
        title: "Uncontrolled hypertension / unstable cardiovascular disease (baseline BP tiers of BP-006, HR of BP-007)",
        sources: &["PMC10812090 Table 1", "SPV-PI §5.6"],
        tag: "[V]",
        coverage: eval!(rci_004, "the day-of BP gate (§3.2) is evaluated before each dose, not here"),
    },
    Rule {
        id: "RCI-005",
        title: "Raised ICP or intracranial mass; open globe injury; glaucoma / raised IOP",
        sources: &["squ.edu.om", "KET-PI §6", "Ketamax MIMS", "ACEP-2011"],
        tag: "[V]",
        coverage: eval!(rci_005),
    },
    Rule {
        id: "RCI-006",
        title: "Hyperthyroidism / thyroid disease",
        sources: &["KET-CH", "ACEP-2011"],
        tag: "[V]/[U]",
        coverage: eval!(rci_006),
    },
    Rule {
        id: "RCI-007",
        title: "Hepatic disease",
        sources: &["KET-PI §5.6, §6", "SPV-PI §8.6"],
        tag: "[V]/[U]",
        coverage: eval!(rci_007),
    },
    Rule {
        id: "RCI-008",
        title: "Pregnancy and lactation",
        sources: &["SPV-PI §5.10, §8.1–8.3", "PMC10812090"],
        tag: "[V]",
        coverage: eval!(rci_008),
    },
    Rule {
        id: "RCI-009",
        title: "Lower urinary tract or bladder disease; baseline urinary-symptom screen",
        sources: &["SURE-ECT NCT05137938"],
        tag: "[V]",
        coverage: eval!(rci_009),
    },
    Rule {
        id: "RCI-010",
        title: "Neurocognitive disorder or symptomatic TBI (MMSE preset)",
        sources: &["Toronto Ketamine Clinic [P]", "PMC10812090", "NCT04560660"],
        tag: "[V]/[P]",
        coverage: eval!(rci_010),
    },
    Rule {
        id: "RCI-011",
        title: "High current suicide risk (same-day review, SUI-003)",
        sources: &["SPV-PI §1", "NCT04560660", "Psyon [P]"],
        tag: "[V]",
        coverage: eval!(rci_011),
    },
    Rule {
        id: "RCI-012",
        title: "Severe personality disorder interfering with cooperation",
        sources: &["Psyon [P]"],
        tag: "[P]",
        coverage: eval!(rci_012),
    },
    // §1.4 Drug interactions
    Rule {
        id: "DDI-001",
        title: "CNS depressants (benzodiazepines, opioids, alcohol, sedative hypnotics)",
        sources: &["SPV-PI §7", "KET-PI §7.3"],
        tag: "[V]",
        coverage: eval!(ddi_001, "re-screened before each dose (DAY-004)"),
    },
    Rule {
        id: "DDI-002",
        title: "Psychostimulants raise BP",
        sources: &["SPV-PI §7"],
        tag: "[V]",
        coverage: eval!(ddi_002, "re-screened before each dose (DAY-004)"),
    },
    Rule {
        id: "DDI-003",
        title: "MAOIs raise BP",
        sources: &["SPV-PI §7", "PMC6884875 Table 1"],
        tag: "[V]",
        coverage: eval!(ddi_003, "re-screened before each dose (DAY-004)"),
    },
    Rule {
        id: "DDI-004",
        title: "Benzodiazepine daily diazepam-equivalent above the cap reduces efficacy",
        sources: &["ANDR-2020", "FEENEY-2023", "AND-2017-DDI"],
        tag: "[V]",
        coverage: eval!(ddi_004, "holding a dose before a session is a day-of policy"),
    },
    Rule {
        id: "DDI-005",
        title: "Lamotrigine attenuates dissociative effects",
        sources: &["AND-2017-DDI"],
        tag: "[V]",
        coverage: eval!(ddi_005),
    },
    Rule {
        id: "DDI-006",
        title: "CYP2B6/3A4 inducers and inhibitors",
        sources: &["AND-2017-DDI"],
        tag: "[V]",
        coverage: eval!(ddi_006),
    },
    Rule {
        id: "DDI-007",
        title: "Theophylline/aminophylline: do not co-administer; sympathomimetics/vasopressin: monitor",
        sources: &["KET-PI §7.1–7.2", "NHS Highland ketamine guideline"],
        tag: "[V]",
        coverage: eval!(ddi_007),
    },
    Rule {
        id: "DDI-008",
        title: "Levothyroxine",
        sources: &["NHS Highland ketamine guideline"],
        tag: "[V]",
        coverage: eval!(ddi_008),
    },
    Rule {
        id: "DDI-009",
        title: "Alcohol and recreational drugs near a session (clinic windows)",
        sources: &["midwestheartsandminds", "nulifemedutah", "isha.health", "nervanamedical"],
        tag: "[P]",
        coverage: Coverage::NotFromIntake {
            reason: "concerns use in the hours around each session: patient counselling and the day-of screen (DAY-003), with the window as day-of policy",
        },
    },
    Rule {
        id: "DDI-010",
        title: "Spravato REMS monitoring form medication questions",
        sources: &["SPV-PMF-2021", "SPV-PMF-VIDEO"],
        tag: "[V]",
        coverage: eval!(ddi_010, "the form itself is completed per session"),
    },
    // §1.5 Pre-treatment items
    Rule {
        id: "PRE-001",
        title: "Comprehensive psychiatric evaluation",
        sources: &["SAN-2017", "PMC10812090"],
        tag: "[V2]",
        coverage: eval!(pre_001),
    },
    Rule {
        id: "PRE-002",
        title: "Medical history and exam, medications, allergies, anaesthesia reactions, ECG/labs when indicated",
        sources: &["PMC10812090", "PMC6884875", "SAN-2017"],
        tag: "[V]",
        coverage: eval!(pre_002),
    },
    Rule {
        id: "PRE-003",
        title: "Baseline vitals: BP, HR, SpO2, weight, height/BMI",
        sources: &["DOSE-IV-001", "SPV-PI §2"],
        tag: "[V]/[U]",
        coverage: eval!(pre_003),
    },
    Rule {
        id: "PRE-004",
        title: "Baseline rating scales",
        sources: &["PMC6727003", "ELEKT-D", "industrialpsychiatry SOP"],
        tag: "[V]",
        coverage: eval!(pre_004, "scores are held by the instruments module; intake records completion dates"),
    },
    Rule {
        id: "PRE-005",
        title: "Urine drug screen when substance use is suspected",
        sources: &["SAN-2017"],
        tag: "[V2]",
        coverage: eval!(pre_005),
    },
    Rule {
        id: "PRE-006",
        title: "Pregnancy test at intake for patients of childbearing potential",
        sources: &["PMC10812090", "SPV-PI §8.3"],
        tag: "[V]/[U]",
        coverage: eval!(pre_006, "per-session retesting is day-of policy (DAY-005)"),
    },
    Rule {
        id: "PRE-007",
        title: "Written informed consent with capacity",
        sources: &["Toronto Ketamine Clinic [P]", "Brain Health USA consent [P]", "SPV-REMS"],
        tag: "[V]/[P]",
        coverage: eval!(pre_007),
    },
    Rule {
        id: "PRE-008",
        title: "Spravato: patient REMS enrolment before the first treatment",
        sources: &["SPV-REMS-FDA", "SPV-REMS-SITE"],
        tag: "[V]",
        coverage: eval!(
            pre_008,
            "setting certification, prescriber onsite and pulse oximeter are clinic/day-of checks (DAY-001)"
        ),
    },
    Rule {
        id: "PRE-009",
        title: "Escort and transport plan",
        sources: &["SPV-PI §5.8, §17", "KET-UK", "LA DMH policy [P]"],
        tag: "[V]",
        coverage: eval!(pre_009, "day-of confirmation is DAY-002"),
    },
    Rule {
        id: "PRE-010",
        title: "Staff competence (ACLS), DEA Schedule III registration, ASA/ASKP3 standards",
        sources: &["SAN-2017", "ASA-KET", "ASKP3-2024"],
        tag: "[V]/[V2]",
        coverage: Coverage::NotFromIntake {
            reason: "a property of the clinic, its staff and its registration, not of the patient's intake",
        },
    },
];

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn level(action: PolicyAction) -> Level {
    match action {
        PolicyAction::Exclude => Level::HardStop,
        PolicyAction::PrescriberReview => Level::PrescriberReview,
        PolicyAction::Inform => Level::Information,
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

fn months_before(today: Date, months: u16) -> Date {
    today.checked_sub(Span::new().months(i64::from(months))).unwrap_or(Date::MIN)
}

fn sources_of(id: &str) -> &'static [&'static str] {
    RULES.iter().find(|r| r.id == id).map(|r| r.sources).unwrap_or(&[])
}

fn finding(rule: &'static str, level: Level, message: impl Into<String>) -> Finding {
    Finding {
        rule_id: rule,
        related_rules: Vec::new(),
        level,
        message: message.into(),
        data: Vec::new(),
        sources: sources_of(rule).to_vec(),
    }
}

impl Finding {
    fn with(mut self, label: &'static str, value: impl fmt::Display) -> Self {
        self.data.push(Datum { label, value: value.to_string() });
        self
    }

    fn related(mut self, rule: &'static str) -> Self {
        self.related_rules.push(rule);
        self
    }
}

/// A yes/no history item that is a hard stop when yes.
fn hard_stop_if_yes(
    rule: &'static str,
    field: &'static str,
    value: &Option<bool>,
    message: &str,
    out: &mut RuleOutput,
) {
    if let Some(true) = out.need(rule, field, value) {
        out.push(finding(rule, Level::HardStop, message).with(field, "yes"));
    }
}

fn indications<'a>(input: &'a RuleInput<'_>, rule: &'static str, out: &mut RuleOutput) -> Option<&'a Indications> {
    out.need(rule, "referral.indications", &input.intake.referral.indications)
}

fn product(input: &RuleInput<'_>, rule: &'static str, out: &mut RuleOutput) -> Option<IntendedProduct> {
    out.need(rule, "referral.intended_product", &input.intake.referral.intended_product).copied()
}

/// The medication list, recording it (and any drug whose classes were not chosen) as
/// missing for `rule`.
fn medications<'a>(input: &'a RuleInput<'_>, rule: &'static str, out: &mut RuleOutput) -> Option<&'a [Medication]> {
    let meds = out.need(rule, "medications", &input.intake.medications)?;
    if meds.iter().any(|m| m.drug.classes().is_none()) {
        out.missing_field(rule, "medications.interaction_classes");
    }
    Some(meds)
}

fn with_class(meds: &[Medication], class: InteractionClass) -> Vec<&Medication> {
    meds.iter().filter(|m| m.drug.has_class(class)).collect()
}

fn names(meds: &[&Medication]) -> String {
    meds.iter().map(|m| m.drug.name()).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------
// IND-005: treatment resistance, computed
// ---------------------------------------------------------------------------------------

/// IND-005's count of adequate failed trials.
pub const TRD_REQUIRED_FAILED_TRIALS: usize = 2;

/// The outcome of the IND-005 computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrdStatus {
    Met,
    NotMet,
    /// Unanswered trial details could change the outcome.
    Undetermined,
}

/// The IND-005 determination with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrdAssessment {
    pub status: TrdStatus,
    /// Trials that certainly count: current episode, adequate dose and duration, <50 %
    /// improvement.
    pub adequate_failed_trials: usize,
    /// Trials that might count once their missing answers are known.
    pub undetermined_trials: usize,
    /// Fields whose answers would settle an `Undetermined` outcome.
    pub missing_fields: Vec<&'static str>,
}

/// Computes IND-005 from the recorded trials. A trial counts when it was in the current
/// episode, the clinician judged dose and duration adequate, its duration meets the
/// policy minimum (if one is configured), and improvement was below 50 %.
pub fn assess_trd(trials: &[AntidepressantTrial], policy: &EligibilityPolicy) -> TrdAssessment {
    let mut definite = 0;
    let mut possible = 0;
    let mut missing: BTreeSet<&'static str> = BTreeSet::new();
    for t in trials {
        let too_short = match (policy.adequate_trial_min_weeks, t.duration) {
            (Some(min), Some(d)) => d.get() < min,
            _ => false,
        };
        let excluded = t.in_current_episode == Some(false)
            || t.adequate_dose_and_duration == Some(false)
            || t.response.is_some_and(|r| !r.is_inadequate())
            || too_short;
        if excluded {
            continue;
        }
        let mut unknown = Vec::new();
        if t.in_current_episode.is_none() {
            unknown.push("prior_antidepressant_trials.in_current_episode");
        }
        if t.adequate_dose_and_duration.is_none() {
            unknown.push("prior_antidepressant_trials.adequate_dose_and_duration");
        }
        if t.response.is_none() {
            unknown.push("prior_antidepressant_trials.response");
        }
        if policy.adequate_trial_min_weeks.is_some() && t.duration.is_none() {
            unknown.push("prior_antidepressant_trials.duration");
        }
        if unknown.is_empty() {
            definite += 1;
        } else {
            possible += 1;
            missing.extend(unknown);
        }
    }
    let status = if definite >= TRD_REQUIRED_FAILED_TRIALS {
        TrdStatus::Met
    } else if definite + possible < TRD_REQUIRED_FAILED_TRIALS {
        TrdStatus::NotMet
    } else {
        TrdStatus::Undetermined
    };
    TrdAssessment {
        status,
        adequate_failed_trials: definite,
        undetermined_trials: possible,
        missing_fields: if status == TrdStatus::Undetermined { missing.into_iter().collect() } else { Vec::new() },
    }
}

// ---------------------------------------------------------------------------------------
// §1.1 Indications
// ---------------------------------------------------------------------------------------

fn ind_001(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "IND-001";
    let product = product(input, R, out);
    let policy = input.policy;
    if let Some(birth) = out.need(R, "birth_date", &input.intake.birth_date) {
        let age = birth.age_on(input.today);
        if age < i16::from(policy.minimum_age_years) {
            out.push(
                finding(R, Level::HardStop, "Below the clinic's minimum age: the indications are for adults.")
                    .with("age_years", age)
                    .with("minimum_age_years", policy.minimum_age_years),
            );
        }
        if age < 18 && product == Some(IntendedProduct::Esketamine) {
            out.push(
                finding(R, Level::HardStop, "Spravato is not approved in patients under 18.")
                    .related("SUI-004")
                    .with("age_years", age),
            );
        }
        if let Some(max) = policy.maximum_age_years
            && age > i16::from(max)
        {
            out.push(
                finding(R, Level::HardStop, "Above the clinic's maximum age.")
                    .with("age_years", age)
                    .with("maximum_age_years", max),
            );
        }
    }
    if product != Some(IntendedProduct::Esketamine) {
        return;
    }
    let Some(ind) = indications(input, R, out) else {
        return;
    };
    let trd_claimed = ind.contains(|i| *i == Indication::TreatmentResistantDepression);
    let mdsi = ind.contains(|i| *i == Indication::MddWithSuicidalIdeation);
    if trd_claimed
        && let Some(trials) = out.need(R, "prior_antidepressant_trials", &input.intake.prior_antidepressant_trials)
    {
        let trd = assess_trd(trials, policy);
        match trd.status {
            TrdStatus::Met => {}
            TrdStatus::NotMet => out.push(
                finding(R, Level::PrescriberReview, "Spravato is indicated for treatment-resistant depression, but the recorded trials do not meet the TRD definition (IND-005).")
                    .related("IND-005")
                    .with("adequate_failed_trials", trd.adequate_failed_trials),
            ),
            TrdStatus::Undetermined => {
                for f in trd.missing_fields {
                    out.missing_field(R, f);
                }
            }
        }
    }
    if mdsi
        && let Some(meds) = medications(input, R, out)
        && with_class(meds, InteractionClass::OralAntidepressant).is_empty()
    {
        out.push(finding(R, Level::PrescriberReview, "For MDD with acute suicidal ideation or behaviour, Spravato is given with an oral antidepressant; none is on the medication list."));
    }
    if !trd_claimed && !mdsi {
        out.push(
            finding(R, Level::PrescriberReview, "Spravato is planned for an indication outside its US label (TRD, or MDD with acute suicidal ideation or behaviour).")
                .with("indications", ind.as_slice().iter().map(Indication::label).collect::<Vec<_>>().join("; ")),
        );
    }
}

fn ind_003(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "IND-003";
    let Some(ind) = indications(input, R, out) else {
        return;
    };
    if ind.contains(|i| *i == Indication::MddWithSuicidalIdeation) {
        out.push(finding(R, Level::Information, "MDSI pathway, Spravato limitations of use: it has not been shown to prevent suicide or reduce suicidal ideation or behaviour; it does not remove the need for hospitalisation when clinically warranted, even if the patient improves after the first dose; it is not approved as an anaesthetic."));
    }
}

fn ind_004(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "IND-004";
    match product(input, R, out) {
        Some(IntendedProduct::RacemicKetamine) | Some(IntendedProduct::Undecided) => out.push(
            finding(R, Level::Information, "Racemic ketamine for psychiatric indications is off-label (its FDA label covers anaesthesia only); consent must cover the off-label status (PRE-007).")
                .related("PRE-007"),
        ),
        _ => {}
    }
}

fn ind_005(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "IND-005";
    let Some(trials) = out.need(R, "prior_antidepressant_trials", &input.intake.prior_antidepressant_trials) else {
        return;
    };
    let Some(ind) = indications(input, R, out) else {
        return;
    };
    if !ind.contains(|i| *i == Indication::TreatmentResistantDepression) {
        return;
    }
    let trd = assess_trd(trials, input.policy);
    let with_counts = |f: Finding| {
        f.with("adequate_failed_trials", trd.adequate_failed_trials)
            .with("required", TRD_REQUIRED_FAILED_TRIALS)
            .with("trials_recorded", trials.len())
    };
    match trd.status {
        TrdStatus::Met => out.push(with_counts(finding(R, Level::Information, "Meets the treatment-resistance definition: ≥2 adequate trials in the current episode without adequate response (<50 % improvement)."))),
        TrdStatus::NotMet => out.push(with_counts(finding(R, Level::PrescriberReview, "Referred for treatment-resistant depression, but fewer than 2 adequate antidepressant trials without response are recorded for the current episode."))),
        TrdStatus::Undetermined => {
            for f in &trd.missing_fields {
                out.missing_field(R, f);
            }
        }
    }
}

fn ind_007(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "IND-007";
    let Some(ind) = indications(input, R, out) else {
        return;
    };
    for i in ind.as_slice() {
        if let Indication::Other(_) = i {
            out.push(
                finding(R, Level::PrescriberReview, "Indication outside the diagnoses with published ketamine evidence; the APA consensus judged data for other diagnoses insufficient.")
                    .with("indication", i.label()),
            );
        }
    }
    if !ind.as_slice().iter().any(Indication::is_unipolar_depressive) {
        out.push(finding(R, Level::Information, "The strongest evidence is for major depressive episodes without psychotic features; data for other diagnoses are limited, and data beyond about 1 month of treatment are very limited."));
    }
}

fn indication_info(
    input: &RuleInput<'_>,
    out: &mut RuleOutput,
    rule: &'static str,
    matches: fn(&Indication) -> bool,
    message: &str,
) {
    let Some(ind) = indications(input, rule, out) else {
        return;
    };
    if let Some(i) = ind.as_slice().iter().find(|i| matches(i)) {
        out.push(finding(rule, Level::Information, message).with("indication", i.label()));
    }
}

fn ind_008(input: &RuleInput<'_>, out: &mut RuleOutput) {
    indication_info(
        input,
        out,
        "IND-008",
        |i| matches!(i, Indication::Ptsd | Indication::ComplexPtsd),
        "PTSD is an off-label indication with mixed, lower-certainty evidence (no benefit in a veterans' trial).",
    );
}

fn ind_009(input: &RuleInput<'_>, out: &mut RuleOutput) {
    indication_info(
        input,
        out,
        "IND-009",
        |i| matches!(i, Indication::AnxietyDisorder(_)),
        "Anxiety is an off-label indication with low-certainty evidence.",
    );
}

fn ind_010(input: &RuleInput<'_>, out: &mut RuleOutput) {
    indication_info(
        input,
        out,
        "IND-010",
        |i| matches!(i, Indication::AlcoholUseDisorder),
        "Alcohol use disorder is off-label; the supporting trial used 3 weekly IV infusions with mindfulness-based relapse-prevention therapy.",
    );
}

fn ind_011(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "IND-011";
    let psych = &input.intake.psychiatric;
    let indicated = indications(input, R, out).map(|i| i.contains(|i| *i == Indication::BipolarDepression));
    let diagnosis = out.need(R, "psychiatric.bipolar_disorder", &psych.bipolar_disorder).copied();
    let past_mania =
        out.need(R, "psychiatric.mania_or_hypomania", &psych.mania_or_hypomania).map(|m| *m != ManiaHistory::Never);
    if indicated == Some(true) || diagnosis == Some(true) || past_mania == Some(true) {
        let lvl = level(input.policy.bipolar_depression);
        out.push(
            finding(R, lvl, match lvl {
                Level::HardStop => "Bipolar disorder: this clinic does not treat bipolar depression.",
                Level::PrescriberReview => "Bipolar disorder: ketamine only in the depressive phase, by prescriber decision (clinic policy).",
                Level::Information => "Bipolar disorder: treat in the depressive phase only (clinic includes bipolar depression).",
            })
            .with("bipolar_indication", indicated.map_or("unanswered".into(), yes_no))
            .with("bipolar_diagnosis", diagnosis.map_or("unanswered".into(), yes_no))
            .with("mania_or_hypomania_ever", past_mania.map_or("unanswered".into(), yes_no)),
        );
    }
}

// ---------------------------------------------------------------------------------------
// §1.2 Absolute contraindications
// ---------------------------------------------------------------------------------------

fn ci_001(input: &RuleInput<'_>, out: &mut RuleOutput) {
    hard_stop_if_yes(
        "CI-001",
        "medical.aneurysmal_vascular_disease",
        &input.intake.medical.aneurysmal_vascular_disease,
        "Aneurysmal vascular disease (aortic, intracranial or peripheral): absolute contraindication.",
        out,
    );
}

fn ci_002(input: &RuleInput<'_>, out: &mut RuleOutput) {
    hard_stop_if_yes(
        "CI-002",
        "medical.arteriovenous_malformation",
        &input.intake.medical.arteriovenous_malformation,
        "Arteriovenous malformation: absolute contraindication.",
        out,
    );
}

fn ci_003(input: &RuleInput<'_>, out: &mut RuleOutput) {
    hard_stop_if_yes(
        "CI-003",
        "medical.intracerebral_haemorrhage",
        &input.intake.medical.intracerebral_haemorrhage,
        "History of intracerebral haemorrhage: absolute contraindication.",
        out,
    );
}

fn ci_004(input: &RuleInput<'_>, out: &mut RuleOutput) {
    hard_stop_if_yes(
        "CI-004",
        "allergies.ketamine_or_esketamine_hypersensitivity",
        &input.intake.allergies.ketamine_or_esketamine_hypersensitivity,
        "Hypersensitivity to ketamine, esketamine or an excipient: absolute contraindication.",
        out,
    );
}

fn ci_005(input: &RuleInput<'_>, out: &mut RuleOutput) {
    hard_stop_if_yes(
        "CI-005",
        "medical.bp_or_icp_rise_serious_hazard",
        &input.intake.medical.bp_or_icp_rise_serious_hazard,
        "The clinician attests that a significant rise in blood pressure or intracranial pressure would be a serious hazard: contraindicated.",
        out,
    );
}

/// A blood pressure as findings have always shown it ("150/95 mmHg"; the shared type
/// displays the UCUM code `mm[Hg]`).
fn bp_text(bp: BloodPressure) -> String {
    format!("{}/{} mmHg", bp.systolic(), bp.diastolic())
}

/// CI-006 label limit: hypertension above 180/100 mmHg at rest (Swiss label, \[V\]).
pub const CI_006_SYSTOLIC_ABOVE: u16 = 180;
pub const CI_006_DIASTOLIC_ABOVE: u16 = 100;

fn ci_006(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "CI-006";
    let lvl = level(input.policy.non_us_label_contraindications);
    let m = &input.intake.medical;
    if let Some(bp) = out.need(R, "vitals.blood_pressure", &input.intake.vitals.blood_pressure)
        && (bp.systolic() > CI_006_SYSTOLIC_ABOVE || bp.diastolic() > CI_006_DIASTOLIC_ABOVE)
    {
        out.push(
            finding(R, lvl, "Resting blood pressure above 180/100 mmHg (poorly controlled or untreated hypertension): contraindicated on the Swiss label. Defer and refer for BP control.")
                .related("BP-003")
                .with("blood_pressure", bp_text(*bp)),
        );
    }
    let flags: [(&'static str, &Option<bool>, &str); 2] = [
        (
            "medical.prior_cerebrovascular_accident",
            &m.prior_cerebrovascular_accident,
            "Prior cerebrovascular insult: contraindicated on the Swiss and UK labels.",
        ),
        (
            "medical.severe_coronary_or_myocardial_disease",
            &m.severe_coronary_or_myocardial_disease,
            "Severe coronary or myocardial disease: contraindicated on the UK label.",
        ),
    ];
    for (field, value, message) in flags {
        if let Some(true) = out.need(R, field, value) {
            out.push(finding(R, lvl, message).with(field, "yes"));
        }
    }
    if let Some(ThyroidStatus::HyperthyroidismUntreatedOrInsufficientlyTreated) =
        out.need(R, "medical.thyroid", &m.thyroid)
    {
        out.push(
            finding(R, lvl, "Untreated or insufficiently treated hyperthyroidism: contraindicated on the Swiss label.")
                .with("medical.thyroid", "hyperthyroidism, untreated or insufficiently treated"),
        );
    }
    if let Some(BrainInjury::AcuteCerebralTrauma) = out.need(R, "medical.brain_injury", &m.brain_injury) {
        out.push(
            finding(R, lvl, "Recent cerebral trauma: contraindicated on the UK label.")
                .with("medical.brain_injury", "acute cerebral trauma"),
        );
    }
    let repro = &input.intake.reproductive;
    if repro.childbearing_potential != Some(false)
        && let Some(true) = out.need(R, "reproductive.pre_eclampsia_or_eclampsia", &repro.pre_eclampsia_or_eclampsia)
    {
        out.push(
            finding(R, lvl, "Pre-eclampsia or eclampsia: contraindicated on the Swiss and UK labels.")
                .with("reproductive.pre_eclampsia_or_eclampsia", "yes"),
        );
    }
}

fn ci_007(input: &RuleInput<'_>, out: &mut RuleOutput) {
    hard_stop_if_yes(
        "CI-007",
        "psychiatric.schizophrenia_known_or_suspected",
        &input.intake.psychiatric.schizophrenia_known_or_suspected,
        "Known or suspected schizophrenia: absolute contraindication.",
        out,
    );
}

// ---------------------------------------------------------------------------------------
// §1.3 Relative contraindications
// ---------------------------------------------------------------------------------------

fn rci_001(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-001";
    let p = &input.intake.psychiatric;
    let policy = input.policy;
    let items: [(&'static str, &Option<bool>, PolicyAction, &str); 3] = [
        (
            "psychiatric.psychosis_current",
            &p.psychosis_current,
            policy.current_psychosis,
            "Current psychosis or psychotic features in the current episode.",
        ),
        (
            "psychiatric.psychosis_past",
            &p.psychosis_past,
            policy.past_psychosis,
            "History of psychosis: psychiatrist review; start only if benefit outweighs risk.",
        ),
        (
            "psychiatric.psychosis_first_degree_relative",
            &p.psychosis_first_degree_relative,
            policy.first_degree_relative_psychosis,
            "Psychotic disorder in a first-degree relative: many programs exclude.",
        ),
    ];
    for (field, value, action, message) in items {
        if let Some(true) = out.need(R, field, value) {
            out.push(finding(R, level(action), message).with(field, "yes"));
        }
    }
}

fn rci_002(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-002";
    if let Some(ManiaHistory::Current) =
        out.need(R, "psychiatric.mania_or_hypomania", &input.intake.psychiatric.mania_or_hypomania)
    {
        out.push(
            finding(R, level(input.policy.active_mania), "Active mania or hypomania.")
                .with("psychiatric.mania_or_hypomania", "current"),
        );
    }
}

fn rci_003(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-003";
    let p = &input.intake.psychiatric;
    let sp = &input.policy.substance;
    let today = input.today;
    if let Some(true) = out.need(R, "psychiatric.intoxicated_or_in_withdrawal", &p.intoxicated_or_in_withdrawal) {
        out.push(
            finding(R, level(sp.intoxication_or_withdrawal), "Acute intoxication or withdrawal at assessment.")
                .with("psychiatric.intoxicated_or_in_withdrawal", "yes"),
        );
    }
    let Some(uses) = out.need(R, "psychiatric.substance_use", &p.substance_use) else {
        return;
    };
    let year_ago = months_before(today, 12);
    for u in uses {
        let substance = u.substance.label();
        // "More than rare" recreational use in the past year.
        if let Some(preset) = &sp.frequent_use
            && preset.substances.contains(&u.substance)
        {
            let not_in_past_year = matches!(u.last_use, Some(LastOccurrence::On(d)) if d < year_ago);
            if !not_in_past_year
                && let Some(n) = out.need(R, "psychiatric.substance_use.uses_past_year", &u.uses_past_year)
                && n.get() > preset.max_uses_past_year
            {
                out.push(
                    finding(R, level(preset.action), "More than rare recreational use in the past year of a substance with a research exclusion (opioids, ketamine, PCP).")
                        .with("substance", substance)
                        .with("uses_past_year", n.get())
                        .with("allowed_uses_past_year", preset.max_uses_past_year),
                );
            }
        }
        let Some(disorder) = out.need(R, "psychiatric.substance_use.use_disorder", &u.use_disorder) else {
            continue;
        };
        let UseDisorder::Ever { severity, criteria_last_met } = *disorder else {
            continue;
        };
        out.push(
            finding(
                R,
                level(sp.any_use_disorder_history),
                "History of a substance use disorder: consider carefully and monitor for abuse.",
            )
            .with("substance", substance)
            .with("severity", severity.map_or("unanswered".into(), |s| format!("{s:?}").to_lowercase()))
            .with("criteria_last_met", criteria_last_met.map_or("unanswered".into(), |d| d.to_string())),
        );
        if let Some(preset) = sp.severe_disorder_within {
            let severe = out.need(R, "psychiatric.substance_use.use_disorder.severity", &severity).copied();
            if severe == Some(SudSeverity::Severe)
                && let Some(last) =
                    out.need(R, "psychiatric.substance_use.use_disorder.criteria_last_met", &criteria_last_met)
                && last.on_or_after(months_before(today, preset.months))
            {
                out.push(
                    finding(R, level(preset.action), "Severe substance use disorder within the configured window.")
                        .with("substance", substance)
                        .with("criteria_last_met", last)
                        .with("window_months", preset.months),
                );
            }
        }
        if let Some(preset) = sp.any_disorder_within
            && let Some(last) =
                out.need(R, "psychiatric.substance_use.use_disorder.criteria_last_met", &criteria_last_met)
            && last.on_or_after(months_before(today, preset.months))
        {
            out.push(
                finding(R, level(preset.action), "Substance use disorder within the configured window.")
                    .with("substance", substance)
                    .with("criteria_last_met", last)
                    .with("window_months", preset.months),
            );
        }
        if u.substance == Substance::Ketamine
            && let Some(action) = sp.lifetime_ketamine_use_disorder
        {
            out.push(finding(R, level(action), "Lifetime ketamine use disorder.").with("substance", substance));
        }
        if let Some(preset) = sp.abstinence_required
            && let Some(last) = out.need(R, "psychiatric.substance_use.last_use", &u.last_use)
            && last.on_or_after(months_before(today, preset.months))
        {
            out.push(
                finding(R, level(preset.action), "Substance use disorder without the required period of abstinence.")
                    .with("substance", substance)
                    .with("last_use", last)
                    .with("required_abstinence_months", preset.months),
            );
        }
    }
}

fn rci_004(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-004";
    let m = &input.intake.medical;
    let policy = input.policy;
    match out.need(R, "medical.hypertension", &m.hypertension) {
        Some(Hypertension::PoorlyControlled) | Some(Hypertension::Untreated) => out.push(
            finding(
                R,
                Level::PrescriberReview,
                "Uncontrolled or untreated hypertension: known hypertensives must be controlled before treatment.",
            )
            .with("medical.hypertension", format!("{:?}", m.hypertension.unwrap()).to_lowercase()),
        ),
        Some(Hypertension::Controlled) => out.push(finding(
            R,
            Level::Information,
            "Treated, controlled hypertension: not exclusionary; expect a transient BP rise during dosing.",
        )),
        _ => {}
    }
    if let Some(true) = out.need(R, "medical.significant_arrhythmia", &m.significant_arrhythmia) {
        out.push(
            finding(
                R,
                Level::PrescriberReview,
                "Significant arrhythmia: unstable cardiovascular disease needs prescriber review.",
            )
            .with("medical.significant_arrhythmia", "yes"),
        );
    }
    let conditions: [(&'static str, &Option<Stability>, &str); 2] = [
        ("medical.cardiovascular_disease", &m.cardiovascular_disease, "cardiovascular"),
        ("medical.cerebrovascular_disease", &m.cerebrovascular_disease, "cerebrovascular"),
    ];
    for (field, value, kind) in conditions {
        match out.need(R, field, value) {
            Some(Stability::Unstable) => out.push(
                finding(
                    R,
                    Level::PrescriberReview,
                    format!("Unstable {kind} disease: assess carefully before prescribing (research exclusion)."),
                )
                .with(field, "unstable"),
            ),
            Some(Stability::Stable) => out.push(
                finding(
                    R,
                    Level::PrescriberReview,
                    format!("Stable {kind} disease: assess carefully before prescribing (Spravato label)."),
                )
                .with(field, "stable"),
            ),
            _ => {}
        }
    }
    if let Some(bp) = out.need(R, "vitals.blood_pressure", &input.intake.vitals.blood_pressure) {
        let tiers = &policy.bp_tiers;
        let tier = if tiers.hard_defer.reached_by(*bp) {
            Some((
                Level::HardStop,
                "Baseline BP at or above the hard-defer tier: defer and refer for BP control.",
                tiers.hard_defer,
            ))
        } else if tiers.defer.reached_by(*bp) {
            Some((
                Level::PrescriberReview,
                "Baseline BP in the defer tier: defer unless the prescriber overrides with a documented reason; recheck after 5–10 min rest.",
                tiers.defer,
            ))
        } else if tiers.caution.reached_by(*bp) {
            Some((
                Level::PrescriberReview,
                "Baseline BP in the caution tier: prescriber attestation needed; recheck after 5–10 min rest.",
                tiers.caution,
            ))
        } else {
            None
        };
        if let Some((lvl, message, threshold)) = tier {
            out.push(
                finding(R, lvl, message)
                    .related("BP-006")
                    .with("blood_pressure", bp_text(*bp))
                    .with("tier_threshold", threshold),
            );
        }
    }
    if let Some(hr) = out.need(R, "vitals.heart_rate", &input.intake.vitals.heart_rate) {
        let limits = policy.heart_rate;
        if *hr < limits.low || *hr > limits.high {
            out.push(
                finding(
                    R,
                    Level::PrescriberReview,
                    "Resting heart rate outside the configured range: prescriber review.",
                )
                .related("BP-007")
                .with("heart_rate", hr)
                .with("allowed", format!("{}–{} /min", limits.low.get(), limits.high.get())),
            );
        }
    }
}

fn rci_005(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-005";
    let m = &input.intake.medical;
    let items: [(&'static str, &Option<bool>, &str); 3] = [
        (
            "medical.raised_intracranial_pressure_or_mass",
            &m.raised_intracranial_pressure_or_mass,
            "Raised intracranial pressure or an intracranial mass: prescriber review.",
        ),
        (
            "medical.glaucoma_or_raised_intraocular_pressure",
            &m.glaucoma_or_raised_intraocular_pressure,
            "Glaucoma or raised intraocular pressure: prescriber review.",
        ),
        ("medical.open_globe_injury", &m.open_globe_injury, "Open globe injury: prescriber review."),
    ];
    for (field, value, message) in items {
        if let Some(true) = out.need(R, field, value) {
            out.push(finding(R, Level::PrescriberReview, message).with(field, "yes"));
        }
    }
}

fn rci_006(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-006";
    let Some(status) = out.need(R, "medical.thyroid", &input.intake.medical.thyroid) else {
        return;
    };
    if *status != ThyroidStatus::None {
        out.push(
            finding(
                R,
                Level::PrescriberReview,
                "Thyroid disease (hyperthyroidism especially) is a relative contraindication.",
            )
            .with("medical.thyroid", format!("{status:?}")),
        );
    }
}

fn rci_007(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-007";
    let Some(HepaticDisease::Present { child_pugh }) =
        out.need(R, "medical.hepatic", &input.intake.medical.hepatic).copied()
    else {
        return;
    };
    let product = input.intake.referral.intended_product;
    let esketamine_possible = product != Some(IntendedProduct::RacemicKetamine);
    let class =
        if esketamine_possible { out.need(R, "medical.hepatic.child_pugh", &child_pugh).copied() } else { child_pugh };
    let message = match class {
        Some(ChildPugh::C) if esketamine_possible => {
            "Hepatic disease, Child-Pugh C: Spravato not recommended; ketamine risks drug-induced liver injury with repeated use."
        }
        Some(ChildPugh::B) if esketamine_possible => {
            "Hepatic disease, Child-Pugh B: Spravato may need longer monitoring; ketamine risks drug-induced liver injury with repeated use."
        }
        _ => "Hepatic disease: ketamine risks drug-induced liver injury with repeated or prolonged use.",
    };
    out.push(
        finding(R, Level::PrescriberReview, message)
            .with("child_pugh", class.map_or("unclassified".into(), |c| format!("{c:?}"))),
    );
}

fn rci_008(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-008";
    let r = &input.intake.reproductive;
    let policy = input.policy;
    if let Some(true) = out.need(R, "reproductive.childbearing_potential", &r.childbearing_potential) {
        let positive_test = r.pregnancy_test.is_some_and(|t| t.result == TestResult::Positive);
        let pregnant = out.need(R, "reproductive.pregnant", &r.pregnant).copied();
        if pregnant == Some(true) || positive_test {
            out.push(
                finding(
                    R,
                    level(policy.pregnancy),
                    "Pregnancy: ketamine/esketamine may cause fetal harm and is not recommended.",
                )
                .with("reproductive.pregnant", pregnant.map_or("unanswered".into(), yes_no))
                .with("pregnancy_test", if positive_test { "positive" } else { "not positive" }),
            );
        }
    }
    if let Some(true) = out.need(R, "reproductive.lactating", &r.lactating) {
        out.push(
            finding(R, level(policy.lactation), "Breastfeeding is not recommended during treatment.")
                .with("reproductive.lactating", "yes"),
        );
    }
}

fn rci_009(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-009";
    let action = level(input.policy.bladder_disease);
    if let Some(true) = out.need(
        R,
        "medical.lower_urinary_tract_or_bladder_disease",
        &input.intake.medical.lower_urinary_tract_or_bladder_disease,
    ) {
        out.push(
            finding(
                R,
                action,
                "Lower urinary tract or bladder disease: some trials exclude; ketamine can cause bladder toxicity.",
            )
            .with("medical.lower_urinary_tract_or_bladder_disease", "yes"),
        );
    }
    if let Some(UrinaryScreen::Symptoms) =
        out.need(R, "workup.urinary_symptom_screen", &input.intake.workup.urinary_symptom_screen)
    {
        out.push(finding(R, action, "Existing urinary symptoms at baseline: record as the baseline for bladder-toxicity monitoring (AE-010).").with("workup.urinary_symptom_screen", "symptoms"));
    }
}

fn rci_010(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-010";
    let action = level(input.policy.neurocognitive_disorder);
    if let Some(true) =
        out.need(R, "psychiatric.neurocognitive_disorder", &input.intake.psychiatric.neurocognitive_disorder)
    {
        out.push(
            finding(R, action, "Neurocognitive disorder (dementia): excluded by some programs.")
                .with("psychiatric.neurocognitive_disorder", "yes"),
        );
    }
    if let Some(BrainInjury::Symptomatic) = out.need(R, "medical.brain_injury", &input.intake.medical.brain_injury) {
        out.push(
            finding(R, action, "Symptomatic traumatic brain injury: excluded by some programs.")
                .with("medical.brain_injury", "symptomatic"),
        );
    }
    if let Some(rule) = input.policy.cognitive_screen
        && let Some(birth) = out.need(R, "birth_date", &input.intake.birth_date)
    {
        let age = birth.age_on(input.today);
        if age >= i16::from(rule.min_age)
            && age <= i16::from(rule.max_age)
            && let Some(mmse) = out.need(R, "workup.mmse", &input.intake.workup.mmse)
            && *mmse < rule.min_mmse
        {
            out.push(
                finding(R, level(rule.action), "MMSE below the configured minimum for this age band.")
                    .with("age_years", age)
                    .with("mmse", mmse)
                    .with("minimum_mmse", rule.min_mmse),
            );
        }
    }
}

fn rci_011(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-011";
    let s = &input.intake.suicidality;
    let window = input.policy.recent_suicidal_behaviour_months;
    let since = months_before(input.today, window);
    let mut reasons: Vec<String> = Vec::new();
    let mut moderate: Vec<String> = Vec::new();
    if let Some(ideation) = out.need(R, "suicidality.ideation_past_month", &s.ideation_past_month) {
        if ideation.has_intent() {
            reasons.push(match ideation {
                SuicidalIdeation::ActiveWithPlanAndIntent => {
                    "active suicidal ideation with a specific plan and intent in the past month".into()
                }
                _ => "active suicidal ideation with some intent to act in the past month".into(),
            });
        } else if *ideation == SuicidalIdeation::ActiveWithMethod {
            moderate.push("active suicidal ideation with a method, without intent, in the past month".into());
        }
    }
    if let Some(SuicidalBehaviour::Ever { most_recent }) = out.need(R, "suicidality.behaviour", &s.behaviour)
        && let Some(date) = out.need(R, "suicidality.behaviour.most_recent", most_recent)
    {
        if *date >= since {
            reasons.push(format!("suicidal behaviour on {date}, within the past {window} months"));
        } else {
            moderate.push(format!("suicidal behaviour on {date}, more than {window} months ago"));
        }
    }
    if !reasons.is_empty() {
        let mut f = finding(R, level(input.policy.high_suicide_risk), "High current suicide risk: same-day clinician assessment; activate the safety plan; defer dosing if the patient cannot be kept safe as an outpatient; emergency services or crisis line (US: 988); document the disposition.")
            .related("SUI-003");
        for reason in &reasons {
            f = f.with("high_risk_answer", reason);
        }
        out.push(f);
        out.same_day.extend(reasons);
    }
    if !moderate.is_empty() {
        let mut f = finding(
            R,
            Level::Information,
            "Moderate suicide risk on screening: behavioural-health consultation; consider safety precautions.",
        )
        .related("SUI-001");
        for reason in &moderate {
            f = f.with("moderate_risk_answer", reason);
        }
        out.push(f);
    }
    if let Some(birth) = input.intake.birth_date
        && birth.age_on(input.today) <= 24
    {
        out.push(
            finding(
                R,
                Level::Information,
                "Aged 24 or under: extra suicidality monitoring (antidepressant class warning).",
            )
            .related("SUI-004")
            .with("age_years", birth.age_on(input.today)),
        );
    }
}

fn rci_012(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "RCI-012";
    if let Some(PersonalityDisorder::Present { severe_interfering_with_cooperation }) =
        out.need(R, "psychiatric.personality_disorder", &input.intake.psychiatric.personality_disorder)
        && let Some(true) = out.need(
            R,
            "psychiatric.personality_disorder.severe_interfering_with_cooperation",
            severe_interfering_with_cooperation,
        )
    {
        out.push(finding(
            R,
            level(input.policy.severe_personality_disorder),
            "Severe personality disorder interfering with cooperation: excluded by some KAP programs.",
        ));
    }
}

// ---------------------------------------------------------------------------------------
// §1.4 Drug interactions
// ---------------------------------------------------------------------------------------

fn class_finding(
    input: &RuleInput<'_>,
    out: &mut RuleOutput,
    rule: &'static str,
    class: InteractionClass,
    lvl: Level,
    message: &str,
) {
    let Some(meds) = medications(input, rule, out) else {
        return;
    };
    let found = with_class(meds, class);
    if !found.is_empty() {
        out.push(finding(rule, lvl, message).with("medications", names(&found)));
    }
}

fn ddi_001(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "DDI-001";
    if let Some(meds) = medications(input, R, out) {
        let found: Vec<&Medication> =
            meds.iter().filter(|m| m.drug.classes().is_some_and(|c| c.iter().any(|c| c.is_cns_depressant()))).collect();
        if !found.is_empty() {
            let opioid = found.iter().any(|m| m.drug.has_class(InteractionClass::Opioid));
            let message = if opioid {
                "CNS depressants with ketamine may cause profound sedation, respiratory depression, coma or death; opioids may prolong recovery. Monitor sedation closely."
            } else {
                "CNS depressants with ketamine increase sedation and may cause respiratory depression. Monitor sedation closely."
            };
            out.push(finding(R, Level::Information, message).with("medications", names(&found)));
        }
    }
    if let Some(uses) = out.need(R, "psychiatric.substance_use", &input.intake.psychiatric.substance_use)
        && uses.iter().any(|u| u.substance == Substance::Alcohol)
    {
        out.push(
            finding(
                R,
                Level::Information,
                "Alcohol use recorded: alcohol is a CNS depressant; counsel avoidance around sessions.",
            )
            .related("DDI-009"),
        );
    }
}

fn ddi_002(input: &RuleInput<'_>, out: &mut RuleOutput) {
    class_finding(
        input,
        out,
        "DDI-002",
        InteractionClass::Psychostimulant,
        Level::Information,
        "Psychostimulant: may raise blood pressure with ketamine. Monitor BP closely.",
    );
}

fn ddi_003(input: &RuleInput<'_>, out: &mut RuleOutput) {
    class_finding(
        input,
        out,
        "DDI-003",
        InteractionClass::Maoi,
        level(input.policy.maoi),
        "MAOI: may raise blood pressure with ketamine; some protocols exclude. Monitor BP closely.",
    );
}

fn ddi_004(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "DDI-004";
    let Some(meds) = medications(input, R, out) else {
        return;
    };
    let cap = input.policy.benzodiazepine_cap_diazepam_mg;
    let cap_text = format!("{} mg/day", trim_decimal(cap));
    match diazepam_equivalent(meds, &input.policy.benzodiazepine_equivalents) {
        DiazepamEquivalent::NoBenzodiazepine => {}
        DiazepamEquivalent::Computed { mg_per_day } => {
            let f = if mg_per_day > cap {
                finding(
                    R,
                    Level::PrescriberReview,
                    "Daily benzodiazepine dose above the diazepam-equivalent cap: linked to non-response to ketamine. Consider tapering; holding doses before sessions is clinic policy.",
                )
            } else {
                finding(
                    R,
                    Level::Information,
                    "Benzodiazepine within the diazepam-equivalent cap; higher doses are linked to reduced ketamine response.",
                )
            };
            out.push(
                f.with("diazepam_equivalent", format!("{} mg/day", trim_decimal(mg_per_day))).with("cap", cap_text),
            );
        }
        DiazepamEquivalent::Uncomputable { partial_mg_per_day, missing_dose, no_factor } => {
            if !missing_dose.is_empty() {
                out.missing_field(R, "medications.total_daily_dose");
            }
            if !no_factor.is_empty() || partial_mg_per_day > cap {
                out.push(
                    finding(R, Level::PrescriberReview, "The daily diazepam-equivalent cannot be computed (no conversion factor configured, or dose missing); the prescriber must judge it against the cap.")
                        .with("partial_diazepam_equivalent", format!("at least {} mg/day", trim_decimal(partial_mg_per_day)))
                        .with("no_conversion_factor", if no_factor.is_empty() { "-".into() } else { no_factor.join(", ") })
                        .with("dose_missing", if missing_dose.is_empty() { "-".into() } else { missing_dose.join(", ") })
                        .with("cap", cap_text),
                );
            }
        }
    }
}

fn ddi_005(input: &RuleInput<'_>, out: &mut RuleOutput) {
    class_finding(
        input,
        out,
        "DDI-005",
        InteractionClass::Lamotrigine,
        Level::Information,
        "Lamotrigine attenuates ketamine's dissociative effects; its effect on antidepressant efficacy is unknown.",
    );
}

fn ddi_006(input: &RuleInput<'_>, out: &mut RuleOutput) {
    class_finding(
        input,
        out,
        "DDI-006",
        InteractionClass::CypInducer,
        Level::Information,
        "CYP2B6/3A4 inducer: lowers ketamine exposure.",
    );
    class_finding(
        input,
        out,
        "DDI-006",
        InteractionClass::CypInhibitor,
        Level::Information,
        "CYP2B6/3A4 inhibitor: raises ketamine exposure.",
    );
}

fn ddi_007(input: &RuleInput<'_>, out: &mut RuleOutput) {
    class_finding(
        input,
        out,
        "DDI-007",
        InteractionClass::Theophylline,
        level(input.policy.theophylline),
        "Theophylline/aminophylline: do not co-administer with ketamine (lowers the seizure threshold).",
    );
    class_finding(
        input,
        out,
        "DDI-007",
        InteractionClass::Sympathomimetic,
        Level::Information,
        "Sympathomimetic or vasopressin: monitor vital signs closely.",
    );
}

fn ddi_008(input: &RuleInput<'_>, out: &mut RuleOutput) {
    class_finding(
        input,
        out,
        "DDI-008",
        InteractionClass::Levothyroxine,
        Level::Information,
        "Levothyroxine: interaction listed (hypotension, tachycardia).",
    );
}

fn ddi_010(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "DDI-010";
    if input.intake.referral.intended_product == Some(IntendedProduct::RacemicKetamine) {
        return;
    }
    let Some(meds) = medications(input, R, out) else {
        return;
    };
    let has = |class| yes_no(!with_class(meds, class).is_empty());
    out.push(
        finding(R, Level::Information, "Spravato REMS Patient Monitoring Form: current use of these classes.")
            .with("benzodiazepines", has(InteractionClass::Benzodiazepine))
            .with("non_benzodiazepine_sedative_hypnotics", has(InteractionClass::NonBenzodiazepineSedativeHypnotic))
            .with("psychostimulants", has(InteractionClass::Psychostimulant))
            .with("maois", has(InteractionClass::Maoi))
            .with("opioids", has(InteractionClass::Opioid))
            .with("other_sedatives", has(InteractionClass::OtherSedative)),
    );
}

// ---------------------------------------------------------------------------------------
// §1.5 Pre-treatment items
// ---------------------------------------------------------------------------------------

fn pre_001(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "PRE-001";
    let i = input.intake;
    out.need(R, "workup.psychiatric_evaluation", &i.workup.psychiatric_evaluation);
    indications(input, R, out);
    out.need(R, "referral.presenting_symptoms", &i.referral.presenting_symptoms);
    out.need(R, "referral.goals", &i.referral.goals);
    if let Some(trials) = out.need(R, "prior_antidepressant_trials", &i.prior_antidepressant_trials) {
        // Each trial is stored with drug, dose, duration and response (IND-005).
        for t in trials {
            out.need(R, "prior_antidepressant_trials.daily_dose", &t.daily_dose);
            out.need(R, "prior_antidepressant_trials.duration", &t.duration);
            out.need(R, "prior_antidepressant_trials.response", &t.response);
            out.need(R, "prior_antidepressant_trials.in_current_episode", &t.in_current_episode);
            out.need(R, "prior_antidepressant_trials.adequate_dose_and_duration", &t.adequate_dose_and_duration);
        }
    }
}

fn pre_002(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "PRE-002";
    let w = &input.intake.workup;
    out.need(R, "workup.physical_examination_on", &w.physical_examination_on);
    medications(input, R, out);
    out.need(R, "allergies.other", &input.intake.allergies.other);
    if let Some(true) = out.need(R, "workup.prior_anaesthesia_reaction", &w.prior_anaesthesia_reaction) {
        out.push(
            finding(R, Level::PrescriberReview, "Prior adverse reaction to anaesthesia: prescriber review.")
                .with("workup.prior_anaesthesia_reaction", "yes"),
        );
    }
    if let Some(Investigations::IndicatedPending) = out.need(R, "workup.ecg_and_labs", &w.ecg_and_labs) {
        out.missing_field(R, "workup.ecg_and_labs.result");
    }
}

fn pre_003(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "PRE-003";
    let v = &input.intake.vitals;
    out.need(R, "vitals.blood_pressure", &v.blood_pressure);
    out.need(R, "vitals.heart_rate", &v.heart_rate);
    out.need(R, "vitals.spo2", &v.spo2);
    out.need(R, "vitals.weight", &v.weight);
    out.need(R, "vitals.height", &v.height);
}

fn pre_004(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "PRE-004";
    let s = &input.intake.workup.baseline_scales;
    out.need(R, "workup.baseline_scales.depression", &s.depression);
    out.need(R, "workup.baseline_scales.anxiety", &s.anxiety);
    out.need(R, "workup.baseline_scales.suicidality", &s.suicidality);
    if let Some(ind) = indications(input, R, out)
        && ind.contains(|i| matches!(i, Indication::Ptsd | Indication::ComplexPtsd))
    {
        out.need(R, "workup.baseline_scales.ptsd", &s.ptsd);
    }
    if input.policy.require_dissociation_baseline {
        out.need(R, "workup.baseline_scales.dissociation", &s.dissociation);
    }
}

fn pre_005(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "PRE-005";
    let w = &input.intake.workup;
    let suspected = out.need(R, "workup.substance_use_suspected", &w.substance_use_suspected).copied();
    match (&w.urine_drug_screen, suspected) {
        (Some(uds), _) if uds.result == TestResult::Positive => out.push(
            finding(R, Level::PrescriberReview, "Positive urine drug screen.")
                .with("taken_on", uds.taken_on)
                .with("detail", uds.detail.as_ref().map_or("-", |d| d.as_str())),
        ),
        (None, Some(true)) => out.push(finding(
            R,
            Level::PrescriberReview,
            "Substance use is suspected but no urine drug screen is recorded (recommended at baseline).",
        )),
        _ => {}
    }
}

fn pre_006(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "PRE-006";
    let r = &input.intake.reproductive;
    if let Some(true) = out.need(R, "reproductive.childbearing_potential", &r.childbearing_potential)
        && let Some(test) = out.need(R, "reproductive.pregnancy_test", &r.pregnancy_test)
        && test.result == TestResult::Negative
        && let Some(max_days) = input.policy.pregnancy_test_max_age_days
    {
        let oldest = input.today.checked_sub(i64::from(max_days).days()).unwrap_or(Date::MIN);
        if test.taken_on < oldest {
            out.missing_field(R, "reproductive.pregnancy_test.current");
            out.push(
                finding(R, Level::Information, "The pregnancy test is older than the configured maximum; repeat it.")
                    .with("taken_on", test.taken_on)
                    .with("max_age_days", max_days),
            );
        }
    }
}

fn pre_007(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "PRE-007";
    let Some(consent) = out.need(R, "consent", &input.intake.consent) else {
        return;
    };
    if let Some(false) = out.need(R, "consent.capacity_confirmed", &consent.capacity_confirmed) {
        out.push(
            finding(R, Level::HardStop, "The patient lacks capacity to consent: treatment cannot proceed.")
                .with("consent.capacity_confirmed", "no"),
        );
    }
    let esketamine = input.intake.referral.intended_product == Some(IntendedProduct::Esketamine);
    let missing: Vec<&str> = ConsentPoint::ALL
        .iter()
        .filter(|p| !(esketamine && **p == ConsentPoint::OffLabelStatus))
        .filter(|p| !consent.points_covered.contains(p))
        .map(|p| p.label())
        .collect();
    if !missing.is_empty() {
        out.missing_field(R, "consent.points_covered");
        out.push(
            finding(R, Level::Information, "Informed consent does not yet cover every required point.")
                .with("not_covered", missing.join(", "))
                .with("form_version", consent.form_version.as_str()),
        );
    }
    if consent.signed_on > input.today {
        out.missing_field(R, "consent.signed_on");
        out.push(
            finding(R, Level::Information, "The consent date is in the future; correct it.")
                .with("signed_on", consent.signed_on),
        );
    }
}

fn pre_008(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "PRE-008";
    match product(input, R, out) {
        Some(IntendedProduct::Esketamine) => {
            // Not enrolled counts as not done: enrolment must precede the first dose.
            let enrolled = out.need(R, "rems_patient_enrolled", &input.intake.rems_patient_enrolled).copied();
            if enrolled == Some(false) {
                out.missing_field(R, "rems_patient_enrolled");
            }
        }
        Some(IntendedProduct::Undecided) => out.push(finding(
            R,
            Level::Information,
            "If Spravato is chosen, the patient must be enrolled in the SPRAVATO REMS before the first treatment.",
        )),
        _ => {}
    }
}

fn pre_009(input: &RuleInput<'_>, out: &mut RuleOutput) {
    const R: &str = "PRE-009";
    let Some(plan) = out.need(R, "transport", &input.intake.transport) else {
        return;
    };
    out.need(R, "transport.escort_name", &plan.escort_name);
    if let Some(false) = out.need(R, "transport.escort_stays_onsite", &plan.escort_stays_onsite) {
        out.need(R, "transport.escort_phone", &plan.escort_phone);
    }
    if out.need(R, "transport.no_driving_until_next_day_acknowledged", &plan.no_driving_until_next_day_acknowledged)
        == Some(&false)
    {
        out.missing_field(R, "transport.no_driving_until_next_day_acknowledged");
        out.push(finding(R, Level::Information, "The patient has not agreed not to drive until the next day after restful sleep; treatment cannot be scheduled until they do."));
    }
}
