//! The in-room overlay: who is here, what the keys do, and anything the
//! person should know (no sound, no headset, a lost connection).

use bevy::prelude::*;
use tsunagu_i18n::Arg;

use super::{StatusLine, palette};
use crate::audio::SoundStatus;
use crate::controls::ViewMode;
use crate::net::{Connection, HostedRoom};
use crate::text::{Localized, Texts, UiFont, ui_text};
use crate::xr::DisplayMode;
use crate::{AppState, Settings};

/// Shows the HUD while in the room.
pub struct HudPlugin;

#[derive(Component)]
struct PeopleCount;

#[derive(Component)]
struct ViewLabel;

#[derive(Component)]
struct Notices;

impl Plugin for HudPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(OnEnter(AppState::InRoom), build_hud)
            .add_systems(Update, (update_people, update_view_label, update_notices).run_if(in_state(AppState::InRoom)));
    }
}

fn panel() -> (Node, BackgroundColor) {
    (
        Node {
            flex_direction: FlexDirection::Column,
            row_gap: Val::Px(4.0),
            padding: UiRect::axes(Val::Px(16.0), Val::Px(10.0)),
            border_radius: BorderRadius::all(Val::Px(14.0)),
            ..default()
        },
        BackgroundColor(palette::CARD.with_alpha(0.88)),
    )
}

fn build_hud(mut commands: Commands, font: Res<UiFont>) {
    commands
        .spawn((
            DespawnOnExit(AppState::InRoom),
            Node {
                width: Val::Percent(100.0),
                height: Val::Percent(100.0),
                flex_direction: FlexDirection::Column,
                justify_content: JustifyContent::SpaceBetween,
                padding: UiRect::all(Val::Px(14.0)),
                ..default()
            },
        ))
        .with_children(|root| {
            root.spawn(Node { justify_content: JustifyContent::SpaceBetween, align_items: AlignItems::Start, ..default() })
                .with_children(|top| {
                    top.spawn(panel()).with_children(|p| {
                        p.spawn((PeopleCount, ui_text(&font, "", 24.0, palette::INK)));
                        p.spawn((ViewLabel, ui_text(&font, "", 17.0, palette::INK_SOFT)));
                    });
                    top.spawn((Notices, Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(6.0), max_width: Val::Px(520.0), ..default() }));
                });
            root.spawn(Node { justify_content: JustifyContent::Center, ..default() }).with_children(|bottom| {
                bottom.spawn(panel()).with_children(|p| {
                    p.spawn((ui_text(&font, "", 17.0, palette::INK), Localized("hud-help")));
                });
            });
        });
}

fn update_people(
    connection: Option<Res<Connection>>,
    hosted: Option<Res<HostedRoom>>,
    settings: Res<Settings>,
    texts: Res<Texts>,
    mut label: Query<&mut Text, With<PeopleCount>>,
) {
    let Ok(mut text) = label.single_mut() else { return };
    let count = connection.map(|c| c.peers.len() + usize::from(c.my_id.is_some())).unwrap_or(0);
    let mut shown = texts.get_with(settings.language, "hud-people", &[("count", Arg::Num(count as f64))]);
    if hosted.is_some() {
        shown = format!("{shown}\n{}", texts.get(settings.language, "hud-hosting"));
    }
    if text.0 != shown {
        text.0 = shown;
    }
}

fn update_view_label(view: Res<ViewMode>, settings: Res<Settings>, texts: Res<Texts>, mut label: Query<&mut Text, With<ViewLabel>>) {
    let Ok(mut text) = label.single_mut() else { return };
    let key = match *view {
        ViewMode::FirstPerson => "hud-view-first",
        ViewMode::ThirdPerson => "hud-view-third",
    };
    let shown = texts.get(settings.language, key);
    if text.0 != shown {
        text.0 = shown;
    }
}

/// Which notices to show, as message ids with an optional reason.
pub fn notices(sound: Option<SoundStatus>, display: Option<DisplayMode>, status: Option<&StatusLine>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(status) = status {
        out.push((status.key, status.reason.clone()));
    }
    if sound == Some(SoundStatus::Unavailable) {
        out.push(("status-no-sound", String::new()));
    }
    if display == Some(DisplayMode::Desktop) {
        out.push(("status-no-xr", String::new()));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn update_notices(
    mut commands: Commands,
    sound: Option<Res<SoundStatus>>,
    display: Option<Res<DisplayMode>>,
    status: Option<Res<StatusLine>>,
    settings: Res<Settings>,
    texts: Res<Texts>,
    font: Res<UiFont>,
    container: Query<(Entity, Option<&Children>), With<Notices>>,
    mut shown: Local<Vec<String>>,
) {
    let Ok((container, children)) = container.single() else { return };
    let wanted: Vec<String> = notices(sound.as_deref().copied(), display.as_deref().copied(), status.as_deref())
        .into_iter()
        .map(|(key, reason)| texts.get_with(settings.language, key, &[("reason", Arg::Str(&reason))]))
        .collect();
    if *shown == wanted && children.is_some_and(|c| c.len() == wanted.len()) {
        return;
    }
    commands.entity(container).despawn_related::<Children>();
    commands.entity(container).with_children(|list| {
        for line in &wanted {
            list.spawn(panel()).with_children(|p| {
                p.spawn(ui_text(&font, line.clone(), 17.0, palette::NOTE));
            });
        }
    });
    *shown = wanted;
}
