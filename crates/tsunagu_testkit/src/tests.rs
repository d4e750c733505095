//! Stepper scenarios: joins, walks, refusals, shutdown and silence, all on a manual clock.
//!
//! Long because it is tests, one scenario after another.

use bevy_math::{Quat, Vec3};
use tsunagu_client_core::{ClientEnd, RoomEvent};
use tsunagu_net::memory::Blocked;
use tsunagu_net::{Channel, ClientLink, LinkEnd, LinkEvent};
use tsunagu_protocol::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};
use tsunagu_protocol::{
    AvatarLook, AvatarPose, ClientControl, ClientDatagram, ClientEvent, CloseReason, EventKind, Hello, PoseFrame, QuantPose, Refusal, RefusalReason,
    RejectReason, Role, encode,
};
use tsunagu_room::interest::{LIGHT_POSE_BUDGET_BYTES_PER_SECOND, POSE_BUDGET_BYTES_PER_SECOND};
use tsunagu_room::limits::MAX_DATAGRAMS_PER_SECOND;
use tsunagu_sim::pose::{from_wire, to_wire};

use super::*;
use tsunagu_protocol::ServerEvent;

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
    let (id_a, id_b) = (s.clients[a].id().unwrap(), s.clients[b].id().unwrap());
    assert_eq!(s.clients[a].peers()[&id_b].role, Role::Facilitator);
    assert_eq!(s.clients[b].peers()[&id_a].nickname, "あおい");
    assert!(s.clients[a].seen(id_b).is_some() && s.clients[b].seen(id_a).is_some());

    s.leave(b);
    s.run(2, TICK);
    assert!(s.clients[a].peers().is_empty() && s.clients[a].seen(id_b).is_none());
    assert!(s.clients[a].events.contains(&RoomEvent::Server(ServerEvent::PeerLeft(id_b))));
    assert_eq!(s.clients[b].ended(), Some(ClientEnd::Left));
    assert_eq!(s.server.room().len(), 1);
}

#[test]
fn a_walk_is_followed_by_the_other_client() {
    let mut s = Stepper::new(8);
    let a = s.connect(ROOM_CODE, "a");
    let b = s.connect(ROOM_CODE, "b");
    s.run(2, TICK);
    let id_a = s.clients[a].id().unwrap();
    let start = from_wire(s.server.room().member(id_a).unwrap().pose.body).0;
    // Walk 1 m toward the screen at walking speed.
    for i in 1..=30 {
        let pos = start + Vec3::NEG_Z * (i as f32 / 30.0);
        s.send_pose(a, pose_at(pos));
        s.step(TICK);
    }
    s.step(TICK);
    let seen = from_wire(s.clients[b].seen(id_a).unwrap().body).0;
    assert!((seen - (start + Vec3::NEG_Z)).length() < 0.01, "b sees a at {seen}");
}

#[test]
fn wrong_code_and_full_room_are_refused_with_a_reason() {
    let mut s = Stepper::new(1);
    let ok = s.connect(ROOM_CODE, "a");
    let wrong = s.connect("guess", "b");
    let full = s.connect(ROOM_CODE, "c");
    s.run(2, TICK);
    assert!(s.clients[ok].id().is_some());
    assert_eq!(s.clients[wrong].rejected(), Some(RejectReason::WrongRoomCode));
    assert_eq!(s.clients[full].rejected(), Some(RejectReason::RoomFull));
}

#[test]
fn shutdown_tells_everyone() {
    let mut s = Stepper::new(4);
    let a = s.connect(ROOM_CODE, "a");
    s.run(2, TICK);
    s.server.shutdown();
    s.step(TICK);
    assert_eq!(s.clients[a].ended(), Some(ClientEnd::Closed(LinkEnd::Reason(CloseReason::ServerShutdown))));
}

/// Everything a raw link received so far.
fn drain(link: &mut impl ClientLink) -> Vec<LinkEvent> {
    std::iter::from_fn(|| link.try_recv()).collect()
}

