//! Encryption at rest as both backends apply it (SPEC R-SEC-2): each room has a data key,
//! stored wrapped with the room; message bodies are sealed under it for their room and id.
//! Records leave the store opened, so callers never handle ciphertext.

use crate::error::{Cause, StoreError, StoreResult};
use crate::model::{AttachmentMeta, MessageRecord, ReplyRecord};
use conclave_crypto::{Aad, DataKey, SealError, Vault};
use std::sync::Arc;

impl From<SealError> for StoreError {
    fn from(error: SealError) -> Self {
        match error {
            SealError::Tampered | SealError::UnknownFormat => StoreError::Corrupt(Cause::new(error)),
            SealError::TooLarge => StoreError::Backend(Cause::new(error)),
        }
    }
}

/// The scope of the server's own data key (audit records of no room). Room scopes are UUIDs.
pub(crate) const SERVER_SCOPE: &str = "server";

/// Checks the vault's server key against the database: `existing` is the server scope's
/// wrapped key as stored. Returns the wrapped key to store when the database has none yet, and
/// [`StoreError::WrongServerKey`] when the stored one does not unwrap.
pub(crate) fn check_server_key(vault: &Vault, existing: Option<&[u8]>) -> StoreResult<Option<Vec<u8>>> {
    match existing {
        Some(wrapped) => {
            vault.forget(SERVER_SCOPE);
            vault.key(SERVER_SCOPE, wrapped).map_err(|_| StoreError::WrongServerKey)?;
            Ok(None)
        }
        None => Ok(Some(vault.create_key(SERVER_SCOPE)?.1)),
    }
}

/// A new room's data key: the key, and its wrapped form to store with the room.
pub(crate) fn new_room_key(vault: &Vault, room: &str) -> StoreResult<(Arc<DataKey>, Vec<u8>)> {
    Ok(vault.create_key(room)?)
}

/// A room's data key from its stored wrapped form (or from memory).
pub(crate) fn room_key(vault: &Vault, room: &str, wrapped: Option<&[u8]>) -> StoreResult<Arc<DataKey>> {
    if let Some(key) = vault.cached(room) {
        return Ok(key);
    }
    let wrapped = wrapped.ok_or_else(|| StoreError::Corrupt(Cause::msg(format!("room {room} has no data key"))))?;
    Ok(vault.key(room, wrapped)?)
}

fn body_aad(room: &str, message: &str) -> Aad {
    Aad::new("message body").part(room).part(message)
}

/// The stored form of a message body. A deleted message keeps no content: an empty value.
pub(crate) fn seal_body(key: &DataKey, room: &str, message: &str, body: &str) -> StoreResult<Vec<u8>> {
    Ok(key.seal(&body_aad(room, message), body.as_bytes())?)
}

fn attachment_aad(part: &str, room: &str, attachment: &str) -> Aad {
    Aad::new(part).part(room).part(attachment)
}

fn avatar_aad(user: &str) -> Aad {
    Aad::new("avatar").part(user)
}

/// The stored form of a user's avatar, sealed under the server's key (R-SEC-2, R-ACC-8).
pub(crate) fn seal_avatar(key: &DataKey, user: &str, content: &[u8]) -> StoreResult<Vec<u8>> {
    Ok(key.seal(&avatar_aad(user), content)?)
}

/// An avatar's content, opened.
pub(crate) fn open_avatar(key: &DataKey, user: &str, sealed: &[u8]) -> StoreResult<Vec<u8>> {
    key.open(&avatar_aad(user), sealed)
        .map_err(|e| StoreError::Corrupt(Cause::msg(format!("the avatar of user {user}: {e}"))))
}

/// The name a deleted account keeps (R-ACC-7): never a valid username, unique by its id.
pub(crate) fn deleted_username(user: &str) -> String {
    let short: String = user.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
    format!("{}{short}", conclave_protocol::DELETED_USER_PREFIX)
}

