//! Rooms: create, search, list, read, change, terminate, join, leave, members, read markers
//! (SPEC R-ROOM-1, R-ROOM-2, R-ROOM-5 to R-ROOM-8).

use super::AppState;
use super::access::RoomAccess;
use super::auth::{AuthUser, actor};
use super::error::{ApiError, ApiResult};
use super::events;
use super::notify;
use super::views;
use crate::live::hub::Event;
use chrono::Utc;
use conclave_domain::{
    Departure, FieldErrors, JoinContext, JoinPath, PageLimit, PasswordChange, RoomAction, RoomName, RoomPassword,
    SearchPrefix, Topic, ViewContext, join_path, may_view, password_change,
};
use conclave_protocol::{
    CreateRoomRequest, ErrorCode, JoinRoomRequest, LeaveReason, MyRoom, Role, RoomId, RoomKind, UpdateRoomRequest,
    UserId,
};
use conclave_store::{
    Change, DeferredWrite, DepartureRecord, JoinRequestRecord, MemberRecord, MembershipRecord, MyRoomRecord, NewRoom,
    RoomLogCursor, RoomLogRecord, RoomPatch, RoomRecord, RoomSearchCursor, UserRecord,
};
use std::collections::HashMap;

async fn hash_room_password(state: &AppState, password: RoomPassword) -> ApiResult<String> {
    state.passwords.hash(password.expose().to_owned()).await
}

/// Create a room (R-ROOM-1); the creator is its owner, and their sessions receive it at once.
pub async fn create(state: &AppState, auth: &AuthUser, request: CreateRoomRequest) -> ApiResult<RoomRecord> {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", RoomName::parse(&request.name));
    let topic = errors.check("topic", Topic::parse_optional(request.topic.as_deref()));
    let password = errors.check("password", password_change(request.join_policy, request.password.as_deref(), false));
    let (Some(name), Some(topic), Some(password)) = (name, topic, password) else {
        return Err(errors.into());
    };
    let password_hash = match password {
        PasswordChange::Set(password) => Some(hash_room_password(state, password).await?),
        PasswordChange::Keep | PasswordChange::Clear => None,
    };
    let new = NewRoom {
        name: name.as_str().to_owned(),
        topic: topic.map(|t| t.as_str().to_owned()),
        join_policy: request.join_policy,
        password_hash,
    };
    let room = state.store.create_room(new, &auth.id, Utc::now()).await?;
    // The owner's open sessions receive the new room from now on (R-WS-2).
    state.bus.publish(Event::Subscribe { room: room.id.clone(), user: auth.id.clone() });
    tracing::info!(room_id = %room.id, owner = %auth.id, "room created");
    Ok(room)
}

/// Listed rooms whose name starts with `prefix` (R-ROOM-8): never invite-only rooms, never
/// rooms that ban the caller. Up to `limit + 1`, the extra one saying that more follow.
pub async fn search(
    state: &AppState,
    auth: &AuthUser,
    prefix: &SearchPrefix,
    after: Option<&RoomSearchCursor>,
    limit: u32,
) -> ApiResult<Vec<RoomRecord>> {
    Ok(state.store.search_rooms(prefix.as_str(), &auth.id, after, limit + 1).await?)
}

/// One page of `user`'s rooms, in the order they joined them, and the join sequence number to
/// continue after when there are more.
pub async fn mine(
    state: &AppState,
    user: &UserId,
    after: Option<i64>,
    limit: u32,
) -> ApiResult<(Vec<MyRoom>, Option<i64>)> {
    let found = state.store.rooms_of_user(user, after, limit + 1).await?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = found.len() > limit;
    let kept: Vec<MyRoomRecord> = found.into_iter().take(limit).collect();
    let next = if more { kept.last().map(|r| r.membership.join_seq) } else { None };
    let direct: Vec<RoomId> =
        kept.iter().filter(|r| r.room.kind == RoomKind::Direct).map(|r| r.room.id.clone()).collect();
    let mut peers: HashMap<RoomId, UserRecord> = if direct.is_empty() {
        HashMap::new()
    } else {
        state.store.direct_peers(user, &direct).await?.into_iter().collect()
    };
    let items = kept
        .iter()
        .map(|record| MyRoom {
            room: views::room(&record.room),
            role: views::role(record.room.kind, record.membership.role),
            unread_count: record.unread_count,
            peer: peers.remove(&record.room.id).map(|peer| views::user(&peer, &state.hub)),
            last_read_seq: record.membership.last_read_seq,
            last_message_at: record.last_message_at,
        })
        .collect();
    Ok((items, next))
}

