//! Rest in the Bevy client, headless, through a real room server:
//! 「やすみちゅう」 — my button lights my lamp for everyone (and the window
//! draws less), a friend's lamp shows over their head here, and pressing
//! again ends it; and breaks from the headset — the staff panel shows each
//! person's minutes in one, and the prompt's timing.

use std::time::Duration;

use bevy::prelude::*;
use tsunagu_client::kit::room::AvatarInfo;
use tsunagu_client::rest::{RestButton, RestingLamp};
use tsunagu_client_core::ClientCore;
use tsunagu_protocol::{AvatarLook, ClientEvent, Hello, PeerId};
use tsunagu_testkit::{ROOM_CODE, Stepper, TICK};

use crate::expression::frame;

/// The rest button this test presses (the wrist's stands beside it).
#[derive(Component)]
struct PressedHere;

/// Whether the lamp over `who`'s avatar shows here.
fn lamp_lit(app: &mut App, who: PeerId) -> Option<bool> {
    let mut avatars = app.world_mut().query::<(&AvatarInfo, &Children)>();
    let children: Vec<Entity> = avatars.iter(app.world()).find(|(info, _)| info.0.id == who)?.1.to_vec();
    children
        .iter()
        .find(|c| app.world().get::<RestingLamp>(**c).is_some())
        .map(|lamp| app.world().get::<Visibility>(*lamp) == Some(&Visibility::Inherited))
}

#[test]
fn resting_lights_a_lamp_everyone_sees_and_the_pc_draws_less() {
    let mut stepper = Stepper::new(4);
    let hello = Hello::new(ROOM_CODE, "わたし", AvatarLook::with_color([255, 160, 80])).from_device(1);
    let mut app = tsunagu_client::headless::room_app(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO), TICK);
    app.insert_resource(bevy::winit::WinitSettings::game());
    let friend = stepper.connect(ROOM_CODE, "ともだち");
    app.world_mut().spawn((Button, RestButton, PressedHere, Interaction::None, children![Text::new("")]));
    // The headset's wrist menu has the button too.
    app.world_mut().spawn((tsunagu_client::kit::hud::Slot::WristButtons, Node::default()));
    for _ in 0..8 {
        frame(&mut stepper, &mut app);
    }
    let me = app.world().resource::<tsunagu_client::kit::net::Connection>().read(|core| core.my_id()).expect("joined");
    let friend_id = stepper.clients[friend].id().unwrap();
    assert_eq!(lamp_lit(&mut app, friend_id), Some(false), "no lamp on the friend's avatar");

    let press = |app: &mut App| {
        let button = app.world_mut().query_filtered::<Entity, With<PressedHere>>().single(app.world()).unwrap();
        app.world_mut().entity_mut(button).insert(Interaction::Pressed);
    };
    press(&mut app);
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(stepper.clients[friend].peers().get(&me).map(|p| p.resting), Some(true), "the friend does not see me resting");
    let calm = app.world().resource::<bevy::winit::WinitSettings>().focused_mode;
    assert!(matches!(calm, bevy::winit::UpdateMode::Reactive { .. }), "the window still draws every frame while resting: {calm:?}");
    let labels: Vec<String> = {
        let mut buttons = app.world_mut().query_filtered::<&Children, With<RestButton>>();
        let texts: Vec<Entity> = buttons.iter(app.world()).map(|c| c[0]).collect();
        texts.iter().map(|t| app.world().get::<Text>(*t).unwrap().0.replace('\u{2060}', "")).collect()
    };
    assert_eq!(labels, ["やすみちゅうを おわる", "やすみちゅうを おわる"], "the drawer's and the wrist's buttons");

    // The friend rests too: their lamp lights here.
    stepper.send_event(friend, ClientEvent::Resting(true));
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(lamp_lit(&mut app, friend_id), Some(true), "the friend's lamp is not lit here");

    // Pressing again ends it, and the window draws as before.
    for mut interaction in app.world_mut().query_filtered::<&mut Interaction, With<RestButton>>().iter_mut(app.world_mut()) {
        interaction.set_if_neq(Interaction::None);
    }
    frame(&mut stepper, &mut app);
    press(&mut app);
    for _ in 0..6 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(stepper.clients[friend].peers().get(&me).map(|p| p.resting), Some(false));
    assert!(matches!(app.world().resource::<bevy::winit::WinitSettings>().focused_mode, bevy::winit::UpdateMode::Continuous));
}

#[test]
fn the_staff_panel_shows_minutes_in_the_headset_and_the_prompt_comes_when_due() {
    use tsunagu_client::headset::break_due;
    use tsunagu_protocol::QuantPose;
    assert!(!break_due(0.0, 24.0 * 60.0, 25) && break_due(0.0, 25.0 * 60.0, 25), "the prompt is not due at 25 minutes");
    assert!(!break_due(0.0, 500.0 * 60.0, 0), "0 means never");

    let mut stepper = Stepper::new(4);
    let hello = Hello::new(tsunagu_testkit::STAFF_CODE, "ナース", AvatarLook::with_color([255, 160, 80])).from_device(1);
    let mut app = tsunagu_client::headless::room_app(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO), TICK);
    app.world_mut().commands().spawn(Node::default()).with_children(tsunagu_client::staff::spawn_staff_panel);
    let in_vr = stepper.connect(ROOM_CODE, "ゴーグル");
    let at_screen = stepper.connect(ROOM_CODE, "がめん");
    for n in 0..20 {
        let mut pose = pose_at(Vec3::new(1.0, 0.0, 0.0));
        let hand = |x: f32| QuantPose::new([x, 1.0, 0.0], Quat::IDENTITY.to_array());
        pose.hands = Some([hand(0.7), hand(1.3)]);
        stepper.send_pose(in_vr, pose);
        stepper.send_pose(at_screen, pose_at(Vec3::new(-1.0, 0.0, 0.1 * n as f32)));
        frame(&mut stepper, &mut app);
    }
    let rows: Vec<String> = app.world_mut().query::<&Text>().iter(app.world()).map(|t| t.0.replace('\u{2060}', "")).collect();
    let row = |name: &str| rows.iter().find(|t| t.starts_with(&format!("{name} ・"))).cloned().unwrap_or_default();
    assert!(row("ゴーグル").contains("ヘッドセット 0 ふん"), "the headset's minutes are not shown: {rows:?}");
    assert!(!row("がめん").contains("ヘッドセット"), "someone at the screen is shown in a headset: {}", row("がめん"));
}

/// Standing at `at`, looking ahead, hands not tracked.
fn pose_at(at: Vec3) -> tsunagu_protocol::AvatarPose {
    use tsunagu_protocol::QuantPose;
    let body = QuantPose::new(at.to_array(), Quat::IDENTITY.to_array());
    let head = QuantPose::new((at + Vec3::Y * 1.15).to_array(), Quat::IDENTITY.to_array());
    tsunagu_protocol::AvatarPose { body, head, hands: None }
}
