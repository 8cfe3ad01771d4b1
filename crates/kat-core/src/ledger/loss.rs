//! Theft and significant loss (DEA-010, DEA-011): the report, who must be told by when,
//! and the clocks that start at discovery.

use crate::calendar::ClinicCalendar;
use crate::dosing::session::{Reason, ShortText};
use crate::ids::LedgerEntryId;
use jiff::Span;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// The type of loss, as DEA Form 106 asks it (DEA-011).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LossKind {
    Theft,
    Robbery,
    LostInTransit,
    EmployeePilferage,
    Other { detail: ShortText },
}

impl LossKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            LossKind::Theft => "theft",
            LossKind::Robbery => "robbery",
            LossKind::LostInTransit => "lost_in_transit",
            LossKind::EmployeePilferage => "employee_pilferage",
            LossKind::Other { .. } => "other",
        }
    }

    /// A theft of any kind, which is reported whatever the quantity (DEA-010).
    pub fn is_theft(&self) -> bool {
        matches!(self, LossKind::Theft | LossKind::Robbery | LossKind::EmployeePilferage)
    }
}

/// What is known of a theft or loss when it is recorded (DEA-010, DEA-011).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossReport {
    /// When it was discovered: both clocks start here (DEA-010).
    pub discovered_at: Timestamp,
    pub kind: LossKind,
    /// The registrant's judgement that a loss is significant (by quantity relative to
    /// the business, pattern, the drug, diversion risk: DEA-010). A theft is reported
    /// whatever this says.
    pub significant: bool,
    /// The police report (agency and number), when the police were notified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police: Option<ShortText>,
    pub explanation: Reason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrective_measures: Option<Reason>,
}

impl LossReport {
    /// Whether the DEA must be told: any theft, or a loss judged significant (DEA-010).
    pub fn reportable(&self) -> bool {
        self.kind.is_theft() || self.significant
    }
}

/// A later step of a loss report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum LossStep {
    /// The local DEA Field Division Office notified in writing (DEA-010); `reference`
    /// is how (the letter's or e-mail's reference).
    DeaNotified { at: Timestamp, reference: ShortText },
    /// DEA Form 106 filed electronically (DEA-010); `reference` is its confirmation.
    Form106Filed { at: Timestamp, reference: ShortText },
}

impl LossStep {
    pub fn at(&self) -> Timestamp {
        match self {
            LossStep::DeaNotified { at, .. } | LossStep::Form106Filed { at, .. } => *at,
        }
    }
}

/// The deadlines of a reportable loss. Each is exclusive: a step taken before it is on
/// time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LossClock {
    /// The end of the first business day after the day of discovery (DEA-010: "in
    /// writing within 1 business day of discovery"). Business days are the days the
    /// clinic's calendar has it open; a loss discovered on a closed day is due by the end
    /// of the next open day.
    pub notify_dea_by: Timestamp,
    /// The end of the 45th calendar day after the day of discovery (DEA-010: Form 106
    /// "within 45 days").
    pub form106_by: Timestamp,
}

/// The start of the day after `d` in the clinic's time zone: the end of `d`.
fn end_of(d: Date, tz: &TimeZone) -> Timestamp {
    d.tomorrow().ok().and_then(|next| next.to_zoned(tz.clone()).ok()).map(|z| z.timestamp()).unwrap_or(Timestamp::MAX)
}

/// The clocks of a loss discovered at `discovered_at` (DEA-010), in the clinic's time
/// zone and calendar.
pub fn loss_clock(discovered_at: Timestamp, tz: &TimeZone, calendar: &ClinicCalendar) -> LossClock {
    let day = discovered_at.to_zoned(tz.clone()).date();
    let next_business = day.tomorrow().ok().and_then(|d| calendar.next_open(d)).unwrap_or(day);
    let day45 = day.checked_add(Span::new().days(45)).unwrap_or(Date::MAX);
    LossClock { notify_dea_by: end_of(next_business, tz), form106_by: end_of(day45, tz) }
}

/// A loss and how far its reporting has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LossStatus {
    pub loss: LedgerEntryId,
    pub discovered_at: Timestamp,
    pub reportable: bool,
    pub dea_notified: Option<Timestamp>,
    pub form106_filed: Option<Timestamp>,
}

/// A reporting step due on a loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LossTaskKind {
    NotifyDea,
    FileForm106,
}

/// One step still to take, with its deadline; for the worklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LossTask {
    pub loss: LedgerEntryId,
    pub task: LossTaskKind,
    pub due: Timestamp,
    pub overdue: bool,
}

impl LossStatus {
    pub fn new(loss: LedgerEntryId, report: &LossReport) -> Self {
        Self {
            loss,
            discovered_at: report.discovered_at,
            reportable: report.reportable(),
            dea_notified: None,
            form106_filed: None,
        }
    }

    pub fn clock(&self, tz: &TimeZone, calendar: &ClinicCalendar) -> LossClock {
        loss_clock(self.discovered_at, tz, calendar)
    }

