//! What this PC remembers between runs: the avatar's look, how big a
//! personal space its child wants, how big the screen's letters are, how the
//! headset is used (whether to try it, and its comfort choices), and a random
//! number for this installation,
//! nothing else. Not the nickname: a ward PC is
//! shared, and the next child should not find the last one's name waiting.
//! Kept in a small RON file in the user's config directory; what goes to a
//! server is the look and the number in `Hello` (the number names no one; a
//! room uses it only to keep a removed person out).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tsunagu_protocol::AvatarLook;

/// The settings file's name inside the config directory.
pub const FILE_NAME: &str = "settings.ron";
/// A settings file bigger than this is not ours: it is not read.
const MAX_FILE_BYTES: u64 = 16 * 1024;

/// The remembered choices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSettings {
    /// How the avatar looks.
    pub look: AvatarLook,
    /// This installation's random number (0: not chosen yet; files from
    /// before it existed read as 0).
    #[serde(default)]
    pub device: u64,
    /// How close (centimetres) others may come before they fade out here;
    /// 0 turns fading off. Files from before it existed read the default.
    #[serde(default = "default_personal_space_cm")]
    pub personal_space_cm: u16,
    /// The headset's choices. Files from before they existed read the defaults.
    #[serde(default)]
    pub headset: HeadsetChoices,
    /// How big the screen's letters (and the cards around them) are, for a
    /// child who sees poorly or sits far from the screen. Files from before
    /// it existed read `Normal`.
    #[serde(default)]
    pub text_size: TextSize,
    /// The HTTP proxy this PC must go through, when the hospital's network
    /// has one that the system does not name (IT sets it once). None: the
    /// system's settings and the environment (`HTTPS_PROXY`, …).
    #[serde(default)]
    pub proxy: Option<ProxySetting>,
    /// How much this PC asks of the network (a ward whose line is thin
    /// stays light). Files from before it existed read `Normal`.
    #[serde(default)]
    pub link_mode: LinkMode,
}

impl SavedSettings {
    /// What a PC that never ran Tsunagu starts with, looking `look` (and
    /// what is the child's after 「つぎの ひとへ」, see [`for_the_next_child`]).
    pub fn fresh(look: AvatarLook) -> SavedSettings {
        SavedSettings {
            look,
            device: 0,
            personal_space_cm: DEFAULT_PERSONAL_SPACE_CM,
            headset: HeadsetChoices::default(),
            text_size: TextSize::Normal,
            proxy: None,
            link_mode: LinkMode::Normal,
        }
    }
}

/// How much this PC asks of the network: 「つながり」.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkMode {
    /// Everything as usual.
    #[default]
    Normal,
    /// Low-bandwidth mode: far people move less often, our voice at a lower
    /// bitrate, our pose sent less often. A meetup of eight fits 256 kbit/s
    /// down and 64 up.
    Light,
    /// As light, and the microphone stays off: listen only.
    ListenOnly,
}

impl LinkMode {
    /// The next choice, round again after the last.
    pub fn next(self) -> LinkMode {
        match self {
            LinkMode::Normal => LinkMode::Light,
            LinkMode::Light => LinkMode::ListenOnly,
            LinkMode::ListenOnly => LinkMode::Normal,
        }
    }

    /// Whether the server is asked for less and the voice goes lighter.
    pub fn is_light(self) -> bool {
        self != LinkMode::Normal
    }
}

/// An HTTP proxy, as set in `settings.ron`:
/// `proxy: Some((host: "proxy.ward.example", port: 3128, user: Some("ward"), password: Some("…")))`.
/// The password is this PC's (hospital IT's), never a child's; it is never
/// logged (`Debug` hides it), and the file is readable by this user alone.
pub type ProxySetting = tsunagu_net::wss::proxy::Proxy;

/// The screen's letter size: 「もじの おおきさ」.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextSize {
    /// As designed for 1280×720.
    #[default]
    Normal,
    /// A quarter bigger.
    Large,
    /// Half again as big.
    Largest,
}

