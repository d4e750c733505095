//! The wall screen's controls, in its drawer: for everyone the crayons
//! (drawing on/off, colours, thickness, undo, save a picture); for staff
//! also the pages (files to show, back and next, pointing, who may draw,
//! wiping, stopping). Drawing and pointing follow the mouse on the screen.

use std::path::PathBuf;
use std::time::Duration;

use bevy::prelude::*;
use bevy::tasks::{AsyncComputeTaskPool, Task, block_on, poll_once};
use tsunagu_client_core::pages::{MadePages, PageProblem, pages_from_file, previews_of};
use tsunagu_i18n::Arg;
use tsunagu_protocol::{ClientEvent, Ink, Pen, ScreenAction};

use super::WallPages;
use crate::AppState;
use crate::kit::hud::{BarButtonLook, Drawer, FillSlot, Slot, spawn_bar_button};
use crate::kit::net::{Connection, SendRoomEvent, ShowPages};
use crate::kit::palette;
use crate::kit::room::RoomNow;
use crate::kit::text::{LabelledButtons, ui_text};

/// Files a facilitator's drawer offers at most.
pub const FILES_OFFERED: usize = 8;

/// Every button of the screen's drawer.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreenButton {
    /// (Staff) show file `n` of [`ScreenFiles`].
    Show(usize),
    /// (Staff) the page before.
    Back,
    /// (Staff) the page after.
    Forward,
    /// (Staff) point at the screen with the mouse, or stop.
    Pointing,
    /// (Staff) everyone may draw, or only staff.
    WhoDraws,
    /// (Staff) wipe the board.
    Wipe,
    /// (Staff) stop showing pages.
    Stop,
    /// Draw with the mouse on the screen, or stop.
    Draw,
    /// Draw in this colour.
    Ink(Ink),
    /// Draw this thick.
    Pen(Pen),
    /// Take back my newest line.
    Undo,
    /// Save the page and the drawing as a picture.
    Save,
}

/// The staff's rows in the drawer (hidden from children).
#[derive(Component)]
struct StaffRow;

/// The drawer's two lines of text.
#[derive(Component, Clone, Copy, PartialEq, Eq)]
enum DrawerLine {
    /// The page counter.
    Counter,
    /// What happened (ready, saved, a problem).
    Status,
}

/// Files a facilitator can show: from `--show` (a file or a folder), then the Pictures folder.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct ScreenFiles(pub Vec<PathBuf>);

impl ScreenFiles {
    /// Pictures and PDFs in `places` (files as they are, folders' top level), at most [`FILES_OFFERED`].
    pub fn from(places: &[PathBuf]) -> ScreenFiles {
        let showable = |p: &PathBuf| {
            let ext = p.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
            matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "webp" | "pdf")
        };
        let mut files = Vec::new();
        for place in places {
            if place.is_file() {
                files.push(place.clone());
            } else if let Ok(entries) = std::fs::read_dir(place) {
                let mut found: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file() && showable(p)).collect();
                found.sort();
                files.extend(found);
            }
        }
        files.truncate(FILES_OFFERED);
        ScreenFiles(files)
    }
}

/// What the drawer says now, if anything.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct ScreenStatus(pub Option<Said>);

/// A line the drawer says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Said {
    /// The message with this id.
    Line(&'static str),
    /// So many pages are on the screen now.
    Shown(usize),
    /// A picture was saved there (short: see `kit::pictures::where_it_went`).
    Saved(String),
}

/// The screen as the drawer needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ScreenNow {
    /// The page on the screen, if pages are shown.
    page: Option<u16>,
    /// How many pages are shown.
    count: usize,
    /// Whether everyone may draw.
    drawing_allowed: bool,
}

impl ScreenNow {
    fn of(connection: &Connection) -> ScreenNow {
        connection.read(|core| {
            let screen = core.screen();
            let showing = screen.showing();
            ScreenNow { page: showing.map(|s| s.current), count: showing.map_or(0, |s| s.pages.len()), drawing_allowed: screen.drawing_allowed() }
        })
    }

    /// The page `step` pages from the one shown, if there is one.
    fn turned(self, step: i32) -> Option<u16> {
        let to = i32::from(self.page?) + step;
        (0..self.count as i32).contains(&to).then_some(to as u16)
    }
}

/// Drawing with the mouse: on or off, the crayon, and the line being drawn.
#[derive(Resource, Debug)]
pub struct DrawingMode {
    /// Drawing with the mouse on the screen.
    pub on: bool,
    /// The colour.
    pub ink: Ink,
    /// The thickness.
    pub pen: Pen,
    /// (Staff) the mouse points at the screen.
    pub pointing: bool,
    pub(super) stroke: u16,
    pub(super) drawing: bool,
    pub(super) unsent: Vec<[u16; 2]>,
    pub(super) last_point: Option<[u16; 2]>,
    pub(super) last_sent: Duration,
    pub(super) pointed: Option<[u16; 2]>,
    pub(super) pointed_at: Duration,
}

