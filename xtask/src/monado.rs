//! An OpenXR runtime for the headset tests: Monado, built once from the
//! source snapshot in `../shared/vendor/monado/` (a simulated headset and a
//! null compositor: no GPU, no display) into the target directory, so CI's
//! cache keeps it like the build. A machine with a runtime of its own names
//! it in `XR_RUNTIME_JSON` and that one is used instead.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the snapshot and its build script are.
fn vendor_dir() -> PathBuf {
    crate::root().join("..").join("shared").join("vendor").join("monado")
}

/// The runtime manifest for the headset tests, or why there is none.
pub fn runtime() -> Result<PathBuf, String> {
    if let Some(own) = std::env::var_os("XR_RUNTIME_JSON") {
        return Ok(PathBuf::from(own));
    }
    let prefix = crate::target_dir().join("monado");
    let manifest = prefix.join("share").join("openxr").join("1").join("openxr_monado.json");
    if manifest.exists() {
        return Ok(manifest);
    }
    let vendor = vendor_dir();
    let snapshot = std::fs::read_dir(&vendor)
        .map_err(|_| format!("no Monado snapshot in {} and no XR_RUNTIME_JSON", vendor.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "gz"))
        .ok_or_else(|| format!("no Monado tarball in {}", vendor.display()))?;
    let source = crate::target_dir().join("monado-src");
    let _ = std::fs::remove_dir_all(&source);
    std::fs::create_dir_all(&source).map_err(|e| e.to_string())?;
    crate::status(Command::new("tar").arg("xzf").arg(&snapshot).arg("-C").arg(&source))?;
    let unpacked = first_dir(&source)?;
    // Its output goes to a log: `cargo xtask test` builds ours beside it, at
    // the lowest priority, and the two would interleave.
    let log_path = crate::target_dir().join("monado-build.log");
    eprintln!("xtask: building the Monado OpenXR runtime once (about two minutes), its output in {}", log_path.display());
    let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut build = Command::new("nice");
    build.args(["-n", "19", "bash"]).arg(vendor.join("build-monado-headless.sh")).arg(&unpacked).arg(&prefix).arg(source.join("build"));
    build.stdout(log.try_clone().map_err(|e| e.to_string())?).stderr(log);
    crate::status(&mut build).map_err(|e| format!("{e}; its output is in {}", log_path.display()))?;
    // The build tree is not needed once installed.
    let _ = std::fs::remove_dir_all(&source);
    if manifest.exists() { Ok(manifest) } else { Err(format!("Monado built but {} is missing", manifest.display())) }
}

fn first_dir(dir: &Path) -> Result<PathBuf, String> {
    std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .ok_or_else(|| format!("the Monado snapshot unpacked to nothing in {}", dir.display()))
}
