//! Administration events (DOSE-GEN-002, DOSE-IN-001): never before the gate, beyond the
//! dose in force or faster than the ordered rate.

use super::dose_order::{DoseOrder, given_mg};
use super::plan::{PlanContent, opt};
use super::{internal, parse_route, permitted_session, user_id};
use crate::{AppError, AppResult, Ctx};
use jiff::Timestamp;
use kat_core::FieldErrors;
use kat_core::audit::{AuditAction, AuditOutcome};
use kat_core::dosing::limits::check_next_device;
use kat_core::dosing::order::{allowed_steps, check_administration, check_rate, ordered_rate_ml_per_h};
use kat_core::dosing::{DoseCheck, Mg};
use kat_core::ids::{AdministrationId, DosingSessionId};
use kat_core::patient::parse_iso_date;
use kat_core::role::Permission;
use kat_store::dosing::AdministrationRecord;
use kat_store::dosing::dosing_constraints as c;
use kat_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One administration event (DOSE-GEN-002, DOSE-IN-001).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AdministrationInput {
    /// What the route allows (`kat_core::dosing::order::allowed_steps`): `dose`
    /// (injection, oral, nasal racemic), `device` (one esketamine device), or for IV
    /// `infusion_start`, `infusion_pause`, `infusion_resume`, `infusion_rate_change`,
    /// `infusion_stop`.
    pub kind: String,
    pub administered_by: String,
    pub monitored_by: String,
    pub product: String,
    pub concentration_mg_per_ml: String,
    pub lot: String,
    pub expiry: String,
    pub dose_mg: String,
    pub rate_ml_per_h: String,
    /// When it happened (RFC 3339); now when empty.
    pub at: String,
}

