//! The headset. bevy_mod_openxr tries the OpenXR runtime at start; without
//! one it installs the normal desktop renderer and reports
//! `XrState::Unavailable`, which the HUD says. With a session running, the
//! headset's head and controllers drive the avatar through [`LocalPose`]
//! (placed in the ward by a [`Rig`]: recentred, lifted to a standing eye
//! height, tilted for a patient lying back), a trigger teleports where a body
//! fits and the thumbstick snap-turns. Losing the session (headset off,
//! runtime gone) goes back to the desktop controls, calmly.
//!
//! [`LocalPose`]: crate::kit::me::LocalPose

mod comfort;
pub mod controllers;
pub mod panel;
pub mod play;
pub mod pointing;
pub mod rig;
pub mod session;
pub mod world_tags;
pub mod wrist_menu;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_mod_openxr::action_binding::OxrSendActionBindings;
use bevy_mod_openxr::action_set_syncing::OxrActionSetSyncSet;
use bevy_mod_xr::camera::XrCamera;
use bevy_mod_xr::hands::{HandBone, LeftHand, RightHand};
use bevy_mod_xr::session::{XrSessionCreated, XrState, XrTrackingRoot};
use bevy_mod_xr::spaces::XrSpaceLocationFlags;
use tsunagu_client_core::settings::HeadsetChoices;
use tsunagu_sim::motion::AVATAR_HEIGHT;
use tsunagu_sim::pose::{from_wire, to_wire};
use tsunagu_sim::rig::Pose;

use crate::AppState;
use crate::kit::heard::{EnteredRoom, MovedMe, RecentreAsked};
use crate::kit::hud::{Drawer, FillSlot, Slot, StandingNotices};
use crate::kit::me::LocalPose;
use crate::kit::me::headset_running;
use crate::kit::me::{Heading, LocalPlayer};
use crate::kit::net::{NetSet, PoseSend};

use comfort::{darken_the_edges, keep_my_head_out_of_my_eyes, pace_the_window};
pub use controllers::{Aim, Grip, HeadsetButtons};
use controllers::{attach_actions, create_actions, forget_controller_spaces, read_buttons, spawn_controller_spaces, suggest_bindings, sync_actions};
pub use rig::HeadsetRig;
use rig::{FRAMES_BEFORE_PACE, TIMINGS_KEPT};
pub use session::{DisplayMode, HeadsetButton, leave_the_headset, say_session_changes, say_the_display_mode, spawn_headset_button};
use session::{offer_the_headset_again, report_display_mode};

/// Reports the display mode once the XR plugins have decided.
pub struct XrStatusPlugin;

impl Plugin for XrStatusPlugin {
    fn build(&self, app: &mut App) {
        app.world_mut().get_resource_or_init::<StandingNotices>().register("headset");
        app.world_mut().get_resource_or_init::<StandingNotices>().register("headset-break");
        app.add_systems(Startup, report_display_mode)
            .add_systems(Update, (say_the_display_mode, suggest_a_break))
            .fill_slot(Slot::Drawer(Drawer::Settings), spawn_headset_button);
    }
}

/// Whether a rest is due: `minutes` (0: never) have passed since the
/// headset came on at `since` (seconds), now being `now`.
pub fn break_due(since: f64, now: f64, minutes: u8) -> bool {
    minutes > 0 && now - since >= f64::from(minutes) * 60.0
}

/// After the ward's minutes in the headset (settings.ron's
/// `break_after_minutes`, 25 unless chosen), a gentle line suggests a rest;
/// it stands (folded into 「おしらせ」 after a while) until the headset comes
/// off. Nothing of it is kept.
fn suggest_a_break(
    state: Option<Res<XrState>>,
    file: Option<Res<crate::SettingsFile>>,
    time: Res<Time<Real>>,
    mut since: Local<Option<f64>>,
    mut notices: ResMut<StandingNotices>,
) {
    let now = time.elapsed_secs_f64();
    let due = if matches!(state.as_deref(), Some(XrState::Running)) {
        let minutes = file.map_or(tsunagu_client_core::settings::DEFAULT_BREAK_AFTER_MINUTES, |f| f.headset.break_after_minutes);
        break_due(*since.get_or_insert(now), now, minutes)
    } else {
        *since = None;
        false
    };
    crate::kit::hud::say_standing(&mut notices, "headset-break", due.then_some("hud-headset-break"));
}

