//! The floor board as a central station (issue 11 item 8), and the session screen's
//! summary, both drawn from a [`Tile`]: one tile per session in progress with the
//! patient, route, phase and time since the first dose, the latest vitals with units and
//! their age, a small trend (server-side SVG of systolic and SpO2), and the next check;
//! the most severe open alarm fills its tile with colour, icon and words. Tiles are
//! ordered by severity. Each tile, the summary, the alarm panel and each vitals row is a
//! fragment with its own element id, sent alone by the live streams (`dosing_live.rs`).

use super::Staff;
use super::dosing::{AlarmView, VitalRow, alarm_view, vital_row};
use crate::AppState;
use crate::error::PageError;
use crate::view::{Layout, local_time, render};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use kat_app::AppError;
use kat_app::live::Tile;
use kat_core::dosing::session::GateOutcome;
use kat_core::dosing::session::Phase;
use kat_core::ids::{DosingSessionId, VitalId};
use kat_core::monitoring::AlarmPolicy;
use kat_core::monitoring::Reading;
use kat_core::monitoring::alarms::Severity;
use kat_store::dosing::AlarmRecord;

/// One value of the latest vitals, with its unit.
pub struct ValueView {
    pub label: &'static str,
    pub value: String,
    pub unit: &'static str,
}

/// The most severe open alarm of a tile.
pub struct TileAlarm {
    pub alarm: AlarmView,
    /// Other open alarms besides it.
    pub more: usize,
}

/// What a tile and the session summary show.
pub struct TileView {
    pub session_id: String,
    /// The patient's name and MRN (apart: the MRN is never broken).
    pub patient_name: String,
    pub mrn: String,
    pub route: &'static str,
    pub phase: &'static str,
    /// "42 min since the first dose", when given.
    pub since_first_dose: Option<String>,
    pub gate: &'static str,
    pub values: Vec<ValueView>,
    /// The newest reading's time and age ("14:02, 3 min ago").
    pub reading_age: Option<String>,
    /// The server-side SVG sparkline of systolic and SpO2, when there are two readings.
    pub trend: Option<String>,
    pub next_check: String,
    pub next_check_due: bool,
    /// `emergency`, `intervene`, `notify` or `none`: the tile's colour class.
    pub severity: &'static str,
    pub alarm: Option<TileAlarm>,
    pub open_alarms: usize,
    /// An intervene or emergency alarm is open: the chime repeats.
    pub urgent: bool,
    /// Opened over one dose day ("Second dose today — override by …: reason").
    pub dose_day: Option<String>,
}

impl TileView {
    pub fn dom_id(&self) -> String {
        tile_id(&self.session_id)
    }
}

pub fn tile_id(session: &str) -> String {
    format!("tile-{session}")
}

fn phase_words(p: Phase) -> &'static str {
    match p {
        Phase::Opened => "Awaiting the pre-dose gate",
        Phase::Deferred => "Deferred at the gate",
        Phase::GatePassed => "Gate passed · not dosed yet",
        Phase::Dosing => "Dosing",
        Phase::Observing => "Observing after the dose",
        Phase::Discharged => "Discharged",
        Phase::Ended => "Dosing stopped (INT-005) · observing",
    }
}

pub(super) fn gate_words(outcome: Option<GateOutcome>) -> &'static str {
    match outcome {
        Some(GateOutcome::Proceed) => "Gate passed",
        Some(GateOutcome::Override) => "Gate passed with a prescriber's override",
        Some(GateOutcome::Defer) => "Deferred",
        None => "Gate not yet run: no administration allowed",
    }
}

/// A duration in words: "under 1 min", "14 min", "2 h 05 min".
fn span(from: Timestamp, to: Timestamp) -> String {
    let mins = (to.as_second() - from.as_second()).max(0) / 60;
    match mins {
        0 => "under 1 min".into(),
        m if m < 60 => format!("{m} min"),
        m => format!("{} h {:02} min", m / 60, m % 60),
    }
}

fn clock(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%H:%M").to_string()
}

