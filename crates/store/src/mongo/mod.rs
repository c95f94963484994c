//! The production store: MongoDB through the official `mongodb` driver.
//!
//! How each [`Store`] command stays atomic here:
//! - A command that writes more than one document runs in one multi-document transaction
//!   (snapshot reads, majority writes), which [`transaction!`] runs again from the start on
//!   transient errors: that is what a write conflict between two transactions is.
//! - Every transaction that changes a room writes the room document first (a sequence number,
//!   or [`lock_room`]'s revision). Two such transactions on one room therefore conflict and run
//!   one after the other, as SQLite's `IMMEDIATE` transactions do; this is what keeps sequence
//!   numbers gapless and unique under concurrent senders and makes the SPEC R-ROOM-5 departure
//!   step see the members as they are.
//! - Within this process, transactions on one room queue behind each other first
//!   ([`RoomLocks`]), so write conflicts are left for transactions from other processes.
//! - A command that writes one document is a single atomic update (`$max` on a read marker,
//!   `$set` on a notification) and needs no transaction.
//! - Unique indexes back every uniqueness rule, and their violations (code 11000) become
//!   [`crate::Conflict`]s.

mod accounts;
mod attachments;
mod audit;
mod cleanup;
mod deferred;
mod docs;
mod keys;
mod messages;
mod notifications;
mod reactions;
mod rooms;
mod schema;

use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::room_locks::RoomLocks;
use crate::sealing::{self, SERVER_SCOPE};
use crate::store::*;
use async_trait::async_trait;
use bson::doc;
use chrono::{DateTime, Utc};
use conclave_crypto::Vault;
use conclave_protocol::{AttachmentId, LeaveReason, MessageId, NotificationId, Role, RoomId, UserId};
use docs::*;
use mongodb::error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::options::{ClientOptions, ReadConcern, WriteConcern};
use mongodb::{Client, ClientSession, Collection, Database};
use std::sync::Arc;

/// The database used when the URI names none.
pub const DEFAULT_DATABASE: &str = "conclave";

/// Runs `$step`, an expression that uses the session `$s`, in one transaction: committed when
/// it succeeds, aborted when it fails, and run again from the start on transient errors (a write
/// conflict with a concurrent transaction), for up to [`RETRY_FOR`].
///
/// A macro rather than a function taking a closure: a closure returning a future that borrows
/// both the session and the caller's arguments cannot be proven `Send` for every lifetime.
macro_rules! transaction {
    ($store:expr, |$s:ident| $step:expr) => {
        async {
            let mut session = $store.session().await?;
            let started = std::time::Instant::now();
            let mut attempt = 0_u32;
            'attempt: loop {
                if attempt > 0 {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                attempt += 1;
                session
                    .start_transaction()
                    .read_concern(ReadConcern::snapshot())
                    .write_concern(WriteConcern::majority())
                    .await?;
                let outcome = {
                    let $s = &mut session;
                    $step.await
                };
                let value = match outcome {
                    Ok(value) => value,
                    Err(error) => {
                        // The server may have aborted it already; either way it is over.
                        session.abort_transaction().await.ok();
                        if error.contains_label(TRANSIENT_TRANSACTION_ERROR) && started.elapsed() < RETRY_FOR {
                            continue 'attempt;
                        }
                        return Err(error);
                    }
                };
                loop {
                    match session.commit_transaction().await {
                        Ok(()) => return Ok(value),
                        Err(error)
                            if error.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                                && started.elapsed() < RETRY_FOR => {}
                        Err(error)
                            if error.contains_label(TRANSIENT_TRANSACTION_ERROR) && started.elapsed() < RETRY_FOR =>
                        {
                            continue 'attempt;
                        }
                        Err(error) => return Err(error),
                    }
                }
            }
        }
        .await
        .map_err(into_store_error)
    };
}

/// A random wait before the `attempt`th retry, growing up to 64 ms, so that transactions that
/// conflicted do not meet again at once.
fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling_ms = 1_u64 << attempt.min(6);
    std::time::Duration::from_micros(fastrand::u64(0..=ceiling_ms * 1000))
}

