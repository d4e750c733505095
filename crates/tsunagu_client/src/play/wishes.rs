//! The Tanabata wishes: strips hung on the bamboo, the panel that lists them
//! to read up close (written in the chat's field, on paper of a chosen
//! colour), and saving a picture of the bamboo on this PC.

use std::path::PathBuf;

use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use tsunagu_i18n::Arg;
use tsunagu_protocol::{ClientEvent, Paper, PeerId, Role, Wish};

use crate::kit::hud::{Drawer, OpenDrawer};
use crate::kit::me::MainCamera;
use crate::kit::net::SendRoomEvent;
use crate::kit::palette;
use crate::kit::room::RoomNow;
use crate::kit::scene::{Shapes, Ward};
use crate::kit::text::{Localized, Texts, UiFont, ui_text};
use crate::kit::typing::PaperInHand;
use crate::{AppState, Settings};

/// A paper strip on the bamboo.
#[derive(Component)]
pub struct WishStrip(pub u32);

/// The list of wishes in the Tanabata panel (rebuilt when they change).
#[derive(Component)]
pub(super) struct WishRows;

/// The Tanabata panel (wishes, paper colours, picture button).
#[derive(Component)]
pub struct WishPanel;

/// A paper colour button: starts writing a wish on that paper.
#[derive(Component)]
pub struct PaperChoice(pub Paper);

/// The button that takes wish `.0` down.
#[derive(Component)]
pub struct TakeDown(pub u32);

#[derive(Component)]
pub(super) struct SavePicture;

#[derive(Component)]
pub(super) struct PictureNotice;

/// The wishes the strips were last built from, and whether I stood near the bamboo.
#[derive(Resource, Default)]
pub struct WishesShown {
    wishes: Option<Vec<Wish>>,
    near: bool,
}

/// A camera drawing the bamboo into an image to save, and its progress.
#[derive(Component)]
pub struct PictureCamera {
    image: Handle<Image>,
    path: PathBuf,
    frames: u32,
}

/// The way the bamboo's wishes face: from its corner toward the middle of the room.
pub(super) const TOWARD_THE_ROOM: Vec3 = Vec3::new(-0.8, 0.0, 0.6);

/// The panel is open within this distance of the bamboo, metres.
pub(super) const NEAR_BAMBOO: f32 = 3.5;

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

pub(super) fn paper_key(paper: Paper) -> &'static str {
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

/// The paper strips on the bamboo follow the room's wishes.
pub(super) fn hang_wishes(
    mut commands: Commands,
    room: Res<RoomNow>,
    mut shown: ResMut<WishesShown>,
    (ward, shapes): (Res<Ward>, Res<Shapes>),
    mut materials: ResMut<Assets<StandardMaterial>>,
    strips: Query<Entity, With<WishStrip>>,
    mut papers: Local<std::collections::HashMap<Paper, Handle<StandardMaterial>>>,
) {
    if shown.wishes.as_deref() == Some(room.wishes.as_slice()) {
        return;
    }
    let wishes = room.wishes.clone();
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

/// The Tanabata drawer's contents (the drawer also opens on walking up to the bamboo).
pub fn spawn_wish_panel(parent: &mut ChildSpawnerCommands, font: &UiFont) {
    parent
        .spawn((WishPanel, Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(5.0), max_width: Val::Px(420.0), ..default() }))
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

/// Walking up to the bamboo opens the Tanabata drawer, once each time.
pub(super) fn open_near_bamboo(
    mut shown: ResMut<WishesShown>,
    ward: Res<Ward>,
    cameras: Query<&GlobalTransform, With<MainCamera>>,
    mut open: ResMut<OpenDrawer>,
    time: Res<Time<Real>>,
) {
    let near = cameras.single().is_ok_and(|c| c.translation().with_y(0.0).distance(ward.0.bamboo.with_y(0.0)) < NEAR_BAMBOO);
    if near && !shown.near {
        open.open(Drawer::Wishes, time.elapsed_secs_f64());
    }
    if shown.near != near {
        shown.near = near;
    }
}

/// The wishes listed to read, each on its paper colour; a facilitator (or
/// whoever wrote it) can take one down.
/// What the list shows: the wishes, as whom (role and id, which decide the take-down buttons).
type Listed = (Vec<Wish>, Option<Role>, Option<PeerId>);

pub(super) fn list_wishes(
    mut commands: Commands,
    room: Res<RoomNow>,
    font: Res<UiFont>,
    words: crate::kit::text::Words,
    rows: Query<Entity, With<WishRows>>,
    mut listed: Local<Option<Listed>>,
) {
    let now = (room.wishes.clone(), room.me.as_ref().map(|me| me.role), room.my_id());
    if listed.as_ref() == Some(&now) {
        return;
    }
    let (wishes, role, me) = &now;
    for container in &rows {
        commands.entity(container).despawn_related::<Children>();
        commands.entity(container).with_children(|list| {
            if wishes.is_empty() {
                list.spawn(ui_text(&font, words.get("wish-none-yet"), 15.0, palette::INK_SOFT));
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
                            children![(ui_text(&font, words.get("wish-take-down"), 13.0, palette::INK_SOFT))],
                        ));
                    }
                });
            }
        });
    }
    *listed = Some(now);
}

