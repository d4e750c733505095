//! Joining from a hospital network, built on loopback: a firewall that drops
//! UDP (a socket that swallows every datagram, not a closed port), an HTTP
//! CONNECT proxy inside the test (with a password, and with the wrong one),
//! and a proxy that shows its own certificate (it leads to another server).
//! The real client core and the real room server, both transports in one room.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bevy_math::Vec3;
use tsunagu_client_core::{ClientCore, ClientEnd};
use tsunagu_net::LinkEnd;
use tsunagu_net::invite::Invite;
use tsunagu_net::race::{RaceSettings, RacingConnector, UdpMemory};
use tsunagu_net::wss::proxy::{Proxy, ProxyChoice};
use tsunagu_protocol::{AvatarLook, Hello};

use crate::harness::{CODE, Peer, TestServer, one_at_a_time, pose_at, wait_until};

/// The invite as seen from behind a firewall that drops UDP: its QUIC port
/// leads to a socket that swallows everything.
fn behind_a_udp_firewall(invite: &Invite) -> (Invite, UdpSocket) {
    let swallow = UdpSocket::bind("127.0.0.1:0").unwrap();
    let blocked = Invite { port: swallow.local_addr().unwrap().port(), ..invite.clone() };
    (blocked, swallow)
}

fn racing_peer(invite: &Invite, nickname: &str, proxy: ProxyChoice, memory: &UdpMemory) -> Peer {
    let settings = RaceSettings { proxy, memory: memory.clone(), ..RaceSettings::new(invite.clone()) };
    let hello = Hello::new(&invite.room_code, nickname, AvatarLook::with_color([200, 160, 120]));
    Peer::from_core(ClientCore::join(Box::new(RacingConnector::new(settings)), hello, Duration::ZERO))
}

/// Pump `peer` until it is in the room or has ended; how long that took.
fn join_time(peer: &mut Peer, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    wait_until(&mut [&mut *peer], limit, |p| p[0].id().is_some() || p[0].ended().is_some());
    peer.id().map(|_| started.elapsed())
}

/// An HTTP CONNECT proxy on loopback. It sends every tunnel to `to`
/// (whatever was asked: a test stand-in for the way out), after checking the
/// user and password if it has them.
struct TestProxy {
    addr: SocketAddr,
    tunnels: Arc<AtomicUsize>,
}

impl TestProxy {
    fn start(to: SocketAddr, login: Option<(&'static str, &'static str)>) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let counted = tunnels.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counted = counted.clone();
                std::thread::spawn(move || tunnel(client, to, login, &counted));
            }
        });
        TestProxy { addr, tunnels }
    }

    fn proxy(&self, user: Option<&str>, password: Option<&str>) -> ProxyChoice {
        ProxyChoice::This(Proxy { host: "127.0.0.1".into(), port: self.addr.port(), user: user.map(Into::into), password: password.map(Into::into) })
    }
}

fn tunnel(mut client: TcpStream, to: SocketAddr, login: Option<(&str, &str)>, tunnels: &AtomicUsize) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        if client.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    if !head.starts_with("CONNECT ") {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n");
        return;
    }
    if let Some((user, password)) = login {
        use base64::Engine as _;
        let wanted = format!("Proxy-Authorization: Basic {}\r\n", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")));
        if !head.contains(&wanted) {
            let _ = client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"ward\"\r\n\r\n");
            return;
        }
    }
    let Ok(server) = TcpStream::connect(to) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    tunnels.fetch_add(1, Ordering::Relaxed);
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let (mut client_in, mut server_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(std::net::Shutdown::Write);
    });
    let (mut server_in, mut client_out) = (server, client);
    let _ = std::io::copy(&mut server_in, &mut client_out);
    let _ = client_out.shutdown(std::net::Shutdown::Write);
}

