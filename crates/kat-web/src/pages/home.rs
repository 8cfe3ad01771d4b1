//! The start page: for the staff who run the day (front desk, nurses, clinicians) the
//! clinic's day (issue 11 item 12): today's dosing sessions, planned and under way, the
//! therapy sessions due and the measures due; for everyone, the patient search.

use super::Staff;
use crate::AppState;
use crate::view::{Layout, Pager, local_time, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use kat_app::{today, users};
use kat_core::measures::{DueStatus, point_label};
use kat_core::page::PageRequest;
use kat_core::role::Permission;
use serde::Deserialize;

/// One line of the day's dosing, as shown.
struct DosingLine {
    patient: String,
    patient_href: String,
    route: &'static str,
    status: &'static str,
    status_key: &'static str,
    /// When it was opened or discharged, in the clinic's zone.
    time: String,
    href: Option<String>,
}

struct TherapyLine {
    patient: String,
    patient_href: String,
    what: String,
    due: String,
    overdue: bool,
}

struct MeasuresLine {
    patient: String,
    patient_href: String,
    items: String,
    overdue: bool,
}

/// The day's lists (absent for a role that does not see the schedule).
struct Day {
    date: String,
    dosing: Vec<DosingLine>,
    therapy: Vec<TherapyLine>,
    therapy_more: usize,
    measures: Vec<MeasuresLine>,
    measures_more: usize,
    /// Whether the signed-in user may open the session pages and the measures worklist.
    clinical: bool,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    display_name: String,
    role_label: &'static str,
    patient_count: i64,
    needs_admin: bool,
    day: Option<Day>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DayQuery {
    page: Option<u32>,
}

pub async fn dashboard(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DayQuery>,
) -> Result<Response, crate::error::PageError> {
    let patient_count = {
        let mut tx = state.store.begin_read().await.map_err(|e| staff.fail(e.into()))?;
        tx.count_patients().await.map_err(|e| staff.fail(e.into()))?
    };
    let needs_admin = users::count_active_admins(state.store.as_ref()).await.map_err(|e| staff.fail(e))? == 0;
    let day = if staff.principal.user.role.allows(Permission::ScheduleRead) {
        Some(day(&state, &staff, q.page).await?)
    } else {
        None
    };
    Ok(render(&Dashboard {
        layout: Layout::new(&state, Some(&staff.principal), "home"),
        display_name: staff.principal.user.display_name.clone(),
        role_label: staff.principal.user.role.label(),
        patient_count,
        needs_admin,
        day,
    }))
}

async fn day(state: &AppState, staff: &Staff, page: Option<u32>) -> Result<Day, crate::error::PageError> {
    let page = PageRequest::new(page, None, today::TODAY_PAGE, today::TODAY_PAGE);
    let t = today::today(state.store.as_ref(), &staff.ctx, &state.config.measures, page)
        .await
        .map_err(|e| staff.fail(e))?;
    let clinical = staff.principal.user.role.allows(Permission::DosingSessionRead);
    let tz = &state.config.time_zone;
    let name = |id| t.patient(id).map(|p| format!("{} · {}", p.demographics.sort_name(), p.mrn)).unwrap_or_default();
    let dosing = t
        .dosing
        .items
        .iter()
        .map(|r| {
            let time = match (r.status, r.opened_at, r.discharged_at) {
                (_, _, Some(d)) => format!("discharged {}", local_time(d, tz)),
                (_, Some(o), None) if r.from_earlier_day => format!("opened {} (an earlier day)", local_time(o, tz)),
                (_, Some(o), None) => format!("opened {}", local_time(o, tz)),
                _ => String::new(),
            };
            DosingLine {
                patient: name(r.patient),
                patient_href: format!("/patients/{}", r.patient),
                route: r.route.label(),
                status: r.status.label(),
                status_key: r.status.key(),
                time,
                href: if clinical {
                    Some(match r.session {
                        Some(s) => format!("/sessions/{s}"),
                        None => format!("/patients/{}/dosing", r.patient),
                    })
                } else {
                    None
                },
            }
        })
        .collect();
    let therapy = t
        .therapy
        .iter()
        .map(|r| TherapyLine {
            patient: name(r.session.patient_id),
            patient_href: format!("/patients/{}", r.session.patient_id),
            what: format!("{} {}", r.session.kind.label(), r.session.sequence),
            due: r.session.due.to_string(),
            overdue: r.overdue,
        })
        .collect();
    let measures = t
        .measures
        .iter()
        .map(|(p, due)| MeasuresLine {
            patient: name(*p),
            patient_href: format!("/patients/{p}"),
            items: due
                .iter()
                .map(|d| {
                    let when = if d.status == DueStatus::Overdue {
                        format!("overdue since {}", d.due_on)
                    } else {
                        "due today".to_string()
                    };
                    format!("{} ({}, {when})", d.instrument.def().abbreviation, point_label(&d.point))
                })
                .collect::<Vec<_>>()
                .join("; "),
            overdue: due.iter().any(|d| d.status == DueStatus::Overdue),
        })
        .collect();
    Ok(Day {
        date: t.date.strftime("%A %-d %B %Y").to_string(),
        pager: Pager::new(&t.dosing, |n| format!("/?page={n}")),
        dosing,
        therapy_more: t.therapy_total.saturating_sub(t.therapy.len()),
        therapy,
        measures_more: t.measures_total.saturating_sub(t.measures.len()),
        measures,
        clinical,
    })
}
