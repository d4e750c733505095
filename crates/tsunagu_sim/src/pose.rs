//! Conversions between maths types and wire poses.

use bevy_math::{Quat, Vec3};
use tsunagu_protocol::{QuantPose, QuantVec};

/// Quantise a position and rotation for the wire.
pub fn to_wire(pos: Vec3, rot: Quat) -> QuantPose {
    QuantPose::new(pos.to_array(), rot.to_array())
}

/// A wire pose as position and rotation.
pub fn from_wire(pose: QuantPose) -> (Vec3, Quat) {
    (Vec3::from(pose.pos.to_metres()), Quat::from_array(pose.rot.to_xyzw()))
}

/// Only the position of a wire pose.
pub fn wire_pos(v: QuantVec) -> Vec3 {
    Vec3::from(v.to_metres())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_within_limits() {
        let pos = Vec3::new(1.2345, 1.1, -3.3333);
        let rot = Quat::from_rotation_y(1.0) * Quat::from_rotation_x(-0.3);
        let (p, r) = from_wire(to_wire(pos, rot));
        assert!((p - pos).abs().max_element() <= 0.0005 + 1e-6);
        assert!(r.angle_between(rot).to_degrees() < 0.1);
    }
}
