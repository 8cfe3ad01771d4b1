//! The protocol library: published dosing protocols from clinical.md §2, as data.
//!
//! Protocols are data rather than code so that a clinic can show, compare and choose
//! them, and so that each carries its spec IDs and evidence tag to the screen. They are
//! starting points, not limits: limits live in [`super::limits::DosingPolicy`], and a
//! clinic may add its own protocols at the shell (they are plain values).

use super::route::Route;
use super::rule::RuleId;
use super::units::{Mg, MgPerKg, Minutes};
use serde::Serialize;

/// The evidence tag of clinical.md §0, so the screen can show how firm a protocol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Evidence {
    /// Verified against the source itself.
    V,
    /// Verified through a secondary source only.
    V2,
    /// Not confirmed; needs medical-director sign-off.
    U,
    /// One clinic's practice; an example of a policy, not a standard.
    P,
}

/// Stable identifiers of the seeded protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolId {
    IvSingleStandard,
    IvMurrough2013,
    IvElektD,
    IvKetect,
    IvFeder2021Ptsd,
    IvWilkinson2017,
    IvWilkinson2021,
    IvAbdallah2022,
    ImChilukuri2014High,
    ImChilukuri2014Low,
    ScKads,
    SpravatoTrd,
    SpravatoMdsi,
    OralAlShirawi2017Titration,
    SublingualLara2013,
    OralKheirabadi2023,
    IntranasalRacemicRct50mg,
}

/// How the dose of a protocol is written.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseForm {
    /// A weight-based dose: the starting dose and, where the protocol allows flexing,
    /// the published range.
    PerKg { start: MgPerKg, range: Option<(MgPerKg, MgPerKg)> },
    /// A fixed dose, with the published titration step if there is one.
    Fixed { start: Mg, step: Option<Mg> },
    /// Esketamine in 28 mg devices (DOSE-IN-001): the first-session dose and the doses
    /// allowed afterwards.
    EsketamineDevices { first: Mg, later: &'static [Mg] },
}

/// How often sessions happen in one phase.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// One session only.
    Single,
    /// This many sessions per week.
    PerWeek(u8),
    /// One session every `min`..=`max` days.
    EveryDays { min: u8, max: u8 },
    /// Once every one or two weeks, individualised (DOSE-IN-004).
    WeeklyOrEveryTwoWeeks,
    /// Interval decided per patient (DOSE-IV-009: no validated booster schedule).
    Individualised,
}

/// One phase of a schedule, by week of treatment (week 1 = first week).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Phase {
    pub label: &'static str,
    pub from_week: u16,
    /// Last week of the phase; `None` when it continues while indicated.
    pub to_week: Option<u16>,
    pub frequency: Frequency,
}

/// A published protocol.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Protocol {
    pub id: ProtocolId,
    pub name: &'static str,
    pub route: Route,
    pub dose: DoseForm,
    /// Infusion duration for IV protocols (DOSE-IV-001: 40 minutes).
    pub infusion: Option<Minutes>,
    /// Most sessions in the course, when the protocol caps it.
    pub max_sessions: Option<u16>,
    pub phases: &'static [Phase],
    /// The spec rules this protocol is taken from.
    pub rules: &'static [RuleId],
    pub evidence: Evidence,
    /// What the spec says about it, for the screen.
    pub note: &'static str,
}

const IV_40_MIN: Option<Minutes> = Some(Minutes::new(40));
const IV_STANDARD: DoseForm = DoseForm::PerKg { start: MgPerKg::constant(0.5), range: None };
const R_IV_001: RuleId = RuleId::spec("DOSE-IV-001");
const R_IV_006: RuleId = RuleId::spec("DOSE-IV-006");

const fn per_week(label: &'static str, from: u16, to: u16, n: u8) -> Phase {
    Phase { label, from_week: from, to_week: Some(to), frequency: Frequency::PerWeek(n) }
}

