//! The start screen: nickname, how the avatar looks (beside a turning
//! preview; see `look`), language, and "host a room on this PC" or "join with
//! an invite". Typing works with the keyboard and with an IME
//! for Japanese; Ctrl+V pastes (invites are long); Tab or a click moves between
//! the fields. If the last join failed, it says why here. Behind 「プロキシ」,
//! the HTTP proxy hospital IT named for this PC (kept in `settings.ron`).

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use tsunagu_i18n::Language;
use tsunagu_net::invite::Invite;
use tsunagu_protocol::limits::MAX_NICKNAME_CHARS;
use tsunagu_protocol::nickname_is_valid;

use crate::kit::hud::Slot;
use crate::kit::net::{JoinFailure, JoinPlan};
use crate::kit::palette;
use crate::kit::text::{Localized, Texts, UiFont, ui_text};
use crate::kit::typing::{Typed, Typing};
use crate::{AppState, ClientOptions, Settings};

mod netcheck;
mod next_child;
mod proxy;
pub use netcheck::{CheckNetworkButton, NetworkCheck};
pub use next_child::{DeletePicturesButton, NextChildButton, PicturesToDelete};
use proxy::{AsideForProxy, ProxyRow, keep_proxy, read_kept_proxy};
pub use proxy::{MAX_PROXY_CHARS, NotAProxy, ProxyText, append_to_proxy, masked_proxy_text, read_proxy_text};

/// The longest invite text accepted (a host name can be long; real invites are ~120).
pub const MAX_INVITE_CHARS: usize = 300;
/// A text field of the start screen.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Field {
    #[default]
    Nickname,
    Invite,
    Proxy,
}

/// Which text field receives typing.
#[derive(Resource, Default)]
struct Focus(Field);

/// The invite being typed or pasted.
#[derive(Resource, Default)]
pub struct InviteText(pub String);

/// Shows the start screen and handles its input.
pub struct StartScreenPlugin;

#[derive(Component, Clone, Copy, PartialEq)]
enum StartAction {
    Language(Language),
    Host,
    Join,
    /// Opens or closes the proxy's row.
    Proxy,
}

#[derive(Component)]
struct FieldText(Field);

/// The start screen's line that says what happened (a join that failed, the network check).
#[derive(Component)]
pub struct StartMessage;

impl Plugin for StartScreenPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Focus>()
            .init_resource::<InviteText>()
            .init_resource::<ProxyText>()
            .init_resource::<PicturesToDelete>()
            .add_systems(OnEnter(AppState::Start), read_kept_proxy.before(build_start_screen))
            .add_systems(Startup, skip_if_asked)
            .add_systems(OnEnter(AppState::Start), (build_start_screen, show_join_failure).chain())
            .add_systems(Update, (type_text, press_buttons, show_choices, proxy::show_proxy_row).run_if(in_state(AppState::Start)))
            .add_systems(
                Update,
                (next_child::press_next_child, next_child::press_delete_pictures, next_child::show_delete_button)
                    .chain()
                    .run_if(in_state(AppState::Start)),
            )
            .add_systems(Update, (netcheck::press_check, netcheck::show_check).chain().run_if(in_state(AppState::Start)))
            .add_systems(OnExit(AppState::Start), disable_ime);
    }
}

fn skip_if_asked(
    options: Res<ClientOptions>,
    mut settings: ResMut<Settings>,
    mut plan: ResMut<JoinPlan>,
    mut next: ResMut<NextState<AppState>>,
    texts: Res<Texts>,
) {
    if options.host_now || options.join.is_some() {
        if !nickname_is_valid(&settings.nickname) {
            settings.nickname = texts.plain_with(settings.language, "default-nickname", &[]);
        }
        *plan = options.join.clone().map(JoinPlan::Invite).unwrap_or(JoinPlan::Host);
        next.set(AppState::InRoom);
    }
}

fn show_join_failure(
    mut commands: Commands,
    failure: Option<Res<JoinFailure>>,
    words: crate::kit::text::Words,
    mut message: Query<&mut Text, With<StartMessage>>,
) {
    let Some(failure) = failure else { return };
    if let Ok(mut text) = message.single_mut() {
        text.0 = words.get_with(failure.key, &[("reason", tsunagu_i18n::Arg::Str(&failure.reason))]);
    }
    commands.remove_resource::<JoinFailure>();
}

