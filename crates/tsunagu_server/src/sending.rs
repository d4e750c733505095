//! Sending what each client should see: a snapshot at each tick, chosen by
//! the room's interest rules and coded against what that client
//! acknowledged; and voice, passed on the moment it arrives.

use tsunagu_net::ServerLinks;
use tsunagu_protocol::delta::{MAX_BASE_AGE_TICKS, View, avatar_bits, encode_avatars, encode_objects, object_bits};
use tsunagu_protocol::{ServerDatagram, Snapshot, encode};
use tsunagu_room::interest::SnapshotFrame;

use crate::{ConnState, RoomServer, SNAPSHOT_OVERHEAD, TICK_RATE_HZ};

impl<L: ServerLinks> RoomServer<L> {
    /// Each client gets the avatars the room's interest rules say it is due,
    /// each coded against the newest view the client acknowledged.
    pub(crate) fn send_snapshots(&mut self) {
        let tick = self.tick;
        let empty = View::default();
        for (conn, c) in &mut self.conns {
            let ConnState::Member { room, id: viewer } = c.state else { continue };
            // What this connection's path takes, not what we wish it took.
            let frame = SnapshotFrame { tick_rate_hz: TICK_RATE_HZ, max_bytes: self.links.max_datagram(*conn), overhead: SNAPSHOT_OVERHEAD };
            if frame.max_bytes <= SNAPSHOT_OVERHEAD {
                continue;
            }
            let (base_ago, base) = match c.acked.filter(|a| tick.wrapping_sub(*a) <= MAX_BASE_AGE_TICKS) {
                Some(acked) => match c.views.get(acked) {
                    Some(view) => (tick.wrapping_sub(acked), view),
                    None => (0, &empty),
                },
                None => (0, &empty),
            };
            // Things the client does not hold as they are now; at rest, none.
            let moved = self.rooms[room]
                .play()
                .objects()
                .iter()
                .filter(|state| base.object(state.id) != Some(&state.pose))
                .map(|state| (*state, object_bits(base, tick, state) as usize))
                .collect();
            let Some(due) = c.interest.select(&self.rooms[room], viewer, tick, frame, moved, |state| avatar_bits(base, tick, state) as usize) else {
                continue;
            };
            let view = base.then_with(tick, &due.avatars, &due.objects);
            let snapshot = Snapshot {
                tick,
                base_ago: u8::try_from(base_ago).unwrap_or(0),
                count: u8::try_from(due.avatars.len()).unwrap_or(u8::MAX),
                poses: encode_avatars(base, tick, &due.avatars),
                objects: encode_objects(base, tick, &due.objects),
            };
            match encode(&ServerDatagram::Snapshot(snapshot), frame.max_bytes) {
                Ok(bytes) => {
                    c.interest.spend(bytes.len());
                    c.views.record(tick, view);
                    self.links.send_datagram(*conn, bytes);
                }
                Err(_) => tracing::error!("a snapshot did not fit a datagram"),
            }
        }
    }
}
