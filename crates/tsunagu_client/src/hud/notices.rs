//! What the HUD says and then folds away: what is missing (no sound, no
//! microphone, no headset), said on coming in and then folded into a button
//! of the bar that says it again; what the room says of me (muted, waiting,
//! reconnecting, "wait a moment"); and the key help, which teaches for the
//! first minutes and then folds into 「？」.

use bevy::prelude::*;
use tsunagu_i18n::Arg;

use crate::kit::heard::RefusedMine;
use crate::kit::hud::{ShortNotice, StandingNotices, panel};
use crate::kit::palette;
use crate::kit::room::{LinkState, RoomNow};
use crate::kit::text::{UiFont, ui_text};

/// The column of notices, top right.
#[derive(Component)]
pub(super) struct Notices;

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
pub(super) struct NoticeSources<'w> {
    standing: Res<'w, StandingNotices>,
    room: Res<'w, RoomNow>,
    refusal: Res<'w, ShortNotice>,
    unfolded: Res<'w, Unfolded>,
    time: Res<'w, Time<Real>>,
}

pub(super) fn update_notices(
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
    let (said, _) = unfolded_notices(&standing, sources.time.elapsed_secs_f64(), sources.unfolded.notices_until);
    let wanted: Vec<String> = notices(said, connection, refusal, muted_by_staff, someone_waiting).into_iter().map(|key| words.get(key)).collect();
    if *shown == wanted && children.map_or(0, |c| c.len()) == wanted.len() {
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

/// What is missing, folded: one button of the bar that says how many, and says them again.
pub(super) fn label_folded_notices(
    sources: NoticeSources,
    words: crate::kit::text::Words,
    mut buttons: Query<(&mut Node, &Children), With<FoldedNotices>>,
    mut labels: Query<&mut Text>,
) {
    let standing: Vec<&'static str> = sources.standing.ids().collect();
    let (_, folded) = unfolded_notices(&standing, sources.time.elapsed_secs_f64(), sources.unfolded.notices_until);
    let label = words.get_with("hud-notices-folded", &[("count", Arg::Num(folded as f64))]);
    for (mut node, children) in &mut buttons {
        let display = if folded > 0 { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
        for child in children.iter() {
            if let Ok(mut text) = labels.get_mut(child)
                && text.0 != label
            {
                text.0.clone_from(&label);
            }
        }
    }
}

/// Coming in: what is missing is said, and the keys are taught, for a while.
pub(super) fn open_the_folds(mut unfolded: ResMut<Unfolded>, time: Res<Time<Real>>) {
    let now = time.elapsed_secs_f64();
    *unfolded = Unfolded { notices_until: now + NOTICES_SHOWN_SECS, help_until: now + HELP_SHOWN_SECS, seen: Vec::new() };
}

/// The folded notices' button says them again; 「？」 opens the key help,
/// and closes it again; something newly missing is said at once.
pub(super) fn press_folds(
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

/// The key help while it teaches, or while 「？」 has it open.
pub(super) fn fold_the_help(unfolded: Res<Unfolded>, time: Res<Time<Real>>, mut cards: Query<&mut Node, With<KeyHelp>>) {
    let display = if time.elapsed_secs_f64() < unfolded.help_until { Display::Flex } else { Display::None };
    for mut node in &mut cards {
        if node.display != display {
            node.display = display;
        }
    }
}

pub(super) fn note_refusals(mut refused: MessageReader<RefusedMine>, mut last: ResMut<ShortNotice>, time: Res<Time<Real>>) {
    for RefusedMine { refusal } in refused.read() {
        last.0 = Some((time.elapsed_secs_f64(), crate::kit::net::refusal_message(refusal.reason)));
    }
}
