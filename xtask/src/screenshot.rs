//! `cargo xtask screenshot [--out FILE] [--frames N] [--size WxH]`: build the
//! client (the test build, so nothing compiles twice), enter a hosted room with three
//! practice guests, save a PNG and exit 0. With no display it runs under
//! `xvfb-run`; if that is missing it says which package to install rather than
//! installing anything silently.

use std::path::PathBuf;
use std::process::Command;

/// Parse the options and take the screenshot.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut out = PathBuf::from("screenshot.png");
    let mut frames = "60".to_string();
    let mut size = "1280x720".to_string();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--out" => out = PathBuf::from(value()?),
            "--frames" => frames = value()?,
            "--size" => size = value()?,
            other => return Err(format!("unknown option '{other}' (use --out FILE, --frames N, --size WxH)")),
        }
    }
    let out = std::env::current_dir().map_err(|e| e.to_string())?.join(out);
    // The same build as `cargo xtask test` (whose integration tests need this
    // binary): a plain `cargo build -p tsunagu` unifies features differently and
    // would compile Bevy a second time.
    crate::status(crate::cargo_linted()?.args(["test", "--workspace", "--no-run"]))?;
    let target = crate::target_dir();
    // The screenshot scenario: the client's plugins and command line plus
    // the picture, built as an example so the shipped binary has no test code.
    let binary = target.join("debug").join("examples").join(format!("screenshot{}", std::env::consts::EXE_SUFFIX));
    let client_args = ["--screenshot", &out.to_string_lossy(), "--frames", &frames, "--size", &size, "--bots", "5"];
    let mut cmd = headless_command(&binary, &size)?;
    // The practice guests' play includes saving a picture of the bamboo in
    // "the child's Pictures": here, a home under the target directory, so a
    // developer's or CI machine's own home gets nothing.
    cmd.args(client_args)
        .env("TSUNAGU_ASSETS", crate::root().join("assets"))
        .env("HOME", target.join("screenshot-home"))
        .env_remove("XDG_CONFIG_HOME");
    crate::status(&mut cmd)?;
    if !out.is_file() {
        return Err(format!("the client exited but {} was not written", out.display()));
    }
    println!("{}", out.display());
    Ok(())
}

/// The client command, wrapped in `xvfb-run` when there is no display.
pub fn headless_command(binary: &std::path::Path, size: &str) -> Result<Command, String> {
    if std::env::var_os("DISPLAY").is_some() {
        return Ok(Command::new(binary));
    }
    let found = Command::new("sh").args(["-c", "command -v xvfb-run"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !found {
        return Err("no display and no xvfb-run: install the packages `xvfb` and `xauth` \
                    (`cargo xtask deps` does it) and try again"
            .into());
    }
    let mut cmd = Command::new("xvfb-run");
    cmd.args(["-a", "-s", &format!("-screen 0 {size}x24")]).arg(binary);
    Ok(cmd)
}
