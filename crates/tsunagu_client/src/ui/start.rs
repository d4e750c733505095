//! The start screen: nickname, avatar colour, language, and "host a room on this
//! PC" or "join with an invite". Typing works with the keyboard and with an IME
//! for Japanese.

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use bevy::window::{Ime, PrimaryWindow};
use tsunagu_i18n::Language;
use tsunagu_protocol::limits::MAX_NICKNAME_CHARS;
use tsunagu_protocol::nickname_is_valid;

use super::palette;
use crate::text::{Localized, Texts, UiFont, ui_text};
use crate::{AppState, BODY_COLORS, ClientOptions, Settings};

/// Shows the start screen and handles its input.
pub struct StartScreenPlugin;

#[derive(Component, Clone, Copy, PartialEq)]
enum StartAction {
    Color([u8; 3]),
    Language(Language),
    Host,
    Join,
}

#[derive(Component)]
struct NicknameField;

#[derive(Component)]
struct StartMessage;

impl Plugin for StartScreenPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, skip_if_asked)
            .add_systems(OnEnter(AppState::Start), build_start_screen)
            .add_systems(
                Update,
                (type_nickname, press_buttons, show_choices).run_if(in_state(AppState::Start)),
            )
            .add_systems(OnExit(AppState::Start), disable_ime);
    }
}

fn skip_if_asked(options: Res<ClientOptions>, mut settings: ResMut<Settings>, mut next: ResMut<NextState<AppState>>, texts: Res<Texts>) {
    if options.host_now || options.screenshot.is_some() {
        if !nickname_is_valid(&settings.nickname) {
            settings.nickname = texts.get(settings.language, "default-nickname");
        }
        next.set(AppState::InRoom);
    }
}

fn build_start_screen(mut commands: Commands, font: Res<UiFont>, mut windows: Query<&mut Window, With<PrimaryWindow>>) {
    if let Ok(mut window) = windows.single_mut() {
        window.ime_enabled = true;
    }
    let label = |key: &'static str| (ui_text(&font, "", 20.0, palette::INK_SOFT), Localized(key));
    let button = |action: StartAction, key: &'static str, main: bool| {
        (
            Button,
            action,
            Node {
                padding: UiRect::axes(Val::Px(22.0), Val::Px(12.0)),
                justify_content: JustifyContent::Center,
                border_radius: BorderRadius::all(Val::Px(14.0)),
                flex_grow: 1.0,
                ..default()
            },
            BackgroundColor(if main { palette::ACCENT } else { palette::BUTTON }),
            children![(ui_text(&font, "", if main { 24.0 } else { 20.0 }, if main { Color::WHITE } else { palette::INK }), Localized(key))],
        )
    };
    commands
        .spawn((
            DespawnOnExit(AppState::Start),
            Node { width: Val::Percent(100.0), height: Val::Percent(100.0), justify_content: JustifyContent::Center, align_items: AlignItems::Center, ..default() },
            BackgroundColor(Color::srgba(0.99, 0.93, 0.85, 0.35)),
        ))
        .with_children(|root| {
            root.spawn((
                Node {
                    flex_direction: FlexDirection::Column,
                    row_gap: Val::Px(10.0),
                    padding: UiRect::all(Val::Px(28.0)),
                    width: Val::Px(600.0),
                    border_radius: BorderRadius::all(Val::Px(24.0)),
                    ..default()
                },
                BackgroundColor(palette::CARD),
            ))
            .with_children(|card| {
                card.spawn((ui_text(&font, "", 52.0, palette::ACCENT), Localized("app-title")));
                card.spawn((ui_text(&font, "", 22.0, palette::INK), Localized("app-subtitle")));
                card.spawn(label("start-nickname-label"));
                card.spawn((
                    Node {
                        padding: UiRect::axes(Val::Px(14.0), Val::Px(8.0)),
                        border: UiRect::all(Val::Px(2.0)),
                        border_radius: BorderRadius::all(Val::Px(10.0)),
                        ..default()
                    },
                    BorderColor::all(palette::ACCENT),
                    BackgroundColor(Color::WHITE),
                    children![(NicknameField, ui_text(&font, "", 24.0, palette::INK))],
                ));
                card.spawn(label("start-color-label"));
                card.spawn(Node { column_gap: Val::Px(10.0), ..default() }).with_children(|row| {
                    for color in BODY_COLORS {
                        let [r, g, b] = color;
                        row.spawn((
                            Button,
                            StartAction::Color(color),
                            Node {
                                width: Val::Px(44.0),
                                height: Val::Px(44.0),
                                border: UiRect::all(Val::Px(4.0)),
                                border_radius: BorderRadius::MAX,
                                ..default()
                            },
                            BackgroundColor(Color::srgb_u8(r, g, b)),
                            BorderColor::all(Color::WHITE),
                        ));
                    }
                });
                card.spawn(label("start-language-label"));
                card.spawn(Node { column_gap: Val::Px(10.0), ..default() }).with_children(|row| {
                    row.spawn(button(StartAction::Language(Language::Japanese), "lang-ja", false));
                    row.spawn(button(StartAction::Language(Language::English), "lang-en", false));
                });
                card.spawn(Node { height: Val::Px(6.0), ..default() });
                card.spawn(button(StartAction::Host, "start-host", true));
                card.spawn(button(StartAction::Join, "start-join", false));
                card.spawn((StartMessage, ui_text(&font, "", 18.0, palette::NOTE), Node { min_height: Val::Px(24.0), ..default() }));
            });
        });
}

