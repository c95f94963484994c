//! Striped per-room locks: the one way this process makes work on a room wait its turn.

use conclave_protocol::RoomId;
use std::hash::{DefaultHasher, Hash, Hasher};
use tokio::sync::{Mutex, MutexGuard};

/// A fixed set of async mutexes; a room always maps to the same one. Two rooms may share a
/// stripe (and wait for each other); one room never has two.
pub struct RoomLocks {
    stripes: Vec<Mutex<()>>,
}

impl RoomLocks {
    pub fn new(stripes: usize) -> Self {
        Self { stripes: (0..stripes.max(1)).map(|_| Mutex::new(())).collect() }
    }

    /// Waits for `room`'s stripe and holds it until the guard is dropped.
    pub async fn lock(&self, room: &RoomId) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        room.hash(&mut hasher);
        let index = usize::try_from(hasher.finish()).map_or(0, |hash| hash % self.stripes.len());
        self.stripes[index].lock().await
    }
}
