//! One person heard: their jitter buffer and decoder, turning frames from the
//! network into 20 ms of sound at a time on the playout clock.

use tsunagu_protocol::VoiceFrame;

use crate::FRAME_SAMPLES;
use crate::codec::{CodecError, VoiceDecoder};
use crate::jitter::{JitterBuffer, JitterStats, Playout};

/// A speaker's frames in, their voice out.
pub struct VoiceReceiver {
    jitter: JitterBuffer,
    decoder: VoiceDecoder,
}

impl VoiceReceiver {
    /// A receiver for one speaker.
    pub fn new() -> Result<Self, CodecError> {
        Ok(VoiceReceiver { jitter: JitterBuffer::default(), decoder: VoiceDecoder::new()? })
    }

    /// A frame arrived at `arrival` (samples on the playout clock).
    pub fn push(&mut self, frame: VoiceFrame, arrival: i64) {
        self.jitter.push(frame, arrival);
    }

    /// The 20 ms starting at `clock`, into `out`. False when it is silence.
    pub fn next(&mut self, clock: i64, out: &mut [f32; FRAME_SAMPLES]) -> bool {
        // Bytes that do not decode are concealed by the decoder itself.
        match self.jitter.next(clock) {
            Playout::Silence => {
                out.fill(0.0);
                return false;
            }
            Playout::Frame(packet) => {
                self.decoder.decode(&packet, out);
            }
            Playout::Recover(next) => {
                self.decoder.decode_fec(&next, out);
            }
            Playout::Conceal => self.decoder.conceal(out),
        }
        true
    }

    /// The speaker is talking (their frames say so and are being played).
    pub fn speaking(&self) -> bool {
        self.jitter.speaking()
    }

    /// What the jitter buffer has done.
    pub fn stats(&self) -> JitterStats {
        self.jitter.stats()
    }

    /// Buffering the network calls for now, samples.
    pub fn target_delay(&self) -> i64 {
        self.jitter.target_delay()
    }
}