/// The next check in words, and whether it is due.
pub fn next_check_words(t: &Tile, now: Timestamp, tz: &TimeZone) -> (String, bool) {
    if let Some(d) = t.discharged_at {
        return (format!("Discharged {}", local_time(d, tz)), false);
    }
    if let Some(d) = t.transferred_at {
        return (format!("Transferred to emergency care {}: no further checks here", local_time(d, tz)), false);
    }
    match &t.next_check {
        Some(c) if c.at <= now => (format!("Check due now (since {}){}", clock(c.at, tz), recheck_words(c)), true),
        Some(c) => (format!("Next check at {} (in {}){}", clock(c.at, tz), span(now, c.at), recheck_words(c)), false),
        None if t.first_dose.is_none() => ("Checks start with the first dose".into(), false),
        None => ("No further scheduled check".into(), false),
    }
}

/// ": ALM-002 recheck of BP" when the check is an open alarm's recheck.
fn recheck_words(c: &kat_core::monitoring::ScheduledCheck) -> String {
    let alarms: Vec<&str> = c.rules.iter().map(|r| r.as_str()).filter(|r| r.starts_with("ALM-")).collect();
    if alarms.is_empty() { String::new() } else { format!(": {} recheck", alarms.join(", ")) }
}

fn values(r: &Reading) -> Vec<ValueView> {
    let mut out = Vec::new();
    if let Some(bp) = r.blood_pressure {
        out.push(ValueView { label: "BP", value: format!("{}/{}", bp.systolic(), bp.diastolic()), unit: "mmHg" });
    }
    if let Some(h) = r.heart_rate {
        out.push(ValueView { label: "HR", value: h.get().to_string(), unit: "/min" });
    }
    if let Some(s) = r.spo2 {
        let unit = match r.on_supplemental_o2 {
            Some(true) => "% on O2",
            _ => "%",
        };
        out.push(ValueView { label: "SpO2", value: s.get().to_string(), unit });
    }
    if let Some(x) = r.respiratory_rate {
        out.push(ValueView { label: "RR", value: x.get().to_string(), unit: "/min" });
    }
    if let Some(m) = r.moaas {
        out.push(ValueView { label: "MOAA/S", value: m.get().to_string(), unit: "of 5" });
    }
    out
}

/// One line of a trend chart: its CSS class, name and unit, its fixed clinical scale and
/// the value it draws from a reading.
struct Series {
    class: &'static str,
    name: &'static str,
    unit: &'static str,
    lo: f64,
    hi: f64,
    value: fn(&Reading) -> Option<f64>,
}

const SYSTOLIC: Series = Series {
    class: "trend-sys",
    name: "systolic",
    unit: "mmHg",
    lo: 60.0,
    hi: 220.0,
    value: |r| r.blood_pressure.map(|b| f64::from(b.systolic())),
};
const SPO2: Series = Series {
    class: "trend-spo2",
    name: "SpO2",
    unit: "%",
    lo: 70.0,
    hi: 100.0,
    value: |r| r.spo2.map(|s| f64::from(s.get())),
};

/// The polylines of `series` over the readings (oldest first) in a `w`×`h` box, and the
/// words of each line drawn ("systolic 124 to 186 mmHg"); None when no line has two
/// points. Each series on its own fixed scale, so charts compare at a glance; no inline
/// style (CSP).
fn lines(oldest_first: &[&Reading], series: &[Series], w: f64, h: f64) -> Option<(String, Vec<String>)> {
    let pad = 4.0_f64;
    let t0 = oldest_first.first()?.at.as_millisecond() as f64;
    let t1 = oldest_first.last()?.at.as_millisecond() as f64;
    let x = |t: Timestamp| {
        if t1 > t0 { pad + (t.as_millisecond() as f64 - t0) / (t1 - t0) * (w - 2.0 * pad) } else { w / 2.0 }
    };
    let (mut svg, mut words) = (String::new(), Vec::new());
    for s in series {
        let pts: Vec<(Timestamp, f64)> = oldest_first.iter().filter_map(|r| (s.value)(r).map(|v| (r.at, v))).collect();
        if pts.len() < 2 {
            continue;
        }
        let y = |v: f64| pad + (1.0 - (v.clamp(s.lo, s.hi) - s.lo) / (s.hi - s.lo)) * (h - 2.0 * pad);
        let points: Vec<String> = pts.iter().map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v))).collect();
        svg.push_str(&format!(
            r#"<polyline class="{}" vector-effect="non-scaling-stroke" points="{}"/>"#,
            s.class,
            points.join(" ")
        ));
        let (first, last) = (pts[0].1, pts[pts.len() - 1].1);
        words.push(format!("{} {first} to {last} {}", s.name, s.unit));
    }
    (!words.is_empty()).then_some((svg, words))
}

