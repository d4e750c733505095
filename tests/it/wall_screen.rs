//! The wall screen in the Bevy client, headless, through a real room
//! server: a nurse's app shows a picture from its folder and a child's app
//! puts the page on its wall (decoded off the render thread, the room's
//! bytes byte for byte); a file that lies about its size is refused with a
//! kind line on the nurse's screen and nothing on the child's; a child's
//! drawing is painted on the board, and saved with the page as a picture.

use std::time::Duration;

use bevy::prelude::*;
use tsunagu_client::screen::{Said, ScreenButton, ScreenStatus, WallBoard, WallPage, WallPages};
use tsunagu_client_core::ClientCore;
use tsunagu_protocol::{AvatarLook, ClientEvent, Hello, Ink, Pen, StrokePiece, pack_points};
use tsunagu_testkit::{ROOM_CODE, STAFF_CODE, Stepper, TICK};

fn app_for(stepper: &Stepper, code: &str, name: &str, device: u64, folder: &std::path::Path) -> App {
    let hello = Hello::new(code, name, AvatarLook::with_color([255, 160, 80])).from_device(device);
    let mut app = tsunagu_client::headless::room_app(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO), TICK);
    app.insert_resource(tsunagu_client::ShowFrom(vec![folder.join("show")]));
    app.insert_resource(tsunagu_client::PicturesFolder(folder.join("saved")));
    app
}

fn frames(stepper: &mut Stepper, apps: &mut [&mut App], n: usize) {
    for _ in 0..n {
        stepper.step(TICK);
        for app in apps.iter_mut() {
            app.update();
        }
    }
}

/// Press the screen drawer's button `which` (a stand-in with the same marker).
fn press(app: &mut App, which: ScreenButton) {
    let entity = app.world_mut().spawn((Button, which, Interaction::None, children![Text::new("")])).id();
    app.update();
    app.world_mut().entity_mut(entity).insert(Interaction::Pressed);
}

/// The page on `app`'s wall: shown, and the picture it shows.
fn wall_page(app: &mut App) -> Option<(u32, u32, [u8; 4])> {
    let mut walls = app.world_mut().query_filtered::<(&Visibility, &MeshMaterial3d<StandardMaterial>), With<WallPage>>();
    let (visibility, material) = walls.single(app.world()).ok()?;
    if *visibility == Visibility::Hidden {
        return None;
    }
    let texture = app.world().resource::<Assets<StandardMaterial>>().get(&material.0)?.base_color_texture.clone()?;
    let image = app.world().resource::<Assets<Image>>().get(&texture)?;
    let pixel = image.data.as_ref()?.get(..4)?.try_into().ok()?;
    Some((image.width(), image.height(), pixel))
}

