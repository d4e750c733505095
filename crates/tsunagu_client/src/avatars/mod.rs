//! Avatars: a friendly, stylised figure (round body in the chosen colour, a big
//! soft head with dot eyes and pink cheeks, a hairstyle or a hat, and small
//! things worn) and the name tag above it. Reads the room's events: people
//! arriving, changing and leaving, and where the server puts me. How the
//! parts move is `motion`'s work; this file builds them.
//!
//! Cheap to draw: every avatar shares the unit meshes of [`Shapes`] and one
//! material per colour ([`AvatarMaterials`]), so twenty avatars in the same
//! few colours cost a handful of materials, not a hundred.

pub mod look;
pub mod motion;

use std::collections::HashMap;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use tsunagu_protocol::{Accessories, AvatarLook, Headwear, PeerId, PeerInfo, QuantPose, Role};
use tsunagu_sim::animate::{ARM_LENGTH, LEFT, RIGHT, SHOULDER_HEIGHT, shoulder};
use tsunagu_sim::motion::AVATAR_HEIGHT;
use tsunagu_sim::pose::from_wire;

use crate::AppState;
use crate::kit::heard::{EnteredRoom, MovedMe, PersonArrived, PersonChanged, PersonLeft};
use crate::kit::me::{Heading, LocalPlayer};
use crate::kit::net::{Connection, NetSet};
use crate::kit::room::{
    Avatar, AvatarHead, AvatarInfo, Eye, Foot, HeadLook, NameTag, OwnAvatar, RemoteAvatar, Shoulder, Torso, TrackedHands, UNDER_THE_HUD, UpperBody,
    above_head_on_screen, hang_over,
};
use crate::kit::scene::Shapes;
use crate::kit::text::UiFont;

/// A part drawn in the body colour (recoloured when the look changes).
#[derive(Component)]
struct BodyColoured;

/// A part that comes from the look's headwear or accessories (rebuilt when
/// the look changes).
#[derive(Component)]
struct LookPart;

/// Builds avatars and keeps them as the room says.
pub struct AvatarPlugin;

impl Plugin for AvatarPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<AvatarMaterials>()
            .add_systems(Update, (place_me, people_come_and_go, move_remote_avatars).chain().in_set(NetSet::Apply))
            .add_systems(PostUpdate, place_name_tags.after(TransformSystems::Propagate).run_if(in_state(AppState::InRoom)));
    }
}

/// One material per colour, shared by every avatar wearing it.
#[derive(Resource, Default)]
pub struct AvatarMaterials {
    by_colour: HashMap<[u8; 3], Handle<StandardMaterial>>,
}

impl AvatarMaterials {
    /// The material for `rgb` (made once).
    pub fn get(&mut self, materials: &mut Assets<StandardMaterial>, rgb: [u8; 3]) -> Handle<StandardMaterial> {
        self.by_colour
            .entry(rgb)
            .or_insert_with(|| {
                let [r, g, b] = rgb;
                materials.add(StandardMaterial { base_color: Color::srgb_u8(r, g, b), perceptual_roughness: 0.75, ..default() })
            })
            .clone()
    }

    /// How many materials avatars use (for tests and benchmarks).
    pub fn count(&self) -> usize {
        self.by_colour.len()
    }
}

/// The face, eyes and cheeks: the same on everyone.
const FACE: [u8; 3] = [255, 242, 225];
const INK: [u8; 3] = [52, 40, 40];
const CHEEK: [u8; 3] = [255, 166, 178];
const LENS: [u8; 3] = [215, 235, 245];
const RIBBON: [u8; 3] = [240, 90, 120];
const SCARF: [u8; 3] = [225, 80, 70];
const POMPOM: [u8; 3] = [250, 248, 240];

/// What building an avatar needs.
#[derive(SystemParam)]
pub struct AvatarKit<'w, 's> {
    /// Spawns the parts.
    pub commands: Commands<'w, 's>,
    shapes: Res<'w, Shapes>,
    materials: ResMut<'w, Assets<StandardMaterial>>,
    palette: ResMut<'w, AvatarMaterials>,
    font: Res<'w, UiFont>,
}

impl AvatarKit<'_, '_> {
    fn paint(&mut self, rgb: [u8; 3]) -> Handle<StandardMaterial> {
        self.palette.get(&mut self.materials, rgb)
    }

