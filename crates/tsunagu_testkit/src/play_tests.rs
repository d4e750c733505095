//! Shared play through the stepper: two or three real client cores and the
//! room server, the things simulated on the server only.

use std::collections::BTreeMap;

use bevy_math::{Quat, Vec3};
use tsunagu_client_core::RoomEvent;
use tsunagu_net::{Channel, ClientLink, LinkEvent};
use tsunagu_protocol::delta::{View, decode_objects};
use tsunagu_protocol::limits::MAX_DATAGRAM_BYTES;
use tsunagu_protocol::{ClientEvent, DartScore, EventKind, Paper, QuantVec, Refusal, RefusalReason, ServerDatagram, decode};
use tsunagu_sim::WardLayout;
use tsunagu_sim::motion::{WALK_SPEED, facing};
use tsunagu_sim::pose::{to_wire, wire_pos};

use super::*;
use tsunagu_protocol::ServerEvent;

pub(crate) const BALL: u16 = 0;
const FIRST_DART: u16 = 5;

fn pose(body: Vec3, rotation: Quat) -> AvatarPose {
    AvatarPose { body: to_wire(body, rotation), head: to_wire(body + Vec3::Y * 1.15, rotation), hands: None }
}

/// Walk each `(client, to, facing)` there at walking speed, a pose every tick,
/// as a person would (the room refuses faster steps).
pub(crate) fn walk(s: &mut Stepper, moves: &[(usize, Vec3, Vec3)]) {
    let mut at: Vec<Vec3> =
        moves.iter().map(|(i, _, _)| wire_pos(s.server.room().member(s.clients[*i].id().unwrap()).unwrap().pose.body.pos)).collect();
    for _ in 0..600 {
        let mut all_there = true;
        for (n, (i, to, look)) in moves.iter().enumerate() {
            let step = (*to - at[n]).clamp_length_max(WALK_SPEED / 30.0);
            at[n] += step;
            all_there &= at[n].distance(*to) < 1e-3;
            s.send_pose(*i, pose(at[n], facing(*look)));
        }
        s.step(TICK);
        if all_there {
            break;
        }
    }
    s.run(3, TICK);
}

/// Where the server has thing `id` now.
fn truth(s: &Stepper, id: u16) -> Vec3 {
    wire_pos(s.server.room().play().objects()[usize::from(id)].pose.pos)
}

fn two_players() -> (Stepper, usize, usize) {
    let mut s = Stepper::new(6);
    let a = s.connect(ROOM_CODE, "あおい");
    let b = s.connect(ROOM_CODE, "ひなた");
    s.run(3, TICK);
    (s, a, b)
}

fn refusals(client: &TestClient) -> Vec<Refusal> {
    client.events.iter().filter_map(|e| if let RoomEvent::Server(ServerEvent::Refused(r)) = e { Some(*r) } else { None }).collect()
}

/// Beside the ball on the rug, facing it.
pub(crate) fn by_the_ball() -> Vec3 {
    let rug = WardLayout::ward().rug.0;
    Vec3::new(rug.x, 0.0, rug.z + 1.3)
}

