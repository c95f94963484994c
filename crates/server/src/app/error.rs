//! The application layer's one error type. Every lower layer's error (store, domain, crypto)
//! is mapped to it here, once; the transports render it (`http::error` as SPEC R-OPS-5's JSON
//! body with its status, the gateway as an `error` frame).

use conclave_domain::{
    Denial, FieldErrors, InviteDenial, JoinDenial, MAX_REACTION_KINDS, MessageDenial, UploadRefusal, ViewDenial,
};
use conclave_protocol::ErrorCode;
use conclave_store::{Conflict, Missing, StoreError};
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<serde_json::Value>,
    /// For `rate_limited`: seconds to wait, sent as `Retry-After`.
    pub retry_after_secs: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None, retry_after_secs: None }
    }

    /// Too many requests: try again in `seconds` (R-MSG-5, R-ACC-6).
    pub fn rate_limited(message: impl Into<String>, seconds: u64) -> Self {
        let mut error = Self::new(ErrorCode::RateLimited, message);
        error.details = Some(serde_json::json!({ "retry_after_secs": seconds }));
        error.retry_after_secs = Some(seconds);
        error
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// A failure the client cannot fix; the cause goes to the log, not to the client.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(ErrorCode::Internal, "something went wrong on the server")
    }

    /// One invalid field, as a 422 naming it.
    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        FieldErrors::single(field, problem).into()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        let details = serde_json::to_value(errors.into_map()).unwrap_or_default();
        ApiError::new(ErrorCode::ValidationFailed, "some fields are invalid").with_details(details)
    }
}

impl From<crate::app::write_behind::Stopped> for ApiError {
    fn from(_: crate::app::write_behind::Stopped) -> Self {
        ApiError::new(ErrorCode::Unavailable, "the server is stopping; try again shortly")
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        use ErrorCode as C;
        match error {
            StoreError::Conflict(conflict) => match conflict {
                Conflict::UsernameTaken => ApiError::new(C::UsernameTaken, "that username is taken"),
                Conflict::AlreadyMember => ApiError::new(C::AlreadyMember, "already a member of this room"),
                Conflict::AlreadyInvited => ApiError::new(C::AlreadyInvited, "that user is already invited"),
                Conflict::RequestPending => ApiError::new(C::RequestPending, "a join request is already pending"),
                Conflict::AlreadyBanned => ApiError::new(C::AlreadyBanned, "that user is already banned"),
                Conflict::AttachmentUsed => {
                    ApiError::new(C::AttachmentUsed, "that attachment was already sent with another message")
                }
                Conflict::TooManyReactions => ApiError::new(
                    C::TooManyReactions,
                    format!("a message takes at most {MAX_REACTION_KINDS} different reactions"),
                ),
            },
            StoreError::NotFound(missing) => match missing {
                Missing::User => ApiError::new(C::UserNotFound, "no such user"),
                Missing::Room => ApiError::new(C::RoomNotFound, "no such room"),
                Missing::Membership => ApiError::new(C::NotAMember, "not a member of this room"),
                Missing::Message => ApiError::new(C::MessageNotFound, "no such message"),
                Missing::Notification => ApiError::new(C::NotificationNotFound, "no such notification"),
                Missing::JoinRequest => ApiError::new(C::RequestNotFound, "no pending join request from that user"),
                Missing::Ban => ApiError::new(C::BanNotFound, "that user is not banned"),
                Missing::Attachment => ApiError::new(C::AttachmentNotFound, "no such attachment in this room"),
                Missing::ReplyTarget => {
                    ApiError::new(C::MessageNotFound, "the message you reply to is not in this room")
                }
                Missing::Invite => ApiError::new(C::InviteNotFound, "you hold no invitation to this room"),
            },
            StoreError::RoomTerminated => ApiError::new(C::RoomTerminated, "this room was terminated"),
            StoreError::Banned => ApiError::new(C::Banned, "banned from this room"),
            StoreError::NotAMember => ApiError::new(C::NotAMember, "not a member of this room"),
            StoreError::MessageDeleted => ApiError::new(C::MessageDeleted, "that message was deleted"),
            StoreError::Unavailable(cause) => {
                tracing::warn!(cause = %chain(&cause), "store unavailable");
                ApiError::new(C::Unavailable, "the server cannot reach its database right now; try again shortly")
            }
            StoreError::KeyRotation => {
                tracing::warn!(
                    "a new data key was refused: the server key is being rotated, or was rotated since start"
                );
                ApiError::new(
                    C::Unavailable,
                    "new rooms cannot be made while the server key is being rotated; try again shortly",
                )
            }
            StoreError::Corrupt(cause) => {
                tracing::error!(cause = %chain(&cause), "stored data failed its integrity check");
                ApiError::new(C::DataCorrupted, "stored data failed its integrity check and is not shown")
            }
            StoreError::WrongServerKey | StoreError::Backend(_) => ApiError::internal(chain(&error)),
        }
    }
}

