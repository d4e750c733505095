//! Taking part without a word: gestures (number keys 1–6, or the big buttons),
//! a raised hand (7, or its button) that stays up until lowered, and stamps
//! (the picture buttons) that pop up over the sender and fade. Everything goes
//! through the server and is shown when it comes back, so everyone, the sender
//! included, sees the same thing.

use std::collections::HashMap;

use bevy::prelude::*;
use tsunagu_protocol::{ClientEvent, Gesture, Stamp};

use crate::AppState;
use crate::kit::heard::{GestureSeen, StampSeen};
use crate::kit::hud::{Drawer, FillSlot, OpenDrawer, Slot, wrist_button};
use crate::kit::net::{NetSet, SendRoomEvent};
use crate::kit::palette;
use crate::kit::room::PlayingGesture;
use crate::kit::room::RoomNow;
use crate::kit::room::{Avatar, AvatarInfo, OwnAvatar, above_head_on_screen, avatar_of, hang_over};
use crate::kit::text::{Localized, UiFont, ui_text};
use crate::kit::typing::not_typing;

/// How long a stamp stays over its sender, seconds.
pub const STAMP_SECONDS: f32 = 2.6;
/// A stamp's size on screen, logical pixels.
const STAMP_SIZE: f32 = 96.0;

/// Gestures, the raised hand and stamps.
pub struct ExpressionPlugin;

impl Plugin for ExpressionPlugin {
    fn build(&self, app: &mut App) {
        // Loaded here, not at startup: entering the room can come first.
        let assets = app.world().resource::<AssetServer>().clone();
        let images = Stamp::ALL.into_iter().map(|stamp| (stamp, assets.load(stamp_path(stamp)))).collect();
        app.insert_resource(StampImages(images))
            .fill_slot(Slot::WristExpressions, fill_the_wrist_menu)
            .add_systems(Update, show_stamp_pictures)
            .fill_slot(Slot::WristButtons, |row, font| {
                row.spawn((
                    Button,
                    ExpressionButton::Hand,
                    Node { flex_basis: Val::Percent(40.0), ..wrist_button() },
                    BackgroundColor(palette::ACCENT),
                ))
                .with_children(|b| {
                    b.spawn((ui_text(font, "", 26.0, Color::WHITE), Localized("hand-raise")));
                });
            })
            // Raised hands stay in sight with no drawer open: facilitators call on people from them.
            .fill_slot(Slot::Corner, |corner, font| {
                let (node, background, card) = crate::kit::hud::panel();
                corner.spawn((
                    RaisedHandsList,
                    ui_text(font, "", 16.0, palette::NOTE),
                    Node { display: Display::None, max_width: Val::Px(380.0), ..node },
                    background,
                    card,
                ));
            })
            .fill_slot(Slot::Drawer(Drawer::Expressions), fill_the_drawer)
            .init_resource::<OpenDrawer>()
            .add_systems(Update, (show_gestures, show_stamps).in_set(NetSet::Apply))
            .add_systems(
                Update,
                (expression_keys.run_if(not_typing), press_buttons, label_hand_button, list_raised_hands).run_if(in_state(AppState::InRoom)),
            )
            .add_systems(PostUpdate, (float_stamps.after(TransformSystems::Propagate), fade_toasts).run_if(in_state(AppState::InRoom)));
    }
}

/// The stamp pictures, loaded once.
#[derive(Resource)]
pub struct StampImages(pub HashMap<Stamp, Handle<Image>>);

/// The file of each stamp's picture under `assets/`.
pub fn stamp_path(stamp: Stamp) -> &'static str {
    match stamp {
        Stamp::Heart => "stamps/heart.png",
        Stamp::Clap => "stamps/clap.png",
        Stamp::Smile => "stamps/smile.png",
        Stamp::Star => "stamps/star.png",
        Stamp::Tanabata => "stamps/tanabata.png",
        Stamp::Thanks => "stamps/thanks.png",
    }
}