#[test]
fn a_thrown_ball_flies_and_lands_the_same_for_the_thrower_and_a_watcher() {
    let (mut s, a, b) = two_players();
    walk(&mut s, &[(a, by_the_ball(), Vec3::NEG_Z), (b, by_the_ball() + Vec3::new(-1.5, 0.0, 0.0), Vec3::NEG_Z)]);
    let id_a = s.clients[a].id().unwrap();
    s.send_event(a, ClientEvent::Grab(BALL));
    s.run(6, TICK);
    assert_eq!(s.clients[b].core.room().thing(BALL).and_then(|t| t.holder), Some(id_a), "the watcher sees who holds the ball");
    assert!(s.clients[b].events.contains(&RoomEvent::Server(ServerEvent::Held(id_a, BALL))));
    assert!(truth(&s, BALL).y > 0.8, "held, the ball is up in the hands: {}", truth(&s, BALL));
    // Up and toward the window; then watch every tick until it rests.
    s.send_event(a, ClientEvent::Release(BALL, QuantVec([0, 4000, -3500])));
    let mut truth_at = BTreeMap::new();
    let mut worst = [0.0f32; 2];
    let mut highest = 0.0f32;
    for _ in 0..30 * 15 {
        s.step(TICK);
        let tick = s.server.tick() - 1;
        truth_at.insert(tick, truth(&s, BALL));
        highest = highest.max(truth(&s, BALL).y);
        // Both draw 4 ticks behind the server: compare there, where both have it.
        let drawn = tick - 4;
        if let Some(true_pos) = truth_at.get(&drawn) {
            for (n, who) in [a, b].into_iter().enumerate() {
                let room = s.clients[who].core.room();
                let (seen, _) = room.sample_thing(BALL, f64::from(drawn) / room.tick_rate()).unwrap();
                worst[n] = worst[n].max(seen.distance(*true_pos));
            }
        }
        if s.server.room().play().is_at_rest() && truth_at.len() > 30 {
            break;
        }
    }
    eprintln!(
        "ball flight: highest {highest:.2} m, drawn off the room's by at most {:.1} mm (thrower) and {:.1} mm (watcher)",
        worst[0] * 1e3,
        worst[1] * 1e3
    );
    assert!(highest > 1.5, "the ball did not fly ({highest} m)");
    assert!(s.server.room().play().is_at_rest(), "the ball never came to rest");
    assert!(worst[0] < 0.05 && worst[1] < 0.05, "flight seen off by {worst:?} m (thrower, watcher)");
    s.run(10, TICK);
    let rest = truth(&s, BALL);
    for who in [a, b] {
        let seen = s.clients[who].core.room().sample_thing(BALL, 1e9).unwrap().0;
        assert!(seen.distance(rest) < 0.01, "client {who} sees the ball resting at {seen}, the room has it at {rest}");
    }
    assert!(s.clients[b].events.contains(&RoomEvent::Server(ServerEvent::Released(BALL))));
}

#[test]
fn two_grabbing_at_once_exactly_one_holds_and_the_other_cannot_throw_it() {
    let (mut s, a, b) = two_players();
    walk(&mut s, &[(a, by_the_ball(), Vec3::NEG_Z), (b, by_the_ball() + Vec3::new(0.6, 0.0, 0.0), Vec3::NEG_Z)]);
    s.send_event(a, ClientEvent::Grab(BALL));
    s.send_event(b, ClientEvent::Grab(BALL));
    // The ball comes to the hand no faster than a throw flies (8 m/s): a few ticks.
    s.run(10, TICK);
    let held: Vec<_> =
        s.clients[a].events.iter().filter_map(|e| if let RoomEvent::Server(ServerEvent::Held(who, BALL)) = e { Some(*who) } else { None }).collect();
    assert_eq!(held.len(), 1, "exactly one grant: {held:?}");
    let holder = &held[0];
    let (winner, loser) = if Some(*holder) == s.clients[a].id() { (a, b) } else { (b, a) };
    assert_eq!(refusals(&s.clients[loser]), vec![Refusal { kind: EventKind::Grab, reason: RefusalReason::Taken }]);
    assert_eq!(s.clients[winner].core.room().held_by(*holder), Some(BALL));
    // The other throws it anyway (a patched client would): refused, nothing moves.
    let before = truth(&s, BALL);
    s.send_event(loser, ClientEvent::Release(BALL, QuantVec([0, 8000, 0])));
    s.run(5, TICK);
    assert_eq!(refusals(&s.clients[loser]).last(), Some(&Refusal { kind: EventKind::Release, reason: RefusalReason::NotHolding }));
    assert_eq!(s.server.room().play().holder(BALL), Some(*holder));
    assert!(truth(&s, BALL).distance(before) < 0.01, "the ball moved without its holder");
    // A thing across the room is out of reach; one that does not exist is unknown.
    walk(&mut s, &[(loser, Vec3::new(0.0, 0.0, 2.0), Vec3::NEG_Z)]);
    s.send_event(loser, ClientEvent::Grab(FIRST_DART));
    s.send_event(loser, ClientEvent::Grab(99));
    s.run(3, TICK);
    let last_two = refusals(&s.clients[loser]).into_iter().rev().take(2).map(|r| r.reason).collect::<Vec<_>>();
    assert_eq!(last_two, vec![RefusalReason::Unknown, RefusalReason::OutOfReach]);
    // The holder leaves: the ball drops for everyone.
    s.leave(winner);
    s.run(40, TICK);
    assert!(s.clients[loser].events.contains(&RoomEvent::Server(ServerEvent::Released(BALL))));
    assert_eq!(s.server.room().play().holder(BALL), None);
    assert!(truth(&s, BALL).y < 0.3, "the dropped ball fell: {}", truth(&s, BALL));
}

