//! Comfort in a headset: the edges darkened while walking smoothly, my own
//! head kept out of my eyes, and the window (a mirror for whoever sits
//! beside the bed) drawn less often so the headset keeps its pace.

use bevy::prelude::*;
use bevy_mod_xr::camera::XrCamera;
use bevy_mod_xr::session::XrState;

use super::rig::HeadsetRig;
use crate::kit::me::LocalPlayer;
use crate::kit::scene::Drawing;

/// The comfort vignette in front of each eye: clear in the middle, dark at
/// the edges, as strong as `HeadsetRig::vignette` (while walking smoothly).
#[derive(Component)]
pub(super) struct Vignette;

/// Its one material, shared by both eyes.
#[derive(Resource)]
pub(super) struct VignetteLook(Handle<StandardMaterial>);

/// A ring of shade: see-through in the middle, dark toward the edges.
pub(super) fn vignette_picture() -> Image {
    const SIZE: u32 = 64;
    let mut pixels = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let at = Vec2::new(x as f32, y as f32) / (SIZE - 1) as f32 * 2.0 - Vec2::ONE;
            let shade = ((at.length() - 0.45) / 0.45).clamp(0.0, 1.0);
            pixels.extend_from_slice(&[40, 30, 24, (shade * shade * (3.0 - 2.0 * shade) * 255.0) as u8]);
        }
    }
    Image::new(
        bevy::render::render_resource::Extent3d { width: SIZE, height: SIZE, depth_or_array_layers: 1 },
        bevy::render::render_resource::TextureDimension::D2,
        pixels,
        bevy::render::render_resource::TextureFormat::Rgba8UnormSrgb,
        bevy::asset::RenderAssetUsages::RENDER_WORLD,
    )
}

pub(super) fn darken_the_edges(
    mut commands: Commands,
    headset: Res<HeadsetRig>,
    eyes: Query<(Entity, Option<&Children>), With<XrCamera>>,
    mut shades: Query<&mut Visibility, With<Vignette>>,
    look: Option<Res<VignetteLook>>,
    mut images: ResMut<Assets<Image>>,
    drawing: Drawing,
) {
    let Drawing { mut meshes, mut materials } = drawing;
    let Some(look) = look else {
        let picture = images.add(vignette_picture());
        let material = StandardMaterial { base_color_texture: Some(picture), unlit: true, alpha_mode: AlphaMode::Blend, ..default() };
        commands.insert_resource(VignetteLook(materials.add(material)));
        return;
    };
    if let Some(mut material) = materials.get_mut(&look.0) {
        let wanted = Color::srgba(1.0, 1.0, 1.0, headset.vignette);
        if material.base_color != wanted {
            material.base_color = wanted;
        }
    }
    let shown = if headset.vignette > 0.01 { Visibility::Inherited } else { Visibility::Hidden };
    for (eye, children) in &eyes {
        let has = children.is_some_and(|c| c.iter().any(|child| shades.contains(child)));
        if !has {
            // 15 cm in front of the eye, wide enough for any headset's view.
            commands.spawn((
                Vignette,
                Mesh3d(meshes.add(Rectangle::new(0.6, 0.6))),
                MeshMaterial3d(look.0.clone()),
                Transform::from_xyz(0.0, 0.0, -0.15),
                bevy::camera::visibility::RenderLayers::layer(crate::headset::world_tags::HEADSET_ONLY_LAYER),
                shown,
                ChildOf(eye),
            ));
        }
    }
    for mut visibility in &mut shades {
        visibility.set_if_neq(shown);
    }
}

/// Only the window sees my own head (and what I wear on it): the headset
/// looks out from inside it. The window's camera sees both layers.
pub(super) fn keep_my_head_out_of_my_eyes(
    mut commands: Commands,
    me: Query<&Children, With<LocalPlayer>>,
    children: Query<&Children>,
    heads: Query<Entity, With<crate::kit::room::AvatarHead>>,
    layered: Query<(), With<bevy::camera::visibility::RenderLayers>>,
    window_camera: Query<Entity, (With<crate::kit::me::MainCamera>, Without<bevy::camera::visibility::RenderLayers>)>,
) {
    for camera in &window_camera {
        commands.entity(camera).insert(bevy::camera::visibility::RenderLayers::from_layers(&[0, WINDOW_ONLY_LAYER]));
    }
    for kids in &me {
        for part in kids.iter().flat_map(|avatar| children.iter_descendants(avatar)) {
            if heads.contains(part) {
                for piece in std::iter::once(part).chain(children.iter_descendants(part)) {
                    if !layered.contains(piece) {
                        commands.entity(piece).insert(bevy::camera::visibility::RenderLayers::layer(WINDOW_ONLY_LAYER));
                    }
                }
            }
        }
    }
}

/// While the headset runs, the window is drawn at one frame in this many.
pub(super) const WINDOW_EVERY: u32 = 8;

/// The same on a CPU renderer, where one window frame costs the headset a
/// frame of its own (about 50 ms on lavapipe): every 2 s at 20 Hz.
/// Measured (docs/benchmarks.md): one in 8 let the headset keep 16.6 frames a
/// second of its 20, one in 32 kept 19.4.
pub(super) const WINDOW_EVERY_ON_SOFTWARE: u32 = 40;

/// The render layer only the window's camera sees.
pub(super) const WINDOW_ONLY_LAYER: usize = 1;

/// While the headset shows the room, the window (a mirror for whoever sits
/// beside the bed) is drawn at one frame in [`WINDOW_EVERY`] (in
/// [`WINDOW_EVERY_ON_SOFTWARE`] on a CPU renderer): on a ward PC's integrated
/// graphics every frame it skips goes to the headset, which must keep its pace.
pub(super) fn pace_the_window(
    state: Option<Res<XrState>>,
    mut frame: Local<u32>,
    pictures: Query<(), With<bevy::render::view::screenshot::Screenshot>>,
    software: Option<Res<crate::kit::software_rendering::SoftwareRendering>>,
    mut cameras: Query<&mut Camera, With<crate::kit::me::MainCamera>>,
) {
    let running = matches!(state.as_deref(), Some(XrState::Running));
    *frame = frame.wrapping_add(1);
    // A picture being taken is of a window drawn this frame.
    let every = if software.is_some() { WINDOW_EVERY_ON_SOFTWARE } else { WINDOW_EVERY };
    let active = !running || frame.is_multiple_of(every) || !pictures.is_empty();
    for mut camera in &mut cameras {
        if camera.is_active != active {
            camera.is_active = active;
        }
    }
}
