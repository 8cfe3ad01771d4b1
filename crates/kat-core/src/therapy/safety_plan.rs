//! The safety and coping plan (Stanley–Brown structure), versioned: a change is a new
//! version, earlier versions stay readable. SUI-003: the plan is what is activated on a
//! positive risk screen, so the patient can read the current one on a phone.

use super::optional_text;
use crate::field::FieldErrors;
use crate::ids::{PatientId, SafetyPlanId, UserId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The US crisis line named by SUI-003, offered when a first plan is written.
pub const CRISIS_LINE_US: &str = "988 Suicide & Crisis Lifeline: call or text 988";

/// The sections of the plan, in the order the patient reads them.
pub const SECTIONS: [(&str, &str); 6] = [
    ("warning_signs", "Warning signs that a crisis may be developing"),
    ("coping_strategies", "Things I can do on my own to take my mind off my problems"),
    ("distractions", "People and social places that help distract me"),
    ("help_contacts", "People I can ask for help"),
    ("professionals", "Professionals and crisis lines I can contact"),
    ("safe_environment", "Making my environment safe"),
];

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SafetyPlanContent {
    pub warning_signs: Vec<String>,
    pub coping_strategies: Vec<String>,
    pub distractions: Vec<String>,
    pub help_contacts: Vec<String>,
    pub professionals: Vec<String>,
    pub safe_environment: Vec<String>,
}

impl fmt::Debug for SafetyPlanContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SafetyPlanContent([redacted])")
    }
}

impl SafetyPlanContent {
    pub fn section(&self, name: &str) -> &[String] {
        match name {
            "warning_signs" => &self.warning_signs,
            "coping_strategies" => &self.coping_strategies,
            "distractions" => &self.distractions,
            "help_contacts" => &self.help_contacts,
            "professionals" => &self.professionals,
            "safe_environment" => &self.safe_environment,
            _ => &[],
        }
    }

    pub fn to_form(&self) -> SafetyPlanForm {
        let j = |v: &Vec<String>| v.join("\n");
        SafetyPlanForm {
            warning_signs: j(&self.warning_signs),
            coping_strategies: j(&self.coping_strategies),
            distractions: j(&self.distractions),
            help_contacts: j(&self.help_contacts),
            professionals: j(&self.professionals),
            safe_environment: j(&self.safe_environment),
        }
    }
}

/// The plan as typed: one item per line in each section.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SafetyPlanForm {
    pub warning_signs: String,
    pub coping_strategies: String,
    pub distractions: String,
    pub help_contacts: String,
    pub professionals: String,
    pub safe_environment: String,
}

impl SafetyPlanForm {
    /// A blank plan for a first version, offering the crisis line (SUI-003).
    pub fn first() -> Self {
        Self { professionals: CRISIS_LINE_US.into(), ..Default::default() }
    }

    pub fn parse(&self) -> Result<SafetyPlanContent, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut lines = |name: &str, raw: &str| -> Vec<String> {
            let mut out = Vec::new();
            for line in raw.lines() {
                match optional_text(line, 300) {
                    Ok(Some(l)) => out.push(l),
                    Ok(None) => {}
                    Err(m) => e.add(name, format!("a line {m}")),
                }
            }
            if out.len() > 30 {
                e.add(name, "has more than 30 lines");
            }
            out
        };
        let c = SafetyPlanContent {
            warning_signs: lines("warning_signs", &self.warning_signs),
            coping_strategies: lines("coping_strategies", &self.coping_strategies),
            distractions: lines("distractions", &self.distractions),
            help_contacts: lines("help_contacts", &self.help_contacts),
            professionals: lines("professionals", &self.professionals),
            safe_environment: lines("safe_environment", &self.safe_environment),
        };
        if e.is_empty() && SECTIONS.iter().all(|(n, _)| c.section(n).is_empty()) {
            e.add("warning_signs", "the plan is empty; fill in at least one section");
        }
        e.into_result(|| c)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyPlan {
    pub id: SafetyPlanId,
    pub patient_id: PatientId,
    /// 1, 2, 3… per patient.
    pub version: i64,
    pub content: SafetyPlanContent,
    pub author: UserId,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_items_and_empty_plans_are_refused() {
        let form = SafetyPlanForm { warning_signs: "Not sleeping\n\n  Isolating  ".into(), ..SafetyPlanForm::first() };
        let c = form.parse().unwrap();
        assert_eq!(c.warning_signs, vec!["Not sleeping", "Isolating"]);
        assert_eq!(c.professionals, vec![CRISIS_LINE_US]);
        assert_eq!(c.to_form().parse().unwrap(), c);
        assert!(SafetyPlanForm::default().parse().is_err());
    }
}
