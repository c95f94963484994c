//! The wrapped data keys, for a key rotation (SPEC R-OPS-7): rooms keep theirs in `rooms`,
//! the store's own scopes in `data_keys`.

use super::Collections;
use super::docs::{MongoResult, binary};
use crate::model::WrappedKey;
use bson::{Binary, Document, doc};
use futures_util::TryStreamExt;

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
