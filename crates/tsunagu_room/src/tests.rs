//! The room's rules, one at a time, without a server.
use super::*;
use bevy_math::Vec3;
use tsunagu_protocol::{ClientEvent, PROTOCOL_VERSION, PoseFrame, Refusal, RefusalReason, RejectReason};
use tsunagu_sim::motion::MAX_SPEED;
use tsunagu_sim::pose::{from_wire, to_wire};

fn room(capacity: usize) -> Room {
    Room::new(RoomConfig { code: "sakura".into(), facilitator_code: "sakura-staff".into(), capacity })
}

fn hello(code: &str, name: &str) -> Hello {
    Hello::new(code, name, DEFAULT_LOOK)
}

#[test]
fn admission_rules() {
    let mut room = room(2);
    let t = Duration::ZERO;
    assert_eq!(room.admit(&hello("nope", "a"), 0, t, 7).err(), Some(RejectReason::WrongRoomCode));
    let mut old = hello("sakura", "a");
    old.version = 0;
    assert_eq!(room.admit(&old, 0, t, 1).err(), Some(RejectReason::VersionMismatch { server_version: PROTOCOL_VERSION }));
    assert_eq!(room.admit(&hello("sakura", "  "), 0, t, 7).err(), Some(RejectReason::InvalidNickname));
    assert_eq!(room.admit(&hello("sakura", "ゆき"), 0, t, 7).unwrap().0.info.role, Role::Participant);
    assert_eq!(room.admit(&hello("Sakura-STAFF", "先生"), 0, t, 7).unwrap().0.info.role, Role::Facilitator, "codes ignore case");
    assert_eq!(room.admit(&hello("sakura", "c"), 0, t, 7).err(), Some(RejectReason::RoomFull));
    assert_eq!(room.len(), 2);
}

#[test]
fn poses_are_bounded_and_ordered() {
    let mut room = room(4);
    let id = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 7).unwrap().0.info.id;
    let start = from_wire(room.member(id).unwrap().pose.body).0;
    let far = to_wire(Vec3::new(6.0, 0.0, -4.0), bevy_math::Quat::IDENTITY);
    let frame = |seq| PoseFrame { seq, ack_tick: 0, pose: AvatarPose { body: far, head: far, hands: None } };
    let outcome = room.accept_pose(id, &frame(5), Duration::from_millis(33));
    let moved = from_wire(room.member(id).unwrap().pose.body).0;
    assert!((moved - start).length() < 0.2, "a teleport was accepted: {start} -> {moved}");
    assert_eq!(outcome, PoseOutcome::Corrected(room.member(id).unwrap().pose.body), "the client was not told where it stands");
    // The head came along with the body instead of staying where it was sent.
    let head = from_wire(room.member(id).unwrap().pose.head).0;
    assert!((head - moved).length() < 0.01, "head left behind at {head}, body at {moved}");
    assert_eq!(room.accept_pose(id, &frame(6), Duration::from_millis(66)), PoseOutcome::Accepted, "corrected again too soon");
    assert_eq!(room.accept_pose(id, &frame(4), Duration::from_millis(99)), PoseOutcome::Ignored, "an older frame was used");
    assert_eq!(room.accept_pose(PeerId(99), &frame(7), Duration::from_millis(99)), PoseOutcome::Ignored);
    assert!(seq_is_newer(0, u32::MAX));
}

#[test]
fn a_dropped_member_comes_back_where_they_were() {
    let mut room = room(4);
    let id = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 41).unwrap().0.info.id;
    let spot = to_wire(Vec3::new(0.3, 0.0, 1.5), bevy_math::Quat::IDENTITY);
    let frame = PoseFrame { seq: 1, ack_tick: 0, pose: AvatarPose { body: spot, head: spot, hands: None } };
    assert_eq!(room.accept_pose(id, &frame, Duration::from_secs(1)), PoseOutcome::Accepted);
    let was = room.member(id).unwrap().pose.body;
    assert!(room.depart(id, Duration::from_secs(2)));
    let mut back = hello("sakura", "a");
    back.resume = Some(41);
    let (back_id, back_pose) = room.admit(&back, 0, Duration::from_secs(5), 42).map(|(m, _)| (m.info.id, m.pose.body)).unwrap();
    assert_eq!(back_pose, was);
    assert_eq!(back_id, id, "a returning member keeps their id");
    // A token works once, and not after the window.
    assert!(room.depart(back_id, Duration::from_secs(6)));
    room.expire_departed(Duration::from_secs(6) + RESUME_WINDOW + Duration::from_secs(1));
    back.resume = Some(42);
    assert_ne!(room.admit(&back, 0, Duration::from_secs(500), 43).unwrap().0.pose.body, was);
}

