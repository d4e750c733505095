//! The command line: what a person (or hospital IT, or a test) can ask for
//! when starting `tsunagu`, parsed by clap and turned into [`ClientOptions`].
//! Here rather than in the binary so test support (the screenshot scenario)
//! takes the same options.

use std::path::PathBuf;

use clap::Parser;
use tsunagu_client_core::settings::ProxySetting;
use tsunagu_i18n::Language;
use tsunagu_net::invite::Invite;
use tsunagu_voice::capture::TalkMode;
use tsunagu_voice::engine::{Endpoint, VoiceSettings};

use crate::ClientOptions;

/// Tsunagu (つなぐ): a shared virtual ward room for children in hospital.
#[derive(Parser, Debug, Clone)]
#[command(version, about)]
pub struct Cli {
    /// Your nickname (1 to 24 characters).
    #[arg(long)]
    name: Option<String>,
    /// Your avatar's body colour as RRGGBB, e.g. ff9f50.
    #[arg(long, value_parser = parse_color)]
    color: Option<[u8; 3]>,
    /// Interface language: ja (日本語) or en (English). Default: from the system, else ja.
    #[arg(long, value_parser = parse_language)]
    lang: Option<Language>,
    /// Skip the start screen and host a room on this PC at once.
    #[arg(long, conflicts_with = "join")]
    host: bool,
    /// Skip the start screen and join the room this invite names (tsunagu://…).
    #[arg(long, value_name = "INVITE", value_parser = parse_invite)]
    join: Option<Invite>,
    /// Add N practice guests who walk around the room (the one hosted here, or the one --join names).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=19))]
    bots: u32,
    /// Where the avatar's look is remembered (default: settings.ron in this user's config directory).
    #[arg(long, value_name = "FILE")]
    settings_file: Option<PathBuf>,
    /// Window size as WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    size: (u32, u32),
    /// Use a VR headset (OpenXR). This is also the default unless turned off
    /// in the settings file: without a runtime or a headset, Tsunagu says so
    /// on screen and runs in the window.
    #[arg(long, conflicts_with = "no_xr")]
    xr: bool,
    /// Do not try OpenXR; use the desktop window only.
    #[arg(long)]
    no_xr: bool,
    /// In a headset, lying back in bed at this angle (0 to 60 degrees): the room is shown upright.
    /// Default: as last chosen on the wrist menu, else 0.
    #[arg(long, value_name = "DEGREES", value_parser = parse_tilt)]
    bed_tilt: Option<u8>,
    /// In a headset, how far one push of the stick turns you: 30 or 45 degrees.
    /// Default: as last chosen on the wrist menu, else 30.
    #[arg(long, value_name = "DEGREES", value_parser = parse_snap_turn)]
    snap_turn: Option<u8>,
    /// In a headset, also walk with the left stick (the edges of sight darken while moving).
    #[arg(long)]
    smooth_walk: bool,
    /// Use this microphone (a name from --list-devices) instead of the default.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["mic_file", "no_mic"])]
    mic: Option<String>,
    /// Use a WAV file as the microphone (played from the start, in real time).
    #[arg(long, value_name = "FILE", conflicts_with = "no_mic")]
    mic_file: Option<PathBuf>,
    /// Never open a microphone.
    #[arg(long)]
    no_mic: bool,
    /// Use these speakers or headphones (a name from --list-devices) instead of the default.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["speaker_file", "no_speakers"])]
    speakers: Option<String>,
    /// Write what would be played to a WAV file instead of the speakers.
    #[arg(long, value_name = "FILE", conflicts_with = "no_speakers")]
    speaker_file: Option<PathBuf>,
    /// Never open speakers.
    #[arg(long)]
    no_speakers: bool,
    /// Send your voice only while Space (or the talk button) is held.
    #[arg(long)]
    push_to_talk: bool,
    /// List the microphones and speakers on this PC, and exit.
    #[arg(long)]
    pub list_devices: bool,
    /// Go through this HTTP proxy for this run (http://[user:password@]host:port),
    /// instead of the one in settings.ron, HTTPS_PROXY or the system's.
    #[arg(long, value_name = "URL", value_parser = parse_proxy)]
    proxy: Option<ProxySetting>,
    /// Check whether this PC can reach the room this invite names (UDP,
    /// TCP, proxy, TLS inspection), say what to ask hospital IT for, and exit.
    #[arg(long, value_name = "INVITE", value_parser = parse_invite)]
    pub check_network: Option<Invite>,
    /// (Staff) offer this picture, PDF or folder of them for the wall screen
    /// (its drawer, 「がめん」); otherwise the Pictures folder's.
    #[arg(long, value_name = "FILE_OR_FOLDER")]
    show: Option<PathBuf>,
}

