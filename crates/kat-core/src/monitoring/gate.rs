//! The pre-dose gate on the treatment day (clinical.md §3: NPO-001..004, BP-001..007,
//! DAY-001..008; with DDI-009, RCI-008, SUI-001/003, DOSE-IN-010, PRE-008, PRE-009).
//!
//! Every item of the [`GateChecklist`] may be unanswered, and **an unanswered item is
//! never a pass**: it defers the dose until someone answers it. The result is
//! [`GateDecision::Proceed`], [`GateDecision::Defer`] (do not dose now; each reason says
//! what to fix) or [`GateDecision::NeedsOverride`] (dose only with a prescriber's or
//! medical director's documented decision). Every finding names its rule.
//!
//! The spec says the blood-pressure sources disagree (§3.2), so each source is a named,
//! selectable [`BpGatePolicy`] preset; the default is the BP-006 three-tier synthesis.

use super::vitals::{BloodPressure, HeartRate};
use crate::dosing::route::Route;
use crate::dosing::rule::RuleId;
use crate::dosing::units::{Minutes, add_minutes};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// How serious a gate finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateLevel {
    /// Shown to staff; does not stop the dose (for example an informational interaction).
    Info,
    /// Proceed only with a prescriber's attestation (BP-006 "caution" tier).
    Attest,
    /// Defer unless the prescriber overrides with a documented reason.
    Override,
    /// Do not dose now.
    Defer,
}

/// Which checklist item a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateItem {
    SolidIntake,
    ClearLiquidIntake,
    BloodPressure,
    HypertensiveSymptoms,
    HeartRate,
    IrregularRhythm,
    Escort,
    NoDrivingInstruction,
    Intoxication,
    RecentSubstanceUse,
    ChildbearingPotential,
    Pregnancy,
    PregnancyTest,
    MedicationReview,
    Interaction,
    PsychoticOrManicSymptoms,
    SuicideScreen,
    Weight,
    RemsPatientEnrolled,
    RemsSettingCertified,
    PrescriberOnsite,
    PulseOximeter,
    NasalMedication,
    NasalCongestion,
}

/// One finding of the gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateFinding {
    pub rule: RuleId,
    pub item: GateItem,
    pub level: GateLevel,
    /// True when the item was not answered (as opposed to answered and failed).
    pub unanswered: bool,
    pub message: String,
}

/// The gate's decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum GateDecision {
    /// Every item is answered and passes. `notes` holds informational findings to show.
    Proceed { notes: Vec<GateFinding> },
    /// Do not dose now. `reasons` holds every finding above `Info`, deferring ones first.
    Defer { reasons: Vec<GateFinding> },
    /// Dose only with a documented prescriber decision on each finding.
    NeedsOverride { findings: Vec<GateFinding> },
}

impl GateDecision {
    pub fn is_proceed(&self) -> bool {
        matches!(self, GateDecision::Proceed { .. })
    }

    /// Every finding, whatever the decision.
    pub fn findings(&self) -> &[GateFinding] {
        match self {
            GateDecision::Proceed { notes } => notes,
            GateDecision::Defer { reasons } => reasons,
            GateDecision::NeedsOverride { findings } => findings,
        }
    }
}

/// The kind of the last solid meal (ASA 2017 fasting, NPO-002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MealKind {
    Light,
    FattyOrMeat,
}

/// The last solid intake (NPO-004: record the time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolidIntake {
    pub at: Timestamp,
    pub kind: MealKind,
}

/// A blood-pressure recheck after rest (BP-006).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpRecheck {
    pub bp: BloodPressure,
    /// Minutes the patient rested before the recheck.
    pub rested: Minutes,
}

/// Answer to "alcohol or recreational drugs recently?" (DAY-003, DDI-009).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubstanceUse {
    /// The patient denies any use within the clinic's window.
    NoneWithinWindow,
    /// Last use at this time.
    LastUsedAt(Timestamp),
}

/// Pregnancy status by self-report (DAY-005).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PregnancyStatus {
    NotPregnant,
    Pregnant,
    Unsure,
}

/// The pre-dose suicide-risk screen result (DAY-006, SUI-001, SUI-003). The scoring
/// (C-SSRS or PHQ-9 item 9 with follow-up) is done by the instruments module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuicideScreen {
    Negative,
    /// Positive, not high risk: the clinician reviews before dosing.
    PositiveNotHighRisk,
    /// High risk (for example active ideation with intent or plan, or recent behaviour).
    /// `safe_as_outpatient` is the same-day clinician assessment: `None` until done.
    HighRisk {
        safe_as_outpatient: Option<bool>,
    },
}

/// Nasal corticosteroid or decongestant today (DOSE-IN-010, DAY-007).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NasalMedication {
    NoneToday,
    LastUsedAt(Timestamp),
}

/// What the interaction screen asks the gate to do with one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionAction {
    /// Show only (for example DDI-005, DDI-006, DDI-008).
    Inform,
    /// Proceed with closer monitoring (for example DDI-001..003).
    Monitor,
    /// Needs a prescriber override (for example a benzodiazepine load above the DDI-004 cap).
    Override,
    /// Do not dose (for example DDI-007 theophylline).
    Block,
}

/// A drug-interaction finding from the interaction screen (§1.4), passed in as data so
/// the gate does not depend on how the screen is written (DAY-004).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionFinding {
    /// The rule the screen applied, for example `DDI-003`.
    pub rule: String,
    pub action: InteractionAction,
    pub message: String,
    /// The prescriber accepted this finding at the current eligibility decision and the
    /// intake has not changed since (issue 11 item 7): it needs no new override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<AcceptedAtEligibility>,
}

impl InteractionFinding {
    pub fn new(rule: impl Into<String>, action: InteractionAction, message: impl Into<String>) -> Self {
        Self { rule: rule.into(), action, message: message.into(), accepted: None }
    }
}

/// A prescriber's acceptance of a finding at eligibility, carried to the gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedAtEligibility {
    /// The clinic date of the eligibility decision.
    pub on: Date,
    /// The prescriber's name.
    pub by: String,
    pub reason: String,
}

impl AcceptedAtEligibility {
    /// "accepted at eligibility on 2026-03-01 by Dr A: reason".
    pub fn words(&self) -> String {
        format!("accepted at eligibility on {} by {}: {}", self.on, self.by, self.reason)
    }
}

/// The current eligibility decision's per-finding acceptances, as the gate needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityAcceptances {
    pub on: Date,
    pub by: String,
    /// Rule id → the prescriber's written reason (the decision's per-finding reasons).
    pub reasons: std::collections::BTreeMap<String, String>,
    /// The intake changed after the decision (or the decision is stale): nothing carries.
    pub intake_changed: bool,
}

/// Issue 11 item 7: an interaction finding that needs the prescriber (`Override`) and
/// matches, by rule, one the prescriber accepted with a reason at the current
/// eligibility decision carries that acceptance, unless the intake changed since the
/// decision (then it needs the prescriber again). A hard stop (`Block`) never carries:
/// it defers at every gate whatever was signed at eligibility.
pub fn carry_over(findings: &mut [InteractionFinding], accepted: Option<&EligibilityAcceptances>) {
    let Some(a) = accepted.filter(|a| !a.intake_changed) else {
        return;
    };
    for f in findings.iter_mut().filter(|f| f.action == InteractionAction::Override) {
        if let Some(reason) = a.reasons.get(&f.rule) {
            f.accepted = Some(AcceptedAtEligibility { on: a.on, by: a.by.clone(), reason: reason.clone() });
        }
    }
}

