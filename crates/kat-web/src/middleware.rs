//! Cross-cutting request handling: request metadata, sign-in resolution, security
//! headers and privacy-safe request logging.

use crate::AppState;
use crate::config::CookieSecure;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use kat_app::auth::{self, Credential, Resolved};
use kat_app::{Actor, Ctx};
use kat_core::user::User;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SESSION_COOKIE: &str = "kat_session";
/// The session cookie's name when it is `Secure`: the `__Host-` prefix makes browsers
/// refuse it unless it is Secure, for the whole host (`Path=/`) and set by this host.
pub const SECURE_SESSION_COOKIE: &str = "__Host-kat_session";

/// The session secret a request carries, under either name.
pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SECURE_SESSION_COOKIE)
        .filter(|s| !s.is_empty())
        .or_else(|| cookie_value(headers, SESSION_COOKIE).filter(|s| !s.is_empty()))
}

/// Facts about the request that every use case records.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub remote_addr: String,
    pub request_id: Option<String>,
    /// The request reached kat over TLS (directly or via a proxy that says so).
    pub tls: bool,
}

/// The signed-in user of this request, if any.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub credential: Credential,
    /// The clinic requires this role to use two-step sign-in and it has not enrolled:
    /// only the enrolment page is open (the navigation is not shown).
    pub must_enrol_mfa: bool,
    /// Open same-day reviews (a count, no patient data); filled for clinical staff pages.
    pub same_day_open: i64,
    /// Unacknowledged safety alerts, counted for page requests of roles that handle
    /// them (the banner on every staff page); 0 otherwise.
    pub open_safety_alerts: i64,
}

/// Marks a request whose session has just timed out, so pages can say so.
#[derive(Debug, Clone, Copy)]
pub struct SessionExpired;

/// A client's `X-Request-Id` is kept only when it is short and well-formed: 1 to 64
/// characters of letters, digits, `-`, `_`, `.` and `:`. Anything else is dropped, and
/// the server makes an id of its own (a UUID).
pub fn well_formed_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Drops a malformed `X-Request-Id` before the server sets its own (the outermost layer).
pub async fn drop_malformed_request_id(mut req: Request, next: Next) -> Response {
    let keep = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).is_some_and(well_formed_request_id);
    if !keep {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest
/// address of `X-Forwarded-For` (read from the right) that is not itself a trusted
/// proxy. A forwarded value that is not an address is ignored.
pub fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    let Some(peer) = peer else { return "unknown".into() };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded.into_iter().rev().find(|a| !trusted.contains(a)).unwrap_or(peer).to_string()
}

fn peer(req: &Request) -> Option<IpAddr> {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip())
}

/// Whether the request reached kat over TLS: directly (kat serves HTTPS itself, so every
/// request did), or through a trusted proxy that says so with `X-Forwarded-Proto: https`.
fn over_tls(req: &Request, config: &crate::config::WebConfig) -> bool {
    config.serves_tls
        || req.uri().scheme_str() == Some("https")
        || (peer(req).is_some_and(|p| config.trusted_proxies.contains(&p))
            && req.headers().get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https")))
}

fn request_meta(req: &Request, config: &crate::config::WebConfig) -> RequestMeta {
    let trusted = &config.trusted_proxies;
    let remote_addr = client_addr(peer(req), req.headers(), trusted);
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| well_formed_request_id(id))
        .map(str::to_string);
    RequestMeta { remote_addr, request_id, tls: over_tls(req, config) }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Builds the `Set-Cookie` header for a session secret (or its removal).
pub fn session_cookie(state: &AppState, meta: &RequestMeta, secret: Option<&str>) -> HeaderValue {
    let secure = match state.config.cookie_secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => meta.tls,
    };
    let name = if secure { SECURE_SESSION_COOKIE } else { SESSION_COOKIE };
    let mut cookie = match secret {
        Some(s) => format!("{name}={s}; Path=/; HttpOnly; SameSite=Lax"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    };
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).expect("cookie is ASCII")
}

