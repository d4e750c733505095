//! Someone who holds an invite and means mischief: a bored teenager, a friend
//! a child passed the invite to, a patched client. Each test is one attack
//! that worked against the room before, run through the real server and
//! client cores on the stepper's clock, and what now holds.

use tsunagu_client_core::{ClientEnd, RoomEvent};
use tsunagu_net::{Channel, ClientLink, LinkEnd, LinkEvent};
use tsunagu_protocol::StaffAction;
use tsunagu_protocol::limits::{MAX_FRAME_BYTES, MAX_REMOVED};
use tsunagu_protocol::{
    ClientControl, ClientEvent, CloseReason, ConcernKind, EventKind, Gesture, Paper, PeerId, Refusal, RefusalReason, RejectReason, Role, Stamp,
    WaitingHint, encode,
};

use super::*;
use tsunagu_protocol::ServerEvent;

fn id(s: &Stepper, index: usize) -> PeerId {
    s.clients[index].id().expect("joined")
}

fn refusals(s: &Stepper, index: usize) -> Vec<Refusal> {
    s.clients[index].events.iter().filter_map(|e| if let RoomEvent::Server(ServerEvent::Refused(r)) = e { Some(*r) } else { None }).collect()
}

fn chats_heard(s: &Stepper, index: usize) -> usize {
    s.clients[index].events.iter().filter(|e| matches!(e, RoomEvent::Server(ServerEvent::Chat(..)))).count()
}

const NOT_ALLOWED: Refusal = Refusal { kind: EventKind::Facilitate, reason: RefusalReason::NotAllowed };

/// Attack 1: a child made staff learned the facilitator code and kept it.
#[test]
fn a_child_made_staff_never_holds_the_staff_key_and_loses_every_power_when_made_a_participant() {
    let mut s = Stepper::new(8);
    let nurse = s.connect(STAFF_CODE, "かんごし");
    let teen = s.connect_at(ROOM_CODE, "はると", 77, 0);
    let child = s.connect(ROOM_CODE, "ひなた");
    s.run(3, TICK);
    s.send_event(nurse, ClientEvent::Staff(StaffAction::SetRole(id(&s, teen), Role::Facilitator)));
    s.run(3, TICK);
    let told = s.clients[teen].core.room().invites().cloned().expect("made staff, they are told the participant invite");
    assert_eq!(told.participant, ROOM_CODE);
    assert!(told.facilitator.is_empty(), "a child made staff was sent the facilitator code: {told:?}");
    assert_eq!(s.clients[nurse].core.room().invites().map(|c| c.facilitator.as_str()), Some(STAFF_CODE));
    // Made staff, they look after children; they cannot touch the nurse or the room's keys.
    let nurse_id = id(&s, nurse);
    for event in [
        ClientEvent::Staff(StaffAction::Remove(nurse_id)),
        ClientEvent::Staff(StaffAction::Mute(nurse_id, true)),
        ClientEvent::Staff(StaffAction::SetRole(nurse_id, Role::Participant)),
        ClientEvent::Staff(StaffAction::SetRole(id(&s, child), Role::Facilitator)),
        ClientEvent::Staff(StaffAction::NewInvites),
        ClientEvent::Staff(StaffAction::EndMeetup),
    ] {
        s.send_event(teen, event.clone());
        s.run(2, TICK);
        assert_eq!(refusals(&s, teen).last(), Some(&NOT_ALLOWED), "{event:?} was allowed");
    }
    assert_eq!(s.server.room().len(), 3);
    assert!(!s.server.room().member(nurse_id).unwrap().info.muted);
    s.send_event(teen, ClientEvent::Staff(StaffAction::Mute(id(&s, child), true)));
    s.run(2, TICK);
    assert!(s.server.room().member(id(&s, child)).unwrap().info.muted, "staff may quiet a participant");
    s.send_event(nurse, ClientEvent::Staff(StaffAction::Mute(id(&s, child), false)));
    // A second connection from the same PC, made staff too, then the nurse makes the first a participant: both are.
    let second = s.connect_at(ROOM_CODE, "はると2", 77, 0);
    s.run(3, TICK);
    s.send_event(nurse, ClientEvent::Staff(StaffAction::SetRole(id(&s, second), Role::Facilitator)));
    s.run(2, TICK);
    s.send_event(nurse, ClientEvent::Staff(StaffAction::SetRole(id(&s, teen), Role::Participant)));
    s.run(3, TICK);
    for index in [teen, second] {
        assert_eq!(s.server.room().member(id(&s, index)).unwrap().info.role, Role::Participant, "client {index} kept its powers");
    }
    s.send_event(second, ClientEvent::Staff(StaffAction::Mute(id(&s, child), true)));
    s.run(2, TICK);
    assert_eq!(refusals(&s, second).last(), Some(&NOT_ALLOWED));
    // Coming back with every code they were ever told: a participant.
    let again = s.connect_at(&told.participant, "はると3", 78, 0);
    s.run(3, TICK);
    assert_eq!(s.server.room().member(id(&s, again)).unwrap().info.role, Role::Participant);
}

