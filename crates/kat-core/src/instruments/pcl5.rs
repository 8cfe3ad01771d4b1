//! PCL-5 scoring (instruments.md §4.3, §13.4): total, DSM-5 cluster sums, the
//! provisional-diagnosis rule and the probable-PTSD cut-off.

use super::catalog::Instrument;
use super::response::{Completeness, Flag, Response, ScoringPolicy};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The DSM-5 symptom clusters and their PCL-5 items (instruments.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pcl5Cluster {
    /// Intrusion, items 1–5 (0–20).
    B,
    /// Avoidance, items 6–7 (0–8).
    C,
    /// Negative alterations in cognitions and mood, items 8–14 (0–28).
    D,
    /// Alterations in arousal and reactivity, items 15–20 (0–24).
    E,
}

impl Pcl5Cluster {
    pub const ALL: [Pcl5Cluster; 4] = [Pcl5Cluster::B, Pcl5Cluster::C, Pcl5Cluster::D, Pcl5Cluster::E];

    /// 0-based item indices of the cluster.
    pub fn items(self) -> std::ops::Range<usize> {
        match self {
            Pcl5Cluster::B => 0..5,
            Pcl5Cluster::C => 5..7,
            Pcl5Cluster::D => 7..14,
            Pcl5Cluster::E => 14..20,
        }
    }

    /// Endorsed items this cluster needs for a provisional diagnosis: ≥ 1 B, ≥ 1 C,
    /// ≥ 2 D, ≥ 2 E (DSM-5 rule, instruments.md §4.3).
    pub fn required_endorsed(self) -> usize {
        match self {
            Pcl5Cluster::B | Pcl5Cluster::C => 1,
            Pcl5Cluster::D | Pcl5Cluster::E => 2,
        }
    }
}

/// An item rated at least this ("Moderately") counts as an endorsed symptom (§4.3).
pub const PCL5_ENDORSED_AT: u8 = 2;

/// The probable-PTSD cut-off: a total of 31–33 is "reasonable" (NCPTSD; Forkus 2022).
/// The lower end screens, the upper end limits false positives; the clinic chooses,
/// default 33 (instruments.md §4.3). Values outside 31–33 are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Pcl5Cutoff(u8);

/// A cut-off outside the range the spec supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("PCL-5 cut-off must be between 31 and 33, got {0}")]
pub struct Pcl5CutoffError(pub u8);

impl Pcl5Cutoff {
    pub const MIN: u8 = 31;
    pub const MAX: u8 = 33;

    pub fn new(value: u8) -> Result<Self, Pcl5CutoffError> {
        if (Self::MIN..=Self::MAX).contains(&value) { Ok(Self(value)) } else { Err(Pcl5CutoffError(value)) }
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl Default for Pcl5Cutoff {
    fn default() -> Self {
        Self(33)
    }
}

impl TryFrom<u8> for Pcl5Cutoff {
    type Error = Pcl5CutoffError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Pcl5Cutoff> for u8 {
    fn from(c: Pcl5Cutoff) -> u8 {
        c.0
    }
}

impl fmt::Display for Pcl5Cutoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Total at or above the cut-off, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pcl5CutoffStatus {
    ProbablePtsd,
    BelowCutoff,
}

impl Pcl5CutoffStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Pcl5CutoffStatus::ProbablePtsd => "probable_ptsd",
            Pcl5CutoffStatus::BelowCutoff => "below_cutoff",
        }
    }
}

/// One cluster's sum and endorsed-item count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClusterScore {
    pub cluster: Pcl5Cluster,
    pub sum: u8,
    pub endorsed: u8,
    /// Whether the cluster meets its share of the DSM-5 rule.
    pub criterion_met: bool,
}

/// The scored PCL-5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pcl5Score {
    pub completeness: Completeness,
    /// Sum of the 20 items (0–80); `None` when any item is missing.
    pub total: Option<u8>,
    /// Per cluster B, C, D, E; a cluster with a missing item has no score.
    pub clusters: [Option<ClusterScore>; 4],
    /// DSM-5 symptom-criteria rule. Provisional only: Criteria A, F, G and H are not
    /// covered by the PCL-5 (§4.3). `None` when incomplete.
    pub provisional_diagnosis: Option<bool>,
    /// The cut-off used, so the UI can show it next to the status.
    pub cutoff: Pcl5Cutoff,
    pub cutoff_status: Option<Pcl5CutoffStatus>,
    pub flags: Vec<Flag>,
}

