//! The room's panels in a headset. The wrist menu's "panel" button opens a
//! board in the room in front of the person: the desktop's frame (the bar,
//! and the drawer its buttons open: people, feelings, chat, look, wishes,
//! voice, settings, and for staff the panel and the invite), drawn into a
//! picture while it is open, which the right hand's pointer
//! presses like the wrist menu: everything a desktop user can press, a
//! headset user can. Meanwhile the window shows the same picture for whoever
//! sits beside the bed, and its mouse presses the same buttons. When the
//! board closes (or the headset stops), the cards go back to the window.

use bevy::camera::{ClearColorConfig, RenderTarget};
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::window::PrimaryWindow;
use tsunagu_sim::pose::from_wire;

use crate::headset::pointing::{PanelButtons, PointedPanel};
use crate::kit::hud::HudCard;
use crate::kit::me::LocalPlayer;
use crate::kit::me::LocalPose;
use crate::kit::scene::Drawing;
use crate::kit::text::LabelledButtons;

/// The cards' picture, pixels: the window's usual size, so the cards lay out as there.
pub const CARDS_PICTURE: UVec2 = UVec2::new(1280, 720);
/// The board in the room, metres: a millimetre a pixel, so 16-pixel letters
/// stand 16 mm tall at about an arm and a half away.
pub const BOARD_SIZE: Vec2 = Vec2::new(1.28, 0.72);
/// How far in front of the eyes the board opens, metres.
const BOARD_DISTANCE: f32 = 1.1;

/// The cards' picture and the camera drawing it.
#[derive(Resource)]
pub(crate) struct CardsPicture {
    camera: Entity,
    image: Handle<Image>,
    frames_to_draw: u8,
    frame: u32,
}

/// The board in the room.
#[derive(Component)]
pub struct Board;

/// The window's copy of the picture.
#[derive(Component)]
pub(crate) struct WindowMirror;

/// The wrist menu's button opening and closing the board.
#[derive(Component)]
pub struct BoardButton;

/// Open or close the board at the next frame (as its button does).
#[derive(Resource, Default)]
pub struct ToggleBoard(pub bool);

/// Frames between redraws of the cards when nothing was pointed at (they
/// change with the room: people, chat, notices).
const CARDS_REDRAW_EVERY: u32 = 10;

/// Into the picture while the board is open, back to the window after.
pub(crate) fn move_the_cards(
    mut commands: Commands,
    running: Option<Res<bevy_mod_xr::session::XrState>>,
    picture: Option<Res<CardsPicture>>,
    cards: Query<(Entity, Has<UiTargetCamera>), With<HudCard>>,
    mirrors: Query<Entity, With<WindowMirror>>,
    boards: Query<Entity, With<Board>>,
    mut images: ResMut<Assets<Image>>,
) {
    let running = matches!(running.as_deref(), Some(bevy_mod_xr::session::XrState::Running));
    if !running {
        for board in &boards {
            commands.entity(board).despawn();
        }
    }
    let on_the_board = running && !boards.is_empty();
    let Some(picture) = picture else {
        if running {
            let image = images.add(Image::new_target_texture(CARDS_PICTURE.x, CARDS_PICTURE.y, TextureFormat::Rgba8UnormSrgb, None));
            // See-through where there is no card: on the board, the cards float.
            let camera = commands
                .spawn((
                    Camera2d,
                    Camera { order: -2, clear_color: ClearColorConfig::Custom(Color::NONE), is_active: false, ..default() },
                    RenderTarget::Image(image.clone().into()),
                ))
                .id();
            commands.insert_resource(CardsPicture { camera, image, frames_to_draw: crate::headset::world_tags::REDRAW_FRAMES, frame: 0 });
        }
        return;
    };
    for (card, moved) in &cards {
        if on_the_board && !moved {
            commands.entity(card).insert(UiTargetCamera(picture.camera));
        } else if !on_the_board && moved {
            commands.entity(card).remove::<UiTargetCamera>();
        }
    }
    if on_the_board && mirrors.is_empty() {
        commands.spawn((
            WindowMirror,
            ImageNode::new(picture.image.clone()),
            Node { position_type: PositionType::Absolute, width: Val::Percent(100.0), height: Val::Percent(100.0), ..default() },
            DespawnOnExit(crate::AppState::InRoom),
        ));
    }
    if !on_the_board {
        for mirror in &mirrors {
            commands.entity(mirror).despawn();
        }
    }
}

