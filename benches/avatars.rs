//! `cargo xtask bench avatars`: the client's CPU per frame for the room's
//! people, rendering excluded. A headless client app (the same net adapter,
//! avatar, motion, gesture, stamp and chat systems a person's client runs; no
//! window, no GPU) in a room with 20 or 50 others who walk in circles, wave,
//! send stamps and chat, so every avatar animates and bubbles are up. Only the
//! app's frame (`App::update`) is timed, not the server or the others.
//!
//! `-- smoke` runs a few frames of each (the test suite does, to keep it building).

use std::time::{Duration, Instant};

use bevy::prelude::*;
use tsunagu_client::chat::ChatBubble;
use tsunagu_client::kit::room::PlayingGesture;
use tsunagu_client_core::ClientCore;
use tsunagu_protocol::{AvatarLook, AvatarPose, ClientEvent, Gesture, Hello, Stamp};
use tsunagu_sim::pose::to_wire;
use tsunagu_testkit::{ROOM_CODE, Stepper, TICK};

/// Frames measured per case (after the room has filled and settled).
const FRAMES: usize = 600;

fn pose_of(i: usize, t: f32) -> AvatarPose {
    let angle = t * 0.5 + i as f32;
    let centre = Vec3::new(-2.5 + (i % 6) as f32, 0.0, -2.0 + (i / 6) as f32 * 0.6);
    let feet = centre + Vec3::new(angle.cos(), 0.0, angle.sin()) * 0.4;
    let facing = Quat::from_rotation_y(-angle);
    AvatarPose { body: to_wire(feet, facing), head: to_wire(feet + Vec3::Y * 1.15, facing), hands: None }
}

/// Median and 95th percentile of the app's frame time with `others` people.
fn measure(others: usize, frames: usize) -> (Duration, Duration, usize, usize) {
    let mut stepper = Stepper::new(others + 1);
    let hello = Hello::new(ROOM_CODE, "ゆき", AvatarLook::with_color([255, 160, 80]));
    let mut app = tsunagu_client::headless::room_app(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO), TICK);
    let people: Vec<usize> = (0..others).map(|i| stepper.connect(ROOM_CODE, &format!("guest {i}"))).collect();
    let mut times = Vec::with_capacity(frames);
    let (mut gesturing, mut bubbles) = (0, 0);
    for frame in 0..(60 + frames) {
        let t = frame as f32 * TICK.as_secs_f32();
        for (i, &person) in people.iter().enumerate() {
            stepper.send_pose(person, pose_of(i, t));
            // Each takes part every 3 s, staggered: a wave, a stamp or a line.
            if (frame + i * 7) % 90 == 0 {
                let event = match i % 3 {
                    0 => ClientEvent::Gesture(Gesture::ALL[frame % Gesture::ALL.len()]),
                    1 => ClientEvent::Stamp(Stamp::ALL[frame % Stamp::ALL.len()]),
                    _ => ClientEvent::Chat("きょうは たなばた だね".into()),
                };
                stepper.send_event(person, event);
            }
        }
        stepper.step(TICK);
        let start = Instant::now();
        app.update();
        let took = start.elapsed();
        if frame >= 60 {
            times.push(took);
            let world = app.world_mut();
            gesturing = gesturing.max(world.query::<&PlayingGesture>().iter(world).count());
            bubbles = bubbles.max(world.query::<&ChatBubble>().iter(world).count());
        }
    }
    times.sort();
    (times[times.len() / 2], times[times.len() * 95 / 100], gesturing, bubbles)
}

fn main() {
    let smoke = std::env::args().any(|a| a == "smoke");
    let frames = if smoke { 5 } else { FRAMES };
    println!("client CPU per frame, rendering excluded ({frames} frames at 30 Hz each)");
    for others in [0, 20, 50] {
        let (median, p95, gesturing, bubbles) = measure(others, frames);
        println!(
            "  {others:>2} others: median {:.3} ms, p95 {:.3} ms (at most {gesturing} gesturing, {bubbles} bubbles at once)",
            median.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3
        );
    }
}