/// All of `user`'s rooms (the gateway's `ready` frame).
pub async fn all_mine(state: &AppState, user: &UserId) -> ApiResult<Vec<MyRoom>> {
    let (mut rooms, mut after) = (Vec::new(), None);
    loop {
        let (items, next) = mine(state, user, after, PageLimit::DIRECTORY.1).await?;
        rooms.extend(items);
        match next {
            Some(next) => after = Some(next),
            None => return Ok(rooms),
        }
    }
}

/// Rooms the caller was in and left, was kicked or banned from, or that were terminated
/// (R-ROOM-7), newest first: up to `limit + 1`.
pub async fn history(
    state: &AppState,
    auth: &AuthUser,
    after: Option<&RoomLogCursor>,
    limit: u32,
) -> ApiResult<Vec<RoomLogRecord>> {
    Ok(state.store.room_log(&auth.id, after, limit + 1).await?)
}

/// A room, as the caller may see it: its members always; others when it is listed or they are
/// invited, never when it bans them.
pub async fn get(state: &AppState, access: &RoomAccess) -> ApiResult<()> {
    if access.role.is_some() {
        return Ok(());
    }
    let (room, user) = (&access.room, &access.user.id);
    let banned = state.store.is_banned(&room.id, user).await?;
    // Whether they hold an invite only matters for a room that is not listed.
    let invited = !banned && !room.join_policy.is_listed() && state.store.invite(&room.id, user).await?.is_some();
    Ok(may_view(ViewContext { kind: room.kind, policy: room.join_policy, banned, invited })?)
}

/// Change the room's settings (owner only, R-ROOM-2).
pub async fn update(state: &AppState, access: &RoomAccess, request: UpdateRoomRequest) -> ApiResult<RoomRecord> {
    access.authorize(RoomAction::UpdateSettings)?;
    access.live()?;
    let mut errors = FieldErrors::new();
    let name = request.name.as_deref().and_then(|n| errors.check("name", RoomName::parse(n)));
    // `Some(None)`: the topic is cleared.
    let topic = request.topic.as_deref().and_then(|t| errors.check("topic", Topic::parse_optional(Some(t))));
    let policy = request.join_policy.unwrap_or(access.room.join_policy);
    let had_password = access.room.password_hash.is_some();
    let password = errors.check("password", password_change(policy, request.password.as_deref(), had_password));
    errors.finish()?;
    let password_hash = match password {
        Some(PasswordChange::Set(password)) => Change::Set(hash_room_password(state, password).await?),
        Some(PasswordChange::Clear) => Change::Clear,
        Some(PasswordChange::Keep) | None => Change::Keep,
    };
    let topic = match topic {
        None => Change::Keep,
        Some(Some(topic)) => Change::Set(topic.as_str().to_owned()),
        // An empty topic clears it.
        Some(None) => Change::Clear,
    };
    let patch =
        RoomPatch { name: name.map(|n| n.as_str().to_owned()), topic, join_policy: request.join_policy, password_hash };
    Ok(state.store.update_room(&access.room.id, patch).await?)
}

/// Terminate the room (owner only, R-ROOM-2, R-ROOM-6); every member is told.
pub async fn terminate(state: &AppState, access: &RoomAccess) -> ApiResult<()> {
    let (auth, room_id) = (&access.user, &access.room.id);
    access.authorize(RoomAction::Delete)?;
    access.live()?;
    // Every other former member's notice is stored with the termination.
    let ended = state.store.terminate_room(room_id, &auth.id, Utc::now()).await?;
    notify::push(state.bus.as_ref(), &ended.notices);
    events::room_terminated(state.bus.as_ref(), room_id);
    tracing::info!(room_id = %room_id, by = %auth.id, "room terminated by its owner");
    Ok(())
}

/// What a join did.
pub enum Joined {
    /// The caller is a member now.
    Member(MembershipRecord),
    /// The caller's request waits for the room's admins (request rooms).
    Requested(JoinRequestRecord),
}

