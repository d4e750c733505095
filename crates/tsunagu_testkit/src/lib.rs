//! The stepper: one room server and N real client cores in one process, joined
//! by the in-memory transport and driven by a manual clock. No sockets, no
//! sleeps, no flaky timing: every test run sees exactly the same events.

pub mod book;
pub mod trace;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tsunagu_client_core::{ClientCore, ClientEnd, RoomEvent};
use tsunagu_net::memory::{Blocked, MemoryConnector, MemoryServer, hub};
use tsunagu_net::{ClientLink, ConnId, Connector};
use tsunagu_protocol::{AvatarLook, AvatarPose, ClientEvent, Hello, PeerId, PeerInfo, RejectReason};
use tsunagu_room::RoomConfig;
use tsunagu_server::RoomServer;

/// Participant code of the stepper's room.
pub const ROOM_CODE: &str = "stepper-room";
/// Facilitator code of the stepper's room.
pub const STAFF_CODE: &str = "stepper-room-staff";

/// Opens hub links for one client and remembers which, so a test can cut or
/// block that client's current connection.
struct TrackedConnector {
    hub: MemoryConnector,
    opened: Arc<Mutex<Vec<ConnId>>>,
    /// The address key its connections come from (0: each its own).
    address: u64,
}

impl Connector for TrackedConnector {
    fn open(&mut self) -> Result<Box<dyn ClientLink>, String> {
        let link = self.hub.connect_from(self.address);
        self.opened.lock().unwrap_or_else(|e| e.into_inner()).push(link.id());
        Ok(Box::new(link))
    }
}

/// One simulated client: a real [`ClientCore`] and everything it reported.
pub struct TestClient {
    /// The client under test.
    pub core: ClientCore,
    /// Every event it reported, in order.
    pub events: Vec<RoomEvent>,
    opened: Arc<Mutex<Vec<ConnId>>>,
}

impl TestClient {
    /// Our id, once welcomed.
    pub fn id(&self) -> Option<PeerId> {
        self.core.my_id()
    }

    /// Why we were refused, if we were.
    pub fn rejected(&self) -> Option<RejectReason> {
        self.core.rejected()
    }

    /// How it ended, if it has.
    pub fn ended(&self) -> Option<ClientEnd> {
        self.core.ending()
    }

    /// Who we know is here (not counting us).
    pub fn peers(&self) -> BTreeMap<PeerId, PeerInfo> {
        self.core.room().peers().map(|p| (p.id, p.clone())).collect()
    }

    /// The newest pose we hold of someone, exactly as decoded.
    pub fn seen(&self, id: PeerId) -> Option<AvatarPose> {
        self.core.room().peer(id).and_then(|p| p.latest)
    }

    /// How many snapshots updated someone.
    pub fn updates(&self, id: PeerId) -> u32 {
        self.core.room().peer(id).map_or(0, |p| p.updates)
    }

    /// Snapshot bytes received, over every connection.
    pub fn snapshot_bytes(&self) -> usize {
        self.core.snapshot_bytes() as usize
    }

    /// The hub connection the client uses now.
    pub fn conn(&self) -> Option<ConnId> {
        self.opened.lock().unwrap_or_else(|e| e.into_inner()).last().copied()
    }

    /// How many connections it has opened (1 + reconnects).
    pub fn connections_opened(&self) -> usize {
        self.opened.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A server and its clients on one manual clock.
pub struct Stepper {
    /// The server under test.
    pub server: RoomServer<MemoryServer>,
    /// Opens raw connections (for tests that misbehave on purpose).
    pub connector: MemoryConnector,
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

    /// Add a client that says Hello with `code` and `nickname`, from an
    /// installation of its own. Returns its index.
    pub fn connect(&mut self, code: &str, nickname: &str) -> usize {
        let device = 1000 + self.clients.len() as u64;
        self.connect_from(code, nickname, device)
    }

    /// Add a client from installation `device` (the same number as an earlier
    /// client's is that client started again). Returns its index.
    pub fn connect_from(&mut self, code: &str, nickname: &str, device: u64) -> usize {
        self.connect_at(code, nickname, device, 0)
    }

    /// Add a client from installation `device` at address key `address`
    /// (clients with the same nonzero key share an address, as a ward behind
    /// one NAT, or one machine). Returns its index.
    pub fn connect_at(&mut self, code: &str, nickname: &str, device: u64, address: u64) -> usize {
        let hello = Hello::new(code, nickname, AvatarLook::with_color([200, 120, 80])).from_device(device);
        let opened = Arc::new(Mutex::new(Vec::new()));
        let connector = TrackedConnector { hub: self.connector.clone(), opened: opened.clone(), address };
        let core = ClientCore::join(Box::new(connector), hello, self.now);
        self.clients.push(TestClient { core, events: Vec::new(), opened });
        self.clients.len() - 1
    }

    /// Whether the room sends `id` less (low-bandwidth mode); `None` if nobody by that id is in.
    pub fn light_link(&self, id: PeerId) -> Option<bool> {
        self.server.room().member(id).map(|m| m.light_link)
    }

    /// The manual clock.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Send a pose from client `index`.
    pub fn send_pose(&mut self, index: usize, pose: AvatarPose) {
        let now = self.now;
        self.clients[index].core.send_pose(pose, now);
    }

    /// Send a room event from client `index`.
    pub fn send_event(&mut self, index: usize, event: ClientEvent) {
        self.clients[index].core.send_event(event);
    }

    /// Client `index` leaves politely.
    pub fn leave(&mut self, index: usize) {
        self.clients[index].core.leave();
    }

    /// Silently lose client `index`'s current traffic in the given directions.
    pub fn block(&mut self, index: usize, blocked: Blocked) {
        if let Some(conn) = self.clients[index].conn() {
            self.connector.block(conn, blocked);
        }
    }

    /// Advance the clock by `dt` in one step: server first, then every client.
    pub fn step(&mut self, dt: Duration) {
        self.step_stalling(dt, &[]);
    }

    /// The same, but the clients in `stalled` are not polled: their app is
    /// stuck in a long frame (a slow ward PC, a headset's hiccup).
    pub fn step_stalling(&mut self, dt: Duration, stalled: &[usize]) {
        self.now += dt;
        self.server.step(self.now);
        for (index, client) in self.clients.iter_mut().enumerate() {
            if stalled.contains(&index) {
                continue;
            }
            let events = client.core.poll(self.now);
            client.events.extend(events);
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
mod insider_tests;
#[cfg(test)]
mod page_tests;
#[cfg(test)]
mod play_tests;
#[cfg(test)]
mod safety_tests;
#[cfg(test)]
mod screen_tests;
#[cfg(test)]
mod tests;