#[test]
fn behind_a_firewall_that_drops_udp_a_child_joins_over_wss_within_three_seconds_and_at_once_the_next_time() {
    let _turn = one_at_a_time();
    let server = TestServer::start("udp-dropped", 8);
    let mut on_quic = Peer::join(&server.invite(CODE), "Aoi");
    assert!(join_time(&mut on_quic, Duration::from_secs(5)).is_some(), "the child on QUIC did not join");
    let (blocked, _swallow) = behind_a_udp_firewall(&server.invite(CODE));
    let memory = UdpMemory::default();

    let mut on_wss = racing_peer(&blocked, "Ren", ProxyChoice::Direct, &memory);
    let first = join_time(&mut on_wss, Duration::from_secs(5)).expect("the child behind the firewall did not join");
    println!("joined over WSS with UDP dropped: {:.0} ms (first time)", first.as_secs_f64() * 1000.0);
    assert!(first < Duration::from_secs(3), "joining took {first:?}");

    // One room: each sees the other, and where the other walks.
    let (aoi, ren) = (on_quic.id().unwrap(), on_wss.id().unwrap());
    assert!(wait_until(&mut [&mut on_quic, &mut on_wss], Duration::from_secs(3), |p| p[0].sees(ren) && p[1].sees(aoi)));
    let spot = Vec3::new(1.0, 0.0, 1.0);
    // Walking: a pose each frame, each drawn where the other stands.
    let start = Instant::now();
    let saw_it = loop {
        on_wss.send_pose(pose_at(spot));
        on_quic.send_pose(pose_at(-spot));
        on_quic.pump();
        on_wss.pump();
        if on_quic.rendered(ren).is_some_and(|at| at.distance(spot) < 0.3) && on_wss.rendered(aoi).is_some_and(|at| at.distance(-spot) < 0.3) {
            break true;
        }
        if start.elapsed() > Duration::from_secs(5) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(16));
    };
    assert!(saw_it, "poses did not cross between QUIC and WSS");
    on_wss.core.leave();
    drop(on_wss);

    // The next time on this network, UDP's failure is remembered.
    let mut again = racing_peer(&blocked, "Kai", ProxyChoice::Direct, &memory);
    let second = join_time(&mut again, Duration::from_secs(5));
    let second = second.unwrap_or_else(|| panic!("the second join did not get in: {:?}", again.ended()));
    println!("joined over WSS with UDP dropped: {:.0} ms (remembered)", second.as_secs_f64() * 1000.0);
    assert!(second < Duration::from_secs(1), "the remembered join took {second:?}");
}

#[test]
fn through_an_http_proxy_with_its_password_a_child_joins_and_a_wrong_password_says_so() {
    let _turn = one_at_a_time();
    let server = TestServer::start("proxy", 8);
    let (blocked, _swallow) = behind_a_udp_firewall(&server.invite(CODE));
    let proxy = TestProxy::start(server.tcp_addr.unwrap(), Some(("nurse", "secret")));

    let mut through = racing_peer(&blocked, "Mio", proxy.proxy(Some("nurse"), Some("secret")), &UdpMemory::default());
    assert!(join_time(&mut through, Duration::from_secs(5)).is_some(), "did not join through the proxy: {:?}", through.ended());
    assert_eq!(proxy.tunnels.load(Ordering::Relaxed), 1);

    for (user, password) in [(Some("nurse"), Some("wrong")), (None, None)] {
        let mut refused = racing_peer(&blocked, "Sora", proxy.proxy(user, password), &UdpMemory::default());
        assert_eq!(join_time(&mut refused, Duration::from_secs(8)), None);
        assert_eq!(refused.ended(), Some(ClientEnd::Closed(LinkEnd::ProxyNeedsPassword)), "with user {user:?}");
    }
    // A proxy with no password wanted works without one.
    let open = TestProxy::start(server.tcp_addr.unwrap(), None);
    let mut plain = racing_peer(&blocked, "Yui", open.proxy(None, None), &UdpMemory::default());
    assert!(join_time(&mut plain, Duration::from_secs(5)).is_some(), "did not join through a proxy without a password");
}

#[test]
fn a_proxy_that_shows_its_own_certificate_is_refused_with_a_line_for_it_and_nothing_reaches_it() {
    let _turn = one_at_a_time();
    let server = TestServer::start("inspected", 8);
    let (blocked, _swallow) = behind_a_udp_firewall(&server.invite(CODE));
    // What an inspecting proxy does, seen from the client: the TLS on the
    // other end is not the room's. Here it is another server, which must
    // never see a connection come up.
    let dir = std::env::temp_dir().join(format!("tsunagu-it-impostor-{}", std::process::id()));
    let mut impostor = tsunagu_net::quic::QuicServer::start(tsunagu_net::quic::QuicServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir,
        max_connections: 8,
        max_per_address: 8,
        traffic: tsunagu_room::limits::TRAFFIC,
        tcp_bind: Some("127.0.0.1:0".parse().unwrap()),
    })
    .unwrap();
    assert_ne!(impostor.fingerprint(), server.fingerprint);
    let proxy = TestProxy::start(impostor.tcp_addr().unwrap(), None);
    let mut child = racing_peer(&blocked, "Hina", proxy.proxy(None, None), &UdpMemory::default());
    assert_eq!(join_time(&mut child, Duration::from_secs(8)), None);
    assert_eq!(child.ended(), Some(ClientEnd::Closed(LinkEnd::Intercepted)));
    assert_eq!(proxy.tunnels.load(Ordering::Relaxed), 1, "the child did not try through the proxy");
    assert!(impostor.recv_timeout(Duration::from_millis(200)).is_none(), "something of the child's reached the impostor");
}

