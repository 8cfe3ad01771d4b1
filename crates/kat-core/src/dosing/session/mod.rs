//! The dosing session as a typed state machine (issue 10 items 3–4, issue 11 items 2–3).
//!
//! A [`DosingSession`] is the state one session needs to decide its next step **without
//! re-reading its history**: route, phase, the dose in force, what was given, the
//! infusion (and so the mg delivered), the device times, the open alarms and the
//! monitoring state the alarm and discharge rules use (baseline, latest values). Each
//! transition takes the state and an event and returns the next state with what to
//! store, or a [`SessionError`] naming the field and the rule. The store keeps the state
//! beside the session (serde JSON) so that a reading costs the same at the 8,000th
//! reading as at the first. Its floats (mg, mL) round-trip exactly when serde_json has
//! its `float_roundtrip` feature (the tests use it); without it a value may come back
//! one ulp off, far below [`crate::dosing::units::COMPARISON_TOLERANCE`].
//!
//! The machine decides nothing of its own: every rule is the one the rest of the core
//! already holds, called from here.
//! - the route's steps: [`order::allowed_steps`] (DOSE-GEN-002);
//! - the dose in force: [`order::check_administration`] (DOSE-GEN-002, DOSE-IN-001);
//! - the pump rate: [`order::ordered_rate_ml_per_h`] and [`order::check_rate`] (DOSE-IV-003);
//! - the device cap and the 5 minutes between devices: [`limits::check_next_device`]
//!   (DOSE-IN-001);
//! - the gate: [`gate::evaluate_gate`] (§3);
//! - alarms: [`alarms::evaluate_reading`] (ALM-001..006); an open alarm of tier
//!   intervene or emergency holds every step that gives drug (§4.4), a pause or a stop
//!   is always allowed;
//! - discharge: [`discharge::discharge_decision`] (DC-001..004), with no open alarm.
//!
//! Its own invariants are the session's order: no administration before the gate was
//! passed (in state and in time), the infusion's steps in order (start once, pause only
//! while running, resume only while paused, nothing after the stop), nothing that gives
//! drug after an intervention stopped the session (INT-005) or a transfer to emergency
//! care, after discharge only a reading dated before it (a late entry, issue 11 item 5),
//! no esketamine discharge before the label's 2 hours even with an override (DC-001
//! \[V\]), and entry times within [`SessionTimePolicy`]. A deferred gate may be run again.
//!
//! A state is rebuilt from a stored history by the `replay_*` steps, which apply what a
//! transition stores without judging it again (the history was accepted when recorded).
//!
//! Phases: `Opened` → `GatePassed` → `Dosing` → `Observing` → `Discharged`; `Deferred` at
//! the gate; `Ended` by an intervention that stopped the session or an emergency
//! transfer. The phase is derived from the state ([`DosingSession::phase`]), so it cannot
//! disagree with it.

mod error;
mod infusion;
mod monitor;
mod step;
mod time;

#[cfg(test)]
mod tests;

pub use error::{Refusal, SessionError};
pub use infusion::{Infusion, InfusionPlan, Pump};
pub use monitor::{Timed, Vitals};
pub(crate) use step::text as checked_text;
pub use step::{Administration, Product, RawAdministration, Reason, ShortText, Step};
pub use time::{LateEntry, SessionTimePolicy};

use super::limits::{self, DoseCheck, ESKETAMINE_MAX};
use super::order;
use super::route::Route;
use super::rule::RuleId;
use super::units::{Mg, MlPerHour, add_minutes, exceeds};
use crate::ids::SessionAlarmId;
use crate::monitoring::alarms::{self, Alarm, AlarmKind, AlarmPolicy, Severity};
use crate::monitoring::discharge::{self, DischargeDecision, DischargeInput, DischargePolicy};
use crate::monitoring::gate::{self, GateChecklist, GateDecision, GatePolicy};
use crate::monitoring::schedule::SessionTimes;
use crate::monitoring::vitals::{Baseline, Moaas, Reading};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Opened; the pre-dose gate is not recorded yet.
    Opened,
    /// Deferred at the gate: no dose this day.
    Deferred,
    /// The gate passed (proceed or a prescriber's override); nothing given yet.
    GatePassed,
    /// Drug is being given: the infusion is not stopped, or less than the dose in force
    /// was given.
    Dosing,
    /// Dosing is over (the infusion stopped, or the dose in force given): observation.
    Observing,
    Discharged,
    /// An intervention stopped the session (INT-005), or the patient was transferred to
    /// emergency care.
    Ended,
}

