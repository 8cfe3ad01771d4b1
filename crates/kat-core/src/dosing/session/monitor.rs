//! What the alarm and discharge rules need from a session's readings, kept as the
//! readings arrive so that a reading costs the same whatever the session's length
//! (issue 10 item 4): the baseline (the gate's pre-dose BP and HR, else the earliest
//! reading's, as the app's `baseline()` did from the whole list) and the latest value of
//! each vital with its time (what [`crate::monitoring::discharge::current_values`] takes from the list).
//!
//! Ordering is the list's: readings by their time, and among readings of the same time
//! the one recorded later counts as later (the store lists them by time, then by a
//! time-ordered id).

use crate::monitoring::vitals::{
    Baseline, BloodPressure, ClinicalSigns, HeartRate, Moaas, Reading, ReadingSource, RespiratoryRate, SpO2,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A value and the time of the reading it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timed<T> {
    pub at: Timestamp,
    pub value: T,
}

/// Keeps the later of the kept value and a new one (a tie goes to the new one, recorded
/// later).
fn keep_latest<T>(slot: &mut Option<Timed<T>>, at: Timestamp, value: Option<T>) {
    if let Some(value) = value
        && slot.as_ref().is_none_or(|s| at >= s.at)
    {
        *slot = Some(Timed { at, value });
    }
}

/// The latest reading's own time, source and signs (`current_values` carries them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LastReading {
    at: Timestamp,
    source: ReadingSource,
    #[serde(default, skip_serializing_if = "is_default")]
    signs: ClinicalSigns,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// The monitoring state of one session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Vitals {
    /// The gate checklist's pre-dose BP and HR (§3), which take precedence in the baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_bp: Option<BloodPressure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_hr: Option<HeartRate>,
    /// The earliest reading's values (a tie goes to the one recorded first).
    #[serde(skip_serializing_if = "Option::is_none")]
    first: Option<Timed<Baseline>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last: Option<LastReading>,
    /// The latest blood pressure and the one before it (MON-SPV-002: is it falling?).
    #[serde(skip_serializing_if = "Option::is_none")]
    bp: Option<Timed<BloodPressure>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bp_before: Option<Timed<BloodPressure>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hr: Option<Timed<HeartRate>>,
    /// SpO2 with the oxygen it was read on (from the same reading).
    #[serde(skip_serializing_if = "Option::is_none")]
    spo2: Option<Timed<(SpO2, Option<bool>)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rr: Option<Timed<RespiratoryRate>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    moaas: Option<Timed<Moaas>>,
    /// How many readings were applied.
    count: u32,
}

impl Vitals {
    pub(super) fn set_gate(&mut self, bp: Option<BloodPressure>, hr: Option<HeartRate>) {
        self.gate_bp = bp;
        self.gate_hr = hr;
    }

    /// The baseline alarms and discharge judge against: the gate's pre-dose BP and HR
    /// (§3), else the earliest reading's; SpO2 and RR from the earliest reading.
    pub fn baseline(&self) -> Baseline {
        let mut b = self.first.map(|f| f.value).unwrap_or_default();
        b.blood_pressure = self.gate_bp.or(b.blood_pressure);
        b.heart_rate = self.gate_hr.or(b.heart_rate);
        b
    }

    /// The number of readings applied.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The time of the latest reading.
    pub fn last_at(&self) -> Option<Timestamp> {
        self.last.as_ref().map(|l| l.at)
    }

    /// Applies one reading, in O(1).
    pub(super) fn apply(&mut self, r: &Reading) {
        let at = r.at;
        if self.first.is_none_or(|f| at < f.at) {
            self.first = Some(Timed { at, value: Baseline::from_reading(r) });
        }
        if self.last.as_ref().is_none_or(|l| at >= l.at) {
            self.last = Some(LastReading { at, source: r.source.clone(), signs: r.signs });
        }
        if let Some(bp) = r.blood_pressure {
            match self.bp {
                Some(latest) if at < latest.at => {
                    if self.bp_before.is_none_or(|b| at >= b.at) {
                        self.bp_before = Some(Timed { at, value: bp });
                    }
                }
                latest => {
                    self.bp_before = latest;
                    self.bp = Some(Timed { at, value: bp });
                }
            }
        }
        keep_latest(&mut self.hr, at, r.heart_rate);
        keep_latest(&mut self.spo2, at, r.spo2.map(|s| (s, r.on_supplemental_o2)));
        keep_latest(&mut self.rr, at, r.respiratory_rate);
        keep_latest(&mut self.moaas, at, r.moaas);
        self.count = self.count.saturating_add(1);
    }

    /// Each vital's latest value from the readings taken at or after `since` (the end of
    /// dosing), and the blood pressure before the latest one: the same answer as
    /// [`crate::monitoring::discharge::current_values`] over every reading of the session.
    pub fn current_values(&self, since: Timestamp) -> (Option<Reading>, Option<BloodPressure>) {
        let Some(last) = self.last.as_ref().filter(|l| l.at >= since) else {
            return (None, None);
        };
        fn after<T: Copy>(slot: Option<Timed<T>>, since: Timestamp) -> Option<T> {
            slot.filter(|s| s.at >= since).map(|s| s.value)
        }
        let mut current = Reading::empty(last.at, last.source.clone());
        current.blood_pressure = after(self.bp, since);
        current.heart_rate = after(self.hr, since);
        if let Some((spo2, o2)) = after(self.spo2, since) {
            current.spo2 = Some(spo2);
            current.on_supplemental_o2 = o2;
        }
        current.respiratory_rate = after(self.rr, since);
        current.moaas = after(self.moaas, since);
        current.signs = last.signs;
        (Some(current), after(self.bp_before, since))
    }

    /// The latest value of each vital with its time, whenever it was taken (for the
    /// floor board).
    pub fn latest_bp(&self) -> Option<Timed<BloodPressure>> {
        self.bp
    }
    pub fn latest_hr(&self) -> Option<Timed<HeartRate>> {
        self.hr
    }
    pub fn latest_spo2(&self) -> Option<Timed<(SpO2, Option<bool>)>> {
        self.spo2
    }
    pub fn latest_rr(&self) -> Option<Timed<RespiratoryRate>> {
        self.rr
    }
    pub fn latest_moaas(&self) -> Option<Timed<Moaas>> {
        self.moaas
    }
}
