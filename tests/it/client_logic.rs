//! Client logic that needs no window: the rules behind the start screen and HUD.

use tsunagu_client::headset::DisplayMode;
use tsunagu_client::hud::notices;
use tsunagu_client::kit::hud::StandingNotices;
use tsunagu_client::kit::net::refusal_message;
use tsunagu_client::kit::room::LinkState;
use tsunagu_client::start::{
    MAX_INVITE_CHARS, MAX_PROXY_CHARS, append_to_invite, append_to_nickname, append_to_proxy, masked_proxy_text, read_proxy_text,
};
use tsunagu_client::voice::MicStatus;
use tsunagu_client::voice::audio::SoundStatus;
use tsunagu_client::{BODY_COLORS, Settings};
use tsunagu_i18n::Language;
use tsunagu_protocol::limits::MAX_NICKNAME_CHARS;
use tsunagu_protocol::{RefusalReason, nickname_is_valid};

#[test]
fn typing_keeps_the_nickname_within_limits() {
    let mut name = String::new();
    append_to_nickname(&mut name, "ゆき\u{7}");
    assert_eq!(name, "ゆき");
    append_to_nickname(&mut name, &"あ".repeat(100));
    assert_eq!(name.chars().count(), MAX_NICKNAME_CHARS);
    assert!(nickname_is_valid(&name));
}

#[test]
fn missing_devices_are_announced() {
    // Each feature says what it misses, as its own plugin does each frame.
    let standing = |sound: SoundStatus, mic: MicStatus, display: DisplayMode| {
        let mut said = StandingNotices::default();
        said.set("sound", sound.notice());
        said.set("mic", mic.notice());
        said.set("headset", display.notice());
        said.ids().collect::<Vec<_>>()
    };
    let fine = || standing(SoundStatus::Ready, MicStatus::Ready, DisplayMode::Headset);
    assert_eq!(
        notices(standing(SoundStatus::Unavailable, MicStatus::Unavailable, DisplayMode::Desktop), LinkState::Fine, None, false, false),
        ["status-no-sound", "status-no-mic", "status-no-xr"]
    );
    assert_eq!(
        notices(standing(SoundStatus::Ready, MicStatus::Unavailable, DisplayMode::Headset), LinkState::Fine, None, false, false),
        ["status-no-mic"]
    );
    // Turned off on purpose (--no-mic) is not news.
    assert!(notices(standing(SoundStatus::Ready, MicStatus::Off, DisplayMode::Headset), LinkState::Fine, None, false, false).is_empty());
    assert!(notices(fine(), LinkState::Fine, None, false, false).is_empty());
    assert_eq!(notices(fine(), LinkState::Reconnecting, None, false, false), ["hud-reconnecting"]);
    assert_eq!(notices(fine(), LinkState::Busy, None, false, false), ["hud-busy"]);
    assert_eq!(notices(fine(), LinkState::Fine, Some(refusal_message(RefusalReason::TooFast)), false, false), ["hud-slow-down"]);
    // Muted by a facilitator: said first, so a child knows why nobody hears them.
    assert_eq!(
        notices(standing(SoundStatus::Unavailable, MicStatus::Ready, DisplayMode::Headset), LinkState::Fine, None, true, false),
        ["hud-muted-by-staff", "status-no-sound"]
    );
    // A headset that stopped says the screen carries on.
    assert_eq!(
        notices(standing(SoundStatus::Ready, MicStatus::Ready, DisplayMode::HeadsetEnded), LinkState::Fine, None, false, false),
        ["status-xr-ended"]
    );
    // Waiting to be let in says so, calmly; staff are told someone waits.
    assert_eq!(notices(fine(), LinkState::Waiting, None, false, false), ["hud-waiting"]);
    assert_eq!(notices(fine(), LinkState::Fine, None, false, true), ["hud-someone-waiting"]);
    // What comes back is said no more.
    let mut said = StandingNotices::default();
    said.set("mic", MicStatus::Unavailable.notice());
    said.set("mic", MicStatus::Ready.notice());
    assert_eq!(said.ids().count(), 0);
    // A refusal in play says why, kindly: someone has it, or go closer.
    assert_eq!(refusal_message(RefusalReason::Taken), "play-taken");
    assert_eq!(refusal_message(RefusalReason::OutOfReach), "play-too-far");
}

