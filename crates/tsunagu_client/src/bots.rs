//! Practice guests (`--bots N`): simple clients that join the hosted room over
//! loopback QUIC with the same protocol as everyone else and stroll in slow
//! circles. Each also takes part as children do: the first of every three
//! waves with a hand up, the second sends stamps, the third writes in the
//! chat. For trying the room alone, for demos, and for tests that need people
//! in view.

use std::sync::Mutex;

use bevy::prelude::*;
use tsunagu_client_core::ClientCore;
use tsunagu_i18n::Arg;
use tsunagu_net::quic::QuicConnector;
use tsunagu_protocol::{Accessories, AvatarLook, AvatarPose, ClientEvent, Gesture, Headwear, Hello, Stamp};
use tsunagu_sim::motion::{EYE_HEIGHT, facing};
use tsunagu_sim::pose::to_wire;

use crate::net::HostedRoom;
use crate::text::Texts;
use crate::ui::look::HEADWEAR_COLORS;
use crate::{BODY_COLORS, ClientOptions, Settings};

struct Bot {
    core: ClientCore,
    center: Vec3,
    radius: f32,
    phase: f32,
    /// How this guest takes part, and when it next does.
    habit: Habit,
    next_turn: f32,
    turns: usize,
}

/// What a practice guest does now and then.
#[derive(Clone, Copy)]
enum Habit {
    /// Waves, hand raised.
    Waves,
    /// Sends stamps.
    Stamps,
    /// Writes in the chat.
    Chats,
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
            let n = i as usize;
            let look = AvatarLook {
                headwear: Headwear::ALL[(n + 1) % Headwear::ALL.len()],
                headwear_color: HEADWEAR_COLORS[(n * 3 + 1) % HEADWEAR_COLORS.len()],
                accessories: Accessories { glasses: n.is_multiple_of(2), ribbon: n % 3 == 1, scarf: n % 4 == 2 },
                ..AvatarLook::with_color(BODY_COLORS[(n + 3) % BODY_COLORS.len()])
            };
            let hello = Hello::new(&invite.room_code, &nickname, look);
            let i = i as f32;
            Bot {
                core: ClientCore::join(Box::new(QuicConnector::new(invite.clone())), hello, time.elapsed()),
                center: Vec3::new(-1.8 + 1.8 * (i % 3.0), 0.0, -0.4 - 1.2 * (i / 3.0).floor()),
                radius: 0.5,
                phase: i * 1.7,
                habit: [Habit::Waves, Habit::Stamps, Habit::Chats][n % 3],
                next_turn: 1.0 + 0.3 * i,
                turns: 0,
            }
        })
        .collect();
    commands.insert_resource(Bots(Mutex::new(bots)));
}

fn stroll(time: Res<Time<Real>>, mut bots: ResMut<Bots>, texts: Res<Texts>, settings: Res<Settings>) {
    let Ok(bots) = bots.0.get_mut() else { return };
    let t = time.elapsed_secs();
    for bot in bots.iter_mut() {
        if t >= bot.next_turn && bot.core.in_room() {
            let (event, wait) = match bot.habit {
                Habit::Waves if bot.turns == 0 => (ClientEvent::RaiseHand(true), 0.5),
                Habit::Waves => (ClientEvent::Gesture(Gesture::Wave), 2.0),
                Habit::Stamps => (ClientEvent::Stamp(Stamp::ALL[bot.turns % Stamp::ALL.len()]), 3.0),
                Habit::Chats => {
                    let key = ["bot-chat-1", "bot-chat-2", "bot-chat-3"][bot.turns % 3];
                    (ClientEvent::Chat(texts.plain_with(settings.language, key, &[])), 6.0)
                }
            };
            bot.core.send_event(event);
            bot.turns += 1;
            bot.next_turn = t + wait;
        }
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