/// Every seeded protocol, in display order.
pub const LIBRARY: &[Protocol] = &[
    Protocol {
        id: ProtocolId::IvSingleStandard,
        name: "IV racemic ketamine 0.5 mg/kg over 40 min (single infusion)",
        route: Route::IvInfusion,
        dose: IV_STANDARD,
        infusion: IV_40_MIN,
        max_sessions: Some(1),
        phases: &[Phase { label: "single infusion", from_week: 1, to_week: Some(1), frequency: Frequency::Single }],
        rules: &[R_IV_001, RuleId::spec("DOSE-IV-003")],
        evidence: Evidence::V,
        note: "Standard dose; studied range 0.1-0.75 mg/kg, a few trials to 1.0 mg/kg (DOSE-IV-002).",
    },
    Protocol {
        id: ProtocolId::IvMurrough2013,
        name: "IV induction: up to 6 infusions, 3x/week over 12 days (Murrough 2013)",
        route: Route::IvInfusion,
        dose: IV_STANDARD,
        infusion: IV_40_MIN,
        max_sessions: Some(6),
        phases: &[per_week("induction", 1, 2, 3)],
        rules: &[R_IV_001, R_IV_006, RuleId::spec("DOSE-IV-007"), RuleId::spec("DOSE-IV-008")],
        evidence: Evidence::V,
        note: "Response 70.8%. Follow up within 2-3 weeks of the last dose (median relapse 18 days).",
    },
    Protocol {
        id: ProtocolId::IvElektD,
        name: "IV induction: twice weekly for 3 weeks, 6 infusions (ELEKT-D)",
        route: Route::IvInfusion,
        dose: IV_STANDARD,
        infusion: IV_40_MIN,
        max_sessions: Some(6),
        phases: &[per_week("induction", 1, 3, 2)],
        rules: &[R_IV_001, R_IV_006],
        evidence: Evidence::V,
        note: "ANAND-2023.",
    },
    Protocol {
        id: ProtocolId::IvKetect,
        name: "IV induction: 3x/week, up to 12 sessions until remission (KetECT)",
        route: Route::IvInfusion,
        dose: IV_STANDARD,
        infusion: IV_40_MIN,
        max_sessions: Some(12),
        phases: &[per_week("induction", 1, 4, 3)],
        rules: &[R_IV_001, R_IV_006],
        evidence: Evidence::V,
        note: "Until remission or maximal effect; median 6 sessions to remission (EKS-2022).",
    },
    Protocol {
        id: ProtocolId::IvFeder2021Ptsd,
        name: "IV for PTSD: 6 infusions, 3x/week for 2 weeks (Feder 2021)",
        route: Route::IvInfusion,
        dose: IV_STANDARD,
        infusion: IV_40_MIN,
        max_sessions: Some(6),
        phases: &[per_week("induction", 1, 2, 3)],
        rules: &[R_IV_006, RuleId::spec("IND-008")],
        evidence: Evidence::V,
        note: "PTSD evidence is mixed; flag as lower certainty (IND-008).",
    },
    Protocol {
        id: ProtocolId::IvWilkinson2017,
        name: "IV induction: 4 infusions over 2 weeks (Wilkinson 2017)",
        route: Route::IvInfusion,
        dose: IV_STANDARD,
        infusion: IV_40_MIN,
        max_sessions: Some(4),
        phases: &[per_week("induction", 1, 2, 2)],
        rules: &[R_IV_006],
        evidence: Evidence::V,
        note: "WIL-2017.",
    },
    Protocol {
        id: ProtocolId::IvWilkinson2021,
        name: "IV induction: 6 infusions over 3 weeks (Wilkinson 2021)",
        route: Route::IvInfusion,
        dose: IV_STANDARD,
        infusion: IV_40_MIN,
        max_sessions: Some(6),
        phases: &[per_week("induction", 1, 3, 2)],
        rules: &[R_IV_006],
        evidence: Evidence::V,
        note: "WIL-2021.",
    },
    Protocol {
        id: ProtocolId::IvAbdallah2022,
        name: "IV: 8 infusions twice weekly (Abdallah 2022)",
        route: Route::IvInfusion,
        dose: DoseForm::PerKg {
            start: MgPerKg::constant(0.5),
            range: Some((MgPerKg::constant(0.2), MgPerKg::constant(0.5))),
        },
        infusion: IV_40_MIN,
        max_sessions: Some(8),
        phases: &[per_week("induction", 1, 4, 2)],
        rules: &[R_IV_006, RuleId::spec("IND-008")],
        evidence: Evidence::V,
        note: "Veterans with PTSD: no significant benefit at 0.2 or 0.5 mg/kg (IND-008).",
    },
    Protocol {
        id: ProtocolId::ImChilukuri2014High,
        name: "IM racemic ketamine 0.5 mg/kg (Chilukuri 2014)",
        route: Route::Intramuscular,
        dose: DoseForm::PerKg { start: MgPerKg::constant(0.5), range: None },
        infusion: None,
        max_sessions: None,
        phases: &[],
        rules: &[RuleId::spec("DOSE-IM-001")],
        evidence: Evidence::V,
        note: "Performed like IV 0.5 mg/kg in an RCT (n=27). Anaesthetic range is blocked (DOSE-IM-004).",
    },
    Protocol {
        id: ProtocolId::ImChilukuri2014Low,
        name: "IM racemic ketamine 0.25 mg/kg (Chilukuri 2014)",
        route: Route::Intramuscular,
        dose: DoseForm::PerKg { start: MgPerKg::constant(0.25), range: None },
        infusion: None,
        max_sessions: None,
        phases: &[],
        rules: &[RuleId::spec("DOSE-IM-001")],
        evidence: Evidence::V,
        note: "Performed like IV 0.5 mg/kg in an RCT (n=27).",
    },
    Protocol {
        id: ProtocolId::ScKads,
        name: "SC racemic ketamine twice weekly for 4 weeks, 0.5-0.9 mg/kg (KADS)",
        route: Route::Subcutaneous,
        dose: DoseForm::PerKg {
            start: MgPerKg::constant(0.5),
            range: Some((MgPerKg::constant(0.5), MgPerKg::constant(0.9))),
        },
        infusion: None,
        max_sessions: Some(8),
        phases: &[per_week("course", 1, 4, 2)],
        rules: &[RuleId::spec("DOSE-SC-001")],
        evidence: Evidence::V,
        note: "Flexible dosing with response-guided increases within 0.5-0.9 mg/kg (LOO-2023).",
    },
    Protocol {
        id: ProtocolId::SpravatoTrd,
        name: "SPRAVATO for TRD: induction, maintenance, continuation",
        route: Route::IntranasalEsketamine,
        dose: DoseForm::EsketamineDevices {
            first: Mg::from_whole(56),
            later: &[Mg::from_whole(56), Mg::from_whole(84)],
        },
        infusion: None,
        max_sessions: None,
        phases: &[
            per_week("induction", 1, 4, 2),
            per_week("maintenance", 5, 8, 1),
            Phase { label: "continuation", from_week: 9, to_week: None, frequency: Frequency::WeeklyOrEveryTwoWeeks },
        ],
        rules: &[
            RuleId::spec("DOSE-IN-002"),
            RuleId::spec("DOSE-IN-003"),
            RuleId::spec("DOSE-IN-004"),
            RuleId::spec("DOSE-IN-005"),
        ],
        evidence: Evidence::V,
        note: "Day 1 56 mg; 84 mg only after 56 mg. Assess benefit at week 4. From week 9 use the least frequent dosing that keeps response.",
    },
    Protocol {
        id: ProtocolId::SpravatoMdsi,
        name: "SPRAVATO for MDSI: 84 mg twice weekly for 4 weeks",
        route: Route::IntranasalEsketamine,
        dose: DoseForm::EsketamineDevices {
            first: Mg::from_whole(84),
            later: &[Mg::from_whole(56), Mg::from_whole(84)],
        },
        infusion: None,
        max_sessions: Some(8),
        phases: &[per_week("treatment", 1, 4, 2)],
        rules: &[RuleId::spec("DOSE-IN-006"), RuleId::spec("IND-003")],
        evidence: Evidence::V,
        note: "May reduce to 56 mg for tolerability. Beyond 4 weeks not systematically evaluated. Given with an oral antidepressant.",
    },
    Protocol {
        id: ProtocolId::OralAlShirawi2017Titration,
        name: "Oral titration: 50 mg every 3 days, +25 mg every 3 days (Al Shirawi 2017)",
        route: Route::SublingualOral,
        dose: DoseForm::Fixed { start: Mg::from_whole(50), step: Some(Mg::from_whole(25)) },
        infusion: None,
        max_sessions: None,
        phases: &[Phase {
            label: "titration",
            from_week: 1,
            to_week: None,
            frequency: Frequency::EveryDays { min: 3, max: 3 },
        }],
        rules: &[RuleId::spec("DOSE-PO-002"), RuleId::spec("DOSE-PO-001")],
        evidence: Evidence::V,
        note: "TRD case series; increase by response and tolerability. Oral ketamine for depression is experimental.",
    },
    Protocol {
        id: ProtocolId::SublingualLara2013,
        name: "Very-low-dose sublingual 10 mg every 2-3 days or weekly (Lara 2013)",
        route: Route::SublingualOral,
        dose: DoseForm::Fixed { start: Mg::from_whole(10), step: None },
        infusion: None,
        max_sessions: None,
        phases: &[Phase {
            label: "course",
            from_week: 1,
            to_week: None,
            frequency: Frequency::EveryDays { min: 2, max: 7 },
        }],
        rules: &[RuleId::spec("DOSE-PO-003")],
        evidence: Evidence::V,
        note: "0.1 mL of 100 mg/mL held sublingually 5 min, then swallowed.",
    },
    Protocol {
        id: ProtocolId::OralKheirabadi2023,
        name: "Oral 1 or 2 mg/kg twice weekly for 6 weeks (KheirAbadi 2023)",
        route: Route::SublingualOral,
        dose: DoseForm::PerKg {
            start: MgPerKg::constant(1.0),
            range: Some((MgPerKg::constant(1.0), MgPerKg::constant(2.0))),
        },
        infusion: None,
        max_sessions: Some(12),
        phases: &[per_week("course", 1, 6, 2)],
        rules: &[RuleId::spec("DOSE-PO-004")],
        evidence: Evidence::V,
        note: "No difference between 1 and 2 mg/kg.",
    },
    // DOSE-INR-001: no label or consensus intranasal racemic dose could be confirmed; the
    // spec names 50 mg single dose as a published RCT dose, tagged [U]. It is offered as
    // a starting point marked unconfirmed, in the clinic only (home use is refused by
    // default in `limits`), never as a limit.
    Protocol {
        id: ProtocolId::IntranasalRacemicRct50mg,
        name: "Intranasal racemic 50 mg single dose, in clinic (published RCT dose; unconfirmed)",
        route: Route::IntranasalRacemic,
        dose: DoseForm::Fixed { start: Mg::from_whole(50), step: None },
        infusion: None,
        max_sessions: None,
        phases: &[Phase {
            label: "single dose; repeat only by the prescriber's decision",
            from_week: 1,
            to_week: None,
            frequency: Frequency::Individualised,
        }],
        rules: &[RuleId::spec("DOSE-INR-001")],
        evidence: Evidence::U,
        note: "No label or consensus dose could be confirmed; about 45% bioavailability \
               (Al Shirawi 2017). Compounded product. No unsupervised home use unless the \
               clinic policy allows it (DOSE-INR-001). Needs the medical director's sign-off.",
    },
];

