//! Desktop controls, all slow and forgiving: WASD or arrows to walk, click the
//! floor to walk there (mouse only, one hand), Q/E to snap-turn, drag with the
//! right button to look around, V to switch between first and third person.

use bevy::input::mouse::AccumulatedMouseMotion;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use tsunagu_sim::motion::{AVATAR_HEIGHT, AVATAR_RADIUS, EYE_HEIGHT, WALK_SPEED, facing, snap_turn, step_body, step_toward};
use tsunagu_sim::pose::to_wire;

use crate::AppState;
use crate::kit::me::{CameraPlaced, Heading, LocalPlayer, MainCamera, ViewMode, local_pose};
use crate::kit::room::{Avatar, HeadLook};
use crate::kit::typing::RoomKeys;

const MAX_PITCH: f32 = 1.2;
const LOOK_SENSITIVITY: f32 = 0.004;

/// Camera, local player and the input systems.
pub struct ControlsPlugin;

impl Plugin for ControlsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ViewMode>()
            .init_resource::<Heading>()
            .add_systems(Startup, spawn_camera)
            .add_systems(
                Update,
                (
                    keyboard_turn_and_view.run_if(crate::kit::typing::not_typing),
                    mouse_look,
                    click_to_walk,
                    walk,
                    write_local_pose.run_if(not(crate::kit::me::headset_running)),
                )
                    .chain()
                    .in_set(crate::kit::net::NetSet::LocalInput)
                    .run_if(in_state(AppState::InRoom)),
            )
            .add_systems(PostUpdate, follow_camera.in_set(CameraPlaced).before(TransformSystems::Propagate).run_if(in_state(AppState::InRoom)));
    }
}

fn spawn_camera(mut commands: Commands) {
    // Before joining, the camera shows the room from its entrance.
    commands.spawn((MainCamera, Camera3d::default(), Transform::from_xyz(0.0, 2.3, 4.6).looking_at(Vec3::new(0.0, 1.2, -2.0), Vec3::Y)));
}

fn keyboard_turn_and_view(keys: Res<ButtonInput<KeyCode>>, mut heading: ResMut<Heading>, mut view: ResMut<ViewMode>) {
    if keys.just_pressed(KeyCode::KeyQ) {
        heading.yaw = snap_turn(heading.yaw, 1);
    }
    if keys.just_pressed(KeyCode::KeyE) {
        heading.yaw = snap_turn(heading.yaw, -1);
    }
    if keys.just_pressed(KeyCode::KeyV) {
        *view = match *view {
            ViewMode::ThirdPerson => ViewMode::FirstPerson,
            ViewMode::FirstPerson => ViewMode::ThirdPerson,
        };
    }
}

fn mouse_look(buttons: Res<ButtonInput<MouseButton>>, motion: Res<AccumulatedMouseMotion>, mut heading: ResMut<Heading>) {
    if buttons.pressed(MouseButton::Right) && motion.delta != Vec2::ZERO {
        heading.yaw -= motion.delta.x * LOOK_SENSITIVITY;
        heading.pitch = (heading.pitch - motion.delta.y * LOOK_SENSITIVITY).clamp(-MAX_PITCH, MAX_PITCH);
    }
}

/// Where a cursor position hits the floor, if it does.
pub fn floor_point(camera: &Camera, camera_transform: &GlobalTransform, cursor: Vec2) -> Option<Vec3> {
    let ray = camera.viewport_to_world(camera_transform, cursor).ok()?;
    let distance = ray.intersect_plane(Vec3::ZERO, InfinitePlane3d::new(Vec3::Y))?;
    Some(ray.get_point(distance))
}

fn click_to_walk(
    buttons: Res<ButtonInput<MouseButton>>,
    windows: Query<&Window, With<PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), With<MainCamera>>,
    ui_hover: Query<&Interaction>,
    hands: Option<Res<crate::kit::me::Hands>>,
    mut heading: ResMut<Heading>,
) {
    // While holding something, a press aims a throw.
    let aiming = hands.is_some_and(|h| h.busy());
    if !buttons.just_pressed(MouseButton::Left) || aiming || ui_hover.iter().any(|i| *i != Interaction::None) {
        return;
    }
    let (Ok(window), Ok((camera, camera_transform))) = (windows.single(), cameras.single()) else { return };
    if let Some(point) = window.cursor_position().and_then(|c| floor_point(camera, camera_transform, c)) {
        heading.walk_target = Some(point);
    }
}