/// 「つぎの ひとへ」 put the headset's comfort settings back in the file: the
/// rig takes them at once, not at the next start (the next child must not
/// lie at the last one's tilt). The command line's choices for this run
/// are not kept: the file is what the next child gets.
fn take_fresh_choices(file: Option<Res<crate::SettingsFile>>, mut headset: ResMut<HeadsetRig>, mut seen: Local<Option<HeadsetChoices>>) {
    let Some(file) = file else { return };
    // Only a change of the file's headset choices, not any change of the file.
    let before = seen.replace(file.headset);
    if before.is_none_or(|before| before == file.headset) {
        return;
    }
    let wanted = HeadsetRig::with_choices(file.headset);
    headset.tilt_degrees = wanted.tilt_degrees;
    headset.snap_degrees = wanted.snap_degrees;
    headset.smooth_walking = wanted.smooth_walking;
    headset.rig.set_eye_offset(wanted.rig.eye_offset);
}

/// The headset in the room: controllers, rig, pose.
pub struct HeadsetPlugin {
    /// The bed's tilt, the turn, walking and eye height to start with.
    pub choices: HeadsetChoices,
}

impl Plugin for HeadsetPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(HeadsetRig::with_choices(self.choices))
            .init_resource::<crate::headset::pointing::WristPointer>()
            .add_systems(Update, take_fresh_choices.run_if(in_state(AppState::Start)))
            .add_systems(Update, crate::headset::wrist_menu::build_menu.run_if(headset_running).run_if(in_state(AppState::InRoom)))
            .add_systems(
                Update,
                (
                    crate::headset::world_tags::build_atlas,
                    crate::headset::world_tags::let_the_eyes_see_tags,
                    crate::headset::world_tags::keep_tags,
                    crate::headset::world_tags::draw_when_changed,
                    crate::headset::wrist_menu::change_headset_settings,
                    crate::headset::wrist_menu::draw_menu_when_needed,
                    crate::headset::panel::open_and_close_the_board,
                )
                    .chain()
                    .run_if(headset_running)
                    .run_if(in_state(AppState::InRoom)),
            )
            .add_systems(
                PostUpdate,
                crate::headset::world_tags::face_my_eyes.after(track_headset).before(TransformSystems::Propagate).run_if(headset_running),
            )
            .add_systems(
                Update,
                (crate::headset::panel::move_the_cards, crate::headset::panel::draw_the_cards_when_needed).chain().run_if(in_state(AppState::InRoom)),
            )
            .add_systems(
                PreUpdate,
                crate::headset::panel::press_through_the_mirror
                    .after(bevy::ui::UiSystems::Focus)
                    .run_if(headset_running)
                    .run_if(in_state(AppState::InRoom)),
            )
            .add_systems(
                Update,
                crate::headset::play::play_with_hands
                    .run_if(headset_running)
                    .run_if(in_state(AppState::InRoom))
                    .run_if(crate::kit::typing::not_typing)
                    .in_set(NetSet::LocalInput),
            )
            .add_systems(
                PreUpdate,
                crate::headset::pointing::use_menu
                    .after(OxrActionSetSyncSet)
                    .after(bevy_mod_xr::spaces::XrSpaceSyncSet)
                    .after(bevy::ui::UiSystems::Focus)
                    .run_if(headset_running)
                    .run_if(in_state(AppState::InRoom)),
            )
            .add_systems(Startup, create_actions.run_if(bevy_mod_xr::session::session_available))
            .add_systems(OxrSendActionBindings, suggest_bindings)
            .add_systems(XrSessionCreated, (attach_actions, spawn_controller_spaces))
            .add_systems(bevy_mod_xr::session::XrPreDestroySession, (forget_controller_spaces, crate::headset::wrist_menu::take_down_menu))
            .add_systems(PreUpdate, sync_actions.before(OxrActionSetSyncSet).run_if(bevy_mod_openxr::openxr_session_running))
            .init_resource::<HeadsetButtons>()
            .add_systems(PreUpdate, read_buttons.after(OxrActionSetSyncSet).before(crate::headset::pointing::use_menu))
            .add_systems(
                Update,
                (
                    follow_room_events.in_set(NetSet::Apply),
                    say_session_changes,
                    keep_my_head_out_of_my_eyes.run_if(headset_running),
                    offer_the_headset_again.run_if(in_state(AppState::InRoom)),
                ),
            )
            // After pictures are asked for: a picture is of a window drawn this frame.
            .add_systems(Last, pace_the_window.after(crate::kit::scene::PictureTaking))
            .add_systems(
                PostUpdate,
                track_headset
                    .after(bevy_mod_openxr::render::update_views)
                    .before(TransformSystems::Propagate)
                    .before(PoseSend)
                    .run_if(headset_running)
                    .run_if(in_state(AppState::InRoom)),
            )
            .add_systems(PostUpdate, time_the_send.after(PoseSend).run_if(headset_running))
            .add_systems(PostUpdate, darken_the_edges.after(track_headset).run_if(headset_running));
    }
}

