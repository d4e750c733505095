//! Pose quantisation. Positions in whole millimetres (error ≤ 0.5 mm); rotations
//! as "smallest three": the index of the largest quaternion component, which is
//! dropped and rebuilt from the unit length, and the other three scaled from
//! ±1/√2 to ±[`QUAT_SCALE`] (error ≤ 0.06°; 11 bits plus sign keep snapshot
//! deltas small). Plain `[f32; N]` keeps this crate
//! free of any maths library; the sim crate converts.

use serde::{Deserialize, Serialize};

/// Millimetres per metre.
pub const POS_SCALE: f32 = 1000.0;
/// Quantised value of a component equal to 1/√2.
pub const QUAT_SCALE: f32 = 2047.0;

/// A position in millimetres.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuantVec(pub [i32; 3]);

/// A unit quaternion, smallest-three encoded: `[largest index 0..=3, a, b, c]`
/// where a, b, c are the other components (x, y, z, w order, skipping the largest),
/// with the largest made non-negative first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuantQuat(pub u8, pub i16, pub i16, pub i16);

/// Position and rotation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuantPose {
    /// Position.
    pub pos: QuantVec,
    /// Rotation.
    pub rot: QuantQuat,
}

impl Default for QuantQuat {
    fn default() -> Self {
        // Identity: w (index 3) is the largest.
        QuantQuat(3, 0, 0, 0)
    }
}

impl QuantVec {
    /// Quantise metres. Non-finite input becomes 0 so nothing downstream sees NaN.
    pub fn from_metres(v: [f32; 3]) -> Self {
        QuantVec(v.map(|c| {
            if c.is_finite() {
                // `as` saturates, so absurd values clamp instead of wrapping.
                (c * POS_SCALE).round() as i32
            } else {
                0
            }
        }))
    }

    /// Back to metres.
    pub fn to_metres(self) -> [f32; 3] {
        self.0.map(|c| c as f32 / POS_SCALE)
    }
}

impl QuantQuat {
    /// Quantise a quaternion given as `[x, y, z, w]`. It is normalised first; a
    /// zero or non-finite quaternion becomes the identity.
    pub fn from_xyzw(q: [f32; 4]) -> Self {
        let len = q.iter().map(|c| c * c).sum::<f32>().sqrt();
        if !len.is_finite() || len < 1e-6 {
            return QuantQuat::default();
        }
        let mut q = q.map(|c| c / len);
        let largest = (0..4).max_by(|&a, &b| q[a].abs().total_cmp(&q[b].abs())).unwrap_or(3);
        if q[largest] < 0.0 {
            q = q.map(|c| -c);
        }
        let mut rest = [0i16; 3];
        for (slot, i) in rest.iter_mut().zip((0..4).filter(|&i| i != largest)) {
            let scaled = (q[i] * std::f32::consts::SQRT_2 * QUAT_SCALE).round();
            *slot = scaled.clamp(-QUAT_SCALE, QUAT_SCALE) as i16;
        }
        QuantQuat(largest as u8, rest[0], rest[1], rest[2])
    }

    /// Back to `[x, y, z, w]`, unit length. An out-of-range index (from a
    /// hostile peer) is read modulo 4 rather than trusted.
    pub fn to_xyzw(self) -> [f32; 4] {
        let largest = usize::from(self.0 % 4);
        let rest = [self.1, self.2, self.3].map(|c| f32::from(c).clamp(-QUAT_SCALE, QUAT_SCALE) / QUAT_SCALE / std::f32::consts::SQRT_2);
        let sum_sq: f32 = rest.iter().map(|c| c * c).sum();
        let mut q = [0f32; 4];
        let mut next = rest.iter();
        for (i, slot) in q.iter_mut().enumerate() {
            *slot = if i == largest { (1.0 - sum_sq).max(0.0).sqrt() } else { *next.next().unwrap_or(&0.0) };
        }
        let len = q.iter().map(|c| c * c).sum::<f32>().sqrt();
        q.map(|c| c / len)
    }
}

impl QuantPose {
    /// Quantise a position in metres and a rotation `[x, y, z, w]`.
    pub fn new(pos: [f32; 3], rot: [f32; 4]) -> Self {
        QuantPose { pos: QuantVec::from_metres(pos), rot: QuantQuat::from_xyzw(rot) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn angle_between(a: [f32; 4], b: [f32; 4]) -> f64 {
        let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(y)).sum();
        2.0 * dot.abs().min(1.0).acos()
    }

    fn unit(q: [f32; 4]) -> [f32; 4] {
        let len = q.iter().map(|c| c * c).sum::<f32>().sqrt();
        q.map(|c| c / len)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn position_error_is_at_most_a_millimetre(x in -20.0f32..20.0, y in -1.0f32..5.0, z in -20.0f32..20.0) {
            let back = QuantVec::from_metres([x, y, z]).to_metres();
            for (a, b) in [x, y, z].iter().zip(back) {
                prop_assert!((a - b).abs() <= 0.001, "{a} -> {b}");
            }
        }

        #[test]
        fn rotation_error_is_under_a_tenth_of_a_degree(
            x in -1.0f32..1.0, y in -1.0f32..1.0, z in -1.0f32..1.0, w in -1.0f32..1.0
        ) {
            prop_assume!(x * x + y * y + z * z + w * w > 1e-3);
            let q = unit([x, y, z, w]);
            let back = QuantQuat::from_xyzw(q).to_xyzw();
            let err_deg = angle_between(q, back).to_degrees();
            prop_assert!(err_deg <= 0.1, "error {err_deg}° for {q:?}");
        }

        #[test]
        fn any_quantised_rotation_decodes_to_a_unit_quaternion(i: u8, a: i16, b: i16, c: i16) {
            let q = QuantQuat(i, a, b, c).to_xyzw();
            let len: f32 = q.iter().map(|c| c * c).sum::<f32>().sqrt();
            prop_assert!((len - 1.0).abs() < 1e-3 && q.iter().all(|c| c.is_finite()));
        }
    }

    #[test]
    fn bad_floats_do_not_leak_through() {
        assert_eq!(QuantVec::from_metres([f32::NAN, f32::INFINITY, 1.0]).0, [0, 0, 1000]);
        assert_eq!(QuantQuat::from_xyzw([0.0; 4]), QuantQuat::default());
        assert_eq!(QuantQuat::from_xyzw([f32::NAN, 0.0, 0.0, 1.0]), QuantQuat::default());
    }

    #[test]
    fn identity_round_trips_exactly() {
        assert_eq!(QuantQuat::from_xyzw([0.0, 0.0, 0.0, 1.0]).to_xyzw(), [0.0, 0.0, 0.0, 1.0]);
    }
}
