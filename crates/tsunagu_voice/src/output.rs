//! The receiving side: each person heard gets a spatial track in kira placed
//! at their head, the listener at ours, and a [`VoiceStream`] sound on it that
//! runs their jitter buffer and decoder on the audio thread (so the playout
//! clock is the sound card's own, and drift between two PCs is the jitter
//! buffer's to absorb). What the mix plays is tapped for the echo canceller.
//!
//! The distance model (kira's, configured here): full volume within
//! [`FULL_VOLUME_WITHIN`] metres, falling to silence at [`SILENT_BEYOND`];
//! in between, the loudness in dB follows an ease-out curve, so a friend two
//! metres away is barely softer and the far corner is faint:
//!
//! | distance | 1 m | 2 m | 4 m | 6 m | 8 m | 10 m | 12 m |
//! | --- | --- | --- | --- | --- | --- | --- | --- |
//! | level | 0 dB | −0.5 | −4.5 | −12 | −25 | −40 | silent |
//!
//! Left and right come from the direction of the head relative to the
//! listener's ears (kira's spatialisation at strength 0.75: a voice straight to
//! one side is about 12 dB softer in the other ear, never gone from it).
//!
//! Long because the mix's backend, its tap for the echo canceller and the
//! per-speaker stream run on one audio thread and share its clock.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kira::backend::{Backend, Renderer};
use kira::listener::ListenerHandle;
use kira::sound::static_sound::{StaticSoundData, StaticSoundSettings};
use kira::sound::{Sound, SoundData};
use kira::track::{SpatialTrackBuilder, SpatialTrackHandle};
use kira::{AudioManager, AudioManagerSettings, Decibels, Easing, Frame, StartTime, Tween};
use tsunagu_protocol::{PeerId, VoiceFrame};

use crate::receiver::VoiceReceiver;
use crate::resample::StreamResampler;
use crate::{FRAME_SAMPLES, SAMPLE_RATE};

/// Closer than this, a voice is at full volume (metres).
pub const FULL_VOLUME_WITHIN: f32 = 1.0;
/// Beyond this, a voice is silent (metres); the server stops sending there too.
pub const SILENT_BEYOND: f32 = 12.0;
/// How much left/right placement colours a voice (kira's spatialisation strength).
pub const PANNING_STRENGTH: f32 = 0.75;
/// The output buffer asked of a sound card: 10 ms (the mix runs in 128-frame chunks).
pub const DEVICE_BUFFER: Duration = Duration::from_millis(10);
/// How fast a volume chosen by hand is reached.
const VOLUME_FADE: Duration = Duration::from_millis(50);
/// Frames waiting between the network and one speaker's stream, at most.
const STREAM_QUEUE: usize = 64;
/// Far-end samples the capture side may fall behind by (one second).
const REFERENCE_QUEUE: usize = SAMPLE_RATE as usize;

/// Where the mix goes.
pub enum Sink {
    /// A sound card through cpal: the named output, or the system's default.
    Device(Option<String>),
    /// A 16-bit stereo WAV file, written as time passes (`--speaker-file`).
    File(PathBuf),
    /// Nowhere until [`ManualClock::render`] asks: tests render exactly.
    Manual(ManualClock),
}

/// Why there is no sound output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// No sound card, or it would not open.
    #[error("no speakers: {0}")]
    NoDevice(String),
    /// The file could not be written.
    #[error("cannot write the speaker file: {0}")]
    File(String),
}

/// Renders the mix on demand (tests), the same path a sound card pulls.
#[derive(Clone, Default)]
pub struct ManualClock {
    tap: Arc<Mutex<Option<Tap>>>,
}

impl ManualClock {
    /// Render `frames` stereo frames at 48 kHz: (left, right) each.
    pub fn render(&self, frames: usize) -> Vec<[f32; 2]> {
        let mut out = vec![0.0f32; frames * 2];
        if let Some(tap) = self.tap.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            tap.render(&mut out, 2);
        }
        out.chunks_exact(2).map(|c| [c[0], c[1]]).collect()
    }
}

/// kira's renderer, and the far-end tap behind it.
struct Tap {
    renderer: Renderer,
    /// Mono mix at 48 kHz for the echo canceller.
    reference: rtrb::Producer<f32>,
    to_48k: StreamResampler,
    mono: Vec<f32>,
    mono_48k: Vec<f32>,
}

