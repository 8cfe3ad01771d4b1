//! The measurement-based-care part of the port: rating-scale responses with their
//! computed scores, one-time self-report links, urgent safety alerts and per-patient
//! measurement-plan anchors.
//!
//! Columns shared by both schemas (migration `0003_measures.sql`): answers are a JSON
//! array of integers or `null` in item order; flags and link instruments are
//! comma-separated snake_case names; the scoring policy is the JSON the app wrote.

use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use kat_core::ids::{AlertId, LinkId, PatientId, ResponseId, UserId};
use kat_core::instruments::{Instrument, Response};
use kat_core::measures::{AlertAction, PlanAnchors, ResponseSource, SafetyAlertKind};
use kat_core::patient::parse_iso_date;
use std::fmt;

/// One stored response with what was computed from it at the time.
#[derive(Clone, PartialEq)]
pub struct ResponseRecord {
    pub id: ResponseId,
    pub patient_id: PatientId,
    pub response: Response,
    pub source: ResponseSource,
    /// The clinician who entered it (required for `clinician`, `None` for self-report).
    pub entered_by: Option<UserId>,
    /// The link a self-report came through.
    pub link_id: Option<LinkId>,
    pub collected_at: Timestamp,
    pub recorded_at: Timestamp,
    /// Only for complete responses.
    pub total: Option<u8>,
    pub band: Option<String>,
    pub complete: bool,
    pub flags: Vec<String>,
    /// The scoring policy used, as JSON.
    pub scoring_policy: String,
}

impl fmt::Debug for ResponseRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseRecord")
            .field("id", &self.id)
            .field("instrument", &self.response.instrument())
            .finish_non_exhaustive()
    }
}

/// A one-time self-report link. Only the SHA-256 of the token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfReportLink {
    pub id: LinkId,
    pub patient_id: PatientId,
    pub token_hash: String,
    pub instruments: Vec<Instrument>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// An urgent safety alert raised by a response.
#[derive(Clone, PartialEq, Eq)]
pub struct SafetyAlert {
    pub id: AlertId,
    pub patient_id: PatientId,
    pub response_id: ResponseId,
    pub kind: SafetyAlertKind,
    pub raised_at: Timestamp,
    pub acknowledged_by: Option<UserId>,
    pub acknowledged_at: Option<Timestamp>,
    pub action: Option<AlertAction>,
    pub note: Option<String>,
}

impl fmt::Debug for SafetyAlert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SafetyAlert")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("acknowledged_at", &self.acknowledged_at)
            .finish_non_exhaustive()
    }
}

/// A patient's measurement-plan anchors, editable by clinicians.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurementPlan {
    pub patient_id: PatientId,
    pub anchors: PlanAnchors,
    pub updated_by: Option<UserId>,
    pub updated_at: Timestamp,
}

#[async_trait]
pub trait MeasureRepo {
    async fn insert_response(&mut self, r: &ResponseRecord) -> StoreResult<()>;
    async fn response_by_id(&mut self, id: ResponseId) -> StoreResult<Option<ResponseRecord>>;
    /// A patient's responses, optionally of one instrument, oldest first.
    async fn responses_for_patient(
        &mut self,
        patient: PatientId,
        instrument: Option<Instrument>,
    ) -> StoreResult<Vec<ResponseRecord>>;

    async fn insert_link(&mut self, link: &SelfReportLink) -> StoreResult<()>;
    async fn link_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<SelfReportLink>>;
    /// Marks a link used if it was not yet; `false` when it already was (single use
    /// holds even against two submissions racing).
    async fn mark_link_used(&mut self, id: LinkId, at: Timestamp) -> StoreResult<bool>;

    /// Raises an alert; one alert per response and kind
    /// (constraint [`crate::constraints::SAFETY_ALERTS_RESPONSE_KIND_UNIQUE`]).
    async fn insert_alert(&mut self, alert: &SafetyAlert) -> StoreResult<()>;
    async fn alert_by_id(&mut self, id: AlertId) -> StoreResult<Option<SafetyAlert>>;
    /// Unacknowledged alerts, oldest first.
    async fn open_alerts(&mut self) -> StoreResult<Vec<SafetyAlert>>;
    async fn count_open_alerts(&mut self) -> StoreResult<i64>;
    /// A patient's alerts, newest first.
    async fn alerts_for_patient(&mut self, patient: PatientId) -> StoreResult<Vec<SafetyAlert>>;
    /// Records the acknowledgement; `StaleVersion` if it was already acknowledged,
    /// `NotFound` if there is no such alert.
    async fn acknowledge_alert(
        &mut self,
        id: AlertId,
        by: Option<UserId>,
        at: Timestamp,
        action: AlertAction,
        note: Option<&str>,
    ) -> StoreResult<()>;

    async fn plan_for_patient(&mut self, patient: PatientId) -> StoreResult<Option<MeasurementPlan>>;
    /// Creates or replaces a patient's plan anchors.
    async fn upsert_plan(&mut self, plan: &MeasurementPlan) -> StoreResult<()>;
    async fn list_plans(&mut self) -> StoreResult<Vec<MeasurementPlan>>;
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("stored {what} is invalid"))
}

/// `[1,0,null]`
pub fn answers_to_json(answers: &[Option<u8>]) -> String {
    let parts: Vec<String> =
        answers.iter().map(|a| a.map(|v| v.to_string()).unwrap_or_else(|| "null".into())).collect();
    format!("[{}]", parts.join(","))
}

