//! What every request handler and gateway session shares.

use crate::gateway::GatewaySettings;
use crate::gateway::hub::{Bus, Hub};
use crate::limits::Limits;
use crate::passwords::Passwords;
use conclave_crypto::AccessTokens;
use conclave_store::Store;
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
    pub deferred: Arc<crate::write_behind::WriteBehind>,
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
}
