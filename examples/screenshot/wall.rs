//! The wall screen in the screenshot scenario (`--wall`): as the host (the
//! room's facilitator) I press the screen drawer's first file button (the
//! first picture or PDF of `--show`), point at the page once it is on my
//! wall, and the picture waits until three practice guests' drawings are
//! painted over it. Meanwhile each frame's time is kept, and logged for
//! the frames before the page went up, from it until the first line
//! arrived, and while the guests drew (docs/benchmarks.md).

use bevy::prelude::*;
use bevy_mod_xr::camera::XrCamera;
use tsunagu_client::AppState;
use tsunagu_client::kit::me::MainCamera;
use tsunagu_client::kit::net::{Connection, NetSet, SendRoomEvent};
use tsunagu_client::screen::{ScreenButton, WallPage, WallPages};
use tsunagu_protocol::{ClientEvent, Role, ScreenAction};

/// Frames before the page went up that its frames are compared with.
const FRAMES_BEFORE: usize = 60;
/// Frames in the room before the page is shown: walked to the seat, and
/// every pipeline compiled (until then frames skip what is not ready, and
/// are no fair measure).
const FRAMES_SETTLING: usize = 90;
/// Points of each of the three guests' drawings (41, 41 and 11, and each
/// piece repeats the last one's end): all drawn by then.
const DOODLE_POINTS: [usize; 3] = [47, 47, 12];
/// Frames after the drawings are whole before the picture: the board is painted at most 10 times a second.
const FRAMES_TO_PAINT: u32 = 8;

/// How far the wall's scene has got.
#[derive(Resource, Default)]
pub struct WallScene {
    /// The stand-in for the drawer's first file button, once spawned; pressed the frame after.
    button: Option<Entity>,
    pressed: bool,
    /// Each frame's time, milliseconds.
    frame_ms: Vec<f32>,
    /// The frame the page went up on my wall.
    page_up_at: Option<usize>,
    /// The frame the first line came.
    first_line_at: Option<usize>,
    /// Frames since all three drawings were whole.
    painted_for: u32,
    /// The page is up, pointed at, drawn on, and painted.
    pub ready: bool,
}

/// Shows the page, points, and says when the wall is ready for the picture.
pub struct WallPlugin {
    /// Practice guests who draw (the first three do).
    pub drawers: usize,
}

/// How many people's drawings the picture waits for.
#[derive(Resource)]
struct Drawers(usize);

impl Plugin for WallPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Drawers(self.drawers));
        // Pressed before the drawer's handler looks, the same frame: the UI's
        // own focus system would set the stand-in back to None the next.
        app.init_resource::<WallScene>()
            .add_systems(Update, (press_show.before(NetSet::Apply), watch_the_wall.after(NetSet::Apply)).run_if(in_state(AppState::InRoom)));
    }
}

/// Press the drawer's first file button as a nurse would, once I am the room's facilitator.
fn press_show(mut commands: Commands, mut scene: ResMut<WallScene>, connection: Option<Res<Connection>>) {
    if scene.pressed || scene.frame_ms.len() < FRAMES_SETTLING {
        return;
    }
    match scene.button {
        Some(button) => {
            commands.entity(button).insert(Interaction::Pressed);
            scene.pressed = true;
        }
        None if connection.is_some_and(|c| c.read(|core| core.in_room() && core.role() == Some(Role::Facilitator))) => {
            scene.button = Some(commands.spawn((Button, ScreenButton::Show(0), Interaction::None, children![Text::new("")])).id());
        }
        None => {}
    }
}

/// (median, worst) of some frames' times.
fn median_and_worst(frames: &[f32]) -> (f32, f32) {
    let mut sorted = frames.to_vec();
    sorted.sort_by(f32::total_cmp);
    (sorted.get(sorted.len() / 2).copied().unwrap_or(0.0), sorted.last().copied().unwrap_or(0.0))
}

fn watch_the_wall(
    time: Res<Time<Real>>,
    mut scene: ResMut<WallScene>,
    pages: Res<WallPages>,
    connection: Option<Res<Connection>>,
    mut send: MessageWriter<SendRoomEvent>,
    (walls, drawers): (Query<&GlobalTransform, With<WallPage>>, Res<Drawers>),
    cameras: Query<(&Camera, &GlobalTransform, Has<MainCamera>, Option<&XrCamera>)>,
) {
    let frame = scene.frame_ms.len();
    scene.frame_ms.push(time.delta_secs() * 1000.0);
    let page_up = pages.shown.as_ref().is_some_and(|hash| pages.ready.contains_key(hash));
    if page_up && scene.page_up_at.is_none() {
        scene.page_up_at = Some(frame);
        info!("tsunagu: wall: the page is on the wall after {frame} frames in the room");
        // "Where is the house?": the reader points at its door.
        send.write(SendRoomEvent(ClientEvent::Screen(ScreenAction::Point(Some([2660, 2950])))));
    }
    let (people, points) = connection.map_or((0, 0), |c| {
        c.read(|core| {
            let lines = core.screen().lines();
            let mut people: Vec<_> = lines.iter().map(|l| l.by).collect();
            people.sort_unstable();
            people.dedup();
            (people.len(), lines.iter().map(|l| l.points.len()).sum::<usize>())
        })
    });
    if scene.page_up_at.is_some() && points > 0 && scene.first_line_at.is_none() {
        scene.first_line_at = Some(frame);
    }
    if page_up && people >= drawers.0 && points >= DOODLE_POINTS[..drawers.0.min(3)].iter().sum() {
        scene.painted_for += 1;
    }
    if let (false, Some(up), Some(first_line)) = (scene.ready, scene.page_up_at, scene.first_line_at)
        && scene.painted_for >= FRAMES_TO_PAINT
    {
        scene.ready = true;
        info!("tsunagu: wall: a page on the wall, pointed at, with {people} people's drawings ({points} points)");
        let frames = &scene.frame_ms;
        let (before, _) = median_and_worst(&frames[up.saturating_sub(FRAMES_BEFORE)..up]);
        let (page, page_worst) = median_and_worst(&frames[up..first_line]);
        let (drawing, drawing_worst) = median_and_worst(&frames[first_line..]);
        info!(
            "tsunagu: wall: frame time, median (worst): {} frames before the page went up {before:.1} ms; {} frames from it {page:.1} ms ({page_worst:.1}); {} frames while the guests drew {drawing:.1} ms ({drawing_worst:.1})",
            up.min(FRAMES_BEFORE),
            first_line - up,
            frames.len() - first_line
        );
        // Where the page is in the window (and in a headset, in the left
        // eye), for the test to look there.
        let Ok(wall) = walls.single() else { return };
        for (camera, eye, main, xr) in &cameras {
            let seen_by = match (main, xr) {
                (true, _) => "the window",
                (false, Some(XrCamera(0))) => "the left eye",
                _ => continue,
            };
            let corners: Vec<Vec2> = [[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]]
                .into_iter()
                .filter_map(|[x, y]| camera.world_to_viewport(eye, wall.transform_point(Vec3::new(x, y, 0.0))).ok())
                .collect();
            let (low, high) = corners.iter().fold((Vec2::MAX, Vec2::MIN), |(low, high), c| (low.min(*c), high.max(*c)));
            if corners.len() == 4 {
                info!("tsunagu: wall: the page lies at x {:.0} to {:.0} and y {:.0} to {:.0} in {seen_by}", low.x, high.x, low.y, high.y);
            }
        }
    }
}