/// Walk `walker` to `spot` (a pose each frame) until `watcher` draws it
/// there; whether it did within `limit`.
fn walk_until_seen(walker: &mut Peer, watcher: &mut Peer, spot: Vec3, limit: Duration) -> bool {
    let id = walker.id().expect("in the room");
    let start = Instant::now();
    while start.elapsed() < limit {
        walker.send_pose(pose_at(spot));
        walker.pump();
        watcher.pump();
        if watcher.rendered(id).is_some_and(|at| at.distance(spot) < 0.3) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(16));
    }
    false
}

#[test]
fn when_the_wifi_starts_dropping_udp_the_child_moves_to_wss_and_back_to_quic_as_the_same_person() {
    let _turn = one_at_a_time();
    let server = TestServer::start("udp-cut", 8);
    let relay = crate::relay::LossyRelay::start(server.addr, 0.0, Duration::ZERO, Duration::ZERO, 7);
    let through_wifi = Invite { port: relay.addr().port(), ..server.invite(CODE) };
    let mut watcher = Peer::join(&server.invite(CODE), "Aoi");
    assert!(join_time(&mut watcher, Duration::from_secs(5)).is_some());
    let settings = RaceSettings {
        proxy: ProxyChoice::Direct,
        memory: UdpMemory::default(),
        reprobe_every: Duration::from_secs(1),
        ..RaceSettings::new(through_wifi)
    };
    let connector = RacingConnector::new(settings);
    let on_quic = connector.stats();
    let hello = Hello::new(CODE, "Ren", AvatarLook::with_color([200, 160, 120]));
    let mut child = Peer::from_core(ClientCore::join(Box::new(connector), hello, Duration::ZERO));
    assert!(join_time(&mut child, Duration::from_secs(5)).is_some());
    let ren = child.id().unwrap();
    assert!(walk_until_seen(&mut child, &mut watcher, Vec3::new(1.0, 0.0, 1.0), Duration::from_secs(5)));
    assert!(on_quic.totals().tx_packets > 0, "the child did not start on QUIC");

    // The Wi-Fi drops UDP both ways: the child carries on over the WebSocket.
    relay.block(true, true);
    let cut = Instant::now();
    assert!(walk_until_seen(&mut child, &mut watcher, Vec3::new(-1.0, 0.0, 1.0), Duration::from_secs(10)), "the child froze after UDP was cut");
    let moved = cut.elapsed();
    println!("moved to WSS and seen walking again {:.1} s after UDP was cut", moved.as_secs_f64());
    assert_eq!(child.id(), Some(ren), "the child came back as someone else");
    let quic_sent = on_quic.totals().tx_packets;

    // UDP comes back: within a few seconds the child is on QUIC again.
    relay.block(false, false);
    let restored = Instant::now();
    let mut back_on_quic = false;
    while restored.elapsed() < Duration::from_secs(8) && !back_on_quic {
        back_on_quic = walk_until_seen(&mut child, &mut watcher, Vec3::new(0.5, 0.0, 0.5), Duration::from_millis(200))
            && on_quic.totals().tx_packets > quic_sent + 30;
    }
    assert!(back_on_quic, "the child did not move back to QUIC when UDP came back");
    println!("back on QUIC {:.1} s after UDP came back", restored.elapsed().as_secs_f64());
    assert_eq!(child.id(), Some(ren));
    assert!(walk_until_seen(&mut child, &mut watcher, Vec3::new(-0.5, 0.0, 0.5), Duration::from_secs(3)));
    assert!(
        !watcher.events.contains(&tsunagu_client_core::RoomEvent::Server(tsunagu_protocol::ServerEvent::PeerLeft(ren))),
        "the others saw the child leave"
    );
}

