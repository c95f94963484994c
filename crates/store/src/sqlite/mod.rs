//! The embedded store: one SQLite file in WAL mode (rusqlite, bundled SQLite).
//!
//! One connection serves every call on a blocking thread; each write is a single `IMMEDIATE`
//! transaction, which is what makes every [`Store`] method atomic here. Sends are the one
//! exception in form, not in effect: concurrent sends share a transaction, and a refused one
//! has written nothing (`group_commit.rs`).

mod accounts;
mod attachments;
mod audit;
pub mod backup;
mod checkpoint;
mod cleanup;
mod deferred;
mod group_commit;
mod keys;
mod messages;
mod notifications;
mod reactions;
mod rooms;
mod rows;
mod schema;

use crate::error::{Cause, StoreError, StoreResult};
use crate::model::*;
use crate::store::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conclave_crypto::Vault;
use conclave_protocol::{AttachmentId, LeaveReason, MessageId, NotificationId, Role, RoomId, UserId};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The SQLite backend of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Sends go through one writer thread that commits those waiting together.
    sends: Arc<group_commit::GroupCommit>,
    /// Seals message bodies (SPEC R-SEC-2) and holds the rooms' unwrapped data keys.
    vault: Arc<Vault>,
    /// Folds the write-ahead log into the file, off the send path (none in memory).
    _checkpoints: Option<Arc<checkpoint::Checkpointer>>,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and brings its schema up to date. `vault`
    /// holds the server key that wraps the rooms' data keys.
    pub fn open(path: &Path, vault: Arc<Vault>) -> StoreResult<Self> {
        Self::open_with(path, vault, plain_batches())
    }

    /// [`SqliteStore::open`], with each group commit's `on_stored` callbacks run inside
    /// `scope` (the server holds its writers' wake-ups until a batch is published, so that the
    /// batch's frames for one connection go out in one write).
    pub fn open_with(path: &Path, vault: Arc<Vault>, scope: BatchScope) -> StoreResult<Self> {
        let conn = Connection::open(path).map_err(rows::backend)?;
        Self::configure(conn, vault, Some(path), scope)
    }

    /// A private database in memory, for tests.
    pub fn open_in_memory(vault: Arc<Vault>) -> StoreResult<Self> {
        let conn = Connection::open_in_memory().map_err(rows::backend)?;
        Self::configure(conn, vault, None, plain_batches())
    }

    fn configure(mut conn: Connection, vault: Arc<Vault>, path: Option<&Path>, scope: BatchScope) -> StoreResult<Self> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(rows::backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(rows::backend)?;
        // Checkpoints are the checkpoint thread's (`checkpoint.rs`), not the committing sends'.
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(rows::backend)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(rows::backend)?;
        // A statement's plan does not depend on the values bound to it: without this, SQLite
        // prepares again, on every send, a statement whose plan looked at a bound value.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(rows::backend)?;
        // Room for every statement of the hot paths (rusqlite keeps 16 by default).
        conn.set_prepared_statement_cache_capacity(128);
        // Deleted content is overwritten with zeros, not left in free pages (R-SEC-2: the
        // plaintext of a database from before sealing, deleted messages' old ciphertext).
        conn.pragma_update(None, "secure_delete", "ON").map_err(rows::backend)?;
        checkpoint::wait_for_checkpoints(&mut conn)?;
        if schema::migrate(&mut conn, &vault)? {
            // What the migrations replaced may linger in the write-ahead log: fold it into the
            // (zeroed) database file and empty it.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(rows::backend)?;
        }
        schema::check_server_key(&conn, &vault)?;
        let checkpoints = path.map(checkpoint::Checkpointer::start).transpose()?.map(Arc::new);
        let conn = Arc::new(Mutex::new(conn));
        let sends = Arc::new(group_commit::GroupCommit::start(Arc::clone(&conn), Arc::clone(&vault), scope)?);
        Ok(Self { conn, sends, vault, _checkpoints: checkpoints })
    }

    /// Runs `f` on the connection, off the async threads.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().map_err(|_| StoreError::Backend(Cause::msg("database lock poisoned")))?;
            f(&guard)
        })
        .await
        .map_err(|e| StoreError::Backend(Cause::msg(format!("database task failed: {e}"))))?
    }

    /// Runs `f` in one transaction: committed when `f` succeeds, rolled back otherwise.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Backend(Cause::msg("database lock poisoned")))?;
            let tx = guard.transaction_with_behavior(TransactionBehavior::Immediate).map_err(rows::backend)?;
            let value = f(&tx)?;
            tx.commit().map_err(rows::backend)?;
            Ok(value)
        })
        .await
        .map_err(|e| StoreError::Backend(Cause::msg(format!("database task failed: {e}"))))?
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<UserRecord> {
        let vault = Arc::clone(&self.vault);
        self.write(move |c| accounts::create_user(c, &vault, user, now)).await
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        let id = id.clone();
        self.read(move |c| accounts::user(c, id.as_str())).await
    }

    async fn update_names(&self, id: &UserId, first: Change<String>, last: Change<String>) -> StoreResult<UserRecord> {
        let id = id.clone();
        self.write(move |c| accounts::update_names(c, &id, first, last)).await
    }

    async fn change_password(&self, id: &UserId, password_hash: &str) -> StoreResult<()> {
        let (id, hash) = (id.clone(), password_hash.to_owned());
        self.write(move |c| accounts::change_password(c, &id, &hash)).await
    }

    async fn set_avatar(&self, id: &UserId, avatar: NewAvatar, now: DateTime<Utc>) -> StoreResult<UserRecord> {
        let (id, vault) = (id.clone(), Arc::clone(&self.vault));
        self.write(move |c| accounts::set_avatar(c, &vault, &id, avatar, now)).await
    }

    async fn remove_avatar(&self, id: &UserId) -> StoreResult<UserRecord> {
        let id = id.clone();
        self.write(move |c| accounts::remove_avatar(c, &id)).await
    }

    async fn avatar(&self, id: &UserId) -> StoreResult<Option<AvatarRecord>> {
        let (id, vault) = (id.clone(), Arc::clone(&self.vault));
        self.read(move |c| accounts::avatar(c, &vault, &id)).await
    }

    async fn delete_account(&self, id: &UserId, now: DateTime<Utc>) -> StoreResult<()> {
        let (id, vault) = (id.clone(), Arc::clone(&self.vault));
        self.write(move |c| accounts::delete_account(c, &vault, &id, now)).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_owned();
        self.read(move |c| accounts::user_by_username(c, &username)).await
    }

    async fn search_users(&self, prefix: &str, after: Option<&str>, limit: u32) -> StoreResult<Vec<UserRecord>> {
        let (prefix, after) = (prefix.to_owned(), after.map(str::to_owned));
        self.read(move |c| accounts::search_users(c, &prefix, after.as_deref(), limit)).await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_refresh_token(&self, token: NewRefreshToken, now: DateTime<Utc>) -> StoreResult<()> {
        let vault = Arc::clone(&self.vault);
        self.write(move |c| accounts::insert_refresh_token(c, &vault, token, now)).await
    }

    async fn rotate_refresh_token(
        &self,
        old_digest: &str,
        new_digest: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        let (old, new) = (old_digest.to_owned(), new_digest.to_owned());
        self.write(move |c| accounts::rotate_refresh_token(c, &old, &new, new_expires_at, now)).await
    }

    async fn refresh_token_user(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<UserId>> {
        let digest = digest.to_owned();
        self.read(move |c| accounts::refresh_token_user(c, &digest, now)).await
    }

    async fn revoke_refresh_family(&self, digest: &str) -> StoreResult<()> {
        let digest = digest.to_owned();
        self.write(move |c| accounts::revoke_refresh_family(c, &digest)).await
    }
}

#[async_trait]
impl RoomStore for SqliteStore {
    async fn create_room(&self, room: NewRoom, owner: &UserId, now: DateTime<Utc>) -> StoreResult<RoomRecord> {
        let owner = owner.clone();
        let vault = Arc::clone(&self.vault);
        self.write(move |c| rooms::create_room(c, &vault, room, &owner, now)).await
    }

    async fn open_direct_room(
        &self,
        a: &UserId,
        b: &UserId,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomRecord> {
        let (a, b, name) = (a.clone(), b.clone(), name.to_owned());
        let vault = Arc::clone(&self.vault);
        self.write(move |c| rooms::open_direct_room(c, &vault, &a, &b, &name, now)).await
    }

    async fn room(&self, id: &RoomId) -> StoreResult<Option<RoomRecord>> {
        let id = id.clone();
        self.read(move |c| rooms::room(c, id.as_str())).await
    }

    async fn update_room(&self, id: &RoomId, patch: RoomPatch) -> StoreResult<RoomRecord> {
        let id = id.clone();
        self.write(move |c| rooms::update_room(c, &id, patch)).await
    }

    async fn search_rooms(
        &self,
        prefix: &str,
        searcher: &UserId,
        after: Option<&RoomSearchCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RoomRecord>> {
        let (prefix, searcher, after) = (prefix.to_owned(), searcher.clone(), after.cloned());
        self.read(move |c| rooms::search_rooms(c, &prefix, &searcher, after.as_ref(), limit)).await
    }

    async fn rooms_of_user(
        &self,
        user: &UserId,
        after_join_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<MyRoomRecord>> {
        let user = user.clone();
        self.read(move |c| rooms::rooms_of_user(c, &user, after_join_seq, limit)).await
    }

    async fn room_ids_of_user(&self, user: &UserId) -> StoreResult<Vec<RoomId>> {
        let user = user.clone();
        self.read(move |c| rooms::room_ids_of_user(c, &user)).await
    }

    async fn terminate_room(&self, id: &RoomId, by: &UserId, now: DateTime<Utc>) -> StoreResult<TerminationRecord> {
        let (id, by, vault) = (id.clone(), by.clone(), Arc::clone(&self.vault));
        self.write(move |c| rooms::terminate_room(c, &vault, &id, &by, now)).await
    }

    async fn room_log(
        &self,
        user: &UserId,
        after: Option<&RoomLogCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RoomLogRecord>> {
        let (user, after) = (user.clone(), after.cloned());
        self.read(move |c| rooms::room_log(c, &user, after.as_ref(), limit)).await
    }
}

#[async_trait]
impl MembershipStore for SqliteStore {
    async fn membership(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<MembershipRecord>> {
        let (room, user) = (room.clone(), user.clone());
        self.read(move |c| rooms::membership(c, room.as_str(), user.as_str())).await
    }

    async fn members(&self, room: &RoomId, after_join_seq: Option<i64>, limit: u32) -> StoreResult<Vec<MemberRecord>> {
        let room = room.clone();
        self.read(move |c| rooms::members(c, &room, after_join_seq, limit)).await
    }

    async fn room_admins(&self, room: &RoomId) -> StoreResult<Vec<UserId>> {
        let room = room.clone();
        self.read(move |c| rooms::room_admins(c, &room)).await
    }

    async fn direct_peers(&self, user: &UserId, rooms: &[RoomId]) -> StoreResult<Vec<(RoomId, UserRecord)>> {
        let (user, rooms) = (user.clone(), rooms.to_vec());
        self.read(move |c| rooms::direct_peers(c, &user, &rooms)).await
    }

    async fn add_member(
        &self,
        room: &RoomId,
        user: &UserId,
        role: Role,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Admitted> {
        let (room, user, by, vault) = (room.clone(), user.clone(), by.clone(), Arc::clone(&self.vault));
        self.write(move |c| rooms::add_member(c, &vault, &room, &user, role, &by, now)).await
    }

    async fn remove_member(
        &self,
        room: &RoomId,
        user: &UserId,
        reason: LeaveReason,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<DepartureRecord> {
        let (room, user, by, vault) = (room.clone(), user.clone(), by.clone(), Arc::clone(&self.vault));
        self.write(move |c| rooms::remove_member(c, &vault, &room, &user, reason, &by, now)).await
    }

    async fn hide_direct_room(&self, room: &RoomId, user: &UserId) -> StoreResult<()> {
        let (room, user) = (room.clone(), user.clone());
        self.write(move |c| rooms::hide_direct_room(c, &room, &user)).await
    }

    async fn set_role(
        &self,
        room: &RoomId,
        user: &UserId,
        role: Role,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoleChange> {
        let (room, user, by, vault) = (room.clone(), user.clone(), by.clone(), Arc::clone(&self.vault));
        self.write(move |c| rooms::set_role(c, &vault, &room, &user, role, &by, now)).await
    }

    async fn mark_read(&self, room: &RoomId, user: &UserId, seq: u64) -> StoreResult<()> {
        let (room, user) = (room.clone(), user.clone());
        self.write(move |c| rooms::mark_read(c, &room, &user, seq)).await
    }
}

#[async_trait]
impl ModerationStore for SqliteStore {
    async fn create_invite(
        &self,
        room: &RoomId,
        user: &UserId,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Invited> {
        let (room, user, by) = (room.clone(), user.clone(), by.clone());
        self.write(move |c| rooms::create_invite(c, &room, &user, &by, now)).await
    }

    async fn invite(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<InviteRecord>> {
        let (room, user) = (room.clone(), user.clone());
        self.read(move |c| rooms::invite(c, &room, &user)).await
    }

    async fn decline_invite(&self, room: &RoomId, user: &UserId) -> StoreResult<()> {
        let (room, user) = (room.clone(), user.clone());
        self.write(move |c| rooms::decline_invite(c, &room, &user)).await
    }

    async fn create_join_request(&self, room: &RoomId, user: &UserId, now: DateTime<Utc>) -> StoreResult<Requested> {
        let (room, user) = (room.clone(), user.clone());
        self.write(move |c| rooms::create_join_request(c, &room, &user, now)).await
    }

    async fn join_request(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<JoinRequestRecord>> {
        let (room, user) = (room.clone(), user.clone());
        self.read(move |c| rooms::join_request(c, &room, &user)).await
    }

    async fn join_requests(&self, room: &RoomId) -> StoreResult<Vec<JoinRequestRecord>> {
        let room = room.clone();
        self.read(move |c| rooms::join_requests(c, &room)).await
    }

    async fn ban(&self, room: &RoomId, user: &UserId, by: &UserId, now: DateTime<Utc>) -> StoreResult<BanOutcome> {
        let (room, user, by, vault) = (room.clone(), user.clone(), by.clone(), Arc::clone(&self.vault));
        self.write(move |c| rooms::ban(c, &vault, &room, &user, &by, now)).await
    }

    async fn unban(
        &self,
        room: &RoomId,
        user: &UserId,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let (room, user, by, vault) = (room.clone(), user.clone(), by.clone(), Arc::clone(&self.vault));
        self.write(move |c| rooms::unban(c, &vault, &room, &user, &by, now)).await
    }

    async fn is_banned(&self, room: &RoomId, user: &UserId) -> StoreResult<bool> {
        let (room, user) = (room.clone(), user.clone());
        self.read(move |c| rooms::is_banned(c, &room, &user)).await
    }

    async fn bans(&self, room: &RoomId) -> StoreResult<Vec<BanRecord>> {
        let room = room.clone();
        self.read(move |c| rooms::bans(c, &room)).await
    }
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn insert_message_then(
        &self,
        message: NewMessage,
        now: DateTime<Utc>,
        on_stored: OnStored,
    ) -> StoreResult<InsertedMessage> {
        self.sends.insert(message, now, on_stored).await
    }

    async fn messages(&self, room: &RoomId, range: HistoryRange, limit: u32) -> StoreResult<Vec<MessageRecord>> {
        let room = room.clone();
        let vault = Arc::clone(&self.vault);
        self.read(move |c| messages::messages(c, &vault, &room, range, limit)).await
    }

    async fn scan_messages(
        &self,
        rooms: &[RoomId],
        after: Option<&ScanPosition>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        let (rooms, after, vault) = (rooms.to_vec(), after.cloned(), Arc::clone(&self.vault));
        self.read(move |c| messages::scan_messages(c, &vault, &rooms, after.as_ref(), limit)).await
    }

    async fn message(&self, room: &RoomId, id: &MessageId) -> StoreResult<Option<MessageRecord>> {
        let (room, id) = (room.clone(), id.clone());
        let vault = Arc::clone(&self.vault);
        self.read(move |c| messages::message(c, &vault, &room, &id)).await
    }

    async fn add_reaction(
        &self,
        room: &RoomId,
        message: &MessageId,
        user: &UserId,
        emoji: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (room, message, user, emoji) = (room.clone(), message.clone(), user.clone(), emoji.to_owned());
        self.write(move |c| reactions::add_reaction(c, &room, &message, &user, &emoji, now)).await
    }

    async fn remove_reaction(
        &self,
        room: &RoomId,
        message: &MessageId,
        user: &UserId,
        emoji: &str,
    ) -> StoreResult<bool> {
        let (room, message, user, emoji) = (room.clone(), message.clone(), user.clone(), emoji.to_owned());
        self.write(move |c| reactions::remove_reaction(c, &room, &message, &user, &emoji)).await
    }

    async fn reactions(
        &self,
        room: &RoomId,
        messages: &[MessageId],
        reader: Option<&UserId>,
    ) -> StoreResult<Vec<ReactionCount>> {
        let (room, messages, reader) = (room.clone(), messages.to_vec(), reader.cloned());
        self.read(move |c| reactions::reactions(c, &room, &messages, reader.as_ref())).await
    }

    async fn edit_message(
        &self,
        room: &RoomId,
        id: &MessageId,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<MessageRecord> {
        let (room, id, body) = (room.clone(), id.clone(), body.to_owned());
        let vault = Arc::clone(&self.vault);
        self.write(move |c| messages::edit_message(c, &vault, &room, &id, &body, now)).await
    }

    async fn delete_message(&self, room: &RoomId, id: &MessageId, now: DateTime<Utc>) -> StoreResult<MessageRecord> {
        let (room, id) = (room.clone(), id.clone());
        let vault = Arc::clone(&self.vault);
        self.write(move |c| messages::delete_message(c, &vault, &room, &id, now)).await
    }

    async fn insert_attachment(&self, attachment: NewAttachment, now: DateTime<Utc>) -> StoreResult<AttachmentRecord> {
        let vault = Arc::clone(&self.vault);
        self.write(move |c| attachments::insert_attachment(c, &vault, attachment, now)).await
    }

    async fn attachment(&self, room: &RoomId, id: &AttachmentId) -> StoreResult<Option<(AttachmentRecord, Vec<u8>)>> {
        let (room, id, vault) = (room.clone(), id.clone(), Arc::clone(&self.vault));
        self.read(move |c| attachments::attachment(c, &vault, &room, &id)).await
    }

    async fn delete_unsent_attachments_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |c| cleanup::delete_unsent_attachments_before(c, before)).await
    }
}

#[async_trait]
impl NotificationStore for SqliteStore {
    async fn notifications(
        &self,
        user: &UserId,
        unread_only: bool,
        after: Option<&NotificationCursor>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let (user, after) = (user.clone(), after.cloned());
        self.read(move |c| notifications::notifications(c, &user, unread_only, after.as_ref(), limit)).await
    }

    async fn mark_notification_read(&self, user: &UserId, id: &NotificationId) -> StoreResult<()> {
        let (user, id) = (user.clone(), id.clone());
        self.write(move |c| notifications::mark_notification_read(c, &user, &id)).await
    }

    async fn mark_all_notifications_read(&self, user: &UserId) -> StoreResult<u64> {
        let user = user.clone();
        self.write(move |c| notifications::mark_all_notifications_read(c, &user)).await
    }

    async fn delete_notification(&self, user: &UserId, id: &NotificationId) -> StoreResult<()> {
        let (user, id) = (user.clone(), id.clone());
        self.write(move |c| notifications::delete_notification(c, &user, &id)).await
    }

    async fn notification(&self, user: &UserId, id: &NotificationId) -> StoreResult<Option<NotificationRecord>> {
        let (user, id) = (user.clone(), id.clone());
        self.read(move |c| notifications::notification(c, &user, &id)).await
    }

    async fn unread_notification_count(&self, user: &UserId) -> StoreResult<u64> {
        let user = user.clone();
        self.read(move |c| notifications::unread_notification_count(c, &user)).await
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn room_audit(
        &self,
        room: &RoomId,
        after: Option<&AuditCursor>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        let (room, after, vault) = (room.clone(), after.cloned(), Arc::clone(&self.vault));
        self.read(move |c| audit::room_audit(c, &vault, &room, after.as_ref(), limit)).await
    }

    async fn account_audit(
        &self,
        user: &UserId,
        after: Option<&AuditCursor>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        let (user, after, vault) = (user.clone(), after.cloned(), Arc::clone(&self.vault));
        self.read(move |c| audit::account_audit(c, &vault, &user, after.as_ref(), limit)).await
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn wrapped_keys(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<WrappedKey>> {
        let after = after.unwrap_or_default().to_owned();
        self.read(move |c| keys::wrapped_keys(c, &after, limit)).await
    }

    async fn replace_wrapped_key(&self, scope: &str, old: &[u8], new: &[u8]) -> StoreResult<bool> {
        let (scope, old, new) = (scope.to_owned(), old.to_vec(), new.to_vec());
        self.write(move |c| keys::replace_wrapped_key(c, &scope, &old, &new)).await
    }

    /// Marks nothing: a rotation holds the data folder's lock, so no server runs meanwhile.
    async fn set_key_rotation(&self, _under_way: bool) -> StoreResult<()> {
        Ok(())
    }

    async fn key_rotation_under_way(&self) -> StoreResult<bool> {
        Ok(false)
    }
}

#[async_trait]
impl MaintenanceStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(rows::backend)).await
    }

    async fn delete_ended_rooms(&self, terminated_before: DateTime<Utc>) -> StoreResult<Vec<RoomId>> {
        let vault = Arc::clone(&self.vault);
        self.write(move |c| cleanup::delete_ended_rooms(c, &vault, terminated_before)).await
    }

    async fn delete_room_log_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |c| cleanup::delete_room_log_before(c, before)).await
    }

    async fn delete_read_notifications_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |c| cleanup::delete_read_notifications_before(c, before)).await
    }

    async fn delete_expired_refresh_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |c| cleanup::delete_expired_refresh_tokens(c, now)).await
    }

    async fn apply_deferred(&self, writes: Vec<DeferredWrite>) -> StoreResult<Vec<NotificationRecord>> {
        self.write(move |c| deferred::apply(c, writes)).await
    }
}
