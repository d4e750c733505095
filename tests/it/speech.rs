//! Speak for me through the client's real mix, headless, against a real room
//! server on the in-memory hub, in real time: a friend with speak-for-me on
//! types a line, and this client's `--speaker-file` holds it spoken, from the
//! friend's side, soon after it arrived; a friend beyond 12 m is not heard;
//! and making the sound of a long line never holds up a frame.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use bevy::time::TimeUpdateStrategy;
use tsunagu_client::kit::net::{Connection, NetPlugin};
use tsunagu_client::kit::room::RemoteAvatar;
use tsunagu_client::kit::text::{Texts, UiFont};
use tsunagu_client::speech::{SpeechPlugin, speech_folder};
use tsunagu_client::voice::VoicePlugin;
use tsunagu_client::{AppState, BODY_COLORS, Settings};
use tsunagu_client_core::ClientCore;
use tsunagu_i18n::{Language, Locales};
use tsunagu_protocol::{AvatarLook, ClientEvent, Hello};
use tsunagu_speech::files::SpeechFiles;
use tsunagu_testkit::{ROOM_CODE, Stepper, TICK};
use tsunagu_voice::engine::{Endpoint, VoiceSettings};

/// Whether the voices are set up (`cargo xtask test` sets them up and
/// requires them; a bare `cargo test` without them says so and skips).
fn voices_here() -> bool {
    match SpeechFiles::in_folder(&speech_folder()).missing() {
        None => true,
        Some(why) if std::env::var_os("TSUNAGU_REQUIRE_SPEECH").is_some() => panic!("speak-for-me's voices are required here: {why}"),
        Some(why) => {
            eprintln!("*** speech test skipped: {why} ***");
            false
        }
    }
}

/// (left, right) levels in dB of the stereo file between `from` and `to` seconds.
fn levels(wav: &[[f32; 2]], from: f64, to: f64) -> (f64, f64) {
    let span = &wav[((from * 48_000.0) as usize).min(wav.len())..((to * 48_000.0) as usize).min(wav.len())];
    let db = |side: usize| tsunagu_voice::measure::rms_db(&span.iter().map(|f| f[side]).collect::<Vec<_>>());
    (db(0), db(1))
}

/// The first moment after `after` seconds where 20 ms of the file are louder than −45 dB.
fn first_sound(wav: &[[f32; 2]], after: f64) -> Option<f64> {
    let start = (after * 48_000.0) as usize;
    wav.get(start..)?
        .chunks(960)
        .position(|c| tsunagu_voice::measure::rms_db(&c.iter().map(|f| f[0].max(f[1])).collect::<Vec<_>>()) > -45.0)
        .map(|i| after + i as f64 * 0.02)
}

