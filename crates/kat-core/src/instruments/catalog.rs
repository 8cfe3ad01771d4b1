//! The instruments as data: items, answer options, codes and copyright notices.
//!
//! Keeping the structure in static tables (rather than in scoring code) lets the form
//! renderer, the parser, the scorer and the FHIR exporter share one definition, and it
//! makes the licence status of every piece of wording explicit (instruments.md §1).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Every instrument this module can parse and score.
///
/// The serde names are stable identifiers for storage and for a local FHIR CodeSystem
/// where LOINC has no code (instruments.md §14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// Patient Health Questionnaire-9 (instruments.md §2).
    Phq9,
    /// Generalized Anxiety Disorder 7-item scale (instruments.md §3).
    Gad7,
    /// PTSD Checklist for DSM-5 (instruments.md §4).
    Pcl5,
    /// Columbia-Suicide Severity Rating Scale, screener, recent (instruments.md §5).
    CssrsScreener,
    /// Clinician-Administered Dissociative States Scale, 23 subjective items (§6).
    Cadss23,
    /// CADSS-6 short form, items 1, 2, 6, 7, 15 and 22 of the CADSS-23 (§6.2).
    Cadss6,
    /// Modified Observer's Assessment of Alertness/Sedation, 0–5 (§7).
    Moaas,
    /// Modified Aldrete post-anaesthesia recovery score, 1995 version (§10).
    ModifiedAldrete,
}

impl Instrument {
    /// All instruments, in a fixed order (for menus and exhaustive tests).
    pub const ALL: [Instrument; 8] = [
        Instrument::Phq9,
        Instrument::Gad7,
        Instrument::Pcl5,
        Instrument::CssrsScreener,
        Instrument::Cadss23,
        Instrument::Cadss6,
        Instrument::Moaas,
        Instrument::ModifiedAldrete,
    ];

    /// The stable snake_case identifier (same as the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Instrument::Phq9 => "phq9",
            Instrument::Gad7 => "gad7",
            Instrument::Pcl5 => "pcl5",
            Instrument::CssrsScreener => "cssrs_screener",
            Instrument::Cadss23 => "cadss23",
            Instrument::Cadss6 => "cadss6",
            Instrument::Moaas => "moaas",
            Instrument::ModifiedAldrete => "modified_aldrete",
        }
    }

    /// The static definition of this instrument.
    pub fn def(self) -> &'static InstrumentDef {
        match self {
            Instrument::Phq9 => &PHQ9,
            Instrument::Gad7 => &GAD7,
            Instrument::Pcl5 => &PCL5,
            Instrument::CssrsScreener => &CSSRS_SCREENER,
            Instrument::Cadss23 => &CADSS23,
            Instrument::Cadss6 => &CADSS6,
            Instrument::Moaas => &MOAAS,
            Instrument::ModifiedAldrete => &MODIFIED_ALDRETE,
        }
    }
}

impl fmt::Display for Instrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may reproduce the wording we ship, which decides what the UI may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextLicence {
    /// Reuse confirmed (PHQ-9, GAD-7: Pfizer "no permission required"; PCL-5: U.S.
    /// government work). The item text is the form wording.
    Verbatim,
    /// Wording is licensed or its terms are unknown (C-SSRS, CADSS). Only construct
    /// labels ship; the clinic loads licensed text with [`ItemTextOverrides`].
    ConstructLabelsOnly,
    /// Anchors are paraphrased because the score cannot be used without them and the
    /// copyright status was not confirmed (MOAA/S, modified Aldrete).
    Paraphrased,
}

/// Who completes the instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Respondent {
    Patient,
    /// C-SSRS screener: asked by an interviewer, self-report use exists.
    ClinicianOrPatient,
    Clinician,
    /// MOAA/S, modified Aldrete: a nurse or clinician observes.
    Observer,
}

/// The text shown for an item, tagged with what it is so that a construct label is
/// never mistaken for licensed question wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum ItemText {
    /// The form wording itself (reuse permitted).
    Verbatim(&'static str),
    /// A label for the construct the item measures, not the question.
    ConstructLabel(&'static str),
    /// A paraphrase of the item or anchor.
    Paraphrased(&'static str),
}

impl ItemText {
    pub fn as_str(&self) -> &'static str {
        match self {
            ItemText::Verbatim(s) | ItemText::ConstructLabel(s) | ItemText::Paraphrased(s) => s,
        }
    }
}

/// How an item is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerKind {
    /// An integer from `min` to `max` inclusive; the value is the score.
    Ordinal { min: u8, max: u8 },
    /// Yes (stored as 1) or No (stored as 0).
    YesNo,
}

