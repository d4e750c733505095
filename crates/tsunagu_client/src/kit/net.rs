//! The Bevy side of the connection: a thin adapter over
//! [`tsunagu_client_core::ClientCore`]. Hosting (the default) starts the room
//! server inside this process and joins it over loopback QUIC exactly as a
//! remote client would; joining uses an invite.
//!
//! Each frame runs in ordered sets: [`NetSet::Receive`] polls the core and
//! hands what the room said to every plugin as typed messages
//! ([`crate::kit::heard`]);
//! [`NetSet::Apply`] is where plugins act on them (avatars, HUD, and later
//! voice, gestures, safety); [`NetSet::LocalInput`] is where controls (or the
//! headset) write the [`LocalPose`]; [`NetSet::Send`] sends it. Only this
//! file polls the connection; nothing but the writers of `LocalPose`
//! knows where a pose came from.

use std::path::PathBuf;
use std::sync::Mutex;

use bevy::prelude::*;

use tsunagu_client_core::{ClientCore, ClientEnd, RoomEvent};
use tsunagu_net::LinkEnd;
use tsunagu_net::invite::Invite;
use tsunagu_net::race::{RaceSettings, RacingConnector};
use tsunagu_protocol::{ClientEvent, CloseReason, Hello, RefusalReason, RejectReason};
use tsunagu_server::embedded::EmbeddedRoom;

use crate::kit::heard::EnteredRoom;
use crate::kit::me::LocalPose;
use crate::kit::room::{LinkState, RoomNow};
use crate::{AppState, Settings};

/// Most people the hosted room admits.
pub const HOSTED_ROOM_CAPACITY: usize = 20;

/// How to get into a room: chosen on the start screen or the command line.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub enum JoinPlan {
    /// Host a room on this PC and join it.
    #[default]
    Host,
    /// Join the room an invite names.
    Invite(Invite),
}

/// Why the last join or connection ended, for the start screen to say.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct JoinFailure {
    /// Message id.
    pub key: &'static str,
    /// Detail for messages with a `reason` argument.
    pub reason: String,
}

/// Where the connection to the room stands, while in the room.
#[derive(SubStates, Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[source(AppState = AppState::InRoom)]
pub enum RoomState {
    /// Saying Hello; nothing to show yet.
    #[default]
    Joining,
    /// In the room.
    Present,
    /// The connection dropped; the room stays on screen while we come back.
    Reconnecting,
}

/// The order of each frame's room work.
#[derive(SystemSet, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum NetSet {
    /// Poll the core; write the room's typed messages.
    Receive,
    /// Plugins act on the room's events.
    Apply,
    /// Controls or the headset write [`LocalPose`].
    LocalInput,
    /// Send the local pose.
    Send,
}

/// Sends the local pose, in `PostUpdate`: after the desktop controls (in
/// `Update`) and the headset (which reads its views in `PostUpdate`) wrote
/// it, so a pose leaves in the frame it was sampled.
#[derive(SystemSet, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PoseSend;

/// A room event this client wants to send (a colour change, later gestures
/// and stamps). Any plugin writes it; the net adapter sends it.
#[derive(Message, Clone, Debug, PartialEq)]
pub struct SendRoomEvent(pub ClientEvent);

/// The message id that explains a refusal.
pub fn reject_message(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::WrongRoomCode => "join-error-wrong-code",
        RejectReason::RoomFull => "join-error-room-full",
        RejectReason::VersionMismatch { .. } => "join-error-version",
        RejectReason::InvalidNickname => "start-nickname-invalid",
        RejectReason::ServerShuttingDown => "join-error-shutdown",
        RejectReason::RoomClosed => "join-error-closed",
        RejectReason::Removed => "join-error-removed",
        RejectReason::RoomLocked => "join-error-locked",
        RejectReason::TurnedAway => "join-error-turned-away",
        RejectReason::OldInvite => "join-error-old-invite",
        RejectReason::NameTaken => "join-error-name-taken",
        RejectReason::NameReserved => "join-error-name-reserved",
    }
}

