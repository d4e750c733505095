//! Drawing on the wall screen with the mouse held over it (a line goes out
//! every 80 ms while drawn, continuing until the button comes up), and the
//! staff's pointer following the mouse.

use std::time::Duration;

use bevy::prelude::*;
use tsunagu_protocol::screen::MAX_PIECE_POINTS;
use tsunagu_protocol::{ClientEvent, ScreenAction, StrokePiece, pack_points};

use super::DrawingMode;
use crate::kit::me::RoomMouse;
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
    let ray = mouse.ray_through(mouse.cursor()?)?;
    let (front, _) = super::screen_frame(ward);
    let plane_at = front + Vec3::Z * super::BOARD_OUT;
    let distance = ray.intersect_plane(plane_at, InfinitePlane3d::new(Vec3::Z))?;
    super::screen_units(ward, ray.get_point(distance) - Vec3::Z * super::BOARD_OUT)
}

/// Drawing with the mouse held on the screen, and (staff) pointing.
pub(super) fn draw_and_point(
    mouse: RoomMouse,
    ward: Res<Ward>,
    time: Res<Time<Real>>,
    mut mode: ResMut<DrawingMode>,
    mut send: MessageWriter<SendRoomEvent>,
) {
    let now = time.elapsed();
    let at = if mouse.over_ui() { None } else { mouse_on_screen(&mouse, &ward) };
    if mode.on {
        let held = mouse.held();
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
