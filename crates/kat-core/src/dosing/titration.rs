//! Titration: the next session's dose from the previous dose and how it went
//! (DOSE-IV-010, DOSE-IN-002, DOSE-IN-006, DOSE-IN-008, DOSE-PO-002, DOSE-SC-001,
//! DOSE-GEN-001).
//!
//! The helper only suggests; the prescriber decides, and the suggestion still goes
//! through [`super::limits::check_dose`]. Where the spec gives no step size, the
//! suggestion is [`TitrationAction::ClinicianChoice`] rather than an invented number.

use super::limits::DosingPolicy;
use super::protocol::{DoseForm, Protocol};
use super::route::Route;
use super::rule::RuleId;
use super::units::{Mg, MgPerKg, exceeds};
use serde::{Deserialize, Serialize};

/// How the previous dose was tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerability {
    Tolerated,
    /// Excess sedation, a blood-pressure surge, severe distress, vomiting, or any other
    /// effect the prescriber judges dose-limiting.
    PoorlyTolerated,
}

/// How well the previous dose worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Efficacy {
    Adequate,
    Inadequate,
}

/// A dose in the form the protocol writes it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseAmount {
    Mg(Mg),
    PerKg(MgPerKg),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TitrationAction {
    Increase,
    Keep,
    Decrease,
    /// The spec gives no step for this protocol, or the next step would leave the
    /// labelled or studied doses: the prescriber chooses.
    ClinicianChoice,
}

/// A suggested next dose and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TitrationSuggestion {
    pub action: TitrationAction,
    /// The suggested dose; the previous dose for `Keep` and `ClinicianChoice`.
    pub dose: DoseAmount,
    pub rule: RuleId,
    pub rationale: String,
}

fn suggestion(
    action: TitrationAction,
    dose: DoseAmount,
    rule: &'static str,
    why: impl Into<String>,
) -> TitrationSuggestion {
    TitrationSuggestion { action, dose, rule: RuleId::spec(rule), rationale: why.into() }
}