impl AnswerKind {
    /// The largest value an answer can take.
    pub fn max(self) -> u8 {
        match self {
            AnswerKind::Ordinal { max, .. } => max,
            AnswerKind::YesNo => 1,
        }
    }
    /// The smallest value an answer can take.
    pub fn min(self) -> u8 {
        match self {
            AnswerKind::Ordinal { min, .. } => min,
            AnswerKind::YesNo => 0,
        }
    }
}

/// One answer choice. Scoring uses `value` (the ordinal), never the LOINC answer code,
/// because one item can carry several codes for the same value (§3.2, §13.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnswerOption {
    pub value: u8,
    pub display: &'static str,
    /// LOINC answer codes that mean this value; empty when none is known.
    pub loinc_answers: &'static [&'static str],
}

/// One item of an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ItemDef {
    /// How the item is numbered on the form ("9", "6b"); also the error `item` key.
    pub label: &'static str,
    /// LOINC item code, when one is confirmed.
    pub loinc: Option<&'static str>,
    pub text: ItemText,
    pub answer: AnswerKind,
    pub options: &'static [AnswerOption],
    /// Whether the item counts towards the total (PHQ-9 item 10 does not).
    pub scored: bool,
    /// Whether the response is incomplete without it. Items asked only under skip logic
    /// (C-SSRS Q3–Q5, Q6b) are required only when their gate opens; see
    /// [`crate::instruments::cssrs`].
    pub required: bool,
}

/// One instrument: metadata, items and the licence of its wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InstrumentDef {
    pub instrument: Instrument,
    pub name: &'static str,
    pub abbreviation: &'static str,
    pub respondent: Respondent,
    pub recall: &'static str,
    /// The question stem shown above the items, if it may ship.
    pub stem: Option<&'static str>,
    pub items: &'static [ItemDef],
    /// LOINC panel code (the Questionnaire code), if one is known.
    pub loinc_panel: Option<&'static str>,
    /// LOINC code of the total score (or of the risk level for C-SSRS), if known.
    pub loinc_total: Option<&'static str>,
    /// Inclusive range of the total, when the instrument has a total.
    pub total_range: Option<(u8, u8)>,
    pub text_licence: TextLicence,
    /// Copyright or source notice for `Questionnaire.copyright` and the form footer.
    pub copyright: &'static str,
    /// Primary reference.
    pub citation: &'static str,
}

impl InstrumentDef {
    /// The items that count towards the total.
    pub fn scored_items(&self) -> impl Iterator<Item = (usize, &'static ItemDef)> {
        self.items.iter().enumerate().filter(|(_, i)| i.scored)
    }

    /// Index of the item with this form label.
    pub fn index_of(&self, label: &str) -> Option<usize> {
        self.items.iter().position(|i| i.label == label)
    }
}

/// Licensed or clinic-supplied wording, loaded at deployment and shown instead of the
/// construct labels we ship (instruments.md §1, §5: "load licensed text at deployment").
///
/// The core never contains C-SSRS or CADSS wording; a clinic with a licence fills this
/// map from its own data file. Keys are the instrument and the item label ("6b").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemTextOverrides {
    stems: BTreeMap<Instrument, String>,
    items: BTreeMap<Instrument, BTreeMap<String, String>>,
}

/// Why an override was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error("{instrument} has no item {label}")]
    UnknownItem { instrument: Instrument, label: String },
    #[error("override text must not be empty")]
    Empty,
}

impl ItemTextOverrides {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the text for one item; refuses items the instrument does not have, so a
    /// typo in a licence file cannot silently leave the construct label in place.
    pub fn set_item(&mut self, instrument: Instrument, label: &str, text: &str) -> Result<(), OverrideError> {
        if instrument.def().index_of(label).is_none() {
            return Err(OverrideError::UnknownItem { instrument, label: label.to_string() });
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(OverrideError::Empty);
        }
        self.items.entry(instrument).or_default().insert(label.to_string(), text.to_string());
        Ok(())
    }

    /// Sets the stem (instructions) of an instrument.
    pub fn set_stem(&mut self, instrument: Instrument, text: &str) -> Result<(), OverrideError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(OverrideError::Empty);
        }
        self.stems.insert(instrument, text.to_string());
        Ok(())
    }

    /// The text to display for an item: the loaded override, else the shipped text.
    pub fn item_text<'a>(&'a self, instrument: Instrument, item: &'static ItemDef) -> &'a str {
        self.items.get(&instrument).and_then(|m| m.get(item.label)).map(String::as_str).unwrap_or(item.text.as_str())
    }

    /// The stem to display: the loaded override, else the shipped stem, if any.
    pub fn stem(&self, instrument: Instrument) -> Option<&str> {
        self.stems.get(&instrument).map(String::as_str).or(instrument.def().stem)
    }
}

