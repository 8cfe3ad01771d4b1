//! PHQ-9 and GAD-7 scoring (instruments.md §2, §3).
//!
//! Both are sums of 0–3 items with published bands. The PHQ-9 also carries the safety
//! item (item 9), which is evaluated on its own whether or not the rest is complete.

use super::catalog::Instrument;
use super::response::{Completeness, Flag, Response};
use serde::Serialize;

/// PHQ-9 severity band (instruments.md §2.3; Kroenke 2001; LOINC LL382-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phq9Severity {
    /// 0–4 ("none / minimal"; treated as one band, §2.3).
    Minimal,
    /// 5–9.
    Mild,
    /// 10–14.
    Moderate,
    /// 15–19.
    ModeratelySevere,
    /// 20–27.
    Severe,
}

impl Phq9Severity {
    /// The band of a PHQ-9 total. Cut-points 5, 10, 15, 20 (Kroenke 2001).
    pub fn from_total(total: u8) -> Self {
        match total {
            0..=4 => Phq9Severity::Minimal,
            5..=9 => Phq9Severity::Mild,
            10..=14 => Phq9Severity::Moderate,
            15..=19 => Phq9Severity::ModeratelySevere,
            _ => Phq9Severity::Severe,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phq9Severity::Minimal => "minimal",
            Phq9Severity::Mild => "mild",
            Phq9Severity::Moderate => "moderate",
            Phq9Severity::ModeratelySevere => "moderately_severe",
            Phq9Severity::Severe => "severe",
        }
    }

    /// LOINC answer code from LL382-3, for `Observation.interpretation` text (the
    /// interpretation term 44262-4 itself is deprecated, §2.3).
    pub fn loinc_answer(self) -> &'static str {
        match self {
            Phq9Severity::Minimal => "LA6708-7",
            Phq9Severity::Mild => "LA6709-5",
            Phq9Severity::Moderate => "LA6710-3",
            Phq9Severity::ModeratelySevere => "LA6711-1",
            Phq9Severity::Severe => "LA6712-9",
        }
    }
}

/// PHQ-9 provisional diagnostic algorithm (instruments.md §2.3, Pfizer scoring card).
///
/// It covers symptom counts only: a diagnosis also needs functional impairment and the
/// clinical exclusion of bereavement, mania and medical or drug causes, so the UI must
/// present it as provisional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phq9Syndrome {
    /// ≥ 5 positive items, one of them item 1 or 2.
    MajorDepressiveSyndrome,
    /// 2–4 positive items, one of them item 1 or 2.
    OtherDepressiveSyndrome,
    /// Neither pattern.
    None,
}

/// The scored PHQ-9.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phq9Score {
    pub completeness: Completeness,
    /// Sum of items 1–9 (0–27); `None` when any item is missing (§2.3 recommendation).
    pub total: Option<u8>,
    pub severity: Option<Phq9Severity>,
    /// The safety item as answered; `None` means unanswered, never "0".
    pub item9: Option<u8>,
    pub provisional_syndrome: Option<Phq9Syndrome>,
    /// Item 10 (difficulty, unscored), if answered.
    pub difficulty: Option<u8>,
    pub flags: Vec<Flag>,
}

/// Scores a PHQ-9 response. Reached only through [`Response::score`], which dispatches by instrument.
pub(super) fn score_phq9(response: &Response) -> Phq9Score {
    assert_eq!(response.instrument(), Instrument::Phq9);
    let completeness = response.completeness();
    let total = response.total();
    let item9 = response.answer(8);
    let mut flags = Vec::new();
    match item9 {
        // instruments.md §2.5, SUI-001/SUI-003: any answer above "Not at all" raises an
        // immediate clinician-review flag, whatever the rest of the form says.
        Some(v) if v >= 1 => flags.push(Flag::SuicidalIdeation),
        Some(_) => {}
        // §2.3: "Never treat a missing item 9 as 0 for safety purposes."
        None => flags.push(Flag::SafetyItemMissing),
    }
    let provisional_syndrome = total.map(|_| {
        // Positive = ≥ 2 ("more than half the days"); item 9 counts if ≥ 1 (§2.3).
        let positive = |i: usize| {
            let v = response.answer(i).unwrap_or(0);
            if i == 8 { v >= 1 } else { v >= 2 }
        };
        let count = (0..9).filter(|&i| positive(i)).count();
        let cardinal = positive(0) || positive(1);
        match (cardinal, count) {
            (true, 5..) => Phq9Syndrome::MajorDepressiveSyndrome,
            (true, 2..=4) => Phq9Syndrome::OtherDepressiveSyndrome,
            _ => Phq9Syndrome::None,
        }
    });
    Phq9Score {
        completeness,
        total,
        severity: total.map(Phq9Severity::from_total),
        item9,
        provisional_syndrome,
        difficulty: response.answer(9),
        flags,
    }
}

