//! The room server: takes connections from any [`ServerLinks`] transport, runs
//! the room handshake and rules, and sends each client what it should see at a
//! fixed tick. Headless; no renderer, no window, no sound.
//!
//! The core is a plain state machine stepped with a clock (`step(now)`), not an
//! ECS app: a room holds a few dozen people, and a stepped struct gives the
//! stepper and tests full control of time with nothing to schedule.

pub mod codes;
pub mod embedded;
pub mod stats;

use std::collections::HashMap;
use std::time::Duration;

use tsunagu_net::limits::TrafficWindow;
use tsunagu_net::{Channel, ConnId, LinkEnd, LinkEvent, ServerLinkEvent, ServerLinks, arrival_on_clock};
use tsunagu_protocol::delta::{MAX_BASE_AGE_TICKS, View, ViewHistory, avatar_bits, encode_avatars, encode_objects, object_bits};
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};
use tsunagu_protocol::{
    ClientControl, ClientDatagram, ClientEvent, CloseReason, EventKind, PROTOCOL_VERSION, PeerId, Refusal, RefusalReason, RejectReason,
    ServerControl, ServerDatagram, ServerEvent, Snapshot, VoiceFrame, Welcome, decode, encode, hello_version,
};
use tsunagu_room::interest::{Interest, SnapshotFrame};
use tsunagu_room::limits::TRAFFIC;
use tsunagu_room::voice::VoiceOutcome;
use tsunagu_room::{Admission, Audience, PoseOutcome, Room, RoomConfig, Told, seq_is_newer};
// Room codes are the room's business; the server and its tests name them from here too.
pub use tsunagu_room::codes::{CODE_ALPHABET, CODE_CHARS, fresh_room_config, new_room_code};

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
    traffic: TrafficWindow,
    /// Who this client is due and its byte budget (a room rule).
    interest: Interest,
    /// The newest snapshot tick the client says it received.
    acked: Option<u32>,
    /// What the client holds after each recent snapshot: the bases for deltas.
    views: ViewHistory,
}

