//! The WebSocket door and client on loopback: what crosses, what is
//! refused, and what a hostile or broken peer gets (garbage, silence, an
//! oversized message, too many connections, another certificate).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tsunagu_protocol::CloseReason;
use tsunagu_protocol::limits::MAX_FRAME_BYTES;

use super::WssClient;
use super::proxy::ProxyChoice;
use crate::invite::Invite;
use crate::limits::TrafficLimits;
use crate::link::{Channel, ClientLink, LinkEnd, LinkEvent, ServerLinkEvent, ServerLinks};
use crate::quic::server::HANDSHAKE_DEADLINE;
use crate::quic::tests::{invite, wait_client, wait_server};
use crate::quic::{CONTROL_DEADLINE, QuicServer, QuicServerConfig};

const TRAFFIC: TrafficLimits = TrafficLimits { datagrams_per_second: 200, frames_per_second: 50 };

fn server(name: &str, max_per_address: usize) -> QuicServer {
    let dir = std::env::temp_dir().join(format!("tsunagu-wss-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    QuicServer::start(QuicServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir,
        max_connections: 16,
        max_per_address,
        traffic: TRAFFIC,
        tcp_bind: Some("127.0.0.1:0".parse().unwrap()),
    })
    .expect("server starts")
}

fn tcp_addr(server: &QuicServer) -> SocketAddr {
    server.tcp_addr().expect("a WebSocket door")
}

fn connect(server: &QuicServer) -> WssClient {
    WssClient::connect(&invite(server), tcp_addr(server).port(), &ProxyChoice::Direct, Duration::from_secs(4)).unwrap()
}

/// Whether the server closes a raw TCP connection within `limit` (reads
/// return the end, or an error).
fn closed_within(mut tcp: TcpStream, limit: Duration) -> bool {
    tcp.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    let start = Instant::now();
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return false,
            Err(_) => return true,
        }
        if start.elapsed() > limit {
            return false;
        }
    }
}

#[test]
fn frames_and_datagrams_cross_the_websocket_and_close_carries_the_reason() {
    let mut server = server("roundtrip", 8);
    let mut client = connect(&server);
    client.send(Channel::Control, b"hello".to_vec());
    let Some(ServerLinkEvent::Received(conn, LinkEvent::Frame(Channel::Control, frame))) =
        wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(..)))
    else {
        panic!("no control frame arrived");
    };
    assert_eq!(frame, b"hello");
    assert!(client.is_up());
    server.send(conn, Channel::Control, b"welcome".to_vec());
    server.send(conn, Channel::Events, b"joined".to_vec());
    let voice = vec![0x81, 0xa1, b'V', 1, 2, 3];
    server.send_datagram(conn, voice.clone());
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(wait_client(&mut client, Duration::from_secs(5)).expect("what the server sent arrives"));
    }
    assert!(got.contains(&LinkEvent::Frame(Channel::Control, b"welcome".to_vec())));
    assert!(got.contains(&LinkEvent::Frame(Channel::Events, b"joined".to_vec())));
    assert!(got.iter().any(|e| matches!(e, LinkEvent::Datagram(d) if d.bytes == voice)));
    client.send_datagram(vec![7; 100]);
    let datagram = wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Datagram(_))));
    assert!(matches!(datagram, Some(ServerLinkEvent::Received(from, LinkEvent::Datagram(d))) if from == conn && d.bytes == [7u8; 100]));
    server.close(conn, CloseReason::ServerShutdown);
    assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::ServerShutdown))));
}

#[test]
fn another_certificate_on_the_way_is_refused_as_interception_and_nothing_is_sent() {
    let mut server = server("pinning", 8);
    let mut wrong = invite(&server);
    wrong.fingerprint[0] ^= 0xff;
    let mut client = WssClient::connect(&wrong, tcp_addr(&server).port(), &ProxyChoice::Direct, Duration::from_secs(4)).unwrap();
    client.send(Channel::Control, b"hello".to_vec());
    assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::Intercepted)));
    let reached =
        wait_server(&mut server, Duration::from_millis(300), |e| matches!(e, ServerLinkEvent::Connected(_) | ServerLinkEvent::Received(..)));
    assert_eq!(reached, None, "something reached the room through a connection with the wrong certificate");
}

#[test]
fn garbage_silence_and_a_missing_hello_are_closed_in_time() {
    let mut server = server("garbage", 8);
    let door = tcp_addr(&server);
    // Not TLS at all.
    let mut junk = TcpStream::connect(door).unwrap();
    junk.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\x16\x03").unwrap();
    assert!(closed_within(junk, Duration::from_secs(2)), "garbage kept the connection open");
    // Nothing at all (slowloris): closed by the handshake deadline.
    let started = Instant::now();
    let silent = TcpStream::connect(door).unwrap();
    assert!(closed_within(silent, HANDSHAKE_DEADLINE + Duration::from_secs(2)), "a silent connection was kept");
    assert!(started.elapsed() >= HANDSHAKE_DEADLINE - Duration::from_millis(100));
    // Upgraded, then no Hello: closed after the control deadline, with the reason.
    let mut quiet = connect(&server);
    let started = Instant::now();
    assert_eq!(wait_client(&mut quiet, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::ProtocolViolation))));
    assert!(started.elapsed() < CONTROL_DEADLINE + Duration::from_secs(2));
    // Still serving.
    let mut fine = connect(&server);
    fine.send(Channel::Control, b"hello".to_vec());
    assert!(wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Frame(..)))).is_some());
}