/// Attack 2: joining and dropping twenty times in a second from one address
/// filled the room with kept places nobody could see or clear.
#[test]
fn ghost_seats_from_one_address_cannot_fill_the_room_and_staff_always_get_in() {
    let mut s = Stepper::new(8);
    let nurse = s.connect(STAFF_CODE, "かんごし");
    s.run(2, TICK);
    const ATTACKER: u64 = 0xbad;
    // A patched client: Hello, then gone without a goodbye, never to return.
    for n in 0..20u64 {
        let mut link = s.connector.connect_from(ATTACKER);
        let hello = Hello::new(ROOM_CODE, &format!("おばけ{n}"), AvatarLook::with_color([9, 9, 9])).from_device(5000 + n);
        link.send(Channel::Control, encode(&ClientControl::Hello(hello), MAX_FRAME_BYTES).expect("encodes"));
        s.step(TICK);
        s.connector.cut(link.id());
        s.step(TICK);
    }
    s.run(2, TICK);
    assert!(s.server.room().places_kept() <= tsunagu_room::KEPT_PER_ADDRESS, "{} places kept for one address", s.server.room().places_kept());
    let kept = s.clients[nurse]
        .events
        .iter()
        .rev()
        .find_map(|e| if let RoomEvent::Server(ServerEvent::KeptPlaces(p)) = e { Some(p.clone()) } else { None })
        .expect("the nurse sees kept places");
    assert_eq!(kept.len(), s.server.room().places_kept());
    // The nurse can clear one.
    s.send_event(nurse, ClientEvent::Staff(StaffAction::ReleasePlace(kept[0].id)));
    s.run(2, TICK);
    assert_eq!(s.server.room().places_kept(), kept.len() - 1);
    // Seven children from seven homes fill the room; each gets in.
    let children: Vec<usize> = (0..7).map(|n| s.connect(ROOM_CODE, &format!("こども{n}"))).collect();
    s.run(3, TICK);
    for child in &children {
        assert!(s.clients[*child].id().is_some(), "a child was kept out: {:?}", s.clients[*child].rejected());
    }
    // The room is full of participants, and a second nurse still comes in.
    let late = s.connect(ROOM_CODE, "おそいこ");
    let nurse2 = s.connect(STAFF_CODE, "せんせい");
    s.run(3, TICK);
    assert_eq!(s.clients[late].rejected(), Some(RejectReason::RoomFull));
    assert!(s.clients[nurse2].id().is_some(), "staff were refused for a full room");
}

