//! Three clients over real QUIC: following a walk, leaving, refusals, a rogue
//! client, a shutdown, and the same walk over a lossy, jittery link.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use tsunagu_net::link::ClientLink;
use tsunagu_net::quic::QuicClient;
use tsunagu_net::{Channel, LinkEnd, LinkEvent};
use tsunagu_protocol::{CloseReason, RejectReason};

use crate::harness::*;
use crate::relay::LossyRelay;

fn three_in_a_room(server: &TestServer) -> (Peer, Peer, Peer) {
    let mut a = Peer::join(&server.invite(CODE), "A");
    let mut b = Peer::join(&server.invite(CODE), "B");
    let mut c = Peer::join(&server.invite(STAFF), "C");
    let all_in = wait_until(&mut [&mut a, &mut b, &mut c], Duration::from_secs(5), |ps| {
        ps.iter().all(|p| p.id.is_some() && p.present.len() == 2 && p.snapshots_seen() > 3)
    });
    assert!(all_in, "three clients did not all join and see each other");
    (a, b, c)
}

#[test]
fn others_follow_a_walk_within_200_ms_and_5_cm_and_see_a_leave() {
    let server = TestServer::start("follow", 8);
    let (mut a, mut b, mut c) = three_in_a_room(&server);
    let follow = walk_and_watch(&mut a, &mut [&mut b, &mut c], 4.0, || {});
    eprintln!("loopback: worst error {:.4} m, worst jump {:.4} m over {} frames", follow.worst_error, follow.worst_jump, follow.frames);
    assert!(follow.frames > 200, "only {} frames judged", follow.frames);
    assert!(follow.worst_error <= 0.05, "a watcher drew A {:.3} m from its path", follow.worst_error);

    let a_id = a.id.unwrap();
    a.session.leave();
    let gone = wait_until(&mut [&mut b, &mut c], Duration::from_secs(3), |ps| ps.iter().all(|p| !p.present.contains_key(&a_id)));
    assert!(gone, "A left but B or C still see A");
}

#[test]
fn wrong_code_and_full_room_are_refused_quickly() {
    let server = TestServer::start("refuse", 1);
    let mut first = Peer::join(&server.invite(CODE), "first");
    let mut wrong = Peer::join(&server.invite("not-the-code"), "wrong");
    let started = Instant::now();
    assert!(wait_until(&mut [&mut first, &mut wrong], Duration::from_secs(5), |ps| ps[0].id.is_some() && ps[1].rejected.is_some()));
    assert_eq!(wrong.rejected, Some(RejectReason::WrongRoomCode));
    let mut full = Peer::join(&server.invite(CODE), "full");
    assert!(wait_until(&mut [&mut full], Duration::from_secs(5), |ps| ps[0].rejected.is_some()));
    assert_eq!(full.rejected, Some(RejectReason::RoomFull));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_shutdown_tells_every_client_why() {
    let mut server = TestServer::start("shutdown", 8);
    let (mut a, mut b, mut c) = three_in_a_room(&server);
    server.shut_down();
    let told = wait_until(&mut [&mut a, &mut b, &mut c], Duration::from_secs(5), |ps| {
        ps.iter().all(|p| p.closed == Some(LinkEnd::Reason(CloseReason::ServerShutdown)))
    });
    assert!(told, "closes seen: {:?} {:?} {:?}", a.closed, b.closed, c.closed);
}

/// A client that speaks garbage: thousands of random datagrams and malformed frames.
#[test]
fn a_rogue_client_is_thrown_out_while_the_others_stay_in_sync() {
    let server = TestServer::start("rogue", 8);
    let (mut a, mut b, mut c) = three_in_a_room(&server);
    let mut rogue = QuicClient::connect(&server.invite(CODE)).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut sent_datagrams = 0;
    let mut sent_frames = 0;
    let mut rogue_end = None;
    let follow = walk_and_watch(&mut a, &mut [&mut b, &mut c], 4.0, || {
        for _ in 0..100 {
            if sent_datagrams < 10_000 {
                let len = rng.random_range(0..1200);
                rogue.send_datagram((0..len).map(|_| rng.random()).collect());
                sent_datagrams += 1;
            }
        }
        if sent_frames < 100 {
            let len = rng.random_range(0..64);
            rogue.send(Channel::Control, (0..len).map(|_| rng.random()).collect());
            sent_frames += 1;
        }
        while let Some(event) = rogue.try_recv() {
            if let LinkEvent::Closed(end) = event {
                rogue_end = Some(end);
            }
        }
    });
    let thrown_out = matches!(
        rogue_end,
        Some(LinkEnd::Reason(CloseReason::ProtocolViolation | CloseReason::RateLimited))
    );
    eprintln!("rogue: {rogue_end:?} after {sent_datagrams} datagrams and {sent_frames} frames; others' worst error {:.4} m", follow.worst_error);
    assert!(thrown_out, "the rogue client was not closed with a reason: {rogue_end:?}");
    assert!(follow.worst_error <= 0.05, "sync suffered: {:.3} m", follow.worst_error);
    assert!(a.closed.is_none() && b.closed.is_none() && c.closed.is_none(), "a good client was closed");
}

/// 10% loss and 50±30 ms of jitter each way: still converges, and no remote
/// avatar jumps more than 20 cm between two drawn frames.
#[test]
fn a_lossy_jittery_ward_network_still_converges_smoothly() {
    let server = TestServer::start("lossy", 8);
    let relay = LossyRelay::start(server.addr, 0.10, Duration::from_millis(50), Duration::from_millis(30), 42);
    let via_relay = |code: &str| {
        let mut invite = server.invite(code);
        invite.port = relay.addr().port();
        invite
    };
    let mut a = Peer::join(&via_relay(CODE), "A");
    let mut b = Peer::join(&via_relay(CODE), "B");
    let mut c = Peer::join(&via_relay(CODE), "C");
    let all_in = wait_until(&mut [&mut a, &mut b, &mut c], Duration::from_secs(10), |ps| {
        ps.iter().all(|p| p.id.is_some() && p.present.len() == 2 && p.snapshots_seen() > 5)
    });
    assert!(all_in, "three clients did not join through the lossy link");
    let follow = walk_and_watch(&mut a, &mut [&mut b, &mut c], 5.0, || {});
    eprintln!("lossy: worst error {:.4} m, worst jump {:.4} m over {} frames", follow.worst_error, follow.worst_jump, follow.frames);
    assert!(follow.frames > 250, "only {} frames judged", follow.frames);
    assert!(follow.worst_jump <= 0.20, "a remote avatar jumped {:.3} m between frames", follow.worst_jump);
    // With 50±30 ms each way plus the 100 ms buffer, allow the delay in the error window.
    assert!(follow.worst_error <= 0.25, "a watcher drew A {:.3} m from its path", follow.worst_error);
}
