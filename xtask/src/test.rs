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
    // The format first, so CI fails on it in seconds. The lints (no warning
    // anywhere: tests, examples, benches and xtask included) come with the
    // build below, which clippy compiles (`cargo_linted`).
    crate::status(crate::cargo().args(["fmt", "--all", "--", "--check"]))?;
    // The headset runtime builds (once) beside ours, at the lowest priority:
    // it takes the core cargo leaves idle while one crate or a link holds it.
    let headset = std::thread::spawn(crate::monado::runtime);
    // Cargo's own options go to the build; what follows `--` is for the tests.
    let cargo_args = args.split(|a| a == "--").next().unwrap_or_default();
    let built = (|| {
        // The voices for speak-for-me, their builder built as the tests build
        // everything (one feature set: nothing compiles twice).
        crate::speech::ensure(|| crate::speech::tool_from(&["--workspace", "--tests", "--bins"]))?;
        crate::status(crate::cargo_linted()?.args(["test", "--workspace", "--no-run"]).args(cargo_args))
    })();
    let headset = headset.join().unwrap_or_else(|_| Err("building Monado panicked".into()));
    built?;
    let sound = crate::sound::start();
    let mut tests = crate::cargo_linted()?;
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
        crate::status(crate::cargo_linted()?.args(["test", "--workspace", "--bench", bench, "--", "smoke"]))?;
    }
    let target = crate::target_dir();
    let out = target.join("tsunagu-screenshot.png");
    crate::screenshot::run(&["--out".into(), out.to_string_lossy().into_owned(), "--frames".into(), "20".into()])
}
