//! Voice end to end: speech through the sending client's capture chain (echo
//! canceller, noise suppression, gain, VAD, Opus), real QUIC on loopback (and
//! a lossy relay), the server's forwarding, the listener's jitter buffer,
//! decoder and spatial mix. What comes out must be the speech that went in.

use std::time::{Duration, Instant};

use bevy_math::Vec3;
use tsunagu_voice::capture::CaptureChain;
use tsunagu_voice::measure::{RoomEcho, align, attenuation_db, rms_db, segmental_similarity};
use tsunagu_voice::output::{ManualClock, Sink, VoiceOutput};
use tsunagu_voice::{FRAME_DURATION, FRAME_SAMPLES};

use crate::harness::{CODE, Peer, TestServer, one_at_a_time, pose_at, wait_until};
use crate::relay::LossyRelay;

fn speech() -> Vec<f32> {
    let path = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR, set by cargo"))
        .join("../../assets/voice/far-end-phrase.wav");
    tsunagu_voice::wav::read_mono_48k(&path).expect("assets/voice/far-end-phrase.wav")
}

struct Heard {
    /// What the speaker sent, decoded on the speaker's own timeline (silence
    /// where nothing was sent): the transport's job is to deliver exactly this.
    sent: Vec<f32>,
    /// What the listener's speakers played, left and right.
    left: Vec<f32>,
    right: Vec<f32>,
    /// The listener's own microphone (the room's echo of its speakers) and what
    /// its chain sent on after cancelling it, and how many frames it sent.
    echo_in_mic: Vec<f32>,
    echo_sent_on: Vec<f32>,
    /// When (frame numbers) the listener's chain sent something.
    listener_sent_at: Vec<usize>,
    frames_spoken: usize,
}

/// The speaker (through a relay losing `loss` of its packets) says the test
/// phrase in real time; the listener, 1.2 m to the speaker's left, plays it,
/// and its own open microphone hears its speakers through a small room.
fn speak_and_listen(name: &str, loss: f64) -> Heard {
    let server = TestServer::start(name, 8);
    let relay = LossyRelay::start(server.addr, loss, Duration::from_millis(10), Duration::from_millis(5), 7);
    let mut via_relay = server.invite(CODE);
    via_relay.port = relay.addr().port();
    speak_and_listen_in(&server, Peer::join(&via_relay, "S"))
}

/// As [`speak_and_listen`], the speaker having joined `server` its own way.
fn speak_and_listen_in(server: &TestServer, mut speaker: Peer) -> Heard {
    assert!(wait_until(&mut [&mut speaker], Duration::from_secs(5), |ps| ps[0].id().is_some()));
    let mut listener = Peer::join(&server.invite(CODE), "L");
    assert!(wait_until(&mut [&mut speaker, &mut listener], Duration::from_secs(5), |ps| ps.iter().all(|p| p.present() == 1)));
    // The first to join stands at x = 0, the second at x = −1.2 (both z = 1.8, facing −Z).
    let (speaker_at, listener_at) = (Vec3::new(0.0, 0.0, 1.8), Vec3::new(-1.2, 0.0, 1.8));
    speaker.send_pose(pose_at(speaker_at));
    listener.send_pose(pose_at(listener_at));

    let clock = ManualClock::default();
    let mut output = VoiceOutput::open(Sink::Manual(clock.clone())).unwrap();
    let mut reference = output.take_reference().unwrap();
    output.set_listener((listener_at + Vec3::Y * 1.15).into(), [0.0, 0.0, 0.0, 1.0]);
    let mut speaker_chain = CaptureChain::new().unwrap();
    let mut listener_chain = CaptureChain::new().unwrap();
    let mut room = RoomEcho::new(60, 0.4);
    let mut own_decoder = tsunagu_voice::codec::VoiceDecoder::new().unwrap();

    let speech = speech();
    let frames = speech.len() / FRAME_SAMPLES + 50;
    let mut heard = Heard {
        sent: Vec::new(),
        left: Vec::new(),
        right: Vec::new(),
        echo_in_mic: Vec::new(),
        echo_sent_on: Vec::new(),
        listener_sent_at: Vec::new(),
        frames_spoken: 0,
    };
    let started = Instant::now();
    for i in 0..frames {
        std::thread::sleep((started + FRAME_DURATION * i as u32).saturating_duration_since(Instant::now()));
        let mut mic = [0.0f32; FRAME_SAMPLES];
        if let Some(piece) = speech.get(i * FRAME_SAMPLES..(i + 1) * FRAME_SAMPLES) {
            mic.copy_from_slice(piece);
        }
        let mut sent = [0.0f32; FRAME_SAMPLES];
        if let Some(frame) = speaker_chain.process(&mic).frame {
            heard.frames_spoken += 1;
            own_decoder.decode(&frame.opus, &mut sent);
            speaker.core.send_voice(frame);
        }
        heard.sent.extend_from_slice(&sent);
        speaker.pump();
        listener.pump();
        for voice in listener.core.take_voice() {
            output.push(voice.from, voice.frame);
            output.place(voice.from, (speaker_at + Vec3::Y * 1.15).into());
        }
        let played = clock.render(FRAME_SAMPLES);
        heard.left.extend(played.iter().map(|[l, _]| *l));
        heard.right.extend(played.iter().map(|[_, r]| *r));
        // The listener's laptop: its speakers leak into its microphone.
        let far: Vec<f32> = std::iter::from_fn(|| reference.pop().ok()).collect();
        listener_chain.far_end(&far);
        let echo = room.next(&far);
        let echo_frame: [f32; FRAME_SAMPLES] = echo.as_slice().try_into().unwrap();
        if listener_chain.process(&echo_frame).frame.is_some() {
            heard.listener_sent_at.push(i);
        }
        heard.echo_in_mic.extend_from_slice(&echo_frame);
        heard.echo_sent_on.extend_from_slice(listener_chain.processed());
    }
    heard
}

