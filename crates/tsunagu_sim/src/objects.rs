//! The room's shared things as physics: a soft ball and building blocks that
//! fall, bounce, roll and come to rest against the same walls and furniture
//! the avatars walk around ([`WardLayout`]), and three darts that stick in
//! the dartboard and score. Rapier, stepped with a fixed
//! step so the same throws give the same flights. Resting things sleep and
//! cost nothing; [`ObjectWorld::moving`] says which are awake.
//!
//! The room server owns one per room and sends the poses in its snapshots;
//! holding and throwing arrive as client events. Clients use the ids, kinds
//! and [`hold_point`] from here to draw the same things in the same hands.
//!
//! Long because the room's physics world and the rules around it (reach, holding,
//! throws, darts, the hand's rule) are read together; most of it is its tests.

use bevy_math::{Quat, Vec3};
use rapier3d::prelude::*;

use crate::WardLayout;

/// What a shared thing is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A soft ball to play catch with.
    Ball,
    /// A wooden building block.
    Block,
    /// A soft-tipped dart.
    Dart,
}

pub use tsunagu_protocol::DartScore;

/// The board's rings from the middle out: each scores within its radius
/// (metres); the rest of the board is [`DartScore::Outer`]. The client draws
/// the same rings.
pub const BOARD_RINGS: [(f32, DartScore); 3] = [(0.03, DartScore::Bull), (0.08, DartScore::Inner), (0.15, DartScore::Middle)];

/// What the board scores for a dart tip at `point` on its face, if it is on the board.
pub fn score_at(board: &crate::Dartboard, point: Vec3) -> Option<DartScore> {
    let off = Vec3::new(0.0, point.y - board.center.y, point.z - board.center.z).length();
    if off > board.radius {
        return None;
    }
    Some(BOARD_RINGS.iter().find(|(radius, _)| off <= *radius).map_or(DartScore::Outer, |(_, score)| *score))
}

/// A dart that stuck in the board this step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DartHit {
    /// Which dart.
    pub id: u16,
    /// What it scored.
    pub score: DartScore,
}

/// One shared thing's place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectPose {
    /// Which thing (its index in [`ObjectWorld::kinds`]).
    pub id: u16,
    /// Its centre.
    pub position: Vec3,
    /// Its turn.
    pub rotation: Quat,
}

/// The ball's radius, metres (a soft play ball).
pub const BALL_RADIUS: f32 = 0.11;
/// A block's half size, metres.
pub const BLOCK_HALF: f32 = 0.07;
/// How many blocks the play corner has.
pub const BLOCKS: usize = 4;
/// How many darts lie ready on the toy box.
pub const DARTS: usize = 3;
/// The board shows this many of the last darts (one round: the three darts).
/// The room keeps as many, and clients show as many.
pub const DARTS_SHOWN: usize = DARTS;
/// How many shared things a room has: ids 0 (the ball), 1–4 (blocks), 5–7 (darts).
pub const OBJECTS: usize = 1 + BLOCKS + DARTS;

/// What thing `id` is, if there is one: the same numbering on every side.
pub fn kind_of(id: u16) -> Option<ObjectKind> {
    match usize::from(id) {
        0 => Some(ObjectKind::Ball),
        n if n <= BLOCKS => Some(ObjectKind::Block),
        n if n < OBJECTS => Some(ObjectKind::Dart),
        _ => None,
    }
}

/// How far from its holder's hand point a thing may be picked up, metres:
/// an arm and a lean, so a child walks over to the ball as in a real room.
pub const GRAB_REACH: f32 = 1.6;

/// How close a pointer must pass a thing to pick it, metres: generous, so a
/// child's aim near a small thing counts.
pub fn pick_size(kind: ObjectKind) -> f32 {
    let body = match kind {
        ObjectKind::Ball => BALL_RADIUS,
        ObjectKind::Block => BLOCK_HALF * 1.4,
        ObjectKind::Dart => 0.06,
    };
    body + 0.06
}

