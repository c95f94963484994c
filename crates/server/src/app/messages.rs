//! Messages (SPEC R-MSG-1 to R-MSG-3, R-MSG-5, R-MSG-7). Sending is the one way REST and the
//! gateway both use: authorize, rate-limit, validate, store with the next sequence number,
//! publish. Then history, edits and deletions.

use super::AppState;
use super::access::RoomAccess;
use super::error::{ApiError, ApiResult};
use super::events;
use super::notify;
use super::views;
use crate::live::hub::Event;
use chrono::Utc;
use conclave_domain::{
    ClientId, Emoji, FieldErrors, MessageBody, MessageContent, RoomAction, may_delete_message, may_edit_message,
    mentioned_usernames,
};
use conclave_protocol::{AttachmentId, Color, ErrorCode, Message, MessageId, Role, RoomId, Sticker};
use conclave_store::{HistoryRange, InsertedMessage, MessageRecord, NewMessage, StoreResult};
use std::sync::Arc;

/// What a client asks to send.
pub struct Draft<'a> {
    pub body: &'a str,
    pub color: Option<Color>,
    pub sticker: Option<Sticker>,
    pub client_id: Option<&'a str>,
    /// A file the sender uploaded to this room (R-MSG-6).
    pub attachment_id: Option<AttachmentId>,
    /// An earlier message of this room that this one answers (R-MSG-8).
    pub reply_to: Option<MessageId>,
}

/// Refuses a send the server cannot take now (it is behind: an ack would come late), and
/// counts it: `rate_limited`, to try again in a second, nothing stored (see the README's
/// "Under overload").
pub fn shed(state: &AppState) -> ApiError {
    state.metrics.sends_shed.inc();
    ApiError::rate_limited("the server is at capacity: send again in a second", 1)
}

/// Sends `draft` to the room of `access` as its caller: [`check`], then [`store`].
pub async fn send(state: &AppState, access: &RoomAccess, draft: Draft<'_>) -> ApiResult<InsertedMessage> {
    let message = check(state, access, draft).await?;
    Ok(store(state, message, |_| {}).await?)
}

/// What `draft` would store in the room of `access` from its caller, or why it may not be
/// sent: the room is live, the caller may post and has not used up their allowance, and the
/// content is valid. Only the allowance may await (several nodes share it), and a session
/// checks one frame at a time, so its sends keep their order.
pub async fn check(state: &AppState, access: &RoomAccess, draft: Draft<'_>) -> ApiResult<NewMessage> {
    access.live()?;
    access.authorize(RoomAction::Post)?;
    state.limits.message(&access.user.id).await?;
    let mut errors = FieldErrors::new();
    let has_attachment = draft.attachment_id.is_some();
    let content = errors.check("body", MessageContent::parse(draft.body, draft.color, draft.sticker, has_attachment));
    let client_id = draft.client_id.and_then(|c| errors.check("client_id", ClientId::parse(c)));
    let (Some(content), true) = (content, errors.is_empty()) else {
        return Err(errors.into());
    };
    let mentions = mentioned_usernames(&content.body).into_iter().map(|name| name.into_string()).collect();
    // R-NOTE-1: a direct message to someone offline leaves them a notification.
    let direct_notice = access.peer.clone().filter(|peer| !state.hub.is_online(peer));
    Ok(NewMessage {
        room_id: access.room.id.clone(),
        author_id: access.user.id.clone(),
        mentions,
        direct_notice,
        body: content.body,
        color: content.color,
        sticker: content.sticker,
        client_id: client_id.map(|c| c.as_str().to_owned()),
        attachment_id: draft.attachment_id,
        reply_to: draft.reply_to,
    })
}

/// Stores a checked message and publishes it. A repeated client id stores nothing and returns
/// the first message (`created: false`), without publishing it again. `on_stored` sees the
/// outcome once the store has it, and before anyone receives a new message: the gateway
/// answers its sends there, so a sender gets the ack before the message's own echo.
///
/// The send takes its place in the room's order at this future's first poll
/// (`Store::insert_message_then`): the store publishes a room's new messages and calls
/// `on_stored` one at a time in that order, so nothing is held across the write.
pub async fn store(
    state: &AppState,
    message: NewMessage,
    on_stored: impl FnOnce(&StoreResult<InsertedMessage>) + Send + 'static,
) -> StoreResult<InsertedMessage> {
    let bus = Arc::clone(&state.bus);
    let publish = Box::new(move |outcome: &StoreResult<InsertedMessage>| {
        on_stored(outcome);
        if let Ok(inserted) = outcome
            && inserted.created
        {
            events::message_created(bus.as_ref(), &inserted.message);
        }
    });
    let inserted = state.store.insert_message_then(message, Utc::now(), publish).await?;
    if inserted.created {
        state.metrics.messages_sent.inc();
        // The members it @mentions (R-MSG-10) and an offline peer (R-NOTE-1): the store kept
        // their notices with it.
        notify::push(state.bus.as_ref(), &inserted.notices);
    }
    Ok(inserted)
}

