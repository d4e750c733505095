//! The room server: takes connections from any [`ServerLinks`] transport, runs
//! the room handshake and rules, and sends each client what it should see at a
//! fixed tick. Headless; no renderer, no window, no sound.
//!
//! The core is a plain state machine stepped with a clock (`step(now)`), not an
//! ECS app: a room holds a few dozen people, and a stepped struct gives the
//! stepper and tests full control of time with nothing to schedule.
//!
//! Long because the step, the handshake's dispatch and the closing share the
//! connection table; joining, telling, sending and pages are their own files.

pub mod codes;
mod codes_keeper;
pub mod embedded;
mod joining;
mod pages;
mod sending;
pub mod stats;
mod telling;

use std::collections::HashMap;
use std::time::Duration;

use tsunagu_net::limits::TrafficAllowance;
use tsunagu_net::{Channel, ConnId, LinkEnd, LinkEvent, ServerLinkEvent, ServerLinks, arrival_on_clock};
use tsunagu_protocol::delta::ViewHistory;
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};
use tsunagu_protocol::{
    ClientControl, ClientDatagram, ClientEvent, CloseReason, EventKind, PROTOCOL_VERSION, PeerId, Refusal, RefusalReason, RejectReason,
    ServerControl, ServerDatagram, ServerEvent, VoiceFrame, decode, encode, hello_version,
};
use tsunagu_room::interest::Interest;
use tsunagu_room::limits::TRAFFIC;
use tsunagu_room::voice::VoiceOutcome;
use tsunagu_room::{PoseOutcome, Room, RoomConfig, seq_is_newer};
// Room codes are the room's business; the server and its tests name them from here too.
pub use tsunagu_room::codes::{CODE_ALPHABET, CODE_CHARS, fresh_room_config, new_room_code};

use crate::codes_keeper::CodesKeeper;
pub use crate::codes_keeper::CodesSaver;

/// Snapshots per second.
pub const TICK_RATE_HZ: u8 = 30;
/// A connection that has not said Hello by then is closed: a real client says
/// it at once, and a connection that does not must not hold a place.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(1);

/// A member whose client said it is reconnecting stays in the room, still,
/// this long before the others are told they left.
pub const RECONNECT_GRACE: Duration = Duration::from_secs(10);

/// A snapshot's own framing: the variant name, tick, base, count and bin header.
const SNAPSHOT_OVERHEAD: usize = 22;

#[derive(Clone, Copy)]
enum ConnState {
    AwaitingHello {
        since: Duration,
    },
    /// In the room's waiting room, until a facilitator decides.
    Waiting {
        room: usize,
        ticket: u32,
    },
    Member {
        room: usize,
        id: PeerId,
    },
}

struct Conn {
    state: ConnState,
    traffic: TrafficAllowance,
    /// Who this client is due and its byte budget (a room rule).
    interest: Interest,
    /// The newest snapshot tick the client says it received.
    acked: Option<u32>,
    /// What the client holds after each recent snapshot: the bases for deltas.
    views: ViewHistory,
    /// How much of the wall screen's pages it has been sent.
    pages: pages::PageDelivery,
}

impl Conn {
    fn new(now: Duration) -> Conn {
        Conn {
            state: ConnState::AwaitingHello { since: now },
            traffic: TrafficAllowance::new(TRAFFIC, now),
            interest: Interest::default(),
            acked: None,
            views: ViewHistory::default(),
            pages: pages::PageDelivery::default(),
        }
    }
}

/// Rooms served over one transport.
pub struct RoomServer<L: ServerLinks> {
    links: L,
    rooms: Vec<Room>,
    conns: HashMap<ConnId, Conn>,
    tick: u32,
    next_tick_at: Duration,
    shutting_down: bool,
    /// How long datagrams the server passes straight on waited inside it.
    forwarding: stats::DelayHistogram,
    /// Codes of rooms this server no longer serves (see `codes`).
    closed_codes: Vec<String>,
    /// Members whose client gave its connection up to come back on a new one
    /// (room, id, since): present to the others until [`RECONNECT_GRACE`].
    reconnecting: Vec<(usize, PeerId, Duration)>,
    /// Voice frames dropped for going over a member's voice limit.
    voice_dropped: u64,
    /// Keeps the rooms' codes when a facilitator changes them (the binary
    /// writes them to its codes file), on a thread of its own.
    codes_keeper: Option<CodesKeeper>,
}

