//! Project commands, run as `cargo xtask <command>`. The command tree is declared
//! here; each command lives in its own module.
//!
//! ```text
//! cargo xtask run [-- ARGS]     install missing system packages and the voices, build, launch
//! cargo xtask test              install what tests need, run every test (incl. the screenshot)
//! cargo xtask screenshot [--out FILE] [--frames N] [--size WxH]
//! cargo xtask deps [--check]    name (and install) the Debian/Ubuntu packages Tsunagu needs
//! cargo xtask bench net         network benchmarks: bandwidth per avatar, server CPU, latency
//! cargo xtask interop           a Python client written from docs/protocol.md joins the server
//! cargo xtask fuzz [SECONDS]    run every decoder's fuzz target (fuzz/) for SECONDS each
//! cargo xtask package           the room server's Debian package, built and checked
//! ```

mod bench;
mod deps;
mod fuzz;
mod interop;
mod monado;
mod package;
mod run;
mod screenshot;
mod sound;
mod speech;
mod test;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run [-- ARGS]                              install missing system packages and the voices, build, launch
  test                                       install what the tests need and run the whole suite
  screenshot [--out FILE] [--frames N] [--size WxH]
                                             enter the room (under Xvfb if there is no display), save a PNG
  deps [--check]                             list the system packages Tsunagu needs and install missing ones
  bench net [bandwidth|server]               network benchmarks (see docs/benchmarks.md)
  interop                                    a Python/aioquic client written from docs/protocol.md joins a server
  fuzz [SECONDS]                             fuzz every decoder that reads network bytes, SECONDS each (60)
  package                                    build the room server's Debian package (cargo-deb) and check it";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        "run" => run::run(rest),
        "test" => test::run(rest),
        "screenshot" => screenshot::run(rest),
        "deps" => deps::run(rest),
        "bench" => bench::run(rest),
        "interop" => interop::run(rest),
        "fuzz" => fuzz::run(rest),
        "package" => package::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command '{other}'\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (xtask lives one level below it). Read from the
/// environment `cargo run` sets, not baked in at compile time: two checkouts
/// sharing one target directory share this binary too.
pub fn root() -> std::path::PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    std::path::Path::new(&manifest_dir).parent().map(|p| p.to_path_buf()).unwrap_or_default()
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR`, or `target/` in the repository.
pub fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Run a command to completion; an error names the command.
pub fn status(cmd: &mut std::process::Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    eprintln!("xtask: {shown}");
    let status = cmd.status().map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{shown} failed ({status})")) }
}

/// `cargo` as invoked by the user (respects `CARGO`).
pub fn cargo() -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// `cargo` for the dev build that `run`, `test`, `screenshot` and the dev
/// benches share: clippy compiles our own crates (as `cargo clippy` has it
/// do, through `RUSTC_WORKSPACE_WRAPPER`) with warnings denied, so they are
/// linted as they are built. A separate `cargo clippy` needs a check build
/// of every dependency (3 minutes cold on 2 cores); and as the wrapper is
/// part of our crates' build hash, every command sharing the build must set
/// it alike, or each would rebuild our crates for the other.
pub fn cargo_linted() -> Result<std::process::Command, String> {
    let mut cmd = cargo();
    // cargo clippy's own way of passing `-- -D warnings` to the driver.
    cmd.env("RUSTC_WORKSPACE_WRAPPER", clippy_driver()?).env("CLIPPY_ARGS", "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__");
    Ok(cmd)
}

/// The toolchain's clippy-driver, looked up once (`cargo xtask test` builds
/// through it several times).
fn clippy_driver() -> Result<std::path::PathBuf, String> {
    static DRIVER: std::sync::OnceLock<Result<std::path::PathBuf, String>> = std::sync::OnceLock::new();
    DRIVER
        .get_or_init(|| {
            let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
            let sysroot = std::process::Command::new(&rustc).args(["--print", "sysroot"]).output().map_err(|e| format!("cannot run {rustc}: {e}"))?;
            let driver = std::path::Path::new(String::from_utf8_lossy(&sysroot.stdout).trim())
                .join("bin")
                .join(format!("clippy-driver{}", std::env::consts::EXE_SUFFIX));
            if driver.exists() {
                Ok(driver)
            } else {
                Err(format!("{} is missing: install clippy with `rustup component add clippy`", driver.display()))
            }
        })
        .clone()
}