fn build_start_screen(
    mut commands: Commands,
    font: Res<UiFont>,
    settings_file: Res<crate::SettingsFile>,
    proxy: Res<ProxyText>,
    mut windows: Query<&mut Window, With<PrimaryWindow>>,
) {
    if let Ok(mut window) = windows.single_mut() {
        window.ime_enabled = true;
    }
    let label = |key: &'static str| (ui_text(&font, "", 20.0, palette::INK_SOFT), Localized(key));
    let button_node = || Node {
        padding: UiRect::axes(Val::Px(22.0), Val::Px(12.0)),
        justify_content: JustifyContent::Center,
        border_radius: BorderRadius::all(Val::Px(14.0)),
        flex_grow: 1.0,
        ..default()
    };
    let button = |action: StartAction, key: &'static str, main: bool| {
        (
            Button,
            action,
            button_node(),
            BackgroundColor(if main { palette::ACCENT } else { palette::BUTTON }),
            children![(ui_text(&font, "", if main { 24.0 } else { 20.0 }, if main { Color::WHITE } else { palette::INK }), Localized(key))],
        )
    };
    commands
        .spawn((
            DespawnOnExit(AppState::Start),
            Node {
                width: Val::Percent(100.0),
                height: Val::Percent(100.0),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                column_gap: Val::Px(18.0),
                ..default()
            },
            BackgroundColor(Color::srgba(0.99, 0.93, 0.85, 0.35)),
        ))
        .with_children(|root| {
            // The avatar, turning, and everything to choose for it.
            root.spawn((
                Node {
                    flex_direction: FlexDirection::Column,
                    row_gap: Val::Px(6.0),
                    padding: UiRect::all(Val::Px(20.0)),
                    width: Val::Px(420.0),
                    border_radius: BorderRadius::all(Val::Px(24.0)),
                    align_items: AlignItems::Start,
                    ..default()
                },
                BackgroundColor(palette::CARD),
            ))
            .with_children(|card| {
                card.spawn((
                    Slot::StartLook,
                    Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(6.0), align_items: AlignItems::Start, ..default() },
                ));
                if settings_file.was_unreadable {
                    card.spawn((ui_text(&font, "", 15.0, palette::NOTE), Localized("settings-unreadable")));
                }
                // A ward PC many children share: the next one starts afresh.
                next_child::spawn_buttons(card, &font);
            });
            root.spawn((
                Node {
                    flex_direction: FlexDirection::Column,
                    row_gap: Val::Px(6.0),
                    padding: UiRect::all(Val::Px(22.0)),
                    width: Val::Px(600.0),
                    border_radius: BorderRadius::all(Val::Px(24.0)),
                    ..default()
                },
                BackgroundColor(palette::CARD),
            ))
            .with_children(|card| {
                // The name and what it is, on one line: the card keeps room
                // below for what a join or the network check has to say.
                card.spawn(Node { align_items: AlignItems::Baseline, column_gap: Val::Px(16.0), flex_wrap: FlexWrap::Wrap, ..default() })
                    .with_children(|title| {
                        title.spawn((ui_text(&font, "", 48.0, palette::ACCENT), Localized("app-title")));
                        title.spawn((ui_text(&font, "", 21.0, palette::INK), Localized("app-subtitle")));
                    });
                card.spawn(label("start-nickname-label"));
                card.spawn(text_field(Field::Nickname, ui_text(&font, "", 24.0, palette::INK)));
                card.spawn((label("start-language-label"), AsideForProxy, Node::default()));
                card.spawn(Node { column_gap: Val::Px(10.0), ..default() }).with_children(|row| {
                    row.spawn(button(StartAction::Language(Language::Japanese), "lang-ja", false));
                    row.spawn(button(StartAction::Language(Language::English), "lang-en", false));
                    // 「もじ」: bigger letters, for a child who sees poorly or sits far away.
                    row.spawn((
                        Button,
                        crate::kit::text::TextSizeButton,
                        button_node(),
                        BackgroundColor(palette::BUTTON),
                        children![ui_text(&font, "", 20.0, palette::INK)],
                    ));
                });
                card.spawn((Slot::StartVoice, Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(8.0), ..default() }));
                card.spawn(Node { height: Val::Px(6.0), ..default() });
                card.spawn((button(StartAction::Host, "start-host", true), AsideForProxy));
                card.spawn((label("start-invite-label"), AsideForProxy, Node::default()));
                card.spawn(text_field(Field::Invite, ui_text(&font, "", 16.0, palette::INK)));
                // Before a meetup, a nurse can see whether this PC's network lets the room through.
                card.spawn(Node { column_gap: Val::Px(8.0), ..default() }).with_children(|row| {
                    row.spawn(button(StartAction::Join, "start-join", false));
                    // A nurse checks the network before a meetup; hospital IT names a proxy.
                    let small = |key| {
                        let node = Node {
                            padding: UiRect::axes(Val::Px(14.0), Val::Px(12.0)),
                            border_radius: BorderRadius::all(Val::Px(14.0)),
                            ..default()
                        };
                        (Button, node, BackgroundColor(palette::BUTTON), children![(ui_text(&font, "", 17.0, palette::INK), Localized(key))])
                    };
                    row.spawn((CheckNetworkButton, small("netcheck-button")));
                    row.spawn((StartAction::Proxy, small("start-proxy-button")));
                });
                // One line, so the card keeps its room for what the check says.
                card.spawn((
                    ProxyRow,
                    Node {
                        align_items: AlignItems::Center,
                        column_gap: Val::Px(8.0),
                        display: if proxy.shown { Display::Flex } else { Display::None },
                        ..default()
                    },
                ))
                .with_children(|row| {
                    row.spawn((ui_text(&font, "", 17.0, palette::INK_SOFT), Localized("start-proxy-label")));
                    row.spawn(text_field(Field::Proxy, ui_text(&font, "", 16.0, palette::INK))).entry::<Node>().and_modify(|mut node| {
                        node.flex_grow = 1.0;
                    });
                });
                card.spawn((StartMessage, ui_text(&font, "", 18.0, palette::NOTE), Node { min_height: Val::Px(24.0), ..default() }));
            });
        });
}

