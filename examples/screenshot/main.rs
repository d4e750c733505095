//! The screenshot scenario (test support, not shipped in `tsunagu`): the
//! client with all of its command line, plus `--screenshot FILE`: enter the
//! room (hosting one unless `--join` says where), let it render for some
//! frames, save the window as PNG and exit. Used by `cargo xtask screenshot`
//! and the test suite, which run it as `target/debug/examples/screenshot`.
//! If joining fails, the start screen with its message is what gets saved.
//! In a headset it also saves what the left eye sees, then leaves the
//! headset for the screen as the wrist menu's button does, saves the window
//! again, and starts the headset again as the HUD's button does: the whole
//! way out and back in, on a real runtime. With `--wall` the host shows the
//! first file of `--show` on the wall screen and the guests draw on it
//! (wall.rs).

mod wall;

use std::path::PathBuf;
use std::time::Duration;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use bevy_mod_xr::session::XrState;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tsunagu_client::AppState;
use tsunagu_client::kit::hud::Drawer;
use tsunagu_client::kit::me::LocalPlayer;
use tsunagu_client::kit::scene::PictureTaking;

/// The client's options, and the picture's.
#[derive(clap::Parser, Debug)]
#[command(about = "Tsunagu's screenshot scenario: the client, a picture of the room, and exit")]
struct Args {
    #[command(flatten)]
    client: tsunagu_client::cli::Cli,
    /// Save a PNG of the window to FILE after --frames frames in the room, then exit.
    #[arg(long, value_name = "FILE")]
    screenshot: PathBuf,
    /// Frames to render in the room before the screenshot.
    #[arg(long, default_value_t = 60)]
    frames: u32,
    /// The room at rest, as a child sees it after the first minutes: nothing
    /// opened or staged, the help and the notices folded.
    #[arg(long)]
    at_rest: bool,
    /// Open this drawer of the bar for the picture (people, expressions,
    /// chat, look, wishes, voice, settings, staff, invite).
    #[arg(long, value_name = "NAME")]
    drawer: Option<String>,
    /// Show the first picture or PDF of --show on the wall screen, point at
    /// it, and wait for the practice guests' drawings on it.
    #[arg(long)]
    wall: bool,
}

