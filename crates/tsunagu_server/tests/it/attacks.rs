//! Strangers who can reach the port, with no invite, try to keep children out.
//! Other loopback addresses (127.0.0.2, 127.0.0.3) stand in for other hosts.
//! Every loop here is bounded in count and time.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tsunagu_net::ClientLink;
use tsunagu_net::quic::QuicClient;

use crate::harness::*;
use tsunagu_protocol::ServerEvent;

/// Keep opening connections from `ip` that never say Hello, holding up to
/// `hold` at once, until `stop` (at most `attempts` connections).
fn hold_slots(
    server: &TestServer,
    ip: IpAddr,
    hold: usize,
    attempts: usize,
    stop: Arc<AtomicBool>,
    opened: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    let invite = server.invite(CODE);
    std::thread::spawn(move || {
        let mut held: Vec<QuicClient> = Vec::new();
        let mut tries = 0;
        while !stop.load(Ordering::Relaxed) && tries < attempts {
            // Forget the ones the server closed, open more.
            held.retain_mut(|c| !std::iter::from_fn(|| c.try_recv()).any(|e| matches!(e, tsunagu_net::LinkEvent::Closed(_))));
            while held.len() < hold && tries < attempts {
                if let Ok(c) = QuicClient::connect_from(&invite, ip) {
                    held.push(c);
                    opened.fetch_add(1, Ordering::Relaxed);
                }
                tries += 1;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

#[test]
fn strangers_holding_connections_from_two_addresses_do_not_keep_children_out() {
    let _turn = one_at_a_time();
    let server = TestServer::start("slot-holders", 20);
    let stop = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicUsize::new(0));
    let attackers: Vec<_> =
        ["127.0.0.2", "127.0.0.3"].iter().map(|ip| hold_slots(&server, ip.parse().unwrap(), 40, 3000, stop.clone(), opened.clone())).collect();
    std::thread::sleep(Duration::from_millis(500));
    // Ten children join one after another while the strangers keep at it.
    let mut joined = 0;
    let mut slowest = Duration::ZERO;
    let mut children = Vec::new();
    for i in 0..10 {
        let started = Instant::now();
        let mut child = Peer::join(&server.invite(CODE), &format!("child{i}"));
        if wait_until(&mut [&mut child], Duration::from_secs(5), |ps| ps[0].id().is_some()) {
            joined += 1;
            slowest = slowest.max(started.elapsed());
        }
        children.push(child);
    }
    let still_going = attackers.iter().all(|a| !a.is_finished());
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        let _ = a.join();
    }
    eprintln!(
        "slot holders: {} connections opened from two addresses; {joined} of 10 children in, slowest {:.2} s",
        opened.load(Ordering::Relaxed),
        slowest.as_secs_f64()
    );
    assert!(opened.load(Ordering::Relaxed) >= 40, "the strangers did not get going");
    assert!(still_going, "the strangers gave up before the children had joined");
    assert_eq!(joined, 10, "children were kept out");
    let turned_away = children.iter().filter(|c| c.events.contains(&tsunagu_client_core::RoomEvent::ServerBusy)).count();
    assert_eq!(turned_away, 0, "{turned_away} children were told the server is busy");
}

/// A member who joined properly, then floods datagrams as fast as it can: it
/// is closed as it goes over the limit, counted where the data arrives, while
/// the others stay.
#[test]
fn a_member_flooding_datagrams_is_closed_at_once_and_the_others_stay() {
    flood_through(false);
}

/// The same through the WebSocket door: its datagram messages are counted
/// by the same limits, as they are read.
#[test]
fn a_member_flooding_the_websocket_door_is_closed_at_once_and_the_others_stay() {
    flood_through(true);
}

fn flood_through(websocket: bool) {
    use tsunagu_net::ClientLink;
    let _turn = one_at_a_time();
    let server = TestServer::start("flooding-member", 8);
    let mut child = Peer::join(&server.invite(CODE), "child");
    let mut flooder: Box<dyn ClientLink> = if websocket {
        let port = server.tcp_addr.expect("a TCP door").port();
        let direct = tsunagu_net::wss::proxy::ProxyChoice::Direct;
        Box::new(tsunagu_net::wss::WssClient::connect(&server.invite(CODE), port, &direct, Duration::from_secs(3)).unwrap())
    } else {
        Box::new(QuicClient::connect(&server.invite(CODE)).unwrap())
    };
    let hello = tsunagu_protocol::Hello::new(CODE, "flood", tsunagu_protocol::AvatarLook::with_color([0, 0, 0]));
    flooder.send(tsunagu_net::Channel::Control, tsunagu_protocol::encode(&tsunagu_protocol::ClientControl::Hello(hello), 16 * 1024).unwrap());
    assert!(wait_until(&mut [&mut child], Duration::from_secs(5), |ps| ps[0].present() == 1), "the flooder never joined");
    // A WebSocket client's own outbox keeps only the newest pose; voice
    // frames it sends as they come, so the flood is of voice there.
    let datagram = if websocket {
        let frame = tsunagu_protocol::VoiceFrame { seq: 1, timestamp: 0, speaking: true, opus: vec![0x78; 40] };
        tsunagu_protocol::encode(&tsunagu_protocol::ClientDatagram::Voice(frame), 1200).unwrap()
    } else {
        let pose = tsunagu_protocol::PoseFrame { seq: 1, ack_tick: 0, pose: pose_at(bevy_math::Vec3::ZERO) };
        tsunagu_protocol::encode(&tsunagu_protocol::ClientDatagram::Pose(pose), 1200).unwrap()
    };
    let started = Instant::now();
    let mut end = None;
    let mut sent = 0;
    while end.is_none() && started.elapsed() < Duration::from_secs(5) && sent < 100_000 {
        for _ in 0..200 {
            flooder.send_datagram(datagram.clone());
            sent += 1;
        }
        while let Some(event) = flooder.try_recv() {
            if let tsunagu_net::LinkEvent::Closed(why) = event {
                end = Some((why, started.elapsed()));
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let (why, after) = end.expect("the flooder was never closed");
    let door = if websocket { "WebSocket" } else { "QUIC" };
    eprintln!("flooding member ({door}): closed as {why:?} after {:.1} ms and {sent} datagrams sent", after.as_secs_f64() * 1000.0);
    assert_eq!(why, tsunagu_net::LinkEnd::Reason(tsunagu_protocol::CloseReason::RateLimited));
    assert!(wait_until(&mut [&mut child], Duration::from_secs(3), |ps| ps[0].present() == 0), "the flooder is still shown");
    assert!(child.ended().is_none(), "the child was closed too");
}

/// How long after `walker` sent each pose `watcher` first held it (ms), over
/// `seconds`, while `meanwhile` runs every millisecond. Each pose carries a
/// marker in its head height, so the watcher knows which one it sees.
fn pose_ages(walker: &mut Peer, watcher: &mut Peer, seconds: f32, mut meanwhile: impl FnMut()) -> Vec<f64> {
    let walker_id = walker.id().expect("walker joined");
    let started = Instant::now();
    let mut sent: std::collections::HashMap<i32, Instant> = std::collections::HashMap::new();
    let mut last_seen = None;
    let mut ages = Vec::new();
    let mut seq = 0;
    let mut next_pose = Duration::ZERO;
    while started.elapsed().as_secs_f32() < seconds {
        if started.elapsed() >= next_pose {
            next_pose += Duration::from_secs(1) / 30;
            let marker = seq % 250;
            seq += 1;
            let mut pose = pose_at(bevy_math::Vec3::new(0.0, 0.0, 0.0));
            pose.head.pos.0[1] = 1000 + marker;
            sent.insert(marker, Instant::now());
            walker.send_pose(pose);
        }
        walker.pump();
        meanwhile();
        watcher.pump();
        let seen = watcher.core.room().peer(walker_id).and_then(|p| p.latest).map(|p| p.head.pos.0[1] - 1000);
        if seen.is_some() && seen != last_seen {
            last_seen = seen;
            if let Some(at) = seen.and_then(|m| sent.get(&m)) {
                ages.push(at.elapsed().as_secs_f64() * 1000.0);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    ages.sort_by(f64::total_cmp);
    ages
}

fn p99(sorted: &[f64]) -> f64 {
    sorted[((sorted.len() as f64 * 0.99) as usize).min(sorted.len() - 1)]
}

/// One member sends all it may — voice at 80 frames a second (the room
/// passes 55), chat, stamps and gestures at 18 frames a second (most refused
/// as too fast), poses at 30 — without going over the connection's limits,
/// so it is never closed. The others' poses arrive no later for it.
#[test]
fn one_member_flooding_within_the_limits_does_not_slow_the_others() {
    use tsunagu_protocol::{ClientEvent, Gesture, Stamp, VoiceFrame};
    let _turn = one_at_a_time();
    let server = TestServer::start("flood-within-limits", 8);
    let mut walker = Peer::join(&server.invite(CODE), "walker");
    let mut watcher = Peer::join(&server.invite(CODE), "watcher");
    let mut flooder = Peer::join(&server.invite(CODE), "flooder");
    assert!(wait_until(&mut [&mut walker, &mut watcher, &mut flooder], Duration::from_secs(5), |ps| ps.iter().all(|p| p.present() == 2)));
    let calm = pose_ages(&mut walker, &mut watcher, 3.0, || flooder.pump());
    let tick_ms = 1000.0 / 30.0;
    let one_way_ms = watcher.core.round_trip().map_or(0.0, |rtt| rtt.as_secs_f64() * 1000.0 / 2.0);
    let flood_started = Instant::now();
    let (mut voice, mut events, mut poses) = (0u32, 0u32, 0u32);
    let flooded = pose_ages(&mut walker, &mut watcher, 4.0, || {
        let t = flood_started.elapsed().as_secs_f64();
        while f64::from(voice) < t * 80.0 {
            flooder.core.send_voice(VoiceFrame { seq: voice as u16, timestamp: voice * 960, speaking: true, opus: vec![0x55; 120] });
            voice += 1;
        }
        while f64::from(events) < t * 18.0 {
            let event = match events % 3 {
                0 => ClientEvent::Chat(format!("あそぼう {events}")),
                1 => ClientEvent::Stamp(Stamp::Heart),
                _ => ClientEvent::Gesture(Gesture::Wave),
            };
            flooder.core.send_event(event);
            events += 1;
        }
        while f64::from(poses) < t * 30.0 {
            flooder.send_pose(pose_at(bevy_math::Vec3::new(2.0, 0.0, -1.0)));
            poses += 1;
        }
        flooder.pump();
    });
    let refused = flooder.events.iter().filter(|e| matches!(e, tsunagu_client_core::RoomEvent::Server(ServerEvent::Refused(_)))).count();
    eprintln!(
        "flood within the limits: {voice} voice frames, {events} events ({refused} refused), {poses} poses in 4 s; \
         the watcher's pose age p99 {:.1} ms calm ({} samples), {:.1} ms during ({} samples); one-way delay {one_way_ms:.1} ms",
        p99(&calm),
        calm.len(),
        p99(&flooded),
        flooded.len()
    );
    assert!(flooder.ended().is_none(), "the flooder went over the limits and was closed: {:?}", flooder.ended());
    assert!(refused > 0, "nothing was refused: the flood did not reach the room's limits");
    assert!(flooded.len() > 40, "only {} poses seen during the flood", flooded.len());
    assert!(p99(&flooded) <= one_way_ms + 2.0 * tick_ms, "pose age p99 {:.1} ms during the flood (calm {:.1} ms)", p99(&flooded), p99(&calm));
    assert!(watcher.ended().is_none() && walker.ended().is_none());
}

/// One handshake that answers the server's Retry and then goes silent
/// half-way: a relay in front of a real client forwards the client's packets
/// from `ip` only until the server sends its first packet that is not a
/// Retry, and every packet back. The server is left waiting for the client's
/// Finished.
struct HalfOpen {
    front: std::net::UdpSocket,
    up: std::net::UdpSocket,
    client: Option<std::net::SocketAddr>,
    server_answered: bool,
    _client: Option<QuicClient>,
}

/// Start `count` half-open handshakes from `ip`, each through its own relay.
fn half_open(invite: &tsunagu_net::invite::Invite, ip: IpAddr, count: usize) -> Vec<HalfOpen> {
    (0..count)
        .filter_map(|_| {
            let front = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
            let up = std::net::UdpSocket::bind((ip, 0)).ok()?;
            front.set_nonblocking(true).ok()?;
            up.set_nonblocking(true).ok()?;
            let mut invite = invite.clone();
            invite.host = "127.0.0.1".into();
            invite.port = front.local_addr().ok()?.port();
            let client = QuicClient::connect(&invite).ok();
            Some(HalfOpen { front, up, client: None, server_answered: false, _client: client })
        })
        .collect()
}

/// Move what has arrived through every relay once. Returns whether anything moved.
fn relay_once(relays: &mut [HalfOpen], server: std::net::SocketAddr) -> bool {
    let mut moved = false;
    let mut buf = [0u8; 2048];
    for r in relays.iter_mut() {
        while let Ok((n, from)) = r.front.recv_from(&mut buf) {
            moved = true;
            r.client = Some(from);
            if !r.server_answered {
                let _ = r.up.send_to(&buf[..n], server);
            }
        }
        while let Ok(n) = r.up.recv(&mut buf) {
            moved = true;
            // A long-header packet whose type is not Retry (0x30): the
            // server's Initial. From now on the client falls silent.
            if buf[0] & 0x80 != 0 && buf[0] & 0x30 != 0x30 {
                r.server_answered = true;
            }
            if let Some(client) = r.client {
                let _ = r.front.send_to(&buf[..n], client);
            }
        }
    }
    moved
}

/// Six addresses keep starting handshakes and leaving them half-open (at
/// the door's rate, more than the server's 128 in progress in all within a
/// few seconds) while ten children join: the per-address cap (8) and the
/// handshake deadline (3 s) keep the door open for them.
#[test]
fn handshakes_left_half_open_from_six_addresses_do_not_keep_children_out() {
    let _turn = one_at_a_time();
    let server = TestServer::start("half-open", 20);
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let started_handshakes = Arc::new(AtomicUsize::new(0));
    let attacker = {
        let (stop, started_handshakes) = (stop.clone(), started_handshakes.clone());
        let invite = server.invite(CODE);
        std::thread::spawn(move || {
            let mut relays: Vec<HalfOpen> = Vec::new();
            let began = Instant::now();
            let mut round = 0;
            // Bounded: at most 20 s and 16 rounds of 180, one a second.
            while !stop.load(Ordering::Relaxed) && began.elapsed() < Duration::from_secs(20) {
                if round < 16 && began.elapsed() >= Duration::from_secs(round as u64) {
                    relays.clear();
                    for ip in ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"] {
                        relays.extend(half_open(&invite, ip.parse().expect("address"), 30));
                    }
                    started_handshakes.fetch_add(relays.len(), Ordering::Relaxed);
                    round += 1;
                }
                if !relay_once(&mut relays, addr) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
    };
    // Long enough for half-open handshakes to pile up at the door's rate for
    // new connections (20 at once, then 5 a second from each address).
    std::thread::sleep(Duration::from_secs(7));
    let mut joined = 0;
    let mut children = Vec::new();
    for i in 0..10 {
        let mut child = Peer::join(&server.invite(CODE), &format!("child{i}"));
        if wait_until(&mut [&mut child], Duration::from_secs(5), |ps| ps[0].id().is_some()) {
            joined += 1;
        }
        children.push(child);
    }
    stop.store(true, Ordering::Relaxed);
    let _ = attacker.join();
    eprintln!("half-open: {} handshakes left half-open from six addresses; {joined} of 10 children in", started_handshakes.load(Ordering::Relaxed));
    assert!(started_handshakes.load(Ordering::Relaxed) >= 1000, "the attack did not get going");
    assert_eq!(joined, 10, "children were kept out by half-open handshakes");
}