/// The gate's outcome, as stored (`proceed`, `override`, `defer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateOutcome {
    Proceed,
    Override,
    Defer,
}

impl GateOutcome {
    pub fn passed(self) -> bool {
        matches!(self, GateOutcome::Proceed | GateOutcome::Override)
    }
}

/// When the gate was recorded and with what outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateState {
    pub at: Timestamp,
    pub outcome: GateOutcome,
}

/// What ended a session before discharge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndCause {
    /// An intervention stopped the session (INT-005). Monitoring goes on; the patient is
    /// discharged as usual once the criteria hold.
    Intervention,
    /// Transferred to emergency care: a separate exit, not a discharge (issue 11 item 4).
    EmergencyTransfer,
}

/// The end of a session and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    pub at: Timestamp,
    pub cause: EndCause,
}

/// How a session ends, as staff record it.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// An intervention with "session stopped" (INT-005); the intervention itself is its
    /// own record.
    Intervention,
    /// Transferred to emergency care, with the reason.
    EmergencyTransfer { reason: Reason },
}

/// An alarm raised and not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAlarm {
    pub id: SessionAlarmId,
    pub rule: RuleId,
    pub kind: AlarmKind,
    pub severity: Severity,
    /// When the reading that raised it was taken.
    pub at: Timestamp,
}

impl OpenAlarm {
    /// An alarm of tier intervene or emergency holds dosing (§4.4: pause or stop).
    pub fn holds_dosing(&self) -> bool {
        self.severity >= Severity::Intervene
    }
}

/// What the signed plan gives a session: the route, the plan's dose and, for an IV
/// infusion, its stock and duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionPlan {
    pub route: Route,
    pub dose: Mg,
    pub infusion: Option<InfusionPlan>,
}

/// A transition's result: the next state, and what to store.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Transition<T> {
    pub session: DosingSession,
    pub record: T,
}

/// The gate as recorded: the core's decision on the checklist and the outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRecord {
    pub decision: GateDecision,
    pub outcome: GateOutcome,
    pub override_reason: Option<Reason>,
    pub defer_reason: Option<Reason>,
    pub reschedule_to: Option<Date>,
}

/// An accepted administration.
#[derive(Debug, Clone, PartialEq)]
pub struct Administered {
    /// Set when it is charted after the fact.
    pub late: Option<LateEntry>,
    /// Given so far (doses, devices, the infusion's prepared dose), including this one.
    pub given: Mg,
    /// Delivered by the time of this step.
    pub delivered: Mg,
}

/// An alarm raised by a reading, with the id the caller gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct RaisedAlarm {
    pub id: SessionAlarmId,
    pub alarm: Alarm,
}

/// An accepted reading and the alarms it raised (at most one per kind, ALM-001..006).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingRecorded {
    pub alarms: Vec<RaisedAlarm>,
    pub late: Option<LateEntry>,
}

/// An acknowledged alarm with the action taken (INT-005).
#[derive(Debug, Clone, PartialEq)]
pub struct Acknowledged {
    pub alarm: OpenAlarm,
    pub action: Reason,
    pub at: Timestamp,
}

/// A session ended before discharge.
#[derive(Debug, Clone, PartialEq)]
pub struct Ended {
    pub ending: Ending,
    pub reason: Option<Reason>,
    pub late: Option<LateEntry>,
}

/// What staff assess at discharge (DC-003, DC-004); every item must be positively met.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DischargeAssessment {
    pub aldrete_total: Option<u8>,
    pub pre_sedation_aldrete: Option<u8>,
    pub moaas: Option<Moaas>,
    pub dissociation_resolved: Option<bool>,
    pub able_to_walk_safely: Option<bool>,
    pub active_nausea: Option<bool>,
    pub suicidal_crisis: Option<bool>,
    pub escort_present: Option<bool>,
    pub written_instructions_given: Option<bool>,
    pub clinician_judges_stable: Option<bool>,
}

/// A discharge: the decision, whether every criterion held with no alarm open, and the
/// prescriber's reason when it did not.
#[derive(Debug, Clone, PartialEq)]
pub struct Discharged {
    pub decision: DischargeDecision,
    pub ready: bool,
    pub override_reason: Option<Reason>,
}

