//! Request extractors that answer every bad input with the SPEC error shape: the bearer token
//! (R-ACC-4), the room a route names, JSON bodies with a size bound (R-SEC-3), and optional
//! JSON bodies.

use crate::app::AppState;
use crate::app::access::RoomAccess;
pub use crate::app::auth::AuthUser;
use crate::app::auth::{actor, verify_access_token};
use crate::app::error::ApiError;
use crate::app::error::ApiResult;
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Payload as BodyStream;
use actix_web::web::{Bytes, Data};
use actix_web::{FromRequest, HttpRequest};
use conclave_protocol::{ErrorCode, RoomId};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = authenticate(req);
        let state = req.app_data::<Data<AppState>>().cloned();
        Box::pin(async move {
            let (user, state) = (user?, state.ok_or_else(|| ApiError::internal("application state missing"))?);
            actor(&state, &user).await?;
            Ok(user)
        })
    }
}

/// The room named by the route's `{room_id}`, with the caller and their role in it. Answers 401
/// before it looks at the room, and `room_not_found` when there is no such room.
impl FromRequest for RoomAccess {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = authenticate(req);
        let state = req.app_data::<Data<AppState>>().cloned();
        let room_id = req.match_info().get("room_id").map(|id| RoomId(id.to_owned()));
        Box::pin(async move {
            let user = user?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let room_id = room_id.ok_or_else(|| ApiError::internal("route without {room_id}"))?;
            // The account still exists (R-ACC-7), checked alongside the room's reads.
            let (_, access) = tokio::try_join!(actor(&state, &user), RoomAccess::load(&state, room_id, user.clone()))?;
            Ok(access)
        })
    }
}

fn authenticate(req: &HttpRequest) -> Result<AuthUser, ApiError> {
    let state = req.app_data::<Data<AppState>>().ok_or_else(|| ApiError::internal("application state missing"))?;
    let header_value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::new(ErrorCode::TokenMissing, "send an access token: Authorization: Bearer <token>"))?;
    let token = header_value
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::TokenInvalid, "the Authorization header must be `Bearer <token>`"))?;
    verify_access_token(state, token)
}

/// A required JSON body.
#[derive(Debug)]
pub struct Body<T>(pub T);

/// A JSON body that may be absent; absent (or JSON `null`) means `T::default()`.
#[derive(Debug)]
pub struct OptionalBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = read_body(req, payload);
        Box::pin(async move {
            match bytes.await? {
                Some(bytes) => parse(&bytes).map(Body),
                None => Err(ApiError::new(ErrorCode::MalformedJson, "a JSON body is required")),
            }
        })
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = read_body(req, payload);
        Box::pin(async move {
            match bytes.await? {
                // JSON's `null` is no body too, as the document's optional body says.
                Some(bytes) => parse::<Option<T>>(&bytes).map(|body| OptionalBody(body.unwrap_or_default())),
                None => Ok(OptionalBody(T::default())),
            }
        })
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde reads a struct from a JSON array too (`[null, null]` as its fields in order): every
    // body of the API is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::new(ErrorCode::MalformedJson, "the body must be a JSON object, not an array"));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(ErrorCode::MalformedJson, format!("the body is not valid JSON for this request: {e}"))
    })
}

/// Reads the body within the size limit; `None` when it is empty. A non-empty body must be
/// declared `application/json`.
fn read_body(req: &HttpRequest, payload: &mut Payload) -> LocalBoxFuture<'static, Result<Option<Bytes>, ApiError>> {
    let is_json =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).map(
            |v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            },
        );
    let bytes = Bytes::from_request(req, payload);
    Box::pin(async move {
        let bytes = bytes.await.map_err(|error| {
            let too_large = error.as_error::<PayloadError>().is_some_and(|e| matches!(e, PayloadError::Overflow))
                || error.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE;
            if too_large {
                ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
            } else {
                ApiError::new(ErrorCode::MalformedJson, format!("the request body could not be read: {error}"))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        match is_json {
            Some(true) => Ok(Some(bytes)),
            _ => Err(ApiError::new(ErrorCode::UnsupportedMediaType, "send the body as Content-Type: application/json")),
        }
    })
}

/// Reads a raw request body (a file), refusing it with `too_large` as soon as it passes `max`
/// bytes.
pub async fn read_limited(
    req: &HttpRequest,
    mut payload: BodyStream,
    max: usize,
    too_large: String,
) -> ApiResult<Vec<u8>> {
    let too_large = || ApiError::new(ErrorCode::PayloadTooLarge, too_large.clone());
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(max));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(ErrorCode::MalformedJson, format!("the upload broke off: {e}")))?;
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The client's address: the socket's peer, or, when that peer is a trusted proxy, the nearest
/// address of `X-Forwarded-For` that is not itself a trusted proxy (addresses further left are
/// whatever the client claimed, so they are never believed).
pub fn client_address(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    Some(forwarded_client(peer, &forwarded, trusted))
}

/// The rule of [`client_address`], apart from the request.
fn forwarded_client(peer: std::net::IpAddr, forwarded: &[&str], trusted: &[ipnet::IpNet]) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        let Ok(ip) = hop.trim().parse::<std::net::IpAddr>() else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    /// The header is believed only from a trusted proxy, and only as far as trusted hops go.
    #[test]
    fn forwarded_addresses_count_only_through_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("a CIDR")];
        assert_eq!(forwarded_client(ip("203.0.113.9"), &["1.2.3.4"], &trusted), ip("203.0.113.9"), "not a proxy");
        assert_eq!(forwarded_client(ip("10.0.0.2"), &["198.51.100.7"], &trusted), ip("198.51.100.7"));
        assert_eq!(
            forwarded_client(ip("10.0.0.2"), &["6.6.6.6", "198.51.100.7", "10.0.0.3"], &trusted),
            ip("198.51.100.7"),
            "the nearest untrusted hop; what the client wrote before it is ignored"
        );
        assert_eq!(forwarded_client(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
        assert_eq!(forwarded_client(ip("10.0.0.2"), &["garbage"], &trusted), ip("10.0.0.2"));
        assert_eq!(forwarded_client(ip("10.0.0.2"), &["1.2.3.4"], &[]), ip("10.0.0.2"), "nobody trusted");
    }
}