/// How long a transaction is retried on transient errors before its error is returned.
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// The collections, typed by their documents.
#[derive(Clone)]
pub(crate) struct Collections {
    pub users: Collection<UserDoc>,
    pub refresh_tokens: Collection<RefreshTokenDoc>,
    pub rooms: Collection<RoomDoc>,
    pub memberships: Collection<MembershipDoc>,
    pub invites: Collection<InviteDoc>,
    pub join_requests: Collection<JoinRequestDoc>,
    pub bans: Collection<BanDoc>,
    pub messages: Collection<MessageDoc>,
    pub notifications: Collection<NotificationDoc>,
    pub room_log: Collection<RoomLogDoc>,
    pub counters: Collection<CounterDoc>,
    pub data_keys: Collection<DataKeyDoc>,
    pub audit: Collection<AuditDoc>,
    pub attachments: Collection<AttachmentDoc>,
    pub reactions: Collection<ReactionDoc>,
    pub avatars: Collection<AvatarDoc>,
    /// Seals what the collections keep (SPEC R-SEC-2) and holds the unwrapped data keys.
    pub vault: Arc<Vault>,
    /// The store's own key as it was wrapped when this server started: a new data key is
    /// wrapped only while it is still so (see `keys::fence_new_key`).
    pub server_wrapped: Arc<Vec<u8>>,
}

impl Collections {
    fn of(db: &Database, vault: Arc<Vault>) -> Self {
        Collections {
            users: db.collection(schema::USERS),
            refresh_tokens: db.collection(schema::REFRESH_TOKENS),
            rooms: db.collection(schema::ROOMS),
            memberships: db.collection(schema::MEMBERSHIPS),
            invites: db.collection(schema::INVITES),
            join_requests: db.collection(schema::JOIN_REQUESTS),
            bans: db.collection(schema::BANS),
            messages: db.collection(schema::MESSAGES),
            notifications: db.collection(schema::NOTIFICATIONS),
            room_log: db.collection(schema::ROOM_LOG),
            counters: db.collection(schema::COUNTERS),
            data_keys: db.collection(schema::DATA_KEYS),
            audit: db.collection(schema::AUDIT),
            attachments: db.collection(schema::ATTACHMENTS),
            reactions: db.collection(schema::REACTIONS),
            avatars: db.collection(schema::AVATARS),
            vault,
            server_wrapped: Arc::new(Vec::new()),
        }
    }
}

/// The MongoDB backend of [`Store`].
#[derive(Clone)]
pub struct MongoStore {
    client: Client,
    db: Database,
    c: Collections,
    /// Queues this process's transactions on one room one behind the other. Without it,
    /// concurrent senders to a room meet as write conflicts and retry: correct, but a retry
    /// storm (8 concurrent senders made about three retries per message, some of them waiting
    /// seconds). Transactions from other processes still meet as conflicts and retry.
    queues: Arc<RoomLocks>,
}

impl MongoStore {
    /// Connects to `uri` and prepares the database it names ([`DEFAULT_DATABASE`] when it names
    /// none): collections, validators and indexes, idempotently. Transactions need a replica set
    /// (a one-node set will do). `vault` holds the server key that wraps the rooms' data keys.
    pub async fn connect(uri: &str, vault: Arc<Vault>) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(uri).await.map_err(into_store_error)?;
        options.app_name.get_or_insert_with(|| "conclave".to_owned());
        let name = options.default_database.clone().unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let client = Client::with_options(options).map_err(into_store_error)?;
        let db = client.database(&name);
        schema::check_transactions(&db).await.map_err(into_store_error)?;
        schema::prepare(&db).await.map_err(into_store_error)?;
        let mut c = Collections::of(&db, vault);
        c.server_wrapped = Arc::new(check_server_key(&c).await?);
        messages::seal_existing(&c).await.map_err(into_store_error)?;
        Ok(MongoStore { c, client, db, queues: Arc::new(RoomLocks::new(64)) })
    }

    /// The name of the database in use.
    pub fn database_name(&self) -> &str {
        self.db.name()
    }

    /// Starts a session for [`transaction!`].
    async fn session(&self) -> MongoResult<ClientSession> {
        self.client.start_session().await
    }

    /// Runs a command that needs no transaction: a read, or a write of one document.
    async fn run<R>(&self, step: impl Future<Output = MongoResult<R>>) -> StoreResult<R> {
        step.await.map_err(into_store_error)
    }

    /// A buffered decline of a join request ([`DeferredWrite::DeclineRequest`]).
    async fn decline_join_request(
        &self,
        room: &RoomId,
        user: &UserId,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let _queued = self.queues.lock(room).await;
        transaction!(self, |s| rooms::decline_join_request(&self.c, s, room, user, by, now))
    }
}

