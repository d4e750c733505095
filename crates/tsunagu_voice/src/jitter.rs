//! One speaker's jitter buffer: frames in, in any order and at uneven times;
//! one decision per 20 ms of playout out. Pure logic on a sample clock, so its
//! behaviour is measured in tests (`tests` below) rather than assumed.
//!
//! A frame stamped `ts` plays at `ts + offset` on the playout clock. The
//! offset is chosen from the transit times (`arrival − ts`) seen in the last
//! two seconds: their minimum, plus their spread up to the 95th percentile,
//! plus a small margin — between [`MIN_DELAY`] and [`MAX_DELAY`] above the
//! minimum. Two clocks that drift apart move the minimum; the buffer follows
//! by dropping one frame (too much buffered) or stretching by one concealed
//! frame (too little), so the delay never grows and the buffer never starves
//! for long. Each talk spurt starts afresh at the current target.

use std::collections::{BTreeMap, VecDeque};

use tsunagu_protocol::VoiceFrame;

use crate::FRAME_SAMPLES;

/// Samples at 48 kHz in one millisecond.
const MS: i64 = 48;
/// Least buffering above the fastest transit: 5 ms. What the network and the
/// sound card's periods really spread is measured and added (see `MARGIN`).
pub const MIN_DELAY: i64 = 5 * MS;
/// Most buffering above the fastest transit: 120 ms.
pub const MAX_DELAY: i64 = 120 * MS;
/// Added to the measured spread: scheduling and block-size slack.
pub const MARGIN: i64 = 5 * MS;
/// Transit times are judged over this window.
const WINDOW: i64 = 2_000 * MS;
/// After frames went missing, plan for FEC this long.
const LOSS_MEMORY: i64 = 5_000 * MS;
/// Frames kept waiting, at most (over a second).
const MAX_BUFFERED: usize = 64;
/// A frame this far ahead of the playout is a new stream (the sender restarted).
const MAX_AHEAD: i64 = 50 * FRAME;
/// Playing on with nothing arriving for this many frames ends the talk spurt.
const MAX_UNDERRUNS: u32 = 5;
const FRAME: i64 = FRAME_SAMPLES as i64;

/// What to play for the next 20 ms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Playout {
    /// Nothing: nobody is talking (or the talk spurt has not started yet).
    Silence,
    /// Decode this Opus packet.
    Frame(Vec<u8>),
    /// The frame was lost; rebuild it from the next one's FEC data.
    Recover(Vec<u8>),
    /// The frame was lost or is late, and nothing can rebuild it: conceal.
    Conceal,
}

/// What the buffer did, for tests, benches and the debug overlay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Frames played as sent.
    pub played: u64,
    /// Frames rebuilt from FEC.
    pub recovered: u64,
    /// Frames concealed (lost with no FEC, or late).
    pub concealed: u64,
    /// Frames that came after their time had been played.
    pub late: u64,
    /// Frames dropped to shrink the buffer (clock drift, calmer network).
    pub dropped: u64,
    /// Concealed frames inserted to grow the buffer (drift, a delay spike).
    pub stretched: u64,
}

#[derive(Clone, Debug)]
struct Waiting {
    speaking: bool,
    opus: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Playing { next_ts: i64, underruns: u32 },
}

/// One speaker's jitter buffer.
#[derive(Clone, Debug)]
pub struct JitterBuffer {
    frames: BTreeMap<i64, Waiting>,
    /// The sender's 32-bit timestamp that maps to 0 on our unwrapped timeline.
    origin: Option<u32>,
    /// Unwrapped timestamp of the newest frame, to unwrap the next.
    newest: i64,
    /// (arrival, transit) of recent frames.
    transits: VecDeque<(i64, i64)>,
    state: State,
    stats: JitterStats,
    speaking: bool,
    /// The highest sequence number seen, and when frames last went missing.
    highest_seq: Option<u16>,
    last_loss: Option<i64>,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        JitterBuffer {
            frames: BTreeMap::new(),
            origin: None,
            newest: 0,
            transits: VecDeque::new(),
            state: State::Idle,
            stats: JitterStats::default(),
            speaking: false,
            highest_seq: None,
            last_loss: None,
        }
    }
}