#[test]
fn a_dart_thrown_at_the_bull_scores_the_bull_for_everyone() {
    let (mut s, a, b) = two_players();
    let layout = WardLayout::ward();
    let board = layout.dartboard.center;
    walk(&mut s, &[(a, Vec3::new(5.9, 0.0, 1.9), Vec3::NEG_Z)]);
    s.send_event(a, ClientEvent::Grab(FIRST_DART));
    s.run(3, TICK);
    assert_eq!(s.server.room().play().holder(FIRST_DART), s.clients[a].id());
    // Carry it to the throwing line, 2 m from the board, facing it.
    walk(&mut s, &[(a, Vec3::new(board.x - 2.4, 0.0, board.z - 0.15), Vec3::X), (b, Vec3::new(board.x - 2.5, 0.0, board.z + 1.2), Vec3::X)]);
    // Aim from where the thrower sees the dart in hand (its own view of the room).
    let from = wire_pos(s.clients[a].core.room().thing(FIRST_DART).unwrap().latest.unwrap().pos);
    assert!(from.distance(truth(&s, FIRST_DART)) < 0.01, "the thrower's view of the dart is the room's");
    let velocity = tsunagu_sim::objects::throw_velocity(from, board - Vec3::X * tsunagu_sim::objects::DART_RADIUS);
    s.send_event(a, ClientEvent::Release(FIRST_DART, QuantVec::from_metres(velocity.to_array())));
    s.run(30, TICK);
    let id_a = s.clients[a].id().unwrap();
    for who in [a, b] {
        assert!(
            s.clients[who].events.contains(&RoomEvent::Server(ServerEvent::DartScored(id_a, DartScore::Bull))),
            "client {who} did not see the bull"
        );
        assert_eq!(s.clients[who].core.room().darts().collect::<Vec<_>>(), vec![&(id_a, DartScore::Bull)]);
    }
    // A newcomer finds the score on the board, and the dart in it.
    let c = s.connect(ROOM_CODE, "そら");
    s.run(3, TICK);
    assert_eq!(s.clients[c].core.room().darts().collect::<Vec<_>>(), vec![&(id_a, DartScore::Bull)]);
    let seen = wire_pos(s.clients[c].core.room().thing(FIRST_DART).unwrap().latest.unwrap().pos);
    assert!(seen.distance(board) < 0.1, "the newcomer sees the dart at {seen}");
    // When everyone has gone, the room forgets the game.
    for who in [a, b, c] {
        s.leave(who);
    }
    s.run(3, TICK);
    let d = s.connect(ROOM_CODE, "ゆい");
    s.run(3, TICK);
    assert_eq!(s.clients[d].core.room().darts().count(), 0, "the score outlived the room");
    assert!(truth(&s, FIRST_DART).distance(board) > 1.0, "the dart is back on the toy box");
}

#[test]
fn a_wish_in_japanese_hangs_for_everyone_and_only_staff_or_its_writer_take_it_down() {
    let (mut s, a, b) = two_players();
    let wish = "はやく げんきに なって、みんなで はなびを みたい";
    s.send_event(a, ClientEvent::HangWish(Paper::Blue, format!("  {wish}　")));
    s.run(3, TICK);
    let hung = s.clients[b].core.room().wishes().to_vec();
    assert_eq!(hung.len(), 1);
    assert_eq!((hung[0].text.as_str(), hung[0].paper, hung[0].by), (wish, Paper::Blue, s.clients[a].id().unwrap()));
    assert!(s.clients[a].events.iter().any(|e| matches!(e, RoomEvent::Server(ServerEvent::WishHung(w)) if w.text == wish)));
    // The chat's rules: too long, or hidden characters, are refused with a reason.
    s.send_event(b, ClientEvent::HangWish(Paper::Red, "ね".repeat(101)));
    s.send_event(b, ClientEvent::HangWish(Paper::Red, "a\u{202e}b".into()));
    s.run(3, TICK);
    let reasons: Vec<_> = refusals(&s.clients[b]).into_iter().map(|r| r.reason).collect();
    assert_eq!(reasons, vec![RefusalReason::TooLong, RefusalReason::TextNotAllowed]);
    // Someone else's wish is not theirs to take down; a facilitator may.
    s.send_event(b, ClientEvent::TakeDownWish(hung[0].id));
    let staff = s.connect(STAFF_CODE, "かんごし");
    s.run(3, TICK);
    assert_eq!(refusals(&s.clients[b]).last().map(|r| r.reason), Some(RefusalReason::NotAllowed));
    assert_eq!(s.clients[staff].core.room().wishes().len(), 1, "a newcomer reads the wishes already hanging");
    s.send_event(staff, ClientEvent::TakeDownWish(hung[0].id));
    s.run(3, TICK);
    for who in [a, b, staff] {
        assert!(s.clients[who].core.room().wishes().is_empty());
        assert!(s.clients[who].events.contains(&RoomEvent::Server(ServerEvent::WishTakenDown(hung[0].id))));
    }
    // One person may hang three at a time; each gets its own place.
    for n in 0..4 {
        s.send_event(a, ClientEvent::HangWish(Paper::ALL[n], format!("ねがい {n}")));
        s.run(45, TICK);
    }
    let slots: Vec<u8> = s.clients[b].core.room().wishes().iter().map(|w| w.slot).collect();
    assert_eq!(slots, vec![0, 1, 2]);
    assert_eq!(refusals(&s.clients[a]).last().map(|r| r.reason), Some(RefusalReason::NoSpace));
}