fn main() -> std::process::ExitCode {
    let args = <Args as clap::Parser>::parse();
    let mut options = args.client.options();
    // A screenshot is of the defaults, whatever this PC remembers, and of a room.
    options.settings_file = None;
    options.host_now |= options.join.is_none();
    let drawer = match args.drawer.as_deref().map(str::to_lowercase) {
        None => None,
        Some(name) => match Drawer::ALL.into_iter().find(|d| format!("{d:?}").to_lowercase() == name) {
            Some(drawer) => Some(drawer),
            None => {
                eprintln!("screenshot: no drawer called {name}; there are {:?}", Drawer::ALL);
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    let request =
        ScreenshotRequest { path: args.screenshot, frames: args.frames.max(1), bots: options.bots, at_rest: args.at_rest, drawer, wall: args.wall };
    let mut app = tsunagu_client::build_app(options);
    if request.wall {
        app.add_plugins(wall::WallPlugin { drawers: request.bots.min(3) as usize });
    }
    app.insert_resource(request).add_plugins(ScreenshotPlugin);
    if app.run().is_success() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE }
}

/// Where and when to take the picture.
#[derive(Resource, Clone, Debug)]
struct ScreenshotRequest {
    /// The PNG to write.
    path: PathBuf,
    /// Frames to render in the room before taking it.
    frames: u32,
    /// Practice guests in the room (with more, more of the room is waited for).
    bots: u32,
    /// Nothing staged, everything folded (`--at-rest`).
    at_rest: bool,
    /// The drawer to open for the picture.
    drawer: Option<Drawer>,
    /// A page on the wall screen, drawn on (`--wall`).
    wall: bool,
}

/// If nothing is captured by then, something is wrong: exit with an error.
const GIVE_UP_AFTER: Duration = Duration::from_secs(180);

/// Takes the screenshot when asked.
struct ScreenshotPlugin;

#[derive(Resource, Default)]
struct Progress {
    frames_shown: u32,
    requested: bool,
    left_for_the_room: bool,
    turned: bool,
    /// The bamboo's picture was asked for (taken before the window's).
    bamboo_pictured: bool,
}

/// Where the picture of the room's play is taken from: between the rug and
/// the bamboo, the dartboard to the right.
const VANTAGE: Vec3 = Vec3::new(4.0, 0.0, -1.5);
/// Where a child sits to read a picture book on the wall screen: the front row.
const SEAT_BEFORE_THE_SCREEN: Vec3 = Vec3::new(-0.3, 0.0, -1.0);

impl Plugin for ScreenshotPlugin {
    fn build(&self, app: &mut App) {
        // The headset's messages exist without the headset's plugins too (--no-xr): nobody reads them then.
        app.add_message::<bevy_mod_xr::session::XrRequestExitMessage>()
            .add_message::<bevy_mod_xr::session::XrCreateSessionMessage>()
            .init_resource::<Progress>()
            .init_resource::<tsunagu_client::headset::panel::ToggleBoard>()
            .add_systems(Last, (count_and_capture, after_the_pictures).in_set(PictureTaking));
    }
}

/// Pictures not saved yet, and what follows them.
#[derive(Resource)]
struct AfterPictures {
    left: Arc<AtomicUsize>,
    /// The picture's file (the one after leaving the headset is named after it).
    path: PathBuf,
    /// The headset's way out and back, once the pictures are saved.
    round_trip: Option<RoundTrip>,
}

/// Where the way out of the headset and back has got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoundTrip {
    /// Pictures of the headset being taken.
    Picturing,
    /// The board opened with the wrist menu's button, for this many frames.
    Board(u32),
    /// The left eye pictured again, with the board in front of it.
    PicturingBoard,
    /// Asked to leave, as the wrist menu's button does.
    Leaving,
    /// On the screen for this many frames.
    OnScreen(u32),
    /// Asked to start again, as the HUD's button does; the headset's frames then.
    Back(u64),
}

/// Frames on the screen before its picture: the window draws every frame again.
const FRAMES_ON_SCREEN: u32 = 10;
/// Frames in the headset again before leaving for good.
const FRAMES_BACK: u64 = 5;

/// Once the pictures are saved: exit, or (in a headset) leave it, picture
/// the screen, come back, and exit.
fn after_the_pictures(mut commands: Commands, after: Option<ResMut<AfterPictures>>, mut headset: HeadsetSteps, mut exit: MessageWriter<AppExit>) {
    let Some(mut after) = after else { return };
    let saved = after.left.load(Ordering::SeqCst) == 0;
    let state = headset.state.as_deref().copied();
    match after.round_trip {
        None if saved => {
            exit.write(AppExit::Success);
        }
        Some(RoundTrip::Picturing) if saved => {
            // As the wrist menu's board button does.
            headset.open_board.0 = true;
            after.round_trip = Some(RoundTrip::Board(0));
        }
        Some(RoundTrip::Board(frames)) if frames < FRAMES_ON_SCREEN => after.round_trip = Some(RoundTrip::Board(frames + 1)),
        Some(RoundTrip::Board(_)) => {
            info!("tsunagu: headset: the board is open: {}", !headset.boards.is_empty());
            save_picture(&mut commands, left_eye(), beside(&after.path, "left-eye-board"), &after.left);
            after.round_trip = Some(RoundTrip::PicturingBoard);
        }
        Some(RoundTrip::PicturingBoard) if saved => {
            if let Some(rig) = headset.rig.as_mut() {
                tsunagu_client::headset::leave_the_headset(rig, &mut headset.leave);
            }
            after.round_trip = Some(RoundTrip::Leaving);
        }
        Some(RoundTrip::Leaving) if state == Some(XrState::Available) => {
            info!("tsunagu: headset: on the screen now (shown: {:?})", headset.mode.as_deref());
            after.round_trip = Some(RoundTrip::OnScreen(0));
        }
        Some(RoundTrip::OnScreen(frames)) if frames < FRAMES_ON_SCREEN => after.round_trip = Some(RoundTrip::OnScreen(frames + 1)),
        Some(RoundTrip::OnScreen(_)) => {
            let path = beside(&after.path, "after-headset");
            info!("tsunagu: headset: saving the screen after leaving it to {}", path.display());
            save_picture(&mut commands, Screenshot::primary_window(), path, &after.left);
            headset.start.write_default();
            after.round_trip = Some(RoundTrip::Back(headset.rig.as_ref().map_or(0, |r| r.frames)));
        }
        Some(RoundTrip::Back(frames_before)) if state == Some(XrState::Running) => {
            let frames = headset.rig.as_ref().map_or(0, |r| r.frames);
            if frames >= frames_before + FRAMES_BACK && saved {
                info!("tsunagu: headset: back in the headset after the screen: {} frames", frames - frames_before);
                exit.write(AppExit::Success);
            }
        }
        _ => {}
    }
}

/// Take `picture` into `file`, counted in `left` until it is saved.
fn save_picture(commands: &mut Commands, picture: Screenshot, file: PathBuf, left: &Arc<AtomicUsize>) {
    left.fetch_add(1, Ordering::SeqCst);
    let left = left.clone();
    commands.spawn(picture).observe(save_to_disk(file)).observe(move |_: On<ScreenshotCaptured>| {
        left.fetch_sub(1, Ordering::SeqCst);
    });
}

/// The picture `path`'s sibling for `what`: room.png → room-what.png.
fn beside(path: &std::path::Path, what: &str) -> PathBuf {
    path.with_file_name(format!("{}-{what}.png", path.file_stem().map_or("tsunagu".into(), |s| s.to_string_lossy())))
}

/// What the headset's left eye shows, from the runtime's swapchain.
fn left_eye() -> Screenshot {
    Screenshot::texture_view(bevy::camera::ManualTextureViewHandle(bevy_mod_openxr::render::XR_TEXTURE_INDEX))
}

/// The headset's state and its two buttons' messages, for the way out and back.
#[derive(bevy::ecs::system::SystemParam)]
struct HeadsetSteps<'w, 's> {
    state: Option<Res<'w, XrState>>,
    mode: Option<Res<'w, tsunagu_client::headset::DisplayMode>>,
    rig: Option<ResMut<'w, tsunagu_client::headset::HeadsetRig>>,
    leave: MessageWriter<'w, bevy_mod_xr::session::XrRequestExitMessage>,
    start: MessageWriter<'w, bevy_mod_xr::session::XrCreateSessionMessage>,
    open_board: ResMut<'w, tsunagu_client::headset::panel::ToggleBoard>,
    boards: Query<'w, 's, (), With<tsunagu_client::headset::panel::Board>>,
}

/// What is showing, for the screenshot's log line (tests read it).
#[derive(bevy::ecs::system::SystemParam)]
struct OnScreen<'w, 's> {
    avatars: Query<'w, 's, &'static tsunagu_client::kit::room::AvatarInfo>,
    gestures: Query<'w, 's, (), With<tsunagu_client::kit::room::PlayingGesture>>,
    stamps: Query<'w, 's, &'static Visibility, With<tsunagu_client::expression::StampPop>>,
    bubbles: Query<'w, 's, (&'static Visibility, &'static Children), With<tsunagu_client::chat::ChatBubble>>,
    texts: Query<'w, 's, &'static Text>,
    things: Query<'w, 's, (&'static tsunagu_client::kit::room::Thing, &'static Transform, &'static Visibility)>,
    wishes: Query<'w, 's, (), With<tsunagu_client::play::WishStrip>>,
    hands: Option<Res<'w, tsunagu_client::kit::net::Connection>>,
    ward: Res<'w, tsunagu_client::kit::scene::Ward>,
    cards: tsunagu_client::kit::hud::CardsOnScreen<'w, 's>,
    cameras: Query<'w, 's, (Entity, &'static Camera), With<tsunagu_client::kit::me::MainCamera>>,
}

/// The room's play as the picture shows it.
struct Play {
    /// The ball is flying (up, and nobody holds it).
    ball_flying: bool,
    /// Darts stuck in the board.
    darts_in_board: usize,
    /// Wishes on the bamboo.
    wishes: usize,
}

impl OnScreen<'_, '_> {
    /// How much of the window the HUD's cards cover (0 to 1), from their
    /// laid-out rectangles, overlaps counted once (on a 4-pixel grid); and
    /// how many pairs of cards lie over each other.
    fn ui_cover(&self) -> Option<(f32, usize)> {
        let (camera_entity, camera) = self.cameras.single().ok()?;
        let screen = self.cards.screen(camera)?;
        let rects = self.cards.rects(camera_entity);
        const CELL: f32 = 4.0;
        let (columns, rows) = ((screen.width() / CELL) as usize, (screen.height() / CELL) as usize);
        let mut covered = 0usize;
        for row in 0..rows {
            for column in 0..columns {
                let at = screen.min + Vec2::new((column as f32 + 0.5) * CELL, (row as f32 + 0.5) * CELL);
                covered += usize::from(rects.iter().any(|r| r.contains(at)));
            }
        }
        let overlaps = rects
            .iter()
            .enumerate()
            .flat_map(|(i, a)| rects[i + 1..].iter().map(move |b| a.intersect(*b)))
            .filter(|both| both.width() > 1.0 && both.height() > 1.0)
            .count();
        Some((covered as f32 / (columns * rows).max(1) as f32, overlaps))
    }

    /// (avatars, gesturing, hands up, stamps shown, bubbles shown, a bubble in Japanese)
    fn count(&self) -> (usize, usize, usize, usize, usize, bool) {
        let shown = |v: &Visibility| *v != Visibility::Hidden;
        let bubbles: Vec<&Children> = self.bubbles.iter().filter(|(v, _)| shown(v)).map(|(_, c)| c).collect();
        let japanese = bubbles
            .iter()
            .flat_map(|c| c.iter())
            .filter_map(|e| self.texts.get(e).ok())
            .any(|t| t.0.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)));
        (
            self.avatars.iter().count(),
            self.gestures.iter().count(),
            self.avatars.iter().filter(|a| a.0.hand_raised).count(),
            self.stamps.iter().filter(|v| shown(v)).count(),
            bubbles.len(),
            japanese,
        )
    }

    fn play(&self) -> Play {
        let board = self.ward.0.dartboard;
        let shown = |v: &Visibility| *v != Visibility::Hidden;
        let held = |id: u16| self.hands.as_ref().is_some_and(|c| c.read(|core| core.room().thing(id).is_some_and(|t| t.holder.is_some())));
        let things: Vec<(u16, Vec3)> = self.things.iter().filter(|(_, _, v)| shown(v)).map(|(t, at, _)| (t.0, at.translation)).collect();
        Play {
            ball_flying: things.iter().any(|(id, at)| *id == 0 && at.y > 1.1 && !held(0)),
            darts_in_board: things
                .iter()
                .filter(|(id, at)| {
                    tsunagu_sim::objects::kind_of(*id) == Some(tsunagu_sim::objects::ObjectKind::Dart)
                        && at.x > board.center.x - 0.15
                        && (*at - board.center).with_x(0.0).length() < board.radius
                })
                .count(),
            wishes: self.wishes.iter().count(),
        }
    }
}

/// Where the app is: its state, its clock, and whether I am in the room yet.
#[derive(bevy::ecs::system::SystemParam)]
struct Moment<'w, 's> {
    state: Res<'w, State<AppState>>,
    time: Res<'w, Time<Real>>,
    player: Query<'w, 's, (), With<LocalPlayer>>,
}

/// What the scenario moves for the picture: where I walk and look, the
/// wishes' panel, and (at rest) the folds.
#[derive(bevy::ecs::system::SystemParam)]
struct Staging<'w> {
    heading: ResMut<'w, tsunagu_client::kit::me::Heading>,
    drawer: ResMut<'w, tsunagu_client::kit::hud::OpenDrawer>,
    unfolded: ResMut<'w, tsunagu_client::hud::Unfolded>,
}