/// The trend of the newest readings (oldest left): systolic as a solid line, SpO2 as a
/// dashed one, each on a fixed clinical scale (systolic 60–220 mmHg, SpO2 70–100 %) so
/// tiles compare at a glance. Its text alternative names the first and last values.
pub fn trend_svg(readings_newest_first: &[(VitalId, Reading)]) -> Option<String> {
    let oldest_first: Vec<&Reading> = readings_newest_first.iter().rev().map(|(_, r)| r).collect();
    let (w, h) = (240.0_f64, 64.0_f64);
    let (svg, words) = lines(&oldest_first, &[SYSTOLIC, SPO2], w, h)?;
    Some(format!(
        r#"<svg class="trend" viewBox="0 0 {w} {h}" preserveAspectRatio="none" role="img" aria-label="Trend of the last {n} readings: {label}"><rect class="trend-bg" vector-effect="non-scaling-stroke" x="0" y="0" width="{w}" height="{h}"/>{svg}</svg>"#,
        n = oldest_first.len(),
        label = words.join(", "),
    ))
}

/// The session screen's trend chart (issue 11 item 9): systolic, diastolic, heart rate
/// and SpO2 over the readings shown, each on a fixed clinical scale (BP 40–220 mmHg, HR
/// 30–180 /min, SpO2 70–100 %), drawn by the same lines as the tiles' trend. Accessible:
/// `role="img"` with a `<title>` naming what it draws; the page shows the same words as
/// text beside it. None below two readings of any measure.
pub fn session_chart(readings_newest_first: &[(VitalId, Reading)]) -> Option<(String, String)> {
    const SERIES: [Series; 4] = [
        Series { class: "chart-sys", lo: 40.0, ..SYSTOLIC },
        Series {
            class: "chart-dia",
            name: "diastolic",
            unit: "mmHg",
            lo: 40.0,
            hi: 220.0,
            value: |r| r.blood_pressure.map(|b| f64::from(b.diastolic())),
        },
        Series {
            class: "chart-hr",
            name: "heart rate",
            unit: "/min",
            lo: 30.0,
            hi: 180.0,
            value: |r| r.heart_rate.map(|h| f64::from(h.get())),
        },
        Series { class: "chart-spo2", ..SPO2 },
    ];
    let oldest_first: Vec<&Reading> = readings_newest_first.iter().rev().map(|(_, r)| r).collect();
    let (w, h) = (600.0_f64, 160.0_f64);
    let (svg, words) = lines(&oldest_first, &SERIES, w, h)?;
    let summary = format!("Trend of the last {} readings: {}.", oldest_first.len(), words.join(", "));
    Some((
        format!(
            r#"<svg class="session-chart" viewBox="0 0 {w} {h}" preserveAspectRatio="none" role="img" aria-labelledby="session-chart-title"><title id="session-chart-title">{summary}</title><rect class="trend-bg" vector-effect="non-scaling-stroke" x="0" y="0" width="{w}" height="{h}"/>{svg}</svg>"#
        ),
        summary,
    ))
}

fn severity_class(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Emergency) => "emergency",
        Some(Severity::Intervene) => "intervene",
        Some(Severity::Notify) => "notify",
        None => "none",
    }
}