// ---------------------------------------------------------------------------------
// Shared answer lists
// ---------------------------------------------------------------------------------

/// PHQ-9 / GAD-7 frequency answers, LOINC LL358-3 (instruments.md §2.2, §3.2).
const FREQUENCY_0_3: &[AnswerOption] = &[
    AnswerOption { value: 0, display: "Not at all", loinc_answers: &["LA6568-5"] },
    AnswerOption { value: 1, display: "Several days", loinc_answers: &["LA6569-3"] },
    AnswerOption { value: 2, display: "More than half the days", loinc_answers: &["LA6570-1"] },
    AnswerOption { value: 3, display: "Nearly every day", loinc_answers: &["LA6571-9"] },
];

/// GAD-7 item 2 (68509-9): the LHC-Forms export uses "More days than not" (LA18938-3)
/// for value 2; accept both codes (instruments.md §3.2 pitfall).
const FREQUENCY_0_3_GAD7_ITEM2: &[AnswerOption] = &[
    AnswerOption { value: 0, display: "Not at all", loinc_answers: &["LA6568-5"] },
    AnswerOption { value: 1, display: "Several days", loinc_answers: &["LA6569-3"] },
    AnswerOption { value: 2, display: "More than half the days", loinc_answers: &["LA6570-1", "LA18938-3"] },
    AnswerOption { value: 3, display: "Nearly every day", loinc_answers: &["LA6571-9"] },
];

/// PHQ-9 item 10 / GAD-7 difficulty item (not scored). The LOINC codes are those of
/// 69722-7 (PHQ-9); note the codes are not in value order in LOINC.
const DIFFICULTY_0_3: &[AnswerOption] = &[
    AnswerOption { value: 0, display: "Not difficult at all", loinc_answers: &["LA6572-7"] },
    AnswerOption { value: 1, display: "Somewhat difficult", loinc_answers: &["LA6573-5"] },
    AnswerOption { value: 2, display: "Very difficult", loinc_answers: &["LA6575-0"] },
    AnswerOption { value: 3, display: "Extremely difficult", loinc_answers: &["LA6574-3"] },
];

/// PCL-5 answers (instruments.md §4.2). LOINC answer codes not confirmed.
const PCL5_0_4: &[AnswerOption] = &[
    AnswerOption { value: 0, display: "Not at all", loinc_answers: &[] },
    AnswerOption { value: 1, display: "A little bit", loinc_answers: &[] },
    AnswerOption { value: 2, display: "Moderately", loinc_answers: &[] },
    AnswerOption { value: 3, display: "Quite a bit", loinc_answers: &[] },
    AnswerOption { value: 4, display: "Extremely", loinc_answers: &[] },
];

/// C-SSRS Yes/No (LOINC LA33-6 / LA32-8, instruments.md §5.1).
const YES_NO: &[AnswerOption] = &[
    AnswerOption { value: 0, display: "No", loinc_answers: &["LA32-8"] },
    AnswerOption { value: 1, display: "Yes", loinc_answers: &["LA33-6"] },
];

/// CADSS anchors: ⚠️ not confirmed (instruments.md §6.1 "commonly 0 = not at all …
/// 4 = extremely"), so only the end points carry a label.
const CADSS_0_4: &[AnswerOption] = &[
    AnswerOption { value: 0, display: "0 (not at all)", loinc_answers: &[] },
    AnswerOption { value: 1, display: "1", loinc_answers: &[] },
    AnswerOption { value: 2, display: "2", loinc_answers: &[] },
    AnswerOption { value: 3, display: "3", loinc_answers: &[] },
    AnswerOption { value: 4, display: "4 (extremely)", loinc_answers: &[] },
];

const PFIZER_COPYRIGHT: &str = "Copyright © Pfizer Inc. All rights reserved. Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc. No permission required to reproduce, translate, display or distribute. LOINC codes are available at no cost under the license at http://loinc.org/license.";

// ---------------------------------------------------------------------------------
// PHQ-9 (instruments.md §2)
// ---------------------------------------------------------------------------------

const fn freq(label: &'static str, loinc: &'static str, text: &'static str) -> ItemDef {
    ItemDef {
        label,
        loinc: Some(loinc),
        text: ItemText::Verbatim(text),
        answer: AnswerKind::Ordinal { min: 0, max: 3 },
        options: FREQUENCY_0_3,
        scored: true,
        required: true,
    }
}

