//! Two-step sign-in (issue 12 item 2): time-based one-time codes (TOTP, RFC 6238:
//! HMAC-SHA-1, 6 digits, 30-second steps, one step either side accepted for clock
//! drift) and single-use recovery codes. Pure: the random bytes and the time are passed
//! in; the store keeps the secret, the last step accepted and the recovery codes' hashes.
//!
//! Security policy, not a clinical rule: which roles must use it is the clinic's
//! (`[security.mfa] required_roles`, default admins and prescribers).

use crate::role::Role;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::fmt;

/// Seconds per step (RFC 6238 §5.2 recommends 30).
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: u8 = 6;
/// Steps either side of the current one that are accepted (RFC 6238 §5.2: one).
pub const SKEW_STEPS: u16 = 1;
/// Recovery codes made at enrolment.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Secret length in bytes (RFC 4226 §4 recommends 160 bits).
pub const SECRET_BYTES: usize = 20;

/// The shared TOTP secret of an account. Never printed: `Debug` is redacted, and it is
/// only shown to its holder once, at enrolment, to put in an authenticator app.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a valid authenticator secret (base32, at least 128 bits)")]
pub struct BadSecret;

impl TotpSecret {
    /// A secret from fresh random bytes (the caller draws them).
    pub fn from_random(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(bytes.to_vec())
    }

    /// Reads the base32 form (as stored and as typed into an authenticator; spaces and
    /// case ignored); at least 128 bits (RFC 4226 §4).
    pub fn from_base32(text: &str) -> Result<Self, BadSecret> {
        let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let secret = totp_rs::Secret::try_from_base32(cleaned.trim_end_matches('=')).map_err(|_| BadSecret)?;
        let bytes: Vec<u8> = secret.as_ref().to_vec();
        if bytes.len() < 16 {
            return Err(BadSecret);
        }
        Ok(Self(bytes))
    }

    /// The base32 form (unpadded, as authenticator apps take it).
    pub fn to_base32(&self) -> String {
        totp_rs::Secret::from(self.0.clone()).to_base32()
    }

    fn totp(&self, issuer: Option<&str>, account: &str) -> totp_rs::Totp {
        let mut b = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.clone());
        if !account.is_empty() {
            b = b.with_account_name(account.replace(':', "-"));
        }
        if let Some(issuer) = issuer {
            b = b.with_issuer(Some(issuer.replace(':', "-")));
        }
        b.build_noncompliant()
    }

    /// The code an authenticator shows at `at` (for tests and the test harness).
    pub fn code_at(&self, at: Timestamp) -> String {
        self.totp(None, "").generate(unix_seconds(at)).to_string()
    }

    /// The `otpauth://totp/…` URI an authenticator app reads from the QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        self.totp(Some(issuer), account).to_url().unwrap_or_default()
    }
}

fn unix_seconds(at: Timestamp) -> u64 {
    u64::try_from(at.as_second()).unwrap_or(0)
}

/// The step `at` falls in.
pub fn step_at(at: Timestamp) -> i64 {
    at.as_second().div_euclid(STEP_SECONDS as i64)
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefused {
    #[error("must be the 6 digits your authenticator app shows")]
    Malformed,
    #[error("is not the current code; check the time on your phone and try again")]
    Wrong,
    /// Already accepted once (RFC 6238 §5.2: each code is accepted once).
    #[error("has already been used; wait for the next code")]
    Reused,
}

/// Checks a typed code at `now`: accepted if it is the code of the current step or of
/// the step either side, and that step is later than `last_used_step` (a code is
/// accepted once, and never one older than the last accepted). Returns the step matched,
/// which the caller stores as the new last used step.
pub fn verify_code(
    secret: &TotpSecret,
    code: &str,
    now: Timestamp,
    last_used_step: Option<i64>,
) -> Result<i64, CodeRefused> {
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeRefused::Malformed);
    }
    let totp = secret.totp(None, "");
    let origin = step_at(now);
    let skew = i64::from(SKEW_STEPS);
    let matching: Vec<i64> = ((origin - skew)..=(origin + skew))
        .filter(|step| u64::try_from(step * STEP_SECONDS as i64).is_ok_and(|at| totp.generate(at).to_string() == code))
        .collect();
    match matching.iter().find(|step| last_used_step.is_none_or(|last| **step > last)) {
        Some(step) => Ok(*step),
        None if matching.is_empty() => Err(CodeRefused::Wrong),
        None => Err(CodeRefused::Reused),
    }
}

