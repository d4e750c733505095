//! Playing together on screen: the room's ball, blocks and darts drawn where
//! the server's snapshots put them (a thing I hold is drawn in my hands at
//! once, without waiting for the server), picked up with a click, thrown by
//! dragging and letting go, mouse only; the dartboard's last darts; and the
//! Tanabata wishes, hung on the bamboo and listed to read up close, written
//! in the chat's field, with a button to save a picture of the bamboo on this
//! PC. Nothing here is kept after leaving the room.

use bevy::prelude::*;
use tsunagu_protocol::{ClientEvent, QuantVec};
use tsunagu_sim::objects::{
    BALL_RADIUS, BLOCK_HALF, DART_RADIUS, GRAB_REACH, HandButtons, HandPlay, OBJECTS, ObjectKind, hand_play, hold_point, kind_of, pointed_thing,
    throw_velocity,
};

use crate::AppState;
use crate::kit::heard::{EnteredRoom, ThingHeld, ThingReleased};
use crate::kit::hud::{Drawer, FillSlot, OpenDrawer, Slot};
use crate::kit::me::Hands;
use crate::kit::me::LocalPose;
use crate::kit::me::{Heading, LocalPlayer, RoomMouse, local_pose};
use crate::kit::net::{Connection, NetSet, SendRoomEvent};
use crate::kit::room::RoomNow;
use crate::kit::room::{Thing, shown_things};
use crate::kit::scene::{Shapes, Ward};

pub mod darts;
pub mod wishes;

use darts::{DartsShown, expire_score_pops, hear_darts, place_board_labels, spawn_board_labels, write_board_line};
pub use wishes::{
    PaperChoice, PictureCamera, TakeDown, WishPanel, WishStrip, WishesShown, paper_color, picture_the_bamboo, spawn_wish_panel, wish_place,
};
use wishes::{hang_wishes, list_wishes, open_near_bamboo, picture_button, take_picture, wish_buttons};

/// The ball, blocks, darts and wishes, on screen and under the mouse.
pub struct PlayPlugin;

impl Plugin for PlayPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Hands>()
            .fill_slot(Slot::Drawer(Drawer::Wishes), spawn_wish_panel)
            .init_resource::<OpenDrawer>()
            .init_resource::<WishesShown>()
            .add_systems(OnEnter(AppState::InRoom), (spawn_things, spawn_board_labels))
            .add_systems(OnExit(AppState::InRoom), |mut hands: ResMut<Hands>| *hands = Hands::default())
            .add_systems(Update, (hear_hands, hear_darts).in_set(NetSet::Apply))
            .add_systems(Update, pick_and_throw.run_if(crate::kit::typing::not_typing).in_set(NetSet::LocalInput))
            .add_systems(
                Update,
                (
                    place_things.after(NetSet::LocalInput),
                    hang_wishes,
                    list_wishes,
                    wish_buttons,
                    picture_button,
                    open_near_bamboo,
                    take_picture,
                    show_hold_hint,
                )
                    .run_if(in_state(AppState::InRoom)),
            )
            .init_resource::<DartsShown>()
            .add_systems(
                PostUpdate,
                (write_board_line, expire_score_pops, place_board_labels)
                    .chain()
                    .after(TransformSystems::Propagate)
                    .run_if(in_state(AppState::InRoom)),
            );
    }
}

#[derive(Component)]
pub(crate) struct HoldHint;

/// A press that moves less than this, pixels, is a click (put down), not a throw.
pub const DRAG_PIXELS: f32 = 14.0;

