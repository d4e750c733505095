//! How avatars may move. The client walks by these rules; the server enforces
//! them on every pose it receives, so nobody can teleport or run through walls.

use bevy_math::{Quat, Vec3};

use crate::layout::WardLayout;

/// Radius of an avatar's body for collisions.
pub const AVATAR_RADIUS: f32 = 0.3;
/// Total height of the stylised avatar.
pub const AVATAR_HEIGHT: f32 = 1.3;
/// Eye height above the floor in first person.
pub const EYE_HEIGHT: f32 = 1.15;
/// Walking speed, metres per second: an easy stroll, no reflexes needed.
pub const WALK_SPEED: f32 = 1.4;
/// The fastest the server believes anyone walks (with slack for jitter).
pub const MAX_SPEED: f32 = 2.5;
/// Angle of one snap turn (Q/E), comfortable in VR too.
pub const SNAP_TURN_DEGREES: f32 = 30.0;
/// Heads and hands must stay this close to the body (metres).
pub const MAX_REACH: f32 = 1.6;

/// One step of click-to-walk: move from `from` toward `target` at walking speed
/// for `dt` seconds. Returns the new position and whether it arrived.
pub fn step_toward(from: Vec3, target: Vec3, dt: f32) -> (Vec3, bool) {
    let to_target = (target - from).with_y(0.0);
    let distance = to_target.length();
    let step = WALK_SPEED * dt.max(0.0);
    if distance <= step { (target.with_y(from.y), true) } else { (from + to_target / distance * step, false) }
}

/// Yaw-only rotation facing along `direction` on the floor; identity when there is none.
pub fn facing(direction: Vec3) -> Quat {
    let flat = direction.with_y(0.0);
    if flat.length_squared() < 1e-8 {
        return Quat::IDENTITY;
    }
    // Avatars look along −Z at yaw 0.
    Quat::from_rotation_y(f32::atan2(-flat.x, -flat.z))
}

/// Yaw after `turns` snap turns (positive = left, as Q).
pub fn snap_turn(yaw: f32, turns: i32) -> f32 {
    let turned = yaw + (turns as f32) * SNAP_TURN_DEGREES.to_radians();
    // Keep the angle small so it never loses precision over a long meetup.
    (turned + std::f32::consts::PI).rem_euclid(std::f32::consts::TAU) - std::f32::consts::PI
}

/// The server's bound on a body moving from `prev` toward `next`: at most
/// `max_step` metres across the floor (the room's stride budget), inside the
/// walkable space.
pub fn bound_body_step(layout: &WardLayout, prev: Vec3, next: Vec3, max_step: f32) -> Vec3 {
    let next = if next.is_finite() { next } else { prev };
    let max_step = max_step.max(0.0);
    let delta = (next - prev).with_y(0.0);
    let allowed = if delta.length() > max_step { prev + delta.normalize_or_zero() * max_step } else { next };
    layout.clamp_walkable(allowed, AVATAR_RADIUS)
}

/// The closest two bodies' centres may come, across the floor (m). Two
/// avatars touch at twice [`AVATAR_RADIUS`]; the room allows a little closer,
/// since each client walks around the others where it last saw them.
pub const MIN_BODY_GAP: f32 = 0.45;

/// The rule that bodies do not walk into each other: a step from `prev` to
/// `next` that ends closer than `gap` to one of `others` *and* closer than it
/// was is pushed back out (to the gap, or to where it was if that was already
/// closer), which slides a step that comes in at an angle around the person.
/// Stepping away or sideways is always allowed, so someone placed close by
/// can always leave. The server uses [`MIN_BODY_GAP`]; a client walks around
/// people at twice [`AVATAR_RADIUS`].
pub fn keep_apart(layout: &WardLayout, prev: Vec3, next: Vec3, others: impl IntoIterator<Item = Vec3>, gap: f32) -> Vec3 {
    let mut at = next;
    for other in others {
        let away = (at - other).with_y(0.0);
        let now = away.length();
        let before = (prev - other).with_y(0.0).length();
        if now >= gap || now >= before {
            continue;
        }
        let direction = if now > 1e-4 { away / now } else { (prev - other).with_y(0.0).normalize_or(Vec3::X) };
        at = (other + direction * gap.min(before)).with_y(at.y);
    }
    layout.clamp_walkable(at, AVATAR_RADIUS)
}

