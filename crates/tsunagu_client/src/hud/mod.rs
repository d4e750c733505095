//! The in-room frame: one slim bar of big buttons along the bottom (the
//! microphone first, then a button per drawer, 「？」 and the folded
//! notices), the drawer its button opened just above it, and small cards
//! that come and go: what is missing (said on coming in, then folded into
//! the bar), the key help (for the first minutes), raised hands. At rest
//! the room is what a child sees. For the host, the invite other PCs join
//! with, in a drawer of its own for facilitators only.

use bevy::clipboard::Clipboard;
use bevy::input::mouse::{MouseScrollUnit, MouseWheel};
use bevy::prelude::*;
use bevy::ui::RelativeCursorPosition;
use tsunagu_i18n::Arg;

use crate::AppState;
use crate::kit::hud::{BarButtonLook, Card, Drawer, FillSlot, OpenDrawer, ShortNotice, Slot, StandingNotices, panel, spawn_bar_button};
use crate::kit::me::ViewMode;
use crate::kit::net::{HostedRoom, JoinPlan, NetSet};
use crate::kit::palette;
use crate::kit::room::RoomNow;
use crate::kit::text::{ButtonsChanged, Localized, UiFont, ui_text};

mod notices;

pub use notices::{FoldedNotices, HELP_SHOWN_SECS, HelpButton, KeyHelp, NOTICES_SHOWN_SECS, Unfolded, notices, unfolded_notices};
use notices::{Notices, fold_the_help, label_folded_notices, note_refusals, open_the_folds, press_folds, update_notices};

/// Shows the HUD while in the room.
pub struct HudPlugin;

#[derive(Component)]
struct PeopleCount;

/// Switches between seeing through my eyes and from behind me, and says which it is.
#[derive(Component)]
pub struct ViewButton;

#[derive(Component)]
struct InvitePanel;

#[derive(Component)]
struct CopyInvite;

/// A button of the bar that opens (and closes) its drawer.
#[derive(Component, Clone, Copy, Debug)]
pub struct DrawerButton(pub Drawer);

/// A drawer's card, shown while it is open.
#[derive(Component, Clone, Copy, Debug)]
pub struct DrawerCard(pub Drawer);

/// The bar along the bottom.
#[derive(Component)]
pub struct Bar;

/// The invite this person may pass on now (facilitators only).
#[derive(Resource, Default, Debug)]
struct InviteToShare(Option<String>);

/// Whether this person has `drawer` (and its button): a child never has
/// the facilitators' ones; the invite's only while there is one to pass on.
pub fn drawer_allowed(drawer: Drawer, room: &RoomNow, has_invite: bool) -> bool {
    match drawer {
        Drawer::Invite => room.i_am_staff() && has_invite,
        _ => !drawer.staff_only() || room.i_am_staff(),
    }
}

impl Plugin for HudPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ShortNotice>()
            .init_resource::<StandingNotices>()
            .init_resource::<Unfolded>()
            .init_resource::<OpenDrawer>()
            .init_resource::<InviteToShare>()
            // Read to scroll drawers; registered here too so the HUD runs without the input plugin.
            .add_message::<MouseWheel>()
            .add_systems(OnEnter(AppState::InRoom), (open_the_folds, build_hud, |mut open: ResMut<OpenDrawer>| open.close()))
            .add_systems(Update, (press_folds, fold_the_help).chain().run_if(in_state(AppState::InRoom)))
            .add_systems(Update, (press_drawer_buttons, scroll_drawers, close_drawers, show_drawers).chain().run_if(in_state(AppState::InRoom)))
            .add_systems(Update, note_refusals.in_set(NetSet::Apply))
            .add_systems(
                Update,
                (
                    update_people,
                    press_view_button,
                    update_view_label,
                    update_notices,
                    label_folded_notices,
                    (note_invite, show_invite).chain(),
                    copy_invite,
                )
                    .run_if(in_state(AppState::InRoom)),
            )
            .fill_slot(Slot::Corner, |corner, font| {
                let (node, background, card) = panel();
                corner.spawn((KeyHelp, Node { max_width: Val::Px(560.0), ..node }, background, card)).with_children(|p| {
                    p.spawn((ui_text(font, "", 17.0, palette::INK), Localized("hud-help")));
                });
            })
            .fill_slot(Slot::Drawer(Drawer::People), |drawer, font| {
                drawer.spawn((PeopleCount, ui_text(font, "", 20.0, palette::INK), Node { max_width: Val::Px(560.0), ..default() }));
            })
            .fill_slot(Slot::Drawer(Drawer::Settings), |drawer, font| {
                spawn_bar_button(drawer, font, ViewButton, None, BarButtonLook::Plain, false);
            })
            .fill_slot(Slot::Drawer(Drawer::Invite), |drawer, _| {
                drawer.spawn((
                    InvitePanel,
                    Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(4.0), max_width: Val::Px(520.0), ..default() },
                ));
            });
    }
}

