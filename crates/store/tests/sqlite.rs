//! The conformance suite against the embedded SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use conclave_store::{SqliteStore, Store};
use conformance::TestStore;
use std::sync::Arc;

async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conclave.db");
    let store = SqliteStore::open(&path).unwrap();
    let reopen: conformance::Reopen = Box::new(move || {
        let path = path.clone();
        Box::pin(async move { Arc::new(SqliteStore::open(&path).unwrap()) as Arc<dyn Store> })
    });
    TestStore { store: Arc::new(store), reopen, _guard: Box::new(dir) }
}

conformance_suite!(sqlite_store);
