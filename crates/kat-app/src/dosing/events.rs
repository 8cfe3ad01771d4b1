//! Session events: adverse events (§5), interventions (INT-005), CADSS-6 ratings
//! (MON-KET-005, MON-SPV-006) and the transfer to emergency care (issue 11 item 4). Each
//! is dated within the session's time rules; one charted well after its time, or after
//! the discharge (issue 11 item 5), is stored as a late entry.

use super::plan::opt;
use super::view::SessionView;
use super::{Held, entry, hold, internal, refused, time_policy};
use crate::config::DosingConfig;
use crate::events::{DomainEvent, SessionRecordKind};
use crate::{AppResult, Ctx};
use jiff::Timestamp;
use kat_core::FieldErrors;
use kat_core::audit::AuditAction;
use kat_core::dosing::Mg;
use kat_core::dosing::session::{End, Reason};
use kat_core::ids::{DosingSessionId, SessionAlarmId};
use kat_core::monitoring::adverse::AdverseEventForm;
use kat_core::role::Permission;
use kat_store::Store;
use kat_store::dosing::{SessionEventKind, SessionEventRecord};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Starts a session event's use case (nurses, prescribers).
async fn hold_for(store: &dyn Store, ctx: &Ctx, session: DosingSessionId, kind: SessionEventKind) -> AppResult<Held> {
    hold(store, ctx, session, Permission::DosingSessionRun, &kind.as_str(), None, AuditAction::Create).await
}

/// The time an entry typed as `raw` (RFC 3339; now when empty), as a field error when it
/// does not parse.
fn entry_time(e: &mut FieldErrors, raw: &str, now: Timestamp) -> Timestamp {
    match opt(raw) {
        None => now,
        Some(raw) => match raw.parse::<Timestamp>() {
            Ok(t) => t,
            Err(_) => {
                e.add("at", "a time (RFC 3339)");
                now
            }
        },
    }
}

/// Whether an entry dated `at` is late: beyond the clinic's margin, or recorded after the
/// session closed, by its discharge or a transfer to emergency care (issue 11 item 5). Refused before the session opened or beyond the clock-skew
/// allowance (issue 11 item 2).
fn late_entry(h: &Held, at: Timestamp, now: Timestamp, config: &DosingConfig) -> AppResult<bool> {
    let late = h.state.check_entry_time(at, now, time_policy(config)).map_err(refused)?;
    Ok(late.is_some() || h.state.closed_at().is_some())
}

/// Stores a session event in the held transaction and finishes the use case.
#[allow(clippy::too_many_arguments)]
async fn save_event(
    h: Held,
    ctx: &Ctx,
    kind: SessionEventKind,
    at: Timestamp,
    content: String,
    late: bool,
    state: Option<&kat_core::dosing::session::DosingSession>,
    mut events: Vec<DomainEvent>,
) -> AppResult<SessionEventRecord> {
    let mut h = h;
    let record = SessionEventRecord {
        id: Uuid::now_v7(),
        session_id: h.session.id,
        kind,
        content,
        at,
        recorded_by: h.by,
        recorded_at: ctx.now,
        late,
    };
    h.tx.insert_session_event(&record).await?;
    let audit = vec![entry(ctx, AuditAction::Create, &kind.as_str(), record.id, &h.session)];
    let (session, patient) = (h.session.id, h.session.patient_id);
    let record_kind = match kind {
        SessionEventKind::AdverseEvent => Some(SessionRecordKind::AdverseEvent),
        SessionEventKind::Intervention => Some(SessionRecordKind::Intervention),
        SessionEventKind::Cadss6 => Some(SessionRecordKind::Rating),
        _ => None,
    };
    if let Some(kind) = record_kind {
        events.insert(0, DomainEvent::SessionRecordAdded { session, patient, kind });
    }
    h.finish(ctx, state, audit, events).await?;
    Ok(record)
}

// ---------------------------------------------------------------------------------------
// Adverse events and interventions
// ---------------------------------------------------------------------------------------

