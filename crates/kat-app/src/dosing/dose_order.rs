//! The session's dose order: the previous dose of the course, the titration suggestion
//! and the order checked with the course so far.

use super::plan::{PlanContent, opt, require_dose_reasons};
use super::state::state_of;
use super::{audit_reads, entry, hold, internal, protocol_key, read_session, refused};
use crate::config::DosingConfig;
use crate::events::DomainEvent;
use crate::{AppError, AppResult, Ctx};
use kat_core::FieldErrors;
use kat_core::audit::AuditAction;
use kat_core::dosing::order::{PastDose, esketamine_course};
use kat_core::dosing::titration::{DoseAmount, Efficacy, TitrationSuggestion, Tolerability, suggest_next_dose};
use kat_core::dosing::weight::DosingWeight as CoreDosingWeight;
use kat_core::dosing::{
    CheckLevel, Diluent, Dilution, DoseRequest, DosingPolicy, EsketamineIndication, Kg, LIBRARY, Mg, MgPerKg, MgPerMl,
    Minutes, Preparation, Route, Setting, WeightBasis, WeightMeasurement, check_dose,
};
use kat_core::ids::{DosingSessionId, UserId};
use kat_core::patient::parse_iso_date;
use kat_core::role::Permission;
use kat_store::dosing::dosing_constraints as c;
use kat_store::dosing::{DoseOrderRecord, DosingSessionRecord};
use kat_store::{Store, StoreError, Tx};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A prescriber's dose for one session, as typed (titration from the previous dose).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DoseOrderInput {
    /// The dose: mg/kg when the plan doses per kg, else mg.
    pub dose: String,
    /// How the previous dose was tolerated: `tolerated` or `poorly_tolerated`.
    pub tolerability: String,
    /// How well the previous dose worked: `adequate` or `inadequate`.
    pub efficacy: String,
    /// Why this dose (required when it differs from the plan's).
    pub reason: String,
    /// Required when the dose check warns.
    pub warning_reason: String,
    /// Required, from a medical director, above a hard limit.
    pub override_reason: String,
    /// The override is confirmed at that moment (issue 12 item 2): the authenticator
    /// code, or the password of an account without two-step sign-in.
    pub reauth_code: String,
    pub reauth_password: String,
}

/// The previous dose of the course, as the order saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviousDose {
    pub on: String,
    pub mg: f64,
}

/// A stored dose order (`session_dose_orders.content`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoseOrder {
    pub mg: f64,
    pub mg_per_kg: Option<f64>,
    /// The plan's dosing weight the mg/kg multiplies.
    pub weight_kg: Option<f64>,
    /// The plan's dose, for comparison.
    pub plan_mg: f64,
    pub previous: Option<PreviousDose>,
    pub tolerability: Option<String>,
    pub efficacy: Option<String>,
    /// The core's titration suggestion (rule, action, dose, rationale), when the
    /// previous dose was judged.
    pub suggestion: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub findings: Vec<serde_json::Value>,
    pub level: String,
    pub warning_reason: Option<String>,
    pub override_reason: Option<String>,
    pub override_by: Option<UserId>,
}

/// The patient's earlier sessions on the same route that gave a dose, oldest first, with
/// what each delivered (an infusion by its pump, issue 11 item 3; the course so far, for
/// DOSE-IN-002 and titration).
async fn past_doses(
    tx: &mut Box<dyn Tx>,
    s: &DosingSessionRecord,
    tz: &jiff::tz::TimeZone,
) -> AppResult<Vec<PastDose>> {
    let mut out = Vec::new();
    for other in tx.dosing_sessions_for_patient(s.patient_id).await? {
        if other.id == s.id || other.route != s.route || other.opened_at >= s.opened_at {
            continue;
        }
        let state = state_of(tx, &other).await?;
        let given = state.delivered_mg(state.discharged_at().unwrap_or(s.opened_at));
        if given.value() > 0.0 {
            out.push(PastDose { on: other.opened_at.to_zoned(tz.clone()).date(), given });
        }
    }
    out.sort_by_key(|p| p.on);
    Ok(out)
}

/// What the order form shows before anything is typed: the previous dose of the course
/// and, once tolerability and efficacy are given, the core's suggestion.
#[derive(Debug, Clone)]
pub struct OrderContext {
    pub previous: Option<PreviousDose>,
    pub suggestion: Option<TitrationSuggestion>,
}

