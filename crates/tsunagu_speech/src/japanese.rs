//! The Japanese voice: jpreprocess turns a line into full-context labels
//! (readings, accents, phrasing) with the dictionary, and jbonsai's HTS
//! engine turns the labels into sound with the Mei voice.

use jpreprocess::{DefaultTokenizer, JPreprocess, SystemDictionaryConfig};

use crate::files::SpeechFiles;
use crate::{SpeechError, Spoken, bounded};

/// The loudest a spoken line gets (full scale is 1): a voice at a
/// comfortable level beside the others' microphones.
const PEAK: f64 = 0.7;

/// A loaded Japanese voice (about 80 MB with its dictionary).
pub struct JapaneseVoice {
    front: JPreprocess<DefaultTokenizer>,
    engine: jbonsai::Engine,
}

impl JapaneseVoice {
    /// Load the dictionary and the voice (a fraction of a second; do it off
    /// the render thread).
    pub fn load(files: &SpeechFiles) -> Result<JapaneseVoice, SpeechError> {
        if let Some(missing) = files.missing() {
            return Err(SpeechError::Missing(missing));
        }
        let dictionary =
            SystemDictionaryConfig::File(files.dictionary.clone()).load().map_err(|e| SpeechError::Missing(format!("dictionary: {e}")))?;
        let front = JPreprocess::with_dictionaries(dictionary, None);
        let engine = jbonsai::Engine::load([&files.voice]).map_err(|e| SpeechError::Missing(format!("voice: {e}")))?;
        Ok(JapaneseVoice { front, engine })
    }

    /// `text` spoken (at most [`crate::MAX_SPOKEN_CHARS`] characters of it).
    pub fn speak(&self, text: &str) -> Result<Spoken, SpeechError> {
        let labels = self.front.extract_fullcontext(bounded(text)).map_err(|e| SpeechError::Japanese(e.to_string()))?;
        if labels.is_empty() {
            return Ok(Spoken { samples: Vec::new(), sample_rate: self.sample_rate() });
        }
        let speech = self.engine.synthesize(labels).map_err(|e| SpeechError::Japanese(e.to_string()))?;
        // The engine speaks in 16-bit units and Mei peaks past full scale on
        // short words: each line is brought to the same peak, below clipping.
        let peak = speech.iter().fold(1.0f64, |m, s| m.max(s.abs()));
        let gain = (PEAK * 32768.0 / peak).min(1.0) / 32768.0;
        let samples = speech.iter().map(|s| (*s * gain).clamp(-1.0, 1.0) as f32).collect();
        Ok(Spoken { samples, sample_rate: self.sample_rate() })
    }

    /// The voice's sample rate (Mei: 48 kHz).
    pub fn sample_rate(&self) -> u32 {
        self.engine.condition.get_sampling_frequency() as u32
    }
}
