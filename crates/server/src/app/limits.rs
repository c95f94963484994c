//! Rate limits (SPEC R-MSG-5, R-ACC-6) with `governor`: messages per user, logins per account
//! and per client address. A refused action answers `rate_limited` with the time to wait.
//!
//! Several nodes draw on shared buckets too ([`SharedBuckets`], in Redis), so that N nodes do
//! not grant N allowances. Logins take from them at each attempt. Messages take a lease of a
//! tenth of a second's worth of the rate (one token at the default rate) and spend it here
//! for at most a second: a busy sender costs one request to Redis per lease, not per message.
//! When the buckets cannot be reached, each node's own limit still holds.

use crate::app::error::ApiError;
use async_trait::async_trait;
use conclave_protocol::UserId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use rustc_hash::FxHashMap as HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node may spend tokens it took from a shared bucket.
const LEASE_LIFETIME: Duration = Duration::from_secs(1);

/// A rate as a bucket: a token every `every`, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub every: Duration,
    pub burst: u32,
}

/// What a shared bucket gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// This many tokens (at least one, at most those asked for).
    Granted(u32),
    /// None: the next comes after this long.
    Wait(Duration),
}

/// The shared buckets could not be reached.
#[derive(Debug, thiserror::Error)]
#[error("the shared rate-limit buckets cannot be reached: {0}")]
pub struct BucketsUnavailable(pub String);

/// Token buckets shared by the nodes of a deployment.
#[async_trait]
pub trait SharedBuckets: Send + Sync {
    /// Takes up to `want` tokens from `key`'s bucket, which fills at `rate`.
    async fn take(&self, key: &str, want: u32, rate: Rate) -> Result<Taken, BucketsUnavailable>;
}

/// Tokens taken from a shared bucket, to spend on this node until `until`.
struct Lease {
    left: u32,
    until: Instant,
}

/// The shared buckets and the message leases this node holds.
struct Shared {
    buckets: Arc<dyn SharedBuckets>,
    leases: Mutex<HashMap<UserId, Lease>>,
}

