//! The one error shape of SPEC R-OPS-5: `{"error": {"code", "message", "details"}}`.

use serde::{Deserialize, Serialize};

/// Every error code the API answers with. The HTTP status that goes with each is fixed by
/// [`ErrorCode::http_status`], so that every layer maps errors the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not JSON, or not of the expected shape.
    MalformedJson,
    /// A path or query parameter could not be read.
    InvalidQuery,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// One or more fields are invalid; `details` maps each field to its problem.
    ValidationFailed,
    /// The action targets something it cannot (yourself, a user outside the room…).
    InvalidTarget,
    /// No access token was sent.
    TokenMissing,
    /// The access token is malformed, tampered with, signed with another key or algorithm.
    TokenInvalid,
    /// The access token has expired: refresh it.
    TokenExpired,
    /// Wrong username or password (never says which).
    InvalidCredentials,
    /// The refresh token is unknown, expired or revoked.
    InvalidRefreshToken,
    /// A refresh token was used twice: its whole family is revoked.
    RefreshTokenReused,
    /// The caller's role does not allow this.
    Forbidden,
    /// The caller is banned from this room.
    Banned,
    /// The room's password is missing or wrong.
    WrongRoomPassword,
    /// The room is invite-only and the caller holds no invite.
    NotInvited,
    /// The caller is not a member of the room.
    NotAMember,
    /// Direct conversations have no roles, invites, joins, requests, kicks or bans.
    DirectRoom,
    NotFound,
    UserNotFound,
    RoomNotFound,
    MessageNotFound,
    NotificationNotFound,
    RequestNotFound,
    AttachmentNotFound,
    BanNotFound,
    /// The caller holds no invitation to that room.
    InviteNotFound,
    MethodNotAllowed,
    UsernameTaken,
    AlreadyMember,
    AlreadyInvited,
    RequestPending,
    AlreadyBanned,
    /// The attachment was already sent with another message.
    AttachmentUsed,
    /// The room was terminated: no more messages or joins.
    RoomTerminated,
    /// The message was deleted and cannot be edited or reacted to.
    MessageDeleted,
    /// The message already carries as many different emoji as a message may.
    TooManyReactions,
    /// Too many requests; `Retry-After` says when to try again.
    RateLimited,
    /// A WebSocket frame is not JSON, or not a frame this gateway knows.
    MalformedFrame,
    /// A WebSocket frame is larger than 64 KiB.
    FrameTooLarge,
    /// The first WebSocket frame must be `authenticate`.
    NotAuthenticated,
    /// This WebSocket session is already authenticated.
    AlreadyAuthenticated,
    /// The server or its store is not ready.
    Unavailable,
    /// Stored data failed its integrity check (it was changed outside Conclave); it is not
    /// shown.
    DataCorrupted,
    /// Something went wrong on the server; the request id in the logs tells what.
    Internal,
}

impl ErrorCode {
    /// The access token was missing, expired or invalid: a client should refresh it and retry.
    pub fn refuses_access_token(self) -> bool {
        matches!(self, ErrorCode::TokenMissing | ErrorCode::TokenExpired | ErrorCode::TokenInvalid)
    }

