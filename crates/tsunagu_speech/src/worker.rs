//! The speech thread: lines go in, sound comes out, and nothing waits for it.
//! The voices load there on first need (the dictionary is tens of
//! megabytes: a PC where nobody asks to be read aloud never loads it).

use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::english::EnglishVoice;
use crate::files::SpeechFiles;
use crate::japanese::JapaneseVoice;
use crate::{Language, SpeechError, Spoken, language_of};

/// Lines waiting to be spoken, at most; more are dropped (the room already
/// limits how fast anyone may chat, so this is only a guard).
pub const QUEUE: usize = 16;

/// One line, spoken (or why not).
#[derive(Debug)]
pub struct Said<K> {
    /// Whose line it was.
    pub who: K,
    /// The sound, or why there is none.
    pub spoken: Result<Spoken, SpeechError>,
    /// When the line was handed in.
    pub arrived: Instant,
    /// How long synthesis took (the voice loading included, the first time).
    pub took: Duration,
    /// This is the line's last part (a long line comes a sentence at a
    /// time, so its first sentence sounds while the rest is made).
    pub last: bool,
}

enum Job<K> {
    Prepare,
    Say { who: K, text: String, arrived: Instant },
}

/// Speaks lines on its own thread; results are collected with [`Self::take_said`].
pub struct SpeechWorker<K> {
    jobs: mpsc::SyncSender<Job<K>>,
    /// Behind a lock only so the worker may be shared (a Bevy resource); one
    /// reader takes the results.
    said: Mutex<mpsc::Receiver<Said<K>>>,
}

impl<K: Clone + Send + 'static> SpeechWorker<K> {
    /// Start the thread; the voices load from `files` when first needed.
    pub fn start(files: SpeechFiles) -> SpeechWorker<K> {
        let (jobs, inbox) = mpsc::sync_channel(QUEUE);
        let (outbox, said) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("tsunagu-speech".into()).spawn(move || speak_lines(&files, &inbox, &outbox));
        if let Err(e) = spawned {
            tracing::warn!("speech: no thread ({e}); lines will not be spoken");
        }
        SpeechWorker { jobs, said: Mutex::new(said) }
    }

    /// Load the voices now (someone in the room has speak-for-me on), so
    /// their first line is not slowed by it.
    pub fn prepare(&self) {
        let _ = self.jobs.try_send(Job::Prepare);
    }

    /// Speak `text` for `who`. Never blocks; false if the queue was full.
    pub fn say(&self, who: K, text: &str) -> bool {
        self.jobs.try_send(Job::Say { who, text: text.to_owned(), arrived: Instant::now() }).is_ok()
    }

    /// Lines spoken since the last call, in order.
    pub fn take_said(&self) -> Vec<Said<K>> {
        self.said.lock().unwrap_or_else(|e| e.into_inner()).try_iter().collect()
    }

    /// Wait up to `timeout` for the next spoken line (tests and benches).
    pub fn wait_said(&self, timeout: Duration) -> Option<Said<K>> {
        self.said.lock().unwrap_or_else(|e| e.into_inner()).recv_timeout(timeout).ok()
    }
}

/// The voices, once loaded (each may be missing on its own).
struct Voices {
    japanese: Result<JapaneseVoice, SpeechError>,
    english: Result<EnglishVoice, SpeechError>,
}

impl Voices {
    fn load(files: &SpeechFiles) -> Voices {
        let started = Instant::now();
        let voices = Voices { japanese: JapaneseVoice::load(files), english: EnglishVoice::find() };
        match (&voices.japanese, &voices.english) {
            (Ok(_), Ok(_)) => tracing::info!("speech: voices ready in {:.0} ms", started.elapsed().as_secs_f64() * 1000.0),
            (japanese, english) => {
                for e in [japanese.as_ref().err(), english.as_ref().err()].into_iter().flatten() {
                    tracing::warn!("speech: {e}");
                }
            }
        }
        voices
    }

    fn speak(&self, text: &str) -> Result<Spoken, SpeechError> {
        self.speak_as_is(text).map(Spoken::without_leading_silence)
    }

    fn speak_as_is(&self, text: &str) -> Result<Spoken, SpeechError> {
        match language_of(text) {
            Language::Japanese => self.japanese.as_ref().map_err(Clone::clone)?.speak(text),
            Language::English => match &self.english {
                Ok(english) => english.speak(text),
                // No English voice: the Japanese one reads Latin letters as it can.
                Err(missing) => self.japanese.as_ref().map_err(|_| missing.clone())?.speak(text),
            },
        }
    }
}

fn speak_lines<K: Clone>(files: &SpeechFiles, inbox: &mpsc::Receiver<Job<K>>, outbox: &mpsc::Sender<Said<K>>) {
    let mut voices: Option<Voices> = None;
    for job in inbox {
        let started = Instant::now();
        let loaded = voices.get_or_insert_with(|| Voices::load(files));
        if let Job::Say { who, text, arrived } = job {
            let parts = sentences(&text);
            for (i, part) in parts.iter().enumerate() {
                let spoken = loaded.speak(part);
                let failed = spoken.is_err();
                let last = failed || i + 1 == parts.len();
                if outbox.send(Said { who: who.clone(), spoken, arrived, took: started.elapsed(), last }).is_err() {
                    return;
                }
                if failed {
                    break;
                }
            }
        }
    }
}

/// Shorter than this, a piece is not split off on its own (a pause after
/// every word would sound halting).
const SHORTEST_PART: usize = 12;

/// `text` cut after each sentence's end (。！？!? and line breaks), pieces
/// shorter than [`SHORTEST_PART`] characters joined to the next: the first
/// sentence of a long line is ready in a fraction of the whole line's time.
fn sentences(text: &str) -> Vec<&str> {
    let text = crate::bounded(text);
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        if matches!(c, '。' | '！' | '？' | '!' | '?' | '\n' | '．') && text[start..end].chars().count() >= SHORTEST_PART {
            parts.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        match parts.last_mut() {
            // A short tail joins the sentence before it.
            Some(previous) if text[start..].chars().count() < SHORTEST_PART => *previous = &text[text.len() - previous.len() - text[start..].len()..],
            _ => parts.push(&text[start..]),
        }
    }
    parts.retain(|p| !p.trim().is_empty());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_spoken_a_sentence_at_a_time() {
        assert_eq!(sentences("はい"), vec!["はい"]);
        assert_eq!(sentences("はい。いいえ。"), vec!["はい。いいえ。"], "short sentences stay together");
        let long = "きのうの よるは ねむれなかった。きょうは すこし げんきです。ねこが すき";
        assert_eq!(sentences(long), vec!["きのうの よるは ねむれなかった。", "きょうは すこし げんきです。ねこが すき"]);
        assert_eq!(sentences(long).concat(), long, "nothing is lost");
        assert!(sentences("").is_empty());
        assert_eq!(sentences("Is anyone there? I can hear you now!"), vec!["Is anyone there?", " I can hear you now!"]);
    }
}
