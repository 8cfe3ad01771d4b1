//! Clinic policy for eligibility: every value clinical.md tags \[U\] or \[P\], every
//! clinic-configurable preset, and every threshold the spec lacks.
//!
//! `Default` holds the spec's values. Where the spec proposes no value, the default is
//! the conservative choice documented on the field (never silently permissive), and
//! where the spec has **no number at all** the field is an `Option` defaulting to
//! `None` ("not configured"), which the evaluation handles without inventing one.
//!
//! A policy can relax what a finding does (exclude → prescriber review → information)
//! but can never make a finding disappear: every rule still reports what it saw.

use super::intake::Substance;
use super::medication::BenzodiazepineEquivalents;
use super::units::{MmseScore, entry};
use crate::field::FieldErrors;
use crate::monitoring::vitals::{BloodPressure, Diastolic, HeartRate, Systolic};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a policy-governed finding does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyAction {
    /// Hard stop: the patient is excluded.
    Exclude,
    /// Soft stop: needs a documented prescriber override with a reason.
    PrescriberReview,
    /// Shown, does not block.
    Inform,
}

/// The caller-supplied version of the policy in force (recorded with every evaluation).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PolicyVersion(String);

impl PolicyVersion {
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
impl TryFrom<String> for PolicyVersion {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}
impl From<PolicyVersion> for String {
    fn from(v: PolicyVersion) -> String {
        v.0
    }
}
impl fmt::Debug for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyVersion({:?})", self.0)
    }
}
impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A blood-pressure threshold: reached when systolic ≥ `systolic` **or** diastolic ≥
/// `diastolic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpThreshold {
    pub systolic: Systolic,
    pub diastolic: Diastolic,
}

impl BpThreshold {
    /// A threshold known in code (the defaults, tests). Panics outside the intake entry
    /// ranges ([`entry::SYSTOLIC`], [`entry::DIASTOLIC`]).
    pub fn new(systolic: u16, diastolic: u16) -> Self {
        assert!(entry::SYSTOLIC.contains(systolic), "systolic threshold in range");
        assert!(entry::DIASTOLIC.contains(diastolic), "diastolic threshold in range");
        Self {
            systolic: Systolic::new(systolic).expect("systolic threshold in range"),
            diastolic: Diastolic::new(diastolic).expect("diastolic threshold in range"),
        }
    }

    pub fn reached_by(&self, bp: BloodPressure) -> bool {
        bp.systolic() >= self.systolic.get() || bp.diastolic() >= self.diastolic.get()
    }
}

impl fmt::Display for BpThreshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "≥{} systolic or ≥{} diastolic", self.systolic.get(), self.diastolic.get())
    }
}

/// The three intake BP tiers of BP-006 \[U\] (applied to the baseline BP for RCI-004).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpTiers {
    /// Caution / prescriber attestation (default 140/90).
    pub caution: BpThreshold,
    /// Defer unless the prescriber overrides with a reason (default 160/100, CTCAE G3).
    pub defer: BpThreshold,
    /// Hard defer (default 180/110).
    pub hard_defer: BpThreshold,
}

impl Default for BpTiers {
    fn default() -> Self {
        Self {
            caution: BpThreshold::new(140, 90),
            defer: BpThreshold::new(160, 100),
            hard_defer: BpThreshold::new(180, 110),
        }
    }
}

/// Resting heart-rate limits (BP-007 \[U\]): outside `low..=high` needs review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartRateLimits {
    /// Review when below this (default 50).
    pub low: HeartRate,
    /// Review when above this (default 110).
    pub high: HeartRate,
}

impl Default for HeartRateLimits {
    fn default() -> Self {
        Self { low: HeartRate::new(50).expect("in range"), high: HeartRate::new(110).expect("in range") }
    }
}

/// A time-window preset: "within the past `months` months" → `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowPreset {
    pub months: u16,
    pub action: PolicyAction,
}

/// "More than rare" recreational use preset (RCI-003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrequentUsePreset {
    /// Default opioids, ketamine, PCP.
    pub substances: Vec<Substance>,
    /// More than this many uses in the past year triggers (default 1).
    pub max_uses_past_year: u32,
    pub action: PolicyAction,
}

