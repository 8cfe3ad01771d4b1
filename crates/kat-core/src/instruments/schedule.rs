//! The outcome-measurement schedule (clinical.md OUT-002 \[U\], a configurable clinic
//! default), as a pure function from anchor times to due time points.
//!
//! OUT-002 default: baseline (full battery); before each dose (PHQ-9, C-SSRS screener,
//! BP); on dosing days CADSS-6 and MOAA/S at about 40 min and before discharge; 24 h
//! after the first dose (PHQ-9, optional); end of induction (full battery; DOSE-IN-005
//! benefit decision); follow-ups 1, 2, 4, 8 and 12 weeks after the end of induction;
//! then monthly during maintenance. SUI-001 (suicidality screen at baseline, before
//! every dose and at every follow-up) is met by the default batteries, and
//! [`ScheduleTemplate::violates_sui_001`] checks a customised template.

use super::catalog::Instrument;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// Something to measure at a time point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "instrument", rename_all = "snake_case")]
pub enum Measure {
    Instrument(Instrument),
    BloodPressure,
}

/// Why a time point exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimePointKind {
    Baseline,
    /// Before dose `dose` (1-based).
    PreDose {
        dose: u16,
    },
    /// About 40 min after dose `dose` (peak effects, MON-SPV-004/MON-KET-005).
    PostDosePeak {
        dose: u16,
    },
    /// Before discharge from the session of dose `dose`; its time depends on the
    /// session, so it is due "before discharge", not at a clock time.
    BeforeDischarge {
        dose: u16,
    },
    AfterFirstDose,
    EndOfInduction,
    FollowUp {
        weeks: u16,
    },
    Maintenance {
        month: u16,
    },
}

/// When a time point is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "at", rename_all = "snake_case")]
pub enum Due {
    At(Timestamp),
    /// Before the patient leaves the session that started with this dose time.
    BeforeDischargeOf(Timestamp),
}

/// One due measurement time point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimePoint {
    pub kind: TimePointKind,
    pub due: Due,
    pub measures: Vec<Measure>,
    /// Optional points may be skipped without counting as missed.
    pub optional: bool,
    /// The spec rules behind the point.
    pub rules: &'static [&'static str],
}

/// The clinic's schedule template; `Default` is OUT-002.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleTemplate {
    pub full_battery: Vec<Measure>,
    pub pre_dose: Vec<Measure>,
    /// Offset after each dose for the peak-effect ratings (default 40 min).
    pub post_dose_offset: Option<SignedDuration>,
    pub post_dose: Vec<Measure>,
    pub before_discharge: Vec<Measure>,
    /// Offset after the first dose (default 24 h); `None` turns it off.
    pub after_first_dose_offset: Option<SignedDuration>,
    pub after_first_dose: Vec<Measure>,
    pub after_first_dose_optional: bool,
    /// Weeks after the end of induction (default 1, 2, 4, 8, 12).
    pub follow_up_weeks: Vec<u16>,
    pub follow_up: Vec<Measure>,
    /// Calendar months between maintenance measurements after the last follow-up
    /// (default 1); `None` turns maintenance measurements off.
    pub maintenance_every_months: Option<u16>,
}

impl Default for ScheduleTemplate {
    fn default() -> Self {
        use Instrument::*;
        let m = Measure::Instrument;
        // "Full battery": depression, anxiety, PTSD and suicidality (PRE-004). The
        // PCL-5 is "if indicated": a clinic or plan without PTSD removes it.
        let full_battery = vec![m(Phq9), m(Gad7), m(Pcl5), m(CssrsScreener)];
        Self {
            full_battery: full_battery.clone(),
            pre_dose: vec![m(Phq9), m(CssrsScreener), Measure::BloodPressure],
            post_dose_offset: Some(SignedDuration::from_mins(40)),
            post_dose: vec![m(Cadss6), m(Moaas)],
            before_discharge: vec![m(Cadss6), m(Moaas)],
            after_first_dose_offset: Some(SignedDuration::from_hours(24)),
            after_first_dose: vec![m(Phq9)],
            after_first_dose_optional: true,
            follow_up_weeks: vec![1, 2, 4, 8, 12],
            // OUT-002 does not list the follow-up battery; the full battery keeps every
            // outcome chartable through the relapse window and includes the C-SSRS
            // that SUI-001 requires at every follow-up.
            follow_up: full_battery,
            maintenance_every_months: Some(1),
        }
    }
}

