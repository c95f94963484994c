use std::fmt;
use std::sync::Arc;
use thiserror::Error;

/// Why a backend failed, kept whole for the logs: the driver's own error with its chain
/// (`source()`), or a sentence where the store itself found the fault. Cheap to clone; two
/// causes are equal when they say the same.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    /// A fault the store found itself, in a sentence.
    pub fn msg(message: impl Into<String>) -> Self {
        #[derive(Debug, Error)]
        #[error("{0}")]
        struct Message(String);
        Self::new(Message(message.into()))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

/// What a uniqueness rule refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    UsernameTaken,
    AlreadyMember,
    AlreadyInvited,
    RequestPending,
    AlreadyBanned,
    /// The attachment was sent with another message already.
    AttachmentUsed,
    /// The message already carries as many different emoji as a message may.
    TooManyReactions,
}

/// What was not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    User,
    Room,
    Membership,
    Message,
    Notification,
    JoinRequest,
    Ban,
    Attachment,
    Invite,
    /// The message a reply names is not in the room.
    ReplyTarget,
}

/// Errors of every backend, in terms callers can act on. A duplicate key is a [`Conflict`],
/// never a backend failure (SPEC R-OPS-5).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("not found: {0:?}")]
    NotFound(Missing),
    #[error("the room was terminated")]
    RoomTerminated,
    #[error("the user is banned from the room")]
    Banned,
    #[error("the user is not a member of the room")]
    NotAMember,
    #[error("the message was deleted")]
    MessageDeleted,
    /// The database cannot be reached (an outage, a failover): worth trying again shortly.
    #[error("the database does not answer: {0}")]
    Unavailable(#[source] Cause),
    /// The server key (key file) is not the one this database's keys are wrapped to: starting
    /// would leave every message unreadable.
    #[error(
        "the server key does not match this database: its data keys were wrapped to another key \
         file (restore the original key file, or point CONCLAVE_KEY_FILE at it)"
    )]
    WrongServerKey,
    /// A new data key cannot be wrapped now: a key rotation is under way, or has replaced the
    /// key pair this server started with (it must be restarted with the new key file).
    #[error(
        "the server key is being rotated, or was rotated since this server started: new rooms wait \
         for the rotation to finish and this server to be restarted with the new key file"
    )]
    KeyRotation,
    /// Stored data failed its integrity check: sealed bytes were changed, or a key is missing.
    /// Never answered with the data (SPEC R-SEC-2).
    #[error("stored data failed its integrity check: {0}")]
    Corrupt(#[source] Cause),
    #[error("storage failure: {0}")]
    Backend(#[source] Cause),
}

pub type StoreResult<T> = Result<T, StoreError>;
