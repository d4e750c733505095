//! `cargo xtask bench voice`: what voice costs and how long it takes.
//!
//! (a) Latency of the software path, mouth to ear, network excluded: the test
//!     phrase enters in 10 ms device periods, goes through the capture chain
//!     (canceller, suppression, gain, VAD, Opus), straight into a listener's
//!     mix (jitter buffer, decoder, spatial track) rendered in 10 ms periods;
//!     the delay is found by aligning what comes out with what went in. The
//!     stages are measured apart, and the two device buffers (10 ms each, the
//!     size the client asks for) are added.
//! (b) CPU: the capture chain per 20 ms frame (one sent stream); the mix with
//!     8 voices against an empty one (per received stream).
//! (c) Bitrate per speaker: Opus payload, the `V` datagram, and on the wire
//!     with QUIC, UDP and IPv4 headers; talking and silent.
//! (d) Server forwarding: 20 people in one room all talking at 50 frames a
//!     second through the real room server on the in-memory transport; only
//!     the server's time is counted.
//!
//! `-- smoke` runs each part briefly (the test suite does, to keep it building).
#![allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]

use std::time::{Duration, Instant};

use tsunagu_protocol::limits::MAX_DATAGRAM_BYTES;
use tsunagu_protocol::{ClientDatagram, PeerId, VoiceFrame, encode};
use tsunagu_testkit::{ROOM_CODE, Stepper};
use tsunagu_voice::capture::CaptureChain;
use tsunagu_voice::measure::{align, rms_db};
use tsunagu_voice::output::{ManualClock, Sink, VoiceOutput};
use tsunagu_voice::{FRAME_SAMPLES, SAMPLE_RATE};

/// Device periods, samples: what the client asks of the sound card (see
/// `tsunagu_voice::output::DEVICE_BUFFER` and `devices::INPUT_BUFFER`).
const OUTPUT_PERIOD: usize = 480;
const INPUT_PERIOD: usize = 240;
/// QUIC short header (1 + 8-byte connection id + 2-byte packet number), the
/// DATAGRAM frame's type and length (3), the AEAD tag (16), UDP (8), IPv4 (20).
const WIRE_OVERHEAD_BYTES: usize = 1 + 8 + 2 + 3 + 16 + 8 + 20;