/// How the client offers one gesture: the key that plays it, the label of
/// that key on its button, and the button's message id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GestureRow {
    /// The key that plays it.
    pub key: KeyCode,
    /// That key, as its button shows it.
    pub key_label: &'static str,
    /// The message id of its name.
    pub message: &'static str,
}

/// The key that raises or lowers my hand (after the gestures' keys).
pub const HAND_KEY: (KeyCode, &str) = (KeyCode::Digit7, "7");

/// Every gesture's row: the one place the client lists gestures. A new
/// `Gesture` is its variant (and `Gesture::ALL`), its row here (this match
/// does not compile without it, so it cannot go without a key), its motion in
/// `tsunagu_sim::animate`, and its locale lines; the bar, the keys and the
/// wrist menu follow. A test checks that no two keys are the same.
pub fn gesture_row(gesture: Gesture) -> GestureRow {
    let row = |key, key_label, message| GestureRow { key, key_label, message };
    match gesture {
        Gesture::Wave => row(KeyCode::Digit1, "1", "gesture-wave"),
        Gesture::Clap => row(KeyCode::Digit2, "2", "gesture-clap"),
        Gesture::Nod => row(KeyCode::Digit3, "3", "gesture-nod"),
        Gesture::HeadShake => row(KeyCode::Digit4, "4", "gesture-head-shake"),
        Gesture::ThumbsUp => row(KeyCode::Digit5, "5", "gesture-thumbs-up"),
        Gesture::HeartHands => row(KeyCode::Digit6, "6", "gesture-heart-hands"),
    }
}

/// The message id of a gesture's name.
pub fn gesture_key(gesture: Gesture) -> &'static str {
    gesture_row(gesture).message
}

/// A button of the expression bar.
#[derive(Component, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExpressionButton {
    /// Play this gesture.
    Gesture(Gesture),
    /// Raise or lower my hand.
    Hand,
    /// Send this stamp.
    Stamp(Stamp),
}

/// The raise-hand button's label.
#[derive(Component)]
struct HandLabel;

/// The list of raised hands (for everyone; facilitators call on people from it).
#[derive(Component)]
pub struct RaisedHandsList;

/// Seen through my own eyes my avatar is not drawn: my gesture is named on
/// screen instead, for a moment, so a press never seems to do nothing.
#[derive(Component)]
pub struct GestureToast {
    /// When it goes (seconds of real time).
    pub until: f32,
}

/// A stamp floating over its sender.
#[derive(Component)]
pub struct StampPop {
    /// The sender's avatar.
    pub target: Entity,
    /// When it appeared (seconds of real time).
    pub born: f32,
}

/// The expressions' drawer: the gestures with their keys, the raised hand, the stamps.
fn fill_the_drawer(drawer: &mut ChildSpawnerCommands, font: &UiFont) {
    let button_node = || Node {
        padding: UiRect::axes(Val::Px(10.0), Val::Px(6.0)),
        min_height: Val::Px(44.0),
        align_items: AlignItems::Center,
        border_radius: BorderRadius::all(Val::Px(12.0)),
        ..default()
    };
    drawer.spawn(Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(6.0), ..default() }).with_children(|bar| {
        bar.spawn(Node { column_gap: Val::Px(6.0), row_gap: Val::Px(6.0), flex_wrap: FlexWrap::Wrap, max_width: Val::Px(720.0), ..default() })
            .with_children(|row| {
                for gesture in Gesture::ALL {
                    row.spawn((Button, ExpressionButton::Gesture(gesture), button_node(), BackgroundColor(palette::BUTTON))).with_children(|b| {
                        b.spawn(ui_text(font, format!("{} ", gesture_row(gesture).key_label), 13.0, palette::INK_SOFT));
                        b.spawn((ui_text(font, "", 16.0, palette::INK), Localized(gesture_key(gesture))));
                    });
                }
                row.spawn((Button, ExpressionButton::Hand, button_node(), BackgroundColor(palette::ACCENT))).with_children(|b| {
                    b.spawn(ui_text(font, format!("{} ", HAND_KEY.1), 13.0, Color::WHITE));
                    b.spawn((HandLabel, ui_text(font, "", 16.0, Color::WHITE), Localized("hand-raise")));
                });
            });
        bar.spawn(Node { column_gap: Val::Px(8.0), align_items: AlignItems::Center, ..default() }).with_children(|row| {
            row.spawn((ui_text(font, "", 15.0, palette::INK_SOFT), Localized("stamp-bar")));
            for stamp in Stamp::ALL {
                // The picture is put in by `show_stamp_pictures`.
                row.spawn((
                    Button,
                    ExpressionButton::Stamp(stamp),
                    Node {
                        width: Val::Px(52.0),
                        height: Val::Px(52.0),
                        justify_content: JustifyContent::Center,
                        align_items: AlignItems::Center,
                        ..default()
                    },
                    ImageNode::default(),
                ))
                .with_children(|b| {
                    if stamp == Stamp::Thanks {
                        b.spawn((ui_text(font, "", 9.0, palette::INK), Localized("stamp-thanks")));
                    }
                });
            }
        });
    });
}

