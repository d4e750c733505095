//! The stepper: one room server and N client sessions in one process, joined by
//! the in-memory transport and driven by a manual clock. No sockets, no sleeps,
//! no flaky timing: every test run sees exactly the same sequence of events.

pub mod trace;

use std::collections::BTreeMap;
use std::time::Duration;

use tsunagu_net::memory::{MemoryConnector, MemoryServer, hub};
use tsunagu_net::session::{ClientSession, SessionEvent};
use tsunagu_protocol::{AvatarLook, AvatarPose, Hello, PeerId, PeerInfo, RejectReason};
use tsunagu_room::RoomConfig;
use tsunagu_server::RoomServer;

/// Participant code of the stepper's room.
pub const ROOM_CODE: &str = "stepper-room";
/// Facilitator code of the stepper's room.
pub const STAFF_CODE: &str = "stepper-room-staff";

/// One simulated client and what it has seen.
pub struct TestClient {
    session: ClientSession,
    /// Our id, once welcomed.
    pub id: Option<PeerId>,
    /// Why we were refused, if we were.
    pub rejected: Option<RejectReason>,
    /// Whether the connection ended.
    pub closed: bool,
    /// Who we know is here (not counting us).
    pub peers: BTreeMap<PeerId, PeerInfo>,
    /// The newest pose we saw of each other avatar.
    pub seen: BTreeMap<PeerId, AvatarPose>,
    /// Snapshot datagram bytes received.
    pub snapshot_bytes: usize,
    /// The ticks at which each other avatar was updated.
    pub updates: BTreeMap<PeerId, Vec<u32>>,
}

/// A server and its clients on one manual clock.
pub struct Stepper {
    /// The server under test.
    pub server: RoomServer<MemoryServer>,
    connector: MemoryConnector,
    /// The clients, in the order they were added.
    pub clients: Vec<TestClient>,
    now: Duration,
}

impl Stepper {
    /// A room for `capacity` people with nobody in it.
    pub fn new(capacity: usize) -> Self {
        let (links, connector) = hub();
        let config = RoomConfig { code: ROOM_CODE.into(), facilitator_code: STAFF_CODE.into(), capacity };
        Stepper { server: RoomServer::new(links, config), connector, clients: Vec::new(), now: Duration::ZERO }
    }

    /// Add a client that says Hello with `code` and `nickname`. Returns its index.
    pub fn connect(&mut self, code: &str, nickname: &str) -> usize {
        let hello = Hello::new(code, nickname, AvatarLook { body_color: [200, 120, 80] });
        let session = ClientSession::start(Box::new(self.connector.connect()), hello);
        self.clients.push(TestClient {
            session,
            id: None,
            rejected: None,
            closed: false,
            peers: BTreeMap::new(),
            seen: BTreeMap::new(),
            snapshot_bytes: 0,
            updates: BTreeMap::new(),
        });
        self.clients.len() - 1
    }

    /// The manual clock.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Send a pose from client `index`.
    pub fn send_pose(&mut self, index: usize, pose: AvatarPose) {
        self.clients[index].session.send_pose(pose);
    }

    /// Client `index` leaves politely.
    pub fn leave(&mut self, index: usize) {
        self.clients[index].session.leave();
    }

    /// Advance the clock by `dt` in one step: server first, then every client.
    pub fn step(&mut self, dt: Duration) {
        self.now += dt;
        self.server.step(self.now);
        for client in &mut self.clients {
            for event in client.session.poll() {
                match event {
                    SessionEvent::Joined(welcome) => {
                        client.id = Some(welcome.your_id);
                        client.peers = welcome.peers.into_iter().map(|p| (p.id, p)).collect();
                    }
                    SessionEvent::Rejected(reason) => client.rejected = Some(reason),
                    SessionEvent::PeerJoined(peer) => {
                        client.peers.insert(peer.id, peer);
                    }
                    SessionEvent::PeerLeft(id) => {
                        client.peers.remove(&id);
                        client.seen.remove(&id);
                    }
                    SessionEvent::Snapshot(snapshot) => {
                        for state in snapshot.avatars {
                            if client.peers.contains_key(&state.id) {
                                client.seen.insert(state.id, state.pose);
                                client.updates.entry(state.id).or_default().push(snapshot.tick);
                            }
                        }
                    }
                    SessionEvent::Closed(_) => client.closed = true,
                }
            }
            client.snapshot_bytes = client.session.snapshot_bytes() as usize;
        }
    }

    /// Step `n` times by `dt`.
    pub fn run(&mut self, n: usize, dt: Duration) {
        for _ in 0..n {
            self.step(dt);
        }
    }
}

/// One server tick.
pub const TICK: Duration = Duration::from_nanos(1_000_000_000 / 30);

#[cfg(test)]
mod tests;
