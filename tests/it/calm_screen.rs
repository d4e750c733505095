//! The calm screen, laid out as windows of each size lay it out, with each
//! text size, from a child's seat and from a facilitator's, in a room of four
//! (three practice guests): at rest no two cards lie over each other, none
//! leaves the window, and the room shows through at least three quarters of
//! it; each drawer, opened, lies over no other card, no line of its text
//! spills over another, and a drawer too long for a small window scrolls
//! with the wheel. The real client's
//! plugins, laid out by Bevy's UI with no window system and no renderer:
//! the layout is the code a window runs; the pixels are the screenshot's.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::render::settings::{RenderCreation, WgpuSettings};
use bevy::ui::{ComputedNode, UiGlobalTransform};
use bevy::window::{PrimaryWindow, WindowResized, WindowResolution, WindowScaleFactorChanged};
use tsunagu_client::hud::DrawerCard;
use tsunagu_client::kit::hud::{Card, Drawer, OpenDrawer};
use tsunagu_client::kit::room::RemoteAvatar;
use tsunagu_client::{AppState, ClientOptions, SettingsFile};
use tsunagu_client_core::settings::TextSize;
use tsunagu_i18n::Language;

use crate::join::Server;

/// Windows people meet in: a ward PC's small screen, laptops, a wall TV, and
/// 4K at 200 % (physical pixels, scale factor).
const WINDOWS: [(u32, u32, f32); 5] = [(1024, 600, 1.0), (1280, 720, 1.0), (1366, 768, 1.0), (1920, 1080, 1.0), (3840, 2160, 2.0)];

/// At rest, at most this much of the window is UI (with letters at their normal size).
const MOST_COVERED_AT_REST: f32 = 0.25;

/// The client joining `invite`'s room with three practice guests, laid out
/// with no window system and no renderer.
fn client_in(invite: tsunagu_net::invite::Invite) -> App {
    headless_client(ClientOptions {
        join: Some(invite),
        bots: 3,
        xr: Some(false),
        language: Some(Language::Japanese),
        settings_file: None,
        ..default()
    })
}

/// The real client with `options`, laid out with no window system and no renderer.
pub(crate) fn headless_client(options: ClientOptions) -> App {
    let mut app = tsunagu_client::build_app_with(options, |defaults| {
        defaults
            .disable::<bevy::winit::WinitPlugin>()
            .disable::<bevy::log::LogPlugin>()
            .set(RenderPlugin { render_creation: RenderCreation::Automatic(Box::new(WgpuSettings { backends: None, ..default() })), ..default() })
    });
    // Bevy's render plugin leaves out the queue of entities to mirror when
    // it has no renderer, yet a render component removed still writes to it.
    app.add_plugins(bevy::render::sync_world::SyncWorldPlugin);
    app.finish();
    app.cleanup();
    app
}

/// Frames until the three guests are drawn and every letter can be measured.
fn wait_for_the_room(app: &mut App) {
    let started = Instant::now();
    loop {
        app.update();
        let in_room = *app.world().resource::<State<AppState>>().get() == AppState::InRoom;
        let guests = app.world_mut().query::<&RemoteAvatar>().iter(app.world()).count();
        let font = app.world().resource::<tsunagu_client::kit::text::UiFont>().0.clone();
        let font_loaded = app.world().resource::<AssetServer>().is_loaded_with_dependencies(&font);
        if in_room && guests == 3 && font_loaded {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "not in a room of four after a minute (in the room: {in_room}, guests: {guests})");
        std::thread::sleep(Duration::from_millis(10));
    }
    // As after the first minutes: the key help and the notices folded away.
    let mut unfolded = app.world_mut().resource_mut::<tsunagu_client::hud::Unfolded>();
    unfolded.notices_until = 0.0;
    unfolded.help_until = 0.0;
}