impl Shared {
    fn leases(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Lease>> {
        self.leases.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Spends a token of `user`'s lease, if one is left and current.
    fn spend(&self, user: &UserId, now: Instant) -> bool {
        match self.leases().get_mut(user) {
            Some(lease) if lease.left > 0 && lease.until > now => {
                lease.left -= 1;
                true
            }
            _ => false,
        }
    }

    /// Keeps `left` tokens of a new grant for `user`, with any still current.
    fn keep(&self, user: &UserId, left: u32, now: Instant) {
        if left == 0 {
            return;
        }
        let mut leases = self.leases();
        let lease = leases.entry(user.clone()).or_insert(Lease { left: 0, until: now });
        let current = if lease.until > now { lease.left } else { 0 };
        *lease = Lease { left: current + left, until: now + LEASE_LIFETIME };
    }

    /// Takes up to `want` tokens from `key`'s bucket: how many were granted, or `refusal` with
    /// the wait. When the buckets cannot be reached, this node's own limit has passed the
    /// action: one token, as if granted.
    async fn take(&self, key: &str, want: u32, rate: Rate, refusal: &str) -> Result<u32, ApiError> {
        match self.buckets.take(key, want, rate).await {
            Ok(Taken::Granted(granted)) => Ok(granted),
            Ok(Taken::Wait(wait)) => Err(limited(refusal, wait)),
            Err(error) => {
                tracing::warn!(%error, "rate limit checked on this node only");
                Ok(1)
            }
        }
    }
}

/// Limits as configured: a burst and a sustained rate for each class.
#[derive(Debug, Clone, Copy)]
pub struct LimitSettings {
    pub message_burst: u32,
    pub message_per_second: u32,
    pub login_burst: u32,
    pub login_per_minute: u32,
}

pub struct Limits {
    messages: DefaultKeyedRateLimiter<UserId>,
    login_accounts: DefaultKeyedRateLimiter<String>,
    login_addresses: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    message_rate: Rate,
    /// How many message tokens a lease asks for.
    message_lease: u32,
    login_rate: Rate,
    shared: Option<Shared>,
}

const MESSAGES_TOO_FAST: &str = "you are sending messages too fast";
const LOGINS_FROM_ADDRESS: &str = "too many login attempts from your address";
const LOGINS_FOR_ACCOUNT: &str = "too many login attempts for this account";

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Self {
        let messages =
            Quota::per_second(nonzero(settings.message_per_second)).allow_burst(nonzero(settings.message_burst));
        let logins = Quota::per_minute(nonzero(settings.login_per_minute)).allow_burst(nonzero(settings.login_burst));
        Self {
            messages: DefaultKeyedRateLimiter::keyed(messages),
            login_accounts: DefaultKeyedRateLimiter::keyed(logins),
            login_addresses: DefaultKeyedRateLimiter::keyed(logins),
            clock: DefaultClock::default(),
            message_rate: Rate {
                every: Duration::from_secs(1) / settings.message_per_second.max(1),
                burst: settings.message_burst.max(1),
            },
            message_lease: (settings.message_per_second / 10).clamp(1, settings.message_burst.max(1)),
            login_rate: Rate {
                every: Duration::from_secs(60) / settings.login_per_minute.max(1),
                burst: settings.login_burst.max(1),
            },
            shared: None,
        }
    }

    /// The same limits, drawn on `buckets` too (several nodes).
    pub fn shared_through(mut self, buckets: Arc<dyn SharedBuckets>) -> Self {
        self.shared = Some(Shared { buckets, leases: Mutex::default() });
        self
    }

    /// One message by `user` (R-MSG-5).
    pub async fn message(&self, user: &UserId) -> Result<(), ApiError> {
        self.messages
            .check_key(user)
            .map_err(|not_until| limited(MESSAGES_TOO_FAST, not_until.wait_time_from(self.clock.now())))?;
        let Some(shared) = &self.shared else { return Ok(()) };
        if shared.spend(user, Instant::now()) {
            return Ok(());
        }
        let key = format!("message:{user}");
        let granted = shared.take(&key, self.message_lease, self.message_rate, MESSAGES_TOO_FAST).await?;
        shared.keep(user, granted.saturating_sub(1), Instant::now());
        Ok(())
    }

    /// One login attempt for `username` from `address` (R-ACC-6).
    pub async fn login(&self, username: &str, address: Option<IpAddr>) -> Result<(), ApiError> {
        let now = || self.clock.now();
        let account = username.trim().to_lowercase();
        if let Some(address) = address {
            self.login_addresses
                .check_key(&address)
                .map_err(|n| limited(LOGINS_FROM_ADDRESS, n.wait_time_from(now())))?;
        }
        self.login_accounts.check_key(&account).map_err(|n| limited(LOGINS_FOR_ACCOUNT, n.wait_time_from(now())))?;
        let Some(shared) = &self.shared else { return Ok(()) };
        if let Some(address) = address {
            shared.take(&format!("login-address:{address}"), 1, self.login_rate, LOGINS_FROM_ADDRESS).await?;
        }
        shared.take(&format!("login-account:{account}"), 1, self.login_rate, LOGINS_FOR_ACCOUNT).await?;
        Ok(())
    }

    /// Forgets keys that have been quiet long enough to be back at a full burst, and spent or
    /// expired leases.
    pub fn forget_idle(&self) {
        self.messages.retain_recent();
        self.login_accounts.retain_recent();
        self.login_addresses.retain_recent();
        if let Some(shared) = &self.shared {
            let now = Instant::now();
            shared.leases().retain(|_, lease| lease.left > 0 && lease.until > now);
        }
    }
}

fn limited(message: &str, wait: Duration) -> ApiError {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::rate_limited(message, seconds.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_protocol::ErrorCode;

    fn settings() -> LimitSettings {
        LimitSettings { message_burst: 3, message_per_second: 1, login_burst: 2, login_per_minute: 1 }
    }

    /// R-MSG-5: a burst passes, the next is refused with the time to wait.
    #[tokio::test]
    async fn r_msg_5_message_burst_then_refusal() {
        let limits = Limits::new(settings());
        let alice = UserId::from("alice");
        for _ in 0..3 {
            assert!(limits.message(&alice).await.is_ok());
        }
        let refused = limits.message(&alice).await.expect_err("limited");
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert_eq!(refused.retry_after_secs, Some(1));
        assert!(limits.message(&UserId::from("bob")).await.is_ok(), "per user");
    }

    /// R-ACC-6: logins are limited per account and per address.
    #[tokio::test]
    async fn r_acc_6_logins_per_account_and_address() {
        let limits = Limits::new(settings());
        let here: IpAddr = [127, 0, 0, 1].into();
        let there: IpAddr = [10, 0, 0, 1].into();
        assert!(limits.login("Alice", Some(here)).await.is_ok());
        assert!(limits.login("alice", Some(there)).await.is_ok());
        assert!(limits.login("ALICE", Some([10, 0, 0, 2].into())).await.is_err(), "the account is limited");
        assert!(limits.login("bob", Some(here)).await.is_ok());
        assert!(limits.login("carol", Some(here)).await.is_err(), "the address is limited");
    }

    /// Buckets that never refill, counting the requests they answer; `None` is unreachable.
    #[derive(Default)]
    struct Counted {
        tokens: Mutex<HashMap<String, u32>>,
        requests: std::sync::atomic::AtomicUsize,
        down: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl SharedBuckets for Counted {
        async fn take(&self, key: &str, want: u32, rate: Rate) -> Result<Taken, BucketsUnavailable> {
            use std::sync::atomic::Ordering;
            if self.down.load(Ordering::Relaxed) {
                return Err(BucketsUnavailable("down".into()));
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let mut tokens = self.tokens.lock().expect("not poisoned");
            let left = tokens.entry(key.to_owned()).or_insert(rate.burst);
            let granted = want.min(*left);
            *left -= granted;
            Ok(if granted == 0 { Taken::Wait(rate.every) } else { Taken::Granted(granted) })
        }
    }

    /// R-MSG-5 across nodes: two nodes drawing on one shared bucket grant one allowance, not
    /// two; the refusal says how long to wait.
    #[tokio::test]
    async fn r_msg_5_nodes_share_one_allowance() {
        let buckets = Arc::new(Counted::default());
        let node = || Limits::new(settings()).shared_through(buckets.clone());
        let (a, b) = (node(), node());
        let alice = UserId::from("alice");
        assert!(a.message(&alice).await.is_ok());
        assert!(b.message(&alice).await.is_ok());
        assert!(a.message(&alice).await.is_ok());
        let refused = b.message(&alice).await.expect_err("the third of a burst of 3 was the last");
        assert_eq!((refused.code, refused.retry_after_secs), (ErrorCode::RateLimited, Some(1)));
        assert!(a.message(&UserId::from("bob")).await.is_ok(), "per user");
    }

    /// A busy sender takes a lease of a tenth of a second's worth at a time, spent here: one
    /// request to the shared buckets per lease, not per message.
    #[tokio::test]
    async fn r_msg_5_busy_senders_lease_their_allowance() {
        let buckets = Arc::new(Counted::default());
        let busy = LimitSettings { message_burst: 1000, message_per_second: 100, ..settings() };
        let limits = Limits::new(busy).shared_through(buckets.clone());
        let alice = UserId::from("alice");
        for _ in 0..30 {
            assert!(limits.message(&alice).await.is_ok());
        }
        assert_eq!(buckets.requests.load(std::sync::atomic::Ordering::Relaxed), 3, "leases of 10");
    }

    /// R-ACC-6 across nodes: login attempts on two nodes count against one allowance; when the
    /// shared buckets cannot be reached, each node's own limit still holds.
    #[tokio::test]
    async fn r_acc_6_logins_share_one_allowance_and_fall_back_to_the_node() {
        let buckets = Arc::new(Counted::default());
        let node = || Limits::new(settings()).shared_through(buckets.clone());
        let (a, b) = (node(), node());
        let here: IpAddr = [127, 0, 0, 1].into();
        assert!(a.login("alice", Some(here)).await.is_ok());
        assert!(b.login("alice", Some([10, 0, 0, 1].into())).await.is_ok());
        let refused =
            a.login("alice", Some([10, 0, 0, 2].into())).await.expect_err("the account's allowance is shared");
        assert_eq!(refused.message, LOGINS_FOR_ACCOUNT);

        buckets.down.store(true, std::sync::atomic::Ordering::Relaxed);
        let c = node();
        assert!(c.login("carol", None).await.is_ok());
        assert!(c.login("carol", None).await.is_ok());
        assert!(c.login("carol", None).await.is_err(), "this node's limit");
    }
}