impl Tap {
    fn render(&mut self, out: &mut [f32], channels: u16) {
        self.renderer.on_start_processing();
        self.renderer.process(out, channels);
        let channels = usize::from(channels.max(1));
        self.mono.clear();
        self.mono.extend(out.chunks(channels).map(|c| c.iter().take(2).sum::<f32>() / c.len().min(2) as f32));
        self.mono_48k.clear();
        self.to_48k.process(&self.mono, &mut self.mono_48k);
        for &s in &self.mono_48k {
            // Full: the capture side stopped reading; the canceller will re-converge.
            let _ = self.reference.push(s);
        }
    }
}

/// The kira backend: a sound card, a file or a manual clock, each tapped.
pub struct TapBackend {
    sink: Option<Sink>,
    sample_rate: u32,
    reference: Option<rtrb::Producer<f32>>,
    stream: Option<cpal::Stream>,
    stop: Arc<AtomicBool>,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// Settings: where, and the producer half of the far-end queue.
pub struct TapSettings {
    sink: Sink,
    reference: rtrb::Producer<f32>,
}

impl Backend for TapBackend {
    type Settings = TapSettings;
    type Error = OutputError;

    fn setup(settings: TapSettings, _internal_buffer_size: usize) -> Result<(Self, u32), OutputError> {
        let sample_rate = match &settings.sink {
            Sink::Device(name) => crate::devices::output_device(name.as_deref())?.1.sample_rate(),
            Sink::File(_) | Sink::Manual(_) => SAMPLE_RATE,
        };
        let backend = TapBackend {
            sink: Some(settings.sink),
            sample_rate,
            reference: Some(settings.reference),
            stream: None,
            stop: Arc::new(AtomicBool::new(false)),
            writer: None,
        };
        Ok((backend, sample_rate))
    }

    fn start(&mut self, renderer: Renderer) -> Result<(), OutputError> {
        let reference = self.reference.take().ok_or_else(|| OutputError::NoDevice("started twice".into()))?;
        let tap = Tap { renderer, reference, to_48k: StreamResampler::new(self.sample_rate, SAMPLE_RATE), mono: Vec::new(), mono_48k: Vec::new() };
        match self.sink.take() {
            Some(Sink::Manual(clock)) => {
                *clock.tap.lock().unwrap_or_else(|e| e.into_inner()) = Some(tap);
            }
            Some(Sink::File(path)) => {
                let mut writer = crate::wav::create(&path, SAMPLE_RATE, 2).map_err(|e| OutputError::File(e.to_string()))?;
                let stop = self.stop.clone();
                let mut tap = tap;
                // Real time, so voices arrive and play as they would on a sound card.
                self.writer = Some(std::thread::spawn(move || {
                    let started = Instant::now();
                    let mut written = 0u64;
                    let mut buffer = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(5));
                        let due = (started.elapsed().as_secs_f64() * f64::from(SAMPLE_RATE)) as u64;
                        let frames = (due - written) as usize;
                        buffer.resize(frames * 2, 0.0);
                        tap.render(&mut buffer, 2);
                        for &s in &buffer {
                            if writer.write_sample(crate::wav::to_i16(s)).is_err() {
                                return;
                            }
                        }
                        written = due;
                        // The header says how long the file is: keep it true, so a
                        // run that is killed still leaves a playable file.
                        if written % u64::from(SAMPLE_RATE / 2) < frames as u64 && writer.flush().is_err() {
                            return;
                        }
                    }
                    if let Err(e) = writer.finalize() {
                        tracing::warn!("the speaker file could not be finished: {e}");
                    }
                }));
            }
            Some(Sink::Device(name)) => {
                self.stream = Some(crate::devices::play(name.as_deref(), tap)?);
            }
            None => return Err(OutputError::NoDevice("started twice".into())),
        }
        Ok(())
    }
}

impl TapBackend {
    /// Stop a file writer and finish the file (also done on drop).
    fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        self.stream = None;
    }
}

impl Drop for TapBackend {
    fn drop(&mut self) {
        self.finish();
    }
}

