//! The SQLite schema, versioned with `PRAGMA user_version`. Each migration runs once, in order.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
    CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        first_name    TEXT,
        last_name     TEXT,
        created_at    INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE refresh_tokens (
        digest     TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        family_id  TEXT NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('active', 'used', 'revoked')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);

    CREATE TABLE rooms (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL CHECK (kind IN ('group', 'direct')),
        name          TEXT NOT NULL,
        name_lower    TEXT NOT NULL,
        topic         TEXT,
        join_policy   TEXT NOT NULL CHECK (join_policy IN ('open', 'password', 'request', 'invite')),
        password_hash TEXT,
        owner_id      TEXT,
        direct_key    TEXT UNIQUE,
        last_seq      INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL,
        terminated_at INTEGER
    ) STRICT;
    CREATE INDEX rooms_by_name ON rooms(name_lower, id) WHERE kind = 'group' AND terminated_at IS NULL;

    CREATE TABLE memberships (
        join_seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        room_id       TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
        joined_at     INTEGER NOT NULL,
        last_read_seq INTEGER NOT NULL DEFAULT 0,
        hidden        INTEGER NOT NULL DEFAULT 0,
        UNIQUE (room_id, user_id)
    );
    CREATE INDEX memberships_by_user ON memberships(user_id, join_seq);

    CREATE TABLE invites (
        room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        invited_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (room_id, user_id)
    ) STRICT;

    CREATE TABLE join_requests (
        room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (room_id, user_id)
    ) STRICT;

    CREATE TABLE bans (
        room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        banned_by  TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (room_id, user_id)
    ) STRICT;
    CREATE INDEX bans_by_user ON bans(user_id);

    CREATE TABLE messages (
        id         TEXT PRIMARY KEY,
        room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        author_id  TEXT NOT NULL REFERENCES users(id),
        body       TEXT NOT NULL,
        color      TEXT,
        sticker    TEXT,
        client_id  TEXT,
        created_at INTEGER NOT NULL,
        edited_at  INTEGER,
        deleted    INTEGER NOT NULL DEFAULT 0,
        UNIQUE (room_id, seq)
    ) STRICT;
    CREATE UNIQUE INDEX messages_by_client_id ON messages(room_id, author_id, client_id) WHERE client_id IS NOT NULL;

    CREATE TABLE notifications (
        id         TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL,
        room_id    TEXT,
        actor_id   TEXT,
        data       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        read       INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX notifications_by_user ON notifications(user_id, read, created_at DESC, id DESC);

    CREATE TABLE room_log (
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        left_at INTEGER NOT NULL,
        reason  TEXT NOT NULL CHECK (reason IN ('left', 'kicked', 'banned', 'terminated')),
        PRIMARY KEY (user_id, room_id)
    ) STRICT;
    CREATE INDEX room_log_by_user ON room_log(user_id, left_at DESC, room_id DESC);
    "#,
];

/// Brings the database to the newest schema.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let applied = usize::try_from(version).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(index + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
    }
    Ok(())
}
