//! Attachments (SPEC R-MSG-6): upload a file to a room, send it with a message (its
//! `attachment_id`), download it as a member of the room. Stored sealed (R-SEC-2).

use super::AppState;
use super::access::RoomAccess;
use super::error::{ApiError, ApiResult};
use chrono::Utc;
use conclave_domain::{AttachmentType, Filename, RoomAction, accept_upload, may_download};
use conclave_protocol::{AttachmentId, ErrorCode};
use conclave_store::{AttachmentRecord, NewAttachment};
use std::future::Future;

/// Upload a file named `filename`, declared as `content_type`, to the room (members, live
/// rooms). `content` reads the file, refusing it past `max_attachment_bytes`; it is only read
/// once the caller may upload, and its bytes must be of an allowed type and match it.
pub async fn upload(
    state: &AppState,
    access: &RoomAccess,
    filename: &str,
    content_type: &str,
    content: impl Future<Output = ApiResult<Vec<u8>>>,
) -> ApiResult<AttachmentRecord> {
    access.live()?;
    access.authorize(RoomAction::Post)?;
    let filename = Filename::parse(filename)?;
    let content = content.await?;
    let kind = accept_upload(content_type, &content, state.settings.max_attachment_bytes)?;
    let new = NewAttachment {
        room_id: access.room.id.clone(),
        uploader_id: access.user.id.clone(),
        filename: filename.into_string(),
        content_type: kind.content_type().to_owned(),
        content,
    };
    Ok(state.store.insert_attachment(new, Utc::now()).await?)
}

/// A file to download: its record, its type and its bytes.
pub struct Download {
    pub record: AttachmentRecord,
    pub kind: AttachmentType,
    pub content: Vec<u8>,
}

/// Download an attachment (members of its room; an unsent upload only by its uploader).
pub async fn download(state: &AppState, access: &RoomAccess, id: &AttachmentId) -> ApiResult<Download> {
    access.authorize(RoomAction::Read)?;
    let not_found = || ApiError::new(ErrorCode::AttachmentNotFound, "no such attachment in this room");
    let (record, content) = state.store.attachment(&access.room.id, id).await?.ok_or_else(not_found)?;
    if !may_download(record.message_id.is_some(), record.uploader_id == access.user.id) {
        return Err(not_found());
    }
    let kind = AttachmentType::from_content_type(&record.meta.content_type).ok_or_else(not_found)?;
    Ok(Download { record, kind, content })
}