/// The state of one dosing session. Built by [`DosingSession::open`], changed only by
/// its transitions, stored as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DosingSession {
    route: Route,
    opened_at: Timestamp,
    plan_dose: Mg,
    /// The session's dose order, when the prescriber made one (DOSE-IV-010, DOSE-IN-002).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ordered: Option<Mg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    infusion_plan: Option<InfusionPlan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gate: Option<GateState>,
    /// Doses, devices and the infusion's prepared dose, summed.
    given: Mg,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_dose_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_dose_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_administration_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    devices: Vec<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    infusion: Option<Infusion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    alarms: Vec<OpenAlarm>,
    #[serde(default)]
    vitals: Vitals,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ended: Option<Ending>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    discharged_at: Option<Timestamp>,
}

fn refused(check: DoseCheck, field: &'static str, refusal: Refusal) -> Result<(), SessionError> {
    match check {
        DoseCheck::Ok => Ok(()),
        DoseCheck::Warning { rule, message } | DoseCheck::HardLimit { rule, message } => {
            Err(SessionError::new(field, Some(rule), refusal, message))
        }
    }
}

fn out_of_order(message: &str) -> SessionError {
    SessionError::new("kind", Some(RuleId::spec("DOSE-GEN-002")), Refusal::StepOutOfOrder, message)
}

impl DosingSession {
    /// Opens a session on a signed plan at `at`. An IV infusion needs its stock
    /// concentration and duration (DOSE-IV-004, DOSE-IV-003) to know its ordered rate
    /// and what it delivers.
    pub fn open(plan: SessionPlan, at: Timestamp) -> Result<Self, SessionError> {
        let infusion_plan = match plan.route {
            Route::IvInfusion => Some(plan.infusion.ok_or_else(|| {
                SessionError::new(
                    "infusion",
                    Some(RuleId::spec("DOSE-IV-004")),
                    Refusal::StepNotOfRoute,
                    "an IV infusion needs its stock concentration and duration",
                )
            })?),
            _ => None,
        };
        Ok(Self {
            route: plan.route,
            opened_at: at,
            plan_dose: plan.dose,
            ordered: None,
            infusion_plan,
            gate: None,
            given: Mg::from_whole(0),
            first_dose_at: None,
            last_dose_at: None,
            last_administration_at: None,
            devices: Vec::new(),
            infusion: None,
            alarms: Vec::new(),
            vitals: Vitals::default(),
            ended: None,
            discharged_at: None,
        })
    }

    // ---- reading the state ----

    pub fn route(&self) -> Route {
        self.route
    }
    pub fn opened_at(&self) -> Timestamp {
        self.opened_at
    }
    pub fn gate(&self) -> Option<GateState> {
        self.gate
    }
    pub fn ending(&self) -> Option<Ending> {
        self.ended
    }
    pub fn discharged_at(&self) -> Option<Timestamp> {
        self.discharged_at
    }
    /// When the session closed: its discharge, or the transfer to emergency care that
    /// ended it (issue 11 items 4 and 5). Anything charted after it is a late entry.
    pub fn closed_at(&self) -> Option<Timestamp> {
        self.discharged_at.or(self.ended.filter(|e| e.cause == EndCause::EmergencyTransfer).map(|e| e.at))
    }
    pub fn infusion(&self) -> Option<&Infusion> {
        self.infusion.as_ref()
    }
    pub fn infusion_plan(&self) -> Option<InfusionPlan> {
        self.infusion_plan
    }
    /// The times of the esketamine devices used, in order.
    pub fn device_times(&self) -> &[Timestamp] {
        &self.devices
    }
    pub fn first_dose_at(&self) -> Option<Timestamp> {
        self.first_dose_at
    }
    pub fn last_dose_at(&self) -> Option<Timestamp> {
        self.last_dose_at
    }
    pub fn open_alarms(&self) -> &[OpenAlarm] {
        &self.alarms
    }
    pub fn vitals(&self) -> &Vitals {
        &self.vitals
    }

    /// The dose in force: the session's order, else the plan's dose.
    pub fn dose_in_force(&self) -> Mg {
        self.ordered.unwrap_or(self.plan_dose)
    }

    /// The pump rate of the dose in force over the planned time (IV only).
    pub fn ordered_rate(&self) -> Option<MlPerHour> {
        self.infusion_plan.and_then(|p| p.ordered_rate(self.dose_in_force()))
    }

    /// What was given: doses, devices and the infusion's prepared dose.
    pub fn given(&self) -> Mg {
        self.given
    }

