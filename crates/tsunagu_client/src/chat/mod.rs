//! Text chat: a panel with the last lines and a field to write in (keys or a
//! Japanese IME: kana, conversion, commit), and a bubble over the speaker's
//! avatar. Lines live only in memory while in the room and are never written
//! anywhere; links are plain text. The same character rule as the server's
//! is checked before sending, so a child learns at once what is wrong.
//!
//! Long because the field, its focus, the bubbles and the log are one panel.

use std::collections::VecDeque;

use bevy::ecs::system::SystemParam;
use bevy::input_focus::{FocusCause, InputFocus};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use tsunagu_protocol::limits::MAX_CHAT_CHARS;
use tsunagu_protocol::{ClientEvent, EventKind, NicknameProblem, PeerId, Refusal, chat_problem, normalize_chat};

use crate::AppState;
use crate::Settings;
use crate::kit::heard::{ChatHeard, RefusedMine};
use crate::kit::hud::{CardsOnScreen, Drawer, FillSlot, OpenDrawer, Slot, keep_clear};
use crate::kit::net::{NetSet, SendRoomEvent};
use crate::kit::palette;
use crate::kit::room::{Avatar, AvatarInfo, above_head_on_screen, avatar_of, hang_over};
use crate::kit::text::{Localized, Texts, UiFont, ui_text};
use crate::kit::typing::{PaperInHand, TextField, Typing, focus_is_on};

/// Lines the panel keeps (older ones are forgotten).
pub const LINES_KEPT: usize = 6;
/// How long a bubble stays over its speaker, seconds.
pub const BUBBLE_SECONDS: f32 = 8.0;
/// A run of characters longer than this may break (typed Japanese has no spaces).
const LONGEST_WORD: usize = 8;

/// The line being written, and whether the field has the keyboard.
#[derive(Resource, Default, Debug)]
pub struct ChatInput {
    /// Committed text.
    pub text: String,
    /// What the IME is still converting.
    pub composing: String,
    /// A reason the last line was not sent (a locale key), until the next key.
    pub problem: Option<&'static str>,
}

/// The last lines said, in memory only: (who, their name then, the line).
#[derive(Resource, Default, Debug)]
pub struct ChatLog(pub VecDeque<(PeerId, String, String)>);

/// Whether the chat's field has the keys, and handing them to it or back.
#[derive(SystemParam)]
pub struct FieldFocus<'w, 's> {
    focus: ResMut<'w, InputFocus>,
    field: Query<'w, 's, Entity, With<ChatField>>,
}

impl FieldFocus<'_, '_> {
    /// The field has the keys.
    pub fn on(&self) -> bool {
        focus_is_on(Some(&self.focus), &self.field)
    }

    /// Give the field the keys.
    pub fn take(&mut self) {
        if let Ok(field) = self.field.single()
            && self.focus.get() != Some(field)
        {
            self.focus.set(field, FocusCause::Navigated);
        }
    }

    /// Give the keys back to walking and the rest.
    pub fn release(&mut self) {
        if self.on() {
            self.focus.clear();
        }
    }
}

/// The chat panel, field and bubbles.
pub struct ChatPlugin;

impl Plugin for ChatPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ChatInput>()
            .init_resource::<InputFocus>()
            .init_resource::<PaperInHand>()
            .init_resource::<ChatLog>()
            .init_resource::<OpenDrawer>()
            .fill_slot(Slot::Drawer(Drawer::Chat), fill_the_drawer)
            .add_systems(OnExit(AppState::InRoom), forget_everything)
            .add_systems(Update, (hear_lines, hear_refusals).in_set(NetSet::Apply))
            .add_systems(
                Update,
                (write_on_paper, type_line, focus_by_click, add_words, follow_the_drawer, show_panel, follow_ime_focus)
                    .chain()
                    .run_if(in_state(AppState::InRoom)),
            )
            .add_systems(PostUpdate, place_bubbles.after(TransformSystems::Propagate).run_if(in_state(AppState::InRoom)));
    }
}

#[derive(Component)]
struct ChatLines;