#[test]
fn pasted_invites_keep_only_what_an_invite_can_hold() {
    let mut invite = String::new();
    append_to_invite(&mut invite, "tsunagu://127.0.0.1:4433/abc?fp=00\n\u{3042}");
    assert_eq!(invite, "tsunagu://127.0.0.1:4433/abc?fp=00");
    append_to_invite(&mut invite, &"x".repeat(1000));
    assert_eq!(invite.len(), MAX_INVITE_CHARS);
}

/// The start screen's proxy field: what it keeps, what it refuses, and the
/// password never shown.
#[test]
fn the_proxy_field_reads_a_proxy_and_shows_no_password() {
    assert_eq!(read_proxy_text("  "), Ok(None), "empty means the system's proxy");
    assert_eq!(read_proxy_text("nowhere"), Err(tsunagu_client::start::NotAProxy));
    let proxy = read_proxy_text("http://ward:s3cret@proxy.ward.example:3128").unwrap().unwrap();
    assert_eq!((proxy.host.as_str(), proxy.port, proxy.password.as_deref()), ("proxy.ward.example", 3128, Some("s3cret")));
    assert_eq!(masked_proxy_text("ward:s3cret@proxy.ward.example:3128"), "ward:******@proxy.ward.example:3128");
    assert_eq!(masked_proxy_text("http://ward:pa@ss@proxy:8080"), "http://ward:*****@proxy:8080");
    assert_eq!(masked_proxy_text("proxy.ward.example:3128"), "proxy.ward.example:3128");
    let mut typed = String::new();
    append_to_proxy(&mut typed, "proxy:80\n\u{3042}");
    assert_eq!(typed, "proxy:80");
    append_to_proxy(&mut typed, &"x".repeat(1000));
    assert_eq!(typed.len(), MAX_PROXY_CHARS);
}

#[test]
fn every_way_a_join_fails_has_its_own_message() {
    use tsunagu_client::kit::net::{end_message, reject_message};
    use tsunagu_net::LinkEnd;
    use tsunagu_protocol::{CloseReason, RejectReason};
    let messages = [
        reject_message(RejectReason::WrongRoomCode),
        reject_message(RejectReason::RoomFull),
        reject_message(RejectReason::VersionMismatch { server_version: 9 }),
        reject_message(RejectReason::RoomClosed),
        end_message(LinkEnd::Unreachable),
        end_message(LinkEnd::WrongCertificate),
        end_message(LinkEnd::Busy),
        end_message(LinkEnd::Reason(CloseReason::ServerShutdown)),
        end_message(LinkEnd::Intercepted),
        end_message(LinkEnd::ProxyNeedsPassword),
        end_message(LinkEnd::ProxyUnreachable),
        end_message(LinkEnd::ProxyRefused),
    ];
    let unique: std::collections::HashSet<_> = messages.iter().collect();
    assert_eq!(unique.len(), messages.len(), "two failures share a message: {messages:?}");
    let ja = std::fs::read_to_string(crate::root().join("assets/locales/ja/main.ftl")).unwrap();
    for key in messages {
        assert!(ja.contains(&format!("\n{key} = ")), "{key} is not in the ja locale");
    }
}

#[test]
fn the_hello_carries_the_start_screen_choices() {
    let settings =
        Settings { nickname: "  はると ".into(), look: tsunagu_protocol::AvatarLook::with_color(BODY_COLORS[2]), language: Language::Japanese };
    let hello = tsunagu_client::kit::net::hello_for(&settings, "room", 42);
    assert_eq!(hello.nickname, "はると");
    assert_eq!(hello.device, 42, "the installation's number goes with it");
    assert_eq!(hello.look.body_color, BODY_COLORS[2]);
    assert_eq!(hello.version, tsunagu_protocol::PROTOCOL_VERSION);
}

#[test]
fn clicking_a_name_tag_makes_a_voice_softer_then_silent_then_hidden_then_full_again() {
    use tsunagu_client::kit::room::LocalVolume;
    let steps: Vec<LocalVolume> = std::iter::successors(Some(LocalVolume::default()), |v| Some(v.next())).take(5).collect();
    assert_eq!(steps, [LocalVolume::Full, LocalVolume::Soft, LocalVolume::Off, LocalVolume::Hidden, LocalVolume::Full]);
    assert_eq!(LocalVolume::Full.note(), None);
    assert_eq!(LocalVolume::Soft.note(), Some("voice-peer-soft"));
    assert_eq!(LocalVolume::Off.note(), Some("voice-peer-off"));
    // (volume here, seen): each step, and the calm button over any of them.
    assert_eq!(LocalVolume::Full.effect(false), (1.0, true));
    assert_eq!(LocalVolume::Soft.effect(false), (0.5, true));
    assert_eq!(LocalVolume::Off.effect(false), (0.0, true));
    assert_eq!(LocalVolume::Hidden.effect(false), (0.0, false));
    assert_eq!(LocalVolume::Full.effect(true), (0.0, false));
}