impl ScheduleTemplate {
    /// SUI-001: suicidality must be screened at baseline, before every dose and at every
    /// follow-up (C-SSRS screener, or PHQ-9 whose item 9 is then followed up by a
    /// clinician). Returns the names of the batteries that screen nothing.
    pub fn violates_sui_001(&self) -> Vec<&'static str> {
        let screens = |b: &[Measure]| {
            b.contains(&Measure::Instrument(Instrument::CssrsScreener))
                || b.contains(&Measure::Instrument(Instrument::Phq9))
        };
        let mut out = Vec::new();
        if !screens(&self.full_battery) {
            out.push("full_battery");
        }
        if !screens(&self.pre_dose) {
            out.push("pre_dose");
        }
        if !self.follow_up_weeks.is_empty() && !screens(&self.follow_up) {
            out.push("follow_up");
        }
        out
    }
}

/// Inconsistent anchors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("dose times must be in strictly increasing order")]
    DosesOutOfOrder,
    #[error("the first dose must not be before the baseline")]
    DoseBeforeBaseline,
    #[error("the end of induction must not be before the last dose")]
    EndBeforeLastDose,
    #[error("the end of maintenance must be after the end of induction")]
    MaintenanceEndBeforeInduction,
    #[error("date arithmetic overflowed")]
    Overflow,
}

/// The times the schedule hangs on. Built with [`ScheduleAnchors::new`], which checks
/// their order, so the schedule function cannot be given an impossible course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleAnchors {
    baseline: Timestamp,
    doses: Vec<Timestamp>,
    end_of_induction: Option<Timestamp>,
    maintenance_until: Option<Timestamp>,
    /// The clinic's time zone, for calendar-month arithmetic.
    time_zone: TimeZone,
}

impl ScheduleAnchors {
    /// `doses` are the planned or actual dose times; `end_of_induction` is unknown
    /// until the induction plan is set; `maintenance_until` bounds the monthly
    /// measurements (none after the follow-ups without it).
    pub fn new(
        baseline: Timestamp,
        doses: Vec<Timestamp>,
        end_of_induction: Option<Timestamp>,
        maintenance_until: Option<Timestamp>,
        time_zone: TimeZone,
    ) -> Result<Self, ScheduleError> {
        if doses.windows(2).any(|w| w[1] <= w[0]) {
            return Err(ScheduleError::DosesOutOfOrder);
        }
        if doses.first().is_some_and(|&d| d < baseline) {
            return Err(ScheduleError::DoseBeforeBaseline);
        }
        if let Some(end) = end_of_induction {
            if doses.last().is_some_and(|&d| end < d) || end < baseline {
                return Err(ScheduleError::EndBeforeLastDose);
            }
            if maintenance_until.is_some_and(|m| m <= end) {
                return Err(ScheduleError::MaintenanceEndBeforeInduction);
            }
        }
        Ok(Self { baseline, doses, end_of_induction, maintenance_until, time_zone })
    }
}

const OUT_002: &[&str] = &["OUT-002"];
const OUT_002_SUI_001: &[&str] = &["OUT-002", "SUI-001"];
const OUT_002_POST_DOSE: &[&str] = &["OUT-002", "MON-SPV-005", "MON-KET-005"];
const OUT_002_DISCHARGE: &[&str] = &["OUT-002", "DC-004"];
const OUT_002_EOI: &[&str] = &["OUT-002", "DOSE-IN-005", "SUI-001"];

