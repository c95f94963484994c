use crate::error::StoreResult;
use crate::model::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conclave_protocol::{AttachmentId, LeaveReason, MessageId, NotificationId, Role, RoomId, UserId};

/// What [`MessageStore::insert_message_then`] calls with a send's outcome.
pub type OnStored = Box<dyn FnOnce(&StoreResult<InsertedMessage>) + Send>;

/// Runs the `on_stored` callbacks of messages stored together (the closure it is given).
pub type BatchScope = std::sync::Arc<dyn Fn(&mut dyn FnMut()) + Send + Sync>;

/// The [`BatchScope`] that adds nothing: the callbacks just run.
pub(crate) fn plain_batches() -> BatchScope {
    std::sync::Arc::new(|run| run())
}

/// Everything Conclave persists, area by area. Each method is one atomic step: a backend either
/// does all of it or none of it. Times come from the caller, so that rules about age can be
/// tested. Callers that need one area ask for its trait; `Store` is all of them.
pub trait Store:
    UserStore
    + TokenStore
    + RoomStore
    + MembershipStore
    + ModerationStore
    + MessageStore
    + NotificationStore
    + AuditStore
    + MaintenanceStore
    + KeyStore
{
}

impl<T> Store for T where
    T: UserStore
        + TokenStore
        + RoomStore
        + MembershipStore
        + ModerationStore
        + MessageStore
        + NotificationStore
        + AuditStore
        + MaintenanceStore
        + KeyStore
{
}

/// Accounts: create, find and search users (SPEC R-ACC-1, R-ACC-5).
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Fails with `Conflict(UsernameTaken)` when the (lowercased) username exists.
    async fn create_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<UserRecord>;
    async fn user(&self, id: &UserId) -> StoreResult<Option<UserRecord>>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Users whose username starts with `prefix`, by username, after `after`.
    async fn search_users(&self, prefix: &str, after: Option<&str>, limit: u32) -> StoreResult<Vec<UserRecord>>;
    /// Changes a user's first and last name (SPEC R-ACC-7). `NotFound(User)` when there is none.
    async fn update_names(&self, id: &UserId, first: Change<String>, last: Change<String>) -> StoreResult<UserRecord>;
    /// Sets a new password hash and revokes every refresh token of the user, in one step
    /// (R-ACC-7: the other sessions end). `NotFound(User)` when there is none.
    async fn change_password(&self, id: &UserId, password_hash: &str) -> StoreResult<()>;
    /// Sets the user's avatar (R-ACC-8), replacing any; `avatar_at` names it. `NotFound(User)`
    /// when there is no such (live) user.
    async fn set_avatar(&self, id: &UserId, avatar: NewAvatar, now: DateTime<Utc>) -> StoreResult<UserRecord>;
    /// Removes the user's avatar, if any.
    async fn remove_avatar(&self, id: &UserId) -> StoreResult<UserRecord>;
    /// The user's avatar; `None` when they have none.
    async fn avatar(&self, id: &UserId) -> StoreResult<Option<AvatarRecord>>;
    /// Ends an account (R-ACC-7), after it has left its group rooms: its name becomes a
    /// deleted user's ([`conclave_protocol::DELETED_USER_PREFIX`]), its password, names, avatar,
    /// sessions, invitations, join requests, bans, notifications, room log and unsent uploads
    /// go; its messages and direct rooms stay. Audited. A deleted user is not found by
    /// `user`, `user_by_username` or `search_users` again. `NotFound(User)` when there is none.
    async fn delete_account(&self, id: &UserId, now: DateTime<Utc>) -> StoreResult<()>;
}

