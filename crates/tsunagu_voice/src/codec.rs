//! Opus, set up for speech in a ward: about 24 kbit/s VBR, in-band FEC (a lost
//! frame can be rebuilt from the next one), DTX in silence.

use crate::{FRAME_SAMPLES, SAMPLE_RATE};

/// Target bitrate of the encoder.
pub const BITRATE: i32 = 24_000;
/// Target bitrate in low-bandwidth mode: still clear wideband speech (Opus's
/// SILK), half the bytes, so a child talking fits a 64 kbit/s uplink.
pub const LIGHT_BITRATE: i32 = 12_000;
/// The loss the encoder plans its FEC for, percent (ward Wi-Fi).
pub const EXPECTED_LOSS_PERCENT: i32 = 10;
/// Encoded packets this short are Opus DTX ("still silent"): not worth sending.
pub const DTX_PACKET_BYTES: usize = 2;

/// Why the codec could not start.
#[derive(Debug, thiserror::Error)]
#[error("Opus: {0}")]
pub struct CodecError(#[from] opus::Error);

/// Speech in, Opus packets out.
pub struct VoiceEncoder {
    encoder: opus::Encoder,
    out: Vec<u8>,
}

impl VoiceEncoder {
    /// An encoder set up for speech.
    pub fn new() -> Result<Self, CodecError> {
        let mut encoder = opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)?;
        encoder.set_bitrate(opus::Bitrate::Bits(BITRATE))?;
        encoder.set_vbr(true)?;
        encoder.set_inband_fec(true)?;
        encoder.set_packet_loss_perc(EXPECTED_LOSS_PERCENT)?;
        encoder.set_dtx(true)?;
        Ok(VoiceEncoder { encoder, out: vec![0; tsunagu_protocol::MAX_VOICE_PAYLOAD_BYTES] })
    }

    /// Encode one 20 ms frame. `None` if Opus failed (never seen; the frame is skipped).
    pub fn encode(&mut self, frame: &[f32; FRAME_SAMPLES]) -> Option<Vec<u8>> {
        match self.encoder.encode_float(frame, &mut self.out) {
            Ok(len) => Some(self.out[..len].to_vec()),
            Err(e) => {
                tracing::warn!("Opus could not encode a frame: {e}");
                None
            }
        }
    }

    /// Low-bandwidth mode ([`LIGHT_BITRATE`]) or the usual [`BITRATE`], from the next frame.
    pub fn set_light(&mut self, light: bool) {
        let bitrate = if light { LIGHT_BITRATE } else { BITRATE };
        if let Err(e) = self.encoder.set_bitrate(opus::Bitrate::Bits(bitrate)) {
            tracing::warn!("Opus kept its bitrate: {e}");
        }
    }

    /// Samples of delay the encoder adds (its look-ahead).
    pub fn lookahead(&mut self) -> usize {
        self.encoder.get_lookahead().map_or(0, |n| n.max(0) as usize)
    }
}

/// Opus packets in, speech out; rebuilds lost frames.
pub struct VoiceDecoder {
    decoder: opus::Decoder,
}

impl VoiceDecoder {
    /// A decoder for one speaker.
    pub fn new() -> Result<Self, CodecError> {
        Ok(VoiceDecoder { decoder: opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)? })
    }

    /// Decode `packet` into `out`. False (and `out` concealed instead) when the
    /// bytes are not one 20 ms Opus frame: they come from the network.
    pub fn decode(&mut self, packet: &[u8], out: &mut [f32; FRAME_SAMPLES]) -> bool {
        match self.decoder.decode_float(packet, out, false) {
            Ok(FRAME_SAMPLES) => true,
            _ => {
                self.conceal(out);
                false
            }
        }
    }

    /// Rebuild the frame before `next_packet` from the FEC data it carries.
    pub fn decode_fec(&mut self, next_packet: &[u8], out: &mut [f32; FRAME_SAMPLES]) -> bool {
        match self.decoder.decode_float(next_packet, out, true) {
            Ok(FRAME_SAMPLES) => true,
            _ => {
                self.conceal(out);
                false
            }
        }
    }

    /// A frame that never came: Opus's loss concealment (a fade of the last sound).
    pub fn conceal(&mut self, out: &mut [f32; FRAME_SAMPLES]) {
        if !matches!(self.decoder.decode_float(&[], out, false), Ok(FRAME_SAMPLES)) {
            out.fill(0.0);
        }
    }
}