/// A recovery code as shown to its holder once: 10 letters and digits from an
/// unambiguous alphabet (no 0/O, 1/I/L), grouped `xxxxx-xxxxx` (about 50 bits).
pub fn recovery_code_from_random(bytes: [u8; 10]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789-";
    // 31 usable symbols: the last is not a code character; a byte maps by modulo 31.
    let chars: String = bytes.iter().map(|b| ALPHABET[usize::from(*b) % 31] as char).collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// The form a typed recovery code is compared in: lower case, without spaces or dashes.
pub fn normalize_recovery_code(typed: &str) -> String {
    typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// The stored form of a recovery code: SHA-256 of its normalised form, hex (codes carry
/// about 50 random bits and are single-use and throttled like sign-ins).
pub fn hash_recovery_code(code: &str) -> String {
    hex::encode(Sha256::digest(normalize_recovery_code(code).as_bytes()))
}

/// Which roles must sign in with a second step (`[security.mfa] required_roles`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaPolicy {
    pub required_roles: Vec<Role>,
}

impl Default for MfaPolicy {
    fn default() -> Self {
        Self { required_roles: vec![Role::Admin, Role::Prescriber] }
    }
}

impl MfaPolicy {
    /// No role is required to enrol (anyone still may).
    pub fn none_required() -> Self {
        Self { required_roles: Vec::new() }
    }

    pub fn requires(&self, role: Role) -> bool {
        self.required_roles.contains(&role)
    }
}

/// Renders `data` (an otpauth URI) as an inline SVG QR code: plain markup with no
/// script or style attribute, so it shows under a strict Content-Security-Policy.
pub fn qr_svg(data: &str) -> Option<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Drop the XML declaration: the markup goes inside an HTML page.
    let start = svg.find("<svg")?;
    Some(svg[start..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 secret ("12345678901234567890").
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // Appendix B, SHA-1, last 6 of the 8 digits.
        assert_eq!(rfc_secret().code_at(t(59)), "287082");
        assert_eq!(rfc_secret().code_at(t(1_111_111_109)), "081804");
        assert_eq!(rfc_secret().code_at(t(1_234_567_890)), "005924");
        assert_eq!(rfc_secret().code_at(t(2_000_000_000)), "279037");
    }

    #[test]
    fn a_code_one_step_either_side_is_accepted_two_steps_refused() {
        let s = rfc_secret();
        let now = t(1_800_000_015); // inside a step
        let step = step_at(now);
        let code_of = |k: i64| s.code_at(t((step + k) * 30));
        assert_eq!(verify_code(&s, &code_of(0), now, None), Ok(step));
        assert_eq!(verify_code(&s, &code_of(-1), now, None), Ok(step - 1));
        assert_eq!(verify_code(&s, &code_of(1), now, None), Ok(step + 1));
        assert_eq!(verify_code(&s, &code_of(-2), now, None), Err(CodeRefused::Wrong));
        assert_eq!(verify_code(&s, &code_of(2), now, None), Err(CodeRefused::Wrong));
        // At the last second of a step the previous step is still in the window.
        let edge = t(step * 30 + 29);
        assert_eq!(verify_code(&s, &code_of(-1), edge, None), Ok(step - 1));
        assert_eq!(verify_code(&s, &code_of(-1), t((step + 1) * 30), None), Err(CodeRefused::Wrong));
    }

    #[test]
    fn a_code_is_accepted_once_and_never_one_older_than_the_last() {
        let s = rfc_secret();
        let now = t(1_800_000_015);
        let step = step_at(now);
        let code = s.code_at(now);
        let used = verify_code(&s, &code, now, None).unwrap();
        assert_eq!(verify_code(&s, &code, now, Some(used)), Err(CodeRefused::Reused));
        let previous = s.code_at(t((step - 1) * 30));
        assert_eq!(verify_code(&s, &previous, now, Some(used)), Err(CodeRefused::Reused), "older than the last");
        let next = s.code_at(t((step + 1) * 30));
        assert_eq!(verify_code(&s, &next, t((step + 1) * 30), Some(used)), Ok(step + 1));
    }

    #[test]
    fn malformed_codes_are_refused_before_checking() {
        let s = rfc_secret();
        for bad in ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"] {
            assert_eq!(verify_code(&s, bad, t(59), None), Err(CodeRefused::Malformed), "{bad:?}");
        }
        assert_eq!(verify_code(&s, " 287 082 ", t(59), None), Ok(1), "spaces are ignored");
    }

    #[test]
    fn secrets_round_trip_through_base32_and_are_never_printed() {
        let s = TotpSecret::from_random([7; SECRET_BYTES]);
        let b32 = s.to_base32();
        assert_eq!(b32.len(), 32);
        assert_eq!(TotpSecret::from_base32(&b32.to_lowercase()).unwrap(), s);
        assert_eq!(format!("{s:?}"), "TotpSecret(<redacted>)");
        assert_eq!(TotpSecret::from_base32("not base32!"), Err(BadSecret));
        assert_eq!(TotpSecret::from_base32("AAAAAAAA"), Err(BadSecret), "too short");
    }

    #[test]
    fn the_otpauth_uri_names_the_clinic_and_account_and_the_qr_is_plain_svg() {
        let s = TotpSecret::from_random([7; SECRET_BYTES]);
        let uri = s.otpauth_uri("kat clinic", "nina");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&format!("secret={}", s.to_base32())), "{uri}");
        assert!(uri.contains("issuer=kat"), "{uri}");
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("<script") && !svg.contains("style="), "no script, no inline style");
    }

    #[test]
    fn recovery_codes_are_grouped_normalised_and_hashed() {
        let code = recovery_code_from_random([0, 1, 2, 3, 4, 5, 6, 7, 8, 255]);
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        assert_eq!(
            hash_recovery_code(&code),
            hash_recovery_code(&format!(" {} ", code.to_uppercase().replace('-', " ")))
        );
        assert_ne!(hash_recovery_code(&code), hash_recovery_code("abcde-fghjk"));
    }

    #[test]
    fn the_default_policy_requires_admins_and_prescribers() {
        let p = MfaPolicy::default();
        assert!(p.requires(Role::Admin) && p.requires(Role::Prescriber));
        assert!(!p.requires(Role::Nurse) && !p.requires(Role::Therapist) && !p.requires(Role::FrontDesk));
        assert!(!MfaPolicy::none_required().requires(Role::Admin));
    }
}