/// A raw member reads every snapshot: once it holds the things at rest, no
/// snapshot carries a thing; during a throw they do; at rest again, none.
#[test]
fn things_at_rest_cost_no_bytes_and_a_throw_costs_a_few() {
    let (mut s, a, _) = two_players();
    let mut watcher = s.connector.connect();
    let hello = tsunagu_protocol::Hello::new(ROOM_CODE, "みている", tsunagu_protocol::AvatarLook::with_color([1, 2, 3]));
    watcher.send(Channel::Control, tsunagu_protocol::encode(&tsunagu_protocol::ClientControl::Hello(hello), MAX_DATAGRAM_BYTES).unwrap());
    walk(&mut s, &[(a, by_the_ball(), Vec3::NEG_Z)]);
    // Reads the snapshots, acknowledges them, and counts the things' bytes.
    let mut views: BTreeMap<u32, View> = BTreeMap::new();
    let mut seq = 0;
    let mut read = |s: &mut Stepper, watcher: &mut tsunagu_net::memory::MemoryClient, ticks: usize| -> (usize, usize) {
        let (mut bytes, mut things) = (0, 0);
        for _ in 0..ticks {
            s.step(TICK);
            while let Some(event) = watcher.try_recv() {
                let LinkEvent::Datagram(datagram) = event else { continue };
                let Ok(ServerDatagram::Snapshot(snapshot)) = decode::<ServerDatagram>(&datagram.bytes, MAX_DATAGRAM_BYTES) else { continue };
                let empty = View::default();
                let base = if snapshot.base_ago == 0 { &empty } else { &views[&(snapshot.tick - u32::from(snapshot.base_ago))] };
                let avatars = tsunagu_protocol::delta::decode_avatars(base, snapshot.tick, usize::from(snapshot.count), &snapshot.poses).unwrap();
                let objects = decode_objects(base, snapshot.tick, &snapshot.objects).unwrap();
                bytes += snapshot.objects.len();
                things += objects.len();
                let view = base.then_with(snapshot.tick, &avatars, &objects);
                views.insert(snapshot.tick, view);
                seq += 1;
                let frame = tsunagu_protocol::PoseFrame { seq, ack_tick: snapshot.tick, pose: pose(Vec3::new(-2.0, 0.0, 3.0), Quat::IDENTITY) };
                watcher.send_datagram(tsunagu_protocol::encode(&tsunagu_protocol::ClientDatagram::Pose(frame), MAX_DATAGRAM_BYTES).unwrap());
            }
        }
        (bytes, things)
    };
    let (_, first) = read(&mut s, &mut watcher, 10);
    assert!(first >= tsunagu_sim::objects::OBJECTS, "a newcomer is sent every thing once ({first})");
    let (rest_bytes, rest_things) = read(&mut s, &mut watcher, 60);
    assert_eq!((rest_bytes, rest_things), (0, 0), "things at rest cost bytes");
    s.send_event(a, ClientEvent::Grab(BALL));
    s.run(3, TICK);
    s.send_event(a, ClientEvent::Release(BALL, QuantVec([0, 2000, -3000])));
    let (play_bytes, play_things) = read(&mut s, &mut watcher, 30);
    eprintln!("things' bytes per client: at rest {rest_bytes} in 2 s; one ball in flight {play_bytes} in 1 s ({play_things} updates)");
    assert!(play_things >= 25, "the flying ball was sent {play_things} times in a second");
    assert!(play_bytes < 30 * 16, "{play_bytes} bytes for one ball in flight for a second");
    read(&mut s, &mut watcher, 30 * 12);
    assert!(s.server.room().play().is_at_rest());
    assert_eq!(read(&mut s, &mut watcher, 60), (0, 0), "at rest again, the ball costs nothing");
}