/// `samples` as one talk spurt of voice frames (seq and timestamp from 0, all
/// marked speaking): the mic test's playback, and speech for tests and benches.
pub fn talk_spurt(samples: &[f32]) -> Result<Vec<tsunagu_protocol::VoiceFrame>, CodecError> {
    let mut encoder = VoiceEncoder::new()?;
    Ok(samples
        .chunks_exact(FRAME_SAMPLES)
        .enumerate()
        .filter_map(|(i, chunk)| {
            let opus = encoder.encode(chunk.try_into().ok()?)?;
            Some(tsunagu_protocol::VoiceFrame { seq: i as u16, timestamp: (i * FRAME_SAMPLES) as u32, speaking: true, opus })
        })
        .collect())
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_round_trips_at_the_planned_rate_and_garbage_is_concealed() {
        let speech = crate::testing::speech();
        let mut encoder = VoiceEncoder::new().unwrap();
        let mut decoder = VoiceDecoder::new().unwrap();
        let mut bytes = 0;
        let mut decoded = Vec::new();
        let frames: Vec<&[f32]> = speech.chunks_exact(FRAME_SAMPLES).collect();
        for frame in &frames {
            let packet = encoder.encode((*frame).try_into().unwrap()).unwrap();
            assert!(packet.len() <= tsunagu_protocol::MAX_VOICE_PAYLOAD_BYTES);
            bytes += packet.len();
            let mut out = [0.0; FRAME_SAMPLES];
            assert!(decoder.decode(&packet, &mut out));
            decoded.extend_from_slice(&out);
        }
        let kbps = bytes as f64 * 8.0 / (frames.len() as f64 * 0.02) / 1000.0;
        assert!((12.0..=28.0).contains(&kbps), "{kbps:.1} kbit/s");
        let lag = encoder.lookahead();
        let similarity = crate::testing::aligned_correlation(&speech, &decoded, lag, 200);
        assert!(similarity > 0.9, "decoded speech correlates {similarity:.2} with the source");
        // Low-bandwidth mode: about half the bytes, still the same speech.
        let mut light = VoiceEncoder::new().unwrap();
        light.set_light(true);
        let mut decoder = VoiceDecoder::new().unwrap();
        let (mut light_bytes, mut light_decoded) = (0, Vec::new());
        for frame in &frames {
            let packet = light.encode((*frame).try_into().unwrap()).unwrap();
            light_bytes += packet.len();
            let mut out = [0.0; FRAME_SAMPLES];
            assert!(decoder.decode(&packet, &mut out));
            light_decoded.extend_from_slice(&out);
        }
        let light_kbps = light_bytes as f64 * 8.0 / (frames.len() as f64 * 0.02) / 1000.0;
        eprintln!("speech: {kbps:.1} kbit/s, in low-bandwidth mode {light_kbps:.1} kbit/s");
        assert!(light_kbps < kbps * 0.65 && light_kbps <= 14.0, "low-bandwidth mode: {light_kbps:.1} kbit/s against {kbps:.1}");
        let similarity = crate::testing::aligned_correlation(&speech, &light_decoded, lag, 200);
        assert!(similarity > 0.8, "low-bandwidth speech correlates {similarity:.2} with the source");
        // Bytes from a stranger: no panic, a concealed frame.
        let mut out = [1.0; FRAME_SAMPLES];
        for garbage in [&[0xffu8; 300][..], &[0x00], &[0x7c, 0x01, 0x02]] {
            decoder.decode(garbage, &mut out);
            assert!(out.iter().all(|s| s.is_finite() && s.abs() <= 1.5));
        }
    }
}
