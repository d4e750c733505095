//! The headset on a real OpenXR runtime: Monado with a simulated headset, two
//! simulated controllers and its null compositor (no GPU, no display).
//! `cargo xtask test` builds it once from the vendored snapshot and names its
//! manifest in `TSUNAGU_TEST_XR_RUNTIME`; without one this test says it was
//! skipped, and so does the summary `cargo xtask test` prints, loudly.

use std::time::Duration;

use crate::screenshot::{client_command, read_png, run_with_limit};

/// The number after `label` in `line` ("head moved 26 mm" → 26).
fn number_after(line: &str, label: &str) -> f64 {
    line.split(label)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in: {line}"))
}

#[test]
fn on_a_simulated_headset_the_room_is_seen_upright_and_a_guest_sees_the_head_and_hands_move() {
    let Some(runtime) = std::env::var_os("TSUNAGU_TEST_XR_RUNTIME") else {
        eprintln!("SKIPPED: no OpenXR runtime for tests (TSUNAGU_TEST_XR_RUNTIME); `cargo xtask test` builds Monado when its snapshot is there");
        return;
    };
    let _turn = crate::one_at_a_time();
    let dir = std::env::temp_dir().join(format!("tsunagu-it-headset-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("room.png");
    // A picture book's page on the wall screen, the guest's sun drawn on it.
    let page = dir.join("book-page-1.png");
    tsunagu_testkit::book::book_page(0).save(&page).expect("the book's page written");
    let mut cmd = client_command();
    cmd.args(["--xr", "--screenshot", &path.to_string_lossy(), "--frames", "40", "--bots", "1", "--lang", "ja", "--wall"]);
    cmd.arg("--show").arg(&page);
    cmd.env("XR_RUNTIME_JSON", &runtime)
        .env("XRT_COMPOSITOR_NULL", "1")
        .env("SIMULATED_ENABLE", "1")
        .env("SIMULATED_LEFT", "simple")
        .env("SIMULATED_RIGHT", "simple")
        .env("XRT_COMPOSITOR_LOG", "warn")
        .env("OXR_NO_PRINTING", "1")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("PULSE_SERVER")
        .env("HOME", dir.join("home"))
        .env_remove("XDG_CONFIG_HOME");
    let (ok, log) = run_with_limit(cmd, Duration::from_secs(300));
    assert!(ok, "the client failed in the headset:\n{log}");
    assert!(log.contains("the room is in the headset (FOCUSED)"), "the session never reached FOCUSED:\n{log}");
    // On a CPU renderer the eyes are drawn with the simple shader: without it
    // the headset falls to a quarter of its pace (docs/benchmarks.md).
    if log.contains("tsunagu: software rendering (") {
        assert!(log.contains("software rendering: simple shading"), "the simple shader was not used on software rendering:\n{log}");
    }
    assert!(log.contains("frames per second in the headset"), "the headset's pace was not logged:\n{log}");
    let line = log.lines().find(|l| l.contains("frames in the headset")).unwrap_or_else(|| panic!("no headset summary:\n{log}"));
    eprintln!("{line}");
    assert!(number_after(line, "headset: ") >= 30.0, "too few frames in the headset: {line}");
    // The simulated head sways on its own: the avatar's head follows it, and
    // the guest (another client, through the server) sees it where it went.
    assert!(number_after(line, "head moved") >= 5.0, "the head did not follow the headset: {line}");
    assert!(number_after(line, "a guest sees it") <= 50.0, "the guest does not see the head where the headset has it: {line}");
    assert!(line.contains("hands seen: true"), "the controllers did not reach the avatar's hands as others see them: {line}");
    // What the left eye saw, from the runtime's own swapchain image.
    let eye = read_png(&dir.join("room-left-eye.png"));
    assert_eq!((eye.width, eye.height), (320, 240), "the simulated headset's eye is 320×240");
    let tones: std::collections::HashSet<[u8; 3]> = eye.rgb.iter().map(|p| p.map(|c| c >> 3)).collect();
    assert!(tones.len() > 40, "the eye saw nearly nothing ({} tones)", tones.len());
    // Upright: the warm wooden floor is below, the paler ceiling above
    // (red minus blue: about 75 on the floor, 35 on the ceiling).
    let warmth = |rows: std::ops::Range<u32>| {
        let pixels: Vec<&[u8; 3]> = rows.flat_map(|y| (0..eye.width).map(move |x| (y * eye.width + x) as usize)).map(|i| &eye.rgb[i]).collect();
        pixels.iter().map(|p| f64::from(p[0]) - f64::from(p[2])).sum::<f64>() / pixels.len() as f64
    };
    let (top, bottom) = (warmth(0..40), warmth(200..240));
    assert!(bottom > top + 20.0, "the floor is not below the ceiling (warmth: top {top:.0}, bottom {bottom:.0})");
    // The picture book's page on the wall, as the left eye sees it: the
    // page's sky over most of it, the guest's red sun and the reader's dot.
    let on_page = crate::wall_screen::page_in(&eye, &log, "the left eye");
    eprintln!("the page in the left eye: {} x {} pixels of 320 x 240", on_page.width, on_page.height);
    assert!(on_page.width >= 40, "the page is too small in the eye: {} pixels wide", on_page.width);
    let sky = crate::wall_screen::pixels_near(&on_page, [130, 170, 197], 25);
    assert!(sky * 5 > on_page.rgb.len(), "the page's sky covers {sky} of its {} pixels in the eye", on_page.rgb.len());
    assert!(crate::wall_screen::pixels_near(&on_page, [200, 89, 86], 35) > 5, "the guest's red sun is not on the page in the eye");
    // The wrist menu as its panel shows it: big buttons, drawn (not blank).
    let menu = read_png(&dir.join("room-wrist-menu.png"));
    assert_eq!((menu.width, menu.height), (640, 584));
    let tones: std::collections::HashSet<[u8; 3]> = menu.rgb.iter().map(|p| p.map(|c| c >> 3)).collect();
    assert!(tones.len() > 20, "the wrist menu's picture is nearly blank ({} tones)", tones.len());
    // The board (the desktop's cards, in the room) opened as the wrist menu's
    // button opens it: it is there in front of the eyes, changing what they see.
    assert!(log.contains("the board is open: true"), "the board did not open:\n{log}");
    let with_board = read_png(&dir.join("room-left-eye-board.png"));
    let middle = |picture: &crate::screenshot::Picture| -> Vec<[u8; 3]> {
        (140..200).flat_map(|y| (100..220).map(move |x| (y, x))).map(|(y, x)| picture.rgb[(y * picture.width + x) as usize]).collect()
    };
    let changed = middle(&eye).iter().zip(middle(&with_board)).filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > 24)).count();
    assert!(changed > 1000, "the board is not in front of the eyes ({changed} pixels changed below the middle)");
    // Then the way out of the headset and back in, as the wrist menu's and
    // the HUD's buttons do it: the session ends calmly, the window carries on
    // (the person's choice, so no notice about it), and a new session starts.
    assert!(log.contains("carrying on on the screen, as asked"), "the headset was not left:\n{log}");
    assert!(log.contains("the session ended after"), "the session did not end:\n{log}");
    assert!(log.contains("on the screen now (shown: Some(ScreenChosen))"), "the screen did not take over as chosen:\n{log}");
    let screen = read_png(&dir.join("room-after-headset.png"));
    let tones: std::collections::HashSet<[u8; 3]> = screen.rgb.iter().map(|p| p.map(|c| c >> 3)).collect();
    assert!(tones.len() > 100, "the window after the headset shows nearly nothing ({} tones)", tones.len());
    assert_eq!(log.matches("the room is in the headset (FOCUSED)").count(), 2, "the headset did not start again:\n{log}");
    assert!(log.contains("back in the headset after the screen"), "no frames in the headset after coming back:\n{log}");
}

