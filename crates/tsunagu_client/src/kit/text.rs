//! User-facing text: the locale bundles, the font with Japanese glyphs, and
//! [`Localized`] text nodes that follow the chosen language.

use bevy::prelude::*;
use tsunagu_i18n::{Arg, Language, Locales};

use crate::Settings;
use crate::kit::hud::FillSlot;

/// The font every text uses: M PLUS 2 (OFL), with Japanese glyphs.
pub const FONT_PATH: &str = "fonts/Mplus2-Medium.otf";

/// The locale bundles.
#[derive(Resource)]
pub struct Texts(pub Locales);

impl Texts {
    /// Text for `key` in `lang`.
    pub fn get(&self, lang: Language, key: &str) -> String {
        self.0.text(lang, key)
    }

    /// Text for `key` in `lang` with arguments.
    pub fn get_with(&self, lang: Language, key: &str, args: &[(&str, Arg)]) -> String {
        self.0.text_with(lang, key, args)
    }

    /// The text as written, for a name sent to the room (no word joiners).
    pub fn plain_with(&self, lang: Language, key: &str, args: &[(&str, Arg)]) -> String {
        self.0.plain_text_with(lang, key, args)
    }
}

/// The texts in the language this person chose: what a system reads to
/// write a line, instead of the settings and the bundles side by side.
#[derive(bevy::ecs::system::SystemParam)]
pub struct Words<'w> {
    settings: Res<'w, Settings>,
    texts: Res<'w, Texts>,
}

impl Words<'_> {
    /// Text for `key`.
    pub fn get(&self, key: &str) -> String {
        self.texts.get(self.settings.language, key)
    }

    /// Text for `key` with arguments.
    pub fn get_with(&self, key: &str, args: &[(&str, Arg)]) -> String {
        self.texts.get_with(self.settings.language, key, args)
    }

    /// The language changed since this system last ran (labels are written again).
    pub fn changed(&self) -> bool {
        self.settings.is_changed()
    }
}

/// A button's label (its text children) says `label`; written only when it
/// differs, so unchanged labels are not laid out again.
pub fn write_label(children: &Children, labels: &mut Query<&mut Text>, label: &str) {
    for child in children.iter() {
        if let Ok(mut text) = labels.get_mut(child)
            && text.0 != label
        {
            label.clone_into(&mut text.0);
        }
    }
}

/// The UI font handle.
#[derive(Resource, Clone)]
pub struct UiFont(pub Handle<Font>);