/// A room's messages in `range`, newest first, with their reactions as the caller sees them:
/// up to `limit + 1`, the extra one saying that more follow (R-MSG-3, R-MSG-9).
pub async fn history(
    state: &AppState,
    access: &RoomAccess,
    range: HistoryRange,
    limit: u32,
) -> ApiResult<Vec<Message>> {
    access.authorize(RoomAction::Read)?;
    let records = state.store.messages(&access.room.id, range, limit + 1).await?;
    let ids: Vec<MessageId> = records.iter().filter(|m| !m.deleted).map(|m| m.id.clone()).collect();
    let counts = state.store.reactions(&access.room.id, &ids, Some(&access.user.id)).await?;
    Ok(views::messages_with_reactions(&records, counts))
}

async fn existing(state: &AppState, access: &RoomAccess, id: &MessageId) -> ApiResult<MessageRecord> {
    state
        .store
        .message(&access.room.id, id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::MessageNotFound, "no such message"))
}

/// Edit the caller's own message (R-MSG-7); the room sees the new text. Answers the message
/// with its reactions as the caller sees them.
pub async fn edit(state: &AppState, access: &RoomAccess, id: &MessageId, body: &str) -> ApiResult<Message> {
    access.live()?;
    access.authorize(RoomAction::Post)?;
    let message = existing(state, access, id).await?;
    may_edit_message(message.author_id == access.user.id, message.deleted)?;
    let body = MessageBody::parse(body).map_err(|e| ApiError::field("body", e.0))?;
    let edited = state.store.edit_message(&access.room.id, id, body.as_str(), Utc::now()).await?;
    let counts = state.store.reactions(&access.room.id, std::slice::from_ref(id), Some(&access.user.id)).await?;
    let for_caller = views::messages_with_reactions(std::slice::from_ref(&edited), counts)
        .pop()
        .ok_or_else(|| ApiError::internal("an edited message went missing"))?;
    // The room is shown the same counts with nobody's `me`.
    let mut for_room = for_caller.clone();
    for reaction in &mut for_room.reactions {
        reaction.me = false;
    }
    events::message_edited(state.bus.as_ref(), for_room);
    Ok(for_caller)
}

/// Delete a message: the caller's own, or any in a room they administer (R-MSG-7). Deleting a
/// deleted message changes nothing.
pub async fn delete(state: &AppState, access: &RoomAccess, id: &MessageId) -> ApiResult<()> {
    access.authorize(RoomAction::Read)?;
    let role = access.role.unwrap_or(Role::Member);
    let message = existing(state, access, id).await?;
    may_delete_message(access.room.kind, message.author_id == access.user.id, role)?;
    if !message.deleted {
        let deleted = state.store.delete_message(&access.room.id, id, Utc::now()).await?;
        events::message_deleted(state.bus.as_ref(), &deleted);
    }
    Ok(())
}

/// React to a message of the room with an emoji (R-MSG-9); the room is told. Reacting again
/// with the same emoji changes nothing and tells no one.
pub async fn react(state: &AppState, access: &RoomAccess, message: &MessageId, emoji: &str) -> ApiResult<()> {
    access.live()?;
    access.authorize(RoomAction::Post)?;
    let emoji = Emoji::parse(emoji).map_err(|e| ApiError::field("emoji", e.0))?;
    let (room, user) = (&access.room.id, &access.user.id);
    if state.store.add_reaction(room, message, user, emoji.as_str(), Utc::now()).await? {
        events::reaction(state.bus.as_ref(), room, message, emoji.as_str(), user, true);
    }
    Ok(())
}

/// Take back the caller's reaction; the room is told. Taking back one not given changes nothing.
pub async fn unreact(state: &AppState, access: &RoomAccess, message: &MessageId, emoji: &str) -> ApiResult<()> {
    access.live()?;
    access.authorize(RoomAction::Post)?;
    let emoji = Emoji::parse(emoji).map_err(|e| ApiError::field("emoji", e.0))?;
    let (room, user) = (&access.room.id, &access.user.id);
    if state.store.remove_reaction(room, message, user, emoji.as_str()).await? {
        events::reaction(state.bus.as_ref(), room, message, emoji.as_str(), user, false);
    }
    Ok(())
}

/// How many missed messages one read brings back at most (more would overflow the sessions'
/// queues anyway: their clients resume from the store).
const MISSED_AT_MOST: usize = 4096;

/// The messages of `room` numbered above `after`, oldest first, as the live events a node
/// missed (several nodes: a gap in a room's numbers, or Redis was away). `None` when the
/// store could not be read.
pub async fn missed(state: &AppState, room: &RoomId, after: u64) -> Option<Vec<Event>> {
    let mut found = Vec::new();
    let mut after = after;
    while found.len() < MISSED_AT_MOST {
        match state.store.messages(room, HistoryRange::After(after), 200).await {
            Ok(page) if page.is_empty() => break,
            Ok(page) => {
                // The oldest 200 after the number, newest first.
                for message in page.iter().rev() {
                    found.push(events::message_event(message));
                    after = after.max(message.seq);
                }
            }
            Err(error) => {
                tracing::warn!(room_id = %room, %error, "could not read a room's missed messages");
                return None;
            }
        }
    }
    Some(found)
}