/// Attack 3: a muted child restarted and came back unmuted, and chat,
/// stamps and wishes went on while muted.
#[test]
fn a_quieted_child_stays_quiet_through_a_restart_in_everything_they_could_send() {
    let mut s = Stepper::new(8);
    const WARD: u64 = 0x3a7d;
    let nurse = s.connect(STAFF_CODE, "かんごし");
    let loud = s.connect_at(ROOM_CODE, "そうた", 21, WARD);
    let friend = s.connect_at(ROOM_CODE, "あおい", 22, WARD);
    s.run(3, TICK);
    s.send_event(nurse, ClientEvent::Staff(StaffAction::Mute(id(&s, loud), true)));
    s.run(2, TICK);
    let heard_before = chats_heard(&s, friend);
    for event in [
        ClientEvent::Chat("うるさい".into()),
        ClientEvent::Stamp(Stamp::Heart),
        ClientEvent::Gesture(Gesture::Wave),
        ClientEvent::HangWish(Paper::Red, "ねがい".into()),
    ] {
        s.send_event(loud, event);
    }
    s.run(3, TICK);
    let quiet: Vec<EventKind> = refusals(&s, loud).iter().filter(|r| r.reason == RefusalReason::Quieted).map(|r| r.kind).collect();
    assert_eq!(quiet, vec![EventKind::Chat, EventKind::Stamp, EventKind::Gesture, EventKind::HangWish]);
    assert_eq!(chats_heard(&s, friend), heard_before);
    assert!(!s.clients[friend].events.iter().any(|e| matches!(
        e,
        RoomEvent::Server(ServerEvent::Stamp(..)) | RoomEvent::Server(ServerEvent::Gesture(..)) | RoomEvent::Server(ServerEvent::WishHung(_))
    )));
    // Their friend on the same ward network is not quieted.
    s.send_event(friend, ClientEvent::Chat("やあ".into()));
    s.run(2, TICK);
    assert_eq!(chats_heard(&s, loud), 1);
    // Restarting with a fresh settings file (a new installation number), the same name: still quiet.
    s.leave(loud);
    s.run(2, TICK);
    let again = s.connect_at(ROOM_CODE, "そうた", 99, WARD);
    s.run(3, TICK);
    assert!(s.server.room().member(id(&s, again)).unwrap().info.muted, "a restart undid the quiet");
    s.send_event(nurse, ClientEvent::Staff(StaffAction::Mute(id(&s, again), false)));
    s.run(2, TICK);
    s.send_event(again, ClientEvent::Chat("ごめんね".into()));
    s.run(2, TICK);
    assert_eq!(chats_heard(&s, friend), heard_before + 2, "after the quiet ends they are heard again");
}

/// Attack 3, removal: keyed on a number the client chooses; deleting the
/// settings gave a new one.
#[test]
fn a_removed_child_stays_out_with_a_fresh_settings_file_and_a_new_name_waits_for_staff() {
    let mut s = Stepper::new(8);
    const HOME: u64 = 0x40e;
    let nurse = s.connect(STAFF_CODE, "かんごし");
    let rogue = s.connect_at(ROOM_CODE, "ゆうと", 31, HOME);
    s.run(3, TICK);
    s.send_event(rogue, ClientEvent::HangWish(Paper::Blue, "いたずら".into()));
    s.run(2, TICK);
    assert_eq!(s.server.room().play().wishes().len(), 1);
    s.send_event(nurse, ClientEvent::Staff(StaffAction::Remove(id(&s, rogue))));
    s.run(3, TICK);
    assert!(s.server.room().play().wishes().is_empty(), "a removed person's wish stayed up");
    assert!(s.clients[nurse].events.contains(&RoomEvent::Server(ServerEvent::WaitingRoom(true))));
    // Fresh settings (a new number), same name and network: refused.
    let again = s.connect_at(ROOM_CODE, "ユウト", 32, HOME);
    s.run(3, TICK);
    assert_eq!(s.clients[again].rejected(), Some(RejectReason::Removed));
    // A new name too: they wait, and the nurse is told where they come from.
    let renamed = s.connect_at(ROOM_CODE, "べつじん", 33, HOME);
    // A patched client without a number, from elsewhere: it waits too.
    let unnumbered = s.connect_at(ROOM_CODE, "だれか", 0, 0x51de);
    s.run(3, TICK);
    for index in [renamed, unnumbered] {
        assert!(s.clients[index].events.contains(&RoomEvent::Waiting), "client {index} came straight in");
    }
    let hints: Vec<WaitingHint> = s.clients[nurse].core.room().waiting().iter().map(|w| w.hint).collect();
    assert_eq!(hints, vec![WaitingHint::SameNetworkAsRemoved, WaitingHint::NoInstallation]);
}

