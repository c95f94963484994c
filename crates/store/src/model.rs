//! What the store keeps. These records carry secrets (hashes) and internal fields; the server
//! turns them into `protocol` types at its edge.

use chrono::{DateTime, Utc};
use conclave_domain::Departure;
use conclave_protocol::{
    AttachmentId, AuditAction, AuditId, Color, JoinPolicy, LeaveReason, MessageId, NotificationId, NotificationKind,
    Role, RoomId, RoomKind, Sticker, UserId,
};

/// `time` as every backend keeps it: millisecond precision.
pub(crate) fn stored_time(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(time.timestamp_millis()).unwrap_or(time)
}

/// An enum's snake_case wire name, which is also how both backends store it.
pub(crate) fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// Sequence numbers and counts as both databases store them: signed 64-bit integers.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The key that makes a direct room one per pair: the same for `a` and `b` as for `b` and `a`.
pub(crate) fn direct_key(a: &UserId, b: &UserId) -> String {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    format!("{first}:{second}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the user was last seen active (their last session ended, or they typed).
    pub last_seen_at: Option<DateTime<Utc>>,
    /// When the current avatar was set (it names that picture), if there is one (R-ACC-8).
    pub avatar_at: Option<DateTime<Utc>>,
}

/// An avatar to store: already checked and re-encoded (R-ACC-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAvatar {
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A stored avatar, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarRecord {
    pub content_type: String,
    pub content: Vec<u8>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Already validated and lowercased.
    pub username: String,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    pub id: RoomId,
    pub kind: RoomKind,
    pub name: String,
    pub topic: Option<String>,
    pub join_policy: JoinPolicy,
    /// Argon2id PHC string of the room password, for `password` rooms.
    pub password_hash: Option<String>,
    pub owner_id: Option<UserId>,
    pub member_count: u32,
    /// The sequence number of the latest message (0 before the first).
    pub last_seq: u64,
    pub created_at: DateTime<Utc>,
    pub terminated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoom {
    pub name: String,
    pub topic: Option<String>,
    pub join_policy: JoinPolicy,
    pub password_hash: Option<String>,
}

/// What a change does to a setting that may be absent: leave it, set it, or remove it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Change<T> {
    #[default]
    Keep,
    Set(T),
    Clear,
}

impl<T> Change<T> {
    /// The new value to write (`Some(None)`: remove it), or `None` to leave the setting alone.
    pub fn into_update(self) -> Option<Option<T>> {
        match self {
            Change::Keep => None,
            Change::Set(value) => Some(Some(value)),
            Change::Clear => Some(None),
        }
    }
}

/// A change of room settings; `None` and [`Change::Keep`] leave a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomPatch {
    pub name: Option<String>,
    pub topic: Change<String>,
    pub join_policy: Option<JoinPolicy>,
    pub password_hash: Change<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub room_id: RoomId,
    pub user_id: UserId,
    /// Direct rooms store `Member` for both; the API shows no role there.
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// Increases with every join anywhere: orders members by join time without ties.
    pub join_seq: i64,
    pub last_read_seq: u64,
}

/// A member with their profile, as member lists show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub membership: MembershipRecord,
    pub user: UserRecord,
}

/// A room as one of its members sees it in their list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyRoomRecord {
    pub room: RoomRecord,
    pub membership: MembershipRecord,
    /// Messages by others, not deleted, after `last_read_seq`.
    pub unread_count: u64,
    /// When the room's latest message was sent; `None` before the first.
    pub last_message_at: Option<DateTime<Utc>>,
}

