//! The facilitator panel: everyone present, and for each a button to mute or
//! unmute them, make them staff or not, or ask them to leave; buttons to
//! close the room to newcomers, use a waiting room and make new invites;
//! who waits, to let in or not; whom staff removed, with a button to let each
//! back in; what children told the staff (who, about whom, what kind, how
//! long ago); the places kept for dropped connections, to give up; putting
//! every thing back. Shown to facilitators only (the server refuses these
//! actions from anyone else anyway). Someone made staff in the room (the
//! server does not tell them the facilitator code) sees only what they may
//! do: nothing about staff, roles, new invites or ending. The buttons only
//! ask: what shows is what the server says happened.

pub mod tell;

use std::collections::HashMap;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;

use tsunagu_i18n::Arg;
use tsunagu_protocol::StaffAction;
use tsunagu_protocol::{
    ClientEvent, Concern, ConcernKind, KeptPlace, PeerId, PeerInfo, RemovedPerson, Role, StaffNotice, WaitingHint, WaitingPerson,
};

use crate::AppState;
use crate::kit::heard::{ConcernTold, KeptPlacesNow, PersonArrived, PersonLeft, StaffNoticeTold};
use crate::kit::hud::{Drawer, FillSlot, Slot};
use crate::kit::net::{NetSet, SendRoomEvent};
use crate::kit::palette;
use crate::kit::room::RoomNow;
use crate::kit::room::{RemoteAvatar, Speaking};
use crate::kit::text::{UiFont, ui_text};

/// The facilitator panel.
pub struct StaffPanelPlugin;

impl Plugin for StaffPanelPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Arrivals>()
            .fill_slot(Slot::Drawer(Drawer::Staff), |drawer, _| spawn_staff_panel(drawer))
            .init_resource::<StaffNews>()
            .add_systems(OnExit(AppState::InRoom), |mut arrivals: ResMut<Arrivals>, mut news: ResMut<StaffNews>, mut headsets: ResMut<InHeadset>| {
                arrivals.0.clear();
                headsets.0.clear();
                *news = StaffNews::default();
            })
            .init_resource::<InHeadset>()
            .add_systems(Update, (note_arrivals, note_staff_news, note_headsets).in_set(NetSet::Apply))
            .add_systems(Update, (list_people, press_buttons, clear_concerns).chain().run_if(in_state(AppState::InRoom)));
    }
}

/// The panel.
#[derive(Component)]
pub struct StaffPanel;

#[derive(Component)]
struct StaffRows;

/// A button in the panel and what it asks the room.
#[derive(Component, Clone, Debug, PartialEq)]
pub struct StaffButton(pub ClientEvent);

/// When each person arrived, as this client saw it (seconds of real time);
/// those already there when I came in count from my arrival. Memory only.
#[derive(Resource, Default)]
struct Arrivals(HashMap<PeerId, f32>);

/// Since when each person has been in a headset, as this client sees it
/// (their poses carry hands only then; seconds of real time). Memory only:
/// the panel shows the minutes so staff can suggest a rest.
#[derive(Resource, Default)]
struct InHeadset(HashMap<PeerId, f32>);

fn note_headsets(connection: Option<Res<crate::kit::net::Connection>>, room: Res<RoomNow>, mut headsets: ResMut<InHeadset>, time: Res<Time<Real>>) {
    let Some(connection) = connection else { return };
    let now = time.elapsed_secs();
    connection.read(|core| {
        for person in &room.peers {
            let in_headset = core.room().peer(person.id).and_then(|p| p.latest).is_some_and(|pose| pose.hands.is_some());
            if in_headset {
                headsets.0.entry(person.id).or_insert(now);
            } else {
                headsets.0.remove(&person.id);
            }
        }
    });
    headsets.0.retain(|id, _| room.peers.iter().any(|p| p.id == *id));
}

