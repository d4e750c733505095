//! Playing together in the Bevy client, headless, through a real room server:
//! a friend's throw drawn in flight and at rest where the room has it, a dart
//! scored over the board, a wish written in Japanese hung for everyone, and a
//! thing held in a headset's right hand.

use bevy::input::keyboard::Key;
use bevy::prelude::*;
use bevy::window::Ime;
use tsunagu_client::kit::room::Thing;
use tsunagu_client::kit::typing::{PaperInHand, text_field_has_keys};
use tsunagu_client::play::darts::ScorePop;
use tsunagu_client::play::{PaperChoice, TakeDown, WishStrip};
use tsunagu_client_core::RoomEvent;
use tsunagu_protocol::{AvatarPose, ClientEvent, Paper, QuantVec};
use tsunagu_sim::WardLayout;
use tsunagu_sim::motion::{WALK_SPEED, facing};
use tsunagu_sim::objects::{DART_RADIUS, hold_point, throw_velocity};
use tsunagu_sim::pose::{to_wire, wire_pos};
use tsunagu_testkit::Stepper;

use crate::expression::{frame, ime, press, with_a_friend};
use tsunagu_protocol::ServerEvent;

/// The friend walks to `to`, facing `look`, a pose a frame, at walking speed.
fn walk_friend(stepper: &mut Stepper, app: &mut App, friend: usize, to: Vec3, look: Vec3) {
    let id = stepper.clients[friend].id().unwrap();
    let mut at = wire_pos(stepper.server.room().member(id).unwrap().pose.body.pos);
    for _ in 0..400 {
        at += (to - at).clamp_length_max(WALK_SPEED / 30.0);
        let rot = facing(look);
        stepper.send_pose(friend, AvatarPose { body: to_wire(at, rot), head: to_wire(at + Vec3::Y * 1.15, rot), hands: None });
        frame(stepper, app);
        if at.distance(to) < 1e-3 {
            break;
        }
    }
    for _ in 0..3 {
        frame(stepper, app);
    }
}

fn drawn_at(app: &mut App, id: u16) -> Option<Vec3> {
    let mut things = app.world_mut().query::<(&Thing, &Transform, &Visibility)>();
    things.iter(app.world()).find(|(t, _, v)| t.0 == id && **v != Visibility::Hidden).map(|(_, at, _)| at.translation)
}

#[test]
fn a_friends_throw_is_drawn_in_flight_and_at_rest_where_the_room_has_it() {
    let (mut stepper, mut app, friend, _) = with_a_friend();
    let rug = WardLayout::ward().rug.0;
    let ball_start = wire_pos(stepper.server.room().play().objects()[0].pose.pos);
    assert!(drawn_at(&mut app, 0).is_some_and(|at| at.distance(ball_start) < 0.01), "the ball is not drawn where it lies");
    walk_friend(&mut stepper, &mut app, friend, Vec3::new(rug.x, 0.0, rug.z + 1.3), Vec3::NEG_Z);
    stepper.send_event(friend, ClientEvent::Grab(0));
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    stepper.send_event(friend, ClientEvent::Release(0, QuantVec([500, 4000, -2500])));
    let mut highest = 0.0f32;
    for _ in 0..30 * 12 {
        frame(&mut stepper, &mut app);
        highest = highest.max(drawn_at(&mut app, 0).map_or(0.0, |at| at.y));
    }
    assert!(highest > 1.4, "the ball was never drawn in the air (highest {highest} m)");
    assert!(stepper.server.room().play().is_at_rest());
    let rest = wire_pos(stepper.server.room().play().objects()[0].pose.pos);
    let drawn = drawn_at(&mut app, 0).unwrap();
    assert!(drawn.distance(rest) < 0.01, "drawn at {drawn}, the room has it at {rest}");
}