/// DAY-004: the drug-interaction findings (§1.4, DDI-001..008) of an eligibility screen
/// rerun on the patient's current medication list, as gate findings. Information the
/// spec pairs with "monitor closely" (CNS depressants, stimulants, MAOIs,
/// sympathomimetics: DDI-001, -002, -003, -007) becomes `Monitor`; a finding that needs
/// the prescriber (for example a benzodiazepine load above the DDI-004 cap) `Override`;
/// a hard stop (theophylline under the default policy, DDI-007) `Block`. DDI-009
/// (recent alcohol or drugs) is its own gate item and DDI-010 is REMS paperwork, so
/// neither is repeated here.
pub fn interaction_findings(screen: &[crate::eligibility::Finding]) -> Vec<InteractionFinding> {
    use crate::eligibility::Level;
    const GATE_RULES: [&str; 8] =
        ["DDI-001", "DDI-002", "DDI-003", "DDI-004", "DDI-005", "DDI-006", "DDI-007", "DDI-008"];
    const MONITOR: [&str; 4] = ["DDI-001", "DDI-002", "DDI-003", "DDI-007"];
    screen
        .iter()
        .filter(|f| GATE_RULES.contains(&f.rule_id))
        .map(|f| {
            let action = match f.level {
                Level::HardStop => InteractionAction::Block,
                Level::PrescriberReview => InteractionAction::Override,
                Level::Information if MONITOR.contains(&f.rule_id) => InteractionAction::Monitor,
                Level::Information => InteractionAction::Inform,
            };
            let data: Vec<String> = f.data.iter().map(|d| format!("{}: {}", d.label, d.value)).collect();
            let message =
                if data.is_empty() { f.message.clone() } else { format!("{} ({})", f.message, data.join("; ")) };
            InteractionFinding::new(f.rule_id, action, message)
        })
        .collect()
}

/// Everything checked before dosing. `None` means "not answered".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateChecklist {
    pub route: Route,
    /// Whether the ordered dose is weight-based (decides whether DAY-008 applies).
    pub dose_is_weight_based: bool,
    pub last_solid: Option<SolidIntake>,
    pub last_clear_liquid: Option<Timestamp>,
    pub blood_pressure: Option<BloodPressure>,
    pub bp_recheck: Option<BpRecheck>,
    pub hypertensive_symptoms: Option<bool>,
    pub heart_rate: Option<HeartRate>,
    pub new_irregular_rhythm: Option<bool>,
    pub escort_confirmed: Option<bool>,
    pub no_driving_instruction_given: Option<bool>,
    pub intoxicated_or_in_withdrawal: Option<bool>,
    pub substance_use: Option<SubstanceUse>,
    pub childbearing_potential: Option<bool>,
    pub pregnancy: Option<PregnancyStatus>,
    /// Per-session pregnancy test, when the clinic requires one: `Some(true)` = negative.
    pub pregnancy_test_negative: Option<bool>,
    pub medication_changes_reviewed: Option<bool>,
    #[serde(default)]
    pub interactions: Vec<InteractionFinding>,
    pub new_psychotic_or_manic_symptoms: Option<bool>,
    pub suicide_screen: Option<SuicideScreen>,
    pub weight_measured_on: Option<Date>,
    /// Esketamine only (DAY-001, PRE-008).
    pub rems_patient_enrolled: Option<bool>,
    pub rems_setting_certified: Option<bool>,
    pub prescriber_onsite: Option<bool>,
    pub pulse_oximeter_available: Option<bool>,
    /// Esketamine only (DAY-007, DOSE-IN-010).
    pub nasal_medication: Option<NasalMedication>,
    pub nasal_congestion: Option<bool>,
}

impl GateChecklist {
    /// A checklist with nothing answered yet.
    pub fn unanswered(route: Route, dose_is_weight_based: bool) -> Self {
        Self {
            route,
            dose_is_weight_based,
            last_solid: None,
            last_clear_liquid: None,
            blood_pressure: None,
            bp_recheck: None,
            hypertensive_symptoms: None,
            heart_rate: None,
            new_irregular_rhythm: None,
            escort_confirmed: None,
            no_driving_instruction_given: None,
            intoxicated_or_in_withdrawal: None,
            substance_use: None,
            childbearing_potential: None,
            pregnancy: None,
            pregnancy_test_negative: None,
            medication_changes_reviewed: None,
            interactions: Vec::new(),
            new_psychotic_or_manic_symptoms: None,
            suicide_screen: None,
            weight_measured_on: None,
            rems_patient_enrolled: None,
            rems_setting_certified: None,
            prescriber_onsite: None,
            pulse_oximeter_available: None,
            nasal_medication: None,
            nasal_congestion: None,
        }
    }
}

/// Fasting thresholds (NPO-001..004).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastingPolicy {
    pub light_meal_min: Minutes,
    pub fatty_meal_min: Minutes,
    pub clear_liquid_min: Minutes,
    /// What a violation does. NPO-004 says "block (or require override)".
    pub violation: GateLevel,
    pub rule: RuleId,
}

impl FastingPolicy {
    /// Spravato label: no food for 2 h, no liquids for 30 min (NPO-001 \[V\]).
    pub fn spravato_label() -> Self {
        Self::new(120, 120, 30, "NPO-001")
    }

    /// ASA 2017 for sedation: clear liquids 2 h, light meal 6 h, fatty meal or meat 8 h
    /// (NPO-002 \[V2\]).
    pub fn asa_2017() -> Self {
        Self::new(360, 480, 120, "NPO-002")
    }

    /// Clinic variant: no food or drink for 4 h (NPO-003 \[P\]).
    pub fn clinic_4h_food_and_drink() -> Self {
        Self::new(240, 240, 240, "NPO-003")
    }

    /// Clinic variant: no food for 4 h, no drink for 2 h (NPO-003 \[P\]).
    pub fn clinic_4h_food_2h_drink() -> Self {
        Self::new(240, 240, 120, "NPO-003")
    }

    fn new(light: u32, fatty: u32, liquid: u32, rule: &'static str) -> Self {
        Self {
            light_meal_min: Minutes::new(light),
            fatty_meal_min: Minutes::new(fatty),
            clear_liquid_min: Minutes::new(liquid),
            violation: GateLevel::Defer,
            rule: RuleId::spec(rule),
        }
    }
}

/// A blood-pressure bound: strictly above, or at least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Above(u16),
    AtLeast(u16),
}

impl Bound {
    fn crossed(self, v: u16) -> bool {
        match self {
            Bound::Above(b) => v > b,
            Bound::AtLeast(b) => v >= b,
        }
    }

    fn describe(self) -> String {
        match self {
            Bound::Above(b) => format!(">{b}"),
            Bound::AtLeast(b) => format!(">={b}"),
        }
    }
}

/// One tier: systolic or diastolic crossing its bound triggers `level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpTier {
    pub rule: RuleId,
    pub systolic: Bound,
    pub diastolic: Bound,
    pub level: GateLevel,
    pub action: String,
}

