//! The API's extractors: a request's JSON body, query string and path, each refused as a
//! problem document (`application/problem+json`) with a documented status, never with
//! axum's plain-text rejections:
//!
//! * a body or query parameter that does not fit answers 422 with one entry per field,
//!   named as the request spelled it (`dose_dates[0]`, `limit`; `body` for the body as a
//!   whole: not JSON, not an object, no `Content-Type: application/json`);
//! * no string of a JSON body may hold a control character other than tab, line feed and
//!   carriage return (kat's rule for all text; fields that are one line refuse those too,
//!   each in its own parser): 422 naming each such field;
//! * a body over the size limit answers 413;
//! * a path that does not decode answers 404, as an id that names nothing does.

use crate::error::{ApiError, problem};
use crate::middleware::RequestMeta;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kat_app::AppError;
use kat_core::FieldErrors;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A JSON request body, deserialized as `T`.
pub struct ApiJson<T>(pub T);

/// A JSON request body that must be an object, for handlers that read it member by member.
pub struct ApiObject(pub Map<String, Value>);

/// An optional JSON request body: an empty body (or `null`) is `T::default()`, anything
/// else must be a JSON object that deserializes as `T`.
pub struct ApiJsonOrEmpty<T>(pub T);

/// The query string, deserialized as `T`.
pub struct ApiQuery<T>(pub T);

/// The path parameters, deserialized as `T`.
pub struct ApiPath<T>(pub T);

fn request_id(extensions: &Extensions) -> Option<String> {
    extensions.get::<RequestMeta>().and_then(|m| m.request_id.clone())
}

fn invalid(errors: FieldErrors, request_id: Option<String>) -> Response {
    ApiError { error: AppError::Invalid(errors), request_id }.into_response()
}

/// 413: the body is over the limit (`BODY_LIMIT`).
pub fn too_large(request_id: Option<String>) -> Response {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Request too large",
        Some(format!("the request body is larger than {} bytes", crate::BODY_LIMIT)),
        vec![],
        request_id,
    )
}

fn body_rejection(rejection: BytesRejection, request_id: Option<String>) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(request_id);
    }
    invalid(FieldErrors::single("body", "could not be read"), request_id)
}

/// `application/json` or an `application/…+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The field a deserialization error is about: the path to where it failed, and for a
/// missing or unknown member that member (serde names it only in the message).
fn field_of(path: &serde_path_to_error::Path, message: &str) -> String {
    let at = path.to_string();
    let named = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (at.as_str(), named) {
        (".", Some(member)) => member.to_string(),
        (".", None) => "body".to_string(),
        (parent, Some(member)) if message.starts_with("missing field") => format!("{parent}.{member}"),
        (parent, _) => parent.to_string(),
    }
}

/// Deserializes a JSON value as `T`, naming the field that does not fit.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, FieldErrors> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let message = e.inner().to_string();
        FieldErrors::single(field_of(e.path(), &message), message)
    })
}

/// A JSON number as text, an integral one without a fraction (`1.0` is `1`: JSON Schema
/// counts both as the same integer).
pub fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        _ => n.to_string(),
    }
}

/// A JSON value that is a whole number (`1` or `1.0`).
pub fn whole_number(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e15).map(|f| f as i64))
}

/// Whether `c` is a control character that no text of the API may hold.
fn forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Names every string below `value` that holds a forbidden control character.
fn control_characters(value: &Value, at: &str, errors: &mut FieldErrors) {
    match value {
        Value::String(s) if s.chars().any(forbidden) => {
            errors.add(if at.is_empty() { "body" } else { at }, "contains control characters");
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                control_characters(item, &format!("{at}[{i}]"), errors);
            }
        }
        Value::Object(members) => {
            for (name, member) in members {
                let path = if at.is_empty() { name.clone() } else { format!("{at}.{name}") };
                control_characters(member, &path, errors);
            }
        }
        _ => {}
    }
}

/// Parses a JSON body, refusing control characters in its strings (`body` when it is not
/// JSON at all).
fn parse_body(bytes: &[u8]) -> Result<Value, FieldErrors> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| FieldErrors::single("body", format!("is not valid JSON: {e}")))?;
    let mut errors = FieldErrors::new();
    control_characters(&value, "", &mut errors);
    errors.into_result(|| value)
}

