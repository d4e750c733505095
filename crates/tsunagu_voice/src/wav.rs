//! WAV files as a microphone (`--mic-file`) and as speakers (`--speaker-file`).

use std::path::Path;

use crate::SAMPLE_RATE;
use crate::resample::StreamResampler;

/// Why a WAV file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// Not readable, or not a WAV file.
    #[error("{0}")]
    Wav(#[from] hound::Error),
}

/// The whole file as 48 kHz mono samples in −1..1 (channels mixed, rate converted).
pub fn read_mono_48k(path: &Path) -> Result<Vec<f32>, WavError> {
    let mut reader = hound::WavReader::open(path)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|s| s as f32 * scale)).collect::<Result<_, _>>()?
        }
    };
    let mono: Vec<f32> = samples.chunks(channels).map(|c| c.iter().sum::<f32>() / channels as f32).collect();
    let mut out = Vec::with_capacity(mono.len() * SAMPLE_RATE as usize / spec.sample_rate.max(1) as usize + 1024);
    let mut resampler = StreamResampler::new(spec.sample_rate, SAMPLE_RATE);
    resampler.process(&mono, &mut out);
    // Push the resampler's tail out.
    resampler.process(&[0.0; 2048], &mut out);
    Ok(out)
}

/// A 16-bit WAV writer for interleaved frames at `rate` with `channels`.
pub fn create(path: &Path, rate: u32, channels: u16) -> Result<hound::WavWriter<std::io::BufWriter<std::fs::File>>, WavError> {
    let spec = hound::WavSpec { channels, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    Ok(hound::WavWriter::create(path, spec)?)
}

/// One sample as 16 bits, clipped.
pub fn to_i16(sample: f32) -> i16 {
    (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16
}
