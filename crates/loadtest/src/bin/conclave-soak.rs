//! `conclave-soak`: churn against one running Conclave for a while (connections opened and
//! dropped, resumes, sends over both transports, typing, joins and leaves, uploads, token
//! refreshes), a line of the server's resident memory, file descriptors, threads, sessions and
//! gateway connections (each a session task and a writer task) every report interval, and a verdict: after the churn stops and every session is gone,
//! the server must be back where it was after the warm-up (none of them grown past a bound).
//! Exit status 1 when one grew. `scripts/soak.sh` runs it against a fresh server.

#![allow(
    clippy::as_conversions,
    reason = "statistics: KiB become MiB as floats for people to read, where rounding is the point"
)]

use clap::Parser;
use conclave_load::{Error, Session, account, process_usage, session};
use conclave_protocol::{ClientFrame, RoomId, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Debug, Parser)]
#[command(name = "conclave-soak", about = "Churn against one Conclave server; fails when it does not come back")]
struct Args {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The server's process id (its memory, descriptors and threads are read from /proc).
    #[arg(long)]
    server_pid: u32,
    /// How long to churn, in seconds (a sixth of it is the warm-up).
    #[arg(long, default_value_t = 1800)]
    seconds: u64,
    /// Seconds between report lines.
    #[arg(long, default_value_t = 60)]
    report_secs: u64,
    /// Users churning at once.
    #[arg(long, default_value_t = 24)]
    users: usize,
    /// Open rooms they share.
    #[arg(long, default_value_t = 4)]
    rooms: usize,
}

/// What the churn did, counted.
#[derive(Default)]
struct Done {
    connections: AtomicU64,
    resumes: AtomicU64,
    messages: AtomicU64,
    uploads: AtomicU64,
    joins: AtomicU64,
    refreshes: AtomicU64,
    /// Messages the listening sockets received.
    delivered: AtomicU64,
}

impl Done {
    fn counts(&self) -> [u64; 6] {
        [&self.connections, &self.resumes, &self.messages, &self.uploads, &self.joins, &self.refreshes]
            .map(|n| n.load(Ordering::Relaxed))
    }
}

/// A one-pixel PNG: the smallest upload the server takes as an image.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// The server's state at one moment.
#[derive(Debug, Clone, Copy)]
struct Sample {
    rss_kib: u64,
    fds: u64,
    threads: u64,
    sessions: u64,
    /// Gateway connections alive, authenticated or not: two tasks each.
    connections: u64,
}

impl Sample {
    async fn take(http: &reqwest::Client, url: &str, pid: u32) -> Result<Sample, Error> {
        let usage = process_usage(pid).ok_or("the server process is gone")?;
        let metrics = http.get(format!("{url}/metrics")).send().await?.text().await?;
        let gauge = |name: &str| -> u64 {
            metrics
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
                .unwrap_or(0)
        };
        Ok(Sample {
            rss_kib: usage.rss_kib,
            fds: usage.fds,
            threads: usage.threads,
            sessions: gauge("conclave_ws_connections"),
            connections: gauge("conclave_ws_open_connections"),
        })
    }

    fn line(&self) -> String {
        format!(
            "rss {:6.1} MiB | fds {:4} | threads {:3} | sessions {:3} | connections {:3}",
            self.rss_kib as f64 / 1024.0,
            self.fds,
            self.threads,
            self.sessions,
            self.connections
        )
    }
}

/// A socket that stays for the whole churn, as an open tab would, taking every message of the
/// user's rooms; closed when `stop` is set.
async fn listen(ws_url: String, token: String, stop: Arc<AtomicBool>) -> Result<u64, Error> {
    let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str()).await?;
    let (mut sink, mut stream) = ws.split();
    sink.send(WsMessage::text(serde_json::to_string(&ClientFrame::Authenticate { token })?)).await?;
    let mut received = 0_u64;
    let mut check = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    if let ServerFrame::MessageCreated { .. } = serde_json::from_str::<ServerFrame>(&text)? {
                        received += 1;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error.into()),
                None => return Err("the server closed a listening socket".into()),
            },
            _ = check.tick() => if stop.load(Ordering::Relaxed) {
                sink.send(WsMessage::Close(None)).await.ok();
                while let Some(Ok(_)) = stream.next().await {}
                return Ok(received);
            },
        }
    }
}