#[test]
fn a_silent_connection_is_closed() {
    let mut s = Stepper::new(4);
    // A raw connection that never says Hello.
    let mut silent = s.connector.connect();
    let deadline = tsunagu_server::HELLO_TIMEOUT.as_millis() as usize / 33;
    s.run(deadline - 2, TICK);
    assert!(drain(&mut silent).is_empty(), "closed before its time to say Hello was up");
    assert_eq!(s.server.connections(), 1);
    s.run(4, TICK);
    let events = drain(&mut silent);
    assert_eq!(events.last(), Some(&LinkEvent::Closed(LinkEnd::Reason(CloseReason::ProtocolViolation))), "{events:?}");
    assert_eq!(s.server.connections(), 0);
    let a = s.connect(ROOM_CODE, "a");
    s.run(2, TICK);
    assert!(s.clients[a].id().is_some(), "the server still serves others");
}

#[test]
fn nobody_can_move_someone_else() {
    let mut s = Stepper::new(8);
    let a = s.connect(ROOM_CODE, "a");
    let b = s.connect(ROOM_CODE, "b");
    s.run(2, TICK);
    let id_b = s.clients[b].id().unwrap();
    let b_before = s.server.room().member(id_b).unwrap().pose;
    let b_body = from_wire(b_before.body).0;
    // A reports poses standing exactly where B stands, and beyond: only A moves.
    for i in 0..60 {
        s.send_pose(a, pose_at(b_body + Vec3::X * (i as f32 * 0.01)));
        s.step(TICK);
    }
    assert_eq!(s.server.room().member(id_b).unwrap().pose, b_before);
}

/// A raw link that has joined as `nickname`: for tests that break the rules
/// the client core keeps.
fn raw_member(s: &mut Stepper, nickname: &str) -> tsunagu_net::memory::MemoryClient {
    let mut link = s.connector.connect();
    let hello = Hello::new(ROOM_CODE, nickname, AvatarLook::with_color([1, 2, 3]));
    link.send(Channel::Control, encode(&ClientControl::Hello(hello), MAX_FRAME_BYTES).unwrap());
    s.run(2, TICK);
    link
}

#[test]
fn a_flood_of_datagrams_is_cut_off_with_a_reason() {
    let mut s = Stepper::new(8);
    let mut flooder = raw_member(&mut s, "flood");
    let calm = s.connect(ROOM_CODE, "calm");
    s.run(2, TICK);
    assert_eq!(s.server.room().len(), 2);
    let here = s.server.room().members().next().unwrap().pose;
    for seq in 0..(MAX_DATAGRAMS_PER_SECOND + 10) {
        let frame = PoseFrame { seq, ack_tick: 0, pose: here };
        flooder.send_datagram(encode(&ClientDatagram::Pose(frame), MAX_DATAGRAM_BYTES).unwrap());
    }
    s.step(TICK);
    let events = drain(&mut flooder);
    assert_eq!(events.last(), Some(&LinkEvent::Closed(LinkEnd::Reason(CloseReason::RateLimited))), "{events:?}");
    assert!(s.clients[calm].ended().is_none());
    assert_eq!(s.server.room().len(), 1);
}

#[test]
fn a_member_sending_malformed_datagrams_is_closed_as_a_violation() {
    let mut s = Stepper::new(8);
    let mut rogue = raw_member(&mut s, "rogue");
    let calm = s.connect(ROOM_CODE, "calm");
    s.run(2, TICK);
    rogue.send_datagram(vec![0x81, 0xa1, b'P', 0xc1]);
    s.step(TICK);
    let events = drain(&mut rogue);
    assert_eq!(events.last(), Some(&LinkEvent::Closed(LinkEnd::Reason(CloseReason::ProtocolViolation))), "{events:?}");
    assert!(s.clients[calm].ended().is_none());
    assert_eq!(s.server.room().len(), 1);
}

