//! The room's shared things as physics: a soft ball and building blocks that
//! fall, bounce, roll and come to rest against the same walls and furniture
//! the avatars walk around ([`WardLayout`]). Rapier, stepped with a fixed
//! step so the same throws give the same flights. Resting things sleep and
//! cost nothing; [`ObjectWorld::moving`] says which are awake.
//!
//! The first part of shared play (issue 18): the room server will own one of
//! these per room and send the poses in its snapshots; holding and throwing
//! arrive as client events. Not yet wired to the server or the wire.

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
/// The fastest a thing may be thrown, m/s: a child's good throw, never a
/// missile (a client's velocity is bounded to this).
pub const MAX_THROW_SPEED: f32 = 8.0;
/// The physics step: the server's tick.
pub const STEP_SECONDS: f32 = 1.0 / 30.0;

/// The shared things of one room and the room's solid pieces.
pub struct ObjectWorld {
    world: PhysicsWorld,
    bodies: Vec<(ObjectKind, RigidBodyHandle)>,
}

impl ObjectWorld {
    /// The ward's things in their places: the ball on the play rug, the
    /// blocks on the low table.
    pub fn new(layout: &WardLayout) -> ObjectWorld {
        let mut world = PhysicsWorld::default();
        world.integration_parameters.dt = STEP_SECONDS;
        let half = layout.interior_half;
        // The floor and the ceiling, then every wall and piece of furniture.
        world.insert(RigidBodyBuilder::fixed().translation(Vector::new(0.0, -0.5, 0.0)), ColliderBuilder::cuboid(half.x + 1.0, 0.5, half.y + 1.0).friction(0.8));
        world.insert(RigidBodyBuilder::fixed().translation(Vector::new(0.0, layout.ceiling + 0.5, 0.0)), ColliderBuilder::cuboid(half.x + 1.0, 0.5, half.y + 1.0));
        for piece in &layout.pieces {
            let (c, h) = (piece.center, piece.half_extents);
            world.insert(RigidBodyBuilder::fixed().translation(Vector::new(c.x, c.y, c.z)), ColliderBuilder::cuboid(h.x, h.y, h.z).friction(0.7).restitution(0.2));
        }
        let mut bodies = Vec::new();
        let rug = layout.rug.0;
        let ball = RigidBodyBuilder::dynamic().translation(Vector::new(rug.x, BALL_RADIUS, rug.z + 0.8)).linear_damping(0.3).angular_damping(0.6).ccd_enabled(true);
        let (handle, _) = world.insert(ball, ColliderBuilder::ball(BALL_RADIUS).density(100.0).restitution(0.6).friction(0.6));
        bodies.push((ObjectKind::Ball, handle));
        let table = layout.furniture().find(|p| p.kind == crate::PieceKind::LowTable).map_or(rug + Vec3::Y * 0.4, |p| p.center + Vec3::Y * p.half_extents.y);
        for n in 0..BLOCKS {
            let at = table + Vec3::new(-0.3 + 0.2 * n as f32, BLOCK_HALF, 0.0);
            let block = RigidBodyBuilder::dynamic().translation(Vector::new(at.x, at.y, at.z)).ccd_enabled(true);
            let (handle, _) = world.insert(block, ColliderBuilder::cuboid(BLOCK_HALF, BLOCK_HALF, BLOCK_HALF).density(500.0).restitution(0.1).friction(0.8));
            bodies.push((ObjectKind::Block, handle));
        }
        let mut objects = ObjectWorld { world, bodies };
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

    /// One physics step of [`STEP_SECONDS`].
    pub fn step(&mut self) {
        self.world.step();
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

    /// The things that are moving (awake); resting ones are asleep and cost
    /// neither time nor bytes.
    pub fn moving(&self) -> Vec<u16> {
        self.bodies.iter().enumerate().filter(|(_, (_, h))| !self.world.bodies[*h].is_sleeping()).map(|(id, _)| id as u16).collect()
    }

    /// Throw thing `id` from `from` with `velocity`, bounded to
    /// [`MAX_THROW_SPEED`] and to the inside of the room (nonsense from the
    /// network neither explodes nor escapes). Returns whether `id` exists.
    pub fn throw(&mut self, id: u16, from: Vec3, velocity: Vec3, layout: &WardLayout) -> bool {
        let Some((kind, handle)) = self.bodies.get(usize::from(id)).copied() else { return false };
        let size = if kind == ObjectKind::Ball { BALL_RADIUS } else { BLOCK_HALF * 1.8 };
        let inside = layout.interior_half - bevy_math::Vec2::splat(size);
        let finite = |v: Vec3| if v.is_finite() { v } else { Vec3::ZERO };
        let from = finite(from);
        let from = Vec3::new(from.x.clamp(-inside.x, inside.x), from.y.clamp(size, layout.ceiling - size), from.z.clamp(-inside.y, inside.y));
        let velocity = finite(velocity).clamp_length_max(MAX_THROW_SPEED);
        let body = &mut self.world.bodies[handle];
        body.set_translation(Vector::new(from.x, from.y, from.z), true);
        body.set_linvel(Vector::new(velocity.x, velocity.y, velocity.z), true);
        true
    }
}

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
        assert_eq!(poses.len(), 1 + BLOCKS);
        assert!((poses[0].position.y - BALL_RADIUS).abs() < 0.01, "ball at {}", poses[0].position);
        for block in &poses[1..] {
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
}
