//! Facilitation through the stepper: every staff action by a facilitator,
//! then the same by a child (refused, nothing changes); a removal that
//! outlives the removed client starting again; roles that change at once.

use tsunagu_client_core::{ClientEnd, RoomEvent};
use tsunagu_net::LinkEnd;
use tsunagu_protocol::StaffAction;
use tsunagu_protocol::{ClientEvent, CloseReason, EventKind, PeerId, Refusal, RefusalReason, RejectReason, Role, VoiceFrame};

use super::*;
use tsunagu_protocol::ServerEvent;

/// A nurse and two children, in.
fn meetup() -> (Stepper, usize, usize, usize) {
    let mut s = Stepper::new(8);
    let staff = s.connect(STAFF_CODE, "かんごし");
    let child = s.connect(ROOM_CODE, "ひなた");
    let friend = s.connect(ROOM_CODE, "あおい");
    s.run(3, TICK);
    (s, staff, child, friend)
}

fn id(s: &Stepper, index: usize) -> PeerId {
    s.clients[index].id().expect("joined")
}

/// Frames `listener` heard from `speaker` when `speaker` sent `n` (20 ms apart).
fn heard(s: &mut Stepper, speaker: usize, listener: usize, n: u16) -> usize {
    s.clients[listener].core.take_voice();
    for seq in 0..n {
        s.clients[speaker].core.send_voice(VoiceFrame { seq, timestamp: u32::from(seq) * 960, speaking: true, opus: vec![7; 40] });
        s.step(std::time::Duration::from_millis(20));
    }
    s.run(2, TICK);
    let from = id(s, speaker);
    s.clients[listener].core.take_voice().iter().filter(|v| v.from == from).count()
}

fn last_refusal(s: &Stepper, index: usize) -> Option<Refusal> {
    s.clients[index].events.iter().rev().find_map(|e| if let RoomEvent::Server(ServerEvent::Refused(r)) = e { Some(*r) } else { None })
}

const NOT_ALLOWED: Refusal = Refusal { kind: EventKind::Facilitate, reason: RefusalReason::NotAllowed };

#[test]
fn a_facilitator_mutes_a_child_at_the_server_and_a_child_cannot_mute_anyone() {
    let (mut s, staff, child, friend) = meetup();
    assert_eq!(heard(&mut s, child, friend, 10), 10);
    s.send_event(staff, ClientEvent::Staff(StaffAction::Mute(id(&s, child), true)));
    // Within one tick the room drops their voice, whatever their client does.
    s.step(TICK);
    assert_eq!(heard(&mut s, child, friend, 10), 0, "a muted child's voice got through");
    // They see that they are muted; so does everyone.
    assert!(s.clients[child].core.room().me().is_some_and(|me| me.muted), "the child was not told");
    assert!(s.clients[friend].peers()[&id(&s, child)].muted);
    // A child (or a patched client sending the same event) cannot unmute
    // themselves, mute the nurse, or lock the room: refused, nothing changes.
    for event in [
        ClientEvent::Staff(StaffAction::Mute(id(&s, child), false)),
        ClientEvent::Staff(StaffAction::Mute(id(&s, staff), true)),
        ClientEvent::Staff(StaffAction::LockRoom(true)),
        ClientEvent::Staff(StaffAction::Remove(id(&s, friend))),
    ] {
        s.send_event(child, event.clone());
        s.run(2, TICK);
        assert_eq!(last_refusal(&s, child), Some(NOT_ALLOWED), "{event:?} was not refused");
    }
    assert_eq!(heard(&mut s, child, friend, 5), 0);
    assert!(!s.clients[friend].peers()[&id(&s, staff)].muted);
    assert!(!s.server.room().is_locked());
    assert_eq!(s.server.room().len(), 3);
    s.send_event(staff, ClientEvent::Staff(StaffAction::Mute(id(&s, child), false)));
    s.step(TICK);
    assert_eq!(heard(&mut s, child, friend, 10), 10, "unmuted, the voice flows again");
}

