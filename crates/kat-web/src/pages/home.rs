//! The start page.

use super::Staff;
use crate::AppState;
use crate::view::{Layout, render};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kat_app::users;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    display_name: String,
    role_label: &'static str,
    patient_count: i64,
    needs_admin: bool,
}

pub async fn dashboard(State(state): State<AppState>, staff: Staff) -> Result<Response, crate::error::PageError> {
    let patient_count = {
        let mut tx = state.store.begin_read().await.map_err(|e| staff.fail(e.into()))?;
        tx.count_patients().await.map_err(|e| staff.fail(e.into()))?
    };
    let needs_admin = users::count_active_admins(state.store.as_ref()).await.map_err(|e| staff.fail(e))? == 0;
    Ok(render(&Dashboard {
        layout: Layout::new(&state, Some(&staff.principal), "home"),
        display_name: staff.principal.user.display_name.clone(),
        role_label: staff.principal.user.role.label(),
        patient_count,
        needs_admin,
    }))
}