/// The nearest of `things` (id, centre) that a ray from `origin` along
/// `direction` passes close to, with how far along the ray it is: a click on
/// the screen, or a hand pointing in a headset.
pub fn pointed_thing(origin: Vec3, direction: Vec3, things: impl IntoIterator<Item = (u16, Vec3)>) -> Option<(u16, f32)> {
    let direction = direction.normalize_or_zero();
    things
        .into_iter()
        .filter_map(|(id, at)| {
            let along = (at - origin).dot(direction);
            let miss = (origin + direction * along - at).length();
            (along > 0.0 && miss < pick_size(kind_of(id)?)).then_some((id, along))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Where a hand in a headset has been lately, to throw with its swing.
#[derive(Clone, Debug, Default)]
pub struct HandTrail {
    /// (seconds, place), oldest first.
    places: std::collections::VecDeque<(f32, Vec3)>,
}

impl HandTrail {
    /// How far back a swing is measured, seconds: the last moment before letting go.
    pub const SWING_SECONDS: f32 = 0.1;

    /// The hand is at `place` at `seconds`.
    pub fn push(&mut self, seconds: f32, place: Vec3) {
        if !place.is_finite() {
            return;
        }
        self.places.push_back((seconds, place));
        while self.places.len() > 2 && self.places.front().is_some_and(|(t, _)| seconds - t > Self::SWING_SECONDS * 2.0) {
            self.places.pop_front();
        }
    }

    /// The hand's velocity over its last [`HandTrail::SWING_SECONDS`] (from
    /// the latest place and the last one at least that old, else the oldest),
    /// at most [`MAX_THROW_SPEED`]: what it throws with.
    pub fn velocity(&self) -> Vec3 {
        let Some(&(now, here)) = self.places.back() else { return Vec3::ZERO };
        let (then, there) =
            self.places.iter().rev().find(|(t, _)| now - t >= Self::SWING_SECONDS).or(self.places.front()).copied().unwrap_or((now, here));
        if now - then <= 1e-4 {
            return Vec3::ZERO;
        }
        ((here - there) / (now - then)).clamp_length_max(MAX_THROW_SPEED)
    }
}

/// A headset hand's buttons this frame: the trigger's press, the grip's
/// closing and opening (edges, not states).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandButtons {
    /// The trigger was pulled.
    pub trigger_pulled: bool,
    /// The grip (squeeze) closed.
    pub grip_closed: bool,
    /// The grip opened.
    pub grip_opened: bool,
}

/// What a headset hand does with the room's things this frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HandPlay {
    /// Pick up a thing.
    Grab {
        /// The thing.
        id: u16,
        /// Held while the grip stays closed (else until the trigger's next pull).
        by_grip: bool,
    },
    /// Let go of what it holds, with this velocity.
    Release(Vec3),
    /// Nothing.
    Nothing,
}

/// The one grab-and-throw rule, for a headset hand and for the mouse (whose
/// click is a trigger pull): the trigger picks up what is pointed at within
/// reach and a second pull throws it; the grip picks up what is pointed at
/// and opening it throws. A throw goes with `throw()`: the hand's swing
/// ([`HandTrail::velocity`]), or the mouse's aim ([`throw_velocity`]).
pub fn hand_play(holding: Option<(u16, bool)>, pointed_at: Option<u16>, buttons: HandButtons, throw: impl FnOnce() -> Vec3) -> HandPlay {
    match holding {
        Some((_, by_grip)) if (by_grip && buttons.grip_opened) || (!by_grip && buttons.trigger_pulled) => HandPlay::Release(throw()),
        Some(_) => HandPlay::Nothing,
        None => match (pointed_at, buttons.grip_closed, buttons.trigger_pulled) {
            (Some(id), true, _) => HandPlay::Grab { id, by_grip: true },
            (Some(id), false, true) => HandPlay::Grab { id, by_grip: false },
            _ => HandPlay::Nothing,
        },
    }
}

/// The velocity that carries a thing from `from` to `to` under gravity, in a
/// flight time that grows with the distance (a lob, not a line drive): how a
/// client turns "throw it there" into a release.
pub fn throw_velocity(from: Vec3, to: Vec3) -> Vec3 {
    let across = (to - from).with_y(0.0).length();
    let seconds = (across / 5.0).clamp(0.35, 1.1);
    // The physics steps gravity in substeps, velocity first, then position:
    // a flight of t falls g·t·(t + substep)/2, not g·t²/2.
    let substep = STEP_SECONDS / SUBSTEPS as f32;
    (to - from + Vec3::new(0.0, 0.5 * GRAVITY * seconds * (seconds + substep), 0.0)) / seconds
}

/// Gravity the room's physics uses, m/s².
pub const GRAVITY: f32 = 9.81;
/// Solver substeps per physics step.
pub const SUBSTEPS: usize = 4;

/// Where a held thing is: in the right hand in a headset; on the desktop a
/// little in front of the chest, where a child holding a ball would have it.
pub fn hold_point(body: Vec3, body_rotation: Quat, right_hand: Option<Vec3>) -> Vec3 {
    right_hand.unwrap_or_else(|| body + body_rotation * Vec3::new(0.15, 0.9, -0.4))
}
/// A dart's radius as a body (its flight, not its look), metres.
pub const DART_RADIUS: f32 = 0.02;
/// The fastest a thing may be thrown, m/s: a child's good throw, never a
/// missile (a client's velocity is bounded to this).
pub const MAX_THROW_SPEED: f32 = 8.0;
/// The physics step: the server's tick.
pub const STEP_SECONDS: f32 = 1.0 / 30.0;

/// The shared things of one room and the room's solid pieces.
pub struct ObjectWorld {
    world: PhysicsWorld,
    bodies: Vec<(ObjectKind, RigidBodyHandle)>,
    board: crate::Dartboard,
    /// Darts stuck in the board (they stay until picked up).
    stuck: Vec<u16>,
}

impl ObjectWorld {
    /// The ward's things in their places: the ball on the play rug, the
    /// blocks on the low table.
    pub fn new(layout: &WardLayout) -> ObjectWorld {
        let mut world = PhysicsWorld::default();
        world.integration_parameters.dt = STEP_SECONDS;
        world.gravity = Vector::new(0.0, -GRAVITY, 0.0);
        world.integration_parameters.num_solver_iterations = SUBSTEPS;
        let half = layout.interior_half;
        // The floor and the ceiling, then every wall and piece of furniture.
        world.insert(
            RigidBodyBuilder::fixed().translation(Vector::new(0.0, -0.5, 0.0)),
            ColliderBuilder::cuboid(half.x + 1.0, 0.5, half.y + 1.0).friction(0.8),
        );
        world.insert(
            RigidBodyBuilder::fixed().translation(Vector::new(0.0, layout.ceiling + 0.5, 0.0)),
            ColliderBuilder::cuboid(half.x + 1.0, 0.5, half.y + 1.0),
        );
        for piece in &layout.pieces {
            let (c, h) = (piece.center, piece.half_extents);
            world.insert(
                RigidBodyBuilder::fixed().translation(Vector::new(c.x, c.y, c.z)),
                ColliderBuilder::cuboid(h.x, h.y, h.z).friction(0.7).restitution(0.2),
            );
        }
        let mut bodies = Vec::new();
        let rug = layout.rug.0;
        let ball = RigidBodyBuilder::dynamic()
            .translation(Vector::new(rug.x, BALL_RADIUS, rug.z + 0.8))
            .linear_damping(0.3)
            .angular_damping(0.6)
            .ccd_enabled(true);
        let (handle, _) = world.insert(ball, ColliderBuilder::ball(BALL_RADIUS).density(100.0).restitution(0.6).friction(0.6));
        bodies.push((ObjectKind::Ball, handle));
        let table =
            layout.furniture().find(|p| p.kind == crate::PieceKind::LowTable).map_or(rug + Vec3::Y * 0.4, |p| p.center + Vec3::Y * p.half_extents.y);
        // Ids follow `kind_of`: the ball, the blocks, the darts.
        for n in 0..BLOCKS {
            let at = table + Vec3::new(-0.3 + 0.2 * n as f32, BLOCK_HALF, 0.0);
            let block = RigidBodyBuilder::dynamic().translation(Vector::new(at.x, at.y, at.z)).ccd_enabled(true);
            let (handle, _) =
                world.insert(block, ColliderBuilder::cuboid(BLOCK_HALF, BLOCK_HALF, BLOCK_HALF).density(500.0).restitution(0.1).friction(0.8));
            bodies.push((ObjectKind::Block, handle));
        }
        let toy_box =
            layout.furniture().find(|p| p.kind == crate::PieceKind::ToyBox).map_or(rug + Vec3::Y * 0.6, |p| p.center + Vec3::Y * p.half_extents.y);
        for n in 0..DARTS {
            let at = toy_box + Vec3::new(-0.2 + 0.2 * n as f32, DART_RADIUS, 0.0);
            let dart = RigidBodyBuilder::dynamic().translation(Vector::new(at.x, at.y, at.z)).ccd_enabled(true);
            let (handle, _) = world.insert(dart, ColliderBuilder::ball(DART_RADIUS).density(800.0).restitution(0.05).friction(0.9));
            bodies.push((ObjectKind::Dart, handle));
        }
        let mut objects = ObjectWorld { world, bodies, board: layout.dartboard, stuck: Vec::new() };
        // Let everything settle where it was put, so a new room starts asleep.
        for _ in 0..90 {
            objects.step();
        }
        objects
    }

    /// What each thing is, by id.
    pub fn kinds(&self) -> impl Iterator<Item = ObjectKind> + '_ {
        self.bodies.iter().map(|(kind, _)| *kind)
    }

    /// One physics step of [`STEP_SECONDS`]; returns the darts that stuck
    /// in the board during it.
    pub fn step(&mut self) -> Vec<DartHit> {
        let tip_of = |body: &RigidBody| {
            let at = body.translation();
            Vec3::new(at.x + DART_RADIUS, at.y, at.z)
        };
        let before: Vec<Vec3> = self.bodies.iter().map(|(_, h)| tip_of(&self.world.bodies[*h])).collect();
        self.world.step();
        let face = self.board.center.x - 0.005;
        let mut hits = Vec::new();
        for (id, (kind, handle)) in self.bodies.iter().enumerate() {
            let id = id as u16;
            if *kind != ObjectKind::Dart || self.stuck.contains(&id) {
                continue;
            }
            let body = &mut self.world.bodies[*handle];
            let (was, tip) = (before[usize::from(id)], tip_of(body));
            if tip.x < face || was.x >= face {
                continue;
            }
            // Where the tip crossed the board's face during the step (a fast
            // dart moves 20 cm in one): inside the circle, it sticks there.
            let crossed = was.lerp(tip, (face - was.x) / (tip.x - was.x));
            if let Some(score) = score_at(&self.board, crossed) {
                body.set_body_type(RigidBodyType::Fixed, true);
                body.set_translation(Vector::new(crossed.x - DART_RADIUS, crossed.y, crossed.z), true);
                // Stuck, it is part of the board: the next dart goes in beside it, not off it.
                for collider in body.colliders() {
                    if let Some(collider) = self.world.colliders.get_mut(*collider) {
                        collider.set_sensor(true);
                    }
                }
                self.stuck.push(id);
                hits.push(DartHit { id, score });
            }
        }
        hits
    }

    /// Hold thing `id` at `at` (its holder's hand point this tick): it
    /// follows the hand, pushing what it meets, and is not pulled by gravity.
    /// Returns whether `id` exists.
    pub fn hold(&mut self, id: u16, at: Vec3, layout: &WardLayout) -> bool {
        let Some((kind, handle)) = self.bodies.get(usize::from(id)).copied() else { return false };
        let at = inside_room(at, kind, layout);
        self.unstick(id);
        let body = &mut self.world.bodies[handle];
        if !body.is_kinematic() {
            body.set_body_type(RigidBodyType::KinematicPositionBased, true);
            body.set_linvel(Vector::ZERO, true);
            body.set_angvel(Vector::ZERO, true);
        }
        body.set_next_kinematic_translation(Vector::new(at.x, at.y, at.z));
        true
    }

    /// Pulled out of the board (if it was in): solid again.
    fn unstick(&mut self, id: u16) {
        if !self.stuck.contains(&id) {
            return;
        }
        self.stuck.retain(|stuck| *stuck != id);
        let Some((_, handle)) = self.bodies.get(usize::from(id)) else { return };
        for collider in self.world.bodies[*handle].colliders().to_vec() {
            if let Some(collider) = self.world.colliders.get_mut(collider) {
                collider.set_sensor(false);
            }
        }
    }

    /// Whether anything is awake or held: a room where this is false need
    /// not be stepped at all.
    pub fn is_at_rest(&self) -> bool {
        self.bodies.iter().all(|(_, h)| {
            let body = &self.world.bodies[*h];
            body.is_fixed() || (body.is_dynamic() && body.is_sleeping())
        })
    }

    /// Where every thing is.
    pub fn poses(&self) -> Vec<ObjectPose> {
        (0..self.bodies.len()).filter_map(|id| self.pose(id as u16)).collect()
    }

    /// Where thing `id` is.
    pub fn pose(&self, id: u16) -> Option<ObjectPose> {
        let (_, handle) = self.bodies.get(usize::from(id))?;
        let body = &self.world.bodies[*handle];
        let (t, r) = (body.translation(), body.rotation());
        Some(ObjectPose { id, position: Vec3::new(t.x, t.y, t.z), rotation: Quat::from_xyzw(r.x, r.y, r.z, r.w) })
    }

    /// The things that are moving (awake); resting ones are asleep, and
    /// darts stuck in the board are fixed: neither costs time nor bytes.
    pub fn moving(&self) -> Vec<u16> {
        let awake = |h: &RigidBodyHandle| {
            let body = &self.world.bodies[*h];
            body.is_dynamic() && !body.is_sleeping()
        };
        self.bodies.iter().enumerate().filter(|(_, (_, h))| awake(h)).map(|(id, _)| id as u16).collect()
    }

    /// Throw thing `id` from `from` with `velocity`, bounded to
    /// [`MAX_THROW_SPEED`] and to the inside of the room (nonsense from the
    /// network neither explodes nor escapes). Returns whether `id` exists.
    pub fn throw(&mut self, id: u16, from: Vec3, velocity: Vec3, layout: &WardLayout) -> bool {
        let Some((kind, handle)) = self.bodies.get(usize::from(id)).copied() else { return false };
        let from = inside_room(from, kind, layout);
        let velocity = if velocity.is_finite() { velocity } else { Vec3::ZERO }.clamp_length_max(MAX_THROW_SPEED);
        self.unstick(id);
        let body = &mut self.world.bodies[handle];
        body.set_body_type(RigidBodyType::Dynamic, true);
        body.set_translation(Vector::new(from.x, from.y, from.z), true);
        body.set_linvel(Vector::new(velocity.x, velocity.y, velocity.z), true);
        true
    }
}

