//! The QUIC transport: quinn with rustls (ring), TLS 1.3 only, ALPN `tsunagu/1`.
//! `identity` makes and keeps the server's certificate, `framing` reads and
//! writes frames and datagrams, `server` and `client` are the two ends.
//!
//! Each side runs its network work on a small tokio runtime of its own and
//! talks to the rest of the program through the link traits, so the room
//! server and the client never see async code. Datagrams are stamped with
//! their arrival time on that runtime's thread, not when the room or the
//! render loop gets to them.
//!
//! Streams: the client opens one bidirectional stream (control); each side may
//! open one unidirectional stream (events). Frames on both are a 4-byte
//! big-endian length and that many bytes of MessagePack, at most
//! `MAX_FRAME_BYTES`. Poses go as QUIC datagrams.
//!
//! Limits an untrusted peer cannot talk us out of: one bidirectional and one
//! unidirectional stream per connection, small flow-control windows, a total
//! and a per-address connection cap, a deadline for the control stream,
//! traffic limits applied as data arrives (before it is queued), and bounded
//! queues everywhere: what does not fit is dropped and counted (datagrams) or
//! the connection is closed (frames; a peer that does not read).

pub(crate) mod client;
mod door;
pub(crate) mod framing;
mod identity;
pub(crate) mod server;

use std::sync::Arc;
use std::time::Duration;

use quinn::VarInt;

pub use client::{QuicClient, QuicConnector, WireStats};
pub use identity::{fingerprint, load_or_create_identity};
pub use server::{QueueDrops, QuicServer, QuicServerConfig};

/// How long a client may take to open its control stream after the handshake
/// (a real client opens it at once; a connection that does not is closed
/// before it can hold a place).
pub const CONTROL_DEADLINE: Duration = Duration::from_secs(1);
/// How long a client waits for the server to answer before calling it unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// How long one reconnect attempt waits for the handshake. Shorter than a
/// first join: the server was just there, and after a one-way outage a fresh
/// attempt gets through sooner than a handshake deep in its retransmission
/// back-off (see `tsunagu_client_core::RECONNECT_BACKOFF`).
pub const RECONNECT_TIMEOUT: Duration = Duration::from_millis(1500);
/// The round-trip time assumed before one is measured. quinn's default
/// (333 ms) spaces handshake retransmissions 1, 2, 4 s apart; ward networks
/// are well under 100 ms, and a lost Initial is resent sooner.
const INITIAL_RTT: Duration = Duration::from_millis(100);
/// Keep-alive ping interval: keeps ward NAT mappings open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(4);
/// A connection silent this long is gone.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Events waiting for the room thread (or the client's frame loop). At 50
/// clients × (30 poses + a few frames) a second, about a second of input.
pub const INBOX_CAPACITY: usize = 4096;
/// Frames waiting to be written to one peer. A peer this far behind is not
/// reading: it is closed, not buffered.
pub const OUTBOX_CAPACITY: usize = 256;

/// Anything that stops a QUIC endpoint from starting.
#[derive(Debug, thiserror::Error)]
pub enum QuicError {
    /// Socket or file trouble.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// TLS setup failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The certificate could not be made or read.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The key or certificate file is not private to us.
    #[error("{0}")]
    Private(#[from] crate::private_files::PrivateFileError),
}

fn transport_config() -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    // quinn's defaults let one connection make us buffer ~250 MB; ours are tiny messages.
    t.max_concurrent_bidi_streams(VarInt::from_u32(1))
        .max_concurrent_uni_streams(VarInt::from_u32(1))
        .stream_receive_window(VarInt::from_u32(64 * 1024))
        .receive_window(VarInt::from_u32(256 * 1024))
        .send_window(1024 * 1024)
        .datagram_receive_buffer_size(Some(64 * 1024))
        .initial_rtt(INITIAL_RTT)
        .keep_alive_interval(Some(KEEP_ALIVE))
        .max_idle_timeout(Some(IDLE_TIMEOUT.try_into().unwrap_or(quinn::IdleTimeout::from(VarInt::from_u32(15_000)))));
    Arc::new(t)
}

pub(crate) fn runtime(name: &str, workers: usize) -> Result<tokio::runtime::Runtime, QuicError> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(workers).thread_name(name).enable_all().build()?)
}

pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[cfg(test)]
pub(crate) mod tests;