/// The named BP sources of §3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BpPolicyName {
    /// BP-001: Spravato label, >140/90 → weigh the risk, consider delaying.
    SpravatoLabel,
    /// BP-002: one IV clinic, resting >140/90 → no treatment that day.
    SingleClinicNoTreatmentAbove140,
    /// BP-003: Swiss ketamine label, >180/100 at rest → defer and refer.
    SwissLabel,
    /// BP-004: CTCAE v5 grade 3, ≥160/100 → caution / physician review.
    CtcaeGrade3,
    /// BP-005: IC-OS hold threshold, ≥180/110 → defer.
    IcOsHold,
    /// BP-006: the proposed three-tier default.
    ThreeTier,
    /// A clinic's own tiers.
    Custom,
}

/// The blood-pressure gate (BP-001..006). Tiers are ordered most severe first; the
/// first crossed tier decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpGatePolicy {
    pub name: BpPolicyName,
    pub tiers: Vec<BpTier>,
    /// Recheck after this much rest before deferring (BP-006: 5–10 min). `None` turns
    /// the recheck off. A recheck after at least this rest replaces the first reading.
    pub recheck_min_rest: Option<Minutes>,
}

fn tier(rule: &'static str, s: Bound, d: Bound, level: GateLevel, action: &str) -> BpTier {
    BpTier { rule: RuleId::spec(rule), systolic: s, diastolic: d, level, action: action.into() }
}

impl BpGatePolicy {
    /// A named preset. `Custom` starts as the three-tier default for editing.
    pub fn preset(name: BpPolicyName) -> Self {
        use Bound::*;
        use GateLevel::*;
        let tiers = match name {
            BpPolicyName::SpravatoLabel => vec![tier(
                "BP-001",
                Above(140),
                Above(90),
                Attest,
                "Weigh the short-term BP rise against the benefit; consider delaying. Do not give if a BP or ICP rise poses a serious risk.",
            )],
            BpPolicyName::SingleClinicNoTreatmentAbove140 => vec![tier(
                "BP-002",
                Above(140),
                Above(90),
                Defer,
                "No treatment today (clinic policy); known hypertensives must be controlled.",
            )],
            BpPolicyName::SwissLabel => vec![tier(
                "BP-003",
                Above(180),
                Above(100),
                Defer,
                "Uncontrolled hypertension at rest: defer and refer for BP control.",
            )],
            BpPolicyName::CtcaeGrade3 => vec![tier(
                "BP-004",
                AtLeast(160),
                AtLeast(100),
                Attest,
                "CTCAE grade 3 hypertension band: physician review.",
            )],
            BpPolicyName::IcOsHold => {
                vec![tier("BP-005", AtLeast(180), AtLeast(110), Defer, "At or above the hold threshold: defer.")]
            }
            BpPolicyName::ThreeTier | BpPolicyName::Custom => vec![
                tier("BP-006", AtLeast(180), AtLeast(110), Defer, "Hard defer at 180/110 or above."),
                tier(
                    "BP-006",
                    AtLeast(160),
                    AtLeast(100),
                    Override,
                    "Defer unless the prescriber overrides with a documented reason.",
                ),
                tier("BP-006", AtLeast(140), AtLeast(90), Attest, "Caution: prescriber attestation needed."),
            ],
        };
        Self { name, tiers, recheck_min_rest: Some(Minutes::new(5)) }
    }

    fn tier_for(&self, bp: BloodPressure) -> Option<&BpTier> {
        self.tiers.iter().find(|t| t.systolic.crossed(bp.systolic()) || t.diastolic.crossed(bp.diastolic()))
    }
}

impl Default for BpGatePolicy {
    fn default() -> Self {
        Self::preset(BpPolicyName::ThreeTier)
    }
}

/// The heart-rate gate (BP-007 \[U\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HrGatePolicy {
    /// Default 110 /min: resting HR above it defers pending review.
    pub above: u16,
    /// Default 50 /min.
    pub below: u16,
    /// Default `Override`: "defer … pending prescriber review".
    pub level: GateLevel,
}

impl Default for HrGatePolicy {
    fn default() -> Self {
        Self { above: 110, below: 50, level: GateLevel::Override }
    }
}

/// Clinic policy for the pre-dose gate. Every value is a spec default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatePolicy {
    /// Fasting for esketamine. Default the label (NPO-001).
    pub fasting_esketamine: FastingPolicy,
    /// Fasting for racemic routes. Default ASA 2017 (NPO-002); NPO-003 presets exist.
    pub fasting_racemic: FastingPolicy,
    /// Default BP-006 three tiers with a 5-minute rest recheck.
    pub bp: BpGatePolicy,
    /// Default BP-007.
    pub hr: HrGatePolicy,
    /// Alcohol/recreational-drug window before a session. Default 24 h, the longer of
    /// the two clinic examples (12 h and 24 h, DDI-009 \[P\]).
    pub substance_window_hours: u32,
    /// What use within the window does. Default `Override` (clinic policy, DDI-009).
    pub substance_use_level: GateLevel,
    /// Require a negative pregnancy test every session. Default false: per-session
    /// testing is clinic policy (DAY-005, PRE-006 \[U\]).
    pub pregnancy_test_each_session: bool,
    /// Re-weigh when the weight is older than this many days (DAY-008 \[U\]). Default
    /// none: the spec gives no interval; the clinic must set one. The measurement date
    /// is still required for weight-based doses.
    pub weight_max_age_days: Option<u32>,
    /// Nasal steroid or decongestant at least this long before esketamine. Default
    /// 60 min (DOSE-IN-010 \[U\]).
    pub nasal_medication_gap: Minutes,
}

impl Default for GatePolicy {
    fn default() -> Self {
        Self {
            fasting_esketamine: FastingPolicy::spravato_label(),
            fasting_racemic: FastingPolicy::asa_2017(),
            bp: BpGatePolicy::default(),
            hr: HrGatePolicy::default(),
            substance_window_hours: 24,
            substance_use_level: GateLevel::Override,
            pregnancy_test_each_session: false,
            weight_max_age_days: None,
            nasal_medication_gap: Minutes::new(60),
        }
    }
}

struct Findings(Vec<GateFinding>);

impl Findings {
    fn add(&mut self, rule: RuleId, item: GateItem, level: GateLevel, message: impl Into<String>) {
        self.0.push(GateFinding { rule, item, level, unanswered: false, message: message.into() });
    }

    fn fail(&mut self, rule: &'static str, item: GateItem, level: GateLevel, message: impl Into<String>) {
        self.add(RuleId::spec(rule), item, level, message);
    }

    fn missing(&mut self, rule: &'static str, item: GateItem, what: &str) {
        self.0.push(GateFinding {
            rule: RuleId::spec(rule),
            item,
            level: GateLevel::Defer,
            unanswered: true,
            message: format!("{what}: not answered. An unanswered item is not a pass."),
        });
    }

    /// A yes/no item, given as "does the answer pass?": `None` is unanswered.
    fn yes_no(
        &mut self,
        passes: Option<bool>,
        rule: &'static str,
        item: GateItem,
        what: &str,
        level: GateLevel,
        failed: &str,
    ) {
        match passes {
            None => self.missing(rule, item, what),
            Some(false) => self.fail(rule, item, level, failed),
            Some(true) => {}
        }
    }
}

