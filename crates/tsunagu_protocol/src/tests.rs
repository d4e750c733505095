//! Round trips, pinned wire bytes, and hostile input.
//!
//! Long because it is tests: the pinned bytes of every message.
#![allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]

use proptest::prelude::*;

use crate::codec::check_shape;
use crate::limits::{MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES};
use crate::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn sample_hello() -> ClientControl {
    ClientControl::Hello(Hello {
        version: PROTOCOL_VERSION,
        room_code: "sakura-42".into(),
        nickname: "ゆき".into(),
        look: AvatarLook::with_color([255, 170, 60]),
        resume: None,
        device: 0,
    })
}

fn sample_pose() -> AvatarPose {
    AvatarPose {
        body: QuantPose { pos: QuantVec([1500, 0, -2000]), rot: QuantQuat(3, 0, 0, 0) },
        head: QuantPose { pos: QuantVec([1500, 1200, -2000]), rot: QuantQuat(3, 0, 100, 0) },
        hands: None,
    }
}

/// The bytes in docs/protocol.md. A change here is a change to the wire contract.
/// A page as the protocol document shows it: the hash of three bytes.
fn sample_page() -> PageInfo {
    PageInfo { hash: page_hash(&[0xff, 0xd8, 0xff]), bytes: 3, kind: PageKind::Jpeg, width: 1280, height: 720 }
}

/// Two points of a red line: (100, 200) and (4095, 0).
fn sample_stroke() -> StrokePiece {
    StrokePiece { stroke: 1, ink: Ink::Red, pen: Pen::Medium, points: pack_points(&[[100, 200], [4095, 0]]) }
}