#[test]
fn a_dropped_client_that_comes_back_stands_where_it_was() {
    let mut s = Stepper::new(8);
    let walker = s.connect(ROOM_CODE, "w");
    let watcher = s.connect(ROOM_CODE, "o");
    s.run(2, TICK);
    let id = s.clients[walker].id().unwrap();
    let spawn = from_wire(s.server.room().member(id).unwrap().pose.body).0;
    for i in 0..10 {
        s.send_pose(walker, pose_at(spawn + Vec3::new(0.0, 0.0, -0.01 * i as f32)));
        s.step(TICK);
    }
    let stood = s.server.room().member(id).unwrap().pose.body;
    // The server notices this drop at once (as after QUIC's idle timeout).
    s.connector.cut(s.clients[walker].conn().unwrap());
    s.step(TICK);
    assert_eq!(s.server.room().len(), 1);
    assert_eq!(s.server.room().places_kept(), 1);
    assert!(s.clients[walker].events.contains(&RoomEvent::Reconnecting), "the client did not notice the drop");
    s.run(30, TICK);
    let back = s.clients[walker].events.iter().find_map(|e| match e {
        RoomEvent::Rejoined { me, spawn, resumed } => Some((me.id, *spawn, *resumed)),
        _ => None,
    });
    assert_eq!(back, Some((id, stood, true)), "not put back as itself where it was");
    assert_eq!(s.clients[walker].connections_opened(), 2);
    // The watcher saw a leave and the same person come back.
    let seen: Vec<_> = s.clients[watcher]
        .events
        .iter()
        .filter(|e| matches!(e, RoomEvent::Server(ServerEvent::PeerLeft(_)) | RoomEvent::Server(ServerEvent::PeerJoined(_))))
        .cloned()
        .collect();
    assert!(
        matches!(&seen[..], [RoomEvent::Server(ServerEvent::PeerJoined(_)), RoomEvent::Server(ServerEvent::PeerLeft(a)), RoomEvent::Server(ServerEvent::PeerJoined(b))] if *a == id && b.id == id),
        "{seen:?}"
    );
}

/// A connection broken one way that the server has not noticed: the client
/// hears nothing, gives it up and comes back on a new one; the server swaps
/// the stale connection for the new one. Nobody ever sees two of it, or it
/// leave, and a full room does not turn it away.
fn one_way_cut(blocked: Blocked, capacity: usize) {
    let mut s = Stepper::new(capacity);
    let victim = s.connect(ROOM_CODE, "v");
    let watchers: Vec<usize> = (1..capacity).map(|i| s.connect(ROOM_CODE, &format!("o{i}"))).collect();
    s.run(3, TICK);
    assert_eq!(s.server.room().len(), capacity);
    let id = s.clients[victim].id().unwrap();
    let spot = from_wire(s.server.room().member(id).unwrap().pose.body).0 + Vec3::new(0.0, 0.0, -0.1);
    for _ in 0..5 {
        s.send_pose(victim, pose_at(spot));
        s.step(TICK);
    }
    let stood = s.server.room().member(id).unwrap().pose.body;
    s.block(victim, blocked);
    let mut back_at = None;
    for tick in 0..(5 * 30) {
        s.send_pose(victim, pose_at(spot));
        s.step(TICK);
        assert_eq!(s.server.room().len(), capacity, "the room lost or doubled someone at tick {tick}");
        for &w in &watchers {
            assert_eq!(s.clients[w].peers().len(), capacity - 1, "a watcher saw a wrong head count");
        }
        if back_at.is_none() && s.clients[victim].core.in_room() && s.clients[victim].connections_opened() == 2 {
            back_at = Some(tick);
        }
    }
    let back_at = back_at.expect("never came back");
    eprintln!("{blocked:?}: back after {:.2} s", back_at as f64 / 30.0);
    assert!(back_at < 4 * 30, "back only after {back_at} ticks");
    assert_eq!(s.server.room().member(id).unwrap().pose.body, stood, "not in its place");
    assert!(s.clients[victim].events.iter().any(|e| matches!(e, RoomEvent::Rejoined { resumed: true, me, .. } if me.id == id)));
    for &w in &watchers {
        assert!(!s.clients[w].events.iter().any(|e| matches!(e, RoomEvent::Server(ServerEvent::PeerLeft(x)) if *x == id)), "a watcher saw it leave");
    }
    // And it moves again for everyone.
    let later = spot + Vec3::new(0.0, 0.0, -0.05);
    for _ in 0..5 {
        s.send_pose(victim, pose_at(later));
        s.step(TICK);
    }
    let seen = from_wire(s.clients[watchers[0]].seen(id).unwrap().body).0;
    assert!(seen.distance(later) < 0.01, "watcher sees it at {seen}");
}

