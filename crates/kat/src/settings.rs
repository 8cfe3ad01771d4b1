//! Configuration: built-in defaults, then `kat.toml` (or `--config FILE`), then `KAT_…`
//! environment variables (`KAT_DATABASE_URL`, `KAT_SESSION__IDLE_TIMEOUT`…), then
//! command-line flags. Parsed once into typed settings at start-up.

use anyhow::{Context, Result, bail};
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kat_app::config::MeasuresConfig;
use kat_web::config::{CookieSecure, WebConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The documented example configuration, shipped in the binary.
pub const EXAMPLE: &str = include_str!("../../../kat.example.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub bind: String,
    /// A PEM file with the server's certificate chain (leaf first): with `tls_key`, kat
    /// serves HTTPS itself. Empty: plain HTTP (behind a TLS-terminating proxy).
    pub tls_cert: String,
    /// The PEM file with the certificate's private key.
    pub tls_key: String,
    /// Where the SQLite database (`kat.db`) lives.
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; `sqlite://PATH` a specific SQLite file. Empty:
    /// SQLite in `data_dir`.
    pub database_url: String,
    /// SQLite's commit durability: `full` (default: every commit synced, an
    /// acknowledged write survives a power cut) or `normal` (faster; a power cut can
    /// lose the last commits). Clinic policy; PostgreSQL has its own settings.
    pub sqlite_synchronous: String,
    pub clinic: ClinicSettings,
    pub session: SessionSettings,
    pub security: SecuritySettings,
    pub log: LogSettings,
    pub measures: MeasuresSettings,
    pub therapy: crate::clinic_policy::TherapySettings,
    pub dosing: crate::clinic_policy::DosingSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClinicSettings {
    pub name: String,
    /// IANA time zone in which times are shown (they are stored in UTC).
    pub time_zone: String,
    /// Weekdays the clinic is closed (`sunday`, `sat`…): generated session dates move to
    /// the next open day. Clinic policy, not a clinical rule.
    pub closed_weekdays: Vec<String>,
    /// Dates the clinic is closed: `MM-DD` every year, `YYYY-MM-DD` once.
    pub closed_dates: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// A session unused this long ends: `15m`, `900s`, `1h`.
    pub idle_timeout: String,
    /// A session ends this long after sign-in, however busy.
    pub absolute_timeout: String,
    /// `auto` (Secure behind TLS, judged by `X-Forwarded-Proto`), `always` or `never`.
    pub cookie_secure: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// Extra origins allowed to post forms (a reverse proxy's public URL).
    pub trusted_origins: Vec<String>,
    /// Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are
    /// believed; from anyone else those headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// Days an API token works after it is made (clinic policy, default 90).
    pub token_lifetime_days: i64,
    pub sign_in: SignInSettings,
    pub access: AccessSettings,
    pub mfa: MfaSettings,
}

/// Whose records clinicians open without break-glass (`[security.access]`;
/// kat_core::access). Clinic policy; the clinical reference gives no values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessSettings {
    /// `care_team` (default: a clinician opens the records of the patients whose care team
    /// they are on; a nurse also those dosing today) or `all_clinicians`.
    pub scope: String,
    /// How long a break-glass grant lasts, in minutes (default 60; 5 to 720).
    pub break_glass_minutes: u32,
}

impl Default for AccessSettings {
    fn default() -> Self {
        let p = kat_core::access::AccessPolicy::default();
        Self { scope: p.scope.as_str().into(), break_glass_minutes: (p.break_glass.as_secs() / 60) as u32 }
    }
}

impl AccessSettings {
    /// The policy, refusing an unknown scope or a grant length out of bounds, by key.
    pub fn parse(&self) -> Result<kat_core::access::AccessPolicy> {
        use kat_core::access::RecordScope;
        let scope = match self.scope.trim() {
            "care_team" => RecordScope::CareTeam,
            "all_clinicians" => RecordScope::AllClinicians,
            other => bail!("security.access.scope: `{other}` is not `care_team` or `all_clinicians`"),
        };
        let policy = kat_core::access::AccessPolicy {
            scope,
            break_glass: jiff::SignedDuration::from_mins(i64::from(self.break_glass_minutes)),
        };
        policy.check().map_err(|e| anyhow::anyhow!(e))?;
        Ok(policy)
    }
}

/// Two-step sign-in (`[security.mfa]`; kat_core::mfa). Security policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaSettings {
    /// Roles that must enrol an authenticator app (default admin and prescriber).
    pub required_roles: Vec<String>,
}

impl Default for MfaSettings {
    fn default() -> Self {
        Self {
            required_roles: kat_core::mfa::MfaPolicy::default()
                .required_roles
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        }
    }
}