fn spawn_things(mut commands: Commands, shapes: Res<Shapes>, mut materials: ResMut<Assets<StandardMaterial>>) {
    let mut matte = |color: Color| materials.add(StandardMaterial { base_color: color, perceptual_roughness: 0.85, ..default() });
    let block_colors = [0xf26b6b, 0x6bb8f2, 0xf2d06b, 0x7fd67f].map(|c: u32| Color::srgb_u8((c >> 16) as u8, (c >> 8) as u8, c as u8));
    let (ball_red, ball_white) = (matte(Color::srgb_u8(0xff, 0x7a, 0x7a)), matte(Color::WHITE));
    let (shaft, flight, tip) =
        (matte(Color::srgb_u8(0x5a, 0x6b, 0xd6)), matte(Color::srgb_u8(0xff, 0xb3, 0x3b)), matte(Color::srgb_u8(0x60, 0x60, 0x66)));
    for id in 0..OBJECTS as u16 {
        let Some(kind) = kind_of(id) else { continue };
        // Hidden until a snapshot places it.
        let mut thing = commands.spawn((Thing(id), Transform::default(), Visibility::Hidden, DespawnOnExit(AppState::InRoom)));
        match kind {
            ObjectKind::Ball => {
                thing.insert((Mesh3d(shapes.sphere.clone()), MeshMaterial3d(ball_red.clone()), Transform::from_scale(Vec3::splat(BALL_RADIUS))));
                // A white band, so a rolling ball is seen to roll.
                thing.with_child((
                    Mesh3d(shapes.sphere.clone()),
                    MeshMaterial3d(ball_white.clone()),
                    Transform::from_scale(Vec3::new(1.01, 0.3, 1.01)),
                ));
            }
            ObjectKind::Block => {
                let color = block_colors[usize::from(id) % block_colors.len()];
                thing.insert((Mesh3d(shapes.cube.clone()), MeshMaterial3d(matte(color)), Transform::from_scale(Vec3::splat(BLOCK_HALF * 2.0))));
            }
            ObjectKind::Dart => {
                // Pointing along +X, the tip a body's radius ahead of the centre.
                let along_x = Quat::from_rotation_z(-std::f32::consts::FRAC_PI_2);
                thing.with_children(|dart| {
                    dart.spawn((
                        Mesh3d(shapes.cylinder.clone()),
                        MeshMaterial3d(shaft.clone()),
                        Transform::from_translation(Vec3::X * -0.03).with_rotation(along_x).with_scale(Vec3::new(0.009, 0.13, 0.009)),
                    ));
                    dart.spawn((
                        Mesh3d(shapes.sphere.clone()),
                        MeshMaterial3d(tip.clone()),
                        Transform::from_translation(Vec3::X * DART_RADIUS * 1.3).with_scale(Vec3::new(0.025, 0.008, 0.008)),
                    ));
                    for turn in [0.0, std::f32::consts::FRAC_PI_2] {
                        dart.spawn((
                            Mesh3d(shapes.cube.clone()),
                            MeshMaterial3d(flight.clone()),
                            Transform::from_translation(Vec3::X * -0.09)
                                .with_rotation(Quat::from_rotation_x(turn))
                                .with_scale(Vec3::new(0.05, 0.045, 0.003)),
                        ));
                    }
                });
            }
        }
    }
}

/// My hand point now, from my own avatar (no waiting for the server): the
/// right hand where my pose has hands (a headset), as the server holds it.
fn my_hand_point(player: &Transform, heading: &Heading, pose: Option<&LocalPose>) -> Vec3 {
    let (feet, yaw, _, _) = local_pose(player, heading);
    let right = pose.and_then(|p| p.0).and_then(|p| p.hands).map(|[_, right]| tsunagu_sim::pose::from_wire(right).0);
    hold_point(feet, yaw, right)
}

/// My body and the pose I send (whose right hand holds what a headset holds).
type MyBodyAndPose<'w, 's> = Query<'w, 's, (&'static Transform, Option<&'static LocalPose>), (With<LocalPlayer>, Without<Thing>)>;

fn place_things(
    connection: Option<Res<Connection>>,
    hands: Res<Hands>,
    time: Res<Time<Real>>,
    heading: Res<Heading>,
    player: MyBodyAndPose,
    mut things: Query<(&Thing, &mut Transform, &mut Visibility)>,
) {
    let Some(connection) = connection else { return };
    let mine = player.single().ok().map(|(p, pose)| my_hand_point(p, &heading, pose));
    connection.read(|core| {
        let room = core.room();
        let Some(t) = room.render_time(time.elapsed()) else { return };
        for (thing, mut transform, mut visibility) in &mut things {
            let kind = kind_of(thing.0);
            let held_here = hands.holding == Some(thing.0) && mine.is_some();
            let (at, turn) = match (held_here, room.sample_thing(thing.0, t)) {
                (true, _) => (mine.unwrap_or_default(), Quat::from_rotation_y(heading.yaw) * Quat::from_rotation_y(std::f32::consts::FRAC_PI_2)),
                (false, Some((at, turn))) => {
                    if kind == Some(ObjectKind::Dart) {
                        // A dart flies tip first: along its path when it moves, else as it lies or sticks (+X).
                        let before = room.sample_thing(thing.0, t - 0.05).map_or(at, |(p, _)| p);
                        let path = at - before;
                        (at, if path.length() > 0.01 { Quat::from_rotation_arc(Vec3::X, path.normalize()) } else { Quat::IDENTITY })
                    } else {
                        (at, turn)
                    }
                }
                (false, None) => continue,
            };
            transform.translation = at;
            transform.rotation = turn;
            *visibility = Visibility::Inherited;
        }
    });
}

/// Keep track of what I hold; wishes and darts as they come.
fn hear_hands(
    mut entered: MessageReader<EnteredRoom>,
    mut held: MessageReader<ThingHeld>,
    mut released: MessageReader<ThingReleased>,
    mut hands: ResMut<Hands>,
    room: Res<RoomNow>,
) {
    if entered.read().count() > 0 {
        *hands = Hands::default();
    }
    let me = room.my_id();
    for ThingHeld { by, thing } in held.read() {
        if Some(*by) == me {
            hands.holding = Some(*thing);
            hands.reaching_for = None;
        }
    }
    for ThingReleased { thing } in released.read() {
        if hands.holding == Some(*thing) {
            hands.holding = None;
            hands.drag_from = None;
        }
    }
}