#[test]
fn a_client_cut_off_from_the_server_one_way_comes_back_as_itself() {
    one_way_cut(Blocked { to_server: true, to_client: false }, 3);
    one_way_cut(Blocked { to_server: false, to_client: true }, 3);
    one_way_cut(Blocked { to_server: true, to_client: true }, 3);
}

#[test]
fn the_same_in_a_full_room() {
    one_way_cut(Blocked { to_server: false, to_client: true }, 2);
}

#[test]
fn a_kept_place_waits_for_its_owner_but_gives_way_to_a_newcomer_in_a_full_room() {
    // Room to spare: the dropped child comes back to their own place.
    let mut s = Stepper::new(3);
    let a = s.connect(ROOM_CODE, "a");
    s.connect(ROOM_CODE, "b");
    s.run(2, TICK);
    let id = s.clients[a].id().unwrap();
    s.connector.cut(s.clients[a].conn().unwrap());
    let c = s.connect(ROOM_CODE, "c");
    s.run(30, TICK);
    assert!(s.clients[c].id().is_some());
    assert_eq!(s.clients[a].id(), Some(id));
    assert!(s.clients[a].core.in_room());
    // A full room: the newcomer is not kept out by a place that may never be
    // used again (twenty ghost seats once filled a room); the oldest goes.
    let mut s = Stepper::new(2);
    let a = s.connect(ROOM_CODE, "a");
    s.connect(ROOM_CODE, "b");
    s.run(2, TICK);
    s.connector.cut(s.clients[a].conn().unwrap());
    s.step(TICK);
    assert_eq!(s.server.room().places_kept(), 1);
    let c = s.connect(ROOM_CODE, "c");
    s.run(30, TICK);
    assert!(s.clients[c].id().is_some(), "a newcomer was refused for a kept place: {:?}", s.clients[c].rejected());
    assert_eq!(s.server.room().places_kept(), 0);
}

