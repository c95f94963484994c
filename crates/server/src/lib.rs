//! The Conclave server: one actix-web application serving the REST API, its OpenAPI document,
//! and (in later stages) the WebSocket gateway and the web client.

pub mod app;
pub mod backup;
pub mod config;
pub mod data_lock;
pub mod gateway;
pub mod http;
pub mod jobs;
pub mod key_rotation;
pub mod live;
pub mod metrics;
pub mod middleware;
pub mod shared;
pub mod telemetry;

use crate::app::limits::{LimitSettings, Limits};
use crate::app::passwords::Passwords;
use crate::app::read_your_writes::ReadYourWrites;
use crate::app::write_behind::{WriteBehind, WriteBehindSettings};
use crate::app::{AppState, Settings};
use crate::config::Config;
use crate::config::GatewaySettings;
use crate::live::hub::{Bus, Hub};
use crate::metrics::Metrics;
use actix_codec::Framed;
use actix_http::{HttpService, KeepAlive, Request, h1};
use actix_service::{IntoServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_web::dev::AppConfig;
use actix_web::{App, web};
use conclave_crypto::{AccessTokens, PasswordHasher, ServerKey, Vault, load_or_create_secret};
use conclave_store::{MaintenanceStore, MongoStore, SqliteStore, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data folder {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    DataLock(#[from] data_lock::LockError),
    #[error(transparent)]
    Secret(#[from] conclave_crypto::SecretError),
    #[error("CONCLAVE_JWT_SECRET must be at least 32 bytes long")]
    ShortJwtSecret,
    #[error("cannot use the server key file: {0}")]
    KeyFile(#[from] conclave_crypto::KeyFileError),
    #[error(
        "CONCLAVE_MAX_ATTACHMENT_BYTES is {0}, but MongoDB keeps an attachment in one document of at most \
         16 MiB: use at most {MAX_MONGODB_ATTACHMENT_BYTES}"
    )]
    AttachmentTooLargeForMongoDb(usize),
    #[error("cannot open the store: {0}")]
    Store(#[from] conclave_store::StoreError),
    #[error("a key rotation is under way ({0}): run `conclave rotate-key` again to finish it before starting")]
    RotationUnderway(String),
    #[error(transparent)]
    Password(#[from] conclave_crypto::PasswordError),
    #[error("cannot set up metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error(
        "CONCLAVE_REDIS_URL runs several nodes, which must share one store: set CONCLAVE_MONGODB_URI too \
         (the embedded store belongs to one node)"
    )]
    RedisWithoutMongoDb,
    #[error(transparent)]
    Redis(#[from] shared::RedisUnreachable),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// The largest attachment the MongoDB store can keep: a document holds at most 16 MiB, and an
/// attachment's document also holds its sealed name, ids and the sealing overhead.
pub const MAX_MONGODB_ATTACHMENT_BYTES: usize = 15 * 1024 * 1024;

/// Opens the store the configuration asks for: MongoDB when a URI is set, else the embedded
/// SQLite file in the data folder. Either way its schema is brought up to date first.
/// `vault` holds the server key that wraps the rooms' data keys (encryption at rest).
pub(crate) async fn open_store(config: &Config, vault: Arc<Vault>) -> Result<Arc<dyn Store>, StartError> {
    match &config.mongodb_uri {
        Some(_) if config.max_attachment_bytes > MAX_MONGODB_ATTACHMENT_BYTES => {
            Err(StartError::AttachmentTooLargeForMongoDb(config.max_attachment_bytes))
        }
        Some(uri) => {
            let store = MongoStore::connect(uri, vault).await?;
            tracing::info!(database = store.database_name(), "store: MongoDB");
            Ok(Arc::new(store))
        }
        None => {
            let path = config.database_path();
            // A batch of sends is published with the writers' wake-ups held until its end.
            let store = SqliteStore::open_with(&path, vault, Arc::new(|run| live::outbox::batched(run)))?;
            tracing::info!(path = %path.display(), "store: embedded SQLite");
            Ok(Arc::new(store))
        }
    }
}

/// Builds the shared state from the configuration: the store, the hasher and the token keys;
/// and the leases of the one-node-at-a-time jobs (several nodes: in Redis, through the same
/// connection as the rate-limit buckets).
pub async fn build_state(config: &Config) -> Result<(AppState, Arc<dyn shared::leases::Leases>), StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::DataDir(config.data_dir.display().to_string(), e))?;
    let secret = match &config.jwt_secret {
        Some(secret) if secret.len() >= 32 => secret.as_bytes().to_vec(),
        Some(_) => return Err(StartError::ShortJwtSecret),
        None => load_or_create_secret(&config.jwt_secret_path())?,
    };
    let key_file = config.key_file_path();
    let rotating = key_rotation::next_key_path(&key_file);
    if rotating.exists() {
        return Err(StartError::RotationUnderway(format!("{} exists", rotating.display())));
    }
    let vault = Arc::new(Vault::new(ServerKey::load_or_create(&key_file)?));
    let store = open_store(config, vault).await?;
    // On a database several servers share, the rotation may run on another host.
    if store.key_rotation_under_way().await? {
        return Err(StartError::RotationUnderway("the database says so".into()));
    }
    let hub = Arc::new(Hub::new());
    let bus: Arc<dyn Bus> = match (&config.redis_url, &config.mongodb_uri) {
        (None, _) => hub.clone(),
        (Some(_), None) => return Err(StartError::RedisWithoutMongoDb),
        (Some(url), Some(_)) => {
            let lifetime = Duration::from_secs(config.presence_ttl_secs.max(1));
            live::redis_bus::connect(url, Arc::clone(&hub), lifetime).await?
        }
    };
    // Buffered writes go straight to the store, and the notices they store are told live; the
    // application reads through them.
    let maintenance: Arc<dyn MaintenanceStore> = store.clone();
    let telling = Arc::clone(&bus);
    let deferred = Arc::new(WriteBehind::start(
        maintenance,
        WriteBehindSettings {
            flush_after: Duration::from_millis(config.write_behind_ms.max(1)),
            batch_size: config.write_behind_batch.max(1),
            capacity: config.write_behind_batch.max(1) * 32,
        },
        Box::new(move |stored| app::notify::push(telling.as_ref(), stored)),
    ));
    let store: Arc<dyn Store> = Arc::new(ReadYourWrites::new(store, Arc::clone(&deferred)));
    let limits = Limits::new(LimitSettings {
        message_burst: config.message_burst,
        message_per_second: config.message_per_second,
        login_burst: config.login_burst,
        login_per_minute: config.login_per_minute,
    });
    // Several nodes draw on one allowance per user, account and address, and run the cleanup
    // on the node holding its lease.
    let (limits, leases): (Limits, Arc<dyn shared::leases::Leases>) = match &config.redis_url {
        Some(url) => {
            let redis = shared::connect(url).await?;
            let buckets = Arc::new(shared::buckets::RedisBuckets::new(redis.clone()));
            (limits.shared_through(buckets), Arc::new(shared::leases::RedisLeases::new(redis)))
        }
        None => (limits, Arc::new(shared::leases::OneNode)),
    };
    let heartbeat = Duration::from_secs(config.ws_heartbeat_secs.max(1));
    let state = AppState {
        store,
        passwords: Arc::new(Passwords::new(PasswordHasher::new()?)),
        tokens: AccessTokens::new(&secret, config.access_token_ttl_secs),
        bus,
        hub,
        limits: Arc::new(limits),
        metrics: Arc::new(Metrics::new()?),
        deferred,
        stopping: CancellationToken::new(),
        settings: Arc::new(Settings {
            refresh_token_ttl_days: config.refresh_token_ttl_days,
            max_attachment_bytes: config.max_attachment_bytes,
            trusted_proxies: config.trusted_proxies.clone(),
            gateway: GatewaySettings {
                auth_timeout: Duration::from_secs(config.ws_auth_timeout_secs.max(1)),
                heartbeat,
                idle_timeout: heartbeat * 3,
                queue: config.ws_queue.max(1),
                drain_timeout: Duration::from_secs(config.ws_drain_timeout_secs.max(1)),
                shed_lag: Duration::from_millis(config.shed_lag_ms),
            },
        }),
    };
    Ok((state, leases))
}

/// Runs the server until it is stopped (SIGINT or SIGTERM stop it gracefully).
pub async fn serve(config: Config) -> Result<(), StartError> {
    // Held until the server has stopped: one process on an embedded store's folder.
    let _lock = data_lock::lock(&config)?;
    let (state, leases) = build_state(&config).await?;
    let state = web::Data::new(state);
    // Several nodes: the users of a node that went silent are offline, and this node's sessions
    // in their rooms are told.
    let lost = state.clone();
    state.bus.when_presence_heard(Box::new(move |users, what| {
        let state = lost.clone();
        tokio::spawn(async move { app::presence::heard(&state, users, what).await });
    }));
    let reader = state.clone();
    state.bus.when_missing(Box::new(move |room, after| {
        let state = reader.clone();
        Box::pin(async move { app::messages::missed(&state, &room, after).await })
    }));
    let stopping = state.stopping.clone();
    let deferred = Arc::clone(&state.deferred);
    let limits = Arc::clone(&state.limits);
    actix_web::rt::spawn(async move {
        // Rate-limit keys of users who went quiet are forgotten, so memory stays bounded.
        let mut every_minute = actix_web::rt::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            limits.forget_idle();
        }
    });
    jobs::spawn_cleanup(
        &state,
        leases,
        Duration::from_secs(config.cleanup_interval_secs.max(1)),
        chrono::Duration::days(i64::from(config.retention_days)),
    );
    let grace = Duration::from_secs(config.stop_grace_secs.max(1));
    let max_body = config.max_body_bytes;
    let web_policy = middleware::WebPolicy::new(&config.cors_origins, config.hsts);
    let client_dir = config.client_dir.clone();
    if client_dir.join("index.html").is_file() {
        tracing::info!(client_dir = %client_dir.display(), "serving the web client");
    } else {
        tracing::warn!(client_dir = %client_dir.display(), "no web client there: / explains how to build one");
    }
    let workers =
        config.workers.or_else(|| std::thread::available_parallelism().ok()).map_or(1, std::num::NonZeroUsize::get);
    let gateway_state = state.clone().into_inner();
    let app = move || {
        let client_dir = client_dir.clone();
        let metrics = Arc::clone(&state.metrics);
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::QueryConfig::default().error_handler(|error, _| http::invalid_query(error)))
            .app_data(web::PathConfig::default().error_handler(|error, _| http::invalid_query(error)))
            .wrap(web_policy.cors())
            .wrap(web_policy.security_headers())
            .wrap(actix_web::middleware::from_fn(middleware::request_id))
            .wrap(TracingLogger::default())
            .wrap(actix_web::middleware::from_fn(move |req, next| middleware::count(Arc::clone(&metrics), req, next)))
            .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", http::ApiDoc::openapi()))
            .configure(http::routes)
            .configure(move |cfg| {
                if client_dir.is_dir() {
                    cfg.service(http::client::files(&client_dir));
                }
            })
            .default_service(web::to(http::client::fallback))
    };
    let connections = gateway::Connections::new(config.max_connections);
    gateway_state.metrics.watch(connections.clone());
    let mut builder = actix_server::Server::build()
        .workers(workers)
        // Connections over this, per worker, wait to be accepted (WebSocket ones count until
        // the gateway takes them over, and then against the same bound in the gateway).
        .max_concurrent_connections(config.max_connections.div_ceil(workers).max(1))
        // Stopping is ours (see below): gateway sessions must close before the graceful wait starts.
        .disable_signals()
        // Requests in flight get half the stop's grace (the gateway and the buffer the rest).
        .shutdown_timeout((grace / 2).as_secs().max(1));
    let shutdown = builder.graceful_shutdown_signal();
    let listeners = listen(&config.bind)?;
    let mut addresses = Vec::new();
    for listener in listeners {
        let address = listener.local_addr().map_err(|e| StartError::Bind(config.bind.clone(), e))?;
        addresses.push(address);
        let (app, shutdown, gateway_state, connections) =
            (app.clone(), shutdown.clone(), Arc::clone(&gateway_state), connections.clone());
        let serve_connection = move || {
            let shutdown = shutdown.clone();
            let (gateway_state, connections) = (Arc::clone(&gateway_state), connections.clone());
            // Created on each worker thread: measures that worker.
            let load = gateway::pressure::WorkerLoad::start(gateway_state.settings.gateway.shed_lag);
            // What actix-web's `HttpServer` builds, with one addition: WebSocket upgrades leave
            // the HTTP layer with their socket (see `gateway::accept`).
            HttpService::build()
                .keep_alive(KeepAlive::default())
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                // Chat frames are small: send them at once rather than wait for Nagle's algorithm.
                .tcp_nodelay(true)
                .local_addr(address)
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .upgrade(fn_service(move |(request, framed): (Request, Framed<TcpStream, h1::Codec>)| {
                    gateway::accept(Arc::clone(&gateway_state), connections.clone(), Arc::clone(&load), request, framed)
                }))
                .finish(map_config(
                    app().into_factory().map_err(|error: actix_web::Error| error.error_response()),
                    |()| AppConfig::default(),
                ))
                .tcp()
        };
        builder = builder
            .listen("conclave", listener, serve_connection)
            .map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    }
    for address in addresses {
        // A line on stdout that scripts and tests wait for; the port is the real one when 0 was asked.
        println!("conclave listening on http://{address}");
        tracing::info!(%address, data_dir = %config.data_dir.display(), "conclave listening");
    }
    let server = builder.run();
    let handle = server.handle();
    let (stopped_at, mut stop_began) = tokio::sync::oneshot::channel();
    actix_web::rt::spawn(async move {
        stop_signal().await;
        tracing::info!(?grace, "stopping: closing gateway sessions, finishing requests in flight");
        stopped_at.send(tokio::time::Instant::now()).ok();
        stopping.cancel();
        if !connections.wait_for_all((grace / 2).min(Duration::from_secs(5))).await {
            tracing::warn!(open = connections.open(), "some gateway connections did not close in time");
        }
        handle.stop(true).await;
    });
    let served = server.await.map_err(StartError::Serve);
    // Requests and sessions are done: store what is still buffered before the process ends,
    // within what is left of the grace (a second at least).
    let began = stop_began.try_recv().unwrap_or_else(|_| tokio::time::Instant::now());
    let deadline = (began + grace).max(tokio::time::Instant::now() + Duration::from_secs(1));
    deferred.close(deadline).await;
    tracing::info!("stopped");
    served
}

/// Listening sockets for every address `bind` names (as actix-web binds them: address reuse,
/// a backlog of 4,096 connections waiting to be accepted).
fn listen(bind: &str) -> Result<Vec<std::net::TcpListener>, StartError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let failed = |error| StartError::Bind(bind.to_owned(), error);
    let mut listeners = Vec::new();
    let mut last_error = None;
    for address in std::net::ToSocketAddrs::to_socket_addrs(bind).map_err(failed)? {
        let listener =
            Socket::new(Domain::for_address(address), Type::STREAM, Some(Protocol::TCP)).and_then(|socket| {
                socket.set_reuse_address(true)?;
                socket.bind(&address.into())?;
                socket.listen(4096)?;
                Ok(std::net::TcpListener::from(socket))
            });
        match listener {
            Ok(listener) => listeners.push(listener),
            Err(error) => last_error = Some(error),
        }
    }
    match last_error {
        Some(error) if listeners.is_empty() => Err(failed(error)),
        None if listeners.is_empty() => {
            Err(failed(std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "the address resolves to nothing")))
        }
        _ => Ok(listeners),
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; stop the server with SIGINT");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
