//! Read-your-writes over buffered writes (SPEC R-OPS-3): the store as the application sees it.
//! Every read that shows what a buffered write changes first waits for the buffered writes it
//! touches ([`Touch`]): a user's notifications and unread counts after they marked them read or
//! while a decline may tell them or mark their notice of its request handled, a room's join
//! requests after a decline, user records after a last-seen time moved. Everything
//! else passes straight through. No command has to remember to settle anything.

use super::write_behind::{Touch, WriteBehind};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conclave_protocol::{AttachmentId, LeaveReason, MessageId, NotificationId, Role, RoomId, UserId};
use conclave_store::*;
use std::sync::Arc;

/// The store behind the write-behind buffer that fills it.
pub struct ReadYourWrites {
    store: Arc<dyn Store>,
    buffer: Arc<WriteBehind>,
}

impl ReadYourWrites {
    pub fn new(store: Arc<dyn Store>, buffer: Arc<WriteBehind>) -> Self {
        Self { store, buffer }
    }
}

#[async_trait]
impl UserStore for ReadYourWrites {
    async fn create_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<UserRecord> {
        self.store.create_user(user, now).await
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        self.store.user(id).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        self.buffer.settle_touching(&[Touch::LastSeen]).await;
        self.store.user_by_username(username).await
    }

    async fn update_names(&self, id: &UserId, first: Change<String>, last: Change<String>) -> StoreResult<UserRecord> {
        self.store.update_names(id, first, last).await
    }

    async fn change_password(&self, id: &UserId, password_hash: &str) -> StoreResult<()> {
        self.store.change_password(id, password_hash).await
    }

    async fn set_avatar(&self, id: &UserId, avatar: NewAvatar, now: DateTime<Utc>) -> StoreResult<UserRecord> {
        self.store.set_avatar(id, avatar, now).await
    }

    async fn remove_avatar(&self, id: &UserId) -> StoreResult<UserRecord> {
        self.store.remove_avatar(id).await
    }

    async fn avatar(&self, id: &UserId) -> StoreResult<Option<AvatarRecord>> {
        self.store.avatar(id).await
    }

    async fn delete_account(&self, id: &UserId, now: DateTime<Utc>) -> StoreResult<()> {
        // The account's buffered last-seen and read markers land before it goes.
        self.buffer.settle_touching(&[Touch::LastSeen, Touch::User(id.clone())]).await;
        self.store.delete_account(id, now).await
    }

    async fn search_users(&self, prefix: &str, after: Option<&str>, limit: u32) -> StoreResult<Vec<UserRecord>> {
        self.buffer.settle_touching(&[Touch::LastSeen]).await;
        self.store.search_users(prefix, after, limit).await
    }
}

#[async_trait]
impl TokenStore for ReadYourWrites {
    async fn insert_refresh_token(&self, token: NewRefreshToken, now: DateTime<Utc>) -> StoreResult<()> {
        self.store.insert_refresh_token(token, now).await
    }

    async fn rotate_refresh_token(
        &self,
        old_digest: &str,
        new_digest: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        self.store.rotate_refresh_token(old_digest, new_digest, new_expires_at, now).await
    }

    async fn refresh_token_user(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<UserId>> {
        self.store.refresh_token_user(digest, now).await
    }

    async fn revoke_refresh_family(&self, digest: &str) -> StoreResult<()> {
        self.store.revoke_refresh_family(digest).await
    }
}

#[async_trait]
impl RoomStore for ReadYourWrites {
    async fn create_room(&self, room: NewRoom, owner: &UserId, now: DateTime<Utc>) -> StoreResult<RoomRecord> {
        self.store.create_room(room, owner, now).await
    }

