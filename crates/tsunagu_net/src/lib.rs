//! How bytes travel between a client and a room server. The rest of Tsunagu sees
//! only the link traits here, so the in-memory transport (the stepper's tests)
//! and the QUIC transport are interchangeable. No Bevy, no room logic: the
//! client's half of the protocol lives in `tsunagu_client_core`.
//!
//! Channels: `Control` and `Events` are reliable, ordered streams of frames;
//! datagrams are unreliable and carry poses (and, later, voice).

pub mod invite;
pub mod link;
pub mod memory;
pub mod netcheck;
pub mod private_files;
pub mod quic;
pub mod race;
pub mod wss;

pub mod limits;

pub use link::{
    Channel, ClientLink, ConnId, Connector, Datagram, DatagramSender, DatagramTap, LinkEnd, LinkEvent, ServerLinkEvent, ServerLinks, arrival_on_clock,
};