/// How a connection's member goes.
#[derive(Clone, Copy)]
enum Leaving {
    /// A Bye, a polite close, or sent away: gone.
    Gone,
    /// The link failed: gone, place kept for the resume token.
    Dropped(Duration),
    /// The client is coming straight back: still here for now.
    Reconnecting(Duration),
}

/// The connections of `room`'s members, and whose each is.
fn members_in(conns: &HashMap<ConnId, Conn>, room: usize) -> impl Iterator<Item = (ConnId, PeerId)> + '_ {
    conns.iter().filter_map(move |(conn, c)| match c.state {
        ConnState::Member { room: r, id } if r == room => Some((*conn, id)),
        _ => None,
    })
}

impl<L: ServerLinks> RoomServer<L> {
    /// A server for one room.
    pub fn new(links: L, config: RoomConfig) -> Self {
        Self::with_rooms(links, vec![config])
    }

    /// A server for several rooms; a Hello's code picks the room.
    pub fn with_rooms(links: L, configs: Vec<RoomConfig>) -> Self {
        RoomServer {
            links,
            rooms: configs.into_iter().map(Room::new).collect(),
            conns: HashMap::new(),
            // Tick 0 is never sent: an ack_tick of 0 means "nothing yet".
            tick: 1,
            next_tick_at: Duration::ZERO,
            shutting_down: false,
            forwarding: stats::DelayHistogram::default(),
            closed_codes: Vec::new(),
            reconnecting: Vec::new(),
            voice_dropped: 0,
            codes_keeper: None,
        }
    }

    /// Keep the rooms' codes with `saver` whenever a facilitator changes them.
    pub fn with_codes_saver(mut self, saver: CodesSaver) -> Self {
        self.set_codes_saver(saver);
        self
    }

    /// The same, on a server already made.
    pub fn set_codes_saver(&mut self, saver: CodesSaver) {
        self.codes_keeper = Some(CodesKeeper::start(saver));
    }

    /// Answer these codes with "this room has closed" rather than "wrong code".
    pub fn with_closed_codes(mut self, codes: Vec<String>) -> Self {
        self.closed_codes = codes;
        self
    }

    /// The first (often the only) room.
    pub fn room(&self) -> &Room {
        &self.rooms[0]
    }

    /// All rooms.
    pub fn rooms(&self) -> &[Room] {
        &self.rooms
    }

    /// The transport, for waiting on it between ticks.
    pub fn links_mut(&mut self) -> &mut L {
        &mut self.links
    }

    /// The current tick number.
    pub fn tick(&self) -> u32 {
        self.tick
    }

    /// Voice frames dropped for going over a member's voice limit.
    pub fn voice_dropped(&self) -> u64 {
        self.voice_dropped
    }

    /// How long datagrams passed straight on (echoes, voice) waited
    /// between arriving at the transport and leaving again.
    pub fn forwarding_delays(&self) -> &stats::DelayHistogram {
        &self.forwarding
    }

    /// Open connections, members or not.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// How long until the next tick is due.
    pub fn until_next_tick(&self, now: Duration) -> Duration {
        self.next_tick_at.saturating_sub(now)
    }

