//! Leases (several nodes): work that one node at a time should do (the cleanup job) runs on the
//! node that holds its lease. One node holds every lease; with Redis, a lease is a key set with
//! `NX` and an expiry, renewed by its holder at each run, so it passes to another node only
//! when the holder stops renewing it (stopped, killed, cut off).

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use std::time::Duration;

#[async_trait]
pub trait Leases: Send + Sync {
    /// Whether this node holds (or now takes, or renews) the lease `name` for `lasting`.
    async fn hold(&self, name: &str, lasting: Duration) -> bool;
}

/// One node: every lease is its own.
pub struct OneNode;

#[async_trait]
impl Leases for OneNode {
    async fn hold(&self, _name: &str, _lasting: Duration) -> bool {
        true
    }
}

/// Leases kept in Redis, shared by the nodes.
pub struct RedisLeases {
    connection: ConnectionManager,
    node: String,
}

impl RedisLeases {
    pub fn new(connection: ConnectionManager) -> Self {
        RedisLeases { connection, node: uuid::Uuid::new_v4().to_string() }
    }
}

/// Takes the lease when free, renews it when this node holds it; one round trip, atomic.
const HOLD: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0";

#[async_trait]
impl Leases for RedisLeases {
    async fn hold(&self, name: &str, lasting: Duration) -> bool {
        let millis = u64::try_from(lasting.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        let held: redis::RedisResult<i64> = redis::Script::new(HOLD)
            .key(format!("conclave:lease:{name}"))
            .arg(&self.node)
            .arg(millis)
            .invoke_async(&mut connection)
            .await;
        match held {
            Ok(held) => held == 1,
            Err(error) => {
                // Without Redis nobody can tell who holds it: this node does not act on it.
                tracing::warn!(%error, lease = name, "could not take a lease from Redis");
                false
            }
        }
    }
}