/// The headset's eyes, in its own space (never the body or the root, which this frame moves).
type Eyes<'w, 's> = Query<'w, 's, (&'static XrCamera, &'static Transform), (Without<LocalPlayer>, Without<XrTrackingRoot>)>;

/// The head in the headset's own space: between the two eyes.
fn tracked_head(views: &Eyes) -> Option<Pose> {
    let mut eyes: Vec<(u32, &Transform)> = views.iter().map(|(c, t)| (c.0, t)).collect();
    eyes.sort_by_key(|(i, _)| *i);
    match eyes.as_slice() {
        [(_, left), (_, right), ..] => Some(((left.translation + right.translation) / 2.0, left.rotation.slerp(right.rotation, 0.5))),
        [(_, one)] => Some((one.translation, one.rotation)),
        [] => None,
    }
}

/// The frame's headset work, right after the runtime located the views:
/// comfort moves on the rig, then head and hands into the pose that is sent
/// this same frame, the body where the avatar stands and the tracking root
/// where the rig says.
pub fn track_headset(
    mut headset: ResMut<HeadsetRig>,
    tracked: Tracked,
    trigger: TriggerOwners,
    // The stick's last sideways push: a turn is on its edge only.
    mut stick_was: Local<f32>,
    around: AroundMe,
    me: MeInTheRoom,
    time: Res<Time<Real>>,
) {
    let Tracked { views, grips, palms, aim } = tracked;
    let TriggerOwners { buttons, pointer, hands: play } = trigger;
    let AroundMe { ward, people } = around;
    let MeInTheRoom { mut player, mut root, mut heading } = me;
    let started = std::time::Instant::now();
    let Some(head) = tracked_head(&views) else { return };
    let Ok((mut body, mut pose)) = player.single_mut() else { return };
    let headset = &mut *headset;
    if headset.recentre {
        let feet = body.translation - Vec3::Y * (AVATAR_HEIGHT / 2.0);
        headset.rig.recentre(head, feet, heading.yaw, headset.tilt_degrees.to_radians());
        headset.recentre = false;
    }
    // The trigger is the menu's while pointing at it, play's while holding
    // a thing or pointing at one within reach, and the wall screen's while
    // drawing or pointing on it.
    let pressed = !pointer.on_menu && !play.busy() && play.pointing_at.is_none() && !play.on_screen && buttons.trigger_pulled;
    if pressed
        && let Ok((ray, flags)) = aim.single()
        && flags.position_tracked
    {
        let (origin, rotation) = headset.rig.to_room((ray.translation, ray.rotation));
        let direction = rotation * Vec3::NEG_Z;
        // Where the pointing ray meets the floor, if it points down at it.
        if direction.y < -0.05 {
            let target = origin + direction * (-origin.y / direction.y);
            let others: Vec<Vec3> = people.iter().map(|t| t.translation).collect();
            if !headset.rig.teleport(head, target, &ward.0, others) {
                info!("tsunagu: headset: nobody can stand there; no teleport");
            }
        }
    }
    let stick = buttons.turn;
    // A turn on the stick's push past the middle, not while it is held.
    if stick.abs() > 0.7 && stick_was.abs() <= 0.7 {
        headset.rig.snap_turn(head, -stick.signum() * headset.snap_degrees);
    }
    *stick_was = stick;
    let walk = if headset.smooth_walking { buttons.walk } else { (0.0, 0.0) };
    let before = headset.rig.origin;
    headset.rig.walk(head, walk, tsunagu_sim::motion::WALK_SPEED, time.delta_secs(), &ward.0, people.iter().map(|t| t.translation.with_y(0.0)));
    let speed = headset.rig.origin.distance(before) / time.delta_secs().max(1e-3);
    headset.vignette = tsunagu_sim::rig::vignette(speed, 0.0);
    let hands = {
        let mut controllers = [None, None];
        for (grip, transform, flags) in &grips {
            if flags.position_tracked && grip.0 < 2 {
                controllers[grip.0] = Some((transform.translation, transform.rotation));
            }
        }
        let mut bare_hands = [None, None];
        for (bone, transform, flags, left) in &palms {
            if matches!(bone, HandBone::Palm) && flags.position_tracked {
                bare_hands[usize::from(!left)] = Some((transform.translation, transform.rotation));
            }
        }
        tsunagu_sim::rig::tracked_hands(controllers, bare_hands)
    };
    let room = headset.rig.avatar(head, hands);
    pose.0 = Some(tsunagu_protocol::AvatarPose {
        body: to_wire(room.feet, room.body),
        head: to_wire(room.head.0, room.head.1),
        hands: room.hands.map(|h| h.map(|(p, r)| to_wire(p, r))),
    });
    // The body (and the desktop view's heading) follow the headset.
    body.translation = room.feet + Vec3::Y * (AVATAR_HEIGHT / 2.0);
    heading.yaw = room.body.to_euler(EulerRot::YXZ).0;
    if let Ok(mut root) = root.single_mut() {
        *root = Transform { translation: headset.rig.origin + Vec3::Y * headset.rig.lift, rotation: headset.rig.rotation(), ..default() };
    }
    headset.frames += 1;
    headset.latest_frame_at = Some(started);
    if headset.frames == FRAMES_BEFORE_PACE {
        headset.paced_from = Some(started);
    }
    headset.head_path = Some((headset.head_path.map_or(room.head.0, |(first, _)| first), room.head.0));
    headset.sampled_at = Some((started, started.elapsed().as_micros() as u32));
}

