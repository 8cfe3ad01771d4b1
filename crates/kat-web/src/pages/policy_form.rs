//! The eligibility policy as a form: one labelled field per setting, with its spec ID
//! and the specification's default, parsed back into an [`EligibilityPolicy`] with
//! per-field errors (parse, don't validate; `EligibilityPolicy::validate` then checks
//! that the values hang together).
//!
//! Fields are named by their path in the policy's JSON (`bp_tiers.defer.systolic`), so
//! one table below drives the rendering, the defaults column and the parser.

use kat_core::FieldErrors;
use kat_core::eligibility::EligibilityPolicy;
use kat_core::eligibility::medication::KnownDrug;
use kat_core::eligibility::policy::{CognitiveScreenRule, SubstancePolicy};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// exclude / prescriber review / inform.
    Action,
    /// An action or "off"; off clears `clears` (the whole preset), or this field.
    OptAction {
        clears: Option<&'static str>,
    },
    Int {
        min: i64,
        max: i64,
    },
    /// Blank: not configured.
    OptInt {
        min: i64,
        max: i64,
    },
    /// A number above 0 (mg).
    Decimal,
    Bool,
    /// The substances of the RCI-003 frequent-use preset (checkboxes).
    Substances,
    /// DDI-004 diazepam-equivalent factors, one `drug = factor` per line.
    Equivalents,
}

struct Def {
    name: &'static str,
    label: &'static str,
    spec: &'static str,
    kind: Kind,
}

const fn def(name: &'static str, label: &'static str, spec: &'static str, kind: Kind) -> Def {
    Def { name, label, spec, kind }
}

const ACTION: Kind = Kind::Action;
const fn off(clears: &'static str) -> Kind {
    Kind::OptAction { clears: Some(clears) }
}
const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

