//! What every request handler shares.

use crate::presence::Presence;
use conclave_crypto::{AccessTokens, PasswordHasher};
use conclave_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub passwords: PasswordHasher,
    pub tokens: AccessTokens,
    pub presence: Arc<Presence>,
    pub settings: Arc<Settings>,
}

/// Settings the handlers read at run time.
#[derive(Debug, Clone)]
pub struct Settings {
    pub refresh_token_ttl_days: u32,
    pub max_body_bytes: usize,
}