impl JitterBuffer {
    /// A frame arrived at `arrival` (samples on the playout clock).
    pub fn push(&mut self, frame: VoiceFrame, arrival: i64) {
        let origin = *self.origin.get_or_insert(frame.timestamp);
        // Unwrap: the nearest value to the newest frame with these low 32 bits.
        let near = self.newest.wrapping_add(origin as i64);
        let delta = i64::from(frame.timestamp.wrapping_sub(near as u32) as i32);
        let ts = self.newest + delta;
        let playing_at = match self.state {
            State::Playing { next_ts, .. } => Some(next_ts),
            State::Idle => None,
        };
        let reference = playing_at.unwrap_or(self.newest);
        if playing_at.is_some() && ts < reference - MAX_AHEAD {
            // Far older than what is playing: a straggler, not a new stream.
            self.stats.late += 1;
            return;
        }
        if (ts - reference).abs() > MAX_AHEAD {
            // Another stream (the speaker's client restarted): begin again.
            self.frames.clear();
            self.transits.clear();
            self.state = State::Idle;
            self.origin = Some(frame.timestamp);
            self.newest = 0;
            self.highest_seq = None;
            return self.push(frame, arrival);
        }
        self.newest = self.newest.max(ts);
        // A jump in `seq` means frames were lost on the way (or are late).
        match self.highest_seq {
            Some(high) if frame.seq.wrapping_sub(high) < 0x8000 => {
                if frame.seq.wrapping_sub(high) > 1 {
                    self.last_loss = Some(arrival);
                }
                self.highest_seq = Some(frame.seq);
            }
            Some(_) => {}
            None => self.highest_seq = Some(frame.seq),
        }
        self.transits.push_back((arrival, arrival - ts));
        while self.transits.front().is_some_and(|&(at, _)| arrival - at > WINDOW) || self.transits.len() > 200 {
            self.transits.pop_front();
        }
        if playing_at.is_some_and(|next| ts < next) {
            self.stats.late += 1;
            return;
        }
        self.frames.insert(ts, Waiting { speaking: frame.speaking, opus: frame.opus });
        while self.frames.len() > MAX_BUFFERED {
            self.frames.pop_first();
        }
    }

    /// Buffering the network calls for now above the fastest transit, samples.
    /// While frames go missing, one frame more: a lost frame can then be
    /// rebuilt from the next one's FEC data, which has arrived by its time.
    pub fn target_delay(&self) -> i64 {
        let newest_arrival = self.transits.back().map_or(0, |&(at, _)| at);
        let lossy = self.last_loss.is_some_and(|at| newest_arrival - at <= LOSS_MEMORY);
        (self.transit_spread().1 + MARGIN + if lossy { FRAME } else { 0 }).clamp(MIN_DELAY, MAX_DELAY)
    }

    /// (fastest transit, 95th percentile − fastest) over the window.
    fn transit_spread(&self) -> (i64, i64) {
        let mut transits: Vec<i64> = self.transits.iter().map(|&(_, d)| d).collect();
        if transits.is_empty() {
            return (0, 0);
        }
        transits.sort_unstable();
        let least = transits[0];
        let p95 = transits[(transits.len() - 1) * 95 / 100];
        (least, p95 - least)
    }

    /// The offset (playout clock − timestamp) to aim for.
    fn desired_offset(&self) -> i64 {
        self.transit_spread().0 + self.target_delay()
    }