/// GAD-7 severity band (instruments.md §3.3; Spitzer 2006).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gad7Severity {
    /// 0–4.
    Minimal,
    /// 5–9.
    Mild,
    /// 10–14.
    Moderate,
    /// 15–21.
    Severe,
}

impl Gad7Severity {
    /// The band of a GAD-7 total. Cut-points 5, 10, 15 (Spitzer 2006).
    pub fn from_total(total: u8) -> Self {
        match total {
            0..=4 => Gad7Severity::Minimal,
            5..=9 => Gad7Severity::Mild,
            10..=14 => Gad7Severity::Moderate,
            _ => Gad7Severity::Severe,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Gad7Severity::Minimal => "minimal",
            Gad7Severity::Mild => "mild",
            Gad7Severity::Moderate => "moderate",
            Gad7Severity::Severe => "severe",
        }
    }
}

/// The scored GAD-7. It has no built-in safety item (instruments.md §0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gad7Score {
    pub completeness: Completeness,
    /// Sum of items 1–7 (0–21); `None` when any item is missing.
    pub total: Option<u8>,
    pub severity: Option<Gad7Severity>,
    /// ≥ 10: recommended cut-point for further evaluation (§3.3); `None` if incomplete.
    pub screen_positive: Option<bool>,
    pub difficulty: Option<u8>,
}

/// GAD-7 screening cut-point (instruments.md §3.3: ≥ 10; clinical.md §7.1).
pub const GAD7_SCREEN_CUTOFF: u8 = 10;

