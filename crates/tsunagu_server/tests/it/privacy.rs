//! Nothing about people in any log or file: the real `tsunagu-server` binary
//! at `RUST_LOG=trace`, a small meetup with canary nicknames and a canary
//! chat line (voice, stamps and a wave besides), and crafted
//! messages that used to carry a peer's text into the log (an unknown variant
//! with newlines, a Hello with its fields out of order). Then every log line
//! and every file the server wrote is searched for the canaries and for the
//! clients' addresses (127.0.0.2 and 127.0.0.3 stand in for children's PCs);
//! the clients' own log lines (the cores in this process, at trace) likewise.
//! A facilitator makes new invites meanwhile: the server keeps them, and its
//! data directory holds its key, certificate and codes and nothing else; a
//! restart with nothing new writes nothing there.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tsunagu_client_core::{ClientCore, RoomEvent};
use tsunagu_net::invite::Invite;
use tsunagu_net::quic::{QuicClient, QuicConnector};
use tsunagu_net::{Channel, ClientLink};
use tsunagu_protocol::StaffAction;
use tsunagu_protocol::{AvatarLook, ClientEvent, Gesture, Hello, Stamp};

use crate::harness::{Peer, one_at_a_time, pose_at, wait_until};
use tsunagu_protocol::ServerEvent;

const CANARIES: [&str; 6] = ["さくら", "Hanako-Test", "CANARY-LINE", "127.0.0.2", "ないしょの はなし", "ひみつの ねがい"];
const ALSO_ADDRESS: &str = "127.0.0.3";

/// Log lines written into memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of Tsunagu's own crates in this process (the client
/// cores and their transport), at trace.
fn capture_client_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("tsunagu_client_core=trace,tsunagu_net=trace,tsunagu_protocol=trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("this test is the only one in the binary to install a log subscriber");
    captured
}

fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn a_meetup_at_trace_leaves_no_names_messages_or_addresses_in_logs_or_files() {
    let _turn = one_at_a_time();
    let client_log = capture_client_logs();
    let data_dir = std::env::temp_dir().join(format!("tsunagu-privacy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut server = Command::new(env!("CARGO_BIN_EXE_tsunagu-server"))
        .args(["--bind", "127.0.0.1:0", "--public-host", "127.0.0.1", "--rooms", "1"])
        .arg("--data-dir")
        .arg(&data_dir)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tsunagu-server");
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut printed = String::new();
    let invite = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the server printed no invite");
        printed.push_str(&line);
        if let Some((_, i)) = line.split_once("participant invite:") {
            break Invite::parse(i.trim()).unwrap();
        }
    };
    let mut stderr = server.stderr.take().unwrap();
    let log_reader = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });

    // The meetup: two children from their own addresses, walking a little.
    let join = |name: &str, ip: &str| {
        let hello = Hello::new(&invite.room_code, name, AvatarLook::with_color([200, 100, 100]));
        let core = ClientCore::join(Box::new(QuicConnector::from_address(invite.clone(), ip.parse().unwrap())), hello, Duration::ZERO);
        Peer::from_core(core)
    };
    let mut sakura = join("さくら", "127.0.0.2");
    let mut hanako = join("Hanako-Test", ALSO_ADDRESS);
    assert!(wait_until(&mut [&mut sakura, &mut hanako], Duration::from_secs(5), |ps| ps.iter().all(|p| p.present() == 1)));
    for i in 0..30 {
        sakura.send_pose(pose_at(bevy_math::Vec3::new(0.0, 0.0, 1.8 + i as f32 * 0.01)));
        std::thread::sleep(Duration::from_millis(33));
        sakura.pump();
        hanako.pump();
    }
    // They chat (one line the room refuses, one it passes), stamp and wave.
    sakura.core.send_event(ClientEvent::Chat("ないしょの はなし です".into()));
    hanako.core.send_event(ClientEvent::Chat("ないしょの はなし\u{202e}".into()));
    sakura.core.send_event(ClientEvent::Stamp(Stamp::Heart));
    hanako.core.send_event(ClientEvent::Gesture(Gesture::Wave));
    // She talks (voice frames pass the server as they are).
    for seq in 0..10u16 {
        sakura.core.send_voice(tsunagu_protocol::VoiceFrame { seq, timestamp: u32::from(seq) * 960, speaking: true, opus: vec![0x42; 60] });
    }
    // A Tanabata wish, and the ball picked up and thrown.
    hanako.core.send_event(ClientEvent::HangWish(tsunagu_protocol::Paper::Blue, "ひみつの ねがい".into()));
    sakura.core.send_event(ClientEvent::Grab(0));
    sakura.core.send_event(ClientEvent::Release(0, tsunagu_protocol::QuantVec([0, 3000, 0])));
    assert!(wait_until(&mut [&mut sakura, &mut hanako], Duration::from_secs(2), |ps| ps[1]
        .events
        .iter()
        .any(|e| matches!(e, RoomEvent::Server(ServerEvent::Chat(..))))));
    assert!(wait_until(&mut [&mut sakura, &mut hanako], Duration::from_secs(2), |ps| ps[0]
        .events
        .iter()
        .any(|e| matches!(e, RoomEvent::Server(ServerEvent::WishHung(..))))));
    assert!(!hanako.core.take_voice().is_empty(), "the voice did not get through");
    // Crafted frames that carry text into a careless log.
    let crafted: [Vec<u8>; 3] = [
        rmp_serde::to_vec(&std::collections::BTreeMap::from([("Canary さくら\nINFO CANARY-LINE forged", 1u8)])).unwrap(),
        rmp_serde::to_vec(&std::collections::BTreeMap::from([("Hello", ("Hanako-Test\nCANARY-LINE", 3u16, "room"))])).unwrap(),
        b"\x81\xa5Hello\x95\x03\xa4room\xa9\xe3\x81\x95\xe3\x81\x8f\xe3\x82\x89\x91\x93\x01\x02\x03\xc3".to_vec(),
    ];
    for frame in crafted {
        let mut rogue = QuicClient::connect_from(&invite, "127.0.0.2".parse().unwrap()).unwrap();
        rogue.send(Channel::Control, frame);
        std::thread::sleep(Duration::from_millis(300));
        drop(rogue);
    }
    // A facilitator (invite from the owner-only file) makes new invites.
    let staff_file = std::fs::read_to_string(data_dir.join("tsunagu-private").join("facilitator-invites.txt")).unwrap();
    let staff_invite = Invite::parse(staff_file.lines().next().and_then(|l| l.split_once(": ")).unwrap().1.trim()).unwrap();
    let mut staff = Peer::join(&staff_invite, "staff");
    assert!(wait_until(&mut [&mut staff], Duration::from_secs(5), |ps| ps[0].core.room().invites().is_some()));
    staff.core.send_event(ClientEvent::Staff(StaffAction::NewInvites));
    assert!(wait_until(&mut [&mut staff], Duration::from_secs(3), |ps| ps[0]
        .core
        .room()
        .invites()
        .is_some_and(|c| c.participant != invite.room_code)));
    let new_codes = staff.core.room().invites().cloned().unwrap();
    staff.core.leave();
    staff.pump();
    sakura.core.leave();
    hanako.core.leave();
    sakura.pump();
    hanako.pump();
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    let _ = stdout.read_to_string(&mut printed);
    let log = log_reader.join().unwrap();

    assert!(log.lines().count() >= 5, "the server logged almost nothing: {log}");
    assert!(!log.contains('\u{1b}'), "terminal colour codes in a log that is not a terminal");
    assert!(log.contains("protocol violation"), "the crafted frames were not even noticed: {log}");
    for canary in CANARIES.iter().chain([&ALSO_ADDRESS]) {
        for (what, text) in [("log", &log), ("printed", &printed)] {
            let hits: Vec<&str> = text.lines().filter(|l| l.contains(canary)).collect();
            assert!(hits.is_empty(), "{canary:?} in the server's {what}: {hits:?}");
        }
    }
    let client_log = String::from_utf8_lossy(&client_log.0.lock().unwrap()).into_owned();
    assert!(client_log.contains("joined the room"), "the clients logged nothing: {client_log}");
    for canary in CANARIES.iter().chain([&ALSO_ADDRESS]) {
        let hits: Vec<&str> = client_log.lines().filter(|l| l.contains(canary)).collect();
        assert!(hits.is_empty(), "{canary:?} in the clients' log: {hits:?}");
    }
    let mut files = Vec::new();
    files_under(&data_dir, &mut files);
    assert!(!files.is_empty());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for canary in CANARIES.iter().chain([&ALSO_ADDRESS]) {
            assert!(!text.contains(canary), "{canary:?} in {}", file.display());
        }
    }
    // The new invites were kept and told to whoever runs the server.
    let private = data_dir.join("tsunagu-private");
    assert!(std::fs::read_to_string(private.join("rooms.txt")).unwrap().contains(&new_codes.participant), "the new codes were not kept");
    assert!(std::fs::read_to_string(private.join("facilitator-invites.txt")).unwrap().contains(&new_codes.facilitator));
    assert!(printed.contains(&format!("/{}?", new_codes.participant)), "the new participant invite was not printed: {printed}");
    // Only what the server must keep is in its data directory.
    let mut names: Vec<String> = Vec::new();
    let mut files = Vec::new();
    files_under(&data_dir, &mut files);
    names.extend(files.iter().map(|f| f.strip_prefix(&data_dir).unwrap().display().to_string()));
    names.sort();
    let kept = ["facilitator-invites.txt", "rooms.txt", "server-cert.der", "server-key.der"].map(|n| format!("tsunagu-private/{n}"));
    assert_eq!(names, kept, "the data directory holds more than the key, certificate and codes");
    // A restart with nothing new writes nothing, and serves the new codes.
    let modified = |f: &std::path::PathBuf| std::fs::metadata(f).unwrap().modified().unwrap();
    let before: Vec<_> = files.iter().map(modified).collect();
    // On the same port, as a real server restarts (the invites name it).
    let mut again = Command::new(env!("CARGO_BIN_EXE_tsunagu-server"))
        .args(["--bind", &format!("127.0.0.1:{}", invite.port), "--public-host", "127.0.0.1", "--rooms", "1"])
        .args(["--tcp-port", &invite.tcp_port.unwrap_or(tsunagu_net::wss::DEFAULT_TCP_PORT).to_string()])
        .arg("--data-dir")
        .arg(&data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tsunagu-server again");
    let mut line = String::new();
    let mut again_out = BufReader::new(again.stdout.take().unwrap());
    while !line.contains("participant invite:") {
        line.clear();
        assert!(again_out.read_line(&mut line).unwrap() > 0, "the restarted server printed no invite");
    }
    let _ = again.kill();
    let _ = again.wait();
    assert!(line.contains(&new_codes.participant), "the restart did not serve the new codes: {line}");
    assert_eq!(files.iter().map(modified).collect::<Vec<_>>(), before, "a restart with nothing new wrote to the data directory");
    let _ = std::fs::remove_dir_all(&data_dir);
}
