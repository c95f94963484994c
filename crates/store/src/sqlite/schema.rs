//! The SQLite schema, versioned with `PRAGMA user_version`. Each migration runs once, in order,
//! in a transaction of its own: its SQL, then its Rust step when it has one.

use super::rows::backend;
use crate::error::StoreResult;
use crate::sealing::{SERVER_SCOPE, new_room_key, room_key, seal_body};
use conclave_crypto::Vault;
use rusqlite::{Connection, OptionalExtension, params};

struct Migration {
    sql: &'static str,
    /// Work SQL cannot do (sealing needs the vault), run after `sql` in the same transaction.
    then: Option<fn(&Connection, &Vault) -> StoreResult<()>>,
}

const MIGRATIONS: &[Migration] = &[
    // 1: the initial schema.
    Migration { sql: INITIAL, then: None },
    // 2: encryption at rest (R-SEC-2): rooms get data keys, message bodies become sealed bytes.
    Migration { sql: SEALED_MESSAGES, then: Some(seal_existing_messages) },
    // 3: the audit trail (R-OPS-1), sealed.
    Migration { sql: AUDIT_LOG, then: None },
    // 4: last seen (R-OPS-3).
    Migration { sql: "ALTER TABLE users ADD COLUMN last_seen_at INTEGER;", then: None },
    // 5: attachments (R-MSG-6), sealed.
    Migration { sql: ATTACHMENTS, then: None },
    // 6: every send shows a hidden direct room again; without this index that update read the
    // room's whole membership on every message.
    Migration { sql: "CREATE INDEX memberships_hidden ON memberships(room_id) WHERE hidden = 1;", then: None },
    // 7: reactions (R-MSG-9); they go with their message. The rowid keeps the order they came
    // in (two within one millisecond included).
    Migration { sql: REACTIONS, then: None },
    // 8: replies (R-MSG-8): the id of the answered message, of the same room.
    Migration { sql: "ALTER TABLE messages ADD COLUMN reply_to TEXT;", then: None },
    // 9: avatars (R-ACC-8), sealed under the server's key, and deleted accounts (R-ACC-7).
    Migration { sql: AVATARS_AND_DELETED_ACCOUNTS, then: None },
];

const AVATARS_AND_DELETED_ACCOUNTS: &str = "
    CREATE TABLE avatars (
        user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        content_type TEXT NOT NULL,
        content      BLOB NOT NULL
    ) STRICT;
    ALTER TABLE users ADD COLUMN avatar_at INTEGER;
    ALTER TABLE users ADD COLUMN deleted_at INTEGER;
";

const REACTIONS: &str = "
    CREATE TABLE reactions (
        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        emoji      TEXT NOT NULL,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (message_id, emoji, user_id)
    );
";

/// Uploads, sealed (name and content) under their room's key; a sent one names its message,
/// which keeps a copy of what it shows (id, sealed name, type, size).
const ATTACHMENTS: &str = r#"
    CREATE TABLE attachments (
        id           TEXT PRIMARY KEY,
        room_id      TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        uploader_id  TEXT NOT NULL REFERENCES users(id),
        message_id   TEXT UNIQUE,
        filename     BLOB NOT NULL,
        content_type TEXT NOT NULL,
        size         INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        content      BLOB NOT NULL
    ) STRICT;
    CREATE INDEX attachments_unsent ON attachments(created_at) WHERE message_id IS NULL;
    ALTER TABLE messages ADD COLUMN attachment_id TEXT;
    ALTER TABLE messages ADD COLUMN attachment_name BLOB;
    ALTER TABLE messages ADD COLUMN attachment_type TEXT;
    ALTER TABLE messages ADD COLUMN attachment_size INTEGER;
    "#;

const INITIAL: &str = r#"
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
    "#;

/// Bodies move to a BLOB column, so the table is rebuilt: `messages_sealed` is filled by
/// [`seal_existing_messages`] and then takes the old table's place.
const SEALED_MESSAGES: &str = r#"
    ALTER TABLE rooms ADD COLUMN data_key BLOB;

    -- Data keys of scopes other than rooms, wrapped to the server key: `server` (audit records
    -- of no room), whose presence also tells which key file the database belongs to.
    CREATE TABLE data_keys (
        scope   TEXT PRIMARY KEY,
        wrapped BLOB NOT NULL
    ) STRICT;

    CREATE TABLE messages_sealed (
        id         TEXT PRIMARY KEY,
        room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        author_id  TEXT NOT NULL REFERENCES users(id),
        body       BLOB NOT NULL,
        color      TEXT,
        sticker    TEXT,
        client_id  TEXT,
        created_at INTEGER NOT NULL,
        edited_at  INTEGER,
        deleted    INTEGER NOT NULL DEFAULT 0,
        UNIQUE (room_id, seq)
    ) STRICT;
    "#;

/// Audit records: in the clear only what lookups need (the room, or the user of an account
/// record, and the time); the record itself is sealed. They go with their room.
const AUDIT_LOG: &str = r#"
    CREATE TABLE audit_log (
        id         TEXT PRIMARY KEY,
        room_id    TEXT REFERENCES rooms(id) ON DELETE CASCADE,
        user_id    TEXT,
        created_at INTEGER NOT NULL,
        record     BLOB NOT NULL
    ) STRICT;
    CREATE INDEX audit_log_by_room ON audit_log(room_id, created_at DESC, id DESC) WHERE room_id IS NOT NULL;
    CREATE INDEX audit_log_by_user ON audit_log(user_id, created_at DESC, id DESC) WHERE room_id IS NULL;
    "#;