#[test]
fn a_line_with_speak_for_me_is_heard_from_the_friends_side_and_not_from_afar() {
    if !voices_here() {
        return;
    }
    let _turn = crate::one_at_a_time();
    let speaker_file = std::env::temp_dir().join(format!("tsunagu-speech-{}.wav", std::process::id()));
    let settings = VoiceSettings { mic: None, speakers: Some(Endpoint::File(speaker_file.clone())), ..Default::default() };
    let mut stepper = Stepper::new(4);
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin))
        .insert_resource(TimeUpdateStrategy::ManualDuration(TICK))
        .insert_resource(Settings { nickname: "ゆき".into(), look: AvatarLook::with_color(BODY_COLORS[0]), language: Language::Japanese })
        .insert_resource(Texts(Locales::load().unwrap_or_else(|e| panic!("locale files: {e}"))))
        .insert_resource(UiFont(Handle::default()))
        .init_resource::<tsunagu_client::kit::hud::OpenDrawer>()
        .init_state::<AppState>();
    // The speaker file's clock starts with the voice.
    let opened = Instant::now();
    app.add_plugins((NetPlugin, VoicePlugin { settings }, SpeechPlugin));
    let hello = Hello::new(ROOM_CODE, "ゆき", AvatarLook::with_color(BODY_COLORS[0]));
    app.insert_resource(Connection::new(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO)));
    app.world_mut().resource_mut::<NextState<AppState>>().set(AppState::InRoom);
    let (near, far) = (stepper.connect(ROOM_CODE, "あおい"), stepper.connect(ROOM_CODE, "そら"));
    let run = |app: &mut App, stepper: &mut Stepper, seconds: f64| {
        let until = Instant::now() + Duration::from_secs_f64(seconds);
        let mut longest = Duration::ZERO;
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
            stepper.step(TICK);
            let frame = Instant::now();
            app.update();
            longest = longest.max(frame.elapsed());
        }
        longest
    };
    for _ in 0..100 {
        stepper.step(TICK);
        app.update();
        if app.world().resource::<Connection>().read(|core| core.in_room()) && stepper.clients[far].core.in_room() {
            break;
        }
    }
    // Where they stand as this client hears them (our ears at the origin,
    // facing −Z): one 2 m to the left, one 13 m behind.
    let (near_id, far_id) = (stepper.clients[near].id().unwrap(), stepper.clients[far].id().unwrap());
    app.world_mut().spawn((RemoteAvatar(near_id), GlobalTransform::from_translation(Vec3::new(-2.0, 0.0, 0.0))));
    app.world_mut().spawn((RemoteAvatar(far_id), GlobalTransform::from_translation(Vec3::new(0.0, 0.0, 13.0))));
    for who in [near, far] {
        stepper.send_event(who, ClientEvent::SpeakForMe(true));
    }
    run(&mut app, &mut stepper, 0.5);

    // The far friend's line: spoken here, but 13 m away, so silent.
    let far_said = opened.elapsed().as_secs_f64();
    stepper.send_event(far, ClientEvent::Chat("きこえるかな？".into()));
    run(&mut app, &mut stepper, 2.0);
    // The near friend's long line (100 characters): first sound soon, from the left.
    let near_said = opened.elapsed().as_secs_f64();
    let long_line = "きのうの よるは ねむれなかったけれど、きょうは すこし げんきです。えほんの つづきを よんでほしいな。ねこの ページが いちばん すきです。みんなと いっしょに えを かけて うれしかった。またね";
    assert_eq!(long_line.chars().count(), 100);
    stepper.send_event(near, ClientEvent::Chat(long_line.into()));
    let longest_frame = run(&mut app, &mut stepper, 3.0);

    app.world_mut().write_message(AppExit::Success);
    app.update();
    let mut reader = hound::WavReader::open(&speaker_file).unwrap();
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    std::fs::remove_file(&speaker_file).unwrap();
    let wav: Vec<[f32; 2]> = samples.chunks_exact(2).map(|c| [f32::from(c[0]) / 32768.0, f32::from(c[1]) / 32768.0]).collect();

    let (far_l, far_r) = levels(&wav, far_said, near_said);
    assert!(far_l.max(far_r) < -70.0, "a line 13 m away is heard: {far_l:.1}/{far_r:.1} dB");
    let onset = first_sound(&wav, near_said).unwrap_or_else(|| panic!("the near friend's line is not in the speaker file"));
    let delay_ms = (onset - near_said) * 1000.0;
    let (left, right) = levels(&wav, onset, onset + 2.0);
    eprintln!(
        "spoken line: first sound {delay_ms:.0} ms after it was sent, {left:.1} dB left / {right:.1} dB right; far friend {far_l:.1}/{far_r:.1} dB; longest frame {longest_frame:?}"
    );
    assert!(delay_ms < 1500.0, "the line's first sound came {delay_ms:.0} ms after it was sent");
    assert!(left > -35.0, "the spoken line is too quiet: {left:.1} dB");
    assert!(left > right + 3.0, "a friend on the left is not heard on the left: {left:.1} / {right:.1} dB");
    // Making 100 characters of speech takes about half a second of CPU; a
    // frame that waited for it would be that long.
    assert!(longest_frame < Duration::from_millis(150), "a frame took {longest_frame:?} while a long line was being spoken");
}

/// The text on `B`'s button.
fn label<B: Component>(app: &mut App) -> String {
    let mut buttons = app.world_mut().query_filtered::<&Children, With<B>>();
    let text = buttons.iter(app.world()).next().map(|c| c[0]).unwrap_or_else(|| panic!("no button"));
    app.world().get::<Text>(text).unwrap().0.replace('\u{2060}', "")
}

