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

use tsunagu_net::{Channel, ConnId, LinkEvent, ServerLinkEvent, ServerLinks};
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};
use tsunagu_protocol::{
    ClientControl, ClientDatagram, CloseReason, DecodeError, PeerId, RejectReason, ServerControl,
    ServerDatagram, ServerEvent, Snapshot, Welcome, decode, encode,
};
use tsunagu_room::{Room, RoomConfig};

/// Snapshots per second.
pub const TICK_RATE_HZ: u8 = 30;
/// A connection that has not said Hello by then is closed.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

enum ConnState {
    AwaitingHello { since: Duration },
    Member(PeerId),
}

/// One room served over one transport.
pub struct RoomServer<L: ServerLinks> {
    links: L,
    room: Room,
    conns: HashMap<ConnId, ConnState>,
    tick: u32,
    next_tick_at: Duration,
    shutting_down: bool,
}

impl<L: ServerLinks> RoomServer<L> {
    /// A server for one room.
    pub fn new(links: L, config: RoomConfig) -> Self {
        RoomServer {
            links,
            room: Room::new(config),
            conns: HashMap::new(),
            tick: 0,
            next_tick_at: Duration::ZERO,
            shutting_down: false,
        }
    }

    /// The room.
    pub fn room(&self) -> &Room {
        &self.room
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
                    self.conns.insert(conn, ConnState::AwaitingHello { since: now });
                }
            }
            ServerLinkEvent::Received(conn, LinkEvent::Frame(Channel::Control, bytes)) => {
                match decode::<ClientControl>(&bytes, MAX_FRAME_BYTES) {
                    Ok(ClientControl::Hello(hello)) => self.on_hello(conn, &hello, now),
                    Ok(ClientControl::Bye) => self.close(conn, CloseReason::Left),
                    Err(e) => self.violation(conn, &e),
                }
            }
            // Clients have no events to send yet: anything there is a violation.
            ServerLinkEvent::Received(conn, LinkEvent::Frame(Channel::Events, _)) => {
                self.violation(conn, &DecodeError::Malformed("client events are not accepted yet"));
            }
            ServerLinkEvent::Received(conn, LinkEvent::Datagram(bytes)) => {
                let Some(ConnState::Member(id)) = self.conns.get(&conn) else { return };
                let id = *id;
                match decode::<ClientDatagram>(&bytes, MAX_DATAGRAM_BYTES) {
                    Ok(ClientDatagram::Pose(frame)) => {
                        self.room.accept_pose(id, &frame, now);
                    }
                    Err(e) => self.violation(conn, &e),
                }
            }
            ServerLinkEvent::Received(conn, LinkEvent::Closed(_)) => self.forget(conn),
        }
    }

    fn on_hello(&mut self, conn: ConnId, hello: &tsunagu_protocol::Hello, now: Duration) {
        if !matches!(self.conns.get(&conn), Some(ConnState::AwaitingHello { .. })) {
            self.violation(conn, &DecodeError::Malformed("a second Hello"));
            return;
        }
        let admitted = if self.shutting_down {
            Err(RejectReason::ServerShuttingDown)
        } else {
            self.room.admit(hello, now).map(|m| (m.info.clone(), m.pose.body))
        };
        match admitted {
            Ok((info, spawn)) => {
                let welcome = Welcome {
                    your_id: info.id,
                    role: info.role,
                    tick_rate_hz: TICK_RATE_HZ,
                    spawn,
                    peers: self.room.peers_except(info.id),
                };
                tracing::info!(session = info.id.0, role = ?info.role, "joined");
                self.conns.insert(conn, ConnState::Member(info.id));
                self.send_frame(conn, Channel::Control, &ServerControl::Welcome(welcome));
                self.broadcast_event(&ServerEvent::PeerJoined(info.clone()), Some(info.id));
            }
            Err(reason) => {
                tracing::info!(connection = conn, ?reason, "join refused");
                self.send_frame(conn, Channel::Control, &ServerControl::Rejected(reason));
                self.conns.remove(&conn);
                self.links.close(conn, CloseReason::Left);
            }
        }
    }

    fn send_snapshots(&mut self) {
        for (conn, state) in &self.conns {
            let ConnState::Member(viewer) = state else { continue };
            let snapshot = ServerDatagram::Snapshot(Snapshot { tick: self.tick, avatars: self.room.visible_to(*viewer) });
            match encode(&snapshot, MAX_DATAGRAM_BYTES) {
                Ok(bytes) => self.links.send_datagram(*conn, bytes),
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

    fn broadcast_event(&mut self, event: &ServerEvent, except: Option<PeerId>) {
        let Ok(bytes) = encode(event, MAX_FRAME_BYTES) else { return };
        for (conn, state) in &self.conns {
            if let ConnState::Member(id) = state
                && Some(*id) != except
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
            self.forget(conn);
        }
    }

    fn forget(&mut self, conn: ConnId) {
        if let Some(ConnState::Member(id)) = self.conns.remove(&conn)
            && self.room.remove(id)
        {
            tracing::info!(session = id.0, "left");
            self.broadcast_event(&ServerEvent::PeerLeft(id), None);
        }
    }

    fn expire_silent(&mut self, now: Duration) {
        let silent: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, s)| matches!(s, ConnState::AwaitingHello { since } if now.saturating_sub(*since) > HELLO_TIMEOUT))
            .map(|(c, _)| *c)
            .collect();
        for conn in silent {
            self.close(conn, CloseReason::ProtocolViolation);
        }
    }
}

/// A fresh random room code a person can read aloud: lowercase letters and digits
/// without look-alikes (no 0/o, 1/l/i).
pub fn new_room_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..10).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}