fn disable_ime(mut windows: Query<&mut Window, With<PrimaryWindow>>) {
    if let Ok(mut window) = windows.single_mut() {
        window.ime_enabled = false;
    }
}

/// Append typed text to a nickname, keeping it within the length limit.
pub fn append_to_nickname(nickname: &mut String, typed: &str) {
    for c in typed.chars().filter(|c| !c.is_control()) {
        if nickname.chars().count() >= MAX_NICKNAME_CHARS {
            break;
        }
        nickname.push(c);
    }
}

fn type_nickname(
    mut keys: MessageReader<KeyboardInput>,
    mut ime: MessageReader<Ime>,
    mut settings: ResMut<Settings>,
    mut next: ResMut<NextState<AppState>>,
    mut message: Query<&mut Text, With<StartMessage>>,
    texts: Res<Texts>,
) {
    let mut nickname = settings.nickname.clone();
    let mut submit = false;
    for key in keys.read() {
        if key.state != ButtonState::Pressed {
            continue;
        }
        match &key.logical_key {
            Key::Backspace => {
                nickname.pop();
            }
            Key::Enter => submit = true,
            Key::Character(typed) => append_to_nickname(&mut nickname, typed),
            Key::Space => append_to_nickname(&mut nickname, " "),
            _ => {}
        }
    }
    for event in ime.read() {
        if let Ime::Commit { value, .. } = event {
            append_to_nickname(&mut nickname, value);
        }
    }
    if nickname != settings.nickname {
        settings.nickname = nickname;
    }
    if submit {
        try_host(&settings, &mut next, &mut message, &texts);
    }
}

fn try_host(settings: &Settings, next: &mut NextState<AppState>, message: &mut Query<&mut Text, With<StartMessage>>, texts: &Texts) {
    if nickname_is_valid(&settings.nickname) {
        next.set(AppState::InRoom);
    } else if let Ok(mut text) = message.single_mut() {
        text.0 = texts.get(settings.language, "start-nickname-invalid");
    }
}

fn press_buttons(
    mut buttons: Query<(&Interaction, &StartAction, &mut BackgroundColor), Changed<Interaction>>,
    mut settings: ResMut<Settings>,
    mut next: ResMut<NextState<AppState>>,
    mut message: Query<&mut Text, With<StartMessage>>,
    texts: Res<Texts>,
) {
    for (interaction, action, mut background) in &mut buttons {
        let main = *action == StartAction::Host;
        match (interaction, action) {
            (Interaction::Pressed, StartAction::Color(color)) => settings.body_color = *color,
            (Interaction::Pressed, StartAction::Language(lang)) => {
                settings.language = *lang;
                if let Ok(mut text) = message.single_mut() {
                    text.0.clear();
                }
            }
            (Interaction::Pressed, StartAction::Host) => try_host(&settings, &mut next, &mut message, &texts),
            (Interaction::Pressed, StartAction::Join) => {
                if let Ok(mut text) = message.single_mut() {
                    text.0 = texts.get(settings.language, "start-join-unavailable");
                }
            }
            (Interaction::Hovered, StartAction::Host | StartAction::Join | StartAction::Language(_)) => {
                background.0 = if main { palette::ACCENT_HOVER } else { palette::BUTTON_HOVER };
            }
            (Interaction::None, StartAction::Host | StartAction::Join | StartAction::Language(_)) => {
                background.0 = if main { palette::ACCENT } else { palette::BUTTON };
            }
            _ => {}
        }
    }
}

fn show_choices(
    settings: Res<Settings>,
    texts: Res<Texts>,
    time: Res<Time<Real>>,
    mut field: Query<(&mut Text, &mut TextColor), With<NicknameField>>,
    mut swatches: Query<(&StartAction, &mut BorderColor)>,
) {
    if let Ok((mut text, mut color)) = field.single_mut() {
        let caret = if time.elapsed_secs().fract() < 0.5 { "|" } else { " " };
        let (shown, tone) = if settings.nickname.is_empty() {
            (format!("{caret} {}", texts.get(settings.language, "start-nickname-hint")), palette::INK_SOFT)
        } else {
            (format!("{}{caret}", settings.nickname), palette::INK)
        };
        if text.0 != shown {
            text.0 = shown;
        }
        color.0 = tone;
    }
    for (action, mut border) in &mut swatches {
        if let StartAction::Color(c) = action {
            let chosen = *c == settings.body_color;
            *border = BorderColor::all(if chosen { palette::INK } else { Color::WHITE });
        }
    }
}