    /// `who`'s avatar at `transform`, with a name tag reading their nickname
    /// and, for staff, the badge only the server can give.
    pub fn spawn(&mut self, who: &PeerInfo, transform: Transform) -> Entity {
        let avatar = self.spawn_figure(who, transform);
        spawn_name_tag(&mut self.commands, &self.font, who, avatar);
        avatar
    }

    /// The figure alone (the start screen's preview has no name tag).
    pub fn spawn_figure(&mut self, who: &PeerInfo, transform: Transform) -> Entity {
        let body = self.paint(who.look.body_color);
        let face = self.paint(FACE);
        let ink = self.paint(INK);
        let cheek = self.paint(CHEEK);
        let (torso, limb, ball) = (self.shapes.torso.clone(), self.shapes.limb.clone(), self.shapes.sphere.clone());
        let avatar = self.commands.spawn((Avatar, AvatarInfo(who.clone()), transform, Visibility::default())).id();
        let upper = self.commands.spawn((UpperBody, Transform::IDENTITY, Visibility::default(), ChildOf(avatar))).id();
        self.commands.spawn((Torso, BodyColoured, Mesh3d(torso), MeshMaterial3d(body.clone()), Transform::from_xyz(0.0, 0.5, 0.0), ChildOf(upper)));
        for arm in [LEFT, RIGHT] {
            let pivot = self.commands.spawn((Shoulder(arm), Transform::from_translation(shoulder(arm)), Visibility::default(), ChildOf(upper))).id();
            // The capsule's top at the shoulder, its bottom a hand's length below.
            self.commands.spawn((
                BodyColoured,
                Mesh3d(limb.clone()),
                MeshMaterial3d(body.clone()),
                Transform::from_xyz(0.0, -ARM_LENGTH / 2.0 + 0.03, 0.0),
                ChildOf(pivot),
            ));
        }
        for foot in [LEFT, RIGHT] {
            let side = if foot == LEFT { -1.0 } else { 1.0 };
            self.commands.spawn((
                Foot(foot),
                BodyColoured,
                Mesh3d(ball.clone()),
                MeshMaterial3d(body.clone()),
                Transform::from_xyz(side * 0.13, 0.08, -0.04).with_scale(Vec3::new(1.0, 0.7, 1.4) * 0.11),
                ChildOf(avatar),
            ));
        }
        let head = self
            .commands
            .spawn((
                AvatarHead,
                Mesh3d(ball.clone()),
                MeshMaterial3d(face),
                Transform::from_xyz(0.0, AVATAR_HEIGHT - 0.3, 0.0).with_scale(Vec3::splat(0.3)),
                ChildOf(upper),
            ))
            .id();
        // Positions in head units (the head is a unit sphere scaled to 0.3 m).
        for side in [-1.0, 1.0] {
            self.commands.spawn((
                Eye,
                Mesh3d(ball.clone()),
                MeshMaterial3d(ink.clone()),
                head_dot(side * 0.33, 0.13, -0.9, Vec3::new(1.0, 1.3, 1.0) * 0.133),
                ChildOf(head),
            ));
            self.commands.spawn((
                Mesh3d(ball.clone()),
                MeshMaterial3d(cheek.clone()),
                head_dot(side * 0.57, -0.2, -0.8, Vec3::new(1.4, 0.8, 0.5) * 0.133),
                ChildOf(head),
            ));
        }
        self.dress(head, upper, who.look);
        avatar
    }

