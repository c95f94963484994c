//! Rate limits (SPEC R-MSG-5, R-ACC-6) with `governor`: messages per user, logins per account
//! and per client address. A refused action answers `rate_limited` with the time to wait.

use crate::app::error::ApiError;
use conclave_protocol::UserId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

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
}

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
        }
    }

    /// One message by `user` (R-MSG-5).
    pub fn message(&self, user: &UserId) -> Result<(), ApiError> {
        self.messages.check_key(user).map_err(|not_until| {
            limited("you are sending messages too fast", not_until.wait_time_from(self.clock.now()))
        })
    }

    /// One login attempt for `username` from `address` (R-ACC-6).
    pub fn login(&self, username: &str, address: Option<IpAddr>) -> Result<(), ApiError> {
        let now = || self.clock.now();
        if let Some(address) = address {
            self.login_addresses
                .check_key(&address)
                .map_err(|n| limited("too many login attempts from your address", n.wait_time_from(now())))?;
        }
        self.login_accounts
            .check_key(&username.trim().to_lowercase())
            .map_err(|n| limited("too many login attempts for this account", n.wait_time_from(now())))
    }

    /// Forgets keys that have been quiet long enough to be back at a full burst.
    pub fn forget_idle(&self) {
        self.messages.retain_recent();
        self.login_accounts.retain_recent();
        self.login_addresses.retain_recent();
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
    #[test]
    fn r_msg_5_message_burst_then_refusal() {
        let limits = Limits::new(settings());
        let alice = UserId::from("alice");
        for _ in 0..3 {
            assert!(limits.message(&alice).is_ok());
        }
        let refused = limits.message(&alice).expect_err("limited");
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert_eq!(refused.retry_after_secs, Some(1));
        assert!(limits.message(&UserId::from("bob")).is_ok(), "per user");
    }

    /// R-ACC-6: logins are limited per account and per address.
    #[test]
    fn r_acc_6_logins_per_account_and_address() {
        let limits = Limits::new(settings());
        let here: IpAddr = [127, 0, 0, 1].into();
        let there: IpAddr = [10, 0, 0, 1].into();
        assert!(limits.login("Alice", Some(here)).is_ok());
        assert!(limits.login("alice", Some(there)).is_ok());
        assert!(limits.login("ALICE", Some([10, 0, 0, 2].into())).is_err(), "the account is limited");
        assert!(limits.login("bob", Some(here)).is_ok());
        assert!(limits.login("carol", Some(here)).is_err(), "the address is limited");
    }
}
