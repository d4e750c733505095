//! The English voice: espeak-ng, run as its own process for each line (it is
//! GPL-3.0; running it keeps Tsunagu's licence). The line goes in on stdin,
//! never on the command line, and a WAV comes back on stdout.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{SpeechError, Spoken, bounded};

/// How long espeak-ng may take for one line before it is stopped.
pub const TIME_LIMIT: Duration = Duration::from_secs(5);
/// The most sound read back: a minute at espeak-ng's 22 kHz, 16 bits.
const MAX_WAV_BYTES: u64 = 22_050 * 2 * 60 + 4096;

/// espeak-ng on this PC.
#[derive(Clone, Debug)]
pub struct EnglishVoice {
    program: PathBuf,
}

impl EnglishVoice {
    /// espeak-ng from the PATH, if it runs.
    pub fn find() -> Result<EnglishVoice, SpeechError> {
        let program = PathBuf::from("espeak-ng");
        match Command::new(&program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
            Ok(status) if status.success() => Ok(EnglishVoice { program }),
            _ => Err(SpeechError::Missing("espeak-ng is not installed (Debian: apt install espeak-ng)".into())),
        }
    }

    /// `text` spoken, a little slower than espeak-ng's default, for a room of children.
    pub fn speak(&self, text: &str) -> Result<Spoken, SpeechError> {
        let fail = |what: &str| SpeechError::English(what.to_owned());
        let mut child = Command::new(&self.program)
            .args(["--stdout", "-v", "en-us", "-s", "150"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| SpeechError::English(e.to_string()))?;
        // A line per process: a newline ends it, so none may be inside.
        let line: String = bounded(text).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(line.as_bytes()).map_err(|e| SpeechError::English(e.to_string()))?;
        }
        let Some(stdout) = child.stdout.take() else { return Err(fail("no output")) };
        let reader = std::thread::spawn(move || {
            let mut wav = Vec::new();
            let _ = stdout.take(MAX_WAV_BYTES).read_to_end(&mut wav);
            wav
        });
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if started.elapsed() > TIME_LIMIT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail("took too long"));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(SpeechError::English(e.to_string())),
            }
        }
        let wav = reader.join().map_err(|_| fail("reader failed"))?;
        parse_wav(&wav).ok_or_else(|| fail("not a 16-bit mono WAV"))
    }
}

/// A 16-bit PCM WAV as espeak-ng writes it to a pipe: its sizes say "very
/// long" because it cannot seek back, so the data runs to the end.
fn parse_wav(bytes: &[u8]) -> Option<Spoken> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let mut at = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().ok()?) as usize;
        let body = at + 8;
        if id == b"fmt " {
            let f = bytes.get(body..body + 16)?;
            let word = |i: usize| u16::from_le_bytes([f[i], f[i + 1]]);
            format = Some((word(0), word(2), u32::from_le_bytes([f[4], f[5], f[6], f[7]]), word(14)));
        } else if id == b"data" {
            let (kind, channels, sample_rate, bits) = format?;
            if kind != 1 || channels != 1 || bits != 16 || sample_rate == 0 {
                return None;
            }
            let end = body.saturating_add(size).min(bytes.len());
            let samples = bytes[body..end].chunks_exact(2).map(|s| f32::from(i16::from_le_bytes([s[0], s[1]])) / 32768.0).collect();
            return Some(Spoken { samples, sample_rate });
        }
        at = body.checked_add(size)?.checked_add(size & 1)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(declared_data: u32, samples: &[i16]) -> Vec<u8> {
        let mut out = b"RIFF\xff\xff\xff\x7fWAVEfmt ".to_vec();
        out.extend_from_slice(&16u32.to_le_bytes());
        for word in [1u16, 1] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&22_050u32.to_le_bytes());
        out.extend_from_slice(&44_100u32.to_le_bytes());
        for word in [2u16, 16] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(b"data");
        out.extend_from_slice(&declared_data.to_le_bytes());
        for s in samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    #[test]
    fn a_piped_wav_is_read_to_its_end() {
        let spoken = parse_wav(&wav(0x7fff_f000, &[0, 16384, -16384])).unwrap_or_else(|| panic!("not read"));
        assert_eq!(spoken.sample_rate, 22_050);
        assert_eq!(spoken.samples, vec![0.0, 0.5, -0.5]);
    }

    #[test]
    fn anything_else_is_refused_without_a_panic() {
        assert!(parse_wav(b"").is_none());
        assert!(parse_wav(b"RIFF\0\0\0\0WAVE").is_none());
        let mut stereo = wav(4, &[1, 2]);
        stereo[22] = 2;
        assert!(parse_wav(&stereo).is_none());
        for cut in 0..44 {
            assert!(parse_wav(&wav(6, &[1, 2, 3])[..cut]).is_none(), "cut at {cut}");
        }
        let mut huge_chunk = wav(6, &[1, 2, 3]);
        huge_chunk[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_wav(&huge_chunk).is_none());
    }

    #[test]
    fn espeak_speaks_english_when_installed() {
        let Ok(voice) = EnglishVoice::find() else {
            eprintln!("espeak-ng is not installed: English speech not tested here");
            return;
        };
        let spoken = voice.speak("Wait a moment, please.\nAnd more").unwrap_or_else(|e| panic!("{e}"));
        let seconds = spoken.duration().as_secs_f64();
        assert!((1.0..6.0).contains(&seconds), "{seconds} s of speech");
        let loud = spoken.samples.iter().filter(|s| s.abs() > 0.05).count();
        assert!(loud > spoken.samples.len() / 10, "mostly silent: {loud} loud samples");
    }
}