const SECTIONS: &[(&str, &[Def])] = &[
    (
        "Age and indication",
        &[
            def("minimum_age_years", "Minimum age (years)", "IND-001, SUI-004", int(0, 120)),
            def(
                "maximum_age_years",
                "Maximum age (years; blank: none)",
                "no spec value",
                Kind::OptInt { min: 0, max: 120 },
            ),
            def(
                "adequate_trial_min_weeks",
                "Minimum weeks for an adequate antidepressant trial (blank: clinician judgement)",
                "IND-005",
                Kind::OptInt { min: 1, max: 104 },
            ),
            def("bipolar_depression", "Bipolar depression", "IND-011", ACTION),
        ],
    ),
    (
        "Psychiatric history",
        &[
            def("current_psychosis", "Current psychosis", "RCI-001", ACTION),
            def("past_psychosis", "Past psychosis", "RCI-001", ACTION),
            def("first_degree_relative_psychosis", "Psychosis in a first-degree relative", "RCI-001", ACTION),
            def("active_mania", "Active mania or hypomania", "RCI-002", ACTION),
            def("high_suicide_risk", "High current suicide risk", "RCI-011", ACTION),
            def(
                "recent_suicidal_behaviour_months",
                "Recent suicidal behaviour window (months)",
                "SUI-003",
                int(0, 240),
            ),
            def(
                "severe_personality_disorder",
                "Severe personality disorder interfering with cooperation",
                "RCI-012",
                ACTION,
            ),
        ],
    ),
    (
        "Substance use",
        &[
            def("substance.any_use_disorder_history", "Any substance use disorder history", "RCI-003", ACTION),
            def("substance.intoxication_or_withdrawal", "Acute intoxication or withdrawal", "RCI-003, DAY-003", ACTION),
            def("substance.frequent_use.action", "Frequent recreational use", "RCI-003", off("substance.frequent_use")),
            def(
                "substance.frequent_use.max_uses_past_year",
                "… more than this many uses in the past year",
                "RCI-003",
                int(0, 10_000),
            ),
            def("substance.frequent_use.substances", "… of these substances", "RCI-003", Kind::Substances),
            def(
                "substance.severe_disorder_within.action",
                "Severe use disorder within a window",
                "RCI-003",
                off("substance.severe_disorder_within"),
            ),
            def("substance.severe_disorder_within.months", "… window (months)", "RCI-003", int(0, 240)),
            def(
                "substance.any_disorder_within.action",
                "Any use disorder within a window",
                "RCI-003",
                off("substance.any_disorder_within"),
            ),
            def("substance.any_disorder_within.months", "… window (months)", "RCI-003", int(0, 240)),
            def(
                "substance.lifetime_ketamine_use_disorder",
                "Lifetime ketamine use disorder",
                "RCI-003",
                Kind::OptAction { clears: None },
            ),
            def(
                "substance.abstinence_required.action",
                "Active addiction unless abstinent",
                "RCI-003 (Psyon preset)",
                off("substance.abstinence_required"),
            ),
            def("substance.abstinence_required.months", "… abstinent at least (months)", "RCI-003", int(0, 240)),
        ],
    ),
    (
        "Blood pressure and heart rate at intake",
        &[
            def("bp_tiers.caution.systolic", "Caution tier: systolic ≥ (mmHg)", "BP-006", int(30, 300)),
            def("bp_tiers.caution.diastolic", "Caution tier: or diastolic ≥ (mmHg)", "BP-006", int(10, 250)),
            def("bp_tiers.defer.systolic", "Defer tier: systolic ≥ (mmHg)", "BP-006", int(30, 300)),
            def("bp_tiers.defer.diastolic", "Defer tier: or diastolic ≥ (mmHg)", "BP-006", int(10, 250)),
            def("bp_tiers.hard_defer.systolic", "Hard-defer tier: systolic ≥ (mmHg)", "BP-006", int(30, 300)),
            def("bp_tiers.hard_defer.diastolic", "Hard-defer tier: or diastolic ≥ (mmHg)", "BP-006", int(10, 250)),
            def("heart_rate.low", "Resting heart rate: review below (/min)", "BP-007", int(10, 300)),
            def("heart_rate.high", "Resting heart rate: review above (/min)", "BP-007", int(10, 300)),
        ],
    ),
    (
        "Medical",
        &[
            def("non_us_label_contraindications", "Non-US label contraindications", "CI-006", ACTION),
            def("pregnancy", "Pregnancy", "RCI-008", ACTION),
            def("lactation", "Lactation", "RCI-008", ACTION),
            def(
                "pregnancy_test_max_age_days",
                "Negative pregnancy test at most this old (days; blank: any)",
                "PRE-006",
                Kind::OptInt { min: 0, max: 3650 },
            ),
            def("bladder_disease", "Lower urinary tract or bladder disease", "RCI-009", ACTION),
            def("neurocognitive_disorder", "Neurocognitive disorder or symptomatic TBI", "RCI-010", ACTION),
            def(
                "cognitive_screen.action",
                "Cognitive screen (MMSE) for an age range",
                "RCI-010 (trial preset)",
                off("cognitive_screen"),
            ),
            def("cognitive_screen.min_age", "… from age", "RCI-010", int(0, 120)),
            def("cognitive_screen.max_age", "… to age", "RCI-010", int(0, 120)),
            def("cognitive_screen.min_mmse", "… MMSE at least", "RCI-010", int(0, 30)),
        ],
    ),
    (
        "Medications",
        &[
            def(
                "benzodiazepine_cap_diazepam_mg",
                "Benzodiazepine cap: daily diazepam-equivalent above (mg)",
                "DDI-004",
                Kind::Decimal,
            ),
            def(
                "benzodiazepine_equivalents",
                "Diazepam-equivalent factors (one `drug = diazepam mg per mg` per line)",
                "DDI-004",
                Kind::Equivalents,
            ),
            def("maoi", "MAOIs", "DDI-003", ACTION),
            def("theophylline", "Theophylline or aminophylline", "DDI-007", ACTION),
        ],
    ),
    (
        "Work-up",
        &[def("require_dissociation_baseline", "Require a CADSS dissociation baseline", "PRE-004", Kind::Bool)],
    ),
];