const PHQ9_ITEMS: &[ItemDef] = &[
    freq("1", "44250-9", "Little interest or pleasure in doing things"),
    freq("2", "44255-8", "Feeling down, depressed, or hopeless"),
    freq("3", "44259-0", "Trouble falling or staying asleep, or sleeping too much"),
    freq("4", "44254-1", "Feeling tired or having little energy"),
    freq("5", "44251-7", "Poor appetite or overeating"),
    freq(
        "6",
        "44258-2",
        "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
    ),
    freq("7", "44252-5", "Trouble concentrating on things, such as reading the newspaper or watching television"),
    freq(
        "8",
        "44253-3",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual",
    ),
    freq("9", "44260-8", "Thoughts that you would be better off dead or of hurting yourself in some way"),
    ItemDef {
        label: "10",
        loinc: Some("69722-7"),
        text: ItemText::Verbatim(
            "If you checked off any problems, how difficult have these problems made it for you to do your work, take care of things at home, or get along with other people?",
        ),
        answer: AnswerKind::Ordinal { min: 0, max: 3 },
        options: DIFFICULTY_0_3,
        scored: false,
        required: false,
    },
];

pub static PHQ9: InstrumentDef = InstrumentDef {
    instrument: Instrument::Phq9,
    name: "Patient Health Questionnaire-9",
    abbreviation: "PHQ-9",
    respondent: Respondent::Patient,
    recall: "last 2 weeks",
    stem: Some("Over the last 2 weeks, how often have you been bothered by any of the following problems?"),
    items: PHQ9_ITEMS,
    loinc_panel: Some("44249-1"),
    loinc_total: Some("44261-6"),
    total_range: Some((0, 27)),
    text_licence: TextLicence::Verbatim,
    copyright: PFIZER_COPYRIGHT,
    citation: "Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity measure. J Gen Intern Med 2001;16:606-613.",
};

// ---------------------------------------------------------------------------------
// GAD-7 (instruments.md §3)
// ---------------------------------------------------------------------------------

const GAD7_ITEMS: &[ItemDef] = &[
    freq("1", "69725-0", "Feeling nervous, anxious, or on edge"),
    ItemDef { options: FREQUENCY_0_3_GAD7_ITEM2, ..freq("2", "68509-9", "Not being able to stop or control worrying") },
    freq("3", "69733-4", "Worrying too much about different things"),
    freq("4", "69734-2", "Trouble relaxing"),
    freq("5", "69735-9", "Being so restless that it is hard to sit still"),
    freq("6", "69689-8", "Becoming easily annoyed or irritable"),
    freq("7", "69736-7", "Feeling afraid, as if something awful might happen"),
    ItemDef {
        label: "8",
        // ⚠️ LOINC code for the GAD-7 difficulty item not confirmed (instruments.md §14).
        loinc: None,
        text: ItemText::Verbatim(
            "If you checked any problems, how difficult have they made it for you to do your work, take care of things at home, or get along with other people?",
        ),
        answer: AnswerKind::Ordinal { min: 0, max: 3 },
        options: DIFFICULTY_0_3,
        scored: false,
        required: false,
    },
];

pub static GAD7: InstrumentDef = InstrumentDef {
    instrument: Instrument::Gad7,
    name: "Generalized Anxiety Disorder 7-item scale",
    abbreviation: "GAD-7",
    respondent: Respondent::Patient,
    recall: "last 2 weeks",
    stem: Some("Over the last 2 weeks, how often have you been bothered by the following problems?"),
    items: GAD7_ITEMS,
    loinc_panel: Some("69737-5"),
    loinc_total: Some("70274-6"),
    total_range: Some((0, 21)),
    text_licence: TextLicence::Verbatim,
    copyright: PFIZER_COPYRIGHT,
    citation: "Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized anxiety disorder: the GAD-7. Arch Intern Med 2006;166:1092-1097.",
};

// ---------------------------------------------------------------------------------
// PCL-5 (instruments.md §4)
// ---------------------------------------------------------------------------------

const fn pcl(label: &'static str, text: &'static str) -> ItemDef {
    ItemDef {
        label,
        // ⚠️ Item-level LOINC codes not confirmed; do not reuse PCL-C codes (§4.5).
        loinc: None,
        text: ItemText::Verbatim(text),
        answer: AnswerKind::Ordinal { min: 0, max: 4 },
        options: PCL5_0_4,
        scored: true,
        required: true,
    }
}

