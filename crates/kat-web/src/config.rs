//! What the web layer needs to know about the clinic and its security settings, parsed
//! once at start-up by the binary. The clinic policies the use cases take live in
//! [`kat_app::config`]; `WebConfig` holds them.

use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_app::config::{DosingConfig, MeasuresConfig};

/// When the session cookie carries the `Secure` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieSecure {
    /// Secure when the request reached kat over TLS: kat serves HTTPS itself
    /// ([`WebConfig::serves_tls`]), or a trusted reverse proxy says `X-Forwarded-Proto:
    /// https`.
    Auto,
    Always,
    Never,
}

/// A reverse proxy on the same host: the loopback addresses.
pub fn default_trusted_proxies() -> Vec<std::net::IpAddr> {
    vec![std::net::Ipv4Addr::LOCALHOST.into(), std::net::Ipv6Addr::LOCALHOST.into()]
}

#[derive(Debug, Clone)]
pub struct WebConfig {
    pub clinic_name: String,
    /// Times are stored in UTC and shown in this zone.
    pub time_zone: TimeZone,
    /// A session unused this long ends (default 15 minutes).
    pub idle_timeout: SignedDuration,
    /// A session ends this long after login, however busy (default 12 hours).
    pub absolute_timeout: SignedDuration,
    pub cookie_secure: CookieSecure,
    /// kat terminates TLS itself (`kat serve --tls-cert … --tls-key …`): every request
    /// came over HTTPS, so the session cookie is `Secure` and `__Host-` prefixed and
    /// responses carry HSTS. Set by the server when it starts with a certificate.
    pub serves_tls: bool,
    /// Origins besides the server's own that may post forms (a reverse proxy's public
    /// origin when it rewrites `Host`).
    pub trusted_origins: Vec<String>,
    /// Peers whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (reverse
    /// proxies); from anyone else those headers are ignored (default: this host).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Sign-in throttling and lockout (`[security.sign_in]`).
    pub sign_in: kat_core::sign_in::SignInPolicy,
    /// Whose records clinicians open without break-glass (`[security.access]`).
    pub access: kat_core::access::AccessPolicy,
    /// Which roles must use two-step sign-in (`[security.mfa]`).
    pub mfa: kat_core::mfa::MfaPolicy,
    /// Shown in the page footer: a demo clinic says so on every page.
    pub demo: bool,
    /// Therapy program policy and the patient safety-plan link lifetime.
    pub therapy: kat_app::therapy::TherapyConfig,
    /// Measurement-based care policy (see [`MeasuresConfig`]).
    pub measures: MeasuresConfig,
    /// Dosing, pre-dose gate, alarm, discharge and monitoring policy (see [`DosingConfig`]).
    pub dosing: DosingConfig,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            clinic_name: "kat clinic".into(),
            time_zone: TimeZone::UTC,
            idle_timeout: SignedDuration::from_mins(15),
            absolute_timeout: SignedDuration::from_hours(12),
            cookie_secure: CookieSecure::Auto,
            serves_tls: false,
            trusted_origins: Vec::new(),
            trusted_proxies: default_trusted_proxies(),
            sign_in: kat_core::sign_in::SignInPolicy::default(),
            access: kat_core::access::AccessPolicy::default(),
            mfa: kat_core::mfa::MfaPolicy::default(),
            demo: false,
            measures: MeasuresConfig::default(),
            therapy: Default::default(),
            dosing: DosingConfig::default(),
        }
    }
}
