//! The voices for speak-for-me, set up once per checkout in `assets/speech/`
//! (not in git: 77 MB built, from two registries the project already uses):
//!
//! - the Japanese dictionary: Debian's `open-jtalk` 1.11 source package
//!   (naist-jdic and unidic-csj, BSD-3), built into jpreprocess's format by
//!   `tsunagu-speech-dictionary` (about 8 s, 0.7 GB of memory while it runs);
//! - the "Mei" voice (CC BY 3.0, Nagoya Institute of Technology): from
//!   PyPI's `pyopenjtalk` 0.4.1 source, which carries it with its licence.
//!
//! Both downloads are pinned by SHA-256; nothing is fetched at run time.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (what, address, SHA-256)
const OPEN_JTALK: (&str, &str, &str) = (
    "open-jtalk_1.11.orig.tar.gz",
    "http://deb.debian.org/debian/pool/main/o/open-jtalk/open-jtalk_1.11.orig.tar.gz",
    "20fdc6aeb6c757866034abc175820573db43e4284707c866fcd02c8ec18de71f",
);
const PYOPENJTALK: (&str, &str, &str) = (
    "pyopenjtalk-0.4.1.tar.gz",
    "https://files.pythonhosted.org/packages/58/74/ccd31c696f047ba381f9b11a504bf1199756c3f30f3de64e3eeb83e10b4a/pyopenjtalk-0.4.1.tar.gz",
    "d5ada46f7fc2b52c1c79c273eb9668ff6ad7ab276a8db9d8be119ef93440f0dc",
);
/// The dictionary's sources inside the Open JTalk tarball.
const DICTIONARY_SOURCES: [&str; 5] = ["naist-jdic.csv", "unidic-csj.csv", "matrix.def", "char.def", "unk.def"];
/// Bumped when what is set up changes, so an old folder is rebuilt.
const STAMP: &str = "open-jtalk 1.11, pyopenjtalk 0.4.1 mei_normal, jpreprocess 0.15\n";

/// The folder the client and the tests read.
pub fn folder() -> PathBuf {
    crate::root().join("assets").join("speech")
}

/// Set the voices up if they are not yet. `build_tool` builds the dictionary
/// builder in the caller's profile and feature set (so it costs no second
/// build of anything) and says where it is.
pub fn ensure(build_tool: impl FnOnce() -> Result<PathBuf, String>) -> Result<(), String> {
    let folder = folder();
    if std::fs::read_to_string(folder.join("STAMP")).is_ok_and(|s| s == STAMP) {
        return Ok(());
    }
    eprintln!("xtask: setting up the speak-for-me voices in {} (once)", folder.display());
    let downloads = crate::target_dir().join("speech-downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| format!("{}: {e}", downloads.display()))?;
    let open_jtalk = fetch(&downloads, OPEN_JTALK)?;
    let pyopenjtalk = fetch(&downloads, PYOPENJTALK)?;
    let staging = downloads.join("staging");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
    let members: Vec<String> = DICTIONARY_SOURCES.iter().map(|f| format!("open_jtalk-1.11/mecab-naist-jdic/{f}")).collect();
    crate::status(Command::new("tar").arg("xzf").arg(&open_jtalk).arg("-C").arg(&staging).args(&members))?;
    let voice_files = ["mei_normal.htsvoice", "LICENSE_mei_normal.htsvoice"].map(|f| format!("pyopenjtalk-0.4.1/pyopenjtalk/htsvoice/{f}"));
    crate::status(Command::new("tar").arg("xzf").arg(&pyopenjtalk).arg("-C").arg(&staging).args(&voice_files))?;
    let tool = build_tool()?;
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    crate::status(Command::new(tool).arg(staging.join("open_jtalk-1.11/mecab-naist-jdic")).arg(folder.join("naist-jdic")))?;
    for file in &voice_files {
        let from = staging.join(file);
        let name = from.file_name().map(PathBuf::from).unwrap_or_default();
        std::fs::copy(&from, folder.join(name)).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::write(folder.join("STAMP"), STAMP).map_err(|e| e.to_string())
}

/// Download `address` into `dir` unless a copy with the right SHA-256 is there.
fn fetch(dir: &Path, (name, address, sha256): (&str, &str, &str)) -> Result<PathBuf, String> {
    let path = dir.join(name);
    if digest(&path).as_deref() == Some(sha256) {
        return Ok(path);
    }
    crate::status(Command::new("curl").args(["-fsSL", "--retry", "3", "-o"]).arg(&path).arg(address))?;
    match digest(&path) {
        Some(found) if found == sha256 => Ok(path),
        found => {
            let _ = std::fs::remove_file(&path);
            Err(format!("{name} from {address} is not the pinned file (SHA-256 {found:?}, expected {sha256})"))
        }
    }
}

fn digest(path: &Path) -> Option<String> {
    let out = Command::new("sha256sum").arg(path).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned())
}

/// The dictionary builder built as `cargo build ARGS` builds it.
pub fn tool_from(args: &[&str]) -> Result<PathBuf, String> {
    crate::status(crate::cargo_linted()?.args(["build"]).args(args))?;
    Ok(crate::target_dir().join("debug").join("tsunagu-speech-dictionary"))
}