/// Records an adverse event of the session (§5: CTCAE term and grade, onset, resolution,
/// seriousness, relatedness, action, outcome). Events may be added after discharge (they
/// often surface at the next-day call), as late entries.
pub async fn record_adverse_event(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    form: &AdverseEventForm,
) -> AppResult<SessionEventRecord> {
    let h = hold_for(store, ctx, session, SessionEventKind::AdverseEvent).await?;
    let ae = form.parse(ctx.now)?;
    // An adverse event may have begun before the session (its onset is not the session's
    // entry time): only whether it is charted late is the session's policy.
    let late = h.state.closed_at().is_some()
        || ctx.now.duration_since(ae.onset) > time_policy(config).late_after.as_duration();
    let content = serde_json::to_string(&ae).map_err(internal)?;
    save_event(h, ctx, SessionEventKind::AdverseEvent, ae.onset, content, late, None, Vec::new()).await
}

/// An intervention as typed (INT-005).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InterventionForm {
    /// When (RFC 3339); now when empty.
    pub at: String,
    /// The alarm that triggered it, if any; its rule and value are copied.
    pub alarm_id: String,
    /// The trigger value when there is no alarm (for example "patient anxious").
    pub trigger_value: String,
    pub action: String,
    pub drug_name: String,
    pub drug_dose_mg: String,
    pub drug_route: String,
    pub response: String,
    /// `yes` when the session (dosing) was stopped.
    pub session_stopped: String,
}

/// Records an intervention as a structured event (INT-005); one that stopped the session
/// ends its dosing (the machine's `end`). After discharge an intervention is a late
/// entry of the record and cannot stop the session any more.
pub async fn record_intervention(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    form: &InterventionForm,
) -> AppResult<SessionEventRecord> {
    let mut h = hold_for(store, ctx, session, SessionEventKind::Intervention).await?;
    let mut e = FieldErrors::default();
    let at = entry_time(&mut e, &form.at, ctx.now);
    let (mut trigger_rule, mut trigger_value) = (None, form.trigger_value.trim().to_string());
    if let Some(raw) = opt(&form.alarm_id) {
        let alarm = match raw.parse::<SessionAlarmId>() {
            Ok(id) => h.tx.alarm_by_id(id).await?.filter(|a| a.session_id == h.session.id),
            Err(_) => None,
        };
        match alarm {
            Some(a) => {
                trigger_rule = Some(a.rule.clone());
                if trigger_value.is_empty() {
                    let c: serde_json::Value = serde_json::from_str(&a.content).unwrap_or_default();
                    trigger_value = c["value"].to_string();
                }
            }
            None => e.add("alarm_id", "not an alarm of this session"),
        }
    }
    if trigger_value.is_empty() {
        e.add("trigger_value", "what triggered the intervention (or choose the alarm)");
    }
    let action = form.action.trim().to_string();
    if action.is_empty() {
        e.add("action", "is required (INT-005)");
    }
    let response = form.response.trim().to_string();
    if response.is_empty() {
        e.add("response", "is required (INT-005)");
    }
    let drug = match (opt(&form.drug_name), opt(&form.drug_dose_mg), opt(&form.drug_route)) {
        (None, None, None) => None,
        (Some(name), Some(dose), Some(route)) => match Mg::parse(dose) {
            Ok(dose) => Some(kat_core::monitoring::alarms::DrugGiven { name: name.into(), dose, route: route.into() }),
            Err(err) => {
                e.add("drug_dose_mg", err.0);
                None
            }
        },
        _ => {
            e.add("drug_name", "a drug needs its name, dose (mg) and route");
            None
        }
    };
    let session_stopped = match form.session_stopped.trim() {
        "" | "no" | "false" => false,
        "yes" | "true" | "on" => true,
        _ => {
            e.add("session_stopped", "yes or no");
            false
        }
    };
    if session_stopped && h.state.discharged_at().is_some() {
        e.add("session_stopped", "the session is discharged: an intervention charted now cannot stop it");
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let late = late_entry(&h, at, ctx.now, config)?;
    let mut events = Vec::new();
    let next = if session_stopped {
        let first_end = h.state.ending().is_none();
        let t = h.state.end(End::Intervention, at, ctx.now, time_policy(config)).map_err(refused)?;
        if first_end {
            events.push(DomainEvent::SessionEnded { session, patient: h.session.patient_id });
        }
        Some(t.session)
    } else {
        None
    };
    let event = kat_core::monitoring::InterventionEvent {
        at,
        trigger_rule,
        trigger_value,
        action,
        drug,
        response,
        session_stopped,
    };
    let content = serde_json::to_string(&event).map_err(internal)?;
    save_event(h, ctx, SessionEventKind::Intervention, at, content, late, next.as_ref(), events).await
}

// ---------------------------------------------------------------------------------------
// Transfer to emergency care (issue 11 item 4)
// ---------------------------------------------------------------------------------------

/// A transfer to emergency care as stored (`session_events`, kind `emergency_transfer`):
/// a separate exit that ends the session without a discharge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmergencyTransfer {
    pub reason: String,
}

