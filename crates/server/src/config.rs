//! Configuration: every setting is an environment variable and a command-line flag
//! (SPEC "Configuration", R-OPS-4), with defaults that run on one machine with no setup.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "conclave",
    version,
    about = "Conclave: secure real-time chat (REST API, WebSocket gateway, web client)"
)]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address and port to listen on.
    #[arg(long, env = "CONCLAVE_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    /// Folder for the embedded database and generated secrets.
    #[arg(long, env = "CONCLAVE_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// MongoDB connection string, e.g. `mongodb://mongo:27017/conclave?replicaSet=rs0`. Unset: the
    /// embedded SQLite store in the data folder. The database is the one the URI names
    /// (`conclave` when it names none); it must be a replica set (one node will do), because
    /// Conclave uses transactions.
    #[arg(long, env = "CONCLAVE_MONGODB_URI", hide_env_values = true, global = true)]
    pub mongodb_uri: Option<String>,

    /// Redis URL (`redis://host:6379`) for running several nodes: live events reach the
    /// sessions of every node through its pub/sub. Unset: one node, in-process. Needs the
    /// MongoDB store (the nodes share it); every node must have the same key file and JWT secret.
    #[arg(long, env = "CONCLAVE_REDIS_URL", hide_env_values = true, global = true)]
    pub redis_url: Option<String>,

    /// With several nodes: seconds after which a node that stopped being heard (killed, cut
    /// off) is taken for gone and its users for offline; nodes say who is online every third.
    #[arg(long, env = "CONCLAVE_PRESENCE_TTL_SECS", default_value_t = 60, global = true)]
    pub presence_ttl_secs: u64,

    /// Folder of the built web client (`index.html` and its assets), served at `/`.
    #[arg(long, env = "CONCLAVE_CLIENT_DIR", default_value = "frontend/dist", global = true)]
    pub client_dir: PathBuf,

    /// Secret that signs access tokens (at least 32 bytes). Unset: a random secret is created
    /// in the data folder (`jwt.secret`, mode 0600) and reused on every start.
    #[arg(long, env = "CONCLAVE_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// The server's key file: the ML-KEM-768 key pair that wraps every room's data key
    /// (encryption at rest). Unset: `server.key` in the data folder, created (mode 0600) on the
    /// first start. Back it up apart from the database: without it no message can be read, and
    /// with the database alone none can.
    #[arg(long, env = "CONCLAVE_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,

    /// Tracing filter, e.g. `info` or `conclave_server=debug,actix_web=info`.
    #[arg(long, env = "CONCLAVE_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log format.
    #[arg(long, env = "CONCLAVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "CONCLAVE_ACCESS_TOKEN_TTL_SECS", default_value_t = 900, global = true)]
    pub access_token_ttl_secs: u64,

    /// Lifetime of refresh tokens, in days.
    #[arg(long, env = "CONCLAVE_REFRESH_TOKEN_TTL_DAYS", default_value_t = 30, global = true)]
    pub refresh_token_ttl_days: u32,

    /// Largest request body accepted, in bytes (JSON bodies).
    #[arg(long, env = "CONCLAVE_MAX_BODY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Messages a user may send at once before the sustained rate applies (REST and WebSocket).
    #[arg(long, env = "CONCLAVE_MESSAGE_BURST", default_value_t = 20, global = true)]
    pub message_burst: u32,

    /// Messages a user may send per second, sustained.
    #[arg(long, env = "CONCLAVE_MESSAGE_PER_SECOND", default_value_t = 5, global = true)]
    pub message_per_second: u32,

    /// Login attempts at once, per account and per client address.
    #[arg(long, env = "CONCLAVE_LOGIN_BURST", default_value_t = 10, global = true)]
    pub login_burst: u32,

    /// Login attempts per minute, sustained, per account and per client address.
    #[arg(long, env = "CONCLAVE_LOGIN_PER_MINUTE", default_value_t = 10, global = true)]
    pub login_per_minute: u32,

    /// Proxies (load balancers) in front of Conclave, as addresses or CIDRs separated by commas
    /// (`10.0.0.0/8,192.168.1.5`). A request from one of them has its client address taken from
    /// `X-Forwarded-For` (the nearest address not itself a trusted proxy); from anyone else,
    /// the header is ignored. Unset: the socket's address, always.
    #[arg(long, env = "CONCLAVE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Frames that may wait for one WebSocket connection before it counts as too slow and is
    /// disconnected (it can reconnect and resume).
    #[arg(long, env = "CONCLAVE_WS_QUEUE", default_value_t = 256, global = true)]
    pub ws_queue: usize,

    /// Milliseconds of waiting that make a WebSocket send late: once every send of the last
    /// second waited longer for its turn (or a worker thread runs this late), sends that waited
    /// that long are refused with `rate_limited` (try again in a second) instead of being
    /// stored and acked late. 0: never shed.
    #[arg(long, env = "CONCLAVE_SHED_LAG_MS", default_value_t = 250, global = true)]
    pub shed_lag_ms: u64,

    /// Connections (HTTP and WebSocket) this node holds at most, shared among its worker
    /// threads; past it, new connections wait to be accepted.
    #[arg(long, env = "CONCLAVE_MAX_CONNECTIONS", default_value_t = 100_000, global = true)]
    pub max_connections: usize,

    /// Worker threads that serve connections (HTTP and WebSocket). Unset: one per CPU core.
    /// Fewer leave cores to what shares the machine (the embedded store's send thread runs
    /// beside them; see "Benchmark" in the README).
    #[arg(long, env = "CONCLAVE_WORKERS", global = true)]
    pub workers: Option<std::num::NonZeroUsize>,

    /// Seconds a WebSocket connection has to authenticate.
    #[arg(long, env = "CONCLAVE_WS_AUTH_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub ws_auth_timeout_secs: u64,

    /// Seconds a stop (SIGTERM, SIGINT) may take: gateway sessions close, requests in flight
    /// finish and buffered writes are stored within it, even when the store is unreachable
    /// (what could not be stored is logged).
    #[arg(long, env = "CONCLAVE_STOP_GRACE_SECS", default_value_t = 10, global = true)]
    pub stop_grace_secs: u64,

    /// Seconds a WebSocket client may take nothing while frames wait for it before its
    /// connection is ended (it can reconnect and resume).
    #[arg(long, env = "CONCLAVE_WS_DRAIN_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub ws_drain_timeout_secs: u64,

    /// Seconds between the server's WebSocket pings; a connection silent for three of them is closed.
    #[arg(long, env = "CONCLAVE_WS_HEARTBEAT_SECS", default_value_t = 20, global = true)]
    pub ws_heartbeat_secs: u64,

    /// The largest attachment accepted, in bytes (10 MiB by default).
    #[arg(long, env = "CONCLAVE_MAX_ATTACHMENT_BYTES", default_value_t = conclave_domain::DEFAULT_MAX_ATTACHMENT_BYTES, global = true)]
    pub max_attachment_bytes: usize,

    /// Origins allowed to call the API from a browser (CORS), comma-separated, e.g.
    /// `https://chat.example.com`. The server's own origin is always allowed; unset: no other.
    #[arg(long, env = "CONCLAVE_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Send `Strict-Transport-Security` (set it when Conclave is served over HTTPS, e.g. behind
    /// a TLS proxy).
    #[arg(long, env = "CONCLAVE_HSTS", default_value_t = false, global = true)]
    pub hsts: bool,

    /// Milliseconds a buffered write (SPEC R-OPS-3: declines, read markers, last seen) may wait
    /// before its batch is stored.
    #[arg(long, env = "CONCLAVE_WRITE_BEHIND_MS", default_value_t = 200, global = true)]
    pub write_behind_ms: u64,

    /// Buffered writes stored together at most (a full batch is stored at once).
    #[arg(long, env = "CONCLAVE_WRITE_BEHIND_BATCH", default_value_t = 256, global = true)]
    pub write_behind_batch: usize,

    /// Seconds between cleanup runs (SPEC R-OPS-2); one also runs at start.
    #[arg(long, env = "CONCLAVE_CLEANUP_INTERVAL_SECS", default_value_t = 3600, global = true)]
    pub cleanup_interval_secs: u64,

    /// Days that terminated rooms, previous-room log entries and read notifications are kept.
    #[arg(long, env = "CONCLAVE_RETENTION_DAYS", default_value_t = 30, global = true)]
    pub retention_days: u32,
}