pub fn tile_view(t: &Tile, now: Timestamp, tz: &TimeZone) -> TileView {
    let (next_check, next_check_due) = next_check_words(t, now, tz);
    let newest = t.readings.first().map(|(_, r)| r.at);
    TileView {
        session_id: t.session.to_string(),
        patient_name: t.patient_label.split_once(" · ").map_or(t.patient_label.as_str(), |(n, _)| n).to_string(),
        mrn: t.patient_label.split_once(" · ").map(|(_, m)| m.to_string()).unwrap_or_default(),
        route: t.route.label(),
        phase: if t.transferred_at.is_some() { "Transferred to emergency care" } else { phase_words(t.phase) },
        since_first_dose: t
            .first_dose
            .filter(|_| t.discharged_at.is_none() && t.transferred_at.is_none())
            .map(|f| span(f, now)),
        gate: gate_words(t.gate_outcome),
        values: t.latest.as_ref().map(values).unwrap_or_default(),
        reading_age: newest.map(|at| format!("{}, {} ago", clock(at, tz), span(at, now))),
        trend: trend_svg(&t.readings),
        next_check,
        next_check_due,
        severity: severity_class(t.worst()),
        alarm: t
            .open_alarms
            .first()
            .map(|(a, _)| TileAlarm { alarm: alarm_view(a, tz), more: t.open_alarms.len().saturating_sub(1) }),
        open_alarms: t.open_alarms.len(),
        urgent: t.worst().is_some_and(|s| s >= Severity::Intervene),
        dose_day: t.dose_day.clone(),
    }
}

/// One floor-board tile (the `tile` fragment).
#[derive(Template)]
#[template(path = "dosing/tile.html")]
pub struct TileFragment<'a> {
    pub t: &'a TileView,
}

/// The session screen's summary (the `summary` fragment).
#[derive(Template)]
#[template(path = "dosing/summary.html")]
pub struct SummaryFragment<'a> {
    pub t: &'a TileView,
    /// The session's trend chart and its words ([`session_chart`]).
    pub chart: Option<(String, String)>,
}

impl<'a> SummaryFragment<'a> {
    pub fn new(t: &'a TileView, tile: &Tile) -> Self {
        Self { t, chart: session_chart(&tile.readings) }
    }
}

/// The session screen's alarm panel (the `alarms` fragment): open alarms first, most
/// severe first, then newest first.
#[derive(Template)]
#[template(path = "dosing/alarm_panel.html")]
pub struct AlarmPanel {
    pub session_id: String,
    pub alarms: Vec<AlarmView>,
}

impl AlarmPanel {
    pub fn new(session: DosingSessionId, alarms: &[AlarmRecord], tz: &TimeZone) -> Self {
        let mut list: Vec<&AlarmRecord> = alarms.iter().collect();
        list.sort_by(|a, b| {
            (a.acknowledged_at.is_some(), std::cmp::Reverse(a.severity))
                .cmp(&(b.acknowledged_at.is_some(), std::cmp::Reverse(b.severity)))
                .then(b.raised_at.cmp(&a.raised_at))
        });
        Self { session_id: session.to_string(), alarms: list.into_iter().map(|a| alarm_view(a, tz)).collect() }
    }

    /// How many alarms are open (not acknowledged).
    pub fn open_count(&self) -> usize {
        self.alarms.iter().filter(|a| a.acknowledged.is_none()).count()
    }
}

/// One row of the session screen's vitals table (the `vital` fragment), its element id
/// from the reading's id, sorted by the time taken.
#[derive(Template)]
#[template(path = "dosing/vital_row.html")]
pub struct VitalRowFragment {
    pub id: String,
    /// Microseconds since the epoch of the time taken: the table's order.
    pub sort: i64,
    pub v: VitalRow,
}

impl VitalRowFragment {
    /// The row of a reading, each value out of the alarm policy's range marked.
    pub fn new(id: VitalId, r: &Reading, tz: &TimeZone, policy: &AlarmPolicy) -> Self {
        Self { id: format!("vital-{id}"), sort: r.at.as_microsecond(), v: vital_row(r, tz, policy) }
    }
}

/// The floor board's live part: the tiles, rendered one by one.
#[derive(Template)]
#[template(path = "dosing/floor_live.html")]
pub struct FloorLive {
    pub tiles: Vec<String>,
}

#[derive(Template)]
#[template(path = "dosing/floor.html")]
struct FloorPage {
    layout: Layout,
    open_alarms: usize,
    live_html: String,
    live_version: String,
}

/// Renders a fragment (trimmed: one element); a template failure is a bug, reported as
/// an internal error.
pub fn html<T: Template>(t: &T) -> Result<String, AppError> {
    t.render().map(|h| h.trim().to_string()).map_err(|e| AppError::Internal(e.to_string()))
}

