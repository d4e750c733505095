//! Where the voices' files are. `cargo xtask deps` puts them in one folder
//! (`assets/speech/` in the source tree; an installed copy beside its assets):
//!
//! | file | what | from |
//! | --- | --- | --- |
//! | `naist-jdic/` | the Japanese dictionary, built for jpreprocess | Debian's `open-jtalk` source package (naist-jdic and unidic-csj CSVs, BSD-3) |
//! | `mei_normal.htsvoice` | the "Mei" voice | PyPI's `pyopenjtalk` source (CC BY 3.0, Nagoya Institute of Technology) |
//! | `LICENSE_mei_normal.htsvoice` | its licence and attribution | the same |
//!
//! English needs `espeak-ng` on the PATH (Debian's package).

use std::path::{Path, PathBuf};

/// The folder's name under the assets folder.
pub const FOLDER: &str = "speech";
/// The dictionary's folder inside it.
pub const DICTIONARY: &str = "naist-jdic";
/// The Japanese voice inside it.
pub const VOICE: &str = "mei_normal.htsvoice";

/// The files the Japanese voice loads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeechFiles {
    /// A jpreprocess system dictionary (a folder).
    pub dictionary: PathBuf,
    /// An HTS voice file.
    pub voice: PathBuf,
}

/// The folder the voices are read from: `TSUNAGU_SPEECH_DIR` if set, else
/// [`FOLDER`] in `assets`.
pub fn folder_in(assets: &Path) -> PathBuf {
    std::env::var_os("TSUNAGU_SPEECH_DIR").map(PathBuf::from).unwrap_or_else(|| assets.join(FOLDER))
}

impl SpeechFiles {
    /// The files in `folder`, as `cargo xtask deps` lays them out.
    pub fn in_folder(folder: &Path) -> SpeechFiles {
        SpeechFiles { dictionary: folder.join(DICTIONARY), voice: folder.join(VOICE) }
    }

    /// What is missing, in words for the log (`None`: all there).
    pub fn missing(&self) -> Option<String> {
        if !self.dictionary.join("dict.words").is_file() {
            return Some(format!("no dictionary at {} (run `cargo xtask deps`)", self.dictionary.display()));
        }
        if !self.voice.is_file() {
            return Some(format!("no voice at {} (run `cargo xtask deps`)", self.voice.display()));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_folder_says_what_is_missing() {
        let files = SpeechFiles::in_folder(Path::new("/nonexistent/speech"));
        assert!(files.missing().is_some_and(|m| m.contains("dictionary") && m.contains("cargo xtask deps")));
    }
}