impl TextSize {
    /// Every size, in the order the button steps through them.
    pub const ALL: [TextSize; 3] = [TextSize::Normal, TextSize::Large, TextSize::Largest];

    /// How much bigger than designed.
    pub fn scale(self) -> f32 {
        match self {
            TextSize::Normal => 1.0,
            TextSize::Large => 1.25,
            TextSize::Largest => 1.5,
        }
    }

    /// The next size, round again after the largest.
    pub fn next(self) -> TextSize {
        match self {
            TextSize::Normal => TextSize::Large,
            TextSize::Large => TextSize::Largest,
            TextSize::Largest => TextSize::Normal,
        }
    }
}

/// How this PC uses a VR headset; changed from the wrist menu (or the
/// command line, for one run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HeadsetChoices {
    /// Try a headset at start (when a runtime and a headset are there).
    pub use_headset: bool,
    /// One snap turn, degrees: 30 or 45.
    pub snap_turn_degrees: u8,
    /// The left stick walks smoothly (the edges of sight darken meanwhile).
    pub smooth_walking: bool,
    /// How far the person lies back in bed, degrees (0 to 60).
    pub bed_tilt_degrees: u8,
    /// Eyes higher (or lower) than a standing child's, centimetres (−30 to 30).
    pub eye_offset_cm: i8,
    /// After this many minutes in the headset a gentle prompt suggests a rest
    /// (0: never; at most 120). The ward's choice: 「つぎの ひとへ」 keeps it.
    pub break_after_minutes: u8,
}

impl Default for HeadsetChoices {
    fn default() -> Self {
        HeadsetChoices {
            use_headset: true,
            snap_turn_degrees: 30,
            smooth_walking: false,
            bed_tilt_degrees: 0,
            eye_offset_cm: 0,
            break_after_minutes: DEFAULT_BREAK_AFTER_MINUTES,
        }
    }
}

impl HeadsetChoices {
    /// The bed tilt's and the eye height's steps on the wrist menu.
    pub const TILT_STEP_DEGREES: u8 = 15;
    /// See [`HeadsetChoices::TILT_STEP_DEGREES`].
    pub const EYE_STEP_CM: i8 = 5;

    /// The same choices, each brought within what the headset offers (a file
    /// edited by hand may say anything).
    pub fn within_bounds(self) -> Self {
        HeadsetChoices {
            snap_turn_degrees: if self.snap_turn_degrees >= 45 { 45 } else { 30 },
            bed_tilt_degrees: self.bed_tilt_degrees.min(60),
            eye_offset_cm: self.eye_offset_cm.clamp(-30, 30),
            break_after_minutes: self.break_after_minutes.min(120),
            ..self
        }
    }
}

/// Minutes in the headset before a rest is suggested, unless the ward chose otherwise.
pub const DEFAULT_BREAK_AFTER_MINUTES: u8 = 25;

/// The personal space a child starts with, centimetres.
pub const DEFAULT_PERSONAL_SPACE_CM: u16 = 60;

fn default_personal_space_cm() -> u16 {
    DEFAULT_PERSONAL_SPACE_CM
}

/// How loading went, so the app can say so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// Read as saved.
    Found(SavedSettings),
    /// No file yet (the first run on this PC): the defaults.
    Missing,
    /// A file that could not be read or understood: the defaults, and why
    /// (for the log; the file is left for a person to look at, and replaced
    /// on the next save).
    Unreadable(String),
}

impl Loaded {
    /// The settings to start with.
    pub fn settings_or(&self, defaults: SavedSettings) -> SavedSettings {
        match self {
            Loaded::Found(saved) => saved.clone(),
            Loaded::Missing | Loaded::Unreadable(_) => defaults,
        }
    }
}

/// The settings file in this user's config directory, if the system has one.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Tsunagu", "tsunagu").map(|d| d.config_dir().join(FILE_NAME))
}