fn walk(
    time: Res<Time>,
    keys: RoomKeys,
    mut heading: ResMut<Heading>,
    mut player: Query<&mut Transform, With<LocalPlayer>>,
    people: Query<&Transform, (With<crate::kit::room::RemoteAvatar>, Without<LocalPlayer>)>,
    ward: Res<crate::kit::scene::Ward>,
) {
    let Ok(mut transform) = player.single_mut() else { return };
    let dt = time.delta_secs();
    // Letters typed into the chat are not steps.
    let pressed = |codes: [KeyCode; 2]| keys.pressed(codes);
    let mut input = Vec2::ZERO;
    if pressed([KeyCode::KeyW, KeyCode::ArrowUp]) {
        input.y += 1.0;
    }
    if pressed([KeyCode::KeyS, KeyCode::ArrowDown]) {
        input.y -= 1.0;
    }
    if pressed([KeyCode::KeyA, KeyCode::ArrowLeft]) {
        input.x -= 1.0;
    }
    if pressed([KeyCode::KeyD, KeyCode::ArrowRight]) {
        input.x += 1.0;
    }
    let yaw = Quat::from_rotation_y(heading.yaw);
    let mut step = Vec3::ZERO;
    if input != Vec2::ZERO {
        // Keys take over from a click.
        heading.walk_target = None;
        let direction = yaw * Vec3::new(input.x, 0.0, -input.y).normalize();
        step = direction * WALK_SPEED * dt;
    } else if let Some(target) = heading.walk_target {
        let (next, arrived) = step_toward(transform.translation.with_y(0.0), target, dt);
        step = next - transform.translation.with_y(0.0);
        if step.length_squared() > 1e-8 {
            heading.yaw = yaw_of(facing(step));
        }
        if arrived {
            heading.walk_target = None;
        }
    }
    // The room's one walking model: inside the ward, clear of furniture, around
    // people rather than into them (the room would push me back out anyway).
    let feet = transform.translation.with_y(0.0);
    let around = |step: Vec3| step_body(&ward.0, feet, step, step.length(), people.iter().map(|t| t.translation.with_y(0.0)), 2.0 * AVATAR_RADIUS);
    let mut next = around(step);
    // Someone straight in the way of a clicked spot: step off to the side
    // (to the right) to go around them rather than stand there stuck.
    if heading.walk_target.is_some() && (next - feet).length() < step.length() * 0.1 {
        next = around(Quat::from_rotation_y(-std::f32::consts::FRAC_PI_4) * step);
    }
    transform.translation = next + Vec3::Y * (AVATAR_HEIGHT / 2.0);
}

fn yaw_of(rotation: Quat) -> f32 {
    rotation.to_euler(EulerRot::YXZ).0
}

/// The local player's body, avatar and the camera that follows them.
#[derive(bevy::ecs::system::SystemParam)]
pub struct CameraRig<'w, 's> {
    player: Query<'w, 's, (&'static Transform, &'static Children), MyBodyOnly>,
    avatars: Query<'w, 's, (&'static mut Transform, &'static mut Visibility, &'static mut HeadLook), AvatarsOnly>,
    camera: Query<'w, 's, &'static mut Transform, CameraOnly>,
}

/// My body, not the camera.
type MyBodyOnly = (With<LocalPlayer>, Without<MainCamera>);
/// Avatars, neither my body nor the camera.
type AvatarsOnly = (With<Avatar>, Without<LocalPlayer>, Without<MainCamera>);
/// The camera, neither my body nor an avatar.
type CameraOnly = (With<MainCamera>, Without<LocalPlayer>, Without<Avatar>);

/// Keeps the camera (and my avatar) with my body and heading.
pub fn follow_camera(view: Res<ViewMode>, ward: Res<crate::kit::scene::Ward>, heading: Res<Heading>, rig: CameraRig) {
    let CameraRig { mut player, mut avatars, mut camera } = rig;
    let Ok((body, kids)) = player.single_mut() else { return };
    let Ok(mut camera) = camera.single_mut() else { return };
    let feet = body.translation - Vec3::Y * (AVATAR_HEIGHT / 2.0);
    let yaw = Quat::from_rotation_y(heading.yaw);
    let look = yaw * Quat::from_rotation_x(heading.pitch);
    for kid in kids.iter() {
        if let Ok((mut transform, mut visibility, mut head)) = avatars.get_mut(kid) {
            transform.translation = -Vec3::Y * (AVATAR_HEIGHT / 2.0);
            transform.rotation = yaw;
            *visibility = if *view == ViewMode::FirstPerson { Visibility::Hidden } else { Visibility::Inherited };
            head.0 = Quat::from_rotation_x(heading.pitch * 0.6);
        }
    }
    let eye = feet + Vec3::Y * EYE_HEIGHT;
    *camera = match *view {
        ViewMode::FirstPerson => Transform::from_translation(eye).with_rotation(look),
        ViewMode::ThirdPerson => {
            let behind = look * Vec3::new(0.0, 0.0, 3.0) + Vec3::Y * 1.0;
            // Stay inside the room: a camera behind a wall would see only the wall.
            let limit = ward.0.interior_half - Vec2::splat(0.15);
            let at = eye + behind;
            let at = Vec3::new(at.x.clamp(-limit.x, limit.x), at.y.clamp(0.3, ward.0.ceiling - 0.2), at.z.clamp(-limit.y, limit.y));
            Transform::from_translation(at).looking_at(eye + look * Vec3::NEG_Z * 2.0, Vec3::Y)
        }
    };
}

/// The desktop's pose to send: body from the physics body, head from the heading.
fn write_local_pose(heading: Res<Heading>, mut player: Query<(&Transform, &mut crate::kit::me::LocalPose), With<LocalPlayer>>) {
    for (body, mut pose) in &mut player {
        let (feet, yaw, eye, look) = local_pose(body, &heading);
        pose.0 = Some(tsunagu_protocol::AvatarPose { body: to_wire(feet, yaw), head: to_wire(eye, look), hands: None });
    }
}