/// The participant invite to pass on, for whoever may see it: the host, and
/// facilitators (the server tells them the codes, new ones included). The
/// address and fingerprint are the ones this client reached the room with
/// (the host's LAN address for the host).
pub fn participant_invite(room: &RoomNow, hosted: Option<&HostedRoom>, plan: &JoinPlan) -> Option<Invite> {
    let base = match (hosted, plan) {
        (Some(hosted), _) => hosted.0.lan_invite(),
        (None, JoinPlan::Invite(invite)) => invite.clone(),
        (None, JoinPlan::Host) => return None,
    };
    let code = match &room.invites {
        Some(codes) => codes.participant.clone(),
        // Before the server says (or a participant host): the room's first code.
        None => hosted?.0.config().code.clone(),
    };
    Some(Invite { room_code: code, ..base })
}

/// The message id that explains why the room did not do something we asked.
pub fn refusal_message(reason: RefusalReason) -> &'static str {
    match reason {
        RefusalReason::TooFast => "hud-slow-down",
        RefusalReason::NotAllowed => "hud-not-allowed",
        RefusalReason::TooLong => "chat-too-long",
        RefusalReason::TextNotAllowed => "chat-not-allowed",
        RefusalReason::Taken => "play-taken",
        RefusalReason::OutOfReach => "play-too-far",
        RefusalReason::NotHolding => "play-not-holding",
        RefusalReason::NoSpace => "wish-no-space",
        RefusalReason::Unknown => "play-gone",
        RefusalReason::Quieted => "hud-quieted",
    }
}

/// The message id that explains a connection ending.
pub fn end_message(end: LinkEnd) -> &'static str {
    match end {
        LinkEnd::Unreachable => "join-error-unreachable",
        LinkEnd::WrongCertificate => "join-error-certificate",
        LinkEnd::Busy => "join-error-busy",
        LinkEnd::Reason(CloseReason::ServerShutdown) => "join-error-shutdown",
        LinkEnd::Reason(CloseReason::Removed) => "join-error-removed",
        LinkEnd::Reason(CloseReason::MeetupEnded) => "join-meetup-ended",
        LinkEnd::Intercepted => "join-error-intercepted",
        LinkEnd::ProxyUnreachable => "join-error-proxy-unreachable",
        LinkEnd::ProxyNeedsPassword => "join-error-proxy-password",
        LinkEnd::ProxyRefused => "join-error-proxy-refused",
        LinkEnd::Reason(_) | LinkEnd::TimedOut | LinkEnd::Lost => "join-error-lost",
    }
}

/// What hospital IT must let through for `invite`'s room, as `host:port`:
/// its TCP door, the one a proxy or an inspecting firewall stands in front of.
pub fn door_for_it(invite: &Invite) -> String {
    let tcp = invite.tcp_port.unwrap_or(tsunagu_net::wss::DEFAULT_TCP_PORT);
    if invite.host.contains(':') { format!("[{}]:{tcp}", invite.host) } else { format!("{}:{tcp}", invite.host) }
}

/// The message id that explains why the core stopped.
pub fn ending_message(end: ClientEnd) -> &'static str {
    match end {
        ClientEnd::Rejected(reason) => reject_message(reason),
        ClientEnd::Closed(end) => end_message(end),
        ClientEnd::Left => "join-error-lost",
    }
}

/// The room this PC hosts, when it hosts one.
#[derive(Resource)]
pub struct HostedRoom(pub EmbeddedRoom);

/// The connection to the room: the client core. Behind a mutex only because
/// Bevy resources must be `Sync`; the net systems use it one at a time.
#[derive(Resource)]
pub struct Connection(Mutex<ClientCore>);

impl Connection {
    /// Wrap a core that has started joining.
    pub fn new(core: ClientCore) -> Self {
        Connection(Mutex::new(core))
    }

