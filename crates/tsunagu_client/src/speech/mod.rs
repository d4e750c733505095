//! Speak for me (かわりに よんで): a child who cannot talk today turns it on
//! in the chat drawer, and every PC in the room, this one included, reads
//! their chat lines and ready phrases aloud from their avatar's head (the
//! voice feature plays them by the voice rules: near is clear, far is soft,
//! beyond 12 m silent). Only the room's flag crosses the network; the sound is
//! made here, on the speech thread, never on the render or audio thread. A
//! listener can turn spoken lines off for themselves in 「こえ」.

use std::sync::Arc;

use bevy::prelude::*;
use tsunagu_protocol::{ClientEvent, PeerId};
use tsunagu_speech::SpeechError;
use tsunagu_speech::files::SpeechFiles;
use tsunagu_speech::worker::SpeechWorker;

use crate::AppState;
use crate::kit::heard::ChatHeard;
use crate::kit::hud::{BarButtonLook, Drawer, FillSlot, OpenDrawer, Slot, StandingNotices, say_standing, spawn_bar_button};
use crate::kit::net::{NetSet, SendRoomEvent};
use crate::kit::room::RoomNow;
use crate::kit::spoken::SpokenLine;
use crate::kit::text::LabelledButtons;

/// The voices, on their own thread.
#[derive(Resource)]
pub struct SpeechVoices(pub SpeechWorker<PeerId>);

/// Whether this PC reads others' lines aloud (the listener's own choice, for
/// this run; on unless turned off).
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HearSpokenLines(pub bool);

/// The voice could not be loaded on this PC (said as a standing notice).
#[derive(Resource, Default)]
pub struct SpeechMissing(pub bool);

/// Turns speak-for-me on or off for me.
#[derive(Component)]
pub struct SpeakForMeButton;

/// Turns hearing spoken lines on or off on this PC.
#[derive(Component)]
pub struct HearLinesButton;

/// The folder the voices are read from (see [`tsunagu_speech::files::folder_in`]).
pub fn speech_folder() -> std::path::PathBuf {
    tsunagu_speech::files::folder_in(&crate::kit::assets::asset_root())
}

/// Speak-for-me: the buttons, the speech thread, and lines to the voice.
pub struct SpeechPlugin;

impl Plugin for SpeechPlugin {
    fn build(&self, app: &mut App) {
        app.world_mut().get_resource_or_init::<StandingNotices>().register("speech");
        app.insert_resource(SpeechVoices(SpeechWorker::start(SpeechFiles::in_folder(&speech_folder()))))
            .insert_resource(HearSpokenLines(true))
            .init_resource::<SpeechMissing>()
            .add_message::<SpokenLine>()
            .fill_slot(Slot::Drawer(Drawer::Chat), |drawer, font| {
                spawn_bar_button(drawer, font, SpeakForMeButton, None, BarButtonLook::Plain, false);
            })
            .fill_slot(Slot::Drawer(Drawer::Voice), |drawer, font| {
                spawn_bar_button(drawer, font, HearLinesButton, None, BarButtonLook::Plain, false);
            })
            .add_systems(Update, (press_speak_for_me, press_hear_lines, prepare_voices).run_if(in_state(AppState::InRoom)))
            .add_systems(Update, (speak_heard_lines, hand_over_spoken).chain().in_set(NetSet::Apply))
            .add_systems(Update, say_if_missing);
    }
}

/// Whether I have speak-for-me on, as the room last said.
pub fn i_speak_aloud(room: &RoomNow) -> bool {
    room.me.as_ref().is_some_and(|me| me.speak_for_me)
}

fn press_speak_for_me(
    mut buttons: LabelledButtons<SpeakForMeButton>,
    room: Res<RoomNow>,
    mut send: MessageWriter<SendRoomEvent>,
    mut open: ResMut<OpenDrawer>,
) {
    let on = i_speak_aloud(&room);
    if !buttons.pressed().is_empty() && room.me.is_some() {
        send.write(SendRoomEvent(ClientEvent::SpeakForMe(!on)));
        open.used(Drawer::Chat);
    }
    if buttons.stale() || room.is_changed() {
        buttons.write(|_, words| words.get(if on { "speak-for-me-off" } else { "speak-for-me-on" }));
    }
}

fn press_hear_lines(mut buttons: LabelledButtons<HearLinesButton>, mut hear: ResMut<HearSpokenLines>) {
    if !buttons.pressed().is_empty() {
        hear.0 = !hear.0;
    }
    if buttons.stale() || hear.is_changed() {
        let on = hear.0;
        buttons.write(|_, words| words.get(if on { "hear-lines-on" } else { "hear-lines-off" }));
    }
}

/// The voices load as soon as anyone here has speak-for-me on, so their
/// first line is not slowed by loading.
fn prepare_voices(room: Res<RoomNow>, voices: Res<SpeechVoices>, hear: Res<HearSpokenLines>, mut prepared: Local<bool>) {
    if *prepared || !room.is_changed() || !hear.0 {
        return;
    }
    if room.everyone().any(|p| p.speak_for_me) {
        voices.0.prepare();
        *prepared = true;
    }
}

/// Each line from someone with speak-for-me on goes to the speech thread.
fn speak_heard_lines(mut heard: MessageReader<ChatHeard>, room: Res<RoomNow>, voices: Res<SpeechVoices>, hear: Res<HearSpokenLines>) {
    for ChatHeard { from, line } in heard.read() {
        let speaks = room.person(*from).is_some_and(|p| p.speak_for_me);
        if speaks && hear.0 && !voices.0.say(*from, line) {
            tracing::debug!("speech: too many lines waiting; one was not spoken");
        }
    }
}

/// Sound that is ready goes to the voice, to be played from its person's head.
fn hand_over_spoken(
    voices: Res<SpeechVoices>,
    hear: Res<HearSpokenLines>,
    mut spoken: MessageWriter<SpokenLine>,
    mut missing: ResMut<SpeechMissing>,
) {
    for said in voices.0.take_said() {
        match said.spoken {
            Ok(sound) if hear.0 && !sound.samples.is_empty() => {
                tracing::debug!(
                    took_ms = said.took.as_millis() as u64,
                    waited_ms = said.arrived.elapsed().as_millis() as u64,
                    "speech: a line is ready"
                );
                spoken.write(SpokenLine { from: said.who, samples: Arc::from(sound.samples), sample_rate: sound.sample_rate });
            }
            Ok(_) => {}
            Err(SpeechError::Missing(why)) => {
                if !missing.0 {
                    tracing::warn!("speech: {why}");
                }
                missing.0 = true;
            }
            Err(e) => tracing::debug!("speech: a line was not spoken: {e}"),
        }
    }
}

fn say_if_missing(missing: Res<SpeechMissing>, mut notices: ResMut<StandingNotices>) {
    if missing.is_changed() {
        say_standing(&mut notices, "speech", missing.0.then_some("status-no-speech"));
    }
}