impl Conn {
    fn new(now: Duration) -> Conn {
        Conn {
            state: ConnState::AwaitingHello { since: now },
            traffic: TrafficWindow::new(TRAFFIC, now),
            interest: Interest::default(),
            acked: None,
            views: ViewHistory::default(),
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

/// Called with every room's setup after a facilitator gave a room new codes;
/// an `Err` says why they could not be kept (the facilitators are told).
/// It runs on a thread of its own: a slow or full disk, or a terminal
/// nobody reads, never holds up the room.
pub type CodesSaver = Box<dyn FnMut(&[RoomConfig]) -> Result<(), String> + Send>;

/// The thread that runs the [`CodesSaver`]: the room sends it what to keep
/// (and which room asked), and reads back what failed.
struct CodesKeeper {
    to_keep: Option<std::sync::mpsc::Sender<(usize, Vec<RoomConfig>)>>,
    failed: std::sync::mpsc::Receiver<usize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for CodesKeeper {
    /// What was handed over is written before the server goes: nothing lost.
    fn drop(&mut self) {
        self.to_keep = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl CodesKeeper {
    fn start(mut saver: CodesSaver) -> CodesKeeper {
        let (to_keep, requests) = std::sync::mpsc::channel::<(usize, Vec<RoomConfig>)>();
        let (report, failed) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name("tsunagu-codes".into()).spawn(move || {
            for (room, configs) in requests {
                if let Err(why) = saver(&configs) {
                    tracing::error!("could not save the new invites: {why}");
                    let _ = report.send(room);
                }
            }
        });
        let thread = spawned.map_err(|e| tracing::error!("could not start the thread that keeps the codes: {e}")).ok();
        CodesKeeper { to_keep: Some(to_keep), failed, thread }
    }
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

    fn on_hello(&mut self, conn: ConnId, hello: &tsunagu_protocol::Hello, now: Duration) {
        if !matches!(self.conns.get(&conn).map(|c| c.state), Some(ConnState::AwaitingHello { .. })) {
            return self.violation(conn, "a second Hello");
        }
        let room = match self.rooms.iter().position(|r| r.has_code(&hello.room_code)) {
            _ if self.shutting_down => return self.refuse(conn, RejectReason::ServerShuttingDown),
            None if self.closed_codes.iter().any(|c| c.eq_ignore_ascii_case(&hello.room_code)) => return self.refuse(conn, RejectReason::RoomClosed),
            None => return self.refuse(conn, RejectReason::WrongRoomCode),
            Some(room) => room,
        };
        let address = self.links.address_key(conn);
        match self.rooms[room].wait_if_needed(hello, address) {
            Ok(None) => self.join(conn, room, hello, now),
            Ok(Some(ticket)) => {
                tracing::info!(room, ticket, "waiting to be let in");
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.state = ConnState::Waiting { room, ticket };
                }
                self.send_frame(conn, Channel::Control, &ServerControl::Waiting);
                let waiting = self.rooms[room].waiting_people();
                self.tell_facilitators(room, &waiting);
            }
            Err(reason) => self.refuse(conn, reason),
        }
    }

    /// Let a connection whose Hello named `room` in, if the room's rules do.
    fn join(&mut self, conn: ConnId, room: usize, hello: &tsunagu_protocol::Hello, now: Duration) {
        let address = self.links.address_key(conn);
        let admitted = self.rooms[room].admit(hello, address, now, rand::random()).map(|(m, how)| (room, m.info.clone(), m.pose.body, m.resume, how));
        let (room, info, spawn, resume, how) = match admitted {
            Ok(admitted) => admitted,
            Err(reason) => return self.refuse(conn, reason),
        };
        self.reconnecting.retain(|(r, id, _)| !(*r == room && *id == info.id));
        if how == Admission::Replaced {
            // The member's old connection is stale (the client gave up on it):
            // drop it quietly; nobody sees them leave or arrive.
            let stale: Vec<ConnId> = self
                .conns
                .iter()
                .filter(|(c, s)| **c != conn && matches!(s.state, ConnState::Member { room: r, id } if r == room && id == info.id))
                .map(|(c, _)| *c)
                .collect();
            for old in stale {
                self.conns.remove(&old);
                self.links.close(old, CloseReason::Reconnecting);
            }
        }
        let welcome = Welcome {
            your_id: info.id,
            role: info.role,
            tick_rate_hz: TICK_RATE_HZ,
            spawn,
            peers: self.rooms[room].peers_except(info.id),
            resume,
            resumed: how != Admission::Fresh,
            play: self.rooms[room].play().state(),
        };
        tracing::info!(room, session = info.id.0, role = ?info.role, admission = ?how, "joined");
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = ConnState::Member { room, id: info.id };
        }
        self.send_frame(conn, Channel::Control, &ServerControl::Welcome(welcome));
        if self.rooms[room].is_locked() {
            self.send_frame(conn, Channel::Events, &ServerEvent::RoomLocked(true));
        }
        if self.rooms[room].has_waiting_room() {
            self.send_frame(conn, Channel::Events, &ServerEvent::WaitingRoom(true));
        }
        if how != Admission::Fresh {
            // Back in: how the room has them now (muted while away, say).
            self.send_frame(conn, Channel::Events, &ServerEvent::PeerChanged(info.clone()));
        }
        if info.role == tsunagu_protocol::Role::Facilitator {
            self.brief_facilitator(conn, room);
        }
        match how {
            // Others already know them; their name or look may have changed.
            Admission::Replaced => self.broadcast_event(room, &ServerEvent::PeerChanged(info.clone()), Some(info.id)),
            Admission::Fresh | Admission::Returned => self.broadcast_event(room, &ServerEvent::PeerJoined(info.clone()), Some(info.id)),
        }
    }

    fn refuse(&mut self, conn: ConnId, reason: RejectReason) {
        tracing::info!(connection = conn, ?reason, "join refused");
        self.send_frame(conn, Channel::Control, &ServerControl::Rejected(reason));
        self.links.close(conn, CloseReason::Refused);
        // However a connection ends, it leaves the waiting list too.
        self.forget(conn, Leaving::Gone);
    }

    /// Each client gets the avatars the room's interest rules say it is due,
    /// each coded against the newest view the client acknowledged.
    fn send_snapshots(&mut self) {
        let tick = self.tick;
        let empty = View::default();
        for (conn, c) in &mut self.conns {
            let ConnState::Member { room, id: viewer } = c.state else { continue };
            // What this connection's path takes, not what we wish it took.
            let frame = SnapshotFrame { tick_rate_hz: TICK_RATE_HZ, max_bytes: self.links.max_datagram(*conn), overhead: SNAPSHOT_OVERHEAD };
            if frame.max_bytes <= SNAPSHOT_OVERHEAD {
                continue;
            }
            let (base_ago, base) = match c.acked.filter(|a| tick.wrapping_sub(*a) <= MAX_BASE_AGE_TICKS) {
                Some(acked) => match c.views.get(acked) {
                    Some(view) => (tick.wrapping_sub(acked), view),
                    None => (0, &empty),
                },
                None => (0, &empty),
            };
            // Things the client does not hold as they are now; at rest, none.
            let moved = self.rooms[room]
                .play()
                .objects()
                .iter()
                .filter(|state| base.object(state.id) != Some(&state.pose))
                .map(|state| (*state, object_bits(base, tick, state) as usize))
                .collect();
            let Some(due) = c.interest.select(&self.rooms[room], viewer, tick, frame, moved, |state| avatar_bits(base, tick, state) as usize) else {
                continue;
            };
            let view = base.then_with(tick, &due.avatars, &due.objects);
            let snapshot = Snapshot {
                tick,
                base_ago: u8::try_from(base_ago).unwrap_or(0),
                count: u8::try_from(due.avatars.len()).unwrap_or(u8::MAX),
                poses: encode_avatars(base, tick, &due.avatars),
                objects: encode_objects(base, tick, &due.objects),
            };
            match encode(&ServerDatagram::Snapshot(snapshot), frame.max_bytes) {
                Ok(bytes) => {
                    c.interest.spend(bytes.len());
                    c.views.record(tick, view);
                    self.links.send_datagram(*conn, bytes);
                }
                Err(_) => tracing::error!("a snapshot did not fit a datagram"),
            }
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

    /// Tell whom the room said what an applied event changed, then do what
    /// only the server can: close a removed person's connections, close
    /// everyone when the meetup ends, brief someone made staff, keep new
    /// codes, admit or turn away waiting people.
    fn carry_out(&mut self, room: usize, event: &ClientEvent, told: Told, now: Duration) {
        if let ClientEvent::Remove(target) = event {
            // The room has let them go already: closing tells no one twice.
            for conn in self.conns_of(room, *target) {
                self.close(conn, CloseReason::Removed);
            }
            self.reconnecting.retain(|(r, id, _)| !(*r == room && id == target));
            tracing::info!(room, session = target.0, "removed by a facilitator");
        }
        if let ClientEvent::NewInvites = event {
            tracing::info!(room, "a facilitator gave the room new invites");
            self.save_codes(room);
        }
        for (audience, outcome) in &told {
            self.tell(room, *audience, outcome);
        }
        match event {
            // Everyone goes, with a kind goodbye; nobody's place is kept, and
            // nobody still waiting is let in.
            ClientEvent::EndMeetup => {
                // Out of the room first, so closing each tells no one of the others leaving.
                let ended = self.rooms[room].end_meetup();
                let everyone: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| matches!(c.state, ConnState::Member { room: r, .. } | ConnState::Waiting { room: r, .. } if r == room))
                    .map(|(conn, _)| *conn)
                    .collect();
                self.rooms[room].take_decisions();
                for conn in everyone {
                    self.close(conn, CloseReason::MeetupEnded);
                }
                self.reconnecting.retain(|(r, _, _)| *r != room);
                tracing::info!(room, people = ended.len(), "a facilitator ended the meetup");
            }
            ClientEvent::SetRole(target, tsunagu_protocol::Role::Facilitator) => {
                for conn in self.conns_of(room, *target) {
                    self.brief_facilitator(conn, room);
                }
            }
            ClientEvent::LetIn(_) | ClientEvent::TurnAway(_) | ClientEvent::SetWaitingRoom(_) | ClientEvent::Remove(_) => {
                self.carry_out_decisions(room, now)
            }
            ClientEvent::SetRole(_, tsunagu_protocol::Role::Participant)
            | ClientEvent::SetLook(_)
            | ClientEvent::Gesture(_)
            | ClientEvent::RaiseHand(_)
            | ClientEvent::Stamp(_)
            | ClientEvent::Chat(_)
            | ClientEvent::Grab(_)
            | ClientEvent::Release(..)
            | ClientEvent::HangWish(..)
            | ClientEvent::TakeDownWish(_)
            | ClientEvent::Mute(..)
            | ClientEvent::LockRoom(_)
            | ClientEvent::LetBackIn(_)
            | ClientEvent::BringHere(_)
            | ClientEvent::GatherHere
            | ClientEvent::NewInvites
            | ClientEvent::AskRecentre(_)
            | ClientEvent::ReleasePlace(_)
            | ClientEvent::TakeDownWishesOf(_)
            | ClientEvent::PutThingsBack
            | ClientEvent::TellStaff(..) => {}
        }
    }

    /// Send `event` to `audience` in `room`.
    fn tell(&mut self, room: usize, audience: Audience, event: &ServerEvent) {
        match audience {
            Audience::Everyone => self.broadcast_event(room, event, None),
            Audience::Staff => self.tell_facilitators(room, event),
            Audience::Only(id) => {
                for conn in self.conns_of(room, id) {
                    self.send_frame(conn, Channel::Events, event);
                }
            }
        }
    }

    /// Hand every room's codes to the keeper's thread (see [`CodesSaver`]).
    fn save_codes(&mut self, room: usize) {
        let Some(keeper) = self.codes_keeper.as_ref() else { return };
        let configs: Vec<RoomConfig> = self.rooms.iter().map(|r| r.config().clone()).collect();
        if keeper.to_keep.as_ref().is_none_or(|to_keep| to_keep.send((room, configs)).is_err()) {
            self.tell_facilitators(room, &ServerEvent::StaffNotice(tsunagu_protocol::StaffNotice::InvitesNotSaved));
        }
    }

    /// The facilitators of a room whose new codes could not be kept are told
    /// on screen, not only in the log.
    fn report_unsaved_codes(&mut self) {
        let failed: Vec<usize> = self.codes_keeper.as_ref().map(|k| k.failed.try_iter().collect()).unwrap_or_default();
        for room in failed {
            self.tell_facilitators(room, &ServerEvent::StaffNotice(tsunagu_protocol::StaffNotice::InvitesNotSaved));
        }
    }

    /// What only facilitators are told, for one who just came in or became one:
    /// whom the others removed, who waits, and the invites to pass on.
    fn brief_facilitator(&mut self, conn: ConnId, room: usize) {
        let Some(ConnState::Member { id, .. }) = self.conns.get(&conn).map(|c| c.state) else { return };
        let r = &self.rooms[room];
        let briefing = [r.removed_people(), r.waiting_people(), r.kept_places(), r.invites_for(id)];
        for event in &briefing {
            self.send_frame(conn, Channel::Events, event);
        }
    }

    /// Admit or turn away the people facilitators decided about.
    fn carry_out_decisions(&mut self, room: usize, now: Duration) {
        for (ticket, admitted) in self.rooms[room].take_decisions() {
            let waiting = self.conns.iter().find(|(_, c)| matches!(c.state, ConnState::Waiting { room: r, ticket: t } if r == room && t == ticket));
            let Some(conn) = waiting.map(|(conn, _)| *conn) else { continue };
            match admitted {
                Some(hello) => {
                    tracing::info!(room, ticket, "let in from the waiting room");
                    self.join(conn, room, &hello, now);
                }
                None => {
                    tracing::info!(room, ticket, "turned away from the waiting room");
                    self.refuse(conn, RejectReason::TurnedAway);
                }
            }
        }
    }

    /// The connections of member `id` of `room`.
    fn conns_of(&self, room: usize, id: PeerId) -> Vec<ConnId> {
        members_in(&self.conns, room).filter(|(_, member)| *member == id).map(|(c, _)| c).collect()
    }

    /// Send `event` to the facilitators of `room`. The codes are shaped for
    /// each: only people who came with the facilitator invite are told it.
    fn tell_facilitators(&mut self, room: usize, event: &ServerEvent) {
        let Ok(bytes) = encode(event, MAX_FRAME_BYTES) else { return };
        let staff: Vec<(ConnId, PeerId)> = members_in(&self.conns, room)
            .filter(|(_, id)| self.rooms[room].member(*id).is_some_and(|m| m.info.role == tsunagu_protocol::Role::Facilitator))
            .collect();
        for (conn, id) in staff {
            if let ServerEvent::Invites(_) = event {
                let shaped = self.rooms[room].invites_for(id);
                self.send_frame(conn, Channel::Events, &shaped);
            } else {
                self.links.send(conn, Channel::Events, bytes.clone());
            }
        }
    }

    fn broadcast_event(&mut self, room: usize, event: &ServerEvent, except: Option<PeerId>) {
        let Ok(bytes) = encode(event, MAX_FRAME_BYTES) else { return };
        for (conn, id) in members_in(&self.conns, room) {
            if Some(id) != except {
                self.links.send(conn, Channel::Events, bytes.clone());
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
