//! How much a connection and a member may send: the room's rate limits, in
//! one place. The server applies them; the numbers live here.

use std::collections::HashMap;
use std::time::Duration;

use tsunagu_protocol::EventKind;

/// Most datagrams a connection may send in one second (poses are 30 Hz).
pub const MAX_DATAGRAMS_PER_SECOND: u32 = 120;
/// Most reliable frames a connection may send in one second (all kinds together).
pub const MAX_FRAMES_PER_SECOND: u32 = 20;

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
    }
}

/// Per-member token buckets, one per event kind.
#[derive(Clone, Debug, Default)]
pub struct EventLimiter {
    buckets: HashMap<EventKind, (f64, Duration)>,
}

impl EventLimiter {
    /// Whether one more event of `kind` is allowed at `now`; counts it if so.
    pub fn allow(&mut self, kind: EventKind, now: Duration) -> bool {
        let Limit { per_second, burst } = limit(kind);
        let (tokens, last) = self.buckets.entry(kind).or_insert((f64::from(burst), now));
        let elapsed = now.saturating_sub(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * f64::from(per_second)).min(f64::from(burst));
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Counts what one connection sent in the current one-second window.
#[derive(Clone, Copy, Debug, Default)]
pub struct TrafficWindow {
    started: Duration,
    datagrams: u32,
    frames: u32,
}

impl TrafficWindow {
    /// A window opening at `now`.
    pub fn new(now: Duration) -> Self {
        TrafficWindow { started: now, ..Self::default() }
    }

    fn roll(&mut self, now: Duration) {
        if now.saturating_sub(self.started) >= Duration::from_secs(1) {
            *self = TrafficWindow::new(now);
        }
    }

    /// Count a datagram; false once over [`MAX_DATAGRAMS_PER_SECOND`].
    pub fn datagram(&mut self, now: Duration) -> bool {
        self.roll(now);
        self.datagrams += 1;
        self.datagrams <= MAX_DATAGRAMS_PER_SECOND
    }

    /// Count a frame; false once over [`MAX_FRAMES_PER_SECOND`].
    pub fn frame(&mut self, now: Duration) -> bool {
        self.roll(now);
        self.frames += 1;
        self.frames <= MAX_FRAMES_PER_SECOND
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_count_then_refuses_until_the_next_second() {
        let mut window = TrafficWindow::new(Duration::ZERO);
        let at = Duration::from_millis(500);
        assert_eq!((0..MAX_DATAGRAMS_PER_SECOND + 3).filter(|_| window.datagram(at)).count() as u32, MAX_DATAGRAMS_PER_SECOND);
        assert_eq!((0..MAX_FRAMES_PER_SECOND + 3).filter(|_| window.frame(at)).count() as u32, MAX_FRAMES_PER_SECOND);
        assert!(window.datagram(Duration::from_millis(1000)), "a new second starts a new count");
    }
}
