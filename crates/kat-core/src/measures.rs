//! Measurement-based care around the instruments: where a response came from, the
//! urgent safety alerts a response raises (SUI-001, SUI-003), how an alert is
//! acknowledged, a patient's measurement-plan anchors (OUT-002), the due/overdue
//! worklist and the per-instrument outcome summary (RESP-001..007, REL-003).
//!
//! Pure: times and "today" come in as arguments.

use crate::field::FieldErrors;
use crate::instruments::outcome::{self, DatedTotal, OutcomePolicy, OutcomeScale, OutcomeStatus};
use crate::instruments::schedule::{
    Due, Measure, ScheduleAnchors, ScheduleTemplate, TimePointKind, measurement_schedule,
};
use crate::instruments::{Flag, Instrument, Score};
use crate::patient::parse_iso_date;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::fmt;

/// Who gave the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseSource {
    /// The patient, through a one-time self-report link.
    SelfReport,
    /// A clinician entered the answers on the patient's behalf (read out or on paper).
    Clinician,
}

impl ResponseSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseSource::SelfReport => "self_report",
            ResponseSource::Clinician => "clinician",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "self_report" => Some(ResponseSource::SelfReport),
            "clinician" => Some(ResponseSource::Clinician),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ResponseSource::SelfReport => "Self-report",
            ResponseSource::Clinician => "Entered by clinician",
        }
    }
}

/// Why an urgent safety alert was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyAlertKind {
    /// PHQ-9 item 9 ≥ 1 (instruments.md §2.5; SUI-001).
    SuicidalIdeation,
    /// C-SSRS screener high risk (instruments.md §5.2; SUI-003).
    CssrsHighRisk,
}

impl SafetyAlertKind {
    pub const ALL: [SafetyAlertKind; 2] = [SafetyAlertKind::SuicidalIdeation, SafetyAlertKind::CssrsHighRisk];
    pub fn as_str(self) -> &'static str {
        match self {
            SafetyAlertKind::SuicidalIdeation => "suicidal_ideation",
            SafetyAlertKind::CssrsHighRisk => "cssrs_high_risk",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            SafetyAlertKind::SuicidalIdeation => "PHQ-9 item 9 answered above \u{201c}Not at all\u{201d}",
            SafetyAlertKind::CssrsHighRisk => "C-SSRS screener: high risk",
        }
    }
    /// What the spec asks the clinician to do.
    pub fn guidance(self) -> &'static str {
        match self {
            SafetyAlertKind::SuicidalIdeation => {
                "Review now and complete a structured suicide-risk assessment (e.g. C-SSRS screener). SUI-001, instruments.md §2.5."
            }
            SafetyAlertKind::CssrsHighRisk => {
                "Same-day clinician assessment; defer dosing if the patient cannot be kept safe as an outpatient; activate the safety plan; crisis line 988. SUI-003."
            }
        }
    }
    pub fn rule(self) -> &'static str {
        match self {
            SafetyAlertKind::SuicidalIdeation => Flag::SuicidalIdeation.rule(),
            SafetyAlertKind::CssrsHighRisk => Flag::CssrsHighRisk.rule(),
        }
    }
}

/// The urgent alerts a scored response raises. A missing item 9 is *not* an alert (it
/// is flagged `safety_item_missing` for the clinician to ask again) and is never
/// treated as 0.
pub fn alerts_for(score: &Score) -> Vec<SafetyAlertKind> {
    let mut out = Vec::new();
    for f in score.flags() {
        match f {
            Flag::SuicidalIdeation => out.push(SafetyAlertKind::SuicidalIdeation),
            Flag::CssrsHighRisk => out.push(SafetyAlertKind::CssrsHighRisk),
            Flag::SafetyItemMissing | Flag::RiskBehaviourReview => {}
        }
    }
    out
}

/// What the clinician did about an alert (required to acknowledge it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    SafetyPlanReviewed,
    CrisisResourcesGiven,
    SameDayAssessmentBooked,
    EmergencyServicesCalled,
    Other,
}

