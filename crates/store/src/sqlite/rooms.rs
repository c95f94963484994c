//! Rooms, membership, invites, join requests, bans and the previous-rooms log.

use super::accounts::{prefix_pattern, user};
use super::audit;
use super::notifications::{insert_notification, mark_read_about};
use super::rows::*;
use crate::audit::{AuditFacts, departure_facts};
use crate::error::{Cause, Conflict, Missing, StoreError, StoreResult};
use crate::model::*;
use crate::notices::{self, Place};
use crate::sealing::new_room_key;
use chrono::{DateTime, Utc};
use conclave_crypto::Vault;
use conclave_domain::{Departure, MemberSnapshot, after_departure};
use conclave_protocol::{AuditAction, JoinPolicy, LeaveReason, NotificationKind, Role, RoomId, RoomKind, UserId};
use rusqlite::{Connection, OptionalExtension, params};

pub fn room(conn: &Connection, id: &str) -> StoreResult<Option<RoomRecord>> {
    conn.query_row(&format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = ?1"), [id], |row| room_at(row, 0))
        .optional()
        .map_err(backend)
}

fn existing_room(conn: &Connection, id: &str) -> StoreResult<RoomRecord> {
    room(conn, id)?.ok_or(StoreError::NotFound(Missing::Room))
}

fn live_room(conn: &Connection, id: &str) -> StoreResult<RoomRecord> {
    let room = existing_room(conn, id)?;
    if room.terminated_at.is_some() {
        return Err(StoreError::RoomTerminated);
    }
    Ok(room)
}

fn insert_membership(
    conn: &Connection,
    room: &str,
    user: &str,
    role: Role,
    now: DateTime<Utc>,
    last_read: u64,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO memberships (room_id, user_id, role, joined_at, last_read_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![room, user, name_of(&role), ms(now), to_i64(last_read)],
    )
    .map_err(or_conflict(Conflict::AlreadyMember))?;
    Ok(())
}

pub fn create_room(
    conn: &Connection,
    vault: &Vault,
    new: NewRoom,
    owner: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<RoomRecord> {
    let id = uuid::Uuid::new_v4().to_string();
    let (_, wrapped_key) = new_room_key(vault, &id)?;
    conn.execute(
        "INSERT INTO rooms (id, kind, name, name_lower, topic, join_policy, password_hash, owner_id, created_at, data_key)
         VALUES (?1, 'group', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            new.name,
            new.name.to_lowercase(),
            new.topic,
            name_of(&new.join_policy),
            new.password_hash,
            owner.as_str(),
            ms(now),
            wrapped_key
        ],
    )
    .map_err(backend)?;
    insert_membership(conn, &id, owner.as_str(), Role::Owner, now, 0)?;
    let facts = [AuditFacts::new(AuditAction::RoomCreated, Some(owner), None)];
    audit::record(conn, vault, Some(&RoomId::from(id.as_str())), &facts, now)?;
    existing_room(conn, &id)
}

pub fn open_direct_room(
    conn: &Connection,
    vault: &Vault,
    a: &UserId,
    b: &UserId,
    name: &str,
    now: DateTime<Utc>,
) -> StoreResult<RoomRecord> {
    let key = direct_key(a, b);
    let existing: Option<String> = conn
        .query_row("SELECT id FROM rooms WHERE direct_key = ?1", [&key], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    if let Some(id) = existing {
        conn.execute("UPDATE memberships SET hidden = 0 WHERE room_id = ?1 AND user_id = ?2", params![id, a.as_str()])
            .map_err(backend)?;
        return existing_room(conn, &id);
    }
    let id = uuid::Uuid::new_v4().to_string();
    let (_, wrapped_key) = new_room_key(vault, &id)?;
    conn.execute(
        "INSERT INTO rooms (id, kind, name, name_lower, join_policy, direct_key, created_at, data_key)
         VALUES (?1, 'direct', ?2, ?3, 'invite', ?4, ?5, ?6)",
        params![id, name, name.to_lowercase(), key, ms(now), wrapped_key],
    )
    .map_err(backend)?;
    insert_membership(conn, &id, a.as_str(), Role::Member, now, 0)?;
    if a != b {
        insert_membership(conn, &id, b.as_str(), Role::Member, now, 0)?;
    }
    existing_room(conn, &id)
}

pub fn update_room(conn: &Connection, id: &RoomId, patch: RoomPatch) -> StoreResult<RoomRecord> {
    existing_room(conn, id.as_str())?;
    if let Some(name) = patch.name {
        conn.execute(
            "UPDATE rooms SET name = ?2, name_lower = ?3 WHERE id = ?1",
            params![id.as_str(), name, name.to_lowercase()],
        )
        .map_err(backend)?;
    }
    if let Some(topic) = patch.topic.into_update() {
        conn.execute("UPDATE rooms SET topic = ?2 WHERE id = ?1", params![id.as_str(), topic]).map_err(backend)?;
    }
    if let Some(policy) = patch.join_policy {
        conn.execute("UPDATE rooms SET join_policy = ?2 WHERE id = ?1", params![id.as_str(), name_of(&policy)])
            .map_err(backend)?;
    }
    if let Some(hash) = patch.password_hash.into_update() {
        conn.execute("UPDATE rooms SET password_hash = ?2 WHERE id = ?1", params![id.as_str(), hash])
            .map_err(backend)?;
    }
    existing_room(conn, id.as_str())
}

pub fn search_rooms(
    conn: &Connection,
    prefix: &str,
    searcher: &UserId,
    after: Option<&RoomSearchCursor>,
    limit: u32,
) -> StoreResult<Vec<RoomRecord>> {
    let (after_name, after_id) = after.map_or(("", ""), |c| (c.name_lower.as_str(), c.room_id.as_str()));
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r
             WHERE r.kind = 'group' AND r.terminated_at IS NULL AND r.join_policy != ?1
               AND r.name_lower LIKE ?2 ESCAPE '\\'
               AND (r.name_lower > ?3 OR (r.name_lower = ?3 AND r.id > ?4))
               AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.room_id = r.id AND b.user_id = ?5)
             ORDER BY r.name_lower, r.id LIMIT ?6"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(
            params![
                name_of(&JoinPolicy::Invite),
                prefix_pattern(&prefix.to_lowercase()),
                after_name,
                after_id,
                searcher.as_str(),
                limit
            ],
            |row| room_at(row, 0),
        )
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn rooms_of_user(
    conn: &Connection,
    user: &UserId,
    after_join_seq: Option<i64>,
    limit: u32,
) -> StoreResult<Vec<MyRoomRecord>> {
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {ROOM_COLUMNS}, {MEMBERSHIP_COLUMNS},
                (SELECT COUNT(*) FROM messages msg
                  WHERE msg.room_id = m.room_id AND msg.seq > m.last_read_seq
                    AND msg.author_id != m.user_id AND msg.deleted = 0),
                (SELECT lm.created_at FROM messages lm WHERE lm.room_id = r.id AND lm.seq = r.last_seq)
             FROM memberships m JOIN rooms r ON r.id = m.room_id
             WHERE m.user_id = ?1 AND m.hidden = 0 AND m.join_seq > ?2
             ORDER BY m.join_seq LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![user.as_str(), after_join_seq.unwrap_or(0), limit], |row| {
            Ok(MyRoomRecord {
                room: room_at(row, 0)?,
                membership: membership_at(row, 11)?,
                unread_count: u64_at(row, 17)?,
                last_message_at: opt_time_at(row, 18)?,
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

fn log_departure(
    conn: &Connection,
    user: &str,
    room: &str,
    reason: LeaveReason,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO room_log (user_id, room_id, left_at, reason) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, room_id) DO UPDATE SET left_at = excluded.left_at, reason = excluded.reason",
        params![user, room, ms(now), name_of(&reason)],
    )
    .map_err(backend)?;
    Ok(())
}

fn mark_terminated(conn: &Connection, room: &str, now: DateTime<Utc>) -> StoreResult<()> {
    conn.execute("UPDATE rooms SET terminated_at = ?2 WHERE id = ?1 AND terminated_at IS NULL", params![room, ms(now)])
        .map_err(backend)?;
    conn.execute("DELETE FROM invites WHERE room_id = ?1", [room]).map_err(backend)?;
    conn.execute("DELETE FROM join_requests WHERE room_id = ?1", [room]).map_err(backend)?;
    Ok(())
}

pub fn terminate_room(
    conn: &Connection,
    vault: &Vault,
    id: &RoomId,
    by: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<TerminationRecord> {
    let ended = live_room(conn, id.as_str())?;
    let former: Vec<UserId> = {
        let mut statement = conn
            .prepare_cached("SELECT user_id FROM memberships WHERE room_id = ?1 ORDER BY join_seq")
            .map_err(backend)?;
        let rows = statement.query_map([id.as_str()], |row| id_at(row, 0)).map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)?
    };
    for user in &former {
        log_departure(conn, user.as_str(), id.as_str(), LeaveReason::Terminated, now)?;
    }
    conn.execute("DELETE FROM memberships WHERE room_id = ?1", [id.as_str()]).map_err(backend)?;
    mark_terminated(conn, id.as_str(), now)?;
    audit::record(conn, vault, Some(id), &[AuditFacts::new(AuditAction::RoomTerminated, Some(by), None)], now)?;
    let place = Place { room_id: id, room_name: &ended.name };
    let owner = username_of(conn, by)?;
    let notices = store_notices(conn, notices::termination(&place, &former, (by, &owner)), now)?;
    Ok(TerminationRecord { room: existing_room(conn, id.as_str())?, former_members: former, notices })
}

pub fn membership(conn: &Connection, room: &str, user: &str) -> StoreResult<Option<MembershipRecord>> {
    conn.query_row(
        &format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.room_id = ?1 AND m.user_id = ?2"),
        [room, user],
        |row| membership_at(row, 0),
    )
    .optional()
    .map_err(backend)
}

pub fn members(
    conn: &Connection,
    room: &RoomId,
    after_join_seq: Option<i64>,
    limit: u32,
) -> StoreResult<Vec<MemberRecord>> {
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {MEMBERSHIP_COLUMNS}, {USER_COLUMNS}
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.room_id = ?1 AND m.join_seq > ?2 ORDER BY m.join_seq LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![room.as_str(), after_join_seq.unwrap_or(0), limit], |row| {
            Ok(MemberRecord { membership: membership_at(row, 0)?, user: user_at(row, 6)? })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn room_admins(conn: &Connection, room: &RoomId) -> StoreResult<Vec<UserId>> {
    let mut statement = conn
        .prepare_cached(
            "SELECT user_id FROM memberships WHERE room_id = ?1 AND role IN ('owner', 'admin') ORDER BY join_seq",
        )
        .map_err(backend)?;
    let rows = statement.query_map([room.as_str()], |row| row.get::<_, String>(0).map(UserId)).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn direct_peers(conn: &Connection, user: &UserId, rooms: &[RoomId]) -> StoreResult<Vec<(RoomId, UserRecord)>> {
    let ids = serde_json::to_string(&rooms.iter().map(RoomId::as_str).collect::<Vec<_>>())
        .map_err(|e| StoreError::Backend(Cause::new(e)))?;
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT m.room_id, {USER_COLUMNS}
             FROM json_each(?2) wanted
             JOIN rooms r ON r.id = wanted.value AND r.kind = 'direct'
             JOIN memberships m ON m.room_id = r.id AND m.user_id != ?1
             JOIN users u ON u.id = m.user_id"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![user.as_str(), ids], |row| Ok((RoomId(row.get(0)?), user_at(row, 1)?)))
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

fn banned(conn: &Connection, room: &str, user: &str) -> StoreResult<bool> {
    conn.query_row("SELECT 1 FROM bans WHERE room_id = ?1 AND user_id = ?2", [room, user], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
        .map_err(backend)
}

pub fn is_banned(conn: &Connection, room: &RoomId, user: &UserId) -> StoreResult<bool> {
    banned(conn, room.as_str(), user.as_str())
}

pub fn add_member(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    user: &UserId,
    role: Role,
    by: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<Admitted> {
    let record = live_room(conn, room.as_str())?;
    if banned(conn, room.as_str(), user.as_str())? {
        return Err(StoreError::Banned);
    }
    insert_membership(conn, room.as_str(), user.as_str(), role, now, record.last_seq)?;
    for table in ["invites", "join_requests", "room_log"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE room_id = ?1 AND user_id = ?2"),
            [room.as_str(), user.as_str()],
        )
        .map_err(backend)?;
    }
    audit::record(conn, vault, Some(room), &[AuditFacts::new(AuditAction::MemberJoined, Some(by), Some(user))], now)?;
    // The invitation and the request are answered (R-ROOM-9): their notices are handled.
    mark_read_about(conn, Some(user), NotificationKind::Invited, room, None)?;
    mark_read_about(conn, None, NotificationKind::JoinRequest, room, Some(user))?;
    let notices = if by == user {
        Vec::new()
    } else {
        let place = Place { room_id: room, room_name: &record.name };
        let admin = username_of(conn, by)?;
        store_notices(conn, vec![notices::accepted(&place, user, (by, &admin))], now)?
    };
    let membership =
        membership(conn, room.as_str(), user.as_str())?.ok_or(StoreError::NotFound(Missing::Membership))?;
    Ok(Admitted { membership, notices })
}

/// Removes `user` and applies R-ROOM-5 to the rest; shared by leave, kick and ban. Audits the
/// departure (a ban audits itself) and what R-ROOM-5 did.
fn depart(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    user: &UserId,
    reason: LeaveReason,
    by: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<DepartureRecord> {
    let live = live_room(conn, room.as_str())?;
    if live.kind == RoomKind::Direct {
        return Err(StoreError::NotFound(Missing::Membership));
    }
    let leaver = membership(conn, room.as_str(), user.as_str())?.ok_or(StoreError::NotAMember)?;
    conn.execute("DELETE FROM memberships WHERE room_id = ?1 AND user_id = ?2", [room.as_str(), user.as_str()])
        .map_err(backend)?;
    log_departure(conn, user.as_str(), room.as_str(), reason, now)?;

    let remaining: Vec<MemberSnapshot> = {
        let mut statement = conn
            .prepare_cached("SELECT user_id, role FROM memberships WHERE room_id = ?1 ORDER BY join_seq")
            .map_err(backend)?;
        let rows = statement
            .query_map([room.as_str()], |row| Ok(MemberSnapshot { user_id: id_at(row, 0)?, role: enum_at(row, 1)? }))
            .map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)?
    };
    let departure = after_departure(leaver.role, &remaining);
    match &departure {
        Departure::Terminate => mark_terminated(conn, room.as_str(), now)?,
        Departure::TerminateAndEvict(last) => {
            conn.execute("DELETE FROM memberships WHERE room_id = ?1", [room.as_str()]).map_err(backend)?;
            log_departure(conn, last.as_str(), room.as_str(), LeaveReason::Terminated, now)?;
            mark_terminated(conn, room.as_str(), now)?;
        }
        Departure::Continue { promotion: Some((promoted, role)) } => {
            conn.execute(
                "UPDATE memberships SET role = ?3 WHERE room_id = ?1 AND user_id = ?2",
                params![room.as_str(), promoted.as_str(), name_of(role)],
            )
            .map_err(backend)?;
            if *role == Role::Owner {
                conn.execute("UPDATE rooms SET owner_id = ?2 WHERE id = ?1", params![room.as_str(), promoted.as_str()])
                    .map_err(backend)?;
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
    audit::record(conn, vault, Some(room), &departure_facts(&record, reason, by), now)?;
    let kicker = if reason == LeaveReason::Kicked { Some(username_of(conn, by)?) } else { None };
    let place = Place { room_id: room, room_name: &live.name };
    let kicked_by = kicker.as_deref().map(|name| (by, name));
    record.notices = store_notices(conn, notices::departure(&place, &record, reason, kicked_by), now)?;
    Ok(record)
}

/// The username of `user` (who acted), for the notices of what they did.
fn username_of(conn: &Connection, user: &UserId) -> StoreResult<String> {
    conn.prepare_cached("SELECT username FROM users WHERE id = ?1")
        .map_err(backend)?
        .query_row([user.as_str()], |row| row.get(0))
        .optional()
        .map_err(backend)?
        .ok_or(StoreError::NotFound(Missing::User))
}

/// Stores a command's notices in its transaction.
fn store_notices(
    conn: &Connection,
    notices: Vec<NewNotification>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<NotificationRecord>> {
    notices.into_iter().map(|notice| insert_notification(conn, notice, now)).collect()
}

pub fn remove_member(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    user: &UserId,
    reason: LeaveReason,
    by: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<DepartureRecord> {
    depart(conn, vault, room, user, reason, by, now)
}

pub fn hide_direct_room(conn: &Connection, room: &RoomId, user: &UserId) -> StoreResult<()> {
    let changed = conn
        .execute(
            "UPDATE memberships SET hidden = 1 WHERE room_id = ?1 AND user_id = ?2
               AND room_id IN (SELECT id FROM rooms WHERE kind = 'direct')",
            [room.as_str(), user.as_str()],
        )
        .map_err(backend)?;
    if changed == 0 { Err(StoreError::NotAMember) } else { Ok(()) }
}

pub fn set_role(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    user: &UserId,
    role: Role,
    by: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<RoleChange> {
    let live = live_room(conn, room.as_str())?;
    // A member, read in this transaction: the update below finds them.
    let before = membership(conn, room.as_str(), user.as_str())?.ok_or(StoreError::NotAMember)?;
    conn.execute(
        "UPDATE memberships SET role = ?3 WHERE room_id = ?1 AND user_id = ?2",
        params![room.as_str(), user.as_str(), name_of(&role)],
    )
    .map_err(backend)?;
    let facts = [AuditFacts::new(AuditAction::RoleChanged, Some(by), Some(user)).with_role(role)];
    audit::record(conn, vault, Some(room), &facts, now)?;
    let notices = if before.role == role {
        Vec::new()
    } else {
        let place = Place { room_id: room, room_name: &live.name };
        let owner = username_of(conn, by)?;
        store_notices(conn, vec![notices::role_change(&place, user, role, (by, &owner))], now)?
    };
    let membership = membership(conn, room.as_str(), user.as_str())?.ok_or(StoreError::NotAMember)?;
    Ok(RoleChange { membership, notices })
}

pub fn mark_read(conn: &Connection, room: &RoomId, user: &UserId, seq: u64) -> StoreResult<()> {
    let changed = conn
        .execute(
            "UPDATE memberships SET last_read_seq =
                MAX(last_read_seq, MIN(?3, (SELECT last_seq FROM rooms WHERE id = ?1)))
             WHERE room_id = ?1 AND user_id = ?2",
            params![room.as_str(), user.as_str(), to_i64(seq)],
        )
        .map_err(backend)?;
    if changed == 0 { Err(StoreError::NotAMember) } else { Ok(()) }
}

/// `user` may be invited to, or ask to join, `room`: it is live, they are not banned and not in it.
/// Checks that `user` may be invited into or ask to join `room`; the room's name.
fn outsider_of_live_room(conn: &Connection, room: &RoomId, user: &UserId) -> StoreResult<String> {
    let live = live_room(conn, room.as_str())?;
    if banned(conn, room.as_str(), user.as_str())? {
        return Err(StoreError::Banned);
    }
    if membership(conn, room.as_str(), user.as_str())?.is_some() {
        return Err(StoreError::Conflict(Conflict::AlreadyMember));
    }
    Ok(live.name)
}

pub fn create_invite(
    conn: &Connection,
    room: &RoomId,
    user: &UserId,
    by: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<Invited> {
    let room_name = outsider_of_live_room(conn, room, user)?;
    conn.execute(
        "INSERT INTO invites (room_id, user_id, invited_by, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![room.as_str(), user.as_str(), by.as_str(), ms(now)],
    )
    .map_err(or_conflict(Conflict::AlreadyInvited))?;
    let place = Place { room_id: room, room_name: &room_name };
    let admin = username_of(conn, by)?;
    let notices = store_notices(conn, vec![notices::invitation(&place, user, (by, &admin))], now)?;
    let invite = InviteRecord {
        room_id: room.clone(),
        user_id: user.clone(),
        invited_by: by.clone(),
        created_at: stored_time(now),
    };
    Ok(Invited { invite, notices })
}

pub fn decline_invite(conn: &Connection, room: &RoomId, user: &UserId) -> StoreResult<()> {
    let removed = conn
        .execute("DELETE FROM invites WHERE room_id = ?1 AND user_id = ?2", [room.as_str(), user.as_str()])
        .map_err(backend)?;
    if removed == 0 {
        return Err(StoreError::NotFound(Missing::Invite));
    }
    mark_read_about(conn, Some(user), NotificationKind::Invited, room, None).map(drop)
}

pub fn invite(conn: &Connection, room: &RoomId, user: &UserId) -> StoreResult<Option<InviteRecord>> {
    conn.query_row(
        "SELECT room_id, user_id, invited_by, created_at FROM invites WHERE room_id = ?1 AND user_id = ?2",
        [room.as_str(), user.as_str()],
        |row| {
            Ok(InviteRecord {
                room_id: id_at(row, 0)?,
                user_id: id_at(row, 1)?,
                invited_by: id_at(row, 2)?,
                created_at: time_at(row, 3)?,
            })
        },
    )
    .optional()
    .map_err(backend)
}

pub fn create_join_request(
    conn: &Connection,
    room: &RoomId,
    user: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<Requested> {
    let room_name = outsider_of_live_room(conn, room, user)?;
    conn.execute(
        "INSERT INTO join_requests (room_id, user_id, created_at) VALUES (?1, ?2, ?3)",
        params![room.as_str(), user.as_str(), ms(now)],
    )
    .map_err(or_conflict(Conflict::RequestPending))?;
    let request = join_request(conn, room, user)?.ok_or(StoreError::NotFound(Missing::JoinRequest))?;
    let place = Place { room_id: room, room_name: &room_name };
    let asking = (user, request.user.username.as_str());
    let notices = store_notices(conn, notices::join_request(&place, &room_admins(conn, room)?, asking), now)?;
    Ok(Requested { request, notices })
}

/// A request and its user; a function because the user's columns come from [`USER_COLUMNS`].
fn request_query() -> String {
    format!("SELECT jr.room_id, jr.created_at, {USER_COLUMNS} FROM join_requests jr JOIN users u ON u.id = jr.user_id")
}

fn join_request_at(row: &rusqlite::Row<'_>) -> rusqlite::Result<JoinRequestRecord> {
    Ok(JoinRequestRecord { room_id: id_at(row, 0)?, created_at: time_at(row, 1)?, user: user_at(row, 2)? })
}

pub fn join_request(conn: &Connection, room: &RoomId, user: &UserId) -> StoreResult<Option<JoinRequestRecord>> {
    conn.query_row(
        &format!("{} WHERE jr.room_id = ?1 AND jr.user_id = ?2", request_query()),
        [room.as_str(), user.as_str()],
        join_request_at,
    )
    .optional()
    .map_err(backend)
}

pub fn join_requests(conn: &Connection, room: &RoomId) -> StoreResult<Vec<JoinRequestRecord>> {
    let mut statement = conn
        .prepare_cached(&format!("{} WHERE jr.room_id = ?1 ORDER BY jr.created_at, u.username", request_query()))
        .map_err(backend)?;
    let rows = statement.query_map([room.as_str()], join_request_at).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// An admin (`by`) declines `user`'s join request: it goes, the user is told, and every admin's
/// notice of it is handled (R-ROOM-9). What could refuse is read before anything is written, so
/// a refusal (no such request: accepted or declined already) leaves the batch's transaction as
/// it was.
pub fn decline_join_request(
    conn: &Connection,
    room: &RoomId,
    user: &UserId,
    by: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<Vec<NotificationRecord>> {
    let name = existing_room(conn, room.as_str())?.name;
    let admin = username_of(conn, by)?;
    let changed = conn
        .execute("DELETE FROM join_requests WHERE room_id = ?1 AND user_id = ?2", [room.as_str(), user.as_str()])
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Missing::JoinRequest));
    }
    mark_read_about(conn, None, NotificationKind::JoinRequest, room, Some(user))?;
    let place = Place { room_id: room, room_name: &name };
    store_notices(conn, vec![notices::declined(&place, user, (by, &admin))], now)
}

pub fn ban(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    target: &UserId,
    by: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<BanOutcome> {
    let live = live_room(conn, room.as_str())?;
    let banned_user = user(conn, target.as_str())?.ok_or(StoreError::NotFound(Missing::User))?;
    conn.execute(
        "INSERT INTO bans (room_id, user_id, banned_by, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![room.as_str(), target.as_str(), by.as_str(), ms(now)],
    )
    .map_err(or_conflict(Conflict::AlreadyBanned))?;
    audit::record(conn, vault, Some(room), &[AuditFacts::new(AuditAction::MemberBanned, Some(by), Some(target))], now)?;
    for table in ["invites", "join_requests"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE room_id = ?1 AND user_id = ?2"),
            [room.as_str(), target.as_str()],
        )
        .map_err(backend)?;
    }
    let departure = match membership(conn, room.as_str(), target.as_str())? {
        Some(_) => Some(depart(conn, vault, room, target, LeaveReason::Banned, by, now)?),
        None => None,
    };
    let place = Place { room_id: room, room_name: &live.name };
    let banner = username_of(conn, by)?;
    let notices = store_notices(conn, vec![notices::ban(&place, target, (by, &banner))], now)?;
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

pub fn unban(
    conn: &Connection,
    vault: &Vault,
    room: &RoomId,
    user: &UserId,
    by: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<Vec<NotificationRecord>> {
    let changed = conn
        .execute("DELETE FROM bans WHERE room_id = ?1 AND user_id = ?2", [room.as_str(), user.as_str()])
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Missing::Ban));
    }
    audit::record(conn, vault, Some(room), &[AuditFacts::new(AuditAction::MemberUnbanned, Some(by), Some(user))], now)?;
    let name = existing_room(conn, room.as_str())?.name;
    let place = Place { room_id: room, room_name: &name };
    let admin = username_of(conn, by)?;
    store_notices(conn, vec![notices::unban(&place, user, (by, &admin))], now)
}

pub fn bans(conn: &Connection, room: &RoomId) -> StoreResult<Vec<BanRecord>> {
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT b.room_id, b.banned_by, b.created_at, {USER_COLUMNS}
             FROM bans b JOIN users u ON u.id = b.user_id
             WHERE b.room_id = ?1 ORDER BY b.created_at DESC, u.username"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map([room.as_str()], |row| {
            Ok(BanRecord {
                room_id: id_at(row, 0)?,
                banned_by: id_at(row, 1)?,
                created_at: time_at(row, 2)?,
                user: user_at(row, 3)?,
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn room_log(
    conn: &Connection,
    user: &UserId,
    after: Option<&RoomLogCursor>,
    limit: u32,
) -> StoreResult<Vec<RoomLogRecord>> {
    let (after_time, after_room) = after.map_or((i64::MAX, ""), |c| (ms(c.left_at), c.room_id.as_str()));
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT l.left_at, l.reason, {ROOM_COLUMNS}
             FROM room_log l JOIN rooms r ON r.id = l.room_id
             WHERE l.user_id = ?1 AND (l.left_at < ?2 OR (l.left_at = ?2 AND l.room_id < ?3))
             ORDER BY l.left_at DESC, l.room_id DESC LIMIT ?4"
        ))
        .map_err(backend)?;
    let after_room = if after.is_some() { after_room.to_owned() } else { "\u{10FFFF}".to_owned() };
    let rows = statement
        .query_map(params![user.as_str(), after_time, after_room, limit], |row| {
            Ok(RoomLogRecord { left_at: time_at(row, 0)?, reason: enum_at(row, 1)?, room: room_at(row, 2)? })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn room_ids_of_user(conn: &Connection, user: &UserId) -> StoreResult<Vec<RoomId>> {
    let mut statement =
        conn.prepare_cached("SELECT room_id FROM memberships WHERE user_id = ?1 ORDER BY join_seq").map_err(backend)?;
    let rows = statement.query_map([user.as_str()], |row| id_at(row, 0)).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}