/// What a departure did to the room (SPEC R-ROOM-5), for notifications and events.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartureRecord {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub role: Role,
    pub departure: Departure,
    /// The notifications stored with it: the kicked member's, and those of whom R-ROOM-5
    /// promoted or removed.
    pub notices: Vec<NotificationRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRecord {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequestRecord {
    pub room_id: RoomId,
    pub user: UserRecord,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRecord {
    pub room_id: RoomId,
    pub user: UserRecord,
    pub banned_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// A new membership, and the new member's notice when an admin let them in (a join request
/// accepted).
#[derive(Debug, Clone, PartialEq)]
pub struct Admitted {
    pub membership: MembershipRecord,
    pub notices: Vec<NotificationRecord>,
}

/// An invitation, and the invitee's notice of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Invited {
    pub invite: InviteRecord,
    pub notices: Vec<NotificationRecord>,
}

/// A join request, and the notices of the room's admins.
#[derive(Debug, Clone, PartialEq)]
pub struct Requested {
    pub request: JoinRequestRecord,
    pub notices: Vec<NotificationRecord>,
}

/// A member's new role, and the notice of it (none when the role was already that).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleChange {
    pub membership: MembershipRecord,
    pub notices: Vec<NotificationRecord>,
}

/// A ban and, when the banned user was a member, what their removal did.
#[derive(Debug, Clone, PartialEq)]
pub struct BanOutcome {
    pub ban: BanRecord,
    pub departure: Option<DepartureRecord>,
    /// The banned user's notification, stored with the ban (the departure has its own).
    pub notices: Vec<NotificationRecord>,
}

/// The members a termination removed.
#[derive(Debug, Clone, PartialEq)]
pub struct TerminationRecord {
    pub room: RoomRecord,
    pub former_members: Vec<UserId>,
    /// The notifications stored with it: every former member's but the owner's.
    pub notices: Vec<NotificationRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub id: MessageId,
    pub room_id: RoomId,
    pub seq: u64,
    pub author_id: UserId,
    pub author_username: String,
    pub body: String,
    pub color: Option<Color>,
    pub sticker: Option<Sticker>,
    pub attachment: Option<AttachmentMeta>,
    pub client_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    /// The earlier message of the room this one answers (R-MSG-8), as it is now.
    pub reply_to: Option<ReplyRecord>,
}

/// The message a reply answers, as it is now: it may since have been edited or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRecord {
    pub message_id: MessageId,
    pub seq: u64,
    pub author_username: String,
    /// Opened; empty once deleted.
    pub body: String,
    pub deleted: bool,
}

/// What a message shows of its attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    pub id: AttachmentId,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

/// A file uploaded to a room (SPEC R-MSG-6), already checked by the domain rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub room_id: RoomId,
    pub uploader_id: UserId,
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A stored attachment: its metadata, where it belongs, and (once sent) its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    pub meta: AttachmentMeta,
    pub room_id: RoomId,
    pub uploader_id: UserId,
    pub message_id: Option<MessageId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub room_id: RoomId,
    pub author_id: UserId,
    pub body: String,
    pub color: Option<Color>,
    pub sticker: Option<Sticker>,
    /// Idempotency key: one message per author and client id.
    pub client_id: Option<String>,
    /// A file the author uploaded to this room and has not sent yet.
    pub attachment_id: Option<AttachmentId>,
    /// An earlier message of the same room that this one answers (R-MSG-8).
    pub reply_to: Option<MessageId>,
    /// The usernames the body @mentions (R-MSG-10, at most `MAX_MENTIONS`): each one who is a
    /// member, other than the author, gets a `mention` notification in the message's own
    /// write, so that a crash stores both or neither.
    pub mentions: Vec<String>,
    /// A direct room's other member, offline when the message was sent (R-NOTE-1): a
    /// `direct_message` notification in the message's own write, when they are a member.
    pub direct_notice: Option<UserId>,
}

/// A stored message, and whether this call stored it (`false`: the client id was seen before).
#[derive(Debug, Clone, PartialEq)]
pub struct InsertedMessage {
    pub message: MessageRecord,
    pub created: bool,
    /// The notifications stored with it (its mentions, the offline peer's); none for a repeat.
    pub notices: Vec<NotificationRecord>,
}