    /// The headwear and accessories of `look`, on `head` and `upper`.
    fn dress(&mut self, head: Entity, upper: Entity, look: AvatarLook) {
        let hair = self.paint(look.headwear_color);
        let ball = self.shapes.sphere.clone();
        let disc = self.shapes.cylinder.clone();
        let part = |kit: &mut Self, parent: Entity, mesh: &Handle<Mesh>, material: &Handle<StandardMaterial>, transform: Transform| {
            kit.commands.spawn((LookPart, Mesh3d(mesh.clone()), MeshMaterial3d(material.clone()), transform, ChildOf(parent)));
        };
        // A cap of hair over the top and back; the face (−Z) stays clear.
        let hair_cap = |kit: &mut Self| {
            part(kit, head, &ball, &hair, head_dot(0.0, 0.28, 0.1, Vec3::new(1.07, 0.8, 1.02)));
            part(kit, head, &ball, &hair, head_dot(0.0, 0.62, -0.5, Vec3::new(0.8, 0.32, 0.45)));
        };
        match look.headwear {
            Headwear::Tuft => part(self, head, &ball, &hair, head_dot(0.0, 1.0, 0.0, Vec3::splat(0.27))),
            Headwear::Short => hair_cap(self),
            Headwear::Long => {
                hair_cap(self);
                part(self, head, &ball, &hair, head_dot(0.0, -0.45, 0.5, Vec3::new(0.98, 1.05, 0.55)));
            }
            Headwear::Bun => {
                hair_cap(self);
                part(self, head, &ball, &hair, head_dot(0.0, 1.05, 0.3, Vec3::splat(0.4)));
            }
            Headwear::Beanie => {
                let white = self.paint(POMPOM);
                part(self, head, &ball, &hair, head_dot(0.0, 0.3, 0.0, Vec3::new(1.09, 0.85, 1.09)));
                part(self, head, &disc, &hair, head_dot(0.0, 0.3, 0.0, Vec3::new(1.12, 0.22, 1.12)));
                part(self, head, &ball, &white, head_dot(0.0, 1.17, 0.0, Vec3::splat(0.26)));
            }
            Headwear::Cap => {
                part(self, head, &ball, &hair, head_dot(0.0, 0.36, 0.0, Vec3::new(1.06, 0.75, 1.06)));
                part(self, head, &disc, &hair, head_dot(0.0, 0.45, -0.85, Vec3::new(0.72, 0.06, 0.55)));
            }
            Headwear::StrawHat => {
                let band = self.paint(RIBBON);
                part(self, head, &disc, &hair, head_dot(0.0, 0.55, 0.0, Vec3::new(1.75, 0.06, 1.75)));
                part(self, head, &disc, &hair, head_dot(0.0, 0.85, 0.0, Vec3::new(0.92, 0.55, 0.92)));
                part(self, head, &disc, &band, head_dot(0.0, 0.66, 0.0, Vec3::new(0.94, 0.12, 0.94)));
            }
        }
        let Accessories { glasses, ribbon, scarf } = look.accessories;
        if glasses {
            let (rim, lens) = (self.paint(INK), self.paint(LENS));
            for side in [-1.0, 1.0] {
                let facing_out = Quat::from_rotation_x(std::f32::consts::FRAC_PI_2);
                part(self, head, &disc, &rim, head_dot(side * 0.34, 0.13, -0.93, Vec3::new(0.3, 0.04, 0.3)).with_rotation(facing_out));
                part(self, head, &disc, &lens, head_dot(side * 0.34, 0.13, -0.96, Vec3::new(0.24, 0.04, 0.24)).with_rotation(facing_out));
            }
            part(self, head, &self.shapes.cube.clone(), &rim, head_dot(0.0, 0.16, -0.97, Vec3::new(0.12, 0.04, 0.04)));
        }
        if ribbon {
            let red = self.paint(RIBBON);
            for side in [-1.0, 1.0] {
                part(
                    self,
                    head,
                    &ball,
                    &red,
                    head_dot(0.68 + side * 0.17, 0.7, 0.1, Vec3::new(0.2, 0.14, 0.08)).with_rotation(Quat::from_rotation_z(side * 0.5)),
                );
            }
            part(self, head, &ball, &red, head_dot(0.68, 0.7, 0.1, Vec3::splat(0.08)));
        }
        if scarf {
            let red = self.paint(SCARF);
            part(self, upper, &disc, &red, Transform::from_xyz(0.0, SHOULDER_HEIGHT + 0.05, 0.0).with_scale(Vec3::new(0.27, 0.09, 0.27)));
            part(
                self,
                upper,
                &self.shapes.cube.clone(),
                &red,
                Transform::from_xyz(0.12, SHOULDER_HEIGHT - 0.1, -0.22).with_scale(Vec3::new(0.09, 0.26, 0.04)),
            );
        }
    }
}

fn head_dot(x: f32, y: f32, z: f32, scale: Vec3) -> Transform {
    Transform::from_xyz(x, y, z).with_scale(scale)
}

