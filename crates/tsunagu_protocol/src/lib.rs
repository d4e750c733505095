//! The Tsunagu wire contract: every message as a serde type, the MessagePack codec
//! with explicit limits, and pose quantisation. No Bevy, no I/O.
//!
//! `docs/protocol.md` is the human-readable form of this crate; snapshot tests of
//! encoded bytes keep the two in step.

pub mod codec;
pub mod delta;
pub mod limits;
pub mod messages;
pub mod nickname;
pub mod quant;
pub mod screen;

pub use codec::{DecodeError, decode, encode, hello_version};
pub use messages::*;
pub use nickname::{
    NicknameProblem, chat_problem, has_staff_word, nickname_is_valid, nickname_key, nickname_problem, normalize_chat, normalize_nickname,
};
pub use quant::{QuantPose, QuantQuat, QuantVec};
pub use screen::{Ink, PageInfo, PageKind, PagePiece, PagePreview, Pen, ScreenAction, Showing, StrokePiece, pack_points, page_hash};

/// Bumped whenever the wire format changes in a way an old peer cannot read.
pub const PROTOCOL_VERSION: u16 = 13;

/// QUIC ALPN protocol id; a peer that does not offer it is refused in the TLS handshake.
pub const ALPN: &[u8] = b"tsunagu/1";

#[cfg(test)]
mod tests;