/// The seeded protocol with this id.
pub fn protocol(id: ProtocolId) -> &'static Protocol {
    LIBRARY.iter().find(|p| p.id == id).expect("every ProtocolId has a LIBRARY entry (checked by a test)")
}

/// Seeded protocols for one route.
pub fn for_route(route: Route) -> impl Iterator<Item = &'static Protocol> {
    LIBRARY.iter().filter(move |p| p.route == route)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_IDS: [ProtocolId; 17] = [
        ProtocolId::IvSingleStandard,
        ProtocolId::IvMurrough2013,
        ProtocolId::IvElektD,
        ProtocolId::IvKetect,
        ProtocolId::IvFeder2021Ptsd,
        ProtocolId::IvWilkinson2017,
        ProtocolId::IvWilkinson2021,
        ProtocolId::IvAbdallah2022,
        ProtocolId::ImChilukuri2014High,
        ProtocolId::ImChilukuri2014Low,
        ProtocolId::ScKads,
        ProtocolId::SpravatoTrd,
        ProtocolId::SpravatoMdsi,
        ProtocolId::OralAlShirawi2017Titration,
        ProtocolId::SublingualLara2013,
        ProtocolId::OralKheirabadi2023,
        ProtocolId::IntranasalRacemicRct50mg,
    ];

    #[test]
    fn every_id_has_exactly_one_entry() {
        for id in ALL_IDS {
            assert_eq!(LIBRARY.iter().filter(|p| p.id == id).count(), 1, "{id:?}");
        }
        assert_eq!(LIBRARY.len(), ALL_IDS.len());
    }

    #[test]
    fn constants_are_valid_quantities_and_protocols_name_rules() {
        for p in LIBRARY {
            assert!(!p.rules.is_empty(), "{:?} names no rule", p.id);
            match p.dose {
                DoseForm::PerKg { start, range } => {
                    assert!(MgPerKg::new(start.value()).is_ok());
                    if let Some((lo, hi)) = range {
                        assert!(lo <= start && start <= hi, "{:?}", p.id);
                    }
                }
                DoseForm::Fixed { start, .. } => assert!(start.value() > 0.0),
                DoseForm::EsketamineDevices { first, later } => {
                    assert_eq!(first.value() % 28.0, 0.0);
                    assert!(later.iter().all(|d| d.value() % 28.0 == 0.0));
                }
            }
            if p.route == Route::IvInfusion {
                assert_eq!(p.infusion, Some(Minutes::new(40)), "DOSE-IV-001");
            }
        }
    }

    #[test]
    fn spravato_trd_starts_at_56_and_mdsi_at_84() {
        let trd = protocol(ProtocolId::SpravatoTrd);
        assert!(matches!(trd.dose, DoseForm::EsketamineDevices { first, .. } if first.value() == 56.0));
        assert_eq!(trd.phases.len(), 3);
        let mdsi = protocol(ProtocolId::SpravatoMdsi);
        assert!(matches!(mdsi.dose, DoseForm::EsketamineDevices { first, .. } if first.value() == 84.0));
        assert_eq!(for_route(Route::IntranasalEsketamine).count(), 2);
    }

    #[test]
    fn every_route_has_a_protocol_and_intranasal_racemic_is_marked_unconfirmed() {
        for route in Route::ALL {
            assert!(for_route(route).next().is_some(), "{route:?} has no protocol to plan with");
        }
        let inr = protocol(ProtocolId::IntranasalRacemicRct50mg);
        assert_eq!((inr.route, inr.evidence), (Route::IntranasalRacemic, Evidence::U));
        assert!(matches!(inr.dose, DoseForm::Fixed { start, step: None } if start.value() == 50.0));
        assert_eq!(inr.rules, &[RuleId::spec("DOSE-INR-001")]);
    }
}
