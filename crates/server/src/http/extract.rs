//! Request extractors that answer every bad input with the SPEC error shape: the bearer token
//! (R-ACC-4), JSON bodies with a size bound (R-SEC-3), and optional JSON bodies.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{Bytes, Data};
use actix_web::{FromRequest, HttpRequest};
use conclave_crypto::TokenError;
use conclave_protocol::{ErrorCode, UserId};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// The user behind a valid access token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticate(req))
    }
}

pub(crate) fn authenticate(req: &HttpRequest) -> Result<AuthUser, ApiError> {
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

/// Who an access token speaks for, or why it is refused: the one check for REST and the gateway.
pub(crate) fn verify_access_token(state: &AppState, token: &str) -> Result<AuthUser, ApiError> {
    match state.tokens.verify(token) {
        Ok(claims) => Ok(AuthUser { id: UserId(claims.sub) }),
        Err(TokenError::Expired) => {
            Err(ApiError::new(ErrorCode::TokenExpired, "the access token has expired; refresh it"))
        }
        Err(_) => Err(ApiError::new(ErrorCode::TokenInvalid, "the access token is invalid")),
    }
}

/// A required JSON body.
#[derive(Debug)]
pub struct Body<T>(pub T);

/// A JSON body that may be absent; absent means `T::default()`.
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
                Some(bytes) => parse(&bytes).map(OptionalBody),
                None => Ok(OptionalBody(T::default())),
            }
        })
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
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