/// Whether I have my hand up, as the room last said.
fn my_hand_raised(room: &RoomNow) -> bool {
    room.me.as_ref().is_some_and(|me| me.hand_raised)
}

fn expression_keys(keys: Res<ButtonInput<KeyCode>>, room: Res<RoomNow>, mut send: MessageWriter<SendRoomEvent>) {
    for gesture in Gesture::ALL {
        if keys.just_pressed(gesture_row(gesture).key) {
            send.write(SendRoomEvent(ClientEvent::Gesture(gesture)));
        }
    }
    if keys.just_pressed(HAND_KEY.0) && room.me.is_some() {
        send.write(SendRoomEvent(ClientEvent::RaiseHand(!my_hand_raised(&room))));
    }
}

/// A gesture, the hand or a stamp pressed: sent, and the drawer it was in
/// closes (the room is what the child wants to see it in).
fn press_buttons(
    room: Res<RoomNow>,
    mut buttons: Query<(&Interaction, &ExpressionButton, Option<&mut BackgroundColor>), Changed<Interaction>>,
    mut send: MessageWriter<SendRoomEvent>,
    mut open: ResMut<OpenDrawer>,
) {
    for (interaction, button, background) in &mut buttons {
        let base = if *button == ExpressionButton::Hand { palette::ACCENT } else { palette::BUTTON };
        let hover = if *button == ExpressionButton::Hand { palette::ACCENT_HOVER } else { palette::BUTTON_HOVER };
        if let Some(mut background) = background
            && !matches!(button, ExpressionButton::Stamp(_))
        {
            background.0 = if *interaction == Interaction::None { base } else { hover };
        }
        if *interaction != Interaction::Pressed {
            continue;
        }
        let event = match button {
            ExpressionButton::Gesture(gesture) => ClientEvent::Gesture(*gesture),
            ExpressionButton::Stamp(stamp) => ClientEvent::Stamp(*stamp),
            ExpressionButton::Hand if room.me.is_none() => continue,
            ExpressionButton::Hand => ClientEvent::RaiseHand(!my_hand_raised(&room)),
        };
        send.write(SendRoomEvent(event));
        open.used(Drawer::Expressions);
    }
}

fn label_hand_button(room: Res<RoomNow>, mut labels: Query<&mut Localized, With<HandLabel>>, new: Query<(), Added<HandLabel>>) {
    if !room.is_changed() && new.is_empty() {
        return;
    }
    let key = if my_hand_raised(&room) { "hand-lower" } else { "hand-raise" };
    for mut label in &mut labels {
        if label.0 != key {
            label.0 = key;
        }
    }
}

fn list_raised_hands(
    room: Res<RoomNow>,
    words: crate::kit::text::Words,
    mut lists: Query<(&mut Text, &mut Node), With<RaisedHandsList>>,
    new: Query<(), Added<RaisedHandsList>>,
) {
    // The line is made again only when the room or the language change.
    if !room.is_changed() && !words.changed() && new.is_empty() {
        return;
    }
    let names: Vec<String> = room.everyone().filter(|p| p.hand_raised).map(|p| p.nickname.clone()).collect();
    let shown =
        if names.is_empty() { String::new() } else { words.get_with("hands-raised", &[("names", tsunagu_i18n::Arg::Str(&names.join("、")))]) };
    for (mut text, mut node) in &mut lists {
        if text.0 != shown {
            node.display = if shown.is_empty() { Display::None } else { Display::Flex };
            text.0 = shown.clone();
        }
    }
}