fn phrase() -> Vec<f32> {
    let path = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR, set by cargo"))
        .join("../../assets/voice/far-end-phrase.wav");
    tsunagu_voice::wav::read_mono_48k(&path).expect("assets/voice/far-end-phrase.wav")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn ms(samples: f64) -> f64 {
    samples * 1000.0 / f64::from(SAMPLE_RATE)
}

/// (a) The software path's delay, and its stages, in ms.
fn latency(speech: &[f32]) {
    // The chain alone: its algorithmic delay (filter banks, suppression).
    let mut chain = CaptureChain::new().unwrap();
    let mut processed = Vec::new();
    for frame in speech.chunks_exact(FRAME_SAMPLES) {
        chain.process(frame.try_into().unwrap());
        processed.extend_from_slice(chain.processed());
    }
    let (chain_lag, _) = align(speech, &processed, 4_800);
    let lookahead = chain.encoder_lookahead();

    // The whole path, on one timeline of 5 ms ticks: each tick the card
    // delivers 5 ms of microphone (heard during that tick); every second tick
    // the mix renders 10 ms, which the card plays from then on. So the input
    // period, the frame, every stage and the output period are all inside the
    // measured delay; only a driver's own buffering beyond one period is not.
    let mut chain = CaptureChain::new().unwrap();
    let clock = ManualClock::default();
    let mut output = VoiceOutput::open(Sink::Manual(clock.clone())).unwrap();
    let (mut mic, mut playout) = (Vec::new(), Vec::new());
    let mut played = vec![0.0f32; speech.len() + OUTPUT_PERIOD];
    for (tick, period) in speech.chunks_exact(INPUT_PERIOD).enumerate() {
        mic.extend_from_slice(period);
        while mic.len() >= FRAME_SAMPLES {
            let frame: Vec<f32> = mic.drain(..FRAME_SAMPLES).collect();
            if let Some(voice) = chain.process(frame.as_slice().try_into().unwrap()).frame {
                output.push(PeerId(1), voice);
                output.place(PeerId(1), [0.0, 0.0, -0.5]);
            }
        }
        let now = (tick + 1) * INPUT_PERIOD;
        if now.is_multiple_of(OUTPUT_PERIOD) {
            for (i, [l, r]) in clock.render(OUTPUT_PERIOD).into_iter().enumerate() {
                if let Some(slot) = played.get_mut(now + i) {
                    *slot = (l + r) / 2.0;
                }
            }
        }
        if let Some(c) = output.counters(PeerId(1)) {
            playout.push(f64::from(c.target_delay_ms));
        }
    }
    // Each talk spurt starts at its own delay: the median over half seconds of speech.
    let mut lags: Vec<f64> = speech
        .chunks_exact(24_000)
        .enumerate()
        .filter(|(_, piece)| rms_db(piece) > -40.0)
        .map(|(i, piece)| align(piece, &played[i * 24_000..], 9_600).0 as f64)
        .collect();
    let spread = (lags.iter().cloned().fold(f64::MAX, f64::min), lags.iter().cloned().fold(0.0, f64::max));
    let mouth_to_ear = ms(median(&mut lags));
    println!("voice latency, software path (network excluded), 5 ms input and 10 ms output periods:");
    println!("  frame accumulation            20.0 ms (one 20 ms frame)");
    println!("  canceller/suppression/gain  {:6.1} ms (measured by alignment)", ms(chain_lag as f64));
    println!("  Opus look-ahead             {:6.1} ms", ms(lookahead as f64));
    println!("  jitter buffer target        {:6.1} ms (median)", median(&mut playout));
    println!("  input and output periods,");
    println!(
        "  waits for the next period   {:6.1} ms (the rest)",
        mouth_to_ear - 20.0 - ms(chain_lag as f64) - ms(lookahead as f64) - median(&mut playout)
    );
    println!("  = mouth to ear              {mouth_to_ear:6.1} ms median over talk spurts ({:.1} to {:.1}; goal 60 ms)", ms(spread.0), ms(spread.1));
    println!(
        "    (periods in phase, as here; two real cards are not: up to 15 ms more, {:.1} ms)",
        mouth_to_ear + ms((INPUT_PERIOD + OUTPUT_PERIOD) as f64)
    );
}

/// (b) CPU per sent and per received stream, % of one core.
fn cpu(speech: &[f32], rounds: usize) {
    let mut chain = CaptureChain::new().unwrap();
    let mut far = vec![0.0f32; FRAME_SAMPLES];
    let mut per_frame = Vec::new();
    for _ in 0..rounds {
        for frame in speech.chunks_exact(FRAME_SAMPLES) {
            far.copy_from_slice(frame);
            let started = Instant::now();
            // A live client always has the far end to cancel as well.
            chain.far_end(&far);
            chain.process(frame.try_into().unwrap());
            per_frame.push(started.elapsed().as_secs_f64());
        }
    }
    let sent = median(&mut per_frame) / 0.020 * 100.0;

    // Receiving: the mix with 8 voices, against the mix with none.
    let frames = tsunagu_voice::codec::talk_spurt(speech).unwrap();
    let render_cost = |voices: u32| -> f64 {
        let clock = ManualClock::default();
        let mut output = VoiceOutput::open(Sink::Manual(clock.clone())).unwrap();
        let mut times = Vec::new();
        for round in 0..rounds {
            for (i, spoken) in frames.iter().enumerate() {
                // Each round goes on where the last ended, as one long talk.
                let n = round * frames.len() + i;
                for v in 0..voices {
                    let frame = VoiceFrame { seq: n as u16, timestamp: (n * FRAME_SAMPLES) as u32, ..spoken.clone() };
                    output.push(PeerId(v + 1), frame);
                    output.place(PeerId(v + 1), [v as f32 - 4.0, 1.2, -2.0]);
                }
                let started = Instant::now();
                let rendered = clock.render(FRAME_SAMPLES);
                times.push(started.elapsed().as_secs_f64());
                std::hint::black_box(rendered);
            }
        }
        if voices > 0 {
            let played = output.counters(PeerId(1)).map_or(0, |c| c.played);
            assert!(played as usize > rounds * frames.len() * 9 / 10, "the voices did not all play ({played})");
        }
        median(&mut times)
    };
    let (empty, eight) = (render_cost(0), render_cost(8));
    let received = (eight - empty) / 8.0 / 0.020 * 100.0;
    println!("voice CPU, % of one core (median over {} frames):", per_frame.len());
    println!(
        "  per sent stream (far end + canceller + suppression + gain + VAD + Opus): {sent:.2}% (a 20 ms frame in {:.0} us)",
        median(&mut per_frame) * 1e6
    );
    println!("  per received stream (jitter buffer + decode + spatial mix): {received:.3}% (goal < 1%); empty mix {:.0} us per 20 ms", empty * 1e6);
}

/// (c) kbit/s per speaker while talking and while silent.
fn bitrate(speech: &[f32]) {
    let mut chain = CaptureChain::new().unwrap();
    let (mut opus, mut datagrams, mut frames) = (0usize, 0usize, 0usize);
    let mut talking_frames = 0usize;
    for frame in speech.chunks_exact(FRAME_SAMPLES) {
        let outcome = chain.process(frame.try_into().unwrap());
        if outcome.voice {
            talking_frames += 1;
        }
        if let Some(voice) = outcome.frame {
            frames += 1;
            opus += voice.opus.len();
            datagrams += encode(&ClientDatagram::Voice(voice), MAX_DATAGRAM_BYTES).unwrap().len();
        }
    }
    let seconds = frames as f64 * 0.020;
    let kbps = |bytes: usize| bytes as f64 * 8.0 / seconds / 1000.0;
    println!("voice bitrate per speaker while talking ({frames} frames sent, {talking_frames} heard as speech):");
    println!("  Opus payload   {:5.1} kbit/s", kbps(opus));
    println!("  V datagrams    {:5.1} kbit/s (goal 28)", kbps(datagrams));
    println!(
        "  on the wire    {:5.1} kbit/s (+ {WIRE_OVERHEAD_BYTES} bytes of QUIC, UDP and IPv4 headers a frame)",
        kbps(datagrams + frames * WIRE_OVERHEAD_BYTES)
    );
    // Ten seconds of a quiet ward: room tone at −60 dBFS.
    let mut chain = CaptureChain::new().unwrap();
    let mut seed = 7u32;
    let mut quiet_bytes = 0usize;
    let mut tone = Vec::new();
    for _ in 0..500 {
        let frame: Vec<f32> = (0..FRAME_SAMPLES)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 24) as f32 * 0.002 - 0.001
            })
            .collect();
        tone.extend_from_slice(&frame);
        if let Some(voice) = chain.process(frame.as_slice().try_into().unwrap()).frame {
            quiet_bytes += encode(&ClientDatagram::Voice(voice), MAX_DATAGRAM_BYTES).unwrap().len() + WIRE_OVERHEAD_BYTES;
        }
    }
    println!(
        "  silent         {:5.2} kbit/s on the wire (goal 1; room tone at {:.0} dBFS for 10 s)",
        quiet_bytes as f64 * 8.0 / 10.0 / 1000.0,
        rms_db(&tone)
    );
}

