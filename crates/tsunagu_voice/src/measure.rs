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
