//! Poses under the room's motion rules: how far a body may walk, where it
//! may stand, where head and hands may be, and who sees whom.

use std::time::Duration;

use bevy_math::Vec3;
use tsunagu_protocol::{AvatarPose, AvatarState, PeerId, PeerInfo, PoseFrame, QuantPose};
use tsunagu_sim::motion::{MAX_SPEED, MIN_BODY_GAP, bound_limb, step_body};
use tsunagu_sim::pose::{from_wire, to_wire};

use crate::{Room, limits};

/// What became of a reported pose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoseOutcome {
    /// Old, repeated, or not from a member: not used.
    Ignored,
    /// Used (perhaps bounded a little).
    Accepted,
    /// Used, but the body was put somewhere else: tell the client.
    Corrected(QuantPose),
}

/// A body bounded this far from where its client said is corrected.
pub const CORRECTION_DISTANCE: f32 = 0.1;
/// At most one correction per member this often.
pub const CORRECTION_INTERVAL: Duration = Duration::from_millis(500);

impl Room {
    /// Take a member's pose report, bounded by the motion rules: no faster than
    /// walking allows, inside the walkable space, not into someone else's body
    /// (`keep_apart`), hands and head within reach.
    /// When the body is moved, head and hands move with it. Old or repeated
    /// frames are ignored. A body put more than [`CORRECTION_DISTANCE`] from
    /// where the client said is [`PoseOutcome::Corrected`]: the client is told
    /// where it stands (at most every [`CORRECTION_INTERVAL`]).
    pub fn accept_pose(&mut self, id: PeerId, frame: &PoseFrame, now: Duration) -> PoseOutcome {
        // Where everyone else stands, before borrowing this member to change.
        let mut others = std::mem::take(&mut self.others_scratch);
        others.clear();
        others.extend(self.members.values().filter(|m| m.info.id != id).map(|m| from_wire(m.pose.body).0));
        let outcome = self.bound_pose(id, frame, now, &others);
        self.others_scratch = others;
        outcome
    }

    /// [`Room::accept_pose`] with where everyone else stands.
    fn bound_pose(&mut self, id: PeerId, frame: &PoseFrame, now: Duration, others: &[Vec3]) -> PoseOutcome {
        let Some(member) = self.members.get_mut(&id) else { return PoseOutcome::Ignored };
        if member.last_seq.is_some_and(|last| !seq_is_newer(frame.seq, last)) {
            return PoseOutcome::Ignored;
        }
        let most_poses = f64::from(limits::MAX_POSES_PER_SECOND);
        if !member.pose_allowance.take(now, most_poses, most_poses) {
            return PoseOutcome::Ignored;
        }
        // The stride budget: time since the last pose (at most MAX_STRIDE_TIME)
        // at walking's top speed, plus the slack once; what a step uses is gone.
        let dt = now.saturating_sub(member.last_pose_at).min(limits::MAX_STRIDE_TIME).as_secs_f32();
        let most = MAX_SPEED * limits::MAX_STRIDE_TIME.as_secs_f32() + limits::STRIDE_SLACK;
        member.stride = (member.stride + MAX_SPEED * dt).min(most);
        let (prev_body, placed_rot) = from_wire(member.pose.body);
        let (reported, body_rot) = from_wire(frame.pose.body);
        // Just moved by a facilitator: poses from before the client knew must not walk them back.
        let placed = member.placed_until.is_some_and(|until| now < until);
        let body = if placed {
            prev_body
        } else {
            let wanted = if reported.is_finite() { reported - prev_body } else { Vec3::ZERO };
            step_body(&self.layout, prev_body, wanted, member.stride, others.iter().copied(), MIN_BODY_GAP)
        };
        let body_rot = if placed { placed_rot } else { body_rot };
        // What the step spends is what the wire will carry (millimetres),
        // and a rounding up is owed to the next step, so rounding cannot add
        // up over many small steps.
        let stored = from_wire(to_wire(body, bevy_math::Quat::IDENTITY)).0;
        member.stride -= (stored - prev_body).with_y(0.0).length();
        let body_rot = yaw_only(body_rot);
        let shift = if reported.is_finite() { body - reported.with_y(0.0) } else { Vec3::ZERO };
        let limb = |pose: QuantPose| {
            let (p, r) = from_wire(pose);
            to_wire(bound_limb(body, p + shift), r)
        };
        member.pose = AvatarPose { body: to_wire(body, body_rot), head: limb(frame.pose.head), hands: frame.pose.hands.map(|hands| hands.map(limb)) };
        member.last_seq = Some(frame.seq);
        member.last_pose_at = now;
        let due = member.last_correction.is_none_or(|at| now.saturating_sub(at) >= CORRECTION_INTERVAL);
        if shift.length() > CORRECTION_DISTANCE && due && !placed {
            member.last_correction = Some(now);
            return PoseOutcome::Corrected(member.pose.body);
        }
        PoseOutcome::Accepted
    }

    /// What `viewer` should see: everyone else's avatar.
    pub fn visible_to(&self, viewer: PeerId) -> Vec<AvatarState> {
        self.members.values().filter(|m| m.info.id != viewer).map(|m| AvatarState { id: m.info.id, pose: m.pose }).collect()
    }

    /// Everyone else, as a newcomer's Welcome lists them.
    pub fn peers_except(&self, id: PeerId) -> Vec<PeerInfo> {
        self.members.values().filter(|m| m.info.id != id).map(|m| m.info.clone()).collect()
    }
}

/// Sequence (and tick) comparison that survives wrap-around: `seq` is newer
/// than `last` when `(seq − last) mod 2³²` is between 1 and 2³¹ − 1.
pub fn seq_is_newer(seq: u32, last: u32) -> bool {
    seq != last && seq.wrapping_sub(last) < u32::MAX / 2
}

/// A body stands upright: keep only the turn around the vertical axis.
fn yaw_only(rot: bevy_math::Quat) -> bevy_math::Quat {
    let forward = rot * Vec3::NEG_Z;
    tsunagu_sim::motion::facing(forward)
}
