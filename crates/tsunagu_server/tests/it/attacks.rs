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

/// Keep opening connections from `ip` that never say Hello, holding up to
/// `hold` at once, until `stop` (at most `attempts` connections).
fn hold_slots(server: &TestServer, ip: IpAddr, hold: usize, attempts: usize, stop: Arc<AtomicBool>, opened: Arc<AtomicUsize>) -> std::thread::JoinHandle<()> {
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
    let attackers: Vec<_> = ["127.0.0.2", "127.0.0.3"]
        .iter()
        .map(|ip| hold_slots(&server, ip.parse().unwrap(), 40, 3000, stop.clone(), opened.clone()))
        .collect();
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
    let _turn = one_at_a_time();
    let server = TestServer::start("flooding-member", 8);
    let mut child = Peer::join(&server.invite(CODE), "child");
    let mut flooder = QuicClient::connect(&server.invite(CODE)).unwrap();
    let hello = tsunagu_protocol::Hello::new(CODE, "flood", tsunagu_protocol::AvatarLook::with_color([0, 0, 0]));
    flooder.send(tsunagu_net::Channel::Control, tsunagu_protocol::encode(&tsunagu_protocol::ClientControl::Hello(hello), 16 * 1024).unwrap());
    assert!(wait_until(&mut [&mut child], Duration::from_secs(5), |ps| ps[0].present() == 1), "the flooder never joined");
    let pose = tsunagu_protocol::encode(
        &tsunagu_protocol::ClientDatagram::Pose(tsunagu_protocol::PoseFrame { seq: 1, ack_tick: 0, pose: pose_at(bevy_math::Vec3::ZERO) }),
        1200,
    )
    .unwrap();
    let started = Instant::now();
    let mut end = None;
    let mut sent = 0;
    while end.is_none() && started.elapsed() < Duration::from_secs(5) && sent < 100_000 {
        for _ in 0..200 {
            flooder.send_datagram(pose.clone());
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
    eprintln!("flooding member: closed as {why:?} after {:.1} ms and {sent} datagrams sent", after.as_secs_f64() * 1000.0);
    assert_eq!(why, tsunagu_net::LinkEnd::Reason(tsunagu_protocol::CloseReason::RateLimited));
    assert!(wait_until(&mut [&mut child], Duration::from_secs(3), |ps| ps[0].present() == 0), "the flooder is still shown");
    assert!(child.ended().is_none(), "the child was closed too");
}
