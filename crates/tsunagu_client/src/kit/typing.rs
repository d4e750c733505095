//! Reading what a person types into a text field: keys, Ctrl+V, and the
//! input method (IME) that turns kana into kanji. One reader for the start
//! screen's fields and the chat.

use bevy::clipboard::Clipboard;
use bevy::ecs::query::{QueryData, QueryFilter};
use bevy::ecs::system::SystemParam;
use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::input_focus::InputFocus;
use bevy::prelude::*;
use bevy::window::Ime;

/// Add `typed` to `text` without control characters, stopping at `max_chars`
/// characters: the one rule for every field (nickname, chat).
pub fn append_within(text: &mut String, typed: &str, max_chars: usize) {
    for c in typed.chars().filter(|c| !c.is_control()) {
        if text.chars().count() >= max_chars {
            break;
        }
        text.push(c);
    }
}

/// What was typed since the last frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Typed {
    /// Text to add: typed, pasted, or committed by the IME.
    pub text: String,
    /// Characters to erase from the end (Backspace).
    pub erase: usize,
    /// Enter was pressed (and not to confirm an IME conversion).
    pub submit: bool,
    /// Tab was pressed.
    pub tab: bool,
    /// Escape was pressed.
    pub cancel: bool,
    /// What the IME is composing now, if it said (empty: nothing).
    pub composing: Option<String>,
}

/// Keys, the input method and the clipboard: what typing reads.
#[derive(SystemParam)]
pub struct Typing<'w, 's> {
    keys: MessageReader<'w, 's, KeyboardInput>,
    ime: MessageReader<'w, 's, Ime>,
    held: Res<'w, ButtonInput<KeyCode>>,
    clipboard: ResMut<'w, Clipboard>,
}

impl Typing<'_, '_> {
    /// Everything typed since the last call.
    pub fn read(&mut self) -> Typed {
        let ctrl = self.held.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight]);
        let mut typed = Typed::default();
        for key in self.keys.read() {
            if key.state != ButtonState::Pressed {
                continue;
            }
            match &key.logical_key {
                Key::Backspace => typed.erase += 1,
                Key::Enter => typed.submit = true,
                Key::Tab => typed.tab = true,
                Key::Escape => typed.cancel = true,
                Key::Character(c) if ctrl && c.eq_ignore_ascii_case("v") => {
                    if let Some(Ok(pasted)) = self.clipboard.fetch_text().poll_result() {
                        typed.text.push_str(pasted.trim());
                    }
                }
                Key::Character(_) if ctrl => {}
                Key::Character(c) => typed.text.push_str(c),
                Key::Space => typed.text.push(' '),
                _ => {}
            }
        }
        for event in self.ime.read() {
            match event {
                Ime::Commit { value, .. } => {
                    typed.text.push_str(value);
                    // The Enter that confirmed a conversion is not a send.
                    typed.submit = false;
                    typed.composing = Some(String::new());
                }
                Ime::Preedit { value, .. } => typed.composing = Some(value.clone()),
                Ime::Enabled { .. } | Ime::Disabled { .. } => {}
            }
        }
        typed
    }
}

/// Whether the keys' focus is on one of `fields` (a text field, or one field
/// in particular).
pub fn focus_is_on<D: QueryData, F: QueryFilter>(focus: Option<&InputFocus>, fields: &Query<D, F>) -> bool {
    focus.and_then(InputFocus::get).is_some_and(|on| fields.contains(on))
}

/// A text field: while Bevy's [`InputFocus`] is on one, keys are letters, not
/// steps, gestures or the talk key.
#[derive(Component, Default)]
pub struct TextField;

/// Run condition: no text field has the keys (they mean walking, gestures, mute).
pub fn not_typing(focus: Option<Res<InputFocus>>, fields: Query<(), With<TextField>>) -> bool {
    !focus_is_on(focus.as_deref(), &fields)
}

/// Writing a Tanabata wish on paper of this colour instead of a chat line.
/// Play chooses the paper; the chat's field, which wishes are written in
/// (same keys, IME and rules), takes the keys when it changes to `Some` and
/// puts it back to `None` when the wish is sent or given up.
#[derive(Resource, Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaperInHand(pub Option<tsunagu_protocol::Paper>);

/// The keyboard as the room's keys (walking, gestures, talk): silent while a
/// text field has the keys, so letters typed are never steps.
#[derive(SystemParam)]
pub struct RoomKeys<'w, 's> {
    keys: Res<'w, ButtonInput<KeyCode>>,
    focus: Option<Res<'w, InputFocus>>,
    fields: Query<'w, 's, (), With<TextField>>,
}

impl RoomKeys<'_, '_> {
    /// Someone is typing: the room's keys do nothing.
    pub fn typing(&self) -> bool {
        focus_is_on(self.focus.as_deref(), &self.fields)
    }

    /// Any of `codes` is held, and nobody is typing.
    pub fn pressed(&self, codes: impl IntoIterator<Item = KeyCode>) -> bool {
        !self.typing() && self.keys.any_pressed(codes)
    }
}

/// Whether a text field has the keys, read straight from the world (tests
/// and the screenshot scenario; systems use [`not_typing`] or [`RoomKeys`]).
pub fn text_field_has_keys(world: &World) -> bool {
    world.get_resource::<InputFocus>().and_then(InputFocus::get).is_some_and(|on| world.get::<TextField>(on).is_some())
}