fn parse_judgement(e: &mut FieldErrors, input: &DoseOrderInput) -> (Option<Tolerability>, Option<Efficacy>) {
    let tolerability = match input.tolerability.trim() {
        "" => None,
        "tolerated" => Some(Tolerability::Tolerated),
        "poorly_tolerated" => Some(Tolerability::PoorlyTolerated),
        _ => {
            e.add("tolerability", "tolerated or poorly_tolerated");
            None
        }
    };
    let efficacy = match input.efficacy.trim() {
        "" => None,
        "adequate" => Some(Efficacy::Adequate),
        "inadequate" => Some(Efficacy::Inadequate),
        _ => {
            e.add("efficacy", "adequate or inadequate");
            None
        }
    };
    (tolerability, efficacy)
}

fn suggestion_for(
    plan: &PlanContent,
    previous: &PastDose,
    tolerability: Tolerability,
    efficacy: Efficacy,
    policy: &DosingPolicy,
) -> Option<TitrationSuggestion> {
    let protocol = LIBRARY.iter().find(|p| protocol_key(p) == plan.protocol)?;
    let amount = match (plan.dose_style.as_str(), plan.dose.weight_kg) {
        ("per_kg", Some(kg)) => DoseAmount::PerKg(MgPerKg::new(previous.given.value() / kg).ok()?),
        _ => DoseAmount::Mg(previous.given),
    };
    Some(suggest_next_dose(protocol, amount, tolerability, efficacy, policy))
}

/// The previous dose of the course and the titration suggestion for `input`'s judgement.
pub async fn order_context(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    tz: &jiff::tz::TimeZone,
    session: DosingSessionId,
    input: &DoseOrderInput,
) -> AppResult<OrderContext> {
    if !ctx.allows(Permission::DosingSessionRead) {
        return Err(AppError::Forbidden);
    }
    let mut tx = store.begin_read().await?;
    let s = tx.dosing_session_by_id(session).await?.ok_or(AppError::NotFound("dosing session"))?;
    crate::access::preview_allowed(&mut tx, ctx, Permission::DosingSessionRead, s.patient_id).await?;
    let mut e = FieldErrors::default();
    let (tolerability, efficacy) = parse_judgement(&mut e, input);
    order_context_in(&mut tx, config, tz, &s, tolerability, efficacy).await
}