/// One user's churn until `stop`, beside a socket that stays: each round connects (resuming from what it saw), sends over
/// the gateway, types, reads, and leaves the socket one way or another; and now and then sends
/// over REST, uploads, leaves and joins a room, refreshes its session.
async fn churn(
    http: reqwest::Client,
    url: String,
    mut me: Session,
    index: usize,
    rooms: Arc<Vec<RoomId>>,
    stop: Arc<AtomicBool>,
    done: Arc<Done>,
) -> Result<(), Error> {
    let ws_url = format!("{}/ws", url.replacen("http", "ws", 1));
    let listener = tokio::spawn(listen(ws_url.clone(), me.access_token.clone(), Arc::clone(&stop)));
    let mut seen: BTreeMap<RoomId, u64> = BTreeMap::new();
    let mut round = 0_u64;
    let mut pace = tokio::time::interval(Duration::from_millis(250));
    while !stop.load(Ordering::Relaxed) {
        pace.tick().await;
        round += 1;
        let room = rooms[(index + usize::try_from(round).unwrap_or(0)) % rooms.len()].clone();
        let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str()).await?;
        let (mut sink, mut stream) = ws.split();
        sink.send(WsMessage::text(serde_json::to_string(&ClientFrame::Authenticate {
            token: me.access_token.clone(),
        })?))
        .await?;
        done.connections.fetch_add(1, Ordering::Relaxed);
        let mut outgoing = Vec::new();
        if !seen.is_empty() {
            outgoing.push(ClientFrame::Resume { rooms: seen.clone() });
            done.resumes.fetch_add(1, Ordering::Relaxed);
        }
        outgoing.push(ClientFrame::Typing { room_id: room.clone() });
        let client_id = format!("soak-{index}-{round}");
        outgoing.push(ClientFrame::SendMessage {
            room_id: room.clone(),
            body: format!("round {round} from user {index}"),
            client_id: client_id.clone(),
            color: None,
            sticker: None,
            attachment_id: None,
            reply_to: None,
        });
        let mut ready = false;
        // Read until the send is acknowledged (after the resume's replay, when there is one).
        let acked = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(frame) = stream.next().await {
                let WsMessage::Text(text) = frame? else { continue };
                match serde_json::from_str::<ServerFrame>(&text)? {
                    ServerFrame::Ready { .. } if !ready => {
                        ready = true;
                        for frame in outgoing.drain(..) {
                            sink.send(WsMessage::text(serde_json::to_string(&frame)?)).await?;
                        }
                    }
                    ServerFrame::MessageCreated { message } => {
                        let last = seen.entry(message.room_id.clone()).or_default();
                        *last = (*last).max(message.seq);
                    }
                    ServerFrame::Ack { client_id: id, .. } if id == client_id => return Ok::<_, Error>(()),
                    ServerFrame::Error { code, message, .. } => return Err(format!("{code:?}: {message}").into()),
                    _ => {}
                }
            }
            Err("the connection ended before the ack".into())
        })
        .await;
        acked.map_err(|_| "no ack within 30 s")??;
        done.messages.fetch_add(1, Ordering::Relaxed);
        // Every third round the socket is dropped without a close, as a lost network would.
        if !round.is_multiple_of(3) {
            sink.send(WsMessage::Close(None)).await.ok();
            while let Some(Ok(_)) = stream.next().await {}
        }
        drop((sink, stream));

        let authorized = |request: reqwest::RequestBuilder| request.bearer_auth(&me.access_token);
        if round.is_multiple_of(2) {
            let body = json!({"body": format!("rest round {round} from user {index}"), "client_id": format!("{client_id}-rest")});
            let sent = authorized(http.post(format!("{url}/api/rooms/{room}/messages"))).json(&body).send().await?;
            if sent.status() != reqwest::StatusCode::CREATED {
                return Err(format!("a REST send answered {}", sent.status()).into());
            }
            done.messages.fetch_add(1, Ordering::Relaxed);
        }
        if round.is_multiple_of(5) {
            let uploaded: serde_json::Value =
                authorized(http.post(format!("{url}/api/rooms/{room}/attachments?filename=pixel-{index}-{round}.png")))
                    .header("content-type", "image/png")
                    .body(PNG)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
            let body = json!({"body": "", "attachment_id": uploaded["attachment"]["id"]});
            authorized(http.post(format!("{url}/api/rooms/{room}/messages")))
                .json(&body)
                .send()
                .await?
                .error_for_status()?;
            done.uploads.fetch_add(1, Ordering::Relaxed);
        }
        // Members other than the rooms' owner leave a room and join it again.
        if round.is_multiple_of(4) && index > 0 {
            authorized(http.post(format!("{url}/api/rooms/{room}/leave"))).send().await?.error_for_status()?;
            authorized(http.post(format!("{url}/api/rooms/{room}/join")))
                .json(&json!({}))
                .send()
                .await?
                .error_for_status()?;
            seen.remove(&room);
            done.joins.fetch_add(1, Ordering::Relaxed);
        }
        if round.is_multiple_of(10) {
            let answer: serde_json::Value = http
                .post(format!("{url}/api/auth/refresh"))
                .json(&json!({"refresh_token": me.refresh_token}))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            me = session(&answer).ok_or("a refresh without tokens")?;
            done.refreshes.fetch_add(1, Ordering::Relaxed);
        }
    }
    done.delivered.fetch_add(listener.await??, Ordering::Relaxed);
    Ok(())
}

