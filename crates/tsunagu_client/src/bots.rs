//! Practice guests (`--bots N`): simple clients that join the hosted room over
//! loopback QUIC with the same protocol as everyone else and stroll in slow circles. For
//! trying the room alone, for demos, and for tests that need people in view.

use std::sync::Mutex;

use bevy::prelude::*;
use tsunagu_client_core::ClientCore;
use tsunagu_i18n::Arg;
use tsunagu_net::quic::QuicConnector;
use tsunagu_protocol::{AvatarLook, AvatarPose, Hello};
use tsunagu_sim::motion::{EYE_HEIGHT, facing};
use tsunagu_sim::pose::to_wire;

use crate::net::HostedRoom;
use crate::text::Texts;
use crate::{BODY_COLORS, ClientOptions, Settings};

struct Bot {
    core: ClientCore,
    center: Vec3,
    radius: f32,
    phase: f32,
}

/// The practice guests. Behind a mutex only because resources must be `Sync`.
#[derive(Resource)]
struct Bots(Mutex<Vec<Bot>>);

/// Adds practice guests to a hosted room when asked.
pub struct BotsPlugin;

impl Plugin for BotsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, (start_bots.run_if(resource_added::<HostedRoom>), stroll.run_if(resource_exists::<Bots>)));
    }
}

fn start_bots(
    mut commands: Commands,
    options: Res<ClientOptions>,
    room: Res<HostedRoom>,
    texts: Res<Texts>,
    settings: Res<Settings>,
    time: Res<Time<Real>>,
) {
    let invite = room.0.local_invite(&room.0.config().code);
    let bots = (0..options.bots)
        .map(|i| {
            let nickname = texts.plain_with(settings.language, "bot-name", &[("n", Arg::Num(f64::from(i + 1)))]);
            let hello = Hello::new(&invite.room_code, &nickname, AvatarLook::with_color(BODY_COLORS[(i as usize + 3) % BODY_COLORS.len()]));
            let i = i as f32;
            Bot {
                core: ClientCore::join(Box::new(QuicConnector::new(invite.clone())), hello, time.elapsed()),
                center: Vec3::new(-1.8 + 1.8 * (i % 3.0), 0.0, -0.4 - 1.2 * (i / 3.0).floor()),
                radius: 0.5,
                phase: i * 1.7,
            }
        })
        .collect();
    commands.insert_resource(Bots(Mutex::new(bots)));
}

fn stroll(time: Res<Time<Real>>, mut bots: ResMut<Bots>) {
    let Ok(bots) = bots.0.get_mut() else { return };
    let t = time.elapsed_secs();
    for bot in bots.iter_mut() {
        // Bots only listen so their queues stay empty; they react to nothing.
        bot.core.poll(time.elapsed());
        let angle = bot.phase + t * 0.35;
        let pos = bot.center + Vec3::new(angle.cos(), 0.0, angle.sin()) * bot.radius;
        let tangent = Vec3::new(-angle.sin(), 0.0, angle.cos());
        let rot = facing(tangent);
        let head = rot * Quat::from_rotation_y((t * 0.7 + bot.phase).sin() * 0.4);
        let pose = AvatarPose { body: to_wire(pos, rot), head: to_wire(pos + Vec3::Y * EYE_HEIGHT, head), hands: None };
        // The core paces poses to the server's tick rate, like any client's.
        bot.core.send_pose(pose, time.elapsed());
    }
}