/// Attack 4: a waiting connection that sent a second, malformed Hello stayed
/// on the list for good; any number could wait from one address.
#[test]
fn the_waiting_room_cannot_be_jammed() {
    let mut s = Stepper::new(32);
    let nurse = s.connect(STAFF_CODE, "かんごし");
    s.run(2, TICK);
    s.send_event(nurse, ClientEvent::Staff(StaffAction::SetWaitingRoom(true)));
    s.run(2, TICK);
    // Phantoms: wait, then send another Hello of another version.
    for n in 0..3 {
        let mut link = s.connector.connect_from(0xf00 + n);
        let hello = Hello::new(ROOM_CODE, &format!("まぼろし{n}"), AvatarLook::with_color([1, 2, 3]));
        link.send(Channel::Control, encode(&ClientControl::Hello(hello.clone()), MAX_FRAME_BYTES).expect("encodes"));
        s.run(2, TICK);
        let mut second = hello;
        second.version = 7;
        link.send(Channel::Control, encode(&ClientControl::Hello(second), MAX_FRAME_BYTES).expect("encodes"));
        s.run(2, TICK);
        let ended = std::iter::from_fn(|| link.try_recv()).any(|e| matches!(e, LinkEvent::Closed(_)));
        assert!(ended, "the phantom was not closed");
    }
    assert!(s.clients[nurse].core.room().waiting().is_empty(), "phantoms stayed on the waiting list: {:?}", s.clients[nurse].core.room().waiting());
    // One address may have only a few waiting at once; another address is not affected.
    let from_one: Vec<usize> = (0..6).map(|n| s.connect_at(ROOM_CODE, &format!("おなじ{n}"), 700 + n as u64, 0xabc)).collect();
    let other = s.connect(ROOM_CODE, "ほんもの");
    s.run(3, TICK);
    let waiting = from_one.iter().filter(|i| s.clients[**i].events.contains(&RoomEvent::Waiting)).count();
    assert_eq!(waiting, tsunagu_room::WAITING_PER_ADDRESS);
    assert!(s.clients[other].events.contains(&RoomEvent::Waiting));
    // A second "ほんもの" cannot copy the name of someone waiting.
    let copy = s.connect(ROOM_CODE, "ホンモノ");
    s.run(3, TICK);
    assert_eq!(s.clients[copy].rejected(), Some(RejectReason::NameTaken));
    // The meetup ends: nobody waiting is let in, then or later.
    s.send_event(nurse, ClientEvent::Staff(StaffAction::EndMeetup));
    s.run(3, TICK);
    s.run(70 * 30, TICK);
    assert!(s.clients[other].id().is_none(), "let in after the meetup ended");
    assert_eq!(s.clients[other].ended(), Some(ClientEnd::Closed(LinkEnd::Reason(CloseReason::MeetupEnded))));
    assert!(s.server.room().is_empty());
}

/// Attack 5: removing bots grew the removed list past what a client takes,
/// and every facilitator's client was closed on arrival.
#[test]
fn the_removed_list_stays_bounded_and_always_reaches_the_staff() {
    let mut s = Stepper::new(64);
    let nurse = s.connect(STAFF_CODE, "かんごし");
    s.run(2, TICK);
    let long = "あ".repeat(20);
    for n in 0..MAX_REMOVED + 6 {
        let bot = s.connect(ROOM_CODE, &format!("{long}{n:03}"));
        s.run(2, TICK);
        s.send_event(nurse, ClientEvent::Staff(StaffAction::Remove(id(&s, bot))));
        // Each removal turns the waiting room on; the nurse turns it off
        // (her allowance for staff actions: two a second).
        s.send_event(nurse, ClientEvent::Staff(StaffAction::SetWaitingRoom(false)));
        s.run(31, TICK);
    }
    assert!(s.clients[nurse].core.in_room(), "the nurse was closed: {:?}", s.clients[nurse].ended());
    assert_eq!(s.clients[nurse].core.room().removed().len(), MAX_REMOVED);
    // A facilitator arriving now is briefed with the whole list, and stays.
    let late = s.connect(STAFF_CODE, "せんせい");
    s.run(3, TICK);
    assert!(s.clients[late].core.in_room());
    assert_eq!(s.clients[late].core.room().removed().len(), MAX_REMOVED);
}

