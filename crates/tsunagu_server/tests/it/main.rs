//! End-to-end tests of the room server: the real server over real QUIC on
//! loopback with several headless clients (no renderer: these build in seconds).
//! One binary, several modules.
#![allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]

mod attacks;
mod expression;
mod harness;
mod hospital_network;
mod privacy;
mod relay;
mod restart;
mod service;
mod sync;
mod voice;
