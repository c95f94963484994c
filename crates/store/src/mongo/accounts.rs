//! Users and refresh tokens.

use super::Collections;
use super::audit;
use super::docs::*;
use crate::audit::AuditFacts;
use crate::error::{Conflict, Missing, StoreError};
use crate::model::*;
use crate::sealing::{deleted_username, open_avatar, seal_avatar};
use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use conclave_protocol::{AuditAction, UserId};
use futures_util::TryStreamExt;
use mongodb::ClientSession;

pub async fn create_user(
    c: &Collections,
    s: &mut ClientSession,
    user: &NewUser,
    now: DateTime<Utc>,
) -> MongoResult<UserRecord> {
    let doc = UserDoc {
        id: uuid::Uuid::new_v4().to_string(),
        username: user.username.to_lowercase(),
        password_hash: user.password_hash.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        created_at: date(now),
        last_seen_at: None,
        avatar_at: None,
        deleted_at: None,
    };
    c.users.insert_one(&doc).session(&mut *s).await.map_err(or_conflict(Conflict::UsernameTaken))?;
    let record = UserRecord::from(doc);
    let key = audit::server_key(c).await?;
    audit::record(c, s, &key, None, &[AuditFacts::new(AuditAction::SignedUp, Some(&record.id), None)], now).await?;
    Ok(record)
}

pub async fn user(c: &Collections, id: &str) -> MongoResult<Option<UserRecord>> {
    Ok(c.users.find_one(doc! { "_id": id, "deleted_at": { "$exists": false } }).await?.map(UserRecord::from))
}

pub async fn user_by_username(c: &Collections, username: &str) -> MongoResult<Option<UserRecord>> {
    let live = doc! { "username": username.to_lowercase(), "deleted_at": { "$exists": false } };
    Ok(c.users.find_one(live).await?.map(UserRecord::from))
}

/// The users with these ids, in no particular order.
pub async fn users_by_id(c: &Collections, ids: Vec<String>) -> MongoResult<Vec<UserRecord>> {
    let docs: Vec<UserDoc> = c.users.find(doc! { "_id": { "$in": ids } }).await?.try_collect().await?;
    Ok(docs.into_iter().map(UserRecord::from).collect())
}

/// A filter on `field` for the strings that start with `prefix`: a range on the field's index.
/// Strings compare by their UTF-8 bytes, as the SQLite store's do.
pub fn prefix_range(prefix: &str) -> Document {
    if prefix.is_empty() {
        return doc! { "$type": "string" };
    }
    doc! { "$gte": prefix, "$lt": format!("{prefix}{}", char::MAX) }
}

pub async fn search_users(
    c: &Collections,
    prefix: &str,
    after: Option<&str>,
    limit: u32,
) -> MongoResult<Vec<UserRecord>> {
    let filter = doc! {
        "$and": [
            { "username": prefix_range(prefix) },
            { "username": { "$gt": after.unwrap_or("") } },
            { "deleted_at": { "$exists": false } },
        ]
    };
    let docs: Vec<UserDoc> =
        c.users.find(filter).sort(doc! { "username": 1 }).limit(i64::from(limit)).await?.try_collect().await?;
    Ok(docs.into_iter().map(UserRecord::from).collect())
}

/// A login: a new token family, audited.
pub async fn insert_refresh_token(
    c: &Collections,
    s: &mut ClientSession,
    token: &NewRefreshToken,
    now: DateTime<Utc>,
) -> MongoResult<()> {
    let doc = RefreshTokenDoc {
        digest: token.digest.clone(),
        user_id: token.user_id.0.clone(),
        family_id: uuid::Uuid::new_v4().to_string(),
        status: TokenStatus::Active,
        created_at: date(now),
        expires_at: date(token.expires_at),
    };
    c.refresh_tokens.insert_one(&doc).session(&mut *s).await?;
    let key = audit::server_key(c).await?;
    audit::record(c, s, &key, None, &[AuditFacts::new(AuditAction::LoggedIn, Some(&token.user_id), None)], now).await
}

