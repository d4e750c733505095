//! Sound through kira. With no sound device the app says so and carries on.

use bevy::prelude::*;
use kira::{AudioManager, AudioManagerSettings, DefaultBackend};

/// Whether sound works on this PC.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoundStatus {
    /// A device was opened.
    Ready,
    /// No device: everything else works, silently.
    Unavailable,
}

/// Opens the sound device if there is one.
pub struct AudioPlugin;

/// The kira manager, when a device was found. Voices and room sounds play through it.
pub struct Audio(pub AudioManager<DefaultBackend>);

impl Plugin for AudioPlugin {
    fn build(&self, app: &mut App) {
        match AudioManager::<DefaultBackend>::new(AudioManagerSettings::default()) {
            Ok(manager) => {
                info!("tsunagu: sound ready");
                app.insert_non_send(Audio(manager)).insert_resource(SoundStatus::Ready);
            }
            Err(e) => {
                warn!("tsunagu: no sound device ({e}); continuing without sound");
                app.insert_resource(SoundStatus::Unavailable);
            }
        }
    }
}