    /// What was delivered by `at`: doses and devices as given; an infusion by its pump
    /// (rate × running time × concentration, see [`infusion`](Infusion::delivered_at)).
    pub fn delivered_mg(&self, at: Timestamp) -> Mg {
        match &self.infusion {
            Some(inf) => {
                let other = self.given.value() - inf.prepared().value();
                Mg::new((other.max(0.0)) + inf.delivered_at(at).value()).unwrap_or(self.given)
            }
            None => self.given,
        }
    }

    pub fn phase(&self) -> Phase {
        if self.discharged_at.is_some() {
            return Phase::Discharged;
        }
        if self.ended.is_some() {
            return Phase::Ended;
        }
        match self.gate.map(|g| g.outcome) {
            None => Phase::Opened,
            Some(GateOutcome::Defer) => Phase::Deferred,
            Some(_) if self.first_dose_at.is_none() => Phase::GatePassed,
            Some(_) => {
                let done = match &self.infusion {
                    Some(inf) => matches!(inf.pump(), Pump::Stopped { .. }),
                    None => !exceeds(self.dose_in_force().value(), self.given.value()),
                };
                if done { Phase::Observing } else { Phase::Dosing }
            }
        }
    }

    /// When dosing started and ended: the first dose, device or infusion start; the end
    /// is the infusion's stop (until then its planned end), the last device, or the
    /// first dose on the other routes (as the session screen computes it today).
    pub fn times(&self) -> Option<SessionTimes> {
        let start = self.first_dose_at?;
        let end = match self.route {
            Route::IvInfusion => match self.infusion.map(|i| i.pump()) {
                Some(Pump::Stopped { at }) => at,
                _ => add_minutes(start, self.infusion_plan?.minutes),
            },
            Route::IntranasalEsketamine => *self.devices.last()?,
            _ => start,
        };
        Some(SessionTimes { dose_start: start, dose_end: end })
    }

    /// The baseline the alarms and discharge judge against.
    pub fn baseline(&self) -> Baseline {
        self.vitals.baseline()
    }

    /// Checks the time of a reading, a rating or another entry of the session: not
    /// before the session was opened, not beyond the skew allowance; late or not.
    pub fn check_entry_time(
        &self,
        at: Timestamp,
        now: Timestamp,
        policy: &SessionTimePolicy,
    ) -> Result<Option<LateEntry>, SessionError> {
        policy.check(at, now, self.opened_at, "the session was opened")
    }

    fn not_discharged(&self) -> Result<(), SessionError> {
        match self.discharged_at {
            Some(at) => {
                Err(SessionError::conflict(Refusal::Discharged, None, format!("the session was discharged at {at}")))
            }
            None => Ok(()),
        }
    }

    // ---- transitions ----

    /// Sets the session's dose order; refused once anything was administered.
    pub fn order_dose(&self, mg: Mg) -> Result<Transition<()>, SessionError> {
        self.not_discharged()?;
        if self.last_administration_at.is_some() {
            return Err(SessionError::conflict(
                Refusal::DosingStarted,
                None,
                "dosing has started: a dose order is for a dose not yet given",
            ));
        }
        let mut next = self.clone();
        next.ordered = Some(mg);
        Ok(Transition { session: next, record: () })
    }

    fn gate_open(&self, checklist: &GateChecklist, now: Timestamp) -> Result<(), SessionError> {
        self.not_discharged()?;
        // A deferred gate may be run again (the patient is fit later the same day).
        if self.gate.is_some_and(|g| g.outcome.passed()) {
            return Err(SessionError::conflict(
                Refusal::GateAlreadyRecorded,
                None,
                "the gate of this session is already recorded",
            ));
        }
        if self.ended.is_some() {
            return Err(SessionError::conflict(Refusal::Ended, None, "the session has ended"));
        }
        if checklist.route != self.route {
            return Err(SessionError::new(
                "checklist.route",
                None,
                Refusal::RouteMismatch,
                "must be the route of the plan",
            ));
        }
        if now < self.opened_at {
            return Err(SessionError::new(
                "at",
                None,
                Refusal::TooEarly,
                format!("{now} is before the session was opened ({})", self.opened_at),
            ));
        }
        Ok(())
    }

    fn with_gate(&self, checklist: &GateChecklist, now: Timestamp, outcome: GateOutcome) -> Self {
        let mut next = self.clone();
        next.gate = Some(GateState { at: now, outcome });
        next.vitals.set_gate(checklist.blood_pressure, checklist.heart_rate);
        next
    }