pub async fn rotate_refresh_token(
    c: &Collections,
    s: &mut ClientSession,
    old_digest: &str,
    new_digest: &str,
    new_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> MongoResult<Rotation> {
    let Some(old) = c.refresh_tokens.find_one(doc! { "_id": old_digest }).session(&mut *s).await? else {
        return Ok(Rotation::Invalid);
    };
    match old.status {
        TokenStatus::Active if old.expires_at > date(now) => {
            c.refresh_tokens
                .update_one(doc! { "_id": old_digest }, doc! { "$set": { "status": "used" } })
                .session(&mut *s)
                .await?;
            let new = RefreshTokenDoc {
                digest: new_digest.to_owned(),
                user_id: old.user_id.clone(),
                family_id: old.family_id,
                status: TokenStatus::Active,
                created_at: date(now),
                expires_at: date(new_expires_at),
            };
            c.refresh_tokens.insert_one(&new).session(&mut *s).await?;
            Ok(Rotation::Rotated { user_id: UserId(old.user_id) })
        }
        TokenStatus::Used => {
            revoke_family(c, s, &old.family_id).await?;
            Ok(Rotation::Reused { user_id: UserId(old.user_id) })
        }
        TokenStatus::Active | TokenStatus::Revoked => Ok(Rotation::Invalid),
    }
}

async fn revoke_family(c: &Collections, s: &mut ClientSession, family_id: &str) -> MongoResult<()> {
    c.refresh_tokens
        .update_many(doc! { "family_id": family_id }, doc! { "$set": { "status": "revoked" } })
        .session(s)
        .await?;
    Ok(())
}

pub async fn revoke_refresh_family(c: &Collections, s: &mut ClientSession, digest: &str) -> MongoResult<()> {
    match c.refresh_tokens.find_one(doc! { "_id": digest }).session(&mut *s).await? {
        Some(token) => revoke_family(c, s, &token.family_id).await,
        None => Ok(()),
    }
}

pub async fn refresh_token_user(c: &Collections, digest: &str, now: DateTime<Utc>) -> MongoResult<Option<UserId>> {
    let found = c
        .refresh_tokens
        .find_one(doc! { "_id": digest, "status": "active", "expires_at": { "$gt": date(now) } })
        .await?;
    Ok(found.map(|token| UserId(token.user_id)))
}

pub async fn update_names(
    c: &Collections,
    id: &UserId,
    first: Change<String>,
    last: Change<String>,
) -> MongoResult<UserRecord> {
    let mut set = Document::new();
    if let Some(first) = first.into_update() {
        set.insert("first_name", first);
    }
    if let Some(last) = last.into_update() {
        set.insert("last_name", last);
    }
    let filter = doc! { "_id": id.as_str() };
    if !set.is_empty() {
        c.users.update_one(filter.clone(), doc! { "$set": set }).await?;
    }
    c.users.find_one(filter).await?.map(UserRecord::from).ok_or_else(|| fail(StoreError::NotFound(Missing::User)))
}

pub async fn change_password(
    c: &Collections,
    s: &mut ClientSession,
    id: &UserId,
    password_hash: &str,
) -> MongoResult<()> {
    let updated = c
        .users
        .update_one(doc! { "_id": id.as_str() }, doc! { "$set": { "password_hash": password_hash } })
        .session(&mut *s)
        .await?;
    if updated.matched_count == 0 {
        return Err(fail(StoreError::NotFound(Missing::User)));
    }
    c.refresh_tokens
        .update_many(doc! { "user_id": id.as_str() }, doc! { "$set": { "status": "revoked" } })
        .session(s)
        .await?;
    Ok(())
}

/// Sets the user's avatar, sealed under the server's key (R-ACC-8).
pub async fn set_avatar(
    c: &Collections,
    s: &mut ClientSession,
    id: &UserId,
    avatar: &NewAvatar,
    now: DateTime<Utc>,
) -> MongoResult<UserRecord> {
    let key = audit::server_key(c).await?;
    let sealed = seal_avatar(&key, id.as_str(), &avatar.content).map_err(fail)?;
    let live = doc! { "_id": id.as_str(), "deleted_at": { "$exists": false } };
    let updated = c
        .users
        .find_one_and_update(live, doc! { "$set": { "avatar_at": date(now) } })
        .return_document(mongodb::options::ReturnDocument::After)
        .session(&mut *s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::User)))?;
    let stored = AvatarDoc {
        user_id: id.as_str().to_owned(),
        content_type: avatar.content_type.clone(),
        content: binary(sealed),
    };
    c.avatars.replace_one(doc! { "_id": id.as_str() }, &stored).upsert(true).session(&mut *s).await?;
    Ok(UserRecord::from(updated))
}

