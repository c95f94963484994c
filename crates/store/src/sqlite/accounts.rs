//! Users and refresh tokens.

use super::audit;
use super::rows::*;
use crate::audit::AuditFacts;
use crate::error::{Cause, Conflict, Missing, StoreError, StoreResult};
use crate::model::*;
use crate::sealing::{deleted_username, open_avatar, seal_avatar};
use chrono::{DateTime, Utc};
use conclave_crypto::Vault;
use conclave_protocol::{AuditAction, UserId};
use rusqlite::{Connection, OptionalExtension, params};

pub fn create_user(conn: &Connection, vault: &Vault, user: NewUser, now: DateTime<Utc>) -> StoreResult<UserRecord> {
    let record = UserRecord {
        id: UserId(uuid::Uuid::new_v4().to_string()),
        username: user.username,
        password_hash: user.password_hash,
        first_name: user.first_name,
        last_name: user.last_name,
        created_at: stored_time(now),
        last_seen_at: None,
        avatar_at: None,
    };
    conn.execute(
        "INSERT INTO users (id, username, password_hash, first_name, last_name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            record.id.as_str(),
            record.username,
            record.password_hash,
            record.first_name,
            record.last_name,
            ms(now)
        ],
    )
    .map_err(or_conflict(Conflict::UsernameTaken))?;
    audit::record(conn, vault, None, &[AuditFacts::new(AuditAction::SignedUp, Some(&record.id), None)], now)?;
    Ok(record)
}

pub fn user(conn: &Connection, id: &str) -> StoreResult<Option<UserRecord>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1 AND u.deleted_at IS NULL"),
        [id],
        |row| user_at(row, 0),
    )
    .optional()
    .map_err(backend)
}

pub fn user_by_username(conn: &Connection, username: &str) -> StoreResult<Option<UserRecord>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = ?1 AND u.deleted_at IS NULL"),
        [username.to_lowercase()],
        |row| user_at(row, 0),
    )
    .optional()
    .map_err(backend)
}

/// `LIKE` pattern for a prefix, with its wildcards escaped.
pub fn prefix_pattern(prefix: &str) -> String {
    let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("{escaped}%")
}

pub fn search_users(conn: &Connection, prefix: &str, after: Option<&str>, limit: u32) -> StoreResult<Vec<UserRecord>> {
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users u
             WHERE u.username LIKE ?1 ESCAPE '\\' AND u.username > ?2 AND u.deleted_at IS NULL
             ORDER BY u.username LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![prefix_pattern(prefix), after.unwrap_or(""), limit], |row| user_at(row, 0))
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// A login: a new token family, audited.
pub fn insert_refresh_token(
    conn: &Connection,
    vault: &Vault,
    token: NewRefreshToken,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO refresh_tokens (digest, user_id, family_id, status, created_at, expires_at)
         VALUES (?1, ?2, ?3, 'active', ?4, ?5)",
        params![token.digest, token.user_id.as_str(), uuid::Uuid::new_v4().to_string(), ms(now), ms(token.expires_at)],
    )
    .map_err(backend)?;
    audit::record(conn, vault, None, &[AuditFacts::new(AuditAction::LoggedIn, Some(&token.user_id), None)], now)
}

pub fn rotate_refresh_token(
    conn: &Connection,
    old_digest: &str,
    new_digest: &str,
    new_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Rotation> {
    let found: Option<(String, String, String, i64)> = conn
        .query_row(
            "SELECT user_id, family_id, status, expires_at FROM refresh_tokens WHERE digest = ?1",
            [old_digest],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()
        .map_err(backend)?;
    let Some((user_id, family_id, status, expires_at)) = found else {
        return Ok(Rotation::Invalid);
    };
    match status.as_str() {
        "active" if expires_at > ms(now) => {
            conn.execute("UPDATE refresh_tokens SET status = 'used' WHERE digest = ?1", [old_digest])
                .map_err(backend)?;
            conn.execute(
                "INSERT INTO refresh_tokens (digest, user_id, family_id, status, created_at, expires_at)
                 VALUES (?1, ?2, ?3, 'active', ?4, ?5)",
                params![new_digest, user_id, family_id, ms(now), ms(new_expires_at)],
            )
            .map_err(backend)?;
            Ok(Rotation::Rotated { user_id: UserId(user_id) })
        }
        "used" => {
            revoke_family(conn, &family_id)?;
            Ok(Rotation::Reused { user_id: UserId(user_id) })
        }
        _ => Ok(Rotation::Invalid),
    }
}

fn revoke_family(conn: &Connection, family_id: &str) -> StoreResult<()> {
    conn.execute("UPDATE refresh_tokens SET status = 'revoked' WHERE family_id = ?1", [family_id]).map_err(backend)?;
    Ok(())
}

pub fn revoke_refresh_family(conn: &Connection, digest: &str) -> StoreResult<()> {
    let family: Option<String> = conn
        .query_row("SELECT family_id FROM refresh_tokens WHERE digest = ?1", [digest], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    match family {
        Some(family_id) => revoke_family(conn, &family_id),
        None => Ok(()),
    }
}

pub fn refresh_token_user(conn: &Connection, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<UserId>> {
    conn.query_row(
        "SELECT user_id FROM refresh_tokens WHERE digest = ?1 AND status = 'active' AND expires_at > ?2",
        params![digest, ms(now)],
        |row| id_at(row, 0),
    )
    .optional()
    .map_err(backend)
}

pub fn update_names(
    conn: &Connection,
    id: &UserId,
    first: Change<String>,
    last: Change<String>,
) -> StoreResult<UserRecord> {
    let existing = user(conn, id.as_str())?.ok_or(StoreError::NotFound(Missing::User))?;
    let first = first.into_update().unwrap_or(existing.first_name);
    let last = last.into_update().unwrap_or(existing.last_name);
    conn.execute("UPDATE users SET first_name = ?2, last_name = ?3 WHERE id = ?1", params![id.as_str(), first, last])
        .map_err(backend)?;
    user(conn, id.as_str())?.ok_or(StoreError::NotFound(Missing::User))
}

pub fn change_password(conn: &Connection, id: &UserId, password_hash: &str) -> StoreResult<()> {
    let changed = conn
        .execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![id.as_str(), password_hash])
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Missing::User));
    }
    conn.execute("UPDATE refresh_tokens SET status = 'revoked' WHERE user_id = ?1", [id.as_str()]).map_err(backend)?;
    Ok(())
}