/// A transfer as typed: when (RFC 3339, now when empty) and why.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TransferInput {
    pub at: String,
    pub reason: String,
}

/// Ends the session by a transfer to emergency care, with the reason: not a discharge
/// (the session is never discharged after it), no further dosing, no reading dated after
/// it. Nurses and prescribers, in an emergency.
pub async fn transfer_to_emergency_care(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &TransferInput,
) -> AppResult<SessionEventRecord> {
    let h = hold_for(store, ctx, session, SessionEventKind::EmergencyTransfer).await?;
    let mut e = FieldErrors::default();
    let at = entry_time(&mut e, &input.at, ctx.now);
    let reason = e.take("reason", Reason::parse(&input.reason));
    let Some(reason) = reason.filter(|_| e.is_empty()) else {
        return Err(e.into());
    };
    let t = h
        .state
        .end(End::EmergencyTransfer { reason: reason.clone() }, at, ctx.now, time_policy(config))
        .map_err(refused)?;
    let content =
        serde_json::to_string(&EmergencyTransfer { reason: reason.as_str().to_string() }).map_err(internal)?;
    let events = vec![DomainEvent::SessionEnded { session, patient: h.session.patient_id }];
    let late = t.record.late.is_some();
    save_event(h, ctx, SessionEventKind::EmergencyTransfer, at, content, late, Some(&t.session), events).await
}

// ---------------------------------------------------------------------------------------
// CADSS-6 dissociation ratings (MON-KET-005, MON-SPV-006)
// ---------------------------------------------------------------------------------------

/// When a CADSS-6 is rated (MON-KET-005): the trial schedule is 0, 40, 120 and 240
/// minutes; the suggested clinic default is the peak (about 40 minutes) and before
/// discharge. Key and words.
pub const CADSS6_TIME_POINTS: &[(&str, &str)] = &[
    ("pre_dose", "Pre-dose (0 min)"),
    ("peak_40", "Peak, about 40 min after the start of dosing"),
    ("min_120", "120 min after the start of dosing"),
    ("min_240", "240 min after the start of dosing"),
    ("before_discharge", "Before discharge"),
];

/// The words of a CADSS-6 time point key.
pub fn cadss6_time_point_label(key: &str) -> &'static str {
    CADSS6_TIME_POINTS.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("other")
}

/// A CADSS-6 rating as typed (form or JSON). The items keep their CADSS-23 numbers
/// (1, 2, 6, 7, 15, 22; instruments.md §6.2), each rated 0–4. Item wording is not
/// shipped (instruments.md §1): the rater uses the clinic's licensed form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Cadss6Input {
    /// `pre_dose`, `peak_40`, `min_120`, `min_240` or `before_discharge` (MON-KET-005).
    pub time_point: String,
    /// When rated (RFC 3339); now when empty.
    pub at: String,
    pub item_1: String,
    pub item_2: String,
    pub item_6: String,
    pub item_7: String,
    pub item_15: String,
    pub item_22: String,
}

