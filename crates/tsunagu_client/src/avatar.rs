//! Avatars: a friendly, stylised figure (round body in the chosen colour, a big
//! soft head with dot eyes and pink cheeks) and the name tag above it. Reads
//! the room's events: people arriving, changing and leaving, and where the
//! server puts me.

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use tsunagu_client_core::RoomEvent;
use tsunagu_protocol::{AvatarLook, PeerId, PeerInfo, QuantPose, Role};
use tsunagu_sim::motion::AVATAR_HEIGHT;
use tsunagu_sim::pose::from_wire;

use crate::AppState;
use crate::controls::{Heading, LocalPlayer, local_player_bundle};
use crate::net::{Connection, NetSet, RoomMessage};
use crate::scene::Shapes;
use crate::text::UiFont;

/// The root of one avatar; its transform is the feet on the floor.
#[derive(Component)]
pub struct Avatar;

/// The head part (turned by the head pose).
#[derive(Component)]
pub struct AvatarHead;

/// Another participant's avatar.
#[derive(Component)]
pub struct RemoteAvatar(pub PeerId);

/// My own avatar (a child of the local player's physics body).
#[derive(Component)]
pub struct OwnAvatar;

/// An avatar's body material, recoloured when its look changes.
#[derive(Component)]
pub struct AvatarBody(pub Handle<StandardMaterial>);

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
        app.add_systems(Update, (apply_room_events, move_remote_avatars).chain().in_set(NetSet::Apply))
            .add_systems(PostUpdate, place_name_tags.after(TransformSystems::Propagate).run_if(in_state(AppState::InRoom)));
    }
}

