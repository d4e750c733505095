//! The menu on the left wrist, in a headset: the same gestures, hand,
//! stamps, microphone, calm and personal-space buttons as the desktop's
//! (their features fill its slots with the same components, so they do the same), a button to straighten
//! the view, the headset's own settings (turn, walking, bed, eye height; kept
//! on this PC) and a button to carry on on the screen. It is a panel in the room,
//! drawn from ordinary UI into a picture, in big letters; the right hand
//! points at it and the trigger presses what it points at.

use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;

use crate::headset::pointing::{PointedPanel, RecentreButton, WristPointer};
use crate::kit::hud::{Slot, wrist_button};
use crate::kit::palette;
use crate::kit::text::LabelledButtons;
use crate::kit::text::{Localized, UiFont, ui_text};

/// The menu's picture, in pixels.
const PICTURE: UVec2 = UVec2::new(640, 584);
/// The panel in the room, metres: 16 × 14.6 cm (4 pixels a millimetre), big
/// enough for 3 cm letters at arm's length.
pub const PANEL_SIZE: Vec2 = Vec2::new(0.16, 0.146);

/// The panel on the wrist.
#[derive(Component)]
pub struct WristPanel;

/// The menu's whole UI (taken down with the session, built again with the next).
#[derive(Component)]
pub(crate) struct WristMenuUi;

/// The headset's settings on the menu; each press steps one and keeps it on this PC.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadsetSetting {
    /// 30° or 45° turns.
    Turn,
    /// Walking with the left stick, on or off.
    Walk,
    /// The bed's tilt, in steps up to 60° and back to 0 (recentres).
    Bed,
    /// Eyes a step higher.
    Higher,
    /// Eyes a step lower.
    Lower,
    /// Leave the headset and carry on on the screen.
    Screen,
}

/// The menu's picture camera, drawn only when something may have changed:
/// what the hand points at, a press, and now and then (labels such as the
/// microphone's follow the room).
#[derive(Resource)]
pub struct MenuPicture {
    camera: Entity,
    /// The picture itself (the screenshot saves it too, to be looked at).
    pub image: Handle<Image>,
    frames_to_draw: u8,
    frame: u32,
}

/// Frames between redraws of the menu when nothing was pointed at.
const MENU_REDRAW_EVERY: u32 = 20;

pub(crate) fn draw_menu_when_needed(picture: Option<ResMut<MenuPicture>>, pointer: Res<WristPointer>, mut cameras: Query<&mut Camera>) {
    let Some(mut picture) = picture else { return };
    picture.frame = picture.frame.wrapping_add(1);
    if pointer.is_changed() || picture.frame.is_multiple_of(MENU_REDRAW_EVERY) {
        picture.frames_to_draw = crate::headset::world_tags::REDRAW_FRAMES;
    }
    if let Ok(mut camera) = cameras.get_mut(picture.camera) {
        let active = picture.frames_to_draw > 0;
        if camera.is_active != active {
            camera.is_active = active;
        }
    }
    picture.frames_to_draw = picture.frames_to_draw.saturating_sub(1);
}

/// Builds the menu once the left controller is tracked.
pub(crate) fn build_menu(
    mut commands: Commands,
    grips: Query<(Entity, &crate::headset::controllers::Grip)>,
    built: Query<(), With<WristPanel>>,
    font: Res<UiFont>,
    mut images: ResMut<Assets<Image>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let Some((left, _)) = grips.iter().find(|(_, g)| g.0 == 0) else { return };
    if !built.is_empty() {
        return;
    }
    let picture = images.add(Image::new_target_texture(PICTURE.x, PICTURE.y, TextureFormat::Rgba8UnormSrgb, None));
    let camera = commands.spawn((Camera2d, Camera { order: -1, ..default() }, RenderTarget::Image(picture.clone().into()))).id();
    commands.insert_resource(MenuPicture { camera, image: picture.clone(), frames_to_draw: crate::headset::world_tags::REDRAW_FRAMES, frame: 0 });
    let button = wrist_button;
    commands
        .spawn((
            WristMenuUi,
            UiTargetCamera(camera),
            Node {
                width: Val::Percent(100.0),
                height: Val::Percent(100.0),
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(8.0),
                padding: UiRect::all(Val::Px(12.0)),
                ..default()
            },
            BackgroundColor(palette::CARD),
        ))
        .with_children(|menu| {
            menu.spawn((Slot::WristExpressions, Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(8.0), ..default() }));
            // Each child's own controls (hand, microphone, everyone but the
            // staff out of sight at once, how close others may come), two a row.
            menu.spawn((Slot::WristButtons, Node { column_gap: Val::Px(8.0), row_gap: Val::Px(8.0), flex_wrap: FlexWrap::Wrap, ..default() }));
            // The headset's own settings (labelled by `change_headset_settings`),
            // and straightening the view.
            for (n, settings) in
                [&[HeadsetSetting::Turn, HeadsetSetting::Walk, HeadsetSetting::Bed][..], &[HeadsetSetting::Higher, HeadsetSetting::Lower]]
                    .into_iter()
                    .enumerate()
            {
                menu.spawn(Node { column_gap: Val::Px(8.0), ..default() }).with_children(|row| {
                    for setting in settings {
                        row.spawn((Button, *setting, button(), BackgroundColor(palette::BUTTON))).with_children(|b| {
                            b.spawn(ui_text(&font, "", 24.0, palette::INK));
                        });
                    }
                    if n == 1 {
                        row.spawn((Button, RecentreButton, button(), BackgroundColor(palette::BUTTON))).with_children(|b| {
                            b.spawn((ui_text(&font, "", 24.0, palette::INK), Localized("wrist-recentre")));
                        });
                    }
                });
            }
            // The room's board (everything the desktop's cards offer), and the way out.
            menu.spawn(Node { column_gap: Val::Px(8.0), ..default() }).with_children(|row| {
                row.spawn((Button, crate::headset::panel::BoardButton, button(), BackgroundColor(palette::ACCENT))).with_children(|b| {
                    b.spawn(ui_text(&font, "", 24.0, Color::WHITE));
                });
                row.spawn((Button, HeadsetSetting::Screen, button(), BackgroundColor(palette::BUTTON))).with_children(|b| {
                    b.spawn(ui_text(&font, "", 24.0, palette::INK));
                });
            });
        });
    // Above the back of the left wrist, tipped toward the eyes.
    let material = materials.add(StandardMaterial { base_color_texture: Some(picture), unlit: true, alpha_mode: AlphaMode::Blend, ..default() });
    let on_wrist = Transform::from_xyz(0.0, 0.06, 0.02).with_rotation(Quat::from_rotation_x(-0.6));
    commands.spawn((
        WristPanel,
        PointedPanel { camera, picture: PICTURE, size: PANEL_SIZE },
        Mesh3d(meshes.add(Rectangle::new(PANEL_SIZE.x, PANEL_SIZE.y))),
        MeshMaterial3d(material),
        on_wrist,
        ChildOf(left),
    ));
}