/// Substance-use presets (RCI-003). `None` = preset switched off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubstancePolicy {
    /// Any SUD history (SPV-PI §5.3 "consider carefully"). Default prescriber review.
    pub any_use_disorder_history: PolicyAction,
    /// Acute intoxication or withdrawal. Default exclude (DAY-003: defer).
    pub intoxication_or_withdrawal: PolicyAction,
    /// >1 use of opioids, ketamine or PCP in the past year. Default on, prescriber review.
    pub frequent_use: Option<FrequentUsePreset>,
    /// Severe SUD in the past 6 months. Default on, prescriber review.
    pub severe_disorder_within: Option<WindowPreset>,
    /// Any SUD in the past month. Default on, prescriber review.
    pub any_disorder_within: Option<WindowPreset>,
    /// Lifetime ketamine use disorder. Default on, prescriber review.
    pub lifetime_ketamine_use_disorder: Option<PolicyAction>,
    /// Psyon \[P\]: active addiction unless abstinent ≥12 months. Default off.
    pub abstinence_required: Option<WindowPreset>,
}

impl Default for SubstancePolicy {
    fn default() -> Self {
        Self {
            any_use_disorder_history: PolicyAction::PrescriberReview,
            intoxication_or_withdrawal: PolicyAction::Exclude,
            frequent_use: Some(FrequentUsePreset {
                substances: vec![Substance::Opioids, Substance::Ketamine, Substance::Pcp],
                max_uses_past_year: 1,
                action: PolicyAction::PrescriberReview,
            }),
            severe_disorder_within: Some(WindowPreset { months: 6, action: PolicyAction::PrescriberReview }),
            any_disorder_within: Some(WindowPreset { months: 1, action: PolicyAction::PrescriberReview }),
            lifetime_ketamine_use_disorder: Some(PolicyAction::PrescriberReview),
            abstinence_required: None,
        }
    }
}

impl SubstancePolicy {
    /// The Psyon \[P\] preset: active addiction excluded unless abstinent ≥ 1 year.
    pub const PSYON_ABSTINENCE: WindowPreset = WindowPreset { months: 12, action: PolicyAction::Exclude };
}

/// The RCI-010 trial preset: patients aged `min_age`–`max_age` need MMSE ≥ `min_mmse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CognitiveScreenRule {
    pub min_age: u8,
    pub max_age: u8,
    pub min_mmse: MmseScore,
    pub action: PolicyAction,
}

impl CognitiveScreenRule {
    /// PMC10812090 trial preset (RCI-010): aged 60–65, MMSE ≥ 25.
    pub fn trial_preset() -> Self {
        Self {
            min_age: 60,
            max_age: 65,
            min_mmse: MmseScore::new(25).expect("in range"),
            action: PolicyAction::PrescriberReview,
        }
    }
}