impl crate::devices::Render for Tap {
    fn render(&mut self, out: &mut [f32], channels: u16) {
        Tap::render(self, out, channels);
    }
}

/// What the audio thread tells the rest about one speaker.
#[derive(Default)]
struct StreamShared {
    speaking: AtomicBool,
    removed: AtomicBool,
    /// Jitter-buffer counters, for the overlay and benches: played, recovered, concealed, late.
    counters: [AtomicU32; 4],
    /// Buffering the network calls for, samples.
    target_delay: AtomicU32,
}

/// One speaker's stream on the audio thread.
struct VoiceStream {
    frames: rtrb::Consumer<VoiceFrame>,
    receiver: VoiceReceiver,
    shared: Arc<StreamShared>,
    decoded: [f32; FRAME_SAMPLES],
    /// Position in `decoded`, in 48 kHz samples (fractional when the card is not 48 kHz).
    position: f64,
    /// Playout clock at the start of `decoded`.
    clock: i64,
    /// `decoded` is silence (nobody talking).
    silent: bool,
}

impl Sound for VoiceStream {
    fn process(&mut self, out: &mut [Frame], dt: f64, _info: &kira::info::Info) {
        let now = self.clock + self.position as i64;
        while let Ok(frame) = self.frames.pop() {
            self.receiver.push(frame, now);
        }
        // While silent, ask again every block (not every 20 ms), so a talk
        // spurt starts within a block of its time instead of on a 20 ms grid.
        if self.silent && self.position < FRAME_SAMPLES as f64 {
            self.clock = now;
            self.position = 0.0;
            self.silent = !self.receiver.next(self.clock, &mut self.decoded);
        }
        let step = f64::from(SAMPLE_RATE) * dt;
        for sample in out.iter_mut() {
            while self.position >= FRAME_SAMPLES as f64 {
                self.position -= FRAME_SAMPLES as f64;
                self.clock += FRAME_SAMPLES as i64;
                self.silent = !self.receiver.next(self.clock, &mut self.decoded);
            }
            let i = self.position as usize;
            let frac = (self.position - i as f64) as f32;
            let next = self.decoded.get(i + 1).copied().unwrap_or(self.decoded[i]);
            let value = self.decoded[i] + (next - self.decoded[i]) * frac;
            *sample = Frame::from_mono(value);
            self.position += step;
        }
        let stats = self.receiver.stats();
        self.shared.speaking.store(self.receiver.speaking(), Ordering::Relaxed);
        for (counter, value) in self.shared.counters.iter().zip([stats.played, stats.recovered, stats.concealed, stats.late]) {
            counter.store(value as u32, Ordering::Relaxed);
        }
        self.shared.target_delay.store(self.receiver.target_delay().max(0) as u32, Ordering::Relaxed);
    }

    fn finished(&self) -> bool {
        self.shared.removed.load(Ordering::Relaxed)
    }
}

struct VoiceStreamData(VoiceStream);

impl SoundData for VoiceStreamData {
    type Error = ();
    type Handle = ();

    fn into_sound(self) -> Result<(Box<dyn Sound>, ()), ()> {
        Ok((Box::new(self.0), ()))
    }
}

/// One person heard.
struct Speaker {
    track: SpatialTrackHandle,
    frames: rtrb::Producer<VoiceFrame>,
    shared: Arc<StreamShared>,
    /// Muted here; otherwise at this volume (0..2).
    muted: bool,
    volume: f32,
    /// When the lines spoken for them (speak-for-me) have all played.
    speech_until: Instant,
}

impl Speaker {
    /// The volume chosen, reached over `fade` (a change by hand is softened; a
    /// new stream starts at it, so a muted person is never heard for a moment).
    fn apply_volume(&mut self, fade: Duration) {
        let db = if self.muted || self.volume <= 0.001 { Decibels::SILENCE } else { Decibels(20.0 * self.volume.log10()) };
        self.track.set_volume(db, Tween { duration: fade, ..Default::default() });
    }
}

/// Jitter-buffer counters of one speaker, as the audio thread last saw them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// Frames played as sent.
    pub played: u32,
    /// Frames rebuilt from FEC.
    pub recovered: u32,
    /// Frames concealed.
    pub concealed: u32,
    /// Frames that came too late.
    pub late: u32,
    /// Buffering the network calls for, ms.
    pub target_delay_ms: u32,
}

