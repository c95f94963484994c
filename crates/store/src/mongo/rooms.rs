//! Rooms, membership, invites, join requests, bans and the previous-rooms log.
//!
//! Functions that take a session run inside the caller's transaction, after (or by) locking the
//! room they change; the others are reads or single-document writes.

use super::accounts::{prefix_range, users_by_id};
use super::audit;
use super::docs::*;
use super::{Collections, lock_live_room, lock_room, notifications};
use crate::audit::{AuditFacts, departure_facts};
use crate::error::{Cause, Conflict, Missing, StoreError};
use crate::model::*;
use crate::notices::{self, Place};
use crate::sealing::{new_room_key, room_key};
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use conclave_crypto::DataKey;
use conclave_domain::{Departure, MemberSnapshot, after_departure};
use conclave_protocol::{AuditAction, JoinPolicy, LeaveReason, NotificationKind, Role, RoomId, RoomKind, UserId};
use futures_util::TryStreamExt;
use mongodb::ClientSession;
use mongodb::options::ReturnDocument;
use std::collections::HashMap;
use std::sync::Arc;

pub async fn room(c: &Collections, id: &str) -> MongoResult<Option<RoomRecord>> {
    Ok(c.rooms.find_one(doc! { "_id": id }).await?.map(RoomRecord::from))
}

async fn room_in(c: &Collections, s: &mut ClientSession, id: &str) -> MongoResult<RoomRecord> {
    c.rooms
        .find_one(doc! { "_id": id })
        .session(s)
        .await?
        .map(RoomRecord::from)
        .ok_or_else(|| fail(StoreError::NotFound(Missing::Room)))
}

/// The next number of the global join counter (orders joins across every room).
async fn next_join_seq(c: &Collections, s: &mut ClientSession) -> MongoResult<i64> {
    let counter = c
        .counters
        .find_one_and_update(doc! { "_id": "join_seq" }, doc! { "$inc": { "value": 1_i64 } })
        .return_document(ReturnDocument::After)
        .session(s)
        .await?;
    // `schema::prepare` creates the counter, so that two first joins cannot both insert it.
    counter.map(|c| c.value).ok_or_else(|| fail(StoreError::Backend(Cause::msg("the join_seq counter is missing"))))
}

/// Adds a membership and counts it on the room (locked by the caller).
async fn insert_membership(
    c: &Collections,
    s: &mut ClientSession,
    room: &str,
    user: &str,
    role: Role,
    now: DateTime<Utc>,
    last_read: i64,
) -> MongoResult<MembershipDoc> {
    let membership = MembershipDoc {
        room_id: room.to_owned(),
        user_id: user.to_owned(),
        role,
        joined_at: date(now),
        join_seq: next_join_seq(c, &mut *s).await?,
        last_read_seq: last_read,
        hidden: false,
    };
    c.memberships.insert_one(&membership).session(&mut *s).await.map_err(or_conflict(Conflict::AlreadyMember))?;
    c.rooms.update_one(doc! { "_id": room }, doc! { "$inc": { "member_count": 1_i64 } }).session(s).await?;
    Ok(membership)
}

/// The data key of a room read in the current transaction.
fn key_of(c: &Collections, room: &RoomDoc) -> MongoResult<Arc<DataKey>> {
    room_key(&c.vault, &room.id, room.wrapped_key()).map_err(fail)
}

/// A new room with a fresh id and data key (SPEC R-SEC-2), when a key may be wrapped now
/// (`keys::fence_new_key`).
async fn new_room_doc(
    c: &Collections,
    s: &mut ClientSession,
    kind: RoomKind,
    name: &str,
    join_policy: JoinPolicy,
    now: DateTime<Utc>,
) -> MongoResult<RoomDoc> {
    super::keys::fence_new_key(c, s).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let (_, wrapped_key) = new_room_key(&c.vault, &id).map_err(fail)?;
    Ok(RoomDoc {
        id,
        kind,
        name: name.to_owned(),
        name_lower: name.to_lowercase(),
        topic: None,
        join_policy,
        password_hash: None,
        owner_id: None,
        direct_key: None,
        last_seq: 0,
        member_count: 0,
        revision: 0,
        created_at: date(now),
        terminated_at: None,
        data_key: Some(binary(wrapped_key)),
    })
}

