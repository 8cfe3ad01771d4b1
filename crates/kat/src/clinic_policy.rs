//! Clinic policy from `kat.toml`: outcome thresholds and the measurement schedule
//! (`[measures.outcome]`, `[measures.schedule]`), the therapy program (`[therapy]`) and
//! the dosing-session policy (`[dosing]` and its sub-sections, in [`dosing`]).
//!
//! Every key defaults to the clinical reference's value (the spec ID is named beside each
//! field and in `kat.example.toml`); a value the reference does not allow is refused at
//! start-up with the key's full name.

use crate::settings::parse_duration;
use anyhow::{Result, bail};
use jiff::SignedDuration;
use kat_app::therapy::TherapyConfig;
use kat_core::instruments::ScoringPolicy;
use kat_core::instruments::outcome::{OutcomePolicy, RelapsePolicy};
use kat_core::instruments::pcl5::Pcl5Cutoff;
use kat_core::instruments::schedule::ScheduleTemplate;
use kat_core::therapy::schedule::{SessionOrdering, TherapyPolicy};
use serde::{Deserialize, Serialize};

pub mod dosing;
pub use dosing::DosingSettings;

/// `[measures.outcome]`: scoring and outcome thresholds (instruments.md §4.3, §4.4;
/// clinical.md §7.3, §7.4). `0` turns an optional threshold off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutcomeSettings {
    /// instruments.md §4.3: PCL-5 probable-PTSD cut-off, 31–33. Default 33.
    pub pcl5_cutoff: u8,
    /// instruments.md §4.4: PCL-5 item 16 value that prompts a review (0–4; 0: off). Default 3.
    pub pcl5_item16_review_at: u8,
    /// RESP-007 [U]: GAD-7 remission when the total is below this. Default 5.
    pub gad7_remission_below: u8,
    /// RESP-002: MADRS remission when the total is at most this: 10 or 12. Default 10.
    pub madrs_remission_at_most: u8,
    /// RESP-004 [U]: QIDS-SR16 remission when the total is at most this. Default 5.
    pub qids_remission_at_most: u8,
    /// RESP-006: PCL-5 response as a drop of this many points: 10 (clinically
    /// meaningful) or 5 (reliable). Default 10.
    pub pcl5_response_drop: u8,
    /// MADRS minimal important change in points (0: none; the reference gives no single
    /// value). Default 0.
    pub madrs_mcid: u8,
    /// REL-003 [U]: "again meets moderate severity" thresholds (0: off).
    pub relapse_phq9_at_least: u8,
    pub relapse_madrs_at_least: u8,
    pub relapse_gad7_at_least: u8,
    pub relapse_pcl5_at_least: u8,
    pub relapse_qids_at_least: u8,
    /// REL-003 [U]: days between the two confirming assessments. Default 5.
    pub relapse_confirm_min_days_apart: u16,
}

impl Default for OutcomeSettings {
    fn default() -> Self {
        let o = OutcomePolicy::default();
        let r = o.relapse;
        let s = ScoringPolicy::default();
        Self {
            pcl5_cutoff: s.pcl5_cutoff.value(),
            pcl5_item16_review_at: s.pcl5_item16_review_at.unwrap_or(0),
            gad7_remission_below: o.gad7_remission_below,
            madrs_remission_at_most: o.madrs_remission_at_most,
            qids_remission_at_most: o.qids_remission_at_most,
            pcl5_response_drop: o.pcl5_response_drop,
            madrs_mcid: o.madrs_mcid.unwrap_or(0),
            relapse_phq9_at_least: r.phq9_moderate_at_least.unwrap_or(0),
            relapse_madrs_at_least: r.madrs_moderate_at_least.unwrap_or(0),
            relapse_gad7_at_least: r.gad7_moderate_at_least.unwrap_or(0),
            relapse_pcl5_at_least: r.pcl5_moderate_at_least.unwrap_or(0),
            relapse_qids_at_least: r.qids_moderate_at_least.unwrap_or(0),
            relapse_confirm_min_days_apart: r.confirm_min_days_apart,
        }
    }
}