const ACTIONS: [(&str, &str); 3] =
    [("exclude", "Exclude (hard stop)"), ("prescriber_review", "Prescriber review"), ("inform", "Inform only")];
const SUBSTANCES: [(&str, &str); 10] = [
    ("alcohol", "alcohol"),
    ("opioids", "opioids"),
    ("ketamine", "ketamine"),
    ("pcp", "PCP"),
    ("cannabis", "cannabis"),
    ("stimulants", "stimulants"),
    ("sedatives_or_benzodiazepines", "sedatives or benzodiazepines"),
    ("hallucinogens", "hallucinogens"),
    ("tobacco", "tobacco"),
    ("other", "other"),
];

pub struct OptionView {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct FieldView {
    pub name: &'static str,
    /// `name` with dots replaced, for element ids.
    pub id: String,
    pub label: &'static str,
    pub spec: &'static str,
    pub default_text: String,
    /// `select`, `number`, `text`, `checkbox`, `checkboxes` or `textarea`.
    pub input: &'static str,
    pub value: String,
    pub options: Vec<OptionView>,
    pub error: Option<String>,
}

pub struct SectionView {
    pub title: &'static str,
    pub fields: Vec<FieldView>,
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key)).filter(|v| !v.is_null())
}

fn set(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let map = node.as_object_mut().expect("object");
        if keys.peek().is_none() {
            map.insert(key.to_string(), value);
            return;
        }
        node = map.entry(key.to_string()).or_insert(Value::Null);
    }
}

/// The values shown for a preset that is off: the reference's preset values.
fn presets() -> Value {
    let mut p = EligibilityPolicy::default();
    p.substance.abstinence_required = Some(SubstancePolicy::PSYON_ABSTINENCE);
    p.cognitive_screen = Some(CognitiveScreenRule::trial_preset());
    serde_json::to_value(p).expect("a policy serialises")
}

fn action_label(raw: &str) -> &'static str {
    ACTIONS.iter().find(|(v, _)| *v == raw).map(|(_, l)| *l).unwrap_or("?")
}

fn equivalents_text(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|p| Some(format!("{} = {}", p.get(0)?.as_str()?, p.get(1)?)))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The text of a field's value in `policy` (JSON), for the input or the defaults column.
fn text_of(d: &Def, v: Option<&Value>) -> String {
    match (d.kind, v) {
        (Kind::Action | Kind::OptAction { .. }, Some(Value::String(s))) => s.clone(),
        (Kind::OptAction { .. }, _) => "off".into(),
        (Kind::Bool, Some(Value::Bool(b))) => if *b { "on" } else { "" }.into(),
        (Kind::Substances, Some(Value::Array(a))) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
        (Kind::Equivalents, v) => equivalents_text(v),
        (_, Some(Value::Number(n))) => n.to_string(),
        _ => String::new(),
    }
}

fn default_text(d: &Def, defaults: &Value) -> String {
    let v = lookup(defaults, d.name);
    // A preset that is off by default: its sub-fields have no default of their own.
    if let Some((group, _)) = d.name.rsplit_once('.')
        && !matches!(d.kind, Kind::OptAction { .. })
        && group != "bp_tiers"
        && lookup(defaults, group).is_none()
        && v.is_none()
    {
        return "— (preset off)".into();
    }
    let raw = text_of(d, v);
    match d.kind {
        Kind::Action => action_label(&raw).into(),
        Kind::OptAction { .. } if raw == "off" => "off".into(),
        Kind::OptAction { .. } => action_label(&raw).into(),
        Kind::OptInt { .. } if raw.is_empty() => "none".into(),
        Kind::Bool => if raw == "on" { "yes" } else { "no" }.into(),
        Kind::Substances => raw.replace(',', ", "),
        Kind::Equivalents => raw.replace('\n', "; "),
        _ => raw,
    }
}