#[test]
fn nobody_sees_themselves() {
    let mut room = room(4);
    let a = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 7).unwrap().0.info.id;
    let b = room.admit(&hello("sakura", "b"), 0, Duration::ZERO, 7).unwrap().0.info.id;
    let seen: Vec<_> = room.visible_to(a).iter().map(|s| s.id).collect();
    assert_eq!(seen, vec![b]);
    assert_ne!(room.member(a).unwrap().pose.body, room.member(b).unwrap().pose.body, "two people spawned on one spot");
}

#[test]
fn a_kept_place_comes_back_into_a_full_room_until_a_newcomer_needs_the_seat() {
    let mut room = room(2);
    let t = Duration::ZERO;
    let a = room.admit(&hello("sakura", "a"), 0, t, 100).unwrap().0.info.id;
    room.admit(&hello("sakura", "b"), 0, t, 200).unwrap();
    assert!(room.depart(a, t));
    let mut back = hello("sakura", "a");
    back.resume = Some(100);
    let (member, how) = room.admit(&back, 0, t, 101).unwrap();
    assert_eq!((member.info.id, how), (a, Admission::Returned));
    assert_eq!(room.len(), 2);
    // Dropped again: a newcomer takes the seat rather than being refused,
    // and the kept place goes (the staff are told).
    assert!(room.depart(a, t));
    assert!(matches!(room.take_kept_change(), Some(ServerEvent::KeptPlaces(places)) if places.len() == 1));
    room.admit(&hello("sakura", "c"), 0, t, 300).expect("a newcomer is not kept out by a kept place");
    assert_eq!(room.places_kept(), 0);
    assert!(matches!(room.take_kept_change(), Some(ServerEvent::KeptPlaces(places)) if places.is_empty()));
    back.resume = Some(101);
    assert_eq!(room.admit(&back, 0, t, 102).err(), Some(RejectReason::RoomFull), "the room is full of people now");
}

#[test]
fn a_member_still_here_is_replaced_not_doubled_even_when_full() {
    let mut room = room(2);
    let t = Duration::ZERO;
    let (a, spawn) = room.admit(&hello("sakura", "a"), 0, t, 100).map(|(m, _)| (m.info.id, m.pose)).unwrap();
    room.admit(&hello("sakura", "b"), 0, t, 200).unwrap();
    let mut back = hello("sakura", "a");
    back.resume = Some(100);
    // With the facilitator code the same token does not work: no role change by resume.
    back.room_code = "sakura-staff".into();
    assert!(room.admit(&back, 0, t, 102).is_err(), "a participant's token came back as staff");
    assert_eq!(room.member(a).unwrap().info.role, Role::Participant);
    back.room_code = "sakura".into();
    let (member, how) = room.admit(&back, 0, t, 101).unwrap();
    assert_eq!((member.info.id, member.pose, how), (a, spawn, Admission::Replaced));
    assert_eq!(room.len(), 2);
    assert_eq!(room.member(a).unwrap().resume, 101, "a token works once");
}

#[test]
fn events_follow_the_rules_and_their_limits() {
    let mut room = room(4);
    let a = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 1).unwrap().0.info.id;
    let look = AvatarLook::with_color([1, 2, 3]);
    let event = ClientEvent::SetLook(look);
    let changed = room.apply_event(a, &event, Duration::ZERO).unwrap();
    assert!(matches!(&changed[..], [(Audience::Everyone, ServerEvent::PeerChanged(info))] if info.id == a && info.look == look));
    let burst = limits::limit(tsunagu_protocol::EventKind::SetLook).burst;
    let refused = (0..burst + 5).filter(|_| room.apply_event(a, &event, Duration::from_millis(10)).is_err()).count();
    assert_eq!(refused as u32, 5 + 1, "the burst allows {burst} at once");
    assert_eq!(
        room.apply_event(a, &event, Duration::from_millis(20)),
        Err(Refusal { kind: tsunagu_protocol::EventKind::SetLook, reason: RefusalReason::TooFast })
    );
    assert!(room.apply_event(a, &event, Duration::from_secs(5)).is_ok(), "the limit refills");
    assert_eq!(
        room.apply_event(PeerId(99), &event, Duration::ZERO).map(|_| ()),
        Err(Refusal { kind: event.kind(), reason: RefusalReason::NotAllowed })
    );
}