#[test]
fn changing_colour_in_the_room_reaches_everyone_and_spam_is_refused_with_a_reason() {
    let mut s = Stepper::new(4);
    let a = s.connect(ROOM_CODE, "a");
    let b = s.connect(ROOM_CODE, "b");
    s.run(2, TICK);
    let id = s.clients[a].id().unwrap();
    let blue = AvatarLook::with_color([90, 180, 230]);
    s.send_event(a, ClientEvent::SetLook(blue));
    s.run(2, TICK);
    assert_eq!(s.clients[b].peers()[&id].look, blue);
    assert!(s.clients[b].events.iter().any(|e| matches!(e, RoomEvent::Server(ServerEvent::PeerChanged(p)) if p.id == id && p.look == blue)));
    assert_eq!(s.clients[a].core.room().me().map(|m| m.look), Some(blue), "the sender's own view follows the server");
    assert_eq!(s.server.room().member(id).unwrap().info.look, blue);
    for _ in 0..10 {
        s.send_event(a, ClientEvent::SetLook(AvatarLook::with_color([1, 1, 1])));
    }
    s.run(2, TICK);
    let refused = s.clients[a]
        .events
        .iter()
        .filter(|e| **e == RoomEvent::Server(ServerEvent::Refused(Refusal { kind: EventKind::SetLook, reason: RefusalReason::TooFast })))
        .count();
    assert!(refused >= 7, "only {refused} of 10 refused");
    assert!(s.clients[a].ended().is_none(), "a refusal is not a disconnection");
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
    // A second to settle (first, whole updates), then measure exactly `seconds`.
    let warm_up = 30;
    let mut start_bytes = Vec::new();
    let mut start_updates = Vec::new();
    for t in 0..(warm_up + 30 * seconds) {
        if t == warm_up {
            start_bytes = ids.iter().map(|&i| s.clients[i].snapshot_bytes()).collect();
            let first = &s.clients[ids[0]];
            start_updates = ids.iter().map(|&i| s.clients[i].id().map_or(0, |id| first.updates(id))).collect();
        }
        for (n, &i) in ids.iter().enumerate() {
            let body = spot(n);
            let wave = (t as f32 * 0.2 + n as f32).sin() * 0.2;
            let hand =
                |side: f32| QuantPose::new((body + Vec3::new(side * 0.4, 1.0 + wave, -0.2)).to_array(), Quat::from_rotation_x(wave).to_array());
            let mut pose = pose_at(body);
            pose.hands = Some([hand(-1.0), hand(1.0)]);
            s.send_pose(i, pose);
        }
        s.step(TICK);
    }
    let budget = POSE_BUDGET_BYTES_PER_SECOND as usize;
    let first = &s.clients[ids[0]];
    let mut busiest = 0;
    for (n, &i) in ids.iter().enumerate() {
        let client = &s.clients[i];
        let per_second = (client.snapshot_bytes() - start_bytes[n]) / seconds;
        busiest = busiest.max(per_second);
        assert!(per_second <= budget, "client {n} received {per_second} B/s, budget {budget}");
        let peers = client.peers();
        let missing: Vec<_> = peers.keys().filter(|id| client.updates(**id) == 0).collect();
        assert!(missing.is_empty() && peers.len() == 19, "client {n} never heard from {missing:?}");
    }
    // The budget is used, not just respected: most of it goes to people moving.
    assert!(busiest > budget / 2, "the busiest client got only {busiest} B/s of {budget}");
    // Seen from the first in the line: the neighbour is updated more often than the farthest.
    let updates_in_window = |n: usize| first.updates(s.clients[ids[n]].id().unwrap()) - start_updates[n];
    let (near, far) = (updates_in_window(1), updates_in_window(19));
    assert!(near > far * 2, "near {near} vs far {far} updates");
    eprintln!("busiest client: {busiest} B/s of {budget}; nearest updated {near}x, farthest {far}x in {seconds} s");
}

/// Low-bandwidth mode: of two people standing side by side watching six walk
/// about, the one who asked for a light link is sent far fewer pose bytes,
/// within its smaller budget, and still hears from everyone; asking again
/// for normal gives normal back.
#[test]
fn a_light_link_is_sent_fewer_poses_and_still_sees_everyone() {
    let mut s = Stepper::new(12);
    let ids: Vec<usize> = (0..8).map(|i| s.connect(ROOM_CODE, &format!("p{i}"))).collect();
    s.run(3, TICK);
    let (normal, light) = (ids[0], ids[1]);
    s.send_event(light, ClientEvent::LightLink(true));
    let watch = |s: &mut Stepper, seconds: u32| -> (usize, usize) {
        let before = (s.clients[normal].snapshot_bytes(), s.clients[light].snapshot_bytes());
        for t in 0..30 * seconds {
            s.send_pose(normal, pose_at(Vec3::new(0.0, 0.0, 2.0)));
            s.send_pose(light, pose_at(Vec3::new(0.6, 0.0, 2.0)));
            for (n, &i) in ids[2..].iter().enumerate() {
                let step = (t as f32 * 0.05 + n as f32).sin();
                s.send_pose(i, pose_at(Vec3::new(-3.0 + n as f32, 0.0, -2.0 + step)));
            }
            s.step(TICK);
        }
        let per_second = |i: usize, was: usize| (s.clients[i].snapshot_bytes() - was) / seconds as usize;
        (per_second(normal, before.0), per_second(light, before.1))
    };
    watch(&mut s, 1);
    let (normal_bytes, light_bytes) = watch(&mut s, 4);
    eprintln!("watching six walk: normal {normal_bytes} B/s, light link {light_bytes} B/s");
    assert!(light_bytes <= LIGHT_POSE_BUDGET_BYTES_PER_SECOND as usize, "the light link got {light_bytes} B/s");
    assert!(light_bytes * 2 < normal_bytes, "light {light_bytes} B/s is not much less than normal {normal_bytes} B/s");
    let client = &s.clients[light];
    assert_eq!(client.peers().len(), 7);
    for id in client.peers().keys() {
        assert!(client.updates(*id) > 10, "the light link hardly heard from {id:?}");
    }
    s.send_event(light, ClientEvent::LightLink(false));
    s.run(2, TICK);
    let (normal_bytes, light_bytes) = watch(&mut s, 2);
    assert!(light_bytes * 10 > normal_bytes * 8, "back to normal: {light_bytes} B/s against {normal_bytes} B/s");
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
            let hand = |side: f32| {
                QuantPose::new((body + Vec3::new(side * 0.4, 1.0 + 0.3 * phase.cos(), -0.2)).to_array(), Quat::from_rotation_x(phase).to_array())
            };
            let mut pose = pose_at(body);
            pose.head = QuantPose::new((body + Vec3::Y * 1.15).to_array(), Quat::from_rotation_y(phase * 1.3).to_array());
            pose.hands = Some([hand(-1.0), hand(1.0)]);
            s.send_pose(i, pose);
        }
        s.step(TICK);
    }
    for &i in &ids {
        let client = &s.clients[i];
        let peers = client.peers();
        assert_eq!(peers.len(), 4);
        for id in peers.keys() {
            assert_eq!(client.seen(*id).as_ref(), Some(&s.server.room().member(*id).unwrap().pose), "client {i} holds a wrong pose of {id:?}");
        }
    }
}