/// The form for a policy: the current values, or (after a refused save) what was typed,
/// with its errors.
pub fn sections(
    policy: &EligibilityPolicy,
    typed: Option<&[(String, String)]>,
    errors: &FieldErrors,
) -> Vec<SectionView> {
    let current = serde_json::to_value(policy).expect("a policy serialises");
    let defaults = serde_json::to_value(EligibilityPolicy::default()).expect("a policy serialises");
    let presets = presets();
    let mut shown_errors: Vec<&str> = Vec::new();
    SECTIONS
        .iter()
        .map(|(title, defs)| SectionView {
            title,
            fields: defs
                .iter()
                .map(|d| {
                    let value = match typed {
                        Some(form) => match d.kind {
                            Kind::Substances => form
                                .iter()
                                .filter(|(k, _)| k == d.name)
                                .map(|(_, v)| v.as_str())
                                .collect::<Vec<_>>()
                                .join(","),
                            _ => form.iter().find(|(k, _)| k == d.name).map(|(_, v)| v.clone()).unwrap_or_default(),
                        },
                        // A preset that is off shows "off", and its fields the reference's preset values.
                        None if matches!(d.kind, Kind::OptAction { .. }) => text_of(d, lookup(&current, d.name)),
                        None => text_of(d, lookup(&current, d.name).or_else(|| lookup(&presets, d.name))),
                    };
                    // An error on a group ("bp_tiers") shows at its first field.
                    let error = errors
                        .iter()
                        .find(|e| {
                            (e.field == d.name || d.name.starts_with(&format!("{}.", e.field)))
                                && !shown_errors.contains(&e.field.as_str())
                        })
                        .map(|e| {
                            shown_errors.push(e.field.as_str());
                            e.message.to_string()
                        });
                    let (input, options) = match d.kind {
                        Kind::Action => (
                            "select",
                            ACTIONS
                                .iter()
                                .map(|(v, l)| OptionView { value: v, label: l, selected: *v == value })
                                .collect(),
                        ),
                        Kind::OptAction { .. } => (
                            "select",
                            std::iter::once(("off", "Off"))
                                .chain(ACTIONS)
                                .map(|(v, l)| OptionView { value: v, label: l, selected: v == value })
                                .collect(),
                        ),
                        Kind::Substances => (
                            "checkboxes",
                            SUBSTANCES
                                .iter()
                                .map(|(v, l)| OptionView {
                                    value: v,
                                    label: l,
                                    selected: value.split(',').any(|s| s == *v),
                                })
                                .collect(),
                        ),
                        Kind::Bool => ("checkbox", Vec::new()),
                        Kind::Equivalents => ("textarea", Vec::new()),
                        Kind::Int { .. } | Kind::OptInt { .. } => ("number", Vec::new()),
                        Kind::Decimal => ("text", Vec::new()),
                    };
                    FieldView {
                        name: d.name,
                        id: d.name.replace('.', "-"),
                        label: d.label,
                        spec: d.spec,
                        default_text: default_text(d, &defaults),
                        input,
                        value,
                        options,
                        error,
                    }
                })
                .collect(),
        })
        .collect()
}

fn parse_int(raw: &str, min: i64, max: i64) -> Result<i64, String> {
    if raw.trim().is_empty() {
        return Err("is required".into());
    }
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(_) => Err(format!("must be from {min} to {max}")),
        Err(_) => Err("must be a whole number".into()),
    }
}

