//! Persisted notifications (SPEC R-NOTE-1) are stored by the store in the transaction of the
//! action they report (a buffered action's with its buffered write); this tells them live.

use super::events;
use super::views;
use crate::live::hub::Bus;
use conclave_protocol::ServerFrame;
use conclave_store::NotificationRecord;

/// Tells each stored notification's user, live when connected.
pub fn push(bus: &dyn Bus, stored: &[NotificationRecord]) {
    for notice in stored {
        let frame = ServerFrame::NotificationCreated { notification: views::notification(notice) };
        events::to_users(bus, vec![notice.user_id.clone()], &frame);
    }
}