    /// Passes the pre-dose gate at `now` (§3): the core's decision on the checklist must
    /// be proceed, or need an override and have a prescriber's reason (the caller checks
    /// that whoever gives it may override). The checklist's BP and HR become the
    /// baseline.
    pub fn pass_gate(
        &self,
        checklist: &GateChecklist,
        override_reason: Option<Reason>,
        now: Timestamp,
        today: Date,
        policy: &GatePolicy,
    ) -> Result<Transition<GateRecord>, SessionError> {
        self.gate_open(checklist, now)?;
        let decision = gate::evaluate_gate(checklist, now, today, policy);
        let (outcome, override_reason) = match (&decision, override_reason) {
            (GateDecision::Proceed { .. }, _) => (GateOutcome::Proceed, None),
            (GateDecision::NeedsOverride { .. }, Some(reason)) => (GateOutcome::Override, Some(reason)),
            (GateDecision::NeedsOverride { findings }, None) => {
                return Err(SessionError::new(
                    "override_reason",
                    findings.first().map(|f| f.rule.clone()),
                    Refusal::GateNeedsOverride,
                    "the gate needs a prescriber's documented override to proceed, or defer with a reason",
                ));
            }
            (GateDecision::Defer { reasons }, _) => {
                return Err(SessionError::new(
                    "defer_reason",
                    reasons.first().map(|f| f.rule.clone()),
                    Refusal::GateSaysDefer,
                    "the gate says defer; give the reason (and a new date)",
                ));
            }
        };
        Ok(Transition {
            session: self.with_gate(checklist, now, outcome),
            record: GateRecord { decision, outcome, override_reason, defer_reason: None, reschedule_to: None },
        })
    }

    /// Defers the session at the gate, whatever the checklist says: no dose this day.
    pub fn defer(
        &self,
        checklist: &GateChecklist,
        reason: Reason,
        reschedule_to: Option<Date>,
        now: Timestamp,
        today: Date,
        policy: &GatePolicy,
    ) -> Result<Transition<GateRecord>, SessionError> {
        self.gate_open(checklist, now)?;
        let decision = gate::evaluate_gate(checklist, now, today, policy);
        Ok(Transition {
            session: self.with_gate(checklist, now, GateOutcome::Defer),
            record: GateRecord {
                decision,
                outcome: GateOutcome::Defer,
                override_reason: None,
                defer_reason: Some(reason),
                reschedule_to,
            },
        })
    }