/// The tiles' views and their HTML, in the board's order.
pub fn floor_html(tiles: &[Tile], now: Timestamp, tz: &TimeZone) -> Result<(Vec<TileView>, Vec<String>), AppError> {
    let views: Vec<TileView> = tiles.iter().map(|t| tile_view(t, now, tz)).collect();
    let html = views.iter().map(|v| html(&TileFragment { t: v })).collect::<Result<Vec<_>, _>>()?;
    Ok((views, html))
}

/// `GET /floor`: the central station (audited: each session shown).
pub async fn floor(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    let tiles = kat_app::live::floor_board(state.store.as_ref(), &staff.ctx, &state.config.dosing)
        .await
        .map_err(|e| staff.fail(e))?;
    let (views, tiles) = floor_html(&tiles, staff.ctx.now, &state.config.time_zone).map_err(|e| staff.fail(e))?;
    let live_html = html(&FloorLive { tiles }).map_err(|e| staff.fail(e))?;
    Ok(render(&FloorPage {
        layout: Layout::new(&state, Some(&staff.principal), "floor"),
        open_alarms: views.iter().map(|v| v.open_alarms).sum(),
        live_version: crate::live::version(&live_html),
        live_html,
    }))
}

/// `GET /floor/live`: the live part alone (for a screen without server-sent events).
pub async fn floor_live(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    let tiles = kat_app::live::floor_board(state.store.as_ref(), &staff.ctx, &state.config.dosing)
        .await
        .map_err(|e| staff.fail(e))?;
    let (_, tiles) = floor_html(&tiles, staff.ctx.now, &state.config.time_zone).map_err(|e| staff.fail(e))?;
    Ok(render(&FloorLive { tiles }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kat_core::monitoring::ReadingSource;
    use kat_core::monitoring::vitals::{BloodPressure, Diastolic, SpO2, Systolic};

    fn reading(minute: i64, systolic: Option<u16>, spo2: Option<u16>) -> (VitalId, Reading) {
        let at: Timestamp =
            "2026-03-10T14:00:00Z".parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_mins(minute);
        let mut r = Reading::empty(at, ReadingSource::Device { device_id: "m".into() });
        r.blood_pressure =
            systolic.map(|s| BloodPressure::new(Systolic::new(s).unwrap(), Diastolic::new(80).unwrap()).unwrap());
        r.spo2 = spo2.map(|s| SpO2::new(s).unwrap());
        (VitalId::from_uuid(uuid::Uuid::now_v7()), r)
    }

    #[test]
    fn the_trend_needs_two_readings_and_says_what_it_draws() {
        assert_eq!(trend_svg(&[]), None);
        assert_eq!(trend_svg(&[reading(0, Some(120), Some(98))]), None, "one reading is no trend");
        // Newest first, as a tile holds them; drawn oldest left.
        let svg =
            trend_svg(&[reading(10, Some(186), Some(91)), reading(5, None, Some(95)), reading(0, Some(124), Some(98))])
                .unwrap();
        assert!(
            svg.contains(r#"aria-label="Trend of the last 3 readings: systolic 124 to 186 mmHg, SpO2 98 to 91 %""#),
            "{svg}"
        );
        assert!(svg.contains(r#"class="trend-sys""#) && svg.contains(r#"class="trend-spo2""#), "{svg}");
        assert!(svg.contains(r#"points="4.0,"#), "the oldest point at the left edge: {svg}");
        assert!(!svg.contains("style="), "no inline style (CSP)");
        // Only SpO2: one line, no systolic.
        let svg = trend_svg(&[reading(5, None, Some(90)), reading(0, None, Some(96))]).unwrap();
        assert!(!svg.contains("trend-sys") && svg.contains("SpO2 96 to 90 %"), "{svg}");
    }

    #[test]
    fn spans_read_as_minutes_then_hours() {
        let t: Timestamp = "2026-03-10T14:00:00Z".parse().unwrap();
        let after = |m: i64| t + jiff::SignedDuration::from_mins(m);
        assert_eq!(span(t, t), "under 1 min");
        assert_eq!(span(t, after(59)), "59 min");
        assert_eq!(span(t, after(125)), "2 h 05 min");
        assert_eq!(span(after(5), t), "under 1 min", "never negative");
    }
}