/// Everyone's voices, placed in the room, mixed and played.
pub struct VoiceOutput {
    manager: AudioManager<TapBackend>,
    listener: ListenerHandle,
    speakers: HashMap<PeerId, Speaker>,
    /// Volume (0..2) and mute chosen for each person, kept for those who have
    /// not spoken yet (their stream starts with their first frame).
    chosen: HashMap<PeerId, (f32, bool)>,
    reference: Option<rtrb::Consumer<f32>>,
}

impl VoiceOutput {
    /// Open the mix on `sink`.
    pub fn open(sink: Sink) -> Result<Self, OutputError> {
        let (producer, consumer) = rtrb::RingBuffer::new(REFERENCE_QUEUE);
        let defaults = AudioManagerSettings::<kira::DefaultBackend>::default();
        let settings = AudioManagerSettings {
            capacities: defaults.capacities,
            main_track_builder: defaults.main_track_builder,
            internal_buffer_size: defaults.internal_buffer_size,
            backend_settings: TapSettings { sink, reference: producer },
        };
        let mut manager = AudioManager::<TapBackend>::new(settings)?;
        let listener = manager.add_listener([0.0f32; 3], [0.0f32, 0.0, 0.0, 1.0]).map_err(|e| OutputError::NoDevice(e.to_string()))?;
        Ok(VoiceOutput { manager, listener, speakers: HashMap::new(), chosen: HashMap::new(), reference: Some(consumer) })
    }

    /// The far-end tap, once: what the mix played, 48 kHz mono, for the canceller.
    pub fn take_reference(&mut self) -> Option<rtrb::Consumer<f32>> {
        self.reference.take()
    }

    /// Where our ears are (the camera now; the headset later): position and
    /// rotation (x, y, z, w) in the room, −Z forward, +X to the right.
    pub fn set_listener(&mut self, position: [f32; 3], rotation: [f32; 4]) {
        self.listener.set_position(position, Tween { duration: Duration::from_millis(20), ..Default::default() });
        let [x, y, z, w] = rotation;
        let quat = mint::Quaternion { v: mint::Vector3 { x, y, z }, s: w };
        self.listener.set_orientation(quat, Tween { duration: Duration::from_millis(20), ..Default::default() });
    }

    /// A voice frame from `from`; their stream starts with the first.
    pub fn push(&mut self, from: PeerId, frame: VoiceFrame) {
        if let Some(speaker) = self.speaker(from) {
            // Full: the audio thread is stalled; dropping is all we can do.
            let _ = speaker.frames.push(frame);
        }
    }

    /// A line spoken for `who` (speak-for-me: made on this PC from their
    /// chat line), played from `head` on their own track: the same distance,
    /// direction, volume and mute as their voice. Lines (and a long line's
    /// sentences) play one after another, never over each other.
    pub fn speak(&mut self, who: PeerId, head: [f32; 3], samples: &[f32], sample_rate: u32) {
        let Some(speaker) = self.speaker(who) else { return };
        speaker.track.set_position(head, Tween { duration: Duration::ZERO, ..Default::default() });
        let now = Instant::now();
        let starts = speaker.speech_until.max(now);
        let frames: Arc<[Frame]> = samples.iter().map(|s| Frame::from_mono(*s)).collect();
        let length = Duration::from_secs_f64(frames.len() as f64 / f64::from(sample_rate.max(1)));
        let settings = StaticSoundSettings::new().start_time(StartTime::Delayed(starts - now));
        match speaker.track.play(StaticSoundData { sample_rate, frames, settings, slice: None }) {
            Ok(_) => speaker.speech_until = starts + length,
            Err(e) => tracing::warn!("could not play a spoken line: {e:?}"),
        }
    }

    /// `who`'s stream, started now if they had none (with the volume chosen for them).
    fn speaker(&mut self, who: PeerId) -> Option<&mut Speaker> {
        if !self.speakers.contains_key(&who) {
            match self.add_speaker() {
                Ok(mut speaker) => {
                    if let Some(&(volume, muted)) = self.chosen.get(&who) {
                        (speaker.volume, speaker.muted) = (volume, muted);
                        speaker.apply_volume(Duration::ZERO);
                    }
                    self.speakers.insert(who, speaker);
                }
                Err(e) => {
                    tracing::warn!("could not start a voice stream: {e}");
                    return None;
                }
            }
        }
        self.speakers.get_mut(&who)
    }

