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
