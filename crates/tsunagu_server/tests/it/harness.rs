//! A server on loopback and headless clients that watch each other as a real
//! client would: snapshots through the interpolation buffer, sampled per frame.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bevy_math::{Quat, Vec3};
use tsunagu_client_core::{ClientCore, ClientEnd, RoomEvent};
use tsunagu_net::invite::Invite;
use tsunagu_net::quic::{QuicConnector, QuicServer, QuicServerConfig};
use tsunagu_protocol::{AvatarLook, AvatarPose, Hello, PeerId, RejectReason};
use tsunagu_room::RoomConfig;
use tsunagu_server::{RoomServer, serve_until_stopped};
use tsunagu_sim::pose::to_wire;

pub const CODE: &str = "e2e-room";
pub const STAFF: &str = "e2e-staff";

/// Tests that judge smoothness or timing hold this while they run, and so do
/// the tests that load the machine on purpose (hundreds of connections, a
/// server process at trace): on two cores, the one would otherwise be judging
/// the other's load, not the code.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A room server on 127.0.0.1, stopped (with goodbyes) on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    pub tcp_addr: Option<SocketAddr>,
    pub fingerprint: [u8; 32],
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(name: &str, capacity: usize) -> TestServer {
        let data_dir = std::env::temp_dir().join(format!("tsunagu-e2e-{name}-{}", std::process::id()));
        let room = RoomConfig { code: CODE.into(), facilitator_code: STAFF.into(), capacity };
        Self::start_in(&data_dir, "127.0.0.1:0".parse().unwrap(), vec![room], Vec::new())
    }

    /// A server keeping its identity in `data_dir`, on `bind`, serving `rooms`
    /// and answering `closed` codes as closed rooms (as the binary does).
    pub fn start_in(data_dir: &std::path::Path, bind: SocketAddr, rooms: Vec<RoomConfig>, closed: Vec<String>) -> TestServer {
        let capacity = rooms.iter().map(|r| r.capacity).max().unwrap_or(1);
        let (max_connections, max_per_address) = tsunagu_server::connection_limits(rooms.len(), capacity);
        let links = QuicServer::start(QuicServerConfig {
            bind,
            data_dir: data_dir.to_path_buf(),
            max_connections,
            max_per_address,
            traffic: tsunagu_room::limits::TRAFFIC,
            tcp_bind: Some(SocketAddr::new(bind.ip(), 0)),
        })
        .expect("server starts");
        let (addr, tcp_addr, fingerprint) = (links.local_addr(), links.tcp_addr(), links.fingerprint());
        let server = RoomServer::with_rooms(links, rooms).with_closed_codes(closed);
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::spawn(move || serve_until_stopped(server, &thread_stop));
        TestServer { addr, tcp_addr, fingerprint, stop, thread: Some(thread) }
    }

    pub fn invite(&self, code: &str) -> Invite {
        Invite {
            host: self.addr.ip().to_string(),
            port: self.addr.port(),
            tcp_port: self.tcp_addr.map(|a| a.port()),
            room_code: code.into(),
            fingerprint: self.fingerprint,
        }
    }

    /// Stop: every client is told why.
    pub fn shut_down(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// One headless client: the real client core over real QUIC, and what it reported.
pub struct Peer {
    pub core: ClientCore,
    pub events: Vec<RoomEvent>,
    started: Instant,
}

pub fn pose_at(pos: Vec3) -> AvatarPose {
    AvatarPose { body: to_wire(pos, Quat::IDENTITY), head: to_wire(pos + Vec3::Y * 1.15, Quat::IDENTITY), hands: None }
}

impl Peer {
    pub fn join(invite: &Invite, nickname: &str) -> Peer {
        let hello = Hello::new(&invite.room_code, nickname, AvatarLook::with_color([120, 200, 120]));
        Peer::from_core(ClientCore::join(Box::new(QuicConnector::new(invite.clone())), hello, Duration::ZERO))
    }

    /// A peer around a core that started joining at time zero (now).
    pub fn from_core(core: ClientCore) -> Peer {
        Peer { core, events: Vec::new(), started: Instant::now() }
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Handle everything that arrived.
    pub fn pump(&mut self) {
        let now = self.now();
        let events = self.core.poll(now);
        self.events.extend(events);
    }

    pub fn id(&self) -> Option<PeerId> {
        self.core.my_id()
    }

    /// How many others are here.
    pub fn present(&self) -> usize {
        self.core.room().peers().count()
    }

    pub fn sees(&self, id: PeerId) -> bool {
        self.core.room().peers().any(|p| p.id == id)
    }

    /// Why we were refused, if we were.
    pub fn rejected(&self) -> Option<RejectReason> {
        self.core.rejected()
    }

    /// How it ended, if it has.
    pub fn ended(&self) -> Option<ClientEnd> {
        self.core.ending()
    }

    pub fn send_pose(&mut self, pose: AvatarPose) {
        let now = self.now();
        self.core.send_pose(pose, now);
    }

    /// Where this client would draw `id` right now.
    pub fn rendered(&self, id: PeerId) -> Option<Vec3> {
        let room = self.core.room();
        let t = room.render_time(self.now())?;
        room.sample(id, t).map(|p| p.body.0)
    }

    pub fn snapshots_seen(&self) -> u64 {
        self.core.room().snapshots()
    }
}

/// Pump `peers` until `done` or `limit`; returns whether `done` became true.
pub fn wait_until(peers: &mut [&mut Peer], limit: Duration, done: impl Fn(&[&mut Peer]) -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        for p in peers.iter_mut() {
            p.pump();
        }
        if done(peers) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// A slow, natural walk: a loop across the free floor in front of the screen.
/// It starts 0.6 m in front of where the first to join arrives, and keeps at
/// least 0.6 m from where the next ones stand (z = 1.8 m, x = ±1.2 m): the
/// room keeps bodies from walking into each other.
pub fn path(t: f32) -> Vec3 {
    Vec3::new(1.2 * (t * 0.8).sin(), 0.0, 0.6 + 0.6 * (t * 0.5).cos())
}

/// The result of watching `walker` walk [`path`] for `seconds`.
pub struct Follow {
    /// Largest distance between where a watcher drew the walker and the nearest
    /// point of the true path within the last 200 ms.
    pub worst_error: f32,
    /// Largest jump of the drawn walker between two consecutive frames.
    pub worst_jump: f32,
    /// Frames compared.
    pub frames: usize,
}

/// Walk `walker` along [`path`] at 30 Hz for `seconds` while `watchers` render at
/// 60 Hz; also calls `meanwhile` every frame (e.g. a rogue client).
pub fn walk_and_watch(walker: &mut Peer, watchers: &mut [&mut Peer], seconds: f32, mut meanwhile: impl FnMut()) -> Follow {
    let walker_id = walker.id().expect("walker joined");
    let start = Instant::now();
    let mut truth: Vec<(f32, Vec3)> = Vec::new();
    let mut last_drawn: Vec<Option<Vec3>> = vec![None; watchers.len()];
    let mut follow = Follow { worst_error: 0.0, worst_jump: 0.0, frames: 0 };
    let mut next_pose = 0.0f32;
    let mut frame = 0u32;
    loop {
        let t = start.elapsed().as_secs_f32();
        if t > seconds {
            break;
        }
        if t >= next_pose {
            let p = path(t);
            truth.push((t, p));
            walker.send_pose(pose_at(p));
            next_pose += 1.0 / 30.0;
        }
        walker.pump();
        meanwhile();
        for (i, w) in watchers.iter_mut().enumerate() {
            w.pump();
            // Judge once the walk is under way and buffers have filled.
            if t < 1.0 {
                continue;
            }
            let Some(drawn) = w.rendered(walker_id) else { continue };
            let window: Vec<Vec3> = truth.iter().filter(|(ts, _)| *ts >= t - 0.2 && *ts <= t).map(|(_, p)| *p).collect();
            let error = window.iter().map(|p| p.distance(drawn)).fold(f32::MAX, f32::min);
            follow.worst_error = follow.worst_error.max(error);
            if let Some(prev) = last_drawn[i] {
                follow.worst_jump = follow.worst_jump.max(prev.distance(drawn));
            }
            last_drawn[i] = Some(drawn);
            follow.frames += 1;
        }
        frame += 1;
        let next_frame = Duration::from_secs_f64(f64::from(frame) / 60.0);
        if let Some(wait) = next_frame.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    follow
}