impl AlertAction {
    pub const ALL: [AlertAction; 5] = [
        AlertAction::SafetyPlanReviewed,
        AlertAction::CrisisResourcesGiven,
        AlertAction::SameDayAssessmentBooked,
        AlertAction::EmergencyServicesCalled,
        AlertAction::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::SafetyPlanReviewed => "safety_plan_reviewed",
            AlertAction::CrisisResourcesGiven => "crisis_resources_given",
            AlertAction::SameDayAssessmentBooked => "same_day_assessment_booked",
            AlertAction::EmergencyServicesCalled => "emergency_services_called",
            AlertAction::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }
    pub fn label(self) -> &'static str {
        match self {
            AlertAction::SafetyPlanReviewed => "Safety plan reviewed with the patient",
            AlertAction::CrisisResourcesGiven => "Crisis resources given (988)",
            AlertAction::SameDayAssessmentBooked => "Same-day assessment booked",
            AlertAction::EmergencyServicesCalled => "Emergency services called",
            AlertAction::Other => "Other (describe in the note)",
        }
    }
}

/// The longest acknowledgement note.
pub const NOTE_MAX: usize = 2000;

/// A parsed acknowledgement: an action, and a note (required for `other`).
#[derive(Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub action: AlertAction,
    pub note: Option<String>,
}

impl fmt::Debug for Acknowledgement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Acknowledgement({}, note: [redacted])", self.action.as_str())
    }
}

/// The acknowledgement form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct AcknowledgeForm {
    pub action: String,
    pub note: String,
}

impl AcknowledgeForm {
    pub fn parse(&self) -> Result<Acknowledgement, FieldErrors> {
        let mut errors = FieldErrors::new();
        let action = if self.action.trim().is_empty() {
            errors.add("action", "choose what was done");
            None
        } else {
            let a = AlertAction::parse(&self.action);
            if a.is_none() {
                errors.add("action", "is not one of the listed actions");
            }
            a
        };
        let note = self.note.trim();
        if note.chars().count() > NOTE_MAX {
            errors.add("note", format!("must be at most {NOTE_MAX} characters"));
        } else if note.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            errors.add("note", "contains control characters");
        }
        if action == Some(AlertAction::Other) && note.is_empty() {
            errors.add("note", "describe what was done");
        }
        let note = (!note.is_empty()).then(|| note.to_string());
        errors.into_result(|| Acknowledgement { action: action.expect("checked"), note })
    }
}

/// A patient's measurement-plan anchors (OUT-002). Dosing sessions (issue 5) will feed
/// real dose times later; until then clinicians keep these dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanAnchors {
    pub baseline: Date,
    /// Planned or actual dose dates, strictly increasing; the first is the first dose.
    pub dose_dates: Vec<Date>,
    pub end_of_induction: Option<Date>,
    /// The PCL-5 is "if indicated" in the full battery.
    pub include_pcl5: bool,
}

/// The plan form as typed: dates YYYY-MM-DD, dose dates separated by commas, spaces or
/// new lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct PlanForm {
    pub baseline: String,
    pub dose_dates: String,
    pub end_of_induction: String,
    pub include_pcl5: Option<String>,
}

impl PlanForm {
    pub fn from_anchors(a: &PlanAnchors) -> Self {
        Self {
            baseline: a.baseline.to_string(),
            dose_dates: a.dose_dates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
            end_of_induction: a.end_of_induction.map(|d| d.to_string()).unwrap_or_default(),
            include_pcl5: a.include_pcl5.then(|| "on".into()),
        }
    }