async fn order_context_in(
    tx: &mut Box<dyn Tx>,
    config: &DosingConfig,
    tz: &jiff::tz::TimeZone,
    s: &DosingSessionRecord,
    tolerability: Option<Tolerability>,
    efficacy: Option<Efficacy>,
) -> AppResult<OrderContext> {
    let plan = tx.treatment_plan_by_id(s.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
    let past = past_doses(tx, s, tz).await?;
    let last = past.last().copied();
    let suggestion = match (last, tolerability, efficacy) {
        (Some(prev), Some(t), Some(ef)) => suggestion_for(&plan, &prev, t, ef, &config.policy),
        _ => None,
    };
    Ok(OrderContext { previous: last.map(|p| PreviousDose { on: p.on.to_string(), mg: p.given.value() }), suggestion })
}

/// A prescriber orders this session's dose (titration: DOSE-IV-010, DOSE-IN-002,
/// DOSE-PO-002): checked against the route limits with the course so far (84 mg of
/// esketamine only after 56 mg), a warning needs a reason and a hard limit a medical
/// director's override, as for the plan. Only before dosing starts (use case, store and
/// trigger). Administrations are then checked against it.
pub async fn order_dose(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    tz: &jiff::tz::TimeZone,
    session: DosingSessionId,
    input: &DoseOrderInput,
) -> AppResult<DoseOrder> {
    let reauth = crate::reauth::precheck(
        store,
        ctx,
        crate::reauth::Reauth { code: &input.reauth_code, password: &input.reauth_password },
    )
    .await?;
    let mut h = hold(
        store,
        ctx,
        session,
        Permission::TreatmentPlanWrite,
        "dose_order",
        Some(session.to_string()),
        AuditAction::Create,
    )
    .await?;
    let (by, s) = (h.by, h.session.clone());
    let tx = &mut h.tx;
    // Whether the session still takes an order (the machine's rule), before the form.
    if h.state.order_dose(h.state.dose_in_force()).is_err() {
        return Err(AppError::Conflict(
            "dosing has started (or the session is discharged): a dose order is for a dose not yet given".into(),
        ));
    }
    let is_medical_director = tx.is_medical_director(by).await?;
    let plan = tx.treatment_plan_by_id(s.plan_id).await?.ok_or(AppError::NotFound("treatment plan"))?;
    let plan: PlanContent = serde_json::from_str(&plan.content).map_err(internal)?;
    let past = past_doses(tx, &s, tz).await?;
    let mut e = FieldErrors::default();
    let (tolerability, efficacy) = parse_judgement(&mut e, input);
    let last = past.last().copied();
    if last.is_some() && (tolerability.is_none() || efficacy.is_none()) && e.is_empty() {
        // Titration starts from how the previous dose went (DOSE-IN-002).
        if tolerability.is_none() {
            e.add(
                "tolerability",
                "how the previous dose was tolerated (DOSE-IN-002: change doses on efficacy and tolerability)",
            );
        }
        if efficacy.is_none() {
            e.add("efficacy", "how well the previous dose worked (DOSE-IN-002)");
        }
    }
    let per_kg = plan.dose_style == "per_kg";
    let weight = plan.dose.weight_kg;
    let mg = match input.dose.trim() {
        "" => {
            e.add("dose", if per_kg { "the dose in mg/kg" } else { "the dose in mg" });
            None
        }
        raw if per_kg => match (MgPerKg::parse(raw), weight) {
            (Ok(v), Some(kg)) => Some(v.value() * kg),
            (Err(err), _) => {
                e.add("dose", err.0);
                None
            }
            (Ok(_), None) => {
                e.add("dose", "the plan has no dosing weight");
                None
            }
        },
        raw => match Mg::parse(raw) {
            Ok(v) => Some(v.value()),
            Err(err) => {
                e.add("dose", err.0);
                None
            }
        },
    };
    let reason = opt(&input.reason).map(String::from);
    if let Some(mg) = mg
        && (mg - plan.dose.mg).abs() > 1e-6
        && reason.is_none()
    {
        e.add(
            "reason",
            format!("the dose differs from the plan's {} mg: give the reason (titration, DOSE-IV-010)", plan.dose.mg),
        );
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let mg = mg.expect("checked");
    let dose = Mg::new(mg).map_err(|err| AppError::from(FieldErrors::single("dose", &err.0)))?;
    let round = |v: f64| (v * 100.0).round() / 100.0;
    let next = h.state.order_dose(Mg::new(round(mg)).map_err(|e| internal(e.0))?).map_err(refused)?.session;
    let route = plan.route;
    let dosing_weight = match (
        weight,
        plan.dose.measured_weight_kg.or(weight),
        plan.dose.weight_measured_on.as_deref().and_then(parse_iso_date),
    ) {
        (Some(kg), Some(measured), Some(on)) => Some(CoreDosingWeight {
            kg: Kg::new(kg).map_err(|e| internal(e.0))?,
            // The basis the plan used (DOSE-IV-005): the order multiplies the same weight.
            basis: match plan.dose.weight_basis.as_deref() {
                Some("ideal") => WeightBasis::Ideal,
                Some("adjusted") => WeightBasis::Adjusted,
                _ => WeightBasis::Actual,
            },
            measured: WeightMeasurement { weight: Kg::new(measured).map_err(|e| internal(e.0))?, measured_on: on },
            bmi: plan.dose.bmi,
        }),
        _ => None,
    };
    let protocol = LIBRARY.iter().find(|p| protocol_key(p) == plan.protocol);
    let request = DoseRequest {
        route,
        dose,
        weight: dosing_weight,
        setting: Setting::InClinic,
        infusion: plan.dose.infusion_minutes.map(Minutes::new),
        // The plan's stock and dilution (DOSE-IV-004), as for the plan's own check.
        preparation: plan.dose.concentration_mg_per_ml.and_then(|c| MgPerMl::new(c).ok()).map(|stock| Preparation {
            stock,
            dilution: if route == Route::IvInfusion {
                Dilution::EqualVolume(Diluent::SodiumChloride0_9)
            } else {
                Dilution::Undiluted
            },
        }),
        esketamine: route.is_esketamine().then(|| {
            let indication = if protocol.is_some_and(|p| protocol_key(p) == "spravato_mdsi") {
                EsketamineIndication::Mdsi
            } else {
                EsketamineIndication::Trd
            };
            esketamine_course(indication, &past, ctx.today, None)
        }),
    };
    let review = check_dose(&request, &config.policy);
    let level = review.level();
    let warning_reason = opt(&input.warning_reason).map(String::from);
    let override_reason = opt(&input.override_reason).map(String::from);
    require_dose_reasons(&mut e, &review, warning_reason.is_some(), override_reason.is_some(), is_medical_director);
    if e.is_empty() && level == CheckLevel::HardLimit {
        let patient = Some(s.patient_id);
        reauth.settle(tx.as_mut(), ctx, "the override of a hard dose limit", patient, &mut e).await?;
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let suggestion = match (last, tolerability, efficacy) {
        (Some(prev), Some(t), Some(ef)) => suggestion_for(&plan, &prev, t, ef, &config.policy),
        _ => None,
    };
    let order = DoseOrder {
        mg: round(mg),
        mg_per_kg: weight.map(|kg| round(mg / kg * 100.0) / 100.0),
        weight_kg: weight,
        plan_mg: plan.dose.mg,
        previous: last.map(|p| PreviousDose { on: p.on.to_string(), mg: p.given.value() }),
        tolerability: opt(&input.tolerability).map(String::from),
        efficacy: opt(&input.efficacy).map(String::from),
        suggestion: suggestion.as_ref().and_then(|s| serde_json::to_value(s).ok()),
        reason,
        findings: review.findings.iter().filter_map(|f| serde_json::to_value(f).ok()).collect(),
        level: match level {
            CheckLevel::Ok => "ok",
            CheckLevel::Warning => "warning",
            CheckLevel::HardLimit => "hard_limit",
        }
        .into(),
        warning_reason: if level >= CheckLevel::Warning { warning_reason } else { None },
        override_reason: if level == CheckLevel::HardLimit { override_reason } else { None },
        override_by: (level == CheckLevel::HardLimit).then_some(by),
    };
    let record = DoseOrderRecord {
        id: Uuid::now_v7(),
        session_id: session,
        content: serde_json::to_string(&order).map_err(internal)?,
        ordered_by: by,
        ordered_at: ctx.now,
    };
    h.tx.insert_dose_order(&record).await.map_err(|err| match err {
        StoreError::Conflict { constraint } if constraint == c::SESSION_DOSE_ORDERS_BEFORE_DOSING => {
            AppError::Conflict(
                "dosing has started (or the session is discharged): a dose order is for a dose not yet given".into(),
            )
        }
        other => other.into(),
    })?;
    let audit = vec![entry(ctx, AuditAction::Create, "dose_order", record.id, &s)];
    let event = DomainEvent::DoseOrdered { session, patient: s.patient_id };
    h.finish(ctx, Some(&next), audit, vec![event]).await?;
    Ok(order)
}

/// The previous dose of the course and the core's titration suggestion for the given
/// judgement of it, as a read of its own for the API: a bad `tolerability` or `efficacy`
/// is refused by name (422), the read is audited.
pub async fn dose_suggestion(
    store: &dyn Store,
    ctx: &Ctx,
    config: &DosingConfig,
    tz: &jiff::tz::TimeZone,
    session: DosingSessionId,
    input: &DoseOrderInput,
) -> AppResult<OrderContext> {
    let (mut tx, s) = read_session(
        store,
        ctx,
        session,
        Permission::DosingSessionRead,
        "dose_suggestion",
        Some(session.to_string()),
        AuditAction::Read,
    )
    .await?;
    let mut e = FieldErrors::default();
    let (tolerability, efficacy) = parse_judgement(&mut e, input);
    if !e.is_empty() {
        return Err(e.into());
    }
    let cx = order_context_in(&mut tx, config, tz, &s, tolerability, efficacy).await?;
    drop(tx);
    audit_reads(store, &[entry(ctx, AuditAction::Read, "dose_suggestion", session, &s)]).await?;
    Ok(cx)
}