const P: &str = "measures.outcome";

/// `0` → off; else within `1..=max`.
fn optional(key: &str, value: u8, max: u8) -> Result<Option<u8>> {
    match value {
        0 => Ok(None),
        v if v <= max => Ok(Some(v)),
        v => bail!("{key}: {v} is above the scale's maximum {max} (0 turns it off)"),
    }
}

impl OutcomeSettings {
    pub fn parse(&self) -> Result<(ScoringPolicy, OutcomePolicy)> {
        let pcl5_cutoff = Pcl5Cutoff::new(self.pcl5_cutoff)
            .map_err(|e| anyhow::anyhow!("{P}.pcl5_cutoff: {e} (instruments.md §4.3)"))?;
        let pcl5_item16_review_at = optional(&format!("{P}.pcl5_item16_review_at"), self.pcl5_item16_review_at, 4)?;
        if !(1..=21).contains(&self.gad7_remission_below) {
            bail!(
                "{P}.gad7_remission_below: {} is not a GAD-7 total from 1 to 21 (RESP-007)",
                self.gad7_remission_below
            );
        }
        if ![10, 12].contains(&self.madrs_remission_at_most) {
            bail!("{P}.madrs_remission_at_most: {} is not 10 or 12 (RESP-002)", self.madrs_remission_at_most);
        }
        if self.qids_remission_at_most > 27 {
            bail!(
                "{P}.qids_remission_at_most: {} is above the QIDS-SR16 maximum 27 (RESP-004)",
                self.qids_remission_at_most
            );
        }
        if ![5, 10].contains(&self.pcl5_response_drop) {
            bail!(
                "{P}.pcl5_response_drop: {} is not 10 (clinically meaningful) or 5 (reliable) (RESP-006)",
                self.pcl5_response_drop
            );
        }
        let madrs_mcid = optional(&format!("{P}.madrs_mcid"), self.madrs_mcid, 60)?;
        let relapse = RelapsePolicy {
            phq9_moderate_at_least: optional(&format!("{P}.relapse_phq9_at_least"), self.relapse_phq9_at_least, 27)?,
            madrs_moderate_at_least: optional(&format!("{P}.relapse_madrs_at_least"), self.relapse_madrs_at_least, 60)?,
            gad7_moderate_at_least: optional(&format!("{P}.relapse_gad7_at_least"), self.relapse_gad7_at_least, 21)?,
            pcl5_moderate_at_least: optional(&format!("{P}.relapse_pcl5_at_least"), self.relapse_pcl5_at_least, 80)?,
            qids_moderate_at_least: optional(&format!("{P}.relapse_qids_at_least"), self.relapse_qids_at_least, 27)?,
            confirm_min_days_apart: self.relapse_confirm_min_days_apart,
        };
        if self.relapse_confirm_min_days_apart == 0 {
            bail!("{P}.relapse_confirm_min_days_apart: must be at least 1 day (REL-003: two assessments days apart)");
        }
        let scoring = ScoringPolicy { pcl5_cutoff, pcl5_item16_review_at };
        let outcome = OutcomePolicy {
            gad7_remission_below: self.gad7_remission_below,
            madrs_remission_at_most: self.madrs_remission_at_most,
            qids_remission_at_most: self.qids_remission_at_most,
            pcl5_response_drop: self.pcl5_response_drop,
            madrs_mcid,
            relapse,
        };
        Ok((scoring, outcome))
    }
}

/// `[measures.schedule]`: the timing of the OUT-002 [U] measurement schedule. Which
/// scales make up each battery stays the OUT-002 default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleSettings {
    /// Weeks after the end of induction with a follow-up battery. Default [1, 2, 4, 8, 12].
    pub follow_up_weeks: Vec<u16>,
    /// Months between maintenance measurements after the last follow-up (0: none). Default 1.
    pub maintenance_every_months: u16,
    /// When the peak-effect ratings (CADSS-6, MOAA/S) are due after each dose. Default 40m.
    pub post_dose_offset: String,
    /// The optional PHQ-9 after the first dose ("off": none). Default 24h.
    pub after_first_dose_offset: String,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        let t = ScheduleTemplate::default();
        Self {
            follow_up_weeks: t.follow_up_weeks,
            maintenance_every_months: t.maintenance_every_months.unwrap_or(0),
            post_dose_offset: "40m".into(),
            after_first_dose_offset: "24h".into(),
        }
    }
}

