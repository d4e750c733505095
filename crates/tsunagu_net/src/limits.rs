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

/// Counts what one connection sends against its limits: a token bucket per
/// kind, holding one second's worth, so a burst at the end of one second and
/// another at the start of the next cannot pass twice the limit (as fixed
/// one-second windows let them).
#[derive(Clone, Copy, Debug)]
pub struct TrafficAllowance {
    limits: TrafficLimits,
    datagrams: TokenBucket,
    frames: TokenBucket,
}

impl TrafficAllowance {
    /// A full allowance at `now`.
    pub fn new(limits: TrafficLimits, now: Duration) -> Self {
        TrafficAllowance {
            limits,
            datagrams: TokenBucket::full(f64::from(limits.datagrams_per_second), now),
            frames: TokenBucket::full(f64::from(limits.frames_per_second), now),
        }
    }

    /// Count a datagram; false once over the limit.
    pub fn datagram(&mut self, now: Duration) -> bool {
        let rate = f64::from(self.limits.datagrams_per_second);
        self.datagrams.take(now, rate, rate)
    }

    /// Count a frame; false once over the limit.
    pub fn frame(&mut self, now: Duration) -> bool {
        let rate = f64::from(self.limits.frames_per_second);
        self.frames.take(now, rate, rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_gets_a_seconds_worth_at_once_then_the_rate() {
        let limits = TrafficLimits { datagrams_per_second: 120, frames_per_second: 20 };
        let mut window = TrafficAllowance::new(limits, Duration::ZERO);
        let at = Duration::from_millis(500);
        assert_eq!((0..123).filter(|_| window.datagram(at)).count(), 120);
        assert_eq!((0..23).filter(|_| window.frame(at)).count(), 20);
        // A fixed window would allow another 120 at 1.001 s: twice the limit
        // within a few milliseconds. The bucket has refilled only what the
        // time since earns.
        let edge = Duration::from_millis(1001);
        assert_eq!((0..123).filter(|_| window.datagram(edge)).count(), 60, "501 ms earn 60 datagrams");
        assert!(window.frame(Duration::from_millis(1600)), "the rate goes on");
    }
}
