//! Rooms: create, search, list, read, change, delete, join, leave, members, read markers
//! (SPEC R-ROOM-1, R-ROOM-5 to R-ROOM-8).

use super::cursor;
use super::extract::{AuthUser, Body, OptionalBody, authenticate};
use super::views;
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::gateway::hub::Event;
use crate::notify::{self, Context};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::web::{Data, Query};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use conclave_domain::{
    FieldErrors, JoinContext, JoinPath, PageLimit, RoomAction, RoomName, RoomPassword, SearchPrefix, Topic, authorize,
    join_path,
};
use conclave_protocol::*;
use conclave_store::{
    DeferredWrite, MyRoomRecord, NewRoom, RoomLogCursor, RoomPatch, RoomRecord, RoomSearchCursor, UserRecord,
};
use futures_util::future::LocalBoxFuture;
use serde_json::json;

/// The room named by the route's `{room_id}`, the caller, and the caller's role in it (`None`:
/// not a member). As an extractor it answers 401 before it looks at the room, and
/// `room_not_found` when there is no such room.
pub struct RoomAccess {
    pub user: AuthUser,
    pub room: RoomRecord,
    pub role: Option<Role>,
}

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
            Self::load(&state, room_id, user).await
        })
    }
}

impl RoomAccess {
    /// `room_not_found` when there is no such room.
    pub async fn load(state: &AppState, room_id: RoomId, user: AuthUser) -> ApiResult<Self> {
        let room =
            state.store.room(&room_id).await?.ok_or_else(|| ApiError::new(ErrorCode::RoomNotFound, "no such room"))?;
        let role = state.store.membership(&room_id, &user.id).await?.map(|m| m.role);
        Ok(Self { user, room, role })
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

    /// Notifies `user` of something the caller did in this room (R-NOTE-1).
    pub async fn tell(
        &self,
        state: &AppState,
        user: &UserId,
        kind: NotificationKind,
        extra: serde_json::Value,
    ) -> ApiResult<()> {
        let actor = actor(state, &self.user).await?;
        let context = Context { room: Some(&self.room), actor: Some(&actor) };
        notify::notify(state, user, kind, context, extra).await;
        Ok(())
    }
}

/// The caller's own record, for notifications that name them.
pub async fn actor(state: &AppState, auth: &AuthUser) -> ApiResult<UserRecord> {
    state
        .store
        .user(&auth.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::TokenInvalid, "the account behind this token no longer exists"))
}

/// The user named by exactly one of an id and a username.
pub async fn named_user(state: &AppState, user_id: Option<&UserId>, username: Option<&str>) -> ApiResult<UserRecord> {
    let found = match (user_id, username) {
        (Some(id), None) => state.store.user(id).await?,
        (None, Some(name)) => state.store.user_by_username(name.trim()).await?,
        _ => {
            return Err(ApiError::field("user_id", "give exactly one of `user_id` and `username`"));
        }
    };
    found.ok_or_else(|| ApiError::new(ErrorCode::UserNotFound, "no such user"))
}

async fn hash_room_password(state: &AppState, password: RoomPassword) -> ApiResult<String> {
    state.passwords.hash(password.expose().to_owned()).await
}

/// Create a room (R-ROOM-1); the creator is its owner.
#[utoipa::path(post, path = "/api/rooms", tag = "rooms", security(("bearer" = [])), request_body = CreateRoomRequest,
    responses((status = 201, body = RoomEnvelope), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: Data<AppState>,
    auth: AuthUser,
    Body(request): Body<CreateRoomRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", RoomName::parse(&request.name));
    let topic = errors.check("topic", Topic::parse_optional(request.topic.as_deref()));
    let password = match (request.join_policy, request.password.as_deref()) {
        (JoinPolicy::Password, Some(password)) => errors.check("password", RoomPassword::parse(password)),
        (JoinPolicy::Password, None) => {
            errors.add("password", "password rooms need a password");
            None
        }
        (_, Some(_)) => {
            errors.add("password", "only rooms with the `password` policy have a password");
            None
        }
        (_, None) => None,
    };
    let (Some(name), Some(topic), true) = (name, topic, errors.is_empty()) else {
        return Err(errors.into());
    };
    let password_hash = match password {
        Some(password) => Some(hash_room_password(&state, password).await?),
        None => None,
    };
    let room = state
        .store
        .create_room(
            NewRoom {
                name: name.as_str().to_owned(),
                topic: topic.map(|t| t.as_str().to_owned()),
                join_policy: request.join_policy,
                password_hash,
            },
            &auth.id,
            Utc::now(),
        )
        .await?;
    // The owner's open sessions receive the new room from now on (R-WS-2).
    state.bus.publish(Event::Subscribe { room: room.id.clone(), user: auth.id.clone() });
    tracing::info!(room_id = %room.id, owner = %auth.id, "room created");
    Ok(HttpResponse::Created().json(RoomEnvelope { room: views::room(&room) }))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SearchCursor(String, String);

/// Search listed rooms by name (R-ROOM-8): never invite-only rooms, never rooms that ban you.
#[utoipa::path(get, path = "/api/rooms", tag = "rooms", security(("bearer" = [])), params(RoomSearchQuery),
    responses((status = 200, body = Page<Room>), (status = 422, body = ErrorBody)))]
