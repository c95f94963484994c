//! `conclave-load`: connects many WebSocket clients to a running Conclave server, has some of
//! them send messages, and reports what the receivers saw: deliveries per second and delivery
//! latency percentiles, plus the server's CPU time and memory when its pid is given.
//!
//! Latency is measured on this machine's clock: the sender writes the send time into the body,
//! each receiver subtracts it from the arrival time.

#![allow(
    clippy::as_conversions,
    reason = "statistics: counts and durations become floats for rates and percentiles, where rounding is the point"
)]

use clap::Parser;
use conclave_load::{Error, account, process_usage};
use conclave_protocol::{ClientFrame, RoomId, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Debug, Parser)]
#[command(name = "conclave-load", about = "Load tool for the Conclave WebSocket gateway")]
struct Args {
    /// Base URL of the server. Repeated for several nodes: user i signs up, joins and connects
    /// through node i mod n, so that every room has members on every node.
    #[arg(long = "url", default_value = "http://127.0.0.1:8080")]
    urls: Vec<String>,
    /// WebSocket connections (one user each).
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Rooms the users are spread over.
    #[arg(long, default_value_t = 10)]
    rooms: usize,
    /// Users who send.
    #[arg(long, default_value_t = 50)]
    senders: usize,
    /// Messages each sender sends.
    #[arg(long, default_value_t = 40)]
    messages: usize,
    /// Messages per second offered by all senders together (0: as fast as acks come back).
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// The server's process id, to report its CPU time and memory. Repeated (the nodes, Redis,
    /// the database): their sum.
    #[arg(long = "server-pid")]
    server_pids: Vec<u32>,
    /// Measure the REST send path instead: the senders post their messages with
    /// `POST /api/rooms/{id}/messages`, each waiting for its answer before the next (no
    /// WebSockets are opened).
    #[arg(long)]
    rest: bool,
}

fn nanos_now() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// The CPU seconds and resident KiB of `pids` together (none: not measured).
fn usage_of(pids: &[u32]) -> Option<(f64, u64)> {
    if pids.is_empty() {
        return None;
    }
    pids.iter()
        .try_fold((0.0, 0), |(cpu, rss), pid| process_usage(*pid).map(|u| (cpu + u.cpu_seconds, rss + u.rss_kib)))
}

/// The CPU seconds of each of `pids` (0 for one that cannot be read).
fn cpu_each(pids: &[u32]) -> Vec<f64> {
    pids.iter().map(|pid| process_usage(*pid).map_or(0.0, |u| u.cpu_seconds)).collect()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)] as f64 / 1000.0
}

/// Prints the percentiles of `sorted_us` (microseconds) and, with the server's CPU seconds
/// before and after, `count` per server CPU-second.
fn report(what: &str, sorted_us: &[u64], count: u64, unit: &str, cpu: Option<(f64, f64)>) {
    println!(
        "  {what}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(sorted_us, 0.50),
        percentile(sorted_us, 0.90),
        percentile(sorted_us, 0.99),
        percentile(sorted_us, 1.0)
    );
    if let Some((before, after)) = cpu {
        let cpu = after - before;
        println!("  server CPU {cpu:.2} s: {:.0} {unit} per server CPU-second", count as f64 / cpu.max(0.01));
    }
}

