//! The ward room, built in code from the shared layout: every solid piece gets
//! a mesh from the same numbers the walking model (`tsunagu_sim::motion`) and
//! the server use, so what you see, what you bump into and what the server
//! allows always agree. Built
//! in code rather than glTF because the layout is data both sides need anyway,
//! and primitive shapes render fast on weak integrated graphics.

use bevy::light::{CascadeShadowConfigBuilder, DirectionalLightShadowMap};
use std::collections::HashMap;

use bevy::prelude::*;
use tsunagu_sim::layout::{PieceKind, WardLayout};

/// The layout the room was built from.
#[derive(Resource)]
pub struct Ward(pub WardLayout);

/// Marks everything that belongs to the room itself.
#[derive(Component)]
pub struct WardPart;

/// Builds the ward room and its lights.
pub struct WardScenePlugin;

impl Plugin for WardScenePlugin {
    fn build(&self, app: &mut App) {
        // Made here, not at startup: the start screen's avatar preview (the
        // first state's OnEnter) runs before Startup and needs them.
        let shapes = Shapes::new(&mut app.world_mut().resource_mut::<Assets<Mesh>>());
        app.insert_resource(shapes)
            .insert_resource(Ward(WardLayout::ward()))
            .insert_resource(GlobalAmbientLight { color: Color::srgb(1.0, 0.92, 0.82), brightness: 550.0, affects_lightmapped_meshes: true })
            .insert_resource(DirectionalLightShadowMap { size: 1024 })
            .add_systems(Startup, build_ward)
            .add_plugins(crate::kit::software_rendering::SoftwareRenderingPlugin);
    }
}

/// Shorthand for spawning coloured primitives. Shapes are unit meshes scaled by
/// their transform and materials are shared per colour, so the renderer can
/// batch them: a few meshes and a few dozen materials instead of hundreds.
struct Builder<'a, 'w, 's> {
    commands: &'a mut Commands<'w, 's>,
    materials: &'a mut Assets<StandardMaterial>,
    shapes: Shapes,
    palette: HashMap<([u8; 4], bool), Handle<StandardMaterial>>,
}

/// Unit meshes shared by the room and the avatars.
#[derive(Resource, Clone)]
pub struct Shapes {
    /// 1 m cube.
    pub cube: Handle<Mesh>,
    /// Sphere of radius 1, smooth enough for heads (1,280 triangles, not Bevy's default 20,480).
    pub sphere: Handle<Mesh>,
    /// Cylinder of radius 1 and height 1.
    pub cylinder: Handle<Mesh>,
    /// An avatar's body.
    pub torso: Handle<Mesh>,
    /// An avatar's arm.
    pub limb: Handle<Mesh>,
}

impl Shapes {
    /// Make the unit meshes.
    pub fn new(meshes: &mut Assets<Mesh>) -> Self {
        let sphere = Sphere::new(1.0).mesh().ico(3).unwrap_or_else(|_| Sphere::new(1.0).mesh().uv(24, 16));
        Shapes {
            cube: meshes.add(Cuboid::from_length(1.0)),
            sphere: meshes.add(sphere),
            cylinder: meshes.add(Cylinder::new(1.0, 1.0).mesh().resolution(24)),
            torso: meshes.add(Capsule3d::new(0.27, 0.35)),
            limb: meshes.add(Capsule3d::new(0.08, 0.25)),
        }
    }
}

