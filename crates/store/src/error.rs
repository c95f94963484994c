use thiserror::Error;

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
    /// The database cannot be reached (an outage, a failover): worth trying again shortly.
    #[error("the database does not answer: {0}")]
    Unavailable(String),
    /// The server key (key file) is not the one this database's keys are wrapped to: starting
    /// would leave every message unreadable.
    #[error(
        "the server key does not match this database: its data keys were wrapped to another key \
         file (restore the original key file, or point CONCLAVE_KEY_FILE at it)"
    )]
    WrongServerKey,
    /// Stored data failed its integrity check: sealed bytes were changed, or a key is missing.
    /// Never answered with the data (SPEC R-SEC-2).
    #[error("stored data failed its integrity check: {0}")]
    Corrupt(String),
    #[error("storage failure: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