/// Speech through stalls: what was heard, and how late.
fn check_stalled(heard: &Heard) {
    let mono: Vec<f32> = heard.left.iter().zip(&heard.right).map(|(l, r)| (l + r) / 2.0).collect();
    let (transport_lag, _) = align(&heard.sent, &mono, 48_000 / 2);
    let delivered = segmental_similarity(&heard.sent, &mono, transport_lag, 48 * 25);
    let latency_ms = transport_lag as f64 / 48.0;
    eprintln!("voice over the WebSocket with 200 ms stalls each second: {delivered:.3} like what was sent, {latency_ms:.1} ms after it was sent");
    assert!(heard.frames_spoken > 200, "only {} frames were sent", heard.frames_spoken);
    assert!(delivered >= STALLED_LEAST_DELIVERED, "through the stalls the output correlates {delivered:.3} with what was sent");
    assert!(latency_ms < 300.0, "{latency_ms:.1} ms from mouth to ear through the stalls");
}

/// How much of the speech must come through 200 ms stalls each second.
const STALLED_LEAST_DELIVERED: f64 = 0.7;

fn check(heard: &Heard, loss: f64, least_similarity: f64, least_delivered: f64) {
    let speech = speech();
    let mono: Vec<f32> = heard.left.iter().zip(&heard.right).map(|(l, r)| (l + r) / 2.0).collect();
    // Against the phrase itself: the canceller's filters and Opus change the
    // waveform on purpose (the sender's chain alone measures about 0.77).
    let (lag, whole) = align(&speech, &mono, 48_000 / 2);
    // Each talk spurt may start up to a frame later or earlier than the last.
    let similarity = segmental_similarity(&speech, &mono, lag, 48 * 25);
    // Against what was sent: the network, the jitter buffer, FEC and the mix.
    let (transport_lag, _) = align(&heard.sent, &mono, 48_000 / 2);
    let delivered = segmental_similarity(&heard.sent, &mono, transport_lag, 48 * 25);
    let latency_ms = transport_lag as f64 / 48.0;
    // The canceller's first two seconds of far-end speech are its to learn the room.
    let converged = 3 * 48_000;
    let sent_back = heard.listener_sent_at.iter().filter(|&&i| i * FRAME_SAMPLES >= converged).count();
    let erle = attenuation_db(&heard.echo_in_mic[converged..], &heard.echo_sent_on[converged..]);
    eprintln!(
        "voice at {:.0}% loss: similarity to the phrase {similarity:.3} per half second ({whole:.3} as a whole), to what was sent {delivered:.3}, {latency_ms:.1} ms after it was sent; \
         left {:.1} dB, right {:.1} dB; the listener's echo {erle:.1} dB quieter, {} frames sent back ({sent_back} after 3 s)",
        loss * 100.0,
        rms_db(&heard.left),
        rms_db(&heard.right),
        heard.listener_sent_at.len(),
    );
    assert!(heard.frames_spoken > 200, "only {} frames were sent", heard.frames_spoken);
    assert!(similarity >= least_similarity, "at {:.0}% loss the output correlates {similarity:.3} with the phrase", loss * 100.0);
    assert!(delivered >= least_delivered, "at {:.0}% loss the output correlates {delivered:.3} with what was sent", loss * 100.0);
    assert!(latency_ms < 150.0, "{latency_ms:.1} ms from the speaker's mic to the listener's speakers on loopback");
    // The speaker stands to the listener's right.
    assert!(rms_db(&heard.right) > rms_db(&heard.left) + 3.0, "the voice is not on the right");
    // The listener's open mic does not send the room back.
    assert!(erle >= 20.0, "the listener's echo is only {erle:.1} dB quieter");
    assert!(sent_back <= 5, "the listener sent {sent_back} frames of echo back after the canceller converged");
}

#[test]
fn speech_crosses_the_room_intact_and_the_listener_does_not_send_it_back() {
    let _turn = one_at_a_time();
    check(&speak_and_listen("voice-clean", 0.0), 0.0, 0.6, 0.9);
}

#[test]
fn speech_survives_ten_percent_loss() {
    let _turn = one_at_a_time();
    check(&speak_and_listen("voice-lossy", 0.10), 0.10, 0.55, 0.75);
}