/// Spawn `who`'s avatar at `transform`, with a name tag reading their
/// nickname and, for staff, the badge only the server can give.
pub fn spawn_avatar(commands: &mut Commands, shapes: &Shapes, materials: &mut Assets<StandardMaterial>, font: &UiFont, who: &PeerInfo, transform: Transform) -> Entity {
    let [r, g, b] = who.look.body_color;
    let body_color = Color::srgb_u8(r, g, b);
    let body = materials.add(StandardMaterial { base_color: body_color, perceptual_roughness: 0.7, ..default() });
    let face = materials.add(StandardMaterial { base_color: Color::srgb(1.0, 0.95, 0.88), perceptual_roughness: 0.8, ..default() });
    let dark = materials.add(StandardMaterial { base_color: Color::srgb(0.2, 0.15, 0.15), ..default() });
    let cheek = materials.add(StandardMaterial { base_color: Color::srgb(1.0, 0.65, 0.7), ..default() });
    let (torso, limb, ball) = (shapes.torso.clone(), shapes.limb.clone(), shapes.sphere.clone());

    let avatar = commands.spawn((Avatar, AvatarBody(body.clone()), transform, Visibility::default())).id();
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
        // Clicked: this person's voice louder, softer or off, on this PC only (see `voice`).
        Button,
        Node { position_type: PositionType::Absolute, padding: UiRect::axes(Val::Px(10.0), Val::Px(3.0)), border_radius: BorderRadius::all(Val::Px(12.0)), ..default() },
        BackgroundColor(Color::srgba(1.0, 1.0, 1.0, 0.85)),
        Visibility::Hidden,
        DespawnOnExit(AppState::InRoom),
    ))
    .with_children(|tag| {
        if who.role == Role::Facilitator {
            // Not text in the name: a chip in its own colour, set from the role the server assigned.
            tag.spawn((
                Node { padding: UiRect::axes(Val::Px(6.0), Val::Px(1.0)), margin: UiRect::right(Val::Px(6.0)), border_radius: BorderRadius::all(Val::Px(8.0)), ..default() },
                BackgroundColor(crate::ui::palette::ACCENT),
            ))
            .with_children(|chip| {
                chip.spawn((crate::text::ui_text(font, "", 15.0, Color::WHITE), crate::text::Localized("badge-facilitator")));
            });
        }
        tag.spawn(crate::text::ui_text(font, tsunagu_i18n::keep_words_together(&who.nickname), 18.0, Color::srgb(0.3, 0.22, 0.18)));
        tag.spawn((crate::voice::VolumeMark, crate::text::ui_text(font, "", 15.0, crate::ui::palette::INK_SOFT)));
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

/// What spawning and recolouring avatars needs.
#[derive(SystemParam)]
pub struct AvatarKit<'w, 's> {
    commands: Commands<'w, 's>,
    shapes: Res<'w, Shapes>,
    materials: ResMut<'w, Assets<StandardMaterial>>,
    font: Res<'w, UiFont>,
}

impl AvatarKit<'_, '_> {
    fn spawn(&mut self, info: &PeerInfo) -> Entity {
        spawn_avatar(&mut self.commands, &self.shapes, &mut self.materials, &self.font, info, Transform::default())
    }

    fn recolour(&mut self, body: &AvatarBody, look: AvatarLook) {
        let [r, g, b] = look.body_color;
        if let Some(mut material) = self.materials.get_mut(&body.0) {
            material.base_color = Color::srgb_u8(r, g, b);
        }
    }
}

/// My body, my avatar, and where I face.
type LocalParts<'w, 's> = (
    Query<'w, 's, &'static mut Transform, With<LocalPlayer>>,
    Query<'w, 's, &'static AvatarBody, With<OwnAvatar>>,
    ResMut<'w, Heading>,
);

fn place_local_player(transform: &mut Transform, spawn: QuantPose) {
    let (feet, _) = from_wire(spawn);
    transform.translation = feet + Vec3::Y * (AVATAR_HEIGHT / 2.0);
}

fn apply_room_events(
    mut messages: MessageReader<RoomMessage>,
    mut kit: AvatarKit,
    remotes: Query<(Entity, &RemoteAvatar, &AvatarBody)>,
    (mut player, own, mut heading): LocalParts,
) {
    for RoomMessage(event) in messages.read() {
        match event {
            RoomEvent::Joined { me, spawn } => {
                let (feet, rotation) = from_wire(*spawn);
                let body = kit
                    .commands
                    .spawn((
                        local_player_bundle(),
                        Transform::from_translation(feet + Vec3::Y * (AVATAR_HEIGHT / 2.0)),
                        Visibility::default(),
                        DespawnOnExit(AppState::InRoom),
                    ))
                    .id();
                let avatar = kit.spawn(me);
                kit.commands.entity(avatar).insert(OwnAvatar);
                kit.commands.entity(body).add_child(avatar);
                *heading = Heading { yaw: rotation.to_euler(EulerRot::YXZ).0, ..default() };
            }
            // Our place was not kept, or the server moved us: stand where it says.
            RoomEvent::Rejoined { resumed: false, spawn, .. } | RoomEvent::MovedTo(spawn) => {
                for mut transform in &mut player {
                    place_local_player(&mut transform, *spawn);
                }
            }
            RoomEvent::PeerJoined(info) => {
                let avatar = kit.spawn(info);
                kit.commands.entity(avatar).insert((RemoteAvatar(info.id), DespawnOnExit(AppState::InRoom)));
            }
            RoomEvent::PeerChanged(info) => {
                let remote = remotes.iter().find(|(_, r, _)| r.0 == info.id).map(|(_, _, body)| body);
                // Not a remote avatar: it is me.
                if let Some(body) = remote.or_else(|| own.iter().next()) {
                    kit.recolour(body, info.look);
                }
            }
            RoomEvent::PeerLeft(id) => {
                for (entity, remote, _) in &remotes {
                    if remote.0 == *id {
                        kit.commands.entity(entity).despawn();
                    }
                }
            }
            // Other features (the HUD, later voice, gestures, safety) read the rest.
            _ => {}
        }
    }
}

fn move_remote_avatars(
    connection: Option<Res<Connection>>,
    time: Res<Time<Real>>,
    mut remotes: Query<(&RemoteAvatar, &mut Transform, &Children)>,
    mut heads: Query<&mut Transform, (With<AvatarHead>, Without<RemoteAvatar>)>,
) {
    let Some(connection) = connection else { return };
    connection.read(|core| {
        let room = core.room();
        let Some(render_time) = room.render_time(time.elapsed()) else { return };
        for (remote, mut transform, children) in &mut remotes {
            let Some(pose) = room.sample(remote.0, render_time) else { continue };
            (transform.translation, transform.rotation) = pose.body;
            // The head turns relative to the body.
            let relative = transform.rotation.inverse() * pose.head.1;
            for child in children.iter() {
                if let Ok(mut head) = heads.get_mut(child) {
                    head.rotation = relative;
                }
            }
        }
    });
}
