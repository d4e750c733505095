//! 「やすみちゅう」: one press shows a soft lamp over my avatar meaning "I'm
//! here and listening; please don't call on me", like the light on a
//! classroom telepresence robot for a child too ill to take part. Everyone
//! sees the lamp, nobody is told in words, the staff see it in their panel,
//! and while I rest this PC draws fewer frames.

use std::time::Duration;

use bevy::prelude::*;
use tsunagu_protocol::ClientEvent;
use tsunagu_sim::motion::AVATAR_HEIGHT;

use crate::AppState;
use crate::kit::hud::{BarButtonLook, Drawer, FillSlot, OpenDrawer, Slot, spawn_bar_button, wrist_button};
use crate::kit::net::SendRoomEvent;
use crate::kit::palette;
use crate::kit::room::{Avatar, AvatarInfo, RoomNow};
use crate::kit::text::{LabelledButtons, ui_text};

/// Frames a second while resting (the window still answers at once to a
/// click or a key).
pub const RESTING_FRAMES_PER_SECOND: f64 = 15.0;

/// The lamp, the button and the quieter frame rate.
pub struct RestPlugin;

impl Plugin for RestPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, make_lamp_look)
            .fill_slot(Slot::Drawer(Drawer::Expressions), |drawer, font| {
                spawn_bar_button(drawer, font, RestButton, None, BarButtonLook::Plain, false);
            })
            // In a headset too: a child lying in bed with one on needs it most.
            .fill_slot(Slot::WristButtons, |row, font| {
                row.spawn((Button, RestButton, Node { flex_basis: Val::Percent(40.0), ..wrist_button() }, BackgroundColor(palette::BUTTON)))
                    .with_children(|b| {
                        b.spawn(ui_text(font, "", 26.0, palette::INK));
                    });
            })
            .add_systems(Update, (press_rest, add_lamps, show_lamps).chain().run_if(in_state(AppState::InRoom)))
            .add_systems(Update, rest_the_pc)
            .add_systems(OnExit(AppState::InRoom), |mut winit: Option<ResMut<bevy::winit::WinitSettings>>, mut resting: ResMut<RestingPc>| {
                if let (Some(winit), Some(before)) = (winit.as_deref_mut(), resting.0.take()) {
                    *winit = before;
                }
            })
            .init_resource::<RestingPc>();
    }
}

/// Starts resting, or ends it.
#[derive(Component)]
pub struct RestButton;

/// The lamp over an avatar, shown while its person rests.
#[derive(Component)]
pub struct RestingLamp;

#[derive(Resource)]
struct LampLook {
    mesh: Handle<Mesh>,
    material: Handle<StandardMaterial>,
}

/// While I rest: the window's pacing from before, to put back.
#[derive(Resource, Default)]
pub struct RestingPc(Option<bevy::winit::WinitSettings>);

/// Whether I am resting, as the room last said.
pub fn i_am_resting(room: &RoomNow) -> bool {
    room.me.as_ref().is_some_and(|me| me.resting)
}

fn make_lamp_look(mut commands: Commands, meshes: Option<ResMut<Assets<Mesh>>>, materials: Option<ResMut<Assets<StandardMaterial>>>) {
    let (Some(mut meshes), Some(mut materials)) = (meshes, materials) else { return };
    // A small, soft, warm light: seen across the room, never glaring.
    let mesh = meshes.add(Sphere::new(0.07));
    let material = materials.add(StandardMaterial {
        base_color: Color::srgb(1.0, 0.86, 0.55),
        emissive: LinearRgba::rgb(1.2, 0.9, 0.45),
        unlit: true,
        ..default()
    });
    commands.insert_resource(LampLook { mesh, material });
}

fn press_rest(mut buttons: LabelledButtons<RestButton>, room: Res<RoomNow>, mut send: MessageWriter<SendRoomEvent>, mut open: ResMut<OpenDrawer>) {
    let resting = i_am_resting(&room);
    if !buttons.pressed().is_empty() && room.me.is_some() {
        send.write(SendRoomEvent(ClientEvent::Resting(!resting)));
        open.used(Drawer::Expressions);
    }
    if buttons.stale() || room.is_changed() {
        buttons.write(|_, words| words.get(if resting { "rest-off" } else { "rest-on" }));
    }
}

fn add_lamps(mut commands: Commands, look: Option<Res<LampLook>>, avatars: Query<Entity, Added<Avatar>>) {
    let Some(look) = look else { return };
    for avatar in &avatars {
        commands.entity(avatar).with_children(|parent| {
            parent.spawn((
                RestingLamp,
                Mesh3d(look.mesh.clone()),
                MeshMaterial3d(look.material.clone()),
                // Above the head and a little higher than the speaking ring, so both can show.
                Transform::from_xyz(0.0, AVATAR_HEIGHT + 0.32, 0.0),
                Visibility::Hidden,
            ));
        });
    }
}

fn show_lamps(avatars: Query<(&AvatarInfo, &Children), Changed<AvatarInfo>>, mut lamps: Query<&mut Visibility, With<RestingLamp>>) {
    for (info, children) in &avatars {
        for child in children.iter() {
            if let Ok(mut visibility) = lamps.get_mut(child) {
                visibility.set_if_neq(if info.0.resting { Visibility::Inherited } else { Visibility::Hidden });
            }
        }
    }
}

/// While I rest, the window draws at most [`RESTING_FRAMES_PER_SECOND`]
/// (less work for a tired child's PC and fan); after, as before.
fn rest_the_pc(room: Res<RoomNow>, winit: Option<ResMut<bevy::winit::WinitSettings>>, mut resting: ResMut<RestingPc>) {
    let Some(mut winit) = winit else { return };
    match (i_am_resting(&room), resting.0.is_some()) {
        (true, false) => {
            let calm = bevy::winit::UpdateMode::reactive_low_power(Duration::from_secs_f64(1.0 / RESTING_FRAMES_PER_SECOND));
            resting.0 = Some(winit.clone());
            *winit = bevy::winit::WinitSettings { focused_mode: calm, unfocused_mode: calm };
        }
        (false, true) => {
            if let Some(before) = resting.0.take() {
                *winit = before;
            }
        }
        _ => {}
    }
}