/// What the server told only the staff, as this client keeps it for the
/// panel (memory only, gone when leaving the room): children's concerns
/// (the newest [`CONCERNS_SHOWN`], with when they came), the kept places,
/// and notices.
#[derive(Resource, Default)]
pub struct StaffNews {
    /// Concerns, newest last, with the second (real time) each came.
    pub concerns: Vec<(f32, Concern)>,
    /// The places kept for dropped connections.
    pub kept: Vec<KeptPlace>,
    /// The latest notice for the staff.
    pub notice: Option<StaffNotice>,
}

/// Concerns the panel keeps.
const CONCERNS_SHOWN: usize = 8;

fn note_arrivals(
    mut arrived: MessageReader<PersonArrived>,
    mut left: MessageReader<PersonLeft>,
    mut arrivals: ResMut<Arrivals>,
    time: Res<Time<Real>>,
) {
    for PersonArrived { info } in arrived.read() {
        arrivals.0.entry(info.id).or_insert(time.elapsed_secs());
    }
    for PersonLeft { id } in left.read() {
        arrivals.0.remove(id);
    }
}

/// What only the staff are told: concerns, kept places, notices.
fn note_staff_news(
    mut concerns: MessageReader<ConcernTold>,
    mut kept: MessageReader<KeptPlacesNow>,
    mut notices: MessageReader<StaffNoticeTold>,
    mut news: ResMut<StaffNews>,
    time: Res<Time<Real>>,
) {
    for ConcernTold { concern } in concerns.read() {
        news.concerns.push((time.elapsed_secs(), *concern));
        let beyond = news.concerns.len().saturating_sub(CONCERNS_SHOWN);
        news.concerns.drain(..beyond);
    }
    if let Some(KeptPlacesNow { places }) = kept.read().last() {
        news.kept = places.clone();
    }
    if let Some(StaffNoticeTold { notice }) = notices.read().last() {
        news.notice = Some(*notice);
    }
}

/// The panel's button that clears the concerns shown (they are only ever on this screen).
#[derive(Component)]
pub struct ClearConcerns;

/// The staff panel, in the facilitators' drawer (a child has neither the drawer nor its button).
pub fn spawn_staff_panel(parent: &mut ChildSpawnerCommands) {
    parent.spawn((
        StaffPanel,
        StaffRows,
        Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(4.0), max_width: Val::Px(440.0), ..default() },
    ));
}

/// What the panel shows: everyone else (with whether they are talking and
/// for how many minutes they have been here), whether the room is locked,
/// whom staff removed.
#[derive(Clone, Debug, PartialEq)]
struct Shown {
    /// Each person, whether they talk now, minutes here, and minutes in a headset.
    people: Vec<(PeerInfo, bool, u32, Option<u32>)>,
    locked: bool,
    removed: Vec<RemovedPerson>,
    waiting_room: bool,
    waiting: Vec<WaitingPerson>,
    /// Came in with the facilitator invite (not only made staff in the room).
    staff_invite: bool,
    /// Concerns: who told, about whom (names), what kind, minutes ago.
    concerns: Vec<(String, String, ConcernKind, u32)>,
    kept: Vec<KeptPlace>,
    notice: Option<StaffNotice>,
    /// People who have wishes on the bamboo.
    wishing: Vec<PeerId>,
}

fn hint_key(hint: WaitingHint) -> Option<&'static str> {
    match hint {
        WaitingHint::New => None,
        WaitingHint::SamePcAsBefore => Some("staff-hint-same-pc"),
        WaitingHint::NoInstallation => Some("staff-hint-no-installation"),
        WaitingHint::SameNetworkAsRemoved => Some("staff-hint-same-network"),
    }
}

fn concern_key(kind: ConcernKind) -> &'static str {
    match kind {
        ConcernKind::Words => "staff-concern-words",
        ConcernKind::TooClose => "staff-concern-too-close",
        ConcernKind::Other => "staff-concern-other",
    }
}

fn notice_key(notice: StaffNotice) -> &'static str {
    match notice {
        StaffNotice::WaitingRoomAfterRemoval => "staff-notice-waiting-room-on",
        StaffNotice::InvitesNotSaved => "staff-notice-invites-not-saved",
    }
}