/// The one walking model, for every body in the room: from `feet`, a step
/// of `wanted` goes at most `max_step` across the floor, stays inside the
/// walkable space, and slides around `others` rather than into them (no
/// closer than `gap`). The desktop's keys and clicks, the headset's stick
/// and the server's bound on what clients report all move bodies with it;
/// they differ only in the numbers (the server allows [`MIN_BODY_GAP`] and
/// a stride budget, a client walks around people at twice
/// [`AVATAR_RADIUS`]).
pub fn step_body(layout: &WardLayout, feet: Vec3, wanted: Vec3, max_step: f32, others: impl IntoIterator<Item = Vec3>, gap: f32) -> Vec3 {
    let wanted = if wanted.is_finite() { wanted } else { Vec3::ZERO };
    keep_apart(layout, feet, bound_body_step(layout, feet, feet + wanted, max_step), others, gap)
}

/// The widest a newcomer's view must open, either side of straight ahead,
/// to take in everyone already there (radians): well inside a third-person
/// view on a 16:9 window, so the people are the first thing seen.
pub const ARRIVAL_VIEW_HALF_ANGLE: f32 = 0.6;

/// The closest a newcomer is put to anyone already there (metres): near
/// enough to greet, not in anyone's space.
pub const ARRIVAL_GAP: f32 = 1.3;

/// Where a newcomer arrives, and which way they face: with nobody there,
/// `fallback` facing the screen; otherwise a free spot a few steps from the
/// people already there, facing them, chosen so that everyone is within
/// [`ARRIVAL_VIEW_HALF_ANGLE`] of straight ahead (the people see them
/// arrive, and they see the people first). Among such spots the one nearest
/// `fallback` (the room's entrance side) wins; if none fits them all, the
/// one that fits them best.
pub fn arrival(layout: &WardLayout, others: &[Vec3], fallback: Vec3) -> (Vec3, Quat) {
    let others: Vec<Vec3> = others.iter().filter(|o| o.is_finite()).map(|o| o.with_y(0.0)).collect();
    if others.is_empty() {
        return (fallback, Quat::IDENTITY);
    }
    let centre = others.iter().copied().sum::<Vec3>() / others.len() as f32;
    let spread = others.iter().map(|o| o.distance(centre)).fold(0.0, f32::max);
    let widest = |at: Vec3| {
        let ahead = (centre - at).normalize_or_zero();
        others.iter().map(|o| ahead.angle_between((*o - at).normalize_or(ahead))).fold(0.0, f32::max)
    };
    let mut best: Option<(bool, f32, f32, Vec3)> = None;
    // Rings further out see a wider group whole; 10° steps around each.
    for ring in 0..6 {
        let radius = ARRIVAL_GAP + spread + ring as f32 * 0.6;
        for step in 0..36 {
            let angle = step as f32 * std::f32::consts::TAU / 36.0;
            let at = layout.clamp_walkable(centre + Vec3::new(angle.cos(), 0.0, angle.sin()) * radius, AVATAR_RADIUS);
            if others.iter().any(|o| o.distance(at) < ARRIVAL_GAP) || at.distance(centre) < 1e-3 {
                continue;
            }
            let view = widest(at);
            let candidate = (view <= ARRIVAL_VIEW_HALF_ANGLE, view, at.distance(fallback), at);
            let better = match &best {
                None => true,
                // Everyone in view first; then nearest the entrance; else the narrowest view.
                Some((fits, narrowest, nearest, _)) => match (candidate.0, *fits) {
                    (true, false) => true,
                    (false, true) => false,
                    (true, true) => candidate.2 < *nearest,
                    (false, false) => candidate.1 < *narrowest,
                },
            };
            if better {
                best = Some(candidate);
            }
        }
    }
    match best {
        Some((_, _, _, at)) => (at, facing(centre - at)),
        None => (fallback, facing(centre - fallback)),
    }
}