impl Config {
    /// The embedded store's database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("conclave.db")
    }

    /// The server's key file: `CONCLAVE_KEY_FILE`, else `server.key` in the data folder.
    pub fn key_file_path(&self) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| self.data_dir.join("server.key"))
    }

    /// The file of the secret that signs access tokens, when `CONCLAVE_JWT_SECRET` is unset.
    pub fn jwt_secret_path(&self) -> PathBuf {
        self.data_dir.join("jwt.secret")
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Print the OpenAPI document and exit.
    Openapi,
    /// Copy the embedded store, its key file and the token secret into DIR (new or empty),
    /// with a manifest. Safe while the server runs: the copy is the database at one moment.
    Backup {
        /// The folder to write the backup to.
        dir: PathBuf,
    },
    /// Put a backup made by `conclave backup` into the data folder (which must hold no
    /// database), after checking every file against the manifest and the key against the
    /// database. Run it with the server stopped.
    Restore {
        /// The backup's folder.
        dir: PathBuf,
    },
    /// Re-wrap every room's data key under a new key pair and replace the key file, with every
    /// server stopped. Interrupted, it refuses the server a start until it is run again.
    RotateKey {
        /// Print progress every this many keys (0: never).
        #[arg(long, default_value_t = 1000)]
        report_every: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Timing of the gateway.
#[derive(Debug, Clone, Copy)]
pub struct GatewaySettings {
    /// A connection that has not authenticated by then is closed (10 s per SPEC R-WS-1).
    pub auth_timeout: Duration,
    /// How often the server pings.
    pub heartbeat: Duration,
    /// A connection silent for this long is dead (R-WS-5).
    pub idle_timeout: Duration,
    /// Frames that may wait for one connection before it counts as too slow (R-WS-4).
    pub queue: usize,
    /// A connection that takes nothing for this long while frames wait is too slow (R-WS-4).
    pub drain_timeout: Duration,
    /// Sends waiting this long for their turn, or a worker running this late, are refused (see
    /// `session::Waits` and `gateway::pressure`); zero: never.
    pub shed_lag: Duration,
}

/// A trusted proxy: a CIDR (`10.0.0.0/8`) or a single address (`192.168.1.5`).
fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a CIDR such as 10.0.0.0/8"))
}
