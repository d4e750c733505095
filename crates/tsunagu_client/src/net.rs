//! The client's connection to its room, over QUIC in both cases: hosting (the
//! default) starts the room server inside this process and joins it over
//! loopback exactly as a remote client would; joining uses an invite. Snapshots
//! move remote avatars, smoothed by `tsunagu_sim::interp`. If the join fails,
//! the start screen comes back with a message that says why.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use bevy::prelude::*;
use tsunagu_net::LinkEnd;
use tsunagu_net::invite::Invite;
use tsunagu_net::quic::QuicClient;
use tsunagu_net::session::{ClientSession, SessionEvent};
use tsunagu_protocol::{AvatarLook, AvatarPose, CloseReason, Hello, PeerId, PeerInfo, RejectReason, Role};
use tsunagu_server::embedded::EmbeddedRoom;
use tsunagu_sim::interp::{Playout, Sample, Track};
use tsunagu_sim::motion::AVATAR_HEIGHT;
use tsunagu_sim::pose::{from_wire, to_wire};

use crate::avatar::{AvatarHead, RemoteAvatar, spawn_avatar};
use crate::controls::{Heading, LocalPlayer, local_player_bundle, local_pose};
use crate::text::UiFont;
use crate::{AppState, Settings};

/// Most people the hosted room admits.
pub const HOSTED_ROOM_CAPACITY: usize = 20;
/// Poses are sent at most this often.
const POSE_INTERVAL: Duration = Duration::from_nanos(1_000_000_000 / 30);
/// Waits between reconnect attempts after a dropped connection; the last repeats.
const RECONNECT_BACKOFF: [Duration; 5] =
    [Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4), Duration::from_secs(8)];
/// Give up reconnecting after this long (the server keeps your place 120 s).
const RECONNECT_FOR: Duration = Duration::from_secs(100);

/// A join that has not been welcomed by then has failed (the transport reports
/// an unreachable server sooner; this catches a server that never answers).
pub const JOIN_DEADLINE: Duration = Duration::from_secs(5);

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

/// The message id that explains a refusal.
pub fn reject_message(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::WrongRoomCode => "join-error-wrong-code",
        RejectReason::RoomFull => "join-error-room-full",
        RejectReason::VersionMismatch { .. } => "join-error-version",
        RejectReason::InvalidNickname => "start-nickname-invalid",
        RejectReason::ServerShuttingDown => "join-error-shutdown",
    }
}

/// The message id that explains a connection ending.
pub fn end_message(end: LinkEnd) -> &'static str {
    match end {
        LinkEnd::Unreachable => "join-error-unreachable",
        LinkEnd::WrongCertificate => "join-error-certificate",
        LinkEnd::Reason(CloseReason::ServerShutdown) => "join-error-shutdown",
        LinkEnd::Reason(CloseReason::Removed) => "join-error-removed",
        LinkEnd::Reason(_) | LinkEnd::TimedOut | LinkEnd::Lost => "join-error-lost",
    }
}

/// The room this PC hosts, when it hosts one.
#[derive(Resource)]
pub struct HostedRoom(pub EmbeddedRoom);

/// The connection to the room. The session sits behind a mutex only because
/// Bevy resources must be `Sync`; one system uses it at a time.
#[derive(Resource)]
pub struct Connection {
    session: Mutex<ClientSession>,
    /// My id once welcomed.
    pub my_id: Option<PeerId>,
    /// My role once welcomed.
    pub role: Option<Role>,
    /// Everyone else here.
    pub peers: HashMap<PeerId, PeerInfo>,
    tick_rate: f64,
    playout: Playout,
    since_pose: Duration,
    waiting: Duration,
    invite: Invite,
    /// Set while reconnecting after a drop.
    pub retry: Option<Retry>,
}

/// Reconnect state after a dropped connection.
#[derive(Clone, Debug)]
pub struct Retry {
    attempt: usize,
    wait: Duration,
    elapsed: Duration,
    resume: Option<u64>,
}

/// Whether a connection that ended this way is worth reconnecting to.
pub fn worth_reconnecting(end: LinkEnd) -> bool {
    matches!(end, LinkEnd::Lost | LinkEnd::TimedOut | LinkEnd::Unreachable)
}

/// The smoothing buffers of a remote avatar (body and head).
#[derive(Component, Default)]
pub struct RemoteTracks {
    body: Track,
    head: Track,
}

/// Connects on entering the room and keeps the connection running.
pub struct NetPlugin;

impl Plugin for NetPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<JoinPlan>()
            .add_systems(OnEnter(AppState::InRoom), connect)
            .add_systems(OnExit(AppState::InRoom), disconnect)
            .add_systems(
                Update,
                (receive, move_remote_avatars, send_pose).chain().run_if(resource_exists::<Connection>),
            )
            .add_systems(Last, leave_on_exit);
    }
}

/// Where this PC keeps the hosted room's certificate (nothing about people).
pub fn data_dir() -> PathBuf {
    directories::ProjectDirs::from("org", "Tsunagu", "tsunagu")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("tsunagu"))
}

