//! Stepper scenarios: joins, walks, refusals, shutdown and silence, all on a manual clock.

use bevy_math::{Quat, Vec3};
use tsunagu_protocol::{AvatarPose, RejectReason, Role};
use tsunagu_sim::pose::{from_wire, to_wire};

use super::*;

fn pose_at(pos: Vec3) -> AvatarPose {
    AvatarPose { body: to_wire(pos, Quat::IDENTITY), head: to_wire(pos + Vec3::Y, Quat::IDENTITY), hands: None }
}

#[test]
fn two_people_join_see_each_other_and_one_leaves() {
    let mut s = Stepper::new(8);
    let a = s.connect(ROOM_CODE, "あおい");
    s.run(2, TICK);
    let b = s.connect(STAFF_CODE, "先生");
    s.run(3, TICK);
    let (id_a, id_b) = (s.clients[a].id.unwrap(), s.clients[b].id.unwrap());
    assert_eq!(s.clients[a].peers[&id_b].role, Role::Facilitator);
    assert_eq!(s.clients[b].peers[&id_a].nickname, "あおい");
    assert!(s.clients[a].seen.contains_key(&id_b) && s.clients[b].seen.contains_key(&id_a));

    s.leave(b);
    s.run(2, TICK);
    assert!(s.clients[a].peers.is_empty() && s.clients[a].seen.is_empty());
    assert_eq!(s.server.room().len(), 1);
}

#[test]
fn a_walk_is_followed_by_the_other_client() {
    let mut s = Stepper::new(8);
    let a = s.connect(ROOM_CODE, "a");
    let b = s.connect(ROOM_CODE, "b");
    s.run(2, TICK);
    let id_a = s.clients[a].id.unwrap();
    let start = from_wire(s.server.room().member(id_a).unwrap().pose.body).0;
    // Walk 1 m toward the screen at walking speed.
    for i in 1..=30 {
        let pos = start + Vec3::NEG_Z * (i as f32 / 30.0);
        s.send_pose(a, pose_at(pos));
        s.step(TICK);
    }
    s.step(TICK);
    let seen = from_wire(s.clients[b].seen[&id_a].body).0;
    assert!((seen - (start + Vec3::NEG_Z)).length() < 0.01, "b sees a at {seen}");
}

#[test]
fn wrong_code_and_full_room_are_refused_with_a_reason() {
    let mut s = Stepper::new(1);
    let ok = s.connect(ROOM_CODE, "a");
    let wrong = s.connect("guess", "b");
    let full = s.connect(ROOM_CODE, "c");
    s.run(2, TICK);
    assert!(s.clients[ok].id.is_some());
    assert_eq!(s.clients[wrong].rejected, Some(RejectReason::WrongRoomCode));
    assert_eq!(s.clients[full].rejected, Some(RejectReason::RoomFull));
}

#[test]
fn shutdown_tells_everyone() {
    let mut s = Stepper::new(4);
    let a = s.connect(ROOM_CODE, "a");
    s.run(2, TICK);
    s.server.shutdown();
    s.step(TICK);
    assert!(s.clients[a].closed);
}

#[test]
fn a_silent_connection_is_closed() {
    let mut s = Stepper::new(4);
    // A raw connection that never says Hello.
    let _silent = s.connector.connect();
    s.step(TICK);
    s.run(6 * 30, TICK);
    let a = s.connect(ROOM_CODE, "a");
    s.run(2, TICK);
    assert!(s.clients[a].id.is_some(), "the server still serves others");
}

#[test]
fn nobody_can_move_someone_else() {
    let mut s = Stepper::new(8);
    let a = s.connect(ROOM_CODE, "a");
    let b = s.connect(ROOM_CODE, "b");
    s.run(2, TICK);
    let id_b = s.clients[b].id.unwrap();
    let b_before = s.server.room().member(id_b).unwrap().pose;
    let b_body = from_wire(b_before.body).0;
    // A reports poses standing exactly where B stands, and beyond: only A moves.
    for i in 0..60 {
        s.send_pose(a, pose_at(b_body + Vec3::X * (i as f32 * 0.01)));
        s.step(TICK);
    }
    assert_eq!(s.server.room().member(id_b).unwrap().pose, b_before);
}

#[test]
fn a_flood_of_datagrams_is_cut_off_with_a_reason() {
    let mut s = Stepper::new(8);
    let flooder = s.connect(ROOM_CODE, "flood");
    let calm = s.connect(ROOM_CODE, "calm");
    s.run(2, TICK);
    let here = from_wire(s.server.room().member(s.clients[flooder].id.unwrap()).unwrap().pose.body).0;
    for _ in 0..(crate::tests::MAX_PER_SECOND + 10) {
        s.send_pose(flooder, pose_at(here));
    }
    s.step(TICK);
    s.step(TICK);
    assert!(s.clients[flooder].closed, "the flooder is still connected");
    assert!(!s.clients[calm].closed);
    assert_eq!(s.server.room().len(), 1);
}

const MAX_PER_SECOND: usize = tsunagu_server::MAX_DATAGRAMS_PER_SECOND as usize;