#[test]
fn the_talk_button_talks_while_held_or_from_one_tap_to_the_next() {
    use tsunagu_client::voice::panel::{TalkLatch, meter_fill};
    let mut latch = TalkLatch::default();
    // Held for a second: talking while down, not after.
    assert!(latch.change(true, 10.0));
    assert!(!latch.change(false, 11.0));
    // A tap: talking goes on after the button is up...
    assert!(latch.change(true, 20.0));
    assert!(latch.change(false, 20.1));
    // ...until the next tap.
    assert!(!latch.change(true, 25.0));
    assert!(!latch.change(false, 25.1));
    assert_eq!(meter_fill(-100.0), 0.0);
    assert_eq!(meter_fill(0.0), 1.0);
    assert!((meter_fill(-35.0) - 0.5).abs() < 1e-6);
}

#[test]
fn the_wrist_menu_finds_the_button_a_hand_points_at() {
    use bevy::prelude::{Entity, Vec2};
    use tsunagu_client::headset::pointing::button_at;
    let (wave, stamp) = (Entity::from_raw_u32(1).unwrap(), Entity::from_raw_u32(2).unwrap());
    let buttons = [(wave, Vec2::new(100.0, 50.0), Vec2::new(180.0, 56.0)), (stamp, Vec2::new(300.0, 200.0), Vec2::new(88.0, 88.0))];
    assert_eq!(button_at(Vec2::new(20.0, 30.0), buttons), Some(wave));
    assert_eq!(button_at(Vec2::new(330.0, 240.0), buttons), Some(stamp));
    assert_eq!(button_at(Vec2::new(200.0, 120.0), buttons), None, "between buttons");
}

/// The saved bamboo picture is named short: where to find it, not a whole path.
#[test]
fn a_saved_picture_is_named_by_its_last_folders_only() {
    use tsunagu_client::kit::pictures::where_it_went;
    let path = std::path::Path::new("/home/ward-pc/Pictures/Tsunagu/tanabata-1795900605.png");
    assert_eq!(where_it_went(path), "Pictures/Tsunagu/tanabata-1795900605.png");
    assert_eq!(where_it_went(std::path::Path::new("Tsunagu/a.png")), "Tsunagu/a.png");
}

/// A chat bubble that would sit under a card moves just beside it, to the
/// nearest clear place on screen; a clear one stays; with no room, it stays.
#[test]
fn a_bubble_under_a_card_moves_beside_it() {
    use bevy::math::{Rect, Vec2};
    use tsunagu_client::kit::hud::clear_of_cards;
    let screen = Rect::new(0.0, 0.0, 1280.0, 720.0);
    let invite = Rect::new(700.0, 170.0, 1266.0, 280.0);
    let chat = Rect::new(886.0, 380.0, 1266.0, 590.0);
    let bubble = |x: f32, y: f32| Rect::from_corners(Vec2::new(x, y), Vec2::new(x + 260.0, y + 60.0));
    // Clear of both: where it is.
    assert_eq!(clear_of_cards(bubble(300.0, 300.0), &[invite, chat], screen), bubble(300.0, 300.0));
    // Under the invite's bottom edge: just below it (the nearest), clear of the chat too.
    let moved = clear_of_cards(bubble(800.0, 240.0), &[invite, chat], screen);
    assert_eq!(moved, bubble(800.0, 286.0));
    assert!(moved.intersect(invite).is_empty() && moved.intersect(chat).is_empty());
    // Under the chat card: beside it, on screen.
    let moved = clear_of_cards(bubble(900.0, 450.0), &[invite, chat], screen);
    assert!(moved.intersect(chat).is_empty() && moved.intersect(invite).is_empty(), "{moved:?}");
    assert!(screen.contains(moved.min) && screen.contains(moved.max));
    // Caught in a corner between two cards (the Tanabata card and the gesture
    // bar, as seen in a busy room): beside one and above the other.
    let tanabata = Rect::new(14.0, 14.0, 430.0, 456.0);
    let gestures = Rect::new(14.0, 476.0, 769.0, 596.0);
    let moved = clear_of_cards(bubble(352.0, 433.0), &[tanabata, gestures], screen);
    assert_eq!(moved, bubble(436.0, 410.0));
    // Nowhere clear (a card over the whole screen): it stays.
    let everything = Rect::new(0.0, 0.0, 1280.0, 720.0);
    assert_eq!(clear_of_cards(bubble(10.0, 10.0), &[everything], screen), bubble(10.0, 10.0));
}

