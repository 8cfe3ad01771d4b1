//! A plan's session dates generated from its protocol's phases (clinical.md §2), which
//! staff may then adjust (a fixed interval, or a list of dates, at the shell).
//!
//! Weeks are counted from the first session: week 1 is the first session's day and the
//! six days after it, week `w` starts `7 × (w − 1)` days after the first session. The
//! phases are walked in order; a phase with `to_week` ends after that week, the last
//! phase without one continues until enough sessions are planned.
//!
//! How sessions fall inside a phase is a **scheduling convention, not a clinical
//! threshold**; the prescriber adjusts the dates as needed:
//!
//! - [`Frequency::PerWeek`]`(n)`: session `k` (0-based) of each week falls on day
//!   `⌊7k / n⌋` of that week, as evenly as whole days allow, earliest first: 1/week →
//!   day 0; 2/week → days 0 and 3; 3/week → days 0, 2 and 4; more than 7 a week is
//!   taken as daily.
//! - [`Frequency::EveryDays`]`{ min, .. }`: every `min` days from the phase's first day
//!   (the most frequent the protocol allows; the prescriber may space them further).
//! - [`Frequency::WeeklyOrEveryTwoWeeks`]: weekly, on day 0 of each week. The least
//!   frequent interval that keeps the response is the prescriber's choice (DOSE-IN-004),
//!   so the generated dates are the upper bound the prescriber spaces out.
//! - [`Frequency::Single`]: one session on the phase's first day.
//! - [`Frequency::Individualised`] (DOSE-IV-009), or a protocol without phases: no
//!   dates can be generated; the prescriber gives the interval ([`NoFixedFrequency`]).
//!
//! The count is capped at the protocol's `max_sessions` when it has one; fewer dates
//! than asked also come back when the protocol's phases all end before that many
//! sessions. The caller compares the length with the number it asked for.

use super::protocol::{Frequency, Protocol};
use jiff::Span;
use jiff::civil::Date;

/// The protocol reaches a phase without a fixed frequency (individualised, DOSE-IV-009)
/// or has no phases, so its dates need the prescriber's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFixedFrequency;

impl std::fmt::Display for NoFixedFrequency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("this protocol has no fixed frequency; give the days between sessions")
    }
}

impl std::error::Error for NoFixedFrequency {}

/// Day offsets (from the phase's first day, within one week) of `n` sessions a week.
fn week_days(n: u8) -> impl Iterator<Item = i64> {
    let n = i64::from(n.clamp(1, 7));
    (0..n).map(move |k| 7 * k / n)
}

