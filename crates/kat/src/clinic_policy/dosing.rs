//! `[dosing]`, `[dosing.weight]`, `[dosing.gate]`, `[dosing.alarms]`, `[dosing.discharge]`,
//! `[dosing.monitoring]` and `[dosing.session]`: the dosing-session policy of clinical.md
//! §2–4, parsed into the core's `DosingPolicy`, `WeightPolicy`, `GatePolicy`,
//! `AlarmPolicy`, `DischargePolicy`, `SchedulePolicy` and `SessionTimePolicy`.
//!
//! Every key defaults to the core's default (the spec's value, or "none" where the spec
//! gives no number); each is documented with its rule ID here and in `kat.example.toml`.
//! `0` (or `""`) turns an optional value off. A value the reference does not allow, or
//! a combination that contradicts itself (a warning above its hard limit, an alarm tier
//! out of order), stops kat at start-up with the key's full name. Label rules tagged
//! \[V\] can only be made stricter here (esketamine observation ≥ 120 min, DC-001).

use anyhow::{Result, anyhow, bail};
use kat_app::config::DosingConfig;
use kat_core::dosing::session::SessionTimePolicy;
use kat_core::dosing::weight::IdealWeightFormula;
use kat_core::dosing::{DosingPolicy, Mg, MgPerKg, Minutes, WeightBasis, WeightPolicy};
use kat_core::monitoring::alarms::BpLimit;
use kat_core::monitoring::discharge::ESKETAMINE_MIN_OBSERVATION;
use kat_core::monitoring::{
    AlarmPolicy, BpGatePolicy, BpPolicyName, DischargePolicy, FastingPolicy, GateLevel, GatePolicy, HrGatePolicy,
    SchedulePolicy,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The snake_case name serde gives a core enum value (`three_tier`, `override`…).
fn name_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// A core enum from its snake_case name, or an error listing the choices.
fn choice<T: DeserializeOwned>(key: &str, raw: &str, choices: &[&str], rule: &str) -> Result<T> {
    let raw = raw.trim();
    if !choices.contains(&raw) {
        bail!("{key}: `{raw}` is not one of {} ({rule})", choices.join(", "));
    }
    serde_json::from_value(serde_json::Value::String(raw.to_string())).map_err(|e| anyhow!("{key}: {e}"))
}

/// `0` → off; else a positive mg/kg.
fn opt_per_kg(key: &str, v: f64) -> Result<Option<MgPerKg>> {
    if v == 0.0 {
        return Ok(None);
    }
    per_kg(key, v).map(Some)
}

fn per_kg(key: &str, v: f64) -> Result<MgPerKg> {
    if !(v.is_finite() && v > 0.0) {
        bail!("{key}: {v} must be a positive number of mg/kg");
    }
    MgPerKg::new(v).map_err(|e| anyhow!("{key}: {e}"))
}

fn opt_mg(key: &str, v: f64) -> Result<Option<Mg>> {
    if v == 0.0 {
        return Ok(None);
    }
    if !(v.is_finite() && v > 0.0) {
        bail!("{key}: {v} must be a positive number of mg (0 turns it off)");
    }
    Mg::new(v).map(Some).map_err(|e| anyhow!("{key}: {e}"))
}

/// Whole minutes from 1 to `max`.
fn minutes(key: &str, v: u32, max: u32, rule: &str) -> Result<Minutes> {
    if v == 0 || v > max {
        bail!("{key}: {v} is not a number of minutes from 1 to {max} ({rule})");
    }
    Ok(Minutes::new(v))
}

/// `0` → off; else whole minutes from 1 to `max`.
fn opt_minutes(key: &str, v: u32, max: u32, rule: &str) -> Result<Option<Minutes>> {
    if v == 0 { Ok(None) } else { minutes(key, v, max, rule).map(Some) }
}

// ---------------------------------------------------------------------------------------
// [dosing]
// ---------------------------------------------------------------------------------------

/// `[dosing]`: route dose limits and flags (clinical.md §2), then the sub-sections.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DosingSettings {
    /// DOSE-IV-002 [U]: IV warning above this mg/kg. Default 0.75.
    pub iv_warn_above_mg_per_kg: f64,
    /// DOSE-IV-002 [U]: IV hard limit (medical-director override) above this mg/kg. Default 1.0.
    pub iv_hard_above_mg_per_kg: f64,
    /// DOSE-IV-001/003: warn when an IV infusion is shorter than this (0: off). Default 40.
    pub iv_warn_infusion_shorter_than_minutes: u32,
    /// DOSE-IM-001: IM warning above this mg/kg (0: off); below the DOSE-IM-004
    /// anaesthetic range (6.5 mg/kg), which is always blocked. Default 0.5.
    pub im_warn_above_mg_per_kg: f64,
    /// DOSE-SC-001: SC warning above this mg/kg (0: off). Default 0.9.
    pub sc_warn_above_mg_per_kg: f64,
    /// DOSE-SC-001: SC hard limit above this mg/kg (0: none; the spec gives no SC maximum). Default 0.
    pub sc_hard_above_mg_per_kg: f64,
    /// DOSE-PO-001: sublingual/oral warning above this mg/kg (0: off). Default 7.0.
    pub sublingual_oral_warn_above_mg_per_kg: f64,
    /// DOSE-PO-001: sublingual/oral warning above this fixed dose in mg (0: off). Default 300.
    pub sublingual_oral_warn_above_mg: f64,
    /// DOSE-INR-001: intranasal racemic warning above this mg (0: none; no dose confirmed). Default 0.
    pub intranasal_racemic_warn_above_mg: f64,
    /// DOSE-PO-005, DOSE-GEN-001: allow at-home sublingual/oral dosing. Default false.
    pub allow_at_home_sublingual_oral: bool,
    /// DOSE-INR-001: allow unsupervised home intranasal racemic ketamine. Default false.
    pub allow_home_intranasal_racemic: bool,
    /// DOSE-IN-007 [U]: start esketamine at 28 mg for patients 65 and over (non-US label). Default false.
    pub esketamine_geriatric_start_28mg: bool,
    /// DOSE-IV-010 [P], DOSE-SC-001: per-kg titration step (0: none; the spec gives none). Default 0.
    pub titration_step_mg_per_kg: f64,
    pub weight: WeightSettings,
    pub gate: GateSettings,
    pub alarms: AlarmSettings,
    pub discharge: DischargeSettings,
    pub monitoring: MonitoringSettings,
    pub session: SessionTimeSettings,
    pub course: CourseSettings,
}