/// Keep a head or hand within reach of its body; non-finite values go to the body.
pub fn bound_limb(body: Vec3, limb: Vec3) -> Vec3 {
    if !limb.is_finite() {
        return body + Vec3::Y * EYE_HEIGHT;
    }
    let offset = limb - body;
    if offset.length() > MAX_REACH { body + offset.normalize_or_zero() * MAX_REACH } else { limb }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_do_not_walk_into_each_other_but_may_always_step_away() {
        let layout = WardLayout::ward();
        let other = Vec3::new(1.0, 0.0, 0.0);
        // Walking straight at someone stops at the gap.
        let mut at = Vec3::new(-1.0, 0.0, 0.0);
        for _ in 0..60 {
            let (next, _) = step_toward(at, other, 1.0 / 30.0);
            at = keep_apart(&layout, at, next, [other], MIN_BODY_GAP);
        }
        assert!((at.distance(other) - MIN_BODY_GAP).abs() < 1e-3, "stopped {} m away", at.distance(other));
        // Placed closer than the gap (a facilitator gathered them): never pushed,
        // never closer, and free to leave.
        let close = other + Vec3::new(-0.2, 0.0, 0.0);
        assert_eq!(keep_apart(&layout, close, close, [other], MIN_BODY_GAP), close);
        let closer = keep_apart(&layout, close, other + Vec3::new(-0.1, 0.0, 0.0), [other], MIN_BODY_GAP);
        assert!(closer.distance(other) >= 0.2 - 1e-4);
        let away = other + Vec3::new(-0.3, 0.0, 0.05);
        assert_eq!(keep_apart(&layout, close, away, [other], MIN_BODY_GAP), away);
        // Passing by someone is allowed: only the part of a step that goes in is refused.
        let beside = keep_apart(&layout, Vec3::new(0.0, 0.0, 0.6), Vec3::new(0.05, 0.0, 0.58), [other], MIN_BODY_GAP);
        assert_eq!(beside, Vec3::new(0.05, 0.0, 0.58));
    }

    #[test]
    fn walking_arrives_and_never_overshoots() {
        let target = Vec3::new(2.0, 0.0, -1.0);
        let mut pos = Vec3::ZERO;
        let mut steps = 0;
        loop {
            let (next, arrived) = step_toward(pos, target, 1.0 / 60.0);
            assert!((next - pos).length() <= WALK_SPEED / 60.0 + 1e-5);
            pos = next;
            steps += 1;
            if arrived {
                break;
            }
            assert!(steps < 10_000);
        }
        assert!((pos - target).length() < 1e-4);
    }

    #[test]
    fn a_newcomer_arrives_facing_everyone_already_there() {
        let layout = WardLayout::ward();
        let fallback = layout.spawn_point(3);
        // Nobody there: the entrance, facing the screen.
        assert_eq!(arrival(&layout, &[], fallback), (fallback, Quat::IDENTITY));
        // Three friends standing where the first three arrivals stood, and
        // groups elsewhere in the room: each seen whole, from a free spot.
        for group in [
            vec![layout.spawn_point(0), layout.spawn_point(1), layout.spawn_point(2)],
            vec![Vec3::new(3.0, 0.0, -1.0), Vec3::new(3.8, 0.0, -1.4), Vec3::new(2.6, 0.0, -1.9)],
            vec![Vec3::new(-4.0, 0.0, 2.0)],
        ] {
            let (at, turn) = arrival(&layout, &group, fallback);
            let ahead = turn * Vec3::NEG_Z;
            for friend in &group {
                let angle = ahead.angle_between((*friend - at).with_y(0.0).normalize());
                assert!(angle <= ARRIVAL_VIEW_HALF_ANGLE + 1e-3, "{friend} is {angle:.2} rad off to the side from {at}");
                assert!(friend.distance(at) >= ARRIVAL_GAP - 1e-3, "put {:.2} m from {friend}", friend.distance(at));
            }
            assert_eq!(layout.clamp_walkable(at, AVATAR_RADIUS), at, "{at} is not a place to stand");
        }
    }

    #[test]
    fn facing_matches_the_direction() {
        let q = facing(Vec3::new(1.0, 0.0, 0.0));
        assert!((q * Vec3::NEG_Z - Vec3::X).length() < 1e-5);
        assert_eq!(facing(Vec3::ZERO), Quat::IDENTITY);
    }

    #[test]
    fn twelve_snap_turns_come_back_around() {
        let mut yaw = 0.3;
        for _ in 0..12 {
            yaw = snap_turn(yaw, 1);
        }
        assert!((yaw - 0.3).abs() < 1e-4);
    }

    #[test]
    fn the_server_refuses_teleports_and_walls() {
        let ward = WardLayout::ward();
        let prev = Vec3::new(0.0, 0.0, 2.0);
        let jumped = bound_body_step(&ward, prev, Vec3::new(0.0, 0.0, -4.0), 0.1);
        assert!((jumped - prev).length() <= 0.1 + 1e-5);
        let through_wall = bound_body_step(&ward, Vec3::new(6.5, 0.0, 4.5), Vec3::new(6.6, 0.0, 4.6), 1.0);
        assert!(through_wall.x <= ward.interior_half.x - AVATAR_RADIUS);
        assert_eq!(bound_body_step(&ward, prev, Vec3::NAN, 0.1), prev);
        assert_eq!(bound_body_step(&ward, prev, prev + Vec3::X, -1.0), prev, "a negative budget is none");
        assert!((bound_limb(prev, prev + Vec3::Y * 50.0) - prev).length() <= MAX_REACH + 1e-4);
    }
}