fn text_field(field: Field, text: impl Bundle) -> impl Bundle {
    (
        Button,
        field,
        Node {
            padding: UiRect::axes(Val::Px(14.0), Val::Px(8.0)),
            border: UiRect::all(Val::Px(2.0)),
            border_radius: BorderRadius::all(Val::Px(10.0)),
            ..default()
        },
        BorderColor::all(palette::BUTTON),
        BackgroundColor(Color::WHITE),
        children![(FieldText(field), text)],
    )
}

fn disable_ime(mut windows: Query<&mut Window, With<PrimaryWindow>>) {
    if let Ok(mut window) = windows.single_mut() {
        window.ime_enabled = false;
    }
}

/// Append typed text to a nickname, keeping it within the length limit.
pub fn append_to_nickname(nickname: &mut String, typed: &str) {
    crate::kit::typing::append_within(nickname, typed, MAX_NICKNAME_CHARS);
}

/// Append typed or pasted text to an invite: visible ASCII only (invites have
/// nothing else), within the length limit.
pub fn append_to_invite(invite: &mut String, typed: &str) {
    for c in typed.chars().filter(|c| c.is_ascii_graphic()) {
        if invite.len() >= MAX_INVITE_CHARS {
            break;
        }
        invite.push(c);
    }
}

/// What starting a join needs: where to go next, where to say what is
/// missing, and the proxy to keep first.
#[derive(SystemParam)]
struct Launcher<'w, 's> {
    plan: ResMut<'w, JoinPlan>,
    next: ResMut<'w, NextState<AppState>>,
    message: Query<'w, 's, &'static mut Text, With<StartMessage>>,
    texts: Res<'w, Texts>,
    proxy: ResMut<'w, ProxyText>,
    file: ResMut<'w, crate::SettingsFile>,
}

/// The field after `field` for Tab (the proxy's only while its row shows).
fn next_field(field: Field, proxy_shown: bool) -> Field {
    match field {
        Field::Nickname => Field::Invite,
        Field::Invite if proxy_shown => Field::Proxy,
        Field::Invite | Field::Proxy => Field::Nickname,
    }
}

fn type_text(mut typing: Typing, mut focus: ResMut<Focus>, mut settings: ResMut<Settings>, mut invite: ResMut<InviteText>, mut launcher: Launcher) {
    let Typed { text: typed, erase, submit, tab, .. } = typing.read();
    if tab {
        focus.0 = next_field(focus.0, launcher.proxy.shown);
    }
    if erase > 0 || !typed.is_empty() {
        match focus.0 {
            Field::Nickname => {
                let mut nickname = settings.nickname.clone();
                for _ in 0..erase {
                    nickname.pop();
                }
                append_to_nickname(&mut nickname, &typed);
                settings.nickname = nickname;
            }
            Field::Invite => {
                for _ in 0..erase {
                    invite.0.pop();
                }
                append_to_invite(&mut invite.0, &typed);
            }
            Field::Proxy => {
                for _ in 0..erase {
                    launcher.proxy.text.pop();
                }
                append_to_proxy(&mut launcher.proxy.text, &typed);
            }
        }
    }
    if submit && focus.0 == Field::Proxy {
        // Enter in the proxy's field keeps it (or says it is not one), and joins nothing.
        let key = if keep_proxy(&launcher.proxy, &mut launcher.file, settings.look).is_ok() { "start-proxy-kept" } else { "start-proxy-invalid" };
        launcher.say(settings.language, key);
        return;
    }
    if submit {
        let action = if focus.0 == Field::Invite && !invite.0.is_empty() { StartAction::Join } else { StartAction::Host };
        launcher.start(action, &settings, &invite.0, &mut focus.0);
    }
}

impl Launcher<'_, '_> {
    fn say(&mut self, language: Language, key: &str) {
        if let Ok(mut text) = self.message.single_mut() {
            text.0 = self.texts.get(language, key);
        }
    }