const PCL5_ITEMS: &[ItemDef] = &[
    pcl("1", "Repeated, disturbing, and unwanted memories of the stressful experience?"),
    pcl("2", "Repeated, disturbing dreams of the stressful experience?"),
    pcl(
        "3",
        "Suddenly feeling or acting as if the stressful experience were actually happening again (as if you were actually back there reliving it)?",
    ),
    pcl("4", "Feeling very upset when something reminded you of the stressful experience?"),
    pcl(
        "5",
        "Having strong physical reactions when something reminded you of the stressful experience (for example, heart pounding, trouble breathing, sweating)?",
    ),
    pcl("6", "Avoiding memories, thoughts, or feelings related to the stressful experience?"),
    pcl(
        "7",
        "Avoiding external reminders of the stressful experience (for example, people, places, conversations, activities, objects, or situations)?",
    ),
    pcl("8", "Trouble remembering important parts of the stressful experience?"),
    pcl(
        "9",
        "Having strong negative beliefs about yourself, other people, or the world (for example, having thoughts such as: I am bad, there is something seriously wrong with me, no one can be trusted, the world is completely dangerous)?",
    ),
    pcl("10", "Blaming yourself or someone else for the stressful experience or what happened after it?"),
    pcl("11", "Having strong negative feelings such as fear, horror, anger, guilt, or shame?"),
    pcl("12", "Loss of interest in activities that you used to enjoy?"),
    pcl("13", "Feeling distant or cut off from other people?"),
    pcl(
        "14",
        "Trouble experiencing positive feelings (for example, being unable to feel happiness or have loving feelings for people close to you)?",
    ),
    pcl("15", "Irritable behavior, angry outbursts, or acting aggressively?"),
    pcl("16", "Taking too many risks or doing things that could cause you harm?"),
    pcl("17", "Being \"superalert\" or watchful or on guard?"),
    // ⚠️ one copy has "jumpy, or easily startled"; check against the VA PDF (§4.1).
    pcl("18", "Feeling jumpy or easily startled?"),
    pcl("19", "Having difficulty concentrating?"),
    pcl("20", "Trouble falling or staying asleep?"),
];

pub static PCL5: InstrumentDef = InstrumentDef {
    instrument: Instrument::Pcl5,
    name: "PTSD Checklist for DSM-5",
    abbreviation: "PCL-5",
    respondent: Respondent::Patient,
    recall: "past month",
    stem: Some("In the past month, how much were you bothered by:"),
    items: PCL5_ITEMS,
    loinc_panel: Some("101697-1"),
    loinc_total: Some("101698-9"),
    total_range: Some((0, 80)),
    text_licence: TextLicence::Verbatim,
    copyright: "PCL-5: developed by staff of the U.S. Department of Veterans Affairs National Center for PTSD; public domain. Weathers, F.W., Litz, B.T., Keane, T.M., Palmieri, P.A., Marx, B.P., & Schnurr, P.P. (2013). The PTSD Checklist for DSM-5 (PCL-5) – Standard [Measurement instrument]. Available from www.ptsd.va.gov. LOINC codes are available at no cost under the license at http://loinc.org/license.",
    citation: "Weathers FW, Litz BT, Keane TM, Palmieri PA, Marx BP, Schnurr PP (2013). The PTSD Checklist for DSM-5 (PCL-5). National Center for PTSD. Blevins CA et al., J Trauma Stress 2015;28:489-498.",
};

// ---------------------------------------------------------------------------------
// C-SSRS screener (instruments.md §5): construct labels only, never item wording.
// ---------------------------------------------------------------------------------

const fn yes_no(label: &'static str, loinc: &'static str, construct: &'static str, required: bool) -> ItemDef {
    ItemDef {
        label,
        loinc: Some(loinc),
        text: ItemText::ConstructLabel(construct),
        answer: AnswerKind::YesNo,
        options: YES_NO,
        scored: false,
        required,
    }
}

const CSSRS_ITEMS: &[ItemDef] = &[
    yes_no("1", "93246-7", "Wish to be dead", true),
    yes_no("2", "93247-5", "Non-specific active suicidal thoughts", true),
    yes_no("3", "93248-3", "Active suicidal ideation with any methods (not plan) without intent to act", false),
    yes_no("4", "93249-1", "Active suicidal ideation with some intent to act, without specific plan", false),
    yes_no("5", "93250-9", "Active suicidal ideation with specific plan and intent", false),
    yes_no(
        "6",
        "93267-3",
        "Suicidal behaviour (any act, start of an act, or preparation to end one's life; lifetime)",
        true,
    ),
    yes_no("6b", "93269-9", "Suicidal behaviour within the past 3 months", false),
];

