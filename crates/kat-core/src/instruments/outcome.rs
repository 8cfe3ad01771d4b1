//! Outcome helpers: change from baseline, response, remission, relapse and minimal
//! important change (clinical.md §7.3, §7.4; instruments.md §2.4, §3.4, §4.4, §13.6).
//!
//! clinical.md §7.3 says to "store the definition used with each computed status", so
//! every status here carries a [`Definition`]: the rule ID, the threshold and the
//! evidence tag. Thresholds the spec tags \[U\]/\[P\] or calls configurable live in
//! [`OutcomePolicy`], whose `Default` is the spec value; verified (\[V\]) thresholds are
//! constants.
//!
//! All comparisons use integer arithmetic, so a boundary such as "exactly 50%" is
//! decided exactly, not by floating-point rounding.

use super::catalog::Instrument;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The scales whose totals the outcome helpers understand. MADRS and QIDS-SR16 are
/// included because the outcome rules name them (RESP-001/002/004, REL-003), even
/// though their item-level scoring is not part of this module; their totals come from
/// the clinician or another scorer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeScale {
    Phq9,
    Gad7,
    Pcl5,
    Madrs,
    QidsSr16,
}

impl OutcomeScale {
    /// The largest possible total (instruments.md §0).
    pub fn max_total(self) -> u8 {
        match self {
            OutcomeScale::Phq9 | OutcomeScale::QidsSr16 => 27,
            OutcomeScale::Gad7 => 21,
            OutcomeScale::Pcl5 => 80,
            OutcomeScale::Madrs => 60,
        }
    }

    /// The outcome scale of a scored instrument, if it has one.
    pub fn from_instrument(instrument: Instrument) -> Option<Self> {
        match instrument {
            Instrument::Phq9 => Some(OutcomeScale::Phq9),
            Instrument::Gad7 => Some(OutcomeScale::Gad7),
            Instrument::Pcl5 => Some(OutcomeScale::Pcl5),
            _ => None,
        }
    }
}

/// A total that does not fit the scale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    #[error("{scale:?} total {total} is above the maximum {max}")]
    TotalOutOfRange { scale: OutcomeScale, total: u8, max: u8 },
    #[error("assessments must be in strictly increasing time order")]
    AssessmentsOutOfOrder,
}

fn check(scale: OutcomeScale, total: u8) -> Result<u8, OutcomeError> {
    if total > scale.max_total() {
        Err(OutcomeError::TotalOutOfRange { scale, total, max: scale.max_total() })
    } else {
        Ok(total)
    }
}

/// The kind of threshold a definition applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Threshold {
    /// Reduction from baseline of at least this many percent.
    ReductionPercentAtLeast(u8),
    /// Fall from baseline of at least this many points.
    DropAtLeast(u8),
    /// Total strictly below this value.
    TotalBelow(u8),
    /// Total at most this value.
    TotalAtMost(u8),
    /// Total at least this value.
    TotalAtLeast(u8),
}

impl Threshold {
    fn describe(self) -> String {
        match self {
            Threshold::ReductionPercentAtLeast(p) => format!("≥ {p}% reduction from baseline"),
            Threshold::DropAtLeast(n) => format!("fall of ≥ {n} points from baseline"),
            Threshold::TotalBelow(n) => format!("total < {n}"),
            Threshold::TotalAtMost(n) => format!("total ≤ {n}"),
            Threshold::TotalAtLeast(n) => format!("total ≥ {n}"),
        }
    }
}

/// The definition behind a computed status, for display and storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definition {
    /// Spec rule ID (e.g. "RESP-001") or spec section.
    pub rule: &'static str,
    pub scale: OutcomeScale,
    pub threshold: Threshold,
    /// Evidence tag of the rule in the spec: "\[V\]", "\[V2\]", "\[U\]", "\[P\]".
    pub evidence: &'static str,
    pub source: &'static str,
}