pub async fn search(
    state: Data<AppState>,
    auth: AuthUser,
    Query(query): Query<RoomSearchQuery>,
) -> ApiResult<HttpResponse> {
    let prefix = SearchPrefix::parse_optional(query.q.as_deref()).map_err(|e| ApiError::field("q", e.0))?;
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let after = cursor::decode::<SearchCursor>(query.cursor.as_deref())?
        .map(|SearchCursor(name_lower, id)| RoomSearchCursor { name_lower, room_id: RoomId(id) });
    let found = state.store.search_rooms(prefix.as_str(), &auth.id, after.as_ref(), limit + 1).await?;
    let page = cursor::page(found, limit, |r| SearchCursor(r.name.to_lowercase(), r.id.0.clone()), views::room);
    Ok(HttpResponse::Ok().json(page))
}

/// The rooms I am in, with my role and unread count, in the order I joined them.
#[utoipa::path(get, path = "/api/rooms/mine", tag = "rooms", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<MyRoom>)))]
pub async fn mine(state: Data<AppState>, auth: AuthUser, Query(query): Query<PageQuery>) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let after: Option<i64> = cursor::decode(query.cursor.as_deref())?;
    let (items, next) = my_rooms_page(&state, &auth.id, after, limit).await?;
    Ok(HttpResponse::Ok().json(Page::new(items, next.map(|join_seq| cursor::encode(&join_seq)))))
}

/// One page of `user`'s rooms, in the order they joined them, and the join sequence number to
/// continue after when there are more.
async fn my_rooms_page(
    state: &AppState,
    user: &UserId,
    after: Option<i64>,
    limit: u32,
) -> ApiResult<(Vec<MyRoom>, Option<i64>)> {
    // Unread counts follow read markers, which are buffered writes (R-OPS-3).
    state.deferred.settle().await;
    let found = state.store.rooms_of_user(user, after, limit + 1).await?;
    let more = found.len() > limit as usize;
    let kept: Vec<MyRoomRecord> = found.into_iter().take(limit as usize).collect();
    let next = if more { kept.last().map(|r| r.membership.join_seq) } else { None };
    let mut items = Vec::with_capacity(kept.len());
    for record in &kept {
        let peer = match record.room.kind {
            RoomKind::Direct => state
                .store
                .members(&record.room.id, None, 2)
                .await?
                .into_iter()
                .find(|m| m.user.id != *user)
                .map(|m| views::user(&m.user, &state.hub)),
            RoomKind::Group => None,
        };
        items.push(MyRoom {
            room: views::room(&record.room),
            role: views::role(record.room.kind, record.membership.role),
            unread_count: record.unread_count,
            peer,
        });
    }
    Ok((items, next))
}