#[test]
fn every_gesture_has_a_key_of_its_own_and_none_takes_the_hands() {
    use tsunagu_client::expression::{HAND_KEY, gesture_row};
    let rows: Vec<_> = tsunagu_protocol::Gesture::ALL.iter().map(|g| gesture_row(*g)).collect();
    for (n, row) in rows.iter().enumerate() {
        assert_ne!(row.key, HAND_KEY.0, "{row:?} takes the raise-hand key");
        assert!(rows[n + 1..].iter().all(|other| other.key != row.key && other.key_label != row.key_label), "{row:?} shares its key");
        assert!(rows[n + 1..].iter().all(|other| other.message != row.message), "{row:?} shares its name");
    }
}

/// The error handler the app runs with: a command on an entity already gone
/// (the headset's teardown does that) keeps the room open.
#[test]
fn a_command_on_an_entity_already_gone_does_not_close_the_room() {
    use bevy::prelude::*;
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).set_error_handler(tsunagu_client::keep_the_room_going);
    let gone = app.world_mut().spawn_empty().id();
    app.world_mut().despawn(gone);
    app.add_systems(Update, move |mut commands: Commands| {
        commands.entity(gone).insert(Name::new("eyes"));
    });
    app.update();
    app.update();
}

/// Any other error is a bug, and a debug build (these tests) stops on it.
#[test]
#[should_panic(expected = "broken on purpose")]
fn any_other_error_stops_a_debug_build() {
    use bevy::prelude::*;
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).set_error_handler(tsunagu_client::keep_the_room_going);
    app.add_systems(Update, || -> Result { Err("broken on purpose".into()) });
    app.update();
}

/// The invite card is the staff's: a child never sees the invite string.
#[test]
fn only_staff_are_shown_the_invite_to_pass_on() {
    use tsunagu_client::hud::invite_to_share;
    use tsunagu_client::kit::net::JoinPlan;
    use tsunagu_client::kit::room::RoomNow;
    use tsunagu_net::invite::Invite;
    use tsunagu_protocol::{AvatarLook, PeerId, PeerInfo, Role, RoomCodes};
    let joined_with = Invite { host: "192.168.1.20".into(), port: 4433, tcp_port: None, room_code: "abcdefghijklm".into(), fingerprint: [7; 32] };
    let plan = JoinPlan::Invite(joined_with);
    let me = |role| PeerInfo {
        id: PeerId(1),
        nickname: "ゆき".into(),
        look: AvatarLook::with_color([255, 160, 80]),
        role,
        hand_raised: false,
        muted: false,
        resting: false,
        speak_for_me: false,
    };
    let codes = Some(RoomCodes { participant: "nopqrstuvwxyz".into(), facilitator: String::new() });
    let child = RoomNow { me: Some(me(Role::Participant)), invites: codes.clone(), ..Default::default() };
    let nurse = RoomNow { me: Some(me(Role::Facilitator)), invites: codes, ..Default::default() };
    assert_eq!(invite_to_share(&child, None, Some(&plan)), None);
    let shared = invite_to_share(&nurse, None, Some(&plan)).expect("the nurse has no invite to pass on");
    assert!(shared.contains("nopqrstuvwxyz") && shared.contains("192.168.1.20"), "{shared}");
}

/// The standing notices keep the order their sayers were registered in (the
/// plugins' order), not the order their systems happened to run in a frame.
#[test]
fn standing_notices_keep_the_sayers_order_whoever_speaks_first() {
    let mut said = StandingNotices::default();
    for sayer in ["sound", "mic", "headset"] {
        said.register(sayer);
    }
    said.set("headset", DisplayMode::Desktop.notice());
    said.set("sound", SoundStatus::Unavailable.notice());
    assert_eq!(said.ids().collect::<Vec<_>>(), ["status-no-sound", "status-no-xr"]);
    // Gone and back again, a notice keeps its place.
    said.set("sound", None);
    said.set("sound", SoundStatus::Unavailable.notice());
    assert_eq!(said.ids().collect::<Vec<_>>(), ["status-no-sound", "status-no-xr"]);
}

