//! Users and refresh tokens.

use super::Collections;
use super::audit;
use super::docs::*;
use crate::audit::AuditFacts;
use crate::error::{Conflict, Missing, StoreError};
use crate::model::*;
use bson::{Document, doc};
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
    };
    c.users.insert_one(&doc).session(&mut *s).await.map_err(or_conflict(Conflict::UsernameTaken))?;
    let record = UserRecord::from(doc);
    let key = audit::server_key(c).await?;
    audit::record(c, s, &key, None, &[AuditFacts::new(AuditAction::SignedUp, Some(&record.id), None)], now).await?;
    Ok(record)
}

pub async fn user(c: &Collections, id: &str) -> MongoResult<Option<UserRecord>> {
    Ok(c.users.find_one(doc! { "_id": id }).await?.map(UserRecord::from))
}

pub async fn user_by_username(c: &Collections, username: &str) -> MongoResult<Option<UserRecord>> {
    Ok(c.users.find_one(doc! { "username": username.to_lowercase() }).await?.map(UserRecord::from))
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
