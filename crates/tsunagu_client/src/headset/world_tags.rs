//! Name tags in the room, for the headset (the window's tags are drawn on
//! the screen, which a headset does not have): each person's name, with the
//! staff chip, on a card over their head, turned toward my eyes, in letters
//! 3 cm tall. All tags are drawn as UI into one picture, a slot each, and
//! every card shows its slot of it: one extra camera however many people.

use std::collections::HashMap;

use bevy::camera::RenderTarget;
use bevy::camera::visibility::RenderLayers;
use bevy::mesh::VertexAttributeValues;
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy_mod_xr::camera::XrCamera;
use tsunagu_protocol::{PeerId, Role};
use tsunagu_sim::motion::AVATAR_HEIGHT;

use crate::kit::palette;
use crate::kit::room::{AvatarInfo, RemoteAvatar};
use crate::kit::text::{Localized, UiFont, ui_text};

/// One tag's slot in the picture, pixels.
const SLOT: UVec2 = UVec2::new(320, 80);
/// Slots across and down: room for 64 people.
const GRID: UVec2 = UVec2::new(4, 16);
/// A card in the room, metres (30 px of letters on 80 px: about 3 cm).
const CARD: Vec2 = Vec2::new(0.32, 0.08);
/// The layer only the headset's eyes see (the window has its own tags).
pub const HEADSET_ONLY_LAYER: usize = 2;

/// The picture, its camera, and whose tag is in which slot.
#[derive(Resource)]
pub struct TagAtlas {
    /// The picture every card shows a slot of.
    pub picture: Handle<Image>,
    material: Handle<StandardMaterial>,
    root: Entity,
    camera: Entity,
    /// Frames the picture is still to be drawn (after a change; a new
    /// text takes a frame to lay out). Drawn only then: on software
    /// rendering a large picture every frame costs the headset its pace.
    redraw: u8,
    slots: HashMap<PeerId, Slot>,
}

/// One person's tag: its place in the picture, its node there, its card in
/// the room, the avatar it hangs over, and what it shows.
struct Slot {
    index: usize,
    node: Entity,
    card: Entity,
    avatar: Entity,
    shown: PeerInfoShown,
}

/// What a slot shows, to redraw it when it changes.
#[derive(Clone, PartialEq, Eq, Debug)]
struct PeerInfoShown {
    nickname: String,
    staff: bool,
}

/// Frames a picture is drawn after it changes.
pub(crate) const REDRAW_FRAMES: u8 = 3;

/// Draw the tags' picture only for a few frames after it changed.
pub(crate) fn draw_when_changed(atlas: Option<ResMut<TagAtlas>>, mut cameras: Query<&mut Camera>) {
    let Some(mut atlas) = atlas else { return };
    if let Ok(mut camera) = cameras.get_mut(atlas.camera) {
        let active = atlas.redraw > 0;
        if camera.is_active != active {
            camera.is_active = active;
        }
    }
    atlas.redraw = atlas.redraw.saturating_sub(1);
}

/// A card over someone's head.
#[derive(Component)]
pub struct WorldTag;

/// The picture and its camera, once a headset session runs.
pub(crate) fn build_atlas(
    mut commands: Commands,
    atlas: Option<Res<TagAtlas>>,
    mut images: ResMut<Assets<Image>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if atlas.is_some() {
        return;
    }
    let size = SLOT * GRID;
    let picture = images.add(Image::new_target_texture(size.x, size.y, TextureFormat::Rgba8UnormSrgb, None));
    let camera = commands
        .spawn((
            Camera2d,
            Camera { order: -2, clear_color: ClearColorConfig::Custom(Color::NONE), ..default() },
            RenderTarget::Image(picture.clone().into()),
        ))
        .id();
    let root = commands.spawn((UiTargetCamera(camera), Node { width: Val::Percent(100.0), height: Val::Percent(100.0), ..default() })).id();
    let material = materials.add(StandardMaterial {
        base_color_texture: Some(picture.clone()),
        unlit: true,
        alpha_mode: AlphaMode::Blend,
        cull_mode: None,
        ..default()
    });
    commands.insert_resource(TagAtlas { picture, material, root, camera, redraw: REDRAW_FRAMES, slots: HashMap::new() });
}

/// The headset's eyes see the tags' layer (and the room's).
pub(crate) fn let_the_eyes_see_tags(mut commands: Commands, eyes: Query<Entity, (With<XrCamera>, Without<RenderLayers>)>) {
    for eye in &eyes {
        commands.entity(eye).insert(RenderLayers::from_layers(&[0, HEADSET_ONLY_LAYER]));
    }
}

/// A card (its mesh showing slot `slot` of the picture).
fn card_mesh(slot: usize) -> Mesh {
    let mut mesh = Mesh::from(Rectangle::new(CARD.x, CARD.y));
    let (col, row) = ((slot as u32 % GRID.x) as f32, (slot as u32 / GRID.x) as f32);
    let (du, dv) = (1.0 / GRID.x as f32, 1.0 / GRID.y as f32);
    // The rectangle's corners, as Bevy makes it: top right, top left, bottom left, bottom right.
    let uvs = vec![[(col + 1.0) * du, row * dv], [col * du, row * dv], [col * du, (row + 1.0) * dv], [(col + 1.0) * du, (row + 1.0) * dv]];
    mesh.insert_attribute(Mesh::ATTRIBUTE_UV_0, VertexAttributeValues::Float32x2(uvs));
    mesh
}

