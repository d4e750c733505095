//! 「つぎの ひとへ」 on the start screen, for a ward PC many children share:
//! one press puts back everything the last child chose (look, name, personal
//! space, letter size, the headset's comfort), keeping what is the PC's (its
//! installation number, IT's proxy, the line's choice); then, if Tsunagu
//! saved pictures here (they can show other children's wishes), a second
//! button offers to delete them too. Nothing about the child is written or
//! logged on the way.

use std::path::PathBuf;

use bevy::prelude::*;
use tsunagu_client_core::settings::{for_the_next_child, saved_pictures};
use tsunagu_i18n::Arg;

use super::StartMessage;
use super::netcheck::StartSays;
use crate::kit::hud::{BarButtonLook, spawn_bar_button};
use crate::kit::text::{Texts, UiFont};
use crate::{PicturesFolder, Settings, SettingsFile};

/// The button that clears the last child's choices.
#[derive(Component)]
pub struct NextChildButton;

/// The button that deletes the pictures Tsunagu saved here; shown only
/// after 「つぎの ひとへ」 found some.
#[derive(Component)]
pub struct DeletePicturesButton;

/// The pictures 「つぎの ひとへ」 found, waiting for a yes.
#[derive(Resource, Default, Debug)]
pub struct PicturesToDelete(pub Vec<PathBuf>);

/// The two buttons, for the avatar's card.
pub(super) fn spawn_buttons(card: &mut ChildSpawnerCommands, font: &UiFont) {
    card.spawn(Node { column_gap: Val::Px(8.0), flex_wrap: FlexWrap::Wrap, row_gap: Val::Px(6.0), ..default() }).with_children(|row| {
        spawn_bar_button(row, font, NextChildButton, Some("start-next-child"), BarButtonLook::Plain, false);
        spawn_bar_button(row, font, DeletePicturesButton, None, BarButtonLook::Plain, true);
    });
}

pub(super) fn press_next_child(
    buttons: Query<&Interaction, (With<NextChildButton>, Changed<Interaction>)>,
    mut file: ResMut<SettingsFile>,
    mut settings: ResMut<Settings>,
    folder: Res<PicturesFolder>,
    mut found: ResMut<PicturesToDelete>,
    texts: Res<Texts>,
    mut message: Query<&mut Text, With<StartMessage>>,
) {
    if !buttons.iter().any(|i| *i == Interaction::Pressed) {
        return;
    }
    let next = for_the_next_child(&file.saved(settings.look), &crate::fresh_settings());
    file.take(&next);
    file.save(next.look);
    settings.look = next.look;
    settings.nickname.clear();
    found.0 = saved_pictures(&folder.0);
    info!("tsunagu: the last child's choices were cleared for the next");
    let line = match found.0.len() {
        0 => texts.get(settings.language, "start-next-child-done"),
        n => texts.get_with(settings.language, "start-next-child-pictures", &[("count", Arg::Num(n as f64))]),
    };
    if let Ok(mut shown) = message.single_mut() {
        shown.0 = line;
    }
}

pub(super) fn press_delete_pictures(
    buttons: Query<&Interaction, (With<DeletePicturesButton>, Changed<Interaction>)>,
    mut found: ResMut<PicturesToDelete>,
    mut says: StartSays,
) {
    if !buttons.iter().any(|i| *i == Interaction::Pressed) || found.0.is_empty() {
        return;
    }
    let (mut deleted, mut kept) = (0usize, 0usize);
    for picture in found.0.drain(..) {
        match std::fs::remove_file(&picture) {
            Ok(()) => deleted += 1,
            // Already gone is as good as deleted.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => deleted += 1,
            Err(_) => kept += 1,
        }
    }
    // The count only: a path names the PC's user.
    if kept > 0 {
        warn!("tsunagu: {kept} saved pictures could not be deleted");
    }
    let line = match kept {
        0 => says.text("start-pictures-deleted", &[("count", Arg::Num(deleted as f64))]),
        n => says.text("start-pictures-not-deleted", &[("count", Arg::Num(n as f64))]),
    };
    says.show(line);
}

/// The delete button while there is something to delete, saying how many.
pub(super) fn show_delete_button(
    found: Res<PicturesToDelete>,
    mut buttons: Query<(&mut Node, &Children), With<DeletePicturesButton>>,
    mut labels: Query<&mut Text>,
    words: crate::kit::text::Words,
) {
    if !found.is_changed() && !words.changed() {
        return;
    }
    let count = found.0.len();
    for (mut node, children) in &mut buttons {
        node.display = if count > 0 { Display::Flex } else { Display::None };
        let label = words.get_with("start-delete-pictures", &[("count", Arg::Num(count as f64))]);
        crate::kit::text::write_label(children, &mut labels, &label);
    }
}
