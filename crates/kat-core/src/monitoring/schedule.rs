//! Which checks are due when during a dosing session (MON-SPV-002, MON-SPV-003,
//! MON-SPV-004, MON-KET-003, MON-KET-005, MON-KET-006).
//!
//! The schedule is computed from the session's dose times, so a reminder screen only
//! has to ask [`MonitoringSchedule::next_check_due`] with the current time.

use crate::dosing::route::Route;
use crate::dosing::rule::RuleId;
use crate::dosing::units::{Minutes, add_minutes};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A measurement or assessment the schedule asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    BloodPressure,
    HeartRate,
    SpO2,
    RespiratoryRate,
    /// MOAA/S (MON-SPV-005, MON-KET-006).
    Sedation,
    /// CADSS or CADSS-6 (MON-SPV-006, MON-KET-005).
    Dissociation,
    /// The discharge-readiness assessment (§4.5).
    DischargeAssessment,
}

/// One scheduled time and what is due then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledCheck {
    pub at: Timestamp,
    pub checks: BTreeSet<CheckKind>,
    pub rules: BTreeSet<RuleId>,
}

/// When dosing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimes {
    /// Infusion start, the injection or oral dose, or the first esketamine device.
    pub dose_start: Timestamp,
    /// Infusion end, or the last esketamine device; equal to `dose_start` for a single
    /// injection or oral dose.
    pub dose_end: Timestamp,
}

/// Clinic monitoring-frequency policy. Defaults are the spec's suggested defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulePolicy {
    /// Vitals interval during an IV infusion and for `intensive_after_dose` after other
    /// racemic routes. Default 10 min (MON-KET-003).
    pub intensive_every: Minutes,
    /// How long the intensive interval lasts after an IM/SC/SL/intranasal racemic dose.
    /// Default 40 min (MON-KET-003).
    pub intensive_after_dose: Minutes,
    /// Vitals interval after that, until discharge. Default 15 min (MON-KET-003).
    pub followup_every: Minutes,
    /// When the peak assessment (sedation, dissociation) falls after the dose. Default
    /// 40 min (MON-KET-005 "at peak, about 40 min"; MON-SPV-002 BP at about 40 min).
    pub peak_assessment_at: Minutes,
    /// Spravato: BP interval after the 40-minute check. Default none: the label says "as
    /// clinically warranted" and gives no number (MON-SPV-002).
    pub spravato_followup_every: Option<Minutes>,
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        Self {
            intensive_every: Minutes::new(10),
            intensive_after_dose: Minutes::new(40),
            followup_every: Minutes::new(15),
            peak_assessment_at: Minutes::new(40),
            spravato_followup_every: None,
        }
    }
}

/// A repeating check from `from` onwards, every `every`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Repeat {
    from: Timestamp,
    every: Minutes,
    checks: BTreeSet<CheckKind>,
    rule: RuleId,
}

/// The monitoring plan of one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitoringSchedule {
    /// Fixed time points, merged by time.
    points: Vec<ScheduledCheck>,
    /// Open-ended repeating checks (racemic: every 15 min until discharge).
    repeat: Option<Repeat>,
    /// Checks monitored continuously, not at points (SpO2: MON-KET-003, MON-SPV-003).
    pub continuous: BTreeSet<CheckKind>,
}

const VITALS: [CheckKind; 4] =
    [CheckKind::BloodPressure, CheckKind::HeartRate, CheckKind::SpO2, CheckKind::RespiratoryRate];