#[test]
fn a_friends_dart_in_the_bull_pops_its_score_over_the_board() {
    let (mut stepper, mut app, friend, _) = with_a_friend();
    let board = WardLayout::ward().dartboard.center;
    walk_friend(&mut stepper, &mut app, friend, Vec3::new(5.9, 0.0, 1.9), Vec3::NEG_Z);
    stepper.send_event(friend, ClientEvent::Grab(5));
    frame(&mut stepper, &mut app);
    let throw_from = Vec3::new(board.x - 2.4, 0.0, board.z);
    walk_friend(&mut stepper, &mut app, friend, throw_from, Vec3::X);
    let hand = hold_point(throw_from, facing(Vec3::X), None);
    let velocity = throw_velocity(hand, board - Vec3::X * DART_RADIUS);
    stepper.send_event(friend, ClientEvent::Release(5, QuantVec::from_metres(velocity.to_array())));
    for _ in 0..30 {
        frame(&mut stepper, &mut app);
    }
    let mut pops = app.world_mut().query_filtered::<&Children, With<ScorePop>>();
    let pop_children: Vec<Entity> = pops.iter(app.world()).flat_map(|c| c.iter().collect::<Vec<_>>()).collect();
    // As shown: with the word joiners that keep Japanese words whole.
    let lines: Vec<String> =
        pop_children.iter().filter_map(|e| app.world().get::<Text>(*e).map(|t| t.0.replace(['\u{2060}', '\u{200b}'], ""))).collect();
    assert_eq!(lines.len(), 1, "one score pops up: {lines:?}");
    assert!(lines[0].contains("あおい") && lines[0].contains("50"), "the pop says who and how much: {}", lines[0]);
    let dart = drawn_at(&mut app, 5).unwrap();
    assert!(dart.distance(board) < 0.06, "the dart is drawn at {dart}, not in the board");
}

#[test]
fn a_wish_written_in_japanese_hangs_on_the_bamboo_for_a_friend_too() {
    let (mut stepper, mut app, friend, _) = with_a_friend();
    // The Tanabata panel is in its drawer, where the HUD puts it.
    frame(&mut stepper, &mut app);
    // Pressing a paper colour turns the chat's field into the wish's.
    let mut papers = app.world_mut().query::<(Entity, &PaperChoice)>();
    let blue = papers.iter(app.world()).find(|(_, p)| p.0 == Paper::Blue).map(|(e, _)| e).expect("no blue paper button");
    app.world_mut().entity_mut(blue).insert(Interaction::Pressed);
    // One frame to choose the paper, the next for the field to take the keys.
    frame(&mut stepper, &mut app);
    frame(&mut stepper, &mut app);
    assert_eq!(app.world().resource::<PaperInHand>().0, Some(Paper::Blue));
    assert!(text_field_has_keys(app.world()), "the field did not open for the wish");
    let window = Entity::PLACEHOLDER;
    ime(&mut app, Ime::Preedit { window, value: "はなびがみたい".into(), cursor: None });
    ime(&mut app, Ime::Commit { window, value: "花火が見たい".into() });
    frame(&mut stepper, &mut app);
    press(&mut app, KeyCode::Enter, Key::Enter);
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    let hung =
        stepper.clients[friend].events.iter().find_map(|e| if let RoomEvent::Server(ServerEvent::WishHung(w)) = e { Some(w.clone()) } else { None });
    let hung = hung.expect("the friend never saw the wish");
    assert_eq!((hung.text.as_str(), hung.paper), ("花火が見たい", Paper::Blue));
    assert!(app.world().resource::<PaperInHand>().0.is_none(), "the field went back to being the chat's");
    // The friend hangs one too: two strips on my bamboo, and I may take down only mine.
    stepper.send_event(friend, ClientEvent::HangWish(Paper::Yellow, "みんなで あそびたい".into()));
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    let mut strips = app.world_mut().query::<&WishStrip>();
    assert_eq!(strips.iter(app.world()).count(), 2);
    let mut texts = app.world_mut().query::<&Text>();
    let shown: Vec<String> = texts.iter(app.world()).map(|t| t.0.replace(['\u{200b}', '\u{2060}'], "")).collect();
    assert!(
        shown.iter().any(|t| t == "花火が見たい") && shown.iter().any(|t| t == "みんなで あそびたい"),
        "the wishes are not listed to read: {shown:?}"
    );
    let mut take_downs = app.world_mut().query::<&TakeDown>();
    let mine: Vec<u32> = take_downs.iter(app.world()).map(|t| t.0).collect();
    assert_eq!(mine, vec![hung.id], "a child may take down only their own wish");
    let button = app.world_mut().query::<(Entity, &TakeDown)>().iter(app.world()).map(|(e, _)| e).next().unwrap();
    app.world_mut().entity_mut(button).insert(Interaction::Pressed);
    for _ in 0..4 {
        frame(&mut stepper, &mut app);
    }
    assert!(stepper.clients[friend].events.contains(&RoomEvent::Server(ServerEvent::WishTakenDown(hung.id))));
    let mut strips = app.world_mut().query::<&WishStrip>();
    assert_eq!(strips.iter(app.world()).count(), 1);
}