impl MfaSettings {
    /// The policy; an unknown role is refused naming the key.
    pub fn parse(&self) -> Result<kat_core::mfa::MfaPolicy> {
        let mut required_roles = Vec::new();
        for r in &self.required_roles {
            let role: kat_core::role::Role =
                r.parse().map_err(|e| anyhow::anyhow!("security.mfa.required_roles: {e}"))?;
            if !required_roles.contains(&role) {
                required_roles.push(role);
            }
        }
        Ok(kat_core::mfa::MfaPolicy { required_roles })
    }
}

/// Sign-in throttling and lockout (`[security.sign_in]`; kat_core::sign_in). Security
/// policy with common-practice defaults; no clinical reference gives these numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignInSettings {
    /// Failures answered at once, per account and per client address.
    pub free_failures: u32,
    /// The first wait after them, doubled at each further failure up to the maximum.
    pub first_delay_seconds: u32,
    pub max_delay_seconds: u32,
    /// Failures that lock the account or address.
    pub lock_after: u32,
    /// How long a lock lasts (`kat user unlock NAME` lifts it sooner).
    pub lock_minutes: u32,
    /// Anonymous failures (a refused request or sign-in naming no account and no
    /// patient) are audited once per client address and window of this many minutes;
    /// the others of the window are counted (Audit page, "Anonymous failures").
    pub anonymous_audit_window_minutes: u32,
}

impl Default for SignInSettings {
    fn default() -> Self {
        let p = kat_core::sign_in::SignInPolicy::default();
        Self {
            free_failures: p.free_failures,
            first_delay_seconds: p.first_delay.as_secs() as u32,
            max_delay_seconds: p.max_delay.as_secs() as u32,
            lock_after: p.lock_after,
            lock_minutes: (p.lock_for.as_secs() / 60) as u32,
            anonymous_audit_window_minutes: (p.anonymous_audit_window.as_secs() / 60) as u32,
        }
    }
}

impl SignInSettings {
    /// The policy, refusing values that would switch the protection off or contradict
    /// each other, by full key name.
    pub fn parse(&self) -> Result<kat_core::sign_in::SignInPolicy> {
        let key = |k: &str| format!("security.sign_in.{k}");
        if self.lock_after == 0 || self.lock_after > 100 {
            bail!("{}: {} is not between 1 and 100 (NIST SP 800-63B: at most 100)", key("lock_after"), self.lock_after);
        }
        if self.free_failures == 0 || self.free_failures > self.lock_after {
            bail!(
                "{}: {} is not between 1 and lock_after ({})",
                key("free_failures"),
                self.free_failures,
                self.lock_after
            );
        }
        if self.first_delay_seconds == 0 || self.max_delay_seconds < self.first_delay_seconds {
            bail!(
                "{}: must be at least 1 and at most {} ({})",
                key("first_delay_seconds"),
                key("max_delay_seconds"),
                self.max_delay_seconds
            );
        }
        if self.lock_minutes == 0 {
            bail!("{}: must be at least 1", key("lock_minutes"));
        }
        if !(1..=1440).contains(&self.anonymous_audit_window_minutes) {
            bail!(
                "{}: {} is not between 1 and 1440 (a day)",
                key("anonymous_audit_window_minutes"),
                self.anonymous_audit_window_minutes
            );
        }
        Ok(kat_core::sign_in::SignInPolicy {
            free_failures: self.free_failures,
            first_delay: jiff::SignedDuration::from_secs(i64::from(self.first_delay_seconds)),
            max_delay: jiff::SignedDuration::from_secs(i64::from(self.max_delay_seconds)),
            lock_after: self.lock_after,
            lock_for: jiff::SignedDuration::from_mins(i64::from(self.lock_minutes)),
            anonymous_audit_window: jiff::SignedDuration::from_mins(i64::from(self.anonymous_audit_window_minutes)),
            ..Default::default()
        })
    }
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            trusted_origins: Vec::new(),
            trusted_proxies: kat_web::config::default_trusted_proxies().iter().map(|a| a.to_string()).collect(),
            token_lifetime_days: 90,
            sign_in: SignInSettings::default(),
            access: AccessSettings::default(),
            mfa: MfaSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter such as `info` or `kat_web=debug`.
    pub level: String,
}

/// Measurement-based care policy (clinic policy; defaults stated in `kat.example.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeasuresSettings {
    /// How long a one-time self-report link stays valid: `72h`, `48h`, `PT72H`…
    pub self_report_link_ttl: String,
    /// Shown to the patient after a self-report (SUI-003 crisis line).
    pub crisis_text: String,
    /// A TOML file with the clinic's licensed C-SSRS item text (see `item_text`); empty: construct labels.
    pub cssrs_text_file: String,
    pub outcome: crate::clinic_policy::OutcomeSettings,
    pub schedule: crate::clinic_policy::ScheduleSettings,
}