/// What the runtime tracks this frame: the eyes, each hand's grip, bare
/// hands' palms and the right hand's pointing ray.
#[derive(SystemParam)]
pub struct Tracked<'w, 's> {
    views: Eyes<'w, 's>,
    grips: Grips<'w, 's>,
    palms: Palms<'w, 's>,
    aim: AimRay<'w, 's>,
}

/// Not my body, nor the tracking root: the spaces the runtime moves.
type Tracking = (Without<LocalPlayer>, Without<XrTrackingRoot>);

/// Each hand's controller grip.
type Grips<'w, 's> = Query<'w, 's, (&'static Grip, &'static Transform, &'static XrSpaceLocationFlags), Tracking>;

/// The right hand's pointing ray.
type AimRay<'w, 's> = Query<'w, 's, (&'static Transform, &'static XrSpaceLocationFlags), (With<Aim>, Tracking)>;

/// A bare hand's bones, left or right.
type Palms<'w, 's> = Query<
    'w,
    's,
    (&'static HandBone, &'static Transform, &'static XrSpaceLocationFlags, Has<LeftHand>),
    (Or<(With<LeftHand>, With<RightHand>)>, Tracking),
>;

/// My body and the pose sent from it.
type MyBody<'w, 's> = Query<'w, 's, (&'static mut Transform, &'static mut LocalPose), (With<LocalPlayer>, Without<XrTrackingRoot>)>;

/// Who the trigger belongs to: the wrist menu while pointing at it, play
/// while holding or pointing at a thing, else the teleport.
#[derive(SystemParam)]
pub struct TriggerOwners<'w> {
    buttons: Res<'w, HeadsetButtons>,
    pointer: Res<'w, crate::headset::pointing::WristPointer>,
    hands: Res<'w, crate::kit::me::Hands>,
}

/// The ward and the people in it, to walk and teleport around.
#[derive(SystemParam)]
pub struct AroundMe<'w, 's> {
    ward: Res<'w, crate::kit::scene::Ward>,
    people: Query<'w, 's, &'static Transform, (With<crate::kit::room::RemoteAvatar>, Tracking)>,
}

/// My body and pose, the tracking root the headset's space hangs from, and
/// the heading the desktop view keeps.
#[derive(SystemParam)]
pub struct MeInTheRoom<'w, 's> {
    player: MyBody<'w, 's>,
    root: Query<'w, 's, &'static mut Transform, (With<XrTrackingRoot>, Without<XrCamera>)>,
    heading: ResMut<'w, Heading>,
}

/// How long after reading the headset its pose was handed to the connection.
fn time_the_send(mut headset: ResMut<HeadsetRig>) {
    let Some((sampled, to_pose)) = headset.sampled_at.take() else { return };
    let to_send = sampled.elapsed().as_micros() as u32;
    if headset.timings.len() >= TIMINGS_KEPT {
        headset.timings.pop_front();
    }
    headset.timings.push_back((to_pose, to_send));
}

/// The server moved me (a facilitator brought me over, or I walked where
/// nobody may stand): the rig follows, so the head stands there. A
/// facilitator asking for a recentre is done at the next frame.
fn follow_room_events(
    mut moved: MessageReader<MovedMe>,
    mut entered: MessageReader<EnteredRoom>,
    mut asked: MessageReader<RecentreAsked>,
    mut headset: ResMut<HeadsetRig>,
    state: Option<Res<XrState>>,
) {
    for MovedMe { body } in moved.read() {
        if matches!(state.as_deref(), Some(XrState::Running)) {
            let (at, _) = from_wire(*body);
            if let Some((_, head)) = headset.head_path {
                headset.rig.origin += (at - head).with_y(0.0);
            }
        }
    }
    let first_entry = entered.read().any(|e| !e.rejoined);
    if first_entry | (asked.read().count() > 0) {
        headset.recentre = true;
    }
}
