//! Procedural motion for avatars, as pure functions of time: walking driven by
//! speed, breathing and blinking at rest, the gestures, a raised hand, and arms
//! reaching for a headset user's hands. The client turns a [`RigPose`] into
//! transforms; everything here is tested without a renderer.
//!
//! Avatar space: feet at the origin, Y up, facing −Z. An arm is described by
//! the direction it points from its shoulder (it hangs along −Y at rest).

use bevy_math::{Quat, Vec3};
use tsunagu_protocol::Gesture;

/// Shoulder height above the feet, metres.
pub const SHOULDER_HEIGHT: f32 = 0.8;
/// Shoulders' distance from the body's centre line, metres.
pub const SHOULDER_OFFSET: f32 = 0.25;
/// An arm's length from shoulder to hand at rest, metres.
pub const ARM_LENGTH: f32 = 0.38;
/// An arm may stretch to this many times its length to keep a hand attached
/// (a stylised avatar stretching reads better than a hand floating free).
pub const MAX_ARM_STRETCH: f32 = 1.8;
/// Seconds between blinks, on average.
const BLINK_EVERY: f32 = 3.7;
/// Seconds a blink keeps the eyes shut.
const BLINK_LENGTH: f32 = 0.12;
/// Speed (m/s) below which an avatar stands rather than walks.
pub const WALK_THRESHOLD: f32 = 0.15;

/// Which arm: index 0 is the left, 1 the right (as in [`tsunagu_protocol::AvatarPose::hands`]).
pub const LEFT: usize = 0;
/// The right arm.
pub const RIGHT: usize = 1;

/// How an avatar's parts sit at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RigPose {
    /// Direction each arm points from its shoulder (unit vectors, avatar space).
    pub arms: [Vec3; 2],
    /// Each arm's length as a multiple of [`ARM_LENGTH`].
    pub arm_stretch: [f32; 2],
    /// Extra head turn on top of where the person looks (nod, shake).
    pub head: Quat,
    /// The body's lift above the floor (a step's bounce), metres.
    pub bob: f32,
    /// Each foot's distance forward (−Z) of its rest place, metres.
    pub feet: [f32; 2],
    /// Torso height as a multiple of its rest (breathing).
    pub breath: f32,
    /// 1 open, 0 shut.
    pub eyes_open: f32,
}

/// An arm hanging relaxed at `side` (−1 left, +1 right).
fn hanging(side: f32) -> Vec3 {
    Vec3::new(side * 0.45, -0.9, 0.0).normalize()
}

fn side_of(arm: usize) -> f32 {
    if arm == LEFT { -1.0 } else { 1.0 }
}

/// Where a shoulder is, avatar space.
pub fn shoulder(arm: usize) -> Vec3 {
    Vec3::new(side_of(arm) * SHOULDER_OFFSET, SHOULDER_HEIGHT, 0.0)
}

/// Standing, breathing and blinking. `seed` staggers avatars so they do not
/// breathe and blink in step.
pub fn idle(t: f32, seed: u32) -> RigPose {
    let offset = (seed % 97) as f32 * 0.37;
    let t = t + offset;
    let breath = 1.0 + 0.018 * (t * 1.7).sin();
    // Blink when a slow saw passes its end; the period wobbles a little.
    let period = BLINK_EVERY + 0.8 * ((seed % 13) as f32 / 13.0 - 0.5);
    let eyes_open = if t.rem_euclid(period) < BLINK_LENGTH { 0.1 } else { 1.0 };
    let sway = 0.03 * (t * 0.9).sin();
    RigPose {
        arms: [hanging(-1.0) + Vec3::Z * sway, hanging(1.0) - Vec3::Z * sway].map(Vec3::normalize),
        arm_stretch: [1.0; 2],
        head: Quat::IDENTITY,
        bob: 0.0,
        feet: [0.0; 2],
        breath,
        eyes_open,
    }
}

/// How far through its stride cycle a walker is after covering `distance`
/// metres (one cycle is two steps).
pub fn stride_phase(distance: f32) -> f32 {
    const CYCLE_METRES: f32 = 0.9;
    (distance / CYCLE_METRES).fract() * std::f32::consts::TAU
}

/// Walking at `speed` m/s, `phase` radians through the stride (from
/// [`stride_phase`]), on top of `rest`. Below [`WALK_THRESHOLD`] it is `rest`.
pub fn walk(rest: RigPose, phase: f32, speed: f32) -> RigPose {
    let amount = ((speed - WALK_THRESHOLD) / 0.6).clamp(0.0, 1.0);
    if amount == 0.0 {
        return rest;
    }
    let swing = phase.sin() * amount;
    let mut pose = rest;
    pose.feet = [0.16 * swing, -0.16 * swing];
    pose.bob = 0.035 * amount * (phase * 2.0).sin().abs();
    // Arms swing against the feet.
    pose.arms = [hanging(-1.0) + Vec3::Z * 0.5 * swing, hanging(1.0) - Vec3::Z * 0.5 * swing].map(Vec3::normalize);
    pose
}

