//! The room as ECS sees it: the people in it (an entity per avatar, with who
//! they are and how this child chose to hear and see them) and the shared
//! things. The avatars feature builds and moves them; every other feature
//! reads them through these components.

use bevy::prelude::*;
use tsunagu_protocol::{Gesture, PeerId, PeerInfo};
use tsunagu_sim::motion::AVATAR_HEIGHT;

use crate::kit::me::LocalPlayer;

/// The root of one avatar; its transform is the feet on the floor. Comes
/// with what motion reads: where the head looks, tracked hands, the stride.
#[derive(Component)]
#[require(HeadLook, TrackedHands)]
pub struct Avatar;

/// Who an avatar is, as the room last told us.
#[derive(Component, Clone, Debug)]
pub struct AvatarInfo(pub PeerInfo);

/// The head part (turned by [`HeadLook`] and by gestures).
#[derive(Component)]
pub struct AvatarHead;

/// Where the person looks, relative to their body: written by whoever knows
/// (the network for others, the controls for me), read by `motion`.
#[derive(Component, Default, Clone, Copy)]
pub struct HeadLook(pub Quat);

/// Everything above the feet: lifted a little with each step.
#[derive(Component)]
pub struct UpperBody;

/// The torso (breathes).
#[derive(Component)]
pub struct Torso;

/// A shoulder joint; its arm hangs below it along −Y. 0 left, 1 right.
#[derive(Component)]
pub struct Shoulder(pub usize);

/// A foot. 0 left, 1 right.
#[derive(Component)]
pub struct Foot(pub usize);

/// An eye (blinks).
#[derive(Component)]
pub struct Eye;

/// Another participant's avatar, with how this child chose to hear and see them.
#[derive(Component)]
#[require(LocalVolume, Calmed, Speaking)]
pub struct RemoteAvatar(pub PeerId);

/// My own avatar (a child of the local player's physics body).
#[derive(Component)]
pub struct OwnAvatar;

/// A name tag that follows an avatar on screen.
#[derive(Component)]
pub struct NameTag {
    /// The avatar it follows.
    pub target: Entity,
}

/// The avatar of `id` among `avatars` (mine included), as the room last told us.
pub fn avatar_of<'a>(avatars: impl IntoIterator<Item = (Entity, &'a AvatarInfo)>, id: PeerId) -> Option<(Entity, &'a PeerInfo)> {
    avatars.into_iter().find(|(_, info)| info.0.id == id).map(|(entity, info)| (entity, &info.0))
}

/// Where on screen a point above `avatar`'s head is, if it is in view:
/// name tags, stamps and chat bubbles all hang there.
pub fn above_head_on_screen(camera: &Camera, camera_transform: &GlobalTransform, avatar: &GlobalTransform, lift: f32) -> Option<Vec2> {
    on_screen(camera, camera_transform, avatar.translation() + Vec3::Y * (AVATAR_HEIGHT + lift))
}

/// Where the room's point `at` is on screen, if it is in front of the camera.
pub fn on_screen(camera: &Camera, camera_transform: &GlobalTransform, at: Vec3) -> Option<Vec2> {
    let in_front = (at - camera_transform.translation()).dot(*camera_transform.forward()) > 0.3;
    camera.world_to_viewport(camera_transform, at).ok().filter(|_| in_front)
}

/// Labels hung over the room (name tags, bubbles, stamps, scores) are drawn
/// under the HUD's panels, never over their buttons and text.
pub const UNDER_THE_HUD: GlobalZIndex = GlobalZIndex(-1);

/// Hang a UI node of `size` (the UI's own pixels, as its `ComputedNode`
/// says) centred over the window point `at` (logical pixels, as the camera
/// projects it), its bottom `gap` UI pixels above it; hidden where there is
/// no `at`. `ui_scale` (the `UiScale`, bigger letters or a tall window) is
/// how many logical pixels one UI pixel takes. Shown from the frame after
/// it was first placed: layout has already run this frame, and a node never
/// placed would flash in the corner.
pub fn hang_over(node: &mut Node, visibility: &mut Visibility, at: Option<Vec2>, size: Vec2, gap: f32, ui_scale: f32) {
    let Some(at) = at.map(|at| at / ui_scale) else {
        *visibility = Visibility::Hidden;
        return;
    };
    let placed = node.left != Val::Auto && size.x > 0.0;
    node.left = Val::Px(at.x - size.x / 2.0);
    node.top = Val::Px(at.y - gap - size.y);
    *visibility = if placed { Visibility::Inherited } else { Visibility::Hidden };
}

/// Where a remote avatar's tracked hands are (avatar space), when its person
/// wears a headset: `motion` reaches the arms for them.
#[derive(Component, Clone, Copy, Default)]
pub struct TrackedHands(pub Option<[Vec3; 2]>);

/// A gesture playing on an avatar, since `started` (seconds of real time).
#[derive(Component, Clone, Copy, Debug)]
pub struct PlayingGesture {
    /// Which.
    pub gesture: Gesture,
    /// When it began.
    pub started: f32,
}