impl MonitoringSchedule {
    /// The schedule for a session. `discharge_after` is the route's minimum observation
    /// (see [`super::discharge::DischargePolicy::min_observation`]); the discharge
    /// assessment is scheduled then.
    pub fn for_session(route: Route, times: SessionTimes, discharge_after: Minutes, policy: &SchedulePolicy) -> Self {
        let mut map: BTreeMap<Timestamp, (BTreeSet<CheckKind>, BTreeSet<RuleId>)> = BTreeMap::new();
        let mut add = |at: Timestamp, checks: &[CheckKind], rule: &'static str| {
            let e = map.entry(at).or_default();
            e.0.extend(checks.iter().copied());
            e.1.insert(RuleId::spec(rule));
        };
        let after_end = |m: Minutes| add_minutes(times.dose_end, m);
        let peak = [CheckKind::Sedation, CheckKind::Dissociation];
        let discharge = [
            CheckKind::BloodPressure,
            CheckKind::HeartRate,
            CheckKind::SpO2,
            CheckKind::RespiratoryRate,
            CheckKind::Sedation,
            CheckKind::Dissociation,
            CheckKind::DischargeAssessment,
        ];
        let continuous: BTreeSet<CheckKind> = [CheckKind::SpO2].into();
        let repeat;
        if route.is_esketamine() {
            // MON-SPV-002: BP before dosing, at about 40 min after dosing, and before the
            // session ends; MON-SPV-003: pulse oximetry every session.
            add(times.dose_start, &VITALS, "MON-SPV-002");
            add(after_end(policy.peak_assessment_at), &[CheckKind::BloodPressure, CheckKind::SpO2], "MON-SPV-002");
            // MON-SPV-004: sedation peaks at 30–45 min; MON-SPV-005/006 scales.
            add(after_end(policy.peak_assessment_at), &peak, "MON-SPV-004");
            add(after_end(discharge_after), &discharge, "MON-SPV-001");
            repeat = policy.spravato_followup_every.map(|every| Repeat {
                from: after_end(policy.peak_assessment_at),
                every,
                checks: [CheckKind::BloodPressure].into(),
                rule: RuleId::spec("MON-SPV-002"),
            });
        } else {
            // MON-KET-003: pre-dose; every 10 min during an IV infusion or for 40 min
            // after IM/SL dosing; then every 15 min until discharge; continuous SpO2.
            add(times.dose_start, &VITALS, "MON-KET-003");
            let intensive_end = if route == Route::IvInfusion {
                times.dose_end
            } else {
                add_minutes(times.dose_start, policy.intensive_after_dose)
            };
            let every = policy.intensive_every.get().max(1);
            let mut t = add_minutes(times.dose_start, Minutes::new(every));
            while t <= intensive_end {
                add(t, &VITALS, "MON-KET-003");
                t = add_minutes(t, Minutes::new(every));
            }
            // MON-KET-005/006: sedation and dissociation at the peak (about 40 min from
            // the start of dosing, MON-KET-004) and before discharge.
            add(add_minutes(times.dose_start, policy.peak_assessment_at), &peak, "MON-KET-005");
            add(after_end(discharge_after), &discharge, "DC-002");
            repeat = Some(Repeat {
                from: intensive_end,
                every: Minutes::new(policy.followup_every.get().max(1)),
                checks: VITALS.into(),
                rule: RuleId::spec("MON-KET-003"),
            });
        }
        let points = map.into_iter().map(|(at, (checks, rules))| ScheduledCheck { at, checks, rules }).collect();
        Self { points, repeat, continuous }
    }

    /// The fixed time points, in order.
    pub fn points(&self) -> &[ScheduledCheck] {
        &self.points
    }

    /// The next check due at or after `now`, merging fixed points and the repeating
    /// interval when they fall at the same time. `None` only when nothing more is
    /// scheduled (Spravato after the discharge assessment, with no follow-up interval).
    pub fn next_check_due(&self, now: Timestamp) -> Option<ScheduledCheck> {
        let fixed = self.points.iter().find(|p| p.at >= now).cloned();
        let repeating = self.repeat.as_ref().map(|r| {
            let at = if now <= r.from {
                add_minutes(r.from, r.every)
            } else {
                let elapsed = now.duration_since(r.from).as_secs();
                let step = i64::from(r.every.get()) * 60;
                let n = (elapsed + step - 1) / step;
                let n = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
                add_minutes(r.from, Minutes::new(r.every.get().saturating_mul(n)))
            };
            ScheduledCheck { at, checks: r.checks.clone(), rules: [r.rule.clone()].into() }
        });
        match (fixed, repeating) {
            (None, r) => r,
            (f, None) => f,
            (Some(f), Some(r)) if f.at < r.at => Some(f),
            (Some(f), Some(r)) if r.at < f.at => Some(r),
            (Some(mut f), Some(r)) => {
                f.checks.extend(r.checks);
                f.rules.extend(r.rules);
                Some(f)
            }
        }
    }

    /// The earliest scheduled check after `last_done` that is already due at `now`:
    /// what is overdue. `None` when nothing is overdue.
    pub fn overdue(&self, last_done: Option<Timestamp>, now: Timestamp) -> Option<ScheduledCheck> {
        let after = match last_done {
            Some(t) => t.checked_add(jiff::SignedDuration::from_secs(1)).unwrap_or(t),
            None => Timestamp::MIN,
        };
        self.next_check_due(after).filter(|c| c.at <= now)
    }
}