/// Saving the bamboo's picture, as a child's button does.
#[derive(bevy::ecs::system::SystemParam)]
struct BambooPicture<'w, 's> {
    images: ResMut<'w, Assets<Image>>,
    ward: Res<'w, tsunagu_client::kit::scene::Ward>,
    cameras: Query<'w, 's, (), With<tsunagu_client::play::PictureCamera>>,
}

fn count_and_capture(
    mut commands: Commands,
    (request, mut progress, wall): (Res<ScreenshotRequest>, ResMut<Progress>, Option<Res<wall::WallScene>>),
    on_screen: OnScreen,
    moment: Moment,
    staging: Staging,
    bamboo: BambooPicture,
    (headset, mut exit): (Headset, MessageWriter<AppExit>),
) {
    let Moment { state, time, player } = moment;
    let Staging { mut heading, mut drawer, mut unfolded } = staging;
    let BambooPicture { mut images, ward, cameras: picture_cameras } = bamboo;
    let options = &*request;
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
    if options.at_rest && progress.frames_shown == 1 {
        // As after the first minutes: the help and the notices folded away.
        unfolded.notices_until = 0.0;
        unfolded.help_until = 0.0;
    }
    if let Some(open) = options.drawer {
        drawer.open(open, time.elapsed_secs_f64());
    }
    let staged = options.bots >= 5 && !options.at_rest;
    if options.wall && progress.frames_shown == 1 {
        // A child's seat in the front row, looking at the screen.
        heading.walk_target = Some(SEAT_BEFORE_THE_SCREEN);
    } else if options.wall && heading.walk_target.is_none() {
        heading.yaw = 0.0;
    }
    if staged {
        // Walk over to the play corner, then look at the ball, the darts and the bamboo.
        if progress.frames_shown == 1 {
            heading.walk_target = Some(VANTAGE);
        } else if heading.walk_target.is_none() && !progress.turned {
            heading.yaw = -1.15;
            progress.turned = true;
            // The wishes listed to read, as a child opening the panel sees them.
            drawer.open(tsunagu_client::kit::hud::Drawer::Wishes, time.elapsed_secs_f64());
        }
    }
    // With practice guests, wait (a while at most) until one waves, one's
    // stamp and one's chat bubble are all in the picture.
    let (avatars, gesturing, hands_up, stamps, bubbles, japanese) = on_screen.count();
    let play = on_screen.play();
    let everyone_expressing = options.bots < 3 || (gesturing > 0 && stamps > 0 && bubbles > 0);
    // With five guests, also their play: the ball up, the darts in, three wishes up.
    let everyone_playing = !staged || (progress.turned && play.ball_flying && play.darts_in_board == 3 && play.wishes >= 3);
    let waited_enough = progress.frames_shown >= request.frames.saturating_mul(8);
    let wall_ready = !options.wall || wall.is_some_and(|w| w.ready);
    let ready = progress.frames_shown >= request.frames && ((everyone_expressing && everyone_playing && wall_ready) || waited_enough);
    // With play in the picture, first save the bamboo's as a child's button would.
    if ready && staged && !progress.bamboo_pictured {
        tsunagu_client::play::picture_the_bamboo(&mut commands, &mut images, &ward.0, &tsunagu_client_core::settings::pictures_folder());
        progress.bamboo_pictured = true;
        return;
    }
    if ready && picture_cameras.is_empty() {
        progress.requested = true;
        let path = request.path.clone();
        info!(
            "tsunagu: on screen after {} frames: {avatars} avatars, {gesturing} gesturing, {hands_up} hands up, {stamps} stamps, {bubbles} chat bubbles (Japanese: {japanese})",
            progress.frames_shown
        );
        info!(
            "tsunagu: play on screen: ball flying: {}, {} darts in the board, {} wishes on the bamboo",
            play.ball_flying, play.darts_in_board, play.wishes
        );
        if let Some((covered, overlaps)) = on_screen.ui_cover() {
            info!("tsunagu: the UI's cards cover {:.1} % of the window; {overlaps} pairs of cards overlap", covered * 100.0);
        }
        info!("tsunagu: saving screenshot to {}", path.display());
        // In a headset, also what the left eye sees, from the runtime's swapchain.
        let eyes = headset.report();
        let left = Arc::new(AtomicUsize::new(0));
        if eyes {
            let eye = beside(&path, "left-eye");
            info!("tsunagu: headset: saving the left eye's view to {}", eye.display());
            save_picture(&mut commands, left_eye(), eye, &left);
            // The wrist menu as drawn for the panel, to be read at full size.
            if let Some(menu) = &headset.menu {
                save_picture(&mut commands, Screenshot::image(menu.image.clone()), beside(&path, "wrist-menu"), &left);
            }
        }
        save_picture(&mut commands, Screenshot::primary_window(), path.clone(), &left);
        commands.insert_resource(AfterPictures { left, path, round_trip: eyes.then_some(RoundTrip::Picturing) });
    }
}

