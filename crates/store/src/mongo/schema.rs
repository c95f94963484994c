//! Collections, their `$jsonSchema` validators and their indexes (SPEC R-OPS-5).
//!
//! [`prepare`] runs at every start and is idempotent: a missing collection is created with its
//! validator, an existing one gets the current validator (`collMod`), and every index is created
//! if it is missing (creating an index that exists with the same keys and options does nothing).

use super::docs::{MongoResult, fail};
use crate::error::{Cause, StoreError};
use bson::{Document, doc};
use mongodb::{Database, IndexModel, options::IndexOptions};

pub const USERS: &str = "users";
pub const REFRESH_TOKENS: &str = "refresh_tokens";
pub const ROOMS: &str = "rooms";
pub const MEMBERSHIPS: &str = "memberships";
pub const INVITES: &str = "invites";
pub const JOIN_REQUESTS: &str = "join_requests";
pub const BANS: &str = "bans";
pub const MESSAGES: &str = "messages";
pub const NOTIFICATIONS: &str = "notifications";
pub const ROOM_LOG: &str = "room_log";
pub const COUNTERS: &str = "counters";
pub const DATA_KEYS: &str = "data_keys";
pub const AUDIT: &str = "audit";
pub const ATTACHMENTS: &str = "attachments";
pub const REACTIONS: &str = "reactions";
pub const AVATARS: &str = "avatars";

/// One collection: its name, the schema its documents must have, and its indexes.
struct Spec {
    name: &'static str,
    schema: Document,
    indexes: Vec<IndexModel>,
}

fn string() -> Document {
    doc! { "bsonType": "string" }
}

fn optional_string() -> Document {
    doc! { "bsonType": ["string", "null"] }
}

fn date() -> Document {
    doc! { "bsonType": "date" }
}

fn optional_date() -> Document {
    doc! { "bsonType": ["date", "null"] }
}

fn counter() -> Document {
    doc! { "bsonType": ["long", "int"], "minimum": 0 }
}

fn one_of(names: &[&str]) -> Document {
    doc! { "bsonType": "string", "enum": names.to_vec() }
}

fn object(required: &[&str], properties: Document) -> Document {
    doc! { "$jsonSchema": { "bsonType": "object", "required": required.to_vec(), "properties": properties } }
}

fn index(keys: Document) -> IndexModel {
    IndexModel::builder().keys(keys).build()
}

fn unique(keys: Document, name: &str) -> IndexModel {
    IndexModel::builder().keys(keys).options(IndexOptions::builder().unique(true).name(name.to_owned()).build()).build()
}

/// A unique index over the documents that have `field` (documents without it are not indexed).
/// Sparse rather than partial: equality queries on the field can then use it.
fn unique_where_present(field: &str, name: &str) -> IndexModel {
    let options = IndexOptions::builder().unique(true).sparse(true).name(name.to_owned()).build();
    IndexModel::builder().keys(doc! { field: 1 }).options(options).build()
}

