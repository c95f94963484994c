//! Load shedding: how late a worker runs its tasks. A probe task on each worker sleeps a short
//! tick and notes how much later than asked it woke up; on a saturated worker that lateness
//! grows with the work waiting. Past a bound (`CONCLAVE_SHED_LAG_MS`), the worker's sessions
//! refuse new messages with `rate_limited` at once instead of taking on a fan-out the machine
//! cannot carry, which would reach everyone seconds late (see the README's "Under overload").

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How often the probe measures.
const TICK: Duration = Duration::from_millis(20);

/// How late one worker runs its tasks.
#[derive(Debug)]
pub struct WorkerLoad {
    /// The lateness the probe measured last, in microseconds.
    late_micros: AtomicU64,
    /// Late by more than this: saturated. Zero: never.
    bound: Duration,
}

impl WorkerLoad {
    /// Measures the worker this is called on, as long as the returned handle lives.
    pub fn start(bound: Duration) -> Arc<Self> {
        let load = Arc::new(Self { late_micros: AtomicU64::new(0), bound });
        if !bound.is_zero() {
            actix_web::rt::spawn(probe(Arc::downgrade(&load)));
        }
        load
    }

    /// How late the worker ran its last probe.
    pub fn late(&self) -> Duration {
        Duration::from_micros(self.late_micros.load(Ordering::Relaxed))
    }

    /// Whether the worker is too busy to take on more work now.
    pub fn saturated(&self) -> bool {
        !self.bound.is_zero() && self.late() > self.bound
    }
}

async fn probe(load: Weak<WorkerLoad>) {
    loop {
        let asked = Instant::now();
        tokio::time::sleep(TICK).await;
        let late = asked.elapsed().saturating_sub(TICK);
        let Some(load) = load.upgrade() else {
            return;
        };
        load.late_micros.store(u64::try_from(late.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker blocked for longer than the bound is saturated until its probe runs on time again.
    #[actix_web::test]
    async fn a_blocked_worker_is_saturated_until_it_catches_up() {
        let load = WorkerLoad::start(Duration::from_millis(100));
        tokio::time::sleep(TICK * 3).await;
        assert!(!load.saturated(), "idle, {:?} late", load.late());
        // Everything else on this worker waits while one task holds the thread.
        std::thread::sleep(Duration::from_millis(300));
        let deadline = Instant::now() + Duration::from_secs(5);
        while !load.saturated() {
            assert!(Instant::now() < deadline, "the probe never saw the block");
            tokio::task::yield_now().await;
        }
        while load.saturated() {
            assert!(Instant::now() < deadline, "still saturated after the block");
            tokio::time::sleep(TICK).await;
        }
    }

    #[actix_web::test]
    async fn a_zero_bound_never_sheds() {
        let load = WorkerLoad::start(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(50));
        tokio::task::yield_now().await;
        assert!(!load.saturated());
    }
}