impl Cadss6Input {
    /// The typed answer of the item with this CADSS label, if it is one of the six.
    pub fn answer(&self, label: &str) -> Option<&str> {
        Some(match label {
            "1" => &self.item_1,
            "2" => &self.item_2,
            "6" => &self.item_6,
            "7" => &self.item_7,
            "15" => &self.item_15,
            "22" => &self.item_22,
            _ => return None,
        })
    }
}

/// One answered CADSS-6 item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadss6Answer {
    /// The CADSS item number.
    pub item: String,
    /// 0–4.
    pub value: u8,
}

/// A scored CADSS-6 rating, stored as the `cadss6` session event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cadss6Rating {
    /// The MON-KET-005 time point key.
    pub time_point: String,
    pub at: Timestamp,
    /// Whole minutes after the start of dosing (negative before it); `None` when no
    /// dose was recorded yet.
    pub minutes_after_start: Option<i64>,
    pub answers: Vec<Cadss6Answer>,
    /// 0–24, the sum of the six items (only complete ratings are scored).
    pub total: u8,
    /// Who rated (display name; the event keeps the user id).
    pub rated_by: String,
}

/// Parses and scores a CADSS-6 through the core's scorer. Every bad or missing item is a
/// field error naming it (`item_15`); an incomplete rating is never scored.
pub fn parse_cadss6(
    input: &Cadss6Input,
    now: Timestamp,
) -> Result<(String, Timestamp, Vec<Cadss6Answer>, u8), FieldErrors> {
    use kat_core::instruments::{Instrument, Response, ScoringPolicy};
    let mut e = FieldErrors::default();
    let time_point = input.time_point.trim().to_string();
    if !CADSS6_TIME_POINTS.iter().any(|(k, _)| *k == time_point) {
        e.add("time_point", "choose the time point (MON-KET-005)");
    }
    let at = entry_time(&mut e, &input.at, now);
    let def = Instrument::Cadss6.def();
    let raw: Vec<Option<&str>> = def.items.iter().map(|item| input.answer(item.label).and_then(opt)).collect();
    let response = match Response::parse(Instrument::Cadss6, &raw) {
        Ok(r) => Some(r),
        Err(errors) => {
            for err in errors.iter() {
                match err.item {
                    Some(label) => e.add(format!("item_{label}"), format!("CADSS item {label} {}", err.reason)),
                    None => e.add("answers", err.reason.to_string()),
                }
            }
            None
        }
    };
    let mut answers = Vec::new();
    let mut total = None;
    if let Some(r) = response {
        let score = r.score(&ScoringPolicy::default());
        if let kat_core::instruments::Completeness::Incomplete { missing } = score.completeness() {
            for label in missing {
                e.add(
                    format!("item_{label}"),
                    format!("CADSS item {label} is not answered: an incomplete CADSS-6 is never scored"),
                );
            }
        }
        total = score.total();
        answers = def
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| r.answer(i).map(|v| Cadss6Answer { item: item.label.into(), value: v }))
            .collect();
    }
    match total {
        Some(t) if e.is_empty() => Ok((time_point, at, answers, t)),
        _ => {
            if e.is_empty() {
                e.add("answers", "the CADSS-6 could not be scored");
            }
            Err(e)
        }
    }
}

/// Records a CADSS-6 rating of the session (MON-KET-005, MON-SPV-006) as a `cadss6`
/// session event, with its time point, the minutes after the start of dosing and who
/// rated. A rating may be documented after discharge, for a time before it, as a late
/// entry; never dated before the session opened.
pub async fn record_cadss6(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    session: DosingSessionId,
    input: &Cadss6Input,
) -> AppResult<(SessionEventRecord, Cadss6Rating)> {
    let h = hold_for(store, ctx, session, SessionEventKind::Cadss6).await?;
    let (time_point, at, answers, total) = parse_cadss6(input, ctx.now)?;
    if let Some(d) = h.state.discharged_at()
        && at > d
    {
        return Err(
            FieldErrors::single("at", "after the discharge: a rating of this session must be taken before it").into()
        );
    }
    let late = late_entry(&h, at, ctx.now, config)?;
    let start = h.state.times().map(|t| t.dose_start);
    let minutes_after_start = start.map(|s| (at.as_second() - s.as_second()).div_euclid(60));
    time_point_fits(&time_point, at, start)?;
    let rated_by = match &ctx.actor {
        crate::Actor::User(u) => u.display_name.clone(),
        _ => String::new(),
    };
    let rating = Cadss6Rating { time_point, at, minutes_after_start, answers, total, rated_by };
    let content = serde_json::to_string(&rating).map_err(internal)?;
    let record = save_event(h, ctx, SessionEventKind::Cadss6, at, content, late, None, Vec::new()).await?;
    Ok((record, rating))
}

