//! Play in a headset: the right hand points at a thing within reach and the
//! trigger picks it up (a second pull throws it), or the grip closes on it
//! and opening the grip throws it. It sits in that hand, where the server
//! holds it too (from the pose's right hand), and flies with the hand's
//! swing. The rules are `tsunagu_sim::objects::hand_play`, tested there and
//! shared with the mouse (`crate::play`).

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_mod_xr::spaces::XrSpaceLocationFlags;
use tsunagu_protocol::{ClientEvent, QuantVec};
use tsunagu_sim::objects::{GRAB_REACH, HandButtons, HandPlay, HandTrail, hand_play, pointed_thing};
use tsunagu_sim::pose::from_wire;

use crate::headset::controllers::{Aim, HeadsetButtons};
use crate::headset::rig::HeadsetRig;
use crate::kit::me::Hands;
use crate::kit::me::LocalPlayer;
use crate::kit::me::LocalPose;
use crate::kit::net::SendRoomEvent;
use crate::kit::room::{Thing, shown_things};

/// What the right hand did lately: its trail (for the swing) and whether
/// the grip was closed last frame (its edges are what count).
#[derive(Default)]
pub(crate) struct HandMemory {
    trail: HandTrail,
    grip_was: bool,
}

/// The right hand's buttons, and its pointing ray in the room unless it
/// points at the menu.
#[derive(SystemParam)]
pub(crate) struct RightHand<'w, 's> {
    buttons: Res<'w, HeadsetButtons>,
    aim: Query<'w, 's, (&'static Transform, &'static XrSpaceLocationFlags), With<Aim>>,
    headset: Res<'w, HeadsetRig>,
    pointer: Res<'w, crate::headset::pointing::WristPointer>,
}

impl RightHand<'_, '_> {
    /// Where the ray starts and where it points, while tracked and off the menu.
    fn pointing(&self) -> Option<(Vec3, Vec3)> {
        let (ray, flags) = self.aim.single().ok()?;
        if !flags.position_tracked || self.pointer.on_menu {
            return None;
        }
        let (origin, rotation) = self.headset.rig.to_room((ray.translation, ray.rotation));
        Some((origin, rotation * Vec3::NEG_Z))
    }
}

pub(crate) fn play_with_hands(
    ray: RightHand,
    me: Query<&LocalPose, With<LocalPlayer>>,
    things: Query<(&Thing, &Transform, &Visibility), Without<LocalPlayer>>,
    mut hands: ResMut<Hands>,
    mut memory: Local<HandMemory>,
    time: Res<Time<Real>>,
    mut send: MessageWriter<SendRoomEvent>,
) {
    let right_hand = me.single().ok().and_then(|p| p.0).and_then(|p| p.hands).map(|[_, right]| from_wire(right).0);
    // For the wall screen (drawing and pointing with the hand).
    hands.ray = right_hand.and(ray.pointing());
    hands.trigger_held = ray.buttons.trigger_down;
    let Some(hand) = right_hand else {
        hands.pointing_at = None;
        return;
    };
    let memory = &mut *memory;
    memory.trail.push(time.elapsed_secs(), hand);
    let grip = ray.buttons.grip_down;
    let buttons =
        HandButtons { trigger_pulled: ray.buttons.trigger_pulled, grip_closed: grip && !memory.grip_was, grip_opened: !grip && memory.grip_was };
    memory.grip_was = grip;
    // What the right hand points at, if it is within reach (on the menu it points at the menu).
    hands.pointing_at = ray.pointing().and_then(|(origin, direction)| {
        pointed_thing(origin, direction, shown_things(&things).filter(|(_, at)| at.distance(hand) <= GRAB_REACH * 0.95)).map(|(id, _)| id)
    });
    match hand_play(hands.holding.map(|id| (id, hands.held_by_grip)), hands.pointing_at, buttons, || memory.trail.velocity()) {
        HandPlay::Grab { id, by_grip } => {
            hands.held_by_grip = by_grip;
            send.write(SendRoomEvent(ClientEvent::Grab(id)));
        }
        HandPlay::Release(velocity) => {
            if let Some(id) = hands.holding {
                send.write(SendRoomEvent(ClientEvent::Release(id, QuantVec::from_metres(velocity.to_array()))));
            }
        }
        HandPlay::Nothing => {}
    }
}
