//! Is someone talking? An energy detector over an adaptive noise floor, with
//! a hangover so the ends of words and the pauses between them are kept.

use crate::level_dbfs;

/// Frames (20 ms) the detector stays on after the last loud one: 400 ms.
pub const HANGOVER_FRAMES: u32 = 20;
/// Louder than the noise floor by this much is speech.
pub const MARGIN_DB: f32 = 10.0;
/// Quieter than this is never speech, whatever the floor.
pub const QUIETEST_SPEECH_DBFS: f32 = -55.0;
/// How fast the floor rises toward a steady level, dB per frame (falls at once).
const FLOOR_RISE_DB: f32 = 0.2;

/// Voice-activity detection with hangover.
#[derive(Clone, Debug)]
pub struct VoiceActivity {
    floor_db: f32,
    hangover: u32,
}

impl Default for VoiceActivity {
    fn default() -> Self {
        VoiceActivity { floor_db: -70.0, hangover: 0 }
    }
}

impl VoiceActivity {
    /// Judge one frame (after noise suppression); true while talking or in
    /// the hangover after it.
    pub fn update(&mut self, frame: &[f32]) -> bool {
        let level = level_dbfs(frame);
        if level < self.floor_db {
            self.floor_db = level;
        } else {
            self.floor_db += FLOOR_RISE_DB;
        }
        if level > self.floor_db + MARGIN_DB && level > QUIETEST_SPEECH_DBFS {
            self.hangover = HANGOVER_FRAMES;
            return true;
        }
        self.hangover = self.hangover.saturating_sub(1);
        self.hangover > 0
    }
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::FRAME_SAMPLES;

    #[test]
    fn speech_turns_it_on_silence_and_steady_hum_turn_it_off_after_the_hangover() {
        let mut vad = VoiceActivity::default();
        let quiet = [0.0005f32; FRAME_SAMPLES];
        assert!(!(0..50).any(|_| vad.update(&quiet)), "room tone counted as speech");
        let mut speech = crate::testing::speech();
        // End on the last word, not on the file's trailing silence.
        let last_loud = speech.chunks_exact(FRAME_SAMPLES).rposition(|f| crate::level_dbfs(f) > -40.0).unwrap();
        speech.truncate((last_loud + 1) * FRAME_SAMPLES);
        let talking = speech.chunks_exact(FRAME_SAMPLES).filter(|f| vad.update(f)).count();
        let frames = speech.len() / FRAME_SAMPLES;
        assert!(talking * 10 > frames * 6, "only {talking} of {frames} speech frames detected");
        let off_after = (1..100).find(|_| !vad.update(&quiet)).unwrap();
        assert!(off_after as u32 <= HANGOVER_FRAMES, "still on {off_after} frames after speech");
        assert!(off_after > 5, "the hangover did not hold the end of a word");
        // A steady fan hum 30 dB over room tone becomes the floor, not speech.
        let hum: Vec<f32> = (0..FRAME_SAMPLES).map(|i| 0.02 * (i as f32 * 0.05).sin()).collect();
        let on = (0..600).filter(|_| vad.update(&hum)).count();
        assert!(on < 600 / 2, "a steady hum kept it on for {on} of 600 frames");
        assert!(!vad.update(&hum));
    }
}
