//! On a CPU renderer (lavapipe / llvmpipe: no GPU, or no driver for it)
//! every pixel costs: no multisampling, no shadow maps, no lamps (a brighter
//! ambient light stands in for them), and a plain Lambert shader in place of
//! Bevy's physically based one. Real GPUs, weak integrated ones included,
//! keep all of it.

use bevy::prelude::*;

/// Present when the renderer is a CPU one.
#[derive(Resource)]
pub struct SoftwareRendering;

/// Finds out and simplifies.
pub struct SoftwareRenderingPlugin;

impl Plugin for SoftwareRenderingPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(PostStartup, lighten_for_software_rendering)
            .add_systems(PostUpdate, (no_multisampling_on_software, shade_simply).run_if(resource_exists::<SoftwareRendering>));
    }
}

fn lighten_for_software_rendering(
    mut commands: Commands,
    adapter: Option<Res<bevy::render::renderer::RenderAdapterInfo>>,
    mut lights: Query<&mut DirectionalLight>,
    lamps: Query<Entity, With<PointLight>>,
    mut ambient: ResMut<GlobalAmbientLight>,
) {
    let Some(adapter) = adapter else { return };
    if adapter.device_type != wgpu_types::DeviceType::Cpu {
        return;
    }
    info!("tsunagu: software rendering ({}): simpler lighting, no multisampling", adapter.name);
    commands.insert_resource(SoftwareRendering);
    for mut light in &mut lights {
        light.shadow_maps_enabled = false;
    }
    // Measured: lamps cost a third of each frame there.
    for lamp in &lamps {
        commands.entity(lamp).despawn();
    }
    ambient.brightness *= 2.2;
}

/// Every 3D camera, also those made later (the headset's eyes arrive when its
/// session starts, and again after it comes back): multisampling on a CPU
/// renderer multiplies its per-pixel work.
fn no_multisampling_on_software(mut commands: Commands, cameras: Query<(Entity, &Msaa), Added<Camera3d>>) {
    for (camera, msaa) in &cameras {
        if *msaa != Msaa::Off {
            commands.entity(camera).insert(Msaa::Off);
        }
    }
}

/// Where Bevy keeps the StandardMaterial's fragment shader.
const PBR_FRAGMENT: &str = "embedded://bevy_pbr/render/pbr.wgsl";
/// Ours, for CPU renderers.
const SIMPLE_FRAGMENT: &str = include_str!("software_shading.wgsl");

/// Put the simple shader in the place of Bevy's, once that has loaded (the
/// pipelines that used the old one are rebuilt). Bevy's fragment shader
/// costs about five times as much per pixel on a CPU renderer: measured on
/// lavapipe, two 320x240 headset eyes took 26.4 ms with it and 4.9 ms with
/// this one; keeping the headset's pace needs the difference.
fn shade_simply(assets: Res<AssetServer>, mut shaders: ResMut<Assets<Shader>>, mut done: Local<bool>) {
    if *done {
        return;
    }
    let pbr: Handle<Shader> = assets.load(PBR_FRAGMENT);
    if !assets.is_loaded(&pbr) {
        return;
    }
    *done = true;
    match shaders.insert(&pbr, Shader::from_wgsl(SIMPLE_FRAGMENT, file!())) {
        Ok(()) => info!("tsunagu: software rendering: simple shading"),
        Err(e) => warn!("tsunagu: software rendering: the simple shader could not be used ({e})"),
    }
}
