//! Direct messages (SPEC R-MSG-4): one conversation per pair of users.

use super::extract::{AuthUser, Body};
use crate::app::error::ApiResult;
use crate::app::{AppState, dms, views};
use actix_web::HttpResponse;
use actix_web::web::Data;
use conclave_protocol::*;

/// Open (or find) the direct conversation with a user.
#[utoipa::path(post, path = "/api/dms", tag = "messages", security(("bearer" = [])), request_body = OpenDmRequest,
    responses((status = 200, body = RoomEnvelope), (status = 404, description = "user_not_found", body = ErrorBody),
              (status = 422, description = "invalid_target: yourself; validation_failed", body = ErrorBody)))]
pub async fn open(
    state: Data<AppState>,
    auth: AuthUser,
    Body(request): Body<OpenDmRequest>,
) -> ApiResult<HttpResponse> {
    let room = dms::open(&state, &auth, request).await?;
    Ok(HttpResponse::Ok().json(RoomEnvelope { room: views::room(&room) }))
}
