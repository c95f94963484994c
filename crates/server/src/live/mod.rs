//! Live delivery on this node: the [`hub::Hub`] (who is online, which rooms their sessions
//! receive, fan-out) and each connection's bounded [`outbox::Outbox`]. The application layer
//! publishes [`hub::Event`]s on a [`hub::Bus`]; the gateway registers sessions and drains their
//! outboxes into sockets. Nothing here knows the store, HTTP or the application's rules.

pub mod hub;
pub mod outbox;
pub mod redis_bus;
pub mod sequencer;

/// A serialised frame, shared by every session that receives it (cloning it copies nothing).
pub type Frame = bytestring::ByteString;
