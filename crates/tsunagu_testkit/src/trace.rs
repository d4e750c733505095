//! Recorded-like VR motion for tests and benchmarks: people who mostly stand and
//! talk, sway, look around (now and then turning quickly to someone), gesture
//! with their hands in bursts, and sometimes walk across the room with a gentle
//! start and stop. Never constant velocity. Deterministic: the same person at
//! the same time always gives the same pose, so runs can be compared.

use bevy_math::{Quat, Vec3};
use tsunagu_protocol::{AvatarPose, QuantPose};
use tsunagu_sim::motion::EYE_HEIGHT;
use tsunagu_sim::pose::to_wire;

/// A repeatable pseudo-random number in [0, 1) for (`seed`, `index`).
fn unit(seed: u64, index: u64) -> f32 {
    // splitmix64: good mixing, no state, no dependency.
    let mut z = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(index.wrapping_mul(0xbf58_476d_1ce4_e5b9));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 40) as f32 / (1u64 << 24) as f32
}

/// Smooth wandering in about [-1, 1]: three sines of unrelated frequencies.
fn wander(seed: u64, channel: u64, t: f32, speed: f32) -> f32 {
    (0..3u64)
        .map(|k| {
            let freq = speed * (0.3 + 1.7 * unit(seed, channel * 16 + k * 2));
            let phase = std::f32::consts::TAU * unit(seed, channel * 16 + k * 2 + 1);
            (t * freq + phase).sin() / 3.0
        })
        .sum()
}

/// Ease from 0 to 1 and back to rest: smooth start and stop.
fn ease(x: f32) -> f32 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// One person's motion through time.
#[derive(Clone, Copy, Debug)]
pub struct Person {
    seed: u64,
    home: Vec3,
}

/// Length of one "episode" (a walk or a burst of gestures happens in some).
const EPISODE_SECONDS: f32 = 6.0;

impl Person {
    /// Person `index` of a group standing around the room's middle.
    pub fn new(index: usize) -> Person {
        let seed = index as u64 + 1;
        let angle = index as f32 * 2.4;
        let radius = 1.0 + 2.5 * unit(seed, 900);
        Person { seed, home: Vec3::new(angle.cos() * radius, 0.0, angle.sin() * radius * 0.7) }
    }

    /// Where the body stands at episode `n`: home, or a spot nearby after a walk.
    fn spot(&self, n: u64) -> Vec3 {
        if n == 0 || unit(self.seed, 1000 + n) < 0.6 {
            return if n == 0 { self.home } else { self.spot(n - 1) };
        }
        let offset = Vec3::new(unit(self.seed, 2000 + n) - 0.5, 0.0, unit(self.seed, 3000 + n) - 0.5) * 3.0;
        (self.home + offset).clamp(Vec3::new(-5.0, 0.0, -3.5), Vec3::new(5.0, 0.0, 3.5))
    }

    /// The pose at `t` seconds, with hands (VR).
    pub fn pose(&self, t: f32) -> AvatarPose {
        let episode = (t / EPISODE_SECONDS).max(0.0) as u64;
        let within = t / EPISODE_SECONDS - episode as f32;
        // Walks take the first 40% of an episode, easing in and out.
        let (from, to) = (if episode == 0 { self.home } else { self.spot(episode - 1) }, self.spot(episode));
        let walked = ease(within / 0.4);
        let body = from.lerp(to, walked) + Vec3::new(wander(self.seed, 1, t, 0.3), 0.0, wander(self.seed, 2, t, 0.3)) * 0.05;
        let walking = (to - from).length() > 0.05 && within < 0.4;
        let body_yaw = if walking { f32::atan2(-(to - from).x, -(to - from).z) } else { wander(self.seed, 3, t, 0.05) * 1.5 };
        // Looking around, plus now and then a quick turn towards someone.
        let glance = if unit(self.seed, 4000 + episode) < 0.5 { ease((within - 0.5) * 4.0) - ease((within - 0.8) * 4.0) } else { 0.0 };
        let head_yaw = body_yaw + wander(self.seed, 4, t, 0.6) * 0.5 + glance * 1.2 * (unit(self.seed, 5000 + episode) - 0.5).signum();
        let head_pitch = wander(self.seed, 5, t, 0.5) * 0.25;
        let head_rot = Quat::from_rotation_y(head_yaw) * Quat::from_rotation_x(head_pitch);
        let sway = Vec3::new(wander(self.seed, 6, t, 0.8), wander(self.seed, 7, t, 0.4) * 0.3, wander(self.seed, 8, t, 0.8)) * 0.04;
        let head = body + Vec3::Y * EYE_HEIGHT + sway;
        let body_rot = Quat::from_rotation_y(body_yaw);
        // Hands hang and drift; in some episodes one waves or both gesture while talking.
        let gesturing = unit(self.seed, 6000 + episode) < 0.45 && within > 0.45;
        let hand = |side: f32, channel: u64| -> QuantPose {
            let rest = Vec3::new(side * 0.25, 0.75, -0.1);
            let drift =
                Vec3::new(wander(self.seed, channel, t, 0.7), wander(self.seed, channel + 1, t, 0.7), wander(self.seed, channel + 2, t, 0.7)) * 0.05;
            let gesture = if gesturing {
                let rate = 2.0 + 2.0 * unit(self.seed, channel * 7 + episode);
                Vec3::new((t * rate).sin() * 0.12, 0.25 + (t * rate * 1.3).cos() * 0.1, -0.2)
            } else {
                Vec3::ZERO
            };
            let pos = body + body_rot * (rest + drift + gesture);
            let rot = body_rot
                * Quat::from_rotation_x(-0.6 + wander(self.seed, channel + 3, t, 1.0) * 0.6)
                * Quat::from_rotation_z(wander(self.seed, channel + 4, t, 1.0) * 0.5);
            to_wire(pos, rot)
        };
        AvatarPose { body: to_wire(body, body_rot), head: to_wire(head, head_rot), hands: Some([hand(-1.0, 10), hand(1.0, 20)]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsunagu_sim::pose::wire_pos;

    #[test]
    fn people_move_without_constant_velocity_and_stay_in_reach() {
        let person = Person::new(3);
        let dt = 1.0 / 30.0;
        let speeds: Vec<f32> = (0..900)
            .map(|i| {
                let (a, b) = (person.pose(i as f32 * dt), person.pose((i + 1) as f32 * dt));
                let hands = |p: AvatarPose| p.hands.map(|h| wire_pos(h[1].pos)).unwrap_or_default();
                (hands(b) - hands(a)).length() / dt
            })
            .collect();
        let mean = speeds.iter().sum::<f32>() / speeds.len() as f32;
        let spread = speeds.iter().map(|s| (s - mean).abs()).sum::<f32>() / speeds.len() as f32;
        assert!(mean > 0.05 && mean < 2.0, "mean hand speed {mean} m/s");
        assert!(spread > mean * 0.2, "hand speed barely changes: {spread} around {mean}");
        for i in 0..900 {
            let pose = person.pose(i as f32 * dt);
            let body = wire_pos(pose.body.pos);
            assert!((wire_pos(pose.head.pos) - body).length() < 1.6);
        }
        assert_eq!(person.pose(12.3), Person::new(3).pose(12.3), "not repeatable");
    }
}
