//! Playing together on screen: the room's ball, blocks and darts drawn where
//! the server's snapshots put them (a thing I hold is drawn in my hands at
//! once, without waiting for the server), picked up with a click, thrown by
//! dragging and letting go, mouse only; the dartboard's last darts; and the
//! Tanabata wishes, hung on the bamboo and listed to read up close, written
//! in the chat's field, with a button to save a picture of the bamboo on this
//! PC. Nothing here is kept after leaving the room.

use std::path::PathBuf;

use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::window::PrimaryWindow;
use tsunagu_i18n::Arg;
use tsunagu_protocol::{ClientEvent, DartScore, Paper, PeerId, QuantVec, Role, Wish};
use tsunagu_sim::objects::{
    BALL_RADIUS, BLOCK_HALF, DART_RADIUS, GRAB_REACH, HandButtons, HandPlay, OBJECTS, ObjectKind, hand_play, hold_point, kind_of, pointed_thing,
    throw_velocity,
};

use crate::kit::heard::{DartLanded, EnteredRoom, ThingHeld, ThingReleased};
use crate::kit::hud::{FillSlot, Slot};
use crate::kit::me::Hands;
use crate::kit::me::{Heading, LocalPlayer, MainCamera, local_pose};
use crate::kit::net::{Connection, LocalPose, NetSet, SendRoomEvent};
use crate::kit::palette;
use crate::kit::room::{Thing, shown_things};
use crate::kit::room::{hang_over, on_screen};
use crate::kit::scene::{Shapes, Ward};
use crate::kit::text::{Localized, Texts, UiFont, ui_text};
use crate::kit::typing::PaperInHand;
use crate::{AppState, Settings};

/// The ball, blocks, darts and wishes, on screen and under the mouse.
pub struct PlayPlugin;

impl Plugin for PlayPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Hands>()
            .fill_slot(Slot::Buttons, spawn_wish_toggle)
            .fill_slot(Slot::Panels, spawn_wish_panel)
            .init_resource::<WishesShown>()
            .add_systems(OnEnter(AppState::InRoom), (spawn_things, spawn_board_labels))
            .add_systems(OnExit(AppState::InRoom), |mut hands: ResMut<Hands>| *hands = Hands::default())
            .add_systems(Update, (hear_hands, hear_darts).in_set(NetSet::Apply))
            .add_systems(Update, pick_and_throw.run_if(crate::kit::typing::not_typing).in_set(NetSet::LocalInput))
            .add_systems(
                Update,
                (place_things.after(NetSet::LocalInput), hang_wishes, list_wishes, wish_buttons, toggle_wish_panel, take_picture, show_hold_hint)
                    .run_if(in_state(AppState::InRoom)),
            )
            .add_systems(PostUpdate, place_board_labels.after(TransformSystems::Propagate).run_if(in_state(AppState::InRoom)));
    }
}

/// A paper strip on the bamboo.
#[derive(Component)]
pub struct WishStrip(pub u32);

/// The list of wishes in the Tanabata panel (rebuilt when they change).
#[derive(Component)]
struct WishRows;

/// The Tanabata panel (wishes, paper colours, picture button).
#[derive(Component)]
pub struct WishPanel;

#[derive(Component)]
struct WishToggle;

/// A paper colour button: starts writing a wish on that paper.
#[derive(Component)]
pub struct PaperChoice(pub Paper);

/// The button that takes wish `.0` down.
#[derive(Component)]
pub struct TakeDown(pub u32);

#[derive(Component)]
struct SavePicture;

#[derive(Component)]
struct PictureNotice;

#[derive(Component)]
struct HoldHint;

/// The last darts, over the board.
#[derive(Component)]
struct ScoreBoard;

/// "Bullseye! 50 points", popping over the board for a moment.
#[derive(Component)]
pub struct ScorePop {
    until: f32,
}

/// The wishes the strips were last built from, and whether the panel is open.
#[derive(Resource, Default)]
pub struct WishesShown {
    wishes: Option<Vec<Wish>>,
    /// The panel was opened with its button (it also opens near the bamboo).
    pub opened: bool,
}

/// A camera drawing the bamboo into an image to save, and its progress.
#[derive(Component)]
pub struct PictureCamera {
    image: Handle<Image>,
    path: PathBuf,
    frames: u32,
}