#[test]
fn a_removed_child_stays_out_after_restarting_until_a_facilitator_lets_them_back() {
    let (mut s, staff, child, friend) = meetup();
    let device = 1000 + child as u64;
    let child_id = id(&s, child);
    s.send_event(staff, ClientEvent::Staff(StaffAction::Remove(child_id)));
    s.run(3, TICK);
    assert_eq!(s.clients[child].ended(), Some(ClientEnd::Closed(LinkEnd::Reason(CloseReason::Removed))));
    assert!(s.clients[friend].events.contains(&RoomEvent::Server(ServerEvent::PeerLeft(child_id))));
    let listed = s.clients[staff].core.room().removed().to_vec();
    assert_eq!(listed.iter().map(|r| r.nickname.as_str()).collect::<Vec<_>>(), ["ひなた"]);
    assert!(s.clients[friend].core.room().removed().is_empty(), "only facilitators see who was removed");
    // Starting the client again, with the same invite or the staff one: refused.
    for code in [ROOM_CODE, STAFF_CODE] {
        let again = s.connect_from(code, "ひなた", device);
        s.run(3, TICK);
        assert_eq!(s.clients[again].rejected(), Some(RejectReason::Removed), "back in with {code}");
    }
    assert_eq!(s.server.room().len(), 2);
    // A child cannot let them back in; the nurse can.
    s.send_event(friend, ClientEvent::Staff(StaffAction::LetBackIn(listed[0].id)));
    s.run(2, TICK);
    assert_eq!(last_refusal(&s, friend), Some(NOT_ALLOWED));
    s.send_event(staff, ClientEvent::Staff(StaffAction::LetBackIn(listed[0].id)));
    s.run(2, TICK);
    assert!(s.clients[staff].core.room().removed().is_empty());
    // The removal switched the waiting room on by itself, and the staff were told.
    assert!(s.clients[staff].events.contains(&RoomEvent::Server(ServerEvent::StaffNotice(tsunagu_protocol::StaffNotice::WaitingRoomAfterRemoval))));
    assert!(s.server.room().has_waiting_room());
    let back = s.connect_from(ROOM_CODE, "ひなた", device);
    s.run(3, TICK);
    assert!(s.clients[back].events.contains(&RoomEvent::Waiting), "let back in, they did not wait for the nurse");
    let ticket = s.clients[staff].core.room().waiting()[0].ticket;
    s.send_event(staff, ClientEvent::Staff(StaffAction::LetIn(ticket)));
    s.run(3, TICK);
    assert!(s.clients[back].id().is_some(), "let back in, they could not join: {:?}", s.clients[back].rejected());
    // Nobody removes themselves by mistake.
    s.send_event(staff, ClientEvent::Staff(StaffAction::Remove(id(&s, staff))));
    s.run(2, TICK);
    assert_eq!(last_refusal(&s, staff), Some(NOT_ALLOWED));
}

#[test]
fn roles_change_at_once_and_a_demoted_facilitator_loses_the_powers() {
    let (mut s, staff, child, friend) = meetup();
    let volunteer = id(&s, friend);
    s.send_event(staff, ClientEvent::Staff(StaffAction::SetRole(volunteer, Role::Facilitator)));
    s.run(2, TICK);
    assert_eq!(s.clients[friend].core.room().me().map(|m| m.role), Some(Role::Facilitator), "promoted without reconnecting");
    assert_eq!(s.clients[child].peers()[&volunteer].role, Role::Facilitator, "the badge shows for everyone");
    s.send_event(friend, ClientEvent::Staff(StaffAction::Mute(id(&s, child), true)));
    s.run(2, TICK);
    assert!(s.clients[child].core.room().me().is_some_and(|m| m.muted), "the new facilitator could not mute");
    s.send_event(staff, ClientEvent::Staff(StaffAction::SetRole(volunteer, Role::Participant)));
    s.send_event(friend, ClientEvent::Staff(StaffAction::Mute(id(&s, child), false)));
    s.run(2, TICK);
    assert_eq!(last_refusal(&s, friend), Some(NOT_ALLOWED), "demoted, still had the powers");
    assert!(s.clients[child].core.room().me().is_some_and(|m| m.muted));
    assert_eq!(s.clients[friend].connections_opened(), 1, "a role change must not reconnect anyone");
}

