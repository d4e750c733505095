//! Joining over whichever transport the network lets through: QUIC first,
//! with a head start, then the WebSocket over TCP; the first to come up
//! carries the connection and the other is dropped. A network where UDP did
//! not get through is remembered for a while, and both are tried at once
//! there: the room comes up on TCP at once, and QUIC still wins whenever UDP
//! works again (so every reconnect re-probes it). While on the WebSocket, a
//! QUIC handshake is tried now and then in the background (nothing said to
//! the room); when one gets through, the link ends with "reconnecting" and
//! the client core comes back over QUIC, keeping its place (the resume path).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use tsunagu_protocol::CloseReason;

use crate::invite::Invite;
use crate::link::{Channel, ClientLink, Connector, DatagramSender, DatagramTap, LinkEnd, LinkEvent};
use crate::quic::{CONNECT_TIMEOUT, QuicClient, RECONNECT_TIMEOUT, WireStats};
use crate::wss::WssClient;
use crate::wss::proxy::ProxyChoice;

/// How long QUIC has alone before the WebSocket starts too: a QUIC handshake
/// on a working ward network is done well within it.
pub const QUIC_HEAD_START: Duration = Duration::from_millis(250);
/// How long a network where UDP did not get through is remembered.
pub const UDP_BROKEN_FOR: Duration = Duration::from_secs(10 * 60);
/// How often a connection carried by the WebSocket tries QUIC again.
pub const QUIC_REPROBE_EVERY: Duration = Duration::from_secs(30);
/// Frames queued before either transport is up, at most (a Hello, a few events).
const MOST_EARLY_FRAMES: usize = 64;

/// Which transport carries a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// QUIC over UDP.
    Quic,
    /// WebSocket over TLS on TCP.
    Wss,
}

/// Networks where UDP did not get through, until when.
#[derive(Clone, Default)]
pub struct UdpMemory(Arc<Mutex<HashMap<String, Instant>>>);

/// This program's memory of networks (one per process: a restart tries QUIC first again).
static PROCESS_UDP_MEMORY: LazyLock<UdpMemory> = LazyLock::new(UdpMemory::default);

impl UdpMemory {
    /// The one this program shares between its connections.
    pub fn process() -> UdpMemory {
        PROCESS_UDP_MEMORY.clone()
    }

    fn broken(&self, network: &str, now: Instant) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(network).is_some_and(|until| now < *until)
    }

    fn note(&self, network: &str, udp_works: bool, now: Instant) {
        let mut networks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if udp_works {
            networks.remove(network);
        } else {
            networks.insert(network.to_owned(), now + UDP_BROKEN_FOR);
        }
    }
}

/// Names the network a connection to `invite` goes out on: the local address
/// the system would send from (asked of a UDP socket, which sends nothing),
/// and the room's address. Another Wi-Fi, another name.
fn network_of(invite: &Invite) -> String {
    let local = std::net::UdpSocket::bind(if invite.host.contains(':') { "[::]:0" } else { "0.0.0.0:0" })
        .and_then(|socket| {
            socket.connect((invite.host.as_str(), invite.port))?;
            socket.local_addr()
        })
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    format!("{local} -> {}:{}", invite.host, invite.port)
}

/// Where and how a racing connection goes.
#[derive(Clone)]
pub struct RaceSettings {
    /// The room.
    pub invite: Invite,
    /// The proxy for the WebSocket (QUIC never goes through one).
    pub proxy: ProxyChoice,
    /// QUIC's head start.
    pub head_start: Duration,
    /// Networks where UDP is broken.
    pub memory: UdpMemory,
    /// From this local address (tests and benches standing in for other hosts).
    pub local: Option<IpAddr>,
    /// While on the WebSocket, how often to try QUIC again.
    pub reprobe_every: Duration,
}

impl RaceSettings {
    /// The room `invite` names, QUIC with its head start, the system's proxy.
    pub fn new(invite: Invite) -> RaceSettings {
        RaceSettings {
            invite,
            proxy: ProxyChoice::FromSystem,
            head_start: QUIC_HEAD_START,
            memory: UdpMemory::process(),
            local: None,
            reprobe_every: QUIC_REPROBE_EVERY,
        }
    }
}

/// Opens racing connections: the first with [`CONNECT_TIMEOUT`] (a join),
/// later ones with [`RECONNECT_TIMEOUT`].
pub struct RacingConnector {
    settings: RaceSettings,
    opened: u32,
    stats: WireStats,
}

impl RacingConnector {
    /// Connections to the room `settings` names.
    pub fn new(settings: RaceSettings) -> RacingConnector {
        RacingConnector { settings, opened: 0, stats: WireStats::default() }
    }

