//! A caller in a room: the room, and the caller's role in it. Every room command starts here.

use super::AppState;
use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use conclave_domain::{RoomAction, authorize};
use conclave_protocol::{ErrorCode, Role, RoomId, RoomKind, UserId};
use conclave_store::RoomRecord;

/// The room a command names, the caller, and the caller's role in it (`None`: not a member).
pub struct RoomAccess {
    pub user: AuthUser,
    pub room: RoomRecord,
    pub role: Option<Role>,
    /// In a direct room the caller is in: the other member.
    pub peer: Option<UserId>,
}

impl RoomAccess {
    /// `room_not_found` when there is no such room.
    pub async fn load(state: &AppState, room_id: RoomId, user: AuthUser) -> ApiResult<Self> {
        let room =
            state.store.room(&room_id).await?.ok_or_else(|| ApiError::new(ErrorCode::RoomNotFound, "no such room"))?;
        let role = state.store.membership(&room_id, &user.id).await?.map(|m| m.role);
        let peer = match (room.kind, role) {
            (RoomKind::Direct, Some(_)) => {
                state.store.direct_peers(&user.id, std::slice::from_ref(&room_id)).await?.pop().map(|(_, peer)| peer.id)
            }
            _ => None,
        };
        Ok(Self { user, room, role, peer })
    }

    pub fn authorize(&self, action: RoomAction) -> ApiResult<()> {
        authorize(self.room.kind, self.role, action).map_err(ApiError::from)
    }

    /// Refuses with `room_terminated` once the room is terminated (R-ROOM-6).
    pub fn live(&self) -> ApiResult<()> {
        match self.room.terminated_at {
            Some(_) => Err(ApiError::new(ErrorCode::RoomTerminated, "this room was terminated")),
            None => Ok(()),
        }
    }
}
