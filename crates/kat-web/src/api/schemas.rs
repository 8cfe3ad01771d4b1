//! Schemas of the values the API reads and answers that Rust types alone do not say:
//! the enumerations (taken from the domain's own lists, so the document cannot drift
//! from what the server accepts), and values that may come as a number or as text.
//!
//! Each is a marker type used as `#[schema(value_type = schemas::…)]` on a field; it is a
//! named component of the document.

use std::borrow::Cow;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ArrayBuilder, ArrayItems, KnownFormat, ObjectBuilder,
    OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Object, RefOr};

/// A string that is one of `values`.
pub fn one_of<I, S>(description: &str, values: I) -> Object
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let values: Vec<String> = values.into_iter().map(Into::into).collect();
    let description = (!description.is_empty()).then_some(description);
    ObjectBuilder::new().schema_type(Type::String).description(description).enum_values(Some(values)).build()
}

/// `values` and the empty string (which a form sends for "none").
fn blank_or<const N: usize>(values: [&'static str; N]) -> impl Iterator<Item = &'static str> {
    std::iter::once("").chain(values)
}

/// The serde (snake_case) name of a unit enum variant.
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Every administration step some route allows, once each.
fn administration_kinds() -> Vec<&'static str> {
    let mut kinds = Vec::new();
    for route in Route::ALL {
        for kind in kat_core::dosing::order::allowed_steps(route) {
            if !kinds.contains(kind) {
                kinds.push(*kind);
            }
        }
    }
    kinds
}

/// Declares marker types whose schema is a string enumeration.
macro_rules! string_enums {
    ($($(#[doc = $doc:literal])+ $name:ident => $values:expr;)*) => {$(
        $(#[doc = $doc])+
        #[allow(dead_code)] // Named only in `value_type`.
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let doc = [$($doc),+].map(str::trim).join(" ");
                RefOr::T(Schema::Object(one_of(&doc, $values)))
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

use kat_core::audit::AuditAction;
use kat_core::dosing::Route;
use kat_core::instruments::Instrument;
use kat_core::measures::{AlertAction, SafetyAlertKind};
use kat_core::monitoring::adverse::{AeOutcome, Relatedness};
use kat_core::patient::SexAtBirth;
use kat_core::therapy::care_team::CareRole;
use kat_core::therapy::note::{Modality, NoteKind, RiskCheck};
use kat_core::therapy::schedule::SessionKind;
use kat_core::therapy::timeline::TimelineKind;

string_enums! {
    /// Sex assigned at birth.
    Sex => SexAtBirth::ALL.map(SexAtBirth::as_str);
    /// The kind of a therapy note (PSY-007).
    TherapyNoteKind => NoteKind::ALL.map(NoteKind::as_str);
    /// The psychotherapy modality of a session; empty: none.
    TherapyModalityOrBlank => blank_or(Modality::ALL.map(Modality::as_str));
    /// The suicide-risk check of an integration or follow-up note (SUI-001); empty: not
    /// yet asked.
    NoteRiskCheckOrBlank => blank_or(RiskCheck::ALL.map(RiskCheck::as_str));
    /// A role on a patient's care team.
    CareTeamRole => CareRole::ALL.map(CareRole::as_str);
    /// A kind of timeline entry.
    TimelineEntryKind => TimelineKind::ALL.map(TimelineKind::as_str);
    /// A kind of planned session of the program.
    PlannedSessionKind => SessionKind::ALL.map(SessionKind::as_str);
    /// A rating scale a clinician may enter.
    EnterableInstrument => kat_app::measures::ENTERABLE.map(Instrument::as_str);
    /// A questionnaire a patient may self-report through a link.
    SelfReportInstrument => kat_app::measures::SELF_REPORTABLE.map(Instrument::as_str);
    /// A rating scale.
    InstrumentName => Instrument::ALL.map(Instrument::as_str);
    /// What was done about an urgent safety alert (`other` needs a note).
    SafetyAlertAction => AlertAction::ALL.map(AlertAction::as_str);
    /// The kind of an urgent safety alert.
    SafetyAlertKindName => SafetyAlertKind::ALL.map(SafetyAlertKind::as_str);
    /// How the previous dose was tolerated (`kat_core::dosing::titration::Tolerability`).
    TolerabilityName => ["tolerated", "poorly_tolerated"];
    /// How well the previous dose worked (`kat_core::dosing::titration::Efficacy`).
    EfficacyName => ["adequate", "inadequate"];
    /// How likely the drug caused an adverse event.
    AeRelatedness => Relatedness::ALL.iter().map(|r| r.as_str());
    /// How an adverse event ended (or not yet).
    AeOutcomeName => AeOutcome::ALL.iter().map(|o| o.as_str());
    /// A route of administration (clinical.md §2).
    RouteName => Route::ALL.map(kat_store::dosing::route_str);
    /// A protocol of the core library (`kat_core::dosing::LIBRARY`); it must be one for
    /// the plan's route.
    ProtocolName => kat_core::dosing::LIBRARY.iter().map(|p| serde_name(&p.id));
    /// How a dose is written: per kilogram, or a fixed dose in mg (esketamine: fixed).
    DoseStyle => ["per_kg", "fixed"];
    /// The KAP dose style (PSY-004).
    KapStyle => ["psycholytic", "psychedelic"];
    /// Esketamine only (IND-002): alone or with an oral antidepressant (required for
    /// MDSI); ignored for other routes.
    EsketamineRegimen => ["", "monotherapy", "with_oral_antidepressant"];
    /// The dosing-weight basis (DOSE-IV-005); empty: the clinic's default.
    WeightBasisName => ["", "actual", "ideal", "adjusted"];
    /// How the previous dose was tolerated; empty: not judged.
    TolerabilityOrBlank => ["", "tolerated", "poorly_tolerated"];
    /// How well the previous dose worked; empty: not judged.
    EfficacyOrBlank => ["", "adequate", "inadequate"];
    /// Yes, no (also `true`, `false`), or empty: not recorded.
    YesNoOrBlank => ["", "yes", "no", "true", "false"];
    /// When a CADSS-6 is rated (MON-KET-005).
    Cadss6TimePoint => kat_app::dosing::CADSS6_TIME_POINTS.iter().map(|(key, _)| *key);
    /// An administration step; which ones a session allows depends on its route
    /// (`kat_core::dosing::order::allowed_steps`).
    AdministrationKind => administration_kinds();
    /// The prescriber's eligibility decision.
    EligibilityDecision => ["accept", "decline"];
    /// What an audit entry records.
    AuditActionName => AuditAction::ALL.map(AuditAction::as_str);
    /// Whether an audited attempt was allowed.
    AuditOutcomeName => ["allowed", "denied"];
}

/// Declares a marker type whose schema `build` returns.
macro_rules! custom_schema {
    ($(#[doc = $doc:literal])+ $name:ident => $build:expr;) => {
        $(#[doc = $doc])+
        #[allow(dead_code)] // Named only in `value_type`.
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let doc = [$($doc),+].map(str::trim).join(" ");
                let mut schema: Schema = $build;
                match &mut schema {
                    Schema::Object(o) => o.description = Some(doc),
                    Schema::Array(a) => a.description = Some(doc),
                    Schema::AnyOf(a) => a.description = Some(doc),
                    Schema::OneOf(o) => o.description = Some(doc),
                    _ => {}
                }
                RefOr::T(schema)
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

fn text(multiline: bool, max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
        .pattern(Some(super::contract::text_pattern(multiline, false)))
}

custom_schema! {
    /// Tags: an array of at most 20 (each at most 40 characters), or one string of tags
    /// separated by commas or line breaks. Tags are trimmed; repeats (in any case) count
    /// once.
    Tags => Schema::AnyOf(
        AnyOfBuilder::new()
            .item(ArrayBuilder::new().items(text(false, 40)).max_items(Some(20)))
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(super::contract::text_pattern(true, false))))
            .build(),
    );
}

custom_schema! {
    /// Yes or no: a boolean, or `yes`/`no` (also `true`/`false`, `on`/`off`; empty is no).
    Flag => Schema::AnyOf(
        AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(one_of("", ["", "yes", "no", "true", "false", "on", "off"]))
            .build(),
    );
}

custom_schema! {
    /// Lines: an array of at most 30 (each at most 300 characters; blank lines are
    /// dropped), or one string with a line per item.
    Lines => Schema::AnyOf(
        AnyOfBuilder::new()
            .item(ArrayBuilder::new().items(text(false, 300)).max_items(Some(30)))
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(
                r"^[^\n\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,300}(\n[^\n\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,300}){0,29}$",
            )))
            .build(),
    );
}

custom_schema! {
    /// A calendar date, YYYY-MM-DD.
    Day => Schema::Object(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))).build());
}

custom_schema! {
    /// A stated reason (audited, reviewed): 10 to 500 characters once trimmed, no control
    /// characters other than line breaks and tabs.
    StatedReason => Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(10))
            .max_length(Some(kat_core::access::REASON_MAX_CHARS))
            .pattern(Some(r"^[^\S\u000b\u000c]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{8,}[^\s\u0000-\u001f\u007f-\u009f][^\S\u000b\u000c]*$"))
            .build(),
    );
}

custom_schema! {
    /// Planned dose dates (YYYY-MM-DD): 1 to 52, each once.
    DoseDates => Schema::Array(
        ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))))
            .min_items(Some(1))
            .max_items(Some(kat_core::therapy::schedule::MAX_DOSES))
            .unique_items(true)
            .build(),
    );
}

