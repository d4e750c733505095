//! A line spoken for someone (speak-for-me), handed from the speech feature,
//! which makes the sound, to the voice feature, which owns the mix and knows
//! where each head is.

use std::sync::Arc;

use bevy::prelude::*;
use tsunagu_protocol::PeerId;

/// Play this from `from`'s head.
#[derive(Message, Clone, Debug)]
pub struct SpokenLine {
    /// Whose line it is.
    pub from: PeerId,
    /// Mono samples in −1..1.
    pub samples: Arc<[f32]>,
    /// Samples per second.
    pub sample_rate: u32,
}