impl Default for DrawingMode {
    fn default() -> Self {
        DrawingMode {
            on: false,
            ink: Ink::Charcoal,
            pen: Pen::Medium,
            pointing: false,
            stroke: 0,
            drawing: false,
            unsent: Vec::new(),
            last_point: None,
            last_sent: Duration::ZERO,
            pointed: None,
            pointed_at: Duration::ZERO,
        }
    }
}

/// A file being made into pages.
#[derive(Resource, Default)]
struct Preparing(Option<Task<Result<(MadePages, Previews), PageProblem>>>);

/// Pages' previews, by page.
type Previews = Vec<(u16, Vec<u8>)>;

pub(super) fn build(app: &mut App) {
    app.init_resource::<DrawingMode>()
        .init_resource::<ScreenStatus>()
        .init_resource::<Preparing>()
        .init_resource::<ScreenFiles>()
        .fill_slot(Slot::Drawer(Drawer::Screen), |drawer, font| {
            drawer.spawn((StaffRow, row())).with_children(|row| {
                for n in 0..FILES_OFFERED {
                    spawn_bar_button(row, font, ScreenButton::Show(n), None, BarButtonLook::Plain, true);
                }
            });
            drawer.spawn((StaffRow, row())).with_children(|row| {
                spawn_bar_button(row, font, ScreenButton::Back, None, BarButtonLook::Main, false);
                row.spawn((DrawerLine::Counter, ui_text(font, "", 20.0, palette::INK)));
                spawn_bar_button(row, font, ScreenButton::Forward, None, BarButtonLook::Main, false);
                for button in [ScreenButton::Pointing, ScreenButton::WhoDraws, ScreenButton::Wipe, ScreenButton::Stop] {
                    spawn_bar_button(row, font, button, None, BarButtonLook::Plain, false);
                }
            });
            drawer.spawn(row()).with_children(|row| {
                spawn_bar_button(row, font, ScreenButton::Draw, None, BarButtonLook::Main, false);
                for ink in Ink::ALL {
                    spawn_bar_button(row, font, ScreenButton::Ink(ink), None, BarButtonLook::Plain, false);
                }
            });
            drawer.spawn(row()).with_children(|row| {
                for pen in Pen::ALL {
                    spawn_bar_button(row, font, ScreenButton::Pen(pen), None, BarButtonLook::Plain, false);
                }
                spawn_bar_button(row, font, ScreenButton::Undo, None, BarButtonLook::Plain, false);
                spawn_bar_button(row, font, ScreenButton::Save, None, BarButtonLook::Plain, false);
            });
            drawer.spawn((DrawerLine::Status, ui_text(font, "", 16.0, palette::INK)));
        })
        .add_systems(OnEnter(AppState::InRoom), find_files)
        .add_systems(
            Update,
            (press_buttons, prepare_pages, turn_with_keys, super::drawing::draw_and_point, label_buttons, write_lines, show_staff_rows)
                .chain()
                .in_set(crate::kit::net::NetSet::Apply)
                .run_if(in_state(AppState::InRoom)),
        )
        .add_systems(OnExit(AppState::InRoom), |mut mode: ResMut<DrawingMode>, mut status: ResMut<ScreenStatus>| {
            *mode = DrawingMode::default();
            *status = ScreenStatus::default();
        });
}

fn row() -> Node {
    Node { flex_wrap: FlexWrap::Wrap, column_gap: Val::Px(6.0), row_gap: Val::Px(6.0), align_items: AlignItems::Center, ..default() }
}

fn find_files(mut files: ResMut<ScreenFiles>, from: Option<Res<crate::ShowFrom>>) {
    let mut places: Vec<PathBuf> = from.map(|f| f.0.clone()).unwrap_or_default();
    if places.is_empty()
        && let Some(dirs) = directories::UserDirs::new()
    {
        places.extend(dirs.picture_dir().map(PathBuf::from));
    }
    *files = ScreenFiles::from(&places);
}

