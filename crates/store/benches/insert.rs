//! What storing a message costs on the embedded store (SPEC R-MSG-1, R-MSG-2, R-SEC-2): the
//! membership and termination checks, the duplicate check by client id, the next sequence
//! number, sealing the body and the write, on a SQLite file in WAL mode with its checkpoint
//! thread, as the server runs it. One send at a time, and 16 at once (group commit shares a
//! transaction between them). `cargo bench -p conclave-store --bench insert`.

#![allow(clippy::expect_used, reason = "a benchmark whose setup fails has nothing to measure")]

use chrono::Utc;
use conclave_crypto::{ServerKey, Vault};
use conclave_protocol::JoinPolicy;
use conclave_store::{MessageStore, NewMessage, NewRoom, NewUser, RoomStore, SqliteStore, UserStore};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::future::join_all;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn insert(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let vault = Arc::new(Vault::new(ServerKey::generate()));
    let store = SqliteStore::open(&dir.path().join("conclave.db"), vault).expect("the store opens");
    let (author, room) = runtime.block_on(async {
        let user = NewUser {
            username: "alice".into(),
            password_hash: "$argon2id$bench".into(),
            first_name: None,
            last_name: None,
        };
        let author = store.create_user(user, Utc::now()).await.expect("a user");
        let room = NewRoom { name: "bench".into(), topic: None, join_policy: JoinPolicy::Open, password_hash: None };
        let room = store.create_room(room, &author.id, Utc::now()).await.expect("a room");
        (author.id, room.id)
    });
    let counter = AtomicU64::new(0);
    let message = || {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        NewMessage {
            room_id: room.clone(),
            author_id: author.clone(),
            body: "x".repeat(100),
            color: None,
            sticker: None,
            client_id: Some(format!("bench-{n}")),
            attachment_id: None,
            reply_to: None,
            mentions: Vec::new(),
            direct_notice: None,
        }
    };
    let mut group = c.benchmark_group("insert_message");
    for at_once in [1usize, 16] {
        group.throughput(Throughput::Elements(u64::try_from(at_once).unwrap_or(u64::MAX)));
        group.bench_function(BenchmarkId::new("sends_at_once", at_once), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let sends = (0..at_once).map(|_| store.insert_message(message(), Utc::now()));
                    for stored in join_all(sends).await {
                        assert!(stored.expect("the message is stored").created);
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, insert);
criterion_main!(benches);
