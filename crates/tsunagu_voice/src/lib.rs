//! Voice for Tsunagu, without Bevy: the microphone (a device or a WAV file),
//! echo cancellation of what this client plays, noise suppression, automatic
//! gain, voice-activity detection, Opus; and for each person heard, a jitter
//! buffer, a decoder and a spatial track in kira placed at their head.
//!
//! Everything runs at 48 kHz mono in 20 ms frames. The sending side is
//! [`capture::CaptureChain`]; the receiving side is [`receiver::VoiceReceiver`]
//! inside [`output::VoiceOutput`]; [`engine::VoiceEngine`] joins them to devices.

pub mod capture;
pub mod codec;
pub mod devices;
pub mod engine;
pub mod jitter;
pub mod measure;
pub mod output;
pub mod receiver;
pub mod resample;
pub mod vad;
pub mod wav;

use std::time::Duration;

/// The one sample rate inside: Opus's and the canceller's full band.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame.
pub const FRAME_SAMPLES: usize = 960;
/// One frame.
pub const FRAME_DURATION: Duration = Duration::from_millis(20);

/// Level of `samples` in dB relative to full scale (−100 for silence).
pub fn level_dbfs(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return -100.0;
    }
    let mean_square = samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32;
    (10.0 * mean_square.max(1e-10).log10()).max(-100.0)
}

#[cfg(test)]
pub(crate) mod testing;