pub async fn create_room(
    c: &Collections,
    s: &mut ClientSession,
    new: &NewRoom,
    owner: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<RoomRecord> {
    let room = RoomDoc {
        topic: new.topic.clone(),
        password_hash: new.password_hash.clone(),
        owner_id: Some(owner.0.clone()),
        ..new_room_doc(c, s, RoomKind::Group, &new.name, new.join_policy, now).await?
    };
    c.rooms.insert_one(&room).session(&mut *s).await?;
    insert_membership(c, s, &room.id, owner.as_str(), Role::Owner, now, 0).await?;
    let id = RoomId(room.id.clone());
    let facts = [AuditFacts::new(AuditAction::RoomCreated, Some(owner), None)];
    audit::record(c, s, &*key_of(c, &room)?, Some(&id), &facts, now).await?;
    room_in(c, s, &room.id).await
}

pub async fn open_direct_room(
    c: &Collections,
    s: &mut ClientSession,
    a: &UserId,
    b: &UserId,
    name: &str,
    now: DateTime<Utc>,
) -> MongoResult<RoomRecord> {
    let key = direct_key(a, b);
    if let Some(existing) = c.rooms.find_one(doc! { "direct_key": &key }).session(&mut *s).await? {
        lock_room(c, s, &existing.id).await?;
        c.memberships
            .update_one(doc! { "room_id": &existing.id, "user_id": a.as_str() }, doc! { "$set": { "hidden": false } })
            .session(&mut *s)
            .await?;
        return room_in(c, s, &existing.id).await;
    }
    let room =
        RoomDoc { direct_key: Some(key), ..new_room_doc(c, s, RoomKind::Direct, name, JoinPolicy::Invite, now).await? };
    c.rooms.insert_one(&room).session(&mut *s).await?;
    insert_membership(c, s, &room.id, a.as_str(), Role::Member, now, 0).await?;
    if a != b {
        insert_membership(c, s, &room.id, b.as_str(), Role::Member, now, 0).await?;
    }
    room_in(c, s, &room.id).await
}

pub async fn update_room(c: &Collections, id: &RoomId, patch: RoomPatch) -> MongoResult<RoomRecord> {
    let mut set = Document::new();
    if let Some(name) = patch.name {
        set.insert("name_lower", name.to_lowercase());
        set.insert("name", name);
    }
    if let Some(topic) = patch.topic.into_update() {
        set.insert("topic", topic);
    }
    if let Some(policy) = patch.join_policy {
        set.insert("join_policy", name_of(&policy));
    }
    if let Some(hash) = patch.password_hash.into_update() {
        set.insert("password_hash", hash);
    }
    let update = if set.is_empty() {
        doc! { "$inc": { "revision": 0_i64 } }
    } else {
        doc! { "$set": set }
    };
    c.rooms
        .find_one_and_update(doc! { "_id": id.as_str() }, update)
        .return_document(ReturnDocument::After)
        .await?
        .map(RoomRecord::from)
        .ok_or_else(|| fail(StoreError::NotFound(Missing::Room)))
}

/// The ids of the rooms that ban `user`.
async fn rooms_banning(c: &Collections, user: &UserId) -> MongoResult<Vec<String>> {
    let bans: Vec<BanDoc> = c.bans.find(doc! { "user_id": user.as_str() }).await?.try_collect().await?;
    Ok(bans.into_iter().map(|ban| ban.room_id).collect())
}

pub async fn search_rooms(
    c: &Collections,
    prefix: &str,
    searcher: &UserId,
    after: Option<&RoomSearchCursor>,
    limit: u32,
) -> MongoResult<Vec<RoomRecord>> {
    let mut conditions = vec![
        doc! { "kind": "group", "terminated_at": null },
        doc! { "join_policy": { "$ne": name_of(&JoinPolicy::Invite) } },
        doc! { "name_lower": prefix_range(&prefix.to_lowercase()) },
        doc! { "_id": { "$nin": rooms_banning(c, searcher).await? } },
    ];
    if let Some(cursor) = after {
        conditions.push(doc! { "$or": [
            { "name_lower": { "$gt": &cursor.name_lower } },
            { "name_lower": &cursor.name_lower, "_id": { "$gt": cursor.room_id.as_str() } },
        ] });
    }
    let docs: Vec<RoomDoc> = c
        .rooms
        .find(doc! { "$and": conditions })
        .sort(doc! { "name_lower": 1, "_id": 1 })
        .limit(i64::from(limit))
        .await?
        .try_collect()
        .await?;
    Ok(docs.into_iter().map(RoomRecord::from).collect())
}

/// The rooms with these ids, by id.
async fn rooms_by_id(c: &Collections, ids: Vec<String>) -> MongoResult<HashMap<String, RoomRecord>> {
    let docs: Vec<RoomDoc> = c.rooms.find(doc! { "_id": { "$in": ids } }).await?.try_collect().await?;
    Ok(docs.into_iter().map(|room| (room.id.clone(), RoomRecord::from(room))).collect())
}

/// Per room of `memberships` (all of one user), the messages by others, not deleted, after the
/// user's read marker there: one aggregation for the whole page.
async fn unread_counts(
    c: &Collections,
    user: &UserId,
    memberships: &[MembershipDoc],
) -> MongoResult<HashMap<String, u64>> {
    if memberships.is_empty() {
        return Ok(HashMap::new());
    }
    let after_marker: Vec<Document> =
        memberships.iter().map(|m| doc! { "room_id": &m.room_id, "seq": { "$gt": m.last_read_seq } }).collect();
    let pipeline = [
        doc! { "$match": { "$or": after_marker, "author_id": { "$ne": user.as_str() }, "deleted": false } },
        doc! { "$group": { "_id": "$room_id", "count": { "$sum": 1_i64 } } },
    ];
    let groups: Vec<Document> = c.messages.aggregate(pipeline).await?.try_collect().await?;
    Ok(groups
        .iter()
        .filter_map(|group| {
            let room = group.get_str("_id").ok()?;
            let count = group.get_i64("count").or_else(|_| group.get_i32("count").map(i64::from)).ok()?;
            Some((room.to_owned(), unsigned(count)))
        })
        .collect())
}

pub async fn rooms_of_user(
    c: &Collections,
    user: &UserId,
    after_join_seq: Option<i64>,
    limit: u32,
) -> MongoResult<Vec<MyRoomRecord>> {
    let memberships: Vec<MembershipDoc> = c
        .memberships
        .find(doc! { "user_id": user.as_str(), "hidden": false, "join_seq": { "$gt": after_join_seq.unwrap_or(0) } })
        .sort(doc! { "join_seq": 1 })
        .limit(i64::from(limit))
        .await?
        .try_collect()
        .await?;
    let mut rooms = rooms_by_id(c, memberships.iter().map(|m| m.room_id.clone()).collect()).await?;
    let unread = unread_counts(c, user, &memberships).await?;
    let latest = latest_message_times(c, rooms.values()).await?;
    Ok(memberships
        .into_iter()
        .filter_map(|membership| {
            let room = rooms.remove(&membership.room_id)?;
            let unread_count = unread.get(&membership.room_id).copied().unwrap_or(0);
            let last_message_at = latest.get(&membership.room_id).copied();
            Some(MyRoomRecord { room, membership: membership.into(), unread_count, last_message_at })
        })
        .collect())
}

/// When each room's latest message was sent, in one read (rooms without one are absent).
async fn latest_message_times<'a>(
    c: &Collections,
    rooms: impl Iterator<Item = &'a RoomRecord>,
) -> MongoResult<HashMap<String, DateTime<Utc>>> {
    let latest: Vec<Document> = rooms
        .filter(|r| r.last_seq > 0)
        .map(|r| doc! { "room_id": r.id.as_str(), "seq": to_i64(r.last_seq) })
        .collect();
    if latest.is_empty() {
        return Ok(HashMap::new());
    }
    let found: Vec<Document> = c
        .messages
        .clone_with_type::<Document>()
        .find(doc! { "$or": latest })
        .projection(doc! { "room_id": 1, "created_at": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(found
        .iter()
        .filter_map(|d| Some((d.get_str("room_id").ok()?.to_owned(), d.get_datetime("created_at").ok()?.to_chrono())))
        .collect())
}

/// Records that `user` left `room` (one entry per user and room: the latest departure).
async fn log_departure(
    c: &Collections,
    s: &mut ClientSession,
    user: &str,
    room: &str,
    reason: LeaveReason,
    now: DateTime<Utc>,
) -> MongoResult<()> {
    c.room_log
        .update_one(
            doc! { "user_id": user, "room_id": room },
            doc! { "$set": { "left_at": date(now), "reason": name_of(&reason) } },
        )
        .upsert(true)
        .session(s)
        .await?;
    Ok(())
}

/// Marks the locked room terminated and drops its invites and requests.
async fn mark_terminated(c: &Collections, s: &mut ClientSession, room: &str, now: DateTime<Utc>) -> MongoResult<()> {
    c.rooms
        .update_one(doc! { "_id": room, "terminated_at": null }, doc! { "$set": { "terminated_at": date(now) } })
        .session(&mut *s)
        .await?;
    c.invites.delete_many(doc! { "room_id": room }).session(&mut *s).await?;
    c.join_requests.delete_many(doc! { "room_id": room }).session(s).await?;
    Ok(())
}

/// Members of the locked room in join order.
async fn memberships_in(c: &Collections, s: &mut ClientSession, room: &str) -> MongoResult<Vec<MembershipDoc>> {
    let mut cursor = c.memberships.find(doc! { "room_id": room }).sort(doc! { "join_seq": 1 }).session(&mut *s).await?;
    cursor.stream(s).try_collect().await
}

/// Removes every member of the locked room, logging each as `terminated`.
async fn evict_everyone(
    c: &Collections,
    s: &mut ClientSession,
    room: &str,
    now: DateTime<Utc>,
) -> MongoResult<Vec<UserId>> {
    let former = memberships_in(c, s, room).await?;
    for member in &former {
        log_departure(c, s, &member.user_id, room, LeaveReason::Terminated, now).await?;
    }
    c.memberships.delete_many(doc! { "room_id": room }).session(&mut *s).await?;
    c.rooms.update_one(doc! { "_id": room }, doc! { "$set": { "member_count": 0_i64 } }).session(s).await?;
    Ok(former.into_iter().map(|m| UserId(m.user_id)).collect())
}

pub async fn terminate_room(
    c: &Collections,
    s: &mut ClientSession,
    id: &RoomId,
    by: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<TerminationRecord> {
    let locked = lock_live_room(c, s, id.as_str()).await?;
    let former_members = evict_everyone(c, s, id.as_str(), now).await?;
    mark_terminated(c, s, id.as_str(), now).await?;
    let facts = [AuditFacts::new(AuditAction::RoomTerminated, Some(by), None)];
    audit::record(c, s, &*key_of(c, &locked)?, Some(id), &facts, now).await?;
    let place = Place { room_id: id, room_name: &locked.name };
    let owner = username_of(c, s, by).await?;
    let notices = store_notices(c, s, notices::termination(&place, &former_members, (by, &owner)), now).await?;
    Ok(TerminationRecord { room: room_in(c, s, id.as_str()).await?, former_members, notices })
}

pub async fn membership(c: &Collections, room: &str, user: &str) -> MongoResult<Option<MembershipRecord>> {
    Ok(c.memberships.find_one(doc! { "room_id": room, "user_id": user }).await?.map(MembershipRecord::from))
}

async fn membership_in(
    c: &Collections,
    s: &mut ClientSession,
    room: &str,
    user: &str,
) -> MongoResult<Option<MembershipDoc>> {
    c.memberships.find_one(doc! { "room_id": room, "user_id": user }).session(s).await
}

/// Pairs each record with its user, in the records' order, dropping those whose user is gone.
async fn with_users<T>(
    c: &Collections,
    records: Vec<T>,
    user_of: impl Fn(&T) -> &str,
) -> MongoResult<Vec<(T, UserRecord)>> {
    let ids = records.iter().map(|r| user_of(r).to_owned()).collect();
    let mut users: HashMap<String, UserRecord> =
        users_by_id(c, ids).await?.into_iter().map(|u| (u.id.0.clone(), u)).collect();
    Ok(records
        .into_iter()
        .filter_map(|record| {
            let user = users.remove(user_of(&record))?;
            Some((record, user))
        })
        .collect())
}

pub async fn members(
    c: &Collections,
    room: &RoomId,
    after_join_seq: Option<i64>,
    limit: u32,
) -> MongoResult<Vec<MemberRecord>> {
    let memberships: Vec<MembershipDoc> = c
        .memberships
        .find(doc! { "room_id": room.as_str(), "join_seq": { "$gt": after_join_seq.unwrap_or(0) } })
        .sort(doc! { "join_seq": 1 })
        .limit(i64::from(limit))
        .await?
        .try_collect()
        .await?;
    let paired = with_users(c, memberships, |m| &m.user_id).await?;
    Ok(paired.into_iter().map(|(m, user)| MemberRecord { membership: m.into(), user }).collect())
}

/// The room's owner and admins in join order; inside a transaction when given its session.
pub async fn room_admins(c: &Collections, s: Option<&mut ClientSession>, room: &RoomId) -> MongoResult<Vec<UserId>> {
    let find = c
        .memberships
        .find(doc! { "room_id": room.as_str(), "role": { "$in": ["owner", "admin"] } })
        .sort(doc! { "join_seq": 1 });
    let admins: Vec<MembershipDoc> = match s {
        Some(s) => find.session(&mut *s).await?.stream(s).try_collect().await?,
        None => find.await?.try_collect().await?,
    };
    Ok(admins.into_iter().map(|m| UserId(m.user_id)).collect())
}

pub async fn direct_peers(c: &Collections, user: &UserId, rooms: &[RoomId]) -> MongoResult<Vec<(RoomId, UserRecord)>> {
    let ids: Vec<&str> = rooms.iter().map(RoomId::as_str).collect();
    let direct: Vec<String> = c
        .rooms
        .find(doc! { "_id": { "$in": &ids }, "kind": "direct" })
        .await?
        .try_collect::<Vec<RoomDoc>>()
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let peers: Vec<MembershipDoc> = c
        .memberships
        .find(doc! { "room_id": { "$in": &direct }, "user_id": { "$ne": user.as_str() } })
        .await?
        .try_collect()
        .await?;
    let paired = with_users(c, peers, |m| &m.user_id).await?;
    Ok(paired.into_iter().map(|(m, user)| (RoomId(m.room_id), user)).collect())
}

async fn banned_in(c: &Collections, s: &mut ClientSession, room: &str, user: &str) -> MongoResult<bool> {
    Ok(c.bans.find_one(doc! { "room_id": room, "user_id": user }).session(s).await?.is_some())
}

pub async fn is_banned(c: &Collections, room: &RoomId, user: &UserId) -> MongoResult<bool> {
    Ok(c.bans.find_one(doc! { "room_id": room.as_str(), "user_id": user.as_str() }).await?.is_some())
}

pub async fn add_member(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    user: &UserId,
    role: Role,
    by: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<Admitted> {
    let locked = lock_live_room(c, s, room.as_str()).await?;
    if banned_in(c, s, room.as_str(), user.as_str()).await? {
        return Err(fail(StoreError::Banned));
    }
    let membership = insert_membership(c, s, room.as_str(), user.as_str(), role, now, locked.last_seq).await?;
    let this = doc! { "room_id": room.as_str(), "user_id": user.as_str() };
    c.invites.delete_one(this.clone()).session(&mut *s).await?;
    c.join_requests.delete_one(this.clone()).session(&mut *s).await?;
    c.room_log.delete_one(this).session(&mut *s).await?;
    let facts = [AuditFacts::new(AuditAction::MemberJoined, Some(by), Some(user))];
    audit::record(c, s, &*key_of(c, &locked)?, Some(room), &facts, now).await?;
    // The invitation and the request are answered (R-ROOM-9): their notices are handled.
    notifications::mark_read_about(c, s, Some(user), NotificationKind::Invited, room, None).await?;
    notifications::mark_read_about(c, s, None, NotificationKind::JoinRequest, room, Some(user)).await?;
    let notices = if by == user {
        Vec::new()
    } else {
        let place = Place { room_id: room, room_name: &locked.name };
        let admin = username_of(c, s, by).await?;
        store_notices(c, s, vec![notices::accepted(&place, user, (by, &admin))], now).await?
    };
    Ok(Admitted { membership: membership.into(), notices })
}

/// Removes `user` from the room and applies R-ROOM-5 to the rest; shared by leave, kick and ban.
/// Audits the departure (a ban audits itself) and what R-ROOM-5 did.
pub async fn depart(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    user: &UserId,
    reason: LeaveReason,
    by: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<DepartureRecord> {
    let locked = lock_live_room(c, s, room.as_str()).await?;
    if locked.kind == RoomKind::Direct {
        return Err(fail(StoreError::NotFound(Missing::Membership)));
    }
    let leaver =
        membership_in(c, s, room.as_str(), user.as_str()).await?.ok_or_else(|| fail(StoreError::NotAMember))?;
    c.memberships.delete_one(doc! { "room_id": room.as_str(), "user_id": user.as_str() }).session(&mut *s).await?;
    c.rooms
        .update_one(doc! { "_id": room.as_str() }, doc! { "$inc": { "member_count": -1_i64 } })
        .session(&mut *s)
        .await?;
    log_departure(c, s, user.as_str(), room.as_str(), reason, now).await?;

    let remaining: Vec<MemberSnapshot> = memberships_in(c, s, room.as_str())
        .await?
        .into_iter()
        .map(|m| MemberSnapshot { user_id: UserId(m.user_id), role: m.role })
        .collect();
    let departure = after_departure(leaver.role, &remaining);
    match &departure {
        Departure::Terminate => mark_terminated(c, s, room.as_str(), now).await?,
        Departure::TerminateAndEvict(_) => {
            evict_everyone(c, s, room.as_str(), now).await?;
            mark_terminated(c, s, room.as_str(), now).await?;
        }
        Departure::Continue { promotion: Some((promoted, role)) } => {
            c.memberships
                .update_one(
                    doc! { "room_id": room.as_str(), "user_id": promoted.as_str() },
                    doc! { "$set": { "role": name_of(role) } },
                )
                .session(&mut *s)
                .await?;
            if *role == Role::Owner {
                c.rooms
                    .update_one(doc! { "_id": room.as_str() }, doc! { "$set": { "owner_id": promoted.as_str() } })
                    .session(&mut *s)
                    .await?;
            }
        }
        Departure::Continue { promotion: None } => {}
    }
    let mut record = DepartureRecord {
        room_id: room.clone(),
        user_id: user.clone(),
        role: leaver.role,
        departure,
        notices: Vec::new(),
    };
    let facts = departure_facts(&record, reason, by);
    audit::record(c, s, &*key_of(c, &locked)?, Some(room), &facts, now).await?;
    let kicker = if reason == LeaveReason::Kicked { Some(username_of(c, s, by).await?) } else { None };
    let place = Place { room_id: room, room_name: &locked.name };
    let kicked_by = kicker.as_deref().map(|name| (by, name));
    record.notices = store_notices(c, s, notices::departure(&place, &record, reason, kicked_by), now).await?;
    Ok(record)
}

/// The username of `user` (who acted), for the notices of what they did.
async fn username_of(c: &Collections, s: &mut ClientSession, user: &UserId) -> MongoResult<String> {
    let found = c.users.find_one(doc! { "_id": user.as_str() }).session(s).await?;
    Ok(found.ok_or_else(|| fail(StoreError::NotFound(Missing::User)))?.username)
}

/// Stores a command's notices in its transaction.
async fn store_notices(
    c: &Collections,
    s: &mut ClientSession,
    notices: Vec<NewNotification>,
    now: DateTime<Utc>,
) -> MongoResult<Vec<NotificationRecord>> {
    let mut stored = Vec::with_capacity(notices.len());
    for notice in notices {
        let document = notifications::notification_doc(notice, now);
        c.notifications.insert_one(&document).session(&mut *s).await?;
        stored.push(document.into());
    }
    Ok(stored)
}

pub async fn hide_direct_room(c: &Collections, room: &RoomId, user: &UserId) -> MongoResult<()> {
    let is_direct = c.rooms.find_one(doc! { "_id": room.as_str(), "kind": "direct" }).await?.is_some();
    let changed = if is_direct {
        c.memberships
            .update_one(
                doc! { "room_id": room.as_str(), "user_id": user.as_str() },
                doc! { "$set": { "hidden": true } },
            )
            .await?
            .matched_count
    } else {
        0
    };
    if changed == 0 { Err(fail(StoreError::NotAMember)) } else { Ok(()) }
}

pub async fn set_role(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    user: &UserId,
    role: Role,
    by: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<RoleChange> {
    let locked = lock_live_room(c, s, room.as_str()).await?;
    let before =
        membership_in(c, s, room.as_str(), user.as_str()).await?.ok_or_else(|| fail(StoreError::NotAMember))?;
    let membership = c
        .memberships
        .find_one_and_update(
            doc! { "room_id": room.as_str(), "user_id": user.as_str() },
            doc! { "$set": { "role": name_of(&role) } },
        )
        .return_document(ReturnDocument::After)
        .session(&mut *s)
        .await?
        .map(MembershipRecord::from)
        .ok_or_else(|| fail(StoreError::NotAMember))?;
    let facts = [AuditFacts::new(AuditAction::RoleChanged, Some(by), Some(user)).with_role(role)];
    audit::record(c, s, &*key_of(c, &locked)?, Some(room), &facts, now).await?;
    let notices = if before.role == role {
        Vec::new()
    } else {
        let place = Place { room_id: room, room_name: &locked.name };
        let owner = username_of(c, s, by).await?;
        store_notices(c, s, vec![notices::role_change(&place, user, role, (by, &owner))], now).await?
    };
    Ok(RoleChange { membership, notices })
}

pub async fn mark_read(c: &Collections, room: &RoomId, user: &UserId, seq: u64) -> MongoResult<()> {
    // The last sequence number only grows, so reading it first cannot move a marker too far.
    let last_seq = c.rooms.find_one(doc! { "_id": room.as_str() }).await?.map_or(0, |r| r.last_seq);
    let changed = c
        .memberships
        .update_one(
            doc! { "room_id": room.as_str(), "user_id": user.as_str() },
            doc! { "$max": { "last_read_seq": to_i64(seq).min(last_seq) } },
        )
        .await?
        .matched_count;
    if changed == 0 { Err(fail(StoreError::NotAMember)) } else { Ok(()) }
}

/// `user` may be invited to, or ask to join, the room: it is live (and now locked), they are
/// not banned and not in it.
async fn outsider_of_live_room(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    user: &UserId,
) -> MongoResult<String> {
    let live = lock_live_room(c, s, room.as_str()).await?;
    if banned_in(c, s, room.as_str(), user.as_str()).await? {
        return Err(fail(StoreError::Banned));
    }
    if membership_in(c, s, room.as_str(), user.as_str()).await?.is_some() {
        return Err(fail(StoreError::Conflict(Conflict::AlreadyMember)));
    }
    Ok(live.name)
}

pub async fn create_invite(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    user: &UserId,
    by: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<Invited> {
    let room_name = outsider_of_live_room(c, s, room, user).await?;
    let invite =
        InviteDoc { room_id: room.0.clone(), user_id: user.0.clone(), invited_by: by.0.clone(), created_at: date(now) };
    c.invites.insert_one(&invite).session(&mut *s).await.map_err(or_conflict(Conflict::AlreadyInvited))?;
    let place = Place { room_id: room, room_name: &room_name };
    let admin = username_of(c, s, by).await?;
    let notices = store_notices(c, s, vec![notices::invitation(&place, user, (by, &admin))], now).await?;
    Ok(Invited { invite: invite.into(), notices })
}

/// Deletes `user`'s document about `room` from `collection` (an invitation, a request, a ban)
/// in the session's transaction; `NotFound(missing)` when there is none.
async fn delete_of<T: Send + Sync>(
    collection: &mongodb::Collection<T>,
    s: &mut ClientSession,
    room: &RoomId,
    user: &UserId,
    missing: Missing,
) -> MongoResult<()> {
    let filter = doc! { "room_id": room.as_str(), "user_id": user.as_str() };
    let deleted = collection.delete_one(filter).session(s).await?.deleted_count;
    if deleted == 0 { Err(fail(StoreError::NotFound(missing))) } else { Ok(()) }
}

pub async fn decline_invite(c: &Collections, s: &mut ClientSession, room: &RoomId, user: &UserId) -> MongoResult<()> {
    delete_of(&c.invites, s, room, user, Missing::Invite).await?;
    notifications::mark_read_about(c, s, Some(user), NotificationKind::Invited, room, None).await
}

pub async fn invite(c: &Collections, room: &RoomId, user: &UserId) -> MongoResult<Option<InviteRecord>> {
    Ok(c.invites.find_one(doc! { "room_id": room.as_str(), "user_id": user.as_str() }).await?.map(InviteRecord::from))
}

pub async fn create_join_request(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    user: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<Requested> {
    let room_name = outsider_of_live_room(c, s, room, user).await?;
    let request = JoinRequestDoc { room_id: room.0.clone(), user_id: user.0.clone(), created_at: date(now) };
    c.join_requests.insert_one(&request).session(&mut *s).await.map_err(or_conflict(Conflict::RequestPending))?;
    let requester = c
        .users
        .find_one(doc! { "_id": user.as_str() })
        .session(&mut *s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::User)))?;
    let admins = room_admins(c, Some(&mut *s), room).await?;
    let place = Place { room_id: room, room_name: &room_name };
    let asking = (user, requester.username.as_str());
    let notices = store_notices(c, s, notices::join_request(&place, &admins, asking), now).await?;
    let request =
        JoinRequestRecord { room_id: room.clone(), user: requester.into(), created_at: request.created_at.to_chrono() };
    Ok(Requested { request, notices })
}

fn request_record((request, user): (JoinRequestDoc, UserRecord)) -> JoinRequestRecord {
    JoinRequestRecord { room_id: RoomId(request.room_id), user, created_at: request.created_at.to_chrono() }
}

pub async fn join_request(c: &Collections, room: &RoomId, user: &UserId) -> MongoResult<Option<JoinRequestRecord>> {
    let Some(request) = c.join_requests.find_one(doc! { "room_id": room.as_str(), "user_id": user.as_str() }).await?
    else {
        return Ok(None);
    };
    Ok(with_users(c, vec![request], |r| &r.user_id).await?.pop().map(request_record))
}

pub async fn join_requests(c: &Collections, room: &RoomId) -> MongoResult<Vec<JoinRequestRecord>> {
    let requests: Vec<JoinRequestDoc> = c
        .join_requests
        .find(doc! { "room_id": room.as_str() })
        .sort(doc! { "created_at": 1 })
        .await?
        .try_collect()
        .await?;
    let mut list: Vec<JoinRequestRecord> =
        with_users(c, requests, |r| &r.user_id).await?.into_iter().map(request_record).collect();
    list.sort_by(|a, b| (a.created_at, &a.user.username).cmp(&(b.created_at, &b.user.username)));
    Ok(list)
}

/// An admin (`by`) declines `user`'s join request: it goes, the user is told, and every admin's
/// notice of it is handled (R-ROOM-9), in the session's transaction.
pub async fn decline_join_request(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    user: &UserId,
    by: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<Vec<NotificationRecord>> {
    let locked = lock_room(c, s, room.as_str()).await?;
    delete_of(&c.join_requests, s, room, user, Missing::JoinRequest).await?;
    notifications::mark_read_about(c, s, None, NotificationKind::JoinRequest, room, Some(user)).await?;
    let admin = username_of(c, s, by).await?;
    let place = Place { room_id: room, room_name: &locked.name };
    store_notices(c, s, vec![notices::declined(&place, user, (by, &admin))], now).await
}

pub async fn ban(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    target: &UserId,
    by: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<BanOutcome> {
    let locked = lock_live_room(c, s, room.as_str()).await?;
    let banned_user: UserRecord = c
        .users
        .find_one(doc! { "_id": target.as_str() })
        .session(&mut *s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::User)))?
        .into();
    let ban =
        BanDoc { room_id: room.0.clone(), user_id: target.0.clone(), banned_by: by.0.clone(), created_at: date(now) };
    c.bans.insert_one(&ban).session(&mut *s).await.map_err(or_conflict(Conflict::AlreadyBanned))?;
    let facts = [AuditFacts::new(AuditAction::MemberBanned, Some(by), Some(target))];
    audit::record(c, s, &*key_of(c, &locked)?, Some(room), &facts, now).await?;
    let this = doc! { "room_id": room.as_str(), "user_id": target.as_str() };
    c.invites.delete_one(this.clone()).session(&mut *s).await?;
    c.join_requests.delete_one(this).session(&mut *s).await?;
    let departure = match membership_in(c, s, room.as_str(), target.as_str()).await? {
        Some(_) => Some(depart(c, s, room, target, LeaveReason::Banned, by, now).await?),
        None => None,
    };
    let place = Place { room_id: room, room_name: &locked.name };
    let banner = username_of(c, s, by).await?;
    let notices = store_notices(c, s, vec![notices::ban(&place, target, (by, &banner))], now).await?;
    Ok(BanOutcome {
        notices,
        ban: BanRecord {
            room_id: room.clone(),
            user: banned_user,
            banned_by: by.clone(),
            created_at: stored_time(now),
        },
        departure,
    })
}

pub async fn unban(
    c: &Collections,
    s: &mut ClientSession,
    room: &RoomId,
    user: &UserId,
    by: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<Vec<NotificationRecord>> {
    let locked = lock_room(c, s, room.as_str()).await?;
    delete_of(&c.bans, s, room, user, Missing::Ban).await?;
    let facts = [AuditFacts::new(AuditAction::MemberUnbanned, Some(by), Some(user))];
    audit::record(c, s, &*key_of(c, &locked)?, Some(room), &facts, now).await?;
    let place = Place { room_id: room, room_name: &locked.name };
    let admin = username_of(c, s, by).await?;
    store_notices(c, s, vec![notices::unban(&place, user, (by, &admin))], now).await
}

pub async fn bans(c: &Collections, room: &RoomId) -> MongoResult<Vec<BanRecord>> {
    let bans: Vec<BanDoc> = c.bans.find(doc! { "room_id": room.as_str() }).await?.try_collect().await?;
    let mut list: Vec<BanRecord> = with_users(c, bans, |b| &b.user_id)
        .await?
        .into_iter()
        .map(|(ban, user)| BanRecord {
            room_id: RoomId(ban.room_id),
            user,
            banned_by: UserId(ban.banned_by),
            created_at: ban.created_at.to_chrono(),
        })
        .collect();
    // Newest first, then by username.
    list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.user.username.cmp(&b.user.username)));
    Ok(list)
}

pub async fn room_log(
    c: &Collections,
    user: &UserId,
    after: Option<&RoomLogCursor>,
    limit: u32,
) -> MongoResult<Vec<RoomLogRecord>> {
    let mut filter = doc! { "user_id": user.as_str() };
    if let Some(cursor) = after {
        filter.insert(
            "$or",
            vec![
                doc! { "left_at": { "$lt": date(cursor.left_at) } },
                doc! { "left_at": date(cursor.left_at), "room_id": { "$lt": cursor.room_id.as_str() } },
            ],
        );
    }
    let entries: Vec<RoomLogDoc> = c
        .room_log
        .find(filter)
        .sort(doc! { "left_at": -1, "room_id": -1 })
        .limit(i64::from(limit))
        .await?
        .try_collect()
        .await?;
    let mut rooms = rooms_by_id(c, entries.iter().map(|e| e.room_id.clone()).collect()).await?;
    Ok(entries
        .into_iter()
        .filter_map(|entry| {
            let room = rooms.remove(&entry.room_id)?;
            Some(RoomLogRecord { room, left_at: entry.left_at.to_chrono(), reason: entry.reason })
        })
        .collect())
}

pub async fn room_ids_of_user(c: &Collections, user: &UserId) -> MongoResult<Vec<RoomId>> {
    let memberships: Vec<MembershipDoc> =
        c.memberships.find(doc! { "user_id": user.as_str() }).sort(doc! { "join_seq": 1 }).await?.try_collect().await?;
    Ok(memberships.into_iter().map(|m| RoomId(m.room_id)).collect())
}