/// Every configurable eligibility value. See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EligibilityPolicy {
    pub version: PolicyVersion,

    /// Minimum age in years (IND-001 "adults"; SUI-004: Spravato not approved < 18).
    /// Default 18. For esketamine 18 applies whatever this says.
    pub minimum_age_years: u8,
    /// Maximum age. The spec gives none: default `None` (no maximum).
    pub maximum_age_years: Option<u8>,

    /// Bipolar depression (IND-011 \[P\]: some clinics include, others exclude; the spec
    /// names no default). Default prescriber review.
    pub bipolar_depression: PolicyAction,
    /// Minimum duration of an adequate antidepressant trial (IND-005 says "adequate dose
    /// and duration" without a number). Default `None`: the clinician's adequacy
    /// judgement on each trial decides alone.
    pub adequate_trial_min_weeks: Option<u16>,

    /// RCI-001 default: exclude current psychosis.
    pub current_psychosis: PolicyAction,
    /// RCI-001 default: past psychosis → psychiatrist review.
    pub past_psychosis: PolicyAction,
    /// RCI-001: psychosis in a first-degree relative. "Many programs exclude"; the spec's
    /// default sentence covers only the patient's own history. Default prescriber review.
    pub first_degree_relative_psychosis: PolicyAction,
    /// RCI-002: active mania or hypomania. Default exclude.
    pub active_mania: PolicyAction,
    /// RCI-003 presets.
    pub substance: SubstancePolicy,

    /// BP-006 \[U\] tiers applied to the intake baseline BP (RCI-004).
    pub bp_tiers: BpTiers,
    /// BP-007 \[U\] resting HR limits applied to the intake baseline HR (RCI-004).
    pub heart_rate: HeartRateLimits,
    /// CI-006 is a non-US (Swiss, UK) label contraindication. Default exclude (it sits in
    /// the spec's hard-stop table); a US clinic may choose prescriber review.
    pub non_us_label_contraindications: PolicyAction,

    /// RCI-008 pregnancy (label: "not recommended"). Default prescriber review.
    pub pregnancy: PolicyAction,
    /// RCI-008 lactation (label: breastfeeding not recommended). Default prescriber review.
    pub lactation: PolicyAction,
    /// PRE-006: how old a negative pregnancy test may be at evaluation. The spec gives no
    /// number: default `None` (any recorded test counts; per-session retesting is a
    /// day-of policy).
    pub pregnancy_test_max_age_days: Option<u16>,
    /// RCI-009 lower urinary tract / bladder disease. Default prescriber review.
    pub bladder_disease: PolicyAction,
    /// RCI-010 neurocognitive disorder or symptomatic TBI. Default prescriber review.
    pub neurocognitive_disorder: PolicyAction,
    /// RCI-010 trial preset (ages 60–65 need MMSE ≥ 25). Default off.
    pub cognitive_screen: Option<CognitiveScreenRule>,
    /// RCI-011 high current suicide risk (outpatient programs commonly exclude and route
    /// to crisis care). Default exclude. The same-day review flag is raised regardless.
    pub high_suicide_risk: PolicyAction,
    /// SUI-003 "recent behaviour" window in months (thresholds \[U\]; C-SSRS triage uses
    /// 3 months). Default 3.
    pub recent_suicidal_behaviour_months: u16,
    /// RCI-012 severe personality disorder interfering with cooperation. Default
    /// prescriber review.
    pub severe_personality_disorder: PolicyAction,

    /// DDI-004: warn when the daily diazepam-equivalent is above this (default 8 mg).
    pub benzodiazepine_cap_diazepam_mg: f64,
    /// DDI-004 conversion factors (spec gives none; default: diazepam only).
    pub benzodiazepine_equivalents: BenzodiazepineEquivalents,
    /// DDI-003 MAOIs ("some protocols exclude"). Default prescriber review.
    pub maoi: PolicyAction,
    /// DDI-007 theophylline / aminophylline ("do not co-administer"). Default exclude.
    pub theophylline: PolicyAction,

    /// PRE-004: require a CADSS dissociation baseline ("where used"). Default true.
    pub require_dissociation_baseline: bool,
}

impl EligibilityPolicy {
    /// The spec's defaults under the caller's version label.
    pub fn spec_defaults(version: PolicyVersion) -> Self {
        Self {
            version,
            minimum_age_years: 18,
            maximum_age_years: None,
            bipolar_depression: PolicyAction::PrescriberReview,
            adequate_trial_min_weeks: None,
            current_psychosis: PolicyAction::Exclude,
            past_psychosis: PolicyAction::PrescriberReview,
            first_degree_relative_psychosis: PolicyAction::PrescriberReview,
            active_mania: PolicyAction::Exclude,
            substance: SubstancePolicy::default(),
            bp_tiers: BpTiers::default(),
            heart_rate: HeartRateLimits::default(),
            non_us_label_contraindications: PolicyAction::Exclude,
            pregnancy: PolicyAction::PrescriberReview,
            lactation: PolicyAction::PrescriberReview,
            pregnancy_test_max_age_days: None,
            bladder_disease: PolicyAction::PrescriberReview,
            neurocognitive_disorder: PolicyAction::PrescriberReview,
            cognitive_screen: None,
            high_suicide_risk: PolicyAction::Exclude,
            recent_suicidal_behaviour_months: 3,
            severe_personality_disorder: PolicyAction::PrescriberReview,
            benzodiazepine_cap_diazepam_mg: 8.0,
            benzodiazepine_equivalents: BenzodiazepineEquivalents::default(),
            maoi: PolicyAction::PrescriberReview,
            theophylline: PolicyAction::Exclude,
            require_dissociation_baseline: true,
        }
    }