pub static CSSRS_SCREENER: InstrumentDef = InstrumentDef {
    instrument: Instrument::CssrsScreener,
    name: "Columbia-Suicide Severity Rating Scale, Screener (recent)",
    abbreviation: "C-SSRS",
    respondent: Respondent::ClinicianOrPatient,
    recall: "ideation: past month; behaviour: lifetime and past 3 months",
    // The stem is licensed wording too; a licensed clinic loads it as an override.
    stem: None,
    items: CSSRS_ITEMS,
    loinc_panel: Some("93373-9"),
    loinc_total: Some("93374-7"),
    total_range: None,
    text_licence: TextLicence::ConstructLabelsOnly,
    copyright: "C-SSRS © The Research Foundation for Mental Hygiene, Inc. Item wording is not included; electronic use of the wording requires a licence (exclusive electronic licensee: eResearch Technology, Inc., a Clario company). Construct labels from LOINC answer list LL5434-7; LOINC codes are available at no cost under the license at http://loinc.org/license.",
    citation: "Posner K et al. The Columbia-Suicide Severity Rating Scale. Am J Psychiatry 2011;168:1266-1277.",
};

// ---------------------------------------------------------------------------------
// CADSS-23 and CADSS-6 (instruments.md §6): structure only.
// ---------------------------------------------------------------------------------

const fn cadss(label: &'static str, construct: &'static str) -> ItemDef {
    ItemDef {
        label,
        loinc: None,
        text: ItemText::ConstructLabel(construct),
        answer: AnswerKind::Ordinal { min: 0, max: 4 },
        options: CADSS_0_4,
        scored: true,
        required: true,
    }
}

/// Item labels are the CADSS item numbers; the construct of each item was not
/// retrieved (instruments.md §14), so the label is just the number.
const CADSS23_ITEMS: &[ItemDef] = &[
    cadss("1", "CADSS item 1"),
    cadss("2", "CADSS item 2"),
    cadss("3", "CADSS item 3"),
    cadss("4", "CADSS item 4"),
    cadss("5", "CADSS item 5"),
    cadss("6", "CADSS item 6"),
    cadss("7", "CADSS item 7"),
    cadss("8", "CADSS item 8"),
    cadss("9", "CADSS item 9"),
    cadss("10", "CADSS item 10"),
    cadss("11", "CADSS item 11"),
    cadss("12", "CADSS item 12"),
    cadss("13", "CADSS item 13"),
    cadss("14", "CADSS item 14"),
    cadss("15", "CADSS item 15"),
    cadss("16", "CADSS item 16"),
    cadss("17", "CADSS item 17"),
    cadss("18", "CADSS item 18"),
    cadss("19", "CADSS item 19"),
    cadss("20", "CADSS item 20"),
    cadss("21", "CADSS item 21"),
    cadss("22", "CADSS item 22"),
    cadss("23", "CADSS item 23"),
];

/// CADSS-6 keeps the CADSS-23 numbering of its items (1, 2, 6, 7, 15, 22; §6.2), so an
/// override file for the CADSS-23 can be reused and the two forms stay comparable.
const CADSS6_ITEMS: &[ItemDef] = &[
    cadss("1", "CADSS item 1"),
    cadss("2", "CADSS item 2"),
    cadss("6", "CADSS item 6"),
    cadss("7", "CADSS item 7"),
    cadss("15", "CADSS item 15"),
    cadss("22", "CADSS item 22"),
];

const CADSS_NOTICE: &str = "CADSS © J. Douglas Bremner; reuse terms not confirmed. Item wording is not included; clinics supply their own licensed text.";

pub static CADSS23: InstrumentDef = InstrumentDef {
    instrument: Instrument::Cadss23,
    name: "Clinician-Administered Dissociative States Scale (23 subjective items)",
    abbreviation: "CADSS",
    respondent: Respondent::Clinician,
    recall: "present state (at this time)",
    stem: None,
    items: CADSS23_ITEMS,
    loinc_panel: None,
    loinc_total: None,
    total_range: Some((0, 92)),
    text_licence: TextLicence::ConstructLabelsOnly,
    copyright: CADSS_NOTICE,
    citation: "Bremner JD, Krystal JH, Putnam FW et al. Measurement of dissociative states with the CADSS. J Trauma Stress 1998;11:125-136.",
};