/// Refresh tokens and their families (SPEC R-ACC-3).
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Starts a new token family (a login).
    async fn insert_refresh_token(&self, token: NewRefreshToken, now: DateTime<Utc>) -> StoreResult<()>;
    /// Retires `old_digest` and stores `new_digest` in its family; a second use of a retired
    /// token revokes the family.
    async fn rotate_refresh_token(
        &self,
        old_digest: &str,
        new_digest: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Rotation>;
    /// The owner of an active, unexpired refresh token, without rotating it (the gateway's
    /// cookie authentication).
    async fn refresh_token_user(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<UserId>>;
    /// Revokes the family of `digest` (log out). Unknown digests are ignored.
    async fn revoke_refresh_family(&self, digest: &str) -> StoreResult<()>;
}

/// Rooms: create, find, change, list, terminate, and the rooms a user left (SPEC R-ROOM-1, R-ROOM-6 to R-ROOM-8).
#[async_trait]
pub trait RoomStore: Send + Sync + 'static {
    /// Creates a group room with `owner` as its owner and first member.
    ///
    /// Commands that SPEC R-OPS-1 audits (sign-up, login, room creation and termination, joins,
    /// departures, bans, unbans, role changes) write their audit records in their own
    /// transaction: `by` names who acted.
    async fn create_room(&self, room: NewRoom, owner: &UserId, now: DateTime<Utc>) -> StoreResult<RoomRecord>;
    /// The direct room of `a` and `b`, created on first use; the same room for the same pair.
    /// Shows it again to `a` if they had hidden it.
    async fn open_direct_room(&self, a: &UserId, b: &UserId, name: &str, now: DateTime<Utc>)
    -> StoreResult<RoomRecord>;
    async fn room(&self, id: &RoomId) -> StoreResult<Option<RoomRecord>>;
    async fn update_room(&self, id: &RoomId, patch: RoomPatch) -> StoreResult<RoomRecord>;
    /// Listed, live group rooms whose name starts with `prefix` and that do not ban `searcher`.
    async fn search_rooms(
        &self,
        prefix: &str,
        searcher: &UserId,
        after: Option<&RoomSearchCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RoomRecord>>;
    /// The rooms `user` is in and has not hidden, by join order, after `after_join_seq`.
    async fn rooms_of_user(
        &self,
        user: &UserId,
        after_join_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<MyRoomRecord>>;
    /// Every room `user` is a member of, hidden direct rooms included (for event routing).
    async fn room_ids_of_user(&self, user: &UserId) -> StoreResult<Vec<RoomId>>;
    /// Terminates the room (SPEC R-ROOM-6): no more messages or joins; every member is removed
    /// and logged as `terminated`; invites and requests are dropped.
    async fn terminate_room(&self, id: &RoomId, by: &UserId, now: DateTime<Utc>) -> StoreResult<TerminationRecord>;

    /// `user`'s previous rooms, newest first (SPEC R-ROOM-7).
    async fn room_log(
        &self,
        user: &UserId,
        after: Option<&RoomLogCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RoomLogRecord>>;
}

/// Who is in a room, in what role, and how far they read (SPEC R-ROOM-2, R-ROOM-5).
#[async_trait]
pub trait MembershipStore: Send + Sync + 'static {
    async fn membership(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<MembershipRecord>>;
    /// Members in join order, after `after_join_seq`.
    async fn members(&self, room: &RoomId, after_join_seq: Option<i64>, limit: u32) -> StoreResult<Vec<MemberRecord>>;
    /// The room's owner and admins (who hear of join requests), in join order.
    async fn room_admins(&self, room: &RoomId) -> StoreResult<Vec<UserId>>;
    /// The other member of each of `rooms` that is a direct conversation `user` is in, in one
    /// read (a page of `/api/rooms/mine` names its conversations' peers).
    async fn direct_peers(&self, user: &UserId, rooms: &[RoomId]) -> StoreResult<Vec<(RoomId, UserRecord)>>;
    /// Adds a member. Fails when the room is terminated, the user banned or already a member.
    /// Consumes the user's invite and join request and clears their room-log entry; the
    /// notices of both are marked read (handled, R-ROOM-9), and a member let in by an admin is
    /// told, in the same transaction.
    /// `by` is who let them in: the user themselves, or the admin accepting their request.
    async fn add_member(
        &self,
        room: &RoomId,
        user: &UserId,
        role: Role,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Admitted>;
    /// Removes a member of a group room and applies SPEC R-ROOM-5 to the rest.
    /// `by` is the user themselves (`Left`) or the admin who kicked them.
    async fn remove_member(
        &self,
        room: &RoomId,
        user: &UserId,
        reason: LeaveReason,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<DepartureRecord>;
    /// Hides a direct room from `user`'s list until its next message (SPEC R-MSG-4).
    async fn hide_direct_room(&self, room: &RoomId, user: &UserId) -> StoreResult<()>;
    async fn set_role(
        &self,
        room: &RoomId,
        user: &UserId,
        role: Role,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoleChange>;
    /// Moves `user`'s read marker forward to `seq` (never back, never past the last message).
    async fn mark_read(&self, room: &RoomId, user: &UserId, seq: u64) -> StoreResult<()>;
}

/// Invites, join requests and bans (SPEC R-ROOM-1, R-ROOM-4).
#[async_trait]
pub trait ModerationStore: Send + Sync + 'static {
    async fn create_invite(
        &self,
        room: &RoomId,
        user: &UserId,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Invited>;
    async fn invite(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<InviteRecord>>;
    /// `user` declines their invitation to the room (SPEC R-ROOM-9): it is gone, and its notice
    /// is marked handled in the same write. Fails with `NotFound(Invite)` when they hold none.
    async fn decline_invite(&self, room: &RoomId, user: &UserId) -> StoreResult<()>;
    async fn create_join_request(&self, room: &RoomId, user: &UserId, now: DateTime<Utc>) -> StoreResult<Requested>;
    async fn join_request(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<JoinRequestRecord>>;
    /// Pending requests, oldest first.
    async fn join_requests(&self, room: &RoomId) -> StoreResult<Vec<JoinRequestRecord>>;
    /// Bans `user`, drops their invite and request, and removes them if they are a member.
    async fn ban(&self, room: &RoomId, user: &UserId, by: &UserId, now: DateTime<Utc>) -> StoreResult<BanOutcome>;
    /// Fails with `NotFound(Ban)` when there is none.
    /// Lifts a ban; the notice to the user is stored with it and returned.
    async fn unban(
        &self,
        room: &RoomId,
        user: &UserId,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<NotificationRecord>>;
    async fn is_banned(&self, room: &RoomId, user: &UserId) -> StoreResult<bool>;
    /// Bans, newest first.
    async fn bans(&self, room: &RoomId) -> StoreResult<Vec<BanRecord>>;
}

/// Messages and attachments (SPEC R-MSG-1 to R-MSG-7).
#[async_trait]
pub trait MessageStore: Send + Sync + 'static {
    /// Stores a message with the room's next sequence number, in the same write (SPEC R-MSG-1).
    /// The author must be a member and the room live. A repeated client id stores nothing and
    /// returns the first message. Shows a direct room again to members who had hidden it. An
    /// attachment must be the author's, in this room, and unsent (`NotFound(Attachment)`,
    /// `Conflict(AttachmentUsed)`); it is sent with the message.
    async fn insert_message(&self, message: NewMessage, now: DateTime<Utc>) -> StoreResult<InsertedMessage> {
        self.insert_message_then(message, now, Box::new(|_| {})).await
    }
    /// [`MessageStore::insert_message`], and `on_stored` sees its outcome (a new message, the first
    /// message of a repeated client id, or why nothing was stored) before this returns.
    /// A room's `on_stored` calls run one at a time, in the order its sends took their places,
    /// and a send takes its place when its future is first polled. So a caller that publishes
    /// there publishes a room's new messages in sequence order without holding anything across
    /// the write, and one that polls its sends to a room once each, one after another, sees
    /// their outcomes in that order while they are stored together.
    async fn insert_message_then(
        &self,
        message: NewMessage,
        now: DateTime<Utc>,
        on_stored: OnStored,
    ) -> StoreResult<InsertedMessage>;
    /// Newest first.
    async fn messages(&self, room: &RoomId, range: HistoryRange, limit: u32) -> StoreResult<Vec<MessageRecord>>;
    /// Up to `limit` messages of `rooms` that are not deleted, opened, after `after` in the
    /// order of [`ScanPosition`] (newest first, across the rooms): what a search reads
    /// (R-MSG-11), since sealed bodies can only be matched once opened.
    async fn scan_messages(
        &self,
        rooms: &[RoomId],
        after: Option<&ScanPosition>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// Adds `user`'s `emoji` reaction to a message of the room (SPEC R-MSG-9); `false` when it
    /// was there already (nothing changes). Fails with `NotFound(Message)`, `MessageDeleted`,
    /// `RoomTerminated`, or `Conflict(TooManyReactions)` past `domain::MAX_REACTION_KINDS` emoji.
    async fn add_reaction(
        &self,
        room: &RoomId,
        message: &MessageId,
        user: &UserId,
        emoji: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Takes `user`'s `emoji` reaction back; `false` when there was none. `NotFound(Message)`
    /// when the room has no such message.
    async fn remove_reaction(
        &self,
        room: &RoomId,
        message: &MessageId,
        user: &UserId,
        emoji: &str,
    ) -> StoreResult<bool>;
    /// The reactions to `messages` of the room as `reader` sees them: per message, each emoji in
    /// the order of its earliest reaction still there, with its count and whether `reader` is
    /// among them (never, without a reader: what a whole room is shown).
    async fn reactions(
        &self,
        room: &RoomId,
        messages: &[MessageId],
        reader: Option<&UserId>,
    ) -> StoreResult<Vec<ReactionCount>>;
    async fn message(&self, room: &RoomId, id: &MessageId) -> StoreResult<Option<MessageRecord>>;
    async fn edit_message(
        &self,
        room: &RoomId,
        id: &MessageId,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<MessageRecord>;
    /// Marks the message deleted and forgets its content, attachment included.
    async fn delete_message(&self, room: &RoomId, id: &MessageId, now: DateTime<Utc>) -> StoreResult<MessageRecord>;

    /// Stores an upload, sealed, unsent. The room must exist and be live.
    async fn insert_attachment(&self, attachment: NewAttachment, now: DateTime<Utc>) -> StoreResult<AttachmentRecord>;
    /// An attachment of `room` and its content, opened.
    async fn attachment(&self, room: &RoomId, id: &AttachmentId) -> StoreResult<Option<(AttachmentRecord, Vec<u8>)>>;
    /// Deletes attachments never sent with a message and uploaded before `before`.
    async fn delete_unsent_attachments_before(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// Persisted notifications (SPEC R-NOTE-1, R-NOTE-2), as their users read them. They are stored
/// only by the commands that leave them, in those commands' writes (see `notices.rs`).
#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// Unread first, then newest first.
    async fn notifications(
        &self,
        user: &UserId,
        unread_only: bool,
        after: Option<&NotificationCursor>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationRecord>>;
    /// `user`'s notification `id`, if they have it.
    async fn notification(&self, user: &UserId, id: &NotificationId) -> StoreResult<Option<NotificationRecord>>;
    /// How many of `user`'s notifications are unread.
    async fn unread_notification_count(&self, user: &UserId) -> StoreResult<u64>;
    /// Fails with `NotFound(Notification)` when `user` has no such notification.
    async fn mark_notification_read(&self, user: &UserId, id: &NotificationId) -> StoreResult<()>;
    /// Returns how many were marked.
    async fn mark_all_notifications_read(&self, user: &UserId) -> StoreResult<u64>;
    /// Fails with `NotFound(Notification)` when `user` has no such notification.
    async fn delete_notification(&self, user: &UserId, id: &NotificationId) -> StoreResult<()>;
}

/// The audit trail (SPEC R-OPS-1).
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// A room's audit records, newest first, after `after`.
    async fn room_audit(&self, room: &RoomId, after: Option<&AuditCursor>, limit: u32)
    -> StoreResult<Vec<AuditRecord>>;
    /// A user's account records (sign-up, logins), newest first, after `after`.
    async fn account_audit(
        &self,
        user: &UserId,
        after: Option<&AuditCursor>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
}

/// The wrapped data keys (SPEC R-SEC-2), for a rotation of the server's key pair (R-OPS-7).
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Every wrapped data key with its scope (a room's id, or [`crate::SERVER_KEY_SCOPE`]), in
    /// scope order after `after`: at most `limit`.
    async fn wrapped_keys(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<WrappedKey>>;
    /// Stores `new` as `scope`'s wrapped key if `old` is the one stored: whether it was.
    async fn replace_wrapped_key(&self, scope: &str, old: &[u8], new: &[u8]) -> StoreResult<bool>;
    /// Marks a rotation under way (`true`, before the first key is re-wrapped) or done: while it
    /// is, no server wraps a new data key (rooms are not created: `KeyRotation`), and after it,
    /// a server still holding the old key pair wraps none either. Where every server is kept
    /// out during a rotation anyway (the embedded store's data-folder lock), it marks nothing.
    async fn set_key_rotation(&self, under_way: bool) -> StoreResult<()>;
    /// Whether a rotation is marked under way (one interrupted, or running): a server does not
    /// start then.
    async fn key_rotation_under_way(&self) -> StoreResult<bool>;
}

/// Health, cleanup and buffered writes (SPEC R-OPS-2, R-OPS-3, R-OPS-4).
#[async_trait]
pub trait MaintenanceStore: Send + Sync + 'static {
    /// Whether the backend answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// Deletes rooms terminated before `terminated_before`, and live rooms without any member,
    /// with everything in them (messages, audit trail, bans, room-log entries); returns their ids.
    async fn delete_ended_rooms(&self, terminated_before: DateTime<Utc>) -> StoreResult<Vec<RoomId>>;
    /// Deletes room-log entries (previous rooms) of departures before `before`. Bans stay.
    async fn delete_room_log_before(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Deletes read notifications created before `before`; unread ones stay.
    async fn delete_read_notifications_before(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Deletes refresh tokens that expired before `now` (used, revoked or not).
    async fn delete_expired_refresh_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    /// Applies a batch of deferred writes, in order, in one transaction where the backend has
    /// them (else one per write that changes more than one record). Writes whose target no
    /// longer exists are skipped. Returns the notifications the writes stored, to be told live.
    async fn apply_deferred(&self, writes: Vec<DeferredWrite>) -> StoreResult<Vec<NotificationRecord>>;
}