/// A word to tap into the field (then send): chat and wishes without a
/// keyboard, in a headset or for small hands.
#[derive(Component)]
pub struct Word(pub &'static str);

/// The words and their heading, shown while writing.
#[derive(Component)]
struct WordsShown;

/// The words offered, as message ids.
pub const WORDS: [&str; 6] = ["word-hello", "word-thanks", "word-yes", "word-bye", "word-fun", "word-cheer"];

#[derive(Component)]
#[require(TextField)]
struct ChatField;

#[derive(Component)]
struct ChatFieldText;

#[derive(Component)]
struct SendButton;

/// A speech bubble over an avatar.
#[derive(Component)]
pub struct ChatBubble {
    /// The speaker's avatar.
    pub target: Entity,
    /// When it goes (seconds of real time).
    pub until: f32,
}

/// The chat drawer: the last lines, the field, and (while writing) words to tap.
fn fill_the_drawer(drawer: &mut ChildSpawnerCommands, font: &UiFont) {
    drawer
        .spawn(Node {
            flex_direction: FlexDirection::Column,
            row_gap: Val::Px(4.0),
            width: Val::Px(420.0),
            max_width: Val::Percent(100.0),
            ..default()
        })
        .with_children(|panel| {
            panel.spawn((ChatLines, ui_text(font, "", 15.0, palette::INK), Node { max_width: Val::Px(396.0), ..default() }));
            panel.spawn(Node { column_gap: Val::Px(6.0), align_items: AlignItems::Center, ..default() }).with_children(|row| {
                row.spawn((
                    Button,
                    ChatField,
                    Node {
                        flex_grow: 1.0,
                        min_height: Val::Px(40.0),
                        padding: UiRect::axes(Val::Px(10.0), Val::Px(6.0)),
                        border: UiRect::all(Val::Px(2.0)),
                        border_radius: BorderRadius::all(Val::Px(10.0)),
                        align_items: AlignItems::Center,
                        ..default()
                    },
                    BorderColor::all(palette::BUTTON),
                    BackgroundColor(Color::WHITE),
                ))
                .with_children(|field| {
                    field.spawn((ChatFieldText, ui_text(font, "", 16.0, palette::INK_SOFT), Node { max_width: Val::Px(290.0), ..default() }));
                });
                row.spawn((
                    Button,
                    SendButton,
                    Node { padding: UiRect::axes(Val::Px(14.0), Val::Px(8.0)), border_radius: BorderRadius::all(Val::Px(10.0)), ..default() },
                    BackgroundColor(palette::ACCENT),
                    children![(ui_text(font, "", 16.0, Color::WHITE), Localized("chat-send"))],
                ));
            });
            // Shown while writing (the field pressed): the card stays small otherwise.
            panel
                .spawn((WordsShown, Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(4.0), display: Display::None, ..default() }))
                .with_children(|words| {
                    words.spawn((ui_text(font, "", 13.0, palette::INK_SOFT), Localized("chat-words")));
                    words.spawn(Node { column_gap: Val::Px(5.0), row_gap: Val::Px(5.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(
                        |row| {
                            for word in WORDS {
                                row.spawn((
                                    Button,
                                    Word(word),
                                    Node {
                                        padding: UiRect::axes(Val::Px(9.0), Val::Px(4.0)),
                                        border_radius: BorderRadius::all(Val::Px(9.0)),
                                        ..default()
                                    },
                                    BackgroundColor(palette::BUTTON),
                                    children![(ui_text(font, "", 14.0, palette::INK), Localized(word))],
                                ));
                            }
                        },
                    );
                });
        });
}

/// A tapped word goes into the field (after a space), which opens for it:
/// the send button (or Enter) sends, as for typed lines.
fn add_words(
    words: Query<(&Interaction, &Word), Changed<Interaction>>,
    mut input: ResMut<ChatInput>,
    mut focus: FieldFocus,
    texts: Res<crate::kit::text::Texts>,
    settings: Res<crate::Settings>,
) {
    for (_, word) in words.iter().filter(|(i, _)| **i == Interaction::Pressed) {
        let word = texts.plain_with(settings.language, word.0, &[]);
        let joined = if input.text.trim().is_empty() { word } else { format!(" {word}") };
        crate::kit::typing::append_within(&mut input.text, &joined, MAX_CHAT_CHARS);
        input.problem = None;
        focus.take();
    }
}

/// A paper chosen in the Tanabata panel: the field opens for the wish.
fn write_on_paper(paper: Res<PaperInHand>, mut input: ResMut<ChatInput>, mut focus: FieldFocus) {
    if paper.is_changed() && paper.0.is_some() {
        input.problem = None;
        focus.take();
    }
}

fn forget_everything(mut input: ResMut<ChatInput>, mut log: ResMut<ChatLog>, mut paper: ResMut<PaperInHand>) {
    *input = ChatInput::default();
    paper.0 = None;
    log.0.clear();
}

/// The locale key saying why `line` cannot be sent, if it cannot.
pub fn line_problem(line: &str) -> Option<&'static str> {
    match chat_problem(line)? {
        NicknameProblem::Empty => Some("chat-empty"),
        NicknameProblem::TooLong => Some("chat-too-long"),
        NicknameProblem::NotAllowed(_) | NicknameProblem::TooManyMarks => Some("chat-not-allowed"),
    }
}

/// Keys into the field while it has focus; Enter opens it otherwise.
pub fn type_line(mut typing: Typing, keys: Res<ButtonInput<KeyCode>>, mut input: ResMut<ChatInput>, mut line: Line) {
    let typed = typing.read();
    if !line.focus.on() {
        // Enter opens the field, as in games children know.
        if keys.just_pressed(KeyCode::Enter) {
            line.focus.take();
        }
        return;
    }
    if typed.cancel {
        line.focus.release();
        line.paper.0 = None;
        input.composing.clear();
        return;
    }
    if let Some(composing) = typed.composing {
        input.composing = composing;
    }
    if typed.erase > 0 || !typed.text.is_empty() {
        input.problem = None;
        for _ in 0..typed.erase {
            input.text.pop();
        }
        crate::kit::typing::append_within(&mut input.text, &typed.text, MAX_CHAT_CHARS);
    }
    if typed.submit && input.composing.is_empty() {
        line.submit(&mut input);
    }
}

/// Where a finished line goes: the field's focus, the paper it may be
/// written on, and the room.
#[derive(SystemParam)]
pub struct Line<'w, 's> {
    focus: FieldFocus<'w, 's>,
    paper: ResMut<'w, PaperInHand>,
    send: MessageWriter<'w, SendRoomEvent>,
}

impl Line<'_, '_> {
    fn submit(&mut self, input: &mut ChatInput) {
        if input.text.trim().is_empty() {
            // Enter on an empty field just closes it.
            self.focus.release();
            self.paper.0 = None;
            return;
        }
        match line_problem(&input.text) {
            Some(problem) => input.problem = Some(problem),
            None => {
                let line = normalize_chat(&input.text);
                self.send.write(SendRoomEvent(match self.paper.0.take() {
                    Some(paper) => ClientEvent::HangWish(paper, line),
                    None => ClientEvent::Chat(line),
                }));
                input.text.clear();
                self.focus.release();
            }
        }
    }
}

fn focus_by_click(
    fields: Query<&Interaction, (With<ChatField>, Changed<Interaction>)>,
    buttons: Query<&Interaction, (With<SendButton>, Changed<Interaction>)>,
    mut input: ResMut<ChatInput>,
    mut line: Line,
) {
    if fields.iter().any(|i| *i == Interaction::Pressed) {
        line.focus.take();
    }
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        line.submit(&mut input);
    }
}

/// The field and the chat drawer go together: the field taking the keys
/// (Enter, a tapped word, a paper for a wish) opens the drawer; the drawer
/// closing (Esc, another drawer, left alone) gives the keys back; writing
/// keeps it open.
fn follow_the_drawer(mut field: FieldFocus, mut paper: ResMut<PaperInHand>, mut open: ResMut<OpenDrawer>, time: Res<Time<Real>>) {
    let now = time.elapsed_secs_f64();
    if !field.on() {
        return;
    }
    if field.focus.is_changed() {
        if !open.is_open(Drawer::Chat) {
            open.open(Drawer::Chat, now);
        }
    } else if open.is_open(Drawer::Chat) {
        open.touch(now);
    } else {
        field.release();
        paper.0 = None;
    }
}

/// The IME follows the field: on while it has focus, its window near it.
fn follow_ime_focus(focus: FieldFocus, mut windows: Query<&mut Window, With<PrimaryWindow>>, fields: Query<&UiGlobalTransform, With<ChatField>>) {
    if !focus.focus.is_changed() {
        return;
    }
    let Ok(mut window) = windows.single_mut() else { return };
    if window.ime_enabled != focus.on() {
        window.ime_enabled = focus.on();
    }
    if let Ok(at) = fields.single() {
        window.ime_position = at.translation / window.scale_factor();
    }
}

/// The bubbles over people, and what is in them.
#[derive(SystemParam)]
struct Bubbles<'w, 's> {
    bubbles: Query<'w, 's, (&'static mut ChatBubble, &'static Children)>,
    texts: Query<'w, 's, &'static mut Text>,
}

fn hear_lines(
    mut commands: Commands,
    mut heard: MessageReader<ChatHeard>,
    mut log: ResMut<ChatLog>,
    time: Res<Time<Real>>,
    avatars: Query<(Entity, &AvatarInfo), With<Avatar>>,
    bubbles: Bubbles,
    font: Res<UiFont>,
) {
    let Bubbles { mut bubbles, texts: mut bubble_texts } = bubbles;
    for ChatHeard { from, line } in heard.read() {
        {
            {
                let Some((avatar, info)) = avatar_of(avatars.iter(), *from) else { continue };
                log.0.push_back((*from, info.nickname.clone(), line.clone()));
                while log.0.len() > LINES_KEPT {
                    log.0.pop_front();
                }
                let shown = tsunagu_i18n::keep_typed_words_together(line, LONGEST_WORD);
                let until = time.elapsed_secs() + BUBBLE_SECONDS;
                // One bubble per person: a new line replaces the last.
                if let Some((mut bubble, children)) = bubbles.iter_mut().find(|(b, _)| b.target == avatar) {
                    bubble.until = until;
                    for child in children.iter() {
                        if let Ok(mut text) = bubble_texts.get_mut(child) {
                            text.0 = shown.clone();
                        }
                    }
                    continue;
                }
                commands.spawn((
                    ChatBubble { target: avatar, until },
                    crate::kit::room::UNDER_THE_HUD,
                    Node {
                        position_type: PositionType::Absolute,
                        max_width: Val::Px(260.0),
                        padding: UiRect::axes(Val::Px(12.0), Val::Px(7.0)),
                        border_radius: BorderRadius::all(Val::Px(14.0)),
                        border: UiRect::all(Val::Px(2.0)),
                        ..default()
                    },
                    BackgroundColor(Color::WHITE),
                    BorderColor::all(palette::ACCENT),
                    Visibility::Hidden,
                    DespawnOnExit(AppState::InRoom),
                    children![ui_text(&font, shown, 17.0, palette::INK)],
                ));
            }
        }
    }
}

/// The server would not take my line or wish: the field says why.
fn hear_refusals(mut refused: MessageReader<RefusedMine>, mut input: ResMut<ChatInput>) {
    for RefusedMine { refusal: Refusal { kind, reason } } in refused.read() {
        if matches!(kind, EventKind::Chat | EventKind::HangWish) {
            input.problem = Some(crate::kit::net::refusal_message(*reason));
        }
    }
}

/// The line being written as the panel shows it: its text, the paper, and
/// whether the field has the keys.
#[derive(SystemParam)]
struct Writing<'w, 's> {
    input: Res<'w, ChatInput>,
    paper: Res<'w, PaperInHand>,
    focus: Option<Res<'w, InputFocus>>,
    field: Query<'w, 's, Entity, With<ChatField>>,
}

impl Writing<'_, '_> {
    fn focused(&self) -> bool {
        focus_is_on(self.focus.as_deref(), &self.field)
    }

    fn is_changed(&self) -> bool {
        self.input.is_changed() || self.paper.is_changed() || self.focus.as_ref().is_some_and(|f| f.is_changed())
    }
}

/// The panel's parts that show the chat.
#[derive(SystemParam)]
struct ChatPanelParts<'w, 's> {
    lines: Query<'w, 's, &'static mut Text, (With<ChatLines>, Without<ChatFieldText>)>,
    field: Query<'w, 's, (&'static mut Text, &'static mut TextColor), With<ChatFieldText>>,
    borders: Query<'w, 's, &'static mut BorderColor, With<ChatField>>,
    words: Query<'w, 's, &'static mut Node, With<WordsShown>>,
}

fn show_panel(writing: Writing, log: Res<ChatLog>, settings: Res<Settings>, texts: Res<Texts>, time: Res<Time<Real>>, parts: ChatPanelParts) {
    let ChatPanelParts { mut lines, mut field, mut borders, mut words } = parts;
    let input = &writing.input;
    let focused = writing.focused();
    if writing.is_changed() {
        let display = if focused { Display::Flex } else { Display::None };
        for mut node in &mut words {
            if node.display != display {
                node.display = display;
            }
        }
    }
    // The lines are made again only when one is said or the language changes.
    if (log.is_changed() || settings.is_changed())
        && let Ok(mut text) = lines.single_mut()
    {
        let shown = if log.0.is_empty() {
            texts.get(settings.language, "chat-nothing-yet")
        } else {
            log.0
                .iter()
                .map(|(_, name, line)| tsunagu_i18n::keep_typed_words_together(&format!("{name}: {line}"), LONGEST_WORD))
                .collect::<Vec<_>>()
                .join("\n")
        };
        if text.0 != shown {
            text.0 = shown;
        }
    }
    let Ok((mut text, mut colour)) = field.single_mut() else { return };
    let caret = if focused && time.elapsed_secs().fract() < 0.5 { "|" } else { " " };
    let (shown, tone) = if let Some(problem) = input.problem {
        (format!("{}{caret}\n{}", input.text, texts.get(settings.language, problem)), palette::NOTE)
    } else if input.text.is_empty() && input.composing.is_empty() {
        let hint = match (writing.paper.0, focused) {
            (Some(_), _) => "wish-hint",
            (None, true) => "chat-hint-typing",
            (None, false) => "chat-hint",
        };
        (format!("{caret}{}", texts.get(settings.language, hint)), palette::INK_SOFT)
    } else {
        // What the IME is converting shows after the committed text, in brackets.
        let composing = if input.composing.is_empty() { String::new() } else { format!("［{}］", input.composing) };
        (format!("{}{composing}{caret}", input.text), palette::INK)
    };
    if text.0 != shown {
        text.0 = shown;
    }
    colour.0 = tone;
    for mut border in &mut borders {
        *border = BorderColor::all(if focused { palette::ACCENT } else { palette::BUTTON });
    }
}

/// Bubbles hang above their speaker's name tag, and go after a while.
fn place_bubbles(
    mut commands: Commands,
    time: Res<Time<Real>>,
    cameras: Query<(Entity, &Camera, &GlobalTransform), With<crate::kit::me::MainCamera>>,
    avatars: Query<(&GlobalTransform, &InheritedVisibility), With<Avatar>>,
    mut bubbles: Query<(Entity, &ChatBubble, &mut Node, &mut Visibility, &ComputedNode)>,
    cards: CardsOnScreen,
) {
    let Ok((camera_entity, camera, camera_transform)) = cameras.single() else { return };
    let Some(screen) = cards.screen(camera) else { return };
    let mut taken = cards.rects(camera_entity);
    let now = time.elapsed_secs();
    for (entity, bubble, mut node, mut visibility, computed) in &mut bubbles {
        let Ok((avatar, seen)) = avatars.get(bubble.target) else {
            commands.entity(entity).despawn();
            continue;
        };
        if now > bubble.until {
            commands.entity(entity).despawn();
            continue;
        }
        let at = above_head_on_screen(camera, camera_transform, avatar, 0.25).filter(|_| seen.get());
        // Above the name tag (about 30 px tall).
        let size = computed.size() * computed.inverse_scale_factor();
        hang_over(&mut node, &mut visibility, at, size, 34.0, cards.ui_scale());
        // Beside a card (or another bubble) it would hide under, where there is room.
        keep_clear(&mut node, size, &mut taken, screen);
    }
}
