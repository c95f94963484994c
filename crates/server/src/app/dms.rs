//! Direct messages (SPEC R-MSG-4): one conversation per pair of users.

use super::AppState;
use super::accounts::named_user;
use super::auth::{AuthUser, actor};
use super::error::{ApiError, ApiResult};
use crate::live::hub::Event;
use chrono::Utc;
use conclave_protocol::{ErrorCode, OpenDmRequest};
use conclave_store::RoomRecord;

/// Open (or find) the caller's direct conversation with a user; both their sessions receive it.
pub async fn open(state: &AppState, auth: &AuthUser, request: OpenDmRequest) -> ApiResult<RoomRecord> {
    let peer = named_user(state, request.user_id.as_ref(), request.username.as_deref()).await?;
    if peer.id == auth.id {
        return Err(ApiError::new(ErrorCode::InvalidTarget, "you cannot open a conversation with yourself"));
    }
    let me = actor(state, auth).await?;
    let mut names = [me.username.as_str(), peer.username.as_str()];
    names.sort_unstable();
    let room = state.store.open_direct_room(&me.id, &peer.id, &names.join(", "), Utc::now()).await?;
    for user in [&me.id, &peer.id] {
        state.bus.publish(Event::Subscribe { room: room.id.clone(), user: user.clone() });
    }
    Ok(room)
}