impl Default for MeasuresSettings {
    fn default() -> Self {
        Self {
            self_report_link_ttl: "72h".into(),
            crisis_text: kat_app::config::DEFAULT_CRISIS_TEXT.into(),
            cssrs_text_file: String::new(),
            outcome: Default::default(),
            schedule: Default::default(),
        }
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./kat-data";

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND.into(),
            tls_cert: String::new(),
            tls_key: String::new(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: String::new(),
            sqlite_synchronous: "full".into(),
            clinic: ClinicSettings::default(),
            session: SessionSettings::default(),
            security: SecuritySettings::default(),
            log: LogSettings::default(),
            measures: MeasuresSettings::default(),
            therapy: Default::default(),
            dosing: Default::default(),
        }
    }
}

impl Default for ClinicSettings {
    fn default() -> Self {
        let calendar = kat_core::calendar::ClinicCalendar::default();
        Self {
            name: "kat clinic".into(),
            time_zone: "UTC".into(),
            closed_weekdays: calendar
                .closed_weekdays()
                .iter()
                .map(|d| kat_core::calendar::weekday_name(*d).to_string())
                .collect(),
            closed_dates: calendar.closed_dates().iter().map(ToString::to_string).collect(),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { idle_timeout: "15m".into(), absolute_timeout: "12h".into(), cookie_secure: "auto".into() }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: "text".into(), level: "info".into() }
    }
}

/// Flags that override the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub bind: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

impl Settings {
    /// Layers defaults, the file, the environment and the flags.
    pub fn load(overrides: &Overrides) -> Result<Self> {
        let mut builder = config::Config::builder();
        match &overrides.config {
            Some(path) => {
                if !path.exists() {
                    bail!("configuration file {} does not exist", path.display());
                }
                builder = builder.add_source(config::File::from(path.as_path()).format(config::FileFormat::Toml));
            }
            None => {
                builder = builder.add_source(
                    config::File::from(Path::new("kat.toml")).format(config::FileFormat::Toml).required(false),
                );
            }
        }
        builder = with_env(builder, std::env::vars()).context("reading KAT_ environment variables")?;
        let mut settings: Settings =
            builder.build().context("reading configuration")?.try_deserialize().context("configuration is invalid")?;
        if let Some(b) = &overrides.bind {
            settings.bind = b.clone();
        }
        if let Some(c) = &overrides.tls_cert {
            settings.tls_cert = c.display().to_string();
        }
        if let Some(k) = &overrides.tls_key {
            settings.tls_key = k.display().to_string();
        }
        if let Some(d) = &overrides.data_dir {
            settings.data_dir = d.clone();
        }
        if let Some(u) = &overrides.database_url {
            settings.database_url = u.clone();
        }
        Ok(settings)
    }

    /// How long a new API token works (`security.token_lifetime_days`, 1 to 3,650).
    pub fn token_lifetime(&self) -> Result<jiff::SignedDuration> {
        let days = self.security.token_lifetime_days;
        if !(1..=3650).contains(&days) {
            bail!("security.token_lifetime_days: {days} is not between 1 and 3650");
        }
        Ok(jiff::SignedDuration::from_hours(days * 24))
    }

    /// The certificate and key files when kat is to serve HTTPS itself (`tls_cert` and
    /// `tls_key`, both or neither); `None`: plain HTTP. Serving TLS, the session cookie is
    /// always `Secure`, so `session.cookie_secure = "never"` contradicts it.
    pub fn tls_files(&self) -> Result<Option<(PathBuf, PathBuf)>> {
        let (cert, key) = (self.tls_cert.trim(), self.tls_key.trim());
        match (cert.is_empty(), key.is_empty()) {
            (true, true) => Ok(None),
            (false, true) => bail!("tls_cert is set but tls_key is not: HTTPS needs both (--tls-cert and --tls-key)"),
            (true, false) => bail!("tls_key is set but tls_cert is not: HTTPS needs both (--tls-cert and --tls-key)"),
            (false, false) => {
                if self.session.cookie_secure.trim() == "never" {
                    bail!(
                        "session.cookie_secure: `never` contradicts tls_cert: serving HTTPS, the session cookie is \
                         always Secure (set it to auto)"
                    );
                }
                Ok(Some((PathBuf::from(cert), PathBuf::from(key))))
            }
        }
    }

