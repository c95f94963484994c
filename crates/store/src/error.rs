use thiserror::Error;

/// What a uniqueness rule refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    UsernameTaken,
    AlreadyMember,
    AlreadyInvited,
    RequestPending,
    AlreadyBanned,
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
    #[error("storage failure: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
