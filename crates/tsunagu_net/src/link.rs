//! The transport interface both backends implement.

use std::time::Instant;

use tsunagu_protocol::{CloseReason, DatagramKind};

/// A datagram as it arrived: its kind (from its tag, not decoded) and when the
/// transport's own thread received it, which may be well before the room or
/// the render loop gets to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Datagram {
    /// What it carries.
    pub kind: DatagramKind,
    /// When it came off the network.
    pub arrived: Instant,
    /// The payload.
    pub bytes: Vec<u8>,
}

/// When something stamped `arrived` came in, on a caller's clock that reads
/// `now` at this moment (the room's and the client's clocks are Durations
/// from a start of their own; the transport stamps with `Instant`).
pub fn arrival_on_clock(arrived: Instant, now: std::time::Duration) -> std::time::Duration {
    now.saturating_sub(Instant::now().saturating_duration_since(arrived))
}

impl Datagram {
    /// A datagram arriving now.
    pub fn arriving(bytes: Vec<u8>) -> Datagram {
        Datagram { kind: DatagramKind::of(&bytes), arrived: Instant::now(), bytes }
    }
}

/// A reliable, ordered stream of frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Handshake and connection life: Hello, Welcome, Rejected, Closing.
    Control,
    /// Room changes: joins, leaves, looks; later chat, stamps and gestures.
    Events,
}

/// What a client's link delivers.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEvent {
    /// A frame on a reliable channel.
    Frame(Channel, Vec<u8>),
    /// A datagram.
    Datagram(Datagram),
    /// The connection ended; nothing more will arrive.
    Closed(LinkEnd),
}

/// Why a connection ended, as far as the transport can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkEnd {
    /// The other side closed it and said why.
    Reason(CloseReason),
    /// Nothing answered at the invite's address.
    Unreachable,
    /// The server's certificate does not match the invite: not the room you were invited to.
    WrongCertificate,
    /// The connection went quiet for too long.
    TimedOut,
    /// The server turned the connection away at the door: it is busy (too
    /// many connections, or too many from this address just now). Try again.
    Busy,
    /// It ended without a reason we understand.
    Lost,
    /// Something between us and the room (a TLS-inspecting proxy or
    /// firewall) showed its own certificate instead of the room's: nothing
    /// was sent. Hospital IT can exempt the room's address from inspection.
    Intercepted,
    /// The proxy set for this PC did not answer.
    ProxyUnreachable,
    /// The proxy wants a user name and password, or did not accept them.
    ProxyNeedsPassword,
    /// The proxy would not connect us to the room.
    ProxyRefused,
}

/// A server-side connection id, unique for the server's lifetime.
pub type ConnId = u64;

/// What the server's links deliver.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerLinkEvent {
    /// A client connected (the transport handshake is done; the room handshake is not).
    Connected(ConnId),
    /// A frame or datagram from a client, or its disconnection.
    Received(ConnId, LinkEvent),
}

/// Sends datagrams on one connection from any thread, without waiting for
/// the owner's next poll (voice, from the capture thread). Sending after the
/// connection ended does nothing.
pub type DatagramSender = std::sync::Arc<dyn Fn(Vec<u8>) + Send + Sync>;

/// Sees each datagram as it comes off the network, on the transport's own
/// thread, before it is queued for the owner's next poll; `true` takes it
/// (it is not queued). Voice goes straight to the mix this way, so a slow
/// rendered frame delays no voice.
pub type DatagramTap = std::sync::Arc<dyn Fn(&Datagram) -> bool + Send + Sync>;

/// The client end of one connection.
pub trait ClientLink: Send {
    /// Queue a reliable frame. Sending on a closed link does nothing.
    fn send(&mut self, channel: Channel, frame: Vec<u8>);
    /// Send a datagram; it may be lost.
    fn send_datagram(&mut self, datagram: Vec<u8>);
    /// The next delivered event, if any. Never blocks.
    fn try_recv(&mut self) -> Option<LinkEvent>;
    /// Close the connection, telling the server why.
    fn close(&mut self, reason: CloseReason);
    /// A [`DatagramSender`] for this connection, if the transport has one.
    fn datagram_sender(&self) -> Option<DatagramSender> {
        None
    }
    /// Whether the connection is up (its handshake done); frames sent
    /// before are queued. Transports that cannot tell say yes.
    fn is_up(&self) -> bool {
        true
    }
    /// Show every arriving datagram to `tap` first (see [`DatagramTap`]).
    /// Returns whether this transport does; one that does not queues them all.
    fn set_datagram_tap(&mut self, _tap: DatagramTap) -> bool {
        false
    }
}

/// The server end of all connections.
pub trait ServerLinks: Send {
    /// The next delivered event, if any. Never blocks.
    fn try_recv(&mut self) -> Option<ServerLinkEvent>;
    /// Queue a reliable frame to one client.
    fn send(&mut self, conn: ConnId, channel: Channel, frame: Vec<u8>);
    /// Send a datagram to one client; it may be lost.
    fn send_datagram(&mut self, conn: ConnId, datagram: Vec<u8>);
    /// Close one connection with a reason the client can show.
    fn close(&mut self, conn: ConnId, reason: CloseReason);
    /// Reliable frames queued for `conn` and not yet written to the
    /// network: a sender of bulk (a page's bytes) waits while it is more
    /// than a few. 0 where the transport cannot tell.
    fn frames_waiting(&self, _conn: ConnId) -> usize {
        0
    }
    /// The largest datagram that can go to `conn` now (the path's, at most
    /// the protocol's 1,200 bytes); 0 if it cannot take datagrams.
    fn max_datagram(&self, _conn: ConnId) -> usize {
        tsunagu_protocol::limits::MAX_DATAGRAM_BYTES
    }
    /// An opaque key for where connection `conn` comes from: the same for
    /// connections from one address (an IPv4 address, or an IPv6 /64), never
    /// the address itself (salted per server run, so it is no use outside it
    /// and nothing that could name a person is kept); 0 when unknown. The
    /// room uses it to hold its decisions about people together.
    fn address_key(&self, _conn: ConnId) -> u64 {
        0
    }
    /// Block until something arrives or `timeout` passes; what arrived is
    /// then returned by [`ServerLinks::try_recv`]. The default only sleeps.
    fn wait(&mut self, timeout: std::time::Duration) {
        std::thread::sleep(timeout);
    }
}

/// Opens client links to one room: the first join and every reconnect. The
/// client core owns one, so it can come back after a drop by itself.
pub trait Connector: Send {
    /// Start a new connection; failure to connect arrives later as
    /// [`LinkEvent::Closed`], so `Err` only means it could not even start.
    fn open(&mut self) -> Result<Box<dyn ClientLink>, String>;
}
