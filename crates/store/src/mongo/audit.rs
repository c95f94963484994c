//! The audit trail (SPEC R-OPS-1) on MongoDB: records inserted in the command's transaction,
//! sealed under the room's key or, for account records, the server's (R-SEC-2).

use super::Collections;
use super::docs::*;
use crate::audit::{AuditFacts, open, seal};
use crate::error::{Missing, StoreError};
use crate::model::*;
use crate::sealing::{SERVER_SCOPE, room_key};
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use conclave_crypto::DataKey;
use conclave_protocol::{RoomId, UserId};
use futures_util::TryStreamExt;
use mongodb::ClientSession;
use std::sync::Arc;

/// The server's own data key (account records). It is written once, when the database is first
/// connected, so it is read outside any transaction.
pub async fn server_key(c: &Collections) -> MongoResult<Arc<DataKey>> {
    if let Some(key) = c.vault.cached(SERVER_SCOPE) {
        return Ok(key);
    }
    let stored = c.data_keys.find_one(doc! { "_id": SERVER_SCOPE }).await?;
    room_key(&c.vault, SERVER_SCOPE, stored.as_ref().map(|k| k.wrapped.bytes.as_slice())).map_err(fail)
}

/// Inserts `facts` as records of `room` (or, without one, account records of their actors),
/// sealed under `key`, the room's (or the server's) data key.
pub async fn record(
    c: &Collections,
    s: &mut ClientSession,
    key: &DataKey,
    room: Option<&RoomId>,
    facts: &[AuditFacts],
    now: DateTime<Utc>,
) -> MongoResult<()> {
    let mut docs = Vec::with_capacity(facts.len());
    for fact in facts {
        let sealed = seal(key, room, fact).map_err(fail)?;
        docs.push(AuditDoc {
            id: sealed.id.0,
            room_id: sealed.room_id.map(|r| r.0),
            user_id: sealed.user_id.map(|u| u.0),
            created_at: date(now),
            record: binary(sealed.sealed),
        });
    }
    if !docs.is_empty() {
        c.audit.insert_many(docs).session(s).await?;
    }
    Ok(())
}

/// Records matching `filter`, newest first, after `after`, opened with `key`.
async fn trail(
    c: &Collections,
    key: &DataKey,
    room: Option<&RoomId>,
    mut filter: Document,
    after: Option<&AuditCursor>,
    limit: u32,
) -> MongoResult<Vec<AuditRecord>> {
    if let Some(cursor) = after {
        filter.insert(
            "$or",
            vec![
                doc! { "created_at": { "$lt": date(cursor.created_at) } },
                doc! { "created_at": date(cursor.created_at), "_id": { "$lt": cursor.id.as_str() } },
            ],
        );
    }
    let docs: Vec<AuditDoc> = c
        .audit
        .find(filter)
        .sort(doc! { "created_at": -1, "_id": -1 })
        .limit(i64::from(limit))
        .await?
        .try_collect()
        .await?;
    docs.into_iter()
        .map(|d| open(key, d.id.into(), room.cloned(), &d.record.bytes, d.created_at.to_chrono()).map_err(fail))
        .collect()
}

pub async fn room_audit(
    c: &Collections,
    room: &RoomId,
    after: Option<&AuditCursor>,
    limit: u32,
) -> MongoResult<Vec<AuditRecord>> {
    let doc = c
        .rooms
        .find_one(doc! { "_id": room.as_str() })
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::Room)))?;
    let key = room_key(&c.vault, room.as_str(), doc.wrapped_key()).map_err(fail)?;
    trail(c, &key, Some(room), doc! { "room_id": room.as_str() }, after, limit).await
}

pub async fn account_audit(
    c: &Collections,
    user: &UserId,
    after: Option<&AuditCursor>,
    limit: u32,
) -> MongoResult<Vec<AuditRecord>> {
    let key = server_key(c).await?;
    trail(c, &key, None, doc! { "room_id": null, "user_id": user.as_str() }, after, limit).await
}