impl Definition {
    /// A one-line description for the UI, e.g. "RESP-003: total < 5 \[V\]".
    pub fn describe(&self) -> String {
        format!("{}: {} {}", self.rule, self.threshold.describe(), self.evidence)
    }
}

/// A yes/no outcome with the definition that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeStatus {
    pub met: bool,
    pub definition: Definition,
}

/// Response is a ≥ 50% reduction from baseline (RESP-001 \[V\]; RESP-007 for GAD-7).
pub const RESPONSE_REDUCTION_PERCENT: u8 = 50;
/// PHQ-9 remission: total < 5 (RESP-003 \[V\]).
pub const PHQ9_REMISSION_BELOW: u8 = 5;
/// Sustained remission: remission on this many consecutive visits (RESP-005 \[V\]).
pub const SUSTAINED_REMISSION_VISITS: usize = 2;

/// Clinic-configurable outcome thresholds. `Default` gives the spec values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomePolicy {
    /// RESP-007 \[U\]: GAD-7 remission when total < this. Default 5.
    pub gad7_remission_below: u8,
    /// RESP-002: MADRS remission when total ≤ this. Spec: default 10, 12 as the
    /// alternative (Janssen trials). Default 10.
    pub madrs_remission_at_most: u8,
    /// RESP-004 \[U\]: QIDS-SR16 remission when total ≤ this. Default 5.
    pub qids_remission_at_most: u8,
    /// RESP-006: PCL-5 "response" as a point drop. The spec gives ≥ 10 points as
    /// clinically meaningful and ≥ 5 as reliable (NCPTSD calls 5 "minimum for
    /// response"); default 10, the clinically meaningful one.
    pub pcl5_response_drop: u8,
    /// MADRS minimal important change: the spec gives 1.6–1.9 (Duru 2008) or 3–6
    /// (Hengartner 2021) and no single value, so none by default.
    pub madrs_mcid: Option<u8>,
    pub relapse: RelapsePolicy,
}

impl Default for OutcomePolicy {
    fn default() -> Self {
        Self {
            gad7_remission_below: 5,
            madrs_remission_at_most: 10,
            qids_remission_at_most: 5,
            pcl5_response_drop: 10,
            madrs_mcid: None,
            relapse: RelapsePolicy::default(),
        }
    }
}

/// REL-003 \[U\] (clinic default): the relapse flag's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelapsePolicy {
    /// "Again meets moderate severity": PHQ-9 ≥ 10.
    pub phq9_moderate_at_least: Option<u8>,
    /// "Again meets moderate severity": MADRS ≥ 20.
    pub madrs_moderate_at_least: Option<u8>,
    /// REL-003 names no moderate threshold for these; off by default.
    pub gad7_moderate_at_least: Option<u8>,
    pub pcl5_moderate_at_least: Option<u8>,
    pub qids_moderate_at_least: Option<u8>,
    /// Minimum days between the two confirming assessments. Default 5.
    pub confirm_min_days_apart: u16,
}

impl Default for RelapsePolicy {
    fn default() -> Self {
        Self {
            phq9_moderate_at_least: Some(10),
            madrs_moderate_at_least: Some(20),
            gad7_moderate_at_least: None,
            pcl5_moderate_at_least: None,
            qids_moderate_at_least: None,
            confirm_min_days_apart: 5,
        }
    }
}

impl RelapsePolicy {
    fn moderate_at_least(&self, scale: OutcomeScale) -> Option<u8> {
        match scale {
            OutcomeScale::Phq9 => self.phq9_moderate_at_least,
            OutcomeScale::Madrs => self.madrs_moderate_at_least,
            OutcomeScale::Gad7 => self.gad7_moderate_at_least,
            OutcomeScale::Pcl5 => self.pcl5_moderate_at_least,
            OutcomeScale::QidsSr16 => self.qids_moderate_at_least,
        }
    }
}

/// Change from baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    pub baseline: u8,
    pub current: u8,
    /// `current − baseline`: negative is improvement on every supported scale.
    pub points: i16,
    /// `points / baseline × 100`; `None` when the baseline is 0 (undefined).
    pub percent: Option<f64>,
}