#[allow(clippy::too_many_arguments, reason = "one press handler for the drawer's buttons, each needing its own piece")]
fn press_buttons(
    buttons: LabelledButtons<ScreenButton>,
    mut mode: ResMut<DrawingMode>,
    mut status: ResMut<ScreenStatus>,
    mut preparing: ResMut<Preparing>,
    files: Res<ScreenFiles>,
    connection: Option<Res<Connection>>,
    pages: Res<WallPages>,
    folder: Option<Res<crate::PicturesFolder>>,
    mut send: MessageWriter<SendRoomEvent>,
) {
    // Gone when the connection ended this frame; the room is left next.
    let Some(connection) = connection else { return };
    let screen = |action| SendRoomEvent(ClientEvent::Screen(action));
    let now = ScreenNow::of(&connection);
    for button in buttons.pressed() {
        match *button {
            ScreenButton::Show(n) => {
                if let Some(path) = files.0.get(n).cloned()
                    && preparing.0.is_none()
                {
                    let made = async move {
                        pages_from_file(&path).map(|pages| {
                            let previews = previews_of(&pages);
                            (pages, previews)
                        })
                    };
                    preparing.0 = Some(AsyncComputeTaskPool::get().spawn(made));
                    status.0 = Some(Said::Line("screen-preparing"));
                }
            }
            ScreenButton::Back | ScreenButton::Forward => {
                let step = if *button == ScreenButton::Back { -1 } else { 1 };
                if let Some(page) = now.turned(step) {
                    send.write(screen(ScreenAction::TurnTo(page)));
                }
            }
            ScreenButton::Pointing => {
                mode.pointing = !mode.pointing;
                if !mode.pointing {
                    send.write(screen(ScreenAction::Point(None)));
                }
            }
            ScreenButton::WhoDraws => {
                send.write(screen(ScreenAction::AllowDrawing(!now.drawing_allowed)));
            }
            ScreenButton::Wipe => {
                send.write(screen(ScreenAction::ClearBoard));
            }
            ScreenButton::Stop => {
                send.write(screen(ScreenAction::Show(Vec::new())));
            }
            ScreenButton::Draw => mode.on = !mode.on,
            ScreenButton::Ink(ink) => {
                mode.ink = ink;
                mode.on = true;
            }
            ScreenButton::Pen(pen) => {
                mode.pen = pen;
                mode.on = true;
            }
            ScreenButton::Undo => {
                send.write(SendRoomEvent(ClientEvent::Undo));
            }
            ScreenButton::Save => {
                let folder = folder.as_ref().map(|f| f.0.clone()).unwrap_or_else(tsunagu_client_core::settings::pictures_folder);
                status.0 = Some(super::save_picture(&connection, &pages, &folder));
            }
        }
    }
}

/// A file made into pages: shown, or its problem said kindly.
fn prepare_pages(mut preparing: ResMut<Preparing>, mut status: ResMut<ScreenStatus>, mut show: MessageWriter<ShowPages>) {
    let Some(task) = preparing.0.as_mut() else { return };
    let Some(made) = block_on(poll_once(task)) else { return };
    preparing.0 = None;
    status.0 = Some(match made {
        Ok((pages, previews)) => {
            let count = pages.len();
            show.write(ShowPages { pages, previews });
            Said::Shown(count)
        }
        Err(problem) => Said::Line(problem_message(problem)),
    });
}

/// The kind message for a file that cannot be shown.
pub fn problem_message(problem: PageProblem) -> &'static str {
    match problem {
        PageProblem::NotAPicture => "screen-problem-not-picture",
        PageProblem::TooBig => "screen-problem-too-big",
        PageProblem::Broken => "screen-problem-broken",
        PageProblem::TooManyPages => "screen-problem-too-many",
        PageProblem::TooSlow => "screen-problem-too-slow",
        PageProblem::Unreadable => "screen-problem-unreadable",
    }
}

/// Page Up and Page Down turn the pages (staff).
fn turn_with_keys(keys: Res<ButtonInput<KeyCode>>, connection: Option<Res<Connection>>, room: Res<RoomNow>, mut send: MessageWriter<SendRoomEvent>) {
    let Some(connection) = connection.filter(|_| room.i_am_staff()) else { return };
    let step = if keys.just_pressed(KeyCode::PageDown) {
        1
    } else if keys.just_pressed(KeyCode::PageUp) {
        -1
    } else {
        return;
    };
    if let Some(to) = ScreenNow::of(&connection).turned(step) {
        send.write(SendRoomEvent(ClientEvent::Screen(ScreenAction::TurnTo(to))));
    }
}

/// What the buttons show: they are written again when it changes.
#[derive(Clone, Copy, PartialEq, Eq)]
struct ButtonsShow {
    drawing: bool,
    pointing: bool,
    ink: Ink,
    pen: Pen,
    allowed: bool,
    files: usize,
}