/// A headset's pose carries hands: what I pick up sits in my right hand,
/// drawn there at once and held there by the room (which holds it at the
/// pose's right hand), and it follows the hand as it moves.
#[test]
fn a_thing_held_in_a_headset_sits_in_my_right_hand_here_and_in_the_room() {
    use tsunagu_client::kit::me::Hands;
    use tsunagu_client::kit::me::LocalPlayer;
    use tsunagu_client::kit::me::LocalPose;

    let (mut stepper, mut app, _, _) = with_a_friend();
    let ball = wire_pos(stepper.server.room().play().objects()[0].pose.pos);
    // Standing a metre from the ball, the right hand held out toward it.
    let feet = (ball + Vec3::new(0.0, 0.0, 1.0)).with_y(0.0);
    let turn = facing(Vec3::NEG_Z);
    let pose_with_right_hand = |feet: Vec3, hand: Vec3| AvatarPose {
        body: to_wire(feet, turn),
        head: to_wire(feet + Vec3::Y * 1.5, turn),
        hands: Some([to_wire(feet + Vec3::new(-0.3, 1.0, -0.2), turn), to_wire(hand, turn)]),
    };
    let set_pose_at = |app: &mut App, at: Vec3, hand: Vec3| {
        let mut me = app.world_mut().query_filtered::<(&mut LocalPose, &mut Transform), With<LocalPlayer>>();
        let (mut pose, mut body) = me.single_mut(app.world_mut()).expect("my avatar");
        pose.0 = Some(pose_with_right_hand(at, hand));
        body.translation = at + Vec3::Y * tsunagu_sim::motion::AVATAR_HEIGHT / 2.0;
    };
    let set_pose = |app: &mut App, hand: Vec3| set_pose_at(app, feet, hand);
    // Walk over first (the room lets nobody jump across it).
    let me = app.world().resource::<tsunagu_client::kit::net::Connection>().read(|core| core.my_id()).expect("joined");
    let mut at = wire_pos(stepper.server.room().member(me).unwrap().pose.body.pos).with_y(0.0);
    for _ in 0..600 {
        at += (feet - at).clamp_length_max(WALK_SPEED / 30.0);
        set_pose_at(&mut app, at, at + Vec3::new(0.3, 1.0, -0.2));
        frame(&mut stepper, &mut app);
        if at.distance(feet) < 1e-3 {
            break;
        }
    }
    let hand = feet + Vec3::new(0.3, 1.1, -0.5);
    set_pose(&mut app, hand);
    frame(&mut stepper, &mut app);
    app.world_mut().write_message(tsunagu_client::kit::net::SendRoomEvent(ClientEvent::Grab(0)));
    for _ in 0..10 {
        set_pose(&mut app, hand);
        frame(&mut stepper, &mut app);
    }
    assert_eq!(app.world().resource::<Hands>().holding, Some(0), "the room did not give me the ball");
    let drawn = drawn_at(&mut app, 0).unwrap();
    assert!(drawn.distance(hand) < 0.01, "the ball is drawn at {drawn}, my right hand is at {hand}");
    let held = wire_pos(stepper.server.room().play().objects()[0].pose.pos);
    assert!(held.distance(hand) < 0.05, "the room holds the ball at {held}, my right hand is at {hand}");
    // The hand moves; the ball goes with it, here and in the room.
    let raised = hand + Vec3::new(-0.2, 0.3, 0.1);
    for _ in 0..10 {
        set_pose(&mut app, raised);
        frame(&mut stepper, &mut app);
    }
    assert!(drawn_at(&mut app, 0).unwrap().distance(raised) < 0.01);
    assert!(wire_pos(stepper.server.room().play().objects()[0].pose.pos).distance(raised) < 0.05);
}

#[test]
fn the_mouse_grabs_throws_and_puts_down_by_the_hands_rules() {
    use bevy::math::{Vec2, Vec3};
    use tsunagu_client::play::{DRAG_PIXELS, mouse_as_hand};
    use tsunagu_sim::objects::HandPlay;
    let aim = |_: Vec2| Vec3::new(0.0, 2.0, -3.0);
    assert_eq!(mouse_as_hand(None, Some(4), None, aim), HandPlay::Grab { id: 4, by_grip: false });
    assert_eq!(mouse_as_hand(None, None, None, aim), HandPlay::Nothing, "a click on nothing in reach picks nothing up");
    let dragged = Some((Vec2::new(100.0, 100.0), Vec2::new(100.0, 100.0 - DRAG_PIXELS * 2.0)));
    assert_eq!(mouse_as_hand(Some(4), None, dragged, aim), HandPlay::Release(Vec3::new(0.0, 2.0, -3.0)));
    let clicked = Some((Vec2::new(100.0, 100.0), Vec2::new(101.0, 100.0)));
    assert_eq!(mouse_as_hand(Some(4), None, clicked, aim), HandPlay::Release(Vec3::ZERO), "a click puts it down");
    assert_eq!(mouse_as_hand(Some(4), Some(5), None, aim), HandPlay::Nothing, "holding one, another is not picked up");
}
