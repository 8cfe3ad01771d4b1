//! CADSS-23 and CADSS-6 scoring (instruments.md §6; clinical.md MON-SPV-006,
//! MON-KET-005). Sums only: neither form has validated severity bands.

use super::catalog::Instrument;
use super::response::{Completeness, Response};
use serde::Serialize;

/// The scored CADSS (either form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CadssScore {
    pub completeness: Completeness,
    /// CADSS-23: 0–92; CADSS-6: 0–24. `None` when any item is missing.
    pub total: Option<u8>,
}

/// Scores a CADSS-23 or CADSS-6 response. Reached only through [`Response::score`], which dispatches by instrument.
pub(super) fn score(response: &Response) -> CadssScore {
    assert!(matches!(response.instrument(), Instrument::Cadss23 | Instrument::Cadss6));
    CadssScore { completeness: response.completeness(), total: response.total() }
}

/// The CADSS-23 items (1-based) that make up the CADSS-6 (Rodrigues 2021; §6.2).
pub const CADSS6_ITEMS_OF_CADSS23: [usize; 6] = [1, 2, 6, 7, 15, 22];

/// Derives the CADSS-6 from a CADSS-23 response, so a clinic that rates the full
/// scale can chart the short form too. Missing items stay missing. `None` when the
/// response is not a CADSS-23.
pub fn cadss6_from_cadss23(response: &Response) -> Option<Response> {
    if response.instrument() != Instrument::Cadss23 {
        return None;
    }
    let values: Vec<Option<u8>> = CADSS6_ITEMS_OF_CADSS23.iter().map(|&n| response.answer(n - 1)).collect();
    // Both forms share the 0–4 range, so the values are valid by construction.
    Response::from_values(Instrument::Cadss6, &values).ok()
}

/// Threshold of the Spravato trials' descriptive dissociation count: CADSS total > 4
/// and any increase from pre-dose (instruments.md §6.1; clinical.md MON-SPV-006).
pub const CADSS23_DISSOCIATION_ABOVE: u8 = 4;

/// Whether a CADSS-23 rating counts as "dissociative or perceptual changes" by the
/// esketamine-trial definition (total > 4 and change from pre-dose > 0).
///
/// This is a descriptive flag, not a diagnosis; it is defined for the 23-item total
/// only. The CADSS-6 has no cut-off (its authors call it unvalidated), so there is no
/// CADSS-6 counterpart.
pub fn cadss_dissociation_present(current_total: u8, pre_dose_total: u8) -> bool {
    current_total > CADSS23_DISSOCIATION_ABOVE && current_total > pre_dose_total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::response::tests::resp;

    #[test]
    fn totals_and_incomplete() {
        let s = score(&resp(Instrument::Cadss6, &[Some(4); 6]));
        assert_eq!(s.total, Some(24));
        let s = score(&resp(Instrument::Cadss23, &[Some(4); 23]));
        assert_eq!(s.total, Some(92));
        let mut v = [Some(1); 6];
        v[2] = None;
        let s = score(&resp(Instrument::Cadss6, &v));
        assert_eq!(s.total, None);
        assert_eq!(s.completeness, Completeness::Incomplete { missing: vec!["6"] });
    }

    #[test]
    fn cadss6_takes_items_1_2_6_7_15_22() {
        let values: Vec<Option<u8>> =
            (1..=23u8).map(|n| Some(u8::from(CADSS6_ITEMS_OF_CADSS23.contains(&usize::from(n))))).collect();
        let full = resp(Instrument::Cadss23, &values);
        let short = cadss6_from_cadss23(&full).unwrap();
        assert!(cadss6_from_cadss23(&short).is_none());
        assert_eq!(short.total(), Some(6));
        assert_eq!(full.total(), Some(6));
    }

    #[test]
    fn dissociation_flag_boundaries() {
        assert!(!cadss_dissociation_present(4, 0), "> 4 needed");
        assert!(cadss_dissociation_present(5, 0));
        assert!(cadss_dissociation_present(5, 4));
        assert!(!cadss_dissociation_present(5, 5), "change must be > 0");
        assert!(!cadss_dissociation_present(6, 9));
    }
}
