//! Drawing on the wall screen with the mouse held over it (a line goes out
//! every 80 ms while drawn, continuing until the button comes up), and the
//! staff's pointer following the mouse. In a headset the right hand does
//! the same: its ray is the mouse, its trigger the button.

use std::time::Duration;

use bevy::prelude::*;
use tsunagu_protocol::screen::MAX_PIECE_POINTS;
use tsunagu_protocol::{ClientEvent, ScreenAction, StrokePiece, pack_points};

use super::DrawingMode;
use crate::kit::me::{Hands, RoomMouse};
use crate::kit::net::SendRoomEvent;
use crate::kit::scene::Ward;

/// A drawn line goes out this often while the mouse draws (within the room's 14 pieces a second).
const STROKE_EVERY: Duration = Duration::from_millis(80);
/// A new point is kept once the mouse moved this many screen units.
const POINT_STEP: u32 = 10;
/// The pointer goes out at most this often.
const POINT_EVERY: Duration = Duration::from_millis(100);

/// Where the mouse is on the screen, if it is over it.
fn mouse_on_screen(mouse: &RoomMouse, ward: &Ward) -> Option<[u16; 2]> {
    ray_on_screen(mouse.ray_through(mouse.cursor()?)?, ward)
}

/// Where a ray (the mouse's, or the right hand's) meets the screen's board.
fn ray_on_screen(ray: Ray3d, ward: &Ward) -> Option<[u16; 2]> {
    let (front, _) = super::screen_frame(ward);
    let plane_at = front + Vec3::Z * super::BOARD_OUT;
    let distance = ray.intersect_plane(plane_at, InfinitePlane3d::new(Vec3::Z))?;
    super::screen_units(ward, ray.get_point(distance) - Vec3::Z * super::BOARD_OUT)
}

/// Drawing with the mouse held on the screen, and (staff) pointing.
pub(super) fn draw_and_point(
    mouse: RoomMouse,
    mut hands: ResMut<Hands>,
    ward: Res<Ward>,
    time: Res<Time<Real>>,
    mut mode: ResMut<DrawingMode>,
    mut send: MessageWriter<SendRoomEvent>,
) {
    let now = time.elapsed();
    // In a headset the right hand's ray, else the mouse.
    let hand_at = hands.ray.and_then(|(origin, direction)| ray_on_screen(Ray3d::new(origin, Dir3::new(direction).ok()?), &ward));
    let (at, held) = match hands.ray {
        Some(_) => (hand_at, hands.trigger_held),
        None if mouse.over_ui() => (None, mouse.held()),
        None => (mouse_on_screen(&mouse, &ward), mouse.held()),
    };
    hands.on_screen = hand_at.is_some() && (mode.on || mode.pointing);
    if mode.on {
        if let (true, Some(at)) = (held, at) {
            if !mode.drawing {
                mode.drawing = true;
                mode.stroke = mode.stroke.wrapping_add(1);
                mode.last_point = None;
            }
            let far_enough = mode.last_point.is_none_or(|last| {
                let (dx, dy) = (u32::from(at[0].abs_diff(last[0])), u32::from(at[1].abs_diff(last[1])));
                dx + dy >= POINT_STEP
            });
            if far_enough {
                mode.unsent.push(at);
                mode.last_point = Some(at);
            }
        }
        let lifted = mode.drawing && (!held || at.is_none());
        if !mode.unsent.is_empty() && (lifted || now.saturating_sub(mode.last_sent) >= STROKE_EVERY) {
            let points = std::mem::take(&mut mode.unsent);
            for chunk in points.chunks(MAX_PIECE_POINTS) {
                let piece = StrokePiece { stroke: mode.stroke, ink: mode.ink, pen: mode.pen, points: pack_points(chunk) };
                send.write(SendRoomEvent(ClientEvent::Stroke(piece)));
            }
            mode.last_sent = now;
        }
        if lifted {
            mode.drawing = false;
        }
    }
    if mode.pointing && at != mode.pointed && now.saturating_sub(mode.pointed_at) >= POINT_EVERY {
        send.write(SendRoomEvent(ClientEvent::Screen(ScreenAction::Point(at))));
        mode.pointed = at;
        mode.pointed_at = now;
    }
}