pub(super) fn wish_buttons(
    papers: Query<(&Interaction, &PaperChoice), Changed<Interaction>>,
    take_downs: Query<(&Interaction, &TakeDown), Changed<Interaction>>,
    mut paper_in_hand: ResMut<PaperInHand>,
    mut send: MessageWriter<SendRoomEvent>,
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
}

/// The picture button: one picture at a time.
pub(super) fn picture_button(
    pictures: Query<&Interaction, (With<SavePicture>, Changed<Interaction>)>,
    mut commands: Commands,
    mut images: ResMut<Assets<Image>>,
    ward: Res<Ward>,
    cameras: Query<(), With<PictureCamera>>,
    folder: Option<Res<crate::PicturesFolder>>,
) {
    if pictures.iter().any(|i| *i == Interaction::Pressed) && cameras.is_empty() {
        let folder = folder.map(|f| f.0.clone()).unwrap_or_else(tsunagu_client_core::settings::pictures_folder);
        picture_the_bamboo(&mut commands, &mut images, &ward.0, &folder);
    }
}

/// Start a picture of the bamboo: a camera draws it into an image, saved as
/// PNG in `folder` (this child's Pictures folder's `Tsunagu`) a few frames
/// later (`take_picture`).
pub fn picture_the_bamboo(commands: &mut Commands, images: &mut Assets<Image>, ward: &tsunagu_sim::WardLayout, folder: &std::path::Path) {
    let image = images.add(Image::new_target_texture(720, 960, TextureFormat::Rgba8UnormSrgb, None));
    let bamboo = ward.bamboo;
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    commands.spawn((
        PictureCamera { image: image.clone(), path: tsunagu_client_core::settings::picture_path(folder, "tanabata", unix), frames: 0 },
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
pub(super) fn take_picture(mut commands: Commands, mut cameras: Query<(Entity, &mut PictureCamera)>) {
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
                        texts.get_with(settings.language, "wish-saved", &[("path", Arg::Str(&crate::kit::pictures::where_it_went(&path)))])
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

/// Write `image` (8-bit RGBA or BGRA, as a screenshot gives it) as an RGB PNG.
pub(super) fn write_png(path: &std::path::Path, image: &Image) -> Result<(), String> {
    use bevy::render::render_resource::TextureFormat as Format;
    let pixels = image.data.as_ref().ok_or("no pixels")?;
    let bgra = matches!(image.texture_descriptor.format, Format::Bgra8Unorm | Format::Bgra8UnormSrgb);
    let rgb: Vec<u8> = pixels.chunks_exact(4).flat_map(|p| if bgra { [p[2], p[1], p[0]] } else { [p[0], p[1], p[2]] }).collect();
    crate::kit::pictures::write_rgb_png(path, image.width(), image.height(), &rgb)
}
