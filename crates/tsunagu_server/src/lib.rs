//! The room server: takes connections from any [`ServerLinks`] transport, runs
//! the room handshake and rules, and sends each client what it should see at a
//! fixed tick. Headless; no renderer, no window, no sound.
//!
//! The core is a plain state machine stepped with a clock (`step(now)`), not an
//! ECS app: a room holds a few dozen people, and a stepped struct gives the
//! stepper and tests full control of time with nothing to schedule.

pub mod embedded;

use std::collections::HashMap;
use std::time::Duration;

use tsunagu_net::{Channel, ConnId, LinkEnd, LinkEvent, ServerLinkEvent, ServerLinks};
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES, MAX_SNAPSHOT_AVATARS};
use tsunagu_protocol::delta::{MAX_BASE_AGE_TICKS, View, ViewHistory, avatar_bits, encode_avatars};
use tsunagu_protocol::{
    ClientControl, ClientDatagram, CloseReason, DecodeError, PeerId, RejectReason, ServerControl,
    ServerDatagram, ServerEvent, Snapshot, Welcome, decode, encode,
};
use tsunagu_room::{Room, RoomConfig};

/// Snapshots per second.
pub const TICK_RATE_HZ: u8 = 30;
/// A connection that has not said Hello by then is closed.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// Most datagrams a client may send in one second (poses are 30 Hz).
pub const MAX_DATAGRAMS_PER_SECOND: u32 = 120;
/// Most reliable frames a client may send in one second.
pub const MAX_FRAMES_PER_SECOND: u32 = 20;

#[derive(Clone, Copy)]
enum ConnState {
    AwaitingHello { since: Duration },
    Member { room: usize, id: PeerId },
}

/// Counts what one connection sent in the current one-second window.
#[derive(Clone, Copy, Default)]
struct RateWindow {
    started: Duration,
    datagrams: u32,
    frames: u32,
}

struct Conn {
    state: ConnState,
    rate: RateWindow,
    /// Snapshot bytes this client may still be sent (refilled every tick).
    budget: f32,
    /// The tick at which each avatar was last sent to this client.
    sent_at: HashMap<PeerId, u32>,
    /// The newest snapshot tick the client says it received.
    acked: Option<u32>,
    /// What the client holds after each recent snapshot: the bases for deltas.
    views: ViewHistory,
}

/// Pose bandwidth each client gets by default: 64 kbit/s.
pub const POSE_BUDGET_BYTES_PER_SECOND: f32 = 64_000.0 / 8.0;
/// Unused budget carries over for at most this many ticks (small bursts only).
const BUDGET_CARRY_TICKS: f32 = 3.0;

/// How urgently `viewer` should get a fresh state of an avatar `distance`
/// metres away that it last got `ticks_since` ticks ago: staleness grows it,
/// distance shrinks it, so near people move smoothly and far ones still update.
pub fn snapshot_priority(ticks_since: u32, distance: f32) -> f32 {
    ticks_since as f32 / (1.0 + distance.max(0.0))
}

