//! Speech and measurements shared by this crate's tests.

use std::path::PathBuf;

fn asset(name: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR, set by cargo")).join("../../assets/voice").join(name)
}

/// "Hello everyone. Tonight we will write our wishes on paper strips, and
/// hang them on the bamboo. Who would like to go first?" (8.7 s, 48 kHz).
pub fn speech() -> Vec<f32> {
    crate::wav::read_mono_48k(&asset("far-end-phrase.wav")).expect("assets/voice/far-end-phrase.wav")
}

/// "I am here too. My wish is to go home in spring, and play football with my
/// brother." (5.9 s, 48 kHz), another voice.
pub fn other_speech() -> Vec<f32> {
    crate::wav::read_mono_48k(&asset("near-end-phrase.wav")).expect("assets/voice/near-end-phrase.wav")
}

/// The best normalised correlation of `output` against `source` delayed by
/// `lag` ± `search` samples (a pipeline's delay is known only roughly).
pub fn aligned_correlation(source: &[f32], output: &[f32], lag: usize, search: usize) -> f64 {
    crate::measure::best_alignment(source, output, lag.saturating_sub(search)..lag + search + 1).1
}