fn pinned_cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        (
            "Hello",
            encode(&sample_hello(), MAX_FRAME_BYTES).unwrap(),
            "81 a5 48 65 6c 6c 6f 96 0d a9 73 61 6b 75 72 61 2d 34 32 a6 e3 82 86 e3 81 8d 94 93 cc ff cc aa 3c a4 54 75 66 74 93 cc ff cc aa 3c 93 c2 c2 c2 c0 00",
        ),
        (
            "Rejected",
            encode(&ServerControl::Rejected(RejectReason::WrongRoomCode), MAX_FRAME_BYTES).unwrap(),
            "81 a8 52 65 6a 65 63 74 65 64 ad 57 72 6f 6e 67 52 6f 6f 6d 43 6f 64 65",
        ),
        ("PeerLeft", encode(&ServerEvent::PeerLeft(PeerId(7)), MAX_FRAME_BYTES).unwrap(), "81 a8 50 65 65 72 4c 65 66 74 07"),
        (
            "Pose",
            encode(&ClientDatagram::Pose(PoseFrame { seq: 5, ack_tick: 300, pose: sample_pose() }), MAX_DATAGRAM_BYTES).unwrap(),
            "81 a1 50 93 05 cd 01 2c 93 92 93 cd 05 dc 00 d1 f8 30 94 03 00 00 00 92 93 cd 05 dc cd 04 b0 d1 f8 30 94 03 00 64 00 c0",
        ),
        ("Bye", encode(&ClientControl::Bye, MAX_FRAME_BYTES).unwrap(), "a3 42 79 65"),
        (
            "Welcome",
            encode(&sample_welcome(), MAX_FRAME_BYTES).unwrap(),
            "81 a7 57 65 6c 63 6f 6d 65 98 02 ab 50 61 72 74 69 63 69 70 61 6e 74 1e 92 93 cd 05 dc 00 d1 f8 30 94 03 00 00 00 91 98 01 a3 41 6f 69 94 93 5a cc b4 cc e6 a4 54 75 66 74 93 5a cc b4 cc e6 93 c2 c2 c2 ab 46 61 63 69 6c 69 74 61 74 6f 72 c2 c2 c2 c2 cf 00 00 12 34 56 78 9a bc c2 93 90 90 90",
        ),
        (
            "VersionMismatch",
            encode(&ServerControl::Rejected(RejectReason::VersionMismatch { server_version: 4 }), MAX_FRAME_BYTES).unwrap(),
            "81 a8 52 65 6a 65 63 74 65 64 81 af 56 65 72 73 69 6f 6e 4d 69 73 6d 61 74 63 68 91 04",
        ),
        (
            "Closing",
            encode(&ServerControl::Closing(CloseReason::ServerShutdown), MAX_FRAME_BYTES).unwrap(),
            "81 a7 43 6c 6f 73 69 6e 67 ae 53 65 72 76 65 72 53 68 75 74 64 6f 77 6e",
        ),
        (
            "PeerJoined",
            encode(
                &ServerEvent::PeerJoined(PeerInfo {
                    id: PeerId(3),
                    nickname: "Ren".into(),
                    look: AvatarLook::with_color([255, 160, 80]),
                    role: Role::Participant,
                    hand_raised: false,
                    muted: false,
                    resting: false,
                    speak_for_me: false,
                }),
                MAX_FRAME_BYTES,
            )
            .unwrap(),
            "81 aa 50 65 65 72 4a 6f 69 6e 65 64 98 03 a3 52 65 6e 94 93 cc ff cc a0 50 a4 54 75 66 74 93 cc ff cc a0 50 93 c2 c2 c2 ab 50 61 72 74 69 63 69 70 61 6e 74 c2 c2 c2 c2",
        ),
        (
            "SetLook",
            encode(&ClientEvent::SetLook(AvatarLook::with_color([90, 180, 230])), MAX_FRAME_BYTES).unwrap(),
            "81 a7 53 65 74 4c 6f 6f 6b 94 93 5a cc b4 cc e6 a4 54 75 66 74 93 5a cc b4 cc e6 93 c2 c2 c2",
        ),
        (
            "Refused",
            encode(&ServerEvent::Refused(Refusal { kind: EventKind::SetLook, reason: RefusalReason::TooFast }), MAX_FRAME_BYTES).unwrap(),
            "81 a7 52 65 66 75 73 65 64 92 a7 53 65 74 4c 6f 6f 6b a7 54 6f 6f 46 61 73 74",
        ),
        (
            "Snapshot (whole)",
            encode(&ServerDatagram::Snapshot(whole_snapshot()), MAX_DATAGRAM_BYTES).unwrap(),
            "81 a1 53 94 cd 01 2d 00 01 c4 10 15 6b b8 00 10 61 85 80 02 58 00 06 e0 0c 80 00",
        ),
        (
            "Snapshot (delta)",
            encode(&ServerDatagram::Snapshot(delta_snapshot()), MAX_DATAGRAM_BYTES).unwrap(),
            "81 a1 53 94 cd 01 2f 02 01 c4 08 14 c8 40 00 c0 34 03 00",
        ),
        (
            "Snapshot (predicted)",
            encode(&ServerDatagram::Snapshot(predicted_snapshot()), MAX_DATAGRAM_BYTES).unwrap(),
            "81 a1 53 94 cd 01 31 02 01 c4 04 14 18 06 00",
        ),
        (
            "Snapshot (a thing moved)",
            encode(&ServerDatagram::Snapshot(ball_snapshot()), MAX_DATAGRAM_BYTES).unwrap(),
            "81 a1 53 95 28 00 00 c4 00 c4 07 0b 0c 85 dc 3e 8c 00",
        ),
        (
            "Mute",
            encode(&ClientEvent::Staff(StaffAction::Mute(PeerId(3), true)), MAX_FRAME_BYTES).unwrap(),
            "81 a5 53 74 61 66 66 81 a4 4d 75 74 65 92 03 c3",
        ),
        ("RoomLocked", encode(&ServerEvent::RoomLocked(true), MAX_FRAME_BYTES).unwrap(), "81 aa 52 6f 6f 6d 4c 6f 63 6b 65 64 c3"),
        (
            "Rejected(Removed)",
            encode(&ServerControl::Rejected(RejectReason::Removed), MAX_FRAME_BYTES).unwrap(),
            "81 a8 52 65 6a 65 63 74 65 64 a7 52 65 6d 6f 76 65 64",
        ),
        ("Waiting", encode(&ServerControl::Waiting, MAX_FRAME_BYTES).unwrap(), "a7 57 61 69 74 69 6e 67"),
        (
            "WaitingPeople",
            encode(&ServerEvent::WaitingPeople(vec![WaitingPerson { ticket: 1, nickname: "そら".into(), hint: WaitingHint::New }]), MAX_FRAME_BYTES)
                .unwrap(),
            "81 ad 57 61 69 74 69 6e 67 50 65 6f 70 6c 65 91 93 01 a6 e3 81 9d e3 82 89 a3 4e 65 77",
        ),
        (
            "Rejected(NameTaken)",
            encode(&ServerControl::Rejected(RejectReason::NameTaken), MAX_FRAME_BYTES).unwrap(),
            "81 a8 52 65 6a 65 63 74 65 64 a9 4e 61 6d 65 54 61 6b 65 6e",
        ),
        (
            "Refused(Quieted)",
            encode(&ServerEvent::Refused(Refusal { kind: EventKind::Chat, reason: RefusalReason::Quieted }), MAX_FRAME_BYTES).unwrap(),
            "81 a7 52 65 66 75 73 65 64 92 a4 43 68 61 74 a7 51 75 69 65 74 65 64",
        ),
        (
            "TellStaff",
            encode(&ClientEvent::TellStaff(PeerId(3), ConcernKind::Words), MAX_FRAME_BYTES).unwrap(),
            "81 a9 54 65 6c 6c 53 74 61 66 66 92 03 a5 57 6f 72 64 73",
        ),
        ("LightLink", encode(&ClientEvent::LightLink(true), MAX_FRAME_BYTES).unwrap(), "81 a9 4c 69 67 68 74 4c 69 6e 6b c3"),
        ("Resting", encode(&ClientEvent::Resting(true), MAX_FRAME_BYTES).unwrap(), "81 a7 52 65 73 74 69 6e 67 c3"),
        ("SpeakForMe", encode(&ClientEvent::SpeakForMe(true), MAX_FRAME_BYTES).unwrap(), "81 aa 53 70 65 61 6b 46 6f 72 4d 65 c3"),
        (
            "Concern",
            encode(&ServerEvent::Concern(Concern { from: PeerId(2), about: PeerId(3), kind: ConcernKind::Words }), MAX_FRAME_BYTES).unwrap(),
            "81 a7 43 6f 6e 63 65 72 6e 93 02 03 a5 57 6f 72 64 73",
        ),
        (
            "KeptPlaces",
            encode(&ServerEvent::KeptPlaces(vec![KeptPlace { id: PeerId(3), nickname: "Ren".into() }]), MAX_FRAME_BYTES).unwrap(),
            "81 aa 4b 65 70 74 50 6c 61 63 65 73 91 92 03 a3 52 65 6e",
        ),
        (
            "ReleasePlace",
            encode(&ClientEvent::Staff(StaffAction::ReleasePlace(PeerId(3))), MAX_FRAME_BYTES).unwrap(),
            "81 a5 53 74 61 66 66 81 ac 52 65 6c 65 61 73 65 50 6c 61 63 65 03",
        ),
        (
            "PutThingsBack",
            encode(&ClientEvent::Staff(StaffAction::PutThingsBack), MAX_FRAME_BYTES).unwrap(),
            "81 a5 53 74 61 66 66 ad 50 75 74 54 68 69 6e 67 73 42 61 63 6b",
        ),
        ("LetIn", encode(&ClientEvent::Staff(StaffAction::LetIn(1)), MAX_FRAME_BYTES).unwrap(), "81 a5 53 74 61 66 66 81 a5 4c 65 74 49 6e 01"),
        (
            "Rejected(TurnedAway)",
            encode(&ServerControl::Rejected(RejectReason::TurnedAway), MAX_FRAME_BYTES).unwrap(),
            "81 a8 52 65 6a 65 63 74 65 64 aa 54 75 72 6e 65 64 41 77 61 79",
        ),
        (
            "NewInvites",
            encode(&ClientEvent::Staff(StaffAction::NewInvites), MAX_FRAME_BYTES).unwrap(),
            "81 a5 53 74 61 66 66 aa 4e 65 77 49 6e 76 69 74 65 73",
        ),
        (
            "AskRecentre",
            encode(&ClientEvent::Staff(StaffAction::AskRecentre(PeerId(3))), MAX_FRAME_BYTES).unwrap(),
            "81 a5 53 74 61 66 66 81 ab 41 73 6b 52 65 63 65 6e 74 72 65 03",
        ),
        ("Recentre", encode(&ServerEvent::Recentre, MAX_FRAME_BYTES).unwrap(), "a8 52 65 63 65 6e 74 72 65"),
        (
            "Invites",
            encode(&ServerEvent::Invites(RoomCodes { participant: "abc".into(), facilitator: "xyz".into() }), MAX_FRAME_BYTES).unwrap(),
            "81 a7 49 6e 76 69 74 65 73 92 a3 61 62 63 a3 78 79 7a",
        ),
        ("Grab", encode(&ClientEvent::Grab(0), MAX_FRAME_BYTES).unwrap(), "81 a4 47 72 61 62 00"),
        (
            "Release",
            encode(&ClientEvent::Release(0, QuantVec([0, 2500, -4000])), MAX_FRAME_BYTES).unwrap(),
            "81 a7 52 65 6c 65 61 73 65 92 00 93 00 cd 09 c4 d1 f0 60",
        ),
        ("Held", encode(&ServerEvent::Held(PeerId(3), 0), MAX_FRAME_BYTES).unwrap(), "81 a4 48 65 6c 64 92 03 00"),
        (
            "DartScored",
            encode(&ServerEvent::DartScored(PeerId(3), DartScore::Bull), MAX_FRAME_BYTES).unwrap(),
            "81 aa 44 61 72 74 53 63 6f 72 65 64 92 03 a4 42 75 6c 6c",
        ),
        (
            "HangWish",
            encode(&ClientEvent::HangWish(Paper::Blue, "げんきになりたい".into()), MAX_FRAME_BYTES).unwrap(),
            "81 a8 48 61 6e 67 57 69 73 68 92 a4 42 6c 75 65 b8 e3 81 92 e3 82 93 e3 81 8d e3 81 ab e3 81 aa e3 82 8a e3 81 9f e3 81 84",
        ),
        (
            "WishHung",
            encode(
                &ServerEvent::WishHung(Wish { id: 1, by: PeerId(3), slot: 0, paper: Paper::Blue, text: "げんきになりたい".into() }),
                MAX_FRAME_BYTES,
            )
            .unwrap(),
            "81 a8 57 69 73 68 48 75 6e 67 95 01 03 00 a4 42 6c 75 65 b8 e3 81 92 e3 82 93 e3 81 8d e3 81 ab e3 81 aa e3 82 8a e3 81 9f e3 81 84",
        ),
        (
            "Pose (VR)",
            encode(
                &ClientDatagram::Pose(PoseFrame {
                    seq: 6,
                    ack_tick: 301,
                    pose: AvatarPose {
                        hands: Some([
                            QuantPose { pos: QuantVec([1300, 900, -2200]), rot: QuantQuat(3, 0, 0, 0) },
                            QuantPose { pos: QuantVec([1700, 900, -2200]), rot: QuantQuat(3, 0, 0, 0) },
                        ]),
                        ..sample_pose()
                    },
                }),
                MAX_DATAGRAM_BYTES,
            )
            .unwrap(),
            "81 a1 50 93 06 cd 01 2d 93 92 93 cd 05 dc 00 d1 f8 30 94 03 00 00 00 92 93 cd 05 dc cd 04 b0 d1 f8 30 94 03 00 64 00 92 92 93 cd 05 14 cd 03 84 d1 f7 68 94 03 00 00 00 92 93 cd 06 a4 cd 03 84 d1 f7 68 94 03 00 00 00",
        ),
        (
            "PeerChanged",
            encode(
                &ServerEvent::PeerChanged(PeerInfo {
                    id: PeerId(3),
                    nickname: "Ren".into(),
                    look: AvatarLook::with_color([90, 180, 230]),
                    role: Role::Participant,
                    hand_raised: false,
                    muted: false,
                    resting: false,
                    speak_for_me: false,
                }),
                MAX_FRAME_BYTES,
            )
            .unwrap(),
            "81 ab 50 65 65 72 43 68 61 6e 67 65 64 98 03 a3 52 65 6e 94 93 5a cc b4 cc e6 a4 54 75 66 74 93 5a cc b4 cc e6 93 c2 c2 c2 ab 50 61 72 74 69 63 69 70 61 6e 74 c2 c2 c2 c2",
        ),
        ("Echo (client)", encode(&ClientDatagram::Echo(513), MAX_DATAGRAM_BYTES).unwrap(), "81 a1 45 cd 02 01"),
        (
            "Voice (client)",
            encode(&ClientDatagram::Voice(sample_voice()), MAX_DATAGRAM_BYTES).unwrap(),
            "81 a1 56 94 cd 01 2c ce 00 04 65 00 c3 c4 04 78 01 02 03",
        ),
        (
            "Voice (server)",
            encode(&ServerDatagram::Voice(PeerId(3), sample_voice()), MAX_DATAGRAM_BYTES).unwrap(),
            "81 a1 56 92 03 94 cd 01 2c ce 00 04 65 00 c3 c4 04 78 01 02 03",
        ),
        ("Gesture (client)", encode(&ClientEvent::Gesture(Gesture::Wave), MAX_FRAME_BYTES).unwrap(), "81 a7 47 65 73 74 75 72 65 a4 57 61 76 65"),
        (
            "Gesture (server)",
            encode(&ServerEvent::Gesture(PeerId(3), Gesture::Wave), MAX_FRAME_BYTES).unwrap(),
            "81 a7 47 65 73 74 75 72 65 92 03 a4 57 61 76 65",
        ),
        ("RaiseHand", encode(&ClientEvent::RaiseHand(true), MAX_FRAME_BYTES).unwrap(), "81 a9 52 61 69 73 65 48 61 6e 64 c3"),
        (
            "Stamp (server)",
            encode(&ServerEvent::Stamp(PeerId(3), Stamp::Heart), MAX_FRAME_BYTES).unwrap(),
            "81 a5 53 74 61 6d 70 92 03 a5 48 65 61 72 74",
        ),
        ("Chat (client)", encode(&ClientEvent::Chat("やあ！".into()), MAX_FRAME_BYTES).unwrap(), "81 a4 43 68 61 74 a9 e3 82 84 e3 81 82 ef bc 81"),
        (
            "Chat (server)",
            encode(&ServerEvent::Chat(PeerId(3), "やあ！".into()), MAX_FRAME_BYTES).unwrap(),
            "81 a4 43 68 61 74 92 03 a9 e3 82 84 e3 81 82 ef bc 81",
        ),
        (
            "SetLook (dressed up)",
            encode(
                &ClientEvent::SetLook(AvatarLook {
                    body_color: [90, 180, 230],
                    headwear: Headwear::Beanie,
                    headwear_color: [250, 120, 140],
                    accessories: Accessories { glasses: true, ribbon: false, scarf: true },
                }),
                MAX_FRAME_BYTES,
            )
            .unwrap(),
            "81 a7 53 65 74 4c 6f 6f 6b 94 93 5a cc b4 cc e6 a6 42 65 61 6e 69 65 93 cc fa 78 cc 8c 93 c3 c2 c3",
        ),
        (
            "Screen Show",
            encode(&ClientEvent::Screen(ScreenAction::Show(vec![sample_page()])), MAX_FRAME_BYTES).unwrap(),
            "81 a6 53 63 72 65 65 6e 81 a4 53 68 6f 77 91 95 c4 20 6e 56 8e 1f 67 fb a2 58 18 4c 78 18 15 39 e5 e8 fd ee 44 7e 49 bb 70 6f c0 ea 34 fb f1 23 36 a5 03 a4 4a 70 65 67 cd 05 00 cd 02 d0",
        ),
        (
            "Screen TurnTo",
            encode(&ClientEvent::Screen(ScreenAction::TurnTo(1)), MAX_FRAME_BYTES).unwrap(),
            "81 a6 53 63 72 65 65 6e 81 a6 54 75 72 6e 54 6f 01",
        ),
        (
            "PagePiece (server)",
            encode(&ServerEvent::PagePiece(PagePiece { page: 0, offset: 0, bytes: vec![0xff, 0xd8, 0xff] }), MAX_FRAME_BYTES).unwrap(),
            "81 a9 50 61 67 65 50 69 65 63 65 93 00 00 c4 03 ff d8 ff",
        ),
        (
            "PagePreview (server)",
            encode(&ServerEvent::PagePreview(PagePreview { page: 0, bytes: vec![0xff, 0xd8, 0xff] }), MAX_FRAME_BYTES).unwrap(),
            "81 ab 50 61 67 65 50 72 65 76 69 65 77 92 00 c4 03 ff d8 ff",
        ),
        (
            "Stroke (server)",
            encode(&ServerEvent::Stroke(PeerId(3), sample_stroke()), MAX_FRAME_BYTES).unwrap(),
            "81 a6 53 74 72 6f 6b 65 92 03 94 01 a3 52 65 64 a6 4d 65 64 69 75 6d c4 06 06 40 c8 ff f0 00",
        ),
        ("Undo", encode(&ClientEvent::Undo, MAX_FRAME_BYTES).unwrap(), "a4 55 6e 64 6f"),
        (
            "MovedTo",
            encode(&ServerEvent::MovedTo(sample_pose().body), MAX_FRAME_BYTES).unwrap(),
            "81 a7 4d 6f 76 65 64 54 6f 92 93 cd 05 dc 00 d1 f8 30 94 03 00 00 00",
        ),
    ]
}

