//! The sending side: 20 ms of microphone in, at most one voice frame out.
//! Echo cancellation of what this client plays, noise suppression and
//! automatic gain (WebRTC's audio processing, in `sonora`), then
//! voice-activity detection, push-to-talk or open mic, mute, and Opus.

use sonora::config::{AdaptiveDigital, EchoCanceller, GainController2, HighPassFilter, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};
use tsunagu_protocol::VoiceFrame;

use crate::codec::{CodecError, DTX_PACKET_BYTES, VoiceEncoder};
use crate::vad::VoiceActivity;
use crate::{FRAME_SAMPLES, SAMPLE_RATE, level_dbfs};

/// The canceller works on 10 ms blocks.
const BLOCK: usize = SAMPLE_RATE as usize / 100;
/// Far-end samples kept waiting for the canceller, at most (half a second).
const MAX_FAR_END_PENDING: usize = SAMPLE_RATE as usize / 2;

/// When the microphone is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TalkMode {
    /// Whenever the voice detector hears speech.
    #[default]
    OpenMic,
    /// Only while the talk key or button is held (or toggled on).
    PushToTalk,
}

/// What one frame of microphone gave.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureOutcome {
    /// The frame to send, if any.
    pub frame: Option<VoiceFrame>,
    /// The microphone's level before processing, dB full scale (for the meter).
    pub input_level_db: f32,
    /// The voice detector heard speech (after echo cancellation).
    pub voice: bool,
}

/// Microphone frames in, voice frames out.
pub struct CaptureChain {
    apm: AudioProcessing,
    vad: VoiceActivity,
    encoder: VoiceEncoder,
    seq: u16,
    timestamp: u32,
    far_end: Vec<f32>,
    /// The last frame sent was part of a talk spurt.
    talking: bool,
    processed: [f32; FRAME_SAMPLES],
    /// Open mic or push-to-talk.
    pub mode: TalkMode,
    /// Nothing is sent while muted.
    pub muted: bool,
    /// The talk key or button is held (push-to-talk).
    pub talk_held: bool,
    /// Low-bandwidth mode: the encoder's lower bitrate.
    light: bool,
}