/// Change from baseline to a later total (instruments.md §13.6).
pub fn change(scale: OutcomeScale, baseline: u8, current: u8) -> Result<Change, OutcomeError> {
    check(scale, baseline)?;
    check(scale, current)?;
    let points = i16::from(current) - i16::from(baseline);
    let percent = (baseline > 0).then(|| f64::from(points) * 100.0 / f64::from(baseline));
    Ok(Change { baseline, current, points, percent })
}

/// The response definition for a scale.
pub fn response_definition(scale: OutcomeScale, policy: &OutcomePolicy) -> Definition {
    match scale {
        OutcomeScale::Gad7 => Definition {
            rule: "RESP-007",
            scale,
            threshold: Threshold::ReductionPercentAtLeast(RESPONSE_REDUCTION_PERCENT),
            evidence: "[V]",
            source: "HULL-2023",
        },
        OutcomeScale::Pcl5 => Definition {
            rule: "RESP-006",
            scale,
            threshold: Threshold::DropAtLeast(policy.pcl5_response_drop),
            evidence: "[V]",
            source: "PCL-5 (NCPTSD)",
        },
        OutcomeScale::Phq9 | OutcomeScale::Madrs | OutcomeScale::QidsSr16 => Definition {
            rule: "RESP-001",
            scale,
            threshold: Threshold::ReductionPercentAtLeast(RESPONSE_REDUCTION_PERCENT),
            evidence: "[V]",
            source: "TRANSFORM (PMC7894501); ELEKT-D; MUR-2013; SUSTAIN-3",
        },
    }
}

fn meets(threshold: Threshold, baseline: u8, current: u8) -> bool {
    let (b, c) = (u32::from(baseline), u32::from(current));
    match threshold {
        // (b − c) / b ≥ p / 100, without division; impossible from a baseline of 0.
        Threshold::ReductionPercentAtLeast(p) => b > 0 && c <= b && (b - c) * 100 >= u32::from(p) * b,
        Threshold::DropAtLeast(n) => c + u32::from(n) <= b,
        Threshold::TotalBelow(n) => c < u32::from(n),
        Threshold::TotalAtMost(n) => c <= u32::from(n),
        Threshold::TotalAtLeast(n) => c >= u32::from(n),
    }
}

/// Response at `current` relative to `baseline` (RESP-001, RESP-006, RESP-007).
pub fn response(
    scale: OutcomeScale,
    baseline: u8,
    current: u8,
    policy: &OutcomePolicy,
) -> Result<OutcomeStatus, OutcomeError> {
    check(scale, baseline)?;
    check(scale, current)?;
    let definition = response_definition(scale, policy);
    Ok(OutcomeStatus { met: meets(definition.threshold, baseline, current), definition })
}

/// The remission definition for a scale, or `None` where the spec defines none (PCL-5:
/// clinical.md §7.3 gives response thresholds only).
pub fn remission_definition(scale: OutcomeScale, policy: &OutcomePolicy) -> Option<Definition> {
    Some(match scale {
        OutcomeScale::Phq9 => Definition {
            rule: "RESP-003",
            scale,
            threshold: Threshold::TotalBelow(PHQ9_REMISSION_BELOW),
            evidence: "[V]",
            source: "SUSTAIN-3 (PMC10439056); NCQA DRR-E; CMS159",
        },
        OutcomeScale::Gad7 => Definition {
            rule: "RESP-007",
            scale,
            threshold: Threshold::TotalBelow(policy.gad7_remission_below),
            evidence: "[U]",
            source: "HULL-2023 (cut-off unverified)",
        },
        OutcomeScale::Madrs => Definition {
            rule: "RESP-002",
            scale,
            threshold: Threshold::TotalAtMost(policy.madrs_remission_at_most),
            evidence: "[V]",
            source: "KetECT (≤ 10); TRANSFORM/ASPIRE/SUSTAIN (≤ 12)",
        },
        OutcomeScale::QidsSr16 => Definition {
            rule: "RESP-004",
            scale,
            threshold: Threshold::TotalAtMost(policy.qids_remission_at_most),
            evidence: "[U]",
            source: "convention (STAR*D)",
        },
        OutcomeScale::Pcl5 => return None,
    })
}

