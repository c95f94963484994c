//! Configuration: every setting is an environment variable and a command-line flag
//! (SPEC "Configuration", R-OPS-4), with defaults that run on one machine with no setup.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
    #[arg(
        long,
        env = "CONCLAVE_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Folder for the embedded database and generated secrets.
    #[arg(
        long,
        env = "CONCLAVE_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Secret that signs access tokens (at least 32 bytes). Unset: a random secret is created
    /// in the data folder (`jwt.secret`, mode 0600) and reused on every start.
    #[arg(
        long,
        env = "CONCLAVE_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,

    /// Tracing filter, e.g. `info` or `conclave_server=debug,actix_web=info`.
    #[arg(long, env = "CONCLAVE_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log format.
    #[arg(long, env = "CONCLAVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Lifetime of access tokens, in seconds.
    #[arg(
        long,
        env = "CONCLAVE_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl_secs: u64,

    /// Lifetime of refresh tokens, in days.
    #[arg(
        long,
        env = "CONCLAVE_REFRESH_TOKEN_TTL_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub refresh_token_ttl_days: u32,

    /// Largest request body accepted, in bytes (JSON bodies).
    #[arg(long, env = "CONCLAVE_MAX_BODY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Print the OpenAPI document and exit.
    Openapi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}
