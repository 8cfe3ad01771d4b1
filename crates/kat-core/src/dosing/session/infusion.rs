//! The IV infusion of a session: what the plan orders (stock concentration and
//! duration, hence the ordered pump rate) and what the pump has delivered so far
//! (issue 11 item 3: an infusion stopped after 2 minutes has not given the ordered dose).
//!
//! **Dilution assumption**, the same as [`order::ordered_rate_ml_per_h`]: the dose is
//! drawn from stock and diluted with an equal volume (DOSE-IV-004: the 100 mg/mL strength
//! never undiluted), so the bag runs at half the stock concentration. Delivered mg =
//! Σ rate × running time × stock / 2, capped at the dose drawn up (the pump cannot give
//! more than the bag holds).

use crate::dosing::order;
use crate::dosing::units::{Mg, MgPerMl, Minutes, MlPerHour};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What the plan says about an IV infusion (DOSE-IV-001, DOSE-IV-004).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InfusionPlan {
    /// The stock concentration drawn from.
    pub stock: MgPerMl,
    /// The planned infusion time (DOSE-IV-003: conventionally 40 minutes).
    pub minutes: Minutes,
}

impl InfusionPlan {
    /// The pump rate that gives `dose` over the planned time (`order::ordered_rate_ml_per_h`).
    pub fn ordered_rate(&self, dose: Mg) -> Option<MlPerHour> {
        order::ordered_rate_ml_per_h(dose, self.stock.value(), self.minutes.get()).and_then(|r| MlPerHour::new(r).ok())
    }

    /// The concentration in the bag: stock diluted with an equal volume.
    pub fn infused_concentration(&self) -> MgPerMl {
        MgPerMl::new(self.stock.value() / 2.0).unwrap_or(self.stock)
    }
}

/// Where the pump is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "pump", rename_all = "snake_case")]
pub enum Pump {
    Running { rate: MlPerHour, since: Timestamp },
    Paused { since: Timestamp },
    Stopped { at: Timestamp },
}

/// A started infusion: the dose drawn up, the bag's concentration, the volume run in
/// closed stretches (from a start or resume to the next pause, rate change or stop) and
/// the pump's state now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Infusion {
    prepared: Mg,
    concentration: MgPerMl,
    infused_ml: f64,
    pump: Pump,
}

fn hours(from: Timestamp, to: Timestamp) -> f64 {
    (to.duration_since(from).as_secs_f64() / 3600.0).max(0.0)
}

impl Infusion {
    pub(super) fn start(prepared: Mg, concentration: MgPerMl, rate: MlPerHour, at: Timestamp) -> Self {
        Self { prepared, concentration, infused_ml: 0.0, pump: Pump::Running { rate, since: at } }
    }

    pub fn pump(&self) -> Pump {
        self.pump
    }

    pub fn prepared(&self) -> Mg {
        self.prepared
    }

    /// The volume run by `at` (mL), not more than the bag holds.
    fn ml_at(&self, at: Timestamp) -> f64 {
        let open = match self.pump {
            Pump::Running { rate, since } => rate.value() * hours(since, at),
            Pump::Paused { .. } | Pump::Stopped { .. } => 0.0,
        };
        (self.infused_ml + open).min(self.prepared.value() / self.concentration.value())
    }

    /// The drug delivered by `at`: the volume run × the bag's concentration, capped at
    /// the dose drawn up. After the stop it no longer changes.
    pub fn delivered_at(&self, at: Timestamp) -> Mg {
        let at = match self.pump {
            Pump::Stopped { at: stop } => stop,
            _ => at,
        };
        let mg = (self.ml_at(at) * self.concentration.value()).min(self.prepared.value());
        Mg::new(mg.max(0.0)).unwrap_or(self.prepared)
    }

    /// Closes the running stretch at `at` and sets the pump to `next`.
    pub(super) fn set(&mut self, at: Timestamp, next: Pump) {
        self.infused_ml = self.ml_at(at);
        self.pump = next;
    }
}
