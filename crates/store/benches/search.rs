//! What one page of a message search costs on the embedded store (SPEC R-MSG-11): bodies are
//! sealed (R-SEC-2), so a page reads and opens up to 2000 messages of the rooms searched,
//! newest first. Measured on 100,000 messages of ~100 characters in one room (a room search,
//! first page and a page at the oldest end) and spread over 20 rooms (a search of all one's
//! rooms). The README's "Search" quotes these figures. `cargo bench -p conclave-store --bench search`.

#![allow(clippy::expect_used, reason = "a benchmark whose setup fails has nothing to measure")]

use chrono::{Duration, Utc};
use conclave_crypto::{ServerKey, Vault};
use conclave_protocol::{JoinPolicy, RoomId};
use conclave_store::{MessageStore, NewMessage, NewRoom, NewUser, RoomStore, ScanPosition, SqliteStore, UserStore};
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::future::join_all;
use std::sync::Arc;

const MESSAGES: usize = 100_000;
/// As the server scans a page (`conclave_domain::SEARCH_SCAN_PER_PAGE`).
const PAGE: u32 = 2000;

fn search(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let vault = Arc::new(Vault::new(ServerKey::generate()));
    let store = SqliteStore::open(&dir.path().join("conclave.db"), vault).expect("the store opens");
    let (one_room, twenty_rooms) = runtime.block_on(async {
        let user = NewUser {
            username: "alice".into(),
            password_hash: "$argon2id$bench".into(),
            first_name: None,
            last_name: None,
        };
        let author = store.create_user(user, Utc::now()).await.expect("a user");
        let mut rooms = Vec::new();
        for n in 0..21 {
            let room =
                NewRoom { name: format!("room {n}"), topic: None, join_policy: JoinPolicy::Open, password_hash: None };
            rooms.push(store.create_room(room, &author.id, Utc::now()).await.expect("a room").id);
        }
        let start = Utc::now() - Duration::days(30);
        // Room 0 gets 100,000 messages; rooms 1–20 share another 100,000.
        for batch in 0..(2 * MESSAGES / 100) {
            let sends = (0..100).map(|i| {
                let n = batch * 100 + i;
                let room = if n < MESSAGES { rooms[0].clone() } else { rooms[1 + n % 20].clone() };
                let message = NewMessage {
                    room_id: room,
                    author_id: author.id.clone(),
                    body: format!("message {n}: {}", "lorem ipsum dolor sit amet ".repeat(3)),
                    color: None,
                    sticker: None,
                    client_id: None,
                    attachment_id: None,
                    reply_to: None,
                    mentions: Vec::new(),
                    direct_notice: None,
                };
                let at = start + Duration::milliseconds(i64::try_from(n).unwrap_or(0) * 10);
                store.insert_message(message, at)
            });
            for stored in join_all(sends).await {
                stored.expect("stored");
            }
        }
        (vec![rooms[0].clone()], rooms[1..].to_vec())
    });
    let oldest_page = runtime.block_on(async {
        let mut after: Option<ScanPosition> = None;
        for _ in 0..(MESSAGES / 2000 - 1) {
            let page = store.scan_messages(&one_room, after.as_ref(), PAGE).await.expect("a page");
            after = page.last().map(ScanPosition::of);
        }
        after
    });
    let mut group = c.benchmark_group("search_page_of_2000");
    group.sample_size(20);
    let scan = |rooms: &[RoomId], after: Option<&ScanPosition>| {
        runtime.block_on(async {
            let page = store.scan_messages(rooms, after, PAGE).await.expect("a page");
            assert_eq!(page.len(), 2000);
        })
    };
    group.bench_function("room_of_100k_newest", |b| b.iter(|| scan(&one_room, None)));
    group.bench_function("room_of_100k_oldest", |b| b.iter(|| scan(&one_room, oldest_page.as_ref())));
    group.bench_function("20_rooms_of_5k_newest", |b| b.iter(|| scan(&twenty_rooms, None)));
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
