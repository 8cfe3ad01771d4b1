//! Routes of administration (clinical.md §2.1–§2.6).

use serde::{Deserialize, Serialize};

/// How the drug is given. The route decides which dose limits, fasting rule, monitoring
/// schedule and minimum observation time apply, so it is a closed set rather than text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Racemic ketamine by IV infusion through a pump (§2.1, DOSE-IV-*).
    IvInfusion,
    /// Racemic ketamine by intramuscular injection (§2.2, DOSE-IM-*).
    Intramuscular,
    /// Racemic ketamine by subcutaneous injection (§2.3, DOSE-SC-001).
    Subcutaneous,
    /// Esketamine nasal spray, SPRAVATO, the only on-label psychiatric product (§2.4, DOSE-IN-*).
    IntranasalEsketamine,
    /// Compounded racemic ketamine nasal spray (§2.5, DOSE-INR-001).
    IntranasalRacemic,
    /// Racemic ketamine held under the tongue or swallowed: lozenges, rapid-dissolve
    /// tablets, oral solution (§2.6, DOSE-PO-*).
    SublingualOral,
}

impl Route {
    pub const ALL: [Route; 6] = [
        Route::IvInfusion,
        Route::Intramuscular,
        Route::Subcutaneous,
        Route::IntranasalEsketamine,
        Route::IntranasalRacemic,
        Route::SublingualOral,
    ];

    /// Esketamine is the labelled product with REMS duties; every other route is
    /// off-label racemic ketamine (spec status note, IND-004).
    pub fn is_esketamine(self) -> bool {
        matches!(self, Route::IntranasalEsketamine)
    }

    /// Whether doses on this route are normally written per kilogram, which makes the
    /// weight and its measurement date part of the dose record (DOSE-GEN-002, DAY-008).
    /// Esketamine is given in fixed 28 mg devices (DOSE-IN-001). Oral and intranasal
    /// racemic doses may be fixed or weight-based (DOSE-PO-001), so the prescription
    /// decides; this answers for the route's usual form only.
    pub fn usually_weight_based(self) -> bool {
        matches!(self, Route::IvInfusion | Route::Intramuscular | Route::Subcutaneous)
    }

    pub fn label(self) -> &'static str {
        match self {
            Route::IvInfusion => "IV infusion (racemic ketamine)",
            Route::Intramuscular => "Intramuscular (racemic ketamine)",
            Route::Subcutaneous => "Subcutaneous (racemic ketamine)",
            Route::IntranasalEsketamine => "Intranasal esketamine (SPRAVATO)",
            Route::IntranasalRacemic => "Intranasal racemic ketamine (compounded)",
            Route::SublingualOral => "Sublingual / oral racemic ketamine",
        }
    }
}