/// The wrist menu's settings, pressed as the trigger presses them: each
/// changes the headset now and is kept on this PC for the next time.
#[test]
fn the_wrist_menu_changes_the_headset_and_this_pc_remembers() {
    use bevy::prelude::*;
    use tsunagu_client::headset::HeadsetRig;
    use tsunagu_client::headset::wrist_menu::{HeadsetSetting, change_headset_settings};
    use tsunagu_client::{Settings, SettingsFile};
    use tsunagu_client_core::settings::{HeadsetChoices, Loaded, load};

    let dir = std::env::temp_dir().join(format!("tsunagu-it-wrist-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file = dir.join("settings.ron");
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_message::<bevy_mod_xr::session::XrRequestExitMessage>()
        .insert_resource(HeadsetRig::with_choices(HeadsetChoices::default()))
        .insert_resource(SettingsFile {
            path: Some(file.clone()),
            was_unreadable: false,
            device: 7,
            personal_space_cm: 60,
            headset: HeadsetChoices::default(),
            text_size: Default::default(),
            proxy: None,
            proxy_this_run: None,
            link_mode: Default::default(),
        })
        .insert_resource(Settings {
            nickname: "ゆき".into(),
            look: tsunagu_protocol::AvatarLook::with_color([255, 160, 80]),
            language: tsunagu_i18n::Language::Japanese,
        })
        .insert_resource(tsunagu_client::kit::text::Texts(tsunagu_i18n::Locales::load().expect("locales")))
        .add_systems(Update, change_headset_settings);
    let settings =
        [HeadsetSetting::Turn, HeadsetSetting::Walk, HeadsetSetting::Bed, HeadsetSetting::Higher, HeadsetSetting::Lower, HeadsetSetting::Screen];
    let buttons: Vec<(HeadsetSetting, Entity)> =
        settings.iter().map(|s| (*s, app.world_mut().spawn((Button, *s, Interaction::None, children![Text::new("")])).id())).collect();
    let press = |app: &mut App, setting: HeadsetSetting| {
        let button = buttons.iter().find(|(s, _)| *s == setting).unwrap().1;
        app.world_mut().entity_mut(button).insert(Interaction::Pressed);
        app.update();
        app.world_mut().entity_mut(button).insert(Interaction::None);
        app.update();
    };
    let label = |app: &mut App, setting: HeadsetSetting| {
        let button = buttons.iter().find(|(s, _)| *s == setting).unwrap().1;
        let child = app.world().get::<Children>(button).unwrap()[0];
        app.world().get::<Text>(child).unwrap().0.replace(['\u{2060}', '\u{200b}'], "")
    };
    app.update();
    assert_eq!(label(&mut app, HeadsetSetting::Turn), "まわる 30°");
    assert_eq!(label(&mut app, HeadsetSetting::Walk), "あるく: オフ");
    assert_eq!(label(&mut app, HeadsetSetting::Bed), "ベッド 0°");

    press(&mut app, HeadsetSetting::Turn);
    press(&mut app, HeadsetSetting::Walk);
    for _ in 0..3 {
        press(&mut app, HeadsetSetting::Bed);
    }
    press(&mut app, HeadsetSetting::Higher);
    press(&mut app, HeadsetSetting::Higher);
    press(&mut app, HeadsetSetting::Lower);
    let rig = app.world().resource::<HeadsetRig>().clone();
    assert_eq!((rig.snap_degrees, rig.smooth_walking, rig.tilt_degrees), (45.0, true, 45.0));
    assert!((rig.rig.eye_offset - 0.05).abs() < 1e-4, "eyes {} m up", rig.rig.eye_offset);
    assert!(rig.recentre, "a new bed angle is taken as the person lies now");
    assert_eq!(label(&mut app, HeadsetSetting::Turn), "まわる 45°");
    assert_eq!(label(&mut app, HeadsetSetting::Walk), "あるく: オン");
    assert_eq!(label(&mut app, HeadsetSetting::Bed), "ベッド 45°");
    let kept = HeadsetChoices {
        use_headset: true,
        snap_turn_degrees: 45,
        smooth_walking: true,
        bed_tilt_degrees: 45,
        eye_offset_cm: 5,
        ..HeadsetChoices::default()
    };
    let Loaded::Found(saved) = load(&file) else { panic!("the choices were not saved") };
    assert_eq!(saved.headset, kept);
    assert_eq!(saved.personal_space_cm, 60, "the rest of the file is kept");
    // Past 60° the bed comes back to flat; the eyes stop at their limit.
    press(&mut app, HeadsetSetting::Bed);
    press(&mut app, HeadsetSetting::Bed);
    assert_eq!(app.world().resource::<HeadsetRig>().tilt_degrees, 0.0);
    for _ in 0..10 {
        press(&mut app, HeadsetSetting::Lower);
    }
    assert_eq!(app.world().resource::<SettingsFile>().headset.eye_offset_cm, -30);
    // A new run starts as left.
    let restarted = HeadsetRig::with_choices(app.world().resource::<SettingsFile>().headset);
    assert!((restarted.rig.eye_offset + 0.30).abs() < 1e-4 && restarted.snap_degrees == 45.0 && restarted.smooth_walking);
    // Choosing the screen asks the runtime to end the session, as the person's choice.
    assert!(!app.world().resource::<HeadsetRig>().screen_chosen);
    press(&mut app, HeadsetSetting::Screen);
    assert!(app.world().resource::<HeadsetRig>().screen_chosen);
    assert!(!app.world().resource::<Messages<bevy_mod_xr::session::XrRequestExitMessage>>().is_empty(), "the session was not asked to end");
}

/// The session ending, as the runtime reports it: when the headset stops on
/// its own the screen says so; when the person chose the screen, it does not.
#[test]
fn a_session_that_ends_shows_the_screen_and_says_why_only_if_it_was_not_chosen() {
    use bevy::prelude::*;
    use bevy_mod_xr::session::XrState;
    use tsunagu_client::headset::{DisplayMode, HeadsetRig, say_session_changes, say_the_display_mode};
    use tsunagu_client::kit::hud::StandingNotices;

    for chosen in [false, true] {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .insert_resource(HeadsetRig::default())
            .insert_resource(DisplayMode::Headset)
            .insert_resource(XrState::Ready)
            .init_resource::<StandingNotices>()
            .add_systems(Update, (say_session_changes, say_the_display_mode).chain());
        app.update();
        app.insert_resource(XrState::Running);
        app.update();
        assert_eq!(*app.world().resource::<DisplayMode>(), DisplayMode::Headset);
        app.world_mut().resource_mut::<HeadsetRig>().screen_chosen = chosen;
        app.insert_resource(XrState::Stopping);
        app.update();
        let mode = *app.world().resource::<DisplayMode>();
        assert_eq!(mode, if chosen { DisplayMode::ScreenChosen } else { DisplayMode::HeadsetEnded });
        let said: Vec<_> = app.world().resource::<StandingNotices>().ids().collect();
        assert_eq!(said.contains(&"status-xr-ended"), !chosen, "{said:?}");
        // Back in the headset: the choice is forgotten, and the view straightened.
        app.insert_resource(XrState::Available);
        app.update();
        app.insert_resource(XrState::Running);
        app.update();
        assert_eq!(*app.world().resource::<DisplayMode>(), DisplayMode::Headset);
        let rig = app.world().resource::<HeadsetRig>();
        assert!(!rig.screen_chosen && rig.recentre);
    }
}

/// The headset's own frame work (`track_headset`, as the headset runs it
/// each frame) driven by its buttons without a runtime: smooth walking with
/// the left stick darkens the edges and stops when let go; the right stick
/// turns once per push; the trigger teleports where the right hand points at
/// the floor, and not into a bed. (Monado's simulated controllers have no
/// sticks, so the headset test cannot do this.)
#[test]
fn in_a_headset_the_sticks_walk_and_turn_and_the_trigger_teleports_only_where_a_body_fits() {
    use std::time::Duration;

    use bevy::prelude::*;
    use bevy::time::TimeUpdateStrategy;
    use bevy_mod_xr::camera::XrCamera;
    use bevy_mod_xr::session::XrTrackingRoot;
    use bevy_mod_xr::spaces::XrSpaceLocationFlags;
    use tsunagu_client::headset::{Aim, HeadsetButtons, HeadsetRig, track_headset};
    use tsunagu_client::kit::me::LocalPose;
    use tsunagu_client::kit::me::{Heading, LocalPlayer};
    use tsunagu_client_core::settings::HeadsetChoices;
    use tsunagu_sim::WardLayout;
    use tsunagu_sim::motion::{AVATAR_HEIGHT, WALK_SPEED};

    let ward = WardLayout::ward();
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .insert_resource(HeadsetRig::with_choices(HeadsetChoices { smooth_walking: true, snap_turn_degrees: 45, ..HeadsetChoices::default() }))
        .init_resource::<HeadsetButtons>()
        .init_resource::<tsunagu_client::headset::pointing::WristPointer>()
        .init_resource::<tsunagu_client::kit::me::Hands>()
        .insert_resource(tsunagu_client::kit::scene::Ward(ward.clone()))
        .init_resource::<Heading>()
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(50)))
        .add_systems(Update, track_headset);
    // Seated: the eyes 1.2 m over the headset's floor, looking ahead (−Z).
    for (eye, x) in [(0, -0.032), (1, 0.032)] {
        app.world_mut().spawn((XrCamera(eye), Transform::from_xyz(x, 1.2, 0.0)));
    }
    let start = Vec3::new(1.0, 0.0, 1.0);
    let me = app.world_mut().spawn((LocalPlayer, LocalPose::default(), Transform::from_translation(start + Vec3::Y * AVATAR_HEIGHT / 2.0))).id();
    app.world_mut().spawn((XrTrackingRoot, Transform::default()));
    let aim = app.world_mut().spawn((Aim, Transform::default(), XrSpaceLocationFlags { position_tracked: true, rotation_tracked: true })).id();
    let feet = |app: &App| (app.world().get::<Transform>(me).unwrap().translation - Vec3::Y * AVATAR_HEIGHT / 2.0).with_y(0.0);
    let press = |app: &mut App, buttons: HeadsetButtons| {
        *app.world_mut().resource_mut::<HeadsetButtons>() = buttons;
        app.update();
    };
    // Joining recentres: standing at the arrival place, facing ahead.
    app.update();
    app.update();
    assert!(feet(&app).distance(start) < 0.01, "not recentred where the body stood: {}", feet(&app));

    // Half a second of the left stick pushed forward: a walk ahead, edges darkened.
    for _ in 0..10 {
        press(&mut app, HeadsetButtons { walk: (0.0, 1.0), ..default() });
    }
    let walked = feet(&app) - start;
    assert!((walked.z + WALK_SPEED * 0.5).abs() < 0.15 && walked.x.abs() < 0.01, "walked {walked}");
    assert!(app.world().resource::<HeadsetRig>().vignette > 0.3, "the edges did not darken while walking");
    let stopped_at = feet(&app);
    press(&mut app, HeadsetButtons::default());
    press(&mut app, HeadsetButtons::default());
    assert_eq!(feet(&app), stopped_at, "moved with the stick let go");
    assert_eq!(app.world().resource::<HeadsetRig>().vignette, 0.0);

    // The right stick pushed right and held: one 45° turn; pushed again: another.
    let yaw = |app: &App| app.world().resource::<Heading>().yaw.to_degrees();
    let before = yaw(&app);
    for _ in 0..5 {
        press(&mut app, HeadsetButtons { turn: 1.0, ..default() });
    }
    assert!((yaw(&app) - (before - 45.0)).abs() < 0.5, "turned {} degrees", yaw(&app) - before);
    press(&mut app, HeadsetButtons::default());
    press(&mut app, HeadsetButtons { turn: 1.0, ..default() });
    assert!((yaw(&app) - (before - 90.0)).abs() < 0.5);
    assert!(feet(&app).distance(stopped_at) < 0.01, "a turn moved the feet");

    // Point the right hand at `target` on the floor (from the chest) and pull the trigger.
    let point_and_pull = |app: &mut App, target: Vec3| {
        let rig = app.world().resource::<HeadsetRig>().rig;
        let from = feet(app) + Vec3::Y * 1.0;
        let towards = Transform::from_translation(from).looking_at(target, Vec3::Y);
        // Into the headset's own space, where the runtime reports the hand.
        let inverse = rig.rotation().inverse();
        let in_tracking = Transform {
            translation: inverse * (from - rig.origin - Vec3::Y * (rig.lift + rig.eye_offset)),
            rotation: inverse * towards.rotation,
            ..default()
        };
        *app.world_mut().get_mut::<Transform>(aim).unwrap() = in_tracking;
        press(app, HeadsetButtons { trigger_down: true, trigger_pulled: true, ..default() });
        press(app, HeadsetButtons::default());
    };
    let free = feet(&app) + Vec3::new(1.5, 0.0, 0.0);
    assert!(ward.clamp_walkable(free, tsunagu_sim::motion::AVATAR_RADIUS).distance(free) < 0.01, "the test's free spot is not free");
    point_and_pull(&mut app, free);
    assert!(feet(&app).distance(free) < 0.05, "no teleport to {free}: at {}", feet(&app));
    let bed = ward.furniture().next().unwrap().center.with_y(0.0);
    let here = feet(&app);
    point_and_pull(&mut app, bed);
    assert_eq!(feet(&app), here, "teleported into the bed");
}