    /// The rustls configuration when kat serves HTTPS itself ([`Settings::tls_files`]),
    /// read now so that a missing or malformed file stops the start, named.
    pub fn tls_config(&self) -> Result<Option<std::sync::Arc<rustls::ServerConfig>>> {
        self.tls_files()?.map(|(cert, key)| crate::tls::server_config(&cert, &key)).transpose()
    }

    /// SQLite's commit durability, parsed (`sqlite_synchronous`).
    pub fn durability(&self) -> Result<kat_store_sqlite::Durability> {
        match self.sqlite_synchronous.trim() {
            "full" => Ok(kat_store_sqlite::Durability::Full),
            "normal" => Ok(kat_store_sqlite::Durability::Normal),
            other => bail!("sqlite_synchronous: `{other}` is not full or normal"),
        }
    }

    /// The settings the web layer uses, parsed (a bad value is named here, at start-up).
    pub fn web_config(&self, demo: bool) -> Result<WebConfig> {
        let time_zone = TimeZone::get(&self.clinic.time_zone)
            .with_context(|| format!("clinic.time_zone: `{}` is not an IANA time zone", self.clinic.time_zone))?;
        let idle_timeout = parse_duration("session.idle_timeout", &self.session.idle_timeout)?;
        let absolute_timeout = parse_duration("session.absolute_timeout", &self.session.absolute_timeout)?;
        let cookie_secure = match self.session.cookie_secure.as_str() {
            "auto" => CookieSecure::Auto,
            "always" => CookieSecure::Always,
            "never" => CookieSecure::Never,
            other => bail!("session.cookie_secure: `{other}` is not auto, always or never"),
        };
        let self_report_link_ttl =
            parse_duration("measures.self_report_link_ttl", &self.measures.self_report_link_ttl)?;
        if self.measures.crisis_text.trim().is_empty() {
            bail!("measures.crisis_text: must not be empty (SUI-003: patients must see crisis resources)");
        }
        let (scoring, outcome) = self.measures.outcome.parse()?;
        let schedule = self.measures.schedule.parse()?;
        let item_texts = crate::item_text::load_cssrs(&self.measures.cssrs_text_file)?;
        let therapy = self.therapy.parse()?;
        let mut dosing = self.dosing.parse()?;
        dosing.calendar = self.clinic.calendar()?;
        Ok(WebConfig {
            clinic_name: self.clinic.name.clone(),
            time_zone,
            idle_timeout,
            absolute_timeout,
            cookie_secure,
            // Set by the server when it starts with a certificate (server::start_with).
            serves_tls: false,
            trusted_origins: self.security.trusted_origins.clone(),
            trusted_proxies: self
                .security
                .trusted_proxies
                .iter()
                .map(|a| {
                    a.trim().parse().map_err(|_| {
                        anyhow::anyhow!("security.trusted_proxies: `{a}` is not an IP address (such as 127.0.0.1)")
                    })
                })
                .collect::<Result<_>>()?,
            sign_in: self.security.sign_in.parse()?,
            access: self.security.access.parse()?,
            mfa: self.security.mfa.parse()?,
            demo,
            measures: MeasuresConfig {
                self_report_link_ttl,
                crisis_text: self.measures.crisis_text.trim().to_string(),
                scoring,
                outcome,
                schedule,
                item_texts,
            },
            therapy,
            dosing,
        })
    }

    /// The configuration as TOML, with the database password replaced.
    pub fn redacted_toml(&self) -> Result<String> {
        let mut shown = self.clone();
        shown.database_url = redact_url(&shown.database_url);
        Ok(toml::to_string_pretty(&shown)?)
    }
}

impl ClinicSettings {
    /// The clinic calendar, a bad value named by its key.
    pub fn calendar(&self) -> Result<kat_core::calendar::ClinicCalendar> {
        use kat_core::calendar::{ClinicCalendar, ClosedDate, parse_weekday};
        let weekdays = self
            .closed_weekdays
            .iter()
            .map(|w| parse_weekday(w).map_err(|e| anyhow::anyhow!("clinic.closed_weekdays: {e}")))
            .collect::<Result<Vec<_>>>()?;
        let dates = self
            .closed_dates
            .iter()
            .map(|d| ClosedDate::parse(d).map_err(|e| anyhow::anyhow!("clinic.closed_dates: {e}")))
            .collect::<Result<Vec<_>>>()?;
        ClinicCalendar::new(weekdays, dates).map_err(|e| anyhow::anyhow!("clinic.closed_weekdays: {e}"))
    }
}

/// The value of one `KAT_…` variable: a list key takes comma-separated items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    One(String),
    List(Vec<String>),
}