#[test]
fn a_hello_of_any_shape_says_its_version() {
    let ours = encode(&sample_hello(), MAX_FRAME_BYTES).unwrap();
    assert_eq!(hello_version(&ours), Some(PROTOCOL_VERSION));
    // A future Hello with one more field, version 300 (a uint16 on the wire).
    let future = rmp_serde::to_vec(&serde_json_like_hello(300)).unwrap();
    assert!(decode::<ClientControl>(&future, MAX_FRAME_BYTES).is_err());
    assert_eq!(hello_version(&future), Some(300));
    assert_eq!(hello_version(&encode(&ClientControl::Bye, MAX_FRAME_BYTES).unwrap()), None);
    assert_eq!(hello_version(&[0x81, 0xa5, b'H', b'e', b'l', b'l', b'o', 0x95]), None);
}

/// A Hello's fields with one more at the end, as a later version might send.
type FutureHello = (u16, &'static str, &'static str, ([u8; 3],), Option<u64>, &'static str);

/// `{"Hello": [version, "room", "ゆき", [[1, 2, 3]], nil, "a field from the future"]}`
fn serde_json_like_hello(version: u16) -> std::collections::BTreeMap<&'static str, FutureHello> {
    std::collections::BTreeMap::from([("Hello", (version, "room", "ゆき", ([1, 2, 3],), None, "a field from the future"))])
}