    /// What its QUIC connections put on the wire.
    pub fn stats(&self) -> WireStats {
        self.stats.clone()
    }
}

impl Connector for RacingConnector {
    fn open(&mut self) -> Result<Box<dyn ClientLink>, String> {
        let timeout = if self.opened == 0 { CONNECT_TIMEOUT } else { RECONNECT_TIMEOUT };
        self.opened += 1;
        Ok(Box::new(RacingLink::start(self.settings.clone(), timeout, self.stats.clone())?))
    }
}

/// One connection while its transports race, then the winner's.
pub struct RacingLink {
    settings: RaceSettings,
    network: String,
    timeout: Duration,
    started: Instant,
    head_start: Duration,
    quic: Option<Box<dyn ClientLink>>,
    wss: Option<Box<dyn ClientLink>>,
    wss_tried: bool,
    winner: Option<(Transport, Box<dyn ClientLink>)>,
    /// What arrived from the winner as it won, handed on first.
    first_event: Option<LinkEvent>,
    early_frames: Vec<(Channel, Vec<u8>)>,
    tap: Option<DatagramTap>,
    sender: Arc<Mutex<Option<DatagramSender>>>,
    ends: Vec<LinkEnd>,
    said_end: bool,
    closing: Option<CloseReason>,
    /// On the WebSocket: the next QUIC try, and the one under way.
    reprobe: Option<(Instant, Option<QuicClient>)>,
    /// A QUIC try got through: the link ended to come back over QUIC.
    moving_to_quic: bool,
}

impl RacingLink {
    fn start(settings: RaceSettings, timeout: Duration, stats: WireStats) -> Result<RacingLink, String> {
        let network = network_of(&settings.invite);
        let started = Instant::now();
        let remembered = settings.memory.broken(&network, started);
        let head_start = if remembered { Duration::ZERO } else { settings.head_start };
        let quic = QuicClient::start(&settings.invite, timeout, stats, settings.local).map_err(|e| e.to_string())?;
        let mut link = RacingLink {
            settings,
            network,
            timeout,
            started,
            head_start,
            quic: Some(Box::new(quic)),
            wss: None,
            wss_tried: false,
            winner: None,
            first_event: None,
            early_frames: Vec::new(),
            tap: None,
            sender: Arc::default(),
            ends: Vec::new(),
            said_end: false,
            closing: None,
            reprobe: None,
            moving_to_quic: false,
        };
        link.step();
        Ok(link)
    }

    /// Which transport carries it, once one does.
    pub fn transport(&self) -> Option<Transport> {
        self.winner.as_ref().map(|(t, _)| *t)
    }

    fn start_wss(&mut self) {
        self.wss_tried = true;
        let port = self.settings.invite.tcp_port.unwrap_or(crate::wss::DEFAULT_TCP_PORT);
        match WssClient::connect_from(&self.settings.invite, port, &self.settings.proxy, self.timeout, self.settings.local) {
            Ok(wss) => self.wss = Some(Box::new(wss)),
            Err(_) => self.ends.push(LinkEnd::Lost),
        }
    }

    fn win(&mut self, transport: Transport, mut link: Box<dyn ClientLink>) {
        for (channel, frame) in self.early_frames.drain(..) {
            link.send(channel, frame);
        }
        if let Some(tap) = self.tap.clone() {
            link.set_datagram_tap(tap);
        }
        *self.sender.lock().unwrap_or_else(|e| e.into_inner()) = link.datagram_sender();
        if let Some(reason) = self.closing {
            link.close(reason);
        }
        let udp_works = transport == Transport::Quic;
        // Only a race QUIC had its head start in says UDP is broken.
        if udp_works || self.head_start > Duration::ZERO || self.quic.is_none() {
            self.settings.memory.note(&self.network, udp_works, Instant::now());
        }
        self.quic = None;
        self.wss = None;
        if transport == Transport::Wss {
            self.reprobe = Some((Instant::now() + self.settings.reprobe_every, None));
        }
        self.winner = Some((transport, link));
    }

