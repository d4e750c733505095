//! The second transport: WebSocket over TLS on TCP, for hospital networks
//! that drop UDP or allow only an HTTP proxy. The same messages as QUIC, the
//! same pinned certificate, the same limits.
//!
//! One WebSocket at `wss://HOST:PORT/tsunagu` with the subprotocol
//! `tsunagu.1`; every message is binary: one tag byte (1: a control frame,
//! 2: an events frame, 3: a datagram), then the bytes QUIC would carry
//! without its 4-byte length. Datagrams become messages too: TCP delivers
//! them all, in order, so the writer sends voice first and only the newest
//! pose (`outbox`). A close says why with the code 4000 + the reason's code.
//! Tag 4 is the network check's rough speed measure, allowed only as a
//! connection's first message (see [`Tag::Measure`]).
//!
//! Why WebSocket rather than our own framing over TLS: it passes HTTP
//! proxies and the inspecting middleboxes hospitals run; bare TLS with
//! unknown content does not.

mod client;
pub mod outbox;
pub mod proxy;
mod server;

use std::time::Duration;

pub use client::{Bandwidth, WssClient, measure_bandwidth};
pub(crate) use server::serve_wss;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tsunagu_protocol::CloseReason;
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};

use crate::link::{Channel, Datagram, LinkEvent};

/// The WebSocket's path.
pub const PATH: &str = "/tsunagu";
/// The WebSocket subprotocol (`Sec-WebSocket-Protocol`).
pub const SUBPROTOCOL: &str = "tsunagu.1";
/// The TCP port a client tries when the invite names none: the one every
/// hospital firewall lets out.
pub const DEFAULT_TCP_PORT: u16 = 443;
/// A WebSocket close code is this plus the reason's code (4000–4999 are the
/// application's).
pub const CLOSE_CODE_BASE: u16 = 4000;
/// Ping interval: keeps proxies and NATs from timing the connection out,
/// and shows the other side it is alive.
pub const KEEP_ALIVE: Duration = crate::quic::KEEP_ALIVE;
/// Nothing heard for this long (not even a ping): the connection is gone.
pub const IDLE_TIMEOUT: Duration = crate::quic::IDLE_TIMEOUT;
/// A peer that takes longer than this to take one message off us is not
/// reading: it is closed, not buffered for.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(5);

/// The first byte of every message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Tag {
    /// A frame of the control channel.
    Control = 1,
    /// A frame of the events channel.
    Events = 2,
    /// A datagram.
    Datagram = 3,
    /// The network check's speed measure, instead of `Hello` as a
    /// connection's first message only (so within its 1 s): up to
    /// [`MAX_FRAME_BYTES`] bytes of anything (the upload sample); the server
    /// answers at once with this tag alone, then [`MEASURE_DOWN_MESSAGES`]
    /// messages of this tag carrying [`MAX_FRAME_BYTES`] zero bytes each,
    /// then closes as `Left`. Anywhere else it is a violation.
    Measure = 4,
}

/// How many full messages the server answers a measure with (64 KiB in all:
/// long enough to time on a ward line, short enough to cost nothing).
pub const MEASURE_DOWN_MESSAGES: usize = 4;

impl Tag {
    fn of(channel: Channel) -> Tag {
        match channel {
            Channel::Control => Tag::Control,
            Channel::Events => Tag::Events,
        }
    }
}

/// A message: the tag, then the bytes.
pub fn message(tag: Tag, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(tag as u8);
    out.extend_from_slice(bytes);
    out
}

/// What a message carries, or why it breaks the rules (the connection is
/// then closed as a protocol violation).
pub fn read_message(bytes: &[u8]) -> Result<LinkEvent, &'static str> {
    let (tag, rest) = bytes.split_first().ok_or("an empty message")?;
    match *tag {
        1 | 2 if rest.len() > MAX_FRAME_BYTES => Err("a frame is larger than the limit"),
        1 => Ok(LinkEvent::Frame(Channel::Control, rest.to_vec())),
        2 => Ok(LinkEvent::Frame(Channel::Events, rest.to_vec())),
        3 if rest.len() > MAX_DATAGRAM_BYTES => Err("a datagram over the size limit"),
        3 => Ok(LinkEvent::Datagram(Datagram::arriving(rest.to_vec()))),
        4 => Err("a speed measure that is not the first message"),
        _ => Err("a message with an unknown tag"),
    }
}

/// The WebSocket's own limits: nothing larger than one frame and its tag is
/// ever read into memory.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES + 1))
        .max_frame_size(Some(MAX_FRAME_BYTES + 1))
        .write_buffer_size(0)
        .max_write_buffer_size(4 * (MAX_FRAME_BYTES + 1))
}

/// The close code that carries `reason`.
pub fn close_code(reason: CloseReason) -> u16 {
    CLOSE_CODE_BASE + reason.code() as u16
}

/// The reason a close code carries, if it is one of ours.
pub fn close_reason(code: u16) -> Option<CloseReason> {
    code.checked_sub(CLOSE_CODE_BASE).and_then(|c| CloseReason::from_code(u64::from(c)))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod message_tests {
    use super::*;

    #[test]
    fn messages_carry_their_channel_and_the_limits_hold() {
        assert_eq!(read_message(&message(Tag::Control, b"hi")), Ok(LinkEvent::Frame(Channel::Control, b"hi".to_vec())));
        assert_eq!(read_message(&message(Tag::Events, b"")), Ok(LinkEvent::Frame(Channel::Events, vec![])));
        assert!(matches!(read_message(&[3, 0x81, 0xa1, b'V']), Ok(LinkEvent::Datagram(d)) if d.bytes == [0x81, 0xa1, b'V']));
        assert!(read_message(&[]).is_err());
        assert!(read_message(&[0, 1]).is_err());
        assert!(read_message(&[9]).is_err());
        assert!(read_message(&[4]).is_err(), "a speed measure is only ever a first message, read by the door itself");
        assert!(read_message(&message(Tag::Datagram, &vec![0; MAX_DATAGRAM_BYTES + 1])).is_err());
        assert!(read_message(&message(Tag::Events, &vec![0; MAX_FRAME_BYTES + 1])).is_err());
        assert!(read_message(&message(Tag::Events, &vec![0; MAX_FRAME_BYTES])).is_ok());
    }

    #[test]
    fn close_codes_carry_the_reason() {
        for code in 0..20 {
            if let Some(reason) = CloseReason::from_code(code) {
                assert_eq!(close_reason(close_code(reason)), Some(reason));
            }
        }
        assert_eq!(close_reason(1000), None);
        assert_eq!(close_reason(4999), None);
    }
}