fn srgb(hex: u32) -> Color {
    Color::srgb_u8((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

impl Builder<'_, '_, '_> {
    fn material(&mut self, color: Color, unlit: bool) -> Handle<StandardMaterial> {
        let key = (color.to_srgba().to_u8_array(), unlit);
        let materials = &mut *self.materials;
        self.palette
            .entry(key)
            .or_insert_with(|| materials.add(StandardMaterial { base_color: color, perceptual_roughness: 0.85, unlit, ..default() }))
            .clone()
    }

    fn matte(&mut self, color: Color) -> Handle<StandardMaterial> {
        self.material(color, false)
    }

    fn glowing(&mut self, color: Color) -> Handle<StandardMaterial> {
        self.material(color, true)
    }

    fn spawn(&mut self, mesh: Handle<Mesh>, material: Handle<StandardMaterial>, transform: Transform) -> Entity {
        self.commands.spawn((WardPart, Mesh3d(mesh), MeshMaterial3d(material), transform)).id()
    }

    fn cuboid(&mut self, center: Vec3, size: Vec3, color: Color) -> Entity {
        let material = self.matte(color);
        self.spawn(self.shapes.cube.clone(), material, Transform::from_translation(center).with_scale(size))
    }

    /// A cuboid in a flat colour that ignores lighting (sky, pictures).
    fn panel(&mut self, transform: Transform, color: Color) -> Entity {
        let material = self.glowing(color);
        self.spawn(self.shapes.cube.clone(), material, transform)
    }

    fn sphere(&mut self, center: Vec3, radius: f32, scale: Vec3, color: Color) -> Entity {
        let material = self.matte(color);
        self.spawn(self.shapes.sphere.clone(), material, Transform::from_translation(center).with_scale(scale * radius))
    }

    /// A sphere in a flat colour that ignores lighting.
    fn glowing_sphere(&mut self, transform: Transform, color: Color) -> Entity {
        let material = self.glowing(color);
        self.spawn(self.shapes.sphere.clone(), material, transform)
    }

    fn cylinder(&mut self, center: Vec3, radius: f32, height: f32, color: Color) -> Entity {
        let material = self.matte(color);
        self.spawn(self.shapes.cylinder.clone(), material, Transform::from_translation(center).with_scale(Vec3::new(radius, height, radius)))
    }
}

fn build_ward(mut commands: Commands, shapes: Res<Shapes>, mut materials: ResMut<Assets<StandardMaterial>>, ward: Res<Ward>) {
    let layout = &ward.0;
    let shapes = shapes.clone();
    let mut b = Builder { commands: &mut commands, materials: &mut materials, shapes, palette: HashMap::new() };
    let half = layout.interior_half;

    // Floor: warm wood.
    b.cuboid(Vec3::new(0.0, -0.05, 0.0), Vec3::new(2.0 * half.x, 0.1, 2.0 * half.y), srgb(0xd9b48a));
    // Ceiling, and soft round lamps in it.
    b.cuboid(Vec3::new(0.0, layout.ceiling + 0.05, 0.0), Vec3::new(2.0 * half.x, 0.1, 2.0 * half.y), srgb(0xfff8ee));
    for x in [-4.0, 0.0, 4.0] {
        for z in [-2.5, 2.5] {
            let lamp = Transform::from_xyz(x, layout.ceiling - 0.01, z).with_scale(Vec3::new(0.45, 0.04, 0.45));
            let material = b.glowing(srgb(0xfff1d6));
            b.spawn(b.shapes.cylinder.clone(), material, lamp);
        }
    }

    for piece in &layout.pieces {
        let size = piece.half_extents * 2.0;
        match piece.kind {
            PieceKind::Wall => b.cuboid(piece.center, size, srgb(0xfbe9d4)),
            PieceKind::Bed => bed(&mut b, piece.center, size),
            PieceKind::BedsideCabinet => {
                let cabinet = b.cuboid(piece.center, size, srgb(0xe8c9a0));
                b.sphere(piece.center + Vec3::new(0.26, 0.1, 0.0), 0.03, Vec3::ONE, srgb(0x9a6b3f));
                b.cuboid(piece.center + Vec3::Y * 0.36, Vec3::new(0.16, 0.02, 0.16), srgb(0x8fd3c2));
                cabinet
            }
            PieceKind::ToyBox => {
                let chest = b.cuboid(piece.center, size, srgb(0x6fb6e8));
                b.cuboid(piece.center + Vec3::Y * (piece.half_extents.y + 0.03), size.with_y(0.06) + 0.04, srgb(0xffcf5a));
                chest
            }
            PieceKind::LowTable => {
                let top = b.cuboid(piece.center + Vec3::Y * 0.17, size.with_y(0.06), srgb(0xf3d9b1));
                for (sx, sz) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
                    let leg = piece.center + Vec3::new(sx * (piece.half_extents.x - 0.08), -0.04, sz * (piece.half_extents.z - 0.08));
                    b.cylinder(leg, 0.04, 0.36, srgb(0xe0b98a));
                }
                top
            }
            PieceKind::BambooPot => b.cylinder(piece.center, piece.half_extents.x, size.y, srgb(0xc98b5a)),
            PieceKind::Bench => {
                let bench = b.cuboid(piece.center, size, srgb(0xf4a9a0));
                for i in 0..3 {
                    let x = piece.center.x + (i as f32 - 1.0) * 0.72;
                    b.sphere(Vec3::new(x, piece.center.y + 0.26, piece.center.z), 0.3, Vec3::new(1.0, 0.35, 0.8), srgb(0xffd6c9));
                }
                bench
            }
        };
    }

    // A soft green band along the lower walls.
    let band = srgb(0xcfe8c9);
    for z in [-half.y + 0.01, half.y - 0.01] {
        b.cuboid(Vec3::new(0.0, 0.45, z), Vec3::new(2.0 * half.x, 0.9, 0.02), band);
    }
    for x in [-half.x + 0.01, half.x - 0.01] {
        b.cuboid(Vec3::new(x, 0.45, 0.0), Vec3::new(0.02, 0.9, 2.0 * half.y), band);
    }

    for (center, window_half) in &layout.windows {
        window(&mut b, *center, *window_half);
    }
    wall_screen(&mut b, layout.screen.0, layout.screen.1);
    play_corner(&mut b, layout.rug.0, layout.rug.1);
    dartboard(&mut b, &layout.dartboard);
    bamboo(&mut b, layout.bamboo);

    // Daylight through the windows: the one shadowed light (cheap on software rendering).
    commands.spawn((
        WardPart,
        DirectionalLight { illuminance: 4_500.0, color: srgb(0xfff0d8), shadow_maps_enabled: true, ..default() },
        Transform::from_xyz(2.0, 6.0, -9.0).looking_at(Vec3::new(0.0, 0.0, 1.0), Vec3::Y),
        CascadeShadowConfigBuilder { num_cascades: 1, maximum_distance: 20.0, ..default() }.build(),
    ));
    // Warm lamps filling the room.
    for x in [-4.0, 0.0, 4.0] {
        commands.spawn((
            WardPart,
            PointLight { intensity: 180_000.0, range: 12.0, color: srgb(0xffd9a8), shadow_maps_enabled: false, ..default() },
            Transform::from_xyz(x, layout.ceiling - 0.3, 0.0),
        ));
    }
}

fn bed(b: &mut Builder, center: Vec3, size: Vec3) -> Entity {
    let frame = b.cuboid(center - Vec3::Y * 0.1, size.with_y(0.4), srgb(0xdfe9f2));
    let top = center.y + size.y / 2.0;
    b.cuboid(Vec3::new(center.x, top - 0.08, center.z), Vec3::new(size.x - 0.1, 0.16, size.z - 0.1), srgb(0xffffff));
    // A cheerful blanket over the foot end.
    let blankets = [0xf7b6c2, 0xa8d8f0, 0xffe08a];
    let pick = blankets[(center.z.abs() * 10.0) as usize % blankets.len()];
    b.cuboid(Vec3::new(center.x + 0.25, top + 0.02, center.z), Vec3::new(size.x * 0.7, 0.06, size.z - 0.04), srgb(pick));
    b.sphere(Vec3::new(center.x - size.x / 2.0 + 0.3, top + 0.07, center.z), 0.3, Vec3::new(0.7, 0.3, 1.2), srgb(0xffffff));
    // Headboard against the wall.
    b.cuboid(Vec3::new(center.x - size.x / 2.0 + 0.03, center.y + 0.35, center.z), Vec3::new(0.06, 1.0, size.z), srgb(0xe8c9a0));
    // Curtain rail and a half-drawn curtain on the open side, in soft pastels.
    let rail_y = 2.3;
    b.cuboid(Vec3::new(center.x + size.x / 2.0 + 0.2, rail_y, center.z), Vec3::new(0.04, 0.04, size.z + 0.8), srgb(0xcfcfcf));
    for side in [-1.0, 1.0] {
        b.cuboid(Vec3::new(center.x + 0.1, rail_y, center.z + side * (size.z / 2.0 + 0.4)), Vec3::new(size.x + 0.2, 0.04, 0.04), srgb(0xcfcfcf));
        // Folded curtain at each side.
        b.cuboid(
            Vec3::new(center.x + size.x / 2.0 + 0.2, rail_y - 0.95, center.z + side * (size.z / 2.0 + 0.25)),
            Vec3::new(0.08, 1.9, 0.3),
            srgb(0xc9b8e8),
        );
        b.cuboid(
            Vec3::new(center.x + 0.1, rail_y - 0.95, center.z + side * (size.z / 2.0 + 0.4)),
            Vec3::new(size.x + 0.2, 1.9, 0.03),
            srgb(0xd8ecd9),
        );
    }
    frame
}

fn window(b: &mut Builder, center: Vec3, half: Vec2) {
    let inset = center + Vec3::Z * 0.02;
    b.panel(Transform::from_translation(inset).with_scale(Vec3::new(half.x * 2.0, half.y * 2.0, 0.01)), srgb(0x9fd4f5));
    for (dx, dy, s) in [(-0.5, 0.25, 0.22), (-0.28, 0.3, 0.28), (0.45, -0.1, 0.2), (0.62, -0.05, 0.16)] {
        let cloud = Transform::from_translation(inset + Vec3::new(dx, dy, 0.01)).with_scale(Vec3::new(1.4, 0.6, 0.05) * s);
        b.glowing_sphere(cloud, srgb(0xffffff));
    }
    let hills = Transform::from_translation(inset + Vec3::new(0.2, -half.y - 0.35, 0.012)).with_scale(Vec3::new(1.3, 0.6, 0.01) * half.x * 0.9);
    b.glowing_sphere(hills, srgb(0x9fd98f));
    let frame = srgb(0xffffff);
    b.cuboid(center + Vec3::new(0.0, half.y + 0.04, 0.05), Vec3::new(half.x * 2.0 + 0.16, 0.08, 0.1), frame);
    b.cuboid(center + Vec3::new(0.0, -half.y - 0.05, 0.08), Vec3::new(half.x * 2.0 + 0.3, 0.1, 0.16), frame);
    for side in [-1.0, 1.0] {
        b.cuboid(center + Vec3::new(side * (half.x + 0.04), 0.0, 0.05), Vec3::new(0.08, half.y * 2.0, 0.1), frame);
    }
    b.cuboid(center + Vec3::new(0.0, 0.0, 0.05), Vec3::new(0.05, half.y * 2.0, 0.06), frame);
    // Tied-back curtains either side.
    for side in [-1.0, 1.0] {
        b.cuboid(center + Vec3::new(side * (half.x + 0.25), -0.1, 0.12), Vec3::new(0.3, half.y * 2.0 + 0.6, 0.05), srgb(0xffc9a8));
    }
}

fn wall_screen(b: &mut Builder, center: Vec3, half: Vec2) {
    b.cuboid(center + Vec3::Z * 0.04, Vec3::new(half.x * 2.0 + 0.12, half.y * 2.0 + 0.12, 0.06), srgb(0x3a3f4a));
    let front = center + Vec3::Z * 0.075;
    // A calm picture: evening sky, a moon and the Milky Way for Tanabata.
    b.panel(Transform::from_translation(front).with_scale(Vec3::new(half.x * 2.0, half.y * 2.0, 0.005)), srgb(0x3c4f9a));
    let river = Transform::from_translation(front + Vec3::Z * 0.004).with_rotation(Quat::from_rotation_z(0.35)).with_scale(Vec3::new(
        half.x * 2.4,
        0.22,
        0.004,
    ));
    b.panel(river, srgb(0x8fa6e6));
    for (dx, dy) in [(-1.1, 0.55), (-0.7, -0.35), (-0.2, 0.6), (0.3, -0.55), (0.75, 0.45), (1.2, -0.2), (-1.25, -0.6), (0.05, 0.1)] {
        b.glowing_sphere(Transform::from_translation(front + Vec3::new(dx, dy, 0.01)).with_scale(Vec3::splat(0.035)), srgb(0xfff3a0));
    }
    b.glowing_sphere(Transform::from_translation(front + Vec3::new(1.05, 0.5, 0.01)).with_scale(Vec3::new(0.18, 0.18, 0.01)), srgb(0xfff7d6));
    let hill = Transform::from_translation(front + Vec3::new(-0.3, -half.y - 0.55, 0.008)).with_scale(Vec3::new(1.2, 0.7, 0.01) * half.x);
    b.glowing_sphere(hill, srgb(0x2f6b4f));
}

/// The dartboard on the east wall: the rings the room scores by, outermost
/// first, each a little proud of the last.
fn dartboard(b: &mut Builder, board: &tsunagu_sim::Dartboard) {
    use tsunagu_sim::objects::{BOARD_RINGS, DartScore};
    let colour = |score: DartScore| match score {
        DartScore::Bull => srgb(0xf25c6b),
        DartScore::Inner => srgb(0x6bb8f2),
        DartScore::Middle => srgb(0xfff1d6),
        DartScore::Outer => srgb(0x7fc98a),
    };
    let facing_west = Quat::from_rotation_z(std::f32::consts::FRAC_PI_2);
    let rings = std::iter::once((board.radius + 0.02, None))
        .chain(std::iter::once((board.radius, Some(DartScore::Outer))))
        .chain(BOARD_RINGS.iter().rev().map(|(r, s)| (*r, Some(*s))));
    for (n, (radius, score)) in rings.enumerate() {
        let material = b.matte(score.map_or(srgb(0x8a6a4a), colour));
        let at = board.center - Vec3::X * (0.01 + 0.004 * n as f32);
        b.spawn(
            b.shapes.cylinder.clone(),
            material,
            Transform::from_translation(at).with_rotation(facing_west).with_scale(Vec3::new(radius, 0.02, radius)),
        );
    }
}

fn play_corner(b: &mut Builder, center: Vec3, radius: f32) {
    b.cylinder(center + Vec3::Y * 0.01, radius, 0.02, srgb(0xffc37a));
    b.cylinder(center + Vec3::Y * 0.015, radius * 0.7, 0.02, srgb(0xffe3a3));
    b.cylinder(center + Vec3::Y * 0.02, radius * 0.35, 0.02, srgb(0xffb3a7));
    // A teddy bear on the rug. The ball, blocks and darts are the room's
    // shared things, drawn from snapshots (`play`).
    let bear = center + Vec3::new(-0.3, 0.0, 1.35);
    let fur = srgb(0xc08a5a);
    b.sphere(bear + Vec3::Y * 0.2, 0.2, Vec3::new(1.0, 1.1, 0.9), fur);
    b.sphere(bear + Vec3::Y * 0.5, 0.15, Vec3::ONE, fur);
    for side in [-1.0, 1.0] {
        b.sphere(bear + Vec3::new(side * 0.11, 0.63, 0.0), 0.055, Vec3::ONE, fur);
    }
    b.sphere(bear + Vec3::new(0.0, 0.48, 0.13), 0.06, Vec3::ONE, srgb(0xf3dcc0));
}

fn bamboo(b: &mut Builder, base: Vec3) {
    let green = srgb(0x6fae4f);
    let leaf = srgb(0x8cc96a);
    let stalks = [(Vec3::new(0.0, 0.0, 0.0), 2.6), (Vec3::new(0.18, 0.0, 0.12), 2.3), (Vec3::new(-0.15, 0.0, 0.1), 2.0)];
    for (offset, height) in stalks {
        let foot = base + offset;
        b.cylinder(foot + Vec3::Y * (height / 2.0), 0.045, height, green);
        for k in 0..6 {
            let y = height * (0.55 + 0.08 * k as f32);
            let angle = k as f32 * 2.1 + offset.x * 10.0;
            let dir = Vec3::new(angle.cos(), 0.0, angle.sin());
            let leaf_at = Transform::from_translation(foot + Vec3::Y * y + dir * 0.22)
                .with_rotation(Quat::from_rotation_y(-angle))
                .with_scale(Vec3::new(0.26, 0.02, 0.07));
            let material = b.matte(leaf);
            b.spawn(b.shapes.sphere.clone(), material, leaf_at);
        }
        // The wishes hang from it as the room has them (`play`).
    }
}

/// Where pictures are asked for (in `Last`): what decides whether a camera
/// draws this frame runs after it.
#[derive(SystemSet, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PictureTaking;

/// What 3D things are drawn with: meshes and materials, to add or change.
#[derive(bevy::ecs::system::SystemParam)]
pub struct Drawing<'w> {
    /// The meshes.
    pub meshes: ResMut<'w, Assets<Mesh>>,
    /// The materials.
    pub materials: ResMut<'w, Assets<StandardMaterial>>,
}