    /// Checks the values hang together (tiers ascending, windows non-zero, …).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let t = &self.bp_tiers;
        let rising = t.caution.systolic < t.defer.systolic
            && t.defer.systolic < t.hard_defer.systolic
            && t.caution.diastolic < t.defer.diastolic
            && t.defer.diastolic < t.hard_defer.diastolic;
        if !rising {
            errors.add("bp_tiers", "tiers must rise: caution < defer < hard defer");
        }
        // The shared vital types accept any monitor reading; a policy threshold stays
        // within the intake entry ranges it has always been held to.
        for (name, tier) in [("caution", t.caution), ("defer", t.defer), ("hard_defer", t.hard_defer)] {
            if let Err(e) = entry::SYSTOLIC.check(tier.systolic.get()) {
                errors.add(format!("bp_tiers.{name}.systolic"), e.to_string());
            }
            if let Err(e) = entry::DIASTOLIC.check(tier.diastolic.get()) {
                errors.add(format!("bp_tiers.{name}.diastolic"), e.to_string());
            }
        }
        for (name, limit) in [("low", self.heart_rate.low), ("high", self.heart_rate.high)] {
            if let Err(e) = entry::HEART_RATE.check(limit.get()) {
                errors.add(format!("heart_rate.{name}"), e.to_string());
            }
        }
        if self.heart_rate.low >= self.heart_rate.high {
            errors.add("heart_rate", "the low limit must be below the high limit");
        }
        if self.minimum_age_years < 18 {
            errors.add("minimum_age_years", "must be at least 18 (IND-001 indications are for adults)");
        }
        if let Some(max) = self.maximum_age_years
            && max < self.minimum_age_years
        {
            errors.add("maximum_age_years", "must not be below the minimum age");
        }
        if !(self.benzodiazepine_cap_diazepam_mg.is_finite() && self.benzodiazepine_cap_diazepam_mg > 0.0) {
            errors.add("benzodiazepine_cap_diazepam_mg", "must be a number above 0");
        }
        if self.recent_suicidal_behaviour_months == 0 {
            errors.add("recent_suicidal_behaviour_months", "must be at least 1");
        }
        let windows = [
            ("substance.severe_disorder_within", self.substance.severe_disorder_within),
            ("substance.any_disorder_within", self.substance.any_disorder_within),
            ("substance.abstinence_required", self.substance.abstinence_required),
        ];
        for (field, window) in windows {
            if window.is_some_and(|w| w.months == 0) {
                errors.add(field, "the window must be at least 1 month");
            }
        }
        if let Some(rule) = self.cognitive_screen
            && rule.min_age > rule.max_age
        {
            errors.add("cognitive_screen", "the age range is reversed");
        }
        if self.pregnancy_test_max_age_days == Some(0) {
            errors.add("pregnancy_test_max_age_days", "must be at least 1 day");
        }
        errors.into_result(|| ())
    }
}

