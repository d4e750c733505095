//! Smooth remote avatars: snapshots arrive at the server's tick rate with jitter
//! and loss; each remote avatar is drawn a short delay behind the newest
//! snapshot, interpolating between the two samples around that time, and
//! extrapolating briefly when samples stop. The delay adapts to the measured
//! jitter: about 100 ms on a calm network, more on a jittery ward Wi-Fi.

use std::collections::VecDeque;

use bevy_math::{Quat, Vec3};

/// How far behind the newest snapshot remote avatars are drawn on a calm
/// network, seconds: three ticks at 30 Hz.
pub const INTERP_DELAY: f64 = 0.1;
/// The most the delay grows on a jittery network, seconds.
pub const MAX_INTERP_DELAY: f64 = 0.3;
/// The delay on a light link (low-bandwidth mode), where far avatars come
/// every 6th tick (200 ms): seconds.
pub const LIGHT_INTERP_DELAY: f64 = 0.25;
/// Longest a remote avatar keeps moving on its last velocity when samples stop.
pub const MAX_EXTRAPOLATION: f64 = 0.2;
const MAX_SAMPLES: usize = 32;

/// A pose sample at a server time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Server time in seconds (tick / tick rate).
    pub time: f64,
    /// Position.
    pub pos: Vec3,
    /// Rotation.
    pub rot: Quat,
}

/// The samples of one remote avatar.
#[derive(Clone, Debug, Default)]
pub struct Track {
    samples: VecDeque<Sample>,
}

impl Track {
    /// Add a sample; out-of-order or repeated times are ignored.
    pub fn push(&mut self, sample: Sample) {
        if self.samples.back().is_some_and(|last| sample.time <= last.time) {
            return;
        }
        self.samples.push_back(sample);
        while self.samples.len() > MAX_SAMPLES {
            self.samples.pop_front();
        }
    }

    /// Position and rotation at server time `t`.
    pub fn sample(&self, t: f64) -> Option<(Vec3, Quat)> {
        self.sample_ahead(t, MAX_EXTRAPOLATION)
    }

    /// Position and rotation at server time `t`, going on past the newest
    /// sample for at most `most_ahead` seconds. Things the server sends only
    /// when they move use 0: no news means they lie still.
    pub fn sample_ahead(&self, t: f64, most_ahead: f64) -> Option<(Vec3, Quat)> {
        let first = self.samples.front()?;
        if t <= first.time || self.samples.len() == 1 {
            return Some((first.pos, first.rot));
        }
        let after = self.samples.iter().position(|s| s.time >= t);
        match after {
            Some(i) => {
                let (a, b) = (self.samples[i - 1], self.samples[i]);
                let f = ((t - a.time) / (b.time - a.time)) as f32;
                Some((a.pos.lerp(b.pos, f), a.rot.slerp(b.rot, f)))
            }
            None => {
                // Past the newest sample: keep going on the last velocity, briefly.
                let n = self.samples.len();
                let (a, b) = (self.samples[n - 2], self.samples[n - 1]);
                let ahead = (t - b.time).min(most_ahead);
                let velocity = (b.pos - a.pos) / (b.time - a.time) as f32;
                Some((b.pos + velocity * ahead as f32, b.rot))
            }
        }
    }
}

/// Maps local time to the server time at which remote avatars are drawn.
#[derive(Clone, Debug, Default)]
pub struct Playout {
    /// Server time minus local time, smoothed.
    offset: Option<f64>,
    /// Mean deviation of arrivals from that offset (seconds): the jitter.
    jitter: f64,
    /// Low-bandwidth mode: samples come further apart, so draw further behind.
    light_link: bool,
}

impl Playout {
    /// Note a snapshot stamped `server_time` arriving at `local_time`.
    pub fn on_snapshot(&mut self, server_time: f64, local_time: f64) {
        let observed = server_time - local_time;
        if let Some(current) = self.offset {
            self.jitter += ((observed - current).abs() - self.jitter) * 0.1;
        }
        self.offset = Some(match self.offset {
            // A late packet says little; an early one means the clock moved: follow fast.
            Some(current) if observed < current => current + (observed - current) * 0.05,
            Some(current) => current + (observed - current) * 0.5,
            None => observed,
        });
    }

