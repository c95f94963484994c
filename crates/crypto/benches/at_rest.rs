//! What encryption at rest costs (SPEC R-SEC-2): sealing and opening one message body, and
//! wrapping and unwrapping one room's data key. `cargo bench -p conclave-crypto`; the figures
//! measured on the project's 2-core machine are in the README.

#![allow(clippy::expect_used, reason = "a benchmark whose setup fails has nothing to measure")]

use conclave_crypto::{Aad, DataKey, ServerKey};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn messages(c: &mut Criterion) {
    let key = DataKey::generate();
    let aad =
        Aad::new("message").part("0b6f5a8e-9a4c-4d7e-8f51-3f1f7f0d2a11").part("5d3c2b1a-0f9e-4d8c-b7a6-954433221100");
    let mut group = c.benchmark_group("message");
    // A typical chat line, and the largest body SPEC allows (4,000 characters of up to 4 bytes each).
    for size in [200usize, 16_000] {
        let body = vec![b'a'; size];
        let sealed = key.seal(&aad, &body).expect("seal");
        group.throughput(Throughput::Bytes(u64::try_from(size).unwrap_or(u64::MAX)));
        group.bench_with_input(BenchmarkId::new("seal", size), &body, |b, body| {
            b.iter(|| key.seal(black_box(&aad), black_box(body)).expect("seal"))
        });
        group.bench_with_input(BenchmarkId::new("open", size), &sealed, |b, sealed| {
            b.iter(|| key.open(black_box(&aad), black_box(sealed)).expect("open"))
        });
    }
    group.finish();
}

fn room_keys(c: &mut Criterion) {
    let server = ServerKey::generate();
    let key = DataKey::generate();
    let aad = Aad::new("data-key").part("0b6f5a8e-9a4c-4d7e-8f51-3f1f7f0d2a11");
    let wrapped = server.wrap(&key, &aad).expect("wrap");
    let mut group = c.benchmark_group("room_key");
    group
        .bench_function("wrap (new room)", |b| b.iter(|| server.wrap(black_box(&key), black_box(&aad)).expect("wrap")));
    group.bench_function("unwrap (first use after start)", |b| {
        b.iter(|| server.unwrap_key(black_box(&wrapped), black_box(&aad)).expect("unwrap"))
    });
    group.finish();
}

criterion_group!(benches, messages, room_keys);
criterion_main!(benches);
