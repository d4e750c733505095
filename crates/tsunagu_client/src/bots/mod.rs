//! Practice guests (`--bots N`): simple clients that join the hosted room
//! (or the room `--join` names) over QUIC with the same protocol as everyone else and stroll in slow
//! circles. Each also takes part as children do: the first of every five
//! waves with a hand up, the second sends stamps, the third hangs three
//! Tanabata wishes and then writes in the chat, the fourth throws the three
//! darts at the board, the fifth tosses the ball up and catches it. When a
//! page is up on the wall screen, the first three each draw a little
//! picture on it (a sun, a wave, a star), a piece at a time as a hand does.
//! For trying the room alone, for demos, and for tests that need people in view.

use std::sync::Mutex;

use bevy::prelude::*;
use tsunagu_client_core::ClientCore;
use tsunagu_i18n::Arg;
use tsunagu_net::race::{RaceSettings, RacingConnector};
use tsunagu_protocol::{
    Accessories, AvatarLook, AvatarPose, ClientEvent, Gesture, Headwear, Hello, Ink, Paper, Pen, QuantVec, Stamp, StrokePiece, pack_points,
};
use tsunagu_sim::WardLayout;
use tsunagu_sim::motion::{EYE_HEIGHT, facing};
use tsunagu_sim::objects::{BLOCKS, DART_RADIUS, DARTS, hold_point, throw_velocity};
use tsunagu_sim::pose::to_wire;

use crate::HEADWEAR_COLORS;
use crate::kit::net::HostedRoom;
use crate::kit::text::Texts;
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
    /// When it set off (seconds of real time): a player walks to its spot first.
    started: f32,
    /// Its picture on the wall screen, if it draws one, and how far it got.
    doodle: Option<Doodle>,
}

/// A practice guest's little picture on the wall screen.
struct Doodle {
    ink: Ink,
    /// Its points, in screen units.
    points: Vec<[u16; 2]>,
    drawn: usize,
    next_piece: f32,
    /// When it first saw a page up (it looks before it draws).
    page_seen: Option<f32>,
}

/// A piece of a doodle goes out this often, seconds, as the mouse's do.
const DOODLE_PIECE_EVERY: f32 = 0.08;
/// Seconds a guest looks at a new page before drawing on it.
const DOODLE_LOOK_FIRST: f32 = 2.0;
/// Points in each piece.
const DOODLE_PIECE_POINTS: usize = 6;

impl Doodle {
    /// The `n`th guest's picture: a red sun top right, a blue wave along the
    /// bottom, a green star top left (only the first three draw).
    fn for_guest(n: usize) -> Option<Doodle> {
        let around = |centre: Vec2, radius: f32, corners: usize, inner: f32, steps: usize| -> Vec<[u16; 2]> {
            (0..=steps)
                .map(|i| {
                    let turn = i as f32 / steps as f32 * std::f32::consts::TAU;
                    // A star's points alternate between the outer and the inner radius.
                    let r = if corners == 0 || (i * corners * 2 / steps).is_multiple_of(2) { radius } else { radius * inner };
                    centre + Vec2::new(turn.sin(), -turn.cos()) * r
                })
                .map(|p| [p.x as u16, p.y as u16])
                .collect()
        };
        let (ink, points) = match n {
            0 => (Ink::Red, around(Vec2::new(3350.0, 750.0), 420.0, 0, 1.0, 40)),
            1 => (Ink::Blue, (0..=40).map(|i| [600 + i * 70, (3350.0 + 220.0 * (i as f32 * 0.6).sin()) as u16]).collect()),
            2 => (Ink::Green, around(Vec2::new(800.0, 800.0), 450.0, 5, 0.45, 10)),
            _ => return None,
        };
        Some(Doodle { ink, points, drawn: 0, next_piece: 0.0, page_seen: None })
    }

    /// The next piece to send at `t`, once a page is up and the room lets everyone draw.
    fn next(&mut self, core: &ClientCore, t: f32) -> Option<StrokePiece> {
        let page_up = core.screen().current_page().is_some_and(|page| page.bytes.is_some());
        if !page_up {
            self.page_seen = None;
            return None;
        }
        let seen = *self.page_seen.get_or_insert(t);
        if self.drawn >= self.points.len() || t < self.next_piece.max(seen + DOODLE_LOOK_FIRST) || !core.screen().drawing_allowed() {
            return None;
        }
        let from = self.drawn.saturating_sub(1);
        let to = (self.drawn + DOODLE_PIECE_POINTS).min(self.points.len());
        self.drawn = to;
        self.next_piece = t + DOODLE_PIECE_EVERY;
        // Each piece starts where the last ended, so the line is whole.
        Some(StrokePiece { stroke: 1, ink: self.ink, pen: Pen::Thick, points: pack_points(&self.points[from..to]) })
    }
}

/// What a practice guest does now and then.
#[derive(Clone, Copy)]
enum Habit {
    /// Waves, hand raised.
    Waves,
    /// Rests (the lamp on) and sends stamps.
    Stamps,
    /// Hangs wishes, then writes in the chat.
    Chats,
    /// Throws the darts at the board, from beside the toy box.
    Darts,
    /// Tosses the ball up and catches it, on the rug.
    Catch,
}

