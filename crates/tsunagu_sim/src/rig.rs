//! Where a headset's tracking space sits in the room, and what the avatar
//! does with what the headset tracks. The headset reports head and hands in
//! its own space (its floor, its forward); the rig places that space in the
//! ward: where it stands, which way it faces, how high (someone seated or in
//! bed sees the room from a normal eye height), and how far it is tilted (a
//! patient lying back sees the room upright). Teleport, snap turn and
//! recentre only move the rig, never the person's head within it.
//!
//! Pure maths, so the comfort rules are tested without a headset.

use bevy_math::{Quat, Vec3};

use crate::layout::WardLayout;
use crate::motion::{AVATAR_RADIUS, EYE_HEIGHT, facing, step_body};

/// A position and a rotation.
pub type Pose = (Vec3, Quat);

/// Snap turn angles a person may choose, degrees.
pub const SNAP_TURN_CHOICES: [f32; 2] = [30.0, 45.0];

/// The most a bed may be tilted back for (degrees): half lying down.
pub const MAX_TILT_DEGREES: f32 = 60.0;

/// The most a person may raise or lower their eyes from the standing eye
/// height, metres: enough for a tall teenager or a small child to feel at home.
pub const MAX_EYE_OFFSET: f32 = 0.3;

/// How far a teleport may reach, metres across the floor.
pub const TELEPORT_REACH: f32 = 6.0;

/// The tracking space's place in the room.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rig {
    /// Where the tracking space's origin is, on the ward's floor.
    pub origin: Vec3,
    /// Its turn about the vertical, radians (positive turns left, as Q).
    pub yaw: f32,
    /// How much higher than the headset says the head is shown, metres
    /// (someone seated or in bed still looks from a standing child's eyes).
    pub lift: f32,
    /// How far the person lies back, radians (0 upright, up to
    /// [`MAX_TILT_DEGREES`]): the room is tipped by as much, so a patient
    /// looking straight out of their pillow sees it upright.
    pub tilt: f32,
    /// Which way (in the headset's own space, radians about the vertical)
    /// the person lay facing when recentred: the tilt is about their own
    /// sideways axis.
    pub lying_heading: f32,
    /// The person's own choice: eyes this much higher (or lower, negative)
    /// than the standing eye height, metres; kept through recentres.
    pub eye_offset: f32,
}

impl Default for Rig {
    fn default() -> Self {
        Rig { origin: Vec3::ZERO, yaw: 0.0, lift: 0.0, tilt: 0.0, lying_heading: 0.0, eye_offset: 0.0 }
    }
}

/// What the avatar shows for one tracked moment, in the room.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoomPose {
    /// Feet, on the floor, under the head.
    pub feet: Vec3,
    /// Which way the body faces (the head's heading, upright).
    pub body: Quat,
    /// The head.
    pub head: Pose,
    /// The hands (left, right), when tracked.
    pub hands: Option<[Pose; 2]>,
}

impl Rig {
    /// The rotation from tracking space to the room: the tilt (about the
    /// person's own sideways axis) under the turn.
    pub fn rotation(&self) -> Quat {
        let toward = Quat::from_rotation_y(self.lying_heading);
        Quat::from_rotation_y(self.yaw) * toward * Quat::from_rotation_x(-self.tilt) * toward.inverse()
    }

    /// A tracked pose, in the room.
    pub fn to_room(&self, (position, rotation): Pose) -> Pose {
        (self.origin + Vec3::Y * (self.lift + self.eye_offset) + self.rotation() * position, self.rotation() * rotation)
    }

    /// Head and hands, tracked, as the avatar shows them in the room.
    pub fn avatar(&self, head: Pose, hands: Option<[Pose; 2]>) -> RoomPose {
        let head = self.to_room(head);
        let feet = head.0.with_y(0.0);
        RoomPose { feet, body: facing(head.1 * Vec3::NEG_Z), head, hands: hands.map(|h| h.map(|hand| self.to_room(hand))) }
    }

