//! The documents of each collection, their conversion to records, and the mapping of driver
//! errors to [`StoreError`]s.
//!
//! Enums are stored by their snake_case wire names (their serde form), times as BSON dates
//! (millisecond precision, as in the SQLite store), absent optional fields as `null`.

use crate::error::{Cause, Conflict, StoreError};
use crate::model::*;
use crate::sealing::{SealedAttachmentMeta, SealedMessage, SealedReply};
use bson::DateTime as BsonTime;
use bson::{Binary, spec::BinarySubtype};
use chrono::{DateTime, Utc};
use conclave_protocol::{
    Color, JoinPolicy, LeaveReason, MessageId, NotificationId, NotificationKind, Role, RoomId, RoomKind, Sticker,
    UserId,
};
use mongodb::error::{Error, ErrorKind, WriteFailure};
use serde::{Deserialize, Serialize};

/// The error type inside this backend: the driver's, with our own failures carried as its
/// custom payload so that a transaction aborts on them. Mapped to [`StoreError`] once, at the
/// [`crate::Store`] boundary, by [`into_store_error`].
pub type MongoResult<T> = Result<T, Error>;

/// Aborts the current command (and its transaction) with `error`.
pub fn fail(error: StoreError) -> Error {
    Error::custom(error)
}

pub fn into_store_error(error: Error) -> StoreError {
    if let Some(ours) = error.get_custom::<StoreError>() {
        return ours.clone();
    }
    match &*error.kind {
        ErrorKind::ServerSelection { .. } | ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } => {
            StoreError::Unavailable(Cause::new(error))
        }
        _ => StoreError::Backend(Cause::new(error)),
    }
}

/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

pub fn is_duplicate_key(error: &Error) -> bool {
    match &*error.kind {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        ErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(e) => e.write_errors.iter().flatten().any(|w| w.code == DUPLICATE_KEY),
        _ => false,
    }
}

/// Maps a unique-index violation to `conflict` (a 409 for the caller, SPEC R-OPS-5).
pub fn or_conflict(conflict: Conflict) -> impl FnOnce(Error) -> Error {
    move |error| if is_duplicate_key(&error) { fail(StoreError::Conflict(conflict)) } else { error }
}

pub fn date(time: DateTime<Utc>) -> BsonTime {
    BsonTime::from_chrono(time)
}

pub fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserDoc {
    #[serde(rename = "_id")]
    pub id: String,
    /// Lowercased, so that its unique index makes usernames unique case-insensitively.
    pub username: String,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub created_at: BsonTime,
    /// Absent until the user is first seen (R-OPS-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<BsonTime>,
    /// When the current avatar was set; absent when there is none (R-ACC-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_at: Option<BsonTime>,
    /// When the account was deleted (R-ACC-7); absent while it lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<BsonTime>,
}

/// A user's avatar (R-ACC-8), sealed under the server's key; `_id` is the user's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AvatarDoc {
    #[serde(rename = "_id")]
    pub user_id: String,
    pub content_type: String,
    pub content: Binary,
}

