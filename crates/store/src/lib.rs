//! Persistence for Conclave: the [`Store`] trait and its backends.
//!
//! The trait speaks in whole domain commands (join, depart, send) rather than in rows, so that
//! each backend can make every command atomic in its own way: a SQLite transaction here, a
//! MongoDB transaction or single-document update there. Callers never see which backend runs.
//!
//! Every backend is held to the conformance suite in `tests/conformance`.

mod audit;
mod error;
mod model;
mod mongo;
mod notices;
mod room_locks;
mod sealing;
mod sqlite;
mod store;

pub use error::{Cause, Conflict, Missing, StoreError, StoreResult};
pub use model::*;
pub use mongo::MongoStore;
pub use sqlite::{SqliteStore, backup};
pub use store::{
    AuditStore, BatchScope, KeyStore, MaintenanceStore, MembershipStore, MessageStore, ModerationStore,
    NotificationStore, OnStored, RoomStore, Store, TokenStore, UserStore,
};

/// The scope of the store's own data key (audit records of no room, avatars); rooms' keys are
/// scoped by their ids.
pub const SERVER_KEY_SCOPE: &str = sealing::SERVER_SCOPE;
