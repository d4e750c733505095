//! The client's connection to its room. Hosting (the default) starts the room
//! server inside this process and joins it through the same link interface a
//! remote room will use; snapshots move remote avatars, smoothed by
//! `tsunagu_sim::interp`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bevy::prelude::*;
use tsunagu_net::session::{ClientSession, SessionEvent};
use tsunagu_protocol::{AvatarLook, AvatarPose, Hello, PROTOCOL_VERSION, PeerId, PeerInfo, Role};
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
    /// Set when the connection ended.
    pub ended: bool,
    tick_rate: f64,
    playout: Playout,
    since_pose: Duration,
}

/// The smoothing buffers of a remote avatar (body and head).
#[derive(Component, Default)]
pub struct RemoteTracks {
    body: Track,
    head: Track,
}

/// Starts hosting and keeps the connection running.
pub struct NetPlugin;

impl Plugin for NetPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(OnEnter(AppState::InRoom), host_and_join)
            .add_systems(
                Update,
                (receive, move_remote_avatars, send_pose).chain().run_if(resource_exists::<Connection>),
            )
            .add_systems(Last, leave_on_exit);
    }
}

/// A Hello for these settings and room code.
pub fn hello_for(settings: &Settings, room_code: &str) -> Hello {
    Hello {
        version: PROTOCOL_VERSION,
        room_code: room_code.to_owned(),
        nickname: settings.nickname.trim().to_owned(),
        look: AvatarLook { body_color: settings.body_color },
    }
}

fn host_and_join(mut commands: Commands, settings: Res<Settings>) {
    let room = match EmbeddedRoom::start(HOSTED_ROOM_CAPACITY) {
        Ok(room) => room,
        Err(e) => {
            error!("tsunagu: could not start the room: {e}");
            commands.insert_resource(crate::ui::StatusLine::error("status-server-error", e.to_string()));
            return;
        }
    };
    // The host is the room's facilitator.
    let hello = hello_for(&settings, &room.config().facilitator_code);
    let session = ClientSession::start(Box::new(room.connector().connect()), hello);
    info!("tsunagu: hosting a room on this PC");
    commands.insert_resource(Connection {
        session: Mutex::new(session),
        my_id: None,
        role: None,
        peers: HashMap::new(),
        ended: false,
        tick_rate: 30.0,
        playout: Playout::default(),
        since_pose: Duration::ZERO,
    });
    commands.insert_resource(HostedRoom(room));
}

#[allow(clippy::too_many_arguments)]
fn receive(
    mut commands: Commands,
    mut connection: ResMut<Connection>,
    time: Res<Time<Real>>,
    settings: Res<Settings>,
    font: Res<UiFont>,
    shapes: Res<crate::scene::Shapes>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut remotes: Query<(Entity, &RemoteAvatar, &mut RemoteTracks)>,
) {
    let events = connection.session.get_mut().map(|s| s.poll()).unwrap_or_default();
    let now = time.elapsed_secs_f64();
    for event in events {
        match event {
            SessionEvent::Joined(welcome) => {
                info!("tsunagu: joined the room as {:?}", welcome.role);
                connection.my_id = Some(welcome.your_id);
                connection.role = Some(welcome.role);
                connection.tick_rate = f64::from(welcome.tick_rate_hz.max(1));
                let (spawn, rotation) = from_wire(welcome.spawn);
                let body = commands
                    .spawn((local_player_bundle(), Transform::from_translation(spawn + Vec3::Y * (AVATAR_HEIGHT / 2.0)), Visibility::default(), DespawnOnExit(AppState::InRoom)))
                    .id();
                let look = AvatarLook { body_color: settings.body_color };
                let avatar = spawn_avatar(&mut commands, &shapes, &mut materials, &font, look, settings.nickname.trim().to_owned(), Transform::default());
                commands.entity(body).add_child(avatar);
                commands.insert_resource(Heading { yaw: rotation.to_euler(EulerRot::YXZ).0, ..default() });
                for peer in welcome.peers {
                    spawn_remote(&mut commands, &shapes, &mut materials, &font, &peer);
                    connection.peers.insert(peer.id, peer);
                }
            }
            SessionEvent::PeerJoined(peer) => {
                spawn_remote(&mut commands, &shapes, &mut materials, &font, &peer);
                connection.peers.insert(peer.id, peer);
            }
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
            SessionEvent::Rejected(reason) => {
                warn!("tsunagu: the room said no: {reason:?}");
                connection.ended = true;
            }
            SessionEvent::Closed(reason) => {
                warn!("tsunagu: the connection ended: {reason:?}");
                connection.ended = true;
                commands.insert_resource(crate::ui::StatusLine::error("status-disconnected", String::new()));
            }
        }
    }
}

fn spawn_remote(commands: &mut Commands, shapes: &crate::scene::Shapes, materials: &mut Assets<StandardMaterial>, font: &UiFont, peer: &PeerInfo) {
    let avatar = spawn_avatar(commands, shapes, materials, font, peer.look, peer.nickname.clone(), Transform::default());
    commands.entity(avatar).insert((RemoteAvatar(peer.id), RemoteTracks::default(), DespawnOnExit(AppState::InRoom)));
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
