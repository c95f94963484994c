//! Who is online: the count of live gateway connections per user (SPEC R-ACC-5, R-WS-5).

use conclave_protocol::UserId;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Presence {
    connections: Mutex<HashMap<UserId, usize>>,
}

impl Presence {
    /// Whether `user` has at least one live connection.
    pub fn is_online(&self, user: &UserId) -> bool {
        self.connections
            .lock()
            .map(|map| map.get(user).is_some_and(|n| *n > 0))
            .unwrap_or(false)
    }

    /// Counts a new connection; `true` when the user just came online.
    pub fn connect(&self, user: &UserId) -> bool {
        let Ok(mut map) = self.connections.lock() else {
            return false;
        };
        let count = map.entry(user.clone()).or_insert(0);
        *count += 1;
        *count == 1
    }

    /// Counts a closed connection; `true` when the user just went offline.
    pub fn disconnect(&self, user: &UserId) -> bool {
        let Ok(mut map) = self.connections.lock() else {
            return false;
        };
        match map.get_mut(user) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                map.remove(user);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-WS-5: a user goes offline when their last connection closes.
    #[test]
    fn r_ws_5_offline_after_the_last_connection() {
        let presence = Presence::default();
        let alice = UserId::from("alice");
        assert!(!presence.is_online(&alice));
        assert!(presence.connect(&alice));
        assert!(!presence.connect(&alice));
        assert!(!presence.disconnect(&alice));
        assert!(presence.is_online(&alice));
        assert!(presence.disconnect(&alice));
        assert!(!presence.is_online(&alice));
        assert!(!presence.disconnect(&alice));
    }
}
