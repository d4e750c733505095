//! The Tsunagu client as Bevy plugins. [`build_app`] puts them together; the
//! `tsunagu` binary parses the command line and runs it.
//!
//! Plugin order: Bevy's plugins (through bevy_mod_openxr, which falls back to
//! the desktop renderer when no headset runtime is found), then ours. Within a frame, ours run in the order of [`kit::net::NetSet`]: receive →
//! apply (features read the room's typed messages, [`kit::heard`]) → local
//! input (`LocalPose` written) → send.
//!
//! Each feature is a folder with its plugin; features use the shared
//! vocabulary in [`kit`] and never each other (see docs/architecture.md).

pub mod avatars;
pub mod bots;
pub mod calm;
pub mod chat;
pub mod cli;
pub mod expression;
pub mod headless;
pub mod headset;
pub mod hud;
pub mod kit;
pub mod link;
pub mod movement;
pub mod phrases;
pub mod play;
pub mod rest;
pub mod screen;
pub mod speech;
pub mod staff;
pub mod start;
pub mod voice;

use bevy::prelude::*;
use bevy::window::WindowResolution;
use tsunagu_i18n::Language;

/// What the command line asked for.
#[derive(Clone, Debug, Resource)]
pub struct ClientOptions {
    /// Nickname to start with.
    pub nickname: Option<String>,
    /// Body colour to start with.
    pub body_color: Option<[u8; 3]>,
    /// Language to start with; otherwise from the system, else Japanese.
    pub language: Option<Language>,
    /// Skip the start screen and host a room at once.
    pub host_now: bool,
    /// Skip the start screen and join the room this invite names.
    pub join: Option<tsunagu_net::invite::Invite>,
    /// Window size in logical pixels.
    pub window_size: (u32, u32),
    /// Try OpenXR (falls back to the desktop when no runtime is found);
    /// `None`: as the settings file says (yes, unless turned off there).
    pub xr: Option<bool>,
    /// How far the person lies back in bed, degrees (0 to 60): the headset
    /// shows the room upright for them. `None`: as the settings file says.
    pub bed_tilt_degrees: Option<u8>,
    /// One snap turn in a headset, degrees (30 or 45). `None`: as the settings file says.
    pub snap_turn_degrees: Option<u8>,
    /// In a headset, the left stick walks smoothly (with a comfort vignette).
    /// `None`: as the settings file says.
    pub smooth_walking: Option<bool>,
    /// Practice guests who walk around the hosted room (for trying it alone, and tests).
    pub bots: u32,
    /// Microphone, speakers and talk mode.
    pub voice: tsunagu_voice::engine::VoiceSettings,
    /// Where the avatar's look is remembered; `None`: nowhere (tests, or a
    /// system without a config directory).
    pub settings_file: Option<std::path::PathBuf>,
    /// Go through this HTTP proxy for this run, instead of the settings file's
    /// or the system's (`--proxy`).
    pub proxy: Option<tsunagu_client_core::settings::ProxySetting>,
    /// Where saved pictures go; `None`: the Pictures folder's `Tsunagu`.
    pub pictures_dir: Option<std::path::PathBuf>,
    /// (Facilitators) a picture, a PDF or a folder of them to offer for the wall screen.
    pub show: Option<std::path::PathBuf>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            nickname: None,
            body_color: None,
            language: None,
            host_now: false,
            join: None,
            window_size: (1280, 720),
            xr: None,
            bed_tilt_degrees: None,
            snap_turn_degrees: None,
            smooth_walking: None,
            bots: 0,
            voice: tsunagu_voice::engine::VoiceSettings::default(),
            settings_file: tsunagu_client_core::settings::default_path(),
            proxy: None,
            pictures_dir: None,
            show: None,
        }
    }
}

/// (Facilitators) where the wall screen's files come from: `--show`'s
/// file or folder; empty: the Pictures folder.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct ShowFrom(pub Vec<std::path::PathBuf>);

/// Where pictures saved from Tsunagu go: the Pictures folder's `Tsunagu`
/// (a test's own folder instead).
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct PicturesFolder(pub std::path::PathBuf);

impl Default for PicturesFolder {
    fn default() -> Self {
        PicturesFolder(tsunagu_client_core::settings::pictures_folder())
    }
}

/// Where the app is.
#[derive(States, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AppState {
    /// Choosing a name, a colour and how to join.
    #[default]
    Start,
    /// In the ward room.
    InRoom,
}