/// The session dates of `protocol` from `first`, at most `sessions` of them (and at
/// most the protocol's `max_sessions`), by walking its phases (see the module doc).
pub fn plan_dates(protocol: &Protocol, first: Date, sessions: u32) -> Result<Vec<Date>, NoFixedFrequency> {
    let cap = protocol.max_sessions.map_or(sessions, |max| sessions.min(u32::from(max)));
    let want = usize::try_from(cap).unwrap_or(usize::MAX);
    if protocol.phases.is_empty() {
        return if want == 0 { Ok(Vec::new()) } else { Err(NoFixedFrequency) };
    }
    let mut out: Vec<Date> = Vec::new();
    // Offsets in days from `first`; a date is kept only after the previous one, so
    // overlapping phases cannot plan a day twice or go backwards.
    let push = |offset: i64, out: &mut Vec<Date>| -> bool {
        match first.checked_add(Span::new().days(offset)) {
            Ok(d) if out.last().is_none_or(|last| d > *last) => {
                out.push(d);
                true
            }
            Ok(_) => true,
            Err(_) => false, // past the calendar's end: stop
        }
    };
    for phase in protocol.phases {
        if out.len() >= want {
            break;
        }
        let start = 7 * (i64::from(phase.from_week.max(1)) - 1);
        // First day after the phase; `None`: continues.
        let end = phase.to_week.map(|w| 7 * i64::from(w.max(phase.from_week)));
        let within = |offset: i64| end.is_none_or(|e| offset < e);
        match phase.frequency {
            Frequency::Individualised => return Err(NoFixedFrequency),
            Frequency::Single => {
                if !push(start, &mut out) {
                    return Ok(out);
                }
            }
            Frequency::PerWeek(0) => return Err(NoFixedFrequency),
            Frequency::PerWeek(n) => {
                let mut week = start;
                'weeks: while out.len() < want && within(week) {
                    for day in week_days(n) {
                        if out.len() >= want {
                            break 'weeks;
                        }
                        if !push(week + day, &mut out) {
                            return Ok(out);
                        }
                    }
                    week += 7;
                }
            }
            Frequency::EveryDays { min, .. } => {
                let step = i64::from(min.max(1));
                let mut day = start;
                while out.len() < want && within(day) {
                    if !push(day, &mut out) {
                        return Ok(out);
                    }
                    day += step;
                }
            }
            Frequency::WeeklyOrEveryTwoWeeks => {
                let mut day = start;
                while out.len() < want && within(day) {
                    if !push(day, &mut out) {
                        return Ok(out);
                    }
                    day += 7;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dosing::protocol::{LIBRARY, ProtocolId, protocol};
    use jiff::civil::date;

    fn offsets(p: ProtocolId, n: u32) -> Vec<i32> {
        let first = date(2026, 3, 10);
        plan_dates(protocol(p), first, n).unwrap().iter().map(|d| d.since(first).unwrap().get_days()).collect()
    }

    #[test]
    fn spravato_trd_twice_weekly_weeks_1_to_4_weekly_5_to_8_then_weekly() {
        // DOSE-IN-002: weeks 1-4 twice weekly (days 0 and 3); DOSE-IN-003: weeks 5-8
        // weekly; DOSE-IN-004: week 9 on, weekly (the prescriber may space to 2 weeks).
        let d = offsets(ProtocolId::SpravatoTrd, 20);
        assert_eq!(&d[..8], &[0, 3, 7, 10, 14, 17, 21, 24], "induction");
        assert_eq!(&d[8..12], &[28, 35, 42, 49], "maintenance: week 5 starts on day 28");
        assert_eq!(&d[12..], &[56, 63, 70, 77, 84, 91, 98, 105], "continuation from week 9 (day 56)");
        // The boundaries: the last induction session is in week 4, the first weekly one
        // in week 5; the last maintenance in week 8, continuation from week 9.
        assert_eq!((d[7] / 7 + 1, d[8] / 7 + 1), (4, 5));
        assert_eq!((d[11] / 7 + 1, d[12] / 7 + 1), (8, 9));
        // Fewer sessions: stops inside induction.
        assert_eq!(offsets(ProtocolId::SpravatoTrd, 3), vec![0, 3, 7]);
        let dates = plan_dates(protocol(ProtocolId::SpravatoTrd), date(2026, 3, 10), 9).unwrap();
        assert_eq!(dates[0], date(2026, 3, 10));
        assert_eq!(dates[1], date(2026, 3, 13));
        assert_eq!(dates[8], date(2026, 4, 7));
    }

    #[test]
    fn per_week_spacing_three_a_week() {
        // Murrough 2013: 3x/week over 12 days, up to 6 (DOSE-IV-006).
        assert_eq!(offsets(ProtocolId::IvMurrough2013, 6), vec![0, 2, 4, 7, 9, 11]);
        assert_eq!(week_days(1).collect::<Vec<_>>(), vec![0]);
        assert_eq!(week_days(2).collect::<Vec<_>>(), vec![0, 3]);
        assert_eq!(week_days(4).collect::<Vec<_>>(), vec![0, 1, 3, 5]);
        assert_eq!(week_days(9).collect::<Vec<_>>(), (0..7).collect::<Vec<_>>(), "more than 7 a week: daily");
    }

    #[test]
    fn capped_at_max_sessions() {
        // ELEKT-D: 6 infusions twice weekly for 3 weeks; 10 asked, 6 given.
        assert_eq!(offsets(ProtocolId::IvElektD, 10), vec![0, 3, 7, 10, 14, 17]);
        // KetECT: up to 12.
        assert_eq!(offsets(ProtocolId::IvKetect, 60).len(), 12);
        assert_eq!(offsets(ProtocolId::SpravatoMdsi, 20).len(), 8);
    }

    #[test]
    fn single_is_one_session() {
        assert_eq!(offsets(ProtocolId::IvSingleStandard, 6), vec![0]);
        assert_eq!(offsets(ProtocolId::IvSingleStandard, 1), vec![0]);
    }

    #[test]
    fn every_days_uses_the_shortest_interval_and_continues() {
        assert_eq!(offsets(ProtocolId::OralAlShirawi2017Titration, 5), vec![0, 3, 6, 9, 12]);
        assert_eq!(offsets(ProtocolId::SublingualLara2013, 4), vec![0, 2, 4, 6]);
    }

    #[test]
    fn individualised_or_phaseless_needs_the_prescribers_interval() {
        let first = date(2026, 3, 10);
        assert_eq!(plan_dates(protocol(ProtocolId::IntranasalRacemicRct50mg), first, 3), Err(NoFixedFrequency));
        assert_eq!(plan_dates(protocol(ProtocolId::ImChilukuri2014High), first, 3), Err(NoFixedFrequency));
        assert!(NoFixedFrequency.to_string().contains("give the days between sessions"));
    }

    #[test]
    fn every_library_protocol_gives_increasing_dates_or_asks_for_the_interval() {
        let first = date(2026, 3, 10);
        for p in LIBRARY {
            match plan_dates(p, first, 60) {
                Ok(dates) => {
                    assert!(!dates.is_empty(), "{:?}", p.id);
                    assert_eq!(dates[0], first, "{:?}", p.id);
                    assert!(dates.windows(2).all(|w| w[0] < w[1]), "{:?}", p.id);
                    if let Some(max) = p.max_sessions {
                        assert_eq!(dates.len(), usize::from(max), "{:?}: its phases hold max_sessions", p.id);
                    }
                }
                Err(NoFixedFrequency) => assert!(p.max_sessions.is_none(), "{:?}", p.id),
            }
        }
    }
}
