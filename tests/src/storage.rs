//! What the server left on disk or in its database, seen as an attacker with the storage but
//! not the server would see it: raw bytes, and a byte changed behind the server's back.

use bson::doc;
use futures_util::TryStreamExt;
use std::path::Path;

/// The MongoDB database of the server on `data_dir`, when the tests run on MongoDB.
async fn mongodb_database(data_dir: &Path) -> Option<mongodb::Database> {
    let uri = super::mongodb_uri_for(data_dir)?;
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    client.default_database()
}

fn files_under(dir: &Path, bytes: &mut Vec<u8>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, bytes);
        } else {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
}

/// Every byte the server on `data_dir` stored: the files in the folder (the SQLite database,
/// its write-ahead log, keys, logs) and, on MongoDB, every document of its database.
pub async fn stored_bytes(data_dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    files_under(data_dir, &mut bytes);
    if let Some(db) = mongodb_database(data_dir).await {
        for name in db.list_collection_names().await.unwrap() {
            let docs: Vec<bson::Document> =
                db.collection(&name).find(doc! {}).await.unwrap().try_collect().await.unwrap();
            for document in docs {
                bytes.extend(bson::to_vec(&document).unwrap());
            }
        }
    }
    bytes
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

/// Flips one byte of the stored body of message `id`, in the database of the (stopped) server
/// on `data_dir`.
pub async fn tamper_with_message_body(data_dir: &Path, id: &str) {
    let flip = |mut body: Vec<u8>| {
        let index = body.len() - 3;
        body[index] ^= 0x01;
        body
    };
    if let Some(db) = mongodb_database(data_dir).await {
        let messages = db.collection::<bson::Document>("messages");
        let message = messages.find_one(doc! { "_id": id }).await.unwrap().expect("the message is stored");
        let body = flip(message.get_binary_generic("body").unwrap().clone());
        let body = bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: body };
        messages.update_one(doc! { "_id": id }, doc! { "$set": { "body": body } }).await.unwrap();
    } else {
        let conn = rusqlite::Connection::open(data_dir.join("conclave.db")).unwrap();
        let body: Vec<u8> = conn.query_row("SELECT body FROM messages WHERE id = ?1", [id], |r| r.get(0)).unwrap();
        conn.execute("UPDATE messages SET body = ?2 WHERE id = ?1", rusqlite::params![id, flip(body)]).unwrap();
    }
}

/// Whether notification `id` is stored as read, looked up in the database of the (stopped)
/// server on `data_dir`, past anything the server may still buffer.
pub async fn notification_is_read(data_dir: &Path, id: &str) -> bool {
    if let Some(db) = mongodb_database(data_dir).await {
        let notifications = db.collection::<bson::Document>("notifications");
        let found = notifications.find_one(doc! { "_id": id }).await.unwrap().expect("the notification is stored");
        found.get_bool("read").unwrap()
    } else {
        let conn = rusqlite::Connection::open(data_dir.join("conclave.db")).unwrap();
        conn.query_row("SELECT read FROM notifications WHERE id = ?1", [id], |r| r.get(0)).unwrap()
    }
}
