//! The clinic's calendar: the weekdays and dates it is closed, so that generated session
//! dates fall on days the clinic is open.
//!
//! This is **clinic policy, not a clinical rule**: the clinical reference says nothing
//! about opening days. The default closes Sundays, 1 January and 25 December (a plan
//! generated without a calendar put sessions on Sundays and on Christmas Day); a clinic
//! sets its own weekdays, annual holidays (`MM-DD`) and one-off dates (`YYYY-MM-DD`).
//!
//! A generated date that falls on a closed day moves to the next open day, and never onto
//! or before the date before it, so the order of a course is kept and no day is planned
//! twice. Staff who choose dates by hand are told when one of them is a closed day.

use jiff::civil::{Date, Weekday};
use std::fmt;

/// A day the clinic is closed every year, or once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedDate {
    /// Every year on this month and day (`12-25`).
    Annual { month: i8, day: i8 },
    /// One date (`2026-12-24`).
    On(Date),
}

impl ClosedDate {
    /// Parses `MM-DD` (every year) or `YYYY-MM-DD` (once).
    pub fn parse(raw: &str) -> Result<Self, CalendarError> {
        let raw = raw.trim();
        let bad = || CalendarError(format!("`{raw}` is not a date: use MM-DD (every year) or YYYY-MM-DD (once)"));
        if let Ok(date) = raw.parse::<Date>() {
            return Ok(ClosedDate::On(date));
        }
        let (m, d) = raw.split_once('-').ok_or_else(bad)?;
        if m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let (month, day): (i8, i8) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
        // 29 February is a valid annual date (it closes the clinic in leap years).
        Date::new(2024, month, day).map_err(|_| bad())?;
        Ok(ClosedDate::Annual { month, day })
    }

    fn matches(&self, date: Date) -> bool {
        match *self {
            ClosedDate::Annual { month, day } => date.month() == month && date.day() == day,
            ClosedDate::On(d) => d == date,
        }
    }
}

impl fmt::Display for ClosedDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClosedDate::Annual { month, day } => write!(f, "{month:02}-{day:02}"),
            ClosedDate::On(d) => write!(f, "{d}"),
        }
    }
}

/// A calendar setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarError(pub String);

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CalendarError {}

/// The days the clinic is closed (clinic policy; see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicCalendar {
    closed_weekdays: Vec<Weekday>,
    closed_dates: Vec<ClosedDate>,
}

impl Default for ClinicCalendar {
    /// Closed on Sundays, 1 January and 25 December.
    fn default() -> Self {
        Self {
            closed_weekdays: vec![Weekday::Sunday],
            closed_dates: vec![ClosedDate::Annual { month: 1, day: 1 }, ClosedDate::Annual { month: 12, day: 25 }],
        }
    }
}

impl ClinicCalendar {
    /// A calendar open at least one weekday.
    pub fn new(closed_weekdays: Vec<Weekday>, closed_dates: Vec<ClosedDate>) -> Result<Self, CalendarError> {
        let mut weekdays = closed_weekdays;
        weekdays.sort_by_key(|w| w.to_monday_zero_offset());
        weekdays.dedup();
        if weekdays.len() >= 7 {
            return Err(CalendarError("the clinic must be open on at least one weekday".into()));
        }
        Ok(Self { closed_weekdays: weekdays, closed_dates })
    }

    /// A calendar with no closed day.
    pub fn always_open() -> Self {
        Self { closed_weekdays: Vec::new(), closed_dates: Vec::new() }
    }

    pub fn closed_weekdays(&self) -> &[Weekday] {
        &self.closed_weekdays
    }

    pub fn closed_dates(&self) -> &[ClosedDate] {
        &self.closed_dates
    }

    pub fn is_open(&self, date: Date) -> bool {
        !self.closed_weekdays.contains(&date.weekday()) && !self.closed_dates.iter().any(|c| c.matches(date))
    }

    /// The first open day on or after `date`; `None` only past the calendar's end.
    pub fn next_open(&self, date: Date) -> Option<Date> {
        let mut d = date;
        // At most six closed weekdays in a row, plus closed dates: a year is far more
        // than any real calendar needs, and it bounds the loop.
        for _ in 0..366 {
            if self.is_open(d) {
                return Some(d);
            }
            d = d.tomorrow().ok()?;
        }
        None
    }

    /// Generated dates moved onto open days: each to the first open day on or after it
    /// and after the one before it, so the order is kept and no day is planned twice.
    /// Dates that cannot be placed (past the calendar's end) are dropped.
    pub fn shift_to_open_days(&self, dates: &[Date]) -> Vec<Date> {
        let mut out: Vec<Date> = Vec::with_capacity(dates.len());
        for &date in dates {
            let earliest = match out.last() {
                Some(prev) if *prev >= date => match prev.tomorrow() {
                    Ok(d) => d,
                    Err(_) => break,
                },
                _ => date,
            };
            match self.next_open(earliest) {
                Some(d) => out.push(d),
                None => break,
            }
        }
        out
    }
}

