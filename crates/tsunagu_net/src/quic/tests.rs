//! The QUIC transport over loopback: round trips, pinning, limits, queues.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tsunagu_protocol::limits::MAX_FRAME_BYTES;
use tsunagu_protocol::{CloseReason, DatagramKind};

use super::*;
use crate::invite::Invite;
use crate::limits::TrafficLimits;
use crate::link::{Channel, ClientLink, LinkEnd, LinkEvent, ServerLinkEvent, ServerLinks};

const TRAFFIC: TrafficLimits = TrafficLimits { datagrams_per_second: 120, frames_per_second: 20 };

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tsunagu-net-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn server(name: &str) -> QuicServer {
    QuicServer::start(QuicServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: temp_dir(name),
        max_connections: 8,
        max_per_address: 8,
        traffic: TRAFFIC,
        tcp_bind: Some("127.0.0.1:0".parse().unwrap()),
    })
    .expect("server starts")
}

/// An invite to `server`'s room "room", naming both its doors (the WebSocket tests use it too).
pub(crate) fn invite(server: &QuicServer) -> Invite {
    Invite {
        host: "127.0.0.1".into(),
        port: server.local_addr().port(),
        tcp_port: server.tcp_addr().map(|a| a.port()),
        room_code: "room".into(),
        fingerprint: server.fingerprint(),
    }
}

/// The next thing `client` delivers within `limit` (either transport).
pub(crate) fn wait_client(client: &mut impl ClientLink, limit: Duration) -> Option<LinkEvent> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(e) = client.try_recv() {
            return Some(e);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// The first event `server` delivers within `limit` that is `want`ed (the others are passed over).
pub(crate) fn wait_server(server: &mut QuicServer, limit: Duration, want: impl Fn(&ServerLinkEvent) -> bool) -> Option<ServerLinkEvent> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(e) = server.recv_timeout(Duration::from_millis(20))
            && want(&e)
        {
            return Some(e);
        }
    }
    None
}

#[test]
fn frames_and_datagrams_cross_real_quic_and_close_carries_the_reason() {
    let mut server = server("roundtrip");
    let mut client = QuicClient::connect(&invite(&server)).unwrap();
    client.send(Channel::Control, b"hello".to_vec());
    let Some(ServerLinkEvent::Received(conn, LinkEvent::Frame(Channel::Control, frame))) =
        wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(..)))
    else {
        panic!("no control frame arrived");
    };
    assert_eq!(frame, b"hello");
    server.send(conn, Channel::Control, b"welcome".to_vec());
    server.send(conn, Channel::Events, b"joined".to_vec());
    let mut got = Vec::new();
    while got.len() < 2 {
        got.push(wait_client(&mut client, Duration::from_secs(5)).expect("frames arrive"));
    }
    assert!(got.contains(&LinkEvent::Frame(Channel::Control, b"welcome".to_vec())));
    assert!(got.contains(&LinkEvent::Frame(Channel::Events, b"joined".to_vec())));
    client.send_datagram(vec![7; 100]);
    let datagram = wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Datagram(_))));
    let Some(ServerLinkEvent::Received(from, LinkEvent::Datagram(datagram))) = datagram else { panic!("no datagram") };
    assert_eq!((from, datagram.bytes.as_slice(), datagram.kind), (conn, &[7u8; 100][..], DatagramKind::Unknown));
    assert!(datagram.arrived.elapsed() < Duration::from_secs(5));
    server.close(conn, CloseReason::ServerShutdown);
    assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::ServerShutdown))));
}

#[test]
fn a_server_with_another_certificate_is_refused() {
    let server = server("pinning");
    let mut wrong = invite(&server);
    wrong.fingerprint[0] ^= 0xff;
    let mut client = QuicClient::connect(&wrong).unwrap();
    assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::WrongCertificate)));
}

#[test]
fn nobody_listening_is_reported_within_five_seconds() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    drop(socket);
    let started = Instant::now();
    let mut client =
        QuicClient::connect(&Invite { host: "127.0.0.1".into(), port, tcp_port: None, room_code: "x".into(), fingerprint: [0; 32] }).unwrap();
    assert_eq!(wait_client(&mut client, Duration::from_secs(6)), Some(LinkEvent::Closed(LinkEnd::Unreachable)));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_identity_is_kept_private_and_reused() {
    let dir = temp_dir("identity");
    let (cert, _) = load_or_create_identity(&dir).unwrap();
    let (again, _) = load_or_create_identity(&dir).unwrap();
    assert_eq!(cert, again, "a restart must keep invites valid");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let own = dir.join(crate::private_files::OWN_DIR);
        assert_eq!(mode(&own), 0o700);
        assert_eq!(mode(&own.join("server-key.der")), 0o600);
        assert_eq!(mode(&own.join("server-cert.der")), 0o600);
        // A key others could have read is not trusted.
        std::fs::set_permissions(own.join("server-key.der"), std::fs::Permissions::from_mode(0o640)).unwrap();
        let refused = load_or_create_identity(&dir).err().map(|e| e.to_string());
        assert!(refused.as_deref().is_some_and(|e| e.contains("can be read by other users")), "{refused:?}");
    }
}

