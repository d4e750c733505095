//! Voice with real devices (or files standing in for them): a capture thread
//! running the [`CaptureChain`] on the microphone and the mix's far-end tap,
//! and the [`VoiceOutput`] mix. Each direction works or is missing on its
//! own: no microphone still hears, no speakers still talks.
//!
//! Long because it is the one place the devices, the capture thread and the mix
//! meet, with what each does when the other is missing.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tsunagu_protocol::{PeerId, VoiceFrame};

use crate::capture::{CaptureChain, TalkMode};
use crate::devices::{MicStream, open_microphone};
use crate::output::{Sink, VoiceOutput};
use crate::{FRAME_DURATION, FRAME_SAMPLES, SAMPLE_RATE};

/// How long the mic test records before playing it back.
pub const MIC_TEST_LENGTH: Duration = Duration::from_secs(3);
/// The mic test's playback is a voice with this id (never a person's: ids start at 1).
pub const MIC_TEST_VOICE: PeerId = PeerId(0);
/// How often the capture thread looks for new microphone samples.
const CAPTURE_POLL: Duration = Duration::from_millis(2);

/// Where sound comes from (a microphone) or goes to (speakers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A sound card: this one by name, or the default.
    Device(Option<String>),
    /// A WAV file: as a microphone, played into the chain in real time from
    /// the start (`--mic-file`); as speakers, written (`--speaker-file`).
    File(PathBuf),
}

impl Endpoint {
    /// After `current`, the next sound card in `names` (the default first,
    /// then each by name, round again).
    pub fn next_device(current: Option<&Endpoint>, names: &[String]) -> Endpoint {
        let current = match current {
            Some(Endpoint::Device(name)) => name.as_deref(),
            _ => None,
        };
        let mut choices: Vec<Option<&str>> = vec![None];
        choices.extend(names.iter().map(|n| Some(n.as_str())));
        let at = choices.iter().position(|c| *c == current).unwrap_or(0);
        Endpoint::Device(choices[(at + 1) % choices.len()].map(str::to_owned))
    }
}

/// What to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoiceSettings {
    /// The microphone (`None`: voice never sent).
    pub mic: Option<Endpoint>,
    /// The speakers (`None`: voices never played).
    pub speakers: Option<Endpoint>,
    /// Open mic or push-to-talk.
    pub mode: TalkMode,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        VoiceSettings { mic: Some(Endpoint::Device(None)), speakers: Some(Endpoint::Device(None)), mode: TalkMode::OpenMic }
    }
}

/// One direction of sound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Working; the device's or file's name.
    Working(String),
    /// Wanted but missing: why (for the log; the screen says it kindly).
    Missing(String),
    /// Not wanted.
    Off,
}

impl DeviceStatus {
    /// True when working.
    pub fn works(&self) -> bool {
        matches!(self, DeviceStatus::Working(_))
    }
}

/// The mic test's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MicTest {
    /// Not running.
    Idle,
    /// "Say something": recording.
    Recording,
    /// Playing the recording back.
    PlayingBack,
}

/// Sends a voice frame straight to the network from the capture thread.
pub type DirectSend = Arc<dyn Fn(VoiceFrame) + Send + Sync>;

/// Settings and readings shared with the capture thread.
#[derive(Default)]
struct Shared {
    /// When set, frames go straight out through it instead of waiting in the
    /// queue for the app's next frame (up to one rendered frame sooner).
    direct: std::sync::Mutex<Option<DirectSend>>,
    stop: AtomicBool,
    push_to_talk: AtomicBool,
    muted: AtomicBool,
    talk_held: AtomicBool,
    /// Low-bandwidth mode: the encoder's lower bitrate.
    light: AtomicBool,
    /// The microphone's level, dB full scale, as f32 bits.
    level_db: AtomicU32,
    /// A talk spurt is being sent now.
    sending: AtomicBool,
    recording_test: AtomicBool,
}

enum Source {
    Device(MicStream),
    File { samples: Vec<f32>, position: usize, started: Instant },
}

