//! Me: my body, the camera, where I face and what my hands hold. The
//! movement feature moves them, the headset drives them when one runs, and
//! every other feature reads them.

use bevy::prelude::*;
use bevy_mod_xr::session::XrState;
use tsunagu_protocol::AvatarPose;
use tsunagu_sim::motion::{AVATAR_HEIGHT, EYE_HEIGHT};

/// The one camera.
#[derive(Component)]
pub struct MainCamera;

/// My own avatar.
#[derive(Component)]
#[require(LocalPose)]
pub struct LocalPlayer;

/// How I see the room.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ViewMode {
    /// From a little behind and above my avatar.
    #[default]
    ThirdPerson,
    /// Through my avatar's eyes.
    FirstPerson,
}

/// Where I face and look, and where I am walking to.
#[derive(Resource, Clone, Copy, Debug, Default)]
pub struct Heading {
    /// Turn around the vertical axis, radians; 0 faces the screen (−Z).
    pub yaw: f32,
    /// Looking up (+) or down (−), radians.
    pub pitch: f32,
    /// A clicked floor point being walked to.
    pub walk_target: Option<Vec3>,
}

/// Where my avatar stands (feet) and faces, for the pose I send.
pub fn local_pose(body: &Transform, heading: &Heading) -> (Vec3, Quat, Vec3, Quat) {
    let feet = body.translation - Vec3::Y * (AVATAR_HEIGHT / 2.0);
    let yaw = Quat::from_rotation_y(heading.yaw);
    (feet, yaw, feet + Vec3::Y * EYE_HEIGHT, yaw * Quat::from_rotation_x(heading.pitch))
}

/// Whether a headset session is running now (its views drive the avatar).
pub fn headset_running(state: Option<Res<XrState>>) -> bool {
    matches!(state.as_deref(), Some(XrState::Running))
}

/// What my hands are doing.
#[derive(Resource, Default, Debug)]
pub struct Hands {
    /// The thing I hold, as the room says.
    pub holding: Option<u16>,
    /// A thing clicked from too far away: picked up once within reach.
    pub reaching_for: Option<u16>,
    /// Where a press began (window pixels) while holding: a drag throws.
    pub drag_from: Option<Vec2>,
    /// In a headset: the thing the right hand points at, within reach (the
    /// trigger picks it up instead of teleporting).
    pub pointing_at: Option<u16>,
    /// In a headset: what I hold stays while the grip is closed (else a
    /// second pull of the trigger throws it).
    pub held_by_grip: bool,
    /// In a headset: the right hand's pointing ray in the room (where it
    /// starts, which way), while tracked and not on the menu.
    pub ray: Option<(Vec3, Vec3)>,
    /// In a headset: the trigger is held down.
    pub trigger_held: bool,
    /// The right hand draws or points on the wall screen: the trigger is
    /// the screen's then, not a teleport.
    pub on_screen: bool,
}

impl Hands {
    /// Whether a click now belongs to play (aiming a throw), not to walking.
    pub fn busy(&self) -> bool {
        self.holding.is_some()
    }
}

/// Where the camera has been put with my body for this frame (in
/// `PostUpdate`): what poses avatars or hangs things in view runs after it.
#[derive(SystemSet, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CameraPlaced;

/// The mouse over the room: its button, where it points in the window and
/// into the room, and whether it is over a panel (then it is the panel's).
#[derive(bevy::ecs::system::SystemParam)]
pub struct RoomMouse<'w, 's> {
    buttons: Res<'w, ButtonInput<MouseButton>>,
    windows: Query<'w, 's, &'static Window, With<bevy::window::PrimaryWindow>>,
    cameras: Query<'w, 's, (&'static Camera, &'static GlobalTransform), With<MainCamera>>,
    ui_hover: Query<'w, 's, &'static Interaction>,
}

impl RoomMouse<'_, '_> {
    /// The left button went down this frame, not on a panel.
    pub fn pressed_on_room(&self) -> bool {
        self.buttons.just_pressed(MouseButton::Left) && !self.over_ui()
    }

    /// The left button is down (held).
    pub fn held(&self) -> bool {
        self.buttons.pressed(MouseButton::Left)
    }

    /// The left button came up this frame.
    pub fn released(&self) -> bool {
        self.buttons.just_released(MouseButton::Left)
    }

    /// The pointer is over a panel's button.
    pub fn over_ui(&self) -> bool {
        self.ui_hover.iter().any(|i| *i != Interaction::None)
    }

    /// Where the pointer is in the window, logical pixels.
    pub fn cursor(&self) -> Option<Vec2> {
        self.windows.single().ok()?.cursor_position()
    }

    /// The ray from the camera through `at` (window pixels).
    pub fn ray_through(&self, at: Vec2) -> Option<Ray3d> {
        let (camera, place) = self.cameras.single().ok()?;
        camera.viewport_to_world(place, at).ok()
    }
}

/// The pose this client reports, on the local player: the desktop's
/// `movement` writes it, or `headset` while a session runs; only they know
/// where it comes from. The net adapter sends it.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct LocalPose(pub Option<AvatarPose>);