#[test]
fn an_oversized_frame_closes_the_connection_with_a_reason() {
    let mut server = server("oversize");
    let mut client = QuicClient::connect(&invite(&server)).unwrap();
    client.send(Channel::Control, vec![0; MAX_FRAME_BYTES + 1]);
    let closed = wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Closed(_))));
    assert!(closed.is_some(), "the server kept a connection that sent an oversized frame");
    assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::ProtocolViolation))));
}

#[test]
fn frames_over_the_limit_close_the_connection_as_they_arrive() {
    let mut server = server("flood");
    let mut client = QuicClient::connect(&invite(&server)).unwrap();
    for _ in 0..(TRAFFIC.frames_per_second + 5) {
        client.send(Channel::Control, b"x".to_vec());
    }
    let frames = std::cell::Cell::new(0);
    let closed = wait_server(&mut server, Duration::from_secs(5), |e| {
        if matches!(e, ServerLinkEvent::Received(_, LinkEvent::Frame(..))) {
            frames.set(frames.get() + 1);
        }
        matches!(e, ServerLinkEvent::Received(_, LinkEvent::Closed(_)))
    });
    assert!(closed.is_some(), "the flood was not cut off");
    assert!(frames.get() <= TRAFFIC.frames_per_second, "{} frames reached the room, limit {}", frames.get(), TRAFFIC.frames_per_second);
    assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::RateLimited))));
}

#[test]
fn a_peer_that_stops_reading_is_closed_not_buffered() {
    let mut server = server("slow-reader");
    let mut client = QuicClient::connect(&invite(&server)).unwrap();
    client.send(Channel::Control, b"hello".to_vec());
    let Some(ServerLinkEvent::Received(conn, _)) = wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(..)))
    else {
        panic!("the client never arrived");
    };
    // The client's app reads nothing while the server sends far more than
    // its inbox, the stream window and the server's queue together hold.
    let frame = vec![0u8; 1024];
    for _ in 0..(INBOX_CAPACITY + OUTBOX_CAPACITY + 512) {
        server.send(conn, Channel::Events, frame.clone());
        if server.drops().connections_closed > 0 {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(server.drops().connections_closed, 1, "a peer that does not read was buffered for");
    // When the app reads at last, the end says why.
    let started = Instant::now();
    let mut end = None;
    while end.is_none() && started.elapsed() < Duration::from_secs(10) {
        match client.try_recv() {
            Some(LinkEvent::Closed(why)) => end = Some(why),
            Some(_) => {}
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    assert_eq!(end, Some(LinkEnd::Reason(CloseReason::TooSlow)));
}

#[test]
fn a_room_event_wakes_the_room_thread_and_a_control_frame_waits_for_its_tick() {
    let mut server = server("wake");
    let mut client = QuicClient::connect(&invite(&server)).unwrap();
    client.send(Channel::Control, b"hello".to_vec());
    assert!(
        wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Frame(Channel::Control, _))))
            .is_some()
    );
    // A control frame is read at the room's next tick: it does not end a wait.
    client.send(Channel::Control, b"later".to_vec());
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    server.wait(Duration::from_millis(300));
    assert!(start.elapsed() >= Duration::from_millis(250), "a control frame woke the room thread");
    assert!(matches!(server.try_recv(), Some(ServerLinkEvent::Received(_, LinkEvent::Frame(Channel::Control, _)))));
    // A room event (a wave, a chat line) is handled the moment it arrives.
    client.send(Channel::Events, b"wave".to_vec());
    let start = Instant::now();
    server.wait(Duration::from_secs(3));
    assert!(start.elapsed() < Duration::from_secs(1), "the room thread slept through an event");
    assert!(matches!(server.try_recv(), Some(ServerLinkEvent::Received(_, LinkEvent::Frame(Channel::Events, frame))) if frame == b"wave"));
}

/// A datagram over the protocol's 1,200 bytes (loopback's path takes more
/// once QUIC has probed it) closes the connection as a violation: it used to
/// be dropped before the traffic limits counted it, so a flood of them was
/// never closed.
#[test]
fn an_oversize_datagram_closes_the_connection() {
    let mut server = server("oversize-datagram");
    let mut client = QuicClient::connect(&invite(&server)).unwrap();
    client.send(Channel::Control, b"hello".to_vec());
    assert!(wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(..))).is_some(), "the client never arrived");
    let started = Instant::now();
    let mut end = None;
    while end.is_none() && started.elapsed() < Duration::from_secs(8) {
        client.send_datagram(vec![0x81; tsunagu_protocol::limits::MAX_DATAGRAM_BYTES + 100]);
        std::thread::sleep(Duration::from_millis(50));
        while let Some(event) = client.try_recv() {
            if let LinkEvent::Closed(why) = event {
                end = Some(why);
            }
        }
    }
    assert_eq!(end, Some(LinkEnd::Reason(CloseReason::ProtocolViolation)));
}