#[test]
fn an_oversized_message_closes_the_connection_with_a_reason() {
    let mut server = server("oversize", 8);
    let mut client = connect(&server);
    client.send(Channel::Control, b"hello".to_vec());
    client.send(Channel::Events, vec![0; MAX_FRAME_BYTES + 1]);
    let closed = wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Closed(_))));
    assert!(closed.is_some(), "the server kept a connection that sent an oversized message");
    assert_eq!(wait_client(&mut client, Duration::from_secs(5)), Some(LinkEvent::Closed(LinkEnd::Reason(CloseReason::ProtocolViolation))));
}

#[test]
fn the_doors_share_the_per_address_cap() {
    let mut server = server("cap", 3);
    let mut clients: Vec<WssClient> = (0..3).map(|_| connect(&server)).collect();
    for client in &mut clients {
        client.send(Channel::Control, b"hello".to_vec());
    }
    let mut connected = 0;
    while wait_server(&mut server, Duration::from_secs(2), |e| matches!(e, ServerLinkEvent::Connected(_))).is_some() {
        connected += 1;
    }
    assert_eq!(connected, 3);
    // A fourth from the same address, over QUIC, is refused at the door.
    let mut fourth = crate::quic::QuicClient::connect(&invite(&server)).unwrap();
    let start = Instant::now();
    let end = loop {
        if let Some(LinkEvent::Closed(end)) = fourth.try_recv() {
            break Some(end);
        }
        if start.elapsed() > Duration::from_secs(6) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(matches!(end, Some(LinkEnd::Busy | LinkEnd::Unreachable | LinkEnd::Lost)), "a fourth connection got in: {end:?}");
    // And over TCP too: closed without a handshake.
    let extra = TcpStream::connect(tcp_addr(&server)).unwrap();
    assert!(closed_within(extra, Duration::from_secs(2)), "a connection over the cap was kept");
    assert!(server.drops().connections_refused >= 2);
}

#[test]
fn the_network_check_tells_udp_tcp_and_inspection_apart_and_says_nothing_to_the_room() {
    use crate::netcheck::{Probe, check_network};
    let mut server = server("netcheck", 8);
    let open = check_network(&invite(&server), &ProxyChoice::Direct, Duration::from_secs(3));
    assert!(open.udp.is_up() && open.tcp.is_up() && open.can_join() && !open.tls_inspected(), "{open:?}");
    let fast = open.bandwidth.expect("no speed measured on loopback");
    assert!(fast.down_kbit_s > 10_000 && fast.up_kbit_s > 10_000, "loopback measured slow: {fast:?}");
    assert_eq!((open.udp_port, open.tcp_port, open.proxy.as_deref()), (server.local_addr().port(), tcp_addr(&server).port(), None));
    // UDP swallowed: the WebSocket still comes up.
    let swallow = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let blocked = Invite { port: swallow.local_addr().unwrap().port(), ..invite(&server) };
    let udp_dropped = check_network(&blocked, &ProxyChoice::Direct, Duration::from_secs(2));
    assert_eq!(udp_dropped.udp, Probe::Failed(LinkEnd::Unreachable));
    assert!(udp_dropped.bandwidth.is_some(), "TCP alone is measured too");
    assert!(udp_dropped.tcp.is_up() && udp_dropped.can_join());
    // Another certificate on the way.
    let inspected = check_network(&Invite { fingerprint: [9; 32], ..blocked }, &ProxyChoice::Direct, Duration::from_secs(2));
    assert!(inspected.tls_inspected() && !inspected.can_join(), "{inspected:?}");
    assert_eq!(inspected.bandwidth, None, "an impostor was measured");
    // Nothing reached the room but handshakes and goodbyes.
    while let Some(event) = server.recv_timeout(Duration::from_millis(300)) {
        assert!(
            matches!(event, ServerLinkEvent::Connected(_) | ServerLinkEvent::Received(_, LinkEvent::Closed(_))),
            "the check sent the room {event:?}"
        );
    }
}

/// Forwards TCP between a listener and `to`, holding each direction to
/// `down`/`up` kbit/s (a thin ward line), in 1 KiB steps.
fn thin_line(to: SocketAddr, down_kbit_s: f64, up_kbit_s: f64) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(to) else { continue };
            let pipe = |mut from: TcpStream, mut into: TcpStream, kbit_s: f64| {
                std::thread::spawn(move || {
                    // A line idle a while has no speed saved up.
                    let mut free_at = Instant::now();
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || into.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        free_at = free_at.max(Instant::now()) + Duration::from_secs_f64(n as f64 * 8.0 / 1000.0 / kbit_s);
                        std::thread::sleep(free_at.saturating_duration_since(Instant::now()));
                    }
                    let _ = into.shutdown(std::net::Shutdown::Both);
                });
            };
            pipe(client.try_clone().unwrap(), server.try_clone().unwrap(), up_kbit_s);
            pipe(server, client, down_kbit_s);
        }
    });
    addr
}

