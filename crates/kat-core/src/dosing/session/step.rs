//! One administration as a typed event: the route's step with its amounts, its time and
//! the recording details DOSE-GEN-002 asks for (product, concentration, lot, expiry,
//! who administered, who monitored).

use crate::dosing::units::{Mg, MgPerMl, MlPerHour};
use crate::field::FieldErrors;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Trimmed text of 1 to `max` characters without control characters (lines allowed when
/// `multiline`): the one check behind the record's text types.
pub(crate) fn text(raw: &str, max: usize, multiline: bool) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("is required".into());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if text.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
        return Err("contains control characters".into());
    }
    Ok(text.to_string())
}

/// A short single-line entry of the administration record: a product name, a lot, the
/// name of who administered or monitored. Trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShortText(String);

impl ShortText {
    pub fn parse(raw: &str) -> Result<Self, String> {
        text(raw, 200, false).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ShortText {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<ShortText> for String {
    fn from(t: ShortText) -> String {
        t.0
    }
}

/// A documented reason or action (a gate override, a deferral, the action taken on an
/// alarm, an emergency transfer): trimmed, 1 to 4,000 characters, lines allowed. It may
/// describe the patient, so its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);

impl Reason {
    pub fn parse(raw: &str) -> Result<Self, String> {
        text(raw, 4000, true).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reason([redacted])")
    }
}

impl TryFrom<String> for Reason {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Reason> for String {
    fn from(t: Reason) -> String {
        t.0
    }
}

/// The step of the route's administration (`order::allowed_steps`): a dose (injection,
/// oral, nasal racemic), one esketamine device (28 mg, DOSE-IN-001), or a step of an IV
/// infusion through a pump (DOSE-IV-001, DOSE-IV-004). Its serde form is tagged by
/// `kind`, the names `allowed_steps` uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    Dose {
        mg: Mg,
    },
    Device {
        mg: Mg,
    },
    /// The infusion starts at `rate`; `mg` is the dose drawn up (what the bag or syringe
    /// holds), which caps what the pump can deliver.
    InfusionStart {
        mg: Mg,
        rate: MlPerHour,
    },
    InfusionPause,
    InfusionResume {
        rate: MlPerHour,
    },
    InfusionRateChange {
        rate: MlPerHour,
    },
    InfusionStop,
}

impl Step {
    /// The step's name, as `order::allowed_steps` lists it.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Dose { .. } => "dose",
            Step::Device { .. } => "device",
            Step::InfusionStart { .. } => "infusion_start",
            Step::InfusionPause => "infusion_pause",
            Step::InfusionResume { .. } => "infusion_resume",
            Step::InfusionRateChange { .. } => "infusion_rate_change",
            Step::InfusionStop => "infusion_stop",
        }
    }

    /// The drug this step gives (a dose, a device, the infusion's prepared dose).
    pub fn mg(&self) -> Option<Mg> {
        match *self {
            Step::Dose { mg } | Step::Device { mg } | Step::InfusionStart { mg, .. } => Some(mg),
            _ => None,
        }
    }

    /// The pump rate this step sets.
    pub fn rate(&self) -> Option<MlPerHour> {
        match *self {
            Step::InfusionStart { rate, .. } | Step::InfusionResume { rate } | Step::InfusionRateChange { rate } => {
                Some(rate)
            }
            _ => None,
        }
    }

    /// Whether the step gives drug (starts a dose or sets a pump running). An open
    /// alarm of tier intervene or emergency holds these; a pause or a stop is always
    /// allowed.
    pub fn gives_drug(&self) -> bool {
        self.mg().is_some() || self.rate().is_some()
    }
}

/// The product given (DOSE-GEN-002): name, stock concentration when recorded, lot and
/// expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub name: ShortText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concentration: Option<MgPerMl>,
    pub lot: ShortText,
    pub expiry: Date,
}

/// One administration: the step, when it happened and its recording details. A step
/// that gives drug carries the product and both names; one that sets a pump rate both
/// names (DOSE-GEN-002). Built by [`Administration::new`] or [`Administration::parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AdministrationFields")]
pub struct Administration {
    at: Timestamp,
    #[serde(flatten)]
    step: Step,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<Product>,
    #[serde(skip_serializing_if = "Option::is_none")]
    administered_by: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    monitored_by: Option<ShortText>,
}

#[derive(Deserialize)]
struct AdministrationFields {
    at: Timestamp,
    #[serde(flatten)]
    step: Step,
    #[serde(default)]
    product: Option<Product>,
    #[serde(default)]
    administered_by: Option<ShortText>,
    #[serde(default)]
    monitored_by: Option<ShortText>,
}

impl TryFrom<AdministrationFields> for Administration {
    type Error = FieldErrors;
    fn try_from(f: AdministrationFields) -> Result<Self, FieldErrors> {
        Administration::new(f.at, f.step, f.product, f.administered_by, f.monitored_by)
    }
}

