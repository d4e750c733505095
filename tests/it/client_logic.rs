//! Client logic that needs no window: the rules behind the start screen and HUD.

use tsunagu_client::audio::SoundStatus;
use tsunagu_client::ui::hud::notices;
use tsunagu_client::ui::start::append_to_nickname;
use tsunagu_client::xr::DisplayMode;
use tsunagu_client::{BODY_COLORS, Settings};
use tsunagu_i18n::Language;
use tsunagu_protocol::limits::MAX_NICKNAME_CHARS;
use tsunagu_protocol::nickname_is_valid;

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
    let shown = notices(Some(SoundStatus::Unavailable), Some(DisplayMode::Desktop), None);
    let keys: Vec<_> = shown.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, ["status-no-sound", "status-no-xr"]);
    assert!(notices(Some(SoundStatus::Ready), Some(DisplayMode::Headset), None).is_empty());
}

#[test]
fn the_hello_carries_the_start_screen_choices() {
    let settings = Settings { nickname: "  はると ".into(), body_color: BODY_COLORS[2], language: Language::Japanese };
    let hello = tsunagu_client::net::hello_for(&settings, "room");
    assert_eq!(hello.nickname, "はると");
    assert_eq!(hello.look.body_color, BODY_COLORS[2]);
    assert_eq!(hello.version, tsunagu_protocol::PROTOCOL_VERSION);
}