/// The schema of one intake answer of kind `kind` (blank: unanswered).
fn intake_answer(question: &kat_core::eligibility::answers::Question) -> Schema {
    use kat_core::eligibility::answers::Kind;
    let label = question.label;
    let description = if question.hint.is_empty() { label.to_string() } else { format!("{label} ({})", question.hint) };
    let mut o = match question.kind {
        Kind::YesNo => one_of("", ["", "yes", "no"]),
        Kind::Choice(choices) => one_of("", blank_or_list(choices.iter().map(|(value, _)| *value))),
        Kind::Check => ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(super::contract::text_pattern(true, false)))
            .build(),
        Kind::Date => {
            ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$")).build()
        }
        Kind::Number => ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[^\S\u000b\u000c]*([0-9]+([.,][0-9]+)?)?[^\S\u000b\u000c]*$"))
            .build(),
        Kind::Text => text(false, kat_core::eligibility::intake::ClinicalText::MAX_CHARS).build(),
        Kind::Lines => text(true, 20_000).build(),
        Kind::BloodPressure => ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(
                r"^[^\S\u000b\u000c]*([0-9]+[^\S\u000b\u000c]*/[^\S\u000b\u000c]*[0-9]+)?[^\S\u000b\u000c]*$",
            ))
            .build(),
        Kind::Phone => ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[^\S\u000b\u000c]*(([ +\-().]*[0-9]){7,15}[ +\-().]*)?[^\S\u000b\u000c]*$"))
            .build(),
    };
    o.description = Some(description);
    Schema::Object(o)
}