/// Remission at a total (RESP-002, RESP-003, RESP-004, RESP-007). `Ok(None)` when the
/// scale has no remission definition.
pub fn remission(
    scale: OutcomeScale,
    current: u8,
    policy: &OutcomePolicy,
) -> Result<Option<OutcomeStatus>, OutcomeError> {
    check(scale, current)?;
    Ok(remission_definition(scale, policy)
        .map(|definition| OutcomeStatus { met: meets(definition.threshold, 0, current), definition }))
}

/// Sustained remission (RESP-005 \[V\]): the most recent two visits, in time order, are
/// both in remission. `totals` is every visit's total, oldest first.
pub fn sustained_remission(
    scale: OutcomeScale,
    totals: &[u8],
    policy: &OutcomePolicy,
) -> Result<Option<OutcomeStatus>, OutcomeError> {
    for &t in totals {
        check(scale, t)?;
    }
    let Some(def) = remission_definition(scale, policy) else {
        return Ok(None);
    };
    let met = totals.len() >= SUSTAINED_REMISSION_VISITS
        && totals[totals.len() - SUSTAINED_REMISSION_VISITS..].iter().all(|&t| meets(def.threshold, 0, t));
    Ok(Some(OutcomeStatus {
        met,
        definition: Definition { rule: "RESP-005", source: "ASPIRE post hoc (BMC Psychiatry 2023)", ..def },
    }))
}

/// Minimal clinically important improvement for a scale, if the spec gives one:
/// PHQ-9 5 (Löwe 2004), GAD-7 4 (Toussaint 2020), PCL-5 10 (NCPTSD; RESP-006).
pub fn mcid_definition(scale: OutcomeScale, policy: &OutcomePolicy) -> Option<Definition> {
    let (n, rule, evidence, source) = match scale {
        OutcomeScale::Phq9 => (5, "instruments.md §2.4", "[V]", "Löwe B et al., Med Care 2004"),
        OutcomeScale::Gad7 => (4, "instruments.md §3.4", "[V]", "Toussaint A et al., J Affect Disord 2020"),
        OutcomeScale::Pcl5 => (10, "RESP-006", "[V]", "NCPTSD (clinically meaningful improvement)"),
        OutcomeScale::Madrs => (policy.madrs_mcid?, "instruments.md §8", "[P]", "clinic policy"),
        OutcomeScale::QidsSr16 => return None,
    };
    Some(Definition { rule, scale, threshold: Threshold::DropAtLeast(n), evidence, source })
}

/// Reliable improvement, where the spec gives one: PCL-5 5 (RESP-006), GAD-7 RCI 6
/// (Bischoff 2020), PHQ-9 6 (IAPT reliable improvement).
pub fn reliable_change_definition(scale: OutcomeScale) -> Option<Definition> {
    let (n, rule, evidence, source) = match scale {
        OutcomeScale::Pcl5 => (5, "RESP-006", "[V]", "NCPTSD (reliable change)"),
        OutcomeScale::Gad7 => (6, "instruments.md §3.4", "[V2]", "Bischoff T et al. 2020 (RCI)"),
        OutcomeScale::Phq9 => (6, "instruments.md §2.4", "[V2]", "NHS Talking Therapies (IAPT) manual"),
        OutcomeScale::Madrs | OutcomeScale::QidsSr16 => return None,
    };
    Some(Definition { rule, scale, threshold: Threshold::DropAtLeast(n), evidence, source })
}

/// Whether the improvement from baseline reaches the minimal important change.
/// `Ok(None)` when the scale has no MCID in the spec or the policy.
pub fn minimal_important_change(
    scale: OutcomeScale,
    baseline: u8,
    current: u8,
    policy: &OutcomePolicy,
) -> Result<Option<OutcomeStatus>, OutcomeError> {
    check(scale, baseline)?;
    check(scale, current)?;
    Ok(mcid_definition(scale, policy)
        .map(|definition| OutcomeStatus { met: meets(definition.threshold, baseline, current), definition }))
}

