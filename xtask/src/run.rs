//! `cargo xtask run [-- ARGS]`: the README's first command. It builds the
//! dev profile the tests use (dependencies optimised, our code not), so a
//! newcomer is in the room after one build of Bevy and `cargo xtask test`
//! after it reuses that build instead of compiling Bevy again; a release
//! build (thin LTO, minutes of linking on 2 cores) is for packaging
//! (`cargo build --release -p tsunagu`, `cargo xtask package`).

use crate::deps::{Need, ensure};

/// Install what building and running need, build, and launch.
pub fn run(args: &[String]) -> Result<(), String> {
    ensure(&[Need::Build, Need::Run])?;
    // The speech tool in the same build: it adds no features to anything.
    let built = ["--package", "tsunagu", "--bin", "tsunagu", "--package", "tsunagu_speech", "--bin", "tsunagu-speech-dictionary"];
    crate::speech::ensure(|| crate::speech::tool_from(&built))?;
    crate::status(crate::cargo_linted()?.arg("build").args(built))?;
    let has_display = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !has_display {
        return Err("built, but there is no display to open a window on (DISPLAY is not set). \
             On a desktop, run this from a terminal inside the session; headless, \
             `cargo xtask screenshot` shows the room."
            .into());
    }
    let target = crate::target_dir();
    let binary = target.join("debug").join("tsunagu");
    let passthrough = args.strip_prefix(&["--".to_string()]).unwrap_or(args);
    crate::status(std::process::Command::new(binary).args(passthrough).env("TSUNAGU_ASSETS", crate::root().join("assets")))
}