impl Cli {
    /// The language to speak in a terminal.
    pub fn language(&self) -> Language {
        crate::language_or_system(self.lang)
    }

    /// The proxy this run goes through: `--proxy`, else the settings file's,
    /// else the system's and the environment's.
    pub fn proxy_choice(&self) -> tsunagu_net::wss::proxy::ProxyChoice {
        let saved = self.options().settings_file.as_deref().map(tsunagu_client_core::settings::load);
        let saved = saved.and_then(|loaded| match loaded {
            tsunagu_client_core::settings::Loaded::Found(settings) => settings.proxy,
            _ => None,
        });
        crate::proxy_choice(self.proxy.as_ref().or(saved.as_ref()))
    }
}

/// The voice settings the options ask for.
fn voice_settings(cli: &Cli) -> VoiceSettings {
    let mic = match (&cli.mic_file, cli.no_mic) {
        (_, true) => None,
        (Some(file), false) => Some(Endpoint::File(file.clone())),
        (None, false) => Some(Endpoint::Device(cli.mic.clone())),
    };
    let speakers = match (&cli.speaker_file, cli.no_speakers) {
        (_, true) => None,
        (Some(file), false) => Some(Endpoint::File(file.clone())),
        (None, false) => Some(Endpoint::Device(cli.speakers.clone())),
    };
    let mode = if cli.push_to_talk { TalkMode::PushToTalk } else { TalkMode::OpenMic };
    VoiceSettings { mic, speakers, mode }
}

fn parse_color(s: &str) -> Result<[u8; 3], String> {
    let hex = s.trim_start_matches('#');
    let value = u32::from_str_radix(hex, 16).map_err(|_| format!("'{s}' is not a colour like ff9f50"))?;
    if hex.len() != 6 {
        return Err(format!("'{s}' is not a colour like ff9f50"));
    }
    Ok([(value >> 16) as u8, (value >> 8) as u8, value as u8])
}

fn parse_invite(s: &str) -> Result<Invite, String> {
    Invite::parse(s).map_err(|e| format!("'{s}' is not an invite: {e}"))
}

fn parse_proxy(s: &str) -> Result<ProxySetting, String> {
    ProxySetting::parse(s).ok_or_else(|| format!("'{s}' is not a proxy like http://proxy.example:3128"))
}

fn parse_language(s: &str) -> Result<Language, String> {
    Language::from_tag(s).ok_or_else(|| format!("'{s}' is not a language Tsunagu speaks (ja, en)"))
}

fn parse_snap_turn(s: &str) -> Result<u8, String> {
    match s.parse::<u8>() {
        Ok(degrees @ (30 | 45)) => Ok(degrees),
        _ => Err(format!("'{s}' is not a turn Tsunagu offers (30 or 45 degrees)")),
    }
}

fn parse_tilt(s: &str) -> Result<u8, String> {
    match s.parse::<f32>() {
        Ok(degrees) if (0.0..=tsunagu_sim::rig::MAX_TILT_DEGREES).contains(&degrees) => Ok(degrees.round() as u8),
        _ => Err(format!("'{s}' is not an angle from 0 to {} degrees", tsunagu_sim::rig::MAX_TILT_DEGREES)),
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("'{s}' is not a size like 1280x720"))?;
    let w: u32 = w.parse().map_err(|_| format!("'{s}' is not a size like 1280x720"))?;
    let h: u32 = h.parse().map_err(|_| format!("'{s}' is not a size like 1280x720"))?;
    if !(320..=7680).contains(&w) || !(240..=4320).contains(&h) {
        return Err(format!("'{s}' is outside 320x240 to 7680x4320"));
    }
    Ok((w, h))
}

impl Cli {
    /// The options this command line asks for.
    pub fn options(&self) -> ClientOptions {
        let cli = self.clone();
        ClientOptions {
            nickname: cli.name.clone(),
            body_color: cli.color,
            language: cli.lang,
            host_now: cli.host,
            join: cli.join.clone(),
            window_size: cli.size,
            xr: if cli.xr {
                Some(true)
            } else if cli.no_xr {
                Some(false)
            } else {
                None
            },
            bed_tilt_degrees: cli.bed_tilt,
            snap_turn_degrees: cli.snap_turn,
            smooth_walking: cli.smooth_walk.then_some(true),
            bots: cli.bots,
            voice: voice_settings(&cli),
            settings_file: cli.settings_file.clone().or_else(|| ClientOptions::default().settings_file),
            proxy: cli.proxy.clone(),
            pictures_dir: None,
            show: cli.show.clone(),
        }
    }
}
