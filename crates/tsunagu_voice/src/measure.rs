//! Measuring sound against sound: how alike two signals are after lining them
//! up, and how much quieter one is. Used by the tests and `cargo xtask bench voice`.

use std::ops::Range;

/// Energy of `x` (sum of squares).
pub fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

/// Normalised correlation of `a` and `b` over their common length (1 = same shape).
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    let dot: f64 = a[..n].iter().zip(&b[..n]).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
    let norm = (energy(&a[..n]) * energy(&b[..n])).sqrt();
    if norm > 0.0 { dot / norm } else { 0.0 }
}

/// The delay in `lags` at which `output` best matches `source`, and the
/// correlation there (`output[lag + i]` against `source[i]`).
pub fn best_alignment(source: &[f32], output: &[f32], lags: Range<usize>) -> (usize, f64) {
    let mut best = (lags.start, f64::MIN);
    for lag in lags {
        if lag >= output.len() {
            break;
        }
        let c = correlation(source, &output[lag..]);
        if c > best.1 {
            best = (lag, c);
        }
    }
    best
}

/// Signal-to-noise ratio of `output` as a copy of `source` (both aligned), in
/// dB, after the best gain: the part of `output` that is not `source` is noise.
pub fn snr_db(source: &[f32], output: &[f32]) -> f64 {
    let n = source.len().min(output.len());
    let (s, o) = (&source[..n], &output[..n]);
    let dot: f64 = s.iter().zip(o).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
    let gain = dot / energy(s).max(1e-12);
    let noise: f64 = s.iter().zip(o).map(|(&x, &y)| (f64::from(y) - gain * f64::from(x)).powi(2)).sum();
    10.0 * ((gain * gain * energy(s)) / noise.max(1e-12)).log10()
}

/// How many dB quieter `after` is than `before` (echo return loss enhancement
/// when `before` is the echo in the microphone and `after` what was sent on).
pub fn attenuation_db(before: &[f32], after: &[f32]) -> f64 {
    10.0 * (energy(before).max(1e-12) / energy(after).max(1e-12)).log10()
}

/// RMS level of `x` in dB full scale.
pub fn rms_db(x: &[f32]) -> f64 {
    if x.is_empty() {
        return -120.0;
    }
    10.0 * (energy(x) / x.len() as f64).max(1e-12).log10()
}

/// A small ward room between a laptop's speakers and its microphone, for
/// echo tests: `delay_ms` of travel and buffering, the direct sound at `gain`,
/// and a decaying tail of reflections (one a millisecond, RT60 about 200 ms).
/// Streaming: feed what was played, get what the microphone picks up.
pub struct RoomEcho {
    taps: Vec<(usize, f32)>,
    delay: usize,
    history: Vec<f32>,
}

impl RoomEcho {
    /// A room with this echo path.
    pub fn new(delay_ms: usize, gain: f32) -> Self {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut taps = vec![(0, gain)];
        for i in (48..48 * 200).step_by(48) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let noise = (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            taps.push((i, noise * gain * 0.5 * (-(i as f32) / (48.0 * 30.0)).exp()));
        }
        RoomEcho { taps, delay: delay_ms * 48, history: Vec::new() }
    }

    /// What the microphone hears of `played` (same length).
    pub fn next(&mut self, played: &[f32]) -> Vec<f32> {
        let start = self.history.len();
        self.history.extend_from_slice(played);
        let reach = self.delay + self.taps.last().map_or(0, |t| t.0);
        let out = (start..self.history.len())
            .map(|n| self.taps.iter().filter(|(k, _)| n >= self.delay + k).map(|&(k, h)| self.history[n - self.delay - k] * h).sum())
            .collect();
        // Keep only what the echo can still reach.
        let keep_from = self.history.len().saturating_sub(reach + 1);
        if keep_from > 48_000 {
            self.history.drain(..keep_from);
        }
        out
    }
}

/// [`best_alignment`] over `0..max_lag`, fast: first on both signals averaged
/// over 8 samples (a coarse lag), then sample by sample around it.
pub fn align(source: &[f32], output: &[f32], max_lag: usize) -> (usize, f64) {
    const STEP: usize = 8;
    let coarse = |x: &[f32]| -> Vec<f32> { x.chunks(STEP).map(|c| c.iter().sum::<f32>() / c.len() as f32).collect() };
    let (s, o) = (coarse(source), coarse(output));
    let (rough, _) = best_alignment(&s, &o, 0..max_lag / STEP + 1);
    let around = (rough * STEP).saturating_sub(2 * STEP)..(rough * STEP + 2 * STEP + 1).min(max_lag + 1);
    best_alignment(source, output, around)
}

/// How well `output` reproduces `source` when each half second may sit at
/// its own delay within `lag ± max_shift` (a jitter buffer starts each talk
/// spurt afresh, so one delay for the whole does not fit): the mean of the
/// per-segment correlations over the segments where `source` is speech.
pub fn segmental_similarity(source: &[f32], output: &[f32], lag: usize, max_shift: usize) -> f64 {
    const SEGMENT: usize = 24_000;
    let mut scores = Vec::new();
    for start in (0..source.len().saturating_sub(SEGMENT)).step_by(SEGMENT) {
        let piece = &source[start..start + SEGMENT];
        if rms_db(piece) < -40.0 {
            continue;
        }
        let from = (start + lag).saturating_sub(max_shift);
        if from >= output.len() {
            break;
        }
        scores.push(align(piece, &output[from..], 2 * max_shift).1);
    }
    if scores.is_empty() { 0.0 } else { scores.iter().sum::<f64>() / scores.len() as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_finds_a_known_delay() {
        let speech = crate::testing::speech();
        let delayed: Vec<f32> = std::iter::repeat_n(0.0, 4321).chain(speech.iter().map(|s| s * 0.5)).collect();
        let (lag, similarity) = align(&speech, &delayed, 10_000);
        assert_eq!(lag, 4321);
        assert!(similarity > 0.999);
        assert!(snr_db(&speech, &delayed[lag..]) > 60.0);
        assert!((attenuation_db(&speech, &delayed[lag..]) - 6.02).abs() < 0.1);
    }
}