    /// Draw further behind (low-bandwidth mode), or as usual.
    pub fn set_light_link(&mut self, light_link: bool) {
        self.light_link = light_link;
    }

    /// How far behind the newest snapshot avatars are drawn now.
    pub fn delay(&self) -> f64 {
        let (least, most) = if self.light_link {
            (LIGHT_INTERP_DELAY, LIGHT_INTERP_DELAY + MAX_INTERP_DELAY - INTERP_DELAY)
        } else {
            (INTERP_DELAY, MAX_INTERP_DELAY)
        };
        (least + 2.0 * self.jitter).min(most)
    }

    /// The server time to draw at local time `local_time`.
    pub fn render_time(&self, local_time: f64) -> Option<f64> {
        self.offset.map(|o| local_time + o - self.delay())
    }
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;

    fn at(time: f64, x: f32) -> Sample {
        Sample { time, pos: Vec3::new(x, 0.0, 0.0), rot: Quat::IDENTITY }
    }

    #[test]
    fn interpolates_between_samples() {
        let mut track = Track::default();
        track.push(at(0.0, 0.0));
        track.push(at(0.1, 1.0));
        let (p, _) = track.sample(0.05).unwrap();
        assert!((p.x - 0.5).abs() < 1e-5);
        track.push(at(0.05, 9.0));
        assert_eq!(track.sample(0.1).map(|(p, _)| p.x), Some(1.0), "an old sample was taken");
    }

    #[test]
    fn extrapolates_briefly_then_holds() {
        let mut track = Track::default();
        track.push(at(0.0, 0.0));
        track.push(at(0.1, 0.1));
        let (p, _) = track.sample(0.15).unwrap();
        assert!((p.x - 0.15).abs() < 1e-4);
        let (far, _) = track.sample(5.0).unwrap();
        assert!((far.x - (0.1 + MAX_EXTRAPOLATION as f32)).abs() < 1e-4);
    }

    #[test]
    fn a_light_link_draws_further_behind() {
        let mut playout = Playout::default();
        playout.on_snapshot(10.0, 1.0);
        playout.set_light_link(true);
        assert!((playout.delay() - LIGHT_INTERP_DELAY).abs() < 1e-9);
        playout.set_light_link(false);
        assert!((playout.delay() - INTERP_DELAY).abs() < 1e-9);
    }

    #[test]
    fn the_delay_grows_with_jitter_and_stays_bounded() {
        let mut calm = Playout::default();
        let mut jittery = Playout::default();
        let mut wild = Playout::default();
        for i in 0..300 {
            let server = f64::from(i) / 30.0;
            calm.on_snapshot(server, server + 0.05);
            // ±30 ms around a 50 ms path, like the lossy test's relay.
            let wobble = if i % 2 == 0 { 0.03 } else { -0.03 };
            jittery.on_snapshot(server, server + 0.05 + wobble);
            wild.on_snapshot(server, server + 0.05 + wobble * 20.0);
        }
        assert!((calm.delay() - INTERP_DELAY).abs() < 0.005, "calm delay {}", calm.delay());
        assert!(jittery.delay() > INTERP_DELAY + 0.02 && jittery.delay() < 0.2, "jittery delay {}", jittery.delay());
        assert_eq!(wild.delay(), MAX_INTERP_DELAY);
    }

    #[test]
    fn playout_runs_behind_the_newest_snapshot() {
        let mut playout = Playout::default();
        playout.on_snapshot(10.0, 1.0);
        let t = playout.render_time(1.0).unwrap();
        assert!((t - (10.0 - INTERP_DELAY)).abs() < 1e-9);
        // A late packet barely moves the clock.
        playout.on_snapshot(10.0, 1.5);
        assert!(playout.render_time(1.5).unwrap() + playout.delay() > 10.45);
    }
}
