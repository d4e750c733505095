//! Counting a connection's traffic against its limits. The numbers are the
//! room's rules (`tsunagu_room::limits`); this is the counter both the QUIC
//! transport (as data arrives, before it is queued) and the room server (for
//! any transport) apply.

use std::time::Duration;

/// How much one connection may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrafficLimits {
    /// Datagrams per second.
    pub datagrams_per_second: u32,
    /// Reliable frames per second, all streams together.
    pub frames_per_second: u32,
}

/// A token bucket: `burst` at once after a quiet while, `per_second` on
/// average. Time is any clock the caller keeps.
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn full(burst: f64, now: Duration) -> Self {
        TokenBucket { tokens: burst, last: now }
    }

    /// Take one token at `now` if there is one, refilling first.
    pub fn take(&mut self, now: Duration, per_second: f64, burst: f64) -> bool {
        self.take_n(1.0, now, per_second, burst)
    }

    /// Take `n` tokens at `now` if there are that many (bytes, say), refilling first.
    pub fn take_n(&mut self, n: f64, now: Duration, per_second: f64, burst: f64) -> bool {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(burst);
        self.last = now;
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }

    /// When it was last used.
    pub fn last_used(&self) -> Duration {
        self.last
    }
}

/// Counts what one connection sent in the current one-second window.
#[derive(Clone, Copy, Debug)]
pub struct TrafficWindow {
    limits: TrafficLimits,
    started: Duration,
    datagrams: u32,
    frames: u32,
}

impl TrafficWindow {
    /// A window opening at `now`.
    pub fn new(limits: TrafficLimits, now: Duration) -> Self {
        TrafficWindow { limits, started: now, datagrams: 0, frames: 0 }
    }

    fn roll(&mut self, now: Duration) {
        if now.saturating_sub(self.started) >= Duration::from_secs(1) {
            *self = TrafficWindow::new(self.limits, now);
        }
    }

    /// Count a datagram; false once over the limit.
    pub fn datagram(&mut self, now: Duration) -> bool {
        self.roll(now);
        self.datagrams += 1;
        self.datagrams <= self.limits.datagrams_per_second
    }

    /// Count a frame; false once over the limit.
    pub fn frame(&mut self, now: Duration) -> bool {
        self.roll(now);
        self.frames += 1;
        self.frames <= self.limits.frames_per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_count_then_refuses_until_the_next_second() {
        let limits = TrafficLimits { datagrams_per_second: 120, frames_per_second: 20 };
        let mut window = TrafficWindow::new(limits, Duration::ZERO);
        let at = Duration::from_millis(500);
        assert_eq!((0..123).filter(|_| window.datagram(at)).count(), 120);
        assert_eq!((0..23).filter(|_| window.frame(at)).count(), 20);
        assert!(window.datagram(Duration::from_millis(1000)), "a new second starts a new count");
    }
}
