//! The in-room overlay: who is here, what the keys do, colours to change into,
//! anything the person should know (no sound, no headset, reconnecting, "wait a
//! moment"), and, for the host, the invite other PCs join with and a button to
//! copy it.

use bevy::clipboard::Clipboard;
use bevy::prelude::*;
use tsunagu_i18n::Arg;

use crate::kit::heard::RefusedMine;
use crate::kit::hud::{ShortNotice, Slot, StandingNotices, panel};
use crate::kit::me::ViewMode;
use crate::kit::net::{HostedRoom, JoinPlan, NetSet};
use crate::kit::palette;
use crate::kit::room::{LinkState, RoomNow};
use crate::kit::text::{ButtonsChanged, Localized, Texts, UiFont, ui_text};
use crate::{AppState, Settings};

/// Shows the HUD while in the room.
pub struct HudPlugin;

#[derive(Component)]
struct PeopleCount;

#[derive(Component)]
struct ViewLabel;

#[derive(Component)]
struct Notices;

#[derive(Component)]
struct InvitePanel;

#[derive(Component)]
struct CopyInvite;

/// How long "wait a moment" stays on screen.
const REFUSAL_NOTICE_SECS: f64 = 3.0;

/// How long what is missing (no sound, no microphone, no headset) is said
/// before it folds into a small button that says it again, seconds.
pub const NOTICES_SHOWN_SECS: f64 = 20.0;

/// How long the key help teaches after coming in before it folds into 「？」, seconds.
pub const HELP_SHOWN_SECS: f64 = 90.0;

/// Until when the parts that fold are open (seconds of real time): what is
/// missing, and the key help. A new thing missing opens the notices again.
#[derive(Resource, Default, Debug)]
pub struct Unfolded {
    /// The standing notices show until then.
    pub notices_until: f64,
    /// The key help shows until then.
    pub help_until: f64,
    /// The standing notices last seen, to notice a new one.
    seen: Vec<&'static str>,
}

/// The folded notices' button: says how many, and opens them again.
#[derive(Component)]
pub struct FoldedNotices;

/// The key help card.
#[derive(Component)]
pub struct KeyHelp;

/// The 「？」 button the key help folds into.
#[derive(Component)]
pub struct HelpButton;

/// Which standing notices to say now, and how many are folded away.
pub fn unfolded_notices(standing: &[&'static str], now: f64, until: f64) -> (Vec<&'static str>, usize) {
    if now < until { (standing.to_vec(), 0) } else { (Vec::new(), standing.len()) }
}

impl Plugin for HudPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ShortNotice>()
            .init_resource::<StandingNotices>()
            .init_resource::<Unfolded>()
            .add_systems(OnEnter(AppState::InRoom), (open_the_folds, build_hud))
            .add_systems(Update, (press_folds, fold_the_help).run_if(in_state(AppState::InRoom)))
            .add_systems(Update, note_refusals.in_set(NetSet::Apply))
            .add_systems(Update, (update_people, update_view_label, update_notices, show_invite, copy_invite).run_if(in_state(AppState::InRoom)));
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
                padding: UiRect::all(Val::Px(14.0)),
                ..default()
            },
        ))
        .with_children(|root| {
            root.spawn(Node { justify_content: JustifyContent::SpaceBetween, align_items: AlignItems::Start, ..default() }).with_children(|top| {
                top.spawn(panel()).with_children(|p| {
                    p.spawn((PeopleCount, ui_text(&font, "", 24.0, palette::INK)));
                    p.spawn((ViewLabel, ui_text(&font, "", 17.0, palette::INK_SOFT)));
                    p.spawn((Slot::People, Node { flex_direction: FlexDirection::Column, ..default() }));
                    // The buttons side by side, so the panel stays clear of the gesture bar.
                    p.spawn((
                        Slot::Buttons,
                        Node { column_gap: Val::Px(6.0), row_gap: Val::Px(6.0), flex_wrap: FlexWrap::Wrap, max_width: Val::Px(400.0), ..default() },
                    ));
                    // Hidden until their buttons open them: the room stays in view.
                    p.spawn((Slot::Panels, Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(4.0), ..default() }));
                });
                top.spawn(Node {
                    flex_direction: FlexDirection::Column,
                    row_gap: Val::Px(6.0),
                    max_width: Val::Px(520.0),
                    align_items: AlignItems::End,
                    ..default()
                })
                .with_children(|right| {
                    right.spawn((
                        Notices,
                        Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(6.0), align_items: AlignItems::End, ..default() },
                    ));
                    right.spawn((InvitePanel, panel(), Visibility::Hidden));
                });
            });
            root.spawn(Node { justify_content: JustifyContent::SpaceBetween, align_items: AlignItems::End, column_gap: Val::Px(12.0), ..default() })
                .with_children(|bottom| {
                    let (node, background, card) = panel();
                    bottom.spawn((Slot::Voice, Node { flex_shrink: 0.0, ..node }, background, card));
                    let (node, background, card) = panel();
                    bottom.spawn((KeyHelp, node, background, card)).with_children(|p| {
                        p.spawn((ui_text(&font, "", 17.0, palette::INK), Localized("hud-help")));
                    });
                    bottom.spawn((
                        Button,
                        HelpButton,
                        Node {
                            width: Val::Px(44.0),
                            height: Val::Px(44.0),
                            justify_content: JustifyContent::Center,
                            align_items: AlignItems::Center,
                            border_radius: BorderRadius::all(Val::Px(22.0)),
                            display: Display::None,
                            ..default()
                        },
                        BackgroundColor(palette::CARD),
                        children![(ui_text(&font, "", 24.0, palette::INK), Localized("hud-help-button"))],
                    ));
                });
        });
}

