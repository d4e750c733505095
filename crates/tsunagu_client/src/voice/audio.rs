//! Whether sound plays on this PC. The kira mix itself belongs to the voice
//! engine ([`crate::voice`]): one mix, so everything it plays is also what
//! the echo canceller takes out of the microphone.

use bevy::prelude::*;

/// Whether sound works on this PC.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoundStatus {
    /// A device was opened.
    Ready,
    /// No device: everything else works, silently.
    Unavailable,
}

impl SoundStatus {
    /// What stands on screen while sound is so, if anything.
    pub fn notice(self) -> Option<&'static str> {
        (self == SoundStatus::Unavailable).then_some("status-no-sound")
    }
}