/// What a room costs on the wire to someone watching it over the WebSocket,
/// against over QUIC: six children walking, one watcher on each transport,
/// ten seconds. QUIC counts UDP payload (its headers and acknowledgements
/// included); the WebSocket counts TCP payload (TLS records and WebSocket
/// framing included). Printed for docs/benchmarks.md; the test fails if the
/// WebSocket costs more than half as much again.
#[test]
fn watching_over_the_websocket_costs_about_what_quic_does() {
    let _turn = one_at_a_time();
    let server = TestServer::start("wire-bytes", 12);
    let counting = crate::relay::StallingTcpRelay::start(server.tcp_addr.unwrap(), Duration::from_secs(1), Duration::ZERO);
    let (blocked, _swallow) = behind_a_udp_firewall(&server.invite(CODE));
    let on_wss_invite = Invite { tcp_port: Some(counting.addr().port()), ..blocked };
    let quic_settings = RaceSettings { proxy: ProxyChoice::Direct, memory: UdpMemory::default(), ..RaceSettings::new(server.invite(CODE)) };
    let quic_connector = RacingConnector::new(quic_settings);
    let quic_wire = quic_connector.stats();
    let hello = |name: &str| Hello::new(CODE, name, AvatarLook::with_color([200, 160, 120]));
    let mut on_quic = Peer::from_core(ClientCore::join(Box::new(quic_connector), hello("Q"), Duration::ZERO));
    let mut on_wss = racing_peer(&on_wss_invite, "W", ProxyChoice::Direct, &UdpMemory::default());
    let mut walkers: Vec<Peer> = (0..6).map(|i| Peer::join(&server.invite(CODE), &format!("walker{i}"))).collect();
    let mut everyone: Vec<&mut Peer> = walkers.iter_mut().collect();
    everyone.push(&mut on_quic);
    everyone.push(&mut on_wss);
    assert!(wait_until(&mut everyone, Duration::from_secs(10), |p| p.iter().all(|p| p.present() == 7)), "not everyone got in");
    let walk = |walkers: &mut [Peer], on_quic: &mut Peer, on_wss: &mut Peer, seconds: f32| {
        let start = Instant::now();
        while start.elapsed().as_secs_f32() < seconds {
            let t = start.elapsed().as_secs_f32();
            for (i, walker) in walkers.iter_mut().enumerate() {
                let offset = Vec3::new(0.0, 0.0, -1.5 * (i as f32 / 3.0).floor());
                walker.send_pose(pose_at(crate::harness::path(t + i as f32) * 0.5 + offset));
                walker.pump();
            }
            on_quic.pump();
            on_wss.pump();
            std::thread::sleep(Duration::from_millis(33));
        }
    };
    // Settle: everyone's first, whole pose is not the steady state.
    walk(&mut walkers, &mut on_quic, &mut on_wss, 2.0);
    let (quic_before, wss_before) = (quic_wire.totals().rx_bytes, counting.carried().1);
    let seconds = 10.0;
    walk(&mut walkers, &mut on_quic, &mut on_wss, seconds);
    let per_avatar = |bytes: u64| bytes as f64 * 8.0 / 1000.0 / f64::from(seconds) / 6.0;
    let quic = per_avatar(quic_wire.totals().rx_bytes - quic_before);
    let wss = per_avatar(counting.carried().1 - wss_before);
    println!("down, per walking avatar: QUIC {quic:.2} kbit/s, WebSocket {wss:.2} kbit/s ({:.2}x)", wss / quic);
    assert!(quic > 0.5 && wss > 0.5, "nothing was measured: QUIC {quic:.2}, WebSocket {wss:.2} kbit/s");
    assert!(wss < quic * 1.5, "watching over the WebSocket costs {wss:.2} kbit/s per avatar against QUIC's {quic:.2}");
}