/// The canceller's settings: AEC3, moderate noise suppression, AGC2's
/// adaptive digital gain (quiet children and far microphones come up; loud
/// ones are limited), and the high-pass filter AEC3 expects.
fn processing_config() -> Config {
    Config {
        high_pass_filter: Some(HighPassFilter::default()),
        echo_canceller: Some(EchoCanceller::default()),
        noise_suppression: Some(NoiseSuppression::default()),
        gain_controller2: Some(GainController2 {
            input_volume_controller: false,
            adaptive_digital: Some(AdaptiveDigital::default()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl CaptureChain {
    /// A chain for one microphone, open mic, not muted.
    pub fn new() -> Result<Self, CodecError> {
        let apm = AudioProcessing::builder()
            .config(processing_config())
            .capture_config(StreamConfig::new(SAMPLE_RATE, 1))
            .render_config(StreamConfig::new(SAMPLE_RATE, 1))
            .build();
        Ok(CaptureChain {
            apm,
            vad: VoiceActivity::default(),
            encoder: VoiceEncoder::new()?,
            seq: 0,
            timestamp: 0,
            far_end: Vec::new(),
            talking: false,
            processed: [0.0; FRAME_SAMPLES],
            mode: TalkMode::default(),
            muted: false,
            talk_held: false,
            light: false,
        })
    }

    /// What the speakers played (48 kHz mono), as it was played: the echo to
    /// take out of the microphone. Call before the microphone frames that
    /// may contain it.
    pub fn far_end(&mut self, played: &[f32]) {
        self.far_end.extend_from_slice(played);
        let mut used = 0;
        while self.far_end.len() - used >= BLOCK {
            let block = &self.far_end[used..used + BLOCK];
            let mut unused = [0.0f32; BLOCK];
            if let Err(e) = self.apm.process_render_f32(&[block], &mut [&mut unused]) {
                tracing::warn!("the echo canceller refused a far-end block: {e:?}");
            }
            used += BLOCK;
        }
        self.far_end.drain(..used);
        // Nothing can lag this far; a stalled capture must not grow memory.
        if self.far_end.len() > MAX_FAR_END_PENDING {
            let extra = self.far_end.len() - MAX_FAR_END_PENDING;
            self.far_end.drain(..extra);
        }
    }

    /// Low-bandwidth mode (a lower bitrate) or the usual, from the next frame.
    pub fn set_light(&mut self, light: bool) {
        if self.light != light {
            self.light = light;
            self.encoder.set_light(light);
        }
    }

    /// Process 20 ms of microphone (48 kHz mono).
    pub fn process(&mut self, mic: &[f32; FRAME_SAMPLES]) -> CaptureOutcome {
        let input_level_db = level_dbfs(mic);
        for (input, output) in mic.chunks_exact(BLOCK).zip(self.processed.chunks_exact_mut(BLOCK)) {
            if let Err(e) = self.apm.process_capture_f32(&[input], &mut [output]) {
                tracing::warn!("the echo canceller refused a microphone block: {e:?}");
                output.copy_from_slice(input);
            }
        }
        let voice = self.vad.update(&self.processed);
        let send = !self.muted
            && match self.mode {
                TalkMode::OpenMic => voice,
                TalkMode::PushToTalk => self.talk_held,
            };
        let timestamp = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        // Encode every frame, sent or not, so the encoder's state follows the
        // sound and a talk spurt starts cleanly.
        let packet = self.encoder.encode(&self.processed);
        let frame = match packet {
            // The end of a talk spurt: one last frame saying so.
            Some(opus) if !send && self.talking => {
                self.talking = false;
                Some(self.frame(timestamp, false, opus))
            }
            Some(opus) if send && opus.len() > DTX_PACKET_BYTES => {
                self.talking = true;
                Some(self.frame(timestamp, true, opus))
            }
            _ => None,
        };
        CaptureOutcome { frame, input_level_db, voice }
    }

    fn frame(&mut self, timestamp: u32, speaking: bool, opus: Vec<u8>) -> VoiceFrame {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        VoiceFrame { seq, timestamp, speaking, opus }
    }

    /// The last frame after echo cancellation, noise suppression and gain:
    /// what the mic test plays back, and what the tests measure.
    pub fn processed(&self) -> &[f32; FRAME_SAMPLES] {
        &self.processed
    }

    /// Samples of delay the encoder adds.
    pub fn encoder_lookahead(&mut self) -> usize {
        self.encoder.lookahead()
    }
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{RoomEcho, attenuation_db, correlation};
    use crate::testing::{other_speech, speech};

    /// Run `mic` through a chain that is told `far` was played; the processed output.
    fn cancel(far: &[f32], mic: &[f32]) -> Vec<f32> {
        let mut chain = CaptureChain::new().unwrap();
        let mut out = Vec::with_capacity(mic.len());
        for (f, m) in far.chunks_exact(FRAME_SAMPLES).zip(mic.chunks_exact(FRAME_SAMPLES)) {
            chain.far_end(f);
            chain.process(m.try_into().unwrap());
            out.extend_from_slice(chain.processed());
        }
        out
    }

    #[test]
    fn the_echo_of_what_we_play_is_removed_and_the_child_still_heard_during_double_talk() {
        let mut far = speech();
        far.truncate(far.len() / FRAME_SAMPLES * FRAME_SAMPLES);
        let near = other_speech();
        let start = 4 * 48_000;
        let mut near_in_mic = vec![0.0f32; far.len()];
        for (i, &s) in near.iter().enumerate().take(far.len() - start) {
            near_in_mic[start + i] = s * 0.5;
        }
        for delay_ms in [50, 150] {
            let echo = RoomEcho::new(delay_ms, 0.4).next(&far);
            let echo_only = cancel(&far, &echo);
            // After two seconds to converge, single talk: the echo sent on is 20 dB quieter or more.
            let window = 2 * 48_000..start;
            let erle = attenuation_db(&echo[window.clone()], &echo_only[window]);
            assert!(erle >= 20.0, "{delay_ms} ms echo path: ERLE {erle:.1} dB");
            // Double talk: the child's voice passes while the friend's echo is removed.
            let mic: Vec<f32> = echo.iter().zip(&near_in_mic).map(|(e, n)| e + n).collect();
            let both = cancel(&far, &mic);
            let alone = cancel(&vec![0.0; far.len()], &near_in_mic);
            let talk = start..far.len();
            let kept = correlation(&alone[talk.clone()], &both[talk.clone()]);
            assert!(kept >= 0.6, "{delay_ms} ms: during double talk the child's voice correlates only {kept:.2} with the child alone");
        }
    }

    #[test]
    fn open_mic_sends_speech_with_the_flag_push_to_talk_only_while_held_mute_nothing() {
        let speech = speech();
        let frames: Vec<&[f32]> = speech.chunks_exact(FRAME_SAMPLES).collect();
        let run = |chain: &mut CaptureChain, held: &dyn Fn(usize) -> bool| -> Vec<VoiceFrame> {
            frames
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    chain.talk_held = held(i);
                    chain.process((*f).try_into().unwrap()).frame
                })
                .collect()
        };
        let mut chain = CaptureChain::new().unwrap();
        let sent = run(&mut chain, &|_| false);
        assert!(sent.len() > frames.len() / 2, "open mic sent {} of {} frames of speech", sent.len(), frames.len());
        assert!(sent.windows(2).all(|w| w[1].seq == w[0].seq.wrapping_add(1) && w[1].timestamp > w[0].timestamp));
        assert!(sent.iter().any(|f| !f.speaking), "no talk spurt ended with the flag");
        let kbps = sent.iter().map(|f| f.opus.len()).sum::<usize>() as f64 * 8.0 / (sent.len() as f64 * 0.02) / 1000.0;
        assert!(kbps <= 28.0, "{kbps:.1} kbit/s while talking");

        let mut ptt = CaptureChain::new().unwrap();
        ptt.mode = TalkMode::PushToTalk;
        let sent = run(&mut ptt, &|i| (100..150).contains(&i));
        assert!(sent.iter().filter(|f| f.speaking).all(|f| (100 * 960..150 * 960).contains(&f.timestamp)));
        assert!(sent.len() >= 40 && sent.len() <= 51, "push-to-talk held for 50 frames sent {}", sent.len());
        assert!(!sent.last().unwrap().speaking);

        let mut muted = CaptureChain::new().unwrap();
        muted.muted = true;
        assert!(run(&mut muted, &|_| true).is_empty());
    }
}
