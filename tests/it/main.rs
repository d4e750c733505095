//! The one integration-test binary of the `tsunagu` package (each file in
//! `tests/` would be its own binary linking all of Bevy; modules keep it to one).

mod adapter;
mod cli;
mod client_logic;
mod controls;
mod expression;
mod join;
mod screenshot;
mod tidy;
mod voice;

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