    /// Records one administration recorded at `now`.
    pub fn administer(
        &self,
        a: &Administration,
        now: Timestamp,
        time: &SessionTimePolicy,
    ) -> Result<Transition<Administered>, SessionError> {
        self.not_discharged()?;
        let gate = match self.gate {
            Some(g) if g.outcome.passed() => g,
            _ => {
                return Err(SessionError::conflict(
                    Refusal::GateNotPassed,
                    None,
                    "no administration before the pre-dose gate is passed (§3)",
                ));
            }
        };
        let step = *a.step();
        let at = a.at();
        let steps = order::allowed_steps(self.route);
        if !steps.contains(&step.kind()) {
            return Err(SessionError::new(
                "kind",
                Some(RuleId::spec("DOSE-GEN-002")),
                Refusal::StepNotOfRoute,
                format!("{} sessions record: {}", self.route.label(), steps.join(", ")),
            ));
        }
        let late = time.check(at, now, gate.at, "the pre-dose gate was passed")?;
        if let Some(last) = self.last_administration_at
            && at < last
        {
            return Err(SessionError::new(
                "at",
                None,
                Refusal::StepOutOfOrder,
                format!("{at} is before the previous administration ({last}); administrations are recorded in order"),
            ));
        }
        if step.gives_drug()
            && let Some(end) = self.ended
        {
            let (rule, message) = match end.cause {
                EndCause::Intervention => (Some("INT-005"), "an intervention stopped this session: no further dosing"),
                EndCause::EmergencyTransfer => {
                    (None, "the patient was transferred to emergency care: no further dosing")
                }
            };
            return Err(SessionError::conflict(Refusal::Ended, rule, message));
        }
        let pump = self.infusion.map(|i| i.pump());
        match (step, pump) {
            (Step::InfusionStart { .. }, Some(_)) => return Err(out_of_order("the infusion has already been started")),
            (
                Step::InfusionPause
                | Step::InfusionResume { .. }
                | Step::InfusionRateChange { .. }
                | Step::InfusionStop,
                None,
            ) => {
                return Err(out_of_order("the infusion has not been started"));
            }
            (_, Some(Pump::Stopped { .. })) => return Err(out_of_order("the infusion has been stopped")),
            (Step::InfusionPause, Some(Pump::Paused { .. })) => return Err(out_of_order("the infusion is paused")),
            (Step::InfusionResume { .. }, Some(Pump::Running { .. })) => {
                return Err(out_of_order("the infusion is running"));
            }
            (Step::InfusionRateChange { .. }, Some(Pump::Paused { .. })) => {
                return Err(out_of_order("the infusion is paused: resume it at the new rate"));
            }
            _ => {}
        }
        if step.gives_drug()
            && let Some(alarm) = self.alarms.iter().find(|a| a.holds_dosing())
        {
            return Err(SessionError::new(
                "session",
                Some(alarm.rule.clone()),
                Refusal::AlarmHold,
                format!(
                    "an alarm ({}) asks to pause or stop dosing and is not acknowledged: acknowledge it with the action taken first",
                    alarm.rule
                ),
            ));
        }
        if let Some(mg) = step.mg() {
            let device = matches!(step, Step::Device { .. });
            refused(
                order::check_administration(self.dose_in_force(), self.given, mg, device),
                "dose_mg",
                Refusal::DoseBeyondOrder,
            )?;
        }
        if let Some(rate) = step.rate()
            && let Some(ordered) = self.ordered_rate()
        {
            refused(order::check_rate(rate.value(), ordered.value()), "rate_ml_per_h", Refusal::RateAboveOrder)?;
        }
        if let Step::Device { .. } = step {
            refused(limits::check_next_device(ESKETAMINE_MAX, &self.devices, at), "at", Refusal::Device)?;
        }

        if matches!(step, Step::InfusionStart { .. }) && self.infusion_plan.is_none() {
            return Err(out_of_order("the plan has no infusion"));
        }
        let next = self.applied(&step, at);
        let record = Administered { late, given: next.given, delivered: next.delivered_mg(at) };
        Ok(Transition { session: next, record })
    }

    /// What an accepted administration changes (shared by [`Self::administer`] and
    /// [`Self::replay_administration`]).
    fn applied(&self, step: &Step, at: Timestamp) -> Self {
        let mut next = self.clone();
        next.last_administration_at = Some(self.last_administration_at.map_or(at, |l| l.max(at)));
        if let Some(mg) = step.mg() {
            next.given = Mg::new(self.given.value() + mg.value()).unwrap_or(self.given);
            next.first_dose_at = Some(self.first_dose_at.map_or(at, |f| f.min(at)));
            next.last_dose_at = Some(self.last_dose_at.map_or(at, |l| l.max(at)));
        }
        match *step {
            Step::Device { .. } => next.devices.push(at),
            Step::InfusionStart { mg, rate } => {
                if let Some(plan) = self.infusion_plan {
                    next.infusion = Some(Infusion::start(mg, plan.infused_concentration(), rate, at));
                }
            }
            Step::InfusionPause => next.set_pump(at, Pump::Paused { since: at }),
            Step::InfusionResume { rate } | Step::InfusionRateChange { rate } => {
                next.set_pump(at, Pump::Running { rate, since: at })
            }
            Step::InfusionStop => next.set_pump(at, Pump::Stopped { at }),
            Step::Dose { .. } => {}
        }
        next
    }

    fn set_pump(&mut self, at: Timestamp, pump: Pump) {
        if let Some(inf) = self.infusion.as_mut() {
            inf.set(at, pump);
        }
    }

