//! Attachments (SPEC R-MSG-6): upload a file to a room, send it with a message (its
//! `attachment_id`), download it as a member of the room. Stored sealed (R-SEC-2).

use super::extract::read_limited;
use crate::app::AppState;
use crate::app::access::RoomAccess;
use crate::app::attachments;
use crate::app::error::ApiResult;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue, HeaderValue,
};
use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use conclave_domain::AttachmentType;
use conclave_protocol::{Attachment, AttachmentEnvelope, AttachmentId, ErrorBody, UploadAttachmentQuery};

/// Upload a file to a room (members): the request body is the file, `Content-Type` its type
/// (PNG, JPEG, GIF or WebP images, PDF, plain text; checked against its bytes), at most
/// `CONCLAVE_MAX_ATTACHMENT_BYTES` (10 MiB by default). Send it with a message by its id; an
/// upload never sent is deleted after a day.
#[utoipa::path(post, path = "/api/rooms/{room_id}/attachments", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path), UploadAttachmentQuery),
    request_body(content = Vec<u8>, description = "the file's bytes", content_type = "application/octet-stream"),
    responses((status = 201, body = AttachmentEnvelope), (status = 403, body = ErrorBody),
              (status = 409, description = "room_terminated", body = ErrorBody),
              (status = 413, description = "payload_too_large", body = ErrorBody),
              (status = 415, description = "unsupported_media_type: a type not allowed, or bytes that are not of it", body = ErrorBody),
              (status = 422, description = "validation_failed: filename, file", body = ErrorBody)))]
pub async fn upload(
    state: Data<AppState>,
    access: RoomAccess,
    req: HttpRequest,
    Query(query): Query<UploadAttachmentQuery>,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let max = state.settings.max_attachment_bytes;
    let limit = conclave_protocol::size_label(u64::try_from(max).unwrap_or(u64::MAX));
    let content = read_limited(&req, payload, max, format!("attachments are at most {limit}"));
    let stored = attachments::upload(&state, &access, &query.filename, content_type, content).await?;
    let attachment = Attachment {
        id: stored.meta.id,
        filename: stored.meta.filename,
        content_type: stored.meta.content_type,
        size: stored.meta.size,
    };
    Ok(HttpResponse::Created().json(AttachmentEnvelope { attachment }))
}

/// Download an attachment (members of its room; an unsent upload only by its uploader). Images
/// and text are served inline, PDFs as downloads, always with their checked type.
#[utoipa::path(get, path = "/api/rooms/{room_id}/attachments/{attachment_id}", tag = "messages", security(("bearer" = [])),
    params(("room_id" = String, Path), ("attachment_id" = String, Path)),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"),
              (status = 403, body = ErrorBody), (status = 404, description = "attachment_not_found", body = ErrorBody)))]
pub async fn download(
    state: Data<AppState>,
    access: RoomAccess,
    path: Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = AttachmentId(path.into_inner().1);
    let attachments::Download { record, kind, content } = attachments::download(&state, &access, &id).await?;
    let disposition = ContentDisposition {
        disposition: if kind == AttachmentType::Pdf { DispositionType::Attachment } else { DispositionType::Inline },
        parameters: vec![DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: record.meta.filename.into_bytes(),
        })],
    };
    let content_type = if kind == AttachmentType::Text { "text/plain; charset=utf-8" } else { kind.content_type() };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")))
        .body(content))
}
