//! A wrapper for protected health information whose `Debug` never shows the value.
//!
//! Logs are written with `{:?}` more often than anyone intends; wrapping every PHI value
//! in `Phi` makes an accidental log line say `[redacted]` instead of a patient's name.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phi<T>(T);

impl<T> Phi<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself, for rendering to an authorised person or storing.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Phi<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let name = Phi::new("Ada Lovelace".to_string());
        let shown = format!("{name:?} {:#?}", Some(&name));
        assert!(!shown.contains("Ada"), "{shown}");
        assert_eq!(name.expose(), "Ada Lovelace");
    }
}
