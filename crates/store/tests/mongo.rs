//! The conformance suite against the MongoDB store, plus what only MongoDB has (validators,
//! index preparation on every start).
//!
//! Needs a MongoDB-compatible server with transactions (a replica set, one node is enough):
//! `CONCLAVE_TEST_MONGODB_URI=mongodb://host:port`. `scripts/test.sh` starts one (secantusd-rs)
//! and sets it. Each test gets a database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use bson::doc;
use conclave_store::{MongoStore, Store};
use conformance::TestStore;
use std::sync::Arc;

/// A URI for a fresh database on the test server.
fn fresh_database_uri() -> String {
    let base = std::env::var("CONCLAVE_TEST_MONGODB_URI").expect(
        "CONCLAVE_TEST_MONGODB_URI is not set: run ./scripts/test.sh, which starts a MongoDB-wire server, \
         or point it at one (mongodb://host:port)",
    );
    format!("{}/conformance_{}", base.trim_end_matches('/'), uuid::Uuid::new_v4().simple())
}

async fn mongo_store() -> TestStore {
    let uri = fresh_database_uri();
    let store = MongoStore::connect(&uri).await.unwrap();
    let reopen: conformance::Reopen = Box::new(move || {
        let uri = uri.clone();
        Box::pin(async move { Arc::new(MongoStore::connect(&uri).await.unwrap()) as Arc<dyn Store> })
    });
    TestStore { store: Arc::new(store), reopen, _guard: Box::new(()) }
}

conformance_suite!(mongo_store);

/// R-OPS-5: the collections validate their documents: a user without a password hash, or a
/// room with an unknown join policy, is refused by the database itself.
#[tokio::test]
async fn collections_refuse_documents_that_break_their_schema() {
    let uri = fresh_database_uri();
    let store = MongoStore::connect(&uri).await.unwrap();
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let db = client.database(store.database_name());
    let users = db.collection::<bson::Document>("users");
    let refused =
        users.insert_one(doc! { "_id": "u1", "username": "nohash", "created_at": bson::DateTime::now() }).await;
    assert!(refused.is_err(), "a user without password_hash must be refused");
    let rooms = db.collection::<bson::Document>("rooms");
    let refused = rooms
        .insert_one(doc! {
            "_id": "r1", "kind": "group", "name": "x", "name_lower": "x", "join_policy": "whoever",
            "last_seq": 0_i64, "member_count": 0_i64, "revision": 0_i64, "created_at": bson::DateTime::now(),
        })
        .await;
    assert!(refused.is_err(), "an unknown join policy must be refused");
    assert_eq!(users.count_documents(doc! {}).await.unwrap(), 0, "nothing was stored");
}