/// A text node showing the message `key`, redrawn when the language changes.
#[derive(Component, Clone, Copy)]
pub struct Localized(pub &'static str);

/// Loads texts and the font; keeps [`Localized`] nodes in the current language.
pub struct TextPlugin;

impl Plugin for TextPlugin {
    fn build(&self, app: &mut App) {
        // The locale files are compiled in and tested; failing here is a build defect.
        let locales = Locales::load().unwrap_or_else(|e| panic!("locale files are broken: {e}"));
        // Loaded here, not in a startup system: the first state's OnEnter runs before
        // Startup and already builds text.
        let font = app.world().resource::<AssetServer>().load(FONT_PATH);
        app.insert_resource(Texts(locales))
            .insert_resource(UiFont(font))
            .add_systems(PostUpdate, refresh_localized)
            .add_systems(Update, (step_text_size, apply_text_size).chain())
            .fill_slot(crate::kit::hud::Slot::Drawer(crate::kit::hud::Drawer::Settings), |row, font| {
                crate::kit::hud::spawn_bar_button(row, font, TextSizeButton, None, crate::kit::hud::BarButtonLook::Plain, false);
            });
    }
}

/// A text bundle in the UI font.
pub fn ui_text(font: &UiFont, text: impl Into<String>, size: f32, color: Color) -> impl Bundle {
    (Text::new(text), TextFont { font: font.0.clone().into(), font_size: FontSize::Px(size), ..default() }, TextColor(color))
}

fn refresh_localized(settings: Res<Settings>, texts: Res<Texts>, mut nodes: Query<(Ref<Localized>, &mut Text)>) {
    for (localized, mut text) in &mut nodes {
        if settings.is_changed() || localized.is_changed() {
            let wanted = texts.get(settings.language, localized.0);
            if text.0 != wanted {
                text.0 = wanted;
            }
        }
    }
}

/// Buttons of one kind pressed (or hovered, or let go) this frame, with
/// their labels.
pub type ButtonsChanged<'w, 's, T> = Query<'w, 's, (&'static Interaction, &'static Children), (With<T>, Changed<Interaction>)>;

/// Buttons of one kind whose labels say how things stand: which were
/// pressed this frame, and writing their labels when they are new, the
/// language changed, or what they say did.
#[derive(bevy::ecs::system::SystemParam)]
pub struct LabelledButtons<'w, 's, T: Component> {
    buttons: Query<'w, 's, (Ref<'static, Interaction>, &'static T, &'static Children)>,
    new: Query<'w, 's, (), Added<T>>,
    labels: Query<'w, 's, &'static mut Text>,
    words: Words<'w>,
}

impl<T: Component> LabelledButtons<'_, '_, T> {
    /// The buttons pressed this frame.
    pub fn pressed(&self) -> Vec<&T> {
        self.buttons.iter().filter(|(i, _, _)| i.is_changed() && **i == Interaction::Pressed).map(|(_, b, _)| b).collect()
    }

    /// The labels need writing whatever happened: a button is new, or the language changed.
    pub fn stale(&self) -> bool {
        !self.new.is_empty() || self.words.changed()
    }

    /// Write each button's label as `label` says for it.
    pub fn write(&mut self, label: impl Fn(&T, &Words) -> String) {
        for (_, button, children) in &self.buttons {
            write_label(children, &mut self.labels, &label(button, &self.words));
        }
    }
}

/// The button that makes the screen's letters bigger, then back: one press
/// steps normal → large → largest → normal, kept on this PC.
#[derive(Component)]
pub struct TextSizeButton;

/// The message that names a letter size (on its button).
pub fn text_size_label(size: tsunagu_client_core::settings::TextSize) -> &'static str {
    use tsunagu_client_core::settings::TextSize;
    match size {
        TextSize::Normal => "text-size-normal",
        TextSize::Large => "text-size-large",
        TextSize::Largest => "text-size-largest",
    }
}

/// A button that steps one of this PC's kept choices: a press steps it
/// (`step`) and saves the settings file; the label says the choice as it
/// is now (`label`), written when the button is new, pressed, or the
/// language changed. The letter size's and the connection's buttons.
pub fn step_kept_choice<T: Component>(
    buttons: &mut LabelledButtons<T>,
    file: Option<ResMut<crate::SettingsFile>>,
    settings: Option<Res<Settings>>,
    step: impl FnOnce(&mut crate::SettingsFile),
    label: impl Fn(&crate::SettingsFile) -> &'static str,
) {
    let (Some(mut file), Some(settings)) = (file, settings) else { return };
    let pressed = !buttons.pressed().is_empty();
    if pressed {
        step(&mut file);
        file.save(settings.look);
    }
    if pressed || buttons.stale() {
        let key = label(&file);
        buttons.write(|_, words| words.get(key));
    }
}

/// A press steps the size, saves it, and says the new one on the button.
fn step_text_size(mut buttons: LabelledButtons<TextSizeButton>, file: Option<ResMut<crate::SettingsFile>>, settings: Option<Res<Settings>>) {
    step_kept_choice(&mut buttons, file, settings, |f| f.text_size = f.text_size.next(), |f| text_size_label(f.text_size));
}

/// Windows up to this tall (logical pixels) show the UI as designed; taller
/// ones (a wall TV, a big monitor) show it bigger, in quarter steps, up to
/// [`MOST_WINDOW_GROWTH`].
pub const DESIGNED_WINDOW_HEIGHT: f32 = 768.0;
/// How much bigger than designed a tall window shows the UI, at most.
pub const MOST_WINDOW_GROWTH: f32 = 1.5;
/// The UI is never drawn so big that the window is fewer UI pixels tall
/// than this: the biggest drawer and the bar must fit in it.
pub const LEAST_UI_HEIGHT: f32 = 480.0;

/// How big the UI is drawn: the letters' size a person chose, times a
/// growth with the window's height (so buttons and words keep their share
/// of a big screen seen from across the room), as far as the window has
/// room for. Quarter steps: the layout's sizes stay exact in binary, so a
/// row that fits is never wrapped by a rounding.
pub fn ui_scale(text_size: tsunagu_client_core::settings::TextSize, window_height: f32) -> f32 {
    let growth = ((window_height / DESIGNED_WINDOW_HEIGHT * 4.0).floor() / 4.0).clamp(1.0, MOST_WINDOW_GROWTH);
    let room = ((window_height / LEAST_UI_HEIGHT * 4.0).floor() / 4.0).max(1.0);
    (text_size.scale() * growth).min(room)
}

/// Every card and letter at the chosen size, for this window.
fn apply_text_size(
    file: Option<Res<crate::SettingsFile>>,
    scale: Option<ResMut<UiScale>>,
    windows: Query<&Window, With<bevy::window::PrimaryWindow>>,
) {
    let (Some(file), Some(mut scale)) = (file, scale) else { return };
    let height = windows.single().map_or(DESIGNED_WINDOW_HEIGHT, Window::height);
    let wanted = ui_scale(file.text_size, height);
    if (scale.0 - wanted).abs() > f32::EPSILON {
        scale.0 = wanted;
    }
}
