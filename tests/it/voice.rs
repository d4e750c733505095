//! The client's voice adapter, headless (`MinimalPlugins`) against a real room
//! server on the in-memory hub, in real time (a microphone file plays in real
//! time): the app's `--mic-file` voice reaches another client, and another
//! client's voice is written to the app's `--speaker-file`.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use bevy::time::TimeUpdateStrategy;
use tsunagu_client::kit::net::{Connection, NetPlugin};
use tsunagu_client::kit::room::RemoteAvatar;
use tsunagu_client::voice::{MicStatus, Voice, VoicePlugin};
use tsunagu_client::{AppState, BODY_COLORS, Settings};
use tsunagu_client_core::ClientCore;
use tsunagu_i18n::Language;
use tsunagu_protocol::{AvatarLook, Hello};
use tsunagu_testkit::{ROOM_CODE, Stepper, TICK};
use tsunagu_voice::engine::{Endpoint, VoiceSettings};
use tsunagu_voice::measure;

fn phrase() -> std::path::PathBuf {
    crate::root().join("assets/voice/far-end-phrase.wav")
}

#[test]
fn the_mic_file_reaches_the_room_and_the_room_reaches_the_speaker_file() {
    let _turn = crate::one_at_a_time();
    let speaker_file = std::env::temp_dir().join(format!("tsunagu-adapter-voice-{}.wav", std::process::id()));
    let settings = VoiceSettings { mic: Some(Endpoint::File(phrase())), speakers: Some(Endpoint::File(speaker_file.clone())), ..Default::default() };
    let mut stepper = Stepper::new(4);
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin))
        .insert_resource(TimeUpdateStrategy::ManualDuration(TICK))
        .insert_resource(Settings { nickname: "ゆき".into(), look: AvatarLook::with_color(BODY_COLORS[0]), language: Language::Japanese })
        .init_state::<AppState>()
        .add_plugins((NetPlugin, VoicePlugin { settings }));
    assert_eq!(*app.world().resource::<MicStatus>(), MicStatus::Ready);
    let hello = Hello::new(ROOM_CODE, "ゆき", AvatarLook::with_color(BODY_COLORS[0]));
    app.insert_resource(Connection::new(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO)));
    app.world_mut().resource_mut::<NextState<AppState>>().set(AppState::InRoom);
    let friend = stepper.connect(ROOM_CODE, "あおい");

    // Three seconds in real time: the app talks (its mic file), the friend too.
    let speech = tsunagu_voice::wav::read_mono_48k(&phrase()).unwrap();
    let mut friend_says = tsunagu_voice::codec::talk_spurt(&speech).unwrap().into_iter();
    let mut heard_by_friend = 0;
    // Both in the room before anyone speaks (frames sent while joining are dropped).
    for _ in 0..100 {
        stepper.step(TICK);
        app.update();
        let app_in = app.world().resource::<Connection>().read(|core| core.in_room());
        if app_in && stepper.clients[friend].core.in_room() {
            break;
        }
    }
    let started = Instant::now();
    let mut frame_at = Duration::ZERO;
    let mut placed = false;
    while started.elapsed() < Duration::from_secs(4) {
        // The friend's avatar, a metre in front of us once we know who they are.
        if !placed && let Some(id) = stepper.clients[friend].id() {
            app.world_mut().spawn((RemoteAvatar(id), GlobalTransform::from_translation(Vec3::new(0.0, 0.0, -1.0))));
            placed = true;
        }
        std::thread::sleep(Duration::from_millis(10));
        // The friend speaks in 20 ms frames, in time.
        while frame_at < started.elapsed()
            && let Some(frame) = friend_says.next()
        {
            stepper.clients[friend].core.send_voice(frame);
            frame_at += tsunagu_voice::FRAME_DURATION;
        }
        stepper.step(TICK);
        app.update();
        heard_by_friend += stepper.clients[friend].core.take_voice().len();
    }
    let friend_id = stepper.clients[friend].id().unwrap();
    assert!(app.world().resource::<Voice>().with(|engine| engine.speaking(friend_id)), "the friend's voice is not playing");
    assert!(heard_by_friend > 100, "the friend got only {heard_by_friend} frames of the app's voice in 4 s");

    app.world_mut().write_message(AppExit::Success);
    app.update();
    let written = tsunagu_voice::wav::read_mono_48k(&speaker_file).unwrap();
    std::fs::remove_file(&speaker_file).unwrap();
    assert!(written.len() > 3 * 48_000, "{} samples in the speaker file", written.len());
    let (_, similarity) = measure::align(&speech[..2 * 48_000], &written, 3 * 48_000);
    assert!(similarity > 0.5, "the speaker file holds something else (correlation {similarity:.2})");
}