fn minutes_since(earlier: Timestamp, now: Timestamp) -> i64 {
    now.duration_since(earlier).as_mins()
}

/// Runs the pre-dose gate at `now` (the clinic's current time) on `today` (the clinic's
/// civil date, for the weight age).
pub fn evaluate_gate(c: &GateChecklist, now: Timestamp, today: Date, policy: &GatePolicy) -> GateDecision {
    use GateItem as I;
    use GateLevel::*;
    let mut f = Findings(Vec::new());
    let esk = c.route.is_esketamine();

    // NPO-001..004: last solid and clear-liquid times against the route's thresholds.
    let fasting = if esk { &policy.fasting_esketamine } else { &policy.fasting_racemic };
    let npo = fasting.rule.clone();
    match c.last_solid {
        None => f.missing("NPO-004", I::SolidIntake, "Time of the last solid intake"),
        Some(meal) => {
            let need = match meal.kind {
                MealKind::Light => fasting.light_meal_min,
                MealKind::FattyOrMeat => fasting.fatty_meal_min,
            };
            if minutes_since(meal.at, now) < i64::from(need.get()) {
                f.add(
                    npo.clone(),
                    I::SolidIntake,
                    fasting.violation,
                    format!(
                        "Last solid intake less than {need} ago; earliest dosing at {}.",
                        add_minutes(meal.at, need)
                    ),
                );
            }
        }
    }
    match c.last_clear_liquid {
        None => f.missing("NPO-004", I::ClearLiquidIntake, "Time of the last clear liquid"),
        Some(at) => {
            let need = fasting.clear_liquid_min;
            if minutes_since(at, now) < i64::from(need.get()) {
                f.add(
                    npo.clone(),
                    I::ClearLiquidIntake,
                    fasting.violation,
                    format!("Last liquid less than {need} ago; earliest dosing at {}.", add_minutes(at, need)),
                );
            }
        }
    }

    // BP-001..006: the selected BP policy, with a recheck after rest before deferring.
    match c.blood_pressure {
        None => f.missing("BP-006", I::BloodPressure, "Pre-dose blood pressure"),
        Some(first) => {
            let rest = policy.bp.recheck_min_rest;
            let valid_recheck = c.bp_recheck.filter(|r| rest.is_none_or(|m| r.rested >= m));
            let decisive = valid_recheck.map(|r| r.bp).unwrap_or(first);
            let first_tier = policy.bp.tier_for(first);
            match policy.bp.tier_for(decisive) {
                Some(t) if valid_recheck.is_none() && rest.is_some() && t.level >= Override => {
                    let m = rest.unwrap_or(Minutes::new(5));
                    let why = match c.bp_recheck {
                        Some(r) => format!("the recheck was after only {}", r.rested),
                        None => "no recheck has been done".to_string(),
                    };
                    f.fail("BP-006", I::BloodPressure, Defer,
                        format!("BP {first} is in a deferring tier ({}); recheck after at least {m} of rest before deciding ({why}).", t.rule));
                }
                Some(t) => {
                    let shown = format!("{}/{}", t.systolic.describe(), t.diastolic.describe());
                    f.add(
                        t.rule.clone(),
                        I::BloodPressure,
                        t.level,
                        format!("BP {decisive} crosses {shown}: {}", t.action),
                    );
                }
                None => {
                    if let (Some(ft), Some(_)) = (first_tier, valid_recheck) {
                        f.add(
                            ft.rule.clone(),
                            I::BloodPressure,
                            Info,
                            format!(
                                "First BP {first} was elevated; the recheck after rest, {decisive}, is within limits."
                            ),
                        );
                    }
                }
            }
        }
    }
    // BP-006: symptoms of hypertensive urgency or emergency → hard defer.
    f.yes_no(
        c.hypertensive_symptoms.map(|v| !v),
        "BP-006",
        I::HypertensiveSymptoms,
        "Symptoms of hypertensive urgency (chest pain, dyspnoea, severe headache, visual change, neuro deficit)",
        Defer,
        "Symptoms of hypertensive urgency or emergency: hard defer and assess.",
    );

    // BP-007: HR >110 or <50, or a newly detected irregular rhythm.
    match c.heart_rate {
        None => f.missing("BP-007", I::HeartRate, "Resting heart rate"),
        Some(hr) if hr.get() > policy.hr.above || hr.get() < policy.hr.below => f.fail(
            "BP-007",
            I::HeartRate,
            policy.hr.level,
            format!(
                "Resting HR {} is outside {}-{} /min: defer pending prescriber review.",
                hr.get(),
                policy.hr.below,
                policy.hr.above
            ),
        ),
        Some(_) => {}
    }
    f.yes_no(
        c.new_irregular_rhythm.map(|v| !v),
        "BP-007",
        I::IrregularRhythm,
        "Newly detected irregular rhythm",
        policy.hr.level,
        "A newly detected irregular rhythm: defer pending prescriber review.",
    );

    // DAY-002 / PRE-009: escort and no-driving instruction; reschedule if absent.
    f.yes_no(
        c.escort_confirmed,
        "DAY-002",
        I::Escort,
        "Escort / transport home",
        Defer,
        "No escort or transport confirmed: reschedule.",
    );
    f.yes_no(
        c.no_driving_instruction_given,
        "DAY-002",
        I::NoDrivingInstruction,
        "Instruction not to drive until the next day after restful sleep",
        Defer,
        "Instruct the patient not to drive until the next day after restful sleep.",
    );

    // DAY-003: intoxication or withdrawal defers; recent use within the clinic window
    // (DDI-009) follows the clinic policy.
    f.yes_no(
        c.intoxicated_or_in_withdrawal.map(|v| !v),
        "DAY-003",
        I::Intoxication,
        "Intoxication / withdrawal screen",
        Defer,
        "Intoxicated or in withdrawal: defer.",
    );
    match c.substance_use {
        None => f.missing("DDI-009", I::RecentSubstanceUse, "Recent alcohol or recreational drug use"),
        Some(SubstanceUse::LastUsedAt(at))
            if minutes_since(at, now) < i64::from(policy.substance_window_hours) * 60 =>
        {
            f.fail(
                "DDI-009",
                I::RecentSubstanceUse,
                policy.substance_use_level,
                format!(
                    "Alcohol or recreational drug use within the clinic's {} h window.",
                    policy.substance_window_hours
                ),
            );
        }
        Some(_) => {}
    }

    // DAY-005 / RCI-008: pregnancy status for patients of childbearing potential.
    match c.childbearing_potential {
        None => f.missing("DAY-005", I::ChildbearingPotential, "Childbearing potential"),
        Some(false) => {}
        Some(true) => {
            match c.pregnancy {
                None => f.missing("DAY-005", I::Pregnancy, "Pregnancy status"),
                Some(PregnancyStatus::Pregnant) => f.fail(
                    "RCI-008",
                    I::Pregnancy,
                    Defer,
                    "Pregnant: ketamine/esketamine may cause fetal harm and is not recommended.",
                ),
                Some(PregnancyStatus::Unsure) => f.fail(
                    "DAY-005",
                    I::Pregnancy,
                    Defer,
                    "Pregnancy status unsure: resolve (for example a urine hCG) before dosing.",
                ),
                Some(PregnancyStatus::NotPregnant) => {}
            }
            if policy.pregnancy_test_each_session {
                f.yes_no(
                    c.pregnancy_test_negative,
                    "DAY-005",
                    I::PregnancyTest,
                    "Per-session pregnancy test",
                    Defer,
                    "The per-session pregnancy test is not negative.",
                );
            }
        }
    }

    // DAY-004: medication changes reviewed, and the interaction screen's findings.
    f.yes_no(
        c.medication_changes_reviewed,
        "DAY-004",
        I::MedicationReview,
        "Review of medication changes since the last session",
        Defer,
        "Medication changes since the last session have not been reviewed.",
    );
    for i in &c.interactions {
        let level = match (i.action, &i.accepted) {
            (InteractionAction::Inform | InteractionAction::Monitor, _) => Info,
            // Accepted at the current eligibility decision (issue 11 item 7): shown, no new override.
            (InteractionAction::Override, Some(_)) => Info,
            (InteractionAction::Override, None) => Override,
            (InteractionAction::Block, _) => Defer,
        };
        let message = match &i.accepted {
            Some(a) if level == Info => format!("{} — {}", i.message, a.words()),
            _ => i.message.clone(),
        };
        f.add(RuleId::owned(i.rule.clone()), I::Interaction, level, message);
    }

    // DAY-006 (RCI-001/002): new psychotic or manic symptoms → defer and escalate.
    f.yes_no(
        c.new_psychotic_or_manic_symptoms.map(|v| !v),
        "DAY-006",
        I::PsychoticOrManicSymptoms,
        "New psychotic or manic symptoms",
        Defer,
        "New psychotic or manic symptoms: defer and escalate.",
    );

    // DAY-006 / SUI-001 / SUI-003: the pre-dose suicide-risk screen.
    match c.suicide_screen {
        None => f.missing("SUI-001", I::SuicideScreen, "Pre-dose suicide-risk screen"),
        Some(SuicideScreen::Negative) => {}
        Some(SuicideScreen::PositiveNotHighRisk) => f.fail("SUI-001", I::SuicideScreen, Attest,
            "Positive suicide-risk screen: clinician review before dosing."),
        Some(SuicideScreen::HighRisk { safe_as_outpatient: None }) => f.fail("SUI-003", I::SuicideScreen, Defer,
            "High-risk screen: same-day clinician assessment is required before any dosing."),
        Some(SuicideScreen::HighRisk { safe_as_outpatient: Some(false) }) => f.fail("SUI-003", I::SuicideScreen, Defer,
            "High risk and cannot be kept safe as an outpatient: defer dosing, activate the safety plan, emergency services or crisis line (US 988)."),
        Some(SuicideScreen::HighRisk { safe_as_outpatient: Some(true) }) => f.fail("SUI-003", I::SuicideScreen, Override,
            "High-risk screen assessed as safe for outpatient care: the clinician documents the disposition."),
    }

    // DAY-008: weight recency for weight-based doses.
    if c.dose_is_weight_based {
        match c.weight_measured_on {
            None => f.missing("DAY-008", I::Weight, "Date the dosing weight was measured"),
            Some(on) => {
                let age = today.duration_since(on).as_secs() / 86_400;
                if let Some(max) = policy.weight_max_age_days
                    && age > i64::from(max)
                {
                    f.fail(
                        "DAY-008",
                        I::Weight,
                        Defer,
                        format!("The weight is {age} days old (clinic limit {max}): re-weigh before dosing."),
                    );
                }
            }
        }
    }

    if esk {
        // DAY-001 / PRE-008: REMS enrolment, certified setting, prescriber onsite, oximeter.
        f.yes_no(
            c.rems_patient_enrolled,
            "PRE-008",
            I::RemsPatientEnrolled,
            "Patient enrolled in the SPRAVATO REMS",
            Defer,
            "The patient is not enrolled in the SPRAVATO REMS.",
        );
        f.yes_no(
            c.rems_setting_certified,
            "DAY-001",
            I::RemsSettingCertified,
            "Setting REMS-certified",
            Defer,
            "The setting is not REMS-certified.",
        );
        f.yes_no(
            c.prescriber_onsite,
            "DAY-001",
            I::PrescriberOnsite,
            "Prescriber onsite",
            Defer,
            "A prescriber must be onsite during administration and monitoring.",
        );
        f.yes_no(
            c.pulse_oximeter_available,
            "DAY-001",
            I::PulseOximeter,
            "Pulse oximeter available",
            Defer,
            "A pulse oximeter must be available onsite.",
        );
        // DOSE-IN-010 / DAY-007: nasal steroid or decongestant at least 1 h before.
        match c.nasal_medication {
            None => f.missing("DAY-007", I::NasalMedication, "Nasal corticosteroid or decongestant today"),
            Some(NasalMedication::LastUsedAt(at))
                if minutes_since(at, now) < i64::from(policy.nasal_medication_gap.get()) =>
            {
                f.fail(
                    "DOSE-IN-010",
                    I::NasalMedication,
                    Defer,
                    format!(
                        "Nasal steroid/decongestant less than {} before dosing; wait until {}.",
                        policy.nasal_medication_gap,
                        add_minutes(at, policy.nasal_medication_gap)
                    ),
                );
            }
            Some(_) => {}
        }
        f.yes_no(
            c.nasal_congestion.map(|v| !v),
            "DAY-007",
            I::NasalCongestion,
            "Nasal congestion",
            Info,
            "Nasal congestion reported.",
        );
    }

    decide(f.0)
}