/// A pre-dose rating is taken at or before the start of dosing, every other time point
/// after it (MON-KET-005), so the REMS form's pre-dose comparison reads the right one.
fn time_point_fits(time_point: &str, at: Timestamp, dose_start: Option<Timestamp>) -> Result<(), FieldErrors> {
    match (time_point, dose_start) {
        ("pre_dose", Some(start)) if at > start => {
            Err(FieldErrors::single("time_point", "a pre-dose rating must be taken before the start of dosing"))
        }
        ("pre_dose", _) => Ok(()),
        (_, None) => {
            Err(FieldErrors::single("time_point", "no dose is recorded yet: only a pre-dose rating can be taken"))
        }
        (_, Some(start)) if at < start => Err(FieldErrors::single(
            "time_point",
            "this time point is after the start of dosing; the rating time is before it",
        )),
        _ => Ok(()),
    }
}

/// The session's CADSS-6 ratings, by time.
pub fn cadss6_ratings(v: &SessionView) -> Vec<Cadss6Rating> {
    v.events
        .iter()
        .filter(|e| e.kind == SessionEventKind::Cadss6)
        .filter_map(|e| serde_json::from_str(&e.content).ok())
        .collect()
}

/// The session's interventions (INT-005), by time.
pub fn interventions(v: &SessionView) -> Vec<kat_core::monitoring::InterventionEvent> {
    v.events
        .iter()
        .filter(|e| e.kind == SessionEventKind::Intervention)
        .filter_map(|e| serde_json::from_str(&e.content).ok())
        .collect()
}

/// The REMS dissociation answer from the CADSS-6 ratings (MON-SPV-006), given the time
/// of the first device. `None` when no rating was taken after it. The CADSS-6 has no
/// validated cut-off (instruments.md §6.2), so, as the label reads any fall in MOAA/S
/// from pre-dose as sedation, any rise of the total above the pre-dose rating (above 0
/// without one) is answered Yes: it can over-call, never miss. The ratings are listed
/// beside the answer for the clinician to check.
pub fn rems_dissociation(ratings: &[Cadss6Rating], first_device: Option<Timestamp>) -> (Option<bool>, Vec<String>) {
    let Some(first) = first_device else { return (None, Vec::new()) };
    let pre = ratings.iter().filter(|r| r.at < first).map(|r| r.total).next_back();
    let after: Vec<&Cadss6Rating> = ratings.iter().filter(|r| r.at >= first).collect();
    let words = ratings
        .iter()
        .map(|r| {
            let when = match r.minutes_after_start {
                Some(m) => format!("{m} min"),
                None => cadss6_time_point_label(&r.time_point).to_string(),
            };
            format!("CADSS-6 {}/24 at {when}", r.total)
        })
        .collect();
    if after.is_empty() {
        return (None, words);
    }
    let base = pre.unwrap_or(0);
    (Some(after.iter().any(|r| r.total > base)), words)
}

#[cfg(test)]
mod cadss6_tests {
    use super::*;

    fn input(items: [&str; 6]) -> Cadss6Input {
        let [a, b, c, d, e, f] = items.map(String::from);
        Cadss6Input {
            time_point: "peak_40".into(),
            at: String::new(),
            item_1: a,
            item_2: b,
            item_6: c,
            item_7: d,
            item_15: e,
            item_22: f,
        }
    }