    /// The steps still to take at `now` (none for a loss that is not reportable), each
    /// overdue once its deadline has passed.
    pub fn tasks(&self, tz: &TimeZone, calendar: &ClinicCalendar, now: Timestamp) -> Vec<LossTask> {
        if !self.reportable {
            return Vec::new();
        }
        let clock = self.clock(tz, calendar);
        let mut out = Vec::new();
        let mut due = |task, done: Option<Timestamp>, by: Timestamp| {
            if done.is_none() {
                out.push(LossTask { loss: self.loss, task, due: by, overdue: now >= by });
            }
        };
        due(LossTaskKind::NotifyDea, self.dea_notified, clock.notify_dea_by);
        due(LossTaskKind::FileForm106, self.form106_filed, clock.form106_by);
        out
    }

    /// Whether a step was taken late (after its deadline), for the record.
    pub fn late_steps(&self, tz: &TimeZone, calendar: &ClinicCalendar) -> Vec<LossTaskKind> {
        let clock = self.clock(tz, calendar);
        let mut out = Vec::new();
        if self.dea_notified.is_some_and(|t| t >= clock.notify_dea_by) {
            out.push(LossTaskKind::NotifyDea);
        }
        if self.form106_filed.is_some_and(|t| t >= clock.form106_by) {
            out.push(LossTaskKind::FileForm106);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::ToSpan;
    use jiff::civil::{Weekday, date};

    fn ny() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    fn at(y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        date(y, m, d).at(h, min, 0, 0).to_zoned(ny()).unwrap().timestamp()
    }

    #[test]
    fn notify_by_the_end_of_the_next_business_day() {
        // Closed Saturdays and Sundays and on 2026-07-03 (observed holiday).
        let cal = ClinicCalendar::new(
            vec![Weekday::Saturday, Weekday::Sunday],
            vec![crate::calendar::ClosedDate::parse("2026-07-03").unwrap()],
        )
        .unwrap();
        // Monday 09:00 → the end of Tuesday.
        let c = loss_clock(at(2026, 6, 29, 9, 0), &ny(), &cal);
        assert_eq!(c.notify_dea_by, at(2026, 7, 1, 0, 0));
        // Thursday 2 July 23:59 → Friday 3 July is closed → the end of Monday 6 July.
        let c = loss_clock(at(2026, 7, 2, 23, 59), &ny(), &cal);
        assert_eq!(c.notify_dea_by, at(2026, 7, 7, 0, 0));
        // Discovered on a Saturday → the end of Monday.
        let c = loss_clock(at(2026, 7, 4, 10, 0), &ny(), &cal);
        assert_eq!(c.notify_dea_by, at(2026, 7, 7, 0, 0));
    }

    #[test]
    fn form_106_by_the_end_of_the_45th_day() {
        let cal = ClinicCalendar::default();
        let c = loss_clock(at(2026, 3, 1, 12, 0), &ny(), &cal);
        // 1 March + 45 days = 15 April; due before 16 April 00:00.
        assert_eq!(c.form106_by, at(2026, 4, 16, 0, 0));
        // Across the DST change (8 March 2026) the deadline is still local midnight.
        assert_eq!(c.form106_by.to_zoned(ny()).hour(), 0);
    }

    fn report(kind: LossKind, significant: bool) -> LossReport {
        LossReport {
            discovered_at: at(2026, 6, 29, 9, 0),
            kind,
            significant,
            police: None,
            explanation: Reason::parse("vial missing at count").unwrap(),
            corrective_measures: None,
        }
    }

    #[test]
    fn theft_is_always_reported_a_loss_when_significant() {
        assert!(report(LossKind::Theft, false).reportable());
        assert!(report(LossKind::EmployeePilferage, false).reportable());
        assert!(!report(LossKind::LostInTransit, false).reportable());
        assert!(report(LossKind::LostInTransit, true).reportable());
    }

    #[test]
    fn tasks_until_done_overdue_at_the_deadline() {
        let cal = ClinicCalendar::new(vec![Weekday::Saturday, Weekday::Sunday], vec![]).unwrap();
        let id = LedgerEntryId::from_uuid(uuid::Uuid::nil());
        let mut s = LossStatus::new(id, &report(LossKind::Theft, false));
        let due = at(2026, 7, 1, 0, 0);
        let t = s.tasks(&ny(), &cal, due.checked_sub(1.second()).unwrap());
        assert_eq!(t.len(), 2);
        assert!(!t[0].overdue, "one second before the deadline");
        assert!(s.tasks(&ny(), &cal, due)[0].overdue, "at the deadline");
        s.dea_notified = Some(at(2026, 6, 30, 16, 0));
        let t = s.tasks(&ny(), &cal, due);
        assert_eq!(t.iter().map(|t| t.task).collect::<Vec<_>>(), [LossTaskKind::FileForm106]);
        assert!(s.late_steps(&ny(), &cal).is_empty());
        s.form106_filed = Some(at(2026, 8, 20, 9, 0));
        assert!(s.tasks(&ny(), &cal, due).is_empty());
        assert_eq!(s.late_steps(&ny(), &cal), [LossTaskKind::FileForm106]);
        let quiet = LossStatus::new(id, &report(LossKind::LostInTransit, false));
        assert!(quiet.tasks(&ny(), &cal, due).is_empty(), "not reportable");
    }
}