fn update_people(
    room: Res<RoomNow>,
    hosted: Option<Res<HostedRoom>>,
    words: crate::kit::text::Words,
    mut label: Query<&mut Text, With<PeopleCount>>,
) {
    let Ok(mut text) = label.single_mut() else { return };
    let count = room.head_count();
    let mut shown = words.get_with("hud-people", &[("count", Arg::Num(count as f64))]);
    if hosted.is_some() {
        shown = format!("{shown}\n{}", words.get("hud-hosting"));
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

/// Which notices to show, as message ids: what the room says of me first,
/// then what stands while something is missing (`standing`, as features said
/// it). `muted_by_staff`: a facilitator muted me; `someone_waiting`: (told
/// to facilitators only) someone waits to be let in.
pub fn notices(
    standing: impl IntoIterator<Item = &'static str>,
    connection: LinkState,
    refusal: Option<&'static str>,
    muted_by_staff: bool,
    someone_waiting: bool,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    if muted_by_staff {
        out.push("hud-muted-by-staff");
    }
    if someone_waiting {
        out.push("hud-someone-waiting");
    }
    match connection {
        LinkState::Waiting => out.push("hud-waiting"),
        LinkState::Busy => out.push("hud-busy"),
        LinkState::Reconnecting => out.push("hud-reconnecting"),
        LinkState::Fine => {}
    }
    out.extend(refusal);
    out.extend(standing);
    out
}

/// What the notices are about.
#[derive(bevy::ecs::system::SystemParam)]
struct NoticeSources<'w> {
    standing: Res<'w, StandingNotices>,
    room: Res<'w, RoomNow>,
    refusal: Res<'w, ShortNotice>,
    unfolded: Res<'w, Unfolded>,
    time: Res<'w, Time<Real>>,
}

fn update_notices(
    mut commands: Commands,
    sources: NoticeSources,
    words: crate::kit::text::Words,
    font: Res<UiFont>,
    container: Query<(Entity, Option<&Children>), With<Notices>>,
    mut shown: Local<Vec<String>>,
) {
    let Ok((container, children)) = container.single() else { return };
    let room = &sources.room;
    let (connection, muted_by_staff, someone_waiting) = (room.link, room.me.as_ref().is_some_and(|me| me.muted), !room.waiting.is_empty());
    let refusal = sources.refusal.0.filter(|(at, _)| sources.time.elapsed_secs_f64() - at < REFUSAL_NOTICE_SECS).map(|(_, key)| key);
    let standing: Vec<&'static str> = sources.standing.ids().collect();
    let (said, folded) = unfolded_notices(&standing, sources.time.elapsed_secs_f64(), sources.unfolded.notices_until);
    let mut wanted: Vec<String> = notices(said, connection, refusal, muted_by_staff, someone_waiting).into_iter().map(|key| words.get(key)).collect();
    let folded_label = (folded > 0).then(|| words.get_with("hud-notices-folded", &[("count", Arg::Num(folded as f64))]));
    wanted.extend(folded_label.clone());
    if *shown == wanted && children.is_some_and(|c| c.len() == wanted.len()) {
        return;
    }
    commands.entity(container).despawn_related::<Children>();
    commands.entity(container).with_children(|list| {
        let lines = wanted.len() - usize::from(folded_label.is_some());
        for line in &wanted[..lines] {
            list.spawn(panel()).with_children(|p| {
                p.spawn(ui_text(&font, line.clone(), 17.0, palette::NOTE));
            });
        }
        // What is missing, folded: one small button that says it again.
        if let Some(label) = &folded_label {
            list.spawn((
                Button,
                FoldedNotices,
                Node { padding: UiRect::axes(Val::Px(12.0), Val::Px(5.0)), border_radius: BorderRadius::all(Val::Px(10.0)), ..default() },
                BackgroundColor(palette::CARD),
                children![ui_text(&font, label.clone(), 15.0, palette::NOTE)],
            ));
        }
    });
    *shown = wanted;
}

/// Coming in: what is missing is said, and the keys are taught, for a while.
fn open_the_folds(mut unfolded: ResMut<Unfolded>, time: Res<Time<Real>>) {
    let now = time.elapsed_secs_f64();
    *unfolded = Unfolded { notices_until: now + NOTICES_SHOWN_SECS, help_until: now + HELP_SHOWN_SECS, seen: Vec::new() };
}

/// The folded notices' button says them again; 「？」 opens the key help,
/// and closes it again; something newly missing is said at once.
fn press_folds(
    notices: Query<&Interaction, (With<FoldedNotices>, Changed<Interaction>)>,
    help: Query<&Interaction, (With<HelpButton>, Changed<Interaction>)>,
    standing: Res<StandingNotices>,
    mut unfolded: ResMut<Unfolded>,
    time: Res<Time<Real>>,
) {
    let now = time.elapsed_secs_f64();
    if notices.iter().any(|i| *i == Interaction::Pressed) {
        unfolded.notices_until = now + NOTICES_SHOWN_SECS;
    }
    if help.iter().any(|i| *i == Interaction::Pressed) {
        unfolded.help_until = if now < unfolded.help_until { now } else { now + HELP_SHOWN_SECS };
    }
    let ids: Vec<&'static str> = standing.ids().collect();
    if ids.iter().any(|id| !unfolded.seen.contains(id)) {
        unfolded.notices_until = now + NOTICES_SHOWN_SECS;
    }
    if unfolded.seen != ids {
        unfolded.seen = ids;
    }
}

/// The key help while it teaches; 「？」 after.
fn fold_the_help(
    unfolded: Res<Unfolded>,
    time: Res<Time<Real>>,
    mut cards: Query<&mut Node, (With<KeyHelp>, Without<HelpButton>)>,
    mut buttons: Query<&mut Node, (With<HelpButton>, Without<KeyHelp>)>,
) {
    let open = time.elapsed_secs_f64() < unfolded.help_until;
    let (card, button) = if open { (Display::Flex, Display::None) } else { (Display::None, Display::Flex) };
    for mut node in &mut cards {
        if node.display != card {
            node.display = card;
        }
    }
    for mut node in &mut buttons {
        if node.display != button {
            node.display = button;
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

fn show_invite(
    mut commands: Commands,
    room: Res<RoomNow>,
    hosted: Option<Res<HostedRoom>>,
    plan: Option<Res<JoinPlan>>,
    font: Res<UiFont>,
    panel: Query<Entity, With<InvitePanel>>,
    mut shown: Local<Option<String>>,
) {
    let Ok(panel) = panel.single() else { return };
    let invite = invite_to_share(&room, hosted.as_deref(), plan.as_deref());
    if *shown == invite {
        return;
    }
    commands.entity(panel).despawn_related::<Children>();
    *shown = invite.clone();
    let Some(invite) = invite else {
        commands.entity(panel).insert(Visibility::Hidden);
        return;
    };
    commands.entity(panel).insert(Visibility::Inherited).with_children(|p| {
        p.spawn((ui_text(&font, "", 15.0, palette::INK_SOFT), Localized("hud-invite")));
        p.spawn(ui_text(&font, invite, 13.0, palette::INK));
        p.spawn((
            Button,
            CopyInvite,
            Node {
                padding: UiRect::axes(Val::Px(12.0), Val::Px(6.0)),
                border_radius: BorderRadius::all(Val::Px(10.0)),
                align_self: AlignSelf::End,
                ..default()
            },
            BackgroundColor(palette::BUTTON),
            children![(ui_text(&font, "", 15.0, palette::INK), Localized("hud-copy"))],
        ));
    });
}

fn copy_invite(
    room: Res<RoomNow>,
    hosted: Option<Res<HostedRoom>>,
    plan: Option<Res<JoinPlan>>,
    mut clipboard: ResMut<Clipboard>,
    buttons: ButtonsChanged<CopyInvite>,
    mut labels: Query<&mut Localized>,
) {
    for (interaction, children) in &buttons {
        if *interaction != Interaction::Pressed {
            continue;
        }
        let Some(invite) = invite_to_share(&room, hosted.as_deref(), plan.as_deref()) else { continue };
        let copied = clipboard.set_text(invite).is_ok();
        for child in children.iter() {
            if let Ok(mut label) = labels.get_mut(child) {
                label.0 = if copied { "hud-copied" } else { "hud-copy" };
            }
        }
    }
}

fn note_refusals(mut refused: MessageReader<RefusedMine>, mut last: ResMut<ShortNotice>, time: Res<Time<Real>>) {
    for RefusedMine { refusal } in refused.read() {
        last.0 = Some((time.elapsed_secs_f64(), crate::kit::net::refusal_message(refusal.reason)));
    }
}
