//! Rate-limit buckets in Redis (several nodes, SPEC R-MSG-5 and R-ACC-6 across nodes): one
//! GCRA bucket per key, taken from in one atomic script on Redis' own clock, so every node
//! draws on the same allowance.

use crate::app::limits::{BucketsUnavailable, Rate, SharedBuckets, Taken};
use async_trait::async_trait;
use redis::aio::ConnectionManager;

/// Takes up to ARGV[1] tokens from the bucket KEYS[1] that gains one every ARGV[2] µs and holds
/// at most ARGV[3]: the key holds the theoretical arrival time (µs). Answers the tokens
/// granted (at least one, or none) and, when none, the µs until one is.
const TAKE: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local want, every, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local granted = math.min(want, math.floor((now + burst * every - tat) / every))
if granted < 1 then return {0, tat + every - burst * every - now} end
tat = tat + granted * every
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
return {granted, 0}";

/// Buckets kept in Redis, shared by the nodes.
pub struct RedisBuckets {
    connection: ConnectionManager,
    take: redis::Script,
}

impl RedisBuckets {
    pub fn new(connection: ConnectionManager) -> Self {
        RedisBuckets { connection, take: redis::Script::new(TAKE) }
    }
}

#[async_trait]
impl SharedBuckets for RedisBuckets {
    async fn take(&self, key: &str, want: u32, rate: Rate) -> Result<Taken, BucketsUnavailable> {
        let every = u64::try_from(rate.every.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        let (granted, wait): (u32, u64) = self
            .take
            .key(format!("conclave:bucket:{key}"))
            .arg(want.max(1))
            .arg(every)
            .arg(rate.burst.max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(|error| BucketsUnavailable(error.to_string()))?;
        Ok(match granted {
            0 => Taken::Wait(std::time::Duration::from_micros(wait)),
            granted => Taken::Granted(granted),
        })
    }
}