/// The session is going: the menu goes with the hand it was on (and is
/// built again on the next session's).
pub(crate) fn take_down_menu(mut commands: Commands, picture: Option<Res<MenuPicture>>, menu: Query<Entity, With<WristMenuUi>>) {
    if let Some(picture) = picture {
        commands.entity(picture.camera).despawn();
        commands.remove_resource::<MenuPicture>();
    }
    for ui in &menu {
        commands.entity(ui).despawn();
    }
}

/// A press on a headset setting steps it, for now and (in the settings file)
/// for the next time; the labels say each setting as it is now.
pub fn change_headset_settings(
    mut buttons: LabelledButtons<HeadsetSetting>,
    mut headset: ResMut<crate::headset::rig::HeadsetRig>,
    mut file: ResMut<crate::SettingsFile>,
    settings: Res<crate::Settings>,
    mut leave: MessageWriter<bevy_mod_xr::session::XrRequestExitMessage>,
) {
    use tsunagu_client_core::settings::HeadsetChoices;
    let mut changed = false;
    for setting in buttons.pressed().into_iter().copied() {
        let headset = &mut *headset;
        let choices = &mut file.headset;
        match setting {
            HeadsetSetting::Turn => {
                choices.snap_turn_degrees = if headset.snap_degrees >= 45.0 { 30 } else { 45 };
                headset.snap_degrees = f32::from(choices.snap_turn_degrees);
            }
            HeadsetSetting::Walk => {
                headset.smooth_walking = !headset.smooth_walking;
                choices.smooth_walking = headset.smooth_walking;
            }
            HeadsetSetting::Bed => {
                let step = HeadsetChoices::TILT_STEP_DEGREES;
                let now = headset.tilt_degrees.round() as u8;
                choices.bed_tilt_degrees = if now >= tsunagu_sim::rig::MAX_TILT_DEGREES as u8 { 0 } else { (now / step + 1) * step };
                headset.tilt_degrees = f32::from(choices.bed_tilt_degrees);
                // The tilt is taken as the person lies now.
                headset.recentre = true;
            }
            HeadsetSetting::Higher | HeadsetSetting::Lower => {
                let step = if setting == HeadsetSetting::Higher { HeadsetChoices::EYE_STEP_CM } else { -HeadsetChoices::EYE_STEP_CM };
                let now = (headset.rig.eye_offset * 100.0).round() as i8;
                headset.rig.set_eye_offset(f32::from(now.saturating_add(step)) / 100.0);
                choices.eye_offset_cm = (headset.rig.eye_offset * 100.0).round() as i8;
            }
            HeadsetSetting::Screen => {
                crate::headset::session::leave_the_headset(headset, &mut leave);
                continue;
            }
        }
        changed = true;
    }
    if changed {
        file.save(settings.look);
    }
    if !changed && !buttons.stale() {
        return;
    }
    let degrees = |value: f32| [("degrees", tsunagu_i18n::Arg::Num(f64::from(value.round())))];
    buttons.write(|setting, words| match setting {
        HeadsetSetting::Turn => words.get_with("wrist-turn", &degrees(headset.snap_degrees)),
        HeadsetSetting::Walk if headset.smooth_walking => words.get("wrist-walk-on"),
        HeadsetSetting::Walk => words.get("wrist-walk-off"),
        HeadsetSetting::Bed => words.get_with("wrist-bed", &degrees(headset.tilt_degrees)),
        HeadsetSetting::Higher => words.get("wrist-eyes-higher"),
        HeadsetSetting::Lower => words.get("wrist-eyes-lower"),
        HeadsetSetting::Screen => words.get("wrist-screen"),
    });
}