    pub fn parse(&self) -> Result<PlanAnchors, FieldErrors> {
        let mut errors = FieldErrors::new();
        let baseline = match parse_iso_date(self.baseline.trim()) {
            Some(d) => Some(d),
            None => {
                errors.add(
                    "baseline",
                    if self.baseline.trim().is_empty() { "is required" } else { "must be a date YYYY-MM-DD" },
                );
                None
            }
        };
        let mut doses = Vec::new();
        for part in self.dose_dates.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
            match parse_iso_date(part) {
                Some(d) => doses.push(d),
                None => {
                    errors.add("dose_dates", format!("`{part}` is not a date YYYY-MM-DD"));
                    break;
                }
            }
        }
        if doses.windows(2).any(|w| w[1] <= w[0]) {
            errors.add("dose_dates", "must be in increasing order, one per day");
        }
        if let (Some(b), Some(first)) = (baseline, doses.first())
            && *first < b
        {
            errors.add("dose_dates", "the first dose must not be before the baseline");
        }
        let end = self.end_of_induction.trim();
        let end_of_induction = if end.is_empty() {
            None
        } else {
            match parse_iso_date(end) {
                Some(d) => {
                    if doses.last().is_some_and(|l| d < *l) || baseline.is_some_and(|b| d < b) {
                        errors.add("end_of_induction", "must not be before the last dose or the baseline");
                    }
                    Some(d)
                }
                None => {
                    errors.add("end_of_induction", "must be a date YYYY-MM-DD");
                    None
                }
            }
        };
        let include_pcl5 = self.include_pcl5.as_deref().is_some_and(|v| !v.is_empty() && v != "false");
        errors.into_result(|| PlanAnchors {
            baseline: baseline.expect("checked"),
            dose_dates: doses,
            end_of_induction,
            include_pcl5,
        })
    }
}

/// Where a worklist entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueStatus {
    Overdue,
    DueToday,
}

/// One measure due for a patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueMeasure {
    pub instrument: Instrument,
    pub point: TimePointKind,
    pub due_on: Date,
    pub status: DueStatus,
}

/// The instruments the worklist follows: the ones collected outside a dosing session.
/// (CADSS-6 and MOAA/S belong to the dosing session, issue 5; BP is a vital sign.)
const WORKLIST_INSTRUMENTS: [Instrument; 4] =
    [Instrument::Phq9, Instrument::Gad7, Instrument::Pcl5, Instrument::CssrsScreener];