impl NewNotification {
    /// A notification to `user` of `kind` about `message` in the room named `room_name` (an
    /// @mention, R-MSG-10; a direct message to someone offline, R-NOTE-1): from its author,
    /// pointing at it.
    pub(crate) fn about_message(
        kind: NotificationKind,
        message: &MessageRecord,
        room_name: &str,
        user: UserId,
    ) -> Self {
        NewNotification {
            user_id: user,
            kind,
            room_id: Some(message.room_id.clone()),
            actor_id: Some(message.author_id.clone()),
            data: serde_json::json!({
                "room_name": room_name,
                "actor_username": message.author_username,
                "message_id": message.id,
                "seq": message.seq,
            }),
        }
    }
}

/// Which part of a room's history to read. Results are always newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryRange {
    /// The newest messages.
    Latest,
    /// The newest messages with a smaller sequence number.
    Before(u64),
    /// The oldest messages with a larger sequence number.
    After(u64),
}

/// Where a scan of messages across rooms stopped (R-MSG-11): the order is newest first by
/// creation time, then room id, then sequence number, all descending.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanPosition {
    pub created_at: DateTime<Utc>,
    pub room_id: RoomId,
    pub seq: u64,
}

impl ScanPosition {
    pub fn of(message: &MessageRecord) -> Self {
        ScanPosition { created_at: message.created_at, room_id: message.room_id.clone(), seq: message.seq }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRecord {
    pub id: NotificationId,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub room_id: Option<RoomId>,
    pub actor_id: Option<UserId>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub room_id: Option<RoomId>,
    pub actor_id: Option<UserId>,
    pub data: serde_json::Value,
}

/// Where the previous notification page ended (unread first, then newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationCursor {
    pub read: bool,
    pub created_at: DateTime<Utc>,
    pub id: NotificationId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomLogRecord {
    pub room: RoomRecord,
    pub left_at: DateTime<Utc>,
    pub reason: LeaveReason,
}

/// Where the previous room-log page ended (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomLogCursor {
    pub left_at: DateTime<Utc>,
    pub room_id: RoomId,
}

/// Where the previous room-search page ended (by lowercased name, then id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSearchCursor {
    pub name_lower: String,
    pub room_id: RoomId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub digest: String,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
}

/// The result of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is retired and the new one belongs to the same family.
    Rotated { user_id: UserId },
    /// The token had already been used: the whole family is now revoked.
    Reused { user_id: UserId },
    /// Unknown, expired or revoked.
    Invalid,
}

/// One audit record (SPEC R-OPS-1), opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: AuditId,
    /// The room it happened in; `None` for account records (sign-ups, logins).
    pub room_id: Option<RoomId>,
    pub action: AuditAction,
    /// `None` when the rules did it (SPEC R-ROOM-5 promotions and terminations).
    pub actor_id: Option<UserId>,
    pub target_id: Option<UserId>,
    /// The new role, for `RoleChanged`.
    pub role: Option<Role>,
    pub created_at: DateTime<Utc>,
}

/// Where the previous audit page ended (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    pub created_at: DateTime<Utc>,
    pub id: AuditId,
}

/// A write that may wait (SPEC R-OPS-3): the server buffers these and stores them in batches.
/// Applying one is idempotent, and one whose target is gone is skipped, not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeferredWrite {
    /// An admin (`by`) declined `user`'s join request at `at`: the request goes, the user is
    /// told, and every admin's notice of the request is marked handled (R-ROOM-9), in one write.
    DeclineRequest {
        room: RoomId,
        user: UserId,
        by: UserId,
        at: DateTime<Utc>,
    },
    NotificationRead {
        user: UserId,
        id: NotificationId,
    },
    AllNotificationsRead {
        user: UserId,
    },
    /// Moves a read marker forward (never back, never past the room's last message).
    RoomRead {
        room: RoomId,
        user: UserId,
        seq: u64,
    },
    /// Moves a user's last-seen time forward.
    LastSeen {
        user: UserId,
        at: DateTime<Utc>,
    },
}

/// One emoji's reactions to a message, as one reader sees them (SPEC R-MSG-9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionCount {
    pub message_id: MessageId,
    pub emoji: String,
    pub count: u32,
    /// Whether the reader is among those who reacted with it.
    pub me: bool,
}

/// A data key as stored: wrapped for the server's key pair, with the scope it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub scope: String,
    pub wrapped: Vec<u8>,
}