pub static CADSS6: InstrumentDef = InstrumentDef {
    instrument: Instrument::Cadss6,
    name: "Clinician-Administered Dissociative States Scale, 6-item short form",
    abbreviation: "CADSS-6",
    respondent: Respondent::Clinician,
    recall: "present state (at this time)",
    stem: None,
    items: CADSS6_ITEMS,
    loinc_panel: None,
    loinc_total: None,
    total_range: Some((0, 24)),
    text_licence: TextLicence::ConstructLabelsOnly,
    copyright: CADSS_NOTICE,
    citation: "Rodrigues NB, McIntyre RS, Lipsitz O et al. A simplified 6-item CADSS (CADSS-6). J Affect Disord 2021;282:160-164.",
};

// ---------------------------------------------------------------------------------
// MOAA/S (instruments.md §7): paraphrased anchors, 0–5 version pinned.
// ---------------------------------------------------------------------------------

const MOAAS_OPTIONS: &[AnswerOption] = &[
    AnswerOption { value: 0, display: "No response after a painful trapezius squeeze", loinc_answers: &[] },
    AnswerOption { value: 1, display: "Responds only after a painful trapezius squeeze", loinc_answers: &[] },
    AnswerOption { value: 2, display: "Responds only after mild prodding or shaking", loinc_answers: &[] },
    AnswerOption {
        value: 3,
        display: "Responds only after name is called loudly and/or repeatedly",
        loinc_answers: &[],
    },
    AnswerOption { value: 4, display: "Lethargic response to name spoken in a normal tone", loinc_answers: &[] },
    AnswerOption { value: 5, display: "Responds readily to name spoken in a normal tone (alert)", loinc_answers: &[] },
];

const MOAAS_ITEMS: &[ItemDef] = &[ItemDef {
    label: "1",
    loinc: None,
    text: ItemText::Paraphrased("Responsiveness"),
    answer: AnswerKind::Ordinal { min: 0, max: 5 },
    options: MOAAS_OPTIONS,
    scored: true,
    required: true,
}];

pub static MOAAS: InstrumentDef = InstrumentDef {
    instrument: Instrument::Moaas,
    name: "Modified Observer's Assessment of Alertness/Sedation",
    abbreviation: "MOAA/S",
    respondent: Respondent::Observer,
    recall: "now",
    stem: None,
    items: MOAAS_ITEMS,
    loinc_panel: None,
    loinc_total: None,
    total_range: Some((0, 5)),
    text_licence: TextLicence::Paraphrased,
    copyright: "MOAA/S: Chernik DA et al. 1990; reuse terms not confirmed. Anchors are paraphrased.",
    citation: "Chernik DA et al. Validity and reliability of the Observer's Assessment of Alertness/Sedation Scale. J Clin Psychopharmacol 1990;10:244-251.",
};

// ---------------------------------------------------------------------------------
// Modified Aldrete (instruments.md §10): paraphrased anchors.
// ---------------------------------------------------------------------------------

const fn aldrete(label: &'static str, criterion: &'static str, options: &'static [AnswerOption]) -> ItemDef {
    ItemDef {
        label,
        loinc: None,
        text: ItemText::Paraphrased(criterion),
        answer: AnswerKind::Ordinal { min: 0, max: 2 },
        options,
        scored: true,
        required: true,
    }
}

const fn opt(value: u8, display: &'static str) -> AnswerOption {
    AnswerOption { value, display, loinc_answers: &[] }
}

const ALDRETE_ITEMS: &[ItemDef] = &[
    aldrete(
        "activity",
        "Activity",
        &[
            opt(0, "Moves no extremities"),
            opt(1, "Moves 2 extremities"),
            opt(2, "Moves 4 extremities voluntarily or on command"),
        ],
    ),
    aldrete(
        "respiration",
        "Respiration",
        &[opt(0, "Apnoeic"), opt(1, "Dyspnoea or limited breathing"), opt(2, "Breathes deeply and coughs freely")],
    ),
    aldrete(
        "circulation",
        "Circulation (blood pressure vs pre-anaesthetic level)",
        &[opt(0, "Differs by 50% or more"), opt(1, "Differs by 20–49%"), opt(2, "Within ±20%")],
    ),
    aldrete(
        "consciousness",
        "Consciousness",
        &[opt(0, "Not responding"), opt(1, "Arousable on calling"), opt(2, "Fully awake")],
    ),
    aldrete(
        "oxygen_saturation",
        "O₂ saturation",
        &[
            opt(0, "SpO₂ < 90% even with O₂"),
            opt(1, "Needs O₂ to keep SpO₂ > 90%"),
            opt(2, "Maintains SpO₂ > 92% on room air"),
        ],
    ),
];

