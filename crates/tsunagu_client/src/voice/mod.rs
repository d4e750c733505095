//! Voice in the client: the engine from `tsunagu_voice` as a resource, voice
//! frames between it and the client core, every voice placed at its
//! speaker's head and our ears at the camera, a speaking sign over each
//! avatar, and the keys (M: microphone on/off, Space: hold to talk).
//! Missing devices are reported, never fatal: each direction works alone.

pub mod audio;
pub mod panel;

use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use bevy::transform::TransformSystems;
use tsunagu_client_core::settings::LinkMode;
use tsunagu_sim::motion::AVATAR_HEIGHT;
use tsunagu_voice::capture::TalkMode;
use tsunagu_voice::engine::{DeviceStatus, VoiceEngine, VoiceSettings};

use crate::AppState;
use crate::kit::heard::PersonLeft;
use crate::kit::hud::{StandingNotices, say_standing};
use crate::kit::me::MainCamera;
use crate::kit::net::{Connection, NetSet};
use crate::kit::room::LocalVolume;
use crate::kit::room::VolumeMark;
use crate::kit::room::{Avatar, OwnAvatar, RemoteAvatar};
use crate::kit::room::{Calmed, RoomNow, Speaking};
use crate::kit::spoken::SpokenLine;
use crate::voice::audio::SoundStatus;

/// Height of a voice above the feet: the middle of the head.
const MOUTH_HEIGHT: f32 = AVATAR_HEIGHT - 0.3;

/// Voice for this client. Shared with the connection's thread, which hands
/// each arriving voice frame straight to the mix (`voice_straight_to_the_mix`);
/// the voice systems use it one at a time.
#[derive(Resource)]
pub struct Voice(Arc<Mutex<VoiceEngine>>);