const ROLES: &[&str] = &["owner", "admin", "member"];

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            name: USERS,
            schema: object(
                &["_id", "username", "password_hash", "created_at"],
                doc! {
                    "_id": string(),
                    "username": { "bsonType": "string", "minLength": 1 },
                    "password_hash": string(),
                    "first_name": optional_string(),
                    "last_name": optional_string(),
                    "created_at": date(),
                    "last_seen_at": date(),
                    "avatar_at": date(),
                    "deleted_at": date(),
                },
            ),
            // Usernames are stored lowercased, so this index is case-insensitive; it also
            // serves prefix search in username order.
            indexes: vec![unique(doc! { "username": 1 }, "username_unique")],
        },
        Spec {
            name: REFRESH_TOKENS,
            schema: object(
                &["_id", "user_id", "family_id", "status", "created_at", "expires_at"],
                doc! {
                    "_id": string(),
                    "user_id": string(),
                    "family_id": string(),
                    "status": one_of(&["active", "used", "revoked"]),
                    "created_at": date(),
                    "expires_at": date(),
                },
            ),
            indexes: vec![index(doc! { "family_id": 1 })],
        },
        Spec {
            name: ROOMS,
            schema: object(
                &[
                    "_id",
                    "kind",
                    "name",
                    "name_lower",
                    "join_policy",
                    "last_seq",
                    "member_count",
                    "revision",
                    "created_at",
                    "data_key",
                ],
                doc! {
                    "_id": string(),
                    "kind": one_of(&["group", "direct"]),
                    "name": { "bsonType": "string", "minLength": 1 },
                    "name_lower": string(),
                    "topic": optional_string(),
                    "join_policy": one_of(&["open", "password", "request", "invite"]),
                    "password_hash": optional_string(),
                    "owner_id": optional_string(),
                    "direct_key": string(),
                    "last_seq": counter(),
                    "member_count": counter(),
                    "revision": counter(),
                    // Wrapped to the server's ML-KEM key (R-SEC-2).
                    "data_key": { "bsonType": "binData" },
                    "created_at": date(),
                    "terminated_at": optional_date(),
                },
            ),
            indexes: vec![
                // Room search: by name prefix, in name order.
                index(doc! { "name_lower": 1, "_id": 1 }),
                // One direct room per pair: only direct rooms have the field.
                unique_where_present("direct_key", "direct_key_unique"),
            ],
        },
        Spec {
            name: MEMBERSHIPS,
            schema: object(
                &["room_id", "user_id", "role", "joined_at", "join_seq", "last_read_seq", "hidden"],
                doc! {
                    "room_id": string(),
                    "user_id": string(),
                    "role": one_of(ROLES),
                    "joined_at": date(),
                    "join_seq": counter(),
                    "last_read_seq": counter(),
                    "hidden": { "bsonType": "bool" },
                },
            ),
            indexes: vec![
                unique(doc! { "room_id": 1, "user_id": 1 }, "membership_unique"),
                // Members of a room, and rooms of a user, in join order.
                index(doc! { "room_id": 1, "join_seq": 1 }),
                index(doc! { "user_id": 1, "join_seq": 1 }),
            ],
        },
        Spec {
            name: INVITES,
            schema: object(
                &["room_id", "user_id", "invited_by", "created_at"],
                doc! { "room_id": string(), "user_id": string(), "invited_by": string(), "created_at": date() },
            ),
            indexes: vec![unique(doc! { "room_id": 1, "user_id": 1 }, "invite_unique")],
        },
        Spec {
            name: JOIN_REQUESTS,
            schema: object(
                &["room_id", "user_id", "created_at"],
                doc! { "room_id": string(), "user_id": string(), "created_at": date() },
            ),
            indexes: vec![
                unique(doc! { "room_id": 1, "user_id": 1 }, "join_request_unique"),
                index(doc! { "room_id": 1, "created_at": 1 }),
            ],
        },
        Spec {
            name: BANS,
            schema: object(
                &["room_id", "user_id", "banned_by", "created_at"],
                doc! { "room_id": string(), "user_id": string(), "banned_by": string(), "created_at": date() },
            ),
            indexes: vec![unique(doc! { "room_id": 1, "user_id": 1 }, "ban_unique"), index(doc! { "user_id": 1 })],
        },
        Spec {
            name: MESSAGES,
            schema: object(
                &["_id", "room_id", "seq", "author_id", "author_username", "body", "created_at", "deleted"],
                doc! {
                    "_id": string(),
                    "room_id": string(),
                    "seq": { "bsonType": ["long", "int"], "minimum": 1 },
                    "author_id": string(),
                    "author_username": string(),
                    // Sealed (R-SEC-2): never text.
                    "body": { "bsonType": "binData" },
                    "attachment": { "bsonType": ["object", "null"] },
                    "color": optional_string(),
                    "sticker": optional_string(),
                    "client_id": optional_string(),
                    "send_key": string(),
                    "created_at": date(),
                    "edited_at": optional_date(),
                    "deleted": { "bsonType": "bool" },
                },
            ),
            indexes: vec![
                // History by sequence number; at most one message per number.
                unique(doc! { "room_id": 1, "seq": 1 }, "room_seq_unique"),
                // Idempotent sends: one message per room, author and client id.
                unique_where_present("send_key", "send_key_unique"),
            ],
        },
        Spec {
            name: NOTIFICATIONS,
            schema: object(
                &["_id", "user_id", "kind", "data", "created_at", "read"],
                doc! {
                    "_id": string(),
                    "user_id": string(),
                    "kind": string(),
                    "room_id": optional_string(),
                    "actor_id": optional_string(),
                    "created_at": date(),
                    "read": { "bsonType": "bool" },
                },
            ),
            // A user's notifications, unread first, then newest first.
            indexes: vec![index(doc! { "user_id": 1, "read": 1, "created_at": -1, "_id": -1 })],
        },
        Spec {
            name: ROOM_LOG,
            schema: object(
                &["user_id", "room_id", "left_at", "reason"],
                doc! {
                    "user_id": string(),
                    "room_id": string(),
                    "left_at": date(),
                    "reason": one_of(&["left", "kicked", "banned", "terminated"]),
                },
            ),
            indexes: vec![
                unique(doc! { "user_id": 1, "room_id": 1 }, "room_log_unique"),
                index(doc! { "user_id": 1, "left_at": -1, "room_id": -1 }),
            ],
        },
        Spec {
            name: COUNTERS,
            schema: object(&["_id", "value"], doc! { "_id": string(), "value": counter() }),
            indexes: vec![],
        },
        Spec {
            // Uploads (R-MSG-6): name and content sealed; unsent ones by age, for cleanup.
            name: ATTACHMENTS,
            schema: object(
                &["_id", "room_id", "uploader_id", "filename", "content_type", "size", "created_at", "content"],
                doc! {
                    "_id": string(),
                    "room_id": string(),
                    "uploader_id": string(),
                    "message_id": optional_string(),
                    "filename": { "bsonType": "binData" },
                    "content_type": string(),
                    "size": counter(),
                    "created_at": date(),
                    "content": { "bsonType": "binData" },
                },
            ),
            indexes: vec![index(doc! { "room_id": 1 }), index(doc! { "message_id": 1, "created_at": 1 })],
        },
        Spec {
            // Reactions (R-MSG-9): one per message, emoji and user; read by message.
            name: REACTIONS,
            schema: object(
                &["room_id", "message_id", "emoji", "user_id", "created_at"],
                doc! {
                    "room_id": string(),
                    "message_id": string(),
                    "emoji": string(),
                    "user_id": string(),
                    "created_at": date(),
                },
            ),
            indexes: vec![
                unique(doc! { "message_id": 1, "emoji": 1, "user_id": 1 }, "reactions_unique"),
                index(doc! { "room_id": 1 }),
            ],
        },
        Spec {
            // Avatars (R-ACC-8), one per user, sealed under the server's key.
            name: AVATARS,
            schema: object(
                &["_id", "content_type", "content"],
                doc! { "_id": string(), "content_type": string(), "content": { "bsonType": "binData" } },
            ),
            indexes: vec![],
        },
        Spec {
            // The audit trail (R-OPS-1): sealed records by room, and account records by user.
            name: AUDIT,
            schema: object(
                &["_id", "created_at", "record"],
                doc! {
                    "_id": string(),
                    "room_id": optional_string(),
                    "user_id": optional_string(),
                    "created_at": date(),
                    "record": { "bsonType": "binData" },
                },
            ),
            indexes: vec![
                index(doc! { "room_id": 1, "created_at": -1, "_id": -1 }),
                index(doc! { "user_id": 1, "created_at": -1, "_id": -1 }),
            ],
        },
        Spec {
            // Data keys of scopes other than rooms (R-SEC-2), by scope.
            name: DATA_KEYS,
            schema: object(&["_id", "wrapped"], doc! { "_id": string(), "wrapped": { "bsonType": "binData" } }),
            indexes: vec![],
        },
    ]
}

