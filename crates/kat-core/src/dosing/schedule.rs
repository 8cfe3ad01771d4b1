//! The plan's session dates as they stand after deferrals (§3: a deferred session is
//! "rescheduled").
//!
//! A signed plan keeps the dates it was signed with; a deferral at the pre-dose gate
//! moves one of them. Which one: the planned date nearest to the day of the deferred
//! session (ties: the earlier), among dates not already moved away — the patient came
//! for that dose. With a new date the dose moves there; without one it is "deferred, no
//! new date yet" and shows as needing a date.

use jiff::civil::Date;
use serde::Serialize;

/// A deferral recorded at the gate: the day of the session, and the new date if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deferral {
    pub on: Date,
    pub to: Option<Date>,
}

/// One planned dose of the course and where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScheduledDose {
    /// The date in the signed plan.
    pub planned: Date,
    /// The date it is now booked for; `None` when deferred without a new date.
    pub current: Option<Date>,
    /// How many times it was deferred.
    pub deferrals: u32,
}

impl ScheduledDose {
    pub fn moved(&self) -> bool {
        self.current != Some(self.planned)
    }
}

fn days_apart(a: Date, b: Date) -> i64 {
    (a.since(b).map(|s| s.get_days()).unwrap_or(i32::MAX)).unsigned_abs().into()
}

/// The plan's doses after applying `deferrals` in the order they happened; sorted by
/// current date, doses without a date last.
pub fn effective_schedule(planned: &[Date], deferrals: &[Deferral]) -> Vec<ScheduledDose> {
    let mut doses: Vec<ScheduledDose> =
        planned.iter().map(|&d| ScheduledDose { planned: d, current: Some(d), deferrals: 0 }).collect();
    for d in deferrals {
        let nearest = doses
            .iter_mut()
            .filter_map(|dose| dose.current.map(|c| (days_apart(c, d.on), c, dose)))
            .min_by_key(|(gap, current, _)| (*gap, *current))
            .map(|(_, _, dose)| dose);
        if let Some(dose) = nearest {
            dose.current = d.to;
            dose.deferrals += 1;
        }
    }
    doses.sort_by_key(|d| (d.current.is_none(), d.current, d.planned));
    doses
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn plan() -> Vec<Date> {
        vec![date(2026, 3, 10), date(2026, 3, 13), date(2026, 3, 17)]
    }

    #[test]
    fn without_deferrals_the_plan_stands() {
        let s = effective_schedule(&plan(), &[]);
        assert_eq!(s.iter().map(|d| d.current.unwrap()).collect::<Vec<_>>(), plan());
        assert!(s.iter().all(|d| !d.moved() && d.deferrals == 0));
    }

    #[test]
    fn a_deferral_moves_the_dose_of_that_day_and_keeps_the_order() {
        let s = effective_schedule(&plan(), &[Deferral { on: date(2026, 3, 13), to: Some(date(2026, 3, 20)) }]);
        let current: Vec<Date> = s.iter().map(|d| d.current.unwrap()).collect();
        assert_eq!(current, vec![date(2026, 3, 10), date(2026, 3, 17), date(2026, 3, 20)]);
        let moved = s.iter().find(|d| d.moved()).unwrap();
        assert_eq!((moved.planned, moved.deferrals), (date(2026, 3, 13), 1));
    }

    #[test]
    fn a_late_session_matches_the_nearest_planned_date_ties_earlier() {
        // Came on the 11th for the 10th's dose (1 day off vs 2 days): the 10th moves.
        let s = effective_schedule(&plan(), &[Deferral { on: date(2026, 3, 11), to: Some(date(2026, 3, 12)) }]);
        assert_eq!(s[0].planned, date(2026, 3, 10));
        assert_eq!(s[0].current, Some(date(2026, 3, 12)));
        // Exactly between the 13th and the 17th (the 15th): the earlier one moves.
        let s = effective_schedule(&plan(), &[Deferral { on: date(2026, 3, 15), to: Some(date(2026, 3, 16)) }]);
        let moved: Vec<Date> = s.iter().filter(|d| d.moved()).map(|d| d.planned).collect();
        assert_eq!(moved, vec![date(2026, 3, 13)]);
    }

    #[test]
    fn a_deferral_without_a_date_leaves_the_dose_unbooked_and_a_second_deferral_moves_it_again() {
        let s = effective_schedule(&plan(), &[Deferral { on: date(2026, 3, 10), to: None }]);
        assert_eq!(s.last().unwrap().current, None, "unbooked doses come last");
        assert_eq!(s.last().unwrap().planned, date(2026, 3, 10));
        // Moved to the 11th, deferred again on the 11th to the 12th: the same dose, twice.
        let s = effective_schedule(
            &plan(),
            &[
                Deferral { on: date(2026, 3, 10), to: Some(date(2026, 3, 11)) },
                Deferral { on: date(2026, 3, 11), to: Some(date(2026, 3, 12)) },
            ],
        );
        let d = s.iter().find(|d| d.planned == date(2026, 3, 10)).unwrap();
        assert_eq!((d.current, d.deferrals), (Some(date(2026, 3, 12)), 2));
        assert_eq!(s.iter().filter(|d| d.moved()).count(), 1);
    }

    #[test]
    fn a_deferral_with_nothing_left_to_move_changes_nothing() {
        let s = effective_schedule(&[], &[Deferral { on: date(2026, 3, 10), to: Some(date(2026, 3, 11)) }]);
        assert!(s.is_empty());
    }
}