/// Over the WebSocket (UDP dropped) through a TCP path that holds
/// everything back for 200 ms every second, as a congested hospital proxy
/// does: TCP loses nothing, so what stalls arrives late and in a burst. The
/// speech still comes through: the jitter buffer waits longer, the sender
/// drops voice that went stale rather than sending it late, and nothing
/// grows without bound.
#[test]
fn speech_over_the_websocket_carries_on_through_200_ms_stalls() {
    let _turn = one_at_a_time();
    let server = TestServer::start("voice-wss-stalls", 8);
    let stalling = crate::relay::StallingTcpRelay::start(server.tcp_addr.unwrap(), Duration::from_secs(1), Duration::from_millis(200));
    let swallow = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let invite =
        tsunagu_net::invite::Invite { port: swallow.local_addr().unwrap().port(), tcp_port: Some(stalling.addr().port()), ..server.invite(CODE) };
    let settings = tsunagu_net::race::RaceSettings {
        proxy: tsunagu_net::wss::proxy::ProxyChoice::Direct,
        memory: tsunagu_net::race::UdpMemory::default(),
        ..tsunagu_net::race::RaceSettings::new(invite)
    };
    let hello = tsunagu_protocol::Hello::new(CODE, "S", tsunagu_protocol::AvatarLook::with_color([200, 160, 120]));
    let speaker =
        Peer::from_core(tsunagu_client_core::ClientCore::join(Box::new(tsunagu_net::race::RacingConnector::new(settings)), hello, Duration::ZERO));
    let heard = speak_and_listen_in(&server, speaker);
    assert!(stalling.stalls() >= 5, "the relay stalled only {} times", stalling.stalls());
    check_stalled(&heard);
}

/// The capture thread's way out: frames sent from another thread, straight
/// onto the QUIC connection, reach the listener without the sender polling.
#[test]
fn voice_sent_from_another_thread_goes_straight_out() {
    let server = TestServer::start("voice-direct", 4);
    let mut speaker = Peer::join(&server.invite(CODE), "S");
    let mut listener = Peer::join(&server.invite(CODE), "L");
    assert!(wait_until(&mut [&mut speaker, &mut listener], Duration::from_secs(5), |ps| ps.iter().all(|p| p.present() == 1)));
    let send = speaker.core.voice_sender().expect("QUIC connections have a datagram sender");
    let frames = tsunagu_voice::codec::talk_spurt(&speech()[..50 * FRAME_SAMPLES]).unwrap();
    let sent = frames.len();
    std::thread::spawn(move || {
        for frame in frames {
            send(frame);
            std::thread::sleep(FRAME_DURATION);
        }
    })
    .join()
    .unwrap();
    // Only the listener polls.
    let mut heard = 0;
    let until = Instant::now() + Duration::from_secs(3);
    while heard < sent && Instant::now() < until {
        listener.pump();
        heard += listener.core.take_voice().len();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(heard, sent, "frames sent from another thread went missing on loopback");
}

/// Over real QUIC: while the listener's app is stuck in one 100 ms frame
/// (its core not polled), each voice frame reaches the listener's voice sink
/// as it comes off the network, not when the app gets round to it.
#[test]
fn a_100_ms_render_stall_adds_no_delay_to_what_is_heard() {
    use std::sync::{Arc, Mutex};
    let _turn = one_at_a_time();
    let server = TestServer::start("voice-stall", 8);
    let mut speaker = Peer::join(&server.invite(CODE), "S");
    let mut listener = Peer::join(&server.invite(CODE), "L");
    assert!(wait_until(&mut [&mut speaker, &mut listener], Duration::from_secs(5), |ps| ps.iter().all(|p| p.present() == 1)));
    let reached: Arc<Mutex<Vec<(u16, Instant)>>> = Arc::default();
    let sink = {
        let reached = reached.clone();
        Arc::new(move |_: tsunagu_protocol::PeerId, frame: tsunagu_protocol::VoiceFrame| reached.lock().unwrap().push((frame.seq, Instant::now())))
    };
    assert!(listener.core.set_voice_sink(sink), "QUIC took no tap");
    // The listener's app stalls for 100 ms (5 frames of 20 ms); the speaker talks on.
    let mut sent_at = Vec::new();
    for seq in 0..5u16 {
        speaker.core.send_voice(tsunagu_protocol::VoiceFrame { seq, timestamp: u32::from(seq) * 960, speaking: true, opus: vec![5; 40] });
        sent_at.push(Instant::now());
        speaker.pump();
        std::thread::sleep(FRAME_DURATION);
    }
    std::thread::sleep(Duration::from_millis(30));
    let reached = reached.lock().unwrap().clone();
    assert_eq!(reached.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4], "frames missing during the stall");
    let worst = reached.iter().map(|(seq, at)| at.duration_since(sent_at[usize::from(*seq)])).max().unwrap();
    eprintln!("voice during a 100 ms render stall: worst send-to-mix {:.1} ms", worst.as_secs_f64() * 1e3);
    assert!(worst < Duration::from_millis(40), "a frame waited {worst:?} for the listener's app");
    listener.pump();
    assert!(listener.core.take_voice().is_empty(), "a frame was also queued for the app");
}