#[test]
fn a_locked_room_turns_newcomers_away_and_opens_again() {
    let (mut s, staff, child, _) = meetup();
    s.send_event(staff, ClientEvent::Staff(StaffAction::LockRoom(true)));
    s.run(2, TICK);
    assert!(s.clients[child].events.contains(&RoomEvent::Server(ServerEvent::RoomLocked(true))));
    let late = s.connect(ROOM_CODE, "そら");
    s.run(3, TICK);
    assert_eq!(s.clients[late].rejected(), Some(RejectReason::RoomLocked));
    s.send_event(staff, ClientEvent::Staff(StaffAction::LockRoom(false)));
    s.run(2, TICK);
    let later = s.connect(ROOM_CODE, "そら");
    s.run(3, TICK);
    assert!(s.clients[later].id().is_some(), "the room did not open again: {:?}", s.clients[later].rejected());
    assert!(s.clients[later].events.iter().all(|e| *e != RoomEvent::Server(ServerEvent::RoomLocked(true))));
}

#[test]
fn a_nurse_brings_a_child_over_gathers_everyone_and_ends_the_meetup_kindly() {
    use bevy_math::Vec3;
    use tsunagu_sim::pose::{to_wire, wire_pos};
    let (mut s, staff, child, friend) = meetup();
    let nurse_at = Vec3::new(-2.0, 0.0, -1.0);
    // Everyone keeps sending poses where they stand, as clients do.
    let stand = |s: &mut Stepper, who: usize, at: Vec3| {
        let rot = bevy_math::Quat::IDENTITY;
        s.send_pose(who, tsunagu_protocol::AvatarPose { body: to_wire(at, rot), head: to_wire(at + Vec3::Y * 1.15, rot), hands: None });
    };
    let mut at = [Vec3::ZERO; 3];
    for (n, who) in [staff, child, friend].into_iter().enumerate() {
        at[n] = wire_pos(s.server.room().member(id(&s, who)).unwrap().pose.body.pos);
    }
    // The nurse walks over to the bench side of the room.
    for _ in 0..90 {
        at[0] += (nurse_at - at[0]).clamp_length_max(1.4 / 30.0);
        for (n, who) in [staff, child, friend].into_iter().enumerate() {
            stand(&mut s, who, at[n]);
        }
        s.step(TICK);
    }
    s.send_event(staff, ClientEvent::Staff(StaffAction::BringHere(id(&s, child))));
    // The child's client keeps sending its old place for a while (it has not heard yet).
    for _ in 0..6 {
        for (n, who) in [staff, child, friend].into_iter().enumerate() {
            stand(&mut s, who, at[n]);
        }
        s.step(TICK);
    }
    let child_now = wire_pos(s.server.room().member(id(&s, child)).unwrap().pose.body.pos);
    assert!((child_now.distance(nurse_at) - 1.3).abs() < 0.05, "the child stands {} m from the nurse", child_now.distance(nurse_at));
    assert!(
        s.clients[child].events.iter().any(|e| matches!(e, RoomEvent::Server(ServerEvent::MovedTo(_)))),
        "the child's client was not told where it stands"
    );
    // A child cannot call people over.
    s.send_event(friend, ClientEvent::Staff(StaffAction::GatherHere));
    s.run(2, TICK);
    assert_eq!(last_refusal(&s, friend), Some(NOT_ALLOWED));
    s.send_event(staff, ClientEvent::Staff(StaffAction::GatherHere));
    s.run(2, TICK);
    for who in [child, friend] {
        let there = wire_pos(s.server.room().member(id(&s, who)).unwrap().pose.body.pos);
        assert!((there.distance(nurse_at) - 1.3).abs() < 0.05, "gathered {} m away", there.distance(nurse_at));
    }
    let (c, f) = (
        wire_pos(s.server.room().member(id(&s, child)).unwrap().pose.body.pos),
        wire_pos(s.server.room().member(id(&s, friend)).unwrap().pose.body.pos),
    );
    assert!(c.distance(f) > 0.5, "two children put in the same place");
    // A child cannot end it; the nurse can, for everyone, and nobody comes back on a resume.
    s.send_event(child, ClientEvent::Staff(StaffAction::EndMeetup));
    s.run(2, TICK);
    assert_eq!(last_refusal(&s, child), Some(NOT_ALLOWED));
    s.send_event(staff, ClientEvent::Staff(StaffAction::EndMeetup));
    s.run(3, TICK);
    for who in [staff, child, friend] {
        assert_eq!(s.clients[who].ended(), Some(ClientEnd::Closed(LinkEnd::Reason(CloseReason::MeetupEnded))), "client {who}");
    }
    assert!(s.server.room().is_empty() && s.server.room().places_kept() == 0);
}