/// Frame 300 of a talk spurt, 6 s into the speaker's clock, four Opus bytes.
fn sample_voice() -> VoiceFrame {
    VoiceFrame { seq: 300, timestamp: 288_000, speaking: true, opus: vec![0x78, 0x01, 0x02, 0x03] }
}

#[test]
fn voice_payloads_are_bounded() {
    let big = VoiceFrame { opus: vec![0; MAX_VOICE_PAYLOAD_BYTES + 1], ..sample_voice() };
    let bytes = encode(&ClientDatagram::Voice(big.clone()), MAX_DATAGRAM_BYTES).unwrap();
    assert_eq!(DatagramKind::of(&bytes), DatagramKind::Voice);
    assert!(decode::<ClientDatagram>(&bytes, MAX_DATAGRAM_BYTES).is_err());
    let bytes = encode(&ServerDatagram::Voice(PeerId(1), big), MAX_DATAGRAM_BYTES).unwrap();
    assert!(decode::<ServerDatagram>(&bytes, MAX_DATAGRAM_BYTES).is_err());
    let fits = VoiceFrame { opus: vec![0; MAX_VOICE_PAYLOAD_BYTES], ..sample_voice() };
    let bytes = encode(&ServerDatagram::Voice(PeerId(u32::MAX), fits), MAX_DATAGRAM_BYTES).unwrap();
    assert!(bytes.len() < MAX_DATAGRAM_BYTES / 2);
    assert!(decode::<ServerDatagram>(&bytes, MAX_DATAGRAM_BYTES).is_ok());
}

#[test]
fn datagram_kinds_are_read_from_the_tag() {
    let pose = encode(&ClientDatagram::Pose(PoseFrame { seq: 1, ack_tick: 0, pose: sample_pose() }), MAX_DATAGRAM_BYTES).unwrap();
    assert_eq!(DatagramKind::of(&pose), DatagramKind::Pose);
    assert_eq!(DatagramKind::of(&encode(&ServerDatagram::Snapshot(whole_snapshot()), MAX_DATAGRAM_BYTES).unwrap()), DatagramKind::Snapshot);
    assert_eq!(DatagramKind::of(&[0x81, 0xa1]), DatagramKind::Unknown);
    assert_eq!(DatagramKind::of(b"81 a5 48 65 6c 6c 6f 95 06 a9 73 61 6b 75 72 61 2d 34 32 a6 e3 82 86 e3 81 8d 94 93 cc ff cc aa 3c a4 54 75 66 74 93 cc ff cc aa 3c 93 c2 c2 c2 c0"), DatagramKind::Unknown);
}

#[test]
fn wire_bytes_are_pinned() {
    let mut changed = Vec::new();
    for (name, bytes, expected) in pinned_cases() {
        if hex(&bytes) != expected {
            changed.push(format!("{name}: {}", hex(&bytes)));
        }
    }
    assert!(changed.is_empty(), "changed on the wire:\n{}", changed.join("\n"));
}

/// Every run of hex bytes in docs/protocol.md (fenced blocks of hex lines, and
/// inline spans of four bytes or more), with its line number.
fn hex_in_protocol_doc() -> Vec<(usize, String)> {
    let doc =
        std::fs::read_to_string(format!("{}/../../docs/protocol.md", std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR, set by cargo")))
            .expect("docs/protocol.md");
    let is_hex_run = |s: &str| {
        let words: Vec<&str> = s.split_whitespace().collect();
        words.len() >= 4 && words.iter().all(|w| w.len() == 2 && w.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()))
    };
    let mut found = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (n, line) in doc.lines().enumerate() {
        let n = n + 1;
        if is_hex_run(line) {
            let entry = block.get_or_insert((n, String::new()));
            if !entry.1.is_empty() {
                entry.1.push(' ');
            }
            entry.1.push_str(line.trim());
            continue;
        }
        found.extend(block.take());
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && is_hex_run(span) {
                found.push((n, span.trim().to_owned()));
            }
        }
    }
    found.extend(block);
    found
}

