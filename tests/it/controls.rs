//! The desktop controls in a headless Bevy app: real input messages in, the
//! body's movement (the room's one walking model, `tsunagu_sim::motion::step_body`) and the heading out.

use std::time::Duration;

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use bevy::time::TimeUpdateStrategy;
use tsunagu_client::AppState;
use tsunagu_client::kit::me::{Heading, LocalPlayer, ViewMode};
use tsunagu_client::kit::scene::Ward;
use tsunagu_client::movement::ControlsPlugin;
use tsunagu_sim::WardLayout;
use tsunagu_sim::motion::{SNAP_TURN_DEGREES, WALK_SPEED};

const FRAME: Duration = Duration::from_millis(16);

fn app() -> (App, Entity) {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, bevy::input::InputPlugin, TransformPlugin))
        .insert_resource(TimeUpdateStrategy::ManualDuration(FRAME))
        .insert_resource(Ward(WardLayout::ward()))
        .init_state::<AppState>()
        .add_plugins(ControlsPlugin);
    app.world_mut().resource_mut::<NextState<AppState>>().set(AppState::InRoom);
    app.update();
    let player = app.world_mut().spawn((LocalPlayer, Transform::from_xyz(0.0, 0.65, 1.8))).id();
    app.update();
    (app, player)
}

fn key(app: &mut App, code: KeyCode, text: &str, state: ButtonState) {
    let window = Entity::PLACEHOLDER;
    app.world_mut().write_message(KeyboardInput {
        key_code: code,
        logical_key: Key::Character(text.into()),
        state,
        text: Some(text.into()),
        repeat: false,
        window,
    });
}

/// How far one frame moves my body.
fn step_of(app: &mut App, player: Entity) -> Vec3 {
    let before = app.world().get::<Transform>(player).unwrap().translation;
    app.update();
    app.world().get::<Transform>(player).unwrap().translation - before
}

#[test]
fn holding_w_walks_forward_at_walking_speed() {
    let (mut app, player) = app();
    key(&mut app, KeyCode::KeyW, "w", ButtonState::Pressed);
    app.update();
    let step = step_of(&mut app, player).with_y(0.0);
    let expected = WALK_SPEED * FRAME.as_secs_f32();
    assert!(step.z < 0.0 && step.x.abs() < 1e-4, "W should walk toward the screen (−Z), got {step}");
    assert!((step.length() - expected).abs() < 1e-3, "step {} vs walking speed {expected}", step.length());
    key(&mut app, KeyCode::KeyW, "w", ButtonState::Released);
    assert!(step_of(&mut app, player).with_y(0.0).length() < 1e-6, "still walking after W was released");
}

#[test]
fn q_and_e_snap_turn_and_v_switches_the_view() {
    let (mut app, _) = app();
    let yaw = |app: &App| app.world().resource::<Heading>().yaw;
    let before = yaw(&app);
    key(&mut app, KeyCode::KeyQ, "q", ButtonState::Pressed);
    app.update();
    assert!((yaw(&app) - before - SNAP_TURN_DEGREES.to_radians()).abs() < 1e-4);
    key(&mut app, KeyCode::KeyQ, "q", ButtonState::Released);
    key(&mut app, KeyCode::KeyE, "e", ButtonState::Pressed);
    app.update();
    assert!((yaw(&app) - before).abs() < 1e-4, "E should undo Q");
    assert_eq!(*app.world().resource::<ViewMode>(), ViewMode::ThirdPerson);
    key(&mut app, KeyCode::KeyV, "v", ButtonState::Pressed);
    app.update();
    assert_eq!(*app.world().resource::<ViewMode>(), ViewMode::FirstPerson);
}

#[test]
fn a_clicked_spot_is_walked_to_and_the_avatar_turns_toward_it() {
    let (mut app, player) = app();
    app.world_mut().resource_mut::<Heading>().walk_target = Some(Vec3::new(2.0, 0.0, 1.8));
    let step = step_of(&mut app, player).with_y(0.0);
    assert!(step.x > 0.0 && step.z.abs() < 1e-4, "should walk toward +X, got {step}");
    let heading = *app.world().resource::<Heading>();
    assert!((heading.yaw + std::f32::consts::FRAC_PI_2).abs() < 1e-3, "should face +X, yaw {}", heading.yaw);
    // A key press takes over from the click.
    key(&mut app, KeyCode::KeyS, "s", ButtonState::Pressed);
    app.update();
    assert!(app.world().resource::<Heading>().walk_target.is_none());
}

#[test]
fn walking_goes_around_people_and_never_into_them() {
    use tsunagu_client::kit::room::RemoteAvatar;
    use tsunagu_protocol::PeerId;
    let (mut app, player) = app();
    let feet = Vec3::new(0.0, 0.0, 1.8);
    let walk_frames = |app: &mut App, frames: usize| -> Vec3 {
        let mut walked = Vec3::ZERO;
        for _ in 0..frames {
            walked += step_of(app, player).with_y(0.0);
        }
        walked
    };
    // Someone stands 1 m straight ahead: holding W stops at arm's length.
    let friend = app.world_mut().spawn((RemoteAvatar(PeerId(2)), Transform::from_translation(feet + Vec3::new(0.0, 0.0, -1.0)))).id();
    key(&mut app, KeyCode::KeyW, "w", ButtonState::Pressed);
    walk_frames(&mut app, 120);
    let at = app.world().get::<Transform>(player).unwrap().translation.with_y(0.0);
    let friend_at = app.world().get::<Transform>(friend).unwrap().translation;
    let gap = at.distance(friend_at);
    assert!((gap - 0.6).abs() < 0.01, "walked into a friend: {gap:.3} m apart");
    // Walking away is never stopped.
    key(&mut app, KeyCode::KeyW, "w", ButtonState::Released);
    key(&mut app, KeyCode::KeyS, "s", ButtonState::Pressed);
    let back = walk_frames(&mut app, 10);
    assert!(back.z > 0.2, "could not step back: {back}");
    key(&mut app, KeyCode::KeyS, "s", ButtonState::Released);
    // A spot clicked beyond them, a little to the side: walked to, around them.
    app.world_mut().get_mut::<Transform>(player).unwrap().translation = feet + Vec3::Y * 0.65;
    // A spot straight behind them too: nobody stands stuck in front of a friend.
    for beyond in [Vec3::new(0.15, 0.0, -2.0), Vec3::new(0.0, 0.0, -2.0)] {
        app.world_mut().get_mut::<Transform>(player).unwrap().translation = feet + Vec3::Y * 0.65;
        app.world_mut().resource_mut::<Heading>().walk_target = Some(feet + beyond);
        let mut closest = f32::MAX;
        for _ in 0..200 {
            walk_frames(&mut app, 1);
            let at = app.world().get::<Transform>(player).unwrap().translation.with_y(0.0);
            closest = closest.min(at.distance(friend_at));
        }
        let at = app.world().get::<Transform>(player).unwrap().translation.with_y(0.0);
        assert!(closest >= 0.6 - 1e-3, "passed through a friend: {closest:.3} m");
        assert!(at.distance(feet + beyond) < 0.05, "did not get round to {beyond}: stands at {at}");
    }
}