/// The player's choices, from the start screen.
#[derive(Clone, Debug, Resource)]
pub struct Settings {
    /// Nickname shown above the avatar.
    pub nickname: String,
    /// How the avatar looks (remembered on this PC, see [`SettingsFile`]).
    pub look: tsunagu_protocol::AvatarLook,
    /// Interface language.
    pub language: Language,
}

/// Where the look is saved, and whether loading it went wrong (said once on
/// the start screen).
#[derive(Clone, Debug, Resource)]
pub struct SettingsFile {
    /// The file; `None` saves nothing.
    pub path: Option<std::path::PathBuf>,
    /// The saved file could not be read and the defaults are in use.
    pub was_unreadable: bool,
    /// This installation's random number, sent in `Hello` (chosen on the
    /// first run and kept in the file).
    pub device: u64,
    /// How close others may come before they fade out here, centimetres
    /// (0: no fading); changed with the HUD's button, kept in the file.
    pub personal_space_cm: u16,
    /// The headset's choices as the file keeps them (the command line may
    /// change them for one run; the wrist menu changes them here too).
    pub headset: tsunagu_client_core::settings::HeadsetChoices,
    /// How big the screen's letters are; changed with 「もじ」's button, kept in the file.
    pub text_size: tsunagu_client_core::settings::TextSize,
    /// The proxy IT set for this PC in the file (the start screen's
    /// network check and every join go through it).
    pub proxy: Option<tsunagu_client_core::settings::ProxySetting>,
    /// The command line's proxy, for this run only (not kept).
    pub proxy_this_run: Option<tsunagu_client_core::settings::ProxySetting>,
    /// How much this PC asks of the network; changed in 「せってい」 (or
    /// when the room proposes it on a poor link), kept in the file.
    pub link_mode: tsunagu_client_core::settings::LinkMode,
}

impl SettingsFile {
    /// How to find the proxy: the file's, else the system's and the environment's.
    pub fn proxy_choice(&self) -> tsunagu_net::wss::proxy::ProxyChoice {
        proxy_choice(self.proxy_this_run.as_ref().or(self.proxy.as_ref()))
    }
}

/// `proxy` if one is set, else the system's and the environment's.
pub fn proxy_choice(proxy: Option<&tsunagu_client_core::settings::ProxySetting>) -> tsunagu_net::wss::proxy::ProxyChoice {
    proxy.map_or(tsunagu_net::wss::proxy::ProxyChoice::FromSystem, |p| tsunagu_net::wss::proxy::ProxyChoice::This(p.clone()))
}

impl SettingsFile {
    /// What the file keeps, with `look`.
    pub fn saved(&self, look: tsunagu_protocol::AvatarLook) -> tsunagu_client_core::settings::SavedSettings {
        tsunagu_client_core::settings::SavedSettings {
            look,
            device: self.device,
            personal_space_cm: self.personal_space_cm,
            headset: self.headset,
            text_size: self.text_size,
            proxy: self.proxy.clone(),
            link_mode: self.link_mode,
        }
    }

    /// Take on `saved`'s choices (not yet written: [`Self::save`]).
    pub fn take(&mut self, saved: &tsunagu_client_core::settings::SavedSettings) {
        self.device = saved.device;
        self.personal_space_cm = saved.personal_space_cm;
        self.headset = saved.headset;
        self.text_size = saved.text_size;
        self.proxy = saved.proxy.clone();
        self.link_mode = saved.link_mode;
    }

    /// Remember `look` (and the rest of this file) for the next run. A
    /// failure is logged, never fatal: the room works the same without it.
    pub fn save(&self, look: tsunagu_protocol::AvatarLook) {
        let saved = self.saved(look);
        if let Some(path) = &self.path
            && let Err(e) = tsunagu_client_core::settings::save(path, &saved)
        {
            warn!("tsunagu: could not remember the avatar's look: {e}");
        }
    }
}

