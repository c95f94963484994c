//! The wrapped data keys, for a key rotation (SPEC R-OPS-7): rooms keep theirs in `rooms`,
//! the store's own scopes in `data_keys`.
//!
//! Nodes keep running on MongoDB while a rotation runs elsewhere, so new data keys are fenced:
//! the store's own key document (`data_keys`, `_id: "server"`) carries `rotating: true` for the
//! length of a rotation, and every transaction that wraps a new data key first writes that
//! document (`$inc` of `wrapped_since_start`) and reads it back. Two writes of one document
//! conflict, so a room being created as the rotation starts either commits before the mark (its
//! key is then among those the rotation re-wraps) or is retried and sees it; and a node whose
//! key pair the rotation replaced sees that the store's own key is no longer wrapped as when it
//! started. Either way the new key is refused (`KeyRotation`), never wrapped for a retired pair.

use super::Collections;
use super::docs::{MongoResult, binary, fail};
use crate::error::StoreError;
use crate::model::WrappedKey;
use crate::sealing::SERVER_SCOPE;
use bson::{Binary, Document, doc};
use futures_util::TryStreamExt;
use mongodb::ClientSession;
use mongodb::options::ReturnDocument;

/// Refuses, in the session's transaction, to wrap a new data key during a rotation or after one
/// that replaced this server's key pair (see the module's comment).
pub async fn fence_new_key(c: &Collections, s: &mut ClientSession) -> MongoResult<()> {
    let own = c.data_keys.clone_with_type::<Document>();
    let fence = own
        .find_one_and_update(doc! { "_id": SERVER_SCOPE }, doc! { "$inc": { "wrapped_since_start": 1_i64 } })
        .return_document(ReturnDocument::After)
        .session(s)
        .await?;
    let Some(fence) = fence else {
        return Err(fail(StoreError::KeyRotation));
    };
    let rotating = fence.get_bool("rotating").unwrap_or(false);
    let replaced = fence.get_binary_generic("wrapped").map_or(true, |now| *now != *c.server_wrapped);
    if rotating || replaced { Err(fail(StoreError::KeyRotation)) } else { Ok(()) }
}

pub async fn set_key_rotation(c: &Collections, under_way: bool) -> MongoResult<()> {
    let change = if under_way {
        doc! { "$set": { "rotating": true } }
    } else {
        doc! { "$unset": { "rotating": "" } }
    };
    c.data_keys.update_one(doc! { "_id": SERVER_SCOPE }, change).await?;
    Ok(())
}

pub async fn key_rotation_under_way(c: &Collections) -> MongoResult<bool> {
    let own = c.data_keys.clone_with_type::<Document>();
    let found = own.find_one(doc! { "_id": SERVER_SCOPE, "rotating": true }).await?;
    Ok(found.is_some())
}

/// A document's string `_id` and binary `field`, when it has both.
fn wrapped(document: &Document, field: &str) -> Option<WrappedKey> {
    let scope = document.get_str("_id").ok()?.to_owned();
    let wrapped = document.get_binary_generic(field).ok()?.clone();
    Some(WrappedKey { scope, wrapped })
}

pub async fn wrapped_keys(c: &Collections, after: &str, limit: u32) -> MongoResult<Vec<WrappedKey>> {
    let limit = i64::from(limit);
    let rooms = c.rooms.clone_with_type::<Document>();
    let mut keys: Vec<WrappedKey> = rooms
        .find(doc! { "_id": { "$gt": after }, "data_key": { "$exists": true } })
        .projection(doc! { "data_key": 1 })
        .sort(doc! { "_id": 1 })
        .limit(limit)
        .await?
        .try_collect::<Vec<_>>()
        .await?
        .iter()
        .filter_map(|room| wrapped(room, "data_key"))
        .collect();
    let own = c.data_keys.clone_with_type::<Document>();
    let scopes: Vec<Document> =
        own.find(doc! { "_id": { "$gt": after } }).sort(doc! { "_id": 1 }).limit(limit).await?.try_collect().await?;
    keys.extend(scopes.iter().filter_map(|scope| wrapped(scope, "wrapped")));
    keys.sort_by(|a, b| a.scope.cmp(&b.scope));
    keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(keys)
}

pub async fn replace_wrapped_key(c: &Collections, scope: &str, old: &[u8], new: &[u8]) -> MongoResult<bool> {
    let (old, new): (Binary, Binary) = (binary(old.to_vec()), binary(new.to_vec()));
    let room =
        c.rooms.update_one(doc! { "_id": scope, "data_key": &old }, doc! { "$set": { "data_key": &new } }).await?;
    if room.matched_count > 0 {
        return Ok(true);
    }
    let own =
        c.data_keys.update_one(doc! { "_id": scope, "wrapped": &old }, doc! { "$set": { "wrapped": &new } }).await?;
    Ok(own.matched_count > 0)
}