/// The cards on screen and the window's size, in the UI's own pixels.
fn cards(app: &mut App) -> (Vec<Rect>, Vec2) {
    let window = app.world_mut().query_filtered::<&Window, With<PrimaryWindow>>().single(app.world()).expect("a window");
    // The cards' rectangles are in the UI's own pixels: so is the window here.
    let size = Vec2::new(window.width(), window.height()) / app.world().resource::<UiScale>().0;
    let mut query = app.world_mut().query_filtered::<(&ComputedNode, &UiGlobalTransform, &InheritedVisibility), With<Card>>();
    let rects = query
        .iter(app.world())
        .filter(|(node, _, shown)| shown.get() && node.size().min_element() > 0.0)
        .map(|(node, place, _)| Rect::from_center_size(place.translation * node.inverse_scale_factor(), node.size() * node.inverse_scale_factor()))
        .collect();
    (rects, size)
}

/// The share of the window the cards cover (each pixel once, on a 2-pixel grid).
fn covered(rects: &[Rect], window: Vec2) -> f32 {
    let step = 2.0;
    let (columns, rows) = ((window.x / step) as usize, (window.y / step) as usize);
    let covered = (0..rows)
        .flat_map(|row| (0..columns).map(move |column| Vec2::new((column as f32 + 0.5) * step, (row as f32 + 0.5) * step)))
        .filter(|at| rects.iter().any(|r| r.contains(*at)))
        .count();
    covered as f32 / (columns * rows) as f32
}

/// What is wrong with the cards' places, if anything: two over each
/// other, or one out of the window.
fn misplaced(rects: &[Rect], window: Vec2) -> Vec<String> {
    let screen = Rect::from_corners(Vec2::ZERO, window).inflate(0.5);
    let mut wrong = Vec::new();
    for (i, a) in rects.iter().enumerate() {
        if !screen.contains(a.min) || !screen.contains(a.max) {
            wrong.push(format!("a card at {a:?} leaves the window"));
        }
        for b in &rects[i + 1..] {
            let both = a.intersect(*b);
            if both.width() > 0.5 && both.height() > 0.5 {
                wrong.push(format!("cards at {a:?} and {b:?} overlap"));
            }
        }
    }
    wrong
}

/// Where a node lies, in the UI's own pixels.
fn rect_of(world: &World, entity: Entity) -> Option<Rect> {
    let (node, place) = (world.get::<ComputedNode>(entity)?, world.get::<UiGlobalTransform>(entity)?);
    Some(Rect::from_center_size(place.translation * node.inverse_scale_factor(), node.size() * node.inverse_scale_factor()))
}

/// The card a node lies in: its nearest ancestor that is one (name tags and
/// the like have none).
fn card_of(world: &World, entity: Entity) -> Option<Entity> {
    let mut parent = world.get::<ChildOf>(entity).map(ChildOf::parent);
    while let Some(p) = parent {
        if world.get::<Card>(p).is_some() {
            return Some(p);
        }
        parent = world.get::<ChildOf>(p).map(ChildOf::parent);
    }
    None
}

/// The shown nodes with `C` that lie in a card, as (node, where, its card, where the card is).
fn in_cards<C: Component>(app: &mut App) -> Vec<(Entity, Rect, Entity, Rect)> {
    let world = app.world_mut();
    let mut nodes = world.query_filtered::<(Entity, &ComputedNode, &InheritedVisibility), With<C>>();
    let shown: Vec<Entity> =
        nodes.iter(world).filter(|(_, node, seen)| seen.get() && node.size().min_element() > 0.0).map(|(entity, _, _)| entity).collect();
    shown
        .into_iter()
        .filter_map(|entity| {
            let card = card_of(world, entity)?;
            Some((entity, rect_of(world, entity)?, card, rect_of(world, card)?))
        })
        .collect()
}

/// Buttons of the HUD that spill out of their card (a row wrapped below it)
/// or out of the window, as (where the button is, where its card is), in
/// the UI's own pixels. A drawer scrolls: below or above its card is a turn
/// of the wheel away, beside it is out of reach.
fn buttons_out_of_their_cards(app: &mut App, window: Vec2) -> Vec<(Rect, Rect)> {
    let screen = Rect::from_corners(Vec2::ZERO, window).inflate(0.5);
    let scrolls = |app: &App, card: Entity| app.world().get::<DrawerCard>(card).is_some();
    in_cards::<Button>(app)
        .into_iter()
        .filter(|(_, at, card_entity, card)| {
            let card = card.inflate(0.5);
            let (left, right) = (at.min.x >= card.min.x && at.max.x <= card.max.x, at.min.x >= screen.min.x && at.max.x <= screen.max.x);
            let (top, bottom) = (at.min.y >= card.min.y && at.max.y <= card.max.y, at.min.y >= screen.min.y && at.max.y <= screen.max.y);
            !(left && right && (scrolls(app, *card_entity) || (top && bottom)))
        })
        .map(|(_, at, _, card)| (at, card))
        .collect()
}