impl Administration {
    /// Checks that the step carries the details DOSE-GEN-002 requires. A product is kept
    /// only on a step that gives drug.
    pub fn new(
        at: Timestamp,
        step: Step,
        product: Option<Product>,
        administered_by: Option<ShortText>,
        monitored_by: Option<ShortText>,
    ) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        if step.gives_drug() {
            if administered_by.is_none() {
                e.add("administered_by", "is required (DOSE-GEN-002)");
            }
            if monitored_by.is_none() {
                e.add("monitored_by", "is required (DOSE-GEN-002)");
            }
        }
        if step.mg().is_some() && product.is_none() {
            e.add("product", "is required (DOSE-GEN-002)");
        }
        let product = if step.mg().is_some() { product } else { None };
        e.into_result(|| Self { at, step, product, administered_by, monitored_by })
    }

    /// Parses what staff typed. `at` empty means `now`; the product's expiry must not be
    /// before `today` (the clinic's date). Whether the time fits the session is the
    /// session's judgement ([`super::DosingSession::administer`]), not the parser's.
    pub fn parse(raw: &RawAdministration, now: Timestamp, today: Date) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = raw.kind.trim();
        let at = match raw.at.trim() {
            "" => Some(now),
            t => e.take("at", t.parse::<Timestamp>().map_err(|_| "a time (RFC 3339)")),
        };
        let gives = matches!(kind, "dose" | "device" | "infusion_start");
        let sets_rate = matches!(kind, "infusion_start" | "infusion_resume" | "infusion_rate_change");
        let mg = if gives { e.take("dose_mg", Mg::parse(&raw.dose_mg).map_err(|err| err.0)) } else { None };
        let rate = if sets_rate {
            e.take("rate_ml_per_h", MlPerHour::parse(&raw.rate_ml_per_h).map_err(|_| "the pump rate in mL/h"))
        } else {
            None
        };
        let name = |field: &str, value: &str, e: &mut FieldErrors, required: bool| -> Option<ShortText> {
            if value.trim().is_empty() && !required {
                return None;
            }
            e.take(field, ShortText::parse(value).map_err(|m| if required { format!("{m} (DOSE-GEN-002)") } else { m }))
        };
        let administered_by = name("administered_by", &raw.administered_by, &mut e, gives || sets_rate);
        let monitored_by = name("monitored_by", &raw.monitored_by, &mut e, gives || sets_rate);
        let product = if gives {
            let product_name = name("product", &raw.product, &mut e, true);
            let lot = name("lot", &raw.lot, &mut e, true);
            let expiry = match raw.expiry.trim().parse::<Date>() {
                Ok(d) if d < today => {
                    e.add("expiry", "the product has expired");
                    None
                }
                Ok(d) => Some(d),
                Err(_) => {
                    e.add("expiry", "the expiry date (YYYY-MM-DD)");
                    None
                }
            };
            let concentration = match raw.concentration_mg_per_ml.trim() {
                "" => None,
                c => e.take("concentration_mg_per_ml", MgPerMl::parse(c).map_err(|err| err.0)),
            };
            match (product_name, lot, expiry) {
                (Some(name), Some(lot), Some(expiry)) => Some(Product { name, concentration, lot, expiry }),
                _ => None,
            }
        } else {
            None
        };
        let step = match (kind, mg, rate) {
            ("dose", Some(mg), _) => Some(Step::Dose { mg }),
            ("device", Some(mg), _) => Some(Step::Device { mg }),
            ("infusion_start", Some(mg), Some(rate)) => Some(Step::InfusionStart { mg, rate }),
            ("infusion_pause", ..) => Some(Step::InfusionPause),
            ("infusion_resume", _, Some(rate)) => Some(Step::InfusionResume { rate }),
            ("infusion_rate_change", _, Some(rate)) => Some(Step::InfusionRateChange { rate }),
            ("infusion_stop", ..) => Some(Step::InfusionStop),
            ("dose" | "device" | "infusion_start" | "infusion_resume" | "infusion_rate_change", ..) => None,
            _ => {
                e.add(
                    "kind",
                    "one of dose, device, infusion_start, infusion_pause, infusion_resume, infusion_rate_change, infusion_stop",
                );
                None
            }
        };
        match (at, step) {
            (Some(at), Some(step)) if e.is_empty() => Self::new(at, step, product, administered_by, monitored_by),
            _ => Err(e),
        }
    }

    pub fn at(&self) -> Timestamp {
        self.at
    }
    pub fn step(&self) -> &Step {
        &self.step
    }
    pub fn product(&self) -> Option<&Product> {
        self.product.as_ref()
    }
    pub fn administered_by(&self) -> Option<&ShortText> {
        self.administered_by.as_ref()
    }
    pub fn monitored_by(&self) -> Option<&ShortText> {
        self.monitored_by.as_ref()
    }
}

/// An administration as typed in a form or sent to the API: every field as text, named
/// as the administration form names them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawAdministration {
    pub kind: String,
    pub administered_by: String,
    pub monitored_by: String,
    pub product: String,
    pub concentration_mg_per_ml: String,
    pub lot: String,
    pub expiry: String,
    pub dose_mg: String,
    pub rate_ml_per_h: String,
    /// RFC 3339; empty means now.
    pub at: String,
}