/// The folder pictures saved from Tsunagu go in: the user's Pictures folder
/// (or home, or here), then `Tsunagu`.
pub fn pictures_folder() -> PathBuf {
    let folder = directories::UserDirs::new()
        .and_then(|dirs| dirs.picture_dir().map(Path::to_path_buf).or_else(|| Some(dirs.home_dir().to_path_buf())))
        .unwrap_or_else(|| PathBuf::from("."));
    folder.join("Tsunagu")
}

/// Where a picture this child chose to save goes in `folder`, named by its
/// kind and the time only: nothing about anyone is in the name.
pub fn picture_path(folder: &Path, kind: &str, unix_seconds: u64) -> PathBuf {
    folder.join(format!("{kind}-{unix_seconds}.png"))
}

/// The pictures Tsunagu saved in `folder` (named as [`picture_path`] names
/// them; anything else there is someone else's and never touched).
pub fn saved_pictures(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    let ours = |name: &str| {
        let Some(stem) = name.strip_suffix(".png") else { return false };
        let Some((kind, time)) = stem.rsplit_once('-') else { return false };
        !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase()) && !time.is_empty() && time.chars().all(|c| c.is_ascii_digit())
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()) && e.file_name().to_str().is_some_and(ours))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// The settings a shared ward PC keeps for the next child (「つぎの ひとへ」):
/// what belongs to the PC stays (its installation number, IT's proxy, the
/// line's low-bandwidth choice, whether a headset is used here); what the
/// last child chose goes back to `fresh`'s (look, personal space, letter
/// size, the headset's comfort settings).
pub fn for_the_next_child(saved: &SavedSettings, fresh: &SavedSettings) -> SavedSettings {
    SavedSettings {
        device: saved.device,
        proxy: saved.proxy.clone(),
        link_mode: saved.link_mode,
        headset: HeadsetChoices { use_headset: saved.headset.use_headset, break_after_minutes: saved.headset.break_after_minutes, ..fresh.headset },
        ..fresh.clone()
    }
}

/// Read the settings at `path`.
pub fn load(path: &Path) -> Loaded {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::Missing,
        Err(e) => return Loaded::Unreadable(e.to_string()),
        Ok(meta) if meta.len() > MAX_FILE_BYTES => return Loaded::Unreadable(format!("{} bytes is too big for a settings file", meta.len())),
        Ok(_) => {}
    }
    match std::fs::read_to_string(path) {
        Ok(text) => match ron::from_str::<SavedSettings>(&text) {
            Ok(saved) => Loaded::Found(SavedSettings { headset: saved.headset.within_bounds(), ..saved }),
            Err(e) => Loaded::Unreadable(e.to_string()),
        },
        Err(e) => Loaded::Unreadable(e.to_string()),
    }
}