impl Source {
    /// Whatever arrived since the last call.
    fn gather(&mut self, into: &mut Vec<f32>) {
        match self {
            Source::Device(mic) => into.extend(std::iter::from_fn(|| mic.samples.pop().ok())),
            Source::File { samples, position, started } => {
                let due = (started.elapsed().as_secs_f64() * f64::from(SAMPLE_RATE)) as usize;
                let end = due.min(samples.len());
                if *position < end {
                    into.extend_from_slice(&samples[*position..end]);
                }
                // After the end of the file: silence, in time.
                if due > samples.len() {
                    into.resize(into.len() + due - (*position).max(samples.len()), 0.0);
                }
                *position = due;
            }
        }
    }
}

/// Voice for one client: open once, then feed and drain every frame.
pub struct VoiceEngine {
    output: Option<VoiceOutput>,
    outgoing: Option<mpsc::Receiver<VoiceFrame>>,
    test_recordings: Option<mpsc::Receiver<Vec<f32>>>,
    shared: Arc<Shared>,
    capture: Option<std::thread::JoinHandle<()>>,
    mic: DeviceStatus,
    speakers: DeviceStatus,
    /// The mic test's playback: frames and when the first is due.
    playback: Option<(Vec<VoiceFrame>, Instant)>,
}

impl VoiceEngine {
    /// Open what `settings` ask for; what is missing is reported in
    /// [`Self::mic`] and [`Self::speakers`], never an error.
    pub fn start(settings: &VoiceSettings) -> VoiceEngine {
        let (output, speakers) = match &settings.speakers {
            None => (None, DeviceStatus::Off),
            Some(sink) => {
                let (sink, name) = match sink {
                    Endpoint::Device(name) => {
                        let shown = crate::devices::output_name(name.as_deref()).unwrap_or_default();
                        (Sink::Device(name.clone()), shown)
                    }
                    Endpoint::File(path) => (Sink::File(path.clone()), path.display().to_string()),
                };
                match VoiceOutput::open(sink) {
                    Ok(output) => (Some(output), DeviceStatus::Working(name)),
                    Err(e) => (None, DeviceStatus::Missing(e.to_string())),
                }
            }
        };
        let mut engine = VoiceEngine {
            output,
            outgoing: None,
            test_recordings: None,
            shared: Arc::new(Shared::default()),
            capture: None,
            mic: DeviceStatus::Off,
            speakers,
            playback: None,
        };
        engine.shared.push_to_talk.store(settings.mode == TalkMode::PushToTalk, Ordering::Relaxed);
        engine.shared.level_db.store((-100.0f32).to_bits(), Ordering::Relaxed);
        if let Some(mic) = &settings.mic {
            engine.mic = match engine.start_capture(mic) {
                Ok(name) => DeviceStatus::Working(name),
                Err(reason) => DeviceStatus::Missing(reason),
            };
        }
        if let DeviceStatus::Missing(why) = &engine.mic {
            tracing::warn!("voice: {why}; you can still hear the others");
        }
        if let DeviceStatus::Missing(why) = &engine.speakers {
            tracing::warn!("voice: {why}; the others can still hear you");
        }
        engine
    }