/// Refuses a server key that is not the database's (every message would be unreadable), and
/// records the key on a new database. Of several servers starting at once, one key wins and
/// the others check theirs against it. Answers the store's own key as wrapped now.
async fn check_server_key(c: &Collections) -> StoreResult<Vec<u8>> {
    let vault = &c.vault;
    let stored = || async { c.data_keys.find_one(doc! { "_id": SERVER_SCOPE }).await.map_err(into_store_error) };
    let existing = stored().await?;
    let Some(wrapped) = sealing::check_server_key(vault, existing.as_ref().map(|k| k.wrapped.bytes.as_slice()))? else {
        return Ok(existing.map(|k| k.wrapped.bytes).unwrap_or_default());
    };
    let inserted =
        c.data_keys.insert_one(DataKeyDoc { scope: SERVER_SCOPE.to_owned(), wrapped: binary(wrapped.clone()) }).await;
    match inserted {
        Ok(_) => Ok(wrapped),
        Err(error) if is_duplicate_key(&error) => {
            let winner = stored().await?;
            sealing::check_server_key(vault, winner.as_ref().map(|k| k.wrapped.bytes.as_slice()))?;
            Ok(winner.map(|k| k.wrapped.bytes).unwrap_or_default())
        }
        Err(error) => Err(into_store_error(error)),
    }
}

/// Claims `room` for the current transaction by writing its document (bumping its revision):
/// a concurrent transaction that writes the room too conflicts and is retried. Returns the room,
/// which must exist.
pub(crate) async fn lock_room(c: &Collections, s: &mut ClientSession, room: &str) -> MongoResult<RoomDoc> {
    c.rooms
        .find_one_and_update(doc! { "_id": room }, doc! { "$inc": { "revision": 1 } })
        .return_document(mongodb::options::ReturnDocument::After)
        .session(s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(crate::error::Missing::Room)))
}

/// [`lock_room`], for a room that must not be terminated.
pub(crate) async fn lock_live_room(c: &Collections, s: &mut ClientSession, room: &str) -> MongoResult<RoomDoc> {
    let locked = lock_room(c, s, room).await?;
    if locked.terminated_at.is_some() {
        return Err(fail(StoreError::RoomTerminated));
    }
    Ok(locked)
}

#[async_trait]
impl UserStore for MongoStore {
    async fn create_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<UserRecord> {
        transaction!(self, |s| accounts::create_user(&self.c, s, &user, now))
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        self.run(accounts::user(&self.c, id.as_str())).await
    }

    async fn update_names(&self, id: &UserId, first: Change<String>, last: Change<String>) -> StoreResult<UserRecord> {
        self.run(accounts::update_names(&self.c, id, first, last)).await
    }

    async fn change_password(&self, id: &UserId, password_hash: &str) -> StoreResult<()> {
        transaction!(self, |s| accounts::change_password(&self.c, s, id, password_hash))
    }

    async fn set_avatar(&self, id: &UserId, avatar: NewAvatar, now: DateTime<Utc>) -> StoreResult<UserRecord> {
        transaction!(self, |s| accounts::set_avatar(&self.c, s, id, &avatar, now))
    }

    async fn remove_avatar(&self, id: &UserId) -> StoreResult<UserRecord> {
        transaction!(self, |s| accounts::remove_avatar(&self.c, s, id))
    }

    async fn avatar(&self, id: &UserId) -> StoreResult<Option<AvatarRecord>> {
        self.run(accounts::avatar(&self.c, id)).await
    }

    async fn delete_account(&self, id: &UserId, now: DateTime<Utc>) -> StoreResult<()> {
        transaction!(self, |s| accounts::delete_account(&self.c, s, id, now))
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        self.run(accounts::user_by_username(&self.c, username)).await
    }

    async fn search_users(&self, prefix: &str, after: Option<&str>, limit: u32) -> StoreResult<Vec<UserRecord>> {
        self.run(accounts::search_users(&self.c, prefix, after, limit)).await
    }
}

#[async_trait]
impl TokenStore for MongoStore {
    async fn insert_refresh_token(&self, token: NewRefreshToken, now: DateTime<Utc>) -> StoreResult<()> {
        transaction!(self, |s| accounts::insert_refresh_token(&self.c, s, &token, now))
    }

    async fn rotate_refresh_token(
        &self,
        old_digest: &str,
        new_digest: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        transaction!(self, |s| accounts::rotate_refresh_token(&self.c, s, old_digest, new_digest, new_expires_at, now))
    }