/// Write the settings to `path`, whole or not at all: a new file beside it,
/// then renamed over it, so a crash mid-write leaves the old one.
pub fn save(path: &Path, settings: &SavedSettings) -> std::io::Result<()> {
    let text = ron::ser::to_string_pretty(settings, ron::ser::PrettyConfig::default()).map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let fresh = path.with_extension("ron.new");
    std::fs::write(&fresh, text)?;
    // This user's alone: it may hold the proxy's password.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&fresh, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsunagu_protocol::{Accessories, Headwear};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tsunagu-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("nested").join(FILE_NAME)
    }

    #[test]
    fn a_look_is_remembered_exactly() {
        let path = scratch("round-trip");
        let saved = SavedSettings {
            look: AvatarLook {
                body_color: [90, 180, 230],
                headwear: Headwear::StrawHat,
                headwear_color: [250, 200, 80],
                accessories: Accessories { glasses: true, ribbon: true, scarf: false },
            },
            device: 0x1234_5678_9abc_def0,
            personal_space_cm: 90,
            headset: HeadsetChoices {
                use_headset: false,
                snap_turn_degrees: 45,
                smooth_walking: true,
                bed_tilt_degrees: 30,
                eye_offset_cm: -10,
                break_after_minutes: 15,
            },
            text_size: TextSize::Largest,
            proxy: ProxySetting::parse("http://ward:pässword@proxy.ward.example:3128"),
            link_mode: LinkMode::ListenOnly,
        };
        assert_eq!(load(&path), Loaded::Missing);
        save(&path, &saved).unwrap();
        assert_eq!(load(&path), Loaded::Found(saved.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the settings (with a proxy's password) are readable by others");
        }
        // Saving again replaces it, and leaves no temporary file behind.
        let changed = SavedSettings {
            look: AvatarLook::with_color([1, 2, 3]),
            device: 9,
            personal_space_cm: 0,
            headset: HeadsetChoices::default(),
            text_size: TextSize::Normal,
            proxy: None,
            link_mode: LinkMode::Normal,
        };
        save(&path, &changed).unwrap();
        assert_eq!(load(&path), Loaded::Found(changed));
        assert!(!path.with_extension("ron.new").exists());
    }

    /// 「つぎの ひとへ」: the last child's choices go, the PC's stay; only
    /// Tsunagu's own pictures are found for deleting.
    #[test]
    fn the_next_child_gets_fresh_choices_and_the_pc_keeps_its_own() {
        let last_child = SavedSettings {
            look: AvatarLook::with_color([1, 2, 3]),
            device: 77,
            personal_space_cm: 150,
            headset: HeadsetChoices {
                use_headset: true,
                snap_turn_degrees: 45,
                smooth_walking: true,
                bed_tilt_degrees: 40,
                eye_offset_cm: 12,
                break_after_minutes: 15,
            },
            text_size: TextSize::Largest,
            proxy: ProxySetting::parse("proxy.ward:3128"),
            link_mode: LinkMode::Light,
        };
        let fresh = SavedSettings::fresh(AvatarLook::with_color([255, 160, 80]));
        let next = for_the_next_child(&last_child, &fresh);
        assert_eq!((next.look, next.personal_space_cm, next.text_size), (fresh.look, DEFAULT_PERSONAL_SPACE_CM, TextSize::Normal));
        assert_eq!(next.headset, HeadsetChoices { use_headset: true, break_after_minutes: 15, ..HeadsetChoices::default() });
        assert_eq!((next.device, next.proxy, next.link_mode), (77, last_child.proxy.clone(), LinkMode::Light));

        let folder = scratch("pictures").with_file_name("Tsunagu");
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        for name in ["tanabata-1765000000.png", "board-1765000001.png", "holiday.png", "tanabata-.png", "Tanabata-1.png", "notes-1.txt"] {
            std::fs::write(folder.join(name), b"x").unwrap();
        }
        std::fs::create_dir_all(folder.join("album-2.png")).unwrap();
        let found: Vec<String> = saved_pictures(&folder).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(found, ["board-1765000001.png", "tanabata-1765000000.png"]);
        assert_eq!(picture_path(&folder, "tanabata", 5), folder.join("tanabata-5.png"));
        assert!(saved_pictures(&folder.join("nowhere")).is_empty());
    }

    #[test]
    fn a_proxy_is_read_as_the_environment_writes_it_and_its_password_never_shows() {
        let proxy = ProxySetting::parse("http://ward:s3cret@proxy.ward.example:3128/").unwrap();
        assert_eq!(
            (proxy.host.as_str(), proxy.port, proxy.user.as_deref(), proxy.password.as_deref()),
            ("proxy.ward.example", 3128, Some("ward"), Some("s3cret"))
        );
        assert!(!format!("{proxy:?}").contains("s3cret"));
        let plain = ProxySetting::parse("10.0.0.1:8080").unwrap();
        assert_eq!((plain.host.as_str(), plain.port, plain.user), ("10.0.0.1", 8080, None));
        assert_eq!(ProxySetting::parse("[::1]:3128").map(|p| p.host), Some("::1".into()));
        // What the start screen's field shows reads back the same.
        for written in ["ward:s3cret@proxy.ward.example:3128", "ward@10.0.0.1:8080", "[::1]:3128", "proxy:8080"] {
            let proxy = ProxySetting::parse(written).unwrap();
            assert_eq!(proxy.written(), written);
            assert_eq!(ProxySetting::parse(&proxy.written()), Some(proxy));
        }
        for bad in ["proxy.ward.example", "proxy:0", "proxy:99999", ":3128", "http://a b:1"] {
            assert_eq!(ProxySetting::parse(bad), None, "{bad}");
        }
    }

    /// A file from before the installation number existed still reads: the
    /// look kept, the number 0 (chosen afresh by the app).
    #[test]
    fn a_file_without_the_installation_number_still_reads() {
        let path = scratch("older");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "(look: (body_color: (1, 2, 3), headwear: Cap, headwear_color: (4, 5, 6), accessories: (glasses: true, ribbon: false, scarf: false)))",
        )
        .unwrap();
        let Loaded::Found(saved) = load(&path) else { panic!("an older file was not read") };
        assert_eq!((saved.look.headwear, saved.device, saved.personal_space_cm), (Headwear::Cap, 0, DEFAULT_PERSONAL_SPACE_CM));
        assert_eq!(saved.text_size, TextSize::Normal);
        assert_eq!(saved.link_mode, LinkMode::Normal);
        assert_eq!(saved.headset, HeadsetChoices::default(), "no headset choices yet: try the headset, as before");
    }

    /// Headset choices written by hand: what is missing is the default, what
    /// is out of range is brought within it (a 90° bed would show the room
    /// on its side).
    #[test]
    fn headset_choices_read_in_part_and_within_bounds() {
        let path = scratch("headset");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let look =
            "look: (body_color: (1, 2, 3), headwear: Cap, headwear_color: (4, 5, 6), accessories: (glasses: true, ribbon: false, scarf: false))";
        std::fs::write(
            &path,
            format!(
                "({look}, headset: (use_headset: false, bed_tilt_degrees: 90, eye_offset_cm: -100, snap_turn_degrees: 7, break_after_minutes: 200))"
            ),
        )
        .unwrap();
        let Loaded::Found(saved) = load(&path) else { panic!("the file was not read") };
        assert_eq!(
            saved.headset,
            HeadsetChoices {
                use_headset: false,
                snap_turn_degrees: 30,
                smooth_walking: false,
                bed_tilt_degrees: 60,
                eye_offset_cm: -30,
                break_after_minutes: 120
            }
        );
    }

    #[test]
    fn a_broken_or_missing_file_starts_with_the_defaults_and_says_why() {
        let defaults = SavedSettings::fresh(AvatarLook::with_color([255, 160, 80]));
        let path = scratch("broken");
        assert_eq!(load(&path).settings_or(defaults.clone()), defaults);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        for junk in [&b"(look: (body_color: (1, 2"[..], b"\xff\xfe not text", b"(look: (body_color: (1, 2, 3), headwear: Crown, headwear_color: (1, 2, 3), accessories: (glasses: false, ribbon: false, scarf: false)))"] {
            std::fs::write(&path, junk).unwrap();
            let loaded = load(&path);
            assert!(matches!(loaded, Loaded::Unreadable(ref why) if !why.is_empty()), "{loaded:?}");
            assert_eq!(loaded.settings_or(defaults.clone()), defaults);
        }
        std::fs::write(&path, vec![b' '; 20_000]).unwrap();
        assert!(matches!(load(&path), Loaded::Unreadable(_)));
        // A directory where the file should be is unreadable too, not a crash.
        let _ = std::fs::remove_file(&path);
        std::fs::create_dir_all(&path).unwrap();
        assert!(matches!(load(&path), Loaded::Unreadable(_)));
    }
}
