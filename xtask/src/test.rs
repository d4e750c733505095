//! `cargo xtask test`: the README's second command, and what CI runs. One
//! profile (dev, which tests inherit) and one feature set, so Bevy builds once.

use crate::deps::{Need, ensure};

/// Install what the tests need, run every test in the workspace (the root
/// package's integration tests include a screenshot of the room under Xvfb with
/// software Vulkan, checked pixel by pixel) and a smoke run of the network
/// bench, then take the README's screenshot the way a person would, to prove
/// `cargo xtask screenshot` itself works.
pub fn run(args: &[String]) -> Result<(), String> {
    ensure(&[Need::Build, Need::Run, Need::Headless])?;
    // Guardrails first, so CI fails on them in seconds: one format, and no
    // lint warning anywhere (tests, benches and xtask included). Warm, both
    // take about 10 s; clippy's check build adds about 3 minutes cold.
    crate::status(crate::cargo().args(["fmt", "--all", "--", "--check"]))?;
    crate::status(crate::cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    // The voices for speak-for-me, their builder built as the tests build
    // everything (one feature set: nothing compiles twice).
    crate::speech::ensure(|| crate::speech::tool_from(&["--workspace", "--tests", "--bins"]))?;
    let sound = crate::sound::start();
    let headset = crate::monado::runtime();
    let mut tests = crate::cargo();
    tests.args(["test", "--workspace"]).args(args);
    // The speech tests fail, rather than skip, without the voices set up above.
    tests.env("TSUNAGU_REQUIRE_SPEECH", "1");
    if let Ok(env) = &sound {
        tests.envs(env.iter().map(|(k, v)| (k, v)));
    }
    // Only the headset test's client is given the runtime; every other
    // client in the suite runs as on a PC without one.
    if let Ok(manifest) = &headset {
        tests.env("TSUNAGU_TEST_XR_RUNTIME", manifest);
    }
    let result = crate::status(&mut tests);
    // Said last and loudly, so nobody mistakes a skip for a pass.
    if let Err(why) = &sound {
        eprintln!("\nxtask: *** SOUND DEVICE TESTS SKIPPED: no test sound server ({why}). Only the --mic-file path was tested. ***\n");
    }
    if let Err(why) = &headset {
        eprintln!("\nxtask: *** HEADSET TESTS SKIPPED: no OpenXR runtime ({why}). Only the desktop fallback was tested. ***\n");
    }
    result?;
    // The benches are not test targets; a short smoke keeps them building and
    // honest. `--workspace`, as above: features resolved for one package alone
    // differ from the workspace's, and the avatar bench then built Bevy a
    // second time (docs/benchmarks.md).
    for bench in ["net", "voice", "screen", "avatars", "speech"] {
        crate::status(crate::cargo().args(["test", "--workspace", "--bench", bench, "--", "smoke"]))?;
    }
    let target = crate::target_dir();
    let out = target.join("tsunagu-screenshot.png");
    crate::screenshot::run(&["--out".into(), out.to_string_lossy().into_owned(), "--frames".into(), "20".into()])
}
