//! Adverse events (clinical.md §5): the CTCAE v5.0 term, grade, onset and resolution,
//! seriousness criteria, relatedness, action taken and outcome; and the form that parses
//! into one with per-field errors.

use crate::field::FieldErrors;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The CTCAE v5.0 general grade, 1–5 (§5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct CtcaeGrade(u8);

impl CtcaeGrade {
    pub fn get(self) -> u8 {
        self.0
    }
    /// The CTCAE v5.0 general definition, for the screen.
    pub fn definition(self) -> &'static str {
        match self.0 {
            1 => "Mild; asymptomatic or mild symptoms; intervention not indicated",
            2 => "Moderate; minimal, local or noninvasive intervention indicated",
            3 => "Severe or medically significant but not immediately life-threatening",
            4 => "Life-threatening consequences; urgent intervention indicated",
            _ => "Death related to AE",
        }
    }
}

impl TryFrom<u8> for CtcaeGrade {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        if (1..=5).contains(&v) { Ok(Self(v)) } else { Err("a CTCAE grade is 1 to 5".into()) }
    }
}

impl From<CtcaeGrade> for u8 {
    fn from(g: CtcaeGrade) -> u8 {
        g.0
    }
}

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|x| x.as_str() == raw.trim())
            }
        }
    };
}

named_enum!(
    /// SAE criteria (§5.2).
    SeriousCriterion {
        Death = "death",
        LifeThreatening = "life_threatening",
        Hospitalization = "hospitalization",
        Disability = "disability",
        CongenitalAnomaly = "congenital_anomaly",
        OtherImportantMedicalEvent = "other_important_medical_event",
    }
);

named_enum!(
    /// How likely the drug caused the event.
    Relatedness {
        Unrelated = "unrelated",
        Unlikely = "unlikely",
        Possible = "possible",
        Probable = "probable",
        Definite = "definite",
    }
);

named_enum!(
    /// How the event ended (or not yet).
    AeOutcome {
        Recovered = "recovered",
        Recovering = "recovering",
        NotRecovered = "not_recovered",
        RecoveredWithSequelae = "recovered_with_sequelae",
        Fatal = "fatal",
        Unknown = "unknown",
    }
);

/// One adverse event of a dosing session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdverseEvent {
    /// The CTCAE term, for example "Hypertension" or "Nausea".
    pub term: String,
    /// The catalogue entry of §5.1 when it is one (`AE-001`..`AE-019`).
    pub catalogue: Option<String>,
    pub grade: CtcaeGrade,
    pub onset: Timestamp,
    pub resolved: Option<Timestamp>,
    /// Empty = not serious.
    pub serious: Vec<SeriousCriterion>,
    pub relatedness: Relatedness,
    pub action_taken: String,
    pub outcome: AeOutcome,
}

impl AdverseEvent {
    pub fn is_serious(&self) -> bool {
        !self.serious.is_empty()
    }
}

/// The adverse-event form as typed (every field text).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdverseEventForm {
    pub term: String,
    pub catalogue: String,
    pub grade: String,
    pub onset: String,
    pub resolved: String,
    /// Comma-separated SAE criteria, or empty.
    pub serious: String,
    pub relatedness: String,
    pub action_taken: String,
    pub outcome: String,
}

fn time(e: &mut FieldErrors, name: &str, raw: &str, now: Timestamp) -> Option<Timestamp> {
    match raw.trim().parse::<Timestamp>() {
        Ok(t) if t <= now => Some(t),
        Ok(_) => {
            e.add(name, "cannot be in the future");
            None
        }
        Err(_) => {
            e.add(name, "a time (RFC 3339)");
            None
        }
    }
}

