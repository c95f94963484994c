//! Messages: history, send, edit, delete (SPEC R-MSG-1 to R-MSG-3, R-MSG-7).

use super::cursor;
use super::extract::Body;
use super::rooms::RoomAccess;
use super::views;
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::messaging::{self, Draft};
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{Data, Path, Query};
use chrono::Utc;
use conclave_domain::{MessageBody, PageLimit, RoomAction, can_delete_message, can_edit_message};
use conclave_protocol::*;
use conclave_store::HistoryRange;
use serde::{Deserialize, Serialize};

/// Where a history page continues: before or after a sequence number.
#[derive(Serialize, Deserialize)]
enum HistoryCursor {
    Before(u64),
    After(u64),
}

/// A room's messages, newest first, before or after a sequence number (R-MSG-3).
#[utoipa::path(get, path = "/api/rooms/{room_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path), MessagesQuery),
    responses((status = 200, body = Page<Message>), (status = 403, description = "not_a_member", body = ErrorBody),
              (status = 404, description = "room_not_found", body = ErrorBody)))]
pub async fn list(
    state: Data<AppState>,
    access: RoomAccess,
    Query(query): Query<MessagesQuery>,
) -> ApiResult<HttpResponse> {
    let room_id = access.room.id.clone();
    access.authorize(RoomAction::Read)?;
    let limit = cursor::limit(query.limit, PageLimit::MESSAGES)?;
    // A cursor continues the page it came from, so it wins over the `before`/`after` that started it.
    let range = match (cursor::decode::<HistoryCursor>(query.cursor.as_deref())?, query.before, query.after) {
        (Some(HistoryCursor::Before(seq)), _, _) => HistoryRange::Before(seq),
        (Some(HistoryCursor::After(seq)), _, _) => HistoryRange::After(seq),
        (None, None, None) => HistoryRange::Latest,
        (None, Some(seq), None) => HistoryRange::Before(seq),
        (None, None, Some(seq)) => HistoryRange::After(seq),
        (None, Some(_), Some(_)) => {
            return Err(ApiError::new(ErrorCode::InvalidQuery, "use `before` or `after`, not both"));
        }
    };
    let mut fetched = state.store.messages(&room_id, range, limit + 1).await?;
    let more = fetched.len() > limit as usize;
    if more {
        // Newest first: the extra message is the oldest when paging back, the newest when forward.
        match range {
            HistoryRange::After(_) => drop(fetched.remove(0)),
            HistoryRange::Latest | HistoryRange::Before(_) => drop(fetched.pop()),
        }
    }
    let next_cursor = match (more, range) {
        (false, _) => None,
        (true, HistoryRange::After(_)) => fetched.first().map(|m| cursor::encode(&HistoryCursor::After(m.seq))),
        (true, _) => fetched.last().map(|m| cursor::encode(&HistoryCursor::Before(m.seq))),
    };
    Ok(HttpResponse::Ok().json(Page::new(fetched.iter().map(views::message).collect(), next_cursor)))
}

/// Send a message (R-MSG-1): stored with the room's next sequence number. A repeated
/// `client_id` stores nothing new and answers with the first message.
#[utoipa::path(post, path = "/api/rooms/{room_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path)), request_body = SendMessageRequest,
    responses((status = 201, body = MessageEnvelope), (status = 403, description = "not_a_member", body = ErrorBody),
              (status = 404, description = "room_not_found", body = ErrorBody),
              (status = 409, description = "room_terminated", body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, description = "rate_limited, with Retry-After; nothing stored", body = ErrorBody)))]
pub async fn send(
    state: Data<AppState>,
    access: RoomAccess,
    Body(request): Body<SendMessageRequest>,
) -> ApiResult<HttpResponse> {
    let draft = Draft {
        body: &request.body,
        color: request.color,
        sticker: request.sticker,
        client_id: request.client_id.as_deref(),
        attachment_id: request.attachment_id,
    };
    let inserted = messaging::send(&state, &access, draft).await?;
    Ok(HttpResponse::Created().json(MessageEnvelope { message: views::message(&inserted.message) }))
}

/// Edit your own message (R-MSG-7).
#[utoipa::path(patch, path = "/api/rooms/{room_id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path), ("message_id" = String, Path)), request_body = EditMessageRequest,
    responses((status = 200, body = MessageEnvelope), (status = 403, description = "forbidden: not the author", body = ErrorBody),
              (status = 404, description = "message_not_found", body = ErrorBody),
              (status = 409, description = "message_deleted", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String)>,
    Body(request): Body<EditMessageRequest>,
) -> ApiResult<HttpResponse> {
    let message_id = MessageId(path.into_inner().1);
    let (auth, room_id) = (&access.user, access.room.id.clone());
    access.live()?;
    access.authorize(RoomAction::Post)?;
    let message = state
        .store
        .message(&room_id, &message_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::MessageNotFound, "no such message"))?;
    if !can_edit_message(message.author_id == auth.id) {
        return Err(ApiError::new(ErrorCode::Forbidden, "only the author can edit a message"));
    }
    if message.deleted {
        return Err(ApiError::new(ErrorCode::MessageDeleted, "a deleted message cannot be edited"));
    }
    let body = MessageBody::parse(&request.body).map_err(|e| ApiError::field("body", e.0))?;
    let edited = state.store.edit_message(&room_id, &message_id, body.as_str(), Utc::now()).await?;
    events::message_updated(state.bus.as_ref(), &edited);
    Ok(HttpResponse::Ok().json(MessageEnvelope { message: views::message(&edited) }))
}

/// Delete a message: your own, or any in a room you administer (R-MSG-7).
#[utoipa::path(delete, path = "/api/rooms/{room_id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path), ("message_id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 403, body = ErrorBody), (status = 404, description = "message_not_found", body = ErrorBody)))]
pub async fn delete(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let message_id = MessageId(path.into_inner().1);
    let (auth, room_id) = (&access.user, access.room.id.clone());
    access.authorize(RoomAction::Read)?;
    let role = access.role.unwrap_or(Role::Member);
    let message = state
        .store
        .message(&room_id, &message_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::MessageNotFound, "no such message"))?;
    if !can_delete_message(access.room.kind, message.author_id == auth.id, role) {
        return Err(ApiError::new(ErrorCode::Forbidden, "only the author or a room admin can delete this message"));
    }
    if !message.deleted {
        let deleted = state.store.delete_message(&room_id, &message_id, Utc::now()).await?;
        events::message_updated(state.bus.as_ref(), &deleted);
    }
    Ok(HttpResponse::NoContent().finish())
}
