//! Prometheus metrics (SPEC R-OPS-4) at `/metrics`: HTTP requests by route and status, WebSocket
//! connections, messages sent, WebSocket send times, deliveries, slow consumers dropped, job
//! runs. One registry per server (in `AppState`), no global state.

use crate::gateway::Connections;
use crate::live::hub::Hub;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use std::time::Duration;

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    pub messages_sent: IntCounter,
    /// Sends refused because the server was behind (`messages::shed`).
    pub sends_shed: IntCounter,
    /// `ws_send_seconds` by stage, resolved once: they are observed at every send.
    ws_send_queued: Histogram,
    ws_send_stored: Histogram,
    pub ws_sessions_opened: IntCounter,
    ws_connections: IntGauge,
    deliveries: IntCounter,
    slow_consumers_dropped: IntCounter,
    job_runs: IntCounterVec,
    cleanup_deleted: IntCounterVec,
    ws_open_connections: IntGauge,
    /// The gateway's connections, once it listens.
    connections: std::sync::OnceLock<Connections>,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("conclave".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by route pattern, method and status"),
            &["route", "method", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer HTTP requests, by route pattern")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            &["route", "method"],
        )?;
        let messages_sent = IntCounter::new("messages_sent_total", "Messages stored (REST and WebSocket)")?;
        let sends_shed =
            IntCounter::new("sends_shed_total", "Sends refused with rate_limited because the server was behind")?;
        let ws_send_duration = HistogramVec::new(
            HistogramOpts::new(
                "ws_send_seconds",
                "WebSocket sends: time from the frame's arrival until the session took it (queued), \
                 then until it was answered, stored and acked or refused (stored)",
            )
            .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]),
            &["stage"],
        )?;
        let ws_sessions_opened = IntCounter::new("ws_sessions_total", "WebSocket sessions authenticated")?;
        let ws_connections = IntGauge::new("ws_connections", "Live authenticated WebSocket sessions")?;
        let ws_open_connections = IntGauge::new(
            "ws_open_connections",
            "WebSocket connections whose tasks are alive (a session and a writer each), authenticated or not",
        )?;
        let deliveries = IntCounter::new("ws_deliveries_total", "Frames queued for WebSocket sessions")?;
        let slow_consumers_dropped =
            IntCounter::new("ws_slow_consumers_dropped_total", "Sessions closed because their queue was full")?;
        let job_runs = IntCounterVec::new(
            Opts::new("job_runs_total", "Background job runs, by job and outcome"),
            &["job", "outcome"],
        )?;
        let cleanup_deleted =
            IntCounterVec::new(Opts::new("cleanup_deleted_total", "What cleanup runs deleted, by kind"), &["kind"])?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(messages_sent.clone()))?;
        registry.register(Box::new(sends_shed.clone()))?;
        registry.register(Box::new(ws_send_duration.clone()))?;
        registry.register(Box::new(ws_sessions_opened.clone()))?;
        registry.register(Box::new(ws_connections.clone()))?;
        registry.register(Box::new(ws_open_connections.clone()))?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(slow_consumers_dropped.clone()))?;
        registry.register(Box::new(job_runs.clone()))?;
        registry.register(Box::new(cleanup_deleted.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            messages_sent,
            sends_shed,
            ws_send_queued: ws_send_duration.with_label_values(&["queued"]),
            ws_send_stored: ws_send_duration.with_label_values(&["stored"]),
            ws_sessions_opened,
            ws_connections,
            deliveries,
            slow_consumers_dropped,
            job_runs,
            cleanup_deleted,
            ws_open_connections,
            connections: std::sync::OnceLock::new(),
        })
    }

    /// Counts the gateway's open connections from now on.
    pub fn watch(&self, connections: Connections) {
        self.connections.set(connections).ok();
    }

    /// Counts one answered request. `route` is the matched pattern (`/api/rooms/{room_id}`), so
    /// that ids never become labels.
    pub fn http_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http_requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.http_duration.with_label_values(&[route, method]).observe(seconds);
    }

    /// Times one WebSocket send: how long its frame waited for the session, then how long the
    /// session waited for the store (at load, where a send's latency goes).
    pub fn ws_send(&self, queued: Duration, stored: Duration) {
        self.ws_send_queued.observe(queued.as_secs_f64());
        self.ws_send_stored.observe(stored.as_secs_f64());
    }

    /// Counts a successful run of `job` and what it deleted, by kind.
    pub fn job_succeeded(&self, job: &str, deleted: &[(&str, u64)]) {
        self.job_runs.with_label_values(&[job, "ok"]).inc();
        for (kind, count) in deleted {
            self.cleanup_deleted.with_label_values(&[kind]).inc_by(*count);
        }
    }

    /// Counts a failed run of `job`.
    pub fn job_failed(&self, job: &str) {
        self.job_runs.with_label_values(&[job, "failed"]).inc();
    }

    /// Counts a run of `job` left to the node that holds its lease (several nodes).
    pub fn job_held_elsewhere(&self, job: &str) {
        self.job_runs.with_label_values(&[job, "held_elsewhere"]).inc();
    }

    /// The text exposition, with the hub's counters brought up to date.
    pub fn render(&self, hub: &Hub) -> String {
        self.ws_connections.set(i64::try_from(hub.session_count()).unwrap_or(i64::MAX));
        let open = self.connections.get().map_or(0, Connections::open);
        self.ws_open_connections.set(i64::try_from(open).unwrap_or(i64::MAX));
        catch_up(&self.deliveries, hub.deliveries());
        catch_up(&self.slow_consumers_dropped, hub.dropped_slow());
        let mut text = Vec::new();
        match TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            Ok(()) => String::from_utf8(text).unwrap_or_default(),
            Err(error) => {
                tracing::warn!(%error, "cannot encode metrics");
                String::new()
            }
        }
    }
}

/// Moves a counter up to a total kept elsewhere (counters only go up).
fn catch_up(counter: &IntCounter, total: u64) {
    let current = counter.get();
    if total > current {
        counter.inc_by(total - current);
    }
}