/// Resolves who is calling (bearer token or session cookie) once per request.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let meta = request_meta(&req, &state.config);
    let now = state.clock.now();
    let ctx =
        Ctx::new(Actor::Anonymous, meta.remote_addr.clone(), meta.request_id.clone(), now, &state.config.time_zone);
    let mut expired = false;
    let resolved = if let Some(token) = bearer(req.headers()) {
        auth::resolve_token(state.store.as_ref(), now, &token).await
    } else if let Some(secret) = session_secret(req.headers()) {
        auth::resolve_session(
            state.store.as_ref(),
            &ctx,
            &secret,
            state.config.idle_timeout,
            state.config.absolute_timeout,
            auth::Activity::Request,
        )
        .await
    } else {
        Ok(Resolved::None)
    };
    match resolved {
        Ok(Resolved::User(user, credential)) => {
            if user.must_change_password && !open_while_password_must_change(req.uri().path()) {
                return password_change_required(&req, &meta);
            }
            // A role the clinic requires to use two-step sign-in, not enrolled yet, reaches
            // only the enrolment page (issue 12 item 2). API tokens are not sessions and
            // are unaffected.
            let path = req.uri().path();
            let must_enrol_mfa = !user.must_change_password
                && matches!(credential, Credential::Session { .. })
                && state.config.mfa.requires(user.role)
                && !path.starts_with("/static/")
                && match kat_app::mfa::is_enrolled(state.store.as_ref(), user.id).await {
                    Ok(enrolled) => !enrolled,
                    Err(e) => {
                        tracing::error!(request_id = ?meta.request_id, error = %e, "enrolment lookup failed");
                        return crate::error::internal_page(meta.request_id.as_deref());
                    }
                };
            if must_enrol_mfa && !open_while_enrolling(path) {
                return enrolment_required(&req, &meta);
            }
            req.extensions_mut().insert(Principal {
                user,
                credential,
                must_enrol_mfa,
                same_day_open: 0,
                open_safety_alerts: 0,
            });
        }
        Ok(Resolved::Expired) => {
            expired = true;
            req.extensions_mut().insert(SessionExpired);
        }
        Ok(Resolved::None) => {}
        Err(e) => {
            tracing::error!(request_id = ?meta.request_id, error = %e, "authentication lookup failed");
            return crate::error::internal_page(meta.request_id.as_deref());
        }
    }
    req.extensions_mut().insert(meta.clone());
    let mut response = next.run(req).await;
    if expired {
        response.headers_mut().append(header::SET_COOKIE, session_cookie(&state, &meta, None));
    }
    response
}

/// The change-password page: where an account whose password an admin reset is sent.
pub const CHANGE_PASSWORD_PATH: &str = "/account/password";

/// What an account whose password an admin reset may still reach (issue 12 item 4): the
/// change-password page, signing out, and the static files those pages need.
fn open_while_password_must_change(path: &str) -> bool {
    path == CHANGE_PASSWORD_PATH || path == "/logout" || path == "/healthz" || path.starts_with("/static/")
}

/// The answer to any other request of such an account: the API is refused (403), a page
/// is sent to the change-password page (htmx is told to go there as a whole page).
fn password_change_required(req: &Request, meta: &RequestMeta) -> Response {
    use axum::response::IntoResponse;
    if req.uri().path().starts_with("/api/") {
        return crate::error::problem(
            axum::http::StatusCode::FORBIDDEN,
            "Password change required",
            Some(format!("an administrator reset this account's password; change it at {CHANGE_PASSWORD_PATH} first")),
            vec![],
            meta.request_id.clone(),
        );
    }
    if req.headers().contains_key("hx-request") {
        let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
        r.headers_mut().insert("hx-redirect", HeaderValue::from_static(CHANGE_PASSWORD_PATH));
        return r;
    }
    axum::response::Redirect::to(CHANGE_PASSWORD_PATH).into_response()
}

/// The two-step sign-in page: where an account whose role must enrol is sent.
pub const MFA_PATH: &str = "/account/mfa";

/// What an account whose role must use two-step sign-in may reach before it has enrolled.
fn open_while_enrolling(path: &str) -> bool {
    path == MFA_PATH || path == "/logout" || path == "/healthz" || path.starts_with("/static/")
}

/// The answer to any other request of such an account: the API is refused (403), a page
/// is sent to the enrolment page (htmx is told to go there as a whole page).
fn enrolment_required(req: &Request, meta: &RequestMeta) -> Response {
    use axum::response::IntoResponse;
    if req.uri().path().starts_with("/api/") {
        return crate::error::problem(
            axum::http::StatusCode::FORBIDDEN,
            "Two-step sign-in required",
            Some(format!("the clinic requires this role to set up two-step sign-in at {MFA_PATH} first")),
            vec![],
            meta.request_id.clone(),
        );
    }
    if req.headers().contains_key("hx-request") {
        let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
        r.headers_mut().insert("hx-redirect", HeaderValue::from_static(MFA_PATH));
        return r;
    }
    axum::response::Redirect::to(MFA_PATH).into_response()
}