    fn add_speaker(&mut self) -> Result<Speaker, String> {
        let builder = SpatialTrackBuilder::new()
            .distances((FULL_VOLUME_WITHIN, SILENT_BEYOND))
            .attenuation_function(Easing::OutPowi(2))
            .spatialization_strength(PANNING_STRENGTH);
        let mut track = self.manager.add_spatial_sub_track(&self.listener, [0.0f32, -100.0, 0.0], builder).map_err(|e| e.to_string())?;
        let (producer, consumer) = rtrb::RingBuffer::new(STREAM_QUEUE);
        let shared = Arc::new(StreamShared::default());
        let receiver = VoiceReceiver::new().map_err(|e| e.to_string())?;
        let stream = VoiceStream {
            frames: consumer,
            receiver,
            shared: shared.clone(),
            decoded: [0.0; FRAME_SAMPLES],
            position: FRAME_SAMPLES as f64,
            clock: -(FRAME_SAMPLES as i64),
            silent: false,
        };
        track.play(VoiceStreamData(stream)).map_err(|e| format!("{e:?}"))?;
        Ok(Speaker { track, frames: producer, shared, muted: false, volume: 1.0, speech_until: Instant::now() })
    }

    /// Where `who`'s head is (metres, room coordinates).
    pub fn place(&mut self, who: PeerId, head: [f32; 3]) {
        if let Some(speaker) = self.speakers.get_mut(&who) {
            speaker.track.set_position(head, Tween { duration: Duration::from_millis(30), ..Default::default() });
        }
    }

    /// This person's volume on this PC only, 0 (silent) to 2 (twice as loud).
    pub fn set_volume(&mut self, who: PeerId, volume: f32) {
        let volume = volume.clamp(0.0, 2.0);
        self.chosen.entry(who).or_insert((1.0, false)).0 = volume;
        if let Some(speaker) = self.speakers.get_mut(&who) {
            speaker.volume = volume;
            speaker.apply_volume(VOLUME_FADE);
        }
    }

    /// Silence this person on this PC only (they are not told).
    pub fn set_muted(&mut self, who: PeerId, muted: bool) {
        self.chosen.entry(who).or_insert((1.0, false)).1 = muted;
        if let Some(speaker) = self.speakers.get_mut(&who) {
            speaker.muted = muted;
            speaker.apply_volume(VOLUME_FADE);
        }
    }

    /// The volume (0..2) and mute chosen for `who` on this PC.
    pub fn chosen(&self, who: PeerId) -> (f32, bool) {
        self.chosen.get(&who).copied().unwrap_or((1.0, false))
    }

    /// `who` left: their stream ends.
    pub fn remove(&mut self, who: PeerId) {
        self.chosen.remove(&who);
        if let Some(speaker) = self.speakers.remove(&who) {
            speaker.shared.removed.store(true, Ordering::Relaxed);
        }
    }

    /// Everyone's stream ends (we left the room).
    pub fn remove_all(&mut self) {
        self.chosen.clear();
        for (_, speaker) in self.speakers.drain() {
            speaker.shared.removed.store(true, Ordering::Relaxed);
        }
    }

    /// Whether `who` is talking now (their voice, or a line spoken for them, is playing).
    pub fn speaking(&self, who: PeerId) -> bool {
        self.speakers.get(&who).is_some_and(|s| s.shared.speaking.load(Ordering::Relaxed) || Instant::now() < s.speech_until)
    }

    /// Jitter-buffer counters for `who`.
    pub fn counters(&self, who: PeerId) -> Option<StreamCounters> {
        self.speakers.get(&who).map(|s| {
            let c = |i: usize| s.shared.counters[i].load(Ordering::Relaxed);
            StreamCounters {
                played: c(0),
                recovered: c(1),
                concealed: c(2),
                late: c(3),
                target_delay_ms: s.shared.target_delay.load(Ordering::Relaxed) / 48,
            }
        })
    }

