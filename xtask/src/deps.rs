//! System packages, named and explained in one place (the README lists the same).
//! On Debian/Ubuntu the missing ones are installed with apt-get, through sudo
//! only when not already root. Elsewhere the list is printed and nothing is done.

use std::process::Command;

/// Why a package is needed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// To compile.
    Build,
    /// To open the window and render.
    Run,
    /// To render without a display or GPU (tests, screenshots, CI).
    Headless,
}

/// Every package, what it is for, and when it is needed.
pub const PACKAGES: &[(&str, &str, Need)] = &[
    ("pkg-config", "finds the ALSA sound library while compiling", Need::Build),
    ("libasound2-dev", "ALSA sound (kira/cpal) headers for compiling", Need::Build),
    ("cmake", "builds the Opus voice codec (libopus, bundled with the opus crate)", Need::Build),
    ("curl", "fetches the speak-for-me voices once (pinned files from Debian and PyPI)", Need::Build),
    ("libvulkan1", "Vulkan loader: how the renderer reaches the graphics card", Need::Run),
    ("mesa-vulkan-drivers", "Vulkan drivers for Intel/AMD graphics, and lavapipe software rendering when there is no GPU", Need::Run),
    ("libx11-6", "X11 window", Need::Run),
    ("libxcursor1", "X11 mouse cursor", Need::Run),
    ("libxrandr2", "X11 screen size", Need::Run),
    ("libxi6", "X11 mouse and keyboard input", Need::Run),
    ("libxkbcommon-x11-0", "keyboard layouts (typing names, Japanese too)", Need::Run),
    ("espeak-ng", "the English voice for speak-for-me (run as its own program; Japanese needs nothing installed)", Need::Run),
    ("libopenxr-loader1", "OpenXR loader for VR headsets (without it Tsunagu runs on the screen)", Need::Run),
    ("xvfb", "a virtual display for tests and screenshots on machines without one", Need::Headless),
    ("xauth", "lets xvfb-run start the virtual display", Need::Headless),
    ("pulseaudio", "a sound server with a silent sink, so tests open a real microphone and speakers", Need::Headless),
    ("pulseaudio-utils", "paplay: a second program talking into the test microphone", Need::Headless),
    ("libasound2-plugins", "routes ALSA (what cpal opens) to the test sound server", Need::Headless),
];

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_debian_like() -> bool {
    std::fs::read_to_string("/etc/os-release")
        .map(|s| s.lines().any(|l| (l.starts_with("ID=") || l.starts_with("ID_LIKE=")) && (l.contains("debian") || l.contains("ubuntu"))))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Install the packages needed for `needs` that are missing. Names them first.
pub fn ensure(needs: &[Need]) -> Result<(), String> {
    let wanted: Vec<_> = PACKAGES.iter().filter(|(_, _, need)| needs.contains(need)).collect();
    if !is_debian_like() {
        eprintln!("xtask: not Debian/Ubuntu, so nothing is installed. Tsunagu needs the equivalents of:");
        for (name, why, _) in &wanted {
            eprintln!("  {name:<22} {why}");
        }
        return Ok(());
    }
    let missing: Vec<_> = wanted.iter().filter(|(name, _, _)| !is_installed(name)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing these missing system packages:");
    for (name, why, _) in &missing {
        eprintln!("  {name:<22} {why}");
    }
    let names: Vec<&str> = missing.iter().map(|(name, _, _)| *name).collect();
    let apt = |args: &[&str]| -> Command {
        let mut cmd = if is_root() {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    crate::status(apt(&["update", "-qq"]).arg("-y"))?;
    crate::status(apt(&["install", "-y", "-qq", "--no-install-recommends"]).args(&names))
}

/// `cargo xtask deps [--check]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let check_only = args.iter().any(|a| a == "--check");
    println!("System packages Tsunagu uses (Debian/Ubuntu names):");
    let mut missing = 0;
    for (name, why, need) in PACKAGES {
        let when = match need {
            Need::Build => "build",
            Need::Run => "run",
            Need::Headless => "tests",
        };
        let mark = if is_installed(name) {
            "ok"
        } else {
            missing += 1;
            "MISSING"
        };
        println!("  {mark:<8} {name:<22} [{when}] {why}");
    }
    if check_only {
        return if missing == 0 { Ok(()) } else { Err(format!("{missing} package(s) missing")) };
    }
    ensure(&[Need::Build, Need::Run, Need::Headless])
}
