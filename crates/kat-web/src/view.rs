//! Page templates (askama, compiled into the binary), view models, static files and
//! display helpers. Times are shown in the clinic's time zone.

use crate::AppState;
use crate::middleware::Principal;
use askama::Template;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use kat_core::FieldErrors;
use kat_core::role::Role;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const HTMX_PATH: &str = "/static/htmx-2.0.11.min.js";

/// Renders a template, or a plain error page if the template itself fails.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page could not be rendered").into_response()
        }
    }
}

/// Percent-encodes a value for a query string.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The "previous / next" links of a page of a list.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    pub page: u32,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// Links for `page`, each built by `href` from a page number.
    pub fn new<T>(page: &kat_core::page::Page<T>, href: impl Fn(u32) -> String) -> Self {
        Self {
            page: page.page,
            previous: page.has_previous().then(|| href(page.page - 1)),
            next: page.has_next.then(|| href(page.page + 1)),
        }
    }

    pub fn is_needed(&self) -> bool {
        self.previous.is_some() || self.next.is_some()
    }

    /// The RFC 8288 `Link` header value of the API (`rel="prev"`, `rel="next"`), if any.
    pub fn link_header(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(p) = &self.previous {
            parts.push(format!("<{p}>; rel=\"prev\""));
        }
        if let Some(n) = &self.next {
            parts.push(format!("<{n}>; rel=\"next\""));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// `2026-11-22 09:15` in the clinic's zone.
pub fn local_time(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
}

/// Rewrites each RFC 3339 time in `text` (the core writes UTC times into its messages,
/// for example "until 2026-03-10T15:40:00Z.") as the clinic's local time.
pub fn localize_times(text: &str, tz: &TimeZone) -> String {
    text.split(' ')
        .map(|word| {
            let core = word.trim_start_matches('(').trim_end_matches(['.', ',', ';', ':', ')']);
            match core.parse::<Timestamp>() {
                Ok(t) if core.contains('T') => word.replacen(core, &local_time(t, tz), 1),
                _ => word.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `2026-11-22 09:15:07 EST`, for the audit log.
pub fn local_time_precise(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S %Z").to_string()
}

/// What every page's frame shows.
pub struct Layout {
    pub clinic_name: String,
    pub demo: bool,
    pub user: Option<UserView>,
    /// Which navigation entry is current.
    pub section: &'static str,
    pub version: &'static str,
    pub htmx: &'static str,
    pub time_zone: String,
    /// Open same-day suicide-risk reviews, shown as a banner to clinical staff.
    pub same_day_open: i64,
    /// Unacknowledged safety alerts for the banner (-1: could not be counted).
    pub safety_alerts: i64,
    /// The clinic-wide banners (other patients' reviews and alerts) as one compact line:
    /// on a page whose own patient's alarms come first (the dosing session).
    pub compact_banners: bool,
}

pub struct UserView {
    pub display_name: String,
    pub role_label: &'static str,
    pub is_admin: bool,
    pub is_clinical: bool,
    /// An admin's reset is pending: only the change-password page is open, so the
    /// navigation is not shown.
    pub must_change_password: bool,
    /// Only one page is open (a password to change, two-step sign-in to set up): the
    /// navigation is not shown.
    pub restricted: bool,
}

impl Layout {
    pub fn new(state: &AppState, principal: Option<&Principal>, section: &'static str) -> Self {
        Self {
            clinic_name: state.config.clinic_name.clone(),
            demo: state.config.demo,
            user: principal.map(|p| UserView {
                display_name: p.user.display_name.clone(),
                role_label: p.user.role.label(),
                is_admin: p.user.role == Role::Admin,
                is_clinical: p.user.role.is_clinical(),
                must_change_password: p.user.must_change_password,
                restricted: p.user.must_change_password || p.must_enrol_mfa,
            }),
            section,
            version: VERSION,
            htmx: HTMX_PATH,
            time_zone: state.config.time_zone.iana_name().unwrap_or("UTC").to_string(),
            same_day_open: principal.map(|p| p.same_day_open).unwrap_or(0),
            safety_alerts: principal.map(|p| p.open_safety_alerts).unwrap_or(0),
            compact_banners: false,
        }
    }

    /// Shows the clinic-wide banners as one compact line (see `compact_banners`).
    pub fn compact_banners(mut self) -> Self {
        self.compact_banners = true;
        self
    }
}

/// One input of a form, with its current value and its error.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub required: bool,
    pub autocomplete: &'static str,
    pub options: Vec<(&'static str, &'static str)>,
}

impl FieldView {
    pub fn text(name: &'static str, label: &'static str, value: &str, errors: &FieldErrors) -> Self {
        Self {
            name,
            label,
            hint: "",
            kind: "text",
            value: value.to_string(),
            error: errors.for_field(name).map(str::to_string),
            required: false,
            autocomplete: "off",
            options: Vec::new(),
        }
    }
    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }
    pub fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn autocomplete(mut self, ac: &'static str) -> Self {
        self.autocomplete = ac;
        self
    }
    pub fn options(mut self, options: Vec<(&'static str, &'static str)>) -> Self {
        self.kind = "select";
        self.options = options;
        self
    }
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

pub struct FieldsetView {
    pub legend: &'static str,
    pub fields: Vec<FieldView>,
}

/// What a clinician off a patient's care team sees instead of the record: the reason
/// form that breaks the glass (issue 12 item 1).
#[derive(Template)]
#[template(path = "break_glass.html")]
pub struct BreakGlassPage {
    pub patient: String,
    /// The page to return to once the glass is broken (a path on this server).
    pub next: String,
    pub request_id: Option<String>,
    /// The reason typed, kept when it was refused.
    pub reason: String,
    pub error: Option<String>,
    /// The confirmation was missing or wrong (kat_app::reauth).
    pub reauth_error: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: &'static str,
    pub message: String,
    pub request_id: Option<String>,
}

struct StaticFile {
    bytes: &'static [u8],
    content_type: &'static str,
}

fn static_asset(path: &str) -> Option<StaticFile> {
    Some(match path {
        "htmx-2.0.11.min.js" => StaticFile {
            bytes: include_bytes!("../static/htmx-2.0.11.min.js"),
            content_type: "text/javascript; charset=utf-8",
        },
        "kat.css" => StaticFile { bytes: include_bytes!("../static/kat.css"), content_type: "text/css; charset=utf-8" },
        "kat.js" => {
            StaticFile { bytes: include_bytes!("../static/kat.js"), content_type: "text/javascript; charset=utf-8" }
        }
        _ => return None,
    })
}

/// Serves the vendored static files from inside the binary (same origin, no CDN).
pub async fn static_file(Path(path): Path<String>) -> Response {
    match static_asset(&path) {
        Some(file) => {
            let mut r = file.bytes.into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(file.content_type));
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            r
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_times_in_messages_become_clinic_time() {
        let tz = jiff::tz::TimeZone::get("America/Chicago").unwrap();
        assert_eq!(
            super::localize_times(
                "Observe until 2026-03-10T15:40:11.27Z. Earliest dosing at (2026-03-10T20:00:00Z).",
                &tz
            ),
            "Observe until 2026-03-10 10:40. Earliest dosing at (2026-03-10 15:00)."
        );
        assert_eq!(super::localize_times("BP 150/90, no time here", &tz), "BP 150/90, no time here");
    }
}

/// A form field's name as a clinician reads it, for error summaries: never the raw key
/// (`override_reason` → "Override reason", `dose_mg` → "Dose (mg)").
pub fn field_label(key: &str) -> String {
    let known = [
        ("dose_mg", "Dose (mg)"),
        ("dose_mg_per_kg", "Dose (mg/kg)"),
        ("rate_ml_per_h", "Pump rate (mL/h)"),
        ("weight_kg", "Weight (kg)"),
        ("concentration_mg_per_ml", "Concentration (mg/mL)"),
        ("infusion_minutes", "Infusion time (minutes)"),
        ("interval_days", "Days between sessions"),
        ("at", "Time"),
        ("kind", "Step"),
        ("spo2", "SpO2"),
        ("moaas", "MOAA/S"),
        ("vitals_at", "Taken at"),
        ("transfer_reason", "Transfer: reason"),
        ("transfer_confirm", "Transfer: confirmation"),
        ("transfer_at", "Transfer: time"),
        ("rems_ready_to_leave_minutes", "REMS: ready to leave after (minutes)"),
        ("rems_submitted", "REMS form"),
    ];
    if let Some((_, label)) = known.iter().find(|(k, _)| *k == key) {
        return (*label).to_string();
    }
    let words = key.replace(['_', '.'], " ");
    let mut chars = words.trim().chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod field_label_tests {
    #[test]
    fn raw_keys_become_words() {
        assert_eq!(super::field_label("override_reason"), "Override reason");
        assert_eq!(super::field_label("dose_mg"), "Dose (mg)");
        assert_eq!(super::field_label("checklist.blood_pressure"), "Checklist blood pressure");
    }
}
