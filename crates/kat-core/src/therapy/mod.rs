//! The psychotherapy side of KAT (clinical reference §6): therapy notes with their
//! lock-and-addend lifecycle (PSY-007), private process notes, the safety and coping
//! plan, the care team, program structure generation (PSY-002, PSY-006, DOSE-IV-008),
//! the patient timeline and each role's worklist.
//!
//! Everything here is pure: dates and times come in as arguments.

pub mod care_team;
pub mod note;
pub mod process;
pub mod safety_plan;
pub mod schedule;
pub mod timeline;
pub mod worklist;

/// Trims, bounds and checks free text; empty means absent.
pub(crate) fn optional_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err("contains control characters".into());
    }
    Ok(Some(text.replace("\r\n", "\n")))
}

/// Comma- or newline-separated tags: trimmed, de-duplicated (case-insensitively), at
/// most 20 of at most 40 characters each.
pub(crate) fn tags(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for t in raw.split([',', '\n']) {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 40 {
            return Err(format!("tag `{}…` is longer than 40 characters", t.chars().take(20).collect::<String>()));
        }
        if t.chars().any(char::is_control) {
            return Err("contains control characters".into());
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_string());
        }
    }
    if out.len() > 20 {
        return Err("at most 20 tags".into());
    }
    Ok(out)
}
