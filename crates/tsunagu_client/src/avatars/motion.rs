//! Motion that reads as alive: every avatar's parts posed each frame from
//! `tsunagu_sim::animate` — walking by speed, breathing and blinking at rest,
//! the head following where its person looks, a gesture playing, a raised
//! hand, and arms reaching for a headset user's hands.

use bevy::prelude::*;

use crate::kit::me::CameraPlaced;
use tsunagu_sim::animate::{self, RigPose};

use crate::kit::room::PlayingGesture;
use crate::kit::room::{Avatar, AvatarHead, AvatarInfo, Eye, Foot, HeadLook, Shoulder, Torso, TrackedHands, UpperBody};

/// How far and how fast an avatar has walked.
#[derive(Component, Default)]
pub struct Stride {
    last: Option<Vec3>,
    distance: f32,
    speed: f32,
}

/// Poses every avatar's parts.
pub struct MotionPlugin;

impl Plugin for MotionPlugin {
    fn build(&self, app: &mut App) {
        // Every avatar gets its stride, whoever spawns it.
        app.register_required_components::<Avatar, Stride>()
            .add_systems(PostUpdate, animate_avatars.after(CameraPlaced).before(TransformSystems::Propagate));
    }
}

/// Each part's rest transform is known here; the pose is applied over it.
const EYE_SCALE: Vec3 = Vec3::new(0.133, 0.133 * 1.3, 0.133);

/// The pose for one avatar now.
pub fn pose_now(now: f32, seed: u32, stride: &Stride, gesture: Option<&PlayingGesture>, hand_raised: bool, hands: Option<[Vec3; 2]>) -> RigPose {
    let mut pose = animate::walk(animate::idle(now, seed), animate::stride_phase(stride.distance), stride.speed);
    if let Some(playing) = gesture
        && let Some(gestured) = animate::gesture(pose, playing.gesture, now - playing.started)
    {
        pose = gestured;
    }
    if hand_raised {
        pose = animate::hand_raised(pose);
    }
    if let Some(hands) = hands {
        for arm in [animate::LEFT, animate::RIGHT] {
            (pose.arms[arm], pose.arm_stretch[arm]) = animate::reach(arm, hands[arm]);
        }
    }
    pose
}

type PartQuery<'w, 's> = Query<
    'w,
    's,
    (&'static mut Transform, Option<&'static Shoulder>, Option<&'static Foot>, Has<Torso>, Has<UpperBody>, Has<AvatarHead>, Has<Eye>),
    Without<Avatar>,
>;

/// Each avatar with what its pose is made from.
type Animated<'w, 's> = Query<
    'w,
    's,
    (
        Entity,
        &'static GlobalTransform,
        &'static AvatarInfo,
        &'static HeadLook,
        &'static TrackedHands,
        &'static mut Stride,
        Option<&'static PlayingGesture>,
    ),
    With<Avatar>,
>;

fn animate_avatars(mut commands: Commands, time: Res<Time<Real>>, mut avatars: Animated, children: Query<&Children>, mut parts: PartQuery) {
    let now = time.elapsed_secs();
    let dt = time.delta_secs().max(1e-4);
    for (avatar, global, info, look, hands, mut stride, gesture) in &mut avatars {
        let here = global.translation().with_y(0.0);
        let moved = stride.last.map_or(0.0, |last| last.distance(here));
        // A jump (a correction, a teleport) is not a step.
        let moved = if moved > 1.0 { 0.0 } else { moved };
        stride.last = Some(here);
        stride.distance += moved;
        stride.speed += (moved / dt - stride.speed) * 0.2;
        if let Some(playing) = gesture
            && now - playing.started >= animate::gesture_length(playing.gesture)
        {
            commands.entity(avatar).remove::<PlayingGesture>();
        }
        let pose = pose_now(now, avatar.index_u32(), &stride, gesture, info.0.hand_raised, hands.0);
        for part in children.iter_descendants(avatar) {
            let Ok((mut transform, shoulder, foot, torso, upper, head, eye)) = parts.get_mut(part) else { continue };
            if let Some(Shoulder(arm)) = shoulder {
                transform.rotation = animate::limb_rotation(pose.arms[*arm]);
                transform.scale = Vec3::new(1.0, pose.arm_stretch[*arm], 1.0);
            } else if let Some(Foot(index)) = foot {
                transform.translation.z = -0.04 - pose.feet[*index];
            } else if torso {
                transform.scale.y = pose.breath;
            } else if upper {
                transform.translation.y = pose.bob;
            } else if head {
                transform.rotation = look.0 * pose.head;
            } else if eye {
                transform.scale = EYE_SCALE * Vec3::new(1.0, pose.eyes_open, 1.0);
            }
        }
    }
}
