//! Health endpoints for orchestration (SPEC R-OPS-4).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
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