/// What the staff's list is made from: the room, who is heard now, when
/// each came, and what only the staff were told.
#[derive(SystemParam)]
struct StaffSources<'w, 's> {
    room: Res<'w, RoomNow>,
    speakers: Query<'w, 's, (&'static RemoteAvatar, &'static Speaking)>,
    arrivals: Res<'w, Arrivals>,
    headsets: Res<'w, InHeadset>,
    news: Res<'w, StaffNews>,
    time: Res<'w, Time<Real>>,
}

impl StaffSources<'_, '_> {
    /// The list as it should read now, while connected.
    fn now(&self) -> Option<Shown> {
        let StaffSources { room, speakers, arrivals, headsets, news, time } = self;
        room.me.as_ref()?;
        let talking = |id: PeerId| speakers.iter().any(|(who, speaking)| who.0 == id && speaking.0);
        let minutes = |id: PeerId| arrivals.0.get(&id).map_or(0, |at| ((time.elapsed_secs() - at) / 60.0) as u32);
        let name = |id: PeerId| room.name_of(id).unwrap_or("?").to_owned();
        Some(Shown {
            people: room
                .peers
                .iter()
                .map(|p| (p.clone(), talking(p.id), minutes(p.id), headsets.0.get(&p.id).map(|at| ((time.elapsed_secs() - at) / 60.0) as u32)))
                .collect(),
            locked: room.locked,
            removed: room.removed.clone(),
            waiting_room: room.waiting_room,
            waiting: room.waiting.clone(),
            staff_invite: room.invites.as_ref().is_some_and(|codes| !codes.facilitator.is_empty()),
            concerns: news.concerns.iter().map(|(at, c)| (name(c.from), name(c.about), c.kind, ((time.elapsed_secs() - at) / 60.0) as u32)).collect(),
            kept: news.kept.clone(),
            notice: news.notice,
            wishing: room.wishes.iter().map(|w| w.by).collect(),
        })
    }
}