/// Scores a PCL-5 response. Reached only through [`Response::score`], which dispatches by instrument.
pub(super) fn score(response: &Response, policy: &ScoringPolicy) -> Pcl5Score {
    assert_eq!(response.instrument(), Instrument::Pcl5);
    let completeness = response.completeness();
    let total = response.total();
    let clusters = Pcl5Cluster::ALL.map(|cluster| {
        let values: Option<Vec<u8>> = cluster.items().map(|i| response.answer(i)).collect();
        values.map(|values| {
            let sum = values.iter().sum();
            let endorsed = values.iter().filter(|&&v| v >= PCL5_ENDORSED_AT).count();
            ClusterScore {
                cluster,
                sum,
                endorsed: endorsed as u8,
                criterion_met: endorsed >= cluster.required_endorsed(),
            }
        })
    });
    let provisional_diagnosis = total.map(|_| clusters.iter().all(|c| c.is_some_and(|c| c.criterion_met)));
    let cutoff = policy.pcl5_cutoff;
    let cutoff_status =
        total.map(|t| if t >= cutoff.value() { Pcl5CutoffStatus::ProbablePtsd } else { Pcl5CutoffStatus::BelowCutoff });
    let mut flags = Vec::new();
    // instruments.md §4.4: item 16 (risk-taking / self-harm) as a local review prompt;
    // the PCL-5 has no suicide item, so this never replaces a C-SSRS screen.
    if let (Some(threshold), Some(v)) = (policy.pcl5_item16_review_at, response.answer(15))
        && v >= threshold
    {
        flags.push(Flag::RiskBehaviourReview);
    }
    Pcl5Score { completeness, total, clusters, provisional_diagnosis, cutoff, cutoff_status, flags }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::response::tests::resp;

    fn pcl(values: [u8; 20]) -> Response {
        resp(Instrument::Pcl5, &values.map(Some))
    }

    #[test]
    fn cluster_sums_cover_the_right_items() {
        // Distinct values per cluster so a mis-assigned item changes a sum.
        let v = [1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4];
        let s = score(&pcl(v), &ScoringPolicy::default());
        let sums: Vec<u8> = s.clusters.iter().map(|c| c.unwrap().sum).collect();
        assert_eq!(sums, vec![5, 4, 21, 24]);
        assert_eq!(s.total, Some(54));
    }

    #[test]
    fn cut_off_boundaries_default_33() {
        let policy = ScoringPolicy::default();
        assert_eq!(policy.pcl5_cutoff.value(), 33);
        for (total, status) in [(32, "below_cutoff"), (33, "probable_ptsd")] {
            let mut v = [0u8; 20];
            let mut left = total;
            for x in v.iter_mut() {
                *x = left.min(4);
                left -= *x;
            }
            let s = score(&pcl(v), &policy);
            assert_eq!(s.total, Some(total));
            assert_eq!(s.cutoff_status.map(|c| c.as_str()), Some(status), "{total}");
        }
    }

    #[test]
    fn cut_off_is_configurable_within_31_to_33() {
        assert!(Pcl5Cutoff::new(30).is_err());
        assert!(Pcl5Cutoff::new(34).is_err());
        let policy = ScoringPolicy { pcl5_cutoff: Pcl5Cutoff::new(31).unwrap(), ..Default::default() };
        let mut v = [0u8; 20];
        v[..7].copy_from_slice(&[4, 4, 4, 4, 4, 4, 4]);
        v[7] = 2; // total 30
        assert_eq!(score(&pcl(v), &policy).cutoff_status, Some(Pcl5CutoffStatus::BelowCutoff));
        v[7] = 3; // total 31
        let s = score(&pcl(v), &policy);
        assert_eq!(s.cutoff_status, Some(Pcl5CutoffStatus::ProbablePtsd));
        assert_eq!(s.cutoff.value(), 31);
        // Same total under the default cut-off (33) is below it.
        assert_eq!(score(&pcl(v), &ScoringPolicy::default()).cutoff_status, Some(Pcl5CutoffStatus::BelowCutoff));
        assert_eq!(Pcl5Cutoff::try_from(40u8), Err(Pcl5CutoffError(40)));
    }

    #[test]
    fn diagnosis_rule_minimal_pattern_and_each_cluster_short_by_one() {
        // Exactly 1 B, 1 C, 2 D, 2 E items at "Moderately" (2): rule met, total 12.
        let mut v = [0u8; 20];
        for i in [0, 5, 7, 8, 14, 15] {
            v[i] = 2;
        }
        let s = score(&pcl(v), &ScoringPolicy::default());
        assert_eq!(s.provisional_diagnosis, Some(true));
        // Cluster rule met but total (12) far below the cut-off.
        assert_eq!(s.cutoff_status, Some(Pcl5CutoffStatus::BelowCutoff));

        // Dropping any one of those items to 1 (below "Moderately") fails the rule.
        for i in [0, 5, 7, 8, 14, 15] {
            let mut w = v;
            w[i] = 1;
            assert_eq!(score(&pcl(w), &ScoringPolicy::default()).provisional_diagnosis, Some(false), "item {}", i + 1);
        }
    }

    #[test]
    fn total_above_cut_off_but_cluster_rule_fails() {
        // All items at 1 except B and D at 4: no C item endorsed → rule fails.
        let mut v = [1u8; 20];
        for x in v.iter_mut().take(5) {
            *x = 4;
        }
        for x in v[7..14].iter_mut() {
            *x = 4;
        }
        let s = score(&pcl(v), &ScoringPolicy::default());
        assert_eq!(s.total, Some(20 + 2 + 28 + 6));
        assert_eq!(s.cutoff_status, Some(Pcl5CutoffStatus::ProbablePtsd));
        assert_eq!(s.provisional_diagnosis, Some(false));
        assert!(!s.clusters[1].unwrap().criterion_met);
        assert!(s.clusters[0].unwrap().criterion_met);
    }

    #[test]
    fn missing_item_is_incomplete_with_no_total_or_diagnosis() {
        let mut v = [Some(4u8); 20];
        v[19] = None;
        let s = score(&resp(Instrument::Pcl5, &v), &ScoringPolicy::default());
        assert_eq!(s.total, None);
        assert_eq!(s.cutoff_status, None);
        assert_eq!(s.provisional_diagnosis, None);
        assert_eq!(s.completeness, Completeness::Incomplete { missing: vec!["20"] });
        // Complete clusters still report; the one with the gap does not.
        assert!(s.clusters[0].is_some());
        assert!(s.clusters[3].is_none());
    }

    #[test]
    fn item16_review_prompt_is_configurable() {
        let mut v = [0u8; 20];
        v[15] = 2;
        assert!(score(&pcl(v), &ScoringPolicy::default()).flags.is_empty());
        v[15] = 3;
        assert_eq!(score(&pcl(v), &ScoringPolicy::default()).flags, vec![Flag::RiskBehaviourReview]);
        let off = ScoringPolicy { pcl5_item16_review_at: None, ..Default::default() };
        assert!(score(&pcl(v), &off).flags.is_empty());
    }
}