/// Where the cursor's ray first meets the room's walls, floor or ceiling.
fn room_point(ray: Ray3d, ward: &tsunagu_sim::WardLayout) -> Vec3 {
    let half = ward.interior_half;
    let planes = [
        (Vec3::ZERO, Vec3::Y),
        (Vec3::Y * ward.ceiling, Vec3::NEG_Y),
        (Vec3::X * half.x, Vec3::NEG_X),
        (Vec3::X * -half.x, Vec3::X),
        (Vec3::Z * half.y, Vec3::NEG_Z),
        (Vec3::Z * -half.y, Vec3::Z),
    ];
    let nearest = planes.iter().filter_map(|(at, normal)| ray.intersect_plane(*at, InfinitePlane3d::new(*normal))).fold(f32::INFINITY, f32::min);
    ray.get_point(nearest.min(10.0))
}

/// Click a thing to pick it up (walking over first if it is too far);
/// while holding, drag and let go to throw toward the cursor, or click to
/// put it down.
fn pick_and_throw(
    mouse: RoomMouse,
    heading: Res<Heading>,
    player: Query<(&Transform, Option<&LocalPose>), With<LocalPlayer>>,
    things: Query<(&Thing, &Transform, &Visibility), Without<LocalPlayer>>,
    ward: Res<Ward>,
    mut hands: ResMut<Hands>,
    mut send: MessageWriter<SendRoomEvent>,
) {
    let Ok((player, pose)) = player.single() else { return };
    let hand = my_hand_point(player, &heading, pose);
    let cursor = mouse.cursor();
    // The mouse as a hand: letting go after a press while holding is the
    // trigger's second pull (a drag throws toward the cursor, a click puts
    // down); a click on a thing is the first pull, once it is within reach.
    let mut let_go_at = None;
    if hands.holding.is_some() {
        if mouse.pressed_on_room() {
            hands.drag_from = cursor;
        }
        if mouse.released() {
            let_go_at = hands.drag_from.take().zip(cursor);
        }
    } else if mouse.pressed_on_room() {
        let ray = cursor.and_then(|c| mouse.ray_through(c));
        // Too far: the click also walks there (controls), and it is picked up on arrival.
        hands.reaching_for = ray.and_then(|ray| pointed_thing(ray.origin, *ray.direction, shown_things(&things)).map(|(id, _)| id));
    }
    let in_reach = hands
        .reaching_for
        .filter(|id| things.iter().find(|(t, _, _)| t.0 == *id).is_some_and(|(_, at, _)| at.translation.distance(hand) <= GRAB_REACH * 0.95));
    let aim = |to: Vec2| {
        let Some(ray) = mouse.ray_through(to) else { return Vec3::ZERO };
        let mut target = room_point(ray, &ward.0);
        if hands.holding.and_then(kind_of) == Some(ObjectKind::Dart) {
            // The dart's tip leads its centre: aim the centre a tip short.
            target -= (target - hand).normalize_or_zero() * DART_RADIUS;
        }
        throw_velocity(hand, target)
    };
    match mouse_as_hand(hands.holding, in_reach, let_go_at, aim) {
        HandPlay::Grab { id, .. } => {
            send.write(SendRoomEvent(ClientEvent::Grab(id)));
            hands.reaching_for = None;
        }
        HandPlay::Release(velocity) => {
            if let Some(id) = hands.holding {
                send.write(SendRoomEvent(ClientEvent::Release(id, QuantVec::from_metres(velocity.to_array()))));
            }
        }
        HandPlay::Nothing => {}
    }
}

/// The mouse played by the hand's rules ([`hand_play`]): a press then a
/// release while holding (`let_go`: from, to, window pixels) is the trigger's
/// second pull, thrown at `aim(to)` when dragged, put down when not; a thing
/// clicked and now within reach is the first pull.
pub fn mouse_as_hand(holding: Option<u16>, in_reach: Option<u16>, let_go: Option<(Vec2, Vec2)>, aim: impl FnOnce(Vec2) -> Vec3) -> HandPlay {
    let pulled = HandButtons { trigger_pulled: if holding.is_some() { let_go.is_some() } else { in_reach.is_some() }, ..default() };
    let throw = || match let_go {
        Some((from, to)) if from.distance(to) >= DRAG_PIXELS => aim(to),
        _ => Vec3::ZERO,
    };
    hand_play(holding.map(|id| (id, false)), in_reach, pulled, throw)
}

fn show_hold_hint(hands: Res<Hands>, mut hints: Query<&mut Node, With<HoldHint>>) {
    if !hands.is_changed() {
        return;
    }
    for mut node in &mut hints {
        node.display = if hands.holding.is_some() { Display::Flex } else { Display::None };
    }
}