fn blank_or_list<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    std::iter::once(String::new()).chain(values.map(str::to_string)).collect()
}

custom_schema! {
    /// Question name → answer text, every question of the intake form (clinical.md §1);
    /// a blank answer is unanswered. Repeating rows are numbered from 1 (`trial1_drug`).
    IntakeAnswerMap => {
        use kat_core::eligibility::answers::SECTIONS;
        let mut o = ObjectBuilder::new().additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for section in SECTIONS {
            for q in section.questions {
                o = o.property(q.name, intake_answer(q));
            }
            if let Some(rows) = &section.rows {
                for i in 1..=rows.rows {
                    for c in rows.columns {
                        o = o.property(format!("{}{i}_{}", rows.prefix, c.name), intake_answer(c));
                    }
                }
            }
        }
        Schema::Object(o.build())
    };
}

custom_schema! {
    /// A written reason: free text, line breaks allowed, no other control characters.
    ReasonText => Schema::Object(
        ObjectBuilder::new().schema_type(Type::String).pattern(Some(super::contract::text_pattern(true, false))).build(),
    );
}

custom_schema! {
    /// A number, as a JSON number or as its text (`70`, `"70.5"`); empty text where the
    /// field is optional.
    NumberText => Schema::AnyOf(
        AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[^\S\u000b\u000c]*([-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?)?[^\S\u000b\u000c]*$")),
            )
            .build(),
    );
}