/// The way the bamboo's wishes face: from its corner toward the middle of the room.
const TOWARD_THE_ROOM: Vec3 = Vec3::new(-0.8, 0.0, 0.6);

/// The panel is open within this distance of the bamboo, metres.
const NEAR_BAMBOO: f32 = 3.5;
/// A press that moves less than this, pixels, is a click (put down), not a throw.
const DRAG_PIXELS: f32 = 14.0;
/// How long a dart's score stays up, seconds.
const SCORE_POP_SECONDS: f32 = 2.5;

/// The paper's colour on screen.
pub fn paper_color(paper: Paper) -> Color {
    match paper {
        Paper::Red => Color::srgb_u8(0xf2, 0x7a, 0x7a),
        Paper::Blue => Color::srgb_u8(0x7a, 0xb8, 0xf2),
        Paper::Yellow => Color::srgb_u8(0xf7, 0xd3, 0x5c),
        Paper::White => Color::srgb_u8(0xfa, 0xf7, 0xf0),
        Paper::Purple => Color::srgb_u8(0xc3, 0x9b, 0xe8),
    }
}

fn paper_key(paper: Paper) -> &'static str {
    match paper {
        Paper::Red => "paper-red",
        Paper::Blue => "paper-blue",
        Paper::Yellow => "paper-yellow",
        Paper::White => "paper-white",
        Paper::Purple => "paper-purple",
    }
}

/// Where the wish in `slot` hangs: around the three stalks, from low to
/// high, so the first wishes are at a child's eye height.
pub fn wish_place(bamboo: Vec3, slot: u8) -> Vec3 {
    let stalks = [Vec3::ZERO, Vec3::new(0.18, 0.0, 0.12), Vec3::new(-0.15, 0.0, 0.1)];
    let (stalk, level) = (usize::from(slot) % 3, f32::from(slot / 3));
    let angle = level * 2.4 + stalk as f32 * 2.1;
    bamboo + stalks[stalk] + Vec3::new(angle.cos(), 0.0, angle.sin()) * 0.33 + Vec3::Y * (0.75 + 0.16 * level)
}

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