/// The due time points for a course, in time order (ties keep template order).
pub fn measurement_schedule(
    anchors: &ScheduleAnchors,
    template: &ScheduleTemplate,
) -> Result<Vec<TimePoint>, ScheduleError> {
    let add = |t: Timestamp, d: SignedDuration| t.checked_add(d).map_err(|_| ScheduleError::Overflow);
    let mut points = Vec::new();
    // Each point is sorted by an ordering time: its due time, or for a before-discharge
    // point the latest in-session point of its dose (discharge comes after those).
    let mut push = |order_at: Timestamp, kind, due, measures: &Vec<Measure>, optional, rules| {
        if !measures.is_empty() {
            points.push((order_at, TimePoint { kind, due, measures: measures.clone(), optional, rules }));
        }
    };
    push(
        anchors.baseline,
        TimePointKind::Baseline,
        Due::At(anchors.baseline),
        &template.full_battery,
        false,
        OUT_002_SUI_001,
    );
    for (i, &dose_at) in anchors.doses.iter().enumerate() {
        let dose = u16::try_from(i + 1).map_err(|_| ScheduleError::Overflow)?;
        push(dose_at, TimePointKind::PreDose { dose }, Due::At(dose_at), &template.pre_dose, false, OUT_002_SUI_001);
        let mut session_last = dose_at;
        if let Some(offset) = template.post_dose_offset {
            let at = add(dose_at, offset)?;
            session_last = session_last.max(at);
            push(at, TimePointKind::PostDosePeak { dose }, Due::At(at), &template.post_dose, false, OUT_002_POST_DOSE);
        }
        push(
            session_last,
            TimePointKind::BeforeDischarge { dose },
            Due::BeforeDischargeOf(dose_at),
            &template.before_discharge,
            false,
            OUT_002_DISCHARGE,
        );
    }
    if let (Some(&first), Some(offset)) = (anchors.doses.first(), template.after_first_dose_offset) {
        let at = add(first, offset)?;
        push(
            at,
            TimePointKind::AfterFirstDose,
            Due::At(at),
            &template.after_first_dose,
            template.after_first_dose_optional,
            OUT_002,
        );
    }
    if let Some(end) = anchors.end_of_induction {
        push(end, TimePointKind::EndOfInduction, Due::At(end), &template.full_battery, false, OUT_002_EOI);
        let zoned = end.to_zoned(anchors.time_zone.clone());
        let mut last = end;
        for &weeks in &template.follow_up_weeks {
            // Calendar weeks in the clinic's zone, so the local time of day holds
            // across daylight-saving changes.
            let at = zoned.checked_add(i64::from(weeks).weeks()).map_err(|_| ScheduleError::Overflow)?.timestamp();
            last = last.max(at);
            push(at, TimePointKind::FollowUp { weeks }, Due::At(at), &template.follow_up, false, OUT_002_SUI_001);
        }
        if let (Some(every), Some(until)) = (template.maintenance_every_months, anchors.maintenance_until)
            && every > 0
        {
            let start = last.to_zoned(anchors.time_zone.clone());
            for month in 1u16.. {
                let at = start
                    .checked_add(i64::from(month * every).months())
                    .map_err(|_| ScheduleError::Overflow)?
                    .timestamp();
                if at > until {
                    break;
                }
                push(
                    at,
                    TimePointKind::Maintenance { month },
                    Due::At(at),
                    &template.follow_up,
                    false,
                    OUT_002_SUI_001,
                );
            }
        }
    }
    points.sort_by_key(|(order_at, _)| *order_at);
    Ok(points.into_iter().map(|(_, p)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn anchors(end: Option<&str>, until: Option<&str>) -> ScheduleAnchors {
        ScheduleAnchors::new(
            t("2026-01-05T15:00:00Z"),
            vec![t("2026-01-12T15:00:00Z"), t("2026-01-15T15:00:00Z")],
            end.map(t),
            until.map(t),
            TimeZone::UTC,
        )
        .unwrap()
    }

    #[test]
    fn default_template_produces_out_002_points() {
        let pts =
            measurement_schedule(&anchors(Some("2026-02-09T15:00:00Z"), None), &ScheduleTemplate::default()).unwrap();
        let kinds: Vec<TimePointKind> = pts.iter().map(|p| p.kind).collect();
        use TimePointKind::*;
        assert_eq!(
            kinds,
            vec![
                Baseline,
                PreDose { dose: 1 },
                PostDosePeak { dose: 1 },
                BeforeDischarge { dose: 1 },
                AfterFirstDose,
                PreDose { dose: 2 },
                PostDosePeak { dose: 2 },
                BeforeDischarge { dose: 2 },
                EndOfInduction,
                FollowUp { weeks: 1 },
                FollowUp { weeks: 2 },
                FollowUp { weeks: 4 },
                FollowUp { weeks: 8 },
                FollowUp { weeks: 12 },
            ]
        );
        let due = |k| pts.iter().find(|p| p.kind == k).unwrap().due;
        assert_eq!(due(PostDosePeak { dose: 1 }), Due::At(t("2026-01-12T15:40:00Z")));
        assert_eq!(due(AfterFirstDose), Due::At(t("2026-01-13T15:00:00Z")));
        assert_eq!(due(BeforeDischarge { dose: 2 }), Due::BeforeDischargeOf(t("2026-01-15T15:00:00Z")));
        assert_eq!(due(FollowUp { weeks: 12 }), Due::At(t("2026-05-04T15:00:00Z")));
        assert!(pts.iter().find(|p| p.kind == AfterFirstDose).unwrap().optional);
        let pre = pts.iter().find(|p| p.kind == PreDose { dose: 2 }).unwrap();
        assert!(pre.measures.contains(&Measure::Instrument(Instrument::CssrsScreener)));
        assert!(pre.measures.contains(&Measure::BloodPressure));
        assert!(ScheduleTemplate::default().violates_sui_001().is_empty());
    }

    #[test]
    fn no_end_of_induction_means_no_follow_ups() {
        let pts = measurement_schedule(&anchors(None, None), &ScheduleTemplate::default()).unwrap();
        assert!(pts.iter().all(|p| !matches!(p.kind, TimePointKind::FollowUp { .. } | TimePointKind::EndOfInduction)));
    }

    #[test]
    fn monthly_maintenance_until_the_end_date() {
        let pts = measurement_schedule(
            &anchors(Some("2026-02-09T15:00:00Z"), Some("2026-07-04T15:00:00Z")),
            &ScheduleTemplate::default(),
        )
        .unwrap();
        let m: Vec<&TimePoint> = pts.iter().filter(|p| matches!(p.kind, TimePointKind::Maintenance { .. })).collect();
        // Week 12 is 2026-05-04; monthly → 06-04, 07-04 (inclusive bound).
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].due, Due::At(t("2026-06-04T15:00:00Z")));
        assert_eq!(m[1].due, Due::At(t("2026-07-04T15:00:00Z")));
    }

    #[test]
    fn follow_ups_keep_local_time_across_dst() {
        let tz = TimeZone::get("America/New_York").unwrap();
        // 10:00 local on 2026-02-27 (EST, UTC−5); 2 weeks later is after the March DST
        // change (EDT, UTC−4), still 10:00 local.
        let a = ScheduleAnchors::new(
            t("2026-02-01T15:00:00Z"),
            vec![t("2026-02-02T15:00:00Z")],
            Some(t("2026-02-27T15:00:00Z")),
            None,
            tz,
        )
        .unwrap();
        let pts = measurement_schedule(&a, &ScheduleTemplate::default()).unwrap();
        let two = pts.iter().find(|p| p.kind == TimePointKind::FollowUp { weeks: 2 }).unwrap();
        assert_eq!(two.due, Due::At(t("2026-03-13T14:00:00Z")));
    }

    #[test]
    fn template_is_configurable() {
        let template = ScheduleTemplate {
            follow_up_weeks: vec![4],
            after_first_dose_offset: None,
            post_dose_offset: None,
            ..ScheduleTemplate::default()
        };
        let pts = measurement_schedule(&anchors(Some("2026-02-09T15:00:00Z"), None), &template).unwrap();
        assert_eq!(pts.iter().filter(|p| matches!(p.kind, TimePointKind::FollowUp { .. })).count(), 1);
        assert!(!pts.iter().any(|p| p.kind == TimePointKind::AfterFirstDose));
        assert!(!pts.iter().any(|p| matches!(p.kind, TimePointKind::PostDosePeak { .. })));
        let bad = ScheduleTemplate { pre_dose: vec![Measure::BloodPressure], ..ScheduleTemplate::default() };
        assert_eq!(bad.violates_sui_001(), vec!["pre_dose"]);
    }

    #[test]
    fn anchors_are_checked() {
        let b = t("2026-01-05T15:00:00Z");
        let d1 = t("2026-01-12T15:00:00Z");
        let d2 = t("2026-01-15T15:00:00Z");
        assert_eq!(
            ScheduleAnchors::new(b, vec![d2, d1], None, None, TimeZone::UTC),
            Err(ScheduleError::DosesOutOfOrder)
        );
        assert_eq!(
            ScheduleAnchors::new(d1, vec![b], None, None, TimeZone::UTC),
            Err(ScheduleError::DoseBeforeBaseline)
        );
        assert_eq!(
            ScheduleAnchors::new(b, vec![d1, d2], Some(d1), None, TimeZone::UTC),
            Err(ScheduleError::EndBeforeLastDose)
        );
        assert_eq!(
            ScheduleAnchors::new(b, vec![d1], Some(d2), Some(d2), TimeZone::UTC),
            Err(ScheduleError::MaintenanceEndBeforeInduction)
        );
    }
}