impl ScheduleSettings {
    pub fn parse(&self) -> Result<ScheduleTemplate> {
        const S: &str = "measures.schedule";
        let w = &self.follow_up_weeks;
        if w.iter().any(|x| *x == 0 || *x > 104) || w.windows(2).any(|p| p[0] >= p[1]) {
            bail!("{S}.follow_up_weeks: {w:?} must be increasing weeks from 1 to 104 (OUT-002)");
        }
        if self.maintenance_every_months > 24 {
            bail!(
                "{S}.maintenance_every_months: {} is more than 24 months (0 turns it off)",
                self.maintenance_every_months
            );
        }
        let post_dose_offset = parse_duration(&format!("{S}.post_dose_offset"), &self.post_dose_offset)?;
        let after_first_dose_offset = match self.after_first_dose_offset.trim() {
            "off" => None,
            raw => Some(parse_duration(&format!("{S}.after_first_dose_offset"), raw)?),
        };
        Ok(ScheduleTemplate {
            follow_up_weeks: w.clone(),
            maintenance_every_months: (self.maintenance_every_months > 0).then_some(self.maintenance_every_months),
            post_dose_offset: Some(post_dose_offset),
            after_first_dose_offset,
            ..ScheduleTemplate::default()
        })
    }
}

/// `[therapy]`: the program structure (PSY-002, PSY-006, DOSE-IV-008) and the safety-plan link.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TherapySettings {
    /// PSY-002 [P]: one entry per preparation session, its latest day relative to the
    /// first dose (negative: before). Default [-1].
    pub preparation_offsets_days: Vec<i32>,
    /// PSY-002 [P]: one entry per integration session after each dose, in days (0: the
    /// same day). Default [1].
    pub integration_offsets_days: Vec<i32>,
    /// DOSE-IV-008 [V]: reassessment window after the last dose, in days. Default 14–21.
    pub reassessment_from_days: i32,
    pub reassessment_to_days: i32,
    /// PSY-006 [P]: a modality session this many hours from each dose (negative: before),
    /// e.g. "-48" or "2"; empty: none. Default empty.
    pub modality_offset_hours: String,
    /// How long a patient's one-time safety-plan link stays valid. Default 24h.
    pub safety_plan_link_ttl: String,
}

impl Default for TherapySettings {
    fn default() -> Self {
        let p = TherapyPolicy::default();
        Self {
            preparation_offsets_days: p.preparation_offsets_days,
            integration_offsets_days: p.integration_offsets_days,
            reassessment_from_days: p.reassessment_from_days,
            reassessment_to_days: p.reassessment_to_days,
            modality_offset_hours: String::new(),
            safety_plan_link_ttl: "24h".into(),
        }
    }
}

/// The most sessions of one kind a policy may list per dose (a typo guard).
const MAX_SESSIONS: usize = 10;