    /// Recentre: the head, as tracked now, is shown standing at `feet`, facing
    /// `yaw`, its eyes at the standing eye height (and the person's own
    /// [`Rig::eye_offset`]) whatever the headset says (seated, or in bed with
    /// the room tilted by `tilt`).
    pub fn recentre(&mut self, head: Pose, feet: Vec3, yaw: f32, tilt: f32) {
        *self = Rig {
            tilt: tilt.clamp(0.0, MAX_TILT_DEGREES.to_radians()),
            lying_heading: heading_of(head.1),
            eye_offset: self.eye_offset,
            ..Rig::default()
        };
        // The head's heading after the tilt, about the vertical.
        self.yaw = yaw - heading_of(self.to_room(head).1);
        let seen = self.to_room(head);
        // The lift brings the eyes to the standing height; the offset is on top.
        self.lift = EYE_HEIGHT - (seen.0.y - self.eye_offset);
        self.origin = (feet - seen.0).with_y(0.0);
    }

    /// Eyes `metres` above (or below) the standing eye height from now on,
    /// at most [`MAX_EYE_OFFSET`] either way; the head rises or sinks where
    /// it is.
    pub fn set_eye_offset(&mut self, metres: f32) {
        if metres.is_finite() {
            self.eye_offset = metres.clamp(-MAX_EYE_OFFSET, MAX_EYE_OFFSET);
        }
    }

    /// Turn by `degrees` (positive: left) about the head, which stays where it is.
    pub fn snap_turn(&mut self, head: Pose, degrees: f32) {
        let before = self.to_room(head).0;
        self.yaw += degrees.to_radians();
        let after = self.to_room(head).0;
        self.origin += (before - after).with_y(0.0);
    }

    /// Teleport so the head stands over `target`, if a person may stand
    /// there: inside the room, clear of furniture and of `others`' bodies,
    /// within [`TELEPORT_REACH`]. Returns whether it went.
    pub fn teleport(&mut self, head: Pose, target: Vec3, layout: &WardLayout, others: impl IntoIterator<Item = Vec3>) -> bool {
        if !teleport_allowed(self.avatar(head, None).feet, target, layout, others) {
            return false;
        }
        let feet = self.avatar(head, None).feet;
        self.origin += (target - feet).with_y(0.0);
        true
    }

    /// Walk smoothly (a thumbstick): `input` is (right, forward) in −1..1,
    /// relative to where the head looks; moves at most `speed × dt` by the
    /// room's one walking model ([`step_body`]): never into furniture, out
    /// of the room or into `others`. No input moves nothing, even with the
    /// head leaning over a bed.
    pub fn walk(&mut self, head: Pose, input: (f32, f32), speed: f32, dt: f32, layout: &WardLayout, others: impl IntoIterator<Item = Vec3>) {
        if input == (0.0, 0.0) {
            return;
        }
        let room_head = self.to_room(head);
        let forward = (room_head.1 * Vec3::NEG_Z).with_y(0.0).normalize_or(Vec3::NEG_Z);
        let right = forward.cross(Vec3::Y);
        let most = speed * dt.max(0.0);
        let wanted = (right * input.0 + forward * input.1).clamp_length_max(1.0) * most;
        let feet = room_head.0.with_y(0.0);
        let allowed = step_body(layout, feet, wanted, most, others, 2.0 * AVATAR_RADIUS);
        self.origin += (allowed - feet).with_y(0.0);
    }
}

/// The hands the avatar shows, in the headset's space: each side's
/// controller where it is tracked, else that hand itself where the runtime
/// tracks bare hands (its palm: it points along the fingers as a grip points
/// through the fist). Both or none: a pose carries two hands.
pub fn tracked_hands(controllers: [Option<Pose>; 2], bare_hands: [Option<Pose>; 2]) -> Option<[Pose; 2]> {
    match [controllers[0].or(bare_hands[0]), controllers[1].or(bare_hands[1])] {
        [Some(left), Some(right)] => Some([left, right]),
        _ => None,
    }
}

/// Which way `rotation` looks about the vertical, radians (0: toward −Z);
/// straight up or down counts as 0.
fn heading_of(rotation: Quat) -> f32 {
    let forward = (rotation * Vec3::NEG_Z).with_y(0.0);
    if forward.length_squared() > 1e-6 { f32::atan2(-forward.x, -forward.z) } else { 0.0 }
}

