//! What every response goes through (SPEC R-SEC-4, R-OPS-1, R-OPS-4): CORS limited to the
//! configured origins, security headers, the request id, and request metrics.

use crate::metrics::Metrics;
use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{RequestHead, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{Error, HttpMessage};
use std::sync::Arc;
use std::time::Instant;

/// The Content Security Policy: the web client's own files only (its WebAssembly needs
/// `wasm-unsafe-eval`; no inline scripts anywhere), no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The browser-facing policy of this server: which other origins may call it, and whether it is
/// served over HTTPS (HSTS).
#[derive(Debug, Clone)]
pub struct WebPolicy {
    origins: Arc<Vec<String>>,
    hsts: bool,
}

impl WebPolicy {
    pub fn new(origins: &[String], hsts: bool) -> Self {
        let origins = origins.iter().map(|o| o.trim().trim_end_matches('/').to_owned()).filter(|o| !o.is_empty());
        Self { origins: Arc::new(origins.collect()), hsts }
    }

    /// CORS: the server's own origin and the configured ones; bearer tokens, not cookies, so
    /// credentials are not allowed cross-origin.
    pub fn cors(&self) -> Cors {
        let origins = Arc::clone(&self.origins);
        Cors::default()
            .allowed_origin_fn(move |origin, head| {
                same_origin(origin, head) || origins.iter().any(|allowed| allowed.as_bytes() == origin.as_bytes())
            })
            .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
            .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
            .max_age(3600)
    }

    /// Headers on every response: no MIME sniffing, no framing, the CSP, no referrer, and HSTS
    /// when configured.
    pub fn security_headers(&self) -> DefaultHeaders {
        let headers = DefaultHeaders::new()
            .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .add((header::X_FRAME_OPTIONS, "DENY"))
            .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
            .add((header::REFERRER_POLICY, "no-referrer"))
            .add((HeaderName::from_static("cross-origin-opener-policy"), "same-origin"));
        if self.hsts {
            headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"))
        } else {
            headers
        }
    }
}

/// A request from a page this server served: its `Origin` is the server's own (`Host`).
fn same_origin(origin: &HeaderValue, head: &RequestHead) -> bool {
    let (Ok(origin), Some(host)) = (origin.to_str(), head.headers().get(header::HOST).and_then(|h| h.to_str().ok()))
    else {
        return false;
    };
    origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
}

/// Returns the request id (the one in this request's log lines) as `X-Request-Id`.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req.extensions().get::<tracing_actix_web::RequestId>().map(ToString::to_string);
    let mut response = next.call(req).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

/// Counts every answered request by route pattern, method and status, with its duration.
pub async fn count(
    metrics: Arc<Metrics>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let (started, method) = (Instant::now(), req.method().to_string());
    let response = next.call(req).await?;
    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    metrics.http_request(&route, &method, response.status().as_u16(), started.elapsed().as_secs_f64());
    Ok(response)
}
