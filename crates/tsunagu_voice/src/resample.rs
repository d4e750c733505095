//! Devices and files that do not run at 48 kHz: a streaming resampler to or
//! from [`crate::SAMPLE_RATE`], fed any number of samples at a time.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Indexing, PolynomialDegree, Resampler};

/// Input samples per resampler call.
const CHUNK: usize = 480;

/// Mono, `from` Hz in, `to` Hz out. Cubic interpolation: the cheap choice
/// rubato recommends for voice. Equal rates pass straight through.
pub struct StreamResampler {
    inner: Option<Async<f32>>,
    pending: Vec<f32>,
    out: Vec<f32>,
}

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Self {
        let inner = (from != to).then(|| {
            Async::<f32>::new_poly(f64::from(to) / f64::from(from), 1.1, PolynomialDegree::Cubic, CHUNK, 1, FixedAsync::Input)
                .expect("a fixed ratio between two sample rates is valid")
        });
        let out_max = inner.as_ref().map_or(0, |r| r.output_frames_max());
        StreamResampler { inner, pending: Vec::new(), out: vec![0.0; out_max] }
    }

    /// Feed `input`; the converted samples ready so far are appended to `output`.
    pub fn process(&mut self, input: &[f32], output: &mut Vec<f32>) {
        let Some(inner) = self.inner.as_mut() else {
            output.extend_from_slice(input);
            return;
        };
        self.pending.extend_from_slice(input);
        let mut used = 0;
        let indexing = Indexing::new();
        while self.pending.len() - used >= inner.input_frames_next() {
            let need = inner.input_frames_next();
            let Ok(adapter_in) = InterleavedSlice::new(&self.pending[used..used + need], 1, need) else {
                break;
            };
            let capacity = self.out.len();
            let Ok(mut adapter_out) = InterleavedSlice::new_mut(&mut self.out, 1, capacity) else {
                break;
            };
            match inner.process_into_buffer(&adapter_in, &mut adapter_out, Some(&indexing)) {
                Ok((read, written)) => {
                    used += read;
                    output.extend_from_slice(&self.out[..written]);
                }
                Err(e) => {
                    tracing::warn!("resampling failed: {e}");
                    used = self.pending.len();
                }
            }
        }
        self.pending.drain(..used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_keeps_its_pitch_and_length_across_rates() {
        for from in [44_100u32, 16_000, 48_000] {
            let seconds = 1.0;
            let tone: Vec<f32> =
                (0..(from as f32 * seconds) as usize).map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / from as f32).sin() * 0.5).collect();
            let mut r = StreamResampler::new(from, 48_000);
            let mut out = Vec::new();
            for piece in tone.chunks(333) {
                r.process(piece, &mut out);
            }
            assert!((out.len() as i64 - 48_000).abs() < 1_000, "{from} Hz → {} samples", out.len());
            // Zero crossings: 880 a second for 440 Hz.
            let crossings = out.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count() as f32 * 48_000.0 / out.len() as f32;
            assert!((crossings - 440.0).abs() < 5.0, "{from} Hz: {crossings} cycles a second");
        }
    }
}