#[test]
fn invites_carry_64_bits_and_a_rush_of_joins_fills_a_room_exactly() {
    use tsunagu_server::{CODE_ALPHABET, CODE_CHARS, new_room_code};
    let bits = CODE_CHARS as f64 * (CODE_ALPHABET.len() as f64).log2();
    assert!(bits >= 64.0, "a room code carries {bits:.1} bits");
    let codes: std::collections::HashSet<String> = (0..2000).map(|_| new_room_code()).collect();
    assert_eq!(codes.len(), 2000, "codes repeat");
    assert!(codes.iter().all(|c| c.len() == CODE_CHARS && c.bytes().all(|b| CODE_ALPHABET.contains(&b))));
    // Twenty children press "join" in the same moment; the room holds eight.
    let mut s = Stepper::new(8);
    let rush: Vec<usize> = (0..20).map(|n| s.connect(ROOM_CODE, &format!("こ{n}"))).collect();
    s.run(3, TICK);
    let admitted = rush.iter().filter(|&&i| s.clients[i].id().is_some()).count();
    let full = rush.iter().filter(|&&i| s.clients[i].rejected() == Some(RejectReason::RoomFull)).count();
    assert_eq!((admitted, full), (8, 12));
    assert_eq!(s.server.room().len(), 8);
}

#[test]
fn a_minute_after_the_last_person_leaves_the_room_keeps_nothing_of_them() {
    let (mut s, staff, child, friend) = meetup();
    s.send_event(staff, ClientEvent::Staff(StaffAction::Remove(id(&s, child))));
    s.send_event(staff, ClientEvent::Staff(StaffAction::LockRoom(true)));
    s.send_event(friend, ClientEvent::HangWish(tsunagu_protocol::Paper::Red, "また あそぼうね".into()));
    s.run(3, TICK);
    // One leaves politely; the other's connection just drops (a place is kept).
    s.leave(staff);
    assert_eq!(friend, s.clients.len() - 1);
    drop(s.clients.pop());
    s.run(30 * 20, TICK);
    assert_eq!(s.server.room().len(), 0);
    assert!(s.server.room().places_kept() > 0 || s.server.room().is_locked(), "nothing was kept even for a moment");
    s.run(30 * 61, TICK);
    let room = s.server.room();
    assert_eq!(room.places_kept(), 0, "a dropped child's place (with their name) outlived the room");
    assert!(!room.is_locked());
    assert_eq!(room.removed_people(), tsunagu_protocol::ServerEvent::RemovedPeople(Vec::new()), "whom staff removed outlived the room");
    assert!(room.play().wishes().is_empty() && room.play().is_at_rest());
}

fn waiting_names(s: &Stepper, staff: usize) -> Vec<String> {
    s.clients[staff].core.room().waiting().iter().map(|w| w.nickname.clone()).collect()
}

