//! `cargo xtask run [-- ARGS]`: the README's first command.

use crate::deps::{Need, ensure};

/// Install what building and running need, build in release, and launch.
pub fn run(args: &[String]) -> Result<(), String> {
    ensure(&[Need::Build, Need::Run])?;
    crate::status(crate::cargo().args(["build", "--release", "--package", "tsunagu"]))?;
    let has_display = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !has_display {
        return Err("built, but there is no display to open a window on (DISPLAY is not set). \
             On a desktop, run this from a terminal inside the session; headless, \
             `cargo xtask screenshot` shows the room."
            .into());
    }
    let target = crate::target_dir();
    let binary = target.join("release").join("tsunagu");
    let passthrough = args.strip_prefix(&["--".to_string()]).unwrap_or(args);
    crate::status(std::process::Command::new(binary).args(passthrough).env("TSUNAGU_ASSETS", crate::root().join("assets")))
}