    /// Finish writing (a speaker file) and close.
    pub fn close(mut self) {
        self.manager.backend_mut().finish();
    }
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::rms_db;

    /// Speech from `at` (metres; the listener at the origin facing −Z),
    /// rendered through the mix: (left, right) levels in dB.
    fn heard_from(at: [f32; 3]) -> (f64, f64) {
        let clock = ManualClock::default();
        let mut output = VoiceOutput::open(Sink::Manual(clock.clone())).unwrap();
        output.set_listener([0.0, 1.2, 0.0], [0.0, 0.0, 0.0, 1.0]);
        let speaker = PeerId(7);
        let spurt = crate::codec::talk_spurt(&crate::testing::speech()).unwrap();
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for frame in spurt.into_iter().take(150) {
            output.push(speaker, frame);
            output.place(speaker, at);
            for [l, r] in clock.render(FRAME_SAMPLES) {
                left.push(l);
                right.push(r);
            }
        }
        assert!(output.counters(speaker).unwrap().played > 140, "{:?}", output.counters(speaker));
        (rms_db(&left), rms_db(&right))
    }

    #[test]
    fn near_is_louder_than_far_and_left_is_left() {
        let (near_l, near_r) = heard_from([-2.0, 1.2, 0.0]);
        let (far_l, far_r) = heard_from([8.0, 1.2, 0.0]);
        let (ahead_l, ahead_r) = heard_from([0.0, 1.2, -1.0]);
        let (beyond_l, beyond_r) = heard_from([0.0, 1.2, 12.5]);
        eprintln!(
            "2 m left: {near_l:.1}/{near_r:.1} dB; 8 m right: {far_l:.1}/{far_r:.1}; 1 m ahead: {ahead_l:.1}/{ahead_r:.1}; 12.5 m: {beyond_l:.1}/{beyond_r:.1}"
        );
        assert!(near_l.max(near_r) > far_l.max(far_r) + 15.0, "2 m is not clearly louder than 8 m");
        assert!(near_l > near_r + 3.0, "a voice on the left is not louder in the left ear");
        assert!(far_r > far_l + 3.0, "a voice on the right is not louder in the right ear");
        assert!((ahead_l - ahead_r).abs() < 1.0, "a voice straight ahead is not centred");
        assert!(ahead_l > near_l - 2.0, "1 m ahead is quieter than 2 m to the side");
        assert!(beyond_l.max(beyond_r) < ahead_l - 50.0, "a voice beyond 12 m is still heard");
    }

    /// A spoken line (a tone with speech's rhythm, 48 kHz) from `at`, rendered: (left, right) dB.
    fn spoken_from(at: [f32; 3], muted: bool) -> (f64, f64) {
        let clock = ManualClock::default();
        let mut output = VoiceOutput::open(Sink::Manual(clock.clone())).unwrap();
        output.set_listener([0.0, 1.2, 0.0], [0.0, 0.0, 0.0, 1.0]);
        output.set_muted(PeerId(4), muted);
        let line = crate::testing::speech();
        output.speak(PeerId(4), at, &line[..48_000], 48_000);
        assert!(output.speaking(PeerId(4)), "a spoken line does not show as speaking");
        let heard = clock.render(48_000);
        (rms_db(&heard.iter().map(|f| f[0]).collect::<Vec<_>>()), rms_db(&heard.iter().map(|f| f[1]).collect::<Vec<_>>()))
    }

    #[test]
    fn a_spoken_line_follows_the_rules_of_voices() {
        let (near_l, near_r) = spoken_from([-2.0, 1.2, 0.0], false);
        let (far_l, far_r) = spoken_from([8.0, 1.2, 0.0], false);
        let (beyond_l, beyond_r) = spoken_from([0.0, 1.2, 12.5], false);
        let (muted_l, muted_r) = spoken_from([0.0, 1.2, -1.0], true);
        eprintln!("spoken: 2 m left {near_l:.1}/{near_r:.1} dB, 8 m right {far_l:.1}/{far_r:.1}, 12.5 m {beyond_l:.1}/{beyond_r:.1}");
        assert!(near_l > -40.0, "a line 2 m away is not heard: {near_l:.1} dB");
        assert!(near_l.max(near_r) > far_l.max(far_r) + 15.0, "2 m is not clearly louder than 8 m");
        assert!(near_l > near_r + 3.0 && far_r > far_l + 3.0, "left and right are not kept");
        assert!(beyond_l.max(beyond_r) < -90.0, "a line beyond 12 m is heard");
        assert!(muted_l.max(muted_r) < -90.0, "a line of someone muted here is heard");
    }