/// An error and every cause under it, for the log: `outer: inner: innermost`.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        // A wrapper that shows its cause in its own message is not repeated.
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

impl From<Denial> for ApiError {
    fn from(denial: Denial) -> Self {
        let code = match denial {
            Denial::NotAMember => ErrorCode::NotAMember,
            Denial::Forbidden => ErrorCode::Forbidden,
            Denial::DirectRoom => ErrorCode::DirectRoom,
            Denial::InvalidTarget(_) => ErrorCode::InvalidTarget,
        };
        ApiError::new(code, denial.to_string())
    }
}

impl From<JoinDenial> for ApiError {
    fn from(denial: JoinDenial) -> Self {
        let code = match denial {
            JoinDenial::DirectRoom => ErrorCode::DirectRoom,
            JoinDenial::Terminated => ErrorCode::RoomTerminated,
            JoinDenial::Banned => ErrorCode::Banned,
            JoinDenial::AlreadyMember => ErrorCode::AlreadyMember,
            JoinDenial::NotInvited => ErrorCode::NotInvited,
            JoinDenial::RequestPending => ErrorCode::RequestPending,
        };
        ApiError::new(code, denial.to_string())
    }
}

impl From<InviteDenial> for ApiError {
    fn from(denial: InviteDenial) -> Self {
        let code = match denial {
            InviteDenial::Terminated => ErrorCode::RoomTerminated,
            InviteDenial::Banned => ErrorCode::Banned,
            InviteDenial::AlreadyMember => ErrorCode::AlreadyMember,
            InviteDenial::AlreadyInvited => ErrorCode::AlreadyInvited,
        };
        ApiError::new(code, denial.to_string())
    }
}

impl From<ViewDenial> for ApiError {
    fn from(denial: ViewDenial) -> Self {
        let code = match denial {
            ViewDenial::Banned => ErrorCode::Banned,
            ViewDenial::Hidden => ErrorCode::RoomNotFound,
        };
        ApiError::new(code, denial.to_string())
    }
}

impl From<MessageDenial> for ApiError {
    fn from(denial: MessageDenial) -> Self {
        let code = match denial {
            MessageDenial::NotAuthor | MessageDenial::NotAuthorOrAdmin => ErrorCode::Forbidden,
            MessageDenial::Deleted => ErrorCode::MessageDeleted,
        };
        ApiError::new(code, denial.to_string())
    }
}

impl From<UploadRefusal> for ApiError {
    fn from(refusal: UploadRefusal) -> Self {
        match refusal {
            UploadRefusal::TooLarge { .. } => ApiError::new(ErrorCode::PayloadTooLarge, refusal.to_string()),
            UploadRefusal::UnsupportedType(_) | UploadRefusal::ContentMismatch(_) => {
                ApiError::new(ErrorCode::UnsupportedMediaType, refusal.to_string())
            }
            UploadRefusal::Empty => ApiError::field("file", refusal.to_string()),
            UploadRefusal::Filename(problem) => ApiError::field("filename", problem),
        }
    }
}

impl From<conclave_crypto::PasswordError> for ApiError {
    fn from(error: conclave_crypto::PasswordError) -> Self {
        ApiError::internal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_store::Cause;

    /// A backend failure reaches the log with the driver's whole chain, each part once.
    #[test]
    fn a_store_failure_is_logged_with_its_causes() {
        #[derive(Debug, thiserror::Error)]
        #[error("the pool gave up")]
        struct Pool(#[source] std::io::Error);
        let driver = Pool(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer"));
        let error = StoreError::Backend(Cause::new(driver));
        assert_eq!(chain(&error), "storage failure: the pool gave up: connection reset by peer");
        assert_eq!(ApiError::from(error).code, ErrorCode::Internal, "the client is told nothing of it");
    }
}