    /// Look at the core (who is here, where to draw them).
    pub fn read<R>(&self, f: impl FnOnce(&ClientCore) -> R) -> R {
        f(&self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn core(&mut self) -> &mut ClientCore {
        self.0.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    /// The core itself, for the feature adapters that trade with it (voice).
    pub(crate) fn core_mut(&mut self) -> &mut ClientCore {
        self.core()
    }
}

/// The connection's plugin: states, sets, messages and the adapter systems.
/// Needs no renderer, so tests run it on `MinimalPlugins`.
pub struct NetPlugin;

impl Plugin for NetPlugin {
    fn build(&self, app: &mut App) {
        crate::kit::heard::add_heard_messages(app);
        app.init_resource::<JoinPlan>()
            .add_sub_state::<RoomState>()
            .add_message::<EnteredRoom>()
            .init_resource::<RoomNow>()
            .add_systems(OnExit(AppState::InRoom), |mut room: ResMut<RoomNow>| *room = RoomNow::default())
            .add_message::<SendRoomEvent>()
            .add_message::<ShowPages>()
            .configure_sets(Update, (NetSet::Receive, NetSet::Apply, NetSet::LocalInput, NetSet::Send).chain())
            .add_systems(OnEnter(AppState::InRoom), connect)
            .add_systems(OnExit(AppState::InRoom), disconnect)
            .add_systems(Update, receive.in_set(NetSet::Receive).run_if(resource_exists::<Connection>))
            .add_systems(Update, send_events.in_set(NetSet::Send).run_if(resource_exists::<Connection>))
            .add_systems(PostUpdate, send_pose.in_set(PoseSend).run_if(resource_exists::<Connection>))
            .add_systems(Last, leave_on_exit);
    }
}

/// Where this PC keeps the hosted room's certificate (nothing about people):
/// the user's own data directory. There is no fallback to a shared place
/// such as /tmp, where others could read or replace the key.
pub fn data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Tsunagu", "tsunagu").map(|d| d.data_dir().to_path_buf())
}

/// A Hello for these settings and room code, from installation `device`.
pub fn hello_for(settings: &Settings, room_code: &str, device: u64) -> Hello {
    Hello::new(room_code, settings.nickname.trim(), settings.look).from_device(device)
}

fn fail(commands: &mut Commands, next: &mut NextState<AppState>, key: &'static str, reason: String) {
    warn!("tsunagu: could not join: {key}");
    commands.insert_resource(JoinFailure { key, reason });
    next.set(AppState::Start);
}

fn connect(
    mut commands: Commands,
    settings: Res<Settings>,
    settings_file: Option<Res<crate::SettingsFile>>,
    plan: Res<JoinPlan>,
    time: Res<Time<Real>>,
    existing: Option<Res<Connection>>,
    mut next: ResMut<NextState<AppState>>,
) {
    // A connection made elsewhere (a test, over another transport) is used as it is.
    if existing.is_some() {
        return;
    }
    let invite = match &*plan {
        JoinPlan::Host => {
            let Some(dir) = data_dir() else {
                return fail(&mut commands, &mut next, "status-server-error", "no home directory".into());
            };
            let room = match EmbeddedRoom::start(HOSTED_ROOM_CAPACITY, &dir) {
                Ok(room) => room,
                Err(e) => return fail(&mut commands, &mut next, "status-server-error", e.to_string()),
            };
            // The invite is on screen; a log is no place for it.
            info!("tsunagu: hosting a room on this PC");
            // The host is the room's facilitator.
            let invite = room.local_invite(&room.config().facilitator_code);
            commands.insert_resource(HostedRoom(room));
            invite
        }
        JoinPlan::Invite(invite) => invite.clone(),
    };
    let hello = hello_for(&settings, &invite.room_code, settings_file.as_ref().map_or(0, |f| f.device));
    let proxy = settings_file.map(|f| f.proxy_choice()).unwrap_or_default();
    let core = ClientCore::join(Box::new(RacingConnector::new(RaceSettings { proxy, ..RaceSettings::new(invite) })), hello, time.elapsed());
    commands.insert_resource(Connection::new(core));
}

fn disconnect(mut commands: Commands, connection: Option<ResMut<Connection>>) {
    if let Some(mut connection) = connection {
        connection.core().leave();
    }
    commands.remove_resource::<Connection>();
    commands.queue(close_hosted_room_in_the_background);
}

/// Stopping a hosted room says goodbye to everyone and waits about a second
/// for it to leave: done on a thread of its own, so the window (or a headset's
/// view) never freezes.
fn close_hosted_room_in_the_background(world: &mut World) {
    if let Some(room) = world.remove_resource::<HostedRoom>() {
        let _ = std::thread::Builder::new().name("tsunagu-room-close".into()).spawn(move || drop(room));
    }
}

/// The core's events: the connection's states here, the rest as typed
/// messages ([`crate::kit::heard`]) for the features; then the room's slow
/// state into [`RoomNow`], touched only when it changed.
fn receive(world: &mut World) {
    let now = world.resource::<Time<Real>>().elapsed();
    let events = world.resource_mut::<Connection>().core().poll(now);
    // The view changes only with an event (the core says every change it
    // keeps), so the mirror is made again only then, or when it is new.
    let stale = world.get_resource::<RoomNow>().is_some_and(|room| *room == RoomNow::default());
    if !events.is_empty() || stale {
        let mirrored = world.resource::<Connection>().read(room_now);
        if let Some(mut room) = world.get_resource_mut::<RoomNow>() {
            room.set_if_neq(mirrored);
        }
    }
    for event in events {
        match event {
            RoomEvent::Joined { me, spawn } => {
                info!("tsunagu: joined the room as {:?}", me.role);
                world.resource_mut::<NextState<RoomState>>().set(RoomState::Present);
                world.write_message(EnteredRoom { me, spawn, rejoined: false, resumed: false });
            }
            RoomEvent::Rejoined { me, spawn, resumed } => {
                info!("tsunagu: back in the room (place kept: {resumed})");
                world.resource_mut::<NextState<RoomState>>().set(RoomState::Present);
                world.write_message(EnteredRoom { me, spawn, rejoined: true, resumed });
            }
            // The HUD reads these from the core's state (waiting, busy, reconnecting).
            RoomEvent::ServerBusy => warn!("tsunagu: the server is busy; trying again"),
            RoomEvent::Waiting => info!("tsunagu: in the waiting room"),
            RoomEvent::Reconnecting => {
                warn!("tsunagu: the connection dropped; reconnecting");
                world.resource_mut::<NextState<RoomState>>().set(RoomState::Reconnecting);
            }
            RoomEvent::Ended(end) => {
                let key = ending_message(end);
                warn!("tsunagu: could not join: {key}");
                let reason = match world.get_resource::<JoinPlan>() {
                    Some(JoinPlan::Invite(invite)) => door_for_it(invite),
                    _ => String::new(),
                };
                world.insert_resource(JoinFailure { key, reason });
                world.resource_mut::<NextState<AppState>>().set(AppState::Start);
                world.remove_resource::<Connection>();
                return;
            }
            RoomEvent::Server(event) => crate::kit::heard::write_heard(world, event),
            RoomEvent::PageArrived(page) => {
                world.write_message(crate::kit::heard::PageHere { page });
            }
        }
    }
}

/// The room's slow state as the core knows it now.
pub fn room_now(core: &ClientCore) -> RoomNow {
    let room = core.room();
    let link = match (core.waiting(), core.busy(), core.reconnecting()) {
        (true, ..) => LinkState::Waiting,
        (_, true, _) => LinkState::Busy,
        (_, false, true) => LinkState::Reconnecting,
        _ => LinkState::Fine,
    };
    RoomNow {
        me: room.me().cloned(),
        peers: room.peers().cloned().collect(),
        link,
        locked: room.is_locked(),
        waiting_room: room.has_waiting_room(),
        waiting: room.waiting().to_vec(),
        removed: room.removed().to_vec(),
        invites: room.invites().cloned(),
        darts: room.darts().copied().collect(),
        wishes: room.wishes().to_vec(),
    }
}

fn send_events(mut connection: ResMut<Connection>, mut wanted: MessageReader<SendRoomEvent>, mut shown: MessageReader<ShowPages>) {
    for SendRoomEvent(event) in wanted.read() {
        connection.core().send_event(event.clone());
    }
    for ShowPages { pages, previews } in shown.read() {
        connection.core().show_pages(pages.clone(), previews.clone());
    }
}

/// (Facilitator) show these pages on the wall screen: the core offers them
/// and sends their bytes when the room asks, each after its preview.
#[derive(Message, Clone, Debug)]
pub struct ShowPages {
    /// The pages, in reading order.
    pub pages: Vec<(tsunagu_protocol::PageInfo, Vec<u8>)>,
    /// Small pictures of them, by page (those that could be made).
    pub previews: Vec<(u16, Vec<u8>)>,
}

fn send_pose(mut connection: ResMut<Connection>, time: Res<Time<Real>>, poses: Query<&LocalPose>) {
    // One local player; the core paces the sends to the server's tick rate.
    if let Some(pose) = poses.iter().find_map(|p| p.0) {
        connection.core().send_pose(pose, time.elapsed());
    }
}

fn leave_on_exit(mut exits: MessageReader<AppExit>, connection: Option<ResMut<Connection>>) {
    if exits.read().next().is_some()
        && let Some(mut connection) = connection
    {
        connection.core().leave();
    }
}