impl From<UserDoc> for UserRecord {
    fn from(doc: UserDoc) -> Self {
        UserRecord {
            id: UserId(doc.id),
            username: doc.username,
            password_hash: doc.password_hash,
            first_name: doc.first_name,
            last_name: doc.last_name,
            created_at: doc.created_at.to_chrono(),
            last_seen_at: doc.last_seen_at.map(|t| t.to_chrono()),
            avatar_at: doc.avatar_at.map(|t| t.to_chrono()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Used,
    Revoked,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshTokenDoc {
    /// The token's digest.
    #[serde(rename = "_id")]
    pub digest: String,
    pub user_id: String,
    pub family_id: String,
    pub status: TokenStatus,
    pub created_at: BsonTime,
    pub expires_at: BsonTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub kind: RoomKind,
    pub name: String,
    pub name_lower: String,
    pub topic: Option<String>,
    pub join_policy: JoinPolicy,
    pub password_hash: Option<String>,
    pub owner_id: Option<String>,
    /// Direct rooms only (absent on group rooms): one room per pair, by a sparse unique index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_key: Option<String>,
    pub last_seq: i64,
    pub member_count: i64,
    /// Bumped by every transaction that changes the room's membership, bans, invites or
    /// requests: the write that serialises them (see `MongoStore::lock_room`).
    pub revision: i64,
    pub created_at: BsonTime,
    pub terminated_at: Option<BsonTime>,
    /// The room's data key, wrapped to the server key (SPEC R-SEC-2).
    #[serde(default)]
    pub data_key: Option<Binary>,
}

impl RoomDoc {
    pub fn wrapped_key(&self) -> Option<&[u8]> {
        self.data_key.as_ref().map(|key| key.bytes.as_slice())
    }
}

/// Bytes as BSON binary data.
pub fn binary(bytes: Vec<u8>) -> Binary {
    Binary { subtype: BinarySubtype::Generic, bytes }
}

impl From<RoomDoc> for RoomRecord {
    fn from(doc: RoomDoc) -> Self {
        RoomRecord {
            id: RoomId(doc.id),
            kind: doc.kind,
            name: doc.name,
            topic: doc.topic,
            join_policy: doc.join_policy,
            password_hash: doc.password_hash,
            owner_id: doc.owner_id.map(UserId),
            member_count: u32::try_from(doc.member_count).unwrap_or(0),
            last_seq: unsigned(doc.last_seq),
            created_at: doc.created_at.to_chrono(),
            terminated_at: doc.terminated_at.map(|t| t.to_chrono()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipDoc {
    pub room_id: String,
    pub user_id: String,
    pub role: Role,
    pub joined_at: BsonTime,
    pub join_seq: i64,
    pub last_read_seq: i64,
    /// A direct room its member removed from their list (SPEC R-MSG-4).
    pub hidden: bool,
}

impl From<MembershipDoc> for MembershipRecord {
    fn from(doc: MembershipDoc) -> Self {
        MembershipRecord {
            room_id: RoomId(doc.room_id),
            user_id: UserId(doc.user_id),
            role: doc.role,
            joined_at: doc.joined_at.to_chrono(),
            join_seq: doc.join_seq,
            last_read_seq: unsigned(doc.last_read_seq),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteDoc {
    pub room_id: String,
    pub user_id: String,
    pub invited_by: String,
    pub created_at: BsonTime,
}

impl From<InviteDoc> for InviteRecord {
    fn from(doc: InviteDoc) -> Self {
        InviteRecord {
            room_id: RoomId(doc.room_id),
            user_id: UserId(doc.user_id),
            invited_by: UserId(doc.invited_by),
            created_at: doc.created_at.to_chrono(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRequestDoc {
    pub room_id: String,
    pub user_id: String,
    pub created_at: BsonTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BanDoc {
    pub room_id: String,
    pub user_id: String,
    pub banned_by: String,
    pub created_at: BsonTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub room_id: String,
    pub seq: i64,
    pub author_id: String,
    /// Usernames never change, so the author's is kept with the message rather than joined.
    pub author_username: String,
    /// Sealed under the room's data key for this room and message id; empty once deleted.
    pub body: Binary,
    pub color: Option<Color>,
    pub sticker: Option<Sticker>,
    /// What the message shows of its attachment (its name sealed as in `attachments`).
    #[serde(default)]
    pub attachment: Option<AttachmentMetaDoc>,
    pub client_id: Option<String>,
    /// Messages sent with a client id only (absent otherwise): one message per room, author
    /// and client id, by a sparse unique index. See [`send_key`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_key: Option<String>,
    pub created_at: BsonTime,
    pub edited_at: Option<BsonTime>,
    pub deleted: bool,
    /// The id of the message of the same room this one answers (R-MSG-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// The idempotency key of a send: room and author ids are UUIDs (no `:`), so it is unambiguous.
pub fn send_key(room: &str, author: &str, client_id: &str) -> String {
    format!("{room}:{author}:{client_id}")
}

impl From<MessageDoc> for SealedMessage {
    fn from(doc: MessageDoc) -> Self {
        let record = MessageRecord {
            id: MessageId(doc.id),
            room_id: RoomId(doc.room_id),
            seq: unsigned(doc.seq),
            author_id: UserId(doc.author_id),
            author_username: doc.author_username,
            body: String::new(),
            attachment: None,
            color: doc.color,
            sticker: doc.sticker,
            client_id: doc.client_id,
            created_at: doc.created_at.to_chrono(),
            edited_at: doc.edited_at.map(|t| t.to_chrono()),
            deleted: doc.deleted,
            reply_to: None,
        };
        let attachment = doc.attachment.map(|a| SealedAttachmentMeta {
            id: a.id,
            filename: a.filename.bytes,
            content_type: a.content_type,
            size: unsigned(a.size),
        });
        SealedMessage { record, body: doc.body.bytes, attachment, reply_to: None }
    }
}

impl From<MessageDoc> for SealedReply {
    fn from(doc: MessageDoc) -> Self {
        let record = ReplyRecord {
            message_id: MessageId(doc.id),
            seq: unsigned(doc.seq),
            author_username: doc.author_username,
            body: String::new(),
            deleted: doc.deleted,
        };
        SealedReply { record, body: doc.body.bytes }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub user_id: String,
    pub kind: NotificationKind,
    pub room_id: Option<String>,
    pub actor_id: Option<String>,
    pub data: serde_json::Value,
    pub created_at: BsonTime,
    pub read: bool,
}

impl From<NotificationDoc> for NotificationRecord {
    fn from(doc: NotificationDoc) -> Self {
        NotificationRecord {
            id: NotificationId(doc.id),
            user_id: UserId(doc.user_id),
            kind: doc.kind,
            room_id: doc.room_id.map(RoomId),
            actor_id: doc.actor_id.map(UserId),
            data: doc.data,
            created_at: doc.created_at.to_chrono(),
            read: doc.read,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomLogDoc {
    pub user_id: String,
    pub room_id: String,
    pub left_at: BsonTime,
    pub reason: LeaveReason,
}

/// An attachment's metadata as a message keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttachmentMetaDoc {
    pub id: String,
    pub filename: Binary,
    pub content_type: String,
    pub size: i64,
}

/// A reaction (SPEC R-MSG-9): who reacted to which message with which emoji.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReactionDoc {
    pub room_id: String,
    pub message_id: String,
    pub emoji: String,
    pub user_id: String,
    pub created_at: BsonTime,
}

/// An upload (SPEC R-MSG-6): name and content sealed under the room's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttachmentDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub room_id: String,
    pub uploader_id: String,
    /// Set once it is sent with a message.
    pub message_id: Option<String>,
    pub filename: Binary,
    pub content_type: String,
    pub size: i64,
    pub created_at: BsonTime,
    pub content: Binary,
}

/// An audit record (SPEC R-OPS-1): only the room (or an account record's user) and the time in
/// the clear; the record itself sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub room_id: Option<String>,
    pub user_id: Option<String>,
    pub created_at: BsonTime,
    pub record: Binary,
}

/// A data key of a scope other than a room (the server's), wrapped to the server key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataKeyDoc {
    #[serde(rename = "_id")]
    pub scope: String,
    pub wrapped: Binary,
}

/// A named counter (`join_seq`): orders joins across every room.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CounterDoc {
    #[serde(rename = "_id")]
    pub name: String,
    pub value: i64,
}