/// A Hello for these settings and room code.
pub fn hello_for(settings: &Settings, room_code: &str) -> Hello {
    Hello::new(room_code, settings.nickname.trim(), AvatarLook { body_color: settings.body_color })
}

fn fail(commands: &mut Commands, next: &mut NextState<AppState>, key: &'static str, reason: String) {
    warn!("tsunagu: could not join: {key} {reason}");
    commands.insert_resource(JoinFailure { key, reason });
    next.set(AppState::Start);
}

fn connect(mut commands: Commands, settings: Res<Settings>, plan: Res<JoinPlan>, mut next: ResMut<NextState<AppState>>) {
    let invite = match &*plan {
        JoinPlan::Host => {
            let room = match EmbeddedRoom::start(HOSTED_ROOM_CAPACITY, &data_dir()) {
                Ok(room) => room,
                Err(e) => return fail(&mut commands, &mut next, "status-server-error", e.to_string()),
            };
            info!("tsunagu: hosting a room on this PC; others join with {}", room.lan_invite());
            // The host is the room's facilitator.
            let invite = room.local_invite(&room.config().facilitator_code);
            commands.insert_resource(HostedRoom(room));
            invite
        }
        JoinPlan::Invite(invite) => invite.clone(),
    };
    let link = match QuicClient::connect(&invite) {
        Ok(link) => link,
        Err(e) => return fail(&mut commands, &mut next, "status-server-error", e.to_string()),
    };
    let session = ClientSession::start(Box::new(link), hello_for(&settings, &invite.room_code));
    commands.insert_resource(Connection {
        session: Mutex::new(session),
        my_id: None,
        role: None,
        peers: HashMap::new(),
        tick_rate: 30.0,
        playout: Playout::default(),
        since_pose: Duration::ZERO,
        waiting: Duration::ZERO,
        invite,
        retry: None,
    });
}

/// Try the room again after a drop, with the resume token so the server puts
/// us back where we were. Returns false when it is time to give up.
fn reconnect(connection: &mut Connection, settings: &Settings, dt: Duration) -> bool {
    let Some(retry) = connection.retry.as_mut() else { return true };
    retry.elapsed += dt;
    if retry.elapsed > RECONNECT_FOR {
        return false;
    }
    retry.wait = retry.wait.saturating_sub(dt);
    if !retry.wait.is_zero() {
        return true;
    }
    retry.attempt += 1;
    retry.wait = RECONNECT_BACKOFF[retry.attempt.min(RECONNECT_BACKOFF.len() - 1)];
    info!("tsunagu: reconnecting (attempt {})", retry.attempt);
    let mut hello = hello_for(settings, &connection.invite.room_code);
    hello.resume = retry.resume;
    if let Ok(link) = QuicClient::connect(&connection.invite) {
        connection.session = Mutex::new(ClientSession::start(Box::new(link), hello));
    }
    true
}

fn disconnect(mut commands: Commands, connection: Option<ResMut<Connection>>) {
    if let Some(mut connection) = connection
        && let Ok(session) = connection.session.get_mut()
    {
        session.leave();
    }
    commands.remove_resource::<Connection>();
    commands.remove_resource::<HostedRoom>();
}