impl Default for EligibilityPolicy {
    /// The spec's defaults, versioned "spec-default" (callers should supply their own
    /// version with [`EligibilityPolicy::spec_defaults`]).
    fn default() -> Self {
        Self::spec_defaults(PolicyVersion("spec-default".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_spec() {
        let p = EligibilityPolicy::default();
        p.validate().unwrap();
        assert_eq!(p.bp_tiers.caution, BpThreshold::new(140, 90));
        assert_eq!(p.bp_tiers.defer, BpThreshold::new(160, 100));
        assert_eq!(p.bp_tiers.hard_defer, BpThreshold::new(180, 110));
        assert_eq!(p.heart_rate.low.get(), 50);
        assert_eq!(p.heart_rate.high.get(), 110);
        assert_eq!(p.benzodiazepine_cap_diazepam_mg, 8.0);
        assert_eq!(p.minimum_age_years, 18);
        assert_eq!(p.recent_suicidal_behaviour_months, 3);
        assert_eq!(p.substance.severe_disorder_within.unwrap().months, 6);
        assert_eq!(p.substance.any_disorder_within.unwrap().months, 1);
        assert_eq!(p.substance.frequent_use.as_ref().unwrap().max_uses_past_year, 1);
        assert_eq!(SubstancePolicy::PSYON_ABSTINENCE.months, 12);
        assert_eq!(p.current_psychosis, PolicyAction::Exclude);
        assert_eq!(p.past_psychosis, PolicyAction::PrescriberReview);
        assert_eq!(p.active_mania, PolicyAction::Exclude);
        assert_eq!(p.adequate_trial_min_weeks, None);
        assert_eq!(p.maximum_age_years, None);
        let preset = CognitiveScreenRule::trial_preset();
        assert_eq!((preset.min_age, preset.max_age, preset.min_mmse.get()), (60, 65, 25));
    }

    #[test]
    fn validate_rejects_incoherent_values() {
        let mut p = EligibilityPolicy::default();
        p.bp_tiers.defer = BpThreshold::new(190, 100);
        p.heart_rate.low = HeartRate::new(120).unwrap();
        p.minimum_age_years = 16;
        p.benzodiazepine_cap_diazepam_mg = f64::NAN;
        p.substance.any_disorder_within = Some(WindowPreset { months: 0, action: PolicyAction::Inform });
        let errors = p.validate().unwrap_err();
        for field in [
            "bp_tiers",
            "heart_rate",
            "minimum_age_years",
            "benzodiazepine_cap_diazepam_mg",
            "substance.any_disorder_within",
        ] {
            assert!(errors.for_field(field).is_some(), "{field}: {errors}");
        }
    }

    /// The thresholds are the shared vital types, which accept any monitor reading;
    /// a stored or configured policy is still held to the intake entry ranges
    /// (systolic 30–300, diastolic 10–250, heart rate 10–300), at each boundary.
    #[test]
    fn validate_keeps_thresholds_within_the_intake_entry_ranges() {
        let tiers_json = |caution: (u16, u16), hard: (u16, u16)| {
            format!(
                r#"{{"caution":{{"systolic":{},"diastolic":{}}},"defer":{{"systolic":160,"diastolic":100}},"hard_defer":{{"systolic":{},"diastolic":{}}}}}"#,
                caution.0, caution.1, hard.0, hard.1
            )
        };
        let with = |tiers: String, low: u16, high: u16| {
            EligibilityPolicy {
                bp_tiers: serde_json::from_str(&tiers).unwrap(),
                heart_rate: serde_json::from_str(&format!(r#"{{"low":{low},"high":{high}}}"#)).unwrap(),
                ..EligibilityPolicy::default()
            }
            .validate()
        };
        assert!(with(tiers_json((30, 10), (300, 250)), 10, 300).is_ok());
        // A diastolic of 9 is below any possible reading: the stored JSON does not parse.
        assert!(serde_json::from_str::<BpTiers>(&tiers_json((140, 9), (180, 110))).is_err());
        let errors = with(tiers_json((29, 10), (301, 251)), 9, 301).unwrap_err();
        assert!(errors.for_field("bp_tiers.caution.diastolic").is_none(), "{errors}");
        for field in [
            "bp_tiers.caution.systolic",
            "bp_tiers.hard_defer.systolic",
            "bp_tiers.hard_defer.diastolic",
            "heart_rate.low",
            "heart_rate.high",
        ] {
            assert!(errors.for_field(field).is_some(), "{field}: {errors}");
        }
        let text = errors.to_string();
        assert!(text.contains("must be between 30 and 300 mmHg"), "{text}");
        assert!(text.contains("must be between 10 and 250 mmHg"), "{text}");
        assert!(text.contains("must be between 10 and 300 /min"), "{text}");
    }

    #[test]
    #[should_panic(expected = "systolic threshold in range")]
    fn a_threshold_in_code_is_within_the_intake_range() {
        let _ = BpThreshold::new(301, 90);
    }

    #[test]
    fn version_is_the_callers() {
        let p = EligibilityPolicy::spec_defaults(PolicyVersion::parse("clinic-2026-04").unwrap());
        assert_eq!(p.version.as_str(), "clinic-2026-04");
        assert!(PolicyVersion::parse("").is_err());
    }
}