#[test]
fn newcomers_wait_until_a_facilitator_lets_them_in_or_not() {
    let (mut s, staff, child, _) = meetup();
    // A child cannot turn the waiting room on; the nurse can, and everyone is told.
    s.send_event(child, ClientEvent::Staff(StaffAction::SetWaitingRoom(true)));
    s.run(2, TICK);
    assert_eq!(last_refusal(&s, child), Some(NOT_ALLOWED));
    s.send_event(staff, ClientEvent::Staff(StaffAction::SetWaitingRoom(true)));
    s.run(2, TICK);
    assert!(s.clients[child].core.room().has_waiting_room());
    let sora = s.connect(ROOM_CODE, "そら");
    let riku = s.connect(ROOM_CODE, "りく");
    let leaves = s.connect(ROOM_CODE, "うみ");
    // Well past any join deadline: waiting has none.
    s.run(30 * 20, TICK);
    for who in [sora, riku, leaves] {
        assert!(s.clients[who].core.waiting(), "client {who} is not waiting: {:?}", s.clients[who].events);
        assert!(s.clients[who].id().is_none());
    }
    assert_eq!(s.server.room().len(), 3, "someone waiting got in");
    assert_eq!(waiting_names(&s, staff), ["そら", "りく", "うみ"]);
    assert!(s.clients[child].core.room().waiting().is_empty(), "a child saw who waits");
    // One gives up waiting: the list says so.
    s.leave(leaves);
    s.run(3, TICK);
    assert_eq!(waiting_names(&s, staff), ["そら", "りく"]);
    let tickets: Vec<u32> = s.clients[staff].core.room().waiting().iter().map(|w| w.ticket).collect();
    // A child cannot let anyone in or turn them away (nor can a raw client: the room checks the sender).
    for event in [ClientEvent::Staff(StaffAction::LetIn(tickets[0])), ClientEvent::Staff(StaffAction::TurnAway(tickets[1]))] {
        s.send_event(child, event.clone());
        s.run(2, TICK);
        assert_eq!(last_refusal(&s, child), Some(NOT_ALLOWED), "{event:?}");
    }
    assert_eq!(waiting_names(&s, staff), ["そら", "りく"]);
    s.send_event(staff, ClientEvent::Staff(StaffAction::LetIn(tickets[0])));
    s.send_event(staff, ClientEvent::Staff(StaffAction::TurnAway(tickets[1])));
    s.run(3, TICK);
    let sora_id = s.clients[sora].id().expect("let in, そら is not in");
    assert!(s.clients[child].peers().contains_key(&sora_id), "the room did not see そら come in");
    assert_eq!(s.clients[riku].rejected(), Some(RejectReason::TurnedAway));
    assert!(waiting_names(&s, staff).is_empty());
    // People coming back after a drop never wait.
    let child_id = id(&s, child);
    s.connector.cut(s.clients[child].conn().unwrap());
    s.run(30, TICK);
    assert_eq!(s.clients[child].id(), Some(child_id));
    assert!(s.clients[child].core.in_room(), "a child coming back was made to wait");
    // Facilitators never wait.
    let nurse = s.connect(STAFF_CODE, "せんせい");
    s.run(3, TICK);
    assert!(s.clients[nurse].id().is_some());
    // Turning the waiting room off lets whoever waits in.
    let late = s.connect(ROOM_CODE, "ひかり");
    s.run(3, TICK);
    assert!(s.clients[late].core.waiting());
    s.send_event(nurse, ClientEvent::Staff(StaffAction::SetWaitingRoom(false)));
    s.run(3, TICK);
    assert!(s.clients[late].id().is_some(), "turning the waiting room off left someone waiting");
    assert!(!s.clients[child].core.room().has_waiting_room());
}