/// The decision, its findings ordered so the one that blocks comes first (issue 11
/// item 7): defer (hard stops) before needs-override before attestation before notes;
/// within a level, an answer that fails before an item not answered yet.
fn decide(mut findings: Vec<GateFinding>) -> GateDecision {
    findings.sort_by_key(|f| (std::cmp::Reverse(f.level), f.unanswered));
    let worst = findings.first().map(|f| f.level).unwrap_or(GateLevel::Info);
    match worst {
        GateLevel::Defer => {
            GateDecision::Defer { reasons: findings.into_iter().filter(|f| f.level > GateLevel::Info).collect() }
        }
        GateLevel::Override | GateLevel::Attest => GateDecision::NeedsOverride {
            findings: findings.into_iter().filter(|f| f.level > GateLevel::Info).collect(),
        },
        GateLevel::Info => GateDecision::Proceed { notes: findings },
    }
}

#[cfg(test)]
mod tests {
    mod interaction_rerun {
        use super::super::*;
        use crate::eligibility::answers::example_complete_answers;
        use crate::eligibility::{EligibilityPolicy, evaluate};
        use jiff::civil::date;

        fn screen_with(meds: &[(&str, &str)]) -> Vec<InteractionFinding> {
            let today = date(2026, 3, 10);
            let mut a = example_complete_answers(today);
            for (k, v) in meds {
                a.set(k, v).unwrap();
            }
            let intake = a.parse(None).expect("example intake parses");
            interaction_findings(&evaluate(&intake, &EligibilityPolicy::default(), today).findings)
        }

