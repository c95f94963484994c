//! What one delivery costs the gateway in user space (SPEC R-WS-2, R-WS-4): the hub's fan-out
//! of one `message_created` frame into 100 sessions' outboxes (the standard benchmark's room
//! size), and the writers taking what waits, encoded, in one buffer each.
//! `cargo bench -p conclave-server --bench fanout`.

#![allow(clippy::expect_used, reason = "a benchmark whose setup fails has nothing to measure")]

use conclave_protocol::{RoomId, UserId};
use conclave_server::live::hub::{Bus, Event, Frame, Hub};
use conclave_server::live::outbox::{Outbox, Taken, Writer};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;
use std::task::{Context, Waker};

/// A `message_created` frame of the size a 100-byte chat line makes.
fn message_frame(seq: u64) -> Frame {
    Frame::from(format!(
        r#"{{"type":"message_created","message":{{"id":"3629992d-5eab-4371-8cd3-b42a62389ba7","room_id":"af5a7805-7de6-4da6-98d2-439fd4ae13d1","seq":{seq},"author_id":"ab1ccdce-e517-44a5-a482-6098be96cbdb","author_username":"alice","body":"{}","color":null,"sticker":null,"attachment":null,"created_at":"2026-12-02T03:45:53.607Z","edited_at":null,"deleted":false}}}}"#,
        "x".repeat(100)
    ))
}

fn drain(writers: &mut [Writer]) -> usize {
    let mut cx = Context::from_waker(Waker::noop());
    let mut bytes = 0;
    for writer in writers {
        if let std::task::Poll::Ready(Taken::Bytes(chunk)) = writer.poll_take(&mut cx) {
            bytes += chunk.len();
        }
    }
    bytes
}

fn fan_out(c: &mut Criterion) {
    let mut group = c.benchmark_group("fan_out");
    for members in [100usize, 1000] {
        let hub = Hub::new();
        let room = RoomId::from("room");
        let mut writers = Vec::new();
        for i in 0..members {
            let (outbox, writer) = Outbox::new(1024);
            hub.register(&UserId(format!("user-{i}")), vec![room.clone()], Arc::clone(&outbox));
            writers.push(writer);
        }
        group.throughput(Throughput::Elements(u64::try_from(members).unwrap_or(u64::MAX)));
        let mut seq = 0;
        // One message to the room, then every writer takes it: the whole user-space path.
        group.bench_function(BenchmarkId::new("publish_and_write", members), |b| {
            b.iter(|| {
                seq += 1;
                hub.publish(Event::ToRoom { room: room.clone(), frame: message_frame(seq), seq: Some(seq) });
                drain(&mut writers)
            })
        });
        // Ten messages waiting per connection, written in one buffer each.
        group.bench_function(BenchmarkId::new("ten_then_write", members), |b| {
            b.iter(|| {
                for _ in 0..10 {
                    seq += 1;
                    hub.publish(Event::ToRoom { room: room.clone(), frame: message_frame(seq), seq: Some(seq) });
                }
                drain(&mut writers)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
