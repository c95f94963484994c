//! The conformance suite against the MongoDB store, plus what only MongoDB has (validators,
//! index preparation on every start).
//!
//! Needs a MongoDB-compatible server with transactions (a replica set, one node is enough):
//! `CONCLAVE_TEST_MONGODB_URI=mongodb://host:port`. `scripts/test.sh` starts one (secantusd-rs)
//! and sets it. Each test gets a database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use async_trait::async_trait;
use bson::doc;
use conclave_crypto::Vault;
use conclave_protocol::MessageId;
use conclave_store::{MessageStore, MongoStore, Store, StoreResult};
use conformance::{Backing, TestStore, test_vault};
use futures_util::TryStreamExt;
use std::sync::Arc;

/// A URI for a fresh database on the test server.
fn fresh_database_uri() -> String {
    let base = std::env::var("CONCLAVE_TEST_MONGODB_URI").expect(
        "CONCLAVE_TEST_MONGODB_URI is not set: run ./scripts/test.sh, which starts a MongoDB-wire server, \
         or point it at one (mongodb://host:port)",
    );
    format!("{}/conformance_{}", base.trim_end_matches('/'), uuid::Uuid::new_v4().simple())
}

struct MongoDatabase {
    uri: String,
    db: mongodb::Database,
}

#[async_trait]
impl Backing for MongoDatabase {
    async fn try_reopen(&self, vault: Arc<Vault>) -> StoreResult<Arc<dyn Store>> {
        Ok(Arc::new(MongoStore::connect(&self.uri, vault).await?))
    }

    /// Every document of every collection, as BSON: what `mongodump` would write.
    async fn dump(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for name in self.db.list_collection_names().await.unwrap() {
            let docs: Vec<bson::Document> =
                self.db.collection(&name).find(doc! {}).await.unwrap().try_collect().await.unwrap();
            for document in docs {
                bytes.extend(bson::to_vec(&document).unwrap());
            }
        }
        bytes
    }

    async fn tamper_with_body(&self, id: &MessageId) {
        let messages = self.db.collection::<bson::Document>("messages");
        let message = messages.find_one(doc! { "_id": id.as_str() }).await.unwrap().unwrap();
        let mut body = message.get_binary_generic("body").unwrap().clone();
        let last = body.len() - 5;
        body[last] ^= 0x01;
        let body = bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: body };
        messages.update_one(doc! { "_id": id.as_str() }, doc! { "$set": { "body": body } }).await.unwrap();
    }
}

async fn mongo_store() -> TestStore {
    let uri = fresh_database_uri();
    let vault = test_vault();
    let store = MongoStore::connect(&uri, vault.clone()).await.unwrap();
    let db = mongodb::Client::with_uri_str(&uri).await.unwrap().database(store.database_name());
    TestStore { store: Arc::new(store), vault, backing: Box::new(MongoDatabase { uri, db }), _guard: Box::new(()) }
}

conformance_suite!(mongo_store);

/// R-OPS-5: the collections validate their documents: a user without a password hash, or a
/// room with an unknown join policy, is refused by the database itself.
#[tokio::test]
async fn collections_refuse_documents_that_break_their_schema() {
    let uri = fresh_database_uri();
    let store = MongoStore::connect(&uri, test_vault()).await.unwrap();
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

/// R-SEC-2: a database written before sealing (rooms without data keys, bodies as text) is
/// sealed when a server first connects: every body readable through the store, none left as
/// text; later connections find it done.
#[tokio::test]
async fn plaintext_databases_are_sealed_on_connect() {
    let uri = fresh_database_uri();
    let name = uri.rsplit('/').next().unwrap().to_owned();
    let db = mongodb::Client::with_uri_str(&uri).await.unwrap().database(&name);
    let now = bson::DateTime::now();
    // Written as the previous version did, before any server of this one connected.
    db.collection::<bson::Document>("users")
        .insert_one(doc! { "_id": "u1", "username": "alice", "password_hash": "h", "first_name": null,
        "last_name": null, "created_at": now })
        .await
        .unwrap();
    db.collection::<bson::Document>("rooms")
        .insert_one(doc! { "_id": "r1", "kind": "group", "name": "old", "name_lower": "old", "topic": null,
        "join_policy": "open", "password_hash": null, "owner_id": "u1", "last_seq": 2_i64,
        "member_count": 1_i64, "revision": 0_i64, "created_at": now, "terminated_at": null })
        .await
        .unwrap();
    let message = |id: &str, seq: i64, body: &str, deleted: bool| {
        doc! { "_id": id, "room_id": "r1", "seq": seq, "author_id": "u1", "author_username": "alice",
        "body": body, "color": null, "sticker": null, "client_id": null, "created_at": now,
        "edited_at": null, "deleted": deleted }
    };
    db.collection::<bson::Document>("messages")
        .insert_many([message("m1", 1, "ancient scrolls of text", false), message("m2", 2, "", true)])
        .await
        .unwrap();

    let vault = test_vault();
    let store = MongoStore::connect(&uri, vault.clone()).await.unwrap();
    let history = store.messages(&"r1".into(), conclave_store::HistoryRange::Latest, 10).await.unwrap();
    let bodies: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["", "ancient scrolls of text"]);
    let dump = MongoDatabase { uri: uri.clone(), db }.dump().await;
    assert!(!dump.windows(15).any(|w| w == b"ancient scrolls"), "a body is still text");
    // Connecting again finds the work done and reads the same.
    let again = MongoStore::connect(&uri, vault).await.unwrap();
    assert_eq!(again.messages(&"r1".into(), conclave_store::HistoryRange::Latest, 10).await.unwrap(), history);
}