#[test]
fn new_invites_keep_everyone_inside_and_the_old_ones_bring_in_nobody_new() {
    let (mut s, staff, child, friend) = meetup();
    let first = s.clients[staff].core.room().invites().cloned().expect("a facilitator is told the invites");
    assert_eq!((first.participant.as_str(), first.facilitator.as_str()), (ROOM_CODE, STAFF_CODE));
    assert!(s.clients[child].core.room().invites().is_none(), "a child was told the codes");
    s.send_event(child, ClientEvent::Staff(StaffAction::NewInvites));
    s.run(2, TICK);
    assert_eq!(last_refusal(&s, child), Some(NOT_ALLOWED));
    assert_eq!(s.server.room().config().code, ROOM_CODE);
    s.send_event(staff, ClientEvent::Staff(StaffAction::NewInvites));
    s.run(3, TICK);
    let new = s.clients[staff].core.room().invites().cloned().unwrap();
    assert!(new.participant != ROOM_CODE && new.facilitator != STAFF_CODE && new.participant != new.facilitator);
    assert_eq!(new.participant.len(), tsunagu_server::CODE_CHARS);
    assert_eq!(s.server.room().len(), 3, "changing the invites removed someone");
    // The old invites bring in nobody new, with either role.
    for code in [ROOM_CODE, STAFF_CODE] {
        let late = s.connect(code, "そら");
        s.run(3, TICK);
        assert_eq!(s.clients[late].rejected(), Some(RejectReason::OldInvite), "{code}");
    }
    // Someone inside whose connection drops comes back with the invite they had.
    let friend_id = id(&s, friend);
    s.connector.cut(s.clients[friend].conn().unwrap());
    s.run(30, TICK);
    assert_eq!(s.clients[friend].id(), Some(friend_id));
    assert!(s.clients[friend].core.in_room(), "the old invite did not bring back someone inside");
    // The new ones work, with their roles.
    let newcomer = s.connect(&new.participant, "そら");
    let volunteer = s.connect(&new.facilitator, "ボランティア");
    s.run(3, TICK);
    assert_eq!(s.clients[newcomer].core.room().me().map(|m| m.role), Some(Role::Participant));
    assert_eq!(s.clients[volunteer].core.room().me().map(|m| m.role), Some(Role::Facilitator));
    assert_eq!(s.clients[volunteer].core.room().invites(), Some(&new), "a facilitator coming in is not told the invites");
}

#[test]
fn the_room_keeps_a_child_from_walking_into_someone_even_from_a_patched_client() {
    use bevy_math::{Quat, Vec3};
    use tsunagu_sim::motion::MIN_BODY_GAP;
    use tsunagu_sim::pose::{to_wire, wire_pos};
    let (mut s, staff, child, _) = meetup();
    let body = |s: &Stepper, who: usize| wire_pos(s.server.room().member(id(s, who)).unwrap().pose.body.pos);
    let nurse = body(&s, staff);
    let pose = |at: Vec3| tsunagu_protocol::AvatarPose {
        body: to_wire(at, Quat::IDENTITY),
        head: to_wire(at + Vec3::Y * 1.15, Quat::IDENTITY),
        hands: None,
    };
    // A client that sends poses straight through the nurse, as a patched one might.
    let start = body(&s, child);
    for n in 0..90 {
        let at = start.lerp(nurse, (n as f32 / 60.0).min(1.0));
        s.send_pose(child, pose(at));
        s.step(TICK);
        assert!(body(&s, child).distance(nurse) >= MIN_BODY_GAP - 0.01, "inside the nurse at step {n}: {:.3} m", body(&s, child).distance(nurse));
    }
    assert!(
        s.clients[child].events.iter().any(|e| matches!(e, RoomEvent::Server(ServerEvent::MovedTo(_)))),
        "the child's client was not told where it stands"
    );
    // Walking away is never stopped.
    let near = body(&s, child);
    let away = near + (near - nurse).normalize() * 1.0;
    for n in 0..30 {
        s.send_pose(child, pose(near.lerp(away, (n as f32 / 20.0).min(1.0))));
        s.step(TICK);
    }
    assert!(body(&s, child).distance(away) < 0.05, "could not walk away: at {} near {near} to {away}", body(&s, child));
}

#[test]
fn a_facilitator_asks_one_headset_to_recentre_and_a_child_cannot() {
    let (mut s, staff, child, friend) = meetup();
    s.send_event(friend, ClientEvent::Staff(StaffAction::AskRecentre(id(&s, child))));
    s.run(2, TICK);
    assert_eq!(last_refusal(&s, friend), Some(NOT_ALLOWED));
    assert!(!s.clients[child].events.contains(&RoomEvent::Server(ServerEvent::Recentre)));
    s.send_event(staff, ClientEvent::Staff(StaffAction::AskRecentre(id(&s, child))));
    s.run(2, TICK);
    assert!(s.clients[child].events.contains(&RoomEvent::Server(ServerEvent::Recentre)), "the child's client was not asked");
    assert!(!s.clients[friend].events.contains(&RoomEvent::Server(ServerEvent::Recentre)), "someone else was asked too");
}