/// Gestures from the room, on the avatars they came from (and named on
/// screen when mine is not seen, in first person).
fn show_gestures(
    mut commands: Commands,
    mut seen: MessageReader<GestureSeen>,
    time: Res<Time<Real>>,
    avatars: Query<(Entity, &AvatarInfo), With<Avatar>>,
    room: Res<RoomNow>,
    font: Res<UiFont>,
    view: Option<Res<crate::kit::me::ViewMode>>,
) {
    let me = room.my_id();
    let first_person = view.is_some_and(|v| *v == crate::kit::me::ViewMode::FirstPerson);
    let now = time.elapsed_secs();
    for GestureSeen { from, gesture } in seen.read() {
        {
            {
                if let Some((avatar, _)) = avatar_of(avatars.iter(), *from) {
                    commands.entity(avatar).insert(PlayingGesture { gesture: *gesture, started: now });
                }
                if first_person && Some(*from) == me {
                    commands.spawn((
                        GestureToast { until: now + tsunagu_sim::animate::gesture_length(*gesture) },
                        Node {
                            position_type: PositionType::Absolute,
                            width: Val::Percent(100.0),
                            top: Val::Percent(30.0),
                            justify_content: JustifyContent::Center,
                            ..default()
                        },
                        DespawnOnExit(AppState::InRoom),
                        children![(
                            Node { padding: UiRect::axes(Val::Px(18.0), Val::Px(8.0)), border_radius: BorderRadius::all(Val::Px(16.0)), ..default() },
                            BackgroundColor(palette::CARD.with_alpha(0.9)),
                            children![(ui_text(&font, "", 28.0, palette::INK), Localized(gesture_key(*gesture)))],
                        )],
                    ));
                }
            }
        }
    }
}

/// Stamps from the room, popping over the avatars they came from.
fn show_stamps(
    mut commands: Commands,
    mut seen: MessageReader<StampSeen>,
    time: Res<Time<Real>>,
    avatars: Query<(Entity, &AvatarInfo), With<Avatar>>,
    images: Res<StampImages>,
    font: Res<UiFont>,
) {
    let now = time.elapsed_secs();
    for StampSeen { from, stamp } in seen.read() {
        {
            {
                let Some((avatar, _)) = avatar_of(avatars.iter(), *from) else { continue };
                let image = images.0.get(stamp).cloned().unwrap_or_default();
                commands
                    .spawn((
                        StampPop { target: avatar, born: now },
                        crate::kit::room::UNDER_THE_HUD,
                        Node {
                            position_type: PositionType::Absolute,
                            width: Val::Px(STAMP_SIZE),
                            height: Val::Px(STAMP_SIZE),
                            justify_content: JustifyContent::Center,
                            align_items: AlignItems::Center,
                            ..default()
                        },
                        ImageNode::new(image),
                        Visibility::Hidden,
                        DespawnOnExit(AppState::InRoom),
                    ))
                    .with_children(|pop| {
                        if *stamp == Stamp::Thanks {
                            pop.spawn((ui_text(&font, "", 17.0, palette::INK), Localized("stamp-thanks")));
                        }
                    });
            }
        }
    }
}

fn fade_toasts(mut commands: Commands, time: Res<Time<Real>>, toasts: Query<(Entity, &GestureToast)>) {
    for (entity, toast) in &toasts {
        if time.elapsed_secs() > toast.until {
            commands.entity(entity).despawn();
        }
    }
}

