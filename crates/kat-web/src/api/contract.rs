//! The statuses every API operation shares, added to the OpenAPI document in one place
//! rather than repeated on each handler. A handler documents what is its own (its
//! success, the role it needs, its conflicts and domain rules); [`complete`] adds what
//! follows from the operation's shape, as the shared extractors and middleware answer it:
//!
//! * 401 to every operation: no or no valid bearer token (the `Caller` extractor);
//! * 403 to every operation: besides the role the handler names, an account whose
//!   password an administrator reset must change it first, a cross-site browser request
//!   is refused (CSRF), and an operation on a patient's record ([`on_patient_record`])
//!   needs the caller on the patient's care team or a break-glass grant;
//! * 404 to every operation with a path parameter: every one is an id (a UUID), and an
//!   id that names nothing, or does not parse, is not found;
//! * 413 and 422 to every operation with a request body (`ApiJson` and the other body
//!   extractors), 422 to every operation with query parameters (`ApiQuery`): one entry
//!   per invalid field in `errors`;
//! * a description on every response (OpenAPI requires one).
//!
//! [`text_rules`] states kat's rule for text on every text field a request body sends: no
//! control characters but tab, line feed and carriage return (the body extractor refuses
//! them in any string), none at all in a field marked `x-single-line` in the code (its
//! parser refuses line breaks), and a field with `minLength` 1 or more must hold more
//! than white space (text is trimmed). Lengths are each field's own `min_length` and
//! `max_length`. A `date`, `date-time` or `uuid` string of a request (parameter or body)
//! also gets the pattern of that format, since JSON Schema validators treat `format` as
//! an annotation only.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, KnownFormat, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{Content, OpenApi, PathItem, Ref, RefOr, Response};

const PROBLEM_JSON: &str = "application/problem+json";

/// Marks the operations of `doc` as operations on a patient's record (clinical.md's record
/// permissions: intake, measures, notes, plans, sessions…): access rests on the care team,
/// so a clinician off the team is refused with 403 `Break-glass required`.
pub fn on_patient_record(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            let record = "The caller is not on the patient's care team (problem title `Break-glass required`): \
                          `POST /api/v1/patients/{id}/break-glass` with a reason opens the record for a while, audited";
            add_reason(op, "403", record);
        }
    }
}

/// Adds the shared statuses to every operation of the document.
pub fn complete(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            complete_operation(op);
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn problem(description: &str) -> RefOr<Response> {
    let mut response = Response::new(description);
    response.content.insert(PROBLEM_JSON.into(), RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))));
    RefOr::T(response)
}

/// The response for `status`, added with `description` when the handler did not declare it.
fn ensure(op: &mut Operation, status: &str, description: &str) {
    op.responses.responses.entry(status.to_string()).or_insert_with(|| problem(description));
}

/// The first line of a description that lists reasons.
const HEAD: &str = "Refused, one of:";

/// Adds a reason to the description of the `status` response (made if missing), as one
/// item of a list.
fn add_reason(op: &mut Operation, status: &str, reason: &str) {
    ensure(op, status, "");
    if let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) {
        let first = response.description.trim_end_matches('.').to_string();
        let mut lines: Vec<String> = match first.as_str() {
            "" => vec![],
            text if text.starts_with(HEAD) => text.lines().map(str::to_string).collect(),
            text => vec![HEAD.into(), format!("- {text}")],
        };
        if lines.is_empty() {
            lines.push(HEAD.into());
        }
        lines.push(format!("- {reason}"));
        response.description = lines.join("\n");
    }
}

fn complete_operation(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let has_query = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let has_body = op.request_body.is_some();

    // Every path parameter is an id.
    for p in op.parameters.iter_mut().flatten() {
        if let RefOr::T(p) = p
            && p.parameter_in == ParameterIn::Path
            && let Some(RefOr::T(Schema::Object(s))) = &mut p.schema
            && s.format.is_none()
        {
            s.format = Some(SchemaFormat::KnownFormat(KnownFormat::Uuid));
        }
    }

    if secured {
        ensure(op, "401", "No valid credentials: send `Authorization: Bearer <token>` (`kat token create`)");
        add_reason(
            op,
            "403",
            "The account's password was reset by an administrator and must be changed first \
             (problem title `Password change required`)",
        );
        if has_body {
            add_reason(op, "403", "A browser sent it from another site (problem title `Cross-site request refused`)");
        }
    }
    if has_path {
        ensure(op, "404", "No such resource: an id in the path names nothing (or is not an id)");
    }
    if has_body {
        ensure(op, "413", "The request body is larger than 256 KiB");
        ensure(op, "422", "A field is invalid: one entry per field in `errors`");
    }
    if has_query {
        ensure(op, "422", "A query parameter is invalid: one entry per parameter in `errors`");
    }
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = response
            && r.description.is_empty()
        {
            r.description = match status.as_str() {
                "200" => "OK",
                "201" => "Created",
                "204" => "No content",
                _ => "See the problem document",
            }
            .into();
        }
    }
}