    /// Handle everything that arrived, then send snapshots if a tick is due.
    /// Call it whenever the transport wakes it (see [`serve_until_stopped`]),
    /// not only at ticks: what is passed straight on leaves at once.
    pub fn step(&mut self, now: Duration) {
        while let Some(event) = self.links.try_recv() {
            self.handle(event, now);
        }
        self.report_unsaved_codes();
        if now >= self.next_tick_at {
            self.expire_silent(now);
            self.expire_reconnecting(now);
            for room in 0..self.rooms.len() {
                self.rooms[room].expire_departed(now);
                // An emptied room opens its door to whoever waited.
                self.carry_out_decisions(room, now);
                for event in self.rooms[room].tick() {
                    self.broadcast_event(room, &event, None);
                }
                if let Some(kept) = self.rooms[room].take_kept_change() {
                    self.tell_facilitators(room, &kept);
                }
            }
            self.send_snapshots();
            self.send_pages();
            // Tick 0 means "nothing yet" in acknowledgements: skip it when wrapping.
            self.tick = self.tick.checked_add(1).unwrap_or(1);
            let period = Duration::from_secs(1) / u32::from(TICK_RATE_HZ);
            // Never try to catch up a backlog of ticks after a stall.
            self.next_tick_at = (self.next_tick_at + period).max(now);
        }
    }