/// The buttons' labels and colours, written when something they show changed
/// (not every frame: each label is a lookup in the locale files).
fn label_buttons(
    mut buttons: LabelledButtons<ScreenButton>,
    mut nodes: Query<(&ScreenButton, &mut Node, &mut BackgroundColor)>,
    mode: Res<DrawingMode>,
    files: Res<ScreenFiles>,
    connection: Option<Res<Connection>>,
    mut written: Local<Option<ButtonsShow>>,
) {
    let Some(connection) = connection else { return };
    let allowed = ScreenNow::of(&connection).drawing_allowed;
    let shows = Some(ButtonsShow { drawing: mode.on, pointing: mode.pointing, ink: mode.ink, pen: mode.pen, allowed, files: files.0.len() });
    if *written == shows && !buttons.stale() {
        return;
    }
    *written = shows;
    let file_name = |n: usize| files.0.get(n).and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    buttons.write(|button, words| match *button {
        ScreenButton::Show(n) => file_name(n),
        ScreenButton::Back => words.get("screen-back"),
        ScreenButton::Forward => words.get("screen-forward"),
        ScreenButton::Pointing => words.get(if mode.pointing { "screen-pointing-on" } else { "screen-pointing-off" }),
        ScreenButton::WhoDraws => words.get(if allowed { "screen-drawing-all" } else { "screen-drawing-staff" }),
        ScreenButton::Wipe => words.get("screen-wipe"),
        ScreenButton::Stop => words.get("screen-stop"),
        ScreenButton::Draw => words.get(if mode.on { "screen-draw-on" } else { "screen-draw-off" }),
        ScreenButton::Ink(ink) => words.get(ink_label(ink)),
        ScreenButton::Pen(pen) => words.get(pen_label(pen)),
        ScreenButton::Undo => words.get("screen-undo"),
        ScreenButton::Save => words.get("screen-save"),
    });
    for (button, mut node, mut background) in &mut nodes {
        match *button {
            ScreenButton::Show(n) => {
                let display = if n < files.0.len() { Display::Flex } else { Display::None };
                if node.display != display {
                    node.display = display;
                }
            }
            ScreenButton::Ink(ink) => {
                let [r, g, b, _] = tsunagu_client_core::pages::ink_colour(ink).0;
                let chosen = mode.on && mode.ink == ink;
                background.set_if_neq(BackgroundColor(Color::srgb_u8(r, g, b).with_alpha(if chosen { 1.0 } else { 0.55 })));
            }
            ScreenButton::Pen(pen) => {
                let chosen = mode.on && mode.pen == pen;
                background.set_if_neq(BackgroundColor(if chosen { palette::ACCENT.with_alpha(0.5) } else { palette::BUTTON }));
            }
            _ => {}
        }
    }
}

/// The page counter and the drawer's line.
fn write_lines(
    mode: Res<DrawingMode>,
    status: Res<ScreenStatus>,
    connection: Option<Res<Connection>>,
    mut lines: Query<(&mut Text, Ref<DrawerLine>)>,
    words: crate::kit::text::Words,
    mut written: Local<Option<(ScreenNow, bool)>>,
) {
    let Some(connection) = connection else { return };
    let now = ScreenNow::of(&connection);
    // Written again only when what they say may have changed.
    let new = lines.iter().any(|(_, line)| line.is_added());
    if *written == Some((now, mode.on)) && !status.is_changed() && !words.changed() && !new {
        return;
    }
    *written = Some((now, mode.on));
    for (mut text, line) in &mut lines {
        let said = match *line {
            DrawerLine::Counter => match now.page {
                Some(page) => words.get_with("screen-page", &[("page", Arg::Num(f64::from(page) + 1.0)), ("count", Arg::Num(now.count as f64))]),
                None => words.get("screen-no-pages"),
            },
            DrawerLine::Status => match &status.0 {
                None if !now.drawing_allowed && mode.on => words.get("screen-drawing-closed"),
                None => String::new(),
                Some(Said::Saved(path)) => words.get_with("screen-saved", &[("path", Arg::Str(path))]),
                Some(Said::Shown(count)) => words.get_with("screen-shown", &[("count", Arg::Num(*count as f64))]),
                Some(Said::Line(id)) => words.get(id),
            },
        };
        if text.0 != said {
            text.0 = said;
        }
    }
}

/// The message naming an ink.
pub fn ink_label(ink: Ink) -> &'static str {
    match ink {
        Ink::Charcoal => "screen-ink-charcoal",
        Ink::Red => "screen-ink-red",
        Ink::Blue => "screen-ink-blue",
        Ink::Green => "screen-ink-green",
        Ink::Yellow => "screen-ink-yellow",
        Ink::White => "screen-ink-white",
    }
}

/// The message naming a pen.
pub fn pen_label(pen: Pen) -> &'static str {
    match pen {
        Pen::Thin => "screen-pen-thin",
        Pen::Medium => "screen-pen-medium",
        Pen::Thick => "screen-pen-thick",
    }
}

fn show_staff_rows(room: Res<RoomNow>, mut rows: Query<&mut Node, With<StaffRow>>) {
    let display = if room.i_am_staff() { Display::Flex } else { Display::None };
    for mut node in &mut rows {
        if node.display != display {
            node.display = display;
        }
    }
}