    async fn open_direct_room(
        &self,
        a: &UserId,
        b: &UserId,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomRecord> {
        self.store.open_direct_room(a, b, name, now).await
    }

    async fn room(&self, id: &RoomId) -> StoreResult<Option<RoomRecord>> {
        self.store.room(id).await
    }

    async fn update_room(&self, id: &RoomId, patch: RoomPatch) -> StoreResult<RoomRecord> {
        self.store.update_room(id, patch).await
    }

    async fn search_rooms(
        &self,
        prefix: &str,
        searcher: &UserId,
        after: Option<&RoomSearchCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RoomRecord>> {
        self.store.search_rooms(prefix, searcher, after, limit).await
    }

    async fn rooms_of_user(
        &self,
        user: &UserId,
        after_join_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<MyRoomRecord>> {
        self.buffer.settle_touching(&[Touch::User(user.clone())]).await;
        self.store.rooms_of_user(user, after_join_seq, limit).await
    }

    async fn room_ids_of_user(&self, user: &UserId) -> StoreResult<Vec<RoomId>> {
        self.store.room_ids_of_user(user).await
    }

    async fn terminate_room(&self, id: &RoomId, by: &UserId, now: DateTime<Utc>) -> StoreResult<TerminationRecord> {
        self.store.terminate_room(id, by, now).await
    }

    async fn room_log(
        &self,
        user: &UserId,
        after: Option<&RoomLogCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RoomLogRecord>> {
        self.store.room_log(user, after, limit).await
    }
}

#[async_trait]
impl MembershipStore for ReadYourWrites {
    async fn membership(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<MembershipRecord>> {
        self.store.membership(room, user).await
    }

    async fn members(&self, room: &RoomId, after_join_seq: Option<i64>, limit: u32) -> StoreResult<Vec<MemberRecord>> {
        self.buffer.settle_touching(&[Touch::LastSeen]).await;
        self.store.members(room, after_join_seq, limit).await
    }

    async fn room_admins(&self, room: &RoomId) -> StoreResult<Vec<UserId>> {
        self.store.room_admins(room).await
    }

    async fn direct_peers(&self, user: &UserId, rooms: &[RoomId]) -> StoreResult<Vec<(RoomId, UserRecord)>> {
        self.store.direct_peers(user, rooms).await
    }

    async fn add_member(
        &self,
        room: &RoomId,
        user: &UserId,
        role: Role,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Admitted> {
        self.store.add_member(room, user, role, by, now).await
    }

    async fn remove_member(
        &self,
        room: &RoomId,
        user: &UserId,
        reason: LeaveReason,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<DepartureRecord> {
        self.store.remove_member(room, user, reason, by, now).await
    }

    async fn hide_direct_room(&self, room: &RoomId, user: &UserId) -> StoreResult<()> {
        self.store.hide_direct_room(room, user).await
    }

    async fn set_role(
        &self,
        room: &RoomId,
        user: &UserId,
        role: Role,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoleChange> {
        self.store.set_role(room, user, role, by, now).await
    }

    async fn mark_read(&self, room: &RoomId, user: &UserId, seq: u64) -> StoreResult<()> {
        self.store.mark_read(room, user, seq).await
    }
}

#[async_trait]
impl ModerationStore for ReadYourWrites {
    async fn create_invite(
        &self,
        room: &RoomId,
        user: &UserId,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Invited> {
        self.store.create_invite(room, user, by, now).await
    }

    async fn invite(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<InviteRecord>> {
        self.store.invite(room, user).await
    }

    async fn decline_invite(&self, room: &RoomId, user: &UserId) -> StoreResult<()> {
        self.store.decline_invite(room, user).await
    }

    async fn create_join_request(&self, room: &RoomId, user: &UserId, now: DateTime<Utc>) -> StoreResult<Requested> {
        self.store.create_join_request(room, user, now).await
    }

    async fn join_request(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<JoinRequestRecord>> {
        self.buffer.settle_touching(&[Touch::Room(room.clone())]).await;
        self.store.join_request(room, user).await
    }

    async fn join_requests(&self, room: &RoomId) -> StoreResult<Vec<JoinRequestRecord>> {
        self.buffer.settle_touching(&[Touch::Room(room.clone()), Touch::LastSeen]).await;
        self.store.join_requests(room).await
    }

    async fn ban(&self, room: &RoomId, user: &UserId, by: &UserId, now: DateTime<Utc>) -> StoreResult<BanOutcome> {
        self.store.ban(room, user, by, now).await
    }

    async fn unban(
        &self,
        room: &RoomId,
        user: &UserId,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<NotificationRecord>> {
        self.store.unban(room, user, by, now).await
    }

    async fn is_banned(&self, room: &RoomId, user: &UserId) -> StoreResult<bool> {
        self.store.is_banned(room, user).await
    }

    async fn bans(&self, room: &RoomId) -> StoreResult<Vec<BanRecord>> {
        self.store.bans(room).await
    }
}

#[async_trait]
impl MessageStore for ReadYourWrites {
    async fn insert_message_then(
        &self,
        message: NewMessage,
        now: DateTime<Utc>,
        on_stored: OnStored,
    ) -> StoreResult<InsertedMessage> {
        self.store.insert_message_then(message, now, on_stored).await
    }

    async fn messages(&self, room: &RoomId, range: HistoryRange, limit: u32) -> StoreResult<Vec<MessageRecord>> {
        self.store.messages(room, range, limit).await
    }

    async fn message(&self, room: &RoomId, id: &MessageId) -> StoreResult<Option<MessageRecord>> {
        self.store.message(room, id).await
    }

    async fn scan_messages(
        &self,
        rooms: &[RoomId],
        after: Option<&ScanPosition>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.store.scan_messages(rooms, after, limit).await
    }

    async fn add_reaction(
        &self,
        room: &RoomId,
        message: &MessageId,
        user: &UserId,
        emoji: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.store.add_reaction(room, message, user, emoji, now).await
    }

    async fn remove_reaction(
        &self,
        room: &RoomId,
        message: &MessageId,
        user: &UserId,
        emoji: &str,
    ) -> StoreResult<bool> {
        self.store.remove_reaction(room, message, user, emoji).await
    }

    async fn reactions(
        &self,
        room: &RoomId,
        messages: &[MessageId],
        reader: Option<&UserId>,
    ) -> StoreResult<Vec<ReactionCount>> {
        self.store.reactions(room, messages, reader).await
    }

    async fn edit_message(
        &self,
        room: &RoomId,
        id: &MessageId,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<MessageRecord> {
        self.store.edit_message(room, id, body, now).await
    }

    async fn delete_message(&self, room: &RoomId, id: &MessageId, now: DateTime<Utc>) -> StoreResult<MessageRecord> {
        self.store.delete_message(room, id, now).await
    }

    async fn insert_attachment(&self, attachment: NewAttachment, now: DateTime<Utc>) -> StoreResult<AttachmentRecord> {
        self.store.insert_attachment(attachment, now).await
    }

    async fn attachment(&self, room: &RoomId, id: &AttachmentId) -> StoreResult<Option<(AttachmentRecord, Vec<u8>)>> {
        self.store.attachment(room, id).await
    }

    async fn delete_unsent_attachments_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.store.delete_unsent_attachments_before(before).await
    }
}

#[async_trait]
impl NotificationStore for ReadYourWrites {
    async fn notifications(
        &self,
        user: &UserId,
        unread_only: bool,
        after: Option<&NotificationCursor>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationRecord>> {
        self.buffer.settle_touching(&[Touch::User(user.clone()), Touch::RequestNotices]).await;
        self.store.notifications(user, unread_only, after, limit).await
    }

    /// Whether one exists (for marking it read): its read flag may be behind.
    async fn notification(&self, user: &UserId, id: &NotificationId) -> StoreResult<Option<NotificationRecord>> {
        self.store.notification(user, id).await
    }

    async fn unread_notification_count(&self, user: &UserId) -> StoreResult<u64> {
        self.buffer.settle_touching(&[Touch::User(user.clone()), Touch::RequestNotices]).await;
        self.store.unread_notification_count(user).await
    }

    async fn mark_notification_read(&self, user: &UserId, id: &NotificationId) -> StoreResult<()> {
        self.store.mark_notification_read(user, id).await
    }

    async fn mark_all_notifications_read(&self, user: &UserId) -> StoreResult<u64> {
        self.store.mark_all_notifications_read(user).await
    }

    async fn delete_notification(&self, user: &UserId, id: &NotificationId) -> StoreResult<()> {
        self.store.delete_notification(user, id).await
    }
}

#[async_trait]
impl AuditStore for ReadYourWrites {
    async fn room_audit(
        &self,
        room: &RoomId,
        after: Option<&AuditCursor>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.store.room_audit(room, after, limit).await
    }

    async fn account_audit(
        &self,
        user: &UserId,
        after: Option<&AuditCursor>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.store.account_audit(user, after, limit).await
    }
}

#[async_trait]
impl KeyStore for ReadYourWrites {
    async fn wrapped_keys(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<WrappedKey>> {
        self.store.wrapped_keys(after, limit).await
    }

    async fn replace_wrapped_key(&self, scope: &str, old: &[u8], new: &[u8]) -> StoreResult<bool> {
        self.store.replace_wrapped_key(scope, old, new).await
    }

    async fn set_key_rotation(&self, under_way: bool) -> StoreResult<()> {
        self.store.set_key_rotation(under_way).await
    }

    async fn key_rotation_under_way(&self) -> StoreResult<bool> {
        self.store.key_rotation_under_way().await
    }
}

#[async_trait]
impl MaintenanceStore for ReadYourWrites {
    async fn ping(&self) -> StoreResult<()> {
        self.store.ping().await
    }

    async fn delete_ended_rooms(&self, terminated_before: DateTime<Utc>) -> StoreResult<Vec<RoomId>> {
        self.store.delete_ended_rooms(terminated_before).await
    }

    async fn delete_room_log_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.store.delete_room_log_before(before).await
    }

    async fn delete_read_notifications_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.store.delete_read_notifications_before(before).await
    }

    async fn delete_expired_refresh_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.store.delete_expired_refresh_tokens(now).await
    }

    async fn apply_deferred(&self, writes: Vec<DeferredWrite>) -> StoreResult<Vec<NotificationRecord>> {
        self.store.apply_deferred(writes).await
    }
}