/// The look to start with: the command line's colour over the saved look,
/// else the saved look, else the defaults. Says (in the log) why a saved
/// file was not used.
fn starting_look(options: &ClientOptions) -> (tsunagu_protocol::AvatarLook, SettingsFile) {
    use tsunagu_client_core::settings::{Loaded, load};
    let defaults = fresh_settings();
    let loaded = options.settings_file.as_deref().map_or(Loaded::Missing, load);
    if let Loaded::Unreadable(why) = &loaded {
        warn!("tsunagu: the saved settings could not be read ({why}); starting with the defaults");
    }
    let saved = loaded.settings_or(defaults);
    let mut look = saved.look;
    if let Some(color) = options.body_color {
        look.body_color = color;
    }
    let file = SettingsFile {
        path: options.settings_file.clone(),
        was_unreadable: matches!(loaded, Loaded::Unreadable(_)),
        device: saved.device,
        personal_space_cm: saved.personal_space_cm,
        headset: saved.headset,
        text_size: saved.text_size,
        proxy: saved.proxy.clone(),
        proxy_this_run: options.proxy.clone(),
        link_mode: saved.link_mode,
    };
    if saved.device == 0 {
        // The first run here: choose this installation's number and keep it.
        let file = SettingsFile { device: rand::random::<u64>().max(1), ..file };
        file.save(saved.look);
        return (look, file);
    }
    (look, file)
}

/// What a PC that never ran Tsunagu starts with (and a child after
/// 「つぎの ひとへ」, for what is theirs).
pub fn fresh_settings() -> tsunagu_client_core::settings::SavedSettings {
    tsunagu_client_core::settings::SavedSettings::fresh(tsunagu_protocol::AvatarLook::with_color(BODY_COLORS[0]))
}

/// The headset's choices for this run: the settings file's, with what the
/// command line says instead, for this run only.
pub fn headset_choices(
    options: &ClientOptions,
    saved: tsunagu_client_core::settings::HeadsetChoices,
) -> tsunagu_client_core::settings::HeadsetChoices {
    tsunagu_client_core::settings::HeadsetChoices {
        use_headset: options.xr.unwrap_or(saved.use_headset),
        snap_turn_degrees: options.snap_turn_degrees.unwrap_or(saved.snap_turn_degrees),
        smooth_walking: options.smooth_walking.unwrap_or(saved.smooth_walking),
        bed_tilt_degrees: options.bed_tilt_degrees.unwrap_or(saved.bed_tilt_degrees),
        eye_offset_cm: saved.eye_offset_cm,
        break_after_minutes: saved.break_after_minutes,
    }
    .within_bounds()
}

/// Body colours offered on the start screen: warm, distinct, friendly.
pub const BODY_COLORS: [[u8; 3]; 8] =
    [[255, 160, 80], [250, 120, 140], [255, 205, 80], [120, 200, 120], [90, 180, 230], [160, 130, 220], [240, 240, 235], [150, 110, 90]];

/// The room's features that need no window, renderer or sound card: what
/// the app, the headless test app ([`headless::room_app`]) and the avatar
/// benchmark all run. The order is the order they fill the HUD's slots in.
pub struct RoomFeatures;

impl PluginGroup for RoomFeatures {
    fn build(self) -> bevy::app::PluginGroupBuilder {
        bevy::app::PluginGroupBuilder::start::<Self>()
            .add(kit::net::NetPlugin)
            .add(avatars::AvatarPlugin)
            .add(avatars::motion::MotionPlugin)
            .add(avatars::look::LookPlugin)
            .add(expression::ExpressionPlugin)
            .add(chat::ChatPlugin)
            .add(play::PlayPlugin)
            .add(staff::StaffPanelPlugin)
            .add(staff::tell::TellStaffPlugin)
            .add(calm::CalmPlugin)
            .add(calm::personal_space::PersonalSpacePlugin)
            .add(link::LinkPlugin)
            .add(rest::RestPlugin)
            .add(phrases::PhrasesPlugin)
            .add(screen::ScreenPlugin)
    }
}

/// The features a person's screen adds around the room: text and fonts,
/// sound, the ward drawn, the keys and mouse, the start screen, the HUD's
/// frame, the headset's status, practice guests.
pub struct ScreenFeatures {
    /// Microphone, speakers and talk mode.
    pub voice: tsunagu_voice::engine::VoiceSettings,
}

impl PluginGroup for ScreenFeatures {
    fn build(self) -> bevy::app::PluginGroupBuilder {
        bevy::app::PluginGroupBuilder::start::<Self>()
            .add(kit::text::TextPlugin)
            .add(voice::VoicePlugin { settings: self.voice })
            .add(voice::panel::VoicePanelPlugin)
            .add(speech::SpeechPlugin)
            .add(headset::XrStatusPlugin)
            .add(kit::scene::WardScenePlugin)
            .add(movement::ControlsPlugin)
            .add(bots::BotsPlugin)
            .add(start::StartScreenPlugin)
            .add(hud::HudPlugin)
    }
}

