//! What the nodes of a deployment share through Redis besides live events: leases for work one
//! node at a time does, and the rate-limit buckets that keep an allowance from multiplying
//! with the nodes. Requests to Redis go through a connection manager that reconnects by itself
//! and answers within a bounded time.

pub mod buckets;
pub mod leases;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// How long a request to Redis may take before it counts as failed.
const ANSWER_WITHIN: Duration = Duration::from_millis(500);

/// Why Redis cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot reach Redis at {url}: {source}")]
pub struct RedisUnreachable {
    url: String,
    source: redis::RedisError,
}

impl RedisUnreachable {
    pub fn new(url: &str, source: redis::RedisError) -> Self {
        RedisUnreachable { url: redacted(url), source }
    }
}

/// A connection to Redis at `url` that reconnects by itself; refused when it cannot be reached.
pub async fn connect(url: &str) -> Result<ConnectionManager, RedisUnreachable> {
    let unreachable = |source| RedisUnreachable::new(url, source);
    let client = redis::Client::open(url).map_err(unreachable)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(ANSWER_WITHIN))
        .set_connection_timeout(Some(ANSWER_WITHIN))
        .set_max_delay(Duration::from_secs(2));
    ConnectionManager::new_with_config(client, config).await.map_err(unreachable)
}

/// A Redis URL without its password, for logs and errors.
pub fn redacted(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://…@{host}"),
        _ => url.to_owned(),
    }
}