/// Lines of text in cards that spill: letters taller or wider than their
/// box (a line squeezed into a narrow column wraps over what lies below), or
/// two boxes over each other. Only what a card shows counts: a drawer clips
/// what is scrolled away.
fn spilled_texts(app: &mut App) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut shown: Vec<(String, Rect)> = Vec::new();
    for (entity, at, _, card) in in_cards::<Text>(app) {
        let world = app.world();
        let (Some(text), Some(node), Some(letters)) =
            (world.get::<Text>(entity), world.get::<ComputedNode>(entity), world.get::<bevy::text::TextLayoutInfo>(entity))
        else {
            continue;
        };
        let seen = at.intersect(card);
        if text.0.trim().is_empty() || seen.is_empty() {
            continue;
        }
        let room = node.content_box().size();
        // Two physical pixels is rounding.
        if letters.size.x > room.x + 2.0 || letters.size.y > room.y + 2.0 {
            wrong.push(format!("{:?} needs {} but has {room} (physical pixels)", text.0, letters.size));
        }
        shown.push((text.0.clone(), seen));
    }
    for (i, a) in shown.iter().enumerate() {
        for b in &shown[i + 1..] {
            // A pixel of touching is rounding, not letters over letters.
            if !a.1.inflate(-1.0).intersect(b.1.inflate(-1.0)).is_empty() {
                wrong.push(format!("{:?} at {:?} lies over {:?} at {:?}", a.0, a.1, b.0, b.1));
            }
        }
    }
    wrong
}

/// Name tags hang over their heads, whatever the letters' size: a tag more
/// than a few pixels off sideways, as (logical pixels) where it is and
/// where the head is.
fn tags_off_their_heads(app: &mut App) -> Vec<(Vec2, Vec2)> {
    use tsunagu_client::kit::me::MainCamera;
    use tsunagu_client::kit::room::{NameTag, above_head_on_screen};
    let mut cameras = app.world_mut().query_filtered::<(&Camera, &GlobalTransform), With<MainCamera>>();
    let (camera, eye) = cameras.single(app.world()).expect("a camera");
    let (camera, eye) = (camera.clone(), *eye);
    let mut tags = app.world_mut().query::<(&NameTag, &ComputedNode, &UiGlobalTransform, &InheritedVisibility)>();
    let tags: Vec<(Entity, Vec2)> = tags
        .iter(app.world())
        .filter(|(_, node, _, shown)| shown.get() && node.size().x > 0.0)
        .map(|(tag, node, place, _)| (tag.target, place.translation * node.inverse_scale_factor()))
        .collect();
    let ui = app.world().resource::<UiScale>().0;
    let mut off = Vec::new();
    for (avatar, centre) in tags {
        let Some(head) = app.world().get::<GlobalTransform>(avatar) else { continue };
        let Some(head) = above_head_on_screen(&camera, &eye, head, 0.25) else { continue };
        let centre = centre * ui;
        if (centre.x - head.x).abs() > 3.0 {
            off.push((centre, head));
        }
    }
    off
}