fn build_hud(mut commands: Commands, font: Res<UiFont>) {
    commands
        .spawn((
            DespawnOnExit(AppState::InRoom),
            crate::kit::hud::HudCard,
            Node {
                width: Val::Percent(100.0),
                height: Val::Percent(100.0),
                flex_direction: FlexDirection::Column,
                justify_content: JustifyContent::SpaceBetween,
                padding: UiRect::all(Val::Px(12.0)),
                ..default()
            },
        ))
        .with_children(|root| {
            root.spawn(Node {
                justify_content: JustifyContent::SpaceBetween,
                align_items: AlignItems::Start,
                column_gap: Val::Px(12.0),
                ..default()
            })
            .with_children(|top| {
                top.spawn((
                    Slot::Corner,
                    Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(6.0), max_width: Val::Percent(50.0), ..default() },
                ));
                let column = Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(6.0), align_items: AlignItems::End, ..default() };
                top.spawn(Node { max_width: Val::Px(520.0), ..column.clone() }).with_children(|right| {
                    right.spawn((Notices, column));
                    // Where the notices were: once folded, one small button says them again.
                    spawn_bar_button(right, &font, FoldedNotices, None, BarButtonLook::Plain, true);
                });
            });
            // Never taller than the window: an open drawer gives way (and clips) before the bar does.
            root.spawn(Node {
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::Center,
                row_gap: Val::Px(8.0),
                min_height: Val::Px(0.0),
                flex_shrink: 1.0,
                ..default()
            })
            .with_children(|bottom| {
                // Every drawer, closed: only the open one takes room.
                for drawer in Drawer::ALL {
                    let (node, background, card) = panel();
                    bottom.spawn((
                        DrawerCard(drawer),
                        Slot::Drawer(drawer),
                        Node {
                            display: Display::None,
                            max_width: Val::Percent(100.0),
                            min_height: Val::Px(0.0),
                            flex_shrink: 1.0,
                            overflow: Overflow::scroll_y(),
                            ..node
                        },
                        background,
                        card,
                        RelativeCursorPosition::default(),
                    ));
                }
                bottom
                    .spawn((
                        Bar,
                        Card,
                        Node {
                            flex_wrap: FlexWrap::Wrap,
                            justify_content: JustifyContent::Center,
                            align_items: AlignItems::Center,
                            column_gap: Val::Px(6.0),
                            row_gap: Val::Px(6.0),
                            padding: UiRect::all(Val::Px(6.0)),
                            border_radius: BorderRadius::all(Val::Px(16.0)),
                            max_width: Val::Percent(100.0),
                            flex_shrink: 0.0,
                            ..default()
                        },
                        BackgroundColor(palette::CARD.with_alpha(0.88)),
                    ))
                    .with_children(|bar| {
                        bar.spawn((Slot::Voice, Node { column_gap: Val::Px(6.0), align_items: AlignItems::Center, ..default() }));
                        for drawer in Drawer::ALL {
                            let label = (drawer != Drawer::People).then_some(drawer.label());
                            spawn_bar_button(bar, &font, DrawerButton(drawer), label, BarButtonLook::Plain, drawer.staff_only());
                        }
                        spawn_bar_button(bar, &font, HelpButton, Some("hud-help-button"), BarButtonLook::Plain, false);
                    });
            });
        });
}

