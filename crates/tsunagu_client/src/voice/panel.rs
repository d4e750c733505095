//! The voice controls, on the start screen and in the room: microphone on/off,
//! "talk any time" or "hold to talk", a big hold-to-talk button for mouse-only
//! use, a live level meter, the mic test ("say something" and hear it back)
//! and which microphone and speakers to use. Large targets, no fast reflexes.

use bevy::prelude::*;
use tsunagu_i18n::Arg;
use tsunagu_voice::capture::TalkMode;
use tsunagu_voice::engine::{DeviceStatus, Endpoint, MicTest, VoiceEngine};

use crate::Settings;
use crate::kit::hud::{Drawer, FillSlot, Slot, wrist_button};
use crate::kit::palette;
use crate::kit::text::{Localized, Texts, UiFont, ui_text};
use crate::voice::{MicStatus, Voice, VoiceChoice, toggle_mode};

/// A voice button.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoiceButton {
    /// Microphone on/off.
    Mic,
    /// Talk any time / hold to talk.
    Mode,
    /// Held down: talking (push-to-talk).
    Talk,
    /// Record three seconds and play them back.
    MicTest,
    /// The next microphone on this PC.
    NextMic,
    /// The next speakers on this PC.
    NextSpeakers,
}

/// The bar that shows how loud the microphone is.
#[derive(Component)]
pub struct LevelMeter;

/// A line that names the chosen device.
#[derive(Component, Clone, Copy)]
enum DeviceLabel {
    Mic,
    Speakers,
}

/// Where the panel is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PanelPlace {
    /// The start screen: the mic test and the device choice.
    Start,
    /// The room's bar: on/off, the level, and the talk button while
    /// holding to talk: always one press away.
    Bar,
    /// The room's voice drawer: the talk mode, the mic test, the devices.
    Drawer,
}

/// Keeps the voice panels working.
pub struct VoicePanelPlugin;

impl Plugin for VoicePanelPlugin {
    fn build(&self, app: &mut App) {
        app.fill_slot(Slot::StartVoice, |card, font| spawn_voice_panel(card, font, PanelPlace::Start))
            .fill_slot(Slot::Voice, |bar, font| spawn_voice_panel(bar, font, PanelPlace::Bar))
            .fill_slot(Slot::Drawer(Drawer::Voice), |drawer, font| spawn_voice_panel(drawer, font, PanelPlace::Drawer))
            // The panel keeps the wrist's button labelled and coloured, as its own.
            .fill_slot(Slot::WristButtons, |row, font| {
                row.spawn((Button, VoiceButton::Mic, Node { flex_basis: Val::Percent(40.0), ..wrist_button() }, BackgroundColor(palette::BUTTON)))
                    .with_children(|b| {
                        b.spawn((ui_text(font, "", 26.0, palette::INK), Localized("voice-mic-on")));
                    });
            })
            .add_systems(Update, (press, show).run_if(resource_exists::<Voice>))
            .add_systems(Update, crate::voice::show_volume_marks.after(crate::voice::click_name_tags).run_if(in_state(crate::AppState::InRoom)));
    }
}

fn voice_button(font: &UiFont, which: VoiceButton, key: &'static str, wide: bool) -> impl Bundle {
    (
        Button,
        which,
        Node {
            padding: UiRect::axes(Val::Px(14.0), Val::Px(8.0)),
            min_height: Val::Px(40.0),
            min_width: Val::Px(if wide { 160.0 } else { 0.0 }),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border_radius: BorderRadius::all(Val::Px(12.0)),
            // A label that wraps inside a button is hard to read: never squeeze.
            flex_shrink: 0.0,
            ..default()
        },
        BackgroundColor(palette::BUTTON),
        children![(ui_text(font, "", 17.0, palette::INK), Localized(key))],
    )
}