/// Whether someone standing at `from` may teleport to `target`: within
/// reach, where a body fits (inside the walls, clear of furniture), and not
/// into another person.
pub fn teleport_allowed(from: Vec3, target: Vec3, layout: &WardLayout, others: impl IntoIterator<Item = Vec3>) -> bool {
    let target = target.with_y(0.0);
    if !target.is_finite() || target.distance(from.with_y(0.0)) > TELEPORT_REACH {
        return false;
    }
    let fits = layout.clamp_walkable(target, AVATAR_RADIUS).distance(target) < 0.01;
    let clear = others.into_iter().all(|o| o.with_y(0.0).distance(target) >= 2.0 * AVATAR_RADIUS);
    fits && clear
}

/// How strongly to darken the edges of sight while moving smoothly (0 none,
/// 1 strongest): more with speed and with turning, as comfort vignettes do.
pub fn vignette(speed: f32, turn_rate: f32) -> f32 {
    (speed / 1.4 * 0.6 + turn_rate.abs() / 90f32.to_radians() * 0.4).clamp(0.0, 1.0)
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Vec3, b: Vec3) -> bool {
        a.distance(b) < 1e-3
    }

    #[test]
    fn standing_the_headset_is_the_avatar() {
        let rig = Rig { origin: Vec3::new(1.0, 0.0, 2.0), ..Rig::default() };
        let head = (Vec3::new(0.2, 1.5, -0.1), Quat::from_rotation_y(0.5));
        let pose = rig.avatar(head, Some([(Vec3::new(-0.2, 1.0, -0.3), Quat::IDENTITY), (Vec3::new(0.3, 1.1, -0.3), Quat::IDENTITY)]));
        assert!(close(pose.head.0, Vec3::new(1.2, 1.5, 1.9)));
        assert!(close(pose.feet, Vec3::new(1.2, 0.0, 1.9)));
        assert!(close(pose.hands.unwrap()[1].0, Vec3::new(1.3, 1.1, 1.7)));
        assert!((pose.body * Vec3::NEG_Z).angle_between(Quat::from_rotation_y(0.5) * Vec3::NEG_Z) < 1e-3);
    }

    /// A patient in bed, propped up at 45°: the headset is low (0.9 m over
    /// the tracking floor) and looks 45° up. Recentred with the bed's tilt,
    /// the room is upright for them: the head looks level, at a standing
    /// child's eye height, over the feet, facing the way asked.
    #[test]
    fn a_patient_lying_back_at_45_degrees_sees_the_room_upright_at_eye_height() {
        let lying = Quat::from_rotation_y(0.3) * Quat::from_rotation_x(45f32.to_radians());
        let head = (Vec3::new(0.1, 0.9, 0.4), lying);
        let mut rig = Rig::default();
        let feet = Vec3::new(-2.0, 0.0, 1.0);
        rig.recentre(head, feet, 0.0, 45f32.to_radians());
        let pose = rig.avatar(head, None);
        let looking = pose.head.1 * Vec3::NEG_Z;
        assert!(looking.y.abs() < 1e-3, "the room is not level for them: looking {looking}");
        assert!(looking.angle_between(Vec3::NEG_Z) < 1e-3, "not facing the way asked: {looking}");
        assert!((pose.head.0.y - EYE_HEIGHT).abs() < 1e-3, "eyes at {} m", pose.head.0.y);
        assert!(close(pose.feet, feet));
        // Up in their view is up in the room.
        assert!((pose.head.1 * Vec3::Y).angle_between(Vec3::Y) < 1e-3);
        // Looking 10° further up from the pillow looks 10° up in the room.
        let up = (head.0, lying * Quat::from_rotation_x(10f32.to_radians()));
        let up = rig.avatar(up, None).head.1 * Vec3::NEG_Z;
        assert!((up.y.asin().to_degrees() - 10.0).abs() < 0.1);
        // A tilt beyond half lying down is held at 60°.
        rig.recentre(head, feet, 0.0, 80f32.to_radians());
        assert!((rig.tilt.to_degrees() - MAX_TILT_DEGREES).abs() < 1e-3);
    }

    #[test]
    fn seated_the_eyes_are_lifted_to_standing_height() {
        let mut rig = Rig::default();
        let head = (Vec3::new(0.0, 1.1, 0.0), Quat::IDENTITY);
        rig.recentre(head, Vec3::ZERO, 0.0, 0.0);
        assert!((rig.lift - (EYE_HEIGHT - 1.1)).abs() < 1e-4);
        // Leaning forward moves the head forward, not the rig.
        let leaning = (Vec3::new(0.0, 1.0, -0.2), Quat::IDENTITY);
        assert!(close(rig.avatar(leaning, None).head.0, Vec3::new(0.0, EYE_HEIGHT - 0.1, -0.2)));
    }

    #[test]
    fn controllers_come_first_then_bare_hands_and_never_one_hand_alone() {
        let at = |x: f32| Some((Vec3::new(x, 1.0, 0.0), Quat::IDENTITY));
        assert_eq!(tracked_hands([at(1.0), at(2.0)], [at(3.0), at(4.0)]), Some([at(1.0).unwrap(), at(2.0).unwrap()]));
        // A controller put down: that hand, tracked bare, takes its place.
        assert_eq!(tracked_hands([None, at(2.0)], [at(3.0), None]), Some([at(3.0).unwrap(), at(2.0).unwrap()]));
        assert_eq!(tracked_hands([None, None], [at(3.0), at(4.0)]), Some([at(3.0).unwrap(), at(4.0).unwrap()]));
        assert_eq!(tracked_hands([at(1.0), None], [None, None]), None);
        assert_eq!(tracked_hands([None, None], [None, None]), None);
    }

    #[test]
    fn a_chosen_eye_height_holds_through_recentres_and_is_bounded() {
        let mut rig = Rig::default();
        let head = (Vec3::new(0.2, 1.0, 0.3), Quat::from_rotation_y(0.4));
        let feet = Vec3::new(1.0, 0.0, -1.0);
        rig.set_eye_offset(0.1);
        rig.recentre(head, feet, 0.0, 0.0);
        assert!((rig.avatar(head, None).head.0.y - (EYE_HEIGHT + 0.1)).abs() < 1e-4);
        // Lowered at once, where the head is: the feet stay.
        rig.set_eye_offset(-0.15);
        let pose = rig.avatar(head, None);
        assert!((pose.head.0.y - (EYE_HEIGHT - 0.15)).abs() < 1e-4);
        assert!(close(pose.feet, feet));
        // A recentre (lying back now) keeps the choice.
        rig.recentre(head, feet, 0.0, 30f32.to_radians());
        assert!((rig.avatar(head, None).head.0.y - (EYE_HEIGHT - 0.15)).abs() < 1e-4);
        rig.set_eye_offset(2.0);
        assert_eq!(rig.eye_offset, MAX_EYE_OFFSET);
        rig.set_eye_offset(f32::NAN);
        assert_eq!(rig.eye_offset, MAX_EYE_OFFSET);
    }

    #[test]
    fn snap_turns_keep_the_head_in_place_and_add_up() {
        let mut rig = Rig { origin: Vec3::new(1.0, 0.0, 1.0), ..Rig::default() };
        let head = (Vec3::new(0.3, 1.2, -0.2), Quat::IDENTITY);
        let before = rig.avatar(head, None);
        for degrees in SNAP_TURN_CHOICES {
            rig.snap_turn(head, degrees);
            rig.snap_turn(head, -degrees);
        }
        rig.snap_turn(head, 45.0);
        let after = rig.avatar(head, None);
        assert!(close(before.head.0, after.head.0), "the head moved in a turn");
        let turned = (before.body * Vec3::NEG_Z).angle_between(after.body * Vec3::NEG_Z).to_degrees();
        assert!((turned - 45.0).abs() < 0.01, "turned {turned}°");
    }

    #[test]
    fn teleports_go_where_a_body_fits_and_nowhere_else() {
        let layout = WardLayout::ward();
        let mut rig = Rig::default();
        let head = (Vec3::new(0.1, 1.2, 0.1), Quat::IDENTITY);
        let bed = layout.furniture().next().unwrap().center;
        let friend = Vec3::new(2.0, 0.0, 0.0);
        for refused in [bed, Vec3::new(7.5, 0.0, 0.0), friend + Vec3::X * 0.2, Vec3::new(0.0, 0.0, -4.99), Vec3::NAN] {
            let before = rig;
            assert!(!rig.teleport(head, refused, &layout, [friend]), "teleported to {refused}");
            assert_eq!(rig, before);
        }
        let free = Vec3::new(1.0, 0.0, -1.0);
        assert!(rig.teleport(head, free, &layout, [friend]));
        assert!(close(rig.avatar(head, None).feet, free));
        assert!(!teleport_allowed(free, free + Vec3::X * (TELEPORT_REACH + 0.1), &layout, []));
    }

    #[test]
    fn smooth_walking_follows_the_gaze_and_stops_at_furniture() {
        let layout = WardLayout::ward();
        let mut rig = Rig::default();
        let head = (Vec3::new(0.0, 1.2, 0.0), Quat::from_rotation_y(90f32.to_radians()));
        rig.walk(head, (0.0, 1.0), 1.4, 1.0, &layout, []);
        // Looking left (−X), forward is −X.
        assert!(close(rig.avatar(head, None).feet, Vec3::new(-1.4, 0.0, 0.0)));
        // Walking into a bed for a long while ends beside it, not in it.
        for _ in 0..100 {
            rig.walk(head, (0.0, 1.0), 1.4, 0.1, &layout, []);
        }
        let feet = rig.avatar(head, None).feet;
        assert!(layout.clamp_walkable(feet, AVATAR_RADIUS).distance(feet) < 1e-3);
        // With the stick let go, leaning over the bed moves nobody.
        let leaning = (head.0 + Vec3::new(-0.4, 0.0, 0.0), head.1);
        let still = rig;
        rig.walk(leaning, (0.0, 0.0), 1.4, 0.1, &layout, []);
        assert_eq!(rig, still, "the rig moved without a push of the stick");
        assert!(vignette(0.0, 0.0) == 0.0 && vignette(1.4, 0.0) > 0.5 && vignette(5.0, 5.0) == 1.0);
    }
}