/// Gives every room a data key and seals every stored body under it (an empty value for deleted
/// messages), then swaps the sealed table in.
fn seal_existing_messages(conn: &Connection, vault: &Vault) -> StoreResult<()> {
    let rooms: Vec<String> = conn
        .prepare("SELECT id FROM rooms WHERE data_key IS NULL")
        .and_then(|mut statement| statement.query_map([], |row| row.get(0))?.collect())
        .map_err(backend)?;
    for room in rooms {
        let (_, wrapped) = new_room_key(vault, &room)?;
        conn.execute("UPDATE rooms SET data_key = ?2 WHERE id = ?1", params![room, wrapped]).map_err(backend)?;
    }
    let mut read = conn
        .prepare("SELECT msg.id, msg.room_id, msg.deleted, msg.body, r.data_key FROM messages msg JOIN rooms r ON r.id = msg.room_id")
        .map_err(backend)?;
    let mut rows = read.query([]).map_err(backend)?;
    while let Some(row) = rows.next().map_err(backend)? {
        let id: String = row.get(0).map_err(backend)?;
        let room: String = row.get(1).map_err(backend)?;
        let deleted: bool = row.get(2).map_err(backend)?;
        let plain: String = row.get(3).map_err(backend)?;
        let wrapped: Option<Vec<u8>> = row.get(4).map_err(backend)?;
        let (room, id) = (room.as_str(), id.as_str());
        let body = if deleted {
            Vec::new()
        } else {
            seal_body(&*room_key(vault, room, wrapped.as_deref())?, room, id, &plain)?
        };
        conn.execute(
            "INSERT INTO messages_sealed
             SELECT id, room_id, seq, author_id, ?2, color, sticker, client_id, created_at, edited_at, deleted
             FROM messages WHERE id = ?1",
            params![id, body],
        )
        .map_err(backend)?;
    }
    conn.execute_batch(
        "DROP TABLE messages;
         ALTER TABLE messages_sealed RENAME TO messages;
         CREATE UNIQUE INDEX messages_by_client_id ON messages(room_id, author_id, client_id)
             WHERE client_id IS NOT NULL;",
    )
    .map_err(backend)
}

/// Refuses a server key that is not the database's (every message would be unreadable), and
/// records the key on a new database.
pub fn check_server_key(conn: &Connection, vault: &Vault) -> StoreResult<()> {
    let existing: Option<Vec<u8>> = conn
        .query_row("SELECT wrapped FROM data_keys WHERE scope = ?1", [SERVER_SCOPE], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    if let Some(wrapped) = crate::sealing::check_server_key(vault, existing.as_deref())? {
        conn.execute("INSERT INTO data_keys (scope, wrapped) VALUES (?1, ?2)", params![SERVER_SCOPE, wrapped])
            .map_err(backend)?;
    }
    Ok(())
}

/// Brings the database to the newest schema; `true` when a migration ran.
pub fn migrate(conn: &mut Connection, vault: &Vault) -> StoreResult<bool> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(backend)?;
    let applied = usize::try_from(version).unwrap_or(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(migration.sql).map_err(backend)?;
        if let Some(step) = migration.then {
            step(&tx, vault)?;
        }
        tx.pragma_update(None, "user_version", i64::try_from(index + 1).unwrap_or(i64::MAX)).map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
    Ok(applied < MIGRATIONS.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::HistoryRange;
    use crate::sqlite::SqliteStore;
    use crate::store::*;
    use conclave_crypto::ServerKey;
    use conclave_protocol::RoomId;
    use std::sync::Arc;

    /// R-SEC-2: a database written before sealing (schema 1, bodies as text) is sealed when it
    /// is opened: every body readable through the store, no text left in the file.
    #[tokio::test]
    async fn plaintext_databases_are_sealed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conclave.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            conn.execute_batch(INITIAL).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                "INSERT INTO users VALUES ('u1', 'alice', 'hash', NULL, NULL, 0);
                 INSERT INTO rooms (id, kind, name, name_lower, join_policy, owner_id, last_seq, created_at)
                     VALUES ('r1', 'group', 'old', 'old', 'open', 'u1', 3, 0);
                 INSERT INTO memberships (room_id, user_id, role, joined_at) VALUES ('r1', 'u1', 'owner', 0);
                 INSERT INTO messages (id, room_id, seq, author_id, body, client_id, created_at)
                     VALUES ('m1', 'r1', 1, 'u1', 'ancient scrolls of text', 'c1', 1),
                            ('m2', 'r1', 2, 'u1', 'newer gossip', NULL, 2);
                 INSERT INTO messages (id, room_id, seq, author_id, body, created_at, deleted)
                     VALUES ('m3', 'r1', 3, 'u1', '', 3, 1);",
            )
            .unwrap();
        }
        let vault = Arc::new(Vault::new(ServerKey::generate()));
        let store = SqliteStore::open(&path, vault.clone()).unwrap();
        let history = store.messages(&RoomId::from("r1"), HistoryRange::Latest, 10).await.unwrap();
        let bodies: Vec<(&str, &str)> = history.iter().map(|m| (m.id.as_str(), m.body.as_str())).collect();
        assert_eq!(bodies, [("m3", ""), ("m2", "newer gossip"), ("m1", "ancient scrolls of text")]);
        drop(store);

        let mut on_disk = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
            on_disk.extend(wal);
        }
        for text in ["ancient scrolls", "newer gossip"] {
            assert!(!on_disk.windows(text.len()).any(|w| w == text.as_bytes()), "{text:?} is still on disk");
        }
        // Opened again with the same key: nothing to migrate, everything readable.
        let store = SqliteStore::open(&path, vault).unwrap();
        assert_eq!(store.messages(&RoomId::from("r1"), HistoryRange::Latest, 10).await.unwrap(), history);
    }
}