fn decodes_as_some_message(bytes: &[u8]) -> bool {
    // A WebSocket message (protocol.md §1b): a tag byte, then the message of its channel.
    let as_websocket = match bytes.split_first() {
        Some((1, rest)) => decode::<ClientControl>(rest, MAX_FRAME_BYTES).is_ok() || decode::<ServerControl>(rest, MAX_FRAME_BYTES).is_ok(),
        Some((2, rest)) => decode::<ClientEvent>(rest, MAX_FRAME_BYTES).is_ok() || decode::<ServerEvent>(rest, MAX_FRAME_BYTES).is_ok(),
        Some((3, rest)) => decode::<ClientDatagram>(rest, MAX_DATAGRAM_BYTES).is_ok() || decode::<ServerDatagram>(rest, MAX_DATAGRAM_BYTES).is_ok(),
        _ => false,
    };
    as_websocket
        || decode::<ClientControl>(bytes, MAX_FRAME_BYTES).is_ok()
        || decode::<ServerControl>(bytes, MAX_FRAME_BYTES).is_ok()
        || decode::<ServerEvent>(bytes, MAX_FRAME_BYTES).is_ok()
        || decode::<ClientEvent>(bytes, MAX_FRAME_BYTES).is_ok()
        || decode::<ClientDatagram>(bytes, MAX_DATAGRAM_BYTES).is_ok()
        || decode::<ServerDatagram>(bytes, MAX_DATAGRAM_BYTES).is_ok()
}

/// docs/protocol.md and the codec cannot drift: every pinned message is in the
/// document byte for byte, and every hex example in the document decodes as a
/// message (or is a snapshot's packed poses, checked by the pinned snapshots).
#[test]
fn the_protocol_document_shows_the_bytes_the_codec_makes() {
    let in_doc = hex_in_protocol_doc();
    assert!(in_doc.len() >= 15, "found only {} hex examples in docs/protocol.md", in_doc.len());
    for (name, _, expected) in pinned_cases() {
        assert!(in_doc.iter().any(|(_, h)| h == expected), "docs/protocol.md does not show {name}: {expected}");
    }
    for (line, run) in &in_doc {
        let bytes: Vec<u8> = run.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect();
        assert!(decodes_as_some_message(&bytes), "docs/protocol.md line {line}: {run} is not a message this version decodes");
    }
}

fn arb_quant_pose() -> impl Strategy<Value = QuantPose> {
    (any::<[i32; 3]>(), any::<u8>(), any::<[i16; 3]>()).prop_map(|(pos, i, [a, b, c])| QuantPose { pos: QuantVec(pos), rot: QuantQuat(i, a, b, c) })
}

fn arb_pose() -> impl Strategy<Value = AvatarPose> {
    (arb_quant_pose(), arb_quant_pose(), proptest::option::of([arb_quant_pose(), arb_quant_pose()])).prop_map(|(body, head, hands)| AvatarPose {
        body,
        head,
        hands,
    })
}

fn sample_welcome() -> ServerControl {
    ServerControl::Welcome(Welcome {
        your_id: PeerId(2),
        role: Role::Participant,
        tick_rate_hz: 30,
        spawn: sample_pose().body,
        peers: vec![PeerInfo {
            id: PeerId(1),
            nickname: "Aoi".into(),
            look: AvatarLook::with_color([90, 180, 230]),
            role: Role::Facilitator,
            hand_raised: false,
            muted: false,
            resting: false,
            speak_for_me: false,
        }],
        resume: 0x1234_5678_9abc,
        resumed: false,
        play: PlayState::default(),
    })
}

#[test]
fn control_messages_round_trip() {
    let welcome = sample_welcome();
    let bytes = encode(&welcome, MAX_FRAME_BYTES).unwrap();
    assert_eq!(decode::<ServerControl>(&bytes, MAX_FRAME_BYTES).unwrap(), welcome);
    let bytes = encode(&sample_hello(), MAX_FRAME_BYTES).unwrap();
    assert_eq!(decode::<ClientControl>(&bytes, MAX_FRAME_BYTES).unwrap(), sample_hello());
}

#[test]
fn close_codes_round_trip() {
    for reason in [CloseReason::Left, CloseReason::ServerShutdown, CloseReason::ProtocolViolation, CloseReason::RateLimited, CloseReason::Removed] {
        assert_eq!(CloseReason::from_code(u64::from(reason.code())), Some(reason));
    }
    assert_eq!(CloseReason::from_code(99), None);
}

/// The first snapshot with avatar 1 in it: no base, so its pose goes whole.
fn whole_snapshot() -> Snapshot {
    let avatars = [AvatarState { id: PeerId(1), pose: sample_pose() }];
    Snapshot { tick: 301, base_ago: 0, count: 1, poses: delta::encode_avatars(&delta::View::default(), 301, &avatars), objects: Vec::new() }
}

/// Two ticks later, against snapshot 301 (acknowledged): avatar 1 stepped
/// 33 mm along +X and turned its head a little; only that is sent.
fn delta_snapshot() -> Snapshot {
    let base = delta::View::default().then(301, &[AvatarState { id: PeerId(1), pose: sample_pose() }]);
    let mut moved = sample_pose();
    moved.body.pos.0[0] += 33;
    moved.head.pos.0[0] += 33;
    moved.head.rot.2 += 12;
    let avatars = [AvatarState { id: PeerId(1), pose: moved }];
    Snapshot { tick: 303, base_ago: 2, count: 1, poses: delta::encode_avatars(&base, 303, &avatars), objects: Vec::new() }
}

/// Tick 40, no avatar due, the ball (thing 0) in flight at (0.2, 1.5, 1.0)
/// m with no base: only the thing is sent.
fn ball_snapshot() -> Snapshot {
    let ball = [ObjectState { id: 0, pose: QuantPose { pos: QuantVec([200, 1500, 1000]), rot: QuantQuat(3, 0, 0, 0) } }];
    Snapshot { tick: 40, base_ago: 0, count: 0, poses: Vec::new(), objects: delta::encode_objects(&delta::View::default(), 40, &ball) }
}