/// A drawer's button pressed: it opens, or closes if open; anything else
/// pressed keeps the open one open.
fn press_drawer_buttons(
    buttons: Query<(&Interaction, Option<&DrawerButton>), Changed<Interaction>>,
    mut open: ResMut<OpenDrawer>,
    time: Res<Time<Real>>,
) {
    let now = time.elapsed_secs_f64();
    for (interaction, drawer) in &buttons {
        if *interaction != Interaction::Pressed {
            continue;
        }
        match drawer {
            Some(DrawerButton(drawer)) => open.toggle(*drawer, now),
            None => open.touch(now),
        }
    }
}

/// How far one notch of a mouse wheel moves a drawer, in UI units.
const WHEEL_LINE: f32 = 40.0;

/// The wheel scrolls the open drawer under the cursor: on a small window a
/// long one (the staff's, with many people) gives way to the bar and the
/// rest of it stays one turn of the wheel away.
fn scroll_drawers(
    mut wheel: MessageReader<MouseWheel>,
    mut cards: Query<(&RelativeCursorPosition, &mut ScrollPosition), With<DrawerCard>>,
    mut open: ResMut<OpenDrawer>,
    time: Res<Time<Real>>,
) {
    let down: f32 = wheel
        .read()
        .map(|turn| match turn.unit {
            MouseScrollUnit::Line => -turn.y * WHEEL_LINE,
            MouseScrollUnit::Pixel => -turn.y,
        })
        .sum();
    if down == 0.0 {
        return;
    }
    for (cursor, mut scroll) in &mut cards {
        if cursor.cursor_over() {
            // Layout clamps it to the drawer's content.
            scroll.y = (scroll.y + down).max(0.0);
            open.touch(time.elapsed_secs_f64());
        }
    }
}

/// Esc closes the open drawer; so does leaving it untouched, or losing the
/// right to it (a facilitator made a participant).
fn close_drawers(
    keys: Res<ButtonInput<KeyCode>>,
    room: Res<RoomNow>,
    invite: Res<InviteToShare>,
    mut open: ResMut<OpenDrawer>,
    time: Res<Time<Real>>,
) {
    if keys.just_pressed(KeyCode::Escape) || open.get().is_some_and(|d| !drawer_allowed(d, &room, invite.0.is_some())) {
        open.close();
    }
    open.close_if_idle(time.elapsed_secs_f64());
}

/// The open drawer shown, the others not; its button lit; the buttons this
/// person may not use out of the bar.
fn show_drawers(
    open: Res<OpenDrawer>,
    room: Res<RoomNow>,
    invite: Res<InviteToShare>,
    mut cards: Query<(&DrawerCard, &mut Node), Without<DrawerButton>>,
    mut buttons: Query<(&DrawerButton, &mut Node, &mut BackgroundColor, &Children), Without<DrawerCard>>,
    mut inks: Query<&mut TextColor>,
) {
    for (DrawerCard(drawer), mut node) in &mut cards {
        let display = if open.is_open(*drawer) { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
    }
    for (DrawerButton(drawer), mut node, mut background, children) in &mut buttons {
        let display = if drawer_allowed(*drawer, &room, invite.0.is_some()) { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
        let (colour, ink) = if open.is_open(*drawer) { (palette::ACCENT, Color::WHITE) } else { (palette::BUTTON, palette::INK) };
        background.set_if_neq(BackgroundColor(colour));
        for child in children.iter() {
            if let Ok(mut text) = inks.get_mut(child) {
                text.set_if_neq(TextColor(ink));
            }
        }
    }
}

/// How many are here: in the people drawer, and on its button.
fn update_people(
    room: Res<RoomNow>,
    hosted: Option<Res<HostedRoom>>,
    words: crate::kit::text::Words,
    mut label: Query<&mut Text, With<PeopleCount>>,
    buttons: Query<(&DrawerButton, &Children)>,
    mut texts: Query<&mut Text, Without<PeopleCount>>,
) {
    let count = room.head_count() as f64;
    let mut shown = words.get_with("hud-people", &[("count", Arg::Num(count))]);
    let mine = room.me.as_ref().map(|me| words.get_with("hud-you", &[("name", Arg::Str(&me.nickname))]));
    let names: Vec<String> = mine.into_iter().chain(room.peers.iter().map(|p| tsunagu_i18n::keep_words_together(&p.nickname))).collect();
    if !names.is_empty() {
        shown = format!("{shown}\n{}", names.join("、"));
    }
    if hosted.is_some() {
        shown = format!("{shown}\n{}", words.get("hud-hosting"));
    }
    for mut text in &mut label {
        if text.0 != shown {
            text.0.clone_from(&shown);
        }
    }
    let on_button = words.get_with("drawer-people", &[("count", Arg::Num(count))]);
    for (_, children) in buttons.iter().filter(|(d, _)| d.0 == Drawer::People) {
        for child in children.iter() {
            if let Ok(mut text) = texts.get_mut(child)
                && text.0 != on_button
            {
                text.0.clone_from(&on_button);
            }
        }
    }
}

/// The view button: through my eyes, or from behind (as V does).
fn press_view_button(buttons: Query<&Interaction, (With<ViewButton>, Changed<Interaction>)>, mut view: ResMut<ViewMode>) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        *view = match *view {
            ViewMode::FirstPerson => ViewMode::ThirdPerson,
            ViewMode::ThirdPerson => ViewMode::FirstPerson,
        };
    }
}

