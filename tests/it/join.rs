//! Joining a room server over QUIC with the real client binary, as a second PC
//! would: a good invite gets you in; a wrong code is explained on the start
//! screen within 5 seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tsunagu_net::invite::Invite;
use tsunagu_net::quic::{QuicServer, QuicServerConfig};
use tsunagu_room::RoomConfig;
use tsunagu_server::{RoomServer, serve_until_stopped};

use crate::screenshot::{client_command, run_with_limit};

pub(crate) struct Server {
    pub(crate) invite: Invite,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start(name: &str) -> Server {
        let links = QuicServer::start(QuicServerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: std::env::temp_dir().join(format!("tsunagu-it-join-{name}-{}", std::process::id())),
            max_connections: 8,
            max_per_address: 8,
            traffic: tsunagu_room::limits::TRAFFIC,
            tcp_bind: Some("127.0.0.1:0".parse().unwrap()),
        })
        .expect("server starts");
        let invite = Invite {
            host: "127.0.0.1".into(),
            port: links.local_addr().port(),
            tcp_port: links.tcp_addr().map(|a| a.port()),
            room_code: "right-code".into(),
            fingerprint: links.fingerprint(),
        };
        let server = RoomServer::new(links, RoomConfig { code: "right-code".into(), facilitator_code: "staff-code".into(), capacity: 4 });
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::spawn(move || serve_until_stopped(server, &thread_stop));
        Server { invite, stop, thread: Some(thread) }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn join(invite: &Invite, png: &std::path::Path) -> (bool, String, Duration) {
    let mut cmd = client_command();
    cmd.args(["--join", &invite.to_string(), "--screenshot", &png.to_string_lossy(), "--frames", "5", "--size", "960x540", "--lang", "ja"]);
    let started = Instant::now();
    let (ok, log) = run_with_limit(cmd, Duration::from_secs(240));
    (ok, log, started.elapsed())
}

#[test]
fn a_second_pc_joins_with_the_invite_and_a_wrong_code_is_explained() {
    let _turn = crate::one_at_a_time();
    let server = Server::start("both");
    let dir = std::env::temp_dir().join(format!("tsunagu-it-join-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let (ok, log, _) = join(&server.invite, &dir.join("joined.png"));
    assert!(ok, "joining failed:\n{log}");
    assert!(log.contains("joined the room as Participant"), "not welcomed:\n{log}");

    let mut wrong = server.invite.clone();
    wrong.room_code = "guessed-code".into();
    let (ok, log, _) = join(&wrong, &dir.join("refused.png"));
    assert!(ok, "the client did not come back to the start screen cleanly:\n{log}");
    assert!(log.contains("could not join: join-error-wrong-code"), "no wrong-code message:\n{log}");
    // Seconds from the start of the join to the message, from the client's own log.
    let asked = seconds_at(&log, "desktop mode").expect("start line in the log");
    let told = seconds_at(&log, "could not join").expect("refusal line in the log");
    assert!(told - asked < 5.0, "the refusal took {:.1} s to show", told - asked);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The time of day, in seconds, of the first log line containing `needle`
/// (log lines start with an RFC 3339 UTC timestamp, possibly coloured).
fn seconds_at(log: &str, needle: &str) -> Option<f64> {
    let line = log.lines().find(|l| l.contains(needle))?;
    let plain: String = strip_colour(line);
    let stamp = plain.split_whitespace().next()?;
    let clock = stamp.split('T').nth(1)?.trim_end_matches('Z');
    let mut parts = clock.split(':').map(|p| p.parse::<f64>().ok());
    Some(parts.next()?? * 3600.0 + parts.next()?? * 60.0 + parts.next()??)
}

fn strip_colour(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the escape sequence (a letter).
            for e in chars.by_ref() {
                if e.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