/// R-OPS-7: nodes share a MongoDB while `rotate-key` runs elsewhere. While the rotation is
/// marked, no new data key is wrapped (a room, a direct conversation: `KeyRotation`); once it
/// has re-wrapped the store's own key for the new key pair, a node still holding the old pair
/// wraps none either; a node started with the new pair does.
#[tokio::test]
async fn new_data_keys_are_fenced_by_a_rotation() {
    use chrono::Utc;
    use conclave_crypto::{Rewrapped, ServerKey};
    use conclave_protocol::JoinPolicy;
    use conclave_store::{KeyStore, NewRoom, NewUser, RoomStore, SERVER_KEY_SCOPE, StoreError, UserStore};

    let keys = tempfile::tempdir().unwrap();
    let (old_file, new_file) = (keys.path().join("old.key"), keys.path().join("new.key"));
    let (old, new) = (ServerKey::load_or_create(&old_file).unwrap(), ServerKey::load_or_create(&new_file).unwrap());
    let uri = fresh_database_uri();
    let node = MongoStore::connect(&uri, Arc::new(Vault::new(ServerKey::load(&old_file).unwrap()))).await.unwrap();
    let user = |name: &str| NewUser {
        username: name.into(),
        password_hash: "$argon2id$fake".into(),
        first_name: None,
        last_name: None,
    };
    let alice = node.create_user(user("alice"), Utc::now()).await.unwrap();
    let bob = node.create_user(user("bob"), Utc::now()).await.unwrap();
    let room =
        |name: &str| NewRoom { name: name.into(), topic: None, join_policy: JoinPolicy::Open, password_hash: None };
    node.create_room(room("before"), &alice.id, Utc::now()).await.unwrap();

    node.set_key_rotation(true).await.unwrap();
    assert!(node.key_rotation_under_way().await.unwrap());
    assert_eq!(node.create_room(room("during"), &alice.id, Utc::now()).await.map(drop), Err(StoreError::KeyRotation));
    let direct = node.open_direct_room(&alice.id, &bob.id, "alice, bob", Utc::now()).await;
    assert_eq!(direct.map(drop), Err(StoreError::KeyRotation));

    // The rotation re-wraps the store's own key last, then clears its mark.
    let own = node.wrapped_keys(None, 100).await.unwrap().into_iter().find(|k| k.scope == SERVER_KEY_SCOPE).unwrap();
    let Ok(Rewrapped::Now(rewrapped)) = Vault::rewrap(&old, &new, &own.scope, &own.wrapped) else {
        panic!("the store's own key opens with the old pair")
    };
    assert!(node.replace_wrapped_key(&own.scope, &own.wrapped, &rewrapped).await.unwrap());
    node.set_key_rotation(false).await.unwrap();
    assert!(!node.key_rotation_under_way().await.unwrap());
    let stale = node.create_room(room("old pair"), &alice.id, Utc::now()).await;
    assert_eq!(stale.map(drop), Err(StoreError::KeyRotation), "a node with the retired pair makes no room");

    let restarted = MongoStore::connect(&uri, Arc::new(Vault::new(new))).await.unwrap();
    restarted.create_room(room("new pair"), &alice.id, Utc::now()).await.unwrap();
    restarted.open_direct_room(&alice.id, &bob.id, "alice, bob", Utc::now()).await.unwrap();
}