/// Lay the client out at each window size and text size; returns what is
/// wrong and each size's cover at rest with normal letters.
fn check_every_size(app: &mut App, drawers: &[Drawer]) -> (Vec<String>, Vec<(String, f32)>) {
    let mut wrong = Vec::new();
    let mut covers = Vec::new();
    for (width, height, scale) in WINDOWS {
        // What the window system does when a window changes size.
        let mut windows = app.world_mut().query_filtered::<(Entity, &mut Window), With<PrimaryWindow>>();
        let (window, mut shape) = windows.single_mut(app.world_mut()).expect("a window");
        let mut resolution = WindowResolution::new(width, height);
        resolution.set_scale_factor_override(Some(scale));
        shape.resolution = resolution;
        let (logical_width, logical_height) = (shape.width(), shape.height());
        app.world_mut().write_message(WindowResized { window, width: logical_width, height: logical_height });
        app.world_mut().write_message(WindowScaleFactorChanged { window, scale_factor: f64::from(scale) });
        for text_size in TextSize::ALL {
            app.world_mut().resource_mut::<SettingsFile>().text_size = text_size;
            let name = format!("{width}×{height} at {:.0} %, letters {text_size:?}", scale * 100.0);
            app.world_mut().resource_mut::<OpenDrawer>().close();
            for _ in 0..3 {
                app.update();
            }
            let (rects, window) = cards(app);
            if rects.is_empty() {
                wrong.push(format!("{name}: no bar at rest"));
            }
            wrong.extend(misplaced(&rects, window).into_iter().map(|w| format!("{name}, at rest: {w}")));
            wrong.extend(
                buttons_out_of_their_cards(app, window)
                    .into_iter()
                    .map(|(button, card)| format!("{name}: a button at {button:?} spills out of its card at {card:?}")),
            );
            wrong.extend(spilled_texts(app).into_iter().map(|w| format!("{name}, at rest: {w}")));
            wrong
                .extend(tags_off_their_heads(app).into_iter().map(|(tag, head)| format!("{name}: a name tag at {tag} hangs off its head at {head}")));
            let cover = covered(&rects, window);
            if text_size == TextSize::Normal {
                covers.push((name.clone(), cover));
                if cover > MOST_COVERED_AT_REST {
                    wrong.push(format!("{name}: the UI covers {:.1} % of the window at rest", cover * 100.0));
                }
            }
            for drawer in drawers {
                let now = app.world().resource::<Time<Real>>().elapsed_secs_f64();
                app.world_mut().resource_mut::<OpenDrawer>().open(*drawer, now);
                for _ in 0..3 {
                    app.update();
                }
                let (rects, window) = cards(app);
                let mut cards_of_drawers = app.world_mut().query::<(&DrawerCard, &ComputedNode)>();
                let shown: Vec<Drawer> =
                    cards_of_drawers.iter(app.world()).filter(|(_, node)| node.size().min_element() > 0.0).map(|(d, _)| d.0).collect();
                if shown != [*drawer] {
                    wrong.push(format!("{name}: opening {drawer:?} shows the drawers {shown:?}"));
                }
                wrong.extend(misplaced(&rects, window).into_iter().map(|w| format!("{name}, {drawer:?} open: {w}")));
                wrong.extend(
                    buttons_out_of_their_cards(app, window)
                        .into_iter()
                        .map(|(button, card)| format!("{name}, {drawer:?} open: a button at {button:?} spills out of its card at {card:?}")),
                );
                wrong.extend(spilled_texts(app).into_iter().map(|w| format!("{name}, {drawer:?} open: {w}")));
            }
        }
    }
    (wrong, covers)
}

#[test]
fn no_card_lies_over_another_and_the_room_fills_three_quarters_at_every_size() {
    // A child's seat: the facilitators' drawers are not there.
    let server = Server::start("calm-child");
    let mut child = client_in(server.invite.clone());
    wait_for_the_room(&mut child);
    let childs_drawers: Vec<Drawer> = Drawer::ALL.into_iter().filter(|d| !d.staff_only()).collect();
    let (wrong, covers) = check_every_size(&mut child, &childs_drawers);
    for (name, cover) in &covers {
        println!("child's seat, {name}: the UI covers {:.1} % at rest", cover * 100.0);
    }
    assert!(wrong.is_empty(), "from a child's seat:\n{}", wrong.join("\n"));
    drop(child);
    drop(server);

    // A facilitator's seat, in a room of their own: the staff panel and the invite too.
    let server = Server::start("calm-staff");
    let staff_invite = tsunagu_net::invite::Invite { room_code: "staff-code".into(), ..server.invite.clone() };
    let mut nurse = client_in(staff_invite);
    wait_for_the_room(&mut nurse);
    // The longest line the staff drawer says of a person: hand up, and quietened.
    for peer in &mut nurse.world_mut().resource_mut::<tsunagu_client::kit::room::RoomNow>().peers {
        peer.hand_raised = true;
        peer.muted = true;
    }
    let (wrong, covers) = check_every_size(&mut nurse, &Drawer::ALL);
    for (name, cover) in &covers {
        println!("facilitator's seat, {name}: the UI covers {:.1} % at rest", cover * 100.0);
    }
    assert!(wrong.is_empty(), "from a facilitator's seat:\n{}", wrong.join("\n"));
    the_wheel_scrolls_a_long_drawer(&mut nurse);
}