/// Parses the submitted form over the current policy (which supplies the version label,
/// replaced on save). Every field's error is reported; then `validate()` runs.
pub fn parse(current: &EligibilityPolicy, form: &[(String, String)]) -> Result<EligibilityPolicy, FieldErrors> {
    let mut json = serde_json::to_value(current).expect("a policy serialises");
    let mut errors = FieldErrors::new();
    let mut cleared: Vec<&str> = Vec::new();
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("");
    for d in SECTIONS.iter().flat_map(|(_, defs)| defs.iter()) {
        let raw = get(d.name);
        let parsed: Result<Value, String> = match d.kind {
            Kind::Action => ACTIONS
                .iter()
                .find(|(v, _)| *v == raw)
                .map(|(v, _)| json!(v))
                .ok_or_else(|| "choose an action".to_string()),
            Kind::OptAction { clears } => {
                if raw == "off" {
                    cleared.push(clears.unwrap_or(d.name));
                    Ok(Value::Null)
                } else {
                    ACTIONS
                        .iter()
                        .find(|(v, _)| *v == raw)
                        .map(|(v, _)| json!(v))
                        .ok_or_else(|| "choose an action or off".to_string())
                }
            }
            Kind::Int { min, max } => parse_int(raw, min, max).map(|n| json!(n)),
            Kind::OptInt { min, max } => {
                if raw.is_empty() {
                    Ok(Value::Null)
                } else {
                    parse_int(raw, min, max).map(|n| json!(n))
                }
            }
            Kind::Decimal => match raw.parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => Ok(json!(x)),
                _ => Err("must be a number above 0".into()),
            },
            Kind::Bool => Ok(json!(!raw.is_empty())),
            Kind::Substances => {
                let chosen: Vec<&str> = form.iter().filter(|(k, _)| k == d.name).map(|(_, v)| v.as_str()).collect();
                match chosen.iter().find(|c| !SUBSTANCES.iter().any(|(v, _)| v == *c)) {
                    Some(bad) => Err(format!("`{bad}` is not a substance on the list")),
                    None if chosen.is_empty() && get("substance.frequent_use.action") != "off" => {
                        Err("choose at least one substance, or turn the preset off".into())
                    }
                    None => Ok(json!(chosen)),
                }
            }
            Kind::Equivalents => parse_equivalents(raw),
        };
        match parsed {
            Ok(v) => set(&mut json, d.name, v),
            Err(message) => errors.add(d.name, message),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for path in cleared {
        set(&mut json, path, Value::Null);
    }
    let policy: EligibilityPolicy = serde_json::from_value(json)
        .map_err(|e| FieldErrors::single("policy", format!("is not a valid policy: {e}")))?;
    policy.validate()?;
    Ok(policy)
}

fn parse_equivalents(raw: &str) -> Result<Value, String> {
    let mut pairs = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (drug, factor) = line.split_once('=').ok_or_else(|| format!("`{line}`: write `drug = factor`"))?;
        let drug = KnownDrug::from_name(drug).ok_or_else(|| format!("`{}` is not a drug kat knows", drug.trim()))?;
        let factor: f64 = factor.trim().parse().map_err(|_| format!("`{line}`: the factor must be a number"))?;
        pairs.push((drug, factor));
    }
    kat_core::eligibility::medication::BenzodiazepineEquivalents::new(pairs)
        .map(|e| serde_json::to_value(e).expect("serialises"))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_of(policy: &EligibilityPolicy) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for s in sections(policy, None, &FieldErrors::new()) {
            for f in s.fields {
                match f.input {
                    "checkboxes" => out.extend(
                        f.options.iter().filter(|o| o.selected).map(|o| (f.name.to_string(), o.value.to_string())),
                    ),
                    "checkbox" if f.value.is_empty() => {}
                    _ => out.push((f.name.to_string(), f.value)),
                }
            }
        }
        out
    }

    fn with(mut form: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
        form.retain(|(k, _)| k != name);
        form.push((name.into(), value.into()));
        form
    }

    #[test]
    fn the_form_round_trips_the_default_policy() {
        let p = EligibilityPolicy::default();
        assert_eq!(parse(&p, &form_of(&p)).unwrap(), p);
    }

    #[test]
    fn every_policy_value_has_a_field() {
        // Every leaf of the policy JSON (but the version label) is on the form.
        let mut p = EligibilityPolicy::default();
        p.substance.abstinence_required = Some(SubstancePolicy::PSYON_ABSTINENCE);
        p.cognitive_screen = Some(CognitiveScreenRule::trial_preset());
        fn leaves(prefix: &str, v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => m.iter().for_each(|(k, v)| {
                    leaves(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, v, out)
                }),
                _ => out.push(prefix.to_string()),
            }
        }
        let mut all = Vec::new();
        leaves("", &serde_json::to_value(&p).unwrap(), &mut all);
        let names: Vec<&str> = SECTIONS.iter().flat_map(|(_, d)| d.iter().map(|d| d.name)).collect();
        for leaf in all.iter().filter(|l| *l != "version") {
            assert!(names.contains(&leaf.as_str()), "{leaf} has no field");
        }
    }

    #[test]
    fn changes_and_presets_are_parsed() {
        let p = EligibilityPolicy::default();
        let form = with(form_of(&p), "bp_tiers.defer.systolic", "165");
        let form = with(form, "substance.abstinence_required.action", "exclude");
        let form = with(form, "substance.any_disorder_within.action", "off");
        let form = with(form, "maximum_age_years", "75");
        let form = with(form, "benzodiazepine_equivalents", "diazepam = 1\nlorazepam = 5");
        let form = with(form, "bipolar_depression", "exclude");
        let parsed = parse(&p, &form).unwrap();
        assert_eq!(parsed.bp_tiers.defer.systolic.get(), 165);
        assert_eq!(parsed.substance.abstinence_required, Some(SubstancePolicy::PSYON_ABSTINENCE));
        assert_eq!(parsed.substance.any_disorder_within, None);
        assert_eq!(parsed.maximum_age_years, Some(75));
        assert_eq!(parsed.bipolar_depression, kat_core::eligibility::PolicyAction::Exclude);
        assert_eq!(
            serde_json::to_value(&parsed.benzodiazepine_equivalents).unwrap(),
            json!([["diazepam", 1.0], ["lorazepam", 5.0]])
        );
        let form = with(form_of(&p), "require_dissociation_baseline", "");
        assert!(!parse(&p, &form).unwrap().require_dissociation_baseline);
    }

    #[test]
    fn bad_values_are_reported_per_field_and_by_validate() {
        let p = EligibilityPolicy::default();
        let form = with(form_of(&p), "heart_rate.low", "abc");
        let form = with(form, "benzodiazepine_cap_diazepam_mg", "-1");
        let form = with(form, "benzodiazepine_equivalents", "aspirin = 2");
        let form = with(form, "pregnancy", "maybe");
        let errors = parse(&p, &form).unwrap_err();
        for field in ["heart_rate.low", "benzodiazepine_cap_diazepam_mg", "benzodiazepine_equivalents", "pregnancy"] {
            assert!(errors.for_field(field).is_some(), "{field}: {errors}");
        }
        // Values that parse but do not hang together: validate() names the group.
        let form = with(form_of(&p), "bp_tiers.defer.systolic", "190");
        let errors = parse(&p, &form).unwrap_err();
        assert!(errors.for_field("bp_tiers").is_some());
        let views = sections(&p, Some(&form), &errors);
        let first = &views[3].fields[0];
        assert_eq!(first.name, "bp_tiers.caution.systolic");
        assert!(first.error.is_some(), "a group error shows at its first field");
        assert_eq!(views[3].fields[2].value, "190", "what was typed is shown again");
        let form = with(form_of(&p), "minimum_age_years", "16");
        assert!(parse(&p, &form).unwrap_err().for_field("minimum_age_years").is_some());
    }

    #[test]
    fn defaults_column_shows_the_reference_values() {
        let views = sections(&EligibilityPolicy::default(), None, &FieldErrors::new());
        let find = |name: &str| {
            views.iter().flat_map(|s| s.fields.iter()).find(|f| f.name == name).unwrap().default_text.clone()
        };
        assert_eq!(find("bp_tiers.caution.systolic"), "140");
        assert_eq!(find("current_psychosis"), "Exclude (hard stop)");
        assert_eq!(find("maximum_age_years"), "none");
        assert_eq!(find("substance.abstinence_required.action"), "off");
        assert_eq!(find("substance.abstinence_required.months"), "— (preset off)");
        assert_eq!(find("benzodiazepine_cap_diazepam_mg"), "8.0");
        assert_eq!(find("substance.frequent_use.substances"), "opioids, ketamine, pcp");
    }
}