    /// The HTTP status that goes with this code.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            MalformedJson | InvalidQuery | MalformedFrame | NotAuthenticated | AlreadyAuthenticated => 400,
            TokenMissing | TokenInvalid | TokenExpired | InvalidCredentials | InvalidRefreshToken
            | RefreshTokenReused => 401,
            Forbidden | Banned | WrongRoomPassword | NotInvited | NotAMember | DirectRoom => 403,
            NotFound | UserNotFound | RoomNotFound | MessageNotFound | NotificationNotFound | RequestNotFound
            | BanNotFound | AttachmentNotFound | InviteNotFound => 404,
            MethodNotAllowed => 405,
            UsernameTaken | AlreadyMember | AlreadyInvited | RequestPending | AlreadyBanned | RoomTerminated
            | MessageDeleted | AttachmentUsed | TooManyReactions => 409,
            PayloadTooLarge | FrameTooLarge => 413,
            UnsupportedMediaType => 415,
            ValidationFailed | InvalidTarget => 422,
            RateLimited => 429,
            Internal | DataCorrupted => 500,
            Unavailable => 503,
        }
    }

    /// The snake_case name, as on the wire.
    pub fn as_str(self) -> &'static str {
        // The serde name is the source of truth; this table mirrors it and a test keeps them equal.
        use ErrorCode::*;
        match self {
            MalformedJson => "malformed_json",
            InvalidQuery => "invalid_query",
            UnsupportedMediaType => "unsupported_media_type",
            PayloadTooLarge => "payload_too_large",
            ValidationFailed => "validation_failed",
            InvalidTarget => "invalid_target",
            TokenMissing => "token_missing",
            TokenInvalid => "token_invalid",
            TokenExpired => "token_expired",
            InvalidCredentials => "invalid_credentials",
            InvalidRefreshToken => "invalid_refresh_token",
            RefreshTokenReused => "refresh_token_reused",
            Forbidden => "forbidden",
            Banned => "banned",
            WrongRoomPassword => "wrong_room_password",
            NotInvited => "not_invited",
            NotAMember => "not_a_member",
            DirectRoom => "direct_room",
            NotFound => "not_found",
            UserNotFound => "user_not_found",
            RoomNotFound => "room_not_found",
            MessageNotFound => "message_not_found",
            NotificationNotFound => "notification_not_found",
            RequestNotFound => "request_not_found",
            BanNotFound => "ban_not_found",
            InviteNotFound => "invite_not_found",
            AttachmentNotFound => "attachment_not_found",
            AttachmentUsed => "attachment_used",
            MethodNotAllowed => "method_not_allowed",
            UsernameTaken => "username_taken",
            AlreadyMember => "already_member",
            AlreadyInvited => "already_invited",
            RequestPending => "request_pending",
            AlreadyBanned => "already_banned",
            RoomTerminated => "room_terminated",
            MessageDeleted => "message_deleted",
            TooManyReactions => "too_many_reactions",
            RateLimited => "rate_limited",
            MalformedFrame => "malformed_frame",
            FrameTooLarge => "frame_too_large",
            NotAuthenticated => "not_authenticated",
            AlreadyAuthenticated => "already_authenticated",
            Unavailable => "unavailable",
            DataCorrupted => "data_corrupted",
            Internal => "internal",
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// A sentence for people.
    pub message: String,
    /// Machine-readable detail: for `validation_failed`, an object from field name to problem;
    /// for `rate_limited`, `{"retry_after_secs": n}`.
    #[serde(default)]
    pub details: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-ACC-3: only a refused access token calls for a refresh; wrong credentials and a
    /// refused refresh token do not.
    #[test]
    fn refuses_access_token_r_acc_3() {
        for code in [ErrorCode::TokenMissing, ErrorCode::TokenExpired, ErrorCode::TokenInvalid] {
            assert!(code.refuses_access_token(), "{code:?}");
        }
        for code in [ErrorCode::InvalidCredentials, ErrorCode::InvalidRefreshToken, ErrorCode::RefreshTokenReused] {
            assert!(!code.refuses_access_token(), "{code:?}");
        }
    }

    #[test]
    fn as_str_matches_the_wire_name_r_ops_5() {
        let all = [
            ErrorCode::MalformedJson,
            ErrorCode::InvalidQuery,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::PayloadTooLarge,
            ErrorCode::ValidationFailed,
            ErrorCode::InvalidTarget,
            ErrorCode::TokenMissing,
            ErrorCode::TokenInvalid,
            ErrorCode::TokenExpired,
            ErrorCode::InvalidCredentials,
            ErrorCode::InvalidRefreshToken,
            ErrorCode::RefreshTokenReused,
            ErrorCode::Forbidden,
            ErrorCode::Banned,
            ErrorCode::WrongRoomPassword,
            ErrorCode::NotInvited,
            ErrorCode::NotAMember,
            ErrorCode::DirectRoom,
            ErrorCode::NotFound,
            ErrorCode::UserNotFound,
            ErrorCode::RoomNotFound,
            ErrorCode::MessageNotFound,
            ErrorCode::NotificationNotFound,
            ErrorCode::RequestNotFound,
            ErrorCode::BanNotFound,
            ErrorCode::InviteNotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::UsernameTaken,
            ErrorCode::AlreadyMember,
            ErrorCode::AlreadyInvited,
            ErrorCode::RequestPending,
            ErrorCode::AlreadyBanned,
            ErrorCode::AttachmentNotFound,
            ErrorCode::AttachmentUsed,
            ErrorCode::RoomTerminated,
            ErrorCode::MessageDeleted,
            ErrorCode::TooManyReactions,
            ErrorCode::RateLimited,
            ErrorCode::MalformedFrame,
            ErrorCode::FrameTooLarge,
            ErrorCode::NotAuthenticated,
            ErrorCode::AlreadyAuthenticated,
            ErrorCode::Unavailable,
            ErrorCode::DataCorrupted,
            ErrorCode::Internal,
        ];
        for code in all {
            let wire = serde_json::to_value(code).expect("serialises");
            assert_eq!(wire, serde_json::Value::String(code.as_str().to_owned()));
            assert!((400..600).contains(&code.http_status()));
        }
    }
}
