//! Direct messages (SPEC R-MSG-4): one conversation per pair of users.

use super::extract::{AuthUser, Body};
use super::rooms::{actor, named_user};
use super::views;
use crate::error::{ApiError, ApiResult};
use crate::gateway::hub::Event;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::Data;
use chrono::Utc;
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
    let peer = named_user(&state, request.user_id.as_ref(), request.username.as_deref()).await?;
    if peer.id == auth.id {
        return Err(ApiError::new(ErrorCode::InvalidTarget, "you cannot open a conversation with yourself"));
    }
    let me = actor(&state, &auth).await?;
    let mut names = [me.username.as_str(), peer.username.as_str()];
    names.sort_unstable();
    let room = state.store.open_direct_room(&me.id, &peer.id, &names.join(", "), Utc::now()).await?;
    for user in [&me.id, &peer.id] {
        state.bus.publish(Event::Subscribe { room: room.id.clone(), user: user.clone() });
    }
    Ok(HttpResponse::Ok().json(RoomEnvelope { room: views::room(&room) }))
}