/// The speed measure on a line held to 400 kbit/s down and 100 up: roughly
/// those (within a third), and what the check makes of it.
#[test]
fn the_speed_measure_reads_a_thin_line_roughly() {
    use crate::netcheck::{LIGHT_NEEDS, USUAL_NEEDS, enough};
    let server = server("speed", 8);
    let line = thin_line(tcp_addr(&server), 400.0, 100.0);
    let measured = super::measure_bandwidth(&invite(&server), line.port(), &ProxyChoice::Direct, Duration::from_secs(8)).expect("no measure");
    eprintln!("a line held to 400 down / 100 up measured {measured:?}");
    assert!((267..=533).contains(&measured.down_kbit_s), "down {measured:?}");
    assert!((67..=133).contains(&measured.up_kbit_s), "up {measured:?}");
    assert!(!enough(crate::wss::Bandwidth { down_kbit_s: 400, up_kbit_s: 100 }, USUAL_NEEDS));
    assert!(enough(crate::wss::Bandwidth { down_kbit_s: 400, up_kbit_s: 100 }, LIGHT_NEEDS));
}

/// A client that upgrades, says hello, then never reads: what the server
/// writes to it piles up only as far as the outbox and the socket buffers,
/// and the connection is closed within seconds, not kept.
#[test]
fn a_websocket_that_stops_reading_is_closed_not_buffered_for() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut server = server("slow-reader", 8);
    let door = tcp_addr(&server);
    let fingerprint = server.fingerprint();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _ws = runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(door).await.unwrap();
        let (tls, _) = crate::quic::client::PinnedCertificate::client_config(fingerprint, b"http/1.1").unwrap();
        let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls))
            .connect(rustls::pki_types::ServerName::try_from("tsunagu").unwrap(), tcp)
            .await
            .unwrap();
        let mut request = format!("wss://127.0.0.1:{}{}", door.port(), super::PATH).into_client_request().unwrap();
        request.headers_mut().insert("sec-websocket-protocol", super::SUBPROTOCOL.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::client_async(request, tls).await.unwrap();
        ws.send(Message::Binary(super::message(super::Tag::Control, b"hello").into())).await.unwrap();
        // Kept open, never read.
        ws
    });
    let Some(ServerLinkEvent::Received(conn, _)) = wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(..)))
    else {
        panic!("the hello did not arrive");
    };
    let started = Instant::now();
    let mut sent = 0usize;
    let closed = loop {
        for _ in 0..64 {
            server.send(conn, Channel::Events, vec![7; MAX_FRAME_BYTES]);
            sent += MAX_FRAME_BYTES;
        }
        if let Some(ServerLinkEvent::Received(c, LinkEvent::Closed(_))) = server.recv_timeout(Duration::from_millis(20))
            && c == conn
        {
            break true;
        }
        if started.elapsed() > Duration::from_secs(15) {
            break false;
        }
    };
    assert!(closed, "a client that does not read was kept for {:?} ({} MB offered)", started.elapsed(), sent / 1_000_000);
    assert!(started.elapsed() < Duration::from_secs(10), "closing it took {:?}", started.elapsed());
    assert!(server.drops().connections_closed >= 1);
}

/// A client dropped right after saying why (here: it is reconnecting) still
/// gets its close frame out: to the room, someone coming back, not someone
/// who vanished (whose friends would see them leave).
#[test]
fn a_client_dropped_at_once_still_says_why() {
    for (reason, name) in [(CloseReason::Reconnecting, "drop-reconnecting"), (CloseReason::Left, "drop-left")] {
        let mut server = server(name, 8);
        let mut client = connect(&server);
        client.send(Channel::Control, b"hello".to_vec());
        assert!(wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Frame(..)))).is_some());
        client.close(reason);
        drop(client);
        let ended = wait_server(&mut server, Duration::from_secs(5), |e| matches!(e, ServerLinkEvent::Received(_, LinkEvent::Closed(_))));
        assert!(
            matches!(ended, Some(ServerLinkEvent::Received(_, LinkEvent::Closed(LinkEnd::Reason(r)))) if r == reason),
            "dropped after closing with {reason:?}, the server saw {ended:?}"
        );
    }
}