/// The network check in plain words: what works, and what to ask IT for,
/// naming the host and ports to let through or to exempt from inspection.
#[test]
fn the_network_check_says_what_works_and_what_to_ask_it_for() {
    use std::time::Duration;
    use tsunagu_client::kit::network_report::network_report_lines;
    use tsunagu_net::LinkEnd;
    use tsunagu_net::netcheck::{NetworkReport, Probe};
    use tsunagu_net::wss::Bandwidth;
    let locales = tsunagu_i18n::Locales::load().unwrap();
    let fast = Bandwidth { down_kbit_s: 900, up_kbit_s: 600 };
    let speed = |udp, tcp, proxy: Option<&str>, bandwidth: Option<Bandwidth>| NetworkReport {
        host: "room.example".into(),
        udp_port: 4433,
        tcp_port: 443,
        udp,
        tcp,
        proxy: proxy.map(Into::into),
        bandwidth: if matches!(tcp, Probe::Up(_)) { bandwidth } else { None },
    };
    let report = |udp, tcp, proxy: Option<&str>| speed(udp, tcp, proxy, Some(fast));
    let up = Probe::Up(Duration::from_millis(12));
    let say = |r: &NetworkReport, lang| network_report_lines(&locales, lang, r, tsunagu_client::kit::network_report::ReportForm::Terminal).join("\n");

    let fine = say(&report(up, up, None), Language::Japanese);
    assert!(fine.contains("さんかできます") && !fine.contains("IT"), "{fine}");
    let tcp_only = say(&report(Probe::Failed(LinkEnd::Unreachable), up, None), Language::English);
    assert!(tcp_only.contains("can join (over TCP)") && tcp_only.contains("UDP 4433 to room.example"), "{tcp_only}");
    let inspected = say(&report(Probe::Failed(LinkEnd::Unreachable), Probe::Failed(LinkEnd::Intercepted), None), Language::English);
    assert!(inspected.contains("cannot join") && inspected.contains("exempt room.example:443 from TLS inspection"), "{inspected}");
    let nothing = say(&report(Probe::Failed(LinkEnd::Unreachable), Probe::Failed(LinkEnd::Unreachable), None), Language::Japanese);
    assert!(nothing.contains("UDP 4433") && nothing.contains("TCP 443") && !nothing.contains("けんさ"), "{nothing}");
    let password =
        say(&report(Probe::Failed(LinkEnd::Unreachable), Probe::Failed(LinkEnd::ProxyNeedsPassword), Some("proxy.ward:3128")), Language::English);
    assert!(password.contains("proxy.ward:3128") && password.contains("user name and password"), "{password}");
    // On the start screen, short: what it means, the findings on one line, what to ask.
    let screen = network_report_lines(
        &locales,
        Language::English,
        &report(Probe::Failed(LinkEnd::Unreachable), up, Some("10.0.0.1:3128")),
        tsunagu_client::kit::network_report::ReportForm::Screen,
    );
    let screen: Vec<String> = screen.iter().map(|l| l.replace('\u{2060}', "")).collect();
    assert_eq!(
        screen[1],
        "UDP: does not get through ・ TCP: works ・ Proxy: 10.0.0.1:3128 ・ TLS: not inspected ・ Speed: down 900 kbit/s, up 600 kbit/s"
    );
    assert!(screen[0].contains("can join (over TCP)") && screen.len() == 3, "{screen:?}");
    // The rough speed, and what a thin line means for the meetup.
    assert!(fine.contains("うけとり 900 kbit/s、おくり 600 kbit/s") && !fine.contains("おそい"), "{fine}");
    let thin = say(&speed(up, up, None, Some(Bandwidth { down_kbit_s: 400, up_kbit_s: 100 })), Language::English);
    assert!(thin.contains("down 400 kbit/s, up 100 kbit/s") && thin.contains("Connection: light"), "{thin}");
    let too_thin = say(&speed(up, up, None, Some(Bandwidth { down_kbit_s: 200, up_kbit_s: 40 })), Language::English);
    assert!(too_thin.contains("very slow") && !too_thin.contains("Connection: light"), "{too_thin}");
    use tsunagu_client::kit::network_report::speed_text;
    assert_eq!([speed_text(64), speed_text(2_400), speed_text(25_400), speed_text(100_000)], ["64 kbit/s", "2.4 Mbit/s", "25 Mbit/s", "100+ Mbit/s"]);
    let unmeasured = say(&speed(up, up, None, None), Language::English);
    assert!(unmeasured.contains("could not be measured"), "{unmeasured}");
}