/// The fewest ticks between two updates of an avatar `distance` metres from the
/// viewer: every tick (30 Hz) within arm's reach, 15 Hz a few steps away, 10 Hz
/// across the room. The interpolation delay (three ticks) covers the longest.
pub fn update_interval_ticks(distance: f32) -> u32 {
    match distance {
        d if d <= 1.5 => 1,
        d if d <= 3.0 => 2,
        _ => 3,
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
        }
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

    /// How long until the next tick is due.
    pub fn until_next_tick(&self, now: Duration) -> Duration {
        self.next_tick_at.saturating_sub(now)
    }

    /// Handle everything that arrived, then send snapshots if a tick is due.
    pub fn step(&mut self, now: Duration) {
        while let Some(event) = self.links.try_recv() {
            self.handle(event, now);
        }
        self.expire_silent(now);
        for room in &mut self.rooms {
            room.expire_departed(now);
        }
        if now >= self.next_tick_at {
            self.send_snapshots();
            self.tick = self.tick.wrapping_add(1);
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
                    let rate = RateWindow { started: now, ..RateWindow::default() };
                    let conn_state = Conn {
                        state: ConnState::AwaitingHello { since: now },
                        rate,
                        budget: 0.0,
                        sent_at: HashMap::new(),
                        acked: None,
                        views: ViewHistory::default(),
                    };
                    self.conns.insert(conn, conn_state);
                }
            }
            ServerLinkEvent::Received(conn, LinkEvent::Closed(end)) => {
                let dropped = !matches!(end, LinkEnd::Reason(CloseReason::Left));
                self.forget(conn, dropped.then_some(now));
            }
            ServerLinkEvent::Received(conn, event) => {
                if !self.within_rate(conn, &event, now) {
                    tracing::warn!(connection = conn, "rate limit exceeded");
                    self.close(conn, CloseReason::RateLimited);
                    return;
                }
                self.handle_input(conn, event, now);
            }
        }
    }

    fn within_rate(&mut self, conn: ConnId, event: &LinkEvent, now: Duration) -> bool {
        let Some(c) = self.conns.get_mut(&conn) else { return true };
        if now.saturating_sub(c.rate.started) >= Duration::from_secs(1) {
            c.rate = RateWindow { started: now, ..RateWindow::default() };
        }
        match event {
            LinkEvent::Datagram(_) => {
                c.rate.datagrams += 1;
                c.rate.datagrams <= MAX_DATAGRAMS_PER_SECOND
            }
            _ => {
                c.rate.frames += 1;
                c.rate.frames <= MAX_FRAMES_PER_SECOND
            }
        }
    }

    fn handle_input(&mut self, conn: ConnId, event: LinkEvent, now: Duration) {
        match event {
            LinkEvent::Frame(Channel::Control, bytes) => {
                match decode::<ClientControl>(&bytes, MAX_FRAME_BYTES) {
                    Ok(ClientControl::Hello(hello)) => self.on_hello(conn, &hello, now),
                    Ok(ClientControl::Bye) => self.close(conn, CloseReason::Left),
                    Err(e) => self.violation(conn, &e),
                }
            }
            // Clients have no events to send yet: anything there is a violation.
            LinkEvent::Frame(Channel::Events, _) => {
                self.violation(conn, &DecodeError::Malformed("client events are not accepted yet"));
            }
            LinkEvent::Datagram(bytes) => {
                let Some(ConnState::Member { room, id }) = self.conns.get(&conn).map(|c| c.state) else {
                    // Before the handshake a datagram means nothing; it is dropped.
                    return;
                };
                match decode::<ClientDatagram>(&bytes, MAX_DATAGRAM_BYTES) {
                    Ok(ClientDatagram::Pose(frame)) => {
                        self.rooms[room].accept_pose(id, &frame, now);
                        let tick = self.tick;
                        if let Some(c) = self.conns.get_mut(&conn)
                            && frame.ack_tick < tick
                            && c.acked.is_none_or(|a| frame.ack_tick > a)
                        {
                            c.acked = Some(frame.ack_tick);
                        }
                    }
                    Err(e) => self.violation(conn, &e),
                }
            }
            // Handled before rate limiting, in `handle`.
            LinkEvent::Closed(_) => {}
        }
    }

    fn on_hello(&mut self, conn: ConnId, hello: &tsunagu_protocol::Hello, now: Duration) {
        if !matches!(self.conns.get(&conn).map(|c| c.state), Some(ConnState::AwaitingHello { .. })) {
            self.violation(conn, &DecodeError::Malformed("a second Hello"));
            return;
        }
        let room = self
            .rooms
            .iter()
            .position(|r| r.config().code == hello.room_code || r.config().facilitator_code == hello.room_code);
        let admitted = match room {
            _ if self.shutting_down => Err(RejectReason::ServerShuttingDown),
            None => Err(RejectReason::WrongRoomCode),
            Some(room) => self.rooms[room].admit(hello, now, rand::random()).map(|m| (room, m.info.clone(), m.pose.body, m.resume)),
        };
        match admitted {
            Ok((room, info, spawn, resume)) => {
                let welcome = Welcome {
                    your_id: info.id,
                    role: info.role,
                    tick_rate_hz: TICK_RATE_HZ,
                    spawn,
                    peers: self.rooms[room].peers_except(info.id),
                    resume,
                };
                tracing::info!(room, session = info.id.0, role = ?info.role, "joined");
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.state = ConnState::Member { room, id: info.id };
                }
                self.send_frame(conn, Channel::Control, &ServerControl::Welcome(welcome));
                self.broadcast_event(room, &ServerEvent::PeerJoined(info.clone()), Some(info.id));
            }
            Err(reason) => {
                tracing::info!(connection = conn, ?reason, "join refused");
                self.send_frame(conn, Channel::Control, &ServerControl::Rejected(reason));
                self.conns.remove(&conn);
                self.links.close(conn, CloseReason::Left);
            }
        }
    }

    /// Each client gets the avatars it should see that are due (by distance),
    /// most urgent first, as many as its byte budget allows this tick (and one
    /// datagram holds), each coded against the newest view the client acknowledged.
    fn send_snapshots(&mut self) {
        let per_tick = POSE_BUDGET_BYTES_PER_SECOND / f32::from(TICK_RATE_HZ);
        // A snapshot's own framing: the variant name, tick, base, count and bin header.
        const SNAPSHOT_OVERHEAD: usize = 22;
        let tick = self.tick;
        let empty = View::default();
        for (conn, c) in &mut self.conns {
            let ConnState::Member { room, id: viewer } = c.state else { continue };
            c.budget = (c.budget + per_tick).min(per_tick * BUDGET_CARRY_TICKS);
            let room = &self.rooms[room];
            let Some(me) = room.member(viewer) else { continue };
            let (base_ago, base) = match c.acked.filter(|a| tick.wrapping_sub(*a) <= MAX_BASE_AGE_TICKS) {
                Some(acked) => match c.views.get(acked) {
                    Some(view) => (tick.wrapping_sub(acked), view),
                    None => (0, &empty),
                },
                None => (0, &empty),
            };
            let here = tsunagu_sim::pose::wire_pos(me.pose.body.pos);
            let mut candidates: Vec<_> = room
                .visible_to(viewer)
                .into_iter()
                .filter_map(|state| {
                    let distance = tsunagu_sim::pose::wire_pos(state.pose.body.pos).distance(here);
                    let since = match c.sent_at.get(&state.id) {
                        Some(at) => tick.wrapping_sub(*at),
                        None => u32::MAX,
                    };
                    // Due on the interval's own ticks, so avatars due together share a
                    // datagram (fewer headers); or when a full budget made one late.
                    let interval = update_interval_ticks(distance);
                    let due = tick.is_multiple_of(interval) || since > interval;
                    due.then(|| (snapshot_priority(since, distance), state))
                })
                .collect();
            candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
            let limit_bits = (c.budget as usize).min(MAX_DATAGRAM_BYTES).saturating_sub(SNAPSHOT_OVERHEAD) * 8;
            let mut bits = 0usize;
            let mut avatars = Vec::new();
            for (_, state) in candidates.into_iter().take(MAX_SNAPSHOT_AVATARS) {
                let state_bits = avatar_bits(base, tick, &state) as usize;
                if bits + state_bits > limit_bits {
                    break;
                }
                bits += state_bits;
                avatars.push(state);
            }
            // Nothing due or nothing fits yet: the budget grows for the next tick.
            // Someone alone still gets empty snapshots: they keep its clock and acks going.
            if avatars.is_empty() && room.len() > 1 {
                continue;
            }
            for state in &avatars {
                c.sent_at.insert(state.id, tick);
            }
            let view = base.then(tick, &avatars);
            let snapshot = Snapshot {
                tick,
                base_ago: u8::try_from(base_ago).unwrap_or(0),
                count: u8::try_from(avatars.len()).unwrap_or(u8::MAX),
                poses: encode_avatars(base, tick, &avatars),
            };
            match encode(&ServerDatagram::Snapshot(snapshot), MAX_DATAGRAM_BYTES) {
                Ok(bytes) => {
                    c.budget -= bytes.len() as f32;
                    c.views.record(tick, view);
                    self.links.send_datagram(*conn, bytes);
                }
                Err(e) => tracing::error!("snapshot too large: {e}"),
            }
        }
    }

    fn send_frame<T: serde::Serialize>(&mut self, conn: ConnId, channel: Channel, msg: &T) {
        match encode(msg, MAX_FRAME_BYTES) {
            Ok(bytes) => self.links.send(conn, channel, bytes),
            Err(e) => tracing::error!("could not encode a frame: {e}"),
        }
    }

    fn broadcast_event(&mut self, room: usize, event: &ServerEvent, except: Option<PeerId>) {
        let Ok(bytes) = encode(event, MAX_FRAME_BYTES) else { return };
        for (conn, c) in &self.conns {
            if let ConnState::Member { room: r, id } = c.state
                && r == room
                && Some(id) != except
            {
                self.links.send(*conn, Channel::Events, bytes.clone());
            }
        }
    }

    fn violation(&mut self, conn: ConnId, error: &DecodeError) {
        tracing::warn!(connection = conn, "protocol violation: {error}");
        self.close(conn, CloseReason::ProtocolViolation);
    }

    fn close(&mut self, conn: ConnId, reason: CloseReason) {
        if self.conns.contains_key(&conn) {
            self.send_frame(conn, Channel::Control, &ServerControl::Closing(reason));
            self.links.close(conn, reason);
            self.forget(conn, None);
        }
    }

    /// Drop a connection's member. `dropped` means the link failed (not a Bye or
    /// our own close): their place is kept for a reconnect.
    fn forget(&mut self, conn: ConnId, dropped: Option<Duration>) {
        let Some(ConnState::Member { room, id }) = self.conns.remove(&conn).map(|c| c.state) else { return };
        let was_here = match dropped {
            Some(now) => self.rooms[room].depart(id, now),
            None => self.rooms[room].remove(id),
        };
        if was_here {
            tracing::info!(room, session = id.0, dropped = dropped.is_some(), "left");
            self.broadcast_event(room, &ServerEvent::PeerLeft(id), None);
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
/// give the goodbyes time to leave. Used by the binary and the embedded room.
pub fn serve_until_stopped<L: ServerLinks>(mut server: RoomServer<L>, stop: &std::sync::atomic::AtomicBool) {
    use std::sync::atomic::Ordering;
    use std::time::Instant;
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        server.step(started.elapsed());
        // Poses are latest-wins: handling input once per tick loses nothing.
        std::thread::sleep(server.until_next_tick(started.elapsed()).min(Duration::from_millis(50)));
    }
    tracing::info!("shutting down: telling every client");
    server.shutdown();
    let deadline = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < deadline {
        server.step(started.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
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

/// A room with fresh, independent participant and facilitator codes (one cannot
/// be guessed from the other).
pub fn fresh_room_config(capacity: usize) -> RoomConfig {
    let code = new_room_code();
    let mut facilitator_code = new_room_code();
    while facilitator_code == code {
        facilitator_code = new_room_code();
    }
    RoomConfig { code, facilitator_code, capacity }
}

/// A fresh random room code a person can read aloud: lowercase letters and digits
/// without look-alikes (no 0/o, 1/l/i).
pub fn new_room_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..10).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}