pub static MODIFIED_ALDRETE: InstrumentDef = InstrumentDef {
    instrument: Instrument::ModifiedAldrete,
    name: "Modified Aldrete score (1995)",
    abbreviation: "Aldrete",
    respondent: Respondent::Observer,
    recall: "now",
    stem: None,
    items: ALDRETE_ITEMS,
    loinc_panel: None,
    loinc_total: None,
    total_range: Some((0, 10)),
    text_licence: TextLicence::Paraphrased,
    copyright: "Modified Aldrete score: Aldrete JA 1995; no stated reuse terms. Anchors are paraphrased.",
    citation: "Aldrete JA. The post-anesthesia recovery score revisited. J Clin Anesth 1995;7:89-91.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_counts_and_ranges_match_the_spec() {
        // instruments.md §0 quick reference.
        let expect = [
            (Instrument::Phq9, 9, 3, Some((0, 27))),
            (Instrument::Gad7, 7, 3, Some((0, 21))),
            (Instrument::Pcl5, 20, 4, Some((0, 80))),
            (Instrument::Cadss23, 23, 4, Some((0, 92))),
            (Instrument::Cadss6, 6, 4, Some((0, 24))),
            (Instrument::Moaas, 1, 5, Some((0, 5))),
            (Instrument::ModifiedAldrete, 5, 2, Some((0, 10))),
        ];
        for (instrument, n, max, range) in expect {
            let def = instrument.def();
            assert_eq!(def.instrument, instrument);
            assert_eq!(def.scored_items().count(), n, "{instrument}");
            for (_, item) in def.scored_items() {
                assert_eq!(item.answer.max(), max, "{instrument} item {}", item.label);
            }
            let summed_max: u32 = def.scored_items().map(|(_, i)| u32::from(i.answer.max())).sum();
            assert_eq!(Some((0u8, summed_max as u8)), range, "{instrument}");
            assert_eq!(def.total_range, range);
        }
        assert_eq!(Instrument::CssrsScreener.def().items.len(), 7);
    }

    #[test]
    fn options_cover_every_value_of_every_item() {
        for instrument in Instrument::ALL {
            for item in instrument.def().items {
                let values: Vec<u8> = item.options.iter().map(|o| o.value).collect();
                let expected: Vec<u8> = (item.answer.min()..=item.answer.max()).collect();
                assert_eq!(values, expected, "{instrument} item {}", item.label);
            }
        }
    }

    #[test]
    fn licensed_instruments_ship_no_verbatim_text() {
        for instrument in [Instrument::CssrsScreener, Instrument::Cadss23, Instrument::Cadss6] {
            let def = instrument.def();
            assert_eq!(def.text_licence, TextLicence::ConstructLabelsOnly);
            assert!(def.stem.is_none());
            for item in def.items {
                assert!(matches!(item.text, ItemText::ConstructLabel(_)), "{instrument} item {}", item.label);
            }
        }
    }

    #[test]
    fn loinc_codes_match_the_spec() {
        assert_eq!(PHQ9.loinc_panel, Some("44249-1"));
        assert_eq!(PHQ9.loinc_total, Some("44261-6"));
        assert_eq!(PHQ9.items[8].loinc, Some("44260-8"));
        assert_eq!(GAD7.loinc_panel, Some("69737-5"));
        assert_eq!(GAD7.loinc_total, Some("70274-6"));
        assert_eq!(PCL5.loinc_panel, Some("101697-1"));
        assert_eq!(PCL5.loinc_total, Some("101698-9"));
        assert_eq!(CSSRS_SCREENER.loinc_panel, Some("93373-9"));
        assert_eq!(CSSRS_SCREENER.loinc_total, Some("93374-7"));
        assert!(GAD7.items[1].options[2].loinc_answers.contains(&"LA18938-3"));
    }

    #[test]
    fn overrides_replace_labels_and_reject_unknown_items() {
        let mut o = ItemTextOverrides::new();
        let item = &CSSRS_SCREENER.items[6];
        assert_eq!(o.item_text(Instrument::CssrsScreener, item), item.text.as_str());
        o.set_item(Instrument::CssrsScreener, "6b", "Licensed wording").unwrap();
        assert_eq!(o.item_text(Instrument::CssrsScreener, item), "Licensed wording");
        assert!(o.set_item(Instrument::CssrsScreener, "7", "x").is_err());
        assert_eq!(o.set_item(Instrument::CssrsScreener, "1", "  "), Err(OverrideError::Empty));
        assert_eq!(o.stem(Instrument::CssrsScreener), None);
        o.set_stem(Instrument::CssrsScreener, "Licensed stem").unwrap();
        assert_eq!(o.stem(Instrument::CssrsScreener), Some("Licensed stem"));
        assert_eq!(o.stem(Instrument::Phq9), PHQ9.stem);
    }
}