#[test]
fn things_are_delta_coded_and_cost_nothing_at_rest() {
    let pose = |x: i32, y: i32| QuantPose { pos: QuantVec([x, y, 1000]), rot: QuantQuat(3, 0, 0, 0) };
    let ball = |x, y| ObjectState { id: 0, pose: pose(x, y) };
    let back = delta::decode_objects(&delta::View::default(), 40, &ball_snapshot().objects).unwrap();
    assert_eq!(back, vec![ball(200, 1500)]);
    // In flight: after two updates the next position is predicted along the line.
    let view = delta::View::default().then_with(40, &[], &[ball(200, 1500)]).then_with(41, &[], &[ball(300, 1450)]);
    let on_the_line = delta::object_bits(&view, 42, &ball(400, 1400));
    assert!(on_the_line <= 20, "a predicted ball took {on_the_line} bits");
    let bytes = delta::encode_objects(&view, 42, &[ball(400, 1398)]);
    assert_eq!(delta::decode_objects(&view, 42, &bytes).unwrap(), vec![ball(400, 1398)]);
    // Things never drop out of the view: one at rest is held however long ago.
    let later = view.then_with(41 + 10 * delta::VIEW_MAX_AGE_TICKS, &[], &[]);
    assert_eq!(later.object(0), Some(&pose(300, 1450)));
    // A snapshot without things leaves the field out: not one byte for them.
    let quiet = Snapshot { objects: Vec::new(), ..ball_snapshot() };
    let with = encode(&ServerDatagram::Snapshot(ball_snapshot()), MAX_DATAGRAM_BYTES).unwrap();
    let without = encode(&ServerDatagram::Snapshot(quiet.clone()), MAX_DATAGRAM_BYTES).unwrap();
    assert_eq!(without[3], 0x94, "four fields when nothing moved");
    assert_eq!(with[3], 0x95);
    assert_eq!(decode::<ServerDatagram>(&without, MAX_DATAGRAM_BYTES).unwrap(), ServerDatagram::Snapshot(quiet));
    // Garbage, too many records or dirty padding are refused, never a panic.
    assert!(delta::decode_objects(&delta::View::default(), 1, &[0xff; 3]).is_err());
    assert!(delta::decode_objects(&delta::View::default(), 1, &vec![0u8; 400]).is_err(), "more than 64 records");
    let mut dirty = ball_snapshot().objects;
    *dirty.last_mut().unwrap() |= 1;
    assert!(delta::decode_objects(&delta::View::default(), 40, &dirty).is_err());
}

/// The view after snapshot 303 (holding 301 and 303).
fn view_after_303() -> delta::View {
    let whole = delta::decode_avatars(&delta::View::default(), 301, 1, &whole_snapshot().poses).unwrap();
    let base = delta::View::default().then(301, &whole);
    let moved = delta::decode_avatars(&base, 303, 1, &delta_snapshot().poses).unwrap();
    base.then(303, &moved)
}

/// Snapshot 305 against 303: avatar 1 kept walking and turning exactly as from
/// 301 to 303, so it is where the prediction says and nothing else is sent.
fn predicted_snapshot() -> Snapshot {
    let mut pose = sample_pose();
    pose.body.pos.0[0] += 66;
    pose.head.pos.0[0] += 66;
    pose.head.rot.2 += 24;
    let avatars = [AvatarState { id: PeerId(1), pose }];
    Snapshot { tick: 305, base_ago: 2, count: 1, poses: delta::encode_avatars(&view_after_303(), 305, &avatars), objects: Vec::new() }
}

#[test]
fn pinned_snapshots_decode_to_their_poses() {
    let walked = delta::decode_avatars(&view_after_303(), 305, 1, &predicted_snapshot().poses).unwrap();
    assert_eq!(walked[0].pose.body.pos, QuantVec([1566, 0, -2000]));
    assert_eq!(walked[0].pose.head.rot, QuantQuat(3, 0, 124, 0));
    let whole = delta::decode_avatars(&delta::View::default(), 301, 1, &whole_snapshot().poses).unwrap();
    assert_eq!(whole, vec![AvatarState { id: PeerId(1), pose: sample_pose() }]);
    let base = delta::View::default().then(301, &whole);
    let moved = delta::decode_avatars(&base, 303, 1, &delta_snapshot().poses).unwrap();
    assert_eq!(moved[0].pose.body.pos, QuantVec([1533, 0, -2000]));
    assert_eq!(moved[0].pose.head.rot, QuantQuat(3, 0, 112, 0));
}

/// The deepest message we send must pass our own depth limit, and the most
/// avatars a snapshot may carry must fit one datagram even sent whole.
#[test]
fn a_full_snapshot_of_vr_avatars_fits_and_decodes() {
    let hand = QuantPose { pos: QuantVec([-4000, 1100, -2300]), rot: QuantQuat(2, 100, -200, 300) };
    let pose = AvatarPose { hands: Some([hand, hand]), ..sample_pose() };
    let avatars: Vec<AvatarState> = (0..20).map(|i| AvatarState { id: PeerId(i), pose }).collect();
    let poses = delta::encode_avatars(&delta::View::default(), 9, &avatars);
    let snapshot = ServerDatagram::Snapshot(Snapshot { tick: 9, base_ago: 0, count: 20, poses, objects: Vec::new() });
    let bytes = encode(&snapshot, MAX_DATAGRAM_BYTES).unwrap();
    let Ok(ServerDatagram::Snapshot(back)) = decode::<ServerDatagram>(&bytes, MAX_DATAGRAM_BYTES) else { panic!("not a snapshot") };
    assert_eq!(delta::decode_avatars(&delta::View::default(), 9, 20, &back.poses).unwrap(), avatars);
    let frame = ClientDatagram::Pose(PoseFrame { seq: 1, ack_tick: 1, pose });
    let bytes = encode(&frame, MAX_DATAGRAM_BYTES).unwrap();
    assert_eq!(decode::<ClientDatagram>(&bytes, MAX_DATAGRAM_BYTES).unwrap(), frame);
}

#[test]
fn standing_still_costs_a_few_bits() {
    let hand = QuantPose { pos: QuantVec([-400, 1100, -2300]), rot: QuantQuat(2, 100, -200, 300) };
    let state = AvatarState { id: PeerId(5), pose: AvatarPose { hands: Some([hand, hand]), ..sample_pose() } };
    let whole = delta::avatar_bits(&delta::View::default(), 2, &state);
    let base = delta::View::default().then(1, &[state]);
    let still = delta::avatar_bits(&base, 2, &state);
    // Width code and id (7), hands flag (1), four poses at 10 bits each.
    assert_eq!(still, 48, "whole {whole} bits");
    assert!(whole > 4 * still);
    assert_eq!(delta::encode_avatars(&base, 2, &[state]).len(), 6);
}

/// Someone walking steadily costs next to nothing once two poses are held.
#[test]
fn steady_movement_is_predicted() {
    let at = |x: i32| AvatarState {
        id: PeerId(5),
        pose: AvatarPose {
            body: QuantPose { pos: QuantVec([x, 0, 0]), rot: QuantQuat::default() },
            head: QuantPose { pos: QuantVec([x, 1150, 0]), rot: QuantQuat(3, 0, 40, 0) },
            hands: None,
        },
    };
    let view = delta::View::default().then(10, &[at(1000)]).then(12, &[at(1080)]);
    assert_eq!(view.predict(PeerId(5), 15).unwrap().body.pos, QuantVec([1200, 0, 0]));
    let predicted = delta::avatar_bits(&view, 15, &at(1200));
    let unpredicted = delta::avatar_bits(&delta::View::default().then(12, &[at(1080)]), 15, &at(1200));
    assert!(predicted < unpredicted, "{predicted} bits with prediction, {unpredicted} without");
    assert_eq!(predicted, 28, "id (7), hands flag (1), two poses as predicted (10 each)");
    // Too long a gap: the held pose is the base.
    assert_eq!(view.predict(PeerId(5), 12 + delta::MAX_PREDICTION_TICKS + 1).unwrap().body.pos, QuantVec([1080, 0, 0]));
}