/// Join a room (R-ROOM-1): at once for open rooms and invitees, with the password for password
/// rooms, or as a join request for request rooms.
pub async fn join(state: &AppState, access: &RoomAccess, request: JoinRoomRequest) -> ApiResult<Joined> {
    let (auth, room_id) = (&access.user, &access.room.id);
    let store = &state.store;
    let context = JoinContext {
        kind: access.room.kind,
        policy: access.room.join_policy,
        terminated: access.room.terminated_at.is_some(),
        banned: store.is_banned(room_id, &auth.id).await?,
        already_member: access.role.is_some(),
        invited: store.invite(room_id, &auth.id).await?.is_some(),
        request_pending: store.join_request(room_id, &auth.id).await?.is_some(),
    };
    match join_path(context)? {
        JoinPath::JoinNow => {}
        JoinPath::CheckPassword => {
            let wrong = || ApiError::new(ErrorCode::WrongRoomPassword, "the room password is missing or wrong");
            let given = request
                .password
                .filter(|p| !p.is_empty() && p.chars().count() <= RoomPassword::MAX_CHARS)
                .ok_or_else(wrong)?;
            let hash = access.room.password_hash.clone().ok_or_else(wrong)?;
            if !state.passwords.verify(given, Some(hash)).await? {
                return Err(wrong());
            }
        }
        JoinPath::FileRequest => {
            // The admins' notices are stored with the request.
            let requested = store.create_join_request(room_id, &auth.id, Utc::now()).await?;
            notify::push(state.bus.as_ref(), &requested.notices);
            return Ok(Joined::Requested(requested.request));
        }
    }
    // An invitation is answered (R-ROOM-9): the store marks its notice handled in the same write.
    let membership = store.add_member(room_id, &auth.id, Role::Member, &auth.id, Utc::now()).await?.membership;
    events::member_joined(state, room_id, &actor(state, auth).await?);
    tracing::info!(room_id = %room_id, user_id = %auth.id, "joined");
    Ok(Joined::Member(membership))
}

/// Decline the caller's invitation to the room (R-ROOM-9): it is gone, and its notification is
/// marked read in the same write.
pub async fn decline_invitation(state: &AppState, access: &RoomAccess) -> ApiResult<()> {
    // A room the caller may not see stays hidden: `room_not_found`, not `invite_not_found`.
    get(state, access).await?;
    let (room_id, user) = (&access.room.id, &access.user.id);
    state.store.decline_invite(room_id, user).await?;
    tracing::info!(room_id = %room_id, user_id = %user, "invitation declined");
    Ok(())
}

/// Leave a room (R-ROOM-5). Leaving a direct conversation hides it until its next message.
pub async fn leave(state: &AppState, access: &RoomAccess) -> ApiResult<()> {
    let (auth, room_id) = (&access.user, &access.room.id);
    access.authorize(RoomAction::Read)?;
    match access.room.kind {
        RoomKind::Direct => state.store.hide_direct_room(room_id, &auth.id).await?,
        RoomKind::Group => leave_group(state, &access.room, &auth.id).await?,
    }
    Ok(())
}

/// `user` leaves the group `room` (R-ROOM-5 applies), and the room is told.
pub(super) async fn leave_group(state: &AppState, room: &RoomRecord, user: &UserId) -> ApiResult<()> {
    let outcome = state.store.remove_member(&room.id, user, LeaveReason::Left, user, Utc::now()).await?;
    announce_departure(state, room, &outcome, LeaveReason::Left).await;
    Ok(())
}

/// The room's members in join order, after join sequence number `after`: up to `limit + 1`.
pub async fn members(
    state: &AppState,
    access: &RoomAccess,
    after: Option<i64>,
    limit: u32,
) -> ApiResult<Vec<MemberRecord>> {
    access.authorize(RoomAction::Read)?;
    Ok(state.store.members(&access.room.id, after, limit + 1).await?)
}

/// Marks the room read up to `seq`, for unread counts (a buffered write, R-OPS-3).
pub async fn mark_read(state: &AppState, access: &RoomAccess, seq: u64) -> ApiResult<()> {
    access.authorize(RoomAction::Read)?;
    let write = DeferredWrite::RoomRead { room: access.room.id.clone(), user: access.user.id.clone(), seq };
    Ok(state.deferred.defer(write).await?)
}

/// Announces a departure (leave, kick or ban) and what SPEC R-ROOM-5 made of it: events for the
/// room, and the notices the store kept with it (the kicked member's, and those R-ROOM-5
/// promoted or removed) told live.
pub(super) async fn announce_departure(
    state: &AppState,
    room: &RoomRecord,
    outcome: &DepartureRecord,
    reason: LeaveReason,
) {
    let bus = state.bus.as_ref();
    events::member_left(bus, &room.id, &outcome.user_id, reason);
    match &outcome.departure {
        Departure::Terminate => events::room_terminated(bus, &room.id),
        Departure::TerminateAndEvict(last) => {
            events::member_left(bus, &room.id, last, LeaveReason::Terminated);
            events::room_terminated(bus, &room.id);
        }
        Departure::Continue { promotion: Some((user, role)) } => events::role_changed(bus, &room.id, user, *role),
        Departure::Continue { promotion: None } => {}
    }
    notify::push(state.bus.as_ref(), &outcome.notices);
    tracing::info!(room_id = %room.id, user_id = %outcome.user_id, ?reason, departure = ?outcome.departure, "member departed");
}