/// Sets the user's avatar, sealed under the server's key (R-ACC-8).
pub fn set_avatar(
    conn: &Connection,
    vault: &Vault,
    id: &UserId,
    avatar: NewAvatar,
    now: DateTime<Utc>,
) -> StoreResult<UserRecord> {
    let sealed = seal_avatar(&*audit::server_key(conn, vault)?, id.as_str(), &avatar.content)?;
    let changed = conn
        .execute("UPDATE users SET avatar_at = ?2 WHERE id = ?1 AND deleted_at IS NULL", params![id.as_str(), ms(now)])
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Missing::User));
    }
    conn.execute(
        "INSERT INTO avatars (user_id, content_type, content) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET content_type = excluded.content_type, content = excluded.content",
        params![id.as_str(), avatar.content_type, sealed],
    )
    .map_err(backend)?;
    user(conn, id.as_str())?.ok_or(StoreError::NotFound(Missing::User))
}

/// Removes the user's avatar, if they have one.
pub fn remove_avatar(conn: &Connection, id: &UserId) -> StoreResult<UserRecord> {
    conn.execute("UPDATE users SET avatar_at = NULL WHERE id = ?1", [id.as_str()]).map_err(backend)?;
    conn.execute("DELETE FROM avatars WHERE user_id = ?1", [id.as_str()]).map_err(backend)?;
    user(conn, id.as_str())?.ok_or(StoreError::NotFound(Missing::User))
}

/// The user's avatar, opened; `None` when they have none.
pub fn avatar(conn: &Connection, vault: &Vault, id: &UserId) -> StoreResult<Option<AvatarRecord>> {
    let found: Option<(String, Vec<u8>, i64)> = conn
        .query_row(
            "SELECT a.content_type, a.content, u.avatar_at FROM avatars a JOIN users u ON u.id = a.user_id
             WHERE a.user_id = ?1 AND u.deleted_at IS NULL AND u.avatar_at IS NOT NULL",
            [id.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .map_err(backend)?;
    let Some((content_type, sealed, at)) = found else { return Ok(None) };
    let content = open_avatar(&*audit::server_key(conn, vault)?, id.as_str(), &sealed)?;
    let updated_at = DateTime::from_timestamp_millis(at)
        .ok_or_else(|| StoreError::Corrupt(Cause::msg(format!("the avatar time of user {id} is out of range"))))?;
    Ok(Some(AvatarRecord { content_type, content, updated_at }))
}

/// Ends an account (R-ACC-7) once it has left its group rooms: its name becomes a deleted
/// user's, its password, names and avatar go, and so do its sessions, invitations, join
/// requests, bans, notifications, room log and unsent uploads. Its messages and direct rooms
/// stay, shown as from the deleted user. Audited.
pub fn delete_account(conn: &Connection, vault: &Vault, id: &UserId, now: DateTime<Utc>) -> StoreResult<()> {
    let user_id = id.as_str();
    let changed = conn
        .execute(
            "UPDATE users SET username = ?2, password_hash = '', first_name = NULL, last_name = NULL,
                              avatar_at = NULL, deleted_at = ?3
             WHERE id = ?1 AND deleted_at IS NULL",
            params![user_id, deleted_username(user_id), ms(now)],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Missing::User));
    }
    for statement in [
        "DELETE FROM avatars WHERE user_id = ?1",
        "DELETE FROM refresh_tokens WHERE user_id = ?1",
        "DELETE FROM invites WHERE user_id = ?1",
        "DELETE FROM join_requests WHERE user_id = ?1",
        "DELETE FROM bans WHERE user_id = ?1",
        "DELETE FROM notifications WHERE user_id = ?1",
        "DELETE FROM room_log WHERE user_id = ?1",
        "DELETE FROM attachments WHERE uploader_id = ?1 AND message_id IS NULL",
    ] {
        conn.execute(statement, [user_id]).map_err(backend)?;
    }
    audit::record(conn, vault, None, &[AuditFacts::new(AuditAction::AccountDeleted, Some(id), None)], now)
}