    #[test]
    fn a_muted_person_is_silent_and_the_mix_reaches_the_echo_tap() {
        let clock = ManualClock::default();
        let mut output = VoiceOutput::open(Sink::Manual(clock.clone())).unwrap();
        let mut reference = output.take_reference().unwrap();
        let spurt = crate::codec::talk_spurt(&crate::testing::speech()).unwrap();
        let (mut loud, mut quiet, mut tapped) = (Vec::new(), Vec::new(), Vec::new());
        for (i, frame) in spurt.into_iter().take(200).enumerate() {
            output.push(PeerId(1), frame);
            output.place(PeerId(1), [0.0, 0.0, -1.0]);
            if i == 100 {
                output.set_muted(PeerId(1), true);
            }
            let rendered = clock.render(FRAME_SAMPLES);
            tapped.extend(std::iter::from_fn(|| reference.pop().ok()));
            if (50..100).contains(&i) {
                loud.extend(rendered.iter().map(|[l, _]| *l));
            } else if i >= 110 {
                quiet.extend(rendered.iter().map(|[l, _]| *l));
            }
        }
        assert!(rms_db(&loud) > -40.0 && rms_db(&quiet) < -90.0, "muted: {:.1} dB vs {:.1} dB", rms_db(&quiet), rms_db(&loud));
        assert_eq!(tapped.len(), 200 * FRAME_SAMPLES, "the echo tap missed samples");
        assert!(rms_db(&tapped) > -50.0);
    }

    #[test]
    fn a_person_muted_or_made_quieter_before_they_speak_stays_so() {
        let level = |volume: Option<f32>, muted: bool| {
            let clock = ManualClock::default();
            let mut output = VoiceOutput::open(Sink::Manual(clock.clone())).unwrap();
            if let Some(volume) = volume {
                output.set_volume(PeerId(2), volume);
            }
            output.set_muted(PeerId(2), muted);
            let spurt = crate::codec::talk_spurt(&crate::testing::speech()).unwrap();
            let mut heard = Vec::new();
            for frame in spurt.into_iter().take(100) {
                output.push(PeerId(2), frame);
                output.place(PeerId(2), [0.0, 0.0, -1.0]);
                heard.extend(clock.render(FRAME_SAMPLES).iter().map(|[l, _]| *l));
            }
            rms_db(&heard[48_000..])
        };
        let (full, half, muted) = (level(None, false), level(Some(0.5), false), level(None, true));
        assert!((full - half - 6.0).abs() < 1.0, "half volume is {:.1} dB below full", full - half);
        assert!(muted < -90.0, "muted before speaking, still heard at {muted:.1} dB");
    }

    #[test]
    fn the_speaker_file_holds_what_was_played() {
        let path = std::env::temp_dir().join(format!("tsunagu-voice-test-{}.wav", std::process::id()));
        let mut output = VoiceOutput::open(Sink::File(path.clone())).unwrap();
        let spurt = crate::codec::talk_spurt(&crate::testing::speech()).unwrap();
        let started = Instant::now();
        for (i, frame) in spurt.into_iter().take(50).enumerate() {
            output.push(PeerId(1), frame);
            output.place(PeerId(1), [0.0, 0.0, -1.0]);
            std::thread::sleep((started + FRAME_DURATION_TEST * (i as u32 + 1)).saturating_duration_since(Instant::now()));
        }
        std::thread::sleep(Duration::from_millis(200));
        output.close();
        let written = crate::wav::read_mono_48k(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(written.len() > 48_000, "{} samples written in 1.2 s", written.len());
        assert!(rms_db(&written) > -40.0, "the file is silent: {:.1} dB", rms_db(&written));
    }

    const FRAME_DURATION_TEST: Duration = crate::FRAME_DURATION;
}
