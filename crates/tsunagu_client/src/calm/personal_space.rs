//! Personal space, on this PC only: other avatars fade out as they come
//! inside my bubble (0.6 m unless I choose otherwise), and walking goes
//! around people instead of into them. The server keeps bodies apart anyway
//! (`tsunagu_sim::motion::keep_apart`); this is how it feels from inside.
//!
//! Fading swaps each part's material for a see-through copy at one of a few
//! steps, shared by every avatar, so a crowded room makes a handful of
//! materials, not one per avatar.

use std::collections::HashMap;

use bevy::prelude::*;
use tsunagu_i18n::Arg;

use crate::kit::hud::{BarButtonLook, spawn_bar_button};
use crate::kit::hud::{Drawer, FillSlot, Slot, wrist_button};
use crate::kit::me::LocalPlayer;
use crate::kit::palette;
use crate::kit::room::RemoteAvatar;
use crate::kit::text::{Texts, UiFont, ui_text};
use crate::{AppState, Settings, SettingsFile};

/// Bubble sizes the button steps through, centimetres (0: no fading).
pub const SPACE_STEPS_CM: [u16; 5] = [30, 60, 90, 120, 0];

/// Fading steps between gone (0) and fully there.
pub const FADE_STEPS: u8 = 4;

/// Fading, and the button that sizes the bubble.
pub struct PersonalSpacePlugin;

impl Plugin for PersonalSpacePlugin {
    fn build(&self, app: &mut App) {
        app.register_required_components::<RemoteAvatar, Faded>()
            .fill_slot(Slot::Drawer(Drawer::Settings), spawn_space_button)
            .fill_slot(Slot::WristButtons, |row, font| {
                row.spawn((Button, SpaceButton, Node { flex_basis: Val::Percent(40.0), ..wrist_button() }, BackgroundColor(palette::BUTTON)))
                    .with_children(|b| {
                        b.spawn(ui_text(font, "", 26.0, palette::INK));
                    });
            })
            .init_resource::<FadedMaterials>()
            .add_systems(Update, (size_the_bubble, fade_close_avatars).chain().run_if(in_state(AppState::InRoom)));
    }
}

/// How clearly a remote avatar shows now, in [`FADE_STEPS`] (all of them: not faded).
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faded(pub u8);

impl Default for Faded {
    fn default() -> Self {
        Faded(FADE_STEPS)
    }
}

/// The button that sizes my bubble.
#[derive(Component)]
pub struct SpaceButton;

/// How clearly someone `distance` metres from me shows, for a bubble of
/// `space` metres: fully at its edge and beyond, gone at half of it, in
/// even steps between.
pub fn fade_level(distance: f32, space: f32) -> u8 {
    if space <= 0.0 || distance >= space {
        return FADE_STEPS;
    }
    let through = ((distance - space / 2.0) / (space / 2.0)).clamp(0.0, 1.0);
    (through * f32::from(FADE_STEPS)).round() as u8
}

/// The see-through copies of avatar materials, made once per material and
/// step, and which original each copy came from.
#[derive(Resource, Default)]
pub struct FadedMaterials {
    copies: HashMap<(AssetId<StandardMaterial>, u8), Handle<StandardMaterial>>,
    originals: HashMap<AssetId<StandardMaterial>, Handle<StandardMaterial>>,
}

impl FadedMaterials {
    /// `material` as it shows at fade `level` (the original when not faded).
    fn at_level(&mut self, materials: &mut Assets<StandardMaterial>, material: &Handle<StandardMaterial>, level: u8) -> Handle<StandardMaterial> {
        let original = self.originals.get(&material.id()).cloned().unwrap_or_else(|| material.clone());
        if level >= FADE_STEPS {
            return original;
        }
        if let Some(copy) = self.copies.get(&(original.id(), level)) {
            return copy.clone();
        }
        let Some(mut faded) = materials.get(&original).cloned() else { return material.clone() };
        faded.base_color.set_alpha(f32::from(level) / f32::from(FADE_STEPS));
        faded.alpha_mode = AlphaMode::Blend;
        let copy = materials.add(faded);
        self.copies.insert((original.id(), level), copy.clone());
        self.originals.insert(copy.id(), original);
        copy
    }

    /// How many see-through copies exist (for tests).
    pub fn count(&self) -> usize {
        self.copies.len()
    }
}

/// The button, for the HUD's row of buttons.
pub fn spawn_space_button(parent: &mut ChildSpawnerCommands, font: &UiFont) {
    spawn_bar_button(parent, font, SpaceButton, None, BarButtonLook::Plain, false);
}

/// The bubble in metres.
pub fn bubble_metres(file: &SettingsFile) -> f32 {
    f32::from(file.personal_space_cm) / 100.0
}

/// A press steps to the next size (and remembers it on this PC); the
/// labels say the size now (written when it, the language or the buttons change).
fn size_the_bubble(
    buttons: Query<(Ref<Interaction>, &Children), With<SpaceButton>>,
    new_buttons: Query<(), Added<SpaceButton>>,
    mut file: ResMut<SettingsFile>,
    settings: Res<Settings>,
    texts: Res<Texts>,
    mut labels: Query<&mut Text>,
) {
    for (interaction, _) in &buttons {
        if interaction.is_changed() && *interaction == Interaction::Pressed {
            let at = SPACE_STEPS_CM.iter().position(|cm| *cm == file.personal_space_cm);
            file.personal_space_cm = SPACE_STEPS_CM[at.map_or(1, |i| (i + 1) % SPACE_STEPS_CM.len())];
            file.save(settings.look);
        }
    }
    if !file.is_changed() && !settings.is_changed() && new_buttons.is_empty() {
        return;
    }
    let label = match file.personal_space_cm {
        0 => texts.get(settings.language, "space-off"),
        cm => texts.get_with(settings.language, "space-size", &[("cm", Arg::Num(f64::from(cm)))]),
    };
    for (_, children) in &buttons {
        crate::kit::text::write_label(children, &mut labels, &label);
    }
}

/// Everyone inside my bubble fades with how close they are; each part of
/// them shows through the see-through copy of its material.
fn fade_close_avatars(
    file: Res<SettingsFile>,
    me: Query<&Transform, With<LocalPlayer>>,
    mut avatars: Query<(Entity, &Transform, &mut Faded), With<RemoteAvatar>>,
    children: Query<&Children>,
    mut parts: Query<&mut MeshMaterial3d<StandardMaterial>>,
    mut faded: ResMut<FadedMaterials>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let Ok(me) = me.single() else { return };
    let space = bubble_metres(&file);
    for (avatar, transform, mut shown) in &mut avatars {
        let level = fade_level(me.translation.with_y(0.0).distance(transform.translation.with_y(0.0)), space);
        // Faded avatars are painted every frame: a look change adds opaque parts.
        if level == shown.0 && level == FADE_STEPS {
            continue;
        }
        shown.0 = level;
        for part in children.iter_descendants(avatar) {
            if let Ok(mut material) = parts.get_mut(part) {
                let wanted = faded.at_level(&mut materials, &material.0, level);
                if material.0 != wanted {
                    material.0 = wanted;
                }
            }
        }
    }
}
