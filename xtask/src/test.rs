//! `cargo xtask test`: the README's second command, and what CI runs. One
//! profile (dev, which tests inherit) and one feature set, so Bevy builds once.

use crate::deps::{Need, ensure};

/// Install what the tests need, then run every test in the workspace. The
/// root package's integration tests include the screenshot of the room under
/// Xvfb with software Vulkan.
pub fn run(args: &[String]) -> Result<(), String> {
    ensure(&[Need::Build, Need::Run, Need::Headless])?;
    crate::status(crate::cargo().args(["test", "--workspace"]).args(args))
}