        #[test]
        fn only_an_antidepressant_gives_no_gate_interaction() {
            assert!(screen_with(&[]).is_empty());
        }

        #[test]
        fn a_new_drug_reruns_the_rules_with_the_gate_action_of_each() {
            // DDI-007 theophylline: a hard stop under the default policy → the gate defers.
            let f = screen_with(&[("med2_name", "theophylline")]);
            let t = f.iter().find(|f| f.rule == "DDI-007").expect("DDI-007");
            assert_eq!(t.action, InteractionAction::Block, "{f:?}");
            assert!(t.message.contains("theophylline"), "the drug is named: {}", t.message);
            // DDI-005 lamotrigine: information only.
            let f = screen_with(&[("med2_name", "lamotrigine")]);
            assert_eq!(
                f.iter().map(|f| (f.rule.as_str(), f.action)).collect::<Vec<_>>(),
                vec![("DDI-005", InteractionAction::Inform)]
            );
            // DDI-001 a CNS depressant (a benzodiazepine): monitor closely.
            let f = screen_with(&[("med2_name", "alprazolam"), ("med2_dose_mg", "1")]);
            assert!(f.iter().any(|f| f.rule == "DDI-001" && f.action == InteractionAction::Monitor), "{f:?}");
        }

        fn acceptances(reasons: &[(&str, &str)], intake_changed: bool) -> EligibilityAcceptances {
            EligibilityAcceptances {
                on: date(2026, 3, 1),
                by: "Dr Ada".into(),
                reasons: reasons.iter().map(|(r, w)| (r.to_string(), w.to_string())).collect(),
                intake_changed,
            }
        }

        #[test]
        fn a_finding_accepted_at_eligibility_carries_to_the_gate() {
            let mut f = vec![
                InteractionFinding::new("DDI-004", InteractionAction::Override, "benzodiazepine load 20 mg"),
                InteractionFinding::new("DDI-001", InteractionAction::Monitor, "CNS depressant"),
            ];
            carry_over(&mut f, Some(&acceptances(&[("DDI-004", "Taper agreed with the patient")], false)));
            let a = f[0].accepted.as_ref().expect("DDI-004 carries");
            assert_eq!(a.words(), "accepted at eligibility on 2026-03-01 by Dr Ada: Taper agreed with the patient");
            assert_eq!(f[1].accepted, None, "only a finding that needed the prescriber carries");
            // At the gate it no longer needs an override: it is a note that says so.
            let mut c = passing_checklist();
            c.interactions = f;
            let d = super::gate(&c);
            assert!(d.is_proceed(), "{d:?}");
            assert!(
                d.findings().iter().any(|g| g.rule.as_str() == "DDI-004"
                    && g.message.contains("accepted at eligibility on 2026-03-01 by Dr Ada")),
                "{d:?}"
            );
        }

        #[test]
        fn nothing_carries_when_the_intake_changed_or_another_rule_was_accepted() {
            let finding = || vec![InteractionFinding::new("DDI-004", InteractionAction::Override, "load")];
            let mut f = finding();
            carry_over(&mut f, Some(&acceptances(&[("DDI-004", "agreed")], true)));
            assert_eq!(f[0].accepted, None, "intake changed since the decision");
            let mut f = finding();
            carry_over(&mut f, Some(&acceptances(&[("RCI-003", "agreed")], false)));
            assert_eq!(f[0].accepted, None, "another rule's reason");
            let mut f = finding();
            carry_over(&mut f, None);
            assert_eq!(f[0].accepted, None, "no current decision");
            // A hard stop never carries.
            let mut f = vec![InteractionFinding::new("DDI-007", InteractionAction::Block, "theophylline")];
            carry_over(&mut f, Some(&acceptances(&[("DDI-007", "agreed")], false)));
            assert_eq!(f[0].accepted, None);
            // Not carried: it needs the prescriber again.
            let mut c = passing_checklist();
            c.interactions = finding();
            let d = super::gate(&c);
            assert!(matches!(d, GateDecision::NeedsOverride { .. }), "{d:?}");
        }

        fn passing_checklist() -> GateChecklist {
            super::passing(Route::IvInfusion)
        }

        #[test]
        fn a_blocking_interaction_makes_the_gate_defer() {
            let mut c = GateChecklist::unanswered(Route::IvInfusion, true);
            c.interactions = screen_with(&[("med2_name", "theophylline")]);
            let d =
                evaluate_gate(&c, "2026-03-10T14:00:00Z".parse().unwrap(), date(2026, 3, 10), &GatePolicy::default());
            assert!(
                d.findings().iter().any(|f| f.item == GateItem::Interaction
                    && f.level == GateLevel::Defer
                    && f.rule.as_str() == "DDI-007"),
                "{d:?}"
            );
        }
    }