#[allow(clippy::too_many_arguments)]
fn receive(
    mut commands: Commands,
    mut connection: ResMut<Connection>,
    mut next: ResMut<NextState<AppState>>,
    time: Res<Time<Real>>,
    settings: Res<Settings>,
    font: Res<UiFont>,
    shapes: Res<crate::scene::Shapes>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut remotes: Query<(Entity, &RemoteAvatar, &mut RemoteTracks)>,
) {
    if !reconnect(&mut connection, &settings, time.delta()) {
        return fail(&mut commands, &mut next, end_message(LinkEnd::Lost), String::new());
    }
    let events = connection.session.get_mut().map(|s| s.poll()).unwrap_or_default();
    let now = time.elapsed_secs_f64();
    if connection.my_id.is_none() {
        connection.waiting += time.delta();
        if connection.waiting > JOIN_DEADLINE && events.is_empty() {
            return fail(&mut commands, &mut next, end_message(LinkEnd::Unreachable), String::new());
        }
    }
    for event in events {
        match event {
            SessionEvent::Joined(welcome) if connection.retry.is_some() => {
                info!("tsunagu: back in the room");
                connection.retry = None;
                connection.my_id = Some(welcome.your_id);
                connection.playout = Playout::default();
                // Everyone is introduced again; the old avatars go.
                for (entity, _, _) in &remotes {
                    commands.entity(entity).despawn();
                }
                connection.peers.clear();
                for peer in welcome.peers {
                    introduce(&mut commands, &shapes, &mut materials, &font, &mut connection, peer);
                }
            }
            SessionEvent::Joined(welcome) => {
                info!("tsunagu: joined the room as {:?}", welcome.role);
                connection.my_id = Some(welcome.your_id);
                connection.role = Some(welcome.role);
                connection.tick_rate = f64::from(welcome.tick_rate_hz.max(1));
                let (spawn, rotation) = from_wire(welcome.spawn);
                let body = commands
                    .spawn((
                        local_player_bundle(),
                        Transform::from_translation(spawn + Vec3::Y * (AVATAR_HEIGHT / 2.0)),
                        Visibility::default(),
                        DespawnOnExit(AppState::InRoom),
                    ))
                    .id();
                let look = AvatarLook { body_color: settings.body_color };
                let name = settings.nickname.trim().to_owned();
                let avatar = spawn_avatar(&mut commands, &shapes, &mut materials, &font, look, name, Transform::default());
                commands.entity(body).add_child(avatar);
                commands.insert_resource(Heading { yaw: rotation.to_euler(EulerRot::YXZ).0, ..default() });
                for peer in welcome.peers {
                    introduce(&mut commands, &shapes, &mut materials, &font, &mut connection, peer);
                }
            }
            SessionEvent::PeerJoined(peer) => introduce(&mut commands, &shapes, &mut materials, &font, &mut connection, peer),
            SessionEvent::PeerLeft(id) => {
                connection.peers.remove(&id);
                for (entity, remote, _) in &remotes {
                    if remote.0 == id {
                        commands.entity(entity).despawn();
                    }
                }
            }
            SessionEvent::Snapshot(snapshot) => {
                let server_time = f64::from(snapshot.tick) / connection.tick_rate;
                connection.playout.on_snapshot(server_time, now);
                for state in snapshot.avatars {
                    if let Some((_, _, mut tracks)) = remotes.iter_mut().find(|(_, r, _)| r.0 == state.id) {
                        let (pos, rot) = from_wire(state.pose.body);
                        tracks.body.push(Sample { time: server_time, pos, rot });
                        let (pos, rot) = from_wire(state.pose.head);
                        tracks.head.push(Sample { time: server_time, pos, rot });
                    }
                }
            }
            SessionEvent::Rejected(reason) => return fail(&mut commands, &mut next, reject_message(reason), String::new()),
            SessionEvent::Closed(end) if connection.my_id.is_some() && worth_reconnecting(end) => {
                // Keep the room on screen and try again; a retry already running keeps its pace.
                if connection.retry.is_none() {
                    warn!("tsunagu: the connection dropped ({end:?}); reconnecting");
                    let resume = connection.session.get_mut().ok().and_then(|s| s.resume_token());
                    connection.retry = Some(Retry { attempt: 0, wait: RECONNECT_BACKOFF[0], elapsed: Duration::ZERO, resume });
                }
            }
            SessionEvent::Closed(end) => return fail(&mut commands, &mut next, end_message(end), String::new()),
        }
    }
}

/// Someone is here: give them an avatar and remember them.
fn introduce(
    commands: &mut Commands,
    shapes: &crate::scene::Shapes,
    materials: &mut Assets<StandardMaterial>,
    font: &UiFont,
    connection: &mut Connection,
    peer: PeerInfo,
) {
    let avatar = spawn_avatar(commands, shapes, materials, font, peer.look, peer.nickname.clone(), Transform::default());
    commands.entity(avatar).insert((RemoteAvatar(peer.id), RemoteTracks::default(), DespawnOnExit(AppState::InRoom)));
    connection.peers.insert(peer.id, peer);
}

fn move_remote_avatars(
    connection: Res<Connection>,
    time: Res<Time<Real>>,
    mut remotes: Query<(&RemoteTracks, &mut Transform, &Children), With<RemoteAvatar>>,
    mut heads: Query<&mut Transform, (With<AvatarHead>, Without<RemoteAvatar>)>,
) {
    let Some(render_time) = connection.playout.render_time(time.elapsed_secs_f64()) else { return };
    for (tracks, mut transform, children) in &mut remotes {
        if let Some((pos, rot)) = tracks.body.sample(render_time) {
            transform.translation = pos;
            transform.rotation = rot;
        }
        if let Some((_, head_rot)) = tracks.head.sample(render_time) {
            // The head turns relative to the body.
            let relative = transform.rotation.inverse() * head_rot;
            for child in children.iter() {
                if let Ok(mut head) = heads.get_mut(child) {
                    head.rotation = relative;
                }
            }
        }
    }
}

fn send_pose(
    mut connection: ResMut<Connection>,
    time: Res<Time<Real>>,
    heading: Option<Res<Heading>>,
    player: Query<&Transform, With<LocalPlayer>>,
) {
    connection.since_pose += time.delta();
    if connection.since_pose < POSE_INTERVAL {
        return;
    }
    let (Some(heading), Ok(body)) = (heading, player.single()) else { return };
    connection.since_pose = Duration::ZERO;
    let (feet, yaw, eye, look) = local_pose(body, &heading);
    let pose = AvatarPose { body: to_wire(feet, yaw), head: to_wire(eye, look), hands: None };
    if let Ok(session) = connection.session.get_mut() {
        session.send_pose(pose);
    }
}

fn leave_on_exit(mut exits: MessageReader<AppExit>, connection: Option<ResMut<Connection>>) {
    if exits.read().next().is_some()
        && let Some(mut connection) = connection
        && let Ok(session) = connection.session.get_mut()
    {
        session.leave();
    }
}
