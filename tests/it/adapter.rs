//! The Bevy adapter over the client core, headless (`MinimalPlugins`, manual
//! clock) against a real room server on the in-memory hub: joining, people
//! arriving and leaving, and coming back after a one-way cut.

use std::time::Duration;

use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use bevy::time::TimeUpdateStrategy;
use tsunagu_client::kit::heard::{EnteredRoom, PersonArrived, PersonLeft};
use tsunagu_client::kit::me::LocalPose;
use tsunagu_client::kit::net::{Connection, NetPlugin, NetSet, RoomState, SendRoomEvent};
use tsunagu_client::{AppState, BODY_COLORS, Settings};
use tsunagu_client_core::ClientCore;
use tsunagu_i18n::Language;
use tsunagu_net::memory::Blocked;
use tsunagu_protocol::{AvatarLook, AvatarPose, ClientEvent, Hello, QuantPose};
use tsunagu_testkit::{ROOM_CODE, Stepper, TICK};

/// The room messages the app's plugins were handed, of the kinds this test follows.
#[derive(Resource, Default)]
struct Seen {
    entered: Vec<EnteredRoom>,
    arrived: Vec<PersonArrived>,
    left: Vec<PersonLeft>,
}

fn collect(
    mut entered: MessageReader<EnteredRoom>,
    mut arrived: MessageReader<PersonArrived>,
    mut left: MessageReader<PersonLeft>,
    mut seen: ResMut<Seen>,
) {
    seen.entered.extend(entered.read().cloned());
    seen.arrived.extend(arrived.read().cloned());
    seen.left.extend(left.read().cloned());
}

fn app_in(stepper: &Stepper) -> App {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin))
        .insert_resource(TimeUpdateStrategy::ManualDuration(TICK))
        .insert_resource(Settings {
            nickname: "ゆき".into(),
            look: tsunagu_protocol::AvatarLook::with_color(BODY_COLORS[0]),
            language: Language::Japanese,
        })
        .init_state::<AppState>()
        .add_plugins(NetPlugin)
        .init_resource::<Seen>()
        .add_systems(Update, collect.in_set(NetSet::Apply));
    // The app's connection is over the stepper's hub (its first connection).
    let hello = Hello::new(ROOM_CODE, "ゆき", AvatarLook::with_color(BODY_COLORS[0]));
    app.insert_resource(Connection::new(ClientCore::join(Box::new(stepper.connector.clone()), hello, Duration::ZERO)));
    app.world_mut().resource_mut::<NextState<AppState>>().set(AppState::InRoom);
    app
}

/// One frame: the server and its other clients, then the app.
fn frame(stepper: &mut Stepper, app: &mut App) {
    stepper.step(TICK);
    app.update();
}

fn room_state(app: &App) -> Option<RoomState> {
    app.world().get_resource::<State<RoomState>>().map(|s| *s.get())
}

#[test]
fn the_adapter_joins_shows_arrivals_and_leaves_and_comes_back_after_a_cut() {
    let mut stepper = Stepper::new(4);
    let mut app = app_in(&stepper);
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(room_state(&app), Some(RoomState::Present));
    let me = app.world().resource::<Connection>().read(|core| core.my_id()).expect("joined");
    assert!(matches!(app.world().resource::<Seen>().entered.first(), Some(EnteredRoom { me: m, rejoined: false, .. }) if m.id == me));

    // The local pose written on an entity is what the server receives.
    let spawn = stepper.server.room().member(me).unwrap().pose;
    let mut moved = spawn;
    moved.body = QuantPose { pos: tsunagu_protocol::QuantVec([spawn.body.pos.0[0], 0, spawn.body.pos.0[2] - 30]), ..spawn.body };
    app.world_mut().spawn(LocalPose(Some(AvatarPose { hands: None, ..moved })));
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(stepper.server.room().member(me).unwrap().pose.body, moved.body);

    // Someone arrives, changes colour, and leaves.
    let friend = stepper.connect(ROOM_CODE, "あおい");
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    let friend_id = stepper.clients[friend].id().unwrap();
    assert!(app.world().resource::<Seen>().arrived.iter().any(|PersonArrived { info }| info.id == friend_id && info.nickname == "あおい"));
    app.world_mut().write_message(SendRoomEvent(ClientEvent::SetLook(AvatarLook::with_color(BODY_COLORS[4]))));
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    assert_eq!(stepper.clients[friend].peers()[&me].look.body_color, BODY_COLORS[4], "the colour change did not reach the friend");
    stepper.leave(friend);
    for _ in 0..3 {
        frame(&mut stepper, &mut app);
    }
    assert!(app.world().resource::<Seen>().left.contains(&PersonLeft { id: friend_id }));

    // The server's traffic stops reaching us: Reconnecting, then back as ourselves.
    stepper.connector.block(1, Blocked { to_server: false, to_client: true });
    let mut states = Vec::new();
    for _ in 0..(4 * 30) {
        frame(&mut stepper, &mut app);
        if states.last() != room_state(&app).as_ref() {
            states.extend(room_state(&app));
        }
    }
    assert_eq!(states, [RoomState::Present, RoomState::Reconnecting, RoomState::Present]);
    assert!(
        app.world().resource::<Seen>().entered.iter().any(|e| matches!(e, EnteredRoom { rejoined: true, resumed: true, me: m, .. } if m.id == me))
    );
    assert_eq!(stepper.server.room().len(), 1, "two of us in the room");
    assert_eq!(app.world().get_resource::<State<AppState>>().map(|s| *s.get()), Some(AppState::InRoom));
}