/// Parses a weekday's English name (`sunday`, `Sun`), as configuration writes it.
pub fn parse_weekday(raw: &str) -> Result<Weekday, CalendarError> {
    let w = raw.trim().to_ascii_lowercase();
    let all = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];
    all.iter()
        .find(|(name, _)| *name == w || (w.len() == 3 && name.starts_with(&w)))
        .map(|(_, day)| *day)
        .ok_or_else(|| CalendarError(format!("`{}` is not a weekday (monday … sunday)", raw.trim())))
}

/// A weekday's English name in lower case, as configuration writes it.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn the_default_closes_sundays_new_year_and_christmas() {
        let c = ClinicCalendar::default();
        assert!(!c.is_open(date(2026, 12, 6)), "a Sunday");
        assert!(c.is_open(date(2026, 12, 7)), "a Monday");
        assert!(c.is_open(date(2026, 12, 5)), "a Saturday");
        assert!(!c.is_open(date(2026, 12, 25)), "Christmas Day, a Friday");
        assert!(c.is_open(date(2026, 12, 24)));
        assert!(!c.is_open(date(2027, 1, 1)));
    }

    #[test]
    fn closed_dates_parse_annual_and_once() {
        assert_eq!(ClosedDate::parse("12-25"), Ok(ClosedDate::Annual { month: 12, day: 25 }));
        assert_eq!(ClosedDate::parse("02-29"), Ok(ClosedDate::Annual { month: 2, day: 29 }));
        assert_eq!(ClosedDate::parse("2026-12-24"), Ok(ClosedDate::On(date(2026, 12, 24))));
        for bad in ["13-01", "12-32", "2026-02-30", "christmas", "1-1", ""] {
            assert!(ClosedDate::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ClosedDate::parse("01-01").unwrap().to_string(), "01-01");
    }

    #[test]
    fn weekdays_parse_by_name_or_three_letters() {
        assert_eq!(parse_weekday("Sunday"), Ok(Weekday::Sunday));
        assert_eq!(parse_weekday("sat"), Ok(Weekday::Saturday));
        assert!(parse_weekday("sundays").is_err());
        assert!(parse_weekday("su").is_err());
        for d in [Weekday::Monday, Weekday::Sunday] {
            assert_eq!(parse_weekday(weekday_name(d)), Ok(d));
        }
    }

    #[test]
    fn a_calendar_must_open_some_day() {
        let all = (0..7).map(|i| Weekday::from_monday_zero_offset(i).unwrap()).collect::<Vec<_>>();
        assert!(ClinicCalendar::new(all.clone(), vec![]).is_err());
        assert!(ClinicCalendar::new(all[..6].to_vec(), vec![]).is_ok());
    }

    #[test]
    fn generated_dates_move_to_the_next_open_day_in_order() {
        let c = ClinicCalendar::default();
        // Twice weekly from Thursday 17 Dec 2026: days 0 and 3 (Sunday 20 → Monday 21),
        // then Thursday 24 and Sunday 27 → Monday 28; Christmas is not planned.
        let planned = [date(2026, 12, 17), date(2026, 12, 20), date(2026, 12, 24), date(2026, 12, 27)];
        assert_eq!(
            c.shift_to_open_days(&planned),
            [date(2026, 12, 17), date(2026, 12, 21), date(2026, 12, 24), date(2026, 12, 28)]
        );
        // Saturday 2026-12-26 is open; a Sunday shifted onto Monday pushes a Monday on.
        assert_eq!(
            c.shift_to_open_days(&[date(2026, 12, 27), date(2026, 12, 28)]),
            [date(2026, 12, 28), date(2026, 12, 29)]
        );
        // Christmas Day (Friday) moves to Saturday the 26th.
        assert_eq!(c.shift_to_open_days(&[date(2026, 12, 25)]), [date(2026, 12, 26)]);
        // Already open: unchanged.
        assert_eq!(ClinicCalendar::always_open().shift_to_open_days(&planned), planned);
    }

    proptest! {
        #[test]
        fn shifted_dates_are_open_ordered_and_never_earlier(
            offsets in proptest::collection::vec(0i64..60, 0..20),
            closed in proptest::collection::vec(0i8..7, 0..6),
        ) {
            let weekdays = closed.iter().map(|i| Weekday::from_monday_zero_offset(*i).unwrap()).collect();
            let c = ClinicCalendar::new(weekdays, vec![ClosedDate::Annual { month: 12, day: 25 }]).unwrap();
            let mut planned: Vec<Date> = offsets
                .iter()
                .map(|o| date(2026, 12, 1).checked_add(jiff::Span::new().days(*o)).unwrap())
                .collect();
            planned.sort();
            planned.dedup();
            let shifted = c.shift_to_open_days(&planned);
            prop_assert_eq!(shifted.len(), planned.len());
            for (i, d) in shifted.iter().enumerate() {
                prop_assert!(c.is_open(*d));
                prop_assert!(*d >= planned[i]);
                if i > 0 {
                    prop_assert!(*d > shifted[i - 1]);
                }
            }
        }
    }
}