    /// What to play for the 20 ms starting at `clock` on the playout clock.
    pub fn next(&mut self, clock: i64) -> Playout {
        let desired = self.desired_offset();
        let State::Playing { mut next_ts, underruns } = self.state else {
            // Starting: frames already past their time are dropped, not played late.
            while self.frames.first_key_value().is_some_and(|(&ts, _)| clock - ts > desired + FRAME) {
                self.frames.pop_first();
                self.stats.late += 1;
            }
            let Some((&first, _)) = self.frames.first_key_value() else {
                return Playout::Silence;
            };
            if clock < first + desired {
                return Playout::Silence;
            }
            self.state = State::Playing { next_ts: first, underruns: 0 };
            return self.next(clock);
        };
        let offset = clock - next_ts;
        // Too much buffered (the other clock is faster, or the network calmed
        // down): drop a frame, when the one after it is here to play instead.
        // The hysteresis (1.5 frames over, half a frame under) keeps a drop
        // and a stretch from following each other.
        if offset > desired + FRAME * 3 / 2 && self.frames.contains_key(&(next_ts + FRAME)) {
            self.frames.remove(&next_ts);
            next_ts += FRAME;
            self.stats.dropped += 1;
        }
        let offset = clock - next_ts;
        let stretch = |this: &mut Self, underruns: u32| {
            this.state = State::Playing { next_ts, underruns };
            this.stats.stretched += 1;
            Playout::Conceal
        };
        if self.frames.contains_key(&next_ts) {
            // Too little buffered: a concealed frame first, this one after it.
            if offset < desired - FRAME / 2 {
                return stretch(self, 0);
            }
            let frame = self.frames.remove(&next_ts).expect("checked above");
            self.speaking = frame.speaking;
            self.state = if frame.speaking { State::Playing { next_ts: next_ts + FRAME, underruns: 0 } } else { State::Idle };
            self.stats.played += 1;
            return Playout::Frame(frame.opus);
        }
        let later_here = self.frames.range(next_ts..).next().is_some();
        // Missing while we play earlier than the network calls for: it is
        // probably late, not lost. Wait for it.
        if later_here && offset < desired {
            return stretch(self, 0);
        }
        if later_here {
            // Lost: the next one may carry it.
            self.state = State::Playing { next_ts: next_ts + FRAME, underruns: 0 };
            if let Some(next) = self.frames.get(&(next_ts + FRAME)) {
                self.stats.recovered += 1;
                return Playout::Recover(next.opus.clone());
            }
            self.stats.concealed += 1;
            return Playout::Conceal;
        }
        // Nothing at all: late (wait a little) or the speaker stopped.
        if underruns + 1 >= MAX_UNDERRUNS {
            self.state = State::Idle;
            self.speaking = false;
            return Playout::Silence;
        }
        self.stats.concealed += 1;
        if offset < desired + FRAME {
            return stretch(self, underruns + 1);
        }
        // Waiting longer would pass the most buffering the network calls for:
        // go on without it (if it comes, it is late).
        self.state = State::Playing { next_ts: next_ts + FRAME, underruns: underruns + 1 };
        Playout::Conceal
    }

    /// The speaker's frames say they are talking (and they are being played).
    pub fn speaking(&self) -> bool {
        self.speaking && matches!(self.state, State::Playing { .. })
    }

    /// What the buffer has done so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Samples between a frame's timestamp and its playout now (while playing).
    pub fn current_offset(&self, clock: i64) -> Option<i64> {
        match self.state {
            State::Playing { next_ts, .. } => Some(clock - next_ts),
            State::Idle => None,
        }
    }

    /// The fastest transit seen lately (samples).
    pub fn fastest_transit(&self) -> i64 {
        self.transit_spread().0
    }
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic random stream (xorshift), 0..1.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    struct Run {
        stats: JitterStats,
        /// Buffering (playout − fastest transit) of each played frame, ms.
        delays: Vec<f64>,
        /// The same, with when it was played (seconds on the listener's clock).
        delays_at: Vec<(f64, f64)>,
        silences_while_talking: u64,
    }

    /// A speaker talking without pause for `seconds`, whose clock runs
    /// `ppm` fast, over a network adding 20 ms plus up to `jitter_ms`, losing
    /// `loss` of the frames; the listener pulls 20 ms at a time on its clock.
    fn simulate(seconds: f64, ppm: f64, jitter_ms: f64, loss: f64, first_ts: u32) -> Run {
        simulate_varying(seconds, ppm, &|_| jitter_ms, loss, first_ts)
    }

