//! The black-box tests, one binary: each module starts the real `conclave` binary (on the
//! embedded store, or on MongoDB with `CONCLAVE_TEST_STORE=mongodb`) and drives it as clients do.
//! One binary links once, which matters on a 2-core CI machine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::as_conversions,
    reason = "a test fails by panicking"
)]

mod accounts;
mod at_rest;
mod attachments;
mod audit;
mod backup;
mod client;
mod cluster;
mod crash;
mod errors;
mod gateway;
mod jobs;
mod key_rotation;
mod messages;
mod mongodb;
mod notifications;
mod ops;
mod rooms;
mod terminal;
mod web_policy;
mod websocket_protocol;
mod write_behind;