#[test]
fn views_forget_avatars_not_updated_for_a_while() {
    let state = AvatarState { id: PeerId(5), pose: sample_pose() };
    let view = delta::View::default().then(10, &[state]);
    assert!(view.then(10 + delta::VIEW_MAX_AGE_TICKS, &[]).get(PeerId(5)).is_some());
    assert!(view.then(11 + delta::VIEW_MAX_AGE_TICKS, &[]).get(PeerId(5)).is_none());
    let mut history = delta::ViewHistory::default();
    history.record(10, view.clone());
    history.record(10 + delta::MAX_BASE_AGE_TICKS - 1, delta::View::default());
    assert_eq!(history.get(10), Some(&view));
    history.record(10 + delta::MAX_BASE_AGE_TICKS, delta::View::default());
    assert_eq!(history.get(10), None, "a view too old to be a base was kept");
}

#[test]
fn snapshot_poses_with_extra_or_dirty_bits_are_refused() {
    let mut poses = whole_snapshot().poses;
    let base = delta::View::default();
    assert!(delta::decode_avatars(&base, 301, 2, &poses).is_err(), "a missing record was invented");
    assert!(delta::decode_avatars(&base, 301, 0, &poses).is_err(), "leftover bytes were ignored");
    assert!(delta::decode_avatars(&base, 301, 65, &poses).is_err());
    if let Some(last) = poses.last_mut() {
        *last |= 1;
    }
    assert!(delta::decode_avatars(&base, 301, 1, &poses).is_err(), "non-zero padding was accepted");
}

#[test]
fn oversized_frames_are_refused_before_decoding() {
    let big = vec![0u8; MAX_FRAME_BYTES + 1];
    assert!(matches!(decode::<ClientControl>(&big, MAX_FRAME_BYTES), Err(DecodeError::TooLarge { .. })));
}

#[test]
fn messages_of_death_are_refused() {
    // Thousands of nested one-element arrays: a naive recursive decode overflows the stack.
    let nested = vec![0x91u8; 100_000];
    assert!(matches!(check_shape(&nested), Err(DecodeError::Malformed(_))));
    assert!(decode::<ClientDatagram>(&nested[..MAX_DATAGRAM_BYTES], MAX_DATAGRAM_BYTES).is_err());
    // Length prefixes that claim gigabytes: array32, map32, str32 and bin32 of 0xffffffff.
    for marker in [0xdd, 0xdf, 0xdb, 0xc6] {
        let claim = [marker, 0xff, 0xff, 0xff, 0xff, 0x00];
        assert!(decode::<ClientControl>(&claim, MAX_FRAME_BYTES).is_err(), "{marker:#x}");
    }
    // A valid Hello whose nickname claims more bytes than follow.
    let mut hello = encode(&sample_hello(), MAX_FRAME_BYTES).unwrap();
    hello.truncate(hello.len() - 4);
    assert!(decode::<ClientControl>(&hello, MAX_FRAME_BYTES).is_err());
    // Trailing bytes after a valid message.
    let mut hello = encode(&sample_hello(), MAX_FRAME_BYTES).unwrap();
    hello.push(0xc0);
    assert!(decode::<ClientControl>(&hello, MAX_FRAME_BYTES).is_err());
}

#[test]
fn content_limits_are_enforced_after_decoding() {
    let mut hello = sample_hello();
    if let ClientControl::Hello(h) = &mut hello {
        h.room_code = "x".repeat(limits::MAX_ROOM_CODE_CHARS + 1);
    }
    let bytes = encode(&hello, MAX_FRAME_BYTES).unwrap();
    assert_eq!(decode::<ClientControl>(&bytes, MAX_FRAME_BYTES), Err(DecodeError::OutOfBounds("room_code")));
}

#[test]
fn nickname_rule() {
    assert!(nickname_is_valid("ゆき"));
    assert!(nickname_is_valid("  Yuki "));
    assert!(!nickname_is_valid("   "));
    assert!(!nickname_is_valid("a\u{7}b"));
    assert!(!nickname_is_valid(&"あ".repeat(limits::MAX_NICKNAME_CHARS + 1)));
}

/// A MessagePack value of any shape, for the decoder to chew on.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
enum Msgpack {
    Int(i64),
    Text(String),
    List(Vec<Msgpack>),
    Map(std::collections::BTreeMap<String, Msgpack>),
}