#[test]
fn a_client_that_said_it_was_reconnecting_but_never_came_back_leaves_after_the_grace() {
    let mut s = Stepper::new(4);
    let mut gone = raw_member(&mut s, "gone");
    let watcher = s.connect(ROOM_CODE, "o");
    s.run(2, TICK);
    gone.close(CloseReason::Reconnecting);
    let grace_ticks = (tsunagu_server::RECONNECT_GRACE.as_millis() / TICK.as_millis()) as usize;
    s.run(grace_ticks - 5, TICK);
    assert_eq!(s.clients[watcher].peers().len(), 1, "left before the grace was over");
    s.run(10, TICK);
    assert!(s.clients[watcher].peers().is_empty(), "still shown after the grace");
    assert_eq!(s.server.room().places_kept(), 1, "its place is kept like any dropped member's");
}

#[test]
fn a_body_put_elsewhere_is_told_where_it_stands() {
    let mut s = Stepper::new(4);
    let a = s.connect(ROOM_CODE, "a");
    s.run(2, TICK);
    let id = s.clients[a].id().unwrap();
    let here = from_wire(s.server.room().member(id).unwrap().pose.body).0;
    // A step that would end inside the wall: the server stops it at the wall.
    let beyond = Vec3::new(here.x, 0.0, 5.5);
    for _ in 0..60 {
        s.send_pose(a, pose_at(beyond));
        s.step(TICK);
    }
    let stands = s.server.room().member(id).unwrap().pose.body;
    let told: Vec<QuantPose> =
        s.clients[a].events.iter().filter_map(|e| if let RoomEvent::Server(ServerEvent::MovedTo(p)) = e { Some(*p) } else { None }).collect();
    assert!(!told.is_empty(), "never told");
    assert!(told.len() <= 5, "told {} times in 2 s", told.len());
    assert_eq!(told.last(), Some(&stands));
    assert!(from_wire(stands).0.z < 5.0 - 0.29, "stands in the wall at {}", from_wire(stands).0);
}

#[test]
fn a_refused_join_is_closed_as_refused_not_as_a_leave() {
    let mut s = Stepper::new(4);
    let mut link = s.connector.connect();
    let hello = Hello::new("not-this-room", "a", AvatarLook::with_color([1, 2, 3]));
    link.send(Channel::Control, encode(&ClientControl::Hello(hello), MAX_FRAME_BYTES).unwrap());
    s.run(2, TICK);
    let events = drain(&mut link);
    assert_eq!(events.last(), Some(&LinkEvent::Closed(LinkEnd::Reason(CloseReason::Refused))), "{events:?}");
}