/// All of `user`'s rooms, for the gateway's `ready` frame.
pub async fn my_rooms(state: &AppState, user: &UserId) -> ApiResult<Vec<MyRoom>> {
    let (mut rooms, mut after) = (Vec::new(), None);
    loop {
        let (items, next) = my_rooms_page(state, user, after, PageLimit::DIRECTORY.1).await?;
        rooms.extend(items);
        match next {
            Some(next) => after = Some(next),
            None => return Ok(rooms),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct LogCursor(DateTime<Utc>, String);

/// Rooms I was in and left, was kicked or banned from, or that were terminated (R-ROOM-7).
#[utoipa::path(get, path = "/api/rooms/history", tag = "rooms", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<RoomLogEntry>)))]
pub async fn history(state: Data<AppState>, auth: AuthUser, Query(query): Query<PageQuery>) -> ApiResult<HttpResponse> {
    let limit = cursor::limit(query.limit, PageLimit::DIRECTORY)?;
    let after = cursor::decode::<LogCursor>(query.cursor.as_deref())?
        .map(|LogCursor(left_at, id)| RoomLogCursor { left_at, room_id: RoomId(id) });
    let found = state.store.room_log(&auth.id, after.as_ref(), limit + 1).await?;
    let page = cursor::page(
        found,
        limit,
        |e| LogCursor(e.left_at, e.room.id.0.clone()),
        |e| RoomLogEntry { room: views::room(&e.room), left_at: e.left_at, reason: e.reason },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// A room: for its members, for anyone when it is listed, and for invitees.
#[utoipa::path(get, path = "/api/rooms/{room_id}", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)),
    responses((status = 200, body = RoomEnvelope), (status = 403, description = "banned", body = ErrorBody),
              (status = 404, description = "room_not_found", body = ErrorBody)))]
pub async fn get(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    let (auth, room_id) = (&access.user, access.room.id.clone());
    if access.role.is_none() {
        if state.store.is_banned(&room_id, &auth.id).await? {
            return Err(ApiError::new(ErrorCode::Banned, "you are banned from this room"));
        }
        let visible = access.room.kind == RoomKind::Group
            && (access.room.join_policy.is_listed() || state.store.invite(&room_id, &auth.id).await?.is_some());
        if !visible {
            return Err(ApiError::new(ErrorCode::RoomNotFound, "no such room"));
        }
    }
    Ok(HttpResponse::Ok().json(RoomEnvelope { room: views::room(&access.room) }))
}

/// Change the room's settings (owner only, R-ROOM-2).
#[utoipa::path(patch, path = "/api/rooms/{room_id}", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body = UpdateRoomRequest,
    responses((status = 200, body = RoomEnvelope), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    state: Data<AppState>,
    access: RoomAccess,
    Body(request): Body<UpdateRoomRequest>,
) -> ApiResult<HttpResponse> {
    let room_id = access.room.id.clone();
    access.authorize(RoomAction::UpdateSettings)?;
    access.live()?;
    let mut errors = FieldErrors::new();
    let name = request.name.as_deref().and_then(|n| errors.check("name", RoomName::parse(n)));
    // `Some(None)`: the topic is cleared.
    let topic = request.topic.as_deref().and_then(|t| errors.check("topic", Topic::parse_optional(Some(t))));
    let policy = request.join_policy.unwrap_or(access.room.join_policy);
    let password = match (policy, request.password.as_deref()) {
        (JoinPolicy::Password, Some(p)) => errors.check("password", RoomPassword::parse(p)),
        (JoinPolicy::Password, None) if access.room.password_hash.is_none() => {
            errors.add("password", "password rooms need a password");
            None
        }
        (_, Some(_)) if policy != JoinPolicy::Password => {
            errors.add("password", "only rooms with the `password` policy have a password");
            None
        }
        _ => None,
    };
    errors.finish()?;
    let password_hash = match (policy, password) {
        (JoinPolicy::Password, Some(password)) => Some(Some(hash_room_password(&state, password).await?)),
        (JoinPolicy::Password, None) => None,
        (_, _) if access.room.password_hash.is_some() => Some(None),
        _ => None,
    };
    let patch = RoomPatch {
        name: name.map(|n| n.as_str().to_owned()),
        topic: topic.map(|t| t.map(|t| t.as_str().to_owned())),
        join_policy: request.join_policy,
        password_hash,
    };
    let room = state.store.update_room(&room_id, patch).await?;
    Ok(HttpResponse::Ok().json(RoomEnvelope { room: views::room(&room) }))
}

/// Terminate the room (owner only, R-ROOM-2, R-ROOM-6); every member is told.
#[utoipa::path(delete, path = "/api/rooms/{room_id}", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), responses((status = 204, description = "terminated"), (status = 403, body = ErrorBody)))]
pub async fn delete(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    let (auth, room_id) = (&access.user, access.room.id.clone());
    access.authorize(RoomAction::Delete)?;
    access.live()?;
    let owner = actor(&state, auth).await?;
    let ended = state.store.terminate_room(&room_id, &auth.id, Utc::now()).await?;
    for member in ended.former_members.iter().filter(|m| **m != auth.id) {
        let context = Context { room: Some(&ended.room), actor: Some(&owner) };
        notify::notify(&state, member, NotificationKind::RoomTerminated, context, json!({})).await;
    }
    events::room_terminated(state.bus.as_ref(), &room_id);
    tracing::info!(room_id = %room_id, by = %auth.id, "room terminated by its owner");
    Ok(HttpResponse::NoContent().finish())
}

/// Join a room (R-ROOM-1): at once for open rooms and invitees, with the password for password
/// rooms, or as a join request (202) for request rooms.
#[utoipa::path(post, path = "/api/rooms/{room_id}/join", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body(content = JoinRoomRequest, description = "optional"),
    responses((status = 200, body = MembershipEnvelope), (status = 202, body = JoinRequestEnvelope),
              (status = 403, description = "banned, wrong_room_password, not_invited", body = ErrorBody),
              (status = 409, description = "already_member, request_pending, room_terminated", body = ErrorBody)))]
pub async fn join(
    state: Data<AppState>,
    access: RoomAccess,
    OptionalBody(request): OptionalBody<JoinRoomRequest>,
) -> ApiResult<HttpResponse> {
    let (auth, room_id) = (&access.user, access.room.id.clone());
    let store = &state.store;
    // A decline of an earlier request may still be buffered: store it before asking again.
    state.deferred.settle().await;
    let context = JoinContext {
        kind: access.room.kind,
        policy: access.room.join_policy,
        terminated: access.room.terminated_at.is_some(),
        banned: store.is_banned(&room_id, &auth.id).await?,
        already_member: access.role.is_some(),
        invited: store.invite(&room_id, &auth.id).await?.is_some(),
        request_pending: store.join_request(&room_id, &auth.id).await?.is_some(),
    };
    if access.room.kind == RoomKind::Group
        && !access.room.join_policy.is_listed()
        && !context.invited
        && !context.banned
    {
        // Invite-only rooms do not reveal themselves to people without an invite.
        return Err(ApiError::new(ErrorCode::NotInvited, "this room is invite-only"));
    }
    match join_path(context)? {
        JoinPath::JoinNow => {}
        JoinPath::CheckPassword => {
            let wrong = || ApiError::new(ErrorCode::WrongRoomPassword, "the room password is missing or wrong");
            let given = request.password.filter(|p| !p.is_empty() && p.chars().count() <= 256).ok_or_else(wrong)?;
            let hash = access.room.password_hash.clone().ok_or_else(wrong)?;
            if !state.passwords.verify(given, Some(hash)).await? {
                return Err(wrong());
            }
        }
        JoinPath::FileRequest => {
            let request = store.create_join_request(&room_id, &auth.id, Utc::now()).await?;
            let requester = request.user.clone();
            let admins = store.members(&room_id, None, 10_000).await?;
            for admin in admins.iter().filter(|m| m.membership.role.is_admin()) {
                let context = Context { room: Some(&access.room), actor: Some(&requester) };
                notify::notify(&state, &admin.user.id, NotificationKind::JoinRequest, context, json!({})).await;
            }
            let body = JoinRequestEnvelope { join_request: views::join_request(&request, &state.hub) };
            return Ok(HttpResponse::Accepted().json(body));
        }
    }
    let membership = store.add_member(&room_id, &auth.id, Role::Member, &auth.id, Utc::now()).await?;
    events::member_joined(&state, &room_id, &actor(&state, auth).await?);
    tracing::info!(room_id = %room_id, user_id = %auth.id, "joined");
    Ok(HttpResponse::Ok().json(MembershipEnvelope { membership: views::membership(&membership) }))
}

/// Leave a room (R-ROOM-5). Leaving a direct conversation hides it until its next message.
#[utoipa::path(post, path = "/api/rooms/{room_id}/leave", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), responses((status = 204, description = "left"), (status = 403, body = ErrorBody)))]
pub async fn leave(state: Data<AppState>, access: RoomAccess) -> ApiResult<HttpResponse> {
    let (auth, room_id) = (&access.user, access.room.id.clone());
    access.authorize(RoomAction::Read)?;
    match access.room.kind {
        RoomKind::Direct => state.store.hide_direct_room(&room_id, &auth.id).await?,
        RoomKind::Group => {
            let outcome =
                state.store.remove_member(&room_id, &auth.id, LeaveReason::Left, &auth.id, Utc::now()).await?;
            events::departure(&state, &access.room, &outcome, LeaveReason::Left).await;
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The room's members in join order.
#[utoipa::path(get, path = "/api/rooms/{room_id}/members", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path), PageQuery),
    responses((status = 200, body = Page<Member>), (status = 403, body = ErrorBody)))]
pub async fn members(
    state: Data<AppState>,
    access: RoomAccess,
    Query(query): Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let room_id = access.room.id.clone();
    access.authorize(RoomAction::Read)?;
    let limit = cursor::limit(query.limit, PageLimit::MESSAGES)?;
    let after: Option<i64> = cursor::decode(query.cursor.as_deref())?;
    state.deferred.settle().await;
    let found = state.store.members(&room_id, after, limit + 1).await?;
    let page =
        cursor::page(found, limit, |m| m.membership.join_seq, |m| views::member(m, access.room.kind, &state.hub));
    Ok(HttpResponse::Ok().json(page))
}

/// Marks the room read up to `seq`, for unread counts.
#[utoipa::path(post, path = "/api/rooms/{room_id}/read", tag = "rooms", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body = MarkReadRequest,
    responses((status = 204, description = "marked"), (status = 403, body = ErrorBody)))]
pub async fn mark_read(
    state: Data<AppState>,
    access: RoomAccess,
    Body(request): Body<MarkReadRequest>,
) -> ApiResult<HttpResponse> {
    let (auth, room_id) = (&access.user, access.room.id.clone());
    access.authorize(RoomAction::Read)?;
    let write = DeferredWrite::RoomRead { room: room_id, user: auth.id.clone(), seq: request.seq };
    state.deferred.defer(write).await?;
    Ok(HttpResponse::NoContent().finish())
}
