//! The clinic policies the use cases take as arguments, parsed once at start-up by the
//! binary (`kat.toml`) and held by the web layer's `WebConfig`. The therapy program's
//! policy is [`crate::therapy::TherapyConfig`].

use jiff::SignedDuration;

/// Clinic policy for dosing sessions (clinical.md §2–4): the core's six policy structs,
/// each with the spec's values (or a stated "none" where the spec gives no number) as
/// `Default`. The use cases in [`crate::dosing`] take every threshold from here.
#[derive(Debug, Clone, Default)]
pub struct DosingConfig {
    /// Dose limits, at-home flags, titration step and weight basis (§2; DOSE-IV-002,
    /// DOSE-IV-005…).
    pub policy: kat_core::dosing::DosingPolicy,
    /// The pre-dose gate (§3: NPO, BP, HR, DDI-009, DAY-005, DAY-008, DOSE-IN-010).
    pub gate: kat_core::monitoring::GatePolicy,
    /// Alarm thresholds (ALM-001..005), already checked with `AlarmPolicy::validate`.
    pub alarms: kat_core::monitoring::AlarmPolicy,
    /// Minimum observation and discharge criteria (DC-001..003).
    pub discharge: kat_core::monitoring::DischargePolicy,
    /// Vital-sign check frequency (MON-KET-003, MON-KET-005, MON-SPV-002).
    pub monitoring: kat_core::monitoring::SchedulePolicy,
    /// When a session's entries may be dated: the clock-skew allowance and the margin
    /// after which an entry is a late entry (issue 11 item 2; clinic policy, the spec
    /// gives no number).
    pub session: kat_core::dosing::session::SessionTimePolicy,
    /// The days the clinic is closed (`[clinic]` in `kat.toml`; not a clinical rule):
    /// generated plan dates move to the next open day.
    pub calendar: kat_core::calendar::ClinicCalendar,
    /// Across sessions (issue 11 item 1, `[dosing.course]`): the clinic's minimum
    /// interval between sessions, off by default (the reference gives none); one dose
    /// day per patient is always kept.
    pub course: kat_core::dosing::course::CoursePolicy,
}

/// Clinic policy for measurement-based care. Every value has the spec's value (or a
/// stated clinic default) as `Default`; none is a bare constant in the use cases.
#[derive(Debug, Clone)]
pub struct MeasuresConfig {
    /// How long a self-report link stays valid. Clinic policy, default 72 h (no spec
    /// value: long enough to answer from home between visits, short enough that an old
    /// text message is useless).
    pub self_report_link_ttl: SignedDuration,
    /// Shown to the patient after a self-report (SUI-003: crisis line, US 988).
    pub crisis_text: String,
    /// Scoring choices (PCL-5 cut-off, item-16 prompt; instruments.md §4.3, §4.4).
    pub scoring: kat_core::instruments::ScoringPolicy,
    /// Response, remission and relapse thresholds (RESP-002/004/006/007, REL-003).
    pub outcome: kat_core::instruments::OutcomePolicy,
    /// The measurement schedule (OUT-002 default).
    pub schedule: kat_core::instruments::schedule::ScheduleTemplate,
    /// Licensed item wording the clinic loaded (`measures.cssrs_text_file`), shown
    /// instead of the construct labels kat ships (instruments.md §1, §5). Empty by
    /// default.
    pub item_texts: kat_core::instruments::ItemTextOverrides,
}

pub const DEFAULT_CRISIS_TEXT: &str = "If you are thinking about suicide or are in crisis, call or text 988 \
    (Suicide & Crisis Lifeline, US) now, any time, day or night. If you are in immediate danger, call 911.";

impl Default for MeasuresConfig {
    fn default() -> Self {
        Self {
            self_report_link_ttl: SignedDuration::from_hours(72),
            crisis_text: DEFAULT_CRISIS_TEXT.into(),
            scoring: Default::default(),
            outcome: Default::default(),
            schedule: Default::default(),
            item_texts: Default::default(),
        }
    }
}
