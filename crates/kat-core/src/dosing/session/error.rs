//! Why a session transition was refused: the field to show it on, the rule, and a
//! typed reason the caller can match on.

use crate::dosing::rule::RuleId;
use crate::monitoring::discharge::UnmetCriterion;
use std::fmt;

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    // --- The session's state forbids it (a conflict, not a typing error) ---
    /// No administration before the pre-dose gate is passed (§3); a deferred session
    /// never doses.
    GateNotPassed,
    /// The gate is recorded once.
    GateAlreadyRecorded,
    /// Nothing is added to a discharged session.
    Discharged,
    /// An intervention stopped the session (INT-005) or the patient was transferred to
    /// emergency care: no further dosing.
    Ended,
    /// A dose order is for a dose not yet given.
    DosingStarted,
    /// An open alarm of tier intervene or emergency holds dosing until acknowledged.
    AlarmHold,
    /// An IV session is discharged only after the infusion's stop is recorded.
    InfusionNotStopped,
    /// Nothing was given, so there is no end of dosing to observe from.
    NothingGiven,
    /// The alarm is not an open alarm of this session.
    NotAnOpenAlarm,
    /// Discharge criteria unmet (or an alarm open) and no prescriber override.
    DischargeNotReady { unmet: Vec<UnmetCriterion>, open_alarms: Vec<RuleId> },
    // --- The entry itself is wrong ---
    /// Not a step of the session's route (DOSE-GEN-002).
    StepNotOfRoute,
    /// A step out of the infusion's order (no pause before the start, nothing after
    /// the stop), or an administration dated before the previous one.
    StepOutOfOrder,
    /// Beyond the dose in force (DOSE-GEN-002) or not a 28 mg device (DOSE-IN-001).
    DoseBeyondOrder,
    /// The device cap or the 5 minutes between devices (DOSE-IN-001).
    Device,
    /// Faster than the ordered infusion (DOSE-IV-003).
    RateAboveOrder,
    /// Dated before the session was opened or the gate passed.
    TooEarly,
    /// Dated beyond the clock-skew allowance.
    InFuture,
    /// The gate needs a prescriber's documented override.
    GateNeedsOverride,
    /// The gate says defer.
    GateSaysDefer,
    /// The checklist is for another route.
    RouteMismatch,
    /// Before a label minimum tagged [V] (DC-001: esketamine, 2 hours after the last
    /// device), which no override shortens.
    LabelMinimum,
}

impl Refusal {
    /// Whether the refusal comes from the session's state (a conflict) rather than from
    /// the entry (a field to correct).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Refusal::GateNotPassed
                | Refusal::GateAlreadyRecorded
                | Refusal::Discharged
                | Refusal::Ended
                | Refusal::DosingStarted
                | Refusal::AlarmHold
                | Refusal::InfusionNotStopped
                | Refusal::NothingGiven
                | Refusal::NotAnOpenAlarm
        )
    }
}

/// A refused transition: the input field it belongs to (`dose_mg`, `kind`, `at`,
/// `rate_ml_per_h`, `override_reason`, …; `session` when the session's state refuses),
/// the rule it enforces where the clinical reference has one, the typed reason and a
/// message for the person who entered it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionError {
    pub field: &'static str,
    pub rule: Option<RuleId>,
    pub refusal: Refusal,
    pub message: String,
}

impl SessionError {
    pub(super) fn new(field: &'static str, rule: Option<RuleId>, refusal: Refusal, message: impl Into<String>) -> Self {
        Self { field, rule, refusal, message: message.into() }
    }

    pub(super) fn conflict(refusal: Refusal, rule: Option<&'static str>, message: impl Into<String>) -> Self {
        Self::new("session", rule.map(RuleId::spec), refusal, message)
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(rule) => write!(f, "{}: {rule}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

impl std::error::Error for SessionError {}