impl Default for DosingSettings {
    fn default() -> Self {
        let p = DosingPolicy::default();
        let f = |v: Option<MgPerKg>| v.map_or(0.0, MgPerKg::value);
        let m = |v: Option<Mg>| v.map_or(0.0, Mg::value);
        Self {
            iv_warn_above_mg_per_kg: p.iv_warn_above.value(),
            iv_hard_above_mg_per_kg: p.iv_hard_above.value(),
            iv_warn_infusion_shorter_than_minutes: p.iv_warn_infusion_shorter_than.map_or(0, Minutes::get),
            im_warn_above_mg_per_kg: f(p.im_warn_above),
            sc_warn_above_mg_per_kg: f(p.sc_warn_above),
            sc_hard_above_mg_per_kg: f(p.sc_hard_above),
            sublingual_oral_warn_above_mg_per_kg: f(p.po_warn_above_per_kg),
            sublingual_oral_warn_above_mg: m(p.po_warn_above_mg),
            intranasal_racemic_warn_above_mg: m(p.inr_warn_above_mg),
            allow_at_home_sublingual_oral: p.allow_at_home_sublingual_oral,
            allow_home_intranasal_racemic: p.allow_home_intranasal_racemic,
            esketamine_geriatric_start_28mg: p.esketamine_geriatric_start_28mg,
            titration_step_mg_per_kg: f(p.titration_step_per_kg),
            weight: WeightSettings::default(),
            gate: GateSettings::default(),
            alarms: AlarmSettings::default(),
            discharge: DischargeSettings::default(),
            monitoring: MonitoringSettings::default(),
            session: SessionTimeSettings::default(),
            course: CourseSettings::default(),
        }
    }
}

const D: &str = "dosing";

impl DosingSettings {
    /// All six policies, checked.
    pub fn parse(&self) -> Result<DosingConfig> {
        Ok(DosingConfig {
            policy: self.parse_dosing()?,
            gate: self.gate.parse()?,
            alarms: self.alarms.parse()?,
            discharge: self.discharge.parse()?,
            monitoring: self.monitoring.parse()?,
            session: self.session.parse()?,
            // The calendar is `[clinic]`'s; `Settings::web_config` sets it.
            calendar: Default::default(),
            course: self.course.parse()?,
        })
    }