/// Stamps pop up, rise a little and fade, over their sender's head (my own,
/// seen through my eyes, high in the middle of the screen).
fn float_stamps(
    mut commands: Commands,
    time: Res<Time<Real>>,
    view: Option<Res<crate::kit::me::ViewMode>>,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::kit::me::MainCamera>>,
    avatars: Query<(&GlobalTransform, Has<OwnAvatar>), With<Avatar>>,
    mut pops: Query<(Entity, &StampPop, &mut Node, &mut UiTransform, &mut ImageNode, &mut Visibility)>,
    ui: Option<Res<UiScale>>,
) {
    let Ok((camera, camera_transform)) = cameras.single() else { return };
    let now = time.elapsed_secs();
    for (entity, pop, mut node, mut transform, mut image, mut visibility) in &mut pops {
        let age = now - pop.born;
        let Ok((avatar, mine)) = avatars.get(pop.target) else {
            commands.entity(entity).despawn();
            continue;
        };
        if age > STAMP_SECONDS {
            commands.entity(entity).despawn();
            continue;
        }
        let through_my_eyes = mine && view.as_deref() == Some(&crate::kit::me::ViewMode::FirstPerson);
        let at = if through_my_eyes {
            camera.logical_viewport_size().map(|size| Vec2::new(size.x / 2.0, size.y * 0.38))
        } else {
            above_head_on_screen(camera, camera_transform, avatar, 0.55)
        };
        let (scale, alpha, rise) = stamp_look(age);
        hang_over(&mut node, &mut visibility, at, Vec2::splat(STAMP_SIZE), rise, ui.as_ref().map_or(1.0, |ui| ui.0));
        transform.scale = Vec2::splat(scale);
        image.color = Color::WHITE.with_alpha(alpha);
    }
}

/// A stamp `age` seconds old: its scale (pops past full size, settles), its
/// opacity (fades over the last 0.8 s) and how far it has risen (pixels).
pub fn stamp_look(age: f32) -> (f32, f32, f32) {
    let pop = (age / 0.25).clamp(0.0, 1.0);
    let scale = if age < 0.25 { 0.3 + 0.85 * pop } else { 1.15 - 0.15 * ((age - 0.25) / 0.15).clamp(0.0, 1.0) };
    let alpha = ((STAMP_SECONDS - age) / 0.8).clamp(0.0, 1.0);
    (scale, alpha, 36.0 * (age / STAMP_SECONDS))
}

/// The wrist menu's gestures (three a row) and stamps: the same buttons as the bar's.
fn fill_the_wrist_menu(menu: &mut ChildSpawnerCommands, font: &UiFont) {
    for gestures in Gesture::ALL.chunks(3) {
        menu.spawn(Node { column_gap: Val::Px(8.0), ..default() }).with_children(|row| {
            for gesture in gestures {
                row.spawn((Button, ExpressionButton::Gesture(*gesture), wrist_button(), BackgroundColor(palette::BUTTON))).with_children(|b| {
                    b.spawn((ui_text(font, "", 26.0, palette::INK), Localized(gesture_key(*gesture))));
                });
            }
        });
    }
    menu.spawn(Node { column_gap: Val::Px(8.0), justify_content: JustifyContent::SpaceBetween, ..default() }).with_children(|row| {
        for stamp in Stamp::ALL {
            let node = Node {
                width: Val::Px(88.0),
                height: Val::Px(88.0),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                ..default()
            };
            // The picture is put in by `show_stamp_pictures`.
            row.spawn((Button, ExpressionButton::Stamp(stamp), node, ImageNode::default())).with_children(|b| {
                if stamp == Stamp::Thanks {
                    b.spawn((ui_text(font, "", 15.0, palette::INK), Localized("stamp-thanks")));
                }
            });
        }
    });
}

/// A stamp button spawned without its picture gets it.
fn show_stamp_pictures(stamps: Res<StampImages>, mut buttons: Query<(&ExpressionButton, &mut ImageNode), Added<ExpressionButton>>) {
    for (button, mut image) in &mut buttons {
        if let ExpressionButton::Stamp(stamp) = button
            && let Some(picture) = stamps.0.get(stamp)
            && image.image != *picture
        {
            image.image = picture.clone();
        }
    }
}