/// Spawn the voice panel's contents under `parent`.
pub fn spawn_voice_panel(parent: &mut ChildSpawnerCommands, font: &UiFont, place: PanelPlace) {
    parent.spawn(Node { column_gap: Val::Px(8.0), align_items: AlignItems::Center, ..default() }).with_children(|row| {
        match place {
            PanelPlace::Bar => {
                row.spawn(voice_button(font, VoiceButton::Mic, "voice-mic-on", false));
                row.spawn(voice_button(font, VoiceButton::Talk, "voice-talk", true));
            }
            PanelPlace::Drawer => {
                row.spawn(voice_button(font, VoiceButton::Mode, "voice-mode-open", false));
                row.spawn(voice_button(font, VoiceButton::MicTest, "voice-test", true));
            }
            PanelPlace::Start => {
                row.spawn(voice_button(font, VoiceButton::MicTest, "voice-test", true));
            }
        }
        // The level meter: a track and a bar whose width follows the voice.
        let width = if place == PanelPlace::Bar { 72.0 } else { 120.0 };
        row.spawn((
            Node { width: Val::Px(width), height: Val::Px(12.0), flex_shrink: 0.0, border_radius: BorderRadius::all(Val::Px(6.0)), ..default() },
            BackgroundColor(palette::BUTTON),
        ))
        .with_children(|track| {
            track.spawn((
                LevelMeter,
                Node { width: Val::Percent(0.0), height: Val::Percent(100.0), border_radius: BorderRadius::all(Val::Px(6.0)), ..default() },
                BackgroundColor(Color::srgb(0.45, 0.75, 0.45)),
            ));
        });
    });
    if place != PanelPlace::Bar {
        // Microphone and speakers side by side: the start screen must fit 720 px.
        parent.spawn(Node { column_gap: Val::Px(8.0), align_items: AlignItems::Center, ..default() }).with_children(|row| {
            for (label, button) in [(DeviceLabel::Mic, VoiceButton::NextMic), (DeviceLabel::Speakers, VoiceButton::NextSpeakers)] {
                row.spawn(voice_button(font, button, "voice-change-device", false));
                row.spawn((label, ui_text(font, "", 15.0, palette::INK_SOFT), Node { flex_grow: 1.0, flex_basis: Val::Px(0.0), ..default() }));
            }
        });
    }
}

/// A click shorter than this on the talk button turns talking on until the
/// next click (for a hand that cannot hold a button down); longer is held.
pub const TAP_TO_LATCH_SECS: f64 = 0.4;

/// The talk button: held, or tapped on and tapped off.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TalkLatch {
    pressed_at: Option<f64>,
    latched: bool,
}

impl TalkLatch {
    /// The button went down (`true`) or up at `now` (seconds); returns
    /// whether we are talking now.
    pub fn change(&mut self, down: bool, now: f64) -> bool {
        match (down, self.pressed_at) {
            (true, _) if self.latched => {
                self.latched = false;
                self.pressed_at = None;
                false
            }
            (true, _) => {
                self.pressed_at = Some(now);
                true
            }
            (false, Some(at)) => {
                self.pressed_at = None;
                self.latched = now - at < TAP_TO_LATCH_SECS;
                self.latched
            }
            (false, None) => self.latched,
        }
    }
}

/// The meter's fill for a level: −60 dBFS and below empty, −10 full.
pub fn meter_fill(level_db: f32) -> f32 {
    ((level_db + 60.0) / 50.0).clamp(0.0, 1.0)
}

fn press(
    buttons: Query<(&Interaction, &VoiceButton), Changed<Interaction>>,
    voice: Res<Voice>,
    mut choice: ResMut<VoiceChoice>,
    mut commands: Commands,
    time: Res<Time<Real>>,
    mut latch: Local<TalkLatch>,
) {
    for (interaction, which) in &buttons {
        // The talk button talks while held, or from a tap to the next tap.
        if *which == VoiceButton::Talk {
            let talking = latch.change(*interaction == Interaction::Pressed, time.elapsed_secs_f64());
            voice.with(|engine| engine.set_talk_held(talking));
            continue;
        }
        if *interaction != Interaction::Pressed {
            continue;
        }
        match which {
            VoiceButton::Mic => voice.with(|engine| {
                let muted = !engine.muted();
                engine.set_muted(muted);
            }),
            VoiceButton::Mode => voice.with(|engine| {
                toggle_mode(engine);
                choice.0.mode = engine.mode();
            }),
            VoiceButton::MicTest => voice.with(VoiceEngine::start_mic_test),
            VoiceButton::NextMic => {
                choice.0.mic = Some(Endpoint::next_device(choice.0.mic.as_ref(), &tsunagu_voice::devices::input_names()));
                commands.queue(crate::voice::restart_voice);
            }
            VoiceButton::NextSpeakers => {
                choice.0.speakers = Some(Endpoint::next_device(choice.0.speakers.as_ref(), &tsunagu_voice::devices::output_names()));
                commands.queue(crate::voice::restart_voice);
            }
            VoiceButton::Talk => {}
        }
    }
}