fn press<B: Component>(app: &mut App) {
    let button = app.world_mut().query_filtered::<Entity, With<B>>().single(app.world()).unwrap();
    app.world_mut().entity_mut(button).insert(Interaction::Pressed);
}

fn release<B: Component>(app: &mut App) {
    let button = app.world_mut().query_filtered::<Entity, With<B>>().single(app.world()).unwrap();
    app.world_mut().entity_mut(button).insert(Interaction::None);
}

#[test]
fn the_buttons_turn_reading_aloud_on_for_me_and_off_for_a_listener() {
    use tsunagu_client::speech::{HearLinesButton, HearSpokenLines, SpeakForMeButton, SpeechMissing};
    let mut stepper = Stepper::new(4);
    let hello = Hello::new(ROOM_CODE, "わたし", AvatarLook::with_color([255, 160, 80])).from_device(1);
    let mut app = tsunagu_client::headless::room_app(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO), TICK);
    app.add_plugins(SpeechPlugin).init_resource::<Played>().add_systems(Update, record_played);
    let friend = stepper.connect(ROOM_CODE, "ともだち");
    app.world_mut().spawn((Button, SpeakForMeButton, Interaction::None, children![Text::new("")]));
    app.world_mut().spawn((Button, HearLinesButton, Interaction::None, children![Text::new("")]));
    let frames = |app: &mut App, stepper: &mut Stepper, n: usize| {
        for _ in 0..n {
            stepper.step(TICK);
            app.update();
        }
    };
    frames(&mut app, &mut stepper, 8);
    let me = app.world().resource::<Connection>().read(|core| core.my_id()).expect("joined");
    assert_eq!(label::<SpeakForMeButton>(&mut app), "かわりに よんで");
    assert_eq!(label::<HearLinesButton>(&mut app), "よみあげ: きく");

    press::<SpeakForMeButton>(&mut app);
    frames(&mut app, &mut stepper, 6);
    release::<SpeakForMeButton>(&mut app);
    frames(&mut app, &mut stepper, 1);
    assert_eq!(stepper.clients[friend].peers().get(&me).map(|p| p.speak_for_me), Some(true), "the friend's PC does not know to read my lines");
    assert_eq!(label::<SpeakForMeButton>(&mut app), "よみあげを やめる");

    // A listener who turned it off: my own line is not handed to the voices.
    press::<HearLinesButton>(&mut app);
    frames(&mut app, &mut stepper, 2);
    assert_eq!(*app.world().resource::<HearSpokenLines>(), HearSpokenLines(false));
    assert_eq!(label::<HearLinesButton>(&mut app), "よみあげ: きかない");
    app.world_mut().write_message(tsunagu_client::kit::net::SendRoomEvent(ClientEvent::Chat("はい".into())));
    // A second in real time: far longer than the voice takes (12 ms here).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        frames(&mut app, &mut stepper, 1);
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(app.world().resource::<Played>().0, [], "a line was played with reading aloud turned off");
    // Turned back on, the next line is played (or the notice says why not,
    // where the voice is missing and not required).
    release::<HearLinesButton>(&mut app);
    frames(&mut app, &mut stepper, 1);
    press::<HearLinesButton>(&mut app);
    frames(&mut app, &mut stepper, 2);
    app.world_mut().write_message(tsunagu_client::kit::net::SendRoomEvent(ClientEvent::Chat("いいえ".into())));
    let started = Instant::now();
    while app.world().resource::<Played>().0.is_empty() && !app.world().resource::<SpeechMissing>().0 && started.elapsed() < Duration::from_secs(10) {
        frames(&mut app, &mut stepper, 1);
        std::thread::sleep(Duration::from_millis(10));
    }
    if app.world().resource::<SpeechMissing>().0 && !voices_here() {
        return;
    }
    assert_eq!(app.world().resource::<Played>().0, [me], "my line was not played (once) after turning reading aloud back on");
}

/// Whose spoken lines the app handed to the voice to play, in order.
#[derive(Resource, Default)]
struct Played(Vec<tsunagu_protocol::PeerId>);

fn record_played(mut lines: MessageReader<tsunagu_client::kit::spoken::SpokenLine>, mut played: ResMut<Played>) {
    played.0.extend(lines.read().map(|line| line.from));
}
