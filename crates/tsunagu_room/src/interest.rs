//! Who is due what: which avatars each viewer gets in a snapshot, in what
//! order, within what byte budget. Room rules, so "nearest first, staff first"
//! and the like have one home; the server only codes and sends.

use std::collections::HashMap;

use tsunagu_protocol::limits::MAX_SNAPSHOT_AVATARS;
use tsunagu_protocol::{AvatarState, ObjectState, PeerId};
use tsunagu_sim::pose::wire_pos;

use crate::Room;

/// Pose bandwidth each client gets by default: 64 kbit/s.
pub const POSE_BUDGET_BYTES_PER_SECOND: f32 = 64_000.0 / 8.0;
/// Pose bandwidth of a client in low-bandwidth mode: 20 kbit/s, so a meetup
/// of eight fits a 256 kbit/s line with the voices.
pub const LIGHT_POSE_BUDGET_BYTES_PER_SECOND: f32 = 20_000.0 / 8.0;
/// Unused budget carries over for at most this many ticks (small bursts only).
const BUDGET_CARRY_TICKS: f32 = 3.0;

/// How urgently `viewer` should get a fresh state of an avatar `distance`
/// metres away that it last got `ticks_since` ticks ago: staleness grows it,
/// distance shrinks it, so near people move smoothly and far ones still update.
pub fn snapshot_priority(ticks_since: u32, distance: f32) -> f32 {
    ticks_since as f32 / (1.0 + distance.max(0.0))
}

/// The fewest ticks between two updates of an avatar `distance` metres from the
/// viewer (bodies' feet, on the floor plane and height alike): every tick
/// within arm's reach, every 2nd a few steps away, every 3rd across the room.
/// The interpolation delay (three ticks) covers the longest. On a light
/// link (low-bandwidth mode) every 3rd tick within 3 m and every 6th beyond
/// (10 and 5 a second at 30 Hz), so at most 10 datagrams a second, each
/// carrying everyone due: that client draws further behind.
pub fn update_interval_ticks(distance: f32, light_link: bool) -> u32 {
    match (distance, light_link) {
        (d, false) if d <= 1.5 => 1,
        (d, false) if d <= 3.0 => 2,
        (_, false) => 3,
        (d, true) if d <= 3.0 => 3,
        (_, true) => 6,
    }
}

/// The shape of the datagrams snapshots go in.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotFrame {
    /// Snapshots per second.
    pub tick_rate_hz: u8,
    /// Largest datagram, bytes.
    pub max_bytes: usize,
    /// A snapshot's own framing within it, bytes.
    pub overhead: usize,
}

/// What one snapshot carries for a viewer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Due {
    /// Shared things whose pose the viewer does not hold yet.
    pub objects: Vec<ObjectState>,
    /// Avatars, most urgent first.
    pub avatars: Vec<AvatarState>,
}

/// One viewer's snapshot budget and what it was last sent when.
#[derive(Clone, Debug, Default)]
pub struct Interest {
    /// Bytes this viewer may still be sent.
    budget: f32,
    /// The tick at which each avatar was last sent to this viewer.
    sent_at: HashMap<PeerId, u32>,
}

impl Interest {
    /// What `viewer` is due at `tick`, as much as this tick's budget allows
    /// within one `frame`: first the shared things that changed (`moved`,
    /// each with its coded size in bits: few, and a thrown ball must not
    /// stutter), then avatars, most urgent first; `bits` is the coded size of
    /// one avatar. `None` means send nothing this tick (nothing due or nothing
    /// fits: the budget grows); someone alone still gets empty snapshots,
    /// which keep their clock and acknowledgements going.
    pub fn select(
        &mut self,
        room: &Room,
        viewer: PeerId,
        tick: u32,
        frame: SnapshotFrame,
        moved: Vec<(ObjectState, usize)>,
        mut bits: impl FnMut(&AvatarState) -> usize,
    ) -> Option<Due> {
        let me = room.member(viewer)?;
        let per_second = if me.light_link { LIGHT_POSE_BUDGET_BYTES_PER_SECOND } else { POSE_BUDGET_BYTES_PER_SECOND };
        let per_tick = per_second / f32::from(frame.tick_rate_hz.max(1));
        self.budget = (self.budget + per_tick).min(per_tick * BUDGET_CARRY_TICKS);
        let here = wire_pos(me.pose.body.pos);
        let mut candidates: Vec<_> = room
            .visible_to(viewer)
            .into_iter()
            .filter_map(|state| {
                let distance = wire_pos(state.pose.body.pos).distance(here);
                let since = self.sent_at.get(&state.id).map_or(u32::MAX, |at| tick.wrapping_sub(*at));
                // Due on the interval's own ticks, so avatars due together share a
                // datagram (fewer headers); or when a full budget made one late.
                let interval = update_interval_ticks(distance, me.light_link);
                let due = tick.is_multiple_of(interval) || since > interval;
                due.then(|| (snapshot_priority(since, distance), state))
            })
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        let limit_bits = (self.budget as usize).min(frame.max_bytes).saturating_sub(frame.overhead) * 8;
        let mut used = 0usize;
        let mut objects = Vec::new();
        // The objects field's own framing (a bin header) when there are any.
        let mut object_field = 3 * 8;
        for (state, cost) in moved.into_iter().take(tsunagu_protocol::limits::MAX_SNAPSHOT_OBJECTS) {
            if used + cost + object_field > limit_bits {
                break;
            }
            used += cost + object_field;
            object_field = 0;
            objects.push(state);
        }
        let mut chosen = Vec::new();
        for (_, state) in candidates.into_iter().take(MAX_SNAPSHOT_AVATARS) {
            let cost = bits(&state);
            if used + cost > limit_bits {
                break;
            }
            used += cost;
            chosen.push(state);
        }
        if chosen.is_empty() && objects.is_empty() && room.len() > 1 {
            return None;
        }
        for state in &chosen {
            self.sent_at.insert(state.id, tick);
        }
        Some(Due { objects, avatars: chosen })
    }

    /// A snapshot of `bytes` was sent.
    pub fn spend(&mut self, bytes: usize) {
        self.budget -= bytes as f32;
    }
}