/// How someone is heard and seen on this PC, chosen by clicking their name
/// tag (they are never told). Kept on their avatar until they leave.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LocalVolume {
    /// As they speak.
    #[default]
    Full,
    /// Half as loud (−6 dB).
    Soft,
    /// Not heard here.
    Off,
    /// Neither heard nor seen here (「みえなく した ひとを もどす」 brings them back).
    Hidden,
}

impl LocalVolume {
    /// The next step when the name tag is clicked: full, soft, off, hidden.
    pub fn next(self) -> LocalVolume {
        match self {
            LocalVolume::Full => LocalVolume::Soft,
            LocalVolume::Soft => LocalVolume::Off,
            LocalVolume::Off => LocalVolume::Hidden,
            LocalVolume::Hidden => LocalVolume::Full,
        }
    }

    /// The note on the name tag (a message id), if any.
    pub fn note(self) -> Option<&'static str> {
        match self {
            LocalVolume::Full | LocalVolume::Hidden => None,
            LocalVolume::Soft => Some("voice-peer-soft"),
            LocalVolume::Off => Some("voice-peer-off"),
        }
    }

    /// How loud (0..1) and whether seen, with the calm button on or off for them.
    pub fn effect(self, calmed: bool) -> (f32, bool) {
        match self {
            _ if calmed => (0.0, false),
            LocalVolume::Full => (1.0, true),
            LocalVolume::Soft => (0.5, true),
            LocalVolume::Off => (0.0, true),
            LocalVolume::Hidden => (0.0, false),
        }
    }
}

/// A shared thing on screen, by its room id.
#[derive(Component)]
pub struct Thing(pub u16);

/// The things shown now, by id and centre.
pub fn shown_things<'a>(things: &'a Query<(&Thing, &Transform, &Visibility), Without<LocalPlayer>>) -> impl Iterator<Item = (u16, Vec3)> + 'a {
    things.iter().filter(|(_, _, v)| **v != Visibility::Hidden).map(|(thing, at, _)| (thing.0, at.translation))
}

/// The note on a name tag saying someone is softer or off here.
#[derive(Component)]
pub struct VolumeMark;

/// Calm is on and this person is not staff: dimmed and quieted here (the
/// calm feature decides; voice and sight follow [`LocalVolume::effect`]).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Calmed(pub bool);

/// This person's voice is playing here now (the voice feature keeps it).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Speaking(pub bool);

/// The room's slow state, mirrored from the client core by the net adapter
/// after each poll and changed only when the room changed, so a feature
/// redraws on `is_changed()` instead of keeping a copy to compare. What
/// moves every frame (bodies, things in flight) is sampled from the core's
/// playout clock instead (`kit::net::Connection`).
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct RoomNow {
    /// Me as the room shows me (role, muted, hand raised), once in.
    pub me: Option<PeerInfo>,
    /// Everyone else here.
    pub peers: Vec<PeerInfo>,
    /// The connection: waiting to be let in, turned away as busy, coming back.
    pub link: LinkState,
    /// Closed to newcomers.
    pub locked: bool,
    /// Newcomers wait to be let in.
    pub waiting_room: bool,
    /// (Staff) who waits to be let in.
    pub waiting: Vec<tsunagu_protocol::WaitingPerson>,
    /// (Staff) whom staff removed.
    pub removed: Vec<tsunagu_protocol::RemovedPerson>,
    /// (Staff) the room's codes; an empty facilitator code for someone made staff in the room.
    pub invites: Option<tsunagu_protocol::RoomCodes>,
    /// The board's last darts: who threw, and the score.
    pub darts: Vec<(PeerId, tsunagu_protocol::DartScore)>,
    /// The wishes on the bamboo.
    pub wishes: Vec<tsunagu_protocol::Wish>,
}

/// How the connection stands, as the HUD says it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LinkState {
    /// In the room, or on the way in.
    #[default]
    Fine,
    /// In the room's waiting room until a facilitator lets us in.
    Waiting,
    /// The server turned us away as busy; trying again.
    Busy,
    /// Coming back after a drop.
    Reconnecting,
}

impl RoomNow {
    /// How many are here, me included.
    pub fn head_count(&self) -> usize {
        self.peers.len() + usize::from(self.me.is_some())
    }

    /// My id, once in.
    pub fn my_id(&self) -> Option<PeerId> {
        self.me.as_ref().map(|me| me.id)
    }

    /// I came in with a facilitator's role (now).
    pub fn i_am_staff(&self) -> bool {
        self.me.as_ref().is_some_and(|me| me.role == tsunagu_protocol::Role::Facilitator)
    }

    /// Everyone here as this client knows them, me first once in.
    pub fn everyone(&self) -> impl Iterator<Item = &PeerInfo> {
        self.me.iter().chain(&self.peers)
    }

    /// Someone here (me included).
    pub fn person(&self, id: PeerId) -> Option<&PeerInfo> {
        self.everyone().find(|p| p.id == id)
    }

    /// Someone's name as this client knows it (mine included).
    pub fn name_of(&self, id: PeerId) -> Option<&str> {
        self.person(id).map(|p| p.nickname.as_str())
    }
}