#[test]
fn a_page_shown_by_the_nurse_reaches_the_childs_wall_and_a_drawing_is_saved_with_it() {
    // Making a page of a big photo keeps a core busy for a while: not while sound plays in real time.
    let _turn = crate::one_at_a_time();
    let folder = std::env::temp_dir().join(format!("tsunagu-wall-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(folder.join("show")).unwrap();
    // A big photo (made smaller for the wall) and a "photo" whose header says 50,000 × 50,000.
    std::fs::write(folder.join("show/a-sunflower.png"), tsunagu_testkit::book::png(2400, 1350, [250, 200, 40])).unwrap();
    let bomb = tsunagu_testkit::book::lying_png(50_000, 50_000);
    std::fs::write(folder.join("show/b-huge.png"), bomb).unwrap();

    let mut stepper = Stepper::new(4);
    let mut nurse = app_for(&stepper, STAFF_CODE, "かんごしさん", 1, &folder);
    let mut child = app_for(&stepper, ROOM_CODE, "あおい", 2, &folder);
    frames(&mut stepper, &mut [&mut nurse, &mut child], 8);
    assert!(wall_page(&mut child).is_none(), "nothing on the wall before anything is shown");

    // The nurse shows the lying file: refused kindly, nothing goes to the room.
    press(&mut nurse, ScreenButton::Show(1));
    frames(&mut stepper, &mut [&mut nurse, &mut child], 1);
    let started = std::time::Instant::now();
    while nurse.world().resource::<ScreenStatus>().0 == Some(Said::Line("screen-preparing")) && started.elapsed() < Duration::from_secs(30) {
        frames(&mut stepper, &mut [&mut nurse, &mut child], 1);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(nurse.world().resource::<ScreenStatus>().0, Some(Said::Line("screen-problem-too-big")));
    assert!(stepper.server.room().screen().showing().pages.is_empty(), "the room was offered nothing");

    // The sunflower: the child's wall shows it, 1600 × 900, yellow.
    press(&mut nurse, ScreenButton::Show(0));
    // Made into a page and decoded on the task pool: wait in real time (a loaded test machine is slow).
    let mut shown = None;
    let started = std::time::Instant::now();
    while shown.is_none() && started.elapsed() < Duration::from_secs(60) {
        frames(&mut stepper, &mut [&mut nurse, &mut child], 1);
        std::thread::sleep(Duration::from_millis(5));
        // Its small preview shows first; then the page itself.
        shown = wall_page(&mut child).filter(|(w, _, _)| *w > tsunagu_protocol::screen::MAX_PREVIEW_SIDE);
    }
    let (w, h, pixel) = shown.expect("the page never reached the child's wall");
    assert_eq!((w, h), (1600, 900), "the 2400 × 1350 photo was made a 1600 × 900 page");
    assert!(pixel[0] > 230 && pixel[1] > 180 && pixel[2] < 70, "not the sunflower's yellow: {pixel:?}");
    assert_eq!(nurse.world().resource::<ScreenStatus>().0, Some(Said::Shown(1)));
    assert!(wall_page(&mut nurse).is_some(), "the nurse sees it too");

    // A friend draws: the child's board shows it, and the child saves a picture.
    let friend = stepper.connect(ROOM_CODE, "ひなた");
    frames(&mut stepper, &mut [&mut nurse, &mut child], 4);
    let line = StrokePiece { stroke: 1, ink: Ink::Red, pen: Pen::Thick, points: pack_points(&[[200, 2048], [3900, 2048]]) };
    stepper.send_event(friend, ClientEvent::Stroke(line));
    frames(&mut stepper, &mut [&mut nurse, &mut child], 6);
    let board_shown =
        child.world_mut().query_filtered::<&Visibility, With<WallBoard>>().single(child.world()).is_ok_and(|v| *v == Visibility::Inherited);
    assert!(board_shown, "the board is not shown with a line on it");
    press(&mut child, ScreenButton::Save);
    frames(&mut stepper, &mut [&mut nurse, &mut child], 2);
    let saved: Vec<_> = std::fs::read_dir(folder.join("saved")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(saved.len(), 1, "one picture saved: {saved:?}");
    let picture = image::open(&saved[0]).unwrap().to_rgb8();
    let (pw, ph) = picture.dimensions();
    let middle = picture.get_pixel(pw / 2, ph / 2);
    let above = picture.get_pixel(pw / 2, ph / 4);
    assert!(middle[0] > 200 && middle[1] < 120, "the red line across the middle: {middle:?}");
    assert!(above[0] > 230 && above[1] > 180 && above[2] < 70, "the page above it: {above:?}");
    assert!(child.world().resource::<WallPages>().ready.len() <= 4);
    let _ = std::fs::remove_dir_all(&folder);
}

/// The part of `picture` where the scenario's log says the page lies, as `seen_by` (the window, the left eye) sees it.
pub fn page_in(picture: &crate::screenshot::Picture, log: &str, seen_by: &str) -> crate::screenshot::Picture {
    let place = log
        .lines()
        .find(|l| l.contains("wall: the page lies at") && l.ends_with(seen_by))
        .unwrap_or_else(|| panic!("no place of the page in {seen_by}:\n{log}"));
    let numbers: Vec<u32> = place.split_whitespace().filter_map(|w| w.parse::<f32>().ok()).map(|n| n.max(0.0) as u32).collect();
    let [x0, x1, y0, y1] = numbers[numbers.len().saturating_sub(4)..] else { panic!("no corners in: {place}") };
    let (x1, y1) = (x1.min(picture.width), y1.min(picture.height));
    crate::screenshot::Picture {
        width: x1.saturating_sub(x0),
        height: y1.saturating_sub(y0),
        rgb: (y0..y1).flat_map(|y| (x0..x1).map(move |x| (y * picture.width + x) as usize)).map(|i| picture.rgb[i]).collect(),
    }
}

/// How many of `picture`'s pixels are within `within` of `colour` on every channel.
pub fn pixels_near(picture: &crate::screenshot::Picture, colour: [u8; 3], within: u8) -> usize {
    picture.rgb.iter().filter(|p| p.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= within)).count()
}

#[test]
fn a_picture_book_page_on_the_wall_from_a_childs_seat_with_three_friends_drawing() {
    let _turn = crate::one_at_a_time();
    let dir = std::env::temp_dir().join(format!("tsunagu-it-wall-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let page = dir.join("book-page-1.png");
    tsunagu_testkit::book::book_page(0).save(&page).expect("the book's page written");
    let path = dir.join("wall.png");
    let mut cmd = crate::screenshot::client_command();
    cmd.args(["--screenshot", &path.to_string_lossy(), "--frames", "30", "--bots", "3", "--lang", "ja", "--at-rest", "--no-xr", "--wall"]);
    cmd.arg("--show").arg(&page);
    cmd.env_remove("XDG_RUNTIME_DIR").env_remove("PULSE_SERVER").env("HOME", dir.join("home")).env_remove("XDG_CONFIG_HOME");
    let (ok, log) = crate::screenshot::run_with_limit(cmd, Duration::from_secs(300));
    assert!(ok, "the client failed:\n{log}");
    assert!(log.contains("with 3 people's drawings"), "the page and three drawings never made it to the wall:\n{log}");
    let frames = log.lines().find(|l| l.contains("wall: frame time")).unwrap_or_else(|| panic!("no frame times around the page:\n{log}"));
    eprintln!("{frames}");

    // Where the page is in the picture (the scenario asks the camera), and
    // what is there: the page's own tones, the three friends' red, blue and
    // green lines, and the reader's warm dot.
    let picture = crate::screenshot::read_png(&path);
    let on_page = page_in(&picture, &log, "the window");
    assert!(on_page.width > picture.width / 4, "the page is too small to read from a child's seat: {} pixels wide", on_page.width);
    let tones: std::collections::HashSet<[u8; 3]> = on_page.rgb.iter().map(|p| p.map(|c| c >> 3)).collect();
    assert!(tones.len() > 100, "the page is nearly one colour ({} tones): not the book's page", tones.len());
    let sky = pixels_near(&on_page, [130, 170, 197], 20);
    assert!(sky * 5 > on_page.rgb.len(), "the page's sky covers {sky} of {} pixels", on_page.rgb.len());
    for (what, ink) in [("red sun", Ink::Red), ("blue wave", Ink::Blue), ("green star", Ink::Green)] {
        let rgba = tsunagu_client_core::pages::ink_colour(ink).0;
        let seen = pixels_near(&on_page, [rgba[0], rgba[1], rgba[2]], 40);
        assert!(seen > 100, "the {what} is not on the page ({seen} pixels of its colour)");
    }
    assert!(pixels_near(&on_page, [203, 160, 92], 12) > 20, "the reader's dot is not on the page");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn in_a_headset_the_right_hand_draws_on_the_screen_and_its_trigger_does_not_teleport() {
    let folder = std::env::temp_dir().join(format!("tsunagu-wall-hand-{}", std::process::id()));
    let mut stepper = Stepper::new(4);
    let mut child = app_for(&stepper, ROOM_CODE, "あおい", 2, &folder);
    let friend = stepper.connect(ROOM_CODE, "ひなた");
    frames(&mut stepper, &mut [&mut child], 8);
    child.world_mut().resource_mut::<tsunagu_client::screen::DrawingMode>().on = true;
    // Seated two metres from the screen, the hand at chest height, aiming
    // across the screen while the trigger is held, then letting go.
    let (centre, half) = tsunagu_sim::WardLayout::ward().screen;
    let hand = centre.with_y(1.0) + Vec3::Z * 2.0;
    for step in 0..12 {
        let aim = centre + Vec3::new(-half.x * 0.6 + half.x * 0.1 * step as f32, 0.0, 0.1);
        let mut hands = child.world_mut().resource_mut::<tsunagu_client::kit::me::Hands>();
        hands.ray = Some((hand, (aim - hand).normalize()));
        hands.trigger_held = step < 10;
        frames(&mut stepper, &mut [&mut child], 1);
        if step < 10 {
            assert!(child.world().resource::<tsunagu_client::kit::me::Hands>().on_screen, "the trigger on the screen would teleport");
        }
    }
    frames(&mut stepper, &mut [&mut child], 4);
    let me = child.world().resource::<tsunagu_client::kit::net::Connection>().read(|core| core.my_id()).expect("in the room");
    assert!(stepper.server.room().screen().has_lines_of(me), "the room has no line from the hand");
    let seen = stepper.clients[friend].core.screen().lines().iter().filter(|l| l.by == me).map(|l| l.points.len()).sum::<usize>();
    assert!(seen >= 8, "the friend sees {seen} points of the hand's line");
    // Drawing off, the hand on the screen no longer holds the trigger.
    child.world_mut().resource_mut::<tsunagu_client::screen::DrawingMode>().on = false;
    frames(&mut stepper, &mut [&mut child], 1);
    assert!(!child.world().resource::<tsunagu_client::kit::me::Hands>().on_screen);
}

#[test]
fn while_a_page_is_on_its_way_its_preview_is_on_the_wall() {
    let folder = std::env::temp_dir().join(format!("tsunagu-wall-preview-{}", std::process::id()));
    let mut stepper = Stepper::new(4);
    let mut child = app_for(&stepper, ROOM_CODE, "あおい", 2, &folder);
    let nurse = stepper.connect(STAFF_CODE, "かんごしさん");
    frames(&mut stepper, &mut [&mut child], 8);
    // The nurse's page and its preview; the page's own bytes held back, as on a slow link.
    let (info, bytes) = tsunagu_client_core::pages::page_from_pixels(&tsunagu_testkit::book::book_page(0)).expect("a page");
    let preview = tsunagu_client_core::pages::preview_of(&info, &bytes).expect("a preview");
    stepper.send_event(nurse, ClientEvent::Screen(tsunagu_protocol::ScreenAction::Show(vec![info.clone()])));
    stepper.send_event(nurse, ClientEvent::PagePreview(tsunagu_protocol::PagePreview { page: 0, bytes: preview }));
    let mut shown = None;
    let started = std::time::Instant::now();
    while shown.is_none() && started.elapsed() < Duration::from_secs(30) {
        frames(&mut stepper, &mut [&mut child], 1);
        std::thread::sleep(Duration::from_millis(5));
        shown = wall_page(&mut child);
    }
    let (w, h, _) = shown.expect("nothing on the wall while the page was on its way");
    assert!(w <= 320 && w * 9 == h * 16, "not the preview: {w} × {h}");
    let scale = child.world_mut().query_filtered::<&Transform, With<WallPage>>().single(child.world()).expect("the wall's page").scale;
    assert!((scale.x / scale.y - 16.0 / 9.0).abs() < 0.01, "stretched to the page's shape: {scale}");
    // The page itself arrives: it takes the preview's place.
    for (n, piece) in bytes.chunks(tsunagu_protocol::screen::MAX_PIECE_BYTES).enumerate() {
        let offset = (n * tsunagu_protocol::screen::MAX_PIECE_BYTES) as u32;
        stepper.send_event(nurse, ClientEvent::PagePiece(tsunagu_protocol::PagePiece { page: 0, offset, bytes: piece.to_vec() }));
    }
    let started = std::time::Instant::now();
    while wall_page(&mut child).is_none_or(|(w, _, _)| w != 1280) && started.elapsed() < Duration::from_secs(30) {
        frames(&mut stepper, &mut [&mut child], 1);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(wall_page(&mut child).map(|(w, h, _)| (w, h)), Some((1280, 720)), "the whole page in the preview's place");
}
