//! The conformance suite against the embedded SQLite store, plus what only a file store has.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use conclave_store::{NewUser, SqliteStore, Store};
use conformance::TestStore;
use std::sync::Arc;

async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("conclave.db")).unwrap();
    TestStore { store: Arc::new(store), _guard: Box::new(dir) }
}

conformance_suite!(sqlite_store);

/// R-OPS-4: data survives a restart: reopening the file finds everything again.
#[tokio::test]
async fn reopening_the_file_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conclave.db");
    let user = {
        let store = SqliteStore::open(&path).unwrap();
        store
            .create_user(
                NewUser { username: "keeper".into(), password_hash: "h".into(), first_name: None, last_name: None },
                chrono::Utc::now(),
            )
            .await
            .unwrap()
    };
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.user_by_username("keeper").await.unwrap(), Some(user));
    reopened.ping().await.unwrap();
}