fn start_of_day(d: Date, tz: &TimeZone) -> Option<Timestamp> {
    d.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// The schedule template for a plan: OUT-002 with the PCL-5 removed unless indicated.
pub fn template_for(anchors: &PlanAnchors, base: &ScheduleTemplate) -> ScheduleTemplate {
    let mut t = base.clone();
    if !anchors.include_pcl5 {
        let pcl5 = Measure::Instrument(Instrument::Pcl5);
        for battery in [&mut t.full_battery, &mut t.pre_dose, &mut t.after_first_dose, &mut t.follow_up] {
            battery.retain(|m| *m != pcl5);
        }
    }
    t
}

/// Due and overdue measures for one patient (OUT-002 via [`measurement_schedule`]).
///
/// Each completed response is credited to the scheduled time point of its instrument
/// that is nearest in time (the window of a point runs from the midpoint with the
/// previous point to the midpoint with the next), so no window length is invented.
/// Only the most recent point that has come due is reported per instrument: it is
/// `DueToday` on its date and `Overdue` after it; earlier unmet points are history, not
/// work. Optional points (the 24 h PHQ-9) are never overdue. `completed` holds the
/// instrument and time of every *complete* response.
pub fn due_measures(
    anchors: &PlanAnchors,
    template: &ScheduleTemplate,
    tz: &TimeZone,
    completed: &[(Instrument, Timestamp)],
    today: Date,
) -> Vec<DueMeasure> {
    let to_ts = |d: Date| start_of_day(d, tz);
    let Some(baseline) = to_ts(anchors.baseline) else { return Vec::new() };
    let doses: Vec<Timestamp> = anchors.dose_dates.iter().filter_map(|d| to_ts(*d)).collect();
    let end = anchors.end_of_induction.and_then(to_ts);
    let Ok(sched_anchors) = ScheduleAnchors::new(baseline, doses, end, None, tz.clone()) else {
        return Vec::new();
    };
    let template = template_for(anchors, template);
    let Ok(points) = measurement_schedule(&sched_anchors, &template) else { return Vec::new() };
    let mut out = Vec::new();
    for instrument in WORKLIST_INSTRUMENTS {
        let pts: Vec<(Timestamp, TimePointKind, bool)> = points
            .iter()
            .filter(|p| p.measures.contains(&Measure::Instrument(instrument)))
            .filter_map(|p| match p.due {
                Due::At(t) => Some((t, p.kind, p.optional)),
                Due::BeforeDischargeOf(_) => None,
            })
            .collect();
        let date_of = |t: Timestamp| t.to_zoned(tz.clone()).date();
        let Some(k) = pts.iter().rposition(|(t, _, _)| date_of(*t) <= today) else { continue };
        let (due, kind, optional) = pts[k];
        let mid = |a: Timestamp, b: Timestamp| Timestamp::from_second((a.as_second() + b.as_second()) / 2).unwrap_or(a);
        let lo = if k > 0 { Some(mid(pts[k - 1].0, due)) } else { None };
        let hi = pts.get(k + 1).map(|n| mid(due, n.0));
        let met = completed
            .iter()
            .any(|(i, at)| *i == instrument && lo.is_none_or(|l| *at >= l) && hi.is_none_or(|h| *at < h));
        if met {
            continue;
        }
        let due_on = date_of(due);
        let status = if due_on == today { DueStatus::DueToday } else { DueStatus::Overdue };
        if optional && status == DueStatus::Overdue {
            continue;
        }
        out.push(DueMeasure { instrument, point: kind, due_on, status });
    }
    out
}

/// A short label for a schedule point.
pub fn point_label(kind: &TimePointKind) -> String {
    match kind {
        TimePointKind::Baseline => "Baseline".into(),
        TimePointKind::PreDose { dose } => format!("Before dose {dose}"),
        TimePointKind::PostDosePeak { dose } => format!("40 min after dose {dose}"),
        TimePointKind::BeforeDischarge { dose } => format!("Before discharge, dose {dose}"),
        TimePointKind::AfterFirstDose => "24 h after first dose".into(),
        TimePointKind::EndOfInduction => "End of induction".into(),
        TimePointKind::FollowUp { weeks } => format!("Follow-up week {weeks}"),
        TimePointKind::Maintenance { month } => format!("Maintenance month {month}"),
    }
}

/// Baseline, latest and the outcome statuses of one instrument's series, each with the
/// definition that decided it (clinical.md §7.3: store/show the definition used).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeSummary {
    pub scale: OutcomeScale,
    pub baseline: DatedTotal,
    pub latest: DatedTotal,
    pub points: i16,
    pub percent: Option<f64>,
    pub response: OutcomeStatus,
    pub remission: Option<OutcomeStatus>,
    pub mcid: Option<OutcomeStatus>,
    pub relapse: outcome::RelapseAssessment,
}

