//! `--screenshot FILE`: enter the room, let it render for some frames, save the
//! window as PNG and exit. Used by `cargo xtask screenshot` and the test suite.
//! If joining fails, the start screen with its message is what gets saved.

use std::path::PathBuf;
use std::time::Duration;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};

use crate::controls::LocalPlayer;
use crate::{AppState, ClientOptions};

/// Where and when to take the picture.
#[derive(Clone, Debug)]
pub struct ScreenshotRequest {
    /// The PNG to write.
    pub path: PathBuf,
    /// Frames to render in the room before taking it.
    pub frames: u32,
}

/// If nothing is captured by then, something is wrong: exit with an error.
const GIVE_UP_AFTER: Duration = Duration::from_secs(180);

/// Takes the screenshot when asked.
pub struct ScreenshotPlugin;

#[derive(Resource, Default)]
struct Progress {
    frames_shown: u32,
    requested: bool,
    left_for_the_room: bool,
}

impl Plugin for ScreenshotPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Progress>().add_systems(Last, count_and_capture);
    }
}

fn count_and_capture(
    mut commands: Commands,
    options: Res<ClientOptions>,
    mut progress: ResMut<Progress>,
    player: Query<(), With<LocalPlayer>>,
    state: Res<State<AppState>>,
    time: Res<Time<Real>>,
    mut exit: MessageWriter<AppExit>,
) {
    let Some(request) = &options.screenshot else { return };
    if time.elapsed() > GIVE_UP_AFTER {
        error!("tsunagu: no screenshot after {GIVE_UP_AFTER:?}; giving up");
        exit.write(AppExit::error());
        return;
    }
    let in_room = *state.get() == AppState::InRoom;
    progress.left_for_the_room |= in_room;
    // Back on the start screen after setting off: the join failed and says why.
    let join_failed = progress.left_for_the_room && !in_room;
    if progress.requested || (player.is_empty() && !join_failed) {
        return;
    }
    progress.frames_shown += 1;
    if progress.frames_shown >= request.frames {
        progress.requested = true;
        let path = request.path.clone();
        info!("tsunagu: saving screenshot to {}", path.display());
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(path))
            .observe(|_: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
                exit.write(AppExit::Success);
            });
    }
}