#[test]
fn expression_reaches_everyone_as_the_room_keeps_it() {
    use tsunagu_protocol::{EventKind, Gesture, Stamp};
    let mut room = room(4);
    let a = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 1).unwrap().0.info.id;
    let t = Duration::from_secs(1);
    let to_all = |event| Ok(vec![(Audience::Everyone, event)]);
    assert_eq!(room.apply_event(a, &ClientEvent::Gesture(Gesture::Wave), t), to_all(ServerEvent::Gesture(a, Gesture::Wave)));
    assert_eq!(room.apply_event(a, &ClientEvent::Stamp(Stamp::Thanks), t), to_all(ServerEvent::Stamp(a, Stamp::Thanks)));
    // A raised hand is state: newcomers see it in the member's info.
    assert!(
        matches!(room.apply_event(a, &ClientEvent::RaiseHand(true), t).as_deref(), Ok([(_, ServerEvent::PeerChanged(info))]) if info.hand_raised)
    );
    assert!(room.member(a).unwrap().info.hand_raised);
    // So is resting (the lamp): everyone's info says it, kept for newcomers, and it goes off again.
    assert!(
        matches!(room.apply_event(a, &ClientEvent::Resting(true), t).as_deref(), Ok([(Audience::Everyone, ServerEvent::PeerChanged(info))]) if info.resting)
    );
    assert!(room.member(a).unwrap().info.resting, "the lamp is not kept for newcomers");
    assert!(matches!(room.apply_event(a, &ClientEvent::Resting(false), t).as_deref(), Ok([(_, ServerEvent::PeerChanged(info))]) if !info.resting));
    // And speak-for-me: everyone's PC learns to read this person's lines aloud.
    assert!(
        matches!(room.apply_event(a, &ClientEvent::SpeakForMe(true), t).as_deref(), Ok([(Audience::Everyone, ServerEvent::PeerChanged(info))]) if info.speak_for_me)
    );
    assert!(room.member(a).unwrap().info.speak_for_me, "speak-for-me is not kept for newcomers");
    let flapped = (0..10).filter(|i| room.apply_event(a, &ClientEvent::Resting(i % 2 == 0), t).is_ok()).count();
    assert_eq!(flapped as u32, limits::limit(EventKind::Resting).burst - 2, "a flapping lamp is not limited");
    // Chat is normalized, and refused with a reason a person can read.
    assert_eq!(room.apply_event(a, &ClientEvent::Chat("\u{3000}やあ ".into()), t), to_all(ServerEvent::Chat(a, "やあ".into())));
    let refused = |reason| Err(Refusal { kind: EventKind::Chat, reason });
    let long = "あ".repeat(tsunagu_protocol::limits::MAX_CHAT_CHARS + 1);
    assert_eq!(room.apply_event(a, &ClientEvent::Chat(long), t), refused(RefusalReason::TooLong));
    assert_eq!(room.apply_event(a, &ClientEvent::Chat("a\u{202e}b".into()), t + Duration::from_secs(2)), refused(RefusalReason::TextNotAllowed));
    // Each kind has its own limit: a flood of stamps does not stop a wave.
    let later = Duration::from_secs(10);
    let stamps = (0..20).filter(|_| room.apply_event(a, &ClientEvent::Stamp(Stamp::Heart), later).is_ok()).count();
    assert_eq!(stamps as u32, limits::limit(EventKind::Stamp).burst);
    assert!(room.apply_event(a, &ClientEvent::Gesture(Gesture::Clap), later).is_ok());
    let chats = (0..10).filter(|_| room.apply_event(a, &ClientEvent::Chat("こんにちは".into()), later).is_ok()).count();
    assert_eq!(chats as u32, limits::limit(EventKind::Chat).burst);
}

/// Many small steps at once (120 poses a second, or several drained with one
/// `now`) used to get 5 cm of slack each: about 8.5 m/s. Now the stride is
/// time-based: at most walking's top speed, however the poses come.
#[test]
fn the_speed_limit_holds_however_many_poses_come() {
    let mut room = room(4);
    let id = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 1).unwrap().0.info.id;
    let start = from_wire(room.member(id).unwrap().pose.body).0;
    let dir = Vec3::new(1.0, 0.0, 0.0);
    let mut seq = 0;
    let mut walked_to = start;
    // One second: 120 poses, 4 at a time with the same `now`, each 5 cm on.
    for tick in 1..=30u64 {
        let now = Duration::from_millis(tick * 1000 / 30);
        for _ in 0..4 {
            seq += 1;
            walked_to += dir * 0.05;
            let pose =
                AvatarPose { body: to_wire(walked_to, bevy_math::Quat::IDENTITY), head: to_wire(walked_to, bevy_math::Quat::IDENTITY), hands: None };
            room.accept_pose(id, &PoseFrame { seq, ack_tick: 0, pose }, now);
        }
    }
    let moved = (from_wire(room.member(id).unwrap().pose.body).0 - start).length();
    assert!(moved <= MAX_SPEED + limits::STRIDE_SLACK + 1e-3, "moved {moved} m in one second");
    assert!(moved > 2.0, "an honest fast walk was held back: {moved} m");
}