fn list_people(
    mut commands: Commands,
    sources: StaffSources,
    font: Res<UiFont>,
    words: crate::kit::text::Words,
    rows: Query<Entity, With<StaffRows>>,
    mut shown: Local<Option<Shown>>,
) {
    let Some(now) = sources.now() else { return };
    if shown.as_ref() == Some(&now) {
        return;
    }
    let text = |key: &str| words.get(key);
    for container in &rows {
        commands.entity(container).despawn_related::<Children>();
        commands.entity(container).with_children(|panel| {
            panel.spawn(ui_text(&font, text("staff-panel-title"), 17.0, palette::INK));
            if let Some(notice) = now.notice {
                panel.spawn(ui_text(&font, text(notice_key(notice)), 14.0, palette::NOTE));
            }
            // A child asking for help comes first, then who waits: they are waiting on us.
            for (from, about, kind, minutes) in &now.concerns {
                let args = [
                    ("from", Arg::Str(from)),
                    ("about", Arg::Str(about)),
                    ("kind", Arg::Str(&text(concern_key(*kind)))),
                    ("minutes", Arg::Num(f64::from(*minutes))),
                ];
                panel.spawn(ui_text(&font, words.get_with("staff-concern", &args), 15.0, palette::NOTE));
            }
            if !now.concerns.is_empty() {
                panel.spawn(Node::default()).with_children(|row| {
                    panel_button(row, &font, &text("staff-concerns-clear"), ClearConcerns);
                });
            }
            for waiting in &now.waiting {
                panel
                    .spawn(Node { column_gap: Val::Px(5.0), align_items: AlignItems::Center, flex_wrap: FlexWrap::Wrap, ..default() })
                    .with_children(|row| {
                        let mut about = words.get_with("staff-waiting", &[("name", Arg::Str(&waiting.nickname))]);
                        if let Some(key) = hint_key(waiting.hint) {
                            about = format!("{about} ・ {}", text(key));
                        }
                        row.spawn(ui_text(&font, about, 15.0, palette::INK));
                        action_button(row, &font, &text("staff-let-in"), ClientEvent::Staff(StaffAction::LetIn(waiting.ticket)));
                        action_button(row, &font, &text("staff-turn-away"), ClientEvent::Staff(StaffAction::TurnAway(waiting.ticket)));
                    });
            }
            for (person, talking, minutes, in_headset) in &now.people {
                let name = tsunagu_i18n::keep_words_together(&person.nickname);
                let mut about = if person.role == Role::Facilitator { format!("{name} ({})", text("staff-badge")) } else { name };
                for (on, key) in [
                    (*talking, "staff-talking"),
                    (person.hand_raised, "staff-hand-up"),
                    (person.resting, "staff-resting"),
                    (person.muted, "staff-muted"),
                ] {
                    if on {
                        about = format!("{about} ・ {}", text(key));
                    }
                }
                about = format!("{about} ・ {}", words.get_with("staff-minutes", &[("minutes", Arg::Num(f64::from(*minutes)))]));
                if let Some(headset) = in_headset {
                    about = format!("{about} ・ {}", words.get_with("staff-headset-minutes", &[("minutes", Arg::Num(f64::from(*headset)))]));
                }
                // The person on a line of their own, their buttons wrapping below: in one
                // wrapping row a long line of state squeezed into a narrow column and
                // spilled over the next row.
                panel.spawn((ui_text(&font, about, 15.0, palette::INK), Node { margin: UiRect::top(Val::Px(4.0)), ..default() }));
                // Only staff who came with the facilitator invite act on staff.
                if person.role == Role::Facilitator && !now.staff_invite {
                    continue;
                }
                panel.spawn(Node { column_gap: Val::Px(5.0), row_gap: Val::Px(4.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
                    let (mute_key, mute) = if person.muted { ("staff-unmute", false) } else { ("staff-mute", true) };
                    action_button(row, &font, &text(mute_key), ClientEvent::Staff(StaffAction::Mute(person.id, mute)));
                    if now.staff_invite {
                        let (role_key, role) = match person.role {
                            Role::Participant => ("staff-make-staff", Role::Facilitator),
                            Role::Facilitator => ("staff-make-participant", Role::Participant),
                        };
                        action_button(row, &font, &text(role_key), ClientEvent::Staff(StaffAction::SetRole(person.id, role)));
                    }
                    action_button(row, &font, &text("staff-bring-here"), ClientEvent::Staff(StaffAction::BringHere(person.id)));
                    action_button(row, &font, &text("staff-recentre"), ClientEvent::Staff(StaffAction::AskRecentre(person.id)));
                    if now.wishing.contains(&person.id) {
                        action_button(row, &font, &text("staff-take-down-wishes"), ClientEvent::Staff(StaffAction::TakeDownWishesOf(person.id)));
                    }
                    action_button(row, &font, &text("staff-remove"), ClientEvent::Staff(StaffAction::Remove(person.id)));
                });
            }
            for place in &now.kept {
                panel.spawn(Node { column_gap: Val::Px(5.0), align_items: AlignItems::Center, ..default() }).with_children(|row| {
                    row.spawn(ui_text(&font, words.get_with("staff-kept", &[("name", Arg::Str(&place.nickname))]), 14.0, palette::INK_SOFT));
                    action_button(row, &font, &text("staff-release-place"), ClientEvent::Staff(StaffAction::ReleasePlace(place.id)));
                });
            }
            let (lock_key, lock) = if now.locked { ("staff-unlock", false) } else { ("staff-lock", true) };
            panel.spawn(Node { column_gap: Val::Px(5.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
                action_button(row, &font, &text("staff-gather"), ClientEvent::Staff(StaffAction::GatherHere));
                action_button(row, &font, &text(lock_key), ClientEvent::Staff(StaffAction::LockRoom(lock)));
                action_button(row, &font, &text("staff-put-back"), ClientEvent::Staff(StaffAction::PutThingsBack));
                if now.staff_invite {
                    action_button(row, &font, &text("staff-end"), ClientEvent::Staff(StaffAction::EndMeetup));
                }
            });
            let (waiting_key, waiting_room) = if now.waiting_room { ("staff-waiting-room-off", false) } else { ("staff-waiting-room-on", true) };
            panel.spawn(Node { column_gap: Val::Px(5.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
                action_button(row, &font, &text(waiting_key), ClientEvent::Staff(StaffAction::SetWaitingRoom(waiting_room)));
                if now.staff_invite {
                    action_button(row, &font, &text("staff-new-invites"), ClientEvent::Staff(StaffAction::NewInvites));
                }
            });
            for removed in &now.removed {
                panel.spawn(Node { column_gap: Val::Px(5.0), align_items: AlignItems::Center, ..default() }).with_children(|row| {
                    row.spawn(ui_text(
                        &font,
                        words.get_with("staff-removed", &[("name", tsunagu_i18n::Arg::Str(&removed.nickname))]),
                        14.0,
                        palette::INK_SOFT,
                    ));
                    if now.staff_invite {
                        action_button(row, &font, &text("staff-let-back-in"), ClientEvent::Staff(StaffAction::LetBackIn(removed.id)));
                    }
                });
            }
        });
    }
    *shown = Some(now);
}

fn action_button(row: &mut ChildSpawnerCommands, font: &UiFont, label: &str, event: ClientEvent) {
    panel_button(row, font, label, StaffButton(event));
}

/// A small button of the panel, `marker` saying what it does.
fn panel_button(row: &mut ChildSpawnerCommands, font: &UiFont, label: &str, marker: impl Bundle) {
    row.spawn((
        Button,
        marker,
        Node { padding: UiRect::axes(Val::Px(8.0), Val::Px(3.0)), border_radius: BorderRadius::all(Val::Px(8.0)), ..default() },
        BackgroundColor(palette::BUTTON),
        children![ui_text(font, label.to_owned(), 13.0, palette::INK)],
    ));
}

/// How long a "Sure? Press again" waits for the second press, seconds.
const CONFIRM_SECONDS: f32 = 4.0;

/// Asking someone to leave, ending the meetup and new invites (the old ones
/// stop letting anyone new in) take a second press, so a slip of the hand in
/// a busy moment does none of them.
fn needs_confirming(event: &ClientEvent) -> bool {
    matches!(
        event,
        ClientEvent::Staff(StaffAction::Remove(_)) | ClientEvent::Staff(StaffAction::EndMeetup) | ClientEvent::Staff(StaffAction::NewInvites)
    )
}

fn press_buttons(
    buttons: Query<(&Interaction, &StaffButton, &Children), Changed<Interaction>>,
    mut labels: Query<&mut Text>,
    words: crate::kit::text::Words,
    time: Res<Time<Real>>,
    mut armed: Local<Option<(ClientEvent, f32)>>,
    mut send: MessageWriter<SendRoomEvent>,
) {
    let now = time.elapsed_secs();
    for (interaction, action, children) in &buttons {
        if *interaction != Interaction::Pressed {
            continue;
        }
        let confirmed = armed.as_ref().is_some_and(|(event, at)| *event == action.0 && now - at < CONFIRM_SECONDS);
        if needs_confirming(&action.0) && !confirmed {
            *armed = Some((action.0.clone(), now));
            for child in children.iter() {
                if let Ok(mut label) = labels.get_mut(child) {
                    label.0 = words.get("staff-are-you-sure");
                }
            }
            continue;
        }
        *armed = None;
        send.write(SendRoomEvent(action.0.clone()));
    }
}

fn clear_concerns(buttons: Query<&Interaction, (With<ClearConcerns>, Changed<Interaction>)>, mut news: ResMut<StaffNews>) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        news.concerns.clear();
    }
}
