//! Play in a headset: the right hand points at a thing within reach and the
//! trigger picks it up (a second pull throws it), or the grip closes on it
//! and opening the grip throws it. It sits in that hand, where the server
//! holds it too (from the pose's right hand), and flies with the hand's
//! swing. The rules are `tsunagu_sim::objects::hand_play`, tested there and
//! shared with the mouse (`crate::play`).

use bevy::prelude::*;
use bevy_mod_xr::spaces::XrSpaceLocationFlags;
use tsunagu_protocol::{ClientEvent, QuantVec};
use tsunagu_sim::objects::{GRAB_REACH, HandButtons, HandPlay, HandTrail, hand_play, pointed_thing};
use tsunagu_sim::pose::from_wire;

use crate::headset::{Aim, HeadsetButtons, HeadsetRig};
use crate::kit::me::Hands;
use crate::kit::me::LocalPlayer;
use crate::kit::net::{LocalPose, SendRoomEvent};
use crate::kit::room::{Thing, shown_things};

/// The grip's state last frame (its edges are what count).
#[derive(Default)]
pub(crate) struct GripWas(bool);

pub(crate) fn play_with_hands(
    buttons: Res<HeadsetButtons>,
    aim: Query<(&Transform, &XrSpaceLocationFlags), With<Aim>>,
    headset: Res<HeadsetRig>,
    pointer: Res<crate::headset::wrist_menu::WristPointer>,
    me: Query<&LocalPose, With<LocalPlayer>>,
    things: Query<(&Thing, &Transform, &Visibility), Without<LocalPlayer>>,
    mut hands: ResMut<Hands>,
    mut trail: Local<HandTrail>,
    mut grip_was: Local<GripWas>,
    time: Res<Time<Real>>,
    mut send: MessageWriter<SendRoomEvent>,
) {
    let right_hand = me.single().ok().and_then(|p| p.0).and_then(|p| p.hands).map(|[_, right]| from_wire(right).0);
    let Some(hand) = right_hand else {
        hands.pointing_at = None;
        return;
    };
    trail.push(time.elapsed_secs(), hand);
    let grip = buttons.grip_down;
    let buttons = HandButtons { trigger_pulled: buttons.trigger_pulled, grip_closed: grip && !grip_was.0, grip_opened: !grip && grip_was.0 };
    grip_was.0 = grip;
    // What the right hand points at, if it is within reach (on the menu it points at the menu).
    hands.pointing_at = match aim.single() {
        Ok((ray, flags)) if flags.position_tracked && !pointer.on_menu => {
            let (origin, rotation) = headset.rig.to_room((ray.translation, ray.rotation));
            pointed_thing(origin, rotation * Vec3::NEG_Z, shown_things(&things).filter(|(_, at)| at.distance(hand) <= GRAB_REACH * 0.95))
                .map(|(id, _)| id)
        }
        _ => None,
    };
    match hand_play(hands.holding.map(|id| (id, hands.held_by_grip)), hands.pointing_at, buttons, || trail.velocity()) {
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