    /// As [`simulate`], the jitter changing with the time a frame is sent.
    fn simulate_varying(seconds: f64, ppm: f64, jitter_ms: &dyn Fn(f64) -> f64, loss: f64, first_ts: u32) -> Run {
        let mut buffer = JitterBuffer::default();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let frames = (seconds * 50.0) as u64;
        // (arrival on the listener's clock, frame)
        let kept: Vec<u64> = (0..frames).filter(|_| rng.next() >= loss).collect();
        let mut in_flight: Vec<(i64, VoiceFrame)> = kept
            .into_iter()
            .map(|i| {
                let sent = i as f64 * 0.02 / (1.0 + ppm * 1e-6);
                let arrival = ((sent + 0.02 + rng.next() * jitter_ms(sent) / 1000.0) * 48_000.0) as i64;
                let frame = VoiceFrame { seq: i as u16, timestamp: first_ts.wrapping_add((i * 960) as u32), speaking: true, opus: vec![1] };
                (arrival, frame)
            })
            .collect();
        in_flight.sort_by_key(|(at, _)| *at);
        let mut arriving = in_flight.into_iter().peekable();
        let mut delays = Vec::new();
        let mut delays_at = Vec::new();
        let mut silences_while_talking = 0;
        let mut clock = 0i64;
        // The fast sender's last frames arrive 0.72 s early per hour: stop before.
        let end = ((seconds * (1.0 - ppm.abs() * 1e-6) - 0.5) * 48_000.0) as i64;
        while clock < end {
            while let Some((_, _)) = arriving.peek().filter(|(at, _)| *at <= clock) {
                let (at, frame) = arriving.next().unwrap();
                buffer.push(frame, at);
            }
            let playout = buffer.next(clock);
            if clock > 48_000 {
                match playout {
                    Playout::Frame(_) => {
                        let delay = (buffer.current_offset(clock + FRAME).unwrap() - buffer.fastest_transit()) as f64 / 48.0;
                        delays.push(delay);
                        delays_at.push((clock as f64 / 48_000.0, delay));
                    }
                    Playout::Silence => {
                        silences_while_talking += 1;
                    }
                    _ => {}
                }
            }
            clock += FRAME;
        }
        Run { stats: buffer.stats(), delays, delays_at, silences_while_talking }
    }

