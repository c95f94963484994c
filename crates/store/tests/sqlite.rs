//! The conformance suite against the embedded SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use async_trait::async_trait;
use conclave_crypto::Vault;
use conclave_protocol::MessageId;
use conclave_store::{SqliteStore, Store, StoreResult};
use conformance::{Backing, TestStore, test_vault};
use std::path::PathBuf;
use std::sync::Arc;

struct SqliteFile {
    path: PathBuf,
}

#[async_trait]
impl Backing for SqliteFile {
    async fn try_reopen(&self, vault: Arc<Vault>) -> StoreResult<Arc<dyn Store>> {
        Ok(Arc::new(SqliteStore::open(&self.path, vault)?))
    }

    /// The database file and its write-ahead log: everything on disk.
    async fn dump(&self) -> Vec<u8> {
        let mut bytes = std::fs::read(&self.path).unwrap();
        let wal = self.path.with_extension("db-wal");
        if wal.exists() {
            bytes.extend(std::fs::read(wal).unwrap());
        }
        bytes
    }

    async fn tamper_with_body(&self, id: &MessageId) {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        let mut body: Vec<u8> =
            conn.query_row("SELECT body FROM messages WHERE id = ?1", [id.as_str()], |r| r.get(0)).unwrap();
        let last = body.len() - 5;
        body[last] ^= 0x01;
        conn.execute("UPDATE messages SET body = ?2 WHERE id = ?1", rusqlite::params![id.as_str(), body]).unwrap();
    }
}

async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conclave.db");
    let vault = test_vault();
    let store = SqliteStore::open(&path, vault.clone()).unwrap();
    TestStore { store: Arc::new(store), vault, backing: Box::new(SqliteFile { path }), _guard: Box::new(dir) }
}

conformance_suite!(sqlite_store);