/// The outcome summary over complete totals (oldest first, strictly increasing in time).
/// The baseline is the first complete total. `None` without at least one total, for
/// instruments without an outcome scale, or if the series is inconsistent.
pub fn outcome_summary(
    instrument: Instrument,
    series: &[DatedTotal],
    policy: &OutcomePolicy,
) -> Option<OutcomeSummary> {
    let scale = OutcomeScale::from_instrument(instrument)?;
    let baseline = *series.first()?;
    let latest = *series.last()?;
    let change = outcome::change(scale, baseline.total, latest.total).ok()?;
    Some(OutcomeSummary {
        scale,
        baseline,
        latest,
        points: change.points,
        percent: change.percent,
        response: outcome::response(scale, baseline.total, latest.total, policy).ok()?,
        remission: outcome::remission(scale, latest.total, policy).ok()?,
        mcid: outcome::minimal_important_change(scale, baseline.total, latest.total, policy).ok()?,
        relapse: outcome::relapse(scale, baseline.total, &series[1..], &[], policy).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::{Response, ScoringPolicy};
    use jiff::civil::date;

    #[test]
    fn item9_above_zero_raises_one_alert_and_missing_item9_raises_none() {
        let v = |x: Option<u8>| {
            let mut a = vec![Some(1); 9];
            a[8] = x;
            Response::from_values(Instrument::Phq9, &a).unwrap().score(&ScoringPolicy::default())
        };
        assert_eq!(alerts_for(&v(Some(1))), vec![SafetyAlertKind::SuicidalIdeation]);
        assert!(alerts_for(&v(Some(0))).is_empty());
        let missing = v(None);
        assert!(alerts_for(&missing).is_empty());
        assert!(missing.flags().contains(&Flag::SafetyItemMissing));
        assert_eq!(missing.total(), None);
    }

    #[test]
    fn acknowledgement_needs_an_action_and_a_note_for_other() {
        let e = AcknowledgeForm::default().parse().unwrap_err();
        assert!(e.for_field("action").is_some());
        let e = AcknowledgeForm { action: "other".into(), note: " ".into() }.parse().unwrap_err();
        assert!(e.for_field("note").is_some());
        let ok = AcknowledgeForm { action: "crisis_resources_given".into(), note: "".into() }.parse().unwrap();
        assert_eq!(ok.action, AlertAction::CrisisResourcesGiven);
        assert!(AcknowledgeForm { action: "shrugged".into(), note: "".into() }.parse().is_err());
        let e = AcknowledgeForm { action: "other".into(), note: "called\u{1b}".into() }.parse().unwrap_err();
        assert_eq!(e.for_field("note"), Some("contains control characters"));
        assert!(AcknowledgeForm { action: "other".into(), note: "called\n988".into() }.parse().is_ok());
    }

    #[test]
    fn plan_form_checks_order() {
        let f = PlanForm {
            baseline: "2026-03-01".into(),
            dose_dates: "2026-03-03, 2026-03-02".into(),
            ..Default::default()
        };
        assert!(f.parse().unwrap_err().for_field("dose_dates").is_some());
        let f = PlanForm { baseline: "".into(), ..Default::default() };
        assert!(f.parse().unwrap_err().for_field("baseline").is_some());
        let ok = PlanForm {
            baseline: "2026-03-01".into(),
            dose_dates: "2026-03-02 2026-03-05".into(),
            end_of_induction: "2026-03-20".into(),
            include_pcl5: None,
        }
        .parse()
        .unwrap();
        assert_eq!(ok.dose_dates.len(), 2);
        assert_eq!(PlanForm::from_anchors(&ok).parse().unwrap(), ok);
    }

    #[test]
    fn baseline_is_due_then_overdue_then_met() {
        let tz = TimeZone::UTC;
        let a =
            PlanAnchors { baseline: date(2026, 3, 2), dose_dates: vec![], end_of_induction: None, include_pcl5: false };
        let t = ScheduleTemplate::default();
        assert!(due_measures(&a, &t, &tz, &[], date(2026, 3, 1)).is_empty(), "not yet due");
        let today = due_measures(&a, &t, &tz, &[], date(2026, 3, 2));
        assert!(today.iter().all(|d| d.status == DueStatus::DueToday));
        let instruments: Vec<_> = today.iter().map(|d| d.instrument).collect();
        assert_eq!(instruments, vec![Instrument::Phq9, Instrument::Gad7, Instrument::CssrsScreener]);
        let late = due_measures(&a, &t, &tz, &[], date(2026, 3, 4));
        assert!(late.iter().all(|d| d.status == DueStatus::Overdue));
        let done = [(Instrument::Phq9, "2026-03-02T10:00:00Z".parse().unwrap())];
        let late = due_measures(&a, &t, &tz, &done, date(2026, 3, 4));
        assert!(late.iter().all(|d| d.instrument != Instrument::Phq9));
    }

    #[test]
    fn outcome_summary_shows_response_and_remission_with_definitions() {
        let at = |d: i8| date(2026, 3, d).to_zoned(TimeZone::UTC).unwrap().timestamp();
        let s = [DatedTotal { at: at(1), total: 20 }, DatedTotal { at: at(15), total: 4 }];
        let o = outcome_summary(Instrument::Phq9, &s, &OutcomePolicy::default()).unwrap();
        assert!(o.response.met);
        assert_eq!(o.response.definition.rule, "RESP-001");
        let r = o.remission.unwrap();
        assert!(r.met);
        assert_eq!(r.definition.rule, "RESP-003");
        assert_eq!(o.points, -16);
    }
}