    fn start_capture(&mut self, mic: &Endpoint) -> Result<String, String> {
        let (source, name) = match mic {
            Endpoint::Device(name) => {
                let stream = open_microphone(name.as_deref()).map_err(|e| e.to_string())?;
                let name = stream.name.clone();
                (Source::Device(stream), name)
            }
            Endpoint::File(path) => {
                let samples = crate::wav::read_mono_48k(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                (Source::File { samples, position: 0, started: Instant::now() }, path.display().to_string())
            }
        };
        let mut chain = CaptureChain::new().map_err(|e| e.to_string())?;
        let reference = self.output.as_mut().and_then(VoiceOutput::take_reference);
        let (frames, outgoing) = mpsc::channel();
        let (recordings, test_recordings) = mpsc::channel();
        let shared = self.shared.clone();
        let thread = std::thread::Builder::new()
            .name("tsunagu-capture".into())
            .spawn(move || capture_loop(source, &mut chain, reference, &shared, &frames, &recordings))
            .map_err(|e| e.to_string())?;
        self.capture = Some(thread);
        self.outgoing = Some(outgoing);
        self.test_recordings = Some(test_recordings);
        Ok(name)
    }

    /// The microphone's state.
    pub fn mic(&self) -> &DeviceStatus {
        &self.mic
    }

    /// The speakers' state.
    pub fn speakers(&self) -> &DeviceStatus {
        &self.speakers
    }

    /// Send frames straight through `sender` from now on (`None`: queue them
    /// for [`Self::take_outgoing`] again). Set it for each new connection.
    pub fn set_direct_sender(&mut self, sender: Option<DirectSend>) {
        *self.shared.direct.lock().unwrap_or_else(|e| e.into_inner()) = sender;
    }

    /// Voice frames to send, oldest first.
    pub fn take_outgoing(&mut self) -> Vec<VoiceFrame> {
        self.outgoing.as_ref().map(|rx| rx.try_iter().collect()).unwrap_or_default()
    }

    /// Someone's voice frame from the network.
    pub fn receive(&mut self, from: PeerId, frame: VoiceFrame) {
        if let Some(output) = self.output.as_mut() {
            output.push(from, frame);
        }
    }

    /// A line spoken for someone (speak-for-me), from their head.
    pub fn speak(&mut self, who: PeerId, head: [f32; 3], samples: &[f32], sample_rate: u32) {
        if let Some(output) = self.output.as_mut() {
            output.speak(who, head, samples, sample_rate);
        }
    }

    /// Call every frame: moves the mic test along.
    pub fn update(&mut self) {
        if let Some(recording) = self.test_recordings.as_ref().and_then(|rx| rx.try_recv().ok()) {
            self.playback = crate::codec::talk_spurt(&recording).ok().map(|frames| (frames, Instant::now()));
        }
        let Some((frames, started)) = self.playback.as_mut() else {
            return;
        };
        let due = (started.elapsed().as_secs_f64() / FRAME_DURATION.as_secs_f64()) as usize + 1;
        let now_due: Vec<VoiceFrame> = frames.iter().filter(|f| (f.seq as usize) < due).cloned().collect();
        frames.retain(|f| (f.seq as usize) >= due);
        let done = frames.is_empty();
        if let Some(output) = self.output.as_mut() {
            for frame in now_due {
                output.push(MIC_TEST_VOICE, frame);
            }
        }
        if done {
            self.playback = None;
            if let Some(output) = self.output.as_mut() {
                output.remove(MIC_TEST_VOICE);
            }
        }
    }

    /// Start the mic test: record [`MIC_TEST_LENGTH`], then play it back.
    pub fn start_mic_test(&mut self) {
        if self.mic.works() && self.mic_test() == MicTest::Idle {
            self.shared.recording_test.store(true, Ordering::Relaxed);
        }
    }

    /// Where the mic test is.
    pub fn mic_test(&self) -> MicTest {
        if self.shared.recording_test.load(Ordering::Relaxed) {
            MicTest::Recording
        } else if self.playback.is_some() {
            MicTest::PlayingBack
        } else {
            MicTest::Idle
        }
    }

    /// Where our ears are: position and rotation (x, y, z, w).
    pub fn set_listener(&mut self, position: [f32; 3], rotation: [f32; 4]) {
        if let Some(output) = self.output.as_mut() {
            output.set_listener(position, rotation);
            // The mic test plays from just in front of us.
            output.place(MIC_TEST_VOICE, position);
        }
    }

    /// Where someone's head is.
    pub fn place(&mut self, who: PeerId, head: [f32; 3]) {
        if let Some(output) = self.output.as_mut() {
            output.place(who, head);
        }
    }

    /// Someone's volume here only (0 to 2).
    pub fn set_volume(&mut self, who: PeerId, volume: f32) {
        if let Some(output) = self.output.as_mut() {
            output.set_volume(who, volume);
        }
    }

    /// Silence someone here only.
    pub fn set_peer_muted(&mut self, who: PeerId, muted: bool) {
        if let Some(output) = self.output.as_mut() {
            output.set_muted(who, muted);
        }
    }

    /// The volume (0..2) and mute chosen for someone here.
    pub fn peer_choice(&self, who: PeerId) -> (f32, bool) {
        self.output.as_ref().map_or((1.0, false), |o| o.chosen(who))
    }

    /// Someone left.
    pub fn remove(&mut self, who: PeerId) {
        if let Some(output) = self.output.as_mut() {
            output.remove(who);
        }
    }

    /// Everyone's voice stops (we left the room).
    pub fn remove_all(&mut self) {
        if let Some(output) = self.output.as_mut() {
            output.remove_all();
        }
    }

    /// Someone is talking (their voice is playing here).
    pub fn speaking(&self, who: PeerId) -> bool {
        self.output.as_ref().is_some_and(|o| o.speaking(who))
    }

    /// Open mic or push-to-talk.
    pub fn set_mode(&mut self, mode: TalkMode) {
        self.shared.push_to_talk.store(mode == TalkMode::PushToTalk, Ordering::Relaxed);
    }

    /// The current mode.
    pub fn mode(&self) -> TalkMode {
        if self.shared.push_to_talk.load(Ordering::Relaxed) { TalkMode::PushToTalk } else { TalkMode::OpenMic }
    }

    /// Mute (nothing sent) or unmute.
    pub fn set_muted(&mut self, muted: bool) {
        self.shared.muted.store(muted, Ordering::Relaxed);
    }

    /// Muted now.
    pub fn muted(&self) -> bool {
        self.shared.muted.load(Ordering::Relaxed)
    }

    /// Low-bandwidth mode: our voice at the lower bitrate, or the usual.
    pub fn set_light(&mut self, light: bool) {
        self.shared.light.store(light, Ordering::Relaxed);
    }

    /// The talk key or button is held (push-to-talk).
    pub fn set_talk_held(&mut self, held: bool) {
        self.shared.talk_held.store(held, Ordering::Relaxed);
    }

    /// The microphone's level now, dB full scale (−100 when silent or missing).
    pub fn input_level_db(&self) -> f32 {
        f32::from_bits(self.shared.level_db.load(Ordering::Relaxed))
    }

    /// We are being sent to the room now.
    pub fn sending(&self) -> bool {
        self.shared.sending.load(Ordering::Relaxed)
    }

    /// Stop capturing and finish the speaker file.
    pub fn close(mut self) {
        self.stop();
        if let Some(output) = self.output.take() {
            output.close();
        }
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.capture.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for VoiceEngine {
    fn drop(&mut self) {
        self.stop();
    }
}

fn capture_loop(
    mut source: Source,
    chain: &mut CaptureChain,
    mut reference: Option<rtrb::Consumer<f32>>,
    shared: &Shared,
    frames: &mpsc::Sender<VoiceFrame>,
    recordings: &mpsc::Sender<Vec<f32>>,
) {
    let mut mic = Vec::new();
    let mut far = Vec::new();
    let mut recording: Vec<f32> = Vec::new();
    let test_samples = (MIC_TEST_LENGTH.as_secs_f64() * f64::from(SAMPLE_RATE)) as usize;
    while !shared.stop.load(Ordering::Relaxed) {
        source.gather(&mut mic);
        if let Some(reference) = reference.as_mut() {
            far.clear();
            far.extend(std::iter::from_fn(|| reference.pop().ok()));
            chain.far_end(&far);
        }
        let mut used = 0;
        while mic.len() - used >= FRAME_SAMPLES {
            let frame: &[f32; FRAME_SAMPLES] = mic[used..used + FRAME_SAMPLES].try_into().expect("one frame");
            used += FRAME_SAMPLES;
            chain.mode = if shared.push_to_talk.load(Ordering::Relaxed) { TalkMode::PushToTalk } else { TalkMode::OpenMic };
            let testing = shared.recording_test.load(Ordering::Relaxed);
            // During the mic test nothing goes to the room.
            chain.muted = shared.muted.load(Ordering::Relaxed) || testing;
            chain.talk_held = shared.talk_held.load(Ordering::Relaxed);
            chain.set_light(shared.light.load(Ordering::Relaxed));
            let outcome = chain.process(frame);
            shared.level_db.store(outcome.input_level_db.to_bits(), Ordering::Relaxed);
            if testing {
                recording.extend_from_slice(chain.processed());
                if recording.len() >= test_samples {
                    let _ = recordings.send(std::mem::take(&mut recording));
                    shared.recording_test.store(false, Ordering::Relaxed);
                }
            }
            if let Some(frame) = outcome.frame {
                shared.sending.store(frame.speaking, Ordering::Relaxed);
                let direct = shared.direct.lock().unwrap_or_else(|e| e.into_inner()).clone();
                match direct {
                    Some(send) => send(frame),
                    None if frames.send(frame).is_err() => return,
                    None => {}
                }
            }
        }
        mic.drain(..used);
        std::thread::sleep(CAPTURE_POLL);
    }
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;

    /// The real device path: cpal → ALSA → a PulseAudio server whose only
    /// sink is a null sink and whose default source is that sink's monitor
    /// (`cargo xtask test` starts one and sets `TSUNAGU_SOUND_SERVER`).
    /// Speech played into the sink by another program is near-end speech the
    /// client must send; what the client plays itself comes back through the
    /// monitor as a perfect echo it must not send.
    #[test]
    fn real_devices_capture_speech_and_cancel_their_own_playback() {
        let Ok(server) = std::env::var("TSUNAGU_SOUND_SERVER") else {
            eprintln!("SKIPPED real_devices_capture_speech_and_cancel_their_own_playback: no TSUNAGU_SOUND_SERVER (cargo xtask test starts one)");
            return;
        };
        let mut engine = VoiceEngine::start(&VoiceSettings::default());
        assert!(engine.mic().works() && engine.speakers().works(), "through {server}: mic {:?}, speakers {:?}", engine.mic(), engine.speakers());
        let phrase = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR, set by cargo"))
            .join("../../assets/voice/near-end-phrase.wav");

        // Someone talks (another program plays into the sink): it is sent.
        let mut player = std::process::Command::new("paplay").arg(&phrase).spawn().expect("paplay (pulseaudio-utils)");
        let (mut sent, mut loudest) = (Vec::new(), -100.0f32);
        let until = Instant::now() + Duration::from_secs(7);
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
            sent.extend(engine.take_outgoing());
            loudest = loudest.max(engine.input_level_db());
        }
        let _ = player.wait();
        assert!(loudest > -40.0, "the microphone never heard the phrase (loudest {loudest:.1} dBFS)");
        assert!(sent.len() > 100, "only {} frames of a 6 s phrase were sent", sent.len());

        // Our own playback comes back through the monitor: cancelled, not sent.
        let speech = crate::wav::read_mono_48k(&phrase).unwrap();
        let started = Instant::now();
        let mut echoed = Vec::new();
        for (i, frame) in crate::codec::talk_spurt(&speech).unwrap().into_iter().enumerate() {
            engine.receive(PeerId(5), frame);
            engine.place(PeerId(5), [0.0, 0.0, -1.0]);
            std::thread::sleep((started + FRAME_DURATION * (i as u32 + 1)).saturating_duration_since(Instant::now()));
            // The canceller's first two seconds are its to learn the echo path.
            let frames = engine.take_outgoing();
            if started.elapsed() > Duration::from_secs(2) {
                echoed.extend(frames);
            }
        }
        assert!(echoed.len() < 15, "{} frames of our own playback were sent back", echoed.len());
        engine.close();
    }

    #[test]
    fn choosing_the_next_device_goes_round() {
        let names = vec!["USB mic".to_owned(), "Laptop".to_owned()];
        let device = |name: Option<&str>| Endpoint::Device(name.map(str::to_owned));
        assert_eq!(Endpoint::next_device(None, &names), device(Some("USB mic")));
        assert_eq!(Endpoint::next_device(Some(&device(None)), &names), device(Some("USB mic")));
        assert_eq!(Endpoint::next_device(Some(&device(Some("USB mic"))), &names), device(Some("Laptop")));
        assert_eq!(Endpoint::next_device(Some(&device(Some("Laptop"))), &names), device(None));
        assert_eq!(Endpoint::next_device(Some(&device(Some("unplugged"))), &names), device(Some("USB mic")));
        assert_eq!(Endpoint::next_device(Some(&Endpoint::File("a.wav".into())), &[]), device(None));
    }

    #[allow(dead_code)]
    fn the_engine_can_move_to_another_thread() {
        fn is_send<T: Send>() {}
        is_send::<VoiceEngine>();
    }
}
