//! The headset's controllers: OpenXR actions for the trigger, grip and
//! sticks, bound for the common controllers, read each frame into
//! [`HeadsetButtons`]; and the spaces of each hand's grip and aim.

use bevy::prelude::*;
use bevy_mod_openxr::action_binding::OxrSuggestActionBinding;
use bevy_mod_openxr::action_set_attaching::OxrAttachActionSet;
use bevy_mod_openxr::action_set_syncing::OxrSyncActionSet;
use bevy_mod_openxr::resources::OxrInstance;
use bevy_mod_openxr::session::OxrSession;
use bevy_mod_xr::session::XrTracker;

/// The controllers' actions: hand poses, the right hand's pointing ray,
/// the trigger (teleport) and the thumbstick (snap turn).
#[derive(Resource)]
pub(crate) struct ControllerActions {
    set: openxr::ActionSet,
    grips: [openxr::Action<openxr::Posef>; 2],
    aim: openxr::Action<openxr::Posef>,
    pub(crate) select: openxr::Action<bool>,
    turn: openxr::Action<openxr::Vector2f>,
    walk: openxr::Action<openxr::Vector2f>,
    /// The right hand's grip (squeeze), where the controller has one.
    pub(crate) grab: Option<openxr::Action<bool>>,
}

/// The controllers' buttons this frame, read once from the runtime (the
/// systems that use them read this, so tests drive them without a runtime).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct HeadsetButtons {
    /// The right trigger is held.
    pub trigger_down: bool,
    /// The right trigger was pulled this frame.
    pub trigger_pulled: bool,
    /// The right stick, sideways (−1 left to 1 right).
    pub turn: f32,
    /// The left stick (right, forward), each −1 to 1.
    pub walk: (f32, f32),
    /// The right grip is closed.
    pub grip_down: bool,
}

pub(super) fn read_buttons(actions: Option<Res<ControllerActions>>, session: Option<Res<OxrSession>>, mut buttons: ResMut<HeadsetButtons>) {
    let (Some(actions), Some(session)) = (actions, session) else {
        *buttons = HeadsetButtons::default();
        return;
    };
    let trigger = actions.select.state(&session, openxr::Path::NULL).ok();
    *buttons = HeadsetButtons {
        trigger_down: trigger.is_some_and(|s| s.current_state),
        trigger_pulled: trigger.is_some_and(|s| s.current_state && s.changed_since_last_sync),
        turn: actions.turn.state(&session, openxr::Path::NULL).map_or(0.0, |s| s.current_state.x),
        walk: actions.walk.state(&session, openxr::Path::NULL).map_or((0.0, 0.0), |s| (s.current_state.x, s.current_state.y)),
        grip_down: actions.grab.as_ref().and_then(|g| g.state(&session, openxr::Path::NULL).ok()).is_some_and(|s| s.current_state),
    };
}

/// A controller's grip, 0 left and 1 right, tracked in the headset's space.
#[derive(Component)]
pub struct Grip(pub usize);

/// The right controller's pointing ray.
#[derive(Component)]
pub struct Aim;

pub(super) fn create_actions(instance: Res<OxrInstance>, mut commands: Commands) {
    let made = (|| -> openxr::Result<ControllerActions> {
        let set = instance.create_action_set("tsunagu", "Tsunagu", 0)?;
        Ok(ControllerActions {
            grips: [set.create_action("left_grip", "Left hand", &[])?, set.create_action("right_grip", "Right hand", &[])?],
            aim: set.create_action("right_aim", "Pointing", &[])?,
            select: set.create_action("select", "Teleport", &[])?,
            turn: set.create_action("turn", "Snap turn", &[])?,
            walk: set.create_action("walk", "Walk", &[])?,
            grab: set.create_action("grab", "Hold", &[]).ok(),
            set,
        })
    })();
    match made {
        Ok(actions) => commands.insert_resource(actions),
        Err(e) => warn!("tsunagu: headset controllers unavailable ({e}); head tracking still works"),
    }
}

pub(super) fn suggest_bindings(actions: Option<Res<ControllerActions>>, mut bindings: MessageWriter<OxrSuggestActionBinding>) {
    let Some(actions) = actions else { return };
    let mut bind = |action: openxr::sys::Action, profile: &'static str, paths: &[&'static str]| {
        bindings.write(OxrSuggestActionBinding {
            action,
            interaction_profile: profile.into(),
            bindings: paths.iter().map(|p| (*p).into()).collect(),
        });
    };
    // The simplest profile every runtime offers (Monado's simulated
    // controllers too), and the common touch controllers.
    for profile in ["/interaction_profiles/khr/simple_controller", "/interaction_profiles/oculus/touch_controller"] {
        bind(actions.grips[0].as_raw(), profile, &["/user/hand/left/input/grip/pose"]);
        bind(actions.grips[1].as_raw(), profile, &["/user/hand/right/input/grip/pose"]);
        bind(actions.aim.as_raw(), profile, &["/user/hand/right/input/aim/pose"]);
    }
    bind(actions.select.as_raw(), "/interaction_profiles/khr/simple_controller", &["/user/hand/right/input/select/click"]);
    bind(actions.select.as_raw(), "/interaction_profiles/oculus/touch_controller", &["/user/hand/right/input/trigger/value"]);
    bind(actions.turn.as_raw(), "/interaction_profiles/oculus/touch_controller", &["/user/hand/right/input/thumbstick"]);
    bind(actions.walk.as_raw(), "/interaction_profiles/oculus/touch_controller", &["/user/hand/left/input/thumbstick"]);
    if let Some(grab) = &actions.grab {
        bind(grab.as_raw(), "/interaction_profiles/oculus/touch_controller", &["/user/hand/right/input/squeeze/value"]);
    }
}

pub(super) fn attach_actions(actions: Option<Res<ControllerActions>>, mut attach: MessageWriter<OxrAttachActionSet>) {
    if let Some(actions) = actions {
        attach.write(OxrAttachActionSet(actions.set.clone()));
    }
}

pub(super) fn sync_actions(actions: Option<Res<ControllerActions>>, mut sync: MessageWriter<OxrSyncActionSet>) {
    if let Some(actions) = actions {
        sync.write(OxrSyncActionSet(actions.set.clone()));
    }
}

pub(super) fn spawn_controller_spaces(actions: Option<Res<ControllerActions>>, session: Res<OxrSession>, mut commands: Commands) {
    let Some(actions) = actions else { return };
    for (side, grip) in actions.grips.iter().enumerate() {
        match session.create_action_space(grip, openxr::Path::NULL, Isometry3d::IDENTITY) {
            Ok(space) => {
                commands.spawn((space, Grip(side), XrTracker));
            }
            Err(e) => warn!("tsunagu: a controller's space could not be made ({e})"),
        }
    }
    if let Ok(space) = session.create_action_space(&actions.aim, openxr::Path::NULL, Isometry3d::IDENTITY) {
        commands.spawn((space, Aim, XrTracker));
    }
}

/// A grip's or the aim's space.
type ControllerSpace = Or<(With<Grip>, With<Aim>)>;

/// The session is going, and its spaces with it: a next session makes its own.
pub(super) fn forget_controller_spaces(mut commands: Commands, spaces: Query<Entity, ControllerSpace>) {
    for space in &spaces {
        commands.entity(space).despawn();
    }
}