/// Where a pointing ray meets a flat panel, in the panel's own units: (0, 0)
/// its top left corner, (1, 1) its bottom right, seen from the front (the
/// panel faces along its +Z). `None` when the ray misses it, runs along it
/// or points away.
pub fn point_on_panel(ray: Pose, panel: Pose, size: bevy_math::Vec2) -> Option<bevy_math::Vec2> {
    let (origin, rotation) = ray;
    let direction = rotation * Vec3::NEG_Z;
    let normal = panel.1 * Vec3::Z;
    let facing = direction.dot(normal);
    // Only from in front, toward it.
    if facing > -1e-4 {
        return None;
    }
    let distance = (panel.0 - origin).dot(normal) / facing;
    if distance < 0.0 {
        return None;
    }
    let local = panel.1.inverse() * (origin + direction * distance - panel.0);
    let at = bevy_math::Vec2::new(local.x / size.x + 0.5, 0.5 - local.y / size.y);
    (at.x >= 0.0 && at.x <= 1.0 && at.y >= 0.0 && at.y <= 1.0).then_some(at)
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod panel_tests {
    use super::*;
    use bevy_math::Vec2;

    #[test]
    fn a_ray_finds_the_spot_it_points_at_on_a_panel_and_misses_from_behind() {
        // A 0.2 × 0.1 m panel 1 m ahead, facing back at us.
        let panel = (Vec3::new(0.0, 1.0, -1.0), Quat::IDENTITY);
        let size = Vec2::new(0.2, 0.1);
        let from = |target: Vec3| {
            (Vec3::new(0.0, 1.0, 0.0), facing(target - Vec3::new(0.0, 1.0, 0.0)) * Quat::from_rotation_x(((target.y - 1.0) / 1.0).atan()))
        };
        let centre = point_on_panel(from(Vec3::new(0.0, 1.0, -1.0)), panel, size).unwrap();
        assert!(centre.distance(Vec2::splat(0.5)) < 1e-4, "{centre}");
        let right = point_on_panel(from(Vec3::new(0.05, 1.0, -1.0)), panel, size).unwrap();
        assert!((right.x - 0.75).abs() < 1e-3 && (right.y - 0.5).abs() < 1e-3, "{right}");
        let upper = point_on_panel(from(Vec3::new(0.0, 1.025, -1.0)), panel, size).unwrap();
        assert!((upper.y - 0.25).abs() < 2e-3, "{upper}");
        assert_eq!(point_on_panel(from(Vec3::new(0.5, 1.0, -1.0)), panel, size), None, "beside it");
        let behind = (Vec3::new(0.0, 1.0, -2.0), Quat::from_rotation_y(std::f32::consts::PI));
        assert_eq!(point_on_panel(behind, panel, size), None, "from behind");
        let away = (Vec3::new(0.0, 1.0, 0.0), Quat::from_rotation_y(std::f32::consts::PI));
        assert_eq!(point_on_panel(away, panel, size), None, "pointing away");
    }
}