/// Scores a GAD-7 response. Reached only through [`Response::score`], which dispatches by instrument.
pub(super) fn score_gad7(response: &Response) -> Gad7Score {
    assert_eq!(response.instrument(), Instrument::Gad7);
    let total = response.total();
    Gad7Score {
        completeness: response.completeness(),
        total,
        severity: total.map(Gad7Severity::from_total),
        screen_positive: total.map(|t| t >= GAD7_SCREEN_CUTOFF),
        difficulty: response.answer(7),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::response::tests::resp;

    /// A complete response of `n` items whose total is `total`, spread from item 1 on.
    fn with_total(n: usize, max: u8, total: u8) -> Vec<Option<u8>> {
        let mut left = total;
        (0..n)
            .map(|_| {
                let v = left.min(max);
                left -= v;
                Some(v)
            })
            .collect()
    }

    #[test]
    fn phq9_bands_on_both_sides_of_every_cut_point() {
        let cases = [
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "moderately_severe"),
            (19, "moderately_severe"),
            (20, "severe"),
            (27, "severe"),
        ];
        for (total, band) in cases {
            let s = score_phq9(&resp(Instrument::Phq9, &with_total(9, 3, total)));
            assert_eq!(s.total, Some(total));
            assert_eq!(s.severity.map(|b| b.as_str()), Some(band), "total {total}");
        }
    }

    #[test]
    fn gad7_bands_on_both_sides_of_every_cut_point() {
        let cases = [
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "severe"),
            (21, "severe"),
        ];
        for (total, band) in cases {
            let s = score_gad7(&resp(Instrument::Gad7, &with_total(7, 3, total)));
            assert_eq!(s.total, Some(total));
            assert_eq!(s.severity.map(|b| b.as_str()), Some(band), "total {total}");
            assert_eq!(s.screen_positive, Some(total >= 10));
        }
    }

    #[test]
    fn phq9_item9_positive_flags_suicidal_ideation_even_if_incomplete() {
        let mut v = vec![Some(0); 9];
        v[8] = Some(1);
        let s = score_phq9(&resp(Instrument::Phq9, &v));
        assert_eq!(s.flags, vec![Flag::SuicidalIdeation]);
        assert_eq!(s.total, Some(1));

        v[0] = None;
        let s = score_phq9(&resp(Instrument::Phq9, &v));
        assert_eq!(s.flags, vec![Flag::SuicidalIdeation]);
        assert_eq!(s.total, None);
        assert_eq!(s.severity, None);
        assert_eq!(s.completeness, Completeness::Incomplete { missing: vec!["1"] });
    }

    #[test]
    fn phq9_item9_zero_raises_no_flag() {
        let s = score_phq9(&resp(Instrument::Phq9, &[Some(3); 8].iter().copied().chain([Some(0)]).collect::<Vec<_>>()));
        assert!(s.flags.is_empty());
        assert_eq!(s.item9, Some(0));
        assert_eq!(s.total, Some(24));
    }

    #[test]
    fn phq9_missing_item9_is_never_zero() {
        let mut v = vec![Some(0); 9];
        v[8] = None;
        let s = score_phq9(&resp(Instrument::Phq9, &v));
        assert_eq!(s.item9, None);
        assert_eq!(s.total, None, "a missing safety item must not yield a total");
        assert_eq!(s.severity, None);
        assert_eq!(s.provisional_syndrome, None);
        assert_eq!(s.flags, vec![Flag::SafetyItemMissing]);
        assert_eq!(s.completeness, Completeness::Incomplete { missing: vec!["9"] });
    }

    #[test]
    fn missing_difficulty_item_does_not_make_phq9_incomplete() {
        let mut v = vec![Some(1); 10];
        v[9] = None;
        let s = score_phq9(&resp(Instrument::Phq9, &v));
        assert!(s.completeness.is_complete());
        assert_eq!(s.total, Some(9));
        assert_eq!(s.difficulty, None);
        v[9] = Some(3);
        let s = score_phq9(&resp(Instrument::Phq9, &v));
        assert_eq!(s.total, Some(9), "item 10 is not scored");
        assert_eq!(s.difficulty, Some(3));
    }

    #[test]
    fn gad7_missing_item_is_incomplete() {
        let mut v = vec![Some(3); 7];
        v[6] = None;
        let s = score_gad7(&resp(Instrument::Gad7, &v));
        assert_eq!(s.total, None);
        assert_eq!(s.severity, None);
        assert_eq!(s.screen_positive, None);
        assert_eq!(s.completeness, Completeness::Incomplete { missing: vec!["7"] });
    }

    #[test]
    fn phq9_provisional_syndromes() {
        // 5 positive items including item 1 → major.
        let v = [2, 0, 2, 2, 2, 2, 0, 0, 0].map(Some);
        assert_eq!(
            score_phq9(&resp(Instrument::Phq9, &v)).provisional_syndrome,
            Some(Phq9Syndrome::MajorDepressiveSyndrome)
        );
        // Same count but neither item 1 nor 2 positive → none.
        let v = [1, 1, 2, 2, 2, 2, 2, 0, 0].map(Some);
        assert_eq!(score_phq9(&resp(Instrument::Phq9, &v)).provisional_syndrome, Some(Phq9Syndrome::None));
        // Item 2 plus item 9 at 1 (counts when present at all) → other (2 positive).
        let v = [0, 3, 1, 1, 1, 1, 1, 1, 1].map(Some);
        assert_eq!(
            score_phq9(&resp(Instrument::Phq9, &v)).provisional_syndrome,
            Some(Phq9Syndrome::OtherDepressiveSyndrome)
        );
        // Only item 1 positive → none (needs at least 2).
        let v = [3, 1, 1, 1, 1, 1, 1, 1, 0].map(Some);
        assert_eq!(score_phq9(&resp(Instrument::Phq9, &v)).provisional_syndrome, Some(Phq9Syndrome::None));
        // 4 positive → other; 5th positive → major.
        let v = [2, 2, 2, 2, 1, 0, 0, 0, 0].map(Some);
        assert_eq!(
            score_phq9(&resp(Instrument::Phq9, &v)).provisional_syndrome,
            Some(Phq9Syndrome::OtherDepressiveSyndrome)
        );
        let v = [2, 2, 2, 2, 2, 0, 0, 0, 0].map(Some);
        assert_eq!(
            score_phq9(&resp(Instrument::Phq9, &v)).provisional_syndrome,
            Some(Phq9Syndrome::MajorDepressiveSyndrome)
        );
    }
}