/// The headset, for the screenshot's log (tests read it).
#[derive(bevy::ecs::system::SystemParam)]
struct Headset<'w> {
    running: Option<Res<'w, bevy_mod_xr::session::XrState>>,
    rig: Option<Res<'w, tsunagu_client::headset::HeadsetRig>>,
    seen: Option<Res<'w, tsunagu_client::bots::HostHeadSeen>>,
    menu: Option<Res<'w, tsunagu_client::headset::wrist_menu::MenuPicture>>,
}

impl Headset<'_> {
    /// Log what the headset did; true if a session is running (its eye can be pictured).
    fn report(&self) -> bool {
        let running = matches!(self.running.as_deref(), Some(bevy_mod_xr::session::XrState::Running));
        if let Some(rig) = &self.rig
            && running
        {
            let moved = rig.head_path.map_or(0.0, |(first, last)| first.distance(last));
            // Where a guest draws my head, against where the headset has it now.
            let apart = match (rig.head_path, self.seen.as_ref().and_then(|s| s.latest)) {
                (Some((_, mine)), Some(seen)) => mine.distance(seen) * 1000.0,
                _ => f32::INFINITY,
            };
            let hands = self.seen.as_ref().is_some_and(|s| s.hands);
            if let Some((to_pose, to_send)) = rig.median_timings() {
                info!("tsunagu: headset: median per frame: input to pose {to_pose} us, motion to send {to_send} us");
            }
            if let Some(pace) = rig.frames_per_second() {
                info!("tsunagu: headset: {pace:.1} frames per second in the headset");
            }
            info!(
                "tsunagu: headset: {} frames in the headset, head moved {:.0} mm, a guest sees it {apart:.0} mm from there, hands seen: {hands}",
                rig.frames,
                moved * 1000.0,
            );
        }
        running
    }
}