    /// Host or join if the choices allow it; otherwise say what is missing.
    fn start(&mut self, action: StartAction, settings: &Settings, invite: &str, focus: &mut Field) {
        if action == StartAction::Join && keep_proxy(&self.proxy, &mut self.file, settings.look).is_err() {
            *focus = Field::Proxy;
            return self.say(settings.language, "start-proxy-invalid");
        }
        let Launcher { plan, next, message, texts, .. } = self;
        start(action, settings, invite, focus, plan, next, &mut |key| {
            if let Ok(mut text) = message.single_mut() {
                text.0 = texts.get(settings.language, key);
            }
        });
    }
}

fn start(
    action: StartAction,
    settings: &Settings,
    invite: &str,
    focus: &mut Field,
    plan: &mut JoinPlan,
    next: &mut NextState<AppState>,
    say: &mut dyn FnMut(&str),
) {
    if !nickname_is_valid(&settings.nickname) {
        *focus = Field::Nickname;
        return say("start-nickname-invalid");
    }
    match action {
        StartAction::Host => *plan = JoinPlan::Host,
        StartAction::Join if invite.trim().is_empty() => {
            *focus = Field::Invite;
            return say("start-invite-hint");
        }
        StartAction::Join => match Invite::parse(invite) {
            Ok(parsed) => *plan = JoinPlan::Invite(parsed),
            Err(_) => {
                *focus = Field::Invite;
                return say("invite-error");
            }
        },
        _ => return,
    }
    say(if action == StartAction::Join { "start-joining" } else { "start-starting" });
    next.set(AppState::InRoom);
}

fn press_buttons(
    mut buttons: Query<(&Interaction, &StartAction, &mut BackgroundColor), Changed<Interaction>>,
    fields: Query<(&Interaction, &Field), Changed<Interaction>>,
    mut focus: ResMut<Focus>,
    mut settings: ResMut<Settings>,
    invite: Res<InviteText>,
    mut launcher: Launcher,
) {
    for (interaction, field) in &fields {
        if *interaction == Interaction::Pressed {
            focus.0 = *field;
        }
    }
    for (interaction, action, mut background) in &mut buttons {
        let main = *action == StartAction::Host;
        match (interaction, action) {
            (Interaction::Pressed, StartAction::Language(lang)) => {
                settings.language = *lang;
                if let Ok(mut text) = launcher.message.single_mut() {
                    text.0.clear();
                }
            }
            (Interaction::Pressed, StartAction::Host | StartAction::Join) => {
                launcher.start(*action, &settings, &invite.0, &mut focus.0);
            }
            (Interaction::Pressed, StartAction::Proxy) => {
                launcher.proxy.shown = !launcher.proxy.shown;
                focus.0 = if launcher.proxy.shown { Field::Proxy } else { Field::Invite };
            }
            (Interaction::Hovered, _) => background.0 = if main { palette::ACCENT_HOVER } else { palette::BUTTON_HOVER },
            (Interaction::None, _) => background.0 = if main { palette::ACCENT } else { palette::BUTTON },
        }
    }
}

/// The parts of the start screen that show the current choices.
#[derive(SystemParam)]
struct ChoiceWidgets<'w, 's> {
    field_texts: Query<'w, 's, (&'static FieldText, &'static mut Text, &'static mut TextColor)>,
    field_borders: Query<'w, 's, (&'static Field, &'static mut BorderColor), Without<StartAction>>,
}

fn show_choices(
    settings: Res<Settings>,
    invite: Res<InviteText>,
    proxy: Res<ProxyText>,
    focus: Res<Focus>,
    texts: Res<Texts>,
    time: Res<Time<Real>>,
    mut widgets: ChoiceWidgets,
) {
    let blink = time.elapsed_secs().fract() < 0.5;
    for (FieldText(field), mut text, mut color) in &mut widgets.field_texts {
        let caret = if *field == focus.0 && blink { "|" } else { " " };
        let masked;
        let (value, hint) = match field {
            Field::Nickname => (settings.nickname.as_str(), "start-nickname-hint"),
            Field::Invite => (invite.0.as_str(), "start-invite-hint"),
            Field::Proxy => {
                masked = masked_proxy_text(&proxy.text);
                (masked.as_str(), "start-proxy-hint")
            }
        };
        let (shown, tone) = if value.is_empty() {
            (format!("{caret} {}", texts.get(settings.language, hint)), palette::INK_SOFT)
        } else {
            (format!("{value}{caret}"), palette::INK)
        };
        if text.0 != shown {
            text.0 = shown;
        }
        color.0 = tone;
    }
    for (field, mut border) in &mut widgets.field_borders {
        *border = BorderColor::all(if *field == focus.0 { palette::ACCENT } else { palette::BUTTON });
    }
}