    /// Tell every client the server is closing, and close them.
    pub fn shutdown(&mut self) {
        self.shutting_down = true;
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.close(conn, CloseReason::ServerShutdown);
        }
    }

    fn handle(&mut self, event: ServerLinkEvent, now: Duration) {
        match event {
            ServerLinkEvent::Connected(conn) => {
                if self.shutting_down {
                    self.links.close(conn, CloseReason::ServerShutdown);
                } else {
                    self.conns.insert(conn, Conn::new(now));
                }
            }
            ServerLinkEvent::Received(conn, LinkEvent::Closed(end)) => {
                let leaving = match end {
                    LinkEnd::Reason(CloseReason::Left) => Leaving::Gone,
                    LinkEnd::Reason(CloseReason::Reconnecting) => Leaving::Reconnecting(now),
                    _ => Leaving::Dropped(now),
                };
                self.forget(conn, leaving);
            }
            ServerLinkEvent::Received(conn, event) => {
                let Some(c) = self.conns.get_mut(&conn) else { return };
                let within = match event {
                    LinkEvent::Datagram(_) => c.traffic.datagram(now),
                    _ => c.traffic.frame(now),
                };
                if !within {
                    tracing::warn!(connection = conn, "rate limit exceeded");
                    self.close(conn, CloseReason::RateLimited);
                    return;
                }
                self.handle_input(conn, event, now);
            }
        }
    }

    fn handle_input(&mut self, conn: ConnId, event: LinkEvent, now: Duration) {
        let member = match self.conns.get(&conn).map(|c| c.state) {
            Some(ConnState::Member { room, id }) => Some((room, id)),
            _ => None,
        };
        match event {
            LinkEvent::Frame(Channel::Control, bytes) => match decode::<ClientControl>(&bytes, MAX_FRAME_BYTES) {
                Ok(ClientControl::Hello(hello)) => self.on_hello(conn, &hello, now),
                Ok(ClientControl::Bye) => self.close(conn, CloseReason::Left),
                // Another version may shape its Hello differently: tell it so.
                Err(_) if member.is_none() && hello_version(&bytes).is_some_and(|v| v != PROTOCOL_VERSION) => {
                    self.refuse(conn, RejectReason::VersionMismatch { server_version: PROTOCOL_VERSION });
                }
                Err(e) => self.violation(conn, e.kind()),
            },
            LinkEvent::Frame(Channel::Events, bytes) => {
                let Some((room, id)) = member else { return self.violation(conn, "an event before Hello") };
                match decode::<ClientEvent>(&bytes, MAX_FRAME_BYTES) {
                    Ok(event) => match self.rooms[room].apply_event(id, &event, now) {
                        Ok(told) => self.carry_out(room, &event, told, now),
                        Err(refusal) => self.send_frame(conn, Channel::Events, &ServerEvent::Refused(refusal)),
                    },
                    Err(e) => self.violation(conn, e.kind()),
                }
            }
            LinkEvent::Datagram(datagram) => {
                // Before the handshake a datagram means nothing; it is dropped.
                let Some((room, id)) = member else { return };
                match decode::<ClientDatagram>(&datagram.bytes, MAX_DATAGRAM_BYTES) {
                    Ok(ClientDatagram::Pose(frame)) => {
                        // When it arrived, on this clock: poses read together at a
                        // tick did not all arrive together.
                        let arrived = arrival_on_clock(datagram.arrived, now);
                        if let PoseOutcome::Corrected(body) = self.rooms[room].accept_pose(id, &frame, arrived) {
                            self.send_frame(conn, Channel::Events, &ServerEvent::MovedTo(body));
                        }
                        let tick = self.tick;
                        // Only ticks already sent, newer than the last (wrap-safe);
                        // 0 means "nothing yet".
                        if let Some(c) = self.conns.get_mut(&conn)
                            && frame.ack_tick != 0
                            && seq_is_newer(tick, frame.ack_tick)
                            && c.acked.is_none_or(|a| seq_is_newer(frame.ack_tick, a))
                        {
                            c.acked = Some(frame.ack_tick);
                        }
                    }
                    Ok(ClientDatagram::Echo(nonce)) => {
                        if let Ok(bytes) = encode(&ServerDatagram::Echo(nonce), MAX_DATAGRAM_BYTES) {
                            self.links.send_datagram(conn, bytes);
                            self.forwarding.record(datagram.arrived.elapsed());
                        }
                    }
                    Ok(ClientDatagram::Voice(frame)) => {
                        let arrived = arrival_on_clock(datagram.arrived, now);
                        match self.rooms[room].accept_voice(id, &frame, arrived) {
                            VoiceOutcome::Forward(listeners) => self.forward_voice(room, id, frame, &listeners),
                            VoiceOutcome::Dropped { tell } => {
                                self.voice_dropped += 1;
                                if tell {
                                    let refusal = Refusal { kind: EventKind::Voice, reason: RefusalReason::TooFast };
                                    self.send_frame(conn, Channel::Events, &ServerEvent::Refused(refusal));
                                }
                            }
                        }
                        self.forwarding.record(datagram.arrived.elapsed());
                    }
                    Err(e) => self.violation(conn, e.kind()),
                }
            }
            // Handled before rate limiting, in `handle`.
            LinkEvent::Closed(_) => {}
        }
    }

    fn send_frame<T: serde::Serialize>(&mut self, conn: ConnId, channel: Channel, msg: &T) {
        match encode(msg, MAX_FRAME_BYTES) {
            Ok(bytes) => self.links.send(conn, channel, bytes),
            Err(_) => tracing::error!("could not encode a frame"),
        }
    }

    /// Pass a voice frame on, coded once, to the listeners the room chose.
    fn forward_voice(&mut self, room: usize, speaker: PeerId, frame: VoiceFrame, listeners: &[PeerId]) {
        if listeners.is_empty() {
            return;
        }
        let Ok(bytes) = encode(&ServerDatagram::Voice(speaker, frame), MAX_DATAGRAM_BYTES) else { return };
        for (conn, id) in members_in(&self.conns, room) {
            if listeners.contains(&id) {
                self.links.send_datagram(conn, bytes.clone());
            }
        }
    }

    /// Close a connection that broke the protocol. `what` is the kind of
    /// breach only: a decoder's message can carry the peer's own text.
    fn violation(&mut self, conn: ConnId, what: &'static str) {
        tracing::warn!(connection = conn, "protocol violation: {what}");
        self.close(conn, CloseReason::ProtocolViolation);
    }

    fn close(&mut self, conn: ConnId, reason: CloseReason) {
        if self.conns.contains_key(&conn) {
            self.send_frame(conn, Channel::Control, &ServerControl::Closing(reason));
            self.links.close(conn, reason);
            self.forget(conn, Leaving::Gone);
        }
    }

    /// A connection ended: its member leaves as `leaving` says.
    fn forget(&mut self, conn: ConnId, leaving: Leaving) {
        let (room, id) = match self.conns.remove(&conn).map(|c| c.state) {
            Some(ConnState::Member { room, id }) => (room, id),
            Some(ConnState::Waiting { room, ticket }) => {
                if self.rooms[room].stop_waiting(ticket) {
                    let waiting = self.rooms[room].waiting_people();
                    self.tell_facilitators(room, &waiting);
                }
                return;
            }
            _ => return,
        };
        let was_here = match leaving {
            Leaving::Gone => self.rooms[room].remove(id),
            Leaving::Dropped(now) => self.rooms[room].depart(id, now),
            Leaving::Reconnecting(now) => {
                self.reconnecting.push((room, id, now));
                return;
            }
        };
        if was_here {
            tracing::info!(room, session = id.0, dropped = matches!(leaving, Leaving::Dropped(_)), "left");
            self.broadcast_event(room, &ServerEvent::PeerLeft(id), None);
        }
    }

    /// Members who said they were reconnecting and did not come back in time
    /// leave, their place kept like any dropped member's.
    fn expire_reconnecting(&mut self, now: Duration) {
        let (late, waiting): (Vec<_>, Vec<_>) = self.reconnecting.drain(..).partition(|(_, _, since)| now.saturating_sub(*since) > RECONNECT_GRACE);
        self.reconnecting = waiting;
        for (room, id, _) in late {
            if self.rooms[room].depart(id, now) {
                tracing::info!(room, session = id.0, "did not come back");
                self.broadcast_event(room, &ServerEvent::PeerLeft(id), None);
            }
        }
    }

    fn expire_silent(&mut self, now: Duration) {
        let silent: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.state, ConnState::AwaitingHello { since } if now.saturating_sub(since) > HELLO_TIMEOUT))
            .map(|(c, _)| *c)
            .collect();
        for conn in silent {
            self.close(conn, CloseReason::ProtocolViolation);
        }
    }
}