impl TherapySettings {
    pub fn parse(&self) -> Result<TherapyConfig> {
        const T: &str = "therapy";
        let prep = &self.preparation_offsets_days;
        if prep.is_empty() || prep.len() > MAX_SESSIONS || prep.iter().any(|d| *d >= 0 || *d < -365) {
            bail!(
                "{T}.preparation_offsets_days: {prep:?} must list 1 to {MAX_SESSIONS} days before the first dose (negative, at most 365) (PSY-002)"
            );
        }
        let integ = &self.integration_offsets_days;
        if integ.is_empty() || integ.len() > MAX_SESSIONS || integ.iter().any(|d| *d < 0 || *d > 365) {
            bail!(
                "{T}.integration_offsets_days: {integ:?} must list 1 to {MAX_SESSIONS} days after each dose (0 to 365) (PSY-002)"
            );
        }
        let (from, to) = (self.reassessment_from_days, self.reassessment_to_days);
        if from < 1 || to < from || to > 365 {
            bail!(
                "{T}.reassessment_from_days / reassessment_to_days: {from}–{to} is not a window of 1 to 365 days after the last dose (DOSE-IV-008)"
            );
        }
        let modality_ordering = match self.modality_offset_hours.trim() {
            "" => None,
            raw => {
                let offset_hours: i32 = raw
                    .trim_start_matches('+')
                    .parse()
                    .ok()
                    .filter(|h: &i32| h.abs() <= 24 * 14)
                    .ok_or_else(|| anyhow::anyhow!("{T}.modality_offset_hours: `{raw}` is not a number of hours from -336 to 336, or empty (PSY-006)"))?;
                Some(SessionOrdering { offset_hours })
            }
        };
        let plan_link_ttl: SignedDuration =
            parse_duration(&format!("{T}.safety_plan_link_ttl"), &self.safety_plan_link_ttl)?;
        let policy = TherapyPolicy {
            preparation_offsets_days: prep.clone(),
            integration_offsets_days: integ.clone(),
            reassessment_from_days: from,
            reassessment_to_days: to,
            modality_ordering,
        };
        policy.check().map_err(|e| anyhow::anyhow!("{T}: {e}"))?;
        Ok(TherapyConfig { policy, plan_link_ttl })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_references_values() {
        let (scoring, outcome) = OutcomeSettings::default().parse().unwrap();
        assert_eq!(scoring, ScoringPolicy::default());
        assert_eq!(outcome, OutcomePolicy::default());
        assert_eq!(ScheduleSettings::default().parse().unwrap(), ScheduleTemplate::default());
        let therapy = TherapySettings::default().parse().unwrap();
        assert_eq!(therapy.policy, TherapyPolicy::default());
        assert_eq!(therapy.plan_link_ttl, TherapyConfig::default().plan_link_ttl);
    }

    #[test]
    fn outcome_values_within_the_reference_are_taken() {
        let s = OutcomeSettings {
            pcl5_cutoff: 31,
            pcl5_item16_review_at: 0,
            madrs_remission_at_most: 12,
            pcl5_response_drop: 5,
            relapse_madrs_at_least: 0,
            relapse_gad7_at_least: 10,
            relapse_confirm_min_days_apart: 7,
            ..Default::default()
        };
        let (scoring, outcome) = s.parse().unwrap();
        assert_eq!(scoring.pcl5_cutoff.value(), 31);
        assert_eq!(scoring.pcl5_item16_review_at, None);
        assert_eq!(outcome.madrs_remission_at_most, 12);
        assert_eq!(outcome.pcl5_response_drop, 5);
        assert_eq!(outcome.relapse.madrs_moderate_at_least, None);
        assert_eq!(outcome.relapse.gad7_moderate_at_least, Some(10));
        assert_eq!(outcome.relapse.confirm_min_days_apart, 7);
    }

    fn outcome_error(change: impl FnOnce(&mut OutcomeSettings)) -> String {
        let mut s = OutcomeSettings::default();
        change(&mut s);
        s.parse().unwrap_err().to_string()
    }

    #[test]
    fn outcome_values_outside_the_reference_are_named() {
        assert!(outcome_error(|s| s.pcl5_cutoff = 30).contains("measures.outcome.pcl5_cutoff"));
        assert!(outcome_error(|s| s.pcl5_cutoff = 34).contains("measures.outcome.pcl5_cutoff"));
        assert!(outcome_error(|s| s.pcl5_item16_review_at = 5).contains("pcl5_item16_review_at"));
        assert!(outcome_error(|s| s.gad7_remission_below = 0).contains("measures.outcome.gad7_remission_below"));
        assert!(outcome_error(|s| s.gad7_remission_below = 22).contains("gad7_remission_below"));
        assert!(outcome_error(|s| s.madrs_remission_at_most = 11).contains("RESP-002"));
        assert!(outcome_error(|s| s.qids_remission_at_most = 28).contains("qids_remission_at_most"));
        assert!(outcome_error(|s| s.pcl5_response_drop = 7).contains("RESP-006"));
        assert!(outcome_error(|s| s.relapse_phq9_at_least = 28).contains("relapse_phq9_at_least"));
        assert!(outcome_error(|s| s.relapse_confirm_min_days_apart = 0).contains("relapse_confirm_min_days_apart"));
    }

    #[test]
    fn schedule_timing_is_configurable_and_checked() {
        let s = ScheduleSettings {
            follow_up_weeks: vec![2, 6, 12],
            maintenance_every_months: 0,
            post_dose_offset: "30m".into(),
            after_first_dose_offset: "off".into(),
        };
        let t = s.parse().unwrap();
        assert_eq!(t.follow_up_weeks, vec![2, 6, 12]);
        assert_eq!(t.maintenance_every_months, None);
        assert_eq!(t.post_dose_offset, Some(SignedDuration::from_mins(30)));
        assert_eq!(t.after_first_dose_offset, None);
        assert_eq!(t.full_battery, ScheduleTemplate::default().full_battery);
        for bad in [vec![0, 1], vec![4, 2], vec![2, 2], vec![105]] {
            let s = ScheduleSettings { follow_up_weeks: bad, ..Default::default() };
            assert!(s.parse().unwrap_err().to_string().contains("measures.schedule.follow_up_weeks"));
        }
        let s = ScheduleSettings { post_dose_offset: "soon".into(), ..Default::default() };
        assert!(s.parse().unwrap_err().to_string().contains("measures.schedule.post_dose_offset"));
        let s = ScheduleSettings { maintenance_every_months: 25, ..Default::default() };
        assert!(s.parse().unwrap_err().to_string().contains("maintenance_every_months"));
    }

    #[test]
    fn therapy_policy_is_configurable_and_checked() {
        let s = TherapySettings {
            preparation_offsets_days: vec![-14, -7, -1],
            integration_offsets_days: vec![0, 1],
            reassessment_from_days: 10,
            reassessment_to_days: 28,
            modality_offset_hours: "+2".into(),
            safety_plan_link_ttl: "48h".into(),
        };
        let c = s.parse().unwrap();
        assert_eq!(c.policy.preparation_offsets_days, vec![-14, -7, -1]);
        assert_eq!(c.policy.integration_offsets_days, vec![0, 1]);
        assert_eq!((c.policy.reassessment_from_days, c.policy.reassessment_to_days), (10, 28));
        assert_eq!(c.policy.modality_ordering, Some(SessionOrdering { offset_hours: 2 }));
        assert_eq!(c.plan_link_ttl, SignedDuration::from_hours(48));
        let bad = |change: fn(&mut TherapySettings)| {
            let mut s = TherapySettings::default();
            change(&mut s);
            s.parse().unwrap_err().to_string()
        };
        assert!(bad(|s| s.preparation_offsets_days = vec![0]).contains("therapy.preparation_offsets_days"));
        assert!(bad(|s| s.preparation_offsets_days = vec![]).contains("therapy.preparation_offsets_days"));
        assert!(bad(|s| s.integration_offsets_days = vec![-1]).contains("therapy.integration_offsets_days"));
        assert!(bad(|s| s.reassessment_to_days = 10).contains("DOSE-IV-008"));
        assert!(bad(|s| s.reassessment_from_days = 0).contains("therapy.reassessment_from_days"));
        assert!(bad(|s| s.modality_offset_hours = "soon".into()).contains("therapy.modality_offset_hours"));
        assert!(bad(|s| s.safety_plan_link_ttl = "0s".into()).contains("therapy.safety_plan_link_ttl"));
        assert_eq!(
            TherapySettings { modality_offset_hours: "-48".into(), ..Default::default() }
                .parse()
                .unwrap()
                .policy
                .modality_ordering,
            Some(SessionOrdering { offset_hours: -48 })
        );
    }
}