/// Build the whole client.
pub fn build_app(options: ClientOptions) -> App {
    build_app_with(options, |defaults| defaults)
}

/// The language asked for, else the system's (`LANG`), else Japanese.
pub fn language_or_system(asked: Option<Language>) -> Language {
    asked.or_else(|| std::env::var("LANG").ok().and_then(|l| Language::from_tag(&l))).unwrap_or_default()
}

/// Build the whole client with Bevy's plugins as `adapt` leaves them: a
/// test lays the screens out with no window system and no renderer.
pub fn build_app_with(options: ClientOptions, adapt: impl FnOnce(bevy::app::PluginGroupBuilder) -> bevy::app::PluginGroupBuilder) -> App {
    let mut app = App::new();
    app.set_error_handler(keep_the_room_going);
    let language = language_or_system(options.language);
    let (width, height) = options.window_size;
    let window = Window { title: "つなぐ Tsunagu".into(), resolution: WindowResolution::new(width, height), ..default() };
    let defaults = DefaultPlugins
        .set(WindowPlugin { primary_window: Some(window), ..default() })
        .set(AssetPlugin { file_path: kit::assets::asset_root().to_string_lossy().into_owned(), ..default() })
        .set(bevy::log::LogPlugin { fmt_layer: log_format, ..default() });
    let defaults = adapt(defaults.build());
    let (look, settings_file) = starting_look(&options);
    let headset = headset_choices(&options, settings_file.headset);
    if headset.use_headset {
        app.add_plugins(bevy_mod_openxr::add_xr_plugins(defaults)).add_plugins(headset::HeadsetPlugin { choices: headset });
    } else {
        app.add_plugins(defaults);
    }
    app.insert_resource(Settings { nickname: options.nickname.clone().unwrap_or_default(), look, language })
        .insert_resource(settings_file)
        .insert_resource(options.pictures_dir.clone().map(PicturesFolder).unwrap_or_default())
        .insert_resource(ShowFrom(options.show.iter().cloned().collect()))
        .insert_resource(ClearColor(Color::srgb(0.98, 0.93, 0.85)))
        .init_state::<AppState>()
        .add_plugins(RoomFeatures)
        .add_plugins(ScreenFeatures { voice: options.voice.clone() });
    app.insert_resource(options);
    app
}

/// How the app meets an error in a system or a command. A command on an
/// entity already gone is logged and the room goes on: bevy_mod_openxr's
/// teardown of a headset session sometimes despawns the eyes twice (seen
/// once in CI, leaving the headset for the screen). Anything else is a bug:
/// a debug build (the tests) stops on it, and a child's release build logs
/// it as an error and keeps the room open.
pub fn keep_the_room_going(error: bevy::ecs::error::BevyError, context: bevy::ecs::error::ErrorContext) {
    use bevy::ecs::world::error::EntityMutableFetchError;
    if matches!(error.downcast_ref::<EntityMutableFetchError>(), Some(EntityMutableFetchError::NotSpawned(_))) {
        bevy::ecs::error::warn(error, context);
    } else if cfg!(debug_assertions) {
        bevy::ecs::error::panic(error, context);
    } else {
        bevy::ecs::error::error(error, context);
    }
}

/// How the client's log lines are written: colour codes only for a person at
/// a terminal (never in a file or journald), and the QUIC and TLS libraries
/// only at `warn` and above whatever `RUST_LOG` says, because below that they
/// name other people's addresses.
fn log_format(_: &mut App) -> Option<bevy::log::BoxedFmtLayer> {
    use std::io::IsTerminal;
    use tracing_subscriber::Layer;
    let quiet_below_warn = ["quinn", "rustls"];
    let layer = tracing_subscriber::fmt::Layer::default().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal()).with_filter(
        tracing_subscriber::filter::FilterFn::new(move |meta| {
            *meta.level() <= tracing::Level::WARN || !quiet_below_warn.iter().any(|t| meta.target().starts_with(t))
        }),
    );
    Some(Box::new(layer))
}

/// Build and run; returns how the app ended.
pub fn run(options: ClientOptions) -> AppExit {
    build_app(options).run()
}

/// Hair and hat colours: natural hair first, then brights.
pub const HEADWEAR_COLORS: [[u8; 3]; 8] =
    [[60, 45, 40], [125, 85, 55], [225, 185, 120], [240, 240, 235], [250, 120, 140], [90, 180, 230], [120, 200, 120], [255, 205, 80]];