/// Whether the improvement from baseline is a reliable change (see
/// [`reliable_change_definition`]).
pub fn reliable_change(scale: OutcomeScale, baseline: u8, current: u8) -> Result<Option<OutcomeStatus>, OutcomeError> {
    check(scale, baseline)?;
    check(scale, current)?;
    Ok(reliable_change_definition(scale)
        .map(|definition| OutcomeStatus { met: meets(definition.threshold, baseline, current), definition }))
}

/// One scored assessment in a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedTotal {
    pub at: Timestamp,
    pub total: u8,
}

/// A clinical event that counts as relapse on its own (REL-003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelapseEventKind {
    PsychiatricHospitalization,
    SuicideAttempt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelapseEvent {
    pub at: Timestamp,
    pub kind: RelapseEventKind,
}

/// What triggered a relapse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RelapseTrigger {
    /// Two consecutive assessments, far enough apart, both lost response or reached
    /// moderate severity. `first` is the earlier of the two.
    ConfirmedScores {
        first: Timestamp,
    },
    Event {
        event: RelapseEventKind,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RelapseStatus {
    /// No response yet, so there is nothing to relapse from.
    NoPriorResponse,
    NoRelapse,
    /// The latest assessment meets the relapse criterion but is not yet confirmed by a
    /// second one ≥ `confirm_min_days_apart` later: a prompt to re-assess.
    Unconfirmed {
        since: Timestamp,
    },
    Relapse {
        at: Timestamp,
        trigger: RelapseTrigger,
    },
}

/// The definition used by [`relapse`], for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelapseDefinition {
    pub rule: &'static str,
    pub evidence: &'static str,
    /// The response definition whose loss counts as relapse.
    pub response: Definition,
    /// "Again meets moderate severity", if the scale has a threshold.
    pub moderate_at_least: Option<u8>,
    pub confirm_min_days_apart: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelapseAssessment {
    pub status: RelapseStatus,
    /// When response was first reached, if it was.
    pub response_at: Option<Timestamp>,
    pub definition: RelapseDefinition,
}

/// REL-003 \[U\] relapse flag: after a response, relapse is loss of response or again
/// meeting moderate severity, confirmed on 2 consecutive assessments ≥ 5 days apart, or
/// any psychiatric hospitalization or suicide attempt.
///
/// `later` holds every post-baseline assessment in strictly increasing time order.
/// "Loss of response" is read as "no longer meets the response definition" (for a
/// percent definition: a reduction below 50%), so one total cannot be both a response
/// and a relapse.
pub fn relapse(
    scale: OutcomeScale,
    baseline: u8,
    later: &[DatedTotal],
    events: &[RelapseEvent],
    policy: &OutcomePolicy,
) -> Result<RelapseAssessment, OutcomeError> {
    check(scale, baseline)?;
    for pair in later.windows(2) {
        if pair[1].at <= pair[0].at {
            return Err(OutcomeError::AssessmentsOutOfOrder);
        }
    }
    for a in later {
        check(scale, a.total)?;
    }
    let response_def = response_definition(scale, policy);
    let moderate = policy.relapse.moderate_at_least(scale);
    let definition = RelapseDefinition {
        rule: "REL-003",
        evidence: "[U]",
        response: response_def.clone(),
        moderate_at_least: moderate,
        confirm_min_days_apart: policy.relapse.confirm_min_days_apart,
    };
    let Some(k) = later.iter().position(|a| meets(response_def.threshold, baseline, a.total)) else {
        return Ok(RelapseAssessment { status: RelapseStatus::NoPriorResponse, response_at: None, definition });
    };
    let response_at = later[k].at;
    let relapsing = |t: u8| !meets(response_def.threshold, baseline, t) || moderate.is_some_and(|m| t >= m);
    let min_gap = SignedDuration::from_hours(24 * i64::from(policy.relapse.confirm_min_days_apart));
    let after = &later[k + 1..];
    let by_scores = after.windows(2).find_map(|w| {
        (relapsing(w[0].total) && relapsing(w[1].total) && w[1].at.duration_since(w[0].at) >= min_gap)
            .then_some((w[1].at, RelapseTrigger::ConfirmedScores { first: w[0].at }))
    });
    let by_event = events
        .iter()
        .filter(|e| e.at >= response_at)
        .min_by_key(|e| e.at)
        .map(|e| (e.at, RelapseTrigger::Event { event: e.kind }));
    let first = match (by_scores, by_event) {
        (Some(s), Some(e)) => Some(if e.0 < s.0 { e } else { s }),
        (s, e) => s.or(e),
    };
    let status = match first {
        Some((at, trigger)) => RelapseStatus::Relapse { at, trigger },
        None => match after.last() {
            Some(last) if relapsing(last.total) => {
                // The start of the current run of relapsing assessments.
                let since = after.iter().rev().take_while(|a| relapsing(a.total)).last().map_or(last.at, |a| a.at);
                RelapseStatus::Unconfirmed { since }
            }
            _ => RelapseStatus::NoRelapse,
        },
    };
    Ok(RelapseAssessment { status, response_at: Some(response_at), definition })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> OutcomePolicy {
        OutcomePolicy::default()
    }

    #[test]
    fn change_and_percent() {
        let c = change(OutcomeScale::Phq9, 20, 9).unwrap();
        assert_eq!(c.points, -11);
        assert_eq!(c.percent, Some(-55.0));
        let c = change(OutcomeScale::Phq9, 0, 3).unwrap();
        assert_eq!(c.percent, None);
        assert!(change(OutcomeScale::Phq9, 28, 3).is_err());
        assert!(change(OutcomeScale::Gad7, 10, 22).is_err());
        assert!(change(OutcomeScale::Pcl5, 80, 0).is_ok());
    }

    #[test]
    fn response_at_exactly_50_percent_and_just_short() {
        let r = |b, c| response(OutcomeScale::Phq9, b, c, &p()).unwrap();
        assert!(r(20, 10).met, "exactly 50%");
        assert!(!r(20, 11).met, "45%");
        assert!(r(21, 10).met, "52%");
        assert!(!r(21, 11).met, "47.6%");
        assert!(!r(0, 0).met, "no reduction possible from 0");
        assert!(!r(10, 12).met);
        assert_eq!(r(20, 10).definition.rule, "RESP-001");
        assert_eq!(r(20, 10).definition.threshold, Threshold::ReductionPercentAtLeast(50));
        let g = response(OutcomeScale::Gad7, 14, 7, &p()).unwrap();
        assert!(g.met);
        assert_eq!(g.definition.rule, "RESP-007");
        let m = response(OutcomeScale::Madrs, 35, 18, &p()).unwrap();
        assert!(!m.met, "17/35 = 48.6%");
    }

    #[test]
    fn pcl5_response_is_a_point_drop() {
        let r = |b, c| response(OutcomeScale::Pcl5, b, c, &p()).unwrap();
        assert!(r(50, 40).met);
        assert!(!r(50, 41).met);
        assert_eq!(r(50, 40).definition.rule, "RESP-006");
        let lenient = OutcomePolicy { pcl5_response_drop: 5, ..p() };
        assert!(response(OutcomeScale::Pcl5, 50, 45, &lenient).unwrap().met);
    }

    #[test]
    fn remission_boundaries_per_scale() {
        let rem = |s, t, pol: &OutcomePolicy| remission(s, t, pol).unwrap().unwrap();
        // RESP-003: PHQ-9 < 5.
        assert!(rem(OutcomeScale::Phq9, 4, &p()).met);
        assert!(!rem(OutcomeScale::Phq9, 5, &p()).met);
        assert_eq!(rem(OutcomeScale::Phq9, 4, &p()).definition.rule, "RESP-003");
        // RESP-007: GAD-7 < 5, [U].
        assert!(rem(OutcomeScale::Gad7, 4, &p()).met);
        assert!(!rem(OutcomeScale::Gad7, 5, &p()).met);
        assert_eq!(rem(OutcomeScale::Gad7, 4, &p()).definition.evidence, "[U]");
        // RESP-002: MADRS ≤ 10 by default, ≤ 12 configurable.
        assert!(rem(OutcomeScale::Madrs, 10, &p()).met);
        assert!(!rem(OutcomeScale::Madrs, 11, &p()).met);
        let twelve = OutcomePolicy { madrs_remission_at_most: 12, ..p() };
        assert!(rem(OutcomeScale::Madrs, 12, &twelve).met);
        assert!(!rem(OutcomeScale::Madrs, 13, &twelve).met);
        assert_eq!(rem(OutcomeScale::Madrs, 12, &twelve).definition.threshold, Threshold::TotalAtMost(12));
        // RESP-004: QIDS ≤ 5.
        assert!(rem(OutcomeScale::QidsSr16, 5, &p()).met);
        assert!(!rem(OutcomeScale::QidsSr16, 6, &p()).met);
        // PCL-5 has none.
        assert_eq!(remission(OutcomeScale::Pcl5, 0, &p()).unwrap(), None);
        assert!(remission(OutcomeScale::Phq9, 30, &p()).is_err());
    }

    #[test]
    fn sustained_remission_needs_the_last_two_visits() {
        let s = |t: &[u8]| sustained_remission(OutcomeScale::Phq9, t, &p()).unwrap().unwrap();
        assert!(s(&[12, 4, 3]).met);
        assert!(!s(&[4, 3, 5]).met);
        assert!(!s(&[4]).met);
        assert_eq!(s(&[4, 4]).definition.rule, "RESP-005");
    }

    #[test]
    fn mcid_and_reliable_change_boundaries() {
        let m = |s, b, c| minimal_important_change(s, b, c, &p()).unwrap().unwrap().met;
        assert!(m(OutcomeScale::Phq9, 15, 10));
        assert!(!m(OutcomeScale::Phq9, 15, 11));
        assert!(m(OutcomeScale::Gad7, 12, 8));
        assert!(!m(OutcomeScale::Gad7, 12, 9));
        assert!(m(OutcomeScale::Pcl5, 40, 30));
        assert!(!m(OutcomeScale::Pcl5, 40, 31));
        assert_eq!(minimal_important_change(OutcomeScale::Madrs, 30, 20, &p()).unwrap(), None);
        let pol = OutcomePolicy { madrs_mcid: Some(4), ..p() };
        assert!(minimal_important_change(OutcomeScale::Madrs, 30, 26, &pol).unwrap().unwrap().met);
        let r = |s, b, c| reliable_change(s, b, c).unwrap().unwrap().met;
        assert!(r(OutcomeScale::Pcl5, 40, 35));
        assert!(!r(OutcomeScale::Pcl5, 40, 36));
        assert!(r(OutcomeScale::Gad7, 12, 6));
        assert!(!r(OutcomeScale::Gad7, 12, 7));
    }

    fn day(n: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + n * 86_400).unwrap()
    }

    fn series(v: &[(i64, u8)]) -> Vec<DatedTotal> {
        v.iter().map(|&(d, total)| DatedTotal { at: day(d), total }).collect()
    }

    #[test]
    fn relapse_needs_prior_response() {
        let r = relapse(OutcomeScale::Phq9, 20, &series(&[(7, 15), (14, 16), (21, 18)]), &[], &p()).unwrap();
        assert_eq!(r.status, RelapseStatus::NoPriorResponse);
        assert_eq!(r.response_at, None);
    }

    #[test]
    fn relapse_confirmed_by_two_assessments_at_least_5_days_apart() {
        // Baseline 20; response at 10 (day 7); then 11 (lost response) on days 14, 19.
        let r = relapse(OutcomeScale::Phq9, 20, &series(&[(7, 10), (14, 11), (19, 11)]), &[], &p()).unwrap();
        assert_eq!(r.response_at, Some(day(7)));
        assert_eq!(
            r.status,
            RelapseStatus::Relapse { at: day(19), trigger: RelapseTrigger::ConfirmedScores { first: day(14) } }
        );
        assert_eq!(r.definition.rule, "REL-003");
        // Only 4 days apart: not confirmed yet.
        let r = relapse(OutcomeScale::Phq9, 20, &series(&[(7, 10), (14, 11), (18, 11)]), &[], &p()).unwrap();
        assert_eq!(r.status, RelapseStatus::Unconfirmed { since: day(14) });
        // Baseline 18: exactly 9 (still a 50% reduction, below moderate) is not relapse.
        let r = relapse(OutcomeScale::Phq9, 18, &series(&[(7, 8), (14, 9), (21, 9)]), &[], &p()).unwrap();
        assert_eq!(r.status, RelapseStatus::NoRelapse);
        // Baseline 16: 9 is loss of response (< 50% reduction) though below moderate.
        let r = relapse(OutcomeScale::Phq9, 16, &series(&[(7, 8), (14, 9), (21, 9)]), &[], &p()).unwrap();
        assert_eq!(
            r.status,
            RelapseStatus::Relapse { at: day(21), trigger: RelapseTrigger::ConfirmedScores { first: day(14) } }
        );
    }

    #[test]
    fn relapse_by_moderate_severity_even_while_still_a_responder() {
        // Baseline 27: 13 is a ≥ 50% reduction, but PHQ-9 ≥ 10 is moderate again.
        let s = series(&[(7, 9), (14, 13), (21, 13)]);
        let r = relapse(OutcomeScale::Phq9, 27, &s, &[], &p()).unwrap();
        assert!(matches!(r.status, RelapseStatus::Relapse { .. }));
        let no_moderate = OutcomePolicy {
            relapse: RelapsePolicy { phq9_moderate_at_least: None, ..RelapsePolicy::default() },
            ..p()
        };
        let r = relapse(OutcomeScale::Phq9, 27, &s, &[], &no_moderate).unwrap();
        assert_eq!(r.status, RelapseStatus::NoRelapse);
    }

    #[test]
    fn a_non_relapsing_assessment_breaks_the_run() {
        let s = series(&[(7, 10), (14, 12), (20, 9), (26, 12)]);
        let r = relapse(OutcomeScale::Phq9, 20, &s, &[], &p()).unwrap();
        assert_eq!(r.status, RelapseStatus::Unconfirmed { since: day(26) });
    }

    #[test]
    fn relapse_by_event_after_response() {
        let s = series(&[(7, 10), (14, 9)]);
        let ev = [RelapseEvent { at: day(10), kind: RelapseEventKind::SuicideAttempt }];
        let r = relapse(OutcomeScale::Phq9, 20, &s, &ev, &p()).unwrap();
        assert_eq!(
            r.status,
            RelapseStatus::Relapse {
                at: day(10),
                trigger: RelapseTrigger::Event { event: RelapseEventKind::SuicideAttempt }
            }
        );
        // An event before the response is not a relapse (there was nothing to lose).
        let ev = [RelapseEvent { at: day(3), kind: RelapseEventKind::PsychiatricHospitalization }];
        let r = relapse(OutcomeScale::Phq9, 20, &s, &ev, &p()).unwrap();
        assert_eq!(r.status, RelapseStatus::NoRelapse);
    }

    #[test]
    fn relapse_rejects_unordered_series() {
        let s = series(&[(14, 10), (7, 9)]);
        assert_eq!(relapse(OutcomeScale::Phq9, 20, &s, &[], &p()), Err(OutcomeError::AssessmentsOutOfOrder));
    }

    #[test]
    fn definitions_describe_themselves() {
        let d = remission_definition(OutcomeScale::Phq9, &p()).unwrap();
        assert_eq!(d.describe(), "RESP-003: total < 5 [V]");
    }
}