fn place_things(
    connection: Option<Res<Connection>>,
    hands: Res<Hands>,
    time: Res<Time<Real>>,
    heading: Res<Heading>,
    player: Query<(&Transform, Option<&LocalPose>), (With<LocalPlayer>, Without<Thing>)>,
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
    connection: Option<Res<Connection>>,
) {
    if entered.read().count() > 0 {
        *hands = Hands::default();
    }
    let me = connection.and_then(|c| c.read(|core| core.my_id()));
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

/// A dart's score, said over the board for a moment.
fn hear_darts(
    mut commands: Commands,
    mut landed: MessageReader<DartLanded>,
    connection: Option<Res<Connection>>,
    settings: Res<Settings>,
    texts: Res<Texts>,
    font: Res<UiFont>,
    time: Res<Time<Real>>,
    pops: Query<Entity, With<ScorePop>>,
) {
    let Some(connection) = connection else { return };
    for DartLanded { by, score } in landed.read() {
        {
            {
                let name = connection.read(|core| nickname(core, *by));
                let ring = texts.get(settings.language, ring_key(*score));
                let args = [("name", Arg::Str(&name)), ("ring", Arg::Str(&ring)), ("points", Arg::Num(f64::from(score.points())))];
                let line = texts.get_with(settings.language, "play-dart-scored", &args);
                for old in &pops {
                    commands.entity(old).despawn();
                }
                commands.spawn((
                    ScorePop { until: time.elapsed_secs() + SCORE_POP_SECONDS },
                    crate::kit::room::UNDER_THE_HUD,
                    Node {
                        position_type: PositionType::Absolute,
                        padding: UiRect::axes(Val::Px(14.0), Val::Px(8.0)),
                        border_radius: BorderRadius::all(Val::Px(14.0)),
                        ..default()
                    },
                    BackgroundColor(palette::ACCENT),
                    Visibility::Hidden,
                    DespawnOnExit(AppState::InRoom),
                    children![ui_text(&font, line, 24.0, Color::WHITE)],
                ));
            }
        }
    }
}

/// Someone's nickname as this client knows it (mine included).
fn nickname(core: &tsunagu_client_core::ClientCore, id: PeerId) -> String {
    let room = core.room();
    room.me().filter(|me| me.id == id).or_else(|| room.peers().find(|p| p.id == id)).map(|p| p.nickname.clone()).unwrap_or_default()
}

fn ring_key(score: DartScore) -> &'static str {
    match score {
        DartScore::Bull => "play-ring-bull",
        DartScore::Inner => "play-ring-inner",
        DartScore::Middle => "play-ring-middle",
        DartScore::Outer => "play-ring-outer",
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
    buttons: Res<ButtonInput<MouseButton>>,
    windows: Query<&Window, With<PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), With<MainCamera>>,
    ui_hover: Query<&Interaction>,
    heading: Res<Heading>,
    player: Query<(&Transform, Option<&LocalPose>), With<LocalPlayer>>,
    things: Query<(&Thing, &Transform, &Visibility), Without<LocalPlayer>>,
    ward: Res<Ward>,
    mut hands: ResMut<Hands>,
    mut send: MessageWriter<SendRoomEvent>,
) {
    let (Ok(window), Ok((camera, camera_transform)), Ok((player, pose))) = (windows.single(), cameras.single(), player.single()) else { return };
    let hand = my_hand_point(player, &heading, pose);
    let cursor = window.cursor_position();
    let over_ui = ui_hover.iter().any(|i| *i != Interaction::None);
    // The mouse as a hand: letting go after a press while holding is the
    // trigger's second pull (a drag throws toward the cursor, a click puts
    // down); a click on a thing is the first pull, once it is within reach.
    let mut let_go_at = None;
    if hands.holding.is_some() {
        if buttons.just_pressed(MouseButton::Left) && !over_ui {
            hands.drag_from = cursor;
        }
        if buttons.just_released(MouseButton::Left) {
            let_go_at = hands.drag_from.take().zip(cursor);
        }
    } else if buttons.just_pressed(MouseButton::Left) && !over_ui {
        let ray = cursor.and_then(|c| camera.viewport_to_world(camera_transform, c).ok());
        // Too far: the click also walks there (controls), and it is picked up on arrival.
        hands.reaching_for = ray.and_then(|ray| pointed_thing(ray.origin, *ray.direction, shown_things(&things)).map(|(id, _)| id));
    }
    let in_reach = hands
        .reaching_for
        .filter(|id| things.iter().find(|(t, _, _)| t.0 == *id).is_some_and(|(_, at, _)| at.translation.distance(hand) <= GRAB_REACH * 0.95));
    let aim = |to: Vec2| {
        let Ok(ray) = camera.viewport_to_world(camera_transform, to) else { return Vec3::ZERO };
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
fn mouse_as_hand(holding: Option<u16>, in_reach: Option<u16>, let_go: Option<(Vec2, Vec2)>, aim: impl FnOnce(Vec2) -> Vec3) -> HandPlay {
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

fn spawn_board_labels(mut commands: Commands, font: Res<UiFont>) {
    commands.spawn((
        ScoreBoard,
        crate::kit::room::UNDER_THE_HUD,
        Node {
            position_type: PositionType::Absolute,
            padding: UiRect::axes(Val::Px(12.0), Val::Px(6.0)),
            border_radius: BorderRadius::all(Val::Px(12.0)),
            ..default()
        },
        BackgroundColor(palette::CARD.with_alpha(0.9)),
        Visibility::Hidden,
        DespawnOnExit(AppState::InRoom),
        children![ui_text(&font, "", 18.0, palette::INK)],
    ));
    commands.spawn((
        HoldHint,
        Node {
            position_type: PositionType::Absolute,
            bottom: Val::Px(200.0),
            left: Val::Percent(50.0),
            margin: UiRect::left(Val::Px(-220.0)),
            width: Val::Px(440.0),
            justify_content: JustifyContent::Center,
            display: Display::None,
            ..default()
        },
        DespawnOnExit(AppState::InRoom),
        children![(
            Node { padding: UiRect::axes(Val::Px(14.0), Val::Px(7.0)), border_radius: BorderRadius::all(Val::Px(12.0)), ..default() },
            BackgroundColor(palette::CARD.with_alpha(0.92)),
            children![(ui_text(&font, "", 18.0, palette::INK), Localized("play-hold-hint"))],
        )],
    ));
}

/// The last darts over the board, and a dart's score popping up above them.
fn place_board_labels(
    mut commands: Commands,
    connection: Option<Res<Connection>>,
    ward: Res<Ward>,
    settings: Res<Settings>,
    texts: Res<Texts>,
    time: Res<Time<Real>>,
    cameras: Query<(Entity, &Camera, &GlobalTransform), With<MainCamera>>,
    mut boards: Query<(&mut Node, &mut Visibility, &ComputedNode, &Children), (With<ScoreBoard>, Without<ScorePop>)>,
    mut pops: Query<(Entity, &ScorePop, &mut Node, &mut Visibility, &ComputedNode), Without<ScoreBoard>>,
    mut labels: Query<&mut Text>,
    new_boards: Query<(), Added<ScoreBoard>>,
    mut darts_shown: Local<Vec<u32>>,
    cards: crate::kit::hud::CardsOnScreen,
) {
    let (Some(connection), Ok((camera_entity, camera, camera_transform))) = (connection, cameras.single()) else { return };
    let board = ward.0.dartboard;
    let over_board = |lift: f32| on_screen(camera, camera_transform, board.center + Vec3::Y * (board.radius + lift));
    // The line is written when a dart goes in (or the room is entered), not every frame.
    let changed = connection.read(|core| !core.room().darts().map(|(_, score)| score.points()).eq(darts_shown.iter().copied()));
    if changed || !new_boards.is_empty() {
        *darts_shown = connection.read(|core| core.room().darts().map(|(_, score)| score.points()).collect());
        let scores = darts_shown.iter().map(u32::to_string).collect::<Vec<_>>().join(" ・ ");
        let line =
            if darts_shown.is_empty() { String::new() } else { texts.get_with(settings.language, "play-darts", &[("scores", Arg::Str(&scores))]) };
        for (_, _, _, children) in &boards {
            for child in children.iter() {
                if let Ok(mut text) = labels.get_mut(child) {
                    text.0 = line.clone();
                }
            }
        }
    }
    for (mut node, mut visibility, computed, _) in &mut boards {
        // Under the board, so the darts in it stay in view.
        let size = computed.size() * computed.inverse_scale_factor();
        hang_over(&mut node, &mut visibility, over_board(-2.0 * board.radius - 0.05).filter(|_| !darts_shown.is_empty()), size, -size.y);
    }
    for (entity, pop, mut node, mut visibility, computed) in &mut pops {
        if time.elapsed_secs() > pop.until {
            commands.entity(entity).despawn();
            continue;
        }
        let size = computed.size() * computed.inverse_scale_factor();
        hang_over(&mut node, &mut visibility, over_board(0.05), size, 44.0);
        // A score popping under a card moves beside it.
        if let Some(screen) = camera.logical_viewport_rect() {
            crate::kit::hud::keep_clear(&mut node, size, &mut cards.rects(camera_entity), screen);
        }
    }
}

/// The paper strips on the bamboo follow the room's wishes.
fn hang_wishes(
    mut commands: Commands,
    connection: Option<Res<Connection>>,
    mut shown: ResMut<WishesShown>,
    ward: Res<Ward>,
    shapes: Res<Shapes>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    strips: Query<Entity, With<WishStrip>>,
    mut papers: Local<std::collections::HashMap<Paper, Handle<StandardMaterial>>>,
) {
    let Some(connection) = connection else { return };
    // Compared in place: nothing is copied on the frames where nothing changed.
    if connection.read(|core| shown.wishes.as_deref() == Some(core.room().wishes())) {
        return;
    }
    let wishes = connection.read(|core| core.room().wishes().to_vec());
    for strip in &strips {
        commands.entity(strip).despawn();
    }
    for wish in &wishes {
        let at = wish_place(ward.0.bamboo, wish.slot);
        // One material per paper colour, as avatars share one per body colour.
        let material = papers
            .entry(wish.paper)
            .or_insert_with(|| materials.add(StandardMaterial { base_color: paper_color(wish.paper), perceptual_roughness: 0.9, ..default() }))
            .clone();
        // A strip hanging below its branch, its face turned to the room.
        commands.spawn((
            WishStrip(wish.id),
            Mesh3d(shapes.cube.clone()),
            MeshMaterial3d(material),
            Transform::from_translation(at - Vec3::Y * 0.17).looking_to(TOWARD_THE_ROOM, Vec3::Y).with_scale(Vec3::new(0.1, 0.32, 0.008)),
            DespawnOnExit(AppState::InRoom),
        ));
    }
    shown.wishes = Some(wishes);
}

/// The Tanabata button of the HUD; it opens [`spawn_wish_panel`]'s panel.
pub fn spawn_wish_toggle(parent: &mut ChildSpawnerCommands, font: &UiFont) {
    parent.spawn((
        Button,
        WishToggle,
        Node { padding: UiRect::axes(Val::Px(12.0), Val::Px(5.0)), border_radius: BorderRadius::all(Val::Px(10.0)), ..default() },
        BackgroundColor(palette::BUTTON),
        children![(ui_text(font, "", 15.0, palette::INK), Localized("hud-tanabata"))],
    ));
}

/// The Tanabata panel (also opened by walking up to the bamboo).
pub fn spawn_wish_panel(parent: &mut ChildSpawnerCommands, font: &UiFont) {
    parent
        .spawn((
            WishPanel,
            Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(5.0), display: Display::None, max_width: Val::Px(380.0), ..default() },
        ))
        .with_children(|panel| {
            panel.spawn((ui_text(font, "", 17.0, palette::INK), Localized("wish-title")));
            panel.spawn((WishRows, Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(3.0), ..default() }));
            panel.spawn(Node { column_gap: Val::Px(5.0), align_items: AlignItems::Center, flex_wrap: FlexWrap::Wrap, ..default() }).with_children(
                |row| {
                    row.spawn((ui_text(font, "", 15.0, palette::INK_SOFT), Localized("wish-write")));
                    for paper in Paper::ALL {
                        row.spawn((
                            Button,
                            PaperChoice(paper),
                            Node {
                                padding: UiRect::axes(Val::Px(8.0), Val::Px(4.0)),
                                border_radius: BorderRadius::all(Val::Px(8.0)),
                                border: UiRect::all(Val::Px(2.0)),
                                ..default()
                            },
                            BackgroundColor(paper_color(paper)),
                            BorderColor::all(palette::INK_SOFT.with_alpha(0.4)),
                            children![(ui_text(font, "", 14.0, palette::INK), Localized(paper_key(paper)))],
                        ));
                    }
                },
            );
            panel.spawn((
                Button,
                SavePicture,
                Node {
                    padding: UiRect::axes(Val::Px(12.0), Val::Px(5.0)),
                    border_radius: BorderRadius::all(Val::Px(10.0)),
                    align_self: AlignSelf::Start,
                    ..default()
                },
                BackgroundColor(palette::BUTTON),
                children![(ui_text(font, "", 15.0, palette::INK), Localized("wish-save-picture"))],
            ));
            panel.spawn((PictureNotice, ui_text(font, "", 14.0, palette::NOTE), Node { max_width: Val::Px(370.0), ..default() }));
        });
}

fn toggle_wish_panel(
    toggles: Query<&Interaction, (With<WishToggle>, Changed<Interaction>)>,
    mut shown: ResMut<WishesShown>,
    paper: Res<PaperInHand>,
    ward: Res<Ward>,
    cameras: Query<&GlobalTransform, With<MainCamera>>,
    mut panels: Query<&mut Node, With<WishPanel>>,
) {
    if toggles.iter().any(|i| *i == Interaction::Pressed) {
        shown.opened = !shown.opened;
    }
    let near = cameras.single().is_ok_and(|c| c.translation().with_y(0.0).distance(ward.0.bamboo.with_y(0.0)) < NEAR_BAMBOO);
    let open = shown.opened || near || paper.0.is_some();
    for mut node in &mut panels {
        let display = if open { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
    }
}

/// The wishes listed to read, each on its paper colour; a facilitator (or
/// whoever wrote it) can take one down.
fn list_wishes(
    mut commands: Commands,
    connection: Option<Res<Connection>>,
    font: Res<UiFont>,
    settings: Res<Settings>,
    texts: Res<Texts>,
    rows: Query<Entity, With<WishRows>>,
    mut listed: Local<Option<(Vec<Wish>, Option<Role>, Option<PeerId>)>>,
) {
    let Some(connection) = connection else { return };
    let same = connection.read(|core| {
        listed.as_ref().is_some_and(|(wishes, role, me)| wishes.as_slice() == core.room().wishes() && *role == core.role() && *me == core.my_id())
    });
    if same {
        return;
    }
    let now = connection.read(|core| (core.room().wishes().to_vec(), core.role(), core.my_id()));
    let (wishes, role, me) = &now;
    for container in &rows {
        commands.entity(container).despawn_related::<Children>();
        commands.entity(container).with_children(|list| {
            if wishes.is_empty() {
                list.spawn(ui_text(&font, texts.get(settings.language, "wish-none-yet"), 15.0, palette::INK_SOFT));
            }
            let mut sorted: Vec<&Wish> = wishes.iter().collect();
            sorted.sort_by_key(|w| w.slot);
            for wish in sorted {
                list.spawn((
                    Node {
                        column_gap: Val::Px(6.0),
                        align_items: AlignItems::Center,
                        padding: UiRect::axes(Val::Px(8.0), Val::Px(3.0)),
                        border_radius: BorderRadius::all(Val::Px(6.0)),
                        ..default()
                    },
                    BackgroundColor(paper_color(wish.paper)),
                ))
                .with_children(|row| {
                    let shown = tsunagu_i18n::keep_typed_words_together(&wish.text, 8);
                    row.spawn((ui_text(&font, shown, 16.0, palette::INK), Node { max_width: Val::Px(280.0), ..default() }));
                    if *role == Some(Role::Facilitator) || Some(wish.by) == *me {
                        row.spawn((
                            Button,
                            TakeDown(wish.id),
                            Node { padding: UiRect::axes(Val::Px(6.0), Val::Px(2.0)), border_radius: BorderRadius::all(Val::Px(6.0)), ..default() },
                            BackgroundColor(palette::CARD),
                            children![(ui_text(&font, texts.get(settings.language, "wish-take-down"), 13.0, palette::INK_SOFT))],
                        ));
                    }
                });
            }
        });
    }
    *listed = Some(now);
}

fn wish_buttons(
    papers: Query<(&Interaction, &PaperChoice), Changed<Interaction>>,
    take_downs: Query<(&Interaction, &TakeDown), Changed<Interaction>>,
    pictures: Query<&Interaction, (With<SavePicture>, Changed<Interaction>)>,
    mut paper_in_hand: ResMut<PaperInHand>,
    mut send: MessageWriter<SendRoomEvent>,
    mut commands: Commands,
    mut images: ResMut<Assets<Image>>,
    ward: Res<Ward>,
    cameras: Query<(), With<PictureCamera>>,
) {
    for (interaction, paper) in &papers {
        if *interaction == Interaction::Pressed {
            // The chat's field becomes the wish's: same keys, IME and rules.
            paper_in_hand.0 = Some(paper.0);
        }
    }
    for (interaction, take_down) in &take_downs {
        if *interaction == Interaction::Pressed {
            send.write(SendRoomEvent(ClientEvent::TakeDownWish(take_down.0)));
        }
    }
    if pictures.iter().any(|i| *i == Interaction::Pressed) && cameras.is_empty() {
        picture_the_bamboo(&mut commands, &mut images, &ward.0);
    }
}

/// Start a picture of the bamboo: a camera draws it into an image, saved as
/// PNG in this child's Pictures folder a few frames later (`take_picture`).
pub fn picture_the_bamboo(commands: &mut Commands, images: &mut Assets<Image>, ward: &tsunagu_sim::WardLayout) {
    let image = images.add(Image::new_target_texture(720, 960, TextureFormat::Rgba8UnormSrgb, None));
    let bamboo = ward.bamboo;
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    commands.spawn((
        PictureCamera { image: image.clone(), path: tsunagu_client_core::settings::picture_path("tanabata", unix), frames: 0 },
        Camera3d::default(),
        Camera { order: -2, clear_color: ClearColorConfig::Custom(Color::srgb(0.98, 0.93, 0.85)), ..default() },
        RenderTarget::Image(image.into()),
        // From the room, facing the wishes, the whole bamboo in view.
        Transform::from_translation(bamboo + TOWARD_THE_ROOM.normalize() * 3.4 + Vec3::Y * 0.9).looking_at(bamboo + Vec3::Y * 1.2, Vec3::Y),
        DespawnOnExit(AppState::InRoom),
    ));
}

/// A few frames after the picture camera starts, its image is saved as PNG;
/// the panel says where, or that it could not be (the path only on screen,
/// never in the log: it names the PC's user).
fn take_picture(mut commands: Commands, mut cameras: Query<(Entity, &mut PictureCamera)>) {
    for (entity, mut camera) in &mut cameras {
        camera.frames += 1;
        if camera.frames != 3 {
            continue;
        }
        let path = camera.path.clone();
        commands.spawn(Screenshot::image(camera.image.clone())).observe(
            move |captured: On<ScreenshotCaptured>,
                  mut commands: Commands,
                  mut notices: Query<&mut Text, With<PictureNotice>>,
                  settings: Res<Settings>,
                  texts: Res<Texts>| {
                let line = match write_png(&path, &captured.image) {
                    Ok(()) => {
                        info!("tsunagu: saved a picture of the bamboo");
                        texts.get_with(settings.language, "wish-saved", &[("path", Arg::Str(&where_it_went(&path)))])
                    }
                    Err(e) => {
                        warn!("tsunagu: could not save a picture of the bamboo: {e}");
                        texts.get(settings.language, "wish-save-failed")
                    }
                };
                for mut notice in &mut notices {
                    notice.0 = line.clone();
                }
                commands.entity(entity).despawn();
            },
        );
    }
}

/// Where a saved picture went, short enough for a child to read and a nurse
/// to find: its folder's folder, its folder and its name ("Pictures/Tsunagu/tanabata-….png").
pub fn where_it_went(path: &std::path::Path) -> String {
    let parts: Vec<String> = path.components().rev().take(3).map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

/// Write `image` (8-bit RGBA or BGRA) to `path` as an RGB PNG, through a
/// temporary file so a half-written picture never has the name.
fn write_png(path: &std::path::Path, image: &Image) -> Result<(), String> {
    use bevy::render::render_resource::TextureFormat as Format;
    let pixels = image.data.as_ref().ok_or("no pixels")?;
    let bgra = matches!(image.texture_descriptor.format, Format::Bgra8Unorm | Format::Bgra8UnormSrgb);
    let rgb: Vec<u8> = pixels.chunks_exact(4).flat_map(|p| if bgra { [p[2], p[1], p[0]] } else { [p[0], p[1], p[2]] }).collect();
    if rgb.len() != (image.width() * image.height() * 3) as usize {
        return Err(format!("{} bytes for {}x{} pixels", pixels.len(), image.width(), image.height()));
    }
    let folder = path.parent().ok_or("no folder")?;
    std::fs::create_dir_all(folder).map_err(|e| e.to_string())?;
    let partial = path.with_extension("png.part");
    let file = std::fs::File::create(&partial).map_err(|e| e.to_string())?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), image.width(), image.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder.write_header().and_then(|mut writer| writer.write_image_data(&rgb).and_then(|()| writer.finish()));
    written.map_err(|e| e.to_string())?;
    std::fs::rename(&partial, path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mouse_grabs_throws_and_puts_down_by_the_hands_rules() {
        let aim = |_: Vec2| Vec3::new(0.0, 2.0, -3.0);
        assert_eq!(mouse_as_hand(None, Some(4), None, aim), HandPlay::Grab { id: 4, by_grip: false });
        assert_eq!(mouse_as_hand(None, None, None, aim), HandPlay::Nothing, "a click on nothing in reach picks nothing up");
        let dragged = Some((Vec2::new(100.0, 100.0), Vec2::new(100.0, 100.0 - DRAG_PIXELS * 2.0)));
        assert_eq!(mouse_as_hand(Some(4), None, dragged, aim), HandPlay::Release(Vec3::new(0.0, 2.0, -3.0)));
        let clicked = Some((Vec2::new(100.0, 100.0), Vec2::new(101.0, 100.0)));
        assert_eq!(mouse_as_hand(Some(4), None, clicked, aim), HandPlay::Release(Vec3::ZERO), "a click puts it down");
        assert_eq!(mouse_as_hand(Some(4), Some(5), None, aim), HandPlay::Nothing, "holding one, another is not picked up");
    }
}