    use super::*;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        "2026-03-01T10:00:00Z".parse().unwrap()
    }

    fn ago(min: i64) -> Timestamp {
        now() - jiff::SignedDuration::from_mins(min)
    }

    fn today() -> Date {
        Date::constant(2026, 3, 1)
    }

    fn bp(s: u16, d: u16) -> BloodPressure {
        BloodPressure::mmhg(s, d).unwrap()
    }

    /// A checklist where every item is answered and passes.
    fn passing(route: Route) -> GateChecklist {
        let esk = route.is_esketamine();
        GateChecklist {
            last_solid: Some(super::SolidIntake { at: ago(600), kind: MealKind::FattyOrMeat }),
            last_clear_liquid: Some(ago(180)),
            blood_pressure: Some(bp(120, 80)),
            hypertensive_symptoms: Some(false),
            heart_rate: Some(super::HeartRate::new(72).unwrap()),
            new_irregular_rhythm: Some(false),
            escort_confirmed: Some(true),
            no_driving_instruction_given: Some(true),
            intoxicated_or_in_withdrawal: Some(false),
            substance_use: Some(SubstanceUse::NoneWithinWindow),
            childbearing_potential: Some(true),
            pregnancy: Some(PregnancyStatus::NotPregnant),
            medication_changes_reviewed: Some(true),
            new_psychotic_or_manic_symptoms: Some(false),
            suicide_screen: Some(super::SuicideScreen::Negative),
            weight_measured_on: Some(Date::constant(2026, 2, 1)),
            rems_patient_enrolled: esk.then_some(true),
            rems_setting_certified: esk.then_some(true),
            prescriber_onsite: esk.then_some(true),
            pulse_oximeter_available: esk.then_some(true),
            nasal_medication: esk.then_some(NasalMedication::NoneToday),
            nasal_congestion: esk.then_some(false),
            ..GateChecklist::unanswered(route, route.usually_weight_based())
        }
    }

    fn gate(c: &GateChecklist) -> GateDecision {
        evaluate_gate(c, now(), today(), &GatePolicy::default())
    }

    fn rules(d: &GateDecision) -> Vec<String> {
        d.findings().iter().map(|f| f.rule.to_string()).collect()
    }

    #[test]
    fn fully_answered_passing_checklists_proceed() {
        for route in Route::ALL {
            assert!(gate(&passing(route)).is_proceed(), "{route:?}: {:?}", gate(&passing(route)));
        }
    }

    #[test]
    fn an_empty_checklist_defers_with_rule_ids_on_every_finding() {
        let d = gate(&GateChecklist::unanswered(Route::IntranasalEsketamine, false));
        assert!(matches!(d, GateDecision::Defer { .. }));
        assert!(d.findings().iter().all(|f| f.unanswered && !f.rule.as_str().is_empty()));
        assert!(rules(&d).contains(&"PRE-008".to_string()));
    }

    #[test]
    fn three_tier_bp_boundaries() {
        let with = |s, d| {
            let mut c = passing(Route::IvInfusion);
            c.blood_pressure = Some(bp(s, d));
            gate(&c)
        };
        assert!(with(139, 89).is_proceed());
        // 140–159 / 90–99: attestation.
        assert!(matches!(with(140, 80), GateDecision::NeedsOverride { .. }));
        assert!(matches!(with(120, 90), GateDecision::NeedsOverride { .. }));
        assert!(matches!(with(159, 99), GateDecision::NeedsOverride { .. }));
        // ≥160/100 without a recheck: recheck after rest before deciding.
        let d = with(160, 80);
        assert!(matches!(d, GateDecision::Defer { .. }));
        assert!(d.findings()[0].message.contains("recheck"));
    }

    #[test]
    fn bp_recheck_after_rest_replaces_the_first_reading() {
        let mut c = passing(Route::IvInfusion);
        c.blood_pressure = Some(bp(165, 95));
        c.bp_recheck = Some(BpRecheck { bp: bp(150, 88), rested: Minutes::new(5) });
        let d = gate(&c);
        assert!(matches!(d, GateDecision::NeedsOverride { .. }), "{d:?}");
        assert_eq!(d.findings()[0].level, GateLevel::Attest);
        // Too little rest: the recheck does not count.
        c.bp_recheck = Some(BpRecheck { bp: bp(150, 88), rested: Minutes::new(4) });
        assert!(matches!(gate(&c), GateDecision::Defer { .. }));
        // Recheck still ≥160/100: defer unless overridden.
        c.bp_recheck = Some(BpRecheck { bp: bp(168, 96), rested: Minutes::new(10) });
        let d = gate(&c);
        assert!(matches!(d, GateDecision::NeedsOverride { .. }));
        assert_eq!(d.findings()[0].level, GateLevel::Override);
        // Recheck ≥180/110: hard defer.
        c.bp_recheck = Some(BpRecheck { bp: bp(182, 100), rested: Minutes::new(10) });
        let d = gate(&c);
        assert!(matches!(d, GateDecision::Defer { .. }));
        assert_eq!(d.findings()[0].rule.as_str(), "BP-006");
        // Normal on recheck: proceed, with a note.
        c.bp_recheck = Some(BpRecheck { bp: bp(130, 85), rested: Minutes::new(5) });
        let d = gate(&c);
        assert!(d.is_proceed());
        assert_eq!(d.findings().len(), 1);
    }

    #[test]
    fn named_bp_presets_disagree_as_the_spec_says() {
        let decide = |name, s, d| {
            let mut c = passing(Route::IntranasalEsketamine);
            c.blood_pressure = Some(bp(s, d));
            let policy = GatePolicy { bp: BpGatePolicy::preset(name), ..GatePolicy::default() };
            evaluate_gate(&c, now(), today(), &policy)
        };
        use BpPolicyName::*;
        // BP-001 uses "> 140": 140 itself passes, 141 needs attestation.
        assert!(decide(SpravatoLabel, 140, 90).is_proceed());
        assert!(matches!(decide(SpravatoLabel, 141, 80), GateDecision::NeedsOverride { .. }));
        // BP-002: the same numbers mean no treatment that day (after the rest recheck).
        let d = decide(SingleClinicNoTreatmentAbove140, 141, 80);
        assert!(matches!(d, GateDecision::Defer { .. }));
        // BP-003: >180/100 at rest.
        assert!(decide(SwissLabel, 180, 100).is_proceed());
        assert!(matches!(decide(SwissLabel, 181, 90), GateDecision::Defer { .. }));
        // BP-004: ≥160/100 is a review tier only.
        assert!(matches!(decide(CtcaeGrade3, 160, 80), GateDecision::NeedsOverride { .. }));
        // BP-005: ≥180 and/or ≥110.
        assert!(decide(IcOsHold, 179, 109).is_proceed());
        assert!(matches!(decide(IcOsHold, 150, 110), GateDecision::Defer { .. }));
        assert_eq!(decide(IcOsHold, 150, 110).findings()[0].rule.as_str(), "BP-006", "recheck first");
    }

    #[test]
    fn heart_rate_gate_boundaries() {
        let with = |hr| {
            let mut c = passing(Route::IvInfusion);
            c.heart_rate = Some(super::HeartRate::new(hr).unwrap());
            gate(&c)
        };
        assert!(with(110).is_proceed());
        assert!(with(50).is_proceed());
        assert_eq!(rules(&with(111)), vec!["BP-007"]);
        assert!(matches!(with(49), GateDecision::NeedsOverride { .. }));
    }

    #[test]
    fn fasting_boundaries_per_route() {
        let mut c = passing(Route::IntranasalEsketamine);
        c.last_solid = Some(super::SolidIntake { at: ago(120), kind: MealKind::Light });
        c.last_clear_liquid = Some(ago(30));
        assert!(gate(&c).is_proceed(), "NPO-001: exactly 2 h and 30 min");
        c.last_clear_liquid = Some(ago(29));
        assert_eq!(rules(&gate(&c)), vec!["NPO-001"]);
        let mut r = passing(Route::IvInfusion);
        r.last_solid = Some(super::SolidIntake { at: ago(360), kind: MealKind::Light });
        assert!(gate(&r).is_proceed());
        r.last_solid = Some(super::SolidIntake { at: ago(360), kind: MealKind::FattyOrMeat });
        assert_eq!(rules(&gate(&r)), vec!["NPO-002"]);
        let policy = GatePolicy { fasting_racemic: FastingPolicy::clinic_4h_food_2h_drink(), ..GatePolicy::default() };
        r.last_solid = Some(super::SolidIntake { at: ago(240), kind: MealKind::FattyOrMeat });
        assert!(evaluate_gate(&r, now(), today(), &policy).is_proceed());
    }

    #[test]
    fn decision_table_for_other_items() {
        let check = |edit: &dyn Fn(&mut GateChecklist), expect: &str, rule: &str| {
            let mut c = passing(Route::IntranasalEsketamine);
            edit(&mut c);
            let d = gate(&c);
            let kind = match d {
                GateDecision::Proceed { .. } => "proceed",
                GateDecision::Defer { .. } => "defer",
                GateDecision::NeedsOverride { .. } => "override",
            };
            assert_eq!(kind, expect, "{rule}: {d:?}");
            assert!(rules(&d).iter().any(|r| r == rule), "{rule}: {d:?}");
        };
        check(&|c| c.escort_confirmed = Some(false), "defer", "DAY-002");
        check(&|c| c.intoxicated_or_in_withdrawal = Some(true), "defer", "DAY-003");
        check(&|c| c.substance_use = Some(SubstanceUse::LastUsedAt(ago(23 * 60))), "override", "DDI-009");
        check(&|c| c.pregnancy = Some(PregnancyStatus::Pregnant), "defer", "RCI-008");
        check(&|c| c.pregnancy = Some(PregnancyStatus::Unsure), "defer", "DAY-005");
        check(&|c| c.pregnancy = None, "defer", "DAY-005");
        check(&|c| c.new_psychotic_or_manic_symptoms = Some(true), "defer", "DAY-006");
        check(&|c| c.suicide_screen = Some(super::SuicideScreen::PositiveNotHighRisk), "override", "SUI-001");
        check(
            &|c| c.suicide_screen = Some(super::SuicideScreen::HighRisk { safe_as_outpatient: None }),
            "defer",
            "SUI-003",
        );
        check(
            &|c| c.suicide_screen = Some(super::SuicideScreen::HighRisk { safe_as_outpatient: Some(true) }),
            "override",
            "SUI-003",
        );
        check(&|c| c.rems_patient_enrolled = Some(false), "defer", "PRE-008");
        check(&|c| c.pulse_oximeter_available = Some(false), "defer", "DAY-001");
        check(&|c| c.nasal_medication = Some(NasalMedication::LastUsedAt(ago(59))), "defer", "DOSE-IN-010");
        check(&|c| c.nasal_congestion = Some(true), "proceed", "DAY-007");
        check(&|c| c.hypertensive_symptoms = Some(true), "defer", "BP-006");
        check(
            &|c| c.interactions.push(InteractionFinding::new("DDI-007", InteractionAction::Block, "theophylline")),
            "defer",
            "DDI-007",
        );
        check(
            &|c| {
                c.interactions.push(InteractionFinding::new(
                    "DDI-004",
                    InteractionAction::Override,
                    "benzodiazepine load",
                ))
            },
            "override",
            "DDI-004",
        );
        check(
            &|c| c.interactions.push(InteractionFinding::new("DDI-005", InteractionAction::Inform, "lamotrigine")),
            "proceed",
            "DDI-005",
        );
        let mut c = passing(Route::IntranasalEsketamine);
        c.nasal_medication = Some(NasalMedication::LastUsedAt(ago(60)));
        assert!(gate(&c).is_proceed(), "exactly 60 minutes is enough (DOSE-IN-010)");
    }

    #[test]
    fn the_finding_that_blocks_comes_first() {
        // Issue 11 item 7: an unanswered weight date, a prescriber-level interaction and a
        // hard-stop interaction: the hard stop leads, then other defers, then overrides.
        let mut c = passing(Route::IvInfusion);
        c.weight_measured_on = None;
        c.interactions = vec![
            InteractionFinding::new("DDI-004", InteractionAction::Override, "benzodiazepine load"),
            InteractionFinding::new("DDI-001", InteractionAction::Monitor, "CNS depressant"),
            InteractionFinding::new("DDI-007", InteractionAction::Block, "theophylline"),
        ];
        let d = gate(&c);
        assert!(matches!(d, GateDecision::Defer { .. }), "{d:?}");
        // An answered failure leads the unanswered item at the same level.
        assert_eq!(rules(&d), vec!["DDI-007", "DAY-008", "DDI-004"]);
        c.interactions.retain(|i| i.rule != "DDI-007");
        assert_eq!(rules(&gate(&c)), vec!["DAY-008", "DDI-004"]);
        c.weight_measured_on = Some(Date::constant(2026, 2, 1));
        let d = gate(&c);
        assert!(matches!(d, GateDecision::NeedsOverride { .. }), "{d:?}");
        assert_eq!(rules(&d), vec!["DDI-004"]);
    }

    #[test]
    fn substance_window_boundary_and_weight_age() {
        let mut c = passing(Route::IvInfusion);
        c.substance_use = Some(SubstanceUse::LastUsedAt(ago(24 * 60)));
        assert!(gate(&c).is_proceed());
        c.substance_use = Some(SubstanceUse::LastUsedAt(ago(24 * 60 - 1)));
        assert!(!gate(&c).is_proceed());
        let mut w = passing(Route::IvInfusion);
        let policy = GatePolicy { weight_max_age_days: Some(28), ..GatePolicy::default() };
        w.weight_measured_on = Some(Date::constant(2026, 2, 1)); // 28 days before
        assert!(evaluate_gate(&w, now(), today(), &policy).is_proceed());
        w.weight_measured_on = Some(Date::constant(2026, 1, 31)); // 29 days
        assert_eq!(rules(&evaluate_gate(&w, now(), today(), &policy)), vec!["DAY-008"]);
        w.weight_measured_on = None;
        assert!(!gate(&w).is_proceed());
    }

    /// Each closure blanks one required item. Written independently of the gate so that
    /// forgetting to require an item makes the property fail.
    type Blanker = (&'static str, fn(&mut GateChecklist));

    fn blankers() -> Vec<Blanker> {
        vec![
            ("solid", |c| c.last_solid = None),
            ("liquid", |c| c.last_clear_liquid = None),
            ("bp", |c| c.blood_pressure = None),
            ("symptoms", |c| c.hypertensive_symptoms = None),
            ("hr", |c| c.heart_rate = None),
            ("rhythm", |c| c.new_irregular_rhythm = None),
            ("escort", |c| c.escort_confirmed = None),
            ("driving", |c| c.no_driving_instruction_given = None),
            ("intox", |c| c.intoxicated_or_in_withdrawal = None),
            ("substance", |c| c.substance_use = None),
            ("childbearing", |c| c.childbearing_potential = None),
            ("pregnancy", |c| c.pregnancy = None),
            ("meds", |c| c.medication_changes_reviewed = None),
            ("psychosis", |c| c.new_psychotic_or_manic_symptoms = None),
            ("suicide", |c| c.suicide_screen = None),
            ("weight", |c| c.weight_measured_on = None),
            ("rems", |c| c.rems_patient_enrolled = None),
            ("certified", |c| c.rems_setting_certified = None),
            ("prescriber", |c| c.prescriber_onsite = None),
            ("oximeter", |c| c.pulse_oximeter_available = None),
            ("nasal", |c| c.nasal_medication = None),
            ("congestion", |c| c.nasal_congestion = None),
        ]
    }

    fn applies(name: &str, route: Route) -> bool {
        match name {
            "rems" | "certified" | "prescriber" | "oximeter" | "nasal" | "congestion" => route.is_esketamine(),
            "weight" => route.usually_weight_based(),
            _ => true,
        }
    }

    proptest! {
        #[test]
        fn any_unanswered_required_item_never_proceeds(
            route_ix in 0usize..6,
            mask in proptest::collection::vec(any::<bool>(), 22),
            s in 90u16..200,
        ) {
            let route = Route::ALL[route_ix];
            let mut c = passing(route);
            c.blood_pressure = Some(bp(s, 60));
            let list = blankers();
            let mut blanked = false;
            for ((name, blank), on) in list.iter().zip(&mask) {
                if *on && applies(name, route) {
                    blank(&mut c);
                    blanked = true;
                }
            }
            let d = gate(&c);
            if blanked {
                prop_assert!(!d.is_proceed(), "{:?}", d);
                prop_assert!(d.findings().iter().any(|f| f.unanswered));
            }
            for f in d.findings() {
                prop_assert!(!f.rule.as_str().is_empty());
            }
        }
    }
}