/// Run `server` in real time until `stop` is set, then tell every client and
/// give the goodbyes time to leave. It wakes on its tick and whenever the
/// transport has a datagram to pass straight on (an echo, later voice), so
/// those leave as soon as they arrive; poses wait for the tick that uses them.
/// Used by the binary and the embedded room.
pub fn serve_until_stopped<L: ServerLinks>(mut server: RoomServer<L>, stop: &std::sync::atomic::AtomicBool) {
    use std::sync::atomic::Ordering;
    use std::time::Instant;
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        server.step(started.elapsed());
        // Bounded so a stop is noticed promptly.
        let until = server.until_next_tick(started.elapsed()).min(Duration::from_millis(50));
        server.links_mut().wait(until);
    }
    tracing::info!("shutting down: telling every client");
    let delays = server.forwarding_delays();
    if let (Some(p50), Some(p99)) = (delays.percentile(0.5), delays.percentile(0.99)) {
        tracing::info!("forwarding delay: p50 {} us, p99 {} us over {} datagrams", p50.as_micros(), p99.as_micros(), delays.count());
    }
    server.shutdown();
    let deadline = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < deadline {
        server.step(started.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Connection caps for `rooms` rooms of `capacity`: (in all, from one
/// address). One address may bring every participant (a hospital's NAT holds
/// a whole ward); in all there is room for everyone three times over, so
/// connections that never say Hello (closed after a second, and limited per
/// address and second at the door) cannot keep children out.
pub fn connection_limits(rooms: usize, capacity: usize) -> (usize, usize) {
    let people = rooms * capacity;
    (people * 3 + 16, people + 4)
}

/// The address to put in invites: the bound one, or a LAN address when bound
/// to all interfaces (loopback if there is none).
pub fn advertised_host(bind: std::net::IpAddr) -> String {
    if !bind.is_unspecified() {
        return bind.to_string();
    }
    if_addrs::get_if_addrs()
        .ok()
        .and_then(|addrs| addrs.into_iter().map(|a| a.ip()).find(|ip| ip.is_ipv4() && !ip.is_loopback()))
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "127.0.0.1".to_owned())
}