/// `--rest`: every sender posts its messages one after the other, all senders at once; reports
/// messages per second and the response time percentiles.
async fn rest_sends(
    args: &Args,
    http: &reqwest::Client,
    urls: &[String],
    tokens: &[String],
    rooms: &[RoomId],
) -> Result<(), Error> {
    let senders = args.senders.min(tokens.len());
    println!("sending over REST: {senders} concurrent senders × {} messages…", args.messages);
    let cpu_before = usage_of(&args.server_pids).map(|u| u.0);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (index, token) in tokens.iter().take(senders).enumerate() {
        let (http, token, room, messages) =
            (http.clone(), token.clone(), rooms[index % rooms.len()].clone(), args.messages);
        let endpoint = format!("{}/api/rooms/{room}/messages", urls[index % urls.len()]);
        tasks.push(tokio::spawn(async move {
            let mut times_us = Vec::with_capacity(messages);
            for n in 0..messages {
                let body = json!({"body": format!("rest message {n}"), "client_id": format!("{index}-{n}")});
                let sent = Instant::now();
                let answer = http.post(&endpoint).bearer_auth(&token).json(&body).send().await?;
                if answer.status() != reqwest::StatusCode::CREATED {
                    return Err(format!("send answered {}: {}", answer.status(), answer.text().await?).into());
                }
                times_us.push(sent.elapsed().as_micros() as u64);
            }
            Ok::<_, Error>(times_us)
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after = usage_of(&args.server_pids).map(|u| u.0);
    times.sort_unstable();
    println!("results:");
    println!("  stored {} messages in {elapsed:.2} s: {:.0} messages/s", times.len(), times.len() as f64 / elapsed);
    report("response time", &times, times.len() as u64, "messages", cpu_before.zip(cpu_after));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let urls: Vec<String> = args.urls.iter().map(|url| url.trim_end_matches('/').to_owned()).collect();
    let ws_urls: Vec<String> = urls.iter().map(|url| format!("{}/ws", url.replacen("http", "ws", 1))).collect();
    let url = urls[0].clone();
    let http = reqwest::Client::new();
    let run = nanos_now() % 1_000_000;
    let usage = |label: &str| {
        let measured = usage_of(&args.server_pids);
        if let Some((cpu, rss)) = measured {
            println!("  server after {label}: {cpu:.2} CPU-s, {rss} KiB resident");
        }
        measured
    };

    println!("setting up {} users in {} rooms…", args.connections, args.rooms);
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    for i in 0..args.connections {
        let (http, url, gate) = (http.clone(), urls[i % urls.len()].clone(), Arc::clone(&gate));
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            account(&http, &url, &format!("load{run}_{i}")).await.map(|s| s.access_token)
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await??);
    }
    let mut rooms: Vec<RoomId> = Vec::new();
    for (r, token) in tokens.iter().take(args.rooms).enumerate() {
        let created: serde_json::Value = http
            .post(format!("{url}/api/rooms"))
            .bearer_auth(token)
            .json(&json!({"name": format!("load room {run}-{r}"), "join_policy": "open"}))
            .send()
            .await?
            .json()
            .await?;
        rooms.push(RoomId(created["room"]["id"].as_str().ok_or("room id")?.to_owned()));
    }
    let gate = Arc::new(Semaphore::new(32));
    let mut joins = Vec::new();
    for (i, token) in tokens.iter().enumerate().skip(args.rooms) {
        let (http, url, gate, token, room) = (
            http.clone(),
            urls[i % urls.len()].clone(),
            Arc::clone(&gate),
            token.clone(),
            rooms[i % args.rooms].clone(),
        );
        joins.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            http.post(format!("{url}/api/rooms/{room}/join")).bearer_auth(token).send().await?.error_for_status()?;
            Ok::<(), Error>(())
        }));
    }
    for join in joins {
        join.await??;
    }
    println!("  done in {:.1} s", started.elapsed().as_secs_f64());
    if args.rest {
        return rest_sends(&args, &http, &urls, &tokens, &rooms).await;
    }

    let before_connect = usage("setup");
    println!("connecting {} WebSockets…", args.connections);
    let started = Instant::now();
    let deliveries = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let ws_url = ws_urls[i % ws_urls.len()].as_str();
        let (ws, _) = tokio_tungstenite::connect_async_with_config(ws_url, None, true).await?;
        let (mut sink, mut stream) = ws.split();
        let auth = serde_json::to_string(&ClientFrame::Authenticate { token: token.clone() })?;
        sink.send(WsMessage::text(auth)).await?;
        loop {
            let frame = stream.next().await.ok_or("closed before ready")??;
            if let WsMessage::Text(text) = frame
                && matches!(serde_json::from_str(&text)?, ServerFrame::Ready { .. })
            {
                break;
            }
        }
        let deliveries = Arc::clone(&deliveries);
        let mut stopped = stopped.clone();
        readers.push(tokio::spawn(async move {
            let mut latencies_us = Vec::new();
            loop {
                let frame = tokio::select! {
                    _ = stopped.changed() => break,
                    frame = stream.next() => frame,
                };
                let Some(Ok(frame)) = frame else { break };
                let WsMessage::Text(text) = frame else { continue };
                if let Ok(ServerFrame::MessageCreated { message }) = serde_json::from_str::<ServerFrame>(&text)
                    && let Some(sent) = message.body.strip_prefix("t=").and_then(|t| t.parse::<u128>().ok())
                {
                    latencies_us.push((nanos_now().saturating_sub(sent) / 1000) as u64);
                    deliveries.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies_us
        }));
        if i < args.senders {
            writers.push((sink, rooms[i % args.rooms].clone()));
        } else {
            drop(sink);
        }
    }
    println!("  done in {:.1} s", started.elapsed().as_secs_f64());
    let after_connect = usage("connecting");
    if let (Some((_, before)), Some((_, after))) = (before_connect, after_connect) {
        let per = (after.saturating_sub(before)) as f64 / args.connections as f64;
        println!("  ≈ {per:.1} KiB resident per connection");
    }

    let members_per_room: Vec<usize> =
        (0..args.rooms).map(|r| (0..args.connections).filter(|i| i % args.rooms == r).count()).collect();
    let expected: u64 =
        (0..args.senders.min(writers.len())).map(|i| (members_per_room[i % args.rooms] * args.messages) as u64).sum();
    let interval =
        if args.rate == 0 { Duration::ZERO } else { Duration::from_secs_f64(writers.len() as f64 / args.rate as f64) };
    println!(
        "sending: {} senders × {} messages, {} offered, {expected} deliveries expected…",
        writers.len(),
        args.messages,
        if args.rate == 0 { "as fast as possible".to_owned() } else { format!("{} msg/s", args.rate) }
    );
    let cpu_before = usage_of(&args.server_pids).map(|u| u.0);
    let each_before = cpu_each(&args.server_pids);
    let started = Instant::now();
    let mut senders = Vec::new();
    let sender_count = writers.len().max(1) as u32;
    for (index, (mut sink, room)) in writers.into_iter().enumerate() {
        let messages = args.messages;
        // Senders are spread evenly over the interval, as independent people would be, rather
        // than all firing at the same instant.
        let offset = interval / sender_count * index as u32;
        senders.push(tokio::spawn(async move {
            let period = interval.max(Duration::from_micros(1));
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
            for n in 0..messages {
                if !interval.is_zero() {
                    ticker.tick().await;
                }
                let frame = ClientFrame::SendMessage {
                    room_id: room.clone(),
                    body: format!("t={}", nanos_now()),
                    client_id: format!("{index}-{n}"),
                    color: None,
                    sticker: None,
                    attachment_id: None,
                    reply_to: None,
                };
                sink.send(WsMessage::text(serde_json::to_string(&frame)?)).await?;
            }
            Ok::<_, Error>(sink)
        }));
    }
    let mut sinks = Vec::new();
    for sender in senders {
        sinks.push(sender.await??);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while deliveries.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after = usage_of(&args.server_pids).map(|u| u.0);
    let delivered = deliveries.load(Ordering::Relaxed);
    stop.send(true)?;
    let mut latencies = Vec::new();
    for reader in readers {
        latencies.extend(reader.await?);
    }
    drop(sinks);
    latencies.sort_unstable();
    println!("results:");
    println!("  delivered {delivered} of {expected} in {elapsed:.2} s: {:.0} deliveries/s", delivered as f64 / elapsed);
    report("delivery latency", &latencies, delivered, "deliveries", cpu_before.zip(cpu_after));
    if args.server_pids.len() > 1 {
        let each: Vec<String> = args
            .server_pids
            .iter()
            .zip(each_before.iter().zip(cpu_each(&args.server_pids)))
            .map(|(pid, (before, after))| format!("{pid} {:.2} s", after - before))
            .collect();
        println!("  CPU by process: {}", each.join(", "));
    }
    Ok(())
}