/// Removes the user's avatar, if they have one.
pub async fn remove_avatar(c: &Collections, s: &mut ClientSession, id: &UserId) -> MongoResult<UserRecord> {
    let updated = c
        .users
        .find_one_and_update(
            doc! { "_id": id.as_str(), "deleted_at": { "$exists": false } },
            doc! { "$unset": { "avatar_at": "" } },
        )
        .return_document(mongodb::options::ReturnDocument::After)
        .session(&mut *s)
        .await?
        .ok_or_else(|| fail(StoreError::NotFound(Missing::User)))?;
    c.avatars.delete_one(doc! { "_id": id.as_str() }).session(&mut *s).await?;
    Ok(UserRecord::from(updated))
}

/// The user's avatar, opened; `None` when they have none.
pub async fn avatar(c: &Collections, id: &UserId) -> MongoResult<Option<AvatarRecord>> {
    let live = doc! { "_id": id.as_str(), "deleted_at": { "$exists": false }, "avatar_at": { "$exists": true } };
    let Some(user) = c.users.find_one(live).await? else { return Ok(None) };
    let Some(stored) = c.avatars.find_one(doc! { "_id": id.as_str() }).await? else { return Ok(None) };
    let key = audit::server_key(c).await?;
    let content = open_avatar(&key, id.as_str(), &stored.content.bytes).map_err(fail)?;
    let updated_at = user.avatar_at.map(|t| t.to_chrono()).unwrap_or_else(|| user.created_at.to_chrono());
    Ok(Some(AvatarRecord { content_type: stored.content_type, content, updated_at }))
}

/// Ends an account (R-ACC-7) once it has left its group rooms; see `Store::delete_account`.
/// Messages keep their author's name (it is stored with them), so theirs are renamed here.
pub async fn delete_account(
    c: &Collections,
    s: &mut ClientSession,
    id: &UserId,
    now: DateTime<Utc>,
) -> MongoResult<()> {
    let user_id = id.as_str();
    let tombstone = deleted_username(user_id);
    let live = doc! { "_id": user_id, "deleted_at": { "$exists": false } };
    let existing = c.users.find_one(live.clone()).session(&mut *s).await?;
    let Some(existing) = existing else { return Err(fail(StoreError::NotFound(Missing::User))) };
    // Replaced whole rather than updated: the unique username index then frees the old name
    // on every MongoDB-compatible server (an in-place rename left it taken on one).
    let ended = UserDoc {
        username: tombstone.clone(),
        password_hash: String::new(),
        first_name: None,
        last_name: None,
        avatar_at: None,
        deleted_at: Some(date(now)),
        ..existing
    };
    c.users.delete_one(live).session(&mut *s).await?;
    c.users.insert_one(&ended).session(&mut *s).await?;
    let mine = doc! { "user_id": user_id };
    c.avatars.delete_one(doc! { "_id": user_id }).session(&mut *s).await?;
    c.refresh_tokens.delete_many(mine.clone()).session(&mut *s).await?;
    c.invites.delete_many(mine.clone()).session(&mut *s).await?;
    c.join_requests.delete_many(mine.clone()).session(&mut *s).await?;
    c.bans.delete_many(mine.clone()).session(&mut *s).await?;
    c.notifications.delete_many(mine.clone()).session(&mut *s).await?;
    c.room_log.delete_many(mine).session(&mut *s).await?;
    c.attachments.delete_many(doc! { "uploader_id": user_id, "message_id": Bson::Null }).session(&mut *s).await?;
    c.messages
        .update_many(doc! { "author_id": user_id }, doc! { "$set": { "author_username": &tombstone } })
        .session(&mut *s)
        .await?;
    let key = audit::server_key(c).await?;
    audit::record(c, s, &key, None, &[AuditFacts::new(AuditAction::AccountDeleted, Some(id), None)], now).await
}