impl AdverseEventForm {
    /// Parses the form at `now`; every problem is reported on its field.
    pub fn parse(&self, now: Timestamp) -> Result<AdverseEvent, FieldErrors> {
        let mut e = FieldErrors::new();
        let term = self.term.trim().to_string();
        if term.is_empty() {
            e.add("term", "the CTCAE term is required");
        }
        let catalogue = match self.catalogue.trim() {
            "" => None,
            c if c.strip_prefix("AE-").and_then(|n| n.parse::<u8>().ok()).is_some_and(|n| (1..=19).contains(&n)) => {
                Some(c.to_string())
            }
            _ => {
                e.add("catalogue", "AE-001 to AE-019, or empty");
                None
            }
        };
        let grade = match self.grade.trim().parse::<u8>().ok().map(CtcaeGrade::try_from) {
            Some(Ok(g)) => Some(g),
            _ => {
                e.add("grade", "a CTCAE grade, 1 to 5");
                None
            }
        };
        let onset = time(&mut e, "onset", &self.onset, now);
        let resolved =
            if self.resolved.trim().is_empty() { None } else { time(&mut e, "resolved", &self.resolved, now) };
        if let (Some(o), Some(r)) = (onset, resolved)
            && r < o
        {
            e.add("resolved", "cannot be before the onset");
        }
        let mut serious = Vec::new();
        for part in self.serious.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match SeriousCriterion::parse(part) {
                Some(c) if !serious.contains(&c) => serious.push(c),
                Some(_) => {}
                None => e.add("serious", format!("`{part}` is not an SAE criterion")),
            }
        }
        let relatedness = Relatedness::parse(&self.relatedness);
        if relatedness.is_none() {
            e.add("relatedness", "unrelated, unlikely, possible, probable or definite");
        }
        let action_taken = self.action_taken.trim().to_string();
        if action_taken.is_empty() {
            e.add("action_taken", "is required (write \"none\" if nothing was done)");
        }
        let outcome = AeOutcome::parse(&self.outcome);
        if outcome.is_none() {
            e.add("outcome", "recovered, recovering, not_recovered, recovered_with_sequelae, fatal or unknown");
        }
        // Grade 5 is death: it is fatal and serious (death).
        if grade.is_some_and(|g| g.get() == 5)
            && (outcome != Some(AeOutcome::Fatal) || !serious.contains(&SeriousCriterion::Death))
        {
            e.add("grade", "grade 5 is death: the outcome is fatal and the event serious (death)");
        }
        if outcome == Some(AeOutcome::Recovered) && resolved.is_none() && onset.is_some() {
            e.add("resolved", "a recovered event needs its resolution time");
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(AdverseEvent {
            term,
            catalogue,
            grade: grade.expect("checked"),
            onset: onset.expect("checked"),
            resolved,
            serious,
            relatedness: relatedness.expect("checked"),
            action_taken,
            outcome: outcome.expect("checked"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    fn form() -> AdverseEventForm {
        AdverseEventForm {
            term: "Nausea".into(),
            catalogue: "AE-003".into(),
            grade: "1".into(),
            onset: "2026-03-01T11:00:00Z".into(),
            resolved: "2026-03-01T11:30:00Z".into(),
            serious: String::new(),
            relatedness: "probable".into(),
            action_taken: "ondansetron 4 mg IV".into(),
            outcome: "recovered".into(),
        }
    }

    #[test]
    fn a_complete_form_parses() {
        let ae = form().parse(now()).unwrap();
        assert_eq!(ae.grade.get(), 1);
        assert!(!ae.is_serious());
    }

    #[test]
    fn grades_are_one_to_five_and_five_is_death() {
        for (g, ok) in [("0", false), ("1", true), ("4", true), ("6", false), ("x", false)] {
            let f = AdverseEventForm { grade: g.into(), ..form() };
            assert_eq!(f.parse(now()).is_ok(), ok, "{g}");
        }
        let f = AdverseEventForm { grade: "5".into(), ..form() };
        assert!(f.parse(now()).unwrap_err().for_field("grade").is_some());
        let f = AdverseEventForm { grade: "5".into(), outcome: "fatal".into(), serious: "death".into(), ..form() };
        assert!(f.parse(now()).is_ok());
    }

    #[test]
    fn times_are_ordered_and_not_in_the_future() {
        let f = AdverseEventForm { resolved: "2026-03-01T10:00:00Z".into(), ..form() };
        assert!(f.parse(now()).unwrap_err().for_field("resolved").is_some());
        let f = AdverseEventForm { onset: "2026-03-01T13:00:00Z".into(), ..form() };
        assert!(f.parse(now()).unwrap_err().for_field("onset").is_some());
        let f = AdverseEventForm { serious: "hospitalization, bogus".into(), ..form() };
        assert!(f.parse(now()).unwrap_err().for_field("serious").is_some());
    }
}
