//! WebSocket frames of the gateway at `/ws` (SPEC R-WS-1 to R-WS-5): JSON text frames with a
//! snake_case `type` tag.

use crate::{
    AttachmentId, Color, ErrorCode, LeaveReason, Message, MessageId, MyRoom, Notification, Role, RoomId, Sticker, User,
    UserId,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest text frame the gateway accepts; larger ones are answered with `frame_too_large`.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The first frame: an access token from `/api/auth/login` or `/api/auth/refresh`.
    Authenticate { token: String },
    /// Send a message; answered with `ack` (or `error` carrying the same `client_id`).
    /// The same `client_id` twice stores one message and acks it twice.
    SendMessage {
        room_id: RoomId,
        #[serde(default)]
        body: String,
        client_id: String,
        #[serde(default)]
        color: Option<Color>,
        #[serde(default)]
        sticker: Option<Sticker>,
        /// A file uploaded to this room by the sender and not yet sent.
        #[serde(default)]
        attachment_id: Option<AttachmentId>,
        /// An earlier message of this room that this one answers (R-MSG-8).
        #[serde(default)]
        reply_to: Option<MessageId>,
    },
    /// After a reconnect: the last sequence number seen per room. Every later message arrives
    /// as `message_created`, in order, then `resumed`.
    Resume { rooms: BTreeMap<RoomId, u64> },
    /// "I am typing in this room."
    Typing { room_id: RoomId },
    /// Answered with `pong`.
    Ping,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Authenticated: who you are and the rooms you are in.
    Ready {
        user: User,
        rooms: Vec<MyRoom>,
    },
    /// Your `send_message` was stored (or had been, for a repeated `client_id`).
    Ack {
        client_id: String,
        message: Message,
    },
    MessageCreated {
        message: Message,
    },
    MessageUpdated {
        message: Message,
    },
    MessageDeleted {
        room_id: RoomId,
        message_id: MessageId,
    },
    /// `user_id` reacted to a message with `emoji` (R-MSG-9).
    ReactionAdded {
        room_id: RoomId,
        message_id: MessageId,
        emoji: String,
        user_id: UserId,
    },
    /// `user_id` took back their `emoji` reaction.
    ReactionRemoved {
        room_id: RoomId,
        message_id: MessageId,
        emoji: String,
        user_id: UserId,
    },
    MemberJoined {
        room_id: RoomId,
        user: User,
    },
    MemberLeft {
        room_id: RoomId,
        user_id: UserId,
        reason: LeaveReason,
    },
    RoleChanged {
        room_id: RoomId,
        user_id: UserId,
        role: Role,
    },
    RoomTerminated {
        room_id: RoomId,
    },
    NotificationCreated {
        notification: Notification,
    },
    Typing {
        room_id: RoomId,
        user_id: UserId,
    },
    Presence {
        user_id: UserId,
        online: bool,
    },
    /// The replay that `resume` asked for is complete.
    Resumed,
    /// A frame was refused. `client_id` names the `send_message` it answers, if any.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
    },
    Pong,
}

impl ServerFrame {
    /// The frame as sent: serialised once, however many sessions receive it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"type":"error","code":"internal","message":"unserialisable frame"}"#.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-WS-1/R-WS-2: frames are snake_case JSON with a `type` tag.
    #[test]
    fn frames_are_tagged_snake_case_json() {
        let frame: ClientFrame =
            serde_json::from_str(r#"{"type":"send_message","room_id":"r","body":"hi","client_id":"c1"}"#)
                .expect("parses");
        assert_eq!(
            frame,
            ClientFrame::SendMessage {
                room_id: RoomId::from("r"),
                body: "hi".into(),
                client_id: "c1".into(),
                color: None,
                sticker: None,
                attachment_id: None,
                reply_to: None
            }
        );
        let resume: ClientFrame = serde_json::from_str(r#"{"type":"resume","rooms":{"a":3,"b":0}}"#).expect("parses");
        assert!(matches!(resume, ClientFrame::Resume { rooms } if rooms.len() == 2));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"shout"}"#).is_err());
        let error = ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            client_id: None,
            retry_after_secs: Some(2),
        };
        assert_eq!(
            error.to_json(),
            r#"{"type":"error","code":"rate_limited","message":"slow down","retry_after_secs":2}"#
        );
        assert_eq!(ServerFrame::Resumed.to_json(), r#"{"type":"resumed"}"#);
        let left = ServerFrame::MemberLeft { room_id: "r".into(), user_id: "u".into(), reason: LeaveReason::Kicked };
        assert_eq!(left.to_json(), r#"{"type":"member_left","room_id":"r","user_id":"u","reason":"kicked"}"#);
    }
}
