//! Conclave's wire types: every REST body, list page and error code, shared by the server,
//! the web client and the tests so that they cannot drift apart.
//!
//! JSON is snake_case everywhere (SPEC R-OPS-5). Timestamps are RFC 3339 UTC strings.
//! This crate does no I/O and builds for wasm32; OpenAPI schemas are behind the `openapi` feature.

pub mod audit;
pub mod auth;
pub mod endpoints;
pub mod error;
pub mod ids;
pub mod messages;
pub mod notifications;
pub mod numbers;
pub mod page;
pub mod rooms;
pub mod text;
pub mod users;
pub mod ws;

pub use audit::*;
pub use auth::*;
pub use error::*;
pub use ids::*;
pub use messages::*;
pub use notifications::*;
pub use page::*;
pub use rooms::*;
pub use users::*;
pub use ws::{ClientFrame, MAX_FRAME_BYTES, ServerFrame};

/// Timestamps on the wire: RFC 3339, UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
