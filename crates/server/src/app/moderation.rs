//! Room moderation: invites, join requests, kicks, bans and roles (SPEC R-ROOM-2 to R-ROOM-4).

use super::AppState;
use super::access::RoomAccess;
use super::accounts::named_user;
use super::error::{ApiError, ApiResult};
use super::events;
use super::notify;
use super::rooms::announce_departure;
use chrono::Utc;
use conclave_domain::{InviteContext, RoomAction, Target, may_invite};
use conclave_protocol::{ErrorCode, InviteRequest, LeaveReason, Role, UserId};
use conclave_store::{BanRecord, DeferredWrite, InviteRecord, JoinRequestRecord, MembershipRecord};

/// `user` as the room sees them, for the caller's action on them.
async fn target(state: &AppState, access: &RoomAccess, user: &UserId) -> ApiResult<Target> {
    let role = state.store.membership(&access.room.id, user).await?.map(|m| m.role);
    Ok(Target { role, is_self: *user == access.user.id })
}

/// Invite a user by id or username (admins, R-ROOM-2); the invitee is notified.
pub async fn invite(state: &AppState, access: &RoomAccess, request: InviteRequest) -> ApiResult<InviteRecord> {
    let (auth, room_id) = (&access.user, &access.room.id);
    access.authorize(RoomAction::Invite)?;
    let invitee = named_user(state, request.user_id.as_ref(), request.username.as_deref()).await?;
    let store = &state.store;
    may_invite(InviteContext {
        terminated: access.room.terminated_at.is_some(),
        banned: store.is_banned(room_id, &invitee.id).await?,
        already_member: store.membership(room_id, &invitee.id).await?.is_some(),
        already_invited: store.invite(room_id, &invitee.id).await?.is_some(),
    })?;
    // The invitee's notice is stored with the invitation.
    let invited = store.create_invite(room_id, &invitee.id, &auth.id, Utc::now()).await?;
    notify::push(state.bus.as_ref(), &invited.notices);
    Ok(invited.invite)
}

/// Pending join requests, oldest first (admins).
pub async fn requests(state: &AppState, access: &RoomAccess) -> ApiResult<Vec<JoinRequestRecord>> {
    access.authorize(RoomAction::ManageRequests)?;
    Ok(state.store.join_requests(&access.room.id).await?)
}

fn no_request() -> ApiError {
    ApiError::new(ErrorCode::RequestNotFound, "no pending join request from that user")
}

/// Accept `user`'s join request (admins): they become a member and are notified.
pub async fn accept(state: &AppState, access: &RoomAccess, user: &UserId) -> ApiResult<MembershipRecord> {
    let room_id = &access.room.id;
    access.authorize(RoomAction::ManageRequests)?;
    access.live()?;
    let request = state.store.join_request(room_id, user).await?.ok_or_else(no_request)?;
    // The store marks every admin's notice of this request handled (R-ROOM-9) and keeps the new
    // member's notice with the membership.
    let admitted = state.store.add_member(room_id, user, Role::Member, &access.user.id, Utc::now()).await?;
    events::member_joined(state, room_id, &request.user);
    notify::push(state.bus.as_ref(), &admitted.notices);
    Ok(admitted.membership)
}

/// Decline `user`'s join request (admins). A buffered write (R-OPS-3): the request goes, the
/// user's notice is stored and the admins' notices are handled in one write, and the notice is
/// told live once stored.
pub async fn decline(state: &AppState, access: &RoomAccess, user: &UserId) -> ApiResult<()> {
    let room_id = &access.room.id;
    access.authorize(RoomAction::ManageRequests)?;
    if state.store.join_request(room_id, user).await?.is_none() {
        return Err(no_request());
    }
    let by = access.user.id.clone();
    state
        .deferred
        .defer(DeferredWrite::DeclineRequest { room: room_id.clone(), user: user.clone(), by, at: Utc::now() })
        .await?;
    Ok(())
}

/// Kick a member (admins; not the owner, nor an admin unless the caller is the owner). R-ROOM-3.
pub async fn kick(state: &AppState, access: &RoomAccess, user: &UserId) -> ApiResult<()> {
    let (auth, room_id) = (&access.user, &access.room.id);
    access.authorize(RoomAction::Kick(target(state, access, user).await?))?;
    // The kicked member's notice is stored with the departure (and told by `announce_departure`).
    let outcome = state.store.remove_member(room_id, user, LeaveReason::Kicked, &auth.id, Utc::now()).await?;
    announce_departure(state, &access.room, &outcome, LeaveReason::Kicked).await;
    Ok(())
}

/// Ban a user (admins, R-ROOM-4): removed if a member, kept out until unbanned, notified.
pub async fn ban(state: &AppState, access: &RoomAccess, user: &UserId) -> ApiResult<BanRecord> {
    let (auth, room_id) = (&access.user, &access.room.id);
    let banned = named_user(state, Some(user), None).await?;
    access.authorize(RoomAction::Ban(target(state, access, &banned.id).await?))?;
    access.live()?;
    // The banned user's notice is stored with the ban.
    let outcome = state.store.ban(room_id, &banned.id, &auth.id, Utc::now()).await?;
    notify::push(state.bus.as_ref(), &outcome.notices);
    if let Some(departure) = &outcome.departure {
        announce_departure(state, &access.room, departure, LeaveReason::Banned).await;
    }
    Ok(outcome.ban)
}

/// The room's bans, newest first (admins).
pub async fn bans(state: &AppState, access: &RoomAccess) -> ApiResult<Vec<BanRecord>> {
    access.authorize(RoomAction::Unban)?;
    Ok(state.store.bans(&access.room.id).await?)
}

/// Lift a ban (admins); the user is notified.
pub async fn unban(state: &AppState, access: &RoomAccess, user: &UserId) -> ApiResult<()> {
    access.authorize(RoomAction::Unban)?;
    // The user's notice is stored with the unban.
    let notices = state.store.unban(&access.room.id, user, &access.user.id, Utc::now()).await?;
    notify::push(state.bus.as_ref(), &notices);
    Ok(())
}

/// Make a member admin or take it back (owner only); the member is notified.
pub async fn set_role(state: &AppState, access: &RoomAccess, user: &UserId, role: Role) -> ApiResult<MembershipRecord> {
    let (auth, room_id) = (&access.user, &access.room.id);
    let target = target(state, access, user).await?;
    access.authorize(RoomAction::ChangeRole(target))?;
    access.live()?;
    // The member's notice (when the role changes) is stored with the change.
    let change = state.store.set_role(room_id, user, role, &auth.id, Utc::now()).await?;
    if target.role != Some(role) {
        events::role_changed(state.bus.as_ref(), room_id, user, role);
    }
    notify::push(state.bus.as_ref(), &change.notices);
    Ok(change.membership)
}
