//! Field-level validation errors, shared by every boundary.
//!
//! A boundary parses a whole input at once and reports every bad field, so a form can
//! be re-rendered with all its messages and an API answers one entry per field.

use serde::Serialize;
use std::fmt;

/// One rejected field: its name as the boundary spells it, and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every rejected field of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), message: message.into() });
    }

    /// Records the error of a parse under `field` and returns the value if there was one.
    pub fn take<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }

    /// The first message recorded for `field`, for rendering next to a form input.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// `Ok(value)` when nothing was recorded, else the errors.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.is_empty() { Ok(value()) } else { Err(self) }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_records_errors_under_the_field_name() {
        let mut errors = FieldErrors::new();
        let ok: Option<u8> = errors.take("a", "7".parse::<u8>());
        let bad: Option<u8> = errors.take("b", "x".parse::<u8>());
        assert_eq!(ok, Some(7));
        assert_eq!(bad, None);
        assert_eq!(errors.iter().count(), 1);
        assert!(errors.for_field("b").is_some());
        assert!(errors.for_field("a").is_none());
        assert!(errors.into_result(|| ()).is_err());
    }
}
