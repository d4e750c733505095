//! Finding the `assets/` folder: beside the executable (an installed copy), the
//! repository root when run from `target/<profile>/`, or the source tree.

use std::path::{Path, PathBuf};

/// The assets folder, or the source tree's path if none is found (Bevy then
/// reports each missing file).
pub fn asset_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("TSUNAGU_ASSETS") {
        return PathBuf::from(dir);
    }
    let exe_dir = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf));
    let mut candidates = Vec::new();
    if let Some(dir) = exe_dir {
        candidates.push(dir.join("assets"));
        // target/<profile>/tsunagu → the repository root
        candidates.push(dir.join("../../assets"));
    }
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
    candidates.push(source_tree.clone());
    candidates.into_iter().find(|c| c.join("fonts").is_dir()).and_then(|c| c.canonicalize().ok()).unwrap_or(source_tree)
}