/// Waits until the server holds no session (every churned socket closed or timed out) and,
/// given `threads`, is back to that many threads or fewer: threads the runtime's blocking pool
/// added while the machine was busy end after 10 s idle, and each held memory of its own.
async fn quiet(http: &reqwest::Client, url: &str, pid: u32, threads: Option<u64>) -> Result<Sample, Error> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut poll = tokio::time::interval(Duration::from_millis(200));
    loop {
        poll.tick().await;
        let sample = Sample::take(http, url, pid).await?;
        let idle = sample.sessions == 0 && sample.connections == 0;
        if (idle && threads.is_none_or(|threads| sample.threads <= threads)) || Instant::now() > deadline {
            return Ok(sample);
        }
    }
}

/// Runs the churn for `seconds`, printing a report line every `report_secs`.
async fn run_churn(
    args: &Args,
    http: &reqwest::Client,
    users: &[(usize, String)],
    rooms: &Arc<Vec<RoomId>>,
    seconds: u64,
    done: &Arc<Done>,
) -> Result<(), Error> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (index, username) in users {
        let body = json!({"username": username, "password": conclave_load::PASSWORD});
        let login: serde_json::Value =
            http.post(format!("{}/api/auth/login", args.url)).json(&body).send().await?.json().await?;
        let me = session(&login).ok_or("a login without tokens")?;
        tasks.push(tokio::spawn(churn(
            http.clone(),
            args.url.clone(),
            me,
            *index,
            Arc::clone(rooms),
            Arc::clone(&stop),
            Arc::clone(done),
        )));
    }
    let started = Instant::now();
    let mut report = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(args.report_secs),
        Duration::from_secs(args.report_secs),
    );
    let mut last = done.counts();
    while started.elapsed() < Duration::from_secs(seconds) {
        let left = Duration::from_secs(seconds).saturating_sub(started.elapsed());
        tokio::select! {
            _ = report.tick() => {
                let sample = Sample::take(http, &args.url, args.server_pid).await?;
                let now = done.counts();
                let d: Vec<u64> = now.iter().zip(last).map(|(n, l)| n - l).collect();
                last = now;
                println!(
                    "  {:5} s  {} | +{} connections ({} resumed), +{} messages, +{} uploads, +{} rejoins, +{} refreshes",
                    started.elapsed().as_secs(), sample.line(), d[0], d[1], d[2], d[3], d[4], d[5]
                );
            }
            () = tokio::time::sleep(left) => {}
        }
        if let Some(failed) = tasks.iter().position(tokio::task::JoinHandle::is_finished) {
            stop.store(true, Ordering::Relaxed);
            let outcome = tasks.swap_remove(failed).await?;
            return Err(format!("user {failed}'s churn stopped: {:?}", outcome.err()).into());
        }
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let http = reqwest::Client::new();
    let url = args.url.trim_end_matches('/').to_owned();
    let run =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() % 100_000).unwrap_or(0);
    let mut users = Vec::new();
    let mut rooms = Vec::new();
    for index in 0..args.users.max(2) {
        let username = format!("soak{run}_{index}");
        let me = account(&http, &url, &username).await?;
        if index == 0 {
            for r in 0..args.rooms.max(1) {
                let created: serde_json::Value = http
                    .post(format!("{url}/api/rooms"))
                    .bearer_auth(&me.access_token)
                    .json(&json!({"name": format!("soak {r}"), "join_policy": "open"}))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                rooms.push(RoomId::from(created["room"]["id"].as_str().ok_or("a room without an id")?));
            }
        } else {
            for room in &rooms {
                http.post(format!("{url}/api/rooms/{room}/join"))
                    .bearer_auth(&me.access_token)
                    .json(&json!({}))
                    .send()
                    .await?
                    .error_for_status()?;
            }
        }
        users.push((index, username));
    }
    let rooms = Arc::new(rooms);
    let done = Arc::new(Done::default());
    let warmup = (args.seconds / 6).max(1);
    println!(
        "soak: {} users in {} rooms, {} s of churn ({warmup} s of warm-up), server pid {}",
        users.len(),
        rooms.len(),
        args.seconds,
        args.server_pid
    );
    let start = Sample::take(&http, &url, args.server_pid).await?;
    println!("  start    {}", start.line());
    run_churn(&args, &http, &users, &rooms, warmup, &done).await?;
    let baseline = quiet(&http, &url, args.server_pid, None).await?;
    println!("  warm     {}  (quiet: the baseline)", baseline.line());
    run_churn(&args, &http, &users, &rooms, args.seconds - warmup.min(args.seconds), &done).await?;
    let end = quiet(&http, &url, args.server_pid, Some(baseline.threads)).await?;
    println!("  end      {}  (quiet)", end.line());
    let [connections, resumes, messages, uploads, joins, refreshes] = done.counts();
    let delivered = done.delivered.load(Ordering::Relaxed);
    println!(
        "  in all: {connections} connections ({resumes} resumed), {messages} messages ({delivered} delivered to the \
         sockets that stayed), {uploads} uploads, {joins} rejoins, {refreshes} refreshes"
    );

    let mut grown = Vec::new();
    let rss_bound = baseline.rss_kib + baseline.rss_kib / 4 + 8 * 1024;
    if end.rss_kib > rss_bound {
        grown.push(format!("resident memory {} KiB > {} KiB", end.rss_kib, rss_bound));
    }
    if end.fds > baseline.fds + 8 {
        grown.push(format!("file descriptors {} > {} + 8", end.fds, baseline.fds));
    }
    if end.sessions > 0 || end.connections > 0 {
        grown.push(format!(
            "{} sessions and {} connections (their tasks) still open with every client gone",
            end.sessions, end.connections
        ));
    }
    if grown.is_empty() {
        println!(
            "soak: flat (memory within 25 % + 8 MiB of the baseline, descriptors +8, no session or connection task left)"
        );
        Ok(())
    } else {
        Err(format!("soak: the server grew: {}", grown.join("; ")).into())
    }
}