#[test]
fn after_a_silence_nobody_jumps_across_the_room() {
    let mut room = room(4);
    let id = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 1).unwrap().0.info.id;
    let start = from_wire(room.member(id).unwrap().pose.body).0;
    let far = start + Vec3::new(-4.0, 0.0, 0.0);
    let pose = AvatarPose { body: to_wire(far, bevy_math::Quat::IDENTITY), head: to_wire(far, bevy_math::Quat::IDENTITY), hands: None };
    room.accept_pose(id, &PoseFrame { seq: 1, ack_tick: 0, pose }, Duration::from_secs(10));
    let moved = (from_wire(room.member(id).unwrap().pose.body).0 - start).length();
    let most = MAX_SPEED * limits::MAX_STRIDE_TIME.as_secs_f32() + limits::STRIDE_SLACK;
    assert!(moved <= most + 1e-3, "jumped {moved} m after 10 s of silence");
}

#[test]
fn no_more_poses_than_the_room_uses_in_a_second() {
    let mut room = room(4);
    let id = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 1).unwrap().0.info.id;
    let here = room.member(id).unwrap().pose;
    let used = (1..=100)
        .filter(|&seq| room.accept_pose(id, &PoseFrame { seq, ack_tick: 0, pose: here }, Duration::from_millis(500)) != PoseOutcome::Ignored)
        .count();
    assert_eq!(used as u32, limits::MAX_POSES_PER_SECOND);
}

#[test]
fn ids_wrap_around_without_handing_out_one_in_use() {
    let mut room = room(4);
    room.next_id = u32::MAX;
    let a = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 1).unwrap().0.info.id;
    assert_eq!(a, PeerId(u32::MAX));
    room.next_id = u32::MAX;
    let b = room.admit(&hello("sakura", "b"), 0, Duration::ZERO, 2).unwrap().0.info.id;
    assert_eq!(b, PeerId(1), "after the wrap, skip 0 and the id in use");
    room.next_id = 1;
    let c = room.admit(&hello("sakura", "c"), 0, Duration::ZERO, 3).unwrap().0.info.id;
    assert_eq!(c, PeerId(2));
}

/// A hand that jumps from one side of the body to the other in a tick (a
/// patched client's, within the 1.6 m a hand may be from the body) drags
/// a held thing no faster than a throw may fly: it cannot ram things.
#[test]
fn a_held_thing_follows_a_jumping_hand_no_faster_than_a_throw() {
    let mut room = room(4);
    let id = room.admit(&hello("sakura", "a"), 0, Duration::ZERO, 1).unwrap().0.info.id;
    let ball = from_wire(room.play().objects()[0].pose).0;
    let stand = ball.with_y(0.0) + Vec3::new(0.0, 0.0, 0.5);
    let hand_at = |x: f32| to_wire(stand + Vec3::new(x, 1.0, 0.0), bevy_math::Quat::IDENTITY);
    let set_pose = |room: &mut Room, x: f32| {
        let member = room.members.get_mut(&id).unwrap();
        member.pose = AvatarPose {
            body: to_wire(stand, bevy_math::Quat::IDENTITY),
            head: to_wire(stand + Vec3::Y * 1.2, bevy_math::Quat::IDENTITY),
            hands: Some([hand_at(-0.3), hand_at(x)]),
        };
    };
    set_pose(&mut room, 0.0);
    assert!(room.apply_event(id, &ClientEvent::Grab(0), Duration::from_secs(1)).is_ok(), "the ball is within reach");
    let most = tsunagu_sim::objects::MAX_THROW_SPEED * tsunagu_sim::objects::STEP_SECONDS;
    let mut worst: f32 = 0.0;
    for tick in 0..30 {
        let before = from_wire(room.play().objects()[0].pose).0;
        set_pose(&mut room, if tick % 2 == 0 { 1.5 } else { -1.5 });
        room.tick();
        worst = worst.max((from_wire(room.play().objects()[0].pose).0 - before).length());
    }
    assert!(worst <= most + 0.01, "the ball jumped {worst} m in a tick (a throw flies {most} m)");
    assert!(worst > most * 0.5, "the ball did not follow the hand at all: {worst} m");
}
