//! Ready phrases (issue 32): a small, kind set of words a child can say
//! without typing — for days when the mouth hurts, a mask is on, or typing
//! is too much. One tap sends the phrase as a chat line in the child's
//! language (a bubble over their head, in everyone's chat); the chat drawer
//! then closes, as a stamp's does. The phrases live in the locale files.

use bevy::prelude::*;
use tsunagu_protocol::ClientEvent;

use crate::AppState;
use crate::kit::hud::{Drawer, FillSlot, OpenDrawer, Slot};
use crate::kit::net::SendRoomEvent;
use crate::kit::palette;
use crate::kit::text::{Localized, Texts, UiFont, ui_text};

/// The phrases, as message ids, in the order they are offered: answers
/// first, then asking for time or a repeat, then how I am.
pub const PHRASES: [&str; 10] = [
    "phrase-yes",
    "phrase-no",
    "phrase-wait",
    "phrase-got-it",
    "phrase-thanks",
    "phrase-laughing",
    "phrase-again",
    "phrase-cant-hear",
    "phrase-back-soon",
    "phrase-hurts",
];

/// The phrases in the chat drawer, and sending them.
pub struct PhrasesPlugin;

impl Plugin for PhrasesPlugin {
    fn build(&self, app: &mut App) {
        app.fill_slot(Slot::Drawer(Drawer::Chat), spawn_phrases).add_systems(Update, say_phrase.run_if(in_state(AppState::InRoom)));
    }
}

/// A phrase's button: its message id.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhraseButton(pub &'static str);

fn spawn_phrases(drawer: &mut ChildSpawnerCommands, font: &UiFont) {
    drawer
        .spawn(Node { flex_wrap: FlexWrap::Wrap, column_gap: Val::Px(6.0), row_gap: Val::Px(6.0), max_width: Val::Px(560.0), ..default() })
        .with_children(|row| {
            for key in PHRASES {
                row.spawn((
                    Button,
                    PhraseButton(key),
                    Node {
                        padding: UiRect::axes(Val::Px(12.0), Val::Px(6.0)),
                        min_height: Val::Px(40.0),
                        align_items: AlignItems::Center,
                        border_radius: BorderRadius::all(Val::Px(12.0)),
                        ..default()
                    },
                    BackgroundColor(palette::BUTTON),
                ))
                .with_children(|b| {
                    b.spawn((ui_text(font, "", 17.0, palette::INK), Localized(key)));
                });
            }
        });
}

fn say_phrase(
    buttons: Query<(&Interaction, &PhraseButton), Changed<Interaction>>,
    texts: Res<Texts>,
    settings: Res<crate::Settings>,
    mut send: MessageWriter<SendRoomEvent>,
    mut open: ResMut<OpenDrawer>,
) {
    for (_, phrase) in buttons.iter().filter(|(i, _)| **i == Interaction::Pressed) {
        // The words themselves, without the marks a drawn paragraph needs.
        send.write(SendRoomEvent(ClientEvent::Chat(texts.plain_with(settings.language, phrase.0, &[]))));
        open.used(Drawer::Chat);
    }
}
