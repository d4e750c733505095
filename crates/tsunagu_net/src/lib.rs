//! How bytes travel between a client and a room server. The rest of Tsunagu sees
//! only the link traits here, so the in-memory transport (tests, and the embedded
//! room until QUIC lands) and the QUIC transport are interchangeable. No Bevy.
//!
//! Channels: `Control` and `Events` are reliable, ordered streams of frames;
//! datagrams are unreliable and carry poses (and, later, voice).

pub mod invite;
pub mod link;
pub mod memory;
pub mod quic;
pub mod session;

pub use link::{Channel, ClientLink, ConnId, LinkEnd, LinkEvent, ServerLinkEvent, ServerLinks};