fn spawn_name_tag(commands: &mut Commands, font: &UiFont, who: &PeerInfo, avatar: Entity) {
    commands
        .spawn((
            NameTag { target: avatar },
            UNDER_THE_HUD,
            // Clicked: this person's voice louder, softer or off, on this PC only (see `voice`).
            Button,
            Node {
                position_type: PositionType::Absolute,
                padding: UiRect::axes(Val::Px(10.0), Val::Px(3.0)),
                border_radius: BorderRadius::all(Val::Px(12.0)),
                ..default()
            },
            BackgroundColor(Color::srgba(1.0, 1.0, 1.0, 0.85)),
            Visibility::Hidden,
            DespawnOnExit(AppState::InRoom),
        ))
        .with_children(|tag| {
            if who.role == Role::Facilitator {
                // Not text in the name: a chip in its own colour, set from the role the server assigned.
                tag.spawn((
                    Node {
                        padding: UiRect::axes(Val::Px(6.0), Val::Px(1.0)),
                        margin: UiRect::right(Val::Px(6.0)),
                        border_radius: BorderRadius::all(Val::Px(8.0)),
                        ..default()
                    },
                    BackgroundColor(crate::kit::palette::ACCENT),
                ))
                .with_children(|chip| {
                    chip.spawn((crate::kit::text::ui_text(font, "", 15.0, Color::WHITE), crate::kit::text::Localized("badge-facilitator")));
                });
            }
            tag.spawn(crate::kit::text::ui_text(font, tsunagu_i18n::keep_words_together(&who.nickname), 18.0, Color::srgb(0.3, 0.22, 0.18)));
            tag.spawn((crate::kit::room::VolumeMark, crate::kit::text::ui_text(font, "", 15.0, crate::kit::palette::INK_SOFT)));
        });
}

fn place_name_tags(
    mut commands: Commands,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::kit::me::MainCamera>>,
    avatars: Query<(&GlobalTransform, &InheritedVisibility), With<Avatar>>,
    mut tags: Query<(Entity, &NameTag, &mut Node, &mut Visibility, &ComputedNode)>,
    ui: Option<Res<UiScale>>,
) {
    let Ok((camera, camera_transform)) = cameras.single() else { return };
    for (entity, tag, mut node, mut visibility, computed) in &mut tags {
        let Ok((avatar, avatar_visible)) = avatars.get(tag.target) else {
            // Its avatar is gone: so is the tag.
            commands.entity(entity).despawn();
            continue;
        };
        let at = above_head_on_screen(camera, camera_transform, avatar, 0.25).filter(|_| avatar_visible.get());
        hang_over(&mut node, &mut visibility, at, computed.size() * computed.inverse_scale_factor(), 0.0, ui.as_ref().map_or(1.0, |ui| ui.0));
    }
}

/// Parts of avatars that a new look changes.
#[derive(SystemParam)]
pub struct Wardrobe<'w, 's> {
    infos: Query<'w, 's, (&'static mut AvatarInfo, &'static Children)>,
    children: Query<'w, 's, &'static Children>,
    heads: Query<'w, 's, (), With<AvatarHead>>,
    uppers: Query<'w, 's, (), With<UpperBody>>,
    coloured: Query<'w, 's, &'static mut MeshMaterial3d<StandardMaterial>, With<BodyColoured>>,
    look_parts: Query<'w, 's, (), With<LookPart>>,
}

impl Wardrobe<'_, '_> {
    /// Show `info` on `avatar`: recolour the body, rebuild what is worn.
    pub fn change(&mut self, kit: &mut AvatarKit, avatar: Entity, info: &PeerInfo) {
        let Ok((mut current, kids)) = self.infos.get_mut(avatar) else { return };
        let old = current.0.look;
        current.0 = info.clone();
        if old == info.look {
            return;
        }
        let body = kit.paint(info.look.body_color);
        let (mut head, mut upper) = (None, None);
        let kids: Vec<Entity> = kids.iter().collect();
        for part in kids.iter().flat_map(|kid| std::iter::once(*kid).chain(self.children.iter_descendants(*kid))) {
            if let Ok(mut material) = self.coloured.get_mut(part) {
                material.0 = body.clone();
            }
            if self.look_parts.contains(part) {
                kit.commands.entity(part).despawn();
            }
            if self.heads.contains(part) {
                head = Some(part);
            }
            if self.uppers.contains(part) {
                upper = Some(part);
            }
        }
        if let (Some(head), Some(upper)) = (head, upper) {
            kit.dress(head, upper, info.look);
        }
    }
}

/// My body, and where I face.
type LocalParts<'w, 's> = (Query<'w, 's, &'static mut Transform, With<LocalPlayer>>, Query<'w, 's, Entity, With<OwnAvatar>>, ResMut<'w, Heading>);