/// Attack 7: names that pose as staff or as another child.
#[test]
fn names_that_look_like_staff_or_like_another_child_are_refused_kindly() {
    let mut s = Stepper::new(8);
    let sakura = s.connect(ROOM_CODE, "さくら");
    s.run(2, TICK);
    let cases = [
        ("サクラ", RejectReason::NameTaken),
        ("ｻｸﾗ", RejectReason::NameTaken),
        ("ナース", RejectReason::NameReserved),
        ("ｽﾀｯﾌ", RejectReason::NameReserved),
        ("やまだ先生", RejectReason::NameReserved),
        ("Nurѕe", RejectReason::NameReserved),
        ("\u{3164}", RejectReason::InvalidNickname),
        ("\u{2800}\u{2800}", RejectReason::InvalidNickname),
        ("ゆ\u{34f}き", RejectReason::InvalidNickname),
    ];
    for (name, reason) in cases {
        let who = s.connect(ROOM_CODE, name);
        s.run(2, TICK);
        assert_eq!(s.clients[who].rejected(), Some(reason), "{name:?}");
    }
    assert_eq!(s.server.room().len(), 1);
    assert!(s.clients[sakura].core.in_room());
    // With the facilitator invite a staff name is what it should be.
    let nurse = s.connect(STAFF_CODE, "ナースのみか");
    s.run(2, TICK);
    assert!(s.clients[nurse].id().is_some());
}

/// Attack 8: rejoining refilled the three-wish limit; staff could not take
/// down one person's wishes at once.
#[test]
fn wishes_are_limited_per_installation_and_staff_take_down_one_persons_at_once() {
    let mut s = Stepper::new(8);
    let nurse = s.connect(STAFF_CODE, "かんごし");
    let child = s.connect_from(ROOM_CODE, "めい", 41);
    s.run(3, TICK);
    for n in 0..3 {
        s.send_event(child, ClientEvent::HangWish(Paper::White, format!("ねがい{n}")));
        s.run(31, TICK);
    }
    s.leave(child);
    s.run(2, TICK);
    let again = s.connect_from(ROOM_CODE, "めい", 41);
    s.run(3, TICK);
    s.send_event(again, ClientEvent::HangWish(Paper::White, "よっつめ".into()));
    s.run(3, TICK);
    assert_eq!(refusals(&s, again).last(), Some(&Refusal { kind: EventKind::HangWish, reason: RefusalReason::NoSpace }));
    assert_eq!(s.server.room().play().wishes().len(), 3);
    let writer = s.server.room().play().wishes()[0].by;
    s.send_event(nurse, ClientEvent::Staff(StaffAction::TakeDownWishesOf(writer)));
    s.run(3, TICK);
    assert!(s.server.room().play().wishes().is_empty());
    assert_eq!(s.clients[again].events.iter().filter(|e| matches!(e, RoomEvent::Server(ServerEvent::WishTakenDown(_)))).count(), 3);
}

/// Telling the staff, quietly: only facilitators hear of it.
#[test]
fn a_child_tells_the_staff_quietly_and_only_the_staff_hear() {
    let mut s = Stepper::new(8);
    let nurse = s.connect(STAFF_CODE, "かんごし");
    let child = s.connect(ROOM_CODE, "りく");
    let other = s.connect(ROOM_CODE, "いたずらっこ");
    s.run(3, TICK);
    s.send_event(child, ClientEvent::TellStaff(id(&s, other), ConcernKind::TooClose));
    s.run(2, TICK);
    let concern = s.clients[nurse].events.iter().find_map(|e| if let RoomEvent::Server(ServerEvent::Concern(c)) = e { Some(*c) } else { None });
    assert_eq!(concern.map(|c| (c.from, c.about, c.kind)), Some((id(&s, child), id(&s, other), ConcernKind::TooClose)));
    for index in [child, other] {
        assert!(!s.clients[index].events.iter().any(|e| matches!(e, RoomEvent::Server(ServerEvent::Concern(_)))), "client {index} heard of it");
    }
}