/// Each person here has a tag (made, redrawn when their name or role
/// changes, let go when they leave). Only new and changed people are looked
/// at closely: this runs every frame in the headset.
pub(crate) fn keep_tags(
    mut commands: Commands,
    atlas: Option<ResMut<TagAtlas>>,
    people: Query<(Entity, &RemoteAvatar, Ref<AvatarInfo>)>,
    font: Res<UiFont>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let Some(mut atlas) = atlas else { return };
    let let_go = |commands: &mut Commands, slot: Slot| {
        commands.entity(slot.node).despawn();
        if let Ok(mut card) = commands.get_entity(slot.card) {
            card.despawn();
        }
    };
    // Gone: their avatar (and with it the card) went.
    let gone: Vec<PeerId> = atlas.slots.iter().filter(|(_, slot)| !people.contains(slot.avatar)).map(|(id, _)| *id).collect();
    for id in gone {
        atlas.redraw = REDRAW_FRAMES;
        if let Some(slot) = atlas.slots.remove(&id) {
            let_go(&mut commands, slot);
        }
    }
    for (avatar, remote, info) in &people {
        let id = remote.0;
        if !info.is_changed() && atlas.slots.contains_key(&id) {
            continue;
        }
        let shown = PeerInfoShown { nickname: info.0.nickname.clone(), staff: info.0.role == Role::Facilitator };
        match atlas.slots.get(&id) {
            // A change that the tag does not show (a raised hand, a new look).
            Some(slot) if slot.shown == shown => continue,
            Some(_) => {
                if let Some(slot) = atlas.slots.remove(&id) {
                    let_go(&mut commands, slot);
                }
            }
            None => {}
        }
        let taken: Vec<usize> = atlas.slots.values().map(|slot| slot.index).collect();
        let Some(slot) = (0..(GRID.x * GRID.y) as usize).find(|s| !taken.contains(s)) else { continue };
        let (col, row) = (slot as u32 % GRID.x, slot as u32 / GRID.x);
        let node = commands
            .spawn((
                Node {
                    position_type: PositionType::Absolute,
                    left: Val::Px((col * SLOT.x) as f32),
                    top: Val::Px((row * SLOT.y) as f32),
                    width: Val::Px(SLOT.x as f32),
                    height: Val::Px(SLOT.y as f32),
                    justify_content: JustifyContent::Center,
                    align_items: AlignItems::Center,
                    column_gap: Val::Px(8.0),
                    border_radius: BorderRadius::all(Val::Px(24.0)),
                    ..default()
                },
                BackgroundColor(palette::CARD),
                ChildOf(atlas.root),
            ))
            .with_children(|tag| {
                if shown.staff {
                    tag.spawn((
                        Node { padding: UiRect::axes(Val::Px(8.0), Val::Px(2.0)), border_radius: BorderRadius::all(Val::Px(10.0)), ..default() },
                        BackgroundColor(palette::ACCENT),
                    ))
                    .with_children(|chip| {
                        chip.spawn((ui_text(&font, "", 24.0, Color::WHITE), Localized("badge-facilitator")));
                    });
                }
                tag.spawn(ui_text(&font, tsunagu_i18n::keep_words_together(&shown.nickname), 32.0, palette::INK));
            })
            .id();
        let card = commands
            .spawn((
                WorldTag,
                Mesh3d(meshes.add(card_mesh(slot))),
                MeshMaterial3d(atlas.material.clone()),
                Transform::from_xyz(0.0, AVATAR_HEIGHT + 0.22, 0.0),
                RenderLayers::layer(HEADSET_ONLY_LAYER),
                ChildOf(avatar),
            ))
            .id();
        atlas.slots.insert(id, Slot { index: slot, node, card, avatar, shown });
        atlas.redraw = REDRAW_FRAMES;
    }
}

/// Beyond this distance a card grows with it, so its letters look as big
/// as at 2 m (up to three times, across the ward).
const TAG_READABLE_AT: f32 = 2.0;

/// Every card turns to face my eyes (about the vertical, so it stays
/// upright), and grows with distance so its letters stay readable.
pub(crate) fn face_my_eyes(
    eyes: Query<&GlobalTransform, With<XrCamera>>,
    mut cards: Query<(&mut Transform, &ChildOf), With<WorldTag>>,
    avatars: Query<&GlobalTransform>,
) {
    let Some(eye) = eyes.iter().next().map(GlobalTransform::translation) else { return };
    for (mut card, parent) in &mut cards {
        let Ok(avatar) = avatars.get(parent.parent()) else { continue };
        let (_, avatar_rotation, avatar_at) = avatar.to_scale_rotation_translation();
        let toward = (eye - (avatar_at + Vec3::Y * card.translation.y)).with_y(0.0);
        if toward.length_squared() < 1e-6 {
            continue;
        }
        // The card faces +Z: turn +Z toward the eye, in the avatar's own frame.
        let world = Quat::from_rotation_arc(Vec3::Z, toward.normalize());
        card.rotation = avatar_rotation.inverse() * world;
        card.scale = Vec3::splat((toward.length() / TAG_READABLE_AT).clamp(1.0, 3.0));
    }
}