    /// On the WebSocket: try QUIC now and then; when it gets through, end
    /// this link so the core comes back over QUIC with its place kept.
    fn reprobe(&mut self) -> Option<LinkEvent> {
        let (next, probe) = self.reprobe.as_mut()?;
        match probe {
            None if Instant::now() >= *next => {
                *probe = QuicClient::start(&self.settings.invite, RECONNECT_TIMEOUT, WireStats::default(), self.settings.local).ok();
                *next = Instant::now() + self.settings.reprobe_every;
                None
            }
            None => None,
            Some(quic) if quic.is_up() => {
                quic.close(CloseReason::Left);
                self.reprobe = None;
                self.settings.memory.note(&self.network, true, Instant::now());
                if let Some((_, link)) = &mut self.winner {
                    link.close(CloseReason::Reconnecting);
                }
                self.moving_to_quic = true;
                Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::Reconnecting)))
            }
            Some(quic) => {
                if let Some(LinkEvent::Closed(_)) = quic.try_recv() {
                    *probe = None;
                }
                None
            }
        }
    }

    /// Move the race on: start the WebSocket when QUIC's head start is over
    /// (or QUIC failed), and crown the first that is up.
    fn step(&mut self) {
        if self.winner.is_some() {
            return;
        }
        for transport in [Transport::Quic, Transport::Wss] {
            let slot = match transport {
                Transport::Quic => &mut self.quic,
                Transport::Wss => &mut self.wss,
            };
            let Some(link) = slot.as_mut() else { continue };
            if link.is_up() {
                let link = slot.take().expect("just seen");
                self.win(transport, link);
                return;
            }
            match link.try_recv() {
                Some(LinkEvent::Closed(end)) => {
                    *slot = None;
                    self.ends.push(end);
                }
                // Up between the two looks: it won, with this to hand on first.
                Some(event) => {
                    let link = slot.take().expect("just seen");
                    self.first_event = Some(event);
                    self.win(transport, link);
                    return;
                }
                None => {}
            }
        }
        if !self.wss_tried && (self.quic.is_none() || self.started.elapsed() >= self.head_start) {
            self.start_wss();
        }
    }

    /// Why it never came up: the most telling of the transports' reasons.
    fn why_not(&self) -> LinkEnd {
        let rank = |end: &LinkEnd| match end {
            LinkEnd::WrongCertificate => 0,
            LinkEnd::Intercepted => 1,
            LinkEnd::ProxyNeedsPassword => 2,
            LinkEnd::ProxyRefused => 3,
            LinkEnd::ProxyUnreachable => 4,
            LinkEnd::Reason(_) => 5,
            LinkEnd::Busy => 6,
            LinkEnd::Lost | LinkEnd::TimedOut => 7,
            LinkEnd::Unreachable => 8,
        };
        self.ends.iter().copied().min_by_key(rank).unwrap_or(LinkEnd::Unreachable)
    }
}

impl ClientLink for RacingLink {
    fn send(&mut self, channel: Channel, frame: Vec<u8>) {
        match &mut self.winner {
            Some((_, link)) => link.send(channel, frame),
            None if self.early_frames.len() < MOST_EARLY_FRAMES => self.early_frames.push((channel, frame)),
            None => {}
        }
    }

    fn send_datagram(&mut self, datagram: Vec<u8>) {
        // Before either is up a datagram has nowhere to go, as on a network.
        if let Some((_, link)) = &mut self.winner {
            link.send_datagram(datagram);
        }
    }

    fn try_recv(&mut self) -> Option<LinkEvent> {
        self.step();
        if let Some(event) = self.first_event.take() {
            return Some(event);
        }
        if self.moving_to_quic {
            return None;
        }
        if let Some(moved) = self.reprobe() {
            return Some(moved);
        }
        if let Some((_, link)) = &mut self.winner {
            return link.try_recv();
        }
        if self.quic.is_none() && self.wss_tried && self.wss.is_none() && !self.said_end {
            // Said once: afterwards the link is closed, as any other.
            self.said_end = true;
            return Some(LinkEvent::Closed(self.why_not()));
        }
        None
    }

    fn close(&mut self, reason: CloseReason) {
        match &mut self.winner {
            Some((_, link)) => link.close(reason),
            None => {
                self.closing.get_or_insert(reason);
                for link in [&mut self.quic, &mut self.wss].into_iter().flatten() {
                    link.close(reason);
                }
            }
        }
    }

    fn datagram_sender(&self) -> Option<DatagramSender> {
        let sender = self.sender.clone();
        Some(Arc::new(move |datagram| {
            let current = sender.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(send) = current {
                send(datagram);
            }
        }))
    }

    fn set_datagram_tap(&mut self, tap: DatagramTap) -> bool {
        if let Some((_, link)) = &mut self.winner {
            link.set_datagram_tap(tap.clone());
        }
        self.tap = Some(tap);
        true
    }

    fn is_up(&self) -> bool {
        self.winner.as_ref().is_some_and(|(_, link)| link.is_up())
    }
}