/// `at` moved inside the room's walls, floor and ceiling by the thing's size
/// (a non-finite point becomes the room's middle).
fn inside_room(at: Vec3, kind: ObjectKind, layout: &WardLayout) -> Vec3 {
    let size = match kind {
        ObjectKind::Ball => BALL_RADIUS,
        ObjectKind::Block => BLOCK_HALF * 1.8,
        ObjectKind::Dart => DART_RADIUS,
    };
    let inside = layout.interior_half - bevy_math::Vec2::splat(size);
    let at = if at.is_finite() { at } else { Vec3::Y };
    Vec3::new(at.x.clamp(-inside.x, inside.x), at.y.clamp(size, layout.ceiling - size), at.z.clamp(-inside.y, inside.y))
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod pointing_tests {
    use super::*;

    #[test]
    fn a_pointer_picks_the_nearest_thing_it_passes_close_to() {
        let ball = (0, Vec3::new(0.0, 1.0, -3.0));
        let block = (1, Vec3::new(0.1, 1.0, -1.5));
        let from = Vec3::new(0.0, 1.0, 0.0);
        assert_eq!(pointed_thing(from, Vec3::NEG_Z, [ball, block]).map(|p| p.0), Some(1), "the nearer one along the ray");
        assert_eq!(pointed_thing(from, Vec3::new(0.0, 0.0, -1.0), [ball]).map(|p| p.0), Some(0));
        // Near enough counts, off to the side does not, nor behind.
        assert_eq!(pointed_thing(from, Vec3::new(0.05, 0.0, -1.0), [ball]).map(|p| p.0), Some(0));
        assert_eq!(pointed_thing(from, Vec3::new(0.3, 0.0, -1.0), [ball]), None);
        assert_eq!(pointed_thing(from, Vec3::Z, [ball, block]), None);
        assert_eq!(pointed_thing(from, Vec3::ZERO, [ball]), None, "no direction points at nothing");
        assert_eq!(pointed_thing(from, Vec3::NEG_Z, [(999, Vec3::new(0.0, 1.0, -1.0))]), None, "not a thing of the room");
    }

    #[test]
    fn a_trigger_picks_up_and_throws_and_a_grip_holds_until_it_opens() {
        let mut swinging = HandTrail::default();
        swinging.push(0.0, Vec3::ZERO);
        swinging.push(0.1, Vec3::new(0.0, 0.1, -0.2));
        let pull = HandButtons { trigger_pulled: true, ..HandButtons::default() };
        let close = HandButtons { grip_closed: true, ..HandButtons::default() };
        let open = HandButtons { grip_opened: true, ..HandButtons::default() };
        let none = HandButtons::default();
        assert_eq!(hand_play(None, Some(3), pull, || swinging.velocity()), HandPlay::Grab { id: 3, by_grip: false });
        assert_eq!(hand_play(None, Some(3), close, || swinging.velocity()), HandPlay::Grab { id: 3, by_grip: true });
        assert_eq!(hand_play(None, None, pull, || swinging.velocity()), HandPlay::Nothing, "nothing in reach: the trigger is the teleport's");
        assert_eq!(hand_play(None, Some(3), none, || swinging.velocity()), HandPlay::Nothing);
        // Held by the trigger: pulled again, it flies with the swing; the grip does nothing to it.
        assert_eq!(hand_play(Some((3, false)), None, open, || swinging.velocity()), HandPlay::Nothing);
        let HandPlay::Release(v) = hand_play(Some((3, false)), None, pull, || swinging.velocity()) else { panic!("not thrown") };
        assert!((v - Vec3::new(0.0, 1.0, -2.0)).length() < 1e-3, "{v}");
        // Held by the grip: held while it stays closed, thrown when it opens.
        assert_eq!(hand_play(Some((3, true)), Some(4), pull, || swinging.velocity()), HandPlay::Nothing);
        assert!(matches!(hand_play(Some((3, true)), None, open, || swinging.velocity()), HandPlay::Release(_)));
    }

    #[test]
    fn a_hand_throws_with_its_last_swing_and_never_too_hard() {
        let mut trail = HandTrail::default();
        assert_eq!(trail.velocity(), Vec3::ZERO);
        // Held still, then swung forward at 3 m/s for the last 0.15 s (90 Hz).
        let mut at = Vec3::new(0.2, 1.0, 0.0);
        for frame in 0..90 {
            let t = frame as f32 / 90.0;
            if t > 0.85 {
                at += Vec3::new(0.0, 0.0, -3.0) / 90.0;
            }
            trail.push(t, at);
        }
        let v = trail.velocity();
        assert!((v - Vec3::new(0.0, 0.0, -3.0)).length() < 0.1, "thrown at {v}");
        // A wild swing is held to a child's good throw.
        trail.push(1.0, at + Vec3::new(0.0, 0.0, -5.0));
        assert!(trail.velocity().length() <= MAX_THROW_SPEED + 1e-4);
        // A hand held still lets go without a throw; a lost place is ignored.
        let mut still = HandTrail::default();
        for frame in 0..30 {
            still.push(frame as f32 / 90.0, Vec3::ONE);
        }
        still.push(0.34, Vec3::NAN);
        assert_eq!(still.velocity(), Vec3::ZERO);
    }
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;

    fn settle(objects: &mut ObjectWorld, seconds: f32) -> usize {
        let steps = (seconds / STEP_SECONDS) as usize;
        for n in 0..steps {
            objects.step();
            if objects.moving().is_empty() {
                return n;
            }
        }
        steps
    }

    #[test]
    fn a_new_room_is_at_rest_with_the_ball_on_the_floor_and_blocks_on_the_table() {
        let layout = WardLayout::ward();
        let objects = ObjectWorld::new(&layout);
        assert!(objects.moving().is_empty(), "things still moving: {:?}", objects.moving());
        let poses = objects.poses();
        assert_eq!(poses.len(), 1 + BLOCKS + DARTS);
        assert!((poses[0].position.y - BALL_RADIUS).abs() < 0.01, "ball at {}", poses[0].position);
        for block in &poses[1..=BLOCKS] {
            assert!((block.position.y - (0.4 + BLOCK_HALF)).abs() < 0.01, "block at {}", block.position);
        }
    }

    #[test]
    fn a_thrown_ball_flies_lands_inside_and_goes_to_sleep() {
        let layout = WardLayout::ward();
        let mut objects = ObjectWorld::new(&layout);
        let from = Vec3::new(0.0, 1.2, 2.0);
        assert!(objects.throw(0, from, Vec3::new(1.0, 3.0, -4.0), &layout));
        assert_eq!(objects.moving(), vec![0], "only the ball wakes");
        let mut highest = 0.0f32;
        for _ in 0..15 {
            objects.step();
            highest = highest.max(objects.pose(0).unwrap().position.y);
        }
        assert!(highest > 1.5, "the ball did not fly up ({highest} m)");
        let steps = settle(&mut objects, 20.0);
        assert!(objects.moving().is_empty(), "still moving after {steps} steps");
        let rest = objects.pose(0).unwrap().position;
        let half = layout.interior_half;
        assert!(rest.x.abs() < half.x && rest.z.abs() < half.y && rest.y > 0.0 && rest.y < 1.0, "the ball rests at {rest}");
        // The same throw in a fresh room lands in the same place: a fixed step.
        let mut again = ObjectWorld::new(&layout);
        again.throw(0, from, Vec3::new(1.0, 3.0, -4.0), &layout);
        settle(&mut again, 20.0);
        assert!(again.pose(0).unwrap().position.distance(rest) < 0.01);
    }

    #[test]
    fn the_board_scores_by_rings() {
        let board = WardLayout::ward().dartboard;
        let at = |dy: f32, dz: f32| board.center + Vec3::new(0.0, dy, dz);
        assert_eq!(score_at(&board, at(0.0, 0.0)), Some(DartScore::Bull));
        assert_eq!(score_at(&board, at(0.05, 0.0)), Some(DartScore::Inner));
        assert_eq!(score_at(&board, at(0.0, -0.12)), Some(DartScore::Middle));
        assert_eq!(score_at(&board, at(0.14, 0.14)), Some(DartScore::Outer));
        assert_eq!(score_at(&board, at(0.3, 0.0)), None);
        assert_eq!(DartScore::Bull.points(), 50);
    }

    /// The velocity that carries a dart from `from` to `to` in `seconds` under gravity.
    fn aim(from: Vec3, to: Vec3, seconds: f32) -> Vec3 {
        (to - from - 0.5 * Vec3::new(0.0, -9.81, 0.0) * seconds * seconds) / seconds
    }

    #[test]
    fn a_dart_thrown_at_the_bull_sticks_and_scores_the_bull_and_a_wide_one_falls() {
        let layout = WardLayout::ward();
        let mut objects = ObjectWorld::new(&layout);
        let dart = (1 + BLOCKS) as u16;
        let board = layout.dartboard.center;
        let from = board + Vec3::new(-2.5, -0.2, 0.1);
        // Aimed so the tip (a radius ahead of the centre) meets the bull.
        objects.throw(dart, from, aim(from, board - Vec3::X * DART_RADIUS, 0.4), &layout);
        let hits: Vec<DartHit> = (0..60).flat_map(|_| objects.step()).collect();
        assert_eq!(hits, vec![DartHit { id: dart, score: DartScore::Bull }]);
        let stuck_at = objects.pose(dart).unwrap().position;
        for _ in 0..60 {
            objects.step();
        }
        assert!(objects.pose(dart).unwrap().position.distance(stuck_at) < 1e-4, "the dart fell out of the board");
        assert!(!objects.moving().contains(&dart));
        // Picked up and thrown well wide: no score, it drops to the floor.
        let wide = board + Vec3::new(0.0, 0.0, 0.8);
        objects.throw(dart, from, aim(from, wide, 0.4), &layout);
        let hits: Vec<DartHit> = (0..300).flat_map(|_| objects.step()).collect();
        assert!(hits.is_empty(), "a miss scored: {hits:?}");
        assert!(objects.pose(dart).unwrap().position.y < 0.2, "the missed dart did not fall");
    }

    #[test]
    fn a_throw_from_the_network_is_bounded_and_cannot_leave_the_room() {
        let layout = WardLayout::ward();
        let mut objects = ObjectWorld::new(&layout);
        assert!(!objects.throw(99, Vec3::ZERO, Vec3::X, &layout), "no such thing");
        // As hard as a patched client likes, from outside the walls, or NaN.
        objects.throw(0, Vec3::new(50.0, 9.0, 0.0), Vec3::new(1e6, 0.0, 0.0), &layout);
        objects.throw(1, Vec3::splat(f32::NAN), Vec3::new(f32::INFINITY, 0.0, 0.0), &layout);
        let mut fastest = 0.0f32;
        let mut last = objects.poses();
        for _ in 0..600 {
            objects.step();
            let now = objects.poses();
            for (a, b) in last.iter().zip(&now) {
                fastest = fastest.max(a.position.distance(b.position) / STEP_SECONDS);
                let half = layout.interior_half;
                assert!(b.position.is_finite() && b.position.x.abs() < half.x && b.position.z.abs() < half.y, "{:?} escaped to {}", b.id, b.position);
            }
            last = now;
        }
        assert!(fastest <= MAX_THROW_SPEED * 1.05 + 3.0, "something flew at {fastest} m/s");
    }

    #[test]
    fn three_darts_at_the_same_spot_all_go_in() {
        let layout = WardLayout::ward();
        let board = layout.dartboard.center;
        let mut objects = ObjectWorld::new(&layout);
        let from = board + Vec3::new(-2.4, -0.55, 0.2);
        let mut scores = Vec::new();
        for dart in (1 + BLOCKS)..(1 + BLOCKS + DARTS) {
            objects.throw(dart as u16, from, throw_velocity(from, board - Vec3::X * DART_RADIUS), &layout);
            scores.extend((0..60).flat_map(|_| objects.step()).map(|hit| hit.score));
        }
        assert_eq!(scores, vec![DartScore::Bull; DARTS], "a stuck dart knocked the next one off");
    }

    /// "Throw it there" lands there: darts aimed with `throw_velocity` at the
    /// bull from anywhere a child stands score the bull.
    #[test]
    fn a_throw_aimed_at_the_bull_scores_the_bull_from_near_and_far() {
        let layout = WardLayout::ward();
        let board = layout.dartboard.center;
        for from in
            [board + Vec3::new(-1.5, -0.5, 0.0), board + Vec3::new(-2.4, -0.55, -0.15), Vec3::new(5.5, 0.9, 1.5), board + Vec3::new(-4.0, -0.6, 1.0)]
        {
            let mut objects = ObjectWorld::new(&layout);
            let dart = (1 + BLOCKS) as u16;
            objects.throw(dart, from, throw_velocity(from, board - Vec3::X * DART_RADIUS), &layout);
            let hits: Vec<DartHit> = (0..90).flat_map(|_| objects.step()).collect();
            let tip = objects.pose(dart).unwrap().position + Vec3::X * DART_RADIUS;
            assert_eq!(
                hits.iter().map(|h| h.score).collect::<Vec<_>>(),
                vec![DartScore::Bull],
                "from {from}: the tip went in at {tip}, {:.1} cm from the middle",
                (tip - board).with_x(0.0).length() * 100.0
            );
        }
    }

    #[test]
    fn a_held_thing_follows_the_hand_then_flies_from_it() {
        let layout = WardLayout::ward();
        let mut objects = ObjectWorld::new(&layout);
        assert!(objects.is_at_rest());
        let hand = Vec3::new(0.5, 1.1, 1.0);
        for n in 0..10 {
            objects.hold(0, hand + Vec3::X * 0.02 * n as f32, &layout);
            objects.step();
        }
        assert!(!objects.is_at_rest(), "a held thing keeps the room awake");
        let held = objects.pose(0).unwrap().position;
        assert!(held.distance(hand + Vec3::X * 0.18) < 0.01, "the ball is at {held}, not in the hand");
        objects.throw(0, held, Vec3::new(0.0, 2.0, -3.0), &layout);
        objects.step();
        assert!(objects.pose(0).unwrap().position.z < held.z, "released, it flies off");
        for _ in 0..900 {
            objects.step();
        }
        assert!(objects.is_at_rest(), "and comes to rest again");
        assert_eq!(kind_of(0), Some(ObjectKind::Ball));
        assert_eq!(kind_of(4), Some(ObjectKind::Block));
        assert_eq!(kind_of(7), Some(ObjectKind::Dart));
        assert_eq!(kind_of(8), None);
        assert!(objects.kinds().enumerate().all(|(id, kind)| kind_of(id as u16) == Some(kind)));
    }
}