/// On a small window with the largest letters the staff drawer is taller
/// than the room above the bar: the wheel over it brings its last buttons up.
fn the_wheel_scrolls_a_long_drawer(app: &mut App) {
    use bevy::input::mouse::{MouseScrollUnit, MouseWheel};
    let mut windows = app.world_mut().query_filtered::<(Entity, &mut Window), With<PrimaryWindow>>();
    let (window, mut shape) = windows.single_mut(app.world_mut()).expect("a window");
    shape.resolution = WindowResolution::new(1024, 600);
    app.world_mut().write_message(WindowResized { window, width: 1024.0, height: 600.0 });
    app.world_mut().resource_mut::<SettingsFile>().text_size = TextSize::Largest;
    let now = app.world().resource::<Time<Real>>().elapsed_secs_f64();
    app.world_mut().resource_mut::<OpenDrawer>().open(Drawer::Staff, now);
    for _ in 0..3 {
        app.update();
    }
    let mut cards = app.world_mut().query::<(Entity, &DrawerCard)>();
    let staff = cards.iter(app.world()).find(|(_, d)| d.0 == Drawer::Staff).map(|(e, _)| e).expect("the staff drawer");
    let last_button = |app: &mut App| {
        in_cards::<Button>(app)
            .into_iter()
            .filter(|(_, _, card, _)| *card == staff)
            .map(|(_, at, _, card)| at.max.y - card.max.y)
            .fold(f32::MIN, f32::max)
    };
    let hidden_before = last_button(app);
    assert!(hidden_before > 10.0, "the staff drawer fits at 1024×600 with the largest letters: nothing to scroll ({hidden_before})");
    let card = rect_of(app.world(), staff).expect("the drawer is laid out");
    let ui = app.world().resource::<UiScale>().0;
    app.world_mut().get_mut::<Window>(window).expect("a window").set_cursor_position(Some(card.center() * ui));
    app.update();
    for _ in 0..20 {
        app.world_mut().write_message(MouseWheel {
            unit: MouseScrollUnit::Line,
            x: 0.0,
            y: -1.0,
            window,
            phase: bevy::input::touch::TouchPhase::Moved,
        });
        app.update();
    }
    app.update();
    let hidden_after = last_button(app);
    assert!(hidden_after <= 0.5, "after turning the wheel the last button is still {hidden_after} px below the drawer (was {hidden_before})");
    assert!(app.world().resource::<OpenDrawer>().is_open(Drawer::Staff), "scrolling closed the drawer");
}

/// A tall window (a wall TV) shows the UI bigger, so it keeps its share of
/// the screen; the letters' size a person chose multiplies that, as far as
/// a small window has room for.
#[test]
fn a_tall_window_shows_the_ui_bigger_and_a_small_one_keeps_room() {
    use tsunagu_client::kit::text::ui_scale;
    assert_eq!(ui_scale(TextSize::Normal, 600.0), 1.0);
    assert_eq!(ui_scale(TextSize::Normal, 768.0), 1.0);
    assert_eq!(ui_scale(TextSize::Normal, 1080.0), 1.25);
    assert_eq!(ui_scale(TextSize::Normal, 1440.0), 1.5);
    assert_eq!(ui_scale(TextSize::Normal, 2160.0), 1.5);
    assert_eq!(ui_scale(TextSize::Largest, 1080.0), 1.875);
    // 600 pixels tall has room for letters a quarter bigger, not half.
    assert_eq!(ui_scale(TextSize::Large, 600.0), 1.25);
    assert_eq!(ui_scale(TextSize::Largest, 600.0), 1.25);
    assert_eq!(ui_scale(TextSize::Largest, 720.0), 1.5);
}
