//! How much a connection and a member may send: the room's rate limits, in
//! one place. The transport and the server apply them; the numbers live here.

use std::collections::HashMap;
use std::time::Duration;

use tsunagu_net::limits::{TokenBucket, TrafficLimits};
use tsunagu_protocol::EventKind;

/// Most datagrams a connection may send in one second (poses are 30 Hz).
pub const MAX_DATAGRAMS_PER_SECOND: u32 = 120;
/// Most reliable frames a connection may send in one second (all kinds
/// together): a reader sending a page's pieces while pointing and drawing
/// (12 + 10 + 12) fits, with room for a chat line.
pub const MAX_FRAMES_PER_SECOND: u32 = 40;
/// Most poses of one member the room uses in a second: the tick rate and half
/// again for network bunching. More are ignored (not an offence).
pub const MAX_POSES_PER_SECOND: u32 = 45;
/// A body may walk [`tsunagu_sim::motion::MAX_SPEED`] × time; unused time
/// counts for at most this long, so after a silence nobody jumps across the room.
pub const MAX_STRIDE_TIME: Duration = Duration::from_millis(500);
/// On top of that, this much slack for rounding and jitter, once (not per pose).
pub const STRIDE_SLACK: f32 = 0.05;
/// Both, as the transport takes them.
pub const TRAFFIC: TrafficLimits = TrafficLimits { datagrams_per_second: MAX_DATAGRAMS_PER_SECOND, frames_per_second: MAX_FRAMES_PER_SECOND };

/// A rate: so many a second on average, with a short burst allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Sustained rate.
    pub per_second: u32,
    /// Most at once after a quiet while.
    pub burst: u32,
}

/// The limit for each kind of client event.
pub fn limit(kind: EventKind) -> Limit {
    match kind {
        // Trying colours on: a few clicks in a row, then about one a second.
        EventKind::SetLook => Limit { per_second: 1, burst: 3 },
        // A wave, a clap, a nod in a row; then one every half second.
        EventKind::Gesture => Limit { per_second: 2, burst: 4 },
        // Up and down again by mistake is fine; flapping a hand is not.
        EventKind::RaiseHand => Limit { per_second: 1, burst: 3 },
        // A little shower of hearts, then one every half second.
        EventKind::Stamp => Limit { per_second: 2, burst: 5 },
        // Faster than anyone types a line, slow enough that nobody is flooded.
        EventKind::Chat => Limit { per_second: 1, burst: 3 },
        // Picking up and letting go: a quick game of catch, not a machine gun.
        EventKind::Grab | EventKind::Release => Limit { per_second: 2, burst: 4 },
        // A wish takes a while to write; two in a row is already a lot.
        EventKind::HangWish => Limit { per_second: 1, burst: 2 },
        // Staff tidying up the bamboo.
        EventKind::TakeDownWish => Limit { per_second: 1, burst: 3 },
        // A nurse acting quickly in a hard moment: several at once, never a flood.
        EventKind::Facilitate => Limit { per_second: 2, burst: 10 },
        // Telling the staff about someone: a few, never a way to flood them.
        EventKind::TellStaff => Limit { per_second: 1, burst: 3 },
        // A setting changed by hand or proposed once: never needs more.
        EventKind::LightLink => Limit { per_second: 1, burst: 3 },
        // Like a hand: on and off by mistake is fine, flapping a lamp is not.
        EventKind::Resting => Limit { per_second: 1, burst: 3 },
        // The same: a switch a child sets once in a while.
        EventKind::SpeakForMe => Limit { per_second: 1, burst: 3 },
        // Showing, turning, wiping: a reader turns a page every few seconds,
        // and may leaf through quickly to find one.
        EventKind::Screen => Limit { per_second: 4, burst: 10 },
        // A moving pointer is sent ~10 times a second; more is not seen.
        EventKind::Point => Limit { per_second: 12, burst: 12 },
        // A page's bytes, 12 KiB a piece: a client sends 12 a second (144
        // KiB/s), under the frame limit with the reader's other events.
        EventKind::PagePiece => Limit { per_second: 16, burst: 24 },
        // Drawing sends what was drawn every ~80 ms.
        EventKind::Stroke => Limit { per_second: 14, burst: 20 },
        // A few taps of 「もどす」 in a row.
        EventKind::Undo => Limit { per_second: 3, burst: 6 },
        // Voice is not a client event; its limits are in `crate::voice`.
        EventKind::Voice => Limit { per_second: 0, burst: 0 },
    }
}

/// Token buckets, one per event kind: a connection's, an installation's or
/// an address's (see `crate::people::Allowances`).
#[derive(Clone, Debug, Default)]
pub struct EventLimiter {
    buckets: HashMap<EventKind, TokenBucket>,
    last_used: Duration,
}

impl EventLimiter {
    /// Whether one more event of `kind` is allowed at `now` with `scale`
    /// times the kind's limit (1: one person's); counts it if so.
    pub fn allow(&mut self, kind: EventKind, now: Duration, scale: f64) -> bool {
        let Limit { per_second, burst } = limit(kind);
        let (per_second, burst) = (f64::from(per_second) * scale, f64::from(burst) * scale);
        self.last_used = self.last_used.max(now);
        self.buckets.entry(kind).or_insert_with(|| TokenBucket::full(burst, now)).take(now, per_second, burst)
    }

    /// When it was last asked.
    pub fn last_used(&self) -> Duration {
        self.last_used
    }
}
