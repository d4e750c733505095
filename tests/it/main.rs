//! The one integration-test binary of the `tsunagu` package (each file in
//! `tests/` would be its own binary linking all of Bevy; modules keep it to one).
#![allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]

mod adapter;
mod calm_screen;
mod cli;
mod client_logic;
mod controls;
mod expression;
mod headset;
mod join;
mod link;
mod next_child;
mod phrases;
mod play;
mod rest;
mod safety;
mod screenshot;
mod speech;
mod tidy;
mod voice;
mod wall_screen;

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR, set by cargo"))
}

/// Tests that play sound in real time, the screenshot (which keeps both
/// cores busy rendering in software) and the wall screen's (which makes a
/// page of a big photo) hold this while they run: on two cores the one
/// would otherwise be judging the other's load.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}