/// Creates what is missing and updates validators; safe to run at every start, and by several
/// servers at once.
pub async fn prepare(db: &Database) -> MongoResult<()> {
    let existing = db.list_collection_names().await?;
    for spec in specs() {
        if existing.iter().any(|name| name == spec.name) {
            db.run_command(
                doc! { "collMod": spec.name, "validator": spec.schema.clone(), "validationLevel": "strict" },
            )
            .await?;
        } else {
            let created = db.create_collection(spec.name).validator(spec.schema.clone()).await;
            match created {
                Ok(()) => {}
                // Another server created it between our listing and now: give it our validator.
                Err(error) if is_namespace_exists(&error) => {
                    db.run_command(doc! { "collMod": spec.name, "validator": spec.schema.clone() }).await?;
                }
                Err(error) => return Err(error),
            }
        }
        if !spec.indexes.is_empty() {
            db.collection::<Document>(spec.name).create_indexes(spec.indexes).await?;
        }
    }
    // The join counter exists before the first join (an upsert inside two concurrent first
    // joins could otherwise race on its insert).
    db.collection::<Document>(COUNTERS)
        .update_one(doc! { "_id": "join_seq" }, doc! { "$setOnInsert": { "value": 0_i64 } })
        .upsert(true)
        .await?;
    Ok(())
}

/// Transactions need a replica set or a sharded cluster: refuse a standalone server at start,
/// with a reason, rather than fail at the first write.
pub async fn check_transactions(db: &Database) -> MongoResult<()> {
    let hello = db.run_command(doc! { "hello": 1 }).await?;
    let replica_set = hello.get_str("setName").is_ok();
    let sharded = hello.get_str("msg") == Ok("isdbgrid");
    if replica_set || sharded {
        return Ok(());
    }
    Err(fail(StoreError::Backend(Cause::msg(
        "MongoDB must be a replica set (one node is enough) or a sharded cluster: Conclave writes with \
         transactions. Start mongod with --replSet and run rs.initiate() once.",
    ))))
}

/// MongoDB's "collection already exists" error code.
const NAMESPACE_EXISTS: i32 = 48;

fn is_namespace_exists(error: &mongodb::error::Error) -> bool {
    matches!(&*error.kind, mongodb::error::ErrorKind::Command(e) if e.code == NAMESPACE_EXISTS)
}
