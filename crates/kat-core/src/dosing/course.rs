//! Dosing safe across sessions and plans (kat issue 11 item 1): one dose day per
//! patient, plans that overlap, and the clinic's minimum interval between sessions.
//!
//! The clinical reference gives dosing *frequencies* per route (twice weekly, weekly,
//! 3×/week: DOSE-IV-006, DOSE-IN-002..004, DOSE-SC-001, DOSE-PO-002..004) but **no
//! minimum interval** between two sessions in hours for any route, so none is encoded
//! here. What kat enforces by default is the day: a patient receives at most one dosing
//! session per clinic day unless a prescriber overrides with a reason; a clinic that has
//! signed off a minimum interval sets it as policy (`[dosing.course]
//! min_interval_hours`, off by default).
//!
//! Everything here is pure: the caller passes the patient's other sessions and plans,
//! today's clinic date and the time.

use crate::dosing::Route;
use crate::ids::{DosingSessionId, TreatmentPlanId, UserId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Clinic policy for the course (`[dosing.course]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoursePolicy {
    /// The minimum time between the opening of one dosing session and the next, in hours
    /// (any route). `None` by default: the reference gives no number, so beyond the one
    /// dose day nothing is enforced until the clinic's medical director sets one.
    pub min_interval_hours: Option<u32>,
}

/// Where another session of the patient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Open and not deferred: dosing may be under way.
    InProgress,
    /// Discharged, or ended by a transfer to emergency care: a dose day.
    Ended,
    /// Deferred at the pre-dose gate: nothing was given (no administration before the
    /// gate is passed), so it is not a dose day.
    DeferredAtGate,
}

/// Another dosing session of the same patient, as the check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherSession {
    pub id: DosingSessionId,
    pub route: Route,
    pub opened_at: Timestamp,
    /// The clinic's local date it was opened on.
    pub on: Date,
    pub standing: Standing,
}

/// Why another session stands in the way of a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConflictKind {
    /// A session not yet discharged, deferred or ended (left open, perhaps from an
    /// earlier day): a second open session splits the vitals and alarms between two
    /// records, so it needs a prescriber's reason too.
    StillOpen,
    /// A session on the same clinic day (one dose day per patient).
    SameDay,
    /// Opened less than the clinic's minimum interval ago (`[dosing.course]`).
    TooSoon { min_interval_hours: u32 },
}

/// Another session that the new one needs a prescriber's override for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionConflict {
    pub session: DosingSessionId,
    pub on: Date,
    pub route: Route,
    pub kind: ConflictKind,
}

impl fmt::Display for SessionConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ConflictKind::StillOpen => {
                write!(f, "{} session opened on {}, still open (not discharged)", self.route.label(), self.on)
            }
            ConflictKind::SameDay => write!(f, "{} session on {} (the same day)", self.route.label(), self.on),
            ConflictKind::TooSoon { min_interval_hours } => write!(
                f,
                "{} session on {}, less than the clinic's {min_interval_hours} hours between sessions ago",
                self.route.label(),
                self.on
            ),
        }
    }
}

/// What the core says about opening a new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoseDay {
    /// No other dose that day (nor within the clinic's interval), no session open.
    Clear,
    /// A prescriber may open it with a reason, naming these sessions: one still open,
    /// one the same clinic day, or one within the clinic's minimum interval.
    NeedsOverride(Vec<SessionConflict>),
}

/// One dose day per patient (issue 11 item 1): judges a new session opened at `now` on
/// the clinic date `today` against the patient's other sessions.
pub fn check_dose_day(others: &[OtherSession], today: Date, now: Timestamp, policy: &CoursePolicy) -> DoseDay {
    let mut conflicts: Vec<SessionConflict> = others
        .iter()
        .filter(|s| s.standing == Standing::InProgress)
        .map(|s| SessionConflict { session: s.id, on: s.on, route: s.route, kind: ConflictKind::StillOpen })
        .collect();
    for s in others.iter().filter(|s| s.standing == Standing::Ended) {
        let kind = if s.on == today {
            Some(ConflictKind::SameDay)
        } else {
            policy
                .min_interval_hours
                .filter(|&h| too_soon(s.opened_at, now, h))
                .map(|h| ConflictKind::TooSoon { min_interval_hours: h })
        };
        if let Some(kind) = kind {
            conflicts.push(SessionConflict { session: s.id, on: s.on, route: s.route, kind });
        }
    }
    if conflicts.is_empty() { DoseDay::Clear } else { DoseDay::NeedsOverride(conflicts) }
}

fn too_soon(before: Timestamp, now: Timestamp, hours: u32) -> bool {
    let gap = now.duration_since(before);
    gap < jiff::SignedDuration::from_hours(i64::from(hours))
}

/// A prescriber's override of the one-dose-day rule, stored with the new session and
/// shown on it, on the sessions it names and on the floor board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoseDayOverride {
    pub reason: String,
    pub by: UserId,
    /// The prescriber's name as it was when they overrode.
    pub by_name: String,
    pub conflicts: Vec<SessionConflict>,
}

impl DoseDayOverride {
    /// One line for the session pages and the floor tile.
    pub fn summary(&self) -> String {
        let what = if self.conflicts.iter().any(|c| c.kind == ConflictKind::StillOpen) {
            "Opened while another session was still open"
        } else if self.conflicts.iter().any(|c| c.kind == ConflictKind::SameDay) {
            "Second dose today"
        } else {
            "Dose sooner than the clinic's interval"
        };
        format!("{what} — override by {}: {}", self.by_name, self.reason)
    }
}

/// A signed plan's span of session dates, for the overlap check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSpan {
    pub plan: TreatmentPlanId,
    pub route: Route,
    pub first: Date,
    pub last: Date,
    pub dates: Vec<Date>,
}

impl PlanSpan {
    /// The span of `dates` (sorted here); `None` without any date.
    pub fn new(plan: TreatmentPlanId, route: Route, mut dates: Vec<Date>) -> Option<Self> {
        dates.sort();
        dates.dedup();
        Some(Self { plan, route, first: *dates.first()?, last: *dates.last()?, dates })
    }
}

/// Another active plan that overlaps the one being signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOverlap {
    pub plan: TreatmentPlanId,
    pub route: Route,
    pub first: Date,
    pub last: Date,
    /// Dates on which both plans schedule a session (two doses on one day).
    pub same_days: Vec<Date>,
}

impl fmt::Display for PlanOverlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} plan, {} to {}", self.route.label(), self.first, self.last)?;
        if !self.same_days.is_empty() {
            let days: Vec<String> = self.same_days.iter().map(|d| d.to_string()).collect();
            write!(f, ", with sessions on the same day: {}", days.join(", "))?;
        }
        Ok(())
    }
}

/// The signed plans (ketamine or esketamine: every plan kat holds) still active on
/// `today` (their last date not past) whose date range overlaps `this` one's.
pub fn overlapping_plans(this: &PlanSpan, signed: &[PlanSpan], today: Date) -> Vec<PlanOverlap> {
    signed
        .iter()
        .filter(|o| o.plan != this.plan && o.last >= today)
        .filter(|o| o.first <= this.last && this.first <= o.last)
        .map(|o| PlanOverlap {
            plan: o.plan,
            route: o.route,
            first: o.first,
            last: o.last,
            same_days: o.dates.iter().copied().filter(|d| this.dates.binary_search(d).is_ok()).collect(),
        })
        .collect()
}

/// A prescriber's reason to sign a plan that overlaps others, stored with the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOverlapOverride {
    pub reason: String,
    pub overlaps: Vec<PlanOverlap>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use uuid::Uuid;

    fn sid() -> DosingSessionId {
        DosingSessionId::from_uuid(Uuid::now_v7())
    }
    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }
    fn other(opened: &str, on: Date, standing: Standing) -> OtherSession {
        OtherSession { id: sid(), route: Route::IvInfusion, opened_at: at(opened), on, standing }
    }
    const NONE: CoursePolicy = CoursePolicy { min_interval_hours: None };

    #[test]
    fn a_session_ended_the_same_clinic_day_needs_an_override() {
        let today = date(2026, 12, 5);
        let s = other("2026-12-05T09:00:00Z", today, Standing::Ended);
        match check_dose_day(&[s], today, at("2026-12-05T15:00:00Z"), &NONE) {
            DoseDay::NeedsOverride(c) => {
                assert_eq!(
                    c,
                    vec![SessionConflict { session: s.id, on: today, route: s.route, kind: ConflictKind::SameDay }]
                );
                assert!(c[0].to_string().contains("IV infusion (racemic ketamine) session on 2026-12-05"), "{}", c[0]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_previous_clinic_day_is_clear_however_few_hours_ago() {
        // 23:30 yesterday, 00:30 today: one hour apart, two clinic days.
        let today = date(2026, 12, 5);
        let s = other("2026-12-04T23:30:00Z", date(2026, 12, 4), Standing::Ended);
        assert_eq!(check_dose_day(&[s], today, at("2026-12-05T00:30:00Z"), &NONE), DoseDay::Clear);
    }

    #[test]
    fn a_session_deferred_at_the_gate_is_not_a_dose_day() {
        let today = date(2026, 12, 5);
        let s = other("2026-12-05T09:00:00Z", today, Standing::DeferredAtGate);
        assert_eq!(check_dose_day(&[s], today, at("2026-12-05T15:00:00Z"), &NONE), DoseDay::Clear);
    }

    #[test]
    fn a_session_still_open_needs_a_prescribers_reason_naming_it() {
        let today = date(2026, 12, 5);
        let ended = other("2026-12-05T08:00:00Z", today, Standing::Ended);
        let open = other("2026-12-03T09:00:00Z", date(2026, 12, 3), Standing::InProgress);
        let DoseDay::NeedsOverride(c) = check_dose_day(&[ended, open], today, at("2026-12-05T15:00:00Z"), &NONE) else {
            panic!("an open session needs an override")
        };
        assert_eq!(
            c.iter().map(|c| (c.session, c.kind)).collect::<Vec<_>>(),
            vec![(open.id, ConflictKind::StillOpen), (ended.id, ConflictKind::SameDay)]
        );
        assert!(c[0].to_string().contains("still open"), "{}", c[0]);
        // Alone, from an earlier day, it still needs the reason.
        assert!(matches!(
            check_dose_day(&[open], today, at("2026-12-05T15:00:00Z"), &NONE),
            DoseDay::NeedsOverride(c) if c.len() == 1
        ));
    }

    #[test]
    fn the_clinic_minimum_interval_at_its_boundary() {
        let policy = CoursePolicy { min_interval_hours: Some(48) };
        let today = date(2026, 12, 5);
        let s = other("2026-12-03T09:00:00Z", date(2026, 12, 3), Standing::Ended);
        // 47 h 59 min after: too soon; exactly 48 h: allowed.
        match check_dose_day(&[s], today, at("2026-12-05T08:59:00Z"), &policy) {
            DoseDay::NeedsOverride(c) => assert_eq!(c[0].kind, ConflictKind::TooSoon { min_interval_hours: 48 }),
            other => panic!("{other:?}"),
        }
        assert_eq!(check_dose_day(&[s], today, at("2026-12-05T09:00:00Z"), &policy), DoseDay::Clear);
        // No interval by default: the day before is clear.
        assert_eq!(check_dose_day(&[s], today, at("2026-12-05T08:59:00Z"), &NONE), DoseDay::Clear);
    }

    #[test]
    fn the_override_summary_names_who_and_why() {
        let o = DoseDayOverride {
            reason: "Rescue dose agreed with the patient".into(),
            by: UserId::from_uuid(Uuid::now_v7()),
            by_name: "Dr Ada".into(),
            conflicts: vec![SessionConflict {
                session: sid(),
                on: date(2026, 12, 5),
                route: Route::IntranasalEsketamine,
                kind: ConflictKind::SameDay,
            }],
        };
        assert_eq!(o.summary(), "Second dose today — override by Dr Ada: Rescue dose agreed with the patient");
    }

    fn span(route: Route, dates: &[Date]) -> PlanSpan {
        PlanSpan::new(TreatmentPlanId::from_uuid(Uuid::now_v7()), route, dates.to_vec()).unwrap()
    }

    #[test]
    fn plans_overlap_when_their_ranges_meet_and_name_the_shared_days() {
        let today = date(2026, 12, 1);
        let iv = span(Route::IvInfusion, &[date(2026, 12, 7), date(2026, 12, 10), date(2026, 12, 14)]);
        let spv = span(Route::IntranasalEsketamine, &[date(2026, 12, 7), date(2026, 12, 11)]);
        let o = overlapping_plans(&spv, std::slice::from_ref(&iv), today);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].same_days, vec![date(2026, 12, 7)]);
        assert!(o[0].to_string().contains("2026-12-07 to 2026-12-14"), "{}", o[0]);
        // Boundary: a plan that ends the day before this one starts does not overlap; one
        // ending on its first day does.
        let before = span(Route::IvInfusion, &[date(2026, 12, 1), date(2026, 12, 6)]);
        assert!(overlapping_plans(&spv, std::slice::from_ref(&before), today).is_empty());
        let touching = span(Route::IvInfusion, &[date(2026, 12, 1), date(2026, 12, 7)]);
        assert_eq!(overlapping_plans(&spv, std::slice::from_ref(&touching), today).len(), 1);
    }

    #[test]
    fn an_ended_plan_and_the_plan_itself_do_not_count() {
        let old = span(Route::IvInfusion, &[date(2026, 11, 1), date(2026, 11, 20)]);
        let this = span(Route::IvInfusion, &[date(2026, 11, 15), date(2026, 12, 20)]);
        // The old plan's last date is past: ended.
        assert!(overlapping_plans(&this, &[old.clone(), this.clone()], date(2026, 11, 21)).is_empty());
        // On its last day it is still active.
        assert_eq!(overlapping_plans(&this, &[old], date(2026, 11, 20)).len(), 1);
    }
}