impl Habit {
    const ALL: [Habit; 5] = [Habit::Waves, Habit::Stamps, Habit::Chats, Habit::Darts, Habit::Catch];

    /// Where a guest who plays is `since` seconds after setting off, and which
    /// way it faces; strollers walk circles instead.
    fn spot(self, ward: &WardLayout, since: f32) -> Option<(Vec3, Vec3)> {
        match self {
            Habit::Darts => {
                let at = Vec3::new(5.3, 0.0, 1.9);
                Some((at, (ward.dartboard.center - at).with_y(0.0).normalize()))
            }
            // Beside the ball on the rug; having picked it up, round the low
            // table to the open floor between the dartboard and the bamboo.
            Habit::Catch => Some(along(&catch_route(ward), (since - CATCH_WALK_AT).max(0.0) * CATCH_WALK_SPEED).unwrap_or((CATCH_SPOT, Vec3::NEG_Z))),
            _ => None,
        }
    }
}

/// The middles of the strollers' circles.
const STROLLS: [Vec3; 5] =
    [Vec3::new(1.8, 0.0, -2.8), Vec3::new(4.4, 0.0, 0.2), Vec3::new(2.4, 0.0, -1.6), Vec3::new(0.0, 0.0, -1.0), Vec3::new(-2.0, 0.0, -1.0)];

/// Where the ball is tossed up and caught.
const CATCH_SPOT: Vec3 = Vec3::new(5.6, 0.0, -2.9);
/// When the ball player sets off for it, seconds after joining (it has the ball by then).
const CATCH_WALK_AT: f32 = 5.0;
/// How fast it walks there, m/s.
const CATCH_WALK_SPEED: f32 = 1.2;

/// From beside the ball on the rug, round the low table, to the catch spot.
fn catch_route(ward: &WardLayout) -> [Vec3; 3] {
    [ward.rug.0 + Vec3::new(0.0, 0.0, 1.6), Vec3::new(4.8, 0.0, 2.2), CATCH_SPOT]
}

/// When the ball player is at the catch spot, seconds after joining.
fn catch_there_at(ward: &WardLayout) -> f32 {
    let length: f32 = catch_route(ward).windows(2).map(|leg| leg[0].distance(leg[1])).sum();
    CATCH_WALK_AT + length / CATCH_WALK_SPEED + 0.5
}

/// The point `distance` metres along `route`, and the way it heads; `None` past its end.
fn along(route: &[Vec3], mut distance: f32) -> Option<(Vec3, Vec3)> {
    for leg in route.windows(2) {
        let length = leg[0].distance(leg[1]);
        if distance <= length {
            let heading = (leg[1] - leg[0]).normalize_or(Vec3::NEG_Z);
            return Some((leg[0] + heading * distance, heading));
        }
        distance -= length;
    }
    None
}

/// The host's head and hands as a practice guest sees them, through the
/// server (a headset test's proof that the headset reaches others).
#[derive(Resource, Default, Clone, Copy, Debug)]
pub struct HostHeadSeen {
    /// Where a guest last saw the host's head.
    pub latest: Option<Vec3>,
    /// A guest has seen the host's hands tracked.
    pub hands: bool,
}

/// The practice guests. Behind a mutex only because resources must be `Sync`.
#[derive(Resource)]
struct Bots(Mutex<Vec<Bot>>);

/// Adds practice guests to a hosted room when asked.
pub struct BotsPlugin;

impl Plugin for BotsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<HostHeadSeen>().add_systems(
            Update,
            (start_bots.run_if(resource_added::<HostedRoom>.or_else(not(resource_exists::<Bots>))), stroll.run_if(resource_exists::<Bots>)),
        );
    }
}

/// The guests set off into the room this PC hosts, or (joining with an
/// invite from the command line) into that room, with the same invite: a
/// child's seat among practice guests, for pictures and tests.
fn start_bots(
    mut commands: Commands,
    options: Res<ClientOptions>,
    hosted: Option<Res<HostedRoom>>,
    texts: Res<Texts>,
    settings: Res<Settings>,
    time: Res<Time<Real>>,
) {
    let invite = match (&hosted, &options.join) {
        _ if options.bots == 0 => return,
        (Some(room), _) => room.0.local_invite(&room.0.config().code),
        (None, Some(invite)) => invite.clone(),
        (None, None) => return,
    };
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
                core: ClientCore::join(Box::new(RacingConnector::new(RaceSettings::new(invite.clone()))), hello, time.elapsed()),
                // Around the play corner (the first three; players have their spots).
                center: STROLLS[n % STROLLS.len()] - Vec3::Z * 1.2 * (i / 5.0).floor(),
                radius: 0.5,
                phase: i * 1.7,
                habit: Habit::ALL[n % Habit::ALL.len()],
                next_turn: 1.0 + 0.3 * i,
                turns: 0,
                started: time.elapsed_secs(),
                doodle: Doodle::for_guest(n),
            }
        })
        .collect();
    commands.insert_resource(Bots(Mutex::new(bots)));
}