fn place_local_player(transform: &mut Transform, spawn: QuantPose) {
    let (feet, _) = from_wire(spawn);
    transform.translation = feet + Vec3::Y * (AVATAR_HEIGHT / 2.0);
}

/// Me in the room: my body and avatar when I first come in, my avatar as
/// I am now when I come back, and where the server puts me.
fn place_me(
    mut entered: MessageReader<EnteredRoom>,
    mut moved: MessageReader<MovedMe>,
    mut kit: AvatarKit,
    mut wardrobe: Wardrobe,
    (mut player, own, mut heading): LocalParts,
) {
    for EnteredRoom { me, spawn, rejoined, resumed } in entered.read() {
        if !rejoined {
            let (feet, rotation) = from_wire(*spawn);
            let body = kit
                .commands
                .spawn((
                    LocalPlayer,
                    Transform::from_translation(feet + Vec3::Y * (AVATAR_HEIGHT / 2.0)),
                    Visibility::default(),
                    DespawnOnExit(AppState::InRoom),
                ))
                .id();
            let avatar = kit.spawn(me, Transform::default());
            kit.commands.entity(avatar).insert(OwnAvatar);
            kit.commands.entity(body).add_child(avatar);
            *heading = Heading { yaw: rotation.to_euler(EulerRot::YXZ).0, ..default() };
            continue;
        }
        // Back as myself, perhaps with a new id: my avatar says who I am now.
        if let Some(avatar) = own.iter().next() {
            wardrobe.change(&mut kit, avatar, me);
        }
        // Our place was not kept: stand where the server says.
        if !resumed {
            for mut transform in &mut player {
                place_local_player(&mut transform, *spawn);
            }
        }
    }
    for MovedMe { body } in moved.read() {
        for mut transform in &mut player {
            place_local_player(&mut transform, *body);
        }
    }
}

/// Others arriving, changing and leaving. Arrivals first, so a change
/// heard in the same frame finds the avatar just made.
fn people_come_and_go(
    mut arrived: MessageReader<PersonArrived>,
    mut changed: MessageReader<PersonChanged>,
    mut left: MessageReader<PersonLeft>,
    mut kit: AvatarKit,
    mut wardrobe: Wardrobe,
    remotes: Query<(Entity, &RemoteAvatar)>,
    own: Query<Entity, With<OwnAvatar>>,
) {
    let mut new: Vec<(PeerId, Entity)> = Vec::new();
    for PersonArrived { info } in arrived.read() {
        let avatar = kit.spawn(info, Transform::default());
        kit.commands.entity(avatar).insert((RemoteAvatar(info.id), DespawnOnExit(AppState::InRoom)));
        new.push((info.id, avatar));
    }
    let avatar_of =
        |id: PeerId| new.iter().find(|(n, _)| *n == id).map(|(_, e)| *e).or_else(|| remotes.iter().find(|(_, r)| r.0 == id).map(|(e, _)| e));
    for PersonChanged { info } in changed.read() {
        // Not a remote avatar: it is me.
        if let Some(avatar) = avatar_of(info.id).or_else(|| own.iter().next()) {
            wardrobe.change(&mut kit, avatar, info);
        }
    }
    for PersonLeft { id } in left.read() {
        if let Some(avatar) = avatar_of(*id) {
            kit.commands.entity(avatar).despawn();
        }
    }
}

fn move_remote_avatars(
    connection: Option<Res<Connection>>,
    time: Res<Time<Real>>,
    mut remotes: Query<(&RemoteAvatar, &mut Transform, &mut HeadLook, &mut TrackedHands)>,
) {
    let Some(connection) = connection else { return };
    connection.read(|core| {
        let room = core.room();
        let Some(render_time) = room.render_time(time.elapsed()) else { return };
        for (remote, mut transform, mut look, mut hands) in &mut remotes {
            let Some(pose) = room.sample(remote.0, render_time) else { continue };
            (transform.translation, transform.rotation) = pose.body;
            // The head turns relative to the body.
            look.0 = transform.rotation.inverse() * pose.head.1;
            let to_avatar = |p: Vec3| transform.rotation.inverse() * (p - transform.translation);
            hands.0 = pose.hands.map(|tracked| tracked.map(|(p, _)| to_avatar(p)));
        }
    });
}