/// The `KAT_…` variables that name a configuration key, as (dotted key, value). Others
/// with the prefix (`KAT_LOG`, the test suite's `KAT_E2E`…) belong to other tools and
/// are left out, so that unknown keys in `kat.toml` can still be refused as typos.
/// Adds the `KAT_…` variables among `vars` to `builder` as overrides.
fn with_env(
    mut builder: config::ConfigBuilder<config::builder::DefaultState>,
    vars: impl Iterator<Item = (String, String)>,
) -> Result<config::ConfigBuilder<config::builder::DefaultState>, config::ConfigError> {
    for (key, value) in env_overrides(vars) {
        builder = match value {
            EnvValue::One(v) => builder.set_override(key, v),
            EnvValue::List(v) => builder.set_override(key, v),
        }?;
    }
    Ok(builder)
}

pub fn env_overrides(vars: impl Iterator<Item = (String, String)>) -> Vec<(String, EnvValue)> {
    let known = known_env_keys();
    let mut out: Vec<(String, EnvValue)> = vars
        .filter_map(|(name, value)| {
            let (key, is_list) =
                known.iter().find(|(env, _, _)| *env == name.to_ascii_uppercase()).map(|(_, k, l)| (k.clone(), *l))?;
            let value = if is_list {
                EnvValue::List(value.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect())
            } else {
                EnvValue::One(value)
            };
            Some((key, value))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// (`KAT_CLINIC__TIME_ZONE`, `clinic.time_zone`, is a list) for every key of [`Settings`].
fn known_env_keys() -> Vec<(String, String, bool)> {
    fn walk(path: &[String], value: &toml::Value, out: &mut Vec<(String, String, bool)>) {
        match value {
            toml::Value::Table(table) => {
                for (key, v) in table {
                    let mut next = path.to_vec();
                    next.push(key.clone());
                    walk(&next, v, out);
                }
            }
            other => out.push((
                format!("KAT_{}", path.join("__").to_ascii_uppercase()),
                path.join("."),
                matches!(other, toml::Value::Array(_)),
            )),
        }
    }
    let mut out = Vec::new();
    let defaults = toml::Value::try_from(Settings::default()).expect("settings serialize");
    walk(&[], &defaults, &mut out);
    out
}

/// A positive duration such as `15m`, `90s`, `12h` or `PT15M`.
pub fn parse_duration(field: &str, raw: &str) -> Result<SignedDuration> {
    let d: SignedDuration =
        raw.trim().parse().with_context(|| format!("{field}: `{raw}` is not a duration like 15m, 90s or 12h"))?;
    if d <= SignedDuration::ZERO {
        bail!("{field}: must be longer than zero");
    }
    Ok(d)
}

/// Hides the password of a `scheme://user:password@host/…` URL.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else { return url.to_string() };
    let userinfo = &rest[..at];
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{}://{}:[redacted]@{}", &url[..scheme_end], user, &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_friendly_and_iso_forms() {
        assert_eq!(parse_duration("x", "15m").unwrap(), SignedDuration::from_mins(15));
        assert_eq!(parse_duration("x", "90s").unwrap(), SignedDuration::from_secs(90));
        assert_eq!(parse_duration("x", "PT12H").unwrap(), SignedDuration::from_hours(12));
        assert!(parse_duration("x", "0s").is_err());
        assert!(parse_duration("x", "soon").unwrap_err().to_string().contains("x:"));
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact_url("postgres://kat:s3cret@db:5432/kat"), "postgres://kat:[redacted]@db:5432/kat");
        assert_eq!(redact_url("postgres://kat@db/kat"), "postgres://kat@db/kat");
        assert_eq!(redact_url(""), "");
    }

    #[test]
    fn the_shipped_example_is_valid_and_matches_the_defaults() {
        let parsed: Settings = toml::from_str(EXAMPLE).expect("kat.example.toml parses");
        let defaults = Settings::default();
        assert_eq!(parsed.bind, defaults.bind);
        assert_eq!((&parsed.tls_cert, &parsed.tls_key), (&defaults.tls_cert, &defaults.tls_key));
        assert_eq!(parsed.session.idle_timeout, defaults.session.idle_timeout);
        assert_eq!(parsed.measures.self_report_link_ttl, defaults.measures.self_report_link_ttl);
        assert_eq!(parsed.measures.crisis_text, defaults.measures.crisis_text);
        assert_eq!(
            toml::Value::try_from(&parsed.measures).unwrap(),
            toml::Value::try_from(&defaults.measures).unwrap()
        );
        assert_eq!(toml::Value::try_from(&parsed.therapy).unwrap(), toml::Value::try_from(&defaults.therapy).unwrap());
        assert_eq!(toml::Value::try_from(&parsed.dosing).unwrap(), toml::Value::try_from(&defaults.dosing).unwrap());
        // Every dosing key is written out in the example (a key left out would also
        // compare equal above, but would be undocumented).
        let example: toml::Value = toml::from_str(EXAMPLE).unwrap();
        let defaults_toml = toml::Value::try_from(&defaults.dosing).unwrap();
        assert_eq!(example.get("dosing"), Some(&defaults_toml), "kat.example.toml lists every [dosing] key");
        parsed.web_config(false).expect("example values are valid");
    }

    #[test]
    fn the_clinic_calendar_parses_and_a_bad_day_is_named_by_its_key() {
        let s = Settings::default();
        let cal = s.web_config(false).unwrap().dosing.calendar;
        assert!(!cal.is_open(jiff::civil::date(2026, 12, 6)), "Sundays closed by default");
        assert!(!cal.is_open(jiff::civil::date(2026, 12, 25)));
        let mut s = Settings::default();
        s.clinic.closed_weekdays = vec!["saturday".into(), "sun".into()];
        s.clinic.closed_dates = vec!["2026-12-24".into()];
        let cal = s.web_config(false).unwrap().dosing.calendar;
        assert!(!cal.is_open(jiff::civil::date(2026, 12, 5)) && !cal.is_open(jiff::civil::date(2026, 12, 24)));
        assert!(cal.is_open(jiff::civil::date(2026, 12, 25)), "the list replaces the default");
        s.clinic.closed_weekdays = vec!["funday".into()];
        assert!(s.web_config(false).unwrap_err().to_string().contains("clinic.closed_weekdays"));
        s.clinic.closed_weekdays = vec![];
        s.clinic.closed_dates = vec!["25/12".into()];
        assert!(s.web_config(false).unwrap_err().to_string().contains("clinic.closed_dates"));
    }

    #[test]
    fn only_kat_variables_that_name_a_key_are_configuration() {
        let vars = [
            ("KAT_BIND", "0.0.0.0:9000"),
            ("KAT_SESSION__IDLE_TIMEOUT", "10m"),
            ("KAT_SECURITY__TRUSTED_ORIGINS", "https://a.example, https://b.example"),
            ("KAT_E2E", "1"),
            ("KAT_LOG", "debug"),
            ("KAT_REQUIRE_PG", "1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let env = env_overrides(vars.into_iter());
        assert_eq!(
            env,
            vec![
                ("bind".to_string(), EnvValue::One("0.0.0.0:9000".into())),
                (
                    "security.trusted_origins".to_string(),
                    EnvValue::List(vec!["https://a.example".into(), "https://b.example".into()])
                ),
                ("session.idle_timeout".to_string(), EnvValue::One("10m".into())),
            ]
        );
    }

    #[test]
    fn sign_in_throttling_settings_are_checked_by_key() {
        let mut s = Settings::default();
        assert_eq!(s.security.sign_in.parse().unwrap(), kat_core::sign_in::SignInPolicy::default());
        assert_eq!(s.security.access.parse().unwrap(), kat_core::access::AccessPolicy::default());
        s.security.access.scope = "everyone".into();
        assert!(s.web_config(false).unwrap_err().to_string().contains("security.access.scope"));
        s.security.access.scope = "all_clinicians".into();
        s.security.access.break_glass_minutes = 4;
        assert!(s.web_config(false).unwrap_err().to_string().contains("security.access.break_glass_minutes"));
        s.security.access.break_glass_minutes = 5;
        assert_eq!(s.security.access.parse().unwrap().scope, kat_core::access::RecordScope::AllClinicians);
        s.security.access = AccessSettings::default();
        s.security.sign_in.lock_after = 0;
        assert!(s.web_config(false).unwrap_err().to_string().contains("security.sign_in.lock_after"));
        s.security.sign_in.lock_after = 5;
        s.security.sign_in.free_failures = 6;
        assert!(s.security.sign_in.parse().unwrap_err().to_string().contains("free_failures"));
        s.security.sign_in.free_failures = 5;
        s.security.sign_in.anonymous_audit_window_minutes = 0;
        assert!(s.security.sign_in.parse().unwrap_err().to_string().contains("anonymous_audit_window_minutes"));
        s.security.sign_in.anonymous_audit_window_minutes = 1441;
        assert!(s.security.sign_in.parse().unwrap_err().to_string().contains("anonymous_audit_window_minutes"));
        s.security.sign_in.anonymous_audit_window_minutes = 1440;
        assert!(s.security.sign_in.parse().is_ok());
        s.security.sign_in.anonymous_audit_window_minutes = 15;
        assert_eq!(s.security.sign_in.parse().unwrap().lock_after, 5);
    }

    #[test]
    fn mfa_required_roles_default_to_admins_and_prescribers_and_are_checked_by_key() {
        let mut s = Settings::default();
        assert_eq!(s.security.mfa.parse().unwrap(), kat_core::mfa::MfaPolicy::default());
        s.security.mfa.required_roles = vec!["admin".into(), "superuser".into()];
        let e = s.web_config(false).unwrap_err().to_string();
        assert!(e.contains("security.mfa.required_roles") && e.contains("superuser"), "{e}");
        s.security.mfa.required_roles = vec![];
        assert_eq!(s.security.mfa.parse().unwrap(), kat_core::mfa::MfaPolicy::none_required());
        let parsed: Settings = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed.security.mfa.parse().unwrap(), kat_core::mfa::MfaPolicy::default(), "the example");
    }

    #[test]
    fn token_lifetime_is_90_days_unless_the_clinic_says_otherwise() {
        let mut s = Settings::default();
        assert_eq!(s.token_lifetime().unwrap(), jiff::SignedDuration::from_hours(90 * 24));
        s.security.token_lifetime_days = 1;
        assert_eq!(s.token_lifetime().unwrap(), jiff::SignedDuration::from_hours(24));
        for bad in [0, 3651] {
            s.security.token_lifetime_days = bad;
            assert!(s.token_lifetime().unwrap_err().to_string().contains("token_lifetime_days"), "{bad}");
        }
    }

    #[test]
    fn tls_needs_both_files_and_a_cookie_that_may_be_secure() {
        let mut s = Settings::default();
        assert!(s.tls_files().unwrap().is_none() && s.tls_config().unwrap().is_none(), "plain HTTP by default");
        s.tls_cert = "/etc/kat/cert.pem".into();
        assert!(s.tls_files().unwrap_err().to_string().contains("tls_key is not"));
        s.tls_key = "/etc/kat/key.pem".into();
        assert_eq!(
            s.tls_files().unwrap(),
            Some((PathBuf::from("/etc/kat/cert.pem"), PathBuf::from("/etc/kat/key.pem")))
        );
        s.session.cookie_secure = "never".into();
        assert!(s.tls_files().unwrap_err().to_string().contains("session.cookie_secure"));
        s.session.cookie_secure = "auto".into();
        // The files are read when the server starts: a missing one is named.
        let e = format!("{:#}", s.tls_config().unwrap_err());
        assert!(e.contains("tls_cert: cannot read /etc/kat/cert.pem"), "{e}");
        s.tls_cert = String::new();
        assert!(s.tls_files().unwrap_err().to_string().contains("tls_cert is not"));
        // The file and the environment name them like every key.
        let parsed: Settings = toml::from_str("tls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n").unwrap();
        assert_eq!(parsed.tls_files().unwrap(), Some((PathBuf::from("c.pem"), PathBuf::from("k.pem"))));
        let env = env_overrides([("KAT_TLS_CERT".to_string(), "c.pem".to_string())].into_iter());
        assert_eq!(env, vec![("tls_cert".to_string(), EnvValue::One("c.pem".into()))]);
    }

    #[test]
    fn sqlite_durability_is_full_unless_the_clinic_chooses_normal() {
        let mut s = Settings::default();
        assert_eq!(s.durability().unwrap(), kat_store_sqlite::Durability::Full);
        s.sqlite_synchronous = "normal".into();
        assert_eq!(s.durability().unwrap(), kat_store_sqlite::Durability::Normal);
        s.sqlite_synchronous = "off".into();
        assert!(s.durability().unwrap_err().to_string().contains("sqlite_synchronous"));
    }

    #[test]
    fn environment_values_reach_the_settings_lists_and_numbers_included() {
        let mut builder = config::Config::builder();
        let vars = [
            ("KAT_SECURITY__TRUSTED_ORIGINS", "https://a.example,https://b.example"),
            ("KAT_CLINIC__TIME_ZONE", "America/Chicago"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        builder = with_env(builder, vars.into_iter()).unwrap();
        let s: Settings = builder.build().unwrap().try_deserialize().unwrap();
        assert_eq!(s.security.trusted_origins, ["https://a.example", "https://b.example"]);
        assert_eq!(s.clinic.time_zone, "America/Chicago");
        s.web_config(false).unwrap();
    }

    #[test]
    fn bad_values_are_named() {
        let mut s = Settings::default();
        s.clinic.time_zone = "Mars/Olympus".into();
        assert!(s.web_config(false).unwrap_err().to_string().contains("clinic.time_zone"));
        let mut s = Settings::default();
        s.session.cookie_secure = "sometimes".into();
        assert!(s.web_config(false).unwrap_err().to_string().contains("cookie_secure"));
        let mut s = Settings::default();
        s.measures.outcome.pcl5_cutoff = 30;
        assert!(s.web_config(false).unwrap_err().to_string().contains("measures.outcome.pcl5_cutoff"));
        let mut s = Settings::default();
        s.therapy.reassessment_to_days = 7;
        assert!(s.web_config(false).unwrap_err().to_string().contains("therapy.reassessment"));
        let mut s = Settings::default();
        s.measures.cssrs_text_file = "/nonexistent/cssrs.toml".into();
        assert!(s.web_config(false).unwrap_err().to_string().contains("measures.cssrs_text_file"));
    }

    #[test]
    fn clinic_policy_is_read_from_the_file() {
        let toml = "[measures]\ncssrs_text_file = \"\"\n[measures.outcome]\npcl5_cutoff = 31\n[measures.schedule]\nfollow_up_weeks = [2, 4]\n[therapy]\npreparation_offsets_days = [-7, -1]\n";
        let parsed: Settings = toml::from_str(toml).unwrap();
        let web = parsed.web_config(false).unwrap();
        assert_eq!(web.measures.scoring.pcl5_cutoff.value(), 31);
        assert_eq!(web.measures.schedule.follow_up_weeks, vec![2, 4]);
        assert_eq!(web.therapy.policy.preparation_offsets_days, vec![-7, -1]);
        assert!(toml::from_str::<Settings>("[therapy]\npreparation_sessions = 3\n").is_err(), "typos are refused");
    }

    #[test]
    fn config_print_shows_the_dosing_sections_and_reads_back() {
        let mut s = Settings::default();
        s.dosing.alarms.spo2_below = 95;
        let printed = s.redacted_toml().unwrap();
        for section in [
            "[dosing]",
            "[dosing.weight]",
            "[dosing.gate]",
            "[dosing.alarms]",
            "[dosing.discharge]",
            "[dosing.monitoring]",
            "[dosing.session]",
        ] {
            assert!(printed.contains(section), "{section} in:\n{printed}");
        }
        let back: Settings = toml::from_str(&printed).unwrap();
        assert_eq!(back.web_config(false).unwrap().dosing.alarms.spo2_below, 95);
    }

    #[test]
    fn dosing_policy_is_read_from_the_file_and_the_environment() {
        let toml = "[measures]\ncssrs_text_file = \"\"\n[dosing]\niv_warn_above_mg_per_kg = 0.6\n[dosing.weight]\nideal_formula = \"devine\"\n[dosing.gate]\nbp_policy = \"swiss_label\"\n[dosing.alarms]\nspo2_below = 95\n[dosing.discharge]\niv_minutes = 90\n[dosing.monitoring]\nfollowup_every_minutes = 20\n";
        let parsed: Settings = toml::from_str(toml).unwrap();
        let web = parsed.web_config(false).unwrap();
        assert_eq!(web.dosing.policy.iv_warn_above.value(), 0.6);
        assert!(web.dosing.policy.weight.ideal_formula.is_some());
        assert_eq!(web.dosing.gate.bp.name, kat_core::monitoring::BpPolicyName::SwissLabel);
        assert_eq!(web.dosing.alarms.spo2_below, 95);
        assert_eq!(web.dosing.discharge.iv_min.get(), 90);
        assert_eq!(web.dosing.monitoring.followup_every.get(), 20);
        assert!(toml::from_str::<Settings>("[dosing.alarms]\nspo2_under = 95\n").is_err(), "typos are refused");
        let mut s = Settings::default();
        s.dosing.alarms.spo2_emergency_below = 93;
        assert!(s.web_config(false).unwrap_err().to_string().contains("dosing.alarms.spo2_emergency_below"));
        let mut s = Settings::default();
        s.dosing.discharge.esketamine_minutes = 90;
        assert!(s.web_config(false).unwrap_err().to_string().contains("dosing.discharge.esketamine_minutes"));

        // Nested keys take KAT_ variables like every other key; numbers arrive as text.
        let vars = [
            ("KAT_DOSING__ALARMS__SPO2_BELOW", "94"),
            ("KAT_DOSING__IV_HARD_ABOVE_MG_PER_KG", "0.9"),
            ("KAT_DOSING__GATE__BP_POLICY", "ic_os_hold"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let mut builder = config::Config::builder();
        builder = with_env(builder, vars.into_iter()).unwrap();
        let s: Settings = builder.build().unwrap().try_deserialize().unwrap();
        let web = s.web_config(false).unwrap();
        assert_eq!(web.dosing.alarms.spo2_below, 94);
        assert_eq!(web.dosing.policy.iv_hard_above.value(), 0.9);
        assert_eq!(web.dosing.gate.bp.name, kat_core::monitoring::BpPolicyName::IcOsHold);
    }
}
