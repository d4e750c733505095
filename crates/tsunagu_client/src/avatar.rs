//! Avatars: a friendly, stylised figure (round body in the chosen colour, a big
//! soft head with dot eyes and pink cheeks) and the name tag above it.

use bevy::prelude::*;
use tsunagu_protocol::{AvatarLook, PeerId};
use tsunagu_sim::motion::AVATAR_HEIGHT;

use crate::scene::Shapes;
use crate::text::UiFont;
use crate::AppState;

/// The root of one avatar; its transform is the feet on the floor.
#[derive(Component)]
pub struct Avatar;

/// The head part (turned by the head pose).
#[derive(Component)]
pub struct AvatarHead;

/// Another participant's avatar.
#[derive(Component)]
pub struct RemoteAvatar(pub PeerId);

/// A name tag that follows an avatar on screen.
#[derive(Component)]
pub struct NameTag {
    /// The avatar it follows.
    pub target: Entity,
}

/// Places name tags.
pub struct AvatarPlugin;

impl Plugin for AvatarPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(PostUpdate, place_name_tags.after(TransformSystems::Propagate).run_if(in_state(AppState::InRoom)));
    }
}

/// Spawn an avatar with `look` at `transform` and a name tag reading `name`.
pub fn spawn_avatar(
    commands: &mut Commands,
    shapes: &Shapes,
    materials: &mut Assets<StandardMaterial>,
    font: &UiFont,
    look: AvatarLook,
    name: String,
    transform: Transform,
) -> Entity {
    let [r, g, b] = look.body_color;
    let body_color = Color::srgb_u8(r, g, b);
    let body = materials.add(StandardMaterial { base_color: body_color, perceptual_roughness: 0.7, ..default() });
    let face = materials.add(StandardMaterial { base_color: Color::srgb(1.0, 0.95, 0.88), perceptual_roughness: 0.8, ..default() });
    let dark = materials.add(StandardMaterial { base_color: Color::srgb(0.2, 0.15, 0.15), ..default() });
    let cheek = materials.add(StandardMaterial { base_color: Color::srgb(1.0, 0.65, 0.7), ..default() });
    let (torso, limb, ball) = (shapes.torso.clone(), shapes.limb.clone(), shapes.sphere.clone());

    let avatar = commands.spawn((Avatar, transform, Visibility::default())).id();
    commands.entity(avatar).with_children(|parent| {
        parent.spawn((Mesh3d(torso), MeshMaterial3d(body.clone()), Transform::from_xyz(0.0, 0.5, 0.0)));
        for side in [-1.0, 1.0] {
            parent.spawn((
                Mesh3d(limb.clone()),
                MeshMaterial3d(body.clone()),
                Transform::from_xyz(side * 0.33, 0.55, 0.0).with_rotation(Quat::from_rotation_z(side * 0.5)),
            ));
            parent.spawn((
                Mesh3d(ball.clone()),
                MeshMaterial3d(body.clone()),
                Transform::from_xyz(side * 0.13, 0.08, -0.04).with_scale(Vec3::new(1.0, 0.7, 1.4) * 0.11),
            ));
        }
        parent
            .spawn((AvatarHead, Mesh3d(ball.clone()), MeshMaterial3d(face), Transform::from_xyz(0.0, AVATAR_HEIGHT - 0.3, 0.0).with_scale(Vec3::splat(0.3))))
            .with_children(|head| {
                // Positions in head units (the head is a unit sphere scaled to 0.3 m).
                let dot = |x: f32, y: f32, z: f32, scale: Vec3| Transform::from_xyz(x, y, z).with_scale(scale * (0.04 / 0.3));
                for side in [-1.0, 1.0] {
                    head.spawn((Mesh3d(ball.clone()), MeshMaterial3d(dark.clone()), dot(side * 0.33, 0.13, -0.9, Vec3::ONE)));
                    head.spawn((Mesh3d(ball.clone()), MeshMaterial3d(cheek.clone()), dot(side * 0.57, -0.2, -0.8, Vec3::new(1.4, 0.8, 0.5))));
                }
                // A small coloured tuft on top so avatars are easy to tell apart from behind.
                head.spawn((Mesh3d(ball.clone()), MeshMaterial3d(body.clone()), dot(0.0, 1.0, 0.0, Vec3::splat(2.0))));
            });
    });
    commands.spawn((
        NameTag { target: avatar },
        Node { position_type: PositionType::Absolute, padding: UiRect::axes(Val::Px(10.0), Val::Px(3.0)), border_radius: BorderRadius::all(Val::Px(12.0)), ..default() },
        BackgroundColor(Color::srgba(1.0, 1.0, 1.0, 0.85)),
        Visibility::Hidden,
        DespawnOnExit(AppState::InRoom),
    ))
    .with_children(|tag| {
        tag.spawn(crate::text::ui_text(font, name, 18.0, Color::srgb(0.3, 0.22, 0.18)));
    });
    avatar
}

fn place_name_tags(
    mut commands: Commands,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::controls::MainCamera>>,
    avatars: Query<(&GlobalTransform, &InheritedVisibility), With<Avatar>>,
    mut tags: Query<(Entity, &NameTag, &mut Node, &mut Visibility, &ComputedNode)>,
) {
    let Ok((camera, camera_transform)) = cameras.single() else { return };
    for (entity, tag, mut node, mut visibility, computed) in &mut tags {
        let Ok((avatar, avatar_visible)) = avatars.get(tag.target) else {
            // Its avatar is gone: so is the tag.
            commands.entity(entity).despawn();
            continue;
        };
        let above_head = avatar.translation() + Vec3::Y * (AVATAR_HEIGHT + 0.25);
        let in_front = (above_head - camera_transform.translation()).dot(*camera_transform.forward()) > 0.3;
        match camera.world_to_viewport(camera_transform, above_head) {
            Ok(at) if in_front && avatar_visible.get() => {
                let size = computed.size() * computed.inverse_scale_factor();
                node.left = Val::Px(at.x - size.x / 2.0);
                node.top = Val::Px(at.y - size.y);
                *visibility = Visibility::Inherited;
            }
            _ => *visibility = Visibility::Hidden,
        }
    }
}
