//! Health endpoints for orchestration (SPEC R-OPS-4).

use crate::app::AppState;
use crate::app::error::{ApiError, ApiResult};
use actix_web::HttpResponse;
use actix_web::web::Data;
use conclave_protocol::ErrorCode;
use serde_json::json;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The process can serve: its store answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "unavailable", body = conclave_protocol::ErrorBody)))]
pub async fn readyz(state: Data<AppState>) -> ApiResult<HttpResponse> {
    match state.store.ping().await {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({ "status": "ready", "store": "ok" }))),
        Err(error) => {
            tracing::warn!(%error, "store not ready");
            Err(ApiError::new(ErrorCode::Unavailable, "the store does not answer"))
        }
    }
}

/// Prometheus metrics: HTTP requests by route and status, WebSocket connections, messages sent,
/// deliveries, slow consumers dropped, background job runs.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain")))]
pub async fn metrics(state: Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render(&state.hub))
}