/// (d) Voice streams one core of the server forwards.
fn forwarding(people: usize, seconds: usize) {
    let mut s = Stepper::new(people);
    let clients: Vec<usize> = (0..people).map(|i| s.connect(ROOM_CODE, &format!("p{i}"))).collect();
    let mut now = Duration::ZERO;
    for _ in 0..10 {
        now += Duration::from_millis(20);
        s.step(Duration::from_millis(20));
    }
    let opus = vec![0x5au8; 60];
    let mut server_time = Duration::ZERO;
    let mut delivered = 0usize;
    for frame in 0..seconds * 50 {
        for &c in &clients {
            let voice = VoiceFrame { seq: frame as u16, timestamp: (frame * FRAME_SAMPLES) as u32, speaking: true, opus: opus.clone() };
            s.clients[c].core.send_voice(voice);
        }
        now += Duration::from_millis(20);
        let started = Instant::now();
        s.server.step(now);
        server_time += started.elapsed();
        for &c in &clients {
            s.clients[c].core.poll(now);
            delivered += s.clients[c].core.take_voice().len();
        }
    }
    let streams = people as f64;
    let busy = server_time.as_secs_f64() / seconds as f64;
    println!("server voice forwarding: {people} people all talking (50 frames/s each), {delivered} frames delivered in {seconds} s");
    println!("  server CPU {:.1}% of one core → {:.0} voice streams per core (goal 1,000)", busy * 100.0, streams / busy);
}

fn main() {
    let smoke = std::env::args().any(|a| a == "smoke");
    let speech = phrase();
    let speech = if smoke { speech[..2 * 48_000].to_vec() } else { speech };
    latency(&speech);
    cpu(&speech, if smoke { 1 } else { 5 });
    bitrate(&speech);
    forwarding(20, if smoke { 1 } else { 20 });
}
