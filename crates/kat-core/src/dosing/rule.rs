//! Spec rule identifiers carried by every finding.
//!
//! A clinician who sees "hard limit" must be able to look up why; every warning, limit,
//! gate finding and alarm therefore names the `clinical.md` rule it enforces.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A rule ID from `shared/spec/clinical.md` (for example `DOSE-IV-002`), or one passed
/// through from another module's finding (for example an interaction rule `DDI-003`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RuleId(Cow<'static, str>);

impl RuleId {
    /// A rule ID written in this crate's source, usable in constants.
    pub const fn spec(id: &'static str) -> Self {
        Self(Cow::Borrowed(id))
    }

    /// A rule ID that arrives at run time, for example from the interaction screen.
    pub fn owned(id: impl Into<String>) -> Self {
        Self(Cow::Owned(id.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