/// A meetup of eight with one child on the WebSocket: everyone walking, three
/// talking at once (the child among them). What the child's link carries each
/// way, as usual (Opus at the reference client's average, 54 bytes a frame)
/// and in low-bandwidth mode (the light bitrate's 28 bytes, our pose 10 times
/// a second, far people less often): for docs/benchmarks.md and the goal,
/// 256 kbit/s down and 64 up with TCP/IP's headers, which light must meet.
#[test]
fn a_meetup_of_eight_over_the_websocket_measured_both_ways() {
    let _turn = one_at_a_time();
    let server = TestServer::start("eight", 12);
    let counting = crate::relay::StallingTcpRelay::start(server.tcp_addr.unwrap(), Duration::from_secs(1), Duration::ZERO);
    let (blocked, _swallow) = behind_a_udp_firewall(&server.invite(CODE));
    let mut child = racing_peer(&Invite { tcp_port: Some(counting.addr().port()), ..blocked }, "Child", ProxyChoice::Direct, &UdpMemory::default());
    let mut others: Vec<Peer> = (0..7).map(|i| Peer::join(&server.invite(CODE), &format!("friend{i}"))).collect();
    let mut everyone: Vec<&mut Peer> = others.iter_mut().collect();
    everyone.push(&mut child);
    assert!(wait_until(&mut everyone, Duration::from_secs(10), |p| p.iter().all(|p| p.present() == 7)), "not everyone got in");
    let frame =
        |seq: u16, bytes: usize| tsunagu_protocol::VoiceFrame { seq, timestamp: u32::from(seq) * 960, speaking: true, opus: vec![0x78; bytes] };
    // Returns the child's voice frames and poses sent.
    let meet = |others: &mut [Peer], child: &mut Peer, seconds: f32, child_opus: usize| -> (u64, u64) {
        let start = Instant::now();
        let mut seq = 0u16;
        let mut next_voice = Instant::now();
        let (mut voice_sent, poses_before) = (0, child.core.poses_sent());
        while start.elapsed().as_secs_f32() < seconds {
            let t = start.elapsed().as_secs_f32();
            // Voice every 20 ms, poses offered every other time round (about
            // 30 a second; the core paces them).
            let voice_now = Instant::now() >= next_voice;
            if voice_now {
                next_voice += Duration::from_millis(20);
                seq = seq.wrapping_add(1);
                for talker in others.iter_mut().take(2) {
                    talker.core.send_voice(frame(seq, 54));
                }
                child.core.send_voice(frame(seq, child_opus));
                voice_sent += 1;
            }
            if seq % 5 < 3 && voice_now {
                for (i, friend) in others.iter_mut().enumerate() {
                    let offset = Vec3::new(0.0, 0.0, -1.5 * (i as f32 / 4.0).floor());
                    friend.send_pose(pose_at(crate::harness::path(t + i as f32) * 0.5 + offset));
                }
                child.send_pose(pose_at(crate::harness::path(t + 9.0) * 0.5 + Vec3::new(0.0, 0.0, -3.0)));
            }
            for friend in others.iter_mut() {
                friend.pump();
                let _ = friend.core.take_voice();
            }
            child.pump();
            let _ = child.core.take_voice();
            std::thread::sleep(Duration::from_millis(2));
        }
        (voice_sent, child.core.poses_sent() - poses_before)
    };
    let seconds = 10.0;
    let kbit = |bytes: u64| bytes as f64 * 8.0 / 1000.0 / f64::from(seconds);
    let measure = |others: &mut [Peer], child: &mut Peer, child_opus: usize| {
        meet(others, child, 2.0, child_opus);
        let (up_before, down_before) = counting.carried();
        let (voice, poses) = meet(others, child, seconds, child_opus);
        let (up, down) = counting.carried();
        // Each message up is its own TLS record and TCP segment (TCP_NODELAY):
        // 40 bytes of TCP/IP each, echoes aside.
        let segments = voice + poses + seconds as u64;
        (kbit(up - up_before), kbit(down - down_before), kbit(up - up_before + 40 * segments), poses as f32 / seconds)
    };
    let (up, down, up_wire, poses) = measure(&mut others, &mut child, 54);
    println!(
        "a meetup of eight, three talking, over the WebSocket: down {down:.1} kbit/s, up {up:.1} kbit/s (TCP payload; ≈{up_wire:.1} with TCP/IP headers, {poses:.0} poses a second)"
    );
    assert!(down > 10.0 && up > 10.0, "nothing was measured: down {down:.1}, up {up:.1}");
    assert!(down < 256.0, "a meetup of eight takes {down:.1} kbit/s down");
    child.core.set_light_link(true);
    let (light_up, light_down, light_wire, light_poses) = measure(&mut others, &mut child, 28);
    println!(
        "the same in low-bandwidth mode: down {light_down:.1} kbit/s, up {light_up:.1} kbit/s (TCP payload; ≈{light_wire:.1} with TCP/IP headers, {light_poses:.0} poses a second)"
    );
    assert!(light_down < down, "low-bandwidth mode brought down nothing: {light_down:.1} against {down:.1} kbit/s");
    assert!(light_wire <= 64.0, "low-bandwidth mode still sends {light_wire:.1} kbit/s up with headers");
    // Down, at most: two voices' 100 frames and 30 snapshots a second, a segment each.
    let light_down_wire = light_down + 40.0 * 8.0 * 130.0 / 1000.0;
    assert!(light_down_wire < 256.0, "low-bandwidth mode takes {light_down_wire:.1} kbit/s down");
    // Still in the room, and still seeing everyone.
    assert_eq!(child.present(), 7);
}