/// How long a gesture plays, seconds.
pub fn gesture_length(gesture: Gesture) -> f32 {
    match gesture {
        Gesture::Wave => 1.8,
        Gesture::Clap => 1.6,
        Gesture::Nod | Gesture::HeadShake => 1.2,
        Gesture::ThumbsUp => 1.6,
        Gesture::HeartHands => 2.2,
    }
}

/// How much of the gesture shows at `t` seconds into it: eases in over the
/// first 0.2 s and out over the last 0.25 s.
fn envelope(t: f32, length: f32) -> f32 {
    let rise = (t / 0.2).clamp(0.0, 1.0);
    let fall = ((length - t) / 0.25).clamp(0.0, 1.0);
    let x = rise.min(fall);
    x * x * (3.0 - 2.0 * x)
}

/// `gesture` played `t` seconds in, over `base`; `None` once it is over.
pub fn gesture(base: RigPose, gesture: Gesture, t: f32) -> Option<RigPose> {
    let length = gesture_length(gesture);
    if !(0.0..length).contains(&t) {
        return None;
    }
    let w = envelope(t, length);
    let mut pose = base;
    let mut arm_to = |arm: usize, dir: Vec3| {
        pose.arms[arm] = pose.arms[arm].lerp(dir.normalize(), w).normalize();
    };
    match gesture {
        Gesture::Wave => arm_to(RIGHT, Vec3::new(0.55 + 0.35 * (t * 9.0).sin(), 0.85, -0.1)),
        Gesture::Clap => {
            // Hands meet in front of the chest three times a second.
            let open = 0.28 * (0.5 + 0.5 * (t * 19.0).cos());
            arm_to(LEFT, Vec3::new(0.55 - open, 0.1, -0.9));
            arm_to(RIGHT, Vec3::new(-0.55 + open, 0.1, -0.9));
        }
        Gesture::ThumbsUp => arm_to(RIGHT, Vec3::new(0.25, 0.35, -0.9)),
        Gesture::HeartHands => {
            arm_to(LEFT, Vec3::new(0.35, 0.95, -0.15));
            arm_to(RIGHT, Vec3::new(-0.35, 0.95, -0.15));
        }
        Gesture::Nod => pose.head = Quat::from_rotation_x(-0.35 * w * (t * 11.0).sin().max(0.0)),
        Gesture::HeadShake => pose.head = Quat::from_rotation_y(0.4 * w * (t * 12.0).sin()),
    }
    Some(pose)
}

/// The right hand held straight up, on top of `base`.
pub fn hand_raised(base: RigPose) -> RigPose {
    let mut pose = base;
    pose.arms[RIGHT] = Vec3::new(0.12, 1.0, 0.0).normalize();
    pose.arm_stretch[RIGHT] = 1.0;
    pose
}

/// An arm reaching from its shoulder to a tracked hand (both avatar space):
/// the direction to point and how much to stretch, so the hand stays on the
/// body's end of the arm. Beyond [`MAX_ARM_STRETCH`] the arm points at the
/// hand and stops growing; a hand at the shoulder gives a short arm.
pub fn reach(arm: usize, hand: Vec3) -> (Vec3, f32) {
    let to_hand = hand - shoulder(arm);
    let distance = to_hand.length();
    if !distance.is_finite() || distance < 1e-3 {
        return (hanging(side_of(arm)), 0.3);
    }
    (to_hand / distance, (distance / ARM_LENGTH).clamp(0.3, MAX_ARM_STRETCH))
}