/// Control characters (Unicode category Cc), as a character-class range.
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";
/// Control characters other than tab, line feed and carriage return.
const CONTROL_BUT_BREAKS: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";
/// The extension a one-line text field carries in the code (removed from the document).
const SINGLE_LINE: &str = "x-single-line";

/// The pattern of a text field: no control characters (but line breaks when
/// `multiline`), and something besides white space when `required`.
pub fn text_pattern(multiline: bool, required: bool) -> String {
    let cc = if multiline { CONTROL_BUT_BREAKS } else { CONTROL };
    if required { format!(r"^[^{cc}]*[^\s{cc}][^{cc}]*$") } else { format!(r"^[^{cc}]*$") }
}

/// The pattern of a string format the API reads.
fn format_pattern(format: &SchemaFormat) -> Option<&'static str> {
    match format {
        SchemaFormat::KnownFormat(KnownFormat::Date) => Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        SchemaFormat::KnownFormat(KnownFormat::DateTime) => {
            Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$")
        }
        SchemaFormat::KnownFormat(KnownFormat::Uuid) => {
            Some(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
        }
        _ => None,
    }
}

/// Applies the text rule to every text field of every request body, and the format
/// patterns to every parameter and body string (see the module documentation). Response
/// schemas are left as they are.
pub fn text_rules(doc: &mut OpenApi) {
    let mut names = Vec::new();
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            for p in op.parameters.iter_mut().flatten() {
                if let RefOr::T(p) = p
                    && let Some(schema) = &mut p.schema
                {
                    visit(schema, &mut names, false);
                }
            }
            if let Some(RefOr::T(body)) = &mut op.request_body {
                for content in body.content.values_mut() {
                    if let RefOr::T(content) = content
                        && let Some(schema) = &mut content.schema
                    {
                        visit(schema, &mut names, true);
                    }
                }
            }
        }
    }
    let Some(components) = doc.components.as_mut() else { return };
    let mut done = Vec::new();
    while let Some(name) = names.pop() {
        if done.contains(&name) {
            continue;
        }
        if let Some(schema) = components.schemas.get_mut(&name) {
            visit(schema, &mut names, true);
        }
        done.push(name);
    }
}

/// Applies the format patterns, and the text rule when `text`, below `schema`,
/// collecting the components it refers to.
fn visit(schema: &mut RefOr<Schema>, refs: &mut Vec<String>, text: bool) {
    match schema {
        RefOr::Ref(r) => {
            if let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") {
                refs.push(name.to_string());
            }
        }
        RefOr::T(Schema::Object(o)) => {
            let is_text = match &o.schema_type {
                SchemaType::Type(Type::String) => true,
                SchemaType::Array(types) => types.contains(&Type::String),
                _ => false,
            };
            let multiline = o.extensions.as_mut().and_then(|e| e.remove(SINGLE_LINE)).is_none();
            if o.extensions.as_ref().is_some_and(|e| e.is_empty()) {
                o.extensions = None;
            }
            if is_text && o.pattern.is_none() && o.enum_values.is_none() {
                o.pattern = match &o.format {
                    None if text => Some(text_pattern(multiline, o.min_length.is_some_and(|n| n > 0))),
                    None => None,
                    Some(format) => format_pattern(format).map(str::to_string),
                };
            }
            for p in o.properties.values_mut() {
                visit(p, refs, text);
            }
            if let Some(extra) = o.additional_properties.as_deref_mut()
                && let AdditionalProperties::RefOr(extra) = extra
            {
                visit(extra, refs, text);
            }
        }
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                visit(items, refs, text);
            }
        }
        RefOr::T(Schema::OneOf(x)) => x.items.iter_mut().for_each(|s| visit(s, refs, text)),
        RefOr::T(Schema::AnyOf(x)) => x.items.iter_mut().for_each(|s| visit(s, refs, text)),
        RefOr::T(Schema::AllOf(x)) => x.items.iter_mut().for_each(|s| visit(s, refs, text)),
        RefOr::T(_) => {}
    }
}