/// An API request whose declared length is over the body limit: refused with a 413
/// problem document before the body-limit layer (which answers in plain text) sees it. A
/// body without a declared length is cut at the limit by that layer, and the API's body
/// extractor answers the same 413 problem.
pub async fn api_body_limit(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if req.uri().path().starts_with("/api/") && declared.is_some_and(|n| n > crate::BODY_LIMIT as u64) {
        let request_id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|id| well_formed_request_id(id))
            .map(str::to_string);
        return crate::api::too_large(request_id);
    }
    next.run(req).await
}

/// Strict security headers on every response. Scripts and styles come only from this
/// origin; nothing may frame kat; pages with patient data are never cached.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let tls = over_tls(&req, &state.config);
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    if tls {
        // Served over HTTPS: browsers keep to HTTPS for this host for a year.
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
             object-src 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The route template a request matched (`/r/{token}`), carried on the response so that
/// the request log can name the route without the path's values.
#[derive(Clone)]
struct RouteTemplate(String);

/// Copies the matched route template onto the response (a route layer: runs only for
/// requests that matched a route).
pub async fn record_route(req: Request, next: Next) -> Response {
    let template = req.extensions().get::<axum::extract::MatchedPath>().map(|m| RouteTemplate(m.as_str().to_string()));
    let mut response = next.run(req).await;
    if let Some(t) = template {
        response.extensions_mut().insert(t);
    }
    response
}

/// A path with every segment that is not a plain word (letters, `-`, `_`, `.`) replaced
/// by `{…}`: for requests refused before routing, so that an id or a one-time token
/// typed into a URL never reaches the log.
fn redacted_path(path: &str) -> String {
    path.split('/')
        .map(
            |seg| {
                if seg.chars().all(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '_' | '.')) { seg } else { "{…}" }
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Logs method, route template, status and duration. Never a path's values (one-time
/// link tokens are in paths), the query string or the body, which can hold patient
/// names.
pub async fn trace(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let raw_path = req.uri().path().to_string();
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let response = next.run(req).await;
    let path = match response.extensions().get::<RouteTemplate>() {
        Some(RouteTemplate(t)) => t.clone(),
        None => redacted_path(&raw_path),
    };
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        ms = start.elapsed().as_millis() as u64,
        request_id = request_id.as_deref().unwrap_or("-"),
        "request"
    );
    response
}

#[cfg(test)]
mod request_tests {
    use super::{HeaderMap, client_addr, well_formed_request_id};
    use std::net::IpAddr;

    #[test]
    fn request_ids_are_kept_only_short_and_well_formed() {
        assert!(well_formed_request_id("abc-123_x.y:z"));
        assert!(well_formed_request_id(&"a".repeat(64)));
        assert!(!well_formed_request_id(&"a".repeat(65)), "65 characters");
        assert!(!well_formed_request_id(""));
        for bad in ["a b", "a\"b", "é", "a/b", "<script>"] {
            assert!(!well_formed_request_id(bad), "{bad}");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let trusted = [ip("127.0.0.1"), ip("10.0.0.2")];
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.7, 198.51.100.1, 10.0.0.2".parse().unwrap());
        // From a trusted proxy: the nearest untrusted address, read from the right.
        assert_eq!(client_addr(Some(ip("127.0.0.1")), &h, &trusted), "198.51.100.1");
        // From anyone else the header is ignored.
        assert_eq!(client_addr(Some(ip("192.0.2.9")), &h, &trusted), "192.0.2.9");
        // Garbage and an all-trusted chain leave the peer.
        h.insert("x-forwarded-for", "not-an-address, 10.0.0.2".parse().unwrap());
        assert_eq!(client_addr(Some(ip("127.0.0.1")), &h, &trusted), "127.0.0.1");
        assert_eq!(client_addr(None, &h, &trusted), "unknown");
    }
}

#[cfg(test)]
mod log_tests {
    use super::redacted_path;

    #[test]
    fn unmatched_paths_lose_every_value() {
        let token = "3f9a".repeat(16);
        assert_eq!(redacted_path(&format!("/r/{token}")), "/r/{…}");
        assert_eq!(redacted_path("/patients/0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b/intake"), "/patients/{…}/intake");
        assert_eq!(redacted_path("/static/kat.css"), "/static/kat.css");
        assert_eq!(redacted_path("/"), "/");
    }
}