    async fn refresh_token_user(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<UserId>> {
        self.run(accounts::refresh_token_user(&self.c, digest, now)).await
    }

    async fn revoke_refresh_family(&self, digest: &str) -> StoreResult<()> {
        transaction!(self, |s| accounts::revoke_refresh_family(&self.c, s, digest))
    }
}

#[async_trait]
impl RoomStore for MongoStore {
    async fn create_room(&self, room: NewRoom, owner: &UserId, now: DateTime<Utc>) -> StoreResult<RoomRecord> {
        transaction!(self, |s| rooms::create_room(&self.c, s, &room, owner, now))
    }

    async fn open_direct_room(
        &self,
        a: &UserId,
        b: &UserId,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomRecord> {
        transaction!(self, |s| rooms::open_direct_room(&self.c, s, a, b, name, now))
    }

    async fn room(&self, id: &RoomId) -> StoreResult<Option<RoomRecord>> {
        self.run(rooms::room(&self.c, id.as_str())).await
    }

    async fn update_room(&self, id: &RoomId, patch: RoomPatch) -> StoreResult<RoomRecord> {
        self.run(rooms::update_room(&self.c, id, patch)).await
    }

    async fn search_rooms(
        &self,
        prefix: &str,
        searcher: &UserId,
        after: Option<&RoomSearchCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RoomRecord>> {
        self.run(rooms::search_rooms(&self.c, prefix, searcher, after, limit)).await
    }

    async fn rooms_of_user(
        &self,
        user: &UserId,
        after_join_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<MyRoomRecord>> {
        self.run(rooms::rooms_of_user(&self.c, user, after_join_seq, limit)).await
    }

    async fn room_ids_of_user(&self, user: &UserId) -> StoreResult<Vec<RoomId>> {
        self.run(rooms::room_ids_of_user(&self.c, user)).await
    }

    async fn terminate_room(&self, id: &RoomId, by: &UserId, now: DateTime<Utc>) -> StoreResult<TerminationRecord> {
        let _queued = self.queues.lock(id).await;
        transaction!(self, |s| rooms::terminate_room(&self.c, s, id, by, now))
    }

    async fn room_log(
        &self,
        user: &UserId,
        after: Option<&RoomLogCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RoomLogRecord>> {
        self.run(rooms::room_log(&self.c, user, after, limit)).await
    }
}

#[async_trait]
impl MembershipStore for MongoStore {
    async fn membership(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<MembershipRecord>> {
        self.run(rooms::membership(&self.c, room.as_str(), user.as_str())).await
    }

    async fn members(&self, room: &RoomId, after_join_seq: Option<i64>, limit: u32) -> StoreResult<Vec<MemberRecord>> {
        self.run(rooms::members(&self.c, room, after_join_seq, limit)).await
    }

    async fn room_admins(&self, room: &RoomId) -> StoreResult<Vec<UserId>> {
        self.run(rooms::room_admins(&self.c, None, room)).await
    }

    async fn direct_peers(&self, user: &UserId, rooms: &[RoomId]) -> StoreResult<Vec<(RoomId, UserRecord)>> {
        self.run(rooms::direct_peers(&self.c, user, rooms)).await
    }

    async fn add_member(
        &self,
        room: &RoomId,
        user: &UserId,
        role: Role,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Admitted> {
        let _queued = self.queues.lock(room).await;
        transaction!(self, |s| rooms::add_member(&self.c, s, room, user, role, by, now))
    }

    async fn remove_member(
        &self,
        room: &RoomId,
        user: &UserId,
        reason: LeaveReason,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<DepartureRecord> {
        let _queued = self.queues.lock(room).await;
        transaction!(self, |s| rooms::depart(&self.c, s, room, user, reason, by, now))
    }

    async fn hide_direct_room(&self, room: &RoomId, user: &UserId) -> StoreResult<()> {
        self.run(rooms::hide_direct_room(&self.c, room, user)).await
    }

    async fn set_role(
        &self,
        room: &RoomId,
        user: &UserId,
        role: Role,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoleChange> {
        let _queued = self.queues.lock(room).await;
        transaction!(self, |s| rooms::set_role(&self.c, s, room, user, role, by, now))
    }

    async fn mark_read(&self, room: &RoomId, user: &UserId, seq: u64) -> StoreResult<()> {
        self.run(rooms::mark_read(&self.c, room, user, seq)).await
    }
}

#[async_trait]
impl ModerationStore for MongoStore {
    async fn create_invite(
        &self,
        room: &RoomId,
        user: &UserId,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Invited> {
        let _queued = self.queues.lock(room).await;
        transaction!(self, |s| rooms::create_invite(&self.c, s, room, user, by, now))
    }

    async fn invite(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<InviteRecord>> {
        self.run(rooms::invite(&self.c, room, user)).await
    }

    async fn decline_invite(&self, room: &RoomId, user: &UserId) -> StoreResult<()> {
        transaction!(self, |s| rooms::decline_invite(&self.c, s, room, user))
    }

    async fn create_join_request(&self, room: &RoomId, user: &UserId, now: DateTime<Utc>) -> StoreResult<Requested> {
        let _queued = self.queues.lock(room).await;
        transaction!(self, |s| rooms::create_join_request(&self.c, s, room, user, now))
    }

    async fn join_request(&self, room: &RoomId, user: &UserId) -> StoreResult<Option<JoinRequestRecord>> {
        self.run(rooms::join_request(&self.c, room, user)).await
    }

    async fn join_requests(&self, room: &RoomId) -> StoreResult<Vec<JoinRequestRecord>> {
        self.run(rooms::join_requests(&self.c, room)).await
    }

    async fn ban(&self, room: &RoomId, user: &UserId, by: &UserId, now: DateTime<Utc>) -> StoreResult<BanOutcome> {
        let _queued = self.queues.lock(room).await;
        transaction!(self, |s| rooms::ban(&self.c, s, room, user, by, now))
    }

    async fn unban(
        &self,
        room: &RoomId,
        user: &UserId,
        by: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let _queued = self.queues.lock(room).await;
        transaction!(self, |s| rooms::unban(&self.c, s, room, user, by, now))
    }

    async fn is_banned(&self, room: &RoomId, user: &UserId) -> StoreResult<bool> {
        self.run(rooms::is_banned(&self.c, room, user)).await
    }

    async fn bans(&self, room: &RoomId) -> StoreResult<Vec<BanRecord>> {
        self.run(rooms::bans(&self.c, room)).await
    }
}

#[async_trait]
impl MessageStore for MongoStore {
    async fn insert_message_then(
        &self,
        message: NewMessage,
        now: DateTime<Utc>,
        on_stored: OnStored,
    ) -> StoreResult<InsertedMessage> {
        // The room's queue (first come, first served) is held until `on_stored` has run: its
        // calls follow the order the sends queued in, and so the sequence.
        let _queued = self.queues.lock(&message.room_id).await;
        let inserted: StoreResult<InsertedMessage> =
            transaction!(self, |s| messages::insert_message(&self.c, s, &message, now));
        on_stored(&inserted);
        inserted
    }

    async fn messages(&self, room: &RoomId, range: HistoryRange, limit: u32) -> StoreResult<Vec<MessageRecord>> {
        self.run(messages::messages(&self.c, room, range, limit)).await
    }

    async fn message(&self, room: &RoomId, id: &MessageId) -> StoreResult<Option<MessageRecord>> {
        self.run(messages::message(&self.c, room, id)).await
    }

    async fn scan_messages(
        &self,
        rooms: &[RoomId],
        after: Option<&ScanPosition>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.run(messages::scan_messages(&self.c, rooms, after, limit)).await
    }

    async fn add_reaction(
        &self,
        room: &RoomId,
        message: &MessageId,
        user: &UserId,
        emoji: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        transaction!(self, |s| reactions::add_reaction(&self.c, s, room, message, user, emoji, now))
    }

    async fn remove_reaction(
        &self,
        room: &RoomId,
        message: &MessageId,
        user: &UserId,
        emoji: &str,
    ) -> StoreResult<bool> {
        self.run(reactions::remove_reaction(&self.c, room, message, user, emoji)).await
    }

    async fn reactions(
        &self,
        room: &RoomId,
        messages: &[MessageId],
        reader: Option<&UserId>,
    ) -> StoreResult<Vec<ReactionCount>> {
        self.run(reactions::reactions(&self.c, room, messages, reader)).await
    }

    async fn edit_message(
        &self,
        room: &RoomId,
        id: &MessageId,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<MessageRecord> {
        self.run(messages::edit_message(&self.c, room, id, body, now)).await
    }

    async fn delete_message(&self, room: &RoomId, id: &MessageId, now: DateTime<Utc>) -> StoreResult<MessageRecord> {
        transaction!(self, |s| messages::delete_message(&self.c, s, room, id, now))
    }

    async fn insert_attachment(&self, attachment: NewAttachment, now: DateTime<Utc>) -> StoreResult<AttachmentRecord> {
        self.run(attachments::insert_attachment(&self.c, attachment, now)).await
    }

    async fn attachment(&self, room: &RoomId, id: &AttachmentId) -> StoreResult<Option<(AttachmentRecord, Vec<u8>)>> {
        self.run(attachments::attachment(&self.c, room, id)).await
    }

    async fn delete_unsent_attachments_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.run(cleanup::delete_unsent_attachments_before(&self.c, before)).await
    }
}

#[async_trait]
impl NotificationStore for MongoStore {
    async fn notifications(
        &self,
        user: &UserId,
        unread_only: bool,
        after: Option<&NotificationCursor>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationRecord>> {
        self.run(notifications::notifications(&self.c, user, unread_only, after, limit)).await
    }

    async fn mark_notification_read(&self, user: &UserId, id: &NotificationId) -> StoreResult<()> {
        self.run(notifications::mark_notification_read(&self.c, user, id)).await
    }

    async fn mark_all_notifications_read(&self, user: &UserId) -> StoreResult<u64> {
        self.run(notifications::mark_all_notifications_read(&self.c, user)).await
    }

    async fn delete_notification(&self, user: &UserId, id: &NotificationId) -> StoreResult<()> {
        self.run(notifications::delete_notification(&self.c, user, id)).await
    }

    async fn notification(&self, user: &UserId, id: &NotificationId) -> StoreResult<Option<NotificationRecord>> {
        self.run(notifications::notification(&self.c, user, id)).await
    }

    async fn unread_notification_count(&self, user: &UserId) -> StoreResult<u64> {
        self.run(notifications::unread_notification_count(&self.c, user)).await
    }
}

#[async_trait]
impl AuditStore for MongoStore {
    async fn room_audit(
        &self,
        room: &RoomId,
        after: Option<&AuditCursor>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.run(audit::room_audit(&self.c, room, after, limit)).await
    }

    async fn account_audit(
        &self,
        user: &UserId,
        after: Option<&AuditCursor>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.run(audit::account_audit(&self.c, user, after, limit)).await
    }
}

#[async_trait]
impl KeyStore for MongoStore {
    async fn wrapped_keys(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<WrappedKey>> {
        self.run(keys::wrapped_keys(&self.c, after.unwrap_or_default(), limit)).await
    }

    async fn replace_wrapped_key(&self, scope: &str, old: &[u8], new: &[u8]) -> StoreResult<bool> {
        self.run(keys::replace_wrapped_key(&self.c, scope, old, new)).await
    }

    async fn set_key_rotation(&self, under_way: bool) -> StoreResult<()> {
        self.run(keys::set_key_rotation(&self.c, under_way)).await
    }

    async fn key_rotation_under_way(&self) -> StoreResult<bool> {
        self.run(keys::key_rotation_under_way(&self.c)).await
    }
}

#[async_trait]
impl MaintenanceStore for MongoStore {
    async fn ping(&self) -> StoreResult<()> {
        self.run(async { self.db.run_command(doc! { "ping": 1 }).await.map(drop) }).await
    }

    async fn delete_ended_rooms(&self, terminated_before: DateTime<Utc>) -> StoreResult<Vec<RoomId>> {
        let mut deleted = Vec::new();
        for room in self.run(cleanup::ended_rooms(&self.c, terminated_before)).await? {
            let _queued = self.queues.lock(&room).await;
            if transaction!(self, |s| cleanup::delete_room(&self.c, s, &room, terminated_before))? {
                self.c.vault.forget(room.as_str());
                deleted.push(room);
            }
        }
        Ok(deleted)
    }

    async fn delete_room_log_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.run(cleanup::delete_room_log_before(&self.c, before)).await
    }

    async fn delete_read_notifications_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.run(cleanup::delete_read_notifications_before(&self.c, before)).await
    }

    async fn delete_expired_refresh_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.run(cleanup::delete_expired_refresh_tokens(&self.c, now)).await
    }

    async fn apply_deferred(&self, writes: Vec<DeferredWrite>) -> StoreResult<Vec<NotificationRecord>> {
        deferred::apply(self, writes).await
    }
}