/// Suggests the next dose (clinical.md §2).
///
/// Adequate effect and good tolerability keep the dose: the minimum effective dose
/// (DOSE-GEN-001). Poor tolerability steps down; inadequate effect with good tolerability
/// steps up. Steps are the protocol's: 28 mg for esketamine within 56/84 mg
/// (DOSE-IN-002, DOSE-IN-006, DOSE-IN-008); the protocol's fixed step (25 mg,
/// DOSE-PO-002); the clinic's per-kg step for weight-based protocols, capped at the
/// protocol range and below the clinic warning limit (DOSE-IV-010, DOSE-SC-001).
pub fn suggest_next_dose(
    protocol: &Protocol,
    previous: DoseAmount,
    tolerability: Tolerability,
    efficacy: Efficacy,
    policy: &DosingPolicy,
) -> TitrationSuggestion {
    use TitrationAction::*;
    if tolerability == Tolerability::Tolerated && efficacy == Efficacy::Adequate {
        return suggestion(Keep, previous, "DOSE-GEN-001", "Effective and tolerated: keep the minimum effective dose.");
    }
    let up = tolerability == Tolerability::Tolerated;
    match (protocol.dose, previous) {
        (DoseForm::EsketamineDevices { later, .. }, DoseAmount::Mg(prev)) => {
            let rule =
                if protocol.rules.iter().any(|r| r.as_str() == "DOSE-IN-006") { "DOSE-IN-006" } else { "DOSE-IN-002" };
            let step = 28.0;
            let target = if up { prev.value() + step } else { prev.value() - step };
            if later.iter().any(|d| d.value() == target) {
                let action = if up { Increase } else { Decrease };
                suggestion(
                    action,
                    DoseAmount::Mg(Mg::new(target).expect("a labelled dose")),
                    rule,
                    format!(
                        "One 28 mg step {} by {} of the previous dose (DOSE-IN-008).",
                        if up { "up" } else { "down" },
                        if up { "efficacy" } else { "tolerability" }
                    ),
                )
            } else {
                suggestion(
                    ClinicianChoice,
                    previous,
                    rule,
                    format!("{target} mg is not a labelled dose for this indication; the prescriber decides."),
                )
            }
        }
        (DoseForm::Fixed { start, step: Some(step) }, DoseAmount::Mg(prev)) => {
            if up {
                let next = prev.value() + step.value();
                if let Some(limit) = policy.po_warn_above_mg
                    && protocol.route == Route::SublingualOral
                    && exceeds(next, limit.value())
                {
                    return suggestion(
                        ClinicianChoice,
                        previous,
                        "DOSE-PO-001",
                        format!("{next} mg would exceed the clinic's oral limit of {} mg.", limit.value()),
                    );
                }
                suggestion(
                    Increase,
                    DoseAmount::Mg(Mg::new(next).expect("sum of valid doses")),
                    "DOSE-PO-002",
                    format!("Increase by {} mg for inadequate response with good tolerability.", step.value()),
                )
            } else {
                let next = (prev.value() - step.value()).max(start.value());
                let action = if next < prev.value() { Decrease } else { ClinicianChoice };
                suggestion(
                    action,
                    DoseAmount::Mg(Mg::new(next).expect("non-negative")),
                    "DOSE-PO-002",
                    "Poorly tolerated: return one step down, not below the starting dose.",
                )
            }
        }
        (DoseForm::PerKg { range, .. }, DoseAmount::PerKg(prev)) => {
            let rule = protocol.rules.first().map(|r| r.as_str()).unwrap_or("DOSE-IV-010");
            let rule: &'static str = match rule {
                "DOSE-SC-001" => "DOSE-SC-001",
                _ => "DOSE-IV-010",
            };
            let Some(step) = policy.titration_step_per_kg else {
                return suggestion(
                    ClinicianChoice,
                    previous,
                    rule,
                    "No per-kg titration step is configured (the spec gives none); the prescriber chooses the next dose.",
                );
            };
            let target = if up { prev.value() + step.value() } else { prev.value() - step.value() };
            let (lo, hi) = range.map(|(l, h)| (l.value(), h.value())).unwrap_or((0.0, f64::INFINITY));
            let warn = match protocol.route {
                Route::IvInfusion => Some(policy.iv_warn_above.value()),
                Route::Intramuscular => policy.im_warn_above.map(MgPerKg::value),
                Route::Subcutaneous => policy.sc_warn_above.map(MgPerKg::value),
                Route::SublingualOral => policy.po_warn_above_per_kg.map(MgPerKg::value),
                _ => None,
            };
            let too_high = exceeds(target, hi) || warn.is_some_and(|w| exceeds(target, w));
            if target <= 0.0 || target < lo - 1e-12 || too_high {
                return suggestion(
                    ClinicianChoice,
                    previous,
                    rule,
                    format!(
                        "{target:.3} mg/kg is outside the protocol range or the clinic limits; the prescriber decides."
                    ),
                );
            }
            let action = if up { Increase } else { Decrease };
            suggestion(
                action,
                DoseAmount::PerKg(MgPerKg::new(target).expect("positive")),
                rule,
                format!(
                    "One clinic step of {} mg/kg {}.",
                    step.value(),
                    if up { "up for inadequate response" } else { "down for tolerability" }
                ),
            )
        }
        _ => suggestion(
            ClinicianChoice,
            previous,
            "DOSE-IV-010",
            "The protocol gives no titration step for this dose form; the prescriber decides.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dosing::protocol::{ProtocolId, protocol};

    fn p() -> DosingPolicy {
        DosingPolicy::default()
    }

    #[test]
    fn spravato_trd_steps_between_56_and_84() {
        let trd = protocol(ProtocolId::SpravatoTrd);
        let up = suggest_next_dose(
            trd,
            DoseAmount::Mg(Mg::from_whole(56)),
            Tolerability::Tolerated,
            Efficacy::Inadequate,
            &p(),
        );
        assert_eq!(up.action, TitrationAction::Increase);
        assert_eq!(up.dose, DoseAmount::Mg(Mg::from_whole(84)));
        let top = suggest_next_dose(
            trd,
            DoseAmount::Mg(Mg::from_whole(84)),
            Tolerability::Tolerated,
            Efficacy::Inadequate,
            &p(),
        );
        assert_eq!(top.action, TitrationAction::ClinicianChoice);
        let down = suggest_next_dose(
            trd,
            DoseAmount::Mg(Mg::from_whole(84)),
            Tolerability::PoorlyTolerated,
            Efficacy::Adequate,
            &p(),
        );
        assert_eq!(down.dose, DoseAmount::Mg(Mg::from_whole(56)));
        let floor = suggest_next_dose(
            trd,
            DoseAmount::Mg(Mg::from_whole(56)),
            Tolerability::PoorlyTolerated,
            Efficacy::Adequate,
            &p(),
        );
        assert_eq!(floor.action, TitrationAction::ClinicianChoice);
        let keep = suggest_next_dose(
            trd,
            DoseAmount::Mg(Mg::from_whole(56)),
            Tolerability::Tolerated,
            Efficacy::Adequate,
            &p(),
        );
        assert_eq!(keep.action, TitrationAction::Keep);
    }

    #[test]
    fn mdsi_reduces_to_56_for_tolerability() {
        let mdsi = protocol(ProtocolId::SpravatoMdsi);
        let s = suggest_next_dose(
            mdsi,
            DoseAmount::Mg(Mg::from_whole(84)),
            Tolerability::PoorlyTolerated,
            Efficacy::Inadequate,
            &p(),
        );
        assert_eq!(s.dose, DoseAmount::Mg(Mg::from_whole(56)));
        assert_eq!(s.rule, "DOSE-IN-006");
    }

    #[test]
    fn oral_titration_uses_25_mg_steps_and_the_oral_limit() {
        let oral = protocol(ProtocolId::OralAlShirawi2017Titration);
        let s = suggest_next_dose(
            oral,
            DoseAmount::Mg(Mg::from_whole(50)),
            Tolerability::Tolerated,
            Efficacy::Inadequate,
            &p(),
        );
        assert_eq!(s.dose, DoseAmount::Mg(Mg::from_whole(75)));
        let at_cap = suggest_next_dose(
            oral,
            DoseAmount::Mg(Mg::from_whole(300)),
            Tolerability::Tolerated,
            Efficacy::Inadequate,
            &p(),
        );
        assert_eq!(at_cap.action, TitrationAction::ClinicianChoice);
        let down = suggest_next_dose(
            oral,
            DoseAmount::Mg(Mg::from_whole(50)),
            Tolerability::PoorlyTolerated,
            Efficacy::Inadequate,
            &p(),
        );
        assert_eq!(down.action, TitrationAction::ClinicianChoice);
        let down = suggest_next_dose(
            oral,
            DoseAmount::Mg(Mg::from_whole(100)),
            Tolerability::PoorlyTolerated,
            Efficacy::Inadequate,
            &p(),
        );
        assert_eq!(down.dose, DoseAmount::Mg(Mg::from_whole(75)));
    }

    #[test]
    fn per_kg_titration_needs_a_configured_step_and_stays_in_range() {
        let iv = protocol(ProtocolId::IvSingleStandard);
        let prev = DoseAmount::PerKg(MgPerKg::new(0.5).unwrap());
        let none = suggest_next_dose(iv, prev, Tolerability::Tolerated, Efficacy::Inadequate, &p());
        assert_eq!(none.action, TitrationAction::ClinicianChoice);
        let policy = DosingPolicy { titration_step_per_kg: Some(MgPerKg::new(0.25).unwrap()), ..p() };
        let up = suggest_next_dose(iv, prev, Tolerability::Tolerated, Efficacy::Inadequate, &policy);
        assert_eq!(up.dose, DoseAmount::PerKg(MgPerKg::new(0.75).unwrap()));
        // 0.75 + 0.25 = 1.0 would cross the 0.75 warning limit: no automatic increase.
        let capped = suggest_next_dose(
            iv,
            DoseAmount::PerKg(MgPerKg::new(0.75).unwrap()),
            Tolerability::Tolerated,
            Efficacy::Inadequate,
            &policy,
        );
        assert_eq!(capped.action, TitrationAction::ClinicianChoice);
        let sc = protocol(ProtocolId::ScKads);
        let sc_up = suggest_next_dose(
            sc,
            DoseAmount::PerKg(MgPerKg::new(0.75).unwrap()),
            Tolerability::Tolerated,
            Efficacy::Inadequate,
            &policy,
        );
        assert_eq!(sc_up.action, TitrationAction::ClinicianChoice, "1.0 is above the KADS 0.9 mg/kg top");
        assert_eq!(sc_up.rule, "DOSE-SC-001");
    }
}