#[test]
fn echoes_come_straight_back_and_the_server_counts_how_long_they_waited() {
    let mut s = Stepper::new(4);
    let a = s.connect(ROOM_CODE, "a");
    assert_eq!(s.clients[a].core.round_trip(), None);
    s.run(3, TICK);
    // Sent on one step, answered by the server on the next, read after it
    // (less the real microseconds it waited in the hub, on this clock).
    let rtt = s.clients[a].core.round_trip().expect("no echo came back");
    assert!(rtt <= TICK && rtt > TICK - Duration::from_millis(5), "round trip {rtt:?}");
    s.run(30 * 3, TICK);
    assert!(s.clients[a].core.round_trips().count() >= 3);
    assert!(s.server.forwarding_delays().count() >= 3, "the server did not count its echoes");
}

/// A client of another version whose Hello has another shape is told to update,
/// not thrown out for breaking the protocol.
#[test]
fn a_future_client_is_told_the_version_not_called_a_violation() {
    use tsunagu_protocol::{PROTOCOL_VERSION, ServerControl, decode};
    let mut s = Stepper::new(4);
    let mut link = s.connector.connect();
    // {"Hello": [next version, room, name, look, nil, "something new"]}
    let future =
        std::collections::BTreeMap::from([("Hello", (PROTOCOL_VERSION + 1, ROOM_CODE, "ゆき", ([1u8, 2, 3],), None::<u64>, "something new"))]);
    link.send(Channel::Control, rmp_serde::to_vec(&future).unwrap());
    s.run(2, TICK);
    let events = drain(&mut link);
    let rejected = events.iter().find_map(|e| match e {
        LinkEvent::Frame(Channel::Control, bytes) => match decode::<ServerControl>(bytes, MAX_FRAME_BYTES) {
            Ok(ServerControl::Rejected(reason)) => Some(reason),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(rejected, Some(RejectReason::VersionMismatch { server_version: PROTOCOL_VERSION }), "{events:?}");
    assert_eq!(events.last(), Some(&LinkEvent::Closed(LinkEnd::Reason(CloseReason::Refused))));
}

/// Walk each client toward its target at 2 m/s (under the walking limit), a
/// pose a tick, until all are there.
fn walk_to(s: &mut Stepper, targets: &[(usize, Vec3)]) {
    for _ in 0..(12 * 30) {
        for &(index, target) in targets {
            let Some(id) = s.clients[index].id() else {
                continue;
            };
            let here = from_wire(s.server.room().member(id).unwrap().pose.body).0;
            let step = (target - here).clamp_length_max(2.0 / 30.0);
            s.send_pose(index, pose_at(here + step));
        }
        s.step(TICK);
    }
    for &(index, target) in targets {
        let id = s.clients[index].id().unwrap();
        let at = from_wire(s.server.room().member(id).unwrap().pose.body).0;
        assert!((at - target).length() < 0.05, "client {index} stands at {at}, not {target}");
    }
}

fn talk(s: &mut Stepper, index: usize, frames: u16) {
    for seq in 0..frames {
        let frame = tsunagu_protocol::VoiceFrame { seq, timestamp: u32::from(seq) * 960, speaking: true, opus: vec![0xfc, 0xff, 0xfe] };
        s.clients[index].core.send_voice(frame);
        s.step(std::time::Duration::from_millis(20));
    }
}

fn heard_from(s: &mut Stepper, index: usize, speaker: usize) -> usize {
    let from = s.clients[speaker].id().unwrap();
    s.clients[index].core.take_voice().iter().filter(|v| v.from == from).count()
}

#[test]
fn voice_reaches_the_near_and_not_the_far_but_staff_reach_everyone() {
    let mut s = Stepper::new(8);
    let (a, b, c) = (s.connect(ROOM_CODE, "a"), s.connect(ROOM_CODE, "b"), s.connect(ROOM_CODE, "c"));
    let staff = s.connect(STAFF_CODE, "先生");
    s.run(3, TICK);
    // a and b by the beds in one corner, c by the bamboo in the far one (15 m).
    walk_to(
        &mut s,
        &[(a, Vec3::new(-5.5, 0.0, 4.5)), (b, Vec3::new(-4.5, 0.0, 4.5)), (c, Vec3::new(6.6, 0.0, -4.6)), (staff, Vec3::new(6.0, 0.0, -2.0))],
    );
    for i in [a, b, c, staff] {
        s.clients[i].core.take_voice();
    }
    talk(&mut s, a, 25);
    s.run(2, TICK);
    assert_eq!(heard_from(&mut s, b, a), 25, "the neighbour missed frames");
    assert_eq!(heard_from(&mut s, c, a), 0, "15 m away heard a participant");
    assert_eq!(heard_from(&mut s, a, a), 0, "a speaker heard themself");
    talk(&mut s, staff, 10);
    s.run(2, TICK);
    for listener in [a, b, c] {
        assert_eq!(heard_from(&mut s, listener, staff), 10, "client {listener} did not hear the facilitator");
    }
}

#[test]
fn a_voice_flood_is_dropped_at_the_server_and_the_sender_told_once() {
    let mut s = Stepper::new(8);
    let (a, b) = (s.connect(ROOM_CODE, "a"), s.connect(ROOM_CODE, "b"));
    s.run(3, TICK);
    s.clients[b].core.take_voice();
    // 100 frames a second for two seconds: twice the allowed rate.
    for seq in 0..200u16 {
        let frame = tsunagu_protocol::VoiceFrame { seq, timestamp: u32::from(seq) * 480, speaking: true, opus: vec![1; 40] };
        s.clients[a].core.send_voice(frame);
        s.step(std::time::Duration::from_millis(10));
    }
    s.run(2, TICK);
    let heard = heard_from(&mut s, b, a);
    assert!((110..=130).contains(&heard), "{heard} of 200 frames passed in 2 s");
    assert_eq!(s.server.voice_dropped(), 200 - heard as u64);
    let told = s.clients[a]
        .events
        .iter()
        .filter(|e| **e == RoomEvent::Server(ServerEvent::Refused(Refusal { kind: EventKind::Voice, reason: RefusalReason::TooFast })))
        .count();
    assert_eq!(told, 1);
    assert!(s.clients[a].core.in_room(), "a voice flood is dropped, not closed");
}

/// Voice goes straight to the mix as it arrives: while the listener's app is
/// stuck in a 100 ms frame (its core not polled), every frame the server
/// forwarded has already reached the sink, in the step it was forwarded. A
/// listener without a sink holds them all until its next frame.
#[test]
fn a_100_ms_render_stall_adds_no_delay_to_voice() {
    use std::sync::{Arc, Mutex};
    let mut s = Stepper::new(8);
    let speaker = s.connect(ROOM_CODE, "はなす");
    let listener = s.connect(ROOM_CODE, "きく");
    let old_way = s.connect(ROOM_CODE, "まえの やりかた");
    s.run(3, TICK);
    let heard: Arc<Mutex<Vec<u16>>> = Arc::default();
    let sink = {
        let heard = heard.clone();
        Arc::new(move |_: PeerId, frame: tsunagu_protocol::VoiceFrame| heard.lock().unwrap_or_else(|e| e.into_inner()).push(frame.seq))
    };
    assert!(s.clients[listener].core.set_voice_sink(sink), "the transport took no tap");
    s.clients[old_way].core.take_voice();
    // Five 20 ms frames: 100 ms in which both listeners' apps are stuck.
    for seq in 0..5u16 {
        let frame = tsunagu_protocol::VoiceFrame { seq, timestamp: u32::from(seq) * 960, speaking: true, opus: vec![3; 40] };
        s.clients[speaker].core.send_voice(frame);
        s.step_stalling(std::time::Duration::from_millis(20), &[listener, old_way]);
        assert_eq!(heard.lock().unwrap().len(), usize::from(seq) + 1, "frame {seq} waited for the listener's frame");
    }
    assert_eq!(*heard.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    assert!(s.clients[listener].core.take_voice().is_empty(), "a frame went both ways");
    // The old way: nothing until the stalled app polls again, then all at once.
    s.step(std::time::Duration::from_millis(1));
    assert_eq!(s.clients[old_way].core.take_voice().len(), 5);
}
