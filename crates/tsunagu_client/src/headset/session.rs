//! The headset's session as a person sees it: the display mode and its
//! notice, leaving the headset for the screen and the HUD's button to start
//! it again, and what is said when a session ends.

use super::rig::HeadsetRig;
use crate::kit::hud::{BarButtonLook, spawn_bar_button};
use crate::kit::hud::{StandingNotices, say_standing};
use bevy::prelude::*;
use bevy_mod_xr::session::XrState;

/// What the client runs on.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayMode {
    /// A headset session is available.
    Headset,
    /// The normal window (no runtime, no headset, or XR turned off).
    Desktop,
    /// The headset's session ended (taken off, or its runtime stopped): on
    /// the screen again until it comes back.
    HeadsetEnded,
    /// The person chose the screen (the wrist menu's button, `--no-xr` or
    /// the settings): nothing to say about it.
    ScreenChosen,
}

impl DisplayMode {
    /// What stands on screen in this mode, if anything.
    pub fn notice(self) -> Option<&'static str> {
        match self {
            DisplayMode::Desktop => Some("status-no-xr"),
            DisplayMode::HeadsetEnded => Some("status-xr-ended"),
            DisplayMode::Headset | DisplayMode::ScreenChosen => None,
        }
    }
}

/// The display mode's standing notice, kept as the mode changes.
pub fn say_the_display_mode(mode: Option<Res<DisplayMode>>, mut notices: ResMut<StandingNotices>) {
    say_standing(&mut notices, "headset", mode.and_then(|m| m.notice()));
}

pub(super) fn report_display_mode(mut commands: Commands, state: Option<Res<XrState>>, headset: Option<Res<HeadsetRig>>) {
    let mode = match (state.as_deref(), headset) {
        // The headset plugins were left out on purpose.
        (None, None) => DisplayMode::ScreenChosen,
        (Some(XrState::Unavailable) | None, _) => DisplayMode::Desktop,
        (Some(_), _) => DisplayMode::Headset,
    };
    match mode {
        DisplayMode::ScreenChosen => info!("tsunagu: the headset is turned off (--no-xr, or in the settings); the window only"),
        DisplayMode::Desktop => info!("tsunagu: no VR headset runtime, desktop mode"),
        _ => info!("tsunagu: VR headset runtime found"),
    }
    commands.insert_resource(mode);
}

/// Leave the headset for the screen, as the person asked: the session ends
/// calmly and nothing on the screen calls it a failure.
pub fn leave_the_headset(headset: &mut HeadsetRig, leave: &mut MessageWriter<bevy_mod_xr::session::XrRequestExitMessage>) {
    info!("tsunagu: headset: carrying on on the screen, as asked");
    headset.screen_chosen = true;
    leave.write_default();
}

/// The HUD's button back into the headset, shown while one could start.
#[derive(Component)]
pub struct HeadsetButton;

/// The button, for the HUD's row of buttons (hidden until a headset could start).
pub fn spawn_headset_button(parent: &mut ChildSpawnerCommands, font: &crate::kit::text::UiFont) {
    spawn_bar_button(parent, font, HeadsetButton, Some("hud-use-headset"), BarButtonLook::Main, true);
}

/// While no session runs but one could (the person chose the screen, or the
/// runtime ended it), the button shows; a press starts a new session.
pub(super) fn offer_the_headset_again(
    state: Option<Res<XrState>>,
    mut buttons: Query<(Ref<Interaction>, &mut Node), With<HeadsetButton>>,
    mut start: MessageWriter<bevy_mod_xr::session::XrCreateSessionMessage>,
) {
    let could_start = matches!(state.as_deref(), Some(XrState::Available));
    for (interaction, mut node) in &mut buttons {
        let display = if could_start { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
        if could_start && interaction.is_changed() && *interaction == Interaction::Pressed {
            info!("tsunagu: headset: starting it again, as asked");
            start.write_default();
        }
    }
}

/// Say when the headset comes and goes: in the log, and to the HUD through
/// [`DisplayMode`]. When it comes back, it recentres.
pub fn say_session_changes(
    state: Option<Res<XrState>>,
    mut was: Local<Option<XrState>>,
    mut headset: ResMut<HeadsetRig>,
    mut mode: Option<ResMut<DisplayMode>>,
) {
    let Some(state) = state else { return };
    if *was == Some(*state) {
        return;
    }
    match *state {
        XrState::Running => {
            info!("tsunagu: headset: the room is in the headset (FOCUSED)");
            headset.recentre = true;
            headset.screen_chosen = false;
            if let Some(mode) = mode.as_mut() {
                **mode = DisplayMode::Headset;
            }
        }
        XrState::Stopping | XrState::Exiting { .. } if *was == Some(XrState::Running) => {
            info!("tsunagu: headset: the session ended after {} frames; back on the screen", headset.frames);
            if let Some(mode) = mode.as_mut() {
                **mode = if headset.screen_chosen { DisplayMode::ScreenChosen } else { DisplayMode::HeadsetEnded };
            }
        }
        _ => {}
    }
    *was = Some(*state);
}