/// The picture is drawn only while the board is open, and only when it will
/// be seen changed: after a press or a pointer move over it and now and then,
/// and whenever the window is drawn (its mirror). On a CPU renderer each
/// drawing costs the headset a frame (measured: 19.5 → 12.6 frames a second
/// when it was drawn every few frames regardless).
pub(crate) fn draw_the_cards_when_needed(
    picture: Option<ResMut<CardsPicture>>,
    pointer: Res<crate::headset::pointing::WristPointer>,
    mouse: Res<ButtonInput<MouseButton>>,
    running: Option<Res<bevy_mod_xr::session::XrState>>,
    boards: Query<(), With<Board>>,
    window: Query<&Camera, With<crate::kit::me::MainCamera>>,
    mut cameras: Query<&mut Camera, Without<crate::kit::me::MainCamera>>,
) {
    let Some(mut picture) = picture else { return };
    let running = matches!(running.as_deref(), Some(bevy_mod_xr::session::XrState::Running));
    picture.frame = picture.frame.wrapping_add(1);
    let board_needs = pointer.is_changed() || picture.frame.is_multiple_of(CARDS_REDRAW_EVERY);
    // The window's camera as last decided: it draws at one frame in several while the headset runs.
    let window_needs = window.iter().any(|c| c.is_active) || mouse.get_just_pressed().next().is_some();
    if !boards.is_empty() && (board_needs || window_needs) {
        picture.frames_to_draw = picture.frames_to_draw.max(1);
    }
    if let Ok(mut camera) = cameras.get_mut(picture.camera) {
        let active = running && picture.frames_to_draw > 0;
        if camera.is_active != active {
            camera.is_active = active;
        }
    }
    picture.frames_to_draw = picture.frames_to_draw.saturating_sub(1);
}

/// The wrist menu's button opens the board in front of the eyes (level, a
/// little below them, facing the person), or closes it; its label says which.
pub(crate) fn open_and_close_the_board(
    mut commands: Commands,
    mut buttons: LabelledButtons<BoardButton>,
    boards: Query<Entity, With<Board>>,
    me: Query<&LocalPose, With<LocalPlayer>>,
    picture: Option<Res<CardsPicture>>,
    mut toggle: ResMut<ToggleBoard>,
    drawing: Drawing,
) {
    let Drawing { mut meshes, mut materials } = drawing;
    let Some(picture) = picture else { return };
    let mut open = !boards.is_empty();
    let pressed = !buttons.pressed().is_empty() || std::mem::take(&mut toggle.0);
    if pressed {
        if open {
            for board in &boards {
                commands.entity(board).despawn();
            }
        } else if let Some(head) = me.single().ok().and_then(|p| p.0).map(|p| from_wire(p.head)) {
            let place = board_place(head);
            // Drawn over a see-through clear, the picture's colours are already
            // multiplied by their cover: blended as such, cards keep their tone.
            let material = materials.add(StandardMaterial {
                base_color_texture: Some(picture.image.clone()),
                unlit: true,
                alpha_mode: AlphaMode::Premultiplied,
                ..default()
            });
            commands.spawn((
                Board,
                PointedPanel { camera: picture.camera, picture: CARDS_PICTURE, size: BOARD_SIZE },
                Mesh3d(meshes.add(Rectangle::new(BOARD_SIZE.x, BOARD_SIZE.y))),
                MeshMaterial3d(material),
                place,
                DespawnOnExit(crate::AppState::InRoom),
            ));
        }
        open = !open;
    }
    if !pressed && !buttons.stale() {
        return;
    }
    buttons.write(|_, words| words.get(if open { "wrist-board-close" } else { "wrist-board-open" }));
}

/// Where the board opens for a head at `head`: ahead of where it looks
/// (about the vertical), its middle a little below the eyes, facing them.
pub fn board_place((eyes, rotation): (Vec3, Quat)) -> Transform {
    let forward = (rotation * Vec3::NEG_Z).with_y(0.0).normalize_or(Vec3::NEG_Z);
    let centre = eyes + forward * BOARD_DISTANCE - Vec3::Y * 0.15;
    // Its front (+Z, the side drawn and pointed at) toward the eyes.
    Transform::from_translation(centre).looking_to(forward, Vec3::Y)
}

/// The window's mouse on its copy of the picture presses the same buttons
/// (right after the window's own pointer was read, as the wrist menu does).
pub(crate) fn press_through_the_mirror(
    picture: Option<Res<CardsPicture>>,
    mirrors: Query<(), With<WindowMirror>>,
    windows: Query<&Window, With<PrimaryWindow>>,
    mouse: Res<ButtonInput<MouseButton>>,
    mut buttons: PanelButtons,
) {
    let (Some(picture), false, Ok(window)) = (picture, mirrors.is_empty(), windows.single()) else { return };
    let Some(cursor) = window.cursor_position() else { return };
    let pixel = cursor / Vec2::new(window.width(), window.height()) * CARDS_PICTURE.as_vec2();
    if let Some(button) = buttons.at(picture.camera, pixel) {
        // A press is one frame's, as a click on the window is.
        buttons.set(button, if mouse.just_pressed(MouseButton::Left) { Interaction::Pressed } else { Interaction::Hovered });
    }
}
