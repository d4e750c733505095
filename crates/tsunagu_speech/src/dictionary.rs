//! Building the Japanese dictionary from MeCab-format sources (the CSVs,
//! `matrix.def`, `char.def`, `unk.def`) into jpreprocess's own format, once,
//! when the voices are set up (`cargo xtask run`, `test` and `bench speech`
//! run `tsunagu-speech-dictionary`).

use std::path::Path;

use jpreprocess_dictionary::dictionary::to_dict::JPreprocessDictionaryBuilder;

/// Build the dictionary in `source` into `out` (created if missing).
pub fn build(source: &Path, out: &Path) -> Result<(), String> {
    JPreprocessDictionaryBuilder::default()
        .build_dictionary(source, out)
        .map_err(|e| format!("building the dictionary from {}: {e}", source.display()))
}