pub fn answers_from_json(text: &str) -> StoreResult<Vec<Option<u8>>> {
    let inner = text.trim().strip_prefix('[').and_then(|t| t.strip_suffix(']')).ok_or_else(|| corrupt("answers"))?;
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|p| match p.trim() {
            "null" => Ok(None),
            n => n.parse::<u8>().map(Some).map_err(|_| corrupt("answers")),
        })
        .collect()
}

pub fn instrument_from_str(s: &str) -> StoreResult<Instrument> {
    Instrument::ALL.into_iter().find(|i| i.as_str() == s).ok_or_else(|| corrupt("instrument"))
}

pub fn join_names<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().collect::<Vec<_>>().join(",")
}

fn split_names(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|p| !p.is_empty())
}

pub fn dates_to_text(dates: &[Date]) -> String {
    dates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",")
}

/// A response row as both adapters read it.
pub struct ResponseRow {
    pub id: uuid::Uuid,
    pub patient_id: uuid::Uuid,
    pub instrument: String,
    pub answers: String,
    pub source: String,
    pub entered_by: Option<uuid::Uuid>,
    pub link_id: Option<uuid::Uuid>,
    pub collected_at: Timestamp,
    pub recorded_at: Timestamp,
    pub total: Option<i64>,
    pub band: Option<String>,
    pub complete: bool,
    pub flags: String,
    pub scoring_policy: String,
}

impl ResponseRow {
    pub fn into_domain(self) -> StoreResult<ResponseRecord> {
        let instrument = instrument_from_str(&self.instrument)?;
        let answers = answers_from_json(&self.answers)?;
        let response = Response::from_values(instrument, &answers).map_err(|_| corrupt("answers"))?;
        Ok(ResponseRecord {
            id: ResponseId::from_uuid(self.id),
            patient_id: PatientId::from_uuid(self.patient_id),
            response,
            source: ResponseSource::parse(&self.source).ok_or_else(|| corrupt("response source"))?,
            entered_by: self.entered_by.map(UserId::from_uuid),
            link_id: self.link_id.map(LinkId::from_uuid),
            collected_at: self.collected_at,
            recorded_at: self.recorded_at,
            total: self.total.map(|t| u8::try_from(t).map_err(|_| corrupt("total"))).transpose()?,
            band: self.band,
            complete: self.complete,
            flags: split_names(&self.flags).map(str::to_string).collect(),
            scoring_policy: self.scoring_policy,
        })
    }
}

pub struct LinkRow {
    pub id: uuid::Uuid,
    pub patient_id: uuid::Uuid,
    pub token_hash: String,
    pub instruments: String,
    pub created_by: Option<uuid::Uuid>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

impl LinkRow {
    pub fn into_domain(self) -> StoreResult<SelfReportLink> {
        Ok(SelfReportLink {
            id: LinkId::from_uuid(self.id),
            patient_id: PatientId::from_uuid(self.patient_id),
            token_hash: self.token_hash,
            instruments: split_names(&self.instruments).map(instrument_from_str).collect::<StoreResult<_>>()?,
            created_by: self.created_by.map(UserId::from_uuid),
            created_at: self.created_at,
            expires_at: self.expires_at,
            used_at: self.used_at,
        })
    }
}

pub struct AlertRow {
    pub id: uuid::Uuid,
    pub patient_id: uuid::Uuid,
    pub response_id: uuid::Uuid,
    pub kind: String,
    pub raised_at: Timestamp,
    pub acknowledged_by: Option<uuid::Uuid>,
    pub acknowledged_at: Option<Timestamp>,
    pub action: Option<String>,
    pub note: Option<String>,
}

impl AlertRow {
    pub fn into_domain(self) -> StoreResult<SafetyAlert> {
        Ok(SafetyAlert {
            id: AlertId::from_uuid(self.id),
            patient_id: PatientId::from_uuid(self.patient_id),
            response_id: ResponseId::from_uuid(self.response_id),
            kind: SafetyAlertKind::parse(&self.kind).ok_or_else(|| corrupt("alert kind"))?,
            raised_at: self.raised_at,
            acknowledged_by: self.acknowledged_by.map(UserId::from_uuid),
            acknowledged_at: self.acknowledged_at,
            action: self.action.map(|a| AlertAction::parse(&a).ok_or_else(|| corrupt("alert action"))).transpose()?,
            note: self.note,
        })
    }
}

pub struct PlanRow {
    pub patient_id: uuid::Uuid,
    pub baseline_date: Date,
    pub dose_dates: String,
    pub end_of_induction_date: Option<Date>,
    pub include_pcl5: bool,
    pub updated_by: Option<uuid::Uuid>,
    pub updated_at: Timestamp,
}

impl PlanRow {
    pub fn into_domain(self) -> StoreResult<MeasurementPlan> {
        let dose_dates = split_names(&self.dose_dates)
            .map(|d| parse_iso_date(d).ok_or_else(|| corrupt("dose date")))
            .collect::<StoreResult<_>>()?;
        Ok(MeasurementPlan {
            patient_id: PatientId::from_uuid(self.patient_id),
            anchors: PlanAnchors {
                baseline: self.baseline_date,
                dose_dates,
                end_of_induction: self.end_of_induction_date,
                include_pcl5: self.include_pcl5,
            },
            updated_by: self.updated_by.map(UserId::from_uuid),
            updated_at: self.updated_at,
        })
    }
}