    fn parse_dosing(&self) -> Result<DosingPolicy> {
        let iv_warn_above = per_kg(&format!("{D}.iv_warn_above_mg_per_kg"), self.iv_warn_above_mg_per_kg)?;
        let iv_hard_above = per_kg(&format!("{D}.iv_hard_above_mg_per_kg"), self.iv_hard_above_mg_per_kg)?;
        // DOSE-IV-002: warning below or at the hard limit, or the warning never shows.
        if iv_warn_above > iv_hard_above {
            bail!(
                "{D}.iv_warn_above_mg_per_kg: {} is above {D}.iv_hard_above_mg_per_kg {} (DOSE-IV-002: warn <= hard)",
                iv_warn_above.value(),
                iv_hard_above.value()
            );
        }
        let iv_warn_infusion_shorter_than = opt_minutes(
            &format!("{D}.iv_warn_infusion_shorter_than_minutes"),
            self.iv_warn_infusion_shorter_than_minutes,
            240,
            "DOSE-IV-003; 0 turns it off",
        )?;
        let im_warn_above = opt_per_kg(&format!("{D}.im_warn_above_mg_per_kg"), self.im_warn_above_mg_per_kg)?;
        // DOSE-IM-004 [V]: 6.5 mg/kg and above is blocked as the anaesthetic range anyway.
        if let Some(w) = im_warn_above
            && w >= kat_core::dosing::limits::IM_ANAESTHETIC_MIN
        {
            bail!(
                "{D}.im_warn_above_mg_per_kg: {} is in the anaesthetic range (6.5 mg/kg and above is always blocked, DOSE-IM-004)",
                w.value()
            );
        }
        let sc_warn_above = opt_per_kg(&format!("{D}.sc_warn_above_mg_per_kg"), self.sc_warn_above_mg_per_kg)?;
        let sc_hard_above = opt_per_kg(&format!("{D}.sc_hard_above_mg_per_kg"), self.sc_hard_above_mg_per_kg)?;
        if let (Some(w), Some(h)) = (sc_warn_above, sc_hard_above)
            && w > h
        {
            bail!(
                "{D}.sc_warn_above_mg_per_kg: {} is above {D}.sc_hard_above_mg_per_kg {} (DOSE-SC-001: warn <= hard)",
                w.value(),
                h.value()
            );
        }
        let titration_step_per_kg =
            opt_per_kg(&format!("{D}.titration_step_mg_per_kg"), self.titration_step_mg_per_kg)?;
        if let Some(step) = titration_step_per_kg
            && step > iv_hard_above
        {
            bail!(
                "{D}.titration_step_mg_per_kg: {} is larger than the IV hard limit {} (DOSE-IV-010)",
                step.value(),
                iv_hard_above.value()
            );
        }
        Ok(DosingPolicy {
            iv_warn_above,
            iv_hard_above,
            iv_warn_infusion_shorter_than,
            im_warn_above,
            sc_warn_above,
            sc_hard_above,
            po_warn_above_per_kg: opt_per_kg(
                &format!("{D}.sublingual_oral_warn_above_mg_per_kg"),
                self.sublingual_oral_warn_above_mg_per_kg,
            )?,
            po_warn_above_mg: opt_mg(
                &format!("{D}.sublingual_oral_warn_above_mg"),
                self.sublingual_oral_warn_above_mg,
            )?,
            inr_warn_above_mg: opt_mg(
                &format!("{D}.intranasal_racemic_warn_above_mg"),
                self.intranasal_racemic_warn_above_mg,
            )?,
            allow_at_home_sublingual_oral: self.allow_at_home_sublingual_oral,
            allow_home_intranasal_racemic: self.allow_home_intranasal_racemic,
            esketamine_geriatric_start_28mg: self.esketamine_geriatric_start_28mg,
            titration_step_per_kg,
            weight: self.weight.parse()?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// [dosing.weight]
// ---------------------------------------------------------------------------------------

/// `[dosing.weight]`: the dosing-weight basis (DOSE-IV-005 [U]). The spec confirms no
/// basis other than actual weight and gives no ideal-weight formula, so ideal and
/// adjusted weight are available only once the clinic names a formula here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeightSettings {
    /// Basis for patients above `obesity_bmi_above` when a plan does not choose one:
    /// `actual`, `ideal` or `adjusted`. Default `actual`.
    pub obese_basis: String,
    /// BMI above which the ideal or adjusted basis applies. Default 30 (the spec's example).
    pub obesity_bmi_above: f64,
    /// `""` (none), `devine` (Devine 1974; not from the spec, needs sign-off) or `custom`
    /// (the four `ideal_*` keys below). Default `""`.
    pub ideal_formula: String,
    /// `custom` only: base ideal weight (kg) at the reference height.
    pub ideal_male_base_kg: f64,
    pub ideal_female_base_kg: f64,
    /// `custom` only: kg added per cm above the reference height.
    pub ideal_kg_per_cm_above_reference: f64,
    /// `custom` only: the reference height in cm.
    pub ideal_reference_height_cm: f64,
    /// Adjusted weight = ideal + factor × (actual − ideal); 0: none (no adjusted basis).
    /// The spec gives no factor. Default 0.
    pub adjusted_factor: f64,
}

impl Default for WeightSettings {
    fn default() -> Self {
        let w = WeightPolicy::default();
        Self {
            obese_basis: name_of(&w.obese_basis),
            obesity_bmi_above: w.obesity_bmi_above,
            ideal_formula: String::new(),
            ideal_male_base_kg: 0.0,
            ideal_female_base_kg: 0.0,
            ideal_kg_per_cm_above_reference: 0.0,
            ideal_reference_height_cm: 0.0,
            adjusted_factor: w.adjusted_factor.unwrap_or(0.0),
        }
    }
}

impl WeightSettings {
    pub fn parse(&self) -> Result<WeightPolicy> {
        const W: &str = "dosing.weight";
        let obese_basis: WeightBasis =
            choice(&format!("{W}.obese_basis"), &self.obese_basis, &["actual", "ideal", "adjusted"], "DOSE-IV-005")?;
        let bmi = self.obesity_bmi_above;
        if !(bmi.is_finite() && bmi > 0.0 && bmi <= 100.0) {
            bail!("{W}.obesity_bmi_above: {bmi} is not a BMI above 0 and at most 100 (DOSE-IV-005)");
        }
        let custom = [
            ("ideal_male_base_kg", self.ideal_male_base_kg),
            ("ideal_female_base_kg", self.ideal_female_base_kg),
            ("ideal_kg_per_cm_above_reference", self.ideal_kg_per_cm_above_reference),
            ("ideal_reference_height_cm", self.ideal_reference_height_cm),
        ];
        let ideal_formula = match self.ideal_formula.trim() {
            "" | "devine" => {
                if let Some((k, _)) = custom.iter().find(|(_, v)| *v != 0.0) {
                    bail!("{W}.{k}: only used with ideal_formula = \"custom\" (DOSE-IV-005)");
                }
                (self.ideal_formula.trim() == "devine").then(IdealWeightFormula::devine)
            }
            "custom" => {
                for (k, v) in custom {
                    let ok = match k {
                        "ideal_reference_height_cm" => (30.0..=280.0).contains(&v),
                        "ideal_kg_per_cm_above_reference" => v > 0.0 && v <= 5.0,
                        _ => v > 0.0 && v <= 300.0,
                    };
                    if !(v.is_finite() && ok) {
                        bail!("{W}.{k}: {v} is not a usable value for the custom ideal-weight formula (DOSE-IV-005)");
                    }
                }
                Some(IdealWeightFormula {
                    male_base_kg: self.ideal_male_base_kg,
                    female_base_kg: self.ideal_female_base_kg,
                    kg_per_cm_above_reference: self.ideal_kg_per_cm_above_reference,
                    reference_height_cm: self.ideal_reference_height_cm,
                })
            }
            other => bail!(
                "{W}.ideal_formula: `{other}` is not \"\", devine or custom (DOSE-IV-005: the spec gives no formula)"
            ),
        };
        let adjusted_factor = match self.adjusted_factor {
            0.0 => None,
            f if f.is_finite() && f > 0.0 && f < 1.0 => Some(f),
            f => {
                bail!("{W}.adjusted_factor: {f} is not a fraction between 0 and 1 (0: no adjusted weight; DOSE-IV-005)")
            }
        };
        if adjusted_factor.is_some() && ideal_formula.is_none() {
            bail!(
                "{W}.adjusted_factor: adjusted weight needs an ideal-weight formula; set {W}.ideal_formula (DOSE-IV-005)"
            );
        }
        match obese_basis {
            WeightBasis::Ideal | WeightBasis::Adjusted if ideal_formula.is_none() => {
                bail!(
                    "{W}.obese_basis: `{}` needs an ideal-weight formula; set {W}.ideal_formula (DOSE-IV-005: the spec gives none)",
                    self.obese_basis.trim()
                )
            }
            WeightBasis::Adjusted if adjusted_factor.is_none() => {
                bail!("{W}.obese_basis: `adjusted` needs {W}.adjusted_factor (DOSE-IV-005: the spec gives none)")
            }
            _ => {}
        }
        Ok(WeightPolicy { obese_basis, obesity_bmi_above: bmi, ideal_formula, adjusted_factor })
    }
}

// ---------------------------------------------------------------------------------------
// [dosing.gate]
// ---------------------------------------------------------------------------------------

const FASTING_PRESETS: [&str; 4] =
    ["spravato_label", "asa_2017", "clinic_4h_food_and_drink", "clinic_4h_food_2h_drink"];
const BP_PRESETS: [&str; 6] = [
    "three_tier",
    "spravato_label",
    "single_clinic_no_treatment_above140",
    "swiss_label",
    "ctcae_grade3",
    "ic_os_hold",
];

fn fasting_preset(key: &str, raw: &str) -> Result<FastingPolicy> {
    Ok(match raw.trim() {
        "spravato_label" => FastingPolicy::spravato_label(),
        "asa_2017" => FastingPolicy::asa_2017(),
        "clinic_4h_food_and_drink" => FastingPolicy::clinic_4h_food_and_drink(),
        "clinic_4h_food_2h_drink" => FastingPolicy::clinic_4h_food_2h_drink(),
        other => bail!("{key}: `{other}` is not one of {} (NPO-001..003)", FASTING_PRESETS.join(", ")),
    })
}

/// The preset name of a fasting policy (for the defaults).
fn fasting_name(p: &FastingPolicy) -> String {
    FASTING_PRESETS
        .iter()
        .find(|n| fasting_preset("", n).is_ok_and(|q| q == *p))
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// `[dosing.gate]`: the pre-dose gate on the treatment day (clinical.md §3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateSettings {
    /// NPO-001 [V]: fasting preset before esketamine. Default `spravato_label` (food 2 h,
    /// liquids 30 min); every other preset is stricter.
    pub fasting_esketamine: String,
    /// NPO-002/003: fasting preset before racemic ketamine. Default `asa_2017`.
    pub fasting_racemic: String,
    /// NPO-004: what a fasting violation does: `defer` or `override`. Default `defer`.
    pub fasting_violation: String,
    /// BP-001..006: the named BP source. Default `three_tier` (BP-006).
    pub bp_policy: String,
    /// BP-006: minutes of rest before a recheck replaces the first reading (0: no recheck). Default 5.
    pub bp_recheck_rest_minutes: u32,
    /// BP-007 [U]: resting HR above this defers pending review. Default 110.
    pub hr_above: u16,
    /// BP-007 [U]: resting HR below this defers pending review. Default 50.
    pub hr_below: u16,
    /// BP-007: what an HR outside the limits does: `attest`, `override` or `defer`. Default `override`.
    pub hr_level: String,
    /// DDI-009 [P]: alcohol/recreational-drug window before a session, hours. Default 24.
    pub substance_window_hours: u32,
    /// DDI-009 [P]: what use within the window does: `attest`, `override` or `defer`. Default `override`.
    pub substance_use_level: String,
    /// DAY-005, PRE-006 [U]: require a negative pregnancy test every session. Default false.
    pub pregnancy_test_each_session: bool,
    /// DAY-008 [U]: re-weigh when the weight is older than this many days (0: no limit;
    /// the spec gives none). Default 0.
    pub weight_max_age_days: u32,
    /// DOSE-IN-010 [U]: nasal steroid or decongestant at least this long before
    /// esketamine, minutes. Default 60.
    pub nasal_medication_gap_minutes: u32,
}

impl Default for GateSettings {
    fn default() -> Self {
        let g = GatePolicy::default();
        Self {
            fasting_esketamine: fasting_name(&g.fasting_esketamine),
            fasting_racemic: fasting_name(&g.fasting_racemic),
            fasting_violation: name_of(&g.fasting_racemic.violation),
            bp_policy: name_of(&g.bp.name),
            bp_recheck_rest_minutes: g.bp.recheck_min_rest.map_or(0, Minutes::get),
            hr_above: g.hr.above,
            hr_below: g.hr.below,
            hr_level: name_of(&g.hr.level),
            substance_window_hours: g.substance_window_hours,
            substance_use_level: name_of(&g.substance_use_level),
            pregnancy_test_each_session: g.pregnancy_test_each_session,
            weight_max_age_days: g.weight_max_age_days.unwrap_or(0),
            nasal_medication_gap_minutes: g.nasal_medication_gap.get(),
        }
    }
}

const LEVELS: [&str; 3] = ["attest", "override", "defer"];

impl GateSettings {
    pub fn parse(&self) -> Result<GatePolicy> {
        const G: &str = "dosing.gate";
        let violation: GateLevel =
            choice(&format!("{G}.fasting_violation"), &self.fasting_violation, &["override", "defer"], "NPO-004")?;
        let mut fasting_esketamine = fasting_preset(&format!("{G}.fasting_esketamine"), &self.fasting_esketamine)?;
        let label = FastingPolicy::spravato_label();
        // NPO-001 [V]: the label's fasting is the least a clinic may ask before esketamine.
        if fasting_esketamine.light_meal_min < label.light_meal_min
            || fasting_esketamine.clear_liquid_min < label.clear_liquid_min
        {
            bail!(
                "{G}.fasting_esketamine: `{}` is less than the Spravato label (NPO-001)",
                self.fasting_esketamine.trim()
            );
        }
        let mut fasting_racemic = fasting_preset(&format!("{G}.fasting_racemic"), &self.fasting_racemic)?;
        fasting_esketamine.violation = violation;
        fasting_racemic.violation = violation;
        let name: BpPolicyName = choice(&format!("{G}.bp_policy"), &self.bp_policy, &BP_PRESETS, "BP-001..006")?;
        let mut bp = BpGatePolicy::preset(name);
        bp.recheck_min_rest = opt_minutes(
            &format!("{G}.bp_recheck_rest_minutes"),
            self.bp_recheck_rest_minutes,
            60,
            "BP-006: 5-10 min; 0 turns it off",
        )?;
        let level = choice(&format!("{G}.hr_level"), &self.hr_level, &LEVELS, "BP-007")?;
        if !(20..=250).contains(&self.hr_below) || !(20..=250).contains(&self.hr_above) {
            bail!(
                "{G}.hr_below / hr_above: {} / {} are not resting heart rates from 20 to 250 /min (BP-007)",
                self.hr_below,
                self.hr_above
            );
        }
        if self.hr_below >= self.hr_above {
            bail!("{G}.hr_below: {} must be below {G}.hr_above {} (BP-007)", self.hr_below, self.hr_above);
        }
        if self.substance_window_hours == 0 || self.substance_window_hours > 24 * 7 {
            bail!(
                "{G}.substance_window_hours: {} is not a number of hours from 1 to 168 (DDI-009)",
                self.substance_window_hours
            );
        }
        let substance_use_level =
            choice(&format!("{G}.substance_use_level"), &self.substance_use_level, &LEVELS, "DDI-009")?;
        let weight_max_age_days = match self.weight_max_age_days {
            0 => None,
            d if d <= 3650 => Some(d),
            d => bail!("{G}.weight_max_age_days: {d} is more than 3650 days (0: no limit; DAY-008)"),
        };
        let nasal_medication_gap = minutes(
            &format!("{G}.nasal_medication_gap_minutes"),
            self.nasal_medication_gap_minutes,
            24 * 60,
            "DOSE-IN-010",
        )?;
        Ok(GatePolicy {
            fasting_esketamine,
            fasting_racemic,
            bp,
            hr: HrGatePolicy { above: self.hr_above, below: self.hr_below, level },
            substance_window_hours: self.substance_window_hours,
            substance_use_level,
            pregnancy_test_each_session: self.pregnancy_test_each_session,
            weight_max_age_days,
            nasal_medication_gap,
        })
    }
}

// ---------------------------------------------------------------------------------------
// [dosing.alarms]
// ---------------------------------------------------------------------------------------

/// `[dosing.alarms]`: alarm thresholds during and after dosing (ALM-001..005, all [U] as
/// alarm values; medical-director sign-off, clinical.md §10 item 6).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlarmSettings {
    /// ALM-001: alarm when SpO2 is below this %. Default 92.
    pub spo2_below: u8,
    /// ALM-001: emergency when SpO2 is below this % despite oxygen. Default 90.
    pub spo2_emergency_below: u8,
    /// ALM-002: notify and check every 5 min at or above this systolic/diastolic. Default 160/100.
    pub bp_notify_systolic: u16,
    pub bp_notify_diastolic: u16,
    /// ALM-002: pause or stop dosing at or above this systolic/diastolic. Default 180/110.
    pub bp_intervene_systolic: u16,
    pub bp_intervene_diastolic: u16,
    /// Notify when systolic rises more than this above baseline (0: off; the spec gives
    /// no relative alarm). Default 0.
    pub bp_systolic_rise_notify_above: u16,
    /// ALM-003: alarm when HR is above this /min. Default 120.
    pub hr_above: u16,
    /// ALM-003: alarm when HR is below this /min. Default 50.
    pub hr_below: u16,
    /// ALM-004: alarm when RR is below this /min. Default 10.
    pub rr_below: u16,
    /// MON-SPV-005 [V]: continuous observation at or below this MOAA/S (3 to 5). Default 3.
    pub moaas_observe_at_or_below: u8,
    /// ALM-005: 1:1 observation and stop dosing at or below this MOAA/S. Default 2.
    pub moaas_intervene_at_or_below: u8,
}

impl Default for AlarmSettings {
    fn default() -> Self {
        let a = AlarmPolicy::default();
        Self {
            spo2_below: a.spo2_below,
            spo2_emergency_below: a.spo2_emergency_below,
            bp_notify_systolic: a.bp_notify.systolic_at_least,
            bp_notify_diastolic: a.bp_notify.diastolic_at_least,
            bp_intervene_systolic: a.bp_intervene.systolic_at_least,
            bp_intervene_diastolic: a.bp_intervene.diastolic_at_least,
            bp_systolic_rise_notify_above: a.bp_systolic_rise_notify_above.unwrap_or(0),
            hr_above: a.hr_above,
            hr_below: a.hr_below,
            rr_below: a.rr_below,
            moaas_observe_at_or_below: a.moaas_observe_at_or_below,
            moaas_intervene_at_or_below: a.moaas_intervene_at_or_below,
        }
    }
}

impl AlarmSettings {
    pub fn parse(&self) -> Result<AlarmPolicy> {
        const A: &str = "dosing.alarms";
        for (k, v) in [("spo2_below", self.spo2_below), ("spo2_emergency_below", self.spo2_emergency_below)] {
            if !(50..=100).contains(&v) {
                bail!("{A}.{k}: {v} is not an SpO2 from 50 to 100 % (ALM-001)");
            }
        }
        if self.spo2_emergency_below > self.spo2_below {
            bail!(
                "{A}.spo2_emergency_below: {} is above {A}.spo2_below {} (ALM-001: emergency <= alarm)",
                self.spo2_emergency_below,
                self.spo2_below
            );
        }
        for (k, v) in [
            ("bp_notify_systolic", self.bp_notify_systolic),
            ("bp_notify_diastolic", self.bp_notify_diastolic),
            ("bp_intervene_systolic", self.bp_intervene_systolic),
            ("bp_intervene_diastolic", self.bp_intervene_diastolic),
        ] {
            if !(40..=300).contains(&v) {
                bail!("{A}.{k}: {v} is not a pressure from 40 to 300 mmHg (ALM-002)");
            }
        }
        if self.bp_notify_systolic > self.bp_intervene_systolic {
            bail!(
                "{A}.bp_notify_systolic: {} is above {A}.bp_intervene_systolic {} (ALM-002: notify <= intervene)",
                self.bp_notify_systolic,
                self.bp_intervene_systolic
            );
        }
        if self.bp_notify_diastolic > self.bp_intervene_diastolic {
            bail!(
                "{A}.bp_notify_diastolic: {} is above {A}.bp_intervene_diastolic {} (ALM-002: notify <= intervene)",
                self.bp_notify_diastolic,
                self.bp_intervene_diastolic
            );
        }
        if self.bp_systolic_rise_notify_above > 100 {
            bail!(
                "{A}.bp_systolic_rise_notify_above: {} is more than 100 mmHg (0 turns it off)",
                self.bp_systolic_rise_notify_above
            );
        }
        for (k, v) in [("hr_above", self.hr_above), ("hr_below", self.hr_below)] {
            if !(20..=250).contains(&v) {
                bail!("{A}.{k}: {v} is not a heart rate from 20 to 250 /min (ALM-003)");
            }
        }
        if self.hr_below >= self.hr_above {
            bail!("{A}.hr_below: {} must be below {A}.hr_above {} (ALM-003)", self.hr_below, self.hr_above);
        }
        if !(1..=40).contains(&self.rr_below) {
            bail!("{A}.rr_below: {} is not a respiratory rate from 1 to 40 /min (ALM-004)", self.rr_below);
        }
        // MON-SPV-005 [V]: the label flags MOAA/S <= 3 for continuous observation; a
        // clinic may watch earlier (4, 5) but not later.
        if !(3..=5).contains(&self.moaas_observe_at_or_below) {
            bail!(
                "{A}.moaas_observe_at_or_below: {} is not 3 to 5 (MON-SPV-005: the label flags 3 and below)",
                self.moaas_observe_at_or_below
            );
        }
        if self.moaas_intervene_at_or_below > self.moaas_observe_at_or_below {
            bail!(
                "{A}.moaas_intervene_at_or_below: {} is above {A}.moaas_observe_at_or_below {} (ALM-005: intervene <= observe)",
                self.moaas_intervene_at_or_below,
                self.moaas_observe_at_or_below
            );
        }
        let policy = AlarmPolicy {
            spo2_below: self.spo2_below,
            spo2_emergency_below: self.spo2_emergency_below,
            bp_notify: BpLimit {
                systolic_at_least: self.bp_notify_systolic,
                diastolic_at_least: self.bp_notify_diastolic,
            },
            bp_intervene: BpLimit {
                systolic_at_least: self.bp_intervene_systolic,
                diastolic_at_least: self.bp_intervene_diastolic,
            },
            bp_systolic_rise_notify_above: (self.bp_systolic_rise_notify_above > 0)
                .then_some(self.bp_systolic_rise_notify_above),
            hr_above: self.hr_above,
            hr_below: self.hr_below,
            rr_below: self.rr_below,
            moaas_observe_at_or_below: self.moaas_observe_at_or_below,
            moaas_intervene_at_or_below: self.moaas_intervene_at_or_below,
        };
        // The core's own consistency check, so the two can never disagree.
        policy.validate().map_err(|e| anyhow!("{A}: {e}"))?;
        Ok(policy)
    }
}

// ---------------------------------------------------------------------------------------
// [dosing.discharge]
// ---------------------------------------------------------------------------------------

/// `[dosing.discharge]`: minimum observation and discharge criteria (§4.5).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DischargeSettings {
    /// DC-001 [V]: esketamine observation after the last device, minutes; at least 120
    /// (the label). Default 120.
    pub esketamine_minutes: u32,
    /// DC-002 [P]/[U]: minimum after the end of the IV infusion, minutes. Default 60.
    pub iv_minutes: u32,
    /// DC-002: minimum after an IM dose, minutes. Default 60.
    pub im_minutes: u32,
    /// DC-002: minimum after an SC dose, minutes. Default 60.
    pub sc_minutes: u32,
    /// DC-002: minimum after a sublingual/oral dose, minutes. Default 60.
    pub sublingual_oral_minutes: u32,
    /// DC-002: minimum after an intranasal racemic dose, minutes. Default 60.
    pub intranasal_racemic_minutes: u32,
    /// DC-003 [V]: lowest modified Aldrete total for discharge, 9 or 10. Default 9.
    pub aldrete_min: u8,
    /// DC-003: systolic within this many mmHg of baseline. Default 20.
    pub bp_tolerance_mmhg: u16,
    /// DC-003: also require diastolic within the tolerance. Default false.
    pub bp_tolerance_includes_diastolic: bool,
    /// DC-004: HR within this many /min of baseline (0: not checked; the spec gives no number). Default 0.
    pub hr_tolerance_per_min: u16,
    /// DC-003 [V]: SpO2 on room air above this % unless back to baseline, 92 to 99. Default 92.
    pub spo2_room_air_above: u8,
}

impl Default for DischargeSettings {
    fn default() -> Self {
        let d = DischargePolicy::default();
        Self {
            esketamine_minutes: d.esketamine_min.get(),
            iv_minutes: d.iv_min.get(),
            im_minutes: d.im_min.get(),
            sc_minutes: d.sc_min.get(),
            sublingual_oral_minutes: d.sublingual_oral_min.get(),
            intranasal_racemic_minutes: d.intranasal_racemic_min.get(),
            aldrete_min: d.aldrete_min,
            bp_tolerance_mmhg: d.bp_tolerance_mmhg,
            bp_tolerance_includes_diastolic: d.bp_tolerance_includes_diastolic,
            hr_tolerance_per_min: d.hr_tolerance_per_min.unwrap_or(0),
            spo2_room_air_above: d.spo2_room_air_above,
        }
    }
}

impl DischargeSettings {
    pub fn parse(&self) -> Result<DischargePolicy> {
        const C: &str = "dosing.discharge";
        // DC-001 [V]: the label's two hours are a floor, never clinic policy.
        if self.esketamine_minutes < ESKETAMINE_MIN_OBSERVATION.get() || self.esketamine_minutes > 24 * 60 {
            bail!(
                "{C}.esketamine_minutes: {} is below the Spravato label's 120 minutes (DC-001, MON-SPV-001) or above 1440",
                self.esketamine_minutes
            );
        }
        let m = |k: &str, v: u32| minutes(&format!("{C}.{k}"), v, 24 * 60, "DC-002");
        let policy = DischargePolicy {
            esketamine_min: Minutes::new(self.esketamine_minutes),
            iv_min: m("iv_minutes", self.iv_minutes)?,
            im_min: m("im_minutes", self.im_minutes)?,
            sc_min: m("sc_minutes", self.sc_minutes)?,
            sublingual_oral_min: m("sublingual_oral_minutes", self.sublingual_oral_minutes)?,
            intranasal_racemic_min: m("intranasal_racemic_minutes", self.intranasal_racemic_minutes)?,
            aldrete_min: self.aldrete_min,
            bp_tolerance_mmhg: self.bp_tolerance_mmhg,
            bp_tolerance_includes_diastolic: self.bp_tolerance_includes_diastolic,
            hr_tolerance_per_min: (self.hr_tolerance_per_min > 0).then_some(self.hr_tolerance_per_min),
            spo2_room_air_above: self.spo2_room_air_above,
        };
        // DC-003 [V]: Aldrete >= 9; the >= 8 variant also needs 2 points each in
        // respiration and SpO2, which the core does not check, so it is not offered.
        if !(9..=10).contains(&self.aldrete_min) {
            bail!("{C}.aldrete_min: {} is not 9 or 10 (DC-003)", self.aldrete_min);
        }
        if !(1..=60).contains(&self.bp_tolerance_mmhg) {
            bail!("{C}.bp_tolerance_mmhg: {} is not 1 to 60 mmHg (DC-003: 20)", self.bp_tolerance_mmhg);
        }
        if self.hr_tolerance_per_min > 100 {
            bail!(
                "{C}.hr_tolerance_per_min: {} is more than 100 /min (0: not checked; DC-004)",
                self.hr_tolerance_per_min
            );
        }
        if !(92..=99).contains(&self.spo2_room_air_above) {
            bail!(
                "{C}.spo2_room_air_above: {} is not 92 to 99 % (DC-003: above 92 % on room air)",
                self.spo2_room_air_above
            );
        }
        Ok(policy)
    }
}

// ---------------------------------------------------------------------------------------
// [dosing.monitoring]
// ---------------------------------------------------------------------------------------

/// `[dosing.monitoring]`: how often vitals are due during a session (§4.1, §4.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitoringSettings {
    /// MON-KET-003: vitals interval during an IV infusion and right after other racemic
    /// doses, minutes. Default 10.
    pub intensive_every_minutes: u32,
    /// MON-KET-003: how long that interval lasts after an IM/SC/SL/intranasal dose, minutes. Default 40.
    pub intensive_after_dose_minutes: u32,
    /// MON-KET-003: vitals interval afterwards until discharge, minutes. Default 15.
    pub followup_every_minutes: u32,
    /// MON-KET-005, MON-SPV-002: the peak assessment after the dose, minutes. Default 40.
    pub peak_assessment_at_minutes: u32,
    /// MON-SPV-002: Spravato BP interval after the 40-minute check (0: none; the label
    /// says "as clinically warranted"). Default 0.
    pub spravato_followup_every_minutes: u32,
}