/// Parses a JSON body as `T`, naming the field that does not fit.
fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FieldErrors> {
    from_value(parse_body(bytes)?)
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let rid = request_id(req.extensions());
        if !is_json(req.headers()) {
            return Err(invalid(
                FieldErrors::single("body", "send a JSON body with `Content-Type: application/json`"),
                rid,
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| body_rejection(r, rid.clone()))?;
        from_slice(&bytes).map(ApiJson).map_err(|e| invalid(e, rid))
    }
}

impl<S: Send + Sync> FromRequest<S> for ApiObject {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let rid = request_id(req.extensions());
        match ApiJson::<Value>::from_request(req, state).await? {
            ApiJson(Value::Object(map)) => Ok(ApiObject(map)),
            ApiJson(_) => Err(invalid(FieldErrors::single("body", "must be a JSON object"), rid)),
        }
    }
}

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for ApiJsonOrEmpty<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let rid = request_id(req.extensions());
        let bytes = Bytes::from_request(req, state).await.map_err(|r| body_rejection(r, rid.clone()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJsonOrEmpty(T::default()));
        }
        match parse_body(&bytes) {
            Ok(Value::Null) => Ok(ApiJsonOrEmpty(T::default())),
            Ok(v @ Value::Object(_)) => from_value(v).map(ApiJsonOrEmpty).map_err(|e| invalid(e, rid)),
            Ok(_) => Err(invalid(FieldErrors::single("body", "must be a JSON object (or empty)"), rid)),
            Err(e) => Err(invalid(e, rid)),
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(ApiQuery).map_err(|e| {
            let message = e.inner().to_string();
            let field = field_of(e.path(), &message);
            let field = if field == "body" { "query".to_string() } else { field };
            invalid(FieldErrors::single(field, message), request_id(&parts.extensions))
        })
    }
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let rid = request_id(&parts.extensions);
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            // A segment that does not even decode (not UTF-8) names nothing that exists.
            Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(problem(StatusCode::NOT_FOUND, "Not found", Some("no such resource".into()), vec![], rid))
            }
            Err(other) => {
                tracing::error!(request_id = rid.as_deref().unwrap_or("-"), error = %other, "path parameters missing");
                Err(ApiError { error: AppError::Internal(other.body_text()), request_id: rid }.into_response())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        reason: String,
        dates: Vec<u32>,
        inner: Option<Inner>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    fn field(body: &str) -> String {
        let e = from_slice::<Input>(body.as_bytes()).unwrap_err();
        e.iter().next().unwrap().field.clone()
    }

    #[test]
    fn control_characters_are_refused_by_name() {
        let e =
            from_slice::<Value>(br#"{"a": "x\u0001", "b": ["ok\n\t", "\u007f"], "c": {"d": "\u0085"}}"#).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["a", "b[1]", "c.d"]);
        assert!(from_slice::<Value>(br#"{"a": "line\nbreak\r\ttab"}"#).is_ok());
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field(r#"{"dates": []}"#), "reason");
        assert_eq!(field(r#"{"reason": 1, "dates": []}"#), "reason");
        assert_eq!(field(r#"{"reason": "x", "dates": [1, "2"]}"#), "dates[1]");
        assert_eq!(field(r#"{"reason": "x", "dates": [], "other": 1}"#), "other");
        assert_eq!(field(r#"{"reason": "x", "dates": [], "inner": {}}"#), "inner.n");
        assert_eq!(field(r#"{"reason": "x", "dates": [], "inner": {"n": 300}}"#), "inner.n");
        assert_eq!(field(r#"{"reason": "x""#), "body");
        // serde reads a struct from an array too: the element that does not fit is named.
        assert_eq!(field(r#"[1]"#), "[0]");
        assert_eq!(field(r#""text""#), "body");
        assert_eq!(field(r#"{"reason": "x", "dates": []} trailing"#), "body");
    }

    #[test]
    fn json_content_types() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, v.parse().unwrap());
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
