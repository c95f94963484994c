//! Background jobs (SPEC R-OPS-2): the cleanup run, every `CONCLAVE_CLEANUP_INTERVAL_SECS`
//! and once at start. Each run is logged with what it deleted.

use crate::app::AppState;
use crate::shared::leases::Leases;
use chrono::{DateTime, Duration, Utc};
use conclave_store::{Store, StoreResult};
use std::sync::Arc;

/// How long an upload may wait to be sent with a message before cleanup deletes it.
pub const UNSENT_ATTACHMENT_LIFETIME: Duration = Duration::days(1);

/// What one cleanup run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    pub rooms: usize,
    pub room_log_entries: u64,
    pub read_notifications: u64,
    pub refresh_tokens: u64,
    pub unsent_attachments: u64,
}

impl CleanupReport {
    /// What was deleted, by kind, as metrics label them.
    pub fn counts(&self) -> [(&'static str, u64); 5] {
        [
            ("rooms", u64::try_from(self.rooms).unwrap_or(u64::MAX)),
            ("room_log_entries", self.room_log_entries),
            ("read_notifications", self.read_notifications),
            ("refresh_tokens", self.refresh_tokens),
            ("unsent_attachments", self.unsent_attachments),
        ]
    }
}

/// One cleanup run at `now`: rooms terminated more than `retention` ago (and live rooms left
/// without members), room-log entries and read notifications older than `retention`, and
/// expired refresh tokens. Ban records are kept.
pub async fn cleanup(store: &dyn Store, retention: Duration, now: DateTime<Utc>) -> StoreResult<CleanupReport> {
    let cutoff = now - retention;
    Ok(CleanupReport {
        rooms: store.delete_ended_rooms(cutoff).await?.len(),
        room_log_entries: store.delete_room_log_before(cutoff).await?,
        read_notifications: store.delete_read_notifications_before(cutoff).await?,
        refresh_tokens: store.delete_expired_refresh_tokens(now).await?,
        unsent_attachments: store.delete_unsent_attachments_before(now - UNSENT_ATTACHMENT_LIFETIME).await?,
    })
}

/// Runs [`cleanup`] at once and then every `interval`, until the server stops, on the node that
/// holds the cleanup lease (one node holds it as long as it keeps running: three intervals).
pub fn spawn_cleanup(state: &AppState, leases: Arc<dyn Leases>, interval: std::time::Duration, retention: Duration) {
    let store: Arc<dyn Store> = Arc::clone(&state.store);
    let metrics = Arc::clone(&state.metrics);
    let stopping = state.stopping.clone();
    actix_web::rt::spawn(async move {
        let mut ticks = actix_web::rt::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stopping.cancelled() => break,
                _ = ticks.tick() => {}
            }
            if !leases.hold("cleanup", interval * 3).await {
                metrics.job_held_elsewhere("cleanup");
                continue;
            }
            let started = std::time::Instant::now();
            match cleanup(&*store, retention, Utc::now()).await {
                Ok(report) => {
                    metrics.job_succeeded("cleanup", &report.counts());
                    tracing::info!(
                        job = "cleanup",
                        rooms = report.rooms,
                        room_log_entries = report.room_log_entries,
                        read_notifications = report.read_notifications,
                        refresh_tokens = report.refresh_tokens,
                        unsent_attachments = report.unsent_attachments,
                        elapsed_ms = started.elapsed().as_millis(),
                        "cleanup finished"
                    );
                }
                Err(error) => {
                    metrics.job_failed("cleanup");
                    tracing::warn!(job = "cleanup", %error, "cleanup failed; it runs again at the next interval")
                }
            }
        }
    });
}
