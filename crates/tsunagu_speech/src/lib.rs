//! Speak for me (かわりに よんで): a chat line spoken aloud on each listener's
//! PC, for a child who cannot talk today. No audio crosses the network: the
//! text already arrives, and each PC makes the sound itself.
//!
//! Japanese is spoken by Open JTalk's Rust port: `jpreprocess` (the front end:
//! words, readings, accents) with the NAIST Japanese dictionary, and `jbonsai`
//! (the HTS engine) with the "Mei" voice. English is spoken by espeak-ng in its
//! own process (it is GPL-3.0, so it is run, never linked). The files come from
//! `cargo xtask deps` (see [`files`]); nothing is downloaded at run time.
//!
//! Synthesis is slow next to a frame: it runs on [`worker::SpeechWorker`]'s own
//! thread, never on the render or audio thread.

pub mod dictionary;
pub mod english;
pub mod files;
pub mod japanese;
pub mod worker;

use std::time::Duration;

/// The longest line spoken, in characters: a chat line's limit (the
/// protocol's), so a line that arrives is spoken whole; anything longer is cut.
pub const MAX_SPOKEN_CHARS: usize = 100;

/// A line made into sound: mono samples in −1..1 at `sample_rate`.
#[derive(Clone, Debug, PartialEq)]
pub struct Spoken {
    /// The sound.
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl Spoken {
    /// How long it plays.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate.max(1)))
    }
}

/// Which voice speaks a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// Any kana or kanji in it.
    Japanese,
    /// Latin letters and no Japanese.
    English,
}

/// The voice for `text`: Japanese if it holds any kana or kanji (a Japanese
/// line with an English word in it is still Japanese), English if it holds
/// Latin letters and no Japanese, otherwise Japanese (numbers and signs read
/// well in either).
pub fn language_of(text: &str) -> Language {
    let japanese = |c: char| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{ff66}'..='\u{ff9f}');
    if text.chars().any(japanese) {
        Language::Japanese
    } else if text.chars().any(|c| c.is_ascii_alphabetic()) {
        Language::English
    } else {
        Language::Japanese
    }
}

/// Why a line was not spoken.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpeechError {
    /// The voice's files are not on this PC.
    #[error("the voice is not installed: {0}")]
    Missing(String),
    /// The Japanese voice failed on this line.
    #[error("Japanese speech failed: {0}")]
    Japanese(String),
    /// espeak-ng failed, took too long, or said something unreadable.
    #[error("English speech failed: {0}")]
    English(String),
}

impl Spoken {
    /// Without the quiet the voices put before a line (Mei's is about a
    /// quarter of a second): the line starts sooner, and 10 ms of lead-in stay.
    pub fn without_leading_silence(mut self) -> Spoken {
        let lead_in = self.sample_rate as usize / 100;
        match self.samples.iter().position(|s| s.abs() > SILENCE) {
            Some(first) => drop(self.samples.drain(..first.saturating_sub(lead_in))),
            None => self.samples.clear(),
        }
        self
    }
}

/// Quieter than this (about −50 dB full scale) is silence.
const SILENCE: f32 = 0.003;

/// At most [`MAX_SPOKEN_CHARS`] characters of `text`.
fn bounded(text: &str) -> &str {
    match text.char_indices().nth(MAX_SPOKEN_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_spoken_in_its_own_language() {
        assert_eq!(language_of("はい"), Language::Japanese);
        assert_eq!(language_of("ちょっと まってね"), Language::Japanese);
        assert_eq!(language_of("漢字"), Language::Japanese);
        assert_eq!(language_of("ｱｲｳ"), Language::Japanese);
        assert_eq!(language_of("Minecraft たのしい"), Language::Japanese);
        assert_eq!(language_of("Wait a moment, please"), Language::English);
        assert_eq!(language_of("123!"), Language::Japanese);
    }

    #[test]
    fn the_quiet_before_a_line_is_left_out() {
        let mut samples = vec![0.0; 4800];
        samples.extend([0.5, -0.5, 0.25]);
        let spoken = Spoken { samples, sample_rate: 48_000 }.without_leading_silence();
        assert_eq!(spoken.samples.len(), 480 + 3, "10 ms of lead-in and the sound");
        assert_eq!(spoken.samples[480], 0.5);
        let silent = Spoken { samples: vec![0.0; 100], sample_rate: 48_000 }.without_leading_silence();
        assert!(silent.samples.is_empty());
    }

    #[test]
    fn long_lines_are_cut_on_a_character() {
        let long = "あ".repeat(150);
        assert_eq!(bounded(&long).chars().count(), MAX_SPOKEN_CHARS);
        assert_eq!(bounded("short"), "short");
    }
}