/// A string that matches `format`, or is blank (not given).
fn or_blank(format: KnownFormat) -> Schema {
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(format))))
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^[^\S\u000b\u000c]*$")))
            .build(),
    )
}

custom_schema! {
    /// A calendar date (YYYY-MM-DD), or empty.
    DayOrBlank => or_blank(KnownFormat::Date);
}

custom_schema! {
    /// A time (RFC 3339), or empty: now.
    TimeOrBlank => or_blank(KnownFormat::DateTime);
}

custom_schema! {
    /// An id, or empty: none.
    IdOrBlank => or_blank(KnownFormat::Uuid);
}

custom_schema! {
    /// The day-of checks (§3) as `kat_core::monitoring::gate::GateChecklist`: the route
    /// and whether the dose is weight-based are required; every other check may be left
    /// out (not answered). The yes/no checks are listed here; the structured ones
    /// (`last_solid`, `blood_pressure`, `bp_recheck`, `heart_rate`, `substance_use`,
    /// `pregnancy`, `interactions`, `suicide_screen`, `nasal_medication`) take the core's
    /// JSON shapes.
    GateChecklistSchema => {
        let flag = || ObjectBuilder::new().schema_type(SchemaType::Array(vec![Type::Boolean, Type::Null]));
        let mut o = ObjectBuilder::new()
            .property("route", one_of("", Route::ALL.map(kat_store::dosing::route_str)))
            .required("route")
            .property("dose_is_weight_based", ObjectBuilder::new().schema_type(Type::Boolean))
            .required("dose_is_weight_based")
            .property(
                "last_clear_liquid",
                ObjectBuilder::new()
                    .schema_type(SchemaType::Array(vec![Type::String, Type::Null]))
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .property(
                "weight_measured_on",
                ObjectBuilder::new()
                    .schema_type(SchemaType::Array(vec![Type::String, Type::Null]))
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
            );
        for name in [
            "hypertensive_symptoms",
            "new_irregular_rhythm",
            "escort_confirmed",
            "no_driving_instruction_given",
            "intoxicated_or_in_withdrawal",
            "childbearing_potential",
            "pregnancy_test_negative",
            "medication_changes_reviewed",
            "new_psychotic_or_manic_symptoms",
            "rems_patient_enrolled",
            "rems_setting_certified",
            "prescriber_onsite",
            "pulse_oximeter_available",
            "nasal_congestion",
        ] {
            o = o.property(name, flag());
        }
        Schema::Object(o.build())
    };
}

/// The rules across fields of a request body that JSON Schema can state, added to the
/// components of the bodies (`allOf` the body's own schema and the rule). Each rule is
/// also checked by the server, which names the field.
pub fn cross_field_rules(doc: &mut utoipa::openapi::OpenApi) {
    let nonblank = |multiline: bool| {
        ObjectBuilder::new().schema_type(Type::String).pattern(Some(super::contract::text_pattern(multiline, true)))
    };
    let blank = || {
        ObjectBuilder::new()
            .schema_type(SchemaType::Array(vec![Type::String, Type::Null]))
            .pattern(Some(r"^[^\S\u000b\u000c]*$"))
    };
    let rules: Vec<(&str, Schema)> = vec![
        // An emergency contact phone needs the contact's name.
        (
            "PatientInput",
            Schema::AnyOf(
                AnyOfBuilder::new()
                    .item(ObjectBuilder::new().property("emergency_contact_phone", blank()))
                    .item(
                        ObjectBuilder::new()
                            .property("emergency_contact_name", nonblank(false))
                            .required("emergency_contact_name"),
                    )
                    .build(),
            ),
        ),
        // `other` needs a note.
        (
            "AcknowledgeInput",
            Schema::AnyOf(
                AnyOfBuilder::new()
                    .item(ObjectBuilder::new().property(
                        "action",
                        one_of(
                            "",
                            AlertAction::ALL.into_iter().filter(|a| *a != AlertAction::Other).map(AlertAction::as_str),
                        ),
                    ))
                    .item(ObjectBuilder::new().property("note", nonblank(true)).required("note"))
                    .build(),
            ),
        ),
        // At least one section has a line.
        (
            "SafetyPlanInput",
            Schema::AnyOf(
                kat_core::therapy::safety_plan::SECTIONS
                    .iter()
                    .fold(AnyOfBuilder::new(), |any, (section, _)| {
                        any.item(
                            ObjectBuilder::new()
                                .property(
                                    *section,
                                    AnyOfBuilder::new()
                                        .item(ArrayBuilder::new().items(nonblank(true)).min_items(Some(1)))
                                        .item(nonblank(true)),
                                )
                                .required(*section),
                        )
                    })
                    .build(),
            ),
        ),
        // As many answers as the instrument has items, each in its item's range.
        ("ResponseInput", answers_rule()),
    ];
    let Some(components) = doc.components.as_mut() else { return };
    for (name, rule) in rules {
        let own = components.schemas.remove(name).unwrap_or_else(|| panic!("no component {name}"));
        let description = match &own {
            RefOr::T(Schema::Object(o)) => o.description.clone(),
            _ => None,
        };
        let combined = AllOfBuilder::new().item(own).item(rule).description(description).build();
        components.schemas.insert(name.to_string(), RefOr::T(Schema::AllOf(combined)));
    }
}

/// The answers of each instrument a clinician may enter: the instrument, then one
/// answer (or `null`) per item in item order, each in that item's range.
fn answers_rule() -> Schema {
    use kat_core::instruments::response::min_answers;
    let mut one = OneOfBuilder::new();
    for instrument in kat_app::measures::ENTERABLE {
        let def = instrument.def();
        let answers = ArrayBuilder::new()
            .prefix_items(def.items.iter().map(|item| {
                ObjectBuilder::new()
                    .schema_type(SchemaType::Array(vec![Type::Integer, Type::Null]))
                    .minimum(Some(item.answer.min()))
                    .maximum(Some(item.answer.max()))
                    .build()
            }))
            .items(ArrayItems::False)
            .min_items(Some(min_answers(def)))
            .max_items(Some(def.items.len()));
        one = one.item(
            ObjectBuilder::new()
                .property("instrument", one_of("", [instrument.as_str()]))
                .required("instrument")
                .property("answers", answers)
                .required("answers"),
        );
    }
    Schema::OneOf(one.build())
}

custom_schema! {
    /// Whole minutes from the start of administration, 0 to 1440, as a number or its text.
    ReadyToLeaveMinutes => Schema::AnyOf(
        AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).maximum(Some(1440)))
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(
                r"^[^\S\u000b\u000c]*\+?0*([0-9]{1,3}|1[0-3][0-9]{2}|14[0-3][0-9]|1440)[^\S\u000b\u000c]*$",
            )))
            .build(),
    );
}