fn stroll(time: Res<Time<Real>>, mut bots: ResMut<Bots>, texts: Res<Texts>, settings: Res<Settings>, mut host_seen: ResMut<HostHeadSeen>) {
    let Ok(bots) = bots.0.get_mut() else { return };
    let t = time.elapsed_secs();
    let ward = WardLayout::ward();
    for bot in bots.iter_mut() {
        let angle = bot.phase + t * 0.35;
        let since = t - bot.started;
        let (pos, rot) = match bot.habit.spot(&ward, since) {
            Some((at, looking)) => (at, facing(looking)),
            None => (bot.center + Vec3::new(angle.cos(), 0.0, angle.sin()) * bot.radius, facing(Vec3::new(-angle.sin(), 0.0, angle.cos()))),
        };
        // Walking over to its spot first takes the room's walking speed.
        let arrived = since > 4.0;
        if t >= bot.next_turn && bot.core.in_room() && (bot.habit.spot(&ward, since).is_none() || arrived) {
            let hand = hold_point(pos, rot, None);
            let (event, wait) = match bot.habit {
                Habit::Waves if bot.turns == 0 => (Some(ClientEvent::RaiseHand(true)), 0.5),
                Habit::Waves => (Some(ClientEvent::Gesture(Gesture::Wave)), 2.0),
                // Resting (the lamp on), and still sending a stamp now and then.
                Habit::Stamps if bot.turns == 0 => (Some(ClientEvent::Resting(true)), 0.5),
                Habit::Stamps => (Some(ClientEvent::Stamp(Stamp::ALL[bot.turns % Stamp::ALL.len()])), 3.0),
                Habit::Chats if bot.turns < 3 => {
                    let wish = texts.plain_with(settings.language, ["bot-wish-1", "bot-wish-2", "bot-wish-3"][bot.turns], &[]);
                    (Some(ClientEvent::HangWish(Paper::ALL[bot.turns % Paper::ALL.len()], wish)), 1.2)
                }
                Habit::Chats => {
                    let key = ["bot-chat-1", "bot-chat-2", "bot-chat-3"][bot.turns % 3];
                    (Some(ClientEvent::Chat(texts.plain_with(settings.language, key, &[]))), 6.0)
                }
                // Pick up a dart, then throw it at the middle of the board; three times.
                Habit::Darts if bot.turns < 2 * DARTS => {
                    let dart = (1 + BLOCKS + bot.turns / 2) as u16;
                    if bot.turns % 2 == 0 {
                        (Some(ClientEvent::Grab(dart)), 1.0)
                    } else {
                        // Not every dart a child throws goes in the middle.
                        let aim = [Vec3::ZERO, Vec3::new(0.0, 0.05, 0.05), Vec3::new(0.0, -0.09, -0.04)][bot.turns / 2 % DARTS];
                        let velocity = throw_velocity(hand, ward.dartboard.center + aim - Vec3::X * DART_RADIUS);
                        (Some(ClientEvent::Release(dart, QuantVec::from_metres(velocity.to_array()))), 1.5)
                    }
                }
                Habit::Darts => (None, f32::INFINITY),
                // Up it goes, and is caught again on the way down.
                // Carrying the ball over to the open floor first.
                Habit::Catch if bot.turns == 0 => (Some(ClientEvent::Grab(0)), catch_there_at(&ward) - since),
                // Caught as it comes back down past the hands (3.8 m/s up is back in 0.77 s).
                Habit::Catch if bot.turns % 2 == 0 => (Some(ClientEvent::Grab(0)), 0.6),
                Habit::Catch => (Some(ClientEvent::Release(0, QuantVec::from_metres([0.0, 3.8, 0.0]))), 0.72),
            };
            if let Some(event) = event {
                bot.core.send_event(event);
            }
            bot.turns += 1;
            bot.next_turn = t + wait;
        }
        if let Some(piece) = bot.doodle.as_mut().and_then(|d| d.next(&bot.core, t)) {
            bot.core.send_event(ClientEvent::Stroke(piece));
        }
        // Bots only listen so their queues stay empty; they react to nothing.
        bot.core.poll(time.elapsed());
        // The host (the room's facilitator) as this guest sees it.
        let host = bot.core.room().peers().find(|p| p.role == tsunagu_protocol::Role::Facilitator).map(|p| p.id);
        if let Some(seen) = host.and_then(|id| bot.core.room().peer(id)).and_then(|p| p.latest) {
            host_seen.latest = Some(tsunagu_sim::pose::wire_pos(seen.head.pos));
            host_seen.hands |= seen.hands.is_some();
        }
        let head = rot * Quat::from_rotation_y((t * 0.7 + bot.phase).sin() * 0.4);
        let pose = AvatarPose { body: to_wire(pos, rot), head: to_wire(pos + Vec3::Y * EYE_HEIGHT, head), hands: None };
        // The core paces poses to the server's tick rate, like any client's.
        bot.core.send_pose(pose, time.elapsed());
    }
}