#[test]
fn a_dropped_client_that_comes_back_stands_where_it_was() {
    use tsunagu_net::session::{ClientSession, SessionEvent};
    use tsunagu_protocol::{AvatarLook, Hello};
    let mut s = Stepper::new(8);
    let hello = |resume| Hello { resume, ..Hello::new(ROOM_CODE, "w", AvatarLook { body_color: [1, 2, 3] }) };
    // Drive a session by hand over a link we can cut.
    let link = s.connector.connect();
    let conn = link.id();
    let mut first = ClientSession::start(Box::new(link), hello(None));
    s.run(2, TICK);
    let welcome = first.poll().into_iter().find_map(|e| if let SessionEvent::Joined(w) = e { Some(w) } else { None }).unwrap();
    let token = first.resume_token().unwrap();
    assert_eq!(token, welcome.resume);
    let spot = from_wire(welcome.spawn).0 + Vec3::new(0.0, 0.0, -0.05);
    for _ in 0..10 {
        first.send_pose(pose_at(spot));
        s.step(TICK);
        first.poll();
    }
    let stood = s.server.room().member(welcome.your_id).unwrap().pose.body;
    s.connector.cut(conn);
    s.step(TICK);
    assert!(s.server.room().is_empty());
    assert!(first.poll().iter().any(|e| matches!(e, SessionEvent::Closed(_))), "the client did not notice the drop");
    let mut again = ClientSession::start(Box::new(s.connector.connect()), hello(Some(token)));
    s.run(2, TICK);
    let back = again.poll().into_iter().find_map(|e| if let SessionEvent::Joined(w) = e { Some(w) } else { None }).unwrap();
    assert_eq!(back.spawn, stood, "not put back where it was");
}

/// Twenty people in VR (head and two hands): each client's snapshots stay
/// within the 64 kbit/s pose budget, nobody is starved, and near people are
/// updated more often than far ones.
#[test]
fn snapshots_keep_to_the_budget_and_favour_those_nearby() {
    use tsunagu_protocol::QuantPose;
    let mut s = Stepper::new(24);
    let ids: Vec<usize> = (0..20).map(|i| s.connect(ROOM_CODE, &format!("vr{i}"))).collect();
    s.run(3, TICK);
    // Everyone stands in a line along X, 0.7 m apart, moving their hands.
    let spot = |i: usize| Vec3::new(-5.0 + 0.52 * i as f32, 0.0, -2.0);
    let seconds = 4;
    for t in 0..(30 * seconds) {
        for (n, &i) in ids.iter().enumerate() {
            let body = spot(n);
            let wave = (t as f32 * 0.2 + n as f32).sin() * 0.2;
            let hand = |side: f32| QuantPose::new((body + Vec3::new(side * 0.4, 1.0 + wave, -0.2)).to_array(), Quat::from_rotation_x(wave).to_array());
            let mut pose = pose_at(body);
            pose.hands = Some([hand(-1.0), hand(1.0)]);
            s.send_pose(i, pose);
        }
        s.step(TICK);
    }
    let budget = tsunagu_server::POSE_BUDGET_BYTES_PER_SECOND as usize;
    let first = &s.clients[ids[0]];
    for (n, &i) in ids.iter().enumerate() {
        let client = &s.clients[i];
        let per_second = client.snapshot_bytes / (seconds + 1);
        assert!(per_second <= budget, "client {n} received {per_second} B/s, budget {budget}");
        let missing: Vec<_> = client.peers.keys().filter(|id| !client.updates.contains_key(id)).collect();
        assert!(missing.is_empty() && client.peers.len() == 19, "client {n} never heard from {missing:?}");
    }
    // Seen from the first in the line: the neighbour is updated more often than the farthest.
    let near = first.updates[&s.clients[ids[1]].id.unwrap()].len();
    let far = first.updates[&s.clients[ids[19]].id.unwrap()].len();
    assert!(near > far * 2, "near {near} vs far {far} updates");
    eprintln!("per client: {} B/s of {budget}; nearest updated {near}x, farthest {far}x in {seconds} s", first.snapshot_bytes / (seconds + 1));
}

/// With a fifth of the snapshots lost, every delta is still read against the
/// base the server meant: once people stop, each client holds exactly the
/// server's poses, hands included.
#[test]
fn delta_snapshots_survive_loss_exactly() {
    use tsunagu_protocol::QuantPose;
    let mut s = Stepper::new(8);
    s.server.links_mut().set_datagram_loss(20);
    let ids: Vec<usize> = (0..5).map(|i| s.connect(ROOM_CODE, &format!("p{i}"))).collect();
    s.run(3, TICK);
    for t in 0..180 {
        for (n, &i) in ids.iter().enumerate() {
            // The last second everyone stands still (and keeps acknowledging).
            let phase = t.min(150) as f32 * 0.07 + n as f32;
            let body = Vec3::new(-2.0 + n as f32, 0.0, phase.sin());
            let hand = |side: f32| QuantPose::new((body + Vec3::new(side * 0.4, 1.0 + 0.3 * phase.cos(), -0.2)).to_array(), Quat::from_rotation_x(phase).to_array());
            let mut pose = pose_at(body);
            pose.head = QuantPose::new((body + Vec3::Y * 1.15).to_array(), Quat::from_rotation_y(phase * 1.3).to_array());
            pose.hands = Some([hand(-1.0), hand(1.0)]);
            s.send_pose(i, pose);
        }
        s.step(TICK);
    }
    for &i in &ids {
        let client = &s.clients[i];
        assert_eq!(client.seen.len(), 4);
        for (id, pose) in &client.seen {
            assert_eq!(pose, &s.server.room().member(*id).unwrap().pose, "client {i} holds a wrong pose of {id:?}");
        }
    }
}