impl Voice {
    /// Let go of the devices (and finish a speaker file). The connection's
    /// thread holds the engine only weakly, for the moment of handing over a
    /// frame: wait that moment out.
    fn close(self) {
        let mut engine = self.0;
        for _ in 0..200 {
            match Arc::try_unwrap(engine) {
                Ok(engine) => return engine.into_inner().unwrap_or_else(|e| e.into_inner()).close(),
                Err(shared) => engine = shared,
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        tracing::warn!("the voice engine was still in use when closing");
    }

    /// Use the engine.
    pub fn with<R>(&self, f: impl FnOnce(&mut VoiceEngine) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Whether the microphone works on this PC (for the notices).
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MicStatus {
    /// A microphone (or a file standing in for one) is open.
    Ready,
    /// None: others are still heard.
    Unavailable,
    /// Not wanted (`--no-mic`).
    Off,
}

impl MicStatus {
    /// What stands on screen while the microphone is so, if anything.
    pub fn notice(self) -> Option<&'static str> {
        (self == MicStatus::Unavailable).then_some("status-no-mic")
    }
}

fn say_what_is_missing(sound: Option<Res<SoundStatus>>, mic: Option<Res<MicStatus>>, mut notices: ResMut<StandingNotices>) {
    say_standing(&mut notices, "sound", sound.and_then(|s| s.notice()));
    say_standing(&mut notices, "mic", mic.and_then(|m| m.notice()));
}

/// The voice settings in use: from the options, then as chosen on screen.
#[derive(Resource, Clone, Debug)]
pub struct VoiceChoice(pub VoiceSettings);

/// The sign over an avatar while its person is talking.
#[derive(Component)]
pub struct SpeakingSign;

#[derive(Resource)]
struct SignLook {
    mesh: Handle<Mesh>,
    material: Handle<StandardMaterial>,
}

/// Opens the microphone and speakers as `settings` say.
pub struct VoicePlugin {
    /// What to open.
    pub settings: VoiceSettings,
}

impl Plugin for VoicePlugin {
    fn build(&self, app: &mut App) {
        open_voice(app.world_mut(), &self.settings);
        // Sound, then the microphone, then whoever speaks after (the headset).
        let mut notices = app.world_mut().get_resource_or_init::<StandingNotices>();
        notices.register("sound");
        notices.register("mic");
        app.insert_resource(VoiceChoice(self.settings.clone()))
            .add_systems(Startup, make_sign_look)
            .add_systems(Update, click_name_tags.run_if(in_state(AppState::InRoom)))
            .add_systems(Update, tick)
            .add_systems(Update, forget_leavers.in_set(NetSet::Apply))
            .add_systems(Update, voice_keys.in_set(NetSet::LocalInput).run_if(crate::kit::typing::not_typing).run_if(in_state(AppState::InRoom)))
            .add_systems(Update, (voice_straight_to_the_mix, exchange).chain().in_set(NetSet::Send).run_if(resource_exists::<Connection>))
            .add_systems(Update, (add_signs, mark_speakers, show_signs, apply_volumes).chain().run_if(in_state(AppState::InRoom)))
            .add_systems(PostUpdate, (place_voices, play_spoken_lines).chain().after(TransformSystems::Propagate).run_if(in_state(AppState::InRoom)))
            .add_message::<SpokenLine>()
            .add_systems(OnExit(AppState::InRoom), |voice: Res<Voice>| {
                voice.with(|engine| {
                    engine.remove_all();
                    engine.set_direct_sender(None);
                })
            })
            .add_systems(Update, apply_link_mode)
            .add_systems(Last, close_on_exit)
            .add_systems(Update, say_what_is_missing);
    }
}

/// Open the engine for `settings` and say what works.
fn open_voice(world: &mut World, settings: &VoiceSettings) {
    // The old engine lets go of the devices first.
    if let Some(old) = world.remove_resource::<Voice>() {
        old.close();
    }
    let engine = VoiceEngine::start(settings);
    let mic = match engine.mic() {
        DeviceStatus::Working(_) => MicStatus::Ready,
        DeviceStatus::Missing(_) => MicStatus::Unavailable,
        DeviceStatus::Off => MicStatus::Off,
    };
    let sound = if engine.speakers().works() { SoundStatus::Ready } else { SoundStatus::Unavailable };
    info!("tsunagu: microphone {:?}, speakers {:?}", mic, sound);
    world.insert_resource(Voice(Arc::new(Mutex::new(engine))));
    world.insert_resource(mic);
    world.insert_resource(sound);
}

/// Reopen the devices after the person picked others.
pub fn restart_voice(world: &mut World) {
    let Some(choice) = world.get_resource::<VoiceChoice>().cloned() else {
        return;
    };
    open_voice(world, &choice.0);
}

fn make_sign_look(mut commands: Commands, meshes: Option<ResMut<Assets<Mesh>>>, materials: Option<ResMut<Assets<StandardMaterial>>>) {
    let (Some(mut meshes), Some(mut materials)) = (meshes, materials) else {
        return;
    };
    // A soft ring floating over the head, like a ripple of sound.
    let mesh = meshes.add(Torus::new(0.1, 0.13));
    let material = materials.add(StandardMaterial {
        base_color: crate::kit::palette::ACCENT,
        emissive: LinearRgba::rgb(0.9, 0.45, 0.2),
        unlit: true,
        ..default()
    });
    commands.insert_resource(SignLook { mesh, material });
}

fn tick(voice: Res<Voice>) {
    voice.with(VoiceEngine::update);
}

/// Our voice frames to the room, and the room's voices to the speakers. While
/// in the room the capture thread sends straight onto the connection (a new
/// sender for each new connection); the queue covers the rest.
fn exchange(mut connection: ResMut<Connection>, voice: Res<Voice>, mut sending_on: Local<Option<(bool, u32)>>) {
    let core = connection.core_mut();
    voice.with(|engine| {
        let now_on = (core.in_room(), core.connection_number());
        if *sending_on != Some(now_on) {
            *sending_on = Some(now_on);
            engine.set_direct_sender(core.voice_sender());
        }
        for frame in engine.take_outgoing() {
            core.send_voice(frame);
        }
        for incoming in core.take_voice() {
            engine.receive(incoming.from, incoming.frame);
        }
    });
}

/// Incoming voice goes from the connection's own thread into the mix as it
/// arrives, never waiting for a rendered frame: a slow ward PC or a
/// headset's hiccup delays no one's voice. Set for each new connection and
/// each newly opened voice engine; `exchange` still takes what a transport
/// without that path queued.
fn voice_straight_to_the_mix(mut connection: ResMut<Connection>, voice: Res<Voice>) {
    if !connection.is_added() && !voice.is_changed() {
        return;
    }
    let engine = Arc::downgrade(&voice.0);
    let sink: tsunagu_client_core::VoiceSink = Arc::new(move |from, frame| {
        if let Some(engine) = engine.upgrade() {
            engine.lock().unwrap_or_else(|e| e.into_inner()).receive(from, frame);
        }
    });
    let direct = connection.core_mut().set_voice_sink(sink);
    tracing::debug!(direct, "incoming voice goes straight to the mix");
}

fn forget_leavers(mut left: MessageReader<PersonLeft>, voice: Res<Voice>) {
    for PersonLeft { id } in left.read() {
        voice.with(|engine| engine.remove(*id));
    }
}

/// A click on someone's name tag: their voice softer, off, or back to full here.
pub(crate) fn click_name_tags(
    tags: Query<(&Interaction, &crate::kit::room::NameTag), Changed<Interaction>>,
    mut choices: Query<&mut LocalVolume, With<RemoteAvatar>>,
) {
    for (interaction, tag) in &tags {
        if *interaction != Interaction::Pressed {
            continue;
        }
        if let Ok(mut choice) = choices.get_mut(tag.target) {
            *choice = choice.next();
        }
    }
}

/// The notes on name tags (UI: added by the voice panel's plugin).
pub(crate) fn show_volume_marks(
    words: crate::kit::text::Words,
    tags: Query<(&crate::kit::room::NameTag, &Children)>,
    choices: Query<&LocalVolume>,
    mut marks: Query<&mut Text, With<VolumeMark>>,
) {
    for (tag, children) in &tags {
        let volume = choices.get(tag.target).copied().unwrap_or_default();
        let shown = volume.note().map(|key| format!(" {}", words.get(key))).unwrap_or_default();
        for child in children.iter() {
            if let Ok(mut text) = marks.get_mut(child)
                && text.0 != shown
            {
                text.0 = shown.clone();
            }
        }
    }
}

/// The network choice (「つながり」, kept in the settings file) on the voice,
/// a reopened engine too: light and listen-only encode at the lower
/// bitrate; listen-only keeps the microphone off (M cannot turn it on), and
/// leaving it turns the microphone back on.
fn apply_link_mode(voice: Res<Voice>, file: Option<Res<crate::SettingsFile>>, mut was: Local<Option<LinkMode>>) {
    let mode = file.map_or(LinkMode::Normal, |f| f.link_mode);
    voice.with(|engine| {
        engine.set_light(mode.is_light());
        if mode == LinkMode::ListenOnly && !engine.muted() {
            engine.set_muted(true);
        }
        if *was == Some(LinkMode::ListenOnly) && mode != LinkMode::ListenOnly {
            engine.set_muted(false);
        }
    });
    *was = Some(mode);
}

/// M turns the microphone off and on; Space talks while held (push-to-talk).
fn voice_keys(keys: Option<Res<ButtonInput<KeyCode>>>, voice: Res<Voice>) {
    let Some(keys) = keys else { return };
    voice.with(|engine| {
        if keys.just_pressed(KeyCode::KeyM) {
            let muted = !engine.muted();
            engine.set_muted(muted);
        }
        if keys.just_pressed(KeyCode::Space) {
            engine.set_talk_held(true);
        }
        if keys.just_released(KeyCode::Space) {
            engine.set_talk_held(false);
        }
    });
}

/// Our ears at the camera; each voice at its avatar's head.
fn place_voices(voice: Res<Voice>, camera: Query<&GlobalTransform, With<MainCamera>>, avatars: Query<(&RemoteAvatar, &GlobalTransform)>) {
    voice.with(|engine| {
        if let Ok(ears) = camera.single() {
            let (_, rotation, position) = ears.to_scale_rotation_translation();
            engine.set_listener(position.into(), rotation.into());
        }
        for (remote, at) in &avatars {
            engine.place(remote.0, (at.translation() + Vec3::Y * MOUTH_HEIGHT).into());
        }
    });
}

/// Lines spoken for someone (speak-for-me) play from their head; my own
/// from mine, so I hear what was said for me.
fn play_spoken_lines(
    mut lines: MessageReader<SpokenLine>,
    voice: Res<Voice>,
    room: Res<RoomNow>,
    remote: Query<(&RemoteAvatar, &GlobalTransform)>,
    own: Query<&GlobalTransform, With<OwnAvatar>>,
) {
    for line in lines.read() {
        let mine = room.my_id() == Some(line.from);
        let body = if mine { own.iter().next() } else { remote.iter().find(|(r, _)| r.0 == line.from).map(|(_, at)| at) };
        let Some(body) = body else { continue };
        let head = (body.translation() + Vec3::Y * MOUTH_HEIGHT).into();
        voice.with(|engine| engine.speak(line.from, head, &line.samples, line.sample_rate));
    }
}

fn add_signs(mut commands: Commands, look: Option<Res<SignLook>>, avatars: Query<Entity, Added<Avatar>>) {
    let Some(look) = look else { return };
    for avatar in &avatars {
        commands.entity(avatar).with_children(|parent| {
            parent.spawn((
                SpeakingSign,
                Mesh3d(look.mesh.clone()),
                MeshMaterial3d(look.material.clone()),
                Transform::from_xyz(0.0, AVATAR_HEIGHT + 0.12, 0.0),
                Visibility::Hidden,
            ));
        });
    }
}

/// The child's choice or calm changed for this person.
type VolumeChanged = Or<(Changed<LocalVolume>, Changed<Calmed>)>;

/// Each person's volume here, as this child chose and calm asks: told to
/// the sound engine when either changes. The one place a volume is set.
fn apply_volumes(voice: Res<Voice>, avatars: Query<(&RemoteAvatar, &LocalVolume, &Calmed), VolumeChanged>) {
    for (remote, choice, calmed) in &avatars {
        let (volume, _) = choice.effect(calmed.0);
        voice.with(|engine| {
            engine.set_volume(remote.0, if volume > 0.0 { volume } else { 1.0 });
            engine.set_peer_muted(remote.0, volume == 0.0);
        });
    }
}

/// Who is heard now, for whoever shows it (signs here, the staff's list).
fn mark_speakers(voice: Res<Voice>, mut avatars: Query<(&RemoteAvatar, &mut Speaking)>) {
    voice.with(|engine| {
        for (remote, mut speaking) in &mut avatars {
            speaking.set_if_neq(Speaking(engine.speaking(remote.0)));
        }
    });
}

/// The sign shows while that person's voice plays (or, on our own avatar,
/// while we are being sent), and breathes a little.
fn show_signs(
    voice: Res<Voice>,
    time: Res<Time>,
    remote: Query<&Speaking>,
    own: Query<(), With<OwnAvatar>>,
    room: Res<RoomNow>,
    mut signs: Query<(&ChildOf, &mut Visibility, &mut Transform), With<SpeakingSign>>,
) {
    let pulse = 1.0 + 0.12 * (time.elapsed_secs() * 6.0).sin();
    voice.with(|engine| {
        for (parent, mut visibility, mut transform) in &mut signs {
            let speaking = match remote.get(parent.parent()) {
                Ok(speaking) => speaking.0,
                // Mine: while my voice is sent, or a line is spoken for me.
                Err(_) => own.contains(parent.parent()) && (engine.sending() || room.my_id().is_some_and(|me| engine.speaking(me))),
            };
            visibility.set_if_neq(if speaking { Visibility::Inherited } else { Visibility::Hidden });
            transform.scale = Vec3::splat(pulse);
        }
    });
}

/// The speaker file is finished when the app ends.
fn close_on_exit(mut exits: MessageReader<AppExit>, mut commands: Commands) {
    if exits.read().next().is_some() {
        commands.queue(|world: &mut World| {
            if let Some(voice) = world.remove_resource::<Voice>() {
                voice.close();
            }
        });
    }
}

/// Flip between open mic and push-to-talk.
pub fn toggle_mode(engine: &mut VoiceEngine) {
    let next = match engine.mode() {
        TalkMode::OpenMic => TalkMode::PushToTalk,
        TalkMode::PushToTalk => TalkMode::OpenMic,
    };
    engine.set_mode(next);
}
