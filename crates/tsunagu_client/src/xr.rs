//! Headset status. bevy_mod_openxr tries the OpenXR runtime at start; without
//! one it installs the normal desktop renderer and reports `XrState::Unavailable`.
//! This plugin turns that into a status the HUD shows and the log states.

use bevy::prelude::*;
use bevy_mod_xr::session::XrState;

/// What the client runs on.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayMode {
    /// A headset session is available.
    Headset,
    /// The normal window (no runtime, no headset, or XR turned off).
    Desktop,
}

/// Reports the display mode once the XR plugins have decided.
pub struct XrStatusPlugin;

impl Plugin for XrStatusPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, report_display_mode);
    }
}

fn report_display_mode(mut commands: Commands, state: Option<Res<XrState>>) {
    let mode = match state.as_deref() {
        Some(XrState::Unavailable) | None => DisplayMode::Desktop,
        Some(_) => DisplayMode::Headset,
    };
    match mode {
        DisplayMode::Desktop => info!("tsunagu: no VR headset runtime, desktop mode"),
        DisplayMode::Headset => info!("tsunagu: VR headset runtime found"),
    }
    commands.insert_resource(mode);
}