    /// Records one reading (a monitor's or a nurse's), recorded at `now`: evaluates it
    /// against the baseline of the readings before it (ALM-001..006) and keeps the
    /// alarms it raises open, each with an id from `new_id`. O(1) in the number of
    /// earlier readings.
    pub fn record_reading(
        &self,
        reading: &Reading,
        now: Timestamp,
        alarm_policy: &AlarmPolicy,
        time: &SessionTimePolicy,
        mut new_id: impl FnMut() -> SessionAlarmId,
    ) -> Result<Transition<ReadingRecorded>, SessionError> {
        let late = match self.closed_at() {
            // The record can still be completed (issue 11 item 5): a reading taken before
            // the discharge (or the transfer), charted after it, is always a late entry.
            Some(closed) if reading.at <= closed => {
                self.check_entry_time(reading.at, now, time)?;
                Some(LateEntry { at: reading.at, recorded_at: now })
            }
            Some(_) => {
                self.not_discharged()?;
                None
            }
            None => self.check_entry_time(reading.at, now, time)?,
        };
        if let Some(end) = self.ended
            && end.cause == EndCause::EmergencyTransfer
            && reading.at > end.at
        {
            return Err(SessionError::new(
                "at",
                None,
                Refusal::TooEarly,
                format!(
                    "the patient was transferred to emergency care at {}; a reading after that is not ours",
                    end.at
                ),
            ));
        }
        let raised: Vec<RaisedAlarm> = alarms::evaluate_reading(reading, &self.baseline(), alarm_policy)
            .into_iter()
            .map(|alarm| RaisedAlarm { id: new_id(), alarm })
            .collect();
        let open: Vec<OpenAlarm> = raised
            .iter()
            .map(|r| OpenAlarm {
                id: r.id,
                rule: r.alarm.rule.clone(),
                kind: r.alarm.kind,
                severity: r.alarm.severity,
                at: r.alarm.at,
            })
            .collect();
        let next = self.replay_reading(reading, &open);
        Ok(Transition { session: next, record: ReadingRecorded { alarms: raised, late } })
    }

    /// Acknowledges an open alarm with the action taken (INT-005), at `now`.
    pub fn acknowledge_alarm(
        &self,
        id: SessionAlarmId,
        action: Reason,
        now: Timestamp,
    ) -> Result<Transition<Acknowledged>, SessionError> {
        let Some(ix) = self.alarms.iter().position(|a| a.id == id) else {
            return Err(SessionError::conflict(
                Refusal::NotAnOpenAlarm,
                None,
                "not an open alarm of this session (already acknowledged?)",
            ));
        };
        let mut next = self.clone();
        let alarm = next.alarms.remove(ix);
        Ok(Transition { session: next, record: Acknowledged { alarm, action, at: now } })
    }

    /// Ends the session at `at` (recorded at `now`): an intervention that stopped it
    /// (INT-005), or a transfer to emergency care. An intervention after an intervention
    /// keeps the first end; a transfer after an intervention becomes the end.
    pub fn end(
        &self,
        end: End,
        at: Timestamp,
        now: Timestamp,
        time: &SessionTimePolicy,
    ) -> Result<Transition<Ended>, SessionError> {
        self.not_discharged()?;
        let late = self.check_entry_time(at, now, time)?;
        let (cause, reason) = match end {
            End::Intervention => (EndCause::Intervention, None),
            End::EmergencyTransfer { reason } => (EndCause::EmergencyTransfer, Some(reason)),
        };
        let ending = match (self.ended, cause) {
            (Some(e), _) if e.cause == EndCause::EmergencyTransfer => {
                return Err(SessionError::conflict(
                    Refusal::Ended,
                    None,
                    "the patient was transferred to emergency care; the session has ended",
                ));
            }
            (Some(e), EndCause::Intervention) => e,
            _ => Ending { at, cause },
        };
        let mut next = self.clone();
        next.ended = Some(ending);
        Ok(Transition { session: next, record: Ended { ending, reason, late } })
    }