fn arb_msgpack() -> impl Strategy<Value = Msgpack> {
    let leaf = prop_oneof![any::<i64>().prop_map(Msgpack::Int), ".{0,40}".prop_map(Msgpack::Text)];
    leaf.prop_recursive(16, 2048, 64, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..64).prop_map(Msgpack::List),
            proptest::collection::btree_map("[A-Za-z]{1,12}", inner, 0..8).prop_map(Msgpack::Map),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// Any bytes at all, up to a whole frame: an error or a value, never a panic.
    #[test]
    fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..=MAX_FRAME_BYTES)) {
        let _ = decode::<ClientControl>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<ServerControl>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<ServerEvent>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<ClientEvent>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<ClientDatagram>(&bytes, MAX_DATAGRAM_BYTES);
        let _ = decode::<ServerDatagram>(&bytes, MAX_DATAGRAM_BYTES);
        let _ = hello_version(&bytes);
        let _ = DatagramKind::of(&bytes);
    }

    /// Well-formed MessagePack of any shape up to a frame (random bytes rarely
    /// are): arrays and maps of strings and numbers, nested.
    #[test]
    fn decoding_any_messagepack_never_panics(value in arb_msgpack()) {
        let bytes = rmp_serde::to_vec(&value).unwrap_or_default();
        let _ = decode::<ClientControl>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<ServerEvent>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<ClientEvent>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<ServerControl>(&bytes, MAX_FRAME_BYTES);
    }

    /// Mutations of real messages reach deeper into the decoder than random bytes.
    #[test]
    fn mutated_messages_never_panic(flips in proptest::collection::vec((0usize..64, any::<u8>()), 1..6)) {
        let mut bytes = encode(&ClientDatagram::Pose(PoseFrame { seq: 1, ack_tick: 2, pose: sample_pose() }), MAX_DATAGRAM_BYTES).unwrap();
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        let _ = decode::<ClientDatagram>(&bytes, MAX_DATAGRAM_BYTES);
    }

    /// Any bytes as snapshot poses against any base: an error or avatars, never a panic.
    #[test]
    fn decoding_any_snapshot_poses_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), count in 0usize..80) {
        let base = delta::View::default().then(1, &[AvatarState { id: PeerId(1), pose: sample_pose() }]);
        let _ = delta::decode_avatars(&base, 3, count, &bytes);
        let _ = delta::decode_avatars(&delta::View::default(), 3, count, &bytes);
    }

    /// Real VR snapshots with bytes changed reach deep into the pose decoder:
    /// an error or avatars, never a panic, and never more avatars than counted.
    #[test]
    fn mutated_snapshots_never_panic(flips in proptest::collection::vec((0usize..512, any::<u8>()), 1..6)) {
        let hand = QuantPose { pos: QuantVec([-400, 1100, -2300]), rot: QuantQuat(2, 100, -200, 300) };
        let avatars: Vec<AvatarState> = (0..5).map(|i| AvatarState { id: PeerId(i), pose: AvatarPose { hands: Some([hand, hand]), ..sample_pose() } }).collect();
        let base = delta::View::default().then(1, &avatars);
        let poses = delta::encode_avatars(&base, 3, &avatars);
        let mut bytes = encode(&ServerDatagram::Snapshot(Snapshot { tick: 3, base_ago: 2, count: 5, poses, objects: Vec::new() }), MAX_DATAGRAM_BYTES).unwrap();
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        if let Ok(ServerDatagram::Snapshot(s)) = decode::<ServerDatagram>(&bytes, MAX_DATAGRAM_BYTES)
            && let Ok(decoded) = delta::decode_avatars(&base, s.tick, usize::from(s.count), &s.poses)
        {
            prop_assert_eq!(decoded.len(), usize::from(s.count));
        }
    }

    /// Whatever the base and the new pose (all of i32 and i16, any rotation
    /// index, hands or not on either side, with or without a prediction from
    /// two earlier poses), the client rebuilds the exact pose.
    #[test]
    fn delta_coding_rebuilds_exact_poses(
        id: u32, earlier in arb_pose(), base in arb_pose(), next in arb_pose(), history in 0u8..3, other in arb_pose()
    ) {
        let mut view = delta::View::default().then(5, &[AvatarState { id: PeerId(id.wrapping_add(1)), pose: other }]);
        if history >= 2 {
            view = view.then(6, &[AvatarState { id: PeerId(id), pose: earlier }]);
        }
        if history >= 1 {
            view = view.then(8, &[AvatarState { id: PeerId(id), pose: base }]);
        }
        let state = AvatarState { id: PeerId(id), pose: next };
        let poses = delta::encode_avatars(&view, 9, &[state, state]);
        let bits = u64::from(delta::avatar_bits(&view, 9, &state)) * 2;
        prop_assert!(poses.len() as u64 * 8 >= bits && poses.len() as u64 * 8 - bits < 8, "sized {bits} bits, wrote {} bytes", poses.len());
        let back = delta::decode_avatars(&view, 9, 2, &poses).unwrap();
        let canonical = view.then(9, &[state]).get(PeerId(id)).copied().unwrap();
        prop_assert_eq!(back[0], AvatarState { id: PeerId(id), pose: canonical });
        prop_assert_eq!(back[1], back[0]);
    }

    #[test]
    fn poses_round_trip(seq: u32, ack: u32, x: i32, y: i32, z: i32, i in 0u8..4, a: i16, b: i16, c: i16) {
        let pose = QuantPose { pos: QuantVec([x, y, z]), rot: QuantQuat(i, a, b, c) };
        let msg = ClientDatagram::Pose(PoseFrame { seq, ack_tick: ack, pose: AvatarPose { body: pose, head: pose, hands: Some([pose, pose]) } });
        let bytes = encode(&msg, MAX_DATAGRAM_BYTES).unwrap();
        prop_assert_eq!(decode::<ClientDatagram>(&bytes, MAX_DATAGRAM_BYTES).unwrap(), msg);
    }
}

#[test]
fn stroke_points_pack_to_three_bytes_and_back() {
    let points = [[0, 0], [4095, 4095], [100, 200], [2048, 1]];
    let piece = StrokePiece { stroke: 0, ink: Ink::Blue, pen: Pen::Thin, points: pack_points(&points) };
    assert_eq!(piece.points.len(), 12);
    assert_eq!(piece.points().collect::<Vec<_>>(), points);
    assert!(piece.is_within_limits());
    assert_eq!(pack_points(&[[9999, 5000]]), pack_points(&[[4095, 4095]]), "off the screen is clamped to its edge");
    let ragged = StrokePiece { points: vec![1, 2], ..piece.clone() };
    let empty = StrokePiece { points: vec![], ..piece.clone() };
    let long = StrokePiece { points: vec![0; (screen::MAX_PIECE_POINTS + 1) * 3], ..piece };
    for bad in [ragged, empty, long] {
        assert_eq!(ClientEvent::Stroke(bad).validate(), Err("stroke"));
    }
}

#[test]
fn pages_out_of_bounds_are_not_our_protocol() {
    let good = sample_page();
    assert!(good.is_within_limits());
    let lying = [
        PageInfo { width: 50_000u32 as u16, ..good.clone() },
        PageInfo { width: 4096, height: 4096, ..good.clone() },
        PageInfo { width: 0, ..good.clone() },
        PageInfo { bytes: screen::MAX_PAGE_BYTES + 1, ..good.clone() },
        PageInfo { hash: vec![1; 31], ..good.clone() },
    ];
    for page in lying {
        assert_eq!(ClientEvent::Screen(ScreenAction::Show(vec![page])).validate(), Err("pages"));
    }
    assert_eq!(ClientEvent::Screen(ScreenAction::Show(vec![good.clone(); screen::MAX_PAGES + 1])).validate(), Err("pages"));
    assert_eq!(ClientEvent::Screen(ScreenAction::Point(Some([4096, 0]))).validate(), Err("pointer"));
    let piece = |n| PagePiece { page: 0, offset: 0, bytes: vec![0; n] };
    assert_eq!(ClientEvent::PagePiece(piece(screen::MAX_PIECE_BYTES + 1)).validate(), Err("piece"));
    assert_eq!(ClientEvent::PagePiece(piece(0)).validate(), Err("piece"));
    assert_eq!(ClientEvent::PagePiece(piece(screen::MAX_PIECE_BYTES)).validate(), Ok(()));
    let preview = |n| PagePreview { page: 0, bytes: vec![0; n] };
    assert_eq!(ClientEvent::PagePreview(preview(screen::MAX_PREVIEW_BYTES + 1)).validate(), Err("preview"));
    assert_eq!(ServerEvent::PagePreview(preview(0)).validate(), Err("preview"));
    assert_eq!(ServerEvent::PagePreview(PagePreview { page: screen::MAX_PAGES as u16, bytes: vec![1] }).validate(), Err("preview"));
    assert_eq!(ClientEvent::PagePreview(preview(screen::MAX_PREVIEW_BYTES)).validate(), Ok(()));
    assert_eq!(ClientEvent::PagePreview(preview(1)).kind(), EventKind::PagePiece, "previews count with the pieces");
    let frame = encode(&ClientEvent::PagePiece(piece(screen::MAX_PIECE_BYTES)), MAX_FRAME_BYTES);
    assert!(frame.is_ok(), "a whole piece fits a frame");
}