    fn median(v: &[f64]) -> f64 {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    #[test]
    fn a_calm_network_plays_everything_with_little_buffering() {
        let run = simulate(60.0, 0.0, 2.0, 0.0, 0);
        let m = median(&run.delays);
        assert!((10.0..=30.0).contains(&m), "median buffering {m:.1} ms on a calm LAN");
        assert_eq!(run.stats.late + run.stats.concealed + run.silences_while_talking, 0, "{:?}", run.stats);
    }

    #[test]
    fn jitter_grows_the_buffer_up_to_its_limit_and_few_frames_come_late() {
        let run = simulate(60.0, 0.0, 60.0, 0.0, 0);
        let m = median(&run.delays);
        assert!((45.0..=90.0).contains(&m), "median buffering {m:.1} ms under 60 ms of jitter");
        let frames = 60 * 50;
        assert!(run.stats.late * 100 < frames * 5, "{} of {frames} frames late: {:?}", run.stats.late, run.stats);
        let wild = simulate(30.0, 0.0, 400.0, 0.0, 0);
        let mut sorted = wild.delays.clone();
        sorted.sort_by(f64::total_cmp);
        let (m, p99) = (median(&sorted), sorted[sorted.len() * 99 / 100]);
        // The target stops at 120 ms; playing waits up to 1.5 frames over it before dropping.
        assert!(m <= 120.0 + 30.0 && p99 <= 120.0 + 50.0, "wild jitter: median {m:.1} ms, p99 {p99:.1} ms of buffering: {:?}", wild.stats);
    }

    /// A stretch of bad network (a congested TCP path, say) grows the
    /// buffering; once it is over, the buffering shrinks back within seconds.
    #[test]
    fn after_a_bad_stretch_the_buffer_shrinks_back() {
        let run = simulate_varying(40.0, 0.0, &|t| if (10.0..20.0).contains(&t) { 80.0 } else { 2.0 }, 0.0, 0);
        let during: Vec<f64> = run.delays_at.iter().filter(|(t, _)| (15.0..20.0).contains(t)).map(|(_, d)| *d).collect();
        let after: Vec<f64> = run.delays_at.iter().filter(|(t, _)| *t > 25.0).map(|(_, d)| *d).collect();
        let (during, after) = (median(&during), median(&after));
        eprintln!("buffering: {during:.1} ms during 80 ms of jitter, {after:.1} ms five seconds after");
        assert!(during > 45.0, "the bad stretch did not grow the buffering: {during:.1} ms");
        assert!(after <= 30.0, "five seconds after the bad stretch, still {after:.1} ms of buffering (during: {during:.1})");
    }

    #[test]
    fn lost_frames_are_rebuilt_from_the_next_one_or_concealed() {
        let run = simulate(60.0, 0.0, 2.0, 0.10, 0);
        let lost = 60 * 50 / 10;
        let rebuilt = run.stats.recovered + run.stats.concealed;
        assert!((lost * 8 / 10..=lost * 12 / 10).contains(&rebuilt), "{:?} for about {lost} lost", run.stats);
        assert!(run.stats.recovered > run.stats.concealed * 3, "FEC was not used first: {:?}", run.stats);
        assert_eq!(run.silences_while_talking, 0);
    }

    #[test]
    fn clocks_200_ppm_apart_for_an_hour_neither_grow_the_delay_nor_starve() {
        for ppm in [200.0, -200.0] {
            // Timestamps start near the wrap, so they wrap within the hour.
            let run = simulate(3600.0, ppm, 2.0, 0.0, u32::MAX - 10 * 48_000);
            let minutes = run.delays.len() / 60;
            let (first, last) = (median(&run.delays[..minutes * 5]), median(&run.delays[run.delays.len() - minutes * 5..]));
            assert!((last - first).abs() <= 12.0, "{ppm} ppm: buffering went from {first:.1} to {last:.1} ms");
            assert!(run.delays.iter().all(|&d| d < 60.0), "{ppm} ppm: a frame waited {:.1} ms", run.delays.iter().cloned().fold(0.0, f64::max));
            // 0.72 s of drift is 36 frames: about that many drops or stretches, no more.
            let adjustments = run.stats.dropped + run.stats.stretched;
            assert!((30..=80).contains(&adjustments), "{ppm} ppm: {:?}", run.stats);
            assert_eq!(run.silences_while_talking, 0, "{ppm} ppm: the buffer ran dry: {:?}", run.stats);
            assert_eq!(run.stats.late, 0, "{ppm} ppm: {:?}", run.stats);
        }
    }

    #[test]
    fn a_talk_spurt_ends_with_the_speaking_flag_and_a_restart_is_followed() {
        let mut b = JitterBuffer::default();
        let frame = |seq: u16, speaking| VoiceFrame { seq, timestamp: u32::from(seq) * 960, speaking, opus: vec![seq as u8] };
        for seq in 0..5 {
            b.push(frame(seq, seq < 4), i64::from(seq) * FRAME + 960);
        }
        let mut clock = 0;
        let mut played = Vec::new();
        for _ in 0..12 {
            if let Playout::Frame(p) = b.next(clock) {
                played.push(p[0]);
                assert_eq!(b.speaking(), p[0] < 4);
            }
            clock += FRAME;
        }
        assert_eq!(played, vec![0, 1, 2, 3, 4]);
        assert!(!b.speaking());
        // The speaker's client restarted: its clock begins somewhere else entirely.
        let restarted = VoiceFrame { seq: 0, timestamp: 3_000_000_000, speaking: true, opus: vec![9] };
        b.push(restarted, clock);
        let later = (0..5).find_map(|i| match b.next(clock + i * FRAME) {
            Playout::Frame(p) => Some(p[0]),
            _ => None,
        });
        assert_eq!(later, Some(9));
    }
}