    /// Discharges the patient at `now` (§4.5): every criterion of
    /// [`discharge::discharge_decision`] must hold and no alarm be open, or a prescriber
    /// overrides with a reason (the caller checks that whoever gives it may). Refused
    /// for an IV infusion whose stop is not recorded, when nothing was given, and after a
    /// transfer to emergency care (a separate exit).
    pub fn discharge(
        &self,
        assessment: &DischargeAssessment,
        override_reason: Option<Reason>,
        now: Timestamp,
        policy: &DischargePolicy,
    ) -> Result<Transition<Discharged>, SessionError> {
        self.not_discharged()?;
        if self.ended.is_some_and(|e| e.cause == EndCause::EmergencyTransfer) {
            return Err(SessionError::conflict(
                Refusal::Ended,
                None,
                "the patient was transferred to emergency care: that ends the session, not a discharge",
            ));
        }
        if self.route == Route::IvInfusion && !matches!(self.infusion.map(|i| i.pump()), Some(Pump::Stopped { .. })) {
            return Err(SessionError::conflict(Refusal::InfusionNotStopped, None, "the infusion stop is not recorded"));
        }
        let Some(times) = self.times() else {
            return Err(SessionError::conflict(
                Refusal::NothingGiven,
                None,
                "no completed administration is recorded (an IV infusion needs its stop)",
            ));
        };
        let (latest, previous_bp) = self.vitals.current_values(times.dose_end);
        let input = DischargeInput {
            route: self.route,
            times,
            aldrete_total: assessment.aldrete_total,
            pre_sedation_aldrete: assessment.pre_sedation_aldrete,
            moaas: assessment.moaas,
            latest,
            previous_bp,
            baseline: self.baseline(),
            dissociation_resolved: assessment.dissociation_resolved,
            able_to_walk_safely: assessment.able_to_walk_safely,
            active_nausea: assessment.active_nausea,
            suicidal_crisis: assessment.suicidal_crisis,
            escort_present: assessment.escort_present,
            written_instructions_given: assessment.written_instructions_given,
            clinician_judges_stable: assessment.clinician_judges_stable,
        };
        let decision = discharge::discharge_decision(&input, now, policy);
        let ready = decision.is_ready() && self.alarms.is_empty();
        // DC-001 [V]: the label's 2 hours after the last device are a minimum no override
        // shortens (issue 11 item 4); a medical emergency leaves by the separate exit.
        let label_end = add_minutes(times.dose_end, discharge::ESKETAMINE_MIN_OBSERVATION);
        if !ready && override_reason.is_some() && self.route == Route::IntranasalEsketamine && now < label_end {
            return Err(SessionError::new(
                "observation",
                Some(RuleId::spec("DC-001")),
                Refusal::LabelMinimum,
                format!(
                    "esketamine: at least 2 hours of observation after the last device (until {label_end}); the label's minimum cannot be overridden. For a medical emergency, record a transfer to emergency care."
                ),
            ));
        }
        let override_reason = match (ready, override_reason) {
            (true, _) => None,
            (false, Some(reason)) => Some(reason),
            (false, None) => {
                return Err(SessionError::new(
                    "discharge",
                    decision.unmet().first().map(|u| u.rule.clone()),
                    Refusal::DischargeNotReady {
                        unmet: decision.unmet().to_vec(),
                        open_alarms: self.alarms.iter().map(|a| a.rule.clone()).collect(),
                    },
                    "the discharge criteria are not all met",
                ));
            }
        };
        let mut next = self.clone();
        next.discharged_at = Some(now);
        Ok(Transition { session: next, record: Discharged { decision, ready, override_reason } })
    }

    // ---- replay: rebuilding a state from a stored history ----
    //
    // Sessions recorded before the state was kept beside them are rebuilt once from
    // their history. Each step below applies what the transition of the same effect
    // stores, without judging it again: the history was accepted when it was recorded
    // (under the rules of its day), and the record cannot be changed now.

    /// The gate as recorded: when, its outcome and the checklist's pre-dose BP and HR.
    pub fn replay_gate(&self, checklist: &GateChecklist, at: Timestamp, outcome: GateOutcome) -> Self {
        self.with_gate(checklist, at, outcome)
    }

    /// The session's dose order in force.
    pub fn replay_order(&self, mg: Mg) -> Self {
        let mut next = self.clone();
        next.ordered = Some(mg);
        next
    }

    /// One recorded administration.
    pub fn replay_administration(&self, a: &Administration) -> Self {
        self.applied(a.step(), a.at())
    }

    /// One recorded reading, with the alarms it raised that are still open.
    pub fn replay_reading(&self, reading: &Reading, still_open: &[OpenAlarm]) -> Self {
        let mut next = self.clone();
        next.vitals.apply(reading);
        next.alarms.extend(still_open.iter().cloned());
        next
    }

    /// An end as recorded (an intervention that stopped the session, a transfer): the
    /// same rule as [`Self::end`], a transfer replaces an intervention's end, a second
    /// intervention keeps the first.
    pub fn replay_end(&self, ending: Ending) -> Self {
        let mut next = self.clone();
        next.ended = match (self.ended, ending.cause) {
            (Some(e), _) if e.cause == EndCause::EmergencyTransfer => Some(e),
            (Some(e), EndCause::Intervention) => Some(e),
            _ => Some(ending),
        };
        next
    }

    /// The discharge as recorded.
    pub fn replay_discharge(&self, at: Timestamp) -> Self {
        let mut next = self.clone();
        next.discharged_at = Some(at);
        next
    }
}
