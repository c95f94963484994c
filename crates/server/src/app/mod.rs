//! The application layer: what each command and query of Conclave does, for every transport.
//!
//! REST handlers (`http`) and gateway sessions (`gateway`) parse their input, call one function
//! here, and render its result. Nothing here knows actix or the wire's JSON framing; the
//! invariants (checked by `tests/layering.rs`):
//! - `app` imports neither `crate::http` nor `crate::gateway`;
//! - `gateway` does not import `crate::http`;
//! - the crate's `use` graph between files has no cycle.
//!
//! The rules themselves (who may do what, what a valid name is) live in `conclave_domain`; the
//! store is reached through `conclave_store`; live delivery through `crate::live`.

pub mod access;
pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod avatars;
pub mod dms;
pub mod error;
pub mod events;
pub mod limits;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod notify;
pub mod passwords;
pub mod presence;
pub mod read_your_writes;
pub mod rooms;
pub mod search;
pub mod views;
pub mod write_behind;

use crate::config::GatewaySettings;
use crate::live::hub::{Bus, Hub};
use conclave_crypto::AccessTokens;
use conclave_store::Store;
use limits::Limits;
use passwords::Passwords;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub passwords: Arc<Passwords>,
    pub tokens: AccessTokens,
    /// This node's sessions: presence and delivery.
    pub hub: Arc<Hub>,
    /// Where events are published (in process: the hub itself).
    pub bus: Arc<dyn Bus>,
    pub limits: Arc<Limits>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Buffered writes (SPEC R-OPS-3).
    pub deferred: Arc<write_behind::WriteBehind>,
    /// Cancelled when the server begins to stop: gateway sessions close with 1001 (going away)
    /// at once, so clients reconnect and resume instead of waiting on a node that is leaving.
    pub stopping: CancellationToken,
}

/// Settings the handlers read at run time.
#[derive(Debug, Clone)]
pub struct Settings {
    pub refresh_token_ttl_days: u32,
    /// The largest attachment accepted, in bytes (R-MSG-6).
    pub max_attachment_bytes: usize,
    pub gateway: GatewaySettings,
    /// Proxies whose `X-Forwarded-For` names the client (`CONCLAVE_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}