/// Records an administration. Refused before the gate is passed (here and by the store).
pub async fn record_administration(
    store: &dyn Store,
    ctx: &Ctx,
    session: DosingSessionId,
    input: &AdministrationInput,
) -> AppResult<AdministrationRecord> {
    let s = permitted_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRun,
        "dose_administration",
        None,
        AuditAction::Create,
    )
    .await?;
    let by = user_id(ctx)?;
    if !matches!(s.gate_outcome.as_deref(), Some("proceed" | "override")) || s.discharged_at.is_some() {
        return Err(AppError::Conflict(
            "no administration before the pre-dose gate is passed (§3), nor after the discharge".into(),
        ));
    }
    let route = parse_route(&s.route).ok_or_else(|| internal("stored route"))?;
    let mut e = FieldErrors::default();
    let kind = input.kind.trim();
    // Each route its own steps: esketamine device by device, IV as an infusion.
    let steps = allowed_steps(route);
    if !steps.contains(&kind) {
        e.add("kind", format!("{} sessions record: {}", route.label(), steps.join(", ")));
    }
    let at = match opt(&input.at) {
        None => ctx.now,
        Some(raw) => match raw.parse::<Timestamp>() {
            Ok(t) if t <= ctx.now => t,
            _ => {
                e.add("at", "a time not in the future (RFC 3339)");
                ctx.now
            }
        },
    };
    let starts_dose = matches!(kind, "dose" | "device" | "infusion_start");
    let sets_rate = matches!(kind, "infusion_start" | "infusion_resume" | "infusion_rate_change");
    if starts_dose || sets_rate {
        for (name, value) in [("administered_by", &input.administered_by), ("monitored_by", &input.monitored_by)] {
            if value.trim().is_empty() {
                e.add(name, "is required (DOSE-GEN-002)");
            }
        }
    }
    if starts_dose {
        for (name, value) in [("product", &input.product), ("lot", &input.lot)] {
            if value.trim().is_empty() {
                e.add(name, "is required (DOSE-GEN-002)");
            }
        }
        match opt(&input.expiry).and_then(parse_iso_date) {
            Some(d) if d < ctx.today => e.add("expiry", "the product has expired"),
            Some(_) => {}
            None => e.add("expiry", "the expiry date (YYYY-MM-DD)"),
        }
        if let Err(err) = Mg::parse(&input.dose_mg) {
            e.add("dose_mg", err.0);
        }
    }
    let rate = input.rate_ml_per_h.trim().parse::<f64>().ok().filter(|r| r.is_finite() && *r > 0.0);
    if sets_rate && rate.is_none() {
        e.add("rate_ml_per_h", "the pump rate in mL/h");
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let mut tx = store.begin().await?;
    // The checks below read what the session has given; hold the session until the insert.
    tx.lock_dosing_session(session).await?;
    let previous = tx.administrations_for_session(session).await?;
    let kinds: Vec<String> = previous
        .iter()
        .filter_map(|a| serde_json::from_str::<AdministrationInput>(&a.content).ok().map(|i| i.kind))
        .collect();
    if kind.starts_with("infusion_") && kind != "infusion_start" && !kinds.iter().any(|k| k == "infusion_start") {
        return Err(FieldErrors::single("kind", "the infusion has not been started").into());
    }
    if kind.starts_with("infusion_") && kinds.iter().any(|k| k == "infusion_stop") {
        return Err(FieldErrors::single("kind", "the infusion has been stopped").into());
    }
    if starts_dose || sets_rate {
        // §4.4 (ALM-001, -002, -004, -005): an alarm that says pause or stop dosing holds
        // further dosing until it is acknowledged with the action taken (INT-005).
        if let Some(a) = tx
            .alarms_for_session(session)
            .await?
            .iter()
            .find(|a| a.acknowledged_at.is_none() && matches!(a.severity.as_str(), "intervene" | "emergency"))
        {
            return Err(AppError::Conflict(format!(
                "an alarm ({}) asks to pause or stop dosing and is not acknowledged: acknowledge it with the action taken first",
                a.rule
            )));
        }
        // INT-005: an intervention that stopped the session ends its dosing.
        let stopped = tx.session_events_for_session(session).await?.iter().any(|ev| {
            ev.kind == "intervention"
                && serde_json::from_str::<serde_json::Value>(&ev.content)
                    .ok()
                    .and_then(|v| v["session_stopped"].as_bool())
                    == Some(true)
        });
        if stopped {
            return Err(AppError::Conflict("an intervention stopped this session (INT-005): no further dosing".into()));
        }
    }
    let plan = tx.treatment_plan_by_id(s.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
    let ordered =
        tx.dose_orders_for_session(session).await?.last().map_or(Ok(plan.dose.mg), |o| {
            serde_json::from_str::<DoseOrder>(&o.content).map(|o| o.mg).map_err(internal)
        })?;
    let ordered = Mg::new(ordered).map_err(|e| internal(e.0))?;
    if starts_dose {
        // Never more than ordered for this session (DOSE-GEN-002, DOSE-IN-001).
        let given = Mg::new(given_mg(&previous)).map_err(|e| internal(e.0))?;
        let next = Mg::parse(&input.dose_mg).map_err(|err| AppError::from(FieldErrors::single("dose_mg", &err.0)))?;
        if let DoseCheck::HardLimit { rule, message } | DoseCheck::Warning { rule, message } =
            check_administration(ordered, given, next, kind == "device")
        {
            return Err(FieldErrors::single("dose_mg", format!("{}: {}", rule.as_str(), message)).into());
        }
    }
    if let (true, Some(rate)) = (sets_rate, rate) {
        // Never faster than the ordered infusion (DOSE-IV-003).
        let ordered_rate = plan
            .dose
            .concentration_mg_per_ml
            .zip(plan.dose.infusion_minutes)
            .and_then(|(stock, minutes)| ordered_rate_ml_per_h(ordered, stock, minutes));
        if let Some(limit) = ordered_rate
            && let DoseCheck::HardLimit { rule, message } | DoseCheck::Warning { rule, message } =
                check_rate(rate, limit)
        {
            return Err(FieldErrors::single("rate_ml_per_h", format!("{}: {}", rule.as_str(), message)).into());
        }
    }
    if kind == "device" {
        let given: Vec<Timestamp> = previous
            .iter()
            .filter(|a| serde_json::from_str::<AdministrationInput>(&a.content).is_ok_and(|i| i.kind == "device"))
            .map(|a| a.at)
            .collect();
        let planned = Mg::from_whole(28 * (u32::try_from(given.len()).unwrap_or(2) + 1).min(3));
        if let DoseCheck::HardLimit { rule, message } | DoseCheck::Warning { rule, message } =
            check_next_device(planned, &given, at)
        {
            let mut e = FieldErrors::default();
            e.add("at", format!("{}: {}", rule.as_str(), message));
            return Err(e.into());
        }
    }
    let record = AdministrationRecord {
        id: AdministrationId::from_uuid(Uuid::now_v7()),
        session_id: session,
        content: serde_json::to_string(&AdministrationInput { kind: kind.into(), at: at.to_string(), ..input.clone() })
            .map_err(internal)?,
        recorded_by: by,
        at,
    };
    tx.insert_administration(&record).await.map_err(|err| match err {
        StoreError::Conflict { constraint } if constraint == c::DOSE_ADMINISTRATIONS_GATE_PASSED => {
            AppError::Conflict("no administration before the pre-dose gate is passed (§3)".into())
        }
        other => other.into(),
    })?;
    tx.append_audit(&ctx.audit(
        AuditAction::Create,
        "dose_administration",
        Some(record.id.to_string()),
        Some(s.patient_id),
        AuditOutcome::Allowed,
    ))
    .await?;
    tx.commit().await?;
    // TEMPORARY (wip-live): events until wip-session emits them; drop this commit then.
    ctx.events.emit(crate::events::DomainEvent::AdministrationRecorded {
        session,
        patient: s.patient_id,
        administration: record.id,
    });
    Ok(record)
}
