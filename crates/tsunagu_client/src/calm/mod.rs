//! Each child's own controls, on this PC only and never told to anyone: how
//! each person is heard and seen (their name tag cycles softer, silent,
//! hidden), and a calm button that at once hides and silences everyone but
//! the facilitators, until pressed again.

pub mod personal_space;

use bevy::prelude::*;
use tsunagu_protocol::Role;

use crate::AppState;
use crate::kit::hud::{BarButtonLook, spawn_bar_button};
use crate::kit::hud::{Drawer, FillSlot, Slot, wrist_button};
use crate::kit::palette;
use crate::kit::room::Calmed;
use crate::kit::room::LocalVolume;
use crate::kit::room::{AvatarInfo, RemoteAvatar};
use crate::kit::text::{Localized, UiFont, ui_text};

/// The calm button and the choices, applied to sight and sound.
pub struct CalmPlugin;

impl Plugin for CalmPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Calm>()
            .fill_slot(Slot::Drawer(Drawer::Settings), spawn_calm_section)
            .fill_slot(Slot::WristButtons, |row, font| {
                row.spawn((Button, CalmButton, Node { flex_basis: Val::Percent(40.0), ..wrist_button() }, BackgroundColor(palette::BUTTON)))
                    .with_children(|b| {
                        b.spawn((ui_text(font, "", 26.0, palette::INK), Localized("calm-on")));
                    });
            })
            .add_systems(OnExit(AppState::InRoom), |mut calm: ResMut<Calm>| calm.0 = false)
            .add_systems(Update, (press_buttons, apply_choices, label_buttons).chain().run_if(in_state(AppState::InRoom)));
    }
}

/// The calm button is on: only facilitators are seen and heard.
#[derive(Resource, Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calm(pub bool);

/// Turns calm on and off.
#[derive(Component)]
pub struct CalmButton;

/// Brings back everyone hidden with their name tag.
#[derive(Component)]
pub struct ShowHiddenButton;

/// The HUD's part: the calm button, and the one that brings hidden people back.
pub fn spawn_calm_section(parent: &mut ChildSpawnerCommands, font: &UiFont) {
    spawn_bar_button(parent, font, CalmButton, Some("calm-on"), BarButtonLook::Plain, false);
    spawn_bar_button(parent, font, ShowHiddenButton, Some("calm-show-hidden"), BarButtonLook::Plain, true);
}

fn press_buttons(
    calm_buttons: Query<&Interaction, (With<CalmButton>, Changed<Interaction>)>,
    show_buttons: Query<&Interaction, (With<ShowHiddenButton>, Changed<Interaction>)>,
    mut calm: ResMut<Calm>,
    mut choices: Query<&mut LocalVolume>,
) {
    if calm_buttons.iter().any(|i| *i == Interaction::Pressed) {
        calm.0 = !calm.0;
    }
    if show_buttons.iter().any(|i| *i == Interaction::Pressed) {
        for mut choice in &mut choices {
            if *choice == LocalVolume::Hidden {
                *choice = LocalVolume::Full;
            }
        }
    }
}

/// Each remote person as this child chose, with calm over it: seen or not
/// (this frame), and their voice's volume here.
fn apply_choices(calm: Res<Calm>, mut avatars: Query<(&AvatarInfo, &LocalVolume, &mut Calmed, &mut Visibility), With<RemoteAvatar>>) {
    for (info, choice, mut calmed, mut visibility) in &mut avatars {
        calmed.set_if_neq(Calmed(calm.0 && info.0.role != Role::Facilitator));
        let (_, seen) = choice.effect(calmed.0);
        visibility.set_if_neq(if seen { Visibility::Inherited } else { Visibility::Hidden });
    }
}

fn label_buttons(
    calm: Res<Calm>,
    choices: Query<&LocalVolume>,
    mut calm_labels: Query<&mut Localized>,
    calm_buttons: Query<&Children, With<CalmButton>>,
    mut show_buttons: Query<&mut Node, With<ShowHiddenButton>>,
) {
    let key = if calm.0 { "calm-off" } else { "calm-on" };
    for children in &calm_buttons {
        for child in children.iter() {
            if let Ok(mut label) = calm_labels.get_mut(child)
                && label.0 != key
            {
                label.0 = key;
            }
        }
    }
    let any_hidden = choices.iter().any(|c| *c == LocalVolume::Hidden);
    for mut node in &mut show_buttons {
        let display = if any_hidden { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
    }
}