/// Attack 9 (play): a held thing followed a hand that jumped metres, and
/// nobody could take the ball back from someone who held it forever.
#[test]
fn staff_put_everything_back_and_a_ball_held_still_for_a_minute_is_put_down() {
    use crate::play_tests::{BALL, by_the_ball, walk};
    let mut s = Stepper::new(8);
    let nurse = s.connect(STAFF_CODE, "かんごし");
    let holder = s.connect(ROOM_CODE, "ずっともつ");
    s.run(3, TICK);
    walk(&mut s, &[(holder, by_the_ball(), bevy_math::Vec3::NEG_Z)]);
    s.send_event(holder, ClientEvent::Grab(BALL));
    s.run(10, TICK);
    assert_eq!(s.server.room().play().holder(BALL), Some(id(&s, holder)));
    s.send_event(nurse, ClientEvent::Staff(StaffAction::PutThingsBack));
    s.run(3, TICK);
    assert_eq!(s.server.room().play().holder(BALL), None);
    assert!(s.clients[holder].events.contains(&RoomEvent::Server(ServerEvent::Released(BALL))));
    // Held again, and not moved for a minute: put down.
    s.send_event(holder, ClientEvent::Grab(BALL));
    s.run(10, TICK);
    assert_eq!(s.server.room().play().holder(BALL), Some(id(&s, holder)));
    s.run(tsunagu_room::play::STILL_HOLD_TICKS as usize + 5, TICK);
    assert_eq!(s.server.room().play().holder(BALL), None, "held still for over a minute and kept");
}

/// Attack 9 (data): new invites were written on the room's own thread, and a
/// failed save was only logged. A slow disk must not stop the room, and the
/// nurse must see that the new invites were not kept.
#[test]
fn new_invites_are_kept_off_the_room_thread_and_a_failed_save_is_shown_to_the_staff() {
    use std::sync::mpsc;
    let mut s = Stepper::new(8);
    let (release, wait) = mpsc::channel::<()>();
    // A disk that takes until the test says so, then is full.
    s.server.set_codes_saver(Box::new(move |_| {
        let _ = wait.recv_timeout(std::time::Duration::from_secs(10));
        Err("no space left on the device".into())
    }));
    let nurse = s.connect(STAFF_CODE, "かんごし");
    let child = s.connect(ROOM_CODE, "ひなた");
    s.run(3, TICK);
    s.send_event(nurse, ClientEvent::Staff(StaffAction::NewInvites));
    s.send_event(nurse, ClientEvent::Staff(StaffAction::NewInvites));
    // While the save hangs, the room goes on: a chat line still arrives.
    let started = std::time::Instant::now();
    s.run(3, TICK);
    s.send_event(child, ClientEvent::Chat("まだ いる？".into()));
    s.run(3, TICK);
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "the room waited for the disk");
    assert_eq!(chats_heard(&s, nurse), 1);
    release.send(()).expect("the saver waits");
    let notice = RoomEvent::Server(ServerEvent::StaffNotice(tsunagu_protocol::StaffNotice::InvitesNotSaved));
    for _ in 0..200 {
        if s.clients[nurse].events.contains(&notice) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        s.step(TICK);
    }
    assert!(s.clients[nurse].events.contains(&notice), "the nurse was not told the invites were not kept");
    assert!(!s.clients[child].events.contains(&notice), "a child was told");
}

/// The waiting list at its limit: 32 wait, more are refused, and the list
/// (with the longest names) still reaches the nurse, who stays in.
#[test]
fn the_waiting_list_stays_bounded_and_always_reaches_the_staff() {
    use tsunagu_protocol::limits::MAX_WAITING;
    let mut s = Stepper::new(64);
    let nurse = s.connect(STAFF_CODE, "かんごし");
    s.run(2, TICK);
    s.send_event(nurse, ClientEvent::Staff(StaffAction::SetWaitingRoom(true)));
    s.run(2, TICK);
    let long = "い".repeat(20);
    let comers: Vec<usize> = (0..MAX_WAITING + 8).map(|n| s.connect(ROOM_CODE, &format!("{long}{n:03}"))).collect();
    s.run(4, TICK);
    let waiting = comers.iter().filter(|i| s.clients[**i].events.contains(&RoomEvent::Waiting)).count();
    let refused = comers.iter().filter(|i| s.clients[**i].rejected() == Some(RejectReason::RoomFull)).count();
    assert_eq!((waiting, refused), (MAX_WAITING, 8));
    assert!(s.clients[nurse].core.in_room());
    assert_eq!(s.clients[nurse].core.room().waiting().len(), MAX_WAITING);
}