/// The rotation that turns a limb hanging along −Y to point along `dir`.
pub fn limb_rotation(dir: Vec3) -> Quat {
    Quat::from_rotation_arc(Vec3::NEG_Y, dir.normalize_or(Vec3::NEG_Y))
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;

    const EVERY: &[Gesture] = &Gesture::ALL;

    #[test]
    fn at_rest_the_avatar_breathes_and_blinks() {
        let frames: Vec<RigPose> = (0..600).map(|i| idle(i as f32 / 60.0, 7)).collect();
        let breaths: Vec<f32> = frames.iter().map(|p| p.breath).collect();
        let (low, high) = breaths.iter().fold((f32::MAX, f32::MIN), |(lo, hi), b| (lo.min(*b), hi.max(*b)));
        assert!(high - low > 0.02 && high < 1.03 && low > 0.97, "breath {low}..{high}");
        let blinks = frames.windows(2).filter(|w| w[0].eyes_open == 1.0 && w[1].eyes_open < 0.5).count();
        assert!((1..=4).contains(&blinks), "{blinks} blinks in 10 s");
        assert!(frames.iter().all(|p| p.arms.iter().all(|a| a.y < -0.8)), "arms hang at rest");
        // Two avatars do not blink together.
        let other: Vec<f32> = (0..600).map(|i| idle(i as f32 / 60.0, 8).eyes_open).collect();
        assert_ne!(other, frames.iter().map(|p| p.eyes_open).collect::<Vec<_>>());
    }

    #[test]
    fn walking_swings_feet_and_arms_with_speed_and_standing_does_not() {
        let rest = idle(0.0, 1);
        assert_eq!(walk(rest, 1.0, 0.05), rest);
        let quarter = std::f32::consts::FRAC_PI_2;
        let slow = walk(rest, quarter, 0.4);
        let fast = walk(rest, quarter, 1.4);
        assert!(fast.feet[0] > slow.feet[0] && slow.feet[0] > 0.0);
        assert!(fast.feet[0] > 0.1 && fast.feet[1] < -0.1, "feet {:?}", fast.feet);
        // The left arm goes back (+Z) as the left foot goes forward.
        assert!(fast.arms[LEFT].z > 0.2 && fast.arms[RIGHT].z < -0.2);
        assert!((stride_phase(0.45) - std::f32::consts::PI).abs() < 1e-4);
    }

    #[test]
    fn each_gesture_moves_what_it_should_and_then_ends() {
        let rest = idle(0.0, 1);
        for &g in EVERY {
            let length = gesture_length(g);
            assert!(gesture(rest, g, length).is_none() && gesture(rest, g, -0.1).is_none(), "{g:?} does not end");
            let middle = (0..20).map(|i| gesture(rest, g, length * (0.3 + 0.02 * i as f32)).unwrap());
            let moved = middle
                .map(|p| {
                    let arms = (p.arms[LEFT] - rest.arms[LEFT]).length() + (p.arms[RIGHT] - rest.arms[RIGHT]).length();
                    arms + p.head.angle_between(Quat::IDENTITY)
                })
                .fold(0.0f32, f32::max);
            assert!(moved > 0.3, "{g:?} hardly moves ({moved})");
            // It blends in from rest and back out to it.
            let start = gesture(rest, g, 0.0).unwrap();
            assert!((start.arms[RIGHT] - rest.arms[RIGHT]).length() < 1e-3 && start.head.angle_between(Quat::IDENTITY) < 1e-3);
        }
        let wave = gesture(rest, Gesture::Wave, 0.8).unwrap();
        assert!(wave.arms[RIGHT].y > 0.5, "a wave raises the right hand");
        let hearts = gesture(rest, Gesture::HeartHands, 1.0).unwrap();
        assert!(hearts.arms[LEFT].y > 0.8 && hearts.arms[RIGHT].y > 0.8, "heart hands go over the head");
        let nods: Vec<f32> =
            (0..40).map(|i| gesture(rest, Gesture::Nod, 0.2 + i as f32 * 0.02).unwrap().head.to_euler(bevy_math::EulerRot::YXZ).1).collect();
        assert!(nods.iter().any(|x| *x < -0.2), "a nod tips the head forward");
    }

    #[test]
    fn a_raised_hand_points_up() {
        let pose = hand_raised(idle(3.0, 2));
        assert!(pose.arms[RIGHT].y > 0.95 && pose.arms[LEFT].y < -0.8);
    }

    #[test]
    fn arms_reach_tracked_hands_and_stay_attached() {
        // A hand held out in front at shoulder height, within reach.
        let hand = shoulder(RIGHT) + Vec3::new(0.0, 0.0, -0.45);
        let (dir, stretch) = reach(RIGHT, hand);
        assert!(dir.distance(Vec3::NEG_Z) < 1e-4);
        let tip = shoulder(RIGHT) + dir * ARM_LENGTH * stretch;
        assert!(tip.distance(hand) < 1e-4, "the hand is at the arm's end");
        // Far beyond reach: pointing at it, stretched no further than allowed.
        let (dir, stretch) = reach(LEFT, Vec3::new(-5.0, 0.8, 0.0));
        assert!(dir.x < -0.99 && stretch == MAX_ARM_STRETCH);
        // Nonsense from the network does not make NaN limbs.
        let (dir, stretch) = reach(LEFT, Vec3::NAN);
        assert!(dir.is_finite() && stretch.is_finite());
        assert!(limb_rotation(Vec3::Y).is_finite() && (limb_rotation(Vec3::Y) * Vec3::NEG_Y).distance(Vec3::Y) < 1e-4);
    }
}