fn update_view_label(view: Res<ViewMode>, buttons: Query<&Children, With<ViewButton>>, mut labels: Query<&mut Text>, words: crate::kit::text::Words) {
    let key = match *view {
        ViewMode::FirstPerson => "hud-view-first",
        ViewMode::ThirdPerson => "hud-view-third",
    };
    let shown = words.get(key);
    for children in &buttons {
        for child in children.iter() {
            if let Ok(mut text) = labels.get_mut(child)
                && text.0 != shown
            {
                text.0.clone_from(&shown);
            }
        }
    }
}

/// The invite to show and copy, if this person may pass one on: staff
/// only. A child never sees the invite string (it lets anyone in).
pub fn invite_to_share(room: &RoomNow, hosted: Option<&HostedRoom>, plan: Option<&JoinPlan>) -> Option<String> {
    if !room.i_am_staff() {
        return None;
    }
    crate::kit::net::participant_invite(room, hosted, plan?).map(|invite| invite.to_string())
}

fn note_invite(room: Res<RoomNow>, hosted: Option<Res<HostedRoom>>, plan: Option<Res<JoinPlan>>, mut to_share: ResMut<InviteToShare>) {
    let invite = invite_to_share(&room, hosted.as_deref(), plan.as_deref());
    if to_share.0 != invite {
        to_share.0 = invite;
    }
}

fn show_invite(
    mut commands: Commands,
    to_share: Res<InviteToShare>,
    font: Res<UiFont>,
    panel: Query<Entity, With<InvitePanel>>,
    mut shown: Local<Option<String>>,
) {
    let Ok(panel) = panel.single() else { return };
    if *shown == to_share.0 {
        return;
    }
    let invite = to_share.0.clone();
    shown.clone_from(&invite);
    commands.entity(panel).despawn_related::<Children>();
    let Some(invite) = invite else { return };
    commands.entity(panel).with_children(|p| {
        p.spawn((ui_text(&font, "", 15.0, palette::INK_SOFT), Localized("hud-invite")));
        // One long word: it breaks anywhere rather than run past the card.
        p.spawn((ui_text(&font, invite, 13.0, palette::INK), TextLayout::linebreak(LineBreak::AnyCharacter)));
        spawn_bar_button(p, &font, CopyInvite, Some("hud-copy"), BarButtonLook::Main, false);
    });
}

fn copy_invite(
    to_share: Res<InviteToShare>,
    mut clipboard: ResMut<Clipboard>,
    buttons: ButtonsChanged<CopyInvite>,
    mut labels: Query<&mut Localized>,
) {
    for (interaction, children) in &buttons {
        if *interaction != Interaction::Pressed {
            continue;
        }
        let Some(invite) = to_share.0.clone() else { continue };
        let copied = clipboard.set_text(invite).is_ok();
        for child in children.iter() {
            if let Ok(mut label) = labels.get_mut(child) {
                label.0 = if copied { "hud-copied" } else { "hud-copy" };
            }
        }
    }
}
