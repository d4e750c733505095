//! `cargo xtask bench speech`: how fast a line becomes sound on this PC.
//! Loads the voices from `assets/speech` (or `TSUNAGU_SPEECH_DIR`), then
//! speaks a short, a middling and a 100-character line several times each and
//! prints, per line, the median and worst time from handing the line in to
//! its sound being ready, the real-time factor, and the process's peak memory.
//! With `smoke` (the test suite's run) each line is spoken once.
//! `--wav DIR` writes each line's sound there, to listen to.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tsunagu_speech::files::{SpeechFiles, folder_in};
use tsunagu_speech::japanese::JapaneseVoice;
use tsunagu_speech::worker::SpeechWorker;

const LINES: [(&str, &str); 4] = [
    ("short", "はい"),
    ("phrase", "ちょっと まってね"),
    ("sentence", "きょうは たなばたですね。みんなの ねがいごとを よみたいな。"),
    (
        "100 chars",
        "きのうの よるは ねむれなかったけれど、きょうは すこし げんきです。えほんの つづきを よんでほしいな。ねこの ページが いちばん すきです。みんなと いっしょに えを かけて うれしかった。またね",
    ),
];

fn peak_memory_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok());
    kb.unwrap_or(0.0) / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "smoke");
    let wav_dir = args.iter().position(|a| a == "--wav").and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let files = SpeechFiles::in_folder(&folder_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets")));
    let before = peak_memory_mb();
    let started = Instant::now();
    let voice = match JapaneseVoice::load(&files) {
        Ok(voice) => voice,
        Err(e) => {
            eprintln!("speech bench: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "voices loaded in {:.0} ms; peak memory {:.0} MB (before loading {:.0} MB)",
        started.elapsed().as_secs_f64() * 1e3,
        peak_memory_mb(),
        before
    );
    drop(voice);
    let rounds = if smoke { 1 } else { 7 };
    // Through the worker, as the client does: arrival to sound ready.
    let worker = SpeechWorker::<usize>::start(files);
    // Loaded before the clock starts, as the client prepares when someone
    // turns speak-for-me on.
    assert!(worker.say(usize::MAX, "はい"));
    let _ = worker.wait_said(Duration::from_secs(60));
    let cpu = || {
        // utime + stime of this process, in clock ticks (100 per second here).
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
        fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0) + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0)
    };
    for (i, (name, text)) in LINES.iter().enumerate() {
        let (mut first, mut whole, mut cpu_ms) = (Vec::new(), Vec::new(), Vec::new());
        let mut seconds = 0.0;
        for _ in 0..rounds {
            let cpu_before = cpu();
            assert!(worker.say(i, text), "queue full");
            let mut sound = Vec::new();
            let mut rate;
            loop {
                let said = worker.wait_said(Duration::from_secs(60)).unwrap_or_else(|| panic!("no sound for {name}"));
                let spoken = said.spoken.unwrap_or_else(|e| panic!("{name}: {e}"));
                if sound.is_empty() {
                    first.push(said.arrived.elapsed().as_secs_f64() * 1e3);
                }
                sound.extend_from_slice(&spoken.samples);
                rate = spoken.sample_rate;
                if said.last {
                    whole.push(said.arrived.elapsed().as_secs_f64() * 1e3);
                    break;
                }
            }
            cpu_ms.push((cpu() - cpu_before) * 10.0);
            seconds = sound.len() as f64 / f64::from(rate.max(1));
            assert!(seconds > 0.2, "{name}: only {seconds} s of sound");
            if let Some(dir) = &wav_dir {
                write_wav(&dir.join(format!("{i}.wav")), &sound, rate);
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            (v[v.len() / 2], v[v.len() - 1])
        };
        let ((first, first_worst), (whole, _), (cpu_ms, _)) = (median(&mut first), median(&mut whole), median(&mut cpu_ms));
        println!(
            "{name:>9} ({} chars, {seconds:.1} s of speech): first sound ready after {first:.0} ms median ({first_worst:.0} worst of {rounds}), whole line {whole:.0} ms; CPU {cpu_ms:.0} ms per line (real-time factor {:.3})",
            text.chars().count(),
            cpu_ms / 1e3 / seconds
        );
    }
    println!("peak memory {:.0} MB", peak_memory_mb());
}

fn write_wav(path: &Path, samples: &[f32], rate: u32) {
    let written = tsunagu_voice::wav::create(path, rate, 1).and_then(|mut wav| {
        for s in samples {
            wav.write_sample(tsunagu_voice::wav::to_i16(*s))?;
        }
        Ok(wav.finalize()?)
    });
    if let Err(e) = written {
        eprintln!("cannot write {}: {e}", path.display());
    }
}