/// The parts of the panels that change.
#[derive(bevy::ecs::system::SystemParam)]
struct PanelWidgets<'w, 's> {
    buttons: Query<
        'w,
        's,
        (&'static VoiceButton, &'static Children, &'static mut BackgroundColor, &'static Interaction, &'static mut Node),
        Without<LevelMeter>,
    >,
    labels: Query<'w, 's, &'static mut Localized>,
    meters: Query<'w, 's, &'static mut Node, (With<LevelMeter>, Without<VoiceButton>)>,
    devices: Query<'w, 's, (&'static DeviceLabel, &'static mut Text)>,
}

/// What the buttons, the meter and the device lines say now.
fn show(voice: Res<Voice>, mic: Res<MicStatus>, settings: Res<Settings>, texts: Res<Texts>, widgets: PanelWidgets) {
    let PanelWidgets { buttons, mut labels, mut meters, mut devices } = widgets;
    let (muted, mode, test, level, sending, mic_name, speaker_name) = voice.with(|engine| {
        let name = |status: &DeviceStatus| match status {
            DeviceStatus::Working(name) => Some(name.clone()),
            _ => None,
        };
        (engine.muted(), engine.mode(), engine.mic_test(), engine.input_level_db(), engine.sending(), name(engine.mic()), name(engine.speakers()))
    });
    for mut meter in &mut meters {
        let fill = if *mic == MicStatus::Ready && !muted { meter_fill(level) } else { 0.0 };
        meter.width = Val::Percent(fill * 100.0);
    }
    for (which, children, mut background, interaction, mut node) in buttons {
        // The talk button is there while holding to talk: talking any time needs none.
        if *which == VoiceButton::Talk {
            let display = if mode == TalkMode::PushToTalk { Display::Flex } else { Display::None };
            if node.display != display {
                node.display = display;
            }
        }
        let key = match which {
            VoiceButton::Mic if muted => "voice-mic-off",
            VoiceButton::Mic => "voice-mic-on",
            VoiceButton::Mode if mode == TalkMode::PushToTalk => "voice-mode-ptt",
            VoiceButton::Mode => "voice-mode-open",
            VoiceButton::Talk if sending => "voice-talking",
            VoiceButton::Talk => "voice-talk",
            VoiceButton::MicTest => match test {
                MicTest::Idle => "voice-test",
                MicTest::Recording => "voice-test-recording",
                MicTest::PlayingBack => "voice-test-playing",
            },
            VoiceButton::NextMic | VoiceButton::NextSpeakers => "voice-change-device",
        };
        for child in children.iter() {
            if let Ok(mut label) = labels.get_mut(child)
                && label.0 != key
            {
                label.0 = key;
            }
        }
        let lit = match which {
            VoiceButton::Mic => muted,
            VoiceButton::Talk => sending || *interaction == Interaction::Pressed,
            VoiceButton::MicTest => test != MicTest::Idle,
            _ => false,
        };
        background.0 = match (lit, interaction) {
            (true, _) => palette::ACCENT_HOVER,
            (false, Interaction::Hovered) => palette::BUTTON_HOVER,
            _ => palette::BUTTON,
        };
    }
    for (which, mut text) in &mut devices {
        let (key, name) = match which {
            DeviceLabel::Mic => ("voice-mic-device", mic_name.clone()),
            DeviceLabel::Speakers => ("voice-speaker-device", speaker_name.clone()),
        };
        let name = name.unwrap_or_else(|| texts.get(settings.language, "voice-device-none"));
        let shown = texts.get_with(settings.language, key, &[("name", Arg::Str(&name))]);
        if text.0 != shown {
            text.0 = shown;
        }
    }
}