impl Default for MonitoringSettings {
    fn default() -> Self {
        let s = SchedulePolicy::default();
        Self {
            intensive_every_minutes: s.intensive_every.get(),
            intensive_after_dose_minutes: s.intensive_after_dose.get(),
            followup_every_minutes: s.followup_every.get(),
            peak_assessment_at_minutes: s.peak_assessment_at.get(),
            spravato_followup_every_minutes: s.spravato_followup_every.map_or(0, Minutes::get),
        }
    }
}

impl MonitoringSettings {
    pub fn parse(&self) -> Result<SchedulePolicy> {
        const M: &str = "dosing.monitoring";
        let intensive_every =
            minutes(&format!("{M}.intensive_every_minutes"), self.intensive_every_minutes, 60, "MON-KET-003")?;
        let followup_every =
            minutes(&format!("{M}.followup_every_minutes"), self.followup_every_minutes, 60, "MON-KET-003")?;
        if intensive_every > followup_every {
            bail!(
                "{M}.intensive_every_minutes: {} is longer than {M}.followup_every_minutes {} (MON-KET-003: the intensive interval is the shorter)",
                intensive_every.get(),
                followup_every.get()
            );
        }
        Ok(SchedulePolicy {
            intensive_every,
            intensive_after_dose: minutes(
                &format!("{M}.intensive_after_dose_minutes"),
                self.intensive_after_dose_minutes,
                240,
                "MON-KET-003",
            )?,
            followup_every,
            peak_assessment_at: minutes(
                &format!("{M}.peak_assessment_at_minutes"),
                self.peak_assessment_at_minutes,
                240,
                "MON-KET-005",
            )?,
            spravato_followup_every: opt_minutes(
                &format!("{M}.spravato_followup_every_minutes"),
                self.spravato_followup_every_minutes,
                60,
                "MON-SPV-002; 0 turns it off",
            )?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// [dosing.session]
// ---------------------------------------------------------------------------------------

/// `[dosing.session]`: when a session's entries may be dated (issue 11 item 2). Clinic
/// policy: the clinical reference gives no number for either.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionTimeSettings {
    /// How far in the future (by the server's clock) an administration, reading or
    /// rating may be dated: clocks of monitors, tablets and the server disagree. 0 to 15
    /// minutes. Default 2.
    pub future_skew_minutes: u32,
    /// An entry dated more than this before it is recorded is kept as a late entry
    /// (who recorded it and when is shown). 1 to 240 minutes. Default 10.
    pub late_after_minutes: u32,
}

impl Default for SessionTimeSettings {
    fn default() -> Self {
        let p = SessionTimePolicy::default();
        Self { future_skew_minutes: p.future_skew.get(), late_after_minutes: p.late_after.get() }
    }
}

impl SessionTimeSettings {
    pub fn parse(&self) -> Result<SessionTimePolicy> {
        const S: &str = "dosing.session";
        if self.future_skew_minutes > 15 {
            bail!(
                "{S}.future_skew_minutes: {} is not a number of minutes from 0 to 15 (clinic policy: an entry dated further ahead is refused)",
                self.future_skew_minutes
            );
        }
        Ok(SessionTimePolicy {
            future_skew: Minutes::new(self.future_skew_minutes),
            late_after: minutes(
                &format!("{S}.late_after_minutes"),
                self.late_after_minutes,
                240,
                "clinic policy: later entries are marked late",
            )?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// [dosing.course]
// ---------------------------------------------------------------------------------------

/// `[dosing.course]`: across sessions (issue 11 item 1). One dose day per patient is
/// always kept (a second session the same clinic day needs a prescriber's reason). The
/// clinical reference gives dosing frequencies but no minimum interval between sessions
/// for any route, so the interval is the clinic's, off unless set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CourseSettings {
    /// Minimum hours between the opening of one dosing session and the next, any route;
    /// a session sooner needs a prescriber's reason. 0: none (default). 1 to 336.
    pub min_interval_hours: u32,
}

impl CourseSettings {
    pub fn parse(&self) -> Result<kat_core::dosing::course::CoursePolicy> {
        let h = self.min_interval_hours;
        if h > 336 {
            bail!(
                "dosing.course.min_interval_hours: {h} is not a number of hours from 0 to 336 (0: no minimum beyond one dose day)"
            );
        }
        Ok(kat_core::dosing::course::CoursePolicy { min_interval_hours: (h > 0).then_some(h) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_interval_is_off_by_default_and_bounded() {
        let off = CourseSettings::default().parse().unwrap();
        assert_eq!(off.min_interval_hours, None);
        assert_eq!(CourseSettings { min_interval_hours: 336 }.parse().unwrap().min_interval_hours, Some(336));
        assert!(err(CourseSettings { min_interval_hours: 337 }.parse()).contains("dosing.course.min_interval_hours"));
    }

    #[test]
    fn defaults_are_the_core_defaults() {
        let c = DosingSettings::default().parse().unwrap();
        assert_eq!(c.policy, DosingPolicy::default());
        assert_eq!(c.policy.weight, WeightPolicy::default());
        assert_eq!(c.gate, GatePolicy::default());
        assert_eq!(c.alarms, AlarmPolicy::default());
        assert_eq!(c.discharge, DischargePolicy::default());
        assert_eq!(c.monitoring, SchedulePolicy::default());
        let d = DosingSettings::default();
        assert_eq!(d.gate.fasting_esketamine, "spravato_label");
        assert_eq!(d.gate.fasting_racemic, "asa_2017");
        assert_eq!(d.gate.bp_policy, "three_tier");
        assert_eq!(d.weight.obese_basis, "actual");
    }

    fn err<T>(r: Result<T>) -> String {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn dosing_values_are_checked_and_named() {
        let bad = |f: fn(&mut DosingSettings)| {
            let mut s = DosingSettings::default();
            f(&mut s);
            err(s.parse())
        };
        let e = bad(|s| s.iv_warn_above_mg_per_kg = 1.2);
        assert!(e.contains("dosing.iv_warn_above_mg_per_kg") && e.contains("DOSE-IV-002"), "{e}");
        assert!(bad(|s| s.iv_hard_above_mg_per_kg = 0.0).contains("dosing.iv_hard_above_mg_per_kg"));
        assert!(bad(|s| s.iv_warn_above_mg_per_kg = f64::NAN).contains("dosing.iv_warn_above_mg_per_kg"));
        assert!(bad(|s| s.im_warn_above_mg_per_kg = 6.5).contains("DOSE-IM-004"));
        assert!(bad(|s| s.sc_hard_above_mg_per_kg = 0.6).contains("dosing.sc_warn_above_mg_per_kg"));
        assert!(bad(|s| s.sublingual_oral_warn_above_mg = -1.0).contains("dosing.sublingual_oral_warn_above_mg"));
        assert!(
            bad(|s| s.iv_warn_infusion_shorter_than_minutes = 241)
                .contains("dosing.iv_warn_infusion_shorter_than_minutes")
        );
    }

    #[test]
    fn dosing_overrides_reach_the_core_policy() {
        let s = DosingSettings {
            iv_warn_above_mg_per_kg: 0.6,
            iv_hard_above_mg_per_kg: 0.9,
            iv_warn_infusion_shorter_than_minutes: 0,
            sc_hard_above_mg_per_kg: 1.0,
            intranasal_racemic_warn_above_mg: 50.0,
            allow_at_home_sublingual_oral: true,
            esketamine_geriatric_start_28mg: true,
            titration_step_mg_per_kg: 0.1,
            ..Default::default()
        };
        let p = s.parse().unwrap().policy;
        assert_eq!(p.iv_warn_above.value(), 0.6);
        assert_eq!(p.iv_hard_above.value(), 0.9);
        assert_eq!(p.iv_warn_infusion_shorter_than, None);
        assert_eq!(p.sc_hard_above.map(MgPerKg::value), Some(1.0));
        assert_eq!(p.inr_warn_above_mg.map(Mg::value), Some(50.0));
        assert!(p.allow_at_home_sublingual_oral && p.esketamine_geriatric_start_28mg);
        assert_eq!(p.titration_step_per_kg.map(MgPerKg::value), Some(0.1));
    }

    #[test]
    fn weight_basis_needs_a_configured_formula() {
        let w = |f: fn(&mut WeightSettings)| {
            let mut s = WeightSettings::default();
            f(&mut s);
            s.parse()
        };
        let e = err(w(|s| s.obese_basis = "ideal".into()));
        assert!(e.contains("dosing.weight.obese_basis") && e.contains("formula"), "{e}");
        assert!(err(w(|s| s.obese_basis = "lean".into())).contains("dosing.weight.obese_basis"));
        assert!(err(w(|s| s.adjusted_factor = 0.4)).contains("dosing.weight.adjusted_factor"));
        assert!(err(w(|s| s.ideal_formula = "broca".into())).contains("dosing.weight.ideal_formula"));
        assert!(err(w(|s| s.ideal_male_base_kg = 50.0)).contains("dosing.weight.ideal_male_base_kg"));
        let e = err(w(|s| {
            s.ideal_formula = "devine".into();
            s.obese_basis = "adjusted".into();
        }));
        assert!(e.contains("dosing.weight.obese_basis") && e.contains("adjusted_factor"), "{e}");
        let p = w(|s| {
            s.ideal_formula = "devine".into();
            s.adjusted_factor = 0.4;
            s.obese_basis = "adjusted".into();
            s.obesity_bmi_above = 35.0;
        })
        .unwrap();
        assert_eq!(p.ideal_formula, Some(IdealWeightFormula::devine()));
        assert_eq!((p.obese_basis, p.adjusted_factor, p.obesity_bmi_above), (WeightBasis::Adjusted, Some(0.4), 35.0));
        let custom = w(|s| {
            s.ideal_formula = "custom".into();
            s.ideal_male_base_kg = 52.0;
            s.ideal_female_base_kg = 49.0;
            s.ideal_kg_per_cm_above_reference = 0.75;
            s.ideal_reference_height_cm = 152.4;
        })
        .unwrap();
        assert_eq!(custom.ideal_formula.map(|f| f.male_base_kg), Some(52.0));
        let e = err(w(|s| {
            s.ideal_formula = "custom".into();
            s.ideal_male_base_kg = 52.0;
        }));
        assert!(e.contains("dosing.weight.ideal_female_base_kg"), "{e}");
    }

    #[test]
    fn gate_values_are_checked_and_carried() {
        let bad = |f: fn(&mut GateSettings)| {
            let mut s = GateSettings::default();
            f(&mut s);
            err(s.parse())
        };
        assert!(bad(|s| s.fasting_racemic = "none".into()).contains("dosing.gate.fasting_racemic"));
        assert!(bad(|s| s.bp_policy = "custom".into()).contains("dosing.gate.bp_policy"));
        assert!(bad(|s| s.hr_below = 120).contains("dosing.gate.hr_below"));
        assert!(bad(|s| s.substance_window_hours = 0).contains("dosing.gate.substance_window_hours"));
        assert!(bad(|s| s.substance_use_level = "info".into()).contains("dosing.gate.substance_use_level"));
        assert!(bad(|s| s.nasal_medication_gap_minutes = 0).contains("dosing.gate.nasal_medication_gap_minutes"));
        assert!(bad(|s| s.fasting_violation = "attest".into()).contains("dosing.gate.fasting_violation"));
        let s = GateSettings {
            fasting_esketamine: "clinic_4h_food_and_drink".into(),
            fasting_racemic: "clinic_4h_food_2h_drink".into(),
            fasting_violation: "override".into(),
            bp_policy: "single_clinic_no_treatment_above140".into(),
            bp_recheck_rest_minutes: 10,
            hr_above: 100,
            hr_below: 45,
            hr_level: "defer".into(),
            substance_window_hours: 12,
            substance_use_level: "defer".into(),
            pregnancy_test_each_session: true,
            weight_max_age_days: 30,
            nasal_medication_gap_minutes: 90,
        };
        let g = s.parse().unwrap();
        assert_eq!(g.fasting_esketamine.light_meal_min, Minutes::new(240));
        assert_eq!(g.fasting_racemic.clear_liquid_min, Minutes::new(120));
        assert_eq!(g.fasting_racemic.violation, GateLevel::Override);
        assert_eq!(g.bp.name, BpPolicyName::SingleClinicNoTreatmentAbove140);
        assert_eq!(g.bp.recheck_min_rest, Some(Minutes::new(10)));
        assert_eq!(g.hr, HrGatePolicy { above: 100, below: 45, level: GateLevel::Defer });
        assert_eq!((g.substance_window_hours, g.substance_use_level), (12, GateLevel::Defer));
        assert!(g.pregnancy_test_each_session);
        assert_eq!(g.weight_max_age_days, Some(30));
        assert_eq!(g.nasal_medication_gap, Minutes::new(90));
        for name in BP_PRESETS {
            GateSettings { bp_policy: name.into(), ..Default::default() }.parse().unwrap();
        }
    }

    #[test]
    fn alarm_policy_must_be_consistent() {
        let bad = |f: fn(&mut AlarmSettings)| {
            let mut s = AlarmSettings::default();
            f(&mut s);
            err(s.parse())
        };
        let e = bad(|s| s.spo2_emergency_below = 93);
        assert!(e.contains("dosing.alarms.spo2_emergency_below") && e.contains("dosing.alarms.spo2_below"), "{e}");
        assert!(bad(|s| s.spo2_below = 101).contains("dosing.alarms.spo2_below"));
        assert!(bad(|s| s.bp_notify_systolic = 190).contains("dosing.alarms.bp_notify_systolic"));
        assert!(bad(|s| s.bp_notify_diastolic = 115).contains("dosing.alarms.bp_notify_diastolic"));
        assert!(bad(|s| s.hr_below = 130).contains("dosing.alarms.hr_below"));
        assert!(bad(|s| s.rr_below = 0).contains("dosing.alarms.rr_below"));
        assert!(bad(|s| s.moaas_observe_at_or_below = 2).contains("MON-SPV-005"));
        assert!(bad(|s| s.moaas_intervene_at_or_below = 4).contains("dosing.alarms.moaas_intervene_at_or_below"));
        let a = AlarmSettings { spo2_below: 95, bp_systolic_rise_notify_above: 30, rr_below: 8, ..Default::default() }
            .parse()
            .unwrap();
        assert_eq!((a.spo2_below, a.bp_systolic_rise_notify_above, a.rr_below), (95, Some(30), 8));
        a.validate().unwrap();
    }

    #[test]
    fn esketamine_observation_never_goes_below_the_label() {
        let bad = |f: fn(&mut DischargeSettings)| {
            let mut s = DischargeSettings::default();
            f(&mut s);
            err(s.parse())
        };
        let e = bad(|s| s.esketamine_minutes = 119);
        assert!(e.contains("dosing.discharge.esketamine_minutes") && e.contains("DC-001"), "{e}");
        assert!(bad(|s| s.iv_minutes = 0).contains("dosing.discharge.iv_minutes"));
        assert!(bad(|s| s.aldrete_min = 8).contains("dosing.discharge.aldrete_min"));
        assert!(bad(|s| s.spo2_room_air_above = 90).contains("dosing.discharge.spo2_room_air_above"));
        assert!(bad(|s| s.bp_tolerance_mmhg = 0).contains("dosing.discharge.bp_tolerance_mmhg"));
        let d = DischargeSettings {
            esketamine_minutes: 150,
            iv_minutes: 45,
            im_minutes: 30,
            hr_tolerance_per_min: 20,
            aldrete_min: 10,
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(d.min_observation(kat_core::dosing::Route::IntranasalEsketamine), Minutes::new(150));
        assert_eq!((d.iv_min, d.im_min), (Minutes::new(45), Minutes::new(30)));
        assert_eq!((d.hr_tolerance_per_min, d.aldrete_min), (Some(20), 10));
    }

    #[test]
    fn session_times_are_checked_and_carried() {
        assert_eq!(SessionTimeSettings::default().parse().unwrap(), SessionTimePolicy::default());
        let bad = |skew, late| err(SessionTimeSettings { future_skew_minutes: skew, late_after_minutes: late }.parse());
        assert!(bad(16, 10).contains("dosing.session.future_skew_minutes"));
        assert!(bad(2, 0).contains("dosing.session.late_after_minutes"));
        assert!(bad(2, 241).contains("dosing.session.late_after_minutes"));
        let p = SessionTimeSettings { future_skew_minutes: 0, late_after_minutes: 240 }.parse().unwrap();
        assert_eq!((p.future_skew, p.late_after), (Minutes::new(0), Minutes::new(240)));
    }

    #[test]
    fn monitoring_intervals_are_checked_and_carried() {
        let bad = |f: fn(&mut MonitoringSettings)| {
            let mut s = MonitoringSettings::default();
            f(&mut s);
            err(s.parse())
        };
        assert!(bad(|s| s.intensive_every_minutes = 0).contains("dosing.monitoring.intensive_every_minutes"));
        assert!(bad(|s| s.intensive_every_minutes = 20).contains("dosing.monitoring.intensive_every_minutes"));
        assert!(
            bad(|s| s.spravato_followup_every_minutes = 61)
                .contains("dosing.monitoring.spravato_followup_every_minutes")
        );
        let m = MonitoringSettings {
            intensive_every_minutes: 5,
            spravato_followup_every_minutes: 15,
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!((m.intensive_every, m.spravato_followup_every), (Minutes::new(5), Some(Minutes::new(15))));
    }
}
