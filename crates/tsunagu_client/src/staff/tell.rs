//! Telling the staff, quietly. Every name tag carries a small 「しらせる」
//! button; pressed, it offers three kinds of thing (what they say, coming too
//! close, something else); the second press tells every facilitator at once
//! (the server passes it to them alone, `ClientEvent::TellStaff`) and hides
//! that person on this screen, as the name tag's "hidden" step does
//! (「みえなく した ひとを もどす」 brings them back). Nothing is kept or written.

use bevy::prelude::*;
use tsunagu_protocol::{ClientEvent, ConcernKind};

use crate::AppState;
use crate::kit::net::SendRoomEvent;
use crate::kit::palette;
use crate::kit::room::LocalVolume;
use crate::kit::room::{NameTag, OwnAvatar, RemoteAvatar};
use crate::kit::text::{Localized, UiFont, ui_text};

/// The name tags' "tell the staff" button.
pub struct TellStaffPlugin;

impl Plugin for TellStaffPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, (add_tell_buttons, open_choices, tell).chain().run_if(in_state(AppState::InRoom)));
    }
}

/// The first press: on a name tag, for the person it follows.
#[derive(Component)]
pub struct TellStaffButton {
    /// The avatar of the person.
    pub target: Entity,
}

/// The second press: one kind of thing to tell about the person.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcernChoice {
    /// The avatar of the person.
    pub target: Entity,
    /// What kind of thing.
    pub kind: ConcernKind,
}

/// The row of choices under a name tag, while it is open.
#[derive(Component)]
struct Choices;

/// Each kind, in the order shown, with its label.
const KINDS: [(ConcernKind, &str); 3] =
    [(ConcernKind::Words, "tell-staff-words"), (ConcernKind::TooClose, "tell-staff-too-close"), (ConcernKind::Other, "tell-staff-other")];

fn small_button() -> (Button, Node, BackgroundColor) {
    (
        Button,
        Node {
            padding: UiRect::axes(Val::Px(7.0), Val::Px(2.0)),
            margin: UiRect::left(Val::Px(6.0)),
            border_radius: BorderRadius::all(Val::Px(8.0)),
            ..default()
        },
        BackgroundColor(palette::BUTTON),
    )
}

/// Each other person's name tag gets the button (there is no telling about myself).
fn add_tell_buttons(mut commands: Commands, font: Res<UiFont>, tags: Query<(Entity, &NameTag), Added<NameTag>>, own: Query<(), With<OwnAvatar>>) {
    for (tag, name_tag) in tags.iter().filter(|(_, t)| !own.contains(t.target)) {
        commands.entity(tag).with_children(|tag| {
            tag.spawn((small_button(), TellStaffButton { target: name_tag.target })).with_children(|button| {
                button.spawn((ui_text(&font, "", 13.0, palette::INK_SOFT), Localized("tell-staff")));
            });
        });
    }
}

/// The first press opens the choices beside the name (a second press on it closes them).
fn open_choices(
    mut commands: Commands,
    font: Res<UiFont>,
    buttons: Query<(&Interaction, &TellStaffButton, &ChildOf), Changed<Interaction>>,
    open: Query<(Entity, &ChildOf), With<Choices>>,
) {
    for (interaction, button, tag) in &buttons {
        if *interaction != Interaction::Pressed {
            continue;
        }
        let already: Vec<Entity> = open.iter().filter(|(_, parent)| parent.parent() == tag.parent()).map(|(e, _)| e).collect();
        if !already.is_empty() {
            for row in already {
                commands.entity(row).despawn();
            }
            continue;
        }
        commands.entity(tag.parent()).with_children(|tag| {
            tag.spawn((Choices, Node { column_gap: Val::Px(2.0), ..default() })).with_children(|row| {
                for (kind, label) in KINDS {
                    row.spawn((small_button(), ConcernChoice { target: button.target, kind })).with_children(|choice| {
                        choice.spawn((ui_text(&font, "", 13.0, palette::INK), Localized(label)));
                    });
                }
            });
        });
    }
}

/// The second press: the staff are told, and the person is hidden here.
fn tell(
    mut commands: Commands,
    choices: Query<(&Interaction, &ConcernChoice, &ChildOf), Changed<Interaction>>,
    mut people: Query<(&RemoteAvatar, &mut LocalVolume)>,
    mut send: MessageWriter<SendRoomEvent>,
    mut notice: Option<ResMut<crate::kit::hud::ShortNotice>>,
    time: Res<Time<Real>>,
) {
    for (interaction, choice, row) in &choices {
        if *interaction != Interaction::Pressed {
            continue;
        }
        let Ok((person, mut volume)) = people.get_mut(choice.target) else { continue };
        send.write(SendRoomEvent(ClientEvent::TellStaff(person.0, choice.kind)));
        *volume = LocalVolume::Hidden;
        if let Some(notice) = notice.as_mut() {
            notice.0 = Some((time.elapsed_secs_f64(), "tell-staff-done"));
        }
        commands.entity(row.parent()).despawn();
    }
}
