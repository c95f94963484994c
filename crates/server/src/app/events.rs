//! Live events (SPEC R-WS-2): what REST actions and gateway frames publish on the bus. Each
//! frame is serialised once here, however many sessions receive it.

use super::AppState;
use super::views;
use crate::live::hub::{Bus, Event, Frame};
use actix_http::ws::{CloseCode, CloseReason};
use conclave_protocol::{LeaveReason, Message, MessageId, Role, RoomId, ServerFrame, UserId};
use conclave_store::{MessageRecord, UserRecord};

fn frame(frame: &ServerFrame) -> Frame {
    Frame::from(frame.to_json())
}

/// Sends `frame` to the online members of `room`.
pub fn to_room(bus: &dyn Bus, room: &RoomId, server_frame: &ServerFrame) {
    bus.publish(Event::ToRoom { room: room.clone(), frame: frame(server_frame), seq: None });
}

/// Sends `frame` to every session of `users`.
pub fn to_users(bus: &dyn Bus, users: Vec<UserId>, server_frame: &ServerFrame) {
    bus.publish(Event::ToUsers { users, frame: frame(server_frame) });
}

/// A new message, marked with its sequence number so that resumed sessions skip duplicates.
pub fn message_created(bus: &dyn Bus, message: &MessageRecord) {
    bus.publish(message_event(message));
}

/// The event of a new message, as published and as read again from the store.
pub fn message_event(message: &MessageRecord) -> Event {
    let server_frame = ServerFrame::MessageCreated { message: views::message(message) };
    Event::ToRoom { room: message.room_id.clone(), frame: frame(&server_frame), seq: Some(message.seq) }
}

/// An edited message, with its reactions as the whole room sees them (nobody's `me`).
pub fn message_edited(bus: &dyn Bus, message: Message) {
    let room = message.room_id.clone();
    to_room(bus, &room, &ServerFrame::MessageUpdated { message });
}

pub fn message_deleted(bus: &dyn Bus, message: &MessageRecord) {
    let server_frame = ServerFrame::MessageDeleted { room_id: message.room_id.clone(), message_id: message.id.clone() };
    to_room(bus, &message.room_id, &server_frame);
}

/// `user` added (or took back) their `emoji` reaction to a message (R-MSG-9).
pub fn reaction(bus: &dyn Bus, room: &RoomId, message: &MessageId, emoji: &str, user: &UserId, added: bool) {
    let (room_id, message_id, emoji, user_id) = (room.clone(), message.clone(), emoji.to_owned(), user.clone());
    let server_frame = if added {
        ServerFrame::ReactionAdded { room_id, message_id, emoji, user_id }
    } else {
        ServerFrame::ReactionRemoved { room_id, message_id, emoji, user_id }
    };
    to_room(bus, room, &server_frame);
}

/// `user` joined `room`: the room is told, and the user's sessions start receiving it.
pub fn member_joined(state: &AppState, room: &RoomId, user: &UserRecord) {
    state.bus.publish(Event::Subscribe { room: room.clone(), user: user.id.clone() });
    let server_frame = ServerFrame::MemberJoined { room_id: room.clone(), user: views::user(user, &state.hub) };
    to_room(state.bus.as_ref(), room, &server_frame);
}

/// `user` left `room`: the room (the user included) is told, then delivery to them stops.
pub fn member_left(bus: &dyn Bus, room: &RoomId, user: &UserId, reason: LeaveReason) {
    to_room(bus, room, &ServerFrame::MemberLeft { room_id: room.clone(), user_id: user.clone(), reason });
    bus.publish(Event::Unsubscribe { room: room.clone(), user: user.clone() });
}

pub fn role_changed(bus: &dyn Bus, room: &RoomId, user: &UserId, role: Role) {
    to_room(bus, room, &ServerFrame::RoleChanged { room_id: room.clone(), user_id: user.clone(), role });
}

/// The room is terminated: its members are told and it leaves every session.
pub fn room_terminated(bus: &dyn Bus, room: &RoomId) {
    to_room(bus, room, &ServerFrame::RoomTerminated { room_id: room.clone() });
    bus.publish(Event::Dissolve { room: room.clone() });
}

/// Closes every live session of `user` (policy violation, 1008, with why): their account is
/// gone.
pub fn end_sessions(bus: &dyn Bus, user: &UserId, why: &str) {
    let reason = CloseReason { code: CloseCode::Policy, description: Some(why.to_owned()) };
    bus.publish(Event::EndSessions { user: user.clone(), reason });
}