/// An open alarm's recheck (ALM-002, the one rule with a recheck interval: "recheck in
/// 5 min" at the intervene tier, "every 5 min" at the notify tier): due `every` after the
/// newest reading of its measure taken at or after the reading that raised it, so each
/// recheck sets the next while the alarm stays open. `newest` earlier than `raised_at`
/// counts as none.
pub fn recheck(
    rule: RuleId,
    check: CheckKind,
    raised_at: Timestamp,
    every: Minutes,
    newest: Option<Timestamp>,
) -> ScheduledCheck {
    let from = newest.map_or(raised_at, |n| n.max(raised_at));
    ScheduledCheck { at: add_minutes(from, every), checks: [check].into(), rules: [rule].into() }
}

/// The tighter of two next checks (the schedule's and an open alarm's recheck): the
/// earlier one; at the same time, one check with what both ask for.
pub fn tighter(a: Option<ScheduledCheck>, b: Option<ScheduledCheck>) -> Option<ScheduledCheck> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) if a.at < b.at => Some(a),
        (Some(a), Some(b)) if b.at < a.at => Some(b),
        (Some(mut a), Some(b)) => {
            a.checks.extend(b.checks);
            a.rules.extend(b.rules);
            Some(a)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Timestamp {
        let t0: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        t0 + jiff::SignedDuration::from_mins(min)
    }

    fn iv() -> MonitoringSchedule {
        MonitoringSchedule::for_session(
            Route::IvInfusion,
            SessionTimes { dose_start: t(0), dose_end: t(40) },
            Minutes::new(60),
            &SchedulePolicy::default(),
        )
    }

    #[test]
    fn iv_every_10_min_during_infusion_then_every_15() {
        let s = iv();
        assert_eq!(s.next_check_due(t(0)).unwrap().at, t(0));
        assert_eq!(s.next_check_due(t(1)).unwrap().at, t(10));
        assert_eq!(s.next_check_due(t(10)).unwrap().at, t(10));
        assert_eq!(s.next_check_due(t(31)).unwrap().at, t(40));
        let at40 = s.next_check_due(t(40)).unwrap();
        assert!(at40.checks.contains(&CheckKind::Sedation), "peak assessment at 40 min");
        assert_eq!(s.next_check_due(t(41)).unwrap().at, t(55));
        assert_eq!(s.next_check_due(t(56)).unwrap().at, t(70));
        // Discharge assessment 60 min after the end of the infusion (DC-002).
        let d = s.next_check_due(t(86)).unwrap();
        assert_eq!(d.at, t(100));
        assert!(d.checks.contains(&CheckKind::DischargeAssessment));
        assert!(d.checks.contains(&CheckKind::BloodPressure));
        // Every 15 min continues until discharge.
        assert_eq!(s.next_check_due(t(101)).unwrap().at, t(115));
        assert!(s.continuous.contains(&CheckKind::SpO2));
    }

    #[test]
    fn im_is_intensive_for_40_minutes_after_the_dose() {
        let s = MonitoringSchedule::for_session(
            Route::Intramuscular,
            SessionTimes { dose_start: t(0), dose_end: t(0) },
            Minutes::new(60),
            &SchedulePolicy::default(),
        );
        assert_eq!(s.next_check_due(t(35)).unwrap().at, t(40));
        assert_eq!(s.next_check_due(t(41)).unwrap().at, t(55));
    }

    #[test]
    fn spravato_bp_before_at_40_and_before_discharge() {
        let s = MonitoringSchedule::for_session(
            Route::IntranasalEsketamine,
            SessionTimes { dose_start: t(0), dose_end: t(10) },
            Minutes::new(120),
            &SchedulePolicy::default(),
        );
        let at = |m| s.next_check_due(t(m)).map(|c| c.at);
        assert_eq!(at(0), Some(t(0)));
        assert_eq!(at(1), Some(t(50)));
        assert!(s.next_check_due(t(50)).unwrap().checks.contains(&CheckKind::BloodPressure));
        assert_eq!(at(51), Some(t(130)));
        assert_eq!(at(131), None, "no interval configured after the discharge assessment");
        let with_followup = MonitoringSchedule::for_session(
            Route::IntranasalEsketamine,
            SessionTimes { dose_start: t(0), dose_end: t(10) },
            Minutes::new(120),
            &SchedulePolicy { spravato_followup_every: Some(Minutes::new(30)), ..SchedulePolicy::default() },
        );
        assert_eq!(with_followup.next_check_due(t(51)).unwrap().at, t(80));
    }

    #[test]
    fn overdue_checks() {
        let s = iv();
        assert_eq!(s.overdue(Some(t(0)), t(9)), None);
        assert_eq!(s.overdue(Some(t(0)), t(12)).unwrap().at, t(10));
        assert_eq!(s.overdue(None, t(0)).unwrap().at, t(0));
    }

    #[test]
    fn an_alarms_recheck_follows_its_newest_reading_and_the_tighter_check_wins() {
        let rule = RuleId::spec("ALM-002");
        let every = Minutes::new(5);
        // Raised by the reading at 12: due at 17; a recheck at 16 sets the next at 21.
        assert_eq!(recheck(rule.clone(), CheckKind::BloodPressure, t(12), every, None).at, t(17));
        assert_eq!(recheck(rule.clone(), CheckKind::BloodPressure, t(12), every, Some(t(16))).at, t(21));
        // A reading older than the alarm does not move it.
        assert_eq!(recheck(rule.clone(), CheckKind::BloodPressure, t(12), every, Some(t(3))).at, t(17));
        let r = recheck(rule.clone(), CheckKind::BloodPressure, t(12), every, None);
        assert!(r.rules.contains(&rule) && r.checks.contains(&CheckKind::BloodPressure));
        // The schedule's next check is at 20 (IV, every 10 min during the infusion).
        let sched = iv().next_check_due(t(12) + jiff::SignedDuration::from_secs(1));
        assert_eq!(sched.as_ref().unwrap().at, t(20));
        // 17 < 20: the recheck; 21 > 20: the schedule; both at 20: one merged check.
        assert_eq!(tighter(sched.clone(), Some(r.clone())).unwrap().at, t(17));
        let later = recheck(rule.clone(), CheckKind::BloodPressure, t(16), every, None);
        assert_eq!(tighter(sched.clone(), Some(later.clone())).unwrap().at, t(20));
        assert!(!tighter(sched.clone(), Some(later)).unwrap().rules.contains(&rule));
        let same = recheck(rule.clone(), CheckKind::BloodPressure, t(15), every, None);
        let merged = tighter(sched.clone(), Some(same)).unwrap();
        assert_eq!(merged.at, t(20));
        assert!(merged.rules.contains(&rule) && merged.rules.len() > 1, "{merged:?}");
        // No schedule (before the first dose): the recheck alone; neither: none.
        assert_eq!(tighter(None, Some(r.clone())), Some(r));
        assert_eq!(tighter(None, None), None);
    }
}