    fn now() -> Timestamp {
        "2026-03-10T14:40:00Z".parse().unwrap()
    }

    #[test]
    fn complete_ratings_are_scored_by_the_core() {
        let (tp, at, answers, total) = parse_cadss6(&input(["4", "4", "4", "4", "4", "4"]), now()).unwrap();
        assert_eq!((tp.as_str(), at, total), ("peak_40", now(), 24));
        let labels: Vec<&str> = answers.iter().map(|a| a.item.as_str()).collect();
        assert_eq!(labels, ["1", "2", "6", "7", "15", "22"]);
        assert_eq!(parse_cadss6(&input(["0", "0", "0", "0", "0", "0"]), now()).unwrap().3, 0);
    }

    #[test]
    fn each_missing_or_bad_item_is_named_and_nothing_is_scored() {
        let e = parse_cadss6(&input(["1", "", "1", "1", "", "1"]), now()).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["item_2", "item_15"]);
        assert!(e.for_field("item_15").unwrap().contains("CADSS item 15"));
        let e = parse_cadss6(&input(["5", "1", "x", "1", "1", "1"]), now()).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["item_1", "item_6"]);
        let mut no_time_point = input(["1"; 6]);
        no_time_point.time_point = "whenever".into();
        assert_eq!(parse_cadss6(&no_time_point, now()).unwrap_err().iter().next().unwrap().field, "time_point");
        // Whether a time fits the session is the session's judgement; a time that is not
        // one is the parser's.
        let mut bad_time = input(["1"; 6]);
        bad_time.at = "yesterday".into();
        assert!(parse_cadss6(&bad_time, now()).unwrap_err().for_field("at").is_some());
    }

    #[test]
    fn time_points_fit_the_start_of_dosing() {
        let start: Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
        let before = start - jiff::SignedDuration::from_mins(5);
        assert!(time_point_fits("pre_dose", before, Some(start)).is_ok());
        assert!(time_point_fits("pre_dose", start, Some(start)).is_ok());
        assert!(time_point_fits("pre_dose", now(), Some(start)).is_err());
        assert!(time_point_fits("pre_dose", now(), None).is_ok());
        assert!(time_point_fits("peak_40", now(), Some(start)).is_ok());
        assert!(time_point_fits("peak_40", before, Some(start)).is_err());
        assert!(time_point_fits("peak_40", now(), None).is_err());
    }

    fn rating(at: Timestamp, total: u8, minutes: Option<i64>) -> Cadss6Rating {
        Cadss6Rating {
            time_point: "peak_40".into(),
            at,
            minutes_after_start: minutes,
            answers: Vec::new(),
            total,
            rated_by: "RN".into(),
        }
    }

    #[test]
    fn rems_dissociation_is_any_rise_above_pre_dose_and_unknown_without_a_rating_after_the_first_device() {
        let first: Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
        let pre = rating(first - jiff::SignedDuration::from_mins(10), 2, Some(-10));
        let at40 = |total| rating(first + jiff::SignedDuration::from_mins(40), total, Some(40));
        assert_eq!(rems_dissociation(&[], Some(first)).0, None);
        assert_eq!(
            rems_dissociation(std::slice::from_ref(&pre), Some(first)).0,
            None,
            "a pre-dose rating alone says nothing"
        );
        assert_eq!(rems_dissociation(&[at40(3)], None).0, None, "no device, no form");
        assert_eq!(rems_dissociation(&[at40(0)], Some(first)).0, Some(false));
        assert_eq!(rems_dissociation(&[at40(1)], Some(first)).0, Some(true), "above 0 without a pre-dose rating");
        assert_eq!(rems_dissociation(&[pre.clone(), at40(2)], Some(first)).0, Some(false), "not above the pre-dose 2");
        let (answer, words) = rems_dissociation(&[pre, at40(3)], Some(first));
        assert_eq!(answer, Some(true));
        assert_eq!(words, ["CADSS-6 2/24 at -10 min", "CADSS-6 3/24 at 40 min"]);
    }
}