/// The stored forms of an attachment's name and content.
pub(crate) fn seal_attachment(
    key: &DataKey,
    room: &str,
    attachment: &str,
    filename: &str,
    content: &[u8],
) -> StoreResult<(Vec<u8>, Vec<u8>)> {
    Ok((
        key.seal(&attachment_aad("attachment name", room, attachment), filename.as_bytes())?,
        key.seal(&attachment_aad("attachment content", room, attachment), content)?,
    ))
}

/// An attachment's content, opened.
pub(crate) fn open_attachment_content(
    key: &DataKey,
    room: &str,
    attachment: &str,
    sealed: &[u8],
) -> StoreResult<Vec<u8>> {
    key.open(&attachment_aad("attachment content", room, attachment), sealed)
        .map_err(|e| StoreError::Corrupt(Cause::msg(format!("attachment {attachment} in room {room}: {e}"))))
}

/// An attachment's metadata as stored: its name still sealed.
#[derive(Debug, Clone)]
pub(crate) struct SealedAttachmentMeta {
    pub id: String,
    pub filename: Vec<u8>,
    pub content_type: String,
    pub size: u64,
}

impl SealedAttachmentMeta {
    pub fn open(self, key: &DataKey, room: &str) -> StoreResult<AttachmentMeta> {
        let name = key
            .open(&attachment_aad("attachment name", room, &self.id), &self.filename)
            .map_err(|e| StoreError::Corrupt(Cause::msg(format!("attachment {} in room {room}: {e}", self.id))))?;
        Ok(AttachmentMeta {
            filename: String::from_utf8(name)
                .map_err(|_| StoreError::Corrupt(Cause::msg(format!("attachment {} has no UTF-8 name", self.id))))?,
            id: self.id.into(),
            content_type: self.content_type,
            size: self.size,
        })
    }
}

/// A message as read from the database, its body (and attachment name) still sealed.
pub(crate) struct SealedMessage {
    /// Every field but `body`, `attachment` and `reply_to`, which are empty until opened.
    pub record: MessageRecord,
    pub body: Vec<u8>,
    pub attachment: Option<SealedAttachmentMeta>,
    pub reply_to: Option<SealedReply>,
}

/// The message a reply answers, its body still sealed (same room, so the same key).
pub(crate) struct SealedReply {
    /// Every field but `body`, empty until opened.
    pub record: ReplyRecord,
    pub body: Vec<u8>,
}

/// A body as text, or an error when any byte was changed; a deleted message's empty body
/// stays empty.
fn open_body(key: &DataKey, room: &str, message: &str, deleted: bool, sealed: &[u8]) -> StoreResult<String> {
    if deleted && sealed.is_empty() {
        return Ok(String::new());
    }
    let plain = key
        .open(&body_aad(room, message), sealed)
        .map_err(|e| StoreError::Corrupt(Cause::msg(format!("message {message} in room {room}: {e}"))))?;
    String::from_utf8(plain)
        .map_err(|_| StoreError::Corrupt(Cause::msg(format!("message {message} is not UTF-8 once opened"))))
}

impl SealedMessage {
    /// Opens the body; a changed byte anywhere is an error, never text.
    pub fn open(self, key: &DataKey) -> StoreResult<MessageRecord> {
        let SealedMessage { mut record, body, attachment, reply_to } = self;
        let room = record.room_id.as_str();
        if let Some(attachment) = attachment {
            record.attachment = Some(attachment.open(key, room)?);
        }
        record.body = open_body(key, room, record.id.as_str(), record.deleted, &body)?;
        if let Some(reply) = reply_to {
            record.reply_to = Some(reply.open(key, room)?);
        }
        Ok(record)
    }
}

impl SealedReply {
    pub fn open(self, key: &DataKey, room: &str) -> StoreResult<ReplyRecord> {
        let SealedReply { mut record, body } = self;
        record.body = open_body(key, room, record.message_id.as_str(), record.deleted, &body)?;
        Ok(record)
    }
}

/// Opens the messages of one room (a history page) with its key.
pub(crate) fn open_all(key: &DataKey, sealed: Vec<SealedMessage>) -> StoreResult<Vec<MessageRecord>> {
    sealed.into_iter().map(|m| m.open(key)).collect()
}
